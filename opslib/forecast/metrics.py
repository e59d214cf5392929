"""Forecast accuracy metrics, per series.

Every function takes arrays whose last axis is time (one row per series) and
returns one value per series (a float for 1-D input). NaN actuals are ignored.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mase", "rmsse", "smape", "wape", "bias", "pinball_loss", "interval_coverage"]


def _arrays(*arrays):
    out = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
    return [a.copy() for a in out]


def _nanmean(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    count = valid.sum(axis=-1)
    total = np.where(valid, x, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _scalar(x):
    return float(x) if np.ndim(x) == 0 else x


def _naive_scale(y_train, season_length: int, power: int) -> np.ndarray:
    y_train = np.asarray(y_train, dtype=float)
    m = int(season_length)
    diff = np.abs(y_train[..., m:] - y_train[..., :-m]) ** power
    return _nanmean(diff, ~np.isnan(diff))


def mase(y_true, y_pred, y_train, *, season_length: int = 1):
    """Mean absolute scaled error (Hyndman and Koehler 2006).

    MASE = mean_h |y - f| / mean_t |y_t - y_{t-m}| over the training periods
    (pairs with a missing value are skipped). inf for a constant training series with errors.
    """
    y, f = _arrays(y_true, y_pred)
    valid = ~np.isnan(y)
    mae = _nanmean(np.abs(y - f), valid)
    scale = _naive_scale(y_train, season_length, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _scalar(mae / scale)


def rmsse(y_true, y_pred, y_train, *, season_length: int = 1):
    """Root mean squared scaled error (the M5 accuracy measure, per series).

    RMSSE = sqrt(mean_h (y - f)^2 / mean_t (y_t - y_{t-m})^2). The M5 scale starts
    at the first non-zero sale: pass ``y_train`` trimmed accordingly.
    """
    y, f = _arrays(y_true, y_pred)
    valid = ~np.isnan(y)
    mse = _nanmean((y - f) ** 2, valid)
    scale = _naive_scale(y_train, season_length, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _scalar(np.sqrt(mse / scale))


def smape(y_true, y_pred):
    """Symmetric MAPE [percent] as in M3: mean(200 |y - f| / (|y| + |f|)); a 0/0 term counts as 0."""
    y, f = _arrays(y_true, y_pred)
    valid = ~np.isnan(y)
    denom = np.abs(y) + np.abs(f)
    with np.errstate(invalid="ignore", divide="ignore"):
        term = np.where(denom > 0, 200.0 * np.abs(y - f) / np.where(denom > 0, denom, 1.0), 0.0)
    return _scalar(_nanmean(term, valid))


def wape(y_true, y_pred):
    """Weighted absolute percentage error [fraction]: sum |y - f| / sum |y| (NaN when sum |y| = 0)."""
    y, f = _arrays(y_true, y_pred)
    valid = ~np.isnan(y)
    num = np.where(valid, np.abs(y - f), 0.0).sum(axis=-1)
    den = np.where(valid, np.abs(y), 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _scalar(np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan))


def bias(y_true, y_pred):
    """Mean error f - y [units/period]: positive = over-forecast."""
    y, f = _arrays(y_true, y_pred)
    return _scalar(_nanmean(f - y, ~np.isnan(y)))


def pinball_loss(y_true, y_quantile, quantile: float):
    """Mean pinball (quantile) loss of a forecast quantile at level ``quantile`` in (0, 1).

    L = mean(max(tau (y - q), (tau - 1) (y - q))).
    """
    y, q = _arrays(y_true, y_quantile)
    diff = y - q
    loss = np.maximum(quantile * diff, (quantile - 1.0) * diff)
    return _scalar(_nanmean(loss, ~np.isnan(y)))


def interval_coverage(y_true, lower, upper):
    """Share of actuals inside [lower, upper] (both ends included) [fraction]."""
    y, lo, hi = _arrays(y_true, lower, upper)
    inside = ((y >= lo) & (y <= hi)).astype(float)
    return _scalar(_nanmean(inside, ~np.isnan(y)))
