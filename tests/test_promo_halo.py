"""opslib.promo.halo: halo on complements recovered from synthetic order lines with a known attach rate,
and the halo row of the simulation against its closed form.

The synthetic shop: 20 promoted SKUs (category tea, one unit per order) and 30 complements (snacks). Every
day each promoted SKU has Poisson(6) baseline orders carrying Poisson(1) complement units; on its 21
promotion days (three line-level percent_off weeks) it has Poisson(6) more orders carrying Poisson(1 + k)
complement units. Each incremental unit of the promoted SKU therefore brings k complement units beyond the
baseline attach: the true halo is k units per bump unit.
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
    fit_halo,
    simulate,
)
from opslib.promo.halo import shrink_toward_zero

DAY0 = pd.Timestamp("2024-01-01")
N_DAYS, N_PROMOTED, N_COMPLEMENTS = 364, 20, 30
COMPLEMENT_MARGIN = 4.0  # price 10, unit cost 6, sold at full price


def synthetic_shop(k: float, seed: int = 0):
    """``order_lines, promotions, items`` with a true halo of ``k`` complement units per bump unit."""
    rng = np.random.default_rng(seed)
    promoted = [f"P{i:02d}" for i in range(N_PROMOTED)]
    extra = [f"X{i:02d}" for i in range(N_COMPLEMENTS)]
    items = pd.DataFrame({"sku": promoted + extra, "price": [50.0] * N_PROMOTED + [10.0] * N_COMPLEMENTS,
                          "unit_cost": [30.0] * N_PROMOTED + [6.0] * N_COMPLEMENTS,
                          "category": ["tea"] * N_PROMOTED + ["snack"] * N_COMPLEMENTS})
    promo_days = np.zeros((N_PROMOTED, N_DAYS), bool)
    rows = []
    for i, sku in enumerate(promoted):
        starts = rng.choice(np.arange(10, N_DAYS - 10, 7), 3, replace=False)
        for j, a in enumerate(starts):
            promo_days[i, a:a + 7] = True
            rows.append({"promo_id": f"{sku}-{j}", "mechanic": "percent_off", "start": DAY0 + pd.Timedelta(days=a),
                         "end": DAY0 + pd.Timedelta(days=a + 6), "scope": f"sku:{sku}", "depth": 0.2})
    promotions = pd.DataFrame(rows)
    base = rng.poisson(6.0, (N_PROMOTED, N_DAYS))
    more = np.where(promo_days, rng.poisson(6.0, (N_PROMOTED, N_DAYS)), 0)
    sku_of = np.concatenate([np.repeat(np.repeat(np.arange(N_PROMOTED), N_DAYS), base.ravel()),
                             np.repeat(np.repeat(np.arange(N_PROMOTED), N_DAYS), more.ravel())])
    day_of = np.concatenate([np.repeat(np.tile(np.arange(N_DAYS), N_PROMOTED), base.ravel()),
                             np.repeat(np.tile(np.arange(N_DAYS), N_PROMOTED), more.ravel())])
    incremental = np.r_[np.zeros(base.sum(), bool), np.ones(more.sum(), bool)]
    n = len(sku_of)
    order_id = np.array([f"O{j:07d}" for j in range(n)], dtype=object)
    on_promo = promo_days[sku_of, day_of]
    price = np.where(on_promo, 40.0, 50.0)
    c_units = rng.poisson(np.where(incremental, 1.0 + k, 1.0))
    c_order = np.repeat(np.arange(n), c_units)
    c_sku = rng.integers(0, N_COMPLEMENTS, len(c_order))
    ts = DAY0 + pd.to_timedelta(day_of, unit="D") + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    own = pd.DataFrame({"order_id": order_id, "order_ts": ts, "sku": np.asarray(promoted, object)[sku_of],
                        "qty": 1, "paid_amount": price})
    comp = pd.DataFrame({"order_id": order_id[c_order], "order_ts": ts[c_order],
                         "sku": np.asarray(extra, object)[c_sku], "qty": 1, "paid_amount": 10.0})
    lines = pd.concat([own, comp], ignore_index=True)
    lines = lines.groupby(["order_id", "order_ts", "sku"], as_index=False)[["qty", "paid_amount"]].sum()
    return lines, promotions, items


@pytest.fixture(scope="module")
def shop_with_halo():
    return synthetic_shop(0.5, seed=1)


@pytest.fixture(scope="module")
def shop_without_halo():
    return synthetic_shop(0.0, seed=2)


@pytest.fixture(scope="module")
def with_halo(shop_with_halo):
    return fit_halo(*shop_with_halo, bootstrap=300, seed=3)


@pytest.fixture(scope="module")
def without_halo(shop_without_halo):
    return fit_halo(*shop_without_halo, bootstrap=300, seed=3)


def test_known_halo_is_recovered_within_sampling_error(with_halo):
    e = with_halo.estimates
    assert len(e) == N_PROMOTED and (e["status"] == "estimated").all()
    assert set(e["sku"]) == {f"P{i:02d}" for i in range(N_PROMOTED)}
    # each SKU's raw estimate within 4 bootstrap se of the truth 0.5; their precision-weighted mean within 3
    z = (e["raw_halo_units_per_bump_unit"] - 0.5) / e["raw_se"]
    assert z.abs().max() < 4
    w = 1 / e["raw_se"] ** 2
    pooled = float((w * e["raw_halo_units_per_bump_unit"]).sum() / w.sum())
    assert abs(pooled - 0.5) < 3 / np.sqrt(w.sum())
    # the bootstrap se is the sampling spread: sd of the z-scores about 1 (20 SKUs: loose bounds)
    assert 0.5 < z.std() < 1.6
    # after shrinkage toward 0: still near 0.5, pulled only a little (the halos are far from 0)
    assert abs(e["halo_units_per_bump_unit"].mean() - 0.5) < 0.1
    assert (e["halo_units_per_bump_unit"] <= e["raw_halo_units_per_bump_unit"] + 1e-12).all()
    # attach: baseline Poisson(1) per order; promotion orders half baseline, half at 1 + 0.5
    assert e["attach_baseline"].mean() == pytest.approx(1.0, abs=0.03)
    assert e["attach_promo"].mean() == pytest.approx(1.25, abs=0.06)
    # margin of a halo unit: complements sell at 10 with unit cost 6
    np.testing.assert_allclose(e["complement_margin_per_unit"], COMPLEMENT_MARGIN, rtol=1e-12)
    np.testing.assert_allclose(e["halo_margin_per_bump_unit"], e["halo_units_per_bump_unit"] * COMPLEMENT_MARGIN,
                               rtol=1e-12)
    assert (e["n_orders"] > 200).all() and (e["promo_days"] == 21).all()


def test_no_halo_gives_estimates_consistent_with_zero(without_halo):
    e = without_halo.estimates
    z = e["raw_halo_units_per_bump_unit"] / e["raw_se"]
    assert z.abs().max() < 4
    w = 1 / e["raw_se"] ** 2
    pooled = float((w * e["raw_halo_units_per_bump_unit"]).sum() / w.sum())
    assert abs(pooled) < 3 / np.sqrt(w.sum())
    # shrunk toward 0, with intervals that still contain 0 and are not points
    assert (e["halo_units_per_bump_unit"].abs() < 2 * e["se"]).all()
    assert (e["se"] > 0).all()
    assert without_halo.prior_sd < 0.15


def test_complements_option_counts_only_the_chosen_categories(shop_with_halo, with_halo):
    lines, promotions, items = shop_with_halo
    same = fit_halo(lines, promotions, items, complements="category", bootstrap=50).estimates
    # complements are snacks: nothing of the tea category rides along, so the attach is 0 everywhere
    assert (same["attach_baseline"] == 0).all() and (same["attach_promo"] == 0).all()
    other = fit_halo(lines, promotions, items, complements="other_categories", bootstrap=50).estimates
    everything = with_halo.estimates
    np.testing.assert_allclose(other["raw_halo_units_per_bump_unit"], everything["raw_halo_units_per_bump_unit"],
                               rtol=1e-12)


def test_order_level_offer_days_are_left_out(shop_without_halo):
    lines, promotions, items = shop_without_halo
    sitewide = pd.DataFrame([{"promo_id": "T1", "mechanic": "threshold", "start": DAY0,
                              "end": DAY0 + pd.Timedelta(days=9), "scope": "all", "threshold": 100.0,
                              "reward": 10.0}])
    h = fit_halo(lines, pd.concat([promotions, sitewide], ignore_index=True), items, bootstrap=50)
    assert (h.excluded_days["days"] == 10).all()
    assert (h.estimates["baseline_days"] + h.estimates["promo_days"] == N_DAYS - 10).all()


def test_shrinkage_matches_morris_closed_form():
    # equal variances V: A = mean(y^2) - V, B = (k - 2)/k V/(V + A), theta = (1 - B) y
    y, v = np.array([1.0, -0.5, 2.0, 0.3, -1.2, 0.8]), 0.25
    k = len(y)
    a = np.mean(y ** 2) - v
    b = (k - 2) / k * v / (v + a)
    est, se, prior_sd = shrink_toward_zero(y, np.full(k, 0.5))
    np.testing.assert_allclose(est, (1 - b) * y, rtol=1e-12)
    np.testing.assert_allclose(se, np.sqrt(v * (1 - b) + 2 / (k - 2) * b ** 2 * y ** 2), rtol=1e-12)
    assert prior_sd == pytest.approx(np.sqrt(a), rel=1e-10)
    # no spread beyond the noise: A = 0, shrunk by (k - 2)/k, the intervals keep a width
    est, se, prior_sd = shrink_toward_zero([0.1, -0.1, 0.05, 0.0], [1.0] * 4)
    assert prior_sd == 0.0
    np.testing.assert_allclose(est, np.array([0.1, -0.1, 0.05, 0.0]) * 2 / 4, rtol=1e-12)
    assert (se > 0.7).all()
    # a unit without an estimate gets the prior: 0 with the prior's spread
    est, se, _ = shrink_toward_zero([1.0, np.nan, 2.0, -1.5], [0.1, np.nan, 0.1, 0.1])
    assert est[1] == 0.0 and se[1] > 1.0


def test_bad_inputs_raise(shop_without_halo):
    lines, promotions, items = shop_without_halo
    with pytest.raises(DataError, match="lacks column"):
        fit_halo(lines.drop(columns="qty"), promotions, items)
    with pytest.raises(DataError, match="qty > 0"):
        fit_halo(lines.assign(qty=lines["qty"].where(lines.index != 3, -1)), promotions, items)
    with pytest.raises(DataError, match="absent from table 'items'"):
        fit_halo(lines, promotions, items[items["sku"] != "X03"])
    with pytest.raises(DataError, match="complements"):
        fit_halo(lines, promotions, items, complements="snacks")
    few = fit_halo(lines, promotions, items, min_orders=10_000, bootstrap=20).estimates
    assert (few["status"].str.contains("fewer than")).all() and (few["halo_units_per_bump_unit"] == 0).all()


# --------------------------------------------------------------------------- simulate with halo

START, END = "2024-06-03", "2024-06-09"
DAYS = pd.date_range(START, END)


@pytest.fixture
def sim_tables():
    items = pd.DataFrame({"sku": ["A", "B", "C"], "price": [100.0, 50.0, 20.0], "unit_cost": [60.0, 30.0, 10.0],
                          "category": ["tea"] * 3})
    baseline = pd.DataFrame([(s, d, u) for s, u in {"A": 10.0, "B": 4.0, "C": 20.0}.items() for d in DAYS],
                            columns=["sku", "date", "baseline_units"])
    response = pd.DataFrame({"sku": ["A", "B", "C"], "elasticity": [-3.0, -2.0, -1.5], "elasticity_se": 0.0,
                             "cannibalization_share": 0.3, "cannibalization_share_se": 0.0})
    halo = pd.DataFrame({"sku": ["A", "B"], "halo_units_per_bump_unit": [0.4, 0.2],
                         "halo_margin_per_bump_unit": [0.4 * 5.0, 0.2 * 8.0], "se": [0.0, 0.0], "n_orders": 100,
                         "complement_margin_per_unit": [5.0, 8.0]})
    return items, baseline, response, halo


def test_zero_variance_halo_equals_the_closed_form(sim_tables):
    items, baseline, response, halo = sim_tables
    p = PromotionPlan(skus=("A", "B"), start=START, end=END, depth=0.2, funding_share=0.25, fixed_cost=300.0)
    without = simulate(p, response, baseline, items, draws=30)
    r = simulate(p, response, baseline, items, draws=30, halo=halo)
    b = np.array([70.0, 28.0])
    bump = b * 0.8 ** np.array([-3.0, -2.0]) - b
    expected = (np.array([0.4, 0.2]) * bump * np.array([5.0, 8.0])).sum()
    w = r.waterfall.set_index("component")
    np.testing.assert_allclose(w.loc["halo", ["mean", "p10", "p50", "p90"]].to_numpy(float), expected, rtol=1e-12)
    assert w.loc["halo", "kind"] == "change" and expected > 0
    d = r.draws
    np.testing.assert_allclose(d[list(WATERFALL_COMPONENTS)].sum(axis=1), d["profit"], rtol=1e-12)
    np.testing.assert_allclose(d["profit"], without.draws["profit"] + expected, rtol=1e-12)
    assert w.loc["incremental_profit", "mean"] == pytest.approx(d["profit"].mean(), rel=1e-12)
    assert w.loc["promotion_margin", "mean"] == pytest.approx(
        w.loc["baseline_margin", "mean"] + w.loc["incremental_profit", "mean"], rel=1e-12)
    # every other component is untouched
    for component in WATERFALL_COMPONENTS:
        if component != "halo":
            np.testing.assert_array_equal(d[component], without.draws[component], err_msg=component)
    assert (without.draws["halo"] == 0).all()
    # the margin per halo unit is read from halo_margin_per_bump_unit when the unit margin column is absent
    derived = simulate(p, response, baseline, items, draws=30, halo=halo.drop(columns="complement_margin_per_unit"))
    np.testing.assert_allclose(derived.draws["halo"], expected, rtol=1e-12)


def test_halo_draws_are_normal_on_their_own_stream_and_in_the_tornado(sim_tables):
    items, baseline, response, halo = sim_tables
    p = PromotionPlan(skus=("A",), start=START, end=END, depth=0.2)
    n = 20_000
    r = simulate(p, response, baseline, items, draws=n, seed=5, halo=halo.assign(se=[0.3, 0.0]))
    bump = 70 * (0.8 ** -3.0 - 1)
    rate = r.draws["halo"].to_numpy() / (bump * 5.0)  # drawn halo units per bump unit
    assert abs(rate.mean() - 0.4) < 4 * 0.3 / np.sqrt(n)
    assert rate.std() == pytest.approx(0.3, rel=0.03)
    assert (rate < 0).any()  # not clipped: a negative draw lowers the margin (no upward bias near 0)
    t = r.tornado.set_index("input").loc["halo"]
    z = 1.2815515655446004
    assert (t["low"], t["high"]) == pytest.approx((0.4 - 0.3 * z, 0.4 + 0.3 * z), rel=1e-12)
    assert t["profit_high"] - t["profit_low"] == pytest.approx(2 * 0.3 * z * bump * 5.0, rel=1e-10)
    # an uncertain elasticity draws the same numbers with or without an uncertain halo (append-only streams)
    uncertain = response.assign(elasticity_se=[0.4, 0.0, 0.0])
    a = simulate(p, uncertain, baseline, items, draws=500, seed=5)
    b = simulate(p, uncertain, baseline, items, draws=500, seed=5, halo=halo.assign(se=[0.3, 0.0]))
    np.testing.assert_array_equal(a.draws["promo_units"], b.draws["promo_units"])
    np.testing.assert_array_equal(a.draws["cannibalization"], b.draws["cannibalization"])


def test_fit_halo_result_feeds_the_simulator(sim_tables, with_halo):
    items, baseline, response, _ = sim_tables
    table = with_halo.estimates.assign(sku=["A", "B"] + list(with_halo.estimates["sku"][2:]))
    p = PromotionPlan(skus=("A", "B"), start=START, end=END, depth=0.2)
    a = Simulator(response, baseline, items, draws=200, seed=1, halo=with_halo.__class__(
        table, with_halo.prior_sd, with_halo.excluded_days)).simulate(p)
    b = simulate(p, response, baseline, items, draws=200, seed=1, halo=table)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    assert a.draws["halo"].mean() > 0 and a.settings["halo"] == 2


def test_bad_halo_tables_raise(sim_tables):
    items, baseline, response, halo = sim_tables
    p = PromotionPlan(skus=("A",), start=START, end=END, depth=0.2)
    with pytest.raises(DataError, match="halo"):
        simulate(p, response, baseline, items, halo=halo.drop(columns="se"))
    with pytest.raises(DataError, match="halo"):
        simulate(p, response, baseline, items, halo=halo.assign(se=[-0.1, 0.0]))
    with pytest.raises(DataError, match="complement_margin_per_unit"):
        simulate(p, response, baseline, items, halo=halo.drop(columns="complement_margin_per_unit").assign(
            halo_units_per_bump_unit=0.0, halo_margin_per_bump_unit=0.0, se=[0.1, 0.0]))
