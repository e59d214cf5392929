"""The Promotion simulator without a browser: set a control, read the numbers it shows, check them against the library.

The demo shop's ``pet`` category (24 SKUs, a few seconds to fit) is the subject; the fitted response is kept
on disk in a folder of this module (``OPSLIB_CACHE_DIR``), which one test checks is read back.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import inspect
import io
import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import opslib
from opslib import promo
from opslib.data import Workspace
from opslib.ui import promotion as ui_promotion
from opslib.ui.i18n import check_strings
from opslib.ui.promotion import (
    PROMOTION_STRINGS,
    PromotionSimulator,
    promotion_simulator,
)

CATEGORY = "pet"


@pytest.fixture(scope="module")
def cache_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("opslib-cache")
    before = os.environ.get("OPSLIB_CACHE_DIR")
    os.environ["OPSLIB_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("OPSLIB_CACHE_DIR", None)
    else:
        os.environ["OPSLIB_CACHE_DIR"] = before


@pytest.fixture(scope="module")
def demo():
    return opslib.load_demo()


@pytest.fixture(scope="module")
def app(demo, cache_folder) -> PromotionSimulator:
    return promotion_simulator(demo, category=CATEGORY, background=False)


def shown(panel_html: str) -> dict[str, str]:
    """The numbers a panel shows, by their ``opslib-promo-<name>`` class."""
    return dict(re.findall(r"class='opslib-promo-([a-z-]+)' style='[^']*'>([^<]*)<", panel_html))


def library(app: PromotionSimulator, demo: Workspace, plan: promo.PromotionPlan, refit: bool = False):
    """The same plan through the library, from the tables rebuilt by direct calls (the response fitted again
    with ``refit``, else read from the disk cache the app wrote)."""
    skus = list(plan.skus)
    fit = ui_promotion.fit_category_response if refit else ui_promotion.category_response
    response = fit(demo, CATEGORY)
    season = {"items": demo.items} if "items" in inspect.signature(promo.baseline_from_history).parameters else {}
    baseline = promo.baseline_from_history(demo.demand, skus, app.origin, app.horizon_end, **season)
    uncertainty = promo.baseline_uncertainty(demo.demand, skus, app.origin,
                                             app.origin + pd.Timedelta(days=plan.days - 1), **season)
    result = promo.simulate(plan, response, baseline, demo.items, draws=2000, seed=0,
                            baseline_uncertainty=uncertainty)
    return response, baseline, uncertainty, result


def test_strings_are_complete_and_both_rois_are_labelled():
    assert check_strings(PROMOTION_STRINGS) == []
    assert PROMOTION_STRINGS["card_profit_roi"]["en"].startswith("Profit ROI")
    assert "GMV ROI (投产比)" in PROMOTION_STRINGS["card_gmv_roi"]["en"]
    assert "投产比" in PROMOTION_STRINGS["card_gmv_roi"]["zh"]


def test_opens_on_the_best_seller_with_a_simulation(app, demo):
    assert app.error_panel.value == ""
    assert app.category.value == CATEGORY
    skus = sorted(demo.items.loc[demo.items["category"] == CATEGORY, "sku"])
    assert [v for _, v in app.skus.options] == skus
    units = demo.demand[demo.demand["sku"].isin(skus)].groupby("sku")["units"].sum()
    assert app.skus.value == (units.idxmax(),)
    assert app.origin == pd.Timestamp(demo.demand["date"].max()) + pd.Timedelta(days=1)
    assert isinstance(app.result, promo.SimulationResult) and app.result.plan == app.plan
    for fig in (app.lift_chart, app.waterfall_chart, app.roi_chart, app.tornado_chart):
        assert isinstance(fig, go.Figure)
    assert app.lift_view.figure and app.waterfall_view.figure and app.roi_view.figure and app.tornado_view.figure


def test_tables_and_numbers_equal_the_library_to_the_digit(app, demo):
    app.depth.value = 30.0
    app.funding_share.value = 20.0
    app.fixed_fees.value = 500.0
    plan = app.plan
    assert (plan.mechanic, plan.depth, plan.funding_share, plan.fixed_cost) == ("percent_off", 0.3, 0.2, 500.0)
    response, baseline, uncertainty, r = library(app, demo, plan, refit=True)
    pd.testing.assert_frame_equal(app.response.reset_index(drop=True), response)
    pd.testing.assert_frame_equal(app.baseline.reset_index(drop=True), baseline)
    pd.testing.assert_frame_equal(app.uncertainty.reset_index(drop=True), uncertainty)
    pd.testing.assert_frame_equal(app.result.draws, r.draws)
    pd.testing.assert_frame_equal(app.result.waterfall, r.waterfall)
    s = r.summary.set_index("metric")
    cards = shown(app.cards.value)
    assert cards["profit"] == f"{s.at['profit', 'p50']:,.0f}"
    assert cards["profit-roi"] == f"{s.at['profit_roi', 'p50']:.1%}"
    assert cards["gmv-roi"] == f"{s.at['gmv_roi', 'p50']:.2f}"
    assert cards["probability"] == f"{r.probability_profitable:.1%}"
    assert cards["units"] == f"{s.at['incremental_units', 'p50']:,.0f}"
    assert cards["spend"] == f"{s.at['spend', 'mean']:,.0f}"
    assert r.probability_profitable == np.mean(r.draws["profit_roi"] > 0)
    g = r.guardrails.iloc[0]
    guard = dict(re.findall(r"class='opslib-promo-([a-z-]+)'>([^<]*)<", app.guardrail_panel.value))
    be = promo.breakeven_lift(g["margin_rate"], 0.3, 0.2, g["non_incremental_share"])
    assert guard["breakeven-lift"] == (f"{be:.1%}" if np.isfinite(be) else "never")
    assert guard["max-depth"] == f"{promo.max_profitable_depth(g['margin_rate'], 0.2, g['non_incremental_share']):.1%}"
    per_sku = r.skus.iloc[0]
    assert guard["expected-lift"] == f"{per_sku['incremental_units_p50'] / per_sku['baseline_units']:.1%}"


def test_waterfall_sums_to_the_total_and_charts_carry_the_draws(app):
    r = app.result
    trace = app.waterfall_chart.data[0]
    y = np.asarray(trace.y, float)
    assert trace.measure[0] == "absolute" and trace.measure[-1] == "total"
    assert set(trace.measure[1:-1]) == {"relative"}
    total = r.waterfall.set_index("component").at["incremental_profit", "mean"]
    assert np.isclose(y[1:-1].sum(), total, rtol=1e-12, atol=1e-6)
    assert np.isclose(y[0] + y[1:-1].sum(), y[-1], rtol=1e-12, atol=1e-6)
    # lift fan: the window's baseline per day times the draws' lift quantiles
    ratio = (r.draws["promo_units"] / r.draws["baseline_units"]).to_numpy()
    p10, p50, p90 = np.percentile(ratio, [10, 50, 90])
    days = pd.date_range(r.plan.start, r.plan.end)
    base = app.baseline.set_index("date").loc[days, "baseline_units"].to_numpy()
    fan = app.lift_chart.data
    assert list(fan[3].x) == [f"{d:%Y-%m-%d}" for d in days]
    np.testing.assert_array_equal(fan[1].y, base * p10)
    np.testing.assert_array_equal(fan[3].y, base * p50)
    np.testing.assert_array_equal(fan[2].y, base * p90)
    # ROI histograms hold every draw with spend; the tornado's bars run from profit_low to profit_high
    roi = app.roi_chart.data
    assert sum(roi[0].y) == np.isfinite(r.draws["profit_roi"]).sum() == len(r.draws)
    assert sum(roi[1].y) == np.isfinite(r.draws["gmv_roi"]).sum()
    top = r.tornado.head(10)
    bars = app.tornado_chart.data[0]
    np.testing.assert_array_equal(bars.base, top["profit_low"].to_numpy())
    np.testing.assert_allclose(np.asarray(bars.base) + np.asarray(bars.x), top["profit_high"].to_numpy(), rtol=1e-12)


def test_stock_check_equals_the_library_on_the_whole_workspace(app, demo):
    want = promo.stock_check(app.result, demo, as_of=demo.stock["date"].max(), simulator=app.simulator,
                             baseline=app.baseline)
    pd.testing.assert_frame_equal(app.stock, want)
    cards = shown(app.stock_panel.value)
    assert cards["stockout-probability"] == f"{want['stockout_probability'].max():.1%}"
    ordered = want["order_quantity"].sum()
    assert cards["order-quantity"] == (f"{ordered:,.0f} units" if ordered > 0 else "no order needed")


def test_a_control_change_updates_the_view_quickly(app):
    app.depth.value = 25.0
    app.depth.value = 20.0
    assert app.plan.depth == 0.2 and app.result.plan.depth == 0.2
    # the budget is 300 ms on an idle machine; the test machine is shared, so only a gross regression fails
    assert app.timings["view"] < 1.5, app.timings


def test_mechanics_show_their_controls_and_build_their_plans(app, demo):
    app.mechanic.value = "flash_sale"
    assert app.flash_cap.layout.display is None and app.tiers.layout.display == "none"
    app.flash_cap.value = 40.0
    assert app.plan.stock_cap == 40.0 and app.result.plan.stock_cap == 40.0
    assert "flash-cap" in shown(app.stock_panel.value)
    app.mechanic.value = "threshold"
    assert app.tiers.layout.display is None and app.flash_cap.layout.display == "none"
    app.tiers.value = "99:10|199:30"
    assert app.plan.tiers == promo.parse_tiers("99:10|199:30")
    app.mechanic.value = "coupon"
    app.coupon_face.value, app.coupon_threshold.value, app.coupon_redemption.value = 10.0, 99.0, 40.0
    assert (app.plan.reward, app.plan.threshold, app.plan.coupon_redemption) == (10.0, 99.0, 0.4)
    app.mechanic.value = "second_half_price"
    assert app.depth.value == 50.0
    depths = promo.realized_depths(demo.order_lines, demo.promotions, demo.items)
    want = depths.loc[depths["mechanic"] == "second_half_price", "realized_depth"].iloc[0]
    assert app.plan.unit_discount == want and "Discount per unit sold" in app.multi_unit_note.value
    assert app.error_panel.value == ""
    app.mechanic.value = "percent_off"
    app.depth.value = 20.0
    assert app.multi_unit_note.value == ""


def test_bad_inputs_are_refused_in_words_and_the_page_goes_on(app):
    app.depth.value = 120.0
    assert "Depth must be between 0% and 100%; you entered 120%." in app.error_panel.value
    assert "Could not read the plan" in app.error_panel.value
    assert app.result is None and app.cards.value == ""
    app.depth.value = 20.0
    assert app.error_panel.value == "" and app.result is not None
    start = app.start.value
    app.end.value = start - dt.timedelta(days=2)
    assert (f"The end date ({start - dt.timedelta(days=2):%Y-%m-%d}) is before the start date ({start:%Y-%m-%d})"
            in app.error_panel.value)
    app.end.value = start + dt.timedelta(days=6)
    assert app.error_panel.value == ""
    app.start.value = (app.origin - pd.Timedelta(days=30)).date()
    assert "the day after the last data" in app.error_panel.value
    app.start.value = start
    app.fixed_fees.value = -5.0
    assert "Fixed fees must be 0 or more; you entered -5." in app.error_panel.value
    app.fixed_fees.value = 0.0
    assert app.error_panel.value == "" and app.result.plan.depth == 0.2


def test_kept_scenarios_compare_equal_to_compare_and_export(app, demo):
    assert app.scenarios == [] and "No scenario kept yet" in app.scenario_note.value
    app.depth.value = 20.0
    app.keep_scenario()
    app.depth.value = 10.0
    app.keep_scenario()
    app.mechanic.value = "second_half_price"
    app.keep_scenario()
    plans = [s.plan for s in app.scenarios]
    assert [p.name.split()[0] for p in plans] == ["S1", "S2", "S3"]
    skus = list(plans[0].skus)
    response, baseline, uncertainty, _ = library(app, demo, plans[0])
    want = promo.compare(plans, response, baseline, demo.items, draws=2000, seed=0,
                         baseline_uncertainty=uncertainty, tornado=False)
    pd.testing.assert_frame_equal(app.comparison.table, want.table)
    assert set(skus) == set(app.simulator_tables(skus, plans[0].days)["baseline"]["sku"])
    assert "opslib-promo-comparison" in app.comparison_table.value
    assert list(app.comparison_chart.data[0].y) == want.table["profit_p50"].tolist()
    assert len(app.scenario_list.children) == 3

    frame = app.comparison_frame()
    back = pd.read_csv(io.BytesIO(app.comparison_csv()))
    assert list(back.columns) == list(frame.columns) and len(back) == 3
    np.testing.assert_allclose(back["profit_p50"], want.table["profit_p50"], rtol=1e-12)
    assert back["plan"].tolist() == want.table["plan"].tolist()
    excel = pd.read_excel(io.BytesIO(app.comparison_excel()), sheet_name="scenarios")
    np.testing.assert_allclose(excel["profit_p50"], want.table["profit_p50"], rtol=1e-12)
    links = dict(re.findall(r"class='opslib-promo-(export-[a-z]+)' download='[^']+' href='data:[^;]+;base64,([^']+)'",
                            app.export_links.value))
    assert base64.b64decode(links["export-csv"]) == app.comparison_csv()
    assert base64.b64decode(links["export-excel"])[:2] == b"PK"

    app.keep_scenario()
    app.keep_scenario()  # a fifth: refused in words
    assert len(app.scenarios) == 4 and "Four scenarios are kept already" in app.error_panel.value
    app.remove_scenario(1)
    assert [s.plan.name.split()[0] for s in app.scenarios] == ["S1", "S3", "S4"]
    assert len(app.comparison.table) == 3 and "scenarios" not in app._errors
    button = app.scenario_list.children[0].children[0]
    button.click()
    assert [s.plan.name.split()[0] for s in app.scenarios] == ["S3", "S4"]
    while app.scenarios:
        app.remove_scenario(0)
    assert app.comparison is None and app.export_links.value == ""
    app.mechanic.value = "percent_off"
    app.depth.value = 20.0


def test_language_switch_relabels_controls_cards_and_charts(app):
    value = shown(app.cards.value)["profit"]
    app.tr.set_language("zh")
    try:
        assert app.depth.description == "折扣力度 [%]"
        assert ("限时秒杀", "flash_sale") in app.mechanic.options and app.mechanic.value == "percent_off"
        assert "增量利润 P50" in app.cards.value and shown(app.cards.value)["profit"] == value
        assert "GMV ROI（投产比）P50" in app.cards.value
        assert app.waterfall_chart.layout.title.text == PROMOTION_STRINGS["chart_waterfall"]["zh"]
        app.depth.value = 150.0
        assert "折扣力度必须在 0% 到 100% 之间；您输入的是 150%。" in app.error_panel.value
        assert "出错了" in app.error_panel.value
        app.depth.value = 20.0
    finally:
        app.tr.set_language("en")
    assert app.depth.description == "Depth [%]" and "Incremental profit, P50" in app.cards.value


def test_the_response_is_read_back_from_disk(demo, cache_folder, monkeypatch):
    assert list(cache_folder.glob("promotion-*.pkl"))

    def refuse(*args, **kwargs):
        raise AssertionError("fitted again instead of reading the kept response")

    monkeypatch.setattr(ui_promotion, "fit_category_response", refuse)
    t0 = time.perf_counter()
    again = promotion_simulator(demo, category=CATEGORY, background=True)
    assert again.error_panel.value == "" and again.result is not None and again.status.value == ""
    assert time.perf_counter() - t0 < 30


def test_a_category_without_a_kept_fit_is_fitted_in_the_background(demo, cache_folder, monkeypatch, app):
    fitted = ui_promotion.category_response(demo, CATEGORY)
    release = threading.Event()

    def slow_fit(ws, category):
        release.wait(10)
        return fitted

    monkeypatch.setattr(ui_promotion, "fit_category_response", slow_fit)
    monkeypatch.setattr(ui_promotion, "_response_options", lambda category: ("promotion-response-test", category))
    page = promotion_simulator(demo, category=CATEGORY, background=True)
    assert "Learning the demand response of pet" in page.status.value and page.result is None
    release.set()
    for _ in range(200):
        if page.result is not None:
            break
        time.sleep(0.05)
    assert page.result is not None and page.status.value == "" and page.error_panel.value == ""


def test_an_empty_workspace_says_so():
    page = PromotionSimulator(Workspace(name="empty"))
    assert "nothing to learn from: no items, demand" in page.error_panel.value
    assert page.result is None


def test_without_a_promotions_table_the_response_learns_from_the_price_cuts(demo, cache_folder):
    bare = dataclasses.replace(demo, promotions=None, path=None)  # no folder: nothing kept on disk
    page = promotion_simulator(bare, category=CATEGORY, background=False)
    assert page.error_panel.value == "" and page.result is not None
    inferred = promo.infer_promotions(demo.demand, demo.items)
    pd.testing.assert_frame_equal(page.ws.promotions, inferred.promotions)
    own = inferred.promotions["scope"].str.startswith("sku:")
    note = html.unescape(page.intro.value)
    assert (f"This data has no promotions table, so the response learns from the past price cuts found in the "
            f"daily prices: {own.sum()} on {inferred.promotions.loc[own, 'scope'].nunique()} SKUs, "
            f"{(inferred.promotions['scope'] == 'all').sum()} shop-wide and "
            f"{inferred.promotions['scope'].str.startswith('category:').sum()} category-wide") in note
    # the page's response is the library's fit on the inferred rows, pooled
    skus = sorted(demo.items.loc[demo.items["category"] == CATEGORY, "sku"])
    history = demo.demand[demo.demand["sku"].isin(skus)]
    fit = promo.fit_own_price_response(history, inferred.promotions, demo.items, demo.calendar, skus=skus,
                                       order_lines=demo.order_lines)
    pooled = promo.pool_elasticities(fit.estimates).estimates.set_index("sku")
    got = page.response.set_index("sku")
    assert np.allclose(got.loc[skus, "elasticity"], pooled.loc[skus, "elasticity"], rtol=0, atol=1e-12)
    assert (got.loc[skus, "elasticity_source"] == pooled.loc[skus, "source"]).all()
    page.tr.set_language("zh")
    try:
        assert "当前数据没有促销表" in page.intro.value
    finally:
        page.tr.set_language("en")


M5 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "m5_tiny_real"


@pytest.mark.skipif(not (M5 / "sell_prices.csv").exists(), reason="needs ../shared/data/m5_tiny_real")
def test_the_m5_import_opens_with_its_price_cuts_and_the_labelled_prior(cache_folder):
    from opslib.data.importers import from_m5

    ws = from_m5(M5)  # real data: weekly shelf prices, no promotions table, three price cuts
    page = promotion_simulator(ws, background=False)
    assert page.error_panel.value == "" and page.result is not None
    assert "3 on 3 SKUs, 0 shop-wide and 0 category-wide" in html.unescape(page.intro.value)
    # too few cuts to learn an elasticity: the literature prior, said on the page, its spread in the draws
    prior = promo.BIJMOLT_2005_PRIOR
    chosen = page.response.set_index("sku").loc[list(page.plan.skus)]
    assert np.allclose(chosen["elasticity"], prior.mean) and np.allclose(chosen["elasticity_se"], prior.sd)
    note = html.unescape(page.response_note.value)
    assert f"No elasticity could be learned for 1 of these SKUs ({page.plan.skus[0]})" in note
    assert "Bijmolt, van Heerde & Pieters (2005)" in note and "-2.62 with a standard error of 1.00" in note
    assert "No elasticity could be learned for 1 of these SKUs" in html.unescape(page.make_snapshot())


def test_the_whole_category_is_one_plan_with_a_guardrail_and_stock_row_per_sku(app, demo):
    app.whole_category.value = True
    try:
        skus = tuple(sorted(demo.items.loc[demo.items["category"] == CATEGORY, "sku"]))
        assert app.skus.disabled and app.plan.skus == skus and app.error_panel.value == ""
        assert list(app.result.guardrails["sku"]) == list(skus) and list(app.stock["sku"]) == list(skus)
        assert app.guardrail_panel.value.count("<tr") == len(skus) + 1
        want = promo.stock_check(app.result, demo, as_of=demo.stock["date"].max(), simulator=app.simulator,
                                 baseline=app.baseline)
        pd.testing.assert_frame_equal(app.stock, want)
    finally:
        app.whole_category.value = False
    assert len(app.plan.skus) == 1


def test_a_shared_translator_gets_the_app_words(demo, cache_folder):
    from opslib.ui.i18n import Translator

    shared = Translator({"page_title": {"en": "Planner", "zh": "计划"}}, language="zh")
    page = promotion_simulator(demo, translator=shared, category=CATEGORY, background=False)
    assert page.tr is shared and shared.t("page_title") == "计划"
    assert page.keep_button.description == "保存方案" and "利润 ROI P50" in page.cards.value


def test_snapshot_holds_the_cards_charts_and_kept_scenarios(app):
    sim = app
    import base64
    import re

    page = sim.make_snapshot()
    match = re.search(r"href='data:text/html;base64,([^']+)'", sim.snapshot_link.value)
    assert match and base64.b64decode(match.group(1)).decode("utf-8") == page
    assert sim.cards.value in page and sim.guardrail_panel.value in page
    assert "Promotion plan: " in page and str(sim.start.value) in page
    assert page.count("<script") - page.count("Plotly.newPlot") <= 2  # plotly.js inlined once, not per chart
    for chart in (sim.lift_chart, sim.waterfall_chart, sim.roi_chart, sim.tornado_chart):
        assert f'"type":"{chart.data[0].type}"' in page


# --------------------------------------------------------------------------- saved for colleagues


@pytest.fixture(scope="module")
def shop_folder(tmp_path_factory, demo):
    """A copy of the demo data folder (never data/demo itself) and the demo tables pointing at it."""
    import shutil

    folder = tmp_path_factory.mktemp("shop") / "demo"
    shutil.copytree(demo.path, folder, ignore=shutil.ignore_patterns("promotion_scenarios", "ground_truth"))
    return dataclasses.replace(demo, path=folder)


@pytest.fixture
def shop(shop_folder, cache_folder):
    """The copied shop with no saved scenario (each test starts clean)."""
    import shutil

    from opslib.promo_scenarios import SCENARIOS_FOLDER

    shutil.rmtree(shop_folder.path / SCENARIOS_FOLDER, ignore_errors=True)
    yield shop_folder
    shutil.rmtree(shop_folder.path / SCENARIOS_FOLDER, ignore_errors=True)
    from opslib.data.io import demo_folder

    assert not (demo_folder() / SCENARIOS_FOLDER).exists()  # the tests never write into data/demo


def _errors(page: PromotionSimulator) -> str:
    return html.unescape(page.error_panel.value)


def _saved_rows(page: PromotionSimulator) -> list[str]:
    return [html.unescape(row.children[-1].value) for row in page.saved_list.children if hasattr(row, "children")]


def _button(page: PromotionSimulator, name: str, css: str):
    for row in page.saved_list.children:
        if hasattr(row, "children") and f">{name}</b>" in row.children[-1].value:
            return next(b for b in row.children if css in getattr(b, "_dom_classes", ()))
    raise AssertionError(f"no row for {name!r}")


def test_saved_scenarios_reopen_for_a_colleague_with_the_same_numbers(shop, monkeypatch):
    from opslib import promo_scenarios
    from opslib.promo_scenarios import load_scenarios, scenarios_log

    monkeypatch.setattr(promo_scenarios, "current_user", lambda: "ann")
    page = promotion_simulator(shop, category=CATEGORY, background=False)
    assert page.error_panel.value == "" and "No scenario saved for colleagues yet" in page.saved_list.children[0].value
    assert "promotion_scenarios" in page.saved_note.value and not page.save_button.disabled
    key_before = ui_promotion._cache_file(shop, ui_promotion._response_options(CATEGORY))

    page.depth.value = 25.0
    page.funding_share.value = 10.0
    page.fixed_fees.value = 300.0
    page.keep_scenario()
    page.scenario_name.value = "pet 25% off"
    first = page.save_scenario()
    assert first.name == "pet 25% off" and page.scenario_name.value == "" and page.error_panel.value == ""
    page.mechanic.value = "second_half_price"  # a multi-unit offer: its realized unit discount is saved too
    page.keep_scenario()
    second = page.save_scenario("pet half price")
    kept = page.comparison.table
    assert [s.plan for s in page.scenarios] == [
        dataclasses.replace(first.plan, name=page.scenarios[0].plan.name),
        dataclasses.replace(second.plan, name=page.scenarios[1].plan.name)]
    assert second.plan.unit_discount == page.scenarios[1].plan.unit_discount
    assert [r.split("</b>")[0].split(">")[-1] for r in _saved_rows(page)] == ["pet 25% off", "pet half price"]
    assert "saved by ann" in _saved_rows(page)[0]
    # saving does not touch the folder's files: the fitted response and the workspace stay cached
    assert ui_promotion._cache_file(shop, ui_promotion._response_options(CATEGORY)) == key_before

    colleague = promotion_simulator(shop, category=CATEGORY, background=False)
    assert colleague.saved.names() == ["pet 25% off", "pet half price"] and colleague.scenarios == []
    _button(colleague, "pet 25% off", "opslib-promo-saved-compare").click()
    _button(colleague, "pet half price", "opslib-promo-saved-compare").click()
    assert colleague.error_panel.value == "" and colleague.saved_notice.value == ""
    assert [s.plan.name for s in colleague.scenarios] == ["pet 25% off", "pet half price"]
    got = colleague.comparison.table
    assert got["plan"].tolist() == ["pet 25% off", "pet half price"]
    pd.testing.assert_frame_equal(got.drop(columns="plan"), kept.drop(columns="plan"))  # to the last bit
    assert colleague.comparison_frame().drop(columns="plan").equals(page.comparison_frame().drop(columns="plan"))
    # and each alone simulates as the page simulated it when saved
    sim = colleague.simulator_for(first.plan.skus, first.plan.days)
    pd.testing.assert_frame_equal(sim.simulate(first.plan).draws, page.simulator_for(
        page.scenarios[0].plan.skus, page.scenarios[0].plan.days).simulate(page.scenarios[0].plan).draws)

    _button(colleague, "pet 25% off", "opslib-promo-saved-compare").click()  # twice: refused in words
    assert "“pet 25% off” is in the comparison already." in _errors(colleague)
    log = scenarios_log(shop.path)
    assert log[["changed_by", "action", "name"]].values.tolist() == [
        ["ann", "saved", "pet 25% off"], ["ann", "saved", "pet half price"]]
    assert (pd.Timestamp.now(tz="UTC") - log["changed_at"]).max() < pd.Timedelta(minutes=10)
    assert load_scenarios(shop.path, items=shop.items).get("pet half price").data_through == page.data_through


def test_a_saved_scenario_is_deleted_for_everyone_and_a_name_is_saved_once(shop):
    from opslib.promo_scenarios import scenarios_log

    page = promotion_simulator(shop, category=CATEGORY, background=False)
    page.save_scenario("to go")
    page.save_scenario("to go")
    assert "a scenario named 'to go' is saved already" in _errors(page)
    assert "Could not save the scenario for colleagues" in _errors(page)
    page.compare_saved("to go")
    _button(page, "to go", "opslib-promo-saved-delete").click()
    assert page.saved.names() == [] and "No scenario saved" in page.saved_list.children[0].value
    assert [s.plan.name for s in page.scenarios] == ["to go"]  # the copy in the comparison stays
    assert page.error_panel.value == ""  # the earlier refusal is no longer shown
    assert scenarios_log(shop.path)["action"].tolist() == ["saved", "deleted"]
    assert promotion_simulator(shop, category=CATEGORY, background=False).saved.names() == []
    page.delete_saved("to go")  # gone already: said in words
    assert "no saved scenario is called 'to go'" in _errors(page)


def test_a_whole_category_scenario_keeps_its_skus(shop, demo):
    page = promotion_simulator(shop, category=CATEGORY, background=False)
    page.whole_category.value = True
    saved = page.save_scenario("whole pet")
    skus = tuple(sorted(demo.items.loc[demo.items["category"] == CATEGORY, "sku"]))
    assert saved.whole_category and saved.category == CATEGORY and saved.plan.skus == skus
    assert "Whole category pet" in _saved_rows(page)[0]


def test_a_broken_file_or_an_unusable_scenario_is_said_on_the_page(shop):
    from opslib.promo_scenarios import SCENARIOS_FILE, SCENARIOS_FOLDER, save_scenario

    page = promotion_simulator(shop, category=CATEGORY, background=False)
    good = page.save_scenario("good")
    save_scenario(shop.path, "gone sku", promo.PromotionPlan(skus=("NOPE1",), start=good.plan.start,
                                                             end=good.plan.end, depth=0.2), category=CATEGORY)
    save_scenario(shop.path, "last year", dataclasses.replace(good.plan, start=page.origin - pd.Timedelta(days=30),
                                                              end=page.origin - pd.Timedelta(days=25)),
                  category=CATEGORY, draws=500, seed=3, data_through="2020-01-31")
    page.reload_saved()
    assert page.saved.names() == ["good", "last year"] and page.error_panel.value == ""
    problem = [r for r in _saved_rows(page) if "opslib-promo-saved-problem" in r]
    assert len(problem) == 1 and "gone sku" in problem[0] and "cannot be used" in problem[0]
    assert "SKU(s) NOPE1 are not in the items table" in problem[0] and "Fix:" in problem[0]
    page.compare_saved("gone sku")
    assert "Could not compare the saved scenario" in _errors(page) and "NOPE1" in _errors(page)
    page.compare_saved("last year")
    assert "outside the planning window" in _errors(page) and page.scenarios == []
    _button(page, "gone sku", "opslib-promo-saved-delete").click()
    assert "gone sku" not in " ".join(_saved_rows(page))

    file = shop.path / SCENARIOS_FOLDER / SCENARIOS_FILE
    file.write_text("{ this is not json", encoding="utf-8")
    broken = promotion_simulator(shop, category=CATEGORY, background=False)
    assert "Could not read the saved scenarios" in _errors(broken)
    assert "not a readable scenarios file" in _errors(broken) and "Fix:" in _errors(broken)
    assert broken.result is not None and broken.saved.names() == []  # the page itself works
    assert broken.save_scenario("over it") is None and "not a readable scenarios file" in _errors(broken)
    assert file.read_text(encoding="utf-8") == "{ this is not json"  # never written over
    broken.tr.set_language("zh")
    try:
        assert "无法读取共享方案" in _errors(broken) and broken.save_button.description == "保存给同事"
    finally:
        broken.tr.set_language("en")


def test_saved_scenario_notes_when_draws_or_data_differ(shop):
    from opslib.promo_scenarios import save_scenario

    page = promotion_simulator(shop, category=CATEGORY, background=False)
    save_scenario(shop.path, "other draws", page.plan, category=CATEGORY, draws=500, seed=3,
                  data_through=page.data_through - pd.Timedelta(days=7))
    page.reload_saved()
    page.compare_saved("other draws")
    assert page.error_panel.value == "" and len(page.scenarios) == 1
    assert "saved with 500 draws and seed 3" in html.unescape(page.saved_notice.value)
    assert "recomputed on the current data" in html.unescape(page.saved_notice.value)


# every mechanic with terms none of the controls shows by default: (mechanic, {control: value})
OPEN_CASES = [
    ("percent_off", {"depth": 35.0}),
    ("threshold", {"tiers": "149:15|299:40.5"}),
    ("repeating_threshold", {"threshold": 150.0, "reward": 15.0}),
    ("item_count", {"tiers": "2:0.1|3:0.25"}),
    ("flash_sale", {"depth": 45.0, "flash_cap": 30.0}),
    ("second_half_price", {"depth": 50.0}),
    ("bogo", {}),
    ("gift", {"threshold": 120.0, "gift_cost": 12.5}),
    ("coupon", {"coupon_face": 15.0, "coupon_threshold": 129.0, "coupon_redemption": 35.0}),
    ("points", {"depth": 7.0, "points_breakage": 29.0}),  # 0.07 * 100 is 7.000000000000001
]


def test_a_saved_scenario_opens_in_the_controls_for_every_mechanic(shop):
    page = promotion_simulator(shop, category=CATEGORY, background=False)
    options = [s for _, s in page.skus.options]
    saved, numbers = {}, {}
    for k, (mechanic, terms) in enumerate(OPEN_CASES):
        page.mechanic.value = mechanic
        for control, value in terms.items():
            getattr(page, control).value = value
        page.skus.value = tuple(options[k:k + 2])
        page.start.value = (page.origin + pd.Timedelta(days=10 + k)).date()
        page.end.value = (page.origin + pd.Timedelta(days=16 + 2 * k)).date()
        page.funding_share.value, page.fixed_fees.value = 12.5, 250.0 + k
        assert page.error_panel.value == "", mechanic
        saved[mechanic] = page.save_scenario(f"open {mechanic}")
        numbers[mechanic] = page.numbers()
    page.whole_category.value = True
    saved["whole"] = page.save_scenario("open whole")
    numbers["whole"] = page.numbers()

    # a colleague's page opens on another category with the default controls
    colleague = promotion_simulator(shop, category="stationery", background=False)
    for key, scenario in saved.items():
        _button(colleague, scenario.name, "opslib-promo-saved-open").click()
        assert colleague.error_panel.value == "", key
        assert colleague.category.value == CATEGORY and colleague.mechanic.value == scenario.plan.mechanic
        # the controls make the saved plan, term for term, and the page simulated it as the saver's did
        unnamed = dataclasses.replace(scenario.plan, name="")
        assert colleague.plan == unnamed, key
        assert colleague.result.plan == unnamed and colleague.numbers() == numbers[key], key
        assert colleague.scenarios == []  # opening is not comparing
        notice = html.unescape(colleague.saved_notice.value)
        assert f"“{scenario.name}” is in the controls above" in notice and "differ" not in notice
        shown = {name for name, c in colleague._mechanic_controls.items() if c.layout.display is None}
        assert shown == set(ui_promotion._CONTROLS[scenario.plan.mechanic]), key
    assert colleague.whole_category.value and colleague.skus.disabled
    assert colleague.plan.skus == tuple(s for _, s in colleague.skus.options)
    # changed after opening, it is a new plan, saved under a new name
    colleague.depth.value = 22.0
    assert colleague.plan.depth == 0.22 and colleague.plan.skus == saved["whole"].plan.skus
    assert colleague.save_scenario("whole 22").plan == dataclasses.replace(colleague.plan, name="whole 22")
    _button(colleague, "open percent_off", "opslib-promo-saved-open").click()
    assert not colleague.whole_category.value and not colleague.skus.disabled
    assert colleague.plan == dataclasses.replace(saved["percent_off"].plan, name="")


def test_what_cannot_be_opened_is_refused_or_named_in_words(shop, demo):
    from opslib.promo_scenarios import save_scenario

    page = promotion_simulator(shop, category=CATEGORY, background=False)
    before = page.plan
    pet = tuple(demo.items.loc[demo.items["category"] == CATEGORY, "sku"])[:1]
    snack = tuple(demo.items.loc[demo.items["category"] == "snacks", "sku"])[:1]
    window = {"start": page.origin + pd.Timedelta(days=3), "end": page.origin + pd.Timedelta(days=9)}
    save_scenario(shop.path, "two categories", promo.PromotionPlan(skus=pet + snack, depth=0.2, **window))
    save_scenario(shop.path, "last year", dataclasses.replace(
        before, start=page.origin - pd.Timedelta(days=30), end=page.origin - pd.Timedelta(days=25)),
        category=CATEGORY)
    save_scenario(shop.path, "flash price", promo.PromotionPlan(skus=pet, mechanic="flash_sale", flash_price=9.9,
                                                                **window), category=CATEGORY)
    page.reload_saved()
    page.open_saved("two categories")
    assert "promotes SKUs of several categories (pet, snacks)" in _errors(page)
    assert "Could not open the saved scenario" in _errors(page) and page.plan == before
    page.open_saved("last year")
    assert "outside the planning window" in _errors(page) and page.plan == before
    page.open_saved("nobody saved this")
    assert "no saved scenario is called 'nobody saved this'" in _errors(page)
    page.open_saved("flash price")  # the controls take a depth, not a price: opened, and the difference said
    assert page.error_panel.value == "" and page.plan.mechanic == "flash_sale" and page.plan.skus == pet
    notice = html.unescape(page.saved_notice.value)
    assert "cannot hold every term of “flash price”: depth, flash_price differ" in notice
    page.tr.set_language("zh")
    try:
        page.open_saved("two categories")
        assert "多个品类" in _errors(page) and "打开共享方案" in _errors(page)
    finally:
        page.tr.set_language("en")


def test_a_workspace_without_folder_keeps_scenarios_on_the_page_only(demo, cache_folder, monkeypatch):
    import dataclasses

    fitted = ui_promotion.category_response(demo, CATEGORY)  # without a folder nothing is kept on disk
    monkeypatch.setattr(ui_promotion, "category_response", lambda ws, category: fitted)
    page = promotion_simulator(dataclasses.replace(demo, path=None), category=CATEGORY, background=False)
    assert page.save_button.disabled and "no folder" in page.saved_note.value
    assert page.save_scenario("x") is None and "no folder" in _errors(page)


def test_a_page_built_ahead_lists_what_colleagues_saved_when_shown(shop):
    from opslib.promo_scenarios import save_scenario

    page = promotion_simulator(shop, category=CATEGORY, background=False)  # built on a preheated kernel
    assert page.saved.names() == []
    save_scenario(shop.path, "from a colleague", page.plan, category=CATEGORY, user="bo")
    bundle = page._repr_mimebundle_()  # the visitor arrives: the page is displayed
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert page.saved.names() == ["from a colleague"] and "saved by bo" in _saved_rows(page)[0]
    save_scenario(shop.path, "another", page.plan, category=CATEGORY, user="bo")
    page.keep_scenario()  # any scenario action lists them again too
    assert page.saved.names() == ["from a colleague", "another"]
