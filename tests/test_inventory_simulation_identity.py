"""The optimized simulation engine against the previous engine: bit for bit on one block, in distribution on several.

``reference_simulate_inventory`` below is the day loop of ``opslib/inventory/simulation.py`` as it was at
commit ba0d4b2 (before ring buffers, preallocated arrays, skipped work and parallel blocks of paths), kept
verbatim as the independent second method. A problem of one block of paths (up to ``2**17`` SKU x path cells)
draws from the seed's own stream as the previous engine did: every per-path measure must be *identical* (not
close) across policies, demand families, random and fixed lead times, shutdown calendars, lost sales, MOQ and
multiples, costs and replay. With several blocks each block draws from its own child stream, so the results
are other draws of the same model: the per-SKU means must agree within Monte Carlo error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from scipy import stats
from scipy.stats._distn_infrastructure import rv_continuous_frozen, rv_discrete_frozen

from opslib.errors import DataError
import opslib.inventory.simulation as sim
from opslib.inventory import simulate_inventory
from opslib.inventory._validate import check_integer, check_probability
from opslib.inventory.distributions import _as_demand, _Pmf, _shape_loc_scale
from opslib.inventory.simulation import (
    POLICIES,
    UNMET,
    SimulationResult,
    _calendar,
    _lead_time_table,
    _per_sku,
    _summarise,
)


class _ReferenceSampler:
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



def reference_simulate_inventory(
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
    """The engine as it was before the speed-up (commit ba0d4b2), verbatim."""
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
        sampler = _ReferenceSampler(demand, paths)

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



# --------------------------------------------------------------------------- cases

MIXED = [stats.poisson(2.5), stats.nbinom(1.2, 0.3), {0: 0.7, 2: 0.2, 7: 0.1}, stats.gamma(2.0, scale=1.5),
         stats.norm(6, 2), stats.poisson(0.3), stats.uniform(0, 4)]
SHUT = np.zeros(400, dtype=bool)
SHUT[[5, 6, 12, 40, 41, 42, 43, 100]] = True

CASES = {
    "RsS daily review, lead 0, costs": ("(R,s,S)", [stats.poisson(m) for m in (1, 7, 30, 90)], 0, dict(
        reorder_point=[2, 15, 60, 200], order_up_to=[10, 40, 120, 400], review_period_days=1,
        holding_cost_per_unit_day=1.0, order_cost=64.0, shortage_cost_per_unit=[0, 1, 2, 3])),
    "RS mixed families, random leads cross": ("(R,S)", MIXED, [np.array([3, 5, 9, 14])] * 7, dict(
        order_up_to=[40, 30, 20, 25, 90, 8, 30], review_period_days=7, minimum_order_quantity=[0, 5, 0, 0, 10, 0, 0],
        order_multiple=[1, 1, 3, 1, 6, 1, 1])),
    "RS mixed review periods, fixed leads per SKU": ("(R,S)", MIXED, [2, 0, 5, 3, 7, 1, 4], dict(
        order_up_to=[30, 30, 20, 25, 90, 8, 30], review_period_days=[1, 7, 3, 5, 7, 2, 14])),
    "RS lost sales, shutdown calendar": ("(R,S)", MIXED, [np.array([3, 5, 9])] * 7, dict(
        order_up_to=[30, 30, 20, 25, 90, 8, 30], review_period_days=5, unmet_demand="lost", warmup_days=40,
        days=360, supplier_shutdown=SHUT, shortage_cost_per_unit=2.0, holding_cost_per_unit_day=0.1)),
    "rQ random leads, MOQ": ("(r,Q)", MIXED, [np.array([2, 4, 11])] * 7, dict(
        reorder_point=[12, 10, 6, 8, 40, 1, 9], order_quantity=[10, 12, 8, 9, 30, 3, 7],
        minimum_order_quantity=[0, 20, 0, 0, 0, 5, 0], order_multiple=[1, 1, 2, 1, 5, 1, 1], order_cost=5.0)),
    "rQ fixed lead, lost sales": ("(r,Q)", MIXED, 4, dict(
        reorder_point=[12, 10, 6, 8, 40, 1, 9], order_quantity=[10, 12, 8, 9, 30, 3, 7], unmet_demand="lost")),
    "RsS random leads, calendar per SKU": ("(R,s,S)", MIXED[:3], [np.array([1, 6]), np.array([4]), np.array([2, 2, 9])],
                                           dict(reorder_point=[5, 3, 4], order_up_to=[20, 15, 18],
                                                review_period_days=[2, 7, 1], warmup_days=40, days=360,
                                                supplier_shutdown=np.stack([SHUT, np.roll(SHUT, 3), ~np.ones(400, bool)]))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_identical_to_previous_engine(name):
    policy, demand, lead, kwargs = CASES[name]
    kwargs = dict(dict(days=300, paths=6, seed=11), **kwargs)
    assert len(sim._path_blocks(len(demand), kwargs["paths"])) == 1  # one block: the seed's own stream
    new = simulate_inventory(policy, demand, lead, **kwargs)
    old = reference_simulate_inventory(policy, demand, lead, **kwargs)
    assert new.warmup_days == old.warmup_days
    for measure, values in old.per_path.items():
        np.testing.assert_array_equal(new.per_path[measure], values, err_msg=measure)
    assert new.table.equals(old.table)
    # and the case is not trivial: stock-outs, orders and cycles happen
    assert np.nanmin(new.table.fill_rate) < 1 and new.table.orders.min() > 0


def test_identical_replay_and_generator_without_advance():
    rng_hist = np.random.default_rng(0)
    history = rng_hist.poisson([[1.0], [4.0], [0.2]], size=(3, 200)).astype(float)
    kwargs = dict(order_up_to=[8, 30, 3], review_period_days=3, paths=4, seed=5)
    new = simulate_inventory("(R,S)", history, [np.array([2, 6])] * 3, **kwargs)
    old = reference_simulate_inventory("(R,S)", history, [np.array([2, 6])] * 3, **kwargs)
    for measure, values in old.per_path.items():
        np.testing.assert_array_equal(new.per_path[measure], values, err_msg=measure)
    # a generator whose bit generator cannot jump ahead: the uniforms are drawn instead of skipped
    kw = dict(reorder_point=[3, 9], order_up_to=[10, 30], review_period_days=1, days=200, paths=5)
    new = simulate_inventory("(R,s,S)", [stats.poisson(2), stats.poisson(8)], 2,
                             seed=np.random.Generator(np.random.MT19937(3)), **kw)
    old = reference_simulate_inventory("(R,s,S)", [stats.poisson(2), stats.poisson(8)], 2,
                                       seed=np.random.Generator(np.random.MT19937(3)), **kw)
    np.testing.assert_array_equal(new.per_path["fill_rate"], old.per_path["fill_rate"])
    np.testing.assert_array_equal(new.per_path["cost_per_day"], old.per_path["cost_per_day"])


# --------------------------------------------------------------------------- several blocks: same distribution

STAT_CASES = {
    "RS mixed families, random leads cross": CASES["RS mixed families, random leads cross"],
    "rQ fixed lead, lost sales": CASES["rQ fixed lead, lost sales"],
}


def _z_scores(new, old, measure):
    """Per SKU, the difference of the path means in standard errors (independent paths on both sides)."""
    a, b = new.per_path[measure], old.per_path[measure]
    se = np.sqrt(a.var(axis=1, ddof=1) / a.shape[1] + b.var(axis=1, ddof=1) / b.shape[1])
    diff = a.mean(axis=1) - b.mean(axis=1)
    # no spread on either side (an order at every weekly review): the means must be equal
    return np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.inf))


@pytest.mark.parametrize("name", list(STAT_CASES))
def test_blocked_engine_agrees_with_previous_engine_in_distribution(name, monkeypatch):
    monkeypatch.setattr(sim, "_BLOCK_CELLS", 200)  # 7 SKUs x 240 paths -> 9 blocks, on 2 threads
    policy, demand, lead, kwargs = STAT_CASES[name]
    kwargs = dict(dict(days=365, paths=240, seed=13), **kwargs)
    assert len(sim._path_blocks(len(demand), kwargs["paths"])) == 9
    new = simulate_inventory(policy, demand, lead, workers=2, **kwargs)
    old = reference_simulate_inventory(policy, demand, lead, **kwargs)
    assert not np.array_equal(new.per_path["avg_on_hand"], old.per_path["avg_on_hand"])  # other streams
    for measure in ("fill_rate", "avg_on_hand", "cycle_service_level", "orders"):
        z = _z_scores(new, old, measure)
        assert np.all(np.abs(z) < 4), (measure, z)
    # the check has power: three more units of stock are seen at once
    shifted = dict(kwargs)
    key = "order_up_to" if policy != "(r,Q)" else "reorder_point"
    shifted[key] = np.asarray(kwargs[key]) + 3
    moved = reference_simulate_inventory(policy, demand, lead, **shifted)
    assert np.all(np.abs(_z_scores(new, moved, "avg_on_hand")) > 4)
