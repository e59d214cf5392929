"""Sales and stock KPIs per period, overall or by category or channel.

Pure functions over a :class:`~opslib.data.Workspace`: no widgets, no files,
no printing. ``kpis`` gives the headline numbers an online shop's operations
team follows (GMV, orders, units, average order value 客单价, conversion,
returns, gross margin, stock-outs, inventory turnover and days of cover);
``repurchase_rate`` the share of customers who come back.

Which tables are needed
-----------------------
``order_lines`` (``order_id``, ``order_ts``, ``sku``, ``qty``, ``paid_amount``)
and ``items`` (``sku``, ``unit_cost``) are required. ``returns``, ``traffic``
and ``stock`` are optional: without them the measures they feed are NaN and
``frame.attrs["notes"]`` says why. Nothing is dropped silently: every row
that cannot be placed is counted in a note.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from opslib.data import health
from opslib.data.workspace import Workspace
from opslib.ops._common import (
    FREQUENCIES,
    UNASSIGNED,
    check_choice,
    check_workspace,
    label,
    label_codes,
    lookup_labels,
    lookup_numbers,
    memoized,
    number,
    positions,
    require,
    sku_categories,
    to_day,
    to_period,
    unit_costs,
)

__all__ = ["ADDITIVE_MEASURES", "KPI_COLUMNS", "kpis", "repurchase_rate"]

#: Measures whose per-category and per-channel rows add up to the overall
#: figure. ``orders`` adds up across channels (an order has one channel) but
#: not across categories (an order can hold several categories). Stock
#: measures exist overall and by category only (stock is not per channel).
ADDITIVE_MEASURES: tuple[str, ...] = (
    "gmv",
    "units",
    "returned_units",
    "cogs",
    "gross_margin",
    "sku_days",
    "stockout_days",
    "avg_inventory_value",
)

#: The measure columns of :func:`kpis`, in order (after ``period`` and the
#: breakdown column).
KPI_COLUMNS: tuple[str, ...] = (
    "gmv",
    "orders",
    "units",
    "average_order_value",
    "sessions",
    "conversion_rate",
    "returned_units",
    "return_rate",
    "cogs",
    "gross_margin",
    "margin_rate",
    "sku_days",
    "stockout_days",
    "stockout_rate",
    "avg_inventory_value",
    "inventory_turnover",
    "days_of_cover",
)

_SALES_COLUMNS = ["order_id", "order_ts", "sku", "qty", "paid_amount"]


def kpis(ws: Workspace, freq: str = "M", by: str | None = None) -> pd.DataFrame:
    """Sales, return, margin and stock KPIs per period.

    Parameters
    ----------
    ws : Workspace
        The shop's tables: ``order_lines`` and ``items`` (with ``unit_cost``)
        are required; ``returns``, ``traffic`` and ``stock`` are used when
        present.
    freq : {"D", "W", "M", "Q", "Y"}, default "M"
        Period length: days, weeks ending on Sunday, calendar months,
        quarters, years. Every period from the first to the last with data
        appears, with zeros where nothing was sold.
    by : {None, "category", "channel"}, default None
        Break the figures down by ``items.category`` or by
        ``order_lines.channel``. SKUs missing from ``items`` and lines without
        a channel count under ``"unassigned"``.

    Returns
    -------
    pandas.DataFrame
        One row per period (and category or channel), sorted. Columns:

        - ``period`` (pandas Period of ``freq``), then ``category`` or
          ``channel`` when ``by`` is given;
        - ``gmv`` [currency]: money paid (``paid_amount``), before returns;
        - ``orders`` [orders]: distinct ``order_id`` (by category: orders
          holding the category);
        - ``units`` [units] sold, before returns;
        - ``average_order_value`` [currency/order]: gmv / orders (客单价);
        - ``sessions`` [sessions] and ``conversion_rate`` [orders/session]:
          orders / sessions, from site-wide ``traffic`` rows, overall only;
        - ``returned_units`` [units] and ``return_rate`` [fraction]:
          units returned / units sold, each return counted in the period (and
          channel) of the order it returns;
        - ``cogs`` [currency]: cost of goods sold, ``unit_cost * qty``;
          ``gross_margin`` [currency]: gmv - cogs; ``margin_rate``
          [fraction]: gross_margin / gmv;
        - ``sku_days`` [SKU-days] tracked in ``stock``, ``stockout_days``
          [SKU-days] with end-of-day on-hand <= 0, ``stockout_rate``
          [fraction]: their ratio;
        - ``avg_inventory_value`` [currency]: mean over the days of the period
          of the stock value at ``unit_cost``;
        - ``inventory_turnover`` [1/period]: cogs / avg_inventory_value;
          ``days_of_cover`` [days]: avg_inventory_value / (cogs per day).

        ``frame.attrs["notes"]`` lists, in words, every measure left NaN on
        purpose and every row that could not be placed.

    Raises
    ------
    opslib.DataError
        If ``order_lines`` or ``items`` (or a column the breakdown needs) is
        missing.

    Notes
    -----
    A ratio is NaN when its denominator is zero or unknown (no sessions, no
    orders, no units sold, no stock); it is never an error. The measures in
    :data:`ADDITIVE_MEASURES` add up across a breakdown to the overall
    figure. Stock is valued at the current ``items.unit_cost``. Stock-outs use
    :func:`opslib.data.health.stockout_days`' rules: on-hand summed over
    locations, days after a discontinued SKU sold out for good not tracked.
    The days of cover of a period are

    .. math:: \\text{days of cover} = \\frac{\\bar V}{\\text{COGS} / n}

    with :math:`\\bar V` the average inventory value and :math:`n` the days
    of the period with stock snapshots. A line whose SKU has no unit cost
    makes its period's cogs and margin NaN (never zero cost).
    """
    check_workspace(ws, "kpis")
    check_choice("freq", freq, tuple(FREQUENCIES))
    check_choice("by", by, (None, "category", "channel"))
    sources = (ws.order_lines, ws.items, ws.returns, ws.traffic, ws.stock, ws.demand)
    out = memoized(("kpis", freq, by), sources, lambda: _kpis(ws, freq, by))
    result = out.copy(deep=False)
    result.attrs["notes"] = list(out.attrs.get("notes", []))
    return result


def _kpis(ws: Workspace, freq: str, by: str | None) -> pd.DataFrame:
    lines = require(ws, "order_lines", _SALES_COLUMNS + (["channel"] if by == "channel" else []), "kpis")
    items = require(ws, "items", ["sku", "unit_cost"] + (["category"] if by == "category" else []), "kpis")
    notes: list[str] = []
    costs = unit_costs(items)
    categories = sku_categories(items)
    keys = ["period"] + ([by] if by else [])

    # ---- sales (the per-line frame is shared between calls: see _sales_lines)
    base, sales_notes, _, labels = _sales_lines(ws, lines, items, costs, categories)
    notes.extend(sales_notes)
    # group by one integer key per line, (period code, label code), both codes in sorted
    # order: the groups and their order are those of grouping by (period, label), without
    # building a period or hashing a text per line
    period_code, periods = _period_codes(base["day"].to_numpy(), freq)
    n_labels = len(labels[by]) if by else 1
    key = period_code * n_labels + (base[f"_{by}_code"].to_numpy() if by else 0)
    sales = base[["units", "gmv", "cogs", "_unknown_cost"]]
    grouped = sales.groupby(key, sort=True)
    table = grouped.agg(
        gmv=("gmv", "sum"),
        units=("units", "sum"),
        cogs=("cogs", "sum"),
        _unknown_cost=("_unknown_cost", "sum"),
    )
    group_key = table.index.to_numpy()
    if by:
        table.index = pd.MultiIndex.from_arrays(
            [periods.take(group_key // n_labels), labels[by].take(group_key % n_labels)], names=keys
        )
    else:
        table.index = pd.Index(periods.take(group_key), name="period")
    # distinct orders per group: distinct (group, order code) pairs, counted by group. Each
    # order gets one of its groups as representative (any line's: one scatter); the pairs
    # are the representatives plus the distinct pairs of the lines in another group (few:
    # an order's lines mostly share a day and a channel), so little is hashed.
    group = grouped.ngroup().to_numpy().astype(np.int64)
    order = base["_order"].to_numpy()
    known = order >= 0  # a line without order_id is not an order
    group, order = group[known], order[known]
    width = int(order.max()) + 1 if len(order) else 1
    representative = np.full(width, -1, dtype=np.int64)
    representative[order] = group
    n_orders = np.bincount(representative[representative >= 0], minlength=len(table))
    other = group != representative[order]
    if other.any():
        pairs = pd.unique(group[other] * width + order[other])
        n_orders += np.bincount(pairs // width, minlength=len(table))
    table.insert(1, "orders", n_orders.astype("int64"))
    table.loc[table["_unknown_cost"] > 0, "cogs"] = np.nan
    table = table.drop(columns="_unknown_cost")

    parts = [table]
    parts.append(_returned_units(ws, lines, freq, by, categories, notes))
    parts.append(_sessions(ws, freq, by, notes))
    parts.append(_stock_measures(ws, freq, by, costs, categories, notes))
    out = _full_frame(parts, keys, freq)

    for col in ("gmv", "units", "orders"):
        out[col] = out[col].fillna(0.0)
    out["orders"] = out["orders"].astype("int64")
    out["cogs"] = out["cogs"].where(out["cogs"].notna() | (out["units"] != 0), 0.0)
    if ws.returns is not None:
        out["returned_units"] = out["returned_units"].fillna(0.0)
    out["average_order_value"] = _ratio(out["gmv"], out["orders"])
    out["conversion_rate"] = _ratio(out["orders"], out["sessions"])
    out["return_rate"] = _ratio(out["returned_units"], out["units"])
    out["gross_margin"] = out["gmv"] - out["cogs"]
    out["margin_rate"] = _ratio(out["gross_margin"], out["gmv"])
    out["stockout_rate"] = _ratio(out["stockout_days"], out["sku_days"])
    out["inventory_turnover"] = _ratio(out["cogs"], out["avg_inventory_value"])
    out["days_of_cover"] = _ratio(out["avg_inventory_value"], _ratio(out["cogs"], out["_stock_dates"]))
    out = out[keys + list(KPI_COLUMNS)].reset_index(drop=True)
    out.attrs["notes"] = notes
    return out


def repurchase_rate(
    ws: Workspace, window_days: int = 90, freq: str | None = None, as_of=None
) -> pd.DataFrame:
    """Share of customers who order again within a window after their first order.

    Parameters
    ----------
    ws : Workspace
        The shop's tables: ``order_lines`` with ``customer_id`` is required;
        ``returns`` is used when present.
    window_days : int, default 90
        A customer repurchases when a second kept order follows the first kept
        order within this many days (inclusive) [days].
    freq : {None, "D", "W", "M", "Q", "Y"}, default None
        ``None``: one row for all customers. Otherwise one row per cohort, the
        period of the customer's first kept order.
    as_of : str or Timestamp, optional
        The rate as it was known at the end of this day (in the local time of
        ``order_ts``): customers whose first kept order came later are left
        out, and a window still open at the end of the day is censored. By
        default the end of the data (the last order).

    Returns
    -------
    pandas.DataFrame
        Columns ``cohort`` (only with ``freq``; pandas Period), ``customers``
        (customers whose whole window lies inside the data), ``repeat_customers``
        (of them, those with a second kept order in the window),
        ``repurchase_rate`` [fraction] (NaN without customers),
        ``censored_customers`` (first kept order less than ``window_days``
        before the last order in the data, or before ``as_of``: their window
        is not over, so they are left out of the rate) and
        ``returned_only_customers`` (every order fully returned: left out of
        the rate). ``frame.attrs["notes"]`` counts lines without a customer.

    Raises
    ------
    opslib.DataError
        If ``order_lines`` or its ``customer_id`` column is missing.

    Notes
    -----
    An order is *kept* unless every unit of it was returned (``returns``
    matched on ``order_id``). A fully returned order is not a purchase: it
    neither starts a customer's history nor counts as the second order. So a
    customer whose only orders were all returned is not a customer for this
    measure (``returned_only_customers`` says how many there were), and a
    customer whose second order was returned in full did not repurchase.
    Orders are dated by their first ``order_ts``; a second order at the same
    time as the first counts (it is a separate order). Returns count whenever
    they were booked, also with ``as_of`` (as :func:`kpis` counts a return in
    the period of its order): a customer's status once the window is over
    depends on the orders inside the window only.
    """
    check_workspace(ws, "repurchase_rate")
    if freq is not None:
        check_choice("freq", freq, tuple(FREQUENCIES))
    if window_days < 0:
        raise ValueError(f"window_days must be zero or more; got {window_days!r}")
    lines = require(ws, "order_lines", ["order_id", "order_ts", "qty", "customer_id"], "repurchase_rate")
    if ws.returns is not None:
        require(ws, "returns", ["order_id", "qty"], "repurchase_rate")
    history = memoized("kpis.customer_orders", (lines, ws.returns), lambda: _customer_orders(ws, lines))
    never = np.iinfo(np.int64).max
    window = int(window_days) * 86_400 * 10**9
    has_kept = history.first_ns != never
    if as_of is None:
        present = has_kept
        censored = present & (history.first_ns > history.end - window)
        returned_only = ~has_kept & (history.gone_wall != never)
    else:
        day = to_day([as_of]).iloc[0]
        if pd.isna(day):
            raise ValueError(f"as_of must be a date like '2024-03-31'; got {as_of!r}")
        end = int(day.value) + 86_400 * 10**9 - 1  # the end of the day, local time
        present = has_kept & (history.first_wall <= end)
        censored = present & (history.first_wall > end - window)
        returned_only = ~present & (history.gone_wall <= end)
    eligible = present & ~censored
    repeat = eligible & (history.second_ns != never) & (history.second_ns - history.first_ns <= window)

    if freq is None:
        n = int(eligible.sum())
        repeat_n = int(repeat.sum())
        out = pd.DataFrame(
            [
                {
                    "customers": n,
                    "repeat_customers": repeat_n,
                    "repurchase_rate": repeat_n / n if n else np.nan,
                    "censored_customers": int(censored.sum()),
                    "returned_only_customers": int(returned_only.sum()),
                }
            ]
        )
    else:
        per_customer = pd.DataFrame(
            {
                "cohort": to_period(pd.Series(history.first_wall[present].view("datetime64[ns]")), freq),
                "customers": eligible[present],
                "repeat_customers": repeat[present],
                "censored_customers": censored[present],
            }
        )
        out = per_customer.groupby("cohort", sort=True)[["customers", "repeat_customers", "censored_customers"]].sum()
        cohorts = to_period(pd.Series(history.gone_wall[returned_only].view("datetime64[ns]")), freq)
        returned = pd.Series(cohorts).value_counts().rename("returned_only_customers")
        out = out.join(returned, how="outer").fillna(0).sort_index()
        out["repurchase_rate"] = out["repeat_customers"] / out["customers"].where(out["customers"] > 0)
        out = out.rename_axis("cohort").reset_index()
        cols = ["cohort", "customers", "repeat_customers", "repurchase_rate", "censored_customers", "returned_only_customers"]
        out = out[cols]
    for col in ("customers", "repeat_customers", "censored_customers", "returned_only_customers"):
        out[col] = out[col].astype("int64")
    out["repurchase_rate"] = out["repurchase_rate"].astype(float)
    out.attrs["notes"] = list(history.notes)
    return out


class _CustomerOrders(NamedTuple):
    """Per customer (one entry per distinct ``customer_id``): the dates repurchase is measured on.

    Times are int64 nanoseconds: ``*_ns`` absolute (UTC for time-zone-aware
    stamps), ``*_wall`` local wall time; ``int64 max`` where there is none.
    """

    first_ns: np.ndarray  # first kept order
    first_wall: np.ndarray  # the same order, local time (its cohort)
    second_ns: np.ndarray  # second kept order
    gone_wall: np.ndarray  # first fully returned order, local time
    end: int  # the last order time in the data (absolute)
    notes: tuple[str, ...]


def _customer_orders(ws: Workspace, lines: pd.DataFrame) -> _CustomerOrders:
    """The first and second kept order and the first fully returned order of every customer.

    Integer codes throughout, per order before per customer: the order codes are
    the ones the sales lines use (:func:`_order_codes`, factorized once per
    ``order_lines``), every per-line figure is one pass over them, and the
    customers are factorized per order (the customer of its first line), not
    per line. Returns are matched to the order ids by one Arrow hash lookup.
    """
    notes: list[str] = []
    ts = pd.to_datetime(lines["order_ts"], errors="coerce")
    aware = isinstance(ts.dtype, pd.DatetimeTZDtype)
    absolute = ts.dt.tz_convert("UTC").dt.tz_localize(None) if aware else ts  # intervals in absolute time
    anonymous = (lines["customer_id"].isna() | ts.isna()).to_numpy()
    if anonymous.any():
        notes.append(f"{int(anonymous.sum()):,} order lines without customer_id or order_ts are left out.")
    ns = absolute.to_numpy().astype("datetime64[ns]", copy=False).view("int64")
    if not anonymous.any():
        end = int(ns.max()) if len(ns) else 0
    else:
        end = int(ns[~anonymous].max()) if (~anonymous).any() else 0
    all_codes, order_ids = _order_codes(lines)
    keep = ~anonymous & (all_codes >= 0)  # a line without order_id is no order
    if keep.all():  # codes of every order, in order of first appearance
        line, code, n_orders = None, all_codes, len(order_ids)
    else:  # the orders with kept lines, coded again in order of their first kept line
        line = np.flatnonzero(keep)
        code, known_orders = pd.factorize(all_codes[line])
        ns, n_orders = ns[line], len(known_orders)
    qty = number(lines["qty"])
    qty = qty if line is None else qty[line]
    if np.isnan(qty).any():
        qty = np.nan_to_num(qty)  # missing quantities add nothing, as in a sum
    never = np.iinfo(np.int64).max

    # per order: its first line and customer, its first time (and the line holding it), its units
    if len(code):
        firsts = np.flatnonzero(np.r_[True, code[1:] > np.maximum.accumulate(code)[:-1]])
    else:
        firsts = np.zeros(0, dtype=np.int64)
    order_ts = np.full(n_orders, never)
    np.minimum.at(order_ts, code, ns)
    is_min = ns == order_ts[code]
    if is_min.all():  # the usual case: every line of an order has the order's time
        order_at = firsts
    else:
        order_at = firsts.copy()  # the first line holding the order's first time (for its local time)
        order_at[code[is_min][::-1]] = np.flatnonzero(is_min)[::-1]
    first_line, at_line = (firsts, order_at) if line is None else (line[firsts], line[order_at])
    customer_code, customers = pd.factorize(lines["customer_id"].array.take(first_line))
    order_customer, n_customers = customer_code, len(customers)
    if aware:  # cohorts in local time
        local = ts.array.take(at_line).tz_localize(None)
        order_wall = np.asarray(local, dtype="datetime64[ns]").view("int64")
    else:
        order_wall = order_ts
    order_qty = np.bincount(code, weights=qty, minlength=n_orders)
    returned = np.zeros(n_orders)
    if ws.returns is not None:
        returns = ws.returns
        where = _return_orders(lines, returns)
        if line is not None:  # order id -> code among the orders with kept lines
            recode = np.full(len(order_ids) + 1, -1)
            recode[known_orders] = np.arange(n_orders)
            where = recode[where]  # -1 stays -1 (the last entry)
        back = np.nan_to_num(number(returns["qty"]))
        known = where >= 0
        returned = np.bincount(where[known], weights=back[known], minlength=n_orders)
    kept = ~((order_qty > 0) & (returned >= order_qty))

    # per customer: the first and second kept orders
    k = np.flatnonzero(kept)
    k = k[np.lexsort((order_ts[k], order_customer[k]))]
    cust = order_customer[k]
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]]) if len(k) else np.zeros(0, dtype=np.int64)
    first_ns = np.full(n_customers, never)
    first_wall = np.full(n_customers, never)
    second_ns = np.full(n_customers, never)
    first_ns[cust[starts]] = order_ts[k[starts]]
    first_wall[cust[starts]] = order_wall[k[starts]]
    has_second = np.r_[starts[1:], len(k)] - starts > 1
    second_ns[cust[starts[has_second]]] = order_ts[k[starts[has_second] + 1]]

    # the first fully returned order of each customer (local time)
    gone_wall = np.full(n_customers, never)
    gone = np.flatnonzero(~kept)
    np.minimum.at(gone_wall, order_customer[gone], order_wall[gone])
    return _CustomerOrders(first_ns, first_wall, second_ns, gone_wall, end, tuple(notes))


def _return_orders(lines: pd.DataFrame, returns: pd.DataFrame) -> np.ndarray:
    """The order code (:func:`_order_codes`) of every return's ``order_id``; -1 where it matches none.

    Memoized per ``order_lines`` and ``returns``: the returned units of
    :func:`kpis` and the kept orders of :func:`repurchase_rate` share it.
    """

    def compute():
        return positions(returns["order_id"].astype("str").array, _order_codes(lines)[1])

    return memoized("kpis.return_orders", (lines, returns), compute)


def _order_codes(lines: pd.DataFrame) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """Integer code of every line's ``order_id`` (-1 where missing) and the order ids, as text.

    Codes in order of first appearance (``pandas.factorize``), memoized per
    ``order_lines``: the sales lines of :func:`kpis` and the customer orders of
    :func:`repurchase_rate` share one factorization of the text column.
    """
    return memoized("kpis.order_codes", (lines,), lambda: pd.factorize(lines["order_id"].astype("str").array))


# --------------------------------------------------------------------------- helpers


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is zero or missing."""
    num = pd.Series(numerator, dtype=float)
    den = pd.Series(denominator, dtype=float)
    ok = den.notna() & (den != 0)
    return (num / den.where(ok)).astype(float)


def _period_codes(days: np.ndarray, freq: str) -> tuple[np.ndarray, pd.arrays.PeriodArray]:
    """Code of every day's period (``freq``) into the sorted periods, and the periods.

    ``days`` are midnights without missing values. The periods are computed
    once per calendar day between the first and the last, then taken by day.
    """
    if not len(days):
        return np.zeros(0, dtype=np.int64), to_period(pd.Series(days, dtype="datetime64[ns]"), freq)
    day = days.astype("datetime64[D]").view("int64")
    first = int(day.min())
    calendar = np.arange(first, int(day.max()) + 1).astype("datetime64[D]").astype("datetime64[ns]")
    code_of_day, periods = pd.factorize(to_period(pd.Series(calendar), freq), sort=True)
    return code_of_day[day - first], periods


def _category_of(sku, categories: pd.Series):
    return lookup_labels(sku, categories)


def _sales_lines(ws, lines, items, costs, categories) -> tuple[pd.DataFrame, list[str], np.ndarray, dict]:
    """The dated order lines with units, gmv, cogs and labels, the notes about them, the SKUs, the labels.

    Memoized per ``order_lines`` and ``items`` objects: kpis overall, by
    category and by channel share it. Columns ``day``, ``sku``, ``_sku``
    (integer code of the SKU in the third item returned, the SKUs), ``_order`` (integer
    code of the ``order_id``; -1 when missing), ``units``, ``gmv``, ``cogs``
    (0 where the cost is unknown), ``_unknown_cost``, ``category`` and
    ``channel`` (labels), ``_category_code`` and ``_channel_code`` (their
    integer codes into the sorted distinct labels, the fourth item returned:
    label name -> labels). At scale every per-line lookup goes through the
    integer codes: the text columns are factorized once here.
    """

    def compute():
        notes: list[str] = []
        sku = lines["sku"].astype("str").array
        sku_code, sku_uniques = pd.factorize(sku, use_na_sentinel=True)
        sku_code = np.where(sku_code < 0, len(sku_uniques), sku_code)  # missing SKU: its own code
        sku_keys = pd.Series(np.append(np.asarray(sku_uniques, dtype=object), None))
        day = to_day(lines["order_ts"])
        undated = int(day.isna().sum())
        if undated:
            notes.append(f"{undated:,} order lines have no valid order_ts and are left out of every measure.")
        qty = number(lines["qty"])
        cost = lookup_numbers(sku_keys, costs)[sku_code]
        unknown_cost = np.isnan(cost)
        frame = pd.DataFrame(
            {
                "day": day.to_numpy(),
                "sku": sku,
                "_sku": sku_code,
                "_order": _order_codes(lines)[0],
                "units": qty,
                "gmv": number(lines["paid_amount"]),
                "cogs": np.where(unknown_cost, 0.0, cost * qty),
                "_unknown_cost": unknown_cost,
            }
        )
        unknown = unknown_cost & day.notna().to_numpy()
        if unknown.any():
            skus = sorted(set(sku[unknown]))
            notes.append(
                f"{int(unknown.sum()):,} order lines of {len(skus):,} SKUs without items.unit_cost "
                f"(e.g. {', '.join(skus[:5])}): cogs and gross margin of their periods are NaN."
            )
        sku_category = _category_of(sku_keys, categories)
        frame["category"] = sku_category.take(sku_code)
        category_code, category_labels = pd.factorize(sku_category, sort=True)
        frame["_category_code"] = category_code[sku_code]
        labels = {"category": category_labels}
        if "channel" in lines.columns:
            channel_code, labels["channel"] = label_codes(lines["channel"])
            frame["channel"] = labels["channel"].take(channel_code)
            frame["_channel_code"] = channel_code
        frame = frame[day.notna().to_numpy()].reset_index(drop=True)
        return frame, notes, sku_keys.to_numpy(), labels

    return memoized("kpis.sales_lines", (lines, items), compute)


def _returned_units(ws, lines, freq, by, categories, notes) -> pd.DataFrame | None:
    """returned_units per period (and key), each return in its order's period."""
    if ws.returns is None:
        notes.append("There is no returns table: returned_units and return_rate are NaN.")
        return None
    returns = require(ws, "returns", ["order_id", "sku", "qty", "return_date"], "kpis")

    def compute():
        # only the lines of returned orders can match a return: select them first
        # (one hash lookup per line) instead of merging every order line
        # (one lookup per order code, not per line; a return without order_id matches the
        # lines without one, as pandas isin and merge match missing to missing)
        codes, order_ids = _order_codes(lines)
        where = _return_orders(lines, returns)
        returned_order = np.zeros(len(order_ids) + 1, dtype=bool)
        returned_order[where[where >= 0]] = True
        returned_order[-1] = bool(returns["order_id"].astype("str").isna().any())
        subset = lines[returned_order[codes]]
        origin = pd.DataFrame(
            {
                "order_id": subset["order_id"].astype("str").array,
                "sku": subset["sku"].astype("str").array,
                "day": to_day(subset["order_ts"]).to_numpy(),
            }
        )
        if "channel" in subset.columns:
            origin["channel"] = label(subset["channel"])
        origin = origin.drop_duplicates(["order_id", "sku"])
        frame = pd.DataFrame(
            {
                "order_id": returns["order_id"].astype("str").array,
                "sku": returns["sku"].astype("str").array,
                "returned_units": number(returns["qty"]),
                "return_day": to_day(returns["return_date"]).to_numpy(),
            }
        ).merge(origin, on=["order_id", "sku"], how="left")
        frame["when"] = frame["day"].fillna(frame["return_day"])
        frame["category"] = _category_of(frame["sku"].to_numpy(), categories)
        if "channel" in frame.columns:
            frame["channel"] = label(frame["channel"])
        return frame

    frame = memoized("kpis.returns", (lines, returns, ws.items), compute)
    unmatched = frame["day"].isna()
    if unmatched.any():
        notes.append(
            f"{int(unmatched.sum()):,} returns match no order line: they count in the period of their "
            f"return_date{' and under channel ' + repr(UNASSIGNED) if by == 'channel' else ''}."
        )
    undated = frame["when"].isna()
    if undated.any():
        notes.append(f"{int(undated.sum()):,} returns have neither an order nor a return_date and are left out.")
    keys = ["period"] + ([by] if by else [])
    frame = frame[["returned_units"] + ([by] if by else [])].assign(period=to_period(frame["when"], freq))
    return frame[~undated.to_numpy()].groupby(keys)[["returned_units"]].sum()


def _sessions(ws, freq, by, notes) -> pd.DataFrame | None:
    """Site-wide sessions per period (overall figures only)."""
    traffic = ws.traffic
    if traffic is None:
        notes.append("There is no traffic table: sessions and conversion_rate are NaN.")
        return None
    if by is not None:
        notes.append(f"Traffic is not broken down by {by}: sessions and conversion_rate are NaN; see kpis(ws).")
        return None
    traffic = require(ws, "traffic", ["date", "sessions"], "kpis")
    site = traffic
    if "sku" in traffic.columns:
        site = traffic[traffic["sku"].isna().to_numpy()]
        if site.empty:
            notes.append("The traffic table has per-SKU rows only: sessions and conversion_rate are NaN.")
            return None
    frame = pd.DataFrame({"day": to_day(site["date"]).to_numpy(), "sessions": number(site["sessions"])})
    frame = frame.dropna(subset=["day"])
    frame["period"] = to_period(frame["day"], freq)
    out = frame.groupby("period")[["sessions"]].sum()
    zero = int((out["sessions"] == 0).sum())
    if zero:
        notes.append(f"{zero:,} periods have no sessions: their conversion_rate is NaN.")
    return out


def _stock_measures(ws, freq, by, costs, categories, notes) -> pd.DataFrame | None:
    """sku_days, stockout_days, avg_inventory_value and the stock dates per period."""
    if ws.stock is None:
        notes.append("There is no stock table: stock-out and inventory measures are NaN.")
        return None
    if by == "channel":
        notes.append("Stock is not held per channel: stock-out and inventory measures are NaN by channel.")
        return None
    stock = require(ws, "stock", ["sku", "date", "on_hand"], "kpis")
    keys = ["period"] + ([by] if by else [])

    # Both stock parts are memoized as daily totals per category (a few thousand rows): a
    # period and a breakdown then only sum those.
    def compute_days():
        # integer keys (day, category) over the tracked SKU-days: two bincounts, no text groupby
        days = health._stock_day_codes(ws)
        cat_code, cat_names = pd.factorize(pd.Series(_category_of(days.skus, categories)), sort=True)
        n_cat = max(len(cat_names), 1)
        first = int(days.day.min()) if len(days.day) else 0
        key = (days.day - first) * n_cat + cat_code[days.code]
        sku_days = np.bincount(key)
        present = np.flatnonzero(sku_days)
        return pd.DataFrame(
            {
                "date": (present // n_cat + first).astype("datetime64[D]").astype("datetime64[ns]"),
                "category": pd.array(np.asarray(cat_names, dtype=object), dtype="str").take(present % n_cat),
                "sku_days": sku_days[present].astype("int64"),
                "stockout_days": np.bincount(key[days.out], minlength=len(sku_days))[present].astype("int64"),
            }
        )

    days = memoized("kpis.stock_days", (stock, ws.demand, ws.items), compute_days)
    days = days[["sku_days", "stockout_days"] + ([by] if by else [])].assign(period=to_period(days["date"], freq))
    outs = days.groupby(keys)[["sku_days", "stockout_days"]].sum()

    def compute_values():
        # the stock value per (day, category), grouped by one integer key per row (day
        # offset, sorted category code): the groups, order and sums of grouping by the labels
        day = to_day(stock["date"]).to_numpy()
        dated = ~np.isnat(day)
        codes, uniques = pd.factorize(stock["sku"].astype("str").array, use_na_sentinel=True)
        codes = np.where(codes < 0, len(uniques), codes)  # missing SKU: its own code
        keys = pd.Series(np.append(np.asarray(uniques, dtype=object), None))
        sku_cost = lookup_numbers(keys, costs)
        stocked = np.bincount(codes[dated], minlength=len(keys)) > 0
        no_cost = stocked & np.isnan(sku_cost)
        skus = sorted(pd.Series(keys[no_cost].to_numpy(), dtype="str").unique()) if no_cost.any() else []
        value = np.nan_to_num(number(stock["on_hand"])[dated]) * np.nan_to_num(sku_cost)[codes[dated]]
        category_code, category_labels = pd.factorize(_category_of(keys, categories), sort=True)
        n_cat = max(len(category_labels), 1)
        day = day[dated]
        day_number = day.astype("datetime64[D]").view("int64")
        first = int(day_number.min()) if len(day_number) else 0
        key = (day_number - first) * n_cat + category_code[codes[dated]]
        sums = pd.Series(value).groupby(key, sort=True).sum()
        group_key = sums.index.to_numpy()
        frame = pd.DataFrame(
            {
                "day": (group_key // n_cat + first).astype("datetime64[D]").astype(day.dtype),
                "category": category_labels.take(group_key % n_cat),
                "value": sums.to_numpy(),
            }
        )
        return frame, skus

    frame, skus = memoized("kpis.stock_values", (stock, ws.items), compute_values)
    if skus:
        notes.append(
            f"{len(skus):,} stocked SKUs have no items.unit_cost (e.g. {', '.join(skus[:5])}): "
            "their stock is valued at zero."
        )
    frame = frame[["day", "value"] + ([by] if by else [])].assign(period=to_period(frame["day"], freq))
    value = frame.groupby(keys)[["value"]].sum()
    n_days = frame.groupby("period")["day"].nunique().rename("_stock_dates")
    value = value.join(n_days, on="period")
    value["avg_inventory_value"] = value["value"] / value["_stock_dates"]
    out = outs.join(value[["avg_inventory_value", "_stock_dates"]], how="outer")
    out["sku_days"] = out["sku_days"].fillna(0).astype(float)
    out["stockout_days"] = out["stockout_days"].fillna(0).astype(float)
    return out


def _full_frame(parts: list, keys: list[str], freq: str) -> pd.DataFrame:
    """Join the parts on the keys and fill in every period from first to last."""
    parts = [p for p in parts if p is not None]
    joined = parts[0]
    for p in parts[1:]:
        joined = joined.join(p, how="outer")
    for col in ("returned_units", "sessions", "sku_days", "stockout_days", "avg_inventory_value", "_stock_dates"):
        if col not in joined.columns:
            joined[col] = np.nan
    frame = joined.reset_index()
    if frame.empty:
        return frame
    periods = pd.period_range(frame["period"].min(), frame["period"].max(), freq=FREQUENCIES[freq])
    if len(keys) == 1:
        index = pd.Index(periods, name="period")
    else:
        index = pd.MultiIndex.from_product([periods, sorted(frame[keys[1]].unique())], names=keys)
    frame = frame.set_index(keys).reindex(index).reset_index()
    if "_stock_dates" in frame.columns and len(keys) > 1:
        # the stock dates of a period are shop-wide: fill them in for keys without stock
        frame["_stock_dates"] = frame.groupby("period")["_stock_dates"].transform("max")
    return frame
