"""Base-stock policy with periodic review (R = 1), backorders and a constant lead time.

Each period the inventory position is raised to ``S``; an order placed now
arrives after ``L`` periods, so the stock must protect against demand over
``L + 1`` periods.

References
----------
.. [1] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply Chain
   Theory*, 2nd ed. Wiley. Section 4.4 (base-stock with lead times).
.. [2] Zipkin, P. H. (2000). *Foundations of Inventory Management*. Sec. 9.4.
"""

from __future__ import annotations

from typing import NamedTuple

from opslib.inventory._validate import check_periods
from opslib.inventory.distributions import Demand, _as_demand, sum_of_periods
from opslib.inventory.newsvendor import newsvendor, newsvendor_cost

__all__ = ["BaseStockResult", "base_stock", "base_stock_cost"]


class BaseStockResult(NamedTuple):
    """Base-stock level [units], expected cost [money per period], critical ratio p/(p+h)."""

    level: float
    cost: float
    critical_ratio: float


def base_stock(
    demand_per_period: Demand, holding_cost: float, stockout_cost: float, lead_time_periods: float = 0
) -> BaseStockResult:
    r"""Optimal base-stock level with lead time.

    Parameters
    ----------
    demand_per_period : frozen scipy.stats distribution or dict
        I.i.d. demand in one period [units per period].
    holding_cost : float
        :math:`h` [money per unit on hand per period].
    stockout_cost : float
        :math:`p` [money per unit backordered per period].
    lead_time_periods : float, default 0
        Lead time :math:`L` [periods].

    Returns
    -------
    BaseStockResult
        ``level`` [units], ``cost`` [money per period], ``critical_ratio``.

    Notes
    -----
    :math:`S^* = F_{L+1}^{-1}(p/(p+h))`, where :math:`F_{L+1}` is the cdf of
    demand over :math:`L+1` periods [1]_.
    """
    _as_demand(demand_per_period, "demand_per_period")
    protection = sum_of_periods(demand_per_period, check_periods("lead_time_periods", lead_time_periods) + 1)
    return BaseStockResult(*newsvendor(protection, holding_cost, stockout_cost))


def base_stock_cost(
    level: float, demand_per_period: Demand, holding_cost: float, stockout_cost: float, lead_time_periods: float = 0
) -> float:
    r"""Expected cost per period of base-stock level ``level`` [money per period].

    Notes
    -----
    :math:`g(S) = hE[(S-D_{L+1})^+] + pE[(D_{L+1}-S)^+]` [1]_.
    """
    _as_demand(demand_per_period, "demand_per_period")
    protection = sum_of_periods(demand_per_period, check_periods("lead_time_periods", lead_time_periods) + 1)
    return newsvendor_cost(level, protection, holding_cost, stockout_cost)
