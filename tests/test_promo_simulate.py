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
    Simulator,
    baseline_from_history,
    baseline_uncertainty,
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


def shares(**kw):
    """Response in the share form of fit_own_price_response (dips and cannibalization as fractions of the
    bump), with the log multipliers it also writes (which the simulation must then ignore)."""
    frame = exact().assign(dip_fraction=[0.2, 0.1, 0.25], dip_fraction_se=0.0, pre_dip_fraction=[0.05, 0.15, 0.1],
                           pre_dip_fraction_se=0.0, cannibalization_share=0.3, cannibalization_share_se=0.0,
                           post_dip=-0.5, post_dip_se=0.2, pre_dip=-0.5, pre_dip_se=0.2)
    return frame.assign(**kw)


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


# --------------------------------------------------------------------------- draws, CRN, baseline uncertainty


def test_draws_match_lognormal_closed_form(items, baseline):
    # e ~ Normal(-3, 0.3) (truncation at 0 negligible): Q = B 0.8**e is lognormal with
    # log-mean log B - 3 log 0.8 and log-sd 0.3 |log 0.8|; moments and quantiles in closed form
    resp = exact().assign(elasticity_se=[0.3, 0.0, 0.0])
    n = 20_000
    r = simulate(plan(), resp, baseline, items, draws=n, seed=11, tornado=False)
    mu, sigma = np.log(70.0) - 3.0 * np.log(0.8), 0.3 * -np.log(0.8)
    q = r.draws["promo_units"].to_numpy()
    mean = np.exp(mu + sigma ** 2 / 2)
    sd = mean * np.sqrt(np.expm1(sigma ** 2))
    assert abs(q.mean() - mean) < 4 * sd / np.sqrt(n)
    assert q.std() == pytest.approx(sd, rel=0.03)
    z = 1.2815515655446004
    row = r.skus.iloc[0]
    assert row["incremental_units_p10"] == pytest.approx(np.exp(mu - z * sigma) - 70, rel=0.01)
    assert row["incremental_units_p90"] == pytest.approx(np.exp(mu + z * sigma) - 70, rel=0.01)


def test_input_streams_do_not_depend_on_other_inputs(items, baseline):
    # common random numbers per SKU and input: making the post-dip uncertain leaves the elasticity draws alone
    resp = exact().assign(elasticity_se=[0.5, 0.2, 0.1], post_dip=-0.1, post_dip_se=0.0)
    a = simulate(plan(skus=("A", "B")), resp, baseline, items, draws=500, seed=4)
    b = simulate(plan(skus=("A", "B")), resp.assign(post_dip_se=0.05), baseline, items, draws=500, seed=4)
    np.testing.assert_array_equal(a.draws["promo_units"], b.draws["promo_units"])
    assert not np.allclose(a.draws["post_dip"], b.draws["post_dip"])


def test_zero_baseline_uncertainty_changes_nothing_but_count_noise(items, baseline):
    zero = pd.DataFrame({"sku": ["A", "B", "C"], "baseline_log_se": 0.0, "overdispersion": 0.0})
    a = simulate(plan(), uncertain(), baseline, items, draws=300, seed=2)
    b = simulate(plan(), uncertain(), baseline, items, draws=300, seed=2, baseline_uncertainty=zero)
    columns = [c for c in a.draws.columns if c != "window_units"]
    pd.testing.assert_frame_equal(a.draws[columns], b.draws[columns])


def test_baseline_level_uncertainty_scales_units_lognormally(items, baseline):
    # known response, baseline level exp(s z): Q = B L exp(s z) and the bump B (L - 1) exp(s z)
    s, n = 0.25, 20_000
    unc = pd.DataFrame({"sku": ["A"], "baseline_log_se": [s], "overdispersion": [0.0]})
    r = simulate(plan(), exact(), baseline, items, draws=n, seed=5, baseline_uncertainty=unc)
    lift = 0.8 ** -3.0
    z = 1.2815515655446004
    row = r.skus.iloc[0]
    assert row["incremental_units_p10"] == pytest.approx(70 * (lift - 1) * np.exp(-z * s), rel=0.01)
    assert row["incremental_units_p90"] == pytest.approx(70 * (lift - 1) * np.exp(z * s), rel=0.01)
    b = r.draws["baseline_units"].to_numpy()
    assert np.median(b) == pytest.approx(70, rel=0.01)
    # the discount on baseline units and every margin move with the drawn level; the waterfall still sums
    np.testing.assert_allclose(-r.draws["discount_on_baseline_units"], b * 100 * 0.2, rtol=1e-12)
    np.testing.assert_allclose(r.draws[list(WATERFALL_COMPONENTS)].sum(axis=1), r.draws["profit"], rtol=1e-10)
    assert "baseline_level" in set(r.tornado["input"])


@pytest.mark.parametrize("omega", [0.0, 0.2])
def test_window_units_have_gamma_poisson_moments(items, baseline, omega):
    # expected window units q = 70 * 0.8**-3; realized: mean q, variance q + q**2 omega / 7 (7 days)
    q, n = 70 * 0.8 ** -3.0, 20_000
    unc = pd.DataFrame({"sku": ["A"], "baseline_log_se": [0.0], "overdispersion": [omega]})
    r = simulate(plan(), exact(), baseline, items, draws=n, seed=9, tornado=False, baseline_uncertainty=unc)
    y = r.draws["window_units"].to_numpy()
    var = q + q ** 2 * omega / 7
    assert abs(y.mean() - q) < 4 * np.sqrt(var / n)
    assert y.var() == pytest.approx(var, rel=0.03)
    np.testing.assert_allclose(r.draws["promo_units"], q, rtol=1e-12)


def _weekly_level_demand(tau, omega=0.0, weeks=104, seed=0):
    """Daily units with a level that jumps every week by exp(N(0, tau)) around 20/day."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-06-06", periods=7 * weeks)  # starts on a Monday
    level = 20 * np.repeat(np.exp(rng.normal(0, tau, weeks)), 7) if tau else np.full(len(days), 20.0)
    mean = level * (rng.gamma(1 / omega, omega, len(days)) if omega else 1.0)
    return pd.DataFrame({"sku": "A", "date": days, "units": rng.poisson(mean).astype(float)}), days[-1]


def test_baseline_uncertainty_recovers_level_noise_and_overdispersion():
    def start(last):
        return last + pd.Timedelta(days=1)

    flat, last = _weekly_level_demand(0.0)
    u = baseline_uncertainty(flat, ["A"], start(last), start(last) + pd.Timedelta(days=6))
    assert u.loc[0, "backtest_windows"] == 52
    assert u.loc[0, "baseline_log_se"] < 0.06  # Poisson counts around a known level: only the mean's error
    assert u.loc[0, "overdispersion"] < 0.01
    # independent weekly levels exp(N(0, 0.3)): the next week's level is off by about 0.3 in logs
    jumpy, last = _weekly_level_demand(0.3, seed=1)
    u = baseline_uncertainty(jumpy, ["A"], start(last), start(last) + pd.Timedelta(days=6))
    assert 0.22 < u.loc[0, "baseline_log_se"] < 0.40
    # daily gamma-Poisson with omega = 0.25 around a flat level
    over, last = _weekly_level_demand(0.0, omega=0.25, seed=2)
    u = baseline_uncertainty(over, ["A"], start(last), start(last) + pd.Timedelta(days=6))
    assert u.loc[0, "overdispersion"] == pytest.approx(0.25, rel=0.25)
    assert u.loc[0, "baseline_log_se"] < 0.08


def test_baseline_sampling_error_by_hand():
    # four weeks from a Monday, weekday g (0 = Monday) sells g, g, g + 2, g + 2: mean g + 1, sample
    # variance 4/3 each; a 7-day window takes one day of each weekday: P = sum(g + 1) = 28 and
    # S(P) = 7 * (4/3) / 4 = 7/3, so sampling_log_se = sqrt(7/3) / 28 (too little history: no backtest)
    days = pd.date_range("2024-01-01", periods=28)
    g = days.day_of_week.to_numpy()
    week = (np.arange(28) // 7)
    history = pd.DataFrame({"sku": "A", "date": days, "units": (g + 2 * (week >= 2)).astype(float)})
    start = days[-1] + pd.Timedelta(days=1)
    u = baseline_uncertainty(history, ["A"], start, start + pd.Timedelta(days=6))
    assert u.loc[0, "backtest_windows"] == 0 and u.loc[0, "drift_log_se"] == 0
    assert u.loc[0, "sampling_log_se"] == pytest.approx(np.sqrt(7 / 3) / 28, rel=1e-12)
    assert u.loc[0, "baseline_log_se"] == pytest.approx(u.loc[0, "sampling_log_se"], rel=1e-12)
    # a 3-day window (Monday to Wednesday): P = 1 + 2 + 3, S(P) = 3 * (4/3) / 4
    u = baseline_uncertainty(history, ["A"], start, start + pd.Timedelta(days=2))
    assert u.loc[0, "sampling_log_se"] == pytest.approx(1 / 6, rel=1e-12)


def test_one_lumpy_order_leaves_the_level_uncertain_by_a_factor_e():
    # 26 weeks without a sale but one order of 12 units: the mean rests on one event, S(P) / P**2 = 1
    # (the sample variance of k and n - 1 zeros, over n, is k**2 / n**2 = mean**2), whatever the backtest
    days = pd.date_range("2024-01-01", periods=182)
    units = np.zeros(182)
    units[100] = 12.0
    history = pd.DataFrame({"sku": "A", "date": days, "units": units})
    start = days[-1] + pd.Timedelta(days=1)
    u = baseline_uncertainty(history, ["A"], start, start + pd.Timedelta(days=13))
    assert u.loc[0, "backtest_windows"] > 4
    assert u.loc[0, "sampling_log_se"] == pytest.approx(1.0, rel=1e-12)
    assert u.loc[0, "baseline_log_se"] >= u.loc[0, "sampling_log_se"]


def test_overdispersion_is_measured_on_the_lookback_only():
    # Poisson days at 50 a day for a year, then 10 a day for the last 182 days (the lookback): the old
    # level is not day-to-day noise around today's baseline. Measured over all the history, omega was 9.6
    # and its count noise (9.6 / 7 in logs squared over a week) swallowed the backtest's level errors
    # (baseline_log_se 0); the backtest windows across the drop are level drift
    rng = np.random.default_rng(3)
    days = pd.date_range("2023-01-02", periods=365 + 182)
    mean = np.where(np.arange(len(days)) < 365, 50.0, 10.0)
    history = pd.DataFrame({"sku": "A", "date": days, "units": rng.poisson(mean).astype(float)})
    start = days[-1] + pd.Timedelta(days=1)
    u = baseline_uncertainty(history, ["A"], start, start + pd.Timedelta(days=6))
    assert u.loc[0, "overdispersion"] < 0.02
    assert u.loc[0, "drift_log_se"] > 0.5
    total = u.loc[0, "sampling_log_se"] ** 2 + u.loc[0, "drift_log_se"] ** 2
    assert u.loc[0, "baseline_log_se"] == pytest.approx(np.sqrt(total), rel=1e-12)


def test_baseline_uncertainty_bad_inputs(items, baseline):
    flat, last = _weekly_level_demand(0.0, weeks=4)
    with pytest.raises(DataError, match="no in-stock"):
        baseline_uncertainty(flat, ["Z"], last + pd.Timedelta(days=1), last + pd.Timedelta(days=7))
    with pytest.raises(DataError, match="before 'start'"):
        baseline_uncertainty(flat, ["A"], last, last - pd.Timedelta(days=3))
    few = baseline_uncertainty(flat, ["A"], last + pd.Timedelta(days=1), last + pd.Timedelta(days=7))
    assert few.loc[0, "backtest_windows"] == 0 and few.loc[0, "baseline_log_se"] > 0  # sampling error only
    with pytest.raises(DataError, match="no row for SKU"):
        simulate(plan(), exact(), baseline, items, baseline_uncertainty=pd.DataFrame(
            {"sku": ["B"], "baseline_log_se": [0.1]}))
    with pytest.raises(DataError, match="finite and >= 0"):
        simulate(plan(), exact(), baseline, items, baseline_uncertainty=pd.DataFrame(
            {"sku": ["A"], "baseline_log_se": [-0.1]}))


# --------------------------------------------------------------------------- prepared simulator


def _assert_results_equal(a, b):
    """Every table of two results equal to 1e-12 of each column's scale (same draws, same numbers)."""
    for name in ("draws", "waterfall", "summary", "tornado", "guardrails", "skus"):
        x, y = getattr(a, name), getattr(b, name)
        assert list(x.columns) == list(y.columns) and len(x) == len(y), name
        for column in x.columns:
            u, v = x[column].to_numpy(), y[column].to_numpy()
            if u.dtype.kind != "f":
                assert (u == v).all(), (name, column)
                continue
            assert np.array_equal(np.isnan(u), np.isnan(v)) and np.array_equal(np.isinf(u), np.isinf(v))
            ok = np.isfinite(v)
            scale = max(1.0, float(np.abs(v[ok]).max())) if ok.any() else 1.0
            np.testing.assert_allclose(u[ok], v[ok], rtol=0, atol=1e-12 * scale, err_msg=f"{name}.{column}")
    assert a.probability_profitable == b.probability_profitable
    assert a.expected_shortfall == pytest.approx(b.expected_shortfall, rel=1e-12, abs=1e-12)


def test_prepared_simulator_gives_the_numbers_of_simulate(items, baseline):
    # one Simulator, the plan changed as a slider would (depth, mechanic, window, SKUs); each result equals a
    # fresh simulate() call; baseline with an extra week on both sides so that the window can move
    days = pd.date_range("2024-05-27", "2024-06-16")
    wide = pd.DataFrame([(s, d, u + 0.1 * d.day) for s, u in {"A": 10.0, "B": 4.0, "C": 20.0}.items()
                         for d in days], columns=["sku", "date", "baseline_units"])
    unc = pd.DataFrame({"sku": ["A", "B", "C"], "baseline_log_se": [0.1, 0.2, 0.0], "overdispersion": 0.1})
    sib = uncertain().drop(columns=["cannibalization_share", "cannibalization_share_se"]).assign(
        sibling_effect=[-0.05, -0.1, -0.2], sibling_effect_se=[0.02, 0.03, 0.0])
    plans = [plan(), plan(depth=0.3), plan(skus=("A", "B"), funding_share=0.2, fixed_cost=50.0),
             plan(start="2024-06-05", end="2024-06-12"), plan(mechanic="flash_sale", depth=0.4, stock_cap=60.0),
             plan(mechanic="coupon", depth=None, threshold=99.0, reward=10.0, skus=("B", "C")), plan(depth=0.1)]
    share_form = uncertain().assign(dip_fraction=[0.2, 0.1, 0.3], dip_fraction_se=[0.1, 0.05, 0.0],
                                    pre_dip_fraction=[0.05, np.nan, 0.0], pre_dip_fraction_se=[0.03, np.nan, 0.0])
    for response, uncertainty in ((uncertain(), None), (uncertain(), unc), (sib, unc), (share_form, unc)):
        simulator = Simulator(response, wide, items, draws=400, seed=6, baseline_uncertainty=uncertainty)
        for p in plans:
            prepared = simulator.simulate(p)
            fresh = simulate(p, response, wide, items, draws=400, seed=6, baseline_uncertainty=uncertainty)
            _assert_results_equal(prepared, fresh)
            assert prepared.settings["cannibalization"] == fresh.settings["cannibalization"]
        assert simulator.simulate(plans[0]).settings["cannibalization"] == (
            "siblings" if response is sib else "share")
    a = Simulator(uncertain(), wide, items, draws=300, seed=2).compare(plans[:3])
    b = compare(plans[:3], uncertain(), wide, items, draws=300, seed=2)
    pd.testing.assert_frame_equal(a.table, b.table, rtol=1e-12)


def test_summary_quantiles_and_shortfall_match_numpy(items, baseline):
    # the P10/P50/P90 of the tables are numpy's linear percentiles of the draws (a second method)
    r = simulate(plan(skus=("A", "B")), uncertain(), baseline, items, draws=1001, seed=3)
    d = r.draws
    s = r.summary.set_index("metric")
    for metric in ("profit", "incremental_units", "promotion_gmv", "spend", "profit_roi", "gmv_roi"):
        np.testing.assert_allclose(s.loc[metric, ["p10", "p50", "p90"]].to_numpy(float),
                                   np.percentile(d[metric], [10, 50, 90]), rtol=1e-13)
        assert s.at[metric, "mean"] == pytest.approx(d[metric].mean(), rel=1e-13)
    w = r.waterfall.set_index("component")
    np.testing.assert_allclose(w.loc["post_dip", ["p10", "p50", "p90"]].to_numpy(float),
                               np.percentile(d["post_dip"], [10, 50, 90]), rtol=1e-13)
    assert r.expected_shortfall == pytest.approx(np.sort(d["profit"])[:101].mean(), rel=1e-13)
    row = r.skus.set_index("sku").loc["B"]
    units = simulate(plan(skus=("B",)), uncertain(), baseline, items, draws=1001, seed=3).draws["incremental_units"]
    np.testing.assert_allclose(row[["incremental_units_p10", "incremental_units_p50", "incremental_units_p90"]]
                               .to_numpy(float), np.percentile(units, [10, 50, 90]), rtol=1e-12)


def test_tornado_elasticity_swing_is_the_closed_form(items, baseline):
    # only A's elasticity is uncertain: its P10/P90 (normal quantiles, truncation at 0 negligible 6 se away)
    # give the own incremental margin of notes 2.5 in closed form
    resp = exact().assign(elasticity_se=[0.5, 0.0, 0.0])
    t = simulate(plan(), resp, baseline, items, draws=50).tornado
    assert len(t) == 1 and t.loc[0, "input"] == "elasticity"
    z = 1.2815515655446004
    for level, e in (("low", -3.0 - 0.5 * z), ("high", -3.0 + 0.5 * z)):
        assert t.loc[0, level] == pytest.approx(e, rel=1e-8)
        own = own_incremental_margin(70.0, 70.0 * 0.8 ** e, 100.0, 0.4, 0.2)
        assert t.loc[0, f"profit_{level}"] == pytest.approx(float(own.incremental_margin), rel=1e-8)


def test_simulator_baseline_duplicates_are_summed_and_plans_checked(items, baseline):
    halves = pd.concat([baseline.assign(baseline_units=baseline["baseline_units"] / 2)] * 2, ignore_index=True)
    a = Simulator(exact(), halves, items, draws=20).simulate(plan(), tornado=False)
    b = simulate(plan(), exact(), baseline, items, draws=20, tornado=False)
    np.testing.assert_allclose(a.draws["profit"], b.draws["profit"], rtol=1e-12)
    simulator = Simulator(exact(), baseline, items, draws=20)
    with pytest.raises(DataError, match="absent from table 'items'"):
        simulator.simulate(plan(skus=("A", "ZZ")))
    with pytest.raises(DataError, match="misses window days"):
        simulator.simulate(plan(end="2024-06-10"))
    with pytest.raises(DataError, match="draws"):
        Simulator(exact(), baseline, items, draws=0)


# --------------------------------------------------------------------------- dips as shares of the bump


def test_dip_shares_at_zero_variance_give_the_closed_form_waterfall(items, baseline):
    # bump = Q - B, dips f * bump and h * bump, cannibalization c * bump, all at the regular margin (notes 2.5)
    p = plan(skus=("A", "B"), depth=0.2, funding_share=0.25, fixed_cost=300.0)
    r = simulate(p, shares(), baseline, items, draws=40)
    assert r.settings["dips"] == "share" and r.settings["cannibalization"] == "share"
    b, price, m_r = np.array([70.0, 28.0]), np.array([100.0, 50.0]), np.array([40.0, 20.0])
    q = b * 0.8 ** np.array([-3.0, -2.0])
    bump = q - b
    f, h, c = np.array([0.2, 0.1]), np.array([0.05, 0.15]), 0.3
    expected = {
        "baseline_margin": (b * m_r).sum(), "own_lift_margin": (bump * m_r).sum(),
        "discount_on_baseline_units": -(b * price * 0.2).sum(),
        "discount_on_incremental_units": -(bump * price * 0.2).sum(),
        "cannibalization": -(c * bump * m_r).sum(), "post_dip": -(f * bump * m_r).sum(),
        "pre_dip": -(h * bump * m_r).sum(),
        "coupon_cost": 0.0, "gift_cost": 0.0, "points_cost": 0.0, "fixed_cost": -300.0,
        "funding": 0.25 * (q * price * 0.2).sum()}
    expected["incremental_profit"] = sum(v for k, v in expected.items() if k != "baseline_margin")
    expected["promotion_margin"] = expected["baseline_margin"] + expected["incremental_profit"]
    w = r.waterfall.set_index("component")
    for component, value in expected.items():
        np.testing.assert_allclose(w.loc[component, ["mean", "p10", "p50", "p90"]].to_numpy(float), value,
                                   rtol=1e-12, atol=1e-12 * 1e4, err_msg=component)
    d = r.draws
    np.testing.assert_allclose(d["net_incremental_units"], (bump * (1 - c - f - h)).sum(), rtol=1e-12)
    np.testing.assert_allclose(d["incremental_gmv"], (q * price * 0.8).sum() - (b * price).sum()
                               - ((c + f + h) * bump * price).sum(), rtol=1e-12)
    np.testing.assert_allclose(d[list(WATERFALL_COMPONENTS)].sum(axis=1), d["profit"], rtol=1e-12)
    np.testing.assert_allclose(r.guardrails["non_incremental_share"], c + f + h, rtol=1e-15)


def test_dip_shares_reproduce_the_breakeven_closed_form(items, baseline):
    # a second method: the break-even elasticity of economics.py with non-incremental share c + f + h
    non_incremental = 0.3 + 0.2 + 0.05
    e_star = breakeven_elasticity(0.4, 0.1, 0.0, non_incremental)
    at = simulate(plan(depth=0.1), shares(elasticity=[e_star, -2.0, -1.5]), baseline, items, draws=20)
    assert at.draws["profit"].abs().max() < 1e-8
    above = simulate(plan(depth=0.1), shares(elasticity=[e_star - 0.05, -2.0, -1.5]), baseline, items, draws=20)
    below = simulate(plan(depth=0.1), shares(elasticity=[e_star + 0.05, -2.0, -1.5]), baseline, items, draws=20)
    assert above.probability_profitable == 1.0 and below.probability_profitable == 0.0
    assert above.guardrails.loc[0, "breakeven_elasticity"] == pytest.approx(e_star, rel=1e-12)
    assert above.guardrails.loc[0, "probability_above_breakeven"] == 1.0
    assert below.guardrails.loc[0, "probability_above_breakeven"] == 0.0


def test_dip_scales_with_the_simulated_bump(items, baseline):
    # per draw (uncertain elasticity and baseline level) the dips are f and h times the bump's margin;
    # a deeper discount lifts more and so loses more afterwards, unlike the fixed multiplier
    unc = pd.DataFrame({"sku": ["A"], "baseline_log_se": [0.2], "overdispersion": [0.1]})
    r = simulate(plan(), shares(elasticity_se=0.5), baseline, items, draws=500, seed=3, baseline_uncertainty=unc)
    d = r.draws
    assert d["own_lift_margin"].std() > 0
    np.testing.assert_allclose(d["post_dip"], -0.2 * d["own_lift_margin"], rtol=1e-12)
    np.testing.assert_allclose(d["pre_dip"], -0.05 * d["own_lift_margin"], rtol=1e-12)
    np.testing.assert_allclose(d["cannibalization"], -0.3 * d["own_lift_margin"], rtol=1e-12)
    dips = [simulate(plan(depth=depth), shares(), baseline, items, draws=5).draws["post_dip"].iloc[0]
            for depth in (0.1, 0.2, 0.3)]
    assert dips == pytest.approx([-0.2 * 40 * 70 * (0.9 ** -3.0 - 1), -0.2 * 40 * 70 * (0.8 ** -3.0 - 1),
                                  -0.2 * 40 * 70 * (0.7 ** -3.0 - 1)], rel=1e-12)
    fixed = [simulate(plan(depth=depth), uncertain().assign(post_dip_se=0.0, pre_dip_se=0.0, elasticity_se=0.0),
                      baseline, items, draws=5).draws["post_dip"].iloc[0] for depth in (0.1, 0.3)]
    assert fixed[0] == fixed[1] == pytest.approx(-140 * (1 - np.exp(-0.1)) * 40, rel=1e-12)


def test_dip_fraction_draws_are_a_clipped_normal_with_its_own_stream(items, baseline):
    # f ~ Normal(0.5, 0.5) clipped to [0, 1]: P(f = 0) = P(f = 1) = Phi(-1), P(f <= 0.25) = Phi(-0.5)
    n = 20_000
    r = simulate(plan(), shares(dip_fraction_se=0.5, dip_fraction=0.5), baseline, items, draws=n, seed=8)
    f = -r.draws["post_dip"].to_numpy() / r.draws["own_lift_margin"].to_numpy()
    assert f.min() == 0.0 and f.max() == pytest.approx(1.0, rel=1e-12)
    for share, p in ((np.mean(f < 1e-12), 0.15865525393145707), (np.mean(f > 1 - 1e-12), 0.15865525393145707),
                     (np.mean(f <= 0.25), 0.3085375387259869)):
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert abs(f.mean() - 0.5) < 4 * 0.4 / np.sqrt(n)  # symmetric around 0.5
    # tornado: P10 and P90 of the clipped normal are 0 and 1 (0.5 -+ 1.28 * 0.5 clipped); profit in closed form
    t = r.tornado.set_index("input").loc["dip_fraction"]
    bump_margin = 40 * 70 * (0.8 ** -3.0 - 1)
    base_profit = bump_margin * (1 - 0.3 - 0.05) - 70 * 0.8 ** -3.0 * 100 * 0.2
    assert (t["low"], t["high"]) == (0.0, 1.0)
    assert t["profit_low"] == pytest.approx(base_profit, rel=1e-12)
    assert t["profit_high"] == pytest.approx(base_profit - bump_margin, rel=1e-12)
    # its own random stream: making the pre-dip fraction uncertain leaves the post-dip draws alone
    both = simulate(plan(), shares(dip_fraction_se=0.5, dip_fraction=0.5, pre_dip_fraction_se=0.05),
                    baseline, items, draws=n, seed=8)
    np.testing.assert_array_equal(both.draws["post_dip"], r.draws["post_dip"])
    assert both.draws["pre_dip"].std() > 0
    assert abs(np.corrcoef(both.draws["pre_dip"], both.draws["post_dip"])[0, 1]) < 0.05  # sd about 0.007
    assert set(both.tornado["input"]) == {"dip_fraction", "pre_dip_fraction"}


def test_dip_shares_lose_at_most_the_window_baseline(items, baseline):
    # 2 post-dip days of 10 units: 0.5 * 66.7 bump units would exceed them; no pre-dip days: no pre-dip
    r = simulate(plan(), shares(dip_fraction=0.5), baseline, items, draws=5, pre_dip_days=0, post_dip_days=2)
    assert r.draws["post_dip"].iloc[0] == pytest.approx(-20 * 40, rel=1e-12)
    assert r.draws["pre_dip"].iloc[0] == 0.0
    assert r.guardrails.loc[0, "non_incremental_share"] == pytest.approx(0.3 + 0.5, rel=1e-15)
    # a mechanic that loses units (Q < B, no bump): nothing is pulled forward or cannibalized
    loss = simulate(plan(), shares(mechanic_percent_off=-1.0, mechanic_percent_off_se=0.0), baseline, items,
                    draws=5)
    assert loss.draws["incremental_units"].iloc[0] == pytest.approx(70 * (0.8 ** -3.0 * np.exp(-1.0) - 1))
    assert loss.draws["incremental_units"].iloc[0] < 0
    assert (loss.draws[["post_dip", "pre_dip", "cannibalization"]].to_numpy() == 0).all()


def test_responses_without_dip_fractions_give_the_numbers_of_before(items, baseline):
    # reference numbers printed by the implementation before the dip fractions (opslib at commit 63b1361)
    unc = pd.DataFrame({"sku": ["A", "B", "C"], "baseline_log_se": [0.1, 0.2, 0.0], "overdispersion": 0.1})
    p = plan(skus=("A", "B"), funding_share=0.2, fixed_cost=50.0)
    r = simulate(p, uncertain(), baseline, items, draws=400, seed=12, baseline_uncertainty=unc)
    before = {"profit": [-743.0334908370535, -1232.6604944033295, -1258.0157066835668],
              "post_dip": [-340.7309297080687, -521.5304439484008, -825.00770045182],
              "pre_dip": [-70.45100444529537, -23.769882716744707, -91.77552984447921],
              "cannibalization": [-884.4119017037239, -1607.3931342360197, -1094.7890649331084],
              "window_units": [163.30179953517083, 203.4204937336935, 212.1378579219563]}
    for column, values in before.items():
        np.testing.assert_allclose(r.draws.loc[[0, 17, 399], column], values, rtol=1e-12, err_msg=column)
    t = r.tornado
    assert list(zip(t["sku"], t["input"])) == [
        ("A", "cannibalization"), ("A", "elasticity"), ("A", "post_dip"), ("A", "baseline_level"),
        ("B", "baseline_level"), ("A", "pre_dip"), ("B", "post_dip"), ("B", "elasticity"), ("B", "cannibalization")]
    np.testing.assert_allclose(t["profit_low"], [
        -776.1032286821346, -777.2197334966289, -1344.4585733334698, -984.2463079962148, -1056.9736558588827,
        -1126.2029243747875, -1118.2141714047568, -1070.488853164335, -1072.7322780974694], rtol=1e-12)
    assert r.settings["dips"] == "multiplier"
    # empty fraction columns are the same as none; one SKU with fractions: the other keeps its multiplier
    empty = uncertain().assign(dip_fraction=np.nan, dip_fraction_se=np.nan, pre_dip_fraction=np.nan,
                               pre_dip_fraction_se=np.nan)
    pd.testing.assert_frame_equal(simulate(p, empty, baseline, items, draws=400, seed=12,
                                           baseline_uncertainty=unc).draws, r.draws)
    mixed = exact().assign(post_dip=[-0.5, -0.1, 0.0], post_dip_se=0.0, dip_fraction=[0.2, np.nan, np.nan],
                           dip_fraction_se=0.0)
    m = simulate(plan(skus=("A", "B")), mixed, baseline, items, draws=5)
    assert m.settings["dips"] == "mixed"
    bump_a = 70 * (0.8 ** -3.0 - 1)
    assert m.draws["post_dip"].iloc[0] == pytest.approx(-(0.2 * bump_a * 40 + 56 * (1 - np.exp(-0.1)) * 20),
                                                        rel=1e-12)


def test_unit_discount_replaces_the_two_unit_convention_for_multi_unit_offers():
    from opslib.promo import PromotionPlan
    price = np.array([10.0, 20.0])
    plan = PromotionPlan(("A", "B"), "2024-06-01", "2024-06-07", mechanic="second_half_price", depth=0.5)
    np.testing.assert_allclose(plan.rates(price)[0], [0.25, 0.25])          # half the second unit's cut
    measured = PromotionPlan(("A", "B"), "2024-06-01", "2024-06-07", mechanic="second_half_price", depth=0.5,
                             unit_discount=0.186)
    demand_depth, cost_rate, component = measured.rates(price)
    np.testing.assert_allclose(demand_depth, [0.186, 0.186])
    np.testing.assert_allclose(cost_rate, [0.186, 0.186])
    assert component == "discount"
    with pytest.raises(DataError, match="unit_discount"):
        PromotionPlan(("A",), "2024-06-01", "2024-06-07", depth=0.2, unit_discount=0.1)
    with pytest.raises(DataError, match="unit_discount"):
        PromotionPlan(("A",), "2024-06-01", "2024-06-07", mechanic="bogo", unit_discount=18.6)


def test_censored_poisson_rate_closed_form():
    from opslib.promo.simulate import _censored_poisson_rate

    # no censored day: the ratio estimate sum(y) / sum(f)
    assert _censored_poisson_rate(12.0, 4.0, np.array([]), np.array([])) == pytest.approx(3.0, rel=1e-12)
    # one day censored at 1 (its demand was at least 1), f = 1: the score at lambda is
    # sum(y) / lambda - n + exp(-lambda) / (1 - exp(-lambda)); with sum(y) = n - e / (1 - e), e = exp(-1),
    # the root is lambda = 1 exactly
    e = np.exp(-1.0)
    assert _censored_poisson_rate(5 - e / (1 - e), 5.0, np.array([1.0]), np.array([1.0])) == pytest.approx(1.0,
                                                                                                      rel=1e-9)
    # factors: the same days at f = 2 (sum f = 10, the censored day's f_c = 2): the score
    # (5 - e / (1 - e)) / lambda - 10 + 2 exp(-2 lambda) / (1 - exp(-2 lambda)) vanishes at lambda = 1/2
    assert _censored_poisson_rate(5 - e / (1 - e), 10.0, np.array([1.0]), np.array([2.0])) == pytest.approx(
        0.5, rel=1e-9)


def test_baseline_counts_a_sold_out_day_as_censored():
    # eight weeks of 4 a day; one Monday sold out after 1 unit (in_stock False), another sold
    # 4 - 4 e4 / (1 - e4) (e4 = exp(-4)): the Monday score sum(y) / lambda - 7 + e4 / (1 - e4) (seven
    # uncensored Mondays, one censored at 1) vanishes at lambda = 4 exactly
    days = pd.date_range("2024-04-08", periods=56)  # from a Monday
    units = np.full(56, 4.0)
    e4 = np.exp(-4.0)
    mondays = np.flatnonzero(days.day_of_week == 0)
    units[mondays[2]] = 4 - 4 * e4 / (1 - e4)
    units[mondays[5]] = 1.0
    in_stock = np.ones(56, bool)
    in_stock[mondays[5]] = False
    demand = pd.DataFrame({"sku": "A", "date": days, "units": units, "in_stock": in_stock, "promo_id": pd.NA})
    start = days[-1] + pd.Timedelta(days=1)
    b = baseline_from_history(demand, ["A"], start, start + pd.Timedelta(days=6))
    assert list(b["baseline_units"]) == pytest.approx([4.0] * 7, rel=1e-9)
    old = baseline_from_history(demand, ["A"], start, start + pd.Timedelta(days=6), censored_stockouts=False)
    # the sold-out day left out
    assert old["baseline_units"].iloc[0] == pytest.approx((28 - 4 * e4 / (1 - e4)) / 7, rel=1e-12)
    # a sold-out day without a sale carries no information: left out either way
    demand.loc[mondays[5], "units"] = 0.0
    b = baseline_from_history(demand, ["A"], start, start + pd.Timedelta(days=6))
    assert b["baseline_units"].iloc[0] == pytest.approx((28 - 4 * e4 / (1 - e4)) / 7, rel=1e-12)


def _blocky_season():
    """One SKU selling 5 a day, 10 a day on days 200-299 of every 364-day year (a season that repeats)."""
    days = pd.date_range("2023-01-02", periods=578)
    t = np.arange(len(days))
    units = np.where((t % 364 >= 200) & (t % 364 < 300), 10.0, 5.0)
    promo = np.where((t >= 550), "P1", None)  # the 28 days before the window promoted
    return pd.DataFrame({"sku": "A", "date": days, "units": units, "in_stock": True,
                         "promo_id": pd.array(promo, dtype="string")}), days[-1] + pd.Timedelta(days=1)


def test_seasonal_factors_ratio_of_sums():
    from opslib.promo.simulate import seasonal_factors

    demand, start = _blocky_season()
    # a year before start + 7 (day 221 of last year): its +-14 days all high; a year before day 530 (166): all low
    f = seasonal_factors(demand, ["A"], start, [start + pd.Timedelta(days=7), start - pd.Timedelta(days=48)])
    assert f[0] / f[1] == pytest.approx(2.0, rel=1e-12)
    # before the history's first year: unknown
    assert np.isnan(seasonal_factors(demand, ["A"], start, [pd.Timestamp("2023-02-01")])[0])


def test_baseline_carries_last_years_season_to_the_window():
    # the clean days of the lookback (days 522-549, last year's 158-185 and their +-14 days: low) sell 5 a
    # day; the window (days 578-584, last year's 214-220 +-14: high) sold twice that a year ago, so the
    # season-adjusted baseline is 5 * 2 = 10 a day; the weekday average alone says 5
    demand, start = _blocky_season()
    window = (start, start + pd.Timedelta(days=6))
    b = baseline_from_history(demand, ["A"], *window, lookback_days=56)
    assert list(b["baseline_units"]) == pytest.approx([10.0] * 7, rel=1e-12)
    plain = baseline_from_history(demand, ["A"], *window, lookback_days=56, seasonal=False)
    assert list(plain["baseline_units"]) == pytest.approx([5.0] * 7, rel=1e-12)
    # the uncertainty's baseline is the same estimate: no spread on a deterministic series
    u = baseline_uncertainty(demand, ["A"], *window, lookback_days=56)
    assert u.loc[0, "sampling_log_se"] == pytest.approx(0.0, abs=1e-12)
