"""Time the monthly operations report on a shop (default: the demo shop).

The monthly report is every ``opslib.ops`` report a month-end review needs: KPIs per month
(overall, by category, by channel), the repurchase rate, the 入/出/存 stock movement report
with its reconciliation, the stocktake variance and its summaries, the supplier scorecard by
quarter and the stock exceptions. Loading the workspace is timed separately. Issue 6 asks for
the whole report in under 5 s on the demo shop.

Usage::

    .venv/bin/python benchmarks/ops_monthly.py [--runs 3] [--data PATH]

Then ``opslib.ops.monthly_report`` itself (the report of the last full month as one call, also
cold) and writing it to Excel and HTML.

Prints a table (seconds, best of ``--runs``). Every run starts cold: the memo of shared
intermediate frames (``opslib.ops`` and ``opslib.data.health``) is cleared first, so the steps
of one run share work the way one report does, and no run profits from an earlier one.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import opslib
from opslib import ops
from opslib.data import health
from opslib.ops import _common

STEPS = {
    "kpis monthly": lambda ws: ops.kpis(ws, "M"),
    "kpis by category": lambda ws: ops.kpis(ws, "M", by="category"),
    "kpis by channel": lambda ws: ops.kpis(ws, "M", by="channel"),
    "repurchase rate (90 d, by month)": lambda ws: ops.repurchase_rate(ws, 90, freq="M"),
    "stock movement report": lambda ws: ops.monthly_stock_movement(ws),
    "stock movement by category": lambda ws: ops.stock_movement_summary(ws, by="category"),
    "reconcile": lambda ws: ops.reconcile(ws),
    "stocktake variance": lambda ws: ops.stocktake_variance(ws),
    "stocktake by category": lambda ws: ops.stocktake_summary(ws, by="category"),
    "supplier scorecard (quarterly)": lambda ws: ops.supplier_scorecard(ws, freq="Q"),
    "stock exceptions": lambda ws: ops.stock_exceptions(ws),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", default=None, help="a workspace folder (default: the demo shop)")
    args = parser.parse_args()

    start = time.perf_counter()
    ws = opslib.load_workspace(args.data) if args.data else opslib.load_demo()
    load = time.perf_counter() - start

    best: dict[str, float] = {}
    rows: dict[str, int] = {}
    totals: list[float] = []
    for _ in range(args.runs):
        _common.clear_memo()
        health._memo.clear()
        run_start = time.perf_counter()
        for name, step in STEPS.items():
            t = time.perf_counter()
            out = step(ws)
            elapsed = time.perf_counter() - t
            best[name] = min(best.get(name, elapsed), elapsed)
            rows[name] = len(out)
        totals.append(time.perf_counter() - run_start)
    width = max(map(len, STEPS)) + 2
    print(f"{ws!r}\n")
    print(f"{'step':<{width}}{'rows':>8}{'seconds':>10}")
    print(f"{'load workspace':<{width}}{'':>8}{load:>10.2f}")
    for name in STEPS:
        print(f"{name:<{width}}{rows[name]:>8,}{best[name]:>10.2f}")
    print(f"{'monthly report total (best run)':<{width}}{'':>8}{min(totals):>10.2f}")

    month = ops.last_full_month(ws)
    timings: dict[str, float] = {}
    cpu_times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            _common.clear_memo()
            health._memo.clear()
            for name, step in (
                (f"monthly_report(ws, '{month}')", lambda: ops.monthly_report(ws, month)),
                ("write_excel", lambda: ops.write_excel(report, Path(folder) / "report.xlsx")),
                ("write_html", lambda: ops.write_html(report, Path(folder) / "report.html")),
            ):
                t, cpu = time.perf_counter(), time.process_time()
                out = step()
                timings[name] = min(timings.get(name, np.inf), time.perf_counter() - t)
                cpu_times[name] = min(cpu_times.get(name, np.inf), time.process_time() - cpu)
                if isinstance(out, ops.MonthlyReport):
                    report = out
    print(f"\n{'one call, cold':<{width}}{'cpu s':>8}{'seconds':>10}")
    for name, seconds in timings.items():
        print(f"{name:<{width}}{cpu_times[name]:>8.2f}{seconds:>10.2f}")


if __name__ == "__main__":
    main()
