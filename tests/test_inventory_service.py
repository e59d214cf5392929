"""Service-target solvers: exactness, independent checks (enumeration, simulation), properties, the naive rule.

References for the formulas checked here: Zipkin (2000), *Foundations of Inventory Management*, Sec. 6.2-6.7
((r,Q) fill rate = average of F over (r, r+Q]); Axsäter (2015), *Inventory Control*, Sec. 5.3 ((R,S) fill rate
1 - [n_{R+L}(S) - n_L(S)]/(R mu)).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import opslib.inventory as inv

FAST = settings(max_examples=25, deadline=None)


@FAST
@given(
    mu=st.floats(5, 500),
    cv=st.floats(0.05, 1.0),
    q_over_sd=st.floats(0.05, 20),
    beta=st.floats(0.5, 0.999),
    family=st.sampled_from(["normal", "gamma"]),
)
def test_rq_fill_rate_residual_below_1e_9(mu, cv, q_over_sd, beta, family):
    sd = cv * mu
    ltd = stats.norm(mu, sd) if family == "normal" else inv.gamma_from_moments(mu, sd * sd)
    policy = inv.reorder_point_for_fill_rate(ltd, q_over_sd * sd, beta)
    assert abs(policy.fill_rate - beta) < 1e-9
    assert policy.fill_rate == inv.achieved_fill_rate(policy.reorder_point, policy.order_quantity, ltd)
    assert policy.cycle_service_level == pytest.approx(ltd.cdf(policy.reorder_point))
    assert policy.fill_rate >= policy.cycle_service_level - 1e-12  # beta >= F(r) in (r,Q)


@FAST
@given(mu=st.floats(1, 200), cv=st.floats(0.05, 1.0), r=st.integers(1, 14), lt=st.integers(0, 10), beta=st.floats(0.5, 0.999))
def test_rs_fill_rate_residual_below_1e_9(mu, cv, r, lt, beta):
    demand = inv.gamma_from_moments(mu, (cv * mu) ** 2)
    policy = inv.order_up_to_for_fill_rate(demand, r, lt, beta)
    assert abs(policy.fill_rate - beta) < 1e-9
    assert policy.fill_rate == inv.achieved_fill_rate_periodic_review(policy.order_up_to, demand, r, lt)


@FAST
@given(mu=st.floats(0.2, 40), q=st.integers(1, 60), beta=st.floats(0.5, 0.999))
def test_discrete_solvers_return_the_smallest_integer_meeting_the_target(mu, q, beta):
    ltd = stats.poisson(mu)
    r = inv.reorder_point_for_fill_rate(ltd, q, beta).reorder_point
    assert r == int(r)
    assert inv.achieved_fill_rate(r, q, ltd) >= beta
    assert inv.achieved_fill_rate(r - 1, q, ltd) < beta
    s = inv.order_up_to_for_fill_rate(stats.poisson(mu / 4), 3, 2, beta).order_up_to
    assert inv.achieved_fill_rate_periodic_review(s, stats.poisson(mu / 4), 3, 2) >= beta
    assert inv.achieved_fill_rate_periodic_review(s - 1, stats.poisson(mu / 4), 3, 2) < beta
    alpha = inv.reorder_point_for_cycle_service_level(ltd, q, beta).reorder_point
    assert ltd.cdf(alpha) >= beta > ltd.cdf(alpha - 1)


def test_rq_fill_rate_for_poisson_equals_the_average_of_the_cdf():
    # Independent form for unit (Poisson) demand: beta = (1/Q) sum_{y=r+1}^{r+Q} P(D_L <= y-1) (Zipkin 2000, Sec. 6.6).
    ltd = stats.poisson(7.3)
    for r, q in [(5, 1), (8, 6), (-2, 10), (12, 30)]:
        expected = np.mean([ltd.cdf(y - 1) for y in range(r + 1, r + q + 1)])
        assert inv.achieved_fill_rate(r, q, ltd) == pytest.approx(expected, rel=1e-12)


def _simulate_rs_fill_rate(pmf_sampler, order_up_to, review, lead, periods, rng):
    """Period-by-period simulation of (R,S) with backorders: the fraction of demand served from stock."""
    demand = pmf_sampler(rng, periods)
    net = float(order_up_to)
    pipeline = np.zeros(periods + lead + 1)
    position = float(order_up_to)
    served = 0.0
    for t in range(periods):
        if t % review == 0:
            order = order_up_to - position
            pipeline[t + lead] += order
            position += order
        net += pipeline[t]
        d = demand[t]
        served += min(d, max(net, 0.0))
        net -= d
        position -= d
    return served / demand.sum()


def test_rs_fill_rate_matches_simulation():
    # Monte Carlo check of the exact (R,S) fill rate with lumpy negative-binomial demand (R=7, L=3).
    demand = inv.negative_binomial_from_moments(1.2, 6.0)
    policy = inv.order_up_to_for_fill_rate(demand, 7, 3, 0.95)
    rng = np.random.default_rng(7)
    n, p = demand.args
    simulated = _simulate_rs_fill_rate(lambda g, k: g.negative_binomial(n, p, k).astype(float),
                                       policy.order_up_to, 7, 3, 400_000, rng)
    assert policy.fill_rate >= 0.95
    assert simulated == pytest.approx(policy.fill_rate, abs=0.004)


def test_rq_fill_rate_matches_simulation():
    # Monte Carlo check of the (r,Q) fill rate: a Poisson process of unit demands in continuous time,
    # continuous review (order the moment the position reaches r), constant lead time L.
    rate, lead, q = 2.0, 4.0, 9
    policy = inv.reorder_point_for_fill_rate(stats.poisson(rate * lead), q, 0.9)
    r = int(policy.reorder_point)
    rng = np.random.default_rng(11)
    times = np.cumsum(rng.exponential(1 / rate, 300_000))
    due: deque[float] = deque()
    net = position = r + q
    served = 0
    for t in times:
        while due and due[0] <= t:
            due.popleft()
            net += q
        served += net > 0
        net -= 1
        position -= 1
        if position <= r:
            due.append(t + lead)
            position += q
    assert served / len(times) == pytest.approx(policy.fill_rate, abs=0.005)


# --------------------------------------------------------------------------- properties


@FAST
@given(mu=st.floats(5, 300), sd=st.floats(0.5, 60), q=st.floats(1, 500), a=st.floats(0.5, 0.99), b=st.floats(0.5, 0.99))
def test_safety_stock_never_falls_as_the_target_rises(mu, sd, q, a, b):
    lo, hi = sorted((a, b))
    ltd = stats.norm(mu, sd)
    assert inv.reorder_point_for_fill_rate(ltd, q, lo).safety_stock <= inv.reorder_point_for_fill_rate(ltd, q, hi).safety_stock + 1e-9
    assert (
        inv.reorder_point_for_cycle_service_level(ltd, q, lo).safety_stock
        <= inv.reorder_point_for_cycle_service_level(ltd, q, hi).safety_stock + 1e-9
    )
    demand = stats.norm(mu / 10, sd / 10)
    assert (
        inv.order_up_to_for_fill_rate(demand, 7, 2, lo).safety_stock
        <= inv.order_up_to_for_fill_rate(demand, 7, 2, hi).safety_stock + 1e-9
    )


@FAST
@given(mu=st.floats(5, 300), s1=st.floats(0.5, 60), s2=st.floats(0.5, 60), q=st.floats(1, 500), beta=st.floats(0.5, 0.99))
def test_safety_stock_never_falls_as_the_spread_rises(mu, s1, s2, q, beta):
    # Holds for targets >= 0.5 (below the median, more spread lowers the quantile).
    lo, hi = sorted((s1, s2))
    assert (
        inv.reorder_point_for_fill_rate(stats.norm(mu, lo), q, beta).safety_stock
        <= inv.reorder_point_for_fill_rate(stats.norm(mu, hi), q, beta).safety_stock + 1e-9
    )
    assert (
        inv.order_up_to_for_fill_rate(stats.norm(mu, lo), 3, 5, beta).safety_stock
        <= inv.order_up_to_for_fill_rate(stats.norm(mu, hi), 3, 5, beta).safety_stock + 1e-9
    )
    assert inv.naive_z_policy(mu, lo, 4, beta).safety_stock <= inv.naive_z_policy(mu, hi, 4, beta).safety_stock


@FAST
@given(mu=st.integers(1, 500), q=st.integers(1, 100), target=st.floats(0.01, 0.99))
def test_zero_spread_gives_zero_safety_stock(mu, q, target):
    demand = inv.deterministic(mu)
    assert inv.reorder_point_for_cycle_service_level(demand, q, target).safety_stock == 0
    assert inv.order_up_to_for_cycle_service_level(demand, 1, 3, target).safety_stock == 0
    assert inv.naive_z_policy(mu, 0.0, 5, target).safety_stock == 0


def test_zero_spread_fill_rate_gives_the_fluid_shortfall():
    # With no spread a fill-rate target below 1 is met by running short for (1 - beta) Q units per cycle:
    # 1 - [n(r) - n(r+Q)]/Q = 1 - (mu - r)/Q for r in [mu - Q, mu], so r = mu - (1 - beta) Q (fluid demand).
    policy = inv.reorder_point_for_fill_rate(stats.norm(100, 1e-6), 40, 0.9)
    assert policy.safety_stock == pytest.approx(-4.0, abs=1e-4)


@FAST
@given(mu=st.floats(1, 60), h=st.floats(0.1, 5), p=st.floats(0.5, 50), k=st.floats(1, 100))
def test_discrete_optima_cost_no_more_than_their_neighbours(mu, h, p, k):
    demand = stats.poisson(mu)
    s, big_s, cost = inv.ss_optimal(demand, h, p, k)
    for ds, d_big in [(-1, 0), (1, 0), (0, -1), (0, 1), (1, 1), (-1, -1)]:
        if big_s + d_big > s + ds:
            assert inv.ss_cost(s + ds, big_s + d_big, demand, h, p, k) >= cost - 1e-9
    r, q, cost = inv.rq_optimal(demand, h, p, k, 10.0)
    for dr, dq in [(-1, 0), (1, 0), (0, -1), (0, 1), (1, -1), (-1, 1)]:
        if q + dq >= 1:
            assert inv.rq_cost(r + dr, q + dq, demand, h, p, k, 10.0) >= cost - 1e-9


@FAST
@given(mu=st.floats(5, 500), cv=st.floats(0.05, 1), h=st.floats(0.1, 5), p=st.floats(0.5, 50))
def test_newsvendor_costs_no_more_than_its_neighbours(mu, cv, h, p):
    demand = inv.gamma_from_moments(mu, (cv * mu) ** 2)
    level, cost, _ = inv.newsvendor(demand, h, p)
    for step in (-1.0, -0.01, 0.01, 1.0):
        assert inv.newsvendor_cost(level + step, demand, h, p) >= cost - 1e-10


# --------------------------------------------------------------------------- the naive rule


def test_naive_rule_over_stocks_a_fill_rate_in_continuous_review():
    # Fill-rate target 0.95 read as a cycle service level: much more stock than the exact solver needs,
    # and a fill rate far above target (Silver, Pyke and Thomas, Ch. 6; the notes' error 1).
    out = inv.compare_with_naive_z_policy(stats.poisson(10), 5, 0.95, order_quantity=100)
    assert out.naive.reorder_point == pytest.approx(50 + stats.norm.ppf(0.95) * math.sqrt(10) * math.sqrt(5))
    assert out.extra_safety_stock > 10
    assert out.naive.fill_rate > 0.99
    assert 0.95 <= out.exact.fill_rate < 0.96


def test_naive_rule_under_stocks_lumpy_periodic_review():
    # Lumpy demand, weekly review: sigma*sqrt(L) ignores the review period, the achieved fill rate falls short.
    out = inv.compare_with_naive_z_policy(
        inv.negative_binomial_from_moments(0.5, 3), 5, 0.95, service_type="fill_rate", review_periods=7
    )
    assert out.extra_safety_stock < 0
    assert out.naive.fill_rate < 0.9
    assert out.exact.fill_rate >= 0.95
    assert out.exact.policy == out.naive.policy == "(R,S)"
    assert out.exact.unmet_demand == "backordered"


def test_naive_rule_is_right_for_normal_cycle_service_level():
    # The one case the z-rule is built for: CSL, normal demand, continuous review.
    out = inv.compare_with_naive_z_policy(stats.norm(20, 4), 9, 0.9, service_type="cycle_service_level", order_quantity=50)
    assert out.naive.reorder_point == pytest.approx(out.exact.reorder_point, rel=1e-9)
    assert out.naive.cycle_service_level == pytest.approx(0.9, abs=1e-9)
