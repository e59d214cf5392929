"""The Replenishment tuner and the Promotion simulator in a real browser, on the demo shop.

Voila as `opslib serve` runs it, Debian's chromium through Playwright (skipped without them
unless ``OPSLIB_REQUIRE_BROWSER=1``). Each test opens its page, checks that no error text is
on it, changes a control and checks that the figure shown equals what the same widget
builder gives without a browser for the same inputs (those builders are checked against
direct library calls in test_ui_replenishment.py and test_ui_promotion.py), downloads a
file and parses it, switches the language and saves screenshots to ``tests/artifacts/``.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401
    ARTIFACTS,
    ERROR_TEXTS,
    PAGE_TIMEOUT_MS,
    REPO,
    browser,
    charts_drawn,
    voila_server,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    if not (REPO / "data" / "demo" / "items.csv").is_file():
        pytest.skip("the demo shop is not built: run `opslib demo build`")
    work = tmp_path_factory.mktemp("serve_apps")
    with voila_server(work) as served:
        yield served


@pytest.fixture(scope="module")
def demo_ws():
    import opslib

    return opslib.load_demo()


def _open(browser, server, notebook: str, ready: str):  # noqa: F811 - the fixture is passed in
    page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    start = time.perf_counter()
    page.goto(server["url"] + f"voila/render/{notebook}", wait_until="commit", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector("#rendered_cells", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(ready, timeout=PAGE_TIMEOUT_MS)
    print(f"{notebook} interactive after {time.perf_counter() - start:.1f} s")
    return page


def _no_errors(page, where: str) -> None:
    text = page.inner_text("body")
    for bad in ERROR_TEXTS:
        assert bad not in text, f"{bad!r} on the page {where}:\n{text[:3000]}"


def _input(page, label: str):
    """The input of the ipywidgets text/number control labelled ``label``."""
    return page.locator(f".widget-inline-hbox:has(> label.widget-label:text-is('{label}')) input").first


def _set_number(page, label: str, value) -> None:
    field = _input(page, label)
    field.fill(str(value))
    field.press("Enter")


def _wait_changed(page, selector: str, before: str, attribute: str | None = None, timeout: int = 60_000) -> None:
    read = f"e.getAttribute('{attribute}')" if attribute else "e.innerText"
    page.wait_for_function(
        f"([sel, before]) => {{ const e = document.querySelector(sel); return e && {read} !== before; }}",
        arg=[selector, before], timeout=timeout)


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 3600})
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1100})


def test_replenishment_tuner(browser, demo_server, demo_ws):  # noqa: F811
    from opslib.ui.replenishment_app import replenishment_app

    level = ".opslib-policy-order_up_to"
    page = _open(browser, demo_server, "replenishment.ipynb", level)
    try:
        _no_errors(page, "after opening")
        sku = page.eval_on_selector(".opslib-replenishment .widget-dropdown select", "e => e.value")
        charts_drawn(page, 3)  # history and forecast fan, lead-time demand, stock trajectory
        _screenshot(page, "replenishment_demo")

        # a control change: the target, then the figures equal the builder's for the same inputs
        before = page.get_attribute(level, "data-value")
        started = time.perf_counter()
        _set_number(page, "Target", 0.99)
        _wait_changed(page, level, before, "data-value")
        print(f"target change shown after {time.perf_counter() - started:.2f} s")
        headless = replenishment_app(demo_ws, currency="CNY", sku=sku)
        headless.tuner.target.value = 0.99
        for name in ("order_up_to", "safety_stock", "fill_rate", "cycle_service_level", "inventory_value"):
            shown = page.get_attribute(f".opslib-policy-{name}", "data-value")
            assert float(shown) == pytest.approx(float(headless.tuner.policy_result[name]), rel=1e-12, abs=1e-12), name
            assert page.inner_text(f".opslib-policy-{name}") == _text(headless.tuner.policy_panel.value, name)
        charts_drawn(page, 3)
        _no_errors(page, "after the target change")

        # the language switch relabels the page, the numbers stay
        page.get_by_role("button", name="简体中文").first.click()
        page.locator(".lm-TabBar-tab", has_text="单个商品").wait_for(timeout=60_000)
        assert page.get_attribute(level, "data-value") == headless.tuner.policy_panel.value.split(
            "opslib-policy-order_up_to' data-value='")[1].split("'")[0]
        _screenshot(page, "replenishment_demo_zh")
        page.get_by_role("button", name="English").first.click()
        page.locator(".lm-TabBar-tab", has_text="One SKU").wait_for(timeout=60_000)

        # the portfolio tab: computed on opening it, the CSV download parses back to the order list
        page.locator(".lm-TabBar-tab", has_text="Portfolio and orders").click()
        page.wait_for_selector(".opslib-portfolio-order-lines", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_selector(".opslib-portfolio-download-csv", timeout=PAGE_TIMEOUT_MS)
        lines = int(page.inner_text(".opslib-portfolio-order-lines").replace(",", ""))
        with page.expect_download(timeout=60_000) as download:
            page.click(".opslib-portfolio-download-csv")
        path = download.value.path()
        rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
        assert len(rows) == lines and lines > 0
        assert {"sku", "supplier"} <= set(rows[0])
        headless.tabs.selected_index = 1
        assert lines == len(headless.portfolio.plan.orders.orders)
        assert sorted(r["sku"] for r in rows) == sorted(headless.portfolio.plan.orders.orders["sku"])
        # the Excel link: the kernel writes the workbook when it is clicked, and the browser saves it
        with page.expect_download(timeout=60_000) as download:
            page.click(".opslib-portfolio-download-excel a")
        import pandas as pd

        book = pd.read_excel(download.value.path(), sheet_name=None, engine="openpyxl")
        assert len(book["Orders"]) == lines
        assert sorted(book["Orders"]["sku"]) == sorted(headless.portfolio.plan.orders.orders["sku"])
        _no_errors(page, "on the portfolio tab")
        assert charts_drawn(page, 1)["figure"] == 1  # the exchange curve; the SKU tab's charts are hidden
        _screenshot(page, "replenishment_demo_portfolio")
    finally:
        page.close()


def _text(panel_html: str, name: str) -> str:
    """The text of the element of class ``opslib-policy-<name>`` in a panel's HTML."""
    import html
    import re

    match = re.search(rf"opslib-policy-{name}' data-value='[^']*'>([^<]*)<", panel_html)
    assert match, name
    return html.unescape(match.group(1))


def test_promotion_simulator(browser, demo_server, demo_ws):  # noqa: F811
    from opslib.ui.promotion import promotion_simulator

    profit = ".opslib-promo-profit"
    page = _open(browser, demo_server, "promotion.ipynb", profit)
    try:
        _no_errors(page, "after opening")
        charts_drawn(page, 4)  # lift fan, margin waterfall, ROI distribution, tornado
        _screenshot(page, "promotion_demo")
        category = page.eval_on_selector(".opslib-promotion .widget-dropdown select", "e => e.value")
        headless = promotion_simulator(demo_ws, category=category, currency="CNY", background=False)

        before = page.inner_text(profit)
        started = time.perf_counter()
        _set_number(page, "Depth [%]", 30)
        _wait_changed(page, profit, before)
        print(f"depth change shown after {time.perf_counter() - started:.2f} s")
        headless.depth.value = 30.0
        for name in ("profit", "profit-roi", "gmv-roi", "probability", "units", "spend"):
            assert page.inner_text(f".opslib-promo-{name}") == _promo_text(headless.cards.value, name), name
        for name in ("breakeven-lift", "expected-lift", "max-depth"):
            assert page.inner_text(f".opslib-promo-{name}") == _promo_text(headless.guardrail_panel.value, name), name
        _no_errors(page, "after the depth change")

        # an impossible depth is refused in words and the page recovers
        _set_number(page, "Depth [%]", 120)
        page.get_by_text("must be between 0% and 100%").first.wait_for(timeout=60_000)
        _set_number(page, "Depth [%]", 30)
        page.wait_for_function("() => !document.body.innerText.includes('must be between 0% and 100%')",
                               timeout=60_000)

        # two kept scenarios, exported as CSV
        page.get_by_role("button", name="Keep scenario").click()
        page.wait_for_selector(".opslib-promo-scenario", timeout=60_000)
        _set_number(page, "Depth [%]", 15)
        _wait_changed(page, profit, page.inner_text(profit))
        page.get_by_role("button", name="Keep scenario").click()
        page.wait_for_function("() => document.querySelectorAll('.opslib-promo-scenario').length >= 2", timeout=60_000)
        page.wait_for_selector(".opslib-promo-export-csv", timeout=60_000)
        with page.expect_download(timeout=60_000) as download:
            page.click(".opslib-promo-export-csv")
        rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
        assert len(rows) >= 3, rows[:3]  # a header and two scenarios
        charts_drawn(page, 5)  # and the comparison

        page.get_by_role("button", name="简体中文").first.click()
        page.get_by_text("促销模拟器").first.wait_for(timeout=60_000)
        page.get_by_text("GMV ROI（投产比）").first.wait_for(timeout=60_000)
        _no_errors(page, "in Chinese")
        _screenshot(page, "promotion_demo_zh")
    finally:
        page.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """`opslib serve --data <a copy of the demo shop>`: saving scenarios never writes into data/demo."""
    import shutil

    if not (REPO / "data" / "demo" / "items.csv").is_file():
        pytest.skip("the demo shop is not built: run `opslib demo build`")
    work = tmp_path_factory.mktemp("serve_shared")
    data = work / "shop"
    shutil.copytree(REPO / "data" / "demo", data, ignore=shutil.ignore_patterns("promotion_scenarios"))
    with voila_server(work, ["--data", str(data)]) as served:
        yield {"data": data, **served}


def test_promotion_scenario_saved_for_colleagues_is_listed_after_a_reload(browser, shared_server):  # noqa: F811
    from opslib.promo_scenarios import load_scenarios, scenarios_log

    name = "browser 618 pet"
    page = _open(browser, shared_server, "promotion.ipynb", ".opslib-promo-profit")
    try:
        _no_errors(page, "after opening")
        page.wait_for_selector(".opslib-promo-save", timeout=60_000)
        before = page.inner_text(".opslib-promo-profit")
        _set_number(page, "Depth [%]", 35)
        _wait_changed(page, ".opslib-promo-profit", before)
        saver_profit = page.inner_text(".opslib-promo-profit")
        page.locator(".opslib-promo-saved-name-input input").fill(name)
        page.get_by_role("button", name="Save for colleagues").click()
        page.locator(".opslib-promo-saved-name", has_text=name).wait_for(timeout=60_000)
        _no_errors(page, "after saving")
    finally:
        page.close()
    saved = load_scenarios(shared_server["data"])
    assert saved.names() == [name] and scenarios_log(shared_server["data"])["action"].tolist() == ["saved"]

    page = _open(browser, shared_server, "promotion.ipynb", ".opslib-promo-profit")  # a colleague opens the page
    try:
        entry = page.locator(".opslib-promo-saved-name", has_text=name)
        entry.wait_for(timeout=60_000)
        row = page.locator(".opslib-promo-saved > .widget-hbox", has=entry)
        row.get_by_role("button", name="Compare").click()
        page.locator(".opslib-promo-scenario", has_text=name).wait_for(timeout=60_000)
        page.wait_for_selector(".opslib-promo-export-csv", timeout=60_000)
        _no_errors(page, "after comparing the saved scenario")
        _screenshot(page, "promotion_saved_scenario")
        # opened into the controls: the saver's depth, and the saver's numbers
        assert _input(page, "Depth [%]").input_value() == "20"
        row.get_by_role("button", name="Open").click()
        page.get_by_text(f"“{name}” is in the controls above").first.wait_for(timeout=60_000)
        page.wait_for_function("() => document.querySelector('.opslib-promo-profit').innerText === "
                               f"{saver_profit!r}", timeout=60_000)
        assert _input(page, "Depth [%]").input_value() == "35"
        _no_errors(page, "after opening the saved scenario")
    finally:
        page.close()


def _promo_text(panel_html: str, name: str) -> str:
    import html
    import re

    match = re.search(rf"class='opslib-promo-{name}'[^>]*>([^<]*)<", panel_html)
    assert match, name
    return html.unescape(match.group(1))
