"""Own-price promotion response learned from daily history (issue 5, demand response).

:func:`promotion_exposure` turns the ``promotions`` table into one row per SKU
and promoted day with the effective depth the customer saw;
:func:`fit_own_price_response` fits, per SKU, a log-link negative-binomial
(NB2) regression of daily units on the log price ratio with seasonality,
calendar events and mechanic dummies (stage B, stock-out days censored), then
the pre- and post-promotion dips and the cannibalization of category siblings
as fractions of the fitted bumps (stage C).

The demand equation (notes section 2.4, SCAN*PRO-style)::

    log b_t = a + trend(t) + weekday(t) + yearly(t) + event(t)       # baseline
    E[q_t]  = b_t (1 - d_t) ** beta * exp(sum_m gamma_m mechanic_m(t))   # promoted days
    E[q_t]  = a_i b_t - phi u_post(t) - psi u_pre(t) - c u_cann(t)        # other days

``beta`` is the own price (deal) elasticity: the lift of a depth ``d`` is
``(1 - d) ** beta``. ``u_post`` spreads each promotion's fitted bump over
the ``post_dip_days`` after it (in proportion to the baseline), ``u_pre``
over the ``pre_dip_days`` before it, and ``u_cann`` spreads the bump of a
single-SKU promotion over the category siblings without an offer that day.
So ``phi`` (``dip_fraction``) is the share of the bump missing afterwards
(pull-forward), ``psi`` (``pre_dip_fraction``) the share missing before, and
``c`` (``cannibalization_share``) the share taken from siblings: the
quantities the bump decomposition needs, non-negative by construction and
pooled per category. A fixed per-day dip or sibling dummy, as fitted
before, ignores that the loss scales with the bump, and a sibling dummy is
on for most days of a category with many single-SKU offers, where it
absorbs level and calendar variation: on the demo shop it put on average
66% of a window's units into cannibalization and 68% into dips (truth 16%
and 14%).

The baseline ``b`` is learned on days free of every effect stage C
estimates (mask and predict, notes section 2.4): the SKU's own promotion,
pre- and post-promotion windows, and the days on which a category sibling
runs a single-SKU promotion are left out of stages A and B. Fitted on the
cannibalized days, the category profile's short day effects (the window
after a shop-wide coupon, a festival) took up the siblings' lost units, and
the fractions came out at half the truth. Stage C reads the bumps implied
by the pooled elasticities (regression calibration) and leaves out the days
of shop- and category-wide offers, whose baseline carries the offer's lift
estimated from the offer's own few days. On the demo shop the fractions give
11.1% of the single-SKU windows' units to cannibalization and 9.1% to dips
against a true 12.7% and 9.0% (before these changes 6.0% and 8.4%;
``benchmarks/promo_response.py``).
"""

from __future__ import annotations

import time
import warnings as _warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from opslib.errors import DataError
from opslib.promo.mechanics import _scope_rule

__all__ = [
    "ResponseSettings",
    "OwnPriceResponse",
    "LINE_LEVEL_MECHANICS",
    "MULTI_UNIT_MECHANICS",
    "effective_depth",
    "realized_depths",
    "promotion_exposure",
    "fit_own_price_response",
]

LINE_LEVEL_MECHANICS: tuple[str, ...] = ("percent_off", "flash_sale", "second_half_price", "bogo")
"""Mechanics that discount the line itself; the others act on the order (threshold,
coupon, gift, points) and apply only to SKU-days without a line-level offer."""

MULTI_UNIT_MECHANICS: tuple[str, ...] = ("second_half_price", "bogo")
"""Line-level mechanics whose discount per unit depends on how many units a buyer takes: their
terms do not fix the price cut, the order lines show it (:func:`realized_depths`)."""


@dataclass(frozen=True)
class ResponseSettings:
    """Settings of :func:`fit_own_price_response` (frozen).

    Parameters
    ----------
    yearly_harmonics : int, default 2
        Fourier pairs of the yearly seasonality (0 to leave it out).
    trend : bool, default True
        Linear trend in log demand [per year].
    pre_dip_days : int, default 7
        Days before the start of a line-level promotion that form the
        pre-promotion (anticipation) window; 0 leaves the term out.
    post_dip_days : int, default 14
        Days after the end of a line-level promotion that form the
        post-promotion (pull-forward) window; 0 leaves the term out.
    mechanic_effects : tuple of str, default ("flash_sale",)
        Mechanics that get their own dummy (a visibility effect on top of the
        price effect). Mechanics not listed are assumed to act through their
        effective depth only.
    sibling_effect : bool, default True
        Estimate the cannibalization share: the bump of single-SKU (``sku:``
        scope) line-level promotions spread over the category's other SKUs
        on days without their own line-level offer (stage C). The days on
        which a sibling runs such a promotion are then left out of the
        baseline (stages A and B), as the own pre- and post-promotion
        windows are.
    coupon_redemption : float, default 0.5
        Share of customers assumed to use a coupon when turning a coupon's
        face value into an effective depth (see :func:`effective_depth`).
    burn_in_days : int, default 60
        Days dropped at the start of a SKU that starts after the first day of
        the data (a new item ramping up).
    min_promo_days : int, default 3
        Fewer own promoted days (with a non-zero depth) in the fit leave the
        elasticity unidentified (NaN) for that SKU.
    min_units : float, default 10
        Fewer units sold over the fitted days leave the SKU unfitted.
    day_effect_scopes : tuple of str, default ("all", "category")
        Scopes (``"all"``, ``"category"``) whose promotions are treated as a
        day effect of the category profile rather than as a price signal:
        when every SKU is promoted at once there is no unpromoted SKU to
        compare with, and the window's lift is confounded with whatever else
        happened then (a festival, a pre-holiday stocking surge). On the demo
        shop the snacks' New Year 15% off runs with an unrecorded pre-festival
        stocking surge: with ``("all",)`` the snacks' elasticities come out
        near -4 instead of -2 (pooled MAE 0.80 against 0.58 with the
        default). Use ``("all",)`` when category-wide offers are the only
        price variation and the calendar records every event.
    min_baseline_promo_units : float, default 5
        Fewer expected baseline units over the own promoted days leave the
        elasticity unidentified: with a handful of units the Poisson fit
        separates (all-zero promotion days give an infinite coefficient).
        The rule looks at the baseline, not at the promotion sales, so it
        selects no SKU for its response.
    robust_block_days : int, default 28
        Standard errors of stage B are at least the cluster-robust ones
        (:func:`_poisson_glm`), with each run of own promoted days one
        cluster and the other days cut into blocks of this many days; 0 keeps
        the quasi-likelihood standard errors alone. On the demo shop the
        quarter of SKUs with the smallest standard errors (the fast movers)
        had errors 1.4 times their standard errors without it.
    suspected_stockouts : bool, default True
        When ``demand`` has the ``suspected_stockout`` column
        (:func:`opslib.data.daily_demand`), treat its True days like
        ``in_stock`` False: left out of the fit (a zero-sales day of a hidden
        stock-out, physical stock gone while the book shows units, is not
        demand). False uses ``in_stock`` alone.
    """

    yearly_harmonics: int = 2
    trend: bool = True
    pre_dip_days: int = 7
    post_dip_days: int = 14
    mechanic_effects: tuple[str, ...] = ("flash_sale",)
    sibling_effect: bool = True
    coupon_redemption: float = 0.5
    burn_in_days: int = 60
    min_promo_days: int = 3
    min_units: float = 10.0
    min_baseline_promo_units: float = 5.0
    day_effect_scopes: tuple[str, ...] = ("all", "category")
    calendar_flags: tuple[str, ...] = ("is_holiday", "supplier_shutdown")
    negative_binomial: bool = True
    censored_stockouts: bool = True
    censoring_iterations: int = 5
    robust_block_days: int = 28
    suspected_stockouts: bool = True


@dataclass(frozen=True)
class OwnPriceResponse:
    """Result of :func:`fit_own_price_response`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per SKU: ``sku, category, elasticity, elasticity_se`` (the own
        price elasticity and its quasi-Poisson standard error, NaN when not
        identified), ``dip_fraction, pre_dip_fraction,
        cannibalization_share`` (shares of the bump lost after and before a
        promotion and taken from category siblings [fraction], >= 0; the
        dips shrunk toward the category estimate, the cannibalization share
        one per category) with ``_se`` and the SKU's own ``_unpooled,
        _unpooled_se``; ``post_dip, post_dip_se, pre_dip, pre_dip_se,
        sibling_effect, sibling_effect_se``: the same effects as log
        multipliers of a day's units at the SKU's mean exposure (what
        :func:`opslib.promo.simulate` reads),
        ``mechanic_<m>, mechanic_<m>_se`` for each mechanic dummy,
        ``dispersion`` (Pearson chi2 / residual df), ``n_days`` (days fitted),
        ``n_promo_days`` (own promoted days fitted), ``n_stockout_days``
        (days excluded as censored), ``units`` (units over the fitted days),
        ``model`` (``"poisson_glm"``, ``"poisson_glm_no_price"`` when the
        elasticity is not identified, ``"not_fitted"``).
    warnings : pandas.DataFrame
        ``sku, message``: why a SKU was not fitted or its elasticity is NaN.
    settings : ResponseSettings
    report : dict
        Counts: SKUs, fitted SKUs, SKUs with an elasticity, rows excluded as
        stock-outs (``suspected_stockout_days_excluded`` of them suspected
        hidden ones), burn-in and line-level offers overlapping a shop- or
        category-wide one, rows excluded because their baseline is unknown
        (``unknown_baseline_days_excluded``: a day effect of the category
        profile, e.g. an event, that never fell on a day without promotion
        effects), seconds.
    depths : pandas.DataFrame
        The promotions whose depth was read from the order lines
        (:func:`realized_depths`; empty without ``order_lines``).
    """

    estimates: pd.DataFrame
    warnings: pd.DataFrame
    settings: ResponseSettings
    report: dict = field(default_factory=dict)
    depths: pd.DataFrame = field(default_factory=pd.DataFrame)


def effective_depth(promotion, *, coupon_redemption: float = 0.5) -> float:
    """Effective depth of one promotion: the relative price cut a buyer sees [fraction].

    Parameters
    ----------
    promotion : pandas.Series or mapping
        A row of the ``promotions`` table (``mechanic`` and the mechanic's
        columns).
    coupon_redemption : float, default 0.5
        Share of buyers assumed to redeem a coupon.

    Returns
    -------
    float
        ``percent_off``, ``flash_sale``, ``points``: ``depth``;
        ``second_half_price``: ``depth / 2`` (a 50% cut on the second of two
        units, default depth 0.5); ``bogo``: 0.5; ``threshold``,
        ``repeating_threshold``, ``gift``: ``reward / threshold`` of the first
        tier (the rate at the threshold); ``item_count``: the first tier's
        depth; ``coupon``: ``coupon_redemption * reward / threshold``
        (``reward / price`` is unknown here, so a no-threshold coupon counts
        as depth 0). Always in ``[0, 0.95]``.

    Notes
    -----
    This is the nominal depth from the promotion's terms, not the paid price
    on the day: the paid price is only seen on days with a sale (it is
    missing exactly when demand was low) and for order-level offers it mixes
    discounted and undiscounted orders.
    """
    from opslib.promo.mechanics import promotion_terms

    terms = promotion_terms(promotion)
    m = terms.mechanic
    if m in ("percent_off", "flash_sale", "points"):
        d = terms.depth
    elif m == "second_half_price":
        d = (terms.depth if terms.depth is not None else 0.5) / 2
    elif m == "bogo":
        d = 0.5
    elif m in ("threshold", "item_count"):
        tier = terms.tiers[0]
        d = tier.reward / tier.threshold if m == "threshold" else tier.reward
    elif m in ("repeating_threshold", "gift"):
        d = terms.reward / terms.threshold if terms.threshold else 0.0
    elif m == "coupon":
        d = coupon_redemption * terms.reward / terms.threshold if terms.threshold else 0.0
    else:  # pragma: no cover - promotion_terms refuses unknown mechanics
        d = 0.0
    return float(np.clip(d if d is not None else 0.0, 0.0, 0.95))


def _require(frame, table, columns, fix):
    if frame is None:
        raise DataError(f"fit_own_price_response: the {table!r} table is required. Fix: {fix}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"fit_own_price_response: table {table!r} lacks column(s) {missing}; it has "
                        f"{list(frame.columns)}. Fix: {fix}")


def realized_depths(order_lines: pd.DataFrame, promotions: pd.DataFrame, items: pd.DataFrame, *,
                    mechanics: tuple[str, ...] = MULTI_UNIT_MECHANICS, min_units: float = 30.0) -> pd.DataFrame:
    """Discount per unit actually given by multi-unit mechanics, read from the order lines [fraction].

    A second-item-half-price or buy-one-get-one offer cuts the price of a
    unit only when the buyer takes two: the cut per unit sold depends on how
    many buyers take one, two or three units, which the terms do not say. The
    order lines do: ``1 - sum(paid_amount) / sum(qty * list_price)`` over
    every line of the promoted SKUs on the promoted days, the lines that did
    not qualify included (a buyer of one unit paid the list price). Lines
    tagged with another promotion (an order-level offer stacked on top) are
    left out.

    Parameters
    ----------
    order_lines : pandas.DataFrame
        ``order_ts, sku, qty, paid_amount, list_price`` (``promo_id``
        optional).
    promotions, items : pandas.DataFrame
        The ``promotions`` table and ``sku, category``.
    mechanics : tuple of str, default ``MULTI_UNIT_MECHANICS``
        The mechanics to measure.
    min_units : float, default 30
        Fewer units over a group's promotions leave its ``realized_depth``
        at the nominal depth of :func:`effective_depth`.

    Returns
    -------
    pandas.DataFrame
        One row per promotion of ``mechanics``: ``promo_id, mechanic,
        nominal_depth`` (:func:`effective_depth`), ``units`` and
        ``own_realized_depth`` (its own lines; NaN without a line), and
        ``realized_depth``: the unit-weighted realized discount of all the
        promotions with the same mechanic and terms (``depth``), the value to
        use as the promotion's depth. Pooling over the promotions with the
        same terms keeps the depth a property of the offer: a promotion's own
        realized discount rises with its own multi-unit purchases, i.e. with
        its demand, and would bias the elasticity fitted on it.

    Raises
    ------
    opslib.DataError
        When a column is missing.

    Notes
    -----
    The demand response is ``(1 - d) ** beta`` in the average price paid per
    unit, so ``d`` is the average discount per unit; the usual convention
    (half the second unit's cut, 0.25 for a 50% second unit) assumes every
    buyer takes exactly two units.
    """
    _require(order_lines, "order_lines", ("order_ts", "sku", "qty", "paid_amount", "list_price"),
             "pass the canonical order_lines table with the list price of each line.")
    columns = ["promo_id", "mechanic", "nominal_depth", "units", "own_realized_depth", "realized_depth"]
    chosen = promotions[promotions["mechanic"].astype(str).isin(mechanics)]
    if chosen.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64" if "depth" in c or c == "units" else "str")
                             for c in columns})
    days = promotion_exposure(chosen, items)[["sku", "date", "promo_id"]]
    lines = pd.DataFrame({"sku": order_lines["sku"].astype(str).to_numpy(),
                          "date": pd.to_datetime(order_lines["order_ts"]).dt.normalize().to_numpy(),
                          "qty": pd.to_numeric(order_lines["qty"], errors="coerce").to_numpy(float),
                          "paid": pd.to_numeric(order_lines["paid_amount"], errors="coerce").to_numpy(float),
                          "list": pd.to_numeric(order_lines["list_price"], errors="coerce").to_numpy(float),
                          "tag": (order_lines["promo_id"] if "promo_id" in order_lines.columns
                                  else pd.Series(pd.NA, index=order_lines.index)).to_numpy(object)})
    x = lines.merge(days, on=["sku", "date"], how="inner")
    tag = pd.Series(x["tag"]).astype("string")
    x = x[(tag.isna() | (tag == x["promo_id"].astype(str))).to_numpy()]
    x = x[np.isfinite(x["qty"]) & np.isfinite(x["paid"]) & np.isfinite(x["list"]) & (x["list"] > 0)]
    x = x.assign(gross=x["qty"] * x["list"])
    sums = x.groupby("promo_id")[["qty", "paid", "gross"]].sum()
    out = pd.DataFrame({"promo_id": chosen["promo_id"].astype(str).to_numpy(),
                        "mechanic": chosen["mechanic"].astype(str).to_numpy(),
                        "nominal_depth": [effective_depth(r) for _, r in chosen.iterrows()]})
    terms = chosen["depth"].to_numpy(float) if "depth" in chosen.columns else np.full(len(chosen), np.nan)
    out["terms"] = np.where(np.isfinite(terms), terms, -1.0)
    s = sums.reindex(out["promo_id"])
    out["units"] = s["qty"].fillna(0.0).to_numpy()
    out["paid"], out["gross"] = s["paid"].fillna(0.0).to_numpy(), s["gross"].fillna(0.0).to_numpy()
    out["own_realized_depth"] = np.where(out["gross"] > 0, 1 - out["paid"] / out["gross"].where(out["gross"] > 0), np.nan)
    group = out.groupby(["mechanic", "terms"])[["units", "paid", "gross"]].transform("sum")
    pooled = np.where(group["gross"] > 0, 1 - group["paid"] / group["gross"].where(group["gross"] > 0), np.nan)
    out["realized_depth"] = np.clip(np.where(group["units"] >= min_units, pooled, out["nominal_depth"]), 0.0, 0.95)
    return out[columns].reset_index(drop=True)


def promotion_exposure(promotions: pd.DataFrame, items: pd.DataFrame, *, start=None, end=None,
                       coupon_redemption: float = 0.5, depths=None) -> pd.DataFrame:
    """One row per SKU and promoted day: the promotion that applies and its depth.

    Parameters
    ----------
    promotions : pandas.DataFrame
        The canonical ``promotions`` table (``promo_id, mechanic, start, end,
        scope`` and the mechanic's columns).
    items : pandas.DataFrame
        ``sku, category`` (category needed for ``category:`` scopes and for
        siblings).
    start, end : date-like, optional
        Clip the promotion windows to this range.
    coupon_redemption : float, default 0.5
        Passed to :func:`effective_depth`.
    depths : mapping or pandas.Series, optional
        ``promo_id -> depth`` [fraction]: the depth of these promotions
        instead of :func:`effective_depth` (e.g. the ``realized_depth`` of
        :func:`realized_depths`).

    Returns
    -------
    pandas.DataFrame
        ``sku, date, promo_id, mechanic, level`` (``"line"`` or ``"order"``),
        ``depth`` (effective depth [fraction]), ``single_sku`` (the promotion
        is ``sku:``-scoped on SKUs of one category). A line-level promotion
        wins over an order-level one on the same SKU-day (they do not stack);
        among promotions of the same level the deepest wins.

    Raises
    ------
    opslib.DataError
        When a column is missing or a row cannot be read (unknown mechanic,
        bad scope, missing depth).
    """
    _require(promotions, "promotions", ("promo_id", "mechanic", "start", "end", "scope"),
             "pass the canonical promotions table (opslib.data.schema).")
    _require(items, "items", ("sku", "category"), "pass the items table with a category column.")
    category = items.set_index("sku")["category"].astype(str)
    all_skus = category.index.astype(str).to_numpy()
    overrides = {} if depths is None else {str(k): float(v) for k, v in dict(depths).items() if np.isfinite(v)}
    frames = []
    for _, row in promotions.iterrows():
        kind, values = _scope_rule(str(row["scope"]).strip() if pd.notna(row["scope"]) else "all")
        if kind == "all":
            skus = all_skus
        elif kind == "category":
            skus = all_skus[category.isin(values).to_numpy()]
        else:
            skus = np.array([s for s in values if s in category.index])
        a, b = pd.Timestamp(row["start"]).normalize(), pd.Timestamp(row["end"]).normalize()
        if b < a:
            raise DataError(f"promotion_exposure: table 'promotions', promotion {row['promo_id']!r}: end {b.date()} "
                            f"is before start {a.date()}. Fix: swap or correct the dates.")
        if start is not None:
            a = max(a, pd.Timestamp(start))
        if end is not None:
            b = min(b, pd.Timestamp(end))
        if len(skus) == 0 or b < a:
            continue
        days = pd.date_range(a, b, freq="D")
        mech = str(row["mechanic"])
        single = kind == "sku" and category.loc[skus].nunique() == 1
        frames.append(pd.DataFrame({
            "sku": np.repeat(skus, len(days)), "date": np.tile(days.to_numpy(), len(skus)),
            "promo_id": str(row["promo_id"]), "mechanic": mech,
            "level": "line" if mech in LINE_LEVEL_MECHANICS else "order",
            "depth": overrides.get(str(row["promo_id"]), effective_depth(row, coupon_redemption=coupon_redemption)),
            "single_sku": single}))
    columns = ["sku", "date", "promo_id", "mechanic", "level", "depth", "single_sku"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, [
            "str", "datetime64[ns]", "str", "str", "str", "float64", "bool"])})
    out = pd.concat(frames, ignore_index=True)
    out["_rank"] = (out["level"] == "line").astype(int)
    out = (out.sort_values(["sku", "date", "_rank", "depth"], ascending=[True, True, False, False])
           .drop_duplicates(["sku", "date"]).drop(columns="_rank").reset_index(drop=True))
    return out[columns]


def _window_flags(promo_days: np.ndarray, before: int, after: int):
    """Days in the ``before`` days ahead of a promoted run and ``after`` days behind it (not promoted)."""
    n = len(promo_days)
    pre = np.zeros(n, bool)
    post = np.zeros(n, bool)
    if not promo_days.any():
        return pre, post
    p = promo_days.astype(np.int8)
    starts = np.flatnonzero(np.diff(np.r_[0, p]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[p, 0]) == -1)
    for s in starts:
        pre[max(0, s - before):s] = True
    for e in ends:
        post[e + 1:min(n, e + 1 + after)] = True
    return pre & ~promo_days, post & ~promo_days


def _keep_independent(x: np.ndarray, names: list[str], priority: list[str]) -> list[str]:
    """Drop constant (but the intercept) and linearly dependent columns, ``priority`` columns first.

    Sequential rule: a column is kept when it is not a linear combination of
    the columns kept before it (the diagonal of the QR factor of the ordered
    matrix is not negligible against the column's norm).
    """
    from scipy.linalg import qr

    order = [n for n in priority if n in names] + [n for n in names if n not in priority]
    index = {n: i for i, n in enumerate(names)}
    order = [n for n in order if n.startswith("const") or n.startswith("sku_")
             or np.ptp(x[:, index[n]]) > 0]
    m = x[:, [index[n] for n in order]]
    r = qr(m, mode="r", check_finite=False)[0]
    diag = np.abs(np.diag(r))
    norms = np.linalg.norm(m, axis=0)
    kept = {n for n, d, c in zip(order, diag, norms) if c > 0 and d > 1e-8 * c}
    return [n for n in names if n in kept]


class _PoissonFit(NamedTuple):
    params: np.ndarray
    se: np.ndarray
    scale: float
    converged: bool


def _poisson_glm(y: np.ndarray, x: np.ndarray, offset: np.ndarray | None = None, *, max_iter: int = 30,
                 tol: float = 1e-6, negative_binomial: bool = False, start: np.ndarray | None = None,
                 clusters: np.ndarray | None = None) -> _PoissonFit:
    """Poisson or negative-binomial (NB2) GLM, log link, by iteratively reweighted least squares.

    With ``negative_binomial`` the variance is ``mu + alpha mu^2`` and the
    IRLS weights are ``mu / (1 + alpha mu)``; ``alpha`` is re-estimated
    between rounds by the Cameron-Trivedi auxiliary regression
    ``(y - mu)^2 - y = alpha mu^2`` (least squares through the origin,
    floored at 0). Standard errors are ``sqrt(diag((X' W X)^-1) * phi)``
    with ``phi`` the Pearson chi2 (under the fitted variance) over the
    residual degrees of freedom, at least 1 (quasi-likelihood on top of the
    variance function). ``start`` (coefficients of a previous fit, e.g. the
    round before in the censoring EM) only warm-starts the first round: the
    Poisson round is convex, so the result is the same, in fewer
    iterations. Without ``negative_binomial`` this is the estimator
    of ``statsmodels.GLM(..., family=Poisson()).fit(scale="X2")``. The
    returned ``scale`` is ``phi`` (Poisson) or ``alpha`` (NB2).

    With ``clusters`` (one label per row) the variance of each coefficient
    is the larger of the quasi-likelihood one above and the cluster-robust
    sandwich ``G / (G - 1) B (sum_c s_c s_c') B`` with ``B = (X' W X)^-1``
    and ``s_c = sum_{i in c} x_i (y_i - mu_i) / (1 + alpha mu_i)`` the score
    of cluster ``c`` [2]_: days of one promotion share the error of the
    baseline on those days (a level the model does not know), so they are
    not independent observations of the lift. Where the count noise is small
    (a fast mover) that shared error dominates and the day-level variance
    understates the uncertainty of the elasticity many times over. Taking
    the larger of the two keeps the sandwich, noisy with a few clusters,
    from making a SKU look more precise than the model says.

    References
    ----------
    .. [1] Cameron & Trivedi (2013), Regression Analysis of Count Data, 2nd
       ed., sections 3.2-3.3 (NB2, the auxiliary regression for alpha).
    .. [2] Cameron & Miller (2015), "A practitioner's guide to cluster-robust
       inference", Journal of Human Resources 50(2), sections II-III.
    """
    n, k = x.shape
    off = np.zeros(n) if offset is None else offset
    if start is None:
        mu = y + 0.1 * y.mean() + 1e-3
        eta = np.log(mu)
        beta = np.zeros(k)
    else:
        beta = np.asarray(start, float)
        eta = np.clip(x @ beta + off, -30, 30)
        mu = np.exp(eta)
    alpha = 0.0
    converged = False
    rounds = 3 if negative_binomial else 1
    for round_ in range(rounds):
        for _ in range(max_iter):
            z = eta - off + (y - mu) / mu
            w = mu / (1 + alpha * mu)
            xw = x * w[:, None]
            info = x.T @ xw
            new = np.linalg.solve(info, xw.T @ z)
            eta = np.clip(x @ new + off, -30, 30)
            mu = np.exp(eta)
            if np.max(np.abs(new - beta)) < tol * (1 + np.max(np.abs(beta))):
                beta = new
                converged = True
                break
            beta = new
        if negative_binomial and round_ < rounds - 1:
            alpha = max(0.0, float(np.sum(mu ** 2 * ((y - mu) ** 2 - y)) / np.sum(mu ** 4)))
    w = mu / (1 + alpha * mu)
    cov = np.linalg.inv(x.T @ (x * w[:, None]))
    phi = max(float(np.sum((y - mu) ** 2 / (mu * (1 + alpha * mu))) / max(n - k, 1)), 1.0)
    var = np.diag(cov) * phi
    if clusters is not None:
        labels, code = np.unique(clusters, return_inverse=True)
        if len(labels) > 1:
            score = x * ((y - mu) / (1 + alpha * mu))[:, None]
            sums = np.zeros((len(labels), k))
            np.add.at(sums, code, score)
            robust = cov @ (sums.T @ sums) @ cov * len(labels) / (len(labels) - 1)
            var = np.maximum(var, np.diag(robust))
    return _PoissonFit(beta, np.sqrt(var), alpha if negative_binomial else phi, converged)


def _censored_mean(sold: np.ndarray, mu: np.ndarray, alpha: float) -> np.ndarray:
    """``E[Y | Y >= sold]`` for Poisson (``alpha = 0``) or NB2 demand of mean ``mu`` [units].

    Uses ``j p(j; r, q) = mu p(j - 1; r + 1, q)`` for the negative binomial
    (and ``j p(j; mu) = mu p(j - 1; mu)`` for the Poisson), so that
    ``E[Y 1(Y >= c)] = mu P(Y' >= c - 1)`` with ``Y'`` the shifted law.
    """
    from scipy import stats

    c = np.asarray(sold, float)
    if alpha <= 1e-8:
        num = stats.poisson.sf(c - 2, mu)
        den = stats.poisson.sf(c - 1, mu)
    else:
        r = 1.0 / alpha
        q = r / (r + mu)
        num = stats.nbinom.sf(c - 2, r + 1, q)
        den = stats.nbinom.sf(c - 1, r, q)
    out = np.where(den > 1e-300, mu * num / np.maximum(den, 1e-300), c)
    return np.maximum(out, c)


_EFFECTS = ("dip_fraction", "pre_dip_fraction", "cannibalization_share")


def _runs(flags: np.ndarray):
    """Start and end positions of the runs of True in ``flags``."""
    p = flags.astype(np.int8)
    return np.flatnonzero(np.diff(np.r_[0, p]) == 1), np.flatnonzero(np.diff(np.r_[p, 0]) == -1)


def _expected_bumps(frame: pd.DataFrame, rows: list[dict], line_base: np.ndarray,
                    settings: ResponseSettings) -> np.ndarray:
    """Expected own bump of every line-level promoted day given the fits [units/day] (stage C regressor).

    ``line_base * (E[lift] - 1)`` with ``E[lift] = exp(eps l + (s l)^2 / 2 + gamma + s_gamma^2 / 2)``,
    ``l = log(1 - d)``, ``eps, s`` the SKU's elasticity pooled per category
    (:func:`opslib.promo.pool_elasticities`) and ``gamma, s_gamma`` its mechanic effect shrunk toward
    the shop mean (:func:`opslib.promo.pooling.empirical_bayes_shrinkage`), each the posterior mean and
    standard deviation under the normal model.

    This is regression calibration [1]_: with the SKU's own, noisy elasticity
    the bump regressor carries a measurement error that biases the fractions
    toward 0 (and a SKU without an identified elasticity would get no bump at
    all while its promotions still take units from its siblings), whereas the
    expected bump given the data leaves a linear fit unbiased. It is also the
    bump the fractions are later multiplied with (the simulation reads the
    pooled elasticities).

    References
    ----------
    .. [1] Carroll, Ruppert, Stefanski & Crainiceanu (2006), Measurement Error
       in Nonlinear Models, 2nd ed., chapter 4 (regression calibration).
    """
    from opslib.promo.pooling import empirical_bayes_shrinkage, pool_elasticities

    bump = np.zeros(len(frame))
    fitted = pd.DataFrame([r for r in rows if str(r.get("model", "")).startswith("poisson")])
    if fitted.empty:
        return bump
    pooled = pool_elasticities(fitted.reindex(columns=["sku", "category", "elasticity", "elasticity_se"]))
    eps = pooled.estimates.set_index("sku")[["elasticity", "elasticity_se"]]
    mechanic = frame["mechanic"].to_numpy()
    log_ratio = np.log1p(-frame["depth"].to_numpy())
    mech_terms = {}
    for m in settings.mechanic_effects:
        name = f"mechanic_{m}"
        if name not in fitted.columns:
            continue
        b, s = fitted[name].to_numpy(float), fitted[f"{name}_se"].to_numpy(float)
        if not np.any(np.isfinite(b) & np.isfinite(s) & (s > 0)):
            continue
        r = empirical_bayes_shrinkage(b, s)
        mech_terms[m] = dict(zip(fitted["sku"], r.estimate + r.se ** 2 / 2))
    for sku, idx in frame.groupby("sku", sort=False).indices.items():
        if sku not in eps.index:
            continue
        e, s = eps.loc[sku]
        price = log_ratio[idx]
        log_lift = e * price + (s * price) ** 2 / 2
        for m, term in mech_terms.items():
            log_lift = log_lift + np.where(mechanic[idx] == m, term[sku], 0.0)
        on = line_base[idx] > 0
        bump[idx] = np.where(on, line_base[idx] * np.maximum(np.exp(np.clip(log_lift, -30, 30)) - 1, 0.0), 0.0)
    return bump


def _dip_and_cannibalization(frame: pd.DataFrame, base: np.ndarray, bump: np.ndarray, alpha: np.ndarray,
                             settings: ResponseSettings) -> dict:
    """Stage C of :func:`fit_own_price_response`: dip and cannibalization fractions of the bump.

    Regressors, in expected units lost at a fraction of 1 (``b`` the stage-B
    baseline, ``B_k`` the expected bump of the SKU's line-level run ``k``
    given the pooled fits, :func:`_expected_bumps`):
    ``u_post = B_k b_t / sum_post b`` on the ``post_dip_days`` after the run,
    ``u_pre`` alike on the ``pre_dip_days`` before it, and
    ``u_cann = b_t * (bump of the category's single-SKU promotions on day t) /
    (baseline of the category's SKUs without a line-level offer that day)``.
    The mean on the days without an own promotion is
    ``E[q_t] = a_i b_t - phi u_post - psi u_pre - gamma u_cann``, linear in
    ``(a_i, phi, psi, gamma)``: weighted least squares with NB2 weights
    ``1 / (b (1 + alpha b))`` (quasi-likelihood, Pearson dispersion), per SKU
    and per category with the SKU levels ``a_i`` profiled out
    (Frisch-Waugh-Lovell). The category fractions are constrained to be
    non-negative (NNLS on the Cholesky factor of the information); the SKU
    dips are shrunk toward them (empirical Bayes, REML).

    The fit uses the SKU's days in stock without an own promotion and
    without a shop- or category-wide offer on its category: on those days
    the baseline carries the offer's lift, a day effect of the category
    estimated from the offer's own days only, and a sibling's promotion
    shifts every sibling in proportion to its baseline just as such a day
    effect does, so the two cannot be told apart there (on the demo shop the
    festival flash sales, the largest bumps, fall on such days).
    """
    from scipy.linalg import cholesky
    from scipy.optimize import nnls

    from opslib.promo.pooling import shrink_toward

    n = len(frame)
    fitted = np.isfinite(base)
    b_all = np.where(fitted, base, 0.0)
    line = frame["line"].to_numpy(bool)
    u = {name: np.zeros(n) for name in _EFFECTS}
    index = frame.groupby("sku", sort=True).indices
    for sku, idx in index.items():
        if not fitted[idx].all():
            continue
        flags, b = line[idx], b_all[idx]
        for s, e in zip(*_runs(flags)):
            total = bump[idx[s:e + 1]].sum()
            if total <= 0:
                continue
            for name, days in (("dip_fraction", np.arange(e + 1, min(len(idx), e + 1 + settings.post_dip_days))),
                               ("pre_dip_fraction", np.arange(max(0, s - settings.pre_dip_days), s))):
                days = days[~flags[days]]
                if len(days) and b[days].sum() > 0:
                    u[name][idx[days]] += total * b[days] / b[days].sum()
    if settings.sibling_effect:
        single = line & (frame["own_single"].to_numpy() > 0)
        day = pd.DataFrame({"category": frame["category"].to_numpy(), "date": frame["date"].to_numpy(),
                            "bump": np.where(single, bump, 0.0), "free": np.where(~line, b_all, 0.0)})
        total = day.groupby(["category", "date"])[["bump", "free"]].transform("sum")
        ratio = np.where(total["free"] > 0, total["bump"] / np.maximum(total["free"], 1e-300), 0.0)
        u["cannibalization_share"] = np.where(~line & fitted, b_all * ratio, 0.0)
    use = fitted & frame["keep"].to_numpy(bool) & ~frame["promoted"].to_numpy(bool)
    use &= frame["in_stock"].to_numpy(bool) & ~frame["wide_offer"].to_numpy(bool)
    active = [name for name, days in (("dip_fraction", settings.post_dip_days),
                                      ("pre_dip_fraction", settings.pre_dip_days),
                                      ("cannibalization_share", int(settings.sibling_effect))) if days > 0]
    y_all = frame["units"].to_numpy(float)
    out: dict = {}
    per_sku, pooled = {}, {}
    categories = frame["category"].to_numpy()
    for cat in pd.unique(categories):
        a_mat, c_vec, chi2, dof, parts = np.zeros((len(active),) * 2), np.zeros(len(active)), 0.0, 0, []
        for sku, idx in index.items():
            if categories[idx[0]] != cat:
                continue
            rows = idx[use[idx]]
            if len(rows) < 30:
                continue
            b, y = b_all[rows], y_all[rows]
            w = 1.0 / (b * (1 + alpha[rows] * b) + 1e-12)
            z = -np.column_stack([u[name][rows] for name in active]) if active else np.zeros((len(rows), 0))
            bw = b * w
            zt = z - np.outer(b, bw @ z / (bw @ b))  # the SKU level a_i profiled out
            yt = y - b * (bw @ y) / (bw @ b)
            a_mat += zt.T @ (zt * w[:, None])
            c_vec += zt.T @ (w * yt)
            parts.append((sku, zt, yt, w))
            # the SKU on its own
            on = [k for k in range(len(active)) if np.any(z[:, k] != 0)]
            est = {}
            if on:
                x = np.column_stack([b, z[:, on]])
                info = x.T @ (x * w[:, None])
                try:
                    theta = np.linalg.solve(info, x.T @ (w * y))
                    disp = max(float(np.sum(w * (y - x @ theta) ** 2)) / max(len(y) - x.shape[1], 1), 1.0)
                    cov = np.linalg.inv(info) * disp
                    est = {active[k]: (theta[j + 1], np.sqrt(cov[j + 1, j + 1])) for j, k in enumerate(on)}
                except np.linalg.LinAlgError:
                    est = {}
            per_sku[sku] = est
        on = np.flatnonzero(np.diag(a_mat) > 0)
        theta, se = np.full(len(active), np.nan), np.full(len(active), np.nan)
        if len(on):
            a_on = a_mat[np.ix_(on, on)]
            try:
                free = np.linalg.solve(a_on, c_vec[on])
                upper = cholesky(a_on, lower=False)  # a_on = upper' upper
                theta[on] = nnls(upper, upper @ free)[0]
                for _, zt, yt, w in parts:
                    chi2 += float(np.sum(w * (yt - zt[:, on] @ theta[on]) ** 2))
                    dof += len(yt) - 1
                disp = max(chi2 / max(dof - len(on), 1), 1.0)
                se[on] = np.sqrt(np.diag(np.linalg.inv(a_on)) * disp)
            except (np.linalg.LinAlgError, ValueError):
                theta[:], se[:] = np.nan, np.nan
        pooled[cat] = dict(zip(active, zip(theta, se)))
        skus = [s for s, idx in index.items() if categories[idx[0]] == cat]
        for name in active:
            mean, mean_se = pooled[cat][name]
            own = np.array([per_sku.get(s, {}).get(name, (np.nan, np.nan)) for s in skus], float).reshape(-1, 2)
            if name == "cannibalization_share" or not np.isfinite(mean):
                est, est_se = np.full(len(skus), mean), np.full(len(skus), mean_se)
            else:
                est, est_se = shrink_toward(own[:, 0], own[:, 1], mean, mean_se, lower=0.0)
            for s, e, es, o in zip(skus, est, est_se, own):
                out.setdefault(s, {}).update({name: float(e), f"{name}_se": float(es), f"{name}_unpooled": o[0],
                                              f"{name}_unpooled_se": o[1]})
    # the same effects as log multipliers of a day's units, at the SKU's mean exposure (for simulate)
    for name, log_name, exposure in (("dip_fraction", "post_dip", u["dip_fraction"]),
                                     ("pre_dip_fraction", "pre_dip", u["pre_dip_fraction"]),
                                     ("cannibalization_share", "sibling_effect", u["cannibalization_share"])):
        if name not in active:
            continue
        for sku, idx in index.items():
            on = idx[exposure[idx] > 0]
            if sku not in out or not len(on) or not np.isfinite(out[sku].get(name, np.nan)):
                continue
            ratio = exposure[on].sum() / b_all[on].sum()
            frac, frac_se = out[sku][name], out[sku][f"{name}_se"]
            keep_share = max(1.0 - frac * ratio, 0.05)
            out[sku][log_name] = float(np.log(keep_share))
            out[sku][f"{log_name}_se"] = float(frac_se * ratio / keep_share)
    return out


def fit_own_price_response(demand: pd.DataFrame, promotions: pd.DataFrame, items: pd.DataFrame,
                           calendar: pd.DataFrame | None = None, *, skus=None,
                           settings: ResponseSettings | None = None,
                           order_lines: pd.DataFrame | None = None) -> OwnPriceResponse:
    """Per-SKU own price elasticity, promotion dips and cannibalization from daily history.

    Parameters
    ----------
    demand : pandas.DataFrame
        The canonical ``demand`` table (:func:`opslib.data.daily_demand`):
        ``sku, date, units`` [units/day] and ``in_stock`` (days with
        ``in_stock`` False are censored and left out; unknown is kept);
        ``suspected_stockout`` True days count as out of stock (see
        ``settings.suspected_stockouts``).
    promotions : pandas.DataFrame
        The canonical ``promotions`` table.
    items : pandas.DataFrame
        ``sku, category``.
    calendar : pandas.DataFrame, optional
        ``date, event``: one dummy per event name (festivals, holidays) so
        that event demand is not taken for promotion lift.
    skus : sequence of str, optional
        Fit only these SKUs (default: every SKU of ``demand``).
    settings : ResponseSettings, optional
    order_lines : pandas.DataFrame, optional
        The ``order_lines`` table with ``list_price``: the depth of the
        multi-unit mechanics (second item half price, BOGO) is then the
        discount per unit they gave (:func:`realized_depths`, on the lines up
        to the last day of ``demand``) instead of the convention of
        :func:`effective_depth`. A convention that overstates the cut
        attenuates the elasticity of every SKU whose price variation comes
        from such offers.

    Returns
    -------
    OwnPriceResponse

    Raises
    ------
    opslib.DataError
        When a table or column is missing, ``units`` is negative or
        missing, or ``skus`` names a SKU absent from ``demand``.

    Notes
    -----
    Each SKU is fitted by ``statsmodels`` GLM, Poisson family, log link, on
    the days in stock; zeros need no transformation. Standard errors use the
    Pearson dispersion (quasi-Poisson), which covers the gamma-Poisson and
    lumpy overdispersion of retail demand. The elasticity is identified by
    the variation of depth across the SKU's own promotions (and by
    promotion versus no promotion); SKUs with fewer than
    ``min_promo_days`` promoted days get NaN and a warning, to be filled by
    :func:`opslib.promo.pool_elasticities`. Promotion timing is chosen by
    planners, so the estimates are as exogenous as the controls make them
    (notes, section 2.4, endogeneity).

    References
    ----------
    .. [1] van Heerde, Leeflang & Wittink (2000), "The estimation of pre- and
       postpromotion dips with store-level scanner data", JMR 37(3).
    .. [2] McCullagh & Nelder (1989), Generalized Linear Models, 2nd ed.,
       section 6.2 (Poisson log-linear models, quasi-likelihood dispersion).
    """
    t0 = time.perf_counter()
    settings = settings or ResponseSettings()
    _require(demand, "demand", ("sku", "date", "units"), "derive it with opslib.data.daily_demand(workspace).")
    _require(items, "items", ("sku", "category"), "pass the items table with a category column.")
    units_all = pd.to_numeric(demand["units"], errors="coerce")
    bad = units_all.isna() | (units_all < 0)
    if bad.any():
        rows = demand.loc[bad, ["sku", "date", "units"]].head(5).to_dict("records")
        raise DataError(f"fit_own_price_response: table 'demand', column 'units' must be a number >= 0; "
                        f"{int(bad.sum())} rows break it, e.g. {rows}. Fix: use gross sales "
                        "(daily_demand(net_of_returns=False)) and fill missing days with 0.")
    frame = demand[["sku", "date"]].copy()
    frame["sku"] = frame["sku"].astype(str)
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    frame["units"] = units_all.to_numpy(dtype=float)
    frame["in_stock"] = (demand["in_stock"].astype("boolean").fillna(True).to_numpy(dtype=bool)
                         if "in_stock" in demand.columns else True)
    frame["suspected"] = (demand["suspected_stockout"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                          & frame["in_stock"].to_numpy(dtype=bool)
                          if settings.suspected_stockouts and "suspected_stockout" in demand.columns else False)
    frame["in_stock"] &= ~frame["suspected"]
    category = items.assign(sku=items["sku"].astype(str)).set_index("sku")["category"].astype(str)
    present = frame["sku"].unique()
    if skus is None:
        chosen = np.sort(present)
    else:
        chosen = np.asarray([str(s) for s in skus])
        unknown = sorted(set(chosen) - set(present))
        if unknown:
            raise DataError(f"fit_own_price_response: parameter 'skus' names SKUs absent from table 'demand': "
                            f"{unknown[:5]}. Fix: pick SKUs of demand['sku'].")
    no_category = sorted(set(chosen) - set(category.index))
    if no_category:
        raise DataError(f"fit_own_price_response: table 'items', column 'category': SKUs of demand without an "
                        f"item row: {no_category[:5]}. Fix: add them to items with their category.")
    first_day, last_day = frame["date"].min(), frame["date"].max()
    frame = frame[frame["sku"].isin(chosen)].sort_values(["sku", "date"]).reset_index(drop=True)
    frame["category"] = frame["sku"].map(category).to_numpy()

    # ---- exposure: own promotion, sitewide promotions, sibling promotions ----
    scope_kind = promotions["scope"].fillna("all").astype(str).str.strip().str.partition(":")[0]
    scope_kind = scope_kind.replace({"": "all", "nan": "all"})
    sitewide = promotions[scope_kind.isin(settings.day_effect_scopes).to_numpy()]
    targeted = promotions.drop(index=sitewide.index)
    depths = pd.DataFrame()
    if order_lines is not None:
        ts = pd.to_datetime(order_lines["order_ts"]) if "order_ts" in order_lines.columns else None
        history = order_lines if ts is None else order_lines[(ts.dt.normalize() <= last_day).to_numpy()]
        seen = targeted[(pd.to_datetime(targeted["start"]) <= last_day).to_numpy()]
        depths = realized_depths(history, seen.assign(end=pd.to_datetime(seen["end"]).clip(upper=last_day)), items)
    exposure = promotion_exposure(targeted, items, start=first_day, end=last_day,
                                  coupon_redemption=settings.coupon_redemption,
                                  depths=depths.set_index("promo_id")["realized_depth"] if len(depths) else None)
    ex = frame[["sku", "date"]].merge(exposure, on=["sku", "date"], how="left")
    frame["depth"] = ex["depth"].fillna(0.0).to_numpy()
    frame["mechanic"] = ex["mechanic"].to_numpy()
    frame["line"] = (ex["level"] == "line").fillna(False).to_numpy(dtype=bool)
    frame["promoted"] = ex["promo_id"].notna().to_numpy()
    frame["own_single"] = ((ex["level"] == "line") & ex["single_sku"].astype("boolean")).fillna(False).to_numpy(
        dtype=float)
    day_index = pd.date_range(first_day, last_day, freq="D")
    effect_columns: dict[str, np.ndarray] = {}
    if calendar is not None and "event" in calendar.columns:
        ev = calendar[["date", "event"]].dropna()
        ev = ev.assign(date=pd.to_datetime(ev["date"]).dt.normalize(), event=ev["event"].astype(str).str.strip())
        ev = ev[ev["event"] != ""].drop_duplicates("date").set_index("date")["event"]
        for name in pd.unique(ev):
            effect_columns[f"event_{name}"] = day_index.isin(ev.index[ev == name]).astype(float)
    if calendar is not None:
        for flag in settings.calendar_flags:
            if flag in calendar.columns:
                on = pd.to_datetime(calendar.loc[calendar[flag].astype("boolean").fillna(False).to_numpy(bool),
                                                 "date"]).dt.normalize()
                effect_columns[f"calendar_{flag}"] = day_index.isin(on).astype(float)
    owner: dict[str, list[str] | None] = {}  # category-wide offers shift only their categories
    for (_, row), kind in zip(sitewide.iterrows(), scope_kind[sitewide.index]):
        days = pd.date_range(pd.Timestamp(row["start"]).normalize(), pd.Timestamp(row["end"]).normalize())
        name = f"sitewide_{row['promo_id']}"
        effect_columns[name] = day_index.isin(days).astype(float)
        owner[name] = None if kind == "all" else _scope_rule(str(row["scope"]).strip())[1]
        if settings.post_dip_days > 0:  # the dip after a shop- or category-wide offer is a day effect too
            after = pd.date_range(days[-1] + pd.Timedelta(days=1), periods=settings.post_dip_days)
            effect_columns[f"{name}_post"] = (day_index.isin(after) & ~day_index.isin(days)).astype(float)
            owner[f"{name}_post"] = owner[name]
    day_effects = pd.DataFrame(effect_columns, index=day_index)
    single = exposure[(exposure["level"] == "line") & exposure["single_sku"]].copy()
    single["category"] = single["sku"].map(category)
    n_single = single.groupby(["category", "date"])["sku"].nunique()
    # days on which a shop- or category-wide offer runs, per category: a line-level offer replaces it
    # for the SKU (offers do not stack), so the category's day effect would misstate that SKU's baseline
    offer_cols = [c for c in owner if not c.endswith("_post")]
    wide_days = {cat: day_effects.index[(day_effects[[c for c in offer_cols
                                                      if owner[c] is None or cat in owner[c]]].sum(axis=1) > 0)
                                        if offer_cols else np.zeros(len(day_effects), bool)]
                 for cat in pd.unique(frame["category"])}

    mech_names = [f"mechanic_{m}" for m in settings.mechanic_effects]
    rows, warn = [], []
    excluded_stockout = excluded_burn_in = 0
    parts = []
    for sku, g in frame.groupby("sku", sort=True):
        g = g.copy()
        dates = pd.DatetimeIndex(g["date"])
        pre, post = _window_flags(g["line"].to_numpy(), settings.pre_dip_days, settings.post_dip_days)
        g["pre_dip"], g["post_dip"] = pre.astype(float), post.astype(float)
        key = pd.MultiIndex.from_arrays([g["category"], dates])
        others = n_single.reindex(key).fillna(0).to_numpy() - g["own_single"].to_numpy()
        g["sibling_effect"] = ((others > 0) & ~g["line"].to_numpy()).astype(float)
        keep = g["in_stock"].to_numpy(dtype=bool).copy()
        g["n_stockout"] = (~keep).astype(int)
        g["wide_offer"] = dates.isin(wide_days[g["category"].iloc[0]])
        clash = g["line"].to_numpy() & g["wide_offer"].to_numpy() & keep
        g["n_overlap"] = clash.astype(int)
        keep &= ~clash
        if dates[0] > first_day and settings.burn_in_days > 0:
            young = (dates - dates[0]).days.to_numpy() < settings.burn_in_days
            excluded_burn_in += int((young & keep).sum())
            keep &= ~young
        g["keep"] = keep
        # a stock-out day with sales is a censored observation: demand was at least the units sold
        g["censored"] = (~g["in_stock"].to_numpy(dtype=bool)) & (g["units"].to_numpy() > 0) & ~clash
        if dates[0] > first_day and settings.burn_in_days > 0:
            g["censored"] &= ~young
        parts.append(g)
    frame = pd.concat(parts, ignore_index=True)
    excluded_stockout = int(frame["n_stockout"].sum())
    excluded_overlap = int(frame["n_overlap"].sum())
    t_years = (frame["date"] - first_day).dt.days.to_numpy() / 365.25
    frame["trend"] = t_years - t_years.mean()

    # ---- stage A: per category, the day profile (weekday, yearly, events, sitewide offers) ----
    # fitted on quiet days: no own offer, no own pre- or post-promotion window and (when the
    # cannibalization is estimated) no single-SKU promotion of a sibling, so that no short day effect
    # (the days after a shop-wide coupon, a festival) takes up the units those effects remove
    dow = day_effects.index.day_of_week.to_numpy()
    profile_cols = {f"weekday_{k}": (dow == k).astype(float) for k in range(1, 7)}
    doy = day_effects.index.day_of_year.to_numpy() / 365.25
    for k in range(1, settings.yearly_harmonics + 1):
        profile_cols[f"yearly_sin{k}"] = np.sin(2 * np.pi * k * doy)
        profile_cols[f"yearly_cos{k}"] = np.cos(2 * np.pi * k * doy)
    profile = pd.concat([pd.DataFrame(profile_cols, index=day_effects.index), day_effects], axis=1)
    effect_days = (frame["pre_dip"].to_numpy() > 0) | (frame["post_dip"].to_numpy() > 0)
    if settings.sibling_effect:
        effect_days |= frame["sibling_effect"].to_numpy() > 0
    quiet = ~frame["promoted"].to_numpy(bool) & ~effect_days & frame["keep"].to_numpy(bool)
    offset = np.zeros(len(frame))
    unknown = np.zeros(len(frame), bool)
    offer_shift = np.zeros(len(frame))  # the part of the offset due to shop- and category-wide offers
    profile_report = {}
    for cat, idx in frame.groupby("category").indices.items():
        sel = idx[quiet[idx]]
        sku_codes, sku_index = np.unique(frame["sku"].to_numpy()[sel], return_inverse=True)
        mine = [c for c in profile.columns if owner.get(c) is None or cat in owner[c]]
        p = profile.reindex(frame["date"].to_numpy()[sel])[mine].to_numpy()
        x = np.column_stack([np.eye(len(sku_codes))[sku_index], frame["trend"].to_numpy()[sel], p])
        names = [f"sku_{s}" for s in sku_codes] + ["trend"] + mine
        names_fit = _keep_independent(x, names, names[:len(sku_codes) + 1])
        cols = [names.index(c) for c in names_fit]
        try:
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore")
                res = _poisson_glm(frame["units"].to_numpy()[sel], x[:, cols])
            beta = pd.Series(res.params, index=names_fit)
        except Exception as error:  # noqa: BLE001
            warn.append({"sku": "", "message": f"category {cat!r}: day profile failed ({error}); no offset"})
            continue
        b = beta.reindex(profile.columns).fillna(0.0).clip(-5, 5)
        days = profile.reindex(frame["date"].to_numpy()[idx])
        offset[idx] = days.to_numpy() @ b.to_numpy()
        offers = [c for c in mine if c in offer_cols]
        if offers:
            offer_shift[idx] = days[offers].to_numpy() @ b[offers].to_numpy()
        # a day effect never seen on a quiet day (e.g. an event that always came with a sibling's
        # promotion) leaves the baseline of its days unknown: those days are left out of stages B and C
        unseen = [c for c in mine if not np.any(p[:, mine.index(c)] != 0)]
        if unseen:
            unknown[idx] = np.any(days[unseen].to_numpy() != 0, axis=1)
        profile_report[cat] = b
    frame["offset"] = offset
    excluded_unknown = int((unknown & frame["keep"].to_numpy(bool)).sum())
    frame["keep"] = frame["keep"].to_numpy(bool) & ~unknown
    frame["censored"] = frame["censored"].to_numpy(bool) & ~unknown

    # ---- stage B: per SKU, level, trend and the own promotion terms with the category profile as offset ----
    # the pre- and post-promotion windows and the sibling-promotion days are left out here (their dips and
    # the cannibalization would pull the baseline down) and enter stage C, which estimates the dips and the
    # cannibalization as fractions of the expected bumps
    n_rows = len(frame)
    base_all = np.full(n_rows, np.nan)  # fitted baseline (no promotion effect) [units/day]
    line_base = np.zeros(n_rows)  # fitted baseline on line-level promoted days, without wide offers [units/day]
    alpha_all = np.zeros(n_rows)
    dip_window = effect_days
    for sku, g in frame.groupby("sku", sort=True):
        info = {"sku": sku, "category": g["category"].iloc[0], "n_stockout_days": int(g["n_stockout"].sum())}
        keep = g["keep"].to_numpy()
        if settings.censored_stockouts:
            keep = keep | g["censored"].to_numpy()
        keep = keep & ~dip_window[g.index]
        censored = g["censored"].to_numpy()[keep]
        info["n_censored_days"] = int(censored.sum())
        y = g["units"].to_numpy()[keep]
        depth = g["depth"].to_numpy()[keep]
        promo = (depth > 0) & g["promoted"].to_numpy()[keep]
        info.update(n_days=int(keep.sum()), units=float(y.sum()), n_promo_days=int(promo.sum()))
        if y.sum() < settings.min_units or keep.sum() < 60:
            info["model"] = "not_fitted"
            warn.append({"sku": sku, "message": f"too little history to fit ({y.sum():.0f} units over "
                                                f"{int(keep.sum())} days in stock)"})
            rows.append(info)
            continue
        off = g["offset"].to_numpy()[keep]
        quiet_rows = ~g["promoted"].to_numpy()[keep]
        rate = y[quiet_rows].sum() / max(np.exp(off[quiet_rows]).sum(), 1e-9)
        info["baseline_promo_units"] = float(rate * np.exp(off[promo]).sum())
        cols_all = {"const": np.ones(len(g))}
        if settings.trend:
            cols_all["trend"] = g["trend"].to_numpy()
        cols_all["log_price_ratio"] = np.log1p(-g["depth"].to_numpy())
        mech_all = g["mechanic"].to_numpy()
        for m, name in zip(settings.mechanic_effects, mech_names):
            cols_all[name] = (mech_all == m).astype(float)
        cols = {c: v[keep] for c, v in cols_all.items()}
        names = list(cols)
        if info["n_promo_days"] < settings.min_promo_days or \
                info["baseline_promo_units"] < settings.min_baseline_promo_units:
            names = [c for c in names if c not in ("log_price_ratio", *mech_names)]
            warn.append({"sku": sku, "message": "elasticity not identified: "
                         f"{info['n_promo_days']} promoted days in stock with "
                         f"{info['baseline_promo_units']:.1f} baseline units (need {settings.min_promo_days} "
                         f"days and {settings.min_baseline_promo_units:g} units)"})
        x = np.column_stack([cols[c] for c in names])
        names_fit = _keep_independent(x, names, ["const", "log_price_ratio"])
        x = x[:, [names.index(c) for c in names_fit]]
        clusters = None
        if settings.robust_block_days > 0:
            day_number = pd.DatetimeIndex(g["date"]).to_numpy("datetime64[D]").astype(np.int64)
            on = g["promoted"].to_numpy(bool)
            run_start = np.maximum.accumulate(np.where(on & ~np.r_[False, on[:-1]], np.arange(len(g)), -1))
            clusters = np.where(on, -1 - run_start, (day_number - day_number[0]) // settings.robust_block_days)[keep]
        try:
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore")
                res = _poisson_glm(y, x, off, negative_binomial=settings.negative_binomial, clusters=clusters)
                if censored.any():  # EM: censored days enter at their expected demand given the sales
                    for _ in range(settings.censoring_iterations):
                        mu = np.exp(np.clip(x @ res.params + off, -30, 30))
                        alpha = res.scale if settings.negative_binomial else 0.0
                        y_work = y.copy()
                        y_work[censored] = _censored_mean(y[censored], mu[censored], alpha)
                        res = _poisson_glm(y_work, x, off, negative_binomial=settings.negative_binomial,
                                           start=res.params, clusters=clusters)
            params, bse = res.params, res.se
            if not np.all(np.isfinite(params)):
                raise FloatingPointError("non-finite coefficients")
        except Exception as error:  # noqa: BLE001 - a per-SKU failure never stops the batch
            info["model"] = "not_fitted"
            warn.append({"sku": sku, "message": f"GLM failed: {type(error).__name__}: {error}"})
            rows.append(info)
            continue
        coef = dict(zip(names_fit, params))
        se = dict(zip(names_fit, bse))
        if "log_price_ratio" in names_fit:
            info["elasticity"], info["elasticity_se"] = coef["log_price_ratio"], se["log_price_ratio"]
            info["model"] = "poisson_glm"
        else:
            info["model"] = "poisson_glm_no_price"
            if "log_price_ratio" in names:
                warn.append({"sku": sku, "message": "elasticity not identified: depth collinear with other terms"})
        for name in mech_names:
            if name in coef:
                info[name], info[f"{name}_se"] = coef[name], se[name]
        info["dispersion"] = float(res.scale)
        # fitted baseline on every day of the SKU (stage C regressors; the bumps follow from the pooled fits)
        eta_base = g["offset"].to_numpy() + sum(coef.get(c, 0.0) * cols_all[c] for c in ("const", "trend")
                                                if c in cols_all)
        b_sku = np.exp(np.clip(eta_base, -30, 30))
        base_all[g.index] = b_sku
        line = g["line"].to_numpy()
        # offers do not stack: on a line-level promotion day the SKU does not get the shop- or
        # category-wide offer of that day, so its bump is measured from the baseline without it
        shift = np.where(line, offer_shift[g.index], 0.0)
        line_base[g.index] = np.where(line, np.exp(np.clip(eta_base - shift, -30, 30)), 0.0)
        alpha_all[g.index] = res.scale if settings.negative_binomial else 0.0
        rows.append(info)

    # ---- stage C: dips and cannibalization as fractions of the expected bumps, pooled per category ----
    bump_all = _expected_bumps(frame, rows, line_base, settings)
    effects = _dip_and_cannibalization(frame, base_all, bump_all, alpha_all, settings)
    rows = [{**r, **effects.get(r["sku"], {})} for r in rows]
    columns = ["sku", "category", "elasticity", "elasticity_se"]
    for name in _EFFECTS:
        columns += [name, f"{name}_se", f"{name}_unpooled", f"{name}_unpooled_se"]
    columns += ["post_dip", "post_dip_se", "pre_dip", "pre_dip_se", "sibling_effect", "sibling_effect_se"]
    for name in mech_names:
        columns += [name, f"{name}_se"]
    columns += ["dispersion", "baseline_promo_units", "n_days", "n_promo_days", "n_stockout_days", "n_censored_days", "units", "model"]
    estimates = pd.DataFrame(rows).reindex(columns=columns)
    for c in columns[2:-1]:
        estimates[c] = estimates[c].astype(float)
    for c in ("n_days", "n_promo_days", "n_stockout_days", "n_censored_days"):
        estimates[c] = estimates[c].fillna(0).astype(int)
    warnings_table = pd.DataFrame(warn, columns=["sku", "message"])
    report = {"skus": len(chosen), "fitted": int(estimates["model"].str.startswith("poisson").sum()),
              "with_elasticity": int(estimates["elasticity"].notna().sum()),
              "stockout_days_excluded": excluded_stockout,
              "suspected_stockout_days_excluded": int(frame["suspected"].sum()),
              "burn_in_days_excluded": excluded_burn_in,
              "overlap_days_excluded": excluded_overlap, "unknown_baseline_days_excluded": excluded_unknown,
              "seconds": time.perf_counter() - t0}
    return OwnPriceResponse(estimates, warnings_table, settings, report, depths)
