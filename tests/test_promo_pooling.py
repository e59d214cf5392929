"""Pooled dip and cannibalization coefficients (``opslib.promo.pool_coefficients``, issue 5).

References: the BCG vaccine trials of Colditz et al. (1994) as shipped in R's metafor
(``dat.bcg``); ``rma(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg,
method = "REML")`` prints estimate -0.7145 (se 0.1798) and tau^2 0.3132 (Viechtbauer 2010,
J. Stat. Softw. 36(3), section 4). The synthetic panel checks the recovery of known dip and
cannibalization coefficients fitted series by series, as ``benchmarks/promo_heldout.py`` does.
"""

from __future__ import annotations

import numpy as np
import pytest

from opslib.errors import DataError
from opslib.promo import pool_coefficients

BCG = np.array([  # tpos, tneg, cpos, cneg
    [4, 119, 11, 128], [6, 300, 29, 274], [3, 228, 11, 209], [62, 13536, 248, 12619],
    [33, 5036, 47, 5761], [180, 1361, 372, 1079], [8, 2537, 10, 619], [505, 87886, 499, 87892],
    [29, 7470, 45, 7232], [17, 1699, 65, 1600], [186, 50448, 141, 27197], [5, 2493, 3, 2338],
    [27, 16886, 29, 17825]], float)


def test_random_effects_mean_matches_metafor_bcg():
    a, b, c, d = BCG.T
    yi = np.log((a / (a + b)) / (c / (c + d)))
    vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    r = pool_coefficients(yi, np.sqrt(vi))
    assert r.unrestricted_mean == pytest.approx(-0.7145, abs=5e-4)
    assert r.mean_se == pytest.approx(0.1798, abs=5e-4)
    assert r.tau ** 2 == pytest.approx(0.3132, abs=5e-4)
    assert r.z == pytest.approx(-3.9744, abs=5e-3)
    assert not r.restricted and r.mean == r.unrestricted_mean
    # an effect that must raise the outcome: the negative mean is restricted to 0, units clipped
    up = pool_coefficients(yi, np.sqrt(vi), sign=1)
    assert up.restricted and up.mean == 0.0 and up.unrestricted_mean == pytest.approx(-0.7145, abs=5e-4)
    assert (up.estimate >= 0).all()
    down = pool_coefficients(yi, np.sqrt(vi), sign=-1)
    assert not down.restricted and (down.estimate <= 0).all()


def _panel_estimates(beta_dip, beta_cann, n_series=40, weeks=104, seed=3):
    """Per-series Poisson GLM fits of a weekly panel with known dip and cannibalization coefficients."""
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    est = {"dip": [], "cann": []}
    for _ in range(n_series):
        own = (rng.random(weeks) < 0.2) * rng.uniform(0.2, 1.0, weeks)
        lag = np.r_[0.0, own[:-1]]
        sib = (rng.random(weeks) < 0.3) * rng.uniform(0.2, 1.0, weeks)
        level = rng.uniform(2.5, 3.5)
        mu = np.exp(level + 0.8 * own + beta_dip * lag + beta_cann * sib)
        y = rng.poisson(mu)
        x = np.column_stack([np.ones(weeks), own, lag, sib])
        fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        est["dip"].append((fit.params[2], fit.bse[2]))
        est["cann"].append((fit.params[3], fit.bse[3]))
    return {k: np.array(v) for k, v in est.items()}


def test_recovers_known_dip_and_cannibalization_on_a_synthetic_panel():
    est = _panel_estimates(-0.25, -0.4)
    for key, truth in (("dip", -0.25), ("cann", -0.4)):
        r = pool_coefficients(est[key][:, 0], est[key][:, 1], sign=-1)
        assert abs(r.mean - truth) < 3 * r.mean_se
        assert r.mean_se < 0.05  # 40 series pin the mean down far better than one (about 0.1 each)
        assert np.median(est[key][:, 1]) > 2 * r.mean_se
        assert not r.restricted and r.tau < 0.1  # one true value: little between-series spread


def test_no_effect_is_not_invented():
    est = _panel_estimates(0.0, 0.0, seed=11)
    for key in ("dip", "cann"):
        r = pool_coefficients(est[key][:, 0], est[key][:, 1], sign=-1)
        assert abs(r.unrestricted_mean) < 3 * r.mean_se
        assert r.mean <= 0.0 and (r.restricted or abs(r.mean) < 3 * r.mean_se)


def test_missing_units_get_the_mean_and_bad_sign_is_refused():
    r = pool_coefficients([-0.2, np.nan, -0.4, -0.3], [0.1, np.nan, 0.1, 0.1], sign=-1)
    assert r.n_estimates == 3
    assert r.estimate[1] == pytest.approx(r.mean)
    with pytest.raises(DataError, match="sign"):
        pool_coefficients([0.1, 0.2], [0.1, 0.1], sign=0.5)
    with pytest.raises(DataError):
        pool_coefficients([np.nan], [np.nan])


def test_clipped_unit_values_drift_from_zero_but_the_common_mean_does_not():
    # the mechanism behind the first Stallion specification: true mean 0, large spread between
    # series, each series kept near its own estimate and clipped to the sign
    rng = np.random.default_rng(5)
    b = rng.normal(0.0, 0.8, 300)
    s = np.full(300, 0.3)
    r = pool_coefficients(b, s, sign=-1)
    assert abs(r.unrestricted_mean) < 3 * r.mean_se
    assert r.tau == pytest.approx(0.8, abs=0.15)
    assert r.estimate.mean() < -0.2  # about -0.3: half the series keep a negative value, the rest 0
    assert r.mean == 0.0 or abs(r.mean) < 3 * r.mean_se
