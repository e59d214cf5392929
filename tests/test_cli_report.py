"""``opslib report monthly``: Excel or HTML by suffix, clear errors with exit code 2."""

from __future__ import annotations

import openpyxl
import pytest

from opslib.cli import main
from test_ops_report import demo_workspace


@pytest.fixture(scope="module")
def demo():
    return demo_workspace()


@pytest.fixture
def shared_demo(demo, monkeypatch):
    """The command loads this module's demo object: its report frames are computed once (memo)."""
    monkeypatch.setattr("opslib.data.io.load_demo", lambda: demo)
    return demo


def test_report_monthly_excel_on_the_demo(shared_demo, tmp_path, capsys):
    out = tmp_path / "2026-09.xlsx"
    assert main(["report", "monthly", "--month", "2026-09", "--out", str(out)]) == 0
    assert "2026-09" in capsys.readouterr().out
    book = openpyxl.load_workbook(out)
    assert "Stock movement" in book.sheetnames and "KPIs" in book.sheetnames
    assert book["Report"]["B3"].value == "2026-09"


def test_report_monthly_html_by_suffix_and_default_month(shared_demo, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", "monthly", "--out", str(out)]) == 0  # the last full month: 2026-09
    assert "Operations report 2026-09" in out.read_text(encoding="utf-8")


def test_report_monthly_on_a_data_folder(small_folder, tmp_path, capsys):
    # the small shop has no stock movements: the report says so, no traceback
    code = main(["report", "monthly", "--data", str(small_folder), "--month", "2024-01", "--out", str(tmp_path / "r.xlsx")])
    err = capsys.readouterr().err
    assert code == 1
    assert "stock_movements" in err and "Traceback" not in err


def test_report_monthly_errors(tmp_path, capsys):
    # the real default: load_demo() from the disk cache
    cases = [
        (["--month", "2026-9"], "YYYY-MM"),
        (["--month", "2030-01"], "outside the data"),
        (["--month", "2026-09", "--out", str(tmp_path / "r.pdf")], ".xlsx"),
        (["--month", "2026-09", "--out", str(tmp_path / "missing" / "r.xlsx")], "does not exist"),
        (["--data", str(tmp_path / "nowhere")], "does not exist"),
    ]
    for extra, message in cases:
        args = ["report", "monthly", "--out", str(tmp_path / "r.xlsx"), *extra]
        assert main(args) == 2, extra
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (extra, err)
        assert not (tmp_path / "r.xlsx").exists()
