"""The ``opslib`` command, called through ``main([...])``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from opslib import cli

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- validate


def test_validate_good_folder(small_folder, capsys):
    assert cli.main(["validate", str(small_folder)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "NOT OK" not in out
    assert "order_lines (7 rows)" in out
    assert "never_sold" in out  # an info finding is listed, but is no error


@pytest.fixture
def broken_folder(small_folder) -> Path:
    """Negative price, an order line for an unknown SKU, a quantity that is not a number."""
    items = pd.read_csv(small_folder / "items.csv")
    items.loc[1, "price"] = -50
    items.to_csv(small_folder / "items.csv", index=False)
    lines = pd.read_csv(small_folder / "order_lines.csv", dtype=str)
    lines.loc[0, "sku"] = "ZZ9"
    lines.loc[2, "qty"] = "three"
    lines.to_csv(small_folder / "order_lines.csv", index=False)
    return small_folder


def test_validate_broken_folder_lists_findings_and_exits_1(broken_folder, capsys):
    assert cli.main(["validate", str(broken_folder)]) == 1
    captured = capsys.readouterr()
    out = captured.out
    assert "NOT OK" in out
    assert "ERROR in items.price (rule nonnegative)" in out
    assert "unknown_sku" in out and "ZZ9" in out
    assert "dtype" in out and "three" in out
    assert "Fix:" in out
    assert "Traceback" not in out + captured.err


def test_validate_folder_without_tables_is_a_plain_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    assert cli.main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "cannot be loaded" in out and "notes.txt" in out
    assert "Traceback" not in out


def test_validate_unreadable_file_is_a_plain_error(tmp_path, capsys):
    (tmp_path / "items.parquet").write_bytes(b"this is not parquet")
    assert cli.main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "cannot be" in out
    assert "Traceback" not in out


def test_validate_missing_path(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


# --------------------------------------------------------------------------- demo build


def test_demo_build_calls_the_generator(tmp_path, monkeypatch, capsys):
    import opslib.data.demo

    calls = []

    def fake_write(path, **kwargs):
        calls.append((Path(path), kwargs))

    monkeypatch.setattr(opslib.data.demo, "write_demo_shop", fake_write)
    assert cli.main(["demo", "build", "--out", str(tmp_path / "shop"), "--seed", "7"]) == 0
    assert calls == [(tmp_path / "shop", {"seed": 7})]
    assert "Wrote the demo shop" in capsys.readouterr().out
    assert cli.main(["demo", "build"]) == 0
    assert calls[-1] == (REPO / "data" / "demo", {})


def test_demo_without_subcommand_shows_help(capsys):
    assert cli.main(["demo"]) == 2
    assert "build" in capsys.readouterr().out


# --------------------------------------------------------------------------- serve


class _FakeProcess:
    def __init__(self, cmd, cwd=None, env=None):
        self.cmd, self.cwd, self.env = cmd, cwd, env

    def wait(self, timeout=None):
        return 0

    def poll(self):
        return 0


@pytest.fixture
def fake_voila(monkeypatch):
    """Record the Voila command `opslib serve` would start (nothing runs, no browser opens)."""
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda cmd, cwd=None, env=None: started.append(_FakeProcess(cmd, cwd, env)) or started[-1])
    opened = []
    monkeypatch.setattr(cli, "_open_when_ready", lambda proc, probe, url, timeout_s=180.0: opened.append((probe, url)))
    for name in ("OPSLIB_DATA", "OPSLIB_TOKEN", "OPSLIB_PASSWORD", "JUPYTER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return {"started": started, "opened": opened}


def test_serve_runs_voila_on_apps_with_the_committed_config(small_folder, fake_voila, capsys):
    code = cli.main(["serve", "--data", str(small_folder), "--port", "9123", "--no-browser"])
    assert code == 0
    (proc,) = fake_voila["started"]
    assert proc.cmd[:4] == [sys.executable, "-m", "opslib.cli", "voila"]
    assert proc.cmd[4] == str(REPO / "apps")
    assert "--port=9123" in proc.cmd and "--no-browser" in proc.cmd
    assert "--Voila.ip=127.0.0.1" in proc.cmd
    assert not any("token" in arg or "password" in arg for arg in proc.cmd)  # localhost: no secret needed
    assert Path(proc.cwd) == REPO and (Path(proc.cwd) / "voila.json").is_file()
    assert proc.env["OPSLIB_DATA"] == str(small_folder.resolve())
    assert "JUPYTER_TOKEN" not in proc.env
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9123/voila/render/index.ipynb" in out
    assert fake_voila["opened"] == []


def test_serve_without_data_keeps_the_environment(fake_voila, capsys):
    assert cli.main(["serve", "--show-tracebacks"]) == 0
    (proc,) = fake_voila["started"]
    assert "OPSLIB_DATA" not in proc.env
    assert "--show_tracebacks=True" in proc.cmd
    assert "the demo shop" in capsys.readouterr().out


def test_serve_opens_the_browser_on_the_landing_page(fake_voila):
    """Voila itself would open its file tree: `opslib serve` opens apps/index.ipynb once the server answers."""
    assert cli.main(["serve", "--port", "9124"]) == 0
    assert "--no-browser" in fake_voila["started"][0].cmd
    assert fake_voila["opened"] == [("http://127.0.0.1:9124/", "http://127.0.0.1:9124/voila/render/index.ipynb")]
    assert (REPO / "apps" / "index.ipynb").is_file()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "shop-server.local"])
def test_serve_on_the_network_without_a_secret_is_refused(host, fake_voila, capsys):
    assert cli.main(["serve", "--host", host]) == 2
    assert fake_voila["started"] == []
    err = capsys.readouterr().err
    assert "serves the apps to the network" in err and "OPSLIB_TOKEN" in err and "--password" in err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_local_hosts_need_no_secret(host):
    assert cli.is_local_host(host)
    assert not cli.is_local_host("0.0.0.0") and not cli.is_local_host("10.0.0.5")


def test_serve_with_a_token_passes_it_by_environment(fake_voila, monkeypatch, capsys):
    monkeypatch.setenv("OPSLIB_TOKEN", "s3cret-token-xyz")
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "9125"]) == 0
    (proc,) = fake_voila["started"]
    assert "--Voila.ip=0.0.0.0" in proc.cmd and "--Voila.auto_token=True" in proc.cmd
    assert proc.env["JUPYTER_TOKEN"] == "s3cret-token-xyz"
    assert not any("s3cret" in arg for arg in proc.cmd)  # not on the command line (ps shows it)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9125/voila/render/index.ipynb?token=s3cret-token-xyz" in out
    assert "Colleagues open http://" in out and ":9125/voila/render/index.ipynb?token=s3cret-token-xyz" in out
    assert fake_voila["opened"][0][1].endswith("?token=s3cret-token-xyz")


def test_serve_token_option_and_a_lan_address(fake_voila, capsys):
    assert cli.main(["serve", "--host", "192.168.1.20", "--token", "another-token-1", "--no-browser"]) == 0
    (proc,) = fake_voila["started"]
    assert proc.env["JUPYTER_TOKEN"] == "another-token-1"
    assert "http://192.168.1.20:8866/voila/render/index.ipynb?token=another-token-1" in capsys.readouterr().out


def test_serve_refuses_a_short_token(fake_voila, capsys):
    assert cli.main(["serve", "--host", "0.0.0.0", "--token", "abc"]) == 2
    assert "at least 8 characters" in capsys.readouterr().err
    assert fake_voila["started"] == []


def test_serve_with_a_password_passes_its_hash(fake_voila, monkeypatch, capsys):
    from jupyter_server.auth import passwd_check

    monkeypatch.setenv("OPSLIB_PASSWORD", "a long password")
    assert cli.main(["serve", "--host", "0.0.0.0", "--no-browser"]) == 0
    (proc,) = fake_voila["started"]
    (option,) = [a for a in proc.cmd if a.startswith("--PasswordIdentityProvider.hashed_password=")]
    hashed = option.split("=", 1)[1]
    assert hashed.startswith("argon2:") and passwd_check(hashed, "a long password")
    assert "--PasswordIdentityProvider.allow_password_change=False" in proc.cmd
    assert not any("a long password" in arg for arg in proc.cmd)
    assert "JUPYTER_TOKEN" not in proc.env
    assert "ask for the password" in capsys.readouterr().out


def test_serve_password_prompt(fake_voila, monkeypatch):
    import getpass

    typed = iter(["typed password", "typed password"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    assert cli.main(["serve", "--host", "0.0.0.0", "--password", "--no-browser"]) == 0
    assert any(a.startswith("--PasswordIdentityProvider.hashed_password=argon2:") for a in fake_voila["started"][0].cmd)


def test_serve_password_prompt_mismatch(fake_voila, monkeypatch, capsys):
    import getpass

    typed = iter(["typed password", "other password"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    assert cli.main(["serve", "--host", "0.0.0.0", "--password"]) == 2
    assert "differ" in capsys.readouterr().err and fake_voila["started"] == []


def test_serve_passes_voila_options_after_the_separator(fake_voila):
    culling = ["--MappingKernelManager.cull_idle_timeout=5", "--MappingKernelManager.cull_interval=1"]
    assert cli.main(["serve", "--no-browser", "--", *culling]) == 0
    assert fake_voila["started"][0].cmd[-2:] == culling  # last: they override voila.json


@pytest.mark.parametrize("option", [
    "--Voila.ip=0.0.0.0", "--Voila.token=", "--Voila.port=1", "--PasswordIdentityProvider.hashed_password=x",
    "--VoilaConfiguration.prelaunch_hook=os.getcwd", "--VoilaConfiguration.progressive_rendering=True",
    "--MappingKernelManager.cull_idle_timeout", "cull=1",
])
def test_serve_refuses_voila_options_that_bypass_it(option, fake_voila, capsys):
    assert cli.main(["serve", "--", option]) == 2
    assert fake_voila["started"] == []
    assert capsys.readouterr().err.startswith("error:")


def test_the_xsrf_hook_sets_the_cookie_and_keeps_the_notebook():
    class Handler:
        touched = 0

        @property
        def xsrf_token(self):
            Handler.touched += 1
            return b"token"

    assert cli.set_xsrf_cookie(Handler(), notebook={"cells": []}, cwd="/") is None
    assert Handler.touched == 1


def test_run_voila_makes_every_page_set_the_cookie(monkeypatch):
    from voila.app import Voila
    from voila.tornado.handler import TornadoVoilaHandler

    seen = {}
    monkeypatch.setattr(TornadoVoilaHandler, "get", TornadoVoilaHandler.get)  # undone after the test
    monkeypatch.setattr(TornadoVoilaHandler, "_opslib_sets_xsrf", False, raising=False)
    monkeypatch.setattr(Voila, "launch_instance", classmethod(lambda cls, argv=None, **kw: seen.update(argv=argv, **kw)))
    assert cli.run_voila(["apps", "--port=1"]) == 0
    assert seen["argv"] == ["apps", "--port=1"]
    assert "config" not in seen  # no prelaunch hook: Voila refuses one with preheated kernels
    assert TornadoVoilaHandler._opslib_sets_xsrf
    wrapped = TornadoVoilaHandler.get
    cli.run_voila(["apps"])
    assert TornadoVoilaHandler.get is wrapped  # wrapped once, however often Voila is launched

    class Handler:
        touched = 0

        @property
        def xsrf_token(self):
            Handler.touched += 1
            return b"token"

    rendered = []

    async def render(self, path=None):
        rendered.append((Handler.touched, path))

    monkeypatch.setattr(TornadoVoilaHandler, "get", render)
    TornadoVoilaHandler._opslib_sets_xsrf = False
    cli._set_xsrf_cookie_on_pages()
    import asyncio

    asyncio.run(TornadoVoilaHandler.get(Handler(), "app.ipynb"))
    assert rendered == [(1, "app.ipynb")]  # the cookie is set before the page renders


def test_serve_allows_progressive_rendering_with_preheating_off(fake_voila):
    options = ["--VoilaConfiguration.preheat_kernel=False", "--VoilaConfiguration.progressive_rendering=True"]
    assert cli.main(["serve", "--no-browser", "--", *options]) == 0
    assert fake_voila["started"][0].cmd[-2:] == options


def test_serve_refuses_a_missing_data_folder(tmp_path, capsys):
    assert cli.main(["serve", "--data", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_voila_reads_the_committed_config():
    """Voila finds voila.json in its working directory (the repo root for `opslib serve`)."""
    from voila.app import Voila

    app = Voila()
    app.load_config_file("voila", path=[str(REPO)])
    cfg = app.config
    assert cfg.MappingKernelManager.cull_idle_timeout == 600
    assert cfg.MappingKernelManager.cull_interval == 60
    assert cfg.VoilaConfiguration.show_tracebacks is False
    assert cfg.VoilaConfiguration.preheat_kernel is True  # one kernel per app runs its page ahead
    assert cfg.VoilaConfiguration.default_pool_size == 1
    assert cfg.VoilaConfiguration.progressive_rendering is False  # Voila refuses it with preheating
    assert cfg.VoilaExecutor.timeout > 0
    raw = json.loads((REPO / "voila.json").read_text())
    assert raw["Voila"]["ip"] == "127.0.0.1"


# --------------------------------------------------------------------------- entry points


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "serve" in capsys.readouterr().out


def test_python_dash_m_opslib():
    result = subprocess.run([sys.executable, "-m", "opslib", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "validate" in result.stdout and "serve" in result.stdout


def test_a_kernel_taken_from_the_pool_counts_as_active_from_then(monkeypatch):
    """The culler must not take a preheated kernel between its visitor taking it and the browser connecting."""
    import asyncio
    import datetime as dt

    import voila.app

    class Kernel:
        last_activity = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)  # preheated long ago

    kernel = Kernel()

    def factory(base_class, preheat_kernel, *args, **kwargs):
        class Manager(base_class):
            async def get_rendered_notebook(self, notebook_name, **kw):
                return "task", ["cells"], "k1"

            def get_kernel(self, kernel_id):
                assert kernel_id == "k1"
                return kernel

        return Manager if preheat_kernel else base_class

    monkeypatch.setattr(voila.app, "voila_kernel_manager_factory", factory)
    cli._pool_kernels_start_idle_when_taken()
    patched = voila.app.voila_kernel_manager_factory
    cli._pool_kernels_start_idle_when_taken()
    assert voila.app.voila_kernel_manager_factory is patched  # wrapped once
    assert patched(object, False, 1) is object  # without preheating Voila's class is kept as it is
    manager_class = patched(object, True, 1)
    assert manager_class.__name__ == "Manager"  # the config section Voila reads stays the same
    before = dt.datetime.now(dt.timezone.utc)
    assert asyncio.run(manager_class().get_rendered_notebook("index.ipynb")) == ("task", ["cells"], "k1")
    assert kernel.last_activity >= before


@pytest.mark.parametrize("host, app_ip", [("127.0.0.1", None), ("0.0.0.0", None), ("::", None),
                                          ("192.168.1.5", "192.168.1.5"), ("fd00::5", "[fd00::5]")])
def test_serve_tells_preheated_pages_where_to_wait_for_their_visitor(host, app_ip, fake_voila, monkeypatch):
    """voila.utils.wait_for_request connects to VOILA_APP_IP (default 127.0.0.1) on the server's port."""
    monkeypatch.setenv("OPSLIB_TOKEN", "a-long-enough-token")
    monkeypatch.delenv("VOILA_APP_IP", raising=False)
    assert cli.main(["serve", "--no-browser", "--host", host]) == 0
    assert fake_voila["started"][0].env.get("VOILA_APP_IP") == app_ip
