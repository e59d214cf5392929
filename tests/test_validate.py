"""Validation rules of the canonical tables, one test per rule, and coercion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import small_tables
from opslib import DataError
from opslib.data import Finding, ValidationReport, Workspace, coerce, load_workspace, validate

BROKEN = Path(__file__).parent / "fixtures" / "broken"


def tables(**changes) -> dict[str, pd.DataFrame]:
    """The small shop with some tables replaced (None drops a table)."""
    out = small_tables()
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


def refuse(match: str, **changes) -> DataError:
    with pytest.raises(DataError, match=match) as info:
        validate(tables(**changes)).raise_for_errors()
    return info.value


def rules(report: ValidationReport, severity: str | None = None) -> set[tuple]:
    return {(f.table, f.column, f.rule) for f in report.findings if severity in (None, f.severity)}


def test_small_shop_is_clean():
    report = validate(Workspace(**small_tables()))
    assert report.ok
    assert report.errors == [] and report.warnings == []
    assert rules(report, "info") == {("items", "sku", "never_sold")}
    assert report.rows == {"items": 4, "order_lines": 7, "stock": 11}


def test_required_columns_lists_needed_seen_and_close_match():
    items = small_tables()["items"].rename(columns={"sku": "SKU", "price": "Price"})
    err = refuse(r"table 'items', column 'sku, price', rule 'required_columns'", items=items)
    text = str(err)
    assert "needs the columns sku, unit_cost, price" in text
    assert "seen: SKU, unit_cost, Price" in text
    assert "'SKU' -> 'sku'" in text and "'Price' -> 'price'" in text
    assert err.findings[0].rule == "required_columns"


def test_dtype_numbers_that_do_not_parse_are_reported_not_nan():
    items = small_tables()["items"].astype({"unit_cost": object})
    items.loc[1, "unit_cost"] = "12 CNY"
    err = refuse(r"table 'items', column 'unit_cost', rule 'dtype'.*row 1 \(sku='A2', unit_cost='12 CNY'\)", items=items)
    assert "missing" not in {f.rule for f in err.findings}


def test_dtype_dates_that_do_not_parse():
    stock = small_tables()["stock"].astype({"date": object})
    stock.loc[2, "date"] = "2024-13-45"
    refuse(r"table 'stock', column 'date', rule 'dtype'.*'2024-13-45'", stock=stock)


def test_missing_value_in_non_nullable_column():
    lines = small_tables()["order_lines"]
    lines.loc[3, "paid_amount"] = np.nan
    refuse(r"table 'order_lines', column 'paid_amount', rule 'missing'.*row 3", order_lines=lines)


def test_missing_value_in_nullable_column_is_fine():
    items = small_tables()["items"]
    items.loc[0, "category"] = None
    assert validate(tables(items=items)).ok


@pytest.mark.parametrize(
    "table, column",
    [("items", "price"), ("items", "unit_cost"), ("order_lines", "qty"), ("stock", "on_hand")],
)
def test_nonnegative(table, column):
    frame = small_tables()[table]
    frame.loc[1, column] = -1
    refuse(rf"table '{table}', column '{column}', rule 'nonnegative'.*row 1", **{table: frame})


def test_negative_allowed_for_movements_and_demand():
    movements = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-02"]), "sku": ["A1"], "kind": ["shipment"], "qty": [-2.0]}
    )
    demand = pd.DataFrame({"sku": ["A1"], "date": pd.to_datetime(["2024-01-02"]), "units": [-1.0]})
    assert validate(tables(stock_movements=movements, demand=demand)).ok


def test_unique_key():
    lines = small_tables()["order_lines"]
    lines.loc[3, ["order_id", "sku"]] = ["o1", "A1"]
    err = refuse(r"table 'order_lines', column 'order_id, sku', rule 'unique_key'", order_lines=lines)
    assert err.findings[0].n_rows == 2


def test_traffic_key_is_date_then_date_and_sku():
    days = pd.to_datetime(["2024-01-01", "2024-01-01"])
    per_sku = pd.DataFrame({"date": days, "sessions": [10, 20], "sku": ["A1", "A2"]})
    assert validate(tables(traffic=per_sku)).ok
    shop = pd.DataFrame({"date": days, "sessions": [10, 20]})
    refuse(r"table 'traffic', column 'date', rule 'unique_key'", traffic=shop)


def test_calendar_dates_unique():
    calendar = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-01"]), "event": ["NY", None]})
    refuse(r"table 'calendar', column 'date', rule 'unique_key'", calendar=calendar)


def test_unknown_sku_in_any_table():
    stock = small_tables()["stock"]
    stock.loc[0, "sku"] = "X9"
    refuse(r"table 'stock', column 'sku', rule 'unknown_sku'.*'X9'", stock=stock)


def promotions(**values) -> pd.DataFrame:
    row = {
        "promo_id": "p1",
        "mechanic": "percent_off",
        "start": pd.Timestamp("2024-01-01"),
        "end": pd.Timestamp("2024-01-07"),
        "scope": "all",
        "depth": 0.2,
    }
    row.update(values)
    return pd.DataFrame([row])


def test_good_promotion_scopes():
    frame = pd.concat(
        [promotions(), promotions(promo_id="p2", scope="category:audio"), promotions(promo_id="p3", scope="sku:A1|K1")],
        ignore_index=True,
    )
    assert validate(tables(promotions=frame)).ok


@pytest.mark.parametrize(
    "values, column, rule",
    [
        ({"start": pd.Timestamp("2024-02-01")}, "start, end", "start_after_end"),
        ({"mechanic": "percent-off"}, "mechanic", "mechanic"),
        ({"scope": "categories=audio"}, "scope", "scope_syntax"),
        ({"scope": "category:garden"}, "scope", "scope_unknown_category"),
        ({"scope": "sku:A1|NOPE"}, "scope", "scope_unknown_sku"),
        ({"depth": 20.0}, "depth", "depth_range"),
        ({"depth": -0.1}, "depth", "nonnegative"),
    ],
)
def test_promotion_rules(values, column, rule):
    refuse(rf"table 'promotions', column '{column}', rule '{rule}'", promotions=promotions(**values))


def test_mechanic_suggests_close_match():
    err = refuse("rule 'mechanic'", promotions=promotions(mechanic="percent-off"))
    assert "'percent-off' -> 'percent_off'" in str(err)


def purchase_orders(**values) -> pd.DataFrame:
    row = {
        "po_id": "po1",
        "sku": "A1",
        "supplier": "Acme",
        "order_date": pd.Timestamp("2024-01-01"),
        "qty_ordered": 100.0,
        "receipt_date": pd.Timestamp("2024-01-08"),
        "qty_received": 100.0,
        "qty_rejected": 0.0,
    }
    row.update(values)
    return pd.DataFrame([row])


def test_purchase_order_rules():
    assert validate(tables(purchase_orders=purchase_orders())).ok
    open_order = purchase_orders(receipt_date=pd.NaT, qty_received=np.nan, qty_rejected=np.nan)
    assert validate(tables(purchase_orders=open_order)).ok
    refuse(
        r"table 'purchase_orders', column 'receipt_date', rule 'receipt_before_order'",
        purchase_orders=purchase_orders(receipt_date=pd.Timestamp("2023-12-01")),
    )
    refuse(
        r"table 'purchase_orders', column 'receipt_date', rule 'receipt_without_date'",
        purchase_orders=purchase_orders(receipt_date=pd.NaT),
    )


def test_over_delivery_is_a_warning():
    report = validate(tables(purchase_orders=purchase_orders(qty_received=140.0, qty_rejected=20.0)))
    assert report.ok
    assert ("purchase_orders", "qty_received", "over_delivery") in rules(report, "warning")


def returns(**values) -> pd.DataFrame:
    row = {"order_id": "o1", "sku": "A1", "qty": 1, "return_date": pd.Timestamp("2024-01-05")}
    row.update(values)
    return pd.DataFrame([row])


@pytest.mark.parametrize(
    "values, column, rule",
    [
        ({"order_id": "o99"}, "order_id, sku", "return_without_order_line"),
        ({"sku": "A2"}, "order_id, sku", "return_without_order_line"),
        ({"qty": 3}, "qty", "return_exceeds_bought"),
        ({"return_date": pd.Timestamp("2023-12-31")}, "return_date", "return_before_order"),
    ],
)
def test_return_rules(values, column, rule):
    assert validate(tables(returns=returns())).ok
    refuse(rf"table 'returns', column '{column}', rule '{rule}'", returns=returns(**values))


def test_returns_summed_per_order_line():
    two = pd.concat([returns(), returns(qty=2)], ignore_index=True)  # o1 bought 2 A1
    refuse(r"rule 'return_exceeds_bought'", returns=two)


def test_paid_above_list_is_a_warning():
    lines = small_tables()["order_lines"].assign(list_price=100.0)
    lines.loc[0, "paid_amount"] = 250.0  # 2 x 100 = 200
    report = validate(tables(order_lines=lines))
    assert report.ok
    [finding] = report.warnings
    assert (finding.table, finding.column, finding.rule, finding.n_rows) == (
        "order_lines", "paid_amount", "paid_above_list", 1,
    )


def test_movement_kind():
    movements = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-02"] * 2), "sku": ["A1"] * 2, "kind": ["receipt", "receipts"], "qty": [5.0, 5.0]}
    )
    err = refuse(r"table 'stock_movements', column 'kind', rule 'movement_kind'.*row 1", stock_movements=movements)
    assert "'receipts' -> 'receipt'" in str(err)


def test_items_cost_above_price_warning_and_never_sold_info():
    items = small_tables()["items"]
    items.loc[0, "unit_cost"] = 150.0
    report = validate(tables(items=items))
    assert report.ok
    assert ("items", "unit_cost, price", "cost_above_price") in rules(report, "warning")
    never = [f for f in report.findings if f.rule == "never_sold"]
    assert never[0].severity == "info" and never[0].examples[0]["sku"] == "K2"


def test_no_items_table_is_an_info():
    report = validate(tables(items=None))
    assert report.ok
    assert any(f.rule == "unknown_sku" and f.severity == "info" for f in report.findings)


def test_finding_message_and_report_frame():
    lines = small_tables()["order_lines"]
    lines["qty"] = -lines["qty"]
    report = validate(tables(order_lines=lines))
    [finding] = report.errors
    assert isinstance(finding, Finding) and finding.n_rows == 7 and len(finding.examples) == 5
    text = finding.message()
    for part in ("table 'order_lines'", "column 'qty'", "rule 'nonnegative'", "7 rows", "first offending rows", "Fix:"):
        assert part in text
    frame = report.to_frame()
    assert list(frame.columns) == ["table", "column", "rule", "severity", "n_rows", "examples", "fix"]
    assert frame.loc[0, "n_rows"] == 7 and "row 0" in frame.loc[0, "examples"]
    assert "NOT ok" in str(report)
    with pytest.raises(DataError) as info:
        report.raise_for_errors()
    assert info.value.findings == [finding]
    assert isinstance(info.value, ValueError)


def test_coerce_to_canonical_dtypes():
    raw = pd.DataFrame(
        {
            "sku": [101, 102.0, "00103"],
            "unit_cost": ["1.5", "2", "3"],
            "price": [2, 3, 4],
            "case_pack": ["6", "12", None],
            "moq": ["1", "2", "3"],
            "extra": ["kept", "as", "is"],
        }
    )
    items = coerce("items", raw)
    assert items["sku"].tolist() == ["101", "102", "00103"]
    assert pd.api.types.is_string_dtype(items["sku"].dtype)
    assert items["unit_cost"].dtype == "float64" and items["price"].dtype == "float64"
    assert items["moq"].dtype == "int64" and items["case_pack"].dtype == "Int64"
    assert items["extra"].tolist() == ["kept", "as", "is"]

    calendar = coerce(
        "calendar",
        pd.DataFrame(
            {
                "date": ["2024-01-01", "2024-01-02 13:45", "20240103"],
                "is_holiday": ["yes", "No", "1"],
                "supplier_shutdown": ["true", "FALSE", None],
            }
        ),
    )
    assert calendar["date"].dtype == "datetime64[ns]"
    assert calendar["date"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]))
    assert calendar["is_holiday"].dtype == bool and calendar["is_holiday"].tolist() == [True, False, True]
    assert calendar["supplier_shutdown"].dtype == "boolean"
    assert calendar["supplier_shutdown"].isna().tolist() == [False, False, True]

    lines = coerce("order_lines", small_tables()["order_lines"].assign(order_ts=lambda d: d["order_ts"].dt.tz_localize("Asia/Shanghai")))
    assert lines["order_ts"].dtype == "datetime64[ns]" and lines["order_ts"].iloc[0] == pd.Timestamp("2024-01-01 10:00")


def test_coerce_refuses_instead_of_nan():
    with pytest.raises(DataError, match=r"table 'items', column 'case_pack', rule 'dtype'.*'2.5'"):
        coerce("items", pd.DataFrame({"sku": ["A"], "unit_cost": [1.0], "price": [2.0], "case_pack": ["2.5"]}))
    with pytest.raises(DataError, match=r"column 'is_holiday', rule 'dtype'.*'maybe'"):
        coerce("calendar", pd.DataFrame({"date": ["2024-01-01"], "is_holiday": ["maybe"]}))
    with pytest.raises(DataError, match="table_name must be one of.*Did you mean 'items'"):
        coerce("itemz", pd.DataFrame())


EXPECTED = {
    # (table, column, rule, severity, n_rows)
    ("items", "unit_cost", "dtype", "error", 1),
    ("items", "case_pack", "dtype", "error", 1),
    ("items", "price", "nonnegative", "error", 1),
    ("items", "sku", "unique_key", "error", 2),
    ("items", "unit_cost, price", "cost_above_price", "warning", 2),
    ("items", "sku", "never_sold", "info", 3),
    ("order_lines", "order_ts", "dtype", "error", 1),
    ("order_lines", "qty", "nonnegative", "error", 1),
    ("order_lines", "paid_amount", "nonnegative", "error", 1),
    ("order_lines", "order_id, sku", "unique_key", "error", 2),
    ("order_lines", "sku", "unknown_sku", "error", 1),
    ("order_lines", "paid_amount", "paid_above_list", "warning", 1),
    ("calendar", "is_holiday", "dtype", "error", 1),
    ("calendar", "date", "unique_key", "error", 2),
    ("purchase_orders", "receipt_date", "receipt_before_order", "error", 1),
    ("purchase_orders", "receipt_date", "receipt_without_date", "error", 1),
    ("purchase_orders", "qty_received", "over_delivery", "warning", 1),
    ("promotions", "start, end", "start_after_end", "error", 1),
    ("promotions", "mechanic", "mechanic", "error", 1),
    ("promotions", "scope", "scope_syntax", "error", 1),
    ("promotions", "scope", "scope_unknown_category", "error", 1),
    ("promotions", "scope", "scope_unknown_sku", "error", 1),
    ("promotions", "depth", "depth_range", "error", 1),
    ("returns", "order_id, sku", "return_without_order_line", "error", 2),
    ("returns", "qty", "return_exceeds_bought", "error", 1),
    ("returns", "return_date", "return_before_order", "error", 1),
    ("stock_movements", "kind", "movement_kind", "error", 2),
}


def test_broken_fixture_gives_expected_findings():
    ws = load_workspace(BROKEN, validate=False)
    report = ws.load_report
    found = {(f.table, f.column, f.rule, f.severity, f.n_rows) for f in report.findings}
    assert found == EXPECTED
    assert report.unknown_files == ["README.txt"]
    assert [f.severity for f in report.findings] == sorted(
        (f.severity for f in report.findings), key=["error", "warning", "info"].index
    )


def test_broken_fixture_is_refused_with_every_error():
    with pytest.raises(DataError) as info:
        load_workspace(BROKEN)
    n_errors = sum(1 for e in EXPECTED if e[3] == "error")
    assert len(info.value.findings) == n_errors
    message = str(info.value)
    assert f"breaks {n_errors} validation rules" in message
    assert "rule 'unknown_sku'" in message and "'ZZ9'" in message
    assert "rule 'over_delivery'" not in message  # warnings do not refuse data


def test_validate_runs_fast_on_500k_order_lines():
    rng = np.random.default_rng(7)
    n, n_sku = 500_000, 5_000
    skus = np.array([f"S{i:05d}" for i in range(n_sku)], dtype=object)
    items = pd.DataFrame({"sku": skus, "unit_cost": 1.0, "price": 2.0})
    lines = pd.DataFrame(
        {
            "order_id": np.arange(n).astype(str),
            "order_ts": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 3 * 365 * 86_400, n), unit="s"),
            "sku": rng.choice(skus, n),
            "qty": rng.integers(1, 4, n),
            "paid_amount": rng.uniform(1, 50, n),
        }
    )
    import time

    start = time.perf_counter()
    report = validate({"items": items, "order_lines": lines})
    assert report.ok
    assert time.perf_counter() - start < 5.0
