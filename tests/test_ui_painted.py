"""Charts after the first paint (opslib.ui.charts.FigureHold, opslib.ui.painted, when_opened in Voila)."""

from __future__ import annotations

import threading
import time

import ipywidgets as widgets
import plotly.graph_objects as go
import pytest

from opslib.ui import base
from opslib.ui.base import when_opened
from opslib.ui.charts import (
    FigureHold,
    clear_figure,
    figure_output,
    figure_spec,
    figures_after_next_paint,
    show_figure,
)
from opslib.ui.painted import PagePainted, charts_after_paint


def _fig(y, title="t"):
    return go.Figure(go.Scatter(x=list(range(len(y))), y=y), layout={"title": {"text": title}})


@pytest.fixture(autouse=True)
def no_active_hold():
    yield
    if FigureHold.active is not None:
        FigureHold.active.release()
    FigureHold.page_signal = None


def test_a_hold_keeps_the_latest_figure_of_each_chart_and_shows_them_when_released():
    a, b, c = figure_output(height_px=100), figure_output(), figure_output()
    hold = FigureHold.start()
    show_figure(a, _fig([1, 2], "first"))
    show_figure(b, _fig([3]))
    show_figure(a, _fig([5, 6], "second"))  # replaces the one kept for a
    show_figure(c, _fig([7]))
    clear_figure(c)  # an error path empties c: nothing may come back for it
    assert a.figure == b.figure == c.figure == {}
    assert hold.kept == 2
    assert hold.release() == 2
    assert a.figure == figure_spec(_fig([5, 6], "second"))
    assert b.figure == figure_spec(_fig([3]))
    assert c.figure == {}
    assert FigureHold.active is None and hold.release() == 0  # once only
    show_figure(c, _fig([8]))  # after the release a figure goes at once
    assert c.figure == figure_spec(_fig([8]))


def test_without_a_hold_figures_show_at_once():
    out = figure_output(_fig([1, 2, 3]))
    assert out.figure == figure_spec(_fig([1, 2, 3]))
    clear_figure(out)
    assert out.figure == {}


def test_a_new_hold_releases_the_one_before():
    out = figure_output()
    first = FigureHold.start()
    show_figure(out, _fig([1]))
    second = FigureHold.start()
    assert first.released and out.figure == figure_spec(_fig([1]))
    assert FigureHold.active is second


def test_the_page_painted_signal_releases_the_hold():
    out = figure_output()
    hold = FigureHold.start()
    show_figure(out, _fig([4, 2]))
    app = widgets.VBox([out])
    signal = charts_after_paint(app, hold, wait_max_s=60)
    assert isinstance(signal, PagePainted) and app.children == (out, signal)
    assert out.figure == {}
    signal.answered = signal.asked  # what the browser sends after its first paint
    assert out.figure == figure_spec(_fig([4, 2])) and hold.released


def test_the_hold_ends_after_the_longest_wait_without_a_signal():
    out = figure_output()
    hold = FigureHold.start()
    show_figure(out, _fig([1]))
    charts_after_paint(widgets.VBox([out]), hold, wait_max_s=0.05)
    end = time.monotonic() + 5
    while not hold.released and time.monotonic() < end:
        time.sleep(0.02)
    assert hold.released and out.figure == figure_spec(_fig([1]))


def test_no_signal_without_a_hold_or_a_box():
    assert charts_after_paint(widgets.VBox([]), None) is None
    hold = FigureHold.start()
    assert charts_after_paint("not a widget", hold) is None and hold.released


def test_the_signal_runs_after_a_paint_and_is_invisible():
    esm = PagePainted._esm
    assert "requestAnimationFrame(() => setTimeout(" in esm and "save_changes()" in esm and "change:asked" in esm
    signal = PagePainted()
    assert signal.painted is False and signal.asked == 1 and signal.layout.height == "0px"


def test_release_is_safe_from_two_threads():
    outs = [figure_output() for _ in range(20)]
    hold = FigureHold.start()
    for i, out in enumerate(outs):
        show_figure(out, _fig([i]))
    counts = []
    threads = [threading.Thread(target=lambda: counts.append(hold.release())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == [0, 0, 0, 20]
    assert [out.figure for out in outs] == [figure_spec(_fig([i])) for i in range(20)]


def _charts(app):
    return {name: view.figure for name, view in (("sales", app.sales_view), ("stockouts", app.stockout_view))}


@pytest.fixture(scope="module")
def outside_voila():
    from opslib.ui import data_health_app

    app = data_health_app()
    return _charts(app)


@pytest.mark.parametrize("preheat", ["False", "True"])
def test_a_served_app_sends_its_charts_after_the_paint_and_they_equal_the_charts_made_outside_voila(
        preheat, outside_voila, monkeypatch):
    import voila.utils

    from opslib.ui import data_health_app

    monkeypatch.setenv("VOILA_PREHEAT", preheat)
    monkeypatch.delenv("OPSLIB_CHARTS_AT_ONCE", raising=False)
    monkeypatch.setattr(base, "_yield_to_visitors", lambda *a, **k: 0.0)
    monkeypatch.setattr(voila.utils, "wait_for_request", lambda url=None: None)
    app = when_opened(data_health_app)
    signal = app.children[-1]
    assert isinstance(signal, PagePainted)
    assert all(figure == {} for figure in _charts(app).values())
    assert all(figure["data"] for figure in outside_voila.values())
    signal.answered = 1
    assert _charts(app) == outside_voila


def test_charts_at_once_when_asked(outside_voila, monkeypatch):
    from opslib.ui import data_health_app

    monkeypatch.setenv("VOILA_PREHEAT", "False")
    monkeypatch.setenv("OPSLIB_CHARTS_AT_ONCE", "1")
    app = when_opened(data_health_app)
    assert not any(isinstance(child, PagePainted) for child in app.children)
    assert _charts(app) == outside_voila and FigureHold.active is None


def test_after_the_first_paint_a_callback_sends_its_charts_once_its_numbers_are_painted():
    out, number = figure_output(), widgets.HTML("1")
    hold = FigureHold.start()
    show_figure(out, _fig([1]))
    signal = charts_after_paint(widgets.VBox([number, out]), hold, wait_max_s=60)
    with figures_after_next_paint():  # before the first answer: nothing is held
        show_figure(out, _fig([2]))
    assert hold.kept == 1 and out.figure == {}
    signal.answered = 1  # the first paint
    assert out.figure == figure_spec(_fig([2])) and FigureHold.page_signal is signal
    with figures_after_next_paint():  # a callback: a number, then a chart
        number.value = "2"
        show_figure(out, _fig([3]))
        assert out.figure == figure_spec(_fig([2]))
    assert signal.asked == 2 and out.figure == figure_spec(_fig([2]))  # the browser is asked
    with figures_after_next_paint():  # a second change before the answer joins the held figures
        show_figure(out, _fig([4]))
    assert signal.asked == 2
    signal.answered = 2
    assert out.figure == figure_spec(_fig([4])) and FigureHold.active is None
    with figures_after_next_paint():  # a callback without charts asks nothing
        number.value = "3"
    assert signal.asked == 2 and FigureHold.active is None


def test_a_callback_of_a_served_app_waits_for_the_paint(monkeypatch):
    """GuardedApp._callback runs the refresh under figures_after_next_paint."""
    from opslib.ui.base import GuardedApp

    class App(GuardedApp, widgets.VBox):
        def __init__(self):
            widgets.VBox.__init__(self)
            self._init_guard()
            self.out = figure_output()
            self.slider = widgets.IntSlider(1)
            self.slider.observe(self._callback(lambda: show_figure(self.out, _fig([self.slider.value]))), "value")

    app = App()
    hold = FigureHold.start()
    signal = charts_after_paint(app, hold, wait_max_s=60)
    signal.answered = 1
    app.slider.value = 5
    assert app.out.figure == {} and signal.asked == 2
    signal.answered = 2
    assert app.out.figure == figure_spec(_fig([5]))


# ---------------------------------------------------------------- the Chart widget and its plotly.js


def test_a_chart_sends_plotly_js_when_its_view_asks_for_it_and_nothing_else(monkeypatch):
    from opslib.ui import charts

    chart = figure_output(_fig([1, 2]), height_px=200)
    assert chart.layout.width == "100%" and chart.layout.min_height == "200px"
    sent = []
    monkeypatch.setattr(chart, "send", lambda content, buffers=None: sent.append(content))
    chart._on_message(chart, {"want": "something else"}, [])
    assert sent == []
    chart._on_message(chart, {"want": "plotly"}, [])
    (message,) = sent
    library = charts.PLOTLY_LIBRARY.read_text(encoding="utf-8")
    assert message == {"plotly": library} and len(library) > 1_000_000
    assert "window.Plotly = Plotly" in library  # what the view waits for after importing it


def test_the_plotly_js_bundle_is_the_version_plotly_writes_figures_for():
    from plotly.offline import get_plotlyjs_version

    from opslib.ui.charts import plotly_library_version

    ours, theirs = plotly_library_version().split("."), get_plotlyjs_version().split(".")
    assert ours[:2] == theirs[:2], (ours, theirs)  # a patch release apart at most (finance bundle 4.1.0)


def test_every_trace_type_the_bundle_registers_is_allowed_and_others_are_refused():
    import re

    from opslib.ui import charts

    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', charts.PLOTLY_LIBRARY.read_text(encoding="utf-8")))
    assert registered == set(charts.LIBRARY_TRACES)
    with pytest.raises(ValueError, match=r"not \['heatmap'\]"):
        show_figure(figure_output(), go.Figure(go.Heatmap(z=[[1, 2], [3, 4]])))
    spec = figure_spec(go.Figure(go.Waterfall(y=[1, -2, 3])))
    assert spec["data"][0]["type"] == "waterfall" and spec["config"] == {"displaylogo": False, "responsive": True}
