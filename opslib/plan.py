"""``opslib.plan``: the planning loop chained from the engines, one call per decision.

:func:`replenishment_plan` runs the replenishment half of the loop in DESIGN.md
for a whole workspace: the demand forecast per SKU with quantiles
(:func:`opslib.forecast.forecast`), the policy per SKU solved exactly for the
service target from the forecast's lead-time demand and the measured supplier
lead times (:func:`opslib.inventory.plan_policies`), and today's order list with
its exception lists (:func:`opslib.inventory.order_suggestions`). It adds no
algorithm of its own: every number is an engine call, and the result keeps each
engine's output so that an app or a report can show any step.

Saved settings (:mod:`opslib.plan_settings`: per-SKU and per-segment service
type, target, review period, lead time, MOQ and case pack, kept in the
workspace folder) drive the plan: by default it reads them from the workspace
folder. Precedence, field by field: the SKU, then its ABC x XYZ cell, its
category, its supplier, then the plan's arguments and the items table. An
explicit ``targets=`` argument wins over saved targets.
"""

from __future__ import annotations

import dataclasses
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from opslib.errors import DataError

__all__ = ["ReplenishmentPlan", "replenishment_plan", "plan_forecast", "forecast_horizon_days", "forecast_matches",
           "plan_sheets", "plan_workbook"]

MIN_HORIZON_DAYS = 28
"""Shortest forecast the plan makes [days]: four weeks, so a short lead time still sees a full weekly cycle."""
#: The ``warnings`` row of a plan made without a stock table (its order list is empty).
NO_STOCK_MESSAGE = ("no stock table: today's order list needs each SKU's stock on hand, so it is empty; the "
                    "policies are planned. Fix: load a stock snapshot (the stock table: sku, date, on_hand).")


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
        Today's order list, by supplier, and the exception lists (empty when the
        workspace has no stock table; ``warnings`` then says so,
        :data:`NO_STOCK_MESSAGE`).
    warnings : pandas.DataFrame
        ``step, sku, message``: every SKU a step could not treat as asked and
        what it did instead (forecast fallbacks, policy issues).
    settings : dict
        The arguments the plan was made with, for the record (with
        ``saved_settings``: where the overrides came from and how many, when
        there were any).
    sku_settings : pandas.DataFrame
        The settings of every SKU after precedence
        (:attr:`opslib.plan_settings.ResolvedSettings.table`: each field and
        the scope it came from); empty when the plan had no saved settings.
    """

    forecast: pd.DataFrame
    policies: pd.DataFrame
    orders: object
    warnings: pd.DataFrame
    settings: dict = field(default_factory=dict)
    sku_settings: pd.DataFrame = field(default_factory=pd.DataFrame)


FORECAST_PAST_LEAD_DAYS = 7
"""Days the plan's forecast covers past the longest planned lead time: a week, whatever the review period."""


def forecast_horizon_days(items: pd.DataFrame) -> int:
    """Forecast length of a plan: the longest planned lead time plus a week [days].

    The longest ``items.lead_time_days`` plus :data:`FORECAST_PAST_LEAD_DAYS`,
    at least :data:`MIN_HORIZON_DAYS`. It does not depend on the review period:
    a planner who tries another review period plans on the same forecast (the
    Replenishment tuner, whose forecast is made when it opens, then gives the
    same numbers as the plan, and a recompute does not forecast again), and
    ``model="auto"`` does not choose other models because the review changed.
    Protection intervals (lead time plus review) longer than the forecast, from
    a longer review or a measured lead time longer than planned, repeat its last
    week (:func:`opslib.forecast.lead_time_demand`).
    """
    longest = 0.0
    if "lead_time_days" in items.columns and items["lead_time_days"].notna().any():
        longest = float(items["lead_time_days"].max())
    return max(MIN_HORIZON_DAYS, int(math.ceil(longest + FORECAST_PAST_LEAD_DAYS)))


def replenishment_plan(ws, *, service_type: str = "fill_rate", target: float = 0.95,
                       review_period_days: int = 7, policy: str = "(R,S)", targets=None,
                       model: str = "auto", horizon_days: int | None = None, use_forecast: bool = True,
                       as_of=None, unmet_demand: str | None = None, settings="saved",
                       progress=None, forecast=None) -> ReplenishmentPlan:
    """Forecast, policies and today's order list for every SKU of a workspace.

    Parameters
    ----------
    ws : opslib.Workspace
        A workspace with ``items``, ``demand`` (derived by :func:`opslib.load_workspace`),
        ``stock`` and optionally ``purchase_orders`` and ``calendar``. Without
        ``stock`` the policies are planned and the order list is empty (said in
        ``warnings``).
    service_type : {"fill_rate", "cycle_service_level"}, default "fill_rate"
        The service the target is for.
    target : float, default 0.95
        Service target, a fraction in (0, 1) (0.95, not 95).
    review_period_days : int, default 7
        Days between order reviews.
    policy : {"(R,S)", "(r,Q)"}, default "(R,S)"
        Passed to :func:`opslib.inventory.plan_policies`.
    targets : pandas.Series or dict, optional
        Per-SKU targets overriding ``target`` (e.g. from ABC/XYZ cells) and
        any saved target.
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
    settings : "saved", ReplenishmentSettings or None, default "saved"
        Per-SKU and per-segment overrides (:mod:`opslib.plan_settings`).
        ``"saved"``: those saved in the workspace folder (``ws.path``), none
        when the workspace has no folder or no settings file; None: none, the
        arguments alone. With overrides, the SKUs are planned in groups of
        equal service type, review period and lead-time source, one
        :func:`opslib.inventory.plan_policies` call per group (a SKU's policy
        does not depend on the other SKUs, so without overrides the result is
        the single call's); a saved lead time replaces the measured one and
        the items table's ``lead_time_days`` (``lead_time_source``
        ``"settings"``), a saved MOQ or case pack the items table's.
    progress : callable, optional
        Called with the name of each step as it starts: ``"forecast"``,
        ``"policies"``, ``"orders"`` (for a progress bar).
    forecast : pandas.DataFrame, optional
        The forecast this plan would make, made earlier with the same ``model``
        (for example the Replenishment tuner's, or the previous plan's
        ``.forecast``): used instead of forecasting again, so the plan is the
        same. It is used only when it matches the plan's inputs: the SKUs of
        the history, and ``horizon_days`` days from the day after the
        history's last day; otherwise the plan makes its own (``.forecast``
        is then another frame than the one passed).

    Returns
    -------
    ReplenishmentPlan

    Raises
    ------
    opslib.DataError
        When the workspace lacks the demand table, or a parameter is out of range
        (raised by the engine that checks it).
    """
    from opslib.inventory import order_suggestions, plan_policies

    demand = getattr(ws, "demand", None)
    if demand is None or len(demand) == 0:
        raise DataError("replenishment_plan: the workspace has no demand table. Fix: load it with "
                        "opslib.load_workspace (which derives demand from order_lines and stock).")
    overrides, origin = _saved_settings(ws, settings)
    resolved = None
    warnings = []
    plan_ws = ws
    if overrides is not None and len(overrides):
        from opslib.plan_settings import resolve_settings

        resolved = resolve_settings(ws, overrides, service_type=service_type, target=target,
                                    review_period_days=review_period_days, as_of=as_of)
        plan_ws = dataclasses.replace(ws, items=_items_with_settings(ws.items, resolved.table))
        for row in resolved.unmatched.itertuples(index=False):
            warnings.append({"step": "settings", "sku": row.key if row.scope == "sku" else None,
                             "message": f"saved settings for {row.scope} {row.key!r} match no SKU of the shop: ignored"})
    if horizon_days is None:
        horizon_days = forecast_horizon_days(plan_ws.items)
    frame = pd.DataFrame(columns=["sku", "date", "mean", "model"])
    report = progress if progress is not None else (lambda step: None)
    if use_forecast:
        report("forecast")
        frame = _forecast_of(ws, int(horizon_days), model, as_of, forecast)
        for row in frame.attrs.get("warnings", []):
            warnings.append({"step": "forecast", "sku": row["sku"],
                             "message": f"{row['requested']} -> {row['used']}: {row['reason']}"})
    report("policies")
    if resolved is None:
        plan = plan_policies(ws, service_type, target, review_period_days, policy=policy, targets=targets,
                             as_of=as_of, forecast=frame if use_forecast else None)
        policies = plan.policies
        for row in plan.warnings.itertuples(index=False):
            warnings.append({"step": "policy", "sku": row.sku, "message": row.issue})
    else:
        policies = _grouped_policies(plan_ws, resolved.table, policy, targets, as_of,
                                     frame if use_forecast else None, warnings)
    report("orders")
    stock = getattr(plan_ws, "stock", None)
    if stock is None or not len(stock) or not {"sku", "date", "on_hand"} <= set(stock.columns):
        # the policies stand; today's orders need today's stock: an empty list, and the reason
        warnings.append({"step": "orders", "sku": None, "message": NO_STOCK_MESSAGE})
        day = pd.Timestamp(as_of) if as_of is not None else pd.to_datetime(ws.demand["date"]).max()
        no_stock = pd.DataFrame({"sku": pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[ns]"),
                                 "on_hand": pd.Series(dtype=float)})
        orders = order_suggestions(dataclasses.replace(plan_ws, stock=no_stock), policies.iloc[:0], day,
                                   unmet_demand=unmet_demand)
    else:
        orders = order_suggestions(plan_ws, policies, as_of, unmet_demand=unmet_demand)
    record = dict(service_type=service_type, target=target, review_period_days=review_period_days,
                  policy=policy, model=model, horizon_days=int(horizon_days), use_forecast=use_forecast,
                  as_of=None if as_of is None else str(pd.Timestamp(as_of).date()))
    if resolved is not None:
        record["saved_settings"] = f"{len(overrides)} override(s) from {origin}"
    return ReplenishmentPlan(frame, policies, orders, pd.DataFrame(warnings, columns=["step", "sku", "message"]),
                             record, pd.DataFrame() if resolved is None else resolved.table)


def plan_forecast(ws, *, model: str = "auto", horizon_days: int | None = None, as_of=None, forecast=None) -> pd.DataFrame:
    """The forecast :func:`replenishment_plan` makes for ``ws`` (without saved settings), without the plan.

    The demand of the SKUs the shop lists, up to ``as_of``, forecast ``horizon_days``
    (default :func:`forecast_horizon_days` of ``ws.items``) with ``model``;
    ``forecast``, when it matches (:func:`forecast_matches`), is returned as it is.
    For callers that need the plan's demand before the plan, such as
    :func:`opslib.inventory.service_investment_curves` on the Replenishment page,
    whose curves then rest on the same demand as the plan. Saved settings that
    change a lead time may change the plan's horizon, and then its forecast.
    """
    demand = getattr(ws, "demand", None)
    if demand is None or len(demand) == 0:
        raise DataError("plan_forecast: the workspace has no demand table. Fix: load it with "
                        "opslib.load_workspace (which derives demand from order_lines and stock).")
    if horizon_days is None:
        horizon_days = forecast_horizon_days(ws.items)
    return _forecast_of(ws, int(horizon_days), model, as_of, forecast)


def _forecast_of(ws, horizon_days: int, model: str, as_of, forecast) -> pd.DataFrame:
    from opslib.forecast import forecast as forecast_of

    demand = ws.demand
    history = demand[demand["sku"].isin(ws.items["sku"])]          # the SKUs the shop still lists
    if as_of is not None:
        history = history[pd.to_datetime(history["date"]) <= pd.Timestamp(as_of)]
    if forecast is not None and forecast_matches(forecast, history, horizon_days):
        return forecast
    return forecast_of(history, horizon_days, model=model)


def forecast_matches(forecast, history: pd.DataFrame, horizon_days: int) -> bool:
    """Whether ``forecast`` covers exactly the SKUs of ``history`` over ``horizon_days`` days after its last day.

    What :func:`replenishment_plan` checks before it uses a forecast made
    earlier (the model is the caller's word: a frame does not say which was
    asked for).
    """
    if not isinstance(forecast, pd.DataFrame) or not {"sku", "date", "mean"} <= set(forecast.columns) \
            or len(forecast) != horizon_days * history["sku"].nunique() or len(history) == 0:
        return False
    first = pd.Timestamp(pd.to_datetime(history["date"]).max()) + pd.Timedelta(days=1)
    dates = pd.to_datetime(forecast["date"])
    counts = forecast["sku"].value_counts()
    return (set(counts.index) == set(history["sku"].unique()) and bool((counts == horizon_days).all())
            and dates.min() == first and dates.max() == first + pd.Timedelta(days=horizon_days - 1))


def _saved_settings(ws, settings):
    """The overrides to plan with, and where they came from (None: none)."""
    from opslib.plan_settings import SETTINGS_FILE, ReplenishmentSettings, load_settings

    if settings is None:
        return None, None
    if isinstance(settings, ReplenishmentSettings):
        return settings, "the settings passed"
    if isinstance(settings, str) and settings == "saved":
        folder = getattr(ws, "path", None)
        if folder is None or not (Path(folder) / SETTINGS_FILE).is_file():
            return None, None
        return load_settings(folder), str(Path(folder) / SETTINGS_FILE)
    raise DataError(f"settings must be 'saved', None or a ReplenishmentSettings; got {settings!r}. "
                    "Fix: pass opslib.plan_settings.load_settings(folder), or None for no overrides.")


def _items_with_settings(items: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The items table with the saved MOQ, case pack and lead time of every SKU that has one."""
    out = items.copy()
    for name in ("moq", "case_pack", "lead_time_days"):
        saved = (table[f"{name}_source"] != "default").to_numpy()
        if saved.any():
            column = out[name].astype(float) if name in out.columns else pd.Series(float("nan"), index=out.index)
            column.iloc[saved] = table.loc[saved, name].astype(float).to_numpy()
            out[name] = column
    return out


def _grouped_policies(ws, table, policy, targets, as_of, frame, warnings) -> pd.DataFrame:
    """plan_policies once per group of SKUs sharing service type, review period and lead-time source."""
    from opslib.inventory import plan_policies, supplier_lead_times

    measured = supplier_lead_times(ws)
    per_sku_target = dict(zip(table["sku"], table["target"]))
    if targets is not None:
        per_sku_target.update(dict(targets))
    fixed = (table["lead_time_days_source"] != "default").to_numpy()
    keys = list(zip(table["service_type"], table["review_period_days"], fixed))
    parts = {}
    for key in dict.fromkeys(keys):
        service_type, review, fixed_lead_time = key
        mask = [k == key for k in keys]
        group = dataclasses.replace(ws, items=ws.items[mask])
        if fixed_lead_time:  # the saved lead time, not the receipts of the SKU's supplier
            group = dataclasses.replace(group, purchase_orders=None)
        elif not _any_lead_time(group.items, measured):  # plan_policies needs one SKU it can plan
            for sku in group.items["sku"]:
                warnings.append({"step": "policy", "sku": sku,
                                 "message": "no lead time (no receipts, no items.lead_time_days): SKU skipped"})
            continue
        plan = plan_policies(group, service_type, float(table.loc[mask, "target"].iloc[0]), int(review),
                             policy=policy, targets=per_sku_target, as_of=as_of, forecast=frame)
        part = plan.policies
        if fixed_lead_time:
            part = part.assign(lead_time_source="settings")
        parts[key] = part
        sources = dict(zip(table["sku"], table["lead_time_days_source"]))
        for row in plan.warnings.itertuples(index=False):
            message = row.issue
            if fixed_lead_time and message.startswith("lead time from items.lead_time_days"):
                days = float(ws.items.loc[ws.items["sku"] == row.sku, "lead_time_days"].iloc[0])
                message = f"lead time {days:g} days from the saved settings ({sources[row.sku]})"
            warnings.append({"step": "policy", "sku": row.sku, "message": message})
    if not parts:
        raise DataError("replenishment_plan: no SKU has a lead time (no receipts, no items.lead_time_days, "
                        "no saved lead_time_days). Fix: add lead times to the items table or the settings.")
    policies = pd.concat(list(parts.values()), ignore_index=True)
    order = {sku: i for i, sku in enumerate(table["sku"])}
    policies = policies.iloc[policies["sku"].map(order).argsort(kind="stable")].reset_index(drop=True)
    return policies


def _any_lead_time(items: pd.DataFrame, measured: dict) -> bool:
    """Whether some SKU of ``items`` has a lead time: measured for its supplier, or in ``lead_time_days``."""
    if "supplier" in items.columns and items["supplier"].isin(list(measured)).any():
        return True
    return "lead_time_days" in items.columns and bool(items["lead_time_days"].notna().any())


def plan_sheets(plan: ReplenishmentPlan) -> dict:
    """The sheets of a replenishment plan workbook, in order: title -> frame.

    The sheets of ``opslib plan --out plan.xlsx``: the plan's settings, the
    orders by supplier (the supplier as a column), the order list, the
    exception lists, the policies and the warnings; plus ``Settings per
    SKU`` when saved settings drove the plan.
    """
    orders = plan.orders
    settings = pd.DataFrame({"setting": list(plan.settings), "value": [str(v) for v in plan.settings.values()]})
    sheets = {
        "Plan": settings,
        "Orders by supplier": orders.by_supplier.reset_index(),
        "Orders": orders.orders,
        "At risk": orders.at_risk,
        "Excess": orders.excess,
        "Too much on order": orders.too_much_on_order,
        "Dead stock": orders.dead_stock,
        "Policies": plan.policies,
        "Warnings": plan.warnings,
    }
    if len(plan.sku_settings):
        sheets["Settings per SKU"] = plan.sku_settings
    return sheets


def plan_workbook(plan: ReplenishmentPlan, target=None) -> bytes:
    """The plan as an Excel workbook (:func:`plan_sheets`, header bold and frozen, columns sized).

    Parameters
    ----------
    plan : ReplenishmentPlan
    target : str, os.PathLike or binary file, optional
        Where to write it as well.

    Returns
    -------
    bytes
        The ``.xlsx`` file.
    """
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for title, frame in plan_sheets(plan).items():
            frame.to_excel(writer, sheet_name=title, index=False)
            sheet = writer.book[title]
            sheet.freeze_panes = "A2"
            for j, col in enumerate(frame.columns, start=1):
                sheet.cell(row=1, column=j).font = Font(bold=True)
                width = max([len(str(col))] + [len(str(v)) for v in frame[col].head(200)])
                sheet.column_dimensions[get_column_letter(j)].width = min(60, width + 2)
    data = buffer.getvalue()
    if target is not None:
        if hasattr(target, "write"):
            target.write(data)
        else:
            with open(target, "wb") as handle:
                handle.write(data)
    return data
