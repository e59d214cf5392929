"""Canonical data: tables, validation, loaders, importers and the demo shop."""

from opslib.data.io import default_workspace, load_demo, load_ground_truth, load_workspace, save_workspace
from opslib.data.schema import MOVEMENT_KINDS, PROMO_MECHANICS, SCHEMAS, TABLE_NAMES, Column, TableSchema
from opslib.data.validate import Finding, Skipped, ValidationReport, coerce, validate
from opslib.data.workspace import Workspace

__all__ = [
    "SCHEMAS",
    "TABLE_NAMES",
    "PROMO_MECHANICS",
    "MOVEMENT_KINDS",
    "Column",
    "TableSchema",
    "Workspace",
    "Finding",
    "Skipped",
    "ValidationReport",
    "validate",
    "coerce",
    "load_workspace",
    "save_workspace",
    "load_demo",
    "default_workspace",
    "load_ground_truth",
]

from opslib.data.demand import daily_demand
from opslib.data.phantom import suspected_stockouts
from opslib.data.importers import from_m5, from_shopify, from_statsforecast, to_statsforecast

__all__ += [
    "daily_demand",
    "suspected_stockouts",
    "from_m5",
    "from_shopify",
    "to_statsforecast",
    "from_statsforecast",
    "demo_shop",
    "write_demo_shop",
]

_LAZY = {"demo_shop": "opslib.data.demo", "write_demo_shop": "opslib.data.demo", "DemoShop": "opslib.data.demo"}


def __getattr__(name: str):
    # The demo generator imports scipy.stats (over a second): load it only when asked for.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'opslib.data' has no attribute {name!r}")
