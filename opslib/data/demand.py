"""The derived ``demand`` table: daily units per SKU from order lines.

:func:`daily_demand` turns ``order_lines`` (plus, when present, ``stock``,
``promotions``, ``items`` and ``returns``) into the canonical ``demand`` table
of :mod:`opslib.data.schema`: one row per SKU and calendar day, zero-filled,
with the stock-out flag, the suspected hidden stock-outs
(:mod:`opslib.data.phantom`), the average paid price and the active promotion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opslib.data.phantom import _flag_runs, _signal_days
from opslib.data.workspace import Workspace
from opslib.errors import DataError

__all__ = ["daily_demand", "DEMAND_COLUMNS"]

DEMAND_COLUMNS: tuple[str, ...] = ("sku", "date", "units", "in_stock", "suspected_stockout", "price", "promo_id")
"""Columns of the table returned by :func:`daily_demand`, in order."""

_SCOPE_PRIORITY = {"all": 0, "category": 1, "sku": 2}


def daily_demand(workspace: Workspace, *, net_of_returns: bool = False,
                 suspected_stockout_level: float = 0.01) -> pd.DataFrame:
    """Daily demand per SKU: the canonical ``demand`` table.

    Parameters
    ----------
    workspace : Workspace
        Must hold ``order_lines`` with ``order_ts, sku, qty, paid_amount``
        (``promo_id`` optional). ``stock``, ``promotions`` (with ``items`` for
        ``category:`` scopes) and ``returns`` are used when present.
    net_of_returns : bool, default False
        Subtract returned quantities on their ``return_date``. ``units`` may
        then be **negative** on a day with more units returned than sold.
        Requires a ``returns`` table.
    suspected_stockout_level : float, default 0.01
        Significance level of :func:`opslib.data.suspected_stockouts` for
        the ``suspected_stockout`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``sku, date, units, in_stock, suspected_stockout, price,
        promo_id``, sorted by
        ``sku, date``, one row per SKU and calendar day:

        * ``date`` [day]: midnight of the local day of ``order_ts``;
        * ``units`` [units/day]: sum of ``qty`` that day, 0 on days without
          sales (``float64``);
        * ``in_stock`` (nullable ``boolean``): ``True`` when the end-of-day
          ``stock.on_hand`` (summed over locations) is > 0, ``False`` when it
          is <= 0, ``<NA>`` when that SKU-day has no snapshot. Snapshots are
          **not** forward-filled: a missing snapshot stays unknown. All
          ``<NA>`` without a ``stock`` table;
        * ``suspected_stockout`` (nullable ``boolean``): ``True`` on book
          in-stock days of a zero-sales run too long for the SKU's selling
          rate (:func:`opslib.data.suspected_stockouts` with the workspace's
          ``stock_movements`` and ``stock_counts``; without movements, a rise
          of book stock beyond the day's sales counts as a receipt, and
          inflows count as known when there is a snapshot every day): a
          suspected hidden stock-out, physical stock gone while the book
          still shows units. ``False`` on other days with a known
          ``in_stock`` (out-of-stock days included: they are not hidden),
          ``<NA>`` where ``in_stock`` is. ``in_stock`` is unaffected; treat
          ``~in_stock | suspected_stockout`` as the days demand was not
          observed;
        * ``price`` [currency/unit]: ``sum(paid_amount) / sum(qty)`` that day,
          NaN on days without units sold;
        * ``promo_id`` (nullable ``string``): the most frequent non-missing
          ``order_lines.promo_id`` among that day's lines (ties: the smallest
          id); on days without one, the promotion of the ``promotions`` table
          whose window ``start..end`` (inclusive) covers the day and whose
          scope covers the SKU (most specific scope first: ``sku:``, then
          ``category:``, then ``all``; then the latest start; then the
          smallest id); ``<NA>`` when none.

        ``frame.attrs["report"]`` is a dict of counts: rows read, SKUs, days,
        and every row skipped on purpose (stock snapshots or returns outside
        the SKU's date range, returns of SKUs never sold) and the runs and
        days of :func:`opslib.data.suspected_stockouts`
        (``suspected_stockout_*``).

    Raises
    ------
    opslib.DataError
        When ``order_lines`` is missing, lacks a required column or has missing
        values in one; when ``stock``, ``returns`` or ``promotions`` lack a
        column they need; when a promotion scope cannot be read; when
        ``net_of_returns`` is asked without a ``returns`` table.

    Notes
    -----
    Each SKU's rows run from its first order line's day to the last day of the
    data: the latest of the last order day over all SKUs, the last stock
    snapshot and (with ``net_of_returns``) the last return. Days before a SKU's
    first sale are not rows: the SKU was presumably not yet listed.

    The work is vectorized: SKUs are integer codes and every SKU-day is a
    position ``offset[sku] + (date - first_day[sku])`` in one flat array; only
    the promotions are looped over (one numpy mask per promotion).
    """
    if not (isinstance(suspected_stockout_level, (int, float)) and 0 < suspected_stockout_level < 1):
        raise DataError(f"daily_demand: parameter 'suspected_stockout_level' must be a probability in (0, 1); "
                        f"received {suspected_stockout_level!r}. Fix: keep the default 0.01.")
    lines = _order_lines(workspace)
    report: dict[str, int] = {"order_lines_read": len(lines)}

    sku_codes, skus = pd.factorize(lines["sku"], sort=True)
    day = lines["date"].to_numpy("datetime64[D]").astype(np.int64)

    first = np.full(len(skus), np.iinfo(np.int64).max)
    np.minimum.at(first, sku_codes, day)
    end = int(day.max())

    stock = _table_or_none(workspace, "stock", ("sku", "date", "on_hand"))
    if stock is not None and len(stock):
        end = max(end, int(_days(stock["date"], "stock", "date").max()))

    returns = None
    if net_of_returns:
        if workspace.returns is None:
            raise DataError(
                "daily_demand(net_of_returns=True) needs a 'returns' table and the workspace has "
                "none. Fix: add the returns table (order_id, sku, qty, return_date) or call "
                "daily_demand(workspace) without net_of_returns."
            )
        returns = _table_or_none(workspace, "returns", ("sku", "qty", "return_date"))
        _refuse_missing(returns, "returns", ("sku", "qty", "return_date"))
        if len(returns):
            end = max(end, int(_days(returns["return_date"], "returns", "return_date").max()))

    # The grid: SKU k owns the positions offset[k] .. offset[k] + length[k] - 1.
    length = end - first + 1
    offset = np.concatenate(([0], np.cumsum(length)[:-1]))
    total = int(length.sum())
    grid_sku = np.repeat(np.arange(len(skus)), length)
    grid_day = np.arange(total) - np.repeat(offset, length) + np.repeat(first, length)

    pos = offset[sku_codes] + (day - first[sku_codes])
    qty = lines["qty"].to_numpy(dtype=float)
    paid = lines["paid_amount"].to_numpy(dtype=float)
    units = np.bincount(pos, weights=qty, minlength=total)
    sold_units = units.copy()
    paid_sum = np.bincount(pos, weights=paid, minlength=total)
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(sold_units > 0, paid_sum / np.where(sold_units > 0, sold_units, 1), np.nan)

    if returns is not None and len(returns):
        r_pos, kept = _positions(returns["sku"], _days(returns["return_date"], "returns", "return_date"),
                                 skus, first, offset, end)
        report["returns_skipped_outside_sku_range"] = int((~kept).sum())
        r_qty = returns["qty"].to_numpy(dtype=float)[kept]
        units -= np.bincount(r_pos, weights=r_qty, minlength=total)

    in_stock = pd.array(np.full(total, pd.NA), dtype="boolean")
    has_snapshot = np.zeros(total, bool)
    on_hand = np.zeros(total)
    if stock is not None:
        on_hand_known = stock["on_hand"].notna().to_numpy()
        s_pos, kept = _positions(stock["sku"], _days(stock["date"], "stock", "date"), skus, first, offset, end)
        report["stock_rows_outside_sku_range"] = int((~kept).sum())
        s_known = on_hand_known[kept]
        s_pos = s_pos[s_known]
        on_hand = np.bincount(s_pos, weights=stock["on_hand"].to_numpy(dtype=float)[kept][s_known],
                              minlength=total)
        has_snapshot = np.bincount(s_pos, minlength=total) > 0
        values = np.zeros(total, dtype=bool)
        values[has_snapshot] = on_hand[has_snapshot] > 0
        in_stock = pd.arrays.BooleanArray(values, ~has_snapshot)
    report["in_stock_unknown_days"] = int(pd.isna(in_stock).sum())

    promo = np.full(total, None, dtype=object)
    if "promo_id" in lines.columns:
        tagged = lines["promo_id"].notna().to_numpy()
        if tagged.any():
            counts = (
                pd.DataFrame({"pos": pos[tagged], "promo_id": lines["promo_id"].to_numpy()[tagged].astype(str)})
                .value_counts()
                .rename("n")
                .reset_index()
                .sort_values(["pos", "n", "promo_id"], ascending=[True, False, True], kind="stable")
                .drop_duplicates("pos")
            )
            promo[counts["pos"].to_numpy()] = counts["promo_id"].to_numpy()
    report["days_with_promo_from_order_lines"] = int(pd.notna(promo).sum())
    if workspace.promotions is not None and len(workspace.promotions):
        from_table = _promotions_by_position(workspace, skus, grid_sku, grid_day)
        fill = pd.isna(promo) & pd.notna(from_table)
        promo[fill] = from_table[fill]
        report["days_with_promo_from_promotions"] = int(fill.sum())
    suspected = _suspected(workspace, skus, grid_sku, grid_day, sold_units, in_stock, has_snapshot, on_hand,
                           pd.notna(promo), suspected_stockout_level, report)

    frame = pd.DataFrame(
        {
            "sku": pd.Series(np.asarray(skus, dtype=object)[grid_sku], dtype=lines["sku"].dtype),
            "date": pd.Series(grid_day.astype("datetime64[D]").astype("datetime64[ns]")),
            "units": units,
            "in_stock": in_stock,
            "suspected_stockout": suspected,
            "price": price,
            "promo_id": pd.array(promo, dtype="string"),
        }
    )
    report.update(skus=len(skus), rows=total)
    report["first_date"] = str(np.datetime64(int(first.min()), "D"))
    report["last_date"] = str(np.datetime64(end, "D"))
    frame.attrs["report"] = report
    return frame


# --------------------------------------------------------------------------- helpers


def _suspected(workspace: Workspace, skus: pd.Index, grid_sku: np.ndarray, grid_day: np.ndarray,
               sold: np.ndarray, in_stock: pd.arrays.BooleanArray, has_snapshot: np.ndarray,
               on_hand: np.ndarray, promo: np.ndarray, level: float, report: dict) -> pd.arrays.BooleanArray:
    """The ``suspected_stockout`` column on the grid (``<NA>`` where ``in_stock`` is)."""
    book = np.asarray(in_stock.fillna(False), dtype=bool)
    if not book.any():
        return pd.arrays.BooleanArray(np.zeros(len(book), bool), np.asarray(in_stock.isna()))
    base = int(grid_day.min())
    key = grid_sku.astype(np.int64) * (1 << 32) + (grid_day - base)
    movements = workspace.stock_movements
    inflow, count_positive, count_zero = _signal_days(key, skus, base, book, movements, workspace.stock_counts,
                                                      "daily_demand")
    inflows_known = movements is not None
    if movements is None:  # no movements: a rise of book stock beyond the day's sales is a receipt
        same_sku = np.zeros(len(key), bool)
        same_sku[1:] = grid_sku[1:] == grid_sku[:-1]
        follows = same_sku & has_snapshot & np.concatenate(([False], has_snapshot[:-1]))
        rise = np.zeros(len(key), bool)
        rise[1:] = on_hand[1:] - on_hand[:-1] + sold[1:] > 0
        inflow |= follows & rise
        # every inflow is seen only with a snapshot every day (after each SKU's first)
        inflows_known = bool(has_snapshot[same_sku].all())
    flags = _flag_runs(grid_sku, grid_day, sold, book, promo, inflow, count_positive, count_zero, level=level,
                       history_days=91, min_history_days=28, inflows_known=inflows_known)
    report.update({f"suspected_stockout_{k}": v for k, v in flags.report.items()
                   if k in ("runs", "runs_flagged", "days_flagged", "runs_cleared", "runs_confirmed")})
    return pd.arrays.BooleanArray(flags.flagged, np.asarray(in_stock.isna()))


def _order_lines(workspace: Workspace) -> pd.DataFrame:
    if workspace.order_lines is None:
        hint = (
            " This workspace already has a 'demand' table (for example from opslib.data.from_m5): "
            "use workspace.demand directly."
            if workspace.demand is not None
            else ""
        )
        raise DataError(
            "daily_demand needs the 'order_lines' table (order_id, order_ts, sku, qty, paid_amount) "
            "and the workspace has none. Fix: load or import order lines into workspace.order_lines."
            + hint
        )
    lines = workspace.order_lines
    needed = ("order_ts", "sku", "qty", "paid_amount")
    _require_columns(lines, "order_lines", needed)
    if not len(lines):
        raise DataError("table 'order_lines' is empty: daily_demand needs at least one order line. "
                        "Fix: load the order history into workspace.order_lines.")
    _refuse_missing(lines, "order_lines", needed)
    ts = lines["order_ts"]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        try:
            ts = pd.to_datetime(ts, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"table 'order_lines', column 'order_ts': cannot read the values as timestamps ({exc}). "
                "Fix: store timestamps (datetime64) or ISO 8601 strings like '2024-03-01 10:15:00'."
            ) from None
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)  # keep the local wall time: the shop's calendar day
    out = pd.DataFrame({"sku": lines["sku"].astype(str), "date": ts.dt.normalize(),
                        "qty": lines["qty"], "paid_amount": lines["paid_amount"]})
    if "promo_id" in lines.columns:
        out["promo_id"] = lines["promo_id"].astype(object).where(lines["promo_id"].notna(), None)
    return out


def _require_columns(frame: pd.DataFrame, table: str, needed) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"table {table!r} lacks the column(s) {', '.join(map(repr, missing))} that daily_demand "
            f"needs; it has: {', '.join(map(str, frame.columns))}. Fix: rename or add the column(s) "
            f"(required: {', '.join(needed)})."
        )


def _refuse_missing(frame: pd.DataFrame, table: str, needed) -> None:
    for column in needed:
        bad = frame.index[frame[column].isna().to_numpy()]
        if len(bad):
            raise DataError(
                f"table {table!r}, column {column!r}: {len(bad)} row(s) have no value, and every "
                f"row needs one (first rows: {', '.join(map(str, bad[:5]))}). Fix: fill the "
                f"values or drop those rows before calling daily_demand."
            )


def _table_or_none(workspace: Workspace, table: str, needed) -> pd.DataFrame | None:
    frame = getattr(workspace, table)
    if frame is None:
        return None
    _require_columns(frame, table, needed)
    return frame


def _days(values: pd.Series, table: str, column: str) -> np.ndarray:
    """Calendar days as int64 days since 1970-01-01."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:
            values = pd.to_datetime(values, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"table {table!r}, column {column!r}: cannot read the values as dates ({exc}). "
                "Fix: store dates (datetime64) or ISO 8601 strings like '2024-03-01'."
            ) from None
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    if values.isna().any():
        bad = values.index[values.isna().to_numpy()]
        raise DataError(
            f"table {table!r}, column {column!r}: {len(bad)} row(s) have no date (first rows: "
            f"{', '.join(map(str, bad[:5]))}). Fix: fill the dates or drop those rows."
        )
    return values.to_numpy("datetime64[D]").astype(np.int64)


def _positions(sku: pd.Series, day: np.ndarray, skus: pd.Index, first: np.ndarray,
               offset: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid positions of (sku, day) pairs, and the mask of pairs inside the grid."""
    code = skus.get_indexer(sku.astype(str))
    known = code >= 0
    safe = np.where(known, code, 0)
    kept = known & (day >= first[safe]) & (day <= end)
    return offset[safe[kept]] + (day[kept] - first[safe[kept]]), kept


def _promotions_by_position(workspace: Workspace, skus: pd.Index, grid_sku: np.ndarray,
                            grid_day: np.ndarray) -> np.ndarray:
    """The promotions-table promotion active at each grid position (None when none)."""
    promotions = workspace.promotions
    _require_columns(promotions, "promotions", ("promo_id", "start", "end", "scope"))
    _refuse_missing(promotions, "promotions", ("promo_id", "start", "end", "scope"))
    start = _days(promotions["start"], "promotions", "start")
    end = _days(promotions["end"], "promotions", "end")
    scopes = promotions["scope"].astype(str).str.strip()
    kind = scopes.str.split(":", n=1).str[0].str.strip().str.lower()
    argument = scopes.str.split(":", n=1).str[1]
    bad = ~kind.isin(list(_SCOPE_PRIORITY)) | ((kind != "all") & argument.fillna("").str.strip().eq(""))
    if bad.any():
        rows = promotions.loc[bad.to_numpy(), ["promo_id", "scope"]].head(5)
        raise DataError(
            "table 'promotions', column 'scope': scope must be 'all', 'category:<category>' or "
            "'sku:<sku>[|<sku>...]'; offending rows: "
            + "; ".join(f"{p!r}: {s!r}" for p, s in zip(rows["promo_id"], rows["scope"]))
            + ". Fix: rewrite those scopes in one of these forms."
        )

    sku_category = None
    if kind.eq("category").any():
        items = workspace.items
        if items is None or "sku" not in items.columns or "category" not in items.columns:
            raise DataError(
                "table 'promotions' has 'category:<category>' scopes, which need table 'items' with "
                "columns 'sku' and 'category' to know each SKU's category. Fix: add items.category, "
                "or rewrite those scopes as 'sku:<sku>|<sku>'."
            )
        category = pd.Series(items["category"].to_numpy(), index=items["sku"].astype(str).to_numpy())
        category = category[~category.index.duplicated()]
        sku_category = category.reindex(skus).astype(object).to_numpy()

    # Lowest priority first: later assignments win.
    order = pd.DataFrame({"priority": kind.map(_SCOPE_PRIORITY).to_numpy(), "start": start,
                          "promo_id": promotions["promo_id"].astype(str).to_numpy()})
    order = order.sort_values(["priority", "start", "promo_id"], ascending=[True, True, False], kind="stable")
    result = np.full(len(grid_sku), None, dtype=object)
    for i in order.index.to_numpy():
        k, arg = kind.iloc[i], argument.iloc[i]
        if k == "all":
            sku_mask = np.ones(len(skus), dtype=bool)
        elif k == "category":
            sku_mask = sku_category == arg.strip()
        else:
            sku_mask = skus.isin([s.strip() for s in arg.split("|")])
        in_window = (grid_day >= start[i]) & (grid_day <= end[i])
        result[in_window & sku_mask[grid_sku]] = order.at[i, "promo_id"]
    return result
