"""Speed of the portfolio recompute on the demo shop (issue 7): policies, service-investment curves and the view.

The Replenishment tuner's portfolio view recomputes ``opslib.plan.replenishment_plan(ws)`` (forecast, then
``opslib.inventory.plan_policies`` on the forecast, then the order list) and
``opslib.inventory.service_investment_curves(ws, 7)`` on the demo shop (300 SKUs), then renders the exchange
curve, the order list and its CSV and Excel downloads. This benchmark times, in CPU seconds
(``time.process_time``: robust to a loaded machine) and wall seconds, best and median of ``--rounds``:

- ``plan_policies(ws, forecast=f)`` with the forecast ``replenishment_plan`` makes (computed once, shared);
- ``service_investment_curves(ws, 7)``;
- the whole recompute: ``replenishment_plan(ws)`` then ``service_investment_curves(ws, 7)``;
- the view's next Recompute: ``replenishment_plan(ws)`` again (the view keeps the curves per review period),
  with the engine's memos warm (the crossing shortfall and, now, the cycle simulation per SKU, keyed by value);
- the headless view, as the browser runs it (unless ``--no-view``): ``PortfolioView(ws).recompute()`` on a
  new view (cold: the engine's memos cleared), then ``recompute()`` again on the same view; and, the current
  engine only, a cold recompute of a view given the forecast the tuner made (``PortfolioView(ws,
  forecast=...)``, what the Replenishment page can pass from its SKU tab);

for the current engine and for the previous one in the same run: a copy of the working tree's ``opslib`` whose
files of the portfolio chain (``opslib/inventory/*.py``, ``opslib/plan.py``, ``opslib/ui/portfolio.py``) are taken
from git revision ``--before`` (default ``HEAD``). Every round runs each engine in its own subprocess, the two in
turn (before, after, then after, before, ...), so that both meet the same load of a shared machine; the engine
steps are timed cold (the memos cleared before every round). It then compares the results: the levels
(``order_up_to``, ``reorder_point``, ``safety_stock``) and the plan's simulated cycle service levels must be
identical (the curves' are weighted over the rounding offsets by numpy sums now: within 1e-15); fill rates, average
on hand, investments and costs may differ in the last bits (the crossing shortfall now comes from one FFT per SKU
instead of a chain of convolutions each cut at 1e-13 of its mass): the largest differences are printed, and the
SKUs whose fill rate moved by more than 1e-10 are listed with their demand (a fill rate is ``1 - shortfall / (R
mu)``: for mu near 0 the round-off of the shortfall, ~1e-16, is divided by ``R mu``).

Run: .venv/bin/python benchmarks/inventory_plan_speed.py [--rounds 3] [--before HEAD] [--no-view | --view-only]
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CHAIN = ["opslib/inventory", "opslib/plan.py", "opslib/ui/portfolio.py"]
"""The files of the portfolio chain taken from ``--before`` (folders: their ``*.py``)."""
LEVELS = ["order_up_to", "reorder_point", "safety_stock"]

WORKER = textwrap.dedent(
    r"""
    import dataclasses, json, pickle, statistics, sys, time, warnings
    warnings.simplefilter("ignore")
    root, forecast_path, out_path, rounds, view = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    sys.path.insert(0, root)
    import opslib
    from opslib.inventory import plan_policies, service_investment_curves
    from opslib.plan import replenishment_plan

    assert opslib.__file__.startswith(root), opslib.__file__
    ws = opslib.load_demo()
    forecast = pickle.load(open(forecast_path, "rb"))
    plan_policies(dataclasses.replace(ws, items=ws.items.iloc[:3]), forecast=forecast)  # warm-up: imports
    times, results = {}, {}
    import opslib.inventory.crossing as crossing, opslib.inventory.lead_time as lead_time, opslib.inventory.policy as policy

    def forget():  # the engine's memos by value: every round computes afresh
        for memo in (getattr(policy, "_SHORTFALL_MEMO", None), getattr(policy, "_WINDOW_MEMO", None),
                     getattr(lead_time, "_LEAD_TIME_MEMO", None)):
            if memo is not None:
                memo.clear()
        if hasattr(crossing, "_day_grid_pmf_memo"):
            crossing._day_grid_pmf_memo.cache_clear()

    def clock(name, f):
        c, w = time.process_time(), time.perf_counter()
        out = f()
        times.setdefault(name, []).append((time.process_time() - c, time.perf_counter() - w))
        return out

    def timed(name, f, cold=True):
        for _ in range(rounds):
            if cold:
                forget()
            out = clock(name, f)
        return out

    if view != "only":
        results["plan"] = timed("plan_policies", lambda: plan_policies(ws, forecast=forecast)).policies
        results["curves"] = timed("service_investment_curves", lambda: service_investment_curves(ws, 7))
        timed("recompute", lambda: (replenishment_plan(ws), service_investment_curves(ws, 7)))
        timed("again", lambda: replenishment_plan(ws), cold=False)  # the view's next Recompute (curves kept)
    if view != "no":
        import inspect
        from opslib.ui.portfolio import PortfolioView

        PortfolioView(dataclasses.replace(ws, items=ws.items.iloc[:3]))  # warm-up: widget and figure imports
        given = "forecast" in inspect.signature(PortfolioView).parameters
        for _ in range(rounds):
            forget()
            v = PortfolioView(ws, compute=False)
            clock("view cold", v.recompute)
            clock("view again", v.recompute)
            assert v.error_panel.value == "", v.error_panel.value
            if given:  # the tuner's forecast handed over (a copy: the view may not know it)
                forget()
                v = PortfolioView(ws, compute=False, forecast=forecast.copy())
                clock("view cold, forecast given", v.recompute)
        results["view orders"] = v.order_list()
    pickle.dump(results, open(out_path, "wb"))
    print(json.dumps(times))
    """
)


def engine_copy(before: str, folder: Path) -> Path:
    """The working tree's opslib with the files of the portfolio chain of git revision ``before``."""
    shutil.copytree(REPO / "opslib", folder / "opslib", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "data").symlink_to(REPO / "data")  # load_demo reads <root>/data/demo
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", before, "--", *CHAIN], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split()
    for path in (REPO / p for p in CHAIN):  # files added since: not in the previous engine
        for now in ([path] if path.suffix else path.glob("*.py")):
            if str(now.relative_to(REPO)) not in listed:
                (folder / now.relative_to(REPO)).unlink()
    for path in listed:
        if path.endswith(".py"):
            text = subprocess.run(["git", "show", f"{before}:{path}"], cwd=REPO, capture_output=True, text=True,
                                  check=True).stdout
            (folder / path).write_text(text)
    return folder


def run(root: Path, forecast: Path, out: Path, rounds: int, view: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", WORKER, str(root), str(forecast), str(out), str(rounds), view],
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summary(rounds: list) -> tuple:
    """Best and median CPU seconds, best and median wall seconds."""
    cpu, wall = [r[0] for r in rounds], [r[1] for r in rounds]
    return min(cpu), statistics.median(cpu), min(wall), statistics.median(wall)


def compare(old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    """Lines saying which columns differ and by how much (levels must not)."""
    lines = []
    assert old["sku"].equals(new["sku"]), "the SKUs differ"
    for c in old.columns:
        if old[c].equals(new[c]):
            continue
        if old[c].dtype.kind not in "fi":
            lines.append(f"  {c}: DIFFERENT ({int((old[c] != new[c]).sum())} rows)")
            continue
        a, b = old[c].to_numpy(float), new[c].to_numpy(float)
        diff = np.abs(a - b)
        rel = diff / np.where(a != 0, np.abs(a), np.inf)
        flag = "  LEVELS MOVED" if c in LEVELS else ""
        lines.append(f"  {c}: {int(np.sum(diff > 0))} rows differ, largest {np.nanmax(diff):.2g} "
                     f"(relative {np.nanmax(rel):.2g}){flag}")
        if c == "fill_rate":
            big = diff > 1e-10
            for i in np.flatnonzero(big):
                mu = new["demand_mean_per_day"].iloc[i]
                lines.append(f"    fill rate moved by {diff[i]:.2g} at {new['sku'].iloc[i]} "
                             f"(demand {mu:.3g} units/day, fill rate {b[i]:.12f})")
    return lines or ["  identical"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="HEAD", help="git revision of the previous files of the chain")
    parser.add_argument("--no-view", action="store_true", help="the engine steps only")
    parser.add_argument("--view-only", action="store_true", help="the headless view only")
    args = parser.parse_args()
    view = "no" if args.no_view else ("only" if args.view_only else "yes")
    sys.path.insert(0, str(REPO))
    import opslib
    from opslib.plan import replenishment_plan

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        forecast = tmp / "forecast.pkl"
        pickle.dump(replenishment_plan(opslib.load_demo()).forecast, forecast.open("wb"))
        roots = {"before": engine_copy(args.before, tmp / "before"), "after": REPO}
        times: dict = {"before": {}, "after": {}}
        for i in range(args.rounds):  # one round of each at a time, in turn: both see the same load
            for which in (("before", "after") if i % 2 == 0 else ("after", "before")):
                for name, rounds in run(roots[which], forecast, tmp / f"{which}.pkl", 1, view).items():
                    times[which].setdefault(name, []).extend(rounds)
        old, new = (pickle.load((tmp / f"{k}.pkl").open("rb")) for k in ("before", "after"))

    labels = {"plan_policies": "plan_policies (forecast given)",
              "service_investment_curves": "service_investment_curves(ws, 7)",
              "recompute": "replenishment_plan + curves",
              "again": "replenishment_plan again (memos warm)",
              "view cold": "PortfolioView recompute, cold",
              "view again": "PortfolioView recompute again (same view)",
              "view cold, forecast given": "PortfolioView recompute, cold, tuner's forecast given"}
    print(f"demo shop (300 SKUs), {args.rounds} rounds; previous chain: {args.before}; CPU s = time.process_time")
    print("| step | before CPU s best / median | after CPU s best / median | speed-up (median CPU) "
          "| before wall s best / median | after wall s best / median |")
    print("|---|---|---|---|---|---|")
    for name, label in labels.items():
        if name not in times["after"]:
            continue
        a = summary(times["after"][name])
        if name in times["before"]:
            b = summary(times["before"][name])
            print(f"| {label} | {b[0]:.2f} / {b[1]:.2f} | {a[0]:.2f} / {a[1]:.2f} | {b[1] / a[1]:.1f}x "
                  f"| {b[2]:.2f} / {b[3]:.2f} | {a[2]:.2f} / {a[3]:.2f} |")
        else:
            print(f"| {label} | n/a | {a[0]:.2f} / {a[1]:.2f} | | n/a | {a[2]:.2f} / {a[3]:.2f} |")
    for key in ("plan", "curves", "view orders"):
        if key in old:
            print(f"{key}, after against before:")
            print("\n".join(compare(old[key].reset_index(drop=True), new[key].reset_index(drop=True))))


if __name__ == "__main__":
    main()
