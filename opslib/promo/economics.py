"""Retailer promotion P&L in closed form (promotion notes, section 2.5).

Notation: ``p`` regular price, ``g`` regular gross-margin rate ``(p - c)/p``,
``d`` discount depth, ``a`` funding share (supplier or platform), ``B``
baseline units, ``Q`` promotion units, ``c`` share of the gross lift that is
not incremental (cannibalized or pulled forward).

Two ratios are reported and always labelled: **profit ROI** (incremental
profit per unit of promotional spend, the trade-promotion convention) and
**GMV ROI** (投产比, ROAS: promotion GMV per unit of spend, what marketers on
Chinese platforms usually mean by "ROI"; it breaks even at ``1/g``, not at 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opslib.errors import DataError

__all__ = [
    "OwnMargin",
    "PromotionROI",
    "promo_unit_margin",
    "own_incremental_margin",
    "breakeven_lift",
    "breakeven_elasticity",
    "max_profitable_depth",
    "promotion_roi",
]


def _fraction(function, name, value, *, below_one=False):
    array = np.asarray(value, dtype=float)
    bad = ~np.isfinite(array) | (array < 0) | ((array >= 1) if below_one else (array > 1))
    if bad.any():
        hint = f"pass {name} as a fraction (0.2 for 20%)" if np.any(array[bad] > 1) else f"check {name}"
        rule = "in [0, 1)" if below_one else "in [0, 1]"
        raise DataError(f"{function}: parameter {name!r} must be a fraction {rule}; received "
                        f"{array[bad].ravel()[:5].tolist()}. Fix: {hint}.")
    return array


def _out(value):
    array = np.asarray(value)
    return array.item() if array.ndim == 0 else array


def promo_unit_margin(price, margin_rate, depth, funding_share=0.0):
    """Margin per unit sold on promotion [currency/unit]: ``p (g - (1 - a) d)``.

    The promotion-week margin of numpyro_forecast PR #121 (notes, sections 1.5
    and 2.5).
    """
    f = "promo_unit_margin"
    g, d, a = (_fraction(f, n, v) for n, v in
               (("margin_rate", margin_rate), ("depth", depth), ("funding_share", funding_share)))
    return _out(np.asarray(price, dtype=float) * (g - (1 - a) * d))


@dataclass(frozen=True)
class OwnMargin:
    """Incremental gross margin of the promoted item over the window [currency].

    ``incremental_margin = lift_margin - discount_on_baseline_units -
    discount_on_incremental_units``.
    """

    incremental_units: float | np.ndarray
    lift_margin: float | np.ndarray
    discount_on_baseline_units: float | np.ndarray
    discount_on_incremental_units: float | np.ndarray
    markdown_cost: float | np.ndarray
    incremental_margin: float | np.ndarray


def own_incremental_margin(baseline_units, promo_units, price, margin_rate, depth,
                           funding_share=0.0) -> OwnMargin:
    """Own-item incremental margin: ``(Q - B) p g - Q p d (1 - a)``.

    Parameters
    ----------
    baseline_units, promo_units : float or array-like
        B and Q over the promotion window [units].
    price : float or array-like
        Regular price [currency/unit].
    margin_rate, depth, funding_share : float or array-like
        g, d, a [fraction].

    Returns
    -------
    OwnMargin
        The markdown ``Q p d (1 - a)`` is split into the part given on the
        baseline units, which would have sold anyway (the "subsidy on
        baseline" of pymc-marketing PR #2621), and the part on incremental
        units.

    Notes
    -----
    Notes, section 2.5: ``ΔGM_own = (Q - B) m_r - Q p d (1 - a)``.
    Cannibalization, dips and halo are other items' and periods' margins and
    are not in this term.
    """
    f = "own_incremental_margin"
    g, d, a = (_fraction(f, n, v) for n, v in
               (("margin_rate", margin_rate), ("depth", depth), ("funding_share", funding_share)))
    b, q, p = (np.asarray(x, dtype=float) for x in (baseline_units, promo_units, price))
    if np.any(b < 0) or np.any(q < 0) or np.any(p < 0):
        raise DataError(f"{f}: parameters 'baseline_units', 'promo_units' and 'price' must be non-negative; "
                        f"received {b.ravel()[:5].tolist()}, {q.ravel()[:5].tolist()}, {p.ravel()[:5].tolist()}. "
                        "Fix: check the inputs.")
    per_unit = p * d * (1 - a)
    lift = (q - b) * p * g
    on_baseline = b * per_unit
    on_incremental = (q - b) * per_unit
    return OwnMargin(_out(q - b), _out(lift), _out(on_baseline), _out(on_incremental), _out(q * per_unit),
                     _out(lift - on_baseline - on_incremental))


def breakeven_lift(margin_rate, depth, funding_share=0.0, non_incremental_share=0.0):
    """Gross lift the promotion needs to break even [fraction of baseline units].

    ``L* = (1 - a) d / (g (1 - c) - (1 - a) d)``; ``inf`` when
    ``(1 - a) d >= g (1 - c)``: no lift can make it pay (notes, section 2.5).
    """
    f = "breakeven_lift"
    g = _fraction(f, "margin_rate", margin_rate)
    d = _fraction(f, "depth", depth)
    a = _fraction(f, "funding_share", funding_share)
    c = _fraction(f, "non_incremental_share", non_incremental_share)
    cost = (1 - a) * d
    room = g * (1 - c) - cost
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(room > 0, cost / np.where(room > 0, room, 1), np.inf)
    return _out(lift)


def breakeven_elasticity(margin_rate, depth, funding_share=0.0, non_incremental_share=0.0):
    """Price elasticity needed to break even under ``Q = B (1 - d)^e`` [dimensionless].

    ``e* = ln(1 + L*) / ln(1 - d)``; ``-inf`` when no lift can pay. For small
    ``d`` and ``c = 0`` it tends to ``-(1 - a)/g`` (numpyro_forecast PR #121).
    """
    lift = np.asarray(breakeven_lift(margin_rate, depth, funding_share, non_incremental_share))
    d = _fraction("breakeven_elasticity", "depth", depth, below_one=True)
    if np.any(d == 0):
        raise DataError("breakeven_elasticity: parameter 'depth' must be above 0; received 0. Fix: pass the "
                        "fraction off (0.2 for 20%); at depth 0 every elasticity breaks even.")
    return _out(np.where(np.isinf(lift), -np.inf, np.log1p(lift) / np.log1p(-d)))


def max_profitable_depth(margin_rate, funding_share=0.0, non_incremental_share=0.0):
    """The depth beyond which no lift can pay: ``g (1 - c) / (1 - a)``, at most 1 [fraction]."""
    f = "max_profitable_depth"
    g = _fraction(f, "margin_rate", margin_rate)
    a = _fraction(f, "funding_share", funding_share, below_one=True)
    c = _fraction(f, "non_incremental_share", non_incremental_share)
    return _out(np.minimum(g * (1 - c) / (1 - a), 1.0))


@dataclass(frozen=True)
class PromotionROI:
    """Both ROIs, labelled.

    Attributes
    ----------
    profit_roi : float
        Incremental profit / promotional spend: breaks even at 0.
    gmv_roi : float
        投产比 (ROAS): promotion GMV / promotional spend: breaks even at
        ``breakeven_gmv_roi = 1 / margin_rate``, not at 0 or 1.
    breakeven_gmv_roi : float
    """

    profit_roi: float | np.ndarray
    gmv_roi: float | np.ndarray
    breakeven_gmv_roi: float | np.ndarray


def promotion_roi(incremental_profit, promotion_gmv, spend, margin_rate) -> PromotionROI:
    """Profit ROI and GMV ROI (投产比) of a promotion, side by side.

    Parameters
    ----------
    incremental_profit : float or array-like
        ΔProfit [currency].
    promotion_gmv : float or array-like
        GMV attributed to the promotion [currency].
    spend : float or array-like
        Promotional spend S (markdown borne, fees, coupons, gifts, points)
        [currency], above 0.
    margin_rate : float or array-like
        Regular gross-margin rate g [fraction], for the GMV ROI break-even.
    """
    s = np.asarray(spend, dtype=float)
    if np.any(~np.isfinite(s) | (s <= 0)):
        raise DataError(f"promotion_roi: parameter 'spend' must be above 0; received {s.ravel()[:5].tolist()}. "
                        "Fix: a promotion without spend has no ROI; report its profit instead.")
    g = _fraction("promotion_roi", "margin_rate", margin_rate)
    with np.errstate(divide="ignore"):
        breakeven = np.where(g > 0, 1 / np.where(g > 0, g, 1), np.inf)
    return PromotionROI(_out(np.asarray(incremental_profit, dtype=float) / s),
                        _out(np.asarray(promotion_gmv, dtype=float) / s), _out(breakeven))
