"""The landing page of ``opslib serve``: the apps, who each is for, in English or 简体中文.

``apps/index.ipynb`` shows :func:`landing_page`; ``opslib serve`` opens the browser on it
(``/voila/render/index.ipynb``). The links are relative (``data_health.ipynb``), so they
resolve to Voila's ``/voila/render/<name>.ipynb`` under any ``base_url`` and keep the login
cookie a token or password set.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets

from opslib.ui.i18n import Translator, check_strings, language_toggle

__all__ = ["APPS", "LANDING_STRINGS", "AppEntry", "LandingPage", "app_list_html", "landing_page"]


@dataclass(frozen=True)
class AppEntry:
    """One app of the landing page.

    Attributes
    ----------
    notebook : str
        File name in ``apps/`` (what Voila renders at ``/voila/render/<notebook>``).
    key : str
        Prefix of its strings in :data:`LANDING_STRINGS`: ``<key>_name``, ``<key>_for``
        (who it is for) and ``<key>_what`` (what it does).
    """

    notebook: str
    key: str


#: The apps, in the order of the page.
APPS: tuple[AppEntry, ...] = (
    AppEntry("data_health.ipynb", "data_health"),
    AppEntry("replenishment.ipynb", "replenishment"),
    AppEntry("promotion.ipynb", "promotion"),
    AppEntry("operations.ipynb", "operations"),
)

LANDING_STRINGS: dict[str, dict[str, str]] = {
    "landing_intro": {
        "en": "Planning apps for the shop's weekly decisions. Pick the one for your job; every app opens on "
              "the shop's data.",
        "zh": "为店铺每周决策准备的计划应用。选择与您工作相关的应用；每个应用都打开店铺的数据。",
    },
    "for_whom": {"en": "For", "zh": "适用对象"},
    "open_app": {"en": "Open", "zh": "打开"},
    "not_installed": {"en": "not installed on this server", "zh": "此服务器尚未安装"},
    "landing_footer": {
        "en": "Results can be exported as a static HTML snapshot (one file that opens offline) for people "
              "without access to this server.",
        "zh": "结果可导出为静态 HTML 快照（单个文件，离线即可打开），供无法访问此服务器的同事查看。",
    },
    "data_health_name": {"en": "Data health", "zh": "数据健康"},
    "data_health_for": {
        "en": "whoever loads or maintains the shop's data",
        "zh": "负责导入或维护店铺数据的人",
    },
    "data_health_what": {
        "en": "The tables with row counts and date ranges, what validation found and how to fix it, sales by "
            "category, top SKUs and stock-out days.",
        "zh": "各数据表的行数与日期范围、校验发现的问题及修正方法、分品类销量、热销商品与缺货天数。",
    },
    "replenishment_name": {"en": "Replenishment tuner", "zh": "补货调优"},
    "replenishment_for": {
        "en": "planners and buyers who decide how much to order and when",
        "zh": "决定订货数量与时机的计划员和采购",
    },
    "replenishment_what": {
        "en": "Forecasts with their uncertainty, the service target and the policy it needs, simulated service "
              "and cost, and today's order suggestions.",
        "zh": "带不确定性的预测、服务水平目标及所需的库存策略、模拟的服务水平与成本，以及今日订货建议。",
    },
    "promotion_name": {"en": "Promotion simulator", "zh": "促销模拟"},
    "promotion_for": {
        "en": "marketers planning a promotion (618, Double 11, threshold offers)",
        "zh": "策划促销活动（618、双十一、满减）的营销人员",
    },
    "promotion_what": {
        "en": "The lift, cannibalization and post-promotion dip of a planned promotion, its ROI as a range "
              "(Monte Carlo) and whether the stock will last.",
        "zh": "计划促销的增量、蚕食效应与促销后回落，投资回报率的区间（蒙特卡洛模拟），以及库存是否够用。",
    },
    "operations_name": {"en": "Operations dashboard", "zh": "运营看板"},
    "operations_for": {
        "en": "the operations team and management, month by month",
        "zh": "运营团队与管理层，按月查看",
    },
    "operations_what": {
        "en": "KPI tiles with the change on the month before, trends, stock movement (入/出/存), stocktake "
              "variance, the supplier scorecard and dead, slow and excess stock.",
        "zh": "KPI 指标卡（含环比）、趋势、库存进出存、盘点差异、供应商评分卡，以及呆滞、慢动和过量库存。",
    },
}
"""The landing page's words (merged over :data:`opslib.ui.i18n.COMMON`)."""

_CARD_STYLE = (
    "border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;margin:8px 0;"
    "background:#fff;max-width:760px"
)


def app_list_html(translator: Translator, apps_folder: str | Path | None = None) -> str:
    """The app cards of the landing page as HTML, in the translator's language.

    Parameters
    ----------
    translator : Translator
        Holding :data:`LANDING_STRINGS`.
    apps_folder : str or Path, optional
        The folder Voila serves; an app whose notebook is not there is listed without a link.
        Default: every app is linked.

    Returns
    -------
    str
        One ``<div class="opslib-app">`` per app with a relative link ``<notebook>``.
    """
    folder = Path(apps_folder) if apps_folder is not None else None
    t = translator.t
    cards = []
    for app in APPS:
        name = html.escape(t(f"{app.key}_name"))
        available = folder is None or (folder / app.notebook).is_file()
        if available:
            title = (f'<a href="{html.escape(app.notebook)}" style="font-size:1.25em;font-weight:600;'
                     f'text-decoration:none">{name}</a>')
            action = f' <a href="{html.escape(app.notebook)}">{html.escape(t("open_app"))} →</a>'
        else:
            title = f'<span style="font-size:1.25em;font-weight:600;color:#777">{name}</span>'
            action = f' <span style="color:#777">({html.escape(t("not_installed"))})</span>'
        cards.append(
            f'<div class="opslib-app" data-notebook="{html.escape(app.notebook)}" style="{_CARD_STYLE}">'
            f"{title}"
            f'<div class="opslib-app-for" style="margin-top:4px"><b>{html.escape(t("for_whom"))}:</b> '
            f"{html.escape(t(f'{app.key}_for'))}</div>"
            f'<div style="color:#444;margin-top:4px">{html.escape(t(f"{app.key}_what"))}{action}</div>'
            "</div>"
        )
    return "\n".join(cards)


class LandingPage(widgets.VBox):
    """The landing page widget: title, language switch, one card per app.

    Parameters
    ----------
    language : {"en", "zh"}, default "en"
    apps_folder : str or Path, optional
        See :func:`app_list_html`.

    Attributes
    ----------
    translator : Translator
    language : ipywidgets.ToggleButtons
        The EN / 中文 switch.
    title, intro, apps, footer : ipywidgets.HTML
    """

    def __init__(self, language: str = "en", apps_folder: str | Path | None = None):
        self.translator = Translator(LANDING_STRINGS, language=language)
        self.apps_folder = apps_folder
        tr = self.translator
        self.language = language_toggle(tr)
        self.title = widgets.HTML()
        self.title.add_class("opslib-landing-title")
        self.intro = tr.bind(widgets.HTML(), "landing_intro", attribute="value")
        self.apps = widgets.HTML()
        self.apps.add_class("opslib-landing-apps")
        self.footer = tr.bind(widgets.HTML(), "landing_footer", attribute="value")
        tr.on_change(lambda _language: self._render())
        self._render()
        super().__init__(
            children=[
                widgets.HBox([self.title, self.language],
                             layout=widgets.Layout(justify_content="space-between", align_items="center")),
                self.intro, self.apps, self.footer,
            ],
            layout=widgets.Layout(max_width="820px"),
        )

    def _render(self) -> None:
        self.title.value = f"<h1 style='margin:0'>{html.escape(self.translator.t('apps_title'))}</h1>"
        self.apps.value = app_list_html(self.translator, self.apps_folder)


def landing_page(language: str = "en", apps_folder: str | Path | None = None) -> LandingPage:
    """The landing page of the apps (what ``apps/index.ipynb`` shows).

    Parameters
    ----------
    language : {"en", "zh"}, default "en"
        The language it opens in; the page has a switch.
    apps_folder : str or Path, optional
        The folder of the app notebooks; apps missing there are listed without a link.

    Returns
    -------
    LandingPage
    """
    problems = check_strings(LANDING_STRINGS)
    if problems:  # pragma: no cover - guarded by the unit tests
        raise ValueError("; ".join(problems))
    return LandingPage(language=language, apps_folder=apps_folder)
