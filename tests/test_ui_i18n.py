"""English / 简体中文 labels: the string tables are complete and a switch relabels the page."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from opslib.ui.base import GuardedApp
from opslib.ui.i18n import COMMON, LANGUAGES, Translator, check_strings, language_toggle


def test_common_strings_are_complete():
    assert check_strings(COMMON) == []
    assert set(LANGUAGES) == {"en", "zh"}


def test_check_strings_finds_missing_language_and_mismatched_fields():
    problems = check_strings({
        "a": {"en": "Units", "zh": ""},
        "b": {"en": "{n} units", "zh": "{count} 件"},
        "c": {"en": "{n:,.0f} units", "zh": "{n:,.0f} 件"},
    })
    assert len(problems) == 2
    assert "'a' has no text in zh" in problems[0]
    assert "'b'" in problems[1] and "placeholders" in problems[1]


def test_bind_relabels_every_widget_and_keeps_dropdown_values():
    tr = Translator({"target": {"en": "Target {pct}%", "zh": "目标 {pct}%"},
                     "fill": {"en": "Fill rate", "zh": "满足率"},
                     "cycle": {"en": "Cycle service", "zh": "周期服务水平"}})
    slider = tr.bind(widgets.FloatSlider(), "target", pct=95)
    label = tr.bind(widgets.HTML(), "sku", attribute="value")
    drop = tr.bind(widgets.Dropdown(options=[("x", "fill"), ("y", "cycle")], value="cycle"), "",
                   attribute="options", keys=[("fill", "fill"), ("cycle", "cycle")])
    tabs = widgets.Tab(children=[widgets.HTML(), widgets.HTML()])
    tr.bind(tabs, "", attribute="title", keys=["fill", "cycle"])
    assert slider.description == "Target 95%" and label.value == "SKU"
    assert [lab for lab, _ in drop.options] == ["Fill rate", "Cycle service"]
    seen = []
    tr.on_change(seen.append)
    tr.set_language("zh")
    assert slider.description == "目标 95%" and label.value == "商品"
    assert [lab for lab, _ in drop.options] == ["满足率", "周期服务水平"]
    assert drop.value == "cycle"
    assert tabs.get_title(0) == "满足率"
    assert seen == ["zh"]
    tr.set_language("zh")  # no switch, no second call
    assert seen == ["zh"]
    assert tr.t("units") == "件"


def test_unknown_key_and_language_are_refused():
    tr = Translator()
    with pytest.raises(KeyError):
        tr.t("no_such_key")
    with pytest.raises(ValueError, match="language must be one of"):
        tr.set_language("fr")
    with pytest.raises(ValueError, match="language must be one of"):
        Translator(language="de")


def test_toggle_switches_the_translator():
    tr = Translator()
    label = tr.bind(widgets.Label(), "category", attribute="value")
    toggle = language_toggle(tr)
    assert toggle.value == "en"
    toggle.value = "zh"
    assert tr.language == "zh" and label.value == "品类"


def test_error_panel_heading_follows_the_language():
    class App(GuardedApp):
        pass

    app = App()
    tr = Translator()
    app._init_guard(tr)
    app._guard("draw the chart", lambda: 1 / 0)
    app._show_errors()
    assert "Something went wrong." in app.error_panel.value
    assert "Could not draw the chart: ZeroDivisionError" in app.error_panel.value
    tr.set_language("zh")
    app._show_errors()
    assert "出错了。" in app.error_panel.value


def test_page_string_tables_do_not_clash_and_toggles_follow_each_other():
    from opslib.ui import data_health, operations, portfolio, replenishment
    from opslib.ui.i18n import merge_strings

    for tables in ((replenishment.STRINGS, portfolio.STRINGS), (data_health.STRINGS,), (operations.STRINGS,)):
        merged = merge_strings(*tables)
        assert check_strings(merged) == []
    with pytest.raises(ValueError, match="'title'"):
        merge_strings({"title": {"en": "A", "zh": "甲"}}, {"title": {"en": "B", "zh": "乙"}})
    tr = Translator()
    first, second = language_toggle(tr), language_toggle(tr)
    first.value = "zh"
    assert second.value == "zh" and tr.language == "zh"
    second.value = "en"
    assert first.value == "en" and tr.language == "en"
