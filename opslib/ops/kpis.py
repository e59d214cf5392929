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
    lookup_labels,
    lookup_numbers,
    memoized,
    number,
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
    base, sales_notes, _ = _sales_lines(ws, lines, items, costs, categories)
    notes.extend(sales_notes)
    sales = base[["_order", "units", "gmv", "cogs", "_unknown_cost"] + ([by] if by else [])]
    sales = sales.assign(period=to_period(base["day"], freq))
    grouped = sales.groupby(keys, sort=True)
    table = grouped.agg(
        gmv=("gmv", "sum"),
        units=("units", "sum"),
        cogs=("cogs", "sum"),
        _unknown_cost=("_unknown_cost", "sum"),
    )
    # distinct orders per group: distinct (group, order code) pairs, counted by group
    group = grouped.ngroup().to_numpy()
    order = sales["_order"].to_numpy()
    known = order >= 0  # a line without order_id is not an order
    pairs = pd.unique(group[known].astype(np.int64) * (int(order.max()) + 1 if len(order) else 1) + order[known])
    n_orders = np.bincount(pairs // (int(order.max()) + 1 if len(order) else 1), minlength=len(table))
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


def repurchase_rate(ws: Workspace, window_days: int = 90, freq: str | None = None) -> pd.DataFrame:
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

    Returns
    -------
    pandas.DataFrame
        Columns ``cohort`` (only with ``freq``; pandas Period), ``customers``
        (customers whose whole window lies inside the data), ``repeat_customers``
        (of them, those with a second kept order in the window),
        ``repurchase_rate`` [fraction] (NaN without customers),
        ``censored_customers`` (first kept order less than ``window_days``
        before the last order in the data: their window is not over, so they
        are left out of the rate) and ``returned_only_customers`` (every order
        fully returned: left out of the rate). ``frame.attrs["notes"]`` counts
        lines without a customer.

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
    time as the first counts (it is a separate order).
    """
    check_workspace(ws, "repurchase_rate")
    if freq is not None:
        check_choice("freq", freq, tuple(FREQUENCIES))
    if window_days < 0:
        raise ValueError(f"window_days must be zero or more; got {window_days!r}")
    lines = require(ws, "order_lines", ["order_id", "order_ts", "qty", "customer_id"], "repurchase_rate")
    notes: list[str] = []
    # Integer codes throughout: orders and customers are factorized once, and every
    # per-order and per-customer figure is a bincount or a sorted scan over them.
    ts = pd.to_datetime(lines["order_ts"], errors="coerce")
    wall = ts
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        wall = ts.dt.tz_localize(None)  # cohorts in local time, intervals in absolute time
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    anonymous = (lines["customer_id"].isna() | ts.isna()).to_numpy()
    if anonymous.any():
        notes.append(f"{int(anonymous.sum()):,} order lines without customer_id or order_ts are left out.")
    ns = ts.to_numpy().astype("datetime64[ns]").view("int64")
    end = ns[~anonymous].max() if (~anonymous).any() else 0
    keep = ~anonymous & lines["order_id"].notna().to_numpy()  # a line without order_id is no order
    ns = ns[keep]
    wall_ns = wall.to_numpy().astype("datetime64[ns]").view("int64")[keep]
    order_code, order_ids = pd.factorize(lines["order_id"].astype("str").array[keep])
    customer_code = pd.factorize(lines["customer_id"].array[keep])[0]
    qty = np.nan_to_num(number(lines["qty"])[keep])  # missing quantities add nothing, as in a sum
    n_orders = len(order_ids)

    # per order: the customer of its first line, its first time, its units
    if n_orders:
        firsts = np.flatnonzero(np.r_[True, order_code[1:] > np.maximum.accumulate(order_code)[:-1]])
    else:
        firsts = np.zeros(0, dtype=np.int64)
    order_customer = customer_code[firsts]
    order_ts = np.full(n_orders, np.iinfo(np.int64).max)
    np.minimum.at(order_ts, order_code, ns)
    order_at = firsts.copy()  # the line holding the order's first time (for its local time)
    is_min = ns == order_ts[order_code]
    order_at[order_code[is_min][::-1]] = np.flatnonzero(is_min)[::-1]
    order_qty = np.bincount(order_code, weights=qty, minlength=n_orders)
    returned = np.zeros(n_orders)
    if ws.returns is not None:
        returns = require(ws, "returns", ["order_id", "qty"], "repurchase_rate")
        where = pd.Index(order_ids).get_indexer(returns["order_id"].astype("str").array)
        back = np.nan_to_num(number(returns["qty"]))
        known = where >= 0
        returned = np.bincount(where[known], weights=back[known], minlength=n_orders)
    kept = ~((order_qty > 0) & (returned >= order_qty))

    # per customer: the first and second kept orders
    k = np.flatnonzero(kept)
    k = k[np.lexsort((order_ts[k], order_customer[k]))]
    cust = order_customer[k]
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]]) if len(k) else np.zeros(0, dtype=np.int64)
    first_ns = order_ts[k[starts]]
    has_second = np.r_[starts[1:], len(k)] - starts > 1
    second_ns = np.where(has_second, order_ts[k[np.minimum(starts + 1, max(len(k) - 1, 0))]], 0) if len(k) else first_ns
    window = int(window_days) * 86_400 * 10**9
    censored = first_ns + window > end
    repeat = has_second & (second_ns - first_ns <= window)
    first_wall = wall_ns[order_at[k[starts]]]

    # customers whose every order was returned: the first of those orders dates them
    n_customers = int(order_customer.max()) + 1 if n_orders else 0
    any_kept = np.bincount(order_customer[kept], minlength=n_customers) > 0
    gone = np.flatnonzero(~kept)
    gone = gone[~any_kept[order_customer[gone]]]
    gone = gone[np.lexsort((order_ts[gone], order_customer[gone]))]
    gone_cust = order_customer[gone]
    gone_first = gone[np.r_[True, gone_cust[1:] != gone_cust[:-1]]] if len(gone) else gone
    returned_only_wall = wall_ns[order_at[gone_first]]

    if freq is None:
        eligible = ~censored
        n = int(eligible.sum())
        repeat_n = int((repeat & eligible).sum())
        out = pd.DataFrame(
            [
                {
                    "customers": n,
                    "repeat_customers": repeat_n,
                    "repurchase_rate": repeat_n / n if n else np.nan,
                    "censored_customers": int(censored.sum()),
                    "returned_only_customers": len(gone_first),
                }
            ]
        )
    else:
        eligible = ~censored
        per_customer = pd.DataFrame(
            {
                "cohort": to_period(pd.Series(first_wall.view("datetime64[ns]")), freq),
                "customers": eligible,
                "repeat_customers": repeat & eligible,
                "censored_customers": ~eligible,
            }
        )
        out = per_customer.groupby("cohort", sort=True)[["customers", "repeat_customers", "censored_customers"]].sum()
        cohorts = to_period(pd.Series(returned_only_wall.view("datetime64[ns]")), freq)
        returned = pd.Series(cohorts).value_counts().rename("returned_only_customers")
        out = out.join(returned, how="outer").fillna(0).sort_index()
        out["repurchase_rate"] = out["repeat_customers"] / out["customers"].where(out["customers"] > 0)
        out = out.rename_axis("cohort").reset_index()
        cols = ["cohort", "customers", "repeat_customers", "repurchase_rate", "censored_customers", "returned_only_customers"]
        out = out[cols]
    for col in ("customers", "repeat_customers", "censored_customers", "returned_only_customers"):
        out[col] = out[col].astype("int64")
    out["repurchase_rate"] = out["repurchase_rate"].astype(float)
    out.attrs["notes"] = notes
    return out


# --------------------------------------------------------------------------- helpers


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is zero or missing."""
    num = pd.Series(numerator, dtype=float)
    den = pd.Series(denominator, dtype=float)
    ok = den.notna() & (den != 0)
    return (num / den.where(ok)).astype(float)


def _category_of(sku, categories: pd.Series):
    return lookup_labels(sku, categories)


def _sales_lines(ws, lines, items, costs, categories) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """The dated order lines with units, gmv, cogs and labels, the notes about them, the SKUs.

    Memoized per ``order_lines`` and ``items`` objects: kpis overall, by
    category and by channel share it. Columns ``day``, ``sku``, ``_sku``
    (integer code of the SKU in the third item returned, the SKUs), ``_order`` (integer
    code of the ``order_id``; -1 when missing), ``units``, ``gmv``, ``cogs``
    (0 where the cost is unknown), ``_unknown_cost``, ``category`` and
    ``channel`` (labels). At scale every per-line lookup goes through the
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
                "_order": pd.factorize(lines["order_id"].astype("str").array)[0],
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
        frame["category"] = _category_of(sku_keys, categories).take(sku_code)
        if "channel" in lines.columns:
            frame["channel"] = label(lines["channel"])
        frame = frame[day.notna().to_numpy()].reset_index(drop=True)
        return frame, notes, sku_keys.to_numpy()

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
        returned_orders = returns["order_id"].astype("str").unique()
        of_returned = lines["order_id"].astype("str").isin(returned_orders).to_numpy()
        subset = lines[of_returned]
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
        days = health._stock_days(ws)
        codes, uniques = pd.factorize(days["sku"].to_numpy())
        days["category"] = _category_of(uniques, categories).take(codes)
        return days.groupby(["date", "category"], as_index=False).agg(
            sku_days=("out", "size"), stockout_days=("out", "sum")
        )

    days = memoized("kpis.stock_days", (stock, ws.demand, ws.items), compute_days)
    days = days[["sku_days", "stockout_days"] + ([by] if by else [])].assign(period=to_period(days["date"], freq))
    outs = days.groupby(keys)[["sku_days", "stockout_days"]].sum()

    def compute_values():
        frame = pd.DataFrame(
            {
                "sku": stock["sku"].astype("str").array,
                "day": to_day(stock["date"]).to_numpy(),
                "on_hand": number(stock["on_hand"]),
            }
        ).dropna(subset=["day"])
        codes, uniques = pd.factorize(frame["sku"].array, use_na_sentinel=True)
        codes = np.where(codes < 0, len(uniques), codes)  # missing SKU: its own code
        keys = pd.Series(np.append(np.asarray(uniques, dtype=object), None))
        cost = lookup_numbers(keys, costs)[codes]
        no_cost = np.isnan(cost)
        skus = sorted(frame.loc[no_cost, "sku"].unique()) if no_cost.any() else []
        frame["value"] = frame["on_hand"].fillna(0.0).to_numpy() * np.nan_to_num(cost)
        frame["category"] = _category_of(keys, categories).take(codes)
        return frame.groupby(["day", "category"], as_index=False)["value"].sum(), skus

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
