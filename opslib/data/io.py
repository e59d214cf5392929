"""Loading and saving workspaces: one file per canonical table in a folder.

A workspace folder holds one file per table, named after the table
(``items.csv``, ``order_lines.parquet``, ``stock.csv.gz``, ``returns.xlsx``).
A workbook with any other name (``shop.xlsx``) may hold several tables, one
sheet per table named after it. Subfolders (``ground_truth/``) and files that
are not a table are ignored, and listed in the load report.

Foreign column names are mapped here (and nowhere else) with ``mapping``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from opslib.data.cache import cached_load
from opslib.data.schema import SCHEMAS, TABLE_NAMES
from opslib.data.validate import Skipped, ValidationReport, _close_matches, validate_tables
from opslib.data.workspace import Workspace
from opslib.errors import DataError

__all__ = [
    "load_workspace",
    "save_workspace",
    "load_demo",
    "default_workspace",
    "load_ground_truth",
    "demo_folder",
    "FORMATS",
]

FORMATS: tuple[str, ...] = ("csv", "csv.gz", "parquet", "xlsx")
"""File formats read and written, by file suffix."""

_READ_SUFFIXES = (".csv.gz", ".csv", ".parquet", ".xlsx")
_EXCEL_MAX_ROWS = 1_048_575
DATA_ENV_VAR = "OPSLIB_DATA"


# --------------------------------------------------------------------------- #
# Discovery and reading
# --------------------------------------------------------------------------- #


def _split_suffix(path: Path) -> tuple[str, str] | None:
    """``items.csv.gz`` -> ("items", ".csv.gz"); None if not a readable format."""
    lower = path.name.lower()
    for suffix in _READ_SUFFIXES:
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return path.name[: -len(suffix)], suffix
    return None


def _discover(folder: Path) -> tuple[dict[str, tuple[Path, str | None]], list[str]]:
    """Table files of a folder: ``{table: (file, sheet)}`` and the unknown files."""
    sources: dict[str, list[tuple[Path, str | None]]] = {}
    unknown: list[str] = []
    files = [folder] if folder.is_file() else sorted(p for p in folder.iterdir() if p.is_file())
    for file in files:
        if file.name.startswith((".", "~$")):
            continue  # hidden files and Excel lock files
        split = _split_suffix(file)
        if split is None:
            unknown.append(file.name)
            continue
        stem, suffix = split
        if stem in SCHEMAS and not folder.is_file():
            sources.setdefault(stem, []).append((file, None))
        elif suffix == ".xlsx":
            sheets = pd.ExcelFile(file).sheet_names
            tables = [s for s in sheets if s.strip() in SCHEMAS]
            for sheet in tables:
                sources.setdefault(sheet.strip(), []).append((file, sheet))
            others = [s for s in sheets if s.strip() not in SCHEMAS]
            if not tables:
                unknown.append(file.name)
            elif others:
                unknown += [f"{file.name}[{s}]" for s in others]
        else:
            unknown.append(file.name)
    ambiguous = {t: s for t, s in sources.items() if len(s) > 1}
    if ambiguous:
        lines = [
            f"{t}: " + ", ".join(f.name + (f"[{sh}]" if sh else "") for f, sh in s)
            for t, s in ambiguous.items()
        ]
        raise DataError(
            f"Each table must come from one file in {str(folder)!r}, but some tables have several "
            f"({'; '.join(lines)}). Fix: keep one file per table and move or delete the others."
        )
    return {t: s[0] for t, s in sources.items()}, unknown


def _table_mapping(mapping: Mapping | None, table: str) -> dict[str, str]:
    """The ``{foreign: canonical}`` renames that apply to ``table``."""
    if not mapping:
        return {}
    flat = {k: v for k, v in mapping.items() if not isinstance(v, Mapping)}
    flat.update(mapping.get(table, {}) if isinstance(mapping.get(table), Mapping) else {})
    return {str(k): str(v) for k, v in flat.items()}


def _check_mapping(mapping: Mapping | None) -> None:
    if mapping is None:
        return
    if not isinstance(mapping, Mapping):
        raise DataError(
            f"mapping must be a dict, either {{table: {{foreign: canonical}}}} or "
            f"{{foreign: canonical}}; got {type(mapping).__name__}."
        )
    for key, value in mapping.items():
        if isinstance(value, Mapping) and key not in SCHEMAS:
            hint = _close_matches(str(key), SCHEMAS, 1)
            raise DataError(
                f"mapping keys holding a dict must be table names ({', '.join(TABLE_NAMES)}); "
                f"got {key!r}." + (f" Did you mean {hint[0]!r}?" if hint else "")
            )
        if not isinstance(value, (str, Mapping)):
            raise DataError(
                f"mapping values must be column names (str) or dicts of column names; "
                f"got {value!r} for {key!r}."
            )


def _str_columns(table: str) -> set[str]:
    return {c.name for c in SCHEMAS[table].columns if c.dtype == "str"}


def _read(file: Path, sheet: str | None, table: str, renames: dict[str, str]) -> pd.DataFrame:
    """Read one table file; text columns of the schema are read as text."""
    suffix = _split_suffix(file)[1] if _split_suffix(file) else file.suffix
    try:
        if suffix in (".csv", ".csv.gz"):
            header = pd.read_csv(file, nrows=0).columns
            as_text = _str_columns(table)
            dtype = {c: "str" for c in header if renames.get(str(c).strip(), str(c).strip()) in as_text}
            return pd.read_csv(file, dtype=dtype)
        if suffix == ".parquet":
            return pd.read_parquet(file)
        if suffix == ".xlsx":
            return pd.read_excel(file, sheet_name=sheet if sheet is not None else 0)
    except (OSError, ValueError, ImportError) as exc:
        raise DataError(
            f"Cannot read table {table!r} from {str(file)!r}: {exc}. "
            "Fix: check that the file is a valid CSV (UTF-8, comma-separated), Parquet or Excel file."
        ) from exc
    raise DataError(f"Cannot read {str(file)!r}: unsupported format; use one of {', '.join(FORMATS)}.")


def _prepare(frame: pd.DataFrame, table: str, renames: dict[str, str], report: ValidationReport) -> pd.DataFrame:
    """Strip and map column names, drop blank rows (counted in the report)."""
    stripped = {c: str(c).strip() for c in frame.columns}
    columns = [renames.get(s, s) for s in stripped.values()]
    done = {str(c): new for c, new in zip(frame.columns, columns) if str(c) != new}
    if done:
        report.renamed[table] = done
    frame = frame.set_axis(columns, axis=1)
    # Label rows by their line in the file (line 1 is the header) so that findings point
    # at the line a user opens in an editor or a spreadsheet; reset once validated.
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")
    blank = frame.isna().all(axis=1)
    if len(frame.columns) and blank.any():
        report.skipped.append(
            Skipped(table, "blank_row", int(blank.sum()), "rows with no value in any column")
        )
        frame = frame.loc[~blank]
    return frame


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def load_workspace(
    path: str | os.PathLike,
    *,
    mapping: Mapping[str, Any] | None = None,
    validate: bool = True,
    name: str | None = None,
) -> Workspace:
    """Load the canonical tables of a shop from a folder.

    Parameters
    ----------
    path : str or path-like
        A folder with one file per table, named after the table
        (``items.csv``, ``order_lines.csv.gz``, ``stock.parquet``,
        ``returns.xlsx``), or a workbook (``.xlsx``) with one sheet per table
        named after it. In a folder, a workbook with any other name is read
        the same way. Subfolders are ignored; other files are listed in the
        load report.
    mapping : dict, optional
        Foreign column names, either per table,
        ``{"items": {"SKU Code": "sku"}}``, or flat, ``{"SKU Code": "sku"}``
        (applied to every table). Both forms may be mixed.
    validate : bool, default True
        Refuse data that breaks a validation rule (see
        :func:`opslib.data.validate`). With ``False`` the report is still
        computed and kept, but bad data is loaded as is (values that did not
        parse are missing, and listed in the report).
    name : str, optional
        Name of the workspace; default: the folder name.

    Returns
    -------
    Workspace
        Tables with canonical dtypes; ``workspace.load_report`` is the
        :class:`ValidationReport` (findings, rows, skipped rows, renamed
        columns, files read, unknown files).

    Raises
    ------
    DataError
        If the folder does not exist or holds no table file, if a table comes
        from two files, or (with ``validate=True``) if any error finding is
        reported; the error lists every error finding.

    Examples
    --------
    >>> ws = load_workspace("my_shop", mapping={"items": {"SKU Code": "sku"}})  # doctest: +SKIP
    >>> ws.load_report.warnings  # doctest: +SKIP
    """
    folder = Path(path).expanduser()
    if not folder.exists():
        raise DataError(
            f"path must be an existing folder of table files; got {str(folder)!r}, which does not exist. "
            f"Fix: check the path, or set {DATA_ENV_VAR} to your data folder "
            "(run `opslib demo build` to create the demo shop)."
        )
    if folder.is_file() and _split_suffix(folder) and _split_suffix(folder)[1] != ".xlsx":
        raise DataError(
            f"path must be a folder (or an .xlsx workbook with one sheet per table); got the file "
            f"{str(folder)!r}. Fix: pass the folder that holds it."
        )
    _check_mapping(mapping)
    sources, unknown = _discover(folder)
    if not sources:
        seen = ", ".join(unknown) or "no files"
        raise DataError(
            f"path must hold at least one table file named after a canonical table; "
            f"{str(folder)!r} holds {seen}. Fix: name the files <table>.csv (or .csv.gz, .parquet, "
            f".xlsx) with <table> one of {', '.join(TABLE_NAMES)}."
        )
    report = ValidationReport(unknown_files=unknown)
    raw: dict[str, pd.DataFrame] = {}
    for table in TABLE_NAMES:
        if table not in sources:
            continue
        file, sheet = sources[table]
        renames = _table_mapping(mapping, table)
        frame = _read(file, sheet, table, renames)
        raw[table] = _prepare(frame, table, renames, report)
        report.files[table] = file.name + (f"[{sheet}]" if sheet else "")
    tables, checked = validate_tables(raw)
    tables = {t: frame.reset_index(drop=True) for t, frame in tables.items()}
    report.findings = checked.findings
    report.rows = checked.rows
    workspace = Workspace(
        **tables,
        path=folder,
        name=name or (folder.stem if folder.is_file() else folder.name),
        load_report=report,
    )
    if validate:
        try:
            report.raise_for_errors()
        except DataError as exc:
            raise DataError(f"Cannot load the workspace {str(folder)!r}. {exc}", findings=exc.findings) from None
    return workspace


def save_workspace(workspace: Workspace, path: str | os.PathLike, *, format: str = "csv") -> Path:
    """Write every table of a workspace to a folder, one file per table.

    The layout is the one :func:`load_workspace` reads, so that
    ``load_workspace(save_workspace(ws, folder))`` gives the same tables.

    Parameters
    ----------
    workspace : Workspace
        The tables to write (tables that are ``None`` are not written).
    path : str or path-like
        The folder; created if needed. Files of the same name are overwritten.
    format : {"csv", "csv.gz", "parquet", "xlsx"}, default "csv"
        File format.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    DataError
        If ``format`` is unknown, if the folder already holds the same table
        in another format (it would be ambiguous to load), or if a table has
        more rows than an Excel sheet holds.
    """
    if format not in FORMATS:
        raise DataError(f"format must be one of {', '.join(FORMATS)}; got {format!r}.")
    folder = Path(path).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    tables = workspace.tables()
    for table, frame in tables.items():
        others = [folder / f"{table}.{f}" for f in FORMATS if f != format and (folder / f"{table}.{f}").exists()]
        if others:
            raise DataError(
                f"Cannot save table {table!r} as {format} in {str(folder)!r}: the folder already holds "
                f"{', '.join(o.name for o in others)}, and a table must come from one file. "
                "Fix: save to an empty folder or delete the other file."
            )
        if format == "xlsx" and len(frame) > _EXCEL_MAX_ROWS:
            raise DataError(
                f"Cannot save table {table!r} as xlsx: it has {len(frame):,} rows and an Excel sheet holds "
                f"at most {_EXCEL_MAX_ROWS:,}. Fix: use format='parquet' or 'csv.gz'."
            )
    for table, frame in tables.items():
        target = folder / f"{table}.{format}"
        if format in ("csv", "csv.gz"):
            frame.to_csv(target, index=False)
        elif format == "parquet":
            frame.to_parquet(target, index=False)
        else:
            frame.to_excel(target, index=False, sheet_name=table)
    return folder


def demo_folder() -> Path:
    """The folder of the demo shop: ``<repo>/data/demo``."""
    import opslib

    return Path(opslib.__file__).resolve().parent.parent / "data" / "demo"


def _derive_demand(workspace: Workspace) -> pd.DataFrame | None:
    """``daily_demand`` of the workspace, or None while it is not available."""
    try:
        from opslib.data.demand import daily_demand
    except ImportError:
        return None
    return daily_demand(workspace)


def load_demo() -> Workspace:
    """Load the demo shop from ``<repo>/data/demo``, with ``demand`` derived.

    Returns
    -------
    Workspace
        The demo shop (named ``"demo"``). ``demand`` is derived with
        :func:`opslib.data.daily_demand` when the folder has no demand table.
        Loaded through the disk cache (see :func:`default_workspace`).

    Raises
    ------
    DataError
        If the demo data has not been built.
    """
    folder = demo_folder()
    if not folder.is_dir() or not any(
        (_split_suffix(p) or ("", ""))[0] in SCHEMAS for p in folder.iterdir() if p.is_file()
    ):
        raise DataError(
            f"The demo shop data is missing: {str(folder)!r} holds no table file. "
            "Fix: run `opslib demo build` to generate it."
        )
    return _load_with_demand(folder, "demo")


def _load_with_demand(folder: Path, name: str | None) -> Workspace:
    """``load_workspace`` plus the derived demand table, through the disk cache."""

    def load() -> Workspace:
        workspace = load_workspace(folder, name=name)
        if workspace.demand is None and workspace.order_lines is not None:
            workspace.demand = _derive_demand(workspace)
        return workspace

    return cached_load(folder, ("load_with_demand", name), load)


def default_workspace() -> Workspace:
    """The workspace apps open on: ``$OPSLIB_DATA`` if set, else the demo shop.

    Returns
    -------
    Workspace
        ``load_workspace(os.environ["OPSLIB_DATA"])`` when the environment
        variable is set and not empty, else :func:`load_demo`; ``demand`` is
        derived when the folder has no demand table.

    Notes
    -----
    Both go through the disk cache of :mod:`opslib.data.cache`: an unchanged
    folder loads from a pickle instead of being parsed and validated again.
    Refused data (``DataError``) is never cached.
    """
    folder = os.environ.get(DATA_ENV_VAR, "").strip()
    if folder:
        path = Path(folder).expanduser()
        if not path.exists():
            return load_workspace(path)  # raises the DataError that says how to fix it
        return _load_with_demand(path, None)
    return load_demo()


def _read_any(file: Path) -> pd.DataFrame:
    suffix = (_split_suffix(file) or ("", file.suffix.lower()))[1]
    if suffix in (".csv", ".csv.gz"):
        header = pd.read_csv(file, nrows=0).columns
        ids = {c: "str" for c in header if c == "sku" or str(c).endswith("_id")}
        frame = pd.read_csv(file, dtype=ids)
    elif suffix == ".parquet":
        frame = pd.read_parquet(file)
    elif suffix == ".xlsx":
        frame = pd.read_excel(file)
    else:
        frame = pd.read_json(file)
    for c in frame.columns:
        is_date = c in ("date", "start", "end") or str(c).endswith(("_date", "_ts"))
        if is_date and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)):
            try:
                frame[c] = pd.to_datetime(frame[c])
            except (ValueError, TypeError):
                pass  # left as read: ground truth is not validated
    return frame


def load_ground_truth(path: str | os.PathLike | None = None) -> dict[str, pd.DataFrame]:
    """Read the ground truth a generated shop was built from.

    Parameters
    ----------
    path : str or path-like, optional
        A workspace folder holding a ``ground_truth/`` subfolder; default: the
        demo shop folder.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per file of ``ground_truth/`` (CSV, CSV.gz, Parquet, Excel
        or JSON), keyed by the file name without suffix. Columns named
        ``date``, ``start``, ``end`` or ending in ``_date``/``_ts`` are parsed
        as dates; ``sku`` and ``*_id`` columns of CSV files are read as text.

    Raises
    ------
    DataError
        If the folder has no ``ground_truth/`` subfolder.
    """
    folder = Path(path).expanduser() if path is not None else demo_folder()
    truth = folder / "ground_truth"
    if not truth.is_dir():
        raise DataError(
            f"path must hold a ground_truth/ folder; {str(truth)!r} does not exist. Fix: pass the "
            "folder of a generated shop (run `opslib demo build` for the demo shop)."
        )
    out: dict[str, pd.DataFrame] = {}
    for file in sorted(p for p in truth.iterdir() if p.is_file() and not p.name.startswith(".")):
        split = _split_suffix(file)
        if split is None and file.suffix.lower() == ".json":
            split = (file.stem, ".json")
        if split is None and file.suffix.lower() in (".md", ".txt"):
            continue  # documentation of the truth tables
        if split is None:
            warnings.warn(f"load_ground_truth ignores {file.name!r}: not a CSV, Parquet, Excel or JSON file.", stacklevel=2)
            continue
        out[split[0]] = _read_any(file)
    return out
