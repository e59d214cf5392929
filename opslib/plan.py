"""``opslib.plan``: the planning loop chained from the engines, one call per decision.

:func:`replenishment_plan` runs the replenishment half of the loop in DESIGN.md
for a whole workspace: the demand forecast per SKU with quantiles
(:func:`opslib.forecast.forecast`), the policy per SKU solved exactly for the
service target from the forecast's lead-time demand and the measured supplier
lead times (:func:`opslib.inventory.plan_policies`), and today's order list with
its exception lists (:func:`opslib.inventory.order_suggestions`). It adds no
algorithm of its own: every number is an engine call, and the result keeps each
engine's output so that an app or a report can show any step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from opslib.errors import DataError

__all__ = ["ReplenishmentPlan", "replenishment_plan", "forecast_horizon_days"]

MIN_HORIZON_DAYS = 28
"""Shortest forecast the plan makes [days]: four weeks, so a short lead time still sees a full weekly cycle."""


@dataclass(frozen=True)
class ReplenishmentPlan:
    """Result of :func:`replenishment_plan`.

    Attributes
    ----------
    forecast : pandas.DataFrame
        ``sku, date, mean, p10, p50, p90, model`` from :func:`opslib.forecast.forecast`
        (empty when the plan was made from the history alone).
    policies : pandas.DataFrame
        The policy table (DESIGN.md), one row per SKU, with ``demand_source``
        saying whether the forecast or the history gave the demand.
    orders : opslib.inventory.OrderSuggestions
        Today's order list, by supplier, and the exception lists.
    warnings : pandas.DataFrame
        ``step, sku, message``: every SKU a step could not treat as asked and
        what it did instead (forecast fallbacks, policy issues).
    settings : dict
        The arguments the plan was made with, for the record.
    """

    forecast: pd.DataFrame
    policies: pd.DataFrame
    orders: object
    warnings: pd.DataFrame
    settings: dict = field(default_factory=dict)


def forecast_horizon_days(items: pd.DataFrame, review_period_days: int) -> int:
    """Forecast length that covers the longest planned lead time plus the review period [days].

    The longest ``items.lead_time_days`` plus ``review_period_days``, at least
    :data:`MIN_HORIZON_DAYS`. Demand beyond the forecast is taken flat at its last
    day by :func:`opslib.forecast.lead_time_demand`, so measured lead times longer
    than planned still get a demand.
    """
    longest = 0.0
    if "lead_time_days" in items.columns and items["lead_time_days"].notna().any():
        longest = float(items["lead_time_days"].max())
    return max(MIN_HORIZON_DAYS, int(math.ceil(longest + review_period_days)))


def replenishment_plan(ws, *, service_type: str = "fill_rate", target: float = 0.95,
                       review_period_days: int = 7, policy: str = "(R,S)", targets=None,
                       model: str = "auto", horizon_days: int | None = None, use_forecast: bool = True,
                       as_of=None, unmet_demand: str | None = None) -> ReplenishmentPlan:
    """Forecast, policies and today's order list for every SKU of a workspace.

    Parameters
    ----------
    ws : opslib.Workspace
        A workspace with ``items``, ``demand`` (derived by :func:`opslib.load_workspace`),
        ``stock`` and optionally ``purchase_orders`` and ``calendar``.
    service_type : {"fill_rate", "cycle_service_level"}, default "fill_rate"
        The service the target is for.
    target : float, default 0.95
        Service target, a fraction in (0, 1) (0.95, not 95).
    review_period_days : int, default 7
        Days between order reviews.
    policy : {"(R,S)", "(r,Q)"}, default "(R,S)"
        Passed to :func:`opslib.inventory.plan_policies`.
    targets : pandas.Series or dict, optional
        Per-SKU targets overriding ``target`` (e.g. from ABC/XYZ cells).
    model : str, default "auto"
        Forecast model (:data:`opslib.forecast.MODELS` or ``"auto"``).
    horizon_days : int, optional
        Forecast length [days]; default :func:`forecast_horizon_days`.
    use_forecast : bool, default True
        False: the policies use the history's daily mean and spread instead of
        the forecast (what planners did before; kept for comparison).
    as_of : date-like, optional
        The planning day; default the last day of the demand history.
    unmet_demand : {"backorders", "lost"}, optional
        Passed to :func:`opslib.inventory.order_suggestions`.

    Returns
    -------
    ReplenishmentPlan

    Raises
    ------
    opslib.DataError
        When the workspace lacks the demand table, or a parameter is out of range
        (raised by the engine that checks it).
    """
    from opslib.forecast import forecast
    from opslib.inventory import order_suggestions, plan_policies

    demand = getattr(ws, "demand", None)
    if demand is None or len(demand) == 0:
        raise DataError("replenishment_plan: the workspace has no demand table. Fix: load it with "
                        "opslib.load_workspace (which derives demand from order_lines and stock).")
    if horizon_days is None:
        horizon_days = forecast_horizon_days(ws.items, review_period_days)
    history = demand[demand["sku"].isin(ws.items["sku"])]          # the SKUs the shop still lists
    if as_of is not None:
        history = history[pd.to_datetime(history["date"]) <= pd.Timestamp(as_of)]
    warnings = []
    frame = pd.DataFrame(columns=["sku", "date", "mean", "model"])
    if use_forecast:
        frame = forecast(history, int(horizon_days), model=model)
        for row in frame.attrs.get("warnings", []):
            warnings.append({"step": "forecast", "sku": row["sku"],
                             "message": f"{row['requested']} -> {row['used']}: {row['reason']}"})
    plan = plan_policies(ws, service_type, target, review_period_days, policy=policy, targets=targets,
                         as_of=as_of, forecast=frame if use_forecast else None)
    for row in plan.warnings.itertuples(index=False):
        warnings.append({"step": "policy", "sku": row.sku, "message": row.issue})
    orders = order_suggestions(ws, plan, as_of, unmet_demand=unmet_demand)
    settings = dict(service_type=service_type, target=target, review_period_days=review_period_days,
                    policy=policy, model=model, horizon_days=int(horizon_days), use_forecast=use_forecast,
                    as_of=None if as_of is None else str(pd.Timestamp(as_of).date()))
    return ReplenishmentPlan(frame, plan.policies, orders, pd.DataFrame(warnings, columns=["step", "sku", "message"]),
                             settings)
