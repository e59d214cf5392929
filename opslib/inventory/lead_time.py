"""Lead-time demand with random lead times, over lead time plus review period.

Demand per day is i.i.d. with mean ``mu`` and variance ``sigma^2`` (use the
forecast error, not raw demand spread, when a forecast sets the mean); the lead
time ``L`` [days] is fixed or random (an array of measured lead times, e.g. the
``lead_time_days`` column of :func:`opslib.ops.lead_time_samples`), independent
of demand. Over the protection interval ``L + R`` (``R`` the review period):

- closed form: ``E = (E[L] + R) mu``, ``Var = (E[L] + R) sigma^2 + mu^2 Var[L]``;
- exact for discrete demand: the compound pmf, a mixture over the lead-time
  values of the (L + R)-fold convolution of the daily pmf.

The distribution family is chosen per SKU from volume and variability
(Poisson or negative binomial for slow and intermittent items, normal or gamma
for fast ones) and can be overridden.

References
----------
.. [1] Silver, E. A., Pyke, D. F. and Thomas, D. J. (2017). *Inventory and
   Production Management in Supply Chains*, 4th ed. CRC Press. Sec. 6.10
   (lead-time demand with random lead time).
.. [2] Axsäter, S. (2015). *Inventory Control*, 3rd ed. Springer. Sec. 5.4.
.. [3] Syntetos, A. A., Boylan, J. E. and Croston, J. D. (2005). On the
   categorization of demand patterns. *JORS* 56(5):495-503 (ADI 1.32,
   CV^2 0.49).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from opslib.errors import DataError
from opslib.inventory._validate import check_nonnegative, check_periods
from opslib.inventory.distributions import (
    Demand,
    _as_demand,
    _Pmf,
    _upper,
    gamma_from_moments,
    is_discrete,
    mean,
    negative_binomial_from_moments,
    normal_from_moments,
    poisson_from_mean,
    sum_of_periods,
    variance,
)

__all__ = [
    "FAMILIES",
    "LeadTimeDemand",
    "LeadTimeDemandMoments",
    "lead_time_demand_moments",
    "compound_demand_pmf",
    "choose_demand_family",
    "lead_time_demand",
    "period_demand",
]

FAMILIES = ("poisson", "negative_binomial", "gamma", "normal", "compound")
INTERMITTENT_INTERVAL = 1.32  # average demand interval [days] above which demand is intermittent [3]
SLOW_UNITS = 20.0  # mean protection-interval demand [units] below which an item is slow
NORMAL_CV = 0.25  # coefficient of variation below which normal and gamma agree


class LeadTimeDemandMoments(NamedTuple):
    """Mean [units] and variance [units^2] of demand over lead time plus review period, and the lead-time moments."""

    mean: float
    variance: float
    lead_time_mean_days: float
    lead_time_variance_days2: float


_LEAD_TIME_MEMO: dict = {}
_LEAD_TIME_MEMO_SIZE = 256


def _lead_times(lead_time_days):
    """Distinct lead times [days] and their probabilities (read-only arrays, memoized by value)."""
    arr = np.atleast_1d(np.asarray(lead_time_days, dtype=float)).ravel()
    key = arr.tobytes()
    hit = _LEAD_TIME_MEMO.get(key)
    if hit is not None:
        return hit
    out = _distinct_lead_times(arr, lead_time_days)
    for a in out:
        a.flags.writeable = False
    if len(_LEAD_TIME_MEMO) >= _LEAD_TIME_MEMO_SIZE:
        _LEAD_TIME_MEMO.pop(next(iter(_LEAD_TIME_MEMO), None), None)
    _LEAD_TIME_MEMO[key] = out
    return out


def _distinct_lead_times(arr, lead_time_days):
    if arr.size == 0 or np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise DataError(
            "lead_time_days must be a number of days >= 0 or a non-empty array of observed lead times [days]; "
            f"got {np.asarray(lead_time_days).ravel()[:5].tolist()!r}. Fix: drop missing or negative samples "
            "(e.g. opslib.ops.lead_time_samples(ws)['lead_time_days'].dropna())."
        )
    values, counts = np.unique(arr, return_counts=True)
    return values, counts / counts.sum()


def lead_time_demand_moments(
    demand_mean_per_day: float,
    demand_variance_per_day: float,
    lead_time_days,
    review_period_days: float = 0,
) -> LeadTimeDemandMoments:
    r"""Mean and variance of demand over lead time plus review period.

    Parameters
    ----------
    demand_mean_per_day : float
        :math:`\mu` [units per day].
    demand_variance_per_day : float
        :math:`\sigma^2` [units^2 per day].
    lead_time_days : float or array_like
        A fixed lead time, or observed lead times (their empirical
        distribution) [days].
    review_period_days : float, default 0
        :math:`R` [days]; 0 for continuous review.

    Returns
    -------
    LeadTimeDemandMoments

    Notes
    -----
    :math:`E[D] = (E[L] + R)\mu`,
    :math:`\mathrm{Var}[D] = (E[L] + R)\sigma^2 + \mu^2\mathrm{Var}[L]` [1]_.
    """
    mu = check_nonnegative("demand_mean_per_day", demand_mean_per_day, "units per day")
    var = check_nonnegative("demand_variance_per_day", demand_variance_per_day, "units^2 per day")
    r = check_periods("review_period_days", review_period_days)
    values, probs = _lead_times(lead_time_days)
    el = float(values @ probs)
    vl = float(((values - el) ** 2) @ probs)
    return LeadTimeDemandMoments((el + r) * mu, (el + r) * var + mu * mu * vl, el, vl)


def compound_demand_pmf(demand_per_day: Demand, lead_time_days, review_period_days: float = 0) -> dict:
    r"""Exact pmf of demand over a random lead time plus review period.

    Parameters
    ----------
    demand_per_day : discrete frozen scipy.stats distribution or dict
        I.i.d. daily demand [units per day] (Poisson, negative binomial or an
        empirical pmf of whole units).
    lead_time_days : float or array_like
        A fixed lead time, or observed lead times [days]; whole days for an
        empirical daily pmf.
    review_period_days : float, default 0
        :math:`R` [days].

    Returns
    -------
    dict
        ``{units: probability}``.

    Notes
    -----
    :math:`P(D = k) = \sum_l P(L = l)\,P(D_{l+R} = k)`, with :math:`D_{l+R}`
    the :math:`(l+R)`-fold convolution of the daily pmf (closed form for
    Poisson and negative binomial) [2]_.
    """
    dist = _as_demand(demand_per_day, "demand_per_day")
    if not is_discrete(dist):
        raise DataError(
            "demand_per_day must be discrete (Poisson, negative binomial or a pmf dict) for the compound pmf; got "
            "a continuous distribution. Fix: use lead_time_demand(..., family='gamma' or 'normal') for continuous demand."
        )
    r = check_periods("review_period_days", review_period_days)
    values, probs = _lead_times(lead_time_days)
    parts = [_as_demand(sum_of_periods(demand_per_day, v + r)) for v in values]
    top = 0
    for part in parts:
        if isinstance(part, _Pmf):
            top = max(top, int(part.values[-1]))
        else:
            top = max(top, int(_upper(part)))
    grid = np.arange(top + 1, dtype=float)
    total = np.zeros(top + 1)
    for part, w in zip(parts, probs):
        if not isinstance(part, _Pmf):
            total += w * part.pmf(grid)
        else:
            idx = part.values.astype(int)
            np.add.at(total, idx, w * part.probs)
    keep = total > 0
    total = total / total.sum()
    return dict(zip(grid[keep].tolist(), total[keep].tolist()))


def choose_demand_family(
    protection_mean: float, protection_variance: float, average_demand_interval: float | None = None
) -> tuple[str, str]:
    """The distribution family for one SKU's protection-interval demand, with the reason in words.

    Parameters
    ----------
    protection_mean : float
        Mean demand over lead time plus review period [units].
    protection_variance : float
        Its variance [units^2].
    average_demand_interval : float, optional
        Mean number of days between days with demand (ADI) [days].

    Returns
    -------
    family : str
        One of ``"poisson"``, ``"negative_binomial"``, ``"gamma"``, ``"normal"``.
    reason : str

    Notes
    -----
    Slow (mean under 20 units) or intermittent (ADI above 1.32 days [3]_)
    items get a discrete family: Poisson when the variance is at most 1.1
    times the mean, negative binomial otherwise. Fast items get the normal
    when the coefficient of variation is below 0.25 (it then has no
    practical mass below zero), the gamma otherwise.
    """
    mu, var = float(protection_mean), float(protection_variance)
    intermittent = average_demand_interval is not None and average_demand_interval > INTERMITTENT_INTERVAL
    if mu < SLOW_UNITS or intermittent:
        why = f"intermittent (ADI {average_demand_interval:.2f} days)" if intermittent else f"slow ({mu:.1f} units)"
        if var <= 1.1 * mu:
            return "poisson", f"{why}, variance/mean {var / max(mu, 1e-12):.2f} <= 1.1"
        return "negative_binomial", f"{why}, overdispersed (variance/mean {var / max(mu, 1e-12):.2f})"
    cv = math.sqrt(var) / mu
    if cv < NORMAL_CV:
        return "normal", f"fast ({mu:.0f} units), CV {cv:.2f} < {NORMAL_CV}"
    return "gamma", f"fast ({mu:.0f} units), skewed (CV {cv:.2f})"


@dataclass(frozen=True)
class LeadTimeDemand:
    """Demand over lead time plus review period, and over the lead time alone.

    Attributes
    ----------
    distribution : frozen scipy.stats distribution or dict
        Demand over :math:`L + R` [units] (the protection interval).
    during_lead_time : frozen scipy.stats distribution or dict
        Demand over :math:`L` alone [units] (needed by the (R,S) fill rate).
    family : str
        The family used for both.
    mean, variance : float
        Of ``distribution`` [units], [units^2].
    lead_time_mean_days, lead_time_variance_days2 : float
    review_period_days : float
    reason : str
        Why the family was chosen.
    """

    distribution: object
    during_lead_time: object
    family: str
    mean: float
    variance: float
    lead_time_mean_days: float
    lead_time_variance_days2: float
    review_period_days: float
    reason: str


def _fit_spec(family, mu, var):
    """What :func:`_fit` builds, without freezing a scipy distribution (about 0.5 ms each).

    A pmf dict, or ``(generator, args, kwds)`` with ``generator(*args, **kwds)``
    equal to ``_fit(family, mu, var)`` (same branches, same parameters), for
    hot loops that only call the generator's methods with those parameters.
    """
    from scipy import stats

    if mu <= 0:
        return {0.0: 1.0}
    if var <= 1e-12 and family != "poisson":
        return {float(round(mu)): 1.0} if family in ("negative_binomial",) else {float(mu): 1.0}
    if family == "poisson" or (family == "negative_binomial" and not var > mu * (1 + 1e-9)):
        return stats.poisson, (mu,), {}
    if family == "negative_binomial":
        return stats.nbinom, (mu * mu / (var - mu), mu / var), {}
    if family == "gamma":
        return stats.gamma, (mu * mu / var,), {"scale": var / mu}
    return stats.norm, (), {"loc": mu, "scale": float(np.sqrt(var))}


def _kernels_apply(generator, kwds) -> bool:
    """Whether a :func:`_fit_spec` generator may be called through its kernels (``_pmf``, ``_cdf``, ``_isf``,
    ``_stats``): Poisson and negative binomial without ``loc``, whose parameters ``_fit_spec`` makes valid. Their
    public methods only check the arguments around those kernels (the same numbers, 0.1 ms less per call)."""
    return not kwds and generator.name in ("poisson", "nbinom")


def _fit_is_discrete(family, mu, var) -> bool:
    """``is_discrete(_fit(family, mu, var))`` without fitting."""
    return mu <= 0 or (var <= 1e-12 and family != "poisson") or family in ("poisson", "negative_binomial")


def _fit(family, mu, var):
    if mu <= 0:
        return {0.0: 1.0}
    if var <= 1e-12 and family != "poisson":
        return {float(round(mu)): 1.0} if family in ("negative_binomial",) else {float(mu): 1.0}
    if family == "poisson":
        return poisson_from_mean(mu)
    if family == "negative_binomial":
        return negative_binomial_from_moments(mu, var) if var > mu * (1 + 1e-9) else poisson_from_mean(mu)
    if family == "gamma":
        return gamma_from_moments(mu, var)
    return normal_from_moments(mu, var)


def period_demand(family: str, mean: float, variance: float) -> Demand:
    """The demand distribution of one period for a family and its moments, as the planning functions build it.

    What :func:`opslib.inventory.plan_policies` assumes for a SKU's demand per
    day (its policy table's ``family``, ``demand_mean_per_day`` and
    ``demand_variance_per_day``), so that a simulation or a chart can use the
    same demand the policy was solved for.

    Parameters
    ----------
    family : {"poisson", "negative_binomial", "gamma", "normal", "compound"}
        ``"compound"`` (a lead-time demand family, not a per-period one) gives
        the negative binomial when the variance exceeds the mean and the
        Poisson otherwise, as the review-period demand of the planner does.
    mean, variance : float
        Per period [units, units squared].

    Returns
    -------
    frozen scipy.stats distribution or dict
        A pmf dict ``{value: probability}`` for zero mean or zero variance.
    """
    if family not in FAMILIES:
        raise DataError(f"family must be one of {FAMILIES}; got {family!r}. Fix: pick one.")
    mean = check_nonnegative("mean", mean, "units per period")
    variance = check_nonnegative("variance", variance, "units squared per period")
    if family == "compound":
        family = "negative_binomial" if variance > mean else "poisson"
    return _fit(family, mean, variance)


def _lead_time_demand_parts(mu, var, lead_time_days, review_period_days, family, average_demand_interval):
    """The family (and why), the protection-interval moments and the lead-time-only moments of
    :func:`lead_time_demand`, without fitting the distributions."""
    m = lead_time_demand_moments(mu, var, lead_time_days, review_period_days)
    lt = lead_time_demand_moments(mu, var, lead_time_days, 0)
    reason = "chosen by the caller"
    if family == "auto":
        family, reason = choose_demand_family(m.mean, m.variance, average_demand_interval)
    return family, reason, m, lt


def lead_time_demand(
    demand_mean_per_day: float,
    demand_variance_per_day: float,
    lead_time_days,
    review_period_days: float = 0,
    family: str = "auto",
    average_demand_interval: float | None = None,
) -> LeadTimeDemand:
    r"""Lead-time (plus review period) demand distribution for one SKU.

    Parameters
    ----------
    demand_mean_per_day : float
        :math:`\mu` [units per day].
    demand_variance_per_day : float
        :math:`\sigma^2` [units^2 per day] (forecast error variance when a
        forecast sets the mean).
    lead_time_days : float or array_like
        A fixed lead time, or observed lead times [days].
    review_period_days : float, default 0
        :math:`R` [days].
    family : {"auto", "poisson", "negative_binomial", "gamma", "normal", "compound"}
        ``"auto"`` chooses by :func:`choose_demand_family`. ``"compound"`` is
        the exact mixture :func:`compound_demand_pmf` with a Poisson or
        negative binomial day; the others are fitted to the closed-form moments.
    average_demand_interval : float, optional
        ADI [days], for ``"auto"``.

    Returns
    -------
    LeadTimeDemand

    Notes
    -----
    Moments by :func:`lead_time_demand_moments` [1]_; the lead-time-only
    distribution uses the same family with :math:`R = 0`.
    """
    if family not in ("auto",) + FAMILIES:
        raise DataError(f"family must be 'auto' or one of {FAMILIES}; got {family!r}. Fix: pick one of those.")
    family, reason, m, lt = _lead_time_demand_parts(
        demand_mean_per_day, demand_variance_per_day, lead_time_days, review_period_days, family, average_demand_interval)
    if family == "compound":
        mu, var = float(demand_mean_per_day), float(demand_variance_per_day)
        if mu <= 0:
            day = {0.0: 1.0}
        else:
            day = negative_binomial_from_moments(mu, var) if var > mu * (1 + 1e-9) else poisson_from_mean(mu)
        dist = compound_demand_pmf(day, lead_time_days, review_period_days)
        during = compound_demand_pmf(day, lead_time_days, 0)
        return LeadTimeDemand(
            dist, during, family, mean(dist), variance(dist), m.lead_time_mean_days, m.lead_time_variance_days2,
            float(review_period_days), reason,
        )
    return LeadTimeDemand(
        _fit(family, m.mean, m.variance),
        _fit(family, lt.mean, lt.variance),
        family,
        m.mean,
        m.variance,
        m.lead_time_mean_days,
        m.lead_time_variance_days2,
        float(review_period_days),
        reason,
    )
