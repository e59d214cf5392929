"""The Replenishment tuner page: two tabs over one workspace, one language switch, snapshots."""

from __future__ import annotations

import base64
import dataclasses
import re

import pandas as pd
import pytest

import opslib
from opslib.ui.replenishment_app import STRINGS, replenishment_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    ws = opslib.load_demo()
    part = dataclasses.replace(ws, items=ws.items.iloc[::15].reset_index(drop=True),
                               path=tmp_path_factory.mktemp("demo_part"))
    return replenishment_app(part, currency="CNY")


def _link_bytes(html_text: str) -> bytes:
    match = re.search(r"href='data:text/html;base64,([^']+)'", html_text)
    assert match, html_text[:200]
    return base64.b64decode(match.group(1))


def test_opens_on_the_tuner_and_computes_the_portfolio_when_its_tab_opens(app):
    assert app.tabs.selected_index == 0
    assert app.tuner.policy_result is not None and app.tuner.error_panel.value == ""
    assert app.portfolio.plan is None  # not computed at opening: it takes seconds
    app.tabs.selected_index = 1
    assert app.portfolio.plan is not None and app.portfolio.error_panel.value == ""
    # the portfolio's plan and the tuner's forecast are the same engine calls on the same workspace
    sku = app.tuner.sku.value
    plan_row = app.portfolio.plan.policies.set_index("sku").loc[sku]
    assert plan_row["order_up_to"] == pytest.approx(app.tuner.policy_result["order_up_to"], rel=1e-12)
    assert plan_row["fill_rate"] == pytest.approx(app.tuner.policy_result["fill_rate"], rel=1e-12)
    # the plan took the tuner's forecast instead of forecasting again, and is the plan made from scratch
    assert app.portfolio.plan.forecast is app.tuner.forecast
    from opslib.plan import replenishment_plan

    fresh = replenishment_plan(app.ws)
    assert fresh.forecast is not app.tuner.forecast
    cols = ["sku", "order_up_to", "reorder_point", "fill_rate", "cycle_service_level"]
    pd.testing.assert_frame_equal(app.portfolio.plan.policies[cols].reset_index(drop=True),
                                  fresh.policies[cols].reset_index(drop=True))
    pd.testing.assert_frame_equal(app.portfolio.plan.orders.orders.reset_index(drop=True),
                                  fresh.orders.orders.reset_index(drop=True))
    app.tabs.selected_index = 0


def test_one_language_switch_relabels_both_tabs(app):
    assert [label for label, _ in app.tuner.language.options] == ["English", "简体中文"]
    app.language.value = "zh"
    try:
        assert app.tabs.get_title(0) == STRINGS["tab_sku"]["zh"]
        assert app.tabs.get_title(1) == STRINGS["tab_portfolio"]["zh"]
        assert app.tuner.language.value == "zh" and app.portfolio.language.value == "zh"
        assert "补货参数调优" in app.title.value
        assert app.portfolio.recompute_button.description == "重新计算"
    finally:
        app.language.value = "en"
    assert app.tabs.get_title(0) == "One SKU"


def test_snapshot_of_each_tab_opens_offline_with_its_numbers(app):
    app.tabs.selected_index = 0
    page = app.make_snapshot()
    assert _link_bytes(app.snapshot_link.value).decode("utf-8") == page
    assert page.count("<script type=\"text/javascript\">/**\n* plotly.js") <= 1
    order_up_to = app.tuner.policy_result["order_up_to"]
    assert f"data-value='{float(order_up_to)!r}'" in page  # the policy panel as shown
    assert "Replenishment policy of " + str(app.tuner.sku.value) in page
    app.tabs.selected_index = 1
    page = app.make_snapshot()
    orders = app.portfolio.plan.orders.orders
    for sku in orders["sku"].head(3):
        assert f">{sku}<" in page
    app.tabs.selected_index = 0


def test_curves_prepared_ahead_are_the_curves_of_the_recompute(tmp_path):
    """A preheated page computes the portfolio's curves before its visitor (prepare_ahead): the same frame."""
    from opslib import inventory as inv

    ws = opslib.load_demo()
    part = dataclasses.replace(ws, items=ws.items.iloc[::25].reset_index(drop=True), path=tmp_path)
    app = replenishment_app(part, currency="CNY")
    review = int(app.portfolio.review_period.value)
    assert review not in app.portfolio._curve_cache
    app.prepare_ahead()
    ahead = app.portfolio._curve_cache[review]
    # on the tuner's forecast, the plan's: no second forecast
    pd.testing.assert_frame_equal(ahead, inv.service_investment_curves(app.portfolio.ws, review,
                                                                       forecast=app.tuner.forecast))
    assert app.portfolio._forecast is app.tuner.forecast
    app.tabs.selected_index = 1  # the recompute takes them instead of computing them again
    assert app.portfolio._curves is ahead and app.portfolio.plan is not None
    assert app.portfolio.error_panel.value == ""
