"""Combinations of forecasts: the mean or median of several models, per series and horizon."""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from opslib.forecast.result import PointForecast

__all__ = ["combine"]


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
