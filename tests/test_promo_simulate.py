"""opslib.promo.simulate: Monte Carlo ROI against the closed forms of notes section 2.5.

Small synthetic shop (three SKUs of one category, a one-week window), no refit of the demo.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opslib import DataError
from opslib.promo import (
    WATERFALL_COMPONENTS,
    PromotionPlan,
    baseline_from_history,
    breakeven_elasticity,
    compare,
    own_incremental_margin,
    promotion_roi,
    simulate,
)

START, END = "2024-06-03", "2024-06-09"  # Monday to Sunday
DAYS = pd.date_range(START, END)


@pytest.fixture
def items():
    return pd.DataFrame({"sku": ["A", "B", "C"], "price": [100.0, 50.0, 20.0], "unit_cost": [60.0, 30.0, 10.0],
                         "category": ["tea"] * 3})


@pytest.fixture
def baseline():
    daily = {"A": 10.0, "B": 4.0, "C": 20.0}
    return pd.DataFrame([(s, d, u) for s, u in daily.items() for d in DAYS], columns=["sku", "date", "baseline_units"])


def exact(elasticity=-3.0):
    """Zero variance: se = 0, no dips, no cannibalization."""
    return pd.DataFrame({"sku": ["A", "B", "C"], "elasticity": [elasticity, -2.0, -1.5],
                         "elasticity_se": [0.0, 0.0, 0.0]})


def uncertain():
    return pd.DataFrame({
        "sku": ["A", "B", "C"], "elasticity": [-3.0, -2.0, -1.5], "elasticity_se": [0.6, 0.2, 0.3],
        "post_dip": [-0.1, -0.05, 0.0], "post_dip_se": [0.04, 0.02, 0.0],
        "pre_dip": [-0.02, 0.0, 0.0], "pre_dip_se": [0.01, 0.0, 0.0],
        "cannibalization_share": [0.3, 0.2, np.nan], "cannibalization_share_se": [0.1, 0.05, np.nan]})


def plan(**kw):
    args = dict(skus=("A",), start=START, end=END, mechanic="percent_off", depth=0.2)
    args.update(kw)
    return PromotionPlan(**args)


def test_zero_variance_equals_closed_form(items, baseline):
    p = plan(skus=("A", "B"), depth=0.2, funding_share=0.25, fixed_cost=300.0)
    r = simulate(p, exact(), baseline, items, draws=50)
    b = np.array([70.0, 28.0])
    price, g = np.array([100.0, 50.0]), np.array([0.4, 0.4])
    q = b * 0.8 ** np.array([-3.0, -2.0])
    own = own_incremental_margin(b, q, price, g, 0.2, 0.25)
    profit = own.incremental_margin.sum() - 300.0
    spend = own.markdown_cost.sum() + 300.0
    gmv = (q * price * 0.8).sum()
    roi = promotion_roi(profit, gmv, spend, 0.4)
    d = r.draws
    assert d["profit"].nunique() == 1
    np.testing.assert_allclose(d["profit"], profit, rtol=1e-12)
    np.testing.assert_allclose(d["incremental_units"], (q - b).sum(), rtol=1e-12)
    np.testing.assert_allclose(d["profit_roi"], roi.profit_roi, rtol=1e-12)
    np.testing.assert_allclose(d["gmv_roi"], roi.gmv_roi, rtol=1e-12)
    np.testing.assert_allclose(-d["discount_on_baseline_units"] * 0.75, own.discount_on_baseline_units.sum(),
                               rtol=1e-12)
    assert r.settings["cannibalization"] == "none"


@pytest.mark.parametrize("shift, expected", [(-0.1, 1.0), (0.1, 0.0)])
def test_probability_profitable_is_zero_or_one_around_breakeven(items, baseline, shift, expected):
    # no fixed cost, so ROI > 0 exactly when the lift beats the closed-form break-even
    e_star = breakeven_elasticity(0.4, 0.2)
    r = simulate(plan(depth=0.2), exact(e_star + shift), baseline, items, draws=200)
    assert r.probability_profitable == expected
    assert r.guardrails.loc[0, "breakeven_elasticity"] == pytest.approx(e_star)
    assert r.guardrails.loc[0, "probability_above_breakeven"] == expected


def test_breakeven_with_cannibalization_share(items, baseline):
    # c = 0.3 of the bump is not incremental, valued at the regular margin (notes 2.5 closed form)
    e_star = breakeven_elasticity(0.4, 0.1, 0.0, 0.3)
    resp = exact(e_star - 0.05).assign(cannibalization_share=0.3, cannibalization_share_se=0.0)
    at = exact(e_star).assign(cannibalization_share=0.3, cannibalization_share_se=0.0)
    assert simulate(plan(depth=0.1), resp, baseline, items, draws=20).probability_profitable == 1.0
    r = simulate(plan(depth=0.1), at, baseline, items, draws=20)
    assert r.draws["profit"].abs().max() < 1e-8  # exactly at break-even


def test_same_seed_same_draws_and_compare_with_itself(items, baseline):
    a = simulate(plan(), uncertain(), baseline, items, draws=300, seed=7)
    b = simulate(plan(), uncertain(), baseline, items, draws=300, seed=7)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    c = compare([plan(name="x"), plan(name="y")], uncertain(), baseline, items, draws=300, seed=7)
    assert (c.table[["profit_difference_p10", "profit_difference_p90"]].abs().to_numpy() == 0).all()
    pd.testing.assert_frame_equal(c.results[0].draws, c.results[1].draws)
    other = simulate(plan(), uncertain(), baseline, items, draws=300, seed=8)
    assert not np.allclose(other.draws["profit"], a.draws["profit"])


def test_common_random_numbers_per_sku(items, baseline):
    # SKU A draws the same elasticity alone and together with B: the plan difference is B's contribution
    alone = simulate(plan(skus=("A",)), uncertain(), baseline, items, draws=200, seed=3)
    both = simulate(plan(skus=("A", "B")), uncertain(), baseline, items, draws=200, seed=3)
    b_only = simulate(plan(skus=("B",)), uncertain(), baseline, items, draws=200, seed=3)
    np.testing.assert_allclose(both.draws["incremental_units"],
                               alone.draws["incremental_units"] + b_only.draws["incremental_units"], rtol=1e-12)


def test_waterfall_sums_to_profit_in_every_draw(items, baseline):
    for p in (plan(funding_share=0.3, fixed_cost=500.0),
              plan(mechanic="coupon", depth=None, threshold=99.0, reward=10.0, skus=("A", "B")),
              plan(mechanic="flash_sale", depth=0.4, stock_cap=60.0),
              plan(mechanic="gift", depth=None, threshold=150.0, reward=8.0),
              plan(mechanic="points", depth=0.05, points_breakage=0.3)):
        r = simulate(p, uncertain(), baseline, items, draws=400, seed=1)
        d = r.draws
        np.testing.assert_allclose(d[list(WATERFALL_COMPONENTS)].sum(axis=1), d["profit"], rtol=1e-10, atol=1e-8)
        w = r.waterfall.set_index("component")
        assert w.loc["incremental_profit", "kind"] == "total"
        assert w.loc["incremental_profit", "mean"] == pytest.approx(d["profit"].mean())
        assert list(r.summary["metric"]).count("gmv_roi") == 1
        assert "投产比" in r.summary.set_index("metric").at["gmv_roi", "label"]


def test_flash_sale_cap_limits_discounted_units(items, baseline):
    capped = simulate(plan(mechanic="flash_sale", depth=0.4, stock_cap=50.0), exact(), baseline, items, draws=5)
    free = simulate(plan(mechanic="flash_sale", depth=0.4), exact(), baseline, items, draws=5)
    # uncapped Q = 70 * 0.6**-3 = 324 units; capped: 50 at the flash price, then the baseline rate
    q = 70 * 0.6 ** -3.0
    assert capped.draws["promo_units"].iloc[0] == pytest.approx(50 + 70 * (1 - 50 / q))
    assert -capped.draws[["discount_on_baseline_units", "discount_on_incremental_units"]].sum(axis=1).iloc[0] == \
        pytest.approx(50 * 100 * 0.4)
    assert free.draws["promo_units"].iloc[0] == pytest.approx(q)


def test_deeper_discount_lowers_margin_per_unit(items, baseline):
    margins, per_unit = [], []
    for depth in (0.1, 0.2, 0.3):
        r = simulate(plan(depth=depth), exact(), baseline, items, draws=5)
        margins.append(r.guardrails.loc[0, "promo_unit_margin"])
        d = r.draws.iloc[0]
        per_unit.append((d["baseline_margin"] + d["own_lift_margin"] + d["discount_on_baseline_units"]
                         + d["discount_on_incremental_units"]) / d["promo_units"])
    assert margins == pytest.approx([30.0, 20.0, 10.0])
    assert np.all(np.diff(per_unit) < 0)
    np.testing.assert_allclose(per_unit, margins)


def test_tornado_ranks_wider_input_first(items, baseline):
    resp = exact().assign(post_dip=-0.1, post_dip_se=0.01)
    resp.loc[0, "elasticity_se"] = 0.8
    r = simulate(plan(), resp, baseline, items, draws=100)
    t = r.tornado
    assert list(t["input"][:2]) == ["elasticity", "post_dip"]
    assert t["swing"].is_monotonic_decreasing
    resp.loc[0, ["elasticity_se", "post_dip_se"]] = [0.01, 0.3]
    t = simulate(plan(), resp, baseline, items, draws=100).tornado
    assert t.loc[0, "input"] == "post_dip"


def test_sibling_cannibalization_costs_sibling_margin(items, baseline):
    resp = exact().assign(sibling_effect=[0.0, -0.1, -0.2], sibling_effect_se=0.0)
    r = simulate(plan(), resp, baseline, items, draws=10)
    assert r.settings["cannibalization"] == "siblings"
    lost = 28 * (1 - np.exp(-0.1)) * 20 + 140 * (1 - np.exp(-0.2)) * 10
    assert r.draws["cannibalization"].iloc[0] == pytest.approx(-lost)
    none = simulate(plan(), resp, baseline, items, draws=10, cannibalization="none")
    assert none.draws["cannibalization"].iloc[0] == 0


def test_baseline_from_history_weekday_average():
    days = pd.date_range("2024-04-01", "2024-06-02")  # 9 weeks before the window
    units = np.where(days.day_of_week >= 5, 6.0, 3.0)
    demand = pd.DataFrame({"sku": "A", "date": days, "units": units, "in_stock": True, "promo_id": pd.NA})
    demand.loc[demand["date"] == "2024-05-06", ["units", "promo_id"]] = [50.0, "P1"]  # promoted Monday: ignored
    demand.loc[demand["date"] == "2024-05-07", ["units", "in_stock"]] = [0.0, False]  # stock-out: ignored
    b = baseline_from_history(demand, ["A"], START, END)
    assert list(b["baseline_units"]) == pytest.approx([3, 3, 3, 3, 3, 6, 6])
    with pytest.raises(DataError, match="no in-stock"):
        baseline_from_history(demand, ["Z"], START, END)


@pytest.mark.parametrize("kwargs, match", [
    (dict(end="2024-06-01"), "before 'start'"),
    (dict(depth=20), "percentage"),
    (dict(depth=1.5), "fraction"),
    (dict(skus=()), "at least one SKU"),
    (dict(mechanic="half_off"), "mechanic"),
    (dict(mechanic="coupon", depth=None, threshold=10.0, reward=20.0), "exceeds"),
    (dict(mechanic="threshold", depth=None, threshold=0.0, reward=None), "tiers"),
    (dict(stock_cap=10.0), "flash sales only"),
])
def test_bad_plans_raise(kwargs, match):
    with pytest.raises(DataError, match=match):
        plan(**kwargs)


def test_bad_inputs_raise(items, baseline):
    with pytest.raises(DataError, match="absent from table 'items'"):
        simulate(plan(skus=("A", "ZZ")), exact(), baseline, items)
    with pytest.raises(DataError, match="pool"):
        simulate(plan(), exact().assign(elasticity=np.nan), baseline, items)
    with pytest.raises(DataError, match="misses window days"):
        simulate(plan(), exact(), baseline[baseline["date"] != DAYS[2]], items)
    with pytest.raises(DataError, match="flash"):
        simulate(plan(mechanic="flash_sale", depth=None, flash_price=150.0), exact(), baseline, items)
    with pytest.raises(DataError, match="draws"):
        simulate(plan(), exact(), baseline, items, draws=0)
