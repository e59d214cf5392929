"""Plotly chart builders, and the widget that shows them.

The builders return plain :class:`plotly.graph_objects.Figure` objects with
hover text; :func:`figure_output` makes a :class:`Chart` widget and
:func:`show_figure` puts a figure into it. The browser draws it with plotly.js's
*finance* bundle (scatter, bar, pie, histogram, waterfall, funnel and a few more:
all that opslib's charts use), which ships with opslib (``opslib/ui/static``,
MIT) and reaches the page over the widget's own channel: no CDN, no front-end
extension to build, works offline in Voila, with hover, zoom and pan.

Why not the ``jupyterlab-plotly`` renderer of plotly's mime bundle (what opslib
used up to stop 13): it loads the full plotly.js (4.8 MB, 40 trace types), whose
evaluation alone held the browser's main thread for 1.2-2.0 s on every app page
(measured in chromium); a partial bundle (1.2-1.3 MB) takes about 0.35 s.

Why not ``go.FigureWidget``: it sends each change as an incremental message to
the views it has, and in Voila 0.5 such an update was sometimes lost (the page
kept the old chart while the rest followed the filter). A :class:`Chart` holds
the whole figure in one trait: each change replaces it, so the page never goes
out of step; the browser redraws with ``Plotly.react``.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anywidget
import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
import traitlets

__all__ = [
    "Chart",
    "LIBRARY_TRACES",
    "FigureHold",
    "clear_figure",
    "figure_output",
    "figure_spec",
    "figures_after_next_paint",
    "plotly_library_version",
    "sales_figure",
    "show_figure",
    "stockout_figure",
]

UNITS_COLOR = "#4c78a8"
GMV_COLOR = "#f58518"
STOCKOUT_COLOR = "#e45756"

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

#: The trace types of the plotly.js bundle that :class:`Chart` draws with.
LIBRARY_TRACES = frozenset({"scatter", "bar", "pie", "histogram", "waterfall", "funnel", "funnelarea", "indicator",
                            "ohlc", "candlestick"})

PLOTLY_LIBRARY = Path(__file__).with_name("static") / "plotly-finance.min.js"
"""plotly.js's finance bundle (npm ``plotly.js-finance-dist-min`` 4.1.0, the latest of that bundle;
the installed plotly.py writes figures for plotly.js 4.1.1, a patch release of the same schema: a
test checks that the major and minor versions agree). Licence in ``plotly-finance.LICENSE``."""


@functools.cache
def _plotly_library() -> str:
    return PLOTLY_LIBRARY.read_text(encoding="utf-8")


def plotly_library_version() -> str:
    """The version of the plotly.js bundle that draws the charts (from its header)."""
    found = re.search(r"plotly\.js \(finance - minified\) v(\S+)", _plotly_library()[:400])
    if found is None:
        raise RuntimeError(f"{PLOTLY_LIBRARY} does not start with the header of plotly.js's finance bundle")
    return found.group(1)


def figure_spec(fig: go.Figure) -> dict:
    """A figure as the JSON that plotly.js draws (``data``, ``layout``, ``config``).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        Its traces must be of the types in :data:`LIBRARY_TRACES`.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        For a trace type the bundle cannot draw.
    """
    spec = json.loads(fig.to_json())  # plotly's encoder: numpy, dates, NaN
    other = sorted({trace.get("type", "scatter") for trace in spec.get("data", ())} - LIBRARY_TRACES)
    if other:
        raise ValueError(f"a chart can show the trace types {sorted(LIBRARY_TRACES)} (plotly.js's finance bundle), "
                         f"not {other}")
    spec["config"] = dict(PLOTLY_CONFIG)
    return spec


_CHART_ESM = """
const LIBRARY = "__opslibPlotly";  // window[LIBRARY]: the promise of plotly.js, asked for once per page

function plotly(model) {
  if (window.Plotly && window.Plotly.react) return Promise.resolve(window.Plotly);
  if (!window[LIBRARY]) {
    window[LIBRARY] = new Promise((resolve, reject) => {
      const timer = setTimeout(() => { model.off("msg:custom", onMessage); delete window[LIBRARY];
        reject(new Error("plotly.js did not arrive from the kernel")); }, 60000);
      const onMessage = async (message) => {
        if (!message || typeof message.plotly !== "string") return;
        clearTimeout(timer);
        model.off("msg:custom", onMessage);
        const url = URL.createObjectURL(new Blob([message.plotly], { type: "text/javascript" }));
        try { await import(url); resolve(window.Plotly); }
        catch (error) { delete window[LIBRARY]; reject(error); }
        finally { URL.revokeObjectURL(url); }
      };
      model.on("msg:custom", onMessage);
      model.send({ want: "plotly" });
    });
  }
  return window[LIBRARY];
}

function render({ model, el }) {
  el.classList.add("opslib-chart");
  let plot = el.appendChild(document.createElement("div"));
  let alive = true, pending = true, width = 0, queue = Promise.resolve();
  const draw = () => {  // the figure in the model, once the chart is on the page with a width
    if (!alive || !pending || !el.isConnected || el.clientWidth === 0) return;
    pending = false;
    width = el.clientWidth;
    const spec = model.get("figure") || {};
    queue = queue.then(async () => {
      if (!alive) return;
      if (!spec.data) {  // no figure: an empty area
        if (window.Plotly && plot.data) window.Plotly.purge(plot);
        plot.replaceWith(plot = document.createElement("div"));
        el.dataset.drawn = "empty";
        return;
      }
      const Plotly = await plotly(model);
      if (!alive) return;
      await Plotly.react(plot, spec.data, spec.layout || {}, spec.config || {});
      el.dataset.drawn = "figure";
    }).catch((error) => {
      console.error("opslib chart", error);
      plot.textContent = "This chart could not be drawn: " + error;
      el.dataset.drawn = "error";
    });
  };
  const onFigure = () => { pending = true; el.dataset.drawn = "pending"; draw(); };
  const resized = new ResizeObserver(() => {  // shown (a tab opened) or its width changed
    if (pending) draw();
    else if (el.clientWidth && el.clientWidth !== width && plot.data && window.Plotly) {
      width = el.clientWidth;
      window.Plotly.Plots.resize(plot);
    }
  });
  model.on("change:figure", onFigure);
  resized.observe(el);
  draw();
  return () => {
    alive = false;
    resized.disconnect();
    model.off("change:figure", onFigure);
    if (window.Plotly && plot.data) window.Plotly.purge(plot);
  };
}
export default { render };
"""


class Chart(anywidget.AnyWidget):
    """A plotly chart on an app page: the figure as JSON in one trait, drawn by plotly.js in the browser.

    Set a figure with :func:`show_figure` (``figure`` holds :func:`figure_spec`'s dict; ``{}``
    is an empty area). The view draws it once it is on the page with a width (a chart in a
    tab not yet opened is drawn when the tab opens) and redraws it on each change; its element
    (class ``opslib-chart``) says in ``data-drawn`` what it shows: ``figure``, ``empty``,
    ``pending`` (a new figure on its way) or ``error``. The width
    comes from the page, not from the chart: :func:`figure_output` makes it 100% of its box
    (an empty chart in a row would otherwise have none, and wait forever).

    plotly.js is not sent with each chart: the first chart drawn on a page asks its kernel for
    it (a custom message), and every chart on the page then shares it. A chart that cannot be
    drawn says so in its area (and in the browser's console).
    """

    _esm = _CHART_ESM
    figure = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.on_msg(self._on_message)

    def _on_message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("want") == "plotly":
            self.send({"plotly": _plotly_library()})


def figure_output(fig: go.Figure | None = None, height_px: int | None = None) -> Chart:
    """A :class:`Chart` showing a figure (see :func:`show_figure`).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure, optional
        The figure to show first.
    height_px : int, optional
        Minimum height of the widget [px], so that the page does not jump
        while the figure is replaced (or kept back, :class:`FigureHold`).

    Returns
    -------
    Chart
    """
    chart = Chart(layout=widgets.Layout(width="100%", min_height=f"{height_px}px" if height_px else None))
    if fig is not None:
        show_figure(chart, fig)
    return chart


def show_figure(chart: Chart, fig: go.Figure) -> None:
    """Replace what a :class:`Chart` shows with a figure.

    While a :class:`FigureHold` is active the figure is kept back and shown when
    the hold is released.

    Parameters
    ----------
    chart : Chart
    fig : plotly.graph_objects.Figure
        Its traces must be of the types in :data:`LIBRARY_TRACES`.
    """
    spec = figure_spec(fig)
    hold = FigureHold.active
    if hold is not None and hold.keep(chart, spec):
        return
    chart.figure = spec


def clear_figure(chart: Chart) -> None:
    """Empty a :class:`Chart` (and drop a figure kept back for it)."""
    hold = FigureHold.active
    if hold is not None:
        hold.drop(chart)
    chart.figure = {}


class FigureHold:
    """Figures kept back from the page until the browser has painted it.

    The browser draws the charts with plotly.js: loading that script and drawing
    the first charts takes one uninterrupted stretch on the main thread (2 to 3 s
    on the Replenishment page with the full plotly.js, measured in chromium), and
    nothing on the page is painted before it ends. An app page built under a hold
    sends its widgets with empty chart areas (they keep their height), the browser
    paints the numbers and controls, and :meth:`release` (called when the page says
    it is painted, see :class:`opslib.ui.painted.PagePainted`) sends the charts.

    Only one hold is active in a process (a Voila kernel serves one page):
    :meth:`start` makes one active, :meth:`release` ends it. Thread-safe: a timer may release it.
    """

    #: The active hold, or None: :func:`show_figure` consults it.
    active: FigureHold | None = None
    #: On a served page, its :class:`opslib.ui.painted.PagePainted` once the browser has answered
    #: it (its script runs there): :func:`figures_after_next_paint` holds figures only then.
    page_signal = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[int, tuple[Chart, dict]] = {}
        self.released = False

    @classmethod
    def start(cls) -> FigureHold:
        """A new hold, made the active one (an earlier one is released first)."""
        if cls.active is not None:
            cls.active.release()
        hold = cls()
        cls.active = hold
        return hold

    def keep(self, chart: Chart, spec: dict) -> bool:
        """Keep ``spec`` for ``chart`` (the latest one wins); False once released."""
        with self._lock:
            if self.released:
                return False
            self._kept[id(chart)] = (chart, spec)
            return True

    def drop(self, chart: Chart) -> None:
        with self._lock:
            self._kept.pop(id(chart), None)

    @property
    def kept(self) -> int:
        """How many charts wait for their figure."""
        return len(self._kept)

    def release(self) -> int:
        """Show every kept figure, in the order first kept; later figures show at once. Returns how many."""
        with self._lock:
            if self.released:
                return 0
            self.released = True
            kept, self._kept = list(self._kept.values()), {}
        if FigureHold.active is self:
            FigureHold.active = None
        for chart, spec in kept:
            chart.figure = spec
        return len(kept)


@contextmanager
def figures_after_next_paint() -> Iterator[None]:
    """Within the block, figures are kept back; after it, they are sent once the browser has painted the rest.

    For a callback on a served page: its numbers reach the screen first, and the charts (whose
    drawing would otherwise come before the next paint, 0.3-0.4 s on the Replenishment page)
    follow. Does nothing outside a served page, before its first paint was answered, or inside
    another hold (that one sends the figures).
    """
    signal = FigureHold.page_signal
    if signal is None or FigureHold.active is not None:
        yield
        return
    hold = FigureHold.start()
    try:
        yield
    finally:
        if hold.kept:
            signal.release_after_paint(hold)
        else:
            hold.release()


def sales_figure(sales: pd.DataFrame, title: str = "Sales", currency: str = "") -> go.Figure:
    """Units (bars, left axis) and money (line, right axis) over time.

    Parameters
    ----------
    sales : pandas.DataFrame
        Columns ``date``, ``units`` and ``gmv``, as returned by
        :func:`opslib.data.health.sales_over_time`.
    title : str, default "Sales"
        Figure title.
    currency : str, optional
        Currency label for the money axis and the hover text, e.g. ``"CNY"``.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 is the units bar, trace 1 the money line.
    """
    money = f"GMV ({currency})" if currency else "GMV"
    fig = go.Figure(
        data=[
            go.Bar(name="units", marker_color=UNITS_COLOR, hovertemplate="%{x|%d %b %Y}<br>%{y:,.0f} units<extra></extra>"),
            go.Scatter(
                name=money,
                mode="lines+markers",
                yaxis="y2",
                line={"color": GMV_COLOR, "width": 2},
                marker={"size": 4},
                hovertemplate="%{x|%d %b %Y}<br>%{y:,.0f} " + (currency or "") + "<extra></extra>",
            ),
        ],
        layout=go.Layout(
            height=360,
            margin={"l": 60, "r": 60, "t": 50, "b": 40},
            template="plotly_white",
            hovermode="x unified",
            legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"},
            yaxis={"title": {"text": "units"}, "rangemode": "tozero"},
            yaxis2={"title": {"text": money}, "overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False},
            xaxis={"type": "date"},
        ),
    )
    _set_sales(fig, sales, title)
    return fig


def _set_sales(fig: go.Figure, sales: pd.DataFrame, title: str) -> None:
    dates = pd.to_datetime(sales["date"]).dt.strftime("%Y-%m-%d").tolist()
    fig.data[0].x = dates
    fig.data[0].y = sales["units"].astype(float).tolist()
    fig.data[1].x = dates
    fig.data[1].y = sales["gmv"].astype(float).tolist()
    fig.layout.title = {"text": title, "x": 0.01}


def stockout_figure(stockouts: pd.DataFrame, n: int = 15, title: str = "Days out of stock") -> go.Figure:
    """Horizontal bars: the SKUs with the most days out of stock.

    Parameters
    ----------
    stockouts : pandas.DataFrame
        Columns ``sku``, ``days_tracked``, ``days_out_of_stock`` and
        ``share_out_of_stock``, as returned by
        :func:`opslib.data.health.stockout_days`.
    n : int, default 15
        How many SKUs to show (the worst by days out of stock).
    title : str, default "Days out of stock"
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure(
        data=[
            go.Bar(
                orientation="h",
                marker_color=STOCKOUT_COLOR,
                hovertemplate="%{y}<br>%{x} days out of stock<br>%{customdata:.0%} of tracked days<extra></extra>",
            )
        ],
        layout=go.Layout(
            height=360,
            margin={"l": 90, "r": 20, "t": 50, "b": 40},
            template="plotly_white",
            xaxis={"title": {"text": "days out of stock"}, "rangemode": "tozero"},
            yaxis={"autorange": "reversed", "type": "category"},
        ),
    )
    _set_stockouts(fig, stockouts, n, title)
    return fig


def _set_stockouts(fig: go.Figure, stockouts: pd.DataFrame, n: int, title: str) -> None:
    worst = stockouts[stockouts["days_out_of_stock"] > 0].sort_values(
        ["days_out_of_stock", "sku"], ascending=[False, True]
    ).head(n)
    fig.data[0].x = worst["days_out_of_stock"].astype(int).tolist()
    fig.data[0].y = worst["sku"].astype(str).tolist()
    fig.data[0].customdata = worst["share_out_of_stock"].astype(float).tolist()
    fig.layout.title = {"text": title, "x": 0.01}


# --------------------------------------------------------------------------- promotion simulator
# (issue 7: the builders of opslib.ui.promotion; numbers come from opslib.promo.SimulationResult).
# Built as one dict each, with a small inline template: plotly validates a figure once on creation,
# and the full "plotly_white" template alone costs ~40 ms per figure, too slow for a slider.

import numpy as np

__all__ += ["promotion_comparison_figure", "promotion_lift_figure", "promotion_waterfall_figure",
            "roi_distribution_figure", "tornado_figure"]

PROMO_BAND_COLOR = "rgba(245,133,24,0.22)"
PROFIT_UP, PROFIT_DOWN, PROFIT_TOTAL = "#54a24b", "#e45756", "#4c78a8"
_LIGHT_TEMPLATE = {"layout": {
    "plot_bgcolor": "white", "paper_bgcolor": "white", "font": {"color": "#2a3f5f"},
    "xaxis": {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8", "automargin": True},
    "yaxis": {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8", "automargin": True}}}
_BREAKEVEN_LINE = {"color": "#b42318", "dash": "dash", "width": 1.5}


def _promo_figure(data: list, title: str, height: int, **layout) -> go.Figure:
    spec = {"title": {"text": title, "x": 0.01}, "height": height, "template": _LIGHT_TEMPLATE,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 40}}
    spec.update(layout)
    return go.Figure({"data": data, "layout": spec})


def _vline(x: float, xref: str = "x", line: dict | None = None) -> dict:
    return {"type": "line", "xref": xref, "x0": x, "x1": x, "yref": f"{xref.replace('x', 'y')} domain",
            "y0": 0, "y1": 1, "line": line or _BREAKEVEN_LINE}


def promotion_lift_figure(dates, baseline_units, start, end, lift_quantiles, *, title: str = "Units per day",
                          labels: dict | None = None) -> go.Figure:
    """The lift fan: baseline units per day, and the promotion's P10-P90 band and P50 in the window.

    Parameters
    ----------
    dates : sequence of dates
        The days shown (the window and some days around it).
    baseline_units : array-like
        Baseline units per day of the promoted SKUs, summed [units/day].
    start, end : date-like
        The promotion window (inclusive).
    lift_quantiles : tuple of float
        P10, P50, P90 of the window's units over the baseline units, ``Q / B``, over the draws [1].
    title : str
    labels : dict, optional
        ``baseline``, ``promo_p50``, ``band``, ``units``: the legend and axis words.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 the baseline, traces 1 and 2 the band's P10 and P90 edges, trace 3 the P50, all
        [units/day]; the band traces cover the window days only.
    """
    words = {"baseline": "baseline", "promo_p50": "promotion P50", "band": "P10-P90", "units": "units per day",
             **(labels or {})}
    days = pd.to_datetime(pd.Index(dates))
    base = np.asarray(baseline_units, float)
    inside = np.asarray((days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end)))
    x_all = days.strftime("%Y-%m-%d").tolist()
    x_in = days[inside].strftime("%Y-%m-%d").tolist()
    p10, p50, p90 = (base[inside] * q for q in lift_quantiles)
    data = [
        {"type": "scatter", "x": x_all, "y": base.tolist(), "name": words["baseline"], "mode": "lines",
         "line": {"color": UNITS_COLOR, "dash": "dot"}, "hovertemplate": "%{x}<br>%{y:,.1f}<extra>"
         + words["baseline"] + "</extra>"},
        {"type": "scatter", "x": x_in, "y": p10.tolist(), "name": "P10", "mode": "lines", "line": {"width": 0},
         "showlegend": False, "hovertemplate": "%{x}<br>P10 %{y:,.1f}<extra></extra>"},
        {"type": "scatter", "x": x_in, "y": p90.tolist(), "name": words["band"], "mode": "lines",
         "line": {"width": 0}, "fill": "tonexty", "fillcolor": PROMO_BAND_COLOR,
         "hovertemplate": "%{x}<br>P90 %{y:,.1f}<extra></extra>"},
        {"type": "scatter", "x": x_in, "y": p50.tolist(), "name": words["promo_p50"], "mode": "lines+markers",
         "line": {"color": GMV_COLOR, "width": 2}, "marker": {"size": 5},
         "hovertemplate": "%{x}<br>P50 %{y:,.1f}<extra></extra>"},
    ]
    window = {"type": "rect", "xref": "x", "yref": "y domain", "x0": pd.Timestamp(start).strftime("%Y-%m-%d"),
              "x1": pd.Timestamp(end).strftime("%Y-%m-%d"), "y0": 0, "y1": 1, "fillcolor": "#f2f2f2",
              "opacity": 0.6, "line": {"width": 0}, "layer": "below"}
    return _promo_figure(data, title, 320, hovermode="x unified", shapes=[window], xaxis={"type": "date"},
                         yaxis={"title": {"text": words["units"]}, "rangemode": "tozero"},
                         legend={"orientation": "h", "y": 1.02, "x": 1, "xanchor": "right", "yanchor": "bottom"})


def promotion_waterfall_figure(waterfall: pd.DataFrame, labels: dict | None = None, *, column: str = "mean",
                               title: str = "Margin waterfall", currency: str = "") -> go.Figure:
    """The margin waterfall: baseline margin, each change, promotion margin.

    Parameters
    ----------
    waterfall : pandas.DataFrame
        :attr:`opslib.promo.SimulationResult.waterfall` (``component, kind, mean, p10, p50, p90``).
        Changes that are 0 are left out; the ``total`` row (incremental profit) is not a bar.
    labels : dict, optional
        Component name -> the word shown.
    column : str, default "mean"
        The statistic drawn; the changes sum to the difference of the ends for ``mean`` only.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Waterfall`` trace: ``measure`` ``absolute`` (baseline), ``relative`` (changes),
        ``total`` (promotion margin); ``customdata`` holds the component names [currency].
    """
    labels = labels or {}
    kind = waterfall["kind"]
    rows = waterfall[(kind != "total") & ((kind != "change") | (waterfall[column].abs() > 1e-9))]
    measure = {"start": "absolute", "change": "relative", "end": "total"}
    unit = f" {currency}" if currency else ""
    data = [{"type": "waterfall", "x": [labels.get(c, c) for c in rows["component"]],
             "y": rows[column].astype(float).tolist(), "measure": [measure[k] for k in rows["kind"]],
             "customdata": rows["component"].tolist(), "increasing": {"marker": {"color": PROFIT_UP}},
             "decreasing": {"marker": {"color": PROFIT_DOWN}}, "totals": {"marker": {"color": PROFIT_TOTAL}},
             "connector": {"line": {"color": "#bbb"}}, "hovertemplate": "%{x}<br>%{y:,.0f}" + unit + "<extra></extra>"}]
    return _promo_figure(data, title, 380, showlegend=False, margin={"l": 60, "r": 20, "t": 50, "b": 110},
                         yaxis={"title": {"text": currency}})


def _histogram(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin centres, counts and widths of the finite values (``numpy.histogram``)."""
    v = values[np.isfinite(values)]
    if not len(v):
        return np.zeros(0), np.zeros(0, int), np.zeros(0)
    low, high = float(v.min()), float(v.max())
    if high - low <= 1e-9 * max(1.0, abs(high)):  # one value (e.g. GMV ROI of a percent-off without fees)
        return np.array([low]), np.array([len(v)]), np.array([max(abs(low) * 0.02, 1e-3)])
    counts, edges = np.histogram(v, bins=bins)
    return (edges[:-1] + edges[1:]) / 2, counts, np.diff(edges)


def roi_distribution_figure(profit_roi, gmv_roi, *, gmv_breakeven: float | None = None, title: str = "ROI",
                            profit_label: str = "profit ROI (breaks even at 0)",
                            gmv_label: str = "GMV ROI (投产比)", count_label: str = "draws",
                            probability_label: str = "P(profit ROI > 0)",
                            probability: float | None = None, bins: int = 40) -> go.Figure:
    """Histograms of profit ROI [shown in %] and GMV ROI (投产比) over the draws, break-even lines marked.

    Parameters
    ----------
    profit_roi, gmv_roi : array-like
        Per draw (NaN draws, without spend, are left out).
    gmv_breakeven : float, optional
        ``1 / g``: the GMV ROI at which the promotion breaks even.
    probability : float, optional
        P(profit ROI > 0), written on the left panel.
    bins : int, default 40
        Bins of :func:`numpy.histogram` per panel.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 the profit ROI bars (left), trace 1 the GMV ROI bars (right): bin centres and counts
        of draws.
    """
    panels = []
    for values, axis, colour, name, fmt in ((profit_roi, "", PROFIT_TOTAL, profit_label, ".1%"),
                                            (gmv_roi, "2", GMV_COLOR, gmv_label, ".2f")):
        centre, counts, width = _histogram(np.asarray(values, float), bins)
        panels.append({"type": "bar", "x": centre.tolist(), "y": counts.tolist(), "width": width.tolist(),
                       "marker": {"color": colour}, "name": name, "xaxis": f"x{axis}", "yaxis": f"y{axis}",
                       "hovertemplate": "%{x:" + fmt + "}<br>%{y} " + count_label + "<extra></extra>"})
    shapes = [_vline(0.0, "x")]
    if gmv_breakeven is not None and np.isfinite(gmv_breakeven):
        shapes.append(_vline(float(gmv_breakeven), "x2"))
    notes = [{"text": profit_label, "xref": "x domain", "yref": "paper", "x": 0.5, "y": 1.0, "yanchor": "bottom",
              "showarrow": False},
             {"text": gmv_label, "xref": "x2 domain", "yref": "paper", "x": 0.5, "y": 1.0, "yanchor": "bottom",
              "showarrow": False}]
    if probability is not None:
        notes.append({"text": f"{probability_label} = {probability:.1%}", "xref": "x domain", "yref": "y domain",
                      "x": 0.02, "y": 0.98, "xanchor": "left", "yanchor": "top", "showarrow": False,
                      "bgcolor": "rgba(255,255,255,0.8)"})
    return _promo_figure(panels, title, 320, showlegend=False, bargap=0.05, shapes=shapes, annotations=notes,
                         margin={"l": 60, "r": 20, "t": 70, "b": 40},
                         xaxis={"domain": [0, 0.44], "tickformat": ".0%"},
                         yaxis={"title": {"text": count_label}},
                         xaxis2={"domain": [0.56, 1], "anchor": "y2"}, yaxis2={"anchor": "x2"})


def tornado_figure(tornado: pd.DataFrame, names=None, *, centre: float | None = None, title: str = "Tornado",
                   axis_label: str = "incremental profit", currency: str = "") -> go.Figure:
    """Tornado: the profit with each uncertain input at its P10 and at its P90, largest swing on top.

    Parameters
    ----------
    tornado : pandas.DataFrame
        :attr:`opslib.promo.SimulationResult.tornado` (``sku, input, low, high, profit_low,
        profit_high, swing``), sorted by swing.
    names : sequence of str, optional
        The bar labels (default ``"sku · input"``).
    centre : float, optional
        A reference profit to mark (e.g. the P50).

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: bars from ``profit_low`` (``base``) to ``profit_high`` (``base + x``) [currency].
    """
    names = list(names) if names is not None else [f"{s} · {i}" for s, i in zip(tornado["sku"], tornado["input"])]
    low = tornado["profit_low"].astype(float).to_numpy()
    high = tornado["profit_high"].astype(float).to_numpy()
    unit = f" {currency}" if currency else ""
    data = [{"type": "bar", "orientation": "h", "y": names, "base": low.tolist(), "x": (high - low).tolist(),
             "marker": {"color": [PROFIT_UP if h >= lo else PROFIT_DOWN for lo, h in zip(low, high)]},
             "customdata": np.stack([low, high], axis=1).tolist() if len(low) else [],
             "hovertemplate": "%{y}<br>P10: %{customdata[0]:,.0f}" + unit + "<br>P90: %{customdata[1]:,.0f}"
                              + unit + "<extra></extra>"}]
    shapes = [_vline(float(centre), "x", {"color": "#555", "dash": "dot"})] if centre is not None and np.isfinite(
        centre) else []
    return _promo_figure(data, title, max(260, 60 + 28 * len(names)), showlegend=False, shapes=shapes,
                         margin={"l": 220, "r": 20, "t": 50, "b": 40},
                         xaxis={"title": {"text": axis_label + (f" [{currency}]" if currency else "")}},
                         yaxis={"autorange": "reversed", "type": "category"})


def promotion_comparison_figure(table: pd.DataFrame, *, title: str = "Scenarios",
                                axis_label: str = "incremental profit", currency: str = "") -> go.Figure:
    """Kept scenarios side by side: profit P50 with its P10-P90 range, P(profitable) in the hover.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`opslib.promo.Comparison.table`.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the P50 per scenario with error bars to P10 and P90 [currency].
    """
    p50 = table["profit_p50"].astype(float).to_numpy()
    unit = f" {currency}" if currency else ""
    data = [{"type": "scatter", "x": table["plan"].astype(str).tolist(), "y": p50.tolist(), "mode": "markers",
             "marker": {"size": 12, "color": PROFIT_TOTAL},
             "error_y": {"type": "data", "symmetric": False,
                         "array": (table["profit_p90"].astype(float).to_numpy() - p50).tolist(),
                         "arrayminus": (p50 - table["profit_p10"].astype(float).to_numpy()).tolist()},
             "customdata": table["probability_profitable"].astype(float).tolist(),
             "hovertemplate": "%{x}<br>P50 %{y:,.0f}" + unit + "<br>P(profit > 0) %{customdata:.0%}<extra></extra>"}]
    zero = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": 0, "y1": 0,
            "line": _BREAKEVEN_LINE}
    return _promo_figure(data, title, 320, showlegend=False, shapes=[zero],
                         yaxis={"title": {"text": axis_label + (f" [{currency}]" if currency else "")}})
