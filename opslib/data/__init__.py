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

# Modules written in parallel: exported once they exist.
try:
    from opslib.data.demand import daily_demand  # noqa: F401
except ImportError:  # pragma: no cover - until opslib.data.demand lands
    pass
else:
    __all__ += ["daily_demand"]

try:
    from opslib.data.demo import demo_shop, write_demo_shop  # noqa: F401
except ImportError:  # pragma: no cover - until opslib.data.demo lands
    pass
else:
    __all__ += ["demo_shop", "write_demo_shop"]

try:
    from opslib.data.importers import (  # noqa: F401
        from_m5,
        from_shopify,
        from_statsforecast,
        to_statsforecast,
    )
except ImportError:  # pragma: no cover - until opslib.data.importers lands
    pass
else:
    __all__ += ["from_m5", "from_shopify", "to_statsforecast", "from_statsforecast"]
