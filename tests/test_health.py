"""Data health numbers on hand-made shops (see conftest.py for the hand sums)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from opslib.data import Workspace
from opslib.data import health


def test_table_overview(small_ws):
    out = health.table_overview(small_ws).set_index("table")
    assert list(out.index) == ["items", "order_lines", "stock"]
    assert out.loc["items", "rows"] == 4
    assert out.loc["items", "columns"] == 5
    assert pd.isna(out.loc["items", "first_date"])
    assert out.loc["items", "skus"] == 4
    assert out.loc["order_lines", "rows"] == 7
    assert out.loc["order_lines", "first_date"] == pd.Timestamp("2024-01-01")
    assert out.loc["order_lines", "last_date"] == pd.Timestamp("2024-01-15")
    assert out.loc["order_lines", "skus"] == 3
    assert out.loc["stock", "last_date"] == pd.Timestamp("2024-01-04")


def test_table_overview_promotions_span_start_to_end():
    promos = pd.DataFrame(
        {
            "promo_id": ["p1", "p2"],
            "mechanic": ["percent_off", "coupon"],
            "start": pd.to_datetime(["2024-03-01", "2024-02-10"]),
            "end": pd.to_datetime(["2024-03-05", "2024-02-12"]),
            "scope": ["all", "all"],
        }
    )
    out = health.table_overview(Workspace(promotions=promos))
    row = out.iloc[0]
    assert row["first_date"] == pd.Timestamp("2024-02-10")
    assert row["last_date"] == pd.Timestamp("2024-03-05")
    assert pd.isna(row["skus"])


def test_categories(small_ws):
    assert health.categories(small_ws) == ["audio", "kitchen"]
    assert health.categories(Workspace()) == []


def test_sales_over_time_weekly(small_ws):
    out = health.sales_over_time(small_ws)
    assert list(out["date"]) == list(pd.to_datetime(["2024-01-07", "2024-01-14", "2024-01-21"]))
    assert list(out["units"]) == [6, 6, 3]
    assert list(out["gmv"]) == [350, 190, 290]


def test_sales_over_time_by_category(small_ws):
    audio = health.sales_over_time(small_ws, category="audio")
    assert list(audio["units"]) == [5, 1, 3]
    assert list(audio["gmv"]) == [330, 100, 290]
    kitchen = health.sales_over_time(small_ws, category="kitchen")
    assert list(kitchen["units"]) == [1, 5]
    assert list(kitchen["gmv"]) == [20, 90]


def test_sales_over_time_daily_fills_gaps_with_zero(small_ws):
    out = health.sales_over_time(small_ws, freq="D")
    assert len(out) == 15  # Jan 1 to Jan 15
    assert out["units"].sum() == 15
    assert out.loc[out["date"] == "2024-01-02", "units"].item() == 0
    assert out.loc[out["date"] == "2024-01-15", "gmv"].item() == 290


def test_unknown_category_names_the_categories(small_ws):
    with pytest.raises(ValueError, match="'audio', 'kitchen'"):
        health.sales_over_time(small_ws, category="garden")


def test_top_skus_by_gmv(small_ws):
    out = health.top_skus(small_ws)
    assert list(out["sku"]) == ["A1", "A2", "K1"]
    assert list(out["rank"]) == [1, 2, 3]
    assert list(out["units"]) == [6, 3, 6]
    assert list(out["gmv"]) == [570, 150, 110]
    assert out["share"].tolist() == pytest.approx([570 / 830, 150 / 830, 110 / 830])
    assert list(out["name"]) == ["Earbuds", "Cable", "Mug"]


def test_top_skus_by_units_breaks_ties_by_gmv(small_ws):
    out = health.top_skus(small_ws, n=2, by="units")
    assert list(out["sku"]) == ["A1", "K1"]
    assert out["share"].tolist() == pytest.approx([6 / 15, 6 / 15])


def test_top_skus_in_category(small_ws):
    out = health.top_skus(small_ws, category="kitchen")
    assert list(out["sku"]) == ["K1"]
    assert out["share"].item() == 1.0


def test_top_skus_rejects_unknown_measure(small_ws):
    with pytest.raises(ValueError, match="by must be"):
        health.top_skus(small_ws, by="profit")


def test_stockout_days_from_stock_snapshots(small_ws):
    out = health.stockout_days(small_ws)
    assert out.attrs["source"] == "stock"
    assert list(out["sku"]) == ["A1", "K1", "A2"]
    assert list(out["days_tracked"]) == [4, 2, 3]
    assert list(out["days_out_of_stock"]) == [2, 1, 1]
    assert out["share_out_of_stock"].tolist() == pytest.approx([0.5, 0.5, 1 / 3])


def test_stockout_days_by_category(small_ws):
    out = health.stockout_days(small_ws, category="kitchen")
    assert list(out["sku"]) == ["K1"]


def test_health_summary(small_ws):
    s = health.health_summary(small_ws)
    assert (s.units, s.gmv, s.skus, s.skus_sold) == (15, 830, 4, 3)
    assert s.stockout_share == pytest.approx(4 / 9)
    assert s.first_date == pd.Timestamp("2024-01-01")
    assert s.last_date == pd.Timestamp("2024-01-15")
    assert s.source == "order_lines"
    audio = health.health_summary(small_ws, category="audio")
    assert (audio.units, audio.gmv, audio.skus, audio.skus_sold) == (9, 720, 2, 2)
    assert audio.stockout_share == pytest.approx(3 / 7)
    kitchen = health.health_summary(small_ws, category="kitchen")
    assert (kitchen.units, kitchen.gmv, kitchen.skus, kitchen.skus_sold) == (6, 110, 2, 1)
    assert kitchen.stockout_share == pytest.approx(1 / 2)


@pytest.fixture
def demand_ws() -> Workspace:
    """No order lines: sales and stock-outs come from the demand table.

    A1 sells 2 at 90 (in stock), 0 (out of stock), 1 with no price and no
    stock information (list price 100); K1 sells 4 at 20 (in stock).
    Units 7, money 180 + 0 + 100 + 80 = 360; tracked days A1 2 (1 out), K1 1.
    """
    items = pd.DataFrame({"sku": ["A1", "K1"], "unit_cost": [60.0, 8.0], "price": [100.0, 20.0]})
    demand = pd.DataFrame(
        {
            "sku": ["A1", "A1", "A1", "K1"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"]),
            "units": [2.0, 0.0, 1.0, 4.0],
            "in_stock": pd.array([True, False, pd.NA, True], dtype="boolean"),
            "price": [90.0, float("nan"), float("nan"), 20.0],
        }
    )
    return Workspace(items=items, demand=demand)


def test_sales_from_demand_when_no_order_lines(demand_ws):
    out = health.sales_over_time(demand_ws, freq="D")
    assert list(out["units"]) == [6, 0, 1]
    assert list(out["gmv"]) == [260, 0, 100]
    s = health.health_summary(demand_ws)
    assert (s.units, s.gmv, s.source) == (7, 360, "demand")
    assert s.stockout_share == pytest.approx(1 / 3)


def test_stockout_days_from_demand_in_stock(demand_ws):
    out = health.stockout_days(demand_ws)
    assert out.attrs["source"] == "demand"
    assert out.set_index("sku")["days_tracked"].to_dict() == {"A1": 2, "K1": 1}
    assert out.set_index("sku")["days_out_of_stock"].to_dict() == {"A1": 1, "K1": 0}


def test_empty_workspace_gives_empty_results():
    ws = Workspace()
    assert health.table_overview(ws).empty
    assert health.sales_over_time(ws).empty
    assert health.top_skus(ws).empty
    out = health.stockout_days(ws)
    assert out.empty and out.attrs["source"] == "none"
    s = health.health_summary(ws)
    assert (s.units, s.gmv, s.skus, s.source) == (0, 0, 0, "none")
    assert math.isnan(s.stockout_share)


def test_replacing_a_table_is_seen(small_ws):
    assert health.health_summary(small_ws).units == 15
    small_ws.order_lines = small_ws.order_lines.iloc[:1].copy()
    assert health.health_summary(small_ws).units == 2


def test_discontinued_sku_is_not_out_of_stock_after_its_last_day_in_stock(small_ws):
    # A2 (stock 4, 4, 0 on Jan 1-3) is discontinued: Jan 3 is after its last day in stock,
    # so it is delisted then, not out of stock. A1 has the same pattern but stays active.
    small_ws.items = small_ws.items.assign(status=["active", "discontinued", "active", "active"])
    out = health.stockout_days(small_ws).set_index("sku")
    assert out.loc["A2", "days_tracked"] == 2
    assert out.loc["A2", "days_out_of_stock"] == 0
    assert out.loc["A1", "days_tracked"] == 4
    assert out.loc["A1", "days_out_of_stock"] == 2
    # the pooled share: (2 + 0 + 1) out of (4 + 2 + 2) days
    assert health.health_summary(small_ws).stockout_share == pytest.approx(3 / 8)
