"""Data health: what a workspace holds, how much it sold, and how often it ran out.

Pure functions over a :class:`~opslib.data.Workspace`; no widgets, no files,
no printing. They feed the "Data health" app (``apps/data_health.ipynb``) and
can be called on their own in a notebook.

Sales come from ``order_lines`` (``qty`` and ``paid_amount``) when the
workspace has order lines, else from the derived ``demand`` table (``units``
and ``units * price``, with ``items.price`` where the demand has no price).
Stock-outs come from ``stock`` snapshots (a day is out of stock when the
end-of-day ``on_hand``, summed over locations, is zero or less) when the
workspace has them, else from ``demand.in_stock`` (days where it is missing
are not tracked).

Every function that takes ``category`` restricts the result to the SKUs of
that ``items.category``; ``None`` means all SKUs, including SKUs sold but
missing from ``items``.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from opslib.data.workspace import Workspace

__all__ = [
    "HealthSummary",
    "categories",
    "daily_sales",
    "data_warnings",
    "health_summary",
    "sales_over_time",
    "stockout_days",
    "table_overview",
    "top_skus",
]

#: The column that dates each table, for :func:`table_overview`. Promotions run
#: from ``start`` to ``end``: the first date is the earliest start and the last
#: date the latest end.
DATE_COLUMNS: dict[str, tuple[str, str]] = {
    "order_lines": ("order_ts", "order_ts"),
    "demand": ("date", "date"),
    "stock": ("date", "date"),
    "purchase_orders": ("order_date", "order_date"),
    "promotions": ("start", "end"),
    "calendar": ("date", "date"),
    "traffic": ("date", "date"),
    "returns": ("return_date", "return_date"),
    "stock_movements": ("date", "date"),
    "stock_counts": ("date", "date"),
}

_SALES_COLUMNS = ["sku", "date", "units", "gmv"]


@dataclass(frozen=True)
class HealthSummary:
    """Headline numbers of a workspace, for all SKUs or one category.

    Attributes
    ----------
    units : float
        Units sold over the whole history [units].
    gmv : float
        Gross merchandise value: money paid over the whole history [currency].
    skus : int
        SKUs in scope: items of the category, or every SKU in ``items`` and in
        the sales when no category is given.
    skus_sold : int
        SKUs in scope with at least one unit sold.
    stockout_share : float
        Out-of-stock SKU-days over tracked SKU-days [fraction]; NaN when no
        stock information exists.
    first_date, last_date : pandas.Timestamp or None
        First and last day with sales.
    source : str
        Where the sales come from: ``"order_lines"``, ``"demand"`` or ``"none"``.
    """

    units: float
    gmv: float
    skus: int
    skus_sold: int
    stockout_share: float
    first_date: pd.Timestamp | None
    last_date: pd.Timestamp | None
    source: str


def table_overview(ws: Workspace) -> pd.DataFrame:
    """One row per table present: size, date range and number of SKUs.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.

    Returns
    -------
    pandas.DataFrame
        Columns ``table``, ``rows``, ``columns``, ``first_date``, ``last_date``
        (``NaT`` for undated tables such as ``items``) and ``skus`` (distinct
        SKUs, missing for tables without a ``sku`` column), in canonical table
        order.
    """
    rows = []
    for name, table in ws.tables().items():
        first = last = pd.NaT
        start_col, end_col = DATE_COLUMNS.get(name, (None, None))
        if start_col in table.columns and end_col in table.columns and len(table):
            first = _to_day(table[start_col]).min()
            last = _to_day(table[end_col]).max()
        skus = table["sku"].nunique() if "sku" in table.columns else pd.NA
        rows.append(
            {
                "table": name,
                "rows": len(table),
                "columns": table.shape[1],
                "first_date": first,
                "last_date": last,
                "skus": skus,
            }
        )
    out = pd.DataFrame(rows, columns=["table", "rows", "columns", "first_date", "last_date", "skus"])
    out["first_date"] = pd.to_datetime(out["first_date"])
    out["last_date"] = pd.to_datetime(out["last_date"])
    out["skus"] = out["skus"].astype("Int64")
    return out


def categories(ws: Workspace) -> list[str]:
    """The item categories, sorted; empty when ``items`` has no ``category``.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.

    Returns
    -------
    list of str
    """
    items = ws.items
    if items is None or "category" not in items.columns:
        return []
    return sorted(str(c) for c in items["category"].dropna().unique())


def daily_sales(ws: Workspace, category: str | None = None) -> pd.DataFrame:
    """Units and money sold per SKU and day.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.
    category : str, optional
        Restrict to the SKUs of this ``items.category``.

    Returns
    -------
    pandas.DataFrame
        Columns ``sku``, ``date``, ``units`` [units/day] and ``gmv``
        [currency/day], one row per SKU and day with sales, sorted by SKU
        and date. ``frame.attrs["source"]`` says which table the numbers come
        from (``"order_lines"``, ``"demand"`` or ``"none"``).

    Raises
    ------
    ValueError
        If ``category`` is not one of :func:`categories`.
    """
    sales = _daily_sales_cached(ws)
    source = sales.attrs.get("source", "none")
    if category is not None:
        sales = sales[sales["sku"].isin(_skus_in(ws, category))].reset_index(drop=True)
        sales.attrs["source"] = source
    return sales


def sales_over_time(ws: Workspace, freq: str = "W", category: str | None = None) -> pd.DataFrame:
    """Units and money sold per period, over all SKUs in scope.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.
    freq : str, default "W"
        A pandas frequency: ``"D"`` days, ``"W"`` weeks ending on Sunday,
        ``"MS"`` calendar months. Periods between the first and last sale
        without sales appear with zeros.
    category : str, optional
        Restrict to the SKUs of this ``items.category``.

    Returns
    -------
    pandas.DataFrame
        Columns ``date`` (the period label pandas gives ``freq``: for weeks,
        the Sunday that ends the week), ``units`` [units/period] and ``gmv``
        [currency/period].
    """
    sales = daily_sales(ws, category)
    if sales.empty:
        return pd.DataFrame(
            {"date": pd.Series(dtype="datetime64[ns]"), "units": pd.Series(dtype=float), "gmv": pd.Series(dtype=float)}
        )
    out = (
        sales.set_index("date")[["units", "gmv"]]
        .resample(freq)
        .sum()
        .reset_index()
    )
    out["units"] = out["units"].astype(float)
    out["gmv"] = out["gmv"].astype(float)
    return out


def top_skus(ws: Workspace, n: int = 10, category: str | None = None, by: str = "gmv") -> pd.DataFrame:
    """The best-selling SKUs over the whole history.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.
    n : int, default 10
        How many SKUs to return.
    category : str, optional
        Restrict to the SKUs of this ``items.category``.
    by : {"gmv", "units"}, default "gmv"
        Rank by money or by units. Ties are broken by the other measure, then
        by SKU.

    Returns
    -------
    pandas.DataFrame
        Columns ``rank`` (1 is the best), ``sku``, ``name`` and ``category``
        (from ``items``, missing when unknown), ``units`` [units], ``gmv``
        [currency] and ``share`` (of the ``by`` total of all SKUs in scope)
        [fraction].
    """
    if by not in ("gmv", "units"):
        raise ValueError(f"by must be 'gmv' or 'units'; got {by!r}")
    if n < 0:
        raise ValueError(f"n must be zero or more; got {n!r}")
    sales = daily_sales(ws, category)
    per_sku = sales.groupby("sku", as_index=False)[["units", "gmv"]].sum()
    total = per_sku[by].sum()
    other = "units" if by == "gmv" else "gmv"
    per_sku = per_sku.sort_values([by, other, "sku"], ascending=[False, False, True]).head(n)
    per_sku["share"] = per_sku[by] / total if total else np.nan
    per_sku = per_sku.merge(_item_labels(ws), on="sku", how="left")
    per_sku.insert(0, "rank", np.arange(1, len(per_sku) + 1))
    cols = ["rank", "sku", "name", "category", "units", "gmv", "share"]
    return per_sku[cols].reset_index(drop=True)


def stockout_days(ws: Workspace, category: str | None = None) -> pd.DataFrame:
    """Days tracked and days out of stock per SKU.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.
    category : str, optional
        Restrict to the SKUs of this ``items.category``.

    Returns
    -------
    pandas.DataFrame
        Columns ``sku``, ``days_tracked`` [days], ``days_out_of_stock`` [days]
        and ``share_out_of_stock`` [fraction], sorted by the share (largest
        first), then by SKU. ``frame.attrs["source"]`` is ``"stock"``,
        ``"demand"`` or ``"none"`` (empty frame: the workspace says nothing
        about stock).

    Notes
    -----
    From ``stock``: on-hand is summed over locations per SKU and day, and a
    day is out of stock when that sum is zero or less. From ``demand``: a day
    is out of stock when ``in_stock`` is False; days where it is missing are
    not tracked. The days after a discontinued SKU's last day in stock
    (``items.status == "discontinued"``) are not tracked: the SKU is
    delisted, not out of stock.
    """
    days = _stock_day_codes(ws)
    n = len(days.skus)
    tracked = np.bincount(days.code, minlength=n)
    keep = tracked > 0
    if category is not None:
        keep &= pd.Index(np.asarray(days.skus, dtype=object)).isin(_skus_in(ws, category))
    out = pd.DataFrame(
        {
            "sku": days.skus[keep],
            "days_tracked": tracked[keep].astype("int64"),
            "days_out_of_stock": np.bincount(days.code[days.out], minlength=n)[keep].astype("int64"),
        }
    )
    out["share_out_of_stock"] = out["days_out_of_stock"] / out["days_tracked"]
    out = out.sort_values(["share_out_of_stock", "sku"], ascending=[False, True]).reset_index(drop=True)
    out.attrs["source"] = days.source
    return out


def health_summary(ws: Workspace, category: str | None = None) -> HealthSummary:
    """Headline numbers: units, money, SKUs and the stock-out share.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.
    category : str, optional
        Restrict to the SKUs of this ``items.category``.

    Returns
    -------
    HealthSummary

    Notes
    -----
    The stock-out share pools all SKUs: the sum of out-of-stock days over the
    sum of tracked days, so SKUs tracked longer weigh more.
    """
    sales = daily_sales(ws, category)
    stock = stockout_days(ws, category)
    if category is not None:
        skus = len(_skus_in(ws, category))
    else:
        known = set()
        if ws.items is not None and "sku" in ws.items.columns:
            known.update(ws.items["sku"].dropna().astype(str).unique())
        known.update(sales["sku"].unique())
        skus = len(known)
    tracked = stock["days_tracked"].sum()
    share = float(stock["days_out_of_stock"].sum() / tracked) if tracked else float("nan")
    sold = sales.loc[sales["units"] > 0, "sku"].nunique()
    return HealthSummary(
        units=float(sales["units"].sum()),
        gmv=float(sales["gmv"].sum()),
        skus=int(skus),
        skus_sold=int(sold),
        stockout_share=share,
        first_date=sales["date"].min() if len(sales) else None,
        last_date=sales["date"].max() if len(sales) else None,
        source=sales.attrs.get("source", "none"),
    )


def data_warnings(ws: Workspace) -> list[str]:
    """Plain-words warnings about gaps that change how the health numbers read.

    Parameters
    ----------
    ws : Workspace
        The shop's tables.

    Returns
    -------
    list of str
        One sentence per warning; empty when nothing stands out. Rule
        violations are not repeated here: see :func:`opslib.data.validate`.
    """
    out: list[str] = []
    sales = daily_sales(ws)
    source = sales.attrs.get("source", "none")
    if source == "none":
        out.append("No sales: the workspace has neither order lines nor a demand table.")
    elif source == "demand":
        out.append(
            "There are no order lines: sales come from the demand table, and money is units times "
            "the demand price (the item list price where it is missing)."
        )
    if _stock_day_codes(ws).source == "none":
        out.append("Stock-outs are unknown: there are no stock snapshots and the demand table has no in_stock flags.")
    items = ws.items
    if items is None:
        out.append("There is no items table: SKUs have no names or categories, and the category filter is off.")
    else:
        if "category" not in items.columns:
            out.append("The items table has no category column: the category filter is off.")
        else:
            blank = items["category"].isna().sum()
            if blank:
                out.append(f"{blank:,} items have no category: they count under 'All categories' only.")
        unknown = sorted(set(sales["sku"].unique()) - set(items["sku"].astype(str)))
        if unknown:
            examples = ", ".join(unknown[:5])
            out.append(
                f"{len(unknown):,} SKUs are sold but missing from items (e.g. {examples}): "
                "they count under 'All categories' only."
            )
    report = ws.load_report
    for skipped in getattr(report, "skipped", None) or []:
        out.append(
            f"The loader skipped {skipped.n_rows:,} rows of {skipped.table} ({skipped.rule}): {skipped.reason}"
        )
    return out


# --------------------------------------------------------------------------- helpers


def _to_day(values: pd.Series) -> pd.Series:
    """Calendar days (midnight, timezone dropped) of a date or timestamp column."""
    s = pd.to_datetime(values, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.dt.normalize()


def _skus_in(ws: Workspace, category: str) -> pd.Index:
    """The SKUs of one category; ValueError naming the categories if unknown."""
    names = categories(ws)
    if category not in names:
        listed = ", ".join(repr(c) for c in names) if names else "none (items has no category column)"
        raise ValueError(f"unknown category {category!r}; the categories in items.category are {listed}")
    items = ws.items
    return pd.Index(items.loc[items["category"].astype(str) == category, "sku"].astype(str).unique())


def _item_labels(ws: Workspace) -> pd.DataFrame:
    """sku, name, category from items (missing columns filled with NA)."""
    items = ws.items
    if items is None:
        items = pd.DataFrame({"sku": pd.Series(dtype=object)})
    items = items.drop_duplicates("sku")
    out = pd.DataFrame({"sku": items["sku"].astype(str).to_numpy()})
    for col in ("name", "category"):
        out[col] = items[col].to_numpy() if col in items.columns else pd.NA
    return out


# One-entry memo of the per-SKU daily sales, keyed by the identity of the source
# frames: the app asks for the same workspace on every filter change, and the
# grouping of order lines is the slow part at scale. Replacing a table on the
# workspace (a new frame object) invalidates it; mutating a frame in place does not.
_memo: dict[str, tuple] = {}


def _memo_get(kind: str, sources: tuple):
    entry = _memo.get(kind)
    if entry is None:
        return None
    refs, value = entry
    if len(refs) != len(sources):
        return None
    for ref, src in zip(refs, sources):
        if (ref is None) != (src is None) or (ref is not None and ref() is not src):
            return None
    return value


def _memo_put(kind: str, sources: tuple, value) -> None:
    _memo[kind] = (tuple(None if s is None else weakref.ref(s) for s in sources), value)


def _daily_sales_cached(ws: Workspace) -> pd.DataFrame:
    sources = (ws.order_lines, ws.demand, ws.items)
    cached = _memo_get("sales", sources)
    if cached is None:
        cached = _compute_daily_sales(ws)
        _memo_put("sales", sources, cached)
    out = cached.copy()
    out.attrs["source"] = cached.attrs.get("source", "none")
    return out


def _compute_daily_sales(ws: Workspace) -> pd.DataFrame:
    lines = ws.order_lines
    if lines is not None and len(lines):
        frame = pd.DataFrame(
            {
                "sku": lines["sku"].astype(str).to_numpy(),
                "date": _to_day(lines["order_ts"]).to_numpy(),
                "units": pd.to_numeric(lines["qty"], errors="coerce").astype(float).to_numpy(),
                "gmv": pd.to_numeric(lines["paid_amount"], errors="coerce").astype(float).to_numpy(),
            }
        )
        source = "order_lines"
    elif ws.demand is not None and len(ws.demand):
        demand = ws.demand
        units = pd.to_numeric(demand["units"], errors="coerce").astype(float)
        if "price" in demand.columns:
            price = pd.to_numeric(demand["price"], errors="coerce").astype(float)
        else:
            price = pd.Series(np.nan, index=demand.index)
        if ws.items is not None and "price" in ws.items.columns:
            list_price = demand["sku"].map(ws.items.drop_duplicates("sku").set_index("sku")["price"])
            price = price.fillna(pd.to_numeric(list_price, errors="coerce").astype(float))
        frame = pd.DataFrame(
            {
                "sku": demand["sku"].astype(str).to_numpy(),
                "date": _to_day(demand["date"]).to_numpy(),
                "units": units.to_numpy(),
                "gmv": (units * price.fillna(0.0)).to_numpy(),
            }
        )
        source = "demand"
    else:
        frame = pd.DataFrame(
            {
                "sku": pd.Series(dtype=object),
                "date": pd.Series(dtype="datetime64[ns]"),
                "units": pd.Series(dtype=float),
                "gmv": pd.Series(dtype=float),
            }
        )
        frame.attrs["source"] = "none"
        return frame
    frame = frame.dropna(subset=["date"])
    out = frame.groupby(["sku", "date"], as_index=False, sort=True)[["units", "gmv"]].sum()
    out.attrs["source"] = source
    return out[_SALES_COLUMNS]


class StockDayCodes(NamedTuple):
    """Tracked SKU-days as integer codes: the shared core of the stock-out measures.

    Attributes
    ----------
    skus : pandas.api.extensions.ExtensionArray
        The distinct SKUs as text, sorted; ``code`` indexes into it.
    code : numpy.ndarray of int64
        The SKU of each tracked day.
    day : numpy.ndarray of int64
        The day, as days since 1970-01-01 [days].
    out : numpy.ndarray of bool
        True when the SKU was out of stock that day.
    source : str
        ``"stock"``, ``"demand"`` or ``"none"``.

    The rows are sorted by SKU, then day, one per SKU and day.
    """

    skus: object
    code: np.ndarray
    day: np.ndarray
    out: np.ndarray
    source: str

    def dates(self) -> np.ndarray:
        """``day`` as ``datetime64[ns]`` (midnight)."""
        return self.day.astype("datetime64[D]").astype("datetime64[ns]")


def _day_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of a date column, and the mask of valid dates."""
    days = _to_day(values)
    valid = days.notna().to_numpy()
    numbers = days.to_numpy().astype("datetime64[D]").astype(np.int64)
    return numbers, valid


def _sku_codes(values: pd.Series) -> tuple[np.ndarray, object]:
    """Integer codes of the SKUs (-1 when missing) and the sorted distinct SKUs as text."""
    codes, uniques = pd.factorize(values.astype("str").array, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), pd.array(np.asarray(uniques, dtype=object), dtype="str")


def _sum_per_key(code: np.ndarray, day: np.ndarray, n_codes: int, values: np.ndarray):
    """Sum ``values`` per (code, day): the distinct codes and days, sorted, and the sums.

    Integer keys instead of a groupby over text: a daily stock table of 10,000 SKUs over
    three years (11 M rows) needs no sort when it arrives sorted (the usual export), a
    counting pass when the key space is dense, and a sort otherwise.
    """
    if not len(code):
        return code, day, values
    first = int(day.min())
    span = int(day.max()) - first + 1
    key = code * span + (day - first)
    if len(key) < 2 or bool((key[1:] > key[:-1]).all()):
        return code, day, values
    if n_codes * span <= 4 * len(key) + 1_000_000:
        counts = np.bincount(key, minlength=n_codes * span)
        present = np.flatnonzero(counts)
        sums = np.bincount(key, weights=values, minlength=n_codes * span)[present]
    else:
        present, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse.ravel(), weights=values, minlength=len(present))
    return present // span, present % span + first, sums


def _delisted(ws: Workspace, skus, code: np.ndarray, day: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Rows after a discontinued SKU's last day in stock (True: drop).

    A SKU that ``items.status`` marks ``discontinued`` and that has sold out
    for good is delisted, not out of stock: counting its remaining days would
    make the stock-out share measure the assortment's history instead of the
    replenishment. A discontinued SKU never in stock in the data keeps no days.
    """
    items = ws.items
    drop = np.zeros(len(code), dtype=bool)
    if items is None or "status" not in items.columns or not len(code):
        return drop
    gone = items.loc[items["status"].astype(str).str.strip().str.lower() == "discontinued", "sku"].astype(str)
    is_gone = pd.Index(np.asarray(skus, dtype=object)).isin(gone.unique())
    if not is_gone.any():
        return drop
    of_gone = is_gone[code]
    last_in_stock = np.full(len(is_gone), np.iinfo(np.int64).min)
    held = of_gone & ~out
    np.maximum.at(last_in_stock, code[held], day[held])
    return of_gone & (day > last_in_stock[code])


def _stock_day_codes(ws: Workspace) -> StockDayCodes:
    """The tracked SKU-days of the workspace as integer codes (memoized).

    From ``stock``: on-hand summed per SKU and day (over locations), out of
    stock when the sum is zero or less; rows without a date or an on-hand are
    not tracked. Else from ``demand.in_stock`` where it is known. The days
    after a discontinued SKU's last day in stock are left out (see
    :func:`stockout_days`).
    """
    sources = (ws.stock, ws.demand, ws.items)
    cached = _memo_get("stock", sources)
    if cached is not None:
        return cached
    stock, demand = ws.stock, ws.demand
    if stock is not None and len(stock):
        code, skus = _sku_codes(stock["sku"])
        day, dated = _day_numbers(stock["date"])
        on_hand = pd.to_numeric(stock["on_hand"], errors="coerce").to_numpy(dtype=float)
        keep = dated & ~np.isnan(on_hand) & (code >= 0)
        code, day, total = _sum_per_key(code[keep], day[keep], len(skus), on_hand[keep])
        out, source = total <= 0, "stock"
    elif demand is not None and "in_stock" in demand.columns and demand["in_stock"].notna().any():
        known = demand[demand["in_stock"].notna().to_numpy()]
        code, skus = _sku_codes(known["sku"])
        day, dated = _day_numbers(known["date"])
        out = ~known["in_stock"].astype(bool).to_numpy()
        keep = dated & (code >= 0)
        code, day, out = code[keep], day[keep], out[keep]
        order = np.lexsort((day, code))
        code, day, out, source = code[order], day[order], out[order], "demand"
    else:
        empty = np.zeros(0, dtype=np.int64)
        value = StockDayCodes(pd.array([], dtype="str"), empty, empty, np.zeros(0, dtype=bool), "none")
        _memo_put("stock", sources, value)
        return value
    keep = ~_delisted(ws, skus, code, day, out)
    value = StockDayCodes(skus, code[keep], day[keep], out[keep], source)
    _memo_put("stock", sources, value)
    return value


def _stock_days(ws: Workspace) -> pd.DataFrame:
    """sku, date, out (bool): one row per tracked SKU-day, sorted by SKU and date."""
    codes = _stock_day_codes(ws)
    days = pd.DataFrame({"sku": codes.skus.take(codes.code), "date": codes.dates(), "out": codes.out})
    days.attrs["source"] = codes.source
    return days
