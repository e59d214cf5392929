"""Monthly stock movement report (入/出/存) and its reconciliation (账实相符).

Per SKU and calendar month: the opening stock, what came in and went out by
kind of movement, and the closing stock, in units and in value at unit cost.
The reconciliation lists every SKU-month where the opening stock plus the
recorded movements does not reach the closing stock snapshot.

The identity checked is, per SKU and month :math:`m`,

.. math:: \\text{closing}_m = \\text{opening}_m + \\sum_{k} \\text{movements}_{m,k}

with :math:`k` over ``receipt``, ``shipment``, ``return``, ``adjustment`` and
``transfer`` (signed as in ``stock_movements``: into stock positive).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from opslib.data.schema import MOVEMENT_KINDS
from opslib.data.workspace import Workspace
from opslib.errors import DataError
from opslib.ops._common import (
    check_choice,
    check_workspace,
    memoized,
    month_periods,
    number,
    require,
    sku_categories,
    to_day,
    unit_costs,
)

__all__ = [
    "MOVEMENT_COLUMNS",
    "monthly_stock_movement",
    "reconcile",
    "stock_movement_summary",
]

#: The movement columns of the report, by ``stock_movements.kind``.
MOVEMENT_COLUMNS: dict[str, str] = {kind: f"{kind}_units" for kind in MOVEMENT_KINDS}

_UNIT_COLUMNS = ["opening_units", *MOVEMENT_COLUMNS.values(), "closing_units", "expected_closing_units", "difference_units"]


def monthly_stock_movement(ws: Workspace, months: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The 入/出/存 report: opening, movements and closing per SKU and month.

    Parameters
    ----------
    ws : Workspace
        The shop's tables: ``stock`` (end-of-day book snapshots),
        ``stock_movements`` and ``items`` (``unit_cost``; ``category`` when
        present) are required.
    months : str or iterable of str, optional
        Restrict the result to these months (``"2024-01"``); default all
        months from a SKU's first snapshot or movement to its last.

    Returns
    -------
    pandas.DataFrame
        One row per SKU and month, sorted, also for months without any
        movement. Columns ``sku``, ``month`` (pandas Period, monthly),
        ``category`` (missing when unknown), then in units [units]:
        ``opening_units``, ``receipt_units``, ``shipment_units``,
        ``return_units``, ``adjustment_units``, ``transfer_units`` (signed:
        into stock positive, so shipments are negative), ``closing_units``
        (the last snapshot of the month), ``expected_closing_units``
        (opening plus movements) and ``difference_units`` (closing minus
        expected); ``closing_date`` (the day of the closing snapshot); then
        the same quantities in value [currency] at ``items.unit_cost``
        (``opening_value`` ... ``difference_value``; NaN for SKUs without
        a unit cost).

    Raises
    ------
    opslib.DataError
        If a table or column is missing, or a movement has a kind outside
        ``receipt, shipment, return, adjustment, transfer``.

    Notes
    -----
    The opening stock of a month is the closing snapshot of the month before.
    In a SKU's first month it is implied by the data: the first snapshot
    minus the movements up to and including its day (the stock before the
    first day). A month without a snapshot carries the last earlier
    snapshot (``closing_date`` shows which); months before a SKU's first
    snapshot have no closing stock and their opening is the implied stock
    carried forward by the movements. On-hand is summed over locations, so
    transfers between locations net to zero. Stock is valued at the current
    ``unit_cost`` (no cost history).
    """
    check_workspace(ws, "monthly_stock_movement")
    return _filter_months(_report(ws), months)


def reconcile(ws: Workspace, tolerance_units: float = 1e-6) -> pd.DataFrame:
    """Every SKU-month where opening plus movements differs from the closing snapshot.

    Parameters
    ----------
    ws : Workspace
        The shop's tables (as for :func:`monthly_stock_movement`).
    tolerance_units : float, default 1e-6
        Differences up to this size are rounding, not exceptions [units].

    Returns
    -------
    pandas.DataFrame
        One row per SKU-month that does not reconcile, sorted by SKU and
        month: ``sku``, ``month``, ``category``, ``opening_units``,
        ``net_movement_units`` (sum of the movements), ``expected_closing_units``,
        ``closing_units``, ``closing_date``, ``difference_units`` (closing
        minus expected; negative: stock missing against the records) [units]
        and ``difference_value`` [currency]. Empty when the books agree.
        ``frame.attrs["unverified"]`` counts SKU-months without any snapshot
        yet (before a SKU's first snapshot), which cannot be checked.
    """
    check_workspace(ws, "reconcile")
    if tolerance_units < 0:
        raise ValueError(f"tolerance_units must be zero or more; got {tolerance_units!r}")
    report = _report(ws)
    report["net_movement_units"] = report[list(MOVEMENT_COLUMNS.values())].sum(axis=1)
    unverified = int(report["closing_units"].isna().sum())
    bad = report[report["difference_units"].abs() > tolerance_units]
    cols = [
        "sku", "month", "category", "opening_units", "net_movement_units", "expected_closing_units",
        "closing_units", "closing_date", "difference_units", "difference_value",
    ]
    out = bad[cols].reset_index(drop=True)
    out.attrs["unverified"] = unverified
    return out


def stock_movement_summary(ws: Workspace, by: str | None = None, months: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The movement report summed over SKUs per month (and category).

    Parameters
    ----------
    ws : Workspace
        The shop's tables (as for :func:`monthly_stock_movement`).
    by : {None, "category"}, default None
        Sum over all SKUs, or per ``items.category`` (SKUs without one under
        ``"unassigned"``).
    months : str or iterable of str, optional
        Restrict to these months.

    Returns
    -------
    pandas.DataFrame
        ``month`` (and ``category``), ``skus`` (SKUs in the report that
        month), then every units [units] and value [currency] column of
        :func:`monthly_stock_movement` summed (``closing_*`` and
        ``expected_closing_*`` only over SKUs with a snapshot).
    """
    check_choice("by", by, (None, "category"))
    report = monthly_stock_movement(ws, months)
    keys = ["month"] + (["category"] if by else [])
    if by:
        report["category"] = report["category"].fillna("unassigned")
    numeric = [c for c in report.columns if c.endswith(("_units", "_value"))]
    out = report.groupby(keys, sort=True)[numeric].sum(min_count=0)
    out.insert(0, "skus", report.groupby(keys, sort=True)["sku"].nunique())
    return out.reset_index()


# --------------------------------------------------------------------------- core


def _report(ws: Workspace) -> pd.DataFrame:
    """The whole report, memoized per source tables (a shallow copy: safe to add columns to)."""
    sources = (ws.stock, ws.stock_movements, ws.items)
    return memoized("stock_movement.report", sources, lambda: _compute_report(ws)).copy(deep=False)


def _compute_report(ws: Workspace) -> pd.DataFrame:
    stock = require(ws, "stock", ["sku", "date", "on_hand"], "the stock movement report")
    moves = require(ws, "stock_movements", ["date", "sku", "kind", "qty"], "the stock movement report")
    items = require(ws, "items", ["sku", "unit_cost"], "the stock movement report")

    kinds = moves["kind"].astype("str")
    unknown = ~kinds.isin(MOVEMENT_KINDS)
    if unknown.any():
        rows = moves.loc[unknown].head(5)
        examples = "; ".join(f"row {i} (kind={k!r})" for i, k in zip(rows.index, rows["kind"]))
        raise DataError(
            f"table 'stock_movements', column 'kind': {int(unknown.sum()):,} rows have a kind outside "
            f"{', '.join(MOVEMENT_KINDS)}: {examples}. Fix: map them to one of these kinds."
        )
    snap = pd.DataFrame(
        {"sku": stock["sku"].astype("str").array, "day": to_day(stock["date"]).array, "on_hand": number(stock["on_hand"])}
    )
    bad_snap = snap["day"].isna() | snap["on_hand"].isna() | snap["sku"].isna()
    if bad_snap.any():
        raise DataError(
            f"table 'stock': {int(bad_snap.sum()):,} rows have no sku, date or on_hand. "
            "Fix: drop or complete them (see opslib.validate)."
        )
    mv = pd.DataFrame(
        {"sku": moves["sku"].astype("str").array, "day": to_day(moves["date"]).array, "kind": kinds.array, "qty": number(moves["qty"])}
    )
    bad_mv = mv["day"].isna() | mv["qty"].isna() | mv["sku"].isna()
    if bad_mv.any():
        raise DataError(
            f"table 'stock_movements': {int(bad_mv.sum()):,} rows have no sku, date or qty. "
            "Fix: drop or complete them (see opslib.validate)."
        )

    # daily snapshot per SKU (locations summed), month as an integer ordinal
    snap = snap.groupby(["sku", "day"], as_index=False, sort=True)["on_hand"].sum()
    snap["m"] = _month_ordinal(snap["day"])
    mv["m"] = _month_ordinal(mv["day"])

    closing = snap.groupby(["sku", "m"], sort=False).agg(closing_units=("on_hand", "last"), closing_date=("day", "last"))
    flows = mv.pivot_table(index=["sku", "m"], columns="kind", values="qty", aggfunc="sum", fill_value=0.0)
    flows = flows.reindex(columns=list(MOVEMENT_KINDS), fill_value=0.0)
    flows.columns = list(MOVEMENT_COLUMNS.values())

    first = snap.groupby("sku", sort=False).agg(day0=("day", "first"), on_hand0=("on_hand", "first"))
    mv0 = mv.join(first["day0"], on="sku")
    before = mv0[mv0["day"] <= mv0["day0"]].groupby("sku")["qty"].sum()
    implied = first["on_hand0"] - before.reindex(first.index, fill_value=0.0)

    # the panel: every month from a SKU's first to its last snapshot or movement
    span = pd.concat([snap[["sku", "m"]], mv[["sku", "m"]]]).groupby("sku")["m"].agg(["min", "max"])
    lengths = (span["max"] - span["min"] + 1).to_numpy()
    sku_col = np.repeat(span.index.to_numpy(), lengths)
    starts = np.repeat(span["min"].to_numpy(), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    panel = pd.DataFrame({"sku": pd.array(sku_col, dtype="str"), "m": starts + offsets})
    panel = panel.join(flows, on=["sku", "m"]).join(closing, on=["sku", "m"])
    flow_cols = list(MOVEMENT_COLUMNS.values())
    panel[flow_cols] = panel[flow_cols].fillna(0.0)
    by_sku = panel.groupby("sku", sort=False)
    panel[["closing_units", "closing_date"]] = by_sku[["closing_units", "closing_date"]].ffill()
    net = panel[flow_cols].sum(axis=1)
    net_before = net.groupby(panel["sku"], sort=False).cumsum() - net
    carried = panel["sku"].map(implied).fillna(0.0) + net_before
    previous = panel.groupby("sku", sort=False)["closing_units"].shift(1)
    panel["opening_units"] = previous.fillna(carried)
    panel["expected_closing_units"] = panel["opening_units"] + net
    panel["difference_units"] = panel["closing_units"] - panel["expected_closing_units"]

    cost = panel["sku"].map(unit_costs(items)).to_numpy(dtype=float)
    categories = sku_categories(items)
    panel["category"] = panel["sku"].map(categories) if len(categories) else pd.Series(pd.NA, index=panel.index, dtype="str")
    panel["month"] = pd.PeriodIndex.from_ordinals(panel["m"].to_numpy(), freq="M")
    for col in _UNIT_COLUMNS:
        panel[col.replace("_units", "_value")] = panel[col].to_numpy() * cost
    value_cols = [c.replace("_units", "_value") for c in _UNIT_COLUMNS]
    cols = ["sku", "month", "category", *_UNIT_COLUMNS, "closing_date", *value_cols]
    return panel[cols].sort_values(["sku", "month"], kind="stable").reset_index(drop=True)


def _month_ordinal(days: pd.Series) -> np.ndarray:
    """Period[M] ordinals (months since 1970-01) of datetime values."""
    d = pd.DatetimeIndex(days)
    return ((d.year - 1970) * 12 + d.month - 1).to_numpy(dtype=np.int64)


def _filter_months(report: pd.DataFrame, months) -> pd.DataFrame:
    if months is None:
        return report
    return report[report["month"].isin(month_periods(months))].reset_index(drop=True)
