"""The "Operations dashboard" app: the month's KPIs, stock movement, stocktake and suppliers.

Build it with :func:`operations_app` (or :class:`OperationsApp`) and display
it; ``apps/operations.ipynb`` does exactly that. The numbers come from
:mod:`opslib.ops` (:func:`~opslib.ops.monthly_report`, :func:`~opslib.ops.kpis`);
this module only lays them out and wires the filters.
"""

from __future__ import annotations

import html
import logging
import math
import traceback
from collections.abc import Callable

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from opslib import ops
from opslib.data.workspace import Workspace
from opslib.ui.base import ALL_CATEGORIES, GuardedApp, open_workspace, section
from opslib.ui.charts import figure_output, show_figure
from opslib.ui.i18n import Translator, language_toggle
from opslib.ui.tables import frame_html

__all__ = [
    "ALL_CATEGORIES",
    "OperationsApp",
    "STRINGS",
    "kpi_trend_figure",
    "operations_app",
    "rates_trend_figure",
    "supplier_trend_figure",
]

log = logging.getLogger(__name__)

_RED = "#fde2e1"
_COLOURS = {"FCE4E4": "#fce4e4", "FFF2CC": "#fff2cc"}
_MONEY_COLOUR, _LINE_COLOUR, _HIGHLIGHT = "#4c78a8", "#f58518", "#e45756"


#: The page's words in English and 简体中文 (see :mod:`opslib.ui.i18n`); table headers come
#: from :data:`opslib.ui.i18n.COLUMNS_ZH`, data values (SKUs, actions) stay as the reports write them.
STRINGS: dict[str, dict[str, str]] = {
    "month": {"en": "Month", "zh": "月份"},
    "trends": {"en": "Trends", "zh": "趋势"},
    "movement": {"en": "Stock movement (in / out / stock)", "zh": "进销存（入 / 出 / 存）"},
    "reconciliation": {"en": "Reconciliation exceptions", "zh": "账实不符"},
    "stocktake": {"en": "Stocktake", "zh": "盘点"},
    "suppliers": {"en": "Suppliers", "zh": "供应商"},
    "exceptions": {"en": "Dead, slow and excess stock", "zh": "呆滞、慢动与超额库存"},
    "tile_gmv": {"en": "GMV", "zh": "成交额 GMV"},
    "tile_orders": {"en": "Orders", "zh": "订单数"},
    "tile_units": {"en": "Units sold", "zh": "销量"},
    "tile_average_order_value": {"en": "Average order value", "zh": "客单价"},
    "tile_conversion_rate": {"en": "Conversion rate", "zh": "转化率"},
    "tile_return_rate": {"en": "Return rate", "zh": "退货率"},
    "tile_gross_margin": {"en": "Gross margin", "zh": "毛利"},
    "tile_margin_rate": {"en": "Margin rate", "zh": "毛利率"},
    "tile_stockout_rate": {"en": "Stock-out rate", "zh": "缺货率"},
    "tile_avg_inventory_value": {"en": "Average inventory value", "zh": "平均库存金额"},
    "tile_inventory_turnover": {"en": "Inventory turnover", "zh": "库存周转"},
    "tile_days_of_cover": {"en": "Days of cover", "zh": "可售天数"},
    "tile_repurchase_rate": {"en": "Repurchase rate", "zh": "复购率"},
    "pts": {"en": "{change} pts", "zh": "{change} 个百分点"},
    "vs_before": {"en": "{change} vs {previous} the month before", "zh": "{change}，上月 {previous}"},
    "no_before": {"en": "no figure for the month before", "zh": "上月无数据"},
    "na": {"en": "n/a", "zh": "无"},
    "scope_shop": {"en": "the whole shop", "zh": "全店"},
    "scope_category": {"en": "category {category}", "zh": "品类 {category}"},
    "all_scope": {"en": "all categories", "zh": "全部品类"},
    "kpi_note": {"en": "{month}, {scope}, against the month before.", "zh": "{month}，{scope}，与上月对比。"},
    "kpi_note_category": {"en": " Conversion (site traffic) and the repurchase rate (customers) exist for the whole shop only.",
                          "zh": " 转化率（流量）与复购率（顾客）只有全店口径。"},
    "trend_title": {"en": "GMV, gross margin and orders per month, {scope}", "zh": "每月成交额、毛利与订单数，{scope}"},
    "rates_title": {"en": "Margin, return and stock-out rates, {scope}", "zh": "毛利率、退货率与缺货率，{scope}"},
    "movement_note_shop": {"en": "{month}, per category (units and value at unit cost).",
                           "zh": "{month}，按品类（数量与按单位成本计的金额）。"},
    "movement_note_category": {"en": "{month}, the SKUs of {category}; rows that do not reconcile are shaded red.",
                               "zh": "{month}，{category} 的商品；账实不符的行标红。"},
    "no_movement": {"en": "No stock movement this month.", "zh": "本月没有库存变动。"},
    "no_movement_category": {"en": "No SKU of this category moved this month.", "zh": "本月该品类没有商品变动。"},
    "books_agree": {"en": "The books agree: in {month} opening stock plus movements equals the closing stock for every SKU.",
                    "zh": "账实相符：{month} 每个商品的期初加变动都等于期末。"},
    "books_agree_category": {"en": " (category {category})", "zh": "（品类 {category}）"},
    "books_differ": {"en": "{n} SKUs do not reconcile in {month}: closing stock differs from opening plus movements "
                           "(negative: stock missing against the records).",
                     "zh": "{month} 有 {n} 个商品账实不符：期末与期初加变动不一致（负数：实物少于记录）。"},
    "no_stocktake": {"en": "No stocktake was counted in {month}.", "zh": "{month} 没有盘点。"},
    "stocktake_note": {"en": "{lines} lines counted in {month}, {flagged} with a variance beyond tolerance (shaded below).",
                       "zh": "{month} 盘点 {lines} 行，其中 {flagged} 行盘差超出容差（下表标色）。"},
    "supplier_note": {"en": "Deliveries received in {month}, all categories: on-time rate, lead times, fill and rejection rates.",
                      "zh": "{month} 到货，全部品类：准时率、交期、满足率与拒收率。"},
    "no_delivery": {"en": "No delivery received this month.", "zh": "本月没有到货。"},
    "supplier_title": {"en": "Suppliers per month of receipt, all categories", "zh": "各供应商按到货月，全部品类"},
    "exceptions_note": {"en": "Stock{day}: {dead} dead, {slow} slow, {excess} excess (dead and slow shaded red, excess amber).",
                        "zh": "库存{day}：呆滞 {dead}，慢动 {slow}，超额 {excess}（呆滞与慢动标红，超额标黄）。"},
    "on_day": {"en": " on {day}", "zh": "（{day}）"},
    "no_exceptions": {"en": "No dead, slow or excess stock.", "zh": "没有呆滞、慢动或超额库存。"},
    "no_report": {"en": "there is no report for {month} (see above)", "zh": "{month} 没有报表（见上文）"},
}


def _note(text: str) -> str:
    return f"<div style='color:#555;margin:2px 0 6px 0'>{html.escape(text)}</div>"


def tile_html(tiles: pd.DataFrame, currency: str = "", translator: Translator | None = None) -> str:
    """KPI tiles as HTML cards: the figure, and its change against the month before.

    Parameters
    ----------
    tiles : DataFrame
        From :func:`opslib.ops.kpi_tiles`.
    currency : str, optional
        Label after money figures.
    translator : Translator, optional
        Words in the page language (default English); a measure without a
        translated label shows the report's label.
    """
    tr = translator if translator is not None else Translator(STRINGS)
    t = tr.t
    cards = []
    for row in tiles.itertuples(index=False):
        na = t("na")
        value = ops.format_value(row.value, row.kind) or na
        if row.kind == "money" and currency and value != na:
            value = f"{value} {currency}"
        if isinstance(row.change, float) and not math.isnan(row.change):
            if row.kind == "percent":
                change = t("pts", change=f"{row.change * 100:+.1f}")
            elif not math.isnan(row.change_rate):
                change = f"{row.change_rate:+.1%}"
            else:
                change = ops.format_value(row.change, row.kind)
            colour = "#1a7f37" if row.change > 0 else "#b42318" if row.change < 0 else "#666"
            delta = t("vs_before", change=change, previous=ops.format_value(row.previous, row.kind))
        else:
            colour, delta = "#666", t("no_before")
        label = t(f"tile_{row.measure}") if f"tile_{row.measure}" in tr.strings else row.label
        cards.append(
            f"<div class='opslib-kpi' data-measure='{html.escape(row.measure)}' style='display:inline-block;"
            "min-width:170px;margin:0 10px 8px 0;padding:8px 12px;border:1px solid #ddd;border-radius:6px;"
            "background:#fafafa;vertical-align:top'>"
            f"<div style='font-size:12px;color:#555'>{html.escape(label)}</div>"
            f"<div class='opslib-kpi-value' style='font-size:21px;font-weight:600'>{html.escape(value)}</div>"
            f"<div class='opslib-kpi-change' style='font-size:12px;color:{colour}'>{html.escape(delta)}</div></div>"
        )
    return "<div class='opslib-kpis'>" + "".join(cards) + "</div>"


def kpi_trend_figure(monthly: pd.DataFrame, month=None, title: str = "GMV and gross margin", currency: str = "") -> go.Figure:
    """GMV and gross margin (bars) and orders (line, right axis) per month.

    Parameters
    ----------
    monthly : DataFrame
        :func:`opslib.ops.kpis` with ``freq="M"`` (one breakdown value).
    month : str or Period, optional
        The month to mark.
    """
    x = monthly["period"].astype(str).tolist()
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    unit = f" [{currency}]" if currency else ""
    fig.add_bar(x=x, y=monthly["gmv"].tolist(), name=f"GMV{unit}", marker_color=_MONEY_COLOUR, secondary_y=False)
    fig.add_bar(x=x, y=monthly["gross_margin"].tolist(), name=f"Gross margin{unit}", marker_color="#9ecae9", secondary_y=False)
    fig.add_scatter(x=x, y=monthly["orders"].tolist(), name="Orders", mode="lines+markers",
                    line={"color": _LINE_COLOUR}, secondary_y=True)
    _mark(fig, month)
    fig.update_layout(title=title, barmode="group", height=340, margin={"l": 50, "r": 50, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.18}, hovermode="x unified")
    fig.update_yaxes(title_text=f"money{unit}", secondary_y=False)
    fig.update_yaxes(title_text="orders", secondary_y=True, showgrid=False)
    return fig


def rates_trend_figure(monthly: pd.DataFrame, month=None, title: str = "Rates") -> go.Figure:
    """Margin rate, return rate and stock-out rate per month [fraction, shown in %]."""
    x = monthly["period"].astype(str).tolist()
    fig = go.Figure()
    for col, name, colour in (
        ("margin_rate", "Margin rate", _MONEY_COLOUR),
        ("return_rate", "Return rate", _LINE_COLOUR),
        ("stockout_rate", "Stock-out rate", _HIGHLIGHT),
    ):
        fig.add_scatter(x=x, y=monthly[col].tolist(), name=name, mode="lines+markers", line={"color": colour})
    _mark(fig, month)
    fig.update_layout(title=title, height=340, margin={"l": 50, "r": 20, "t": 50, "b": 40},
                      legend={"orientation": "h", "y": -0.18}, hovermode="x unified", yaxis_tickformat=".0%")
    return fig


def supplier_trend_figure(scorecard: pd.DataFrame, month=None, title: str = "Suppliers per month") -> go.Figure:
    """On-time rate [fraction, shown in %] and mean lead time [days] per month, one line per supplier.

    Parameters
    ----------
    scorecard : DataFrame
        :func:`opslib.ops.supplier_scorecard` with ``freq="M"``.
    month : str or Period, optional
        The month to mark.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("On-time rate", "Mean lead time [days]"))
    palette = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6",
               "#9d755d", "#bab0ac"]
    for i, (supplier, rows) in enumerate(scorecard.groupby("supplier", sort=True)):
        x = rows["period"].astype(str).tolist()
        colour = palette[i % len(palette)]
        fig.add_scatter(x=x, y=rows["on_time_rate"].tolist(), name=str(supplier), legendgroup=str(supplier),
                        mode="lines", line={"color": colour}, row=1, col=1)
        fig.add_scatter(x=x, y=rows["lead_time_mean_days"].tolist(), name=str(supplier), legendgroup=str(supplier),
                        mode="lines", line={"color": colour}, showlegend=False, row=1, col=2)
    if month is not None:
        for col in (1, 2):
            fig.add_vline(x=str(month), line={"color": "#999", "dash": "dot"}, row=1, col=col)
    fig.update_layout(title=title, height=380, margin={"l": 50, "r": 20, "t": 70, "b": 40},
                      legend={"orientation": "h", "y": -0.15}, hovermode="x unified")
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    return fig


def _mark(fig: go.Figure, month) -> None:
    if month is not None:
        fig.add_vline(x=str(month), line={"color": "#999", "dash": "dot"})


def _table(frame: pd.DataFrame, section: str = "", max_rows: int = 50, empty: str = "Nothing to show.",
           columns: list[str] | None = None, translator: Translator | None = None) -> str:
    """A report frame as an HTML table: figures formatted as in the exports, exception rows shaded."""
    if frame is None or frame.empty:
        return frame_html(pd.DataFrame(), empty=empty)
    marks = dict(ops.highlight_rows(section, frame))
    styles = [f"background:{_COLOURS.get(marks[i], '#' + marks[i])}" if i in marks else "" for i in range(len(frame))]
    shown = frame if columns is None else frame[[c for c in columns if c in frame.columns]]
    formats: dict[str, Callable[[object], str]] = {}
    for col in shown.columns:
        kind = ops.column_kind(str(col))
        formats[col] = lambda v, kind=kind: ops.format_value(v, kind)
    extra = {} if translator is None else {"headers": translator.headers(), "more_rows": translator.t("more_rows")}
    return frame_html(shown, formats=formats, row_styles=styles, max_rows=max_rows, empty=empty, **extra)


class OperationsApp(GuardedApp, widgets.VBox):
    """The Operations dashboard as one ipywidgets box.

    Parameters
    ----------
    ws : Workspace
        The shop's tables (those :func:`opslib.ops.monthly_report` needs).
    month : str or Period, optional
        The month shown first; default the last full month of the data.
    currency : str, optional
        Currency label for money (e.g. ``"CNY"``).

    Attributes
    ----------
    month, category : ipywidgets.Dropdown
        The filters: the month of the report; a category (``ALL_CATEGORIES``:
        the whole shop).
    report : opslib.ops.MonthlyReport or None
        The report of the selected month (the whole shop).
    tiles : DataFrame or None
        The KPI tiles shown (of the selected category when one is chosen).
    kpi_panel : ipywidgets.HTML
        The tiles as cards.
    trend_chart, rates_chart : plotly.graph_objects.Figure
        The monthly trends shown in ``trend_view`` and ``rates_view``.
    supplier_chart : plotly.graph_objects.Figure
        The suppliers' on-time rate and lead time per month, shown in
        ``supplier_view``.
    movement_table, reconciliation_table, stocktake_table, stocktake_lines_table,
    supplier_table, exceptions_table : ipywidgets.HTML
    error_panel : ipywidgets.HTML
        Errors raised while updating, in plain words.
    log_output : ipywidgets.Output
        Catches anything a callback prints or raises past the error panel.

    Notes
    -----
    Every callback runs inside ``log_output`` and catches its own exceptions,
    writing them in words to ``error_panel``: in Voila an exception in a
    widget callback would otherwise vanish.
    """

    app_name = "operations"

    def __init__(self, ws: Workspace, month=None, currency: str = "", translator: Translator | None = None):
        self.ws = ws
        self.tr = tr = translator if translator is not None else Translator(STRINGS)
        tr.strings.update({k: v for k, v in STRINGS.items() if k not in tr.strings})
        self.currency = currency
        self.report: ops.MonthlyReport | None = None
        self.tiles: pd.DataFrame | None = None
        self.trend_chart: go.Figure | None = None
        self.rates_chart: go.Figure | None = None
        self.supplier_chart: go.Figure | None = None
        self._init_guard(tr)

        months: list = []
        names: list[str] = []
        try:
            months = ops.available_months(ws)
            default = ops.parse_month(month) if month is not None else ops.last_full_month(ws)
        except Exception as exc:  # noqa: BLE001 - shown on the page
            log.error("operations: could not list the months\n%s", traceback.format_exc())
            self._errors["list the months"] = f"Could not list the months of the data: {type(exc).__name__}: {exc}"
            default = None
        if ws.items is not None and "category" in ws.items.columns:
            names = sorted(ws.items["category"].dropna().astype(str).unique())
        self.month = widgets.Dropdown(
            options=[(str(m), str(m)) for m in reversed(months)],
            value=str(default) if default is not None and default in months else (str(months[-1]) if months else None),
            layout=widgets.Layout(width="220px"),
        )
        tr.bind(self.month, "month")
        self.category = widgets.Dropdown(
            options=[("All categories", ALL_CATEGORIES)] + [(c, c) for c in names],
            value=ALL_CATEGORIES,
            disabled=not names,
            layout=widgets.Layout(width="300px"),
        )
        tr.bind(self.category, "category")
        tr.bind(self.category, "", attribute="options",
                keys=[("all_categories", ALL_CATEGORIES)] + [(None, c) for c in names])
        self.language = language_toggle(tr)
        self.kpi_panel = widgets.HTML()
        self.kpi_note = widgets.HTML()
        self.trend_view = figure_output(height_px=340)
        self.rates_view = figure_output(height_px=340)
        self.movement_note = widgets.HTML()
        self.movement_table = widgets.HTML()
        self.reconciliation_note = widgets.HTML()
        self.reconciliation_table = widgets.HTML()
        self.stocktake_note = widgets.HTML()
        self.stocktake_table = widgets.HTML()
        self.stocktake_lines_table = widgets.HTML()
        self.supplier_note = widgets.HTML()
        self.supplier_table = widgets.HTML()
        self.supplier_view = figure_output(height_px=380)
        self.exceptions_note = widgets.HTML()
        self.exceptions_table = widgets.HTML()

        self._refresh_month()
        self.month.observe(self._callback(self._refresh_month), names="value")
        self.category.observe(self._callback(self._refresh_category), names="value")

        title = ws.name if ws.path is None else f"{ws.name} ({ws.path})"
        self._workspace_title = str(title)
        self.workspace_label = widgets.HTML()
        headings = {key: section(tr.t(key)) for key in
                    ("trends", "movement", "reconciliation", "stocktake", "suppliers", "exceptions")}
        self._headings = headings
        self._relabel_workspace()
        tr.on_change(lambda _: self._relabel())
        super().__init__(
            children=[
                widgets.HBox([self.workspace_label, self.language],
                             layout=widgets.Layout(justify_content="space-between", align_items="center")),
                self.error_panel,
                widgets.HBox([self.month, self.category]),
                self.kpi_note,
                self.kpi_panel,
                headings["trends"],
                widgets.HBox(
                    [
                        widgets.Box([self.trend_view], layout=widgets.Layout(width="50%")),
                        widgets.Box([self.rates_view], layout=widgets.Layout(width="50%")),
                    ]
                ),
                headings["movement"],
                self.movement_note,
                self.movement_table,
                headings["reconciliation"],
                self.reconciliation_note,
                self.reconciliation_table,
                headings["stocktake"],
                self.stocktake_note,
                self.stocktake_table,
                self.stocktake_lines_table,
                headings["suppliers"],
                self.supplier_note,
                self.supplier_table,
                self.supplier_view,
                headings["exceptions"],
                self.exceptions_note,
                self.exceptions_table,
                self.log_output,
            ],
            layout=widgets.Layout(padding="0 8px"),
        )
        self.add_class("opslib-operations")

    # ------------------------------------------------------------------ wiring

    def _relabel(self) -> None:
        """After a language switch: headings, then every part built with words (the report is kept)."""
        self._relabel_workspace()
        for key, heading in self._headings.items():
            heading.value = section(self.tr.t(key)).value
        self.supplier_chart = None  # drawn once per language
        self._refresh_category()

    @property
    def selected_month(self) -> pd.Period | None:
        return None if not self.month.value else pd.Period(self.month.value, freq="M")

    def _refresh_month(self) -> None:
        """A new month: the report, then everything shown."""
        self._guard("build the monthly report", self._build_report)
        self._refresh_category()

    def _refresh_category(self) -> None:
        self._guard("compute the KPI tiles", self._fill_tiles)
        self._guard("draw the trend charts", self._fill_trends)
        self._guard("show the stock movement", self._fill_movement)
        self._guard("show the stocktake", self._fill_stocktake)
        self._guard("show the supplier scorecard", self._fill_suppliers)
        self._guard("list the stock exceptions", self._fill_exceptions)
        self._show_errors()

    # ------------------------------------------------------------------ content

    def _build_report(self) -> None:
        self.report = None
        if self.selected_month is None:
            raise ValueError("the data has no month with order lines")
        self.report = ops.monthly_report(self.ws, self.selected_month)

    def _require_report(self) -> ops.MonthlyReport:
        if self.report is None:
            raise ValueError(self.tr.t("no_report", month=self.month.value or "—"))
        return self.report

    def _in_category(self, frame: pd.DataFrame) -> pd.DataFrame:
        cat = self.selected_category
        if cat is None or frame.empty or "category" not in frame.columns:
            return frame
        return frame[(frame["category"].astype(str) == cat).to_numpy()].reset_index(drop=True)

    def _monthly(self) -> pd.DataFrame:
        """kpis per month for the selected category (the whole shop by default)."""
        if self.selected_category is None:
            return ops.kpis(self.ws, "M")
        by = ops.kpis(self.ws, "M", by="category")
        return by[(by["category"] == self.selected_category).to_numpy()].drop(columns="category").reset_index(drop=True)

    def _fill_tiles(self) -> None:
        report = self._require_report()
        self.tiles = report.kpi_tiles if self.selected_category is None else ops.kpi_tiles(self._monthly(), report.month)
        t = self.tr.t
        self.kpi_panel.value = tile_html(self.tiles, self.currency, self.tr)
        scope = t("scope_category", category=self.selected_category) if self.selected_category else t("scope_shop")
        extra = t("kpi_note_category") if self.selected_category else ""
        self.kpi_note.value = _note(t("kpi_note", month=report.month, scope=scope) + extra)

    def _fill_trends(self) -> None:
        monthly = self._monthly()
        t = self.tr.t
        scope = self.selected_category or t("all_scope")
        month = self.selected_month
        self.trend_chart = kpi_trend_figure(monthly, month, t("trend_title", scope=scope), self.currency)
        self.rates_chart = rates_trend_figure(monthly, month, t("rates_title", scope=scope))
        show_figure(self.trend_view, self.trend_chart)
        show_figure(self.rates_view, self.rates_chart)

    def _fill_movement(self) -> None:
        t = self.tr.t
        report = self._require_report()
        if self.selected_category is None:
            self.movement_note.value = _note(t("movement_note_shop", month=report.month))
            cols = ["category", "skus", "opening_units", "receipt_units", "shipment_units", "return_units",
                    "adjustment_units", "transfer_units", "closing_units", "difference_units", "opening_value",
                    "closing_value"]
            self.movement_table.value = _table(report.stock_movement_summary, "Movement by category", columns=cols,
                                               empty=t("no_movement"), translator=self.tr)
        else:
            rows = self._in_category(report.stock_movement)
            self.movement_note.value = _note(
                t("movement_note_category", month=report.month, category=self.selected_category))
            cols = ["sku", "opening_units", "receipt_units", "shipment_units", "return_units", "adjustment_units",
                    "transfer_units", "closing_units", "difference_units", "closing_value"]
            self.movement_table.value = _table(rows, "Stock movement", max_rows=60, columns=cols,
                                               empty=t("no_movement_category"), translator=self.tr)
        recon = self._in_category(report.reconciliation)
        if recon.empty:
            self.reconciliation_note.value = _note(
                t("books_agree", month=report.month)
                + (t("books_agree_category", category=self.selected_category) if self.selected_category else ""))
            self.reconciliation_table.value = ""
        else:
            self.reconciliation_note.value = _note(t("books_differ", n=f"{len(recon):,}", month=report.month))
            self.reconciliation_table.value = _table(recon, "Reconciliation", translator=self.tr)

    def _fill_stocktake(self) -> None:
        t = self.tr.t
        report = self._require_report()
        summary = self._in_category(report.stocktake_summary)
        lines = self._in_category(report.stocktake)
        if report.stocktake.empty:
            self.stocktake_note.value = _note(t("no_stocktake", month=report.month))
        else:
            flagged = int(lines["flagged"].sum()) if len(lines) else 0
            self.stocktake_note.value = _note(
                t("stocktake_note", lines=f"{len(lines):,}", month=report.month, flagged=f"{flagged:,}"))
        cols = ["category", "lines", "lines_flagged", "accuracy", "book_units", "counted_units", "shrinkage_units",
                "shrinkage_value", "shrinkage_share"]
        self.stocktake_table.value = _table(summary, "Stocktake by category", columns=cols, empty="", translator=self.tr)
        flagged_lines = lines[lines["flagged"].to_numpy(dtype=bool)] if len(lines) else lines
        cols = ["sku", "date", "category", "book_units", "counted_units", "variance_units", "variance_value"]
        self.stocktake_lines_table.value = _table(flagged_lines.reset_index(drop=True), "Stocktake", max_rows=30,
                                                  columns=cols, empty="", translator=self.tr)

    def _fill_suppliers(self) -> None:
        t = self.tr.t
        report = self._require_report()
        self.supplier_note.value = _note(t("supplier_note", month=report.month))
        cols = ["supplier", "received_lines", "deliveries", "on_time_rate", "lead_time_mean_days", "lead_time_std_days",
                "lead_time_p90_days", "fill_rate", "rejected_rate"]
        self.supplier_table.value = _table(report.supplier_scorecard, "Suppliers", columns=cols,
                                           empty=t("no_delivery"), translator=self.tr)
        if self.supplier_chart is None and self.ws.purchase_orders is not None:
            # the trend does not depend on the filters: drawn once
            self.supplier_chart = supplier_trend_figure(
                ops.supplier_scorecard(self.ws, freq="M"), title=t("supplier_title")
            )
            show_figure(self.supplier_view, self.supplier_chart)

    def _fill_exceptions(self) -> None:
        t = self.tr.t
        report = self._require_report()
        rows = self._in_category(report.stock_exceptions)
        as_of = report.stock_exceptions.attrs.get("as_of")
        day = t("on_day", day=f"{as_of:%Y-%m-%d}") if isinstance(as_of, pd.Timestamp) else ""
        counts = rows["exception"].value_counts() if len(rows) else pd.Series(dtype=int)
        self.exceptions_note.value = _note(t("exceptions_note", day=day, **{
            k: f"{counts.get(k, 0):,}" for k in ("dead", "slow", "excess")}))
        cols = ["sku", "name", "category", "on_hand_units", "stock_value", "weeks_of_cover", "days_since_last_sale",
                "exception", "action"]
        self.exceptions_table.value = _table(rows, "Stock exceptions", max_rows=40, columns=cols,
                                             empty=t("no_exceptions"), translator=self.tr)


def operations_app(ws: Workspace | None = None, month=None, currency: str = "", language: str = "en") -> OperationsApp:
    """Build the Operations dashboard for a workspace (see :class:`OperationsApp`).

    Parameters
    ----------
    ws : Workspace, optional
        The shop's tables; by default :func:`opslib.data.default_workspace`
        (``$OPSLIB_DATA`` or the demo shop).
    month : str or Period, optional
        The month shown first; default the last full month.
    currency : str, optional
        Currency label for money.
    language : {"en", "zh"}, default "en"
        The page's language at opening (the toggle at the top switches it).

    Returns
    -------
    OperationsApp
        An ipywidgets box; display it.
    """
    refusal = None
    if ws is None:
        # reports on data that breaks the rules would mislead: open empty and say why
        ws, refusal = open_workspace(as_read_when_refused=False)
    app = OperationsApp(ws, month=month, currency=currency, translator=Translator(STRINGS, language))
    if refusal:
        app.refusal = refusal
        app._show_errors()
    return app
