"""Charts after the first paint: a served page shows its numbers and controls first.

The browser draws opslib's charts with plotly.js. Loading that script and drawing the first
charts is one uninterrupted stretch on the browser's main thread (measured in chromium on the
Replenishment page: 2 to 3 s with jupyterlab-plotly's full plotly.js, about 1.3 s with the
bundle of :class:`opslib.ui.charts.Chart`), and the page is not painted before that stretch ends. So :func:`opslib.ui.when_opened` builds a served app
under a :class:`opslib.ui.charts.FigureHold`: the widgets reach the browser with empty chart
areas (which keep their height), the browser paints the page, and a :class:`PagePainted` widget
on it tells the kernel, which then sends the charts.
"""

from __future__ import annotations

import threading

import anywidget
import ipywidgets as widgets
import traitlets

from opslib.ui.charts import FigureHold

__all__ = ["CHARTS_AT_ONCE_ENV_VAR", "PAINT_WAIT_MAX_S", "FigureHold", "PagePainted", "charts_after_paint"]

#: Set to 1 (in the server's environment) to send the charts with the widgets, not after the
#: first paint: for a browser that cannot run the widget's JavaScript, and for the benchmark.
CHARTS_AT_ONCE_ENV_VAR = "OPSLIB_CHARTS_AT_ONCE"

#: Longest a served page keeps its charts back when the browser does not say it painted it [s]
#: (a tab opened in the background paints when it is first looked at).
PAINT_WAIT_MAX_S = 30.0


class PagePainted(anywidget.AnyWidget):
    """An invisible widget that tells the kernel when the browser has painted the page it is on.

    A few lines of JavaScript run by anywidget (no front-end extension to build): a callback of
    ``requestAnimationFrame`` runs just before the next paint, and a task it queues runs after it;
    from there the view sets ``answered`` to ``asked``. It does so once it is shown, and again each
    time the kernel raises ``asked`` (:meth:`release_after_paint`).
    """

    _esm = """
    function render({ model }) {
      const answer = () => requestAnimationFrame(() => setTimeout(() => {
        model.set("answered", model.get("asked")); model.save_changes(); }, 0));
      model.on("change:asked", answer);
      answer();
      return () => model.off("change:asked", answer);
    }
    export default { render };
    """
    asked = traitlets.Int(1).tag(sync=True)
    answered = traitlets.Int(0).tag(sync=True)

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("layout", widgets.Layout(width="0px", height="0px", overflow="hidden"))
        super().__init__(**kwargs)
        self._waiting: list[tuple[int, FigureHold]] = []
        self.observe(self._on_answer, "answered")

    @property
    def painted(self) -> bool:
        """Whether the browser has painted the page (answered at least once)."""
        return self.answered >= 1

    def release_after_paint(self, hold: FigureHold) -> None:
        """Release ``hold`` once the browser has painted what the kernel sent so far."""
        self._waiting.append((self.asked + 1, hold))
        self.asked += 1

    def _on_answer(self, change: dict) -> None:
        if change["new"] >= 1:
            FigureHold.page_signal = self  # its script runs: callbacks may wait for it too
        due = [hold for asked, hold in self._waiting if asked <= change["new"]]
        self._waiting = [(asked, hold) for asked, hold in self._waiting if asked > change["new"]]
        for hold in due:
            hold.release()


def charts_after_paint(app, hold: FigureHold | None, wait_max_s: float | None = None) -> PagePainted | None:
    """Release ``hold`` once the page that shows ``app`` is painted, at the latest after ``wait_max_s``.

    Appends a :class:`PagePainted` to ``app``'s children and returns it; None (and nothing
    appended) when ``hold`` is None (charts sent at once) or ``app`` is not a ``Box`` (then
    ``hold`` is released at once). Once the browser has answered, the callbacks of the page's
    apps send their charts after their numbers are painted
    (:func:`opslib.ui.charts.figures_after_next_paint`).
    """
    if hold is None:  # charts sent at once: nothing to wait for
        return None
    if not isinstance(app, widgets.Box):  # nowhere to put the signal: the charts go now
        hold.release()
        return None
    signal = PagePainted()
    signal._waiting.append((1, hold))
    app.children = (*app.children, signal)
    timer = threading.Timer(PAINT_WAIT_MAX_S if wait_max_s is None else wait_max_s, hold.release)
    timer.daemon = True
    timer.start()
    return signal
