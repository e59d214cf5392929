"""Classical multiplicative seasonal adjustment, as in the M3 and M4 benchmarks.

A series is adjusted when the 90% autocorrelation test at the seasonal lag says
it is seasonal (:func:`seasonality_test`); its seasonal indices come from a
centred moving average (:func:`seasonal_indices`); a model then forecasts the
adjusted series and the forecasts are re-seasonalised (:func:`seasonally_adjusted`).
Everything runs on a (series x periods) array at once; the seasonal position of
a period is its column index modulo the season length, so all series of a panel
share one calendar.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from opslib.forecast.result import PointForecast

__all__ = ["seasonality_test", "seasonal_indices", "seasonal_factors", "seasonally_adjusted", "TEST_CRITICAL_VALUE"]

TEST_CRITICAL_VALUE = 1.645
"""Two-sided 90% normal critical value of the autocorrelation test (M4 benchmark code)."""


def _as_panel(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return y[None, :] if y.ndim == 1 else y


def autocorrelation(y, max_lag: int) -> np.ndarray:
    """Sample autocorrelations r_1..r_max_lag of each row, NaN periods skipped.

    r_k = sum_t d_t d_{t-k} / sum_t d_t^2 with d = y - mean(y) over the observed
    values (a pair with a missing value contributes 0), as R's ``acf`` with ``na.pass``.

    Returns
    -------
    numpy.ndarray, shape (n_series, max_lag)
        NaN for a row with zero variance.
    """
    y = _as_panel(y)
    observed = ~np.isnan(y)
    count = np.maximum(observed.sum(axis=1), 1)
    mean = np.where(observed, y, 0.0).sum(axis=1) / count
    d = np.where(observed, y - mean[:, None], 0.0)
    denom = (d * d).sum(axis=1)
    out = np.full((y.shape[0], max_lag), np.nan)
    T = y.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(1, max_lag + 1):
            num = (d[:, k:] * d[:, :T - k]).sum(axis=1) if k < T else np.zeros(y.shape[0])
            out[:, k - 1] = np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), np.nan)
    return out


def seasonality_test(y, season_length: int, *, min_cycles: int = 3) -> np.ndarray:
    """The M4 benchmarks' 90% autocorrelation test for seasonality, per series.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        NaN = not observed.
    season_length : int
        m [periods per cycle]. m <= 1: never seasonal.
    min_cycles : int, default 3
        Series with fewer than ``min_cycles * m`` observed values are not seasonal.

    Returns
    -------
    numpy.ndarray of bool, shape (n_series,)

    Notes
    -----
    Seasonal when |r_m| > 1.645 sqrt((1 + 2 sum_{k=1}^{m-1} r_k^2) / n) (Bartlett's
    standard error of r_m under an MA(m-1) null), n the number of observations.
    This is ``SeasonalityTest`` of the M4 benchmark R code [1]; the Python port there
    (``seasonality_test``) adds r_1 instead of r_1^2, a slip not copied here.

    References
    ----------
    .. [1] Mcompetitions/M4-methods, ``Benchmarks and Evaluation.R``; Makridakis, Spiliotis,
       Assimakopoulos (2020), The M4 Competition, IJF 36(1), 54-74.
    """
    y = _as_panel(y)
    m = int(season_length)
    if m <= 1:
        return np.zeros(y.shape[0], dtype=bool)
    r = autocorrelation(y, m)
    n_obs = (~np.isnan(y)).sum(axis=1)
    limit = TEST_CRITICAL_VALUE * np.sqrt((1.0 + 2.0 * (r[:, :m - 1] ** 2).sum(axis=1)) / np.maximum(n_obs, 1))
    with np.errstate(invalid="ignore"):
        seasonal = np.abs(r[:, m - 1]) > limit
    return np.where(np.isnan(r[:, m - 1]) | (n_obs < min_cycles * m), False, seasonal)


def centred_moving_average(y, season_length: int) -> np.ndarray:
    """The centred moving average of order m (2 x m for even m) of each row; NaN where incomplete.

    Returns an array of the shape of ``y``: NaN for the first and last floor(m/2)
    periods and wherever the window holds a missing value (as R's ``filter``).
    """
    y = _as_panel(y)
    m = int(season_length)
    weights = np.full(m + 1, 1.0 / m) if m % 2 == 0 else np.full(m, 1.0 / m)
    if m % 2 == 0:
        weights[0] = weights[-1] = 0.5 / m
    w = len(weights)
    out = np.full(y.shape, np.nan)
    if y.shape[1] >= w:
        out[:, w // 2: y.shape[1] - w // 2] = sliding_window_view(y, w, axis=1) @ weights
    return out


def seasonal_indices(y, season_length: int) -> np.ndarray:
    """Multiplicative seasonal indices of classical decomposition, per series.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    season_length : int

    Returns
    -------
    numpy.ndarray, shape (n_series, season_length)
        Index of seasonal position j = column index mod m, averaging 1 over the
        m positions. NaN for a position without any ratio.

    Notes
    -----
    ratio_t = y_t / CMA_t (where the centred moving average CMA_t > 0); index_j = mean
    of the ratios at position j; indices divided by their mean. This is R's
    ``decompose(type = "multiplicative")`` and statsmodels' ``seasonal_decompose(model="multiplicative")``.
    """
    y = _as_panel(y)
    m = int(season_length)
    trend = centred_moving_average(y, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(trend > 0, y / np.where(trend > 0, trend, 1.0), np.nan)
        figure = position_means(ratio, m)
        return figure / figure.mean(axis=1, keepdims=True)


def position_means(x: np.ndarray, season_length: int) -> np.ndarray:
    """Mean of the non-NaN values at each seasonal position (column index mod m), per series.

    Parameters
    ----------
    x : numpy.ndarray, shape (n_series, n_periods)
        Detrended values (ratios or differences to a centred moving average); NaN = none.
    season_length : int

    Returns
    -------
    numpy.ndarray, shape (n_series, season_length)
        NaN for a position without any value.
    """
    m = int(season_length)
    n, T = x.shape
    pos = np.arange(T) % m
    valid = ~np.isnan(x)
    total = np.zeros((n, m))
    count = np.zeros((n, m))
    np.add.at(total.T, pos, np.where(valid, x, 0.0).T)
    np.add.at(count.T, pos, valid.T.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def seasonal_factors(y, season_length: int) -> tuple[np.ndarray, np.ndarray]:
    """The seasonal index to divide each series by: classical indices when seasonal, else 1.

    Returns
    -------
    factors : numpy.ndarray, shape (n_series, season_length)
        By seasonal position (column index mod m); all 1 for a series that is
        not adjusted.
    adjusted : numpy.ndarray of bool, shape (n_series,)
        True where the series passed :func:`seasonality_test` and every index is
        finite and positive (a season without demand cannot be divided out).
    """
    y = _as_panel(y)
    m = max(int(season_length), 1)
    if m == 1:
        return np.ones((y.shape[0], 1)), np.zeros(y.shape[0], dtype=bool)
    seasonal = seasonality_test(y, m)
    factors = np.ones((y.shape[0], m))
    if seasonal.any():
        idx = seasonal_indices(y[seasonal], m)
        ok = np.isfinite(idx).all(axis=1) & (idx > 1e-3).all(axis=1)
        rows = np.flatnonzero(seasonal)
        factors[rows[ok]] = idx[ok]
        seasonal[rows[~ok]] = False
    return factors, seasonal


def seasonally_adjusted(model: Callable[..., PointForecast], y, horizon: int, season_length: int,
                        **model_args) -> PointForecast:
    """Run ``model`` on the seasonally adjusted series and re-seasonalise its forecasts.

    Parameters
    ----------
    model : callable
        ``model(y, horizon, **model_args) -> PointForecast`` (SES, Holt, Theta, ...).
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    horizon : int
    season_length : int
        m; 1 runs ``model`` unchanged.

    Returns
    -------
    PointForecast
        ``mean`` and ``fitted`` multiplied back by the index of their period;
        ``params["seasonal"]`` True where the series was adjusted and
        ``params["seasonal_indices"]`` (n_series, m).

    Notes
    -----
    The M3 and M4 benchmarks (SES, Holt, damped, Theta, Comb) forecast
    y_t / S_{t mod m} and multiply the forecast for T + h by S_{(T+h) mod m}.
    """
    y = _as_panel(y)
    n, T = y.shape
    m = max(int(season_length), 1)
    factors, adjusted = seasonal_factors(y, m)
    inside = factors[:, np.arange(T) % m]
    ahead = factors[:, np.arange(T, T + horizon) % m]
    result = model(y / inside, horizon, **model_args)
    fitted = None if result.fitted is None else result.fitted * inside
    params = dict(result.params)
    params["seasonal"] = adjusted
    params["seasonal_indices"] = factors
    return PointForecast(result.mean * ahead, fitted, result.spread, params)
