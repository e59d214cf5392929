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


def test_serve_runs_voila_on_apps_with_the_committed_config(small_folder, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda cmd, cwd=None, env=None: started.append(_FakeProcess(cmd, cwd, env)) or started[-1])
    code = cli.main(["serve", "--data", str(small_folder), "--port", "9123", "--no-browser"])
    assert code == 0
    (proc,) = started
    assert proc.cmd[:3] == [sys.executable, "-m", "voila"]
    assert proc.cmd[3] == str(REPO / "apps")
    assert "--port=9123" in proc.cmd and "--no-browser" in proc.cmd
    assert "--Voila.ip=127.0.0.1" in proc.cmd
    assert Path(proc.cwd) == REPO and (Path(proc.cwd) / "voila.json").is_file()
    assert proc.env["OPSLIB_DATA"] == str(small_folder.resolve())
    assert "http://127.0.0.1:9123/" in capsys.readouterr().out


def test_serve_without_data_keeps_the_environment(monkeypatch, capsys):
    monkeypatch.delenv("OPSLIB_DATA", raising=False)
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda cmd, cwd=None, env=None: started.append(_FakeProcess(cmd, cwd, env)) or started[-1])
    assert cli.main(["serve", "--show-tracebacks"]) == 0
    assert "OPSLIB_DATA" not in started[0].env
    assert "--show_tracebacks=True" in started[0].cmd
    assert "--no-browser" not in started[0].cmd
    assert "the demo shop" in capsys.readouterr().out


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
    assert cfg.VoilaConfiguration.preheat_kernel is False
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
