"""Post-event evaluation: realized lift of a promotion against a counterfactual baseline.

In the style of CausalImpact (Brodersen et al. 2015): a structural time-series
model (statsmodels ``UnobservedComponents``: local level + weekly seasonal,
optional regressors) is fitted on the daily units of the promoted SKUs before
the promotion, forecast over the window as the counterfactual, and compared
with what sold. The interval of the lift comes from simulating the
counterfactual (state and observation noise) from the end of the pre-period.

References
----------
.. [1] Brodersen, Gallusser, Koehler, Remy & Scott (2015). Inferring causal
   impact using Bayesian structural time-series models. *Annals of Applied
   Statistics* 9(1), 247-274.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = ["PromotionEvaluation", "evaluate_promotion", "WapeComparison", "paired_wape_bootstrap"]


def _fail(parameter: str, rule: str, received, fix: str):
    raise DataError(f"evaluate_promotion: parameter {parameter!r} {rule}; received {received!r}. Fix: {fix}")


@dataclass(frozen=True)
class PromotionEvaluation:
    """Realized effect of one promotion (see :func:`evaluate_promotion`).

    Attributes
    ----------
    daily : pandas.DataFrame
        ``date``, ``units`` (actual), ``baseline`` (counterfactual mean),
        ``baseline_lower``, ``baseline_upper`` (its prediction interval) and
        ``lift_units`` [units/day] over the pre-period (fitted, one step
        ahead) and the window (``in_window``).
    actual_units, baseline_units : float
        Window totals [units].
    incremental_units, incremental_units_lower, incremental_units_upper : float
        ``actual - baseline`` over the window and its interval [units].
    lift, lift_lower, lift_upper : float
        ``actual / baseline - 1`` and its interval [fraction].
    incremental_margin, incremental_margin_lower, incremental_margin_upper : float
        Realized incremental margin [currency] when costs were given, else NaN.
    spend : float
        Discount borne on all window units plus the fixed cost [currency].
    roi, roi_lower, roi_upper : float
        ``incremental_margin / spend`` [fraction].
    level : float
        Interval coverage.
    skus : tuple of str
    start, end : pandas.Timestamp
    """

    daily: pd.DataFrame
    actual_units: float
    baseline_units: float
    incremental_units: float
    incremental_units_lower: float
    incremental_units_upper: float
    lift: float
    lift_lower: float
    lift_upper: float
    incremental_margin: float
    incremental_margin_lower: float
    incremental_margin_upper: float
    spend: float
    roi: float
    roi_lower: float
    roi_upper: float
    level: float
    skus: tuple
    start: pd.Timestamp
    end: pd.Timestamp


def _target(target, promotions, items, demand):
    if isinstance(target, str):
        if promotions is None:
            _fail("promotions", "is needed to look up a promo_id", target,
                  "pass promotions=workspace.promotions, or (skus, start, end).")
        row = promotions.loc[promotions["promo_id"] == target]
        if row.empty:
            _fail("promotion", "must be a promo_id of the promotions table", target, "check the promo_id.")
        row = row.iloc[0]
        scope = str(row["scope"])
        kind, _, rest = scope.partition(":")
        all_skus = pd.unique(demand["sku"])
        if scope == "all":
            skus = list(all_skus)
        elif kind == "sku":
            skus = [s for s in rest.split("|") if s]
        elif kind == "category":
            if items is None:
                _fail("items", f"is needed for the scope {scope!r}", None, "pass items=workspace.items.")
            cats = rest.split("|")
            skus = items.loc[items["category"].astype(str).isin(cats), "sku"].tolist()
        else:
            _fail("promotion", "has an unknown scope", scope, "use all, category:<c> or sku:<a>|<b>.")
        return skus, pd.Timestamp(row["start"]), pd.Timestamp(row["end"]), row
    try:
        skus, start, end = target
    except (TypeError, ValueError):
        _fail("promotion", "must be a promo_id or (skus, start, end)", target, 'pass ("A1", "2024-06-01", ...).')
    skus = [skus] if isinstance(skus, str) else list(skus)
    return skus, pd.Timestamp(start), pd.Timestamp(end), None


def evaluate_promotion(demand: pd.DataFrame, promotion, *, pre_days: int = 112, promotions: pd.DataFrame | None = None,
                       items: pd.DataFrame | None = None, depth: float | None = None, funding_share: float | None = None,
                       fixed_cost: float | None = None, exog: pd.DataFrame | None = None, level: float = 0.9, mask_share: float = 0.2,
                       draws: int = 2000, seed: int = 0) -> PromotionEvaluation:
    """Realized lift, incremental units, margin and ROI of one promotion.

    Parameters
    ----------
    demand : pandas.DataFrame
        Daily ``demand`` table: ``sku``, ``date``, ``units``; ``in_stock``
        and ``promo_id`` are read when present (see ``mask_share``).
    promotion : str or (skus, start, end)
        A ``promo_id`` of ``promotions`` or the SKUs and window (inclusive).
    pre_days : int
        Days before ``start`` the baseline is fitted on [days]; at least 28.
    promotions, items : pandas.DataFrame, optional
        The ``promotions`` table (to look up a promo_id, its depth, funding
        share and fixed cost) and the ``items`` table (``unit_cost``,
        ``price`` [currency/unit], and ``category`` for a category scope).
    depth, funding_share, fixed_cost : float, optional
        Override the promotion's depth [fraction off], funding share
        [fraction] and fixed cost [currency].
    exog : pandas.DataFrame, optional
        Regressors indexed by date covering the pre-period and the window
        (e.g. traffic not caused by the promotion).
    level : float
        Coverage of the intervals.
    mask_share : float
        A pre-period day is left out of the fit (missing in the Kalman
        filter) when more than this share of the SKUs is out of stock or on
        another promotion [fraction]; 0 masks a day for any one SKU.
    draws : int
        Simulated counterfactual paths for the intervals.
    seed : int

    Returns
    -------
    PromotionEvaluation

    Notes
    -----
    The summed units of the SKUs follow ``y_t = mu_t + s_t + x_t' b + e_t``,
    ``mu_t`` a random walk and ``s_t`` a weekly seasonal; fitted by maximum
    likelihood on the pre-period, then the window's paths are simulated from
    the end of the pre-period (state uncertainty and noise; parameter
    uncertainty is not included, so intervals are somewhat narrow, as in
    CausalImpact's plug-in variant). Incremental margin, unit-weighted over
    the SKUs: ``Q (p (1 - d (1 - a)) - c) - B (p - c)``, ``Q`` actual, ``B``
    baseline units; spend ``= Q p d (1 - a) + fixed_cost``.
    """
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    for column in ("sku", "date", "units"):
        if column not in demand.columns:
            _fail("demand", f"must have the column {column!r}", list(demand.columns),
                  "pass the daily demand table (opslib.data.daily_demand).")
    skus, start, end, row = _target(promotion, promotions, items, demand)
    if end < start:
        _fail("promotion", "must end on or after its start", (str(start), str(end)), "check the dates.")
    if pre_days < 28:
        _fail("pre_days", "must be at least 28 (four weeks for the weekly seasonal)", pre_days, "pass e.g. 112.")
    frame = demand.loc[demand["sku"].isin(skus)]
    if frame.empty:
        _fail("promotion", "has no SKU in demand", skus[:5], "check the SKUs against demand.")
    dates = pd.date_range(start - pd.Timedelta(days=pre_days), end, freq="D")
    d = pd.to_datetime(frame["date"])
    frame = frame.loc[(d >= dates[0]) & (d <= dates[-1])]
    units = frame.groupby(pd.to_datetime(frame["date"]))["units"].sum().reindex(dates, fill_value=0.0)
    # a pre-period day is masked when more than mask_share of the SKUs are out of stock or on another promotion
    flag = pd.Series(False, index=frame.index)
    if "in_stock" in frame.columns:
        flag |= ~frame["in_stock"].fillna(True).astype(bool)
    if "promo_id" in frame.columns:
        flag |= frame["promo_id"].notna()
    masked = (flag.groupby(pd.to_datetime(frame["date"])).mean() > mask_share).reindex(dates, fill_value=False)
    pre = dates < start
    y = units[pre].astype(float).copy()
    y[masked[pre]] = np.nan
    if y.notna().sum() < 28:
        _fail("pre_days", "leaves fewer than 28 clean days before the start", int(y.notna().sum()),
              "lengthen pre_days or check stock-outs and other promotions before the start.")
    x_pre = x_win = None
    if exog is not None:
        x = exog.reindex(dates)
        if x.isna().any().any():
            _fail("exog", "must cover every day of the pre-period and the window", None, "fill the regressors.")
        x_pre, x_win = x[pre].to_numpy(float), x[~pre].to_numpy(float)
    model = UnobservedComponents(y.to_numpy(), level="local level", seasonal=7, exog=x_pre)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(disp=False, maxiter=200)
    h = int((~pre).sum())
    forecast = fit.get_forecast(h, exog=x_win)
    mean = np.asarray(forecast.predicted_mean)
    band = np.asarray(forecast.conf_int(alpha=1 - level))
    paths = np.asarray(fit.simulate(h, anchor="end", repetitions=draws, exog=x_win,
                                    rng=np.random.default_rng(seed))).reshape(h, -1)
    actual = units[~pre].to_numpy(float)
    totals = paths.sum(axis=0)
    q = [(1 - level) / 2, (1 + level) / 2]
    lo_b, hi_b = np.quantile(totals, q)
    base = float(mean.sum())
    act = float(actual.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        lift_draws = act / np.where(totals > 0, totals, np.nan) - 1
    pre_pred = np.asarray(fit.fittedvalues)
    daily = pd.DataFrame({
        "date": dates, "units": units.to_numpy(float), "in_window": ~pre,
        "baseline": np.r_[pre_pred, mean],
        "baseline_lower": np.r_[np.full(int(pre.sum()), np.nan), band[:, 0]],
        "baseline_upper": np.r_[np.full(int(pre.sum()), np.nan), band[:, 1]],
    })
    daily["lift_units"] = daily["units"] - daily["baseline"]

    # economics
    margin = margin_lo = margin_hi = spend = roi = roi_lo = roi_hi = np.nan
    if items is not None and {"unit_cost", "price"} <= set(items.columns):
        def pick(value, name, default):
            if value is not None:
                return float(value)
            if row is not None and name in row.index and pd.notna(row[name]):
                return float(row[name])
            return default
        dd = pick(depth, "depth", np.nan)
        a = pick(funding_share, "funding_share", 0.0)
        fixed = pick(fixed_cost, "fixed_cost", 0.0)
        if not np.isfinite(dd):
            _fail("depth", "is needed for the margin (not in the promotion row)", None, "pass depth=0.2.")
        win = frame.loc[pd.to_datetime(frame["date"]) >= start].groupby("sku")["units"].sum()
        weights = win.reindex(skus, fill_value=0.0)
        weights = weights / weights.sum() if weights.sum() > 0 else pd.Series(1 / len(skus), index=skus)
        it = items.set_index("sku").reindex(skus)
        price = float((it["price"] * weights).sum())
        cost = float((it["unit_cost"] * weights).sum())
        promo_margin = price * (1 - dd * (1 - a)) - cost
        spend = act * price * dd * (1 - a) + fixed
        margins = act * promo_margin - totals * (price - cost) - fixed
        margin = act * promo_margin - base * (price - cost) - fixed
        margin_lo, margin_hi = np.quantile(margins, q)
        roi = margin / spend if spend > 0 else np.nan
        roi_lo, roi_hi = (margin_lo / spend, margin_hi / spend) if spend > 0 else (np.nan, np.nan)
    return PromotionEvaluation(
        daily=daily, actual_units=act, baseline_units=base, incremental_units=act - base,
        incremental_units_lower=float(act - hi_b), incremental_units_upper=float(act - lo_b),
        lift=act / base - 1 if base > 0 else np.nan,
        lift_lower=float(np.nanquantile(lift_draws, q[0])), lift_upper=float(np.nanquantile(lift_draws, q[1])),
        incremental_margin=float(margin), incremental_margin_lower=float(margin_lo),
        incremental_margin_upper=float(margin_hi), spend=float(spend), roi=float(roi), roi_lower=float(roi_lo),
        roi_upper=float(roi_hi), level=level, skus=tuple(skus), start=start, end=end)


@dataclass(frozen=True)
class WapeComparison:
    """Result of :func:`paired_wape_bootstrap`.

    Attributes
    ----------
    wape, wape_reference : float
        ``sum |predicted - actual| / sum actual`` of the model and of the
        reference [fraction].
    difference : float
        ``wape - wape_reference`` (negative: the model is better) [fraction].
    difference_lower, difference_upper : float
        Percentile interval of the difference over the bootstrap draws.
    probability_better : float
        Share of draws in which the model's WAPE is below the reference's.
    windows, groups : int
        Rows compared and resampled clusters.
    level : float
    """

    wape: float
    wape_reference: float
    difference: float
    difference_lower: float
    difference_upper: float
    probability_better: float
    windows: int
    groups: int
    level: float


def paired_wape_bootstrap(actual, predicted, reference, *, groups=None, draws: int = 2000, level: float = 0.95,
                          seed: int = 0) -> WapeComparison:
    """Paired (cluster) bootstrap of the WAPE difference of two forecasts of the same windows.

    Parameters
    ----------
    actual : array-like
        Units that sold in each held-out window [units] (or any additive
        quantity, e.g. sales), at least one positive.
    predicted, reference : array-like
        The two forecasts of each window, same length as ``actual``, finite.
    groups : array-like, optional
        Cluster of each window (e.g. the SKU or series): whole clusters are
        resampled, so that windows of one series, whose errors are
        correlated, count once. Default: each window is its own cluster.
    draws : int, default 2000
    level : float, default 0.95
        Coverage of the percentile interval.
    seed : int, default 0

    Returns
    -------
    WapeComparison

    Raises
    ------
    opslib.DataError
        When lengths differ, a value is not finite, ``actual`` sums to 0 or
        ``level`` is outside (0, 1).

    Notes
    -----
    ``WAPE = sum_i |f_i - y_i| / sum_i y_i``. Each draw resamples the
    clusters with replacement, the same clusters for both forecasts (paired),
    and recomputes both ratios; the interval is the percentile interval of
    the difference (Efron & Tibshirani 1993, ch. 13). Per-cluster sums are
    formed once, so a draw costs one matrix product.

    References
    ----------
    .. [1] Efron & Tibshirani (1993), An Introduction to the Bootstrap,
       chapters 6 and 13.
    """
    y = np.asarray(actual, float)
    f = np.asarray(predicted, float)
    r = np.asarray(reference, float)
    if not (len(y) == len(f) == len(r)) or len(y) == 0:
        raise DataError(f"paired_wape_bootstrap: parameters 'actual', 'predicted' and 'reference' must have the same, "
                        f"non-zero length; received {len(y)}, {len(f)}, {len(r)}. Fix: align the three on the windows.")
    if not (np.isfinite(y).all() and np.isfinite(f).all() and np.isfinite(r).all()):
        raise DataError("paired_wape_bootstrap: parameters 'actual', 'predicted', 'reference' must be finite; NaN or "
                        "inf received. Fix: drop the windows a forecast does not cover (for both forecasts).")
    if y.sum() <= 0:
        raise DataError(f"paired_wape_bootstrap: parameter 'actual' must sum to more than 0; received {y.sum()!r}. "
                        "Fix: compare on windows that sold.")
    if not 0 < level < 1:
        raise DataError(f"paired_wape_bootstrap: parameter 'level' must be in (0, 1); received {level!r}. "
                        "Fix: pass e.g. 0.95.")
    codes = np.arange(len(y)) if groups is None else pd.factorize(np.asarray(groups))[0]
    n_groups = int(codes.max()) + 1
    sums = np.column_stack([np.bincount(codes, weights=w, minlength=n_groups)
                            for w in (y, np.abs(f - y), np.abs(r - y))])
    rng = np.random.default_rng(seed)
    counts = np.zeros((draws, n_groups))
    picks = rng.integers(0, n_groups, size=(draws, n_groups))
    np.add.at(counts, (np.repeat(np.arange(draws), n_groups), picks.ravel()), 1.0)
    total = counts @ sums
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = (total[:, 1] - total[:, 2]) / total[:, 0]
    diff = diff[np.isfinite(diff)]
    wape, wape_ref = sums[:, 1].sum() / y.sum(), sums[:, 2].sum() / y.sum()
    lower, upper = np.quantile(diff, [(1 - level) / 2, (1 + level) / 2])
    return WapeComparison(float(wape), float(wape_ref), float(wape - wape_ref), float(lower), float(upper),
                          float((diff < 0).mean()), len(y), n_groups, level)
