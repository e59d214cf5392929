"""Interval coverage of ``auto`` forecasts per demand class: demo shop and the M5 excerpt.

Run: ``.venv/bin/python benchmarks/forecast_coverage.py`` (about 2-3 minutes on a loaded 2-core machine;
needs the demo shop and ../shared/data/m5_tiny_real, fails loudly without).

Rolling-origin backtest (``opslib.forecast.backtest``, model ``auto``, 4 windows of 28 days, each window
re-selected and refitted on its own training data) recording the quantile grid
``opslib.forecast.calibration.PIT_GRID``. The demand class of a row is the class of its SKU on the
window's training data. Per class and nominal level (80%: p10..p90, 95%: p2.5..p97.5):

* ``closed``: share of actuals inside the closed interval (``accuracy``'s ``coverage_80/95``). For counts
  a calibrated forecast scores ABOVE nominal here: integer quantiles cannot split a probability atom;
* ``pit``: randomized-PIT coverage (Czado, Gneiting and Held 2009), equal to nominal in expectation for a
  calibrated forecast, counts included (:func:`opslib.forecast.calibration.pit_interval_coverage`);
* ``lo_ok`` / ``hi_ok``: whether the lower / upper quantile satisfies the bracket
  P(Y < q) <= tau <= P(Y <= q) within two binomial standard errors.

``before`` repeats the run with the quantile rule of the previous commit (new SKUs' quantiles from
their in-sample residuals; now from the count distribution) in the same process, for a same-run comparison.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import opslib
import opslib.forecast.core as core
from opslib.data import from_m5
from opslib.forecast import backtest, classify_demand, to_panel
from opslib.forecast.calibration import PIT_GRID, pit_interval_coverage, quantile_bracket

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "m5_tiny_real"
HORIZON, WINDOWS = 28, 4
LEVELS = ((0.8, "p10", "p90"), (0.95, "p2.5", "p97.5"))


def with_classes(demand: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The backtest frame with the demand class of each SKU on each window's training data."""
    panel = to_panel(demand)
    parts = []
    for cutoff in frame["cutoff"].unique():
        k = int(np.searchsorted(panel.dates, cutoff)) + 1
        cls = classify_demand(panel.values[:, :k], season_length=panel.frequency.season_length).demand_class
        parts.append(pd.DataFrame({"sku": panel.skus, "cutoff": cutoff, "demand_class": cls}))
    return frame.merge(pd.concat(parts), on=["sku", "cutoff"])


def coverage_table(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    scored = frame[frame["units"].notna()]
    for cls, group in [("ALL", scored)] + list(scored.groupby("demand_class")):
        row = {"class": cls, "n": len(group)}
        for level, lo, hi in LEVELS:
            y = group["units"].to_numpy()
            tag = f"{round(level * 100)}"
            row[f"closed{tag}"] = ((y >= group[lo]) & (y <= group[hi])).mean()
            row[f"pit{tag}"] = np.nanmean(pit_interval_coverage(group, level))
            se = 2 * np.sqrt((1 - level) / 2 * (1 + level) / 2 / len(group))
            below, at_or_below = quantile_bracket(group, lo)
            row[f"lo_ok{tag}"] = below - se <= (1 - level) / 2 <= at_or_below + se
            below, at_or_below = quantile_bracket(group, hi)
            row[f"hi_ok{tag}"] = below - se <= (1 + level) / 2 <= at_or_below + se
        rows.append(row)
    return pd.DataFrame(rows)


def run(name: str, demand: pd.DataFrame) -> pd.DataFrame:
    tables = []
    for variant, classes in (("before", ("smooth", "erratic", "new")), ("after", core._EMPIRICAL_CLASSES)):
        saved = core._EMPIRICAL_CLASSES
        core._EMPIRICAL_CLASSES = classes
        try:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")                # pandas fragmentation notices of the wide grid
                frame = backtest(demand, HORIZON, windows=WINDOWS, models=("auto",), quantiles=PIT_GRID)
            seconds = time.perf_counter() - start
        finally:
            core._EMPIRICAL_CLASSES = saved
        table = coverage_table(with_classes(demand, frame))
        table.insert(0, "variant", variant)
        table.insert(0, "data", name)
        tables.append(table)
        print(f"  {name} {variant}: backtest {seconds:.1f} s", flush=True)
    return pd.concat(tables, ignore_index=True)


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"M5 excerpt not found at {DATA}")
    print(f"auto, {WINDOWS} rolling windows x {HORIZON} days; nominal 0.80 and 0.95 (timings on a shared machine)")
    demo = opslib.load_demo().demand
    m5 = from_m5(DATA).demand
    table = pd.concat([run("demo", demo), run("m5", m5)], ignore_index=True)
    columns = ["data", "variant", "class", "n", "closed80", "pit80", "lo_ok80", "hi_ok80",
               "closed95", "pit95", "lo_ok95", "hi_ok95"]
    with pd.option_context("display.width", 200):
        print(table[columns].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
