"""The Data health app in a real browser: Voila as `opslib serve` runs it, Debian's chromium.

Skipped when chromium or Playwright is missing, unless ``OPSLIB_REQUIRE_BROWSER=1``
(CI) turns the skip into a failure. Screenshots go to ``tests/artifacts/``.

The server runs twice: on the small hand-made shop (``--data``, exact numbers)
and on the demo shop (the default, end to end).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import small_tables

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = os.environ.get("OPSLIB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE_TIMEOUT_MS = 240_000
ERROR_TEXTS = (
    "Traceback", "There was an error when executing cell", "Something went wrong", "The data was refused", "出错了",
)


def _missing(reason: str) -> None:
    if os.environ.get("OPSLIB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required (OPSLIB_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        _missing(f"chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright (Python) is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (opslib serve and Voila, which stops its kernels); then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


@contextlib.contextmanager
def voila_server(work: Path, args: list[str] = ()):
    """Run `opslib serve --no-browser` on a free port with ``work`` as working directory.

    Yields ``{"url": ..., "log": ...}`` once Voila answers; always stops the server
    (and its kernels) afterwards.
    """
    port = _free_port()
    log_path = work / "voila.log"
    env = {k: v for k, v in os.environ.items() if k != "OPSLIB_DATA"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "opslib", "serve", "--port", str(port), "--no-browser", *args],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"opslib serve exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Voila did not answer on {url} within 90 s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield {"url": url, "log": log_path}
    finally:
        _stop(proc)


@pytest.fixture(scope="module", params=["small", "demo"])
def server(request, tmp_path_factory):
    """`opslib serve --no-browser` on a free port, from a foreign working directory."""
    work = tmp_path_factory.mktemp(f"serve_{request.param}")
    args = []
    if request.param == "small":
        data = work / "small_shop"
        data.mkdir()
        for name, table in small_tables().items():
            table.to_csv(data / f"{name}.csv", index=False)
        args = ["--data", str(data)]
    elif not (REPO / "data" / "demo" / "items.csv").is_file():
        pytest.skip("the demo shop is not built: run `opslib demo build`")
    started = time.perf_counter()
    with voila_server(work, args) as served:
        print(f"[{request.param}] Voila answered after {time.perf_counter() - started:.1f} s")
        yield {"name": request.param, **served}


#: The full plotly.js of the ``jupyterlab-plotly`` renderer (4.8 MB): no app page may load it
#: (opslib.ui.charts.Chart draws with a partial bundle sent by the kernel).
FULL_PLOTLY_CHUNK = re.compile(r"jupyterlab-plotly/static/\d+\.[0-9a-f]+\.js")


def charts_drawn(page, minimum: int, timeout: int = PAGE_TIMEOUT_MS) -> dict:
    """Wait until every chart shown on the page is drawn (``data-drawn`` of opslib.ui.charts.Chart).

    Charts in a hidden tab are not counted. Asserts that none failed and that at least
    ``minimum`` show a figure with its plotly.js plot; returns the counts per state.
    """
    read = ("() => { const shown = Array.from(document.querySelectorAll('.opslib-chart'))"
            ".filter(e => e.offsetParent !== null); const n = {};"
            " for (const e of shown) { const k = e.dataset.drawn || 'waiting'; n[k] = (n[k] || 0) + 1; }"
            " n.plots = shown.filter(e => e.querySelector('.js-plotly-plot .main-svg')).length; return n; }")
    page.wait_for_function(f"() => {{ const n = ({read})(); return !n.waiting && !n.pending && "
                           f"(n.figure || 0) + (n.empty || 0) + (n.error || 0) >= {minimum}; }}", timeout=timeout)
    counts = page.evaluate(read)
    assert not counts.get("error"), f"a chart could not be drawn: {counts}"
    assert counts.get("figure", 0) >= minimum and counts["plots"] == counts["figure"], counts
    return counts


def _chart_y(page, index: int = 0) -> list[float]:
    return page.evaluate(
        "(i) => Array.from(document.querySelectorAll('.js-plotly-plot')[i].data[0].y || [])", index
    )


def test_tree_lists_the_app(browser, server):
    page = browser.new_page()
    try:
        page.goto(server["url"], wait_until="domcontentloaded", timeout=60_000)
        page.get_by_text("data_health.ipynb").first.wait_for(timeout=60_000)
    finally:
        page.close()


def test_data_health_page(browser, server):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:200]}") if m.type in ("error", "log") else None)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        start = time.perf_counter()
        page.goto(
            server["url"] + "voila/render/data_health.ipynb", wait_until="commit", timeout=PAGE_TIMEOUT_MS
        )
        page.wait_for_selector("#rendered_cells", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_selector(".widget-dropdown select", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_selector(".opslib-headline", timeout=PAGE_TIMEOUT_MS)
        headline = time.perf_counter()
        page.wait_for_function(
            "() => { const p = document.querySelector('.js-plotly-plot');"
            " return p && p.data && p.data[0] && p.data[0].y && p.data[0].y.length > 0; }",
            timeout=PAGE_TIMEOUT_MS,
        )
        interactive = time.perf_counter() - start
        # the charts come once the page says it is painted (opslib.ui.painted), not by the
        # fallback timer: a signal that never reaches the kernel fails here
        from opslib.ui.painted import PAINT_WAIT_MAX_S

        assert time.perf_counter() - headline < PAINT_WAIT_MAX_S / 2
        print(f"[{server['name']}] Data health page interactive after {interactive:.1f} s")
        charts_drawn(page, 2)  # sales and stock-outs, side by side with its table
        assert not [u for u in requested if FULL_PLOTLY_CHUNK.search(u)]

        text = page.inner_text("body")
        for bad in ERROR_TEXTS:
            assert bad not in text, f"{bad!r} on the page:\n{text[:3000]}"

        headline_before = page.inner_text(".opslib-headline")
        y_before = _chart_y(page)
        options = page.eval_on_selector_all(
            ".widget-dropdown select option", "els => els.map(e => e.textContent.replace(/\\u00a0/g, ' '))"
        )
        assert options[0] == "All categories" and len(options) > 2, options
        index = options.index("kitchen") if server["name"] == "small" else 1
        category = options[index]

        ARTIFACTS.mkdir(exist_ok=True)
        # Voila's page scrolls inside its own container: a tall viewport shows the whole app.
        page.set_viewport_size({"width": 1300, "height": 3400})
        page.screenshot(path=str(ARTIFACTS / f"data_health_{server['name']}.png"))

        page.select_option(".widget-dropdown select", index=index)
        try:
            page.wait_for_function(
                "(before) => document.querySelector('.opslib-headline').innerText !== before",
                arg=headline_before,
                timeout=60_000,
            )
            page.wait_for_function(
                "(cat) => { const p = document.querySelector('.js-plotly-plot');"
                " return p && p.layout && p.layout.title && String(p.layout.title.text || '').includes(cat); }",
                arg=category,
                timeout=60_000,
            )
        except Exception as exc:  # a plain-words failure with what the page and the server said
            page.screenshot(path=str(ARTIFACTS / f"data_health_{server['name']}_FAILED.png"))
            pytest.fail(
                f"the page did not follow the category filter ({type(exc).__name__}).\n"
                f"selected: {page.eval_on_selector('.widget-dropdown select', 'e => e.value')!r}\n"
                f"headline: {page.inner_text('.opslib-headline')!r}\n"
                f"console: {console[-20:]}\nserver log:\n{server['log'].read_text()[-3000:]}"
            )
        headline_after = page.inner_text(".opslib-headline")
        y_after = _chart_y(page)
        assert headline_after != headline_before
        assert y_after != y_before
        if server["name"] == "small":
            assert headline_before.split()[2] == "15"  # "Units sold 15 ..."
            assert "830" in headline_before and "44.4%" in headline_before
            assert headline_after.split()[2] == "6"
            assert "110" in headline_after and "50.0%" in headline_after
            assert y_after == [1, 5]
        text = page.inner_text("body")
        for bad in ERROR_TEXTS:
            assert bad not in text, f"{bad!r} on the page after filtering:\n{text[:3000]}"
        safe = "".join(c if c.isalnum() else "_" for c in category)
        page.screenshot(path=str(ARTIFACTS / f"data_health_{server['name']}_{safe}.png"))
    finally:
        page.close()
