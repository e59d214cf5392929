"""Damped multiplicative Holt-Winters, vectorized: closed form, a plain per-series loop, and its guards."""

from __future__ import annotations

import numpy as np

from opslib.forecast.core import forecast_arrays
from opslib.forecast.holt_winters import (HW_ALPHA_GRID, HW_BETA_GRID, HW_GAMMA_GRID, HW_PHI_GRID, holt_winters)
from opslib.forecast.seasonal import seasonal_indices


def test_noise_free_multiplicative_season_is_continued_exactly():
    # y_t = 100 s_(t mod 4) with indices averaging 1: the decomposition recovers s exactly, every
    # one-step error is 0 whatever the parameters, so the forecast is 100 s_(T+h mod 4).
    s = np.array([0.8, 1.3, 1.1, 0.8])
    y = 100 * np.tile(s, 10)
    r = holt_winters(y, 8, 4)
    np.testing.assert_allclose(r.mean[0], 100 * np.tile(s, 2), rtol=1e-10)
    assert r.params["reason"][0] == ""


def _plain(x, h, m):
    """The same method, one series, straightforward loops (the independent implementation)."""
    s0 = seasonal_indices(x, m)[0]
    best = None
    for a in HW_ALPHA_GRID:
        for b in HW_BETA_GRID:
            for g in HW_GAMMA_GRID:
                for p in HW_PHI_GRID:
                    if b > a or g > 1 - a:
                        continue
                    season = list(s0)
                    level, trend, sse = x[0] / season[0], 0.0, 0.0
                    for t in range(1, len(x)):
                        j = t % m
                        base = level + p * trend
                        sse += (x[t] - base * season[j]) ** 2
                        new_level = a * x[t] / season[j] + (1 - a) * base
                        trend = b * (new_level - level) + (1 - b) * p * trend
                        season[j] = g * x[t] / base + (1 - g) * season[j]
                        level = new_level
                    if best is None or sse < best[0]:
                        best = (sse, level, trend, list(season), p)
    _, level, trend, season, p = best
    T = len(x)
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
