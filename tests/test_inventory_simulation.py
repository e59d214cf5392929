"""Vectorized simulation: a hand-traced replay, agreement with the exact service formulas, lost sales vs backorders.

The analytical references: Axsäter (2015), *Inventory Control*, Sec. 5.3 ((R,S) fill rate
1 - [n_{R+L}(S) - n_L(S)]/(R mu), cycle service level F_{R+L}(S)); Zipkin (2000), *Foundations of Inventory
Management*, Sec. 6.2-6.7 ((r,Q) fill rate (1/Q) int_r^{r+Q} F_L).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

import opslib.inventory as inv
import opslib.inventory.simulation as sim
from opslib.errors import DataError

DEMAND = [[4, 3, 5, 2, 6, 1, 0, 3, 4, 2]]


def test_hand_traced_ten_days_backorders():
    # (R,S) R=3, L=2, S=10, start with 10 on hand. Traced by hand:
    # t0 IP 10 no order, sell 4 -> 6 | t1 -> 3 | t2 demand 5: serve 3, net -2 | t3 order 12 (IP -2), net -4
    # t4 net -10 | t5 receive 12 -> 2, cycle 1 had a stock-out, sell 1 -> 1 | t6 order 9 (IP 1), no demand
    # t7 demand 3: serve 1, net -2 | t8 receive 9 -> 7, cycle 2 had a stock-out, sell 4 -> 3 | t9 order 7, sell 2 -> 1
    res = inv.replay_inventory(
        "(R,S)", DEMAND, 2, order_up_to=10, review_period_days=3,
        holding_cost_per_unit_day=0.1, order_cost=5, shortage_cost_per_unit=1,
    )
    row = res.table.iloc[0]
    assert row.fill_rate == pytest.approx(18 / 30)
    assert row.stockout_days == 4 and row.orders == 3
    assert row.cycle_service_level == 0.0
    assert row.avg_on_hand == pytest.approx(1.5)
    assert row.cost_per_day == pytest.approx((0.1 * 15 + 5 * 3 + 1 * 12) / 10)


def test_hand_traced_ten_days_lost_sales():
    # Same, sales lost: t2 serve 3 (lose 2), t3 order 10 (IP 0), lose 2, t4 lose 6, t5 receive 10 -> 9 (cycle 1 bad)
    # t6 order 1 (IP 9) | t7 -> 6 | t8 receive 1 -> 7, cycle 2 clean, sell 4 -> 3 | t9 order 7, sell 2 -> 1
    res = inv.replay_inventory("(R,S)", DEMAND, 2, order_up_to=10, review_period_days=3, unmet_demand="lost")
    row = res.table.iloc[0]
    assert row.fill_rate == pytest.approx(20 / 30)
    assert row.stockout_days == 3 and row.orders == 3
    assert row.cycle_service_level == 0.5
    assert row.avg_on_hand == pytest.approx(3.7)


def test_supplier_shutdown_delays_receipts():
    zero = np.zeros((1, 10))
    base = dict(order_up_to=10, review_period_days=100, initial_on_hand=0)
    plain = inv.replay_inventory("(R,S)", zero, 2, **base)
    shut = np.zeros(10, dtype=bool)
    shut[1] = True  # lead time counts working days: the order of day 0 arrives on day 3, not 2
    late = inv.replay_inventory("(R,S)", zero, 2, supplier_shutdown=shut, **base)
    assert plain.table.avg_on_hand.iloc[0] == pytest.approx(8.0)
    assert late.table.avg_on_hand.iloc[0] == pytest.approx(7.0)


@pytest.mark.parametrize("mu,review,lead,target", [(3.0, 7, 5, 0.95), (0.4, 7, 9, 0.9)])
def test_rs_poisson_matches_exact_fill_rate_and_csl(mu, review, lead, target):
    d = stats.poisson(mu)
    pol = inv.order_up_to_for_fill_rate(d, review, lead, target)
    res = inv.simulate_inventory(
        "(R,S)", [d] * 40, lead, order_up_to=pol.order_up_to, review_period_days=review, days=1500, paths=30, seed=3
    )
    t = res.table
    # pooled over SKUs (identical): the standard error shrinks with sqrt(40)
    assert t.fill_rate.mean() == pytest.approx(pol.fill_rate, abs=3 * t.fill_rate_ci.mean() / np.sqrt(40) + 1e-3)
    assert t.cycle_service_level.mean() == pytest.approx(
        pol.cycle_service_level, abs=3 * t.cycle_service_level_ci.mean() / np.sqrt(40) + 2e-3
    )


def test_rs_normal_matches_exact_fill_rate():
    d = stats.norm(50, 15)  # negative draws (P ~ 4e-4) are cut at zero: negligible
    pol = inv.order_up_to_for_fill_rate(d, 5, 4, 0.97)
    res = inv.simulate_inventory("(R,S)", [d] * 20, 4, order_up_to=pol.order_up_to, review_period_days=5, days=2000, paths=20, seed=4)
    assert res.table.fill_rate.mean() == pytest.approx(pol.fill_rate, abs=2e-3)


def test_rq_unit_demand_matches_continuous_review_formula():
    # small per-period Poisson rate: daily review approximates continuous review, LTD over L periods
    rate, lead, q = 0.05, 200, 10  # 60 SKUs x 10 paths x 4,000 periods
    ltd = stats.poisson(rate * lead)
    pol = inv.reorder_point_for_fill_rate(ltd, q, 0.9)
    res = inv.simulate_inventory(
        "(r,Q)", [stats.poisson(rate)] * 60, lead, reorder_point=pol.reorder_point, order_quantity=q,
        days=4_000, paths=10, seed=5,
    )
    assert res.table.fill_rate.mean() == pytest.approx(pol.fill_rate, abs=0.006)
    assert res.table.cycle_service_level.mean() == pytest.approx(pol.cycle_service_level, abs=0.02)


def test_rounded_rs_matches_exact_rounded_service():
    d = stats.poisson(2.0)
    p = inv.round_order_up_to_policy(d, 3, 4, 0.9, "fill_rate", minimum_order_quantity=20, case_pack=6)
    res = inv.simulate_inventory(
        "(R,S)", [d] * 30, 4, order_up_to=p.order_up_to, review_period_days=3, minimum_order_quantity=20,
        order_multiple=6, days=1500, paths=20, seed=6,
    )
    assert res.table.fill_rate.mean() == pytest.approx(p.fill_rate, abs=4e-3)
    assert res.table.avg_on_hand.mean() == pytest.approx(p.average_on_hand, rel=0.03)


def test_lost_sales_fill_rate_at_least_backorders():
    d = [stats.poisson(m) for m in (0.5, 2, 8)]
    common = dict(order_up_to=np.array([8, 25, 80]), review_period_days=7, days=730, paths=40, seed=8)
    lead = [np.array([3, 5, 9, 14])] * 3  # random lead times, orders cross
    back = inv.simulate_inventory("(R,S)", d, lead, **common).table
    lost = inv.simulate_inventory("(R,S)", d, lead, unmet_demand="lost", **common).table
    assert np.all(lost.fill_rate >= back.fill_rate - 1e-3)
    assert np.all(lost.fill_rate_ci > 0) and list(lost.unmet_demand) == ["lost"] * 3


def test_rss_and_crossing_run_and_bad_input():
    d = [stats.nbinom(1.0, 0.3), {0: 0.8, 5: 0.2}, stats.gamma(2.0, scale=1.5)]
    res = inv.simulate_inventory(
        "(R,s,S)", d, [np.array([2, 10]), np.array([4]), np.array([1, 1, 6])], reorder_point=[5, 3, 4],
        order_up_to=[20, 15, 18], review_period_days=[2, 7, 1], days=200, paths=5, seed=9,
    )
    assert res.table.shape[0] == 3 and res.table.fill_rate.between(0, 1).all()
    with pytest.raises(DataError, match="policy"):
        inv.simulate_inventory("(s,Q)", d, 3)
    with pytest.raises(DataError, match="order_up_to"):
        inv.simulate_inventory("(R,S)", d, 3, order_up_to=[1, 2])
    with pytest.raises(DataError, match="lead_time_days"):
        inv.simulate_inventory("(R,S)", d, [np.array([1.5])] * 3, order_up_to=5)


# --------------------------------------------------------------------------- parallel blocks of paths

PARALLEL_CASES = {
    "(R,S) crossing lead times, lost sales": ("(R,S)", [np.array([2, 5, 9])] * 4, dict(
        order_up_to=[12, 30, 60, 10], review_period_days=[3, 7, 7, 1], unmet_demand="lost")),
    "(r,Q) fixed lead, MOQ, costs": ("(r,Q)", 3, dict(
        reorder_point=[4, 12, 30, 2], order_quantity=[6, 10, 25, 4], minimum_order_quantity=[0, 15, 0, 0],
        holding_cost_per_unit_day=0.2, order_cost=4.0, shortage_cost_per_unit=1.0)),
}
FAMILIES = [stats.poisson(1.5), stats.nbinom(1.2, 0.3), {0: 0.7, 2: 0.2, 7: 0.1}, stats.norm(3, 1)]


@pytest.mark.parametrize("name", list(PARALLEL_CASES))
def test_same_seed_same_results_whatever_the_workers(name, monkeypatch):
    monkeypatch.setattr(sim, "_BLOCK_CELLS", 32)  # 4 SKUs x 30 paths -> 4 blocks of 7 or 8 paths
    assert len(sim._path_blocks(4, 30)) == 4
    policy, lead, kwargs = PARALLEL_CASES[name]
    runs = [inv.simulate_inventory(policy, FAMILIES, lead, days=200, paths=30, seed=21, workers=w, **kwargs)
            for w in (1, 2, 3, None)]
    for other in runs[1:]:
        for measure, values in runs[0].per_path.items():
            np.testing.assert_array_equal(other.per_path[measure], values, err_msg=measure)
        assert other.table.equals(runs[0].table)
    # the blocks draw different streams: no two blocks repeat each other's paths
    on_hand = runs[0].per_path["avg_on_hand"]
    assert not np.array_equal(on_hand[:, :7], on_hand[:, 7:14])
    # and a different seed gives different results (the comparison above can fail)
    moved = inv.simulate_inventory(policy, FAMILIES, lead, days=200, paths=30, seed=22, workers=2, **kwargs)
    assert not np.array_equal(moved.per_path["avg_on_hand"], on_hand)


def test_block_layout_and_streams():
    # the layout depends on SKUs x paths only: the benchmark case is 8 blocks of 12-13 paths
    blocks = sim._path_blocks(10_000, 100)
    assert len(blocks) == 8 and blocks[0][0] == 0 and blocks[-1][1] == 100
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assert {b - a for a, b in blocks} == {12, 13}
    assert sim._path_blocks(7, 6) == [(0, 6)] and len(sim._path_blocks(3, 2**17)) == 3
    # several blocks: the children of SeedSequence(seed); one block: the seed's own stream
    streams = sim._block_generators(7, 3)
    children = np.random.SeedSequence(7).spawn(3)
    for rng, child in zip(streams, children):
        np.testing.assert_array_equal(rng.random(4), np.random.default_rng(child).random(4))
    np.testing.assert_array_equal(sim._block_generators(7, 1)[0].random(4), np.random.default_rng(7).random(4))


def test_workers_validated():
    with pytest.raises(DataError, match="workers"):
        inv.simulate_inventory("(R,S)", [stats.poisson(1)], 1, order_up_to=5, days=10, paths=2, workers=0)
