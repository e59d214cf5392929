"""(s,S) policy: periodic review, fixed ordering cost, backorders.

At each review, if the inventory position is at or below ``s``, order up to
``S``. Costs per period: holding ``h`` per unit on hand at the end of the
period, stockout ``p`` per unit backordered at the end of the period, ``K``
per order. An order placed now arrives after ``L`` whole periods.

References
----------
.. [1] Zheng, Y.-S. and Federgruen, A. (1991). Finding optimal (s, S)
   policies is about as simple as evaluating a single policy. *Operations
   Research* 39(4):654-665.
.. [2] Ehrhardt, R. and Mosier, C. (1984). A revision of the power
   approximation for computing (s, S) policies. *Management Science*
   30(5):618-622.
.. [3] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply Chain
   Theory*, 2nd ed. Wiley. Sec. 4.6 ((s,S) policies, Algorithm 4.2 and the
   power approximation).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import stats

from opslib.errors import DataError
from opslib.inventory._validate import check_integer, check_nonnegative, check_positive
from opslib.inventory.distributions import Demand, _as_demand, _Pmf, _upper, loss, mean, quantile, sum_of_periods

__all__ = ["SSResult", "PowerApproximationResult", "ss_optimal", "ss_cost", "ss_power_approximation"]


class SSResult(NamedTuple):
    """Reorder point ``s`` [units], order-up-to level ``S`` [units], cost [money per period]."""

    reorder_point: float
    order_up_to: float
    cost: float


class PowerApproximationResult(NamedTuple):
    """Reorder point ``s`` [units] and order-up-to level ``S`` [units] (not integers)."""

    reorder_point: float
    order_up_to: float


def _per_period_pmf(demand) -> np.ndarray:
    """pmf of one period's demand on 0, 1, 2, ... (integer demand only)."""
    dist = _as_demand(demand, "demand")
    if isinstance(dist, _Pmf):
        values = dist.values
        if np.any(values < 0) or np.any(values != np.round(values)):
            raise DataError(
                "demand must take whole, non-negative values for an (s,S) policy; got values "
                f"{values[:5].tolist()!r}. Fix: round demand to units, or fit poisson_from_mean / "
                "negative_binomial_from_moments."
            )
        pmf = np.zeros(int(values[-1]) + 1)
        pmf[values.astype(int)] = dist.probs
        return pmf
    if isinstance(dist.dist, stats.rv_discrete) and dist.support()[0] >= 0:
        return dist.pmf(np.arange(0, _upper(dist) + 1))
    raise DataError(
        "demand must be a discrete distribution of whole non-negative units per period for (s,S) "
        f"(Zheng-Federgruen); got {getattr(dist.dist, 'name', type(dist).__name__)!r}. Fix: use "
        "scipy.stats.poisson / nbinom, a pmf dict, or ss_power_approximation for continuous demand."
    )


class _Kernel:
    """G(y), the renewal function m and its running sum M, extended on demand."""

    def __init__(self, demand, h, p, k, lead_time_periods):
        self.pmf = _per_period_pmf(demand)
        if self.pmf[0] >= 1:
            raise DataError("demand must be positive with some probability; got P(demand = 0) = 1. Fix: drop SKUs without demand.")
        self.k = k
        self.h, self.p = h, p
        self.protection = sum_of_periods(demand, lead_time_periods + 1)
        self.mu = mean(self.protection)
        self.y_star = self._argmin()
        self.lo = self.hi = self.y_star
        self.values = np.array([])
        self._grid(self.y_star - 64, self.y_star + 64)
        self.m = np.array([1.0 / (1.0 - self.pmf[0])])
        self.big_m = np.array([0.0, self.m[0]])

    def _g(self, y):
        return self.h * (y - self.mu) + (self.h + self.p) * loss(self.protection, y)

    def _argmin(self) -> int:
        y = math.floor(float(quantile(self.protection, self.p / (self.p + self.h))))
        while self._g(y - 1) < self._g(y):
            y -= 1
        while self._g(y + 1) < self._g(y):
            y += 1
        return y

    def _grid(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi
        self.values = self._g(np.arange(lo, hi + 1, dtype=float))

    def g(self, y: int) -> float:
        if not self.lo <= y <= self.hi:
            width = 2 * max(self.hi - self.lo, abs(y - self.y_star))
            self._grid(min(self.lo, y) - width // 2, max(self.hi, y) + width // 2)
        return float(self.values[y - self.lo])

    def g_range(self, first: int, last: int) -> np.ndarray:
        self.g(first), self.g(last)
        return self.values[first - self.lo : last - self.lo + 1]

    def _extend_m(self, n: int):
        m, pmf = self.m, self.pmf
        size = len(m)
        if n <= size:
            return
        new = np.empty(max(n, 2 * size))
        new[:size] = m
        pad = np.zeros(len(new) + 1)
        pad[: len(pmf)] = pmf[: len(pad)]
        m0 = new[0]
        for j in range(size, len(new)):
            # m(j) = m(0) * sum_{l=1..j} p_l m(j-l)
            new[j] = m0 * np.dot(pad[1 : j + 1], new[j - 1 :: -1][:j])
        self.m = new
        self.big_m = np.concatenate([[0.0], np.cumsum(new)])

    def cost(self, s: int, big_s: int) -> float:
        n = big_s - s
        self._extend_m(n)
        # sum_{d=0}^{n-1} m(d) G(S-d)
        gs = self.g_range(s + 1, big_s)[::-1]
        return float((self.k + np.dot(self.m[:n], gs)) / self.big_m[n])


def _inputs(holding_cost, stockout_cost, fixed_cost, lead_time_periods):
    h = check_positive("holding_cost", holding_cost, "money per unit on hand per period")
    p = check_positive("stockout_cost", stockout_cost, "money per unit backordered per period")
    k = check_nonnegative("fixed_cost", fixed_cost, "money per order")
    lt = check_integer("lead_time_periods", lead_time_periods, minimum=0, why=" (whole periods)")
    return h, p, k, lt


def ss_cost(
    reorder_point: int,
    order_up_to: int,
    demand: Demand,
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    lead_time_periods: int = 0,
) -> float:
    r"""Exact expected cost per period of an (s,S) policy with discrete demand.

    Parameters
    ----------
    reorder_point : int
        ``s``: order when the inventory position is at or below it [units].
    order_up_to : int
        ``S`` > ``s`` [units].
    demand : scipy.stats discrete distribution or dict
        Demand per period, whole non-negative units [units per period].
    holding_cost : float
        :math:`h` [money per unit on hand per period].
    stockout_cost : float
        :math:`p` [money per unit backordered per period].
    fixed_cost : float
        :math:`K` [money per order].
    lead_time_periods : int, default 0
        :math:`L` [periods].

    Returns
    -------
    float
        Expected cost [money per period].

    Notes
    -----
    With :math:`p_j` the per-period pmf, the renewal quantities are
    :math:`m(0) = 1/(1-p_0)`, :math:`m(j) = m(0)\sum_{l=1}^{j} p_l m(j-l)`,
    :math:`M(j) = \sum_{i<j} m(i)`, and [1]_

    .. math:: c(s,S) = \frac{K + \sum_{d=0}^{S-s-1} m(d)\,G(S-d)}{M(S-s)},

    where :math:`G(y) = hE[(y-D_{L+1})^+] + pE[(D_{L+1}-y)^+]`.
    """
    h, p, k, lt = _inputs(holding_cost, stockout_cost, fixed_cost, lead_time_periods)
    s = check_integer("reorder_point", reorder_point, why=" (units)")
    big_s = check_integer("order_up_to", order_up_to, why=" (units)")
    if big_s <= s:
        raise DataError(
            f"order_up_to must exceed reorder_point; got reorder_point={s}, order_up_to={big_s}. "
            "Fix: pass S > s (an order brings the position from s or below up to S)."
        )
    return _Kernel(demand, h, p, k, lt).cost(s, big_s)


def ss_optimal(
    demand: Demand,
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    lead_time_periods: int = 0,
) -> SSResult:
    r"""Optimal (s,S) policy for discrete demand by Zheng and Federgruen (1991).

    Parameters
    ----------
    demand : scipy.stats discrete distribution or dict
        Demand per period, whole non-negative units (Poisson, negative
        binomial, an empirical pmf, ...) [units per period].
    holding_cost : float
        :math:`h` [money per unit on hand per period].
    stockout_cost : float
        :math:`p` [money per unit backordered per period].
    fixed_cost : float
        :math:`K` [money per order].
    lead_time_periods : int, default 0
        :math:`L` [periods].

    Returns
    -------
    SSResult
        ``reorder_point`` (s), ``order_up_to`` (S), ``cost`` [money per period].

    Notes
    -----
    Algorithm [1]_ ([3]_ Alg. 4.2), exact, with :math:`c(s,S)` as in
    :func:`ss_cost` and :math:`y^* = \arg\min G`:

    1. :math:`S^0 = y^*`; lower :math:`s` from :math:`y^*` until
       :math:`c(s, S^0) \le G(s)`; incumbent :math:`c^0 = c(s, S^0)`.
    2. For :math:`S = S^0+1, S^0+2, \dots` while :math:`G(S) \le c^0`: if
       :math:`c(s,S) < c^0`, take :math:`S^0 = S`, raise :math:`s` while
       :math:`c(s,S^0) \le G(s+1)`, and set :math:`c^0 = c(s,S^0)`.

    Bounds: :math:`s^* < y^* \le S^*` and :math:`S^* \le \max\{y: G(y) \le c^*\}`.
    """
    h, p, k, lt = _inputs(holding_cost, stockout_cost, fixed_cost, lead_time_periods)
    ker = _Kernel(demand, h, p, k, lt)
    big_s0 = ker.y_star
    s = ker.y_star - 1
    while ker.cost(s, big_s0) > ker.g(s):
        s -= 1
    c0 = ker.cost(s, big_s0)
    big_s = big_s0 + 1
    while ker.g(big_s) <= c0:
        if ker.cost(s, big_s) < c0:
            big_s0 = big_s
            while ker.cost(s, big_s0) <= ker.g(s + 1):
                s += 1
            c0 = ker.cost(s, big_s0)
        big_s += 1
    return SSResult(float(s), float(big_s0), c0)


def ss_power_approximation(
    demand_mean: float,
    demand_sd: float,
    holding_cost: float,
    stockout_cost: float,
    fixed_cost: float,
    lead_time_periods: float = 0,
) -> PowerApproximationResult:
    r"""Power approximation for (s,S) (Ehrhardt and Mosier 1984).

    Parameters
    ----------
    demand_mean : float
        :math:`\mu` [units per period].
    demand_sd : float
        :math:`\sigma` [units per period].
    holding_cost, stockout_cost : float
        :math:`h`, :math:`p` [money per unit per period].
    fixed_cost : float
        :math:`K` [money per order].
    lead_time_periods : float, default 0
        :math:`L` [periods].

    Returns
    -------
    PowerApproximationResult
        ``reorder_point`` and ``order_up_to`` [units].

    Notes
    -----
    With :math:`\mu_L = (L+1)\mu`, :math:`\sigma_L^2 = (L+1)\sigma^2` [2]_ [3]_:

    .. math::
        Q_p = 1.30\,\mu^{0.494}(K/h)^{0.506}(1 + \sigma_L^2/\mu^2)^{0.116},\quad
        z = \sqrt{Q_p h/(\sigma_L p)},\\
        s_p = 0.973\mu_L + \sigma_L(0.183/z + 1.063 - 2.192z).

    If :math:`Q_p/\sigma_L > 1.5`: :math:`(s, S) = (s_p, s_p + Q_p)`;
    otherwise both are capped at :math:`S_0 = \mu_L + \sigma_L\Phi^{-1}(p/(p+h))`.
    """
    mu = check_positive("demand_mean", demand_mean, "units per period")
    sd = check_positive("demand_sd", demand_sd, "units per period")
    h = check_positive("holding_cost", holding_cost, "money per unit on hand per period")
    p = check_positive("stockout_cost", stockout_cost, "money per unit backordered per period")
    k = check_nonnegative("fixed_cost", fixed_cost, "money per order")
    lt = check_nonnegative("lead_time_periods", lead_time_periods, "periods")
    mu_l, sd_l = (lt + 1) * mu, math.sqrt(lt + 1) * sd
    q = 1.30 * mu**0.494 * (k / h) ** 0.506 * (1 + sd_l**2 / mu**2) ** 0.116
    z = math.sqrt(q * h / (sd_l * p))
    s = 0.973 * mu_l + sd_l * (0.183 / z + 1.063 - 2.192 * z) if z > 0 else math.inf
    if q / sd_l > 1.5:
        return PowerApproximationResult(s, s + q)
    s0 = mu_l + sd_l * float(stats.norm.ppf(p / (p + h)))
    return PowerApproximationResult(min(s, s0), min(s + q, s0))
