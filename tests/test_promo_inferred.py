"""opslib.promo.infer_promotions: temporary price cuts found in daily prices.

Hand-built price paths with known cuts, then the demo shop against its own promotions table (the
generator's truth) and the real M5 excerpt against its weekly shelf prices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import opslib
from opslib import DataError
from opslib.promo import INFERRED_NAME, infer_promotions

DAYS = pd.date_range("2024-01-01", periods=200)


def _prices(values, sku="A") -> pd.DataFrame:
    return pd.DataFrame({"sku": sku, "date": DAYS[:len(values)], "price": values, "units": 1.0})


def _path(regular=10.0, cuts=(), n=200) -> np.ndarray:
    p = np.full(n, regular)
    for a, b, price in cuts:
        p[a:b + 1] = price
    return p


def test_a_temporary_cut_is_one_promotion_with_its_window_and_depth():
    r = infer_promotions(_prices(_path(cuts=[(60, 66, 8.0), (120, 122, 9.6)])))  # 20% off; 4% off is not a cut
    assert len(r.promotions) == 1 and r.not_promotions.empty
    row = r.promotions.iloc[0]
    assert (row["start"], row["end"]) == (DAYS[60], DAYS[66])
    assert row["scope"] == "sku:A" and row["mechanic"] == "percent_off" and row["name"] == INFERRED_NAME
    assert row["depth"] == pytest.approx(0.2, abs=1e-12) and row["regular_price"] == 10.0
    assert row["promo_id"] == "inferred-A-20240301" and row["days_priced"] == 7
    assert (row["funding_share"], row["fixed_cost"]) == (0.0, 0.0)
    days = r.days.set_index("date")
    assert days["promo_id"].notna().sum() == 7 and days.loc[DAYS[60]:DAYS[66], "promo_id"].notna().all()
    assert days.loc[DAYS[121], "cut"] == pytest.approx(0.04)
    assert "1 price cut(s) of at least 5% below the regular price on 1 SKU(s)" in r.summary


@pytest.mark.parametrize(("unpriced", "regular_day", "windows"), [
    ([62], None, [(60, 66)]),                 # a day without a sale inside the cut: still one promotion
    ([62, 63], None, [(60, 66)]),             # two: max_gap_days
    ([62, 63, 64], None, [(60, 62), (64, 66)]),  # three: two promotions, each with the empty day next to it
    ([], 63, [(60, 62), (64, 66)]),           # a day sold at the regular price ends a run
])
def test_days_without_a_price_join_a_run_up_to_max_gap_days(unpriced, regular_day, windows):
    p = _path(cuts=[(60, 66, 7.5)])
    p[unpriced] = np.nan
    if regular_day is not None:
        p[regular_day] = 10.0
    r = infer_promotions(_prices(p))
    got = [(DAYS.get_loc(a), DAYS.get_loc(b)) for a, b in zip(r.promotions["start"], r.promotions["end"])]
    assert got == windows
    assert np.allclose(r.promotions["depth"], 0.25)


def test_empty_days_next_to_a_run_join_it_up_to_edge_days():
    p = _path(cuts=[(60, 66, 8.0)])
    p[[57, 58, 59, 67]] = np.nan  # no sale on the three days before and the day after the cut
    for edge_days, window in ((0, (60, 66)), (1, (59, 67)), (2, (58, 67))):
        r = infer_promotions(_prices(p), edge_days=edge_days)
        row = r.promotions.iloc[0]
        assert (DAYS.get_loc(row["start"]), DAYS.get_loc(row["end"])) == window, edge_days
        assert row["days_priced"] == 7 and row["depth"] == pytest.approx(0.2)
        assert r.days["promo_id"].notna().sum() == window[1] - window[0] + 1


def test_a_permanent_price_change_is_not_a_promotion():
    cut = infer_promotions(_prices(_path(cuts=[(100, 199, 8.0)])))
    assert cut.promotions.empty and len(cut.not_promotions) == 1
    gone = cut.not_promotions.iloc[0]
    assert gone["start"] == DAYS[100] and "not below the price after it" in gone["reason"]
    # the centred window's 75th percentile holds the old price until a quarter of it is at the new one
    assert gone["days"] == 23
    rise = infer_promotions(_prices(_path(cuts=[(100, 199, 12.0)])))
    assert rise.promotions.empty and "not below the price before it" in rise.not_promotions.iloc[0]["reason"]
    long = infer_promotions(_prices(_path(cuts=[(60, 66, 8.0)])), max_days=5)
    assert long.promotions.empty and long.not_promotions.iloc[0]["reason"] == "longer than 5 days"


def test_one_shallow_day_is_left_out_and_one_deep_day_is_a_flash_sale():
    r = infer_promotions(_prices(_path(cuts=[(50, 50, 9.0), (120, 120, 6.0)])))
    assert [(row.start, row.depth) for row in r.promotions.itertuples()] == [(DAYS[120], pytest.approx(0.4))]
    assert "one priced day" in r.not_promotions.iloc[0]["reason"] and r.not_promotions.iloc[0]["start"] == DAYS[50]
    assert len(infer_promotions(_prices(_path(cuts=[(50, 50, 9.0)])), single_day_depth=0.0).promotions) == 1


def _shop():
    """30 SKUs in 3 categories at different regular prices; a shop-wide, a category-wide and a SKU cut."""
    rows, items = [], []
    for k in range(30):
        cat = "ABC"[k // 10]
        sku = f"{cat}{k % 10}"
        p = _path(regular=10.0 + k, cuts=[(50, 55, 0.9 * (10.0 + k))])
        if cat == "B":
            p[90:96] = 0.85 * (10.0 + k)
        if sku == "A0":
            p[120:124] = 0.8 * 10.0
        rows.append(_prices(p, sku))
        items.append({"sku": sku, "category": cat})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(items)


def test_shop_and_category_wide_cuts_are_one_offer_each():
    demand, items = _shop()
    r = infer_promotions(demand, items)
    got = r.promotions[["scope", "start", "end"]].assign(depth=r.promotions["depth"].round(6))
    want = pd.DataFrame({"scope": ["all", "category:B", "sku:A0"], "start": DAYS[[50, 90, 120]],
                         "end": DAYS[[55, 95, 123]], "depth": [0.1, 0.15, 0.2]})
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)
    assert r.promotions["days_priced"].tolist() == [180, 60, 4]
    assert "1 price cut(s)" in r.summary and "1 shop-wide and 1 category-wide" in r.summary
    # without categories a cut on a third of the SKUs is a shop-wide offer
    alone = infer_promotions(demand)
    assert alone.promotions["scope"].tolist() == ["all", "all", "sku:A0"]


def test_bad_input_is_refused_in_words():
    good = _prices(_path())
    with pytest.raises(DataError, match="must have the column 'price'"):
        infer_promotions(good.drop(columns="price"))
    for kwargs, text in (({"min_depth": 0.0}, "min_depth"), ({"min_depth": 1.5}, "min_depth"),
                         ({"window_days": 3}, "window_days"), ({"quantile": 0.0}, "quantile"),
                         ({"wide_share": 2.0}, "wide_share"), ({"single_day_depth": 1.0}, "single_day_depth"),
                         ({"edge_days": -1}, "edge_days")):
        with pytest.raises(DataError, match=text):
            infer_promotions(good, **kwargs)
    with pytest.raises(DataError, match="negative prices"):
        infer_promotions(good.assign(price=-1.0))
    with pytest.raises(DataError, match="'sku' and 'category'"):
        infer_promotions(good, pd.DataFrame({"sku": ["A"]}))
    nothing = infer_promotions(good.assign(price=np.nan))
    assert nothing.promotions.empty and nothing.days.empty


def test_demo_shop_offers_are_found_where_the_promotions_table_has_them():
    from opslib.promo.response import promotion_exposure

    ws = opslib.load_demo()
    r = infer_promotions(ws.demand, ws.items)
    table = ws.promotions
    # the shop-wide 满减 of 618 and Double 11: each found as one shop-wide offer over at least 90% of its days
    inferred_all = r.promotions[r.promotions["scope"] == "all"]
    for t in table[(table["scope"] == "all") & (table["mechanic"] == "threshold")].itertuples():
        days = pd.date_range(t.start, t.end)
        covered = max(((days >= i.start) & (days <= i.end)).mean() for i in inferred_all.itertuples())
        assert covered >= 0.9, t.promo_id
    # the single-SKU percent-off days with a sale: found, at the table's depth
    own = table[table["scope"].str.startswith("sku:") & (table["mechanic"] == "percent_off")]
    exposure = promotion_exposure(own, ws.items)[["sku", "date", "depth"]].rename(columns={"depth": "depth_table"})
    days = r.days.merge(exposure, on=["sku", "date"])
    days = days[days["price"].notna()]
    found = days["promo_id"].notna()
    assert found.mean() >= 0.95
    single = days[found & days["promo_id"].str.match(r"inferred-[A-Z]{2}\d{4}-")]
    assert len(single) >= 0.8 * len(days) and np.abs(single["cut"] - single["depth_table"]).max() < 0.002
    # and most SKU cuts it writes are the table's line-level offers (the rest: order-level discounts)
    line = promotion_exposure(table, ws.items).query("level == 'line'")
    on_line = set(zip(line["sku"], line["date"]))
    rows = r.promotions[r.promotions["scope"].str.startswith("sku:")]
    hit = [any((s, d) in on_line for d in pd.date_range(a, b)) for s, a, b in
           zip(rows["scope"].str[4:], rows["start"], rows["end"])]
    assert np.mean(hit) >= 0.8


M5 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "m5_tiny_real"


@pytest.mark.skipif(not (M5 / "sell_prices.csv").exists(), reason="needs ../shared/data/m5_tiny_real")
def test_m5_cuts_are_weeks_below_the_shelf_price_before_and_after():
    from opslib.data.importers import from_m5

    ws = from_m5(M5)
    r = infer_promotions(ws.demand, ws.items)
    assert len(r.promotions) >= 1 and set(r.promotions["scope"].str[:4]) == {"sku:"}
    prices = pd.read_csv(M5 / "sell_prices.csv")
    calendar = pd.read_csv(M5 / "calendar.csv", usecols=["date", "wm_yr_wk"], parse_dates=["date"])
    for row in r.promotions.itertuples():
        item, store = row.scope[4:].rsplit("_", 2)[0], "_".join(row.scope[4:].rsplit("_", 2)[1:])
        weekly = prices[(prices["item_id"] == item) & (prices["store_id"] == store)].set_index("wm_yr_wk")["sell_price"]
        weeks = calendar.set_index("date").loc[row.start:row.end, "wm_yr_wk"].unique()
        cut = weekly.loc[weeks].median()
        before, after = weekly.loc[:weeks.min() - 1].iloc[-1], weekly.loc[weeks.max() + 1:].iloc[0]
        assert cut <= 0.95 * min(before, after), row.promo_id
        assert row.depth == pytest.approx(1 - cut / max(before, after), abs=0.02), row.promo_id
