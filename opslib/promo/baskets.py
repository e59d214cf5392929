"""Basket simulation for threshold offers (满减, free-shipping thresholds): top-up and its cost.

A threshold offer works on the *basket*, not the SKU: what matters is how far
each order's value sits below a threshold, and how many customers add items to
reach it ("padding", "凑单"). This module follows the promotion notes, section
3.2:

* :func:`basket_values`: the order-level list value of each basket from the
  ``order_lines`` table, optionally only the value of the lines in a
  promotion's scope;
* :func:`fit_topup`: calibrates the top-up probability and the overshoot above
  the threshold from the *bunching* of basket values at past thresholds: the
  share of baskets in a band below each threshold during the promotion against
  the pre-period (the missing mass moved above the threshold), and the excess
  mass just above it (the overshoot);
* :func:`simulate_baskets`: draws baskets from the pre-period distribution,
  applies the top-up, prices them with
  :func:`opslib.promo.mechanics.threshold_discount` and returns the share
  reaching each tier, the discount cost, the average order value (AOV) shift
  and GMV, with a share of the padded orders' add-ons later returned.

Money is in the shop's currency. Published anchors (Hemmati et al., SSRN
3794442): customers pad 12.4-28.4% of below-threshold orders; 8.4-14.7% of
padded orders are "bubble" purchases later returned where returns are easy.

References
----------
.. [1] Hemmati, Elmaghraby, Kabra & Jain, "Contingent free shipping",
   SSRN 3794442.
.. [2] Kleven, H. (2016). Bunching. *Annual Review of Economics* 8, 435-464
   (the excess/missing mass estimator).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from opslib.errors import DataError
from opslib.promo.mechanics import _cents, _in_scope, parse_tiers, threshold_discount

__all__ = [
    "BasketSimulation",
    "TopUpModel",
    "basket_values",
    "fit_topup",
    "simulate_baskets",
]


def _fail(function: str, parameter: str, rule: str, received, fix: str):
    raise DataError(f"{function}: parameter {parameter!r} {rule}; received {received!r}. Fix: {fix}")


# --------------------------------------------------------------------------- basket values


def basket_values(order_lines: pd.DataFrame, start=None, end=None, exclude_promo=True, *, scope: str = "all",
                  items: pd.DataFrame | None = None) -> pd.DataFrame:
    """Order-level list value of each basket [currency].

    Parameters
    ----------
    order_lines : pandas.DataFrame
        The canonical ``order_lines`` table: ``order_id``, ``order_ts``,
        ``sku``, ``qty`` [units], ``list_price`` [currency/unit]; ``promo_id``
        is read when ``exclude_promo`` asks for it.
    start, end : date-like, optional
        Keep orders with ``start <= order_ts`` and ``order_ts < end + 1 day``
        (both days included).
    exclude_promo : bool or sequence of str
        ``True``: drop every order holding a line tagged with a promotion
        (natural baskets for a pre-period). Beware that larger baskets are
        more likely to hold a promoted line, so this trims the upper tail
        when promotions are frequent; a sequence of ``promo_id`` drops only
        the orders touched by those promotions (for example the order-level
        offers of the pre-period). ``False``: keep all orders (the promotion
        window itself: under a threshold offer only the qualifying orders
        are tagged, so excluding them would cut the distribution at the
        threshold).
    scope : str
        A promotion scope (``"all"``, ``"category:tea"``, ``"sku:A1|A2"``):
        ``scoped_value`` is then the value of the in-scope lines, the value a
        threshold is compared with, and baskets with no in-scope line are
        left out.
    items : pandas.DataFrame, optional
        The ``items`` table, for the category of each SKU (``category:`` scope).

    Returns
    -------
    pandas.DataFrame
        One row per basket, sorted by ``order_ts``: ``order_id``,
        ``order_ts``, ``lines``, ``units``, ``list_value`` [currency] (all
        lines at list price) and ``scoped_value`` [currency].
    """
    f = "basket_values"
    if not isinstance(order_lines, pd.DataFrame):
        _fail(f, "order_lines", "must be a DataFrame", type(order_lines).__name__,
              "pass the order_lines table (opslib.load_demo().order_lines).")
    need = ["order_id", "order_ts", "sku", "qty", "list_price"]
    missing = [c for c in need if c not in order_lines.columns]
    if missing:
        _fail(f, "order_lines", f"must have the columns {', '.join(need)}; missing {', '.join(missing)}",
              list(order_lines.columns), "map your columns to the order_lines vocabulary (opslib.data.schema); "
              "list_price is needed because thresholds are set on list value.")
    lines = order_lines
    ts = pd.to_datetime(lines["order_ts"])
    keep = np.ones(len(lines), dtype=bool)
    if start is not None:
        keep &= (ts >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (ts < pd.Timestamp(end).normalize() + pd.Timedelta(days=1)).to_numpy()
    lines = lines.loc[keep]
    if exclude_promo is not False and "promo_id" in lines.columns:
        tagged = lines["promo_id"].notna()
        if exclude_promo is not True:
            ids = [exclude_promo] if isinstance(exclude_promo, str) else list(exclude_promo)
            tagged &= lines["promo_id"].isin(ids)
        bad = pd.unique(lines.loc[tagged, "order_id"])
        lines = lines.loc[~lines["order_id"].isin(bad)]
    lines = lines.reset_index(drop=True)
    price = lines["list_price"].to_numpy(dtype=float)
    if np.isnan(price).any():
        _fail(f, "order_lines.list_price", "must be filled on every line",
              lines.loc[np.isnan(price), "order_id"].head(5).tolist(),
              "fill list_price from the items table's price at the order date.")
    value = lines["qty"].to_numpy(dtype=float) * price
    in_scope = _in_scope(lines, scope, items).astype(bool) if scope != "all" else np.ones(len(lines), bool)
    frame = pd.DataFrame({"order_id": lines["order_id"].to_numpy(),
                          "order_ts": pd.to_datetime(lines["order_ts"]).to_numpy(),
                          "qty": lines["qty"].to_numpy(dtype=float), "value": value,
                          "scoped": np.where(in_scope, value, 0.0), "in_scope": in_scope})
    out = frame.groupby("order_id", sort=False).agg(
        order_ts=("order_ts", "min"), lines=("value", "size"), units=("qty", "sum"),
        list_value=("value", "sum"), scoped_value=("scoped", "sum"), any_in_scope=("in_scope", "any"))
    out = out[out["any_in_scope"]].drop(columns="any_in_scope").reset_index()
    out["list_value"] = np.round(out["list_value"], 2)
    out["scoped_value"] = np.round(out["scoped_value"], 2)
    return out.sort_values(["order_ts", "order_id"], kind="stable").reset_index(drop=True)


def _values(function: str, name: str, values, column: str = "scoped_value") -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        if column not in values.columns:
            _fail(function, name, f"as a DataFrame must have a {column!r} column", list(values.columns),
                  "pass the output of basket_values or an array of basket values.")
        values = values[column]
    try:
        array = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        _fail(function, name, "must be basket values (numbers)", type(values).__name__, "pass an array of values.")
    if array.size == 0:
        _fail(function, name, "must hold at least one basket", 0, "widen the date window.")
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        _fail(function, name, "must be finite and non-negative", array[bad][:5].tolist(),
              "drop or fix the baskets with missing or negative value.")
    return array


# --------------------------------------------------------------------------- top-up model


@dataclass(frozen=True)
class TopUpModel:
    """How customers top up a basket to reach a threshold.

    A basket of natural value ``v`` in the band ``[X (1 - band_fraction), X)``
    below a threshold ``X`` tops up with probability ``probability`` to
    ``X + overshoot``; other baskets are unchanged.

    Attributes
    ----------
    probability : float
        Share of the baskets in the band that top up [fraction].
    band_fraction : float
        Width of the band below each threshold [fraction of the threshold].
    overshoot_mean : float
        Mean value above the threshold after a top-up [currency].
    overshoot_edges, overshoot_weights : numpy.ndarray, optional
        Overshoot distribution as a histogram [currency] (edges, ``k+1``) and
        its bin probabilities (``k``); ``None``: exponential with mean
        ``overshoot_mean``.
    probability_se, overshoot_mean_se : float
        Standard errors from :func:`fit_topup` (0 for a model set by hand).
    probability_estimate, overshoot_estimate : float
        :func:`fit_topup`'s estimates before clipping ``probability`` to
        [0, 1] and ``overshoot_mean`` to at least 0 (noise or a shift of the
        whole distribution can make them negative); NaN for a model set by
        hand.
    by_threshold : pandas.DataFrame, optional
        The fit per threshold (see :func:`fit_topup`).
    """

    probability: float
    band_fraction: float = 0.2
    overshoot_mean: float = 0.0
    overshoot_edges: np.ndarray | None = None
    overshoot_weights: np.ndarray | None = None
    probability_se: float = 0.0
    overshoot_mean_se: float = 0.0
    probability_estimate: float = np.nan
    overshoot_estimate: float = np.nan
    by_threshold: pd.DataFrame | None = None

    def __post_init__(self):
        f = "TopUpModel"
        if not (np.isfinite(self.probability) and 0 <= self.probability <= 1):
            _fail(f, "probability", "must be a fraction in [0, 1]", self.probability,
                  "pass e.g. 0.2 for 20% of the baskets in the band (anchor: 12-28%).")
        if not (0 < self.band_fraction < 1):
            _fail(f, "band_fraction", "must be in (0, 1)", self.band_fraction,
                  "pass e.g. 0.2: baskets within 20% below the threshold may top up.")
        if not (np.isfinite(self.overshoot_mean) and self.overshoot_mean >= 0):
            _fail(f, "overshoot_mean", "must be non-negative [currency]", self.overshoot_mean,
                  "pass the mean value above the threshold after a top-up.")
        if (self.overshoot_edges is None) != (self.overshoot_weights is None):
            _fail(f, "overshoot_edges", "and overshoot_weights go together", None, "pass both or neither.")

    def overshoot(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` overshoots [currency]."""
        if self.overshoot_edges is not None and np.sum(self.overshoot_weights) > 0:
            w = np.asarray(self.overshoot_weights, dtype=float)
            edges = np.asarray(self.overshoot_edges, dtype=float)
            k = rng.choice(len(w), size=size, p=w / w.sum())
            return edges[k] + rng.random(size) * (edges[k + 1] - edges[k])
        if self.overshoot_mean == 0:
            return np.zeros(size)
        return rng.exponential(self.overshoot_mean, size)


def _windows(thresholds: np.ndarray, band_fraction: float, above_fraction: float):
    """Band below ``[lo, X)`` and window above ``[X, hi)`` per threshold, not overlapping the neighbours."""
    lo = thresholds * (1 - band_fraction)
    hi = thresholds * (1 + above_fraction)
    hi[:-1] = np.minimum(hi[:-1], lo[1:])
    lo[1:] = np.maximum(lo[1:], hi[:-1])
    return lo, hi


def fit_topup(basket_values_pre, basket_values_during, tiers, *, band_fraction: float = 0.2,
              above_fraction: float = 0.15, counterfactual: str = "reweighted", degree: int = 2,
              bin_width: float | None = None, bootstrap: int = 400, seed: int = 0) -> TopUpModel:
    """Calibrate the top-up probability and overshoot from bunching at past thresholds.

    Parameters
    ----------
    basket_values_pre : array-like or DataFrame
        Natural basket values of the pre-period [currency] (a DataFrame from
        :func:`basket_values`: its ``scoped_value``).
    basket_values_during : array-like or DataFrame
        Basket values during the threshold offer [currency].
    tiers : str or sequence of (threshold, reward)
        The offer's tiers (:func:`opslib.promo.mechanics.parse_tiers`).
    band_fraction : float
        Band below each threshold where baskets may top up [fraction of the
        threshold]: ``[X (1 - band_fraction), X)``.
    above_fraction : float
        Window above each threshold where topped-up baskets land
        [fraction of the threshold]: ``[X, X (1 + above_fraction))``. Windows
        are clipped so that they do not overlap the next tier's band.
    counterfactual : {"reweighted", "pre"}
        The basket-value density the offer period would have had without the
        offer. ``"reweighted"`` (default): the pre-period reweighted by a
        density ratio fitted on the baskets *outside* the bands and windows
        (see Notes), so that a shift of the whole distribution between the
        periods (season, prices, bigger baskets on event days) is not read as
        top-up. ``"pre"``: the pre-period as it is (exact only when nothing
        but the offer changed).
    degree : int
        Degree of the log density ratio in log basket value (``"reweighted"``
        only): 1 absorbs a change of scale, 2 (default) also a change of
        spread; exact for two log-normal periods.
    bin_width : float, optional
        Width of the overshoot histogram bins [currency]; default 2% of the
        lowest threshold.
    bootstrap : int
        Multinomial bootstrap draws for the overshoot's standard error (0:
        none, the standard error is NaN).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    TopUpModel
        Pooled over the thresholds, clipped to a usable model (the raw
        estimates in ``probability_estimate`` and ``overshoot_estimate``);
        ``by_threshold`` has per threshold the
        shares of all baskets in the band below (``share_below_pre``,
        ``share_below_counterfactual``, ``share_below_during``) and in the
        window above (``share_above_pre``, ``share_above_counterfactual``,
        ``share_above_during``), the ``missing_mass`` and ``excess_mass``
        [fraction of all baskets] against the counterfactual,
        ``probability``, ``probability_se`` and ``overshoot_mean`` [currency].

    Notes
    -----
    With ``p`` the counterfactual share of baskets in the band below ``X``
    and ``q`` the observed share during the offer, the missing mass is
    ``p - q`` and the top-up probability ``pi = 1 - q / p``, pooled as
    ``sum(p - q) / sum(p)`` over the thresholds. The overshoot distribution
    is the excess of the during-period histogram over the counterfactual one
    in the window above ``X`` (drawn from its cumulative share made
    non-decreasing and capped at 1, so that noise in the bins past the true
    overshoot adds no tail); its mean is the excess-weighted mean bin centre, undefined
    (NaN) when there is no excess. This is the bunching estimator of Kleven
    (2016) with the pre-period as the counterfactual density (notes, section
    3.2, step 6).

    Reweighting: on the baskets of both periods with value in
    ``[L/2, 2 H)`` (``L`` the lowest band edge, ``H`` the highest window
    edge) outside every band and window, a logistic regression of "during"
    on ``1, z, ..., z^degree`` with ``z`` the standardized log value gives
    the odds ``exp(eta(v)) = n_1 f_1(v) / (n_0 f_0(v))``, the density ratio
    of the periods up to the sample sizes [3]_. Outside the excluded region
    the offer changes nothing, so the counterfactual offer-period share of a
    set ``A`` is ``p_A = sum_{i in pre, v_i in A} exp(eta(v_i)) / n_1``,
    interpolating the ratio across the bands and windows. With ``"pre"``
    the weights are 1 and ``p_A`` is the pre-period share.

    Standard error of ``pi`` by the delta method, the two periods being
    independent samples:
    ``var(pi) = var(q) / p^2 + q^2 var(p) / p^4`` with
    ``var(q) = q (1 - q) / N_1`` and ``var(p)`` the sampling variance of the
    weighted pre-period mean plus ``g' V g``, ``g = dp/dbeta`` and ``V`` the
    inverse Fisher information of the logistic fit (the fit uses baskets
    disjoint from the bands, so the terms are independent). Test it at
    placebo thresholds where no offer applied (the benchmarks do): the
    estimate should be consistent with 0.

    References
    ----------
    .. [3] Qin, J. (1998). Inferences for case-control and semiparametric
       two-sample density ratio models. *Biometrika* 85(3), 619-630.
    """
    f = "fit_topup"
    pre = _values(f, "basket_values_pre", basket_values_pre)
    during = _values(f, "basket_values_during", basket_values_during)
    if not (0 < band_fraction < 1):
        _fail(f, "band_fraction", "must be in (0, 1)", band_fraction, "pass e.g. 0.2.")
    if not (0 < above_fraction):
        _fail(f, "above_fraction", "must be above 0", above_fraction, "pass e.g. 0.15.")
    if counterfactual not in ("reweighted", "pre"):
        _fail(f, "counterfactual", "must be 'reweighted' or 'pre'", counterfactual,
              "pass 'reweighted' (robust to a shift of the whole distribution) or 'pre'.")
    if not (isinstance(degree, (int, np.integer)) and 1 <= degree <= 4):
        _fail(f, "degree", "must be an integer from 1 to 4", degree, "pass 2 (scale and spread).")
    thresholds = np.array([t.threshold for t in parse_tiers(tiers)])
    lo, hi = _windows(thresholds, band_fraction, above_fraction)
    width = float(bin_width) if bin_width is not None else 0.02 * thresholds[0]
    if not width > 0:
        _fail(f, "bin_width", "must be above 0 [currency]", bin_width, "pass e.g. 5.0.")
    n0, n1 = pre.size, during.size
    pre_c, dur_c = _cents(pre), _cents(during)
    if counterfactual == "reweighted":
        weight, gradient_of, beta_cov = _density_ratio(f, pre, during, pre_c, dur_c, lo, hi, int(degree))
    else:
        weight, gradient_of, beta_cov = np.ones(n0), None, None

    def in_range(c, a, b):
        return (c >= _cents(a)) & (c < _cents(b))

    def counterfactual_share(mask):
        """Share ``p`` of the set, its variance (sampling plus the ratio fit's)."""
        w = np.where(mask, weight, 0.0)
        p = w.sum() / n0
        var = max(np.mean(w ** 2) - p ** 2, 0.0) / n0
        if gradient_of is not None:
            g = gradient_of(w)
            var += float(g @ beta_cov @ g)
        return p, var

    def probability_and_se(mask_pre, mask_dur):
        p, var_p = counterfactual_share(mask_pre)
        q = mask_dur.mean()
        if p <= 0:
            return p, q, np.nan, np.nan
        var_q = max(q * (1 - q), 1 / n1) / n1
        return p, q, 1 - q / p, float(np.sqrt(var_q / p ** 2 + q ** 2 * var_p / p ** 4))

    # overshoot bins, common to all thresholds (index by distance above X)
    n_bins = int(np.ceil((hi - thresholds).max() / width))
    edges = np.arange(n_bins + 1) * width
    rows, counts_pre, weighted_pre, counts_dur = [], [], [], []
    band_pre, band_dur = np.zeros(n0, bool), np.zeros(n1, bool)
    for x, a, b in zip(thresholds, lo, hi):
        below_pre, below_dur = in_range(pre_c, a, x), in_range(dur_c, a, x)
        band_pre |= below_pre
        band_dur |= below_dur
        p, q, pi, se = probability_and_se(below_pre, below_dur)
        above_pre, above_dur = in_range(pre_c, x, b), in_range(dur_c, x, b)
        pa, qa = counterfactual_share(above_pre)[0], above_dur.mean()
        hp, hw = _bins(pre_c, x, b, width, n_bins), _bins(pre_c, x, b, width, n_bins, weight)
        hd = _bins(dur_c, x, b, width, n_bins)
        counts_pre.append(hp)
        weighted_pre.append(hw)
        counts_dur.append(hd)
        excess = hd / n1 - hw / n0
        centres = (edges[:-1] + edges[1:]) / 2
        rows.append({"threshold": x, "band_low": a, "window_high": b, "baskets_pre": n0, "baskets_during": n1,
                     "share_below_pre": below_pre.mean(), "share_below_counterfactual": p,
                     "share_below_during": q, "share_above_pre": above_pre.mean(),
                     "share_above_counterfactual": pa, "share_above_during": qa, "missing_mass": p - q,
                     "excess_mass": qa - pa, "probability": pi, "probability_se": se,
                     "overshoot_mean": _overshoot_mean(excess, centres)})
    table = pd.DataFrame(rows)
    p_sum, _, probability, probability_se = probability_and_se(band_pre, band_dur)
    if not p_sum > 0:
        _fail(f, "basket_values_pre", "has no basket in the band below any threshold", thresholds.tolist(),
              "widen band_fraction or check the thresholds against the basket values.")
    cp, cw, cd = np.sum(counts_pre, axis=0), np.sum(weighted_pre, axis=0), np.sum(counts_dur, axis=0)
    centres = (edges[:-1] + edges[1:]) / 2
    excess = cd / n1 - cw / n0
    overshoot_mean = _overshoot_mean(excess, centres)
    overshoot_se = np.nan
    if bootstrap > 0:
        # multinomial bootstrap of the pooled histograms (windows do not overlap, so the pooled counts
        # are one multinomial sample per period); pre-period bins keep their mean weight
        rng = np.random.default_rng(seed)
        mean_weight = np.divide(cw, cp, out=np.ones_like(cw), where=cp > 0)
        bp = rng.multinomial(n0, np.r_[cp, n0 - cp.sum()] / n0, size=bootstrap)[:, :-1] * mean_weight
        bd = rng.multinomial(n1, np.r_[cd, n1 - cd.sum()] / n1, size=bootstrap)[:, :-1]
        means = np.array([_overshoot_mean(d / n1 - p / n0, centres) for p, d in zip(bp, bd)])
        if np.isfinite(means).sum() > 1:
            overshoot_se = float(np.nanstd(means, ddof=1))
    return TopUpModel(probability=float(np.clip(probability, 0, 1)), band_fraction=band_fraction,
                      overshoot_mean=float(max(overshoot_mean, 0.0)) if np.isfinite(overshoot_mean) else 0.0,
                      probability_estimate=float(probability), overshoot_estimate=float(overshoot_mean),
                      overshoot_edges=edges, overshoot_weights=_monotone_weights(excess),
                      probability_se=float(probability_se), overshoot_mean_se=overshoot_se, by_threshold=table)


def _density_ratio(function: str, pre: np.ndarray, during: np.ndarray, pre_c: np.ndarray, dur_c: np.ndarray,
                   lo: np.ndarray, hi: np.ndarray, degree: int):
    """Logistic density-ratio fit outside the bands and windows (see :func:`fit_topup`, Notes).

    Returns the weight ``exp(eta(v_i)) n_0 / n_1`` of every pre-period basket (1 on average
    where the periods agree), a function giving ``dp/dbeta`` for a vector of masked weights, and
    the covariance of the coefficients.
    """
    n0, n1 = pre.size, during.size
    low, high = _cents(lo[0] / 2), _cents(2 * hi[-1])

    def outside(c):
        keep = (c >= low) & (c < high)
        for a, b in zip(lo, hi):
            keep &= ~((c >= _cents(a)) & (c < _cents(b)))
        return keep

    keep_pre, keep_dur = outside(pre_c), outside(dur_c)
    need = 20 * (degree + 1)
    if keep_pre.sum() < need or keep_dur.sum() < need:
        _fail(function, "basket_values_pre", f"needs at least {need} baskets per period outside the bands and "
              "windows (between half the lowest band edge and twice the highest window edge) to fit the "
              "counterfactual", (int(keep_pre.sum()), int(keep_dur.sum())),
              "pass more baskets, a lower degree, or counterfactual='pre'.")
    log_fit = np.log(np.r_[pre[keep_pre], during[keep_dur]])
    centre, scale = log_fit.mean(), max(log_fit.std(), 1e-9)

    def design(values):
        z = (np.log(np.maximum(values, 0.005)) - centre) / scale
        return np.vander(z, degree + 1, increasing=True)

    x = np.r_[design(pre[keep_pre]), design(during[keep_dur])]
    y = np.r_[np.zeros(keep_pre.sum()), np.ones(keep_dur.sum())]
    beta = np.zeros(degree + 1)
    beta[0] = np.log(keep_dur.sum() / keep_pre.sum())
    for _ in range(50):
        eta = np.clip(x @ beta, -30, 30)
        prob = 1 / (1 + np.exp(-eta))
        info = (x * (prob * (1 - prob))[:, None]).T @ x
        step = np.linalg.solve(info, x.T @ (y - prob))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    eta = np.clip(x @ beta, -30, 30)
    prob = 1 / (1 + np.exp(-eta))
    cov = np.linalg.inv((x * (prob * (1 - prob))[:, None]).T @ x)
    x_pre = design(pre)
    weight = np.exp(np.clip(x_pre @ beta, -30, 30)) * n0 / n1

    def gradient_of(masked_weight: np.ndarray) -> np.ndarray:
        return (masked_weight @ x_pre) / n0

    return weight, gradient_of, cov


def _bins(cents: np.ndarray, x: float, high: float, width: float, n_bins: int,
          weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or summed ``weights``) of baskets in ``[x + j w, x + (j+1) w)`` within ``[x, high)``, in cents."""
    lo_c, hi_c = _cents(x), _cents(high)
    keep = (cents >= lo_c) & (cents < hi_c)
    j = np.floor((cents[keep] - lo_c) / (width * 100)).astype(np.int64)
    w = None if weights is None else weights[keep]
    return np.bincount(np.minimum(j, n_bins - 1), weights=w, minlength=n_bins)[:n_bins].astype(float)


def _monotone_weights(excess: np.ndarray) -> np.ndarray:
    """Bin probabilities of the overshoot: the cumulative excess made non-decreasing and capped at 1.

    Clipping each bin's excess at 0 would keep the positive noise of the bins beyond the true
    overshoot and lengthen the tail; the running maximum of the cumulative share, capped at 1,
    lets noise past the point where all excess mass is accounted for add nothing.
    """
    total = np.sum(excess)
    if not total > 0:
        return np.zeros_like(excess)
    cdf = np.minimum(np.maximum.accumulate(np.maximum(np.cumsum(excess) / total, 0.0)), 1.0)
    return np.diff(np.r_[0.0, cdf])


def _overshoot_mean(excess: np.ndarray, centres: np.ndarray) -> float:
    total = np.sum(excess)
    return float(np.sum(excess * centres) / total) if total > 0 else np.nan


# --------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class BasketSimulation:
    """Simulated baskets under a threshold offer (see :func:`simulate_baskets`).

    Attributes
    ----------
    tiers : pandas.DataFrame
        Per tier (``tier`` 0 = below the first threshold): ``threshold``,
        ``reward`` [currency], ``share_natural`` (share of baskets at that
        tier without top-up) and ``share`` (with top-up) [fraction].
    baskets : int
        Baskets simulated.
    topped_up_share : float
        Share of all baskets that topped up [fraction].
    padded_share_of_below : float
        Share of the baskets below the top threshold that topped up [fraction]
        (compare with the 12-28% anchor).
    aov_natural, aov_list, aov_paid : float
        Average order value [currency/basket]: natural list value, list value
        after top-up, and what the customer pays (after the discount).
    aov_shift_list, aov_shift_paid : float
        ``aov_list - aov_natural`` and ``aov_paid - aov_natural``.
    discount_per_basket, retailer_cost_per_basket : float
        Mean discount and its unfunded part [currency/basket], before returns.
    gmv, gmv_natural : float
        List value of all baskets with and without the offer [currency].
    returned_value : float
        List value of the returned add-ons [currency].
    net_paid : float
        What customers pay after the refunds of the returns [currency].
    net_retailer_cost : float
        Discount borne after returns (the discount allocated to returned
        add-ons goes back with the refund) plus the return handling cost
        [currency].
    """

    tiers: pd.DataFrame
    baskets: int
    topped_up_share: float
    padded_share_of_below: float
    aov_natural: float
    aov_list: float
    aov_paid: float
    aov_shift_list: float
    aov_shift_paid: float
    discount_per_basket: float
    retailer_cost_per_basket: float
    gmv: float
    gmv_natural: float
    returned_value: float
    net_paid: float
    net_retailer_cost: float


def simulate_baskets(values, tiers, topup: TopUpModel, *, n: int = 100_000, seed: int = 0,
                     return_share: float = 0.0, return_cost: float = 0.0, funding_share: float = 0.0,
                     resample: bool = True) -> BasketSimulation:
    """Draw baskets, apply top-up towards the thresholds and price them.

    Parameters
    ----------
    values : array-like or DataFrame
        Natural (pre-period) basket values [currency] (from
        :func:`basket_values`: its ``scoped_value``).
    tiers : str or sequence of (threshold, reward)
        The offer (:func:`opslib.promo.mechanics.parse_tiers`).
    topup : TopUpModel
        From :func:`fit_topup` or set by hand (``TopUpModel(0.2,
        overshoot_mean=10)``); ``TopUpModel(0.0)`` for no top-up.
    n : int
        Baskets drawn with replacement from ``values``.
    seed : int
        Seed of the draws.
    return_share : float
        Share of the topped-up baskets whose add-on (the top-up value) is
        later returned [fraction] (anchor 3-15% where returns are easy).
    return_cost : float
        Handling cost per returned add-on [currency/return].
    funding_share : float
        Share of the discount funded by a supplier or the platform [fraction].
    resample : bool
        ``False``: use ``values`` as they are, once each (``n`` ignored);
        used for hand checks on a fixed sample.

    Returns
    -------
    BasketSimulation

    Notes
    -----
    For a basket of value ``v``, let ``X`` be the lowest threshold above
    ``v``; if ``v >= X (1 - b)`` it tops up with probability ``pi`` to
    ``X + o``, ``o`` drawn from the overshoot distribution (notes, section
    3.2, steps 1-3). The discount is
    :func:`opslib.promo.mechanics.threshold_discount` on the new value. A
    returned add-on of value ``t`` (the top-up) is refunded at its paid price
    ``t (1 - D/V)`` under proportional allocation, so the discount allocated
    to it, ``D t / V``, is not a cost; the customer keeps the basket's reward
    (platform rules differ; this is the simple case).
    """
    f = "simulate_baskets"
    v0 = _values(f, "values", values)
    if not isinstance(topup, TopUpModel):
        _fail(f, "topup", "must be a TopUpModel", type(topup).__name__, "pass fit_topup(...) or TopUpModel(0.2).")
    for name, value in (("return_share", return_share), ("funding_share", funding_share)):
        if not (0 <= value <= 1):
            _fail(f, name, "must be a fraction in [0, 1]", value, f"pass {name} as a fraction, e.g. 0.1.")
    if not return_cost >= 0:
        _fail(f, "return_cost", "must be non-negative [currency/return]", return_cost, "pass e.g. 8.0.")
    parsed = parse_tiers(tiers)
    thresholds = np.array([t.threshold for t in parsed])
    rng = np.random.default_rng(seed)
    if resample:
        if int(n) < 1:
            _fail(f, "n", "must be at least 1", n, "pass e.g. n=100_000.")
        natural = rng.choice(v0, size=int(n), replace=True)
    else:
        natural = v0.copy()
    m = natural.size
    nxt = np.searchsorted(_cents(thresholds), _cents(natural), side="right")  # index of the next threshold
    below = nxt < len(thresholds)
    target = thresholds[np.minimum(nxt, len(thresholds) - 1)]
    in_band = below & (natural >= target * (1 - topup.band_fraction))
    tops = in_band & (rng.random(m) < topup.probability)
    value = natural.copy()
    value[tops] = target[tops] + topup.overshoot(rng, int(tops.sum()))
    added = value - natural
    priced = threshold_discount(value, parsed, funding_share=funding_share)
    discount = np.asarray(priced.discount, dtype=float)
    tier = np.asarray(priced.tier)
    natural_tier = np.asarray(threshold_discount(natural, parsed).tier)
    returned = tops & (rng.random(m) < return_share)
    returned_value = np.where(returned, added, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        returned_discount = np.where(returned & (value > 0), discount * returned_value / value, 0.0)
    paid = value - discount
    refunds = returned_value - returned_discount
    k = len(parsed) + 1
    table = pd.DataFrame({
        "tier": np.arange(k),
        "threshold": np.r_[0.0, thresholds],
        "reward": np.r_[0.0, [t.reward for t in parsed]],
        "share_natural": np.bincount(natural_tier, minlength=k) / m,
        "share": np.bincount(tier, minlength=k) / m,
    })
    n_below = int(below.sum())
    return BasketSimulation(
        tiers=table, baskets=m, topped_up_share=float(tops.mean()),
        padded_share_of_below=float(tops.sum() / n_below) if n_below else 0.0,
        aov_natural=float(natural.mean()), aov_list=float(value.mean()), aov_paid=float(paid.mean()),
        aov_shift_list=float(value.mean() - natural.mean()), aov_shift_paid=float(paid.mean() - natural.mean()),
        discount_per_basket=float(discount.mean()),
        retailer_cost_per_basket=float(discount.mean() * (1 - funding_share)),
        gmv=float(value.sum()), gmv_natural=float(natural.sum()), returned_value=float(returned_value.sum()),
        net_paid=float(paid.sum() - refunds.sum()),
        net_retailer_cost=float((discount.sum() - returned_discount.sum()) * (1 - funding_share)
                                + return_cost * returned.sum()),
    )
