"""Own-price response and empirical-Bayes pooling (issue 5, demand response).

Thresholds on the demo shop were set from what was measured (four categories,
114 SKUs, seed 2026 data): pooled MAE 0.51-0.52 against the truth, unpooled
MAE on identified SKUs 1.02, correlation of pooled and true elasticities on
identified SKUs 0.51-0.53, 95% interval coverage 0.83-0.86. The bounds below
leave a margin and state what is claimed: pooling halves the error, the
estimates track the truth, the intervals are somewhat too narrow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opslib.errors import DataError
from opslib.promo.pooling import between_variance, empirical_bayes_shrinkage, pool_elasticities
from opslib.promo.response import (
    ResponseSettings,
    _poisson_glm,
    effective_depth,
    fit_own_price_response,
    promotion_exposure,
    realized_depths,
)

CATEGORIES = ["personal care", "kitchen", "pet", "baby"]


def _synthetic(seed=7, n_skus=8, days=730):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    truth = -np.exp(rng.normal(np.log(2.0), 0.25, n_skus))
    items = pd.DataFrame({"sku": [f"S{i}" for i in range(n_skus)], "category": "c"})
    promos, rows = [], []
    for i in range(n_skus):
        depth = np.zeros(days)
        for k, a in enumerate(range(30, days - 30, 60)):
            d = [0.1, 0.2, 0.3][k % 3]
            depth[a:a + 7] = d
            promos.append({"promo_id": f"P{i}_{k}", "mechanic": "percent_off", "start": dates[a],
                           "end": dates[a + 6], "scope": f"sku:S{i}", "depth": d})
        mu = 8.0 * (1 + 0.2 * (dates.day_of_week.to_numpy() >= 5)) * (1 - depth) ** truth[i]
        rows.append(pd.DataFrame({"sku": f"S{i}", "date": dates, "units": rng.poisson(mu).astype(float),
                                  "in_stock": True}))
    return pd.concat(rows, ignore_index=True), pd.DataFrame(promos), items, truth


def test_recovers_known_elasticities_on_a_synthetic_panel():
    demand, promos, items, truth = _synthetic()
    fit = fit_own_price_response(demand, promos, items)
    est = fit.estimates.set_index("sku").loc[items["sku"]]
    assert (fit.estimates["model"] == "poisson_glm").all()
    z = (est["elasticity"].to_numpy() - truth) / est["elasticity_se"].to_numpy()
    assert np.abs(est["elasticity"].to_numpy() - truth).mean() < 0.15
    assert (np.abs(z) < 3).all()
    assert (est["dispersion"] < 1.5).all()  # Poisson data: no overdispersion found


def test_effective_depth_of_each_mechanic():
    assert effective_depth({"mechanic": "percent_off", "scope": "all", "depth": 0.2}) == pytest.approx(0.2)
    assert effective_depth({"mechanic": "second_half_price", "scope": "all", "depth": 0.5}) == pytest.approx(0.25)
    assert effective_depth({"mechanic": "threshold", "scope": "all", "threshold": 200, "reward": 20}) == \
        pytest.approx(0.1)
    assert effective_depth({"mechanic": "coupon", "scope": "all", "threshold": 100, "reward": 10},
                           coupon_redemption=0.5) == pytest.approx(0.05)


def test_line_level_offer_wins_over_order_level():
    items = pd.DataFrame({"sku": ["A", "B"], "category": ["x", "x"]})
    promos = pd.DataFrame([
        {"promo_id": "T", "mechanic": "threshold", "start": "2024-01-01", "end": "2024-01-03",
         "scope": "category:x", "threshold": 100.0, "reward": 10.0, "depth": np.nan},
        {"promo_id": "P", "mechanic": "percent_off", "start": "2024-01-02", "end": "2024-01-02",
         "scope": "sku:A", "depth": 0.3, "threshold": np.nan, "reward": np.nan}])
    ex = promotion_exposure(promos, items)
    assert len(ex) == 6
    row = ex[(ex["sku"] == "A") & (ex["date"] == "2024-01-02")].iloc[0]
    assert row["promo_id"] == "P" and row["level"] == "line" and row["depth"] == pytest.approx(0.3)


def test_bad_input_is_refused():
    demand, promos, items, _ = _synthetic(n_skus=2, days=200)
    with pytest.raises(DataError, match="units"):
        fit_own_price_response(demand.assign(units=-1.0), promos, items)
    with pytest.raises(DataError, match="category"):
        fit_own_price_response(demand, promos, items.drop(columns="category"))
    with pytest.raises(DataError, match="skus"):
        fit_own_price_response(demand, promos, items, skus=["nope"])
    with pytest.raises(DataError, match="elasticity_se"):
        pool_elasticities(pd.DataFrame({"sku": ["a"], "category": ["c"], "elasticity": [-2.0]}))


def test_shrinkage_properties():
    b = np.array([-1.0, -2.0, -3.0, np.nan])
    s = np.array([0.5, 0.5, 0.5, np.nan])
    r = empirical_bayes_shrinkage(b, s)
    assert r.mean == pytest.approx(-2.0)
    # shrunk toward the mean, never past it; no data -> the mean with the predictive sd
    assert np.all(np.abs(r.estimate[:3] - r.mean) <= np.abs(b[:3] - r.mean) + 1e-12)
    assert r.estimate[3] == pytest.approx(r.mean)
    assert r.se[3] == pytest.approx(np.hypot(r.tau, r.mean_se))
    assert np.all(r.se[:3] <= s[:3] + 1e-12)
    # identical estimates: no between variance, full pooling
    assert between_variance([-2.0, -2.0, -2.0], [0.3, 0.3, 0.3]) == 0.0
    # REML and DerSimonian-Laird agree when the se are equal
    rng = np.random.default_rng(1)
    theta = rng.normal(-2, 0.6, 200)
    est = theta + rng.normal(0, 0.4, 200)
    for method in ("reml", "dl"):
        assert between_variance(est, np.full(200, 0.4), method) == pytest.approx(0.36, abs=0.1)


def test_literature_prior_is_a_labelled_fallback():
    est = pd.DataFrame({"sku": ["a", "b"], "category": ["thin", "thin"], "elasticity": [np.nan, -1.0],
                        "elasticity_se": [np.nan, 2.0]})
    pooled = pool_elasticities(est, min_estimates=3)
    assert pooled.categories["source"].str.startswith("literature prior").all()
    row = pooled.estimates.set_index("sku")
    assert row.loc["a", "elasticity"] == pytest.approx(-2.62)
    assert -2.62 < row.loc["b", "elasticity"] < -1.0


@pytest.fixture(scope="module")
def demo_fit():
    import opslib
    from opslib.data import daily_demand, load_ground_truth

    ws = opslib.load_demo()
    skus = ws.items["sku"][ws.items["category"].isin(CATEGORIES)]
    fit = fit_own_price_response(daily_demand(ws), ws.promotions, ws.items, ws.calendar, skus=skus)
    truth = load_ground_truth()["elasticities"][["sku", "elasticity"]].rename(columns={"elasticity": "true"})
    return fit, pool_elasticities(fit.estimates).estimates.merge(truth, on="sku")


def test_pooled_estimates_recover_the_demo_truth(demo_fit):
    fit, p = demo_fit
    assert len(p) == 114 and fit.report["with_elasticity"] >= 25
    own = p[p["unpooled"].notna()]
    pooled_mae = (own["elasticity"] - own["true"]).abs().mean()
    unpooled_mae = (own["unpooled"] - own["true"]).abs().mean()
    assert pooled_mae < 0.65  # measured 0.48-0.51
    assert pooled_mae < 0.7 * unpooled_mae  # measured 0.49x
    assert (p["elasticity"] - p["true"]).abs().mean() < 0.65  # every SKU, measured 0.51-0.52
    assert np.corrcoef(own["elasticity"], own["true"])[0, 1] > 0.35  # measured 0.51-0.53
    z = ((p["elasticity"] - p["true"]) / p["elasticity_se"]).abs()
    assert 0.75 <= (z < 1.96).mean() <= 0.99  # 95% intervals, measured 0.83-0.86 (too narrow)
    assert p["elasticity_se"].notna().all() and (p["elasticity_se"] > 0).all()


def test_censored_mean_matches_a_direct_sum():
    from scipy import stats

    from opslib.promo.response import _censored_mean

    mu, sold = np.array([3.0, 10.0, 0.5]), np.array([2.0, 12.0, 1.0])
    j = np.arange(600)
    for alpha in (0.0, 0.3):
        law = [stats.poisson(m) if alpha == 0 else stats.nbinom(1 / alpha, 1 / (1 + alpha * m)) for m in mu]
        direct = [(j[j >= c] * d.pmf(j[j >= c])).sum() / d.sf(c - 1) for d, c in zip(law, sold)]
        np.testing.assert_allclose(_censored_mean(sold, mu, alpha), direct, rtol=1e-9)


def test_negative_binomial_fit_recovers_alpha_and_covers_the_truth():
    from opslib.promo.response import _poisson_glm

    rng = np.random.default_rng(11)
    n, alpha, beta = 4000, 0.25, np.array([1.5, -2.0])
    x = np.column_stack([np.ones(n), np.log1p(-rng.choice([0, 0, 0, 0.1, 0.2, 0.3], n))])
    mu = np.exp(x @ beta)
    y = rng.poisson(mu * rng.gamma(1 / alpha, alpha, n)).astype(float)
    nb = _poisson_glm(y, x, negative_binomial=True)
    assert nb.scale == pytest.approx(alpha, rel=0.2)
    assert np.all(np.abs(nb.params - beta) < 3 * nb.se)
    # the standard error matches the spread of the estimate over replications (second method)
    draws, ses = [], []
    for _ in range(40):
        y = rng.poisson(mu * rng.gamma(1 / alpha, alpha, n)).astype(float)
        r = _poisson_glm(y, x, negative_binomial=True)
        draws.append(r.params[1])
        ses.append(r.se[1])
    assert np.mean(ses) == pytest.approx(np.std(draws, ddof=1), rel=0.3)


def test_stockout_censoring_reduces_the_selection_bias():
    # days run out of stock when demand is high: dropping them biases the elasticity toward
    # zero; treating them as censored (EM) halves the bias here (measured 0.38 against 0.74
    # with 5 EM rounds; heavy censoring: caps of 6-13 units on every day)
    demand, promos, items, truth = _synthetic(seed=3, n_skus=6, days=730)
    rng = np.random.default_rng(5)
    cap = np.where(demand["units"] > 0, rng.integers(6, 14, len(demand)), 99)
    out = demand["units"] > cap
    censored = demand.assign(units=np.minimum(demand["units"], cap), in_stock=~out)
    fits = {c: fit_own_price_response(censored, promos, items, settings=__import__(
        "opslib.promo.response", fromlist=["ResponseSettings"]).ResponseSettings(censored_stockouts=c))
        for c in (True, False)}
    err = {c: (f.estimates.set_index("sku").loc[items["sku"], "elasticity"].to_numpy() - truth).mean()
           for c, f in fits.items()}
    assert out.mean() > 0.03
    assert abs(err[True]) < 0.65 * abs(err[False])


def test_shop_wide_between_variance_reduces_to_reml_for_one_group():
    from opslib.promo.pooling import _tau2_around_groups

    rng = np.random.default_rng(3)
    b = rng.normal(-2, 0.6, 60) + rng.normal(0, 0.5, 60)
    s = rng.uniform(0.3, 0.8, 60)
    for method in ("reml", "dl"):
        assert _tau2_around_groups(b, s, np.zeros(60), method) == pytest.approx(between_variance(b, s, method),
                                                                                rel=1e-6)
    # two groups with shifted means: the variance around the group means is not inflated by the shift
    g = np.repeat([0, 1], 30)
    assert _tau2_around_groups(b + 3 * g, s, g, "reml") == pytest.approx(
        _tau2_around_groups(b, s, g, "reml"), rel=0.05)


def _synthetic_dips(seed, n_skus=8, days=730, phi=0.2, gamma=0.3, post_days=10, offer_lift=0.0):
    """The demo generator's dip and cannibalization (opslib/data/demo.py): after each promotion a share
    ``phi`` of its bump is missing over ``post_days`` days, and during it the category siblings lose a
    share ``gamma`` of the bump in proportion to their baselines. No pre-promotion dip. With
    ``offer_lift``, a shop-wide coupon on the two days before each promotion lifts every SKU by that
    factor (no dip after it): the coupon's post window, a day effect of the category profile, then
    covers the promotion and its siblings' cannibalized days."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    eps = -np.exp(rng.normal(np.log(2.0), 0.2, n_skus))
    items = pd.DataFrame({"sku": [f"S{i}" for i in range(n_skus)], "category": "c"})
    base = 20.0 * (1 + 0.2 * (dates.day_of_week.to_numpy() >= 5))[None, :] * rng.uniform(0.6, 1.4, (n_skus, 1))
    mult, promos = np.ones((n_skus, days)), []
    for i in range(n_skus):
        for k, a in enumerate(range(20 + 13 * i, days - 30, 120)):
            d, b = [0.1, 0.2, 0.3][(k + i) % 3], a + 6
            lift = (1 - d) ** eps[i]
            mult[i, a:b + 1] *= lift
            bump = base[i, a:b + 1].sum() * (lift - 1)
            mult[i, b + 1:b + 1 + post_days] *= 1 - phi * bump / base[i, b + 1:b + 1 + post_days].sum()
            sib = np.arange(n_skus) != i
            mult[sib, a:b + 1] *= 1 - gamma * bump / base[sib, a:b + 1].sum()
            promos.append({"promo_id": f"P{i}_{k}", "mechanic": "percent_off", "start": dates[a],
                           "end": dates[b], "scope": f"sku:S{i}", "depth": d})
            if offer_lift:
                mult[:, a - 2:a] *= offer_lift
                promos.append({"promo_id": f"C{i}_{k}", "mechanic": "coupon", "start": dates[a - 2],
                               "end": dates[a - 1], "scope": "all", "threshold": 100.0, "reward": 10.0})
    demand = pd.DataFrame({"sku": np.repeat(items["sku"], days), "date": np.tile(dates, n_skus),
                           "units": rng.poisson(base * mult).reshape(-1).astype(float), "in_stock": True})
    return demand, pd.DataFrame(promos), items


def test_recovers_known_dip_fraction_and_cannibalization_share():
    # truth phi = 0.2 (post-promotion), 0 (pre), gamma = 0.3; measured on seeds 1-3 (3 years):
    # dip 0.22/0.18/0.22 (se 0.02-0.04), pre 0.00-0.01 (se 0.02), cannibalization 0.28/0.26/0.30 (se 0.04)
    demand, promos, items = _synthetic_dips(seed=2)
    est = fit_own_price_response(demand, promos, items).estimates
    cat = est.iloc[0]
    assert abs(cat["cannibalization_share"] - 0.3) < 3 * cat["cannibalization_share_se"]
    assert (est["cannibalization_share"] == cat["cannibalization_share"]).all()  # one per category
    assert abs(est["dip_fraction"].mean() - 0.2) < 3 * est["dip_fraction_se"].mean()
    assert est["pre_dip_fraction"].max() < 3 * est["pre_dip_fraction_se"].mean()
    assert (est[["dip_fraction", "pre_dip_fraction", "cannibalization_share"]] >= 0).all().all()
    # the equivalent daily log multipliers simulate reads have the dip's sign
    assert (est["post_dip"] < 0).all() and (est["sibling_effect"] < 0).all()
    # a panel without dips or cannibalization gives fractions near 0, not the old upward bias
    demand0, promos0, items0 = _synthetic_dips(seed=2, phi=0.0, gamma=0.0)
    est0 = fit_own_price_response(demand0, promos0, items0).estimates
    assert est0["cannibalization_share"].iloc[0] < 3 * est0["cannibalization_share_se"].iloc[0]
    assert est0["dip_fraction"].mean() < 3 * est0["dip_fraction_se"].mean()


def test_cannibalized_days_do_not_enter_the_baseline():
    # Each single-SKU promotion starts right after a two-day shop-wide coupon, so the coupon's post
    # window (a day effect of the category profile, stage A) covers the promotion. Fitted on every
    # day without an own promotion, that day effect absorbed the siblings' cannibalized units: the
    # share came out at 0.16/0.17/0.13 (se 0.045) on seeds 1-3 against a true 0.3 (0.14 over 12 seeds
    # of a 3-year panel). With the sibling-promotion days left out of the baseline stages it is
    # 0.28/0.35/0.25 (se 0.05; 0.29 over those 12 seeds, spread 0.05); dips 0.18/0.15/0.24 (truth 0.2).
    fits = [fit_own_price_response(*_synthetic_dips(seed=seed, offer_lift=1.3)).estimates for seed in (1, 2, 3)]
    # one cannibalization share per category; the dips per SKU, averaged over the SKUs
    est = pd.DataFrame([e[["cannibalization_share", "cannibalization_share_se", "dip_fraction",
                           "dip_fraction_se"]].mean() for e in fits])
    for name, truth in (("cannibalization_share", 0.3), ("dip_fraction", 0.2)):
        se_mean = np.sqrt((est[f"{name}_se"] ** 2).mean() / len(est))
        assert abs(est[name].mean() - truth) < 3 * se_mean, (name, est[name].tolist(), se_mean)


def _multi_unit_panel(seed=11, n_skus=6, days=540, elasticity=-2.0):
    """Second-item-half-price offers as the only price variation; demand answers the price paid per unit.

    Buyers take 1, 2 or 3 units (probabilities 0.5, 0.35, 0.15); the second of two units is half
    price, so the discount per unit sold is 0.5 * (0.35 + 0.15) / 1.65 = 0.152, not the 0.25 of
    the convention that every buyer takes two units.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    qty_p = np.array([0.5, 0.35, 0.15])
    realized = 0.5 * qty_p[1:].sum() / (qty_p * [1, 2, 3]).sum()
    items = pd.DataFrame({"sku": [f"S{i}" for i in range(n_skus)], "category": "c"})
    promos, rows, lines = [], [], []
    for i in range(n_skus):
        on = np.zeros(days, bool)
        for k, a in enumerate(range(40 + 5 * i, days - 20, 45)):
            on[a:a + 7] = True
            promos.append({"promo_id": f"P{i}_{k}", "mechanic": "second_half_price", "start": dates[a],
                           "end": dates[a + 6], "scope": f"sku:S{i}", "depth": 0.5})
        units = rng.poisson(20.0 * np.where(on, (1 - realized) ** elasticity, 1.0)).astype(float)
        rows.append(pd.DataFrame({"sku": f"S{i}", "date": dates, "units": units, "in_stock": True}))
        for t in np.flatnonzero(on):  # the day's units as order lines of 1-3 units at list price 10
            left = int(units[t])
            while left > 0:
                q = min(int(rng.choice([1, 2, 3], p=qty_p)), left)
                left -= q
                lines.append({"order_ts": dates[t], "sku": f"S{i}", "qty": q, "list_price": 10.0,
                              "paid_amount": 10.0 * q - 5.0 * (q // 2)})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(promos), items, pd.DataFrame(lines), realized


def test_multi_unit_depth_is_read_from_the_order_lines():
    # the convention (0.25 for a half-price second unit) overstates the cut per unit and attenuates the
    # elasticity of every SKU whose price variation comes from such offers: -2 comes out near -1.2
    demand, promos, items, lines, realized = _multi_unit_panel()
    settings = ResponseSettings(pre_dip_days=0, post_dip_days=0, sibling_effect=False)
    depths = realized_depths(lines, promos, items)
    assert depths["realized_depth"].to_numpy() == pytest.approx(realized, abs=0.01)
    assert (depths["nominal_depth"] == 0.25).all()
    conv = fit_own_price_response(demand, promos, items, settings=settings).estimates
    fit = fit_own_price_response(demand, promos, items, settings=settings, order_lines=lines)
    est = fit.estimates
    assert conv["elasticity"].mean() > -1.5  # the attenuation the convention causes
    assert est["elasticity"].mean() == pytest.approx(-2.0, abs=0.2)
    assert (np.abs(est["elasticity"] + 2.0) < 3 * est["elasticity_se"]).all()
    assert set(fit.depths["promo_id"]) == set(promos["promo_id"])


def test_cluster_robust_standard_errors_cover_a_shared_level_error():
    # a fast mover: the promotion's days share an unmodelled level error (sd 0.1 on the log scale), far
    # larger than the count noise; the day-level SE treats the days as independent and is too small
    rng = np.random.default_rng(3)
    n_clusters, per = 40, 10
    cluster = np.repeat(np.arange(n_clusters), per)
    x = np.column_stack([np.ones(n_clusters * per), np.repeat(np.arange(n_clusters) % 2, per).astype(float)])
    est, se_plain, se_robust = [], [], []
    for _ in range(150):
        level = np.repeat(rng.normal(0.0, 0.1, n_clusters), per)
        y = rng.poisson(50.0 * np.exp(0.5 * x[:, 1] + level)).astype(float)
        plain = _poisson_glm(y, x, negative_binomial=True)
        robust = _poisson_glm(y, x, negative_binomial=True, clusters=cluster)
        est.append(robust.params[1])
        se_plain.append(plain.se[1])
        se_robust.append(robust.se[1])
    spread = np.std(est)
    assert np.mean(se_plain) < 0.6 * spread
    assert np.mean(se_robust) == pytest.approx(spread, rel=0.25)


def test_suspected_stockout_days_are_left_out_of_the_fit():
    # hidden stock-outs: 12 days without sales after every promotion's post-dip window (a fifth of the
    # days), flagged in demand.suspected_stockout while in_stock (the book) stays True. Left out by
    # default, the baseline is that of the clean panel; kept, it is pulled down by about a fifth.
    demand, promos, items, _ = _synthetic(seed=5, n_skus=4, days=730)
    day = (demand["date"] - demand["date"].min()).dt.days.to_numpy()
    phantom = (day % 60 >= 52) & (day >= 60)  # the promotions run on days 30-36 (+ 60 k)
    clean = demand.assign(suspected_stockout=pd.array(np.zeros(len(demand), bool), dtype="boolean"))
    hit = clean.assign(units=np.where(phantom, 0.0, demand["units"]),
                       suspected_stockout=pd.array(phantom, dtype="boolean"))
    base = {}
    for name, frame, settings in (("clean", clean, ResponseSettings()), ("on", hit, ResponseSettings()),
                                  ("off", hit, ResponseSettings(suspected_stockouts=False))):
        fit = fit_own_price_response(frame, promos, items, settings=settings)
        base[name] = fit.estimates.set_index("sku")["baseline_promo_units"].sum()
        if name == "on":
            assert fit.report["suspected_stockout_days_excluded"] == int(phantom.sum())
            assert (fit.estimates["n_stockout_days"] > 0).all()
    assert abs(base["on"] / base["clean"] - 1) < 0.05
    assert base["off"] / base["clean"] < 0.9
