"""`opslib serve` for real: the token is enforced, the culling settings reach Voila, no kernel outlives its tab.

The server runs as `opslib serve` does (a subprocess on a free port, the committed voila.json) with a
token and short culling settings given on the command line (``-- --MappingKernelManager...``); the
committed settings (10 minutes) are checked in tests/test_cli.py. The HTTP checks use plain urllib;
the closed-tab checks drive Debian's chromium like tests/test_browser.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from test_browser import ARTIFACTS, ERROR_TEXTS, _free_port, _stop, browser  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
TOKEN = "test-token-4f9a2c"
CULL_IDLE_S = 20  # long enough for a loaded machine to connect the page before the culler looks
CULL_INTERVAL_S = 2
PAGE_TIMEOUT_MS = 180_000


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_plain = urllib.request.build_opener(_NoRedirect)


def _get(url: str, headers: dict | None = None, method: str = "GET") -> tuple[int, str, str]:
    """Status, Location header and body of one request, without following redirects."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with _plain.open(request, timeout=120) as response:
            return response.status, response.headers.get("Location", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", ""), exc.read().decode(errors="replace")


def _kernel_processes(pid: int, kernel_id: str = "") -> list[int]:
    """The ipykernel processes under the server process ``pid`` (of kernel ``kernel_id`` if given)."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            command = " ".join(child.cmdline())
            if "ipykernel_launcher" in command and kernel_id in command:  # -f .../kernel-<id>.json
                found.append(child.pid)
        except psutil.Error:
            pass
    return found


@contextlib.contextmanager
def _serve(work: Path, env_extra: dict, args: list[str] = ()):
    port = _free_port()
    log_path = work / "voila.log"
    env = {k: v for k, v in os.environ.items() if k not in ("OPSLIB_DATA", "OPSLIB_TOKEN", "OPSLIB_PASSWORD")}
    env.update(env_extra)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "opslib", "serve", "--port", str(port), "--no-browser", *args],
            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"opslib serve exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                status, _, _ = _get(base)
                if status in (200, 302, 403):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Voila did not answer on {base} within 90 s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield {"base": base, "log": log_path, "proc": proc}
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`opslib serve` with a token and culling after 20 s of inactivity, checked every 2 s."""
    if not (REPO / "data" / "demo" / "items.csv").is_file():
        pytest.skip("the demo shop is not built: run `opslib demo build`")
    work = tmp_path_factory.mktemp("serve_token")
    cull = [f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_S}",
            f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}"]
    with _serve(work, {"OPSLIB_TOKEN": TOKEN}, ["--", *cull]) as served:
        yield served


def _wait_for(predicate, timeout_s: float, step_s: float = 0.25) -> float | None:
    """Seconds until ``predicate()`` held, or None after ``timeout_s``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():
            return time.monotonic() - start
        time.sleep(step_s)
    return None


def _kernel_alive(server, kernel_id: str) -> bool:
    status, _, _ = _get(server["base"] + f"api/kernels/{kernel_id}", {"Authorization": f"token {TOKEN}"})
    assert status in (200, 404), status
    return status == 200


def _kernel_id(page_html: str) -> str:
    marker = '"kernelId": "'
    start = page_html.index(marker) + len(marker)
    return page_html[start:page_html.index('"', start)]


# --------------------------------------------------------------------------- the token


def test_every_page_needs_the_token(server):
    base = server["base"]
    for path in ("", "voila/render/index.ipynb", "voila/render/data_health.ipynb", "voila/api/contents/"):
        status, location, _ = _get(base + path)
        assert status in (302, 403), (path, status)
        if status == 302:
            assert "/login" in location, (path, location)
        status, location, _ = _get(base + path + ("&" if "?" in path else "?") + "token=wrong-token-0000")
        assert status in (302, 403), (path, status)


def test_the_kernel_api_needs_the_token(server):
    status, _, _ = _get(server["base"] + "api/kernels/00000000-0000-0000-0000-000000000000")
    assert status == 403
    status, _, _ = _get(server["base"] + "voila/api/shutdown/00000000-0000-0000-0000-000000000000", method="POST")
    assert status == 403


def test_the_token_opens_the_tree_and_the_landing_page(server):
    base = server["base"]
    status, _, body = _get(base + "voila/api/contents/?" + urllib.parse.urlencode({"token": TOKEN}))
    assert status == 200
    names = {entry["name"] for entry in json.loads(body)["content"]}
    assert {"index.ipynb", "data_health.ipynb", "operations.ipynb"} <= names
    status, _, _ = _get(base, {"Authorization": f"token {TOKEN}"})
    assert status == 200


def test_the_culling_settings_reach_voila_and_an_unopened_page_kernel_is_culled(server):
    """A page fetched without a browser (never connected) leaves a kernel: the culler removes it."""
    start = time.monotonic()
    status, _, body = _get(server["base"] + "voila/render/index.ipynb", {"Authorization": f"token {TOKEN}"})
    assert status == 200
    kernel_id = _kernel_id(body)
    assert _kernel_alive(server, kernel_id)
    gone_after = _wait_for(lambda: not _kernel_alive(server, kernel_id), timeout_s=CULL_IDLE_S + 30)
    assert gone_after is not None, f"kernel {kernel_id} still alive:\n{server['log'].read_text()[-3000:]}"
    print(f"kernel culled {time.monotonic() - start:.1f} s after the request (idle limit {CULL_IDLE_S} s)")
    log = server["log"].read_text()
    assert f"Culling kernels with idle durations > {CULL_IDLE_S} seconds at {CULL_INTERVAL_S} second intervals" in log
    assert f"Culling 'idle' kernel 'python3' ({kernel_id})" in log


# --------------------------------------------------------------------------- closed tabs, in a browser


def _open_landing(browser, server):  # noqa: F811 (fixture)
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    page.goto(server["base"] + "voila/render/index.ipynb?token=" + TOKEN, wait_until="commit",
              timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(".opslib-app", timeout=PAGE_TIMEOUT_MS)
    kernel_id = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")
    return page, kernel_id


@pytest.mark.browser
def test_landing_page_in_the_browser(browser, server):  # noqa: F811 (fixture)
    page, _kernel = _open_landing(browser, server)
    try:
        text = page.inner_text("body")
        for bad in ERROR_TEXTS:
            assert bad not in text, f"{bad!r} on the page:\n{text[:3000]}"
        for name in ("Data health", "Replenishment tuner", "Promotion simulator", "Operations dashboard"):
            assert name in text
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "landing_en.png"))
        page.locator(".opslib-language button", has_text="简体中文").click()
        page.wait_for_function("() => document.body.innerText.includes('运营看板')", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "landing_zh.png"))
        # A link goes to Voila's render URL of the app; the cookie set by the token keeps the session.
        page.locator('.opslib-app[data-notebook="data_health.ipynb"] a').first.click()
        page.wait_for_url("**/voila/render/data_health.ipynb", timeout=60_000)
        page.wait_for_selector("#rendered_cells", timeout=PAGE_TIMEOUT_MS)
    finally:
        page.close(run_before_unload=True)


@pytest.mark.browser
def test_leaving_a_page_shuts_its_kernel_down(browser, server):  # noqa: F811 (fixture)
    """Voila's page posts a shutdown beacon on ``beforeunload``: the kernel goes at once, not by culling.

    Voila 0.5 alone answers that beacon with 403 (no ``_xsrf`` cookie, voila-dashboards/voila#1458);
    `opslib serve` makes every page set the cookie (``opslib.cli.set_xsrf_cookie``). Headless chromium does not run
    ``beforeunload`` on ``page.close(run_before_unload=True)`` reliably, so the page navigates away,
    which fires the same handler as closing the tab.
    """
    page, kernel_id = _open_landing(browser, server)
    assert _kernel_alive(server, kernel_id)
    # The page ran in a kernel preheated before the visit (voila.json: preheat_kernel), and the
    # culler did not take it although it had been idle since (cli._pool_kernels_start_idle_when_taken).
    assert f"Using pre-heated kernel: {kernel_id} for index.ipynb" in server["log"].read_text()
    page.goto("about:blank")
    page.close()
    gone_after = _wait_for(lambda: not _kernel_alive(server, kernel_id), timeout_s=CULL_IDLE_S + 30)
    assert gone_after is not None
    log = server["log"].read_text()
    assert f"Kernel shutdown: {kernel_id}" in log
    assert f"({kernel_id}) with 0 connections" not in log, "culled, not shut down by the page"
    assert f"POST /voila/api/shutdown/{kernel_id}" not in log, "the shutdown beacon was refused"
    print(f"page left: kernel shut down after {gone_after:.1f} s")


@pytest.mark.browser
def test_a_tab_that_vanishes_leaves_no_kernel(browser, server):  # noqa: F811 (fixture)
    """A tab closed without its beacon (killed, crashed, network lost): the culler removes the kernel."""
    opened, processes = [], set()
    for _ in range(3):
        page, kernel_id = _open_landing(browser, server)
        opened.append(kernel_id)
        started = set(_kernel_processes(server["proc"].pid, kernel_id))  # preheated, or started for the page
        assert len(started) == 1, f"the page's kernel {kernel_id} has {len(started)} processes"
        processes |= started
        page.close()  # Playwright's default: no beforeunload, so no beacon
    gone_after = _wait_for(lambda: not any(_kernel_alive(server, k) for k in opened), timeout_s=CULL_IDLE_S + 60)
    assert gone_after is not None, f"kernels still alive:\n{server['log'].read_text()[-3000:]}"
    log = server["log"].read_text()
    for kernel_id in opened:
        assert f"Culling 'idle' kernel 'python3' ({kernel_id}) with 0 connections" in log
    left = _wait_for(lambda: not processes & set(_kernel_processes(server["proc"].pid)), timeout_s=30)
    assert left is not None, f"kernel processes left: {processes & set(_kernel_processes(server['proc'].pid))}"
    print(f"3 vanished tabs: kernels culled {gone_after:.1f} s after the last closed (idle limit {CULL_IDLE_S} s); "
          f"their {len(processes)} kernel processes ended")


# --------------------------------------------------------------------------- a password instead of a token


def test_a_password_protects_the_pages(tmp_path):
    """OPSLIB_PASSWORD (hashed with jupyter_server's passwd): the pages redirect to a login form that takes it."""
    import http.cookiejar
    import re

    password = "correct horse battery"
    with _serve(tmp_path, {"OPSLIB_PASSWORD": password}) as served:
        base = served["base"]
        status, location, _ = _get(base + "voila/render/index.ipynb")
        assert status == 302 and "/login" in location
        import psutil

        voila = " ".join(psutil.Process(served["proc"].pid).children()[0].cmdline())
        assert "--PasswordIdentityProvider.hashed_password=argon2:" in voila and password not in voila

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)

        def login(typed: str) -> int:
            with opener.open(base + "login", timeout=30) as response:
                form = response.read().decode()
            xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form).group(1)
            data = urllib.parse.urlencode({"password": typed, "_xsrf": xsrf}).encode()
            try:
                with opener.open(urllib.request.Request(base + "login?next=%2F", data=data), timeout=30) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        def fetch(url: str) -> tuple[int, str]:
            try:
                with opener.open(url, timeout=30) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, ""

        assert login("wrong password") in (200, 401)  # the form again, with an error
        assert fetch(base + "voila/api/contents/")[0] in (302, 403)
        assert login(password) == 302  # logged in: redirected to ?next
        status, body = fetch(base + "voila/api/contents/")
        assert status == 200 and "index.ipynb" in body
