"""Today's order list on a hand-made shop, every number computed by hand in the comments."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import opslib.inventory as inv
from opslib.errors import DataError

T = pd.Timestamp("2026-01-10")


@pytest.fixture(scope="module")
def shop():
    pol = pd.DataFrame({
        "sku": ["A", "B", "C", "D", "E"],
        "policy": ["(R,S)", "(R,S)", "(R,S)", "(R,S)", "(r,Q)"],
        "order_up_to": [100.0, 40.0, 20.0, 2.0, 35.0],
        "reorder_point": [np.nan, np.nan, np.nan, np.nan, 10.0],
        "order_quantity": [np.nan, np.nan, np.nan, np.nan, 25.0],
        "demand_mean_per_day": [5.0, 2.0, 1.0, 0.01, 1.0],
        "lead_time_mean_days": [4.0, 4.0, 4.0, 4.0, 2.0],
        "review_period_days": [7, 7, 7, 7, 0],
        "supplier": ["S1", "S1", "S2", "S2", "S2"],
        "unit_cost": [2.0, 3.0, 1.0, 1.0, 4.0],
        "case_pack": [12, 1, 10, 1, 5],
        "moq": [24, 0, 0, 0, 30],
    })
    stock = pd.DataFrame({"sku": list("ABCDE"), "date": T, "on_hand": [31.0, 3.0, 10.0, 5.0, 8.0],
                          "on_order": [20.0, 0.0, 200.0, 0.0, 0.0]})
    stock = pd.concat([stock.assign(date=T - pd.Timedelta(days=1), on_hand=999.0), stock])  # the last snapshot counts
    po = pd.DataFrame({"po_id": ["P1", "P2", "P0"], "sku": ["A", "C", "B"], "supplier": ["S1", "S2", "S1"],
                       "order_date": [T - pd.Timedelta(days=3)] * 3, "qty_ordered": [20.0, 200.0, 9.0],
                       "expected_date": [pd.Timestamp("2026-01-12"), pd.Timestamp("2026-01-20"), T],
                       "receipt_date": [pd.NaT, pd.NaT, T - pd.Timedelta(days=1)],
                       "qty_received": [np.nan, np.nan, 9.0]})
    cal = pd.DataFrame({"date": pd.date_range("2026-01-01", "2026-01-31")})
    cal["supplier_shutdown"] = cal["date"].isin([pd.Timestamp("2026-01-12"), pd.Timestamp("2026-01-13")])
    demand = pd.DataFrame({"sku": list("ABCDE"), "date": [T - pd.Timedelta(days=1)] * 3 + [pd.Timestamp("2025-09-01"),
                           T - pd.Timedelta(days=1)], "units": [5, 2, 1, 1, 1]})
    ws = SimpleNamespace(stock=stock, purchase_orders=po, calendar=cal, demand=demand)
    return inv.order_suggestions(ws, pol, as_of=T)


def test_order_quantities_reasons_and_grouping(shop):
    o = shop.orders.set_index("sku")
    assert list(shop.orders["sku"]) == ["A", "B", "E"]  # sorted by supplier S1, S2
    # A: IP 31 + 20 = 51; arrival after 4 working days skipping the 12th-13th shutdown -> 16 Jan, 2 days x 5 = +10
    # -> target 110, needs 59, case pack 12 -> 60
    assert o.loc["A", "target_position"] == 110 and o.loc["A", "quantity_needed"] == 59
    assert o.loc["A", "order_quantity"] == 60 and o.loc["A", "expected_arrival_date"] == pd.Timestamp("2026-01-16")
    assert "shutdown" in o.loc["A", "reason"] and "rounded up to 60" in o.loc["A", "reason"]
    # A without the order: 31 -5/day, +20 on the 12th -> below zero on 20 Jan
    assert o.loc["A", "projected_stockout_date"] == pd.Timestamp("2026-01-20")
    # B: IP 3, target 40 + 2 x 2 = 44 -> 41 units, no rounding
    assert o.loc["B", "order_quantity"] == 41
    # E, (r,Q): arrival 14 Jan, 2 shutdown days x 1 -> r = 12; IP 8 <= 12 -> one Q = 25, MOQ 30 in packs of 5 -> 30
    assert o.loc["E", "quantity_needed"] == 25 and o.loc["E", "order_quantity"] == 30
    assert "reorder point" in o.loc["E", "reason"]
    assert shop.by_supplier.loc["S1", "lines"] == 2 and shop.by_supplier.loc["S1", "order_value"] == 60 * 2 + 41 * 3


def test_exception_lists(shop):
    # B: 3 on hand, 2 a day -> short on 11 Jan, before today's order can arrive (16 Jan, nothing open)
    assert list(shop.at_risk["sku"]) == ["B"]
    assert shop.at_risk.loc[0, "projected_stockout_date"] == pd.Timestamp("2026-01-11")
    # C: position 210 = 210 days of cover; 188 above the target 22, of which 200 on order
    assert list(shop.excess["sku"]) == ["C", "D"]
    assert list(shop.too_much_on_order["sku"]) == ["C"]
    c = shop.status.set_index("sku").loc["C"]
    assert c["projected_stockout_date"] == T + pd.Timedelta(days=210)
    # D: 5 on hand, last sale 1 Sep 2025 (131 days)
    assert list(shop.dead_stock["sku"]) == ["D"]


def test_bad_input_says_how_to_fix():
    with pytest.raises(DataError, match="plan_policies"):
        inv.order_suggestions(SimpleNamespace(), pd.DataFrame({"sku": ["x"]}))
    with pytest.raises(DataError, match="stock table"):
        inv.order_suggestions(SimpleNamespace(), pd.DataFrame(columns=["sku", "policy", "order_up_to",
                                                                       "demand_mean_per_day", "lead_time_mean_days"]))


def test_lost_sales_position_ignores_backorders_and_says_so():
    # one SKU, (R,S) S = 50, on hand 10, on order 5, 8 backorders in the snapshot, mean demand 2/day, lead 4 days
    pol = pd.DataFrame({"sku": ["X"], "policy": ["(R,S)"], "order_up_to": [50.0], "reorder_point": [np.nan],
                        "order_quantity": [np.nan], "demand_mean_per_day": [2.0], "lead_time_mean_days": [4.0],
                        "review_period_days": [7], "supplier": ["S"], "unit_cost": [1.0], "case_pack": [1], "moq": [0]})
    stock = pd.DataFrame({"sku": ["X"], "date": [T], "on_hand": [10.0], "on_order": [5.0], "backorders": [8.0]})
    ws = SimpleNamespace(stock=stock, purchase_orders=None, calendar=None, demand=None)
    back = inv.order_suggestions(ws, pol, as_of=T).orders.iloc[0]
    lost = inv.order_suggestions(ws, pol.assign(unmet_demand="lost"), as_of=T).orders.iloc[0]
    # backorders: IP = 10 + 5 - 8 = 7, order 43; 2 net units last today, short tomorrow (2 - 2 x 2 < 0)
    assert back.inventory_position == 7 and back.order_quantity == 43
    assert back.projected_stockout_date == T + pd.Timedelta(days=1)
    # lost sales: IP = 10 + 5 = 15, order 35; 10 on hand lasts days 0..4, short on day 5 (10 - 6 x 2 < 0)
    assert lost.inventory_position == 15 and lost.order_quantity == 35
    assert lost.projected_stockout_date == T + pd.Timedelta(days=5)
    assert "8 backorders in the snapshot not counted" in lost.reason
    # the argument overrides the table's column; a bad value is refused
    assert inv.order_suggestions(ws, pol.assign(unmet_demand="lost"), as_of=T,
                                 unmet_demand="backordered").orders.iloc[0].order_quantity == 43
    with pytest.raises(DataError, match="unmet_demand"):
        inv.order_suggestions(ws, pol, as_of=T, unmet_demand="cancelled")


def reference_working_arrival(as_of, lead_days, shutdown_dates):
    """The walk over dates the order list used before it counted days (issue 7)."""
    day, worked, skipped = as_of, 0, 0
    while worked < lead_days:
        day += pd.Timedelta(days=1)
        if day in shutdown_dates:
            skipped += 1
        else:
            worked += 1
    return day, skipped


def reference_stockout(today, level, mu, receipts, horizon_days):
    """The walk over dates the order list used before (receipts: (date, units))."""
    events = sorted(receipts)
    day, k = today, 0
    for _ in range(horizon_days):
        while k < len(events) and events[k][0] <= day:
            level += events[k][1]
            k += 1
        level -= mu
        if level < 0:
            return day
        day += pd.Timedelta(days=1)
    return None


def test_day_counts_equal_the_walk_over_dates():
    from opslib.inventory.orders import _first_stockout_day, _working_arrival

    rng = np.random.default_rng(4)
    days = pd.date_range(T, periods=120)
    for _ in range(300):
        shutdown = set(days[rng.random(days.size) < 0.2]) | {T - pd.Timedelta(days=3), T + pd.Timedelta(hours=30)}
        lead = int(rng.integers(0, 40))
        assert _working_arrival(T, lead, shutdown) == reference_working_arrival(T, lead, shutdown)
        receipts = [(T + pd.Timedelta(days=int(d)), float(q)) for d, q in
                    zip(rng.integers(-2, 60, rng.integers(0, 4)), rng.integers(1, 50, 4))]
        level, mu = float(rng.integers(-5, 60)), float(rng.choice([0.1, 0.7, 1.0 / 3.0, 2.5]))
        first = _first_stockout_day(level, mu, sorted(((e - T) / pd.Timedelta(days=1), q) for e, q in receipts), 200)
        want = reference_stockout(T, level, mu, receipts, 200)
        assert (first is None and want is None) or T + pd.Timedelta(days=first) == want
