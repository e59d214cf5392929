"""Category and total forecasts coherent with the SKU forecasts (hierarchical reconciliation).

A hierarchy is total -> one or more grouping levels (e.g. ``category``) -> SKU,
written as a summing matrix S (Hyndman et al. 2011): every series is a sum of
SKUs, y = S b. A forecast is coherent when its aggregate means are exactly the
sums of its SKU means. :func:`reconcile` makes coherent forecasts by

* ``bottom_up``: aggregates are the sums of the SKU forecasts;
* ``top_down_forecast_proportions``: the top forecast split down by the
  proportions of the base forecasts of each level (Athanasopoulos, Ahmed and
  Hyndman 2009);
* ``top_down_historical_proportions``: the top forecast split by each SKU's
  share of the historical total (Gross and Sohl 1990, proportions of the
  historical averages);
* ``ols``, ``wls_structural`` and ``mint_shrink``: the trace-minimising
  projection S (S' W^-1 S)^-1 S' W^-1 of all base forecasts (Wickramasuriya,
  Athanasopoulos and Hyndman 2019), with W = I, W = diag(S 1) and the
  shrinkage estimate of the base-forecast error covariance.

References
----------
1. Gross, C. W. and Sohl, J. E. (1990). Disaggregation methods to expedite product line
   forecasting. Journal of Forecasting 9(3), 233-254.
2. Athanasopoulos, G., Ahmed, R. A. and Hyndman, R. J. (2009). Hierarchical forecasts for
   Australian domestic tourism. International Journal of Forecasting 25(1), 146-166.
3. Hyndman, R. J., Ahmed, R. A., Athanasopoulos, G. and Shang, H. L. (2011). Optimal
   combination forecasts for hierarchical time series. Computational Statistics and Data
   Analysis 55(9), 2579-2589.
4. Wickramasuriya, S. L., Athanasopoulos, G. and Hyndman, R. J. (2019). Optimal forecast
   reconciliation for hierarchical and grouped time series through trace minimization.
   Journal of the American Statistical Association 114(526), 804-819.
5. Schaefer, J. and Strimmer, K. (2005). A shrinkage approach to large-scale covariance
   matrix estimation. Statistical Applications in Genetics and Molecular Biology 4(1), 32.
6. Hyndman, R. J. and Athanasopoulos, G. (2021). Forecasting: principles and practice,
   3rd ed., chapter 11. OTexts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from opslib.errors import DataError

__all__ = ["Hierarchy", "hierarchy", "aggregate_demand", "reconcile", "mint_shrink_covariance",
           "RECONCILIATION_METHODS", "TOTAL"]

TOTAL = "total"
"""Name of the top level and of its single node."""

RECONCILIATION_METHODS = ("bottom_up", "top_down_forecast_proportions", "top_down_historical_proportions",
                          "ols", "wls_structural", "mint_shrink")
"""Methods :func:`reconcile` knows."""

_PAIRS = (("p2.5", "p97.5", 0.975), ("p5", "p95", 0.95), ("p10", "p90", 0.9), ("p25", "p75", 0.75))


@dataclass(frozen=True)
class Hierarchy:
    """A total -> group levels -> SKU hierarchy as a summing matrix.

    Attributes
    ----------
    levels : tuple of str
        Level names from the top: ``("total", <group columns>..., "sku")``.
    nodes : pandas.DataFrame
        One row per series (the rows of ``summing_matrix``, top level first):
        ``level, node``, plus ``parent`` (the node one level up; ``""`` for the total).
    skus : pandas.Index
        The bottom series, in the column order of ``summing_matrix``.
    summing_matrix : numpy.ndarray, shape (n_nodes, n_skus)
        S[i, j] = 1 when SKU j belongs to node i.
    """

    levels: tuple[str, ...]
    nodes: pd.DataFrame
    skus: pd.Index
    summing_matrix: np.ndarray

    def rows(self, level: str) -> np.ndarray:
        """Row numbers of the nodes of one level."""
        return np.flatnonzero(self.nodes["level"].to_numpy() == level)


def hierarchy(mapping: pd.DataFrame, levels: Sequence[str] = ("category",)) -> Hierarchy:
    """Build the summing matrix of total -> ``levels`` -> SKU from a SKU table.

    Parameters
    ----------
    mapping : pandas.DataFrame
        One row per SKU: ``sku`` and each column of ``levels`` (the ``items``
        table of a workspace serves).
    levels : sequence of str, default ("category",)
        Grouping columns from the top down; each must nest in the previous
        one (a category belongs to one department). Empty: total -> SKU.

    Returns
    -------
    Hierarchy

    Raises
    ------
    opslib.DataError
        On a missing column, a duplicated or missing SKU id, a missing group,
        or groups that do not nest.
    """
    levels = tuple(levels)
    missing = [c for c in ("sku", *levels) if c not in mapping.columns]
    if missing:
        raise DataError(f"hierarchy: the mapping table lacks column(s) {missing}; it has {list(mapping.columns)}. "
                        "Fix: pass a table with one row per SKU, e.g. the workspace's items table.")
    for reserved in (TOTAL, "sku"):
        if reserved in levels:
            raise DataError(f"hierarchy: {reserved!r} is added automatically; do not list it in levels.")
    table = mapping[["sku", *levels]]
    bad = table[table.isna().any(axis=1)]
    if len(bad):
        raise DataError(f"hierarchy: {len(bad)} SKU row(s) without a {'/'.join(('sku', *levels))} value, e.g. "
                        f"{bad.head(5).to_dict('records')}. Fix: fill the group of every SKU.")
    duplicated = table["sku"][table["sku"].duplicated()]
    if len(duplicated):
        raise DataError(f"hierarchy: SKU id(s) listed more than once: {list(duplicated.unique()[:5])}. "
                        "Fix: one row per SKU.")
    table = table.astype({c: str for c in levels}).sort_values(["sku"]).reset_index(drop=True)
    for upper, lower in zip(levels[:-1], levels[1:]):
        parents = table.groupby(lower)[upper].nunique()
        if (parents > 1).any():
            raise DataError(f"hierarchy: {lower!r} groups do not nest in {upper!r}: "
                            f"{list(parents.index[parents > 1][:5])} belong to several. Fix: make the levels nest "
                            "or reconcile each grouping separately.")
    skus = pd.Index(table["sku"])
    rows, node_rows = [np.ones(len(skus))], [(TOTAL, TOTAL, "")]
    for k, level in enumerate(levels):
        parent_col = levels[k - 1] if k else None
        for group in sorted(table[level].unique()):
            member = (table[level] == group).to_numpy()
            rows.append(member.astype(float))
            node_rows.append((level, group, table.loc[member, parent_col].iloc[0] if parent_col else TOTAL))
    parent_col = levels[-1] if levels else None
    for j, sku in enumerate(skus):
        rows.append(np.eye(len(skus))[j])
        node_rows.append(("sku", sku, table[parent_col].iloc[j] if parent_col else TOTAL))
    nodes = pd.DataFrame(node_rows, columns=["level", "node", "parent"])
    return Hierarchy((TOTAL, *levels, "sku"), nodes, skus, np.vstack(rows))


def aggregate_demand(demand: pd.DataFrame, hier: Hierarchy, level: str) -> pd.DataFrame:
    """The demand of one aggregate level, as a canonical ``demand`` table to forecast.

    Parameters
    ----------
    demand : pandas.DataFrame
        The SKU ``demand`` table (``sku, date, units``).
    hier : Hierarchy
    level : str
        ``"total"`` or one of the group levels.

    Returns
    -------
    pandas.DataFrame
        ``sku, date, units``: ``sku`` holds the node name (the category, or
        ``"total"``), ``units`` the sum over its SKUs [units/period]. Stock-out
        flags are not carried: an aggregate of SKUs is rarely out of stock as a
        whole, and the SKUs' lost sales are not restored here.

    Raises
    ------
    opslib.DataError
        On an unknown level or SKUs of ``demand`` missing from the hierarchy.
    """
    if level not in hier.levels[:-1]:
        raise DataError(f"aggregate_demand: level must be one of {list(hier.levels[:-1])}; got {level!r}.")
    unknown = pd.Index(demand["sku"].unique()).difference(hier.skus)
    if len(unknown):
        raise DataError(f"aggregate_demand: {len(unknown)} SKU(s) of the demand table are not in the hierarchy, "
                        f"e.g. {list(unknown[:5])}. Fix: add them to the mapping table.")
    sku_nodes = hier.nodes[hier.nodes["level"] == "sku"]
    node_of = _ancestor(hier, level).set_axis(sku_nodes["node"].to_numpy())
    frame = pd.DataFrame({"sku": demand["sku"].map(node_of).to_numpy(), "date": demand["date"].to_numpy(),
                          "units": demand["units"].to_numpy(dtype=float)})
    return frame.groupby(["sku", "date"], as_index=False, sort=True)["units"].sum()


def _ancestor(hier: Hierarchy, level: str) -> pd.Series:
    """Node of ``level`` above each SKU (in ``hier.skus`` order)."""
    s = hier.summing_matrix[hier.rows(level)]                # (n_level_nodes, n_skus), one 1 per column
    names = hier.nodes["node"].to_numpy()[hier.rows(level)]
    return pd.Series(names[np.argmax(s, axis=0)], index=hier.skus)


def mint_shrink_covariance(errors: np.ndarray) -> tuple[np.ndarray, float]:
    """Shrinkage estimate of the base-forecast error covariance (Schaefer and Strimmer 2005).

    Parameters
    ----------
    errors : numpy.ndarray, shape (n_observations, n_series)
        Forecast errors of every series of the hierarchy (one-step in-sample
        or backtest errors); rows with a NaN are left out.

    Returns
    -------
    covariance : numpy.ndarray, shape (n_series, n_series)
        W = lambda diag(W_sample) + (1 - lambda) W_sample.
    shrinkage : float
        lambda in [0, 1].

    Notes
    -----
    As in Wickramasuriya et al. (2019, section 2.4): with the standardised errors
    x, the sample correlations r_ij and their estimated variances,
    lambda = sum_{i != j} Var(r_ij) / sum_{i != j} r_ij^2, where
    Var(r_ij) = n / (n - 1)^3 sum_t (w_tij - mean w_ij)^2 and w_tij = x_ti x_tj
    (errors centred, variances with n - 1: the R ``hts`` package's ``shrink.estim``).
    """
    e = np.asarray(errors, dtype=float)
    e = e[~np.isnan(e).any(axis=1)]
    n = e.shape[0]
    if n < 3:
        raise DataError(f"mint_shrink: {n} complete error rows; at least 3 are needed. "
                        "Fix: backtest more windows or use method='wls_structural'.")
    centred = e - e.mean(axis=0)
    sd = centred.std(axis=0, ddof=1)
    sample = centred.T @ centred / (n - 1)
    ok = sd > 0
    x = np.zeros_like(centred)
    x[:, ok] = centred[:, ok] / sd[ok]
    w = x[:, :, None] * x[:, None, :]                       # (n, k, k)
    r = w.mean(axis=0) * n / (n - 1)
    var_r = n / (n - 1) ** 3 * ((w - w.mean(axis=0)) ** 2).sum(axis=0)
    off = ~np.eye(e.shape[1], dtype=bool)
    denominator = (r[off] ** 2).sum()
    shrinkage = 1.0 if denominator == 0 else float(np.clip(var_r[off].sum() / denominator, 0.0, 1.0))
    covariance = shrinkage * np.diag(np.diag(sample)) + (1 - shrinkage) * sample
    return covariance, shrinkage


def reconcile(forecasts: pd.DataFrame, hier: Hierarchy, *, method: str = "bottom_up",
              aggregate_forecasts: Mapping[str, pd.DataFrame] | None = None,
              history: pd.DataFrame | None = None, errors: pd.DataFrame | None = None,
              correlation: float = 0.0) -> pd.DataFrame:
    """Coherent forecasts of every level of a hierarchy.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        SKU forecasts from :func:`opslib.forecast.forecast`: ``sku, date, mean``,
        ``pNN`` quantile columns, ``model``. Every SKU of the hierarchy, the same dates.
    hier : Hierarchy
        From :func:`hierarchy`.
    method : str, default "bottom_up"
        One of :data:`RECONCILIATION_METHODS`.
    aggregate_forecasts : mapping of level -> pandas.DataFrame, optional
        Base forecasts of the aggregate levels, e.g.
        ``{"total": forecast(aggregate_demand(demand, hier, "total"), h)}``
        (``sku`` holds the node name). Needed by the top-down methods (the
        ``total`` level; forecast proportions also every group level) and by
        ``ols``, ``wls_structural`` and ``mint_shrink`` (every level). When a
        level's base forecast has quantiles, that level's quantiles are taken
        from it (see Notes).
    history : pandas.DataFrame, optional
        The SKU ``demand`` table; needed by ``top_down_historical_proportions``.
    errors : pandas.DataFrame, optional
        Base-forecast errors for ``mint_shrink``: long ``level, node, error`` and
        one or more columns identifying the observation (e.g. ``window, h`` of
        :func:`opslib.forecast.backtest` frames stacked with a ``level`` and a
        ``node`` column); every node of the hierarchy must have errors for the
        same observations.
    correlation : float in [0, 1], default 0.0
        Assumed correlation between the forecast errors of the SKUs (and of the
        children of a node) for the normal approximation of aggregate quantiles
        when no base forecast of that level gives them. 0: independent.

    Returns
    -------
    pandas.DataFrame
        ``level, node, date, mean``, the quantile columns of ``forecasts``,
        ``model`` and ``method``; levels from the top (``total``, the group
        levels, ``sku``). The means are coherent: every aggregate equals the sum
        of its SKUs (to rounding). ``model`` is the base model of a SKU and the
        reconciliation method for an aggregate.

    Raises
    ------
    opslib.DataError
        On an unknown method, a missing input the method needs, or SKUs or
        dates that do not match.

    Notes
    -----
    Means. With base forecasts yhat of all n nodes (stacked top level first) and
    the bottom forecasts b = G yhat, the reconciled forecasts are S G yhat.
    Bottom-up: b = the SKU base forecasts. Top-down by forecast proportions
    (Athanasopoulos et al. 2009, eq. 7): b_j = yhat_total prod_l
    yhat_j^(l) / Shat_j^(l+1), with yhat_j^(l) the base forecast of the level-l
    ancestor of SKU j and Shat_j^(l+1) the sum of the base forecasts of that
    ancestor's children; per date. Top-down by historical proportions: b_j =
    p_j yhat_total, p_j = sum_t y_jt / sum_t y_total,t over ``history``
    (Gross and Sohl's proportions of the historical averages; each SKU's whole
    history, so a new SKU gets a small share). Trace minimisation:
    G = (S' W^-1 S)^-1 S' W^-1 with W = I (``ols``), W = diag(S 1) (structural
    scaling, ``wls_structural``) or W the shrinkage covariance of ``errors``
    (``mint_shrink``, :func:`mint_shrink_covariance`). A child whose siblings'
    base forecasts sum to 0 gets an equal share. Negative reconciled SKU means
    (possible with ``ols``/MinT) are set to 0 and the aggregates summed again, so
    coherence and non-negativity both hold.

    Quantiles do not add. SKU quantiles keep the shape of the base forecast and
    move with the mean: q_tilde = max(0, q + (mean_tilde - mean)). An
    aggregate's quantiles: when its level has a base forecast with the
    quantile, the same shift of that base forecast (the aggregate model's own
    uncertainty, which sees the correlation between SKUs). Otherwise a normal
    approximation, mean_tilde + z_q sigma clipped at 0, with
    sigma^2 = sum_j sigma_j^2 + rho sum_{i != j} sigma_i sigma_j over the SKUs
    below, where sigma_j = (q_hi - q_lo) / (2 z) from the widest symmetric pair
    of SKU quantiles (p2.5/p97.5, p5/p95, p10/p90, p25/p75) and rho =
    ``correlation``. Independence (rho = 0) understates the spread when SKU
    errors move together (shopping festivals, traffic); the normal shape suits
    aggregates of many SKUs, not of two or three intermittent ones.
    """
    if method not in RECONCILIATION_METHODS:
        raise DataError(f"reconcile: method must be one of {list(RECONCILIATION_METHODS)}; got {method!r}.")
    if not 0.0 <= float(correlation) <= 1.0:
        raise DataError(f"reconcile: correlation must lie in [0, 1]; got {correlation!r}.")
    aggregate_forecasts = dict(aggregate_forecasts or {})
    qcols = [c for c in forecasts.columns if _is_quantile(c)]
    base_sku, dates = _wide(forecasts, hier.skus, None, "forecasts", "SKU")
    n_nodes, n_skus = hier.summing_matrix.shape
    S = hier.summing_matrix
    aggregate_levels = hier.levels[:-1]

    needed = {"bottom_up": (), "top_down_historical_proportions": (TOTAL,)}.get(method, aggregate_levels)
    absent = [lv for lv in needed if lv not in aggregate_forecasts]
    if absent:
        raise DataError(f"reconcile: method {method!r} needs base forecasts of level(s) {absent} in "
                        "aggregate_forecasts. Fix: forecast(aggregate_demand(demand, hier, level), horizon) "
                        "for each and pass {level: frame}.")
    base_agg = {}
    for level in aggregate_forecasts:
        if level not in aggregate_levels:
            raise DataError(f"reconcile: aggregate_forecasts has level {level!r}; the hierarchy's aggregate "
                            f"levels are {list(aggregate_levels)}.")
        names = pd.Index(hier.nodes["node"].to_numpy()[hier.rows(level)])
        base_agg[level] = _wide(aggregate_forecasts[level], names, dates, f"aggregate_forecasts[{level!r}]", level)[0]

    if method == "bottom_up":
        bottom = base_sku["mean"]
    elif method == "top_down_forecast_proportions":
        bottom = _forecast_proportions(hier, base_sku["mean"], {lv: base_agg[lv]["mean"] for lv in aggregate_levels})
    elif method == "top_down_historical_proportions":
        if history is None:
            raise DataError("reconcile: method 'top_down_historical_proportions' needs history (the SKU demand "
                            "table). Fix: pass history=demand.")
        shares = _historical_proportions(history, hier.skus)
        bottom = shares[:, None] * base_agg[TOTAL]["mean"][0][None, :]
    else:
        yhat = np.vstack([base_agg[lv]["mean"] for lv in aggregate_levels] + [base_sku["mean"]])
        if method == "ols":
            W = np.eye(n_nodes)
        elif method == "wls_structural":
            W = np.diag(S.sum(axis=1))
        else:
            if errors is None:
                raise DataError("reconcile: method 'mint_shrink' needs errors (base-forecast errors of every node). "
                                "Fix: pass backtest errors, or use method='wls_structural'.")
            W = mint_shrink_covariance(_error_matrix(errors, hier))[0]
        bottom = _trace_minimisation(S, W) @ yhat
    bottom = np.maximum(bottom, 0.0)
    means = S @ bottom                                          # (n_nodes, n_dates): coherent by construction

    out = {"mean": means}
    for c in qcols:
        q = float(c[1:]) / 100
        values = np.empty_like(means)
        sku_rows = hier.rows("sku")
        values[sku_rows] = np.maximum(base_sku[c] + (bottom - base_sku["mean"]), 0.0)
        for level in aggregate_levels:
            rows = hier.rows(level)
            if level in base_agg and c in base_agg[level]:
                values[rows] = np.maximum(base_agg[level][c] + (means[rows] - base_agg[level]["mean"]), 0.0)
            else:
                sigma = _sku_sigma(base_sku)
                s = S[rows]                                      # (nodes, skus)
                independent = s @ sigma ** 2
                together = (s @ sigma) ** 2
                spread = np.sqrt((1 - correlation) * independent + correlation * together)
                values[rows] = np.maximum(means[rows] + stats.norm.ppf(q) * spread, 0.0)
        out[c] = values

    model = np.empty(n_nodes, dtype=object)
    model[:] = method
    model[hier.rows("sku")] = base_sku["model"]
    frame = pd.DataFrame({
        "level": np.repeat(hier.nodes["level"].to_numpy(), len(dates)),
        "node": np.repeat(hier.nodes["node"].to_numpy(), len(dates)),
        "date": np.tile(dates.to_numpy(), n_nodes),
        **{k: v.ravel() for k, v in out.items()},
        "model": np.repeat(model, len(dates)),
        "method": method,
    })
    return frame


def _is_quantile(column: str) -> bool:
    if not column.startswith("p"):
        return False
    try:
        return 0 < float(column[1:]) < 100
    except ValueError:
        return False


def _wide(frame: pd.DataFrame, names: pd.Index, dates, what: str, level: str):
    """``{column: (n_names, n_dates) array}`` of a long forecast frame, checked against the hierarchy."""
    missing = [c for c in ("sku", "date", "mean") if c not in frame.columns]
    if missing:
        raise DataError(f"reconcile: {what} lacks column(s) {missing}. Fix: pass the frame forecast() returns.")
    keys = pd.Index(frame["sku"].unique())
    lacking, extra = names.difference(keys), keys.difference(names)
    if len(lacking) or len(extra):
        raise DataError(f"reconcile: {what} must hold one series per {level} node of the hierarchy; missing "
                        f"{list(lacking[:5])}, not in the hierarchy {list(extra[:5])}. Fix: forecast every node "
                        "and build the hierarchy from the same table.")
    if frame.duplicated(["sku", "date"]).any():
        raise DataError(f"reconcile: {what} has more than one row per sku and date. Fix: pass one forecast.")
    own_dates = pd.DatetimeIndex(sorted(frame["date"].unique()))
    if dates is not None and not own_dates.equals(pd.DatetimeIndex(dates)):
        raise DataError(f"reconcile: {what} covers dates {own_dates.min()}..{own_dates.max()} "
                        f"({len(own_dates)}), the SKU forecasts {dates.min()}..{dates.max()} ({len(dates)}). "
                        "Fix: forecast every level over the same horizon from the same last date.")
    counts = frame.groupby("sku").size()
    if (counts != len(own_dates)).any():
        raise DataError(f"reconcile: {what}: every series needs a row for each of the {len(own_dates)} dates; "
                        f"{list(counts.index[counts != len(own_dates)][:5])} do not. Fix: forecast all series "
                        "over the same dates.")
    ordered = frame.set_index(["sku", "date"]).sort_index()
    ordered = ordered.loc[pd.MultiIndex.from_product([names, own_dates], names=["sku", "date"])]
    shape = (len(names), len(own_dates))
    out = {c: ordered[c].to_numpy(dtype=float).reshape(shape) for c in ordered.columns
           if c == "mean" or _is_quantile(c)}
    if "model" in ordered.columns:
        out["model"] = ordered["model"].to_numpy().reshape(shape)[:, 0]
    else:
        out["model"] = np.full(len(names), "", dtype=object)
    if not np.isfinite(out["mean"]).all():
        raise DataError(f"reconcile: {what} has a NaN or infinite mean. Fix: pass finite forecasts.")
    return out, own_dates


def _sku_sigma(base_sku: dict) -> np.ndarray:
    """Normal-equivalent standard deviation of each SKU forecast from its widest symmetric quantile pair."""
    for lo, hi, upper in _PAIRS:
        if lo in base_sku and hi in base_sku:
            return np.maximum(base_sku[hi] - base_sku[lo], 0.0) / (2 * stats.norm.ppf(upper))
    raise DataError("reconcile: aggregate quantiles need a symmetric pair of SKU quantiles (p2.5/p97.5, p5/p95, "
                    "p10/p90 or p25/p75) or base forecasts of the aggregate levels with those quantiles. "
                    "Fix: forecast with quantiles=(0.1, 0.5, 0.9) or pass aggregate_forecasts.")


def _shares(values: np.ndarray) -> np.ndarray:
    """Shares of a (children, dates) array in its column sums; equal shares where the sum is 0."""
    total = values.sum(axis=0, keepdims=True)
    equal = np.full_like(values, 1.0 / values.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, values / np.where(total > 0, total, 1.0), equal)


def _forecast_proportions(hier: Hierarchy, sku_mean: np.ndarray, level_mean: dict) -> np.ndarray:
    """Athanasopoulos et al. (2009) top-down forecast proportions: the bottom forecasts (n_skus, n_dates)."""
    levels = hier.levels                                       # total, groups..., sku
    names = hier.nodes["node"].to_numpy()
    # fraction[level][node index within level] of each node in its parent's forecast, per date
    value_of = {lv: np.maximum(level_mean[lv], 0.0) for lv in levels[:-1]}
    value_of["sku"] = np.maximum(sku_mean, 0.0)
    share = np.ones_like(sku_mean)
    for upper, lower in zip(levels[:-1], levels[1:]):
        upper_rows, lower_rows = hier.rows(upper), hier.rows(lower)
        parent = hier.nodes["parent"].to_numpy()[lower_rows]
        child_share = np.empty_like(value_of[lower])
        for node in names[upper_rows]:
            members = np.flatnonzero(parent == node)
            child_share[members] = _shares(value_of[lower][members])
        # carry the share down to the SKUs below each lower node
        below = hier.summing_matrix[lower_rows]                # (lower nodes, skus)
        share *= below.T @ child_share
    return share * value_of[TOTAL][0][None, :]


def _historical_proportions(history: pd.DataFrame, skus: pd.Index) -> np.ndarray:
    missing = [c for c in ("sku", "units") if c not in history.columns]
    if missing:
        raise DataError(f"reconcile: history lacks column(s) {missing}. Fix: pass the SKU demand table.")
    totals = history.groupby("sku")["units"].sum().reindex(skus).fillna(0.0).to_numpy(dtype=float)
    if totals.sum() <= 0:
        raise DataError("reconcile: the history has no sales, so historical proportions are undefined. "
                        "Fix: use method='top_down_forecast_proportions' or 'bottom_up'.")
    return np.maximum(totals, 0.0) / np.maximum(totals, 0.0).sum()


def _trace_minimisation(S: np.ndarray, W: np.ndarray) -> np.ndarray:
    """G = (S' W^-1 S)^-1 S' W^-1 (Wickramasuriya et al. 2019, eq. 9), by solves instead of inverses."""
    w_inv_s = np.linalg.solve(W, S)                            # W^-1 S
    return np.linalg.solve(S.T @ w_inv_s, w_inv_s.T)


def _error_matrix(errors: pd.DataFrame, hier: Hierarchy) -> np.ndarray:
    """(observations, nodes) matrix of base-forecast errors in the hierarchy's node order."""
    missing = [c for c in ("level", "node", "error") if c not in errors.columns]
    if missing:
        raise DataError(f"reconcile: errors lacks column(s) {missing}; it needs level, node, error and the "
                        "columns identifying an observation (e.g. window, h).")
    keys = [c for c in errors.columns if c not in ("level", "node", "error", "sku", "units", "mean", "model",
                                                    "model_used", "scale_mase", "scale_rmsse", "cutoff")
            and not _is_quantile(c)]
    if not keys:
        raise DataError("reconcile: errors needs a column identifying each observation (e.g. window, h, or date).")
    wide = errors.pivot_table(index=keys, columns=["level", "node"], values="error", aggfunc="first")
    want = pd.MultiIndex.from_frame(hier.nodes[["level", "node"]])
    absent = want.difference(wide.columns)
    if len(absent):
        raise DataError(f"reconcile: errors has none for {len(absent)} node(s), e.g. {list(absent[:5])}. "
                        "Fix: backtest every level of the hierarchy.")
    return wide[want].to_numpy(dtype=float)
