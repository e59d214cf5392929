"""Pooling per-SKU elasticities across the SKUs of a category (empirical Bayes).

:func:`empirical_bayes_shrinkage` is the normal-normal model of meta-analysis:
``b_i ~ N(theta_i, s_i^2)``, ``theta_i ~ N(mu, tau^2)``, with ``tau^2``
estimated by REML (or the DerSimonian-Laird method of moments) and
``mu`` by weighted least squares. :func:`pool_elasticities` applies it per
category to the output of :func:`opslib.promo.fit_own_price_response`, and
falls back, labelled, on a literature prior when a category has too few
estimates. :func:`pool_coefficients` pools one regression coefficient
estimated series by series (a post-promotion dip, a cannibalization) into a
random-effects mean, restricted to the sign the theory gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = [
    "BIJMOLT_2005_PRIOR",
    "LiteraturePrior",
    "PooledCoefficient",
    "PooledElasticities",
    "ShrinkageResult",
    "between_variance",
    "empirical_bayes_shrinkage",
    "pool_coefficients",
    "pool_elasticities",
    "shrink_toward",
]


class LiteraturePrior(NamedTuple):
    """A prior for the price elasticity from published meta-analyses.

    ``mean`` and ``sd`` describe the spread of true elasticities across
    products; ``source`` is shown in every row that uses it.
    """

    mean: float
    sd: float
    source: str


BIJMOLT_2005_PRIOR = LiteraturePrior(
    mean=-2.62, sd=1.0,
    source="literature prior: Bijmolt, van Heerde & Pieters (2005), mean of 1,851 price elasticities; "
           "sd 1.0 spans Tellis (1988) -1.76 to van Heerde & Neslin's promotional -3.63")
"""Fallback prior (promotion notes, section 2.3)."""


class ShrinkageResult(NamedTuple):
    """Result of :func:`empirical_bayes_shrinkage` (arrays in the input order)."""

    estimate: np.ndarray
    se: np.ndarray
    weight: np.ndarray
    mean: float
    mean_se: float
    tau: float


def between_variance(estimates, se, method: str = "reml", *, max_iter: int = 200) -> float:
    """Between-unit variance ``tau^2`` of the normal-normal model.

    Parameters
    ----------
    estimates, se : array-like
        Unit estimates and their standard errors (finite, ``se > 0``).
    method : {"reml", "dl"}
        ``"reml"``: restricted maximum likelihood by fixed-point iteration
        [1]_; ``"dl"``: DerSimonian-Laird method of moments [2]_.

    Returns
    -------
    float
        ``tau^2 >= 0``.

    References
    ----------
    .. [1] Viechtbauer (2005), "Bias and efficiency of meta-analytic variance
       estimators in the random-effects model", J. Educ. Behav. Stat. 30(3).
    .. [2] DerSimonian & Laird (1986), "Meta-analysis in clinical trials",
       Controlled Clinical Trials 7(3).
    """
    b = np.asarray(estimates, float)
    v = np.asarray(se, float) ** 2
    if method not in ("reml", "dl"):
        raise DataError(f"between_variance: parameter 'method' must be 'reml' or 'dl'; received {method!r}. "
                        "Fix: pass method='reml'.")
    k = len(b)
    if k < 2:
        return 0.0
    w = 1 / v
    mu = np.sum(w * b) / w.sum()
    q = np.sum(w * (b - mu) ** 2)
    tau2 = max(0.0, (q - (k - 1)) / (w.sum() - np.sum(w ** 2) / w.sum()))
    if method == "dl":
        return float(tau2)
    for _ in range(max_iter):
        w = 1 / (v + tau2)
        mu = np.sum(w * b) / w.sum()
        new = np.sum(w ** 2 * ((b - mu) ** 2 - v)) / np.sum(w ** 2) + 1 / np.sum(w)
        new = max(0.0, float(new))
        if abs(new - tau2) < 1e-10 * (1 + tau2):
            tau2 = new
            break
        tau2 = new
    return float(tau2)


def empirical_bayes_shrinkage(estimates, se, method: str = "reml") -> ShrinkageResult:
    """Shrink unit estimates toward their precision-weighted mean.

    Parameters
    ----------
    estimates, se : array-like
        Unit estimates and standard errors; NaN estimates (units without
        data) get the group mean with the predictive standard error
        ``sqrt(tau^2 + se(mu)^2)``.
    method : {"reml", "dl"}
        Estimator of ``tau^2`` (:func:`between_variance`).

    Returns
    -------
    ShrinkageResult
        ``estimate`` (posterior means), ``se`` (posterior standard errors,
        including the uncertainty of ``mu``), ``weight`` (the share kept of
        each unit's own deviation, ``tau^2 / (tau^2 + s_i^2)``; 0 for NaN),
        ``mean``, ``mean_se``, ``tau``.

    Notes
    -----
    ``theta_i = mu + B_i (b_i - mu)``, ``B_i = tau^2 / (tau^2 + s_i^2)``,
    ``Var = B_i s_i^2 + (1 - B_i)^2 Var(mu)`` (Morris 1983, JASA 78(381),
    the normal-normal posterior with ``mu`` estimated).
    """
    b = np.asarray(estimates, float)
    s = np.asarray(se, float)
    ok = np.isfinite(b) & np.isfinite(s) & (s > 0)
    if ok.sum() == 0:
        raise DataError("empirical_bayes_shrinkage: no finite estimate with a standard error above 0. "
                        "Fix: pass at least one unit with data, or use a prior.")
    tau2 = between_variance(b[ok], s[ok], method)
    w = 1 / (s[ok] ** 2 + tau2)
    mu = float(np.sum(w * b[ok]) / w.sum())
    var_mu = float(1 / w.sum())
    out = np.full(len(b), mu)
    out_se = np.full(len(b), np.sqrt(tau2 + var_mu))
    weight = np.zeros(len(b))
    shrink = tau2 / (tau2 + s[ok] ** 2)
    out[ok] = mu + shrink * (b[ok] - mu)
    out_se[ok] = np.sqrt(shrink * s[ok] ** 2 + (1 - shrink) ** 2 * var_mu)
    weight[ok] = shrink
    return ShrinkageResult(out, out_se, weight, mu, float(np.sqrt(var_mu)), float(np.sqrt(tau2)))


def shrink_toward(estimates, se, mean: float, mean_se: float, *, method: str = "reml",
                  lower: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Shrink unit estimates toward a given group estimate (normal-normal, ``tau^2`` by REML).

    Parameters
    ----------
    estimates, se : array-like
        Unit estimates ``b_i`` and their standard errors ``s_i`` (NaN where a
        unit has none).
    mean, mean_se : float
        The group estimate ``mu`` (e.g. a pooled, constrained fit) and its
        standard error.
    method : {"reml", "dl"}
        Estimator of ``tau^2`` (:func:`between_variance`).
    lower : float, optional
        Lower bound of the parameter (e.g. 0 for a dip fraction): the
        shrunk estimates are clipped to it.

    Returns
    -------
    estimate, se : numpy.ndarray
        ``mu + w_i (b_i - mu)`` with ``w_i = tau^2 / (tau^2 + s_i^2)`` and
        standard error ``sqrt(w_i s_i^2 + (1 - w_i)^2 mean_se^2)``; units
        without an estimate get ``mu`` and ``sqrt(tau^2 + mean_se^2)``.
    """
    b, s = np.asarray(estimates, float), np.asarray(se, float)
    ok = np.isfinite(b) & np.isfinite(s) & (s > 0)
    tau2 = between_variance(b[ok], s[ok], method) if ok.sum() >= 3 else 0.0
    w = np.where(ok, tau2 / (tau2 + np.where(ok, s, 1.0) ** 2), 0.0)
    est = np.where(ok, mean + w * (np.nan_to_num(b) - mean), mean)
    out_se = np.where(ok, np.sqrt(w * np.nan_to_num(s) ** 2 + (1 - w) ** 2 * mean_se ** 2),
                      np.sqrt(tau2 + mean_se ** 2))
    if lower is not None:
        est = np.maximum(est, lower)
    return est, out_se


class PooledCoefficient(NamedTuple):
    """Result of :func:`pool_coefficients` (arrays in the input order).

    ``mean`` is the coefficient used for every unit when the pooling is
    common (0 when ``restricted``); ``estimate`` and ``se`` are the units'
    values shrunk toward it (clipped to the sign when one is given);
    ``unrestricted_mean``, ``mean_se`` and ``z`` describe the random-effects
    mean before any sign restriction, ``tau`` the between-unit spread.
    """

    mean: float
    mean_se: float
    unrestricted_mean: float
    z: float
    tau: float
    n_estimates: int
    restricted: bool
    estimate: np.ndarray
    se: np.ndarray


def pool_coefficients(estimates, se, *, sign: float | None = None, method: str = "reml") -> PooledCoefficient:
    """Random-effects mean of one regression coefficient estimated per unit, optionally sign-restricted.

    Used for effects fitted series by series whose sign the theory fixes
    (a post-promotion dip or a cannibalization lowers demand) but which
    each series estimates with little precision.

    Parameters
    ----------
    estimates, se : array-like
        Per-unit estimates ``b_i`` and standard errors ``s_i`` (NaN where a
        unit has none).
    sign : {1, -1}, optional
        The sign the coefficient must have. When the random-effects mean has
        the other sign, the pooled coefficient is 0 (``restricted``): the data
        show no effect of the expected direction.
    method : {"reml", "dl"}
        Estimator of ``tau^2`` (:func:`between_variance`).

    Returns
    -------
    PooledCoefficient

    Raises
    ------
    opslib.DataError
        When ``sign`` is not 1, -1 or None, or no unit has an estimate.

    Notes
    -----
    ``b_i ~ N(theta_i, s_i^2)``, ``theta_i ~ N(mu, tau^2)``; ``mu`` by
    weighted least squares with weights ``1 / (s_i^2 + tau^2)``, ``tau^2``
    by REML (DerSimonian & Laird 1986; Viechtbauer 2005). ``z = mu / se(mu)``.
    Units are shrunk toward the (restricted) mean as in :func:`shrink_toward`.
    Clipping the shrunk unit values to the sign moves their average away
    from 0 when ``tau`` is large against ``mu``; a common coefficient
    (``mean``) has no such bias.
    """
    if sign not in (None, 1, -1, 1.0, -1.0):
        raise DataError(f"pool_coefficients: parameter 'sign' must be 1, -1 or None; received {sign!r}. "
                        "Fix: pass sign=-1 for an effect that lowers demand.")
    b, s = np.asarray(estimates, float), np.asarray(se, float)
    ok = np.isfinite(b) & np.isfinite(s) & (s > 0)
    r = empirical_bayes_shrinkage(b, s, method)
    restricted = sign is not None and sign * r.mean < 0
    mean = 0.0 if restricted else r.mean
    est, est_se = shrink_toward(b, s, mean, r.mean_se, method=method)
    if sign is not None:
        est = np.where(sign * est > 0, est, 0.0)
    return PooledCoefficient(float(mean), float(r.mean_se), float(r.mean), float(r.mean / r.mean_se)
                             if r.mean_se > 0 else float("nan"), float(r.tau), int(ok.sum()), bool(restricted),
                             est, est_se)


def _tau2_around_groups(b: np.ndarray, s: np.ndarray, groups: np.ndarray, method: str,
                        max_iter: int = 200) -> float:
    """Between-unit variance around group means (random-effects meta-regression on group dummies).

    REML by Fisher scoring, ``tau2 += (r'r - tr P) / tr(P P)`` with
    ``P = W - W X (X'WX)^-1 X'W`` and ``r = P b`` (Viechtbauer 2005);
    ``method="dl"`` gives the method-of-moments (DerSimonian-Laird
    generalized to group means) start only.
    """
    codes, inv = np.unique(groups, return_inverse=True)
    x = np.eye(len(codes))[inv]
    v = s ** 2
    k, p = len(b), len(codes)
    if k <= p:
        return 0.0

    w = 1 / v
    xtwx = x.T @ (x * w[:, None])
    beta = np.linalg.solve(xtwx, x.T @ (w * b))
    q = float(np.sum(w * (b - x @ beta) ** 2))
    # trace of P = W - W X (X'WX)^-1 X'W
    h = np.einsum("ij,jk,ik->i", x * w[:, None], np.linalg.inv(xtwx), x * w[:, None])
    tau2 = max(0.0, (q - (k - p)) / float(np.sum(w) - np.sum(h)))
    if method == "dl":
        return tau2
    for _ in range(max_iter):
        w = 1 / (v + tau2)
        xtwx = x.T @ (x * w[:, None])
        inv_xtwx = np.linalg.inv(xtwx)
        pmat = np.diag(w) - (x * w[:, None]) @ inv_xtwx @ (x * w[:, None]).T
        r = pmat @ b
        # REML score: sum of r^2 - tr(P) = 0, Newton-free fixed point (Viechtbauer 2005, eq. 12 form)
        new = tau2 + (float(r @ r) - float(np.trace(pmat))) / float(np.sum(pmat * pmat))
        new = max(0.0, new)
        if abs(new - tau2) < 1e-10 * (1 + tau2):
            return float(new)
        tau2 = new
    return float(tau2)


@dataclass(frozen=True)
class PooledElasticities:
    """Result of :func:`pool_elasticities`.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per SKU: ``sku, category, elasticity, elasticity_se``
        (pooled), ``unpooled, unpooled_se`` (the SKU's own fit, NaN when not
        identified), ``weight`` (share of the own deviation kept), ``source``
        (``"own+category"``, ``"category"`` for SKUs without an own estimate,
        or the literature prior's label).
    categories : pandas.DataFrame
        One row per category: ``category, mean, mean_se, tau, n_estimates,
        source``.
    """

    estimates: pd.DataFrame
    categories: pd.DataFrame


def pool_elasticities(estimates: pd.DataFrame, *, group: str = "category", method: str = "reml",
                      min_estimates: int = 3, prior: LiteraturePrior = BIJMOLT_2005_PRIOR,
                      shared_tau: bool = True) -> PooledElasticities:
    """Empirical-Bayes pooling of per-SKU elasticities within each category.

    Parameters
    ----------
    estimates : pandas.DataFrame
        ``sku``, ``group``, ``elasticity``, ``elasticity_se`` (the
        ``estimates`` of :func:`opslib.promo.fit_own_price_response`; NaN
        where not identified).
    group : str, default "category"
        Column that defines the pools.
    method : {"reml", "dl"}
        Estimator of the between-SKU variance.
    min_estimates : int, default 3
        A category with fewer identified SKUs uses ``prior`` as its
        distribution (mean, sd) instead of estimating one: labelled in
        ``source``.
    prior : LiteraturePrior
    shared_tau : bool, default True
        Three-level model: one between-SKU variance ``tau^2`` for the whole
        shop, estimated by REML around the category means (a meta-regression
        on category), and the category means themselves shrunk toward the
        shop mean by their own between-category variance. A category with
        few identified SKUs then borrows the shop's ``tau`` instead of
        estimating it from a handful of noisy estimates (where REML often
        returns 0 and intervals far too narrow). Needs ``2 * min_estimates``
        identified SKUs in all; otherwise (or with ``False``) each category is
        pooled on its own and thin categories use ``prior``.

    Returns
    -------
    PooledElasticities

    Raises
    ------
    opslib.DataError
        When a column is missing.
    """
    need = ["sku", group, "elasticity", "elasticity_se"]
    missing = [c for c in need if c not in estimates.columns]
    if missing:
        raise DataError(f"pool_elasticities: table 'estimates' lacks column(s) {missing}; it has "
                        f"{list(estimates.columns)}. Fix: pass fit_own_price_response(...).estimates.")
    if shared_tau not in (True, False):
        raise DataError(f"pool_elasticities: parameter 'shared_tau' must be True or False; received {shared_tau!r}.")
    b_all = estimates["elasticity"].to_numpy(float)
    s_all = estimates["elasticity_se"].to_numpy(float)
    ok_all = np.isfinite(b_all) & np.isfinite(s_all) & (s_all > 0)
    hierarchical = shared_tau and ok_all.sum() >= 2 * min_estimates
    if hierarchical:
        # one between-SKU variance for the shop, estimated around the category means (a
        # meta-regression on category), and category means shrunk toward the shop mean
        tau2 = _tau2_around_groups(b_all[ok_all], s_all[ok_all], estimates[group].to_numpy()[ok_all], method)
        cat_b, cat_v, cat_names = [], [], []
        for cat, g in estimates.groupby(group, sort=True):
            bg, sg = g["elasticity"].to_numpy(float), g["elasticity_se"].to_numpy(float)
            okg = np.isfinite(bg) & np.isfinite(sg) & (sg > 0)
            cat_names.append(cat)
            if okg.any():
                w = 1 / (sg[okg] ** 2 + tau2)
                cat_b.append(float(np.sum(w * bg[okg]) / w.sum()))
                cat_v.append(float(1 / w.sum()))
            else:
                cat_b.append(np.nan)
                cat_v.append(np.nan)
        cb, cv = np.array(cat_b), np.array(cat_v)
        top = empirical_bayes_shrinkage(cb, np.sqrt(cv), method)
        cat_mean = dict(zip(cat_names, top.estimate))
        cat_mean_se = dict(zip(cat_names, top.se))
    rows, cats = [], []
    for cat, g in estimates.groupby(group, sort=True):
        b = g["elasticity"].to_numpy(float)
        s = g["elasticity_se"].to_numpy(float)
        ok = np.isfinite(b) & np.isfinite(s) & (s > 0)
        if hierarchical:
            mu, v_mu = cat_mean[cat], cat_mean_se[cat] ** 2
            shrink = np.where(ok, tau2 / (tau2 + np.where(ok, s, 1.0) ** 2), 0.0)
            est = np.where(ok, mu + shrink * (np.nan_to_num(b) - mu), mu)
            se = np.where(ok, np.sqrt(shrink * np.nan_to_num(s) ** 2 + (1 - shrink) ** 2 * v_mu),
                          np.sqrt(tau2 + v_mu))
            weight, source = shrink, np.where(ok, "own+category+shop", "category+shop")
            cats.append({"category": cat, "mean": mu, "mean_se": np.sqrt(v_mu), "tau": np.sqrt(tau2),
                         "n_estimates": int(ok.sum()), "source": "estimated (shop-wide tau)"})
        elif ok.sum() >= min_estimates:
            r = empirical_bayes_shrinkage(b, s, method)
            source = np.where(ok, "own+category", "category")
            cats.append({"category": cat, "mean": r.mean, "mean_se": r.mean_se, "tau": r.tau,
                         "n_estimates": int(ok.sum()), "source": "estimated"})
            est, se, weight = r.estimate, r.se, r.weight
        else:
            tau2 = prior.sd ** 2
            shrink = np.where(ok, tau2 / (tau2 + np.where(ok, s, 1.0) ** 2), 0.0)
            est = np.where(ok, prior.mean + shrink * (np.nan_to_num(b) - prior.mean), prior.mean)
            se = np.where(ok, np.sqrt(shrink * np.nan_to_num(s) ** 2), prior.sd)
            weight, source = shrink, np.full(len(g), prior.source)
            cats.append({"category": cat, "mean": prior.mean, "mean_se": np.nan, "tau": prior.sd,
                         "n_estimates": int(ok.sum()), "source": prior.source})
        rows.append(pd.DataFrame({"sku": g["sku"].to_numpy(), "category": cat, "elasticity": est,
                                  "elasticity_se": se, "unpooled": b, "unpooled_se": s, "weight": weight,
                                  "source": source}))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["sku", "category", "elasticity", "elasticity_se", "unpooled", "unpooled_se", "weight", "source"])
    return PooledElasticities(out, pd.DataFrame(cats, columns=["category", "mean", "mean_se", "tau",
                                                               "n_estimates", "source"]))
