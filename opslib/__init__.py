"""opslib: an operations planning workbench for online shops."""

from opslib.errors import DataError

__version__ = "0.1.0"
__all__ = ["DataError", "__version__"]
