"""Promotions: mechanics, discount allocation and closed-form P&L (more of issue 5 to come).

* :mod:`opslib.promo.mechanics`: the customer price and retailer cost of each
  mechanic, and :func:`apply_to_basket` for applying a row of the
  ``promotions`` table to order lines in whole cents;
* :mod:`opslib.promo.economics`: incremental margin, break-even lift and
  depth, profit ROI and GMV ROI (投产比);
* :mod:`opslib.promo.response`: own price elasticity, pre/post dips and
  cannibalization learned per SKU from daily history (Poisson GLM);
* :mod:`opslib.promo.inferred`: past price cuts found in daily prices, as
  ``promotions`` rows, for a shop without a promotions table;
* :mod:`opslib.promo.halo`: halo on complements (extra complement units per
  bump unit) from order lines, bootstrap over days, shrunk toward 0;
* :mod:`opslib.promo.pooling`: empirical-Bayes pooling of elasticities per
  category, literature prior as a labelled fallback; sign-restricted
  random-effects means of dip and cannibalization coefficients;
* :mod:`opslib.promo.baskets`: basket values, top-up calibrated from the
  bunching at past thresholds, basket simulation of 满减 offers;
* :mod:`opslib.promo.evaluation`: post-event evaluation, realized lift
  against an ``UnobservedComponents`` counterfactual (CausalImpact style);
* :mod:`opslib.promo.simulate`: Monte Carlo ROI of a :class:`PromotionPlan`
  over the uncertain response, margin waterfall, tornado, scenario comparison;
  :class:`Simulator` for scenario updates on tables indexed once;
* :mod:`opslib.promo.stock_check`: the simulated window demand against
  stock, open orders and lead time (stock-out risk, extra order and by when,
  flash-sale cap, post-promotion reorder adjustment).
"""

from opslib.promo.baskets import (
    BasketSimulation,
    TopUpModel,
    basket_values,
    fit_topup,
    simulate_baskets,
)
from opslib.promo.evaluation import PromotionEvaluation, WapeComparison, evaluate_promotion, paired_wape_bootstrap
from opslib.promo.economics import (
    OwnMargin,
    PromotionROI,
    breakeven_elasticity,
    breakeven_lift,
    max_profitable_depth,
    own_incremental_margin,
    promo_unit_margin,
    promotion_roi,
)

from opslib.promo.mechanics import (
    BasketDiscount,
    CouponResult,
    FlashSaleResult,
    GiftResult,
    MechanicResult,
    MultiBuyResult,
    PointsResult,
    PromotionTerms,
    RepeatingThresholdResult,
    ThresholdResult,
    Tier,
    apply_to_basket,
    buy_one_get_one,
    coupon,
    flash_sale,
    gift_with_purchase,
    item_count_discount,
    loyalty_points,
    parse_tiers,
    percent_off,
    promotion_terms,
    repeating_threshold_discount,
    second_item_half_price,
    threshold_discount,
)

from opslib.promo.halo import HaloEstimates, fit_halo, shrink_toward_zero
from opslib.promo.inferred import INFERRED_NAME, InferredPromotions, infer_promotions
from opslib.promo.pooling import (
    BIJMOLT_2005_PRIOR,
    LiteraturePrior,
    PooledCoefficient,
    PooledElasticities,
    ShrinkageResult,
    between_variance,
    empirical_bayes_shrinkage,
    pool_coefficients,
    pool_elasticities,
)
from opslib.promo.simulate import (
    UNCERTAIN_INPUTS,
    WATERFALL_COMPONENTS,
    Comparison,
    PromotionPlan,
    SimulationResult,
    Simulator,
    baseline_from_history,
    baseline_uncertainty,
    compare,
    simulate,
)
from opslib.promo.stock_check import STOCK_CHECK_COLUMNS, stock_check
from opslib.promo.response import (
    MULTI_UNIT_MECHANICS,
    OwnPriceResponse,
    ResponseSettings,
    effective_depth,
    fit_own_price_response,
    promotion_exposure,
    realized_depths,
)

__all__ = [
    "MechanicResult",
    "ThresholdResult",
    "RepeatingThresholdResult",
    "FlashSaleResult",
    "MultiBuyResult",
    "GiftResult",
    "CouponResult",
    "PointsResult",
    "Tier",
    "PromotionTerms",
    "BasketDiscount",
    "parse_tiers",
    "percent_off",
    "flash_sale",
    "threshold_discount",
    "repeating_threshold_discount",
    "item_count_discount",
    "second_item_half_price",
    "buy_one_get_one",
    "gift_with_purchase",
    "coupon",
    "loyalty_points",
    "promotion_terms",
    "apply_to_basket",
    "OwnMargin",
    "PromotionROI",
    "promo_unit_margin",
    "own_incremental_margin",
    "breakeven_lift",
    "breakeven_elasticity",
    "max_profitable_depth",
    "promotion_roi",
    "ResponseSettings",
    "OwnPriceResponse",
    "effective_depth",
    "promotion_exposure",
    "fit_own_price_response",
    "realized_depths",
    "MULTI_UNIT_MECHANICS",
    "LiteraturePrior",
    "BIJMOLT_2005_PRIOR",
    "ShrinkageResult",
    "PooledElasticities",
    "between_variance",
    "empirical_bayes_shrinkage",
    "pool_elasticities",
    "PooledCoefficient",
    "pool_coefficients",
    "HaloEstimates",
    "InferredPromotions",
    "infer_promotions",
    "INFERRED_NAME",
    "fit_halo",
    "shrink_toward_zero",
    "PromotionPlan",
    "SimulationResult",
    "Simulator",
    "WapeComparison",
    "paired_wape_bootstrap",
    "Comparison",
    "WATERFALL_COMPONENTS",
    "UNCERTAIN_INPUTS",
    "baseline_from_history",
    "baseline_uncertainty",
    "simulate",
    "compare",
    "TopUpModel",
    "BasketSimulation",
    "basket_values",
    "fit_topup",
    "simulate_baskets",
    "PromotionEvaluation",
    "evaluate_promotion",
    "STOCK_CHECK_COLUMNS",
    "stock_check",
]
