"""The per-SKU part of the Replenishment tuner: one SKU's policy, tuned live.

Build it with :func:`sku_tuner` (or :class:`SkuTuner`) and display it. The
planner picks a SKU (searchable, narrowed by category, ABC/XYZ cell or
supplier), sees its demand history with the stock-out days marked and the
forecast fan, the lead-time demand distribution, the policy with its achieved
service, the naive z-rule next to it, and a simulated stock trajectory; every
control (service type and target, review period, lead-time assumption, MOQ and
case pack) re-solves the policy at once.

Every number is an engine call, the same calls :func:`opslib.plan.replenishment_plan`
makes, so the tuner shows what the plan would for the same inputs:

- the forecast: :func:`opslib.forecast.forecast` over the workspace, made once
  when the tuner opens (``horizon_days``, default :func:`opslib.plan.forecast_horizon_days`,
  which does not depend on the review period: the plan's own default);
- the policy: :func:`opslib.inventory.plan_policies` on the SKU's own rows
  (its item row with the MOQ, pack and lead time set by the controls, its
  demand, its supplier's purchase orders) with that forecast;
- the lead-time demand: :func:`opslib.inventory.lead_time_demand` with the
  daily moments, lead times and family the policy used;
- the naive z-rule: :func:`opslib.inventory.compare_with_naive_z_policy`
  (level and its achieved service under the same daily demand, mean lead time,
  before MOQ and pack);
- the trajectory: :func:`opslib.inventory.simulate_inventory` from today's stock
  on hand, read day by day on a grid (a run of ``warmup_days=t, days=1`` per
  day ``t`` of the grid, the same seed: the same paths, stopped at ``t``);
- the ABC/XYZ cells of the segment filter: :func:`opslib.inventory.demand_statistics`
  and :func:`opslib.inventory.segmentation.segment`, made when that filter is first chosen.

What does not depend on the controls (the SKU's rows, its forecast, its
supplier's lead times, today's stock, the history chart) is kept per SKU, so a
control change only re-solves the policy and redraws its parts.
"""

from __future__ import annotations

import html
import logging
import math
import time
import warnings
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from opslib.data.workspace import Workspace
from opslib.ui.base import GuardedApp, open_workspace
from opslib.ui.charts import clear_figure, figure_output, show_figure
from opslib.ui.i18n import Translator, language_toggle

__all__ = [
    "DEFAULT_LEAD_TIME_DAYS",
    "NAIVE_FIGURES",
    "POLICY_FIGURES",
    "STRINGS",
    "SkuData",
    "SkuTuner",
    "daily_demand_distribution",
    "demand_history_figure",
    "format_figure",
    "lead_time_demand_figure",
    "sku_tuner",
    "stock_trajectory_figure",
]

log = logging.getLogger(__name__)

#: Segment kinds of the SKU picker: the value of ``segment_kind`` -> the items column (or the ABC/XYZ cell).
SEGMENT_KINDS = ("all", "category", "cell", "supplier")

#: SKUs listed at most in the picker (type in the search box to find the others).
MAX_LISTED = 300

#: The policy figures shown on cards, in order (keys of ``policy_result``).
POLICY_FIGURES = ("reorder_point", "order_up_to", "order_quantity", "safety_stock", "fill_rate",
                  "cycle_service_level", "avg_on_hand", "inventory_value", "expected_cost")

#: The naive z-rule's figures shown next to them (keys of ``naive_result``).
NAIVE_FIGURES = ("level", "safety_stock", "z", "fill_rate", "cycle_service_level")

_TUNED_COLOUR, _NAIVE_COLOUR, _STOCKOUT_COLOUR, _FAN_COLOUR = "#4c78a8", "#9d755d", "#e45756", "#f58518"

DEFAULT_LEAD_TIME_DAYS = 7
"""The fixed lead time [days] the tuner shows for an item without ``lead_time_days``; the portfolio
plans a shop without purchase orders at it too (:class:`opslib.ui.portfolio.PortfolioView`)."""

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Replenishment tuner: one SKU", "zh": "补货参数调优：单个商品"},
    "segment_kind": {"en": "Segment", "zh": "分组方式"},
    "seg_all": {"en": "Whole shop", "zh": "全店"},
    "seg_category": {"en": "Category", "zh": "品类"},
    "seg_cell": {"en": "ABC/XYZ cell", "zh": "ABC/XYZ 分类"},
    "seg_supplier": {"en": "Supplier", "zh": "供应商"},
    "segment": {"en": "Group", "zh": "分组"},
    "search": {"en": "Search", "zh": "搜索"},
    "search_placeholder": {"en": "SKU or name", "zh": "商品编码或名称"},
    "listed": {"en": "{shown:,} of {matched:,} matching SKUs listed; type to narrow.",
               "zh": "共 {matched:,} 个匹配商品，列出 {shown:,} 个；输入关键字缩小范围。"},
    "no_match": {"en": "No SKU matches this segment and search.", "zh": "没有符合该分组和搜索条件的商品。"},
    "policy": {"en": "Policy", "zh": "补货策略"},
    "policy_rs": {"en": "(R,S) order up to", "zh": "(R,S) 定期补至上限"},
    "policy_rq": {"en": "(r,Q) reorder point", "zh": "(r,Q) 订货点批量"},
    "service_type": {"en": "Service", "zh": "服务水平类型"},
    "fill_rate_type": {"en": "Fill rate", "zh": "满足率"},
    "csl_type": {"en": "Cycle service level", "zh": "周期服务水平"},
    "target": {"en": "Target", "zh": "目标"},
    "review_period": {"en": "Review [days]", "zh": "补货检查周期 [天]"},
    "lead_time": {"en": "Lead time", "zh": "提前期"},
    "lt_measured": {"en": "Measured from receipts", "zh": "按到货记录实测"},
    "lt_fixed": {"en": "Fixed", "zh": "固定值"},
    "lead_time_days": {"en": "Fixed [days]", "zh": "固定 [天]"},
    "moq": {"en": "MOQ", "zh": "最小起订量"},
    "pack": {"en": "Case pack", "zh": "箱规"},
    "section_policy": {"en": "Policy", "zh": "补货策略"},
    "section_why": {"en": "Why these numbers", "zh": "数字从何而来"},
    "section_charts": {"en": "Demand, lead-time demand and simulated stock", "zh": "需求、提前期需求与模拟库存"},
    "col_figure": {"en": "Figure", "zh": "指标"},
    "col_tuned": {"en": "This policy", "zh": "本策略"},
    "col_naive": {"en": "Naive z-rule", "zh": "简单 z 值法"},
    "reorder_point": {"en": "Reorder point", "zh": "订货点"},
    "order_up_to": {"en": "Order-up-to level", "zh": "补货上限"},
    "order_quantity": {"en": "Order quantity", "zh": "订货批量"},
    "safety_stock": {"en": "Safety stock", "zh": "安全库存"},
    "fill_rate": {"en": "Fill rate", "zh": "满足率"},
    "cycle_service_level": {"en": "Cycle service level", "zh": "周期服务水平"},
    "avg_on_hand": {"en": "Expected stock on hand", "zh": "预计平均在库"},
    "inventory_value": {"en": "Its value", "zh": "在库金额"},
    "expected_cost": {"en": "Holding + ordering per year", "zh": "年持有与订货成本"},
    "z": {"en": "Safety factor z", "zh": "安全系数 z"},
    "level": {"en": "Level", "zh": "水平"},
    "units_value": {"en": "{value} units", "zh": "{value} 件"},
    "not_applicable": {"en": "n/a", "zh": "不适用"},
    "inputs": {"en": "Demand {mean} units/day ({source}, {family}); lead time {lead} days ({lead_source}); "
                     "forecast model {model}; ABC/XYZ cell {cell}; stock on hand today {on_hand}.",
               "zh": "日均需求 {mean} 件（{source}，{family}）；提前期 {lead} 天（{lead_source}）；"
                     "预测模型 {model}；ABC/XYZ 分类 {cell}；今日在库 {on_hand}。"},
    "source_forecast": {"en": "from the forecast", "zh": "来自预测"},
    "source_history": {"en": "from the history", "zh": "来自历史"},
    "lt_source_measured": {"en": "measured from receipts", "zh": "按到货实测"},
    "lt_source_item": {"en": "the item's lead time", "zh": "商品设定提前期"},
    "no_receipts": {"en": "This data has no purchase orders to measure lead times from, so the lead time is the fixed "
                          "one (the item's lead_time_days when it has one, else 7 days): type your supplier's.",
                    "zh": "当前数据没有采购单，无法测量提前期，因此使用固定提前期（商品的 lead_time_days，没有则为 7 天）："
                          "请填写供应商的实际提前期。"},
    "no_policy": {"en": "No stock is planned for {sku}: it had no demand in the last year.",
                  "zh": "{sku} 近一年没有需求，不安排库存。"},
    "why_rs_level": {
        "en": "Order-up-to level {level} units: every {review} days, order enough to raise stock on hand plus "
              "on order to {level}, rounded up to packs of {pack} and at least {moq} units. It covers the demand "
              "expected over the lead time ({lead} days on average) plus the review period, {protection} units.",
        "zh": "补货上限 {level} 件：每 {review} 天下单，把在库加在途补到 {level} 件，按每箱 {pack} 件向上取整，"
              "且不少于 {moq} 件。它覆盖提前期（平均 {lead} 天）加检查周期内的预期需求 {protection} 件。"},
    "why_rq_level": {
        "en": "Reorder point {level} units: order as soon as stock on hand plus on order is at or below {level}. "
              "The demand expected over the lead time ({lead} days on average) is {protection} units.",
        "zh": "订货点 {level} 件：在库加在途降到 {level} 件或以下时立即下单。提前期（平均 {lead} 天）内的预期需求为 "
              "{protection} 件。"},
    "why_rq_quantity": {
        "en": "Order quantity {quantity} units: the economic order quantity for an order cost of {order_cost} "
              "and holding at {holding:.0%} of the unit cost a year, rounded to packs of {pack} and at least {moq}.",
        "zh": "订货批量 {quantity} 件：按每次订货成本 {order_cost}、年持有成本为单位成本的 {holding:.0%} "
              "计算的经济订货量，"
              "按每箱 {pack} 件取整且不少于 {moq} 件。"},
    "why_safety_stock": {
        "en": "Safety stock {safety} units: what the level holds above the expected demand of {protection} units. "
              "It absorbs forecast error and lead-time spread; the demand is modelled as {family}.",
        "zh": "安全库存 {safety} 件：补货水平高出预期需求 {protection} 件的部分，用来吸收预测误差和提前期波动；"
              "需求分布按 {family} 建模。"},
    "why_fill_rate": {
        "en": "Fill rate {fill}: the share of demand served from the shelf at once. The target is a {service} of "
              "{target}; whole units and packs can only reach the next achievable level at or above it. {note}",
        "zh": "满足率 {fill}：需求中能立即从货架满足的比例。目标为{service} {target}；"
              "整件与整箱只能达到不低于目标的下一个可实现水平。{note}"},
    "fill_rate_word": {"en": "fill rate", "zh": "满足率"},
    "csl_word": {"en": "cycle service level", "zh": "周期服务水平"},
    "why_cycle_service_level": {
        "en": "Cycle service level {csl}: the chance that an order cycle passes without a stock-out. It is "
              "lower than the fill rate because one short unit spoils the whole cycle.",
        "zh": "周期服务水平 {csl}：一个订货周期内不断货的概率。一旦缺一件整个周期就算缺货，所以它低于满足率。"},
    "why_on_hand": {
        "en": "Expected stock on hand {on_hand} units on average, worth {value} at a unit cost of {unit_cost}; "
              "holding and ordering cost {cost} a year.",
        "zh": "预计平均在库 {on_hand} 件，按单位成本 {unit_cost} 计价值 {value}；年持有与订货成本 {cost}。"},
    "why_naive": {
        "en": "The naive z-rule (z = {z} from the target, spread of {lead} days of lead time only, normal demand) "
              "sets {level} units with {safety} units of safety stock; under the same daily demand it delivers a "
              "fill rate of {fill} and a cycle service level of {csl} (mean lead time, before MOQ and pack).",
        "zh": "简单 z 值法（由目标得 z = {z}，只计 {lead} 天提前期的波动，假设正态需求）给出 {level} 件，"
              "安全库存 {safety} 件；"
              "在同样的日需求下，其满足率为 {fill}，周期服务水平为 {csl}（按平均提前期，未计起订量与箱规）。"},
    "history_title": {"en": "{sku}: daily demand, stock-out days and forecast P10-P90",
                      "zh": "{sku}：日需求、缺货日与预测 P10-P90"},
    "history_units": {"en": "units sold", "zh": "销量"},
    "history_stockout": {"en": "stock-out day", "zh": "缺货日"},
    "forecast_mean": {"en": "forecast", "zh": "预测"},
    "forecast_band": {"en": "P10-P90", "zh": "P10-P90"},
    "ltd_title": {"en": "Demand over lead time + review ({family})", "zh": "提前期+检查周期内需求（{family}）"},
    "ltd_probability": {"en": "probability", "zh": "概率"},
    "ltd_mean": {"en": "mean", "zh": "均值"},
    "trajectory_title": {"en": "Simulated stock on hand from today's {on_hand} units (open orders left out; "
                               "{paths} paths)",
                         "zh": "从今日在库 {on_hand} 件起的模拟在库（未计在途订单；{paths} 条路径）"},
    "day": {"en": "day", "zh": "天"},
    "tuned_mean": {"en": "this policy, mean", "zh": "本策略均值"},
    "tuned_band": {"en": "this policy, P10-P90", "zh": "本策略 P10-P90"},
    "naive_mean": {"en": "naive z-rule, mean", "zh": "简单 z 值法均值"},
    "safety_line": {"en": "safety stock", "zh": "安全库存"},
}

_SEGMENT_KEYS = [("seg_all", "all"), ("seg_category", "category"), ("seg_cell", "cell"), ("seg_supplier", "supplier")]


# --------------------------------------------------------------------------- engine glue


def daily_demand_distribution(demand_mean_per_day: float, demand_variance_per_day: float, family: str):
    """The per-day demand the naive comparison and the simulation draw from.

    :func:`opslib.inventory.lead_time.period_demand` of the policy's family
    (the day the policy was solved for); no demand gives a point mass at 0,
    and a family the planner did not name (``"none"``) is read as counts.

    Parameters
    ----------
    demand_mean_per_day : float
        [units per day].
    demand_variance_per_day : float
        [units^2 per day].
    family : str
        The ``family`` column of the policy table.

    Returns
    -------
    frozen scipy.stats distribution or dict
    """
    from opslib.inventory import deterministic
    from opslib.inventory.lead_time import FAMILIES, period_demand

    mu, var = float(demand_mean_per_day), max(float(demand_variance_per_day), 0.0)
    if mu <= 0:
        return deterministic(0.0)
    return period_demand(family if family in FAMILIES else "compound", mu, var)


@dataclass(frozen=True)
class SkuData:
    """What the tuner keeps per SKU: nothing here depends on the controls.

    Attributes
    ----------
    sku : str
    item : pandas.Series
        The SKU's row of ``items``.
    workspace : Workspace
        The SKU's own rows: ``items`` (one row), ``demand`` and its supplier's
        ``purchase_orders`` (what :func:`opslib.inventory.plan_policies` reads).
    forecast : pandas.DataFrame
        The SKU's rows of the tuner's forecast.
    history : pandas.DataFrame
        ``date, units, in_stock`` of the SKU up to ``as_of``.
    measured_lead_times : numpy.ndarray or None
        Its supplier's measured lead times [days] (None: fewer than the
        policy engine needs).
    on_hand : float
        Today's stock on hand [units] (the last stock snapshot up to ``as_of``; 0 without one).
    """

    sku: str
    item: pd.Series
    workspace: Workspace
    forecast: pd.DataFrame
    history: pd.DataFrame
    measured_lead_times: np.ndarray | None
    on_hand: float


def _plain(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """A copy without ``attrs``: pandas deep-copies them on every operation (the forecast's made solves slow)."""
    if frame is None:
        return None
    out = frame.copy()
    out.attrs = {}
    return out


# --------------------------------------------------------------------------- charts


_GRID = {"gridcolor": "#ebebeb", "zerolinecolor": "#d0d0d0", "linecolor": "#d0d0d0", "automargin": True}


def _layout(title: str, height: int = 330) -> dict:
    """The charts' layout: the look of ``plotly_white`` spelled out (resolving a named template costs
    about 65 ms a figure, a quarter of the tuner's update budget)."""
    return dict(title={"text": title, "x": 0.01}, height=height, template="none", plot_bgcolor="white",
                paper_bgcolor="white", font={"family": "sans-serif", "size": 12, "color": "#2a3f5f"},
                margin={"l": 55, "r": 20, "t": 50, "b": 40}, hovermode="x unified",
                legend={"orientation": "h", "y": -0.2}, xaxis=dict(_GRID), yaxis=dict(_GRID))


def _vertical(x: float, colour: str, text: str, row: int = 0) -> tuple[dict, dict]:
    """A dashed vertical line across the plot and its label, the ``row``-th from the top (shape, annotation)."""
    return ({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
             "line": {"color": colour, "dash": "dash", "width": 2}},
            {"xref": "x", "yref": "paper", "x": x, "y": 1 - 0.09 * row, "xanchor": "left", "yanchor": "top",
             "text": text, "showarrow": False, "font": {"color": colour}, "bgcolor": "rgba(255,255,255,0.8)"})


def demand_history_figure(history: pd.DataFrame, forecast: pd.DataFrame, title: str,
                          labels: dict | None = None) -> go.Figure:
    """Daily units sold (bars), stock-out days (red markers) and the forecast mean with its P10-P90 fan.

    Parameters
    ----------
    history : pandas.DataFrame
        ``date, units`` and optionally ``in_stock`` (False on stock-out days).
    forecast : pandas.DataFrame
        ``date, mean, p10, p90`` of one SKU (:func:`opslib.forecast.forecast`).
    title : str
    labels : dict, optional
        Trace names: ``units``, ``stockout``, ``mean``, ``band``.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: units (bar), stock-out days (markers), P10 and P90 (the band), forecast mean.
    """
    labels = {"units": "units sold", "stockout": "stock-out day", "mean": "forecast", "band": "P10-P90",
              **(labels or {})}
    dates = pd.to_datetime(history["date"]).dt.strftime("%Y-%m-%d").tolist()
    out = (history["in_stock"].eq(False).fillna(False).to_numpy(dtype=bool) if "in_stock" in history
           else np.zeros(len(history), bool))
    fig = go.Figure(layout=_layout(title))
    fig.add_bar(x=dates, y=history["units"].astype(float).tolist(), name=labels["units"], marker_color=_TUNED_COLOUR,
                hovertemplate="%{y:,.0f}<extra></extra>")
    fig.add_scatter(x=[d for d, o in zip(dates, out) if o], y=history.loc[out, "units"].astype(float).tolist(),
                    mode="markers", name=labels["stockout"],
                    marker={"color": _STOCKOUT_COLOUR, "symbol": "x", "size": 8},
                    hovertemplate=labels["stockout"] + "<extra></extra>")
    fdates = pd.to_datetime(forecast["date"]).dt.strftime("%Y-%m-%d").tolist()
    low = forecast["p10"] if "p10" in forecast else forecast["mean"]
    high = forecast["p90"] if "p90" in forecast else forecast["mean"]
    fig.add_scatter(x=fdates, y=low.astype(float).tolist(), mode="lines", line={"width": 0}, showlegend=False,
                    name="P10", hovertemplate="P10 %{y:,.1f}<extra></extra>")
    fig.add_scatter(x=fdates, y=high.astype(float).tolist(), mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor="rgba(245,133,24,0.25)", name=labels["band"],
                    hovertemplate="P90 %{y:,.1f}<extra></extra>")
    fig.add_scatter(x=fdates, y=forecast["mean"].astype(float).tolist(), mode="lines", name=labels["mean"],
                    line={"color": _FAN_COLOUR, "width": 2}, hovertemplate="%{y:,.1f}<extra></extra>")
    fig.update_layout(xaxis={"type": "date"}, yaxis={"rangemode": "tozero"})
    return fig


def lead_time_demand_figure(distribution, levels: dict, title: str, labels: dict | None = None) -> go.Figure:
    """The lead-time (plus review) demand distribution with the policy's levels marked.

    Parameters
    ----------
    distribution : frozen scipy.stats distribution or dict
        ``LeadTimeDemand.distribution`` of :func:`opslib.inventory.lead_time_demand`.
    levels : dict
        Name -> (units, colour) of vertical lines to draw (mean, the policy's level, the naive level).
    title : str
    labels : dict, optional
        ``probability``: the y axis title.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the probabilities (bars for whole units, a density line otherwise).
    """
    from opslib.inventory.distributions import cdf, is_discrete, quantile

    labels = {"probability": "probability", "units": "units", **(labels or {})}
    lo = float(quantile(distribution, 0.0005))
    hi = float(quantile(distribution, 0.9995))
    finite = [v for v, _ in levels.values() if v is not None and np.isfinite(v)]
    hi = max([hi, *finite]) * 1.05 + 1
    fig = go.Figure(layout=_layout(title))
    if is_discrete(distribution):
        x = np.arange(max(math.floor(lo), 0), math.ceil(hi) + 1, dtype=float)
        p = np.asarray(cdf(distribution, x)) - np.asarray(cdf(distribution, x - 1))
        fig.add_bar(x=x.tolist(), y=p.tolist(), name=labels["probability"], marker_color="#9ecae9",
                    hovertemplate="%{x:,.0f}: %{y:.4f}<extra></extra>")
    else:
        x = np.linspace(max(lo, 0.0), hi, 200)
        fig.add_scatter(x=x.tolist(), y=np.asarray(distribution.pdf(x), dtype=float).tolist(), mode="lines",
                        name=labels["probability"], line={"color": "#9ecae9", "width": 3}, fill="tozeroy",
                        hovertemplate="%{x:,.1f}: %{y:.4f}<extra></extra>")
    drawn = [(name, value, colour) for name, (value, colour) in levels.items()
             if value is not None and np.isfinite(value)]
    marks = [_vertical(float(value), colour, f"{name} {value:,.1f}", row) for row, (name, value, colour) in
             enumerate(drawn)]
    fig.update_layout(hovermode="closest", shapes=[m[0] for m in marks], annotations=[m[1] for m in marks],
                      xaxis={"title": {"text": labels["units"]}},
                      yaxis={"title": {"text": labels["probability"]}, "rangemode": "tozero"})
    return fig


def stock_trajectory_figure(trajectory: pd.DataFrame, title: str, labels: dict | None = None,
                            safety_stock: float | None = None) -> go.Figure:
    """Simulated stock on hand per day: the policy's P10-P90 band and mean, the naive rule's mean.

    Parameters
    ----------
    trajectory : pandas.DataFrame
        ``day``, ``mean``, ``p10``, ``p90`` and optionally ``naive_mean`` [units].
    title : str
    labels : dict, optional
        ``band``, ``mean``, ``naive``, ``safety``, ``day``.
    safety_stock : float, optional
        Drawn as a dotted line.
    """
    labels = {"band": "P10-P90", "mean": "mean", "naive": "naive z-rule, mean", "safety": "safety stock",
              "day": "day", "units": "units", **(labels or {})}
    days = trajectory["day"].tolist()
    fig = go.Figure(layout=_layout(title))
    fig.add_scatter(x=days, y=trajectory["p10"].tolist(), mode="lines", line={"width": 0}, showlegend=False,
                    name="P10", hovertemplate="P10 %{y:,.1f}<extra></extra>")
    fig.add_scatter(x=days, y=trajectory["p90"].tolist(), mode="lines", line={"width": 0}, fill="tonexty",
                    fillcolor="rgba(76,120,168,0.25)", name=labels["band"],
                    hovertemplate="P90 %{y:,.1f}<extra></extra>")
    fig.add_scatter(x=days, y=trajectory["mean"].tolist(), mode="lines+markers", name=labels["mean"],
                    line={"color": _TUNED_COLOUR, "width": 2}, hovertemplate="%{y:,.1f}<extra></extra>")
    if "naive_mean" in trajectory:
        fig.add_scatter(x=days, y=trajectory["naive_mean"].tolist(), mode="lines", name=labels["naive"],
                        line={"color": _NAIVE_COLOUR, "dash": "dot"}, hovertemplate="%{y:,.1f}<extra></extra>")
    if safety_stock is not None and np.isfinite(safety_stock):
        fig.update_layout(
            shapes=[{"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": float(safety_stock),
                     "y1": float(safety_stock), "line": {"color": "#888", "dash": "dot"}}],
            annotations=[{"xref": "paper", "yref": "y", "x": 1, "y": float(safety_stock), "xanchor": "right",
                          "yanchor": "bottom", "text": labels["safety"], "showarrow": False}])
    fig.update_layout(xaxis={"title": {"text": labels["day"]}}, legend={"orientation": "h", "y": -0.28},
                      yaxis={"title": {"text": labels["units"]}, "rangemode": "tozero"})
    return fig


# --------------------------------------------------------------------------- the widget


def _number(value, digits: int = 1) -> str:
    """Units as shown: whole numbers without decimals, others with ``digits``."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    value = float(value)
    return f"{value:,.0f}" if value == round(value) else f"{value:,.{digits}f}"


def format_figure(name: str, value, currency: str = "") -> str:
    """A policy figure as the tuner shows it: units ``1,234.5``, shares ``95.00%``, money ``1,234.56 CNY``.

    Returns the empty string for a missing value (NaN, None).
    """
    if value is None or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
        return ""
    if name in ("fill_rate", "cycle_service_level", "target"):
        return f"{float(value):.2%}"
    if name in ("inventory_value", "expected_cost", "unit_cost", "order_cost"):
        return f"{float(value):,.2f}" + (f" {currency}" if currency else "")
    if name == "z":
        return f"{float(value):.3f}"
    return _number(value)


class SkuTuner(GuardedApp, widgets.VBox):
    """One SKU's replenishment policy, re-solved on every control change.

    Parameters
    ----------
    ws : Workspace
        ``items``, ``demand`` (derived), ``stock``; ``purchase_orders`` with
        receipts for measured lead times.
    translator : opslib.ui.i18n.Translator, optional
        The page's words; default a new one over :data:`STRINGS` (English).
    sku : str, optional
        The SKU shown first; default the first listed.
    service_type : {"fill_rate", "cycle_service_level"}, default "fill_rate"
    target : float, default 0.95
    review_period_days : int, default 7
    policy : {"(R,S)", "(r,Q)"}, default "(R,S)"
    model : str, default "auto"
        Forecast model (:func:`opslib.forecast.forecast`).
    horizon_days : int, optional
        Forecast length [days]; default :func:`opslib.plan.forecast_horizon_days`
        (what :func:`opslib.plan.replenishment_plan` uses, whatever the review
        period). Longer protection intervals repeat its last week.
    as_of : date-like, optional
        The planning day; default the last day of the demand history.
    forecast : pandas.DataFrame, optional
        A forecast to use instead of making one (``sku, date, mean, p10, p90``).
    history_days_shown : int, default 182
        Days of history in the history chart.
    trajectory_days : int, default 56
        Days simulated ahead [days].
    trajectory_step_days : int, default 7
        Days between the points of the trajectory [days].
    paths : int, default 200
        Simulated paths.
    seed : int, default 0
    currency : str, optional
        Label after money (e.g. ``"CNY"``).

    Attributes
    ----------
    segment_kind, segment : ipywidgets.Dropdown
        The segment filter: its kind (``"all"``, ``"category"``, ``"cell"``
        (ABC/XYZ), ``"supplier"``) and its value.
    search : ipywidgets.Text
        Narrows the SKU list by SKU or name.
    sku : ipywidgets.Dropdown
        The SKU shown.
    policy, service_type : ipywidgets.Dropdown
    target : ipywidgets.BoundedFloatText
        Service target, a fraction in (0, 1).
    review_period : ipywidgets.BoundedIntText
        ``R`` [days] (for (R,S)).
    lead_time : ipywidgets.Dropdown
        ``"measured"`` (the supplier's receipts; the item's ``lead_time_days``
        when it has too few) or ``"fixed"`` (``lead_time_days``). Opens on
        ``"fixed"`` when the workspace has no purchase orders (``no_receipts``;
        the inputs note says so).
    lead_time_days : ipywidgets.BoundedIntText
        The fixed lead time [days].
    moq, pack : ipywidgets.BoundedIntText
        MOQ and case pack [units] used by the policy and the simulation.
    language : ipywidgets.ToggleButtons
        English / 简体中文.
    forecast : pandas.DataFrame
        The workspace forecast the policies use.
    segments : pandas.DataFrame or None
        ABC/XYZ per SKU (:func:`opslib.inventory.segmentation.segment`), made
        when the cell filter is first chosen (None before).
    data : SkuData or None
        The selected SKU's cached inputs.
    policy_result : pandas.Series or None
        The SKU's row of :func:`opslib.inventory.plan_policies` (the figures shown).
    plan : opslib.inventory.PolicyPlan or None
        The whole result of that call.
    naive_result : dict or None
        ``level, safety_stock, z, fill_rate, cycle_service_level`` of the naive z-rule.
    naive_comparison : opslib.inventory.NaiveComparison or None
    lead_time_demand : opslib.inventory.LeadTimeDemand or None
    trajectory : pandas.DataFrame or None
        ``day, mean, p10, p50, p90, naive_mean`` [units on hand, end of day].
    history_chart, ltd_chart, trajectory_chart : plotly.graph_objects.Figure or None
        Shown in ``history_view``, ``ltd_view``, ``trajectory_view``.
    policy_panel, why_panel, inputs_note, list_note : ipywidgets.HTML
        The figures (each value in an element of class ``opslib-policy-<name>``,
        the naive ones ``opslib-naive-<name>``, with the full value in
        ``data-value``), the "why this number" sentences (``opslib-why-<name>``),
        the inputs line, and how many SKUs are listed.
    timings : dict
        Seconds the last refresh spent per part (``solve``, ``naive``,
        ``trajectory``, ``render``).
    """

    app_name = "replenishment tuner"

    def __init__(self, ws: Workspace, *, translator: Translator | None = None, sku: str | None = None,
                 service_type: str = "fill_rate", target: float = 0.95, review_period_days: int = 7,
                 policy: str = "(R,S)", model: str = "auto", horizon_days: int | None = None, as_of=None,
                 forecast: pd.DataFrame | None = None, history_days_shown: int = 182, trajectory_days: int = 56,
                 trajectory_step_days: int = 7, paths: int = 200, seed: int = 0, currency: str = ""):
        tr = translator if translator is not None else Translator(STRINGS)
        for key, texts in STRINGS.items():  # a page-wide translator learns this module's words
            tr.strings.setdefault(key, dict(texts))
        self._init_guard(tr)
        self.tr = tr
        self.ws = ws
        self.currency = currency
        self.model_name = model
        self.history_days_shown = int(history_days_shown)
        self.trajectory_days = int(trajectory_days)
        self.trajectory_step_days = int(trajectory_step_days)
        self.paths = int(paths)
        self.seed = seed
        self.forecast: pd.DataFrame = pd.DataFrame(columns=["sku", "date", "mean", "p10", "p50", "p90", "model"])
        self.segments: pd.DataFrame | None = None
        self.data: SkuData | None = None
        self.plan = None
        self.policy_result: pd.Series | None = None
        self.naive_comparison = None
        self.naive_result: dict | None = None
        self.lead_time_demand = None
        self.trajectory: pd.DataFrame | None = None
        self.history_chart: go.Figure | None = None
        self.ltd_chart: go.Figure | None = None
        self.trajectory_chart: go.Figure | None = None
        self.timings: dict[str, float] = {}
        self._cache: dict[str, SkuData] = {}
        self._busy = False

        items = ws.items if ws.items is not None else pd.DataFrame(columns=["sku", "unit_cost"])
        self.items = items.reset_index(drop=True)
        demand = ws.demand
        self.as_of = (pd.Timestamp(as_of) if as_of is not None else
                      (pd.to_datetime(demand["date"]).max() if demand is not None and len(demand) else None))
        if horizon_days is None:
            from opslib.plan import forecast_horizon_days

            horizon_days = forecast_horizon_days(self.items) if len(self.items) else 28
        self.horizon_days = int(horizon_days)
        if forecast is not None:
            self.forecast = forecast
        else:
            self._guard("forecast the demand", self._make_forecast)

        # ---- controls
        self.segment_kind = widgets.Dropdown(value="all", options=[(k, v) for k, v in _SEGMENT_KEYS],
                                             layout=widgets.Layout(width="250px"))
        tr.bind(self.segment_kind, "segment_kind")
        self.segment = widgets.Dropdown(options=[], layout=widgets.Layout(width="300px"), disabled=True)
        tr.bind(self.segment, "segment")
        self.search = widgets.Text(layout=widgets.Layout(width="260px"), continuous_update=False)
        tr.bind(self.search, "search")
        tr.bind(self.search, "search_placeholder", "placeholder")
        self.sku = widgets.Dropdown(options=[], layout=widgets.Layout(width="420px"))
        tr.bind(self.sku, "sku")
        self.list_note = widgets.HTML()
        self.policy = widgets.Dropdown(value=policy, options=[("(R,S)", "(R,S)"), ("(r,Q)", "(r,Q)")],
                                       layout=widgets.Layout(width="260px"))
        tr.bind(self.policy, "policy")
        self.service_type = widgets.Dropdown(value=service_type, options=[("fill_rate", "fill_rate"),
                                             ("cycle_service_level", "cycle_service_level")],
                                             layout=widgets.Layout(width="260px"))
        tr.bind(self.service_type, "service_type")
        self.target = widgets.BoundedFloatText(value=target, min=0.5, max=0.999, step=0.005,
                                               layout=widgets.Layout(width="180px"))
        tr.bind(self.target, "target")
        self.review_period = widgets.BoundedIntText(value=int(review_period_days), min=1, max=91,
                                                    layout=widgets.Layout(width="180px"))
        tr.bind(self.review_period, "review_period")
        self.lead_time = widgets.Dropdown(value="measured", options=[("measured", "measured"), ("fixed", "fixed")],
                                          layout=widgets.Layout(width="260px"))
        tr.bind(self.lead_time, "lead_time")
        self.lead_time_days = widgets.BoundedIntText(value=DEFAULT_LEAD_TIME_DAYS, min=0, max=365,
                                                     layout=widgets.Layout(width="180px"))
        tr.bind(self.lead_time_days, "lead_time_days")
        self.moq = widgets.BoundedIntText(value=0, min=0, max=10**7, layout=widgets.Layout(width="180px"))
        tr.bind(self.moq, "moq")
        self.pack = widgets.BoundedIntText(value=1, min=1, max=10**6, layout=widgets.Layout(width="180px"))
        tr.bind(self.pack, "pack")
        self.language = language_toggle(tr)
        # choice labels are relabelled by the tuner itself: a translator binding resets the value while it
        # swaps the options, which would re-solve the policy twice on every language switch
        self._option_keys = [
            (self.segment_kind, _SEGMENT_KEYS),
            (self.policy, [("policy_rs", "(R,S)"), ("policy_rq", "(r,Q)")]),
            (self.service_type, [("fill_rate_type", "fill_rate"), ("csl_type", "cycle_service_level")]),
            (self.lead_time, [("lt_measured", "measured"), ("lt_fixed", "fixed")]),
        ]
        self._relabel_options()
        for control in (self.policy, self.service_type, self.target, self.review_period, self.lead_time,
                        self.lead_time_days, self.moq, self.pack):
            control.style.description_width = "110px"

        # ---- outputs
        self.inputs_note = widgets.HTML()
        self.policy_panel = widgets.HTML()
        self.why_panel = widgets.HTML()
        self.history_view = figure_output(height_px=330)
        self.ltd_view = figure_output(height_px=330)
        self.trajectory_view = figure_output(height_px=330)
        self._title_text = widgets.HTML()

        po = ws.purchase_orders
        self.no_receipts = po is None or not len(po)
        if self.no_receipts:  # no receipts to measure lead times from: the fixed field, said in the inputs note
            self.lead_time.value = "fixed"
        self._fill_sku_list(prefer=sku)
        self._sync_enabled()
        self._refresh_sku()
        self.segment_kind.observe(self._callback(self._on_segment_kind), names="value")
        self.segment.observe(self._callback(self._on_filter), names="value")
        self.search.observe(self._callback(self._on_filter), names="value")
        self.sku.observe(self._callback(self._on_sku), names="value")
        for control in (self.policy, self.service_type, self.target, self.review_period, self.lead_time,
                        self.lead_time_days, self.moq, self.pack):
            control.observe(self._callback(self._on_control), names="value")
        tr.on_change(lambda language: self._render_all())

        def heading(key):
            label = widgets.Label(style={"font_size": "16px", "font_weight": "bold"},
                                  layout=widgets.Layout(margin="14px 0 4px 0"))
            return tr.bind(label, key, "value")

        super().__init__(
            children=[
                widgets.HBox([self._title_text, self.language],
                             layout=widgets.Layout(justify_content="space-between", align_items="center")),
                self.error_panel,
                widgets.HBox([self.segment_kind, self.segment, self.search]),
                widgets.HBox([self.sku, self.list_note], layout=widgets.Layout(align_items="center")),
                widgets.HBox([
                    widgets.VBox([self.policy, self.service_type, self.target]),
                    widgets.VBox([self.review_period, self.lead_time, self.lead_time_days]),
                    widgets.VBox([self.moq, self.pack]),
                ]),
                self.inputs_note,
                heading("section_policy"),
                self.policy_panel,
                heading("section_why"),
                self.why_panel,
                heading("section_charts"),
                # inside a Box like the two below: straight in the VBox, Plotly drew it 0 px high in Voila
                widgets.Box([self.history_view], layout=widgets.Layout(width="100%")),
                widgets.HBox([widgets.Box([self.ltd_view], layout=widgets.Layout(width="50%")),
                              widgets.Box([self.trajectory_view], layout=widgets.Layout(width="50%"))]),
                self.log_output,
            ],
            layout=widgets.Layout(padding="0 8px"),
        )
        self.add_class("opslib-replenishment")
        self._render_title()

    # ------------------------------------------------------------------ opening

    def _history_table(self) -> pd.DataFrame:
        demand = self.ws.demand
        history = demand[demand["sku"].isin(self.items["sku"])]
        if self.as_of is not None:
            history = history[pd.to_datetime(history["date"]) <= self.as_of]
        return history

    def _make_forecast(self) -> None:
        """The workspace forecast, as :func:`opslib.plan.replenishment_plan` makes it."""
        from opslib.forecast import forecast

        if self.ws.demand is None or len(self.ws.demand) == 0:
            raise ValueError("the workspace has no demand table (load it with opslib.load_workspace)")
        self.forecast = forecast(self._history_table(), self.horizon_days, model=self.model_name)

    def _make_segments(self) -> None:
        """ABC/XYZ cells, made the first time the cell filter is opened (it would add half a second to opening)."""
        from opslib.inventory import demand_statistics
        from opslib.inventory.segmentation import segment

        if self.segments is not None or self.ws.demand is None or len(self.ws.demand) == 0 or not len(self.items):
            return
        stats = demand_statistics(self.ws, as_of=self.as_of)
        self.segments = segment(stats, self.items.set_index("sku")["unit_cost"])

    # ------------------------------------------------------------------ the SKU list

    def _segment_values(self, kind: str) -> list[str]:
        if kind == "cell":
            self._guard("segment the SKUs (ABC/XYZ)", self._make_segments)
            self._show_errors()
            return [] if self.segments is None else sorted(self.segments["cell"].dropna().unique())
        if kind in self.items.columns:
            return sorted(self.items[kind].dropna().astype(str).unique())
        return []

    def _listed(self) -> tuple[list[tuple[str, str]], int]:
        items = self.items
        kind, value = self.segment_kind.value, self.segment.value
        keep = np.ones(len(items), dtype=bool)
        if kind == "cell" and value and self.segments is not None:
            cells = self.segments["cell"].reindex(items["sku"]).to_numpy()
            keep &= cells == value
        elif kind in ("category", "supplier") and value and kind in items.columns:
            keep &= (items[kind].astype(str) == value).to_numpy()
        text = self.search.value.strip().lower()
        names = items["name"].astype(str) if "name" in items.columns else pd.Series([""] * len(items))
        if text:
            keep &= (items["sku"].astype(str).str.lower().str.contains(text, regex=False)
                     | names.str.lower().str.contains(text, regex=False)).to_numpy()
        rows = items.loc[keep]
        labels = [f"{s} · {n}" if n and n != "nan" else str(s)
                  for s, n in zip(rows["sku"].astype(str), names[keep])]
        options = list(zip(labels, rows["sku"].astype(str)))
        return options[:MAX_LISTED], len(options)

    def _fill_sku_list(self, prefer: str | None = None) -> None:
        """List the SKUs of the segment and search; keep the current one when it is still listed."""
        options, matched = self._listed()
        current = prefer if prefer is not None else self.sku.value
        values = [v for _, v in options]
        if prefer is not None and prefer not in values and prefer in set(self.items["sku"].astype(str)):
            options = [(prefer, prefer), *options]  # asked for by name: list it even beyond the cut
            values = [prefer, *values]
        self._busy = True
        try:
            self.sku.options = options
            self.sku.value = current if current in values else (values[0] if values else None)
        finally:
            self._busy = False
        tr = self.tr
        if not options:
            self.list_note.value = f"<span style='color:#8a1c13'>{html.escape(tr.t('no_match'))}</span>"
        elif matched > len(options):
            text = tr.t("listed", shown=len(options), matched=matched)
            self.list_note.value = f"<span style='color:#555'>{html.escape(text)}</span>"
        else:
            self.list_note.value = ""

    def _on_segment_kind(self) -> None:
        if self._busy:
            return
        kind = self.segment_kind.value
        values = self._segment_values(kind)
        self._busy = True
        try:
            self.segment.options = [(v, v) for v in values]
            self.segment.value = values[0] if values else None
            self.segment.disabled = kind == "all" or not values
        finally:
            self._busy = False
        self._on_filter()

    def _on_filter(self) -> None:
        if self._busy:
            return
        before = self.sku.value
        self._fill_sku_list()
        if self.sku.value != before:
            self._refresh_sku()

    def _on_sku(self) -> None:
        if not self._busy:
            self._refresh_sku()

    def _on_control(self) -> None:
        if not self._busy:
            self._sync_enabled()
            self._refresh_policy()

    def _sync_enabled(self) -> None:
        """Grey out what the current choices ignore: R for (r,Q), the fixed lead time when measured."""
        self.review_period.disabled = self.policy.value == "(r,Q)"
        self.lead_time_days.disabled = self.lead_time.value != "fixed"

    # ------------------------------------------------------------------ per SKU (cached)

    def sku_data(self, sku: str) -> SkuData:
        """The SKU's inputs that do not depend on the controls (computed once, then cached)."""
        if sku in self._cache:
            return self._cache[sku]
        from opslib.inventory import supplier_lead_times

        ws = self.ws
        items = self.items[self.items["sku"].astype(str) == sku]
        if items.empty:
            raise ValueError(f"SKU {sku!r} is not in the items table")
        if ws.demand is None:
            raise ValueError("the workspace has no demand table; load it with opslib.load_workspace, which "
                             "derives demand from the order lines and stock")
        item = items.iloc[0]
        demand = ws.demand[(ws.demand["sku"] == sku).to_numpy()]
        supplier = item.get("supplier") if "supplier" in items.columns else None
        po = ws.purchase_orders
        if po is not None and supplier is not None and not pd.isna(supplier):
            po = po[(po["supplier"] == supplier).to_numpy()]
        else:
            po = None
        mini = Workspace(items=_plain(items), demand=_plain(demand), purchase_orders=_plain(po),
                         name=f"{ws.name}: {sku}")
        measured = supplier_lead_times(mini).get(supplier) if po is not None else None
        forecast = _plain(self.forecast[(self.forecast["sku"] == sku).to_numpy()]).reset_index(drop=True)
        history = demand
        if self.as_of is not None:
            history = history[pd.to_datetime(history["date"]) <= self.as_of]
        cols = [c for c in ("date", "units", "in_stock") if c in history.columns]
        history = history[cols].reset_index(drop=True)
        on_hand = 0.0
        stock = ws.stock
        if stock is not None and len(stock):
            rows = stock[(stock["sku"] == sku).to_numpy()]
            if self.as_of is not None:
                rows = rows[pd.to_datetime(rows["date"]) <= self.as_of]
            if len(rows):
                on_hand = max(float(rows.sort_values("date")["on_hand"].iloc[-1]), 0.0)
        data = SkuData(sku, item, mini, forecast, history, measured, on_hand)
        self._cache[sku] = data
        return data

    def _refresh_sku(self) -> None:
        """A new SKU: its cached inputs, the controls set to its item's MOQ, pack and lead time, then the policy."""
        self.data = None
        self._guard("read the SKU's data", self._load_sku)
        self._guard("draw the demand history", self._draw_history)
        self._refresh_policy()

    def _load_sku(self) -> None:
        if self.sku.value is None:
            return
        data = self.sku_data(self.sku.value)
        self.data = data
        item = data.item

        def whole(name, default):
            value = item.get(name, default)
            return default if value is None or pd.isna(value) else round(float(value))

        self._busy = True
        try:
            self.moq.value = whole("moq", 0)
            self.pack.value = max(whole("case_pack", 1), 1)
            self.lead_time_days.value = whole("lead_time_days", DEFAULT_LEAD_TIME_DAYS)
        finally:
            self._busy = False

    # ------------------------------------------------------------------ per control change

    def settings(self) -> dict:
        """The controls as engine arguments."""
        return dict(service_type=self.service_type.value, target=float(self.target.value),
                    review_period_days=int(self.review_period.value), policy=self.policy.value,
                    lead_time=self.lead_time.value, lead_time_days=int(self.lead_time_days.value),
                    moq=int(self.moq.value), case_pack=int(self.pack.value))

    def policy_workspace(self) -> Workspace:
        """The SKU's one-row workspace with the controls' MOQ, pack and lead time, as the policy engine reads it."""
        data = self._require_data()
        s = self.settings()
        items = data.workspace.items.copy()
        items["moq"] = s["moq"]
        items["case_pack"] = s["case_pack"]
        po = data.workspace.purchase_orders
        if s["lead_time"] == "fixed":
            items["lead_time_days"] = float(s["lead_time_days"])
            po = None  # no receipts: the engine takes the item's lead time
        return Workspace(items=items, demand=data.workspace.demand, purchase_orders=po, name=data.workspace.name)

    def _require_data(self) -> SkuData:
        if self.data is None:
            raise ValueError("no SKU is selected" if self.sku.value is None else
                             f"the data of {self.sku.value} could not be read (see above)")
        return self.data

    def _refresh_policy(self) -> None:
        self.timings = {}
        for what, step, key in (("solve the policy", self._solve, "solve"),
                                ("apply the naive z-rule", self._naive, "naive"),
                                ("show the policy", self._render_policy, "render"),  # the numbers first
                                ("simulate the stock trajectory", self._simulate, "trajectory"),
                                ("draw the stock trajectory", self._render_trajectory, "render_trajectory")):
            start = time.perf_counter()
            self._guard(what, step)
            self.timings[key] = time.perf_counter() - start
        self._show_errors()

    def _solve(self) -> None:
        from opslib.inventory import lead_time_demand, plan_policies

        self.plan = self.policy_result = self.lead_time_demand = None
        self.naive_comparison = self.naive_result = self.trajectory = None
        if self.data is None:
            return
        s = self.settings()
        ws = self.policy_workspace()
        fixed = ws.items["lead_time_days"].iloc[0] if "lead_time_days" in ws.items.columns else np.nan
        if (ws.purchase_orders is None or self.data.measured_lead_times is None) and pd.isna(fixed):
            raise ValueError(
                f"{self.data.sku} has no lead time: its supplier has too few receipts to measure one and the "
                "item has no lead_time_days. Choose a fixed lead time and type it in days.")
        plan = plan_policies(ws, s["service_type"], s["target"], s["review_period_days"], policy=s["policy"],
                             as_of=self.as_of, forecast=self.data.forecast if len(self.data.forecast) else None)
        if plan.policies.empty:
            reasons = "; ".join(plan.warnings["issue"].astype(str)) or "no policy"
            raise ValueError(f"{self.data.sku}: {reasons}")
        self.plan = plan
        row = plan.policies.iloc[0]
        self.policy_result = row
        if row["policy"] == "none":
            return
        review = s["review_period_days"] if s["policy"] == "(R,S)" else 0
        self.lead_time_demand = lead_time_demand(
            float(row["demand_mean_per_day"]), float(row["demand_variance_per_day"]), self._lead_times(plan),
            review, row["family"],
            None if pd.isna(row["average_demand_interval"]) else float(row["average_demand_interval"]))

    def _lead_times(self, plan=None):
        """The lead times the policy used: the supplier's samples [days], or the item's fixed value."""
        plan = plan if plan is not None else self.plan
        row = plan.policies.iloc[0]
        supplier = row.get("supplier")
        if supplier in plan.lead_times:
            return plan.lead_times[supplier]
        return float(row["lead_time_mean_days"])

    def _naive(self) -> None:
        from opslib.inventory import compare_with_naive_z_policy, naive_z_policy

        row = self.policy_result
        if row is None or row["policy"] == "none":
            return
        s = self.settings()
        mu, var = float(row["demand_mean_per_day"]), float(row["demand_variance_per_day"])
        daily = daily_demand_distribution(mu, var, row["family"])
        lead = float(row["lead_time_mean_days"])
        if s["policy"] == "(R,S)":
            cmp = compare_with_naive_z_policy(daily, lead, s["target"], s["service_type"],
                                              review_periods=s["review_period_days"])
            level = cmp.naive.order_up_to
            rule = naive_z_policy(mu, math.sqrt(var), lead, s["target"], s["review_period_days"])
        else:
            cmp = compare_with_naive_z_policy(daily, lead, s["target"], s["service_type"],
                                              order_quantity=float(row["order_quantity"]))
            level = cmp.naive.reorder_point
            rule = naive_z_policy(mu, math.sqrt(var), lead, s["target"])
        self.naive_comparison = cmp
        self.naive_result = dict(level=float(level), safety_stock=float(cmp.naive.safety_stock), z=float(rule.z),
                                 fill_rate=float(cmp.naive.fill_rate),
                                 cycle_service_level=float(cmp.naive.cycle_service_level))

    def trajectory_days_grid(self) -> np.ndarray:
        """The days of the trajectory [days from today]."""
        return np.arange(0, self.trajectory_days + 1, max(self.trajectory_step_days, 1))

    def _simulate(self) -> None:
        from opslib.inventory import simulate_inventory

        row = self.policy_result
        if row is None or row["policy"] == "none":
            return
        s = self.settings()
        daily = daily_demand_distribution(float(row["demand_mean_per_day"]), float(row["demand_variance_per_day"]),
                                          row["family"])
        lead = self._lead_times()
        lead = [np.asarray(lead, dtype=float)] * 2 if np.ndim(lead) else round(float(lead))
        level_name = "order_up_to" if s["policy"] == "(R,S)" else "reorder_point"
        level = float(row[level_name])
        naive = self.naive_result["level"] if self.naive_result else level  # no naive rule: the same level twice
        if s["policy"] == "(R,S)":
            kwargs = {"order_up_to": [level, naive], "review_period_days": s["review_period_days"]}
        else:
            kwargs = {"reorder_point": [level, naive], "order_quantity": float(row["order_quantity"])}
        rows = []
        for day in self.trajectory_days_grid():
            with warnings.catch_warnings():  # one measured day: the spread of the cycle measures is undefined
                warnings.simplefilter("ignore", RuntimeWarning)
                run = simulate_inventory(s["policy"], [daily, daily], lead, minimum_order_quantity=s["moq"],
                                         order_multiple=s["case_pack"], days=1, warmup_days=int(day),
                                         paths=self.paths, initial_on_hand=self._require_data().on_hand,
                                         seed=self.seed, workers=1, **kwargs)
            on_hand = run.per_path["avg_on_hand"]
            rows.append((int(day), *np.percentile(on_hand[0], [10, 50, 90]), float(on_hand[0].mean()),
                         float(on_hand[1].mean())))
        self.trajectory = pd.DataFrame(rows, columns=["day", "p10", "p50", "p90", "mean", "naive_mean"])

    # ------------------------------------------------------------------ rendering

    def _relabel_options(self) -> None:
        self._busy = True
        try:
            for widget, keys in self._option_keys:
                value = widget.value
                widget.options = [(self.tr.t(k), v) for k, v in keys]
                widget.value = value
        finally:
            self._busy = False

    def _render_all(self) -> None:
        """After a language switch: every text and chart made at refresh time (nothing is solved again)."""
        self._relabel_options()
        self._render_title()
        self._fill_sku_list()
        self._guard("draw the demand history", self._draw_history)
        self._guard("show the policy", self._render_policy)
        self._guard("draw the stock trajectory", self._render_trajectory)
        self._show_errors()

    def _render_title(self) -> None:
        self._title_text.value = f"<h2 style='margin:6px 0'>{html.escape(self.tr.t('title'))}</h2>"

    def _draw_history(self) -> None:
        self.history_chart = None
        if self.data is None:
            clear_figure(self.history_view)
            return
        tr, data = self.tr, self.data
        history = data.history
        if len(history) and self.history_days_shown:
            last = pd.to_datetime(history["date"]).max()
            history = history[pd.to_datetime(history["date"]) > last - pd.Timedelta(days=self.history_days_shown)]
        self.history_chart = demand_history_figure(
            history, data.forecast, tr.t("history_title", sku=data.sku),
            {"units": tr.t("history_units"), "stockout": tr.t("history_stockout"), "mean": tr.t("forecast_mean"),
             "band": tr.t("forecast_band")})
        show_figure(self.history_view, self.history_chart)

    def _render_policy(self) -> None:
        tr = self.tr
        row = self.policy_result
        self.ltd_chart = None
        if row is None:
            self.policy_panel.value = self.why_panel.value = self.inputs_note.value = ""
            clear_figure(self.ltd_view)
            return
        self.inputs_note.value = self._inputs_html(row)
        if row["policy"] == "none":
            text = tr.t("no_policy", sku=row["sku"])
            self.policy_panel.value = f"<p class='opslib-policy-none'>{html.escape(text)}</p>"
            self.why_panel.value = ""
            clear_figure(self.ltd_view)
            return
        self.policy_panel.value = self._cards_html(row)
        self.why_panel.value = self._why_html(row)
        level_name = tr.t("order_up_to") if row["policy"] == "(R,S)" else tr.t("reorder_point")
        level = row["order_up_to"] if row["policy"] == "(R,S)" else row["reorder_point"]
        ltd = self.lead_time_demand
        if ltd is not None:
            levels = {tr.t("ltd_mean"): (float(ltd.mean), "#555"), level_name: (float(level), _TUNED_COLOUR)}
            if self.naive_result:
                levels[tr.t("col_naive")] = (self.naive_result["level"], _NAIVE_COLOUR)
            self.ltd_chart = lead_time_demand_figure(ltd.distribution, levels, tr.t("ltd_title", family=ltd.family),
                                                     {"probability": tr.t("ltd_probability"), "units": tr.t("units")})
            show_figure(self.ltd_view, self.ltd_chart)

    def _render_trajectory(self) -> None:
        tr, row = self.tr, self.policy_result
        self.trajectory_chart = None
        if row is None or row["policy"] == "none" or self.trajectory is None:
            clear_figure(self.trajectory_view)
            return
        self.trajectory_chart = stock_trajectory_figure(
            self.trajectory, tr.t("trajectory_title", paths=self.paths, on_hand=_number(self.data.on_hand)),
            {"band": tr.t("tuned_band"), "mean": tr.t("tuned_mean"), "naive": tr.t("naive_mean"),
             "safety": tr.t("safety_line"), "day": tr.t("day"), "units": tr.t("units")},
            safety_stock=float(row["safety_stock"]))
        show_figure(self.trajectory_view, self.trajectory_chart)

    def _inputs_html(self, row: pd.Series) -> str:
        tr, data = self.tr, self.data
        cell = "" if self.segments is None else self.segments["cell"].get(row["sku"], "")
        model = ""
        if data is not None and len(data.forecast) and "model" in data.forecast:
            model = str(data.forecast["model"].iloc[0])
        source = row.get("demand_source", "history")
        text = tr.t("inputs", mean=_number(row["demand_mean_per_day"], 3),
                    source=tr.t("source_forecast" if source == "forecast" else "source_history"),
                    family=row.get("family", ""), lead=_number(row["lead_time_mean_days"], 2),
                    lead_source=tr.t("lt_source_measured" if row.get("lead_time_source") == "measured"
                                     else "lt_source_item"),
                    model=model or "-", cell=cell or "-", on_hand=_number(data.on_hand if data else float("nan")))
        if self.no_receipts:
            text += " " + tr.t("no_receipts")
        return f"<div class='opslib-policy-inputs' style='color:#555;margin:6px 0'>{html.escape(text)}</div>"

    def _cards_html(self, row: pd.Series) -> str:
        """The policy's figures next to the naive z-rule's, one row per figure."""
        tr = self.tr
        naive = self.naive_result or {}
        level_key = "order_up_to" if row["policy"] == "(R,S)" else "reorder_point"
        figures = [f for f in POLICY_FIGURES if not (f == "order_quantity" and row["policy"] == "(R,S)")]
        if row["policy"] == "(R,S)":
            figures = [f for f in figures if f != "reorder_point"]
        naive_for = {level_key: "level", "safety_stock": "safety_stock", "fill_rate": "fill_rate",
                     "cycle_service_level": "cycle_service_level"}
        cell = "padding:4px 12px;border-bottom:1px solid #e0e0e0;"
        head = (f"<tr><th style='{cell}text-align:left'>{html.escape(tr.t('col_figure'))}</th>"
                f"<th style='{cell}text-align:right'>{html.escape(tr.t('col_tuned'))}</th>"
                f"<th style='{cell}text-align:right;color:{_NAIVE_COLOUR}'>{html.escape(tr.t('col_naive'))}</th></tr>")
        body = []
        for name in figures:
            value = row[name]
            shown = format_figure(name, value, self.currency)
            tuned = (f"<span class='opslib-policy-value opslib-policy-{name}' data-value='{float(value)!r}'>"
                     f"{html.escape(shown)}</span>")
            other = ""
            if name in naive_for and naive_for[name] in naive:
                key = naive_for[name]
                other = (f"<span class='opslib-naive-value opslib-naive-{key}' data-value='{naive[key]!r}'>"
                         f"{html.escape(format_figure(key, naive[key]))}</span>")
            weight = "font-weight:600;font-size:16px;" if name in (level_key, "safety_stock", "fill_rate") else ""
            body.append(f"<tr><td style='{cell}'>{html.escape(tr.t(name))}</td>"
                        f"<td style='{cell}text-align:right;{weight}'>{tuned}</td>"
                        f"<td style='{cell}text-align:right;color:{_NAIVE_COLOUR}'>{other}</td></tr>")
        if "z" in naive:
            body.append(f"<tr><td style='{cell}'>{html.escape(tr.t('z'))}</td><td style='{cell}'></td>"
                        f"<td style='{cell}text-align:right;color:{_NAIVE_COLOUR}'>"
                        f"<span class='opslib-naive-value opslib-naive-z' data-value='{naive['z']!r}'>"
                        f"{html.escape(format_figure('z', naive['z']))}</span></td></tr>")
        return ("<table class='opslib-policy' style='border-collapse:collapse;font-size:14px;min-width:520px'>"
                f"{head}{''.join(body)}</table>")

    def _why_html(self, row: pd.Series) -> str:
        tr = self.tr
        s = self.settings()
        ltd = self.lead_time_demand
        protection = _number(ltd.mean if ltd is not None else float("nan"))
        lead = _number(row["lead_time_mean_days"], 1)
        moq, pack = _number(row.get("minimum_order", s["moq"])), _number(s["case_pack"])
        parts = []
        if row["policy"] == "(R,S)":
            parts.append(("order_up_to", tr.t("why_rs_level", level=_number(row["order_up_to"]),
                                              review=s["review_period_days"], pack=pack, moq=moq, lead=lead,
                                              protection=protection)))
        else:
            item = self.data.item if self.data is not None else pd.Series(dtype=object)
            holding = item.get("holding_cost_rate_per_year", 0.25)
            holding = 0.25 if holding is None or pd.isna(holding) else float(holding)
            order_cost = item.get("order_cost", 0.0)
            order_cost = 0.0 if order_cost is None or pd.isna(order_cost) else float(order_cost)
            parts.append(("reorder_point", tr.t("why_rq_level", level=_number(row["reorder_point"]), lead=lead,
                                                protection=protection)))
            parts.append(("order_quantity", tr.t("why_rq_quantity", quantity=_number(row["order_quantity"]),
                                                 order_cost=format_figure("order_cost", order_cost, self.currency),
                                                 holding=holding, pack=pack, moq=moq)))
        parts.append(("safety_stock", tr.t("why_safety_stock", safety=_number(row["safety_stock"]),
                                           protection=protection, family=row.get("family", ""))))
        note = str(row.get("rounding_note", "") or "")
        service = tr.t("fill_rate_word" if s["service_type"] == "fill_rate" else "csl_word")
        parts.append(("fill_rate", tr.t("why_fill_rate", fill=format_figure("fill_rate", row["fill_rate"]),
                                        target=format_figure("target", row["service_target"]), service=service,
                                        note=note)))
        csl = format_figure("cycle_service_level", row["cycle_service_level"])
        parts.append(("cycle_service_level", tr.t("why_cycle_service_level", csl=csl)))
        parts.append(("avg_on_hand", tr.t("why_on_hand", on_hand=_number(row["avg_on_hand"]),
                                          value=format_figure("inventory_value", row["inventory_value"], self.currency),
                                          unit_cost=format_figure("unit_cost", row.get("unit_cost"), self.currency),
                                          cost=format_figure("expected_cost", row["expected_cost"], self.currency))))
        if self.naive_result:
            n = self.naive_result
            parts.append(("naive", tr.t("why_naive", z=format_figure("z", n["z"]), lead=lead, level=_number(n["level"]),
                                        safety=_number(n["safety_stock"]),
                                        fill=format_figure("fill_rate", n["fill_rate"]),
                                        csl=format_figure("cycle_service_level", n["cycle_service_level"]))))
        items = "".join(f"<li class='opslib-why-{name}' style='margin:3px 0'>{html.escape(text)}</li>"
                        for name, text in parts)
        return f"<ul class='opslib-why' style='margin:4px 0;padding-left:20px;max-width:900px'>{items}</ul>"


def sku_tuner(ws: Workspace | None = None, *, translator: Translator | None = None, **kwargs) -> SkuTuner:
    """Build the per-SKU Replenishment tuner (see :class:`SkuTuner`).

    Parameters
    ----------
    ws : Workspace, optional
        The shop's tables; by default :func:`opslib.data.default_workspace`
        (``$OPSLIB_DATA`` or the demo shop). Data that breaks the rules opens
        an empty tuner that says why.
    translator : opslib.ui.i18n.Translator, optional
        Shared with the rest of the page; default a new one over :data:`STRINGS`.
    **kwargs
        Passed to :class:`SkuTuner` (``sku``, ``service_type``, ``target``,
        ``review_period_days``, ``policy``, ``model``, ``horizon_days``,
        ``as_of``, ``currency``, ...).

    Returns
    -------
    SkuTuner
        An ipywidgets box; display it.
    """
    refusal = None
    if ws is None:
        ws, refusal = open_workspace(as_read_when_refused=False)
    app = SkuTuner(ws, translator=translator, **kwargs)
    if refusal:
        app.refusal = refusal
        app._show_errors()
    return app
