"""Inventory engine: demand distributions, textbook policies and service-target solvers.

Every optimizer has its cost evaluator; every service solver reports both the
fill rate and the cycle service level it achieves. Demand is a frozen
``scipy.stats`` distribution or an empirical pmf ``{value: probability}``.
Unmet demand is backordered throughout this first increment.
"""

from opslib.inventory.base_stock import BaseStockResult, base_stock, base_stock_cost
from opslib.inventory.crossing import (
    CrossingCycleServiceLevel,
    OrderCrossingShortfall,
    crossing_cycle_service_level,
    order_crossing_shortfall,
    outstanding_order_probabilities,
)
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
from opslib.inventory.lead_time import (
    LeadTimeDemand,
    LeadTimeDemandMoments,
    choose_demand_family,
    compound_demand_pmf,
    lead_time_demand,
    lead_time_demand_moments,
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
from opslib.inventory.orders import OrderSuggestions, order_suggestions
from opslib.inventory.portfolio import BudgetAllocation, exchange_curve, marginal_allocation
from opslib.inventory.policy import (
    POLICY_COLUMNS,
    PolicyPlan,
    demand_statistics,
    plan_policies,
    service_investment_curves,
    supplier_lead_times,
)
from opslib.inventory.rounding import (
    PeriodicReviewService,
    RoundedPolicy,
    RoundingRule,
    periodic_review_service,
    round_order_quantity,
    round_order_up_to_policy,
    round_reorder_point_policy,
)
from opslib.inventory.simulation import SimulationResult, replay_inventory, simulate_inventory
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
    # lead-time demand with random lead times
    "LeadTimeDemand",
    "LeadTimeDemandMoments",
    "lead_time_demand",
    "lead_time_demand_moments",
    "compound_demand_pmf",
    "choose_demand_family",
    # periodic review with orders crossing
    "order_crossing_shortfall",
    "crossing_cycle_service_level",
    "CrossingCycleServiceLevel",
    "outstanding_order_probabilities",
    "OrderCrossingShortfall",
    # MOQ and pack rounding with service recomputed
    "RoundingRule",
    "RoundedPolicy",
    "PeriodicReviewService",
    "round_order_quantity",
    "round_reorder_point_policy",
    "round_order_up_to_policy",
    "periodic_review_service",
    # policy table over a workspace
    "plan_policies",
    "service_investment_curves",
    "PolicyPlan",
    "POLICY_COLUMNS",
    "demand_statistics",
    "supplier_lead_times",
    # portfolio budget
    "marginal_allocation",
    "exchange_curve",
    "BudgetAllocation",
    # today's order list
    "order_suggestions",
    "OrderSuggestions",
    # simulation
    "simulate_inventory",
    "replay_inventory",
    "SimulationResult",
    # the naive rule, for comparison
    "naive_z_policy",
    "compare_with_naive_z_policy",
    "NaiveZPolicy",
    "NaiveComparison",
]
