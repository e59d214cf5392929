"""The Data health app without a browser: set widget values, read what changed.

Hand sums of the small shop are in conftest.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from opslib.data import Workspace, health
from opslib.ui import data_health_app, findings_table, frame_table, sales_figure, stockout_figure
from opslib.ui.data_health import ALL_CATEGORIES


def _cards(app) -> str:
    return app.headline.value


def test_app_opens_on_all_categories(small_ws):
    app = data_health_app(small_ws)
    assert app.category.value == ALL_CATEGORIES
    assert [label for label, _ in app.category.options] == ["All categories", "audio", "kitchen"]
    s = app.summary
    assert (s.units, s.gmv, s.skus, s.skus_sold) == (15, 830, 4, 3)
    assert s.stockout_share == pytest.approx(4 / 9)
    html = _cards(app)
    assert ">15<" in html and ">830<" in html and "44.4%" in html
    assert list(app.sales_chart.data[0].y) == [6, 6, 3]
    assert list(app.sales_chart.data[1].y) == [350, 190, 290]
    assert list(app.sales_chart.data[0].x) == ["2024-01-07", "2024-01-14", "2024-01-21"]
    assert app.error_panel.value == ""


def test_category_filter_updates_headline_chart_and_tables(small_ws):
    app = data_health_app(small_ws)
    app.category.value = "kitchen"
    s = app.summary
    assert (s.units, s.gmv, s.skus, s.skus_sold) == (6, 110, 2, 1)
    assert s.stockout_share == pytest.approx(0.5)
    html = _cards(app)
    assert ">6<" in html and ">110<" in html and "50.0%" in html
    assert list(app.sales_chart.data[0].y) == [1, 5]
    assert list(app.sales_chart.data[1].y) == [20, 90]
    assert "kitchen" in app.sales_chart.layout.title.text
    assert "Mug" in app.top_table.value and "Earbuds" not in app.top_table.value
    assert list(app.stockout_chart.data[0].y) == ["K1"]

    app.category.value = "audio"
    assert (app.summary.units, app.summary.gmv) == (9, 720)
    assert list(app.sales_chart.data[1].y) == [330, 100, 290]
    assert list(app.stockout_chart.data[0].y) == ["A1", "A2"]
    assert list(app.stockout_chart.data[0].x) == [2, 1]

    app.category.value = ALL_CATEGORIES
    assert app.summary.units == 15


def test_period_toggle_changes_the_sales_chart(small_ws):
    app = data_health_app(small_ws)
    app.frequency.value = "D"
    assert len(app.sales_chart.data[0].y) == 15
    assert sum(app.sales_chart.data[0].y) == 15
    app.frequency.value = "MS"
    assert list(app.sales_chart.data[0].y) == [15]
    assert list(app.sales_chart.data[1].y) == [830]


def _shown(view) -> dict:
    """The Plotly spec a Chart widget shows."""
    assert view.figure, "the chart is empty"
    return view.figure


def test_chart_widgets_show_the_current_figures(small_ws):
    app = data_health_app(small_ws)
    spec = _shown(app.sales_view)
    assert spec["data"][0]["y"] == [6, 6, 3]
    assert spec["config"]["displaylogo"] is False
    app.category.value = "kitchen"
    spec = _shown(app.sales_view)
    assert spec["data"][0]["y"] == [1, 5]
    assert "kitchen" in spec["layout"]["title"]["text"]
    assert _shown(app.stockout_view)["data"][0]["y"] == ["K1"]


def test_tables_findings_and_overview(small_ws):
    app = data_health_app(small_ws)
    assert "order_lines" in app.overview_table.value
    assert "2024-01-15" in app.overview_table.value
    # the never-sold kettle is an info finding
    assert "never_sold" in app.findings_table.value
    assert "#e7f1fb" in app.findings_table.value  # info color
    assert "1 info" in app.findings_note.value


def test_validation_errors_are_red_and_warned(small_ws):
    small_ws.items.loc[0, "price"] = -1.0
    app = data_health_app(small_ws)
    assert "#fde2e1" in app.findings_table.value  # error color
    assert "nonnegative" in app.findings_table.value
    assert "Validation found 1 error" in app.warnings_panel.value


def test_callback_errors_show_on_the_page(small_ws, monkeypatch):
    app = data_health_app(small_ws)

    def broken(*args, **kwargs):
        raise RuntimeError("the top list is broken")

    monkeypatch.setattr(health, "top_skus", broken)
    app.category.value = "audio"
    assert "Could not rank the top SKUs" in app.error_panel.value
    assert "the top list is broken" in app.error_panel.value
    # the other parts still updated
    assert app.summary.units == 9
    monkeypatch.undo()
    app.category.value = "kitchen"
    assert app.error_panel.value == ""


def test_workspace_without_categories_or_stock():
    items = pd.DataFrame({"sku": ["A"], "unit_cost": [1.0], "price": [2.0]})
    lines = pd.DataFrame(
        {"order_id": ["o"], "order_ts": pd.to_datetime(["2024-02-01"]), "sku": ["A"], "qty": [3], "paid_amount": [6.0]}
    )
    app = data_health_app(Workspace(items=items, order_lines=lines))
    assert app.category.disabled
    assert "unknown" in app.headline.value
    assert "Stock-outs are unknown" in app.warnings_panel.value
    assert "no category column" in app.warnings_panel.value
    assert app.error_panel.value == ""


def test_empty_workspace_opens_without_errors():
    app = data_health_app(Workspace(), report=None)
    assert app.error_panel.value == ""
    assert "No sales" in app.warnings_panel.value
    assert app.summary.units == 0


def test_refused_data_opens_with_the_reason(tmp_path, monkeypatch, small_folder):
    items = pd.read_csv(small_folder / "items.csv")
    items.loc[0, "price"] = -5
    items.to_csv(small_folder / "items.csv", index=False)
    monkeypatch.setenv("OPSLIB_DATA", str(small_folder))
    app = data_health_app()
    assert "The data was refused" in app.error_panel.value
    assert "price" in app.error_panel.value
    assert app.summary.units == 15  # the data as read is still shown


def test_app_opens_on_the_folder_in_opslib_data(monkeypatch, small_folder):
    monkeypatch.setenv("OPSLIB_DATA", str(small_folder))
    app = data_health_app()
    assert app.ws.path == small_folder
    assert app.error_panel.value == ""
    assert app.summary.gmv == 830


def test_chart_and_table_builders(small_ws):
    sales = health.sales_over_time(small_ws)
    fig = sales_figure(sales, title="t", currency="CNY")
    assert fig.data[1].name == "GMV (CNY)"
    assert list(fig.data[0].y) == [6, 6, 3]
    stock = stockout_figure(health.stockout_days(small_ws), n=2)
    assert list(stock.data[0].y) == ["A1", "A2"]  # most days out first; K1 and A2 tie on 1 day, A2 first by name
    table = frame_table(pd.DataFrame({"a": [1.5, None], "b": ["<x>", "y"]}))
    assert "&lt;x&gt;" in table.value and "1.50" in table.value
    assert "No findings" in findings_table(pd.DataFrame()).value


def test_apps_import_without_the_heavy_engines():
    # the app pages open faster without scipy.stats and the forecast engine (about 1.3 s of
    # imports): opslib.ui must not pull them in; they load when a page asks for them
    import subprocess
    import sys

    code = (
        "import sys, opslib.ui; "
        "print(sorted(m for m in ('scipy.stats', 'opslib.forecast', 'opslib.data.demo') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_language_switch_relabels_the_page_and_keeps_the_numbers(small_ws):
    from opslib.ui.data_health import STRINGS
    from opslib.ui.i18n import check_strings

    assert check_strings(STRINGS) == []
    app = data_health_app(small_ws)
    app.category.value = "kitchen"
    english = (app.headline.value, app.top_table.value, app.sales_chart.layout.title.text)
    app.language.value = "zh"
    assert app.category.description == "品类"
    assert [label for label, _ in app.category.options] == ["全部品类", "audio", "kitchen"]
    assert app.category.value == "kitchen"  # the filter survives the switch
    assert "销量" in app.headline.value and ">6<" in app.headline.value and ">110<" in app.headline.value
    assert "50.0%" in app.headline.value
    assert app.sales_chart.layout.title.text == "每周销量与成交额，kitchen"
    assert list(app.sales_chart.data[0].y) == [1, 5]
    assert "销量" in app.top_table.value and "Mug" in app.top_table.value
    assert [label for label, _ in app.frequency.options] == ["日", "周", "月"]
    app.language.value = "en"
    assert (app.headline.value, app.top_table.value, app.sales_chart.layout.title.text) == english
