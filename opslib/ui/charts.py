"""Plotly chart builders, and the widget that shows them.

The builders return plain :class:`plotly.graph_objects.Figure` objects with
hover text; :func:`figure_output` and :func:`show_figure` put a figure into an
``ipywidgets.Output`` as a Plotly mime bundle. The browser draws it with the
``jupyterlab-plotly`` renderer that ships with plotly (no CDN, works offline in
Voila), with hover, zoom and pan.

Why not ``go.Figure``: it sends each change as an incremental message
to the views it has, and in Voila 0.5 such an update was sometimes lost (the
page kept the old chart while the rest followed the filter; seen in the browser
test after a window resize). Replacing the whole figure in an ``Output`` is
stateless and never goes out of step; the price is that zoom resets when the
data change, which is what a new selection wants anyway.
"""

from __future__ import annotations

import json

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "figure_bundle",
    "figure_output",
    "sales_figure",
    "show_figure",
    "stockout_figure",
]

UNITS_COLOR = "#4c78a8"
GMV_COLOR = "#f58518"
STOCKOUT_COLOR = "#e45756"


PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def figure_bundle(fig: go.Figure) -> dict:
    """A figure as a Jupyter display-data output (Plotly mime type, text fallback).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure

    Returns
    -------
    dict
        ``{"output_type": "display_data", "data": {...}, "metadata": {}}``.
    """
    spec = json.loads(fig.to_json())  # plotly's encoder: numpy, dates, NaN
    spec["config"] = dict(PLOTLY_CONFIG)
    title = fig.layout.title.text or "chart"
    return {
        "output_type": "display_data",
        "data": {PLOTLY_MIMETYPE: spec, "text/plain": f"<plotly chart: {title}>"},
        "metadata": {},
    }


def figure_output(fig: go.Figure | None = None, height_px: int | None = None) -> widgets.Output:
    """An ``ipywidgets.Output`` showing a figure (see :func:`show_figure`).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure, optional
        The figure to show first.
    height_px : int, optional
        Minimum height of the widget [px], so that the page does not jump
        while the figure is replaced.

    Returns
    -------
    ipywidgets.Output
    """
    out = widgets.Output(layout=widgets.Layout(min_height=f"{height_px}px" if height_px else None))
    if fig is not None:
        show_figure(out, fig)
    return out


def show_figure(output: widgets.Output, fig: go.Figure) -> None:
    """Replace what an ``Output`` shows with a figure.

    Sets the widget's ``outputs`` directly: no kernel display machinery is
    involved, so this works the same in a test, a notebook and Voila.

    Parameters
    ----------
    output : ipywidgets.Output
    fig : plotly.graph_objects.Figure
    """
    output.outputs = (figure_bundle(fig),)


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
