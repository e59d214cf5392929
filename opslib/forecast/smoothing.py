"""Exponential smoothing, vectorized over series: SES and Holt (optionally damped).

Every model runs one loop over time with numpy over all series at once: SES on
a time-major copy of the panel (each step touches one contiguous row), its alpha
found per series by a vectorized golden-section search; Holt on a (series x
candidate parameters) array. Missing values
(NaN: before a series starts, on censored periods) are skipped: the state is
carried forward unchanged (SES) or along its trend (Holt) and no error is counted.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from opslib.forecast.result import PointForecast

__all__ = ["simple_exponential_smoothing", "holt", "theta", "ses_level"]

GOLDEN_ITERATIONS = 12
"""Golden-section iterations of the per-series alpha search: the bracket shrinks to
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


def _time_major(y: np.ndarray, block: int = 1024) -> _TimeMajor:
    """Prepare ``y`` (n, T) for the SES recursion (see :class:`_TimeMajor`).

    The transpose is copied in blocks of ``block`` series (cache-friendly: about
    four times faster than one strided copy on an M5-sized panel).
    """
    n, T = y.shape
    observed = ~np.isnan(y)
    n_obs = np.count_nonzero(observed, axis=1)
    has_any = n_obs > 0
    first = np.argmax(observed, axis=1)                      # 0 for an empty series
    start = y[np.arange(n), first]                           # NaN for an empty series
    any_gaps = bool(np.any(has_any & (n_obs < T - first)))   # a NaN after the first observation
    values = np.empty((T, n))
    weight = np.empty((T, n)) if any_gaps else None
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
    count = np.where(has_any, n_obs - 1, 0).astype(float)
    return _TimeMajor(values, weight, first, count)


def _ses_kernel(panel: _TimeMajor, alpha: np.ndarray, fitted: np.ndarray | None = None):
    """SES recursion over a time-major panel for one alpha per series (n,).

    Returns the final level and the sum of squared one-step errors (n,);
    ``fitted`` (T, n), when given, receives the level before each period's update.
    Each step is five in-place ufunc calls on contiguous length-n rows.
    """
    values, weight = panel.values, panel.weight
    level = values[0].copy()
    sse = np.zeros(level.shape)
    err = np.empty(level.shape)
    tmp = np.empty(level.shape)
    if fitted is not None:
        fitted[0] = level
    for t in range(1, values.shape[0]):
        if fitted is not None:
            fitted[t] = level
        np.subtract(values[t], level, out=err)
        if weight is not None:
            err *= weight[t]
        np.multiply(alpha, err, out=tmp)
        level += tmp
        np.multiply(err, err, out=err)
        sse += err
    return level, sse


def _golden_alpha(panel: _TimeMajor, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-series minimiser of the one-step SSE on [lo, hi] by golden-section search.

    Two interior points c < d of the bracket [a, b]; each iteration keeps [a, d]
    when SSE(c) <= SSE(d), else [c, b], and evaluates one new point, all series
    at once (one SES run per iteration). After ``GOLDEN_ITERATIONS`` iterations
    the bound the bracket still touches (lo if a never moved, else hi if b never
    moved) is evaluated too, so that a minimum on the boundary is found exactly.
    The answer is the first of (c, d, that bound) with the smallest SSE; a series
    without any one-step error gets ``lo``. Returns (alpha, final level).
    """
    n = panel.values.shape[1]
    a, b = np.full(n, float(lo)), np.full(n, float(hi))
    c = b - _INVERSE_PHI * (b - a)
    d = a + _INVERSE_PHI * (b - a)
    lc, fc = _ses_kernel(panel, c)
    ld, fd = _ses_kernel(panel, d)
    for _ in range(GOLDEN_ITERATIONS):
        left = fc <= fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        x = np.where(left, b - _INVERSE_PHI * (b - a), a + _INVERSE_PHI * (b - a))
        lx, fx = _ses_kernel(panel, x)
        c, d = np.where(left, x, d), np.where(left, c, x)
        lc, ld = np.where(left, lx, ld), np.where(left, lc, lx)
        fc, fd = np.where(left, fx, fd), np.where(left, fc, fx)
    e = np.where(a == lo, lo, np.where(b == hi, hi, c))
    le, fe = _ses_kernel(panel, e)
    best, level, sse = c, lc, fc
    for x, lx, fx in ((d, ld, fd), (e, le, fe)):
        better = fx < sse
        best, level, sse = np.where(better, x, best), np.where(better, lx, level), np.where(better, fx, sse)
    return np.where(panel.count == 0, lo, best), level


def _ses_fit(y: np.ndarray, alpha: float | None, alpha_range: tuple[float, float], keep_fitted: bool):
    """SES of every row of ``y``: (alpha (n,), final level (n,), fitted (n, T) or None)."""
    panel = _time_major(y)
    n, T = y.shape
    level = None
    if alpha is None:
        chosen, level = _golden_alpha(panel, alpha_range[0], alpha_range[1])
    else:
        chosen = np.full(n, float(alpha))
    fitted = None
    if keep_fitted or level is None:
        history = np.empty((T, n)) if keep_fitted else None
        level = _ses_kernel(panel, chosen, history)[0]
        if keep_fitted:
            history[np.arange(T)[:, None] <= panel.first[None, :]] = np.nan   # none before the second observation
            fitted = history.T
    return chosen, level, fitted


def ses_level(y, alpha) -> np.ndarray:
    """Final SES level of each row of ``y`` at a fixed smoothing parameter.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        NaN values are skipped.
    alpha : float or array-like, shape (n_series,)

    Returns
    -------
    numpy.ndarray, shape (n_series,)
        The level after the last observation (NaN for a row without any).
    """
    y = _as_panel(y)
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
        Search range; the default is that of the M5 benchmark "SES" and of
        statsforecast's SimpleExponentialSmoothingOptimized.

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


def _holt_run(y: np.ndarray, alpha, beta, phi, keep_fitted: bool = False):
    """Run Holt's linear (damped when phi < 1) method for parameter arrays (n, G).

    The level starts at the first observation and the trend at 0. Then, for each
    observation, with f = l + phi b: e = y - f, l' = f + alpha e,
    b' = phi b + alpha beta e (= beta (l' - l) + (1 - beta) phi b); on a
    missing period l' = f, b' = phi b.
    """
    n, T = y.shape
    shape = np.broadcast_shapes(np.shape(alpha), np.shape(beta), np.shape(phi))
    level = np.full(shape, np.nan)
    trend = np.zeros(shape)
    sse = np.zeros(shape)
    count = np.zeros(shape)
    fitted = np.full((n, T), np.nan) if keep_fitted else None
    for t in range(T):
        yt = y[:, t, None]
        forecast = level + phi * trend
        if keep_fitted:
            fitted[:, t] = forecast[:, 0]
        err = yt - forecast
        has = ~np.isnan(err)
        sse += np.where(has, err * err, 0.0)
        count += has
        started = ~np.isnan(level)
        new_level = np.where(has, forecast + alpha * err, forecast)
        new_trend = np.where(has, phi * trend + beta * alpha * err, phi * trend)
        start = ~started & ~np.isnan(yt)
        level = np.where(start, yt, np.where(started, new_level, level))
        trend = np.where(started, new_trend, 0.0)
    return level, trend, sse, count, fitted


ALPHA_GRID = np.round(np.arange(0.05, 1.0, 0.1), 10)
BETA_GRID = np.array([0.01, 0.05, 0.1, 0.2, 0.3])
PHI_GRID = np.array([0.8, 0.9, 0.95, 0.98])


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
        the in-sample one-step squared error over a grid: alpha in 0.05..0.95
        (step 0.1), beta in {0.01, 0.05, 0.1, 0.2, 0.3} with beta <= alpha,
        phi in {0.8, 0.9, 0.95, 0.98} (damped) or 1; then alpha and beta are
        refined on a 5 x 5 grid of half steps around the best.

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
    n = y.shape[0]
    a_grid = ALPHA_GRID if alpha is None else np.array([float(alpha)])
    b_grid = BETA_GRID if beta is None else np.array([float(beta)])
    p_grid = (PHI_GRID if damped else np.array([1.0])) if phi is None else np.array([float(phi)])
    A, B, P = (g.ravel() for g in np.meshgrid(a_grid, b_grid, p_grid, indexing="ij"))
    keep = (B <= A) | (beta is not None) | (alpha is not None)
    A, B, P = A[keep], B[keep], P[keep]
    full = (n, len(A))
    _, _, sse, count, _ = _holt_run(y, np.broadcast_to(A, full), np.broadcast_to(B, full), np.broadcast_to(P, full))
    k = np.argmin(sse, axis=1)
    a, b, p = A[k], B[k], P[k]
    if alpha is None or beta is None:
        da = 0.05 if alpha is None else 0.0
        offsets = np.linspace(-1, 1, 5)
        fa = np.clip(a[:, None, None] + da * offsets[None, :, None], 0.01, 0.99)
        fb = np.clip(b[:, None, None] * (1 + 0.5 * offsets[None, None, :]) if beta is None
                     else np.broadcast_to(b[:, None, None], (n, 1, 5)), 0.001, 0.99)
        fa, fb = (np.broadcast_to(x, (n, 5, 5)).reshape(n, 25) for x in (fa, fb))
        fb = np.minimum(fb, fa) if beta is None else fb
        _, _, sse2, _, _ = _holt_run(y, fa, fb, p[:, None])
        j = np.argmin(sse2, axis=1)
        better = sse2[np.arange(n), j] < sse[np.arange(n), k]
        a = np.where(better, fa[np.arange(n), j], a)
        b = np.where(better, fb[np.arange(n), j], b)
    level, trend, _, _, fitted = _holt_run(y, a[:, None], b[:, None], p[:, None], keep_fitted=True)
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
