"""Damped Holt-Winters (multiplicative and additive), vectorized: closed forms, a plain per-series loop,
statsmodels' ETSModel with the same parameters and initial states, and the guards."""

from __future__ import annotations

import warnings

import numpy as np
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.seasonal import seasonal_decompose

from opslib.forecast.core import forecast_arrays
from opslib.forecast.holt_winters import (HW_ALPHA_GRID, HW_BETA_GRID, HW_GAMMA_GRID, HW_PHI_GRID,
                                          additive_seasonal_indices, holt_winters, holt_winters_additive)
from opslib.forecast.seasonal import seasonal_indices


def test_noise_free_multiplicative_season_is_continued_exactly():
    # y_t = 100 s_(t mod 4) with indices averaging 1: the decomposition recovers s exactly, every
    # one-step error is 0 whatever the parameters, so the forecast is 100 s_(T+h mod 4).
    s = np.array([0.8, 1.3, 1.1, 0.8])
    y = 100 * np.tile(s, 10)
    r = holt_winters(y, 8, 4)
    np.testing.assert_allclose(r.mean[0], 100 * np.tile(s, 2), rtol=1e-10)
    assert r.params["reason"][0] == ""


def _plain(x, h, m, additive=False):
    """The same method, one series, straightforward loops (the independent implementation)."""
    s0 = additive_seasonal_indices(x, m)[0] if additive else seasonal_indices(x, m)[0]
    best = None
    for a in HW_ALPHA_GRID:
        for b in HW_BETA_GRID:
            for g in HW_GAMMA_GRID:
                for p in HW_PHI_GRID:
                    if b > a or g > 1 - a:
                        continue
                    season = list(s0)
                    level = x[0] - season[0] if additive else x[0] / season[0]
                    trend, sse = 0.0, 0.0
                    for t in range(1, len(x)):
                        j = t % m
                        base = level + p * trend
                        if additive:
                            sse += (x[t] - base - season[j]) ** 2
                            new_level = a * (x[t] - season[j]) + (1 - a) * base
                            season[j] = g * (x[t] - base) + (1 - g) * season[j]
                        else:
                            sse += (x[t] - base * season[j]) ** 2
                            new_level = a * x[t] / season[j] + (1 - a) * base
                            season[j] = g * x[t] / base + (1 - g) * season[j]
                        trend = b * (new_level - level) + (1 - b) * p * trend
                        level = new_level
                    if best is None or sse < best[0]:
                        best = (sse, level, trend, list(season), p)
    _, level, trend, season, p = best
    T = len(x)
    if additive:
        return np.array([level + sum(p ** i for i in range(1, k + 1)) * trend + season[(T + k - 1) % m]
                         for k in range(1, h + 1)])
    return np.array([(level + sum(p ** i for i in range(1, k + 1)) * trend) * season[(T + k - 1) % m]
                     for k in range(1, h + 1)])


def test_vectorized_equals_a_plain_loop_per_series():
    rng = np.random.default_rng(5)
    t = np.arange(48)
    s = np.array([0.7, 0.9, 1.2, 1.2])
    y = np.vstack([(200 + 2 * t) * s[t % 4] * rng.lognormal(0, 0.05, 48),
                   (80 - 0.5 * t) * s[(t + 1) % 4] * rng.lognormal(0, 0.1, 48)])
    r = holt_winters(y, 6, 4)
    for i in range(2):
        np.testing.assert_allclose(r.mean[i], _plain(y[i], 6, 4), rtol=1e-9)
    r = holt_winters_additive(y, 6, 4)
    for i in range(2):
        np.testing.assert_allclose(r.mean[i], _plain(y[i], 6, 4, additive=True), rtol=1e-9)


def test_noise_free_additive_season_is_continued_exactly():
    # y_t = 100 + s_(t mod 4), components summing to 0: the additive decomposition recovers them exactly,
    # every one-step error is 0, so the forecast is 100 + s_(T+h mod 4); a zero in the history is allowed
    s = np.array([-100.0, 30.0, 50.0, 20.0])
    r = holt_winters_additive(100 + np.tile(s, 10), 8, 4)
    np.testing.assert_allclose(r.mean[0], 100 + np.tile(s, 2), rtol=1e-10)
    assert r.params["reason"][0] == ""
    assert np.isnan(holt_winters(100 + np.tile(s, 10), 8, 4).mean).all()        # the multiplicative form refuses


def test_additive_seasonal_indices_equal_statsmodels_seasonal_decompose():
    rng = np.random.default_rng(4)
    t = np.arange(39)                                      # not a whole number of seasons
    y = 20 + 0.3 * t + np.array([3.0, -1.0, -4.0, 2.0])[t % 4] + rng.normal(0, 1, 39)
    reference = seasonal_decompose(y, model="additive", period=4).seasonal[:4]
    np.testing.assert_allclose(additive_seasonal_indices(y, 4)[0], reference, rtol=1e-10, atol=1e-12)


def test_additive_equals_statsmodels_etsmodel_with_the_same_parameters_and_states():
    # ETS(A,Ad,A) in statsmodels, started after our first period (level y_0 - s_0, trend 0, seasonal states
    # s_(1-m..0) = our indices of positions 1..m-1, 0) with our chosen parameters; statsmodels' smoothing_trend
    # is the ETS beta = alpha beta* of the Holt-Winters form used here.
    rng = np.random.default_rng(2)
    t = np.arange(40)
    y = 50 + 0.5 * t + np.array([6.0, -2.0, -7.0, 3.0])[t % 4] + rng.normal(0, 2, 40)
    r = holt_winters_additive(y, 8, 4)
    a, b, g, p = (r.params[k][0] for k in ("alpha", "beta", "gamma", "phi"))
    s0 = additive_seasonal_indices(y, 4)[0]
    seasons = np.r_[s0[1:], s0[0]]
    model = ETSModel(y[1:], error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=4,
                     initialization_method="known", initial_level=y[0] - s0[0], initial_trend=0.0,
                     initial_seasonal=seasons)
    with warnings.catch_warnings(), model.fix_params({"smoothing_level": a, "smoothing_trend": a * b,
                                                      "smoothing_seasonal": g, "damping_trend": p}):
        warnings.simplefilter("ignore")
        reference = model.fit(disp=False)
    np.testing.assert_allclose(r.mean[0], reference.forecast(8), rtol=1e-10)
    np.testing.assert_allclose(r.fitted[0, 1:], reference.fittedvalues, rtol=1e-10)
    # spread: exact ETS(A,Ad,A) h-step variance ratio (Hyndman et al. 2008, table 6.1 class 1)
    c = [a + a * b * sum(p ** i for i in range(1, j + 1)) + g * (j % 4 == 0) for j in range(1, 8)]
    np.testing.assert_allclose(r.spread[0], np.sqrt(1 + np.r_[0.0, np.cumsum(np.square(c))]), rtol=1e-10)


def test_guards_refuse_zeros_short_series_and_fall_back():
    rng = np.random.default_rng(1)
    good = 50 + rng.normal(0, 1, 40)
    zero = good.copy()
    zero[10] = 0.0
    short = np.full(40, np.nan)
    short[-6:] = 10.0
    y = np.vstack([good, zero, short])
    r = holt_winters(y, 4, 4)
    assert np.isfinite(r.mean[0]).all() and np.isnan(r.mean[1:]).all()
    assert "strictly positive" in r.params["reason"][1] and "two full seasons" in r.params["reason"][2]
    mean, _, used, log = forecast_arrays(y, 4, 4, ["holt_winters"] * 3, np.array(["smooth"] * 3), (0.5,))
    assert np.isfinite(mean).all() and (mean >= 0).all()
    assert used[0] == "holt_winters" and used[1] != "holt_winters" and len(log) >= 2
