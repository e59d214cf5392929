"""Helpers shared by the operations reports: input checks, periods, item lookups.

Private: the public reports validate their input here once, at the edge, and
the inner code trusts it (STYLE.md, habit 6).
"""

from __future__ import annotations

import weakref
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def day_span(values, start=None, end=None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last calendar day of a date or timestamp column (as :func:`to_day`).

    Only the days in ``[start, end)`` when given (midnights). ``NaT`` when
    there is none. The extremes are taken before the days are computed: a
    column of millions of timestamps is not normalized row by row.
    """
    s = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    if start is not None:
        s = s[((s >= start) & (s < end)).to_numpy()]
    first, last = s.min(), s.max()
    return (pd.NaT if pd.isna(first) else first.normalize()), (pd.NaT if pd.isna(last) else last.normalize())


def to_period(days: pd.Series, freq: str) -> pd.arrays.PeriodArray:
    """Period of each day for one of :data:`FREQUENCIES` (an array: no boxing)."""
    return pd.Series(days).dt.to_period(FREQUENCIES[freq]).array


def month_periods(months) -> pd.PeriodIndex:
    """Monthly periods of one month (``"2024-01"`` or a Period) or of several."""
    wanted = [months] if isinstance(months, (str, pd.Period)) else list(months)
    try:
        return pd.PeriodIndex([pd.Period(m, freq="M") for m in wanted])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"months must be months like '2024-01'; got {months!r}") from exc


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


def label(values) -> pd.api.extensions.ExtensionArray:
    """Text labels with missing values as :data:`UNASSIGNED`.

    Labels the distinct values once and takes them back by code: a few
    hundred categories over a million order lines cost one factorization.
    """
    codes, labels = label_codes(values)
    return labels.take(codes)


def label_codes(values) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """The labels of :func:`label` as integer codes into the sorted distinct labels.

    ``labels.take(codes)`` is ``label(values)``; grouping by the codes sorts
    as grouping by the labels would, without hashing text per row.
    """
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    texts = pd.Series(uniques).astype(object)
    texts = texts.where(texts.notna(), UNASSIGNED).astype("str").tolist()
    text_codes, labels = pd.factorize(pd.array(texts + [UNASSIGNED], dtype="str"), sort=True)
    return text_codes[np.where(codes < 0, len(texts), codes)], labels


def lookup_labels(keys, mapping: pd.Series) -> pd.api.extensions.ExtensionArray:
    """``mapping[key]`` for every key as text, :data:`UNASSIGNED` where unknown or missing."""
    codes, uniques = pd.factorize(pd.Series(keys), use_na_sentinel=True)
    mapped = pd.Series(uniques).map(mapping).astype(object)
    texts = mapped.where(mapped.notna(), UNASSIGNED).astype("str").tolist()
    return _take(pd.array(texts + [UNASSIGNED], dtype="str"), codes)


def lookup_numbers(keys, mapping: pd.Series) -> np.ndarray:
    """``mapping[key]`` for every key as floats, NaN where unknown or missing."""
    codes, uniques = pd.factorize(pd.Series(keys), use_na_sentinel=True)
    mapped = pd.Series(uniques).map(mapping).to_numpy(dtype=float)
    return np.append(mapped, np.nan)[np.where(codes < 0, len(mapped), codes)]


def positions(values, uniques) -> np.ndarray:
    """Position of every text in ``values`` among the distinct texts ``uniques``; -1 where absent.

    One Arrow hash lookup (``pyarrow.compute.index_in``): much cheaper than
    building a pandas Index over millions of texts. Missing values are never
    found.
    """
    values, uniques = _arrow_text(values), _arrow_text(uniques)
    if len(uniques) <= len(values):
        found = pc.index_in(values, value_set=uniques, skip_nulls=True)
        return pc.fill_null(found, -1).to_numpy().astype(np.int64, copy=False)
    # few values among many uniques (returns among orders): hash the distinct values and
    # look the uniques up in them, then invert (each unique matches at most one value)
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    found = pc.index_in(uniques, value_set=encoded.dictionary, skip_nulls=True)
    hit = np.flatnonzero(found.is_valid().to_numpy(zero_copy_only=False))
    position = np.full(len(encoded.dictionary) + 1, -1, dtype=np.int64)  # last: a missing value
    position[found.drop_null().to_numpy().astype(np.int64)] = hit
    indices = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy().astype(np.int64)
    return position[indices]


def _arrow_text(values) -> pa.Array:
    arr = pa.array(values, from_pandas=True) if not isinstance(values, pa.Array) else values
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def _take(values, codes: np.ndarray):
    return values.take(np.where(codes < 0, len(values) - 1, codes))

# --------------------------------------------------------------------------- memo

# Per-kind memo of the intermediate frames the reports share (the per-line
# sales frame, the stock movement panel...), keyed by the identity of the
# source tables, as opslib.data.health does for the daily sales: a monthly
# report asks for the same workspace many times (kpis overall, by category,
# by channel, the movement report and its reconciliation). Replacing a table
# on the workspace (a new frame object) invalidates the entry; mutating a
# frame in place does not. Cached values are shared: callers must not mutate
# them (pandas copy-on-write makes derived frames safe to change).
_memo: dict[tuple, tuple] = {}
_MEMO_SIZE = 24


def memoized(kind: object, sources: tuple, compute):
    """``compute()``, reused while every frame in ``sources`` is the same object.

    Entries are kept per kind and source objects (a few workspaces at once:
    the app and a variant of it); entries whose source frames were garbage
    collected are dropped, and at most ``_MEMO_SIZE`` entries are kept.
    """
    key = (kind, tuple(id(s) for s in sources))
    entry = _memo.get(key)
    if entry is not None:
        refs, value = entry
        if all((ref is None) == (src is None) and (ref is None or ref() is src) for ref, src in zip(refs, sources)):
            _memo[key] = _memo.pop(key)  # most recently used last
            return value
    value = compute()
    for stale in [k for k, (refs, _) in _memo.items() if any(r is not None and r() is None for r in refs)]:
        del _memo[stale]
    while len(_memo) >= _MEMO_SIZE:
        _memo.pop(next(iter(_memo)))
    _memo[key] = (tuple(None if s is None else weakref.ref(s) for s in sources), value)
    return value


def clear_memo() -> None:
    """Forget every memoized intermediate frame (after mutating a table in place)."""
    _memo.clear()
