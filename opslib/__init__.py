"""opslib: an operations planning workbench for online shops."""

from opslib.errors import DataError
from opslib.data import Workspace, load_demo, load_workspace, validate

__version__ = "0.1.0"
__all__ = ["DataError", "Workspace", "load_workspace", "load_demo", "validate", "__version__"]
