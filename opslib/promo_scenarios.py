"""Saved promotion scenarios: named plans kept in the workspace folder for colleagues.

A marketer who compares promotions in the Promotion simulator can save a
scenario under a name; anyone who opens the same data folder sees it listed and
can put it back into the comparison, recomputed on the page's common random
numbers. A saved scenario holds everything the page needs to recompute it
exactly: every field of its :class:`opslib.promo.PromotionPlan` (SKUs, window,
mechanic and terms, funding share, fixed fees, the realized unit discount of a
multi-unit offer), the category it was chosen from, whether it was the whole
category, the Monte Carlo draws and seed it was saved with, the last day of
data it was planned on, and who saved it when.

Two files live in the subfolder ``promotion_scenarios/`` of the workspace
folder:

- ``scenarios.json``: ``{"format": "opslib promotion scenarios", "version": 1,
  "scenarios": [entry, ...]}``, one entry per name (rewritten atomically on
  every save or delete);
- ``scenarios_log.csv``: append-only, one row per save or delete:
  ``changed_at`` (UTC, ISO 8601), ``changed_by``, ``action`` (``saved``,
  ``replaced``, ``deleted``), ``name``, ``plan`` (the entry's plan as JSON).

They live in a subfolder, not beside the tables, because the disk caches of
:mod:`opslib.data.cache` (and the promotion simulator's response cache) are
keyed on the files of the workspace folder: a file saved there would make every
page refit the demand response after each save. Subfolders are not part of
that key.

An entry that cannot be used (a SKU or category no longer in ``items``, a
field out of range, a hand edit gone wrong) is not dropped: :func:`load_scenarios`
reports it in ``problems`` with the reason and the fix, it stays in the file
through later saves, and :func:`delete_scenario` removes it by name. A file
that is not a scenarios file at all is refused with :class:`opslib.DataError`,
and nothing is written over it.

This module lives beside :mod:`opslib.plan_settings` rather than in
:mod:`opslib.promo` because it reads and writes files, which the engines never
do (DESIGN.md, layer 2).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from opslib.errors import DataError
from opslib.plan_settings import current_user, workspace_folder
from opslib.promo import PromotionPlan

try:  # POSIX: colleagues saving at the same moment take turns
    import fcntl
except ImportError:  # pragma: no cover - Windows: the atomic replace still keeps the file whole
    fcntl = None

__all__ = [
    "LOG_COLUMNS",
    "PLAN_FIELDS",
    "SCENARIOS_FILE",
    "SCENARIOS_FOLDER",
    "SCENARIOS_LOG_FILE",
    "SavedScenario",
    "SavedScenarios",
    "delete_scenario",
    "load_scenarios",
    "save_scenario",
    "scenarios_log",
    "scenarios_path",
]

SCENARIOS_FOLDER = "promotion_scenarios"
"""Subfolder of the workspace folder that holds the saved scenarios."""
SCENARIOS_FILE = "scenarios.json"
"""File name of the saved scenarios (in :data:`SCENARIOS_FOLDER`)."""
SCENARIOS_LOG_FILE = "scenarios_log.csv"
"""File name of the append-only log of saves and deletes (in :data:`SCENARIOS_FOLDER`)."""

FORMAT = "opslib promotion scenarios"
VERSION = 1

PLAN_FIELDS: tuple[str, ...] = (
    "skus", "start", "end", "mechanic", "depth", "threshold", "reward", "tiers", "flash_price", "stock_cap",
    "coupon_redemption", "points_breakage", "funding_share", "fixed_cost", "unit_discount")
"""The :class:`opslib.promo.PromotionPlan` fields an entry keeps (all but ``name``, which is the entry's)."""

LOG_COLUMNS = ["changed_at", "changed_by", "action", "name", "plan"]
MAX_NAME_LENGTH = 80
_TABLE = "promotion scenarios"
_LOG_ENCODING = "utf-8-sig"  # a BOM, so that Excel opens Chinese names correctly (as the settings log)


# ---------------------------------------------------------------------------- values


@dataclass(frozen=True)
class SavedScenario:
    """One saved scenario (immutable).

    Attributes
    ----------
    name : str
        Unique in the folder; also ``plan.name``.
    plan : opslib.promo.PromotionPlan
    category : str or None
        The category the SKUs were chosen from.
    whole_category : bool
        True when the plan was the whole category (``plan.skus`` then lists
        the category's SKUs when it was saved; they are what is recomputed).
    draws, seed : int
        The Monte Carlo draws and seed of the page it was saved from.
    data_through : pandas.Timestamp or None
        The last day of ``demand`` the plan was made on.
    saved_by : str
    saved_at : pandas.Timestamp
        UTC.
    """

    name: str
    plan: PromotionPlan
    category: str | None = None
    whole_category: bool = False
    draws: int = 2000
    seed: int = 0
    data_through: pd.Timestamp | None = None
    saved_by: str = "unknown"
    saved_at: pd.Timestamp | None = None


@dataclass(frozen=True)
class SavedScenarios:
    """Result of :func:`load_scenarios`.

    Attributes
    ----------
    scenarios : tuple of SavedScenario
        The usable entries, in the file's order.
    problems : pandas.DataFrame
        ``entry`` (1-based position in the file), ``name`` (None when the
        entry has none), ``problem`` (the rule broken and the fix): the entries
        that cannot be used. They stay in the file.
    path : pathlib.Path
        The scenarios file (it may not exist yet).
    """

    scenarios: tuple[SavedScenario, ...] = ()
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["entry", "name", "problem"]))
    path: Path | None = None

    def __len__(self) -> int:
        return len(self.scenarios)

    def names(self) -> list[str]:
        """The names of the usable entries."""
        return [s.name for s in self.scenarios]

    def get(self, name: str) -> SavedScenario:
        """The usable entry called ``name``.

        Raises
        ------
        opslib.DataError
            When no usable entry has that name.
        """
        for scenario in self.scenarios:
            if scenario.name == name:
                return scenario
        broken = self.problems[self.problems["name"] == name]
        if len(broken):
            raise DataError(f"{_TABLE}: scenario {name!r} cannot be used: {broken['problem'].iloc[0]}")
        raise DataError(f"{_TABLE}: no saved scenario is called {name!r}. Fix: pick one of "
                        f"{', '.join(map(repr, self.names())) or '(none saved)'}.")


def _fail(where: str, rule: str, value, fix: str) -> DataError:
    return DataError(f"{_TABLE}: {where}{rule}; got {value!r}. Fix: {fix}")


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise _fail("", "the name must be a non-empty text", name, "give the scenario a name, e.g. '618 snacks 20% off'.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LENGTH:
        raise _fail("", f"the name must be at most {MAX_NAME_LENGTH} characters", name, "shorten it.")
    return name


def _check_count(where: str, label: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < minimum:
        raise _fail(where, f"{label} must be a whole number >= {minimum}", value, f"write {label} as a whole number.")
    return int(value)


def _number(value):
    """A plan value as JSON keeps it: floats exactly (JSON numbers round-trip through repr), None as null."""
    if value is None:
        return None
    return float(value)


def _plan_entry(plan: PromotionPlan) -> dict:
    return {
        "skus": list(plan.skus), "start": f"{plan.start:%Y-%m-%d}", "end": f"{plan.end:%Y-%m-%d}",
        "mechanic": plan.mechanic, "depth": _number(plan.depth), "threshold": _number(plan.threshold),
        "reward": _number(plan.reward), "tiers": [[float(t.threshold), float(t.reward)] for t in plan.tiers],
        "flash_price": _number(plan.flash_price), "stock_cap": _number(plan.stock_cap),
        "coupon_redemption": float(plan.coupon_redemption), "points_breakage": float(plan.points_breakage),
        "funding_share": float(plan.funding_share), "fixed_cost": float(plan.fixed_cost),
        "unit_discount": _number(plan.unit_discount)}


def _entry(scenario: SavedScenario) -> dict:
    return {
        "name": scenario.name, "saved_by": scenario.saved_by,
        "saved_at": scenario.saved_at.isoformat() if scenario.saved_at is not None else None,
        "category": scenario.category, "whole_category": bool(scenario.whole_category),
        "draws": int(scenario.draws), "seed": int(scenario.seed),
        "data_through": f"{scenario.data_through:%Y-%m-%d}" if scenario.data_through is not None else None,
        "plan": _plan_entry(scenario.plan)}


def _timestamp(where: str, label: str, value, *, utc: bool = False) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise _fail(where, f"{label} must be a date", value, f"write {label} as YYYY-MM-DD.") from None
    if pd.isna(stamp):
        raise _fail(where, f"{label} must be a date", value, f"write {label} as YYYY-MM-DD.")
    if utc:
        return stamp.tz_convert(UTC) if stamp.tzinfo else stamp.tz_localize(UTC)
    return stamp.normalize()


def _scenario(entry, where: str, items: pd.DataFrame | None) -> SavedScenario:
    """One entry of the file, checked (against ``items`` when given)."""
    if not isinstance(entry, dict):
        raise _fail(where, "an entry must be an object with a name and a plan", type(entry).__name__,
                    "delete the entry or restore the file.")
    name = _check_name(entry.get("name"))
    plan_entry = entry.get("plan")
    if not isinstance(plan_entry, dict):
        raise _fail(where, "'plan' must be an object of plan fields", plan_entry, "save the scenario again.")
    unknown = sorted(set(plan_entry) - set(PLAN_FIELDS))
    if unknown:
        raise _fail(where, f"the plan fields must be among {', '.join(PLAN_FIELDS)}", unknown,
                    "remove those fields or save the scenario again.")
    for key in ("skus", "start", "end"):
        if key not in plan_entry:
            raise _fail(where, f"the plan needs {key!r}", sorted(plan_entry), "save the scenario again.")
    skus = plan_entry["skus"]
    if not isinstance(skus, list) or not all(isinstance(s, str) for s in skus):
        raise _fail(where, "'skus' must be a list of SKU codes", skus, "save the scenario again.")
    for key in PLAN_FIELDS:
        value = plan_entry.get(key)
        if key in ("skus", "start", "end", "mechanic", "tiers") or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise _fail(where, f"{key!r} must be a finite number or null", value, f"correct {key} or save again.")
    tiers = plan_entry.get("tiers") or []
    if not isinstance(tiers, list) or not all(isinstance(t, list) and len(t) == 2 for t in tiers):
        raise _fail(where, "'tiers' must be a list of [threshold, reward] pairs", tiers, "save the scenario again.")
    if not isinstance(plan_entry.get("mechanic", "percent_off"), str):
        raise _fail(where, "'mechanic' must be a text", plan_entry["mechanic"], "save the scenario again.")
    values = {k: plan_entry[k] for k in PLAN_FIELDS if k in plan_entry and k not in ("start", "end", "tiers")}
    values["tiers"] = tuple(tuple(t) for t in tiers)
    try:
        plan = PromotionPlan(start=_timestamp(where, "start", plan_entry["start"]),
                             end=_timestamp(where, "end", plan_entry["end"]), name=name, **values)
    except (DataError, TypeError, ValueError) as exc:
        raise DataError(f"{_TABLE}: {where}the plan is refused: {exc}") from None
    category = entry.get("category")
    if category is not None and not isinstance(category, str):
        raise _fail(where, "'category' must be a text or null", category, "save the scenario again.")
    whole = entry.get("whole_category", False)
    if not isinstance(whole, bool):
        raise _fail(where, "'whole_category' must be true or false", whole, "save the scenario again.")
    if whole and category is None:
        raise _fail(where, "a whole-category scenario needs its 'category'", category, "save the scenario again.")
    draws = _check_count(where, "draws", entry.get("draws", 2000), 1)
    seed = _check_count(where, "seed", entry.get("seed", 0), 0)
    if items is not None:
        known = set(items["sku"].astype(str))
        missing = [s for s in plan.skus if s not in known]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise DataError(f"{_TABLE}: {where}SKU(s) {shown} are not in the items table of this workspace. "
                            "Fix: delete the scenario, or save it again with SKUs the shop still lists.")
        if category is not None:
            categories = set(items["category"].dropna().astype(str)) if "category" in items.columns else set()
            if category not in categories:
                raise DataError(f"{_TABLE}: {where}category {category!r} is not in the items table of this "
                                "workspace. Fix: delete the scenario, or save it again from a listed category.")
    saved_by = entry.get("saved_by") or "unknown"
    return SavedScenario(name=name, plan=plan, category=category, whole_category=whole, draws=draws, seed=seed,
                         data_through=_timestamp(where, "data_through", entry.get("data_through")),
                         saved_by=str(saved_by), saved_at=_timestamp(where, "saved_at", entry.get("saved_at"), utc=True))


# ---------------------------------------------------------------------------- files


def _folder(folder) -> Path:
    return workspace_folder(folder, "saved promotion scenarios", "load the shop with opslib.load_workspace(folder) "
                            "so that scenarios can be saved beside its tables")


def scenarios_path(folder) -> Path:
    """The scenarios file of a workspace folder (``<folder>/promotion_scenarios/scenarios.json``)."""
    return _folder(folder) / SCENARIOS_FOLDER / SCENARIOS_FILE


def _read_entries(path: Path) -> list:
    """The raw entries of the file (empty when there is none); a file that is not one is refused."""
    if not path.exists():
        return []
    fix = ("Fix: restore the file from a backup, correct it by hand, or move it away; the page then starts with "
           "no saved scenarios and saves a new file.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable scenarios file ({exc}). {fix}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("scenarios"), list):
        raise DataError(f"{path}: not a promotion scenarios file: it must be a JSON object with "
                        f"\"format\": \"{FORMAT}\" and a \"scenarios\" list. {fix}")
    if not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise DataError(f"{path}: version {data.get('version')!r} is not one this opslib reads (up to {VERSION}). "
                        "Fix: update opslib on this machine.")
    return data["scenarios"]


def load_scenarios(folder, items: pd.DataFrame | None = None) -> SavedScenarios:
    """The scenarios saved in a workspace folder (none when it has no file).

    Parameters
    ----------
    folder : str or os.PathLike
        The workspace folder (``Workspace.path``).
    items : pandas.DataFrame, optional
        The workspace's ``items``: an entry naming a SKU or category it does not
        list is reported in ``problems`` (not dropped, not raised).

    Returns
    -------
    SavedScenarios

    Raises
    ------
    opslib.DataError
        When the file is not a scenarios file (broken JSON, another format):
        the file, what is wrong and the fix.
    """
    path = scenarios_path(folder)
    entries = _read_entries(path)
    scenarios, problems, seen = [], [], set()
    for k, entry in enumerate(entries, start=1):
        name = entry.get("name") if isinstance(entry, dict) and isinstance(entry.get("name"), str) else None
        where = f"entry {k}" + (f" ({name!r})" if name else "") + ": "
        try:
            scenario = _scenario(entry, where, items)
            if scenario.name in seen:
                raise _fail(where, "the name must appear once", scenario.name, "rename or delete one of the two.")
            seen.add(scenario.name)
            scenarios.append(scenario)
        except DataError as exc:
            problems.append({"entry": k, "name": name, "problem": str(exc).removeprefix(f"{_TABLE}: ")})
    frame = pd.DataFrame({"entry": pd.Series([p["entry"] for p in problems], dtype=int),
                          "name": pd.Series([p["name"] for p in problems], dtype=object),
                          "problem": pd.Series([p["problem"] for p in problems], dtype=object)})
    return SavedScenarios(tuple(scenarios), frame, path)


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold the folder's lock while the file is read, changed and written (no-op without fcntl)."""
    folder.mkdir(exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path`` (a reader never sees half).

    As :mod:`opslib.plan_settings` does, but in plain UTF-8: a byte order mark is not allowed in JSON.
    """
    temporary = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="\n", dir=path.parent,
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False) as handle:
            temporary = handle.name
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise


def _write_entries(path: Path, entries: list) -> None:
    text = json.dumps({"format": FORMAT, "version": VERSION, "scenarios": entries}, ensure_ascii=False, indent=1)
    _write_atomic(path, text + "\n")


def _stamp(now: datetime | None) -> pd.Timestamp:
    stamp = now or datetime.now(UTC)
    stamp = stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return pd.Timestamp(stamp.replace(microsecond=0))


def _log(folder: Path, stamp: pd.Timestamp, who: str, action: str, name: str, plan: dict | None) -> None:
    log_path = folder / SCENARIOS_LOG_FILE
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if not log_path.exists() or log_path.stat().st_size == 0:
        writer.writerow(LOG_COLUMNS)
    writer.writerow([stamp.isoformat(), who, action, name,
                     json.dumps(plan, ensure_ascii=False, separators=(",", ":")) if plan is not None else ""])
    with open(log_path, "a", encoding=_LOG_ENCODING, newline="") as handle:  # one write: append-only
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())


def _who(user) -> str:
    return current_user() if user is None else str(user).strip() or "unknown"


def save_scenario(folder, name: str, plan: PromotionPlan, *, category: str | None = None,
                  whole_category: bool = False, draws: int = 2000, seed: int = 0, data_through=None,
                  replace: bool = False, user: str | None = None, now: datetime | None = None) -> SavedScenario:
    """Save a plan under a name in the workspace folder, and log who saved it when.

    The scenarios file is replaced atomically (a temporary file in the same
    folder, then renamed) under a lock, so colleagues saving at the same
    moment take turns and a reader never sees half a file. Entries that
    :func:`load_scenarios` reports as problems are kept as they are.

    Parameters
    ----------
    folder : str or os.PathLike
        The workspace folder.
    name : str
        The scenario's name (white space collapsed; at most 80 characters).
    plan : opslib.promo.PromotionPlan
        The plan (its own ``name`` is replaced by ``name``).
    category : str, optional
        The category its SKUs were chosen from.
    whole_category : bool, default False
    draws, seed : int
        The Monte Carlo draws and seed it was simulated with.
    data_through : date-like, optional
        The last day of data it was planned on.
    replace : bool, default False
        Replace a scenario of the same name; without it that is refused.
    user : str, optional
        Who saves; default :func:`opslib.plan_settings.current_user`.
    now : datetime, optional
        When; default the current time (stored in UTC).

    Returns
    -------
    SavedScenario
        As saved.

    Raises
    ------
    opslib.DataError
        An empty or too long name, a name already saved (without ``replace``),
        a value out of range, or a scenarios file that is not one.
    """
    if not isinstance(plan, PromotionPlan):
        raise _fail("", "plan must be an opslib.promo.PromotionPlan", type(plan).__name__,
                    "build one with opslib.promo.PromotionPlan(skus, start, end, ...).")
    name = _check_name(name)
    if category is not None and (not isinstance(category, str) or not category.strip()):
        raise _fail("", "category must be a non-empty text or None", category, "pass the category's name.")
    if whole_category and category is None:
        raise _fail("", "a whole-category scenario needs its category", category, "pass category=.")
    from dataclasses import replace as replaced

    stamp = _stamp(now)
    scenario = SavedScenario(
        name=name, plan=replaced(plan, name=name), category=category, whole_category=bool(whole_category),
        draws=_check_count("", "draws", draws, 1), seed=_check_count("", "seed", seed, 0),
        data_through=_timestamp("", "data_through", data_through), saved_by=_who(user), saved_at=stamp)
    base = _folder(folder)
    with _locked(base / SCENARIOS_FOLDER):
        path = base / SCENARIOS_FOLDER / SCENARIOS_FILE
        entries = _read_entries(path)
        same = [k for k, e in enumerate(entries) if isinstance(e, dict) and e.get("name") == name]
        if same and not replace:
            old = entries[same[0]]
            raise DataError(f"{_TABLE}: a scenario named {name!r} is saved already (by {old.get('saved_by')}, "
                            f"{old.get('saved_at')}). Fix: choose another name, or delete that one first.")
        entry = _entry(scenario)
        if same:
            entries[same[0]] = entry
            entries = [e for k, e in enumerate(entries) if k not in same[1:]]
        else:
            entries.append(entry)
        _write_entries(path, entries)
        _log(path.parent, stamp, scenario.saved_by, "replaced" if same else "saved", name, entry["plan"])
    return scenario


def delete_scenario(folder, name: str, *, user: str | None = None, now: datetime | None = None) -> None:
    """Delete the scenario called ``name`` (usable or not) from the workspace folder, and log it.

    Raises
    ------
    opslib.DataError
        When no entry has that name, or the scenarios file is not one.
    """
    base = _folder(folder)
    with _locked(base / SCENARIOS_FOLDER):
        path = base / SCENARIOS_FOLDER / SCENARIOS_FILE
        entries = _read_entries(path)
        keep = [e for e in entries if not (isinstance(e, dict) and e.get("name") == name)]
        if len(keep) == len(entries):
            names = [e.get("name") for e in entries if isinstance(e, dict)]
            raise DataError(f"{_TABLE}: no saved scenario is called {name!r}. Fix: pick one of "
                            f"{', '.join(map(repr, names)) or '(none saved)'}.")
        gone = next(e for e in entries if isinstance(e, dict) and e.get("name") == name)
        _write_entries(path, keep)
        plan = gone.get("plan") if isinstance(gone.get("plan"), dict) else None
        _log(path.parent, _stamp(now), _who(user), "deleted", name, plan)


def scenarios_log(folder) -> pd.DataFrame:
    """Who saved or deleted which scenario and when: the log of a workspace folder, oldest first.

    Returns
    -------
    pandas.DataFrame
        ``changed_at`` (UTC timestamps), ``changed_by``, ``action``
        (``saved``, ``replaced``, ``deleted``), ``name``, ``plan`` (JSON text).
    """
    path = _folder(folder) / SCENARIOS_FOLDER / SCENARIOS_LOG_FILE
    if not path.exists():
        return pd.DataFrame(columns=LOG_COLUMNS)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=_LOG_ENCODING)
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True)
    return frame[LOG_COLUMNS]
