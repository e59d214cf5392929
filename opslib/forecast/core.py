"""``forecast``: the long-table entry point that runs the models on all SKUs at once."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from opslib.errors import DataError
from opslib.forecast import baselines, ets, holt_winters, intermittent, smoothing
from opslib.forecast.combine import combine, parse_combination
from opslib.forecast.classify import classify_demand
from opslib.forecast.frequency import future_dates
from opslib.forecast.panel import to_panel
from opslib.forecast.parallel import EXOG_MODELS, check_engine, run_model
from opslib.forecast.regression import arimax
from opslib.forecast.result import PointForecast
from opslib.forecast.seasonal import seasonally_adjusted

__all__ = ["forecast", "MODELS", "AUTO_BY_CLASS", "FALLBACK_CHAIN", "quantile_column"]

MIN_RESIDUALS = 10
"""In-sample one-step residuals needed for empirical quantiles; fewer: count distribution."""

MODELS: dict[str, Callable[[np.ndarray, int, int], PointForecast]] = {
    "naive": lambda y, h, m: baselines.naive(y, h),
    "drift": lambda y, h, m: baselines.drift(y, h),
    "seasonal_naive": lambda y, h, m: baselines.seasonal_naive(y, h, m),
    "moving_average": lambda y, h, m: baselines.moving_average(y, h, max(m, 3)),
    "historic_average": lambda y, h, m: baselines.historic_average(y, h),
    "ses": lambda y, h, m: seasonally_adjusted(smoothing.simple_exponential_smoothing, y, h, m),
    "holt": lambda y, h, m: seasonally_adjusted(smoothing.holt, y, h, m),
    "holt_damped": lambda y, h, m: seasonally_adjusted(smoothing.holt, y, h, m, damped=True),
    "theta": lambda y, h, m: smoothing.theta(y, h, season_length=m),
    "comb_shd": lambda y, h, m: combine([MODELS[k](y, h, m) for k in ("ses", "holt", "holt_damped")]),
    "croston": lambda y, h, m: intermittent.croston(y, h),
    "croston_sba": lambda y, h, m: intermittent.croston_sba(y, h),
    "croston_optimized": lambda y, h, m: intermittent.croston_optimized(y, h),
    "tsb": lambda y, h, m: intermittent.tsb(y, h),
    "adida": lambda y, h, m: intermittent.adida(y, h),
    "imapa": lambda y, h, m: intermittent.imapa(y, h),
    "ets": lambda y, h, m: ets.ets(y, h, season_length=m),
    "arimax": lambda y, h, m: arimax(y, h, season_length=m),
    "holt_winters": lambda y, h, m: holt_winters.holt_winters(y, h, m),
    "holt_winters_additive": lambda y, h, m: holt_winters.holt_winters_additive(y, h, m),
}
"""Model name -> function(history (n, T), horizon, season_length).

SES, Holt, damped Holt and Theta run on the seasonally adjusted series when the
series is seasonal (:func:`opslib.forecast.seasonal.seasonally_adjusted`, as in the
M3/M4 benchmarks); ``comb_shd`` is the mean of those three (COMB S-H-D). ``ets`` is
statsmodels' ``ETSModel`` chosen by AICc per series (:func:`opslib.forecast.ets.ets`;
a likelihood fit per series, not vectorized: about 0.1-2 s per series). ``holt_winters``
is the damped-trend, multiplicative-seasonal Holt-Winters method, vectorized
(:func:`opslib.forecast.holt_winters.holt_winters`; NaN, hence a fallback, for series
that are not strictly positive or have fewer than two seasons); ``holt_winters_additive`` the
same with additive seasonality (ETS(A,Ad,A) point forecasts; zeros allowed,
:func:`opslib.forecast.holt_winters.holt_winters_additive`).
"""


def model_function(name: str) -> Callable[[np.ndarray, int, int], PointForecast]:
    """The function of a model name: an entry of :data:`MODELS` or a combination of them.

    A combination name such as ``"mean(theta+holt_damped)"`` or ``"median(ses+theta+comb_shd)"``
    (:func:`opslib.forecast.combine.combination_name`, members from :data:`MODELS`; ``model="auto"``
    writes these when it averages a pool of models) runs each member and combines their forecasts
    (:func:`opslib.forecast.combine.combine`). Raises ``KeyError`` for an unknown name.
    """
    if name in MODELS:
        return MODELS[name]
    parsed = parse_combination(name)
    if parsed is None or any(k not in MODELS for k in parsed[1]):
        raise KeyError(name)
    how, members = parsed
    return lambda y, h, m: combine([MODELS[k](y, h, m) for k in members], how=how)


FALLBACK_CHAIN = ("ets", "ses", "seasonal_naive", "naive")
"""Where a series goes when its model gives no forecast: the models after the failed one
(after ``ets`` for a model not in the chain); a series without any observation gets 0."""

AUTO_BY_CLASS = {
    "smooth": "ses", "erratic": "ses", "new": "ses", "intermittent": "croston_sba", "lumpy": "tsb",
    "discontinued": "tsb", "too_short": "historic_average", "all_zero": "historic_average",
}
"""The model ``model="auto"`` uses for a demand class it does not backtest, or a SKU too short to backtest."""

_EMPIRICAL_CLASSES = ("smooth", "erratic")
"""Classes whose quantiles come from in-sample residuals; the others (new SKUs included: too few
residuals to trust their tails) from a count distribution. See :func:`_quantiles`."""


def quantile_column(quantile: float) -> str:
    """Column name of a quantile: percent in its shortest form (0.1 -> "p10", 0.975 -> "p97.5")."""
    return f"p{round(quantile * 100, 8):g}"


def forecast(demand: pd.DataFrame, horizon: int, *, model: str = "ses", quantiles=(0.1, 0.5, 0.9),
             season_length: int | None = None, censor_stockouts: bool = True, exog: pd.DataFrame | None = None,
             engine: str | None = None) -> pd.DataFrame:
    """Forecast every SKU of a long demand table, with quantiles.

    Parameters
    ----------
    demand : pandas.DataFrame
        The canonical ``demand`` table: ``sku, date, units``; ``in_stock`` used
        when present. Daily, weekly, monthly, quarterly or yearly dates.
    horizon : int
        Periods to forecast [periods of the table's frequency].
    model : str, default "ses"
        A name of :data:`MODELS` or ``"auto"``. ``"auto"`` classifies each SKU
        (:func:`opslib.forecast.classify.classify_demand`) and picks, per SKU, the
        candidate of its class (:data:`opslib.forecast.backtest.AUTO_CANDIDATES`),
        a pooled or forward-selected combination of them, or one model for the
        whole class, whichever scores best out of sample over rolling-origin
        backtest windows (two windows ``horizon`` apart on daily data, six half
        a horizon apart otherwise; RMSSE for smooth and erratic demand, RMSSE
        of cumulative demand for intermittent, lumpy and discontinued demand;
        :func:`opslib.forecast.backtest.select_models`). New, too-short and
        all-zero SKUs, and SKUs too short to backtest, use :data:`AUTO_BY_CLASS`.
        Selection uses the trailing :func:`opslib.forecast.backtest.selection_history`
        periods; the final fit uses them too on daily data (90-day horizon:
        the last 360 days) and the whole history otherwise; the class uses all history.
    quantiles : sequence of float in (0, 1), default (0.1, 0.5, 0.9)
    season_length : int, optional
        Inferred from the dates (daily 7, weekly 52, monthly 12, quarterly 4, yearly 1) when not given.
    censor_stockouts : bool, default True
        Treat ``in_stock`` False periods (and ``suspected_stockout`` True ones,
        hidden stock-outs, when the column is present) as missing (demand not
        observed), not as zero demand. False: count them as the sales they recorded.
    exog : pandas.DataFrame, optional
        Regressors of ``model="arimax"`` (regression with ARMA errors,
        :func:`opslib.forecast.regression.arimax`): a long table ``sku, date,
        <regressor columns>`` (numbers or booleans) covering each SKU from its
        first observation to the end of the horizon, the future rows being the
        plan (prices, promotions, calendar); build it with
        :func:`opslib.forecast.features.exogenous_design`. None: the regressors
        of :func:`opslib.forecast.features.demand_regressors` (``promo`` from
        ``promo_id`` over the history, no promotion planned ahead). Other
        models take no regressors.
    engine : {None, "processes"}, default None
        None: run in this process. "processes": the per-series likelihood
        models (``ets``, ``arimax``) run over a process pool by SKU
        (:func:`opslib.forecast.parallel.run_model`); same results.

    Returns
    -------
    pandas.DataFrame
        ``sku, date, mean, p10, p50, p90, model``: one row per SKU and future
        date, one ``pNN`` column per quantile [units/period]. Never negative,
        never NaN. ``model`` is the model actually used (a fallback when the
        requested one could not forecast the SKU). ``frame.attrs["warnings"]``
        lists each step of a fallback (records ``sku, requested, used,
        reason``; ``pd.DataFrame(frame.attrs["warnings"])`` makes a table of
        them) along :data:`FALLBACK_CHAIN` (ets -> ses -> seasonal_naive ->
        naive; 0 for a SKU without any observed period);
        ``frame.attrs["demand_class"]`` the class of each SKU (records ``sku,
        demand_class, adi, cv2``).

    Raises
    ------
    opslib.DataError
        On a bad table, an unknown model, a non-positive horizon or a quantile outside (0, 1).

    Notes
    -----
    Quantiles: for smooth and erratic series with at least
    :data:`MIN_RESIDUALS` in-sample one-step residuals e, the forecast mean plus
    the empirical quantile of e times the model's h-step spread (sqrt(1 + (h-1)
    alpha^2) for SES, sqrt(h) for naive, ...). Otherwise (intermittent, lumpy,
    new, short series, models without in-sample fit) the per-period demand is
    negative binomial with the forecast mean mu and the observed
    variance-to-mean ratio d of the history (variance d mu), Poisson when d <= 1.
    All values are clipped at 0.
    """
    if model != "auto" and model not in MODELS:
        raise DataError(f"forecast: model must be 'auto' or one of {sorted(MODELS)}; got {model!r}.")
    if int(horizon) != horizon or horizon < 1:
        raise DataError(f"forecast: horizon must be a positive whole number of periods; got {horizon!r}.")
    quantiles = tuple(float(q) for q in quantiles)
    if any(not 0 < q < 1 for q in quantiles):
        raise DataError(f"forecast: quantiles must lie strictly between 0 and 1; got {quantiles}.")
    horizon = int(horizon)
    check_engine(engine)
    if exog is not None and model not in EXOG_MODELS:
        raise DataError(f"forecast: exog is used by the regression model(s) {list(EXOG_MODELS)} only; got "
                        f"model={model!r}. Fix: pass model='arimax', or leave exog out.")

    panel = to_panel(demand, censor=censor_stockouts)
    y = panel.values
    m = int(season_length) if season_length is not None else panel.frequency.season_length
    classes = classify_demand(y, season_length=m)
    n = len(panel.skus)

    if model == "auto":
        from opslib.forecast.backtest import select_models, selection_history

        names = select_models(y, horizon, season_length=m, demand_class=classes.demand_class).model
        # Daily history is fitted on the trailing window selection used (three years of days cost one
        # year of fitting); weekly, monthly, quarterly and yearly series are short enough to fit whole,
        # which is also how the published benchmark figures (benchmarks/forecast_m3.py) are made.
        fit_on = y[:, -selection_history(horizon, m):] if panel.frequency.name == "daily" else y
    else:
        names = np.full(n, model, dtype=object)
        fit_on = y
    regressors = None
    if model in EXOG_MODELS:
        from opslib.forecast.features import demand_regressors, regressor_array

        observed = ~np.isnan(y)
        first = np.where(observed.any(axis=1), np.argmax(observed, axis=1), y.shape[1])
        regressors = regressor_array(demand_regressors(demand, horizon) if exog is None else exog, panel.skus,
                                     panel.dates, future_dates(panel.dates[-1], horizon, panel.frequency), first)
    mean, values, names, log_rows = forecast_arrays(fit_on, horizon, m, names, classes.demand_class, quantiles,
                                                    exog=regressors, engine=engine)
    log = [(panel.skus[r], requested, used, reason) for r, requested, used, reason in log_rows]

    dates = future_dates(panel.dates[-1], horizon, panel.frequency)
    used, which = np.unique(names.astype(str), return_inverse=True)    # a few model names: repeat their codes
    frame = pd.DataFrame({
        "sku": pd.Series(panel.skus.repeat(horizon), dtype=demand["sku"].dtype),   # the codes keep its dtype
        "date": np.tile(dates.values, n),
        "mean": mean.ravel(),
        **{quantile_column(q): v.ravel() for q, v in zip(quantiles, values)},
        "model": pd.Series(used).array.take(np.repeat(which, horizon)),
    })
    # attrs hold plain records, not DataFrames: pandas compares attrs when it concatenates
    # frames, and DataFrames in attrs would make pd.concat of two forecasts fail
    frame.attrs["warnings"] = pd.DataFrame(log, columns=["sku", "requested", "used", "reason"]).to_dict("records")
    frame.attrs["demand_class"] = [                            # as DataFrame.to_dict("records"), without its boxing
        {"sku": sku, "demand_class": kind, "adi": adi, "cv2": cv2} for sku, kind, adi, cv2 in
        zip(panel.skus.tolist(), classes.demand_class.tolist(), classes.adi.tolist(), classes.cv2.tolist())]
    return frame


def forecast_arrays(y: np.ndarray, horizon: int, season_length: int, names, demand_class,
                    quantiles, *, exog=None, engine: str | None = None
                    ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, list]:
    """Run the named model of each row on a (n, T) array, with fallbacks and quantiles.

    The array engine behind :func:`forecast` and :func:`opslib.forecast.backtest.backtest`:
    each model runs once on all rows that use it. ``exog``
    (:class:`opslib.forecast.regression.Regressors` of the rows, history and
    horizon) goes to the regression model; ``engine`` as in :func:`forecast`.

    Returns
    -------
    mean : numpy.ndarray, shape (n, horizon)
        Never NaN, never negative.
    values : list of numpy.ndarray (n, horizon)
        One array per quantile.
    names : numpy.ndarray of object, shape (n,)
        The model used per row (after fallbacks).
    log : list of (row, requested, used, reason)
    """
    n = y.shape[0]
    m = season_length
    names = np.asarray(names, dtype=object).copy()
    mean = np.full((n, horizon), np.nan)
    fitted = np.full(y.shape, np.nan)
    spread = np.full((n, horizon), np.nan)
    has_fit = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}
    for name in pd.unique(names):
        rows = np.flatnonzero(names == name)
        result = (run_model(name, y[rows], horizon, m, exog=None if exog is None else exog[rows], engine=engine)
                  if name in MODELS else model_function(name)(y[rows], horizon, m))
        mean[rows] = result.mean
        for r, why in zip(rows, result.params.get("reason", ())):
            if why:
                reasons[r] = f"{name}: {why}"
        if result.fitted is not None and result.spread is not None:
            fitted[rows] = result.fitted
            spread[rows] = result.spread
            has_fit[rows] = True

    # fallback chain (FALLBACK_CHAIN); a series without any observation: 0
    log = []
    no_history = ~(~np.isnan(y)).any(axis=1)
    for r in np.flatnonzero(no_history):
        log.append((r, names[r], "zero", "no observed period: every period is censored (out of stock) or missing"))
    mean[no_history], has_fit[no_history], names[no_history] = 0.0, False, "zero"
    bad = ~np.isfinite(mean).all(axis=1)
    while bad.any():
        for name in pd.unique(names[bad]):
            rows = np.flatnonzero(bad & (names == name))
            chain = FALLBACK_CHAIN[FALLBACK_CHAIN.index(name) + 1:] if name in FALLBACK_CHAIN else FALLBACK_CHAIN[1:]
            if not chain:                                      # the end of the chain: the last observed value
                fallback = baselines.historic_average(y[rows], horizon)
                chain = ("historic_average",)
            else:
                fallback = MODELS[chain[0]](y[rows], horizon, m)
            for r in rows:
                log.append((r, name, chain[0], reasons.get(r) or f"{name} gave no forecast"))
            mean[rows] = fallback.mean
            if fallback.fitted is not None and fallback.spread is not None:
                fitted[rows], spread[rows], has_fit[rows] = fallback.fitted, fallback.spread, True
            else:
                has_fit[rows] = False
            names[rows] = chain[0]
        reasons.clear()                                        # a model's own reasons hold for its first failure only
        bad = ~np.isfinite(mean).all(axis=1)
        if bad.any() and np.all(names[bad] == "historic_average"):
            mean[bad] = 0.0                                    # unreachable with an observation; never NaN
            break
    mean = np.maximum(mean, 0.0)
    values = _quantiles(y, mean, fitted, spread, has_fit, demand_class, quantiles)
    return mean, values, names, log


def _quantiles(y, mean, fitted, spread, has_fit, demand_class, quantiles) -> list[np.ndarray]:
    """Quantiles per series and horizon: empirical residuals or a count distribution (see ``forecast``).

    The count distribution is negative binomial with mean = the forecast mean and
    variance = d x mean, d the variance-to-mean ratio of the observed history
    (Poisson when d <= 1). Its quantiles are integers, so the closed interval
    [q_0.1, q_0.9] of a correct forecast covers more than 80% of outcomes (96% for
    Poisson(0.3)); judge calibration by the randomized PIT coverage
    (:func:`opslib.forecast.calibration.pit_interval_coverage`), which
    ``benchmarks/forecast_coverage.py`` reports per demand class.
    """
    residuals = y - fitted
    n_resid = (~np.isnan(residuals)).sum(axis=1)
    empirical = has_fit & (n_resid >= MIN_RESIDUALS) & np.isin(demand_class, _EMPIRICAL_CLASSES)

    observed = ~np.isnan(y)
    count = np.maximum(observed.sum(axis=1), 1)
    mu_hist = np.where(observed, y, 0.0).sum(axis=1) / count
    var_hist = np.where(observed, (y - mu_hist[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(count - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        dispersion = np.where(mu_hist > 0, var_hist / np.where(mu_hist > 0, mu_hist, 1.0), 1.0)
    dispersion = np.clip(np.nan_to_num(dispersion, nan=1.0), 1.0, None)[:, None]

    out = [np.zeros(mean.shape) for _ in quantiles]
    if empirical.any():
        q_resid = _row_nanquantiles(residuals[empirical], quantiles)           # (Q, n_emp)
        for k in range(len(quantiles)):
            out[k][empirical] = mean[empirical] + q_resid[k][:, None] * spread[empirical]
    counted = ~empirical[:, None] & (mean > 0)                                 # 0 where the mean is 0
    if counted.any():
        # count quantiles on the distinct (mean, dispersion) pairs only: flat forecasts repeat them h times
        d = np.broadcast_to(dispersion, mean.shape)
        pairs, inverse = np.unique(mean[counted] + 1j * d[counted], return_inverse=True)
        for k, q in enumerate(quantiles):
            out[k][counted] = _count_quantile(q, pairs.real, pairs.imag)[inverse.ravel()]
    return [np.maximum(np.nan_to_num(v, nan=0.0), 0.0) for v in out]


def _row_nanquantiles(values: np.ndarray, quantiles) -> np.ndarray:
    """``np.nanquantile(values, quantiles, axis=1)`` (linear interpolation), (Q, n), from one sort.

    NaN sort to the end of each row, so the j-th order statistic of a row's m observed values is its
    j-th column; the quantile q lies at index q (m - 1), interpolated linearly between its floor and
    the next column (numpy's ``lerp``). Rows without an observed value give NaN.
    """
    ordered = np.sort(values, axis=1)
    m = np.count_nonzero(~np.isnan(values), axis=1)
    rows = np.arange(values.shape[0])
    out = np.full((len(quantiles), values.shape[0]), np.nan)
    has = m > 0
    for k, q in enumerate(quantiles):
        index = q * (m[has] - 1)
        below = np.floor(index).astype(int)
        above = np.minimum(below + 1, m[has] - 1)
        t = index - below
        a, b = ordered[rows[has], below], ordered[rows[has], above]
        diff = b - a
        out[k, has] = np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
    return out


def _count_quantile(q: float, mean, dispersion) -> np.ndarray:
    """The q-quantile of the per-period count distribution of :func:`forecast` (smallest k with CDF(k) >= q).

    Parameters
    ----------
    q : float in (0, 1)
    mean : array-like, > 0
        Mean mu [units/period].
    dispersion : array-like, >= 1
        Variance-to-mean ratio d: negative binomial with r = mu / (d - 1), p = 1 / d when d > 1,
        Poisson(mu) otherwise.

    Returns
    -------
    numpy.ndarray of float
        Integers [units/period]; equal to ``scipy.stats.nbinom.ppf(q, r, p)`` or ``poisson.ppf(q, mu)``.

    Notes
    -----
    A bisection over the integers on the CDF (the same ``scipy.stats`` CDF that ``ppf`` checks
    against), all values at once: CDF(-1) = 0 < q, and Cantelli's inequality
    P(X <= mu + t sigma) >= t^2 / (1 + t^2) with t = sqrt(q / (1 - q)) gives an upper end whose CDF
    is at least q; about log2(mu + t sigma) CDF evaluations instead of one root search per value.
    """
    mu = np.asarray(mean, dtype=float)
    d = np.asarray(dispersion, dtype=float)
    nb = d > 1.0 + 1e-12
    r = mu / np.where(nb, d - 1.0, 1.0)
    p = 1.0 / np.where(nb, d, 2.0)
    sigma = np.sqrt(np.where(nb, d, 1.0) * mu)
    lo = np.full(mu.shape, -1.0)                                    # CDF(lo) < q
    hi = np.ceil(mu + np.sqrt(q / (1.0 - q)) * sigma)               # CDF(hi) >= q
    active = hi - lo > 1
    while active.any():
        i = np.flatnonzero(active)
        mid = np.floor((lo[i] + hi[i]) / 2)
        cdf = np.where(nb[i], stats.nbinom.cdf(mid, r[i], p[i]), stats.poisson.cdf(mid, mu[i]))
        reached = cdf >= q
        hi[i] = np.where(reached, mid, hi[i])
        lo[i] = np.where(reached, lo[i], mid)
        active[i] = hi[i] - lo[i] > 1
    return hi
