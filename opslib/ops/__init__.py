"""Operations reports: KPIs, monthly stock movement, stocktake variance, supplier scorecard.

Pure functions over a :class:`~opslib.data.Workspace` that return tidy
DataFrames: no widgets, no files, no printing. One module per report:

- :mod:`opslib.ops.kpis`: :func:`kpis` (GMV, orders, units, average order
  value, conversion, returns, margin, stock-outs, turnover, days of cover per
  period, overall or by category or channel) and :func:`repurchase_rate`;
- :mod:`opslib.ops.stock_movement`: :func:`monthly_stock_movement` (入/出/存),
  :func:`stock_movement_summary` and :func:`reconcile` (账实相符);
- :mod:`opslib.ops.stocktake`: :func:`stocktake_variance` and
  :func:`stocktake_summary` (盘点);
- :mod:`opslib.ops.suppliers`: :func:`supplier_scorecard` and
  :func:`lead_time_samples`;
- :mod:`opslib.ops.exceptions`: :func:`stock_exceptions` (dead, slow and
  excess stock with value, weeks of cover and a proposed action);
- :mod:`opslib.ops.accuracy`: :func:`forecast_accuracy` (realized WAPE, bias,
  MASE/RMSSE and interval coverage of past plans by demand class or horizon);
- :mod:`opslib.ops.report`: :func:`monthly_report` (every report of one
  month, with the KPI tiles against the month before, the repurchase rate
  among them) and
  :mod:`opslib.ops.export`: :func:`write_excel` and :func:`write_html`.

Missing tables or columns raise :class:`opslib.DataError` naming the table,
the column and the fix.
"""

from opslib.ops.exceptions import ACTIONS, stock_exceptions
from opslib.ops.export import column_kind, format_value, highlight_rows, write_excel, write_html
from opslib.ops.kpis import ADDITIVE_MEASURES, KPI_COLUMNS, kpis, repurchase_rate
from opslib.ops.stock_movement import MOVEMENT_COLUMNS, monthly_stock_movement, reconcile, stock_movement_summary
from opslib.ops.stocktake import stocktake_summary, stocktake_variance
from opslib.ops.report import (
    REPURCHASE_WINDOW_DAYS,
    TILE_MEASURES,
    MonthlyReport,
    available_months,
    kpi_tiles,
    last_full_month,
    monthly_report,
    parse_month,
)
from opslib.ops.suppliers import lead_time_samples, supplier_scorecard

__all__ = [
    "ADDITIVE_MEASURES",
    "KPI_COLUMNS",
    "MOVEMENT_COLUMNS",
    "kpis",
    "repurchase_rate",
    "monthly_stock_movement",
    "stock_movement_summary",
    "reconcile",
    "stocktake_variance",
    "stocktake_summary",
    "supplier_scorecard",
    "lead_time_samples",
    "ACTIONS",
    "stock_exceptions",
    "ACCURACY_COLUMNS",
    "HORIZON_BUCKETS",
    "forecast_accuracy",
    "REPURCHASE_WINDOW_DAYS",
    "TILE_MEASURES",
    "MonthlyReport",
    "monthly_report",
    "kpi_tiles",
    "available_months",
    "last_full_month",
    "parse_month",
    "write_excel",
    "write_html",
    "column_kind",
    "format_value",
    "highlight_rows",
]

_LAZY = {"forecast_accuracy", "ACCURACY_COLUMNS", "HORIZON_BUCKETS"}


def __getattr__(name: str):
    # accuracy tracking imports the forecast engine (scipy.stats, over a second): load it only
    # when asked for, so that the apps open without it
    if name in _LAZY:
        from opslib.ops import accuracy

        return getattr(accuracy, name)
    raise AttributeError(f"module 'opslib.ops' has no attribute {name!r}")
