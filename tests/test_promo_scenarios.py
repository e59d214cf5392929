"""Saved promotion scenarios (opslib.promo_scenarios): round trip, atomic files, log, validation in words."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from opslib import promo_scenarios as store
from opslib.errors import DataError
from opslib.promo import PromotionPlan
from opslib.promo_scenarios import (
    SCENARIOS_FILE,
    SCENARIOS_FOLDER,
    SCENARIOS_LOG_FILE,
    delete_scenario,
    load_scenarios,
    save_scenario,
    scenarios_log,
)

T0 = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
T1 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

ITEMS = pd.DataFrame({"sku": ["A1", "A2", "K1"], "category": ["audio", "audio", "kitchen"],
                      "unit_cost": [10.0, 20.0, 5.0], "price": [20.0, 35.0, 9.0]})

PLANS = {
    "percent": PromotionPlan(skus=("A1", "A2"), start="2025-03-01", end="2025-03-07", depth=0.1 + 0.2,
                             funding_share=1 / 3, fixed_cost=1234.5),
    "tiers": PromotionPlan(skus=("A1",), start="2025-03-01", end="2025-03-02", mechanic="threshold",
                           tiers="300:30|600:80"),
    "items": PromotionPlan(skus=("A1",), start="2025-03-01", end="2025-03-02", mechanic="item_count",
                           tiers="2:0.1|3:0.15"),
    "coupon": PromotionPlan(skus=("K1",), start="2025-03-01", end="2025-03-10", mechanic="coupon", reward=10.0,
                            threshold=99.0, coupon_redemption=0.37),
    "flash": PromotionPlan(skus=("K1",), start="2025-03-01", end="2025-03-01", mechanic="flash_sale", depth=0.4,
                           stock_cap=50.0),
    "half": PromotionPlan(skus=("A2",), start="2025-03-01", end="2025-03-03", mechanic="second_half_price",
                          depth=0.5, unit_discount=0.18312345678901234),
    "points": PromotionPlan(skus=("A2",), start="2025-03-01", end="2025-03-03", mechanic="points", depth=0.05,
                            points_breakage=0.2),
}


def _file(folder: Path) -> Path:
    return folder / SCENARIOS_FOLDER / SCENARIOS_FILE


@pytest.mark.parametrize("key", sorted(PLANS))
def test_every_mechanic_round_trips_to_the_same_plan(tmp_path, key):
    plan = PLANS[key]
    saved = save_scenario(tmp_path, f"  {key}   plan ", plan, category="audio", draws=500, seed=7,
                          data_through="2025-02-28", user="ann", now=T0)
    assert saved.name == f"{key} plan" and saved.plan.name == f"{key} plan"
    back = load_scenarios(tmp_path, items=ITEMS)
    assert back.problems.empty and back.names() == [f"{key} plan"]
    got = back.get(f"{key} plan")
    assert got == saved  # every plan field, floats to the last bit, who and when
    assert got.plan == PromotionPlan(**{**plan.__dict__, "name": f"{key} plan"})
    assert (got.draws, got.seed, got.data_through) == (500, 7, pd.Timestamp("2025-02-28"))
    assert (got.saved_by, got.saved_at) == ("ann", pd.Timestamp(T0))


def test_no_file_is_no_scenario_and_the_file_lives_in_a_subfolder(tmp_path):
    assert len(load_scenarios(tmp_path)) == 0 and scenarios_log(tmp_path).empty
    save_scenario(tmp_path, "a", PLANS["percent"], user="ann", now=T0)
    # not beside the tables: the workspace caches are keyed on the folder's files, not its subfolders
    assert [p.name for p in tmp_path.iterdir()] == [SCENARIOS_FOLDER]
    data = json.loads(_file(tmp_path).read_text(encoding="utf-8"))
    assert data["format"] == "opslib promotion scenarios" and data["version"] == 1
    assert data["scenarios"][0]["plan"]["skus"] == ["A1", "A2"]


def test_names_are_unique_unless_replaced_and_order_is_kept(tmp_path):
    save_scenario(tmp_path, "first", PLANS["percent"], user="ann", now=T0)
    save_scenario(tmp_path, "second", PLANS["coupon"], user="bo", now=T0)
    with pytest.raises(DataError, match=r"'first' is saved already \(by ann.*Fix: choose another name"):
        save_scenario(tmp_path, "first", PLANS["flash"], user="bo", now=T1)
    save_scenario(tmp_path, "first", PLANS["flash"], replace=True, user="bo", now=T1)
    back = load_scenarios(tmp_path)
    assert back.names() == ["first", "second"]
    assert back.get("first").plan.mechanic == "flash_sale" and back.get("first").saved_by == "bo"


def test_the_log_says_who_did_what_and_when(tmp_path):
    save_scenario(tmp_path, "a", PLANS["percent"], user="ann", now=T0)
    save_scenario(tmp_path, "a", PLANS["coupon"], replace=True, user="李雷", now=T1)
    delete_scenario(tmp_path, "a", user="bo", now=T1)
    log = scenarios_log(tmp_path)
    assert log["action"].tolist() == ["saved", "replaced", "deleted"]
    assert log["changed_by"].tolist() == ["ann", "李雷", "bo"]
    assert log["changed_at"].tolist() == [pd.Timestamp(T0), pd.Timestamp(T1), pd.Timestamp(T1)]
    assert json.loads(log["plan"].iloc[1])["mechanic"] == "coupon"
    assert len(load_scenarios(tmp_path)) == 0
    # appended, never rewritten: the first line is the header written once
    lines = (tmp_path / SCENARIOS_FOLDER / SCENARIOS_LOG_FILE).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "changed_at,changed_by,action,name,plan" and len(lines) == 4


def test_the_default_user_is_the_login_name(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "current_user", lambda: "marketer7")
    saved = save_scenario(tmp_path, "a", PLANS["percent"])
    assert saved.saved_by == "marketer7" and scenarios_log(tmp_path)["changed_by"].tolist() == ["marketer7"]


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path, monkeypatch):
    save_scenario(tmp_path, "a", PLANS["percent"], user="ann", now=T0)
    before = _file(tmp_path).read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_scenario(tmp_path, "b", PLANS["coupon"], user="ann", now=T1)
    monkeypatch.undo()
    assert _file(tmp_path).read_bytes() == before
    assert sorted(p.name for p in _file(tmp_path).parent.iterdir() if p.name.endswith(".tmp")) == []
    assert load_scenarios(tmp_path).names() == ["a"]
    assert scenarios_log(tmp_path)["name"].tolist() == ["a"]  # nothing logged for the failed save


def test_the_write_is_a_rename_of_a_full_temporary_file(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((Path(src).name, Path(dst).name, json.loads(Path(src).read_text(encoding="utf-8"))))
        real(src, dst)

    monkeypatch.setattr(store.os, "replace", spy)
    save_scenario(tmp_path, "a", PLANS["percent"], user="ann", now=T0)
    (src, dst, content), = seen
    assert src.startswith(f".{SCENARIOS_FILE}.") and src.endswith(".tmp") and dst == SCENARIOS_FILE
    assert [e["name"] for e in content["scenarios"]] == ["a"]


@pytest.mark.parametrize("text, words", [
    ("{not json", "not a readable scenarios file"),
    ('["a", "b"]', "not a promotion scenarios file"),
    ('{"format": "something else", "scenarios": []}', "not a promotion scenarios file"),
    ('{"format": "opslib promotion scenarios", "version": 99, "scenarios": []}', "update opslib"),
])
def test_a_broken_file_is_refused_in_words_and_never_overwritten(tmp_path, text, words):
    _file(tmp_path).parent.mkdir()
    _file(tmp_path).write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=words) as info:
        load_scenarios(tmp_path)
    assert str(_file(tmp_path)) in str(info.value) and "Fix:" in str(info.value)
    with pytest.raises(DataError, match=words):
        save_scenario(tmp_path, "a", PLANS["percent"], user="ann")
    with pytest.raises(DataError, match=words):
        delete_scenario(tmp_path, "a", user="ann")
    assert _file(tmp_path).read_text(encoding="utf-8") == text


def _write_entries(folder: Path, entries: list) -> None:
    _file(folder).parent.mkdir(exist_ok=True)
    _file(folder).write_text(json.dumps({"format": "opslib promotion scenarios", "version": 1,
                                         "scenarios": entries}), encoding="utf-8")


def test_unusable_entries_are_reported_not_dropped_and_survive_saves(tmp_path):
    save_scenario(tmp_path, "good", PLANS["percent"], category="audio", user="ann", now=T0)
    save_scenario(tmp_path, "gone sku", PLANS["percent"].__class__(skus=("A1", "Z9"), start="2025-03-01",
                                                                    end="2025-03-02", depth=0.2),
                  category="audio", user="ann", now=T0)
    save_scenario(tmp_path, "gone category", PLANS["coupon"], category="garden", user="ann", now=T0)
    entries = json.loads(_file(tmp_path).read_text(encoding="utf-8"))["scenarios"]
    entries.append({"name": "bad depth", "plan": {**entries[0]["plan"], "depth": 20}})
    entries.append({"name": "bad field", "plan": {**entries[0]["plan"], "colour": "red"}})
    entries.append({"name": "good", "plan": entries[0]["plan"]})
    entries.append("not an entry")
    _write_entries(tmp_path, entries)

    back = load_scenarios(tmp_path, items=ITEMS)
    assert back.names() == ["good"]
    problems = back.problems.set_index("entry")
    assert problems.loc[2, "name"] == "gone sku" and "SKU(s) Z9 are not in the items table" in problems.loc[2, "problem"]
    assert "category 'garden' is not in the items table" in problems.loc[3, "problem"]
    assert "pass depth=0.2 for 20%" in problems.loc[4, "problem"]
    assert "'colour'" in problems.loc[5, "problem"]
    assert "the name must appear once" in problems.loc[6, "problem"]
    assert problems.loc[7, "name"] is None and "an entry must be an object" in problems.loc[7, "problem"]
    assert all("Fix:" in p for p in problems["problem"])
    # without items, only the SKU and category checks are skipped
    assert load_scenarios(tmp_path).names() == ["good", "gone sku", "gone category"]
    with pytest.raises(DataError, match="'gone sku' cannot be used: entry 2"):
        back.get("gone sku")
    with pytest.raises(DataError, match="no saved scenario is called 'nope'. Fix: pick one of 'good'"):
        back.get("nope")

    save_scenario(tmp_path, "new", PLANS["flash"], user="bo", now=T1)  # the broken entries stay as they were
    after = json.loads(_file(tmp_path).read_text(encoding="utf-8"))["scenarios"]
    assert after[:-1] == entries and after[-1]["name"] == "new"
    delete_scenario(tmp_path, "gone sku", user="bo", now=T1)  # and can be deleted by name
    assert "gone sku" not in set(load_scenarios(tmp_path, items=ITEMS).problems["name"])


@pytest.mark.parametrize("call, words", [
    (lambda f: save_scenario(f, "   ", PLANS["percent"]), "the name must be a non-empty text"),
    (lambda f: save_scenario(f, "x" * 81, PLANS["percent"]), "at most 80 characters"),
    (lambda f: save_scenario(f, "a", {"skus": ["A1"]}), "plan must be an opslib.promo.PromotionPlan"),
    (lambda f: save_scenario(f, "a", PLANS["percent"], draws=0), "draws must be a whole number >= 1"),
    (lambda f: save_scenario(f, "a", PLANS["percent"], seed=1.5), "seed must be a whole number >= 0"),
    (lambda f: save_scenario(f, "a", PLANS["percent"], whole_category=True), "needs its category"),
    (lambda f: delete_scenario(f, "nope"), "no saved scenario is called 'nope'"),
    (lambda f: load_scenarios(f / "missing"), "does not exist"),
    (lambda f: load_scenarios(None), "need a workspace folder"),
])
def test_bad_arguments_are_refused_in_words(tmp_path, call, words):
    with pytest.raises(DataError, match=words) as info:
        call(tmp_path)
    assert "Fix:" in str(info.value)
    assert not _file(tmp_path).exists()


def test_colleagues_saving_at_the_same_moment_lose_nothing(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    names = [f"plan {k}" for k in range(12)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda n: save_scenario(tmp_path, n, PLANS["percent"], user=n, now=T0), names))
    assert sorted(load_scenarios(tmp_path).names()) == sorted(names)
    assert sorted(scenarios_log(tmp_path)["name"]) == sorted(names)
