"""Supplier scorecard and lead-time samples on a hand-made set of purchase orders.

S1: P1 ordered Jan 1, expected Jan 6, two lines received Jan 5 (one delivery, 4 days);
    P2 ordered Jan 10, expected Jan 15, received Jan 18 (8 days, late), 10 ordered,
    8 accepted, 2 rejected; P3 open.
S2: Q1 ordered Feb 1, expected Feb 3, received Feb 8; Feb 5-6 are shutdown days, so
    7 calendar days are 5 working days.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from opslib import DataError
from opslib.data import Workspace
from opslib.ops import lead_time_samples, supplier_scorecard


def po_shop() -> Workspace:
    po = pd.DataFrame(
        {
            "po_id": ["P1", "P1", "P2", "P3", "Q1"],
            "sku": ["a", "b", "a", "b", "c"],
            "supplier": ["S1", "S1", "S1", "S1", "S2"],
            "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-10", "2024-03-01", "2024-02-01"]),
            "qty_ordered": [5.0, 5.0, 10.0, 4.0, 20.0],
            "expected_date": pd.to_datetime(["2024-01-06", "2024-01-06", "2024-01-15", "2024-03-05", "2024-02-03"]),
            "receipt_date": pd.to_datetime(["2024-01-05", "2024-01-05", "2024-01-18", None, "2024-02-08"]),
            "qty_received": [5.0, 5.0, 8.0, np.nan, 20.0],
            "qty_rejected": [0.0, 0.0, 2.0, np.nan, 0.0],
        }
    )
    days = pd.date_range("2024-01-01", "2024-03-31")
    calendar = pd.DataFrame({"date": days, "supplier_shutdown": days.isin(pd.to_datetime(["2024-02-05", "2024-02-06"]))})
    return Workspace(purchase_orders=po, calendar=calendar, name="po shop")


def test_lead_time_samples_one_per_delivery():
    out = lead_time_samples(po_shop())
    assert out[["po_id", "lines", "lead_time_days"]].values.tolist() == [["P1", 2, 4.0], ["P2", 1, 8.0], ["Q1", 1, 7.0]]
    working = lead_time_samples(po_shop(), working_days=True)
    assert working["lead_time_days"].tolist() == [4.0, 8.0, 5.0]


def test_scorecard_by_hand():
    out = supplier_scorecard(po_shop()).set_index("supplier")
    s1 = out.loc["S1"]
    assert (s1["lines"], s1["open_lines"], s1["received_lines"], s1["deliveries"]) == (4, 1, 3, 2)
    assert s1["on_time_rate"] == pytest.approx(2 / 3)
    assert s1["lead_time_mean_days"] == 6 and s1["lead_time_std_days"] == pytest.approx(np.sqrt(8))
    assert s1["lead_time_p90_days"] == pytest.approx(7.6)  # 4 + 0.9 * (8 - 4)
    assert s1["fill_rate"] == pytest.approx(18 / 20)
    assert s1["rejected_rate"] == pytest.approx(2 / 20)
    s2 = out.loc["S2"]
    assert s2["on_time_rate"] == 0 and s2["lead_time_mean_days"] == 7
    assert math.isnan(s2["lead_time_std_days"])  # one delivery: no spread
    assert supplier_scorecard(po_shop(), working_days=True).set_index("supplier").loc["S2", "lead_time_mean_days"] == 5


def test_scorecard_trend_by_month():
    out = supplier_scorecard(po_shop(), freq="M")
    assert [(s, str(p)) for s, p in zip(out["supplier"], out["period"])] == [("S1", "2024-01"), ("S2", "2024-02")]
    assert out["open_lines"].tolist() == [0, 0]


def test_scorecard_needs_receipt_dates_and_calendar():
    ws = po_shop()
    ws.purchase_orders = ws.purchase_orders.drop(columns="receipt_date")
    with pytest.raises(DataError, match="receipt_date"):
        supplier_scorecard(ws)
    ws = po_shop()
    ws.calendar = None
    with pytest.raises(DataError, match="'calendar' table"):
        lead_time_samples(ws, working_days=True)
