"""Canonical data: tables, validation, loaders, importers and the demo shop."""

from opslib.data.schema import SCHEMAS, TABLE_NAMES, Column, TableSchema
from opslib.data.workspace import Workspace

__all__ = ["SCHEMAS", "TABLE_NAMES", "Column", "TableSchema", "Workspace"]
