"""The Replenishment tuner page: one SKU and the whole portfolio, in two tabs with one language switch.

:func:`replenishment_app` builds what ``apps/replenishment.ipynb`` shows: the
:class:`~opslib.ui.replenishment.SkuTuner` (tab "One SKU") and the
:class:`~opslib.ui.portfolio.PortfolioView` (tab "Portfolio") over the same
workspace and one :class:`~opslib.ui.i18n.Translator`. The portfolio's plan
for every SKU takes seconds, so it is computed when its tab is first opened
(or by its Recompute button), not when the page opens. Each tab can export
what it shows as a static HTML page (:mod:`opslib.ui.snapshot`) for people
without access to the server.
"""

from __future__ import annotations

import html
import logging

import ipywidgets as widgets
import pandas as pd

from opslib.data.workspace import Workspace
from opslib.ui import portfolio as _portfolio
from opslib.ui import replenishment as _tuner
from opslib.ui.base import open_workspace
from opslib.ui.i18n import Translator, language_toggle, merge_strings
from opslib.ui.snapshot import download_link, snapshot_html

__all__ = ["STRINGS", "ReplenishmentApp", "replenishment_app"]

log = logging.getLogger("opslib.ui")

#: This module's words; the tabs bring their own (:data:`opslib.ui.replenishment.STRINGS`,
#: :data:`opslib.ui.portfolio.STRINGS`).
STRINGS: dict[str, dict[str, str]] = {
    "page_title": {"en": "Replenishment tuner", "zh": "补货参数调优"},
    "page_note": {"en": "For planners: tune the stocking policy of a SKU or a segment, see what the portfolio's "
                        "budget buys, and download today's order list.",
                  "zh": "给计划员：调整单个商品或细分的补货策略，查看库存预算能换来的满足率，并下载今日订货单。"},
    "tab_sku": {"en": "One SKU", "zh": "单个商品"},
    "tab_portfolio": {"en": "Portfolio and orders", "zh": "组合与订货单"},
    "snapshot": {"en": "Export a snapshot (HTML)", "zh": "导出快照（HTML）"},
    "snapshot_ready": {"en": "Download the snapshot", "zh": "下载快照"},
    "snapshot_hint": {"en": "A single page with the numbers and charts shown here; it opens offline.",
                      "zh": "单个网页，含此处的数字与图表，离线可打开。"},
    "snapshot_sku_title": {"en": "Replenishment policy of {sku}", "zh": "{sku} 的补货策略"},
    "snapshot_portfolio_title": {"en": "Replenishment portfolio and today's orders", "zh": "补货组合与今日订货单"},
    "snapshot_policy": {"en": "Policy", "zh": "策略"},
    "snapshot_why": {"en": "Why these numbers", "zh": "数字从何而来"},
    "snapshot_charts": {"en": "Charts", "zh": "图表"},
    "snapshot_orders": {"en": "Today's orders", "zh": "今日订货单"},
    "snapshot_curve": {"en": "Exchange curve", "zh": "投资-满足率曲线"},
    "snapshot_not_computed": {"en": "Compute the portfolio first (open its tab or press Recompute).",
                              "zh": "请先计算组合（打开该页或点击重新计算）。"},
}


class ReplenishmentApp(widgets.VBox):
    """The Replenishment tuner page as one ipywidgets box.

    Parameters
    ----------
    ws : Workspace
    language : {"en", "zh"}, default "en"
    currency : str, optional
    review_period_days : int, default 7
        Initial review period of both tabs [days].
    compute_portfolio : bool, default False
        Compute the portfolio when the page opens (default: when its tab is
        first selected).
    **tuner_options
        Passed to :class:`~opslib.ui.replenishment.SkuTuner` (``sku``,
        ``service_type``, ``target``, ``policy``, ...).

    Attributes
    ----------
    translator : Translator
    tuner : SkuTuner
    portfolio : PortfolioView
    tabs : ipywidgets.Tab
    language : ipywidgets.ToggleButtons
    snapshot_button : ipywidgets.Button
    snapshot_link : ipywidgets.HTML
        The download link of the last snapshot (class ``opslib-snapshot-link``).
    snapshot : str or None
        The last snapshot's HTML.
    """

    def __init__(self, ws: Workspace, *, language: str = "en", currency: str = "", review_period_days: int = 7,
                 compute_portfolio: bool = False, **tuner_options):
        tr = Translator(merge_strings(STRINGS, _tuner.STRINGS, _portfolio.STRINGS), language)
        self.translator = tr
        self.ws = ws
        self.tuner = _tuner.SkuTuner(ws, translator=tr, currency=currency, review_period_days=review_period_days,
                                     **tuner_options)
        # The plan reuses the tuner's whole-shop forecast when it covers the plan's SKUs and horizon
        # (opslib.plan.forecast_matches); otherwise it forecasts itself.
        self.portfolio = _portfolio.PortfolioView(ws, translator=tr, currency=currency,
                                                  review_period_days=review_period_days, compute=compute_portfolio,
                                                  model=self.tuner.model_name, forecast=self._tuner_forecast)
        for part in (self.tuner, self.portfolio):  # one switch for the page
            part.language.layout.display = "none"
        self.language = language_toggle(tr)
        self.title = widgets.HTML()
        self.tabs = widgets.Tab(children=[self.tuner, self.portfolio])
        tr.bind(self.tabs, "", attribute="title", keys=["tab_sku", "tab_portfolio"])
        self.tabs.observe(self._on_tab, names="selected_index")
        self.snapshot_button = tr.bind(widgets.Button(icon="download"), "snapshot", attribute="description")
        self.snapshot_button.layout.width = "auto"
        self.snapshot_button.add_class("opslib-snapshot")
        self.snapshot_link = widgets.HTML()
        self.snapshot: str | None = None
        self.snapshot_button.on_click(lambda _: self._run(self.make_snapshot))
        tr.on_change(lambda _: self._relabel())
        self._relabel()
        super().__init__(children=[
            widgets.HBox([self.title, self.language],
                         layout=widgets.Layout(justify_content="space-between", align_items="center")),
            widgets.HBox([self.snapshot_button, self.snapshot_link], layout=widgets.Layout(align_items="center")),
            self.tabs,
        ])
        self.add_class("opslib-replenishment-app")

    # ------------------------------------------------------------------ wiring

    def _relabel(self) -> None:
        t = self.translator.t
        self.title.value = (f"<h1 style='margin:4px 0'>{html.escape(t('page_title'))}</h1>"
                            f"<div style='color:#555'>{html.escape(t('page_note'))}</div>")
        self.snapshot_link.value = ""
        self.snapshot = None

    def _tuner_forecast(self):
        """The tuner's forecast of every SKU (for the portfolio's plan)."""
        return self.tuner.forecast

    def _part(self):
        return self.tuner if self.tabs.selected_index in (0, None) else self.portfolio

    def _run(self, func) -> None:
        """Run ``func`` as a callback of the selected tab: a failure shows in its error panel."""
        part = self._part()
        with part.log_output:
            part._guard("export the snapshot", func)
            part._show_errors()

    def _on_tab(self, change: dict) -> None:
        self.snapshot_link.value = ""
        if change["new"] == 1 and self.portfolio.plan is None:
            from opslib.ui.charts import figures_after_next_paint

            with self.portfolio.log_output, figures_after_next_paint():  # the order list first, then the curve
                self.portfolio.recompute()

    def prepare_ahead(self) -> None:
        """What a preheated page computes before its visitor comes: the portfolio's per-SKU curves.

        They take most of the first portfolio recompute (about 3 s of the 4-5 s on the demo shop) and
        depend on the data and the review period only; the plan is made when the tab is opened. A
        failure here is only logged: the recompute tries again and shows it.
        """
        try:
            self.portfolio.prepare_curves()
        except Exception:  # noqa: BLE001 - the recompute will say it on the page
            log.warning("could not compute the portfolio curves ahead", exc_info=True)

    # ------------------------------------------------------------------ snapshots

    def snapshot_sections(self) -> tuple[str, list]:
        """Title and sections of the snapshot of the selected tab (see :func:`opslib.ui.snapshot.snapshot_html`)."""
        t = self.translator.t
        if self._part() is self.tuner:
            tuner = self.tuner
            sections = [(t("snapshot_policy"), tuner.inputs_note.value + tuner.policy_panel.value),
                        (t("snapshot_why"), tuner.why_panel.value)]
            charts = [c for c in (tuner.history_chart, tuner.ltd_chart, tuner.trajectory_chart) if c is not None]
            sections += [(t("snapshot_charts") if i == 0 else None, chart) for i, chart in enumerate(charts)]
            return t("snapshot_sku_title", sku=str(tuner.sku.value)), sections
        view = self.portfolio
        if view.plan is None:
            raise ValueError(t("snapshot_not_computed"))
        orders = view.plan.orders.orders
        sections = [(None, view.cards.value)]
        if view.curve_figure is not None:
            sections.append((t("snapshot_curve"), view.curve_figure))
        sections.append((t("snapshot_orders"), orders if isinstance(orders, pd.DataFrame) else pd.DataFrame()))
        return t("snapshot_portfolio_title"), sections

    def make_snapshot(self) -> str:
        """Build the selected tab's snapshot, put its download link on the page and return the HTML."""
        title, sections = self.snapshot_sections()
        name = self.ws.name if self.ws.path is None else f"{self.ws.name} ({self.ws.path})"
        page = snapshot_html(title, sections, subtitle=name, lang=self.translator.language)
        self.snapshot = page
        stem = "replenishment_sku" if self._part() is self.tuner else "replenishment_portfolio"
        self.snapshot_link.value = download_link(page.encode("utf-8"), f"{stem}.html", "text/html",
                                                 self.translator.t("snapshot_ready"), "opslib-snapshot-link")
        return page


def replenishment_app(ws: Workspace | None = None, *, language: str = "en", currency: str = "",
                      **options) -> ReplenishmentApp:
    """Build the Replenishment tuner page (see :class:`ReplenishmentApp`).

    Parameters
    ----------
    ws : Workspace, optional
        Default :func:`opslib.data.default_workspace` (``$OPSLIB_DATA`` or the
        demo shop); data that breaks the rules opens the page empty, saying why.
    language : {"en", "zh"}, default "en"
    currency : str, optional
    **options
        Passed to :class:`ReplenishmentApp`.
    """
    refusal = None
    if ws is None:
        ws, refusal = open_workspace(as_read_when_refused=False)
    app = ReplenishmentApp(ws, language=language, currency=currency, **options)
    if refusal:
        for part in (app.tuner, app.portfolio):
            part.refusal = refusal
            part._show_errors()
    return app

