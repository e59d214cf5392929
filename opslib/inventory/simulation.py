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

Engine: every array is allocated once (``_State``) and updated in place;
receipts sit in a ring buffer of one contiguous ``(skus, paths)`` slab per
day of lead time, touched only on days that hold a receipt; order amounts,
lead times and cycle checks are computed only for the cells that order.
The random numbers are drawn in a fixed order (lead-time uniforms of the day's
orders, then the day's demand per family); with a fixed lead time the uniforms
are skipped by advancing the generator instead of drawn (PCG64).

Parallel blocks: the paths are cut into fixed blocks of about ``2**17`` cells
(SKUs x paths; the layout depends on the problem's shape only, never on the
number of workers), each simulated by the whole day loop with its own stream,
a child of ``np.random.SeedSequence(seed).spawn(blocks)``, and the blocks run
on a thread pool: numpy's generators and ufuncs release the GIL while they fill
large arrays, so the threads run in parallel and a seed gives identical results
whatever ``workers`` is. A problem of a single block (up to ``2**17`` cells)
uses the seed's own stream, exactly as the single-stream engine did.

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

import itertools
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats._distn_infrastructure import rv_continuous_frozen, rv_discrete_frozen

from opslib.errors import DataError
from opslib.inventory._validate import check_integer, check_probability
from opslib.inventory.distributions import _as_demand, _Pmf, _shape_loc_scale

__all__ = ["SimulationResult", "replay_inventory", "simulate_inventory"]

POLICIES = ("(r,Q)", "(R,S)", "(R,s,S)")
UNMET = ("backordered", "lost")
MAX_DEFAULT_WORKERS = 4  # threads when ``workers`` is None: the CPU count, capped


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
    """Draws one day of demand, shape (skus, paths), grouped by family.

    Each family is drawn in one generator call over its SKUs x paths, in a
    fixed order, so a seed gives the same demand whatever the rest of the
    engine does with it.
    """

    def __init__(self, demands: Sequence):
        self.n = len(demands)
        groups: dict[str, list] = {}
        for i, d in enumerate(demands):
            d = _as_demand(d, f"demand[{i}]")
            if isinstance(d, _Pmf):
                key, parsed = "pmf", None
            else:
                parsed = _shape_loc_scale(d)
                key = d.dist.name if d.dist.name in ("poisson", "nbinom", "gamma", "norm") else "other"
                if key != "other" and parsed[1] != 0 and key != "norm":
                    key = "other"
            groups.setdefault(key, []).append((i, d, parsed))
        self.groups = []
        for key, items in groups.items():
            idx = np.array([i for i, _, _ in items])
            ds = [d for _, d, _ in items]
            parsed = [x for _, _, x in items]
            if key == "poisson":  # loc is 0: the mean is the shape parameter
                params = (np.array([float(x[0][0]) for x in parsed])[:, None],)
            elif key == "nbinom":
                params = (np.array([x[0][0] for x in parsed])[:, None], np.array([x[0][1] for x in parsed])[:, None])
            elif key == "gamma":
                params = (np.array([x[0][0] for x in parsed])[:, None], np.array([x[2] for x in parsed])[:, None])
            elif key == "norm":
                params = (np.array([x[1] for x in parsed])[:, None], np.array([x[2] for x in parsed])[:, None])
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
            whole = idx.size == self.n and bool(np.all(idx == np.arange(self.n)))
            self.groups.append((key, idx if not whole else slice(None), params))

    @staticmethod
    def _pmf_index(cum, u):
        """Per row, how many cumulative probabilities lie below ``u``: binary search, ``log2(width)`` gathers.

        The predicate ``cum < u`` is monotone along a row (cumulative
        probabilities rise, the padding is 1 > u), so this equals counting
        it over the whole row.
        """
        width = cum.shape[1]
        k = np.zeros(u.shape, dtype=np.int64)
        step = 1 << (width.bit_length() - 1)
        while step:
            cand = k + step
            inside = cand <= width
            probe = np.take_along_axis(cum, np.minimum(cand, width) - 1, axis=1)
            k = np.where(inside & (probe < u), cand, k)
            step >>= 1
        return k

    def draw(self, rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
        """Fill ``out``, shape (skus, paths of the block), with one day of demand."""
        paths = out.shape[1]
        for key, idx, params in self.groups:
            size = (params[0].shape[0] if key != "other" else len(params[0]), paths)
            # parameters of shape (skus, 1) broadcast over ``size``: element order as with full arrays
            if key == "poisson":
                out[idx] = rng.poisson(params[0], size)
            elif key == "nbinom":
                out[idx] = rng.negative_binomial(params[0], params[1], size)
            elif key == "gamma":
                out[idx] = rng.gamma(params[0], params[1], size)
            elif key == "norm":
                out[idx] = np.maximum(rng.normal(params[0], params[1], size), 0)
            elif key == "pmf":
                values, cum = params
                u = rng.random(size)
                k = self._pmf_index(cum, u)
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


class _State:
    """Arrays of one block of paths, allocated once: shape ``(skus, paths of the block)`` unless noted."""

    def __init__(self, n, paths, horizon, start, single_review):
        self.net = np.repeat(start[:, None], paths, axis=1)
        self.on_order = np.zeros((n, paths))
        self.position = np.empty((n, paths))
        self.pipe = np.zeros((horizon, n, paths))  # ring buffer of receipts, one contiguous slab per day
        self.scheduled = np.zeros(horizon, dtype=bool)  # whether a slab holds any receipt
        self.demand = np.empty((n, paths))
        self.tmp, self.served, self.short = np.empty((n, paths)), np.empty((n, paths)), np.empty((n, paths))
        self.work = np.empty((n, paths))
        self.flag, self.clean = np.empty((n, paths), dtype=bool), np.empty((n, paths), dtype=bool)
        self.received, self.need = np.empty((n, paths), dtype=bool), np.zeros((n, paths), dtype=bool)
        self.stocked_out = np.zeros((n, paths), dtype=bool)
        self.zero_day = np.zeros((n, 1))
        self.all_cells = np.arange(n * paths)
        self.single_review = single_review


# --------------------------------------------------------------------------- engine: blocks of paths


@dataclass(frozen=True)
class _Plan:
    """The validated per-SKU inputs of one simulation, shared read-only by every block of paths."""

    policy: str
    n: int
    total: int
    warmup: int
    replay: bool
    history: np.ndarray | None
    sampler: _DemandSampler | None
    review: np.ndarray
    low: np.ndarray
    top: np.ndarray
    q: np.ndarray | None
    multiple: np.ndarray
    moq: np.ndarray
    h: np.ndarray
    k_cost: np.ndarray
    p_cost: np.ndarray
    lt_table: np.ndarray
    lt_count: np.ndarray
    cal: tuple | None
    horizon: int
    start: np.ndarray
    backorders: bool

    @property
    def fixed_lead(self) -> bool:
        """Every order of a SKU takes the same time (one lead time per SKU, no calendar)."""
        return self.lt_table.shape[1] == 1 and self.cal is None


# Cells (SKUs x paths) per block of paths: the layout depends on the problem's shape only, never on
# the number of workers, so a seed gives the same results however many threads run the blocks.
_BLOCK_CELLS = 1 << 17


def _path_blocks(n: int, paths: int) -> list[tuple[int, int]]:
    """Fixed blocks of paths ``[start, stop)``: about ``_BLOCK_CELLS`` cells each, sizes differing by at most one."""
    count = int(min(paths, max(1, -(-n * paths // _BLOCK_CELLS))))
    edges = np.linspace(0, paths, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def _block_generators(seed, count: int) -> list[np.random.Generator]:
    """One generator per block: the seed's own stream for a single block, else its spawned children.

    For an integer seed the children are those of ``np.random.SeedSequence(seed).spawn(count)``;
    a Generator passed as ``seed`` spawns them from its own seed sequence.
    """
    rng = np.random.default_rng(seed)
    return [rng] if count == 1 else rng.spawn(count)


def _resolve_workers(workers) -> int:
    if workers is None:
        return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))
    return check_integer("workers", workers, minimum=1)


def _simulate_paths(plan: _Plan, paths: int, rng: np.random.Generator) -> dict:
    """The day loop over one block of paths with its own generator: per-path accumulators, shape (skus, paths)."""
    policy, n, total, warmup, replay, history, sampler = (
        plan.policy, plan.n, plan.total, plan.warmup, plan.replay, plan.history, plan.sampler)
    review, low, top, q, multiple, moq = plan.review, plan.low, plan.top, plan.q, plan.multiple, plan.moq
    h, k_cost, p_cost = plan.h, plan.k_cost, plan.p_cost
    lt_table, lt_count, cal, horizon, start = plan.lt_table, plan.lt_count, plan.cal, plan.horizon, plan.start
    backorders, fixed_lead = plan.backorders, plan.fixed_lead
    periodic = policy != "(r,Q)"
    if cal is not None:
        cw, flat, width = cal
    state = _State(n, paths, horizon, start, bool(np.all(review == review[0])))
    acc = {name: np.zeros((n, paths)) for name in
           ("demand", "served", "on_hand", "stockout_days", "orders", "cost", "cycles", "cycles_ok")}
    pcg_advance = getattr(rng.bit_generator, "advance", None) if isinstance(rng.bit_generator, np.random.PCG64) else None
    cal_rows = 1 if cal is None else cw.shape[0]
    sku_of = np.repeat(np.arange(n), paths)
    has_order_cost, has_running_cost = bool(np.any(k_cost)), bool(np.any(h) or np.any(p_cost))
    has_shortage_cost = bool(np.any(p_cost))
    if periodic:  # the day each review's window ends: arrival + R - 1; ring buffer of pending checks
        check_horizon = horizon + int(review.max())
        # with fixed lead times every path of a SKU ends its windows on the same days: one count per SKU
        checks = np.zeros((check_horizon, n, 1 if fixed_lead else paths))
        checks_flat = checks.reshape(check_horizon, -1)
        pending = np.zeros(check_horizon, dtype=bool)
        last_bad = np.full((n, paths), -(10**9), dtype=np.int64)
        window_start = np.empty((n, 1), dtype=np.int64)
        all_reviewed = np.arange(n)

    def arrival_offsets(s_idx, lead, t):
        if cal is None:
            return lead
        row = s_idx if cal_rows > 1 else np.zeros_like(s_idx)
        goal = cw[row, t] + lead + row * (width + 1)
        arrival = np.searchsorted(flat, goal, side="left") - row * width
        return np.where(lead == 0, 0, arrival - t)

    def lead_times(cells, skus_, t):
        """Lead-time offsets [days] for the ordering cells; draws exactly as one ``rng.random`` call."""
        if fixed_lead:
            if pcg_advance is not None:
                pcg_advance(cells.size)  # the uniforms a random draw would consume: one 64-bit step each
            else:
                rng.random(cells.size)
            return lt_table[skus_, 0]
        s_idx = sku_of[cells]
        lead = lt_table[s_idx, (rng.random(cells.size) * lt_count[s_idx]).astype(np.int64)]
        return arrival_offsets(s_idx, lead, t)

    net, on_order, position = state.net, state.on_order, state.position
    net_flat, on_order_flat = net.reshape(-1), on_order.reshape(-1)
    pipe_flat = state.pipe.reshape(horizon, n * paths)
    tmp, served, short = state.tmp, state.served, state.short
    flag, stocked_out, received = state.flag, state.stocked_out, state.received
    for t in range(total):
        measuring = t >= warmup
        slot = t % horizon
        if state.scheduled[slot]:
            arriving = state.pipe[slot]
            np.greater(arriving, 0.0, out=received)
            if received.any():
                net += arriving
                on_order -= arriving
                if measuring and not periodic:
                    acc["cycles"] += received
                    np.logical_not(stocked_out, out=flag)
                    flag &= received
                    acc["cycles_ok"] += flag
                np.logical_not(received, out=flag)
                stocked_out &= flag
            arriving[...] = 0.0
            state.scheduled[slot] = False

        np.add(net, on_order, out=position)
        who = None
        if periodic:
            due_skus = all_reviewed if state.single_review and t % review[0] == 0 else (
                None if state.single_review else np.flatnonzero(t % review == 0))
            if due_skus is not None and due_skus.size:
                need = state.need
                if due_skus.size == n:
                    if policy == "(R,S)":
                        np.less(position, top[:, None], out=need)
                    else:
                        np.less_equal(position, low[:, None], out=need)
                    who_due = state.all_cells
                else:
                    need[...] = False
                    pos = position[due_skus]
                    need[due_skus] = (pos < top[due_skus, None]) if policy == "(R,S)" else (pos <= low[due_skus, None])
                    who_due = (due_skus[:, None] * paths + np.arange(paths)).ravel()
                if fixed_lead:
                    offset_sku = lead_times(who_due, due_skus, t)
                    ends = (t + offset_sku + review[due_skus] - 1) % check_horizon
                    checks[ends, due_skus, 0] += 1.0
                    pending[ends] = True
                    who = np.flatnonzero(need)
                    offset = offset_sku[0] if offset_sku.size == n and np.all(offset_sku == offset_sku[0]) else None
                    if offset is None:
                        offset = lt_table[sku_of[who], 0]
                else:
                    offset_due = lead_times(who_due, None, t)
                    ends = (t + offset_due + review[sku_of[who_due]] - 1) % check_horizon
                    checks_flat[ends, who_due] += 1.0
                    pending[np.unique(ends)] = True
                    ordering = need.reshape(-1)[who_due]
                    who, offset = who_due[ordering], offset_due[ordering]
        else:
            need = state.need
            np.less_equal(position, low[:, None], out=need)
            if need.any():
                who = np.flatnonzero(need)
                offset = lead_times(who, sku_of[who] if fixed_lead else None, t)
        if who is not None and who.size:
            s_idx = sku_of[who]
            if policy == "(r,Q)":
                raw = (np.floor((low[s_idx] - position.reshape(-1)[who]) / q[s_idx]) + 1) * q[s_idx]
            else:
                raw = top[s_idx] - position.reshape(-1)[who]
            amount = np.maximum(moq[s_idx], np.ceil(raw / multiple[s_idx] - 1e-9) * multiple[s_idx])
            if np.ndim(offset) == 0:
                if offset == 0:
                    net_flat[who] += amount
                else:
                    due_slot = (t + int(offset)) % horizon
                    pipe_flat[due_slot, who] += amount
                    state.scheduled[due_slot] = True
                    on_order_flat[who] += amount
            else:
                now = offset == 0
                if now.any():
                    net_flat[who[now]] += amount[now]
                later = ~now
                slots = (t + offset[later]) % horizon
                pipe_flat[slots, who[later]] += amount[later]
                state.scheduled[slots] = True
                on_order_flat[who[later]] += amount[later]
            if measuring:
                acc["orders"] += need
                if has_order_cost:
                    np.multiply(need, k_cost, out=state.work)
                    acc["cost"] += state.work

        if replay:
            d = np.broadcast_to(history[:, t - warmup][:, None] if measuring else state.zero_day, (n, paths))
        else:
            d = sampler.draw(rng, state.demand)
        np.maximum(net, 0.0, out=tmp)
        np.minimum(d, tmp, out=served)
        np.subtract(d, served, out=short)
        if backorders:
            net -= d
            np.less(net, 0.0, out=flag)
        else:
            net -= served
            np.greater(short, 0.0, out=flag)
        stocked_out |= flag
        if periodic:
            np.copyto(last_bad, t, where=flag)
            cslot = t % check_horizon
            if pending[cslot]:
                ending = checks[cslot]
                if measuring:
                    acc["cycles"] += ending
                    np.subtract(t + 1, review[:, None], out=window_start)
                    np.less(last_bad, window_start, out=state.clean)
                    np.multiply(ending, state.clean, out=tmp)
                    acc["cycles_ok"] += tmp
                ending[...] = 0.0
                pending[cslot] = False
        if measuring:
            np.maximum(net, 0.0, out=tmp)
            acc["demand"] += d
            acc["served"] += served
            acc["on_hand"] += tmp
            if backorders:
                np.greater(short, 0.0, out=flag)
            acc["stockout_days"] += flag
            if has_shortage_cost:
                acc["cost"] += h * tmp + p_cost * short
            elif has_running_cost:  # h * on_hand + 0 * short is h * on_hand exactly
                np.multiply(tmp, h, out=state.work)
                acc["cost"] += state.work
    return acc


# --------------------------------------------------------------------------- public entry points


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
    workers: int | None = None,
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
        With several blocks of paths, each block draws from a child stream
        spawned from it (see the module notes).
    workers : int, optional
        Threads running the blocks of paths; default the CPU count, at most
        ``MAX_DEFAULT_WORKERS`` (4); 1 runs them one after another. Results do
        not depend on it.

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
    workers = _resolve_workers(workers)

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
        history = None
        sampler = _DemandSampler(demand)

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
        horizon = max_lead + int(np.asarray(supplier_shutdown, dtype=bool).reshape(-1, total).sum(1).max()) + 2

    start = _per_sku("initial_on_hand", initial_on_hand, n, default=top)
    plan = _Plan(
        policy=policy, n=n, total=total, warmup=warmup, replay=replay, history=history, sampler=sampler,
        review=review, low=low, top=top, q=q if policy == "(r,Q)" else None, multiple=multiple, moq=moq, h=h,
        k_cost=k_cost, p_cost=p_cost, lt_table=lt_table, lt_count=lt_count, cal=cal, horizon=horizon, start=start,
        backorders=unmet_demand == "backordered",
    )
    blocks = _path_blocks(n, paths)
    streams = _block_generators(seed, len(blocks))
    jobs = [(stop - begin, rng) for (begin, stop), rng in zip(blocks, streams)]
    if workers == 1 or len(jobs) == 1:
        parts = [_simulate_paths(plan, size, rng) for size, rng in jobs]
    else:  # numpy releases the GIL in its generators and ufuncs: the blocks' day loops run in parallel
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            parts = list(pool.map(lambda job: _simulate_paths(plan, *job), jobs))
    acc = parts[0] if len(parts) == 1 else {name: np.concatenate([p[name] for p in parts], axis=1) for name in parts[0]}
    acc["days"] = float(days)
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
