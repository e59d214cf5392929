"""Benchmark forecasts: naive, random walk with drift, seasonal naive, moving average, historic average.

All take a (n_series, n_periods) array with NaN for unobserved periods and work
on each series' observed values in order (censored periods are skipped).
"""

from __future__ import annotations

import numpy as np

from opslib.forecast.panel import right_align
from opslib.forecast.result import PointForecast

__all__ = ["naive", "drift", "seasonal_naive", "moving_average", "historic_average"]


def _as_panel(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return y[None, :] if y.ndim == 1 else y


def _previous_observed(y: np.ndarray) -> np.ndarray:
    """For each period, the last observed value strictly before it (NaN if none)."""
    n, T = y.shape
    idx = np.where(~np.isnan(y), np.arange(T)[None, :], -1)
    idx = np.maximum.accumulate(idx, axis=1)
    prev = np.full((n, T), -1)
    prev[:, 1:] = idx[:, :-1]
    out = np.take_along_axis(y, np.maximum(prev, 0), axis=1)
    return np.where(prev >= 0, out, np.nan)


def naive(y, horizon: int) -> PointForecast:
    """Last observed value, flat. ``spread`` sqrt(h) (random walk).

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    horizon : int

    Returns
    -------
    PointForecast
        In-sample fit: the previous observed value.
    """
    y = _as_panel(y)
    last = right_align(y)[:, -1]
    h = np.arange(1, horizon + 1)
    return PointForecast(np.repeat(last[:, None], horizon, axis=1), _previous_observed(y),
                         np.broadcast_to(np.sqrt(h), (y.shape[0], horizon)).copy(), {})


def drift(y, horizon: int) -> PointForecast:
    """Random walk with drift: the last observed value plus h times the mean step.

    The drift is the average change per observed period, ``(last - first) / (n - 1)``
    over the series' ``n`` observed values (the slope of the line from the first to
    the last observation; Hyndman and Athanasopoulos, *Forecasting: Principles and
    Practice*, section 5.2). ``spread`` is ``sqrt(h (1 + h/n) / (1 + 1/n))``: the
    h-step standard deviation ``sigma sqrt(h (1 + h/n))`` of the same book (5.5)
    relative to the one-step one. A series with one observation has no drift (naive).

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    horizon : int

    Returns
    -------
    PointForecast
        Not clipped at 0 (the caller clips); in-sample fit: the previous observed
        value plus the drift; ``params["drift"]`` per series [units/period].
    """
    y = _as_panel(y)
    aligned = right_align(y)
    observed = ~np.isnan(aligned)
    n = observed.sum(axis=1)
    first = aligned[np.arange(len(aligned)), np.argmax(observed, axis=1)]
    last = aligned[:, -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(n > 1, (last - first) / np.maximum(n - 1, 1), 0.0)
    h = np.arange(1, horizon + 1)
    size = np.maximum(n, 1)[:, None].astype(float)
    spread = np.sqrt(h * (1 + h / size) / (1 + 1 / size))
    fitted = _previous_observed(y) + slope[:, None]
    return PointForecast(last[:, None] + slope[:, None] * h, fitted, spread, {"drift": slope})


def seasonal_naive(y, horizon: int, season_length: int) -> PointForecast:
    """The value of the same season one cycle earlier.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    horizon : int
    season_length : int
        Periods per cycle (7 for daily data with a weekly pattern).

    Returns
    -------
    PointForecast
        Forecast at h: y_{T + h - m ceil(h / m)}. A missing value of the last
        cycle is taken from the cycle before, and so on; a season never observed
        falls back to the last observed value. In-sample fit: y_{t-m}.
        ``spread`` sqrt(floor((h - 1) / m) + 1).
    """
    y = _as_panel(y)
    n, T = y.shape
    m = max(int(season_length), 1)
    h = np.arange(1, horizon + 1)
    last = np.full((n, m), np.nan)                       # last[:, j]: value at period T - m + j
    for k in range(1, T // m + 2):
        lo = T - k * m
        cols = np.arange(lo, lo + m)
        ok = cols >= 0
        block = np.full((n, m), np.nan)
        block[:, ok] = y[:, cols[ok]]
        last = np.where(np.isnan(last), block, last)
        if not np.isnan(last).any():
            break
    last = np.where(np.isnan(last), right_align(y)[:, -1:], last)
    mean = last[:, (h - 1) % m]
    fitted = np.full((n, T), np.nan)
    fitted[:, m:] = y[:, :-m] if T > m else fitted[:, m:]
    spread = np.broadcast_to(np.sqrt((h - 1) // m + 1.0), (n, horizon)).copy()
    return PointForecast(mean, fitted, spread, {})


def moving_average(y, horizon: int, window: int) -> PointForecast:
    """Mean of the last ``window`` observed values, flat.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    horizon : int
    window : int
        Number of observed periods averaged (fewer when the series is shorter).

    Returns
    -------
    PointForecast
        ``spread`` sqrt(1 + 1 / window) x 1 for every h (a moving average of an
        i.i.d. series); in-sample fit: the mean of the ``window`` previous observed values.
    """
    y = _as_panel(y)
    window = max(int(window), 1)
    aligned = right_align(y)
    tail = aligned[:, -window:]
    count = (~np.isnan(tail)).sum(axis=1)
    mean = np.where(count > 0, np.nansum(tail, axis=1) / np.maximum(count, 1), np.nan)
    fitted = _rolling_observed_mean(y, window)
    spread = np.full((y.shape[0], horizon), np.sqrt(1.0 + 1.0 / window))
    return PointForecast(np.repeat(mean[:, None], horizon, axis=1), fitted, spread, {"window": window})


def _rolling_observed_mean(y: np.ndarray, window: int | None) -> np.ndarray:
    """Mean of the ``window`` (all when None) observed values before each period."""
    observed = ~np.isnan(y)
    csum = np.cumsum(np.where(observed, y, 0.0), axis=1)
    ccnt = np.cumsum(observed, axis=1)
    n, T = y.shape
    s_prev = np.zeros((n, T))
    c_prev = np.zeros((n, T))
    s_prev[:, 1:] = csum[:, :-1]
    c_prev[:, 1:] = ccnt[:, :-1]
    if window is not None:
        # sum of the observed values with rank in (c_prev - window, c_prev]
        ranks = np.where(observed, ccnt, 0)            # 1-based rank of each observed value
        by_rank = np.zeros((n, T + 1))
        rows, cols = np.nonzero(observed)
        by_rank[rows, ranks[rows, cols]] = y[rows, cols]
        cum_by_rank = np.cumsum(by_rank, axis=1)       # cum_by_rank[:, r] = sum of the first r values
        lo = np.maximum(c_prev - window, 0).astype(int)
        hi = c_prev.astype(int)
        s_prev = np.take_along_axis(cum_by_rank, hi, axis=1) - np.take_along_axis(cum_by_rank, lo, axis=1)
        c_prev = (hi - lo).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c_prev > 0, s_prev / np.where(c_prev > 0, c_prev, 1), np.nan)


def historic_average(y, horizon: int) -> PointForecast:
    """Mean of all observed values, flat.

    Returns
    -------
    PointForecast
        ``spread`` sqrt(1 + 1 / n_observed); in-sample fit: the mean of all previous observed values.
    """
    y = _as_panel(y)
    n_obs = (~np.isnan(y)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_obs > 0, np.nansum(y, axis=1) / np.maximum(n_obs, 1), np.nan)
    spread = np.repeat(np.sqrt(1.0 + 1.0 / np.maximum(n_obs, 1))[:, None], horizon, axis=1)
    return PointForecast(np.repeat(mean[:, None], horizon, axis=1), _rolling_observed_mean(y, None), spread, {})
