"""Today's order list: what to order per SKU, grouped by supplier, with the reason and the exceptions.

:func:`order_suggestions` applies a policy table (:func:`opslib.inventory.plan_policies`)
to the current stock:

- inventory position = on hand + on order - backorders, from the last stock
  snapshot on or before ``as_of`` (``on_order`` from the snapshot, else the
  open purchase orders: empty ``receipt_date``); under lost sales (demand
  not served from stock is gone, the usual case online) nothing is owed, so
  the position is on hand + on order, and the projected stock starts from on
  hand (backorders in the snapshot are reported, not subtracted);
- (R,S): order ``S - IP`` when ``IP < S``; (r,Q): order the smallest multiple
  of ``Q`` that lifts ``IP`` above ``r`` when ``IP <= r``; either rounded up to
  the case pack and to at least the MOQ;
- supplier shutdown days (``calendar.supplier_shutdown``) do not count as lead
  time: an order placed today arrives after ``L`` working days, and the demand
  of the shutdown days inside that window is added to the target (order ahead);
- the projected stock-out date without the order: on hand minus backorders,
  plus open receipts on their expected dates, minus mean daily demand.

Exception lists: *at risk* (projected stock-out before the next receipt: the
earliest open purchase order, or today's order if none is open), *excess*
(position covering more than ``excess_cover_days`` of demand), *too much on
order* (the position exceeds the policy's top by more than one order and
the excess is on order), *dead stock* (stock but no demand for
``dead_stock_days``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = ["OrderSuggestions", "order_suggestions"]

HORIZON_DAYS = 730


@dataclass(frozen=True)
class OrderSuggestions:
    """Result of :func:`order_suggestions`.

    Attributes
    ----------
    orders : pandas.DataFrame
        One row per SKU to order, sorted by supplier: ``supplier, sku,
        on_hand, on_order, backorders, inventory_position, target_position,
        shutdown_days, quantity_needed, order_quantity, order_value,
        expected_arrival_date, projected_stockout_date, reason``.
    by_supplier : pandas.DataFrame
        Per supplier: ``lines, units, order_value``.
    status : pandas.DataFrame
        Every SKU of the policy table with its position, cover and flags.
    at_risk, excess, too_much_on_order, dead_stock : pandas.DataFrame
        The exception lists (rows of ``status``).
    as_of : pandas.Timestamp
    """

    orders: pd.DataFrame
    by_supplier: pd.DataFrame
    status: pd.DataFrame
    at_risk: pd.DataFrame
    excess: pd.DataFrame
    too_much_on_order: pd.DataFrame
    dead_stock: pd.DataFrame
    as_of: pd.Timestamp


def _round_up(qty, pack, moq):
    pack = max(int(pack), 1)
    q = np.ceil(qty / pack - 1e-9) * pack
    return max(q, np.ceil(max(moq, 0) / pack - 1e-9) * pack, pack)


def _working_arrival(as_of, lead_days, shutdown_dates):
    """Arrival after ``lead_days`` working days from ``as_of``, and the shutdown days skipped."""
    day, worked, skipped = 0, 0, 0
    one_day = pd.Timedelta(days=1)
    shut = {(d - as_of) // one_day for d in shutdown_dates if d > as_of and (d - as_of) % one_day == pd.Timedelta(0)}
    while worked < lead_days:
        day += 1
        if day in shut:
            skipped += 1
        else:
            worked += 1
    return as_of + pd.Timedelta(days=day), skipped


def _first_stockout_day(level, mu, receipts, horizon_days):
    """First day (0 = today) on which ``level`` less the daily demand ``mu`` falls below 0, receipts added on
    their day first (``receipts``: (day offset, units), sorted); None within ``horizon_days``."""
    k = 0
    for day in range(horizon_days):
        while k < len(receipts) and receipts[k][0] <= day:
            level += receipts[k][1]
            k += 1
        level -= mu
        if level < 0:
            return day
    return None


def order_suggestions(
    ws,
    policies,
    as_of=None,
    *,
    excess_cover_days: float = 120.0,
    dead_stock_days: int = 90,
    unmet_demand: str | None = None,
) -> OrderSuggestions:
    """What to order today per SKU, grouped by supplier, with the reason in words.

    Parameters
    ----------
    ws : Workspace
        ``stock`` (sku, date, on_hand; optional on_order, backorders),
        ``purchase_orders`` (open orders have an empty ``receipt_date``),
        optional ``calendar`` with ``supplier_shutdown`` and ``demand`` (for
        dead stock).
    policies : PolicyPlan or pandas.DataFrame
        The policy table of :func:`opslib.inventory.plan_policies` (columns
        sku, policy, order_up_to, reorder_point, order_quantity,
        demand_mean_per_day, lead_time_mean_days, supplier, unit_cost,
        case_pack, moq).
    as_of : date-like, optional
        Today (default: the last stock snapshot date).
    excess_cover_days : float, default 120
        Cover [days of mean demand] above which the position is excess.
    dead_stock_days : int, default 90
        Days without demand after which stock on hand is dead.
    unmet_demand : {"backordered", "lost"}, optional
        What happens to demand not served from stock. Default: the policy
        table's ``unmet_demand`` column, else ``"backordered"``. With
        ``"lost"``, backorders in the snapshot are not owed: they are left out
        of the position and the reason says so.

    Returns
    -------
    OrderSuggestions
    """
    table = getattr(policies, "policies", policies)
    need = {"sku", "policy", "order_up_to", "demand_mean_per_day", "lead_time_mean_days"}
    if not isinstance(table, pd.DataFrame) or not need <= set(table.columns):
        raise DataError(
            f"policies must be a PolicyPlan or its policies table with columns {sorted(need)}; got "
            f"{type(table).__name__}. Fix: pass opslib.inventory.plan_policies(ws, ...)."
        )
    if unmet_demand is None:
        column = table["unmet_demand"].dropna().unique() if "unmet_demand" in table else []
        unmet_demand = str(column[0]) if len(column) == 1 else "backordered"
    if unmet_demand not in ("backordered", "lost"):
        raise DataError(f"unmet_demand must be 'backordered' or 'lost'; got {unmet_demand!r}. Fix: pick one.")
    lost = unmet_demand == "lost"
    stock = getattr(ws, "stock", None)
    if stock is None or not {"sku", "date", "on_hand"} <= set(stock.columns):
        raise DataError("order_suggestions needs the stock table with sku, date, on_hand. Fix: load the stock snapshot.")
    dates = pd.to_datetime(stock["date"])
    today = dates.max() if as_of is None else pd.Timestamp(as_of)
    snap = stock[dates <= today].assign(date=dates[dates <= today]).sort_values("date").groupby("sku").tail(1)
    snap = snap.set_index("sku")

    po = getattr(ws, "purchase_orders", None)
    open_po = pd.DataFrame(columns=["sku", "qty_open", "expected_date"])
    if po is not None and len(po):
        o = po[po["receipt_date"].isna() & (pd.to_datetime(po["order_date"]) <= today)].copy()
        received = o["qty_received"].fillna(0) if "qty_received" in o else 0
        o["qty_open"] = (o["qty_ordered"] - received).clip(lower=0)
        o["expected_date"] = pd.to_datetime(o["expected_date"]) if "expected_date" in o else pd.NaT
        open_po = o[["sku", "qty_open", "expected_date"]]
    open_by_sku = dict(tuple(open_po.groupby("sku")))

    cal = getattr(ws, "calendar", None)
    shutdown = set()
    if cal is not None and "supplier_shutdown" in cal:
        shutdown = set(pd.to_datetime(cal.loc[cal["supplier_shutdown"].fillna(False).astype(bool), "date"]))

    last_sale = {}
    demand = getattr(ws, "demand", None)
    if demand is not None and len(demand):
        d = demand[(demand["units"] > 0) & (pd.to_datetime(demand["date"]) <= today)]
        last_sale = pd.to_datetime(d["date"]).groupby(d["sku"]).max().to_dict()

    rows = []
    one_day = pd.Timedelta(days=1)
    snapshot = snap.to_dict("index")  # sku -> {column: value}: one lookup per SKU
    for p in table.itertuples(index=False):
        if p.policy == "none" or p.sku not in snapshot:
            continue
        s = snapshot[p.sku]
        on_hand = float(s["on_hand"])
        backorders = float(s["backorders"]) if "backorders" in snap and pd.notna(s["backorders"]) else 0.0
        ignored_backorders = backorders if lost else 0.0
        if lost:
            backorders = 0.0
        opens = open_by_sku.get(p.sku)
        open_qty = 0.0 if opens is None else float(opens["qty_open"].sum())
        on_order = float(s["on_order"]) if "on_order" in snap and pd.notna(s["on_order"]) else open_qty
        position = on_hand + on_order - backorders
        mu = float(p.demand_mean_per_day)
        lead = float(p.lead_time_mean_days)
        arrival, skipped = _working_arrival(today, int(np.ceil(lead)), shutdown)
        pack = int(getattr(p, "case_pack", 1) or 1) if pd.notna(getattr(p, "case_pack", 1)) else 1
        moq = int(getattr(p, "moq", 0) or 0) if pd.notna(getattr(p, "moq", 0)) else 0
        extra = skipped * mu
        if p.policy == "(r,Q)":
            low, q = float(p.reorder_point) + extra, float(p.order_quantity)
            top = low + q
            trigger = position <= low
            needed = (np.floor((low - position) / q) + 1) * q if trigger else 0.0
            rule = f"position {position:g} at or below the reorder point {low:g}"
        else:
            top = float(p.order_up_to) + extra
            trigger = position < top
            needed = top - position if trigger else 0.0
            rule = f"position {position:g} below the order-up-to level {top:g}"
        # projected stock without today's order
        receipts = [] if opens is None else list(zip(opens["expected_date"], opens["qty_open"]))
        receipts = [(pd.Timestamp(e) if pd.notna(e) else today + pd.Timedelta(days=int(np.ceil(lead))), q_)
                    for e, q_ in receipts]
        next_receipt = min((e for e, _ in receipts), default=None)
        stockout = None
        if mu > 0:  # day by day, receipts first: the same sums as a walk over dates
            events = sorted(((e - today) / one_day, q_) for e, q_ in receipts)
            first = _first_stockout_day(on_hand - backorders, mu, events, HORIZON_DAYS)
            stockout = None if first is None else today + pd.Timedelta(days=first)
        order_qty = _round_up(needed, pack, moq) if trigger else 0.0
        why = ""
        if trigger:
            why = f"{rule} (on hand {on_hand:g} + on order {on_order:g} - backorders {backorders:g})"
            if skipped:
                why += f"; +{extra:.1f} units for {skipped} supplier shutdown day(s) before arrival"
            if order_qty > needed + 1e-9:
                why += f"; {needed:g} rounded up to {order_qty:g} (case pack {pack}, MOQ {moq})"
        if ignored_backorders:
            why += ("; " if why else "") + (f"{ignored_backorders:g} backorders in the snapshot not counted "
                                            "(lost sales: unmet demand is not owed)")
        cover = position / mu if mu > 0 else np.inf
        risk_before = next_receipt if next_receipt is not None else arrival
        last = last_sale.get(p.sku)
        rows.append(dict(
            supplier=getattr(p, "supplier", None), sku=p.sku, on_hand=on_hand, on_order=on_order,
            backorders=backorders, inventory_position=position, target_position=top, shutdown_days=skipped,
            quantity_needed=float(needed), order_quantity=float(order_qty),
            order_value=float(order_qty) * float(getattr(p, "unit_cost", np.nan)),
            expected_arrival_date=arrival if trigger else pd.NaT,
            projected_stockout_date=stockout if stockout is not None else pd.NaT,
            next_receipt_date=next_receipt if next_receipt is not None else pd.NaT,
            cover_days=cover, reason=why, unmet_demand=unmet_demand,
            at_risk=stockout is not None and stockout < risk_before,
            excess=cover > excess_cover_days,
            too_much_on_order=on_order > 0 and position - top > max(moq, pack, mu * float(getattr(p, "review_period_days", 0) or 0))
            and on_order > position - top,
            dead_stock=on_hand > 0 and (last is None or (today - last).days >= dead_stock_days),
        ))
    status = pd.DataFrame(rows)
    if status.empty:  # no SKU: the same columns, so that an empty list reads and exports like a full one
        status = pd.DataFrame(columns=["supplier", "sku", "on_hand", "on_order", "backorders", "inventory_position",
                                       "target_position", "shutdown_days", "quantity_needed", "order_quantity",
                                       "order_value", "expected_arrival_date", "projected_stockout_date",
                                       "next_receipt_date", "cover_days", "reason", "unmet_demand", "at_risk",
                                       "excess", "too_much_on_order", "dead_stock"])
    orders = status[status["order_quantity"] > 0].sort_values(["supplier", "sku"]).reset_index(drop=True)
    cols = ["supplier", "sku", "on_hand", "on_order", "backorders", "inventory_position", "target_position",
            "shutdown_days", "quantity_needed", "order_quantity", "order_value", "expected_arrival_date",
            "projected_stockout_date", "reason"]
    orders = orders[[c for c in cols if c in orders.columns]]
    by_supplier = orders.groupby("supplier").agg(lines=("sku", "size"), units=("order_quantity", "sum"),
                                                  order_value=("order_value", "sum"))
    pick = lambda flag: status[status[flag].astype(bool)].reset_index(drop=True)  # noqa: E731
    return OrderSuggestions(orders, by_supplier, status, pick("at_risk"), pick("excess"), pick("too_much_on_order"),
                            pick("dead_stock"), today)
