"""The landing page of `opslib serve`: four apps, who each is for, links under Voila's URL scheme, EN / 中文."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opslib.ui.i18n import check_strings
from opslib.ui.landing import (
    APPS,
    LANDING_STRINGS,
    LandingPage,
    app_list_html,
    landing_page,
)

REPO = Path(__file__).resolve().parents[1]


def _links(page: LandingPage) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', page.apps.value)


def test_strings_are_complete_in_both_languages():
    assert check_strings(LANDING_STRINGS) == []
    for app in APPS:
        for part in ("name", "for", "what"):
            assert f"{app.key}_{part}" in LANDING_STRINGS


def test_the_page_lists_the_four_apps_with_who_each_is_for():
    page = landing_page()
    text = page.apps.value
    for name in ("Data health", "Replenishment tuner", "Promotion simulator", "Operations dashboard"):
        assert name in text
    assert text.count('class="opslib-app"') == 4
    assert text.count("<b>For:</b>") == 4
    assert "planners and buyers" in text and "marketers" in text and "operations team" in text
    assert "opslib apps" in page.title.value


def test_links_are_relative_so_they_resolve_to_voila_render():
    """The page is /voila/render/index.ipynb: a relative link 'x.ipynb' resolves to /voila/render/x.ipynb."""
    from urllib.parse import urljoin

    page = landing_page()
    links = sorted(set(_links(page)))
    assert links == sorted(app.notebook for app in APPS)
    base = "http://127.0.0.1:8866/voila/render/index.ipynb"
    assert urljoin(base, "data_health.ipynb") == "http://127.0.0.1:8866/voila/render/data_health.ipynb"
    assert all(not link.startswith(("/", "http")) for link in links)


def test_the_notebooks_of_the_apps_are_named_as_linked():
    assert {app.notebook for app in APPS} == {
        "data_health.ipynb", "replenishment.ipynb", "promotion.ipynb", "operations.ipynb",
    }
    for name in ("data_health.ipynb", "operations.ipynb", "index.ipynb"):
        assert (REPO / "apps" / name).is_file()


def test_the_language_switch_relabels_the_page():
    page = landing_page()
    assert page.language.value == "en"
    page.language.value = "zh"
    assert page.translator.language == "zh"
    text = page.apps.value
    for name in ("数据健康", "补货调优", "促销模拟", "运营看板"):
        assert name in text
    assert "<b>适用对象:</b>" in text
    assert "Data health" not in text
    assert "opslib 应用" in page.title.value
    assert "供" in page.footer.value  # the footer follows too
    assert sorted(set(_links(page))) == sorted(app.notebook for app in APPS)  # same links
    page.language.value = "en"
    assert "Data health" in page.apps.value


def test_opens_in_chinese():
    page = landing_page(language="zh")
    assert "运营看板" in page.apps.value and page.language.value == "zh"
    with pytest.raises(ValueError, match="language"):
        landing_page(language="fr")


def test_missing_notebooks_are_listed_without_a_link(tmp_path):
    (tmp_path / "data_health.ipynb").write_text("{}")
    page = landing_page(apps_folder=tmp_path)
    assert _links(page) == ["data_health.ipynb", "data_health.ipynb"]  # the title and "Open"
    assert page.apps.value.count("not installed on this server") == 3
    assert "Operations dashboard" in page.apps.value


def test_names_are_escaped():
    from opslib.ui.i18n import Translator

    strings = {**LANDING_STRINGS, "data_health_name": {"en": "<b>x</b>", "zh": "<b>x</b>"}}
    html_text = app_list_html(Translator(strings))
    assert "&lt;b&gt;x&lt;/b&gt;" in html_text
