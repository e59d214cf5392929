"""How fast the apps answer in a real browser: opening, a control change, the portfolio recompute.

Serves a temporary copy of ``apps/`` with Voila (the committed ``voila.json`` applies), plus a
"floor" notebook that only displays one ipywidgets dropdown, so each opening time can be read
against Voila's own cost (kernel start, page render). Debian's chromium via Playwright.

Measured, each ``--runs`` times, in a fresh page (a fresh kernel):

* ``open``: from navigation until the page's first figure is on it (floor: the dropdown;
  landing: the app list; Data health: the headline cards; Operations: the KPI tiles;
  Replenishment: the policy figures of the first SKU; Promotion: the incremental profit card);
* ``update``: Replenishment, the service target typed (0.99, then back to 0.95) until the
  order-up-to level shown changes; Promotion, the depth typed (30%, then 20%) until the profit
  card changes. Round trips through the kernel, as a planner sees them (median of 4 changes);
* ``portfolio``: the Replenishment page's portfolio tab clicked until its order list is on the
  page (the plan of every SKU and the exchange curve).

Before the runs, the Promotion page is opened once to learn the demo categories' responses
(kept on disk: what a running server has after its first visitor); that first opening is
reported as ``first open (fresh cache)``.

Usage::

    .venv/bin/python benchmarks/app_speed.py [--runs 3] [--data PATH]

Prints a table (seconds). Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

from opslib.cli import repo_root, voila_command

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

READY = {
    "floor": ".widget-dropdown select",
    "index": ".opslib-landing-apps",
    "data_health": ".opslib-headline",
    "operations": ".opslib-kpi-value",
    "replenishment": ".opslib-policy-order_up_to",
    "promotion": ".opslib-promo-profit",
}
TIMEOUT_MS = 300_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"Voila did not answer at {url} within {timeout} s")


def _floor_notebook(path: Path) -> None:
    """A page with one dropdown and no opslib: what Voila alone costs."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets as w\nw.Dropdown(options=['all', 'a', 'b'], description='Category')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _open(browser, port: int, name: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    start = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/voila/render/{name}.ipynb", timeout=TIMEOUT_MS)
    page.wait_for_selector(READY[name], timeout=TIMEOUT_MS)
    return page, time.perf_counter() - start


def _type_and_wait(page, label: str, value, watch: str, attribute: str | None) -> float:
    read = f"e.getAttribute('{attribute}')" if attribute else "e.innerText"
    before = page.eval_on_selector(watch, f"e => {read}")
    field = page.locator(f".widget-inline-hbox:has(> label.widget-label:text-is('{label}')) input").first
    field.fill(str(value))
    start = time.perf_counter()
    field.press("Enter")
    page.wait_for_function(
        f"([sel, before]) => {{ const e = document.querySelector(sel); return e && {read} !== before; }}",
        arg=[watch, before], timeout=TIMEOUT_MS)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: the demo shop)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="opslib-bench-"))
    for notebook in (repo_root() / "apps").glob("*.ipynb"):
        shutil.copy(notebook, folder / notebook.name)
    _floor_notebook(folder / "floor.ipynb")
    cache = Path(tempfile.mkdtemp(prefix="opslib-bench-cache-"))
    port = _free_port()
    env = dict(os.environ, OPSLIB_CACHE_DIR=str(cache))
    if args.data:
        env["OPSLIB_DATA"] = str(args.data.resolve())
    server = subprocess.Popen(voila_command(folder, port=port, open_browser=False), cwd=repo_root(), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    opened: dict[str, list[float]] = {name: [] for name in READY}
    updates: dict[str, list[float]] = {"replenishment": [], "promotion": []}
    portfolio: list[float] = []
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page, first = _open(browser, port, "promotion")  # learns the responses, fills the caches
            page.close()
            for _ in range(args.runs):
                for name in READY:
                    page, seconds = _open(browser, port, name)
                    opened[name].append(seconds)
                    if "Traceback" in page.inner_text("body"):
                        print(f"warning: error text on the {name} page", file=sys.stderr)
                    if name == "replenishment":
                        for value in (0.99, 0.95, 0.99, 0.95):
                            updates[name].append(_type_and_wait(page, "Target", value, READY[name], "data-value"))
                        start = time.perf_counter()
                        page.locator(".lm-TabBar-tab", has_text="Portfolio and orders").click()
                        page.wait_for_selector(".opslib-portfolio-order-lines", timeout=TIMEOUT_MS)
                        portfolio.append(time.perf_counter() - start)
                    elif name == "promotion":
                        for value in (30, 20, 30, 20):
                            updates[name].append(_type_and_wait(page, "Depth [%]", value, READY[name], None))
                    page.close()
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

    floor = statistics.median(opened["floor"])
    print(f"{'page':<16}{'open median s':>14}{'min':>7}{'max':>7}{'x floor':>9}{'update median s':>17}{'max':>7}")
    for name, times in opened.items():
        median = statistics.median(times)
        upd = updates.get(name)
        tail = f"{statistics.median(upd):>17.2f}{max(upd):>7.2f}" if upd else ""
        print(f"{name:<16}{median:>14.2f}{min(times):>7.2f}{max(times):>7.2f}{median / floor:>9.2f}{tail}")
    print(f"portfolio tab (plan of every SKU + exchange curve): median {statistics.median(portfolio):.2f} s, "
          f"max {max(portfolio):.2f} s")
    print(f"promotion, first open (fresh cache: the category response is learned): {first:.2f} s")
    print(f"({args.runs} runs each; floor = Voila page with one dropdown, no opslib; cpu count {os.cpu_count()})")


if __name__ == "__main__":
    main()
