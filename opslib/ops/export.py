"""Write a :class:`~opslib.ops.report.MonthlyReport` to Excel or to a static HTML page.

Excel: one sheet per report, as operations managers expect: the header row
bold and frozen, a filter on it, columns wide enough to read, thousands
separators on money and units, percentages as percentages, and the exception
rows (reconciliation differences, flagged stocktake lines, dead/slow/excess
stock) filled in colour. HTML: one self-contained page (styles inline, no
script, no external file) with the same sections, for sharing by mail.

How a column is shown follows from its name (:func:`column_kind`), so the
two writers and the dashboard show every figure the same way.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from opslib.ops.report import MonthlyReport

__all__ = ["EXCEL_FORMATS", "column_kind", "format_value", "frame_html", "highlight_rows", "write_excel", "write_html"]

#: Excel number format per kind of figure.
EXCEL_FORMATS: dict[str, str] = {
    "money": "#,##0.00",
    "units": "#,##0",
    "count": "#,##0",
    "percent": "0.0%",
    "days": "#,##0.0",
    "ratio": "0.00",
    "number": "#,##0.00",
}

_MONEY = ("gmv", "cogs", "gross_margin", "average_order_value", "unit_cost", "avg_inventory_value")
_PERCENT = ("accuracy",)
_COUNTS = ("orders", "lines", "skus", "deliveries", "sessions", "customers", "sku_days", "stockout_days")
_UNITS = ("units", "returned_units", "qty_ordered", "qty_received", "qty_rejected")

_EXCEPTION_FILL = "FCE4E4"  # light red: a row that needs a look
_WARNING_FILL = "FFF2CC"  # light amber: excess stock
_HEADER_FILL = "DDEBF7"


def column_kind(name: str) -> str | None:
    """How a report column is shown: ``money``, ``units``, ``count``, ``percent``, ``days``, ``ratio``, ``number``.

    ``None`` for text, dates and flags. Decided from the column name: the
    report functions put the unit in every name (``_value`` is money,
    ``_units`` units, ``_rate`` and ``_share`` fractions, ``_days`` days).
    """
    if name in _MONEY or name.endswith("_value"):
        return "money"
    if name in _PERCENT or name.endswith(("_rate", "_share")):
        return "percent"
    if name in _COUNTS or name.endswith(("_lines", "_customers")) or name.startswith("lines_"):
        return "count"
    if name in _UNITS or name.endswith("_units"):
        return "units"
    if name.endswith("_days") or name == "days_of_cover":
        return "days"
    if name in ("inventory_turnover", "weeks_of_cover", "weekly_units"):
        return "ratio"
    return None


def format_value(value, kind: str | None) -> str:
    """A figure as text for a page: ``1,234.50``, ``12.3%``, ``1,234``; empty when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (float, np.floating)) and np.isinf(value):
        return "no sales" if value > 0 else "-inf"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    if kind is None or not isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)
    value = value + 0.0  # no "-0" for a negative zero
    if kind == "percent":
        return f"{value:.1%}"
    if kind in ("units", "count"):
        return f"{value:,.0f}"
    if kind == "days":
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def write_excel(report: MonthlyReport, path: str | Path) -> Path:
    """Write the report to an Excel workbook, one formatted sheet per report.

    Parameters
    ----------
    report : MonthlyReport
        From :func:`~opslib.ops.monthly_report`.
    path : str or Path
        The ``.xlsx`` file to write (replaced when it exists).

    Returns
    -------
    Path
        The file written.

    Notes
    -----
    The sheets are :meth:`MonthlyReport.sheets` in order, written from cell
    A1 with the column names as header, plus a first sheet ``Report`` naming
    the shop, the month and the notes. Infinite weeks of cover (stock that
    did not sell) are written as the text ``no sales``.
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    sheets = report.sheets()
    cover = pd.DataFrame(
        {"item": ["Shop", "Month", *["Note"] * len(report.notes)], "value": [report.shop, str(report.month), *report.notes]}
    )
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        cover.to_excel(writer, sheet_name="Report", index=False)
        for title, frame in sheets.items():
            frame.to_excel(writer, sheet_name=title, index=False, inf_rep="no sales")
        book = writer.book
        bold = Font(bold=True)
        header_fill = PatternFill("solid", fgColor=_HEADER_FILL)
        for title in ["Report", *sheets]:
            sheet = book[title]
            frame = cover if title == "Report" else sheets[title]
            sheet.freeze_panes = "A2"
            if frame.shape[1] and title != "Report":
                sheet.auto_filter.ref = f"A1:{get_column_letter(frame.shape[1])}{max(len(frame), 0) + 1}"
            for j, col in enumerate(frame.columns, start=1):
                cell = sheet.cell(row=1, column=j)
                cell.font = bold
                cell.fill = header_fill
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                kind = column_kind(str(col))
                if title == "KPIs" and col in ("value", "previous", "change"):
                    kind = "tile"
                width = _width(frame[col], col)
                sheet.column_dimensions[get_column_letter(j)].width = width
                if kind is None:
                    if pd.api.types.is_datetime64_any_dtype(frame[col]):
                        for row in range(2, len(frame) + 2):
                            sheet.cell(row=row, column=j).number_format = "yyyy-mm-dd"
                    continue
                for i in range(len(frame)):
                    fmt = EXCEL_FORMATS[frame["kind"].iat[i]] if kind == "tile" else EXCEL_FORMATS[kind]
                    sheet.cell(row=i + 2, column=j).number_format = fmt
            if title == "KPIs":
                for i in range(len(frame)):
                    sheet.cell(row=i + 2, column=frame.columns.get_loc("change_rate") + 1).number_format = "+0.0%;-0.0%;0.0%"
            for i, colour in highlight_rows(title, frame):
                fill = PatternFill("solid", fgColor=colour)
                for j in range(1, frame.shape[1] + 1):
                    sheet.cell(row=i + 2, column=j).fill = fill
    return path


def write_html(report: MonthlyReport, path: str | Path) -> Path:
    """Write the report to one static, self-contained HTML page.

    Parameters
    ----------
    report : MonthlyReport
        From :func:`~opslib.ops.monthly_report`.
    path : str or Path
        The ``.html`` file to write (UTF-8; replaced when it exists).

    Returns
    -------
    Path
        The file written.

    Notes
    -----
    The page holds the KPI tiles with their change against the month
    before, then one table per section; exception rows are shaded as in the
    Excel workbook. Long sections (the per-SKU stock movement) are written
    in full. Figures are formatted with :func:`format_value`.
    """
    path = Path(path)
    title = f"Operations report {report.month} - {report.shop}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        _tiles_html(report.kpi_tiles),
    ]
    if report.notes:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
        parts.append(f'<details class="notes"><summary>Notes ({len(report.notes)})</summary><ul>{notes}</ul></details>')
    for section, frame in report.sheets().items():
        if section == "KPIs":
            continue
        parts.append(f"<h2>{html.escape(section)} <small>({len(frame):,} rows)</small></h2>")
        parts.append(frame_html(frame, section))
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def frame_html(frame: pd.DataFrame, section: str = "") -> str:
    """A report frame as an HTML table, figures formatted and exception rows shaded."""
    if frame.shape[1] == 0:
        return '<p class="empty">No data.</p>'
    if frame.empty:
        return '<p class="empty">None this month.</p>'
    marks = dict(highlight_rows(section, frame))
    kinds = [column_kind(str(c)) for c in frame.columns]
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in frame.columns)
    rows = []
    columns = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    for i in range(len(frame)):
        cells = "".join(
            f'<td class="{"num" if k else "text"}">{html.escape(format_value(col[i], k))}</td>'
            for col, k in zip(columns, kinds)
        )
        style = f' style="background:#{marks[i]}"' if i in marks else ""
        rows.append(f"<tr{style}>{cells}</tr>")
    return f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


# --------------------------------------------------------------------------- helpers


def highlight_rows(section: str, frame: pd.DataFrame) -> list[tuple[int, str]]:
    """(row position, fill colour as ``RRGGBB``) of the exception rows of a report section.

    ``section`` is a title of :attr:`MonthlyReport.SECTIONS`: every
    reconciliation row; stock movement rows that do not reconcile; flagged
    stocktake lines; dead and slow stock (red) and excess stock (amber).
    """
    if frame.empty:
        return []
    if section == "Reconciliation":
        return [(i, _EXCEPTION_FILL) for i in range(len(frame))]
    if section == "Stock movement" and "difference_units" in frame.columns:
        bad = frame["difference_units"].abs().fillna(0.0).to_numpy() > 1e-6
        return [(int(i), _EXCEPTION_FILL) for i in np.flatnonzero(bad)]
    if section == "Stocktake" and "flagged" in frame.columns:
        return [(int(i), _EXCEPTION_FILL) for i in np.flatnonzero(frame["flagged"].fillna(False).to_numpy(dtype=bool))]
    if section == "Stock exceptions" and "exception" in frame.columns:
        colour = {"dead": _EXCEPTION_FILL, "slow": _EXCEPTION_FILL, "excess": _WARNING_FILL}
        return [(i, colour[e]) for i, e in enumerate(frame["exception"]) if e in colour]
    return []


def _width(values: pd.Series, name) -> float:
    """A column width [characters] fitting the header and the first rows' text."""
    sample = values.head(200)
    kind = column_kind(str(name))
    texts = [format_value(v, kind) for v in sample.to_numpy(dtype=object)]
    longest = max([len(t) for t in texts] + [0])
    return float(min(max(longest + 2, min(len(str(name)), 24) + 2, 8), 60))


def _tiles_html(tiles: pd.DataFrame) -> str:
    cards = []
    for row in tiles.itertuples(index=False):
        value = format_value(row.value, row.kind)
        if isinstance(row.change, float) and not math.isnan(row.change):
            if row.kind == "percent":
                change = f"{row.change * 100:+.1f} pts"
            else:
                change = f"{row.change_rate:+.1%}" if not math.isnan(row.change_rate) else format_value(row.change, row.kind)
            direction = "up" if row.change > 0 else "down" if row.change < 0 else "flat"
            before = format_value(row.previous, row.kind)
            delta = f'<div class="change {direction}">{html.escape(change)} vs {html.escape(before)}</div>'
        else:
            delta = '<div class="change flat">no previous month</div>'
        cards.append(
            f'<div class="tile"><div class="label">{html.escape(row.label)}</div>'
            f'<div class="value">{html.escape(value or "n/a")}</div>{delta}</div>'
        )
    return f'<div class="tiles">{"".join(cards)}</div>'


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC",sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}h2 small{color:#777;font-weight:normal}
.tiles{display:flex;flex-wrap:wrap;gap:10px}
.tile{border:1px solid #ccd;border-radius:6px;padding:8px 12px;min-width:150px}
.tile .label{font-size:12px;color:#555}.tile .value{font-size:20px;font-weight:600}
.change{font-size:12px}.change.up{color:#1a7f37}.change.down{color:#b42318}.change.flat{color:#777}
table{border-collapse:collapse;font-size:12px}
th{background:#ddebf7;position:sticky;top:0;text-align:left;padding:3px 6px;border:1px solid #ccd}
td{padding:2px 6px;border:1px solid #e3e3e8;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
.empty{color:#777}.notes{font-size:12px;color:#555;margin-top:12px}
"""
