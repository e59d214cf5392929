"""Demand forecasting: vectorized models over a SKU x time array, quantiles, metrics.

Functions are named after the method they implement; :func:`forecast` runs them
on the long ``demand`` table and returns ``sku, date, mean, p10, p50, p90, model``.
"""

from opslib.forecast.baselines import drift, historic_average, moving_average, naive, seasonal_naive
from opslib.forecast.combine import combine
from opslib.forecast.backtest import accuracy, backtest, select_models
from opslib.forecast.classify import DemandClasses, classify_demand
from opslib.forecast.core import FALLBACK_CHAIN, MODELS, forecast, quantile_column
from opslib.forecast.ets import ets
from opslib.forecast.features import event_windows, exogenous_design
from opslib.forecast.frequency import Frequency, infer_frequency
from opslib.forecast.hierarchy import Hierarchy, aggregate_demand, hierarchy, reconcile
from opslib.forecast.intermittent import adida, croston, croston_optimized, croston_sba, imapa, tsb
from opslib.forecast.lead_time import LeadTimeDemand, backtest_error_std, lead_time_demand
from opslib.forecast.metrics import bias, interval_coverage, mase, pinball_loss, rmsse, smape, wape
from opslib.forecast.panel import Panel, from_panel, to_panel
from opslib.forecast.regression import Regressors, arimax
from opslib.forecast.result import PointForecast
from opslib.forecast.seasonal import seasonal_factors, seasonal_indices, seasonality_test, seasonally_adjusted
from opslib.forecast.smoothing import holt, simple_exponential_smoothing, theta

__all__ = [
    "forecast", "MODELS", "FALLBACK_CHAIN", "ets", "quantile_column", "backtest", "accuracy", "select_models",
    "lead_time_demand", "LeadTimeDemand", "backtest_error_std",
    "naive", "drift", "seasonal_naive", "moving_average", "historic_average",
    "simple_exponential_smoothing", "holt", "theta", "combine",
    "seasonality_test", "seasonal_indices", "seasonal_factors", "seasonally_adjusted",
    "croston", "croston_sba", "croston_optimized", "tsb", "adida", "imapa",
    "mase", "rmsse", "smape", "wape", "bias", "pinball_loss", "interval_coverage",
    "classify_demand", "DemandClasses", "infer_frequency", "Frequency",
    "to_panel", "from_panel", "Panel", "PointForecast",
    "arimax", "Regressors", "exogenous_design", "event_windows",
    "hierarchy", "Hierarchy", "aggregate_demand", "reconcile",
]
