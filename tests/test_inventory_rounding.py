"""MOQ, case pack and order multiples with the service recomputed after rounding.

References: Hadley and Whitin (1963), *Analysis of Inventory Systems*, Ch. 5 (the (R, nQ) policy: the inventory
position after review is uniform on r+1..r+Q); Axsäter (2015), *Inventory Control*, Sec. 5.3.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import opslib.inventory as inv
from opslib.errors import DataError

FAST = settings(max_examples=20, deadline=None)


def test_round_order_quantity_packs_moq_and_multiples():
    # case pack 6 and layer of 4 -> step 12; MOQ 30 -> at least 36
    out = inv.round_order_quantity([0, 5, 25, 37, 49], minimum_order_quantity=30, case_pack=6, order_multiple=4)
    assert out.tolist() == [0, 36, 36, 48, 60]
    assert inv.round_order_quantity(13, case_pack=12, direction="nearest") == 12
    assert inv.round_order_quantity(18, case_pack=12, direction="nearest") == 24
    assert inv.round_order_quantity(12.0, case_pack=12) == 12  # exact multiples stay


def test_rounding_rule_refuses_bad_input():
    with pytest.raises(DataError, match="case_pack"):
        inv.round_order_quantity(10, case_pack=0)
    with pytest.raises(DataError, match="minimum_order_quantity"):
        inv.round_order_quantity(10, minimum_order_quantity=2.5)
    with pytest.raises(DataError, match="direction"):
        inv.round_order_quantity(10, direction="down")
    with pytest.raises(DataError, match="percentage"):
        inv.round_reorder_point_policy(stats.poisson(10), 5, 95)


@FAST
@given(
    mu=st.floats(2, 80),
    q=st.integers(1, 60),
    pack=st.integers(1, 24),
    moq=st.integers(0, 100),
    target=st.floats(0.5, 0.995),
    service_type=st.sampled_from(["fill_rate", "cycle_service_level"]),
    resolve=st.booleans(),
)
def test_rq_rounding_never_lowers_service_below_target_silently(mu, q, pack, moq, target, service_type, resolve):
    ltd = stats.poisson(mu)
    p = inv.round_reorder_point_policy(ltd, q, target, service_type, moq, pack, resolve=resolve)
    achieved = getattr(p, service_type)
    assert p.order_quantity % pack == 0 and p.order_quantity >= max(moq, q)
    if achieved < target - 1e-12:
        assert p.status in ("below_target", "unreachable") and not p.target_met
        assert "below the target" in p.note
    else:
        assert p.status in ("met", "overshoot") and p.target_met
    # the rounded policy is reported with its true service
    assert p.fill_rate == pytest.approx(inv.achieved_fill_rate(p.reorder_point, p.order_quantity, ltd), abs=1e-12)
    assert p.cycle_service_level == pytest.approx(ltd.cdf(p.reorder_point), abs=1e-12)


@FAST
@given(
    mu=st.floats(0.5, 20),
    r_periods=st.integers(1, 7),
    lt=st.integers(0, 10),
    pack=st.integers(1, 12),
    moq=st.integers(0, 60),
    target=st.floats(0.6, 0.99),
    service_type=st.sampled_from(["fill_rate", "cycle_service_level"]),
)
def test_rs_rounding_never_lowers_service_below_target_silently(mu, r_periods, lt, pack, moq, target, service_type):
    d = stats.poisson(mu)
    p = inv.round_order_up_to_policy(d, r_periods, lt, target, service_type, moq, pack)
    achieved = getattr(p, service_type)
    assert achieved >= target - 1e-9 or p.status in ("below_target", "unreachable")
    check = inv.periodic_review_service(p.order_up_to, d, r_periods, lt, moq, pack)
    assert check.fill_rate == pytest.approx(p.fill_rate, abs=1e-12)
    if p.status == "met" and p.order_up_to > 0:  # the smallest level meeting the target
        lower = inv.periodic_review_service(p.order_up_to - 1, d, r_periods, lt, moq, pack)
        assert getattr(lower, service_type) < target


def test_rq_rounding_up_lowers_the_reorder_point_for_a_fill_rate():
    ltd = stats.norm(100, 30)
    p = inv.round_reorder_point_policy(ltd, 40, 0.95, "fill_rate", case_pack=50, minimum_order_quantity=120)
    assert p.order_quantity == 150
    assert p.reorder_point < p.unrounded.reorder_point  # the bigger Q carries part of the protection
    assert abs(p.fill_rate - 0.95) < 1e-9 and p.status == "met"
    kept = inv.round_reorder_point_policy(ltd, 40, 0.95, "fill_rate", case_pack=50, minimum_order_quantity=120, resolve=False)
    assert kept.fill_rate > 0.95 + 0.005 and kept.status == "overshoot"


def test_rq_rounding_overshoot_and_unreachable_are_reported():
    ltd = stats.poisson(5)  # 5 units over the lead time, but an MOQ of 500
    p = inv.round_reorder_point_policy(ltd, 10, 0.9, "fill_rate", minimum_order_quantity=500)
    assert p.reorder_point == 0 and p.status == "overshoot" and p.fill_rate > 0.985
    assert "floor" in p.note
    with pytest.warns(UserWarning, match="below the target"):
        q = inv.round_reorder_point_policy(stats.poisson(20), 17, 0.95, "fill_rate", case_pack=12, max_inventory_position=30)
    assert q.status == "unreachable" and not q.target_met and q.order_up_to <= 30


def test_rs_rounding_nearest_rounding_down_is_flagged_when_level_kept():
    # Rounding Q down (nearest) with r kept lowers the fill rate: it must say so.
    ltd = stats.norm(100, 30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = inv.round_reorder_point_policy(ltd, 70, 0.95, "fill_rate", case_pack=100, resolve=False)
    assert p.order_quantity == 100  # up: fill rate rises
    assert p.fill_rate >= 0.95 - 1e-9


def _simulate_rounded_rs(mu, review, lead, s, moq, pack, periods=200_000, seed=1):
    """Independent check: a plain loop over periods, (R,S) with rounded orders, backorders."""
    rng = np.random.default_rng(seed)
    demand = rng.poisson(mu, size=periods * review)
    step = pack
    minimum = max(step, -(-moq // step) * step)
    net, pipeline, pos = s, {}, s
    served = total = 0
    for t in range(demand.size):
        net += pipeline.pop(t, 0)
        if t % review == 0:
            if pos < s:
                q = max(minimum, step * -(-(s - pos) // step))
                pipeline[t + lead] = pipeline.get(t + lead, 0) + q
                pos += q
                if lead == 0:
                    net += pipeline.pop(t)
        d = demand[t]
        if t >= 1000:
            served += min(d, max(net, 0))
            total += d
        net -= d
        pos -= d
    return served / total


def test_rounded_rs_service_matches_simulation():
    mu, review, lead, moq, pack = 2.0, 3, 4, 20, 6
    p = inv.round_order_up_to_policy(stats.poisson(mu), review, lead, 0.9, "fill_rate", moq, pack)
    sim = _simulate_rounded_rs(mu, review, lead, int(p.order_up_to), moq, pack, periods=60_000)
    assert sim == pytest.approx(p.fill_rate, abs=0.006)
    # with a pack only, the post-review offset is uniform (Hadley-Whitin (R, nQ))
    pure = inv.periodic_review_service(20, stats.poisson(3.3), 2, 3, case_pack=5)
    assert np.allclose(pure.offset_probabilities, 0.2, atol=1e-9)
