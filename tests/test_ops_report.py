"""The monthly report on the demo shop, its Excel and HTML exports, and the shared-frame memo.

One module-scoped load of the demo shop and one report of its last full month serve most tests.
"""

from __future__ import annotations

import functools
import numpy as np
import openpyxl
import pandas as pd
import pytest

import opslib
from opslib import ops
from opslib.data import Workspace


@functools.cache
def demo_workspace() -> Workspace:
    """One demo shop object for the report tests of every module (test_cli_report,
    test_ui_operations import it): the memo of shared frames then serves them all."""
    return opslib.load_demo()


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return demo_workspace()


@pytest.fixture(scope="module")
def report(demo) -> ops.MonthlyReport:
    return ops.monthly_report(demo, ops.last_full_month(demo))


@pytest.fixture(scope="module")
def workbook(report, tmp_path_factory):
    return ops.write_excel(report, tmp_path_factory.mktemp("xlsx") / "report.xlsx")


def test_last_full_month_and_month_checks(demo):
    # the demo's order lines end on 2026-09-30 23:48: September is complete
    assert ops.last_full_month(demo) == pd.Period("2026-09", "M")
    cut = Workspace(order_lines=demo.order_lines[demo.order_lines["order_ts"] < "2026-09-15"], items=demo.items)
    assert ops.last_full_month(cut) == pd.Period("2026-08", "M")
    with pytest.raises(ValueError, match="YYYY-MM"):
        ops.monthly_report(demo, "2026-9")
    with pytest.raises(ValueError, match="YYYY-MM"):
        ops.monthly_report(demo, "September")
    with pytest.raises(ValueError, match="outside the data.*2023-10 to 2026-09"):
        ops.monthly_report(demo, "2030-01")


def test_report_frames_are_the_report_functions_for_the_month(demo, report):
    month = report.month
    assert month == pd.Period("2026-09", "M")
    overall = ops.kpis(demo, "M").set_index("period")
    tiles = report.kpi_tiles.set_index("measure")
    for measure in ops.TILE_MEASURES:
        assert tiles.loc[measure, "value"] == pytest.approx(overall.loc[month, measure], nan_ok=True)
        assert tiles.loc[measure, "previous"] == pytest.approx(overall.loc[month - 1, measure], nan_ok=True)
    gmv = tiles.loc["gmv"]
    assert gmv["change"] == pytest.approx(gmv["value"] - gmv["previous"])
    assert gmv["change_rate"] == pytest.approx(gmv["value"] / gmv["previous"] - 1)
    movement = ops.monthly_stock_movement(demo, str(month))
    pd.testing.assert_frame_equal(report.stock_movement, movement)
    assert (report.stock_movement["month"] == month).all() and len(movement) == demo.items["sku"].nunique()
    # the category summary adds up to the per-SKU report
    assert report.stock_movement_summary["closing_value"].sum() == pytest.approx(movement["closing_value"].sum())
    assert report.kpis_by_category["gmv"].sum() == pytest.approx(tiles.loc["gmv", "value"])
    assert report.kpis_by_channel["gmv"].sum() == pytest.approx(tiles.loc["gmv", "value"])
    assert report.reconciliation.empty  # the demo's books agree
    assert (report.stocktake["date"].dt.to_period("M") == month).all() and len(report.stocktake) > 0
    assert report.stocktake_summary["lines"].sum() == len(report.stocktake)
    assert report.stocktake_summary["shrinkage_value"].sum() == pytest.approx(report.stocktake["shrinkage_value"].sum())
    assert (report.supplier_scorecard["period"] == month).all() and len(report.supplier_scorecard) > 0
    assert report.stock_exceptions.attrs["as_of"] == pd.Timestamp("2026-09-30")


def test_repurchase_rate_in_the_report_is_as_known_at_the_month_end(demo, report):
    window = ops.REPURCHASE_WINDOW_DAYS
    tile = report.kpi_tiles.set_index("measure").loc["repurchase_rate"]
    now = ops.repurchase_rate(demo, window, as_of="2026-09-30").iloc[0]
    before = ops.repurchase_rate(demo, window, as_of="2026-08-31").iloc[0]
    assert tile["value"] == pytest.approx(now["repeat_customers"] / now["customers"])
    assert tile["previous"] == pytest.approx(before["repurchase_rate"])
    assert tile["kind"] == "percent" and 0 < tile["value"] < 1
    cohorts = report.repurchase
    # the cohorts partition the customers known at the month end, and stop at the month
    assert cohorts["customers"].sum() == now["customers"]
    assert cohorts["repeat_customers"].sum() == now["repeat_customers"]
    assert cohorts["censored_customers"].sum() == now["censored_customers"]
    assert cohorts["returned_only_customers"].sum() == now["returned_only_customers"]
    assert cohorts["cohort"].max() == report.month
    # every customer ordering by the month end is counted once: eligible, censored or returned only
    lines = demo.order_lines[demo.order_lines["order_ts"] < "2026-10-01"]
    assert now["customers"] + now["censored_customers"] + now["returned_only_customers"] == lines["customer_id"].nunique()
    # the cohorts of the last two months are still inside their 90-day window: censored, no rate
    assert cohorts["customers"].iloc[-2:].tolist() == [0, 0] and cohorts["repurchase_rate"].iloc[-2:].isna().all()


def test_previous_month_is_missing_in_the_first_month(demo):
    first = ops.available_months(demo)[0]
    tiles = ops.kpi_tiles(ops.kpis(demo, "M"), first)
    assert tiles["previous"].isna().all() and tiles["change"].isna().all()


def test_excel_has_one_formatted_sheet_per_report(report, workbook):
    sheets = report.sheets()
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["Report", *sheets]
    back = pd.read_excel(workbook, sheet_name=None)
    for title, frame in sheets.items():
        got = back[title]
        assert list(got.columns) == list(frame.columns), title
        assert len(got) == len(frame), title
        for col in frame.columns:
            if pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
                want = frame[col].to_numpy(dtype=float)
                have = pd.to_numeric(got[col], errors="coerce").to_numpy(dtype=float)
                finite = np.isfinite(want)
                np.testing.assert_allclose(have[finite], want[finite], rtol=1e-12, err_msg=f"{title}.{col}")
                assert (got[col][~finite & ~np.isnan(want)] == "no sales").all()
            elif col in ("sku", "month", "period", "category", "exception", "supplier"):
                assert got[col].fillna("").astype(str).tolist() == frame[col].fillna("").astype(str).tolist()
    movement = book["Stock movement"]
    assert movement.freeze_panes == "A2"
    assert movement["A1"].font.bold
    header = [c.value for c in movement[1]]
    assert movement.cell(row=2, column=header.index("closing_value") + 1).number_format == "#,##0.00"
    assert movement.cell(row=2, column=header.index("closing_units") + 1).number_format == "#,##0"
    assert movement.column_dimensions["A"].width >= 8
    kpi = book["KPIs"]
    kpi_header = [c.value for c in kpi[1]]
    rows = {kpi.cell(row=r, column=1).value: r for r in range(2, kpi.max_row + 1)}
    assert kpi.cell(row=rows["margin_rate"], column=kpi_header.index("value") + 1).number_format == "0.0%"
    assert kpi.cell(row=rows["gmv"], column=kpi_header.index("value") + 1).number_format == "#,##0.00"
    # dead and slow stock are shaded red, excess amber
    exc = book["Stock exceptions"]
    exc_header = [c.value for c in exc[1]]
    kinds = report.stock_exceptions["exception"].tolist()
    for i, kind in enumerate(kinds):
        colour = exc.cell(row=i + 2, column=1).fill.fgColor.rgb
        assert colour.endswith("FCE4E4" if kind in ("dead", "slow") else "FFF2CC"), (i, kind, colour)
    assert "exception" in exc_header


def test_excel_highlights_reconciliation_exceptions(demo, tmp_path):
    moves = demo.stock_movements.copy()
    last = moves["date"].dt.to_period("M") == pd.Period("2026-09", "M")
    row = moves.index[((moves["kind"] == "receipt") & last).to_numpy()][3]
    moves.loc[row, "qty"] = moves.loc[row, "qty"] + 5
    tables = demo.tables()
    tables["stock_movements"] = moves
    tampered = Workspace(**tables, name="tampered")
    report = ops.monthly_report(tampered, "2026-09")
    assert len(report.reconciliation) == 1
    assert report.reconciliation["difference_units"].iloc[0] == -5
    path = ops.write_excel(report, tmp_path / "tampered.xlsx")
    book = openpyxl.load_workbook(path)
    assert book["Reconciliation"]["A2"].fill.fgColor.rgb.endswith("FCE4E4")
    sheet = book["Stock movement"]
    skus = [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)]
    hit = skus.index(moves.loc[row, "sku"]) + 2
    assert sheet.cell(row=hit, column=1).fill.fgColor.rgb.endswith("FCE4E4")
    assert not sheet.cell(row=2 if hit != 2 else 3, column=1).fill.fgColor.rgb.endswith("FCE4E4")
    page = ops.write_html(report, tmp_path / "tampered.html").read_text(encoding="utf-8")
    assert "background:#FCE4E4" in page


def test_html_is_self_contained_and_holds_the_figures(report, tmp_path):
    path = ops.write_html(report, tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert "<script" not in page and "src=" not in page and "<link" not in page
    assert "Operations report 2026-09" in page
    tiles = report.kpi_tiles.set_index("measure")
    assert f"{tiles.loc['gmv', 'value']:,.2f}" in page
    assert f"{tiles.loc['margin_rate', 'value']:.1%}" in page
    assert f"{int(tiles.loc['orders', 'value']):,}" in page
    for section in ops.MonthlyReport.SECTIONS.values():
        if section != "KPIs":
            assert f"<h2>{section} " in page
    first = report.stock_movement.iloc[0]
    assert first["sku"] in page and f"{first['closing_value']:,.2f}" in page


def test_column_kinds_and_formats():
    assert ops.column_kind("closing_value") == "money" and ops.column_kind("gmv") == "money"
    assert ops.column_kind("return_rate") == "percent" and ops.column_kind("variance_share") == "percent"
    assert ops.column_kind("shipment_units") == "units" and ops.column_kind("orders") == "count"
    assert ops.column_kind("lead_time_p90_days") == "days" and ops.column_kind("sku") is None
    assert ops.format_value(1234.5, "money") == "1,234.50"
    assert ops.format_value(0.1234, "percent") == "12.3%"
    assert ops.format_value(np.nan, "money") == "" and ops.format_value(np.inf, "ratio") == "no sales"


def test_memo_is_shared_and_follows_replaced_tables(demo):
    first = ops.kpis(demo, "M")
    again = ops.kpis(demo, "M", by="category")
    pd.testing.assert_frame_equal(first, ops.kpis(demo, "M"))
    assert again["gmv"].sum() == pytest.approx(first["gmv"].sum())
    # a replaced table (a new frame) is seen at once
    lines = demo.order_lines.copy()
    lines["paid_amount"] = lines["paid_amount"] * 2
    doubled = Workspace(**{**demo.tables(), "order_lines": lines}, name="doubled")
    assert ops.kpis(doubled, "M")["gmv"].sum() == pytest.approx(2 * first["gmv"].sum())
    # callers may add columns to what they get without touching the memo
    out = ops.monthly_stock_movement(demo)
    out["extra"] = 1
    assert "extra" not in ops.monthly_stock_movement(demo).columns
