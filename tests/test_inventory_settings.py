"""Saved replenishment settings (opslib.plan_settings): files, log, precedence, and the plan they drive.

The plan checks use the small shop of conftest.py with two suppliers and item lead times
added (S1: A1 at 5 days; S2: A2 at 5 days, K1 and K2 at 10 days). On the last stock day
A1 has 3 units on hand and K1 none; nothing is on order.
"""

import dataclasses
from datetime import UTC, datetime

import pandas as pd
import pytest
from conftest import small_tables

from opslib import inventory as inv
from opslib.data import Workspace
from opslib.data.demand import daily_demand
from opslib.errors import DataError
from opslib.plan import plan_sheets, plan_workbook, replenishment_plan
from opslib.plan_settings import (
    FIELDS,
    SETTINGS_FILE,
    SETTINGS_LOG_FILE,
    ReplenishmentSettings,
    load_settings,
    resolve_settings,
    save_settings,
    settings_log,
    update_settings,
)

T0 = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
T1 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
def shop(tmp_path) -> Workspace:
    tables = small_tables()
    tables["items"] = tables["items"].assign(supplier=["S1", "S2", "S2", "S2"], lead_time_days=[5.0, 5.0, 10.0, 10.0])
    ws = Workspace(**tables, path=tmp_path, name="small shop")
    return dataclasses.replace(ws, demand=daily_demand(ws))


# ---------------------------------------------------------------- values and errors


@pytest.mark.parametrize("values, message", [
    (dict(target=1.0), "strictly between 0 and 1"),
    (dict(target=0), "strictly between 0 and 1"),
    (dict(target=95), "write 0.95 instead of 95"),
    (dict(target="high"), "must be a number"),
    (dict(case_pack=-6), "case_pack must be >= 1"),
    (dict(case_pack=2.5), "whole number"),
    (dict(moq=-1), "moq must be >= 0"),
    (dict(review_period_days=0), "review_period_days must be >= 1"),
    (dict(lead_time_days=-3), "lead_time_days must be > 0"),
    (dict(service_type="ready_rate"), "fill_rate, cycle_service_level"),
    (dict(colour="red"), "unknown field 'colour'"),
])
def test_bad_values_are_refused_in_words(values, message):
    with pytest.raises(DataError, match=message) as info:
        ReplenishmentSettings().set("sku", "A1", **values)
    assert "Fix:" in str(info.value) or "unknown field" in str(info.value)


@pytest.mark.parametrize("scope, key, message", [
    ("shelf", "x", "scope must be one of sku, cell, category, supplier"),
    ("cell", "AQ", "must be an ABC x XYZ cell"),
    ("sku", " ", "key must name the sku"),
])
def test_bad_scopes_are_refused(scope, key, message):
    with pytest.raises(DataError, match=message):
        ReplenishmentSettings().set(scope, key, target=0.9)


def test_values_take_their_canonical_types_and_none_clears():
    s = ReplenishmentSettings().set("category", "audio", target="0.97", case_pack=6.0, review_period_days="3")
    assert s.get("category", "audio") == {"target": 0.97, "review_period_days": 3, "case_pack": 6}
    assert isinstance(s.get("category", "audio")["case_pack"], int)
    s2 = s.set("category", "audio", target=None, case_pack=None, review_period_days=None)
    assert len(s2) == 0 and len(s) == 1  # immutable: set returns a copy
    assert ReplenishmentSettings().set("cell", "ax", target=0.99).get("cell", "AX") == {"target": 0.99}


# ---------------------------------------------------------------- files and log


def test_settings_round_trip_through_a_readable_file(tmp_path):
    s = (ReplenishmentSettings().set("supplier", "S2", moq=10, lead_time_days=12.5)
         .set("sku", "A1", target=0.99, service_type="cycle_service_level")
         .set("category", "厨房", review_period_days=3))
    save_settings(tmp_path, s, user="ann", now=T0)
    assert load_settings(tmp_path) == s
    text = (tmp_path / SETTINGS_FILE).read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == "scope,key," + ",".join(FIELDS)
    # SKU first (it wins), whole numbers without ".0", empty where a field is not set
    assert text[1:] == ["sku,A1,cycle_service_level,0.99,,,,", "category,厨房,,,3,,,", "supplier,S2,,,,12.5,10,"]
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file of the atomic write is gone


def test_the_log_records_who_changed_what_and_when(tmp_path):
    update_settings(tmp_path, "sku", "A1", user="ann", now=T0, target=0.99, case_pack=4)
    update_settings(tmp_path, "sku", "A1", user="bob", now=T1, target=0.97, case_pack=None)
    update_settings(tmp_path, "sku", "A1", user="bob", now=T1, target=0.97)  # no change: nothing logged
    log = settings_log(tmp_path)
    assert log.columns.tolist() == ["changed_at", "changed_by", "scope", "key", "field", "old", "new"]
    assert log[["changed_by", "scope", "key", "field", "old", "new"]].values.tolist() == [
        ["ann", "sku", "A1", "target", "", "0.99"],
        ["ann", "sku", "A1", "case_pack", "", "4"],
        ["bob", "sku", "A1", "target", "0.99", "0.97"],
        ["bob", "sku", "A1", "case_pack", "4", ""],
    ]
    assert log["changed_at"].tolist() == [pd.Timestamp(T0)] * 2 + [pd.Timestamp(T1)] * 2
    assert load_settings(tmp_path).get("sku", "A1") == {"target": 0.97}
    # append-only: the first lines are as written the first time
    first = (tmp_path / SETTINGS_LOG_FILE).read_text(encoding="utf-8-sig").splitlines()
    assert first[1] == "2026-11-27T09:30:00+00:00,ann,sku,A1,target,,0.99" and len(first) == 5


def test_the_user_defaults_to_the_login_name(tmp_path, monkeypatch):
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "planner7")
    update_settings(tmp_path, "supplier", "S1", moq=12)
    assert settings_log(tmp_path)["changed_by"].tolist() == ["planner7"]


def test_a_broken_file_is_refused_line_by_line(tmp_path):
    (tmp_path / SETTINGS_FILE).write_text(
        "scope,key,target,case_pack\nsku,A1,95,\nsku,A2,0.9,-1\nseg,x,0.9,\nsku,A1,0.9,\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_settings(tmp_path)
    message = str(info.value)
    assert "4 line(s) break a rule" in message
    assert "line 2: target must be a fraction" in message and "write 0.95 instead of 95" in message
    assert "line 3: case_pack must be >= 1" in message
    assert "line 4: scope must be one of" in message and "line 5: scope/key must appear once" in message


def test_no_folder_no_settings(tmp_path):
    assert len(load_settings(tmp_path)) == 0 and settings_log(tmp_path).empty
    with pytest.raises(DataError, match="does not exist"):
        load_settings(tmp_path / "nope")


# ---------------------------------------------------------------- precedence


def test_precedence_sku_over_cell_over_category_over_supplier(shop):
    s = (ReplenishmentSettings()
         .set("supplier", "S2", target=0.8, moq=10, lead_time_days=3)
         .set("category", "kitchen", target=0.85, case_pack=6)
         .set("sku", "K1", target=0.99)
         .set("category", "nowhere", target=0.5))
    r = resolve_settings(shop, s, target=0.95, review_period_days=7)
    t = r.table.set_index("sku")
    # by hand: A1 (S1, audio): nothing applies; A2 (S2, audio): supplier; K1: sku, category, supplier; K2: category, supplier
    assert t["target"].to_dict() == {"A1": 0.95, "A2": 0.8, "K1": 0.99, "K2": 0.85}
    assert t["target_source"].to_dict() == {"A1": "default", "A2": "supplier S2", "K1": "sku",
                                            "K2": "category kitchen"}
    assert t["case_pack"].to_dict() == {"A1": 1, "A2": 1, "K1": 6, "K2": 6}
    assert t["moq"].to_dict() == {"A1": 0, "A2": 10, "K1": 10, "K2": 10}
    assert t.loc["A1", "lead_time_days"] != t.loc["A1", "lead_time_days"]  # NaN: measured or items, as without settings
    assert t.loc[["A2", "K1", "K2"], "lead_time_days"].tolist() == [3.0] * 3
    assert (t["review_period_days"] == 7).all() and (t["service_type"] == "fill_rate").all()
    assert r.unmatched.values.tolist() == [["category", "nowhere"]]


def test_cell_overrides_follow_the_abc_xyz_segmentation(shop):
    stats = inv.demand_statistics(shop)
    from opslib.inventory.segmentation import segment

    cells = segment(stats, shop.items.set_index("sku")["unit_cost"])["cell"]
    cell = cells["A1"]
    s = ReplenishmentSettings().set("cell", cell, target=0.91).set("category", "audio", target=0.6)
    t = resolve_settings(shop, s).table.set_index("sku")
    same = [sku for sku in cells.index if cells[sku] == cell]
    assert t.loc[same, "target"].eq(0.91).all() and t.loc["A1", "target_source"] == f"cell {cell}"
    assert t.loc[same, "cell"].eq(cell).all()


# ---------------------------------------------------------------- the plan


def test_without_settings_the_plan_is_unchanged(shop):
    plain = replenishment_plan(shop, use_forecast=False, settings=None)
    saved = replenishment_plan(shop, use_forecast=False)  # the folder has no settings file
    pd.testing.assert_frame_equal(plain.policies, saved.policies)
    pd.testing.assert_frame_equal(plain.orders.orders, saved.orders.orders)
    assert "saved_settings" not in saved.settings and saved.sku_settings.empty


def test_saved_settings_drive_the_plan_as_the_precedence_says(shop):
    folder = shop.path
    update_settings(folder, "category", "audio", user="ann", now=T0, lead_time_days=7, case_pack=6, target=0.9)
    update_settings(folder, "sku", "A1", user="bob", now=T0, case_pack=4, review_period_days=14)
    update_settings(folder, "supplier", "S2", user="ann", now=T0, moq=10, target=0.8)
    update_settings(folder, "category", "kitchen", user="ann", now=T0, service_type="cycle_service_level")
    plan = replenishment_plan(shop, use_forecast=False)
    p = plan.policies.set_index("sku")
    assert p.index.tolist() == ["A1", "A2", "K1", "K2"]
    # A1: target 0.9 (category audio), pack 4 (sku over category 6), R = 14 (sku), L = 7 (category)
    assert p.loc["A1", ["service_target", "review_period_days", "lead_time_mean_days", "case_pack"]].tolist() == \
        [0.9, 14, 7.0, 4]
    assert p.loc["A1", "lead_time_source"] == "settings"
    # K1: cycle service level (category kitchen), target 0.8 and MOQ 10 (supplier S2), measured/items lead time 10
    assert p.loc["K1", ["service_type", "service_target", "moq", "lead_time_mean_days"]].tolist() == \
        ["cycle_service_level", 0.8, 10, 10.0]
    # each SKU's policy is the engine's on the items as the settings say
    items = shop.items.assign(case_pack=[4.0, 6.0, None, None], moq=[None, 10.0, 10.0, 10.0],
                              lead_time_days=[7.0, 7.0, 10.0, 10.0])
    by_hand = inv.plan_policies(dataclasses.replace(shop, items=items.iloc[[0]]), "fill_rate", 0.9, 14).policies
    got = plan.policies.iloc[[0]].drop(columns="lead_time_source").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, by_hand.drop(columns="lead_time_source"), check_dtype=False)
    by_hand = inv.plan_policies(dataclasses.replace(shop, items=items.iloc[[2]]), "cycle_service_level", 0.8, 7)
    pd.testing.assert_frame_equal(plan.policies.iloc[[2]].reset_index(drop=True), by_hand.policies,
                                  check_dtype=False)
    # the order list rounds with the saved pack and MOQ: A1 needs S - IP = order_up_to - 3 units in packs of 4,
    # K1 (nothing on hand) needs its order-up-to level, at least the MOQ of 10
    orders = plan.orders.orders.set_index("sku")
    need = p.loc["A1", "order_up_to"] - 3
    assert orders.loc["A1", "order_quantity"] == -(-need // 4) * 4
    assert orders.loc["K1", "order_quantity"] == max(p.loc["K1", "order_up_to"], 10)
    assert orders.loc["A1", "order_value"] == orders.loc["A1", "order_quantity"] * 60.0
    assert "4 override(s) from" in plan.settings["saved_settings"]
    assert plan.sku_settings.set_index("sku").loc["A1", "case_pack_source"] == "sku"
    assert any("lead time 7 days from the saved settings (category audio)" in m for m in plan.warnings["message"])


def test_explicit_targets_win_over_saved_ones(shop):
    update_settings(shop.path, "sku", "A1", user="ann", target=0.8)
    plan = replenishment_plan(shop, use_forecast=False, targets={"A1": 0.97})
    assert plan.policies.set_index("sku").loc["A1", "service_target"] == 0.97


def test_settings_can_be_passed_or_switched_off(shop):
    s = ReplenishmentSettings().set("sku", "K1", target=0.7)
    given = replenishment_plan(shop, use_forecast=False, settings=s)
    assert given.policies.set_index("sku").loc["K1", "service_target"] == 0.7
    save_settings(shop.path, s, user="ann")
    off = replenishment_plan(shop, use_forecast=False, settings=None)
    assert off.policies.set_index("sku").loc["K1", "service_target"] == 0.95
    with pytest.raises(DataError, match="settings must be 'saved', None or a ReplenishmentSettings"):
        replenishment_plan(shop, settings="yes")


def test_a_bad_saved_file_stops_the_plan_in_words(shop):
    (shop.path / SETTINGS_FILE).write_text("scope,key,target\nsku,A1,1.5\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 2: target must be strictly between 0 and 1"):
        replenishment_plan(shop, use_forecast=False)


def test_the_workbook_holds_the_plan_and_the_settings_per_sku(shop):
    update_settings(shop.path, "supplier", "S2", user="ann", moq=10)
    plan = replenishment_plan(shop, use_forecast=False)
    read = pd.read_excel(__import__("io").BytesIO(plan_workbook(plan)), sheet_name=None, engine="openpyxl")
    assert list(read) == list(plan_sheets(plan)) and "Settings per SKU" in read
    assert read["Orders"]["sku"].tolist() == plan.orders.orders["sku"].tolist()
    assert read["Orders by supplier"]["supplier"].tolist() == plan.orders.by_supplier.index.tolist()
