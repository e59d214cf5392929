"""Frequency and season length of a series, inferred from its dates."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = ["Frequency", "infer_frequency", "SEASON_LENGTHS"]

SEASON_LENGTHS: dict[str, int] = {"daily": 7, "weekly": 52, "monthly": 12, "quarterly": 4, "yearly": 1}
"""Season length [periods] per frequency name: a week of days, a year of weeks, months or quarters."""

# median spacing of consecutive dates [days] -> frequency name
_SPACING_DAYS = (("daily", 1, 1), ("weekly", 7, 7), ("monthly", 28, 31), ("quarterly", 89, 92),
                 ("yearly", 365, 366))


class Frequency(NamedTuple):
    """The time base of a panel.

    Attributes
    ----------
    name : str
        ``"daily"``, ``"weekly"``, ``"monthly"``, ``"quarterly"`` or ``"yearly"``.
    season_length : int
        Periods per season (7, 52, 12, 4, 1).
    offset : pandas.DateOffset
        The step between two consecutive dates (anchored: month start or month end, ...).
    """

    name: str
    season_length: int
    offset: pd.DateOffset


def infer_frequency(dates) -> Frequency:
    """Frequency and season length from a set of dates.

    Parameters
    ----------
    dates : array-like of datetime
        Dates of one or several series (duplicates and order do not matter).

    Returns
    -------
    Frequency
        Daily (season 7), weekly (52), monthly (12), quarterly (4) or yearly (1).

    Raises
    ------
    opslib.DataError
        With fewer than two distinct dates, or when the spacing is none of these.

    Notes
    -----
    The median spacing of consecutive distinct dates decides the frequency; the
    anchor (month start or end, week day, quarter start or end) comes from the
    dates themselves (``pandas.infer_freq`` on the distinct dates when it can, else the
    anchor of the last date), so that future dates continue the same calendar.
    """
    unique = pd.DatetimeIndex(pd.unique(pd.to_datetime(pd.Series(dates)).dropna())).sort_values()
    if len(unique) < 2:
        raise DataError(
            f"demand.date: at least two distinct dates are needed to infer the frequency, got {len(unique)}. "
            "Fix: pass more history or give season_length and a longer series."
        )
    seconds = unique.values.astype("datetime64[s]").astype(np.int64)
    spacing = float(np.median(np.diff(seconds)) / 86_400)
    name = next((n for n, lo, hi in _SPACING_DAYS if lo - 0.5 <= spacing <= hi + 0.5), None)
    if name is None:
        raise DataError(
            f"demand.date: the median spacing of the dates is {spacing:g} days, which is not daily, weekly, "
            "monthly, quarterly or yearly. Fix: aggregate the table to one of these frequencies."
        )
    last = unique[-1]
    if name == "daily":
        offset = pd.offsets.Day(1)
    elif name == "weekly":
        offset = pd.offsets.Week(1, weekday=last.weekday())
    elif name == "monthly":
        offset = pd.offsets.MonthBegin(1) if last.day == 1 else (
            pd.offsets.MonthEnd(1) if last.is_month_end else pd.DateOffset(months=1))
    elif name == "quarterly":
        offset = pd.offsets.QuarterBegin(1, startingMonth=last.month) if last.day == 1 else (
            pd.offsets.QuarterEnd(1, startingMonth=last.month) if last.is_month_end else pd.DateOffset(months=3))
    else:
        offset = pd.offsets.YearBegin(1, month=last.month) if last.day == 1 and last.month == 1 else (
            pd.offsets.YearEnd(1, month=last.month) if last.is_month_end and last.month == 12 else pd.DateOffset(years=1))
    return Frequency(name, SEASON_LENGTHS[name], offset)


def future_dates(last, horizon: int, frequency: Frequency) -> pd.DatetimeIndex:
    """The ``horizon`` dates following ``last`` at ``frequency``."""
    return pd.DatetimeIndex([pd.Timestamp(last) + frequency.offset * k for k in range(1, horizon + 1)])
