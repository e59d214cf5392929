"""Regression with ARMA errors (ARIMAX) for price, promotion and calendar effects, one series at a time.

The model of the package that takes exogenous regressors: demand is a linear
regression on known-in-advance variables (promotion flag and depth, relative
price, festival and holiday days and the days around them, SNAP days) plus
seasonal dummies, with ARMA errors,

    y_t = c + x_t' beta + s_(t mod m) + u_t,    phi(B) u_t = theta(B) e_t,   e_t ~ N(0, sigma^2),

fitted per series by statsmodels (``statsmodels.tsa.arima.model.ARIMA``,
Hannan-Rissanen ARMA estimates with feasible GLS for the regression
coefficients) and evaluated by the exact Gaussian likelihood of its state space
form; the ARMA order is chosen by AICc among :data:`ARIMAX_ORDERS`. A series
the model cannot serve (too short, constant, too few demands, too many
unobserved periods, no admissible fit) gets a NaN forecast and a reason, and
:func:`opslib.forecast.core.forecast_arrays` falls back along its chain.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from opslib.forecast.result import PointForecast

__all__ = ["arimax", "Regressors", "ARIMAX_ORDERS", "MIN_OBSERVATIONS", "MIN_DEMANDS", "MAX_MISSING_SHARE",
           "EXPLOSIVE_FACTOR"]

ARIMAX_ORDERS = ((0, 0, 0), (1, 0, 0), (2, 0, 0), (1, 0, 1))
"""The (p, d, q) orders tried for the errors: white noise, AR(1), AR(2), ARMA(1,1). No differencing:
AICc is only comparable on the same data, and the regression mean stays interpretable."""
MIN_OBSERVATIONS = 14
"""Fewest observed periods for a fit; a fit also needs at least 10 more observations than coefficients."""
MIN_DEMANDS = 3
"""Fewer periods with non-zero demand: nothing for the regression to fit (falls back)."""
MAX_MISSING_SHARE = 0.25
"""Largest share of unobserved periods (censored or missing) between a series' first observation and the
forecast origin; the likelihood skips them (the state space handles missing values exactly)."""
EXPLOSIVE_FACTOR = 10.0
"""A forecast above this multiple of the largest observation (plus 1) is refused as explosive."""
_RANK_TOLERANCE = 1e-8


@dataclass(frozen=True)
class Regressors:
    """Exogenous regressors of a panel, history and horizon.

    Attributes
    ----------
    values : numpy.ndarray, shape (n_series, n_periods + horizon, k)
        Regressor values per series and period: the history columns of the
        panel, then the horizon. NaN before a series' first observation (not used).
    names : tuple of str, length k
        Name of each regressor.
    """

    values: np.ndarray
    names: tuple

    def __getitem__(self, rows) -> "Regressors":
        """The regressors of some series (rows of the panel)."""
        return Regressors(self.values[rows], self.names)


def _seasonal_dummies(columns: np.ndarray, season_length: int) -> tuple[np.ndarray, list[str]]:
    """0/1 columns for the phases 1..m-1 of the absolute period index (phase 0 is the base)."""
    phase = columns % season_length
    dummies = (phase[:, None] == np.arange(1, season_length)[None, :]).astype(float)
    return dummies, [f"season_{k}" for k in range(1, season_length)]


def _independent(z: np.ndarray) -> np.ndarray:
    """Indices of a maximal set of linearly independent columns of z (pivoted QR), in column order."""
    if z.shape[1] == 0:
        return np.arange(0)
    _, r, pivot = linalg.qr(z, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > _RANK_TOLERANCE * max(diag[0], 1.0)).sum()) if len(diag) else 0
    return np.sort(pivot[:rank])


def arimax(y, horizon: int, *, season_length: int = 1, exog: Regressors | np.ndarray | None = None,
           names=None, orders=ARIMAX_ORDERS) -> PointForecast:
    """Regression with ARMA errors, order chosen by AICc per series (statsmodels ``ARIMA`` with exog).

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN = not observed. Each series runs from its
        first observation to the last column (the forecast origin); unobserved
        periods inside that span (up to :data:`MAX_MISSING_SHARE`) are skipped
        by the likelihood, not filled in.
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
    orders : sequence of (p, d, q), default :data:`ARIMAX_ORDERS`

    Returns
    -------
    PointForecast
        ``mean`` the forecast mean given the future regressors (NaN for a series
        the model cannot serve); ``fitted`` the one-step in-sample predictions;
        ``spread`` sqrt(var_h / var_1) of the model's h-step forecast error;
        ``params``: ``order`` (e.g. "(1, 0, 0)", "" when none), ``aicc``,
        ``std`` (h-step predictive standard deviation [units/period], shape
        (n_series, horizon)), ``coefficients`` (dict name -> estimate per
        series: ``const``, the regressors kept, ``season_k``, AR/MA terms,
        ``sigma2``), ``dropped`` (regressors left out for that series and why),
        ``reason`` (why a series got no forecast, "" otherwise).

    Notes
    -----
    Per series, a regressor is left out (and named in ``dropped``) when it does
    not vary over the observed history (its effect cannot be estimated; a
    promotion or event only in the future then has no effect on the forecast)
    or is a linear combination of the others (pivoted QR). Each order is fitted
    by ``ARIMA(y, exog, order, trend="c").fit(method="hannan_rissanen",
    gls=True)`` (statsmodels: Hannan-Rissanen ARMA estimates, regression
    coefficients by feasible GLS) on the series with unobserved periods filled
    by the OLS fit, then its exact likelihood is evaluated on the observed
    periods only (the Kalman filter skips missing values); the smallest AICc
    wins. A fit with non-finite values, a non-stationary AR or non-invertible MA
    part, or a forecast above :data:`EXPLOSIVE_FACTOR` x (max |y| + 1) is
    refused. The forecast is the state space ``get_forecast`` with the future
    regressors: identical to ``SARIMAX(y, exog=[1, X], order).smooth(params)``.

    References
    ----------
    .. [1] Hyndman, R.J., Athanasopoulos, G. (2021). Forecasting: Principles and Practice, 3rd ed.,
       section 10.2 "Regression with ARIMA errors". OTexts.
    .. [2] Hannan, E.J., Rissanen, J. (1982). Recursive estimation of mixed autoregressive-moving
       average order. Biometrika 69(1), 81-94.
    """
    from statsmodels.tsa.arima.model import ARIMA

    y = np.asarray(y, dtype=float)
    y = y[None, :] if y.ndim == 1 else y
    n, T = y.shape
    if isinstance(exog, Regressors):
        names = tuple(exog.names)
        exog = exog.values
    if exog is None:
        exog = np.zeros((n, T + horizon, 0))
    exog = np.asarray(exog, dtype=float)
    if exog.ndim == 2:
        exog = exog[None]
    if exog.shape[:2] != (n, T + horizon):
        raise ValueError(f"arimax: exog must have shape (n_series, n_periods + horizon, k) = ({n}, {T + horizon}, k); "
                         f"got {exog.shape}. Fix: give the regressors for every history period and the horizon.")
    k = exog.shape[2]
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(k))
    m = max(int(season_length), 1)

    mean = np.full((n, horizon), np.nan)
    fitted = np.full((n, T), np.nan)
    spread = np.full((n, horizon), np.nan)
    std = np.full((n, horizon), np.nan)
    chosen = np.full(n, "", dtype=object)
    aicc = np.full(n, np.nan)
    coefficients = np.empty(n, dtype=object)
    dropped = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    for i in range(n):
        coefficients[i] = {}
        observed = ~np.isnan(y[i])
        if not observed.any():
            reason[i] = "no observed period"
            continue
        start = int(np.argmax(observed))
        x = y[i, start:]
        seen = ~np.isnan(x)
        n_obs = int(seen.sum())
        if len(x) - n_obs > MAX_MISSING_SHARE * len(x):
            reason[i] = (f"{len(x) - n_obs} of {len(x)} periods unobserved (censored or missing), more than "
                         f"{MAX_MISSING_SHARE:.0%}")
            continue
        if n_obs < MIN_OBSERVATIONS:
            reason[i] = f"{n_obs} observations, fewer than the {MIN_OBSERVATIONS} the regression needs"
            continue
        if np.ptp(x[seen]) == 0:
            reason[i] = "constant series: the likelihood is degenerate"
            continue
        if (x[seen] != 0).sum() < MIN_DEMANDS:
            reason[i] = f"{int((x[seen] != 0).sum())} periods with demand, fewer than {MIN_DEMANDS}"
            continue
        block = exog[i, start:]
        if not np.isfinite(block).all():
            reason[i] = "regressors not finite over the history and horizon"
            continue

        columns = np.arange(start, T + horizon)
        design, labels = block, list(names)
        if m > 1 and n_obs >= 3 * m:
            dummies, dummy_labels = _seasonal_dummies(columns, m)
            design, labels = np.hstack([block, dummies]), labels + dummy_labels
        history = design[:len(x)]
        notes = []
        varies = np.ptp(history[seen], axis=0) > 0 if design.shape[1] else np.zeros(0, bool)
        notes += [f"{labels[j]}: constant over the history" for j in np.flatnonzero(~varies) if j < k]
        keep = np.flatnonzero(varies)
        with_const = np.hstack([np.ones((n_obs, 1)), history[seen][:, keep]])
        independent = _independent(with_const)
        if 0 not in independent:                                  # keep the constant
            independent = np.r_[0, independent[:-1]]
        lost = sorted(set(range(1, with_const.shape[1])) - set(independent.tolist()))
        notes += [f"{labels[keep[j - 1]]}: collinear with other regressors" for j in lost if keep[j - 1] < k]
        keep = keep[np.asarray([j - 1 for j in independent if j > 0], dtype=int)]
        z = design[:, keep]
        z_hist, z_future = z[:len(x)], z[len(x):]
        if n_obs < len(keep) + 1 + 10:
            reason[i] = f"{n_obs} observations for {len(keep) + 1} regression coefficients: too few (need 10 more)"
            continue
        # fill unobserved periods with the OLS fit for the estimator (the likelihood skips them)
        x_fill = x.copy()
        if not seen.all():
            beta = np.linalg.lstsq(np.hstack([np.ones((n_obs, 1)), z_hist[seen]]), x[seen], rcond=None)[0]
            x_fill[~seen] = np.hstack([np.ones(((~seen).sum(), 1)), z_hist[~seen]]) @ beta
        exog_hist = z_hist if z.shape[1] else None
        exog_future = z_future if z.shape[1] else None
        limit = EXPLOSIVE_FACTOR * (np.abs(x[seen]).max() + 1.0)
        best, failures = None, []
        for order in orders:
            order = tuple(int(v) for v in order)
            if n_obs <= len(keep) + 1 + order[0] + order[2] + 10:
                continue
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    fit = ARIMA(x_fill, exog=exog_hist, order=order, trend="c").fit(
                        method="hannan_rissanen", gls=True, cov_type="none")
                    params = np.asarray(fit.params, dtype=float)
                    if not seen.all():
                        fit = ARIMA(x, exog=exog_hist, order=order, trend="c").smooth(params, cov_type="none")
                    admissible = ((len(fit.arroots) == 0 or np.abs(fit.arroots).min() > 1.0 + 1e-6)
                                  and (len(fit.maroots) == 0 or np.abs(fit.maroots).min() > 1.0 + 1e-6))
                    score = float(fit.aicc)
                    prediction = fit.get_forecast(horizon, exog=exog_future)
                    path = np.asarray(prediction.predicted_mean, dtype=float)
                    variance = np.asarray(prediction.var_pred_mean, dtype=float)
                if not admissible:
                    failures.append(f"{order}: non-stationary or non-invertible")
                elif not (np.isfinite(params).all() and np.isfinite(score) and np.isfinite(path).all()
                          and np.isfinite(variance).all()):
                    failures.append(f"{order}: non-finite fit")
                elif np.abs(path).max() > limit:
                    failures.append(f"{order}: explosive forecast")
                elif best is None or score < best[0]:
                    best = (score, order, fit, path, variance)
            except Exception as error:  # noqa: BLE001 (any failing fit only removes the candidate)
                failures.append(f"{order}: {type(error).__name__}")
        if best is None:
            reason[i] = "no ARIMAX order could be fitted (" + ("; ".join(failures) or "none applicable") + ")"
            continue
        score, order, fit, path, variance = best
        mean[i] = path
        one_step = np.asarray(fit.fittedvalues, dtype=float)
        fitted[i, start:] = np.where(seen, one_step, np.nan)
        std[i] = np.sqrt(np.maximum(variance, 0.0))
        first = variance[0] if variance[0] > 0 else np.nan
        spread[i] = np.sqrt(np.where(np.isfinite(first), variance / first, 1.0))
        chosen[i], aicc[i] = str(order), score
        coefficients[i] = dict(zip(["const"] + [labels[j] for j in keep] + list(fit.param_names[1 + len(keep):]),
                                   np.asarray(fit.params, dtype=float).tolist()))
        dropped[i] = "; ".join(notes)
    return PointForecast(mean, fitted, spread, {"order": chosen, "aicc": aicc, "std": std,
                                                "coefficients": coefficients, "dropped": dropped, "reason": reason})
