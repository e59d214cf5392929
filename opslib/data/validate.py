"""Validation and dtype coercion of the canonical tables.

Every table of a :class:`~opslib.data.Workspace` is checked against
:data:`opslib.data.schema.SCHEMAS` and against the rules that tie the tables
together (every ``sku`` is known to ``items``, returns refer to order lines,
...). Each broken rule becomes one :class:`Finding` that names the table, the
column, the rule, up to five offending rows and how to fix it; the findings are
collected in a :class:`ValidationReport`. Nothing is raised while checking:
:meth:`ValidationReport.raise_for_errors` refuses the data at the public edge.

Canonical dtypes after :func:`coerce`
-------------------------------------
* ``str`` columns (``sku``, ids, names): pandas' string dtype ``"str"``
  (the pandas 3 default string dtype, missing values are ``NaN``).
* ``date`` columns: ``datetime64[ns]`` at midnight, time zone dropped.
* ``datetime`` columns (``order_ts``): ``datetime64[ns]``, time zone dropped
  (local wall-clock time is kept).
* ``float`` columns: ``float64``.
* ``int`` columns: ``int64``; ``Int64`` (nullable) when values are missing.
* ``bool`` columns: ``bool``; ``boolean`` (nullable) when values are missing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from opslib.data.schema import MOVEMENT_KINDS, PROMO_MECHANICS, SCHEMAS, Column, TableSchema
from opslib.errors import DataError

__all__ = ["Finding", "Skipped", "ValidationReport", "validate", "coerce"]

SEVERITIES = ("error", "warning", "info")
MAX_EXAMPLES = 5
OVER_DELIVERY_FACTOR = 1.5
"""``qty_received + qty_rejected`` above this multiple of ``qty_ordered`` is suspicious."""

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


# --------------------------------------------------------------------------- #
# Findings and the report
# --------------------------------------------------------------------------- #


def _format_value(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        if value == value.normalize():
            return value.strftime("%Y-%m-%d")
        return str(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "<missing>"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return repr(value) if isinstance(value, str) else str(value)


def _format_example(example: dict) -> str:
    parts = [f"{k}={_format_value(v)}" for k, v in example.items() if k not in ("row", "line")]
    head = f"line {example['line']}" if "line" in example else f"row {example['row']}" if "row" in example else "row"
    return f"{head} ({', '.join(parts)})" if parts else head


@dataclass(frozen=True)
class Finding:
    """One broken rule in one column of one table.

    Parameters
    ----------
    table : str
        Canonical table name, e.g. ``"items"``.
    column : str or None
        The column the rule is about (``None`` for table-level rules, or a
        comma-separated list of columns for rules over several columns).
    rule : str
        Short identifier of the rule, e.g. ``"nonnegative"``, ``"unknown_sku"``.
    severity : {"error", "warning", "info"}
        ``error`` makes the data unusable, ``warning`` is suspicious but
        usable, ``info`` is worth knowing.
    n_rows : int
        Number of offending rows (0 for rules that are not about rows).
    examples : tuple of dict
        Up to five offending rows; each dict holds the row label under
        ``"row"`` and the values that matter.
    fix : str
        How to fix it, in words.
    detail : str
        What was found, with the rule and the values received.
    """

    table: str
    column: str | None
    rule: str
    severity: str
    n_rows: int
    examples: tuple[dict, ...] = ()
    fix: str = ""
    detail: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"severity must be one of {', '.join(SEVERITIES)}; got {self.severity!r}."
            )

    def examples_text(self) -> str:
        """The offending rows as one line of text."""
        return "; ".join(_format_example(e) for e in self.examples)

    def message(self) -> str:
        """One paragraph naming table, column, rule, offending rows and the fix."""
        where = f"table {self.table!r}"
        if self.column:
            where += f", column {self.column!r}"
        text = f"[{self.severity}] {where}, rule {self.rule!r}: {self.detail}".rstrip()
        if self.n_rows:
            noun = "row" if self.n_rows == 1 else "rows"
            text += f" ({self.n_rows:,} {noun})"
        if not text.endswith("."):
            text += "."
        if self.examples:
            shown = "first offending rows" if self.n_rows > len(self.examples) else "offending rows"
            text += f" The {shown}: {self.examples_text()}."
        if self.fix:
            text += f" Fix: {self.fix}"
            if not text.endswith("."):
                text += "."
        return text

    def __str__(self) -> str:
        return self.message()


@dataclass(frozen=True)
class Skipped:
    """Rows left out on purpose (counted so that nothing is dropped silently)."""

    table: str
    rule: str
    n_rows: int
    reason: str


@dataclass
class ValidationReport:
    """The outcome of :func:`validate` (and of the loader).

    Attributes
    ----------
    findings : list of Finding
        Every broken rule, errors first.
    rows : dict of str to int
        Rows per table checked.
    skipped : list of Skipped
        Rows left out on purpose by the loader (e.g. blank lines), with the
        reason.
    renamed : dict of str to dict
        Columns renamed by the loader, per table, ``{foreign: canonical}``.
    files : dict of str to str
        The file each table was read from.
    unknown_files : list of str
        Files in the folder that are not a canonical table (not an error).
    """

    findings: list[Finding] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    unknown_files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """The findings that make the data unusable."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that are suspicious but usable."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def infos(self) -> list[Finding]:
        """The findings worth knowing."""
        return [f for f in self.findings if f.severity == "info"]

    @property
    def ok(self) -> bool:
        """Whether there is no error finding."""
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        """The findings as a table, one row per finding.

        Returns
        -------
        pandas.DataFrame
            Columns ``table, column, rule, severity, n_rows, examples, fix``
            (``examples`` rendered as text).
        """
        columns = ["table", "column", "rule", "severity", "n_rows", "examples", "fix"]
        records = [
            {
                "table": f.table,
                "column": f.column,
                "rule": f.rule,
                "severity": f.severity,
                "n_rows": f.n_rows,
                "examples": f.examples_text(),
                "fix": f.fix,
            }
            for f in self.findings
        ]
        frame = pd.DataFrame.from_records(records, columns=columns)
        return frame.astype({"n_rows": "int64"})

    def raise_for_errors(self) -> None:
        """Raise :class:`opslib.DataError` if there is any error finding.

        Raises
        ------
        DataError
            With a message listing every error finding and the findings in
            ``DataError.findings``.
        """
        errors = self.errors
        if not errors:
            return
        noun = "error" if len(errors) == 1 else "errors"
        lines = [f"The data breaks {len(errors)} validation rule{'s' if len(errors) > 1 else ''} ({noun} below)."]
        lines += [f"{i}. {f.message()}" for i, f in enumerate(errors, 1)]
        raise DataError("\n".join(lines), findings=errors)

    def extend(self, findings: Iterable[Finding]) -> None:
        """Add findings, keeping errors first."""
        self.findings.extend(findings)
        order = {s: i for i, s in enumerate(SEVERITIES)}
        self.findings.sort(key=lambda f: order[f.severity])

    def __str__(self) -> str:
        tables = ", ".join(f"{t}: {n:,} rows" for t, n in self.rows.items()) or "no tables"
        head = (
            f"ValidationReport ({'ok' if self.ok else 'NOT ok'}): {len(self.errors)} errors, "
            f"{len(self.warnings)} warnings, {len(self.infos)} infos; {tables}."
        )
        lines = [head]
        lines += [f"- {f.message()}" for f in self.findings]
        for s in self.skipped:
            lines.append(f"- skipped {s.n_rows:,} rows of {s.table!r} ({s.rule}): {s.reason}")
        for table, ren in self.renamed.items():
            pairs = ", ".join(f"{a!r} -> {b!r}" for a, b in ren.items())
            lines.append(f"- renamed in {table!r}: {pairs}")
        if self.unknown_files:
            lines.append(f"- files ignored (not a canonical table): {', '.join(self.unknown_files)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return "<pre>" + str(self).replace("&", "&amp;").replace("<", "&lt;") + "</pre>"


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _examples(frame: pd.DataFrame, mask: pd.Series | np.ndarray, columns: Iterable[str]) -> tuple[dict, ...]:
    """Up to five offending rows of ``frame`` as dicts with the given columns."""
    cols = [c for c in dict.fromkeys(columns) if c in frame.columns]
    sub = frame.loc[np.asarray(mask, dtype=bool), cols].head(MAX_EXAMPLES)
    out = []
    for label, values in zip(sub.index, sub.itertuples(index=False, name=None)):
        # "line": the line of the file the row was read from (see opslib.data.io)
        record: dict[str, Any] = {"line" if frame.index.name == "line" else "row": label}
        for c, v in zip(cols, values):
            record[c] = v.item() if isinstance(v, np.generic) else v
        out.append(record)
    return tuple(out)


def _show_columns(schema: TableSchema, frame: pd.DataFrame, *columns: str) -> list[str]:
    """Key columns (plus ``sku``) then the columns the rule is about."""
    base = [c for c in schema.key if c in frame.columns]
    if "sku" in frame.columns and "sku" not in base:
        base.append("sku")
    return base + [c for c in columns if c not in base]


def _finding(
    table: str,
    column: str | None,
    rule: str,
    severity: str,
    frame: pd.DataFrame | None = None,
    mask: pd.Series | np.ndarray | None = None,
    show: Iterable[str] = (),
    detail: str = "",
    fix: str = "",
) -> Finding:
    n_rows, examples = 0, ()
    if frame is not None and mask is not None:
        mask = np.asarray(mask, dtype=bool)
        n_rows = int(mask.sum())
        examples = _examples(frame, mask, show)
    return Finding(table, column, rule, severity, n_rows, examples, fix, detail)


def _close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    candidates = [str(c) for c in candidates]
    lowered = {c.lower().strip(): c for c in candidates}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def _isin(series: pd.Series, values: Any) -> np.ndarray:
    """``series.isin(values)`` as a bool array, fast for large text columns."""
    unique = pd.unique(pd.Series(values).dropna().to_numpy(dtype=object))
    return series.isin(list(unique)).to_numpy(dtype=bool)


def _is_missing_raw(series: pd.Series) -> np.ndarray:
    """Missing values, counting empty or blank strings as missing."""
    missing = series.isna().to_numpy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        blank = series.astype("str").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        missing = missing | blank
    return missing


# --------------------------------------------------------------------------- #
# Coercion
# --------------------------------------------------------------------------- #


def _to_str(series: pd.Series) -> pd.Series:
    if series.dtype == "str":
        return series
    if pd.api.types.is_float_dtype(series.dtype):
        # 123.0 read from a numeric column is the identifier "123".
        values = series.to_numpy()
        whole = np.isfinite(values) & (np.floor(values) == values)
        out = series.astype(object)
        out[whole] = values[whole].astype(np.int64).astype(str)
        out[~whole & ~np.isnan(values)] = series[~whole & ~np.isnan(values)].astype(str)
        return out.astype("str")
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("str").where(series.notna())
    if series.dtype == object:
        # Mixed cells (e.g. from Excel): whole floats are integer identifiers.
        series = series.map(
            lambda v: str(int(v)) if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer() else v
        )
    return series.astype("str")


def _to_number(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64")
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        return values, np.zeros(len(series), dtype=bool)
    text = series.astype("str").str.strip()
    values = pd.to_numeric(text, errors="coerce")
    values = values.astype("float64") if len(values) else values.astype("float64")
    failed = values.isna().to_numpy() & ~_is_missing_raw(series)
    return values, failed


def _to_datetime(series: pd.Series, *, date_only: bool) -> tuple[pd.Series, np.ndarray]:
    raw_missing = _is_missing_raw(series)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        values = series.dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(series.dtype):
        values = series
    else:
        text = series
        if pd.api.types.is_numeric_dtype(series.dtype):
            # 20240131 -> "20240131": never read numbers as epoch nanoseconds.
            text = _to_str(series)
        text = text.astype("str").str.strip()
        values = pd.to_datetime(text, errors="coerce")
        retry = values.isna().to_numpy() & ~raw_missing
        if retry.any():
            # Formats that differ from the first value's format.
            again = pd.to_datetime(text[retry], errors="coerce", format="mixed")
            if isinstance(again.dtype, pd.DatetimeTZDtype):
                again = again.dt.tz_localize(None)
            values = values.astype("datetime64[ns]")
            values[retry] = again.astype("datetime64[ns]")
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            values = values.dt.tz_localize(None)
    values = values.astype("datetime64[ns]")
    if date_only:
        values = values.dt.normalize()
    failed = values.isna().to_numpy() & ~raw_missing
    return values, failed


def _to_bool(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series, np.zeros(len(series), dtype=bool)
    raw_missing = _is_missing_raw(series)
    text = _to_str(series).str.strip().str.lower()
    is_true = text.isin(_TRUE).to_numpy()
    is_false = text.isin(_FALSE).to_numpy()
    failed = ~(is_true | is_false) & ~raw_missing
    if (is_true | is_false).all():
        return pd.Series(is_true, index=series.index, name=series.name), failed
    out = pd.Series(pd.array([pd.NA] * len(series), dtype="boolean"), index=series.index, name=series.name)
    out[is_true] = True
    out[is_false] = False
    return out, failed


_DTYPE_WORDS = {
    "str": "text",
    "int": "whole numbers",
    "float": "numbers",
    "bool": "booleans (True/False, 1/0, yes/no)",
    "date": "dates (e.g. 2024-01-31)",
    "datetime": "timestamps (e.g. 2024-01-31 14:05:00)",
}


def _coerce_column(series: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray]:
    """Convert one column to its canonical dtype; return it and the failed mask."""
    dtype = column.dtype
    if dtype == "str":
        return _to_str(series), np.zeros(len(series), dtype=bool)
    if dtype in ("float", "int"):
        values, failed = _to_number(series)
        if dtype == "int":
            arr = values.to_numpy()
            fractional = np.isfinite(arr) & (np.floor(arr) != arr)
            failed = failed | fractional | np.isinf(arr)
            values = values.where(~(fractional | np.isinf(arr)))
            if values.notna().all():
                values = values.astype("int64")
            else:
                values = values.astype("Int64")
        return values, failed
    if dtype in ("date", "datetime"):
        return _to_datetime(series, date_only=dtype == "date")
    if dtype == "bool":
        return _to_bool(series)
    raise ValueError(f"unknown logical dtype {dtype!r} for column {column.name!r}")


def _coerce(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """Coerce a table and return the dtype findings instead of raising."""
    schema = SCHEMAS[table]
    out = frame.copy()
    findings = []
    for column in schema.columns:
        if column.name not in out.columns:
            continue
        raw = out[column.name]
        if isinstance(raw, pd.DataFrame):  # duplicated column name: reported by validate
            continue
        values, failed = _coerce_column(raw, column)
        out[column.name] = values
        if failed.any():
            show = _show_columns(schema, frame, column.name)
            findings.append(
                _finding(
                    table, column.name, "dtype", "error", frame, failed, show,
                    detail=f"the column must hold {_DTYPE_WORDS[column.dtype]}, but some values do not parse",
                    fix=f"correct or blank out the offending values of {column.name!r} "
                    f"(shown as read from the file); "
                    + ("use the ISO form YYYY-MM-DD." if column.dtype in ("date", "datetime")
                       else "remove units, currency signs and thousands separators."
                       if column.dtype in ("int", "float")
                       else "write True or False (1/0 and yes/no are read too)."
                       if column.dtype == "bool" else "write the value as text."),
                )
            )
    return out, findings


def coerce(table_name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Convert the columns of a canonical table to their canonical dtypes.

    Extra columns are kept unchanged. See the module docstring for the
    canonical dtypes.

    Parameters
    ----------
    table_name : str
        One of :data:`opslib.data.schema.TABLE_NAMES`.
    frame : pandas.DataFrame
        The table as read, with canonical column names.

    Returns
    -------
    pandas.DataFrame
        A copy with canonical dtypes.

    Raises
    ------
    DataError
        If ``table_name`` is unknown, or if any value does not parse (the
        message lists the offending rows: values are never turned into
        missing values silently).
    """
    if table_name not in SCHEMAS:
        matches = _close_matches(table_name, SCHEMAS)
        hint = f" Did you mean {matches[0]!r}?" if matches else ""
        raise DataError(
            f"table_name must be one of {', '.join(SCHEMAS)}; got {table_name!r}.{hint}"
        )
    out, findings = _coerce(table_name, frame)
    if findings:
        ValidationReport(findings=findings).raise_for_errors()
    return out


# --------------------------------------------------------------------------- #
# Rules, one table at a time
# --------------------------------------------------------------------------- #


def _check_columns(table: str, frame: pd.DataFrame) -> list[Finding]:
    schema = SCHEMAS[table]
    findings = []
    seen = [str(c) for c in frame.columns]
    missing = [c for c in schema.required if c not in frame.columns]
    if missing:
        hints = []
        for c in missing:
            matches = [m for m in _close_matches(c, seen) if m not in schema]
            if matches:
                hints.append(f"{matches[0]!r} -> {c!r}")
        fix = "add the missing columns or rename the file's columns with load_workspace(..., mapping={...})"
        if hints:
            fix += f"; close matches in the file: {', '.join(hints)}"
            mapping = ", ".join(f"{h.split(' -> ')[0]}: {h.split(' -> ')[1]}" for h in hints)
            fix += f" (mapping={{{table!r}: {{{mapping}}}}})"
        findings.append(
            Finding(
                table, ", ".join(missing), "required_columns", "error", 0, (), fix + ".",
                detail=(
                    f"the table needs the columns {', '.join(schema.required)}; "
                    f"missing: {', '.join(missing)}; seen: {', '.join(seen) or '(none)'}"
                ),
            )
        )
    duplicated = sorted({c for c in seen if seen.count(c) > 1})
    if duplicated:
        findings.append(
            Finding(
                table, ", ".join(duplicated), "duplicate_columns", "error", 0, (),
                "give every column a distinct name (check the mapping: two columns may map to one name).",
                detail=f"column names must be unique; repeated: {', '.join(duplicated)}",
            )
        )
    return findings


def _check_values(table: str, frame: pd.DataFrame, failed_cols: set[str], raw: pd.DataFrame) -> list[Finding]:
    """Missing values and signs, column by column."""
    schema = SCHEMAS[table]
    findings = []
    for column in schema.columns:
        name = column.name
        if name not in frame.columns or isinstance(frame[name], pd.DataFrame):
            continue
        series = frame[name]
        if not column.nullable:
            # Values that failed to parse are reported once, under "dtype".
            missing = _is_missing_raw(raw[name]) if name in raw.columns else series.isna().to_numpy()
            if missing.any():
                findings.append(
                    _finding(
                        table, name, "missing", "error", frame, missing,
                        _show_columns(schema, frame, name),
                        detail=f"{name!r} may not be missing, but some rows have no value",
                        fix=f"fill in {name!r} on these rows or remove the rows from the file.",
                    )
                )
        if column.nonnegative and pd.api.types.is_numeric_dtype(series.dtype):
            negative = (series < 0).fillna(False).to_numpy(dtype=bool)
            if negative.any():
                findings.append(
                    _finding(
                        table, name, "nonnegative", "error", frame, negative,
                        _show_columns(schema, frame, name),
                        detail=f"{name!r} must be >= 0, but some values are negative",
                        fix=(
                            f"correct the sign of {name!r}"
                            + (
                                "; record stock corrections as stock_movements of kind "
                                "'adjustment' and customer returns in the returns table."
                                if "qty" in name or name in ("on_hand", "units")
                                else "."
                            )
                        ),
                    )
                )
    return findings


def _key_of(table: str, frame: pd.DataFrame) -> tuple[str, ...]:
    key = SCHEMAS[table].key
    if table == "traffic" and "sku" in frame.columns:
        key = ("date", "sku")
    if table == "stock" and "location" in frame.columns:
        key = ("sku", "date", "location")  # one snapshot per location
    return key


def _check_unique(table: str, frame: pd.DataFrame) -> list[Finding]:
    key = _key_of(table, frame)
    if not key or any(k not in frame.columns for k in key):
        return []
    dup = frame.duplicated(subset=list(key), keep=False).to_numpy()
    if not dup.any():
        return []
    n_keys = int(frame.loc[dup, list(key)].drop_duplicates().shape[0])
    sort = frame.loc[dup].sort_values(list(key)).index
    f = _finding(
        table, ", ".join(key), "unique_key", "error", frame, dup,
        _show_columns(SCHEMAS[table], frame, *key),
        detail=f"({', '.join(key)}) must identify one row, but {n_keys:,} key values appear more than once",
        fix=(
            "remove the duplicate rows, or aggregate them into one row per "
            f"({', '.join(key)}) (e.g. sum the quantities) before loading."
        ),
    )
    # Show duplicates next to each other.
    examples = _examples(frame.loc[sort], np.ones(len(sort), dtype=bool), _show_columns(SCHEMAS[table], frame, *key))
    return [Finding(f.table, f.column, f.rule, f.severity, f.n_rows, examples, f.fix, f.detail)]


def _check_sku_known(table: str, frame: pd.DataFrame, known: pd.Index | None) -> list[Finding]:
    if table == "items" or "sku" not in frame.columns or known is None:
        return []
    sku = frame["sku"]
    unknown = ~_isin(sku, known) & sku.notna().to_numpy()
    if not unknown.any():
        return []
    values = sku[unknown].unique()
    listed = ", ".join(repr(v) for v in values[:MAX_EXAMPLES]) + (", ..." if len(values) > MAX_EXAMPLES else "")
    return [
        _finding(
            table, "sku", "unknown_sku", "error", frame, unknown,
            _show_columns(SCHEMAS[table], frame, "sku"),
            detail=f"every sku must be listed in 'items', but {len(values):,} are not ({listed})",
            fix="add these SKUs to the items table, or correct the sku codes (check leading zeros and spaces).",
        )
    ]


def _check_items(frame: pd.DataFrame, order_lines: pd.DataFrame | None) -> list[Finding]:
    schema = SCHEMAS["items"]
    findings = []
    if {"unit_cost", "price"} <= set(frame.columns):
        loss = (frame["unit_cost"] > frame["price"]).fillna(False).to_numpy(dtype=bool)
        if loss.any():
            findings.append(
                _finding(
                    "items", "unit_cost, price", "cost_above_price", "warning", frame, loss,
                    _show_columns(schema, frame, "unit_cost", "price"),
                    detail="unit_cost is above price: these SKUs sell at a loss",
                    fix="check that unit_cost and price are per unit and in the same currency; "
                    "nothing to do if the loss is intended.",
                )
            )
    if order_lines is not None and "sku" in frame.columns and "sku" in order_lines.columns:
        never = ~_isin(frame["sku"], order_lines["sku"])
        if never.any():
            findings.append(
                _finding(
                    "items", "sku", "never_sold", "info", frame, never,
                    _show_columns(schema, frame, "sku"),
                    detail="these SKUs have no order line in order_lines (new, dead or mis-coded items)",
                    fix="nothing to do for new items; review dead stock in the exception report.",
                )
            )
    return findings


def _check_order_lines(frame: pd.DataFrame) -> list[Finding]:
    schema = SCHEMAS["order_lines"]
    if not {"paid_amount", "list_price", "qty"} <= set(frame.columns):
        return []
    gross = frame["list_price"].astype("float64") * frame["qty"].astype("float64")
    above = (frame["paid_amount"] > gross * (1 + 1e-9) + 0.005).fillna(False).to_numpy(dtype=bool)
    if not above.any():
        return []
    return [
        _finding(
            "order_lines", "paid_amount", "paid_above_list", "warning", frame, above,
            _show_columns(schema, frame, "qty", "list_price", "paid_amount"),
            detail="paid_amount is above list_price * qty (a discount cannot raise the price)",
            fix="check that paid_amount is the line total (not per unit) and that list_price is per unit; "
            "shipping fees belong outside order lines.",
        )
    ]


_SCOPE = re.compile(r"^\s*(all|category:(?P<cat>.+)|sku:(?P<skus>.+))\s*$", re.IGNORECASE)


def _check_promotions(frame: pd.DataFrame, items: pd.DataFrame | None) -> list[Finding]:
    schema = SCHEMAS["promotions"]
    findings = []
    cols = set(frame.columns)
    if {"start", "end"} <= cols:
        bad = (frame["end"] < frame["start"]).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            findings.append(
                _finding(
                    "promotions", "start, end", "start_after_end", "error", frame, bad,
                    _show_columns(schema, frame, "start", "end"),
                    detail="start must be on or before end (end is the last day, inclusive)",
                    fix="swap start and end, or correct the dates.",
                )
            )
    if "mechanic" in cols:
        mech = frame["mechanic"]
        bad = (~mech.isin(PROMO_MECHANICS) & mech.notna()).to_numpy()
        if bad.any():
            values = list(dict.fromkeys(mech[bad]))
            hints = []
            for v in values[:MAX_EXAMPLES]:
                m = _close_matches(str(v), PROMO_MECHANICS, n=1)
                if m:
                    hints.append(f"{v!r} -> {m[0]!r}")
            fix = f"use one of {', '.join(PROMO_MECHANICS)}"
            if hints:
                fix += f"; close matches: {', '.join(hints)}"
            findings.append(
                _finding(
                    "promotions", "mechanic", "mechanic", "error", frame, bad,
                    _show_columns(schema, frame, "mechanic"),
                    detail=f"mechanic must be one of PROMO_MECHANICS; got {', '.join(map(repr, values[:MAX_EXAMPLES]))}",
                    fix=fix + ".",
                )
            )
    if "scope" in cols:
        scope = frame["scope"]
        parsed = scope.str.extract(_SCOPE)
        malformed = (parsed[0].isna() & scope.notna()).to_numpy()
        if malformed.any():
            findings.append(
                _finding(
                    "promotions", "scope", "scope_syntax", "error", frame, malformed,
                    _show_columns(schema, frame, "scope"),
                    detail="scope must read 'all', 'category:<category>' or 'sku:<sku>|<sku>...'",
                    fix="rewrite the scope in one of these forms, e.g. 'category:snacks' or 'sku:A1|A2'.",
                )
            )
        if items is not None:
            cats = parsed["cat"].str.strip()
            has_cat = cats.notna().to_numpy()
            if has_cat.any():
                if "category" in items.columns:
                    known = set(items["category"].dropna().astype(str))
                    bad = has_cat & ~cats.isin(known).to_numpy()
                    detail = "the category named in scope is not a category of 'items'"
                else:
                    bad = has_cat
                    detail = "scope names a category, but 'items' has no category column"
                if bad.any():
                    findings.append(
                        _finding(
                            "promotions", "scope", "scope_unknown_category", "error", frame, bad,
                            _show_columns(schema, frame, "scope"),
                            detail=detail,
                            fix="use a category listed in items.category (spelling and case matter), "
                            "or add the category column to items.",
                        )
                    )
            skus = parsed["skus"]
            has_skus = skus.notna()
            if has_skus.any() and "sku" in items.columns:
                exploded = skus[has_skus].str.split("|").explode().str.strip()
                unknown_rows = exploded[~_isin(exploded, items["sku"])].index.unique()
                bad = frame.index.isin(unknown_rows)
                if bad.any():
                    findings.append(
                        _finding(
                            "promotions", "scope", "scope_unknown_sku", "error", frame, bad,
                            _show_columns(schema, frame, "scope"),
                            detail="scope lists SKUs that are not in 'items'",
                            fix="correct the SKU codes in scope (separated by '|') or add them to items.",
                        )
                    )
    if "depth" in cols and pd.api.types.is_numeric_dtype(frame["depth"].dtype):
        bad = (frame["depth"] >= 1).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            findings.append(
                _finding(
                    "promotions", "depth", "depth_range", "error", frame, bad,
                    _show_columns(schema, frame, "mechanic", "depth"),
                    detail="depth is a fraction of the price and must be in [0, 1) (0.2 = 20% off)",
                    fix="give depth as a fraction: divide percentages by 100 (20 -> 0.2).",
                )
            )
    if "funding_share" in cols and pd.api.types.is_numeric_dtype(frame["funding_share"].dtype):
        bad = (frame["funding_share"] > 1).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            findings.append(
                _finding(
                    "promotions", "funding_share", "funding_share_range", "error", frame, bad,
                    _show_columns(schema, frame, "funding_share"),
                    detail="funding_share is a fraction and must be in [0, 1]",
                    fix="give funding_share as a fraction: divide percentages by 100.",
                )
            )
    return findings


def _check_purchase_orders(frame: pd.DataFrame) -> list[Finding]:
    schema = SCHEMAS["purchase_orders"]
    findings = []
    cols = set(frame.columns)
    if {"order_date", "receipt_date"} <= cols:
        bad = (frame["receipt_date"] < frame["order_date"]).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            findings.append(
                _finding(
                    "purchase_orders", "receipt_date", "receipt_before_order", "error", frame, bad,
                    _show_columns(schema, frame, "order_date", "receipt_date"),
                    detail="receipt_date must be on or after order_date",
                    fix="correct the dates (swapped columns or a wrong year are the usual causes).",
                )
            )
    if {"order_date", "expected_date"} <= cols:
        bad = (frame["expected_date"] < frame["order_date"]).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            findings.append(
                _finding(
                    "purchase_orders", "expected_date", "expected_before_order", "warning", frame, bad,
                    _show_columns(schema, frame, "order_date", "expected_date"),
                    detail="expected_date is before order_date",
                    fix="correct the dates; lead-time statistics use them.",
                )
            )
    if "qty_ordered" in cols and ({"qty_received", "qty_rejected"} & cols):
        delivered = frame.get("qty_received", 0)
        delivered = pd.Series(delivered, index=frame.index).fillna(0) + pd.Series(
            frame.get("qty_rejected", 0), index=frame.index
        ).fillna(0)
        bad = (delivered > frame["qty_ordered"] * OVER_DELIVERY_FACTOR).fillna(False).to_numpy(dtype=bool)
        if bad.any():
            findings.append(
                _finding(
                    "purchase_orders", "qty_received", "over_delivery", "warning", frame, bad,
                    _show_columns(schema, frame, "qty_ordered", "qty_received", "qty_rejected"),
                    detail=(
                        f"qty_received + qty_rejected is above {OVER_DELIVERY_FACTOR:g} x qty_ordered "
                        "(over-delivery, or quantities in cases instead of units)"
                    ),
                    fix="check the units of the quantities; nothing to do if the supplier really over-delivered.",
                )
            )
    if "receipt_date" in cols:
        received_qty = pd.Series(False, index=frame.index)
        for c in ("qty_received", "qty_rejected"):
            if c in cols:
                received_qty |= (frame[c] > 0).fillna(False)
        no_date = (received_qty & frame["receipt_date"].isna()).to_numpy()
        if no_date.any():
            findings.append(
                _finding(
                    "purchase_orders", "receipt_date", "receipt_without_date", "error", frame, no_date,
                    _show_columns(schema, frame, "receipt_date", "qty_received", "qty_rejected"),
                    detail="units were received (qty_received or qty_rejected > 0) but receipt_date is missing",
                    fix="fill in receipt_date for received lines; leave the quantities empty on open orders.",
                )
            )
        if "qty_received" in cols:
            no_qty = (frame["receipt_date"].notna() & frame["qty_received"].isna()).to_numpy()
            if no_qty.any():
                findings.append(
                    _finding(
                        "purchase_orders", "qty_received", "receipt_without_qty", "warning", frame, no_qty,
                        _show_columns(schema, frame, "receipt_date", "qty_received"),
                        detail="receipt_date is set but qty_received is missing",
                        fix="fill in qty_received (0 if nothing usable arrived).",
                    )
                )
    elif {"qty_received"} <= cols:
        findings.append(
            Finding(
                "purchase_orders", "receipt_date", "receipt_without_date", "warning", 0, (),
                "add receipt_date so that supplier lead times can be measured.",
                detail="qty_received is given without a receipt_date column",
            )
        )
    return findings


def _check_returns(frame: pd.DataFrame, order_lines: pd.DataFrame | None) -> list[Finding]:
    schema = SCHEMAS["returns"]
    findings = []
    if order_lines is None or not {"order_id", "sku"} <= set(frame.columns):
        return findings
    if not {"order_id", "sku"} <= set(order_lines.columns):
        return findings
    bought = order_lines.groupby(["order_id", "sku"], sort=False, observed=True).agg(
        **({"bought_qty": ("qty", "sum")} if "qty" in order_lines.columns else {}),
        **({"order_ts": ("order_ts", "min")} if "order_ts" in order_lines.columns else {}),
        _n=("sku", "size"),
    )
    keys = pd.MultiIndex.from_frame(frame[["order_id", "sku"]])
    matched = bought.reindex(keys)
    matched.index = frame.index
    unknown = (matched["_n"].isna() & frame["order_id"].notna() & frame["sku"].notna()).to_numpy()
    if unknown.any():
        findings.append(
            _finding(
                "returns", "order_id, sku", "return_without_order_line", "error", frame, unknown,
                _show_columns(schema, frame, "qty"),
                detail="every returned (order_id, sku) must be a line of order_lines, but these are not",
                fix="correct order_id or sku, or add the missing order lines (check that order_lines covers the returns' period).",
            )
        )
    if "qty" in frame.columns and "bought_qty" in matched.columns:
        returned = frame.groupby(["order_id", "sku"], sort=False, observed=True)["qty"].transform("sum")
        over = (returned > matched["bought_qty"]).fillna(False).to_numpy(dtype=bool)
        if over.any():
            shown = frame.assign(bought_qty=matched["bought_qty"], returned_qty=returned)
            findings.append(
                _finding(
                    "returns", "qty", "return_exceeds_bought", "error", shown, over,
                    _show_columns(schema, frame, "qty") + ["returned_qty", "bought_qty"],
                    detail="the returned qty of an order line (summed over its returns) must not exceed the qty bought",
                    fix="correct the returned quantities, or merge duplicate return records.",
                )
            )
    if "return_date" in frame.columns and "order_ts" in matched.columns:
        ordered = pd.to_datetime(matched["order_ts"]).dt.normalize()
        early = (frame["return_date"] < ordered).fillna(False).to_numpy(dtype=bool)
        if early.any():
            shown = frame.assign(order_date=ordered)
            findings.append(
                _finding(
                    "returns", "return_date", "return_before_order", "error", shown, early,
                    _show_columns(schema, frame, "return_date") + ["order_date"],
                    detail="return_date must be on or after the date of the order",
                    fix="correct return_date (or the order's order_ts).",
                )
            )
    return findings


def _check_stock_movements(frame: pd.DataFrame) -> list[Finding]:
    if "kind" not in frame.columns:
        return []
    kind = frame["kind"]
    bad = (~kind.isin(MOVEMENT_KINDS) & kind.notna()).to_numpy()
    if not bad.any():
        return []
    values = list(dict.fromkeys(kind[bad]))
    hints = [f"{v!r} -> {m[0]!r}" for v in values[:MAX_EXAMPLES] if (m := _close_matches(str(v), MOVEMENT_KINDS, 1))]
    fix = f"use one of {', '.join(MOVEMENT_KINDS)}"
    if hints:
        fix += f"; close matches: {', '.join(hints)}"
    return [
        _finding(
            "stock_movements", "kind", "movement_kind", "error", frame, bad,
            _show_columns(SCHEMAS["stock_movements"], frame, "date", "kind", "qty"),
            detail=f"kind must be one of MOVEMENT_KINDS; got {', '.join(map(repr, values[:MAX_EXAMPLES]))}",
            fix=fix + ".",
        )
    ]


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #


def _tables_of(workspace: Any) -> dict[str, pd.DataFrame]:
    if isinstance(workspace, dict):
        unknown = [t for t in workspace if t not in SCHEMAS]
        if unknown:
            raise DataError(
                f"workspace keys must be canonical table names ({', '.join(SCHEMAS)}); "
                f"got {', '.join(map(repr, unknown))}. Fix: rename or drop these entries."
            )
        return {t: f for t, f in workspace.items() if f is not None}
    return workspace.tables()


def validate_tables(
    tables: dict[str, pd.DataFrame], *, extra_findings: Iterable[Finding] = ()
) -> tuple[dict[str, pd.DataFrame], ValidationReport]:
    """Coerce and validate raw tables; return the coerced tables and the report.

    This is the engine behind :func:`validate` and the loader; it never raises
    on bad data.
    """
    report = ValidationReport()
    findings: list[Finding] = list(extra_findings)
    coerced: dict[str, pd.DataFrame] = {}
    for table, frame in tables.items():
        report.rows[table] = len(frame)
        column_findings = _check_columns(table, frame)
        findings += column_findings
        frame_c, dtype_findings = _coerce(table, frame)
        findings += dtype_findings
        coerced[table] = frame_c
        if len(frame) == 0:
            findings.append(
                Finding(table, None, "empty_table", "warning", 0, (),
                        "fill the table or leave its file out of the folder.",
                        detail="the table has no rows")
            )
        failed = {f.column for f in dtype_findings}
        findings += _check_values(table, frame_c, failed, frame)
        if not any(f.rule == "duplicate_columns" for f in column_findings):
            findings += _check_unique(table, frame_c)

    items = coerced.get("items")
    ok_items = items is not None and "sku" in items.columns
    known = pd.Index(items["sku"].dropna().unique()) if ok_items else None
    order_lines = coerced.get("order_lines")
    for table, frame in coerced.items():
        if any(isinstance(frame[c], pd.DataFrame) for c in frame.columns.unique()):
            continue  # duplicate column names: reported, other checks skipped
        findings += _check_sku_known(table, frame, known)
        if table == "items":
            findings += _check_items(frame, order_lines)
        elif table == "order_lines":
            findings += _check_order_lines(frame)
        elif table == "promotions":
            findings += _check_promotions(frame, items if ok_items else None)
        elif table == "purchase_orders":
            findings += _check_purchase_orders(frame)
        elif table == "returns":
            findings += _check_returns(frame, order_lines)
        elif table == "stock_movements":
            findings += _check_stock_movements(frame)
    has_sku = [t for t, f in coerced.items() if t != "items" and "sku" in f.columns]
    if has_sku and not ok_items:
        findings.append(
            Finding(
                ", ".join(has_sku), "sku", "unknown_sku", "info", 0, (),
                "add an items table (sku, unit_cost, price) to check SKUs and to plan inventory.",
                detail="there is no usable items table, so SKUs were not checked against it",
            )
        )
    report.extend(findings)
    return coerced, report


def validate(workspace: Any) -> ValidationReport:
    """Check every table of a workspace against the canonical schemas and rules.

    Parameters
    ----------
    workspace : Workspace or dict of str to DataFrame
        The tables to check. Raw tables (as read from files) are fine: they
        are coerced to canonical dtypes on a copy first, and values that do not
        parse are reported under the rule ``"dtype"``.

    Returns
    -------
    ValidationReport
        All findings; nothing is raised here. Call
        :meth:`ValidationReport.raise_for_errors` to refuse bad data.

    Notes
    -----
    Rules (``rule`` identifier, severity):

    * every table: ``required_columns``, ``duplicate_columns``, ``dtype``,
      ``missing`` (non-nullable columns), ``nonnegative``, ``unique_key``
      (errors; the traffic key is ``date`` plus ``sku`` when present, the
      stock key adds ``location`` when present); ``empty_table`` (warning); ``unknown_sku``: every ``sku``
      is in ``items`` (error).
    * items: ``cost_above_price`` (warning), ``never_sold`` (info).
    * order_lines: ``paid_above_list`` (warning).
    * promotions: ``start_after_end``, ``mechanic``, ``scope_syntax``,
      ``scope_unknown_category``, ``scope_unknown_sku``, ``depth_range``,
      ``funding_share_range`` (errors).
    * purchase_orders: ``receipt_before_order``, ``receipt_without_date``
      (errors); ``expected_before_order``, ``over_delivery``,
      ``receipt_without_qty`` (warnings).
    * returns: ``return_without_order_line``, ``return_exceeds_bought``,
      ``return_before_order`` (errors).
    * stock_movements: ``movement_kind`` (error).

    Examples
    --------
    >>> import pandas as pd
    >>> from opslib.data import validate
    >>> items = pd.DataFrame({"sku": ["A"], "unit_cost": [1.0], "price": [-2.0]})
    >>> report = validate({"items": items})
    >>> report.ok
    False
    >>> report.errors[0].rule
    'nonnegative'
    """
    _, report = validate_tables(_tables_of(workspace))
    return report
