"""opslib.promo.mechanics: hand-computed cases for every mechanic, and properties.

Formulas: promotion notes, section 3.1 (mechanics), 3.4 (flash sales), 3.5
(coupons), 3.6 (points, IFRS 15 B39-B43); allocation as macrozheng/mall
``OmsPromotionServiceImpl``: ``reduce_i = price_i / total * reducePrice``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opslib import DataError
from opslib.data import PROMO_MECHANICS
from opslib.promo import (
    Tier,
    apply_to_basket,
    buy_one_get_one,
    coupon,
    flash_sale,
    gift_with_purchase,
    item_count_discount,
    loyalty_points,
    parse_tiers,
    percent_off,
    promotion_terms,
    repeating_threshold_discount,
    second_item_half_price,
    threshold_discount,
)

# --------------------------------------------------------------------------- hand-computed


def test_percent_off_with_funding():
    r = percent_off(100.0, 3, 0.2, funding_share=0.5)
    assert (r.list_value, r.customer_pays, r.discount, r.retailer_cost) == (300, 240, 60, 30)


def test_threshold_single_tier_manjian_300_minus_30():
    r = threshold_discount(320, "300:30")
    assert (r.customer_pays, r.discount, r.tier) == (290, 30, 1)
    assert threshold_discount(299.99, "300:30").discount == 0
    assert threshold_discount(300.00, "300:30").discount == 30  # the edge meets the tier
    assert threshold_discount(0.1 + 0.2 + 299.7, [(300, 30)]).discount == 30  # float noise at the edge


def test_threshold_tiers_highest_tier_met():
    r = threshold_discount(np.array([199, 200, 399, 400, 799]), "200:20|400:50")
    assert r.discount.tolist() == [0, 20, 20, 50, 50]
    assert r.customer_pays.tolist() == [199, 180, 379, 350, 749]
    assert r.tier.tolist() == [0, 1, 1, 2, 2]


def test_repeating_threshold_sawtooth():
    # 每满200减20 on 650: three full 200s -> 60
    r = repeating_threshold_discount(650, 200, 20)
    assert (r.discount, r.customer_pays, r.repeats) == (60, 590, 3)
    values = np.array([199.99, 200, 399.99, 400, 650])
    assert repeating_threshold_discount(values, 200, 20).discount.tolist() == [0, 20, 20, 40, 60]
    # 最高减40
    assert repeating_threshold_discount(650, 200, 20, cap=40).discount == 40
    r = repeating_threshold_discount(650, 200, 20, cap=50)  # a cap inside a step
    assert (r.discount, r.repeats) == (50, 3)


def test_item_count_ladder():
    # 满2件9折, 满3件8折 on 1, 2, 3, 5 items worth 300
    r = item_count_discount(300.0, np.array([1, 2, 3, 5]), "2:0.1|3:0.2")
    assert r.discount.tolist() == pytest.approx([0, 30, 60, 60])
    assert r.tier.tolist() == [0, 1, 2, 2]


def test_bogo_three_units_pay_for_two():
    r = buy_one_get_one(10.0, 3)
    assert (r.customer_pays, r.discount, r.units_free) == (20, 10, 1)
    assert buy_one_get_one(10.0, np.array([0, 1, 2, 4])).customer_pays.tolist() == [0, 10, 10, 20]


def test_second_item_half_price_three_units():
    r = second_item_half_price(10.0, 3)
    assert (r.customer_pays, r.discount, r.units_discounted, r.units_free) == (25, 5, 1, 0)
    # two units for 1.5 p: a 25% discount conditional on buying two
    assert second_item_half_price(40.0, 2).discount / 80 == 0.25


def test_flash_sale_stock_cap_and_limit():
    # 10 units at 60 instead of 100, 2 per customer; 9 already sold: this order of 5 gets 1.
    r = flash_sale(100, 5, 60, stock_cap=10, per_customer_limit=2, units_sold_before=9)
    assert (r.units_at_flash_price, r.units_at_regular_price, r.stock_left) == (1, 4, 0)
    assert (r.customer_pays, r.discount) == (460, 40)
    r = flash_sale(100, 5, 60, stock_cap=10, per_customer_limit=2, funding_share=0.25)
    assert (r.units_at_flash_price, r.discount, r.retailer_cost, r.stock_left) == (2, 80, 60, 8)
    assert flash_sale(100, 5, 60).units_at_flash_price == 5  # no cap, no limit
    assert flash_sale(100, 5, 60, stock_cap=10, units_sold_before=12).discount == 0  # sold out


def test_gift_valued_at_cost():
    r = gift_with_purchase(np.array([299, 300, 500]), 300, 12.5, handling_cost_per_gift=1.5)
    assert r.gifts.tolist() == [0, 1, 1]
    assert r.retailer_cost.tolist() == [0, 14, 14]
    assert r.customer_pays.tolist() == [299, 300, 500] and r.discount.tolist() == [0, 0, 0]


def test_coupon_expected_cost():
    # 满300减30 coupon, 12% redeemed (Complete Journey), half funded by the platform
    r = coupon(np.array([250, 320]), 30, 300, 0.12, funding_share=0.5)
    assert r.eligible.tolist() == [False, True]
    assert r.discount.tolist() == [0, 30]
    assert r.expected_discount.tolist() == pytest.approx([0, 3.6])
    assert r.retailer_cost.tolist() == pytest.approx([0, 1.8])
    # 无门槛券 larger than the basket: capped at the basket value
    assert coupon(8, 10, 0, 1.0).customer_pays == 0


def test_loyalty_points_liability_ifrs15_example():
    # $2,000 sale earns 2,000 points at $0.10, 85% expected redemption -> SSP $170
    r = loyalty_points(2000, 1, 0.10, breakage=0.15)
    assert (r.points_issued, r.points_value, r.customer_pays) == (2000, 200, 2000)
    assert r.retailer_cost == pytest.approx(170)
    # 京豆: 100 = 1 yuan; whole points only
    assert loyalty_points(199.9, 1, 0.01).points_issued == 199


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: percent_off(100, 1, 20), r"percentage: pass depth=0\.2"),
        (lambda: percent_off(100, 1.5, 0.2), "whole units"),
        (lambda: percent_off(-1, 1, 0.2), "non-negative"),
        (lambda: threshold_discount(320, "500:60|300:30"), "strictly increasing"),
        (lambda: threshold_discount(320, "300:30|500:30"), "strictly increasing"),
        (lambda: threshold_discount(320, "30:300"), "no larger than their thresholds"),
        (lambda: threshold_discount(320, "0:0"), "must be positive"),
        (lambda: threshold_discount(320, "300-30"), "threshold:reward"),
        (lambda: repeating_threshold_discount(650, 20, 200), "must not exceed the threshold"),
        (lambda: repeating_threshold_discount(650, 0, 20), "must be positive"),
        (lambda: item_count_discount(300, 3, "2:10"), "percentage"),
        (lambda: item_count_discount(300, 3, "2.5:0.1"), "whole units"),
        (lambda: flash_sale(100, 1, 120), "must not exceed the regular price"),
        (lambda: flash_sale(100, 1, 60, per_customer_limit=0), "must be positive"),
        (lambda: coupon(320, 50, 30, 0.1), "must not exceed a threshold"),
        (lambda: coupon(320, 30, 300, 12), "percentage"),
        (lambda: loyalty_points(100, 1, 0.01, breakage=1.5), "at most 1"),
        (lambda: percent_off(np.array([1.0, np.nan]), 1, 0.2), "finite"),
    ],
)
def test_bad_parameters_are_refused_with_rule_value_and_fix(call, words):
    with pytest.raises(DataError, match=words) as error:
        call()
    assert "received" in str(error.value) and "Fix:" in str(error.value)


def test_parse_tiers_forms():
    expected = (Tier(300, 30), Tier(500, 60))
    assert parse_tiers("300:30|500:60") == expected
    assert parse_tiers(" 300 : 30 | 500:60 ") == expected
    assert parse_tiers("300：30，500：60") == expected  # full-width punctuation
    assert parse_tiers([(300, 30), (500, 60)]) == expected
    assert parse_tiers({300: 30, 500: 60}) == expected


# --------------------------------------------------------------------------- apply_to_basket


def _lines():
    # #1003 of the Shopify fixture: 68 + 2 x 24 + 35 = 151; order b: 3 x 100 = 300
    return pd.DataFrame({
        "order_id": ["a", "a", "a", "b"],
        "sku": ["TEA", "CUP", "POT", "TEA"],
        "qty": [1, 2, 1, 3],
        "list_price": [68.0, 24.0, 35.0, 100.0],
        "category": ["tea", "ware", "ware", "tea"],
    })


def test_basket_threshold_allocated_by_largest_remainder():
    r = apply_to_basket(_lines(), {"promo_id": "P1", "mechanic": "threshold", "scope": "all",
                                   "tiers": "100:5|300:30"})
    # order a: 5.00 on 68, 48, 35 -> 2.25, 1.59, 1.16 (test_importers: 225, 159, 116 cents)
    assert r.lines["discount"].tolist() == [2.25, 1.59, 1.16, 30.0]
    assert r.lines["paid_amount"].tolist() == [65.75, 46.41, 33.84, 270.0]
    assert r.baskets["discount"].tolist() == [5.0, 30.0]
    assert r.baskets["customer_pays"].tolist() == [146.0, 270.0]
    assert r.baskets["order_id"].tolist() == ["a", "b"]


def test_basket_scope_limits_threshold_and_allocation():
    promo = pd.Series({"mechanic": "threshold", "scope": "category:ware", "threshold": 80.0, "reward": 10.0})
    r = apply_to_basket(_lines(), promo)
    # ware in order a: 48 + 35 = 83 >= 80 -> 10 on 48 and 35: 5.78, 4.22; tea gets nothing
    assert r.lines["discount"].tolist() == [0.0, 5.78, 4.22, 0.0]
    assert r.lines["in_scope"].tolist() == [False, True, True, False]
    items = pd.DataFrame({"sku": ["TEA", "CUP", "POT"], "category": ["tea", "ware", "ware"]})
    via_items = apply_to_basket(_lines().drop(columns="category"), promo, items=items)
    assert via_items.lines["discount"].tolist() == r.lines["discount"].tolist()
    sku_scope = apply_to_basket(_lines(), {"mechanic": "threshold", "scope": "sku:CUP|POT",
                                           "threshold": 80, "reward": 10})
    assert sku_scope.lines["discount"].tolist() == r.lines["discount"].tolist()


def test_basket_repeating_item_count_coupon():
    lines = _lines()
    rep = apply_to_basket(lines, {"mechanic": "repeating_threshold", "scope": "all", "threshold": 100,
                                  "reward": 10, "repeats": 2})
    assert rep.baskets["discount"].tolist() == [10.0, 20.0]  # b: 3 x 10 capped at 2 repeats
    count = apply_to_basket(lines, {"mechanic": "item_count", "scope": "all", "threshold": 4, "depth": 0.1})
    assert count.baskets["discount"].tolist() == [15.1, 0.0]  # a has 4 items: 10% of 151
    assert count.lines["discount"].tolist() == [6.8, 4.8, 3.5, 0.0]
    cpn = apply_to_basket(lines, {"mechanic": "coupon", "scope": "all", "threshold": 200, "reward": 20,
                                  "funding_share": 0.5})
    assert cpn.baskets["discount"].tolist() == [0.0, 20.0]
    assert cpn.baskets["retailer_cost"].tolist() == [0.0, 10.0]


def test_basket_item_level_mechanics():
    lines = _lines()
    pct = apply_to_basket(lines, {"mechanic": "percent_off", "scope": "all", "depth": 0.15})
    assert pct.lines["discount"].tolist() == [10.2, 7.2, 5.25, 45.0]
    bogo = apply_to_basket(lines, {"mechanic": "bogo", "scope": "all"})
    assert bogo.lines["discount"].tolist() == [0.0, 24.0, 0.0, 100.0]
    half = apply_to_basket(lines, {"mechanic": "second_half_price", "scope": "all"})
    assert half.lines["discount"].tolist() == [0.0, 12.0, 0.0, 50.0]


def test_basket_flash_sale_in_arrival_order():
    lines = pd.DataFrame({"order_id": ["o1", "o2", "o3", "o3"], "sku": ["X", "X", "X", "Y"],
                          "qty": [3, 3, 2, 1], "list_price": [100.0, 100.0, 100.0, 50.0]})
    promo = {"mechanic": "flash_sale", "scope": "sku:X", "depth": 0.4, "stock_cap": 4, "per_customer_limit": 2}
    r = apply_to_basket(lines, promo)
    # each order takes at most 2 flash units of X; the cap of 4 is gone after o2
    assert r.lines["discount"].tolist() == [80.0, 80.0, 0.0, 0.0]
    # matches the pure function order by order
    assert flash_sale(100, 3, 60, stock_cap=4, per_customer_limit=2, units_sold_before=2).discount == 80


def test_basket_gift_and_points_change_no_price():
    gift = apply_to_basket(_lines(), {"mechanic": "gift", "scope": "all", "threshold": 200, "reward": 12.5})
    assert gift.lines["discount"].sum() == 0
    assert gift.baskets["retailer_cost"].tolist() == [0.0, 12.5]
    assert gift.baskets["qualifies"].tolist() == [False, True]
    points = apply_to_basket(_lines(), {"mechanic": "points", "scope": "all", "depth": 0.02, "breakage": 0.25})
    assert points.baskets["retailer_cost"].tolist() == pytest.approx([151 * 0.02 * 0.75, 300 * 0.02 * 0.75])


def test_basket_without_order_id_is_one_basket():
    r = apply_to_basket(_lines().drop(columns="order_id"), {"mechanic": "threshold", "scope": "all",
                                                             "tiers": "300:30|400:50"})
    assert len(r.baskets) == 1 and r.baskets["discount"].item() == 50.0
    assert r.lines["discount"].sum() == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("promotion", "words"),
    [
        ({"mechanic": "half_off", "scope": "all"}, "must be one of"),
        ({"mechanic": "percent_off", "scope": "all"}, "required by mechanic 'percent_off'"),
        ({"mechanic": "percent_off", "scope": "all", "depth": 20}, r"depth=0\.2"),
        ({"mechanic": "percent_off", "scope": "brand:x", "depth": 0.2}, "scope"),
        ({"mechanic": "threshold", "scope": "all", "threshold": 300}, "tiers"),
        ({"mechanic": "threshold", "scope": "all", "tiers": "400:50|200:20"}, "strictly increasing"),
        ({"mechanic": "threshold", "scope": "all", "threshold": 0, "reward": 0}, "positive"),
        ({"mechanic": "coupon", "scope": "all", "threshold": 100, "reward": 120}, "must not exceed"),
        ({"mechanic": "flash_sale", "scope": "all", "depth": 0.3, "per_customer_limit": 0.5}, "whole number"),
    ],
)
def test_bad_promotions_are_refused(promotion, words):
    with pytest.raises(DataError, match=words) as error:
        promotion_terms(promotion)
    assert "Fix:" in str(error.value)


def test_every_canonical_mechanic_applies():
    params = {"depth": 0.2, "threshold": 100.0, "reward": 10.0, "stock_cap": 3.0}
    for mechanic in PROMO_MECHANICS:
        promo = {"promo_id": mechanic, "mechanic": mechanic, "scope": "all", **params}
        if mechanic == "item_count":
            promo["threshold"] = 2.0
        r = apply_to_basket(_lines(), promo)
        assert (r.lines["paid_amount"] >= 0).all(), mechanic
        assert r.baskets["discount"].sum() == pytest.approx(r.lines["discount"].sum()), mechanic


def test_category_scope_needs_categories():
    with pytest.raises(DataError, match="category"):
        apply_to_basket(_lines().drop(columns="category"), {"mechanic": "bogo", "scope": "category:tea"})


# --------------------------------------------------------------------------- properties

money = st.integers(0, 2_000_00).map(lambda c: c / 100)


@st.composite
def tier_lists(draw):
    n = draw(st.integers(1, 4))
    thresholds = sorted(draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n, unique=True)))
    rewards = []
    for t in thresholds:  # strictly increasing, each at most its threshold
        rewards.append(draw(st.integers(rewards[-1] + 1 if rewards else 1, t)))
    return [(float(t), float(r)) for t, r in zip(thresholds, rewards)]


@settings(max_examples=100, deadline=None)
@given(tier_lists(), st.lists(money, min_size=2, max_size=20))
def test_tier_discount_is_monotone_and_never_above_list(tiers, values):
    values = np.sort(np.array(values))
    r = threshold_discount(values, tiers)
    assert np.all(np.diff(r.discount) >= 0)
    assert np.all(r.customer_pays <= values) and np.all(r.customer_pays >= 0)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500), st.integers(1, 500), st.lists(money, min_size=2, max_size=20))
def test_repeating_discount_is_monotone_and_never_above_list(threshold, reward, values):
    threshold, reward = max(threshold, reward), min(threshold, reward)
    values = np.sort(np.array(values))
    r = repeating_threshold_discount(values, threshold, reward)
    assert np.all(np.diff(r.discount) >= 0)
    assert np.all((r.customer_pays <= values) & (r.customer_pays >= 0))


line_strategy = st.lists(
    st.tuples(st.sampled_from(["o1", "o2", "o3"]), st.sampled_from(["A", "B", "C", "D"]),
              st.integers(0, 6), st.integers(1, 50_000).map(lambda c: c / 100)),
    min_size=1, max_size=15,
)
promotions = st.sampled_from([
    {"mechanic": "threshold", "scope": "all", "tiers": "100:10|300:45|600:100"},
    {"mechanic": "threshold", "scope": "sku:A|B", "threshold": 99.99, "reward": 33.33},
    {"mechanic": "repeating_threshold", "scope": "all", "threshold": 200, "reward": 20},
    {"mechanic": "item_count", "scope": "all", "tiers": "2:0.1|3:0.2|5:0.35"},
    {"mechanic": "coupon", "scope": "all", "threshold": 0, "reward": 50},
    {"mechanic": "percent_off", "scope": "all", "depth": 0.333},
    {"mechanic": "flash_sale", "scope": "all", "depth": 0.5, "stock_cap": 5, "per_customer_limit": 2},
    {"mechanic": "bogo", "scope": "all"},
    {"mechanic": "second_half_price", "scope": "sku:C"},
])


@settings(max_examples=150, deadline=None)
@given(line_strategy, promotions)
def test_basket_allocation_properties(rows, promotion):
    lines = pd.DataFrame(rows, columns=["order_id", "sku", "qty", "list_price"])
    r = apply_to_basket(lines, promotion)
    discount_cents = np.round(r.lines["discount"].to_numpy() * 100).astype(int)
    value_cents = np.round(r.lines["line_value"].to_numpy() * 100).astype(int)
    # no line negative, nobody pays more than list
    assert np.all(discount_cents >= 0) and np.all(discount_cents <= value_cents)
    # allocations sum exactly to each basket's discount
    per_basket = pd.Series(discount_cents).groupby(lines["order_id"].to_numpy()).sum()
    expected = pd.Series(np.round(r.baskets["discount"].to_numpy() * 100).astype(int),
                         index=r.baskets["order_id"])
    assert per_basket.reindex(expected.index).tolist() == expected.tolist()
    # basket-level discounts: proportional to in-scope line value within one cent
    if promotion["mechanic"] in ("threshold", "repeating_threshold", "item_count", "coupon"):
        scoped = value_cents * r.lines["in_scope"].to_numpy()
        totals = pd.Series(scoped).groupby(lines["order_id"].to_numpy()).transform("sum").to_numpy()
        basket_discount = expected.reindex(lines["order_id"]).to_numpy()
        exact = np.divide(basket_discount * scoped, totals, out=np.zeros(len(lines)), where=totals > 0)
        assert np.all(np.abs(discount_cents - exact) < 1 + 1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 100_000).map(lambda c: c / 100), st.integers(0, 20))
def test_multibuy_customer_never_pays_more_than_list(price, qty):
    for r in (buy_one_get_one(price, qty), second_item_half_price(price, qty), percent_off(price, qty, 0.3)):
        assert 0 <= r.customer_pays <= r.list_value + 1e-9
    # BOGO gives at least as much as second-half-price
    assert buy_one_get_one(price, qty).customer_pays <= second_item_half_price(price, qty).customer_pays + 1e-9
