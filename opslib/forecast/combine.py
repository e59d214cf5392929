"""Combinations of forecasts: the mean or median of several models, per series and horizon."""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from opslib.forecast.result import PointForecast

__all__ = ["combine", "combination_name", "parse_combination", "one_standard_error_pool"]


def combine(forecasts: Sequence[PointForecast], *, how: str = "mean") -> PointForecast:
    """Combine point forecasts of the same series (e.g. COMB S-H-D: SES, Holt, damped).

    Parameters
    ----------
    forecasts : sequence of PointForecast
        Same shapes (n_series, horizon).
    how : {"mean", "median"}, default "mean"

    Returns
    -------
    PointForecast
        ``mean``: the mean (median) of the members' means, NaN only where every
        member is NaN; ``fitted`` likewise when every member has one (else None);
        ``spread`` the mean of the members' spreads when all have one (else None);
        ``params["members"]`` the number of members.

    Notes
    -----
    The M3 benchmark COMB S-H-D is the arithmetic mean of SES, Holt and damped
    trend forecasts, each on the seasonally adjusted series [1].

    References
    ----------
    .. [1] Makridakis, S., Hibon, M. (2000). The M3-Competition: results, conclusions and
       implications. IJF 16(4), 451-476.
    """
    if how not in ("mean", "median"):
        raise ValueError(f"combine: how must be 'mean' or 'median'; got {how!r}.")
    if len(forecasts) == 0:
        raise ValueError("combine: at least one forecast is needed; got none.")
    reduce = np.nanmean if how == "mean" else np.nanmedian

    def _stack(arrays):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return reduce(np.stack(arrays), axis=0)

    mean = _stack([f.mean for f in forecasts])
    fitted = (_stack([f.fitted for f in forecasts]) if all(f.fitted is not None for f in forecasts) else None)
    spread = (np.mean(np.stack([f.spread for f in forecasts]), axis=0)
              if all(f.spread is not None for f in forecasts) else None)
    return PointForecast(mean, fitted, spread, {"members": np.full(mean.shape[0], len(forecasts))})


def combination_name(members: Sequence[str], *, how: str = "mean") -> str:
    """The model name of a combination, e.g. ``"mean(theta+holt_damped)"``; one member: its own name."""
    members = list(members)
    if len(members) == 1:
        return members[0]
    return f"{how}(" + "+".join(members) + ")"


def parse_combination(name: str) -> tuple[str, tuple[str, ...]] | None:
    """``(how, members)`` of a combination name (:func:`combination_name`); None for any other name."""
    for how in ("mean", "median"):
        if name.startswith(how + "(") and name.endswith(")"):
            members = tuple(k for k in name[len(how) + 1:-1].split("+") if k)
            if len(members) >= 2:
                return how, members
    return None


def one_standard_error_pool(errors) -> np.ndarray:
    """Models whose backtest error is within one standard error of the best: the pool to average.

    Parameters
    ----------
    errors : array-like, shape (n_windows, n_series, n_models)
        A scale-free error of each model on each backtest window; NaN where a
        model was not evaluated (it never joins the pool).

    Returns
    -------
    numpy.ndarray of bool, shape (n_series, n_models)
        True for the pooled models: the best (smallest mean error over the
        windows) and every model whose mean error exceeds the best's by at
        most one standard error of their paired per-window differences. A
        series with a single scored window pools the best model only; a series
        without any finite error pools nothing.

    Notes
    -----
    With d_w = e_{k,w} - e_{best,w} over the W windows, model k joins when
    mean(d) <= sd(d) / sqrt(W): its backtest disadvantage is within the noise
    of the backtest (the one-standard-error rule of [1], applied as in forecast
    pooling [2]: average the models that cannot be told apart from the best
    instead of betting on one).

    References
    ----------
    .. [1] Hastie, T., Tibshirani, R., Friedman, J. (2009). The Elements of Statistical
       Learning, 2nd ed., section 7.10. Springer.
    .. [2] Kourentzes, N., Barrow, D., Petropoulos, F. (2019). Another look at forecast
       selection and combination: evidence from forecast pooling. IJPE 209, 226-235.
    """
    e = np.asarray(errors, dtype=float)
    W, n, K = e.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(e, axis=0)                                   # (n, K)
    finite = np.isfinite(mean)
    best = np.argmin(np.where(finite, mean, np.inf), axis=1)
    pool = np.zeros((n, K), dtype=bool)
    rows = np.flatnonzero(finite.any(axis=1))
    pool[rows, best[rows]] = True
    if W < 2:
        return pool
    d = e - e[:, np.arange(n), best][:, :, None]                     # (W, n, K) paired differences
    both = np.isfinite(d)
    count = both.sum(axis=0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        d_mean = np.nanmean(d, axis=0)
        d_sd = np.nanstd(d, axis=0, ddof=1)
        within = (count >= 2) & (d_mean <= d_sd / np.sqrt(np.maximum(count, 1)))
    return pool | (within & finite)
