"""(R,S) with i.i.d. random lead times per order: the shortfall when orders cross.

References: Robinson, Bradley and Thomas (2001), M&SOM 3(3):175-188; Bradley and
Robinson (2005), M&SOM 7(4):319-329 (outstanding orders as independent Bernoulli
indicators). Independent check: the vectorized simulation, which draws one lead
time per order and lets orders cross.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import opslib.inventory as inv
from opslib.errors import DataError

LEAD = np.array([2, 3, 5, 6, 8, 9, 12, 14, 20, 25], dtype=float)  # spread well beyond R = 7: orders cross


def test_fixed_lead_time_gives_the_textbook_fill_rate():
    sh = inv.order_crossing_shortfall(3.0, 3.0, 10, 7)
    for s in (40, 50, 60):
        exact = inv.achieved_fill_rate_periodic_review(s, stats.poisson(3.0), 7, 10)
        assert sh.fill_rate(s) == pytest.approx(exact, abs=1e-9)
        assert sh.cycle_service_level(s) == pytest.approx(stats.poisson(51.0).cdf(s), abs=1e-9)


def test_outstanding_probabilities_and_moments():
    p = inv.outstanding_order_probabilities(LEAD, 7)
    assert p.shape == (7, 4)
    assert p[0, 0] == pytest.approx(1.0) and p[2, 0] == pytest.approx(0.9) and p[0, 1] == pytest.approx(0.6)
    # mean orders outstanding = E[L]/R (Little), the variance smaller than the no-crossing formula
    sh = inv.order_crossing_shortfall(3.0, 3.0, LEAD, 7)
    assert sh.mean_orders_outstanding == pytest.approx(LEAD.mean() / 7, rel=1e-12)
    m = inv.lead_time_demand_moments(3.0, 3.0, LEAD, 0)
    end_of_cycle = sh.after_demand_moments[-1]
    assert end_of_cycle[0] == pytest.approx(3.0 * (7 + 7 * p[6].sum()))
    assert sh.before_demand_moments[0, 1] < m.variance


@pytest.mark.parametrize("mu, var", [(2.0, 2.0), (0.5, 1.2), (25.0, 60.0)])
def test_fill_rate_matches_simulation_with_crossing(mu, var):
    day = stats.poisson(mu) if var <= mu else stats.nbinom(mu * mu / (var - mu), mu / var)
    family = "exact" if mu < 5 else "gamma"
    sh = inv.order_crossing_shortfall(mu, var, LEAD, 7, family)
    grid = np.arange(0, 40 * mu * 7 + 40)
    s = grid[np.searchsorted(sh.fill_rate(grid), 0.95)][None].astype(float)  # smallest S with fill rate >= 95 %
    sim = inv.simulate_inventory("(R,S)", [day], [LEAD], order_up_to=s, review_period_days=7, days=1500,
                                 paths=60, seed=7).table.iloc[0]
    half = float(sim.fill_rate_ci)  # half-width of the 95 % interval across paths
    assert sh.fill_rate(s[0]) >= 0.95
    assert abs(sh.fill_rate(s[0]) - sim.fill_rate) < max(3 * half, 0.004)
    assert sh.average_on_hand(s[0]) == pytest.approx(sim.avg_on_hand, rel=0.03)


def test_slow_item_cycle_service_level_below_the_mass_at_zero():
    # P(shortfall = 0) is above 0.5 here: the solver must still find a finite S (regression: it looped forever)
    sh = inv.order_crossing_shortfall(0.01, 0.01, LEAD, 7)
    assert sh.cycle_service_level(-1) == 0.0 and sh.cycle_service_level(0) > 0.5
    plan_like = inv.crossing._CrossingRS(sh, stats.poisson(0.07), inv.RoundingRule())
    from opslib.inventory.service import _smallest_meeting

    assert _smallest_meeting(plan_like.cycle_service_level, 0.5, -1, 0, True) == 0.0


# ---- cycle service level with crossing: no stock-out on any day of an order's cycle


def test_window_csl_fixed_lead_time_is_the_textbook_cdf():
    # no crossing: the shortfall only rises through the cycle, alpha = F_{R+L}(S) = Poisson(3 x 17).cdf(S)
    w = inv.crossing_cycle_service_level(3.0, 3.0, 10, 7, cycles=40_000, seed=1)
    for s in (45, 51, 58, 63):
        exact = stats.poisson(51.0).cdf(s)
        # cycles overlap in demand only through neighbours: allow 4 naive standard errors
        assert w.cycle_service_level(s) == pytest.approx(exact, abs=4 * w.standard_error(s) + 1e-3)


def test_window_csl_matches_simulation_and_lies_below_the_end_of_cycle_bound():
    mu, var, r = 2.0, 5.0, 7
    w = inv.crossing_cycle_service_level(mu, var, LEAD, r, cycles=40_000, seed=2)
    bound = inv.order_crossing_shortfall(mu, var, LEAD, r)
    levels = np.array([45.0, 55.0])
    sim = inv.simulate_inventory(
        "(R,S)", [inv.negative_binomial_from_moments(mu, var)] * 2, [LEAD] * 2, order_up_to=levels,
        review_period_days=r, days=2_000, paths=20, seed=3,
    ).table
    for s, row in zip(levels, sim.itertuples()):
        a = w.cycle_service_level(s)
        assert a == pytest.approx(row.cycle_service_level, abs=3 * row.cycle_service_level_ci + 4 * w.standard_error(s))
        assert a < bound.cycle_service_level(s) - 0.005  # crossing arrivals rescue some cycle ends, not every day
    grid = np.arange(20, 80)
    assert np.all(np.diff(w.cycle_service_level(grid)) >= 0)


def test_window_csl_bad_input():
    with pytest.raises(DataError, match="review_period_days"):
        inv.crossing_cycle_service_level(1.0, 1.0, LEAD, 0)
    with pytest.raises(DataError, match="whole days"):
        inv.crossing_cycle_service_level(1.0, 1.0, [2.5, 4.0], 7)
    with pytest.raises(DataError, match="family"):
        inv.crossing_cycle_service_level(1.0, 1.0, LEAD, 7, family="lognormal")
