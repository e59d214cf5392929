"""Speed of the portfolio recompute on the demo shop (issue 7): policies and service-investment curves.

The Replenishment tuner's portfolio view recomputes ``opslib.plan.replenishment_plan(ws)`` (forecast, then
``opslib.inventory.plan_policies`` on the forecast, then the order list) and
``opslib.inventory.service_investment_curves(ws, 7)`` on the demo shop (300 SKUs). This benchmark times, in
CPU seconds (``time.process_time``: robust to a loaded machine) and wall seconds, the best of ``--rounds``:

- ``plan_policies(ws, forecast=f)`` with the forecast ``replenishment_plan`` makes (computed once, shared);
- ``service_investment_curves(ws, 7)``;
- the whole recompute: ``replenishment_plan(ws)`` then ``service_investment_curves(ws, 7)``;
- the view's next Recompute: ``replenishment_plan(ws)`` again (the view keeps the curves per review period),
  with the engine's memos warm (the crossing shortfall per SKU, keyed by value);

for the current engine and for the previous one in the same run: a copy of the working tree's ``opslib`` whose
inventory engine files (``policy``, ``crossing``, ``lead_time``, ``distributions``, ``service``, ``rounding``)
are taken from git revision ``--before`` (default ``HEAD``), each in its own subprocess; the first three are
timed cold (the current engine's memos cleared before every round). It then compares the
results: every column must be identical except ``cycle_service_level`` with random lead times, whose
simulation now draws the days by inversion of their pmf (other draws of the same model, within its Monte
Carlo noise: the largest difference is printed).

Run: .venv/bin/python benchmarks/inventory_plan_speed.py [--rounds 3] [--before HEAD]
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
ENGINE_FILES = ["policy", "crossing", "lead_time", "distributions", "service", "rounding"]

WORKER = textwrap.dedent(
    r"""
    import dataclasses, json, pickle, sys, time, warnings
    warnings.simplefilter("ignore")
    root, forecast_path, out_path, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
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

    def forget():  # the engine's memos by value (the current engine only): every round computes afresh
        for memo in (getattr(policy, "_SHORTFALL_MEMO", None), getattr(lead_time, "_LEAD_TIME_MEMO", None)):
            if memo is not None:
                memo.clear()
        if hasattr(crossing, "_day_grid_pmf_memo"):
            crossing._day_grid_pmf_memo.cache_clear()

    def timed(name, f, cold=True):
        best = None
        for _ in range(rounds):
            if cold:
                forget()
            c, w = time.process_time(), time.perf_counter()
            out = f()
            c, w = time.process_time() - c, time.perf_counter() - w
            best = (c, w) if best is None or c < best[0] else best
        times[name] = best
        return out

    results["plan"] = timed("plan_policies", lambda: plan_policies(ws, forecast=forecast)).policies
    results["curves"] = timed("service_investment_curves", lambda: service_investment_curves(ws, 7))
    timed("recompute", lambda: (replenishment_plan(ws), service_investment_curves(ws, 7)))
    timed("again", lambda: replenishment_plan(ws), cold=False)  # the view's next Recompute (curves kept per review)
    pickle.dump(results, open(out_path, "wb"))
    print(json.dumps(times))
    """
)


def engine_copy(before: str, folder: Path) -> Path:
    """The working tree's opslib with the inventory engine files of git revision ``before``."""
    shutil.copytree(REPO / "opslib", folder / "opslib", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "data").symlink_to(REPO / "data")  # load_demo reads <root>/data/demo
    for name in ENGINE_FILES:
        path = f"opslib/inventory/{name}.py"
        text = subprocess.run(["git", "show", f"{before}:{path}"], cwd=REPO, capture_output=True, text=True, check=True).stdout
        (folder / path).write_text(text)
    return folder


def run(root: Path, forecast: Path, out: Path, rounds: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", WORKER, str(root), str(forecast), str(out), str(rounds)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(old: pd.DataFrame, new: pd.DataFrame) -> tuple[list, float]:
    """Columns that differ (other than the cycle service level), and the largest cycle-service-level difference."""
    differ = [c for c in old.columns if c != "cycle_service_level" and not old[c].equals(new[c])]
    csl = float(np.nanmax(np.abs(old["cycle_service_level"].to_numpy(float) - new["cycle_service_level"].to_numpy(float))))
    return differ, csl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="HEAD", help="git revision of the previous engine files")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import opslib
    from opslib.plan import replenishment_plan

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        forecast = tmp / "forecast.pkl"
        pickle.dump(replenishment_plan(opslib.load_demo()).forecast, forecast.open("wb"))
        previous = engine_copy(args.before, tmp / "before")
        times = {"before": run(previous, forecast, tmp / "before.pkl", args.rounds),
                 "after": run(REPO, forecast, tmp / "after.pkl", args.rounds)}
        old, new = (pickle.load((tmp / f"{k}.pkl").open("rb")) for k in ("before", "after"))

    print(f"demo shop, best of {args.rounds} rounds, CPU seconds (wall seconds); previous engine: {args.before}")
    print("| step | before CPU s | after CPU s | speed-up | before wall s | after wall s |")
    print("|---|---|---|---|---|---|")
    for name in ("plan_policies", "service_investment_curves", "recompute", "again"):
        (bc, bw), (ac, aw) = times["before"][name], times["after"][name]
        label = {"recompute": "recompute (replenishment_plan + curves)",
                 "again": "Recompute again (replenishment_plan; curves kept by the view)"}.get(name, name)
        print(f"| {label} | {bc:.2f} | {ac:.2f} | {bc / ac:.1f}x | {bw:.2f} | {aw:.2f} |")
    for key in ("plan", "curves"):
        differ, csl = compare(old[key], new[key])
        status = "identical" if not differ else f"DIFFERENT columns {differ}"
        print(f"{key}: every column but cycle_service_level {status}; cycle_service_level largest difference "
              f"{csl:.4f} (simulated, Monte Carlo noise)")


if __name__ == "__main__":
    main()
