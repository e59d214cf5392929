"""ipywidgets components and plotly chart builders used by the apps.

Everything here is testable without a browser: build the widget, set a
control's ``.value`` and read the widgets and figures it updated.
"""

from opslib.ui.charts import figure_output, sales_figure, show_figure, stockout_figure
from opslib.ui.data_health import DataHealthApp, data_health_app, open_workspace
from opslib.ui.operations import OperationsApp, operations_app
from opslib.ui.tables import findings_table, frame_table

__all__ = [
    "DataHealthApp",
    "data_health_app",
    "figure_output",
    "findings_table",
    "frame_table",
    "open_workspace",
    "OperationsApp",
    "operations_app",
    "sales_figure",
    "stockout_figure",
    "show_figure",
]
