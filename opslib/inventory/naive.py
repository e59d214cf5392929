"""The spreadsheet safety-stock rule, kept to show what it gets wrong.

``reorder point = mu L + z sigma sqrt(L)`` with ``z = Phi^-1(target)``, as in
many ERP add-ons (e.g. the OCA Odoo module ``stock_orderpoint_safety_stock``).
Used for a fill-rate target it treats the fill rate as a cycle service level;
it ignores the review period in the spread and assumes normal demand.
:func:`compare_with_naive_z_policy` puts it next to the exact solvers of
:mod:`opslib.inventory.service` and evaluates both under the true demand.

References
----------
.. [1] Silver, E. A., Pyke, D. F. and Thomas, D. J. (2017). *Inventory and
   Production Management in Supply Chains*, 4th ed. CRC Press. Ch. 6.
.. [2] Axsäter, S. (2015). *Inventory Control*, 3rd ed. Springer. Sec. 5.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from scipy import stats

from opslib.errors import DataError
from opslib.inventory._validate import check_nonnegative, check_periods, check_probability
from opslib.inventory.distributions import Demand, _as_demand, mean, sum_of_periods, variance
from opslib.inventory.service import (
    OrderUpToPolicy,
    ReorderPointPolicy,
    _rq_policy,
    _rs_policy,
    _periodic_demands,
    order_up_to_for_cycle_service_level,
    order_up_to_for_fill_rate,
    reorder_point_for_cycle_service_level,
    reorder_point_for_fill_rate,
)

__all__ = ["NaiveZPolicy", "NaiveComparison", "naive_z_policy", "compare_with_naive_z_policy"]

SERVICE_TYPES = ("fill_rate", "cycle_service_level")


class NaiveZPolicy(NamedTuple):
    """Level [units] = mean over the horizon + safety stock [units] with safety factor z."""

    level: float
    safety_stock: float
    z: float


@dataclass(frozen=True)
class NaiveComparison:
    """The naive z-rule and opslib's exact policy for the same target, each with its achieved service.

    Attributes
    ----------
    naive : ReorderPointPolicy or OrderUpToPolicy
        The z-rule's level, evaluated exactly under the given demand.
    exact : ReorderPointPolicy or OrderUpToPolicy
        opslib's solver for the same target.
    extra_safety_stock : float
        ``naive.safety_stock - exact.safety_stock`` [units]; negative means
        the naive rule under-stocks.
    """

    naive: ReorderPointPolicy | OrderUpToPolicy
    exact: ReorderPointPolicy | OrderUpToPolicy
    extra_safety_stock: float


def naive_z_policy(
    demand_mean: float, demand_sd: float, lead_time_periods: float, service_target: float, review_periods: float = 0
) -> NaiveZPolicy:
    r"""The spreadsheet rule :math:`\mu(L+R) + z\sigma\sqrt{L}`, :math:`z = \Phi^{-1}(\text{target})`.

    Parameters
    ----------
    demand_mean, demand_sd : float
        Mean and standard deviation of demand per period [units per period].
    lead_time_periods : float
        :math:`L` [periods].
    service_target : float
        Whatever target the planner typed, in (0, 1); the rule treats it as a
        cycle service level.
    review_periods : float, default 0
        :math:`R` [periods]; the rule covers the review period's mean demand
        but, like the spreadsheets it mimics, not its spread.

    Notes
    -----
    Correct only for a cycle service level with normal demand and continuous
    review (:math:`R = 0`) [1]_; see :func:`compare_with_naive_z_policy`.
    """
    mu = check_nonnegative("demand_mean", demand_mean, "units per period")
    sd = check_nonnegative("demand_sd", demand_sd, "units per period")
    lt = check_periods("lead_time_periods", lead_time_periods)
    r = check_periods("review_periods", review_periods)
    target = check_probability("service_target", service_target)
    z = float(stats.norm.ppf(target))
    safety = z * sd * math.sqrt(lt)
    return NaiveZPolicy(mu * (lt + r) + safety, safety, z)


def compare_with_naive_z_policy(
    demand_per_period: Demand,
    lead_time_periods: float,
    service_target: float,
    service_type: str = "fill_rate",
    order_quantity: float | None = None,
    review_periods: float | None = None,
) -> NaiveComparison:
    r"""The naive z-rule next to opslib's exact policy, both evaluated under the true demand.

    Parameters
    ----------
    demand_per_period : frozen scipy.stats distribution or dict
        The true i.i.d. demand per period [units per period]; the naive rule
        only sees its mean and standard deviation.
    lead_time_periods : float
        :math:`L` [periods].
    service_target : float
        Target in (0, 1).
    service_type : {"fill_rate", "cycle_service_level"}
        What the target means.
    order_quantity : float, optional
        Continuous review (r,Q): the order quantity [units].
    review_periods : float, optional
        Periodic review (R,S): the review period [periods]. Give exactly one
        of ``order_quantity`` and ``review_periods``.

    Returns
    -------
    NaiveComparison
        Both policies with their achieved fill rate and cycle service level.

    Notes
    -----
    For (r,Q) the naive level is :math:`\mu L + z\sigma\sqrt L` and
    :math:`\beta \ge F_L(r)` always, so with a fill-rate target the rule
    over-stocks. For (R,S) it is :math:`\mu(R+L) + z\sigma\sqrt L`, which
    ignores the review period's spread and, with lumpy demand, can under-stock
    [1]_ [2]_.
    """
    _as_demand(demand_per_period, "demand_per_period")
    if service_type not in SERVICE_TYPES:
        raise DataError(
            f"service_type must be one of {SERVICE_TYPES}; got {service_type!r}. Fix: pick the measure the "
            "target refers to."
        )
    if (order_quantity is None) == (review_periods is None):
        raise DataError(
            "exactly one of order_quantity (continuous review) and review_periods (periodic review) must be "
            f"given; got order_quantity={order_quantity!r}, review_periods={review_periods!r}. Fix: pass one."
        )
    target = check_probability("service_target", service_target)
    lt = check_periods("lead_time_periods", lead_time_periods)
    mu, sd = mean(demand_per_period), math.sqrt(variance(demand_per_period))
    if order_quantity is not None:
        ltd = _as_demand(sum_of_periods(demand_per_period, lt))
        solve = reorder_point_for_fill_rate if service_type == "fill_rate" else reorder_point_for_cycle_service_level
        exact = solve(ltd, order_quantity, target)
        level = naive_z_policy(mu, sd, lt, target).level
        naive = _rq_policy(ltd, level, exact.order_quantity, service_type, target)
    else:
        solve = order_up_to_for_fill_rate if service_type == "fill_rate" else order_up_to_for_cycle_service_level
        exact = solve(demand_per_period, review_periods, lt, target)
        level = naive_z_policy(mu, sd, lt, target, review_periods).level
        naive = _rs_policy(_periodic_demands(demand_per_period, review_periods, lt), level, service_type, target)
    return NaiveComparison(naive, exact, naive.safety_stock - exact.safety_stock)
