"""Exponential smoothing, vectorized over series: SES and Holt (optionally damped).

Every model runs one loop over time with numpy over all series at once: SES on
a time-major copy of the panel (each step touches one contiguous row), its alpha
found per series by a vectorized golden-section search; Holt on the same
time-major panel, a few grid candidates per pass, then per-series golden-section
polishes of one parameter at a time. Missing values
(NaN: before a series starts, on censored periods) are skipped: the state is
carried forward unchanged (SES) or along its trend (Holt) and no error is counted.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from opslib.forecast.result import PointForecast

__all__ = ["simple_exponential_smoothing", "holt", "theta", "ses_level"]

GOLDEN_ITERATIONS = 12
"""Golden-section iterations of the per-series alpha search (at least 1): the bracket shrinks to
0.618^12 = 0.3% of the search range (6e-4 on [0.1, 0.3])."""

_INVERSE_PHI = (5 ** 0.5 - 1) / 2


def _as_panel(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return y[None, :] if y.ndim == 1 else y


class _TimeMajor(NamedTuple):
    """A panel prepared for the SES recursion: time-major, NaN-free.

    ``values`` (T, n) C-contiguous: each time step is one contiguous row. Leading NaN
    (before a series' first observation) hold the first observation, so the
    recursion starts there with error 0. Later NaN hold 0 and ``weight`` (T, n)
    is 0 there (1 elsewhere), so their error is multiplied away; ``weight`` is
    None when there are no such periods. ``first`` is the index of each
    series' first observation, ``count`` its number of one-step errors.
    """

    values: np.ndarray
    weight: np.ndarray | None
    first: np.ndarray
    count: np.ndarray


def _time_major(y: np.ndarray, block: int = 1024, buffer: np.ndarray | None = None) -> _TimeMajor:
    """Prepare ``y`` (n, T) for the SES recursion (see :class:`_TimeMajor`).

    The transpose is copied in blocks of ``block`` series (cache-friendly: about
    four times faster than one strided copy on an M5-sized panel). ``values`` is
    written to the start of ``buffer`` (1-D float, at least n T long) when given.
    """
    n, T = y.shape
    missing = np.isnan(y)
    n_missing = np.count_nonzero(missing, axis=1)
    has_any = n_missing < T
    first = np.argmin(missing, axis=1)                       # first observation; 0 for an empty series
    start = y[np.arange(n), first]                           # NaN for an empty series
    any_gaps = bool(np.any(has_any & (n_missing > first)))   # a NaN after the first observation
    values = np.empty((T, n)) if buffer is None else buffer[:T * n].reshape(T, n)
    weight = np.empty((T, n), dtype=values.dtype) if any_gaps else None
    steps = np.arange(T)[:, None]
    for i in range(0, n, block):
        part = values[:, i:i + block]
        part[...] = y[i:i + block].T
        leading = steps < first[None, i:i + block]
        if any_gaps:
            gaps = np.isnan(part) & ~leading & has_any[None, i:i + block]
            np.logical_not(gaps, out=weight[:, i:i + block], casting="unsafe")
            part[gaps] = 0.0
        np.copyto(part, np.broadcast_to(start[None, i:i + block], part.shape), where=leading)
    count = np.where(has_any, T - n_missing - 1, 0).astype(float)
    return _TimeMajor(values, weight, first, count)


ERROR_BLOCK_BYTES = 1 << 18
"""Bytes of the buffer of one-step errors of the SES recursion on narrow panels (a quarter of a
typical L2 cache): a block of steps is squared and summed in two calls instead of two per step.
Used when it holds at least 16 steps (up to 2,048 series): wider rows cost more in arithmetic and
memory traffic than in calls (on 3,000 series a block of 10 steps is no faster)."""


def _ses_kernel(panel: _TimeMajor, alpha: np.ndarray, fitted: np.ndarray | None = None, dtype=None):
    """SES recursion over a time-major panel for an alpha per series (n,), or k of them (k, n).

    Returns the final level and the sum of squared one-step errors (shape of ``alpha``);
    ``fitted`` (T, n), when given, receives the level before each period's update. ``dtype``:
    that of the recursion, alpha included (default: the panel's; float64 on a float32 panel
    reads its values as float64).

    Each step moves the level by alpha times the error in three in-place ufunc calls on
    contiguous rows (four with missing periods). When 16 steps of errors fit in
    :data:`ERROR_BLOCK_BYTES` (M3-sized panels, where a call costs more than its arithmetic),
    the errors go to the rows of a block buffer, and each block is squared and reduced over its
    rows after the running sum: numpy adds the rows of a C-contiguous array one after the other
    (pairwise summation runs along the contiguous axis only), so the sum is the step-by-step sum
    bit for bit. Otherwise (wide panels, where the arithmetic dominates; a single series, whose
    one column numpy would sum pairwise) each step squares and adds its own error.
    """
    values, weight = panel.values, panel.weight
    T = values.shape[0]
    dtype = values.dtype if dtype is None else np.dtype(dtype)
    alpha = np.asarray(alpha, dtype=dtype)
    level = np.empty(np.broadcast_shapes(np.shape(alpha), values.shape[1:]), dtype=dtype)
    level[...] = values[0]
    sse = np.zeros(level.shape, dtype=dtype)
    step = np.empty(level.shape, dtype=dtype)
    subtract, multiply, add = np.subtract, np.multiply, np.add
    if fitted is not None:
        fitted[0] = level
    fits = ERROR_BLOCK_BYTES // (dtype.itemsize * level.size)   # steps of errors the buffer holds
    if level.size < 2 or fits < 16:
        err = np.empty(level.shape, dtype=dtype)
        for t in range(1, T):
            if fitted is not None:
                fitted[t] = level
            subtract(values[t], level, err)
            if weight is not None:
                multiply(err, weight[t], err)
            multiply(alpha, err, step)
            add(level, step, level)
            multiply(err, err, err)
            add(sse, err, sse)
        return level, sse
    rows = max(min(T - 1, fits), 1)
    errors = np.empty((rows + 1,) + level.shape, dtype=dtype)  # row 0: the running sum
    error_rows = list(errors[1:])
    for start in range(1, T, rows):
        stop = min(start + rows, T)
        for t, y, err in zip(range(start, stop), values[start:stop], error_rows):
            if fitted is not None:
                fitted[t] = level
            subtract(y, level, err)
            if weight is not None:
                multiply(err, weight[t], err)
            multiply(alpha, err, step)
            add(level, step, level)
        block = errors[:stop - start + 1]
        block[0] = sse
        np.square(block[1:], out=block[1:])
        add.reduce(block, axis=0, out=sse)
    return level, sse


def _golden_alpha(panel: _TimeMajor, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-series minimiser of the one-step SSE on [lo, hi] by golden-section search.

    Two interior points c < d of the bracket [a, b]; each iteration keeps [a, d]
    when SSE(c) <= SSE(d), else [c, b], and evaluates one new point, all series
    at once (one SES run per iteration). After ``GOLDEN_ITERATIONS`` iterations
    the bound the bracket still touches (lo if a never moved, else hi if b never
    moved) is evaluated too, so that a minimum on the boundary is found exactly.
    The answer is the first of (c, d, that bound) with the smallest SSE; a series
    without any one-step error gets ``lo``. Returns (alpha, final level in the panel's dtype).

    Points that do not depend on each other share a pass over time (the first c and d; the
    last iteration's point and the bound, which the last bracket already fixes): 13 passes
    instead of 15, two of them twice as wide, the same numbers.
    """
    n = panel.values.shape[1]
    a, b = np.full(n, float(lo)), np.full(n, float(hi))
    c = b - _INVERSE_PHI * (b - a)
    d = a + _INVERSE_PHI * (b - a)
    (lc, ld), (fc, fd) = _ses_kernel(panel, np.stack([c, d]))
    for i in range(GOLDEN_ITERATIONS):
        left = fc <= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        x = np.where(left, b - _INVERSE_PHI * (b - a), a + _INVERSE_PHI * (b - a))
        if i < GOLDEN_ITERATIONS - 1:
            lx, fx = _ses_kernel(panel, x)
        else:                                                # the bound, or c if the bracket left both
            e = np.where(a == lo, lo, np.where(b == hi, hi, np.where(left, x, d)))
            (lx, le), (fx, fe) = _ses_kernel(panel, np.stack([x, e]))
        c, d = np.where(left, x, d), np.where(left, c, x)
        lc, ld = np.where(left, lx, ld), np.where(left, lc, lx)
        fc, fd = np.where(left, fx, fd), np.where(left, fc, fx)
    best, level, sse = c, lc, fc
    for x, lx, fx in ((d, ld, fd), (e, le, fe)):
        better = fx < sse
        best, level, sse = np.where(better, x, best), np.where(better, lx, level), np.where(better, fx, sse)
    return np.where(panel.count == 0, lo, best), level


SES_BLOCK_SERIES = 8192
"""Series per block of the SES fit: the alpha search runs on one block of series at a time, its
time-major copy in one buffer reused from block to block (63 MB in float32 for 1,941 periods)
instead of a copy of the whole panel (470 MB in float64 at M5 size, whose fresh pages cost more
than the copy). Rows of 8,192 series cost the same per series as rows of 30,490 in each step's
numpy calls; narrower blocks pay more in calls (about +20% at 4,096)."""

SEARCH_DTYPE = np.float32
"""Precision of the alpha search (:func:`_golden_alpha`): its SSE evaluations run on the values
rounded to float32, in float32 arithmetic, on rows half as wide as float64's (about 1.6 times
faster on an M5-sized panel). They differ from float64's by about 1e-6 relative (measured on
the M5-sized benchmark panel: the same RMSSE as statsforecast's float64 search to 4 digits), so
a comparison of two points that close may go the other way; the search of each series still
depends on that series alone. The final level and the fitted values are float64 recursions at
the chosen alpha on the values as given. ``np.float64`` gives the float64 search."""


def _float32_exact(y: np.ndarray) -> bool:
    """True when every value of ``y`` (NaN aside) is a float32 value."""
    narrow = y.astype(np.float32)
    with np.errstate(invalid="ignore"):
        return np.count_nonzero(narrow != y) == np.count_nonzero(np.isnan(narrow))


def _ses_fit(y: np.ndarray, alpha: float | None, alpha_range: tuple[float, float], keep_fitted: bool):
    """SES of every row of ``y``: (alpha (n,), final level (n,), fitted (n, T) or None).

    The series are fitted in blocks of :data:`SES_BLOCK_SERIES`; every step is elementwise per
    series, so the numbers do not depend on the blocks. The alpha search runs in
    :data:`SEARCH_DTYPE`; the final level (and the fitted values) is a float64 recursion at the
    chosen alpha, on the search's time-major copy when it holds the values exactly (counts: one
    copy), else on a float64 copy.
    """
    n, T = y.shape
    width = min(n, SES_BLOCK_SERIES)
    buffers = {}

    def time_major(rows, dtype):
        if dtype not in buffers:
            buffers[dtype] = np.empty(width * T, dtype=dtype)
        return _time_major(rows, buffer=buffers[dtype])

    search = np.dtype(SEARCH_DTYPE)
    chosen, level = np.empty(n), np.empty(n)
    fitted = np.empty((n, T)) if keep_fitted else None
    history = np.empty((T, width)) if keep_fitted else None
    for i in range(0, n, width):
        block = slice(i, min(i + width, n))
        rows = y[block]
        if alpha is None:
            panel = time_major(rows, search)
            chosen[block] = _golden_alpha(panel, alpha_range[0], alpha_range[1])[0]
            if search != np.float64 and not _float32_exact(rows):
                panel = time_major(rows, np.dtype(np.float64))
        else:
            panel = time_major(rows, np.dtype(np.float64))
            chosen[block] = float(alpha)
        past = history[:, :rows.shape[0]] if keep_fitted else None
        level[block] = _ses_kernel(panel, chosen[block], past, dtype=np.float64)[0]
        if keep_fitted:
            past[np.arange(T)[:, None] <= panel.first[None, :]] = np.nan   # none before the second observation
            fitted[block] = past.T
    return chosen, level, fitted


def ses_level(y, alpha=None, *, alpha_range: tuple[float, float] = (0.1, 0.3)) -> np.ndarray:
    """Final SES level of each row of ``y``: the flat SES forecast, without in-sample values.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        NaN values are skipped.
    alpha : float or array-like, shape (n_series,), optional
        Smoothing parameter; None: chosen per series in ``alpha_range`` as in
        :func:`simple_exponential_smoothing` (same alpha, same level), but
        without the extra pass over time that its fitted values cost.
    alpha_range : (float, float), default (0.1, 0.3)

    Returns
    -------
    numpy.ndarray, shape (n_series,)
        The level after the last observation (NaN for a row without any).
    """
    y = _as_panel(y)
    if alpha is None:
        return _ses_fit(y, None, alpha_range, keep_fitted=False)[1]
    a = np.array(np.broadcast_to(np.asarray(alpha, dtype=float), (y.shape[0],)))
    return _ses_kernel(_time_major(y), a)[0]


def simple_exponential_smoothing(y, horizon: int, *, alpha: float | None = None,
                                 alpha_range: tuple[float, float] = (0.1, 0.3)) -> PointForecast:
    """Simple exponential smoothing (SES), alpha chosen per series.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN = not observed (skipped).
    horizon : int
        Periods to forecast.
    alpha : float, optional
        Fixed smoothing parameter for all series. When None, it is chosen per
        series in ``alpha_range`` by minimising the in-sample one-step squared
        error with a golden-section search (12 iterations, then the touched
        bound; see ``_golden_alpha``), all series at once.
    alpha_range : (float, float), default (0.1, 0.3)
        Search range; the default is that of the M5 benchmark ``SexpS`` (and of
        statsforecast inside CrostonOptimized, ADIDA and IMAPA). statsforecast's
        ``SimpleExponentialSmoothingOptimized`` searches (0.01, 0.99) with the
        same loss (one-step SSE, level started at the first value): pass that
        range to reproduce it (``benchmarks/forecast_speed.py`` does).

    Returns
    -------
    PointForecast
        ``mean`` flat at the final level; ``spread`` sqrt(1 + (h - 1) alpha^2);
        ``params["alpha"]``.

    Notes
    -----
    l_1 = y_1, l_t = l_{t-1} + alpha (y_t - l_{t-1}), forecast l_T for every h.
    The h-step error variance of the local-level model is
    sigma^2 (1 + (h - 1) alpha^2) [1, section 7.7].

    References
    ----------
    .. [1] Hyndman, R.J., Athanasopoulos, G. (2021). Forecasting: principles and practice, 3rd ed. OTexts.
    """
    y = _as_panel(y)
    chosen, level, fitted = _ses_fit(y, alpha, alpha_range, keep_fitted=True)
    h = np.arange(1, horizon + 1)
    mean = np.repeat(level[:, None], horizon, axis=1)
    spread = np.sqrt(1.0 + (h[None, :] - 1) * chosen[:, None] ** 2)
    return PointForecast(mean, fitted, spread, {"alpha": chosen})


def _holt_kernel(panel: _TimeMajor, alpha, beta, phi, fitted: np.ndarray | None = None):
    """Holt's recursion over a time-major panel for parameter arrays broadcastable to (..., n).

    The level starts at each series' first observation and the trend at 0; then,
    for each period, with f = l + phi b: e = y - f, l' = f + alpha e,
    b' = phi b + alpha beta e (= beta (l' - l) + (1 - beta) phi b). On a missing
    period e is multiplied by 0 (``panel.weight``), so l' = f and b' = phi b;
    before the first observation the row holds that observation, so e = 0 and
    the state does not move. Returns the final level, trend and sum of squared
    one-step errors (shape of the broadcast parameters); ``fitted`` (T, n), when
    given, receives f of each period. Each step is eight or nine in-place ufunc
    calls on contiguous rows.
    """
    values, weight = panel.values, panel.weight
    shape = np.broadcast_shapes(np.shape(alpha), np.shape(beta), np.shape(phi), values.shape[1:])
    alpha = np.asarray(alpha, dtype=float)
    phi = np.asarray(phi, dtype=float)
    ab = np.asarray(alpha * np.asarray(beta, dtype=float))
    damped = bool(np.any(phi != 1.0))
    level = np.empty(shape)
    level[...] = values[0]
    trend = np.zeros(shape)
    sse = np.zeros(shape)
    f = np.empty(shape)
    err = np.empty(shape)
    tmp = np.empty(shape)
    if fitted is not None:
        fitted[0] = level
    for t in range(1, values.shape[0]):
        if damped:
            trend *= phi                                        # phi b
        np.add(level, trend, out=f)                             # f = l + phi b
        if fitted is not None:
            fitted[t] = f
        np.subtract(values[t], f, out=err)
        if weight is not None:
            err *= weight[t]
        np.multiply(alpha, err, out=level)
        level += f                                              # l' = f + alpha e
        np.multiply(ab, err, out=tmp)
        trend += tmp                                            # b' = phi b + alpha beta e
        np.multiply(err, err, out=err)
        sse += err
    return level, trend, sse


HOLT_POLISH_ITERATIONS = 8
"""Golden-section iterations of each coordinate polish of Holt's parameters: the bracket
shrinks to 0.618^8 = 2% of its width."""


def _golden_polish(evaluate, lo: np.ndarray, hi: np.ndarray, x0: np.ndarray, f0: np.ndarray,
                   iterations: int = HOLT_POLISH_ITERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Per-series golden-section search of one parameter on [lo, hi], never worse than ``x0``.

    ``evaluate(x)`` (n,) -> SSE (n,). Two interior points c < d of [a, b]; each
    iteration keeps [a, d] when SSE(c) <= SSE(d), else [c, b], and evaluates one
    new point (one pass over time, all series at once). The answer is the first
    of (x0, c, d) with the smallest SSE, so the incumbent ``x0`` (SSE ``f0``) is
    kept on a tie. Returns (x, SSE).
    """
    a, b = lo.copy(), hi.copy()
    c = b - _INVERSE_PHI * (b - a)
    d = a + _INVERSE_PHI * (b - a)
    fc, fd = evaluate(c), evaluate(d)
    for _ in range(iterations):
        left = fc <= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        x = np.where(left, b - _INVERSE_PHI * (b - a), a + _INVERSE_PHI * (b - a))
        fx = evaluate(x)
        c, d = np.where(left, x, d), np.where(left, c, x)
        fc, fd = np.where(left, fx, fd), np.where(left, fc, fx)
    best, sse = x0, f0
    for x, fx in ((c, fc), (d, fd)):
        better = fx < sse
        best, sse = np.where(better, x, best), np.where(better, fx, sse)
    return best, sse


ALPHA_GRID = np.round(np.arange(0.05, 1.0, 0.1), 10)
BETA_GRID = np.array([0.01, 0.05, 0.1, 0.2, 0.3])
PHI_RANGE = (0.8, 0.98)
"""Range of the damping parameter phi of damped Holt."""
GRID_CHUNK = 8
"""(alpha, beta) grid candidates run together in one pass over time."""


def _holt_search(panel: _TimeMajor, alpha, beta, phi, damped: bool):
    """Per-series Holt parameters (alpha, beta, phi) (n,) by grid then coordinate golden sections.

    1. Grid: alpha in :data:`ALPHA_GRID`, beta in :data:`BETA_GRID` with beta <= alpha (40 pairs;
       fixed values replace their grid), phi = the upper end of :data:`PHI_RANGE` when damped (1
       otherwise); the first pair with the smallest one-step SSE.
    2. Damped, phi not fixed: phi by golden section on :data:`PHI_RANGE`.
    3. alpha not fixed: golden section on [alpha - 0.05, alpha + 0.05] (half a grid step), clipped
       to [max(beta, 0.01), 0.99].
    4. beta not fixed: golden section between the grid neighbours of beta (0.001 below the first,
       0.5 above the last), capped at alpha.
    Each polish (:func:`_golden_polish`, :data:`HOLT_POLISH_ITERATIONS`) keeps the incumbent unless a
    point has a smaller SSE, so the SSE never rises from the grid's best.
    """
    n = panel.values.shape[1]
    a_grid = ALPHA_GRID if alpha is None else np.array([float(alpha)])
    b_grid = BETA_GRID if beta is None else np.array([float(beta)])
    A, B = (g.ravel() for g in np.meshgrid(a_grid, b_grid, indexing="ij"))
    if alpha is None and beta is None:
        A, B = A[B <= A], B[B <= A]
    p0 = float(phi) if phi is not None else (PHI_RANGE[1] if damped else 1.0)
    best = np.full(n, np.inf)
    k = np.zeros(n, dtype=int)
    for start in range(0, len(A), GRID_CHUNK):
        sl = slice(start, start + GRID_CHUNK)
        sse = _holt_kernel(panel, A[sl, None], B[sl, None], p0)[2]           # (K, n)
        j = np.argmin(sse, axis=0)
        s = sse[j, np.arange(n)]
        better = s < best
        best, k = np.where(better, s, best), np.where(better, start + j, k)
    a, b, p = A[k], B[k], np.full(n, p0)

    def sse_of(a, b, p):
        return _holt_kernel(panel, a, b, p)[2]

    if damped and phi is None:
        p, best = _golden_polish(lambda x: sse_of(a, b, x), np.full(n, PHI_RANGE[0]), np.full(n, PHI_RANGE[1]),
                                 p, best)
    if alpha is None:
        lo = np.maximum(a - 0.05, 0.01)
        lo = np.maximum(lo, b) if beta is None else lo
        hi = np.minimum(a + 0.05, 0.99)
        a, best = _golden_polish(lambda x: sse_of(x, b, p), lo, hi, a, best)
    if beta is None:
        at = np.searchsorted(BETA_GRID, b)                                  # b is a grid value here
        lo = np.where(at > 0, BETA_GRID[np.maximum(at - 1, 0)], 0.001)
        hi = np.minimum(np.where(at < len(BETA_GRID) - 1, BETA_GRID[np.minimum(at + 1, len(BETA_GRID) - 1)], 0.5),
                        a if alpha is None else np.inf)
        b, best = _golden_polish(lambda x: sse_of(a, x, p), lo, np.maximum(hi, lo), b, best)
    return a, b, p


def holt(y, horizon: int, *, damped: bool = False, alpha: float | None = None, beta: float | None = None,
         phi: float | None = None) -> PointForecast:
    """Holt's linear trend method, optionally damped, parameters chosen per series.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN = not observed.
    horizon : int
    damped : bool, default False
        Damp the trend with phi < 1 (Gardner and McKenzie).
    alpha, beta, phi : float, optional
        Fixed parameters; those not given are chosen per series by minimising
        the in-sample one-step squared error: a grid of (alpha, beta) (alpha in
        0.05..0.95 step 0.1, beta in {0.01, 0.05, 0.1, 0.2, 0.3}, beta <= alpha)
        at phi = 0.98 (damped) or 1, then golden-section polishes of phi in
        [0.8, 0.98] (damped), alpha within half a grid step and beta between its
        grid neighbours, all series at once (see ``_holt_search``).

    Returns
    -------
    PointForecast
        ``mean`` l_T + (phi + ... + phi^h) b_T; ``spread`` from the
        error-correction form: sqrt(1 + sum_{j<h} c_j^2),
        c_j = alpha + alpha beta (phi + ... + phi^j).

    Notes
    -----
    Same equations as statsmodels' ``Holt`` (level l_t = alpha y_t + (1 - alpha)
    (l_{t-1} + phi b_{t-1}), trend b_t = beta (l_t - l_{t-1}) + (1 - beta) phi b_{t-1}),
    with initial level y_1 and initial trend 0.
    """
    y = _as_panel(y)
    n, T = y.shape
    panel = _time_major(y)
    a, b, p = _holt_search(panel, alpha, beta, phi, damped)
    history = np.empty((T, n))
    level, trend, _ = _holt_kernel(panel, a, b, p, history)
    history[np.arange(T)[:, None] <= panel.first[None, :]] = np.nan      # none before the second observation
    fitted = history.T
    level, trend = level[:, None], trend[:, None]
    h = np.arange(1, horizon + 1)
    damp = np.cumsum(p[:, None] ** h[None, :], axis=1)          # phi + ... + phi^h
    mean = level + damp * trend
    c = a[:, None] * (1.0 + b[:, None] * damp)                   # alpha + alpha beta (phi+..+phi^j)
    c2 = np.concatenate([np.zeros((n, 1)), np.cumsum(c[:, :-1] ** 2, axis=1)], axis=1)
    spread = np.sqrt(1.0 + c2)
    return PointForecast(mean, fitted, spread, {"alpha": a, "beta": b, "phi": p})


def theta(y, horizon: int, *, season_length: int = 1, alpha: float | None = None,
          alpha_range: tuple[float, float] = (0.01, 0.99)) -> PointForecast:
    """The standard Theta method (Assimakopoulos and Nikolopoulos 2000), as in the M3/M4 benchmarks.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN = not observed.
    horizon : int
    season_length : int, default 1
        m > 1: series that pass the 90% seasonality test are seasonally
        adjusted first (:func:`opslib.forecast.seasonal.seasonally_adjusted`).
    alpha : float, optional
        Fixed SES parameter; by default chosen per series in ``alpha_range`` by
        in-sample one-step squared error (level initialised at the first value).
    alpha_range : (float, float), default (0.01, 0.99)

    Returns
    -------
    PointForecast
        ``params``: ``alpha``, ``slope`` (b_0), and ``seasonal`` when m > 1.

    Notes
    -----
    With l_n the final SES level (n observations) and b_0 the OLS slope of y on
    time [units/period^2], the forecast is [1, eq. 3], [2]

        y_{n+h} = l_n + b_0 / 2 (h - 1 + 1/alpha - (1 - alpha)^n / alpha),

    i.e. the mean of the theta = 0 line (linear trend) extrapolated and SES on
    the theta = 2 line. Same as statsmodels' ``ThetaModel(..., deseasonalize=False)
    .fit(use_mle=False).forecast(h)`` when alpha agrees. In-sample fit: the same
    expression with h = 1 and n = the observations so far. ``spread`` is that of
    SES, sqrt(1 + (h - 1) alpha^2).

    References
    ----------
    .. [1] Hyndman, R.J., Billah, B. (2003). Unmasking the Theta method. IJF 19(2), 287-290.
    .. [2] Assimakopoulos, V., Nikolopoulos, K. (2000). The theta model: a decomposition
       approach to forecasting. IJF 16(4), 521-530.
    """
    y = _as_panel(y)
    if season_length > 1:
        from opslib.forecast.seasonal import seasonally_adjusted

        return seasonally_adjusted(theta, y, horizon, season_length, alpha=alpha, alpha_range=alpha_range)
    n, T = y.shape
    ses = simple_exponential_smoothing(y, horizon, alpha=alpha, alpha_range=alpha_range)
    a = ses.params["alpha"]
    observed = ~np.isnan(y)
    n_obs = observed.sum(axis=1)
    t = np.arange(T, dtype=float)
    count = np.maximum(n_obs, 1)
    t_mean = np.where(observed, t, 0.0).sum(axis=1) / count
    y_mean = np.where(observed, y, 0.0).sum(axis=1) / count
    dt = np.where(observed, t - t_mean[:, None], 0.0)
    sxx = (dt * dt).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(sxx > 0, (dt * np.where(observed, y - y_mean[:, None], 0.0)).sum(axis=1)
                         / np.where(sxx > 0, sxx, 1.0), 0.0)
    h = np.arange(1, horizon + 1)
    drift = (h[None, :] - 1) + (1.0 - (1.0 - a[:, None]) ** n_obs[:, None]) / a[:, None]
    mean = ses.mean + slope[:, None] / 2 * drift
    seen = np.cumsum(observed, axis=1) - observed                      # observations before period t
    fit_drift = (1.0 - (1.0 - a[:, None]) ** seen) / a[:, None]
    fitted = ses.fitted + slope[:, None] / 2 * fit_drift
    return PointForecast(mean, fitted, ses.spread, {"alpha": a, "slope": slope})
