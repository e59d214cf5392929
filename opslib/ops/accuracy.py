"""Forecast accuracy tracking: realized accuracy and bias of past plans.

Closes the planning loop: the plans the shop made (forecasts kept with the
day they were made) are scored against the demand that followed, by SKU
demand class, by how far ahead the plan looked, or overall.

Scoring, over the plan rows r whose actual is known and was observed
(``e = f - y``, forecast minus actual):

- WAPE = sum |e| / sum y [fraction] (:func:`opslib.forecast.metrics.wape`);
- bias = sum e / sum y [fraction, positive = over-forecast]; ``mean_error``
  = mean e [units/day] (:func:`opslib.forecast.metrics.bias`);
- MASE = mean |e_r| / s_r with s_r the in-sample naive (one-day) MAE of the
  SKU's history up to the plan's origin, and RMSSE = sqrt(mean e_r^2 / q_r)
  with q_r the in-sample naive MSE (:func:`opslib.forecast.metrics.mase`,
  :func:`~opslib.forecast.metrics.rmsse`, per SKU-plan and group, then
  weighted by the scored rows);
- ``coverage_80``: share of actuals inside [p10, p90]
  (:func:`opslib.forecast.metrics.interval_coverage`), when both columns exist.

Stock-out days (``in_stock`` False) are censored: the sales of that day are
what the stock allowed, not the demand, so they are not scored; they are
counted in ``n_censored``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opslib.errors import DataError
from opslib.forecast.classify import CLASSES, classify_demand
from opslib.forecast.frequency import infer_frequency
from opslib.forecast.metrics import bias, interval_coverage, mase, rmsse, wape
from opslib.forecast.panel import to_panel
from opslib.ops._common import check_choice, to_day

__all__ = ["ACCURACY_COLUMNS", "HORIZON_BUCKETS", "forecast_accuracy"]

#: Horizon buckets [days ahead]: label -> (first, last) day, both included.
HORIZON_BUCKETS: dict[str, tuple[float, float]] = {
    "1-7": (1, 7),
    "8-14": (8, 14),
    "15-28": (15, 28),
    "29+": (29, np.inf),
}

#: Measure columns of :func:`forecast_accuracy`, in order (``coverage_80`` only with p10 and p90).
ACCURACY_COLUMNS = (
    "n_skus", "n_forecasts", "n_scored", "n_censored", "units", "forecast",
    "wape", "bias", "mean_error", "mase", "rmsse", "n_unscaled", "coverage_80",
)

_GROUP_COLUMN = {"class": "demand_class", "horizon": "horizon", None: None}


def forecast_accuracy(forecasts: pd.DataFrame, demand: pd.DataFrame, *, by: str | None = "class",
                      history_end=None) -> pd.DataFrame:
    """Realized accuracy and bias of past plans, by SKU demand class, horizon or overall.

    Parameters
    ----------
    forecasts : pandas.DataFrame
        Past plans, one row per SKU and forecast day: ``sku, date, mean``
        [units/day]; optional quantile columns ``p10 ... p90`` as
        :func:`opslib.forecast.forecast` writes them; optional ``made_on``,
        the forecast origin: the last day of history the plan could see (a
        plan made on ``made_on`` forecasts ``made_on + 1`` one day ahead).
        Several plans (origins) may cover the same day.
    demand : pandas.DataFrame
        The canonical ``demand`` table of actuals: ``sku, date, units``;
        ``in_stock`` used when present (missing = in stock).
    by : {"class", "horizon", None}, default "class"
        ``"class"``: one row per demand class of the SKU on its history up to
        the origin (:func:`opslib.forecast.classify_demand`, stock-out days
        censored); ``"horizon"``: one row per bucket of days ahead
        (:data:`HORIZON_BUCKETS`: 1-7, 8-14, 15-28, 29+); None: one row.
    history_end : date-like, optional
        Origin of the plan rows without ``made_on`` (of every row when the
        column is absent). Default: the day before the earliest forecast day.

    Returns
    -------
    pandas.DataFrame
        The group column (``demand_class`` or ``horizon``; none for
        ``by=None``), then :data:`ACCURACY_COLUMNS`: ``n_skus`` (distinct
        SKUs scored), ``n_forecasts`` (plan rows with an actual),
        ``n_scored``, ``n_censored`` (stock-out days left out), ``units`` and
        ``forecast`` (sums over the scored rows [units]), ``wape``, ``bias``
        [fraction], ``mean_error`` [units/day], ``mase``, ``rmsse``,
        ``n_unscaled`` (scored rows left out of MASE and RMSSE: the SKU's
        history before the origin is constant or has under two observed days,
        so the naive scale is zero or undefined) and ``coverage_80``
        [fraction] when ``p10`` and ``p90`` exist. Measures are NaN where
        nothing was scored (and ``wape``, ``bias`` where no unit sold).
        ``attrs["unmatched"]``: plan rows without an actual yet, or not ahead
        of their origin (date <= origin), which are not scored.

    Raises
    ------
    opslib.DataError
        A required column is missing, a plan repeats a (sku, date), or no plan
        row has an actual.
    ValueError
        ``by`` is not one of "class", "horizon", None.
    """
    check_choice("by", by, tuple(_GROUP_COLUMN))
    plans = _plans(forecasts, history_end)
    actuals = _actuals(demand)
    has_interval = "p10" in plans.columns and "p90" in plans.columns

    joined = plans.merge(actuals, on=["sku", "date"], how="inner", validate="many_to_one")
    horizon = (joined["date"] - joined["origin"]).dt.days.to_numpy()
    ahead = horizon >= 1
    unmatched = len(plans) - int(ahead.sum())
    joined = joined.loc[ahead].reset_index(drop=True)
    if joined.empty:
        raise DataError(
            f"forecast_accuracy: no plan row has an actual: the forecasts cover {plans['date'].min().date()} "
            f"to {plans['date'].max().date()} for {plans['sku'].nunique()} SKU(s), the demand table "
            f"{actuals['date'].min().date()} to {actuals['date'].max().date()} for "
            f"{actuals['sku'].nunique()} SKU(s), and no (sku, date) after its plan's origin is in both. "
            "Fix: score plans whose days have passed, against the demand table of the same SKUs."
        )
    joined["days_ahead"] = horizon[ahead]
    joined["horizon"] = pd.Categorical(
        pd.cut(joined["days_ahead"], [0, 7, 14, 28, np.inf], labels=list(HORIZON_BUCKETS)), ordered=True)

    frequency = infer_frequency(actuals["date"]) if actuals["date"].nunique() > 2 else None
    scaled = [_score_origin(rows, actuals, origin, by, frequency) for origin, rows in joined.groupby("origin")]
    joined = pd.concat(scaled, ignore_index=True)

    group = _GROUP_COLUMN[by]
    keys = [None] if group is None else _group_labels(joined[group], by)
    out = []
    for key in keys:
        rows = joined if group is None else joined[joined[group] == key]
        out.append(_measures(rows, has_interval))
    frame = pd.DataFrame(out)
    if group is not None:
        frame.insert(0, group, keys)
    frame.attrs["unmatched"] = unmatched
    return frame


# --------------------------------------------------------------------------- inputs

def _plans(forecasts: pd.DataFrame, history_end) -> pd.DataFrame:
    if not isinstance(forecasts, pd.DataFrame):
        raise TypeError(f"forecast_accuracy takes the forecasts as a DataFrame; got {type(forecasts).__name__}")
    _require(forecasts, "forecasts", ("sku", "date", "mean"),
             "pass the output of opslib.forecast.forecast (sku, date, mean, p10, p50, p90), "
             "with a made_on column for the day each plan was made")
    quantiles = [c for c in ("p10", "p90") if c in forecasts.columns]
    plans = pd.DataFrame({"sku": forecasts["sku"].astype("str").to_numpy(), "date": to_day(forecasts["date"]).array,
                          "mean": pd.to_numeric(forecasts["mean"], errors="coerce").to_numpy(dtype=float)})
    for c in quantiles:
        plans[c] = pd.to_numeric(forecasts[c], errors="coerce").to_numpy(dtype=float)
    bad = plans["date"].isna() | plans["mean"].isna()
    if bad.any():
        rows = forecasts.loc[bad.to_numpy(), ["sku", "date", "mean"]].head(5).to_dict("records")
        raise DataError(f"forecasts: {int(bad.sum())} row(s) have no valid date or mean, e.g. {rows}. "
                        "Fix: drop them or fill the forecast.")
    default = pd.Timestamp(history_end) if history_end is not None else plans["date"].min() - pd.Timedelta(days=1)
    default = to_day([default]).iloc[0]
    if "made_on" in forecasts.columns:
        origin = to_day(forecasts["made_on"]).fillna(default)
    else:
        origin = pd.Series(default, index=range(len(plans)))
    plans["origin"] = origin.to_numpy()
    dup = plans.duplicated(["sku", "date", "origin"])
    if dup.any():
        rows = plans.loc[dup, ["sku", "date", "origin"]].head(5).to_dict("records")
        raise DataError(f"forecasts: (sku, date, made_on) must be unique; {int(dup.sum())} repeated rows, e.g. "
                        f"{rows}. Fix: keep one forecast per SKU, day and plan (add made_on to tell plans apart).")
    return plans


def _actuals(demand: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(demand, pd.DataFrame):
        raise TypeError(f"forecast_accuracy takes the demand as a DataFrame; got {type(demand).__name__}")
    _require(demand, "demand", ("sku", "date", "units"),
             "pass the canonical demand table (opslib.load_workspace(...).demand or opslib.load_demo().demand)")
    actuals = pd.DataFrame({"sku": demand["sku"].astype("str").to_numpy(), "date": to_day(demand["date"]).array,
                            "units": pd.to_numeric(demand["units"], errors="coerce").to_numpy(dtype=float)})
    if "in_stock" in demand.columns:
        actuals["in_stock"] = ~(demand["in_stock"] == False).fillna(False).to_numpy(dtype=bool)
    else:
        actuals["in_stock"] = True
    actuals = actuals[actuals["date"].notna()]
    dup = actuals.duplicated(["sku", "date"])
    if dup.any():
        rows = actuals.loc[dup, ["sku", "date"]].head(5).to_dict("records")
        raise DataError(f"demand: (sku, date) must be unique; {int(dup.sum())} repeated rows, e.g. {rows}. "
                        "Fix: aggregate the table to one row per SKU and date.")
    return actuals.reset_index(drop=True)


def _require(frame: pd.DataFrame, table: str, columns, fix: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        raise DataError(f"forecast_accuracy needs the column(s) {', '.join(missing)} of {table}; it has {have}. "
                        f"Fix: {fix}.")


# --------------------------------------------------------------------------- scoring

def _score_origin(rows: pd.DataFrame, actuals: pd.DataFrame, origin: pd.Timestamp, by, frequency) -> pd.DataFrame:
    """The plan rows of one origin with their SKU's class and, per SKU-plan and group, MASE and RMSSE."""
    rows = rows.copy()
    skus = pd.Index(pd.unique(rows["sku"]))
    history = actuals[(actuals["date"] <= origin) & actuals["sku"].isin(skus)]
    if len(history):
        panel = to_panel(history, censor=True, frequency=frequency)
        train = np.full((len(skus), panel.values.shape[1]), np.nan)
        found = panel.skus.get_indexer(skus)
        train[found >= 0] = panel.values[found[found >= 0]]
        season_length = panel.frequency.season_length
    else:
        train, season_length = np.full((len(skus), 1), np.nan), 7
    sku_row = skus.get_indexer(rows["sku"])
    rows["demand_class"] = classify_demand(train, season_length=season_length).demand_class[sku_row]

    scored = rows["in_stock"].to_numpy() & rows["units"].notna().to_numpy()
    rows["scored"] = scored
    rows["mase"] = np.nan
    rows["rmsse"] = np.nan
    group = _GROUP_COLUMN[by]
    sub = rows.loc[scored]
    if len(sub):
        # one "series" per SKU-plan and group: the metric functions score each row of a 2-D array
        keys = [sub["sku"]] if group is None or group == "demand_class" else [sub["sku"], sub[group].astype(str)]
        cell = pd.MultiIndex.from_arrays(keys).factorize()[0] if len(keys) > 1 else pd.factorize(keys[0])[0]
        pos = sub.groupby(cell).cumcount().to_numpy()
        n_cells = int(cell.max()) + 1
        y = np.full((n_cells, int(pos.max()) + 1), np.nan)
        f = np.full_like(y, np.nan)
        y[cell, pos] = sub["units"].to_numpy()
        f[cell, pos] = sub["mean"].to_numpy()
        cell_train = np.empty((n_cells, train.shape[1]))
        cell_train[cell] = train[sku_row[scored]]
        with np.errstate(invalid="ignore", divide="ignore"):
            rows.loc[scored, "mase"] = np.asarray(mase(y, f, cell_train), dtype=float)[cell]
            rows.loc[scored, "rmsse"] = np.asarray(rmsse(y, f, cell_train), dtype=float)[cell]
    return rows


def _group_labels(values: pd.Series, by) -> list:
    present = set(values.astype(str))
    order = CLASSES if by == "class" else tuple(HORIZON_BUCKETS)
    return [k for k in order if k in present] + sorted(present - set(order))


def _measures(rows: pd.DataFrame, has_interval: bool) -> dict:
    scored = rows[rows["scored"]]
    y, f = scored["units"].to_numpy(dtype=float), scored["mean"].to_numpy(dtype=float)
    total = float(y.sum())
    out = {
        "n_skus": int(scored["sku"].nunique()),
        "n_forecasts": len(rows),
        "n_scored": len(scored),
        "n_censored": int((~rows["in_stock"]).sum()),
        "units": total,
        "forecast": float(f.sum()),
    }
    if len(scored):
        mean_error = float(bias(y, f))
        out["wape"] = float(wape(y, f))
        out["bias"] = mean_error * len(y) / total if total > 0 else np.nan  # sum(f - y) / sum(y)
        out["mean_error"] = mean_error
    else:
        out.update(wape=np.nan, bias=np.nan, mean_error=np.nan)
    # per-row cell values: each cell's MASE (RMSSE^2) weighted by its rows = mean of the scaled row errors
    m, r = scored["mase"].to_numpy(dtype=float), scored["rmsse"].to_numpy(dtype=float)
    ok = np.isfinite(m) & np.isfinite(r)
    out["mase"] = float(m[ok].mean()) if ok.any() else np.nan
    out["rmsse"] = float(np.sqrt((r[ok] ** 2).mean())) if ok.any() else np.nan
    out["n_unscaled"] = int((~ok).sum())
    if has_interval:
        out["coverage_80"] = float(interval_coverage(y, scored["p10"].to_numpy(), scored["p90"].to_numpy())) \
            if len(scored) else np.nan
    return out
