"""The monthly operations report: every report of :mod:`opslib.ops` for one month.

:func:`monthly_report` gathers the frames a month-end review needs (the KPI
tiles with the change against the month before, the 入/出/存 stock movement
and its reconciliation, the stocktake, the supplier scorecard and the stock
exceptions) into a :class:`MonthlyReport`. It adds no measure of its own:
every figure is one of the report functions' results, restricted to the
month. Writing the report to Excel or HTML lives in
:mod:`opslib.ops.export`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from opslib.data.workspace import Workspace
from opslib.ops._common import check_workspace, day_span, require
from opslib.ops.exceptions import stock_exceptions
from opslib.ops.kpis import kpis, repurchase_rate
from opslib.ops.stock_movement import monthly_stock_movement, reconcile, stock_movement_summary
from opslib.ops.stocktake import stocktake_summary, stocktake_variance
from opslib.ops.suppliers import supplier_scorecard

__all__ = [
    "REPURCHASE_WINDOW_DAYS",
    "TILE_MEASURES",
    "MonthlyReport",
    "available_months",
    "kpi_tiles",
    "last_full_month",
    "monthly_report",
    "parse_month",
]

#: The KPI tiles of the report: measure -> (label, kind of figure). The kind
#: says how to show it: ``money`` [currency], ``count``, ``units``,
#: ``percent`` [fraction shown as a percentage], ``days``, ``ratio``.
TILE_MEASURES: dict[str, tuple[str, str]] = {
    "gmv": ("GMV", "money"),
    "orders": ("Orders", "count"),
    "units": ("Units sold", "units"),
    "average_order_value": ("Average order value", "money"),
    "conversion_rate": ("Conversion rate", "percent"),
    "return_rate": ("Return rate", "percent"),
    "gross_margin": ("Gross margin", "money"),
    "margin_rate": ("Margin rate", "percent"),
    "stockout_rate": ("Stock-out rate", "percent"),
    "avg_inventory_value": ("Average inventory value", "money"),
    "inventory_turnover": ("Inventory turnover", "ratio"),
    "days_of_cover": ("Days of cover", "days"),
}

#: The window of the report's repurchase rate [days]: a customer repurchases
#: when a second kept order follows the first within this many days.
REPURCHASE_WINDOW_DAYS = 90

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class MonthlyReport:
    """The monthly operations report of one shop and month.

    Attributes
    ----------
    shop : str
        The workspace name.
    month : pandas.Period
        The month reported (monthly period).
    kpi_tiles : DataFrame
        One row per measure of :data:`TILE_MEASURES` (see :func:`kpi_tiles`),
        then ``repurchase_rate`` (when the order lines have ``customer_id``):
        :func:`~opslib.ops.repurchase_rate` over
        :data:`REPURCHASE_WINDOW_DAYS` as known at the end of the month,
        against the end of the month before.
    kpis_by_category : DataFrame
        :func:`~opslib.ops.kpis` by category for the month.
    kpis_by_channel : DataFrame
        :func:`~opslib.ops.kpis` by channel for the month (empty without
        ``order_lines.channel``).
    stock_movement : DataFrame
        :func:`~opslib.ops.monthly_stock_movement` for the month, per SKU.
    stock_movement_summary : DataFrame
        :func:`~opslib.ops.stock_movement_summary` by category for the month.
    reconciliation : DataFrame
        :func:`~opslib.ops.reconcile` exceptions of the month (empty when
        the books agree).
    stocktake : DataFrame
        :func:`~opslib.ops.stocktake_variance` lines counted in the month.
    stocktake_summary : DataFrame
        Those lines summed per category (as
        :func:`~opslib.ops.stocktake_summary`).
    supplier_scorecard : DataFrame
        :func:`~opslib.ops.supplier_scorecard` per month, this month's rows.
    stock_exceptions : DataFrame
        :func:`~opslib.ops.stock_exceptions` on the last stock day of the month.
    repurchase : DataFrame
        :func:`~opslib.ops.repurchase_rate` by monthly cohort of first order,
        as known at the end of the month (empty without ``customer_id``).
    notes : tuple of str
        What a reader should know: measures left empty and why, tables
        missing, rows that could not be placed.
    """

    shop: str
    month: pd.Period
    kpi_tiles: pd.DataFrame
    kpis_by_category: pd.DataFrame
    kpis_by_channel: pd.DataFrame
    stock_movement: pd.DataFrame
    stock_movement_summary: pd.DataFrame
    reconciliation: pd.DataFrame
    stocktake: pd.DataFrame
    stocktake_summary: pd.DataFrame
    supplier_scorecard: pd.DataFrame
    stock_exceptions: pd.DataFrame
    repurchase: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = field(default=())

    #: attribute -> sheet or section title, in the order of the report
    SECTIONS = {
        "kpi_tiles": "KPIs",
        "kpis_by_category": "KPIs by category",
        "kpis_by_channel": "KPIs by channel",
        "stock_movement": "Stock movement",
        "stock_movement_summary": "Movement by category",
        "reconciliation": "Reconciliation",
        "stocktake": "Stocktake",
        "stocktake_summary": "Stocktake by category",
        "supplier_scorecard": "Suppliers",
        "stock_exceptions": "Stock exceptions",
        "repurchase": "Repurchase by cohort",
    }

    def frames(self) -> dict[str, pd.DataFrame]:
        """The report frames by section title, in report order."""
        return {title: getattr(self, attr) for attr, title in self.SECTIONS.items()}

    def sheets(self) -> dict[str, pd.DataFrame]:
        """The frames as written to a file: periods as ``"YYYY-MM"`` text, dates without time zone.

        What :func:`~opslib.ops.write_excel` and
        :func:`~opslib.ops.write_html` write, section by section.
        """
        return {title: _plain(frame) for title, frame in self.frames().items()}


def parse_month(month) -> pd.Period:
    """A month as a monthly Period; ``ValueError`` unless it reads ``YYYY-MM``.

    Parameters
    ----------
    month : str or pandas.Period
        ``"2024-03"``, or a Period (converted to monthly).
    """
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    text = str(month).strip()
    if not _MONTH.match(text):
        raise ValueError(f"month must be written YYYY-MM, like 2024-03; got {month!r}")
    return pd.Period(text, freq="M")


def available_months(ws: Workspace) -> list[pd.Period]:
    """The months with order lines, from the first to the last (monthly Periods)."""
    check_workspace(ws, "available_months")
    lines = require(ws, "order_lines", ["order_ts"], "the monthly report")
    first, last = day_span(lines["order_ts"])
    if pd.isna(first):
        return []
    return list(pd.period_range(first.to_period("M"), last.to_period("M"), freq="M"))


def last_full_month(ws: Workspace) -> pd.Period:
    """The last month whose every day is inside the order lines.

    The month of the last order when that order falls on the month's last
    day, else the month before.
    """
    check_workspace(ws, "last_full_month")
    lines = require(ws, "order_lines", ["order_ts"], "the monthly report")
    last = day_span(lines["order_ts"])[1]
    if pd.isna(last):
        raise ValueError(f"the order_lines of {ws.name!r} have no valid order_ts: there is no month to report")
    month = last.to_period("M")
    return month if last == month.end_time.normalize() else month - 1


def kpi_tiles(monthly_kpis: pd.DataFrame, month) -> pd.DataFrame:
    """The KPI tiles of a month with the change against the month before.

    Parameters
    ----------
    monthly_kpis : DataFrame
        :func:`~opslib.ops.kpis` with ``freq="M"``, overall (no breakdown).
    month : str or pandas.Period
        The month of the tiles.

    Returns
    -------
    DataFrame
        One row per measure of :data:`TILE_MEASURES` with ``measure``,
        ``label``, ``kind``, ``value`` (the month), ``previous`` (the month
        before; NaN in the first month), ``change`` (value - previous, in the
        measure's unit: points for rates) and ``change_rate`` (change over
        previous [fraction]; NaN when previous is zero or missing).
    """
    month = parse_month(month)
    by_period = monthly_kpis.set_index("period")
    now = by_period.loc[month] if month in by_period.index else pd.Series(np.nan, index=by_period.columns)
    before = by_period.loc[month - 1] if (month - 1) in by_period.index else pd.Series(np.nan, index=by_period.columns)
    rows = [_tile(measure, title, kind, now[measure], before[measure]) for measure, (title, kind) in TILE_MEASURES.items()]
    return pd.DataFrame(rows)


def _tile(measure: str, title: str, kind: str, value, previous) -> dict:
    value, previous = float(value), float(previous)
    change = value - previous
    rate = change / abs(previous) if previous and np.isfinite(previous) else np.nan
    return {"measure": measure, "label": title, "kind": kind, "value": value, "previous": previous,
            "change": change, "change_rate": rate}


def monthly_report(ws: Workspace, month: str | pd.Period) -> MonthlyReport:
    """Every operations report of one month, ready to review or export.

    Parameters
    ----------
    ws : Workspace
        The shop's tables: ``order_lines``, ``items``, ``stock`` and
        ``stock_movements`` are required; the stocktake needs
        ``stock_counts`` and the scorecard ``purchase_orders`` (each is empty
        with a note when its table is missing).
    month : str or pandas.Period
        The month, ``"YYYY-MM"``.

    Returns
    -------
    MonthlyReport

    Raises
    ------
    ValueError
        If ``month`` is not written ``YYYY-MM`` or lies outside the months
        of the order lines (the message says which months there are).
    opslib.DataError
        If a required table or column is missing.

    Examples
    --------
    >>> report = monthly_report(opslib.load_demo(), "2026-09")  # doctest: +SKIP
    >>> write_excel(report, "2026-09.xlsx")  # doctest: +SKIP
    """
    check_workspace(ws, "monthly_report")
    period = parse_month(month)
    months = available_months(ws)
    if not months:
        raise ValueError(f"the order_lines of {ws.name!r} have no valid order_ts: there is no month to report")
    if period not in months:
        raise ValueError(
            f"month {period} is outside the data of {ws.name!r}: the order lines run from "
            f"{months[0]} to {months[-1]}. Choose a month in that range."
        )
    notes: list[str] = []
    label = str(period)

    overall = kpis(ws, "M")
    notes.extend(overall.attrs.get("notes", []))
    tiles = kpi_tiles(overall, period)
    if "customer_id" in ws.order_lines.columns:
        repurchase = repurchase_rate(ws, REPURCHASE_WINDOW_DAYS, freq="M", as_of=period.end_time.normalize())
        before = repurchase_rate(ws, REPURCHASE_WINDOW_DAYS, as_of=(period - 1).end_time.normalize()).iloc[0]
        customers = repurchase["customers"].sum()
        value = repurchase["repeat_customers"].sum() / customers if customers else np.nan
        title = f"Repurchase rate ({REPURCHASE_WINDOW_DAYS} days)"
        row = _tile("repurchase_rate", title, "percent", value, before["repurchase_rate"])
        tiles = pd.concat([tiles, pd.DataFrame([row])], ignore_index=True)
    else:
        repurchase = pd.DataFrame()
        notes.append("The order lines have no customer_id: there is no repurchase rate.")
    by_category = kpis(ws, "M", by="category") if "category" in ws.items.columns else _empty_kpis("category")
    by_category = _month_rows(by_category, "period", period)
    if ws.order_lines is not None and "channel" in ws.order_lines.columns:
        by_channel = _month_rows(kpis(ws, "M", by="channel"), "period", period)
    else:
        by_channel = _empty_kpis("channel")
        notes.append("The order lines have no channel column: there are no KPIs by channel.")

    movement = monthly_stock_movement(ws, label)
    movement_summary = stock_movement_summary(ws, by="category", months=label)
    recon = reconcile(ws)
    recon = _month_rows(recon, "month", period)

    if ws.stock_counts is not None:
        counts = stocktake_variance(ws, months=label)
        count_summary = stocktake_summary(ws, by="category", months=label)
        if counts.empty:
            notes.append(f"No stocktake was counted in {period}.")
    else:
        counts = count_summary = pd.DataFrame()
        notes.append("There is no stock_counts table: the stocktake sections are empty.")

    if ws.purchase_orders is not None and "receipt_date" in ws.purchase_orders.columns:
        suppliers = _month_rows(supplier_scorecard(ws, freq="M"), "period", period)
    else:
        suppliers = pd.DataFrame()
        notes.append("There are no purchase orders with receipt_date: the supplier scorecard is empty.")

    last_stock_day = pd.NaT  # the last stock snapshot day of the month
    if ws.stock is not None:
        last_stock_day = day_span(ws.stock["date"], period.start_time, (period + 1).start_time)[1]
    if pd.notna(last_stock_day):
        exceptions = stock_exceptions(ws, as_of=last_stock_day)
    else:
        exceptions = pd.DataFrame()
        notes.append(f"No stock snapshot in {period}: the stock exceptions are empty.")

    return MonthlyReport(
        shop=ws.name,
        month=period,
        kpi_tiles=tiles,
        kpis_by_category=by_category,
        kpis_by_channel=by_channel,
        stock_movement=movement,
        stock_movement_summary=movement_summary,
        reconciliation=recon,
        stocktake=counts,
        stocktake_summary=count_summary,
        supplier_scorecard=suppliers,
        stock_exceptions=exceptions,
        repurchase=repurchase,
        notes=tuple(dict.fromkeys(notes)),
    )


# --------------------------------------------------------------------------- helpers


def _month_rows(frame: pd.DataFrame, column: str, period: pd.Period) -> pd.DataFrame:
    if frame.empty:
        return frame.reset_index(drop=True)
    return frame[(frame[column] == period).to_numpy()].reset_index(drop=True)


def _empty_kpis(by: str) -> pd.DataFrame:
    from opslib.ops.kpis import KPI_COLUMNS

    return pd.DataFrame(columns=["period", by, *KPI_COLUMNS])


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Periods as text and time zones dropped, for files."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.PeriodDtype):
            out[col] = s.astype("str")
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_localize(None)
    return out
