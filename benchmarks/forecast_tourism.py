"""Tourism competition (Athanasopoulos et al. 2011): MASE of opslib's models next to the published R figures.

Run: ``.venv/bin/python benchmarks/forecast_tourism.py`` (needs ../shared/data/tourism; fails loudly without).
MASE per series = mean_h |y - f| / in-sample mean |y_t - y_{t-m}| (m = 12, 4, 1), averaged over series.
Published (R ``forecast`` reproduction, Tcomp): monthly ETS 1.54, ARIMA 1.60, seasonal naive 1.63,
Theta 1.65; quarterly ETS 1.59, seasonal naive 1.70; yearly Theta 2.73, ETS 3.00.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from opslib.forecast import classify_demand, mase, select_models
from opslib.forecast.combine import combine
from opslib.forecast.core import MODELS, forecast_arrays

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tourism" / "tourism_long.csv.gz"
GROUPS = {"MONTHLY": (24, 12), "QUARTERLY": (8, 4), "YEARLY": (4, 1)}
PUBLISHED = {"MONTHLY": "ETS 1.54, ARIMA 1.60, sNaive 1.63, Theta 1.65", "QUARTERLY": "ETS 1.59, sNaive 1.70",
             "YEARLY": "Theta 2.73, sNaive/naive 3.01, ETS 3.00"}


def main() -> None:
    if not DATA.is_file():
        sys.exit(f"Tourism data not found at {DATA}")
    data = pd.read_csv(DATA).sort_values(["period", "unique_id", "t"])
    for group, (h, m) in GROUPS.items():
        frame = data[data.period == group]
        train = {k: g["y"].to_numpy() for k, g in frame[frame.split == "train"].groupby("unique_id")}
        test = {k: g["y"].to_numpy() for k, g in frame[frame.split == "test"].groupby("unique_id")}
        ids = sorted(train)
        width = max(len(v) for v in train.values())
        y = np.full((len(ids), width), np.nan)                          # right-aligned
        for i, k in enumerate(ids):
            y[i, width - len(train[k]):] = train[k]
        actual = np.vstack([test[k][:h] for k in ids])
        scale_m = m if m > 1 else 1
        rows, results = [], {}
        seasonal = ("holt_winters", "holt_winters_additive") if m > 1 else ()
        nonseasonal = ("drift",) if m == 1 else ()
        for name in ("naive", "seasonal_naive", "ses", "holt", "holt_damped", "theta") + nonseasonal + seasonal:
            start = time.perf_counter()
            results[name] = MODELS[name](y, h, m)
            mean = results[name].mean
            if name in seasonal:
                mean = np.where(np.isfinite(mean).all(axis=1, keepdims=True), np.maximum(mean, 0.0),
                                results["theta"].mean)
            rows.append((name + (" (theta where NaN)" if name in seasonal else ""), mean,
                         time.perf_counter() - start))
        rows.append(("combine mean S-H-D", combine([results[k] for k in ("ses", "holt", "holt_damped")]).mean, np.nan))
        rows.append(("combine mean D-theta", combine([results[k] for k in ("holt_damped", "theta")]).mean, np.nan))
        start = time.perf_counter()
        classes = classify_demand(y, season_length=m).demand_class
        selection = select_models(y, h, season_length=m, demand_class=classes)
        auto, _, _, _ = forecast_arrays(y, h, m, selection.model, classes, ())
        rows.append(("auto (backtest: select, pool, combine or fixed)", auto, time.perf_counter() - start))
        table = pd.DataFrame([(name, float(np.nanmean(mase(actual, f, y, season_length=scale_m))), s)
                              for name, f, s in rows], columns=["opslib model", "MASE", "seconds"])
        print(f"\nTourism {group.lower()}: {len(ids)} series, h = {h}, m = {m}; published: {PUBLISHED[group]}")
        print(table.sort_values("MASE").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        for name in seasonal:
            print(f"({name}: NaN, hence theta, on {int((~np.isfinite(results[name].mean)).any(axis=1).sum())} series)")
        print("auto strategy per class (nested backtest score, training data only):")
        print(selection.strategy.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        chosen = pd.Series(selection.model).value_counts()
        print("auto chose:", ", ".join(f"{k} {v}" for k, v in chosen.head(8).items()), f"... ({len(chosen)} distinct)")


if __name__ == "__main__":
    main()
