"""Portfolio budget by marginal analysis (Fox 1966; Sherbrooke 2004 ch. 2), checked by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

import opslib.inventory as inv
from opslib.errors import DataError


@pytest.fixture(scope="module")
def three_skus():
    # base-stock fill rates with R = 1, L = 2 (concave in S); investment = on hand x unit cost
    means, costs = [1.0, 4.0, 0.5], [10.0, 3.0, 40.0]
    f, c = [], []
    for mu, cost in zip(means, costs):
        s = np.arange(0, int(3 * mu + 8))
        d = stats.poisson(mu)
        f.append(np.array([inv.achieved_fill_rate_periodic_review(x, d, 1, 2) for x in s]))
        on_hand = np.array([x - 3 * mu + inv.loss(stats.poisson(3 * mu), x) for x in s])
        c.append(np.maximum(on_hand, 0) * cost + 1e-6 * s)
    return f, c, np.array(means)


def test_greedy_equals_brute_force_on_every_curve_point(three_skus):
    f, c, w = three_skus
    curve = inv.exchange_curve(f, c, w)
    wn = w / w.sum()
    combos = list(itertools.product(*[range(x.size) for x in f]))
    inv_all = np.array([sum(c[i][k] for i, k in enumerate(combo)) for combo in combos])
    val_all = np.array([sum(wn[i] * f[i][k] for i, k in enumerate(combo)) for combo in combos])
    for budget in curve["investment"].to_numpy()[:: max(1, len(curve) // 12)]:
        best = val_all[inv_all <= budget + 1e-9].max()
        got = inv.marginal_allocation(f, c, w, budget)
        assert got.investment <= budget + 1e-9
        assert got.aggregate_fill_rate == pytest.approx(best, abs=1e-12)


def test_exchange_curve_is_monotone(three_skus):
    curve = inv.exchange_curve(*three_skus)
    assert np.all(np.diff(curve["investment"]) > 0) and np.all(np.diff(curve["aggregate_fill_rate"]) >= 0)
    # concave: the fill rate bought per unit of money never rises along the curve
    slope = np.diff(curve["aggregate_fill_rate"]) / np.diff(curve["investment"])
    assert np.all(np.diff(slope) <= 1e-9)


def test_bad_budget_and_inputs(three_skus):
    f, c, w = three_skus
    with pytest.raises(DataError, match="budget"):
        inv.marginal_allocation(f, c, w, -1.0)
    with pytest.raises(DataError, match="one entry per SKU"):
        inv.marginal_allocation(f[:2], c, w, 100.0)
