"""The ``Workspace``: the bundle of canonical tables a shop is described by."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from opslib.data.schema import TABLE_NAMES

__all__ = ["Workspace"]


@dataclass
class Workspace:
    """The canonical tables of one shop, one attribute per table.

    A table that the shop does not have is ``None``. ``demand`` is derived from
    ``order_lines`` (see :func:`opslib.data.daily_demand`) and may be ``None``
    until derived. ``path`` is the folder the tables were read from, if any;
    ``load_report`` is what the loader did (rows read, rows skipped on purpose,
    columns renamed).
    """

    items: pd.DataFrame | None = None
    order_lines: pd.DataFrame | None = None
    demand: pd.DataFrame | None = None
    stock: pd.DataFrame | None = None
    purchase_orders: pd.DataFrame | None = None
    promotions: pd.DataFrame | None = None
    calendar: pd.DataFrame | None = None
    traffic: pd.DataFrame | None = None
    returns: pd.DataFrame | None = None
    stock_movements: pd.DataFrame | None = None
    stock_counts: pd.DataFrame | None = None
    path: Path | None = None
    name: str = "workspace"
    load_report: object | None = field(default=None, repr=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables present, by name, in canonical order."""
        return {n: getattr(self, n) for n in TABLE_NAMES if getattr(self, n) is not None}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TABLE_NAMES:
            raise KeyError(f"unknown table {name!r}; the tables are {', '.join(TABLE_NAMES)}")
        table = getattr(self, name)
        if table is None:
            raise KeyError(f"the workspace {self.name!r} has no {name!r} table")
        return table

    def __repr__(self) -> str:
        parts = [f"{n}={len(t):,} rows" for n, t in self.tables().items()]
        where = f", path={str(self.path)!r}" if self.path else ""
        return f"Workspace({self.name!r}{where}: " + ", ".join(parts) + ")"


assert [f.name for f in fields(Workspace)][: len(TABLE_NAMES)] == list(TABLE_NAMES)
