"""Importers of foreign layouts into canonical tables, and converters out.

Foreign column names are mapped here and nowhere else (DESIGN.md, layer 1):

* :func:`from_m5`: the M5 (Walmart) competition files, a wide daily sales file
  plus ``calendar.csv`` and ``sell_prices.csv``;
* :func:`from_shopify`: a Shopify "Export orders" CSV;
* :func:`to_statsforecast` / :func:`from_statsforecast`: the long
  ``unique_id, ds, y`` frame of Nixtla's statsforecast.

Importers return a :class:`~opslib.data.Workspace` whose ``load_report`` is an
:class:`ImportReport`: what was read, what was assumed and what was skipped on
purpose (nothing is dropped silently).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from opslib.data.money import allocate_cents
from opslib.data.workspace import Workspace
from opslib.errors import DataError

__all__ = [
    "ImportReport",
    "DEFAULT_COST_RATIO",
    "from_m5",
    "from_shopify",
    "to_statsforecast",
    "from_statsforecast",
]

DEFAULT_COST_RATIO = 0.7
"""Assumed ``unit_cost / price`` when the source has no purchase costs (M5, Shopify).

A 30% gross margin on the regular price: a placeholder so that inventory value
and holding costs are of the right order of magnitude. Replace ``items.unit_cost``
with real costs before trusting any cost figure.
"""


@dataclass
class ImportReport:
    """What an importer read, assumed and skipped.

    Attributes
    ----------
    source : str
        The layout read (``"m5"``, ``"shopify"``).
    files : dict of str to str
        The files read, by role.
    rows_read : dict of str to int
        Rows read, by file or input.
    rows : dict of str to int
        Rows per canonical table produced.
    assumptions : list of str
        Values that the source does not have and that were assumed, in words.
    skipped : dict of str to int
        Rows (or orders, as the key says) left out on purpose, by reason.
    counts : dict of str to float
        Other figures worth knowing (lines re-keyed, amounts refunded, ...).
    currency : str or None
        The currency of the money columns, when the source says.
    """

    source: str
    files: dict[str, str] = field(default_factory=dict)
    rows_read: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    currency: str | None = None

    def __str__(self) -> str:
        lines = [f"import from {self.source}"]
        lines += [f"  read {n:,} rows from {name}" for name, n in self.rows_read.items()]
        lines += [f"  produced {name}: {n:,} rows" for name, n in self.rows.items()]
        lines += [f"  assumed: {text}" for text in self.assumptions]
        lines += [f"  skipped {n:,}: {reason}" for reason, n in self.skipped.items()]
        lines += [f"  {name}: {value:,}" for name, value in self.counts.items()]
        return "\n".join(lines)


def _cost_assumption(cost_ratio: float, source: str) -> str:
    if not 0 <= cost_ratio:
        raise DataError(f"cost_ratio must be >= 0 (a fraction of the price); got {cost_ratio!r}.")
    return (f"items.unit_cost = {cost_ratio:g} x items.price: {source} has no purchase costs "
            "(column items.unit_cost_is_assumed is True); replace with real costs")


# --------------------------------------------------------------------------- M5

_M5_ID_COLUMNS = ("id", "item_id", "dept_id", "cat_id", "store_id", "state_id")
_M5_CALENDAR_COLUMNS = ("date", "wm_yr_wk", "d", "event_name_1", "event_type_1", "event_name_2", "event_type_2")
_M5_HOLIDAY_TYPES = ("National", "Religious")


def from_m5(
    path: str | Path,
    *,
    stores: Sequence[str] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    cost_ratio: float = DEFAULT_COST_RATIO,
) -> Workspace:
    """Read the M5 (Walmart) competition files into a workspace.

    Parameters
    ----------
    path : str or Path
        Folder holding ``sales_train_evaluation.csv`` (or
        ``sales_train_validation.csv``; ``.gz`` accepted), ``calendar.csv``
        and ``sell_prices.csv``.
    stores : sequence of str, optional
        Store ids to keep (``"CA_1"``, ...). Default: all stores.
    start, end : date-like, optional
        First and last day of demand to keep (inclusive). Default: all days.
    cost_ratio : float, default DEFAULT_COST_RATIO (0.7)
        Assumed ``unit_cost / price`` [fraction]: M5 has no costs.

    Returns
    -------
    Workspace
        Named ``"m5"``, with no ``order_lines`` (M5 has daily sales only) and:

        * ``items``: one SKU per item and store, ``sku = "<item_id>_<store_id>"``;
          ``price`` [currency/unit] is the median weekly ``sell_price`` over the
          kept weeks, ``unit_cost = cost_ratio * price`` (assumed, flagged in
          ``unit_cost_is_assumed``); ``name`` from ``item_id``, ``category``
          from ``cat_id``; extra columns ``item_id, dept_id, store_id, state_id``;
        * ``demand``: ``sku, date, units, in_stock, price, promo_id, snap``;
          ``units`` [units/day] from the ``d_*`` columns, ``price``
          [currency/unit] the week's ``sell_price`` (joined on ``wm_yr_wk``),
          ``in_stock`` all ``<NA>`` (no stock data in M5), ``promo_id`` all
          ``<NA>``, ``snap`` (bool) whether the day is a SNAP day in the
          store's state, ``units_imputed`` (bool) see Notes;
        * ``calendar``: ``date, event, is_holiday`` plus ``event_type``,
          ``wm_yr_wk`` and ``snap_<state>`` (bool) for each state; ``event``
          joins ``event_name_1`` and ``event_name_2`` with ``"|"``;
          ``is_holiday`` is True for ``National`` and ``Religious`` events. The
          calendar runs from the first demand day to the end of
          ``calendar.csv`` (future events are kept for forecasting).

        ``load_report`` is an :class:`ImportReport`.

    Raises
    ------
    opslib.DataError
        When a file or a column is missing, or when ``stores`` names an unknown
        store.

    Notes
    -----
    An M5 series has no price before its item went on sale in that store, and
    excerpts of M5 may leave leading days blank. A SKU's demand starts on its
    first day with a recorded value and a price (or a sale), much as
    :func:`opslib.data.daily_demand` starts at the first sale; the days before
    are left out and counted in ``load_report.skipped``. A blank ``d_`` value
    after that first day is read as 0 units, flagged in
    ``demand.units_imputed`` and counted in ``load_report.assumptions``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"from_m5: {str(folder)!r} is not a folder. Fix: pass the folder that holds "
                        "sales_train_evaluation.csv, calendar.csv and sell_prices.csv.")
    sales_file = _first_file(folder, ("sales_train_evaluation", "sales_train_validation"), "sales")
    calendar_file = _first_file(folder, ("calendar",), "calendar")
    prices_file = _first_file(folder, ("sell_prices",), "sell prices")
    assumption = _cost_assumption(cost_ratio, "M5")
    report = ImportReport("m5", files={"sales": str(sales_file), "calendar": str(calendar_file),
                                       "sell_prices": str(prices_file)})

    sales = pd.read_csv(sales_file)
    calendar = pd.read_csv(calendar_file)
    prices = pd.read_csv(prices_file)
    report.rows_read.update({sales_file.name: len(sales), calendar_file.name: len(calendar),
                             prices_file.name: len(prices)})
    _require(sales, sales_file.name, _M5_ID_COLUMNS)
    _require(calendar, calendar_file.name, _M5_CALENDAR_COLUMNS)
    _require(prices, prices_file.name, ("store_id", "item_id", "wm_yr_wk", "sell_price"))

    if stores is not None:
        stores = [stores] if isinstance(stores, str) else list(stores)
        unknown = sorted(set(stores) - set(sales["store_id"]))
        if unknown:
            raise DataError(
                f"from_m5: unknown store(s) {', '.join(unknown)} in {sales_file.name}, column 'store_id'; "
                f"the stores are {', '.join(sorted(sales['store_id'].unique()))}. Fix: pass some of these."
            )
        sales = sales[sales["store_id"].isin(stores)]

    calendar["date"] = pd.to_datetime(calendar["date"]).astype("datetime64[ns]")
    day_columns = [c for c in sales.columns if re.fullmatch(r"d_\d+", str(c))]
    if not day_columns:
        raise DataError(f"from_m5: {sales_file.name} has no day columns d_1, d_2, ...: is it the M5 sales file?")
    day_info = calendar.set_index("d").reindex(day_columns)
    if day_info["date"].isna().any():
        missing = [d for d, ok in zip(day_columns, day_info["date"].notna()) if not ok]
        raise DataError(f"from_m5: {calendar_file.name}, column 'd' lacks the day(s) {', '.join(missing[:5])} "
                        f"of {sales_file.name}. Fix: use the calendar.csv that came with the sales file.")
    keep_days = np.ones(len(day_columns), dtype=bool)
    if start is not None:
        keep_days &= (day_info["date"] >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep_days &= (day_info["date"] <= pd.Timestamp(end)).to_numpy()
    if not keep_days.any():
        raise DataError(f"from_m5: no day of {sales_file.name} lies in start={start}..end={end}; the data "
                        f"covers {day_info['date'].min():%Y-%m-%d}..{day_info['date'].max():%Y-%m-%d}.")
    day_columns = [d for d, k in zip(day_columns, keep_days) if k]
    day_info = day_info.loc[day_columns]

    meta = sales[list(_M5_ID_COLUMNS)].astype(str)
    meta["sku"] = meta["item_id"] + "_" + meta["store_id"]
    by_sku = np.argsort(meta["sku"].to_numpy(), kind="stable")
    meta = meta.iloc[by_sku].reset_index(drop=True)
    n_series, n_days = len(meta), len(day_columns)
    units = sales[day_columns].to_numpy(dtype=float)[by_sku].reshape(-1)  # series-major: sku, then date
    series = np.repeat(np.arange(n_series), n_days)
    weeks = np.tile(day_info["wm_yr_wk"].to_numpy(), n_series)

    price_key = prices.assign(sku=prices["item_id"].astype(str) + "_" + prices["store_id"].astype(str))
    price_key = price_key.drop_duplicates(["sku", "wm_yr_wk"]).set_index(["sku", "wm_yr_wk"])["sell_price"]
    price = price_key.reindex(pd.MultiIndex.from_arrays([meta["sku"].to_numpy()[series], weeks])).to_numpy(float)

    state = meta["state_id"].to_numpy()
    snap = np.zeros(n_series * n_days, dtype=bool)
    for st in np.unique(state):
        column = f"snap_{st}"
        if column not in day_info.columns:
            raise DataError(f"from_m5: {calendar_file.name} has no column {column!r} for the stores of state "
                            f"{st}. Fix: use the calendar.csv that came with the sales file.")
        rows = np.repeat(state == st, n_days)
        snap[rows] = np.tile(day_info[column].to_numpy().astype(bool), int((state == st).sum()))

    # Each series starts on its first day with a recorded value and a price (or a sale): the days
    # before, the item was not yet on sale in that store (or the file does not say).
    recorded = ~np.isnan(units)
    started = (recorded & (~np.isnan(price) | (units > 0))).reshape(n_series, n_days)
    ever = started.any(axis=1)
    first = np.where(ever, started.argmax(axis=1), n_days)
    keep = np.tile(np.arange(n_days), n_series) >= np.repeat(first, n_days)
    report.skipped["demand days before the series' first recorded, priced day (not yet on sale)"] = int(
        (~keep).sum())
    if (~ever).any():
        report.skipped["SKUs never priced nor sold in the period (no demand rows, no items row)"] = int(
            (~ever).sum())
    imputed = keep & ~recorded
    if imputed.any():
        report.assumptions.append(
            f"{int(imputed.sum())} blank d_ values after a series' first day read as 0 units "
            "(flagged in demand.units_imputed)")
    units = np.where(recorded, units, 0.0)

    dates = np.tile(day_info["date"].to_numpy(), n_series)
    demand = pd.DataFrame({
        "sku": pd.Series(meta["sku"].to_numpy()[series[keep]], dtype="str"),
        "date": dates[keep],
        "units": units[keep],
        "in_stock": pd.array(np.full(int(keep.sum()), pd.NA), dtype="boolean"),
        "price": price[keep],
        "promo_id": pd.array(np.full(int(keep.sum()), pd.NA), dtype="string"),
        "snap": snap[keep],
        "units_imputed": imputed[keep],
    })
    demand["date"] = demand["date"].astype("datetime64[ns]")

    kept_weeks = price_key[price_key.index.get_level_values("wm_yr_wk").isin(day_info["wm_yr_wk"])]
    median_price = kept_weeks.groupby(level="sku").median()
    items = meta.loc[ever, ["sku", "item_id", "dept_id", "cat_id", "store_id", "state_id"]].reset_index(drop=True)
    items["price"] = median_price.reindex(items["sku"]).to_numpy(float)
    items["unit_cost"] = cost_ratio * items["price"]
    items["unit_cost_is_assumed"] = True
    items["name"] = items["item_id"].astype(str)
    items["category"] = items["cat_id"].astype(str)
    items = items[["sku", "unit_cost", "price", "name", "category", "item_id", "dept_id", "store_id",
                   "state_id", "unit_cost_is_assumed"]].astype({"sku": "str"})
    report.assumptions.append(assumption)
    report.assumptions.append("demand.in_stock is <NA> (unknown): M5 has no stock data; "
                              "demand.promo_id is <NA>: M5 has no promotion data")
    report.assumptions.append("demand.price is the weekly shelf price (sell_price), not an average paid price")
    if items["price"].isna().any():
        report.counts["items without any sell_price in the period (price NaN)"] = int(items["price"].isna().sum())

    cal = calendar[calendar["date"] >= day_info["date"].min()].sort_values("date").reset_index(drop=True)
    names = cal[["event_name_1", "event_name_2"]]
    types = cal[["event_type_1", "event_type_2"]]
    out_calendar = pd.DataFrame({
        "date": cal["date"],
        "event": _join_nonmissing(names),
        "is_holiday": types.isin(_M5_HOLIDAY_TYPES).any(axis=1).to_numpy(),
        "event_type": _join_nonmissing(types),
        "wm_yr_wk": cal["wm_yr_wk"].to_numpy(),
    })
    for column in sorted(c for c in cal.columns if str(c).startswith("snap_")):
        out_calendar[column] = cal[column].astype(bool).to_numpy()

    report.rows.update(items=len(items), demand=len(demand), calendar=len(out_calendar))
    return Workspace(items=items, demand=demand, calendar=out_calendar, path=folder, name="m5",
                     load_report=report)


def _first_file(folder: Path, stems: Sequence[str], role: str) -> Path:
    for stem in stems:
        for suffix in (".csv", ".csv.gz"):
            candidate = folder / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    raise DataError(f"from_m5: no {role} file in {str(folder)!r}: expected "
                    + " or ".join(f"{s}.csv" for s in stems) + ". Fix: point path at the M5 data folder.")


def _require(frame: pd.DataFrame, table: str, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"{table!r} lacks the column(s) {', '.join(map(repr, missing))}; it has: "
            f"{', '.join(map(str, frame.columns[:30]))}. Fix: pass the data in its original layout (or rename the columns)."
        )


def _join_nonmissing(frame: pd.DataFrame) -> pd.Series:
    """Join the non-missing strings of each row with "|"; missing when none."""
    parts = frame.astype(object).where(frame.notna(), None).to_numpy()
    joined = ["|".join(str(v) for v in row if v is not None and str(v).strip()) for row in parts]
    return pd.Series(joined, dtype="str").replace("", np.nan)


# --------------------------------------------------------------------------- Shopify

_SHOPIFY_REQUIRED = ("Name", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem sku")
_SHOPIFY_ORDER_LEVEL = ("Email", "Financial Status", "Currency", "Discount Code", "Discount Amount",
                        "Created at", "Cancelled at", "Source", "Refunded Amount")
_TZ_SUFFIX = re.compile(r"\s*(?:[+-]\d{2}:?\d{2}|Z|UTC)$")


def from_shopify(
    path_or_frame: str | Path | pd.DataFrame,
    *,
    currency: str | None = None,
    cost_ratio: float = DEFAULT_COST_RATIO,
) -> Workspace:
    """Read a Shopify "Export orders" CSV into ``order_lines`` and ``items``.

    Parameters
    ----------
    path_or_frame : str, Path or DataFrame
        The export file (``orders_export.csv``) or the same read as strings.
        Order-level fields (``Email``, ``Created at``, ``Discount Code``,
        ``Discount Amount``, ``Cancelled at``, ``Source``, ...) are read from
        the first line of each order that has them: Shopify leaves them blank
        on the following lines.
    currency : str, optional
        The shop's currency (``"CNY"``). Orders in another currency are skipped
        and counted. Default: the export's single ``Currency``; an export with
        several currencies is refused.
    cost_ratio : float, default DEFAULT_COST_RATIO (0.7)
        Assumed ``unit_cost / price`` [fraction]: the export has no costs.

    Returns
    -------
    Workspace
        Named ``"shopify"``, with

        * ``order_lines``: one row per order and SKU (duplicate lines of one
          SKU in one order are summed): ``order_id`` (``Name``), ``order_ts``
          (``Created at`` as the shop's local wall-clock time, offset dropped),
          ``sku`` (``Lineitem sku``; when blank, ``Lineitem name``), ``qty``
          [units], ``list_price`` [currency/unit] (``Lineitem compare at
          price`` when higher than ``Lineitem price``), ``paid_amount``
          [currency] (see Notes), ``customer_id`` (SHA-256 of the lower-cased
          ``Email``, 16 hex digits; missing without email), ``channel``
          (``Source``), ``promo_id`` (``Discount Code``) and the extra column
          ``financial_status``;
        * ``items``: ``sku``, ``price`` (the latest ``Lineitem price``),
          ``unit_cost = cost_ratio * price`` (assumed, flagged in
          ``unit_cost_is_assumed``), ``name`` (``Lineitem name``), ``brand``
          and ``supplier`` (both ``Vendor``).

        ``load_report`` is an :class:`ImportReport`.

    Raises
    ------
    opslib.DataError
        When a required column is missing, a value does not parse, or the
        export mixes currencies and ``currency`` is not given.

    Notes
    -----
    ``paid_amount = price * qty - d`` where the order's ``Discount Amount`` D
    is allocated to its lines in proportion to their value ``price * qty``,
    in cents, by the largest-remainder method, so that the allocations sum
    exactly to D: line i first gets ``floor(D v_i / V)`` cents, and the cents
    left go one each to the lines with the largest remainders (ties: the
    earlier line; :func:`opslib.data.money.allocate_cents`). A discount
    larger than the order's line value is capped at it (counted). Prices
    are taken as exported (tax-inclusive or not, as the shop is set up);
    shipping is not part of any line.

    Cancelled orders (``Cancelled at`` filled) are skipped and counted.
    Refunded and partially refunded orders are kept: the demand happened, and
    the export does not say which lines came back. They are counted, with the
    refunded amount, and ``financial_status`` lets the caller filter them.
    """
    report = ImportReport("shopify")
    if isinstance(path_or_frame, pd.DataFrame):
        raw = path_or_frame.astype(object).where(path_or_frame.notna(), None).copy()
        report.files["orders"] = "<DataFrame>"
    else:
        file = Path(path_or_frame)
        if not file.is_file():
            raise DataError(f"from_shopify: no file {str(file)!r}. Fix: pass the orders export CSV "
                            "(Shopify admin > Orders > Export).")
        raw = pd.read_csv(file, dtype=str, keep_default_na=False).replace("", None)
        report.files["orders"] = str(file)
    assumption = _cost_assumption(cost_ratio, "a Shopify orders export")
    report.rows_read["orders export lines"] = len(raw)
    _require(raw, "Shopify orders export", _SHOPIFY_REQUIRED)
    raw = raw.reset_index(drop=True)
    for column in _SHOPIFY_ORDER_LEVEL:
        if column not in raw.columns:
            raw[column] = None
    for column in ("Lineitem compare at price", "Vendor"):
        if column not in raw.columns:
            raw[column] = None

    blank_name = raw["Name"].map(_blank).to_numpy(dtype=bool)
    if blank_name[0]:
        raise DataError("Shopify orders export, column 'Name': the first line has no order name. Fix: "
                        "export the orders again; every order starts with its name (#1001).")
    if blank_name.any():
        raw["Name"] = raw["Name"].where(~blank_name).ffill()
        report.counts["lines without Name, given the order of the line above"] = int(blank_name.sum())
    raw["Name"] = raw["Name"].astype(str).str.strip()

    # Order-level fields: the first non-blank value within the order.
    order_fields = raw[["Name", *_SHOPIFY_ORDER_LEVEL]].copy()
    for column in _SHOPIFY_ORDER_LEVEL:
        order_fields[column] = order_fields[column].where(~order_fields[column].map(_blank).astype(bool))
    orders = order_fields.groupby("Name", sort=False).first()
    line_order = orders.reindex(raw["Name"])

    if line_order["Created at"].isna().any():
        bad = raw.loc[line_order["Created at"].isna().to_numpy(), "Name"].unique()[:5]
        raise DataError("Shopify orders export, column 'Created at': no creation time for order(s) "
                        f"{', '.join(bad)}. Fix: export the orders again with the 'Created at' column.")

    cancelled = line_order["Cancelled at"].notna().to_numpy()
    report.skipped["cancelled orders (Cancelled at filled)"] = int(orders["Cancelled at"].notna().sum())
    report.skipped["lines of cancelled orders"] = int(cancelled.sum())

    currencies = line_order["Currency"].astype(object).where(line_order["Currency"].notna(), None).to_numpy()
    present = sorted({c for c in currencies[~cancelled] if c is not None})
    if currency is None:
        if len(present) > 1:
            raise DataError(f"Shopify orders export, column 'Currency': the orders mix currencies "
                            f"({', '.join(present)}). Fix: pass currency= to keep the shop's own currency.")
        currency = present[0] if present else None
        other_currency = np.zeros(len(raw), dtype=bool)
    else:
        other_currency = ~cancelled & np.array([c is not None and c != currency for c in currencies])
        report.skipped[f"orders in a currency other than {currency}"] = int(
            pd.Series(raw["Name"][other_currency]).nunique())
        report.skipped[f"lines of orders in a currency other than {currency}"] = int(other_currency.sum())
    report.currency = currency

    keep = ~cancelled & ~other_currency
    lines = raw[keep].reset_index(drop=True)
    order = line_order[keep].reset_index()

    qty = _number(lines["Lineitem quantity"], "Lineitem quantity")
    if np.any(qty < 0) or np.any(qty != np.round(qty)):
        bad = lines.loc[(qty < 0) | (qty != np.round(qty)), "Name"].head(5)
        raise DataError("Shopify orders export, column 'Lineitem quantity': quantities must be whole and >= 0; "
                        f"see order(s) {', '.join(bad)}. Fix: correct the export.")
    unit_price = _number(lines["Lineitem price"], "Lineitem price")
    compare_at = _number(lines["Lineitem compare at price"], "Lineitem compare at price", missing=np.nan)
    discount = _number(order["Discount Amount"], "Discount Amount", missing=0.0)

    sku = lines["Lineitem sku"].map(lambda v: None if _blank(v) else str(v).strip())
    no_sku = sku.isna().to_numpy()
    names = lines["Lineitem name"].map(lambda v: None if _blank(v) else str(v).strip())
    report.counts["lines without Lineitem sku, keyed by Lineitem name"] = int((no_sku & names.notna()).sum())
    unkeyed = no_sku & names.isna().to_numpy()
    report.skipped["lines without Lineitem sku nor Lineitem name"] = int(unkeyed.sum())
    sku = sku.where(~no_sku, names)

    # Discount allocation in cents, largest remainder within each order.
    order_code, _ = pd.factorize(lines["Name"])
    value_cents = np.round(unit_price * qty * 100).astype(np.int64)
    value_cents[unkeyed] = 0
    order_value = np.bincount(order_code, weights=value_cents).astype(np.int64)
    order_discount = np.zeros(len(order_value), dtype=np.int64)
    order_discount[order_code] = np.round(discount * 100).astype(np.int64)  # same value on every line
    capped = order_discount > order_value
    report.counts["orders whose discount exceeds their line value (capped)"] = int(capped.sum())
    order_discount = np.minimum(order_discount, order_value)
    allocated = allocate_cents(order_discount[order_code], value_cents, groups=order_code)
    paid_cents = value_cents - allocated

    out = pd.DataFrame({
        "order_id": lines["Name"].to_numpy(),
        "order_ts": _local_time(order["Created at"]),
        "sku": sku.to_numpy(),
        "qty": qty.astype(np.int64),
        "paid_amount": paid_cents / 100.0,
        "customer_id": [_customer_id(v) for v in order["Email"]],
        "list_price": np.fmax(unit_price, compare_at),
        "channel": order["Source"].to_numpy(),
        "promo_id": order["Discount Code"].to_numpy(),
        "financial_status": order["Financial Status"].to_numpy(),
        "_price": unit_price,
        "_vendor": lines["Vendor"].to_numpy(),
        "_name": names.to_numpy(),
        "_line": np.arange(len(lines)),
    })[~unkeyed]
    report.counts["discount allocated (currency)"] = float(allocated[~unkeyed].sum()) / 100
    refunded = orders[orders.index.isin(out["order_id"])]
    status = refunded["Financial Status"].fillna("").str.lower()
    report.counts["refunded or partially refunded orders (kept)"] = int(status.str.contains("refunded").sum())
    report.counts["refunded amount (currency)"] = float(
        _number(refunded["Refunded Amount"], "Refunded Amount", missing=0.0).sum())

    items = (
        out.sort_values(["order_ts", "_line"], kind="stable")
        .groupby("sku", sort=True)
        .agg(price=("_price", "last"), name=("_name", "last"), brand=("_vendor", "last"))
        .reset_index()
    )
    items["unit_cost"] = cost_ratio * items["price"]
    items["supplier"] = items["brand"]
    items["unit_cost_is_assumed"] = True
    items = items[["sku", "unit_cost", "price", "name", "brand", "supplier", "unit_cost_is_assumed"]]

    out["_list_value"] = out["list_price"] * out["qty"]
    keys = ["order_id", "sku"]
    grouped = out.groupby(keys, sort=False)
    duplicates = int(len(out) - grouped.ngroups)
    report.counts["duplicate (order_id, sku) lines summed into one"] = duplicates
    order_lines = grouped.agg(
        order_ts=("order_ts", "first"), qty=("qty", "sum"), paid_amount=("paid_amount", "sum"),
        customer_id=("customer_id", "first"), list_value=("_list_value", "sum"),
        list_price=("list_price", "first"), channel=("channel", "first"), promo_id=("promo_id", "first"),
        financial_status=("financial_status", "first"),
    ).reset_index()
    # Several lines of one SKU: the quantity-weighted list price.
    weighted = order_lines["list_value"] / order_lines["qty"].where(order_lines["qty"] > 0)
    order_lines["list_price"] = weighted.fillna(order_lines["list_price"])
    order_lines["paid_amount"] = order_lines["paid_amount"].round(2)
    order_lines = order_lines[["order_id", "order_ts", "sku", "qty", "paid_amount", "customer_id", "list_price",
                               "channel", "promo_id", "financial_status"]]
    for column in ("order_id", "sku", "customer_id", "channel", "promo_id", "financial_status"):
        order_lines[column] = order_lines[column].astype("str").where(order_lines[column].notna())
    items["sku"] = items["sku"].astype("str")

    report.assumptions.append(assumption)
    report.assumptions.append("order_ts is the shop's local wall-clock time as exported (UTC offset dropped)")
    report.assumptions.append("customer_id is a SHA-256 hash of the lower-cased email (no email kept)")
    report.assumptions.append("items.brand and items.supplier are both the product's Vendor")
    report.rows.update(order_lines=len(order_lines), items=len(items))
    return Workspace(items=items, order_lines=order_lines,
                     path=None if isinstance(path_or_frame, pd.DataFrame) else Path(path_or_frame),
                     name="shopify", load_report=report)


def _customer_id(email) -> str | None:
    """A stable pseudonym of an email: 16 hex digits of the SHA-256 of the lower-cased address."""
    if _blank(email):
        return None
    return hashlib.sha256(str(email).strip().lower().encode()).hexdigest()[:16]


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def _number(values: pd.Series, column: str, missing: float | None = None) -> np.ndarray:
    """Parse an export column of money or counts (``"1,234.50"`` accepted)."""
    text = values.map(lambda v: None if _blank(v) else str(v).replace(",", "").strip())
    parsed = pd.to_numeric(text, errors="coerce")
    bad = parsed.isna() & text.notna()
    if missing is None:
        bad |= text.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad.to_numpy()].head(5))
        raise DataError(f"Shopify orders export, column {column!r}: {int(bad.sum())} value(s) are not numbers "
                        f"({examples}). Fix: correct the export; numbers look like 48.00.")
    return parsed.fillna(missing if missing is not None else np.nan).to_numpy(dtype=float)


def _local_time(values: pd.Series) -> np.ndarray:
    """``2024-03-01 10:15:00 +0800`` -> the wall-clock time ``2024-03-01 10:15:00``."""
    text = values.astype(str).str.strip().str.replace(_TZ_SUFFIX, "", regex=True)
    try:
        parsed = pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise DataError(f"Shopify orders export, column 'Created at': cannot read the times ({exc}). "
                        "Fix: times look like '2024-03-01 10:15:00 +0800'.") from None
    return parsed.astype("datetime64[ns]").to_numpy()


# --------------------------------------------------------------------------- statsforecast


def to_statsforecast(demand: pd.DataFrame, *, exogenous: Sequence[str] | bool = False) -> pd.DataFrame:
    """The demand table in statsforecast's long layout ``unique_id, ds, y``.

    Parameters
    ----------
    demand : DataFrame
        The canonical ``demand`` table (``sku, date, units`` at least).
    exogenous : sequence of str or bool, default False
        Further columns to keep after ``y`` (statsforecast reads them as
        exogenous regressors): their names, or True for all other columns.

    Returns
    -------
    DataFrame
        ``unique_id`` (the sku), ``ds`` (the date), ``y`` (units [units/day]),
        then the exogenous columns, sorted by ``unique_id, ds``.
    """
    _require(demand, "demand", ("sku", "date", "units"))
    if exogenous is True:
        extra = [c for c in demand.columns if c not in ("sku", "date", "units")]
    elif exogenous is False:
        extra = []
    else:
        extra = list(exogenous)
        _require(demand, "demand", extra)
    frame = demand[["sku", "date", "units", *extra]].rename(columns={"sku": "unique_id", "date": "ds", "units": "y"})
    return frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def from_statsforecast(frame: pd.DataFrame) -> pd.DataFrame:
    """The demand table from statsforecast's ``unique_id, ds, y`` layout.

    Parameters
    ----------
    frame : DataFrame
        ``unique_id, ds, y`` (``unique_id`` may be the index, as in older
        statsforecast versions); other columns are kept.

    Returns
    -------
    DataFrame
        ``sku, date, units`` [units/day] then the other columns, sorted by
        ``sku, date``; ``date`` as ``datetime64[ns]``, ``units`` as float.
    """
    if "unique_id" not in frame.columns and frame.index.name == "unique_id":
        frame = frame.reset_index()
    _require(frame, "statsforecast frame", ("unique_id", "ds", "y"))
    out = frame.rename(columns={"unique_id": "sku", "ds": "date", "y": "units"})
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[ns]")
    out["units"] = out["units"].astype(float)
    return out.sort_values(["sku", "date"], kind="stable").reset_index(drop=True)
