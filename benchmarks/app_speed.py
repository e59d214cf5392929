"""How fast the apps answer in a real browser: opening, a control change, the portfolio recompute.

Serves a temporary copy of ``apps/`` with Voila three times in one run: as ``opslib serve`` does
(the committed ``voila.json``: preheated kernels, one per app, that ran the page before the
visit; the charts are sent once the browser has painted the page, ``opslib.ui.painted``); the
same with the charts sent with the widgets (``OPSLIB_CHARTS_AT_ONCE=1``, as before that
change); and plain (``preheat_kernel=False``: each opening starts a kernel that runs the page).
Each serves a "floor" notebook that only displays one ipywidgets dropdown, so each opening time can be read
against Voila's own cost (kernel, page and widget manager); the ratio is against the plain
server's floor. Debian's chromium via Playwright.

Measured, each ``--runs`` times, in a fresh page:

* ``open``, three clocks: ``shown``, from navigation until the page's first figure was painted
  on the screen (floor: the dropdown; landing: the app list; Data health: the headline cards;
  Operations: the KPI tiles; Replenishment: the policy figures of the first SKU; Promotion: the
  incremental profit card), read on the page's own clock; ``charts``, until the last plotly
  chart was drawn and painted (no new chart for 2 s after), when the page is complete and its
  main thread free; ``seen``, until the test saw the first figure (Playwright looks only when
  the page's main thread is free, so this is at least the end of the first stretch of script
  that follows the first paint, e.g. plotly.js loading: the one measure of earlier stops).
  Before each opening the benchmark waits until the server and its kernels are at rest (no
  preheating under way), as a visitor of a server that is not busy finds it;
* ``update``: Replenishment, the service target typed (0.99, then back to 0.95) until the
  order-up-to level shown changes; Promotion, the depth typed (30%, then 20%) until the profit
  card changes. Round trips through the kernel, as a planner sees them (median of 4 changes);
* ``portfolio``: the Replenishment page's portfolio tab clicked until its order list is on the
  page (the plan of every SKU and the exchange curve). A preheated page has computed the per-SKU
  service and investment curves before the visit (``ReplenishmentApp.prepare_ahead``); the
  plain server's figure is the whole recompute, curves included;
* ``new review``: then the review period set to 14 days and "Recompute" clicked, until the page
  says it is done with the new curves (curves and policies for the new period; the forecast is
  kept: its horizon does not depend on the review period), as a planner's recompute on a served
  page is.

Before the runs, the Promotion page is opened once on the fresh server, with an empty cache: the
demo categories' responses are learned then (kept on disk: what a running server has after its
first visitor); that first opening is reported as ``first open``, from the server's answer and
from its start (a preheated server learns them while preheating).

Usage::

    .venv/bin/python benchmarks/app_speed.py [--runs 3] [--data PATH] [--only preheated|at-once|plain]

Prints a table (seconds). Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import os
import re
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
TIMEOUT_MS = 120_000
#: The servers measured: as ``opslib serve`` runs; the same with the charts sent with the widgets
#: (``OPSLIB_CHARTS_AT_ONCE=1``); plain Voila, no preheated kernels.
MODES = ("preheated", "at-once", "plain")


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


#: In-page clocks (ms since navigation started): ``__opslibShown`` when the page's first figure was
#: first painted, ``__opslibCharts`` when the last chart drawn so far was painted (a callback of
#: requestAnimationFrame runs just before a paint, a task it queues runs after it).
_PAINT_PROBE = """
(() => {
  const ready = READY_SELECTOR;
  let plots = 0;
  const afterPaint = (f) => requestAnimationFrame(() => setTimeout(f, 0));
  new MutationObserver(() => {
    if (window.__opslibShown === undefined && !window.__opslibShownPending) {
      const e = document.querySelector(ready);
      if (e && e.getBoundingClientRect().height > 0) {
        window.__opslibShownPending = true;
        afterPaint(() => { window.__opslibShown = performance.now(); });
      }
    }
    const n = document.querySelectorAll('.js-plotly-plot .main-svg').length;
    if (n > plots) { afterPaint(() => { window.__opslibCharts = performance.now(); }); }
    plots = n;
  }).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['style', 'class']});
})();
"""
#: The pages that show plotly charts as they open: their charts are waited for.
WITH_CHARTS = ("data_health", "operations", "replenishment", "promotion")
#: The charts count as drawn once no new one came for this long [s].
CHARTS_SETTLE_S = 2.0


def _open(browser, port: int, name: str):
    """A fresh page of ``name``; (page, seen by the test [s], painted with its first figure [s], charts drawn [s])."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.add_init_script(_PAINT_PROBE.replace("READY_SELECTOR", repr(READY[name])))
    start = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/voila/render/{name}.ipynb", timeout=TIMEOUT_MS)
    page.wait_for_selector(READY[name], timeout=TIMEOUT_MS)
    seen = time.perf_counter() - start
    page.wait_for_function("() => window.__opslibShown !== undefined", timeout=TIMEOUT_MS)
    shown = page.evaluate("window.__opslibShown") / 1000
    last, settled, waited = None, time.monotonic(), time.monotonic()
    while (time.monotonic() - settled < CHARTS_SETTLE_S
           or (last is None and name in WITH_CHARTS and time.monotonic() - waited < TIMEOUT_MS / 1000)):
        time.sleep(0.25)
        now = page.evaluate("window.__opslibCharts === undefined ? null : window.__opslibCharts")
        if now != last:
            last, settled = now, time.monotonic()
    charts = max(shown, (last or 0) / 1000)
    return page, seen, shown, charts


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


def _cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and all its descendants (the server and its kernels)."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def _wait_quiet(pid: int, timeout: float = 120.0, busy_s: float = 0.05, quiet_for: int = 3) -> float:
    """Wait until the server and its kernels use under ``busy_s`` CPU seconds a second, ``quiet_for`` seconds running.

    Then no kernel is preheating (Voila starts the replacement of a used pool kernel a second
    after the visitor took it, hence the 2 s first and the run of quiet seconds): a visitor
    arrives at a server at rest, as in the plain server's openings. Other programs on the
    machine do not count. Returns the seconds waited.
    """
    start = time.monotonic()
    time.sleep(2.0)
    quiet, before = 0, _cpu_seconds(pid)
    while time.monotonic() - start < timeout and quiet < quiet_for:
        time.sleep(1.0)
        now = _cpu_seconds(pid)
        quiet = quiet + 1 if now - before < busy_s else 0
        before = now
    return time.monotonic() - start


def _measure(folder: Path, runs: int, preheat: bool, data: Path | None, quiet_s: float,
             charts_at_once: bool = False) -> dict:
    """Open every page ``runs`` times on one server; the timings."""
    from playwright.sync_api import sync_playwright

    cache = Path(tempfile.mkdtemp(prefix="opslib-bench-cache-"))
    port = _free_port()
    env = dict(os.environ, OPSLIB_CACHE_DIR=str(cache))
    env.pop("OPSLIB_CHARTS_AT_ONCE", None)
    if charts_at_once:
        env["OPSLIB_CHARTS_AT_ONCE"] = "1"
    if data:
        env["OPSLIB_DATA"] = str(data.resolve())
    options = [] if preheat else ["--VoilaConfiguration.preheat_kernel=False"]
    server = subprocess.Popen(voila_command(folder, port=port, open_browser=False, voila_options=options),
                              cwd=repo_root(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    opened: dict[str, list[float]] = {name: [] for name in READY}
    shown: dict[str, list[float]] = {name: [] for name in READY}
    charts: dict[str, list[float]] = {name: [] for name in READY}
    updates: dict[str, list[float]] = {"replenishment": [], "promotion": []}
    portfolio: list[float] = []
    new_review: list[float] = []
    new_review_kernel: list[float] = []
    failures: list[str] = []
    try:
        started = time.perf_counter()
        _wait_for_server(f"http://127.0.0.1:{port}/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page, first, _, _ = _open(browser, port, "promotion")  # learns the responses, fills the caches
            first_from_start = time.perf_counter() - started
            page.close()
            for _ in range(runs):
                for name in READY:
                    _wait_quiet(server.pid, timeout=quiet_s)
                    try:
                        page, seconds, painted, drawn = _open(browser, port, name)
                    except Exception as exc:  # noqa: BLE001 - reported, and the run goes on
                        failures.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
                        print(f"  {'preheated' if preheat else 'plain'} {name}: FAILED ({failures[-1]})",
                              file=sys.stderr, flush=True)
                        for leftover in browser.contexts:
                            for stuck in leftover.pages:
                                print(stuck.inner_text("body")[:1500], file=sys.stderr)
                                stuck.close()
                        continue
                    print(f"  {'preheated' if preheat else 'plain'}{' (charts at once)' if charts_at_once else ''} "
                          f"{name}: shown {painted:.2f} charts {drawn:.2f} seen {seconds:.2f}", file=sys.stderr, flush=True)
                    opened[name].append(seconds)
                    shown[name].append(painted)
                    charts[name].append(drawn)
                    if "Traceback" in page.inner_text("body"):
                        print(f"warning: error text on the {name} page", file=sys.stderr)
                    if name == "replenishment":
                        for value in (0.99, 0.95, 0.99, 0.95):
                            updates[name].append(_type_and_wait(page, "Target", value, READY[name], "data-value"))
                        start = time.perf_counter()
                        page.locator(".lm-TabBar-tab", has_text="Portfolio and orders").click()
                        page.wait_for_selector(".opslib-portfolio-order-lines", timeout=TIMEOUT_MS)
                        portfolio.append(time.perf_counter() - start)
                        page.get_by_text("review every 7 days").first.wait_for(timeout=TIMEOUT_MS)
                        view = page.locator(".opslib-portfolio")  # the SKU tab has a review field too
                        view.locator(".widget-inline-hbox:has(> label.widget-label:text-is('Review [days]')) "
                                     "input").first.fill("14")
                        start = time.perf_counter()
                        view.get_by_role("button", name="Recompute").click()
                        page.get_by_text("review every 14 days").first.wait_for(timeout=TIMEOUT_MS)
                        page.wait_for_function("() => document.body.innerText.includes('Done in')", timeout=TIMEOUT_MS)
                        new_review.append(time.perf_counter() - start)
                        said = re.search(r"Done in ([0-9.]+) s", view.inner_text())
                        if said:  # the kernel's own time for the recompute (PortfolioView.timings["total"])
                            new_review_kernel.append(float(said.group(1)))
                    elif name == "promotion":
                        for value in (30, 20, 30, 20):
                            updates[name].append(_type_and_wait(page, "Depth [%]", value, READY[name], None))
                    page.close()
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(cache, ignore_errors=True)
    return {"failures": failures, "opened": opened, "shown": shown, "charts": charts, "updates": updates, "portfolio": portfolio, "new_review": new_review,
            "new_review_kernel": new_review_kernel, "first": first,
            "first_from_start": first_from_start}


def _report(title: str, result: dict, floor: float) -> None:
    print(f"\n{title}")
    print(f"{'page':<16}{'shown med':>10}{'max':>6}{'x floor':>8}{'charts med':>11}{'max':>6}"
          f"{'seen med':>9}{'max':>6}{'update med':>11}{'max':>6}")
    for name, times in result["opened"].items():
        shown, charts = result["shown"][name], result["charts"][name]
        upd = result["updates"].get(name)
        tail = f"{statistics.median(upd):>11.2f}{max(upd):>6.2f}" if upd else ""
        print(f"{name:<16}{statistics.median(shown):>10.2f}{max(shown):>6.2f}{statistics.median(shown) / floor:>8.2f}"
              f"{statistics.median(charts):>11.2f}{max(charts):>6.2f}"
              f"{statistics.median(times):>9.2f}{max(times):>6.2f}{tail}")
    for failure in result["failures"]:
        print(f"FAILED opening (left out of the figures): {failure}")
    portfolio = result["portfolio"]
    print(f"portfolio tab (plan of every SKU + exchange curve): median {statistics.median(portfolio):.2f} s, "
          f"max {max(portfolio):.2f} s")
    print(f"portfolio recompute with a new review period (14 days): median {statistics.median(result['new_review']):.2f} s, "
          f"max {max(result['new_review']):.2f} s"
          + (f" (the kernel's part, as the page says it: median {statistics.median(result['new_review_kernel']):.1f} s)"
             if result.get("new_review_kernel") else ""))
    print(f"promotion, first open on a fresh server (fresh cache: the category response is learned): "
          f"{result['first']:.2f} s after the server answered, {result['first_from_start']:.2f} s after it started")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: the demo shop)")
    parser.add_argument("--only", choices=MODES, default=None,
                        help="measure one server only (default: all three, in this order)")
    parser.add_argument("--quiet-timeout", type=float, default=120.0,
                        help="longest wait for the server to be at rest before each opening, seconds (default: 120)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="opslib-bench-"))
    for notebook in (repo_root() / "apps").glob("*.ipynb"):
        shutil.copy(notebook, folder / notebook.name)
    _floor_notebook(folder / "floor.ipynb")
    modes = [m for m in MODES if args.only in (None, m)]
    try:
        results = {mode: _measure(folder, args.runs, mode != "plain", args.data, args.quiet_timeout,
                                  charts_at_once=mode == "at-once") for mode in modes}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # Every opening is read against the plain Voila floor: a page with one dropdown in a fresh kernel.
    floor_result = results.get("plain", results[modes[0]])
    floor = statistics.median(floor_result["shown"]["floor"])
    for mode in modes:
        title = {"preheated": "served as `opslib serve` does: preheated kernels (voila.json), charts after the first paint",
                 "at-once": "preheated, charts sent with the widgets (OPSLIB_CHARTS_AT_ONCE=1: as at stop 12)",
                 "plain": "plain Voila: a fresh kernel runs the page at each opening (preheat_kernel=False)"}[mode]
        _report(title, results[mode], floor)
    print("\nshown: from navigation until the page's first figure was painted (in-page clock); charts: until the "
          "last chart was drawn and painted (no new one for 2 s after); seen: until the test saw the first figure "
          "(Playwright, which cannot look while the page's main thread is busy, e.g. loading plotly.js)")
    print(f"\n({args.runs} runs each, every opening on a server at rest: its processes under 0.05 CPU s a second for 3 s, at most {args.quiet_timeout:.0f} s waited; "
          f"x floor: against the plain floor, Voila's page with one dropdown and no opslib, "
          f"{'plain' if 'plain' in results else 'this'} server; cpu count {os.cpu_count()})")


if __name__ == "__main__":
    main()
