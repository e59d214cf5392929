"""A disk cache of loaded workspaces, so that apps open fast on unchanged data.

Loading a shop means parsing its files, coercing dtypes, validating every rule and
deriving the daily demand table: seconds for the demo shop, more for a large one.
Apps load the same folder every time a page opens, so the loaded workspace is kept as a
pickle under ``$OPSLIB_CACHE_DIR`` (default ``$XDG_CACHE_HOME/opslib`` or
``~/.cache/opslib``), keyed by the folder, the loading options, the name, size and
modification time of every file in it, and the opslib code that loads it. Any change to
the data or to that code makes a new key. ``OPSLIB_NO_CACHE=1`` turns the cache off.

The cache is an optimization only: when it cannot be read or written, the workspace is
loaded from the files as if there were no cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["cache_dir", "cached_load"]

_CODE = Path(__file__).resolve().parent  # opslib/data: the code that loads and derives


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is turned off."""
    if os.environ.get("OPSLIB_NO_CACHE", "").strip() not in ("", "0"):
        return None
    explicit = os.environ.get("OPSLIB_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "opslib"


#: Files of a data folder that are not tables: the saved replenishment settings and their log
#: (:mod:`opslib.plan_settings`), read when a plan uses them. Saving settings must not make the
#: next opening load, validate and derive the whole shop again.
NOT_TABLES = ("replenishment_settings",)


def table_files(path: Path) -> list[Path]:
    """The files of a data folder (or the file) whose content the loaded workspace depends on.

    Every file directly in the folder except :data:`NOT_TABLES`; subfolders (saved promotion
    scenarios) do not count.
    """
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(NOT_TABLES))


def _stamp(path: Path) -> list[tuple[str, int, int]]:
    files = table_files(path)
    out = []
    for f in files:
        st = f.stat()
        out.append((f.name, st.st_size, st.st_mtime_ns))
    return out


def _key(path: Path, options: object) -> str:
    code = [(p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(_CODE.glob("*.py"))]
    text = repr((str(path.resolve()), options, _stamp(path), code))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached_load(path: Path, options: object, load: Callable[[], object]) -> object:
    """``load()``, or its result kept from an earlier call on the same files and options.

    Parameters
    ----------
    path : pathlib.Path
        The data folder (or workbook) the result is loaded from.
    options : object
        Everything else the result depends on (its ``repr`` goes into the key).
    load : callable
        Loads the result from the files; only results that load without an exception
        are kept.
    """
    folder = cache_dir()
    if folder is None or not path.exists():
        return load()
    try:
        key = _key(path, options)
    except OSError:
        return load()
    file = folder / f"workspace-{key}.pkl"
    try:
        with open(file, "rb") as f:
            return pickle.load(f)
    except Exception:  # a missing, stale-format or corrupt entry: load from the files
        pass
    result = load()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("workspace-*.pkl"):
            if old.stat().st_mtime < _oldest_kept():
                old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as tmp:
            pickle.dump(result, tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp.name, file)  # atomic: a concurrent reader never sees half a file
    except OSError:
        pass
    return result


def _oldest_kept() -> float:
    """Entries older than a week are removed when a new one is written."""
    import time

    return time.time() - 7 * 24 * 3600
