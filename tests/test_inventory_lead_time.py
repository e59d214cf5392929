"""Lead-time demand with random lead times: closed-form moments and the exact compound pmf.

Reference for the moments: Silver, Pyke and Thomas (2017), *Inventory and Production Management in Supply Chains*,
4th ed., Sec. 6.10: E = (E[L] + R) mu, Var = (E[L] + R) sigma^2 + mu^2 Var[L].
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import opslib.inventory as inv
from opslib.errors import DataError


def test_closed_form_moments_textbook():
    # SPT-style example: mu = 2 per day, sigma^2 = 3, L in {5, 7, 7, 10} days, R = 7 days
    m = inv.lead_time_demand_moments(2, 3, [5, 7, 7, 10], 7)
    assert m.lead_time_mean_days == pytest.approx(7.25)
    assert m.lead_time_variance_days2 == pytest.approx(3.1875)
    assert m.mean == pytest.approx((7.25 + 7) * 2)
    assert m.variance == pytest.approx((7.25 + 7) * 3 + 4 * 3.1875)
    fixed = inv.lead_time_demand_moments(2, 3, 10)
    assert (fixed.mean, fixed.variance) == (20, 30)


@pytest.mark.parametrize(
    "day",
    [stats.poisson(2.0), stats.nbinom(0.5, 0.4), {0: 0.7, 1: 0.2, 3: 0.1}],
    ids=["poisson", "negative_binomial", "empirical"],
)
def test_compound_pmf_moments_equal_closed_form(day):
    lts = [3, 5, 5, 6, 9, 14]
    pmf = inv.compound_demand_pmf(day, lts, 7)
    assert sum(pmf.values()) == pytest.approx(1, abs=1e-12)
    m = inv.lead_time_demand_moments(inv.mean(day), inv.variance(day), lts, 7)
    assert inv.mean(pmf) == pytest.approx(m.mean, rel=1e-9)
    assert inv.variance(pmf) == pytest.approx(m.variance, rel=1e-8)


def test_compound_pmf_against_monte_carlo():
    rng = np.random.default_rng(7)
    lts = np.array([4, 6, 6, 8, 15])
    r, n = 7, 200_000
    pmf = inv.compound_demand_pmf(stats.nbinom(0.8, 0.5), lts, r)
    draws_l = rng.choice(lts, n) + r
    sample = rng.negative_binomial(0.8 * draws_l, 0.5)  # sum of l i.i.d. NB(0.8, 0.5) is NB(0.8 l, 0.5)
    for k in [0, 2, 5, 8, 12, 20, 30]:
        exact = inv.cdf(pmf, k)
        mc = np.mean(sample <= k)
        assert abs(mc - exact) < 4 * np.sqrt(exact * (1 - exact) / n) + 1e-4


def test_family_choice_by_volume_and_variability():
    assert inv.lead_time_demand(0.3, 0.3, 5, 0).family == "poisson"
    assert inv.lead_time_demand(0.3, 0.9, [5, 9, 14]).family == "negative_binomial"
    assert inv.lead_time_demand(1.0, 5.0, 10, 0, average_demand_interval=3.0).family == "negative_binomial"
    assert inv.lead_time_demand(40, 200, 10).family == "normal"
    assert inv.lead_time_demand(40, 2000, [5, 9, 14]).family == "gamma"
    over = inv.lead_time_demand(40, 2000, [5, 9, 14], family="normal")
    assert over.family == "normal" and over.reason == "chosen by the caller"
    exact = inv.lead_time_demand(0.2, 0.5, [3, 4], 7, family="compound")
    assert isinstance(exact.distribution, dict) and exact.mean == pytest.approx(0.2 * 10.5)
    assert inv.mean(exact.during_lead_time) == pytest.approx(0.2 * 3.5)


def test_random_lead_time_raises_protection():
    # lead-time variance adds mu^2 Var[L]: the (R,S) level for the same target must rise
    fixed = inv.lead_time_demand(5, 10, 8, 7, family="gamma")
    random = inv.lead_time_demand(5, 10, [4, 6, 8, 10, 12], 7, family="gamma")
    assert random.mean == pytest.approx(fixed.mean)
    assert inv.quantile(random.distribution, 0.95) > inv.quantile(fixed.distribution, 0.95)


def test_bad_lead_times_refused():
    with pytest.raises(DataError, match="lead_time_days"):
        inv.lead_time_demand_moments(1, 1, [3, -1])
    with pytest.raises(DataError, match="lead_time_days"):
        inv.lead_time_demand_moments(1, 1, [])
    with pytest.raises(DataError, match="family"):
        inv.lead_time_demand(1, 1, 3, family="lognormal")
    with pytest.raises(DataError, match="discrete"):
        inv.compound_demand_pmf(stats.norm(5, 1), 3)


def test_period_demand_matches_the_moments_and_the_planner_mapping():
    from opslib.inventory import mean, variance
    from opslib.inventory.lead_time import period_demand

    for family, m, v in (("gamma", 2.0, 3.0), ("normal", 10.0, 4.0), ("negative_binomial", 1.5, 4.0),
                         ("poisson", 0.4, 0.4)):
        dist = period_demand(family, m, v)
        assert mean(dist) == pytest.approx(m, rel=1e-9)
        assert variance(dist) == pytest.approx(v, rel=1e-9)
    # compound: negative binomial when over-dispersed, Poisson otherwise (the review-period rule of plan_policies)
    assert variance(period_demand("compound", 1.0, 3.0)) == pytest.approx(3.0)
    assert variance(period_demand("compound", 1.0, 0.5)) == pytest.approx(1.0)
    assert period_demand("gamma", 0.0, 0.0) == {0.0: 1.0}
    with pytest.raises(DataError, match="family must be one of"):
        period_demand("lognormal", 1.0, 1.0)
