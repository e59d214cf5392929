"""Regression with AR errors (model "arimax"): do price, promotion and calendar regressors pay?

1. Demo shop (``opslib.load_demo()``, truth in ``data/demo/ground_truth``): history up to an
   origin, 42 days held out (Double 11 and Double 12 with their promotions). ``arimax`` on
   log1p(units) with the plan's few regressors (``exogenous_design``: log(1 - depth),
   post-promotion days, festival phases presale / peak / after, holidays, the logistics stop, two
   yearly harmonics) against the same model without regressors (AR errors + weekday dummies), SES
   and seasonal naive, scored against the TRUE unconstrained demand (not the censored sales), on all
   held-out days and on the promotion / festival days only. Then recovery on the history, per SKU,
   of the generator's effects on the log scale: the price elasticity (the coefficient of
   log(1 - depth), since the generator's lift is (1 - d)^elasticity x visibility) and the festival
   phases' log event factors (``seasonality.csv``), with bias, correlation and the coverage of the
   90% intervals (coefficient +- 1.645 standard errors).
2. M5 excerpt (``../shared/data/m5_tiny_real``, 70 series, last 28 days held out): ``arimax`` with
   SNAP days, event-type phases, holidays and the shelf price against the same model without them,
   SES, seasonal naive and SBA; RMSSE, pinball loss, WAPE on SNAP days.

Run: ``.venv/bin/python benchmarks/forecast_exog.py [--skus 24]``. The tables print CPU seconds
(``time.process_time``, this process and its BLAS threads) and wall seconds of each forecast call.
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
from opslib.forecast.features import regressor_array  # noqa: E402
from opslib.forecast.frequency import future_dates  # noqa: E402
from opslib.forecast.panel import to_panel  # noqa: E402
from opslib.forecast.regression import arimax  # noqa: E402
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


def _timed(call):
    c0, w0 = time.process_time(), time.perf_counter()
    out = call()
    return out, time.process_time() - c0, time.perf_counter() - w0


def _recovery(est: np.ndarray, se: np.ndarray, true: np.ndarray) -> dict:
    ok = np.isfinite(est) & np.isfinite(true) & np.isfinite(se)
    est, se, true = est[ok], se[ok], true[ok]
    corr = float(np.corrcoef(est, true)[0, 1]) if ok.sum() > 2 and np.std(true) > 1e-9 else np.nan
    return {"SKUs": int(ok.sum()), "mean true": true.mean(), "mean estimate": est.mean(),
            "bias": (est - true).mean(), "RMSE": float(np.sqrt(((est - true) ** 2).mean())),
            "median estimate": float(np.median(est)), "correlation": corr, "90% coverage": float((np.abs(est - true) <= 1.645 * se).mean()),
            "median se": float(np.median(se))}


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
    exog, design_cpu, _ = _timed(lambda: exogenous_design(train, horizon, calendar=ws.calendar,
                                                          promotion_days=promotion_days, items=ws.items,
                                                          yearly_harmonics=2))
    names = [c for c in exog.columns if c not in ("sku", "date")]
    no_regressors = exog[["sku", "date"]]

    true_demand = pd.read_csv(TRUTH / "true_demand.csv.gz", parse_dates=["date"])
    true_demand = true_demand[true_demand["sku"].isin(skus)]
    actual = true_demand[(true_demand["date"] > origin)].rename(columns={"units": "actual"})[["sku", "date", "actual"]]
    flags = exog[exog["date"] > origin]
    festival_cols = [c for c in names if c.startswith(("Double 11: peak", "Double 12: peak"))]
    actual = actual.merge(flags[["sku", "date", "promo_log_discount", *festival_cols]], on=["sku", "date"], how="left")
    actual["promo_or_festival"] = (actual["promo_log_discount"] < 0) | (actual[festival_cols].sum(axis=1) > 0)

    runs, timings = {}, {}
    for label, kwargs in [("arimax + plan regressors", dict(model="arimax", exog=exog, engine=engine)),
                          ("arimax, no regressors", dict(model="arimax", exog=no_regressors, engine=engine)),
                          ("ses", dict(model="ses")), ("seasonal_naive", dict(model="seasonal_naive"))]:
        runs[label], cpu, wall = _timed(lambda: forecast(train, horizon, quantiles=QUANTILES, **kwargs))
        timings[label] = (cpu, wall)
    rows = []
    for label, fc in runs.items():
        a = _scores(fc, actual, train)
        p = _scores(fc, actual, train, "promo_or_festival")
        rows.append({"model": label, "WAPE all": a["WAPE"], "RMSSE all": a["RMSSE"], "pinball all": a["pinball"],
                     "WAPE promo/festival": p["WAPE"], "RMSSE promo/festival": p["RMSSE"],
                     "pinball promo/festival": p["pinball"], "arimax share": (fc["model"] == "arimax").mean(),
                     "CPU s": timings[label][0], "wall s": timings[label][1]})
    table = pd.DataFrame(rows).set_index("model")
    print(f"Demo shop: {len(skus)} fast/medium SKUs, origin {origin.date()}, {horizon} days held out "
          f"({int(actual['promo_or_festival'].sum())} of {len(actual)} SKU-days promoted or a Double 11/12 peak); "
          f"scored against the true unconstrained demand. {len(names)} regressors ({design_cpu:.1f} CPU s to build): "
          f"{names}")
    print(table.round(3).to_string())

    # recovery of the generator's effects on the log scale
    panel = to_panel(train)
    observed = ~np.isnan(panel.values)
    first = np.argmax(observed, axis=1)
    reg = regressor_array(exog, panel.skus, panel.dates, future_dates(panel.dates[-1], horizon, panel.frequency), first)
    fit, cpu, wall = _timed(lambda: arimax(panel.values, horizon, season_length=7, exog=reg))
    print(f"\nRecovery fit: arimax on {len(panel.skus)} SKUs x {panel.values.shape[1]} days, "
          f"{len(reg.shared_names)} calendar columns held once + {len(reg.names)} per SKU: {cpu:.1f} CPU s, "
          f"{wall:.1f} s wall; AR orders chosen: {dict(pd.Series(fit.params['order']).value_counts())}")
    seasonality = pd.read_csv(TRUTH / "seasonality.csv.gz", parse_dates=["date"])
    log_event = seasonality.assign(log_event=np.log(seasonality["event_factor"])).set_index(["category", "date"])["log_event"]
    category = ws.items.set_index("sku")["category"]
    elasticity = truth.set_index("sku")["elasticity"]
    hist = exog[exog["date"] <= origin]
    calendar_cols = [c for c in names if ":" in c]
    effects = {"price elasticity (promo_log_discount)": "promo_log_discount", **{c: c for c in calendar_cols},
               "holiday": "holiday"}
    records = {label: ([], [], []) for label in effects}
    for i, sku in enumerate(panel.skus):
        coef, se = fit.params["coefficients"][i], fit.params["std_errors"][i]
        part = hist[hist["sku"] == sku]
        for label, column in effects.items():
            if column not in coef:
                continue
            if column == "promo_log_discount":
                true = elasticity[sku]
            elif column == "holiday":
                true = np.log(0.92)                       # demo.py: every public holiday x 0.92
            else:                                          # mean log event factor on the phase's clean days
                clean = part[(part[column] == 1) & (part[["holiday", "shutdown"]].sum(axis=1) == 0)]
                values = log_event.reindex(pd.MultiIndex.from_arrays([[category[sku]] * len(clean), clean["date"]]))
                true = float(np.nanmean(values)) if len(clean) else np.nan
            records[label][0].append(coef[column])
            records[label][1].append(se[column])
            records[label][2].append(true)
    recovery = pd.DataFrame({label: _recovery(*map(np.asarray, v)) for label, v in records.items() if v[0]}).T
    print("\nRecovery of the generator's effects on the history (log scale, per SKU; truth: elasticities.csv, "
          "log event_factor of seasonality.csv; the model's scale is log1p(units), so effects of low-volume SKUs "
          "are attenuated):")
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
        runs[label], cpu, wall = _timed(lambda: forecast(train, horizon, quantiles=QUANTILES, **kwargs))
        timings[label] = (cpu, wall)
    rows = []
    for label, fc in runs.items():
        a = _scores(fc, actual, train)
        s = _scores(fc, actual, train, "snap")
        rows.append({"model": label, "RMSSE": a["RMSSE"], "pinball": a["pinball"], "WAPE": a["WAPE"],
                     "WAPE SNAP days": s["WAPE"], "arimax share": (fc["model"] == "arimax").mean(),
                     "CPU s": timings[label][0], "wall s": timings[label][1]})
    print(f"\nM5 excerpt: {demand['sku'].nunique()} series, train to {origin.date()}, {horizon} days held out; "
          f"regressors: {[c for c in exog.columns if c not in ('sku', 'date')]}")
    print(pd.DataFrame(rows).set_index("model").round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skus", type=int, default=24, help="demo SKUs (fast and medium movers)")
    parser.add_argument("--engine", default="none", choices=["processes", "none"],
                        help="'none': arimax is vectorized over SKUs in this process")
    args = parser.parse_args()
    engine = None if args.engine == "none" else args.engine
    print("Timings on a shared, loaded 2-core machine: compare CPU seconds within a run only.\n")
    c0, t0 = time.process_time(), time.perf_counter()
    demo(args.skus, engine)
    m5(engine)
    print(f"\ntotal {time.process_time() - c0:.0f} CPU s, {time.perf_counter() - t0:.0f} s wall")


if __name__ == "__main__":
    main()
