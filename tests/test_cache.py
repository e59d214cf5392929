"""The disk cache of loaded workspaces: hits on unchanged files, misses on any change."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from conftest import small_tables
from opslib import DataError
from opslib.data import default_workspace, io, save_workspace


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("OPSLIB_CACHE_DIR", str(folder))
    monkeypatch.delenv("OPSLIB_NO_CACHE", raising=False)
    return folder


@pytest.fixture()
def shop(tmp_path, monkeypatch):
    from opslib.data import Workspace

    folder = save_workspace(Workspace(**small_tables()), tmp_path / "shop")
    monkeypatch.setenv("OPSLIB_DATA", str(folder))
    return folder


def _count_reads(monkeypatch) -> list:
    reads = []
    original = io._read

    def counting(*args, **kwargs):
        reads.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(io, "_read", counting)
    return reads


def test_second_load_comes_from_the_cache_and_equals_the_first(cache, shop, monkeypatch):
    reads = _count_reads(monkeypatch)
    first = default_workspace()
    n_files = len(reads)
    assert n_files == len(first.tables()) - 1  # every table file read once; demand is derived
    second = default_workspace()
    assert len(reads) == n_files  # nothing read again
    assert len(list(cache.glob("workspace-*.pkl"))) == 1
    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(table, getattr(second, name))
    assert second.load_report.ok and second.demand is not None
    second.items.loc[0, "price"] = -1  # each load is a fresh copy
    assert default_workspace().items.loc[0, "price"] == first.items.loc[0, "price"]


def test_a_changed_file_is_read_again(cache, shop, monkeypatch):
    default_workspace()
    items = pd.read_csv(shop / "items.csv")
    items.loc[0, "price"] = 999.0
    items.to_csv(shop / "items.csv", index=False)
    os.utime(shop / "items.csv", ns=(1, 1))  # a different modification time for certain
    assert default_workspace().items.loc[0, "price"] == 999.0


def test_saved_settings_and_scenarios_do_not_reload_the_shop(cache, shop, monkeypatch):
    """Saving replenishment settings or a promotion scenario must not make the next opening parse everything."""
    from opslib.plan_settings import update_settings

    reads = _count_reads(monkeypatch)
    default_workspace()
    n_files = len(reads)
    update_settings(shop, "sku", "A1", user="tester", target=0.97)  # replenishment_settings.csv and its log
    assert (shop / "replenishment_settings.csv").is_file() and (shop / "replenishment_settings_log.csv").is_file()
    (shop / "promotion_scenarios").mkdir()
    (shop / "promotion_scenarios" / "scenarios.json").write_text("{}")
    default_workspace()
    assert len(reads) == n_files  # from the cache
    (shop / "returns_extra.csv").write_text("x\n1\n")  # any other file in the folder counts
    default_workspace()
    assert len(reads) > n_files


def test_refused_data_is_never_cached(cache, shop):
    items = pd.read_csv(shop / "items.csv")
    items.loc[0, "price"] = -5.0
    items.to_csv(shop / "items.csv", index=False)
    for _ in range(2):
        with pytest.raises(DataError, match="nonnegative"):
            default_workspace()
    assert not list(cache.glob("workspace-*.pkl"))


def test_cache_can_be_turned_off(cache, shop, monkeypatch):
    monkeypatch.setenv("OPSLIB_NO_CACHE", "1")
    reads = _count_reads(monkeypatch)
    default_workspace()
    default_workspace()
    assert len(reads) == 2 * (len(small_tables()))
    assert not cache.exists()


def test_an_unreadable_cache_entry_falls_back_to_the_files(cache, shop):
    first = default_workspace()
    [entry] = cache.glob("workspace-*.pkl")
    entry.write_bytes(b"not a pickle")
    again = default_workspace()
    pd.testing.assert_frame_equal(first.order_lines, again.order_lines)
