"""Seasonal adjustment (M3/M4 classical multiplicative decomposition), Theta, combinations.

References: statsmodels' ``acf``, ``seasonal_decompose(model="multiplicative")`` (= R's
``decompose``) and ``ThetaModel(deseasonalize=False).fit(use_mle=False)``; hand computations
in comments; per-series loops written here in plain Python.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.seasonal import seasonal_decompose
from statsmodels.tsa.stattools import acf

from opslib.forecast import (combine, forecast, holt, seasonal_factors, seasonal_indices, seasonality_test,
                             seasonally_adjusted, simple_exponential_smoothing, theta)
from opslib.forecast.result import PointForecast
from opslib.forecast.seasonal import autocorrelation, centred_moving_average

TOL = 1e-10


def seasonal_panel(n=6, T=60, m=12, seed=1):
    """Positive monthly-like series: level * trend * season * noise; rows differ in strength."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    amp = np.linspace(0.0, 0.5, n)[:, None]
    season = 1 + amp * np.sin(2 * np.pi * t / m)
    level = 100 + rng.uniform(-0.5, 1.0, (n, 1)) * t
    return level * season * rng.lognormal(0, 0.05, (n, T))


# --------------------------------------------------------------------------- decomposition and test


@pytest.mark.parametrize("m", [12, 7, 4])
def test_seasonal_indices_equal_statsmodels_seasonal_decompose(m):
    y = seasonal_panel(T=5 * m + 3, m=m)
    ours = seasonal_indices(y, m)
    for i in range(y.shape[0]):
        ref = seasonal_decompose(y[i], model="multiplicative", period=m).seasonal[:m]
        np.testing.assert_allclose(ours[i], ref, rtol=TOL)
        trend = seasonal_decompose(y[i], model="multiplicative", period=m).trend
        np.testing.assert_allclose(centred_moving_average(y[i], m)[0], trend, rtol=TOL)


def test_autocorrelation_equals_statsmodels_acf():
    y = seasonal_panel()
    r = autocorrelation(y, 12)
    for i in range(y.shape[0]):
        np.testing.assert_allclose(r[i], acf(y[i], nlags=12, fft=False)[1:], rtol=1e-9)


def ref_seasonality_test(x, m):
    """M4 ``SeasonalityTest`` (R): n >= 3m and |acf_m| > 1.645/sqrt(n) sqrt(1 + 2 sum_{k<m} acf_k^2)."""
    n = len(x)
    if n < 3 * m:
        return False
    mean = sum(x) / n
    den = sum((v - mean) ** 2 for v in x)
    r = [sum((x[t] - mean) * (x[t - k] - mean) for t in range(k, n)) / den for k in range(1, m + 1)]
    return abs(r[m - 1]) > 1.645 / math.sqrt(n) * math.sqrt(1 + 2 * sum(v * v for v in r[:m - 1]))


def test_seasonality_test_matches_the_m4_code_per_series():
    y = seasonal_panel(n=8, T=48)
    got = seasonality_test(y, 12)
    want = [ref_seasonality_test(list(row), 12) for row in y]
    assert list(got) == want
    assert not got[0] and got[-1]                    # amplitude 0 -> not seasonal; 0.5 -> seasonal
    assert not seasonality_test(y[:, :35], 12).any()  # fewer than 3 cycles: never seasonal
    assert not seasonality_test(y, 1).any()


def test_seasonal_factors_refuse_a_season_without_demand():
    t = np.arange(70)
    y = np.where(t % 7 == 6, 0.0, 10.0 + 5 * (t % 7 == 5))   # closed on one weekday
    factors, adjusted = seasonal_factors(y, 7)
    assert not adjusted[0] and np.all(factors == 1.0)


def test_reseasonalised_forecast_of_a_pure_seasonal_series():
    # y_t = 100 S_{t mod 12}, indices averaging 1: the CMA is exactly 100, the ratios are S,
    # the adjusted series is constant 100, so SES forecasts 100 and the forecast is 100 S.
    S = 1 + 0.3 * np.sin(2 * np.pi * np.arange(12) / 12)
    y = np.tile(100 * S, 5)
    result = seasonally_adjusted(simple_exponential_smoothing, y, 18, 12)
    assert result.params["seasonal"][0]
    np.testing.assert_allclose(result.params["seasonal_indices"][0], S, rtol=1e-12)
    np.testing.assert_allclose(result.mean[0], 100 * S[np.arange(60, 78) % 12], rtol=1e-12)
    np.testing.assert_allclose(result.fitted[0, 1:], y[1:], rtol=1e-12)


def test_seasonally_adjusted_leaves_non_seasonal_series_unchanged():
    y = np.linspace(10, 20, 60)[None, :]                             # a straight line: no season
    a = seasonally_adjusted(holt, y, 6, 12)
    b = holt(y, 6)
    assert not a.params["seasonal"][0]
    np.testing.assert_allclose(a.mean, b.mean, rtol=TOL)


def test_seasonal_adjustment_vectorized_equals_per_series():
    y = seasonal_panel(n=8)
    y[2, :13] = np.nan                                                 # a later start
    panel = seasonally_adjusted(simple_exponential_smoothing, y, 18, 12)
    for i in range(y.shape[0]):
        one = seasonally_adjusted(simple_exponential_smoothing, y[i], 18, 12)
        np.testing.assert_allclose(panel.mean[i], one.mean[0], rtol=TOL)


# --------------------------------------------------------------------------- Theta


def test_theta_hand_computed():
    # y = 1, 2, 3; alpha 0.5: SES levels 1, 1.5, 2.25; OLS slope 1; n = 3.
    # h = 1: 2.25 + 1/2 (0 + (1 - 0.5^3) / 0.5) = 2.25 + 0.875 = 3.125; h = 2: + 0.5 = 3.625.
    result = theta([1.0, 2.0, 3.0], 2, alpha=0.5)
    np.testing.assert_allclose(result.mean[0], [3.125, 3.625], rtol=TOL)
    assert result.params["slope"][0] == pytest.approx(1.0)


def test_theta_equals_statsmodels_theta_model():
    y = seasonal_panel(n=4, T=40)[:, ::-1]                           # decreasing trends too
    for row in y:
        res = ThetaModel(row, deseasonalize=False).fit(use_mle=False)
        ours = theta(row, 8, alpha=float(res.params["alpha"]))
        np.testing.assert_allclose(ours.mean[0], np.asarray(res.forecast(8)), rtol=1e-9)


def test_theta_seasonal_equals_statsmodels_with_the_same_indices():
    # statsmodels deseasonalises with seasonal_decompose (the same indices) when told to;
    # its test differs from M4's, so compare on a series both call seasonal.
    y = seasonal_panel(n=1, T=72)[0] * np.exp(0.3 * np.sin(2 * np.pi * np.arange(72) / 12))
    assert seasonality_test(y, 12)[0]
    res = ThetaModel(y, period=12, deseasonalize=True, use_test=False, method="multiplicative").fit(use_mle=False)
    ours = theta(y, 12, season_length=12, alpha=float(res.params["alpha"]))
    np.testing.assert_allclose(ours.mean[0], np.asarray(res.forecast(12)), rtol=1e-9)


def ref_theta(x, alpha):
    """Plain loop: SES from the first value, OLS slope on 0..n-1, Hyndman-Billah drift."""
    level = x[0]
    for v in x[1:]:
        level += alpha * (v - level)
    n = len(x)
    tm, ym = (n - 1) / 2, sum(x) / n
    slope = sum((t - tm) * (v - ym) for t, v in enumerate(x)) / sum((t - tm) ** 2 for t in range(n))
    return [level + slope / 2 * (h - 1 + (1 - (1 - alpha) ** n) / alpha) for h in range(1, 7)]


def test_theta_vectorized_equals_per_series_loop():
    y = seasonal_panel(n=8, m=5)                                      # m = 5 never tested: no adjustment
    y[3, :20] = np.nan                                                # a later start (right-aligned data)
    result = theta(y, 6)
    for i, row in enumerate(y):
        x = list(row[~np.isnan(row)])
        np.testing.assert_allclose(result.mean[i], ref_theta(x, result.params["alpha"][i]), rtol=TOL)


# --------------------------------------------------------------------------- combinations


def test_combine_mean_and_median_by_hand():
    a = PointForecast(np.array([[1.0, 2.0]]), None, np.array([[1.0, 1.0]]), {})
    b = PointForecast(np.array([[3.0, 2.0]]), None, np.array([[1.0, 3.0]]), {})
    c = PointForecast(np.array([[8.0, np.nan]]), None, np.array([[1.0, 2.0]]), {})
    np.testing.assert_allclose(combine([a, b, c]).mean, [[4.0, 2.0]])
    np.testing.assert_allclose(combine([a, b, c], how="median").mean, [[3.0, 2.0]])
    np.testing.assert_allclose(combine([a, b, c]).spread, [[1.0, 2.0]])
    with pytest.raises(ValueError):
        combine([a], how="mode")


def test_forecast_runs_theta_and_comb_on_a_monthly_table():
    y = seasonal_panel(n=3, T=48)
    dates = pd.date_range("2020-01-01", periods=48, freq="MS")
    demand = pd.DataFrame({"sku": np.repeat(["a", "b", "c"], 48), "date": np.tile(dates, 3), "units": y.ravel()})
    for model in ("theta", "comb_shd"):
        frame = forecast(demand, 12, model=model)
        assert len(frame) == 36 and (frame["model"] == model).all()
        assert (frame["mean"] > 0).all() and (frame["p10"] <= frame["p90"]).all()
    comb = forecast(demand, 12, model="comb_shd")["mean"].to_numpy()
    parts = [forecast(demand, 12, model=k)["mean"].to_numpy() for k in ("ses", "holt", "holt_damped")]
    np.testing.assert_allclose(comb, np.maximum(np.mean(parts, axis=0), 0), rtol=1e-9)
