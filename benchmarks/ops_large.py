"""Time the monthly operations report on a large synthetic shop (issue 6: 10,000 SKUs, 10 M lines).

Issue 6 asks for ``opslib.ops.monthly_report`` on a shop of 10,000 SKUs and 10 million order
lines in under 60 s with a peak memory under 6 GB. ``opslib.data.demo_shop`` simulates every
order and customer in Python-sized steps and is built for a few hundred SKUs, so this
benchmark generates the canonical tables directly with numpy, consistent with each other:

- ``items``: 10,000 SKUs in 20 categories from 60 suppliers, some discontinued;
- a daily demand matrix (SKU popularity from a log-normal, weekly and yearly seasonality),
  served from stock by an (s, Q) replenishment loop vectorized over SKUs (one numpy step per
  day): lost sales on stock-out days, purchase orders with supplier lead times, partial and
  rejected deliveries, monthly stocktakes of a tenth of the SKUs booked as adjustments;
- ``order_lines``: the units sold split into lines (mostly one unit) and the lines grouped
  into orders of one to a few lines, each with a customer (a skewed pool, so that some come
  back), a channel and a time of day;
- ``returns`` (3 % of lines, back into stock on the return date), ``traffic``;
- ``stock``: the end-of-day book on hand of every SKU and day (daily, ~11 M rows) and
  ``stock_movements`` (one shipment row per SKU and day with sales, receipts, returns,
  adjustments) that reconcile with it exactly.

Usage::

    .venv/bin/python benchmarks/ops_large.py [--skus 10000] [--lines 10000000] [--years 3]
                                             [--seed 7] [--steps] [--profile FILE]

Prints the table sizes and generation time, then ``monthly_report(ws, month)`` for the last
full month, cold (empty memos), with wall and CPU seconds and the peak resident memory of
the process (``resource.getrusage`` maxrss, which includes the generated tables), then, with
``--steps``, each report step alone (cold, in a fresh memo) and the memory it added. The
peak is a high-water mark: the line after generation says how much of it the tables take.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import opslib
from opslib import ops
from opslib.data import health
from opslib.ops import _common

CATEGORIES = [f"category_{i:02d}" for i in range(20)]
CHANNELS = np.array(["app", "mini_program", "web", "marketplace"])


def _maxrss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB on Linux


def _reset_peak() -> bool:
    """Reset the kernel's high-water mark of resident memory (Linux), so the next peak is the call's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_gb() -> float:
    """Peak resident memory since the last reset (VmHWM), else since the start."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return _maxrss_gb()


def _rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1024**3


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """Text ids like ``SO00001234`` for integers, built in Arrow (no Python loop)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    text = pc.binary_join_element_wise(prefix, digits, "")
    return pd.Series(pd.array(text, dtype="str"))


def large_shop(n_skus: int = 10_000, n_lines: int = 10_000_000, years: int = 3, seed: int = 7) -> opslib.Workspace:
    """A consistent synthetic shop of ``n_skus`` SKUs and about ``n_lines`` order lines."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-10-01")
    dates = pd.date_range(start, start + pd.DateOffset(years=years) - pd.Timedelta(days=1), freq="D")
    T, N = len(dates), n_skus

    # ---- items
    category = rng.integers(0, len(CATEGORIES), N)
    supplier = rng.integers(0, 60, N)
    unit_cost = np.round(np.exp(rng.normal(3.0, 0.8, N)), 2)
    price = np.round(unit_cost * rng.uniform(1.3, 2.2, N), 1)
    status = np.where(rng.random(N) < 0.05, "discontinued", "active")
    skus = _ids("SK", np.arange(1, N + 1), 6)
    items = pd.DataFrame(
        {
            "sku": skus,
            "unit_cost": unit_cost,
            "price": price,
            "name": _ids("Item ", np.arange(1, N + 1), 6),
            "category": pd.array(np.array(CATEGORIES)[category], dtype="str"),
            "supplier": pd.array(np.char.add("Supplier ", supplier.astype(str)), dtype="str"),
            "lead_time_days": (3 + supplier % 20).astype(float),
            "status": pd.array(status, dtype="str"),
        }
    )

    # ---- demand: units per SKU and day, scaled so that the lines come to about n_lines
    popularity = np.exp(rng.normal(0.0, 1.2, N))
    doy = dates.day_of_year.to_numpy()
    season = (1 + 0.25 * np.sin(2 * np.pi * (doy - 80) / 365.25)) * np.where(dates.day_of_week.to_numpy() >= 5, 1.2, 0.95)
    units_per_line = 1.3
    rate = popularity[:, None] * season[None, :]
    rate *= n_lines * units_per_line * 0.96 / rate.sum()  # less the sales lost to stock-outs
    demand = rng.poisson(rate).astype(np.int32)  # (N, T)
    del rate

    # ---- (s, Q) replenishment served from stock, one vectorized step per day
    mean_daily = demand.mean(axis=1) + 0.05
    lead = (items["lead_time_days"].to_numpy() + 2).astype(int)
    reorder_point = np.ceil(mean_daily * (lead + 7)).astype(np.int64)
    order_qty = np.maximum(np.ceil(mean_daily * 30), 5).astype(np.int64)
    on_hand = reorder_point + order_qty
    pipeline = np.zeros((N, T + 60), dtype=np.int64)  # units arriving per day
    on_order = np.zeros(N, dtype=np.int64)
    sales = np.zeros((N, T), dtype=np.int32)
    receipts = np.zeros((N, T), dtype=np.int32)
    adjust = np.zeros((N, T), dtype=np.int32)
    stock = np.zeros((N, T), dtype=np.int64)
    po_rows = []  # (sku index, order day, receipt day, qty ordered, qty received, qty rejected)
    month_end = dates.is_month_end
    discontinued = status == "discontinued"
    stop_day = np.where(discontinued, rng.integers(T // 3, T, N), T)
    for d in range(T):
        arrived = pipeline[:, d]
        on_hand += arrived
        on_order -= arrived
        receipts[:, d] = arrived
        sold = np.minimum(demand[:, d], on_hand)
        on_hand -= sold
        sales[:, d] = sold
        if month_end[d]:  # stocktake of a tenth of the SKUs: shrinkage and found stock
            counted = rng.random(N) < 0.1
            shrink = rng.binomial(on_hand, 0.01) * counted
            found = (rng.random(N) < 0.02) * counted
            adjust[:, d] = found - shrink
            on_hand += found - shrink
        need = (on_hand + on_order <= reorder_point) & (d < stop_day)
        idx = np.flatnonzero(need)
        if len(idx):
            lt = np.maximum(1, np.round(rng.normal(lead[idx], 0.3 * lead[idx]))).astype(int)
            got = np.where(rng.random(len(idx)) < 0.1, (order_qty[idx] * rng.uniform(0.5, 1.0, len(idx))).astype(int), order_qty[idx])
            rejected = rng.binomial(got, 0.01)
            accepted = got - rejected
            pipeline[idx, d + lt] += accepted
            on_order[idx] += accepted
            po_rows.append(np.column_stack([idx, np.full(len(idx), d), d + lt, order_qty[idx], accepted, rejected]))
        stock[:, d] = on_hand
    del pipeline, demand

    # ---- order lines: each SKU-day's units as lines of one unit, the first taking the rest
    sku_i, day_i = np.nonzero(sales)  # row-major: by SKU then day
    units = sales[sku_i, day_i].astype(np.int64)
    n_per = np.maximum(1, rng.binomial(units, 1 / units_per_line))
    line_sku = np.repeat(sku_i, n_per)
    line_day = np.repeat(day_i, n_per)
    first = np.zeros(len(line_sku), dtype=bool)
    first[np.cumsum(n_per) - n_per] = True
    qty = np.ones(len(line_sku), dtype=np.int64)
    qty[first] += units - n_per
    # orders: lines of a day in random order, a new order starting with probability 0.55
    order = np.lexsort((rng.random(len(line_sku)), line_day))
    line_sku, line_day, qty = line_sku[order], line_day[order], qty[order]
    new_order = rng.random(len(line_sku)) < 0.55
    new_order[np.r_[0, np.flatnonzero(np.diff(line_day)) + 1]] = True
    order_no = np.cumsum(new_order) - 1
    n_orders = int(order_no[-1]) + 1
    order_seconds = rng.integers(0, 86_400, n_orders)
    n_customers = max(1000, n_orders // 3)
    order_customer = (n_customers * rng.random(n_orders) ** 1.6).astype(np.int64)
    order_channel = rng.choice(len(CHANNELS), n_orders, p=[0.45, 0.3, 0.15, 0.1])
    discount = np.where(rng.random(len(qty)) < 0.15, 0.8, 1.0)
    ts = dates.to_numpy()[line_day] + (order_seconds[order_no] * 1_000_000_000).astype("timedelta64[ns]")
    order_lines = pd.DataFrame(
        {
            "order_id": _ids("SO", order_no + 1, 9),
            "order_ts": ts,
            "sku": skus.take(line_sku).reset_index(drop=True),
            "qty": qty,
            "paid_amount": np.round(qty * price[line_sku] * discount, 2),
            "customer_id": _ids("C", order_customer[order_no] + 1, 8),
            "channel": pd.array(CHANNELS[order_channel[order_no]], dtype="str"),
        }
    )

    # ---- returns: 3 % of lines, back into stock 3 to 20 days later (inside the history)
    back_day = line_day + rng.integers(3, 21, len(qty))
    is_ret = (rng.random(len(qty)) < 0.03) & (back_day < T)
    ret = np.flatnonzero(is_ret)
    returns = pd.DataFrame(
        {
            "order_id": order_lines["order_id"].take(ret).reset_index(drop=True),
            "sku": order_lines["sku"].take(ret).reset_index(drop=True),
            "qty": qty[ret],
            "return_date": dates.to_numpy()[back_day[ret]],
            "reason": pd.array(np.full(len(ret), "changed mind"), dtype="str"),
        }
    )
    returned = np.zeros((N, T), dtype=np.int64)
    np.add.at(returned, (line_sku[ret], back_day[ret]), qty[ret])
    stock += np.cumsum(returned, axis=1)  # returns only add stock: sales stay feasible

    # ---- stock snapshots (daily, every SKU) and the movements that reconcile with them
    stock_table = pd.DataFrame(
        {
            "sku": skus.take(np.repeat(np.arange(N), T)).reset_index(drop=True),
            "date": np.tile(dates.to_numpy(), N),
            "on_hand": stock.ravel().astype(float),
        }
    )
    parts = []
    for kind, matrix, sign in (("receipt", receipts, 1), ("shipment", sales, -1), ("return", returned, 1), ("adjustment", adjust, 1)):
        s, d = np.nonzero(matrix)
        parts.append(pd.DataFrame({"s": s, "d": d, "kind": kind, "qty": sign * matrix[s, d].astype(float)}))
    # opening stock as a receipt on day 0 is not a movement: the first snapshot implies it
    mv = pd.concat(parts, ignore_index=True).sort_values(["d", "s"], kind="stable")
    stock_movements = pd.DataFrame(
        {
            "date": dates.to_numpy()[mv["d"].to_numpy()],
            "sku": skus.take(mv["s"].to_numpy()).reset_index(drop=True),
            "kind": pd.array(mv["kind"].to_numpy(), dtype="str"),
            "qty": mv["qty"].to_numpy(),
        }
    )
    del mv, parts

    po = np.concatenate(po_rows)
    po_sku, po_day, po_rec = po[:, 0], po[:, 1], po[:, 2]
    received = po_rec < T
    po_key = np.unique(np.column_stack([supplier[po_sku], po_day]), axis=0, return_inverse=True)[1].ravel()
    purchase_orders = pd.DataFrame(
        {
            "po_id": _ids("PO", po_key + 1, 7),
            "sku": skus.take(po_sku).reset_index(drop=True),
            "supplier": items["supplier"].take(po_sku).reset_index(drop=True),
            "order_date": dates.to_numpy()[po_day],
            "qty_ordered": po[:, 3].astype(float),
            "expected_date": dates.to_numpy()[po_day] + (lead[po_sku] * 86_400_000_000_000).astype("timedelta64[ns]"),
            "receipt_date": np.where(received, dates.to_numpy()[np.minimum(po_rec, T - 1)], np.datetime64("NaT")),
            "qty_received": np.where(received, po[:, 4], np.nan),
            "qty_rejected": np.where(received, po[:, 5], np.nan),
        }
    )
    cs, cd = np.nonzero(adjust != 0)
    counted_days = np.flatnonzero(month_end)
    # every SKU counted at a month end (with or without variance) is a count line
    count_mask = np.zeros((N, T), dtype=bool)
    count_mask[cs, cd] = True
    extra = rng.random((N, len(counted_days))) < 0.08
    count_mask[:, counted_days] |= extra
    cs, cd = np.nonzero(count_mask)
    stock_counts = pd.DataFrame(
        {
            "sku": skus.take(cs).reset_index(drop=True),
            "date": dates.to_numpy()[cd],
            "counted_qty": stock[cs, cd].astype(float),
        }
    )
    daily_orders = np.bincount(line_day[new_order], minlength=T)
    traffic = pd.DataFrame({"date": dates, "sessions": (daily_orders / rng.uniform(0.025, 0.035, T)).astype(np.int64)})
    calendar = pd.DataFrame({"date": dates, "supplier_shutdown": np.zeros(T, dtype=bool)})
    del stock, sales, receipts, adjust, returned
    return opslib.Workspace(
        items=items,
        order_lines=order_lines,
        stock=stock_table,
        stock_movements=stock_movements,
        purchase_orders=purchase_orders,
        returns=returns,
        traffic=traffic,
        stock_counts=stock_counts,
        calendar=calendar,
        name=f"large shop ({n_skus:,} SKUs, seed {seed})",
    )


def _cold() -> None:
    _common.clear_memo()
    health._memo.clear()
    gc.collect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--steps", action="store_true", help="also time each report step alone")
    parser.add_argument("--profile", default=None, help="write a cProfile of monthly_report to this file")
    args = parser.parse_args()

    t = time.perf_counter()
    ws = large_shop(args.skus, args.lines, args.years, args.seed)
    gc.collect()
    print(f"{ws!r}")
    print(f"generated in {time.perf_counter() - t:.1f} s; resident {_rss_gb():.2f} GB, peak so far {_maxrss_gb():.2f} GB\n")
    month = ops.last_full_month(ws)
    width = 44

    _cold()
    base = _rss_gb()
    _reset_peak()
    t, cpu = time.perf_counter(), time.process_time()
    if args.profile:
        import cProfile

        cProfile.runctx("report = ops.monthly_report(ws, month)", globals(), {"ws": ws, "month": month, "ops": ops}, args.profile)
    else:
        ops.monthly_report(ws, month)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"{'one call, cold':<{width}}{'cpu s':>8}{'seconds':>10}{'peak GB':>10}")
    print(f"{f'monthly_report(ws, {str(month)!r})':<{width}}{cpu:>8.2f}{wall:>10.2f}{_peak_gb():>10.2f}")
    print(f"(peak: resident high-water mark during the call, tables included; resident before it {base:.2f} GB;")
    print(" targets: under 60 s and 6 GB. cpu s < seconds means the machine was shared.)")

    if args.steps:
        steps = {
            "kpis monthly": lambda: ops.kpis(ws, "M"),
            "kpis by category": lambda: ops.kpis(ws, "M", by="category"),
            "kpis by channel": lambda: ops.kpis(ws, "M", by="channel"),
            "repurchase rate (90 d, by month)": lambda: ops.repurchase_rate(
                ws, 90, freq="M", as_of=month.end_time.normalize()
            ),
            "repurchase rate, the month before": lambda: ops.repurchase_rate(ws, 90, as_of=(month - 1).end_time.normalize()),
            "stock movement report": lambda: ops.monthly_stock_movement(ws, str(month)),
            "stock movement by category": lambda: ops.stock_movement_summary(ws, by="category", months=str(month)),
            "reconcile": lambda: ops.reconcile(ws),
            "stocktake variance": lambda: ops.stocktake_variance(ws, months=str(month)),
            "stocktake by category": lambda: ops.stocktake_summary(ws, by="category", months=str(month)),
            "supplier scorecard (monthly)": lambda: ops.supplier_scorecard(ws, freq="M"),
            "stock exceptions": lambda: ops.stock_exceptions(ws),
        }
        print(f"\n{'step (in order, sharing memos like one report)':<{width}}{'rows':>8}{'cpu s':>8}{'seconds':>10}{'+GB':>8}")
        _cold()
        _reset_peak()
        for name, step in steps.items():
            before = _rss_gb()
            t, cpu = time.perf_counter(), time.process_time()
            out = step()
            wall, cpu = time.perf_counter() - t, time.process_time() - cpu
            print(f"{name:<{width}}{len(out):>8,}{cpu:>8.2f}{wall:>10.2f}{_rss_gb() - before:>8.2f}")
        print(f"peak resident memory during the steps: {_peak_gb():.2f} GB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
