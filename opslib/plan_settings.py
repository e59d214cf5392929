"""Saved replenishment settings: per-SKU and per-segment overrides, kept in the workspace folder.

A planner tunes the service type, target, review period, lead time, MOQ or case
pack of a SKU, or of a whole segment of SKUs (a category, an ABC x XYZ cell, a
supplier), and saves them next to the shop's tables so that they persist across
sessions and drive :func:`opslib.plan.replenishment_plan`. Two human-readable
files live in the workspace folder:

- ``replenishment_settings.csv``: one row per scope and key, one column per
  field, an empty cell where the scope leaves a field alone (rewritten
  atomically on every save);
- ``replenishment_settings_log.csv``: append-only, one row per changed field:
  ``changed_at`` (UTC, ISO 8601), ``changed_by``, ``scope``, ``key``,
  ``field``, ``old``, ``new`` (empty: not set).

Precedence, field by field (the first scope that sets a field wins):

1. ``sku``: the SKU itself;
2. ``cell``: its ABC x XYZ cell (``"AX"`` .. ``"CZ"``, from
   :func:`opslib.inventory.segmentation.segment` on the demand history up to
   the planning day, so a SKU can change cell as its sales change);
3. ``category``: ``items.category``;
4. ``supplier``: ``items.supplier``;
5. the global defaults: the arguments of the plan (service type, target,
   review period) and the items table (``moq``, ``case_pack``; lead times
   measured from receipts, else ``items.lead_time_days``).

The order runs from the most specific to the broadest: a supplier's MOQ or
lead time holds for its SKUs unless the planner said otherwise for their
category, cell or the SKU itself.

This module lives beside :mod:`opslib.plan` rather than in
:mod:`opslib.inventory` because it reads and writes files in the workspace
folder, which the engines never do (DESIGN.md, layer 2), and because it
configures the orchestrator, not an engine.
"""

from __future__ import annotations

import csv
import getpass
import io
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = [
    "SETTINGS_FILE",
    "SETTINGS_LOG_FILE",
    "SCOPES",
    "FIELDS",
    "CELLS",
    "ReplenishmentSettings",
    "ResolvedSettings",
    "load_settings",
    "workspace_folder",
    "save_settings",
    "update_settings",
    "settings_log",
    "resolve_settings",
    "current_user",
]

SETTINGS_FILE = "replenishment_settings.csv"
"""File name of the saved settings in the workspace folder."""
SETTINGS_LOG_FILE = "replenishment_settings_log.csv"
"""File name of the append-only change log in the workspace folder."""

SCOPES: tuple[str, ...] = ("sku", "cell", "category", "supplier")
"""Scopes of an override, from the one that wins to the broadest."""

FIELDS: tuple[str, ...] = ("service_type", "target", "review_period_days", "lead_time_days", "moq", "case_pack")
"""The fields a scope may set."""

CELLS: tuple[str, ...] = tuple(a + x for a in "ABC" for x in "XYZ")
"""The ABC x XYZ cells (keys of the ``cell`` scope)."""

SERVICE_TYPES = ("fill_rate", "cycle_service_level")
LOG_COLUMNS = ["changed_at", "changed_by", "scope", "key", "field", "old", "new"]
_TABLE = "replenishment settings"
_ENCODING = "utf-8-sig"  # a BOM, so that Excel opens Chinese names correctly


# ---------------------------------------------------------------------------- values


def _fail(where: str, field_: str, rule: str, value, fix: str) -> DataError:
    return DataError(f"{_TABLE}: {where}{field_} {rule}; got {value!r}. Fix: {fix}")


def _as_number(where, name, value):
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _fail(where, name, "must be a number", value, f"write {name} as a number.") from None
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise _fail(where, name, "must be a finite number", value, f"write {name} as a number.")
    return float(value)


def _as_integer(where, name, value, minimum, fix):
    number = _as_number(where, name, value)
    if not float(number).is_integer():
        raise _fail(where, name, "must be a whole number", value, f"round {name} to a whole number.")
    if number < minimum:
        raise _fail(where, name, f"must be >= {minimum}", value, fix)
    return int(number)


def check_value(name: str, value, where: str = ""):
    """One field's value, checked and in its canonical type (None: not set).

    Raises
    ------
    opslib.DataError
        Naming the field, the rule, the value and the fix.
    """
    if value is None or (isinstance(value, str) and not value.strip()) or (
            isinstance(value, float) and math.isnan(value)):
        return None
    if name == "service_type":
        text = str(value).strip()
        if text not in SERVICE_TYPES:
            raise _fail(where, name, f"must be one of {', '.join(SERVICE_TYPES)}", value, "pick one of them.")
        return text
    if name == "target":
        number = _as_number(where, name, value)
        if 50 <= number <= 100:
            raise _fail(where, name, "must be a fraction strictly between 0 and 1, not a percentage", value,
                        f"write {number / 100:g} instead of {number:g}.")
        if not 0 < number < 1:
            raise _fail(where, name, "must be strictly between 0 and 1", value,
                        "write a target such as 0.95; a target of 0 or 1 has no finite stock level.")
        return number
    if name == "review_period_days":
        return _as_integer(where, name, value, 1, "review at least once a day: review_period_days >= 1 [days].")
    if name == "lead_time_days":
        number = _as_number(where, name, value)
        if number <= 0:
            raise _fail(where, name, "must be > 0 [days]", value, "write the supplier's lead time in days, e.g. 7.")
        return number
    if name == "moq":
        return _as_integer(where, name, value, 0, "write the minimum order quantity in units, 0 for none.")
    if name == "case_pack":
        return _as_integer(where, name, value, 1, "write the units per case, 1 for single units.")
    raise DataError(f"{_TABLE}: unknown field {name!r}. Fix: use one of {', '.join(FIELDS)}.")


def _check_scope(scope, key, where: str = "") -> tuple[str, str]:
    if scope not in SCOPES:
        raise _fail(where, "scope", f"must be one of {', '.join(SCOPES)}", scope, "pick one of them.")
    if key is None or (isinstance(key, float) and math.isnan(key)) or not str(key).strip():
        raise _fail(where, "key", f"must name the {scope}", key, f"write the {scope} the row is for.")
    key = str(key).strip()
    if scope == "cell":
        key = key.upper()
        if key not in CELLS:
            raise _fail(where, "key", "must be an ABC x XYZ cell", key, f"write one of {', '.join(CELLS)}.")
    return scope, key


def _text(value) -> str:
    """A value as written in the files: whole numbers without '.0', other floats exactly."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


# ---------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ReplenishmentSettings:
    """Per-SKU and per-segment overrides of the replenishment plan (immutable).

    Parameters
    ----------
    overrides : mapping, optional
        ``{(scope, key): {field: value}}``; checked, ``None`` values dropped.

    Attributes
    ----------
    overrides : dict
        ``(scope, key) -> {field: value}``, every value checked.

    Examples
    --------
    >>> s = ReplenishmentSettings().set("category", "snacks", target=0.97, review_period_days=3)
    >>> s = s.set("sku", "SN0001", target=0.99)
    >>> s.get("sku", "SN0001")
    {'target': 0.99}
    """

    overrides: dict = field(default_factory=dict)

    def __post_init__(self):
        clean = {}
        for (scope, key), values in dict(self.overrides).items():
            scope, key = _check_scope(scope, key)
            checked = {}
            for name, value in dict(values).items():
                value = check_value(name, value, f"{scope} {key!r}: ")
                if value is not None:
                    checked[name] = value
            if checked:
                clean[(scope, key)] = {name: checked[name] for name in FIELDS if name in checked}
        ordered = dict(sorted(clean.items(), key=lambda kv: (SCOPES.index(kv[0][0]), kv[0][1])))
        object.__setattr__(self, "overrides", ordered)

    def __len__(self) -> int:
        return len(self.overrides)

    def get(self, scope: str, key) -> dict:
        """The fields ``scope``/``key`` sets (empty dict: none)."""
        scope, key = _check_scope(scope, key)
        return dict(self.overrides.get((scope, key), {}))

    def set(self, scope: str, key, **values) -> ReplenishmentSettings:
        """A copy with ``values`` set for ``scope``/``key``; a value of None clears that field.

        Raises
        ------
        opslib.DataError
            For an unknown scope or field, or a value out of range.
        """
        scope, key = _check_scope(scope, key)
        current = dict(self.overrides.get((scope, key), {}))
        for name, value in values.items():
            value = check_value(name, value, f"{scope} {key!r}: ")
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
        new = {k: v for k, v in self.overrides.items() if k != (scope, key)}
        if current:
            new[(scope, key)] = current
        return ReplenishmentSettings(new)

    def clear(self, scope: str, key) -> ReplenishmentSettings:
        """A copy without any override for ``scope``/``key``."""
        scope, key = _check_scope(scope, key)
        return ReplenishmentSettings({k: v for k, v in self.overrides.items() if k != (scope, key)})

    def to_frame(self) -> pd.DataFrame:
        """``scope, key`` and one column per field (None where not set), in precedence order."""
        rows = [{"scope": s, "key": k, **{f: v.get(f) for f in FIELDS}} for (s, k), v in self.overrides.items()]
        return pd.DataFrame(rows, columns=["scope", "key", *FIELDS])

    def changes_from(self, before: ReplenishmentSettings) -> pd.DataFrame:
        """Field by field, what differs from ``before``: ``scope, key, field, old, new`` (None: not set)."""
        rows = []
        keys = list(before.overrides) + [k for k in self.overrides if k not in before.overrides]
        for scope_key in sorted(keys, key=lambda k: (SCOPES.index(k[0]), k[1])):
            old, new = before.overrides.get(scope_key, {}), self.overrides.get(scope_key, {})
            for name in FIELDS:
                if old.get(name) != new.get(name):
                    rows.append(dict(scope=scope_key[0], key=scope_key[1], field=name,
                                     old=old.get(name), new=new.get(name)))
        return pd.DataFrame(rows, columns=["scope", "key", "field", "old", "new"], dtype=object)


# ---------------------------------------------------------------------------- files


def workspace_folder(folder, what: str = "the settings",
                     fix: str = "load the shop with opslib.load_workspace(folder) or pass the folder to save in") -> Path:
    """``folder`` as an existing directory, or a DataError that says ``what`` needs it and how to ``fix`` it."""
    if folder is None:
        raise DataError(f"{what} need a workspace folder; got None. Fix: {fix}.")
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise DataError(f"the workspace folder {str(path)!r} does not exist. Fix: create it or pass another folder.")
    return path


def _folder(folder) -> Path:
    return workspace_folder(folder)


def load_settings(folder) -> ReplenishmentSettings:
    """The settings saved in a workspace folder (empty when it has none).

    Parameters
    ----------
    folder : str or os.PathLike
        The workspace folder (``Workspace.path``).

    Raises
    ------
    opslib.DataError
        When the file breaks a rule: the line, the column, the rule and the
        fix, for up to five lines.
    """
    path = _folder(folder) / SETTINGS_FILE
    if not path.exists():
        return ReplenishmentSettings()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=_ENCODING)
    missing = [c for c in ("scope", "key") if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in ("scope", "key", *FIELDS)]
    if missing or unknown:
        raise DataError(f"{path}: the columns must be scope, key and any of {', '.join(FIELDS)}; "
                        f"missing {missing}, unknown {unknown}. Fix: rename or remove those columns.")
    overrides, problems, seen = {}, [], set()
    for line, row in enumerate(frame.itertuples(index=False), start=2):
        row = row._asdict()
        where = f"line {line}: "
        try:
            scope_key = _check_scope(row["scope"].strip(), row["key"], where)
            if scope_key in seen:
                raise _fail(where, "scope/key", "must appear once", f"{scope_key[0]} {scope_key[1]}",
                            "merge the two rows into one.")
            seen.add(scope_key)
            overrides[scope_key] = {f: check_value(f, row.get(f), where) for f in FIELDS if f in row}
        except DataError as exc:
            problems.append(str(exc).removeprefix(f"{_TABLE}: "))  # the path says which file
    if problems:
        shown = "\n  ".join(problems[:5])
        more = f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise DataError(f"{path}: {len(problems)} line(s) break a rule:\n  {shown}{more}")
    return ReplenishmentSettings(overrides)


def current_user() -> str:
    """The name of the user running opslib (``getpass.getuser()``; ``"unknown"`` when it has none)."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # noqa: BLE001 - no login name (containers): still log the change
        return "unknown"


def _write_atomic(path: Path, text: str) -> None:
    handle = tempfile.NamedTemporaryFile("w", encoding=_ENCODING, newline="", dir=path.parent,
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def save_settings(folder, settings: ReplenishmentSettings, *, user: str | None = None,
                  now: datetime | None = None) -> pd.DataFrame:
    """Save the settings into the workspace folder and log every field that changed.

    The settings file is replaced atomically (written to a temporary file in
    the same folder, then renamed), so a reader never sees half a file. The
    changes against the file on disk are then appended to the log.

    Parameters
    ----------
    folder : str or os.PathLike
        The workspace folder.
    settings : ReplenishmentSettings
        The complete settings to keep (what is not in them is removed).
    user : str, optional
        Who made the change; default :func:`current_user`.
    now : datetime, optional
        When; default the current time (stored in UTC).

    Returns
    -------
    pandas.DataFrame
        The log rows written (``changed_at, changed_by, scope, key, field,
        old, new``); empty when nothing changed.
    """
    if not isinstance(settings, ReplenishmentSettings):
        raise DataError(f"settings must be a ReplenishmentSettings; got {type(settings).__name__}. "
                        "Fix: build one with ReplenishmentSettings().set(scope, key, field=value).")
    path = _folder(folder)
    before = load_settings(path)
    changes = settings.changes_from(before)
    if changes.empty and (path / SETTINGS_FILE).exists():
        return pd.DataFrame(columns=LOG_COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scope", "key", *FIELDS])
    for (scope, key), values in settings.overrides.items():
        writer.writerow([scope, key, *[_text(values.get(f)) for f in FIELDS]])
    _write_atomic(path / SETTINGS_FILE, buffer.getvalue())
    if changes.empty:
        return pd.DataFrame(columns=LOG_COLUMNS)
    stamp = (now or datetime.now(UTC))
    stamp = stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    who = current_user() if user is None else str(user).strip() or "unknown"
    log = changes.assign(changed_at=stamp.isoformat(timespec="seconds"), changed_by=who)[LOG_COLUMNS]
    log["old"] = log["old"].map(_text)
    log["new"] = log["new"].map(_text)
    log_path = path / SETTINGS_LOG_FILE
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if not log_path.exists() or log_path.stat().st_size == 0:
        writer.writerow(LOG_COLUMNS)
    writer.writerows(log.itertuples(index=False, name=None))
    with open(log_path, "a", encoding=_ENCODING, newline="") as handle:  # one write: append-only
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())
    return log.reset_index(drop=True)


def update_settings(folder, scope: str, key, *, user: str | None = None, now: datetime | None = None,
                    **values) -> ReplenishmentSettings:
    """Set (or, with None, clear) fields of one scope in the saved settings, and log it.

    Loads the file, applies :meth:`ReplenishmentSettings.set`, saves with
    :func:`save_settings`; returns the settings now saved.
    """
    settings = load_settings(folder).set(scope, key, **values)
    save_settings(folder, settings, user=user, now=now)
    return settings


def settings_log(folder) -> pd.DataFrame:
    """Who changed which setting and when: the log of a workspace folder, oldest first.

    Returns
    -------
    pandas.DataFrame
        ``changed_at`` (UTC timestamps), ``changed_by, scope, key, field, old,
        new`` (text as written; empty: not set).
    """
    path = _folder(folder) / SETTINGS_LOG_FILE
    if not path.exists():
        return pd.DataFrame(columns=LOG_COLUMNS)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=_ENCODING)
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame[LOG_COLUMNS]


# ---------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ResolvedSettings:
    """Result of :func:`resolve_settings`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per SKU of ``items``: ``sku``, each field of :data:`FIELDS`
        (``lead_time_days`` NaN: measured from receipts, else the items
        table, as the plan does without settings; ``moq``/``case_pack`` from
        the items table, 0 and 1 when it has none), ``<field>_source`` (``"sku"``,
        ``"cell AX"``, ``"category snacks"``, ``"supplier X"``, ``"default"``) and
        ``cell`` (the SKU's ABC x XYZ cell when a cell override needed it).
    unmatched : pandas.DataFrame
        ``scope, key``: overrides that match no SKU of the workspace (a SKU
        no longer listed, a misspelt category); they change nothing.
    """

    table: pd.DataFrame
    unmatched: pd.DataFrame


def resolve_settings(ws, settings: ReplenishmentSettings, *, service_type: str = "fill_rate",
                     target: float = 0.95, review_period_days: int = 7, as_of=None) -> ResolvedSettings:
    """The settings of every SKU after precedence: SKU over cell over category over supplier over defaults.

    Parameters
    ----------
    ws : opslib.Workspace
        With ``items`` (``sku``; ``category``, ``supplier``, ``moq``,
        ``case_pack`` when present) and, when a ``cell`` override exists,
        ``demand`` (the ABC x XYZ cells come from
        :func:`opslib.inventory.segmentation.segment`).
    settings : ReplenishmentSettings
    service_type, target, review_period_days
        The global defaults (the plan's arguments).
    as_of : date-like, optional
        End of the demand window the cells are computed on.

    Returns
    -------
    ResolvedSettings
    """
    items = getattr(ws, "items", None)
    if items is None or "sku" not in items.columns:
        raise DataError("resolve_settings needs the items table with a sku column. Fix: load the items table.")
    defaults = {
        "service_type": check_value("service_type", service_type, "default "),
        "target": check_value("target", target, "default "),
        "review_period_days": check_value("review_period_days", review_period_days, "default "),
    }
    skus = items["sku"].tolist()
    n = len(skus)
    keys = {"sku": pd.Series([str(s) for s in skus])}
    for scope in ("category", "supplier"):
        keys[scope] = (items[scope].map(lambda v: None if pd.isna(v) else str(v)).reset_index(drop=True)
                       if scope in items.columns else pd.Series([None] * n))
    cells = pd.Series([None] * n)
    if any(scope == "cell" for scope, _ in settings.overrides):
        from opslib.inventory.policy import demand_statistics
        from opslib.inventory.segmentation import segment

        stats = demand_statistics(ws, as_of=as_of)
        cost = items.set_index("sku")["unit_cost"] if "unit_cost" in items.columns else pd.Series(dtype=float)
        cell_of = segment(stats, cost)["cell"]
        cells = pd.Series([cell_of.get(s) for s in skus])
    keys["cell"] = cells

    def column(name, fill):
        if name in items.columns:
            return pd.to_numeric(items[name], errors="coerce").fillna(fill).reset_index(drop=True)
        return pd.Series([fill] * n, dtype=float)

    base = {
        "service_type": pd.Series([defaults["service_type"]] * n, dtype=object),
        "target": pd.Series([defaults["target"]] * n, dtype=float),
        "review_period_days": pd.Series([defaults["review_period_days"]] * n, dtype=int),
        "lead_time_days": pd.Series([np.nan] * n, dtype=float),
        "moq": column("moq", 0).astype(int),
        "case_pack": column("case_pack", 1).astype(int),
    }
    values = {f: base[f].astype(object).tolist() for f in FIELDS}
    sources = {f: ["default"] * n for f in FIELDS}
    matched = set()
    for scope in reversed(SCOPES):  # broadest first: narrower scopes overwrite
        for (s, key), fields_ in settings.overrides.items():
            if s != scope:
                continue
            hits = np.flatnonzero((keys[scope] == key).to_numpy())
            if hits.size:
                matched.add((s, key))
            label = "sku" if scope == "sku" else f"{scope} {key}"
            for name, value in fields_.items():
                for i in hits:
                    values[name][i] = value
                    sources[name][i] = label
    table = pd.DataFrame({"sku": skus})
    for name in FIELDS:
        table[name] = values[name]
    table["target"] = table["target"].astype(float)
    table["lead_time_days"] = table["lead_time_days"].astype(float)
    for name in ("review_period_days", "moq", "case_pack"):
        table[name] = table[name].astype(int)
    for name in FIELDS:
        table[f"{name}_source"] = sources[name]
    table["cell"] = cells.to_numpy()
    unmatched = pd.DataFrame([k for k in settings.overrides if k not in matched], columns=["scope", "key"])
    return ResolvedSettings(table, unmatched)
