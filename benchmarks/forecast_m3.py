"""M3 monthly (1,428 series, h = 18): sMAPE of opslib's models next to the published methods.

Run: ``.venv/bin/python benchmarks/forecast_m3.py`` (needs ../shared/data/m3; fails loudly without).
The published rows are recomputed from the ORIGINAL forecasts of the competitors
(``m3_original_forecasts_10methods.csv.gz``) with the same sMAPE, mean(200 |y - f| / (|y| + |f|)).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from opslib.forecast import (classify_demand, combine, historic_average, holt, naive, seasonal_naive, select_models,
                             seasonally_adjusted, simple_exponential_smoothing, smape, theta)
from opslib.forecast.core import forecast_arrays
from opslib.forecast.holt_winters import holt_winters, holt_winters_additive

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "m3"
H, M = 18, 12


def main() -> None:
    if not DATA.is_dir():
        sys.exit(f"M3 data not found at {DATA}")
    frame = pd.read_csv(DATA / "m3_monthly.csv.gz")
    frame = frame.sort_values(["unique_id", "ds"])
    train = {k: g["y"].to_numpy() for k, g in frame[frame.split == "train"].groupby("unique_id")}
    test = {k: g["y"].to_numpy() for k, g in frame[frame.split == "test"].groupby("unique_id")}
    ids = sorted(train)
    width = max(len(v) for v in train.values())
    y = np.full((len(ids), width), np.nan)                        # right-aligned: every series ends at T
    for i, k in enumerate(ids):
        y[i, width - len(train[k]):] = train[k]
    actual = np.vstack([test[k][:H] for k in ids])

    rows = []
    models = {
        "opslib naive": lambda: naive(y, H),
        "opslib seasonal_naive": lambda: seasonal_naive(y, H, M),
        "opslib historic_average": lambda: historic_average(y, H),
        "opslib ses alpha [0.1, 0.3] (M5 range)": lambda: simple_exponential_smoothing(y, H),
        "opslib ses alpha [0.01, 0.99]": lambda: simple_exponential_smoothing(y, H, alpha_range=(0.01, 0.99)),
        "opslib holt": lambda: holt(y, H),
        "opslib holt damped": lambda: holt(y, H, damped=True),
        # M3/M4 benchmark convention: classical multiplicative adjustment when the 90% ACF test says seasonal
        "opslib SES, seasonally adjusted (SINGLE)": lambda: seasonally_adjusted(
            simple_exponential_smoothing, y, H, M, alpha_range=(0.01, 0.99)),
        "opslib Holt, seasonally adjusted (HOLT)": lambda: seasonally_adjusted(holt, y, H, M),
        "opslib damped, seasonally adjusted (DAMPEN)": lambda: seasonally_adjusted(holt, y, H, M, damped=True),
        "opslib theta (THETA)": lambda: theta(y, H, season_length=M),
        "opslib holt_winters (damped, mult. seasonal; theta where NaN)": lambda: holt_winters(y, H, M),
        "opslib holt_winters_additive (damped, add. seasonal; theta where NaN)": lambda: holt_winters_additive(y, H, M),
    }
    results = {}
    for name, run in models.items():
        start = time.perf_counter()
        results[name] = run()
        if "holt_winters" in name:
            ok = np.isfinite(results[name].mean).all(axis=1, keepdims=True)
            results[name] = results[name]._replace(mean=np.where(ok, np.maximum(results[name].mean, 0.0),
                                                                 results["opslib theta (THETA)"].mean))
        seconds = time.perf_counter() - start
        rows.append((name, float(np.mean(smape(actual, results[name].mean))), seconds))
    shd = [results[k] for k in ("opslib SES, seasonally adjusted (SINGLE)", "opslib Holt, seasonally adjusted (HOLT)",
                                "opslib damped, seasonally adjusted (DAMPEN)")]
    combos = {"opslib combine mean S-H-D (COMB S-H-D)": shd,
              "opslib combine mean S-H-D + theta": shd + [results["opslib theta (THETA)"]]}
    for name, members in combos.items():
        rows.append((name, float(np.mean(smape(actual, combine(members).mean))), np.nan))

    # model="auto": per class select, pool, class-wide combination or one model by rolling-origin backtest (RMSSE)
    start = time.perf_counter()
    classes = classify_demand(y, season_length=M).demand_class
    selection = select_models(y, H, season_length=M, demand_class=classes)
    mean, _, _, _ = forecast_arrays(y, H, M, selection.model, classes, ())
    rows.append(("opslib auto (backtest: select, pool, combine or fixed)", float(np.mean(smape(actual, mean))),
                 time.perf_counter() - start))
    chosen = pd.Series(selection.model).value_counts()

    original = pd.read_csv(DATA / "m3_original_forecasts_10methods.csv.gz")
    original = original[original.unique_id.isin(ids)].pivot_table(index=["method", "unique_id"], columns="h",
                                                                    values="yhat")
    for method in original.index.get_level_values("method").unique():
        table = original.loc[method].reindex(ids).to_numpy()[:, :H]
        rows.append((f"published {method}", float(np.mean(smape(actual, table))), np.nan))

    result = pd.DataFrame(rows, columns=["method", "sMAPE", "seconds"]).sort_values("sMAPE")
    print(f"M3 monthly: {len(ids)} series, h = {H}, sMAPE mean over series")
    print(result.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print("auto strategy per class (nested backtest score, training data only):")
    print(selection.strategy.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("auto chose:", ", ".join(f"{k} {v}" for k, v in chosen.head(8).items()), f"... ({len(chosen)} distinct)")


if __name__ == "__main__":
    main()
