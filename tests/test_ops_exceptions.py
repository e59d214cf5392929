"""Dead, slow and excess stock on a hand-made shop, as of 2024-04-30 (90-day windows).

  sku  on hand  sold in the window       weekly units  weeks of cover  class
  D        5    last sale 2024-01-01          0             inf        dead (120 days without a sale)
  S      100    7 on Apr 1                   0.544          183.7      slow  (> 26 weeks)
  E      100    90 on Apr 20                 7              14.3       excess (> 12 weeks; 16 units above 12 weeks)
  O       10    90 on Apr 20                 7               1.4       ok
  Z        0    -                             -              -         not in stock: not listed
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from opslib import DataError
from opslib.data import Workspace
from opslib.ops import stock_exceptions


def shop() -> Workspace:
    skus = ["D", "S", "E", "O", "Z"]
    items = pd.DataFrame({"sku": skus, "unit_cost": [10.0, 2.0, 3.0, 1.0, 1.0], "price": [20.0, 4.0, 6.0, 2.0, 2.0]})
    stock = pd.DataFrame({"sku": skus, "date": pd.Timestamp("2024-04-30"), "on_hand": [5.0, 100.0, 100.0, 10.0, 0.0]})
    lines = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "order_ts": pd.to_datetime(["2024-01-01 10:00", "2024-04-01 10:00", "2024-04-20 10:00", "2024-04-20 11:00"]),
            "sku": ["D", "S", "E", "O"],
            "qty": [1, 7, 90, 90],
            "paid_amount": [20.0, 28.0, 540.0, 180.0],
        }
    )
    return Workspace(items=items, stock=stock, order_lines=lines)


def test_stock_exceptions_by_hand():
    out = stock_exceptions(shop()).set_index("sku")
    assert list(out.index) == ["D", "S", "E"]
    assert out["exception"].tolist() == ["dead", "slow", "excess"]
    assert math.isinf(out.loc["D", "weeks_of_cover"]) and out.loc["D", "days_since_last_sale"] == 120
    assert out.loc["D", "stock_value"] == 50
    assert out.loc["S", "weeks_of_cover"] == pytest.approx(100 / (7 / 90 * 7))
    assert out.loc["E", "weeks_of_cover"] == pytest.approx(100 / 7)
    assert out.loc["E", "excess_units"] == pytest.approx(16) and out.loc["E", "excess_value"] == pytest.approx(48)
    assert out["action"].str.len().gt(0).all()
    everything = stock_exceptions(shop(), include_ok=True)
    assert everything["sku"].tolist() == ["D", "S", "E", "O"]


def test_stock_exceptions_thresholds_and_errors():
    # with a 200-day dead window D is not dead, but without sales in the window its cover is infinite: slow
    out = stock_exceptions(shop(), dead_days=200).set_index("sku")
    assert out.loc["D", "exception"] == "slow"
    with pytest.raises(ValueError, match="excess_weeks"):
        stock_exceptions(shop(), excess_weeks=30, slow_weeks=26)
    ws = shop()
    ws.order_lines = None
    with pytest.raises(DataError, match="'order_lines' table"):
        stock_exceptions(ws)
