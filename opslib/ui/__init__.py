"""ipywidgets components and plotly chart builders used by the apps.

Everything here is testable without a browser: build the widget, set a
control's ``.value`` and read the widgets and figures it updated.

The names below are imported on first use, so that an app page loads only the
modules it shows (a page's opening time counts every import).
"""

from __future__ import annotations

import importlib

_WHERE = {
    "DataHealthApp": "data_health",
    "data_health_app": "data_health",
    "open_workspace": "base",
    "when_opened": "base",
    "data_stamp": "base",
    "OperationsApp": "operations",
    "operations_app": "operations",
    "SkuTuner": "replenishment",
    "sku_tuner": "replenishment",
    "PortfolioView": "portfolio",
    "portfolio_view": "portfolio",
    "ReplenishmentApp": "replenishment_app",
    "replenishment_app": "replenishment_app",
    "PromotionSimulator": "promotion",
    "promotion_simulator": "promotion",
    "LandingPage": "landing",
    "landing_page": "landing",
    "snapshot_html": "snapshot",
    "save_snapshot": "snapshot",
    "FileButton": "download",
    "Translator": "i18n",
    "figure_output": "charts",
    "sales_figure": "charts",
    "show_figure": "charts",
    "stockout_figure": "charts",
    "findings_table": "tables",
    "frame_table": "tables",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'opslib.ui' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"opslib.ui.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
