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

from typing import NamedTuple

import numpy as np

from opslib.forecast.panel import right_align
from opslib.forecast.result import PointForecast
from opslib.forecast.smoothing import ses_level

__all__ = ["croston", "croston_sba", "croston_optimized", "tsb", "adida", "imapa",
           "demand_sizes_and_intervals", "mean_interval", "TSB_OCCURRENCE_GRID", "TSB_SIZE_GRID"]

TSB_OCCURRENCE_GRID = np.array([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.8])
"""M5 TSB grid ``a``: smoothing of the demand occurrence probability."""
TSB_SIZE_GRID = np.array([0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3])
"""M5 TSB grid ``b``: smoothing of the demand size."""


def _as_panel(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return y[None, :] if y.ndim == 1 else y


def demand_sizes_and_intervals(y, *, align: str = "left") -> tuple[np.ndarray, np.ndarray]:
    """Non-zero demand sizes and M5 inter-demand intervals, aligned with NaN padding.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        NaN periods are skipped.
    align : {"left", "right"}, default "left"
        Where each row's demands sit: from the first column (NaN after them)
        or ending in the last column (NaN before them).

    Returns
    -------
    sizes, intervals : numpy.ndarray, shape (n_series, max number of demands)
        With ``align="left"``, ``sizes[i, r]`` is the r-th non-zero value of
        series i and ``intervals[i, r]`` the M5 interval ending at that demand
        [observed periods], NaN for the first demand when the series starts
        with it. ``align="right"`` shifts each row to end in the last column.

    Notes
    -----
    Work is proportional to the number of demands once the demand periods are
    found: ranks come from the per-row counts, and the position of a period
    among the observed ones is its column minus the first observed column,
    except on rows with a NaN after their first observation, where it is counted.
    """
    y = _as_panel(y)
    n = y.shape[0]
    ev = _demand_events(y)
    width = max(int(ev.counts.max(initial=0)), 1)
    column = ev.rank if align == "left" else width - ev.counts[ev.rows] + ev.rank
    sizes = np.full((n, width), np.nan)
    sizes[ev.rows, column] = ev.sizes
    intervals = np.full((n, width), np.nan)
    intervals[ev.rows, column] = ev.intervals
    return sizes, intervals


class _DemandEvents(NamedTuple):
    """The demand periods of a panel, row by row (row-major order).

    ``rows``, ``rank`` (index among the row's demands), ``position`` (index among
    the row's observed periods), ``sizes`` and M5 ``intervals`` (NaN for a first
    demand at the first observed period) per demand; ``counts`` demands and
    ``n_obs`` observed periods per row.
    """

    rows: np.ndarray
    rank: np.ndarray
    position: np.ndarray
    sizes: np.ndarray
    intervals: np.ndarray
    counts: np.ndarray
    n_obs: np.ndarray


def _demand_events(y: np.ndarray) -> _DemandEvents:
    n, T = y.shape
    observed = ~np.isnan(y)
    with np.errstate(invalid="ignore"):
        demand = y > 0
    counts = np.count_nonzero(demand, axis=1)
    rows, cols = np.nonzero(demand)
    row_start = np.cumsum(counts) - counts
    rank = np.arange(len(rows)) - np.repeat(row_start, counts)
    n_obs = np.count_nonzero(observed, axis=1)
    first = np.argmax(observed, axis=1)
    pos = cols - first[rows]                                   # index among observed periods ...
    gappy = np.flatnonzero((n_obs > 0) & (n_obs < T - first))
    if len(gappy):                                             # ... counted on rows with gaps
        seen = np.cumsum(observed[gappy], axis=1, dtype=np.int32) - 1
        which = np.full(n, -1)
        which[gappy] = np.arange(len(gappy))
        in_gappy = which[rows] >= 0
        pos[in_gappy] = seen[which[rows[in_gappy]], cols[in_gappy]]
    previous = np.zeros(len(pos), dtype=pos.dtype)
    same = rank > 0
    previous[same] = pos[np.flatnonzero(same) - 1]
    gap = (pos - previous).astype(float)
    gap[gap == 0] = np.nan                                     # a first demand at the first period
    return _DemandEvents(rows, rank, pos, y[rows, cols], gap, counts, n_obs)


def mean_interval(y) -> np.ndarray:
    """Mean M5 inter-demand interval per series (NaN without any interval)."""
    y = _as_panel(y)
    ev = _demand_events(y)
    valid = ~np.isnan(ev.intervals)
    count = np.bincount(ev.rows[valid], minlength=len(y))
    total = np.bincount(ev.rows[valid], weights=ev.intervals[valid], minlength=len(y))
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


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
    sizes, intervals = demand_sizes_and_intervals(y, align="right")
    z = ses_level(sizes)                                       # SES optimized in [0.1, 0.3]: SexpS
    p = ses_level(intervals)
    return PointForecast(_flat(_ratio((~np.isnan(y)).any(axis=1), z, p, 1.0), horizon), None, None, {})


def _ratio(has_obs, z, p, multiplier):
    has_demand = ~np.isnan(z)
    p = np.where(np.isnan(p), 1.0, p)          # M5: y[is.na(y)] <- 1 (a single demand at the start)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(has_demand, multiplier * z / p, 0.0)
    return np.where(has_obs, value, np.nan)


class _Starts(NamedTuple):
    """Where each row's Croston and TSB recursions start.

    ``first`` the first observed period (0 without one), ``occurrence`` 1.0
    when that period has a demand (else 0.0), ``first_size`` the first non-zero
    value (NaN without one), ``n_obs`` observed periods per row, ``first_demand``
    the first period with a demand (0 without one), ``counts`` demands per row.
    """

    first: np.ndarray
    occurrence: np.ndarray
    first_size: np.ndarray
    n_obs: np.ndarray
    first_demand: np.ndarray
    counts: np.ndarray


def _starts(y: np.ndarray) -> _Starts:
    n = len(y)
    observed = ~np.isnan(y)
    first = np.argmax(observed, axis=1)
    with np.errstate(invalid="ignore"):
        demand = y > 0
    first_demand = np.argmax(demand, axis=1)
    first_size = np.where(demand[np.arange(n), first_demand], y[np.arange(n), first_demand], np.nan)
    return _Starts(first, demand[np.arange(n), first].astype(float), first_size,
                   np.count_nonzero(observed, axis=1), first_demand, np.count_nonzero(demand, axis=1))


PERIOD_CHUNK = 64
"""Periods transposed together for the Croston and TSB loops (a (64, n) block stays in cache)."""
TILE_ROWS = 512
"""Series per tile of that transposition (about 0.3 s instead of 0.5 s on an M5-sized panel)."""


def _period_chunks(y: np.ndarray, length: int = PERIOD_CHUNK):
    """Yield ``(start, values, observed, complete)`` for consecutive blocks of periods, time-major.

    ``values`` (k, n) is the block of ``y`` transposed with NaN set to 0,
    ``observed`` (k, n) 0/1 floats, ``complete`` True when the block has no NaN.
    The buffers are reused from one block to the next, so the full (T, n)
    panel is never copied: the recursions read each block from cache.
    """
    n, T = y.shape
    values_buffer = np.empty((min(length, T), n))
    observed_buffer = np.empty(values_buffer.shape)
    missing_buffer = np.empty(values_buffer.shape, dtype=bool)
    for start in range(0, T, length):
        k = min(length, T - start)
        values, observed, missing = values_buffer[:k], observed_buffer[:k], missing_buffer[:k]
        for i in range(0, n, TILE_ROWS):                       # tiles: each source row segment read once
            values[:, i:i + TILE_ROWS] = y[i:i + TILE_ROWS, start:start + k].T
        np.isnan(values, out=missing)
        complete = not missing.any()
        if complete:
            observed.fill(1.0)
        else:
            np.logical_not(missing, out=observed, casting="unsafe")
            np.copyto(values, 0.0, where=missing)
        yield start, values, observed, complete


def _croston(y, horizon, alpha, multiplier):
    """Croston with fixed alpha: one loop over time, numpy over series (time-major rows).

    Per observed period: a demand updates the size level z and, when the M5
    interval counter is positive, the interval level p; the counter then
    restarts at 1; a zero adds 1 to the counter. Eight numpy calls per period:
    ``level += alpha 1{demand} (x - level)`` for z and p with the weights of a
    block of periods computed at once, and ``counter = counter 1{no demand} +
    1{observed}``. The starts, once per series, are found per block, not per
    period: z starts at the first size in the block of the first demand (so the
    first demand leaves it unchanged), and p is set to the first interval right
    after that period's update (from 0, with weight 1).
    """
    n, T = y.shape
    k_max = min(PERIOD_CHUNK, T)
    weight = np.empty((k_max, n))
    demand = np.empty((k_max, n), dtype=bool)
    idle = np.empty((k_max, n), dtype=bool)                    # no demand: the counter survives the period
    steps = np.arange(k_max)[:, None]
    z, p, counter = np.zeros(n), np.zeros(n), np.zeros(n)
    err = np.empty(n)
    no_size = np.arange(n)                                     # rows without a demand so far
    no_interval = np.arange(n)                                 # rows without an M5 interval so far
    for _, values, observed, complete in _period_chunks(y):
        k = len(values)
        d, w, keep = demand[:k], weight[:k], idle[:k]
        np.greater(values, 0.0, out=d)
        np.logical_not(d, out=keep)
        np.multiply(d, alpha, out=w)                           # exact: alpha or 0
        if len(no_size):                                       # z (0, or NaN after a -inf) += first size
            hit = d[:, no_size]
            when = np.argmax(hit, axis=0)
            found = hit[when, np.arange(len(no_size))]
            rows = no_size[found]
            z[rows] += np.nan_to_num(values[when[found], rows])   # an infinite size starts at the largest float
            no_size = no_size[~found]
        first_interval = {}
        if len(no_interval):                                   # an interval needs an earlier observed period
            hit = d[:, no_interval]
            earlier = 0 if complete else np.argmax(observed[:, no_interval] > 0.0, axis=0)
            hit &= (counter[no_interval] > 0.0) | (steps[:k] > earlier)
            when = np.argmax(hit, axis=0)
            found = hit[when, np.arange(len(no_interval))]
            rows, when = no_interval[found], when[found]
            for t in np.unique(when):
                first_interval[t] = rows[when == t]
            no_interval = no_interval[~found]
        for t in range(k):
            wt = w[t]
            np.subtract(values[t], z, out=err)                 # z += alpha (y - z) on demand
            err *= wt
            z += err
            np.subtract(counter, p, out=err)                   # p += alpha (counter - p) on demand
            err *= wt
            p += err
            rows = first_interval.get(t)
            if rows is not None:
                p[rows] = counter[rows]                        # p was 0: 0 + 1 (counter - 0)
            counter *= keep[t]
            if complete:
                counter += 1.0
            else:
                counter += observed[t]
    z[no_size] = np.nan
    p[no_interval] = np.nan
    value = _ratio(counter > 0.0, z, p, multiplier)            # the counter is positive once observed
    return PointForecast(_flat(value, horizon), None, None, {"alpha": np.full(n, alpha)})


def _tsb_grid(y: np.ndarray, a_grid: np.ndarray, b_grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TSB for every (a, b) of the two grids at once: final p * z and the one-step SSE, (n, Ga, Gb).

    One loop over time on time-major rows. The probability p (n, Ga) and the
    size z (n, Gb) are smoothed on their own; only the one-step error
    p_{t-1} z_{t-1} - y_t is formed on (n, Ga, Gb), in place. The first observed
    period starts the recursion (no error counted there); NaN periods are skipped.
    """
    n = len(y)
    st = _starts(y)
    prob = np.repeat(st.occurrence[:, None], len(a_grid), axis=1)
    size = np.repeat(np.nan_to_num(st.first_size)[:, None], len(b_grid), axis=1)
    a, b = np.asarray(a_grid, dtype=float)[None, :], np.asarray(b_grid, dtype=float)[None, :]
    sse = np.zeros((n, len(a_grid), len(b_grid)))
    err = np.empty(sse.shape)
    ep, ez = np.empty(prob.shape), np.empty(size.shape)
    demand = np.empty(n, dtype=bool)
    for start, values, observed, _ in _period_chunks(y):
        steps = np.arange(start, start + len(values))[:, None]
        counted = observed * (steps > st.first[None, :])       # periods whose one-step error counts
        every = counted.all(axis=1)
        for j, (yt, ot) in enumerate(zip(values, observed)):
            np.multiply(prob[:, :, None], size[:, None, :], out=err)   # one-step forecast
            err -= yt[:, None, None]
            if not every[j]:
                err *= counted[j][:, None, None]
            np.multiply(err, err, out=err)
            sse += err
            np.greater(yt, 0.0, out=demand)
            np.subtract(demand[:, None], prob, out=ep)             # occurrence
            ep *= ot[:, None]
            ep *= a
            prob += ep
            np.subtract(yt[:, None], size, out=ez)                 # size, on demand periods
            ez *= demand[:, None]
            ez *= b
            size += ez
    return prob[:, :, None] * size[:, None, :], sse


def _tsb_fixed(y: np.ndarray, a: float, b: float) -> np.ndarray:
    """TSB forecast p_T z_T at fixed (a, b), one loop over time on time-major rows.

    The probability starts at the first observed period's occurrence (so that
    period leaves it unchanged) and moves on every observed period; the size
    starts at the first size and moves on demand periods (the first one leaves
    it unchanged): the M5 recursion of :func:`tsb`. 0 without demand, NaN
    without observations.
    """
    n = len(y)
    st = _starts(y)
    prob = st.occurrence.copy()
    size = np.nan_to_num(st.first_size)
    err = np.empty(n)
    demand = np.empty(n, dtype=bool)
    for _, values, observed, complete in _period_chunks(y):
        for yt, ot in zip(values, observed):
            np.greater(yt, 0.0, out=demand)
            np.subtract(demand, prob, out=err)                 # occurrence
            if not complete:
                err *= ot
            err *= a
            prob += err
            np.subtract(yt, size, out=err)                     # size
            err *= demand
            err *= b
            size += err
    value = np.where(np.isnan(st.first_size), 0.0, prob * size)
    return np.where(st.n_obs > 0, value, np.nan)


def tsb(y, horizon: int, *, a: float | None = None, b: float | None = None) -> PointForecast:
    """Teunter-Syntetos-Babai (M5 "TSB"): smoothed demand probability x smoothed size.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
    horizon : int
    a, b : float, optional
        Fixed smoothing parameters of the occurrence probability (``a``, M5
        name; statsforecast's ``alpha_p``) and of the demand size (``b``;
        statsforecast's ``alpha_d``). A parameter not given is chosen on its M5
        grid. With both given no search is needed: one loop over time,
        numpy over series (:func:`_tsb_fixed`).

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
    if a is not None and b is not None:
        value = _tsb_fixed(y, float(a), float(b))
        return PointForecast(_flat(value, horizon), None, None, {"a": np.full(n, float(a)), "b": np.full(n, float(b))})
    a_grid = TSB_OCCURRENCE_GRID if a is None else np.array([float(a)])
    b_grid = TSB_SIZE_GRID if b is None else np.array([float(b)])
    A, B = (g.ravel() for g in np.meshgrid(a_grid, b_grid, indexing="ij"))    # a outer, b inner: the M5 loop
    final, sse = (x.reshape(n, -1) for x in _tsb_grid(y, a_grid, b_grid))
    k = np.argmin(sse, axis=1)
    value = final[np.arange(n), k]
    with np.errstate(invalid="ignore"):
        has_demand = (y > 0).any(axis=1)
    has_obs = (~np.isnan(y)).any(axis=1)
    value = np.where(has_demand, value, np.where(has_obs, 0.0, np.nan))
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
        out[pick] = ses_level(buckets) / value                 # SexpS: alpha in [0.1, 0.3]
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
