"""Exogenous regressors for demand forecasts: promotions, prices and the calendar, history and horizon.

:func:`exogenous_design` builds the long regressor table ``sku, date, <regressor
columns>`` that :func:`opslib.forecast.forecast` takes as ``exog`` (model
``"arimax"``): promotion flag, depth and post-promotion days from the
promotion plan, the relative price, one dummy per calendar event with the days
before and after it (pull-forward and dip around shopping festivals), and SNAP
days (M5). The future rows come from the plan (known promotions, prices and
calendar), not from the sales. :func:`regressor_array` aligns such a table to
the SKU x period grid of a demand panel and refuses gaps.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from opslib.errors import DataError
from opslib.forecast.frequency import future_dates, infer_frequency
from opslib.forecast.regression import Regressors

__all__ = ["exogenous_design", "demand_regressors", "regressor_array", "event_windows", "festival_windows",
           "MAX_DEPTH"]

MAX_DEPTH = 0.95
"""Deepest effective depth [fraction] the log-discount regressor takes (log(1 - d) is -inf at d = 1)."""
_PRESALE = re.compile(r"\s*presale$", re.IGNORECASE)


def _slug(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).strip())


def _grid(demand: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """One row per SKU and date from its first demand row to the last date plus the horizon."""
    for c in ("sku", "date"):
        if c not in demand.columns:
            raise DataError(f"exogenous_design: table 'demand' lacks column {c!r}; columns seen: "
                            f"{list(demand.columns)}. Fix: pass the canonical demand table (sku, date, units).")
    dates = pd.to_datetime(demand["date"])
    frequency = infer_frequency(dates)
    if frequency.name != "daily":
        raise DataError(f"exogenous_design: the demand dates are {frequency.name}; the calendar and promotion "
                        "regressors are built per day. Fix: pass daily demand, or build exog yourself.")
    last = dates.max()
    end = future_dates(last, horizon, frequency)[-1] if horizon > 0 else last
    first = dates.groupby(demand["sku"].to_numpy()).min()
    lengths = ((end - first).dt.days + 1).to_numpy()
    skus = np.repeat(first.index.to_numpy(), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out = pd.DataFrame({"sku": skus, "date": np.repeat(first.to_numpy(), lengths) + pd.to_timedelta(offsets, "D")})
    return out.astype({"sku": demand["sku"].dtype})


def event_windows(calendar: pd.DataFrame, dates, *, before_days: int = 3, after_days: int = 3,
                  min_days: int = 1) -> pd.DataFrame:
    """Daily 0/1 columns per calendar event: the event days and the days just before and after it.

    Parameters
    ----------
    calendar : pandas.DataFrame
        The canonical ``calendar`` table: ``date, event`` (several events on one
        day joined by ``"|"``, as :func:`opslib.data.from_m5` writes them).
    dates : sequence of datetime
        The days to describe.
    before_days, after_days : int, default 3
        Length of the windows before an event's run of days and after it
        [days]; 0 for none. Window days that are themselves days of the same
        event count as event days only.
    min_days : int, default 1
        Leave out an event with fewer days than this among ``dates``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``dates``; columns ``event: <name>``, ``before: <name>``,
        ``after: <name>`` (0.0 or 1.0), in order of the events' first day.
    """
    if "date" not in calendar.columns or "event" not in calendar.columns:
        raise DataError(f"exogenous_design: table 'calendar' needs columns 'date' and 'event'; columns seen: "
                        f"{list(calendar.columns)}. Fix: pass the canonical calendar table.")
    index = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    cal = calendar.loc[calendar["event"].notna(), ["date", "event"]].copy()
    cal["date"] = pd.to_datetime(cal["date"]).dt.normalize()
    cal = cal.assign(event=cal["event"].astype(str).str.split("|")).explode("event")
    cal["event"] = cal["event"].map(_slug)
    cal = cal[cal["event"] != ""].sort_values("date")
    columns = {}
    for name in pd.unique(cal["event"]):
        days = pd.DatetimeIndex(cal.loc[cal["event"] == name, "date"].unique())
        on = index.isin(days)
        if on.sum() < min_days:
            continue
        columns[f"event: {name}"] = on.astype(float)
        # runs of consecutive event days, over the whole calendar (an event just outside `dates` still counts)
        ordinal = np.sort(days.to_numpy().astype("datetime64[D]").astype(np.int64))
        starts = ordinal[np.r_[True, np.diff(ordinal) > 1]]
        ends = ordinal[np.r_[np.diff(ordinal) > 1, True]]
        day = index.to_numpy().astype("datetime64[D]").astype(np.int64)
        for label, width, anchor, sign in (("before", before_days, starts, -1), ("after", after_days, ends, 1)):
            if width <= 0:
                continue
            gap = sign * (day[:, None] - anchor[None, :])            # days after the end / before the start
            near = ((gap >= 1) & (gap <= width)).any(axis=1) & ~on
            if near.any():
                columns[f"{label}: {name}"] = near.astype(float)
    return pd.DataFrame(columns, index=index)


def festival_windows(calendar: pd.DataFrame, dates, *, after_days: int = 4) -> pd.DataFrame:
    """Daily 0/1 columns per festival and phase (presale, peak, after), holidays pooled into one column.

    Few regressors for the calendar: a festival's effect is carried by its
    phases, not by one dummy per event name and window.

    Parameters
    ----------
    calendar : pandas.DataFrame
        The canonical ``calendar`` table: ``date, event`` (several events on one
        day joined by ``"|"``); optional ``is_holiday``, ``event_type`` (as
        from :func:`opslib.data.from_m5`, joined by ``"|"`` in the order of
        ``event``) and ``supplier_shutdown``.
    dates : sequence of datetime
        The days to describe.
    after_days : int, default 4
        Days after each run of peak days that form the ``after`` phase (the
        post-festival dip) [days]; 0 for none.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``dates``, columns (0.0 or 1.0), in order of first appearance:

        * ``<festival>: presale``: days of an event named ``"<festival> presale"``;
        * ``<festival>: peak``: days of the event ``<festival>`` itself;
        * ``<festival>: after``: the ``after_days`` days after a peak that are
          neither peak nor presale days of that festival;
        * ``holiday``: ``is_holiday`` days (events that fall mostly on holidays
          get no columns of their own: one effect for all public holidays);
        * ``shutdown``: ``supplier_shutdown`` days (logistics stop, e.g. around
          Chinese New Year).

        The festival is the event name, or its ``event_type`` when the
        calendar has one (M5: Sporting, Cultural, National, Religious), so that
        a calendar with dozens of event names still gives a few columns.
    """
    if "date" not in calendar.columns or "event" not in calendar.columns:
        raise DataError(f"exogenous_design: table 'calendar' needs columns 'date' and 'event'; columns seen: "
                        f"{list(calendar.columns)}. Fix: pass the canonical calendar table.")
    index = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    cal = calendar.assign(date=pd.to_datetime(calendar["date"]).dt.normalize()).drop_duplicates("date")
    cal = cal.set_index("date").sort_index()
    holiday_days = (cal["is_holiday"].fillna(False).astype(bool) if "is_holiday" in cal.columns
                    else pd.Series(False, index=cal.index))
    rows = []
    for day, event in cal["event"].dropna().items():
        names = [_slug(e) for e in str(event).split("|")]
        types = (str(cal.at[day, "event_type"]).split("|") if "event_type" in cal.columns
                 and pd.notna(cal.at[day, "event_type"]) else [None] * len(names))
        for name, kind in zip(names, types + [None] * (len(names) - len(types))):
            if name:
                rows.append((day, name, _slug(kind) if kind else None))
    events = pd.DataFrame(rows, columns=["date", "event", "type"])
    columns = {}
    if len(events):
        events["presale"] = events["event"].str.contains(_PRESALE)
        events["festival"] = events["event"].str.replace(_PRESALE, "", regex=True)
        events["holiday"] = holiday_days.reindex(events["date"]).to_numpy()
        mostly_holiday = events.groupby("festival")["holiday"].transform("mean") > 0.5
        events = events[~mostly_holiday]
        events["group"] = events["type"].where(events["type"].notna(), events["festival"])
        day = index.to_numpy().astype("datetime64[D]").astype(np.int64)
        for group in pd.unique(events["group"]):
            part = events[events["group"] == group]
            peak = pd.DatetimeIndex(part.loc[~part["presale"], "date"].unique())
            presale = pd.DatetimeIndex(part.loc[part["presale"], "date"].unique()).difference(peak)
            if len(presale) and index.isin(presale).any():
                columns[f"{group}: presale"] = index.isin(presale).astype(float)
            if len(peak) and index.isin(peak).any():
                columns[f"{group}: peak"] = index.isin(peak).astype(float)
            if after_days > 0 and len(peak):
                ordinal = np.sort(peak.to_numpy().astype("datetime64[D]").astype(np.int64))
                ends = ordinal[np.r_[np.diff(ordinal) > 1, True]]
                gap = day[:, None] - ends[None, :]
                after = ((gap >= 1) & (gap <= after_days)).any(axis=1) & ~index.isin(peak) & ~index.isin(presale)
                if after.any():
                    columns[f"{group}: after"] = after.astype(float)
    if holiday_days.any():
        columns["holiday"] = holiday_days.reindex(index, fill_value=False).to_numpy().astype(float)
    if "supplier_shutdown" in cal.columns:
        shutdown = cal["supplier_shutdown"].fillna(False).astype(bool)
        if shutdown.any():
            columns["shutdown"] = shutdown.reindex(index, fill_value=False).to_numpy().astype(float)
    return pd.DataFrame(columns, index=index)


def _promotion_columns(grid: pd.DataFrame, exposure: pd.DataFrame, after_days: int, flag: bool) -> pd.DataFrame:
    missing = [c for c in ("sku", "date", "depth") if c not in exposure.columns]
    if missing:
        raise DataError(f"exogenous_design: table 'promotion_days' lacks column(s) {missing}; columns seen: "
                        f"{list(exposure.columns)}. Fix: pass opslib.promo.promotion_exposure(promotions, items), "
                        "one row per SKU and promoted day with its effective depth.")
    exposure = exposure[["sku", "date", "depth"]].assign(date=pd.to_datetime(exposure["date"])).astype({"sku": str})
    exposure = exposure.sort_values("depth", ascending=False).drop_duplicates(["sku", "date"])
    key = grid[["sku", "date"]].astype({"sku": str})
    merged = key.merge(exposure[["sku", "date", "depth"]], on=["sku", "date"], how="left")
    promo = merged["depth"].notna().to_numpy()
    depth = np.clip(merged["depth"].fillna(0.0).to_numpy(dtype=float), 0.0, MAX_DEPTH)
    out = pd.DataFrame({"promo": promo.astype(float), "promo_log_discount": np.log1p(-depth)})
    if not flag:
        out = out.drop(columns="promo")
    if after_days > 0:
        after = np.zeros(len(grid), dtype=bool)
        sku = key["sku"].to_numpy()
        bounds = np.flatnonzero(np.r_[True, sku[1:] != sku[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:]):
            p = promo[a:b].astype(np.int8)
            for e in np.flatnonzero(np.diff(np.r_[p, 0]) == -1):
                after[a + e + 1:min(b, a + e + 1 + after_days)] = True
            after[a:b] &= ~promo[a:b]
        out["promo_after"] = after.astype(float)
    return out


def exogenous_design(demand: pd.DataFrame, horizon: int, *, calendar: pd.DataFrame | None = None,
                     promotion_days: pd.DataFrame | None = None, items: pd.DataFrame | None = None,
                     prices: pd.DataFrame | None = None, after_days: int = 7, festival_after_days: int = 4,
                     yearly_harmonics: int = 0, promo_flag: bool = False) -> pd.DataFrame:
    """The regressor table of a demand table, over its history and the next ``horizon`` days.

    A few regressors in the form multiplicative demand takes them (model
    ``"arimax"`` regresses log1p(units)): the log of the price paid relative
    to the list price, festival phases rather than one dummy per event name.

    Parameters
    ----------
    demand : pandas.DataFrame
        The canonical daily ``demand`` table (``sku, date``; ``promo_id`` used
        when no ``promotion_days`` are given).
    horizon : int
        Days after the last demand date to cover [days].
    calendar : pandas.DataFrame, optional
        The ``calendar`` table (``date, event``; ``is_holiday``,
        ``event_type``, ``supplier_shutdown`` and ``snap_<state>`` columns used
        when present, see :func:`festival_windows`). Must cover the horizon
        for the future events to count.
    promotion_days : pandas.DataFrame, optional
        The promotion plan, past and planned, as one row per SKU and promoted
        day: ``sku, date, depth`` (effective depth [fraction]), which is what
        :func:`opslib.promo.promotion_exposure` makes of the canonical
        ``promotions`` table (the forecast engine does not read promotion
        mechanics itself: engines do not import each other; ``opslib.plan``
        chains them). Where two rows share a SKU-day the deepest counts.
    items : pandas.DataFrame, optional
        ``sku``; ``state_id`` for SNAP days.
    prices : pandas.DataFrame, optional
        ``sku, date, price`` [currency/unit], the shelf price, history and
        planned future; gaps are carried forward (then backward) per SKU.
    after_days : int, default 7
        Days after a promotion flagged ``promo_after`` (the post-promotion dip) [days].
    festival_after_days : int, default 4
        Days after a festival's peak in its ``after`` phase [days].
    yearly_harmonics : int, default 0
        Pairs of yearly Fourier terms ``yearly_sin_k``, ``yearly_cos_k`` (day
        of year / 365.25); useful with two or more years of history.
    promo_flag : bool, default False
        Also a 0/1 ``promo`` column with ``promotion_days``. Off by default: a
        SKU's promotions often share one depth, and then the flag and
        ``promo_log_discount`` are (nearly) collinear and neither effect is
        estimable; the log discount alone carries the (1 - d)^elasticity lift.

    Returns
    -------
    pandas.DataFrame
        ``sku, date`` (each SKU from its first demand date to the last date
        plus ``horizon``) and the regressors:

        * ``promo_log_discount`` = log(1 - d), d the
          effective depth [fraction] (capped at :data:`MAX_DEPTH`; 0 off
          promotion): with demand proportional to (1 - d)^elasticity, its
          log-scale coefficient is the price elasticity; ``promo_after`` (0/1)
          the ``after_days`` days after a promotion; ``promo`` (0/1) with
          ``promo_flag``. Without
          ``promotion_days``: ``promo`` from ``demand.promo_id`` over the
          history and 0 (no promotion planned) over the horizon;
        * ``log_relative_price``: log(price / the SKU's median price) from ``prices``;
        * the festival phases, ``holiday`` and ``shutdown`` of :func:`festival_windows`;
        * ``snap`` (0/1): a SNAP day in the SKU's state;
        * ``yearly_sin_k``, ``yearly_cos_k`` for k = 1..``yearly_harmonics``.

    Raises
    ------
    opslib.DataError
        When a table lacks a column it needs, the demand is not daily, or
        ``prices`` has no price for a SKU.
    """
    if int(horizon) != horizon or horizon < 0:
        raise DataError(f"exogenous_design: horizon must be a whole number of days >= 0; got {horizon!r}.")
    grid = _grid(demand, int(horizon))
    out = grid.reset_index(drop=True)
    if promotion_days is not None:
        out = pd.concat([out, _promotion_columns(out, promotion_days, after_days, promo_flag)], axis=1)
    elif "promo_id" in demand.columns:
        flags = demand[["sku", "date", "promo_id"]].assign(date=pd.to_datetime(demand["date"]))
        flags = flags.assign(promo=flags["promo_id"].notna().astype(float)).drop(columns="promo_id")
        out = out.merge(flags, on=["sku", "date"], how="left")
        out["promo"] = out["promo"].fillna(0.0)
    if prices is not None:
        missing = [c for c in ("sku", "date", "price") if c not in prices.columns]
        if missing:
            raise DataError(f"exogenous_design: table 'prices' lacks column(s) {missing}. Fix: pass sku, date, price.")
        p = prices[["sku", "date", "price"]].assign(date=pd.to_datetime(prices["date"]))
        merged = out[["sku", "date"]].merge(p, on=["sku", "date"], how="left")
        price = merged.groupby("sku", sort=False)["price"].transform(lambda s: s.ffill().bfill())
        if price.isna().any():
            bad = merged.loc[price.isna(), "sku"].unique()[:5].tolist()
            raise DataError(f"exogenous_design: table 'prices' has no price for SKU(s) {bad}. Fix: give at least "
                            "one price per SKU, or leave prices out.")
        median = price.groupby(merged["sku"].to_numpy()).transform("median")
        out["log_relative_price"] = np.log(price.to_numpy() / median.to_numpy())
    days = pd.DatetimeIndex(out["date"].unique()).sort_values()
    if calendar is not None:
        windows = festival_windows(calendar, days, after_days=festival_after_days)
        if windows.shape[1]:
            out = pd.concat([out, windows.reindex(pd.DatetimeIndex(out["date"])).reset_index(drop=True)], axis=1)
        snaps = [c for c in calendar.columns if str(c).startswith("snap_")]
        if snaps and items is not None and "state_id" in items.columns:
            cal = calendar.assign(date=pd.to_datetime(calendar["date"])).set_index("date")[snaps].astype(float)
            state = items.set_index(items["sku"].astype(str))["state_id"].astype(str)
            column = "snap_" + out["sku"].astype(str).map(state)
            values = cal.reindex(pd.DatetimeIndex(out["date"])).to_numpy()
            pick = pd.Index(snaps).get_indexer(column.fillna(""))
            snap = np.where(pick >= 0, values[np.arange(len(out)), np.maximum(pick, 0)], np.nan)
            out["snap"] = np.nan_to_num(snap, nan=0.0)
    if yearly_harmonics:
        angle = 2 * np.pi * pd.DatetimeIndex(out["date"]).day_of_year.to_numpy() / 365.25
        for k in range(1, int(yearly_harmonics) + 1):
            out[f"yearly_sin_{k}"] = np.sin(k * angle)
            out[f"yearly_cos_{k}"] = np.cos(k * angle)
    return out


def demand_regressors(demand: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Regressors read from the demand table alone: ``promo`` from ``promo_id`` (none planned ahead).

    What :func:`opslib.forecast.forecast` uses for ``model="arimax"`` when no
    ``exog`` is given: ``promo`` is 1 on history days with a ``promo_id`` and
    0 over the horizon, so past promotions do not inflate the baseline
    forecast. Without a ``promo_id`` column: no regressor (seasonal dummies only).
    """
    if "promo_id" not in demand.columns:
        return _grid(demand, horizon)
    return exogenous_design(demand, horizon)


def regressor_array(exog: pd.DataFrame, skus, dates, future, first_observed) -> Regressors:
    """Align a long regressor table to a SKU x period grid (history and horizon), refusing gaps.

    Parameters
    ----------
    exog : pandas.DataFrame
        ``sku, date`` and one numeric or boolean column per regressor.
    skus : pandas.Index
        SKU of each row of the panel.
    dates, future : pandas.DatetimeIndex
        The history periods of the panel and the forecast periods.
    first_observed : numpy.ndarray of int
        Per SKU, the first history column with an observation: regressors are
        required from there to the end of the horizon.

    Returns
    -------
    Regressors
        Columns with the same value for every SKU on every period (the
        calendar) are held once (``shared``); the others per SKU, as float32.

    Raises
    ------
    opslib.DataError
        When a column is missing or not numeric, a ``(sku, date)`` pair
        repeats, a date falls between the periods of the grid (misaligned), or
        a required SKU-period has no row or a missing value (for example the
        future rows of the plan are missing).
    """
    if not isinstance(exog, pd.DataFrame):
        raise DataError(f"forecast: exog must be a DataFrame (sku, date, <regressors>) or None; got {type(exog).__name__}.")
    missing = [c for c in ("sku", "date") if c not in exog.columns]
    if missing:
        raise DataError(f"forecast: table 'exog' lacks column(s) {missing}; columns seen: {list(exog.columns)}. "
                        "Fix: pass a long table sku, date, <regressor columns> covering history and horizon.")
    names = [c for c in exog.columns if c not in ("sku", "date")]
    bad = [c for c in names if not (pd.api.types.is_numeric_dtype(exog[c]) or pd.api.types.is_bool_dtype(exog[c]))]
    if bad:
        raise DataError(f"forecast: exog column(s) {bad} are not numeric or boolean. Fix: encode them as numbers "
                        "(0/1 for flags).")
    dup = exog.duplicated(["sku", "date"])
    if dup.any():
        rows = exog.loc[dup, ["sku", "date"]].head(5).to_dict("records")
        raise DataError(f"forecast: table 'exog' has {int(dup.sum())} repeated (sku, date) rows, e.g. {rows}. "
                        "Fix: one row per SKU and date.")
    grid = pd.DatetimeIndex(dates).append(pd.DatetimeIndex(future))
    when = pd.DatetimeIndex(pd.to_datetime(exog["date"]))
    col = grid.get_indexer(when)
    row = pd.Index(skus).get_indexer(exog["sku"])
    inside = (when >= grid[0]) & (when <= grid[-1]) & (row >= 0)
    off = inside & (col < 0)
    if off.any():
        rows = exog.loc[off, ["sku", "date"]].head(5).to_dict("records")
        raise DataError(f"forecast: {int(off.sum())} exog dates fall between the periods of the demand grid "
                        f"(misaligned), e.g. {rows}. Fix: use the same dates as the demand table and its forecast.")
    keep = inside & (col >= 0)
    n, width = len(skus), len(grid)
    r_keep, c_keep = row[keep], col[keep]
    required = np.arange(width)[None, :] >= np.asarray(first_observed)[:, None]
    covered = np.zeros((n, width), bool)
    covered[r_keep, c_keep] = True
    gaps = required & ~covered
    shared, shared_names, own, own_names = [], [], [], []
    for name in names:                                   # one (n, width) column at a time: bounded memory
        column = np.full((n, width), np.nan)
        column[r_keep, c_keep] = exog.loc[keep, name].to_numpy(dtype=float)
        column[~required] = np.nan
        gaps |= required & np.isnan(column)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)              # all-NaN periods
            low, high = np.nanmin(column, axis=0), np.nanmax(column, axis=0)
        if np.array_equal(low, high, equal_nan=True):    # the same for every SKU (the calendar): held once
            shared.append(np.nan_to_num(low))
            shared_names.append(str(name))
        else:
            own.append(column.astype(np.float32))
            own_names.append(str(name))
    if gaps.any():
        r, c = np.nonzero(gaps)
        example = [(str(skus[a]), str(grid[b].date())) for a, b in zip(r[:5], c[:5])]
        n_future = int(gaps[:, len(dates):].sum())
        raise DataError(f"forecast: table 'exog' has no row or a missing value for {int(gaps.sum())} SKU-periods "
                        f"({n_future} of them in the forecast horizon), e.g. {example}. Fix: give every regressor "
                        f"for each SKU from its first observation to {grid[-1].date()} (the end of the horizon: "
                        "the planned prices, promotions and calendar).")
    values = np.stack(own, axis=2) if own else np.zeros((n, width, 0), dtype=np.float32)
    return Regressors(values, tuple(own_names), np.column_stack(shared) if shared else None, tuple(shared_names))
