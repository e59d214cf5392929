"""Regression with ARMA errors (model "arimax"): do price, promotion and calendar regressors pay?

1. Demo shop (``opslib.load_demo()``, truth in ``data/demo/ground_truth``): history up to an
   origin, 42 days held out (Double 11 and Double 12 with their promotions). ``arimax`` with the
   plan's regressors (``exogenous_design``: promotions, festivals and the days around them) against
   the same model without regressors (ARMA errors + weekday dummies), SES and seasonal naive, scored
   against the TRUE unconstrained demand (not the censored sales), on all held-out days and on the
   promotion / festival days only. Then recovery: the estimated promotion effect per SKU (promo +
   depth x promo_depth, units/day) against the true one (expected_units - baseline_units on the
   promoted history days), and the Double 11 day effect against baseline x (1 - 1/event_factor).
2. M5 excerpt (``../shared/data/m5_tiny_real``, 70 series, last 28 days held out): ``arimax`` with
   SNAP days, events and the weekly shelf price against the same model without them, SES, seasonal
   naive and SBA; RMSSE, pinball loss, WAPE on SNAP days.

Run: ``.venv/bin/python benchmarks/forecast_exog.py [--skus 8]`` (measured with --skus 6: 3.7 min of CPU
time, 12 min wall-clock on the 2-core machine shared by ~8 jobs; the regression fits dominate).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import opslib  # noqa: E402
from opslib.data import from_m5  # noqa: E402
from opslib.forecast import exogenous_design, forecast  # noqa: E402
from opslib.promo import promotion_exposure  # noqa: E402
from opslib.forecast.metrics import pinball_loss, rmsse, wape  # noqa: E402

TRUTH = ROOT / "data" / "demo" / "ground_truth"
M5 = ROOT.parent / "shared" / "data" / "m5_tiny_real"
QUANTILES = (0.1, 0.5, 0.9)


def _scores(fc: pd.DataFrame, actual: pd.DataFrame, train: pd.DataFrame, mask_column: str | None = None) -> dict:
    """Pooled WAPE, mean RMSSE per SKU, mean pinball loss; on the rows where mask_column is true when given."""
    joined = fc.merge(actual, on=["sku", "date"], how="inner")
    if mask_column is not None:
        joined = joined[joined[mask_column].astype(bool)]
    out = {"WAPE": wape(joined["actual"], joined["mean"])}
    scaled = []
    for sku, part in joined.groupby("sku"):
        hist = train.loc[train["sku"] == sku].sort_values("date")["units"].dropna().to_numpy()
        value = rmsse(part["actual"].to_numpy(), part["mean"].to_numpy(), hist, season_length=1)
        if np.isfinite(value):
            scaled.append(value)
    out["RMSSE"] = float(np.mean(scaled))
    out["pinball"] = float(np.mean([pinball_loss(joined["actual"], joined[f"p{int(q * 100)}"], q) for q in QUANTILES]))
    out["rows"] = len(joined)
    return out


def demo(n_skus: int, engine) -> None:
    ws = opslib.load_demo()
    origin, horizon = pd.Timestamp("2025-10-31"), 42
    truth = pd.read_csv(TRUTH / "elasticities.csv")
    keep = truth[truth["demand_class"].isin(["fast", "medium"]) & truth["discontinue_date"].isna()
                 & (pd.to_datetime(truth["launch_date"]).fillna(pd.Timestamp("2000-01-01")) < "2024-01-01")]
    skus = keep.sort_values("base_units_per_day", ascending=False)["sku"].head(n_skus).tolist()
    demand = ws.demand[ws.demand["sku"].isin(skus)]
    train = demand[demand["date"] <= origin]
    promotion_days = promotion_exposure(ws.promotions, ws.items)
    exog = exogenous_design(train, horizon, calendar=ws.calendar, promotion_days=promotion_days, items=ws.items)
    no_regressors = exog[["sku", "date"]]

    true_demand = pd.read_csv(TRUTH / "true_demand.csv.gz", parse_dates=["date"])
    true_demand = true_demand[true_demand["sku"].isin(skus)]
    actual = true_demand[(true_demand["date"] > origin)].rename(columns={"units": "actual"})[["sku", "date", "actual"]]
    flags = exog[exog["date"] > origin]
    event_cols = [c for c in exog.columns if c.startswith("event: Double 1")]
    actual = actual.merge(flags[["sku", "date", "promo", *event_cols]], on=["sku", "date"], how="left")
    actual["promo_or_festival"] = (actual["promo"] > 0) | (actual[event_cols].sum(axis=1) > 0)

    runs = {}
    timings = {}
    for label, kwargs in [("arimax + plan regressors", dict(model="arimax", exog=exog, engine=engine)),
                          ("arimax, no regressors", dict(model="arimax", exog=no_regressors, engine=engine)),
                          ("ses", dict(model="ses")), ("seasonal_naive", dict(model="seasonal_naive"))]:
        t0 = time.perf_counter()
        runs[label] = forecast(train, horizon, quantiles=QUANTILES, **kwargs)
        timings[label] = time.perf_counter() - t0
    rows = []
    for label, fc in runs.items():
        a = _scores(fc, actual, train)
        p = _scores(fc, actual, train, "promo_or_festival")
        rows.append({"model": label, "WAPE all": a["WAPE"], "RMSSE all": a["RMSSE"], "pinball all": a["pinball"],
                     "WAPE promo/festival": p["WAPE"], "RMSSE promo/festival": p["RMSSE"],
                     "pinball promo/festival": p["pinball"], "arimax share": (fc["model"] == "arimax").mean(),
                     "seconds": timings[label]})
    table = pd.DataFrame(rows).set_index("model")
    print(f"Demo shop: {len(skus)} fast/medium SKUs, origin {origin.date()}, {horizon} days held out "
          f"({int(actual['promo_or_festival'].sum())} of {len(actual)} SKU-days promoted or a Double 11/12 day); "
          "scored against the true unconstrained demand")
    print(table.round(3).to_string())

    # recovery of the promotion and festival effects
    from opslib.forecast.features import regressor_array
    from opslib.forecast.frequency import future_dates
    from opslib.forecast.panel import to_panel

    panel = to_panel(train)
    observed = ~np.isnan(panel.values)
    first = np.argmax(observed, axis=1)
    reg = regressor_array(exog, panel.skus, panel.dates, future_dates(panel.dates[-1], horizon, panel.frequency), first)
    from opslib.forecast.parallel import run_model

    fit = run_model("arimax", panel.values, horizon, 7, exog=reg, engine=engine)
    seasonality = pd.read_csv(TRUTH / "seasonality.csv.gz", parse_dates=["date"])
    category = ws.items.set_index("sku")["category"]
    hist_truth = true_demand[true_demand["date"] <= origin].merge(
        exog[["sku", "date", "promo", "promo_depth"]], on=["sku", "date"])
    records = []
    for i, sku in enumerate(panel.skus):
        coef = fit.params["coefficients"][i]
        if not coef:
            continue
        part = hist_truth[(hist_truth["sku"] == sku) & (hist_truth["promo"] > 0)]
        est_promo = coef.get("promo", 0.0) + coef.get("promo_depth", 0.0) * part["promo_depth"].mean()
        true_promo = (part["expected_units"] - part["baseline_units"]).mean()
        d11 = hist_truth[(hist_truth["sku"] == sku) & hist_truth["date"].isin(pd.to_datetime(["2023-11-11", "2024-11-11"]))]
        factor = seasonality[(seasonality["category"] == category[sku])
                             & seasonality["date"].isin(d11["date"])]["event_factor"].mean()
        true_d11 = (d11["baseline_units"] * (1 - 1 / factor)).mean()
        records.append({"sku": sku, "est_promo": est_promo, "true_promo": true_promo,
                        "est_d11": coef.get("event: Double 11", np.nan), "true_d11": true_d11,
                        "level": part["baseline_units"].mean()})
    rec = pd.DataFrame(records)

    def summary(est, true):
        ok = np.isfinite(est) & np.isfinite(true)
        est, true = est[ok], true[ok]
        slope = float((est * true).sum() / (true * true).sum())      # regression through the origin
        return {"SKUs": int(ok.sum()), "mean true [units/day]": true.mean(), "mean estimate [units/day]": est.mean(),
                "ratio of means": est.mean() / true.mean(), "slope est~true": slope,
                "correlation": float(np.corrcoef(est, true)[0, 1])}

    recovery = pd.DataFrame({
        "promotion effect (promo days)": summary(rec["est_promo"].to_numpy(), rec["true_promo"].to_numpy()),
        "Double 11 day effect": summary(rec["est_d11"].to_numpy(), rec["true_d11"].to_numpy())}).T
    print("\nRecovery of the true effects on the history (additive, units/day per SKU; demo ground truth):")
    print(recovery.round(3).to_string())


def m5(engine) -> None:
    if not M5.is_dir():
        raise SystemExit(f"forecast_exog: {M5} is missing: this benchmark needs ../shared/data/m5_tiny_real.")
    ws = from_m5(M5)
    demand = ws.demand
    horizon = 28
    origin = demand["date"].max() - pd.Timedelta(days=horizon)
    train = demand[demand["date"] <= origin]
    exog = exogenous_design(train, horizon, calendar=ws.calendar, items=ws.items,
                            prices=demand[["sku", "date", "price"]])
    exog = exog.drop(columns=[c for c in exog.columns if c == "promo"])            # M5 has no promotion data
    actual = demand[demand["date"] > origin].rename(columns={"units": "actual"})[["sku", "date", "actual", "snap"]]
    runs, timings = {}, {}
    for label, kwargs in [("arimax + SNAP/events/price", dict(model="arimax", exog=exog, engine=engine)),
                          ("arimax, no regressors", dict(model="arimax", exog=exog[["sku", "date"]], engine=engine)),
                          ("ses", dict(model="ses")), ("seasonal_naive", dict(model="seasonal_naive")),
                          ("croston_sba", dict(model="croston_sba"))]:
        t0 = time.perf_counter()
        runs[label] = forecast(train, horizon, quantiles=QUANTILES, **kwargs)
        timings[label] = time.perf_counter() - t0
    rows = []
    for label, fc in runs.items():
        a = _scores(fc, actual, train)
        s = _scores(fc, actual, train, "snap")
        rows.append({"model": label, "RMSSE": a["RMSSE"], "pinball": a["pinball"], "WAPE": a["WAPE"],
                     "WAPE SNAP days": s["WAPE"], "arimax share": (fc["model"] == "arimax").mean(),
                     "seconds": timings[label]})
    print(f"\nM5 excerpt: {demand['sku'].nunique()} series, train to {origin.date()}, {horizon} days held out; "
          f"regressors: {[c for c in exog.columns if c not in ('sku', 'date')][:8]} ...")
    print(pd.DataFrame(rows).set_index("model").round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skus", type=int, default=8, help="demo SKUs (fast and medium movers)")
    parser.add_argument("--engine", default="processes", choices=["processes", "none"])
    args = parser.parse_args()
    engine = None if args.engine == "none" else args.engine
    print("Timings are wall-clock on a shared, loaded 2-core machine; compare within a run only.\n")
    t0 = time.perf_counter()
    demo(args.skus, engine)
    m5(engine)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
