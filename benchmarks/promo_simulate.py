"""Monte Carlo promotion ROI on the demo shop: interval coverage on held-out promotions, and speed.

Run: ``.venv/bin/python benchmarks/promo_simulate.py [n_promotions]``. For each of the last
single-SKU-scoped ``percent_off`` promotions of the demo shop, the response is fitted on the
promotion's category with the data before its start only (``fit_own_price_response``, then
``pool_elasticities``), the baseline is the weekday average of the clean history before the start
(``baseline_from_history``), and the plan is simulated with 2,000 draws. Per promoted SKU the
P10-P90 interval of the simulated window bump (incremental units) and of the lift (Q/B) are
compared with the truth in ``promo_effects`` (an 80% interval: nominal coverage 0.80).
Then the runtime per simulation (2,000 draws) and of a 10,000-draw x 500-SKU plan.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import opslib
from opslib.data import daily_demand, load_ground_truth
from opslib.promo import PromotionPlan, baseline_from_history, fit_own_price_response, pool_elasticities, simulate


def held_out(promotions: pd.DataFrame, n: int) -> pd.DataFrame:
    p = promotions[(promotions["mechanic"] == "percent_off") & promotions["scope"].str.startswith("sku:")]
    p = p[pd.to_datetime(p["start"]) >= pd.Timestamp("2025-01-01")].sort_values("start")
    return p.iloc[np.linspace(0, len(p) - 1, min(n, len(p))).round().astype(int)]


def main(n: int = 12) -> None:
    ws = opslib.load_demo()
    demand = daily_demand(ws)
    truth = load_ground_truth()["promo_effects"].query("role == 'promoted'")
    items = ws.items
    rows, timings = [], []
    for _, promo in held_out(ws.promotions, n).iterrows():
        start, end = pd.Timestamp(promo["start"]), pd.Timestamp(promo["end"])
        skus = promo["scope"].split(":", 1)[1].split("|")
        category = items.set_index("sku").loc[skus[0], "category"]
        cat_skus = items.loc[items["category"] == category, "sku"].tolist()
        history = demand[(pd.to_datetime(demand["date"]) < start) & demand["sku"].isin(cat_skus)]
        known = ws.promotions[pd.to_datetime(ws.promotions["start"]) < start]
        t0 = time.perf_counter()
        fit = fit_own_price_response(history, known, items, ws.calendar, skus=sorted(history["sku"].unique()))
        pooled = pool_elasticities(fit.estimates).estimates.set_index("sku")
        t_fit = time.perf_counter() - t0
        response = fit.estimates.set_index("sku")
        response[["elasticity", "elasticity_se"]] = pooled[["elasticity", "elasticity_se"]]
        clean_history = history[history["sku"].isin(skus)]
        baseline = baseline_from_history(clean_history, skus, start, end)
        plan = PromotionPlan(skus=tuple(skus), start=start, end=end, depth=float(promo["depth"]),
                             funding_share=float(promo["funding_share"] or 0), fixed_cost=float(promo["fixed_cost"] or 0),
                             name=promo["promo_id"])
        t0 = time.perf_counter()
        result = simulate(plan, response.reset_index(), baseline, items, draws=2000, seed=0)
        timings.append(time.perf_counter() - t0)
        per = result.skus.merge(truth[truth["promo_id"] == promo["promo_id"]][
            ["sku", "lift", "baseline_units", "incremental_units"]].rename(
            columns={"baseline_units": "true_baseline", "incremental_units": "true_bump", "lift": "true_lift"}), on="sku")
        for _, r in per.iterrows():
            b = r["baseline_units"]
            lift = [1 + r[f"incremental_units_{k}"] / b if b > 0 else np.nan for k in ("p10", "p50", "p90")]
            rows.append({"promo": promo["promo_id"], "sku": r["sku"], "depth": plan.depth, "days": plan.days,
                         "baseline": b, "true_baseline": r["true_baseline"],
                         "bump_p10": r["incremental_units_p10"], "bump_p50": r["incremental_units_p50"],
                         "bump_p90": r["incremental_units_p90"], "true_bump": r["true_bump"],
                         "lift_p10": lift[0], "lift_p50": lift[1], "lift_p90": lift[2], "true_lift": r["true_lift"],
                         "P(roi>0)": result.probability_profitable,
                         "profit_p50": result.summary.set_index("metric").at["profit", "p50"], "fit_s": t_fit})
    table = pd.DataFrame(rows)
    table["bump_in"] = (table["true_bump"] >= table["bump_p10"]) & (table["true_bump"] <= table["bump_p90"])
    table["lift_in"] = (table["true_lift"] >= table["lift_p10"]) & (table["true_lift"] <= table["lift_p90"])
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(table.round(2).to_string(index=False))
    print(f"\n{len(table)} promoted SKUs in {table['promo'].nunique()} held-out promotions (80% intervals):")
    print(f"  coverage of the true window bump (units):   {table['bump_in'].mean():.2f}")
    print(f"  coverage of the true lift (Q/B):            {table['lift_in'].mean():.2f}")
    print(f"  median |baseline error| / true baseline:    "
          f"{(table['baseline'] / table['true_baseline'] - 1).abs().median():.2f}")
    print(f"  median |bump P50 error| / true bump:        "
          f"{((table['bump_p50'] - table['true_bump']).abs() / table['true_bump'].abs()).median():.2f}")
    print(f"time per simulation (2,000 draws, 1-3 SKUs, with tornado): median {np.median(timings) * 1000:.0f} ms, "
          f"max {np.max(timings) * 1000:.0f} ms")

    # speed at scale (issue target: 10,000 draws x 500 SKUs under 2 s)
    rng = np.random.default_rng(0)
    skus = [f"S{i:04d}" for i in range(500)]
    big_items = pd.DataFrame({"sku": skus, "price": rng.uniform(10, 100, 500)})
    big_items["unit_cost"] = big_items["price"] * rng.uniform(0.5, 0.8, 500)
    resp = pd.DataFrame({"sku": skus, "elasticity": rng.normal(-3.6, 1.2, 500), "elasticity_se": 0.5,
                         "post_dip": -0.1, "post_dip_se": 0.05, "cannibalization_share": 0.33,
                         "cannibalization_share_se": 0.1})
    days = pd.date_range("2024-06-01", "2024-06-07")
    base = pd.DataFrame({"sku": np.repeat(skus, len(days)), "date": np.tile(days, 500), "baseline_units": 3.0})
    plan = PromotionPlan(skus=tuple(skus), start=days[0], end=days[-1], depth=0.2, fixed_cost=2000.0)
    for tornado in (False, True):
        t0 = time.perf_counter()
        r = simulate(plan, resp, base, big_items, draws=10_000, seed=0, tornado=tornado)
        print(f"10,000 draws x 500 SKUs (tornado={tornado}): {time.perf_counter() - t0:.2f} s, "
              f"P(ROI>0) = {r.probability_profitable:.3f}, median profit ROI = "
              f"{r.draws['profit_roi'].median():.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
