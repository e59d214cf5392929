"""Halo of a promotion on complements, learned from order lines (issue 5, cross effects).

A promoted SKU's *halo* is the extra units of other SKUs bought in the same
orders per incremental unit of the promoted SKU. :func:`fit_halo` measures it
per SKU from the ``order_lines``, ``promotions`` and ``items`` tables by
comparing the attach (units of other SKUs per order that contains the SKU) in
the SKU's own promotion windows with its attach outside them, and turns the
extra attach into units and margin per bump unit. Standard errors come from a
bootstrap over days (the day is the cluster: orders of one day share its
traffic and its offers), and the per-SKU estimates are shrunk toward 0 by
parametric empirical Bayes (Morris 1983), so that a SKU with few promoted
orders gets a halo near 0 with an honest standard error. The result feeds
:func:`opslib.promo.simulate` (``halo=``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from opslib.errors import DataError
from opslib.promo.response import LINE_LEVEL_MECHANICS, promotion_exposure

__all__ = ["HaloEstimates", "fit_halo", "shrink_toward_zero"]

HALO_COLUMNS = ("sku", "halo_units_per_bump_unit", "halo_margin_per_bump_unit", "se", "n_orders")
"""The columns :func:`opslib.promo.simulate` reads (``complement_margin_per_unit`` too, when present)."""

_COMPLEMENTS = ("all", "category", "other_categories")


def _fail(parameter: str, rule: str, received, fix: str):
    raise DataError(f"fit_halo: {parameter} {rule}; received {received!r}. Fix: {fix}")


def shrink_toward_zero(estimates, se) -> tuple[np.ndarray, np.ndarray, float]:
    """Parametric empirical-Bayes shrinkage of unit estimates toward 0 (Morris 1983).

    Parameters
    ----------
    estimates, se : array-like
        Unit estimates ``y_i`` and their standard errors ``s_i`` (NaN where a
        unit has no estimate).

    Returns
    -------
    estimate, se : numpy.ndarray
        Posterior means and standard errors; units without an estimate get 0
        and the prior's standard deviation.
    prior_sd : float
        ``sqrt(A)``, the spread of the true values around 0.

    Notes
    -----
    Model ``y_i ~ N(theta_i, s_i^2)``, ``theta_i ~ N(0, A)``, with ``A`` the
    maximum-likelihood fixed point ``A = sum w_i^2 (y_i^2 - s_i^2) / sum
    w_i^2``, ``w_i = 1 / (s_i^2 + A)``, at least 0. With ``k`` estimates, the
    shrinkage factor and the variance carry Morris's correction for the
    estimated ``A`` (the prior mean is known, hence ``k - 2``)::

        B_i = (k - 2) / k * s_i^2 / (s_i^2 + A)
        theta_i = (1 - B_i) y_i
        Var_i = s_i^2 (1 - B_i) + 2 / (k - 2) * B_i^2 y_i^2

    so that ``A = 0`` does not collapse every interval to a point. With
    ``k <= 2`` the estimates are returned unshrunk.

    References
    ----------
    .. [1] Morris, C. N. (1983), "Parametric empirical Bayes inference:
       theory and applications", JASA 78(381), 47-55.
    """
    y, s = np.asarray(estimates, float), np.asarray(se, float)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    k = int(ok.sum())
    v = s[ok] ** 2
    a = max(0.0, float(np.mean(y[ok] ** 2 - v))) if k else 0.0
    for _ in range(200):
        if k < 1:
            break
        w2 = (1 / (v + a)) ** 2
        new = max(0.0, float(np.sum(w2 * (y[ok] ** 2 - v)) / np.sum(w2)))
        if abs(new - a) <= 1e-12 * (1 + a):
            a = new
            break
        a = new
    out = np.zeros(len(y))
    out_se = np.full(len(y), np.sqrt(a))
    if k <= 2:
        out[ok], out_se[ok] = y[ok], s[ok]
        return out, out_se, float(np.sqrt(a))
    b = (k - 2) / k * v / (v + a)
    out[ok] = (1 - b) * y[ok]
    out_se[ok] = np.sqrt(v * (1 - b) + 2 / (k - 2) * b ** 2 * y[ok] ** 2)
    return out, out_se, float(np.sqrt(a))


@dataclass(frozen=True)
class HaloEstimates:
    """Result of :func:`fit_halo`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per SKU with a line-level promotion in the data:
        ``sku``; ``halo_units_per_bump_unit`` (shrunk) [units/unit];
        ``halo_margin_per_bump_unit`` = halo units times
        ``complement_margin_per_unit`` [currency/unit]; ``se`` (posterior
        standard error of the halo units) [units/unit]; ``n_orders``
        (orders with the SKU on its promotion days); then
        ``n_orders_baseline``, ``promo_days``, ``baseline_days``,
        ``attach_promo`` and ``attach_baseline`` (units of other SKUs per
        order with the SKU) [units/order], ``bump_units`` [units],
        ``raw_halo_units_per_bump_unit`` and ``raw_se`` (before shrinkage),
        ``halo_margin_se`` [currency/unit], ``complement_margin_per_unit``
        [currency/unit] and ``status`` (``estimated`` or why not: such rows
        carry the prior, 0 with the prior's spread). Pass it (or this
        object) to :func:`opslib.promo.simulate` as ``halo``.
    prior_sd : float
        Spread of the true halos around 0 (empirical Bayes) [units/unit].
    excluded_days : pandas.DataFrame
        ``sku, days``: days left out per SKU because an order-level offer
        (threshold, coupon, gift, points: bigger baskets for everybody)
        covered the SKU.
    settings : dict
    """

    estimates: pd.DataFrame
    prior_sd: float
    excluded_days: pd.DataFrame
    settings: dict = field(default_factory=dict)


def fit_halo(order_lines: pd.DataFrame, promotions: pd.DataFrame, items: pd.DataFrame, *,
             complements: str = "all", bootstrap: int = 400, seed: int = 0, min_orders: int = 20,
             min_promo_days: int = 3) -> HaloEstimates:
    """Halo per promoted SKU: extra complement units per incremental unit, with its uncertainty.

    Parameters
    ----------
    order_lines : pandas.DataFrame
        ``order_id, order_ts, sku, qty, paid_amount`` (qty > 0 [units],
        paid_amount [currency]).
    promotions : pandas.DataFrame
        The canonical ``promotions`` table. Line-level mechanics
        (``percent_off, flash_sale, second_half_price, bogo``) make a SKU's
        promotion days; days when an order-level offer covers the SKU are
        left out of both sides (reported in ``excluded_days``).
    items : pandas.DataFrame
        ``sku, unit_cost, category``: margins of the complement lines and
        promotion scopes.
    complements : {"all", "category", "other_categories"}, default "all"
        Which other SKUs of an order count: every other SKU, those of the
        promoted SKU's category, or those of other categories. The split
        by category is confounded when other SKUs of the category are
        promoted on the same days: their own bumps shift the mix of every
        order of those days toward the category (on the demo shop, which
        has no halo, ``category`` finds +0.2 and ``other_categories``
        -0.3 units per bump unit for the snacks promoted in groups, while
        ``all`` finds about 0); prefer ``all`` unless promotions are
        one SKU of a category at a time.
    bootstrap : int, default 400
        Bootstrap replicates (Poisson weights per day, shared by all SKUs).
    seed : int, default 0
    min_orders : int, default 20
        Fewest orders with the SKU on its promotion days and off them.
    min_promo_days : int, default 3
        Fewest promotion days of the SKU.

    Returns
    -------
    HaloEstimates

    Notes
    -----
    For SKU ``i``, with ``P`` its promotion days, ``Q`` its other days (both
    without order-level offers), ``N``, ``C`` and ``U`` the orders with ``i``,
    the units of complements in them and the units of ``i``, summed over a
    set of days, and ``|P|``, ``|Q|`` the numbers of days::

        A_0  = C_Q / N_Q                          baseline attach [units/order]
        bump = U_P - |P| U_Q / |Q|                incremental units of i [units]
        H    = (C_P - N_P A_0) / bump             halo [units per bump unit]

    ``C_P - N_P A_0`` is the complement units bought in the promotion's
    orders beyond what those orders carry at the baseline attach: new orders
    drawn by the promotion that carry the usual complements add nothing
    (those complements would mostly have been bought anyway), buyers who add
    complements because of the promotion do. The standard error is the
    half-width of the central 68% of ``H`` over a Poisson bootstrap of days
    [1]_ (equal to the standard deviation for a normal ``H``, robust to a
    bump near 0); a SKU whose bump is not above 0 in 97.5% of the
    replicates gets no estimate (the ratio is not defined). The estimates
    are then shrunk toward 0 by :func:`shrink_toward_zero`. The margin of a
    halo unit is the mean margin (``paid_amount - qty unit_cost``) of the
    complement units in all orders with ``i``. Stock-out days of ``i`` count
    as baseline days (they lower the baseline, so the bump is overstated
    and the halo understated).

    References
    ----------
    .. [1] Hanley, J. A. & MacGibbon, B. (2006), "Creating non-parametric
       bootstrap samples using Poisson frequencies", Computer Methods and
       Programs in Biomedicine 83(1), 57-62.
    """
    # ---- checks at the edge
    if not isinstance(order_lines, pd.DataFrame):
        _fail("parameter 'order_lines'", "must be a DataFrame", type(order_lines).__name__,
              "pass workspace.order_lines.")
    missing = [c for c in ("order_id", "order_ts", "sku", "qty", "paid_amount") if c not in order_lines.columns]
    if missing:
        _fail("table 'order_lines'", f"lacks column(s) {missing}", list(order_lines.columns),
              "pass the canonical order_lines table (opslib.data.schema).")
    if not isinstance(items, pd.DataFrame) or any(c not in items.columns for c in ("sku", "unit_cost", "category")):
        _fail("table 'items'", "needs columns sku, unit_cost, category", list(getattr(items, "columns", [])),
              "pass workspace.items.")
    if complements not in _COMPLEMENTS:
        _fail("parameter 'complements'", f"must be one of {', '.join(_COMPLEMENTS)}", complements,
              "pass complements='all'.")
    for name, value, low in (("bootstrap", bootstrap, 20), ("min_orders", min_orders, 1),
                             ("min_promo_days", min_promo_days, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or int(value) != value or value < low:
            _fail(f"parameter {name!r}", f"must be a whole number >= {low}", value, "keep the default.")
    qty = pd.to_numeric(order_lines["qty"], errors="coerce").to_numpy(float)
    paid = pd.to_numeric(order_lines["paid_amount"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(qty) | (qty <= 0) | ~np.isfinite(paid)
    if bad.any():
        _fail("table 'order_lines', columns 'qty', 'paid_amount'", "must be finite with qty > 0",
              order_lines.loc[bad, ["order_id", "sku", "qty", "paid_amount"]].head(5).to_dict("records"),
              "drop or correct these lines (returns belong in the returns table).")
    ts = pd.to_datetime(order_lines["order_ts"], errors="coerce")
    if ts.isna().any():
        _fail("table 'order_lines', column 'order_ts'", "must be a timestamp",
              order_lines.loc[ts.isna().to_numpy(), ["order_id", "sku", "order_ts"]].head(5).to_dict("records"),
              "fill the order timestamps.")
    sku = order_lines["sku"].astype(str).to_numpy()
    item_sku = items["sku"].astype(str).to_numpy()
    cost_of = pd.Series(items["unit_cost"].to_numpy(float), index=item_sku)
    cost_of = cost_of[~cost_of.index.duplicated()]
    cat_of = pd.Series(items["category"].astype(str).to_numpy(), index=item_sku)
    cat_of = cat_of[~cat_of.index.duplicated()]
    unknown = ~pd.Series(sku).isin(cost_of.index).to_numpy()
    if unknown.any():
        _fail("table 'order_lines', column 'sku'", "names SKU(s) absent from table 'items'",
              sorted(set(sku[unknown]))[:5], "add them to items (unit_cost, category) or check the codes.")

    # ---- per line: the complement units and margin of its order, seen from the line's SKU
    day0 = ts.dt.normalize().min()
    day = ((ts.dt.normalize() - day0).dt.days).to_numpy(np.int64)
    n_days = int(day.max()) + 1
    margin = paid - qty * cost_of.reindex(sku).to_numpy(float)
    order_code, _ = pd.factorize(order_lines["order_id"].astype(str))
    # one row per (order, sku): lines of one SKU in one order are one purchase
    pair = pd.DataFrame({"o": order_code, "s": sku, "d": day, "q": qty, "m": margin})
    pair = pair.groupby(["o", "s"], sort=False).agg(d=("d", "first"), q=("q", "sum"), m=("m", "sum")).reset_index()
    o, q, mg = pair["o"].to_numpy(), pair["q"].to_numpy(float), pair["m"].to_numpy(float)
    total_units, total_margin = np.bincount(o, weights=q)[o], np.bincount(o, weights=mg)[o]
    if complements == "all":
        c_units, c_margin = total_units - q, total_margin - mg
    else:
        cat_code, _ = pd.factorize(cat_of.reindex(pair["s"].to_numpy()).to_numpy())
        key_code, _ = pd.factorize(o.astype(np.int64) * (int(cat_code.max()) + 1) + cat_code)
        cat_units = np.bincount(key_code, weights=q)[key_code]
        cat_margin = np.bincount(key_code, weights=mg)[key_code]
        if complements == "category":
            c_units, c_margin = cat_units - q, cat_margin - mg
        else:
            c_units, c_margin = total_units - cat_units, total_margin - cat_margin
    pair = pair.assign(c=c_units, m=c_margin)

    # ---- promotion days and excluded days per SKU
    promos = promotions if promotions is not None else pd.DataFrame(
        columns=["promo_id", "mechanic", "start", "end", "scope"])
    missing = [c for c in ("promo_id", "mechanic", "start", "end", "scope") if c not in promos.columns]
    if missing:
        _fail("table 'promotions'", f"lacks column(s) {missing}", list(promos.columns),
              "pass the canonical promotions table (opslib.data.schema).")
    line_level = promos["mechanic"].astype(str).isin(LINE_LEVEL_MECHANICS).to_numpy()
    end_day = day0 + pd.Timedelta(days=n_days - 1)
    on_line = promotion_exposure(promos[line_level], items, start=day0, end=end_day)
    on_order = promotion_exposure(promos[~line_level], items, start=day0, end=end_day)
    skus = np.array(sorted(set(on_line["sku"].astype(str)) & set(sku)), dtype=object)
    col = {s: j for j, s in enumerate(skus)}
    m = len(skus)
    promo = np.zeros((m, n_days), bool)
    excluded = np.zeros((m, n_days), bool)
    for frame, mask in ((on_line, promo), (on_order, excluded)):
        rows = frame["sku"].astype(str).map(col)
        keep = rows.notna().to_numpy()
        d = ((pd.to_datetime(frame["date"]) - day0).dt.days).to_numpy(np.int64)[keep]
        mask[rows.to_numpy()[keep].astype(np.intp), d] = True
    promo &= ~excluded
    quiet = ~promo & ~excluded

    # ---- day sums per SKU: orders, complement units, own units, complement margin
    pair = pair[pair["s"].isin(col)]
    r = pair["s"].map(col).to_numpy(np.intp)
    cell = r * n_days + pair["d"].to_numpy(np.int64)
    size = m * n_days

    def grid(weights=None):
        return np.bincount(cell, weights=weights, minlength=size).reshape(m, n_days).astype(float)

    n_t, c_t, u_t = grid(), grid(pair["c"].to_numpy(float)), grid(pair["q"].to_numpy(float))
    cm_all = np.bincount(r, weights=pair["m"].to_numpy(float), minlength=m)
    cu_all = np.bincount(r, weights=pair["c"].to_numpy(float), minlength=m)

    # ---- point estimate (weights 1) and Poisson bootstrap over days (weights shared by SKUs)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x4A10]))
    weights = np.vstack([np.ones(n_days), rng.poisson(1.0, (int(bootstrap), n_days)).astype(float)]).T
    sums = {}
    for name, values in (("n", n_t), ("c", c_t), ("u", u_t), ("d", np.ones((m, n_days)))):
        sums[name + "P"] = (values * promo) @ weights
        sums[name + "Q"] = (values * quiet) @ weights
    with np.errstate(divide="ignore", invalid="ignore"):
        attach0 = sums["cQ"] / sums["nQ"]
        bump = sums["uP"] - sums["dP"] * sums["uQ"] / sums["dQ"]
        halo = (sums["cP"] - sums["nP"] * attach0) / bump
        halo = np.where(bump > 0, halo, np.nan)
    point = halo[:, 0]
    replicates = halo[:, 1:]
    usable = np.isfinite(replicates)
    raw_se = np.full(m, np.nan)
    rows = np.flatnonzero(usable.any(axis=1))
    if len(rows):
        lo, hi = np.nanpercentile(replicates[rows], [15.865525393145708, 84.13447460685429], axis=1)
        raw_se[rows] = (hi - lo) / 2

    status = np.full(m, "estimated", dtype=object)
    n_p, n_q = sums["nP"][:, 0], sums["nQ"][:, 0]
    promo_days = promo.sum(axis=1)
    status[usable.mean(axis=1) < 0.975] = "bump not clearly above 0"
    status[~(bump[:, 0] > 0)] = "no bump: promotion units not above baseline"
    status[(n_p < min_orders) | (n_q < min_orders)] = f"fewer than {min_orders} orders on or off promotion"
    status[promo_days < min_promo_days] = f"fewer than {min_promo_days} promotion days"
    ok = (status == "estimated") & np.isfinite(point) & np.isfinite(raw_se) & (raw_se > 0)
    status[(status == "estimated") & ~ok] = "no bootstrap spread"
    raw = np.where(ok, point, np.nan)
    raw_se = np.where(ok, raw_se, np.nan)
    est, se, prior_sd = shrink_toward_zero(raw, raw_se) if m else (np.zeros(0), np.zeros(0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_margin = np.where(cu_all > 0, cm_all / cu_all, np.nan)
    margin_known = np.nan_to_num(unit_margin)
    estimates = pd.DataFrame({
        "sku": skus.astype(str), "halo_units_per_bump_unit": est, "halo_margin_per_bump_unit": est * margin_known,
        "se": se, "n_orders": n_p.astype(np.int64), "n_orders_baseline": n_q.astype(np.int64),
        "promo_days": promo_days.astype(np.int64), "baseline_days": quiet.sum(axis=1).astype(np.int64),
        "attach_promo": np.where(n_p > 0, sums["cP"][:, 0] / np.where(n_p > 0, n_p, 1), np.nan),
        "attach_baseline": attach0[:, 0], "bump_units": bump[:, 0], "raw_halo_units_per_bump_unit": raw,
        "raw_se": raw_se, "halo_margin_se": se * np.abs(margin_known), "complement_margin_per_unit": unit_margin,
        "status": status.astype(str)})
    excluded_days = pd.DataFrame({"sku": skus.astype(str), "days": excluded.sum(axis=1).astype(np.int64)})
    settings = {"complements": complements, "bootstrap": int(bootstrap), "seed": int(seed),
                "min_orders": int(min_orders), "min_promo_days": int(min_promo_days),
                "estimated": int(ok.sum()), "first_day": day0, "days": n_days}
    return HaloEstimates(estimates, prior_sd, excluded_days, settings)
