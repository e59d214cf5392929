"""Demand classes per series: Syntetos-Boylan ADI / CV^2 plus lifecycle classes."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["DemandClasses", "classify_demand", "ADI_CUTOFF", "CV2_CUTOFF", "CLASSES"]

ADI_CUTOFF = 1.32
"""Average inter-demand interval above which demand is intermittent (Syntetos, Boylan and Croston 2005)."""
CV2_CUTOFF = 0.49
"""Squared coefficient of variation of demand sizes above which demand is erratic or lumpy."""
CLASSES = ("all_zero", "too_short", "discontinued", "new", "smooth", "erratic", "intermittent", "lumpy")

# defaults per season length: (new_periods, discontinued_periods)
_LIFECYCLE = {7: (28, 180), 52: (8, 26), 12: (3, 12), 4: (2, 4), 1: (1, 3)}


class DemandClasses(NamedTuple):
    """Class and statistics of each series.

    Attributes
    ----------
    demand_class : numpy.ndarray of str
        One of :data:`CLASSES`.
    adi : numpy.ndarray
        Observed periods / periods with demand (inf without demand).
    cv2 : numpy.ndarray
        Squared coefficient of variation of the non-zero sizes (population
        variance; 0 with a single demand, NaN without any).
    n_observed : numpy.ndarray of int
    """

    demand_class: np.ndarray
    adi: np.ndarray
    cv2: np.ndarray
    n_observed: np.ndarray


def classify_demand(y, *, season_length: int = 1, min_observations: int = 4, new_periods: int | None = None,
                    discontinued_periods: int | None = None) -> DemandClasses:
    """Classify each series after Syntetos and Boylan, with lifecycle classes first.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        History; NaN = not observed (before listing, censored).
    season_length : int, default 1
        Used for the defaults of ``new_periods`` and ``discontinued_periods``:
        daily (7) 28 and 180, weekly (52) 8 and 26, monthly (12) 3 and 12,
        quarterly (4) 2 and 4, yearly (1) 1 and 3 [periods].
    min_observations : int, default 4
        Fewer observed periods: ``too_short``.
    new_periods : int, optional
        The first observation is within the last ``new_periods`` periods: ``new``.
    discontinued_periods : int, optional
        No demand in the last ``discontinued_periods`` observed periods (and some before): ``discontinued``.

    Returns
    -------
    DemandClasses
        Rules in order: ``all_zero`` (no demand), ``too_short``,
        ``discontinued``, ``new``; then ADI < 1.32 and CV^2 < 0.49 ``smooth``,
        ADI < 1.32 ``erratic``, CV^2 < 0.49 ``intermittent``, else ``lumpy``.

    References
    ----------
    .. [1] Syntetos, A.A., Boylan, J.E., Croston, J.D. (2005). On the categorization of demand
       patterns. JORS 56(5), 495-503.
    """
    y = np.asarray(y, dtype=float)
    y = y[None, :] if y.ndim == 1 else y
    n, T = y.shape
    new_default, disc_default = _LIFECYCLE.get(int(season_length), (max(2 * season_length, 2), 6 * season_length))
    new_periods = new_default if new_periods is None else new_periods
    discontinued_periods = disc_default if discontinued_periods is None else discontinued_periods

    observed = ~np.isnan(y)
    demand = observed & (np.nan_to_num(y) > 0)
    n_obs = observed.sum(axis=1)
    n_dem = demand.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(n_dem > 0, n_obs / np.maximum(n_dem, 1), np.inf)
        sizes = np.where(demand, y, 0.0)
        mean = sizes.sum(axis=1) / np.maximum(n_dem, 1)
        var = np.where(demand, (y - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(n_dem, 1)
        cv2 = np.where(n_dem > 0, var / mean**2, np.nan)

    first = np.where(observed.any(axis=1), np.argmax(observed, axis=1), T)
    # trailing observed periods without demand
    rank = np.cumsum(observed, axis=1)
    last_demand_rank = np.where(demand, rank, 0).max(axis=1)
    trailing = n_obs - last_demand_rank

    cls = np.where(adi < ADI_CUTOFF, np.where(cv2 < CV2_CUTOFF, "smooth", "erratic"),
                   np.where(cv2 < CV2_CUTOFF, "intermittent", "lumpy")).astype(object)
    cls[T - first <= new_periods] = "new"
    cls[(trailing >= discontinued_periods) & (n_dem > 0)] = "discontinued"
    cls[n_obs < min_observations] = "too_short"
    cls[n_dem == 0] = "all_zero"
    return DemandClasses(cls.astype(str), adi, cv2, n_obs)
