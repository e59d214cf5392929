"""(r,Q) policy: continuous review, fixed order quantity, backorders.

Costs are rates: holding cost [money per unit on hand per unit time],
stockout cost [money per unit backordered per unit time], fixed cost [money
per order], demand rate [units per unit time], and the lead-time demand is
demand over the (constant) lead time.

References
----------
.. [1] Zipkin, P. H. (2000). *Foundations of Inventory Management*.
   McGraw-Hill. Sec. 6.4 (exact (r,Q) cost and its joint convexity).
.. [2] Federgruen, A. and Zheng, Y.-S. (1992). An efficient algorithm for
   computing an optimal (r, Q) policy in continuous review stochastic
   inventory systems. *Operations Research* 40(4):808-813.
.. [3] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply Chain
   Theory*, 2nd ed. Wiley. Sec. 5.2 ((r,Q) policies), 5.5 (Poisson demand).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import optimize

from opslib.errors import DataError
from opslib.inventory._validate import check_integer, check_nonnegative, check_positive
from opslib.inventory.distributions import Demand, _as_demand, is_discrete, loss, loss2, mean, quantile
from opslib.inventory.service import _rq_reorder_point

__all__ = ["RQResult", "rq_cost", "rq_optimal"]


class RQResult(NamedTuple):
    """Reorder point [units], order quantity [units], expected cost [money per unit time]."""

    reorder_point: float
    order_quantity: float
    cost: float


def _params(holding_cost, stockout_cost, fixed_cost, demand_rate):
    h = check_positive("holding_cost", holding_cost, "money per unit on hand per unit time")
    p = check_positive("stockout_cost", stockout_cost, "money per unit backordered per unit time")
    k = check_nonnegative("fixed_cost", fixed_cost, "money per order")
    lam = check_positive("demand_rate", demand_rate, "units per unit time")
    return h, p, k, lam


def _cost(r, q, dist, h, p, k, lam, discrete):
    half = (q + 1) / 2 if discrete else q / 2
    return (k * lam + h * q * (r + half - mean(dist)) + (h + p) * (loss2(dist, r) - loss2(dist, r + q))) / q


def rq_cost(
    reorder_point: float,
    order_quantity: float,
    lead_time_demand: Demand,
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    demand_rate: float,
) -> float:
    r"""Exact expected cost per unit time of an (r,Q) policy.

    Parameters
    ----------
    reorder_point : float
        ``r`` [units]; an integer for discrete demand.
    order_quantity : float
        ``Q`` > 0 [units]; an integer for discrete demand.
    lead_time_demand : frozen scipy.stats distribution or dict
        Demand over the lead time :math:`D_L` [units].
    holding_cost : float
        :math:`h` [money per unit on hand per unit time].
    stockout_cost : float
        :math:`p` [money per unit backordered per unit time].
    fixed_cost : float
        :math:`K` [money per order].
    demand_rate : float
        :math:`\lambda` [units per unit time].

    Returns
    -------
    float
        Expected cost [money per unit time].

    Notes
    -----
    Continuous demand [1]_:

    .. math:: g(r,Q) = \frac{K\lambda + hQ(r + Q/2 - \mu_L) + (h+p)[n^{(2)}(r) - n^{(2)}(r+Q)]}{Q}

    Discrete demand: the same with :math:`(Q+1)/2` for :math:`Q/2` and the
    discrete second-order loss, which equals
    :math:`(K\lambda + \sum_{y=r+1}^{r+Q} G(y))/Q` with
    :math:`G(y) = hE[(y-D_L)^+] + pE[(D_L-y)^+]` [3]_.
    """
    h, p, k, lam = _params(holding_cost, stockout_cost, fixed_cost, demand_rate)
    dist = _as_demand(lead_time_demand, "lead_time_demand")
    discrete = is_discrete(dist)
    if discrete:
        why = " (units, with discrete demand)"
        r = float(check_integer("reorder_point", reorder_point, why=why))
        q = float(check_integer("order_quantity", order_quantity, minimum=1, why=why))
    else:
        r = float(reorder_point)
        q = check_positive("order_quantity", order_quantity, "units")
    return float(_cost(r, q, dist, h, p, k, lam, discrete))


def rq_optimal(
    lead_time_demand: Demand, holding_cost: float, stockout_cost: float, fixed_cost: float, demand_rate: float
) -> RQResult:
    r"""Optimal (r,Q) policy: exact for continuous demand, Federgruen-Zheng for discrete.

    Parameters
    ----------
    lead_time_demand : frozen scipy.stats distribution or dict
        Demand over the lead time :math:`D_L` [units].
    holding_cost : float
        :math:`h` [money per unit on hand per unit time].
    stockout_cost : float
        :math:`p` [money per unit backordered per unit time].
    fixed_cost : float
        :math:`K` [money per order]; > 0 for continuous demand (with
        :math:`K = 0` use :func:`opslib.inventory.base_stock`).
    demand_rate : float
        :math:`\lambda` [units per unit time].

    Returns
    -------
    RQResult
        ``reorder_point``, ``order_quantity`` [units] and ``cost`` [money per unit time].

    Notes
    -----
    Continuous demand. For a given :math:`Q` the best :math:`r` solves
    :math:`G(r) = G(r+Q)`, i.e. :math:`(h+p)[n(r) - n(r+Q)] = hQ` (the fill
    rate equals :math:`p/(p+h)`). Along that curve
    :math:`dg/dQ = [G(r(Q)) - g(r(Q),Q)]/Q`, so the optimum is the root of
    :math:`g(r(Q),Q) = G(r(Q))`, found by Brent's method; the cost is jointly
    convex, so the root is unique [1]_.

    Discrete demand: Federgruen and Zheng's algorithm [2]_. Start from
    :math:`\{y^*\}`, :math:`y^* = \arg\min G`, and grow the set
    :math:`\{r+1, \dots, r+Q\}` one point at a time by whichever neighbour has
    the smaller :math:`G`, while that :math:`G` is below the current average
    cost :math:`(K\lambda + \sum G)/Q`. Exact, :math:`O(Q^*)` evaluations.
    """
    h, p, k, lam = _params(holding_cost, stockout_cost, fixed_cost, demand_rate)
    dist = _as_demand(lead_time_demand, "lead_time_demand")
    if is_discrete(dist):
        return _federgruen_zheng(dist, h, p, k, lam)
    if k == 0:
        raise DataError(
            "fixed_cost must be > 0 for an (r,Q) optimum with continuous demand; got 0. Fix: with no "
            "fixed cost the best policy is base stock (order every unit), use base_stock or newsvendor."
        )
    mu = mean(dist)
    beta = p / (p + h)

    def big_g(y):
        return h * (y - mu) + (h + p) * loss(dist, y)

    def phi(q):
        r = _rq_reorder_point(dist, q, beta)
        return _cost(r, q, dist, h, p, k, lam, False) - big_g(r)

    q_lo = q_hi = math.sqrt(2 * k * lam / h)
    while phi(q_lo) <= 0:
        q_lo /= 2
    while phi(q_hi) >= 0:
        q_hi *= 2
    q = optimize.brentq(phi, q_lo, q_hi, xtol=1e-12, rtol=4 * np.finfo(float).eps, maxiter=500)
    r = _rq_reorder_point(dist, q, beta)
    return RQResult(r, q, float(_cost(r, q, dist, h, p, k, lam, False)))


def _federgruen_zheng(dist, h, p, k, lam) -> RQResult:
    mu = mean(dist)
    cr = p / (p + h)
    # G is convex on the integers; its minimiser is the newsvendor quantile.
    y_star = math.floor(float(quantile(dist, cr)))
    width = 64
    lo, hi = y_star - width, y_star + width
    grid = np.arange(lo, hi + 1, dtype=float)
    values = h * (grid - mu) + (h + p) * loss(dist, grid)

    def big_g(y: int) -> float:
        nonlocal lo, hi, grid, values, width
        while not lo <= y <= hi:
            width *= 2
            lo, hi = y_star - width, y_star + width
            grid = np.arange(lo, hi + 1, dtype=float)
            values = h * (grid - mu) + (h + p) * loss(dist, grid)
        return float(values[y - lo])

    # guard: the discrete quantile is argmin G up to ties; step to the true minimum
    while big_g(y_star - 1) < big_g(y_star):
        y_star -= 1
    while big_g(y_star + 1) < big_g(y_star):
        y_star += 1
    r, q = y_star - 1, 1
    total = big_g(y_star)
    cost = (k * lam + total) / q
    while True:
        down, up = big_g(r), big_g(r + q + 1)
        nxt = min(down, up)
        if nxt >= cost:
            break
        if down <= up:
            r -= 1
        total += nxt
        q += 1
        cost = (k * lam + total) / q
    return RQResult(float(r), float(q), float(cost))
