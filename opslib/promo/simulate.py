"""Monte Carlo ROI of a promotion plan with uncertain response (issue 5, ROI simulation).

A :class:`PromotionPlan` (SKUs, window, mechanic and terms, funding, fixed
fee) is simulated by :func:`simulate` over draws of the uncertain demand
response learned by :func:`opslib.promo.fit_own_price_response` (and pooled by
:func:`opslib.promo.pool_elasticities`): own price elasticity, mechanic
visibility, pre- and post-promotion dips and cannibalization. Every draw
yields the promotion window's units and GMV and the retailer's margin
waterfall; the result carries profit ROI and GMV ROI (投产比), P(ROI > 0),
P10/P50/P90, a tornado and the closed-form break-even guardrails of
:mod:`opslib.promo.economics`.

The generative model (promotion notes, section 2.6), per promoted SKU ``i``
and draw ``k``::

    e_ik   ~ Normal(e_i, se_i) truncated to e < 0         # own price elasticity
    g_ik   ~ Normal(gamma_i, se)                           # mechanic visibility (log multiplier)
    Q_ik   = B_i (1 - d_i) ** e_ik * exp(g_ik)            # window units, B_i the baseline units
    post_ik ~ Normal(phi_post_i, se), capped at 0          # log multiplier after the window
    pre_ik  ~ Normal(phi_pre_i, se), capped at 0           # log multiplier before the window
    c_ik   ~ Beta(mean, sd) of the cannibalization share   # share of the bump taken from siblings

Random numbers are drawn per SKU from ``SeedSequence([seed, crc32(sku)])``:
the same seed gives the same draws for the same SKU in any plan (common
random numbers), so the difference between two plans is not Monte Carlo
noise (:func:`compare`).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from opslib.data.schema import PROMO_MECHANICS
from opslib.errors import DataError
from opslib.promo.economics import breakeven_elasticity, breakeven_lift, max_profitable_depth

__all__ = [
    "PromotionPlan",
    "SimulationResult",
    "Comparison",
    "WATERFALL_COMPONENTS",
    "UNCERTAIN_INPUTS",
    "baseline_from_history",
    "simulate",
    "compare",
]

PRICE_MECHANICS = ("percent_off", "flash_sale", "second_half_price", "bogo", "threshold",
                   "repeating_threshold", "item_count")
"""Mechanics whose cost is a price discount (rows ``discount_on_*``)."""

WATERFALL_COMPONENTS: tuple[str, ...] = (
    "own_lift_margin", "discount_on_baseline_units", "discount_on_incremental_units", "cannibalization",
    "pre_dip", "post_dip", "coupon_cost", "gift_cost", "points_cost", "fixed_cost", "funding")
"""Changes from the baseline margin to the promotion margin; they sum to the incremental profit."""

UNCERTAIN_INPUTS: tuple[str, ...] = ("elasticity", "post_dip", "pre_dip", "cannibalization", "mechanic_effect",
                                     "sibling_effect")
"""Uncertain inputs per SKU, in the order of the per-SKU random streams (never reorder)."""


def _fail(parameter: str, rule: str, received, fix: str):
    raise DataError(f"simulate: {parameter} {rule}; received {received!r}. Fix: {fix}")


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PromotionPlan:
    """A promotion to simulate (frozen; checked on creation).

    Parameters
    ----------
    skus : sequence of str
        Promoted SKUs.
    start, end : date-like
        First and last promotion day (inclusive), ``end >= start``.
    mechanic : str, default "percent_off"
        One of ``opslib.data.PROMO_MECHANICS``.
    depth : float, optional
        Fraction off [fraction] for ``percent_off`` and ``flash_sale`` (0.2 =
        20% off), the second unit's cut for ``second_half_price`` (default
        0.5), the tier depth for ``item_count``, the earn rate for ``points``.
    threshold, reward : float, optional
        满减 / coupon / gift: threshold [currency] and reward (money off,
        coupon face value or the gift's unit cost) [currency].
    tiers : str or sequence of (threshold, reward), optional
        Tiered 满减 or item-count ladder (see :func:`opslib.promo.parse_tiers`);
        the first tier sets the effective depth.
    flash_price : float, optional
        Flash-sale price [currency/unit], instead of ``depth``.
    stock_cap : float, optional
        Flash-sale units offered at the flash price per SKU over the window
        [units].
    coupon_redemption : float, default 0.5
        Share of buyers who redeem a coupon [fraction].
    points_breakage : float, default 0.0
        Share of issued points never redeemed [fraction].
    funding_share : float, default 0.0
        Share of the discount, coupon and gift cost funded by a supplier or
        the platform [fraction].
    fixed_cost : float, default 0.0
        Fees, creative, slotting (坑位费) [currency].
    name : str, optional
        Label in comparisons.
    """

    skus: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    mechanic: str = "percent_off"
    depth: float | None = None
    threshold: float | None = None
    reward: float | None = None
    tiers: tuple = ()
    flash_price: float | None = None
    stock_cap: float | None = None
    coupon_redemption: float = 0.5
    points_breakage: float = 0.0
    funding_share: float = 0.0
    fixed_cost: float = 0.0
    name: str = ""

    def __post_init__(self):
        f = "PromotionPlan"
        skus = (self.skus,) if isinstance(self.skus, str) else tuple(str(s) for s in self.skus)
        if not skus or len(set(skus)) != len(skus):
            raise DataError(f"{f}: parameter 'skus' must name at least one SKU, each once; received {skus!r}. "
                            "Fix: pass the promoted SKUs, e.g. skus=('SN0001',).")
        try:
            start, end = pd.Timestamp(self.start).normalize(), pd.Timestamp(self.end).normalize()
        except (TypeError, ValueError) as error:
            raise DataError(f"{f}: parameters 'start' and 'end' must be dates; received {self.start!r}, "
                            f"{self.end!r} ({error}). Fix: pass dates like '2024-06-01'.") from None
        if end < start:
            raise DataError(f"{f}: parameter 'end' ({end.date()}) is before 'start' ({start.date()}). "
                            "Fix: swap or correct the dates; both days are included.")
        if self.mechanic not in PROMO_MECHANICS:
            raise DataError(f"{f}: parameter 'mechanic' must be one of {', '.join(PROMO_MECHANICS)}; received "
                            f"{self.mechanic!r}. Fix: use the canonical mechanic names.")
        for name in ("depth", "coupon_redemption", "points_breakage", "funding_share"):
            value = getattr(self, name)
            if value is None:
                continue
            if not np.isfinite(value) or value < 0 or value > 1:
                hint = (f"it looks like a percentage: pass {name}={value / 100:g} for {value:g}%"
                        if 1 < value <= 100 else f"pass {name} as a fraction in [0, 1]")
                raise DataError(f"{f}: parameter {name!r} must be a fraction in [0, 1]; received {value!r}. "
                                f"Fix: {hint}.")
        for name in ("threshold", "reward", "flash_price", "stock_cap", "fixed_cost"):
            value = getattr(self, name)
            if value is not None and (not np.isfinite(value) or value < 0):
                raise DataError(f"{f}: parameter {name!r} must be a non-negative number; received {value!r}. "
                                f"Fix: check {name}.")
        tiers = self.tiers
        if isinstance(tiers, str) or (tiers is not None and len(tiers) > 0):
            from opslib.promo.mechanics import parse_tiers
            tiers = parse_tiers(tiers, kind="items" if self.mechanic == "item_count" else "money")
        else:
            tiers = ()
        m = self.mechanic
        if m == "percent_off" and not self.depth:
            raise DataError(f"{f}: mechanic 'percent_off' needs 'depth' above 0; received {self.depth!r}. "
                            "Fix: pass depth=0.2 for 20% off.")
        if m == "flash_sale" and not self.depth and self.flash_price is None:
            raise DataError(f"{f}: mechanic 'flash_sale' needs 'depth' or 'flash_price'. "
                            "Fix: pass depth=0.3 or flash_price=9.9.")
        if m in ("threshold", "item_count") and not tiers and (self.threshold is None or (
                self.reward if m == "threshold" else self.depth) is None):
            raise DataError(f"{f}: mechanic {m!r} needs 'tiers' or 'threshold' and "
                            f"{'reward' if m == 'threshold' else 'depth'}. Fix: pass tiers='300:30|500:60'.")
        if m in ("repeating_threshold", "gift", "coupon"):
            if not self.reward:
                raise DataError(f"{f}: mechanic {m!r} needs 'reward' above 0; received {self.reward!r}. "
                                "Fix: pass the money off, the gift's unit cost or the coupon's face value.")
            if self.threshold is None or (m != "coupon" and self.threshold <= 0):
                raise DataError(f"{f}: mechanic {m!r} needs 'threshold' above 0 (0 allowed for a coupon); "
                                f"received {self.threshold!r}. Fix: 满200减20 is threshold=200, reward=20.")
            if m != "gift" and self.threshold > 0 and self.reward > self.threshold:
                raise DataError(f"{f}: parameter 'reward' ({self.reward}) exceeds 'threshold' "
                                f"({self.threshold}). Fix: 满100减20 is threshold=100, reward=20.")
        if m == "points" and not self.depth:
            raise DataError(f"{f}: mechanic 'points' needs 'depth' (the earn rate) above 0. Fix: depth=0.05.")
        if self.stock_cap is not None and m != "flash_sale":
            raise DataError(f"{f}: parameter 'stock_cap' applies to flash sales only; mechanic is {m!r}. "
                            "Fix: drop stock_cap or use mechanic='flash_sale'.")
        object.__setattr__(self, "skus", skus)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "tiers", tiers)

    @property
    def days(self) -> int:
        """Promotion days, both ends included [days]."""
        return (self.end - self.start).days + 1

    def label(self) -> str:
        return self.name or f"{self.mechanic} {','.join(self.skus[:3])}{'...' if len(self.skus) > 3 else ''}"

    def rates(self, price: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """Effective depth seen by buyers and the promotional cost rate per unit of list value, per SKU.

        Returns ``(demand_depth, cost_rate, cost_component)`` [fraction,
        fraction, name]. Price mechanics: both are the effective depth of
        :func:`opslib.promo.effective_depth` (for order-level offers the rate
        at the first threshold; an approximation until the basket simulator
        lands). Coupons: ``redemption * face / threshold`` (``face / price``
        without threshold). Gifts: ``gift cost / threshold`` per unit of list
        value (one gift per threshold's worth of sales). Points: the earn rate
        times ``1 - breakage`` as cost; the earn rate as depth.
        """
        m = self.mechanic
        one = np.ones_like(price, dtype=float)
        first = self.tiers[0] if self.tiers else None
        if m in ("percent_off", "points"):
            d = self.depth * one
        elif m == "flash_sale":
            d = self.depth * one if self.depth else 1 - self.flash_price / price
        elif m == "second_half_price":
            d = (self.depth if self.depth else 0.5) / 2 * one
        elif m == "bogo":
            d = 0.5 * one
        elif m == "threshold":
            d = (first.reward / first.threshold if first else self.reward / self.threshold) * one
        elif m == "item_count":
            d = (first.reward if first else self.depth) * one
        elif m in ("repeating_threshold", "gift"):
            d = self.reward / self.threshold * one
        else:  # coupon
            face = self.reward / self.threshold * one if self.threshold else np.minimum(self.reward / price, 1.0)
            d = self.coupon_redemption * face
        d = np.clip(d, 0.0, 0.95)
        if m in PRICE_MECHANICS:
            return d, d, "discount"
        if m == "points":
            return d, d * (1 - self.points_breakage), "points_cost"
        return d, d, f"{m}_cost"


# --------------------------------------------------------------------------- baseline


def baseline_from_history(demand: pd.DataFrame, skus: Sequence[str], start, end, *,
                          lookback_days: int = 182, min_days: int = 14) -> pd.DataFrame:
    """Expected baseline units per SKU and day: the weekday average of clean history.

    Parameters
    ----------
    demand : pandas.DataFrame
        The ``demand`` table: ``sku, date, units`` [units/day]; ``in_stock``
        and ``promo_id`` when present (stock-out and promoted days are left
        out).
    skus : sequence of str
    start, end : date-like
        The promotion window (inclusive).
    lookback_days : int, default 182
        History used, ending the day before ``start`` [days].
    min_days : int, default 14
        With fewer clean days in the lookback, all clean history before
        ``start`` is used; with fewer than 7 weekday means the plain mean
        replaces the weekday profile.

    Returns
    -------
    pandas.DataFrame
        ``sku, date, baseline_units`` [units/day] for each window day.

    Notes
    -----
    ``B_{i,t} = mean_i * w_i(weekday(t))``, with ``w`` the weekday means over
    the overall mean. A forecast with promotions masked is better; this is
    the quick fallback.
    """
    f = "baseline_from_history"
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise DataError(f"{f}: parameter 'end' ({end.date()}) is before 'start' ({start.date()}). Fix: swap them.")
    missing = [c for c in ("sku", "date", "units") if c not in demand.columns]
    if missing:
        raise DataError(f"{f}: table 'demand' lacks column(s) {missing}. Fix: use opslib.data.daily_demand.")
    skus = [str(s) for s in ([skus] if isinstance(skus, str) else skus)]
    d = demand[demand["sku"].astype(str).isin(skus)]
    d = d.assign(sku=d["sku"].astype(str), date=pd.to_datetime(d["date"]).dt.normalize())
    d = d[d["date"] < start]
    clean = np.ones(len(d), bool)
    if "in_stock" in d.columns:
        clean &= d["in_stock"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    if "promo_id" in d.columns:
        clean &= d["promo_id"].isna().to_numpy()
    d = d[clean]
    days = pd.date_range(start, end, freq="D")
    out = []
    for sku in skus:
        h = d[d["sku"] == sku]
        recent = h[h["date"] >= start - pd.Timedelta(days=lookback_days)]
        if len(recent) >= min_days:
            h = recent
        if h.empty:
            raise DataError(f"{f}: SKU {sku!r} has no in-stock, unpromoted day in table 'demand' before "
                            f"{start.date()}. Fix: pass a forecast as the baseline, or check the SKU.")
        level = h["units"].mean()
        wd = h.groupby(h["date"].dt.day_of_week)["units"].mean()
        factor = (wd / level).reindex(range(7)) if len(wd) == 7 and level > 0 else pd.Series(1.0, index=range(7))
        out.append(pd.DataFrame({"sku": sku, "date": days,
                                 "baseline_units": level * factor.fillna(1.0).to_numpy()[days.day_of_week]}))
    return pd.concat(out, ignore_index=True)


# --------------------------------------------------------------------------- inputs


def _response_frame(response) -> pd.DataFrame:
    frame = getattr(response, "estimates", response)
    if not isinstance(frame, pd.DataFrame):
        _fail("parameter 'response'", "must be a DataFrame or a fit_own_price_response / pool_elasticities "
              "result", type(response).__name__, "pass fit.estimates with sku, elasticity, elasticity_se.")
    missing = [c for c in ("sku", "elasticity", "elasticity_se") if c not in frame.columns]
    if missing:
        _fail("table 'response'", f"lacks column(s) {missing}", list(frame.columns),
              "pass fit_own_price_response(...).estimates or pool_elasticities(...).estimates.")
    return frame.assign(sku=frame["sku"].astype(str)).drop_duplicates("sku").set_index("sku")


def _column(frame: pd.DataFrame, skus, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(skus), np.nan)
    return frame[name].reindex(skus).to_numpy(dtype=float)


def _window_baseline(baseline: pd.DataFrame, skus, start, end, pre_days: int, post_days: int):
    """Baseline units per SKU in the window, the pre-window and the post-window [units]."""
    if not isinstance(baseline, pd.DataFrame) or "sku" not in baseline.columns:
        _fail("parameter 'baseline'", "must be a DataFrame with sku, date, baseline_units",
              type(baseline).__name__, "use baseline_from_history(demand, skus, start, end) or a forecast.")
    col = next((c for c in ("baseline_units", "mean", "units") if c in baseline.columns), None)
    if col is None or "date" not in baseline.columns:
        _fail("table 'baseline'", "needs columns sku, date and baseline_units (or mean, or units)",
              list(baseline.columns), "rename the expected units per day to baseline_units.")
    b = baseline.assign(sku=baseline["sku"].astype(str), date=pd.to_datetime(baseline["date"]).dt.normalize())
    if b[col].isna().any() or (b[col] < 0).any():
        _fail("table 'baseline', column " + repr(col), "must be >= 0 without gaps",
              b.loc[b[col].isna() | (b[col] < 0)].head(5).to_dict("records"), "fill missing days.")
    window = pd.date_range(start, end, freq="D")
    table = b.groupby(["date", "sku"])[col].sum().unstack("sku")
    absent = [s for s in skus if s not in table.columns]
    if absent:
        _fail("table 'baseline'", "has no rows for SKU(s) of the plan", absent[:5],
              "compute the baseline for every promoted SKU (and siblings, for cannibalization).")
    inside = table.reindex(window)
    gaps = inside[list(skus)].isna().sum()
    if gaps.any():
        _fail("table 'baseline'", f"misses window days ({start.date()} to {end.date()})",
              gaps[gaps > 0].head(5).to_dict(), "give one row per SKU and window day.")
    daily = inside.mean()

    def total(days):
        if not len(days):
            return pd.Series(0.0, index=table.columns)
        values = table.reindex(days).to_numpy(float)
        values = np.where(np.isnan(values), daily.to_numpy(float)[None, :], values)
        return pd.Series(values.sum(axis=0), index=table.columns)

    pre = total(pd.date_range(start - pd.Timedelta(days=pre_days), start - pd.Timedelta(days=1), freq="D")
                if pre_days > 0 else [])
    post = total(pd.date_range(end + pd.Timedelta(days=1), end + pd.Timedelta(days=post_days), freq="D")
                 if post_days > 0 else [])
    return inside.sum(), pre, post


def _uniforms(sku: str, seed: int, draws: int) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(sku.encode("utf-8"))]))
    return rng.random((draws, len(UNCERTAIN_INPUTS)))


def _truncated_normal_negative(mean, se, u):
    """Inverse-CDF draw of Normal(mean, se) truncated to (-inf, 0); ``se = 0`` gives ``min(mean, 0)``."""
    se = np.asarray(se, float)
    safe = np.where(se > 0, se, 1.0)
    top = special.ndtr(-mean / safe)
    x = mean + safe * special.ndtri(np.clip(u * top, 1e-300, 1 - 1e-16))
    return np.where(se > 0, np.minimum(x, -1e-12), np.minimum(mean, 0.0))


def _normal(mean, se, u):
    mean = np.nan_to_num(np.asarray(mean, float))
    se = np.nan_to_num(np.asarray(se, float))
    if not np.any(se):
        return np.broadcast_to(mean, np.shape(u))
    return mean + se * special.ndtri(u)


def _beta(mean, sd, u):
    """Beta draw with the given mean and sd (moments); ``sd = 0`` gives the mean."""
    mean = np.clip(np.nan_to_num(np.asarray(mean, float)), 0.0, 1.0)
    sd = np.nan_to_num(np.asarray(sd, float))
    var = np.minimum(sd ** 2, 0.999 * mean * (1 - mean))
    ok = (var > 0) & (mean > 0) & (mean < 1)
    k = np.where(ok, mean * (1 - mean) / np.where(ok, var, 1) - 1, 1.0)
    a, b = np.where(ok, mean * k, 1.0), np.where(ok, (1 - mean) * k, 1.0)
    u = np.asarray(u, float)
    if u.ndim == 0 or np.ndim(a) == 0:
        return np.where(ok, special.betaincinv(a, b, u), mean)
    out = np.broadcast_to(mean, u.shape).astype(float)
    if not ok.any():
        return out
    # the parameters vary by SKU (last axis): one quantile function per distinct (a, b)
    a1, b1, ok1 = (np.broadcast_to(v, u.shape[-1:]) for v in (a, b, ok))
    pairs = {(float(x), float(y)) for x, y, z in zip(a1, b1, ok1) if z}
    for aa, bb in pairs:
        cols = ok1 & (a1 == aa) & (b1 == bb)
        values = u[..., cols]
        if values.size <= _EXACT_PPF_LIMIT:
            out[..., cols] = special.betaincinv(aa, bb, values)
        else:  # many draws of one distribution: the exact quantile function on a fine grid, interpolated
            grid = np.linspace(0.0, 1.0, 8193)
            out[..., cols] = np.interp(values, grid, special.betaincinv(aa, bb, grid))
    return out


_EXACT_PPF_LIMIT = 50_000


@dataclass(frozen=True)
class _Inputs:
    """Everything the vectorized evaluator needs (arrays over promoted SKUs and siblings)."""

    skus: tuple[str, ...]
    price: np.ndarray
    margin_rate: np.ndarray
    demand_depth: np.ndarray
    cost_rate: np.ndarray
    cost_component: str
    base: np.ndarray
    base_pre: np.ndarray
    base_post: np.ndarray
    params: dict
    cap: float | None
    funding_share: float
    fixed_cost: float
    cannibalization_mode: str
    siblings: tuple[str, ...]
    sibling_base: np.ndarray
    sibling_margin: np.ndarray
    sibling_price: np.ndarray
    sibling_params: dict


def _prepare(plan, response, baseline, items, *, pre_dip_days, post_dip_days, cannibalization):
    if not isinstance(plan, PromotionPlan):
        _fail("parameter 'plan'", "must be a PromotionPlan", type(plan).__name__, "build PromotionPlan(...).")
    if not isinstance(items, pd.DataFrame) or any(c not in items.columns for c in ("sku", "price", "unit_cost")):
        _fail("table 'items'", "needs columns sku, price, unit_cost",
              list(getattr(items, "columns", [])), "pass workspace.items.")
    it = items.assign(sku=items["sku"].astype(str)).drop_duplicates("sku").set_index("sku")
    skus = list(plan.skus)
    unknown = [s for s in skus if s not in it.index]
    if unknown:
        _fail("parameter 'plan.skus'", "names SKU(s) absent from table 'items'", unknown[:5],
              "check the SKU codes against items['sku'].")
    price = it.loc[skus, "price"].to_numpy(float)
    cost = it.loc[skus, "unit_cost"].to_numpy(float)
    bad = ~np.isfinite(price) | (price <= 0) | ~np.isfinite(cost) | (cost < 0) | (cost > price)
    if bad.any():
        _fail("table 'items'", "needs 0 <= unit_cost <= price > 0 for promoted SKUs",
              it.loc[np.asarray(skus)[bad], ["price", "unit_cost"]].head(5).to_dict("index"),
              "fix the item's price or unit cost.")
    margin_rate = (price - cost) / price
    demand_depth, cost_rate, component = plan.rates(price)
    if np.any(demand_depth >= 1) or (plan.flash_price is not None and np.any(plan.flash_price > price)):
        _fail("parameter 'plan.flash_price'", "must be below every promoted SKU's price", plan.flash_price,
              "pass a flash price below the regular price or use depth.")
    r = _response_frame(response)
    absent = [s for s in skus if s not in r.index]
    if absent:
        _fail("table 'response'", "has no row for SKU(s) of the plan", absent[:5],
              "fit them (fit_own_price_response(skus=...)) or pool (pool_elasticities).")
    e, e_se = _column(r, skus, "elasticity"), _column(r, skus, "elasticity_se")
    bad = ~np.isfinite(e) | ~np.isfinite(e_se) | (e_se < 0)
    if bad.any():
        _fail("table 'response', columns 'elasticity', 'elasticity_se'", "must be finite (se >= 0)",
              list(np.asarray(skus)[bad][:5]), "pool the elasticities first (pool_elasticities) so that "
              "every SKU has an estimate and a standard error.")
    mech = f"mechanic_{plan.mechanic}"
    params = {
        "elasticity": (e, e_se),
        "post_dip": (_column(r, skus, "post_dip"), _column(r, skus, "post_dip_se")),
        "pre_dip": (_column(r, skus, "pre_dip"), _column(r, skus, "pre_dip_se")),
        "cannibalization": (_column(r, skus, "cannibalization_share"),
                            _column(r, skus, "cannibalization_share_se")),
        "mechanic_effect": (_column(r, skus, mech), _column(r, skus, f"{mech}_se")),
    }
    share = params["cannibalization"][0]
    if np.any(share[np.isfinite(share)] < 0) or np.any(share[np.isfinite(share)] > 1):
        _fail("table 'response', column 'cannibalization_share'", "must be a fraction in [0, 1]",
              share.tolist()[:5], "pass the share of the bump taken from siblings, e.g. 0.3.")
    if cannibalization not in ("auto", "share", "siblings", "none"):
        _fail("parameter 'cannibalization'", "must be 'auto', 'share', 'siblings' or 'none'", cannibalization,
              "pass cannibalization='auto'.")
    base, pre, post = _window_baseline(baseline, skus, plan.start, plan.end, pre_dip_days, post_dip_days)
    mode = cannibalization
    siblings: list[str] = []
    if mode in ("auto", "siblings") and "category" in it.columns and "sibling_effect" in r.columns:
        cats = set(it.loc[skus, "category"].astype(str))
        pool = [s for s in base.index if s not in skus and s in it.index and s in r.index
                and str(it.at[s, "category"]) in cats]
        siblings = [s for s in pool if np.isfinite(r.at[s, "sibling_effect"])]
    if mode == "auto":
        mode = "share" if np.isfinite(share).any() else ("siblings" if siblings else "none")
    if mode != "siblings":
        siblings = []
    if mode == "share":
        params["cannibalization"] = (np.nan_to_num(share), np.nan_to_num(params["cannibalization"][1]))
    else:
        params["cannibalization"] = (np.zeros(len(skus)), np.zeros(len(skus)))
    sp = it.loc[siblings, "price"].to_numpy(float) if siblings else np.zeros(0)
    sc = it.loc[siblings, "unit_cost"].to_numpy(float) if siblings else np.zeros(0)
    return _Inputs(
        skus=tuple(skus), price=price, margin_rate=margin_rate, demand_depth=demand_depth, cost_rate=cost_rate,
        cost_component=component, base=base.reindex(skus).to_numpy(float),
        base_pre=pre.reindex(skus).to_numpy(float), base_post=post.reindex(skus).to_numpy(float),
        params=params, cap=plan.stock_cap, funding_share=plan.funding_share, fixed_cost=plan.fixed_cost,
        cannibalization_mode=mode, siblings=tuple(siblings),
        sibling_base=base.reindex(siblings).to_numpy(float) if siblings else np.zeros(0),
        sibling_margin=sp - sc, sibling_price=sp,
        sibling_params={"sibling_effect": (_column(r, siblings, "sibling_effect"),
                                           _column(r, siblings, "sibling_effect_se"))})


# --------------------------------------------------------------------------- evaluator


def _evaluate(x: _Inputs, u: np.ndarray, us: np.ndarray) -> dict:
    """Per-draw P&L from uniforms ``u`` (draws, skus, inputs) and ``us`` (draws, siblings)."""
    p, g, d, rate = x.price, x.margin_rate, x.demand_depth, x.cost_rate
    col = {name: k for k, name in enumerate(UNCERTAIN_INPUTS)}
    e = _truncated_normal_negative(x.params["elasticity"][0], x.params["elasticity"][1], u[..., col["elasticity"]])
    gamma = _normal(*x.params["mechanic_effect"], u[..., col["mechanic_effect"]])
    q = x.base * (1 - d) ** e * np.exp(gamma)
    if x.cap is not None:  # sell-out: flash units up to the cap, then the baseline rate for the rest
        q_disc = np.minimum(q, x.cap)
        q = np.where(q > x.cap, x.cap + x.base * (1 - x.cap / np.where(q > 0, q, 1)), q)
    else:
        q_disc = q
    post = np.minimum(_normal(*x.params["post_dip"], u[..., col["post_dip"]]), 0.0)
    pre = np.minimum(_normal(*x.params["pre_dip"], u[..., col["pre_dip"]]), 0.0)
    share = _beta(*x.params["cannibalization"], u[..., col["cannibalization"]])
    m_r = p * g
    bump = q - x.base
    out = {"baseline_units": x.base, "promo_units": q, "incremental_units": bump}
    cost = q_disc * p * rate  # gross, before funding
    price_cost = cost if x.cost_component == "discount" else 0 * cost
    out["own_lift_margin"] = bump * m_r
    out["discount_on_baseline_units"] = -(x.base * p * rate) * (x.cost_component == "discount")
    out["discount_on_incremental_units"] = -((q_disc - x.base) * p * rate) * (x.cost_component == "discount")
    cann_units = share * np.maximum(bump, 0.0)
    out["cannibalization"] = -cann_units * m_r
    pre_units, post_units = x.base_pre * (1 - np.exp(pre)), x.base_post * (1 - np.exp(post))
    out["pre_dip"], out["post_dip"] = -pre_units * m_r, -post_units * m_r
    for name in ("coupon_cost", "gift_cost", "points_cost"):
        out[name] = -cost * (x.cost_component == name)
    funded = 0 if x.cost_component == "points_cost" else x.funding_share * cost
    out["funding"] = funded
    paid = q * p - price_cost - (cost if x.cost_component == "coupon_cost" else 0)
    out["promotion_gmv"] = paid
    lost_gmv = (cann_units + pre_units + post_units) * p
    out["incremental_gmv"] = paid - x.base * p - lost_gmv
    out["net_incremental_units"] = bump - cann_units - pre_units - post_units
    out["baseline_margin"] = x.base * m_r
    out["spend"] = cost - funded
    totals = {k: np.broadcast_to(v, q.shape).sum(axis=-1) for k, v in out.items()}
    if len(x.siblings):
        theta = np.minimum(_normal(*x.sibling_params["sibling_effect"], us), 0.0)
        lost = x.sibling_base * (1 - np.exp(theta))
        totals["cannibalization"] = totals["cannibalization"] - (lost * x.sibling_margin).sum(axis=-1)
        totals["incremental_gmv"] = totals["incremental_gmv"] - (lost * x.sibling_price).sum(axis=-1)
        totals["net_incremental_units"] = totals["net_incremental_units"] - lost.sum(axis=-1)
    totals["fixed_cost"] = -x.fixed_cost * np.ones_like(totals["own_lift_margin"])
    totals["spend"] = totals["spend"] + x.fixed_cost
    totals["profit"] = sum(totals[c] for c in WATERFALL_COMPONENTS)
    totals["elasticity_draws"] = e
    totals["sku_incremental_units"] = bump
    return totals


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class SimulationResult:
    """Result of :func:`simulate`.

    Attributes
    ----------
    plan : PromotionPlan
    draws : pandas.DataFrame
        One row per draw: ``draw, baseline_units, promo_units,
        incremental_units`` (own window, ``Q - B``), ``net_incremental_units``
        (after cannibalization and dips) [units]; ``promotion_gmv`` (paid by
        customers for the promoted SKUs in the window), ``incremental_gmv``
        (net of the baseline, cannibalized and dip GMV), ``baseline_margin``,
        each of :data:`WATERFALL_COMPONENTS`, ``profit`` (their sum) and
        ``spend`` (promotional cost borne: discounts, coupons, gifts after
        funding, points, fixed cost) [currency]; ``profit_roi`` and
        ``gmv_roi`` (NaN when ``spend`` is 0).
    waterfall : pandas.DataFrame
        Tidy: ``component, kind`` (``start`` for ``baseline_margin``,
        ``change`` for each component, ``total`` for ``incremental_profit``
        and ``end`` for ``promotion_margin``), ``mean, p10, p50, p90``
        [currency].
    summary : pandas.DataFrame
        ``metric, label, mean, p10, p50, p90``: incremental units and GMV,
        profit, profit ROI, GMV ROI (投产比), with the labels saying what
        each means and where it breaks even.
    probability_profitable : float
        P(profit ROI > 0) = P(profit > 0) over the draws.
    expected_shortfall : float
        Mean profit of the worst 10% of draws [currency].
    tornado : pandas.DataFrame
        ``sku, input, low, high`` (the input at its P10 and P90),
        ``profit_low, profit_high, swing`` [currency], sorted by swing,
        largest first; every other input at its median.
    guardrails : pandas.DataFrame
        Per SKU: ``sku, price, margin_rate, depth, cost_rate,
        promo_unit_margin, breakeven_lift, breakeven_elasticity,
        max_profitable_depth, elasticity, elasticity_se,
        probability_above_breakeven`` (share of draws with a lift above the
        break-even lift), ``non_incremental_share`` used.
    skus : pandas.DataFrame
        Per SKU: ``sku, baseline_units, incremental_units_mean, _p10, _p50,
        _p90`` [units over the window].
    settings : dict
        draws, seed, pre/post dip days, cannibalization mode, seconds.
    """

    plan: PromotionPlan
    draws: pd.DataFrame
    waterfall: pd.DataFrame
    summary: pd.DataFrame
    probability_profitable: float
    expected_shortfall: float
    tornado: pd.DataFrame
    guardrails: pd.DataFrame
    skus: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def quantile(self, column: str, q: float) -> float:
        return float(self.draws[column].quantile(q))


def _quantiles(values: np.ndarray) -> dict:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"mean": np.nan, "p10": np.nan, "p50": np.nan, "p90": np.nan}
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    return {"mean": float(v.mean()), "p10": float(p10), "p50": float(p50), "p90": float(p90)}


def simulate(plan: PromotionPlan, response, baseline: pd.DataFrame, items: pd.DataFrame, *, draws: int = 2000,
             seed: int = 0, pre_dip_days: int = 7, post_dip_days: int = 14, cannibalization: str = "auto",
             tornado: bool = True) -> SimulationResult:
    """Monte Carlo P&L and ROI of a promotion plan.

    Parameters
    ----------
    plan : PromotionPlan
    response : pandas.DataFrame or result of fit_own_price_response / pool_elasticities
        One row per SKU: ``sku, elasticity, elasticity_se`` (required,
        finite) and, when present, ``post_dip, post_dip_se, pre_dip,
        pre_dip_se`` (log multipliers of units on the dip days),
        ``mechanic_<mechanic>, mechanic_<mechanic>_se`` (visibility, log
        multiplier), ``cannibalization_share, cannibalization_share_se``
        (share of the own bump taken from siblings [fraction]) or
        ``sibling_effect, sibling_effect_se`` (log multiplier of a sibling's
        units while another SKU of its category is promoted, from
        :func:`opslib.promo.fit_own_price_response`). Missing optional
        columns mean no such effect.
    baseline : pandas.DataFrame
        ``sku, date, baseline_units`` (or ``mean``, as in forecasts)
        [units/day] for every window day of the promoted SKUs (and of their
        category siblings for the ``siblings`` cannibalization). Days before
        and after the window, when absent, take the SKU's window mean.
    items : pandas.DataFrame
        ``sku, price, unit_cost`` (and ``category`` for siblings).
    draws : int, default 2000
    seed : int, default 0
        Same seed, same draws per SKU in any plan (common random numbers).
    pre_dip_days, post_dip_days : int
        Length of the dip windows [days]; match the ``ResponseSettings`` of
        the fit (defaults 7 and 14).
    cannibalization : {"auto", "share", "siblings", "none"}
        ``share``: ``cannibalization_share`` of the positive bump, valued at
        the promoted SKU's regular margin (the closed form of notes 2.5);
        ``siblings``: each sibling in ``baseline`` loses ``B_j (1 -
        exp(theta_j))`` units at its own margin; ``auto``: ``share`` when
        the column is filled, else ``siblings`` when possible, else none.
    tornado : bool, default True

    Returns
    -------
    SimulationResult

    Raises
    ------
    opslib.DataError
        Unknown SKU, a SKU without elasticity or baseline, bad item costs,
        a flash price above the price, bad settings.

    Notes
    -----
    Per draw (notes, section 2.5)::

        profit = (Q - B) m_r - Q p r (1 - a) - c (Q - B)+ m_r
                 - (pre + post dip units) m_r - coupon/gift/points - F

    with ``m_r = p g`` and ``r`` the cost rate of the mechanic
    (:meth:`PromotionPlan.rates`). Profit ROI = profit / spend (breaks even
    at 0); GMV ROI (投产比) = promotion GMV / spend (breaks even at ``1/g``).
    At zero standard errors and no dips or cannibalization the profit is
    :func:`opslib.promo.own_incremental_margin` minus the fixed cost.
    The draws of different SKUs are independent (the pooled category mean's
    uncertainty, shared by its SKUs, is not correlated across SKUs).
    """
    t0 = time.perf_counter()
    if int(draws) != draws or draws < 1:
        _fail("parameter 'draws'", "must be a whole number >= 1", draws, "pass draws=2000.")
    draws = int(draws)
    for name, value in (("pre_dip_days", pre_dip_days), ("post_dip_days", post_dip_days)):
        if int(value) != value or value < 0:
            _fail(f"parameter {name!r}", "must be a whole number of days >= 0", value, "use the fit's settings.")
    x = _prepare(plan, response, baseline, items, pre_dip_days=int(pre_dip_days),
                 post_dip_days=int(post_dip_days), cannibalization=cannibalization)
    u = np.stack([_uniforms(s, seed, draws) for s in x.skus], axis=1)  # (draws, skus, inputs)
    us = (np.stack([_uniforms(s, seed, draws)[:, -1] for s in x.siblings], axis=1) if x.siblings
          else np.zeros((draws, 0)))
    t = _evaluate(x, u, us)
    frame = pd.DataFrame({"draw": np.arange(draws)})
    for name in ("baseline_units", "promo_units", "incremental_units", "net_incremental_units", "promotion_gmv",
                 "incremental_gmv", "baseline_margin", *WATERFALL_COMPONENTS, "profit", "spend"):
        frame[name] = t[name]
    spend = frame["spend"].to_numpy()
    positive = spend > 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["profit_roi"] = np.where(positive, frame["profit"] / np.where(positive, spend, 1), np.nan)
        frame["gmv_roi"] = np.where(positive, frame["promotion_gmv"] / np.where(positive, spend, 1), np.nan)

    rows = [{"component": "baseline_margin", "kind": "start", **_quantiles(frame["baseline_margin"])}]
    rows += [{"component": c, "kind": "change", **_quantiles(frame[c])} for c in WATERFALL_COMPONENTS]
    rows.append({"component": "incremental_profit", "kind": "total", **_quantiles(frame["profit"])})
    rows.append({"component": "promotion_margin", "kind": "end",
                 **_quantiles(frame["baseline_margin"] + frame["profit"])})
    waterfall = pd.DataFrame(rows)

    base_gmv = float((x.base * x.price).sum())
    g_plan = float((x.base * x.price * x.margin_rate).sum() / base_gmv) if base_gmv > 0 else float(
        np.mean(x.margin_rate))
    labels = {
        "incremental_units": "own-window units above baseline, Q - B [units]",
        "net_incremental_units": "after cannibalization and pre/post dips [units]",
        "promotion_gmv": "GMV of the promoted SKUs in the window, paid by customers [currency]",
        "incremental_gmv": "GMV above baseline, net of cannibalized and dip GMV [currency]",
        "profit": "incremental profit, breaks even at 0 [currency]",
        "spend": "promotional spend borne: discounts, coupons, gifts after funding, points, fixed [currency]",
        "profit_roi": "profit ROI = incremental profit / spend; breaks even at 0",
        "gmv_roi": f"GMV ROI (投产比, ROAS) = promotion GMV / spend; breaks even at 1/g = {1 / g_plan:.2f}"
                   if g_plan > 0 else "GMV ROI (投产比, ROAS) = promotion GMV / spend",
    }
    summary = pd.DataFrame([{"metric": k, "label": v, **_quantiles(frame[k])} for k, v in labels.items()])
    profit = frame["profit"].to_numpy()
    worst = np.sort(profit)[:max(1, int(np.ceil(0.1 * draws)))]

    # guardrails (closed form, economics.py)
    c_mean = x.params["cannibalization"][0]
    lift_draws = (t["sku_incremental_units"] / np.where(x.base > 0, x.base, np.nan))
    be_lift = np.asarray(breakeven_lift(x.margin_rate, np.minimum(x.cost_rate, 1.0), x.funding_share,
                                        np.clip(c_mean, 0, 1)), float).reshape(-1)
    depth_ok = x.demand_depth > 0
    be_e = np.full(len(x.skus), np.nan)
    if depth_ok.any():
        be_e[depth_ok] = np.asarray(breakeven_elasticity(
            x.margin_rate[depth_ok], x.cost_rate[depth_ok], x.funding_share, np.clip(c_mean[depth_ok], 0, 1)),
            float).reshape(-1)
    guardrails = pd.DataFrame({
        "sku": x.skus, "price": x.price, "margin_rate": x.margin_rate, "depth": x.demand_depth,
        "cost_rate": x.cost_rate,
        "promo_unit_margin": x.price * (x.margin_rate - (1 - (0 if x.cost_component == "points_cost"
                                                              else x.funding_share)) * x.cost_rate),
        "breakeven_lift": be_lift, "breakeven_elasticity": be_e,
        "max_profitable_depth": np.asarray(max_profitable_depth(
            x.margin_rate, min(x.funding_share, 0.999), np.clip(c_mean, 0, 1)), float).reshape(-1),
        "elasticity": x.params["elasticity"][0], "elasticity_se": x.params["elasticity"][1],
        "probability_above_breakeven": np.nanmean(lift_draws > be_lift, axis=0),
        "non_incremental_share": c_mean})
    per_sku = pd.DataFrame({"sku": x.skus, "baseline_units": x.base})
    q = _sku_quantiles(t["sku_incremental_units"])
    for k, v in q.items():
        per_sku[f"incremental_units_{k}"] = v

    tornado_frame = _tornado(x, u, us) if tornado else pd.DataFrame(
        columns=["sku", "input", "low", "high", "profit_low", "profit_high", "swing"])
    settings = {"draws": draws, "seed": seed, "pre_dip_days": pre_dip_days, "post_dip_days": post_dip_days,
                "cannibalization": x.cannibalization_mode, "siblings": len(x.siblings),
                "seconds": time.perf_counter() - t0}
    return SimulationResult(plan, frame, waterfall, summary, float(np.mean(profit > 0)), float(worst.mean()),
                            tornado_frame, guardrails, per_sku, settings)


def _sku_quantiles(values: np.ndarray) -> dict:
    p10, p50, p90 = np.percentile(values, [10, 50, 90], axis=0)
    return {"mean": values.mean(axis=0), "p10": p10, "p50": p50, "p90": p90}


def _tornado(x: _Inputs, u: np.ndarray, us: np.ndarray) -> pd.DataFrame:
    """One-at-a-time swing: each uncertain input at its P10 and P90, the others at their median."""
    n_sku, n_in = len(x.skus), len(UNCERTAIN_INPUTS) - 1
    cases = []
    for i, s in enumerate(x.skus):
        for k, name in enumerate(UNCERTAIN_INPUTS[:-1]):
            mean, se = x.params[name]
            if not (np.isfinite(se[i]) and se[i] > 0):
                continue
            cases.append((s, name, i, k, None))
    sib = x.sibling_params["sibling_effect"]
    for j, s in enumerate(x.siblings):
        if np.isfinite(sib[1][j]) and sib[1][j] > 0:
            cases.append((s, "sibling_effect", None, None, j))
    columns = ["sku", "input", "low", "high", "profit_low", "profit_high", "swing"]
    if not cases:
        return pd.DataFrame(columns=columns)
    n = 2 * len(cases)
    uu = np.full((n, n_sku, n_in + 1), 0.5)
    uus = np.full((n, len(x.siblings)), 0.5)
    for c, (_, _, i, k, j) in enumerate(cases):
        for r, level in enumerate((0.1, 0.9)):
            if j is None:
                uu[2 * c + r, i, k] = level
            else:
                uus[2 * c + r, j] = level
    profit = _evaluate(x, uu, uus)["profit"]
    rows = []
    for c, (s, name, i, k, j) in enumerate(cases):
        if j is None:
            mean, se = x.params[name]
            low, high = _input_value(name, mean[i], se[i], 0.1), _input_value(name, mean[i], se[i], 0.9)
        else:
            low, high = (sib[0][j] + sib[1][j] * stats.norm.ppf(0.1), sib[0][j] + sib[1][j] * stats.norm.ppf(0.9))
        rows.append({"sku": s, "input": name, "low": low, "high": high, "profit_low": profit[2 * c],
                     "profit_high": profit[2 * c + 1], "swing": abs(profit[2 * c + 1] - profit[2 * c])})
    return pd.DataFrame(rows, columns=columns).sort_values("swing", ascending=False, kind="stable").reset_index(
        drop=True)


def _input_value(name, mean, se, level):
    if name == "elasticity":
        return float(_truncated_normal_negative(np.array(mean), np.array(se), np.array(level)))
    if name == "cannibalization":
        return float(_beta(np.array(mean), np.array(se), np.array(level)))
    return float(mean + se * stats.norm.ppf(level))


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per plan: ``plan, mechanic, depth, days, incremental_units_p50,
        profit_p10, profit_p50, profit_p90, profit_roi_p50, gmv_roi_p50,
        probability_profitable``, and against the first plan (paired draws,
        common random numbers) ``profit_difference_p10, _p50, _p90`` and
        ``probability_better`` [currency, fraction].
    results : tuple of SimulationResult
    """

    table: pd.DataFrame
    results: tuple[SimulationResult, ...]


def compare(plans: Sequence[PromotionPlan], response, baseline: pd.DataFrame, items: pd.DataFrame, *,
            draws: int = 2000, seed: int = 0, **options) -> Comparison:
    """Simulate several plans on the same draws (common random numbers) and set them side by side.

    Parameters are those of :func:`simulate`; ``baseline`` must cover every
    plan's window. Differences are taken draw by draw against the first
    plan, so that they carry the response uncertainty that matters to the
    choice and not Monte Carlo noise.
    """
    plans = list(plans)
    if not plans:
        _fail("parameter 'plans'", "must hold at least one PromotionPlan", plans, "pass [plan_a, plan_b].")
    results = tuple(simulate(p, response, baseline, items, draws=draws, seed=seed, **options) for p in plans)
    reference = results[0].draws["profit"].to_numpy()
    rows = []
    for k, (p, r) in enumerate(zip(plans, results)):
        diff = r.draws["profit"].to_numpy() - reference
        s = r.summary.set_index("metric")
        rows.append({
            "plan": p.label() if p.name or len(plans) == 1 else f"{k}: {p.label()}", "mechanic": p.mechanic,
            "depth": float(r.guardrails["depth"].mean()), "days": p.days,
            "incremental_units_p50": s.at["incremental_units", "p50"], "profit_p10": s.at["profit", "p10"],
            "profit_p50": s.at["profit", "p50"], "profit_p90": s.at["profit", "p90"],
            "profit_roi_p50": s.at["profit_roi", "p50"], "gmv_roi_p50": s.at["gmv_roi", "p50"],
            "probability_profitable": r.probability_profitable,
            "profit_difference_p10": float(np.percentile(diff, 10)),
            "profit_difference_p50": float(np.percentile(diff, 50)),
            "profit_difference_p90": float(np.percentile(diff, 90)),
            "probability_better": float(np.mean(diff > 0)) if k else np.nan})
    return Comparison(pd.DataFrame(rows), results)
