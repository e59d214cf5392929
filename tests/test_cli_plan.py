"""`opslib plan`: the workbook holds what replenishment_plan returns, sheet by sheet."""

import pandas as pd
import pytest

import opslib
from opslib.cli import main
from opslib.plan import plan_sheets, replenishment_plan


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "plan.xlsx"
    assert main(["plan", "--out", str(out), "--model", "ses", "--target", "0.9"]) == 0
    return out


def test_workbook_sheets_equal_the_library_plan(workbook):
    expected = plan_sheets(replenishment_plan(opslib.load_demo(), model="ses", target=0.9))
    read = pd.read_excel(workbook, sheet_name=None)
    assert list(read) == list(expected)
    for title in ("Orders", "Orders by supplier", "Policies"):
        got, want = read[title], expected[title].reset_index(drop=True)
        assert list(got.columns) == [str(c) for c in want.columns]
        assert len(got) == len(want) and len(want) > 0
        numeric = want.select_dtypes("number").columns
        pd.testing.assert_frame_equal(got[numeric].astype(float), want[numeric].astype(float), check_dtype=False)
    assert read["Orders by supplier"]["supplier"].notna().all()  # the supplier is a column, not a lost index
    settings = dict(zip(read["Plan"]["setting"], read["Plan"]["value"].astype(str)))
    assert settings["target"] == "0.9" and settings["model"] == "ses"


def test_csv_is_the_order_list(tmp_path, capsys):
    out = tmp_path / "orders.csv"
    assert main(["plan", "--out", str(out), "--model", "ses"]) == 0
    orders = pd.read_csv(out)
    assert {"sku", "supplier"} <= set(orders.columns) and len(orders) > 0
    assert f"{len(orders)} SKUs to order" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--out", "plan.txt"], "must end in .xlsx"),
    (["--out", "plan.csv", "--target", "95"], "fraction between 0 and 1"),
    (["--out", "no/such/folder/plan.csv"], "does not exist"),
    (["--out", "plan.csv", "--data", "no/such/folder"], "does not exist"),
])
def test_bad_arguments_are_refused_in_words(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["plan", *argv]) == 2
    assert message in capsys.readouterr().err
