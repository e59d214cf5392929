"""Small, self-contained HTML tables for ipywidgets (no JavaScript needed)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import ipywidgets as widgets
import pandas as pd

__all__ = ["frame_table", "findings_table", "frame_html", "SEVERITY_COLORS"]

#: Background and text colors of validation findings, by severity.
SEVERITY_COLORS: dict[str, tuple[str, str]] = {
    "error": ("#fde2e1", "#8a1c13"),
    "warning": ("#fff3cd", "#7a5b00"),
    "info": ("#e7f1fb", "#1f4e79"),
}

_TABLE_CSS = (
    "border-collapse:collapse;font-size:13px;font-family:var(--jp-ui-font-family, sans-serif);"
    "width:100%;"
)
_CELL_CSS = "padding:3px 8px;border-bottom:1px solid #e0e0e0;text-align:{align};vertical-align:top;"


def _format(value: object, fmt: str | Callable[[object], str] | None) -> str:
    if value is None or (not isinstance(value, (list, tuple, dict)) and pd.isna(value)):
        return ""
    if callable(fmt):
        return fmt(value)
    if fmt:
        return format(value, fmt)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def frame_html(
    frame: pd.DataFrame,
    formats: Mapping[str, str | Callable[[object], str]] | None = None,
    row_styles: list[str] | None = None,
    max_rows: int = 50,
    empty: str = "Nothing to show.",
    headers: Mapping[str, str] | None = None,
    more_rows: str = "Showing {shown:,} of {total:,} rows.",
) -> str:
    """A DataFrame as an HTML table string, values escaped.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows to show; the index is not shown.
    formats : mapping, optional
        Column name to a format spec (``",.0f"``, ``".1%"``) or a function
        returning the text.
    row_styles : list of str, optional
        One inline CSS string per row (e.g. a background color).
    max_rows : int, default 50
        Rows beyond this are cut and counted in a note below the table.
    empty : str
        Text shown instead of an empty table.
    headers : mapping, optional
        Column name to the header shown (e.g. in the page language); other
        columns show their names. ``formats`` stay keyed by column name.
    more_rows : str
        The note under a cut table, with ``{shown}`` and ``{total}`` fields.

    Returns
    -------
    str
    """
    if frame is None or frame.empty:
        return f"<p style='color:#666;margin:4px 0'>{html.escape(empty)}</p>"
    formats = dict(formats or {})
    shown = frame.head(max_rows)
    numeric = {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])}
    head = "".join(
        f"<th style='{_CELL_CSS.format(align='right' if c in numeric else 'left')}font-weight:600;"
        f"border-bottom:2px solid #999'>{html.escape(str((headers or {}).get(c, c)))}</th>"
        for c in shown.columns
    )
    body = []
    for i, row in enumerate(shown.itertuples(index=False, name=None)):
        style = row_styles[i] if row_styles and i < len(row_styles) else ""
        cells = "".join(
            f"<td style='{_CELL_CSS.format(align='right' if c in numeric else 'left')}'>"
            f"{html.escape(_format(v, formats.get(c)))}</td>"
            for c, v in zip(shown.columns, row)
        )
        body.append(f"<tr style='{style}'>{cells}</tr>")
    note = ""
    if len(frame) > max_rows:
        note = f"<p style='color:#666;margin:4px 0'>{html.escape(more_rows.format(shown=max_rows, total=len(frame)))}</p>"
    return f"<table style='{_TABLE_CSS}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}"


def frame_table(
    frame: pd.DataFrame,
    formats: Mapping[str, str | Callable[[object], str]] | None = None,
    max_rows: int = 50,
    empty: str = "Nothing to show.",
) -> widgets.HTML:
    """A DataFrame as an ``ipywidgets.HTML`` table (see :func:`frame_html`)."""
    return widgets.HTML(frame_html(frame, formats=formats, max_rows=max_rows, empty=empty))


def findings_html(findings: pd.DataFrame, max_rows: int = 100) -> str:
    """Validation findings as an HTML table, each row colored by its severity.

    Parameters
    ----------
    findings : pandas.DataFrame
        Columns ``table, column, rule, severity, n_rows, examples, fix``, as
        returned by ``ValidationReport.to_frame()``.
    max_rows : int, default 100
        Rows beyond this are cut and counted.

    Returns
    -------
    str
    """
    if findings is None or findings.empty:
        return "<p style='color:#2e7d32;margin:4px 0'>No findings: every table passed validation.</p>"
    styles = [
        "background:{};color:{}".format(*SEVERITY_COLORS.get(str(s), ("#ffffff", "#000000")))
        for s in findings["severity"].head(max_rows)
    ]
    return frame_html(findings, formats={"n_rows": ",d"}, row_styles=styles, max_rows=max_rows)


def findings_table(findings: pd.DataFrame, max_rows: int = 100) -> widgets.HTML:
    """Validation findings as an ``ipywidgets.HTML`` table (see :func:`findings_html`)."""
    return widgets.HTML(findings_html(findings, max_rows=max_rows))
