"""Vectorized Monte Carlo of inventory policies over SKUs x paths x days.

State is held in numpy arrays of shape ``(skus, paths)``; the only Python loop
is over days. One call simulates one policy family for every SKU:

- ``"(r,Q)"``: continuous review checked daily; when the inventory position is
  at or below ``r``, order the smallest multiple of ``Q`` that lifts it above ``r``;
- ``"(R,S)"``: every ``R`` days raise the inventory position to ``S``;
- ``"(R,s,S)"``: every ``R`` days, if the position is at or below ``s``, raise it to ``S``.

Orders are rounded up to the order multiple and to at least the MOQ. Each
order draws its own lead time [supplier working days] from the SKU's lead-time
samples, so orders can cross; lead times do not run on supplier shutdown days.
Unmet demand is backordered or lost.

Timing of a day ``t`` (the periodic-review convention of the analytical
formulas, protection over ``R + L`` days): receipts due on ``t`` arrive; the
policy reviews and orders (an order with lead time ``L`` arrives at the start
of day ``t + L``); demand of day ``t`` is served from stock.

Measures, per SKU, averaged over paths with a confidence interval:

- ``fill_rate``: units served from stock on the day demanded / units demanded;
- ``cycle_service_level``: fraction of replenishment cycles with no stock-out
  (a day ending with backorders, or a lost sale). For (r,Q) a cycle runs from
  receipt to receipt; for the periodic policies it is the ``R`` days the review
  is meant to cover, from the arrival its order would have (own lead-time draw)
  to the day before the next one, ordered or not: the cycle of ``F_{R+L}(S)``;
- ``avg_on_hand`` [units], end of day; ``stockout_days`` [days per path]: days
  with demand not served from stock; ``orders`` [orders per path];
  ``cost_per_day`` [money per day]: holding + ordering + shortage cost.

References
----------
.. [1] Axsäter, S. (2015). *Inventory Control*, 3rd ed. Springer. Sec. 5.3
   (periodic-review timing, protection over R + L).
.. [2] Law, A. M. (2015). *Simulation Modeling and Analysis*, 5th ed.
   McGraw-Hill. Ch. 9 (confidence intervals across independent replications).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats._distn_infrastructure import rv_continuous_frozen, rv_discrete_frozen

from opslib.errors import DataError
from opslib.inventory._validate import check_integer, check_probability
from opslib.inventory.distributions import _as_demand, _Pmf, _shape_loc_scale

__all__ = ["SimulationResult", "simulate_inventory", "replay_inventory"]

POLICIES = ("(r,Q)", "(R,S)", "(R,s,S)")
UNMET = ("backordered", "lost")


# --------------------------------------------------------------------------- inputs


def _per_sku(name, value, n, *, default=None, integer=False, minimum=None):
    if value is None:
        if default is None:
            raise DataError(f"{name} is required for this policy; got None. Fix: pass one value per SKU or a scalar.")
        value = default
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise DataError(f"{name} must be a scalar or one value per SKU ({n}); got shape {arr.shape}. Fix: align it with the SKUs.")
    if np.any(~np.isfinite(arr)):
        raise DataError(f"{name} must be finite; got {arr[~np.isfinite(arr)][:5].tolist()!r}. Fix: fill the missing values.")
    if minimum is not None and np.any(arr < minimum):
        bad = np.flatnonzero(arr < minimum)[:5]
        raise DataError(f"{name} must be >= {minimum}; got {arr[bad].tolist()!r} at SKUs {bad.tolist()}. Fix: correct them.")
    if integer and np.any(arr != np.round(arr)):
        raise DataError(f"{name} must be whole numbers; got {arr[arr != np.round(arr)][:5].tolist()!r}. Fix: round them.")
    return arr


class _DemandSampler:
    """Draws one day of demand, shape (skus, paths), grouped by family."""

    def __init__(self, demands: Sequence, paths: int):
        self.n, self.paths = len(demands), paths
        groups: dict[str, list] = {}
        for i, d in enumerate(demands):
            d = _as_demand(d, f"demand[{i}]")
            if isinstance(d, _Pmf):
                key = "pmf"
            else:
                key = d.dist.name if d.dist.name in ("poisson", "nbinom", "gamma", "norm") else "other"
                if key != "other" and _shape_loc_scale(d)[1] != 0 and key != "norm":
                    key = "other"
            groups.setdefault(key, []).append((i, d))
        self.groups = []
        for key, items in groups.items():
            idx = np.array([i for i, _ in items])
            ds = [d for _, d in items]
            if key == "poisson":
                params = (np.array([d.mean() for d in ds])[:, None],)
            elif key == "nbinom":
                params = (np.array([_shape_loc_scale(d)[0][0] for d in ds])[:, None],
                          np.array([_shape_loc_scale(d)[0][1] for d in ds])[:, None])
            elif key == "gamma":
                params = (np.array([_shape_loc_scale(d)[0][0] for d in ds])[:, None],
                          np.array([_shape_loc_scale(d)[2] for d in ds])[:, None])
            elif key == "norm":
                params = (np.array([_shape_loc_scale(d)[1] for d in ds])[:, None],
                          np.array([_shape_loc_scale(d)[2] for d in ds])[:, None])
            elif key == "pmf":
                width = max(d.values.size for d in ds)
                values = np.zeros((len(ds), width))
                cum = np.ones((len(ds), width))
                for j, d in enumerate(ds):
                    values[j, : d.values.size] = d.values
                    values[j, d.values.size :] = d.values[-1]
                    cum[j, : d.values.size] = np.cumsum(d.probs)
                cum[:, -1] = 1.0
                params = (values, cum)
            else:
                params = (ds,)
            self.groups.append((key, idx, params))

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        out = np.empty((self.n, self.paths))
        size = None
        for key, idx, params in self.groups:
            size = (idx.size, self.paths)
            if key == "poisson":
                out[idx] = rng.poisson(np.broadcast_to(params[0], size))
            elif key == "nbinom":
                out[idx] = rng.negative_binomial(np.broadcast_to(params[0], size), np.broadcast_to(params[1], size))
            elif key == "gamma":
                out[idx] = rng.gamma(np.broadcast_to(params[0], size), np.broadcast_to(params[1], size))
            elif key == "norm":
                out[idx] = np.maximum(rng.normal(np.broadcast_to(params[0], size), np.broadcast_to(params[1], size)), 0)
            elif key == "pmf":
                values, cum = params
                u = rng.random(size)
                k = (cum[:, None, :] < u[:, :, None]).sum(axis=2)
                out[idx] = np.take_along_axis(values, np.minimum(k, values.shape[1] - 1), axis=1)
            else:
                u = rng.random(size)
                out[idx] = np.stack([d.ppf(u[j]) for j, d in enumerate(params[0])])
        return out


def _lead_time_table(lead_time_days, n):
    """Padded per-SKU lead-time samples [days] and how many each SKU has."""
    if np.isscalar(lead_time_days) or (isinstance(lead_time_days, np.ndarray) and lead_time_days.ndim <= 1):
        fixed = _per_sku("lead_time_days", lead_time_days, n, minimum=0, integer=True)
        return fixed[:, None].astype(np.int64), np.ones(n, dtype=np.int64)
    samples = list(lead_time_days)
    if len(samples) != n:
        raise DataError(f"lead_time_days must give one sample array per SKU ({n}); got {len(samples)}. Fix: align it with the SKUs.")
    arrays = []
    for i, s in enumerate(samples):
        a = np.atleast_1d(np.asarray(s, dtype=float))
        if a.size == 0 or np.any(~np.isfinite(a)) or np.any(a < 0) or np.any(a != np.round(a)):
            raise DataError(
                f"lead_time_days[{i}] must be non-empty whole days >= 0; got {a[:5].tolist()!r}. Fix: drop missing "
                "samples and round lead times to days."
            )
        arrays.append(a.astype(np.int64))
    width = max(a.size for a in arrays)
    table = np.zeros((n, width), dtype=np.int64)
    for i, a in enumerate(arrays):
        table[i, : a.size] = a
        table[i, a.size :] = a[-1]
    return table, np.array([a.size for a in arrays], dtype=np.int64)


def _calendar(supplier_shutdown, n, total_days, max_lead):
    """Per-SKU cumulative working-day counts, flattened for a single searchsorted."""
    if supplier_shutdown is None:
        return None
    shut = np.asarray(supplier_shutdown, dtype=bool)
    if shut.ndim == 1:
        shut = shut[None, :]
    if shut.shape[1] != total_days or shut.shape[0] not in (1, n):
        raise DataError(
            f"supplier_shutdown must have one flag per simulated day ({total_days}, warm-up included), for all SKUs "
            f"or per SKU ({n} rows); got shape {shut.shape}. Fix: pass a boolean array over the whole horizon."
        )
    extra = max_lead + int(shut.sum(axis=1).max()) + 2
    ext = np.concatenate([shut, np.zeros((shut.shape[0], extra), dtype=bool)], axis=1)
    width = ext.shape[1]
    cw = np.cumsum(~ext, axis=1)  # working days in [0, t]
    flat = (cw + np.arange(shut.shape[0])[:, None] * (width + 1)).ravel()
    return cw, flat, width


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class SimulationResult:
    """Per-SKU results of :func:`simulate_inventory`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per SKU: ``fill_rate``, ``cycle_service_level``,
        ``avg_on_hand`` [units], ``stockout_days`` [days per path],
        ``orders`` [orders per path], ``cost_per_day`` [money per day],
        ``demand_per_day`` [units per day], each with a ``_ci`` column (the
        half-width of the confidence interval across paths), and ``policy``,
        ``unmet_demand``.
    per_path : dict of numpy.ndarray
        The same measures per SKU and path, shape ``(skus, paths)``.
    days, paths, warmup_days : int
    """

    table: pd.DataFrame
    per_path: dict
    days: int
    paths: int
    warmup_days: int


def _summarise(index, policy, unmet, acc, paths, confidence):
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    demand, served = acc["demand"], acc["served"]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_path = {
            "fill_rate": np.where(demand > 0, served / demand, np.nan),
            "cycle_service_level": np.where(acc["cycles"] > 0, acc["cycles_ok"] / acc["cycles"], np.nan),
            "avg_on_hand": acc["on_hand"] / acc["days"],
            "stockout_days": acc["stockout_days"],
            "orders": acc["orders"],
            "cost_per_day": acc["cost"] / acc["days"],
            "demand_per_day": demand / acc["days"],
        }
        pooled = {
            "fill_rate": served.sum(1) / demand.sum(1),
            "cycle_service_level": acc["cycles_ok"].sum(1) / acc["cycles"].sum(1),
        }
    cols = {"policy": policy, "unmet_demand": unmet}
    for name, values in per_path.items():
        point = pooled.get(name)
        if point is None:
            point = values.mean(axis=1)
        sd = np.nanstd(values, axis=1, ddof=1) if paths > 1 else np.full(values.shape[0], np.nan)
        cols[name] = point
        cols[f"{name}_ci"] = z * sd / np.sqrt(np.maximum((~np.isnan(values)).sum(1), 1))
    return pd.DataFrame(cols, index=pd.Index(index, name="sku")), per_path


# --------------------------------------------------------------------------- engine


def simulate_inventory(
    policy: str,
    demand,
    lead_time_days,
    *,
    reorder_point=None,
    order_quantity=None,
    order_up_to=None,
    review_period_days=1,
    minimum_order_quantity=0,
    order_multiple=1,
    unmet_demand: str = "backordered",
    days: int = 365,
    paths: int = 100,
    warmup_days: int | None = None,
    supplier_shutdown=None,
    initial_on_hand=None,
    holding_cost_per_unit_day=0.0,
    order_cost=0.0,
    shortage_cost_per_unit=0.0,
    skus=None,
    confidence: float = 0.95,
    seed=None,
) -> SimulationResult:
    """Simulate one policy family for many SKUs, vectorized over SKUs and paths.

    Parameters
    ----------
    policy : {"(r,Q)", "(R,S)", "(R,s,S)"}
    demand : sequence of demand distributions, or array_like of shape (skus, days)
        Daily demand per SKU [units per day]: frozen scipy.stats distributions
        or pmf dicts (Poisson, negative binomial, gamma and normal are drawn
        in one vectorized call per family; normal draws below zero are set to
        zero), or an actual demand history (replay; the same on every path).
    lead_time_days : int, array of ints per SKU, or sequence of per-SKU sample arrays
        Fixed lead times, or observed lead times each order draws from
        [supplier working days].
    reorder_point, order_quantity, order_up_to : float or array per SKU
        ``r`` and ``Q`` for (r,Q); ``S`` for (R,S); ``s`` (as ``reorder_point``)
        and ``S`` for (R,s,S) [units].
    review_period_days : int or array per SKU, default 1
        ``R`` [days] for the periodic policies.
    minimum_order_quantity, order_multiple : int or array per SKU
        MOQ and the multiple every order is rounded up to [units] (case pack).
    unmet_demand : {"backordered", "lost"}
    days : int, default 365
        Measured days (after the warm-up); ignored in replay (the history's length).
    paths : int, default 100
        Independent replications.
    warmup_days : int, optional
        Days simulated before measuring; default enough for the pipeline to
        fill (longest lead time + 3 review periods + 10); 0 in replay.
    supplier_shutdown : array of bool, optional
        Days the supplier does not work (lead times skip them), shape
        ``(warmup_days + days,)`` or per SKU ``(skus, warmup_days + days)``.
    initial_on_hand : float or array per SKU, optional
        Default: the policy's top level (``S``, or ``r + Q``).
    holding_cost_per_unit_day, order_cost, shortage_cost_per_unit : float or array per SKU
        [money per unit per day], [money per order], [money per unit short].
    skus : sequence, optional
        SKU labels for the result's index.
    confidence : float, default 0.95
        Of the intervals (normal approximation across paths).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    SimulationResult
    """
    if policy not in POLICIES:
        raise DataError(f"policy must be one of {POLICIES}; got {policy!r}. Fix: pick one of those.")
    if unmet_demand not in UNMET:
        raise DataError(f"unmet_demand must be one of {UNMET}; got {unmet_demand!r}. Fix: pick one of those.")
    confidence = check_probability("confidence", confidence)
    paths = check_integer("paths", paths, minimum=1)
    rng = np.random.default_rng(seed)

    replay = not (isinstance(demand, Sequence) and not isinstance(demand, np.ndarray) and len(demand) > 0
                  and isinstance(demand[0], (Mapping, rv_continuous_frozen, rv_discrete_frozen)))
    if replay:
        history = np.asarray(demand, dtype=float)
        if history.ndim != 2 or np.any(~np.isfinite(history)) or np.any(history < 0):
            raise DataError(
                "demand must be a sequence of distributions, or a demand history of shape (skus, days) with finite "
                f"units >= 0; got an array of shape {history.shape}. Fix: fill missing days with 0."
            )
        n = history.shape[0]
        days = history.shape[1]
        warmup = 0 if warmup_days is None else check_integer("warmup_days", warmup_days, minimum=0)
        sampler = None
    else:
        n = len(demand)
        days = check_integer("days", days, minimum=1)
        sampler = _DemandSampler(demand, paths)

    review = _per_sku("review_period_days", review_period_days, n, minimum=1, integer=True).astype(np.int64)
    if policy == "(r,Q)":
        low = _per_sku("reorder_point", reorder_point, n)
        q = _per_sku("order_quantity", order_quantity, n, minimum=1e-12)
        top = low + q
        review = np.ones(n, dtype=np.int64)
    elif policy == "(R,S)":
        top = _per_sku("order_up_to", order_up_to, n)
        low = top  # order when IP < S
    else:
        top = _per_sku("order_up_to", order_up_to, n)
        low = _per_sku("reorder_point", reorder_point, n)
        if np.any(low >= top):
            raise DataError("reorder_point must be below order_up_to for (R,s,S). Fix: check s < S per SKU.")
    multiple = _per_sku("order_multiple", order_multiple, n, minimum=1, integer=True)
    moq = _per_sku("minimum_order_quantity", minimum_order_quantity, n, minimum=0, integer=True)
    moq = np.maximum(multiple, np.ceil(moq / multiple) * multiple)
    h = _per_sku("holding_cost_per_unit_day", holding_cost_per_unit_day, n, minimum=0)[:, None]
    k_cost = _per_sku("order_cost", order_cost, n, minimum=0)[:, None]
    p_cost = _per_sku("shortage_cost_per_unit", shortage_cost_per_unit, n, minimum=0)[:, None]

    lt_table, lt_count = _lead_time_table(lead_time_days, n)
    max_lead = int(lt_table.max())
    if not replay:
        warmup = (
            int(max_lead + 3 * review.max() + 10)
            if warmup_days is None
            else check_integer("warmup_days", warmup_days, minimum=0)
        )
    total = warmup + days
    cal = _calendar(supplier_shutdown, n, total, max_lead)
    if cal is None:
        horizon = max_lead + 1
    else:
        cw, flat, width = cal
        horizon = max_lead + int(np.asarray(supplier_shutdown, dtype=bool).reshape(-1, total).sum(1).max()) + 2

    start = _per_sku("initial_on_hand", initial_on_hand, n, default=top)
    net = np.repeat(start[:, None], paths, axis=1)
    on_order = np.zeros((n, paths))
    pipe = np.zeros((n * paths, horizon))
    flat_ij = np.arange(n * paths)
    sku_of = np.repeat(np.arange(n), paths)
    low_c, top_c = low[:, None], top[:, None]
    q_c = q[:, None] if policy == "(r,Q)" else None
    mult_c, moq_c = multiple[:, None], moq[:, None]
    backorders = unmet_demand == "backordered"
    cal_rows = 1 if cal is None else cw.shape[0]

    acc = {name: np.zeros((n, paths)) for name in
           ("demand", "served", "on_hand", "stockout_days", "orders", "cost", "cycles", "cycles_ok")}
    acc["days"] = float(days)
    stocked_out = np.zeros((n, paths), dtype=bool)

    periodic = policy != "(r,Q)"
    review_c = review[:, None]
    if periodic:  # the day each review's window ends: arrival + R - 1; ring buffer of pending checks
        check_horizon = horizon + int(review.max())
        checks = np.zeros((n * paths, check_horizon))
        last_bad = np.full((n, paths), -(10**9), dtype=np.int64)

    def arrival_offsets(s_idx, lead, t):
        if cal is None:
            return lead
        row = s_idx if cal_rows > 1 else np.zeros_like(s_idx)
        goal = cw[row, t] + lead + row * (width + 1)
        arrival = np.searchsorted(flat, goal, side="left") - row * width
        return np.where(lead == 0, 0, arrival - t)

    for t in range(total):
        measuring = t >= warmup
        slot = t % horizon
        arriving = pipe[:, slot].reshape(n, paths)
        received = arriving > 0
        if received.any():
            net += arriving
            on_order -= arriving
            pipe[:, slot] = 0.0
            if measuring and not periodic:
                acc["cycles"] += received
                acc["cycles_ok"] += received & ~stocked_out
            stocked_out &= ~received

        position = net + on_order
        if periodic:
            due = np.broadcast_to((t % review == 0)[:, None], (n, paths))
            if due.any():
                need = due & ((position < top_c) if policy == "(R,S)" else (position <= low_c))
                qty = np.where(need, top_c - position, 0.0)
                who_due = np.flatnonzero(due.ravel())
                s_due = sku_of[who_due]
                lead_due = lt_table[s_due, (rng.random(who_due.size) * lt_count[s_due]).astype(np.int64)]
                offset_due = arrival_offsets(s_due, lead_due, t)
                checks[who_due, (t + offset_due + review[s_due] - 1) % check_horizon] += 1
                ordering = need.ravel()[who_due]
                who, offset = who_due[ordering], offset_due[ordering]
            else:
                need = None
        else:
            need = position <= low_c
            qty = np.where(need, (np.floor((low_c - position) / q_c) + 1) * q_c, 0.0)
            if need.any():
                who = np.flatnonzero(need.ravel())
                s_idx = sku_of[who]
                lead = lt_table[s_idx, (rng.random(who.size) * lt_count[s_idx]).astype(np.int64)]
                offset = arrival_offsets(s_idx, lead, t)
            else:
                need = None
        if need is not None and who.size:
            qty = np.maximum(moq_c, np.ceil(qty / mult_c - 1e-9) * mult_c)
            amount = qty.ravel()[who]
            now = offset == 0
            if now.any():
                net.ravel()[who[now]] += amount[now]
            later = ~now
            pipe[flat_ij[who[later]], (t + offset[later]) % horizon] += amount[later]
            on_order.ravel()[who[later]] += amount[later]
            if measuring:
                acc["orders"] += need
                acc["cost"] += need * k_cost

        d = history[:, t - warmup][:, None] if (replay and measuring) else (
            np.zeros((n, 1)) if replay else sampler.draw(rng))
        if replay:
            d = np.broadcast_to(d, (n, paths))
        served = np.minimum(d, np.maximum(net, 0.0))
        short = d - served
        net -= d if backorders else served
        out = (net < 0) if backorders else (short > 0)
        stocked_out |= out
        if periodic:
            last_bad[out] = t
            cslot = t % check_horizon
            ending = checks[:, cslot].reshape(n, paths)
            if measuring and ending.any():
                acc["cycles"] += ending
                acc["cycles_ok"] += ending * (last_bad < t - review_c + 1)
            checks[:, cslot] = 0.0
        if measuring:
            on_hand = np.maximum(net, 0.0)
            acc["demand"] += d
            acc["served"] += served
            acc["on_hand"] += on_hand
            acc["stockout_days"] += short > 0
            acc["cost"] += h * on_hand + p_cost * short

    index = list(skus) if skus is not None else list(range(n))
    table, per_path = _summarise(index, policy, unmet_demand, acc, paths, confidence)
    return SimulationResult(table, per_path, days, paths, warmup)


def replay_inventory(policy: str, demand_history, lead_time_days, **kwargs) -> SimulationResult:
    """Run a policy over an actual demand history (skus x days), one path per lead-time draw.

    Parameters are those of :func:`simulate_inventory`; ``demand_history`` is
    an array of daily units, shape ``(skus, days)``, or a DataFrame with SKUs
    as rows and days as columns (its index labels the result). With random
    lead times pass ``paths`` > 1 to average over lead-time draws.
    """
    if isinstance(demand_history, pd.DataFrame):
        kwargs.setdefault("skus", list(demand_history.index))
        demand_history = demand_history.to_numpy(dtype=float)
    kwargs.setdefault("paths", 1)
    return simulate_inventory(policy, np.asarray(demand_history, dtype=float), lead_time_days, **kwargs)
