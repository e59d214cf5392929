"""Stocktake variance (盘点): counted against book stock, shrinkage, flagged lines.

A stocktake counts the physical stock of some SKUs on a day. The difference
with the book stock is shrinkage (theft, damage, errors) when negative and
found stock when positive.

Book stock on a count date
--------------------------
``stock.on_hand`` is the book stock at the end of the day. A shop that books
the count's correction the same day (an ``adjustment`` movement dated the
count date, as the demo shop does) has a snapshot that already equals the
count; the book stock *before* the count is then the snapshot minus the
adjustments of that SKU and day. Without a ``stock_movements`` table, or
without an adjustment that day, the book stock is the snapshot itself. A
count date without a snapshot uses the last earlier snapshot (``book_date``).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from opslib.data.workspace import Workspace
from opslib.errors import DataError
from opslib.ops._common import check_choice, check_workspace, memoized, month_periods, number, require, sku_categories, to_day, unit_costs

__all__ = ["stocktake_variance", "stocktake_summary"]


def stocktake_variance(
    ws: Workspace, tolerance_units: float = 0.0, tolerance_share: float = 0.0, months: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """Counted against book stock for every count line.

    Parameters
    ----------
    ws : Workspace
        The shop's tables: ``stock_counts``, ``stock`` and ``items``
        (``unit_cost``) are required; ``stock_movements`` is used when present
        (see the module notes on the book stock).
    tolerance_units : float, default 0
        A line is flagged when its absolute variance exceeds both this many
        units [units] ...
    tolerance_share : float, default 0
        ... and this share of the book stock [fraction]. With both zero,
        every line with a variance is flagged.
    months : str or iterable of str, optional
        Only the counts of these months (``"2024-01"``); default all.

    Returns
    -------
    pandas.DataFrame
        One row per count line, sorted by count date and SKU: ``sku``,
        ``date`` (count date), ``category``, ``counted_units``,
        ``book_units`` [units], ``book_date``, ``variance_units`` (counted
        minus book: negative is a loss) [units], ``shrinkage_units`` (book
        minus counted where positive, else 0) [units], ``variance_share``
        (variance over book; NaN when the book is zero) [fraction],
        ``unit_cost`` [currency/unit], ``variance_value`` and
        ``shrinkage_value`` [currency], ``flagged`` (bool).

    Raises
    ------
    opslib.DataError
        If a table or column is missing, or a count has no snapshot on or
        before its date.
    """
    check_workspace(ws, "stocktake_variance")
    if tolerance_units < 0 or tolerance_share < 0:
        raise ValueError(
            f"tolerances must be zero or more; got tolerance_units={tolerance_units!r}, "
            f"tolerance_share={tolerance_share!r}"
        )
    sources = (ws.stock_counts, ws.stock, ws.stock_movements, ws.items)
    kind = ("stocktake_variance", float(tolerance_units), float(tolerance_share))
    lines = memoized(kind, sources, lambda: _variance(ws, tolerance_units, tolerance_share))
    if months is None:
        return lines.copy(deep=False)
    wanted = month_periods(months)
    return lines[lines["date"].dt.to_period("M").isin(wanted).to_numpy()].reset_index(drop=True)


def _variance(ws: Workspace, tolerance_units: float, tolerance_share: float) -> pd.DataFrame:
    counts = require(ws, "stock_counts", ["sku", "date", "counted_qty"], "stocktake_variance")
    stock = require(ws, "stock", ["sku", "date", "on_hand"], "stocktake_variance")
    items = require(ws, "items", ["sku", "unit_cost"], "stocktake_variance")

    lines = pd.DataFrame(
        {"sku": counts["sku"].astype("str").array, "date": to_day(counts["date"]).array, "counted_units": number(counts["counted_qty"])}
    )
    # Snapshots of counted SKUs only, keyed by the integer code of the SKU among the
    # counted ones: the daily book of every SKU is millions of rows at scale, and
    # grouping and matching on text would dominate the report.
    counted = pd.Index(lines["sku"].dropna().unique())
    code = counted.get_indexer(stock["sku"].astype("str").array)
    of_counted = code >= 0
    snap = pd.DataFrame(
        {
            "_sku": code[of_counted],
            "book_date": to_day(stock["date"][of_counted]).array,
            "on_hand": number(stock["on_hand"])[of_counted],
        }
    ).dropna(subset=["book_date"])
    snap = snap.groupby(["_sku", "book_date"], as_index=False)["on_hand"].sum().sort_values("book_date", kind="stable")
    lines["_sku"] = counted.get_indexer(lines["sku"])
    lines = lines.sort_values("date", kind="stable")
    lines = pd.merge_asof(lines, snap, left_on="date", right_on="book_date", by="_sku", direction="backward")
    lines = lines.drop(columns="_sku")
    missing = lines["book_date"].isna()
    if missing.any():
        rows = lines.loc[missing].head(5)
        examples = "; ".join(f"sku={s!r}, date={d:%Y-%m-%d}" for s, d in zip(rows["sku"], rows["date"]))
        raise DataError(
            f"table 'stock_counts': {int(missing.sum()):,} counts have no stock snapshot on or before their "
            f"date ({examples}). Fix: add the book on_hand of those SKUs to 'stock', or drop the counts."
        )
    adjustments = pd.Series(0.0, index=lines.index)
    if ws.stock_movements is not None:
        moves = require(ws, "stock_movements", ["date", "sku", "kind", "qty"], "stocktake_variance")
        adj = moves[moves["kind"].astype("str").to_numpy() == "adjustment"]
        booked = pd.DataFrame(
            {"sku": adj["sku"].astype("str").array, "date": to_day(adj["date"]).array, "qty": number(adj["qty"])}
        ).groupby(["sku", "date"])["qty"].sum()
        same_day = lines["book_date"] == lines["date"]
        key = pd.MultiIndex.from_arrays([lines["sku"], lines["date"]])
        found = pd.Series(booked.reindex(key).to_numpy(), index=lines.index).fillna(0.0)
        adjustments = found.where(same_day, 0.0)
    lines["book_units"] = lines["on_hand"] - adjustments
    lines["variance_units"] = lines["counted_units"] - lines["book_units"]
    lines["shrinkage_units"] = (-lines["variance_units"]).clip(lower=0.0)
    book = lines["book_units"]
    lines["variance_share"] = lines["variance_units"] / book.where(book != 0)
    lines["unit_cost"] = lines["sku"].map(unit_costs(items)).astype(float)
    lines["variance_value"] = lines["variance_units"] * lines["unit_cost"]
    lines["shrinkage_value"] = lines["shrinkage_units"] * lines["unit_cost"]
    limit = np.maximum(tolerance_units, tolerance_share * book.abs().to_numpy())
    lines["flagged"] = lines["variance_units"].abs().to_numpy() > limit
    categories = sku_categories(items)
    lines["category"] = lines["sku"].map(categories) if len(categories) else pd.NA
    cols = [
        "sku", "date", "category", "counted_units", "book_units", "book_date", "variance_units",
        "shrinkage_units", "variance_share", "unit_cost", "variance_value", "shrinkage_value", "flagged",
    ]
    return lines[cols].sort_values(["date", "sku"], kind="stable").reset_index(drop=True)


def stocktake_summary(
    ws: Workspace,
    by: str = "date",
    tolerance_units: float = 0.0,
    tolerance_share: float = 0.0,
    months: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Stocktake results summed per count date or per category.

    Parameters
    ----------
    ws : Workspace
        The shop's tables (as for :func:`stocktake_variance`).
    by : {"date", "category"}, default "date"
        Group the count lines by count date or by ``items.category``
        (``"unassigned"`` when unknown).
    tolerance_units, tolerance_share : float
        Passed to :func:`stocktake_variance` for the ``flagged`` count.
    months : str or iterable of str, optional
        Only the counts of these months (``"2024-01"``); default all.

    Returns
    -------
    pandas.DataFrame
        ``date`` or ``category``, ``lines`` (count lines), ``lines_with_variance``,
        ``lines_flagged``, ``accuracy`` (share of lines without variance)
        [fraction], ``book_units``, ``counted_units``, ``variance_units``,
        ``shrinkage_units`` [units], ``variance_value``, ``shrinkage_value``
        [currency] and ``shrinkage_share`` (shrinkage over book units)
        [fraction].
    """
    check_choice("by", by, ("date", "category"))
    lines = stocktake_variance(ws, tolerance_units, tolerance_share, months)
    if by == "category":
        lines["category"] = lines["category"].fillna("unassigned")
    lines["with_variance"] = lines["variance_units"] != 0
    out = lines.groupby(by, sort=True).agg(
        lines=("sku", "size"),
        lines_with_variance=("with_variance", "sum"),
        lines_flagged=("flagged", "sum"),
        book_units=("book_units", "sum"),
        counted_units=("counted_units", "sum"),
        variance_units=("variance_units", "sum"),
        shrinkage_units=("shrinkage_units", "sum"),
        variance_value=("variance_value", "sum"),
        shrinkage_value=("shrinkage_value", "sum"),
    )
    out.insert(3, "accuracy", 1.0 - out["lines_with_variance"] / out["lines"])
    book = out["book_units"]
    out["shrinkage_share"] = out["shrinkage_units"] / book.where(book != 0)
    for col in ("lines", "lines_with_variance", "lines_flagged"):
        out[col] = out[col].astype("int64")
    return out.reset_index()
