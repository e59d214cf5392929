"""The Operations dashboard without a browser: set a filter, read the tiles and tables it updated."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from opslib import ops
from opslib.data import Workspace
from opslib.ui import OperationsApp, operations_app
from test_ops_report import demo_workspace


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return demo_workspace()


@pytest.fixture(scope="module")
def app(demo) -> OperationsApp:
    return operations_app(demo)


def tile_values(app: OperationsApp) -> dict[str, str]:
    """The figure shown on each KPI card, by measure."""
    found = re.findall(r"data-measure='([a-z_]+)'.*?class='opslib-kpi-value'[^>]*>([^<]*)<", app.kpi_panel.value)
    return dict(found)


def test_opens_on_the_last_full_month_without_errors(app, demo):
    assert app.error_panel.value == ""
    assert app.month.value == "2026-09" and app.month.options[0] == ("2026-09", "2026-09")
    assert app.category.value == "" and len(app.category.options) == 1 + demo.items["category"].nunique()
    want = ops.kpi_tiles(ops.kpis(demo, "M"), "2026-09").set_index("measure")
    shown = tile_values(app)
    assert shown["gmv"] == f"{want.loc['gmv', 'value']:,.2f}"
    assert shown["orders"] == f"{want.loc['orders', 'value']:,.0f}"
    assert shown["margin_rate"] == f"{want.loc['margin_rate', 'value']:.1%}"
    assert isinstance(app.trend_chart, go.Figure) and isinstance(app.rates_chart, go.Figure)
    assert app.trend_view.figure and app.rates_view.figure
    assert "The books agree" in app.reconciliation_note.value
    assert "Stock on 2026-09-30" in app.exceptions_note.value


def test_supplier_trend_and_repurchase_tile(app, demo):
    card = ops.supplier_scorecard(demo, freq="M")
    supplier = sorted(card["supplier"].unique())[1]
    mine = card[card["supplier"] == supplier]
    on_time, lead = [t for t in app.supplier_chart.data if t.legendgroup == supplier]
    assert list(on_time.x) == mine["period"].astype(str).tolist()
    assert list(on_time.y) == mine["on_time_rate"].tolist()
    assert list(lead.y) == mine["lead_time_mean_days"].tolist()
    assert len(app.supplier_chart.data) == 2 * card["supplier"].nunique() and app.supplier_view.figure
    want = ops.repurchase_rate(demo, ops.REPURCHASE_WINDOW_DAYS, as_of="2026-09-30").iloc[0]["repurchase_rate"]
    assert tile_values(app)["repurchase_rate"] == f"{want:.1%}"


def test_month_filter_changes_tiles_and_tables(app, demo):
    app.month.value = "2026-06"
    try:
        assert app.error_panel.value == ""
        assert app.report.month == pd.Period("2026-06", "M")
        want = ops.kpi_tiles(ops.kpis(demo, "M"), "2026-06").set_index("measure")
        shown = app.tiles.set_index("measure")["value"]
        assert list(shown.index) == [*want.index, "repurchase_rate"]  # the report adds the repurchase tile
        pd.testing.assert_series_equal(shown.loc[want.index], want["value"])
        as_of = ops.repurchase_rate(demo, ops.REPURCHASE_WINDOW_DAYS, as_of="2026-06-30").iloc[0]
        assert shown["repurchase_rate"] == pytest.approx(as_of["repurchase_rate"])
        assert tile_values(app)["gmv"] == f"{want.loc['gmv', 'value']:,.2f}"
        summary = ops.stock_movement_summary(demo, by="category", months="2026-06")
        assert f"{summary['closing_value'].iloc[0]:,.2f}" in app.movement_table.value
        assert "2026-06" in app.stocktake_note.value and "2026-06" in app.supplier_note.value
    finally:
        app.month.value = "2026-09"


def test_category_filter_narrows_tiles_trends_and_exceptions(app, demo):
    category = app.category.options[2][1]
    app.category.value = category
    try:
        assert app.error_panel.value == ""
        by = ops.kpis(demo, "M", by="category")
        mine = by[by["category"] == category].drop(columns="category")
        want = ops.kpi_tiles(mine, "2026-09").set_index("measure")
        assert tile_values(app)["gmv"] == f"{want.loc['gmv', 'value']:,.2f}"
        assert category in app.trend_chart.layout.title.text
        assert list(app.trend_chart.data[0].y) == mine["gmv"].tolist()
        skus = demo.items.loc[demo.items["category"] == category, "sku"].astype(str)
        assert all(s in skus.tolist() for s in re.findall(r">([A-Z]{2}\d{4})<", app.movement_table.value))
        exceptions = app.report.stock_exceptions
        shown = exceptions[exceptions["category"] == category]
        assert f"{shown['exception'].eq('excess').sum():,} excess" in app.exceptions_note.value
    finally:
        app.category.value = ""


def test_reconciliation_exceptions_are_shaded(demo):
    moves = demo.stock_movements.copy()
    in_month = moves["date"].dt.to_period("M") == pd.Period("2026-09", "M")
    row = moves.index[((moves["kind"] == "receipt") & in_month).to_numpy()][3]
    moves.loc[row, "qty"] = moves.loc[row, "qty"] + 5
    tampered = Workspace(**{**demo.tables(), "stock_movements": moves}, name="tampered")
    app = OperationsApp(tampered, month="2026-09")
    assert "1 SKUs do not reconcile" in app.reconciliation_note.value
    assert "background:#fce4e4" in app.reconciliation_table.value
    assert moves.loc[row, "sku"] in app.reconciliation_table.value


def test_errors_show_on_the_page_in_words(app, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("the stock table is unreadable")

    monkeypatch.setattr(ops, "monthly_report", broken)
    app.month.value = "2026-08"
    try:
        assert "Could not build the monthly report: ValueError: the stock table is unreadable" in app.error_panel.value
        assert "Something went wrong" in app.error_panel.value
    finally:
        monkeypatch.undo()
        app.month.value = "2026-09"
    assert app.error_panel.value == ""


def test_a_workspace_without_orders_opens_with_a_message():
    app = OperationsApp(Workspace(name="empty"))
    assert "Could not list the months" in app.error_panel.value
    assert "order_lines" in app.error_panel.value


def test_refused_data_opens_empty_and_says_why(monkeypatch):
    broken = Path(__file__).resolve().parent / "fixtures" / "broken"
    monkeypatch.setenv("OPSLIB_DATA", str(broken))
    app = operations_app()
    assert "The data was refused" in app.error_panel.value
    assert "unknown_sku" in app.error_panel.value  # the reason, in the loader's words
    assert app.ws.items is None  # nothing half-valid is reported on


def test_language_switch_relabels_tiles_and_tables_and_keeps_the_figures(demo):
    from opslib.ui.i18n import check_strings
    from opslib.ui.operations import STRINGS

    assert check_strings(STRINGS) == []
    app = operations_app(demo)
    figures = tile_values(app)
    measures = re.findall(r"data-measure='([a-z_]+)'", app.kpi_panel.value)
    assert all(f"tile_{m}" in STRINGS for m in measures), measures  # every tile has its Chinese label
    app.language.value = "zh"
    assert app.error_panel.value == ""
    assert tile_values(app) == figures
    assert "成交额 GMV" in app.kpi_panel.value and "上月" in app.kpi_panel.value
    assert app.month.description == "月份" and app.category.options[0][0] == "全部品类"
    assert "供应商" in app.supplier_table.value and "准时率" in app.supplier_table.value
    assert app.trend_chart.layout.title.text.startswith("每月成交额")
    app.category.value = app.category.options[1][1]
    assert "品类" in app.kpi_note.value
    app.language.value = "en"
    assert "on_time_rate" in app.supplier_table.value and "GMV" in app.kpi_panel.value
