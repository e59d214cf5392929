"""Rolling-origin backtests, their accuracy, and model selection per SKU by backtest.

Every window runs each model once on all SKUs (the array engine of
:func:`opslib.forecast.core.forecast_arrays`), never a loop over SKUs.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

from opslib.errors import DataError
from opslib.forecast.classify import classify_demand
from opslib.forecast.core import AUTO_BY_CLASS, MODELS, forecast_arrays, quantile_column
from opslib.forecast.frequency import future_dates
from opslib.forecast.panel import to_panel

__all__ = ["backtest", "accuracy", "select_models", "selection_history", "Selection", "AUTO_CANDIDATES",
           "SELECTION_ERROR", "BACKTEST_QUANTILES", "COMPONENTS", "selection_windows", "STRATEGIES", "SEASONAL_CANDIDATES", "NONSEASONAL_CANDIDATES",
           "auto_candidates",
           "forward_combination"]

COMPONENTS: dict[str, tuple[str, ...]] = {"comb_shd": ("ses", "holt", "holt_damped")}
"""Combinations ``select_models`` builds from its members' forecasts instead of refitting them."""


def selection_history(horizon: int, season_length: int) -> int:
    """Trailing periods ``model="auto"`` fits on: max(4 horizon, 10 m, 100) [periods].

    Long enough for a smoothing state to forget its start (0.9^100 < 1e-4 at the
    smallest SES alpha of the M5 range) and to hold ten seasons; short enough
    that three years of daily history cost one year of fitting (90-day horizon: 360 days).
    """
    return max(4 * int(horizon), 10 * max(int(season_length), 1), 100)

BACKTEST_QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
"""Quantiles a backtest records by default: enough for the 80% and 95% interval coverage."""

AUTO_CANDIDATES: dict[str, tuple[str, ...]] = {
    "smooth": ("ses", "holt_damped", "theta", "comb_shd", "seasonal_naive"),
    "erratic": ("ses", "theta", "comb_shd", "seasonal_naive", "moving_average"),
    "intermittent": ("croston_sba", "tsb", "adida", "imapa", "ses"),
    "lumpy": ("croston_sba", "tsb", "adida", "imapa", "ses"),
    "discontinued": ("tsb", "ses"),
}
"""Models ``model="auto"`` compares per demand class; other classes use :data:`~opslib.forecast.core.AUTO_BY_CLASS`."""

SEASONAL_CANDIDATES: dict[str, tuple[str, ...]] = {"smooth": ("holt_winters",), "erratic": ("holt_winters",)}
"""Added to :data:`AUTO_CANDIDATES` on monthly and quarterly data (m = 12 or 4), where seasonality
evolves over the years; not on daily or weekly data, where the grid search would double the cost of
``auto`` at the 10,000-SKU size and the multiplicative guard refuses most SKUs (days without sales)."""


NONSEASONAL_CANDIDATES: dict[str, tuple[str, ...]] = {"smooth": ("drift",), "erratic": ("drift",)}
"""Added to :data:`AUTO_CANDIDATES` on data without a season (m = 1, e.g. yearly), where trends persist
over the few periods ahead: the random walk with drift. Judged on training data only (each Tourism
yearly training series cut by its last 4 years): ``auto`` MASE 3.085 -> 2.886 (per-series difference
-0.199, standard error 0.036). On seasonal data the non-seasonal drift did not help the same check
(Tourism quarterly +0.015, standard error 0.006; M3 monthly +0.05 sMAPE, standard error 0.09), so it is
not a candidate there."""


def auto_candidates(season_length: int) -> dict[str, tuple[str, ...]]:
    """The candidates of ``model="auto"`` per demand class for a season length.

    :data:`SEASONAL_CANDIDATES` are added on monthly and quarterly data, :data:`NONSEASONAL_CANDIDATES`
    on data without a season (m = 1).
    """
    extra = {4: SEASONAL_CANDIDATES, 12: SEASONAL_CANDIDATES, 1: NONSEASONAL_CANDIDATES}.get(int(season_length), {})
    return {c: names + extra.get(c, ()) for c, names in AUTO_CANDIDATES.items()}

SELECTION_ERROR: dict[str, str] = {
    "smooth": "rmsse", "erratic": "rmsse",
    "intermittent": "rmsse_cumulative", "lumpy": "rmsse_cumulative", "discontinued": "rmsse_cumulative",
}
"""The scale-free error ``select_models`` minimises per class.

``rmsse`` (the M5 measure) for smooth and erratic demand. For intermittent demand
``rmsse_cumulative``: the RMSSE of the *cumulative* demand over 1..h, the quantity
a stocking decision covers; both are minimised by the mean, so a flat zero, which
wins MAE-type errors on sparse series, loses here.
"""


class Selection(NamedTuple):
    """Per-series model choice.

    Attributes
    ----------
    model : numpy.ndarray of object, shape (n_series,)
        The chosen model name.
    errors : pandas.DataFrame
        One row per series (index: row number) and one column per candidate
        model: the selection error averaged over the windows (NaN: not a candidate).
    error_name : numpy.ndarray of str
        The error used for each series (``rmsse``, ``rmsse_cumulative`` or ``""`` when not selected by backtest).
    strategy : pandas.DataFrame or None
        One row per demand class selected with ``strategy="backtest"``: the
        strategy chosen (``select``, ``pool`` or a model name), the number of
        (series, window) pairs scored, and the nested out-of-sample score
        ``score_<option>`` of every option.
    """

    model: np.ndarray
    errors: pd.DataFrame
    error_name: np.ndarray
    strategy: pd.DataFrame | None = None


def _cutoffs(T: int, horizon: int, windows: int, step: int) -> list[int]:
    """Number of training periods of each window, oldest first; the last window ends at T."""
    return [T - horizon - k * step for k in range(windows - 1, -1, -1) if T - horizon - k * step >= 1]


def _scales(train: np.ndarray, season_length: int) -> tuple[np.ndarray, np.ndarray]:
    """(MASE scale, RMSSE scale) per row of a training array.

    MASE: in-sample mean |y_t - y_{t-m}| (seasonal naive; lag 1 when the series
    has no m-apart pair), as in M4 and Tourism. RMSSE: in-sample mean
    (y_t - y_{t-1})^2 from the first non-zero value on, as in M5.
    """
    def mean_diff(x, lag, power):
        d = np.abs(x[:, lag:] - x[:, :-lag]) ** power if x.shape[1] > lag else np.full((x.shape[0], 0), np.nan)
        ok = ~np.isnan(d)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ok.any(axis=1), np.where(ok, d, 0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1), np.nan)

    m = max(int(season_length), 1)
    mase_scale = mean_diff(train, m, 1)
    mase_scale = np.where(np.isnan(mase_scale), mean_diff(train, 1, 1), mase_scale)
    started = np.maximum.accumulate(np.nan_to_num(train) > 0, axis=1)
    rmsse_scale = mean_diff(np.where(started, train, np.nan), 1, 2)
    return mase_scale, rmsse_scale


def _check(horizon, windows, step):
    if int(horizon) != horizon or horizon < 1:
        raise DataError(f"backtest: horizon must be a positive whole number of periods; got {horizon!r}.")
    if int(windows) != windows or windows < 1:
        raise DataError(f"backtest: windows must be a positive whole number; got {windows!r}.")
    if step is not None and (int(step) != step or step < 1):
        raise DataError(f"backtest: step must be a positive whole number of periods or None; got {step!r}.")


def backtest(demand: pd.DataFrame, horizon: int, *, windows: int = 3, step: int | None = None,
             models: Sequence[str] = ("ses", "theta", "seasonal_naive"), quantiles=BACKTEST_QUANTILES,
             season_length: int | None = None, censor_stockouts: bool = True) -> pd.DataFrame:
    """Rolling-origin backtest: forecast from several past cut-offs and compare with what happened.

    Parameters
    ----------
    demand : pandas.DataFrame
        The canonical ``demand`` table (``sku, date, units``; ``in_stock`` used when present).
    horizon : int
        Periods forecast from each cut-off [periods of the table's frequency].
    windows : int, default 3
        Number of cut-offs. The last window's forecasts end on the last date.
    step : int, optional
        Periods between consecutive cut-offs; default ``horizon`` (non-overlapping windows).
    models : sequence of str, default ("ses", "theta", "seasonal_naive")
        Names of :data:`opslib.forecast.MODELS` (``"auto"`` included: re-selected in each window
        on that window's training data only).
    quantiles : sequence of float, default (0.025, 0.1, 0.5, 0.9, 0.975)
    season_length : int, optional
        Inferred from the dates when not given.
    censor_stockouts : bool, default True
        Censored periods are missing in training and are not scored.

    Returns
    -------
    pandas.DataFrame
        One row per SKU, window, model and horizon step: ``sku, window, cutoff,
        model, h, date, units`` (actual, NaN when censored), ``mean``, one ``pNN``
        column per quantile, ``error`` (mean - units), ``scale_mase`` and
        ``scale_rmsse`` (in-sample scales of the window's training data, see
        :func:`accuracy`), ``model_used`` (after fallbacks). Feed it to :func:`accuracy`.

    Raises
    ------
    opslib.DataError
        On a bad table, unknown model, or non-positive horizon, windows or step.
    """
    _check(horizon, windows, step)
    unknown = [m for m in models if m != "auto" and m not in MODELS]
    if unknown:
        raise DataError(f"backtest: unknown model(s) {unknown}; choose from 'auto' and {sorted(MODELS)}.")
    horizon = int(horizon)
    step = horizon if step is None else int(step)
    quantiles = tuple(float(q) for q in quantiles)
    panel = to_panel(demand, censor=censor_stockouts)
    y = panel.values
    n, T = y.shape
    m = int(season_length) if season_length is not None else panel.frequency.season_length
    cutoffs = _cutoffs(T, horizon, int(windows), step)
    if not cutoffs:
        raise DataError(f"backtest: {T} periods leave no training data for a horizon of {horizon}. "
                        "Fix: shorten the horizon or pass more history.")
    frames = []
    for w, c in enumerate(cutoffs):
        train, actual = y[:, :c], y[:, c:c + horizon]
        classes = classify_demand(train, season_length=m).demand_class
        scale_mase, scale_rmsse = _scales(train, m)
        dates = future_dates(panel.dates[c - 1], horizon, panel.frequency)
        for name in models:
            if name == "auto":
                names = select_models(train, horizon, season_length=m, demand_class=classes).model
            else:
                names = np.full(n, name, dtype=object)
            mean, values, used, _ = forecast_arrays(train, horizon, m, names, classes, quantiles)
            frame = pd.DataFrame({
                "sku": np.repeat(np.asarray(panel.skus, dtype=object), horizon),
                "window": w, "cutoff": panel.dates[c - 1], "model": name,
                "h": np.tile(np.arange(1, horizon + 1), n), "date": np.tile(dates.values, n),
                "units": actual.ravel(), "mean": mean.ravel()})
            for q, v in zip(quantiles, values):
                frame[quantile_column(q)] = v.ravel()
            frame["error"] = frame["mean"] - frame["units"]
            frame["scale_mase"] = np.repeat(scale_mase, horizon)
            frame["scale_rmsse"] = np.repeat(scale_rmsse, horizon)
            frame["model_used"] = np.repeat(used.astype(str), horizon)
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["sku"] = out["sku"].astype(demand["sku"].dtype)
    return out


def accuracy(backtest_frame: pd.DataFrame, *, by: Sequence[str] = ("sku", "model")) -> pd.DataFrame:
    """Accuracy metrics of a :func:`backtest` result, per group.

    Parameters
    ----------
    backtest_frame : pandas.DataFrame
        The output of :func:`backtest` (rows with a missing actual are not scored).
    by : sequence of str, default ("sku", "model")
        Grouping columns, e.g. ``("model",)`` for one row per model or
        ``("sku", "window", "model")`` for per-window errors.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``mase``, ``rmsse``, ``smape`` [percent], ``wape``
        [fraction], ``bias`` [units/period, positive = over-forecast],
        ``pinball`` [units/period, mean over the quantile columns present],
        ``coverage_80`` (p10..p90) and ``coverage_95`` (p2.5..p97.5) when those
        columns exist [fraction], and ``n`` (scored rows).

    Notes
    -----
    Over the rows r of a group, e = f - y:
    MASE = mean(|e_r| / s_r), RMSSE = sqrt(mean(e_r^2 / q_r)) with s_r the
    in-sample seasonal-naive MAE and q_r the in-sample naive MSE of the row's
    training data (:func:`backtest` records them); for one SKU and window these
    are Hyndman and Koehler's MASE and the M5 RMSSE. sMAPE = mean(200 |e| / (|y| + |f|)),
    0/0 counted as 0; WAPE = sum |e| / sum |y|; pinball loss of quantile tau
    mean(max(tau (y - q), (tau - 1)(y - q))). A zero scale gives inf.
    """
    frame = backtest_frame[backtest_frame["units"].notna()]
    e, y, f = frame["error"].to_numpy(), frame["units"].to_numpy(), frame["mean"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = np.abs(y) + np.abs(f)
        terms = pd.DataFrame({
            "mase": np.abs(e) / frame["scale_mase"].to_numpy(),
            "rmsse": e * e / frame["scale_rmsse"].to_numpy(),
            "smape": np.where(denom > 0, 200 * np.abs(e) / np.where(denom > 0, denom, 1), 0.0),
            "abs_error": np.abs(e), "abs_units": np.abs(y), "bias": e,
        }, index=frame.index)
    qcols = [c for c in frame.columns if c.startswith("p") and _is_quantile(c)]
    if qcols:
        losses = []
        for c in qcols:
            tau = float(c[1:]) / 100
            d = y - frame[c].to_numpy()
            losses.append(np.maximum(tau * d, (tau - 1) * d))
        terms["pinball"] = np.mean(losses, axis=0)
    for level, lo, hi in ((80, "p10", "p90"), (95, "p2.5", "p97.5")):
        if lo in frame.columns and hi in frame.columns:
            terms[f"coverage_{level}"] = ((y >= frame[lo].to_numpy()) & (y <= frame[hi].to_numpy())).astype(float)
    for col in by:
        terms[col] = frame[col].to_numpy()
    grouped = terms.groupby(list(by), sort=True, observed=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = grouped.mean()
        sums = grouped[["abs_error", "abs_units"]].sum()
        out["rmsse"] = np.sqrt(out["rmsse"])
        out["wape"] = np.where(sums["abs_units"] > 0, sums["abs_error"] / sums["abs_units"].where(
            sums["abs_units"] > 0, 1.0), np.nan)
    out["n"] = grouped.size()
    columns = ["mase", "rmsse", "smape", "wape", "bias"] + [c for c in ("pinball", "coverage_80", "coverage_95")
                                                          if c in out.columns] + ["n"]
    return out[columns].reset_index()


def _is_quantile(column: str) -> bool:
    try:
        return 0 < float(column[1:]) < 100
    except ValueError:
        return False


def selection_windows(horizon: int, season_length: int) -> tuple[int, int]:
    """``(windows, step)`` of ``model="auto"``'s selection backtest [count, periods].

    Daily data (m = 7, thousands of SKUs): 2 windows ``horizon`` apart, the cost
    of the 10,000-SKU interactive size. Other frequencies (monthly, quarterly,
    yearly panels of a few hundred series with short histories): 6 windows
    ceil(horizon / 2) apart, so that a choice rests on six forecast origins
    and the choice of strategy is checked on five of them (the standard error
    of a mean backtest error falls as 1/sqrt(windows)). Six rather than four
    was checked on training data only (the last horizon of each training series
    held out, ``auto`` run on the rest): Tourism quarterly MASE 1.977 -> 1.940,
    monthly 1.863 -> 1.859, M3 monthly sMAPE 14.32 -> 14.32.
    """
    horizon, m = int(horizon), int(season_length)
    if m == 7:
        return 2, horizon
    return 6, max(1, -(-horizon // 2))


STRATEGIES = ("select", "pool", "combine")
"""Strategies ``select_models`` compares with each fixed candidate (see its Notes): per-series
selection, per-series one-standard-error pool, and one class-wide combination (:func:`forward_combination`)."""


def forward_combination(forecasts: np.ndarray, actuals: np.ndarray, scales: np.ndarray,
                        cumulative: np.ndarray) -> np.ndarray:
    """The members of one equal-weight combination for a whole demand class, by forward selection.

    Parameters
    ----------
    forecasts : numpy.ndarray, shape (n_windows, n_series, n_models, horizon)
        Backtest forecasts; NaN where a model was not run (or refused the series).
    actuals : numpy.ndarray, shape (n_windows, n_series, horizon)
    scales : numpy.ndarray, shape (n_windows, n_series)
        RMSSE scale of each series' training data in each window.
    cumulative : numpy.ndarray of bool, shape (n_series,)
        Score the cumulative demand (intermittent classes), see :data:`SELECTION_ERROR`.

    Returns
    -------
    numpy.ndarray of bool, shape (n_models,)
        Members: starting from the model with the smallest mean error over all
        (window, series) pairs, add the model whose inclusion most lowers the
        mean error of the equal-weight mean forecast (each series averaging the
        members it has), while it lowers it. All False without a scored pair.

    Notes
    -----
    Forward selection of an ensemble [1] on the backtest of the whole class,
    not of one series: hundreds of (series, window) pairs estimate the error of
    a combination far more steadily than the few windows of one series, and a
    member that is weak alone but errs differently (seasonal naive next to
    Theta) can still lower the error of the mean [2].

    References
    ----------
    .. [1] Caruana, R., Niculescu-Mizil, A., Crew, G., Ksikes, A. (2004). Ensemble selection from
       libraries of models. ICML.
    .. [2] Bates, J.M., Granger, C.W.J. (1969). The combination of forecasts. Operational Research
       Quarterly 20(4), 451-468.
    """
    W, n, K, H = forecasts.shape
    chosen = np.zeros(K, dtype=bool)
    if W == 0 or n == 0:
        return chosen
    total = np.zeros((W, n, H))
    count = np.zeros((W, n, 1))
    flat_actual, flat_scale = actuals.reshape(W * n, H), scales.reshape(W * n)
    flat_cumulative = np.tile(cumulative, W)
    best = np.inf
    while not chosen.all():
        trial = np.full(K, np.inf)
        for k in np.flatnonzero(~chosen):
            f = forecasts[:, :, k]
            has = np.isfinite(f).all(axis=2, keepdims=True)
            if not has.any():
                continue
            c = count + has
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(c > 0, (total + np.where(has, f, 0.0)) / np.maximum(c, 1), np.nan)
            err = _window_error(mean.reshape(W * n, H), flat_actual, flat_scale, flat_cumulative)
            if np.isfinite(err).any():
                trial[k] = np.nanmean(err)
        k = int(np.argmin(trial))
        if not np.isfinite(trial[k]) or trial[k] >= best:
            break
        best = trial[k]
        chosen[k] = True
        has = np.isfinite(forecasts[:, :, k]).all(axis=2, keepdims=True)
        total += np.where(has, forecasts[:, :, k], 0.0)
        count += has
    return chosen


def _window_error(mean, actual, scale, cumulative) -> np.ndarray:
    """RMSSE (or RMSSE of cumulative demand where ``cumulative``) of each row; NaN where unscorable."""
    err = np.maximum(mean, 0.0) - actual
    missing = np.isnan(actual)
    err = np.where(missing, 0.0, err)
    scored = (~missing).sum(axis=1)
    sq = np.where(cumulative[:, None], np.cumsum(err, axis=1) ** 2, err ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.sqrt(sq.sum(axis=1) / np.maximum(scored, 1) / scale)
    return np.where(np.isfinite(value) & (scored > 0), value, np.nan)


def _pick(strategy, errors: np.ndarray, combined: np.ndarray | None = None) -> np.ndarray:
    """Boolean (n, K) members per row of a strategy, from per-window errors (W, n, K).

    ``combined``: the class-wide members of "combine" (:func:`forward_combination`); each row
    keeps those it has an error for."""
    W, n, K = errors.shape
    if strategy == "combine":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.isfinite(np.nanmean(errors, axis=0)) & combined[None, :]
    if strategy == "pool":
        from opslib.forecast.combine import one_standard_error_pool

        return one_standard_error_pool(errors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(errors, axis=0)
    finite = np.isfinite(mean)
    out = np.zeros((n, K), dtype=bool)
    if strategy == "select":
        best = np.argmin(np.where(finite, mean, np.inf), axis=1)
        rows = np.flatnonzero(finite.any(axis=1))
        out[rows, best[rows]] = True
    else:                                                         # a fixed candidate (column index)
        out[:, strategy] = finite[:, strategy]
    return out


def select_models(y, horizon: int, *, season_length: int, demand_class=None, windows: int | None = None,
                  step: int | None = None, candidates: dict[str, Sequence[str]] | None = None,
                  history: int | None = None, strategy: str = "backtest") -> Selection:
    """Choose a model (or a pool of models to average) per series by rolling-origin backtest.

    Parameters
    ----------
    y : numpy.ndarray, shape (n_series, n_periods)
        History; NaN = not observed.
    horizon : int
    season_length : int
    demand_class : array-like of str, optional
        Class per series (:func:`opslib.forecast.classify_demand` of ``y`` when not given).
    windows : int, optional
        Default from :func:`selection_windows` (2 for daily data, 6 otherwise).
    step : int, optional
        Periods between cut-offs; default from :func:`selection_windows` (``horizon``
        for daily data, ceil(horizon / 2) otherwise) when ``windows`` is not given,
        else ``horizon``.
    candidates : dict, optional
        Class -> candidate model names; default :func:`auto_candidates` (:data:`AUTO_CANDIDATES`,
        plus :data:`SEASONAL_CANDIDATES` on monthly and quarterly data). A class
        not listed uses :data:`~opslib.forecast.core.AUTO_BY_CLASS`.
    history : int, optional
        Each window trains on its last ``history`` periods only; default
        :func:`selection_history`. Pass ``y.shape[1]`` to train on everything.
    strategy : {"backtest", "select", "pool", "combine"}, default "backtest"
        ``"select"``: per series the candidate with the smallest mean error.
        ``"pool"``: per series the mean of the candidates within one standard
        error of the best (:func:`opslib.forecast.combine.one_standard_error_pool`).
        ``"combine"``: for every series of a class the mean of the same members,
        chosen by forward selection on the backtest of the whole class
        (:func:`forward_combination`).
        ``"backtest"``: per demand class, whichever of "select", "pool", "combine" and each
        single candidate for every series of the class did best out of sample
        in the backtest itself (see Notes).

    Returns
    -------
    Selection
        ``model`` holds a :data:`~opslib.forecast.core.MODELS` name or, for a
        pool, a combination name such as ``"mean(theta+comb_shd)"`` (run by
        :func:`opslib.forecast.core.model_function`).

    Notes
    -----
    For each window (cut-offs as in :func:`backtest`) each candidate model runs
    once on all series that list it, and its error (:data:`SELECTION_ERROR`)
    is recorded per window. A combination of :data:`COMPONENTS` is the mean of
    its members' forecasts of the same window (each member fitted once).

    The choice of strategy ("backtest") is itself made out of sample, by a
    nested rolling origin: for each window w >= 1, every strategy chooses from
    windows 0..w-1 only and is scored on window w (a pool by the error of the
    pooled mean forecast); the strategy with the smallest mean score over the
    series of the class and those windows wins (ties: the order "select",
    "pool", "combine", then the candidates), except that "pool" is preferred to
    "select" or a single candidate whenever its mean score exceeds the best's by
    at most one standard error of their paired differences (the
    one-standard-error rule again: when the backtest cannot tell them apart,
    the combination is the safer bet). It is then applied with all windows. A
    per-series choice adapts to each series but is noisy on a few windows; a
    single model or a pool for all is steadier; the backtest decides which
    matters more for the panel at hand.

    A series whose every window lacks training data (or whose scale is zero)
    keeps the class default. The windows are only used for selection:
    :func:`opslib.forecast.forecast` then refits the choice on the trailing
    ``history`` periods up to the last one.
    """
    from opslib.forecast.combine import combination_name, combine

    y = np.asarray(y, dtype=float)
    n, T = y.shape
    m = int(season_length)
    horizon = int(horizon)
    if strategy not in ("backtest",) + STRATEGIES:
        raise DataError(f"select_models: strategy must be 'backtest', 'select', 'pool' or 'combine'; "
                        f"got {strategy!r}.")
    if windows is None:
        windows, default_step = selection_windows(horizon, m)
        step = default_step if step is None else int(step)
    step = horizon if step is None else int(step)
    if demand_class is None:
        demand_class = classify_demand(y, season_length=m).demand_class
    demand_class = np.asarray(demand_class).astype(str)
    candidates = auto_candidates(m) if candidates is None else candidates
    default = np.array([AUTO_BY_CLASS.get(c, "ses") for c in demand_class], dtype=object)
    all_models = list(dict.fromkeys(name for names in candidates.values() for name in names))
    K = len(all_models)
    rows_of = {name: np.flatnonzero(np.isin(demand_class, [c for c, ms in candidates.items() if name in ms]))
               for name in all_models}
    error_name = np.array([SELECTION_ERROR.get(c, "") if c in candidates else "" for c in demand_class])
    cumulative_all = error_name == "rmsse_cumulative"
    history = selection_history(horizon, m) if history is None else int(history)
    cutoffs = _cutoffs(T, horizon, int(windows), step)
    W = len(cutoffs)
    per_window = np.full((W, n, K), np.nan)                       # error of each candidate per window
    forecasts = np.full((W, n, K, horizon), np.nan)               # their forecasts (to score pools)
    actuals, scales = np.full((W, n, horizon), np.nan), np.full((W, n), np.nan)

    for w, c in enumerate(cutoffs):
        train, actual = y[:, max(0, c - history):c], y[:, c:c + horizon]
        observed_before = (~np.isnan(train)).sum(axis=1)
        _, scale = _scales(train, m)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, np.nan)
        actuals[w], scales[w] = actual, scale
        # rows each model runs on: its own candidates plus those of the combinations it is a member of
        need = {name: rows_of[name][observed_before[rows_of[name]] >= 2] for name in all_models}
        for combo, members in COMPONENTS.items():
            if combo in need:
                for member in members:
                    need[member] = np.union1d(need.get(member, np.array([], dtype=int)), need[combo])
        raw = {}
        for name, rows in need.items():
            if name in COMPONENTS or len(rows) == 0:
                continue
            raw[name] = (rows, MODELS[name](train[rows], horizon, m))
        for combo, members in COMPONENTS.items():
            if combo in need and len(need[combo]):
                rows = need[combo]
                parts = [raw[k][1]._replace(mean=raw[k][1].mean[np.searchsorted(raw[k][0], rows)], fitted=None,
                                            spread=None) for k in members]
                raw[combo] = (rows, combine(parts))
        for k, name in enumerate(all_models):
            rows = rows_of[name]
            rows = rows[observed_before[rows] >= 2]
            if len(rows) == 0 or name not in raw:
                continue
            have, result = raw[name]
            mean = np.maximum(result.mean[np.searchsorted(have, rows)], 0.0)
            forecasts[w, rows, k] = mean
            per_window[w, rows, k] = _window_error(mean, actual[rows], scale[rows], cumulative_all[rows])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        errors = np.nanmean(per_window, axis=0) if W else np.full((n, K), np.nan)
    for k, name in enumerate(all_models):
        not_candidate = np.ones(n, dtype=bool)
        not_candidate[rows_of[name]] = False
        errors[not_candidate, k] = np.nan

    # which strategy per class: nested out-of-sample score (choose on windows < w, score on window w)
    used = {}
    report = []
    for cls in [c for c in candidates if np.any(demand_class == c)]:
        rows = np.flatnonzero(demand_class == cls)
        options = list(STRATEGIES) + [all_models.index(k) for k in candidates[cls]]
        labels = list(STRATEGIES) + list(candidates[cls])
        if strategy != "backtest":
            used[cls] = strategy
            continue
        scores = np.full((len(options), W, len(rows)), np.nan)
        for w in range(1, W):
            past = per_window[:w][:, rows]
            combined = forward_combination(forecasts[:w][:, rows], actuals[:w][:, rows], scales[:w][:, rows],
                                           cumulative_all[rows])
            for j, option in enumerate(options):
                members = _pick(option, past, combined)
                count = members.sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    pooled = (np.where(members[:, :, None], np.nan_to_num(forecasts[w][rows]), 0.0).sum(axis=1)
                              / count[:, None])
                value = _window_error(pooled, actuals[w][rows], scales[w][rows], cumulative_all[rows])
                scores[j, w] = np.where(count > 0, value, np.nan)
        ok = np.isfinite(scores).all(axis=0)                        # (W, rows): scored by every option
        if ok.any():
            mean_score = np.array([scores[j][ok].mean() for j in range(len(options))])
            best = int(np.argmin(mean_score))
            pool = options.index("pool")
            d = scores[pool][ok] - scores[best][ok]
            if options[best] != "combine" and len(d) >= 2 and d.mean() <= d.std(ddof=1) / np.sqrt(len(d)):
                best = pool                                     # within noise of the best: combine
        else:
            mean_score, best = np.full(len(options), np.nan), 0
        used[cls] = options[best]
        report.append({"demand_class": cls, "strategy": labels[best], "n_scored": int(ok.sum()),
                       **{f"score_{label}": float(v) for label, v in zip(labels, mean_score)}})

    chosen = default.copy()
    masked = np.where(np.isfinite(errors)[None], per_window, np.nan)
    for cls, option in used.items():
        rows = np.flatnonzero(demand_class == cls)
        combined = (forward_combination(forecasts[:, rows], actuals[:, rows], scales[:, rows], cumulative_all[rows])
                    if option == "combine" else None)
        members = _pick(option, masked[:, rows], combined)
        for i, row in enumerate(rows):
            picked = np.flatnonzero(members[i])
            if len(picked):
                chosen[row] = combination_name([all_models[k] for k in picked])
    evaluated = np.isfinite(errors).any(axis=1)
    error_name = np.where(evaluated, error_name, "")
    strategy_table = pd.DataFrame(report, columns=None if report else ["demand_class", "strategy", "n_scored"])
    return Selection(chosen.astype(object), pd.DataFrame(errors, columns=all_models), error_name, strategy_table)
