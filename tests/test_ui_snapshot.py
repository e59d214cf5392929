"""Static HTML snapshots: one self-contained file with the tables' numbers, the figures' data and plotly.js once."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import plotly.graph_objects as go
import pytest
from bs4 import BeautifulSoup
from test_browser import ARTIFACTS, browser  # noqa: F401 (chromium fixture: skips without it)

import opslib
from opslib.ui.charts import LIBRARY_TRACES
from opslib.ui.snapshot import Paragraph, save_snapshot, snapshot_html

PLOTLY_MARKER = "plotly.js (finance - minified) v"  # the banner of the apps' bundle, inlined when it draws all
FULL_MARKER = "plotly.js v"  # the banner of plotly.py's whole plotly.js


@pytest.fixture
def sections():
    orders = pd.DataFrame({"sku": ["A1", "B2"], "supplier": ["Acme", "Bolt"], "qty": [120, 36],
                           "value_cny": [4567.5, 890.25]})
    forecast = go.Figure(go.Scatter(x=["2026-11-01", "2026-11-02", "2026-11-03"], y=[11.5, 13.25, 17.75],
                                    name="forecast"))
    roi = go.Figure(go.Histogram(x=[0.123, 0.456, 0.789, 0.999]))
    return {
        "Scenario": Paragraph("Service target 95% <fill rate> & review every 7 days"),
        "Orders": orders,
        "Forecast": forecast,
        "ROI": roi,
        "Note": "<p class='custom'>Built from <b>trusted</b> HTML.</p>",
    }


def test_one_self_contained_page(sections):
    stamp = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
    page = snapshot_html("Replenishment plan 2026-11-27", sections, subtitle="demo shop", generated_at=stamp)
    soup = BeautifulSoup(page, "html.parser")
    assert soup.title.text == "Replenishment plan 2026-11-27"
    assert [h.text for h in soup.find_all("h2")] == ["Scenario", "Orders", "Forecast", "ROI", "Note"]
    text = soup.get_text(" ")
    # the stamp and the version
    assert "Generated 2026-11-27 09:30 UTC" in text and f"opslib {opslib.__version__}" in text
    # each table's numbers
    table = soup.find("table", class_="opslib-table")
    cells = [td.text for td in table.find_all("td")]
    assert cells == ["A1", "Acme", "120", "4,567.5", "B2", "Bolt", "36", "890.25"]
    # each figure's data, in the Plotly.newPlot calls
    calls = [s.string for s in soup.find_all("script") if s.string and "Plotly.newPlot" in s.string]
    assert len(calls) == 2
    assert "11.5" in calls[0] and "17.75" in calls[0] and "2026-11-03" in calls[0]
    assert "0.123" in calls[1] and "0.999" in calls[1]
    # plotly.js exactly once, inlined (no CDN: the page opens offline): the apps' bundle, which draws a scatter
    # and a histogram, not the whole library
    assert page.count(PLOTLY_MARKER) == 1 and FULL_MARKER not in page
    assert len(page.encode()) < 1.6e6
    assert not soup.find_all("script", src=True) and not soup.find_all("link", href=True)
    # text is escaped, HTML strings are kept
    assert "&lt;fill rate&gt; &amp; review" in page
    assert soup.find("p", class_="custom").b.text == "trusted"


def test_plotly_is_inlined_once_before_the_figures(sections):
    page = snapshot_html("x", [sections["Forecast"], sections["ROI"], sections["Forecast"]])
    assert page.count(PLOTLY_MARKER) == 1 and FULL_MARKER not in page
    assert page.index(PLOTLY_MARKER) < page.index("</head>") < page.index("Plotly.newPlot")
    assert page.count("Plotly.newPlot") == 3


def test_a_trace_the_bundle_lacks_brings_the_whole_plotly_js(sections):
    heat = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]))
    assert heat.data[0].type not in LIBRARY_TRACES
    page = snapshot_html("x", [sections["Forecast"], heat, sections["ROI"]])
    assert page.count(FULL_MARKER) == 1 and PLOTLY_MARKER not in page  # plotly.py's, with the first figure
    assert page.index(FULL_MARKER) < page.index("Plotly.newPlot")
    assert page.count("Plotly.newPlot") == 3 and len(page.encode()) > 3e6


def test_without_figures_there_is_no_plotly(sections):
    page = snapshot_html("Tables only", [("Orders", sections["Orders"]), Paragraph("No chart.")])
    assert PLOTLY_MARKER not in page and FULL_MARKER not in page
    assert "No chart." in page


def test_long_tables_are_cut_and_say_so():
    frame = pd.DataFrame({"sku": [f"S{i}" for i in range(30)], "units": range(30)})
    page = snapshot_html("Long", {"All": frame}, max_rows=10)
    soup = BeautifulSoup(page, "html.parser")
    assert len(soup.find("table").find("tbody").find_all("tr")) == 10
    assert "First 10 of 30 rows." in soup.get_text()


def test_a_series_and_an_indexed_frame_keep_their_index():
    series = pd.Series([1.5, 2.5], index=pd.Index(["north", "south"], name="region"), name="units")
    page = snapshot_html("Series", [series])
    assert "north" in page and "south" in page and "2.5" in page


def test_chinese_titles_survive(tmp_path, sections):
    path = save_snapshot(tmp_path / "plan.html", "补货计划", {"订单": sections["Orders"]}, lang="zh")
    raw = path.read_text(encoding="utf-8")
    assert '<html lang="zh">' in raw and "补货计划" in raw and '<meta charset="utf-8">' in raw


def test_save_snapshot_writes_the_file(tmp_path, sections):
    path = save_snapshot(tmp_path / "scenario.html", "Promotion scenario", sections)
    assert path == tmp_path / "scenario.html"
    assert path.read_text(encoding="utf-8").count(PLOTLY_MARKER) == 1
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_snapshot(tmp_path / "missing" / "x.html", "x", sections)


def test_unknown_sections_are_refused():
    with pytest.raises(TypeError, match="plotly Figure, a pandas DataFrame"):
        snapshot_html("x", [42])


def test_the_figure_json_is_the_figure(sections):
    """The data embedded is the figure's own (round trip through the page's JSON)."""
    page = snapshot_html("x", [sections["Forecast"]])
    call = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*\{", page, re.DOTALL).group(1)
    data = json.loads(call)
    assert data[0]["y"] == [11.5, 13.25, 17.75]


@pytest.mark.browser
@pytest.mark.slow
def test_the_snapshot_draws_offline_in_chromium(tmp_path, sections, browser):  # noqa: F811 (fixture)
    """Opened from disk with every network request blocked, the figures draw and the table shows."""
    path = save_snapshot(tmp_path / "plan.html", "Replenishment plan", sections)
    page = browser.new_page(viewport={"width": 1200, "height": 2200})
    blocked = []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else (blocked.append(route.request.url), route.abort()))
    try:
        page.goto(path.as_uri(), wait_until="load", timeout=60_000)
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2",
                               timeout=60_000)
        ys = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot'))[0].data[0].y")
        assert list(ys) == [11.5, 13.25, 17.75]
        assert "4,567.5" in page.inner_text("table.opslib-table")
        assert blocked == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "snapshot_offline.png"))
    finally:
        page.close()


def test_the_page_words_follow_the_language():
    frame = pd.DataFrame({"units": range(5)})
    stamp = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
    page = snapshot_html("计划", {"表": frame}, lang="zh", max_rows=2, generated_at=stamp)
    assert "生成于 2026-11-27 09:30 UTC" in page and "仅显示前 2 行，共 5 行。" in page
    with pytest.raises(ValueError, match="lang"):
        snapshot_html("x", [], lang="de")
