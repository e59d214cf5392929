"""Loading and saving workspaces: formats, mapping, round trip, demo and errors."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from conftest import REPO, small_tables
from opslib import DataError, load_workspace
from opslib.data.io import FORMATS
from opslib.data import Workspace, default_workspace, load_demo, load_ground_truth, save_workspace


def assert_same_tables(left: Workspace, right: Workspace) -> None:
    assert set(left.tables()) == set(right.tables())
    for name, table in left.tables().items():
        pd.testing.assert_frame_equal(table, right[name], check_dtype=True, obj=name)


@pytest.mark.parametrize("format", FORMATS)
def test_round_trip(tmp_path, format):
    original = load_workspace(save_workspace(Workspace(**small_tables()), tmp_path / "a", format=format))
    again = load_workspace(save_workspace(original, tmp_path / "b", format=format))
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(
        f"{t}.{format}" for t in ("items", "order_lines", "stock")
    )
    assert_same_tables(original, again)
    assert original.order_lines["order_ts"].dtype == "datetime64[ns]"
    assert original.stock["date"].dtype == "datetime64[ns]"
    assert original.order_lines["qty"].dtype == "int64"
    assert pd.api.types.is_string_dtype(original.items["sku"].dtype)


def test_round_trip_keeps_missing_values_and_nullable_dtypes(tmp_path):
    calendar = pd.DataFrame(
        {"date": pd.date_range("2024-01-01", periods=3), "event": ["NY", None, None], "is_holiday": [True, None, False]}
    )
    items = small_tables()["items"].assign(case_pack=[6, None, 1, 2])
    ws = load_workspace(save_workspace(Workspace(items=items, calendar=calendar), tmp_path / "a"))
    assert ws.items["case_pack"].dtype == "Int64" and ws.items["case_pack"].isna().sum() == 1
    assert ws.calendar["is_holiday"].dtype == "boolean"
    again = load_workspace(save_workspace(ws, tmp_path / "b", format="parquet"))
    assert_same_tables(ws, again)


def test_load_csv_folder(small_folder):
    ws = load_workspace(small_folder)
    assert ws.name == "small_shop" and ws.path == small_folder
    assert len(ws.order_lines) == 7 and ws.demand is None
    report = ws.load_report
    assert report.ok and report.rows == {"items": 4, "order_lines": 7, "stock": 11}
    assert report.files["items"] == "items.csv"


def test_text_ids_keep_leading_zeros(tmp_path):
    (tmp_path / "items.csv").write_text("sku,unit_cost,price\n007,1,2\n010,1,2\n")
    ws = load_workspace(tmp_path)
    assert ws.items["sku"].tolist() == ["007", "010"]


def test_mixed_formats_unknown_files_and_subfolders(tmp_path):
    tables = small_tables()
    tables["items"].to_csv(tmp_path / "items.csv.gz", index=False)
    tables["order_lines"].to_parquet(tmp_path / "order_lines.parquet", index=False)
    tables["stock"].to_excel(tmp_path / "stock.xlsx", index=False)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "suppliers.csv").write_text("a,b\n1,2\n")
    (tmp_path / "ground_truth").mkdir()
    (tmp_path / "ground_truth" / "items.csv").write_text("not,a,table\n")
    ws = load_workspace(tmp_path, name="mixed")
    assert ws.name == "mixed"
    assert set(ws.tables()) == {"items", "order_lines", "stock"}
    assert ws.load_report.unknown_files == ["notes.txt", "suppliers.csv"]
    assert "notes.txt" in str(ws.load_report)


def test_workbook_with_one_sheet_per_table(tmp_path):
    with pd.ExcelWriter(tmp_path / "shop.xlsx") as writer:
        for name, table in small_tables().items():
            table.to_excel(writer, sheet_name=name, index=False)
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Notes", index=False)
    ws = load_workspace(tmp_path)
    assert set(ws.tables()) == {"items", "order_lines", "stock"}
    assert ws.load_report.files["stock"] == "shop.xlsx[stock]"
    assert ws.load_report.unknown_files == ["shop.xlsx[Notes]"]
    direct = load_workspace(tmp_path / "shop.xlsx")
    assert_same_tables(ws, direct)


def test_a_table_in_two_files_is_refused(tmp_path):
    small_tables()["items"].to_csv(tmp_path / "items.csv", index=False)
    small_tables()["items"].to_parquet(tmp_path / "items.parquet", index=False)
    with pytest.raises(DataError, match=r"items: items\.csv, items\.parquet.*Fix"):
        load_workspace(tmp_path)


def foreign_folder(tmp_path):
    tables = small_tables()
    tables["items"].rename(columns={"sku": "SKU Code", "unit_cost": "Cost"}).to_csv(tmp_path / "items.csv", index=False)
    tables["order_lines"].rename(columns={"sku": "SKU Code", "order_ts": "Created At"}).to_csv(
        tmp_path / "order_lines.csv", index=False
    )
    return tmp_path


def test_mapping_per_table_and_flat(tmp_path):
    folder = foreign_folder(tmp_path)
    per_table = {
        "items": {"SKU Code": "sku", "Cost": "unit_cost"},
        "order_lines": {"SKU Code": "sku", "Created At": "order_ts"},
    }
    ws = load_workspace(folder, mapping=per_table)
    assert list(ws.items.columns[:3]) == ["sku", "unit_cost", "price"]
    assert ws.load_report.renamed["items"] == {"SKU Code": "sku", "Cost": "unit_cost"}
    flat = {"SKU Code": "sku", "Cost": "unit_cost", "Created At": "order_ts"}
    assert_same_tables(ws, load_workspace(folder, mapping=flat))
    mixed = {"SKU Code": "sku", "items": {"Cost": "unit_cost"}, "order_lines": {"Created At": "order_ts"}}
    assert_same_tables(ws, load_workspace(folder, mapping=mixed))


def test_unmapped_foreign_names_are_refused_with_a_hint(tmp_path):
    folder = foreign_folder(tmp_path)
    with pytest.raises(DataError, match=r"table 'items', column 'sku, unit_cost', rule 'required_columns'") as info:
        load_workspace(folder)
    assert "seen: SKU Code, Cost, price" in str(info.value)


def test_mapping_with_unknown_table_is_refused(tmp_path):
    folder = foreign_folder(tmp_path)
    with pytest.raises(DataError, match="Did you mean 'items'"):
        load_workspace(folder, mapping={"itmes": {"SKU Code": "sku"}})


def test_bad_data_refused_unless_validate_false(tmp_path):
    (tmp_path / "items.csv").write_text("sku,unit_cost,price\nA,1,2\nB,x,3\n")
    with pytest.raises(DataError, match=r"(?s)Cannot load the workspace.*table 'items', column 'unit_cost', rule 'dtype'"):
        load_workspace(tmp_path)
    ws = load_workspace(tmp_path, validate=False)
    assert not ws.load_report.ok
    assert ws.items["unit_cost"].isna().tolist() == [False, True]  # reported, not silent


def test_blank_rows_are_skipped_and_counted(tmp_path):
    (tmp_path / "items.csv").write_text("sku,unit_cost,price\nA,1,2\n,,\nB,1,3\n")
    ws = load_workspace(tmp_path)
    assert len(ws.items) == 2
    [skipped] = ws.load_report.skipped
    assert (skipped.table, skipped.rule, skipped.n_rows) == ("items", "blank_row", 1)


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist.*Fix"):
        load_workspace(tmp_path / "nowhere")
    (tmp_path / "readme.md").write_text("x")
    with pytest.raises(DataError, match=r"at least one table file.*readme\.md.*Fix: name the files <table>\.csv"):
        load_workspace(tmp_path)


def test_save_refuses_ambiguous_layout_and_bad_format(tmp_path):
    ws = Workspace(**small_tables())
    save_workspace(ws, tmp_path, format="csv")
    with pytest.raises(DataError, match="already holds items.csv"):
        save_workspace(ws, tmp_path, format="parquet")
    with pytest.raises(DataError, match="format must be one of"):
        save_workspace(ws, tmp_path, format="json")


def test_default_workspace_reads_env(small_folder, monkeypatch):
    monkeypatch.setenv("OPSLIB_DATA", str(small_folder))
    ws = default_workspace()
    assert ws.path == small_folder and len(ws.items) == 4


def test_ground_truth(tmp_path):
    truth = tmp_path / "ground_truth"
    truth.mkdir()
    pd.DataFrame({"sku": ["007"], "date": ["2024-01-01"], "lift": [1.5]}).to_csv(truth / "lift.csv", index=False)
    pd.DataFrame({"sku": ["A"], "alpha": [0.3]}).to_parquet(truth / "params.parquet")
    out = load_ground_truth(tmp_path)
    assert set(out) == {"lift", "params"}
    assert out["lift"]["sku"].tolist() == ["007"] and out["lift"]["date"].dtype.kind == "M"
    with pytest.raises(DataError, match="ground_truth"):
        load_ground_truth(tmp_path / "ground_truth")


def test_load_demo():
    # the demo shop is shipped in data/demo: loading it must not skip or refuse anything
    ws = load_demo()
    assert ws.name == "demo" and ws.load_report.ok
    assert not ws.load_report.findings and not ws.load_report.skipped
    with gzip.open(REPO / "data" / "demo" / "order_lines.csv.gz", "rt") as f:
        assert len(ws.order_lines) == sum(1 for _ in f) - 1
    assert ws.demand is not None and ws.demand["units"].sum() == ws.order_lines["qty"].sum()
    assert ws.items is not None and ws.order_lines is not None
