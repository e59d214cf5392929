"""Economic order quantity: the classic, with planned backorders, with all-units discounts.

Time base: every rate and cost shares one time unit (a year, say): demand
[units per time], holding cost [money per unit per time], stockout cost
[money per unit backordered per time].

References
----------
.. [1] Harris, F. W. (1913). How many parts to make at once. *Factory, The
   Magazine of Management* 10(2):135-136.
.. [2] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply Chain
   Theory*, 2nd ed. Wiley. Sections 3.2 (EOQ), 3.4 (quantity discounts),
   3.5 (planned backorders).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from opslib.errors import DataError
from opslib.inventory._validate import check_nonnegative, check_positive

__all__ = [
    "EOQResult",
    "EOQBackordersResult",
    "AllUnitsDiscountResult",
    "eoq",
    "eoq_with_backorders",
    "eoq_all_units_discount",
]


class EOQResult(NamedTuple):
    """Order quantity [units] and its cost [money per time], ordering plus holding."""

    order_quantity: float
    cost: float


class EOQBackordersResult(NamedTuple):
    """Order quantity [units], fraction of the cycle spent backordered, cost [money per time]."""

    order_quantity: float
    stockout_fraction: float
    cost: float


class AllUnitsDiscountResult(NamedTuple):
    """Order quantity [units], price region (0-based index), cost incl. purchase [money per time]."""

    order_quantity: float
    region: int
    cost: float


def eoq(fixed_cost: float, holding_cost: float, demand_rate: float, order_quantity: float | None = None) -> EOQResult:
    r"""Economic order quantity, or the cost of a given order quantity.

    Parameters
    ----------
    fixed_cost : float
        Cost per order :math:`K` [money per order].
    holding_cost : float
        Holding cost :math:`h` [money per unit per time].
    demand_rate : float
        Demand :math:`\lambda` [units per time].
    order_quantity : float, optional
        Evaluate this quantity [units] instead of optimising.

    Returns
    -------
    EOQResult
        ``order_quantity`` [units] and ``cost`` [money per time].

    Notes
    -----
    :math:`g(Q) = K\lambda/Q + hQ/2`, minimised at :math:`Q^* = \sqrt{2K\lambda/h}`
    with :math:`g^* = \sqrt{2K\lambda h}` [1]_ [2]_.

    References
    ----------
    .. [1] Harris, F. W. (1913). How many parts to make at once.
    .. [2] Snyder and Shen (2019), *Fundamentals of Supply Chain Theory*, 2nd ed., Sec. 3.2.

    Examples
    --------
    >>> eoq(fixed_cost=8, holding_cost=0.225, demand_rate=1300)  # Snyder-Shen Example 3.1
    EOQResult(order_quantity=304.0467800264368, cost=68.41052550594829)
    """
    k = check_nonnegative("fixed_cost", fixed_cost)
    h = check_positive("holding_cost", holding_cost)
    lam = check_nonnegative("demand_rate", demand_rate, "units per time")
    if order_quantity is None:
        q = math.sqrt(2 * k * lam / h)
        return EOQResult(q, math.sqrt(2 * k * lam * h))
    q = check_positive("order_quantity", order_quantity, "units")
    return EOQResult(q, k * lam / q + h * q / 2)


def eoq_with_backorders(
    fixed_cost: float,
    holding_cost: float,
    stockout_cost: float,
    demand_rate: float,
    order_quantity: float | None = None,
    stockout_fraction: float | None = None,
) -> EOQBackordersResult:
    r"""EOQ with planned backorders (EOQB), or the cost of a given plan.

    Parameters
    ----------
    fixed_cost : float
        Cost per order :math:`K` [money per order].
    holding_cost : float
        Holding cost :math:`h` [money per unit per time].
    stockout_cost : float
        Backorder cost :math:`p` [money per unit backordered per time].
    demand_rate : float
        Demand :math:`\lambda` [units per time].
    order_quantity, stockout_fraction : float, optional
        Evaluate this plan (both or neither): quantity [units] and the fraction
        :math:`x` of each cycle with backorders.

    Returns
    -------
    EOQBackordersResult
        ``order_quantity``, ``stockout_fraction``, ``cost`` [money per time].

    Notes
    -----
    :math:`g(Q, x) = hQ(1-x)^2/2 + pQx^2/2 + K\lambda/Q`; optimum
    :math:`x^* = h/(h+p)`, :math:`Q^* = \sqrt{2K\lambda(h+p)/(hp)}`,
    :math:`g^* = \sqrt{2K\lambda hp/(h+p)}` [1]_.

    References
    ----------
    .. [1] Snyder and Shen (2019), *Fundamentals of Supply Chain Theory*, 2nd ed., Sec. 3.5.
    """
    k = check_nonnegative("fixed_cost", fixed_cost)
    h = check_positive("holding_cost", holding_cost)
    p = check_positive("stockout_cost", stockout_cost)
    lam = check_nonnegative("demand_rate", demand_rate, "units per time")
    if (order_quantity is None) != (stockout_fraction is None):
        raise DataError(
            "order_quantity and stockout_fraction must be given together (to evaluate a plan) or both "
            f"left out (to optimise); got order_quantity={order_quantity!r}, stockout_fraction="
            f"{stockout_fraction!r}. Fix: pass both or neither."
        )
    if order_quantity is None:
        x = h / (h + p)
        return EOQBackordersResult(math.sqrt(2 * k * lam * (h + p) / (h * p)), x, math.sqrt(2 * k * lam * h * p / (h + p)))
    q = check_positive("order_quantity", order_quantity, "units")
    x = float(stockout_fraction)
    if not 0 <= x <= 1:
        raise DataError(f"stockout_fraction must be in [0, 1]; got {stockout_fraction!r}. Fix: pass a fraction of the cycle.")
    return EOQBackordersResult(q, x, h * q * (1 - x) ** 2 / 2 + p * q * x * x / 2 + k * lam / q)


def eoq_all_units_discount(
    fixed_cost: float,
    holding_cost_rate: float,
    demand_rate: float,
    breakpoints: Sequence[float],
    unit_costs: Sequence[float],
) -> AllUnitsDiscountResult:
    r"""EOQ with all-units quantity discounts.

    Parameters
    ----------
    fixed_cost : float
        Cost per order :math:`K` [money per order].
    holding_cost_rate : float
        Holding cost :math:`i` as a fraction of the unit cost [1 per time].
    demand_rate : float
        Demand :math:`\lambda` [units per time].
    breakpoints : sequence of float
        Lower bounds :math:`b_0 = 0 < b_1 < \dots` of the price regions [units].
    unit_costs : sequence of float
        Unit cost :math:`c_j` in each region [money per unit], one per breakpoint.

    Returns
    -------
    AllUnitsDiscountResult
        ``order_quantity`` [units], ``region`` (0-based), ``cost`` [money per
        time], purchase cost included.

    Notes
    -----
    In region :math:`j` every unit costs :math:`c_j` and
    :math:`g_j(Q) = c_j\lambda + K\lambda/Q + ic_jQ/2`. Its unconstrained
    minimiser :math:`Q_j = \sqrt{2K\lambda/(ic_j)}` is raised to :math:`b_j` if
    below; a region whose :math:`Q_j \ge b_{j+1}` is dominated by the next
    region's breakpoint. The best candidate wins [1]_.

    References
    ----------
    .. [1] Snyder and Shen (2019), *Fundamentals of Supply Chain Theory*, 2nd ed., Sec. 3.4.1.
    """
    k = check_nonnegative("fixed_cost", fixed_cost)
    i = check_positive("holding_cost_rate", holding_cost_rate, "a fraction of unit cost per time")
    lam = check_nonnegative("demand_rate", demand_rate, "units per time")
    b = [check_nonnegative(f"breakpoints[{j}]", v, "units") for j, v in enumerate(breakpoints)]
    c = [check_positive(f"unit_costs[{j}]", v, "money per unit") for j, v in enumerate(unit_costs)]
    if len(b) == 0 or len(b) != len(c) or b[0] != 0 or any(x >= y for x, y in zip(b, b[1:])):
        raise DataError(
            "breakpoints must start at 0 and increase strictly, one per unit cost; got breakpoints="
            f"{list(breakpoints)!r}, unit_costs={list(unit_costs)!r}. Fix: e.g. breakpoints=[0, 400, 800] "
            "with unit_costs=[0.75, 0.72, 0.68]."
        )
    best: AllUnitsDiscountResult | None = None
    for j, cj in enumerate(c):
        q = max(math.sqrt(2 * k * lam / (i * cj)), b[j])
        if j + 1 < len(b) and q >= b[j + 1]:
            continue
        cost = cj * lam + (k * lam / q if q > 0 else 0.0) + i * cj * q / 2
        if best is None or cost < best.cost:
            best = AllUnitsDiscountResult(q, j, cost)
    return best
