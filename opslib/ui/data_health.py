"""The "Data health" app: what the shop's data holds and whether it can be trusted.

Build it with :func:`data_health_app` (or :class:`DataHealthApp`) and display
it; ``apps/data_health.ipynb`` does exactly that. The numbers come from
:mod:`opslib.data.health` and :func:`opslib.data.validate.validate`; this
module only lays them out and wires the filters.
"""

from __future__ import annotations

import html
import logging
import math

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from opslib.data import health
from opslib.data.workspace import Workspace
from opslib.ui.base import ALL_CATEGORIES, GuardedApp, open_workspace, section
from opslib.ui.charts import figure_output, sales_figure, show_figure, stockout_figure
from opslib.ui.tables import findings_html, frame_html

__all__ = ["DataHealthApp", "data_health_app", "open_workspace", "ALL_CATEGORIES"]

log = logging.getLogger(__name__)

FREQUENCIES = (("Day", "D"), ("Week", "W"), ("Month", "MS"))
_FREQ_WORD = {"D": "day", "W": "week", "MS": "month"}


def _card(label: str, value: str, note: str = "") -> str:
    note_html = f"<div style='font-size:12px;color:#666'>{html.escape(note)}</div>" if note else ""
    return (
        "<div class='opslib-card' style='display:inline-block;min-width:150px;margin:0 12px 8px 0;"
        "padding:8px 14px;border:1px solid #ddd;border-radius:6px;background:#fafafa'>"
        f"<div style='font-size:12px;color:#555'>{html.escape(label)}</div>"
        f"<div class='opslib-card-value' style='font-size:22px;font-weight:600'>{html.escape(value)}</div>"
        f"{note_html}</div>"
    )


def _date(value: pd.Timestamp | None) -> str:
    return "" if value is None or pd.isna(value) else value.strftime("%Y-%m-%d")


class DataHealthApp(GuardedApp, widgets.VBox):
    """The Data health page as one ipywidgets box.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.
    report : ValidationReport, optional
        A validation report already made; by default the app validates ``ws``
        once when it is built.
    freq : {"D", "W", "MS"}, default "W"
        Initial period of the sales chart.
    top_n : int, default 10
        SKUs in the top-sellers table.
    currency : str, optional
        Currency label for money (e.g. ``"CNY"``).

    Attributes
    ----------
    category : ipywidgets.Dropdown
        The category filter; ``ALL_CATEGORIES`` means no filter.
    frequency : ipywidgets.ToggleButtons
        Period of the sales chart.
    summary : opslib.data.health.HealthSummary
        The headline numbers for the current filter.
    headline : ipywidgets.HTML
        The headline numbers as cards.
    sales_chart, stockout_chart : plotly.graph_objects.Figure
        The current figures: sales over time; SKUs with the most days out of
        stock.
    sales_view, stockout_view : ipywidgets.Output
        The widgets that show them (hover, zoom and pan in the browser).
    top_table, stockout_table, overview_table, findings_table : ipywidgets.HTML
    warnings_panel, error_panel : ipywidgets.HTML
        Plain-words warnings about the data; errors raised while updating.
    log_output : ipywidgets.Output
        Catches anything a callback prints or raises past the error panel.

    Notes
    -----
    Every callback runs inside ``log_output`` and catches its own exceptions,
    writing them in words to ``error_panel``: in Voila an exception in a
    widget callback would otherwise vanish.
    """

    app_name = "data health"
    refusal_note = "this page shows the data as read."

    def __init__(
        self,
        ws: Workspace,
        report: object | None = None,
        freq: str = "W",
        top_n: int = 10,
        currency: str = "",
    ):
        self.ws = ws
        self.top_n = top_n
        self.currency = currency
        self.summary: health.HealthSummary | None = None

        names = health.categories(ws)
        self.category = widgets.Dropdown(
            options=[("All categories", ALL_CATEGORIES)] + [(c, c) for c in names],
            value=ALL_CATEGORIES,
            description="Category",
            disabled=not names,
            layout=widgets.Layout(width="320px"),
        )
        self.frequency = widgets.ToggleButtons(
            options=list(FREQUENCIES), value=freq, description="Period", style={"button_width": "70px"}
        )
        self.headline = widgets.HTML()
        self.warnings_panel = widgets.HTML()
        self._init_guard()
        self.top_table = widgets.HTML()
        self.stockout_table = widgets.HTML()
        self.overview_table = widgets.HTML()
        self.findings_table = widgets.HTML()
        self.findings_note = widgets.HTML()
        self.stockout_note = widgets.HTML()

        self.sales_chart: go.Figure | None = None
        self.stockout_chart: go.Figure | None = None
        self.sales_view = figure_output(height_px=360)
        self.stockout_view = figure_output(height_px=360)

        self.report = report
        self._build_static()
        self._refresh()

        self.category.observe(self._callback(self._refresh), names="value")
        self.frequency.observe(self._callback(self._refresh_sales), names="value")

        title = ws.name if ws.path is None else f"{ws.name} ({ws.path})"
        super().__init__(
            children=[
                widgets.HTML(f"<div style='color:#555'>Workspace: <b>{html.escape(str(title))}</b></div>"),
                self.error_panel,
                widgets.HBox([self.category]),
                self.headline,
                self.warnings_panel,
                section("Sales over time"),
                self.frequency,
                self.sales_view,
                section("Top SKUs"),
                self.top_table,
                section("Stock-outs"),
                self.stockout_note,
                widgets.HBox(
                    [
                        widgets.Box([self.stockout_view], layout=widgets.Layout(width="50%")),
                        widgets.Box([self.stockout_table], layout=widgets.Layout(width="50%", overflow="auto")),
                    ]
                ),
                section("Tables"),
                self.overview_table,
                section("Validation findings"),
                self.findings_note,
                self.findings_table,
                self.log_output,
            ],
            layout=widgets.Layout(padding="0 8px"),
        )
        self.add_class("opslib-data-health")

    # ------------------------------------------------------------------ wiring

    # ------------------------------------------------------------------ content

    def _build_static(self) -> None:
        """Parts that do not depend on the filters: tables, validation, warnings."""
        self._guard("list the tables", self._fill_overview)
        self._guard("validate the data", self._fill_findings)
        self._guard("check the data for gaps", self._fill_warnings)

    def _fill_overview(self) -> None:
        self.overview_table.value = frame_html(
            health.table_overview(self.ws),
            formats={"rows": ",d", "columns": ",d", "skus": lambda v: f"{int(v):,}"},
            empty="The workspace has no tables.",
        )

    def _fill_findings(self) -> None:
        if self.report is None:
            from opslib.data.validate import validate

            self.report = validate(self.ws)
        frame = self.report.to_frame()
        counts = frame["severity"].value_counts() if len(frame) else pd.Series(dtype=int)
        parts = [f"{counts.get(s, 0):,} {s}{'s' if counts.get(s, 0) != 1 else ''}" for s in ("error", "warning", "info")]
        self.findings_note.value = f"<div style='color:#555;margin-bottom:4px'>{', '.join(parts)}.</div>"
        self.findings_table.value = findings_html(frame)

    def _fill_warnings(self) -> None:
        warnings = health.data_warnings(self.ws)
        errors = len(getattr(self.report, "errors", []) or [])
        if errors:
            warnings.insert(
                0,
                f"Validation found {errors:,} error{'s' if errors != 1 else ''}: the numbers below may be wrong "
                "until they are fixed (see Validation findings).",
            )
        if not warnings:
            self.warnings_panel.value = ""
            return
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        self.warnings_panel.value = (
            "<div class='opslib-warnings' style='background:#fff3cd;color:#5c4400;border:1px solid #e6d08a;"
            f"border-radius:6px;padding:6px 12px;margin:8px 0'><b>Warnings</b><ul style='margin:4px 0'>{items}</ul></div>"
        )

    def _refresh(self) -> None:
        """Everything that depends on the category filter."""
        self._guard("compute the headline numbers", self._fill_headline)
        self._guard("draw the sales chart", self._fill_sales)
        self._guard("rank the top SKUs", self._fill_top)
        self._guard("count the stock-out days", self._fill_stockouts)
        self._show_errors()

    def _refresh_sales(self) -> None:
        self._guard("draw the sales chart", self._fill_sales)
        self._show_errors()

    def _fill_headline(self) -> None:
        s = health.health_summary(self.ws, self.selected_category)
        self.summary = s
        money = f" {self.currency}" if self.currency else ""
        share = "unknown" if math.isnan(s.stockout_share) else f"{s.stockout_share:.1%}"
        period = f"{_date(s.first_date)} to {_date(s.last_date)}" if s.first_date is not None else "no sales"
        self.headline.value = "<div class='opslib-headline'>" + "".join(
            [
                _card("Units sold", f"{s.units:,.0f}", period),
                _card("GMV", f"{s.gmv:,.0f}{money}", f"from {s.source.replace('_', ' ')}"),
                _card("SKUs", f"{s.skus:,}", f"{s.skus_sold:,} with sales"),
                _card("Stock-out days", share, "of SKU-days tracked"),
            ]
        ) + "</div>"

    def _fill_sales(self) -> None:
        freq = self.frequency.value
        sales = health.sales_over_time(self.ws, freq=freq, category=self.selected_category)
        scope = self.selected_category or "all categories"
        self.sales_chart = sales_figure(
            sales, title=f"Units and GMV per {_FREQ_WORD.get(freq, freq)}, {scope}", currency=self.currency
        )
        show_figure(self.sales_view, self.sales_chart)

    def _fill_top(self) -> None:
        top = health.top_skus(self.ws, n=self.top_n, category=self.selected_category)
        self.top_table.value = frame_html(
            top,
            formats={"rank": "d", "units": ",.0f", "gmv": ",.0f", "share": ".1%"},
            empty="No sales in this selection.",
        )

    def _fill_stockouts(self) -> None:
        stock = health.stockout_days(self.ws, self.selected_category)
        source = {"stock": "stock snapshots (on hand zero or less at the end of the day)",
                  "demand": "the demand table's in_stock flags"}.get(stock.attrs.get("source"))
        if source is None:
            self.stockout_note.value = "<div style='color:#666'>No stock information in this workspace.</div>"
        else:
            self.stockout_note.value = f"<div style='color:#555'>From {html.escape(source)}.</div>"
        self.stockout_chart = stockout_figure(stock)
        show_figure(self.stockout_view, self.stockout_chart)
        worst = stock[stock["days_out_of_stock"] > 0].head(self.top_n)
        self.stockout_table.value = frame_html(
            worst,
            formats={"days_tracked": ",d", "days_out_of_stock": ",d", "share_out_of_stock": ".1%"},
            empty="No stock-out days in this selection.",
        )


def data_health_app(
    ws: Workspace | None = None,
    report: object | None = None,
    freq: str = "W",
    top_n: int = 10,
    currency: str = "",
) -> DataHealthApp:
    """Build the Data health page for a workspace (see :class:`DataHealthApp`).

    Parameters
    ----------
    ws : Workspace, optional
        The shop's tables. By default the workspace of
        :func:`open_workspace`: ``$OPSLIB_DATA`` or the demo shop, and if the
        data is refused, the page opens anyway and says why at the top.
    report : ValidationReport, optional
        A validation report already made; by default the loader's report
        (``ws.load_report``), else ``ws`` is validated.
    freq : {"D", "W", "MS"}, default "W"
        Initial period of the sales chart.
    top_n : int, default 10
        SKUs in the top-sellers and stock-out tables.
    currency : str, optional
        Currency label for money.

    Returns
    -------
    DataHealthApp
        An ipywidgets box; display it.
    """
    refusal = None
    if ws is None:
        ws, refusal = open_workspace()
    if report is None and hasattr(ws.load_report, "findings"):
        report = ws.load_report
    app = DataHealthApp(ws, report=report, freq=freq, top_n=top_n, currency=currency)
    if refusal:
        app.refusal = refusal
        app._show_errors()
    return app
