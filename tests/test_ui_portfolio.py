"""The portfolio view (opslib.ui.portfolio): every number shown equals the library call, without a browser."""

import dataclasses
import io
import re

import numpy as np
import pandas as pd
import pytest
from conftest import small_tables

import opslib
from opslib import inventory as inv
from opslib.data import Workspace
from opslib.data.demand import daily_demand
from opslib.plan import plan_sheets, plan_workbook, replenishment_plan
from opslib.plan_settings import load_settings, settings_log
from opslib.ui.i18n import COMMON, Translator, check_strings
from opslib.ui.portfolio import (
    MAX_CURVE_POINTS,
    STRINGS,
    PortfolioView,
    exchange_curve_figure,
    portfolio_view,
)


@pytest.fixture(scope="module")
def demo_part(tmp_path_factory):
    """Every 15th SKU of the demo shop (20 SKUs, several suppliers), saving into a temporary folder."""
    ws = opslib.load_demo()
    return dataclasses.replace(ws, items=ws.items.iloc[::15].reset_index(drop=True),
                               path=tmp_path_factory.mktemp("demo_part"))


@pytest.fixture(scope="module")
def view(demo_part):
    return portfolio_view(demo_part, model="ses", currency="CNY", user="ann")


@pytest.fixture
def small(tmp_path) -> Workspace:
    tables = small_tables()
    tables["items"] = tables["items"].assign(supplier=["S1", "S2", "S2", "S2"], lead_time_days=[5.0, 5.0, 10.0, 10.0])
    ws = Workspace(**tables, path=tmp_path, name="small shop")
    return dataclasses.replace(ws, demand=daily_demand(ws))


def _shown(html_text: str, name: str) -> str:
    match = re.search(rf"class='opslib-portfolio-{name}'[^>]*>([^<]*)<", html_text)
    assert match, f"no element opslib-portfolio-{name}"
    return match.group(1)


def test_strings_have_both_languages():
    assert check_strings(STRINGS) == []


def test_the_exchange_curve_and_budget_point_equal_the_library(view, demo_part):
    from opslib.plan import plan_forecast

    forecast = plan_forecast(demo_part, model=view.model)  # the plan's, made again: the same frame
    pd.testing.assert_frame_equal(forecast, view.plan.forecast)
    curves = inv.service_investment_curves(demo_part, 7, forecast=forecast)
    # the plan's point (one target for every SKU) spends its budget worse than the greedy allocation: below the curve
    x, y = view.current_point
    exchange = view.portfolio.exchange
    assert y < np.interp(x, exchange["investment"], exchange["aggregate_fill_rate"])
    groups = [g for _, g in curves.groupby("sku", sort=False)]
    fill = [g["fill_rate"].to_numpy() for g in groups]
    cost = [g["investment"].to_numpy() for g in groups]
    weights = [g["demand_mean_per_day"].iloc[0] for g in groups]
    pd.testing.assert_frame_equal(view.portfolio.exchange, inv.exchange_curve(fill, cost, weights))
    assert view.error_panel.value == ""
    for share in (0.0, 0.3, 1.0):
        view.budget.value = view.budget.min + share * (view.budget.max - view.budget.min)
        direct = inv.marginal_allocation(fill, cost, weights, view.budget.value)
        assert view.allocation.investment == direct.investment
        assert view.allocation.aggregate_fill_rate == direct.aggregate_fill_rate
        np.testing.assert_array_equal(view.allocation.levels, direct.levels)
        marker = view.curve_figure.data[1]
        assert (marker.x[0], marker.y[0]) == (direct.investment, direct.aggregate_fill_rate)
        assert _shown(view.cards.value, "investment") == f"{direct.investment:,.0f} CNY"
        assert _shown(view.cards.value, "fill-rate") == f"{direct.aggregate_fill_rate:.2%}"
        assert _shown(view.cards.value, "budget") == f"{view.budget.value:,.0f} CNY"
    assert view.budget.min == view.portfolio.exchange["investment"].iloc[0]
    assert view.budget.max == view.portfolio.exchange["investment"].iloc[-1]


def test_the_order_list_equals_the_plan_grouped_by_supplier(view, demo_part):
    plan = replenishment_plan(demo_part, model="ses")
    orders = plan.orders.orders
    pd.testing.assert_frame_equal(view.order_list(), orders)
    assert len(orders) > 0
    assert _shown(view.cards.value, "order-lines") == f"{len(orders):,}"
    assert _shown(view.cards.value, "order-value") == f"{orders['order_value'].sum():,.0f} CNY"
    suppliers = re.findall(r"class='opslib-portfolio-supplier' data-supplier='([^']*)'", view.orders_table.value)
    assert suppliers == sorted(orders["supplier"].unique())
    for sku in orders["sku"]:
        assert f">{sku}<" in view.orders_table.value


def test_downloads_parse_back_to_the_order_list(view):
    orders = view.order_list()
    csv = pd.read_csv(io.BytesIO(view.order_list_csv()))
    assert csv.columns.tolist() == orders.columns.tolist()
    assert csv["sku"].tolist() == orders["sku"].tolist()
    np.testing.assert_allclose(csv["order_quantity"], orders["order_quantity"])
    np.testing.assert_allclose(csv["order_value"], orders["order_value"])
    book = pd.read_excel(io.BytesIO(view.order_list_excel()), sheet_name=None, engine="openpyxl")
    assert list(book) == list(plan_sheets(view.plan))
    sheet = book["Orders"]
    assert sheet["sku"].tolist() == orders["sku"].tolist() and sheet["supplier"].tolist() == orders["supplier"].tolist()
    np.testing.assert_allclose(sheet["order_quantity"], orders["order_quantity"])
    # the links carry the same bytes
    links = dict(re.findall(r"class='opslib-portfolio-download-(\w+)' download='[^']*' href='data:[^;]+;base64,([^']+)'",
                            view.downloads.value))
    import base64

    assert set(links) == {"csv"} and base64.b64decode(links["csv"]) == view.order_list_csv()
    # the Excel link answers a click with the workbook's bytes, under the plan's day
    sent = _click(view.excel_button)
    assert sent == [({"file": f"replenishment_plan_{view.plan.orders.as_of:%Y-%m-%d}.xlsx",
                      "mime": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
                     [view.order_list_excel()])]


def _click(button):
    """What ``button`` sends back when its link is clicked (the browser's message, answered in the kernel)."""
    sent = []
    button.send = lambda content, buffers=None: sent.append((content, buffers))
    button._on_message(button, {"want": "file"}, [])
    return sent


def test_saving_a_setting_logs_it_and_drives_the_order_list(small):
    view = portfolio_view(small, model="ses", user="ann")
    assert view.error_panel.value == ""
    before = view.order_list().set_index("sku")
    view.scope.value = "sku"
    view.key.value = "A1"
    view.field.value = "case_pack"
    view.value.value = "5"
    view.save_setting()
    assert view.error_panel.value == ""
    assert load_settings(small.path).get("sku", "A1") == {"case_pack": 5}
    log = settings_log(small.path)
    assert log[["changed_by", "scope", "key", "field", "old", "new"]].values.tolist() == \
        [["ann", "sku", "A1", "case_pack", "", "5"]]
    after = view.order_list().set_index("sku")
    assert after.loc["A1", "order_quantity"] % 5 == 0
    assert after.loc["A1", "order_quantity"] == -(-before.loc["A1", "quantity_needed"] // 5) * 5
    pd.testing.assert_frame_equal(view.order_list(), replenishment_plan(small, model="ses").orders.orders)
    assert "ann" in view.log_table.value and "case_pack" in view.settings_table.value
    view.clear_setting()
    assert len(load_settings(small.path)) == 0 and len(settings_log(small.path)) == 2


def test_a_bad_value_is_shown_in_words_and_nothing_is_saved(small):
    view = portfolio_view(small, model="ses", user="ann")
    view.scope.value, view.key.value, view.field.value, view.value.value = "category", "audio", "target", "95"
    view.save_setting()
    assert "write 0.95 instead of 95" in view.error_panel.value
    assert len(load_settings(small.path)) == 0 and settings_log(small.path).empty
    view.value.value = "0.9"
    view.save_setting()
    assert view.error_panel.value == "" and load_settings(small.path).get("category", "audio") == {"target": 0.9}


def test_a_workspace_without_folder_cannot_save(small):
    view = PortfolioView(dataclasses.replace(small, path=None), model="ses", compute=False)
    assert view.save_button.disabled and "no folder" in view.settings_note.value
    assert view.plan is None and view.progress.value == 0


def test_language_switch_relabels_the_page(small):
    tr = Translator(STRINGS)
    view = portfolio_view(small, model="ses", translator=tr)
    assert view.recompute_button.description == "Recompute"
    assert view.excel_button.label == COMMON["download_excel"]["en"]
    tr.set_language("zh")
    assert view.recompute_button.description == "重新计算"
    assert (view.excel_button.label, view.excel_button.busy_label) == (COMMON["download_excel"]["zh"],
                                                                       STRINGS["excel_pending"]["zh"])
    assert "补货组合" in view.title.value and "综合满足率" in view.cards.value
    assert view.curve_figure.layout.yaxis.title.text == STRINGS["axis_fill_rate"]["zh"]
    assert dict(view.scope.options)["品类"] == "category"


def test_recompute_reports_its_progress(small):
    view = portfolio_view(small, model="ses", compute=False)
    seen = []
    view.progress.observe(lambda change: seen.append(change["new"]), names="value")
    view.recompute_button.click()
    assert seen == [1, 2, 3, 4, 5, 6] and view.progress.bar_style == "success"
    assert set(view.timings) >= {"curves", "exchange", "plan", "total"}
    assert "SKUs" in view.progress_label.value
    # the curves are kept per review period; the plan is made again every time, on the same forecast, and the
    # workbook of the same tables is not written again
    curves, plan, workbook = view.portfolio.curves, view.plan, view.order_list_excel()
    view.recompute()
    assert view.portfolio.curves is curves and view.plan is not plan
    assert view.plan.forecast is plan.forecast and view.order_list_excel() is workbook
    pd.testing.assert_frame_equal(view.plan.policies, plan.policies)
    view.recompute(fresh=True)
    assert view.portfolio.curves is not curves and view.plan.forecast is not plan.forecast
    pd.testing.assert_frame_equal(view.plan.forecast, plan.forecast)
    curves = view.portfolio.curves
    view.review_period.value = 14
    view.recompute()
    assert view.portfolio.curves is not curves
    pd.testing.assert_frame_equal(view.portfolio.curves,
                                  inv.service_investment_curves(small, 14, forecast=view.plan.forecast))
    assert (view.plan.policies["review_period_days"] == 14).all()


def test_a_failing_step_shows_on_the_page(small, monkeypatch):
    from opslib.ui import portfolio

    def broken(*args, **kwargs):
        raise ValueError("the forecast broke")

    monkeypatch.setattr(portfolio, "replenishment_plan", broken)
    view = portfolio_view(small, model="ses")
    assert "Could not make today&#x27;s plan: ValueError: the forecast broke" in view.error_panel.value
    assert view.portfolio is not None and view.allocation is not None  # the curve still shows
    assert view.progress.bar_style == "danger"


def test_the_figure_thins_the_curve_but_marks_the_exact_point():
    curve = pd.DataFrame({"investment": np.arange(5000.0), "aggregate_fill_rate": np.linspace(0.5, 0.99, 5000)})
    fig = exchange_curve_figure(curve, (1234.5, 0.77), (2000.0, 0.8))
    assert len(fig.data[0].x) <= MAX_CURVE_POINTS and fig.data[0].x[-1] == 4999.0
    assert (fig.data[1].x[0], fig.data[1].y[0]) == (1234.5, 0.77) and fig.data[2].x[0] == 2000.0


def test_a_forecast_given_is_used_and_the_plan_is_the_same(small):
    from opslib.forecast import forecast
    from opslib.plan import forecast_horizon_days

    made = forecast(small.demand[small.demand["sku"].isin(small.items["sku"])],
                    forecast_horizon_days(small.items), model="ses")
    view = portfolio_view(small, model="ses", forecast=lambda: made)
    assert view.error_panel.value == "" and view.plan.forecast is made
    direct = replenishment_plan(small, model="ses")
    pd.testing.assert_frame_equal(view.plan.policies, direct.policies)
    pd.testing.assert_frame_equal(view.order_list(), direct.orders.orders)
    # one that does not match (another horizon) is not used
    short = made[made["date"] < made["date"].max()]
    view = portfolio_view(small, model="ses", forecast=short)
    assert view.plan.forecast is not short
    pd.testing.assert_frame_equal(view.plan.forecast, direct.forecast)


def test_the_workbook_is_written_when_its_link_is_clicked_and_once_per_plan(demo_part, monkeypatch):
    from opslib.ui import portfolio as module

    written = []
    real = module.plan_workbook

    def counting(plan):
        written.append(plan)
        return real(plan)

    monkeypatch.setattr(module, "plan_workbook", counting)
    view = portfolio_view(demo_part, model="ses", currency="CNY", user="ann")
    view.review_period.value = 14
    view.recompute()
    assert written == []  # two plans, no workbook: nobody asked
    assert "opslib-portfolio-download-csv" in view.downloads.value and view.excel_button.layout.display is None
    first = _click(view.excel_button)
    again = _click(view.excel_button)
    assert written == [view.plan] and first == again  # written once for the plan, then kept
    book = pd.read_excel(io.BytesIO(first[0][1][0]), sheet_name=None, engine="openpyxl")
    assert list(book) == list(plan_sheets(view.plan))
    assert book["Orders"]["sku"].tolist() == view.order_list()["sku"].tolist()
    assert view.error_panel.value == ""


def test_a_workbook_that_cannot_be_written_is_said_and_the_csv_stays(demo_part, monkeypatch):
    from opslib.ui import portfolio as module

    def broken(plan):
        raise OSError("disk full")

    monkeypatch.setattr(module, "plan_workbook", broken)
    view = portfolio_view(demo_part, model="ses", currency="CNY", user="ann")
    assert _click(view.excel_button) == [({"error": "OSError: disk full"}, None)]  # the link says no file came
    assert "Could not write the Excel workbook: OSError: disk full" in view.error_panel.value
    assert "opslib-portfolio-download-csv" in view.downloads.value
    monkeypatch.setattr(module, "plan_workbook", plan_workbook)
    sent = _click(view.excel_button)  # fixed: the next click writes it, and the error is gone
    assert sent[0][0]["file"].endswith(".xlsx") and view.error_panel.value == ""


M5 = __import__("pathlib").Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "m5_tiny_real"


@pytest.mark.skipif(not (M5 / "sell_prices.csv").exists(), reason="needs ../shared/data/m5_tiny_real")
def test_the_m5_import_is_planned_at_the_default_lead_time_and_says_there_is_no_order_list():
    import html as _html

    from opslib.data.importers import from_m5
    from opslib.ui.portfolio import DEFAULT_LEAD_TIME_DAYS

    ws = from_m5(M5)  # real sales: no purchase orders, no stock, no item lead times
    view = PortfolioView(ws)
    assert view.error_panel.value == "", view.error_panel.value
    assert len(view.default_lead_time_skus) == len(ws.items) == 70
    assert f"70 SKUs without lead_time_days are planned at {DEFAULT_LEAD_TIME_DAYS} days" in _html.unescape(
        view.title.value)
    assert "no stock table, so there is no order list" in _html.unescape(view.orders_note.value)
    # the plan is replenishment_plan's with the items at the default lead time, and no orders
    items = ws.items.assign(lead_time_days=float(DEFAULT_LEAD_TIME_DAYS))
    want = replenishment_plan(dataclasses.replace(ws, items=items), forecast=view.plan.forecast, settings=None)
    pd.testing.assert_frame_equal(view.plan.policies, want.policies)
    assert (view.plan.policies["lead_time_mean_days"] == DEFAULT_LEAD_TIME_DAYS).all()
    assert view.plan.orders.orders.empty and view.portfolio is not None
