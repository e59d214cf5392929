"""Portfolio budget by marginal analysis (Fox 1966; Sherbrooke 2004 ch. 2), checked by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
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


# ---- curves over a shop: the inputs of the budget allocation


@pytest.fixture(scope="module")
def small_shop():
    import dataclasses

    import opslib

    ws = opslib.load_demo()
    return dataclasses.replace(ws, items=ws.items.iloc[::25].reset_index(drop=True))


@pytest.mark.parametrize("on_forecast", [False, True])
def test_service_investment_curves_agree_with_plan_and_allocation_beats_uniform(small_shop, on_forecast):
    # on the history's demand, or on a forecast's (the plan's own, as the Replenishment page does)
    forecast = None
    if on_forecast:
        from opslib.plan import plan_forecast

        forecast = plan_forecast(small_shop, model="ses")
    curves = inv.service_investment_curves(small_shop, 7, fill_rate_range=(0.6, 0.995), forecast=forecast)
    plan = inv.plan_policies(small_shop, "fill_rate", 0.95, 7, forecast=forecast).policies.set_index("sku")
    if on_forecast:
        assert (plan["demand_source"] == "forecast").all()
        weights = curves.groupby("sku", sort=False)["demand_mean_per_day"].first()
        np.testing.assert_allclose(weights, plan.loc[weights.index, "demand_mean_per_day"], rtol=1e-12)
    groups = dict(tuple(curves.groupby("sku", sort=False)))
    assert len(groups) >= 8
    f, c, w, uniform = [], [], [], []
    for sku, g in groups.items():
        s, fill, inv_ = g["order_up_to"].to_numpy(), g["fill_rate"].to_numpy(), g["investment"].to_numpy()
        assert np.all(np.diff(s) > 0) and np.all(np.diff(fill) >= 0) and np.all(np.diff(inv_) > 0)
        assert fill[0] >= 0.6 - 1e-9 and fill[-1] >= 0.995 - 1e-9
        # the plan's exact level for 95 % lies in the curve's first step that reaches 95 %
        i = int(np.argmax(fill >= 0.95 - 1e-12))
        assert (s[i - 1] if i else -np.inf) < plan.loc[sku, "order_up_to"] <= s[i] + 1e-9
        if (i == 0 or s[i] - s[i - 1] == 1) and s[i] == np.round(s[i]):  # every whole unit (discrete) on the
            # curve: the same level and service
            assert plan.loc[sku, "order_up_to"] == pytest.approx(s[i])
            assert plan.loc[sku, "fill_rate"] == pytest.approx(fill[i], abs=1e-9)
        f.append(fill), c.append(inv_), w.append(g["demand_mean_per_day"].iloc[0]), uniform.append(i)
    w = np.array(w)
    budget = sum(ci[i] for ci, i in zip(c, uniform))
    uniform_fill = sum(wi * fi[i] for wi, fi, i in zip(w, f, uniform)) / w.sum()
    best = inv.marginal_allocation(f, c, w, budget)
    assert best.investment <= budget + 1e-6
    assert best.aggregate_fill_rate >= uniform_fill - 1e-9


def reference_greedy(f, c, w, budget):
    """``opslib.inventory.portfolio._greedy`` before it looped over Python floats (issue 7), numpy scalars."""
    import heapq

    levels = np.zeros(len(f), dtype=int)
    spent = float(sum(ci[0] for ci in c))
    value = float(sum(wi * fi[0] for wi, fi in zip(w, f)))
    heap = []

    def push(i):
        lv = levels[i]
        if lv + 1 < f[i].size:
            heapq.heappush(heap, (-(w[i] * (f[i][lv + 1] - f[i][lv])) / (c[i][lv + 1] - c[i][lv]), i))

    for i in range(len(f)):
        push(i)
    rows = [(spent, value, -1, -1)]
    while heap:
        _, i = heapq.heappop(heap)
        lv = levels[i]
        cost = c[i][lv + 1] - c[i][lv]
        if spent + cost > budget + 1e-9:
            continue
        spent += cost
        value += w[i] * (f[i][lv + 1] - f[i][lv])
        levels[i] = lv + 1
        rows.append((spent, value, i, lv + 1))
        push(i)
    return levels, spent, value, pd.DataFrame(rows, columns=["investment", "aggregate_fill_rate", "sku_index", "level"])


def test_greedy_is_the_previous_loop_bit_for_bit():
    from opslib.inventory.portfolio import _check, _greedy

    rng = np.random.default_rng(8)
    for _ in range(20):
        n = int(rng.integers(1, 30))
        f = [np.maximum.accumulate(np.sort(rng.uniform(0, 1, rng.integers(1, 40)))) for _ in range(n)]
        c = [np.cumsum(rng.uniform(0.1, 50, x.size)) for x in f]
        f, c, w = _check(f, c, rng.uniform(0, 5, n))
        for budget in (np.inf, float(sum(x[0] for x in c)), float(sum(x[-1] for x in c)) * rng.uniform(0.2, 0.9)):
            new, old = _greedy(f, c, w, budget), reference_greedy(f, c, w, budget)
            assert np.array_equal(new[0], old[0]) and new[1] == old[1] and new[2] == old[2]
            pd.testing.assert_frame_equal(new[3], old[3])
