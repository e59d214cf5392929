"""The value every point-forecast model returns."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["PointForecast"]


class PointForecast(NamedTuple):
    """Point forecasts of a panel of series, one row per series.

    Attributes
    ----------
    mean : numpy.ndarray, shape (n_series, horizon)
        Forecast mean [units/period]; NaN where the model cannot forecast a
        series (no usable history); the caller falls back.
    fitted : numpy.ndarray or None, shape (n_series, n_periods)
        In-sample one-step-ahead forecasts, NaN where none was made; None for
        models without a one-step fit (the intermittent-demand family).
    spread : numpy.ndarray or None, shape (n_series, horizon)
        Standard deviation of the h-step error relative to the one-step error
        (1 at h=1), implied by the model; None when the model implies none.
    params : dict of str to numpy.ndarray
        Parameters chosen per series (``alpha``, ``beta``, ``phi``, ...).
    """

    mean: np.ndarray
    fitted: np.ndarray | None
    spread: np.ndarray | None
    params: dict
