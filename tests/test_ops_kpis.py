"""KPIs and repurchase rate on a hand-made shop whose numbers are computed by hand.

The shop (2024; costs A 6, B 30; A in category x, B and C in category y):

order lines                                   gmv  units  cogs
  o1 2024-01-05 c1 app  A 2 @ 20, B 1 @ 50      70      3    42
  o2 2024-01-10 c2 web  A 1 @ 10                10      1     6   (returned in full)
  o3 2024-01-20 c1 app  B 2 @ 90                90      2    60
  o4 2024-02-03 c3 web  A 3 @ 27                27      3    18   (returned in full)
  o5 2024-04-02 c2 app  A 1 @ 10                10      1     6
  January 170 / 3 orders / 6 units / cogs 108; February 27 / 1 / 3 / 18;
  March nothing; April 10 / 1 / 1 / 6.

traffic: January 100 sessions, February 0, March no row, April 50.
stock (end of day): A 10 then 0, B 2 and 2 on Jan 1-2: values 120 and 60, mean 90;
  4 SKU-days tracked, 1 out of stock.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from opslib import DataError
from opslib.data import Workspace
from opslib.ops import ADDITIVE_MEASURES, kpis, repurchase_rate


def tables() -> dict[str, pd.DataFrame]:
    items = pd.DataFrame(
        {"sku": ["A", "B", "C"], "unit_cost": [6.0, 30.0, 1.0], "price": [10.0, 50.0, 2.0], "category": ["x", "y", "y"]}
    )
    order_lines = pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],
            "order_ts": pd.to_datetime(
                ["2024-01-05 10:00", "2024-01-05 10:00", "2024-01-10 12:00", "2024-01-20 09:00", "2024-02-03 08:00", "2024-04-02 20:00"]
            ),
            "sku": ["A", "B", "A", "B", "A", "A"],
            "qty": [2, 1, 1, 2, 3, 1],
            "paid_amount": [20.0, 50.0, 10.0, 90.0, 27.0, 10.0],
            "customer_id": ["c1", "c1", "c2", "c1", "c3", "c2"],
            "channel": ["app", "app", "web", "app", "web", "app"],
        }
    )
    returns = pd.DataFrame(
        {
            "order_id": ["o2", "o4"],
            "sku": ["A", "A"],
            "qty": [1, 3],
            "return_date": pd.to_datetime(["2024-01-15", "2024-02-10"]),
        }
    )
    traffic = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-02-01", "2024-04-01"]), "sessions": [60, 40, 0, 50]}
    )
    stock = pd.DataFrame(
        {
            "sku": ["A", "A", "B", "B"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-02"]),
            "on_hand": [10.0, 0.0, 2.0, 2.0],
        }
    )
    return {"items": items, "order_lines": order_lines, "returns": returns, "traffic": traffic, "stock": stock}


@pytest.fixture
def shop() -> Workspace:
    return Workspace(**tables(), name="kpi shop")


def test_monthly_kpis_by_hand(shop):
    out = kpis(shop, freq="M").set_index("period")
    assert list(out.index.astype(str)) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    jan, feb, mar, apr = (out.loc[pd.Period(m, "M")] for m in ("2024-01", "2024-02", "2024-03", "2024-04"))
    assert (jan["gmv"], jan["orders"], jan["units"]) == (170.0, 3, 6.0)
    assert jan["average_order_value"] == pytest.approx(170 / 3)
    assert jan["sessions"] == 100 and jan["conversion_rate"] == pytest.approx(0.03)
    assert jan["returned_units"] == 1 and jan["return_rate"] == pytest.approx(1 / 6)
    assert jan["cogs"] == pytest.approx(108) and jan["gross_margin"] == pytest.approx(62)
    assert jan["margin_rate"] == pytest.approx(62 / 170)
    assert (jan["sku_days"], jan["stockout_days"], jan["stockout_rate"]) == (4, 1, 0.25)
    assert jan["avg_inventory_value"] == pytest.approx(90)
    assert jan["inventory_turnover"] == pytest.approx(108 / 90)
    assert jan["days_of_cover"] == pytest.approx(90 / (108 / 2))
    # February: every unit came back, and there were no sessions at all
    assert feb["return_rate"] == 1.0 and feb["gross_margin"] == pytest.approx(9)
    assert feb["sessions"] == 0 and math.isnan(feb["conversion_rate"])
    # March: a month with no sales appears with zeros and NaN ratios
    assert (mar["gmv"], mar["orders"], mar["units"], mar["cogs"]) == (0, 0, 0, 0)
    assert math.isnan(mar["average_order_value"]) and math.isnan(mar["margin_rate"]) and math.isnan(mar["sessions"])
    assert apr["conversion_rate"] == pytest.approx(1 / 50)
    assert math.isnan(apr["stockout_rate"]) and math.isnan(apr["inventory_turnover"])
    assert any("no sessions" in n for n in out.attrs["notes"])


def test_no_traffic_table_gives_nan_and_a_note(shop):
    shop.traffic = None
    out = kpis(shop)
    assert out["conversion_rate"].isna().all()
    assert any("no traffic table" in n for n in out.attrs["notes"])


def test_breakdowns_add_up(shop):
    overall = kpis(shop).set_index("period")
    for by in ("category", "channel"):
        part = kpis(shop, by=by)
        sums = part.groupby("period")[list(ADDITIVE_MEASURES)].sum(min_count=1)
        for col in ("gmv", "units", "returned_units", "cogs", "gross_margin"):
            np.testing.assert_allclose(sums[col], overall[col], err_msg=f"{by}: {col}")
    cat = kpis(shop, by="category").set_index(["period", "category"])
    x = cat.loc[(pd.Period("2024-01", "M"), "x")]
    y = cat.loc[(pd.Period("2024-01", "M"), "y")]
    assert (x["gmv"], x["orders"], x["units"]) == (30, 2, 3)
    assert (y["gmv"], y["orders"], y["units"]) == (140, 2, 3)
    assert x["avg_inventory_value"] + y["avg_inventory_value"] == pytest.approx(90)
    assert x["stockout_days"] == 1 and y["stockout_days"] == 0
    assert cat["conversion_rate"].isna().all()  # traffic is site-wide
    ch = kpis(shop, by="channel").set_index(["period", "channel"])
    assert ch.loc[(pd.Period("2024-01", "M"), "app"), "orders"] == 2
    assert ch.loc[(pd.Period("2024-01", "M"), "web"), "returned_units"] == 1
    assert ch.groupby("period")["orders"].sum().tolist() == overall["orders"].tolist()
    assert ch["stockout_rate"].isna().all()


def test_weekly_and_daily_periods(shop):
    weekly = kpis(shop, freq="W")
    assert weekly["gmv"].sum() == pytest.approx(207)
    assert str(weekly["period"].iloc[0]) == "2024-01-01/2024-01-07"
    daily = kpis(shop, freq="D")
    assert daily.loc[daily["period"] == pd.Period("2024-01-05", "D"), "orders"].item() == 1


def test_unknown_cost_makes_margin_nan_not_zero(shop):
    shop.items = shop.items[shop.items["sku"] != "B"]
    out = kpis(shop).set_index("period")
    assert math.isnan(out.loc[pd.Period("2024-01", "M"), "gross_margin"])
    assert out.loc[pd.Period("2024-02", "M"), "gross_margin"] == pytest.approx(9)
    assert any("without items.unit_cost" in n for n in out.attrs["notes"])


def test_repurchase_rate_by_hand(shop):
    # c1: first Jan 5, again Jan 20 -> repeats within 30 days.
    # c2: o2 returned in full, so the first kept order is Apr 2: window not over (censored).
    # c3: only order returned in full -> not a customer for the rate.
    out = repurchase_rate(shop, window_days=30).iloc[0]
    assert (out["customers"], out["repeat_customers"], out["repurchase_rate"]) == (1, 1, 1.0)
    assert out["censored_customers"] == 1 and out["returned_only_customers"] == 1
    short = repurchase_rate(shop, window_days=10).iloc[0]
    assert (short["customers"], short["repeat_customers"], short["repurchase_rate"]) == (1, 0, 0.0)


def test_repurchase_rate_without_returns_counts_every_order(shop):
    shop.returns = None
    out = repurchase_rate(shop, window_days=60).iloc[0]
    # c1 repeats after 15 days; c2 Jan 10 -> Apr 2 is 83 days: no repeat within 60;
    # c3 Feb 3 + 60 days is after the last order (Apr 2): censored
    assert (out["customers"], out["repeat_customers"], out["censored_customers"]) == (2, 1, 1)


def test_repurchase_rate_by_cohort(shop):
    out = repurchase_rate(shop, window_days=30, freq="M")
    assert [str(p) for p in out["cohort"]] == ["2024-01", "2024-02", "2024-04"]
    assert out["customers"].tolist() == [1, 0, 0]
    assert out["returned_only_customers"].tolist() == [0, 1, 0]
    assert math.isnan(out["repurchase_rate"].iloc[1])


def test_repurchase_rate_ignores_lines_it_cannot_place_and_reads_time_zones(shop):
    # The rate works on integer codes of orders and customers: lines without a customer or
    # an order id must not become an order, integer customer ids and time-zone-aware stamps
    # (cohorts in local time) must give the same figures as the plain shop.
    plain = repurchase_rate(shop, window_days=30, freq="M")
    lines = shop.order_lines
    extra = pd.DataFrame(
        {"order_id": [None, "o9"], "order_ts": pd.to_datetime(["2024-01-06", "2024-01-07"]), "sku": ["A", "A"],
         "qty": [1, 1], "paid_amount": [10.0, 10.0], "customer_id": ["c3", None], "channel": ["app", "app"]}
    )
    messy = lines.assign(
        customer_id=lines["customer_id"].str[1:].astype(int),
        order_ts=lines["order_ts"].dt.tz_localize("Asia/Shanghai"),
    )
    extra = extra.assign(customer_id=[3, None], order_ts=extra["order_ts"].dt.tz_localize("Asia/Shanghai"))
    shop.order_lines = pd.concat([messy, extra], ignore_index=True)
    out = repurchase_rate(shop, window_days=30, freq="M")
    pd.testing.assert_frame_equal(out, plain)
    assert repurchase_rate(shop, window_days=30).iloc[0]["customers"] == 1
    assert any("1 order lines without customer_id" in n for n in out.attrs["notes"])


def test_missing_tables_and_columns_raise_data_error(shop):
    with pytest.raises(DataError, match="'items'.*unit_cost"):
        kpis(Workspace(order_lines=shop.order_lines))
    with pytest.raises(DataError, match="channel.*'order_lines'"):
        kpis(Workspace(items=shop.items, order_lines=shop.order_lines.drop(columns="channel")), by="channel")
    with pytest.raises(DataError, match="customer_id"):
        repurchase_rate(Workspace(order_lines=shop.order_lines.drop(columns="customer_id")))
    with pytest.raises(ValueError, match="freq"):
        kpis(shop, freq="fortnight")
