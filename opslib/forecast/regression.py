"""Regression with AR errors (ARIMAX) for price, promotion and calendar effects, vectorized over series.

The model of the package that takes exogenous regressors: transformed demand
is a linear regression on known-in-advance variables (promotion depth and
flag, relative price, festival phases, holidays, SNAP days) plus weekday
dummies, with autoregressive errors,

    z_t = g(y_t) = c + x_t' beta + s_(t mod m) + u_t,   u_t = phi_1 u_(t-1) + ... + phi_p u_(t-p) + e_t,

e_t ~ N(0, sigma^2), g = log1p by default (multiplicative effects: a
coefficient is a log-multiplier of demand, the form in which the demo shop and
most demand models make promotion and calendar effects). It is fitted for all
series at once by iterated Cochrane-Orcutt feasible GLS (closed-form least
squares on the AR-filtered data, batched over series with numpy), the AR order
p in {0, 1, 2} chosen per series by AICc on the conditional Gaussian
likelihood. No statsmodels call per series: the tests check the estimates
against statsmodels' exact maximum likelihood (``ARIMA(...).fit()``) and the
forecasts against ``SARIMAX(...).smooth(params).get_forecast`` on single series.
A series the model cannot serve (too short, constant, too few demands, too
many unobserved periods, no admissible fit) gets a NaN forecast and a reason,
and :func:`opslib.forecast.core.forecast_arrays` falls back along its chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from opslib.forecast.result import PointForecast

__all__ = ["arimax", "Regressors", "ARIMAX_ORDERS", "TRANSFORMS", "MIN_OBSERVATIONS", "MIN_DEMANDS",
           "MAX_MISSING_SHARE", "EXPLOSIVE_FACTOR", "COCHRANE_ORCUTT_ITERATIONS"]

ARIMAX_ORDERS = ((0, 0, 0), (1, 0, 0), (2, 0, 0))
"""The (p, d, q) orders tried for the errors: white noise, AR(1), AR(2). No differencing (the regression
mean stays interpretable); no MA part (the Cochrane-Orcutt filter is autoregressive)."""
TRANSFORMS = ("log1p", "none")
"""``transform`` values: log1p(units) (multiplicative effects; the default) or the units themselves."""
MIN_OBSERVATIONS = 14
"""Fewest observed periods for a fit; a fit also needs at least 10 more observations than coefficients."""
MIN_DEMANDS = 3
"""Fewer periods with non-zero demand: nothing for the regression to fit (falls back)."""
MAX_MISSING_SHARE = 0.25
"""Largest share of unobserved periods (censored or missing) between a series' first observation and the
forecast origin; the estimator and the likelihood skip them."""
EXPLOSIVE_FACTOR = 10.0
"""A forecast above this multiple of the largest observation (plus 1) is refused as explosive."""
COCHRANE_ORCUTT_ITERATIONS = 4
"""Rounds of (AR coefficients from the regression residuals, GLS regression on the AR-filtered data)."""
CHUNK_SERIES = 256
"""Series fitted together: bounds the (series x periods x regressors) design held in memory."""
_RANK_TOLERANCE = 1e-8
_MAX_P = 2


@dataclass(frozen=True)
class Regressors:
    """Exogenous regressors of a panel, history and horizon.

    Attributes
    ----------
    values : numpy.ndarray, shape (n_series, n_periods + horizon, k)
        Regressor values per series and period: the history columns of the
        panel, then the horizon. NaN before a series' first observation (not used).
    names : tuple of str, length k
        Name of each regressor of ``values``.
    shared : numpy.ndarray, shape (n_periods + horizon, k_shared), optional
        Regressors with the same values for every series (the calendar), held
        once instead of once per series.
    shared_names : tuple of str, length k_shared
    """

    values: np.ndarray
    names: tuple
    shared: np.ndarray | None = None
    shared_names: tuple = ()

    def __getitem__(self, rows) -> "Regressors":
        """The regressors of some series (rows of the panel)."""
        return Regressors(self.values[rows], self.names, self.shared, self.shared_names)

    @property
    def all_names(self) -> tuple:
        """Names in design order: the shared columns, then the per-series ones."""
        return tuple(self.shared_names) + tuple(self.names)

    def design(self, rows=slice(None)) -> np.ndarray:
        """The full (series, periods, k_shared + k) regressor array of some rows."""
        values = self.values[rows]
        if self.shared is None or self.shared.shape[1] == 0:
            return values
        shared = np.broadcast_to(self.shared[None], (values.shape[0],) + self.shared.shape)
        return np.concatenate([shared, values], axis=2)


def _independent(z: np.ndarray) -> np.ndarray:
    """Indices of a maximal set of linearly independent columns of z (pivoted QR), in column order."""
    if z.shape[1] == 0:
        return np.arange(0)
    _, r, pivot = linalg.qr(z, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > _RANK_TOLERANCE * max(diag[0], 1.0)).sum()) if len(diag) else 0
    return np.sort(pivot[:rank])


def _lagged(a: np.ndarray, lag: int, fill=0.0) -> np.ndarray:
    """a shifted right by ``lag`` along axis 1 (the period axis), ``fill`` in front."""
    if lag == 0:
        return a
    out = np.full_like(a, fill)
    out[:, lag:] = a[:, :-lag]
    return out


def _filtered(a: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """a_t - sum_j phi_j a_(t-j) along axis 1, per series (phi shape (n, p))."""
    out = a.copy()
    for j in range(phi.shape[1]):
        coef = phi[:, j].reshape((-1,) + (1,) * (a.ndim - 1))
        out = out - coef * _lagged(a, j + 1)
    return out


def _solve(design: np.ndarray, target: np.ndarray, weight: np.ndarray, usable: np.ndarray):
    """Batched least squares: beta and (X'WX)^-1 per series; unusable columns get 0 and 0 variance."""
    xw = design * weight[:, :, None]
    a = np.matmul(xw.transpose(0, 2, 1), design)
    b = np.matmul(xw.transpose(0, 2, 1), target[:, :, None])[:, :, 0]
    off = ~usable
    a = np.where(off[:, :, None] | off[:, None, :], 0.0, a)
    idx = np.arange(a.shape[1])
    a[:, idx, idx] = np.where(off, 1.0, a[:, idx, idx])
    b = np.where(off, 0.0, b)
    try:
        inverse = np.linalg.inv(a)
    except np.linalg.LinAlgError:                       # a series left singular (guarded against above)
        inverse = np.linalg.pinv(a, hermitian=True)
    beta = np.einsum("nkj,nj->nk", inverse, b)
    inverse[:, idx, idx] = np.where(off, 0.0, inverse[:, idx, idx])
    return beta, inverse


def _ar_fit(u: np.ndarray, rows: np.ndarray, p: int) -> np.ndarray:
    """AR(p) coefficients of the residuals u by least squares on the rows where u_t..u_(t-p) are observed."""
    if p == 0:
        return np.zeros((u.shape[0], 0))
    u0 = np.nan_to_num(u)
    lags = np.stack([_lagged(u0, j + 1) for j in range(p)], axis=2) * rows[:, :, None]
    a = np.matmul(lags.transpose(0, 2, 1), lags) + 1e-12 * np.eye(p)
    b = np.matmul(lags.transpose(0, 2, 1), (u0 * rows)[:, :, None])[:, :, 0]
    return np.linalg.solve(a, b[:, :, None])[:, :, 0]


def _stationary(phi: np.ndarray) -> np.ndarray:
    """AR(1): |phi| < 1; AR(2): the stationarity triangle; with a small margin."""
    if phi.shape[1] == 0:
        return np.ones(phi.shape[0], bool)
    if phi.shape[1] == 1:
        return np.abs(phi[:, 0]) < 1 - 1e-6
    p1, p2 = phi[:, 0], phi[:, 1]
    return (np.abs(p2) < 1 - 1e-6) & (p1 + p2 < 1 - 1e-6) & (p2 - p1 < 1 - 1e-6)


def _psi(phi: np.ndarray, horizon: int) -> np.ndarray:
    """MA(infinity) weights psi_0..psi_(h-1) of the AR polynomial, per series."""
    n, p = phi.shape
    psi = np.zeros((n, horizon))
    psi[:, 0] = 1.0
    for h in range(1, horizon):
        for j in range(min(p, h)):
            psi[:, h] += phi[:, j] * psi[:, h - 1 - j]
    return psi


def _screen(y: np.ndarray, design: np.ndarray, names: tuple, k: int, m: int, horizon: int):
    """Per series: the reason it cannot be fitted ("" if it can), its usable columns and the notes on dropped ones."""
    n, T = y.shape
    observed = ~np.isnan(y)
    any_obs = observed.any(axis=1)
    start = np.where(any_obs, np.argmax(observed, axis=1), T)
    span = np.arange(T)[None, :] >= start[:, None]
    n_obs = observed.sum(axis=1)
    length = T - start
    reason = np.full(n, "", dtype=object)
    y0 = np.where(observed, y, np.nan)
    with np.errstate(all="ignore"):
        ptp_y = np.nanmax(np.where(any_obs[:, None], y0, 0.0), axis=1) - np.nanmin(np.where(any_obs[:, None], y0, 0.0), axis=1)
    demands = (observed & (np.nan_to_num(y) != 0)).sum(axis=1)
    needed = np.arange(T + horizon)[None, :] >= start[:, None]
    finite = (np.isfinite(design) | ~needed[:, :, None]).all(axis=(1, 2))
    for i in range(n):
        if not any_obs[i]:
            reason[i] = "no observed period"
        elif length[i] - n_obs[i] > MAX_MISSING_SHARE * length[i]:
            reason[i] = (f"{length[i] - n_obs[i]} of {length[i]} periods unobserved (censored or missing), more than "
                         f"{MAX_MISSING_SHARE:.0%}")
        elif n_obs[i] < MIN_OBSERVATIONS:
            reason[i] = f"{n_obs[i]} observations, fewer than the {MIN_OBSERVATIONS} the regression needs"
        elif ptp_y[i] == 0:
            reason[i] = "constant series: the likelihood is degenerate"
        elif demands[i] < MIN_DEMANDS:
            reason[i] = f"{demands[i]} periods with demand, fewer than {MIN_DEMANDS}"
        elif not finite[i]:
            reason[i] = "regressors not finite over the history and horizon"
    # columns: const, regressors (k), seasonal dummies (m - 1, only with >= 3 m observations)
    hist = np.nan_to_num(design[:, :T])
    w = observed[:, :, None]
    big = np.finfo(float).max
    with np.errstate(all="ignore"):
        varies = (np.where(w, hist, -big).max(axis=1) - np.where(w, hist, big).min(axis=1)) > 0
    varies[:, 0] = True                                               # the constant
    if m > 1:
        varies[:, 1 + k:] &= (n_obs >= 3 * m)[:, None]
    notes = [[f"{names[j - 1]}: constant over the history" for j in np.flatnonzero(~varies[i, 1:1 + k]) + 1]
             for i in range(n)]
    return reason, varies, notes, start, observed


def arimax(y, horizon: int, *, season_length: int = 1, exog: Regressors | np.ndarray | None = None,
           names=None, orders=ARIMAX_ORDERS, transform: str = "log1p") -> PointForecast:
    """Regression with AR errors, order chosen by AICc per series, fitted for all series at once.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN = not observed. Each series runs from its
        first observation to the last column (the forecast origin); unobserved
        periods inside that span (up to :data:`MAX_MISSING_SHARE`) are skipped
        by the estimator and the likelihood, not filled in.
    horizon : int
        Periods to forecast.
    season_length : int, default 1
        m; with m > 1 and at least 3 m observed periods, m - 1 seasonal dummies
        (phase of the period index) join the regressors (weekday effects on
        daily data).
    exog : Regressors or numpy.ndarray, optional
        Regressor values, shape (n_series, n_periods + horizon, k) (or
        (n_periods + horizon, k) for one series): history then the known
        future (planned prices and promotions, the calendar). Must be finite
        from each series' first observation on. None: seasonal dummies only.
    names : sequence of str, optional
        Names of the k regressors when ``exog`` is an array (default ``x0, x1, ...``).
    orders : sequence of (p, 0, 0), default :data:`ARIMAX_ORDERS`
        AR orders tried, p <= 2.
    transform : {"log1p", "none"}, default "log1p"
        Scale of the regression: log1p(units) (each coefficient is the
        log-multiplier of demand + 1 per unit of its regressor) or units.

    Returns
    -------
    PointForecast
        ``mean`` the forecast mean [units/period] given the future regressors
        (NaN for a series the model cannot serve); ``fitted`` the one-step
        in-sample predictions; ``spread`` the h-step predictive standard
        deviation relative to the one-step one; ``params``: ``order`` (e.g.
        "(1, 0, 0)", "" when none), ``aicc``, ``std`` (h-step predictive
        standard deviation [units/period], shape (n_series, horizon)),
        ``coefficients`` and ``std_errors`` (dict name -> value per series:
        ``const``, the regressors kept, ``season_k``, ``ar.L1``, ``ar.L2``,
        ``sigma2``; on the ``transform`` scale; standard errors of the
        regression coefficients given the AR part), ``dropped`` (regressors
        left out for that series and why), ``reason`` (why a series got no
        forecast, "" otherwise), ``transform``.

    Notes
    -----
    Per series, a regressor is left out (named in ``dropped``) when it does not
    vary over the observed history (a promotion or event only in the future then
    has no effect on the forecast) or is a linear combination of the others.
    For each order p, iterated Cochrane-Orcutt [2]_: OLS for beta; then
    :data:`COCHRANE_ORCUTT_ITERATIONS` times the AR coefficients by least
    squares on the residuals u = z - X beta and beta by least squares on the
    filtered data z_t - sum phi_j z_(t-j), X_t - sum phi_j X_(t-j) over the
    periods where t..t-p are observed. The order minimizes

        AICc = -2 l + 2 K + 2 K (K + 1) / (N - K - 1),
        l = -N/2 (log(2 pi sigma^2) + 1),  sigma^2 = sum e_t^2 / N,

    the conditional likelihood over the N periods where t, t-1, t-2 are all
    observed (the same periods for every order), K = coefficients + p + 1. A
    non-stationary AR estimate or a forecast above :data:`EXPLOSIVE_FACTOR` x
    (max y + 1) refuses the order. The forecast on the transformed scale is the
    AR prediction of u from the last residuals (unobserved periods predicted by
    the recursion) plus x' beta, with variance sigma^2 sum psi_j^2: for a
    fully observed end of history the same as statsmodels' state space
    ``get_forecast`` with these parameters. Back on units (``log1p``), the mean
    is that of the log-normal, exp(mu_h + v_h / 2) - 1.

    References
    ----------
    .. [1] Hyndman, R.J., Athanasopoulos, G. (2021). Forecasting: Principles and Practice, 3rd ed.,
       section 10.2 "Regression with ARIMA errors". OTexts.
    .. [2] Cochrane, D., Orcutt, G.H. (1949). Application of least squares regression to relationships
       containing auto-correlated error terms. JASA 44(245), 32-61.
    .. [3] Hurvich, C.M., Tsai, C.-L. (1989). Regression and time series model selection in small
       samples. Biometrika 76(2), 297-307 (AICc).
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"arimax: transform must be one of {TRANSFORMS}; got {transform!r}.")
    y = np.asarray(y, dtype=float)
    y = y[None, :] if y.ndim == 1 else y
    n, T = y.shape
    if isinstance(exog, Regressors):
        regressors = exog
    else:
        values = np.zeros((n, T + horizon, 0)) if exog is None else np.asarray(exog, dtype=float)
        if values.ndim == 2:
            values = values[None]
        k0 = values.shape[2] if values.ndim == 3 else 0
        regressors = Regressors(values, tuple(names) if names is not None else tuple(f"x{j}" for j in range(k0)))
    if regressors.values.shape[:2] != (n, T + horizon) or (
            regressors.shared is not None and regressors.shared.shape[0] != T + horizon):
        raise ValueError(f"arimax: exog must have shape (n_series, n_periods + horizon, k) = ({n}, {T + horizon}, k); "
                         f"got {regressors.values.shape}. Fix: give the regressors for every history period and "
                         "the horizon.")
    orders = [tuple(int(v) for v in o) for o in orders]
    bad = [o for o in orders if o[1] != 0 or o[2] != 0 or o[0] > _MAX_P]
    if bad:
        raise ValueError(f"arimax: orders must be (p, 0, 0) with p <= {_MAX_P}; got {bad}.")
    parts = [_arimax_chunk(y[rows], regressors[rows], horizon, max(int(season_length), 1), orders, transform)
             for rows in np.array_split(np.arange(n), max(1, -(-n // CHUNK_SERIES)))]
    params = {key: np.concatenate([p.params[key] for p in parts], axis=0) for key in parts[0].params}
    return PointForecast(np.concatenate([p.mean for p in parts]), np.concatenate([p.fitted for p in parts]),
                         np.concatenate([p.spread for p in parts]), params)


def _arimax_chunk(y, regressors: Regressors, horizon, m, orders, transform) -> PointForecast:
    n, T = y.shape
    W = T + horizon
    names = regressors.all_names
    k = len(names)
    columns = [np.ones((n, W, 1)), regressors.design()]
    labels = ["const", *names]
    if m > 1:
        phase = np.arange(W) % m
        dummies = (phase[:, None] == np.arange(1, m)[None, :]).astype(float)
        columns.append(np.broadcast_to(dummies[None], (n, W, m - 1)))
        labels += [f"season_{j}" for j in range(1, m)]
    design = np.concatenate(columns, axis=2)
    reason, usable, notes, start, observed = _screen(y, design, names, k, m, horizon)
    design = np.nan_to_num(design)
    ok = reason == ""
    usable[~ok] = False                                  # series not fitted: identity normal equations
    z = np.log1p(np.maximum(y, 0.0)) if transform == "log1p" else y.copy()
    z0 = np.nan_to_num(z)
    # collinear columns (rare): the scaled Gram matrix finds the series that have them, a pivoted QR names them
    hist = design[:, :T]
    xw = hist * (observed & ok[:, None])[:, :, None]
    gram = np.matmul(xw.transpose(0, 2, 1), hist)
    gram = np.where(usable[:, :, None] & usable[:, None, :], gram, 0.0)
    scale = np.sqrt(np.maximum(np.einsum("nkk->nk", gram), 1e-300))
    eigen = np.linalg.eigvalsh(gram / scale[:, :, None] / scale[:, None, :])
    deficient = (eigen < 1e-9).sum(axis=1) > (~usable).sum(axis=1)
    for i in np.flatnonzero(ok & deficient):
        cols = np.flatnonzero(usable[i])
        x = hist[i][observed[i]][:, cols]
        keep = _independent(x)
        if 0 not in keep:
            keep = np.r_[0, keep[:-1]]
        lost = sorted(set(range(len(cols))) - set(keep.tolist()))
        for j in lost:
            usable[i, cols[j]] = False
            if 1 <= cols[j] <= k:
                notes[i].append(f"{labels[cols[j]]}: collinear with other regressors")
    k_used = usable.sum(axis=1)
    n_obs = observed.sum(axis=1)
    too_few = ok & (n_obs < k_used + 10)
    for i in np.flatnonzero(too_few):
        reason[i] = f"{n_obs[i]} observations for {k_used[i]} regression coefficients: too few (need 10 more)"
    ok &= ~too_few

    lag_ok = [observed]
    for j in range(1, _MAX_P + 1):
        lag_ok.append(_lagged(observed, j, False))
    common = ok[:, None] & lag_ok[0] & lag_ok[1] & lag_ok[2]               # likelihood rows, all orders
    n_common = common.sum(axis=1)
    limit = EXPLOSIVE_FACTOR * (np.nanmax(np.where(observed, np.abs(y), 0.0), axis=1) + 1.0)

    K_all = design.shape[2]
    best = {"aicc": np.full(n, np.inf), "order": np.full(n, "", dtype=object), "beta": np.zeros((n, K_all)),
            "se": np.zeros((n, K_all)), "phi": np.zeros((n, _MAX_P)), "p": np.zeros(n, int),
            "sigma2": np.zeros(n), "mean": np.full((n, horizon), np.nan), "std": np.full((n, horizon), np.nan),
            "fitted": np.full((n, T), np.nan)}
    failures = [[] for _ in range(n)]
    for order in orders:
        p = order[0]
        rows_p = ok[:, None] & observed
        for j in range(1, p + 1):
            rows_p = rows_p & lag_ok[j]
        phi = np.zeros((n, p))
        beta, inverse = _solve(hist, z0, (ok[:, None] & observed).astype(float), usable)
        for _ in range(COCHRANE_ORCUTT_ITERATIONS if p else 0):
            u = np.where(observed, z - np.matmul(hist, beta[:, :, None])[:, :, 0], np.nan)
            phi = _ar_fit(u, rows_p, p)
            phi = np.where(_stationary(phi)[:, None], phi, np.clip(phi, -0.99, 0.99) * 0.5)
            beta, inverse = _solve(_filtered(hist, phi), _filtered(z0, phi), rows_p.astype(float), usable)
        u = np.where(observed, z - np.matmul(hist, beta[:, :, None])[:, :, 0], np.nan)
        if p:
            phi = _ar_fit(u, rows_p, p)
        stationary = _stationary(phi)
        e = _filtered(np.nan_to_num(u), phi)
        sigma2 = np.where(common, e ** 2, 0.0).sum(axis=1) / np.maximum(n_common, 1)
        K = k_used + p + 1
        with np.errstate(all="ignore"):
            loglik = -0.5 * n_common * (np.log(2 * np.pi * sigma2) + 1)
            aicc = -2 * loglik + 2 * K + 2 * K * (K + 1) / (n_common - K - 1)
        enough = n_common > K + 1 + 10
        # forecast: u over the history with unobserved periods predicted by the recursion, then ahead
        u_hat = np.zeros((n, T + horizon))
        one_step = np.zeros((n, T))
        for t in range(T + horizon):
            pred = np.zeros(n)
            for j in range(p):
                if t - j - 1 >= 0:
                    pred += phi[:, j] * u_hat[:, t - j - 1]
            if t < T:
                one_step[:, t] = pred
                u_hat[:, t] = np.where(observed[:, t], np.nan_to_num(u[:, t]), np.where(t >= start, pred, 0.0))
            else:
                u_hat[:, t] = pred
        mean_z = np.matmul(design[:, T:], beta[:, :, None])[:, :, 0] + u_hat[:, T:]
        fitted_z = np.matmul(hist, beta[:, :, None])[:, :, 0] + one_step
        var_z = sigma2[:, None] * np.cumsum(_psi(phi, horizon) ** 2, axis=1)
        if transform == "log1p":
            with np.errstate(over="ignore"):
                mean = np.exp(mean_z + var_z / 2) - 1
                std = np.sqrt(np.expm1(var_z) * np.exp(2 * mean_z + var_z))
                fitted = np.exp(fitted_z + sigma2[:, None] / 2) - 1
        else:
            mean, std, fitted = mean_z, np.sqrt(var_z), fitted_z
        finite = np.isfinite(mean).all(axis=1) & np.isfinite(aicc) & np.isfinite(std).all(axis=1)
        explosive = finite & (np.abs(mean).max(axis=1) > limit)
        good = ok & enough & stationary & finite & ~explosive
        for i in np.flatnonzero(ok & ~good):
            why = ("too few observations" if not enough[i] else "non-stationary" if not stationary[i]
                   else "non-finite fit" if not finite[i] else "explosive forecast")
            failures[i].append(f"{order}: {why}")
        better = good & (aicc < best["aicc"])
        if better.any():
            se = np.sqrt(np.maximum(np.einsum("nkk->nk", inverse), 0.0) * sigma2[:, None])
            new = {"aicc": aicc, "order": np.full(n, str(order), dtype=object), "beta": beta, "se": se,
                   "phi": np.pad(phi, ((0, 0), (0, _MAX_P - p))), "p": np.full(n, p), "sigma2": sigma2,
                   "mean": mean, "std": std, "fitted": fitted}
            for key, value in new.items():
                best[key][better] = value[better]

    chosen = np.isfinite(best["aicc"])
    out_mean = np.full((n, horizon), np.nan)
    out_fitted = np.full((n, T), np.nan)
    out_std = np.full((n, horizon), np.nan)
    coefficients = np.empty(n, dtype=object)
    std_errors = np.empty(n, dtype=object)
    order_out = np.full(n, "", dtype=object)
    for i in range(n):
        coefficients[i], std_errors[i] = {}, {}
        if not chosen[i]:
            if ok[i]:
                reason[i] = "no ARIMAX order could be fitted (" + ("; ".join(failures[i]) or "none applicable") + ")"
            continue
        keep = np.flatnonzero(usable[i])
        p = int(best["p"][i])
        coefficients[i] = {labels[j]: float(best["beta"][i, j]) for j in keep}
        coefficients[i].update({f"ar.L{j + 1}": float(best["phi"][i, j]) for j in range(p)})
        coefficients[i]["sigma2"] = float(best["sigma2"][i])
        std_errors[i] = {labels[j]: float(best["se"][i, j]) for j in keep}
        order_out[i] = best["order"][i]
        out_mean[i], out_std[i] = best["mean"][i], best["std"][i]
        out_fitted[i] = np.where(observed[i], best["fitted"][i], np.nan)
    with np.errstate(all="ignore"):
        spread = np.where(out_std[:, :1] > 0, out_std / out_std[:, :1], 1.0)
    spread = np.where(chosen[:, None], spread, np.nan)
    dropped = np.array(["; ".join(x) for x in notes], dtype=object)
    return PointForecast(out_mean, out_fitted, spread, {
        "order": order_out, "aicc": np.where(chosen, best["aicc"], np.nan), "std": out_std,
        "coefficients": coefficients, "std_errors": std_errors, "dropped": dropped, "reason": reason,
        "transform": np.full(n, transform, dtype=object)})
