"""The newsvendor problem: one period, one order, uncertain demand.

References
----------
.. [1] Arrow, K. J., Harris, T. and Marschak, J. (1951). Optimal inventory
   policy. *Econometrica* 19(3):250-272.
.. [2] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply Chain
   Theory*, 2nd ed. Wiley. Sections 4.3 (newsvendor), 4.3.3 (explicit form).
.. [3] Zipkin, P. H. (2000). *Foundations of Inventory Management*. Sec. 6.2.
"""

from __future__ import annotations

from typing import NamedTuple

from opslib.inventory._validate import check_nonnegative, check_positive
from opslib.inventory.distributions import Demand, _as_demand, loss, mean, quantile

__all__ = [
    "NewsvendorResult",
    "NewsvendorProfitResult",
    "newsvendor",
    "newsvendor_cost",
    "newsvendor_profit",
    "newsvendor_expected_profit",
]


class NewsvendorResult(NamedTuple):
    """Stock level [units], expected cost [money], critical ratio p/(p+h)."""

    level: float
    cost: float
    critical_ratio: float


class NewsvendorProfitResult(NamedTuple):
    """Order quantity [units], expected profit [money], critical ratio c_u/(c_u+c_o)."""

    level: float
    expected_profit: float
    critical_ratio: float


def _costs(holding_cost, stockout_cost) -> tuple[float, float]:
    h = check_nonnegative("holding_cost", holding_cost, "money per unit left over")
    p = check_nonnegative("stockout_cost", stockout_cost, "money per unit short")
    if h + p == 0:
        check_positive("holding_cost + stockout_cost", h + p)
    return h, p


def _cost(level: float, demand, h: float, p: float) -> float:
    n = loss(demand, level)
    return float(h * (level - mean(demand) + n) + p * n)


def newsvendor_cost(level: float, demand: Demand, holding_cost: float, stockout_cost: float) -> float:
    r"""Expected newsvendor cost of a stock level [money].

    Parameters
    ----------
    level : float
        Stock level :math:`S` [units].
    demand : frozen scipy.stats distribution or dict
        Demand :math:`D` [units].
    holding_cost : float
        Overage cost :math:`h` [money per unit left over].
    stockout_cost : float
        Underage cost :math:`p` [money per unit short].

    Notes
    -----
    :math:`g(S) = hE[(S-D)^+] + pE[(D-S)^+] = h(S - \mu + n(S)) + p\,n(S)` [2]_.
    """
    h, p = _costs(holding_cost, stockout_cost)
    demand = _as_demand(demand)
    return _cost(float(level), demand, h, p)


def newsvendor(demand: Demand, holding_cost: float, stockout_cost: float) -> NewsvendorResult:
    r"""Optimal newsvendor stock level.

    Parameters
    ----------
    demand : frozen scipy.stats distribution or dict
        Demand :math:`D` [units].
    holding_cost : float
        Overage cost :math:`h` [money per unit left over].
    stockout_cost : float
        Underage cost :math:`p` [money per unit short].

    Returns
    -------
    NewsvendorResult
        ``level`` [units], ``cost`` [money], ``critical_ratio``.

    Notes
    -----
    :math:`S^* = F^{-1}(p/(p+h))`: for discrete demand, the smallest :math:`S`
    with :math:`F(S) \ge p/(p+h)` [1]_ [2]_.

    Examples
    --------
    >>> from scipy import stats
    >>> newsvendor(stats.norm(50, 8), 0.18, 0.70).level  # Snyder-Shen Example 4.1
    56.60395592743389
    """
    h, p = _costs(holding_cost, stockout_cost)
    demand = _as_demand(demand)
    cr = p / (p + h)
    level = float(quantile(demand, cr))
    return NewsvendorResult(level, _cost(level, demand, h, p), cr)


def _profit_params(price, unit_cost, salvage_value, goodwill_cost):
    r = check_nonnegative("price", price, "money per unit sold")
    c = check_nonnegative("unit_cost", unit_cost, "money per unit bought")
    v = check_nonnegative("salvage_value", salvage_value, "money per unit left over")
    b = check_nonnegative("goodwill_cost", goodwill_cost, "money per unit short")
    return r, c, v, b


def newsvendor_expected_profit(
    level: float, demand: Demand, price: float, unit_cost: float, salvage_value: float = 0.0, goodwill_cost: float = 0.0
) -> float:
    r"""Expected newsvendor profit of an order quantity [money].

    Notes
    -----
    :math:`\pi(S) = r\,E[\min(D,S)] - cS + v\,E[(S-D)^+] - b\,E[(D-S)^+]`
    with :math:`E[\min(D,S)] = \mu - n(S)` and :math:`E[(S-D)^+] = S - \mu + n(S)` [2]_.
    """
    r, c, v, b = _profit_params(price, unit_cost, salvage_value, goodwill_cost)
    demand = _as_demand(demand)
    s, mu = float(level), mean(demand)
    n = float(loss(demand, s))
    return r * (mu - n) - c * s + v * (s - mu + n) - b * n


def newsvendor_profit(
    demand: Demand, price: float, unit_cost: float, salvage_value: float = 0.0, goodwill_cost: float = 0.0
) -> NewsvendorProfitResult:
    r"""Newsvendor in profit form: price, unit cost, salvage value, goodwill.

    Parameters
    ----------
    demand : frozen scipy.stats distribution or dict
        Demand :math:`D` [units].
    price : float
        Selling price :math:`r` [money per unit].
    unit_cost : float
        Purchase cost :math:`c` [money per unit].
    salvage_value : float, default 0
        Value :math:`v` of a unit left over [money per unit].
    goodwill_cost : float, default 0
        Loss of goodwill :math:`b` per unit short, beyond the lost margin [money per unit].

    Returns
    -------
    NewsvendorProfitResult
        ``level`` [units], ``expected_profit`` [money], ``critical_ratio``.

    Notes
    -----
    Underage :math:`c_u = r - c + b`, overage :math:`c_o = c - v`,
    :math:`S^* = F^{-1}(c_u/(c_u+c_o))` [2]_ [3]_.
    """
    r, c, v, b = _profit_params(price, unit_cost, salvage_value, goodwill_cost)
    under = check_positive("price - unit_cost + goodwill_cost", r - c + b, "the underage cost")
    over = check_positive("unit_cost - salvage_value", c - v, "the overage cost")
    demand = _as_demand(demand)
    cr = under / (under + over)
    level = float(quantile(demand, cr))
    return NewsvendorProfitResult(level, newsvendor_expected_profit(level, demand, r, c, v, b), cr)
