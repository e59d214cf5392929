"""Promotion mechanics: what the customer pays and what the retailer bears.

One pure function per mechanic of ``opslib.data.PROMO_MECHANICS`` (promotion
notes, section 3.1). Each takes prices, quantities or basket values as scalars
or numpy arrays (broadcast together) and returns a frozen result with, at
least,

* ``list_value`` [currency]: the value at list price;
* ``customer_pays`` [currency]: what the customer pays;
* ``discount`` [currency]: ``list_value - customer_pays``;
* ``retailer_cost`` [currency]: what the promotion costs the retailer, after
  the share funded by a supplier or the platform (``funding_share``). For
  price mechanics it is the discount borne; for a gift the gift's unit cost
  (not its retail value); for a coupon the *expected* cost given the
  redemption rate; for points the liability after breakage.

These functions do not round: they are the model. :func:`apply_to_basket`
applies one row of the canonical ``promotions`` table to actual order lines,
in whole cents, and allocates basket-level discounts to the lines with
:func:`opslib.data.money.allocate_cents`.

Money is in the shop's currency; thresholds are compared in whole cents so that
a basket of exactly 300.00 meets 满300.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
import pandas as pd

from opslib.data.money import allocate_cents, to_cents
from opslib.data.schema import PROMO_MECHANICS
from opslib.errors import DataError

__all__ = [
    "MechanicResult",
    "ThresholdResult",
    "RepeatingThresholdResult",
    "FlashSaleResult",
    "MultiBuyResult",
    "GiftResult",
    "CouponResult",
    "PointsResult",
    "Tier",
    "PromotionTerms",
    "BasketDiscount",
    "parse_tiers",
    "percent_off",
    "flash_sale",
    "threshold_discount",
    "repeating_threshold_discount",
    "item_count_discount",
    "second_item_half_price",
    "buy_one_get_one",
    "gift_with_purchase",
    "coupon",
    "loyalty_points",
    "promotion_terms",
    "apply_to_basket",
]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MechanicResult:
    """Customer price and retailer cost of one mechanic [currency].

    Attributes are floats for scalar inputs and numpy arrays otherwise.
    ``discount = list_value - customer_pays``; ``retailer_cost`` is the cost
    borne by the retailer after ``funding_share``.
    """

    list_value: float | np.ndarray
    customer_pays: float | np.ndarray
    discount: float | np.ndarray
    retailer_cost: float | np.ndarray


@dataclass(frozen=True)
class ThresholdResult(MechanicResult):
    """A tiered offer: ``tier`` is the tier met (1 = lowest), 0 when none."""

    tier: int | np.ndarray


@dataclass(frozen=True)
class RepeatingThresholdResult(MechanicResult):
    """每满 offer: ``repeats`` is the number of full thresholds in the basket (before any cap)."""

    repeats: int | np.ndarray


@dataclass(frozen=True)
class FlashSaleResult(MechanicResult):
    """Flash sale of one order: units at the flash price and beyond it [units]."""

    units_at_flash_price: float | np.ndarray
    units_at_regular_price: float | np.ndarray
    stock_left: float | np.ndarray


@dataclass(frozen=True)
class MultiBuyResult(MechanicResult):
    """BOGO or second-item offers: ``units_discounted`` of which ``units_free`` [units]."""

    units_discounted: float | np.ndarray
    units_free: float | np.ndarray


@dataclass(frozen=True)
class GiftResult(MechanicResult):
    """Gift with purchase: ``gifts`` given [units]; ``retailer_cost`` at the gift's cost."""

    gifts: float | np.ndarray


@dataclass(frozen=True)
class CouponResult(MechanicResult):
    """A coupon: ``customer_pays`` and ``discount`` are those of a redeemed coupon.

    ``expected_discount = redemption_rate * discount`` and ``retailer_cost`` is
    its share borne by the retailer: the expected cost of issuing the coupon.
    """

    eligible: bool | np.ndarray
    expected_discount: float | np.ndarray


@dataclass(frozen=True)
class PointsResult(MechanicResult):
    """Loyalty points: ``points_issued`` [points], ``points_value`` at face [currency].

    ``retailer_cost`` is the liability ``points_value * (1 - breakage)``.
    """

    points_issued: float | np.ndarray
    points_value: float | np.ndarray


def _result(cls, **values):
    out = {}
    for f in fields(cls):
        array = np.asarray(values[f.name])
        out[f.name] = array.item() if array.ndim == 0 else array
    return cls(**out)


# --------------------------------------------------------------------------- validation


def _fail(function: str, parameter: str, rule: str, received, fix: str):
    raise DataError(f"{function}: parameter {parameter!r} {rule}; received {_show(received)}. Fix: {fix}")


def _show(values) -> str:
    array = np.asarray(values).ravel()
    if array.size == 1:
        return repr(array[0].item() if hasattr(array[0], "item") else array[0])
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in array[:5])
    return shown + (f" (and {array.size - 5} more)" if array.size > 5 else "")


def _number(function, name, value, *, positive=False):
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        _fail(function, name, "must be a number or an array of numbers", value, f"pass {name} as numbers.")
    bad = ~np.isfinite(array) | (array <= 0 if positive else array < 0)
    if bad.any():
        rule = "must be positive" if positive else "must be non-negative"
        _fail(function, name, f"{rule} and finite", array[bad], f"check {name}; missing values must be filled.")
    return array


def _whole(function, name, value, *, positive=False):
    array = _number(function, name, value, positive=positive)
    bad = array != np.round(array)
    if bad.any():
        _fail(function, name, "must be whole units", array[bad], f"round {name} to whole units.")
    return array


def _fraction(function, name, value, *, positive=False):
    array = _number(function, name, value)
    bad = array > 1
    if bad.any():
        hint = (f"it looks like a percentage: pass {name}={_show(array[bad] / 100)} for "
                f"{_show(array[bad])}%." if np.all(array[bad] <= 100) else f"pass {name} as a fraction in [0, 1].")
        _fail(function, name, "is a fraction of the price, at most 1", array[bad], hint)
    if positive and np.any(array == 0):
        _fail(function, name, "must be above 0", value, f"pass the fraction off, e.g. {name}=0.2 for 20% off.")
    return array


def _cents(array) -> np.ndarray:
    # Comparison at the cent: 299.999999 (float noise) meets a 300 threshold, 299.99 does not.
    return np.floor(np.round(np.asarray(array, dtype=float) * 100, 6) + 0.5)


# --------------------------------------------------------------------------- tiers


class Tier(NamedTuple):
    """One tier of a threshold offer: from ``threshold`` on, ``reward`` off.

    For 满减 both are money (满300减30: ``Tier(300, 30)``); for an item-count
    ladder ``threshold`` is a number of items and ``reward`` the fraction off
    (满2件9折: ``Tier(2, 0.1)``).
    """

    threshold: float
    reward: float


def parse_tiers(tiers, *, kind: str = "money") -> tuple[Tier, ...]:
    """Read tiers from ``"300:30|500:60"``, pairs or a mapping, and check them.

    Parameters
    ----------
    tiers : str, sequence of (threshold, reward) or mapping threshold -> reward
        The tiers, lowest first. The string form is the ``tiers`` column of
        the ``promotions`` table.
    kind : {"money", "items"}
        ``"money"``: thresholds and rewards in currency, each reward at most
        its threshold (a basket is never paid below zero). ``"items"``:
        thresholds are whole numbers of items and rewards fractions off
        (item-count ladders, ``"2:0.1|3:0.2"`` = 满2件9折, 满3件8折).

    Returns
    -------
    tuple of Tier
        Thresholds and rewards both strictly increasing.
    """
    function = "parse_tiers"
    if isinstance(tiers, str):
        pairs = []
        for part in tiers.replace("：", ":").replace("，", "|").replace(",", "|").split("|"):
            if not part.strip():
                continue
            pieces = part.split(":")
            try:
                if len(pieces) != 2:
                    raise ValueError
                pairs.append((float(pieces[0]), float(pieces[1])))
            except ValueError:
                _fail(function, "tiers", 'must read "threshold:reward|threshold:reward"', tiers,
                      'write the tiers as "300:30|500:60" (满300减30, 满500减60).')
    elif isinstance(tiers, Mapping):
        pairs = [(float(k), float(v)) for k, v in tiers.items()]
    elif isinstance(tiers, Sequence) or isinstance(tiers, np.ndarray):
        try:
            pairs = [(float(a), float(b)) for a, b in tiers]
        except (TypeError, ValueError):
            _fail(function, "tiers", "must be (threshold, reward) pairs", tiers,
                  "pass [(300, 30), (500, 60)] or \"300:30|500:60\".")
    else:
        _fail(function, "tiers", "must be a string, pairs or a mapping", tiers, 'pass "300:30|500:60".')
    if not pairs:
        _fail(function, "tiers", "must hold at least one tier", tiers, 'pass "300:30" for 满300减30.')
    thresholds = np.array([p[0] for p in pairs])
    rewards = np.array([p[1] for p in pairs])
    _number(function, "tiers thresholds", thresholds, positive=True)
    if kind == "items":
        _whole(function, "tiers thresholds (items)", thresholds, positive=True)
        _fraction(function, "tiers rewards (fraction off)", rewards, positive=True)
    elif kind == "money":
        _number(function, "tiers rewards", rewards, positive=True)
        above = rewards > thresholds
        if above.any():
            _fail(function, "tiers", "must give rewards no larger than their thresholds", tiers,
                  "check the order threshold:reward (满300减30 is \"300:30\").")
    else:
        raise DataError(f"parse_tiers: parameter 'kind' must be 'money' or 'items'; received {kind!r}. "
                        "Fix: pass kind='money' or kind='items'.")
    if np.any(np.diff(thresholds) <= 0) or np.any(np.diff(rewards) <= 0):
        _fail(function, "tiers", "must have strictly increasing thresholds and rewards, lowest tier first", tiers,
              "sort the tiers by threshold and drop tiers that give no more than a lower one.")
    return tuple(Tier(float(t), float(r)) for t, r in zip(thresholds, rewards))


# --------------------------------------------------------------------------- mechanics


def percent_off(price, qty, depth, *, funding_share=0.0) -> MechanicResult:
    """Percent off the price of every unit (直降, 打折).

    Parameters
    ----------
    price : float or array-like
        List price per unit [currency/unit].
    qty : float or array-like
        Units bought [units].
    depth : float or array-like
        Fraction off [fraction of price], 0.2 = 20% off (八折).
    funding_share : float or array-like
        Share of the discount funded by a supplier or the platform [fraction].

    Returns
    -------
    MechanicResult

    Notes
    -----
    ``customer_pays = qty p (1 - d)``, ``retailer_cost = qty p d (1 - a)``
    (promotion notes, section 3.1).
    """
    f = "percent_off"
    p, q = _number(f, "price", price), _whole(f, "qty", qty)
    d, a = _fraction(f, "depth", depth), _fraction(f, "funding_share", funding_share)
    value = p * q
    discount = value * d
    return _result(MechanicResult, list_value=value, customer_pays=value - discount, discount=discount,
                   retailer_cost=discount * (1 - a))


def flash_sale(price, qty, flash_price, stock_cap=None, per_customer_limit=None, units_sold_before=0, *,
               funding_share=0.0) -> FlashSaleResult:
    """A flash sale (限时秒杀) for one order: flash price within a stock cap and a per-customer limit.

    Parameters
    ----------
    price : float or array-like
        Regular price [currency/unit].
    qty : float or array-like
        Units in the order [units].
    flash_price : float or array-like
        Flash price [currency/unit], at most ``price``.
    stock_cap : float or array-like, optional
        Units offered at the flash price over the whole sale [units]; ``None``:
        no cap.
    per_customer_limit : float or array-like, optional
        Most flash-priced units one order may take [units]; ``None``: no limit.
    units_sold_before : float or array-like
        Flash-priced units already sold to earlier orders [units].
    funding_share : float or array-like
        Share of the markdown funded by a supplier or the platform [fraction].

    Returns
    -------
    FlashSaleResult

    Notes
    -----
    ``units_at_flash_price = min(qty, limit, max(cap - sold_before, 0))``;
    units beyond it are charged the regular price (how the platforms treat
    units over the limit or after sell-out; a caller who models those units as
    lost takes ``units_at_regular_price`` out). ``retailer_cost = (p - p_f)
    units_at_flash_price (1 - a)`` (notes, section 3.4: sales censored at the
    cap).
    """
    f = "flash_sale"
    p, q, pf = _number(f, "price", price), _whole(f, "qty", qty), _number(f, "flash_price", flash_price)
    above = np.broadcast_to(pf > p, np.broadcast_shapes(pf.shape, p.shape))
    if above.any():
        _fail(f, "flash_price", "must not exceed the regular price", np.broadcast_to(pf, above.shape)[above],
              "pass the flash price per unit, below the regular price.")
    cap = np.inf if stock_cap is None else _whole(f, "stock_cap", stock_cap)
    limit = np.inf if per_customer_limit is None else _whole(f, "per_customer_limit", per_customer_limit,
                                                             positive=True)
    sold = _whole(f, "units_sold_before", units_sold_before)
    a = _fraction(f, "funding_share", funding_share)
    flash_units = np.minimum(np.minimum(q, limit), np.maximum(cap - sold, 0))
    regular_units = q - flash_units
    value = p * q
    discount = (p - pf) * flash_units
    return _result(FlashSaleResult, list_value=value, customer_pays=value - discount, discount=discount,
                   retailer_cost=discount * (1 - a), units_at_flash_price=flash_units,
                   units_at_regular_price=regular_units, stock_left=np.maximum(cap - sold - flash_units, 0))


def threshold_discount(basket_value, tiers, *, funding_share=0.0) -> ThresholdResult:
    """满减: money off a basket that reaches a threshold; with tiers, the highest tier met.

    Parameters
    ----------
    basket_value : float or array-like
        Value of the qualifying items in the basket [currency].
    tiers : str or sequence of (threshold, reward)
        ``"300:30"`` for 满300减30, ``"200:20|400:50"`` for tiers
        (see :func:`parse_tiers`). Thresholds and rewards [currency].
    funding_share : float or array-like
        Share of the discount funded by a supplier or the platform [fraction].

    Returns
    -------
    ThresholdResult

    Notes
    -----
    ``discount = Y_k`` for the highest ``k`` with ``basket_value >= X_k``
    (compared in cents), else 0. The effective rate is ``Y/X`` at the
    threshold and lower above it (notes, section 3.1; macrozheng/mall type 4).
    """
    f = "threshold_discount"
    v = _number(f, "basket_value", basket_value)
    a = _fraction(f, "funding_share", funding_share)
    parsed = parse_tiers(tiers)
    thresholds = _cents([t.threshold for t in parsed])
    rewards = np.concatenate([[0.0], [t.reward for t in parsed]])
    tier = np.searchsorted(thresholds, _cents(v), side="right")
    discount = rewards[tier]
    return _result(ThresholdResult, list_value=v, customer_pays=v - discount, discount=discount,
                   retailer_cost=discount * (1 - a), tier=tier)


def repeating_threshold_discount(basket_value, threshold, reward, cap=None, *,
                                 funding_share=0.0) -> RepeatingThresholdResult:
    """每满X减Y: ``reward`` off for every full ``threshold`` in the basket, up to ``cap``.

    Parameters
    ----------
    basket_value : float or array-like
        Value of the qualifying items [currency].
    threshold : float
        X [currency], above 0.
    reward : float
        Y [currency], above 0 and at most X.
    cap : float, optional
        Largest discount per basket [currency] (最高减); ``None``: no cap (上不封顶).
    funding_share : float or array-like
        Share of the discount funded by a supplier or the platform [fraction].

    Returns
    -------
    RepeatingThresholdResult

    Notes
    -----
    ``discount = min(floor(v / X) Y, cap)`` (a cap inside a step gives part of
    a reward, as 最高减50 does on 每满200减20 at 650): a sawtooth in the effective rate
    below each multiple of X (notes, section 3.1). 每满200减20 on 650 gives 60.
    """
    f = "repeating_threshold_discount"
    v = _number(f, "basket_value", basket_value)
    x, y = _number(f, "threshold", threshold, positive=True), _number(f, "reward", reward, positive=True)
    if np.any(y > x):
        _fail(f, "reward", "must not exceed the threshold", reward,
              "check the order: 每满200减20 is threshold=200, reward=20.")
    a = _fraction(f, "funding_share", funding_share)
    repeats = np.floor_divide(_cents(v), _cents(x))
    discount = repeats * y
    if cap is not None:
        discount = np.minimum(discount, _number(f, "cap", cap))
    return _result(RepeatingThresholdResult, list_value=v, customer_pays=v - discount, discount=discount,
                   retailer_cost=discount * (1 - a), repeats=repeats.astype(np.int64))


def item_count_discount(basket_value, item_count, ladder, *, funding_share=0.0) -> ThresholdResult:
    """满N件折: a fraction off the basket once it holds N items; with a ladder, the highest rung met.

    Parameters
    ----------
    basket_value : float or array-like
        Value of the qualifying items [currency].
    item_count : float or array-like
        Qualifying items in the basket [units].
    ladder : str or sequence of (items, depth)
        ``"2:0.1"`` for 满2件9折 (2 items, 10% off); ``"2:0.1|3:0.2"`` adds
        满3件8折 (see :func:`parse_tiers` with ``kind="items"``).
    funding_share : float or array-like
        Share of the discount funded by a supplier or the platform [fraction].

    Returns
    -------
    ThresholdResult
        ``tier`` is the rung met (1 = lowest), 0 when none.

    Notes
    -----
    ``discount = v d_k`` for the highest ``k`` with ``n >= N_k``
    (macrozheng/mall type 3, 阶梯打折).
    """
    f = "item_count_discount"
    v, n = _number(f, "basket_value", basket_value), _whole(f, "item_count", item_count)
    a = _fraction(f, "funding_share", funding_share)
    rungs = parse_tiers(ladder, kind="items")
    depths = np.concatenate([[0.0], [r.reward for r in rungs]])
    tier = np.searchsorted([r.threshold for r in rungs], n, side="right")
    discount = v * depths[tier]
    return _result(ThresholdResult, list_value=np.broadcast_to(v, discount.shape), customer_pays=v - discount,
                   discount=discount, retailer_cost=discount * (1 - a), tier=tier)


def _every_nth_unit(function, price, qty, depth_on_nth, funding_share, n=2) -> MultiBuyResult:
    p, q = _number(function, "price", price), _whole(function, "qty", qty)
    a = _fraction(function, "funding_share", funding_share)
    discounted = np.floor_divide(q, n)
    value = p * q
    discount = discounted * p * depth_on_nth
    free = discounted if depth_on_nth == 1 else np.zeros_like(discounted)
    return _result(MultiBuyResult, list_value=value, customer_pays=value - discount, discount=discount,
                   retailer_cost=discount * (1 - a), units_discounted=discounted, units_free=free)


def second_item_half_price(price, qty, *, funding_share=0.0) -> MultiBuyResult:
    """第二件半价: every second unit of the same item at half price.

    Parameters
    ----------
    price : float or array-like
        Price per unit [currency/unit].
    qty : float or array-like
        Units of that item [units].
    funding_share : float or array-like
        Share of the discount funded by a supplier or the platform [fraction].

    Returns
    -------
    MultiBuyResult

    Notes
    -----
    ``discount = floor(q/2) p / 2``: 2 units for ``1.5 p``, a 25% discount
    conditional on buying two (notes, section 3.1). 3 units pay ``2.5 p``.
    """
    return _every_nth_unit("second_item_half_price", price, qty, 0.5, funding_share)


def buy_one_get_one(price, qty, *, funding_share=0.0) -> MultiBuyResult:
    """BOGO (买一送一): every second unit of the same item free.

    Parameters
    ----------
    price : float or array-like
        Price per unit [currency/unit].
    qty : float or array-like
        Units of that item, the free ones included [units].
    funding_share : float or array-like
        Share of the discount funded by a supplier or the platform [fraction].

    Returns
    -------
    MultiBuyResult

    Notes
    -----
    ``units_free = floor(q/2)``: 2 units for ``p``, a 50% discount
    conditional on buying two. 3 units pay for 2.
    """
    return _every_nth_unit("buy_one_get_one", price, qty, 1.0, funding_share)


def gift_with_purchase(basket_value, threshold, gift_unit_cost, *, gifts_per_basket=1,
                       handling_cost_per_gift=0.0, funding_share=0.0) -> GiftResult:
    """满赠 / 买赠: a gift once the basket reaches a threshold, valued at its cost.

    Parameters
    ----------
    basket_value : float or array-like
        Value of the qualifying items [currency].
    threshold : float or array-like
        Basket value that earns the gift [currency]; 0 for a gift on any
        purchase (买赠).
    gift_unit_cost : float or array-like
        Cost of one gift to the retailer (COGS, not its retail value)
        [currency/unit].
    gifts_per_basket : float
        Gifts per qualifying basket [units].
    handling_cost_per_gift : float
        Packing and handling per gift [currency/unit].
    funding_share : float or array-like
        Share of the gift cost funded by a supplier [fraction].

    Returns
    -------
    GiftResult
        The customer pays the basket value (no price change, ``discount`` 0).

    Notes
    -----
    ``retailer_cost = gifts (c_gift + handling) (1 - a)`` (notes, sections
    2.5 and 3.1: the gift is booked at cost).
    """
    f = "gift_with_purchase"
    v, x = _number(f, "basket_value", basket_value), _number(f, "threshold", threshold)
    c = _number(f, "gift_unit_cost", gift_unit_cost)
    k = _whole(f, "gifts_per_basket", gifts_per_basket, positive=True)
    h = _number(f, "handling_cost_per_gift", handling_cost_per_gift)
    a = _fraction(f, "funding_share", funding_share)
    qualifies = (_cents(v) >= _cents(x)) & (v > 0)
    gifts = qualifies * k
    return _result(GiftResult, list_value=v, customer_pays=v, discount=np.zeros_like(v),
                   retailer_cost=gifts * (c + h) * (1 - a), gifts=gifts)


def coupon(basket_value, face_value, threshold, redemption_rate, *, funding_share=0.0) -> CouponResult:
    """A coupon (店铺券, 平台券, 满减券): face value off a basket over a threshold, if redeemed.

    Parameters
    ----------
    basket_value : float or array-like
        Value of the qualifying items [currency].
    face_value : float or array-like
        Money off [currency], above 0.
    threshold : float or array-like
        Basket value the coupon needs [currency]; 0 for 无门槛券. When above 0,
        at least the face value.
    redemption_rate : float or array-like
        Share of issued coupons redeemed [fraction] (notes, section 3.5:
        6-17% for targeted and downloaded coupons).
    funding_share : float or array-like
        Share of the face value funded by a supplier or the platform [fraction].

    Returns
    -------
    CouponResult
        ``customer_pays`` and ``discount`` if the coupon is redeemed;
        ``expected_discount`` and ``retailer_cost`` per coupon issued.

    Notes
    -----
    ``discount = min(F, v)`` when ``v >= X``; ``retailer_cost = r discount
    (1 - a)``: only redeemed coupons cost money (notes, section 2.5).
    """
    f = "coupon"
    v = _number(f, "basket_value", basket_value)
    face, x = _number(f, "face_value", face_value, positive=True), _number(f, "threshold", threshold)
    if np.any((x > 0) & (face > x)):
        _fail(f, "face_value", "must not exceed a threshold above 0", face,
              "check the order: 满100减20 is threshold=100, face_value=20; use threshold=0 for 无门槛券.")
    r = _fraction(f, "redemption_rate", redemption_rate)
    a = _fraction(f, "funding_share", funding_share)
    eligible = (_cents(v) >= _cents(x)) & (v > 0)
    discount = np.where(eligible, np.minimum(face, v), 0.0)
    expected = r * discount
    return _result(CouponResult, list_value=v, customer_pays=v - discount, discount=discount,
                   retailer_cost=expected * (1 - a), eligible=eligible, expected_discount=expected)


def loyalty_points(paid_value, earn_rate, point_value, breakage=0.0, *, whole_points=True) -> PointsResult:
    """Loyalty points (积分, 京豆) earned on a purchase and the liability they create.

    Parameters
    ----------
    paid_value : float or array-like
        Amount paid [currency].
    earn_rate : float or array-like
        Points earned per unit of currency paid [points/currency].
    point_value : float or array-like
        Face value of one point when burned [currency/point] (京豆: 0.01).
    breakage : float or array-like
        Share of points never redeemed [fraction].
    whole_points : bool
        Issue whole points only (rounded down), as programs do.

    Returns
    -------
    PointsResult
        The customer pays ``paid_value`` now (``discount`` 0); ``retailer_cost``
        is the liability.

    Notes
    -----
    ``liability = points v (1 - breakage)``: the stand-alone selling price of
    the points under IFRS 15 (B39-B43), net of expected breakage (notes,
    section 3.6).
    """
    f = "loyalty_points"
    v = _number(f, "paid_value", paid_value)
    e, pv = _number(f, "earn_rate", earn_rate), _number(f, "point_value", point_value, positive=True)
    b = _fraction(f, "breakage", breakage)
    points = v * e
    if whole_points:
        points = np.floor(np.round(points, 9))
    face = points * pv
    return _result(PointsResult, list_value=v, customer_pays=v, discount=np.zeros_like(face),
                   retailer_cost=face * (1 - b), points_issued=points, points_value=face)


# --------------------------------------------------------------------------- promotions table


@dataclass(frozen=True)
class PromotionTerms:
    """The terms of one ``promotions`` row, checked (see :func:`promotion_terms`)."""

    promo_id: str | None
    mechanic: str
    scope: str
    depth: float | None = None
    threshold: float | None = None
    reward: float | None = None
    tiers: tuple[Tier, ...] = ()
    cap: float | None = None
    stock_cap: float | None = None
    per_customer_limit: float | None = None
    funding_share: float = 0.0
    breakage: float = 0.0


_NEEDS = {
    "percent_off": ("depth",),
    "threshold": (),  # threshold and reward, or tiers
    "repeating_threshold": ("threshold", "reward"),
    "item_count": (),  # threshold and depth, or tiers
    "flash_sale": ("depth",),
    "second_half_price": (),
    "bogo": (),
    "gift": ("threshold", "reward"),
    "coupon": ("threshold", "reward"),
    "points": ("depth",),
}


def _field(row, name):
    value = row.get(name) if isinstance(row, Mapping) or isinstance(row, pd.Series) else None
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, str) and not value.strip():
        return None
    return value


def promotion_terms(promotion) -> PromotionTerms:
    """Check one row of the canonical ``promotions`` table and read its terms.

    Parameters
    ----------
    promotion : pandas.Series, mapping or one-row DataFrame
        ``mechanic`` (one of ``PROMO_MECHANICS``) and ``scope`` are required;
        the mechanic says which of ``depth``, ``threshold``, ``reward``,
        ``tiers``, ``stock_cap`` it needs (``opslib.data.schema``). Extra
        columns read when present: ``cap`` (最高减, money) or ``repeats`` (most
        rewards) for ``repeating_threshold``, ``per_customer_limit`` for
        ``flash_sale``, ``breakage`` for ``points``.

    Returns
    -------
    PromotionTerms
    """
    f = "promotion_terms"
    if isinstance(promotion, pd.DataFrame):
        if len(promotion) != 1:
            _fail(f, "promotion", "must be one row of the promotions table", f"{len(promotion)} rows",
                  "select one promotion, e.g. promotions.iloc[0].")
        promotion = promotion.iloc[0]
    if not isinstance(promotion, (Mapping, pd.Series)):
        _fail(f, "promotion", "must be a row of the promotions table (Series or dict)", type(promotion).__name__,
              "pass promotions.iloc[i] or a dict with mechanic, scope and the mechanic's columns.")
    mechanic = _field(promotion, "mechanic")
    promo_id = _field(promotion, "promo_id")
    where = f"promotion {promo_id!r}" if promo_id is not None else "promotion"
    if mechanic not in PROMO_MECHANICS:
        _fail(f, "mechanic", f"of {where} must be one of {', '.join(PROMO_MECHANICS)}", mechanic,
              "use the canonical mechanic names (opslib.data.PROMO_MECHANICS).")
    scope = _field(promotion, "scope")
    scope = "all" if scope is None else str(scope).strip()
    _scope_rule(scope)
    for name in _NEEDS[mechanic]:
        if _field(promotion, name) is None:
            _fail(f, name, f"is required by mechanic {mechanic!r} ({where})", None,
                  f"fill the {name} column of this promotion (opslib.data.schema: PROMO_MECHANICS).")

    def number(name):
        value = _field(promotion, name)
        if value is None:
            return None
        checker = _fraction if name in ("depth", "funding_share", "breakage") else _number
        return float(checker(f"{f} ({where})", name, value))

    depth, threshold, reward = number("depth"), number("threshold"), number("reward")
    tiers: tuple[Tier, ...] = ()
    if mechanic in ("threshold", "item_count"):
        text = _field(promotion, "tiers")
        kind = "items" if mechanic == "item_count" else "money"
        if text is not None:
            tiers = parse_tiers(text, kind=kind)
        elif mechanic == "threshold" and threshold is not None and reward is not None:
            tiers = parse_tiers([(threshold, reward)], kind=kind)
        elif mechanic == "item_count" and threshold is not None and depth is not None:
            tiers = parse_tiers([(threshold, depth)], kind=kind)
        else:
            need = "threshold and reward" if mechanic == "threshold" else "threshold (items) and depth"
            _fail(f, "tiers", f"or {need} are required by mechanic {mechanic!r} ({where})", None,
                  f"fill tiers (\"300:30|500:60\") or {need}.")
    if mechanic == "repeating_threshold":
        if threshold <= 0 or reward <= 0 or reward > threshold:
            _fail(f, "threshold, reward", f"must satisfy 0 < reward <= threshold ({where})", (threshold, reward),
                  "每满200减20 is threshold=200, reward=20.")
    if mechanic in ("gift", "coupon") and reward <= 0:
        _fail(f, "reward", f"must be above 0 ({where}: gift cost or coupon face value)", reward,
              "fill reward with the gift's unit cost or the coupon's face value.")
    if mechanic == "coupon" and 0 < threshold < reward:
        _fail(f, "reward", f"must not exceed a threshold above 0 ({where})", reward,
              "满100减20 is threshold=100, reward=20; use threshold=0 for 无门槛券.")
    if mechanic in ("percent_off", "flash_sale", "points") and depth == 0:
        _fail(f, "depth", f"must be above 0 ({where})", depth, "pass the fraction, e.g. 0.2 for 20% off.")
    cap = number("cap")
    repeats = number("repeats")
    if repeats is not None:
        cap = repeats * reward if cap is None else min(cap, repeats * reward)
    limit = number("per_customer_limit")
    if limit is not None and (limit < 1 or limit != round(limit)):
        _fail(f, "per_customer_limit", f"must be a whole number of units, at least 1 ({where})", limit,
              "leave it empty for no limit.")
    return PromotionTerms(
        promo_id=None if promo_id is None else str(promo_id), mechanic=mechanic, scope=scope, depth=depth,
        threshold=threshold, reward=reward, tiers=tiers, cap=cap, stock_cap=number("stock_cap"),
        per_customer_limit=limit, funding_share=number("funding_share") or 0.0,
        breakage=number("breakage") or 0.0,
    )


def _scope_rule(scope: str):
    kind, _, rest = scope.partition(":")
    if scope == "all" or (kind in ("category", "sku") and rest.strip()):
        return kind, [s.strip() for s in rest.split("|") if s.strip()]
    _fail("promotion_terms", "scope", "must be 'all', 'category:<category>' or 'sku:<sku>[|<sku>...]'", scope,
          "write e.g. 'category:tea' or 'sku:A1|A2'.")


@dataclass(frozen=True)
class BasketDiscount:
    """A promotion applied to order lines (see :func:`apply_to_basket`).

    Attributes
    ----------
    lines : pandas.DataFrame
        The lines with ``in_scope``, ``line_value`` (qty x list_price),
        ``discount`` and ``paid_amount`` [currency, whole cents].
    baskets : pandas.DataFrame
        One row per basket (``order_id``): ``list_value``, ``discount``,
        ``customer_pays``, ``retailer_cost`` [currency] and ``qualifies``.
    terms : PromotionTerms
    """

    lines: pd.DataFrame
    baskets: pd.DataFrame
    terms: PromotionTerms


def apply_to_basket(lines: pd.DataFrame, promotion, *, items: pd.DataFrame | None = None,
                    units_sold_before: float = 0) -> BasketDiscount:
    """Apply one row of the ``promotions`` table to order lines, in whole cents.

    Parameters
    ----------
    lines : pandas.DataFrame
        Order lines with ``sku``, ``qty`` [units] and ``list_price``
        [currency/unit]; ``order_id`` when there are several baskets (each
        order is one basket; without it all lines form one basket), and
        ``category`` for a ``category:`` scope (or pass ``items``). For flash
        sales the row order is the order of arrival.
    promotion : pandas.Series, mapping or one-row DataFrame
        A row of the canonical ``promotions`` table (see
        :func:`promotion_terms`).
    items : pandas.DataFrame, optional
        The ``items`` table, for the category of each SKU.
    units_sold_before : float
        Flash sales: units of each SKU sold at the flash price before these
        lines [units].

    Returns
    -------
    BasketDiscount

    Notes
    -----
    Only lines in the promotion's scope count towards thresholds and receive
    a discount. Item-level mechanics (``percent_off``, ``flash_sale``,
    ``second_half_price``, ``bogo``) price each line: the promotional unit price
    is rounded to the cent. ``second_half_price`` and ``bogo`` pair units of
    the same line (same SKU). Basket-level mechanics (``threshold``,
    ``repeating_threshold``, ``item_count``, ``coupon``) compute the basket's
    discount in cents and allocate it to its in-scope lines in proportion to
    their value by the largest-remainder method
    (:func:`opslib.data.money.allocate_cents`; macrozheng/mall's
    ``price_i / total * reducePrice``). A coupon is taken as redeemed.
    ``gift`` and ``points`` change no price: their cost is in
    ``baskets.retailer_cost``.
    """
    terms = promotion_terms(promotion)
    frame = _check_lines(lines)
    qty = frame["qty"].to_numpy(dtype=float)
    unit_cents = to_cents(frame["list_price"].to_numpy(dtype=float), name="lines.list_price")
    value_cents = unit_cents * qty.astype(np.int64)
    if "order_id" in frame.columns:
        basket, basket_ids = pd.factorize(frame["order_id"], use_na_sentinel=False)
    else:
        basket, basket_ids = np.zeros(len(frame), dtype=np.int64), pd.Index([None])
    n_baskets = len(basket_ids)
    scope = _in_scope(frame, terms.scope, items)
    scoped_value = np.bincount(basket, weights=value_cents * scope, minlength=n_baskets).astype(np.int64)
    scoped_units = np.bincount(basket, weights=qty * scope, minlength=n_baskets)
    line_cents = np.zeros(len(frame), dtype=np.int64)
    basket_cents = np.zeros(n_baskets, dtype=np.int64)
    extra_cost = np.zeros(n_baskets)
    qualifies = np.zeros(n_baskets, dtype=bool)
    m = terms.mechanic

    if m in ("percent_off", "flash_sale"):
        promo_unit = _round_cents(unit_cents * (1 - terms.depth))
        units = qty.copy()
        if m == "flash_sale":
            limit = np.inf if terms.per_customer_limit is None else terms.per_customer_limit
            wanted = np.minimum(qty, limit) * scope
            cap = np.inf if terms.stock_cap is None else terms.stock_cap
            before = pd.Series(wanted).groupby(frame["sku"].to_numpy()).cumsum().to_numpy() - wanted
            units = np.clip(cap - units_sold_before - before, 0, wanted)
        line_cents = ((unit_cents - promo_unit) * units.astype(np.int64)) * scope
    elif m in ("second_half_price", "bogo"):
        off = unit_cents if m == "bogo" else _round_cents(unit_cents / 2)
        line_cents = off * (qty.astype(np.int64) // 2) * scope
    elif m == "threshold":
        thresholds = to_cents([t.threshold for t in terms.tiers])
        rewards = np.concatenate([[0], to_cents([t.reward for t in terms.tiers])])
        basket_cents = rewards[np.searchsorted(thresholds, scoped_value, side="right")]
    elif m == "repeating_threshold":
        x, y = to_cents(terms.threshold), to_cents(terms.reward)
        basket_cents = (scoped_value // x) * y
        if terms.cap is not None:
            basket_cents = np.minimum(basket_cents, to_cents(terms.cap))
    elif m == "item_count":
        depths = np.concatenate([[0.0], [t.reward for t in terms.tiers]])
        rung = np.searchsorted([t.threshold for t in terms.tiers], scoped_units, side="right")
        basket_cents = _round_cents(scoped_value * depths[rung])
    elif m == "coupon":
        ok = (scoped_value >= to_cents(terms.threshold)) & (scoped_value > 0)
        basket_cents = np.where(ok, np.minimum(to_cents(terms.reward), scoped_value), 0)
    elif m == "gift":
        ok = (scoped_value >= to_cents(terms.threshold)) & (scoped_value > 0)
        qualifies = ok
        extra_cost = ok * terms.reward * (1 - terms.funding_share)
    elif m == "points":
        paid = loyalty_points(scoped_value / 100, earn_rate=terms.depth, point_value=1.0, breakage=terms.breakage,
                              whole_points=False)
        extra_cost = np.asarray(paid.retailer_cost, dtype=float)
        qualifies = scoped_value > 0

    if m in ("threshold", "repeating_threshold", "item_count", "coupon"):
        line_cents = allocate_cents(basket_cents[basket], value_cents * scope, groups=basket)
    basket_discount = np.bincount(basket, weights=line_cents, minlength=n_baskets).astype(np.int64)
    if m not in ("gift", "points"):
        qualifies = basket_discount > 0

    out = frame.copy()
    out["in_scope"] = scope.astype(bool)
    out["line_value"] = value_cents / 100
    out["discount"] = line_cents / 100
    out["paid_amount"] = (value_cents - line_cents) / 100
    list_value = np.bincount(basket, weights=value_cents, minlength=n_baskets).astype(np.int64)
    baskets = pd.DataFrame({
        "order_id": np.asarray(basket_ids, dtype=object),
        "list_value": list_value / 100,
        "discount": basket_discount / 100,
        "customer_pays": (list_value - basket_discount) / 100,
        "retailer_cost": basket_discount / 100 * (1 - terms.funding_share) + extra_cost,
        "qualifies": qualifies,
    })
    return BasketDiscount(lines=out, baskets=baskets, terms=terms)


def _round_cents(cents) -> np.ndarray:
    """Cents rounded half up, after dropping float noise below 1e-6 cent."""
    return np.floor(np.round(np.asarray(cents, dtype=float), 6) + 0.5).astype(np.int64)


def _check_lines(lines) -> pd.DataFrame:
    f = "apply_to_basket"
    if not isinstance(lines, pd.DataFrame):
        _fail(f, "lines", "must be a DataFrame of order lines", type(lines).__name__,
              "pass a DataFrame with sku, qty and list_price.")
    missing = [c for c in ("sku", "qty", "list_price") if c not in lines.columns]
    if missing:
        _fail(f, "lines", f"must have the columns sku, qty, list_price; missing {', '.join(missing)}",
              list(lines.columns), "map your columns to the order_lines vocabulary (opslib.data.schema).")
    frame = lines.reset_index(drop=True)
    _whole(f, "lines.qty", frame["qty"].to_numpy(dtype=float))
    _number(f, "lines.list_price", frame["list_price"].to_numpy(dtype=float))
    return frame


def _in_scope(frame: pd.DataFrame, scope: str, items: pd.DataFrame | None) -> np.ndarray:
    kind, values = _scope_rule(scope)
    if kind == "all":
        return np.ones(len(frame), dtype=np.int64)
    if kind == "sku":
        return frame["sku"].astype(str).isin(values).to_numpy().astype(np.int64)
    if "category" in frame.columns:
        category = frame["category"]
    elif items is not None and "category" in items.columns:
        category = frame["sku"].map(items.set_index("sku")["category"])
    else:
        _fail("apply_to_basket", "lines", f"need a category column for scope {scope!r}", list(frame.columns),
              "add category to the lines or pass items= (the items table with category).")
    return category.astype(str).isin(values).to_numpy().astype(np.int64)
