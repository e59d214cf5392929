"""Tests of opslib.data.importers: M5 (real files), Shopify (hand-made export), statsforecast."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opslib import DataError
from opslib.data.demand import daily_demand
from opslib.data.importers import (
    DEFAULT_COST_RATIO,
    ImportReport,
    from_m5,
    from_shopify,
    from_statsforecast,
    to_statsforecast,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHOPIFY_EXPORT = FIXTURES / "shopify_orders_export.csv"
SHARED_DATA = Path(os.environ.get("OPSLIB_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
M5 = SHARED_DATA / "m5_tiny_real"


def _assert_valid(ws) -> None:
    """The importers' output passes opslib.data.validate."""
    from opslib.data.validate import validate

    report = validate(ws)
    assert report.ok, str(report)


# --------------------------------------------------------------------------- M5 (real data)

# CI sets OPSLIB_REQUIRE_SHARED_DATA=1: there a missing folder fails these tests instead of skipping them.
needs_m5 = pytest.mark.skipif(
    not M5.is_dir() and os.environ.get("OPSLIB_REQUIRE_SHARED_DATA") != "1",
    reason=f"real M5 excerpt not found at {M5}; set OPSLIB_SHARED_DATA to the shared data folder",
)


@pytest.fixture(scope="module")
def m5():
    return from_m5(M5)


@pytest.fixture(scope="module")
def m5_raw():
    sales = pd.read_csv(M5 / "sales_train_evaluation.csv")
    with open(M5 / "calendar.csv", newline="") as f:
        calendar = list(csv.DictReader(f))
    return sales, calendar


@needs_m5
@pytest.mark.realdata
def test_m5_shape_and_dates(m5):
    assert m5.order_lines is None
    assert m5.demand["sku"].nunique() == 70
    assert len(m5.items) == 70
    assert m5.demand["date"].nunique() == 140
    assert m5.demand["date"].min() == pd.Timestamp("2016-01-04")
    assert m5.demand["date"].max() == pd.Timestamp("2016-05-22")
    assert m5.items["sku"].str.fullmatch(r"[A-Z]+_\d_\d{3}_[A-Z]{2}_\d").all()
    assert "HOBBIES_1_001_CA_1" in set(m5.items["sku"])
    assert list(m5.demand.columns[:6]) == ["sku", "date", "units", "in_stock", "price", "promo_id"]
    assert m5.demand.equals(m5.demand.sort_values(["sku", "date"]).reset_index(drop=True))
    # Each SKU is one contiguous daily series ending on the last day.
    per_sku = m5.demand.groupby("sku")["date"].agg(["min", "max", "size"])
    assert (per_sku["max"] == pd.Timestamp("2016-05-22")).all()
    assert ((per_sku["max"] - per_sku["min"]).dt.days + 1 == per_sku["size"]).all()
    _assert_valid(m5)


@needs_m5
@pytest.mark.realdata
def test_m5_total_units_equal_the_wide_file(m5, m5_raw):
    sales, _ = m5_raw
    day_columns = [c for c in sales.columns if c.startswith("d_")]
    assert len(day_columns) == 140
    assert m5.demand["units"].sum() == sales[day_columns].sum().sum()  # 5,870 units
    per_sku = m5.demand.groupby("sku")["units"].sum()
    wide = sales.set_index(sales["item_id"] + "_" + sales["store_id"])[day_columns].sum(axis=1)
    pd.testing.assert_series_equal(per_sku, wide.sort_index(), check_names=False, check_index_type=False)
    # The excerpt leaves some days blank: the leading ones are not rows, the later ones are 0 units.
    report = m5.load_report
    assert isinstance(report, ImportReport)
    skipped = sum(report.skipped.values())
    assert skipped + m5.demand["units_imputed"].sum() == sales[day_columns].isna().sum().sum()
    assert len(m5.demand) == 70 * 140 - skipped


@needs_m5
@pytest.mark.realdata
def test_m5_sell_prices_joined_by_week(m5):
    d = m5.demand.set_index(["sku", "date"])["price"]
    # sell_prices.csv: CA_1, HOBBIES_1_001 costs 8.26 up to week 11610 and 8.38 from week 11611
    # (Saturday 2016-04-09 to Friday 2016-04-15).
    assert d[("HOBBIES_1_001_CA_1", pd.Timestamp("2016-04-08"))] == 8.26
    assert d[("HOBBIES_1_001_CA_1", pd.Timestamp("2016-04-09"))] == 8.38
    assert d[("HOBBIES_1_001_CA_1", pd.Timestamp("2016-04-15"))] == 8.38
    # CA_2, HOUSEHOLD_1_001: a markdown to 4.50 in week 11602 (2016-02-06..12), 5.97 around it.
    assert d[("HOUSEHOLD_1_001_CA_2", pd.Timestamp("2016-02-12"))] == 4.5
    assert d[("HOUSEHOLD_1_001_CA_2", pd.Timestamp("2016-02-13"))] == 5.97
    assert m5.demand["price"].notna().all()
    items = m5.items.set_index("sku")
    assert items.loc["HOBBIES_1_001_CA_1", "category"] == "HOBBIES"
    assert items.loc["HOBBIES_1_001_CA_1", "name"] == "HOBBIES_1_001"
    assert items.loc["HOBBIES_1_001_CA_1", "unit_cost"] == pytest.approx(
        DEFAULT_COST_RATIO * items.loc["HOBBIES_1_001_CA_1", "price"])
    assert items["unit_cost_is_assumed"].all()
    assert any("unit_cost" in a for a in m5.load_report.assumptions)


@needs_m5
@pytest.mark.realdata
@pytest.mark.parametrize("state", ["CA", "TX", "WI"])
def test_m5_snap_flags_follow_the_calendar_of_the_state(m5, m5_raw, state):
    _, calendar = m5_raw
    snap_days = {pd.Timestamp(row["date"]) for row in calendar if row[f"snap_{state}"] == "1"}
    rows = m5.demand[m5.demand["sku"].str.contains(f"_{state}_")]
    assert rows["sku"].nunique() == {"CA": 28, "TX": 21, "WI": 21}[state]
    assert (rows["snap"] == rows["date"].isin(snap_days)).all()
    cal = m5.calendar.set_index("date")[f"snap_{state}"]
    assert set(cal[cal].index) == {d for d in snap_days if d >= pd.Timestamp("2016-01-04")}


@needs_m5
@pytest.mark.realdata
def test_m5_calendar_events_and_holidays(m5):
    cal = m5.calendar.set_index("date")
    assert cal.index.min() == pd.Timestamp("2016-01-04")
    assert cal.index.max() == pd.Timestamp("2016-06-19")  # future events kept for forecasting
    assert cal.loc["2016-01-18", "event"] == "MartinLutherKingDay" and cal.loc["2016-01-18", "is_holiday"]
    assert cal.loc["2016-01-07", "is_holiday"]  # OrthodoxChristmas, Religious
    assert cal.loc["2016-02-07", "event"] == "SuperBowl" and not cal.loc["2016-02-07", "is_holiday"]  # Sporting
    assert cal.loc["2016-06-19", "event"] == "NBAFinalsEnd|Father's day"
    assert pd.isna(cal.loc["2016-01-05", "event"])


@needs_m5
@pytest.mark.realdata
def test_m5_stores_and_dates_filters():
    ws = from_m5(M5, stores=["TX_1", "WI_3"], start="2016-03-01", end="2016-03-31")
    assert set(ws.items["store_id"]) == {"TX_1", "WI_3"}
    assert ws.demand["date"].min() >= pd.Timestamp("2016-03-01")
    assert ws.demand["date"].max() == pd.Timestamp("2016-03-31")
    with pytest.raises(DataError, match="unknown store.*XX_9"):
        from_m5(M5, stores=["XX_9"])


def test_m5_refuses_a_folder_without_the_files(tmp_path):
    with pytest.raises(DataError, match="sales_train_evaluation.csv"):
        from_m5(tmp_path)


# --------------------------------------------------------------------------- Shopify


@pytest.fixture(scope="module")
def shopify():
    return from_shopify(SHOPIFY_EXPORT)


def _line(ws, order_id, sku):
    lines = ws.order_lines
    row = lines[(lines["order_id"] == order_id) & (lines["sku"] == sku)]
    assert len(row) == 1
    return row.iloc[0]


def test_shopify_counts_and_totals(shopify):
    # 15 orders, 27 lines; #1005 (2 lines) and #1015 (1 line) are cancelled;
    # #1007 has CUP-CERAMIC on two lines, summed into one.
    lines = shopify.order_lines
    assert len(lines) == 27 - 3 - 1
    assert lines["order_id"].nunique() == 13
    assert not lines["order_id"].isin(["#1005", "#1015"]).any()
    assert lines["qty"].sum() == 34
    # line values 1,986.00 minus discounts 26.80 + 5 + 13.60 + 7 + 10 = 62.40
    assert lines["paid_amount"].sum() == pytest.approx(1923.60)
    assert list(lines.columns[:5]) == ["order_id", "order_ts", "sku", "qty", "paid_amount"]
    report = shopify.load_report
    assert report.skipped["cancelled orders (Cancelled at filled)"] == 2
    assert report.skipped["lines of cancelled orders"] == 3
    assert report.counts["lines without Lineitem sku, keyed by Lineitem name"] == 2
    assert report.counts["duplicate (order_id, sku) lines summed into one"] == 1
    assert report.counts["refunded or partially refunded orders (kept)"] == 2
    assert report.counts["refunded amount (currency)"] == pytest.approx(103.0)
    assert report.counts["discount allocated (currency)"] == pytest.approx(62.40)
    assert report.currency == "CNY"
    _assert_valid(shopify)


def test_shopify_discount_allocated_by_largest_remainder(shopify):
    # #1003: WELCOME5 takes 5.00 off lines worth 68, 48 and 35 (151.00).
    # Exact shares in cents: 225.17, 158.94, 115.89 -> floors 225, 158, 115 (498);
    # the 2 cents left go to the largest remainders (.94, .89): 225, 159, 116.
    assert _line(shopify, "#1003", "TEA-OOLONG-100")["paid_amount"] == pytest.approx(65.75)
    assert _line(shopify, "#1003", "TEA-GREEN-100")["paid_amount"] == pytest.approx(46.41)
    assert _line(shopify, "#1003", "CUP-CERAMIC")["paid_amount"] == pytest.approx(33.84)
    # #1013: TENOFF 10.00 on 198, 52, 68 (318.00): 622.64, 163.52, 213.84 -> 623, 163, 214.
    assert _line(shopify, "#1013", "POT-CLAY")["paid_amount"] == pytest.approx(191.77)
    assert _line(shopify, "#1013", "TEA-GREEN-100")["paid_amount"] == pytest.approx(50.37)
    assert _line(shopify, "#1013", "TEA-OOLONG-100")["paid_amount"] == pytest.approx(65.86)
    # #1002: SPRING10 26.80 on 198 and 2 x 35 splits exactly: 19.80 and 7.00.
    assert _line(shopify, "#1002", "POT-CLAY")["paid_amount"] == pytest.approx(178.20)
    assert _line(shopify, "#1002", "CUP-CERAMIC")["paid_amount"] == pytest.approx(63.00)
    # Allocations sum exactly to each order's discount.
    paid = shopify.order_lines.groupby("order_id")["paid_amount"].sum()
    assert paid["#1003"] == pytest.approx(151.00 - 5.00, abs=1e-9)
    assert paid["#1013"] == pytest.approx(318.00 - 10.00, abs=1e-9)


def test_shopify_order_fields_from_the_first_line(shopify):
    first = _line(shopify, "#1013", "POT-CLAY")
    continuation = _line(shopify, "#1013", "TEA-OOLONG-100")  # blank order fields in the export
    for column in ("order_ts", "customer_id", "channel", "promo_id"):
        assert first[column] == continuation[column]
    assert continuation["promo_id"] == "TENOFF"
    assert continuation["order_ts"] == pd.Timestamp("2024-03-07 09:30:00")
    assert _line(shopify, "#1003", "CUP-CERAMIC")["channel"] == "pos"
    assert pd.isna(_line(shopify, "#1001", "CUP-CERAMIC")["promo_id"])


def test_shopify_local_time_and_day_boundaries(shopify):
    # "+0800" is dropped, not converted to UTC: 23:59:59 stays on the 4th, 00:00:01 on the 5th.
    assert _line(shopify, "#1008", "TEA-OOLONG-100")["order_ts"] == pd.Timestamp("2024-03-04 23:59:59")
    assert _line(shopify, "#1009", "POT-CLAY")["order_ts"] == pd.Timestamp("2024-03-05 00:00:01")
    assert shopify.order_lines["order_ts"].dtype == "datetime64[ns]"


def test_shopify_lines_details(shopify):
    # Missing sku: keyed by the line name.
    assert _line(shopify, "#1004", "Gift Wrapping")["qty"] == 1
    # Duplicate lines of one SKU in #1007: 1 + 2 cups.
    cups = _line(shopify, "#1007", "CUP-CERAMIC")
    assert (cups["qty"], cups["paid_amount"]) == (3, pytest.approx(105.0))
    # Compare-at price above the price is the list price.
    assert _line(shopify, "#1003", "TEA-OOLONG-100")["list_price"] == 80.0
    assert _line(shopify, "#1003", "TEA-GREEN-100")["list_price"] == 48.0
    # Customer ids: hashed, case and spaces ignored, missing without email.
    assert _line(shopify, "#1001", "CUP-CERAMIC")["customer_id"] == _line(shopify, "#1004", "Gift Wrapping")[
        "customer_id"]
    assert "@" not in _line(shopify, "#1001", "CUP-CERAMIC")["customer_id"]
    assert pd.isna(_line(shopify, "#1010", "TEA-GREEN-100")["customer_id"])
    # Refunded orders are kept, with their status.
    assert _line(shopify, "#1006", "TEA-OOLONG-100")["financial_status"] == "refunded"


def test_shopify_items(shopify):
    items = shopify.items.set_index("sku")
    assert sorted(items.index) == ["CUP-CERAMIC", "Gift Wrapping", "POT-CLAY", "TEA-GREEN-100", "TEA-OOLONG-100"]
    assert items.loc["TEA-GREEN-100", "price"] == 52.0  # 48 until #1010, 52 from #1011 on
    assert items.loc["TEA-GREEN-100", "unit_cost"] == pytest.approx(0.7 * 52.0)
    assert items.loc["POT-CLAY", "name"] == "Clay Teapot"
    assert items.loc["POT-CLAY", "supplier"] == items.loc["POT-CLAY", "brand"] == "Yixing Studio"
    assert items["unit_cost_is_assumed"].all()


def test_shopify_feeds_daily_demand(shopify):
    demand = daily_demand(shopify)
    assert demand["units"].sum() == 34
    green = demand[demand["sku"] == "TEA-GREEN-100"].set_index("date")
    assert green.loc["2024-03-02", "units"] == 4  # #1003 (1) and #1004 (3)
    assert green.loc["2024-03-02", "price"] == pytest.approx((46.41 + 144.0) / 4)
    assert green.loc["2024-03-02", "promo_id"] == "WELCOME5"


def test_shopify_currency_filter_and_mixed_currencies():
    raw = pd.read_csv(SHOPIFY_EXPORT, dtype=str, keep_default_na=False)
    raw.loc[raw["Name"] == "#1012", "Currency"] = raw.loc[raw["Name"] == "#1012", "Currency"].replace("CNY", "USD")
    with pytest.raises(DataError, match="mix currencies"):
        from_shopify(raw)
    ws = from_shopify(raw, currency="CNY")
    assert "#1012" not in set(ws.order_lines["order_id"])
    assert ws.load_report.skipped["orders in a currency other than CNY"] == 1


def test_shopify_refuses_a_missing_column():
    raw = pd.read_csv(SHOPIFY_EXPORT, dtype=str, keep_default_na=False).drop(columns="Lineitem quantity")
    with pytest.raises(DataError, match="Lineitem quantity"):
        from_shopify(raw)


def test_shopify_refuses_unreadable_numbers():
    raw = pd.read_csv(SHOPIFY_EXPORT, dtype=str, keep_default_na=False)
    raw.loc[3, "Lineitem price"] = "abc"
    with pytest.raises(DataError, match=r"'Lineitem price'.*'abc'"):
        from_shopify(raw)


# --------------------------------------------------------------------------- statsforecast


def test_statsforecast_round_trip():
    demand = pd.DataFrame({
        "sku": ["B", "B", "A"],
        "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"]).astype("datetime64[ns]"),
        "units": [1.0, 0.0, 3.0],
        "in_stock": pd.array([True, pd.NA, False], dtype="boolean"),
        "price": [9.0, np.nan, 8.0],
        "promo_id": pd.array([pd.NA, "P1", pd.NA], dtype="string"),
    })
    plain = to_statsforecast(demand)
    assert list(plain.columns) == ["unique_id", "ds", "y"]
    assert plain["unique_id"].tolist() == ["A", "B", "B"]
    assert list(to_statsforecast(demand, exogenous=["price"]).columns) == ["unique_id", "ds", "y", "price"]
    back = from_statsforecast(to_statsforecast(demand, exogenous=True))
    expected = demand.sort_values(["sku", "date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected)
    # unique_id as the index, as older statsforecast versions return it.
    indexed = plain.set_index("unique_id")
    pd.testing.assert_frame_equal(from_statsforecast(indexed), expected[["sku", "date", "units"]])


def test_statsforecast_refuses_missing_columns():
    with pytest.raises(DataError, match="'y'"):
        from_statsforecast(pd.DataFrame({"unique_id": ["A"], "ds": [pd.Timestamp("2024-01-01")]}))


@settings(max_examples=25, deadline=None)
@given(
    orders=st.lists(
        st.tuples(
            st.lists(st.tuples(st.integers(1, 5), st.integers(1, 50_000)), min_size=1, max_size=6),
            st.floats(0, 1),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_shopify_allocations_sum_exactly_to_each_discount(orders):
    rows, expected = [], {}
    for k, (lines, share) in enumerate(orders):
        value = sum(q * c for q, c in lines)
        discount = int(share * value)  # cents, at most the order's value
        name = f"#{k}"
        expected[name] = value - discount
        for i, (q, cents) in enumerate(lines):
            rows.append({
                "Name": name, "Created at": "2024-03-01 10:00:00 +0800" if i == 0 else "",
                "Discount Amount": f"{discount / 100:.2f}" if i == 0 else "", "Lineitem quantity": str(q),
                "Lineitem name": f"item {i}", "Lineitem price": f"{cents / 100:.2f}", "Lineitem sku": f"S{i}",
            })
    ws = from_shopify(pd.DataFrame(rows))
    paid_cents = (ws.order_lines.groupby("order_id")["paid_amount"].sum() * 100).round().astype(int)
    assert paid_cents.to_dict() == expected
    assert (ws.order_lines["paid_amount"] >= 0).all()
