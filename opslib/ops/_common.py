"""Helpers shared by the operations reports: input checks, periods, item lookups.

Private: the public reports validate their input here once, at the edge, and
the inner code trusts it (STYLE.md, habit 6).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from opslib.data.schema import SCHEMAS
from opslib.data.workspace import Workspace
from opslib.errors import DataError

#: Label given to rows whose category or channel is unknown (SKU missing from
#: ``items``, blank ``items.category`` or ``order_lines.channel``): they are
#: kept under this label, never dropped.
UNASSIGNED = "unassigned"

#: Period frequencies the reports accept, as pandas period aliases.
FREQUENCIES = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC", "Y": "Y-DEC"}


def check_workspace(ws: object, purpose: str) -> Workspace:
    if not isinstance(ws, Workspace):
        raise TypeError(f"{purpose} takes an opslib.data.Workspace; got {type(ws).__name__}")
    return ws


def require(ws: Workspace, table: str, columns: Iterable[str], purpose: str) -> pd.DataFrame:
    """The table, or DataError naming the table, the missing columns and the fix."""
    frame = getattr(ws, table, None)
    columns = list(columns)
    if frame is None:
        need = ", ".join(columns)
        raise DataError(
            f"{purpose} needs the {table!r} table, and the workspace {ws.name!r} has none. "
            f"Fix: add a {table} table with the columns {need} "
            f"(see opslib.data.SCHEMAS[{table!r}]), e.g. Workspace({table}=frame, ...) or a "
            f"{table}.csv file in the data folder."
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        hints = []
        for c in missing:
            unit = SCHEMAS[table].column(c).unit if c in SCHEMAS.get(table, ()) else ""
            hints.append(f"{c} [{unit}]" if unit else c)
        raise DataError(
            f"{purpose} needs the column(s) {', '.join(missing)} of table {table!r}; the table has "
            f"{have}. Fix: add {', '.join(hints)} to {table} (or map your column names with the "
            "mapping argument of opslib.load_workspace)."
        )
    return frame


def check_choice(name: str, value, allowed: Iterable) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")


def to_day(values) -> pd.Series:
    """Calendar days (midnight, time zone dropped) of a date or timestamp column."""
    s = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.dt.normalize()


def to_period(days: pd.Series, freq: str) -> pd.arrays.PeriodArray:
    """Period of each day for one of :data:`FREQUENCIES` (an array: no boxing)."""
    return pd.Series(days).dt.to_period(FREQUENCIES[freq]).array


def number(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)


def unit_costs(items: pd.DataFrame) -> pd.Series:
    """``items.unit_cost`` by SKU (first row of a duplicated SKU)."""
    first = items.drop_duplicates("sku")
    return pd.Series(number(first["unit_cost"]), index=first["sku"].astype("str").array, name="unit_cost")


def sku_categories(items: pd.DataFrame | None) -> pd.Series:
    """``items.category`` by SKU; empty when unknown."""
    if items is None or "category" not in items.columns:
        return pd.Series(dtype=object, name="category")
    first = items.drop_duplicates("sku")
    cat = first["category"].astype(object).where(first["category"].notna(), UNASSIGNED)
    return pd.Series(cat.astype("str").array, index=first["sku"].astype("str").array, name="category")


def label(values: pd.Series) -> np.ndarray:
    """Text labels with missing values as :data:`UNASSIGNED`."""
    s = values.astype(object)
    return s.where(s.notna(), UNASSIGNED).astype("str").array
