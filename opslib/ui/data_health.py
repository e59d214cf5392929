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
from opslib.ui.i18n import Translator, language_toggle
from opslib.ui.tables import findings_html, frame_html

__all__ = ["DataHealthApp", "data_health_app", "open_workspace", "ALL_CATEGORIES", "STRINGS"]

log = logging.getLogger(__name__)

FREQUENCIES = (("Day", "D"), ("Week", "W"), ("Month", "MS"))
_FREQ_KEY = {"D": "day", "W": "week", "MS": "month"}

#: The page's words in English and 简体中文 (see :mod:`opslib.ui.i18n`). Data messages
#: (validation findings, warnings) stay as the engine writes them.
STRINGS: dict[str, dict[str, str]] = {
    "period": {"en": "Period", "zh": "周期"},
    "day": {"en": "Day", "zh": "日"},
    "week": {"en": "Week", "zh": "周"},
    "month": {"en": "Month", "zh": "月"},
    "sales_over_time": {"en": "Sales over time", "zh": "销售趋势"},
    "top_skus": {"en": "Top SKUs", "zh": "热销商品"},
    "stockouts": {"en": "Stock-outs", "zh": "缺货"},
    "tables": {"en": "Tables", "zh": "数据表"},
    "findings": {"en": "Validation findings", "zh": "校验结果"},
    "units_sold": {"en": "Units sold", "zh": "销量"},
    "gmv": {"en": "GMV", "zh": "GMV（成交额）"},
    "skus": {"en": "SKUs", "zh": "商品数"},
    "stockout_days": {"en": "Stock-out days", "zh": "缺货天数占比"},
    "period_range": {"en": "{first} to {last}", "zh": "{first} 至 {last}"},
    "no_sales": {"en": "no sales", "zh": "无销售"},
    "gmv_from": {"en": "from {source}", "zh": "来源：{source}"},
    "with_sales": {"en": "{n} with sales", "zh": "{n} 个有销售"},
    "of_tracked": {"en": "of SKU-days tracked", "zh": "占有记录的商品天数"},
    "unknown": {"en": "unknown", "zh": "未知"},
    "sales_title": {"en": "Units and GMV per {period}, {scope}", "zh": "每{period}销量与成交额，{scope}"},
    "per_day": {"en": "day", "zh": "日"},
    "per_week": {"en": "week", "zh": "周"},
    "per_month": {"en": "month", "zh": "月"},
    "all_scope": {"en": "all categories", "zh": "全部品类"},
    "units_axis": {"en": "units", "zh": "件数"},
    "days_out_axis": {"en": "days out of stock", "zh": "缺货天数"},
    "days_out_title": {"en": "Days out of stock", "zh": "缺货天数"},
    "no_sales_selection": {"en": "No sales in this selection.", "zh": "当前筛选下没有销售。"},
    "no_stockouts_selection": {"en": "No stock-out days in this selection.", "zh": "当前筛选下没有缺货天。"},
    "no_tables": {"en": "The workspace has no tables.", "zh": "工作区没有数据表。"},
    "no_stock_info": {"en": "No stock information in this workspace.", "zh": "工作区没有库存信息。"},
    "from_stock": {"en": "From stock snapshots (on hand zero or less at the end of the day).",
                   "zh": "来自库存快照（日终在手库存为零或以下）。"},
    "from_flags": {"en": "From the demand table's in_stock flags.", "zh": "来自需求表的 in_stock 标记。"},
    "findings_counts": {"en": "{errors} errors, {warnings} warnings, {infos} notes.",
                        "zh": "{errors} 个错误，{warnings} 个警告，{infos} 条提示。"},
    "warnings": {"en": "Warnings", "zh": "警告"},
    "validation_errors": {"en": "Validation found {n} error(s): the numbers below may be wrong until they are "
                                "fixed (see Validation findings).",
                          "zh": "校验发现 {n} 个错误：修正之前，下面的数字可能不对（见校验结果）。"},
}

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
    sales_view, stockout_view : opslib.ui.charts.Chart
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
        translator: Translator | None = None,
    ):
        self.ws = ws
        self.tr = tr = translator if translator is not None else Translator(STRINGS)
        tr.strings.update({k: v for k, v in STRINGS.items() if k not in tr.strings})
        self.top_n = top_n
        self.currency = currency
        self.summary: health.HealthSummary | None = None

        names = health.categories(ws)
        self.category = widgets.Dropdown(
            options=[("All categories", ALL_CATEGORIES)] + [(c, c) for c in names],
            value=ALL_CATEGORIES,
            disabled=not names,
            layout=widgets.Layout(width="320px"),
        )
        tr.bind(self.category, "category")
        tr.bind(self.category, "", attribute="options",
                keys=[("all_categories", ALL_CATEGORIES)] + [(None, c) for c in names])
        self.frequency = widgets.ToggleButtons(
            options=list(FREQUENCIES), value=freq, style={"button_width": "70px"}
        )
        tr.bind(self.frequency, "period")
        tr.bind(self.frequency, "", attribute="options", keys=[(_FREQ_KEY[v], v) for _, v in FREQUENCIES])
        self.language = language_toggle(tr)
        self.headline = widgets.HTML()
        self.warnings_panel = widgets.HTML()
        self._init_guard(tr)
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
        self.workspace_label = widgets.HTML()
        self._workspace_title = str(title)
        headings = {key: section(tr.t(key))
                    for key in ("sales_over_time", "top_skus", "stockouts", "tables", "findings")}
        self._headings = headings  # relabelled by _relabel
        tr.on_change(lambda _: self._relabel())
        self._relabel_workspace()
        super().__init__(
            children=[
                widgets.HBox([self.workspace_label, self.language],
                             layout=widgets.Layout(justify_content="space-between", align_items="center")),
                self.error_panel,
                widgets.HBox([self.category]),
                self.headline,
                self.warnings_panel,
                headings["sales_over_time"],
                self.frequency,
                self.sales_view,
                headings["top_skus"],
                self.top_table,
                headings["stockouts"],
                self.stockout_note,
                widgets.HBox(
                    [
                        widgets.Box([self.stockout_view], layout=widgets.Layout(width="50%")),
                        widgets.Box([self.stockout_table], layout=widgets.Layout(width="50%", overflow="auto")),
                    ]
                ),
                headings["tables"],
                self.overview_table,
                headings["findings"],
                self.findings_note,
                self.findings_table,
                self.log_output,
            ],
            layout=widgets.Layout(padding="0 8px"),
        )
        self.add_class("opslib-data-health")

    # ------------------------------------------------------------------ wiring

    def _relabel(self) -> None:
        """After a language switch: headings, then every part built with words."""
        self._relabel_workspace()
        for key, heading in self._headings.items():
            heading.value = section(self.tr.t(key)).value
        self._build_static()
        self._refresh()

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
            headers=self.tr.headers(), more_rows=self.tr.t("more_rows"),
            empty=self.tr.t("no_tables"),
        )

    def _fill_findings(self) -> None:
        if self.report is None:
            from opslib.data.validate import validate

            self.report = validate(self.ws)
        frame = self.report.to_frame()
        counts = frame["severity"].value_counts() if len(frame) else pd.Series(dtype=int)
        if self.tr.language == "en":
            parts = [f"{counts.get(s, 0):,} {s}{'s' if counts.get(s, 0) != 1 else ''}" for s in ("error", "warning", "info")]
            note = f"{', '.join(parts)}."
        else:
            note = self.tr.t("findings_counts", errors=f"{counts.get('error', 0):,}",
                             warnings=f"{counts.get('warning', 0):,}", infos=f"{counts.get('info', 0):,}")
        self.findings_note.value = f"<div style='color:#555;margin-bottom:4px'>{html.escape(note)}</div>"
        self.findings_table.value = findings_html(frame)

    def _fill_warnings(self) -> None:
        warnings = health.data_warnings(self.ws)
        errors = len(getattr(self.report, "errors", []) or [])
        if errors and self.tr.language == "en":
            warnings.insert(
                0,
                f"Validation found {errors:,} error{'s' if errors != 1 else ''}: the numbers below may be wrong "
                "until they are fixed (see Validation findings).",
            )
        elif errors:
            warnings.insert(0, self.tr.t("validation_errors", n=f"{errors:,}"))
        if not warnings:
            self.warnings_panel.value = ""
            return
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        self.warnings_panel.value = (
            "<div class='opslib-warnings' style='background:#fff3cd;color:#5c4400;border:1px solid #e6d08a;"
            f"border-radius:6px;padding:6px 12px;margin:8px 0'><b>{html.escape(self.tr.t('warnings'))}</b><ul style='margin:4px 0'>{items}</ul></div>"
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
        t = self.tr.t
        money = f" {self.currency}" if self.currency else ""
        share = t("unknown") if math.isnan(s.stockout_share) else f"{s.stockout_share:.1%}"
        period = (t("period_range", first=_date(s.first_date), last=_date(s.last_date))
                  if s.first_date is not None else t("no_sales"))
        self.headline.value = "<div class='opslib-headline'>" + "".join(
            [
                _card(t("units_sold"), f"{s.units:,.0f}", period),
                _card(t("gmv"), f"{s.gmv:,.0f}{money}", t("gmv_from", source=s.source.replace("_", " "))),
                _card(t("skus"), f"{s.skus:,}", t("with_sales", n=f"{s.skus_sold:,}")),
                _card(t("stockout_days"), share, t("of_tracked")),
            ]
        ) + "</div>"

    def _fill_sales(self) -> None:
        freq = self.frequency.value
        sales = health.sales_over_time(self.ws, freq=freq, category=self.selected_category)
        t = self.tr.t
        scope = self.selected_category or t("all_scope")
        self.sales_chart = sales_figure(
            sales, title=t("sales_title", period=t(f"per_{_FREQ_KEY.get(freq, 'day')}"), scope=scope),
            currency=self.currency,
        )
        if self.tr.language != "en":
            self.sales_chart.update_layout(yaxis_title_text=t("units_axis"))
            self.sales_chart.data[0].name = t("units_axis")
        show_figure(self.sales_view, self.sales_chart)

    def _fill_top(self) -> None:
        top = health.top_skus(self.ws, n=self.top_n, category=self.selected_category)
        self.top_table.value = frame_html(
            top,
            formats={"rank": "d", "units": ",.0f", "gmv": ",.0f", "share": ".1%"},
            headers=self.tr.headers(), more_rows=self.tr.t("more_rows"),
            empty=self.tr.t("no_sales_selection"),
        )

    def _fill_stockouts(self) -> None:
        stock = health.stockout_days(self.ws, self.selected_category)
        t = self.tr.t
        source = {"stock": "from_stock", "demand": "from_flags"}.get(stock.attrs.get("source"))
        if source is None:
            self.stockout_note.value = f"<div style='color:#666'>{html.escape(t('no_stock_info'))}</div>"
        else:
            self.stockout_note.value = f"<div style='color:#555'>{html.escape(t(source))}</div>"
        self.stockout_chart = stockout_figure(stock, title=t("days_out_title"))
        if self.tr.language != "en":
            self.stockout_chart.update_layout(xaxis_title_text=t("days_out_axis"))
        show_figure(self.stockout_view, self.stockout_chart)
        worst = stock[stock["days_out_of_stock"] > 0].head(self.top_n)
        self.stockout_table.value = frame_html(
            worst,
            formats={"days_tracked": ",d", "days_out_of_stock": ",d", "share_out_of_stock": ".1%"},
            headers=self.tr.headers(), more_rows=self.tr.t("more_rows"),
            empty=self.tr.t("no_stockouts_selection"),
        )


def data_health_app(
    ws: Workspace | None = None,
    report: object | None = None,
    freq: str = "W",
    top_n: int = 10,
    currency: str = "",
    language: str = "en",
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
    language : {"en", "zh"}, default "en"
        The page's language at opening (the toggle at the top switches it).

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
    app = DataHealthApp(ws, report=report, freq=freq, top_n=top_n, currency=currency,
                        translator=Translator(STRINGS, language))
    if refusal:
        app.refusal = refusal
        app._show_errors()
    return app
