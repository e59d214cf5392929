"""opslib.promo.stock_check: promotion demand against stock, open orders and lead time.

References: the hand-computed case below (ten deterministic draws), the empirical share of the draws for
P(stock-out), and the newsvendor critical fractile (Arrow, Harris and Marschak 1951; Snyder and Shen 2019,
section 4.3): the optimal stock is the smallest draw ``x`` with ``F(x) >= c_u / (c_u + c_o)``, numpy's
``inverted_cdf`` quantile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opslib import DataError
from opslib.promo import (
    PromotionPlan,
    SimulationResult,
    Simulator,
    simulate,
    stock_check,
)

START, END = "2024-06-03", "2024-06-09"  # seven days
DAYS = pd.date_range(START, END)


def hand_result(window_units, dip_units, *, price=100.0, unit_cost=60.0, depth=0.2, post_dip_days=14):
    """A one-SKU SimulationResult with the given draws: nothing random, every number computable by hand."""
    plan = PromotionPlan(skus=("A",), start=START, end=END, depth=depth)
    margin_rate = (price - unit_cost) / price
    draws = pd.DataFrame({"draw": np.arange(len(window_units)), "window_units": np.asarray(window_units, float),
                          "post_dip": -np.asarray(dip_units, float) * price * margin_rate})
    guardrails = pd.DataFrame({"sku": ["A"], "price": [price], "margin_rate": [margin_rate],
                               "promo_unit_margin": [price * (1 - depth) - unit_cost]})
    skus = pd.DataFrame({"sku": ["A"], "baseline_units": [70.0], "window_units_p50": [np.median(window_units)]})
    return SimulationResult(plan, draws, pd.DataFrame(), pd.DataFrame(), 0.5, 0.0, pd.DataFrame(), guardrails, skus,
                            {"draws": len(window_units), "seed": 0, "post_dip_days": post_dip_days})


def hand_tables(*, case_pack=12, moq=0, lead_time_days=10, on_hand=50.0):
    items = pd.DataFrame({"sku": ["A"], "price": [100.0], "unit_cost": [60.0], "supplier": ["S1"],
                          "case_pack": [case_pack], "moq": [moq], "lead_time_days": [lead_time_days]})
    stock = pd.DataFrame({"sku": ["A", "A"], "date": ["2024-05-20", "2024-06-01"], "on_hand": [999.0, on_hand]})
    po = pd.DataFrame({"po_id": ["p1", "p2", "p0"], "sku": ["A", "A", "A"], "supplier": ["S1"] * 3,
                       "order_date": ["2024-05-25", "2024-05-28", "2024-05-01"], "qty_ordered": [20, 30, 500],
                       "expected_date": ["2024-06-02", "2024-06-05", "2024-05-10"],
                       "receipt_date": [pd.NaT, pd.NaT, "2024-05-10"]})
    return {"items": items, "stock": stock, "purchase_orders": po}


DRAWS = np.arange(10, 101, 10)  # 10, 20, ..., 100
DIPS = np.array([1, 2, 3, 4, 5, 1, 2, 3, 4, 5])  # mean 3


def test_hand_computed_case():
    out = stock_check(hand_result(DRAWS, DIPS), hand_tables(), as_of="2024-06-01", service_level=0.95)
    row = out.iloc[0]
    # 50 on hand on 06-01; 06-02: +20 received, -10 baseline (70 over 7 days); 30 arrive after the start
    assert row["on_hand"] == 50 and row["baseline_units_before_start"] == pytest.approx(10.0)
    assert row["receipts_before_start"] == 20 and row["on_order_after_start"] == 30
    assert row["available_at_start"] == pytest.approx(60.0)
    assert row["stockout_probability"] == pytest.approx(0.4)  # draws 70, 80, 90, 100 exceed 60
    assert row["window_units_at_service_level"] == 100  # smallest x with F(x) >= 0.95
    assert row["quantity_short"] == 40 and row["order_quantity"] == 48  # 40 -> four cases of 12
    assert row["stockout_probability_after_order"] == 0.0
    assert row["latest_order_date"] == pd.Timestamp("2024-05-24") and bool(row["order_date_passed"])
    # newsvendor: c_u = 80 - 60 = 20, c_o = 60: ratio 0.25, F(20) = 0.2 < 0.25 <= F(30) = 0.3
    assert row["underage_cost"] == 20 and row["overage_cost"] == 60
    assert row["flash_sale_critical_ratio"] == pytest.approx(0.25) and row["flash_sale_cap"] == 30
    assert row["expected_leftover_units"] == pytest.approx((50 + 40 + 30 + 20 + 10) / 10)
    assert row["post_dip_units"] == pytest.approx(3.0) and row["reorder_adjustment_units"] == 3
    assert "has passed" in row["reason"] and "order 48" in row["reason"] and "subtract 3 units" in row["reason"]


def test_rounding_to_moq_and_packs():
    # service 0.9: F^{-1}(0.9) = 90, short 30; case pack 12 and MOQ 40 -> the MOQ rounded up to packs, 48
    row = stock_check(hand_result(DRAWS, DIPS), hand_tables(moq=40), as_of="2024-06-01", service_level=0.9).iloc[0]
    assert row["quantity_short"] == 30 and row["order_quantity"] == 48
    # no pack: the short quantity itself
    row = stock_check(hand_result(DRAWS, DIPS), hand_tables(case_pack=np.nan), as_of="2024-06-01",
                      service_level=0.9).iloc[0]
    assert row["order_quantity"] == 30 and row["case_pack"] == 1
    # enough stock: nothing to order
    row = stock_check(hand_result(DRAWS, DIPS), hand_tables(on_hand=200.0), as_of="2024-06-01").iloc[0]
    assert row["quantity_short"] == 0 and row["order_quantity"] == 0 and row["stockout_probability"] == 0


def test_latest_order_date_in_time_is_not_flagged():
    row = stock_check(hand_result(DRAWS, DIPS), hand_tables(lead_time_days=2), as_of="2024-06-01").iloc[0]
    assert row["latest_order_date"] == pd.Timestamp("2024-06-01") and not row["order_date_passed"]
    assert "by 2024-06-01" in row["reason"]


def test_salvage_and_holding_move_the_cap_along_the_fractile():
    # salvage 50%: c_o = 30, ratio 0.4 -> 40; plus 365 days of holding at 25%/year: c_o = 45, ratio 0.3077 -> 40
    for salvage, days, ratio in ((0.5, 0.0, 20 / 50), (0.5, 365.0, 20 / 65)):
        row = stock_check(hand_result(DRAWS, DIPS), hand_tables(), as_of="2024-06-01", salvage_rate=salvage,
                          leftover_holding_days=days).iloc[0]
        assert row["flash_sale_critical_ratio"] == pytest.approx(ratio)
        assert row["flash_sale_cap"] == np.quantile(DRAWS, ratio, method="inverted_cdf")
    # a promotion that loses money on every unit: cap 0
    row = stock_check(hand_result(DRAWS, DIPS, depth=0.5), hand_tables(), as_of="2024-06-01").iloc[0]
    assert row["flash_sale_cap"] == 0 and "loses" in row["reason"]


# --------------------------------------------------------------------------- against the simulation


@pytest.fixture
def shop():
    items = pd.DataFrame({"sku": ["A", "B", "C"], "price": [100.0, 50.0, 20.0], "unit_cost": [60.0, 30.0, 10.0],
                          "category": ["tea"] * 3, "case_pack": [6, 1, 24], "lead_time_days": [7, 3, 14]})
    baseline = pd.DataFrame([(s, d, u) for s, u in {"A": 10.0, "B": 4.0, "C": 20.0}.items() for d in DAYS],
                            columns=["sku", "date", "baseline_units"])
    response = pd.DataFrame({"sku": ["A", "B", "C"], "elasticity": [-3.0, -2.0, -1.5],
                             "elasticity_se": [0.6, 0.2, 0.3], "dip_fraction": [0.2, 0.1, 0.25],
                             "dip_fraction_se": [0.05, 0.0, 0.1]})
    stock = pd.DataFrame({"sku": ["A", "B", "C"], "date": "2024-05-31", "on_hand": [150.0, 40.0, 200.0]})
    return items, baseline, response, stock


def test_stockout_probability_and_cap_against_the_draws(shop):
    items, baseline, response, stock = shop
    plan = PromotionPlan(skus=("A",), start=START, end=END, depth=0.2)
    result = simulate(plan, response, baseline, items, draws=3000, seed=3, tornado=False)
    d = result.draws["window_units"].to_numpy()
    out = stock_check(result, {"items": items, "stock": stock}, service_level=0.9)
    row = out.iloc[0]
    available = 150.0 - 2 * 10.0  # 06-01 and 06-02 at 10 a day
    assert row["available_at_start"] == pytest.approx(available)
    assert 0.05 < row["stockout_probability"] < 0.95  # a case where the check is informative
    assert row["stockout_probability"] == np.mean(d > available)
    assert row["window_units_at_service_level"] == np.quantile(d, 0.9, method="inverted_cdf")
    assert row["stockout_probability_after_order"] <= 1 - 0.9
    assert row["order_quantity"] % 6 == 0
    cr = 20 / (20 + 60)
    assert row["flash_sale_cap"] == np.ceil(np.quantile(d, cr, method="inverted_cdf"))
    # the cap is the newsvendor optimum: its expected cost is no more than its neighbours'
    def cost(s):
        return np.mean(60 * np.maximum(s - d, 0) + 20 * np.maximum(d - s, 0))
    level = np.quantile(d, cr, method="inverted_cdf")
    assert cost(level) <= min(cost(level - 1), cost(level + 1))
    # the dip: the result's post-dip margin over the unit margin
    assert row["post_dip_units"] == pytest.approx(-result.draws["post_dip"].mean() / 40)
    assert row["window_units_p50"] == pytest.approx(result.skus.at[0, "window_units_p50"])
    # monotone in the service level
    orders = [stock_check(result, {"items": items, "stock": stock}, service_level=a).iloc[0]["quantity_short"]
              for a in (0.5, 0.8, 0.95, 0.99)]
    assert orders == sorted(orders) and orders[-1] > orders[0]


def test_several_skus_need_their_simulator(shop):
    items, baseline, response, stock = shop
    plan = PromotionPlan(skus=("A", "B", "C"), start=START, end=END, depth=0.25)
    simulator = Simulator(response, baseline, items, draws=2000, seed=5)
    result = simulator.simulate(plan, tornado=False)
    out = stock_check(result, {"items": items, "stock": stock}, simulator=simulator)
    assert list(out["sku"]) == ["A", "B", "C"]
    # the per-SKU draws are the result's: their means add up to the mean total, quantiles match per SKU
    assert out["window_units_mean"].sum() == pytest.approx(result.draws["window_units"].mean(), rel=1e-12)
    for col in ("window_units_p10", "window_units_p90"):
        assert np.allclose(out[col], result.skus[col], rtol=1e-12)
    assert (out["order_quantity"] % out["case_pack"] == 0).all()
    with pytest.raises(DataError, match="simulator"):
        stock_check(result, {"items": items, "stock": stock})
    with pytest.raises(DataError, match="seed"):
        stock_check(result, {"items": items, "stock": stock},
                    simulator=Simulator(response, baseline, items, draws=2000, seed=6))
    other = Simulator(response.assign(elasticity=-1.0), baseline, items, draws=2000, seed=5)
    with pytest.raises(DataError, match="does not reproduce"):
        stock_check(result, {"items": items, "stock": stock}, simulator=other)


def test_flash_sale_with_a_stock_cap_sizes_the_cap_on_uncapped_demand(shop):
    items, baseline, response, stock = shop
    plan = PromotionPlan(skus=("A",), start=START, end=END, mechanic="flash_sale", depth=0.3, stock_cap=40)
    simulator = Simulator(response, baseline, items, draws=2000, seed=2)
    result = simulator.simulate(plan, tornado=False)
    row = stock_check(result, {"items": items, "stock": stock}).iloc[0]
    assert np.isnan(row["flash_sale_cap"]) and "stock_cap" in row["reason"]
    row = stock_check(result, {"items": items, "stock": stock}, simulator=simulator).iloc[0]
    free = simulator.simulate(PromotionPlan(skus=("A",), start=START, end=END, mechanic="flash_sale", depth=0.3),
                              tornado=False).draws["window_units"].to_numpy()
    cr = 10 / (10 + 60)  # flash margin 70 - 60 = 10, overage 60
    assert row["flash_sale_cap"] == np.ceil(np.quantile(free, cr, method="inverted_cdf"))
    # the stock-out risk is that of the capped demand the shop will face
    assert row["stockout_probability"] == np.mean(result.draws["window_units"].to_numpy() > row["available_at_start"])


def test_measured_lead_time_from_receipts():
    items = hand_tables()["items"].assign(lead_time_days=np.nan)
    order = pd.to_datetime("2024-01-01") + pd.to_timedelta(np.arange(6) * 20, "D")
    po = pd.DataFrame({"po_id": [f"p{k}" for k in range(6)], "sku": "A", "supplier": "S1", "order_date": order,
                       "qty_ordered": 10, "expected_date": pd.NaT,
                       "receipt_date": order + pd.to_timedelta([5, 6, 7, 8, 9, 12], "D")})
    tables = {**hand_tables(), "items": items, "purchase_orders": po}
    row = stock_check(hand_result(DRAWS, DIPS), tables, as_of="2024-06-01", service_level=0.8).iloc[0]
    assert row["lead_time_days"] == 9 and row["lead_time_source"].startswith("measured P80 of 6")
    row = stock_check(hand_result(DRAWS, DIPS), {**tables, "purchase_orders": None}, as_of="2024-06-01").iloc[0]
    assert np.isnan(row["lead_time_days"]) and pd.isna(row["latest_order_date"]) and "lead time unknown" in row["reason"]


# --------------------------------------------------------------------------- supplier shutdown days

SHUTDOWN = pd.date_range("2024-05-27", "2024-05-31")  # five days, Monday to Friday, inside the lead time


def shutdown_calendar(days=SHUTDOWN):
    dates = pd.date_range("2024-04-01", "2024-07-31")
    return pd.DataFrame({"date": dates, "supplier_shutdown": dates.isin(days)})


def test_latest_order_date_skips_shutdown_days():
    # start Monday 06-03, lead time 10 supplier working days. Counting back from the start: 06-03, 06-02,
    # 06-01 (3), 05-31 to 05-27 shut, 05-26 (4), ..., 05-20 (10): the order must be placed by 05-19, five days
    # earlier than the 05-24 of the same lead time without shutdown (test_hand_computed_case). Its arrival:
    # 05-20 (1) ... 05-26 (7), 06-01 (8), 06-02 (9), 06-03 (10), the start
    tables = {**hand_tables(), "calendar": shutdown_calendar()}
    row = stock_check(hand_result(DRAWS, DIPS), tables, as_of="2024-06-01", service_level=0.95).iloc[0]
    assert row["latest_order_date"] == pd.Timestamp("2024-05-19") and bool(row["order_date_passed"])
    assert row["shutdown_days_before_start"] == 5 and row["lead_time_days"] == 10
    # an order placed today (06-01) arrives ten working days later, no shutdown in between: 06-11
    assert "arrives about 2024-06-11" in row["reason"] and "5 supplier shutdown day(s)" in row["reason"]
    # the rest of the check is that of the calendar without shutdown
    plain = stock_check(hand_result(DRAWS, DIPS), hand_tables(), as_of="2024-06-01", service_level=0.95).iloc[0]
    assert plain["latest_order_date"] == pd.Timestamp("2024-05-24") and plain["shutdown_days_before_start"] == 0
    same = [c for c in row.index if c not in ("latest_order_date", "shutdown_days_before_start", "reason")]
    pd.testing.assert_series_equal(row[same], plain[same])


def test_order_date_in_time_before_the_shutdown():
    # checked on 05-10, before the shutdown, lead time 10 working days: order by 05-19, not passed yet.
    # A shutdown on the start day itself receives nothing: the tenth working day before the start is one
    # day earlier, and so is the order date
    stock = pd.DataFrame({"sku": ["A"], "date": ["2024-05-10"], "on_hand": [60.0]})
    tables = {**hand_tables(), "stock": stock, "purchase_orders": None, "calendar": shutdown_calendar()}
    row = stock_check(hand_result(DRAWS, DIPS), tables, as_of="2024-05-10").iloc[0]
    assert row["latest_order_date"] == pd.Timestamp("2024-05-19") and not row["order_date_passed"]
    assert "by 2024-05-19 (lead time 10 days, item; 5 supplier shutdown day(s)" in row["reason"]
    tables["calendar"] = shutdown_calendar(SHUTDOWN.append(pd.DatetimeIndex(["2024-06-03"])))
    row = stock_check(hand_result(DRAWS, DIPS), tables, as_of="2024-05-10").iloc[0]
    # 06-02 (1), 06-01 (2), 05-26 (3), ..., 05-19 (10): order by 05-18; six shutdown days in (05-18, 06-03]
    assert row["latest_order_date"] == pd.Timestamp("2024-05-18") and row["shutdown_days_before_start"] == 6


def test_open_order_without_expected_date_arrives_after_working_days():
    # ordered 05-22 with a 10-day lead time and no expected date: 05-23 (1) ... 05-26 (4), shut 05-27 to
    # 05-31, 06-01 (5) ... 06-06 (10): after the start, not counted. Without the shutdown it would have
    # been due 06-01 (today) and counted in the stock at the start
    po = pd.DataFrame({"po_id": ["p3"], "sku": ["A"], "supplier": ["S1"], "order_date": ["2024-05-22"],
                       "qty_ordered": [40], "expected_date": [pd.NaT], "receipt_date": [pd.NaT]})
    tables = {**hand_tables(), "purchase_orders": po}
    plain = stock_check(hand_result(DRAWS, DIPS), tables, as_of="2024-06-01").iloc[0]
    assert plain["receipts_before_start"] == 40 and plain["on_order_after_start"] == 0
    row = stock_check(hand_result(DRAWS, DIPS), {**tables, "calendar": shutdown_calendar()},
                      as_of="2024-06-01").iloc[0]
    assert row["receipts_before_start"] == 0 and row["on_order_after_start"] == 40
    assert row["available_at_start"] == pytest.approx(plain["available_at_start"] - 40)


def test_measured_lead_times_count_working_days():
    # six receipts 8 calendar days after the order; the one ordered 05-24 crosses the shutdown and comes
    # 13 calendar days later (06-06): 8 working days. In calendar days its P95 is 13, in working days 8
    items = hand_tables()["items"].assign(lead_time_days=np.nan)
    order = pd.to_datetime(["2024-04-01", "2024-04-10", "2024-04-20", "2024-05-01", "2024-05-10", "2024-05-24"])
    receipt = order + pd.to_timedelta([8, 8, 8, 8, 8, 13], "D")
    po = pd.DataFrame({"po_id": [f"p{k}" for k in range(6)], "sku": "A", "supplier": "S1", "order_date": order,
                       "qty_ordered": 10, "expected_date": pd.NaT, "receipt_date": receipt})
    tables = {**hand_tables(), "items": items, "purchase_orders": po}
    plain = stock_check(hand_result(DRAWS, DIPS), tables, as_of="2024-06-01").iloc[0]
    assert plain["lead_time_days"] == 13 and plain["latest_order_date"] == pd.Timestamp("2024-05-21")
    row = stock_check(hand_result(DRAWS, DIPS), {**tables, "calendar": shutdown_calendar()},
                      as_of="2024-06-01").iloc[0]
    assert row["lead_time_days"] == 8 and row["lead_time_source"].endswith("supplier working days")
    # 06-03 (1), 06-02, 06-01 (3), shut, 05-26 (4), ..., 05-22 (8): order by 05-21 as well
    assert row["latest_order_date"] == pd.Timestamp("2024-05-21")


def test_bad_input_is_refused():
    result, tables = hand_result(DRAWS, DIPS), hand_tables()
    with pytest.raises(DataError, match="after the promotion start"):
        stock_check(result, tables, as_of="2024-06-04")
    for level in (0.0, 1.0, 95, np.nan):
        with pytest.raises(DataError, match="service_level"):
            stock_check(result, tables, service_level=level)
    with pytest.raises(DataError, match="salvage_rate"):
        stock_check(result, tables, salvage_rate=1.5)
    with pytest.raises(DataError, match="table 'stock'"):
        stock_check(result, {**tables, "stock": None})
    with pytest.raises(DataError, match="on_hand"):
        stock_check(result, {**tables, "stock": tables["stock"].assign(on_hand=[1.0, np.nan])})
    with pytest.raises(DataError, match="SimulationResult"):
        stock_check(result.draws, tables)
    with pytest.raises(DataError, match="unknown table"):
        stock_check(result, {**tables, "stocks": tables["stock"]})
    with pytest.raises(DataError, match="no row for promoted SKU"):
        stock_check(result, {**tables, "items": tables["items"].assign(sku="Z")})
