"""Real daily retail: M5 excerpt (70 SKU-store series, 140 days), last 28 days held out.

Run: ``.venv/bin/python benchmarks/forecast_m5.py`` (needs ../shared/data/m5_tiny_real; fails loudly without).
One rolling-origin window of 28 days (``opslib.forecast.backtest(windows=1)``: every model, ``auto``
included, sees only the first 112 days). Per SKU: RMSSE (M5 scale: in-sample naive MSE from the first
sale on), pinball loss averaged over the quantiles 2.5, 10, 50, 90, 97.5 [units/day], and the coverage of
the 80% and 95% intervals; the table gives the mean over SKUs (unweighted, not the M5 WRMSSE).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from opslib.data import from_m5
from opslib.forecast import accuracy, backtest

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "m5_tiny_real"
MODELS = ("auto", "seasonal_naive", "naive", "ses", "croston", "croston_sba", "croston_optimized", "tsb",
          "adida", "imapa", "theta", "comb_shd")


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"M5 excerpt not found at {DATA}")
    demand = from_m5(DATA).demand
    print(f"M5 excerpt: {demand['sku'].nunique()} SKU-store series, {demand['date'].nunique()} days "
          f"({demand['date'].min().date()}..{demand['date'].max().date()}), share of zero days "
          f"{(demand['units'] == 0).mean():.2f}; last 28 days held out")
    start = time.perf_counter()
    frame = backtest(demand, 28, windows=1, models=MODELS)
    seconds = time.perf_counter() - start
    per_sku = accuracy(frame, by=("sku", "model"))
    per_sku = per_sku.replace([np.inf, -np.inf], np.nan)
    table = per_sku.groupby("model")[["rmsse", "mase", "pinball", "coverage_80", "coverage_95", "bias"]].mean()
    table = table.sort_values("rmsse").round(3)
    print(table.to_string())
    used = frame[(frame.model == "auto") & (frame.h == 1)]["model_used"].value_counts()
    print("auto chose:", ", ".join(f"{k} {v}" for k, v in used.items()))
    print(f"(all {len(MODELS)} models: {seconds:.1f} s)")


if __name__ == "__main__":
    main()
