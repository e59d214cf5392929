"""The portfolio part of the Replenishment tuner: the exchange curve, today's order list, saved settings.

Build it with :func:`portfolio_view` (or :class:`PortfolioView`) and display it.
Every number is one library call; this module only lays them out:

- the exchange curve (aggregate fill rate against inventory investment, Silver,
  Pyke and Thomas ch. 7): :func:`opslib.inventory.service_investment_curves`
  per SKU, then :func:`opslib.inventory.exchange_curve`; the budget chosen on
  the slider is marked with :func:`opslib.inventory.marginal_allocation` at
  that budget (its investment and demand-weighted fill rate);
- today's order list grouped by supplier: :func:`opslib.plan.replenishment_plan`
  ``.orders``, driven by the settings saved in the workspace folder
  (:mod:`opslib.plan_settings`), downloadable as CSV (the order list) and Excel
  (:func:`opslib.plan.plan_workbook`, the sheets of ``opslib plan``);
- the saved settings per SKU or segment, with who changed what and when
  (:func:`opslib.plan_settings.update_settings`, :func:`~opslib.plan_settings.settings_log`).

The CSV download is an ``<a download href="data:...;base64,...">`` link rebuilt
after every recompute: Voila 0.5 serves no files from the kernel, and a data URL
needs no server route. The Excel workbook (0.7 s to write on the demo shop) is
written only when its link is clicked (:class:`opslib.ui.download.FileButton`).
The bytes are :meth:`PortfolioView.order_list_csv` and
:meth:`PortfolioView.order_list_excel`.
"""

from __future__ import annotations

import dataclasses
import html
import math
import time
import traceback
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from opslib import inventory as inv
from opslib.data.workspace import Workspace
from opslib.plan import (
    NO_STOCK_MESSAGE,
    ReplenishmentPlan,
    plan_forecast,
    plan_sheets,
    plan_workbook,
    replenishment_plan,
)
from opslib.plan_settings import (
    CELLS,
    FIELDS,
    current_user,
    load_settings,
    settings_log,
    update_settings,
)
from opslib.ui.base import GuardedApp, log, open_workspace
from opslib.ui.charts import figure_output, show_figure
from opslib.ui.download import FileButton
from opslib.ui.i18n import Translator, language_toggle
from opslib.ui.replenishment import DEFAULT_LEAD_TIME_DAYS  # the SKU tab's fixed lead time
from opslib.ui.snapshot import download_link
from opslib.ui.tables import frame_html

__all__ = ["STRINGS", "PortfolioView", "portfolio_view", "exchange_curve_figure", "PortfolioCurves",
           "portfolio_curves", "MAX_CURVE_POINTS"]

MAX_CURVE_POINTS = 1500
"""Most points of the exchange curve drawn (evenly thinned; the marked budget point is exact)."""

STRINGS: dict[str, dict[str, str]] = {
    "portfolio_title": {"en": "Replenishment portfolio", "zh": "补货组合"},
    "portfolio_workspace": {"en": "Workspace: {name}", "zh": "工作区：{name}"},
    "recompute": {"en": "Recompute", "zh": "重新计算"},
    "excel_pending": {"en": "Excel: being written…", "zh": "Excel 文件生成中…"},
    "review_period": {"en": "Review [days]", "zh": "补货检查周期 [天]"},
    "budget": {"en": "Budget", "zh": "预算"},
    "section_curve": {"en": "Exchange curve: inventory investment against aggregate fill rate",
                      "zh": "交换曲线：库存投资与综合满足率"},
    "section_orders": {"en": "Today's order list, by supplier", "zh": "今日订货单（按供应商）"},
    "section_settings": {"en": "Saved settings (per SKU or segment)", "zh": "已保存的设置（按商品或细分）"},
    "step_curves": {"en": "Service and investment per SKU…", "zh": "计算各商品的服务水平与投资…"},
    "step_exchange": {"en": "Exchange curve…", "zh": "计算交换曲线…"},
    "step_forecast": {"en": "Demand forecast…", "zh": "需求预测…"},
    "step_policies": {"en": "Policies per SKU…", "zh": "各商品的补货策略…"},
    "step_orders": {"en": "Today's order list…", "zh": "今日订货单…"},
    "step_done": {"en": "Done in {seconds:.1f} s ({skus} SKUs).", "zh": "完成，用时 {seconds:.1f} 秒（{skus} 个商品）。"},
    "curve_name": {"en": "Best aggregate fill rate", "zh": "最优综合满足率"},
    "budget_point": {"en": "Chosen budget", "zh": "所选预算"},
    "current_point": {"en": "Current policies", "zh": "当前策略"},
    "axis_investment": {"en": "Average inventory investment{unit}", "zh": "平均库存投资{unit}"},
    "axis_fill_rate": {"en": "Aggregate fill rate (demand-weighted)", "zh": "综合满足率（按需求加权）"},
    "card_budget": {"en": "Budget", "zh": "预算"},
    "card_investment": {"en": "Investment at this budget", "zh": "该预算下的投资"},
    "card_fill_rate": {"en": "Aggregate fill rate at this budget", "zh": "该预算下的综合满足率"},
    "card_current": {"en": "Current policies: investment / fill rate", "zh": "当前策略：投资 / 满足率"},
    "card_orders": {"en": "Order lines today", "zh": "今日订货行数"},
    "card_value": {"en": "Order value today", "zh": "今日订货金额"},
    "curve_note": {"en": "{skus} SKUs with demand and a lead time, review every {review} days, demand from the "
                         "plan's forecast (backorders). The greedy allocation raises the SKU whose next unit buys "
                         "the most fill rate per money.",
                   "zh": "{skus} 个有需求且有提前期的商品，每 {review} 天检查一次库存，需求取自计划的预测（缺货回补）。"
                         "贪心分配每次提升单位投资带来满足率最多的商品。"},
    "orders_note": {"en": "{lines} lines from {suppliers} suppliers on {day}; order value {value}.",
                    "zh": "{day}：{suppliers} 个供应商共 {lines} 行，订货金额 {value}。"},
    "no_orders": {"en": "Nothing to order today.", "zh": "今日无需订货。"},
    "no_stock": {"en": "This data has no stock table, so there is no order list: it needs each SKU's stock on hand "
                       "today. The policies are planned (the curve above, the Excel download); load a stock snapshot "
                       "(sku, date, on_hand) for the orders.",
                 "zh": "当前数据没有库存表，因此无法生成订货单（需要每个商品今日的在库量）。补货策略已计算（见上方曲线与 Excel 下载）；"
                       "请导入库存快照（sku、date、on_hand）以生成订货单。"},
    "default_lead_time": {"en": "This data has no purchase orders to measure lead times from: {n} SKUs without "
                                "lead_time_days are planned at {days} days. Save your suppliers' lead times below "
                                "(field lead_time_days) or add them to the items table.",
                          "zh": "当前数据没有采购单，无法测量提前期：{n} 个没有 lead_time_days 的商品按 {days} 天计划。"
                                "请在下方保存供应商的实际提前期（字段 lead_time_days），或写入商品表。"},
    "supplier_total": {"en": "{lines} lines, {units} units, {value}", "zh": "{lines} 行，{units} 件，{value}"},
    "scope": {"en": "Scope", "zh": "范围"},
    "key": {"en": "Which", "zh": "对象"},
    "field": {"en": "Setting", "zh": "设置项"},
    "value": {"en": "Value", "zh": "值"},
    "user": {"en": "Your name", "zh": "您的姓名"},
    "save": {"en": "Save", "zh": "保存"},
    "clear": {"en": "Clear", "zh": "清除"},
    "scope_sku": {"en": "SKU", "zh": "商品"},
    "scope_cell": {"en": "ABC/XYZ cell", "zh": "ABC/XYZ 分类"},
    "scope_category": {"en": "Category", "zh": "品类"},
    "scope_supplier": {"en": "Supplier", "zh": "供应商"},
    "field_service_type": {"en": "Service type", "zh": "服务类型"},
    "field_target": {"en": "Target (0-1)", "zh": "目标（0-1）"},
    "field_review_period_days": {"en": "Review period [days]", "zh": "补货检查周期 [天]"},
    "field_lead_time_days": {"en": "Lead time [days]", "zh": "提前期[天]"},
    "field_moq": {"en": "MOQ [units]", "zh": "最小订货量[件]"},
    "field_case_pack": {"en": "Case pack [units]", "zh": "箱规[件]"},
    "settings_note": {"en": "Precedence: SKU, then ABC/XYZ cell, category, supplier, then the defaults. "
                            "Saved in {path}.",
                      "zh": "优先级：商品 > ABC/XYZ 分类 > 品类 > 供应商 > 默认值。保存于 {path}。"},
    "no_folder": {"en": "This workspace has no folder: settings cannot be saved.",
                  "zh": "此工作区没有文件夹，无法保存设置。"},
    "no_settings": {"en": "No saved settings: the defaults apply.", "zh": "没有已保存的设置：使用默认值。"},
    "saved": {"en": "Saved {changes} change(s) by {user}; the order list was recomputed.",
              "zh": "{user} 保存了 {changes} 项更改；订货单已重新计算。"},
    "log_title": {"en": "Latest changes", "zh": "最近的更改"},
}
"""The page's words in English and 简体中文 (merged over :data:`opslib.ui.i18n.COMMON`)."""

_CARD = ("display:inline-block;min-width:190px;margin:0 10px 8px 0;padding:8px 12px;border:1px solid #ddd;"
         "border-radius:6px;background:#fafafa;vertical-align:top")
_CURVE_COLOUR, _BUDGET_COLOUR, _CURRENT_COLOUR = "#4c78a8", "#e45756", "#54a24b"
_ORDER_COLUMNS = ["sku", "on_hand", "on_order", "inventory_position", "target_position", "order_quantity",
                  "order_value", "expected_arrival_date", "projected_stockout_date", "reason"]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STEPS = ("forecast", "curves", "exchange", "policies", "orders", "done")
"""The steps of a recompute, in order (the progress bar counts them)."""


# ---------------------------------------------------------------------------- library chain


class PortfolioCurves:
    """The per-SKU service-investment curves and their exchange curve (one library call each).

    Attributes
    ----------
    curves : pandas.DataFrame
        :func:`opslib.inventory.service_investment_curves`.
    skus : list
        The SKUs, in the order of the arrays.
    fill_rates, investments : list of numpy.ndarray
        Per SKU, levels rising.
    weights : numpy.ndarray
        Demand rate per SKU [units per day].
    exchange : pandas.DataFrame
        :func:`opslib.inventory.exchange_curve` of those arrays.
    """

    def __init__(self, curves: pd.DataFrame):
        self.curves = curves
        # the groups of curves.groupby("sku", sort=False) (first appearance, rows in order), by one stable sort
        codes, skus = pd.factorize(curves["sku"], sort=False)
        order = np.argsort(codes, kind="stable")
        bounds = np.cumsum(np.bincount(codes, minlength=len(skus)))[:-1]
        self.skus = list(skus)
        self.fill_rates = np.split(curves["fill_rate"].to_numpy(dtype=float)[order], bounds)
        self.investments = np.split(curves["investment"].to_numpy(dtype=float)[order], bounds)
        self.weights = curves["demand_mean_per_day"].to_numpy(dtype=float)[order][np.r_[0, bounds].astype(int)]
        self.exchange = inv.exchange_curve(self.fill_rates, self.investments, self.weights)

    @property
    def lowest(self) -> float:
        """Investment of every SKU at its lowest level [money]."""
        return float(self.exchange["investment"].iloc[0])

    @property
    def highest(self) -> float:
        """Investment at the top of the curve [money]."""
        return float(self.exchange["investment"].iloc[-1])

    def allocate(self, budget: float) -> inv.BudgetAllocation:
        """:func:`opslib.inventory.marginal_allocation` at ``budget`` (clipped to the curve)."""
        budget = min(max(float(budget), self.lowest), self.highest)
        return inv.marginal_allocation(self.fill_rates, self.investments, self.weights, budget)


def portfolio_curves(ws: Workspace, review_period_days: int = 7, *, as_of=None, forecast=None) -> PortfolioCurves:
    """The exchange curve of a workspace: :func:`opslib.inventory.service_investment_curves` (on ``forecast``,
    e.g. :func:`opslib.plan.plan_forecast`, when given) then :func:`opslib.inventory.exchange_curve`."""
    return PortfolioCurves(inv.service_investment_curves(ws, review_period_days, as_of=as_of, forecast=forecast))


def _thin(curve: pd.DataFrame, n: int) -> pd.DataFrame:
    if len(curve) <= n:
        return curve
    keep = np.unique(np.round(np.linspace(0, len(curve) - 1, n)).astype(int))
    return curve.iloc[keep]


def exchange_curve_figure(exchange: pd.DataFrame, budget_point: tuple[float, float] | None = None,
                          current_point: tuple[float, float] | None = None, *, title: str = "",
                          labels: dict | None = None, currency: str = "") -> go.Figure:
    """The exchange curve with the chosen budget (and the current policies) marked.

    Parameters
    ----------
    exchange : pandas.DataFrame
        :func:`opslib.inventory.exchange_curve` (``investment``, ``aggregate_fill_rate``).
    budget_point : (float, float), optional
        Investment [money] and aggregate fill rate of the allocation at the budget.
    current_point : (float, float), optional
        The same for the policies in force.
    labels : dict, optional
        ``curve``, ``budget``, ``current``, ``x``, ``y``: legend and axis words.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 the curve (thinned to :data:`MAX_CURVE_POINTS`), trace 1 the
        budget point (exact), trace 2 the current policies when given.
    """
    words = {"curve": "Best aggregate fill rate", "budget": "Chosen budget", "current": "Current policies",
             "x": "Average inventory investment", "y": "Aggregate fill rate", **(labels or {})}
    shown = _thin(exchange, MAX_CURVE_POINTS)
    fig = go.Figure()
    fig.add_scatter(x=shown["investment"].tolist(), y=shown["aggregate_fill_rate"].tolist(), mode="lines",
                    name=words["curve"], line={"color": _CURVE_COLOUR},
                    hovertemplate="%{x:,.0f}: %{y:.2%}<extra></extra>")
    if budget_point is not None:
        fig.add_scatter(x=[budget_point[0]], y=[budget_point[1]], mode="markers", name=words["budget"],
                        marker={"color": _BUDGET_COLOUR, "size": 12, "symbol": "diamond"},
                        hovertemplate="%{x:,.0f}: %{y:.2%}<extra></extra>")
        fig.add_vline(x=budget_point[0], line={"color": _BUDGET_COLOUR, "dash": "dot"})
    if current_point is not None and all(map(math.isfinite, current_point)):
        fig.add_scatter(x=[current_point[0]], y=[current_point[1]], mode="markers", name=words["current"],
                        marker={"color": _CURRENT_COLOUR, "size": 11, "symbol": "circle"},
                        hovertemplate="%{x:,.0f}: %{y:.2%}<extra></extra>")
    unit = f" [{currency}]" if currency else ""
    fig.update_layout(title={"text": title, "x": 0.01}, height=380, template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 50, "b": 50}, legend={"orientation": "h", "y": -0.2},
                      xaxis_title=words["x"] + unit, yaxis_title=words["y"], yaxis_tickformat=".0%")
    return fig


def _same_sheets(a: dict, b: dict) -> bool:
    """Whether two plans' workbook sheets hold the same tables (then their workbooks are the same bytes)."""
    return list(a) == list(b) and all(a[k].shape == b[k].shape and a[k].equals(b[k]) for k in a)


def _money(value: float, currency: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" + (f" {currency}" if currency else "")


# ---------------------------------------------------------------------------- the view


class PortfolioView(GuardedApp, widgets.VBox):
    """The portfolio page: exchange curve with a budget, today's order list, saved settings.

    Parameters
    ----------
    ws : Workspace
        The shop (``items``, ``demand``, ``stock``, ``purchase_orders``...);
        settings are saved in ``ws.path``.
    translator : opslib.ui.i18n.Translator, optional
        Shared with the rest of the page; default one over :data:`STRINGS`.
    review_period_days : int, default 7
        Review period of the curves and the plan's default [days].
    budget : float, optional
        The budget marked first [money]; default the investment of the
        current policies (the plan's ``inventory_value``), within the curve.
    model : str, default "auto"
        Forecast model of the plan.
    currency : str, optional
        Label after money.
    user : str, optional
        Name recorded with saved changes; default the login name.
    compute : bool, default True
        Recompute on construction (False: wait for the button).
    forecast : pandas.DataFrame or callable, optional
        A forecast of the workspace already made with ``model`` (or a
        function returning it when the plan is made), e.g. the Replenishment
        tuner's: the curves and :func:`opslib.plan.replenishment_plan` use it
        instead of forecasting again when it matches the plan's history and
        horizon (:func:`opslib.plan.forecast_matches`), so the plan is the
        same. The forecast is kept for the next recompute the same way (the
        horizon does not depend on the review period, so a new review period
        does not forecast again).

    Attributes
    ----------
    recompute_button : ipywidgets.Button
    progress : ipywidgets.IntProgress
        Steps of a recompute (forecast, curves, exchange curve, policies,
        order list, rendering); the bar
        turns green when every step worked, red when one failed (said in
        ``error_panel``).
    progress_label : ipywidgets.HTML
    budget : ipywidgets.FloatSlider
        Budget [money]; moving it re-allocates without recomputing.
    portfolio : PortfolioCurves or None
    allocation : opslib.inventory.BudgetAllocation or None
        :func:`~opslib.inventory.marginal_allocation` at the budget.
    plan : opslib.plan.ReplenishmentPlan or None
    curve_figure : plotly.graph_objects.Figure or None
    cards : ipywidgets.HTML
        The numbers, each in an element of class ``opslib-portfolio-<name>``
        (``budget``, ``investment``, ``fill-rate``, ``current``, ``order-lines``,
        ``order-value``).
    orders_table : ipywidgets.HTML
        The order list grouped by supplier.
    downloads : ipywidgets.HTML
        The CSV link.
    excel_button : opslib.ui.download.FileButton
        The Excel link (class ``opslib-portfolio-download-excel``): the workbook is written when it is
        clicked.
    scope, key, field, value, user_name : widgets
        The settings editor; ``save_button``, ``clear_button``.
    settings_table, log_table, settings_note : ipywidgets.HTML
    timings : dict
        Seconds per step of the last recompute.
    """

    app_name = "portfolio"

    def __init__(self, ws: Workspace, *, translator: Translator | None = None, review_period_days: int = 7,
                 budget: float | None = None, model: str = "auto", currency: str = "", user: str | None = None,
                 compute: bool = True, forecast=None):
        tr = translator if translator is not None else Translator(STRINGS)
        for key, texts in STRINGS.items():  # a shared translator learns this page's words
            tr.strings.setdefault(key, dict(texts))
        self.ws = ws
        # a shop without purchase orders has no lead time to measure: the items' own, else the default
        self.default_lead_time_skus: list[str] = []
        po = ws.purchase_orders
        if ws.items is not None and len(ws.items) and (po is None or not len(po)):
            lead = (pd.to_numeric(ws.items["lead_time_days"], errors="coerce") if "lead_time_days" in ws.items.columns
                    else pd.Series(np.nan, index=ws.items.index))
            if lead.isna().any():
                self.default_lead_time_skus = ws.items.loc[lead.isna().to_numpy(), "sku"].astype(str).tolist()
                self.ws = dataclasses.replace(
                    ws, items=ws.items.assign(lead_time_days=lead.fillna(float(DEFAULT_LEAD_TIME_DAYS))))
        self.model = model
        self.currency = currency
        self.portfolio: PortfolioCurves | None = None
        self.allocation: inv.BudgetAllocation | None = None
        self.plan: ReplenishmentPlan | None = None
        self.curve_figure: go.Figure | None = None
        self.timings: dict[str, float] = {}
        self._requested_budget = budget
        self._curves: pd.DataFrame | None = None
        self._curve_cache: dict[int, pd.DataFrame] = {}
        self._given_forecast = forecast
        self._forecast: pd.DataFrame | None = None  # the plan's forecast of the shop (no saved settings)
        self._quiet = False
        self._workbook: tuple = (None, b"")
        self._message = ""
        self._init_guard(tr)

        self.language = language_toggle(tr)
        self.title = widgets.HTML()
        self.review_period = tr.bind(widgets.BoundedIntText(value=int(review_period_days), min=1, max=91,
                                                            layout=widgets.Layout(width="200px")), "review_period")
        self.recompute_button = tr.bind(widgets.Button(button_style="primary", icon="refresh"), "recompute")
        self.progress = widgets.IntProgress(value=0, min=0, max=len(_STEPS), layout=widgets.Layout(width="220px"))
        self.progress.add_class("opslib-portfolio-progress")
        self.progress_label = widgets.HTML()
        self.budget = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=1.0, continuous_update=False,
                                          readout_format=",.0f", layout=widgets.Layout(width="640px"))
        tr.bind(self.budget, "budget")
        self.cards = widgets.HTML()
        self.curve_note = widgets.HTML()
        self.curve_view = figure_output(height_px=380)
        self.orders_note = widgets.HTML()
        self.downloads = widgets.HTML()
        # the workbook is written when its link is clicked (0.7 s of openpyxl on the demo shop, which every
        # recompute would otherwise pay, or a background thread beside the next recompute would slow it by)
        self.excel_button = FileButton(self._excel_download, mime=_XLSX)
        self.excel_button.add_class("opslib-portfolio-download-excel")
        tr.bind(self.excel_button, "download_excel", attribute="label")
        tr.bind(self.excel_button, "excel_pending", attribute="busy_label")
        self.orders_table = widgets.HTML()

        # settings editor
        self.scope = widgets.Dropdown(value="category", options=[(s, s) for s in ("sku", "cell", "category", "supplier")],
                                      layout=widgets.Layout(width="230px"))
        tr.bind(self.scope, "scope")
        tr.bind(self.scope, "", "options", keys=[(f"scope_{s}", s) for s in ("sku", "cell", "category", "supplier")])
        self.key = widgets.Combobox(ensure_option=True, layout=widgets.Layout(width="260px"))
        tr.bind(self.key, "key")
        self.field = widgets.Dropdown(value="target", options=[(f, f) for f in FIELDS],
                                      layout=widgets.Layout(width="260px"))
        tr.bind(self.field, "field")
        tr.bind(self.field, "", "options", keys=[(f"field_{f}", f) for f in FIELDS])
        self.value = widgets.Text(layout=widgets.Layout(width="200px"))
        tr.bind(self.value, "value")
        self.user_name = widgets.Text(value=user or current_user(), layout=widgets.Layout(width="220px"))
        tr.bind(self.user_name, "user")
        self.save_button = tr.bind(widgets.Button(icon="save"), "save")
        self.clear_button = tr.bind(widgets.Button(icon="eraser"), "clear")
        for control in (self.scope, self.key, self.field, self.value, self.user_name, self.review_period):
            control.style.description_width = "90px"
        self.settings_note = widgets.HTML()
        self.settings_table = widgets.HTML()
        self.log_table = widgets.HTML()
        self._fill_keys()

        self.recompute_button.on_click(lambda _: self._callback(self.recompute)(None))
        self.budget.observe(self._callback(self._on_budget), names="value")
        self.scope.observe(self._callback(self._fill_keys), names="value")
        self.save_button.on_click(lambda _: self._callback(self.save_setting)(None))
        self.clear_button.on_click(lambda _: self._callback(self.clear_setting)(None))
        tr.on_change(lambda language: self._render_all())

        def heading(key):
            return _Heading(tr, key).widget

        super().__init__(
            children=[
                widgets.HBox([self.title, self.language],
                             layout=widgets.Layout(justify_content="space-between", align_items="center")),
                self.error_panel,
                widgets.HBox([self.review_period, self.recompute_button, self.progress, self.progress_label],
                              layout=widgets.Layout(align_items="center")),
                self.cards,
                heading("section_curve"),
                self.curve_note,
                self.budget,
                self.curve_view,
                heading("section_orders"),
                self.orders_note,
                widgets.HBox([self.downloads, self.excel_button], layout=widgets.Layout(align_items="center")),
                self.orders_table,
                heading("section_settings"),
                self.settings_note,
                widgets.HBox([self.scope, self.key, self.field]),
                widgets.HBox([self.value, self.user_name, self.save_button, self.clear_button]),
                self.settings_table,
                self.log_table,
                self.log_output,
            ],
            layout=widgets.Layout(padding="0 8px"),
        )
        self.add_class("opslib-portfolio")
        self._render_title()
        self._guard("show the saved settings", self._render_settings)
        if compute:
            self.recompute()
        else:
            self._show_errors()

    # ------------------------------------------------------------------ computing

    def _step(self, name: str) -> None:
        """Show that step ``name`` of :data:`_STEPS` starts (the bar counts the steps done)."""
        self.progress.value = _STEPS.index(name)
        if name != "done":
            self.progress_label.value = html.escape(self.translator.t(f"step_{name}"))

    def recompute(self, fresh: bool = False) -> None:
        """Forecast, curves, exchange curve, plan (order list); then everything shown. Errors go to the page.

        The per-SKU curves rest on the plan's forecast (:func:`opslib.plan.plan_forecast`,
        without saved settings) and depend on the data and the review period only:
        they are kept per review period and computed again only for a new one, or
        with ``fresh=True``. They share each SKU's shortfall and simulated cycles
        with the plan (:func:`opslib.inventory.service_investment_curves`), so a
        new review period computes them once for both. The plan is always made
        again (the settings may have changed on disk), on the forecast made before
        when it still matches (not with ``fresh=True``); the Excel workbook is
        written again only when the plan's tables changed.
        """
        start = time.perf_counter()
        if fresh:
            self._curve_cache.clear()
            self.plan = None  # and no forecast kept
            self._forecast = None
        self.timings = {}
        self.progress.bar_style = "info"
        self.portfolio = None
        self._step("forecast")
        self._guard("forecast the demand", self._make_forecast)
        self._step("curves")
        self._guard("compute the service and investment per SKU", self._make_curves)
        self._step("exchange")
        if self._curves is not None:
            self._guard("compute the exchange curve", self._make_exchange)
        self._guard("make today's plan", self._make_plan)  # steps forecast, policies, orders
        self._guard("set the budget", self._set_budget_range)
        self._render_all()
        self.timings["total"] = time.perf_counter() - start
        self._step("done")
        self.progress.value = len(_STEPS)
        self.progress.bar_style = "danger" if self._errors else "success"
        skus = 0 if self.plan is None else len(self.plan.policies)
        self.progress_label.value = html.escape(self.translator.t("step_done", seconds=self.timings["total"], skus=skus))

    def prepare_curves(self) -> None:
        """Compute the forecast and the per-SKU curves of the current review period now, for a later :meth:`recompute`.

        They depend on the data and the review period only, so a preheated page computes them
        before its visitor comes (:func:`opslib.ui.when_opened`); the plan, which reads the saved
        settings, is still made at the recompute.
        """
        self._make_forecast()
        self._make_curves()

    def _make_forecast(self) -> None:
        """The plan's forecast of the shop: the one kept or given when it matches, else a new one."""
        t = time.perf_counter()
        known = self._forecast if self._forecast is not None else self._known_forecast(self.plan)
        self._forecast = plan_forecast(self.ws, model=self.model, forecast=known)
        self.timings["forecast"] = time.perf_counter() - t

    def _make_curves(self) -> None:
        self._curves = None
        if self._forecast is None:  # the forecast failed (said on the page): no curves
            return
        t = time.perf_counter()
        review = int(self.review_period.value)
        if review not in self._curve_cache:  # they depend on the data and the review period only
            self._curve_cache[review] = inv.service_investment_curves(self.ws, review, forecast=self._forecast)
        self._curves = self._curve_cache[review]
        self.timings["curves"] = time.perf_counter() - t

    def _make_exchange(self) -> None:
        t = time.perf_counter()
        self.portfolio = PortfolioCurves(self._curves)
        self.timings["exchange"] = time.perf_counter() - t

    def _make_plan(self) -> None:
        previous, self.plan = self.plan, None
        t = time.perf_counter()
        known = self._forecast if self._forecast is not None else self._known_forecast(previous)
        self.plan = replenishment_plan(self.ws, review_period_days=int(self.review_period.value), model=self.model,
                                       progress=self._plan_step, forecast=known)
        self.timings["plan"] = time.perf_counter() - t

    def _plan_step(self, name: str) -> None:
        if name != "forecast":  # the view's own first step
            self._step(name)

    def _known_forecast(self, previous: ReplenishmentPlan | None):
        """The forecast made before (the previous plan's, else the one given): the plan checks that it matches."""
        if previous is not None and len(previous.forecast):
            return previous.forecast
        given = self._given_forecast
        return given() if callable(given) else given

    @property
    def current_point(self) -> tuple[float, float]:
        """Investment [money] and demand-weighted fill rate of the plan's policies, over the curves' SKUs.

        The plan's own ``inventory_value`` and ``fill_rate`` (demand from the
        forecast, saved settings applied), weighted by the curves' demand
        rates. The curves rest on the same forecast with the items' MOQ and
        packs, and each SKU's passes through the plan's level for it, so
        without saved settings this point is one allocation of the budget it
        spends, and lies on or below the exchange curve (the best allocation
        when each SKU's curve is concave, as they nearly always are). The gap
        is what a budget allocation gains over one target for every SKU (and
        what the saved settings change): on the demo shop 95.2 % against
        97.3 % at the same investment.
        """
        if self.plan is None or self.portfolio is None:
            return (math.nan, math.nan)
        p = self.plan.policies.set_index("sku")
        p = p.reindex(self.portfolio.skus)
        weights = pd.Series(self.portfolio.weights, index=self.portfolio.skus)
        ok = p["fill_rate"].notna()
        fill = float((p.loc[ok, "fill_rate"] * weights[ok]).sum() / weights[ok].sum()) if ok.any() else math.nan
        return (float(p["inventory_value"].fillna(0).sum()), fill)

    def _set_budget_range(self) -> None:
        if self.portfolio is None:
            return
        low, high = self.portfolio.lowest, self.portfolio.highest
        wanted = self._requested_budget
        if wanted is None:
            wanted = self.current_point[0] if math.isfinite(self.current_point[0]) else (low + high) / 2
        wanted = min(max(float(wanted), low), high)
        self._requested_budget = wanted
        self._quiet = True  # one allocation below, not one per trait
        try:
            self.budget.max = max(high, self.budget.min)
            self.budget.min = low
            self.budget.max = high
            self.budget.step = max((high - low) / 1000.0, 1e-6)
            self.budget.value = wanted
        finally:
            self._quiet = False
        self._guard("allocate the budget", self._allocate)

    def _allocate(self) -> None:
        self.allocation = None
        if self.portfolio is not None:
            self.allocation = self.portfolio.allocate(self.budget.value)

    def _on_budget(self) -> None:
        if self._quiet:
            return
        self._requested_budget = self.budget.value
        self._guard("allocate the budget", self._allocate)
        self._guard("draw the exchange curve", self._draw_curve)
        self._guard("show the numbers", self._render_cards)
        self._show_errors()

    # ------------------------------------------------------------------ downloads

    def order_list(self) -> pd.DataFrame:
        """Today's order list (``plan.orders.orders``), sorted by supplier."""
        if self.plan is None:
            raise RuntimeError("no plan yet: recompute first")
        return self.plan.orders.orders

    def order_list_csv(self) -> bytes:
        """The order list as CSV (UTF-8 with a BOM, so that Excel reads Chinese names)."""
        return self.order_list().to_csv(index=False).encode("utf-8-sig")

    def order_list_excel(self) -> bytes:
        """The plan as an Excel workbook (:func:`opslib.plan.plan_workbook`; the order list is sheet ``Orders``)."""
        if self.plan is None:
            raise RuntimeError("no plan yet: recompute first")
        return self._workbook_of(self.plan)

    def _workbook_of(self, plan: ReplenishmentPlan) -> bytes:
        if self._workbook[0] is not plan:  # one workbook per plan (a second click, a language switch keep it)
            before = self._workbook[0]
            same = before is not None and _same_sheets(plan_sheets(before), plan_sheets(plan))
            self._workbook = (plan, self._workbook[1] if same else plan_workbook(plan))
        return self._workbook[1]

    def _excel_download(self) -> bytes:
        """The workbook for the Excel link, made when it is clicked; a failure is said in the error panel."""
        what = "write the Excel workbook"
        self._errors.pop(what, None)
        try:
            return self.order_list_excel()
        except Exception as exc:
            log.error("%s: could not %s\n%s", self.app_name, what, traceback.format_exc())
            self._errors[what] = f"Could not {what}: {type(exc).__name__}: {exc}"
            raise
        finally:
            self._show_errors()

    # ------------------------------------------------------------------ settings

    def _segment_keys(self, scope: str) -> list[str]:
        items = self.ws.items
        if scope == "cell":
            return list(CELLS)
        column = {"sku": "sku", "category": "category", "supplier": "supplier"}[scope]
        if items is None or column not in items.columns:
            return []
        return sorted(items[column].dropna().astype(str).unique().tolist())

    def _fill_keys(self) -> None:
        options = self._segment_keys(self.scope.value)
        self.key.options = tuple(options)
        if self.key.value not in options:
            self.key.value = options[0] if options else ""

    def save_setting(self) -> None:
        """Save ``field = value`` for ``scope``/``key`` (empty value: clear the field), then recompute the plan."""
        self._save({self.field.value: self.value.value})

    def clear_setting(self) -> None:
        """Remove ``field`` of ``scope``/``key`` from the saved settings, then recompute the plan."""
        self._save({self.field.value: None})

    def _save(self, values: dict) -> None:
        self._errors.pop("save the setting", None)
        self._message = ""

        def save():
            if self.ws.path is None:
                raise ValueError(self.translator.t("no_folder"))
            if not str(self.key.value).strip():
                raise ValueError(f"choose which {self.scope.value} the setting is for")
            before = len(settings_log(self.ws.path))
            user = self.user_name.value.strip() or None
            update_settings(self.ws.path, self.scope.value, self.key.value, user=user, **values)
            changes = len(settings_log(self.ws.path)) - before
            self._message = self.translator.t("saved", changes=changes, user=user or current_user())

        self._guard("save the setting", save)
        if "save the setting" not in self._errors:
            self._guard("make today's plan", self._make_plan)
            self.progress.value = len(_STEPS)
            self.progress_label.value = ""
        self._guard("show the saved settings", self._render_settings)
        self._render_all()

    # ------------------------------------------------------------------ rendering

    def _render_all(self) -> None:
        self._render_title()
        self._guard("draw the exchange curve", self._draw_curve)
        self._guard("show the numbers", self._render_cards)
        self._guard("show the order list", self._render_orders)
        self._guard("show the saved settings", self._render_settings)
        self._show_errors()

    def _render_title(self) -> None:
        tr = self.translator
        name = self.ws.name if self.ws.path is None else f"{self.ws.name} ({self.ws.path})"
        self.title.value = (f"<h2 style='margin:6px 0'>{html.escape(tr.t('portfolio_title'))}</h2>"
                            f"<div style='color:#555'>{html.escape(tr.t('portfolio_workspace', name=name))}</div>")
        if self.default_lead_time_skus:
            self.title.value += ("<div class='opslib-portfolio-default-lead-time' style='color:#7a5b00'>"
                                 + html.escape(tr.t("default_lead_time", n=len(self.default_lead_time_skus),
                                                    days=DEFAULT_LEAD_TIME_DAYS)) + "</div>")

    def _draw_curve(self) -> None:
        tr = self.translator
        if self.portfolio is None:
            self.curve_note.value = ""
            return
        budget = None if self.allocation is None else (self.allocation.investment, self.allocation.aggregate_fill_rate)
        unit = f" [{self.currency}]" if self.currency else ""
        self.curve_figure = exchange_curve_figure(
            self.portfolio.exchange, budget, self.current_point, title=tr.t("section_curve"), currency="",
            labels={"curve": tr.t("curve_name"), "budget": tr.t("budget_point"), "current": tr.t("current_point"),
                    "x": tr.t("axis_investment", unit=unit), "y": tr.t("axis_fill_rate")})
        show_figure(self.curve_view, self.curve_figure)
        self.curve_note.value = ("<div style='color:#555;margin:2px 0 6px 0'>" + html.escape(
            tr.t("curve_note", skus=len(self.portfolio.skus), review=int(self.review_period.value))) + "</div>")

    def _card(self, name: str, label_key: str, value: str) -> str:
        return (f"<div style='{_CARD}'><div style='font-size:12px;color:#555'>"
                f"{html.escape(self.translator.t(label_key))}</div>"
                f"<div class='opslib-portfolio-{name}' style='font-size:21px;font-weight:600'>{html.escape(value)}"
                "</div></div>")

    def _render_cards(self) -> None:
        cards = []
        if self.allocation is not None:
            cards.append(self._card("budget", "card_budget", _money(self.budget.value, self.currency)))
            cards.append(self._card("investment", "card_investment", _money(self.allocation.investment, self.currency)))
            cards.append(self._card("fill-rate", "card_fill_rate", f"{self.allocation.aggregate_fill_rate:.2%}"))
            investment, fill = self.current_point
            if math.isfinite(investment):
                cards.append(self._card("current", "card_current",
                                        f"{_money(investment, self.currency)} / {fill:.2%}"))
        if self.plan is not None:
            orders = self.plan.orders.orders
            cards.append(self._card("order-lines", "card_orders", f"{len(orders):,}"))
            cards.append(self._card("order-value", "card_value",
                                    _money(float(orders["order_value"].sum()) if len(orders) else 0.0, self.currency)))
        self.cards.value = "<div class='opslib-portfolio-cards'>" + "".join(cards) + "</div>"

    def _render_orders(self) -> None:
        tr = self.translator
        if self.plan is None:
            self.orders_note.value = self.downloads.value = self.orders_table.value = ""
            self.excel_button.layout.display = "none"
            return
        orders = self.plan.orders.orders
        day = f"{self.plan.orders.as_of:%Y-%m-%d}"
        no_stock = orders.empty and (self.plan.warnings["message"] == NO_STOCK_MESSAGE).any()
        if no_stock:  # no stock table: the policies stand, the order list cannot be made
            self.orders_note.value = (f"<p class='opslib-portfolio-no-stock' style='color:#7a5b00'>"
                                      f"{html.escape(tr.t('no_stock'))}</p>")
        elif orders.empty:
            self.orders_note.value = f"<p class='opslib-portfolio-no-orders'>{html.escape(tr.t('no_orders'))}</p>"
        else:
            self.orders_note.value = "<div style='color:#555;margin:2px 0 6px 0'>" + html.escape(tr.t(
                "orders_note", lines=f"{len(orders):,}", suppliers=orders["supplier"].nunique(), day=day,
                value=_money(float(orders["order_value"].sum()), self.currency))) + "</div>"
        self._render_downloads()
        parts = []
        formats: dict[str, Callable[[object], str]] = {
            "on_hand": "{:,.0f}".format, "on_order": "{:,.0f}".format, "inventory_position": "{:,.0f}".format,
            "target_position": "{:,.1f}".format, "order_quantity": "{:,.0f}".format, "order_value": "{:,.2f}".format}
        for supplier, rows in orders.groupby("supplier", sort=True, dropna=False):
            total = tr.t("supplier_total", lines=f"{len(rows):,}", units=f"{rows['order_quantity'].sum():,.0f}",
                         value=_money(float(rows["order_value"].sum()), self.currency))
            parts.append(
                f"<div class='opslib-portfolio-supplier' data-supplier='{html.escape(str(supplier))}' "
                "style='margin:12px 0 4px 0'>"
                f"<b>{html.escape(str(supplier))}</b> <span style='color:#555'>{html.escape(total)}</span></div>"
                + frame_html(rows[[c for c in _ORDER_COLUMNS if c in rows.columns]].reset_index(drop=True),
                             formats=formats, max_rows=500))
        self.orders_table.value = "<div class='opslib-portfolio-orders'>" + "".join(parts) + "</div>"

    def _render_downloads(self) -> None:
        tr = self.translator
        day = f"{self.plan.orders.as_of:%Y-%m-%d}"
        self.excel_button.filename = f"replenishment_plan_{day}.xlsx"
        self.excel_button.layout.display = None
        self.downloads.value = download_link(self.order_list_csv(), f"orders_{day}.csv", "text/csv",
                                             tr.t("download_csv"), "opslib-portfolio-download-csv")

    def _render_settings(self) -> None:
        tr = self.translator
        if self.ws.path is None:
            self.settings_note.value = f"<p>{html.escape(tr.t('no_folder'))}</p>"
            self.settings_table.value = self.log_table.value = ""
            for control in (self.save_button, self.clear_button):
                control.disabled = True
            return
        saved = load_settings(self.ws.path)
        note = tr.t("settings_note", path=str(self.ws.path))
        if self._message:
            note += " " + self._message
        self.settings_note.value = f"<div class='opslib-portfolio-settings-note' style='color:#555'>{html.escape(note)}</div>"
        frame = saved.to_frame()
        self.settings_table.value = ("<div class='opslib-portfolio-settings'>"
                                     + frame_html(frame, max_rows=200, empty=tr.t("no_settings")) + "</div>")
        log = settings_log(self.ws.path)
        if log.empty:
            self.log_table.value = ""
        else:
            latest = log.iloc[::-1].head(20).assign(changed_at=lambda f: f["changed_at"].dt.strftime("%Y-%m-%d %H:%M UTC"))
            self.log_table.value = (f"<div style='margin-top:8px'><b>{html.escape(tr.t('log_title'))}</b></div>"
                                    "<div class='opslib-portfolio-log'>" + frame_html(latest.reset_index(drop=True))
                                    + "</div>")


class _Heading:
    """A section heading bound to the translator."""

    def __init__(self, tr: Translator, key: str):
        self.widget = widgets.HTML()
        self.tr, self.key = tr, key
        self.tr.on_change(lambda language: self.render())
        self.render()

    def render(self) -> None:
        self.widget.value = f"<h3 style='margin:18px 0 6px 0'>{html.escape(self.tr.t(self.key))}</h3>"


def portfolio_view(ws: Workspace | None = None, *, translator: Translator | None = None, **kwargs) -> PortfolioView:
    """Build the portfolio page for a workspace (see :class:`PortfolioView`).

    Parameters
    ----------
    ws : Workspace, optional
        Default :func:`opslib.data.default_workspace` (``$OPSLIB_DATA`` or the
        demo shop); refused data opens an empty page that says why.
    translator : opslib.ui.i18n.Translator, optional
    **kwargs
        Passed to :class:`PortfolioView` (``review_period_days``, ``budget``,
        ``model``, ``currency``, ``user``, ``compute``).

    Returns
    -------
    PortfolioView
    """
    refusal = None
    if ws is None:
        ws, refusal = open_workspace(as_read_when_refused=False)
        if refusal:
            kwargs["compute"] = False
    view = PortfolioView(ws, translator=translator, **kwargs)
    if refusal:
        view.refusal = refusal
        view._show_errors()
    return view
