"""The Operations dashboard in a real browser: `opslib serve` on the demo shop, Debian's chromium.

Follows tests/test_browser.py and reuses its browser fixture and helpers: skipped when
chromium or Playwright is missing, unless ``OPSLIB_REQUIRE_BROWSER=1`` turns the skip into a
failure. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import time

import pytest

from test_ops_report import demo_workspace
from test_browser import ARTIFACTS, ERROR_TEXTS, PAGE_TIMEOUT_MS, REPO, browser, charts_drawn, voila_server  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KPI_GMV = ".opslib-kpi[data-measure='gmv'] .opslib-kpi-value"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """`opslib serve --no-browser` on the demo shop, on a free port, from a foreign working directory."""
    if not (REPO / "data" / "demo" / "items.csv").is_file():
        pytest.fail("the demo shop is shipped in data/demo: restore it with `opslib demo build`")
    demo_workspace()  # the session's workspace cache holds the demo shop: the kernel loads it in 0.1 s
    work = tmp_path_factory.mktemp("serve_operations")
    with voila_server(work) as served:
        yield served


def test_operations_dashboard(browser, demo_server):  # noqa: F811 - the imported fixture
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:200]}") if m.type == "error" else None)
    try:
        start = time.perf_counter()
        page.goto(demo_server["url"] + "voila/render/operations.ipynb", wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_selector("#rendered_cells", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_selector(KPI_GMV, timeout=PAGE_TIMEOUT_MS)
        page.wait_for_function(
            "() => { const p = document.querySelector('.js-plotly-plot');"
            " return p && p.data && p.data[0] && p.data[0].y && p.data[0].y.length > 0; }",
            timeout=PAGE_TIMEOUT_MS,
        )
        print(f"Operations dashboard interactive after {time.perf_counter() - start:.1f} s")
        charts_drawn(page, 3)  # KPI trend, rates, suppliers
        text = page.inner_text("body")
        for bad in ERROR_TEXTS:
            assert bad not in text, f"{bad!r} on the page:\n{text[:3000]}"
        assert "The books agree" in text and "Dead, slow and excess stock" in text

        month_select = ".widget-dropdown select >> nth=0"
        assert page.eval_on_selector(".widget-dropdown select", "e => e.value") is not None
        options = page.eval_on_selector_all(
            ".widget-dropdown select", "els => Array.from(els[0].options).map(o => o.textContent)"
        )
        assert options[0] == "2026-09" and "2026-08" in options, options[:5]
        gmv_before = page.inner_text(KPI_GMV)

        ARTIFACTS.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1300, "height": 3400})
        page.screenshot(path=str(ARTIFACTS / "operations_demo.png"))

        page.select_option(month_select, label="2026-08")
        try:
            page.wait_for_function(
                "([sel, before]) => { const e = document.querySelector(sel); return e && e.innerText !== before; }",
                arg=[KPI_GMV, gmv_before],
                timeout=60_000,
            )
        except Exception as exc:  # a plain-words failure with what the page and the server said
            page.screenshot(path=str(ARTIFACTS / "operations_demo_FAILED.png"))
            pytest.fail(
                f"the KPI tiles did not follow the month filter ({type(exc).__name__}).\n"
                f"gmv tile: {page.inner_text(KPI_GMV)!r}\nconsole: {console[-20:]}\n"
                f"server log:\n{demo_server['log'].read_text()[-3000:]}"
            )
        assert page.inner_text(KPI_GMV) != gmv_before
        page.get_by_text("2026-08, the whole shop").wait_for(timeout=30_000)  # the rest of the page follows
        text = page.inner_text("body")
        for bad in ERROR_TEXTS:
            assert bad not in text, f"{bad!r} on the page after filtering:\n{text[:3000]}"
        charts_drawn(page, 3)
        page.screenshot(path=str(ARTIFACTS / "operations_demo_2026-08.png"))
    finally:
        page.close()
