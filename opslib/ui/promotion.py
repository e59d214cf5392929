"""The "Promotion simulator" app: a marketer's what-if of one promotion, and up to four kept side by side.

Build it with :func:`promotion_simulator` (or :class:`PromotionSimulator`) and
display it. The numbers come from :mod:`opslib.promo`: the demand response of
the chosen category (:func:`~opslib.promo.fit_own_price_response` with the
order lines, elasticities pooled by :func:`~opslib.promo.pool_elasticities`),
the baseline and its uncertainty (:func:`~opslib.promo.baseline_from_history`,
:func:`~opslib.promo.baseline_uncertainty`), one
:class:`~opslib.promo.Simulator` per SKU set and window length, called on
every control change (common random numbers: the same seed gives the same
draws for a SKU in any plan), and :func:`~opslib.promo.stock_check`. This
module only lays them out, wires the controls and keeps the scenarios.

The planning origin is the day after the last day of ``demand``: the baseline
of every window is :func:`~opslib.promo.baseline_from_history` from that
origin over the planning horizon (one table, so that windows of different
starts compare on the same baseline), and the promotion window must lie
inside the horizon.

The response fit of a category takes seconds (about 20 s for the demo shop's
largest category on a loaded 2-core machine), so it is kept on disk under
:func:`opslib.data.cache.cache_dir`, keyed like the workspace cache (the data
files, the loading code) plus the code of :mod:`opslib.promo`; the page opens
on a kept fit in well under a second. Without one, :func:`promotion_simulator`
fits in a background thread and the page says so until the numbers arrive.

Scenarios: "Keep scenario" puts the current plan into the side-by-side
comparison of this page (up to :data:`MAX_SCENARIOS`, on common random
numbers); "Save for colleagues" stores it under a name in the data folder
(:mod:`opslib.promo_scenarios`, with who saved it and when), where everyone
who opens the same folder sees it listed and can put it into their own
comparison, recomputed exactly as a kept scenario. The two are separate on
purpose: trying variants should not fill the colleagues' list, and a saved
scenario should be a deliberate, named choice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import inspect
import io
import logging
import os
import pickle
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from opslib import promo, promo_scenarios
from opslib.data.schema import PROMO_MECHANICS
from opslib.data.workspace import Workspace
from opslib.errors import DataError
from opslib.ui.base import GuardedApp, open_workspace
from opslib.ui.charts import (
    clear_figure,
    figure_output,
    promotion_comparison_figure,
    promotion_lift_figure,
    promotion_waterfall_figure,
    roi_distribution_figure,
    show_figure,
    tornado_figure,
)
from opslib.ui.i18n import Translator, language_toggle
from opslib.ui.snapshot import Paragraph, download_link, snapshot_html
from opslib.ui.tables import frame_html

__all__ = [
    "MAX_SCENARIOS",
    "PROMOTION_STRINGS",
    "InputError",
    "PromotionSimulator",
    "category_response",
    "promotion_simulator",
]

log = logging.getLogger(__name__)

MAX_SCENARIOS = 4
"""Scenarios kept side by side at most."""

_PROMO_CODE = Path(promo.__file__).resolve().parent  # the code the fitted response depends on


class InputError(ValueError):
    """A control holds a value the plan cannot take; the message says which and how to fix it."""


# --------------------------------------------------------------------------- words

_MECHANIC_WORDS = {
    "percent_off": ("Percent off", "直降打折"),
    "threshold": ("Spend threshold (满减)", "满减"),
    "repeating_threshold": ("Every-threshold (每满减)", "每满减"),
    "item_count": ("Buy N items, % off (满N件折)", "满N件折"),
    "flash_sale": ("Flash sale (秒杀)", "限时秒杀"),
    "second_half_price": ("Second item half price", "第二件半价"),
    "bogo": ("Buy one get one", "买一送一"),
    "gift": ("Gift with purchase", "满赠"),
    "coupon": ("Coupon", "优惠券"),
    "points": ("Loyalty points", "积分"),
}

_COMPONENT_WORDS = {
    "baseline_margin": ("Baseline margin", "基线毛利"),
    "own_lift_margin": ("Margin of the lift", "增量毛利"),
    "discount_on_baseline_units": ("Discount on baseline units", "基线销量的让利"),
    "discount_on_incremental_units": ("Discount on extra units", "增量销量的让利"),
    "cannibalization": ("Cannibalization", "蚕食"),
    "pre_dip": ("Pre-promotion dip", "活动前下滑"),
    "post_dip": ("Post-promotion dip", "活动后下滑"),
    "halo": ("Halo", "光环效应"),
    "coupon_cost": ("Coupon cost", "优惠券成本"),
    "gift_cost": ("Gift cost", "赠品成本"),
    "points_cost": ("Points cost", "积分成本"),
    "fixed_cost": ("Fixed fees", "固定费用"),
    "funding": ("Supplier / platform funding", "供应商 / 平台补贴"),
    "promotion_margin": ("Promotion margin", "活动毛利"),
}

_INPUT_WORDS = {
    "elasticity": ("price elasticity", "价格弹性"),
    "post_dip": ("post-promotion dip", "活动后下滑"),
    "pre_dip": ("pre-promotion dip", "活动前下滑"),
    "cannibalization": ("cannibalization", "蚕食"),
    "mechanic_effect": ("mechanic visibility", "玩法曝光效应"),
    "sibling_effect": ("sibling loss", "同类商品损失"),
    "baseline_level": ("baseline level", "基线水平"),
    "window_noise": ("count noise", "随机波动"),
    "dip_fraction": ("post-promotion dip share", "活动后下滑占比"),
    "pre_dip_fraction": ("pre-promotion dip share", "活动前下滑占比"),
    "halo": ("halo", "光环效应"),
}

PROMOTION_STRINGS: dict[str, dict[str, str]] = {
    "promo_title": {"en": "Promotion simulator", "zh": "促销模拟器"},
    "promo_intro": {
        "en": "Choose the SKUs, the window and the mechanic; the numbers are a Monte Carlo over the demand "
              "response learned from the shop's past promotions ({draws:,} draws, seed {seed}).",
        "zh": "选择商品、活动时间和玩法；数字来自基于本店历史促销学习到的需求响应的蒙特卡洛模拟（{draws:,} 次抽样，随机种子 {seed}）。"},
    "promo_workspace": {"en": "Workspace: {name}", "zh": "数据：{name}"},
    "whole_category": {"en": "Whole category", "zh": "整个品类"},
    "skus_label": {"en": "SKUs", "zh": "商品"},
    "start": {"en": "Start", "zh": "开始"},
    "end": {"en": "End", "zh": "结束"},
    "mechanic": {"en": "Mechanic", "zh": "玩法"},
    "depth": {"en": "Depth [%]", "zh": "折扣力度 [%]"},
    "tiers": {"en": "Tiers", "zh": "满减档位"},
    "tiers_placeholder": {"en": "300:30|600:80", "zh": "300:30|600:80"},
    "threshold": {"en": "Threshold", "zh": "门槛"},
    "reward": {"en": "Money off", "zh": "减免金额"},
    "gift_cost": {"en": "Gift cost", "zh": "赠品成本"},
    "flash_cap": {"en": "Flash cap [units]", "zh": "秒杀限量 [件]"},
    "flash_cap_note": {"en": "0: no cap", "zh": "0：不限量"},
    "coupon_face": {"en": "Face value", "zh": "券面额"},
    "coupon_threshold": {"en": "Coupon threshold", "zh": "用券门槛"},
    "coupon_redemption": {"en": "Redemption [%]", "zh": "核销率 [%]"},
    "points_breakage": {"en": "Breakage [%]", "zh": "积分失效率 [%]"},
    "funding_share": {"en": "Funded [%]", "zh": "补贴比例 [%]"},
    "fixed_fees": {"en": "Fixed fees", "zh": "固定费用"},
    "plan_section": {"en": "The promotion", "zh": "促销方案"},
    "results_section": {"en": "Expected outcome", "zh": "预期结果"},
    "lift_section": {"en": "Lift", "zh": "销量提升"},
    "economics_section": {"en": "Margin and ROI", "zh": "毛利与投资回报"},
    "guardrail_section": {"en": "Break-even guardrail", "zh": "盈亏平衡护栏"},
    "tornado_section": {"en": "What drives the profit", "zh": "利润的主要驱动因素"},
    "stock_section": {"en": "Stock check", "zh": "库存检查"},
    "scenario_section": {"en": "Scenarios", "zh": "方案对比"},
    "keep": {"en": "Keep scenario", "zh": "保存方案"},
    "remove": {"en": "Remove", "zh": "删除"},
    "no_scenarios": {"en": "No scenario kept yet: set up a promotion and press “Keep scenario” (up to {n}).",
                     "zh": "尚未保存方案：设置好促销后点击“保存方案”（最多 {n} 个）。"},
    "too_many": {"en": "Four scenarios are kept already: remove one to keep this one.",
                 "zh": "已保存 4 个方案：请先删除一个再保存。"},
    "scenario_note": {
        "en": "Kept scenarios are simulated on the same draws; differences are against the first, draw by draw.",
        "zh": "已保存的方案使用相同的随机抽样；差异按每次抽样与第一个方案比较。"},
    "length_note": {
        "en": "The windows differ in length: the baseline uncertainty of the first scenario's window is used "
              "for all.",
        "zh": "各方案的活动天数不同：所有方案均使用第一个方案的基线不确定性。"},
    "export_csv": {"en": "Download comparison (CSV)", "zh": "下载对比 (CSV)"},
    "export_excel": {"en": "Download comparison (Excel)", "zh": "下载对比 (Excel)"},
    # saved for colleagues (promotion_scenarios/ in the data folder)
    "saved_section": {"en": "Saved for colleagues", "zh": "与同事共享的方案"},
    "saved_name": {"en": "Name", "zh": "名称"},
    "saved_name_placeholder": {"en": "e.g. 618 pet food 20% off", "zh": "例如 618 宠物食品 8 折"},
    "saved_save": {"en": "Save for colleagues", "zh": "保存给同事"},
    "saved_open": {"en": "Open", "zh": "打开"},
    "saved_compare": {"en": "Compare", "zh": "加入对比"},
    "saved_delete": {"en": "Delete", "zh": "删除共享"},
    "saved_by": {"en": "saved by {user}, {when} UTC", "zh": "{user} 保存于 {when} UTC"},
    "saved_where": {
        "en": "Saved scenarios are kept in the data folder ({folder}): everyone who opens it sees them. "
              "“Keep scenario” only compares on this page; “Save for colleagues” keeps the current plan under a name.",
        "zh": "共享的方案保存在数据文件夹（{folder}）中，打开该数据的同事都能看到。“保存方案”只在本页对比；"
              "“保存给同事”以名称保存当前方案。"},
    "saved_none": {"en": "No scenario saved for colleagues yet.", "zh": "尚无与同事共享的方案。"},
    "saved_no_folder": {"en": "This data has no folder: scenarios can be kept on this page only.",
                        "zh": "当前数据没有文件夹：方案只能在本页保存。"},
    "saved_broken": {"en": "cannot be used", "zh": "无法使用"},
    "saved_in_comparison": {"en": "“{name}” is in the comparison already.", "zh": "“{name}”已在对比中。"},
    "saved_outside": {"en": "“{name}” runs {start} to {end}, outside the planning window {first} to {last} of "
                            "this data: it cannot be simulated. Delete it or save it again with a new window.",
                      "zh": "“{name}”的活动时间为 {start} 至 {end}，不在当前数据的规划区间 {first} 至 {last} 内，无法模拟。"
                            "请删除，或以新的活动时间重新保存。"},
    "saved_other_draws": {"en": "“{name}” was saved with {draws:,} draws and seed {seed}; it is recomputed on this "
                                "page's draws.",
                          "zh": "“{name}”保存时使用 {draws:,} 次抽样、随机种子 {seed}；本页按当前抽样重新计算。"},
    "saved_other_data": {"en": "“{name}” was planned on data through {then}; this data runs through {now}: its "
                               "numbers are recomputed on the current data.",
                         "zh": "“{name}”基于截至 {then} 的数据制定；当前数据截至 {now}：数字按当前数据重新计算。"},
    "saved_opened": {"en": "“{name}” is in the controls above: change it, then keep it or save it under a new name.",
                     "zh": "“{name}”已载入上方的设置：可修改后保存方案，或以新名称保存给同事。"},
    "saved_opened_differs": {"en": "The controls cannot hold every term of “{name}”: {terms} differ from the saved "
                                   "plan, and the page simulates what the controls show.",
                             "zh": "上方的设置无法完全表示“{name}”：{terms} 与保存的方案不同，本页按设置所示模拟。"},
    "saved_several_categories": {"en": "“{name}” promotes SKUs of several categories ({categories}); the controls "
                                       "hold one category. Compare it instead.",
                                 "zh": "“{name}”包含多个品类（{categories}）的 SKU，而设置只能选一个品类。请改用“加入对比”。"},
    "saved_no_category": {"en": "“{name}”: its category {category} is not in this data.",
                          "zh": "“{name}”：其品类 {category} 不在当前数据中。"},
    "saved_refresh": {"en": "Refresh list", "zh": "刷新列表"},
    "what_saved": {"en": "read the saved scenarios", "zh": "读取共享方案"},
    "what_save": {"en": "save the scenario for colleagues", "zh": "保存共享方案"},
    "what_load": {"en": "compare the saved scenario", "zh": "对比共享方案"},
    "what_open_saved": {"en": "open the saved scenario", "zh": "打开共享方案"},
    "what_delete": {"en": "delete the saved scenario", "zh": "删除共享方案"},
    # cards
    "card_profit": {"en": "Incremental profit, P50", "zh": "增量利润 P50"},
    "card_profit_range": {"en": "P10 {p10} to P90 {p90}", "zh": "P10 {p10} 至 P90 {p90}"},
    "card_profit_roi": {"en": "Profit ROI, P50", "zh": "利润 ROI P50"},
    "card_profit_roi_note": {"en": "incremental profit / spend; breaks even at 0%",
                             "zh": "增量利润 / 投入；0% 为盈亏平衡"},
    "card_gmv_roi": {"en": "GMV ROI (投产比), P50", "zh": "GMV ROI（投产比）P50"},
    "card_gmv_roi_note": {"en": "promotion GMV / spend; 1 / margin rate = {breakeven} breaks even only if every "
                                "sale were extra",
                          "zh": "活动 GMV / 投入；仅当全部销量均为增量时，1 / 毛利率 = {breakeven} 为盈亏平衡"},
    "card_probability": {"en": "P(profit ROI > 0)", "zh": "P(利润 ROI > 0)"},
    "card_probability_note": {"en": "share of the draws that make money", "zh": "盈利的抽样占比"},
    "card_units": {"en": "Extra units, P50", "zh": "增量销量 P50"},
    "card_units_note": {"en": "net of cannibalization and dips: {net}", "zh": "扣除蚕食与前后下滑后：{net}"},
    "card_spend": {"en": "Spend, mean", "zh": "投入（均值）"},
    "card_spend_note": {"en": "discounts, coupons, gifts after funding, fees",
                        "zh": "补贴后的让利、优惠券、赠品与费用"},
    # guardrail
    "guard_lift": {"en": "Lift needed to break even", "zh": "盈亏平衡所需提升"},
    "guard_expected": {"en": "Expected lift, P50", "zh": "预期提升 P50"},
    "guard_max_depth": {"en": "Deepest profitable discount", "zh": "最大可盈利折扣"},
    "guard_above": {"en": "P(lift above break-even)", "zh": "P(提升超过盈亏平衡)"},
    "guard_never": {"en": "never", "zh": "无法达到"},
    "guard_ok": {"en": "The expected lift clears the break-even lift.", "zh": "预期提升高于盈亏平衡所需提升。"},
    "guard_short": {"en": "The expected lift is below the break-even lift: this promotion probably loses money.",
                    "zh": "预期提升低于盈亏平衡所需提升：该促销很可能亏损。"},
    "guard_impossible": {
        "en": "At this depth and funding no lift can make the promotion pay: the discount exceeds the margin "
              "left after cannibalization and dips.",
        "zh": "在此折扣与补贴下，任何提升都无法盈利：让利超过扣除蚕食与下滑后的毛利。"},
    # stock
    "stock_risk": {"en": "P(sell out)", "zh": "P(售罄)"},
    "stock_order": {"en": "Extra to order", "zh": "需追加订货"},
    "stock_by": {"en": "Order by", "zh": "最晚下单日"},
    "stock_passed": {"en": "(already past)", "zh": "（已过期）"},
    "stock_available": {"en": "Available at start", "zh": "开始时可用库存"},
    "stock_cap": {"en": "Flash-sale cap (newsvendor)", "zh": "秒杀限量建议（报童模型）"},
    "stock_none": {"en": "no order needed", "zh": "无需追加"},
    # charts
    "chart_lift": {"en": "Units per day: baseline and promotion (P10–P90)", "zh": "每日销量：基线与促销（P10–P90）"},
    "chart_baseline": {"en": "baseline", "zh": "基线"},
    "chart_promo_p50": {"en": "promotion P50", "zh": "促销 P50"},
    "chart_band": {"en": "P10–P90", "zh": "P10–P90"},
    "chart_units": {"en": "units per day", "zh": "每日销量"},
    "chart_waterfall": {"en": "From baseline margin to promotion margin (mean)", "zh": "从基线毛利到活动毛利（均值）"},
    "chart_roi": {"en": "ROI over the draws", "zh": "ROI 分布"},
    "chart_profit_roi": {"en": "profit ROI (breaks even at 0)", "zh": "利润 ROI（0 为盈亏平衡）"},
    "chart_gmv_roi": {"en": "GMV ROI, 投产比 (line: 1 / margin rate = {breakeven})",
                      "zh": "GMV ROI 投产比（线：1 / 毛利率 = {breakeven}）"},
    "chart_draws": {"en": "draws", "zh": "抽样数"},
    "chart_tornado": {"en": "Profit with each input at its P10 and P90, the others at their median",
                      "zh": "各输入取 P10 与 P90、其余取中位数时的利润"},
    "chart_profit": {"en": "incremental profit", "zh": "增量利润"},
    "chart_comparison": {"en": "Incremental profit of the kept scenarios (P10, P50, P90)",
                         "zh": "已保存方案的增量利润（P10、P50、P90）"},
    # status and errors
    "fitting": {"en": "Learning the demand response of {category} from its past promotions (first time only; "
                      "about 20 s)…",
                "zh": "正在从 {category} 的历史促销学习需求响应（仅首次，约 20 秒）…"},
    "what_response": {"en": "learn the demand response", "zh": "学习需求响应"},
    "what_plan": {"en": "read the plan", "zh": "读取方案"},
    "what_simulate": {"en": "simulate the promotion", "zh": "模拟促销"},
    "what_charts": {"en": "draw the charts", "zh": "绘制图表"},
    "what_stock": {"en": "check the stock", "zh": "检查库存"},
    "what_scenarios": {"en": "compare the scenarios", "zh": "对比方案"},
    "what_snapshot": {"en": "export the snapshot", "zh": "导出快照"},
    "snapshot": {"en": "Export a snapshot (HTML)", "zh": "导出快照（HTML）"},
    "snapshot_ready": {"en": "Download the snapshot", "zh": "下载快照"},
    "snapshot_title": {"en": "Promotion plan: {mechanic}", "zh": "促销方案：{mechanic}"},
    "snapshot_plan": {"en": "{skus}; {start} to {end}; funded {funding:g}%; fixed fees {fees:,.0f}",
                      "zh": "{skus}；{start} 至 {end}；补贴 {funding:g}%；固定费用 {fees:,.0f}"},
    "could_not": {"en": "Could not {what}", "zh": "无法{what}"},
    "err_percent": {"en": "{name} must be between 0% and 100%; you entered {value:g}%.",
                    "zh": "{name}必须在 0% 到 100% 之间；您输入的是 {value:g}%。"},
    "err_depth_zero": {"en": "{name} must be above 0% for this mechanic; you entered {value:g}%.",
                       "zh": "此玩法的{name}必须大于 0%；您输入的是 {value:g}%。"},
    "err_negative": {"en": "{name} must be 0 or more; you entered {value:g}.",
                     "zh": "{name}不能为负数；您输入的是 {value:g}。"},
    "err_positive": {"en": "{name} must be above 0 for this mechanic; you entered {value:g}.",
                     "zh": "此玩法的{name}必须大于 0；您输入的是 {value:g}。"},
    "err_dates": {"en": "The end date ({end}) is before the start date ({start}): pick an end on or after the start.",
                  "zh": "结束日期（{end}）早于开始日期（{start}）：请选择不早于开始日期的结束日期。"},
    "err_no_date": {"en": "Pick a start and an end date.", "zh": "请选择开始和结束日期。"},
    "err_horizon": {"en": "The window must lie between {first} (the day after the last data) and {last}; it is "
                          "{start} to {end}.",
                    "zh": "活动时间必须在 {first}（最后数据日的次日）与 {last} 之间；当前为 {start} 至 {end}。"},
    "err_no_sku": {"en": "Choose at least one SKU, or tick “Whole category”.",
                   "zh": "请至少选择一个商品，或勾选“整个品类”。"},
    "err_reward": {"en": "The money off ({reward:g}) is above the threshold ({threshold:g}).",
                   "zh": "减免金额（{reward:g}）高于门槛（{threshold:g}）。"},
    "err_tiers": {"en": "Tiers must read like 300:30|600:80 (spend:money off, rising): {problem}",
                  "zh": "满减档位格式应为 300:30|600:80（门槛:减免，递增）：{problem}"},
    "err_no_response": {"en": "The demand response of {category} is not ready yet.",
                        "zh": "{category} 的需求响应尚未就绪。"},
    "err_empty": {"en": "The workspace has nothing to learn from: no {missing} (items with a category, the daily "
                        "demand, and the promotions table or daily prices).",
                  "zh": "数据中没有可供学习的记录：缺少 {missing}（带品类的商品、每日需求，以及促销表或每日价格）。"},
    "inferred_note": {"en": "This data has no promotions table, so the response learns from the past price cuts found "
                            "in the daily prices: {cuts} on {skus} SKUs, {shop} shop-wide and {category} category-wide "
                            "(at least {depth:.0%} below the regular price). Prices cannot show a flash sale's "
                            "placement, an order-level offer or a promotion day without a sale, so read the "
                            "elasticities as rougher than with a promotions table.",
                      "zh": "当前数据没有促销表，需求响应改为从每日价格中识别出的历史降价学习：{skus} 个 SKU 共 {cuts} 次单品降价，"
                            "{shop} 次全店和 {category} 次品类降价（低于常规价至少 {depth:.0%}）。价格无法体现秒杀的资源位、"
                            "订单级优惠或无销量的促销日，因此弹性估计比有促销表时更粗略。"},
    "prior_note": {"en": "No elasticity could be learned for {n} of these SKUs ({skus}): their category has too few "
                         "promotions in this data. They use the {source}: {elasticity:.2f} with a standard error of "
                         "{se:.2f}, which the draws carry.",
                   "zh": "其中 {n} 个 SKU（{skus}）无法从数据中估计弹性：所在品类的促销太少。改用{source}：{elasticity:.2f}，"
                         "标准误 {se:.2f}，已计入抽样。"},
    "multi_unit_note": {"en": "Discount per unit sold as past offers realized it: {depth:.1%}.",
                        "zh": "按历史同类活动实际实现的每件折扣：{depth:.1%}。"},
    "multi_unit_convention": {"en": "No past offer with these terms: the two-unit convention is used ({depth:.1%}).",
                              "zh": "没有相同条件的历史活动：使用两件装约定（{depth:.1%}）。"},
    "horizon_note": {"en": "Planning from {first} (the day after the last data) to {last}; stock as of {stock}.",
                     "zh": "规划区间 {first}（最后数据日的次日）至 {last}；库存日期 {stock}。"},
    **{f"mech_{m}": {"en": en, "zh": zh} for m, (en, zh) in _MECHANIC_WORDS.items()},
    **{f"comp_{c}": {"en": en, "zh": zh} for c, (en, zh) in _COMPONENT_WORDS.items()},
    **{f"input_{c}": {"en": en, "zh": zh} for c, (en, zh) in _INPUT_WORDS.items()},
}
"""The app's words in English and 简体中文 (merged over :data:`opslib.ui.i18n.COMMON`)."""

# which controls each mechanic shows
_CONTROLS = {
    "percent_off": ("depth",),
    "threshold": ("tiers",),
    "repeating_threshold": ("threshold", "reward"),
    "item_count": ("tiers",),
    "flash_sale": ("depth", "flash_cap"),
    "second_half_price": ("depth",),
    "bogo": (),
    "gift": ("threshold", "gift"),
    "coupon": ("coupon_face", "coupon_threshold", "coupon_redemption"),
    "points": ("depth", "points_breakage"),
}



def _number(x: float) -> str:
    """A tier number as typed: no trailing zeros, every digit kept (``300``, ``0.15``)."""
    return f"{float(x):.15g}"


def _percent_of(fraction: float) -> float:
    """A fraction as the percent a control shows (``0.07`` -> ``7.0``, not ``7.000000000000001``)."""
    return round(100.0 * float(fraction), 10)


def _control_values(plan: promo.PromotionPlan) -> dict[str, object]:
    """The values of the controls (attribute name -> value) that describe ``plan``: the inverse of ``plan_from_controls``.

    Only the controls of the plan's mechanic are set (with the funding, fees and window); the others
    keep what they show. Fractions become percent, a flash sale without a cap shows 0.
    """
    m = plan.mechanic
    values: dict[str, object] = {"start": plan.start.date(), "end": plan.end.date(),
                                 "funding_share": _percent_of(plan.funding_share), "fixed_fees": float(plan.fixed_cost)}
    if m in ("percent_off", "flash_sale", "points", "second_half_price"):
        depth = plan.depth if plan.depth is not None else (0.5 if m == "second_half_price" else None)
        if depth is not None:
            values["depth"] = _percent_of(depth)
    if m in ("threshold", "item_count") and plan.tiers:
        values["tiers"] = "|".join(f"{_number(t.threshold)}:{_number(t.reward)}" for t in plan.tiers)
    if m == "repeating_threshold":
        values["threshold"], values["reward"] = plan.threshold, plan.reward
    if m == "gift":
        values["threshold"], values["gift_cost"] = plan.threshold, plan.reward
    if m == "coupon":
        values["coupon_face"], values["coupon_threshold"] = plan.reward, plan.threshold or 0.0
        values["coupon_redemption"] = _percent_of(plan.coupon_redemption)
    if m == "flash_sale":
        values["flash_cap"] = float(plan.stock_cap or 0.0)
    if m == "points":
        values["points_breakage"] = _percent_of(plan.points_breakage)
    return {k: (float(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in values.items()
            if v is not None}


def _plan_differences(saved: promo.PromotionPlan, shown: promo.PromotionPlan) -> list[str]:
    """The terms (field names) in which the plan the controls make differs from a saved one (the name aside)."""
    out = []
    for field in dataclasses.fields(saved):
        if field.name == "name":
            continue
        a, b = getattr(saved, field.name), getattr(shown, field.name)
        if isinstance(a, float) and isinstance(b, float):
            same = np.isclose(a, b, rtol=1e-12, atol=1e-12)
        else:
            same = a == b
        if not same:
            out.append(field.name)
    return out


# ------------------------------------------------------------------ the engine calls, kept on disk


def _cache_file(ws: Workspace, options: tuple) -> Path | None:
    """Where a result computed from ``ws`` with ``options`` is kept (None: no disk cache)."""
    from opslib.data import cache

    folder = cache.cache_dir()
    if folder is None or ws.path is None or not Path(ws.path).exists():
        return None
    code = [(p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(_PROMO_CODE.glob("*.py"))]
    try:
        key = cache._key(Path(ws.path), (options, code))
    except OSError:
        return None
    return folder / f"promotion-{key}.pkl"


def _cached(ws: Workspace, options: tuple, compute: Callable[[], object]) -> object:
    """``compute()``, or its result kept on disk from an earlier call on the same data, options and code."""
    file = _cache_file(ws, options)
    if file is not None:
        try:
            with open(file, "rb") as f:
                return pickle.load(f)
        except Exception:  # noqa: BLE001 - missing, stale or corrupt: compute
            log.debug("promotion cache: no usable entry %s", file)
    result = compute()
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=file.parent, delete=False, suffix=".tmp") as tmp:
                pickle.dump(result, tmp, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp.name, file)
        except OSError:
            pass
    return result


def _is_cached(ws: Workspace, options: tuple) -> bool:
    file = _cache_file(ws, options)
    return file is not None and file.exists()


def _response_options(category: str) -> tuple:
    return ("promotion-response", 1, str(category))


def _category_skus(ws: Workspace, category: str) -> list[str]:
    items = ws.items
    return sorted(items.loc[items["category"].astype(str) == str(category), "sku"].astype(str).unique())


def _category_demand(ws: Workspace, category: str) -> pd.DataFrame:
    skus = _category_skus(ws, category)
    demand = ws.demand
    return demand[demand["sku"].astype(str).isin(skus)]


def fit_category_response(ws: Workspace, category: str) -> pd.DataFrame:
    """The demand response of one category's SKUs, elasticities pooled: what the page simulates with.

    :func:`opslib.promo.fit_own_price_response` on the category's demand
    (with the calendar, and the order lines for the realized depth of
    multi-unit offers), then the elasticity and its standard error replaced
    by those of :func:`opslib.promo.pool_elasticities` (every SKU gets one).

    Parameters
    ----------
    ws : Workspace
        ``items`` (with ``category``), ``demand``, ``promotions``; ``calendar``
        and ``order_lines`` when present.
    category : str

    Returns
    -------
    pandas.DataFrame
        The estimates of the fit, one row per SKU of the category in ``demand``.
    """
    demand = _category_demand(ws, category)
    skus = sorted(demand["sku"].astype(str).unique())
    if not skus:
        raise DataError(f"promotion simulator: category {category!r} has no SKU with demand history. "
                        "Fix: choose another category.")
    lines = ws.order_lines if ws.order_lines is not None and "list_price" in ws.order_lines.columns else None
    fit = promo.fit_own_price_response(demand, ws.promotions, ws.items, ws.calendar, skus=skus, order_lines=lines)
    pooled = promo.pool_elasticities(fit.estimates).estimates.assign(sku=lambda t: t["sku"].astype(str))
    response = fit.estimates.assign(sku=fit.estimates["sku"].astype(str)).set_index("sku")
    response[["elasticity", "elasticity_se"]] = pooled.set_index("sku")[["elasticity", "elasticity_se"]]
    # where the elasticity comes from: the SKU's own fit pooled, its category, or the literature prior (labelled)
    response["elasticity_source"] = pooled.set_index("sku")["source"]
    return response.reset_index()


def category_response(ws: Workspace, category: str) -> pd.DataFrame:
    """:func:`fit_category_response`, kept on disk for the workspace's folder (see the module notes)."""
    return _cached(ws, _response_options(category), lambda: fit_category_response(ws, category))


def _multi_unit_depths(ws: Workspace) -> pd.DataFrame:
    """:func:`opslib.promo.realized_depths` of the shop (empty without order lines with ``list_price``)."""
    lines = ws.order_lines
    if lines is None or "list_price" not in lines.columns or ws.promotions is None:
        return pd.DataFrame(columns=["promo_id", "mechanic", "terms", "realized_depth"])
    return _cached(ws, ("promotion-realized-depths", 1),
                   lambda: promo.realized_depths(lines, ws.promotions, ws.items))


# --------------------------------------------------------------------------- small helpers


def _money(value: float, currency: str = "") -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:,.0f}" + (f" {currency}" if currency else "")


def _percent(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.1%}"


def _ratio(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.2f}"


def _card(name: str, label: str, value: str, note: str = "", colour: str = "#222") -> str:
    note_html = f"<div style='font-size:12px;color:#666'>{html.escape(note)}</div>" if note else ""
    return (
        f"<div class='opslib-card opslib-promo-card' data-name='{name}' style='display:inline-block;"
        "min-width:170px;margin:0 10px 8px 0;padding:8px 12px;border:1px solid #ddd;border-radius:6px;"
        "background:#fafafa;vertical-align:top'>"
        f"<div style='font-size:12px;color:#555'>{html.escape(label)}</div>"
        f"<div class='opslib-promo-{name}' style='font-size:21px;font-weight:600;color:{colour}'>"
        f"{html.escape(value)}</div>{note_html}</div>"
    )


def _date(value) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value).normalize()


@contextlib.contextmanager
def _quiet_engine():
    """Silence the simulator's one harmless numpy warning (an infinite break-even lift times the zero baseline
    of a SKU without sales, compared as NaN): on the page it would print into the log area."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value encountered in multiply", RuntimeWarning,
                                r"opslib\.promo\.simulate")
        yield


@dataclass(frozen=True)
class _Scenario:
    """A kept scenario: its plan and the label shown."""

    plan: promo.PromotionPlan
    category: str


# --------------------------------------------------------------------------- the app


class PromotionSimulator(GuardedApp, widgets.VBox):
    """The Promotion simulator as one ipywidgets box.

    Parameters
    ----------
    ws : Workspace
        ``items`` (with ``category``), ``demand``, ``promotions``, ``stock``;
        ``order_lines`` (multi-unit depths), ``calendar``, ``purchase_orders``
        when present.
    translator : Translator, optional
        The page's translator (this app's words are added to it); default a
        new one in ``language``.
    language : {"en", "zh"}, default "en"
    category : str, optional
        The category shown first (default: the first, alphabetically).
    skus : sequence of str, optional
        The SKUs selected first (default: the category's best seller).
    draws, seed : int
        Monte Carlo draws and seed of the :class:`opslib.promo.Simulator`.
    horizon_days : int, default 120
        Planning horizon after the last data day [days].
    service_level : float, default 0.95
        Of the stock check.
    currency : str, optional
        Currency label for money.
    background : bool, default False
        Fit a category whose response is not kept on disk in a background
        thread (the page stays responsive and says so); False fits at once.

    Attributes
    ----------
    category : ipywidgets.Dropdown
    skus : ipywidgets.SelectMultiple
    whole_category : ipywidgets.Checkbox
    start, end : ipywidgets.DatePicker
    mechanic : ipywidgets.Dropdown
    depth : ipywidgets.FloatText
        Depth [%] (percent off, flash sale, the second unit's cut, the points earn rate).
    tiers : ipywidgets.Text
        满减 tiers ``"300:30|600:80"`` (threshold and item-count mechanics).
    threshold, reward, gift_cost : ipywidgets.FloatText
        Every-threshold (每满减) and gift terms [currency].
    flash_cap : ipywidgets.FloatText
        Flash-sale units per SKU at the flash price (0: no cap) [units].
    coupon_face, coupon_threshold, coupon_redemption : ipywidgets.FloatText
        Coupon face value and threshold [currency], redemption [%].
    points_breakage : ipywidgets.FloatText  [%]
    funding_share : ipywidgets.FloatText  [%]
    fixed_fees : ipywidgets.FloatText  [currency]
    plan : opslib.promo.PromotionPlan or None
    result : opslib.promo.SimulationResult or None
    stock : pandas.DataFrame or None
        :func:`opslib.promo.stock_check` of ``result``.
    simulator : opslib.promo.Simulator or None
        The simulator of the current SKU set and window length.
    response, baseline, uncertainty : pandas.DataFrame or None
        What ``simulator`` was built on.
    scenarios : list
        The kept plans (``scenarios[k].plan``).
    comparison : opslib.promo.Comparison or None
        The kept scenarios compared (:meth:`opslib.promo.Simulator.compare`).
    lift_chart, waterfall_chart, roi_chart, tornado_chart, comparison_chart : plotly.graph_objects.Figure
    cards, guardrail_panel, stock_panel, scenario_list, comparison_table, export_links : ipywidgets.HTML
    keep_button : ipywidgets.Button
    scenario_name : ipywidgets.Text
        Name under which "Save for colleagues" saves the current plan.
    save_button, saved_refresh : ipywidgets.Button
    saved : opslib.promo_scenarios.SavedScenarios
        The scenarios saved in the data folder (``saved.problems``: those that cannot be used here).
    saved_note, saved_notice : ipywidgets.HTML
        Where they are kept; what differs when one is compared or opened (draws, data, terms the
        controls cannot hold).
    saved_list : ipywidgets.VBox
        One row per saved scenario: "Open" (into the controls, :meth:`open_saved`), "Compare",
        "Delete", the name and its terms, who saved it when.
    data_through : pandas.Timestamp or None
        The last day of ``demand`` (saved with a scenario).
    inferred : opslib.promo.InferredPromotions or None
        For data without a promotions table: the past price cuts found in the daily prices
        (:func:`opslib.promo.infer_promotions`), which ``ws.promotions`` then holds and the
        response learns from; the intro says so.
    response_note : ipywidgets.HTML
        Names the selected SKUs whose elasticity is the literature prior (no estimate in the data).
    error_panel : ipywidgets.HTML
    """

    app_name = "promotion simulator"

    def __init__(self, ws: Workspace, *, translator: Translator | None = None, language: str = "en",
                 category: str | None = None, skus=None, draws: int = 2000, seed: int = 0,
                 horizon_days: int = 120, service_level: float = 0.95, currency: str = "",
                 background: bool = False):
        if translator is None:
            translator = Translator(PROMOTION_STRINGS, language=language)
        else:
            for key, texts in PROMOTION_STRINGS.items():
                translator.strings.setdefault(key, dict(texts))
        self._init_guard(translator)
        tr = self.tr = translator
        self.ws = ws
        self.currency = currency
        self.draws, self.seed = int(draws), int(seed)
        self.service_level = service_level
        self.background = background
        self.plan: promo.PromotionPlan | None = None
        self.result: promo.SimulationResult | None = None
        self.stock: pd.DataFrame | None = None
        self.simulator: promo.Simulator | None = None
        self.response: pd.DataFrame | None = None
        self.baseline: pd.DataFrame | None = None
        self.uncertainty: pd.DataFrame | None = None
        self.scenarios: list[_Scenario] = []
        self.comparison: promo.Comparison | None = None
        self.lift_chart = self.waterfall_chart = self.roi_chart = self.tornado_chart = None
        self.comparison_chart: go.Figure | None = None
        self.unit_discount: float | None = None
        self.timings: dict[str, float] = {}
        self._responses: dict[str, pd.DataFrame] = {}
        self._baselines: dict[str, pd.DataFrame] = {}
        self._uncertainties: dict[tuple[str, int], pd.DataFrame] = {}
        self._simulators: dict[tuple, tuple] = {}
        self._tables: dict[str, dict] = {}
        self._fitting: set[str] = set()
        self._lock = threading.RLock()
        self._muted = False

        # ---- past promotions: the table, or the price cuts of the daily prices when there is none
        self.inferred: promo.InferredPromotions | None = None
        missing = [name for name, ok in (
            ("items", ws.items is not None and "category" in ws.items.columns),
            ("demand", ws.demand is not None and len(ws.demand))) if not ok]
        if not missing and (ws.promotions is None or not len(ws.promotions)):
            if "price" in ws.demand.columns and ws.demand["price"].notna().any():
                self.inferred = promo.infer_promotions(ws.demand, ws.items)
                ws = self.ws = dataclasses.replace(ws, promotions=self.inferred.promotions)
            else:
                missing.append("promotions")
        # ---- the planning horizon
        has_data = not missing
        if has_data:
            last = pd.to_datetime(ws.demand["date"]).max().normalize()
        else:
            last = pd.Timestamp.today().normalize()
        self.origin = last + pd.Timedelta(days=1)
        self.horizon_end = self.origin + pd.Timedelta(days=int(horizon_days) - 1)
        self.stock_date = (pd.to_datetime(ws.stock["date"]).max().normalize()
                           if ws.stock is not None and len(ws.stock) else None)
        names = sorted(ws.items["category"].dropna().astype(str).unique()) if has_data else []

        # ---- controls
        def wide():
            return widgets.Layout(width="300px")

        def narrow():  # one Layout per widget: the mechanic's controls are hidden one by one
            return widgets.Layout(width="210px")

        self.language_toggle = language_toggle(tr)
        self.category = tr.bind(widgets.Dropdown(options=names, value=(category if category in names else
                                                                       (names[0] if names else None)),
                                                 layout=wide()), "category")
        self.skus = tr.bind(widgets.SelectMultiple(options=[], rows=6, layout=widgets.Layout(width="300px")),
                            "skus_label")
        self.whole_category = tr.bind(widgets.Checkbox(value=False, indent=False), "whole_category")
        first_start = self.origin + pd.Timedelta(days=14)
        self.start = tr.bind(widgets.DatePicker(value=first_start.date(), layout=narrow()), "start")
        self.end = tr.bind(widgets.DatePicker(value=(first_start + pd.Timedelta(days=6)).date(), layout=narrow()),
                           "end")
        self.mechanic = widgets.Dropdown(options=list(PROMO_MECHANICS), value="percent_off", layout=wide())
        tr.bind(self.mechanic, "mechanic")
        tr.bind(self.mechanic, "mechanic", attribute="options", keys=[(f"mech_{m}", m) for m in PROMO_MECHANICS])
        self.depth = tr.bind(widgets.FloatText(value=20.0, layout=narrow()), "depth")
        self.tiers = tr.bind(tr.bind(widgets.Text(value="300:30|600:80", layout=wide()), "tiers"),
                             "tiers_placeholder", attribute="placeholder")
        self.threshold = tr.bind(widgets.FloatText(value=200.0, layout=narrow()), "threshold")
        self.reward = tr.bind(widgets.FloatText(value=20.0, layout=narrow()), "reward")
        self.gift_cost = tr.bind(widgets.FloatText(value=15.0, layout=narrow()), "gift_cost")
        self.flash_cap = tr.bind(tr.bind(widgets.FloatText(value=0.0, layout=narrow()), "flash_cap"),
                                 "flash_cap_note", attribute="tooltip")
        self.coupon_face = tr.bind(widgets.FloatText(value=10.0, layout=narrow()), "coupon_face")
        self.coupon_threshold = tr.bind(widgets.FloatText(value=99.0, layout=narrow()), "coupon_threshold")
        self.coupon_redemption = tr.bind(widgets.FloatText(value=50.0, layout=narrow()), "coupon_redemption")
        self.points_breakage = tr.bind(widgets.FloatText(value=0.0, layout=narrow()), "points_breakage")
        self.funding_share = tr.bind(widgets.FloatText(value=0.0, layout=narrow()), "funding_share")
        self.fixed_fees = tr.bind(widgets.FloatText(value=0.0, layout=narrow()), "fixed_fees")
        for w in (self.depth, self.threshold, self.reward, self.gift_cost, self.flash_cap, self.coupon_face,
                  self.coupon_threshold, self.coupon_redemption, self.points_breakage, self.funding_share,
                  self.fixed_fees):
            w.style = {"description_width": "110px"}
        self._mechanic_controls = {
            "depth": self.depth, "tiers": self.tiers, "threshold": self.threshold, "reward": self.reward,
            "gift": self.gift_cost, "flash_cap": self.flash_cap, "coupon_face": self.coupon_face,
            "coupon_threshold": self.coupon_threshold, "coupon_redemption": self.coupon_redemption,
            "points_breakage": self.points_breakage}
        self.keep_button = tr.bind(widgets.Button(icon="bookmark", layout=widgets.Layout(width="180px")), "keep")
        self.keep_button.add_class("opslib-promo-keep")
        self.snapshot_button = tr.bind(widgets.Button(icon="download", layout=widgets.Layout(width="auto")),
                                       "snapshot")
        self.snapshot_button.add_class("opslib-snapshot")
        self.snapshot_link = widgets.HTML()
        self.snapshot: str | None = None
        self.scenario_name = tr.bind(tr.bind(widgets.Text(layout=wide()), "saved_name"), "saved_name_placeholder",
                                     attribute="placeholder")
        self.scenario_name.add_class("opslib-promo-saved-name-input")
        self.save_button = tr.bind(widgets.Button(icon="share-alt", layout=widgets.Layout(width="200px")),
                                   "saved_save")
        self.save_button.add_class("opslib-promo-save")
        self.saved_refresh = tr.bind(widgets.Button(icon="refresh", layout=widgets.Layout(width="150px")),
                                     "saved_refresh")
        self.saved_refresh.add_class("opslib-promo-saved-refresh")
        self.saved = promo_scenarios.SavedScenarios()
        self._saved_read: tuple | None = None  # the scenarios file's size and mtime when last read
        self.data_through = last if has_data else None

        # ---- outputs
        self.title = widgets.HTML()
        self.intro = widgets.HTML()
        self.status = widgets.HTML()
        self.status.add_class("opslib-promo-status")
        self.multi_unit_note = widgets.HTML()
        self.response_note = widgets.HTML()
        self.cards = widgets.HTML()
        self.cards.add_class("opslib-promo-cards")
        self.guardrail_panel = widgets.HTML()
        self.stock_panel = widgets.HTML()
        self.lift_view = figure_output(height_px=320)
        self.waterfall_view = figure_output(height_px=380)
        self.roi_view = figure_output(height_px=320)
        self.tornado_view = figure_output(height_px=360)
        self.comparison_view = figure_output(height_px=320)
        self.scenario_list = widgets.VBox()
        self.scenario_note = widgets.HTML()
        self.comparison_table = widgets.HTML()
        self.export_links = widgets.HTML()
        self.export_links.add_class("opslib-promo-exports")
        self.saved_note = widgets.HTML()
        self.saved_notice = widgets.HTML()
        self.saved_notice.add_class("opslib-promo-saved-notice")
        self.saved_list = widgets.VBox()
        self.saved_list.add_class("opslib-promo-saved")
        self._headings = {key: widgets.HTML() for key in (
            "plan_section", "results_section", "lift_section", "economics_section", "guardrail_section",
            "tornado_section", "stock_section", "scenario_section", "saved_section")}

        # ---- first fill, then wiring
        self._show_mechanic_controls()
        self._render_static()
        self._render_scenarios()
        self._guard("saved", self._read_saved)
        self._render_saved()
        if not has_data:
            self._errors["open"] = tr.t("err_empty", missing=", ".join(missing))
            self._show_errors()
        else:
            self._load_category(initial_skus=skus)
        self.category.observe(self._callback(lambda: self._load_category()), names="value")
        self.whole_category.observe(self._callback(self._on_whole_category), names="value")
        self.mechanic.observe(self._callback(self._on_mechanic), names="value")
        for w in (self.skus, self.start, self.end, self.depth, self.tiers, self.threshold, self.reward,
                  self.gift_cost, self.flash_cap, self.coupon_face, self.coupon_threshold, self.coupon_redemption,
                  self.points_breakage, self.funding_share, self.fixed_fees):
            w.observe(self._callback(self.refresh), names="value")
        self.keep_button.on_click(lambda _b: self._callback(self.keep_scenario)({}))
        self.snapshot_button.on_click(lambda _b: self._callback(self._snapshot_clicked)({}))
        self.save_button.on_click(lambda _b: self._callback(self.save_scenario)({}))
        self.saved_refresh.on_click(lambda _b: self._callback(self.reload_saved)({}))
        tr.on_change(lambda _language: self._relabel())

        heading = self._headings
        box = widgets.Layout(flex_flow="row wrap", align_items="flex-start")
        super().__init__(
            children=[
                widgets.HBox([self.title, self.language_toggle],
                             layout=widgets.Layout(justify_content="space-between", align_items="center")),
                self.intro,
                self.error_panel,
                self.status,
                heading["plan_section"],
                widgets.HBox([widgets.VBox([self.category, self.whole_category]), self.skus,
                              widgets.VBox([self.start, self.end])], layout=box),
                widgets.HBox([self.mechanic, *self._mechanic_controls.values()], layout=box),
                widgets.HBox([self.funding_share, self.fixed_fees, self.keep_button, self.snapshot_button,
                              self.snapshot_link], layout=box),
                self.multi_unit_note,
                self.response_note,
                heading["results_section"],
                self.cards,
                heading["lift_section"],
                self.lift_view,
                heading["economics_section"],
                widgets.HBox([widgets.Box([self.waterfall_view], layout=widgets.Layout(width="55%")),
                              widgets.Box([self.roi_view], layout=widgets.Layout(width="45%"))]),
                heading["guardrail_section"],
                self.guardrail_panel,
                heading["tornado_section"],
                self.tornado_view,
                heading["stock_section"],
                self.stock_panel,
                heading["scenario_section"],
                self.scenario_note,
                self.scenario_list,
                self.comparison_table,
                self.comparison_view,
                self.export_links,
                heading["saved_section"],
                self.saved_note,
                widgets.HBox([self.scenario_name, self.save_button, self.saved_refresh], layout=box),
                self.saved_notice,
                self.saved_list,
                self.log_output,
            ],
            layout=widgets.Layout(padding="0 8px"),
        )
        self.add_class("opslib-promotion")

    # ------------------------------------------------------------------ errors in words

    def _guard(self, what: str, func: Callable[[], None]) -> None:
        """As :meth:`GuardedApp._guard`, with the part named in the page language and input errors in words."""
        label = self.tr.t("could_not", what=self.tr.t(f"what_{what}"))
        self._errors.pop(what, None)
        try:
            func()
        except (InputError, DataError) as exc:
            self._errors[what] = f"{label}: {exc}"
        except Exception as exc:  # noqa: BLE001 - shown on the page, logged with its traceback
            log.error("%s: could not %s\n%s", self.app_name, what, traceback.format_exc())
            self._errors[what] = f"{label}: {type(exc).__name__}: {exc}"

    # ------------------------------------------------------------------ category and SKUs

    def _load_category(self, initial_skus=None) -> None:
        """A category chosen: its SKUs in the list, its response (fitted now, from disk, or in the background)."""
        category = self.category.value
        if category is None:
            return
        skus = _category_skus(self.ws, category)
        names = self.ws.items.assign(sku=self.ws.items["sku"].astype(str)).set_index("sku")
        labels = [(f"{s} {names.at[s, 'name']}" if "name" in names.columns else s, s) for s in skus]
        chosen = [s for s in (initial_skus or []) if s in skus]
        if not chosen and skus:
            chosen = [self._best_seller(skus)]
        muted, self._muted = self._muted, True
        try:
            self.skus.options = labels
            self.skus.value = tuple(chosen)
        finally:
            self._muted = muted
        if category in self._responses or not self.background or _is_cached(self.ws, _response_options(category)):
            self._guard("response", lambda: self._response_of(category))
            self.status.value = ""
            self.refresh()
            return
        self.plan = self.result = self.stock = None  # no numbers of the category before
        self._render_results()
        self.stock_panel.value = ""
        self.status.value = (f"<div style='color:#1f4e79;background:#e7f1fb;padding:6px 10px;border-radius:6px'>"
                             f"{html.escape(self.tr.t('fitting', category=category))}</div>")
        self._show_errors()
        if category not in self._fitting:
            self._fitting.add(category)
            threading.Thread(target=self._fit_in_background, args=(category,), daemon=True).start()

    def _fit_in_background(self, category: str) -> None:
        with self.log_output:
            self._guard("response", lambda: self._response_of(category))
            self._fitting.discard(category)
            if self.category.value == category:
                self.status.value = ""
                self.refresh()

    def _best_seller(self, skus: list[str]) -> str:
        d = self.ws.demand
        units = d[d["sku"].astype(str).isin(skus)].groupby(d["sku"].astype(str))["units"].sum()
        return str(units.sort_values(ascending=False, kind="stable").index[0]) if len(units) else skus[0]

    def _response_of(self, category: str) -> pd.DataFrame:
        response = self._responses.get(category)
        if response is None:  # fitted (or read from disk) outside any lock: the page stays responsive
            response = self._responses[category] = category_response(self.ws, category)
        return response

    def _on_whole_category(self) -> None:
        self.skus.disabled = self.whole_category.value
        self.refresh()

    def _on_mechanic(self) -> None:
        self._show_mechanic_controls()
        if self._muted:  # the controls are being set together (open_saved): no guessing of a depth
            return
        self._muted = True
        try:  # a sensible depth for the mechanic chosen
            if self.mechanic.value == "second_half_price" and self.depth.value in (20.0, 0.0):
                self.depth.value = 50.0
            elif self.mechanic.value == "points" and self.depth.value in (20.0, 50.0):
                self.depth.value = 5.0
            elif self.mechanic.value in ("percent_off", "flash_sale") and self.depth.value in (50.0, 5.0):
                self.depth.value = 20.0
        finally:
            self._muted = False
        self.refresh()

    def _show_mechanic_controls(self) -> None:
        shown = _CONTROLS[self.mechanic.value]
        for name, control in self._mechanic_controls.items():
            control.layout.display = None if name in shown else "none"

    # ------------------------------------------------------------------ the plan from the controls

    def _selected_skus(self) -> tuple[str, ...]:
        if self.whole_category.value:
            return tuple(s for _, s in self.skus.options)
        return tuple(self.skus.value)

    def _fraction(self, control, key: str, *, positive: bool = False) -> float:
        value = float(control.value)
        name = self.tr.t(key).split(" [")[0]
        if not np.isfinite(value) or value < 0 or value > 100:
            raise InputError(self.tr.t("err_percent", name=name, value=value))
        if positive and value <= 0:
            raise InputError(self.tr.t("err_depth_zero", name=name, value=value))
        return value / 100.0

    def _amount(self, control, key: str, *, positive: bool = False) -> float:
        value = float(control.value)
        name = self.tr.t(key).split(" [")[0]
        if not np.isfinite(value) or value < 0:
            raise InputError(self.tr.t("err_negative", name=name, value=value))
        if positive and value <= 0:
            raise InputError(self.tr.t("err_positive", name=name, value=value))
        return value

    def plan_from_controls(self) -> promo.PromotionPlan:
        """The :class:`opslib.promo.PromotionPlan` the controls describe (refused in words when they cannot).

        Raises
        ------
        InputError
            A control out of range, dates the wrong way round or outside the planning horizon.
        """
        tr = self.tr
        skus = self._selected_skus()
        if not skus:
            raise InputError(tr.t("err_no_sku"))
        start, end = _date(self.start.value), _date(self.end.value)
        if start is None or end is None:
            raise InputError(tr.t("err_no_date"))
        if end < start:
            raise InputError(tr.t("err_dates", start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}"))
        if start < self.origin or end > self.horizon_end:
            raise InputError(tr.t("err_horizon", first=f"{self.origin:%Y-%m-%d}", last=f"{self.horizon_end:%Y-%m-%d}",
                                  start=f"{start:%Y-%m-%d}", end=f"{end:%Y-%m-%d}"))
        m = self.mechanic.value
        terms: dict = {}
        if m in ("percent_off", "flash_sale", "points", "second_half_price"):
            terms["depth"] = self._fraction(self.depth, "depth", positive=True)
        if m in ("threshold", "item_count"):
            try:
                terms["tiers"] = promo.parse_tiers(self.tiers.value, kind="items" if m == "item_count" else "money")
            except (DataError, ValueError) as exc:
                raise InputError(tr.t("err_tiers", problem=str(exc))) from None
        if m == "repeating_threshold":
            terms["threshold"] = self._amount(self.threshold, "threshold", positive=True)
            terms["reward"] = self._amount(self.reward, "reward", positive=True)
            if terms["reward"] > terms["threshold"]:
                raise InputError(tr.t("err_reward", reward=terms["reward"], threshold=terms["threshold"]))
        if m == "gift":
            terms["threshold"] = self._amount(self.threshold, "threshold", positive=True)
            terms["reward"] = self._amount(self.gift_cost, "gift_cost", positive=True)
        if m == "coupon":
            terms["reward"] = self._amount(self.coupon_face, "coupon_face", positive=True)
            terms["threshold"] = self._amount(self.coupon_threshold, "coupon_threshold")
            terms["coupon_redemption"] = self._fraction(self.coupon_redemption, "coupon_redemption")
            if terms["threshold"] > 0 and terms["reward"] > terms["threshold"]:
                raise InputError(tr.t("err_reward", reward=terms["reward"], threshold=terms["threshold"]))
        if m == "flash_sale":
            cap = self._amount(self.flash_cap, "flash_cap")
            terms["stock_cap"] = cap if cap > 0 else None
        if m == "points":
            terms["points_breakage"] = self._fraction(self.points_breakage, "points_breakage")
        self.unit_discount = None
        if m in promo.MULTI_UNIT_MECHANICS:
            terms["unit_discount"] = self.unit_discount = self._realized_unit_discount(m, terms.get("depth"))
        funding = self._fraction(self.funding_share, "funding_share")
        fees = self._amount(self.fixed_fees, "fixed_fees")
        return promo.PromotionPlan(skus=skus, start=start, end=end, mechanic=m, funding_share=funding,
                                   fixed_cost=fees, **terms)

    def _realized_unit_discount(self, mechanic: str, depth: float | None) -> float | None:
        """The realized discount per unit sold of past offers with the same terms (None: none on record).

        :func:`opslib.promo.realized_depths` pools the offers of one mechanic by their terms (the
        promotion's ``depth``; a missing depth is the mechanic's default, half off the second unit).
        """
        depths = _multi_unit_depths(self.ws)
        if depths.empty:
            return None
        table = self.ws.promotions.assign(promo_id=self.ws.promotions["promo_id"].astype(str))
        terms = table.set_index("promo_id")["depth"] if "depth" in table.columns else pd.Series(dtype=float)
        rows = depths[depths["mechanic"] == mechanic]
        past = pd.to_numeric(terms.reindex(rows["promo_id"].astype(str)), errors="coerce").to_numpy(float)
        default = depth is None or (mechanic == "second_half_price" and np.isclose(depth, 0.5))
        same = (np.isfinite(past) & np.isclose(past, depth if depth is not None else -1.0)) | (
            ~np.isfinite(past) & default)
        rows = rows[same]
        return float(rows["realized_depth"].iloc[0]) if len(rows) else None

    # ------------------------------------------------------------------ the engine

    def _baseline_options(self, function) -> dict:
        """``items=`` for the baseline functions that take it (the season of a SKU is its category's)."""
        return {"items": self.ws.items} if "items" in inspect.signature(function).parameters else {}

    def _baseline_of(self, skus) -> pd.DataFrame:
        """:func:`opslib.promo.baseline_from_history` from the origin over the horizon, SKU by SKU (kept).

        Called on the whole ``demand`` table with ``items``: a SKU's rows do not depend on the others
        asked for, so the SKUs are computed once each and put together.
        """
        todo = [s for s in skus if s not in self._baselines]
        if todo:
            b = promo.baseline_from_history(self.ws.demand, todo, self.origin, self.horizon_end,
                                            **self._baseline_options(promo.baseline_from_history))
            for sku, rows in b.groupby("sku", sort=False):
                self._baselines[sku] = rows
        return pd.concat([self._baselines[s] for s in skus], ignore_index=True)

    def _uncertainty_of(self, skus, days: int) -> pd.DataFrame:
        """:func:`opslib.promo.baseline_uncertainty` of a window of ``days`` from the origin, SKU by SKU (kept)."""
        todo = [s for s in skus if (s, days) not in self._uncertainties]
        if todo:
            u = promo.baseline_uncertainty(self.ws.demand, todo, self.origin,
                                           self.origin + pd.Timedelta(days=days - 1),
                                           **self._baseline_options(promo.baseline_uncertainty))
            for k, sku in enumerate(u["sku"]):
                self._uncertainties[(sku, days)] = u.iloc[[k]]
        return pd.concat([self._uncertainties[(s, days)] for s in skus], ignore_index=True)

    def _response_for(self, skus) -> pd.DataFrame:
        cats = self.ws.items.assign(sku=self.ws.items["sku"].astype(str)).set_index("sku")["category"].astype(str)
        frames = []
        for category in dict.fromkeys(cats.reindex(list(skus)).dropna()):
            if category not in self._responses and not self.background:
                self._response_of(category)
            if category not in self._responses:
                raise InputError(self.tr.t("err_no_response", category=category))
            frames.append(self._responses[category])
        return pd.concat(frames, ignore_index=True).drop_duplicates("sku")

    def simulator_for(self, skus, days: int) -> promo.Simulator:
        """The :class:`opslib.promo.Simulator` of a SKU set and window length (built once, then kept).

        Its tables: the pooled response of the SKUs' categories, the baseline from the origin over the
        horizon, and the baseline uncertainty of a ``days``-long window; ``draws`` and ``seed`` of the page.
        """
        key = (tuple(sorted(skus)), int(days))
        if key not in self._simulators:
            skus = list(key[0])
            response = self._response_for(skus)
            baseline = self._baseline_of(skus)
            uncertainty = self._uncertainty_of(skus, days)
            sim = promo.Simulator(response, baseline, self.ws.items, draws=self.draws, seed=self.seed,
                                  baseline_uncertainty=uncertainty)
            if len(self._simulators) > 16:
                self._simulators.pop(next(iter(self._simulators)))
            self._simulators[key] = (sim, {"response": response, "baseline": baseline, "uncertainty": uncertainty})
        return self._simulators[key][0]

    def simulator_tables(self, skus, days: int) -> dict[str, pd.DataFrame]:
        """The ``response``, ``baseline`` and ``uncertainty`` tables of :meth:`simulator_for`."""
        self.simulator_for(skus, days)
        return self._simulators[(tuple(sorted(skus)), int(days))][1]

    def stock_tables(self, skus) -> dict:
        """The tables :func:`opslib.promo.stock_check` reads, cut to the SKUs and their suppliers.

        The stock of the SKUs only and the purchase orders of their suppliers (lead times are measured
        per supplier): the same answer as the whole workspace, in a fraction of the time. Pass
        ``as_of=self.stock_date`` with them.
        """
        key = ",".join(sorted(skus))
        if key not in self._tables:
            ws = self.ws
            wanted = set(skus)
            tables = {"items": ws.items}
            if ws.stock is not None:
                tables["stock"] = ws.stock[ws.stock["sku"].astype(str).isin(wanted)]
            if ws.purchase_orders is not None:
                po = ws.purchase_orders
                suppliers = set(ws.items.loc[ws.items["sku"].astype(str).isin(wanted), "supplier"].dropna()) \
                    if "supplier" in ws.items.columns else set()
                keep = po["sku"].astype(str).isin(wanted)
                if "supplier" in po.columns:
                    keep |= po["supplier"].isin(suppliers)
                tables["purchase_orders"] = po[keep]
            if ws.calendar is not None:
                tables["calendar"] = ws.calendar
            if len(self._tables) > 16:
                self._tables.pop(next(iter(self._tables)))
            self._tables[key] = tables
        return self._tables[key]

    # ------------------------------------------------------------------ refresh

    def refresh(self) -> None:
        """Read the plan, simulate it and draw it; then check the stock (each part guarded).

        The cards and charts are set before the stock check runs, so in the browser they follow the
        control at once and the stock panel a moment later. ``timings`` records the seconds of each
        stage (``view``: until the cards and charts are set; ``total``: with the stock check).
        """
        if self._muted:
            return
        with self._lock:  # a background fit's refresh and a control's callback run one after the other
            self._refresh()

    def _refresh(self) -> None:
        t0 = time.perf_counter()
        self._guard("plan", self._read_plan)
        if "plan" in self._errors:
            self.result = self.stock = None
            self._errors.pop("simulate", None)
            self._errors.pop("stock", None)
        else:
            self._guard("simulate", self._simulate)
        t1 = time.perf_counter()
        self._render_results()
        self._show_errors()
        t2 = time.perf_counter()
        if self.result is not None:
            self._guard("stock", self._check_stock)
        else:
            self.stock, self.stock_panel.value = None, ""
        self._show_errors()
        t3 = time.perf_counter()
        self.timings = {"simulate": t1 - t0, "draw": t2 - t1, "view": t2 - t0, "stock_check": t3 - t2,
                        "total": t3 - t0}

    def _read_plan(self) -> None:
        self.plan = None
        self.plan = self.plan_from_controls()

    def _simulate(self) -> None:
        self.result = None
        plan = self.plan
        self.simulator = self.simulator_for(plan.skus, plan.days)
        tables = self.simulator_tables(plan.skus, plan.days)
        self.response, self.baseline, self.uncertainty = (tables[k] for k in ("response", "baseline", "uncertainty"))
        with _quiet_engine():
            self.result = self.simulator.simulate(plan)

    def _check_stock(self) -> None:
        self.stock = None
        if self.result is None or self.ws.stock is None:
            self.stock_panel.value = ""
            return
        with _quiet_engine():
            self.stock = promo.stock_check(self.result, self.stock_tables(self.plan.skus), as_of=self.stock_date,
                                           service_level=self.service_level, simulator=self.simulator,
                                           baseline=self.baseline)
        self.stock_panel.value = self.stock_html()

    # ------------------------------------------------------------------ rendering

    def _relabel(self) -> None:
        self._render_static()
        self._render_results()
        self.stock_panel.value = self.stock_html() if self.result is not None else ""
        self._render_scenarios()
        if "saved" in self._errors:  # its message in the new language
            self._guard("saved", self._read_saved)
        self._render_saved()
        self._show_errors()

    def _render_static(self) -> None:
        tr = self.tr
        self.title.value = f"<h2 style='margin:0'>{html.escape(tr.t('promo_title'))}</h2>"
        where = self.ws.name if self.ws.path is None else f"{self.ws.name} ({self.ws.path})"
        stock = f"{self.stock_date:%Y-%m-%d}" if self.stock_date is not None else "n/a"
        self.intro.value = (
            f"<div style='color:#555'>{html.escape(tr.t('promo_workspace', name=str(where)))}<br>"
            f"{html.escape(tr.t('promo_intro', draws=self.draws, seed=self.seed))}<br>"
            f"{html.escape(tr.t('horizon_note', first=f'{self.origin:%Y-%m-%d}', last=f'{self.horizon_end:%Y-%m-%d}', stock=stock))}"
            "</div>")
        if self.inferred is not None:
            self.intro.value += ("<div class='opslib-promo-inferred' style='color:#7a5b00;margin-top:4px'>"
                                 f"{html.escape(tr.t('inferred_note', **self._inferred_counts()))}</div>")

        for key, widget in self._headings.items():
            widget.value = f"<h3 style='margin:16px 0 6px 0'>{html.escape(tr.t(key))}</h3>"

    def _inferred_counts(self) -> dict:
        scope = self.inferred.promotions["scope"].astype(str)
        own = scope.str.startswith("sku:")
        return {"cuts": int(own.sum()), "skus": int(scope[own].nunique()), "shop": int((scope == "all").sum()),
                "category": int(scope.str.startswith("category:").sum()), "depth": self.inferred.settings["min_depth"]}

    def _render_results(self) -> None:
        self._guard("charts", self._draw)
        tr = self.tr
        plan = self.plan
        if plan is not None and plan.mechanic in promo.MULTI_UNIT_MECHANICS:
            depth = float(plan.rates(np.ones(1))[0][0])
            key = "multi_unit_note" if self.unit_discount is not None else "multi_unit_convention"
            self.multi_unit_note.value = f"<div style='color:#555'>{html.escape(tr.t(key, depth=depth))}</div>"
        else:
            self.multi_unit_note.value = ""
        self.response_note.value = ""
        response = self.response
        if plan is not None and response is not None and "elasticity_source" in response.columns:
            chosen = response[response["sku"].astype(str).isin(plan.skus)]
            prior = chosen[chosen["elasticity_source"].astype(str).str.startswith("literature prior")]
            if len(prior):
                shown = ", ".join(prior["sku"].astype(str).head(4)) + ("…" if len(prior) > 4 else "")
                row = prior.iloc[0]
                self.response_note.value = (
                    "<div class='opslib-promo-prior' style='color:#7a5b00'>" + html.escape(tr.t(
                        "prior_note", skus=shown, n=len(prior), elasticity=float(row["elasticity"]),
                        se=float(row["elasticity_se"]), source=str(row["elasticity_source"]))) + "</div>")

    def _draw(self) -> None:
        r = self.result
        if r is None:
            self.cards.value = self.guardrail_panel.value = self.stock_panel.value = ""
            for view in (self.lift_view, self.waterfall_view, self.roi_view, self.tornado_view):
                clear_figure(view)
            self.lift_chart = self.waterfall_chart = self.roi_chart = self.tornado_chart = None
            return
        self.cards.value = self.cards_html()
        self.guardrail_panel.value = self.guardrail_html()
        tr = self.tr
        # lift fan: daily baseline of the plan's SKUs times the quantiles of the draws' lift Q / B
        b = self.baseline[self.baseline["sku"].isin(r.plan.skus)].groupby("date")["baseline_units"].sum()
        shown = b[(b.index >= r.plan.start - pd.Timedelta(days=7)) & (b.index <= r.plan.end + pd.Timedelta(days=14))]
        ratio = (r.draws["promo_units"] / r.draws["baseline_units"]).to_numpy()
        p10, p50, p90 = np.percentile(ratio[np.isfinite(ratio)], [10, 50, 90])
        self.lift_chart = promotion_lift_figure(
            shown.index, shown.to_numpy(float), r.plan.start, r.plan.end, (p10, p50, p90),
            title=tr.t("chart_lift"), labels={k: tr.t(f"chart_{k}") for k in ("baseline", "promo_p50", "band",
                                                                               "units")})
        components = r.waterfall
        words = {c: tr.t(f"comp_{c}") for c in _COMPONENT_WORDS}
        self.waterfall_chart = promotion_waterfall_figure(components, words, title=tr.t("chart_waterfall"),
                                                          currency=self.currency)
        g = self._plan_margin_rate()
        be = f"{1 / g:.2f}" if g > 0 else "n/a"
        self.roi_chart = roi_distribution_figure(
            r.draws["profit_roi"].to_numpy(float), r.draws["gmv_roi"].to_numpy(float),
            gmv_breakeven=1 / g if g > 0 else None, title=tr.t("chart_roi"),
            profit_label=tr.t("chart_profit_roi"), gmv_label=tr.t("chart_gmv_roi", breakeven=be),
            count_label=tr.t("chart_draws"), probability_label=tr.t("card_probability"),
            probability=r.probability_profitable)
        tornado = r.tornado.head(10)
        names = [f"{s} · {tr.t(f'input_{i}') if f'input_{i}' in tr.strings else i}"
                 for s, i in zip(tornado["sku"], tornado["input"])]
        self.tornado_chart = tornado_figure(tornado, names, centre=float(r.summary.set_index("metric").at["profit", "p50"]),
                                            title=tr.t("chart_tornado"), axis_label=tr.t("chart_profit"),
                                            currency=self.currency)
        show_figure(self.lift_view, self.lift_chart)
        show_figure(self.waterfall_view, self.waterfall_chart)
        show_figure(self.roi_view, self.roi_chart)
        show_figure(self.tornado_view, self.tornado_chart)

    def _plan_margin_rate(self) -> float:
        """The baseline-GMV-weighted regular margin rate ``g`` of the plan (GMV ROI breaks even at ``1 / g``)."""
        r = self.result
        guard = r.guardrails.set_index("sku")
        base = r.skus.set_index("sku")["baseline_units"].reindex(guard.index).to_numpy(float)
        gmv = base * guard["price"].to_numpy(float)
        if gmv.sum() <= 0:
            return float(guard["margin_rate"].mean())
        return float((gmv * guard["margin_rate"].to_numpy(float)).sum() / gmv.sum())

    def numbers(self) -> dict[str, float]:
        """The figures the cards show, unformatted (from :attr:`result`)."""
        r = self.result
        s = r.summary.set_index("metric")
        return {
            "profit": s.at["profit", "p50"], "profit_p10": s.at["profit", "p10"], "profit_p90": s.at["profit", "p90"],
            "profit_roi": s.at["profit_roi", "p50"], "gmv_roi": s.at["gmv_roi", "p50"],
            "probability_profitable": r.probability_profitable,
            "incremental_units": s.at["incremental_units", "p50"],
            "net_incremental_units": s.at["net_incremental_units", "p50"], "spend": s.at["spend", "mean"],
            "margin_rate": self._plan_margin_rate()}

    def cards_html(self) -> str:
        """The headline cards of :attr:`result` (classes ``opslib-promo-<name>``)."""
        tr, cur = self.tr, self.currency
        n = self.numbers()
        g = n["margin_rate"]
        colour = "#1a7f37" if n["profit"] > 0 else "#b42318"
        return "<div class='opslib-promo-headline'>" + "".join([
            _card("profit", tr.t("card_profit"), _money(n["profit"], cur),
                  tr.t("card_profit_range", p10=_money(n["profit_p10"]), p90=_money(n["profit_p90"])), colour),
            _card("profit-roi", tr.t("card_profit_roi"), _percent(n["profit_roi"]), tr.t("card_profit_roi_note")),
            _card("gmv-roi", tr.t("card_gmv_roi"), _ratio(n["gmv_roi"]),
                  tr.t("card_gmv_roi_note", breakeven=_ratio(1 / g) if g > 0 else "n/a")),
            _card("probability", tr.t("card_probability"), _percent(n["probability_profitable"]),
                  tr.t("card_probability_note")),
            _card("units", tr.t("card_units"), f"{n['incremental_units']:,.0f}",
                  tr.t("card_units_note", net=f"{n['net_incremental_units']:,.0f}")),
            _card("spend", tr.t("card_spend"), _money(n["spend"], cur), tr.t("card_spend_note")),
        ]) + "</div>"

    def guardrail_html(self) -> str:
        """Break-even lift against the expected lift, and the deepest profitable depth, per SKU."""
        tr, r = self.tr, self.result
        g = r.guardrails
        per_sku = r.skus.set_index("sku")
        rows = []
        verdicts = set()
        for row in g.itertuples(index=False):
            base = per_sku.at[row.sku, "baseline_units"]
            expected = per_sku.at[row.sku, "incremental_units_p50"] / base if base > 0 else np.nan
            never = not np.isfinite(row.breakeven_lift)
            verdicts.add("impossible" if never else ("ok" if expected >= row.breakeven_lift else "short"))
            rows.append({
                tr.t("sku"): row.sku,
                tr.t("guard_lift"): tr.t("guard_never") if never else f"{row.breakeven_lift:.1%}",
                tr.t("guard_expected"): f"{expected:.1%}" if np.isfinite(expected) else "n/a",
                tr.t("guard_above"): f"{row.probability_above_breakeven:.1%}",
                tr.t("guard_max_depth"): f"{row.max_profitable_depth:.1%}",
                tr.t("depth"): f"{row.depth:.1%}"})
        worst = "impossible" if "impossible" in verdicts else ("short" if "short" in verdicts else "ok")
        colour = {"ok": "#1a7f37", "short": "#7a5b00", "impossible": "#b42318"}[worst]
        if len(rows) > 1:  # one verdict for the plan (its worst SKU), the numbers per SKU below
            return (f"<div class='opslib-promo-guardrail' data-verdict='{worst}' style='color:{colour};margin:4px 0'>"
                    f"<b>{html.escape(tr.t('guard_' + worst))}</b></div>" + frame_html(pd.DataFrame(rows)))
        first = g.iloc[0]
        base = per_sku.at[first["sku"], "baseline_units"]
        expected = per_sku.at[first["sku"], "incremental_units_p50"] / base if base > 0 else np.nan
        lift = tr.t("guard_never") if not np.isfinite(first["breakeven_lift"]) else f"{first['breakeven_lift']:.1%}"
        expected_text = f"{expected:.1%}" if np.isfinite(expected) else "n/a"
        max_depth = f"{first['max_profitable_depth']:.1%}"
        head = (f"<div class='opslib-promo-guardrail' data-verdict='{worst}' style='color:{colour};margin:4px 0'>"
                f"<b>{html.escape(tr.t('guard_' + worst))}</b> "
                f"{html.escape(tr.t('guard_lift'))}: <span class='opslib-promo-breakeven-lift'>{html.escape(lift)}</span>; "
                f"{html.escape(tr.t('guard_expected'))}: <span class='opslib-promo-expected-lift'>"
                f"{html.escape(expected_text)}</span>; "
                f"{html.escape(tr.t('guard_max_depth'))}: <span class='opslib-promo-max-depth'>"
                f"{html.escape(max_depth)}</span></div>")
        return head

    def stock_html(self) -> str:
        """The stock check in words and numbers: risk of selling out, extra quantity and by when."""
        tr, s = self.tr, self.stock
        if s is None or s.empty:
            return ""
        total_order = float(s["order_quantity"].sum())
        worst = float(s["stockout_probability"].max())
        due = s.loc[s["order_quantity"] > 0, "latest_order_date"]
        by = pd.Timestamp(due.min()) if len(due) else None
        passed = bool(s.loc[s["order_quantity"] > 0, "order_date_passed"].any()) if len(due) else False
        by_text = (f"{by:%Y-%m-%d}" + (f" {tr.t('stock_passed')}" if passed else "")) if by is not None else "–"
        cards = [
            _card("stockout-probability", tr.t("stock_risk"), _percent(worst)),
            _card("order-quantity", tr.t("stock_order"),
                  f"{total_order:,.0f} {tr.t('units')}" if total_order > 0 else tr.t("stock_none")),
            _card("order-by", tr.t("stock_by"), by_text, colour="#b42318" if passed else "#222"),
            _card("available", tr.t("stock_available"), f"{float(s['available_at_start'].sum()):,.0f}"),
        ]
        if self.plan is not None and self.plan.mechanic == "flash_sale":
            cards.append(_card("flash-cap", tr.t("stock_cap"), f"{float(s['flash_sale_cap'].sum()):,.0f}"))
        table = s[["sku", "available_at_start", "window_units_p50", "window_units_at_service_level",
                   "stockout_probability", "order_quantity", "latest_order_date", "reason"]]
        return ("<div class='opslib-promo-stock'>" + "".join(cards) + "</div>"
                + frame_html(table, formats={"stockout_probability": ".1%", "available_at_start": ",.0f",
                                             "window_units_p50": ",.0f", "window_units_at_service_level": ",.0f",
                                             "order_quantity": ",.0f"}))

    # ------------------------------------------------------------------ scenarios

    def keep_scenario(self) -> None:
        """Keep the current plan as a scenario (up to :data:`MAX_SCENARIOS`) and compare the kept ones."""
        self._reload_saved_if_changed()
        if self.plan is None or self.result is None:
            return
        if len(self.scenarios) >= MAX_SCENARIOS:
            self._errors["scenarios"] = self.tr.t("too_many")
            self._show_errors()
            return
        k = len(self.scenarios) + 1
        while any(s.plan.name.startswith(f"S{k} ") for s in self.scenarios):
            k += 1
        p = self.plan
        depth = float(self.result.guardrails["depth"].mean())
        name = f"S{k} {p.mechanic} {depth:.0%} {p.start:%m-%d}..{p.end:%m-%d}"
        from dataclasses import replace

        self.scenarios.append(_Scenario(replace(p, name=name), self.category.value))
        self._update_comparison()

    def remove_scenario(self, index: int) -> None:
        """Remove the kept scenario at ``index`` and compare the others."""
        del self.scenarios[index]
        self._update_comparison()

    def comparison_simulator(self) -> promo.Simulator | None:
        """The simulator the kept scenarios are compared on: their SKUs, the first scenario's window length."""
        if not self.scenarios:
            return None
        skus = sorted({s for sc in self.scenarios for s in sc.plan.skus})
        return self.simulator_for(skus, self.scenarios[0].plan.days)

    def _update_comparison(self) -> None:
        self._guard("scenarios", self._run_comparison)
        self._render_scenarios()
        self._show_errors()

    def _run_comparison(self) -> None:
        self.comparison = None
        if self.scenarios:
            sim = self.comparison_simulator()
            with _quiet_engine():
                self.comparison = sim.compare([s.plan for s in self.scenarios], tornado=False)

    def snapshot_sections(self) -> tuple[str, list]:
        """Title and sections of a static snapshot of the current plan (see :func:`opslib.ui.snapshot.snapshot_html`)."""
        t = self.tr.t
        mechanic = t(f"mech_{self.mechanic.value}")
        skus = list(self.plan.skus) if self.plan is not None else list(self.skus.value)
        shown = ", ".join(map(str, skus[:12])) + (f" (+{len(skus) - 12})" if len(skus) > 12 else "")
        plan = t("snapshot_plan", skus=shown, start=str(self.start.value), end=str(self.end.value),
                 funding=float(self.funding_share.value or 0), fees=float(self.fixed_fees.value or 0))
        sections: list = [(t("plan_section"), Paragraph(plan)), (None, self.multi_unit_note.value),
                          (None, self.response_note.value),
                          (t("results_section"), self.cards.value)]
        for key, chart in (("lift_section", self.lift_chart), ("economics_section", self.waterfall_chart),
                           (None, self.roi_chart), ("tornado_section", self.tornado_chart)):
            if chart is not None:
                sections.append((t(key) if key else None, chart))
        sections += [(t("guardrail_section"), self.guardrail_panel.value), (t("stock_section"), self.stock_panel.value)]
        if self.scenarios:
            sections.append((t("scenario_section"), self.comparison_frame()))
        return t("snapshot_title", mechanic=mechanic), sections

    def make_snapshot(self) -> str:
        """Build the snapshot, put its download link next to the button and return the HTML."""
        title, sections = self.snapshot_sections()
        where = self.ws.name if self.ws.path is None else f"{self.ws.name} ({self.ws.path})"
        page = snapshot_html(title, sections, subtitle=str(where), lang=self.tr.language)
        self.snapshot = page
        self.snapshot_link.value = download_link(page.encode("utf-8"), "promotion_plan.html", "text/html",
                                                 self.tr.t("snapshot_ready"), "opslib-snapshot-link")
        return page

    def _snapshot_clicked(self) -> None:
        self._guard("snapshot", self.make_snapshot)
        self._show_errors()

    def comparison_frame(self) -> pd.DataFrame:
        """The comparison table with each scenario's terms: what the exports hold."""
        if self.comparison is None:
            return pd.DataFrame()
        terms = pd.DataFrame([{
            "skus": "|".join(p.skus), "start": p.start.date(), "end": p.end.date(),
            "threshold": p.threshold, "reward": p.reward,
            "tiers": "|".join(f"{t.threshold:g}:{t.reward:g}" for t in p.tiers), "stock_cap": p.stock_cap,
            "unit_discount": p.unit_discount, "funding_share": p.funding_share, "fixed_cost": p.fixed_cost}
            for p in (s.plan for s in self.scenarios)])
        table = self.comparison.table.reset_index(drop=True)
        return pd.concat([table[["plan", "mechanic", "depth", "days"]], terms,
                          table.drop(columns=["plan", "mechanic", "depth", "days"])], axis=1)

    def comparison_csv(self) -> bytes:
        """The comparison as CSV bytes (UTF-8)."""
        return self.comparison_frame().to_csv(index=False).encode("utf-8")

    def comparison_excel(self) -> bytes:
        """The comparison as an Excel workbook (one sheet, ``scenarios``)."""
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            self.comparison_frame().to_excel(writer, sheet_name="scenarios", index=False)
        return buffer.getvalue()

    def _render_scenarios(self) -> None:
        tr = self.tr
        rows = []
        for k, sc in enumerate(self.scenarios):
            button = widgets.Button(description=tr.t("remove"), icon="trash", layout=widgets.Layout(width="110px"))
            button.add_class("opslib-promo-remove")
            button.on_click(lambda _b, k=k: self._callback(lambda: self.remove_scenario(k))({}))
            label = widgets.HTML(f"<span class='opslib-promo-scenario'>{html.escape(sc.plan.label())} "
                                 f"({html.escape(', '.join(sc.plan.skus[:4]))}{'…' if len(sc.plan.skus) > 4 else ''})"
                                 "</span>")
            rows.append(widgets.HBox([button, label], layout=widgets.Layout(align_items="center")))
        self.scenario_list.children = rows
        if not self.scenarios:
            self.scenario_note.value = f"<div style='color:#666'>{html.escape(tr.t('no_scenarios', n=MAX_SCENARIOS))}</div>"
            self.comparison_table.value = self.export_links.value = ""
            clear_figure(self.comparison_view)
            self.comparison_chart = None
            return
        note = tr.t("scenario_note")
        if len({s.plan.days for s in self.scenarios}) > 1:
            note += " " + tr.t("length_note")
        self.scenario_note.value = f"<div style='color:#555'>{html.escape(note)}</div>"
        if self.comparison is None:
            self.comparison_table.value = self.export_links.value = ""
            return
        table = self.comparison.table
        money = {c: ",.0f" for c in ("incremental_units_p50", "profit_p10", "profit_p50", "profit_p90",
                                     "profit_difference_p10", "profit_difference_p50", "profit_difference_p90")}
        self.comparison_table.value = (
            "<div class='opslib-promo-comparison'>"
            + frame_html(table, formats={**money, "depth": ".1%", "profit_roi_p50": ".1%", "gmv_roi_p50": ".2f",
                                         "probability_profitable": ".1%", "probability_better": ".1%"})
            + "</div>")
        self.comparison_chart = promotion_comparison_figure(table, title=tr.t("chart_comparison"),
                                                            axis_label=tr.t("chart_profit"), currency=self.currency)
        show_figure(self.comparison_view, self.comparison_chart)
        self.export_links.value = (
            download_link(self.comparison_csv(), "promotion-scenarios.csv", "text/csv", tr.t("export_csv"),
                          "opslib-promo-export-csv")
            + download_link(self.comparison_excel(), "promotion-scenarios.xlsx",
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", tr.t("export_excel"),
                            "opslib-promo-export-excel"))


    # ------------------------------------------------------------------ saved for colleagues

    def reload_saved(self) -> None:
        """Read the scenarios saved in the data folder again (a colleague may have saved since) and list them."""
        self._guard("saved", self._read_saved)
        self._render_saved()
        self._show_errors()

    def _clear_saved_errors(self) -> None:
        """A new action on the saved scenarios: the refusal of the previous one is no longer news."""
        for what in ("save", "load", "open_saved", "delete"):
            self._errors.pop(what, None)

    def _saved_stamp(self) -> tuple | None:
        """Size and modification time of the scenarios file (None: no folder or no file)."""
        if self.ws.path is None:
            return None
        try:
            st = (Path(self.ws.path) / promo_scenarios.SCENARIOS_FOLDER / promo_scenarios.SCENARIOS_FILE).stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def _read_saved(self) -> None:
        self.saved = promo_scenarios.SavedScenarios()
        self._saved_read = self._saved_stamp()
        if self.ws.path is None or not Path(self.ws.path).is_dir():
            return
        self.saved = promo_scenarios.load_scenarios(self.ws.path, items=self.ws.items)

    def _reload_saved_if_changed(self) -> None:
        """List the saved scenarios again when the file changed since it was read (a colleague saved)."""
        if self._saved_stamp() != self._saved_read:
            self.reload_saved()

    def refresh_on_open(self) -> None:
        """For :func:`opslib.ui.when_opened`: list what colleagues saved since a preheated page was built."""
        self._reload_saved_if_changed()

    def _repr_mimebundle_(self, **kwargs):
        # Shown to a visitor: a page built ahead on a preheated Voila kernel (opslib.ui.when_opened)
        # lists what colleagues saved since it was built; the data folder's stamp ignores subfolders.
        self._reload_saved_if_changed()
        return super()._repr_mimebundle_(**kwargs)

    def save_scenario(self, name: str | None = None) -> promo_scenarios.SavedScenario | None:
        """Save the current plan for colleagues, in the data folder (see :mod:`opslib.promo_scenarios`).

        Parameters
        ----------
        name : str, optional
            Default: the name box, else the category, mechanic and window.

        Returns
        -------
        opslib.promo_scenarios.SavedScenario or None
            As saved; None when refused (the reason is on the page: no folder,
            a plan the controls cannot make, a name saved already).
        """
        self._clear_saved_errors()
        saved = []
        self._guard("save", lambda: saved.append(self._save(name)))
        if saved:
            self.scenario_name.value = ""
            self.saved_notice.value = ""
            self._guard("saved", self._read_saved)
        self._render_saved()
        self._show_errors()
        return saved[0] if saved else None

    def _save(self, name: str | None) -> promo_scenarios.SavedScenario:
        if self.ws.path is None:
            raise InputError(self.tr.t("saved_no_folder"))
        plan = self.plan if self.plan is not None else self.plan_from_controls()
        name = (name or self.scenario_name.value or "").strip() or (
            f"{self.category.value} {plan.mechanic} {plan.start:%Y-%m-%d}..{plan.end:%m-%d}")
        return promo_scenarios.save_scenario(
            self.ws.path, name, plan, category=self.category.value, whole_category=bool(self.whole_category.value),
            draws=self.draws, seed=self.seed, data_through=self.data_through)

    def compare_saved(self, name: str) -> None:
        """Put the saved scenario ``name`` into the comparison (recomputed on this page's draws, as a kept one).

        Refused in words when it is in the comparison already, four are kept, it cannot be used on this
        data (unknown SKU or category) or its window lies outside the planning horizon.
        """
        self._clear_saved_errors()
        self._reload_saved_if_changed()
        self._guard("load", lambda: self._compare_saved(name))
        self._render_scenarios()
        self._show_errors()

    def _compare_saved(self, name: str) -> None:
        tr = self.tr
        scenario = self.saved.get(name)
        if any(s.plan.name == scenario.name for s in self.scenarios):
            raise InputError(tr.t("saved_in_comparison", name=scenario.name))
        if len(self.scenarios) >= MAX_SCENARIOS:
            raise InputError(tr.t("too_many"))
        self._check_window(scenario)
        self._say_saved_notes(self._saved_notes(scenario))
        self.scenarios.append(_Scenario(scenario.plan, scenario.category or self.category.value))
        self._guard("scenarios", self._run_comparison)

    def _check_window(self, scenario: promo_scenarios.SavedScenario) -> None:
        """Refuse in words a saved scenario whose window lies outside this data's planning horizon."""
        plan = scenario.plan
        if plan.start < self.origin or plan.end > self.horizon_end:
            raise InputError(self.tr.t("saved_outside", name=scenario.name, start=f"{plan.start:%Y-%m-%d}",
                                       end=f"{plan.end:%Y-%m-%d}", first=f"{self.origin:%Y-%m-%d}",
                                       last=f"{self.horizon_end:%Y-%m-%d}"))

    def _saved_notes(self, scenario: promo_scenarios.SavedScenario) -> list[str]:
        """What differs between the page a scenario was saved from and this one (draws, data)."""
        tr, notes = self.tr, []
        if (scenario.draws, scenario.seed) != (self.draws, self.seed):
            notes.append(tr.t("saved_other_draws", name=scenario.name, draws=scenario.draws, seed=scenario.seed))
        if scenario.data_through is not None and self.data_through is not None \
                and scenario.data_through != self.data_through:
            notes.append(tr.t("saved_other_data", name=scenario.name, then=f"{scenario.data_through:%Y-%m-%d}",
                              now=f"{self.data_through:%Y-%m-%d}"))
        return notes

    def _say_saved_notes(self, notes: list[str]) -> None:
        self.saved_notice.value = (f"<div style='color:#7a5b00'>{html.escape(' '.join(notes))}</div>"
                                   if notes else "")

    def open_saved(self, name: str) -> None:
        """Put the saved scenario ``name`` into the controls, to be changed (its numbers are simulated here).

        The category, SKUs (or the whole category), window, mechanic and its terms, funding and fees
        are set at once and the page simulates once. Refused in words when the scenario cannot be used
        on this data, its window lies outside the planning horizon or its SKUs span several categories
        (the controls hold one). A term the controls cannot hold (a flash price instead of a depth, a
        depth on an item-count ladder) or a realized discount per unit that the data now puts
        elsewhere is named in the notice: the page simulates what the controls show.
        """
        self._clear_saved_errors()
        self._reload_saved_if_changed()
        self._guard("open_saved", lambda: self._open_saved(name))
        self._show_errors()

    def _open_saved(self, name: str) -> None:
        tr = self.tr
        scenario = self.saved.get(name)
        plan = scenario.plan
        self._check_window(scenario)
        items = self.ws.items.assign(sku=self.ws.items["sku"].astype(str)).set_index("sku")["category"]
        categories = sorted(set(items.reindex(list(plan.skus)).dropna().astype(str)))
        category = scenario.category if scenario.category in self.category.options else None
        if len(categories) > 1 or (category is not None and categories and categories != [category]):
            raise InputError(tr.t("saved_several_categories", name=scenario.name, categories=", ".join(categories)))
        category = category or (categories[0] if categories else None)
        if category not in self.category.options:
            raise InputError(tr.t("saved_no_category", name=scenario.name, category=str(category)))
        values = _control_values(plan)
        self._muted = True
        try:
            self.category.value = category
            self.whole_category.value = bool(scenario.whole_category)
            self.mechanic.value = plan.mechanic
            for key, value in values.items():
                getattr(self, key).value = value
        finally:
            self._muted = False
        self._load_category(initial_skus=plan.skus)  # the SKUs, then one simulation of the opened plan
        notes = [tr.t("saved_opened", name=scenario.name)]
        if self.plan is not None:
            differ = _plan_differences(plan, self.plan)
            if differ:
                notes.append(tr.t("saved_opened_differs", name=scenario.name, terms=", ".join(differ)))
        self._say_saved_notes(notes + self._saved_notes(scenario))

    def delete_saved(self, name: str) -> None:
        """Delete the saved scenario ``name`` from the data folder (a kept copy in the comparison stays)."""
        self._clear_saved_errors()
        self._guard("delete", lambda: promo_scenarios.delete_scenario(self.ws.path, name))
        self._guard("saved", self._read_saved)
        self._render_saved()
        self._show_errors()

    def _saved_line(self, scenario: promo_scenarios.SavedScenario) -> str:
        tr, p = self.tr, scenario.plan
        skus = (f"{tr.t('whole_category')} {scenario.category}" if scenario.whole_category else
                ", ".join(p.skus[:4]) + ("…" if len(p.skus) > 4 else ""))
        when = f"{scenario.saved_at:%Y-%m-%d %H:%M}" if scenario.saved_at is not None else "?"
        parts = [tr.t(f"mech_{p.mechanic}"), skus, f"{p.start:%Y-%m-%d}..{p.end:%Y-%m-%d}",
                 tr.t("saved_by", user=scenario.saved_by, when=when)]
        return (f"<span class='opslib-promo-saved-entry'><b class='opslib-promo-saved-name'>"
                f"{html.escape(scenario.name)}</b> · {html.escape(' · '.join(parts))}</span>")

    def _render_saved(self) -> None:
        tr = self.tr
        self.save_button.disabled = self.scenario_name.disabled = self.ws.path is None
        if self.ws.path is None:
            self.saved_note.value = f"<div style='color:#666'>{html.escape(tr.t('saved_no_folder'))}</div>"
            self.saved_list.children = ()
            return
        folder = Path(self.ws.path) / promo_scenarios.SCENARIOS_FOLDER
        self.saved_note.value = f"<div style='color:#555'>{html.escape(tr.t('saved_where', folder=str(folder)))}</div>"
        rows = []

        def button(key: str, icon: str, css: str, action: Callable[[], None]) -> widgets.Button:
            b = widgets.Button(description=tr.t(key), icon=icon, layout=widgets.Layout(width="120px"))
            b.add_class(css)
            b.on_click(lambda _b: self._callback(action)({}))
            return b

        for scenario in self.saved.scenarios:
            rows.append(widgets.HBox([
                button("saved_open", "pencil", "opslib-promo-saved-open",
                       lambda n=scenario.name: self.open_saved(n)),
                button("saved_compare", "plus", "opslib-promo-saved-compare",
                       lambda n=scenario.name: self.compare_saved(n)),
                button("saved_delete", "trash", "opslib-promo-saved-delete",
                       lambda n=scenario.name: self.delete_saved(n)),
                widgets.HTML(self._saved_line(scenario))], layout=widgets.Layout(align_items="center")))
        for problem in self.saved.problems.itertuples(index=False):
            named = isinstance(problem.name, str)
            label = problem.name if named else f"#{problem.entry}"
            text = widgets.HTML(f"<span class='opslib-promo-saved-problem' style='color:#b42318'><b>"
                                f"{html.escape(label)}</b> {html.escape(tr.t('saved_broken'))}: "
                                f"{html.escape(problem.problem)}</span>")
            children = [text]
            if named:
                children.insert(0, button("saved_delete", "trash", "opslib-promo-saved-delete",
                                          lambda n=problem.name: self.delete_saved(n)))
            rows.append(widgets.HBox(children, layout=widgets.Layout(align_items="center")))
        if not rows and "saved" not in self._errors:
            rows.append(widgets.HTML(f"<div style='color:#666'>{html.escape(tr.t('saved_none'))}</div>"))
        self.saved_list.children = rows


def promotion_simulator(ws: Workspace | None = None, *, translator: Translator | None = None, language: str = "en",
                        category: str | None = None, skus=None, draws: int = 2000, seed: int = 0,
                        horizon_days: int = 120, service_level: float = 0.95, currency: str = "",
                        background: bool = False) -> PromotionSimulator:
    """Build the Promotion simulator for a workspace (see :class:`PromotionSimulator`).

    Parameters
    ----------
    ws : Workspace, optional
        The shop's tables; by default :func:`opslib.data.default_workspace`
        (``$OPSLIB_DATA`` or the demo shop). Refused data opens an empty page
        that says why.
    translator, language, category, skus, draws, seed, horizon_days, service_level, currency
        As in :class:`PromotionSimulator`.
    background : bool, default False
        Fit a category's response that is not kept on disk in a background thread
        (the page shows at once and says it is learning). Off by default: in a
        Voila kernel the fitting thread stalled the page (the app's cell never
        finished rendering, whether the fit ran in the thread or in a child
        process the thread waited on); without it the first opening of a
        category on a fresh server waits for the fit (about 15 seconds on the
        demo shop), later ones read it from disk.

    Returns
    -------
    PromotionSimulator
        An ipywidgets box; display it.
    """
    refusal = None
    if ws is None:
        ws, refusal = open_workspace(as_read_when_refused=False)
    app = PromotionSimulator(ws, translator=translator, language=language, category=category, skus=skus,
                             draws=draws, seed=seed, horizon_days=horizon_days, service_level=service_level,
                             currency=currency, background=background)
    if refusal:
        app.refusal = refusal
        app._show_errors()
    return app
