"""Stock movement report, reconciliation and stocktake variance on hand-made cases.

SKU A (unit cost 6), snapshots at month ends: Jan 31 10, Feb 29 10, Mar 31 7.
Movements: Jan 10 receipt +12, Jan 15 shipment -2 (so the stock before Jan 10
was 0), nothing in February, Mar 5 shipment -4, Mar 6 return +1.

  month  opening  receipt  shipment  return  closing
  Jan       0       12        -2        0      10
  Feb      10        0         0        0      10      (a month with no movement)
  Mar      10        0        -4        1       7
"""

from __future__ import annotations

import pandas as pd
import pytest

from opslib import DataError
from opslib.data import Workspace
from opslib.ops import monthly_stock_movement, reconcile, stock_movement_summary, stocktake_summary, stocktake_variance


def movement_shop() -> Workspace:
    items = pd.DataFrame({"sku": ["A", "B"], "unit_cost": [6.0, 2.0], "price": [10.0, 5.0], "category": ["x", "y"]})
    stock = pd.DataFrame(
        {
            "sku": ["A", "A", "A", "B", "B"],
            "date": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31", "2024-02-10", "2024-02-29"]),
            "on_hand": [10.0, 10.0, 7.0, 5.0, 5.0],
        }
    )
    moves = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-10", "2024-01-15", "2024-03-05", "2024-03-06"]),
            "sku": ["A", "A", "A", "A"],
            "kind": ["receipt", "shipment", "shipment", "return"],
            "qty": [12.0, -2.0, -4.0, 1.0],
        }
    )
    return Workspace(items=items, stock=stock, stock_movements=moves, name="movement shop")


def test_monthly_stock_movement_by_hand():
    out = monthly_stock_movement(movement_shop())
    a = out[out["sku"] == "A"].set_index(out.loc[out["sku"] == "A", "month"].astype(str))
    assert list(a.index) == ["2024-01", "2024-02", "2024-03"]
    assert a["opening_units"].tolist() == [0, 10, 10]
    assert a["receipt_units"].tolist() == [12, 0, 0]
    assert a["shipment_units"].tolist() == [-2, 0, -4]
    assert a["return_units"].tolist() == [0, 0, 1]
    assert a["adjustment_units"].tolist() == [0, 0, 0] and a["transfer_units"].tolist() == [0, 0, 0]
    assert a["closing_units"].tolist() == [10, 10, 7]
    assert a["difference_units"].tolist() == [0, 0, 0]
    assert a["closing_value"].tolist() == [60, 60, 42]
    assert a["shipment_value"].tolist() == [-12, 0, -24]
    assert (a["category"] == "x").all()
    # B: snapshots only, no movement at all
    b = out[out["sku"] == "B"]
    assert b["opening_units"].tolist() == [5] and b["closing_units"].tolist() == [5]
    assert len(reconcile(movement_shop())) == 0


def test_reconcile_finds_the_tampered_month():
    ws = movement_shop()
    ws.stock_movements.loc[2, "qty"] = -5.0  # March shipment booked one unit too many
    out = reconcile(ws)
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["sku"], str(row["month"])) == ("A", "2024-03")
    assert row["expected_closing_units"] == 6 and row["closing_units"] == 7
    assert row["difference_units"] == 1 and row["difference_value"] == 6


def test_months_filter_and_summary():
    ws = movement_shop()
    feb = monthly_stock_movement(ws, months="2024-02")
    assert sorted(feb["sku"]) == ["A", "B"]
    summary = stock_movement_summary(ws, by="category", months=["2024-02", "2024-03"])
    x_mar = summary[(summary["category"] == "x") & (summary["month"] == pd.Period("2024-03", "M"))].iloc[0]
    assert x_mar["closing_value"] == 42 and x_mar["skus"] == 1
    total = stock_movement_summary(ws)
    assert total.loc[total["month"] == pd.Period("2024-02", "M"), "closing_units"].item() == 15


def test_unknown_movement_kind_and_missing_table():
    ws = movement_shop()
    ws.stock_movements.loc[0, "kind"] = "gift"
    with pytest.raises(DataError, match="'stock_movements', column 'kind'"):
        monthly_stock_movement(ws)
    with pytest.raises(DataError, match="'stock_movements' table"):
        reconcile(Workspace(items=ws.items, stock=ws.stock))


# --------------------------------------------------------------------------- stocktake


def stocktake_shop() -> Workspace:
    """A counted 9 on Jan 31; the count was booked that day (-1), so the book before it was 10.
    B counted 5 on Feb 15; the last snapshot is Feb 10 (5), nothing booked."""
    ws = movement_shop()
    ws.stock_movements = pd.concat(
        [
            ws.stock_movements,
            pd.DataFrame({"date": pd.to_datetime(["2024-01-31"]), "sku": ["A"], "kind": ["adjustment"], "qty": [-1.0]}),
        ],
        ignore_index=True,
    )
    ws.stock.loc[0, "on_hand"] = 9.0
    ws.stock_counts = pd.DataFrame(
        {"sku": ["A", "B"], "date": pd.to_datetime(["2024-01-31", "2024-02-15"]), "counted_qty": [9.0, 5.0]}
    )
    return ws


def test_stocktake_variance_by_hand():
    out = stocktake_variance(stocktake_shop()).set_index("sku")
    assert out.loc["A", "book_units"] == 10 and out.loc["A", "variance_units"] == -1
    assert out.loc["A", "shrinkage_units"] == 1 and out.loc["A", "shrinkage_value"] == 6
    assert out.loc["A", "variance_share"] == pytest.approx(-0.1)
    assert bool(out.loc["A", "flagged"])
    assert out.loc["B", "book_date"] == pd.Timestamp("2024-02-10")
    assert out.loc["B", "variance_units"] == 0 and not bool(out.loc["B", "flagged"])
    # one unit is within a tolerance of one unit
    tolerant = stocktake_variance(stocktake_shop(), tolerance_units=1)
    assert not tolerant["flagged"].any()
    # ... but not within 5% of the book when the unit tolerance is zero
    assert stocktake_variance(stocktake_shop(), tolerance_share=0.05)["flagged"].sum() == 1


def test_stocktake_without_movements_uses_the_snapshot():
    ws = stocktake_shop()
    ws.stock_movements = None
    out = stocktake_variance(ws).set_index("sku")
    assert out.loc["A", "book_units"] == 9 and out.loc["A", "variance_units"] == 0


def test_stocktake_summary():
    by_date = stocktake_summary(stocktake_shop()).set_index("date")
    jan = by_date.loc[pd.Timestamp("2024-01-31")]
    assert (jan["lines"], jan["lines_with_variance"], jan["lines_flagged"]) == (1, 1, 1)
    assert jan["accuracy"] == 0 and jan["shrinkage_share"] == pytest.approx(0.1)
    by_cat = stocktake_summary(stocktake_shop(), by="category").set_index("category")
    assert by_cat.loc["y", "accuracy"] == 1 and by_cat.loc["x", "shrinkage_value"] == 6


def test_stocktake_count_without_snapshot_is_refused():
    ws = stocktake_shop()
    ws.stock_counts.loc[1, "date"] = pd.Timestamp("2024-02-01")  # before B's first snapshot
    with pytest.raises(DataError, match="no stock snapshot"):
        stocktake_variance(ws)
