"""Intermittent-demand methods as defined by the official M5 benchmark code.

Croston, SBA, TSB, ADIDA and iMAPA exactly as in ``validation/Point Forecasts -
Benchmarks.R`` of Mcompetitions/M5-methods (Makridakis, Spiliotis and
Assimakopoulos 2022), vectorized over series. A series is the sequence of its
observed periods: NaN periods (not yet listed, censored stock-out days) are
skipped, as if they did not exist.

The M5 helper ``intervals(x)`` counts the first inter-demand interval as the
number of zeros before the first demand (dropped when the series starts with a
demand) and every later one as the distance between consecutive demands; so for
``[0, 0, 3, 0, 2, 0, 0, 4]`` the intervals are ``[2, 2, 3]``. Its ``SES``
starts the level at the first value, and ``SexpS`` chooses alpha in [0.1, 0.3].
"""

from __future__ import annotations

import numpy as np

from opslib.forecast.panel import right_align
from opslib.forecast.result import PointForecast
from opslib.forecast.smoothing import simple_exponential_smoothing, ses_level

__all__ = ["croston", "croston_sba", "croston_optimized", "tsb", "adida", "imapa",
           "demand_sizes_and_intervals", "mean_interval", "TSB_OCCURRENCE_GRID", "TSB_SIZE_GRID"]

TSB_OCCURRENCE_GRID = np.array([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.8])
"""M5 TSB grid ``a``: smoothing of the demand occurrence probability."""
TSB_SIZE_GRID = np.array([0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3])
"""M5 TSB grid ``b``: smoothing of the demand size."""


def _as_panel(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return y[None, :] if y.ndim == 1 else y


def demand_sizes_and_intervals(y) -> tuple[np.ndarray, np.ndarray]:
    """Non-zero demand sizes and M5 inter-demand intervals, left-aligned with NaN padding.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        NaN periods are skipped.

    Returns
    -------
    sizes, intervals : numpy.ndarray, shape (n_series, max number of demands)
        ``sizes[i, r]`` is the r-th non-zero value of series i;
        ``intervals[i, r]`` the M5 interval ending at that demand [observed
        periods], NaN for the first demand when the series starts with it.
    """
    y = _as_panel(y)
    n = y.shape[0]
    observed = ~np.isnan(y)
    position = np.cumsum(observed, axis=1) - 1                 # index among observed periods
    demand = observed & (np.nan_to_num(y) > 0)
    rows, cols = np.nonzero(demand)
    rank = np.cumsum(demand, axis=1)[rows, cols] - 1
    width = max(int(rank.max(initial=-1)) + 1, 1)
    sizes = np.full((n, width), np.nan)
    sizes[rows, rank] = y[rows, cols]
    pos = position[rows, cols]
    previous = np.zeros(len(pos))
    same = np.r_[False, rows[1:] == rows[:-1]]
    previous[same] = pos[:-1][same[1:]]
    gap = (pos - previous).astype(float)
    gap[gap == 0] = np.nan                                     # a first demand at the first period
    intervals = np.full((n, width), np.nan)
    intervals[rows, rank] = gap
    return sizes, intervals


def mean_interval(y) -> np.ndarray:
    """Mean M5 inter-demand interval per series (NaN without any interval)."""
    _, intervals = demand_sizes_and_intervals(y)
    count = (~np.isnan(intervals)).sum(axis=1)
    return np.where(count > 0, np.nansum(intervals, axis=1) / np.maximum(count, 1), np.nan)


def _flat(value: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(np.asarray(value, dtype=float)[:, None], horizon, axis=1)


def croston(y, horizon: int, *, alpha: float = 0.1) -> PointForecast:
    """Croston's method (M5 "CRO"): SES of demand sizes over SES of intervals.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN periods skipped.
    horizon : int
    alpha : float, default 0.1
        Smoothing parameter of both sizes and intervals (the M5 value).

    Returns
    -------
    PointForecast
        Flat forecast z / p [units/period]: 0 for a series without demand, NaN
        for one without any observation.

    References
    ----------
    .. [1] Croston, J.D. (1972). Forecasting and stock control for intermittent demands.
       Operational Research Quarterly 23(3), 289-303.
    """
    return _croston(_as_panel(y), horizon, alpha, 1.0)


def croston_sba(y, horizon: int, *, alpha: float = 0.1) -> PointForecast:
    """Syntetos-Boylan approximation (M5 "SBA"): Croston x 0.95 (= 1 - alpha / 2 at alpha 0.1).

    References
    ----------
    .. [1] Syntetos, A.A., Boylan, J.E. (2005). The accuracy of intermittent demand
       estimates. International Journal of Forecasting 21(2), 303-314.
    """
    return _croston(_as_panel(y), horizon, alpha, 0.95)


def croston_optimized(y, horizon: int) -> PointForecast:
    """M5 "optCro": Croston with sizes and intervals each smoothed by SES with alpha chosen in [0.1, 0.3]."""
    y = _as_panel(y)
    sizes, intervals = demand_sizes_and_intervals(y)
    z = simple_exponential_smoothing(sizes, 1).mean[:, 0]
    p = simple_exponential_smoothing(intervals, 1).mean[:, 0]
    return PointForecast(_flat(_ratio(y, z, p, 1.0), horizon), None, None, {})


def _ratio(y, z, p, multiplier):
    has_obs = (~np.isnan(y)).any(axis=1)
    has_demand = ~np.isnan(z)
    p = np.where(np.isnan(p), 1.0, p)          # M5: y[is.na(y)] <- 1 (a single demand at the start)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(has_demand, multiplier * z / p, 0.0)
    return np.where(has_obs, value, np.nan)


def _croston(y, horizon, alpha, multiplier):
    sizes, intervals = demand_sizes_and_intervals(y)
    z = ses_level(sizes, alpha)
    p = ses_level(intervals, alpha)
    return PointForecast(_flat(_ratio(y, z, p, multiplier), horizon), None, None, {"alpha": np.full(len(y), alpha)})


def _tsb_run(y, first_size, a, b):
    """TSB for parameter arrays a, b (n, G): returns final p * z and the one-step SSE."""
    n, T = y.shape
    prob = np.full(a.shape, np.nan)
    size = np.broadcast_to(first_size[:, None], a.shape).copy()
    sse = np.zeros(a.shape)
    for t in range(T):
        yt = y[:, t, None]
        err = prob * size - yt
        has = ~np.isnan(err)
        sse += np.where(has, err * err, 0.0)
        observed = ~np.isnan(yt)
        occurred = (yt > 0).astype(float)
        started = ~np.isnan(prob)
        new_prob = np.where(started, prob + a * (occurred - prob), occurred)
        new_size = np.where(started & (yt > 0), size + b * (yt - size), size)
        prob = np.where(observed, new_prob, prob)
        size = np.where(observed, new_size, size)
    return prob * size, sse


def tsb(y, horizon: int) -> PointForecast:
    """Teunter-Syntetos-Babai (M5 "TSB"): smoothed demand probability x smoothed size.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    horizon : int

    Returns
    -------
    PointForecast
        Flat forecast p_T z_T; ``params["a"]`` (probability) and ``params["b"]``
        (size) chosen on the M5 grid (9 x 7) by the in-sample one-step MSE, the
        first minimum in the M5 loop order (a outer, b inner).

    Notes
    -----
    M5 code: p_1 = 1{y_1 > 0}, z_1 = first non-zero demand of the series; then
    p_t = p_{t-1} + a (1{y_t > 0} - p_{t-1}) every period and
    z_t = z_{t-1} + b (y_t - z_{t-1}) on demand periods only; one-step forecast
    p_{t-1} z_{t-1}. A series without demand forecasts 0.

    References
    ----------
    .. [1] Teunter, R.H., Syntetos, A.A., Babai, M.Z. (2011). Intermittent demand: linking
       forecasting to inventory obsolescence. EJOR 214(3), 606-615.
    """
    y = _as_panel(y)
    n = y.shape[0]
    sizes, _ = demand_sizes_and_intervals(y)
    first_size = sizes[:, 0]
    A, B = (g.ravel() for g in np.meshgrid(TSB_OCCURRENCE_GRID, TSB_SIZE_GRID, indexing="ij"))
    final, sse = _tsb_run(y, first_size, np.broadcast_to(A, (n, len(A))), np.broadcast_to(B, (n, len(B))))
    k = np.argmin(sse, axis=1)
    value = final[np.arange(n), k]
    has_obs = (~np.isnan(y)).any(axis=1)
    value = np.where(np.isnan(first_size) & has_obs, 0.0, value)
    return PointForecast(_flat(value, horizon), None, None, {"a": A[k], "b": B[k]})


def _aggregate(aligned: np.ndarray, level: int) -> np.ndarray:
    """Non-overlapping sums of ``level`` periods, aligned at the end (the M5 ``tail`` + ``rollapply``)."""
    n, width = aligned.shape
    k = width // level
    if k == 0:
        return np.full((n, 1), np.nan)
    return aligned[:, width - k * level:].reshape(n, k, level).sum(axis=2)   # NaN if a bucket is incomplete


def _adida_level(aligned: np.ndarray, level: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """SES-optimized forecast of the aggregated series divided by the level, for the given rows."""
    out = np.full(len(rows), np.nan)
    for value in np.unique(level[rows]):
        pick = level[rows] == value
        buckets = _aggregate(aligned[rows[pick]], int(value))
        out[pick] = simple_exponential_smoothing(buckets, 1).mean[:, 0] / value
    return out


def adida(y, horizon: int) -> PointForecast:
    """ADIDA (M5): SES on the series summed over buckets of the mean inter-demand interval.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    horizon : int

    Returns
    -------
    PointForecast
        Flat forecast; ``params["aggregation"]`` = round(mean M5 interval)
        (round half to even, as R's ``round``). The last
        ``(n %/% bucket) * bucket`` observed periods are summed in
        non-overlapping buckets, SES with alpha in [0.1, 0.3] forecasts the next
        bucket, divided by the bucket size. 0 for a series without demand; NaN
        when fewer observed periods than one bucket.

    References
    ----------
    .. [1] Nikolopoulos, K., Syntetos, A.A., Boylan, J.E., Petropoulos, F., Assimakopoulos, V. (2011).
       An aggregate-disaggregate intermittent demand approach (ADIDA). JORS 62(3), 544-554.
    """
    y = _as_panel(y)
    aligned = right_align(y)
    level = np.round(mean_interval(y))
    rows = np.flatnonzero(~np.isnan(level))
    value = np.zeros(len(y))
    value[rows] = _adida_level(aligned, level, rows)
    value[~(~np.isnan(y)).any(axis=1)] = np.nan
    return PointForecast(_flat(value, horizon), None, None, {"aggregation": level})


def imapa(y, horizon: int) -> PointForecast:
    """iMAPA (M5): mean of the ADIDA forecasts at every bucket size 1 .. round(mean interval).

    Returns
    -------
    PointForecast
        Flat forecast; levels whose aggregated series is empty are left out of
        the mean. 0 for a series without demand.

    References
    ----------
    .. [1] Petropoulos, F., Kourentzes, N. (2015). Forecast combinations for intermittent
       demand. JORS 66(6), 914-924.
    """
    y = _as_panel(y)
    aligned = right_align(y)
    top = np.round(mean_interval(y))
    total = np.zeros(len(y))
    count = np.zeros(len(y))
    for level in range(1, int(np.nanmax(top, initial=0)) + 1):
        rows = np.flatnonzero(top >= level)
        values = _adida_level(aligned, np.full(len(y), float(level)), rows)
        ok = ~np.isnan(values)
        total[rows[ok]] += values[ok]
        count[rows[ok]] += 1
    value = np.where(count > 0, total / np.maximum(count, 1), np.where(np.isnan(top), 0.0, np.nan))
    value[~(~np.isnan(y)).any(axis=1)] = np.nan
    return PointForecast(_flat(value, horizon), None, None, {"max_aggregation": top})
