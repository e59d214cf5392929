"""The per-SKU Replenishment tuner without a browser: set a control, read the numbers it shows.

Every figure is checked to the digit against the library call the tuner stands for
(:func:`opslib.plan.replenishment_plan`, :func:`opslib.inventory.plan_policies` on the
whole tables, :func:`opslib.inventory.compare_with_naive_z_policy`,
:func:`opslib.inventory.simulate_inventory`).
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import opslib.inventory
from opslib.data import Workspace, daily_demand
from opslib.inventory import (
    compare_with_naive_z_policy,
    demand_statistics,
    lead_time_demand,
    naive_z_policy,
    plan_policies,
    simulate_inventory,
)
from opslib.inventory.segmentation import segment
from opslib.plan import replenishment_plan
from opslib.ui.i18n import Translator, check_strings
from opslib.ui.replenishment import (
    POLICY_FIGURES,
    STRINGS,
    SkuTuner,
    daily_demand_distribution,
    format_figure,
    sku_tuner,
)
from test_ops_report import demo_workspace

PLAN_SKUS = ["SN0001", "SN0005", "PC0001", "KT0010"]


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return demo_workspace()


@pytest.fixture(scope="module")
def app(demo) -> SkuTuner:
    return sku_tuner(demo, currency="CNY", sku="SN0001")


@pytest.fixture
def fresh(app):
    """The module's tuner, put back on SN0001 with the opening settings after the test."""
    yield app
    app.language.value = "en"
    app.segment_kind.value = "all"
    app.search.value = ""
    app.sku.value = "SN0001"
    for control, value in ((app.policy, "(R,S)"), (app.service_type, "fill_rate"), (app.target, 0.95),
                           (app.review_period, 7), (app.lead_time, "measured"), (app.moq, 24), (app.pack, 24)):
        control.value = value


def shown(panel: str, prefix: str = "opslib-policy") -> dict[str, tuple[str, str]]:
    """Name -> (text shown, data-value) of every figure of a policy panel."""
    found = re.findall(rf"class='{prefix}-value {prefix}-([a-z_]+)' data-value='([^']*)'>([^<]*)<", panel)
    return {name: (text, value) for name, value, text in found}


def library_policy(demo, app, sku, *, service_type="fill_rate", target=0.95, review=7, policy="(R,S)",
                   moq=None, pack=None, fixed_lead_time=None) -> pd.Series:
    """The SKU's row of plan_policies over the whole demand and purchase-order tables."""
    items = demo.items[demo.items["sku"] == sku].copy()
    if moq is not None:
        items["moq"] = moq
    if pack is not None:
        items["case_pack"] = pack
    purchase_orders = demo.purchase_orders
    if fixed_lead_time is not None:
        items["lead_time_days"] = float(fixed_lead_time)
        purchase_orders = None
    ws = Workspace(items=items, demand=demo.demand, purchase_orders=purchase_orders)
    plan = plan_policies(ws, service_type, target, review, policy=policy, forecast=app.forecast)
    return plan.policies.iloc[0]


def assert_shows(app, want: pd.Series) -> None:
    """The tuner's policy row equals the library's, and every figure on the page is that number."""
    got = app.policy_result
    pd.testing.assert_series_equal(got.drop(labels=["rounding_note"]), want.drop(labels=["rounding_note"]),
                                   check_names=False)
    figures = shown(app.policy_panel.value)
    assert figures, app.error_panel.value
    for name, (text, value) in figures.items():
        assert name in POLICY_FIGURES
        assert float(value) == float(want[name])
        assert text == format_figure(name, want[name], "CNY")


# --------------------------------------------------------------------------- words


def test_strings_have_both_languages_and_the_same_placeholders():
    assert check_strings(STRINGS) == []


def test_format_figure():
    assert format_figure("fill_rate", 0.95) == "95.00%"
    assert format_figure("order_up_to", 216.0) == "216"
    assert format_figure("safety_stock", 23.181589) == "23.2"
    assert format_figure("inventory_value", 868.332938, "CNY") == "868.33 CNY"
    assert format_figure("reorder_point", float("nan")) == ""


# --------------------------------------------------------------------------- the numbers


def test_opens_on_the_demo_and_equals_the_plan_policy(app, demo):
    assert app.error_panel.value == ""
    assert app.sku.value == "SN0001"
    assert app.horizon_days == 32 and set(app.forecast["sku"]) == set(demo.items["sku"])
    assert_shows(app, library_policy(demo, app, "SN0001"))
    assert isinstance(app.history_chart, go.Figure) and isinstance(app.ltd_chart, go.Figure)
    assert isinstance(app.trajectory_chart, go.Figure)
    assert app.history_view.figure and app.ltd_view.figure and app.trajectory_view.figure
    assert "opslib-why-safety_stock" in app.why_panel.value and "opslib-why-naive" in app.why_panel.value
    row = app.policy_result
    assert f"Safety stock {format_figure('safety_stock', row['safety_stock'])} units" in app.why_panel.value
    assert f"Fill rate {format_figure('fill_rate', row['fill_rate'])}:" in app.why_panel.value
    assert app.lead_time_days.disabled and not app.review_period.disabled
    # the item's MOQ, pack and lead time are the controls' starting values
    item = demo.items.set_index("sku").loc["SN0001"]
    assert (app.moq.value, app.pack.value, app.lead_time_days.value) == (item["moq"], item["case_pack"],
                                                                         round(item["lead_time_days"]))


def test_every_control_re_solves_to_the_library_number(fresh, demo):
    app = fresh
    app.target.value = 0.98
    assert_shows(app, library_policy(demo, app, "SN0001", target=0.98))
    app.service_type.value = "cycle_service_level"
    assert_shows(app, library_policy(demo, app, "SN0001", service_type="cycle_service_level", target=0.98))
    app.review_period.value = 14
    assert_shows(app, library_policy(demo, app, "SN0001", service_type="cycle_service_level", target=0.98,
                                     review=14))
    app.moq.value = 100
    app.pack.value = 10
    want = library_policy(demo, app, "SN0001", service_type="cycle_service_level", target=0.98, review=14,
                          moq=100, pack=10)
    assert_shows(app, want)
    assert want["minimum_order"] == 100
    app.lead_time.value = "fixed"
    app.lead_time_days.value = 12
    want = library_policy(demo, app, "SN0001", service_type="cycle_service_level", target=0.98, review=14,
                          moq=100, pack=10, fixed_lead_time=12)
    assert_shows(app, want)
    assert want["lead_time_mean_days"] == 12 and want["lead_time_source"] == "item"
    app.policy.value = "(r,Q)"
    want = library_policy(demo, app, "SN0001", service_type="cycle_service_level", target=0.98, review=14,
                          moq=100, pack=10, fixed_lead_time=12, policy="(r,Q)")
    assert_shows(app, want)
    assert set(shown(app.policy_panel.value)) >= {"reorder_point", "order_quantity"}
    assert app.review_period.disabled and not app.lead_time_days.disabled
    assert app.error_panel.value == ""


def test_the_tuner_shows_what_replenishment_plan_plans(demo):
    """End to end: the same workspace, the same settings, the plan's row to the digit, SKU by SKU."""
    ws = Workspace(items=demo.items[demo.items["sku"].isin(PLAN_SKUS)].reset_index(drop=True), demand=demo.demand,
                   stock=demo.stock, purchase_orders=demo.purchase_orders, calendar=demo.calendar, name="four SKUs")
    # opened at a 7-day review, then set to 14 days: the plan's forecast does not depend on the review period,
    # so the tuner's (made when it opened) is the 14-day plan's own
    tuner = sku_tuner(ws, review_period_days=7, target=0.97)
    plan = replenishment_plan(ws, target=0.97, review_period_days=14)
    pd.testing.assert_frame_equal(tuner.forecast, plan.forecast)
    for sku in PLAN_SKUS:
        tuner.sku.value = sku
        tuner.review_period.value = 14
        want = plan.policies.set_index("sku").loc[sku]
        got = tuner.policy_result.drop(labels="sku")
        pd.testing.assert_series_equal(got, want, check_names=False)
    assert tuner.error_panel.value == ""


def test_naive_rule_and_lead_time_demand_are_the_library_calls(fresh):
    app = fresh
    row = app.policy_result
    mu, var = row["demand_mean_per_day"], row["demand_variance_per_day"]
    daily = daily_demand_distribution(mu, var, row["family"])
    cmp = compare_with_naive_z_policy(daily, row["lead_time_mean_days"], 0.95, "fill_rate", review_periods=7)
    rule = naive_z_policy(mu, np.sqrt(var), row["lead_time_mean_days"], 0.95, 7)
    assert app.naive_result == dict(level=cmp.naive.order_up_to, safety_stock=cmp.naive.safety_stock, z=rule.z,
                                    fill_rate=cmp.naive.fill_rate, cycle_service_level=cmp.naive.cycle_service_level)
    assert rule.level == cmp.naive.order_up_to
    naive = shown(app.policy_panel.value, "opslib-naive")
    assert naive["level"] == (format_figure("level", cmp.naive.order_up_to), repr(cmp.naive.order_up_to))
    assert naive["fill_rate"][0] == format_figure("fill_rate", cmp.naive.fill_rate)
    ltd = lead_time_demand(mu, var, app.plan.lead_times[row["supplier"]], 7, "auto", row["average_demand_interval"])
    assert ltd.family == row["family"] and app.lead_time_demand.mean == ltd.mean
    assert app.lead_time_demand.variance == ltd.variance
    assert row["safety_stock"] == pytest.approx(row["order_up_to"] - ltd.mean, abs=1e-9)
    marks = [s.x0 for s in app.ltd_chart.layout.shapes]
    assert marks == [ltd.mean, row["order_up_to"], cmp.naive.order_up_to]


def test_trajectory_is_the_simulation_read_day_by_day(fresh, demo):
    app = fresh
    row, data = app.policy_result, app.data
    assert list(app.trajectory["day"]) == list(range(0, 57, 7))
    stock = demo.stock[demo.stock["sku"] == "SN0001"].sort_values("date")
    assert data.on_hand == stock["on_hand"].iloc[-1]
    daily = daily_demand_distribution(row["demand_mean_per_day"], row["demand_variance_per_day"], row["family"])
    lead = app.plan.lead_times[row["supplier"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run = simulate_inventory("(R,S)", [daily, daily], [lead, lead], order_up_to=[row["order_up_to"],
                                 app.naive_result["level"]], review_period_days=7, minimum_order_quantity=24,
                                 order_multiple=24, days=1, warmup_days=21, paths=app.paths,
                                 initial_on_hand=data.on_hand, seed=0, workers=1)
    on_hand = run.per_path["avg_on_hand"]
    day = app.trajectory.set_index("day").loc[21]
    assert day["p10"] == np.percentile(on_hand[0], 10) and day["p90"] == np.percentile(on_hand[0], 90)
    assert day["mean"] == on_hand[0].mean() and day["naive_mean"] == on_hand[1].mean()
    band = app.trajectory_chart.data
    assert list(band[1].y) == app.trajectory["p90"].tolist() and list(band[2].y) == app.trajectory["mean"].tolist()


def test_history_marks_stock_out_days_and_the_forecast_fan(fresh, demo):
    app = fresh
    app.sku.value = "SN0005"
    bars, outs, low, high, mean = app.history_chart.data
    history = demo.demand[demo.demand["sku"] == "SN0005"]
    shown_days = pd.to_datetime(pd.Series(bars.x))
    window = history[pd.to_datetime(history["date"]).isin(shown_days)]
    assert len(window) == len(shown_days) == 182
    want_out = window.loc[window["in_stock"].eq(False), "date"].dt.strftime("%Y-%m-%d").tolist()
    assert list(outs.x) == want_out
    fc = app.forecast[app.forecast["sku"] == "SN0005"]
    assert list(low.y) == fc["p10"].tolist() and list(high.y) == fc["p90"].tolist()
    assert list(mean.y) == fc["mean"].tolist()
    assert_shows(app, library_policy(demo, app, "SN0005", moq=app.moq.value, pack=app.pack.value))


# --------------------------------------------------------------------------- picking a SKU


def test_segments_narrow_the_sku_list(fresh, demo):
    app = fresh
    supplier = sorted(demo.items["supplier"].unique())[2]
    app.segment_kind.value = "supplier"
    app.segment.value = supplier
    listed = [v for _, v in app.sku.options]
    assert listed == demo.items.loc[demo.items["supplier"] == supplier, "sku"].tolist()
    assert app.sku.value == listed[0] and app.policy_result["sku"] == listed[0]
    assert app.policy_result["supplier"] == supplier

    app.segment_kind.value = "cell"
    cells = segment(demand_statistics(demo), demo.items.set_index("sku")["unit_cost"])
    app.segment.value = "AX"
    assert [v for _, v in app.sku.options] == [s for s in demo.items["sku"] if cells["cell"].get(s) == "AX"]

    app.segment_kind.value = "category"
    category = sorted(demo.items["category"].unique())[0]
    app.segment.value = category
    in_category = demo.items[demo.items["category"] == category]
    assert [v for _, v in app.sku.options] == in_category["sku"].tolist()
    name = in_category["name"].iloc[1]
    app.search.value = name.lower()
    assert app.sku.value == in_category["sku"].iloc[1] and app.error_panel.value == ""
    app.search.value = "no such thing"
    assert app.sku.options == () and "No SKU matches" in app.list_note.value


# --------------------------------------------------------------------------- language and errors


def test_language_switch_relabels_without_solving_again(fresh):
    app = fresh
    app.policy.value = "(r,Q)"
    before = app.policy_result.copy()
    figures = shown(app.policy_panel.value)
    solves = []
    original = app._solve
    app._solve = lambda: (solves.append(1), original())
    try:
        app.language.value = "zh"
        assert solves == []
        assert app.service_type.description == "服务水平类型" and app.target.description == "目标"
        assert dict(app.policy.options)["(r,Q) 订货点批量"] == "(r,Q)" and app.policy.value == "(r,Q)"
        assert "订货点" in app.why_panel.value and "安全库存" in app.policy_panel.value
        assert app.history_chart.layout.title.text.startswith("SN0001：")
        assert shown(app.policy_panel.value) == figures
        pd.testing.assert_series_equal(app.policy_result, before)
        app.language.value = "en"
        assert app.service_type.description == "Service" and "Reorder point" in app.why_panel.value
    finally:
        app._solve = original


def test_an_error_in_a_callback_shows_on_the_page(fresh, monkeypatch):
    app = fresh

    def broken(*args, **kwargs):
        raise RuntimeError("the solver is down")

    monkeypatch.setattr(opslib.inventory, "plan_policies", broken)
    app.target.value = 0.9
    assert "Could not solve the policy: RuntimeError: the solver is down" in app.error_panel.value
    assert app.policy_result is None and app.policy_panel.value == ""
    app.language.value = "zh"
    assert "出错了" in app.error_panel.value
    app.language.value = "en"
    monkeypatch.undo()
    app.target.value = 0.95
    assert app.error_panel.value == "" and app.policy_result is not None


def test_opens_on_a_shop_without_demand_and_says_why(small_ws):
    app = sku_tuner(small_ws)
    assert "no demand table" in app.error_panel.value and app.policy_result is None
    derived = sku_tuner(dataclasses.replace(small_ws, demand=daily_demand(small_ws)))
    # no purchase orders: the tuner opens on the fixed lead time and says why
    assert derived.error_panel.value == "" and derived.lead_time.value == "fixed"
    assert derived.policy_result["lead_time_mean_days"] == 7 and "no purchase orders" in derived.inputs_note.value
    derived.lead_time.value = "measured"  # nothing to measure: refused in words
    assert "Could not solve the policy" in derived.error_panel.value
    assert "has no lead time" in derived.error_panel.value


def test_a_sku_without_demand_plans_no_stock_and_says_so(fresh, demo):
    app = fresh
    app.sku.value = "AP0004"  # discontinued: no demand in the last year
    assert app.error_panel.value == ""
    assert app.policy_result["policy"] == "none" and app.policy_result["order_up_to"] == 0
    assert "No stock is planned for AP0004" in app.policy_panel.value
    assert app.naive_result is None and app.trajectory is None and app.ltd_chart is None
    assert isinstance(app.history_chart, go.Figure)


def test_a_page_wide_translator_learns_the_tuner_words(app, demo):
    shared = Translator({"page": {"en": "Page", "zh": "页面"}}, language="zh")
    tuner = sku_tuner(demo, translator=shared, forecast=app.forecast, sku="SN0001")
    assert shared.t("section_why") == "数字从何而来" and shared.t("page") == "页面"
    assert tuner.moq.description == "最小起订量" and "安全库存" in tuner.why_panel.value
    assert tuner.error_panel.value == ""
    pd.testing.assert_series_equal(tuner.policy_result, app.policy_result)


M5 = __import__("pathlib").Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "m5_tiny_real"


@pytest.mark.skipif(not (M5 / "sell_prices.csv").exists(), reason="needs ../shared/data/m5_tiny_real")
def test_the_m5_import_without_purchase_orders_opens_on_a_fixed_lead_time():
    from opslib.data.importers import from_m5

    ws = from_m5(M5)  # real sales and prices: no purchase orders, no stock, no item lead times
    page = sku_tuner(ws)
    assert page.error_panel.value == "", page.error_panel.value
    assert page.no_receipts and page.lead_time.value == "fixed" and not page.lead_time_days.disabled
    assert "no purchase orders to measure lead times from" in page.inputs_note.value
    # the policy is plan_policies' with the typed lead time, and follows the field
    for days in (7, 12):
        page.lead_time_days.value = days
        items = ws.items[ws.items["sku"] == page.sku.value].assign(lead_time_days=float(days))
        want = plan_policies(Workspace(items=items, demand=ws.demand), "fill_rate", 0.95, 7,
                             forecast=page.forecast).policies.iloc[0]
        assert page.policy_result["lead_time_mean_days"] == days
        assert page.policy_result["order_up_to"] == want["order_up_to"]
        assert page.policy_result["safety_stock"] == want["safety_stock"]
