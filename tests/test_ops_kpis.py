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

import importlib
import math

import numpy as np
import pandas as pd
import pytest

from opslib import DataError
from opslib.data import Workspace
from opslib.ops import ADDITIVE_MEASURES, _common, kpis, repurchase_rate
from opslib.ops._common import number

kpis_module = importlib.import_module("opslib.ops.kpis")  # opslib.ops.kpis is also the function


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


def test_repurchase_rate_as_known_at_a_date(shop):
    # as of Feb 29 (30-day windows): c1 (Jan 5, again Jan 20) is a customer whose window closed
    # on Feb 4 and who repeated; c2 had only the returned Jan 10 order by then, c3 only the
    # returned Feb 3 order: two returned-only customers. c2's Apr 2 order is not known yet.
    feb = repurchase_rate(shop, window_days=30, as_of="2024-02-29").iloc[0]
    assert (feb["customers"], feb["repeat_customers"], feb["repurchase_rate"]) == (1, 1, 1.0)
    assert (feb["censored_customers"], feb["returned_only_customers"]) == (0, 2)
    # as of Jan 31, c1's window (to Feb 4 10:00) is still open: censored, no customer yet
    jan = repurchase_rate(shop, window_days=30, as_of=pd.Timestamp("2024-01-31")).iloc[0]
    assert (jan["customers"], jan["censored_customers"], jan["returned_only_customers"]) == (0, 1, 1)
    assert math.isnan(jan["repurchase_rate"])
    # as of Feb 4 the window closes at 10:00: the end of the day counts
    assert repurchase_rate(shop, window_days=30, as_of="2024-02-04").iloc[0]["customers"] == 1
    assert repurchase_rate(shop, window_days=30, as_of="2024-02-03").iloc[0]["customers"] == 0
    # before any order: nobody at all
    none = repurchase_rate(shop, window_days=30, as_of="2024-01-03").iloc[0]
    assert none[["customers", "censored_customers", "returned_only_customers"]].tolist() == [0, 0, 0]
    # long after the data: c2's Apr 2 order had 30 days without a second order
    late = repurchase_rate(shop, window_days=30, as_of="2024-12-31").iloc[0]
    assert (late["customers"], late["repeat_customers"], late["repurchase_rate"]) == (2, 1, 0.5)
    assert late["returned_only_customers"] == 1
    # cohorts as of Feb 29: c1 and c2 (returned only) in January, c3 in February
    cohorts = repurchase_rate(shop, window_days=30, freq="M", as_of="2024-02-29")
    assert [str(p) for p in cohorts["cohort"]] == ["2024-01", "2024-02"]
    assert cohorts["customers"].tolist() == [1, 0] and cohorts["returned_only_customers"].tolist() == [1, 1]
    with pytest.raises(ValueError, match="as_of"):
        repurchase_rate(shop, as_of="not a date")


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


# --------------------------------------------------------------------------- per-order vs per-line


def _customer_orders_per_line(ws: Workspace, lines: pd.DataFrame) -> kpis_module._CustomerOrders:
    """The per-line implementation _customer_orders replaced (orders and customers factorized
    per line): the reference its per-order implementation must agree with."""
    notes: list[str] = []
    ts = pd.to_datetime(lines["order_ts"], errors="coerce")
    wall = ts
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        wall = ts.dt.tz_localize(None)  # cohorts in local time, intervals in absolute time
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    anonymous = (lines["customer_id"].isna() | ts.isna()).to_numpy()
    if anonymous.any():
        notes.append(f"{int(anonymous.sum()):,} order lines without customer_id or order_ts are left out.")
    ns = ts.to_numpy().astype("datetime64[ns]").view("int64")
    end = int(ns[~anonymous].max()) if (~anonymous).any() else 0
    keep = ~anonymous & lines["order_id"].notna().to_numpy()  # a line without order_id is no order
    ns = ns[keep]
    wall_ns = wall.to_numpy().astype("datetime64[ns]").view("int64")[keep]
    order_id, customer_id = lines["order_id"].astype("str").array, lines["customer_id"].array
    if not keep.all():  # a copy of the text columns only when lines are left out
        order_id, customer_id = order_id[keep], customer_id[keep]
    order_code, order_ids = pd.factorize(order_id)
    customer_code, customers = pd.factorize(customer_id)
    qty = np.nan_to_num(number(lines["qty"])[keep])  # missing quantities add nothing, as in a sum
    n_orders, n_customers = len(order_ids), len(customers)
    never = np.iinfo(np.int64).max

    # per order: the customer of its first line, its first time, its units
    if n_orders:
        firsts = np.flatnonzero(np.r_[True, order_code[1:] > np.maximum.accumulate(order_code)[:-1]])
    else:
        firsts = np.zeros(0, dtype=np.int64)
    order_customer = customer_code[firsts]
    order_ts = np.full(n_orders, never)
    np.minimum.at(order_ts, order_code, ns)
    order_at = firsts.copy()  # the line holding the order's first time (for its local time)
    is_min = ns == order_ts[order_code]
    order_at[order_code[is_min][::-1]] = np.flatnonzero(is_min)[::-1]
    order_wall = wall_ns[order_at]
    order_qty = np.bincount(order_code, weights=qty, minlength=n_orders)
    returned = np.zeros(n_orders)
    if ws.returns is not None:
        returns = ws.returns
        where = pd.Index(order_ids).get_indexer(returns["order_id"].astype("str").array)
        back = np.nan_to_num(number(returns["qty"]))
        known = where >= 0
        returned = np.bincount(where[known], weights=back[known], minlength=n_orders)
    kept = ~((order_qty > 0) & (returned >= order_qty))

    # per customer: the first and second kept orders
    k = np.flatnonzero(kept)
    k = k[np.lexsort((order_ts[k], order_customer[k]))]
    cust = order_customer[k]
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]]) if len(k) else np.zeros(0, dtype=np.int64)
    first_ns = np.full(n_customers, never)
    first_wall = np.full(n_customers, never)
    second_ns = np.full(n_customers, never)
    first_ns[cust[starts]] = order_ts[k[starts]]
    first_wall[cust[starts]] = order_wall[k[starts]]
    has_second = np.r_[starts[1:], len(k)] - starts > 1
    second_ns[cust[starts[has_second]]] = order_ts[k[starts[has_second] + 1]]

    # the first fully returned order of each customer (local time)
    gone_wall = np.full(n_customers, never)
    gone = np.flatnonzero(~kept)
    np.minimum.at(gone_wall, order_customer[gone], order_wall[gone])
    return kpis_module._CustomerOrders(first_ns, first_wall, second_ns, gone_wall, end, tuple(notes))


def random_shop(seed: int, aware: bool) -> Workspace:
    """A messy shop: lines of one order at different times or of different customers, ids and
    times missing, integer-like and text ids, returns in part, in full and of unknown orders."""
    rng = np.random.default_rng(seed)
    n_orders, n = 400, 1500
    order_of = np.sort(rng.integers(0, n_orders, n))
    order_of = order_of[rng.permutation(n)] if seed % 2 else order_of  # lines of an order scattered
    start = pd.Timestamp("2024-01-01")
    order_time = start + pd.to_timedelta(rng.integers(0, 200 * 86_400, n_orders), unit="s")
    order_time = order_time.floor("D") if seed % 3 == 0 else order_time  # many ties
    ts = pd.Series(order_time[order_of])
    late = rng.random(n) < 0.1  # a line of the order booked later (or earlier) than the others
    ts[late] += pd.to_timedelta(rng.integers(-3_600, 3 * 86_400, late.sum()), unit="s")
    customer = rng.integers(0, 120, n_orders)[order_of].astype(object)
    other = rng.random(n) < 0.05  # a line of another customer in the same order
    customer[other] = rng.integers(0, 120, other.sum())
    customer = np.array([f"c{c}" for c in customer], dtype=object)
    order_id = np.array([f"o{o}" for o in order_of], dtype=object)
    qty = rng.integers(0, 4, n).astype(float)
    if seed < 2:  # seeds 2 and 3: every line placed (the codes of all lines are the order codes)
        customer[rng.random(n) < 0.03] = None
        order_id[rng.random(n) < 0.03] = None
        ts[rng.random(n) < 0.03] = pd.NaT
        qty[rng.random(n) < 0.02] = np.nan
    if aware:
        ts = ts.dt.tz_localize("Asia/Shanghai")
    lines = pd.DataFrame(
        {"order_id": order_id, "order_ts": ts, "sku": "A", "qty": qty, "paid_amount": 1.0, "customer_id": customer}
    )
    picked = rng.choice(n, 250, replace=False)
    returns = pd.DataFrame(
        {
            "order_id": np.where(rng.random(250) < 0.05, "unknown", order_id[picked]),
            "sku": "A",
            "qty": np.where(rng.random(250) < 0.5, qty[picked], 1.0),
            "return_date": pd.Timestamp("2024-08-01"),
        }
    )
    return Workspace(order_lines=lines, returns=returns, name=f"random shop {seed}")


@pytest.mark.parametrize("aware", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_per_order_customer_orders_equal_the_per_line_ones(seed, aware, monkeypatch):
    ws = random_shop(seed, aware)
    per_order = kpis_module._customer_orders
    new = per_order(ws, ws.order_lines)
    old = _customer_orders_per_line(ws, ws.order_lines)
    assert new.end == old.end and new.notes == old.notes
    never = np.iinfo(np.int64).max

    def customers(history):  # the customers with any order, as a sorted table (codes differ)
        table = np.column_stack([history.first_ns, history.first_wall, history.second_ns, history.gone_wall])
        table = table[(table != never).any(axis=1)]
        return table[np.lexsort(table.T[::-1])]

    assert len(customers(old)) > 50
    np.testing.assert_array_equal(customers(new), customers(old))
    calls = [dict(window_days=w, freq=f, as_of=a) for w in (0, 30) for f in (None, "M") for a in (None, "2024-04-30")]
    results = [repurchase_rate(ws, **call) for call in calls]
    _common.clear_memo()
    monkeypatch.setattr(kpis_module, "_customer_orders", _customer_orders_per_line)
    for call, result in zip(calls, results):
        pd.testing.assert_frame_equal(result, repurchase_rate(ws, **call))
    ws.returns = None  # and without returns
    np.testing.assert_array_equal(
        customers(per_order(ws, ws.order_lines)), customers(_customer_orders_per_line(ws, ws.order_lines))
    )


@pytest.mark.parametrize(("n_values", "n_uniques"), [(40, 1000), (1000, 40), (0, 10), (10, 0)])
def test_positions_of_texts_among_distinct_texts(n_values, n_uniques):
    # order ids of returns among the order ids: both lookup directions give the index's answer
    rng = np.random.default_rng(n_values + n_uniques)
    uniques = pd.array([f"o{i}" for i in rng.permutation(3 * n_uniques + 1)[:n_uniques]], dtype="str")
    values = np.array([f"o{i}" for i in rng.integers(0, 3 * n_uniques + 1, n_values)], dtype=object)
    values[rng.random(n_values) < 0.1] = None
    expected = pd.Index(np.asarray(uniques, dtype=object)).get_indexer(values)
    expected[pd.isna(values)] = -1
    np.testing.assert_array_equal(_common.positions(values, uniques), expected)


@pytest.mark.parametrize("by", [None, "category", "channel"])
def test_orders_are_the_distinct_order_ids_of_each_group(by):
    # kpis counts orders on integer codes (a representative group per order plus the lines
    # in other groups): the same as counting distinct order_id per period and label
    rng = np.random.default_rng(3)
    n = 2000
    lines = pd.DataFrame(
        {
            "order_id": pd.Series([f"o{i}" for i in rng.integers(0, 600, n)]).where(rng.random(n) > 0.02),
            "order_ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 120 * 24, n), unit="h"),
            "sku": rng.choice(["A", "B", "C"], n),
            "qty": 1,
            "paid_amount": 1.0,
            "channel": pd.Series(rng.choice(["app", "web"], n)).where(rng.random(n) > 0.05),
        }
    )
    items = pd.DataFrame({"sku": ["A", "B", "C"], "unit_cost": 1.0, "category": ["x", "y", "y"]})
    out = kpis(Workspace(order_lines=lines, items=items), "W", by=by)
    frame = lines.assign(
        period=lines["order_ts"].dt.to_period("W-SUN"),
        category=lines["sku"].map({"A": "x", "B": "y", "C": "y"}),
        channel=lines["channel"].fillna("unassigned"),
    )
    keys = ["period"] + ([by] if by else [])
    expected = frame.groupby(keys)["order_id"].nunique()
    got = out.set_index(keys)["orders"]
    assert got.sum() == expected.sum() > 600
    pd.testing.assert_series_equal(got[got > 0], expected.rename("orders"), check_dtype=False, check_index_type=False)
