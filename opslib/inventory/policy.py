"""Policy table over a workspace: one row per SKU, service solved exactly after rounding.

:func:`plan_policies` chains the engines of this package for every SKU of a
:class:`opslib.data.Workspace`:

1. daily demand mean, variance and average demand interval from the demand
   history, over in-stock days only (stock-out days censor demand);
2. lead times measured from purchase-order receipts per supplier
   (:func:`opslib.ops.lead_time_samples`), the item's ``lead_time_days`` when a
   supplier has too few receipts;
3. the lead-time (plus review period) demand with random lead times and a
   family chosen per SKU (:func:`opslib.inventory.lead_time_demand`); for
   (R,S) with random lead times, the shortfall with orders crossing
   (:func:`opslib.inventory.order_crossing_shortfall`) for the fill rate, and
   the probability of no stock-out on any day of an order's cycle
   (:func:`opslib.inventory.crossing_cycle_service_level`) for the cycle
   service level;
4. the level solved exactly for the target after MOQ and case-pack rounding
   (:mod:`opslib.inventory.rounding`), with the achieved fill rate and cycle
   service level. Levels are whole units for discrete demand, so the service
   achieved is the lowest achievable level at or above the target, which for
   slow movers can lie well above it (reported per SKU, never hidden).

Unmet demand is backordered in the service formulas. The demand is the
history's daily mean and spread, or, with ``forecast=``, the forecast's mean
and error over lead time plus review period
(:func:`opslib.forecast.lead_time_demand`).
:func:`service_investment_curves` evaluates the same models on a range of
levels per SKU, for budget allocation (:mod:`opslib.inventory.portfolio`).
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import rv_discrete

from opslib.errors import DataError
from opslib.inventory._validate import check_integer, check_probability
from opslib.inventory.crossing import (
    CrossingCycleServiceLevel,
    _CrossingRS,
    _is_random,
    crossing_cycle_service_level,
    order_crossing_shortfall,
)
from opslib.inventory.distributions import cdf, is_discrete
from opslib.inventory.eoq import eoq
from opslib.inventory.lead_time import (
    FAMILIES,
    _fit,
    _fit_is_discrete,
    _fit_spec,
    _kernels_apply,
    _lead_time_demand_parts,
    lead_time_demand,
)
from opslib.inventory.rounding import (
    RoundingRule,
    _integer_pmf,
    _integer_pmf_of,
    _RoundedRS,
    _solve_rounded_rs,
    round_reorder_point_policy,
)
from opslib.inventory.service import OrderUpToPolicy, _smallest_meeting

__all__ = [
    "PolicyPlan",
    "demand_statistics",
    "supplier_lead_times",
    "plan_policies",
    "service_investment_curves",
    "POLICY_COLUMNS",
]

POLICY_COLUMNS = [
    "sku",
    "policy",
    "reorder_point",
    "order_quantity",
    "order_up_to",
    "safety_stock",
    "service_type",
    "service_target",
    "fill_rate",
    "cycle_service_level",
    "avg_on_hand",
    "inventory_value",
    "expected_cost",
]
MIN_LEAD_TIME_SAMPLES = 5
# the columns of a plan_policies row before the per-table columns are added
_ROW_COLUMNS = ["sku", "policy", "reorder_point", "order_quantity", "minimum_order", "order_up_to", "safety_stock",
                "service_type", "service_target", "fill_rate", "cycle_service_level", "avg_on_hand",
                "inventory_value", "expected_cost", "family", "rounding_status", "rounding_note",
                "lead_time_source", "demand_source", "_mu", "_var"]


@dataclass(frozen=True)
class PolicyPlan:
    """Result of :func:`plan_policies`.

    Attributes
    ----------
    policies : pandas.DataFrame
        The DESIGN.md policy table, one row per SKU (``reorder_point``: order
        when the inventory position is at or below it; ``order_quantity``:
        ``Q`` for (r,Q), NaN for (R,S), whose orders are ``S - IP`` rounded),
        plus ``minimum_order`` (the MOQ in whole packs), ``review_period_days``,
        ``demand_mean_per_day``, ``demand_variance_per_day``,
        ``lead_time_mean_days``, ``family``, ``rounding_status``,
        ``rounding_note``, ``unmet_demand``, ``supplier``, ``unit_cost``,
        ``case_pack``, ``moq``. ``expected_cost`` is holding plus ordering
        [money per year].
    warnings : pandas.DataFrame
        ``sku, issue``: SKUs that fell back to a simpler method and why.
    lead_times : dict
        Supplier -> the lead-time samples used [days].
    """

    policies: pd.DataFrame
    warnings: pd.DataFrame
    lead_times: dict


def demand_statistics(ws, history_days: int = 365, as_of=None) -> pd.DataFrame:
    """Daily demand mean, variance and average demand interval per SKU, in-stock days only.

    Parameters
    ----------
    ws : Workspace
        With a ``demand`` table (``sku, date, units``, optional ``in_stock``).
    history_days : int, default 365
        The window [days] ending at ``as_of`` (default: the last date).
    as_of : date-like, optional

    Returns
    -------
    pandas.DataFrame
        Indexed by sku: ``demand_mean_per_day`` [units/day],
        ``demand_variance_per_day`` [units^2/day], ``average_demand_interval``
        [days], ``days_observed``, ``days_censored`` (stock-out days left out).
    """
    demand = getattr(ws, "demand", None)
    if demand is None or not {"sku", "date", "units"} <= set(demand.columns):
        raise DataError(
            "plan_policies needs the demand table with columns sku, date, units; got "
            f"{None if demand is None else list(demand.columns)!r}. Fix: derive demand from order_lines first."
        )
    history_days = check_integer("history_days", history_days, minimum=28, why=" [days]")
    dates = pd.to_datetime(demand["date"])
    end = dates.max() if as_of is None else pd.Timestamp(as_of)
    window = (dates > end - pd.Timedelta(days=history_days)) & (dates <= end)
    frame = demand.loc[window, ["sku", "units"]].copy()
    frame["units"] = frame["units"].astype(float)
    in_stock = demand.loc[window, "in_stock"].fillna(True).astype(bool) if "in_stock" in demand else True
    frame["in_stock"] = in_stock
    kept = frame[frame["in_stock"]]
    g = kept.groupby("sku", sort=True)["units"]
    out = pd.DataFrame(
        {
            "demand_mean_per_day": g.mean(),
            "demand_variance_per_day": g.var(ddof=1).fillna(0.0),
            "days_observed": g.size(),
            "days_with_demand": (kept["units"] > 0).groupby(kept["sku"], sort=True).sum().astype("int64"),
        }
    )
    censored = (~frame["in_stock"]).groupby(frame["sku"], sort=True).sum().astype("int64")
    out["days_censored"] = censored.reindex(out.index).fillna(0).astype(int)
    out["average_demand_interval"] = out["days_observed"] / out["days_with_demand"].where(out["days_with_demand"] > 0)
    return out


def supplier_lead_times(ws, minimum_samples: int = MIN_LEAD_TIME_SAMPLES) -> dict:
    """Measured lead times [calendar days] per supplier from purchase-order receipts."""
    from opslib.ops import lead_time_samples

    try:
        samples = lead_time_samples(ws)
    except DataError:
        return {}
    out = {}
    for supplier, s in samples.groupby("supplier"):
        values = s["lead_time_days"].dropna().to_numpy(dtype=float)
        if values.size >= minimum_samples:
            out[supplier] = np.round(values)
    return out


def _many(evaluator, kind: str):
    """The evaluator's ``kind`` service at many levels at once, when it has it (see ``_smallest_meeting``)."""
    return evaluator.many(kind) if hasattr(evaluator, "many") else None


class _RSModel(NamedTuple):
    """The (R,S) model of one SKU: what plan_policies and service_investment_curves read of it."""

    family: str  # of the lead-time demand
    mean: float  # of the protection-interval demand [units]
    lead_time_mean_days: float
    discrete: bool
    review_p_zero: float  # P(no demand in a review period): reviews that order nothing
    ev: object  # rounded evaluator
    plain: object  # unrounded evaluator


def _stats_by_sku(stats_: pd.DataFrame) -> dict:
    """sku -> {column: value} of :func:`demand_statistics` (one lookup per SKU instead of a .loc each)."""
    columns = ["demand_mean_per_day", "demand_variance_per_day", "average_demand_interval"]
    values = zip(*(stats_[c].tolist() for c in columns))
    return {sku: dict(zip(columns, row)) for sku, row in zip(stats_.index, values)}


def _rs_evaluators(sku, mu, var, lt, review, family, adi, rule, crossing, crossing_cycles, seed) -> _RSModel:
    """Lead-time demand and the (R,S) service evaluators of one SKU: rounded (``ev``) and unrounded (``plain``).

    With crossing, no scipy distribution is frozen (the lead-time demand's
    family and moments, and the pmfs from the scipy generators with the
    parameters :func:`opslib.inventory.lead_time._fit` would freeze): the same
    numbers at a fraction of the cost.
    """
    crossing = crossing and _is_random(lt)
    if not crossing or family == "compound":
        ltd = lead_time_demand(mu, var, lt, review, family, adi)
        fam, protection_mean, lt_mean = ltd.family, ltd.mean, ltd.lead_time_mean_days
        discrete = is_discrete(ltd.distribution)
    else:
        fam, _, m, _ = _lead_time_demand_parts(mu, var, lt, review, family, adi)
        protection_mean, lt_mean = m.mean, m.lead_time_mean_days
        discrete = _fit_is_discrete(fam, m.mean, m.variance)
    review_family = fam if fam != "compound" else ("negative_binomial" if var > mu else "poisson")
    if not crossing:
        review_dist = _fit(review_family, review * mu, review * var)
        if not is_discrete(review_dist) and fam in ("poisson", "negative_binomial", "compound"):
            review_dist = _fit("poisson", review * mu, review * var)
        p_zero = float(cdf(review_dist, 0)) if is_discrete(review_dist) else 0.0
        ev = _RoundedRS(ltd.distribution, ltd.during_lead_time, review_dist, review * mu, rule)
        plain = _RoundedRS(ltd.distribution, ltd.during_lead_time, review_dist, review * mu, RoundingRule())
        return _RSModel(fam, protection_mean, lt_mean, discrete, p_zero, ev, plain)
    spec = _fit_spec(review_family, review * mu, review * var)
    if not _spec_is_discrete(spec) and fam in ("poisson", "negative_binomial", "compound"):
        spec = _fit_spec("poisson", review * mu, review * var)
    if isinstance(spec, dict):
        review_pmf = _integer_pmf(spec)
        p_zero = float(cdf(spec, 0))
    else:
        generator, args, kwds = spec
        review_pmf = _integer_pmf_of(generator, args, kwds)
        if _kernels_apply(generator, kwds):
            p_zero = float(np.clip(generator._cdf(np.asarray(0, dtype=float), *args), 0.0, 1.0))
        elif _spec_is_discrete(spec):
            p_zero = float(np.asarray(generator.cdf(np.asarray(0, dtype=float), *args, **kwds))[()])
        else:
            p_zero = 0.0
    law = "exact" if discrete else fam
    shortfall = _memo_shortfall(mu, var, lt, review, law)
    window = _memo_window(mu, var, lt, review, law, crossing_cycles, [seed, zlib.crc32(str(sku).encode())])
    ev = _CrossingRS(shortfall, None, rule, window, review_pmf=review_pmf)
    plain = _CrossingRS(shortfall, None, RoundingRule(), window, review_pmf=review_pmf)
    return _RSModel(fam, protection_mean, lt_mean, discrete, p_zero, ev, plain)


class _LRU:
    """A memo by key that drops the least recently used entry beyond ``size``.

    Several threads may use it (the portfolio's workers): a lost race costs a
    recomputation or a lookup miss, never a wrong value.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict = OrderedDict()

    def get(self, key):
        hit = self._entries.get(key)
        if hit is not None:
            try:
                self._entries.move_to_end(key)
            except KeyError:  # dropped by another thread meanwhile
                pass
        return hit

    def put(self, key, value) -> None:
        self._entries[key] = value
        while len(self._entries) > self.size:
            try:
                self._entries.popitem(last=False)
            except KeyError:
                break

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_SHORTFALL_MEMO = _LRU(1024)  # SKUs x settings; an entry is a few tables of the shortfall's support (kB)


def _memo_shortfall(mu, var, lt, review, law):
    """:func:`order_crossing_shortfall`, memoized by value (least recently used out).

    A pure function of its inputs (the plan's evaluators only read it), so
    :func:`plan_policies` and :func:`service_investment_curves` on the same
    daily demand share it, and a recompute with other targets, service type
    or rounding reuses every SKU's.
    """
    key = (float(mu), float(var), np.asarray(lt, dtype=float).tobytes(), int(review), law)
    hit = _SHORTFALL_MEMO.get(key)
    if hit is not None:
        return hit
    out = order_crossing_shortfall(mu, var, lt, review, law)
    _SHORTFALL_MEMO.put(key, out)
    return out


_WINDOW_MEMO = _LRU(1024)  # an entry is the distinct cycle maxima and their counts (whole units), else every maximum


def _memo_window(mu, var, lt, review, law, cycles, stream):
    """:func:`crossing_cycle_service_level` drawn from ``numpy.random.default_rng(stream)``, memoized by value.

    A pure function of its inputs (the seed stream included), so a recompute of
    the plan on the same demand (another target, service type, rounding, or a
    saved setting) reuses every SKU's simulation. Whole-unit maxima are kept as
    their distinct values and counts (the sorted array is ``numpy.repeat`` of them).
    """
    key = (float(mu), float(var), np.asarray(lt, dtype=float).tobytes(), int(review), law, int(cycles), repr(stream))
    hit = _WINDOW_MEMO.get(key)
    if hit is not None:
        values, counts, r, n = hit
        maxima = values if counts is None else np.repeat(values, counts)
        return CrossingCycleServiceLevel(maxima, r, n)
    out = crossing_cycle_service_level(mu, var, lt, review, law, cycles, np.random.default_rng(stream))
    maxima = out.window_maxima
    if np.array_equal(maxima, np.round(maxima)):
        values, counts = np.unique(maxima, return_counts=True)
    else:
        values, counts = maxima.copy(), None
    values.flags.writeable = False
    _WINDOW_MEMO.put(key, (values, counts, out.review_period_days, out.cycles))
    return out


def _spec_is_discrete(spec) -> bool:
    return isinstance(spec, dict) or isinstance(spec[0], rv_discrete)


def _forecast_daily_moments(forecast, items, lead_times, review, error_std) -> dict:
    """sku -> (daily mean, daily error variance) reproducing the forecast's demand over lead time plus review."""
    from opslib.forecast import lead_time_demand as forecast_lead_time_demand

    if not isinstance(forecast, pd.DataFrame) or not {"sku", "date", "mean"} <= set(forecast.columns):
        raise DataError(
            "forecast must be a forecast frame with columns sku, date, mean and quantiles (opslib.forecast.forecast); "
            f"got {type(forecast).__name__} with columns {list(getattr(forecast, 'columns', []))!r}."
        )
    # the same columns without attrs: every slice of a forecast deep-copies its attrs (warnings, demand classes)
    forecast = pd.DataFrame(forecast, copy=False)
    known = set(forecast["sku"])
    groups: dict = {}
    for item in items.itertuples(index=False):
        if item.sku not in known:
            continue
        supplier = getattr(item, "supplier", None)
        if supplier in lead_times:
            key, lt = ("measured", supplier), lead_times[supplier]
        elif not pd.isna(getattr(item, "lead_time_days", np.nan)):
            key, lt = ("fixed", float(item.lead_time_days)), np.array([float(item.lead_time_days)])
        else:
            continue
        groups.setdefault(key, (lt, []))[1].append(item.sku)
    out = {}
    for lt, skus in groups.values():
        frame = forecast[forecast["sku"].isin(skus)]
        std = error_std.reindex(skus) if isinstance(error_std, pd.Series) else error_std
        ltd = forecast_lead_time_demand(frame, lead_time_distribution=np.asarray(lt, dtype=float),
                                        review_period_days=review, error_std=std, quantiles=(), n_samples=1, seed=0)
        lt = np.asarray(lt, dtype=float)
        span = float(lt.mean()) + review
        for sku, m, sd in zip(ltd.sku, ltd.mean, ltd.std):
            mu = float(m) / span
            var = max((float(sd) ** 2 - mu * mu * float(lt.var())) / span, 0.0)
            out[sku] = (mu, var)
    return out


def plan_policies(
    ws,
    service_type: str = "fill_rate",
    target: float = 0.95,
    review_period_days: int = 7,
    *,
    policy: str = "(R,S)",
    targets=None,
    history_days: int = 365,
    family: str = "auto",
    rounding: bool = True,
    as_of=None,
    order_crossing: bool | None = None,
    crossing_cycles: int = 10_000,
    seed: int = 0,
    forecast=None,
    error_std=None,
) -> PolicyPlan:
    """One replenishment policy per SKU for a service target, solved exactly after rounding.

    Parameters
    ----------
    ws : Workspace
        ``items`` (sku, unit_cost; optional case_pack, moq, lead_time_days,
        supplier, holding_cost_rate_per_year, order_cost), ``demand`` and,
        for measured lead times, ``purchase_orders`` with receipt dates.
    service_type : {"fill_rate", "cycle_service_level"}
    target : float, default 0.95
        Service target in (0, 1) for every SKU (see ``targets``).
    review_period_days : int, default 7
        ``R`` [days] for ``"(R,S)"``; ignored for ``"(r,Q)"`` (continuous review).
    policy : {"(R,S)", "(r,Q)"}
        ``(R,S)``: order up to ``S`` every ``R`` days, orders rounded to packs
        and MOQ. ``(r,Q)``: ``Q`` the EOQ rounded to packs and MOQ.
    targets : mapping or Series sku -> target, optional
        Per-SKU targets overriding ``target`` (e.g. by ABC class).
    history_days : int, default 365
        Demand window [days].
    family : {"auto", "poisson", "negative_binomial", "gamma", "normal", "compound"}
        Lead-time demand family; ``"auto"`` chooses per SKU.
    rounding : bool, default True
        Apply case pack and MOQ (service solved again after rounding).
    as_of : date-like, optional
        End of the demand window (default: the last demand date).
    order_crossing : bool, optional
        For (R,S) with random lead times, True (the default) solves on the
        shortfall with independent lead times per order, which lets orders
        cross (:func:`opslib.inventory.order_crossing_shortfall`; the cycle
        service level, no stock-out on any day of an order's cycle, from
        :func:`opslib.inventory.crossing_cycle_service_level`); False uses the
        lead-time demand ``E[L] sigma^2 + mu^2 Var[L]`` (no crossing), which
        over-protects when lead times vary by more than the review period.
    crossing_cycles : int, default 10,000
        Cycles simulated per SKU for the cycle service level with crossing
        (standard error about 0.2 points at 95 %).
    seed : int, default 0
        Seed of that simulation (combined with each SKU's label, so a SKU's
        policy does not depend on the other SKUs).
    forecast : pandas.DataFrame, optional
        A forecast (``sku, date, mean`` and quantile columns, as
        :func:`opslib.forecast.forecast` returns) to take the demand from
        instead of the history: :func:`opslib.forecast.lead_time_demand` gives
        the mean and variance of demand over lead time plus review period
        (forecast means, forecast error, measured lead times), and the daily
        mean and error variance used here are the ones that reproduce both
        (``mu = E[D] / (E[L] + R)``, ``sigma^2 = (Var[D] - mu^2 Var[L]) /
        (E[L] + R)``). SKUs missing from the forecast use the history and are
        listed in ``warnings``. Column ``demand_source`` says which was used.
    error_std : float or pandas.Series, optional
        Per-day forecast error standard deviation passed on to
        :func:`opslib.forecast.lead_time_demand` (default: read from the
        forecast's quantiles).

    Returns
    -------
    PolicyPlan
    """
    if service_type not in ("fill_rate", "cycle_service_level"):
        raise DataError(
            f"service_type must be 'fill_rate' or 'cycle_service_level'; got {service_type!r}. Fix: pick one."
        )
    if policy not in ("(R,S)", "(r,Q)"):
        raise DataError(f"policy must be '(R,S)' or '(r,Q)'; got {policy!r}. Fix: pick one.")
    if family not in ("auto",) + FAMILIES:
        raise DataError(f"family must be 'auto' or one of {FAMILIES}; got {family!r}. Fix: pick one.")
    target = check_probability("target", target)
    review = check_integer("review_period_days", review_period_days, minimum=1, why=" [days]")
    items = getattr(ws, "items", None)
    if items is None or not {"sku", "unit_cost"} <= set(items.columns):
        raise DataError("plan_policies needs the items table with sku and unit_cost. Fix: load the items table.")
    stats_ = demand_statistics(ws, history_days, as_of)
    lead_times = supplier_lead_times(ws)
    per_sku_target = {} if targets is None else dict(targets)
    from_forecast = {} if forecast is None else _forecast_daily_moments(
        forecast, items, lead_times, review if policy == "(R,S)" else 0, error_std)

    sku_stats = _stats_by_sku(stats_)
    rows, warns = [], []
    for item in items.itertuples(index=False):
        sku = item.sku
        get = lambda name, default: default if pd.isna(getattr(item, name, default)) else getattr(item, name, default)  # noqa: E731
        unit_cost = float(item.unit_cost)
        rate = float(get("holding_cost_rate_per_year", 0.25))
        order_cost = float(get("order_cost", 0.0))
        rule = RoundingRule(int(get("moq", 0)), int(get("case_pack", 1))) if rounding else RoundingRule()
        sku_target = check_probability(f"targets[{sku!r}]", per_sku_target.get(sku, target))
        supplier = get("supplier", None)
        if supplier in lead_times:
            lt, lt_source = lead_times[supplier], "measured"
        elif not pd.isna(get("lead_time_days", np.nan)):
            lt, lt_source = float(item.lead_time_days), "item"
            warns.append((sku, f"lead time from items.lead_time_days ({lt:g} days): fewer than "
                               f"{MIN_LEAD_TIME_SAMPLES} receipts for supplier {supplier!r}"))
        else:
            warns.append((sku, "no lead time (no receipts, no items.lead_time_days): SKU skipped"))
            continue
        st = sku_stats.get(sku)
        if st is None or st["demand_mean_per_day"] <= 0:
            warns.append((sku, "no demand in the window: no stock planned"))
            rows.append(dict(sku=sku, policy="none", reorder_point=np.nan, order_quantity=0.0, minimum_order=np.nan, order_up_to=0.0,
                             safety_stock=0.0, service_type=service_type, service_target=sku_target,
                             fill_rate=np.nan, cycle_service_level=np.nan, avg_on_hand=0.0, inventory_value=0.0,
                             expected_cost=0.0, family="none", rounding_status="met", rounding_note="",
                             lead_time_source=lt_source))
            continue
        mu, var, adi = float(st["demand_mean_per_day"]), float(st["demand_variance_per_day"]), st["average_demand_interval"]
        adi = None if pd.isna(adi) else float(adi)
        source = "history"
        if forecast is not None:
            if sku in from_forecast and from_forecast[sku][0] > 0:
                (mu, var), source = from_forecast[sku], "forecast"
            else:
                warns.append((sku, "no positive forecast for this SKU: demand from the history"))
        h_year = unit_cost * rate
        if policy == "(R,S)":
            crossing = True if order_crossing is None else order_crossing
            ltd = _rs_evaluators(sku, mu, var, lt, review, family, adi, rule, crossing, crossing_cycles, seed)
            discrete, ev, plain = ltd.discrete, ltd.ev, ltd.plain
            f = plain.fill_rate if service_type == "fill_rate" else plain.cycle_service_level
            start = float(np.ceil(ltd.mean)) if discrete else ltd.mean
            s0 = _smallest_meeting(f, sku_target, start - 1, start, discrete, _many(plain, service_type))
            unrounded = OrderUpToPolicy(s0, review, ltd.lead_time_mean_days, s0 - ltd.mean, service_type, sku_target,
                                        plain.fill_rate(s0), plain.cycle_service_level(s0))
            res = _solve_rounded_rs(ev, unrounded, service_type, sku_target, rule, True, 0.0, None, 0.005,
                                    discrete, ltd.mean)
            p_zero = ltd.review_p_zero
            orders_year = 365.0 / review * (1 - p_zero)
            if rule.minimum > review * mu:
                orders_year = min(orders_year, 365.0 * mu / rule.minimum)
            order_quantity = np.nan
            minimum_order = float(rule.minimum)
            reorder_point = res.reorder_point if discrete else res.order_up_to
        else:
            ltd = lead_time_demand(mu, var, lt, 0, family, adi)
            q = eoq(max(order_cost, 1e-9), h_year, 365.0 * mu).order_quantity
            q = max(1.0, round(q)) if is_discrete(ltd.distribution) else q
            res = round_reorder_point_policy(ltd.distribution, q, sku_target, service_type, rule.minimum_order_quantity,
                                             rule.case_pack, rule.order_multiple)
            orders_year = 365.0 * mu / res.order_quantity
            order_quantity = res.order_quantity
            minimum_order = float(rule.minimum)
            reorder_point = res.reorder_point
        if res.status not in ("met", "overshoot"):
            warns.append((sku, res.note))
        rows.append(
            dict(
                sku=sku,
                policy=res.policy,
                reorder_point=reorder_point,
                order_quantity=order_quantity,
                minimum_order=minimum_order,
                order_up_to=res.order_up_to,
                safety_stock=res.safety_stock,
                service_type=service_type,
                service_target=sku_target,
                fill_rate=res.fill_rate,
                cycle_service_level=res.cycle_service_level,
                avg_on_hand=res.average_on_hand,
                inventory_value=res.average_on_hand * unit_cost,
                expected_cost=res.average_on_hand * h_year + orders_year * order_cost,
                family=ltd.family,
                rounding_status=res.status,
                rounding_note=res.note,
                lead_time_source=lt_source,
                demand_source=source,
                _mu=mu,
                _var=var,
            )
        )
    table = pd.DataFrame(rows) if rows else pd.DataFrame(columns=_ROW_COLUMNS)  # no SKU planned: empty, warnings say why
    extra = items.set_index("sku").reindex(table["sku"])
    table["review_period_days"] = review if policy == "(R,S)" else 0
    table["demand_mean_per_day"] = stats_["demand_mean_per_day"].reindex(table["sku"]).to_numpy()
    table["demand_variance_per_day"] = stats_["demand_variance_per_day"].reindex(table["sku"]).to_numpy()
    if "_mu" in table:  # the daily moments actually used (the forecast's where it was the source)
        used = table["_mu"].notna()
        table.loc[used, "demand_mean_per_day"] = table.loc[used, "_mu"]
        table.loc[used, "demand_variance_per_day"] = table.loc[used, "_var"]
        table = table.drop(columns=["_mu", "_var"])
    table["demand_source"] = table["demand_source"].fillna("history") if "demand_source" in table else "history"
    table["average_demand_interval"] = stats_["average_demand_interval"].reindex(table["sku"]).to_numpy()
    table["lead_time_mean_days"] = [
        float(np.mean(lead_times[s])) if s in lead_times else float(x)
        for s, x in zip(extra.get("supplier", pd.Series(index=extra.index, dtype=object)),
                        extra.get("lead_time_days", pd.Series(np.nan, index=extra.index)))
    ]
    for col in ("supplier", "unit_cost", "case_pack", "moq"):
        if col in extra:
            table[col] = extra[col].to_numpy()
    table["unmet_demand"] = "backordered"
    order = POLICY_COLUMNS + [c for c in table.columns if c not in POLICY_COLUMNS]
    return PolicyPlan(table[order], pd.DataFrame(warns, columns=["sku", "issue"]), lead_times)


def service_investment_curves(
    ws,
    review_period_days: int = 7,
    *,
    fill_rate_range: tuple = (0.5, 0.999),
    max_levels: int = 150,
    history_days: int = 365,
    family: str = "auto",
    rounding: bool = True,
    as_of=None,
    seed: int = 0,
    crossing_cycles: int = 10_000,
    forecast=None,
    error_std=None,
) -> pd.DataFrame:
    """Fill rate and inventory investment of every order-up-to level, per SKU: the inputs of a budget allocation.

    The same lead-time demand, crossing shortfall and rounding evaluators as
    :func:`plan_policies` (``(R,S)``, backorders), evaluated on the levels
    from the one that first reaches ``fill_rate_range[0]`` to the one that
    first reaches ``fill_rate_range[1]``: every whole unit for discrete
    families (thinned to at most ``max_levels``), ``max_levels`` even steps
    for continuous ones, whole units apart (at most ``max_levels``, the last
    at or above the top) when an MOQ or case pack rounds the orders: every
    level then shares its rounded positions with the others, so each is
    computed once. Pass the result to
    :func:`opslib.inventory.marginal_allocation` or
    :func:`opslib.inventory.exchange_curve` (one array per SKU).

    Parameters
    ----------
    ws : Workspace
        As for :func:`plan_policies`.
    review_period_days : int, default 7
        ``R`` [days].
    fill_rate_range : (float, float), default (0.5, 0.999)
        Fill rates spanned by the levels.
    max_levels : int, default 150
        Most levels per SKU.
    history_days, family, rounding, as_of, seed, crossing_cycles, forecast, error_std
        As for :func:`plan_policies`. With the plan's ``forecast`` (and the
        defaults), every SKU's curve passes through the level
        :func:`plan_policies` chooses for it, and the two share each SKU's
        shortfall and simulated cycles (computed once, whichever comes first).

    Returns
    -------
    pandas.DataFrame
        Long, one row per SKU and level, levels rising: ``sku``,
        ``order_up_to`` [units], ``fill_rate``, ``cycle_service_level``
        (with random lead times from ``crossing_cycles`` simulated cycles: about 0.2 points of noise at 95 %),
        ``avg_on_hand`` [units], ``investment`` [money] (average on hand x
        unit cost), ``demand_mean_per_day`` [units per day] (the weight of
        the SKU in an aggregate fill rate; the forecast's daily mean where it
        gave the demand). SKUs without demand or lead time
        are left out; :func:`plan_policies` reports them in its warnings.
    """
    review = check_integer("review_period_days", review_period_days, minimum=1, why=" [days]")
    low_target = check_probability("fill_rate_range[0]", fill_rate_range[0])
    high_target = check_probability("fill_rate_range[1]", fill_rate_range[1])
    if low_target >= high_target:
        raise DataError(f"fill_rate_range must rise; got {fill_rate_range!r}. Fix: e.g. (0.5, 0.999).")
    max_levels = check_integer("max_levels", max_levels, minimum=2)
    if family not in ("auto",) + FAMILIES:
        raise DataError(f"family must be 'auto' or one of {FAMILIES}; got {family!r}. Fix: pick one.")
    items = getattr(ws, "items", None)
    if items is None or not {"sku", "unit_cost"} <= set(items.columns):
        raise DataError("service_investment_curves needs the items table with sku and unit_cost. Fix: load it.")
    crossing_cycles = check_integer("crossing_cycles", crossing_cycles, minimum=100)
    stats_ = demand_statistics(ws, history_days, as_of)
    lead_times = supplier_lead_times(ws)
    sku_stats = _stats_by_sku(stats_)
    from_forecast = {} if forecast is None else _forecast_daily_moments(forecast, items, lead_times, review, error_std)
    parts = []
    for item in items.itertuples(index=False):
        sku = item.sku
        get = lambda name, default: default if pd.isna(getattr(item, name, default)) else getattr(item, name, default)  # noqa: E731
        supplier = get("supplier", None)
        if supplier in lead_times:
            lt = lead_times[supplier]
        elif not pd.isna(get("lead_time_days", np.nan)):
            lt = float(item.lead_time_days)
        else:
            continue
        st = sku_stats.get(sku)
        if st is None or st["demand_mean_per_day"] <= 0:
            continue
        mu, var, adi = float(st["demand_mean_per_day"]), float(st["demand_variance_per_day"]), st["average_demand_interval"]
        adi = None if pd.isna(adi) else float(adi)
        if sku in from_forecast and from_forecast[sku][0] > 0:  # as plan_policies: else the history's
            mu, var = from_forecast[sku]
        rule = RoundingRule(int(get("moq", 0)), int(get("case_pack", 1))) if rounding else RoundingRule()
        ltd = _rs_evaluators(sku, mu, var, lt, review, family, adi, rule, True, crossing_cycles, seed)
        discrete, ev = ltd.discrete, ltd.ev
        start = float(np.ceil(ltd.mean)) if discrete else ltd.mean
        many = _many(ev, "fill_rate")
        lo = _smallest_meeting(ev.fill_rate, low_target, start - rule.minimum - 1, start, discrete, many)
        hi = _smallest_meeting(ev.fill_rate, high_target, lo, lo + 1, discrete, many)
        if discrete:
            levels = np.arange(lo, hi + 1)
            if levels.size > max_levels:
                levels = np.unique(np.round(np.linspace(lo, hi, max_levels)))
        elif getattr(ev, "offsets", np.zeros(1)).size > 1:  # rounded: whole units apart (S + offsets shared)
            step = max(1.0, float(np.ceil((hi - lo) / (max_levels - 1))))
            levels = lo + step * np.arange(int(np.ceil((hi - lo) / step)) + 1)
        else:
            levels = np.linspace(lo, hi, max_levels)
        if hasattr(ev, "evaluate"):  # crossing shortfall: every level in one call
            fill, csl, on_hand = ev.evaluate(levels)
        else:
            fill = np.array([ev.fill_rate(x) for x in levels])
            csl = np.array([ev.cycle_service_level(x) for x in levels])
            on_hand = np.array([ev.average_on_hand(x) for x in levels])
        parts.append((sku, levels, np.maximum.accumulate(fill), csl, on_hand, on_hand * float(item.unit_cost), mu))
    if not parts:
        raise DataError("service_investment_curves found no SKU with demand and a lead time. Fix: check demand and purchase_orders.")
    sizes = [len(part[1]) for part in parts]
    return pd.DataFrame({  # one frame at the end (one per SKU and a concat cost more than the curves of slow SKUs)
        "sku": pd.Series([part[0] for part in parts]).repeat(sizes).reset_index(drop=True),
        **{name: np.concatenate([np.asarray(part[i], dtype=float) for part in parts])
           for i, name in enumerate(["order_up_to", "fill_rate", "cycle_service_level", "avg_on_hand", "investment"], 1)},
        "demand_mean_per_day": np.repeat([part[6] for part in parts], sizes),
    })
