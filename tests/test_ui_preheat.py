"""Apps built ahead on a preheated Voila kernel (opslib.ui.base.when_opened) stay current."""

from __future__ import annotations

import os

import pytest

from opslib.ui.base import _yield_to_visitors as real_yield_to_visitors
from opslib.ui.base import data_stamp, when_opened


@pytest.fixture
def folder(tmp_path, monkeypatch):
    (tmp_path / "items.csv").write_text("sku\nA\n")
    (tmp_path / "order_lines.csv").write_text("order_id,sku\n1,A\n")
    monkeypatch.setenv("OPSLIB_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture(autouse=True)
def no_yield(monkeypatch):
    """A preheating page waits for a quiet CPU before building (tested on its own below)."""
    import opslib.ui.base as base

    monkeypatch.setattr(base, "_yield_to_visitors", lambda *a, **k: 0.0)


@pytest.fixture
def waits(monkeypatch):
    """voila.utils.wait_for_request replaced by a list of what happens while the page waits."""
    import voila.utils

    happened = []

    def wait_for_request(url=None):
        happened.append("waited")
        for action in list(actions):
            action()

    actions: list = []
    monkeypatch.setattr(voila.utils, "wait_for_request", wait_for_request)
    return happened, actions


def _builder():
    built = []

    def build(currency="EUR"):
        built.append(len(built) + 1)
        return f"app {len(built)} in {currency}"

    return build, built


def _touch(path, text):
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))  # a later mtime even on a coarse clock


def test_outside_a_preheated_kernel_it_only_builds(folder, waits, monkeypatch):
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    build, built = _builder()
    assert when_opened(build) == "app 1 in EUR" and built == [1]
    assert waits[0] == []  # never waits: a notebook or a plain Voila kernel runs straight through
    monkeypatch.setenv("VOILA_PREHEAT", "False")  # what Voila sets in a kernel it did not preheat
    assert when_opened(build, currency="CNY") == "app 2 in CNY" and waits[0] == []


def test_preheated_it_waits_for_the_visitor_and_keeps_the_app_when_nothing_changed(folder, waits, monkeypatch):
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    build, built = _builder()
    assert when_opened(build) == "app 1 in EUR"
    assert built == [1] and waits[0] == ["waited"]


def test_preheated_it_builds_again_when_a_table_changed_while_waiting(folder, waits, monkeypatch):
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    build, built = _builder()
    waits[1].append(lambda: _touch(folder / "order_lines.csv", "order_id,sku\n1,A\n2,A\n"))
    assert when_opened(build, "CNY") == "app 2 in CNY"  # built again with the same arguments
    assert built == [1, 2]


def test_a_new_table_file_counts_as_a_change(folder, waits, monkeypatch):
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    build, built = _builder()
    waits[1].append(lambda: (folder / "stock_moves.csv").write_text("sku\nA\n"))
    assert when_opened(build) == "app 2 in EUR"


def test_saved_replenishment_settings_do_not_rebuild(folder, waits, monkeypatch):
    """The apps read the settings when they use them (the portfolio at its recompute), not at opening."""
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    build, built = _builder()
    waits[1].append(lambda: _touch(folder / "replenishment_settings.csv", "scope,key\n"))
    waits[1].append(lambda: _touch(folder / "replenishment_settings_log.csv", "when,who\n"))
    assert when_opened(build) == "app 1 in EUR" and built == [1]


def test_the_stamp_follows_the_folder_the_apps_open(folder, monkeypatch, tmp_path_factory):
    first = data_stamp()
    assert first[0] == str(folder)
    assert [name for name, _, _ in first[1]] == ["items.csv", "order_lines.csv"]
    other = tmp_path_factory.mktemp("other")
    (other / "items.csv").write_text("sku\nA\n")
    monkeypatch.setenv("OPSLIB_DATA", str(other))
    assert data_stamp() != first
    monkeypatch.setenv("OPSLIB_DATA", str(folder / "missing"))
    assert data_stamp() is None
    monkeypatch.delenv("OPSLIB_DATA")
    from opslib.data.io import demo_folder

    demo = demo_folder()
    assert data_stamp() == ((str(demo), data_stamp()[1]) if demo.is_dir() else None)


def test_an_app_that_reads_more_than_the_tables_refreshes_it_when_opened(folder, waits, monkeypatch):
    class App:
        refreshed = 0

        def refresh_on_open(self):
            App.refreshed += 1

    monkeypatch.setenv("VOILA_PREHEAT", "True")
    app = when_opened(App)
    assert isinstance(app, App) and App.refreshed == 1
    monkeypatch.setenv("VOILA_PREHEAT", "False")
    when_opened(App)
    assert App.refreshed == 1  # a page built at the visit has just read everything
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    waits[1].append(lambda: _touch(folder / "items.csv", "sku\nA\nB\n"))
    when_opened(App)
    assert App.refreshed == 1  # built again instead


def test_a_preheating_page_waits_for_a_quiet_machine_at_most_so_long(monkeypatch):
    import psutil

    busy = iter([90.0, 80.0, 10.0, 70.0, 5.0, 4.0, 99.0])
    samples = []

    def cpu_percent(interval=None):
        if interval is None:
            return 0.0  # the call that starts a measurement
        samples.append(interval)
        return next(busy)

    monkeypatch.setattr(psutil, "cpu_percent", cpu_percent)
    real_yield_to_visitors(max_s=60, quiet_share=0.35, sample_s=0.5, quiet_samples=2)
    assert len(samples) == 6  # two quiet samples running: 10 then 70 did not count, 5 and 4 did
    monkeypatch.setattr(psutil, "cpu_percent", lambda interval=None: 99.0)
    waited = real_yield_to_visitors(max_s=0.2, quiet_share=0.35, sample_s=0.01)
    assert 0.2 <= waited < 5  # a machine that stays busy: it builds anyway after max_s


def test_preheated_it_prepares_ahead_before_the_visitor_and_not_in_a_plain_kernel(folder, waits, monkeypatch):
    events = []

    class App:
        def prepare_ahead(self):
            events.append("ahead")

    waits[1].append(lambda: events.append("visitor"))
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    when_opened(App)
    assert events == ["ahead", "visitor"]
    monkeypatch.setenv("VOILA_PREHEAT", "False")  # the visitor is waiting: nothing ahead
    when_opened(App)
    assert events == ["ahead", "visitor"]
