"""Inventory engine: demand distributions, textbook policies and service-target solvers.

Every optimizer has its cost evaluator; every service solver reports both the
fill rate and the cycle service level it achieves. Demand is a frozen
``scipy.stats`` distribution or an empirical pmf ``{value: probability}``.
Unmet demand is backordered throughout this first increment.
"""

from opslib.inventory.base_stock import BaseStockResult, base_stock, base_stock_cost
from opslib.inventory.distributions import (
    cdf,
    deterministic,
    gamma_from_moments,
    is_discrete,
    loss,
    loss2,
    mean,
    negative_binomial_from_moments,
    normal_from_moments,
    poisson_from_mean,
    quantile,
    sum_of_periods,
    variance,
)
from opslib.inventory.eoq import (
    AllUnitsDiscountResult,
    EOQBackordersResult,
    EOQResult,
    eoq,
    eoq_all_units_discount,
    eoq_with_backorders,
)
from opslib.inventory.naive import NaiveComparison, NaiveZPolicy, compare_with_naive_z_policy, naive_z_policy
from opslib.inventory.newsvendor import (
    NewsvendorProfitResult,
    NewsvendorResult,
    newsvendor,
    newsvendor_cost,
    newsvendor_expected_profit,
    newsvendor_profit,
)
from opslib.inventory.rq import RQResult, rq_cost, rq_optimal
from opslib.inventory.service import (
    OrderUpToPolicy,
    ReorderPointPolicy,
    achieved_cycle_service_level,
    achieved_cycle_service_level_periodic_review,
    achieved_fill_rate,
    achieved_fill_rate_periodic_review,
    order_up_to_for_cycle_service_level,
    order_up_to_for_fill_rate,
    reorder_point_for_cycle_service_level,
    reorder_point_for_fill_rate,
)
from opslib.inventory.ss import PowerApproximationResult, SSResult, ss_cost, ss_optimal, ss_power_approximation

__all__ = [
    # distributions and loss functions
    "loss",
    "loss2",
    "mean",
    "variance",
    "cdf",
    "quantile",
    "is_discrete",
    "deterministic",
    "normal_from_moments",
    "gamma_from_moments",
    "poisson_from_mean",
    "negative_binomial_from_moments",
    "sum_of_periods",
    # EOQ
    "eoq",
    "eoq_with_backorders",
    "eoq_all_units_discount",
    "EOQResult",
    "EOQBackordersResult",
    "AllUnitsDiscountResult",
    # newsvendor and base stock
    "newsvendor",
    "newsvendor_cost",
    "newsvendor_profit",
    "newsvendor_expected_profit",
    "NewsvendorResult",
    "NewsvendorProfitResult",
    "base_stock",
    "base_stock_cost",
    "BaseStockResult",
    # (r,Q) and (s,S)
    "rq_cost",
    "rq_optimal",
    "RQResult",
    "ss_optimal",
    "ss_cost",
    "ss_power_approximation",
    "SSResult",
    "PowerApproximationResult",
    # service targets
    "reorder_point_for_fill_rate",
    "reorder_point_for_cycle_service_level",
    "order_up_to_for_fill_rate",
    "order_up_to_for_cycle_service_level",
    "achieved_fill_rate",
    "achieved_cycle_service_level",
    "achieved_fill_rate_periodic_review",
    "achieved_cycle_service_level_periodic_review",
    "ReorderPointPolicy",
    "OrderUpToPolicy",
    # the naive rule, for comparison
    "naive_z_policy",
    "compare_with_naive_z_policy",
    "NaiveZPolicy",
    "NaiveComparison",
]
