"""Long tables <-> a SKU x time array (NaN for periods without an observation)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from opslib.errors import DataError
from opslib.forecast.frequency import Frequency, infer_frequency

__all__ = ["Panel", "to_panel", "from_panel"]


class Panel(NamedTuple):
    """Series of many SKUs on one time grid.

    Attributes
    ----------
    values : numpy.ndarray, shape (n_skus, n_periods)
        The value per SKU and period; NaN before a SKU's first row, after its
        last, on dates without a row and on censored periods.
    skus : pandas.Index
        SKU of each row, sorted.
    dates : pandas.DatetimeIndex
        Date of each column: the full grid from the first to the last date.
    frequency : Frequency
        Time base of the grid.
    censored : numpy.ndarray of bool, shape (n_skus, n_periods)
        True where a row existed but was censored (``in_stock`` False) and is NaN for that reason.
    """

    values: np.ndarray
    skus: pd.Index
    dates: pd.DatetimeIndex
    frequency: Frequency
    censored: np.ndarray


def to_panel(frame: pd.DataFrame, *, value: str = "units", censor: bool = True,
             frequency: Frequency | None = None) -> Panel:
    """Pivot a long table (``sku, date, <value>``) to a SKU x period array.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``sku``, ``date`` and ``value``; ``in_stock`` used when present.
    value : str, default "units"
        Column holding the values [units/period].
    censor : bool, default True
        Treat periods with ``in_stock`` False as missing (NaN): demand was not
        observed on a stock-out day, only the sales it allowed. ``in_stock``
        missing (unknown) counts as observed.
    frequency : Frequency, optional
        Inferred from the dates when not given.

    Returns
    -------
    Panel

    Raises
    ------
    opslib.DataError
        When a column is missing, a ``(sku, date)`` pair repeats, or a date is off the frequency's grid.
    """
    missing = [c for c in ("sku", "date", value) if c not in frame.columns]
    if missing:
        raise DataError(f"demand: column(s) {missing} are required and missing; columns seen: "
                        f"{list(frame.columns)}. Fix: pass the canonical demand table (sku, date, units).")
    dates = pd.to_datetime(frame["date"])
    if frequency is None:
        frequency = infer_frequency(dates)
    first, last = dates.min(), dates.max()
    grid = pd.date_range(first, last, freq=frequency.offset) if frequency.name != "daily" else pd.date_range(
        first, last, freq="D")
    if len(grid) == 0 or grid[0] != first:
        grid = pd.DatetimeIndex([first]).append(grid[grid > first])
    col = grid.get_indexer(dates)
    codes, skus = pd.factorize(frame["sku"], sort=True)
    dup = _repeated(codes, col, len(grid))
    if dup.any():
        rows = frame.loc[dup, ["sku", "date"]].head(5).to_dict("records")
        raise DataError(f"demand: (sku, date) must be unique; {int(dup.sum())} repeated rows, e.g. {rows}. "
                        "Fix: aggregate the table to one row per SKU and date.")
    if (col < 0).any():
        bad = frame.loc[col < 0, ["sku", "date"]].head(5).to_dict("records")
        raise DataError(f"demand.date: {int((col < 0).sum())} dates are off the {frequency.name} grid that starts "
                        f"on {first.date()}, e.g. {bad}. Fix: align all dates to the same anchor "
                        "(for example month start).")
    values = np.full((len(skus), len(grid)), np.nan)
    values[codes, col] = frame[value].to_numpy(dtype=float)
    censored = np.zeros(values.shape, dtype=bool)
    if censor and "in_stock" in frame.columns:
        out = (frame["in_stock"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712 (nullable)
        censored[codes[out], col[out]] = True
        values[censored] = np.nan
    return Panel(values, pd.Index(skus, name="sku"), grid, frequency, censored)


def _repeated(codes: np.ndarray, col: np.ndarray, width: int) -> np.ndarray:
    """True for each row that repeats the (SKU code, grid column) of an earlier row, as
    ``DataFrame.duplicated`` (rows off the grid or without a SKU: False).

    The cell number code x width + column of each row is checked for a strict increase (a table
    sorted by SKU and date, the usual case: one pass, no sort), else sorted once and compared with
    its neighbour; only when a repeat exists are the rows located.
    """
    on_grid = (col >= 0) & (codes >= 0)
    cell = codes[on_grid].astype(np.int64) * width + col[on_grid]
    repeated = np.zeros(len(codes), dtype=bool)
    if len(cell) < 2 or bool(np.all(cell[1:] > cell[:-1])):
        return repeated
    ordered = np.sort(cell)
    if not bool(np.any(ordered[1:] == ordered[:-1])):
        return repeated
    repeated[on_grid] = pd.Series(cell).duplicated().to_numpy()
    return repeated


def from_panel(values: np.ndarray, skus, dates, *, name: str = "units") -> pd.DataFrame:
    """Back to a long table: one row per SKU and date from its first to its last observed period.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_skus, n_periods)
    skus : sequence, length n_skus
    dates : sequence of datetime, length n_periods
    name : str, default "units"
        Name of the value column.

    Returns
    -------
    pandas.DataFrame
        Columns ``sku, date, <name>``, sorted by SKU and date. The NaN padding
        before a SKU's first and after its last non-NaN value is dropped;
        NaN inside that span is kept (a missing or censored period).
    """
    values = np.asarray(values, dtype=float)
    observed = ~np.isnan(values)
    t = np.arange(values.shape[1])
    start = np.where(observed.any(axis=1), np.argmax(observed, axis=1), values.shape[1])
    end = values.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
    keep = (t >= start[:, None]) & (t <= end[:, None])
    rows, cols = np.nonzero(keep)
    return pd.DataFrame({"sku": np.asarray(skus, dtype=object)[rows],
                         "date": pd.DatetimeIndex(dates)[cols],
                         name: values[rows, cols]})


def right_align(values: np.ndarray) -> np.ndarray:
    """Drop every NaN of each row and right-align what remains (NaN on the left).

    The array of each row's observed values in order, ending in the last column:
    models that ignore censored periods and aggregate from the end use it.
    """
    observed = ~np.isnan(values)
    n_obs = observed.sum(axis=1)
    width = max(int(n_obs.max(initial=0)), 1)
    out = np.full((values.shape[0], width), np.nan)
    rows, cols = np.nonzero(observed)
    rank = np.cumsum(observed, axis=1)[rows, cols] - 1
    out[rows, width - n_obs[rows] + rank] = values[rows, cols]
    return out
