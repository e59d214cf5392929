"""Holt-Winters with a damped trend and multiplicative or additive seasonality, vectorized over series.

The point forecasts of ETS(., Ad, M) and ETS(A, Ad, A) (Hyndman et al. 2008) without a likelihood:
the smoothing parameters are chosen per series by in-sample one-step squared
error over a grid, all series and all grid points in one loop over time (a
(series x grid) array, as :mod:`opslib.forecast.smoothing`). Unlike the
seasonally adjusted SES/Holt/Theta of the M3 benchmarks, whose seasonal indices
are fixed, the seasonal pattern here evolves (gamma > 0).
"""

from __future__ import annotations

import numpy as np

from opslib.forecast.result import PointForecast

__all__ = ["holt_winters", "holt_winters_additive", "additive_seasonal_indices", "HW_ALPHA_GRID", "HW_BETA_GRID", "HW_GAMMA_GRID", "HW_PHI_GRID", "HW_EXPLOSIVE_FACTOR"]

HW_ALPHA_GRID = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7])
HW_BETA_GRID = np.array([0.01, 0.05, 0.15])
HW_GAMMA_GRID = np.array([0.01, 0.05, 0.1, 0.2])
HW_PHI_GRID = np.array([0.9, 0.95, 0.98])
HW_EXPLOSIVE_FACTOR = 10.0
"""A forecast above this multiple of the largest observation (plus 1) is refused (NaN) as explosive."""


def _initial_seasonals(y: np.ndarray, m: int) -> np.ndarray:
    """Initial seasonal indices by column position (mod m) from the classical decomposition."""
    from opslib.forecast.seasonal import seasonal_indices

    return seasonal_indices(y, m)


def additive_seasonal_indices(y, season_length: int) -> np.ndarray:
    """Additive seasonal components of classical decomposition, per series.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        NaN = not observed.
    season_length : int

    Returns
    -------
    numpy.ndarray, shape (n_series, season_length)
        Component of seasonal position j = column index mod m [units/period],
        summing to 0 over the m positions; NaN for a position without any value.

    Notes
    -----
    d_t = y_t - CMA_t (centred moving average of order m, 2 x m for even m);
    component_j = mean of d_t at position j, minus the mean over positions.
    This is R's ``decompose(type = "additive")`` and statsmodels'
    ``seasonal_decompose(model="additive")``.
    """
    from opslib.forecast.seasonal import centred_moving_average, position_means

    y = np.asarray(y, dtype=float)
    y = y[None, :] if y.ndim == 1 else y
    m = int(season_length)
    figure = position_means(y - centred_moving_average(y, m), m)
    return figure - figure.mean(axis=1, keepdims=True)


def _hw_run(y, s0, alpha, beta, gamma, phi, keep_fitted=False, additive=False):
    """Run the recursions for parameter arrays (n, G); returns level, trend, season (n, G, m), sse, fitted.

    ``additive``: ETS(A, Ad, A) updates (season added, not multiplied)."""
    n, T = y.shape
    m = s0.shape[1]
    G = np.broadcast_shapes(alpha.shape, beta.shape, gamma.shape, phi.shape)[1]
    level = np.full((n, G), np.nan)
    trend = np.zeros((n, G))
    season = np.repeat(s0[:, None, :], G, axis=1)
    sse = np.zeros((n, G))
    fitted = np.full((n, T), np.nan) if keep_fitted else None
    for t in range(T):
        j = t % m
        s = season[:, :, j]
        base = level + phi * trend
        yt = y[:, t, None]
        started = ~np.isnan(level)
        has = started & ~np.isnan(yt)
        one_step = base + s if additive else base * s
        if keep_fitted:
            fitted[:, t] = one_step[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            err = np.where(has, yt - one_step, 0.0)
            sse += err * err
            if additive:
                new_level = np.where(has, alpha * (yt - s) + (1 - alpha) * base, base)
                new_season = np.where(has, gamma * (yt - base) + (1 - gamma) * s, s)
            else:
                new_level = np.where(has, alpha * yt / s + (1 - alpha) * base, base)
                new_season = np.where(has, gamma * yt / base + (1 - gamma) * s, s)
            new_trend = np.where(has, beta * (new_level - level) + (1 - beta) * phi * trend, phi * trend)
        start = ~started & ~np.isnan(yt)
        level = np.where(start, yt - s if additive else yt / s, new_level)
        trend = np.where(started, new_trend, 0.0)
        season[:, :, j] = new_season
    return level, trend, season, sse, fitted


def holt_winters(y, horizon: int, season_length: int) -> PointForecast:
    """Damped-trend Holt-Winters with multiplicative seasonality, parameters chosen per series.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN = not observed (state carried forward, no
        error counted). All series share one calendar: the seasonal position of
        a period is its column index modulo ``season_length``.
    horizon : int
    season_length : int
        m > 1 [periods per cycle].

    Returns
    -------
    PointForecast
        ``mean`` (l_T + (phi + ... + phi^h) b_T) s_{T+h-m(k+1)}; NaN (with a
        ``params["reason"]``) for a series that is not strictly positive, has
        fewer than two full seasons, no usable seasonal index, or whose forecast
        exceeds :data:`HW_EXPLOSIVE_FACTOR` x (max y + 1). ``spread`` that of
        the additive ETS(A,Ad,A) with the same parameters, sqrt(1 + sum_{j<h}
        c_j^2), c_j = alpha + alpha beta (phi + ... + phi^j) + gamma [j mod m = 0]
        (an approximation for the multiplicative model). ``params``: ``alpha``,
        ``beta``, ``gamma``, ``phi``, ``reason``.

    Notes
    -----
    With f_t = (l_{t-1} + phi b_{t-1}) s_{t-m} the one-step forecast [1, section 8.3]:

        l_t = alpha y_t / s_{t-m} + (1 - alpha)(l_{t-1} + phi b_{t-1})
        b_t = beta (l_t - l_{t-1}) + (1 - beta) phi b_{t-1}
        s_t = gamma y_t / (l_{t-1} + phi b_{t-1}) + (1 - gamma) s_{t-m}

    Initial seasonal indices from the classical multiplicative decomposition of
    the series (:func:`opslib.forecast.seasonal.seasonal_indices`), initial level
    the first observation divided by its index, initial trend 0. Parameters by
    the smallest in-sample sum of squared one-step errors over alpha in
    :data:`HW_ALPHA_GRID`, beta in :data:`HW_BETA_GRID` (beta <= alpha), gamma in
    :data:`HW_GAMMA_GRID` (gamma <= 1 - alpha) and phi in :data:`HW_PHI_GRID`.
    Multiplicative seasonality only for strictly positive series (a zero makes
    the seasonal update degenerate), hence the guard.

    References
    ----------
    .. [1] Hyndman, R.J., Athanasopoulos, G. (2021). Forecasting: principles and practice, 3rd ed. OTexts.
    .. [2] Gardner, E.S., McKenzie, E. (1985). Forecasting trends in time series. Management Science 31(10).
    """
    return _holt_winters(y, horizon, season_length, additive=False)


def holt_winters_additive(y, horizon: int, season_length: int) -> PointForecast:
    """Damped-trend Holt-Winters with additive seasonality, parameters chosen per series.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN = not observed (state carried forward, no
        error counted). The seasonal position of a period is its column index
        modulo ``season_length``.
    horizon : int
    season_length : int
        m > 1 [periods per cycle].

    Returns
    -------
    PointForecast
        ``mean`` l_T + (phi + ... + phi^h) b_T + s_{T+h-m(k+1)} (may be negative:
        :func:`opslib.forecast.core.forecast_arrays` clips at 0); NaN (with a
        ``params["reason"]``) for a series with fewer than two full seasons or
        whose forecast exceeds :data:`HW_EXPLOSIVE_FACTOR` x (max |y| + 1).
        ``spread`` sqrt(1 + sum_{j<h} c_j^2), c_j = alpha + alpha beta (phi + ...
        + phi^j) + gamma [j mod m = 0], exact for ETS(A,Ad,A) [1, table 6.1].
        ``params`` as :func:`holt_winters`.

    Notes
    -----
    The point forecasts of ETS(A,Ad,A) [1, section 8.3], base_t = l_{t-1} + phi b_{t-1}:

        l_t = alpha (y_t - s_{t-m}) + (1 - alpha) base_t
        b_t = beta (l_t - l_{t-1}) + (1 - beta) phi b_{t-1}
        s_t = gamma (y_t - base_t) + (1 - gamma) s_{t-m}

    Initial seasonal components from the classical additive decomposition
    (:func:`additive_seasonal_indices`), initial level the first observation
    minus its component, initial trend 0; parameters over the grids of
    :func:`holt_winters` by the smallest in-sample sum of squared one-step
    errors. Unlike the multiplicative form it accepts zeros and a season
    whose amplitude does not grow with the level.

    References
    ----------
    .. [1] Hyndman, R.J., Koehler, A.B., Ord, J.K., Snyder, R.D. (2008). Forecasting with
       exponential smoothing: the state space approach. Springer.
    """
    return _holt_winters(y, horizon, season_length, additive=True)


def _holt_winters(y, horizon: int, season_length: int, *, additive: bool) -> PointForecast:
    """The grid search and forecasts of :func:`holt_winters` (``additive`` False) and :func:`holt_winters_additive`."""
    y = np.asarray(y, dtype=float)
    y = y[None, :] if y.ndim == 1 else y
    n, T = y.shape
    m = int(season_length)
    mean = np.full((n, horizon), np.nan)
    fitted = np.full((n, T), np.nan)
    spread = np.full((n, horizon), np.nan)
    params = {k: np.full(n, np.nan) for k in ("alpha", "beta", "gamma", "phi")}
    reason = np.full(n, "", dtype=object)
    if m <= 1:
        reason[:] = "no seasonal cycle (season length 1)"
        return PointForecast(mean, fitted, spread, {**params, "reason": reason})
    observed = ~np.isnan(y)
    n_obs = observed.sum(axis=1)
    if additive:
        positive = np.ones(n, dtype=bool)
    else:
        positive = np.where(observed, y > 0, True).all(axis=1)
        reason[~positive] = "not strictly positive: multiplicative seasonality refused"
    reason[n_obs < 2 * m] = f"fewer than two full seasons ({2 * m} periods)"
    s0 = np.full((n, m), np.nan)
    ok = positive & (n_obs >= 2 * m)
    if ok.any():
        s0[ok] = additive_seasonal_indices(y[ok], m) if additive else _initial_seasonals(y[ok], m)
    good_index = np.isfinite(s0).all(axis=1) & (additive | (np.nan_to_num(s0) > 1e-3).all(axis=1))
    reason[ok & ~good_index] = "no usable initial seasonal index"
    rows = np.flatnonzero(ok & good_index)
    if len(rows) == 0:
        return PointForecast(mean, fitted, spread, {**params, "reason": reason})

    A, B, C, P = (g.ravel() for g in np.meshgrid(HW_ALPHA_GRID, HW_BETA_GRID, HW_GAMMA_GRID, HW_PHI_GRID,
                                                 indexing="ij"))
    keep = (B <= A) & (C <= 1 - A)
    A, B, C, P = A[keep], B[keep], C[keep], P[keep]
    x = y[rows]
    full = (len(rows), len(A))
    *_, sse, _ = _hw_run(x, s0[rows], *(np.broadcast_to(g, full) for g in (A, B, C, P)), additive=additive)
    k = np.argmin(sse, axis=1)
    a, b, c, p = A[k], B[k], C[k], P[k]
    level, trend, season, _, fit = _hw_run(x, s0[rows], a[:, None], b[:, None], c[:, None], p[:, None],
                                           keep_fitted=True, additive=additive)
    h = np.arange(1, horizon + 1)
    damp = np.cumsum(p[:, None] ** h[None, :], axis=1)
    future = season[:, 0, (T + h - 1) % m]
    path = level + damp * trend + future if additive else (level + damp * trend) * future
    limit = HW_EXPLOSIVE_FACTOR * (np.nanmax(np.abs(x), axis=1) + 1.0)
    explosive = ~np.isfinite(path).all(axis=1) | (np.abs(path).max(axis=1, initial=0.0) > limit)
    path[explosive] = np.nan
    reason[rows[explosive]] = "explosive or non-finite forecast"
    mean[rows] = path
    fitted[rows] = fit
    cj = a[:, None] * (1.0 + b[:, None] * damp) + c[:, None] * (h[None, :] % m == 0)
    c2 = np.concatenate([np.zeros((len(rows), 1)), np.cumsum(cj[:, :-1] ** 2, axis=1)], axis=1)
    spread[rows] = np.sqrt(1.0 + c2)
    for name, v in zip(("alpha", "beta", "gamma", "phi"), (a, b, c, p)):
        params[name][rows] = v
    return PointForecast(mean, fitted, spread, {**params, "reason": reason})
