"""opslib.promo.baskets: basket values, top-up calibration by bunching, basket simulation.

Model: promotion notes, section 3.2 (top-up band, overshoot, bubble returns; Hemmati et al.,
SSRN 3794442); the bunching estimator with the pre-period as counterfactual density (Kleven 2016).
Pricing reference: :func:`opslib.promo.mechanics.threshold_discount`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opslib import DataError
from opslib.promo import (
    TopUpModel,
    basket_values,
    fit_topup,
    simulate_baskets,
    threshold_discount,
)

TIERS = "200:20|400:50"


def _synthetic(probability, overshoot_mean, n=100_000, seed=7, band_fraction=0.2):
    rng = np.random.default_rng(seed)
    pre = rng.lognormal(np.log(150), 0.6, n)
    during = rng.lognormal(np.log(150), 0.6, n)
    for x in (200.0, 400.0):
        move = (during >= x * (1 - band_fraction)) & (during < x) & (rng.random(n) < probability)
        during[move] = x + rng.exponential(overshoot_mean, move.sum()) if overshoot_mean > 0 else x
    return pre, during


# --------------------------------------------------------------------------- basket values


def _lines():
    return pd.DataFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o3", "o4"],
        "order_ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-02 09:00",
                                    "2024-01-03 12:00", "2024-01-03 12:00", "2024-01-05 08:00"]),
        "sku": ["A", "B", "A", "B", "C", "C"],
        "qty": [2, 1, 1, 3, 1, 1],
        "list_price": [10.0, 25.5, 10.0, 25.5, 99.0, 99.0],
        "paid_amount": [20.0, 25.5, 9.0, 76.5, 99.0, 99.0],
        "promo_id": [None, None, "P1", None, None, None],
    })


def test_basket_values_sums_list_value_per_order():
    out = basket_values(_lines(), exclude_promo=False)
    assert out["order_id"].tolist() == ["o1", "o2", "o3", "o4"]
    assert out["list_value"].tolist() == [45.5, 10.0, 175.5, 99.0]
    assert out["lines"].tolist() == [2, 1, 2, 1]
    assert out["units"].tolist() == [3, 1, 4, 1]


def test_basket_values_window_promo_exclusion_and_scope():
    lines = _lines()
    assert basket_values(lines)["order_id"].tolist() == ["o1", "o3", "o4"]  # o2 holds a promoted line
    assert basket_values(lines, exclude_promo=["P9"])["order_id"].tolist() == ["o1", "o2", "o3", "o4"]
    assert basket_values(lines, "2024-01-02", "2024-01-03", exclude_promo=False)["order_id"].tolist() == ["o2", "o3"]
    items = pd.DataFrame({"sku": ["A", "B", "C"], "category": ["tea", "tea", "toys"]})
    scoped = basket_values(lines, exclude_promo=False, scope="category:tea", items=items)
    assert scoped["order_id"].tolist() == ["o1", "o2", "o3"]  # o4 has no tea
    assert scoped["scoped_value"].tolist() == [45.5, 10.0, 76.5]
    assert scoped["list_value"].tolist() == [45.5, 10.0, 175.5]


def test_basket_values_refuses_missing_list_price():
    with pytest.raises(DataError, match="list_price"):
        basket_values(_lines().drop(columns="list_price"))


# --------------------------------------------------------------------------- calibration


def test_fit_topup_recovers_known_probability_and_overshoot():
    pre, during = _synthetic(0.25, 8.0)
    model = fit_topup(pre, during, TIERS, band_fraction=0.2, above_fraction=0.3)
    assert model.probability_se < 0.02
    assert abs(model.probability - 0.25) < 4 * model.probability_se
    assert model.probability == model.probability_estimate
    # windows above: 60 (for 200, clipped at the next band's 320) and 120: truncation of Exp(8) negligible
    assert abs(model.overshoot_mean - 8.0) < 4 * model.overshoot_mean_se + 0.25  # 0.25: binning (4 wide)
    table = model.by_threshold
    assert np.allclose(table["excess_mass"], table["missing_mass"], atol=0.004)  # mass moved, not created
    assert (table["probability"] - 0.25).abs().max() < 4 * table["probability_se"].max()


def test_fit_topup_without_topup_covers_zero():
    pre, during = _synthetic(0.0, 0.0, seed=11)
    model = fit_topup(pre, during, TIERS)
    assert abs(model.probability_estimate) < 3 * model.probability_se
    assert model.probability < 3 * model.probability_se


def test_fit_then_simulate_reproduces_the_promotion_window():
    pre, during = _synthetic(0.25, 8.0, seed=3)
    model = fit_topup(pre, during, TIERS, above_fraction=0.3)
    sim = simulate_baskets(pre, TIERS, model, n=100_000, seed=1)
    observed = np.bincount(threshold_discount(during, TIERS).tier, minlength=3) / during.size
    assert np.allclose(sim.tiers["share"], observed, atol=0.01)


def test_fit_topup_refuses_bad_input():
    with pytest.raises(DataError, match="basket_values_pre"):
        fit_topup([], [1.0], TIERS)
    with pytest.raises(DataError, match="band_fraction"):
        fit_topup([1.0], [1.0], TIERS, band_fraction=1.5)
    with pytest.raises(DataError, match="probability"):
        TopUpModel(1.2)


# --------------------------------------------------------------------------- calibration: known truth


def _lognormal_periods(n, seed, scale=1.0, spread=0.6):
    rng = np.random.default_rng(seed)
    return rng, rng.lognormal(np.log(150), 0.6, n), rng.lognormal(np.log(150 * scale), spread, n)


def _top_up(rng, during, probability, overshoot, thresholds=(200.0, 400.0), band_fraction=0.2):
    during = during.copy()
    for x in thresholds:
        move = (during >= x * (1 - band_fraction)) & (during < x) & (rng.random(during.size) < probability)
        during[move] = x + overshoot(move.sum())
    return during


def test_reweighted_counterfactual_equals_the_closed_form_lognormal_share():
    # pre LN(log 150, 0.6), offer period LN(log 157.5, 0.66), no top-up: the counterfactual share of the
    # band [160, 200) must be the offer period's own log-normal probability (the log density ratio of two
    # log-normals is quadratic in log v, so degree 2 is exact)
    from scipy.stats import norm
    _, pre, during = _lognormal_periods(200_000, seed=21, scale=1.05, spread=0.66)
    row = fit_topup(pre, during, "200:20", bootstrap=0).by_threshold.iloc[0]
    mu, sigma = np.log(157.5), 0.66
    truth = norm.cdf((np.log(200) - mu) / sigma) - norm.cdf((np.log(160) - mu) / sigma)
    assert abs(row["share_below_counterfactual"] - truth) < 0.0015  # about 2 standard errors at N = 200,000
    assert abs(row["share_below_pre"] - truth) > 0.004  # the unweighted pre-period share misses it
    assert row["probability"] == pytest.approx(0, abs=3 * row["probability_se"])


@pytest.mark.parametrize("counterfactual", ["reweighted", "pre"])
def test_fit_topup_recovers_uniform_overshoot_distribution(counterfactual):
    rng, pre, during = _lognormal_periods(200_000, seed=5)
    during = _top_up(rng, during, 0.2, lambda k: rng.uniform(0, 20, k))
    model = fit_topup(pre, during, TIERS, above_fraction=0.3, counterfactual=counterfactual, bin_width=2.0)
    assert abs(model.probability_estimate - 0.2) < 3 * model.probability_se
    assert abs(model.overshoot_estimate - 10.0) < 3 * model.overshoot_mean_se + 0.1
    weights = model.overshoot_weights / model.overshoot_weights.sum()
    assert weights[:10].sum() > 0.93  # U(0, 20) in bins of 2: all of it in the first ten bins
    assert np.all(np.abs(weights[:10] - 0.1) < 0.03)
    draws = model.overshoot(np.random.default_rng(0), 50_000)
    assert np.quantile(draws, [0.25, 0.5, 0.75]) == pytest.approx([5, 10, 15], abs=0.8)


def test_fit_topup_recovers_probability_under_a_shift_of_the_whole_distribution():
    # baskets 5% bigger during the offer (season, prices) and 25% top-up: the pre-period counterfactual
    # reads the shift as less top-up; the reweighted one recovers the truth
    rng, pre, during = _lognormal_periods(200_000, seed=9, scale=1.05)
    during = _top_up(rng, during, 0.25, lambda k: rng.exponential(8.0, k))
    fixed = fit_topup(pre, during, TIERS, above_fraction=0.3, bootstrap=100)
    naive = fit_topup(pre, during, TIERS, above_fraction=0.3, counterfactual="pre", bootstrap=0)
    assert abs(fixed.probability_estimate - 0.25) < 3 * fixed.probability_se
    assert abs(naive.probability_estimate - 0.25) > 6 * naive.probability_se
    assert abs(fixed.overshoot_estimate - 8.0) < 3 * fixed.overshoot_mean_se + 0.25


@pytest.mark.parametrize("scale, spread", [(1.0, 0.6), (1.06, 0.6), (1.0, 0.66)])
def test_placebo_thresholds_are_consistent_with_zero_and_the_standard_error_is_honest(scale, spread):
    # no offer at all; 60 replications at placebo thresholds: the estimates centre on 0, their spread
    # matches the reported standard error (a second method: the replication standard deviation), and a
    # 5% test rejects about 5% (binomial 60 x 0.05: at most 9 with probability 0.99)
    rng = np.random.default_rng(17)
    pis, ses = [], []
    for _ in range(60):
        pre = rng.lognormal(np.log(150), 0.6, 20_000)
        during = rng.lognormal(np.log(150 * scale), spread, 20_000)
        m = fit_topup(pre, during, "120:1|250:2", bootstrap=0)
        pis.append(m.probability_estimate)
        ses.append(m.probability_se)
    pis, ses = np.array(pis), np.array(ses)
    z = pis / ses
    assert abs(z.mean()) < 3 / np.sqrt(60)
    assert 0.75 < pis.std(ddof=1) / ses.mean() < 1.3
    assert (np.abs(z) > 1.96).sum() <= 9


def test_pre_counterfactual_sees_bunching_in_a_shift_alone():
    # the flaw the reweighting fixes: no top-up, baskets 6% bigger, and the pre-period comparison
    # rejects "no top-up" every time
    _, pre, during = _lognormal_periods(100_000, seed=3, scale=1.06)
    naive = fit_topup(pre, during, TIERS, counterfactual="pre", bootstrap=0)
    fixed = fit_topup(pre, during, TIERS, bootstrap=0)
    assert abs(naive.probability_estimate) > 5 * naive.probability_se
    assert abs(fixed.probability_estimate) < 3 * fixed.probability_se


def test_fit_topup_refuses_an_unknown_counterfactual_and_too_few_baskets_to_reweight():
    pre, during = _synthetic(0.0, 0.0, n=2_000, seed=1)
    with pytest.raises(DataError, match="counterfactual"):
        fit_topup(pre, during, TIERS, counterfactual="post")
    with pytest.raises(DataError, match="outside the bands"):
        fit_topup(np.full(500, 190.0), np.full(500, 195.0), TIERS)
    assert np.isfinite(fit_topup(np.full(500, 190.0), np.full(500, 195.0), TIERS, counterfactual="pre",
                                 bootstrap=0).probability_estimate)


# --------------------------------------------------------------------------- simulation, hand-computed

SAMPLE = np.array([50, 150, 185, 199, 200, 250, 390, 420], dtype=float)
# everyone within 10% below a threshold tops up, landing exactly 5 above it
ALWAYS = TopUpModel(1.0, band_fraction=0.1, overshoot_edges=np.array([5.0, 5.0]), overshoot_weights=np.array([1.0]))


def test_simulate_hand_computed_tier_shares_and_cost():
    sim = simulate_baskets(SAMPLE, TIERS, ALWAYS, resample=False)
    # 185 -> 205, 199 -> 205, 390 -> 405; 50 and 150 are outside the bands [180, 200) and [360, 400)
    after = np.array([50, 150, 205, 205, 200, 250, 405, 420], dtype=float)
    assert sim.tiers["share_natural"].tolist() == [4 / 8, 3 / 8, 1 / 8]
    assert sim.tiers["share"].tolist() == [2 / 8, 4 / 8, 2 / 8]
    reference = threshold_discount(after, TIERS).discount.sum()
    assert reference == 4 * 20 + 2 * 50
    assert sim.discount_per_basket * 8 == pytest.approx(reference)
    assert sim.aov_shift_list == pytest.approx((20 + 6 + 15) / 8)
    assert sim.gmv - sim.gmv_natural == pytest.approx(41)
    assert sim.padded_share_of_below == pytest.approx(3 / 7)  # 7 baskets below 400, 3 padded


def test_simulate_returns_give_back_the_allocated_discount():
    sim = simulate_baskets(SAMPLE, TIERS, ALWAYS, resample=False, return_share=1.0, return_cost=8.0,
                           funding_share=0.5)
    assert sim.returned_value == pytest.approx(20 + 6 + 15)
    back = 20 * 20 / 205 + 20 * 6 / 205 + 50 * 15 / 405  # discount allocated to the returned add-ons
    assert sim.net_retailer_cost == pytest.approx((180 - back) * 0.5 + 3 * 8.0)
    paid = 50 + 150 + 185 + 185 + 180 + 230 + 355 + 370
    assert sim.aov_paid * 8 == pytest.approx(paid)
    assert sim.net_paid == pytest.approx(paid - (41 - back))  # refunds at the paid price


def test_zero_topup_shifts_aov_only_by_the_discount():
    sim = simulate_baskets(SAMPLE, TIERS, TopUpModel(0.0), n=20_000, seed=2)
    assert sim.aov_shift_list == 0
    assert sim.aov_shift_paid == pytest.approx(-sim.discount_per_basket)
    assert sim.topped_up_share == 0
    assert sim.tiers["share"].tolist() == sim.tiers["share_natural"].tolist()


@pytest.mark.parametrize("lean, generous", [("200:20|400:50", "200:30|400:60"),
                                            ("200:20|400:50", "180:20|400:50"),
                                            ("300:20", "200:20")])
def test_more_generous_tiers_cost_more(lean, generous):
    values = np.random.default_rng(5).lognormal(np.log(150), 0.6, 5_000)
    model = TopUpModel(0.25, overshoot_mean=8.0)
    a = simulate_baskets(values, lean, model, n=50_000, seed=9)
    b = simulate_baskets(values, generous, model, n=50_000, seed=9)
    assert b.discount_per_basket > a.discount_per_basket


def test_same_seed_same_draws():
    model = TopUpModel(0.3, overshoot_mean=5.0)
    a = simulate_baskets(SAMPLE, TIERS, model, n=1000, seed=4)
    b = simulate_baskets(SAMPLE, TIERS, model, n=1000, seed=4)
    assert a.tiers.equals(b.tiers) and a.gmv == b.gmv and a.discount_per_basket == b.discount_per_basket
