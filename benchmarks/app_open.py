"""Time until an app page is interactive in a real browser, against Voila's own floor.

Serves a temporary apps folder with Voila (the committed ``voila.json`` applies) holding
the Data health app and a "floor" notebook that only displays one ipywidgets dropdown, so the
ratio says how much of the wait is opslib's (loading and validating the shop, building the
charts) and how much is Voila's (kernel start, page render). Each page is opened ``--runs``
times in Debian's chromium via Playwright; the time is measured from navigation to the moment
the category dropdown is enabled and the headline figures are on the page.

Usage::

    .venv/bin/python benchmarks/app_open.py [--runs 3] [--data PATH]

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
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets as w\nw.Dropdown(options=['all', 'a', 'b'], description='Category')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: the demo shop)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="opslib-bench-"))
    shutil.copy(repo_root() / "apps" / "data_health.ipynb", folder / "data_health.ipynb")
    _floor_notebook(folder / "floor.ipynb")
    port = _free_port()
    env = dict(os.environ)
    if args.data:
        env["OPSLIB_DATA"] = str(args.data.resolve())
    server = subprocess.Popen(
        voila_command(folder, port=port, open_browser=False), cwd=repo_root(), env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    results: dict[str, list[float]] = {"floor": [], "data_health": []}
    try:
        _wait_for_server(f"http://127.0.0.1:{port}/")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for run in range(args.runs):
                for name in results:
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    start = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/voila/render/{name}.ipynb", timeout=180_000)
                    page.wait_for_selector("#rendered_cells", timeout=180_000)
                    page.wait_for_selector(".widget-dropdown select:enabled", timeout=180_000)
                    if name == "data_health":
                        page.wait_for_function(
                            "document.body.innerText.includes('GMV')", timeout=180_000)
                    results[name].append(time.perf_counter() - start)
                    text = page.inner_text("body")
                    if "Traceback" in text:
                        print(f"warning: error text on the {name} page", file=sys.stderr)
                    page.close()
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)

    floor = statistics.median(results["floor"])
    print(f"{'page':<14}{'median s':>10}{'min s':>8}{'max s':>8}{'x floor':>9}")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:<14}{median:>10.2f}{min(times):>8.2f}{max(times):>8.2f}{median / floor:>9.2f}")
    print(f"({args.runs} runs each; floor = Voila page with one dropdown, no opslib)")


if __name__ == "__main__":
    main()
