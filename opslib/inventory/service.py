"""Service-target solvers: the stock level that delivers the service asked for.

Two service measures, always named explicitly:

- **cycle service level** (alpha, "non-stockout probability"): the probability
  of no stockout in a replenishment cycle;
- **fill rate** (beta, "type 2"): the fraction of demand met from stock on hand.

The fill rate is solved *exactly* through loss functions, not by the z-rule
``z = Phi^-1(fill_rate)``, which treats a fill rate as a cycle service level
(see :mod:`opslib.inventory.naive` for the difference). Unmet demand is
backordered in every formula here.

Policies:

- (r,Q), continuous review: order ``Q`` when the inventory position falls to
  ``r``; lead-time demand ``D_L``. Fill rate
  ``1 - [n_L(r) - n_L(r+Q)]/Q``; cycle service level ``F_L(r)``.
- (R,S), periodic review: every ``R`` periods raise the inventory position to
  ``S``; lead time ``L`` periods. Fill rate
  ``1 - [n_{R+L}(S) - n_L(S)]/(R mu)``; cycle service level ``F_{R+L}(S)``.
  Base stock is ``R = 1``.

References
----------
.. [1] Zipkin, P. H. (2000). *Foundations of Inventory Management*.
   McGraw-Hill. Secs. 6.2-6.7 (the (r,Q) fill rate as an average of F).
.. [2] Axsäter, S. (2015). *Inventory Control*, 3rd ed. Springer. Sec. 5.3
   (service levels for (R,Q) and (R,S) policies).
.. [3] Silver, E. A., Pyke, D. F. and Thomas, D. J. (2017). *Inventory and
   Production Management in Supply Chains*, 4th ed. CRC Press. Ch. 6-7
   (the approximate fill-rate rule G(k) = (1-beta)Q/sigma_L).
.. [4] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply Chain
   Theory*, 2nd ed. Wiley. Sec. 5.2.3 (type-2 service in (r,Q) systems).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from opslib.inventory._validate import check_integer, check_periods, check_positive, check_probability
from opslib.inventory.distributions import (
    Demand,
    _as_demand,
    cdf,
    is_discrete,
    loss,
    mean,
    quantile,
    sum_of_periods,
)

__all__ = [
    "ReorderPointPolicy",
    "OrderUpToPolicy",
    "reorder_point_for_fill_rate",
    "reorder_point_for_cycle_service_level",
    "order_up_to_for_fill_rate",
    "order_up_to_for_cycle_service_level",
    "achieved_fill_rate",
    "achieved_cycle_service_level",
    "achieved_fill_rate_periodic_review",
    "achieved_cycle_service_level_periodic_review",
]

UNMET_DEMAND = "backordered"


@dataclass(frozen=True)
class ReorderPointPolicy:
    """An (r,Q) policy with the service it achieves (unmet demand backordered).

    Attributes
    ----------
    reorder_point : float
        ``r`` [units of inventory position].
    order_quantity : float
        ``Q`` [units].
    safety_stock : float
        ``r - E[D_L]`` [units].
    service_type : str
        ``"fill_rate"`` or ``"cycle_service_level"``: what the target was.
    service_target : float
        The target asked for.
    fill_rate, cycle_service_level : float
        Both service measures the policy achieves.
    policy : str
        ``"(r,Q)"``.
    unmet_demand : str
        ``"backordered"``: the assumption behind the service formulas.
    """

    reorder_point: float
    order_quantity: float
    safety_stock: float
    service_type: str
    service_target: float
    fill_rate: float
    cycle_service_level: float
    policy: str = "(r,Q)"
    unmet_demand: str = UNMET_DEMAND


@dataclass(frozen=True)
class OrderUpToPolicy:
    """An (R,S) policy with the service it achieves (unmet demand backordered).

    Attributes
    ----------
    order_up_to : float
        ``S`` [units of inventory position].
    review_periods : float
        ``R`` [periods].
    lead_time_periods : float
        ``L`` [periods].
    safety_stock : float
        ``S - E[D_{R+L}]`` [units].
    service_type, service_target, fill_rate, cycle_service_level, policy, unmet_demand
        As in :class:`ReorderPointPolicy`; ``policy`` is ``"(R,S)"``.
    """

    order_up_to: float
    review_periods: float
    lead_time_periods: float
    safety_stock: float
    service_type: str
    service_target: float
    fill_rate: float
    cycle_service_level: float
    policy: str = "(R,S)"
    unmet_demand: str = UNMET_DEMAND


# --------------------------------------------------------------------------- evaluators


def _rq_fill(dist, r, q):
    return 1.0 - (loss(dist, r) - loss(dist, np.asarray(r, dtype=float) + q)) / q


def _check_q(order_quantity, dist) -> float:
    if is_discrete(dist):
        return float(check_integer("order_quantity", order_quantity, minimum=1, why=" (units, with discrete demand)"))
    return check_positive("order_quantity", order_quantity, "units")


def achieved_fill_rate(reorder_point: float, order_quantity: float, lead_time_demand: Demand) -> float:
    r"""Fill rate of an (r,Q) policy with backorders.

    Parameters
    ----------
    reorder_point : float
        ``r`` [units].
    order_quantity : float
        ``Q`` [units]; an integer for discrete demand.
    lead_time_demand : frozen scipy.stats distribution or dict
        Demand over the lead time :math:`D_L` [units].

    Returns
    -------
    float
        The fraction of demand met from stock.

    Notes
    -----
    :math:`\beta = 1 - [n_L(r) - n_L(r+Q)]/Q = \frac1Q\int_r^{r+Q}F_L(y)\,dy`,
    exact for continuous (fluid) and unit (Poisson) demand, where the
    inventory position is uniform on :math:`(r, r+Q]` [1]_ [4]_.
    """
    dist = _as_demand(lead_time_demand, "lead_time_demand")
    return float(_rq_fill(dist, float(reorder_point), _check_q(order_quantity, dist)))


def achieved_cycle_service_level(reorder_point: float, lead_time_demand: Demand) -> float:
    r"""Cycle service level of an (r,Q) policy: :math:`F_L(r) = P(D_L \le r)`."""
    dist = _as_demand(lead_time_demand, "lead_time_demand")
    return float(cdf(dist, float(reorder_point)))


def _periodic_demands(demand_per_period, review_periods, lead_time_periods):
    _as_demand(demand_per_period, "demand_per_period")
    r = check_periods("review_periods", review_periods, allow_zero=False)
    lt = check_periods("lead_time_periods", lead_time_periods)
    protection = sum_of_periods(demand_per_period, r + lt)
    during_lead_time = sum_of_periods(demand_per_period, lt)
    review_mean = r * mean(demand_per_period)
    if review_mean <= 0:
        check_positive("mean demand per period", review_mean, "units per period")
    return _as_demand(protection), _as_demand(during_lead_time), review_mean, r, lt


def _rs_fill(protection, during_lead_time, review_mean, s):
    return 1.0 - (loss(protection, s) - loss(during_lead_time, s)) / review_mean


def achieved_fill_rate_periodic_review(
    order_up_to: float, demand_per_period: Demand, review_periods: float, lead_time_periods: float
) -> float:
    r"""Fill rate of an (R,S) policy with backorders.

    Parameters
    ----------
    order_up_to : float
        ``S`` [units].
    demand_per_period : frozen scipy.stats distribution or dict
        I.i.d. demand per period [units per period].
    review_periods : float
        ``R`` > 0 [periods].
    lead_time_periods : float
        ``L`` >= 0 [periods].

    Notes
    -----
    :math:`\beta = 1 - [n_{R+L}(S) - n_L(S)]/(R\mu)`: the expected backorders
    at the end of a cycle minus those already there at its start, over the
    cycle's demand [2]_. The common approximation drops :math:`n_L(S)`.
    """
    protection, during_lead_time, review_mean, _, _ = _periodic_demands(
        demand_per_period, review_periods, lead_time_periods
    )
    return float(_rs_fill(protection, during_lead_time, review_mean, float(order_up_to)))


def achieved_cycle_service_level_periodic_review(
    order_up_to: float, demand_per_period: Demand, review_periods: float, lead_time_periods: float
) -> float:
    r"""Cycle service level of an (R,S) policy: :math:`F_{R+L}(S)`."""
    protection, _, _, _, _ = _periodic_demands(demand_per_period, review_periods, lead_time_periods)
    return float(cdf(protection, float(order_up_to)))


# --------------------------------------------------------------------------- root finding


def _lowest(dist) -> float:
    """A point at or below the bulk of the distribution."""
    return float(quantile(dist, 1e-12))


_MANY_LEVELS = 4096
"""Widest bracket :func:`_smallest_meeting` evaluates at once (wider ones are bisected)."""


def _smallest_meeting(f: Callable[[float], float], target: float, lo: float, hi: float, discrete: bool,
                      many: Callable | None = None) -> float:
    """Smallest x (an integer if ``discrete``) with nondecreasing f(x) >= target.

    ``lo`` and ``hi`` are first guesses; they are widened until they bracket.
    ``many``: f at an array of whole levels at once (the same values but for
    round-off), for discrete ``f``: the level it points to is checked with ``f``
    itself (it meets the target and the one below does not), so the answer is
    the bisection's; when the check fails, the bisection runs.
    """
    step = max(hi - lo, 1.0)
    while f(hi) < target:
        hi, step = hi + step, 2 * step
    step = max(hi - lo, 1.0)
    while f(lo) >= target:
        lo, step = lo - step, 2 * step
    if discrete:
        lo_i, hi_i = math.floor(lo), math.ceil(hi)  # f(lo_i) < target <= f(hi_i)
        if many is not None and 1 < hi_i - lo_i <= _MANY_LEVELS:
            levels = np.arange(lo_i + 1, hi_i, dtype=float)
            meets = np.asarray(many(levels)) >= target
            x = float(levels[np.argmax(meets)]) if meets.any() else float(hi_i)
            if (x == hi_i or f(x) >= target) and (x - 1 == lo_i or f(x - 1) < target):
                return x
        while hi_i - lo_i > 1:
            mid = (lo_i + hi_i) // 2
            if f(mid) >= target:
                hi_i = mid
            else:
                lo_i = mid
        return float(hi_i)
    x = optimize.brentq(lambda v: f(v) - target, lo, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500)
    return float(x)


def _rq_reorder_point(dist, q: float, beta: float) -> float:
    discrete = is_discrete(dist)
    hi = float(quantile(dist, beta))  # fill rate >= cycle service level, so this meets beta
    lo = _lowest(dist) - q - 1
    return _smallest_meeting(lambda r: float(_rq_fill(dist, r, q)), beta, lo, hi, discrete)


# --------------------------------------------------------------------------- solvers


def _rq_policy(dist, r, q, service_type, target) -> ReorderPointPolicy:
    return ReorderPointPolicy(
        reorder_point=r,
        order_quantity=q,
        safety_stock=r - mean(dist),
        service_type=service_type,
        service_target=target,
        fill_rate=float(_rq_fill(dist, r, q)),
        cycle_service_level=float(cdf(dist, r)),
    )


def reorder_point_for_fill_rate(lead_time_demand: Demand, order_quantity: float, fill_rate: float) -> ReorderPointPolicy:
    r"""Smallest (r,Q) reorder point that meets a fill-rate target, solved exactly.

    Parameters
    ----------
    lead_time_demand : frozen scipy.stats distribution or dict
        Demand over the lead time :math:`D_L` [units].
    order_quantity : float
        ``Q`` [units]; an integer for discrete demand.
    fill_rate : float
        Target fraction of demand met from stock, in (0, 1) (0.95, not 95).

    Returns
    -------
    ReorderPointPolicy
        With the achieved fill rate and cycle service level.

    Notes
    -----
    Solves :math:`1 - [n_L(r) - n_L(r+Q)]/Q = \beta`, nondecreasing in
    :math:`r`: by Brent's method for continuous demand (residual below 1e-9),
    by bisection over the integers for discrete demand (the smallest integer
    :math:`r` that meets :math:`\beta`) [1]_ [4]_. Unlike the approximation
    :math:`G(k) = (1-\beta)Q/\sigma_L` [3]_, it keeps the :math:`n_L(r+Q)`
    term, so it does not over-protect when :math:`Q` is not large against
    :math:`\sigma_L`.
    """
    dist = _as_demand(lead_time_demand, "lead_time_demand")
    q = _check_q(order_quantity, dist)
    beta = check_probability("fill_rate", fill_rate)
    return _rq_policy(dist, _rq_reorder_point(dist, q, beta), q, "fill_rate", beta)


def reorder_point_for_cycle_service_level(
    lead_time_demand: Demand, order_quantity: float, cycle_service_level: float
) -> ReorderPointPolicy:
    r"""(r,Q) reorder point for a cycle service level: :math:`r = F_L^{-1}(\alpha)`.

    Parameters
    ----------
    lead_time_demand : frozen scipy.stats distribution or dict
        Demand over the lead time :math:`D_L` [units].
    order_quantity : float
        ``Q`` [units], used to report the achieved fill rate.
    cycle_service_level : float
        Target probability of no stockout per cycle, in (0, 1).

    Notes
    -----
    For discrete demand, the smallest integer :math:`r` with
    :math:`F_L(r) \ge \alpha` [2]_.
    """
    dist = _as_demand(lead_time_demand, "lead_time_demand")
    q = _check_q(order_quantity, dist)
    alpha = check_probability("cycle_service_level", cycle_service_level)
    r = float(quantile(dist, alpha))
    if is_discrete(dist):
        r = float(_smallest_meeting(lambda x: float(cdf(dist, x)), alpha, r - 1, r, True))
    return _rq_policy(dist, r, q, "cycle_service_level", alpha)


def _rs_policy(parts, s, service_type, target) -> OrderUpToPolicy:
    protection, during_lead_time, review_mean, r, lt = parts
    return OrderUpToPolicy(
        order_up_to=s,
        review_periods=r,
        lead_time_periods=lt,
        safety_stock=s - mean(protection),
        service_type=service_type,
        service_target=target,
        fill_rate=float(_rs_fill(protection, during_lead_time, review_mean, s)),
        cycle_service_level=float(cdf(protection, s)),
    )


def order_up_to_for_fill_rate(
    demand_per_period: Demand, review_periods: float, lead_time_periods: float, fill_rate: float
) -> OrderUpToPolicy:
    r"""Smallest (R,S) order-up-to level that meets a fill-rate target, solved exactly.

    Parameters
    ----------
    demand_per_period : frozen scipy.stats distribution or dict
        I.i.d. demand per period [units per period] (use forecast error, not
        raw demand spread, when a forecast sets the mean).
    review_periods : float
        ``R`` > 0 [periods]; ``R = 1`` is the base-stock policy.
    lead_time_periods : float
        ``L`` >= 0 [periods].
    fill_rate : float
        Target fraction of demand met from stock, in (0, 1).

    Returns
    -------
    OrderUpToPolicy
        With the achieved fill rate and cycle service level.

    Notes
    -----
    Solves :math:`1 - [n_{R+L}(S) - n_L(S)]/(R\mu) = \beta`, nondecreasing in
    :math:`S` (its slope is :math:`F_L(S) - F_{R+L}(S) \ge 0`) [2]_; Brent's
    method for continuous demand, integer bisection for discrete demand.
    """
    parts = _periodic_demands(demand_per_period, review_periods, lead_time_periods)
    beta = check_probability("fill_rate", fill_rate)
    protection, during_lead_time, review_mean, _, _ = parts
    discrete = is_discrete(protection)
    hi = float(quantile(protection, beta))
    lo = min(_lowest(protection), _lowest(during_lead_time)) - 1
    s = _smallest_meeting(
        lambda x: float(_rs_fill(protection, during_lead_time, review_mean, x)), beta, lo, max(hi, lo + 1), discrete
    )
    return _rs_policy(parts, s, "fill_rate", beta)


def order_up_to_for_cycle_service_level(
    demand_per_period: Demand, review_periods: float, lead_time_periods: float, cycle_service_level: float
) -> OrderUpToPolicy:
    r"""(R,S) order-up-to level for a cycle service level: :math:`S = F_{R+L}^{-1}(\alpha)`.

    Parameters
    ----------
    demand_per_period : frozen scipy.stats distribution or dict
        I.i.d. demand per period [units per period].
    review_periods : float
        ``R`` > 0 [periods].
    lead_time_periods : float
        ``L`` >= 0 [periods].
    cycle_service_level : float
        Target probability of no stockout per review cycle, in (0, 1).

    Notes
    -----
    The protection interval is :math:`R + L`; with normal demand this is
    :math:`S = \mu(R+L) + z_\alpha\sigma\sqrt{R+L}` [2]_ [3]_.
    """
    parts = _periodic_demands(demand_per_period, review_periods, lead_time_periods)
    alpha = check_probability("cycle_service_level", cycle_service_level)
    protection = parts[0]
    s = float(quantile(protection, alpha))
    if is_discrete(protection):
        s = float(_smallest_meeting(lambda x: float(cdf(protection, x)), alpha, s - 1, s, True))
    return _rs_policy(parts, s, "cycle_service_level", alpha)
