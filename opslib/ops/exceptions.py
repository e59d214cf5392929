"""Stock exceptions: dead, slow and excess stock with its value, cover and a proposed action.

The list operations and marketing act on: dead and slow stock are clearance
promotion candidates, excess stock is a reason to pause replenishment.

Classification of a SKU with stock on hand on the ``as_of`` day (the most
severe class wins):

- ``dead``: no unit sold in the last ``dead_days`` days (or never sold);
- ``slow``: weeks of cover above ``slow_weeks``;
- ``excess``: weeks of cover above ``excess_weeks``;
- ``ok`` otherwise.

Weeks of cover are the on-hand units over the average weekly sales of the
last ``lookback_days`` days:

.. math:: \\text{weeks of cover} = \\frac{\\text{on hand}}{7 \\, \\bar d}

with :math:`\\bar d` the mean daily units sold over the lookback window
(infinite without sales).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opslib.data import health
from opslib.data.workspace import Workspace
from opslib.ops._common import check_workspace, number, require, sku_categories, to_day, unit_costs
from opslib.ops.kpis import _sales_lines

__all__ = ["ACTIONS", "stock_exceptions"]

#: The proposed action per class, in words.
ACTIONS: dict[str, str] = {
    "dead": "clearance promotion or return to supplier; stop ordering",
    "slow": "clearance promotion candidate; order only against firm demand",
    "excess": "pause replenishment until cover is back to target",
    "ok": "",
}


def stock_exceptions(
    ws: Workspace,
    as_of: str | pd.Timestamp | None = None,
    lookback_days: int = 90,
    dead_days: int = 90,
    slow_weeks: float = 26.0,
    excess_weeks: float = 12.0,
    include_ok: bool = False,
) -> pd.DataFrame:
    """Dead, slow and excess stock on one day, with stock value and weeks of cover.

    Parameters
    ----------
    ws : Workspace
        The shop's tables: ``stock``, ``items`` (``unit_cost``) and
        ``order_lines`` are required.
    as_of : date-like, optional
        The day whose end-of-day stock is classified; default the last day in
        ``stock``.
    lookback_days : int, default 90
        Sales window for the average weekly sales [days], ending on ``as_of``.
    dead_days : int, default 90
        No sale in this many days up to ``as_of`` makes stock dead [days].
    slow_weeks : float, default 26
        Weeks of cover above which stock is slow [weeks].
    excess_weeks : float, default 12
        Target cover: weeks of cover above it are excess [weeks].
    include_ok : bool, default False
        Also return the SKUs in stock that are not exceptions.

    Returns
    -------
    pandas.DataFrame
        One row per SKU with stock on hand (> 0), sorted by class severity
        then by stock value (largest first): ``sku``, ``name``, ``category``,
        ``status`` (items), ``on_hand_units`` [units], ``stock_value``
        [currency, at unit cost], ``weekly_units`` [units/week],
        ``weeks_of_cover`` [weeks], ``last_sale_date``,
        ``days_since_last_sale`` [days], ``excess_units`` (above
        ``excess_weeks`` of cover) [units], ``excess_value`` [currency],
        ``exception`` (``dead``, ``slow``, ``excess`` or ``ok``) and ``action``.

    Raises
    ------
    opslib.DataError
        If a table or column is missing.
    """
    check_workspace(ws, "stock_exceptions")
    for name, value in (("lookback_days", lookback_days), ("dead_days", dead_days)):
        if value <= 0:
            raise ValueError(f"{name} must be positive; got {value!r}")
    if not 0 <= excess_weeks <= slow_weeks:
        raise ValueError(f"need 0 <= excess_weeks <= slow_weeks; got {excess_weeks!r} and {slow_weeks!r}")
    stock = require(ws, "stock", ["sku", "date", "on_hand"], "stock_exceptions")
    items = require(ws, "items", ["sku", "unit_cost"], "stock_exceptions")
    require(ws, "order_lines", ["order_ts", "sku", "qty", "paid_amount"], "stock_exceptions")

    days = to_day(stock["date"])
    day = days.max() if as_of is None else pd.Timestamp(as_of).normalize()
    on_day = pd.DataFrame({"sku": stock["sku"].astype("str").array, "on_hand": number(stock["on_hand"])})
    on_day = on_day[(days == day).to_numpy()].groupby("sku")["on_hand"].sum()
    on_day = on_day[on_day > 0]

    weekly, last_sale = _recent_sales(ws, items, day, lookback_days)

    out = pd.DataFrame({"sku": on_day.index.astype("str"), "on_hand_units": on_day.to_numpy()})
    cost = out["sku"].map(unit_costs(items)).astype(float)
    out["stock_value"] = out["on_hand_units"] * cost
    out["weekly_units"] = out["sku"].map(weekly).fillna(0.0).astype(float)
    with np.errstate(divide="ignore"):
        out["weeks_of_cover"] = np.where(out["weekly_units"] > 0, out["on_hand_units"] / out["weekly_units"], np.inf)
    out["last_sale_date"] = pd.to_datetime(out["sku"].map(last_sale))
    out["days_since_last_sale"] = (day - out["last_sale_date"]).dt.days.astype(float)
    target = excess_weeks * out["weekly_units"]
    out["excess_units"] = (out["on_hand_units"] - target).clip(lower=0.0)
    out["excess_value"] = out["excess_units"] * cost
    dead = out["last_sale_date"].isna() | (out["days_since_last_sale"] >= dead_days)
    exception = np.select(
        [dead, out["weeks_of_cover"] > slow_weeks, out["weeks_of_cover"] > excess_weeks],
        ["dead", "slow", "excess"],
        default="ok",
    )
    out["exception"] = exception
    out["action"] = out["exception"].map(ACTIONS)
    labels = items.drop_duplicates("sku").set_index(items.drop_duplicates("sku")["sku"].astype("str"))
    for col in ("name", "status"):
        out[col] = out["sku"].map(labels[col]) if col in labels.columns else pd.NA
    categories = sku_categories(items)
    out["category"] = out["sku"].map(categories) if len(categories) else pd.NA
    if not include_ok:
        out = out[out["exception"] != "ok"]
    severity = out["exception"].map({"dead": 0, "slow": 1, "excess": 2, "ok": 3})
    out = out.assign(_severity=severity).sort_values(["_severity", "stock_value", "sku"], ascending=[True, False, True])
    cols = [
        "sku", "name", "category", "status", "on_hand_units", "stock_value", "weekly_units", "weeks_of_cover",
        "last_sale_date", "days_since_last_sale", "excess_units", "excess_value", "exception", "action",
    ]
    out = out[cols].reset_index(drop=True)
    out.attrs["as_of"] = day
    return out


def _recent_sales(ws: Workspace, items: pd.DataFrame, day: pd.Timestamp, lookback_days: int) -> tuple[pd.Series, pd.Series]:
    """Weekly units over the lookback window and the last day with sales, by SKU.

    The figures of :func:`opslib.data.health.daily_sales` (units summed per SKU
    and day), computed from the memoized per-line sales frame of
    :mod:`opslib.ops.kpis` with integer SKU and day codes: no text grouping
    over the order lines.
    """
    lines = ws.order_lines
    if not len(lines):  # no order lines: daily_sales falls back to the demand table
        sales = health.daily_sales(ws)
        sales = sales[sales["date"] <= day]
        window = sales[sales["date"] > day - pd.Timedelta(days=lookback_days)]
        weekly = window.groupby("sku")["units"].sum() / lookback_days * 7.0
        return weekly, sales[sales["units"] > 0].groupby("sku")["date"].max()
    base, _, skus, _ = _sales_lines(ws, lines, items, unit_costs(items), sku_categories(items))
    days = base["day"].to_numpy()
    upto = days <= day.to_datetime64()
    code = base["_sku"].to_numpy()[upto]
    days = days[upto].astype("datetime64[ns]")
    units = base["units"].to_numpy()[upto]
    first = days.min() if len(days) else np.datetime64(day, "ns")
    offset = (days - first).astype("timedelta64[D]").astype(np.int64)
    n_days = int(offset.max()) + 1 if len(offset) else 1
    per_day = pd.Series(units).groupby(code * n_days + offset).sum()  # units per SKU and day
    key = per_day.index.to_numpy()
    sku_of, day_of = key // n_days, first + (key % n_days).astype("timedelta64[D]")
    recent = day_of > (day - pd.Timedelta(days=lookback_days)).to_datetime64()
    weekly = per_day[recent].groupby(sku_of[recent]).sum() / lookback_days * 7.0
    weekly.index = skus[weekly.index.to_numpy()]
    sold = per_day.to_numpy() > 0
    last = pd.Series(day_of[sold]).groupby(sku_of[sold]).max()
    last.index = skus[last.index.to_numpy()]
    return weekly, last
