"""The canonical tables of opslib: names, columns, dtypes, keys and units.

This module is the vocabulary of the whole package (DESIGN.md, "Canonical
tables"). Every loader, importer and generator produces these tables, and every
engine consumes them. Extra columns are allowed and kept.

Conventions
-----------
* ``sku`` is a string identifier. Money is in the shop's currency (the demo
  shop: CNY). Quantities are in units.
* ``date`` columns are calendar days stored as ``datetime64[ns]`` at midnight;
  ``order_ts`` is a timestamp.
* ``stock.on_hand`` is the physical stock at the **end** of the day.
* ``promotions.scope`` says what a promotion applies to: ``all``,
  ``category:<category>`` or ``sku:<sku>[|<sku>...]``.
* ``promotions.depth`` is a fraction of the price (0.2 = 20% off);
  ``threshold`` and ``reward`` are money (满300减30: threshold 300, reward 30);
  tiered threshold offers list their tiers in ``tiers`` as
  ``"threshold:reward|threshold:reward"``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Column",
    "TableSchema",
    "SCHEMAS",
    "TABLE_NAMES",
    "PROMO_MECHANICS",
    "MOVEMENT_KINDS",
]


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    Parameters
    ----------
    name : str
        Column name.
    dtype : {"str", "int", "float", "bool", "date", "datetime"}
        Logical type. ``int`` columns hold whole numbers but may be stored as
        float when missing values are allowed.
    required : bool
        Whether the column must be present.
    nonnegative : bool
        Whether negative values are refused.
    nullable : bool
        Whether missing values are allowed (only matters when the column is
        present).
    unit : str
        Unit of the values, for documentation.
    description : str
        What the column means.
    """

    name: str
    dtype: str
    required: bool = True
    nonnegative: bool = False
    nullable: bool = False
    unit: str = ""
    description: str = ""


@dataclass(frozen=True)
class TableSchema:
    """The schema of one canonical table."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str = ""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def __contains__(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)


def _c(name, dtype, required=True, nonnegative=False, nullable=None, unit="", description=""):
    if nullable is None:
        nullable = not required
    return Column(name, dtype, required, nonnegative, nullable, unit, description)


PROMO_MECHANICS: tuple[str, ...] = (
    "percent_off",  # depth
    "threshold",  # 满减: threshold, reward (or tiers)
    "repeating_threshold",  # 每满减: threshold, reward, repeats
    "item_count",  # 满N件折: threshold (items), depth
    "flash_sale",  # depth, stock_cap
    "second_half_price",  # second item half price
    "bogo",  # buy one get one
    "gift",  # gift with purchase: threshold, reward (gift cost)
    "coupon",  # threshold, reward (face value)
    "points",  # loyalty points: depth (points value as a fraction)
)

MOVEMENT_KINDS: tuple[str, ...] = ("receipt", "shipment", "return", "adjustment", "transfer")

SCHEMAS: dict[str, TableSchema] = {}


def _table(name, key, description, *columns):
    SCHEMAS[name] = TableSchema(name, tuple(columns), tuple(key), description)


_table(
    "items", ("sku",), "One row per stock-keeping unit: the item master.",
    _c("sku", "str", description="Stock-keeping unit identifier."),
    _c("unit_cost", "float", nonnegative=True, unit="currency/unit", description="Purchase cost per unit."),
    _c("price", "float", nonnegative=True, unit="currency/unit", description="Regular selling price per unit."),
    _c("name", "str", False),
    _c("category", "str", False),
    _c("brand", "str", False),
    _c("supplier", "str", False),
    _c("case_pack", "int", False, nonnegative=True, unit="units", description="Units per case; orders are multiples of it."),
    _c("moq", "int", False, nonnegative=True, unit="units", description="Minimum order quantity."),
    _c("lead_time_days", "float", False, nonnegative=True, unit="days", description="Nominal supplier lead time."),
    _c("holding_cost_rate_per_year", "float", False, nonnegative=True, unit="1/year", description="Holding cost as a fraction of unit cost per year."),
    _c("order_cost", "float", False, nonnegative=True, unit="currency/order", description="Fixed cost per purchase order line."),
    _c("status", "str", False, description="active, new or discontinued."),
)

_table(
    "order_lines", ("order_id", "sku"), "One row per order and SKU: what customers bought.",
    _c("order_id", "str"),
    _c("order_ts", "datetime", description="When the order was placed."),
    _c("sku", "str"),
    _c("qty", "int", nonnegative=True, unit="units"),
    _c("paid_amount", "float", nonnegative=True, unit="currency", description="Amount paid for the line after all discounts."),
    _c("customer_id", "str", False),
    _c("list_price", "float", False, nonnegative=True, unit="currency/unit"),
    _c("channel", "str", False),
    _c("promo_id", "str", False),
)

_table(
    "demand", ("sku", "date"), "Derived: one row per SKU and calendar day (see opslib.data.daily_demand).",
    _c("sku", "str"),
    _c("date", "date"),
    _c("units", "float", nonnegative=False, unit="units/day", description="Units sold (net of returns if asked: may then be negative)."),
    _c("in_stock", "bool", False, description="False on days the SKU had no stock at the end of the day; missing when unknown."),
    _c("suspected_stockout", "bool", False, description="True on book-in-stock days of a zero-sales run that the stock records or the SKU's own selling rate say was a hidden stock-out (opslib.data.suspected_stockouts); missing where in_stock is."),
    _c("price", "float", False, nonnegative=True, unit="currency/unit", description="Average paid price per unit."),
    _c("promo_id", "str", False),
)

_table(
    "stock", ("sku", "date"), "Stock snapshots: on-hand stock at the end of a day.",
    _c("sku", "str"),
    _c("date", "date"),
    _c("on_hand", "float", nonnegative=True, unit="units"),
    _c("on_order", "float", False, nonnegative=True, unit="units"),
    _c("backorders", "float", False, nonnegative=True, unit="units"),
    _c("location", "str", False),
)

_table(
    "purchase_orders", ("po_id", "sku"), "Purchase orders to suppliers and their receipts.",
    _c("po_id", "str"),
    _c("sku", "str"),
    _c("supplier", "str"),
    _c("order_date", "date"),
    _c("qty_ordered", "float", nonnegative=True, unit="units"),
    _c("expected_date", "date", False),
    _c("receipt_date", "date", False, description="Missing while the order is open."),
    _c("qty_received", "float", False, nonnegative=True, unit="units"),
    _c("qty_rejected", "float", False, nonnegative=True, unit="units", description="Units rejected at receipt inspection."),
)

_table(
    "promotions", ("promo_id",), "Promotions with their mechanic, window and scope.",
    _c("promo_id", "str"),
    _c("mechanic", "str", description="One of PROMO_MECHANICS."),
    _c("start", "date"),
    _c("end", "date", description="Last day of the promotion (inclusive)."),
    _c("scope", "str", description="all, category:<category> or sku:<sku>[|<sku>...]."),
    _c("depth", "float", False, nonnegative=True, unit="fraction of price"),
    _c("threshold", "float", False, nonnegative=True, unit="currency (items for item_count)"),
    _c("reward", "float", False, nonnegative=True, unit="currency"),
    _c("tiers", "str", False, description='Tiered offers: "threshold:reward|threshold:reward".'),
    _c("funding_share", "float", False, nonnegative=True, unit="fraction", description="Share of the discount funded by a supplier or platform."),
    _c("fixed_cost", "float", False, nonnegative=True, unit="currency"),
    _c("stock_cap", "float", False, nonnegative=True, unit="units"),
    _c("cap", "float", False, nonnegative=True, unit="currency", description="Most money a repeating offer (每满减) gives per basket."),
    _c("per_customer_limit", "int", False, nonnegative=True, unit="units", description="Flash sales: promotional units per order."),
    _c("breakage", "float", False, nonnegative=True, unit="fraction", description="Points: share of issued points never redeemed."),
    _c("name", "str", False),
)

_table(
    "calendar", ("date",), "One row per day with events and holidays.",
    _c("date", "date"),
    _c("event", "str", False, description="Shopping festival or holiday name (618, Double 11, ...)."),
    _c("is_holiday", "bool", False),
    _c("supplier_shutdown", "bool", False, description="Suppliers do not ship on this day (e.g. around Chinese New Year)."),
)

_table(
    "traffic", ("date",), "Sessions (site visits) per day, optionally per SKU.",
    _c("date", "date"),
    _c("sessions", "int", nonnegative=True, unit="sessions/day"),
    _c("sku", "str", False),
    _c("visitors", "int", False, nonnegative=True, unit="visitors/day"),
)

_table(
    "returns", ("order_id", "sku"), "Customer returns of order lines.",
    _c("order_id", "str"),
    _c("sku", "str"),
    _c("qty", "int", nonnegative=True, unit="units"),
    _c("return_date", "date"),
    _c("reason", "str", False),
)

_table(
    "stock_movements", (), "Every movement of stock: receipts, shipments, returns, adjustments, transfers.",
    _c("date", "date"),
    _c("sku", "str"),
    _c("kind", "str", description="One of MOVEMENT_KINDS."),
    _c("qty", "float", unit="units", description="Signed: positive into stock, negative out of stock."),
    _c("reference", "str", False),
)

_table(
    "stock_counts", ("sku", "date"), "Physical stocktake counts.",
    _c("sku", "str"),
    _c("date", "date"),
    _c("counted_qty", "float", nonnegative=True, unit="units"),
    _c("counter", "str", False),
)

TABLE_NAMES: tuple[str, ...] = tuple(SCHEMAS)
