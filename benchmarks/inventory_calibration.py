"""Calibration: achieved service in simulation against the target, per ABC class, opslib vs the naive z-rule.

On the demo shop, for fill-rate targets 90/95/98 % (and cycle-service-level
targets with ``--csl``): plan (R,S) policies, R = 7 days, with
:func:`opslib.inventory.plan_policies` (exact service after MOQ and pack
rounding, random lead times with orders crossing, family per SKU) and with the naive rule
``mu (L + R) + z sigma sqrt(L)``, ``z = Phi^-1(target)`` (mean lead time,
the review period's spread and lead-time variance ignored). Simulate both
with the same inputs: daily demand bootstrapped from each SKU's in-stock days
(the empirical pmf, not the fitted family), lead times drawn per order from the
supplier's measured receipts (orders cross), MOQ and case packs, backorders.

Prints per target and ABC class: the demand-weighted achieved fill rate (or the
mean cycle service level), the number of SKUs, and the simulated inventory
value. Target: opslib within 1 point of target in every class (issue 4).

Run: .venv/bin/python benchmarks/inventory_calibration.py [--csl] [--paths 40] [--days 365]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import opslib
from opslib.inventory import naive_z_policy, plan_policies, simulate_inventory
from opslib.inventory.segmentation import abc_classes


def empirical_day_pmfs(ws, skus, history_days=365):
    d = ws.demand.copy()
    d["date"] = pd.to_datetime(d["date"])
    d = d[(d["date"] > d["date"].max() - pd.Timedelta(days=history_days)) & d["in_stock"].fillna(True).astype(bool)]
    out = []
    groups = dict(tuple(d.groupby("sku")["units"]))
    for sku in skus:
        counts = groups[sku].round().value_counts(normalize=True).sort_index()
        out.append({float(k): float(v) for k, v in counts.items()})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csl", action="store_true", help="cycle service level targets instead of fill rate")
    ap.add_argument("--paths", type=int, default=40)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    service_type = "cycle_service_level" if args.csl else "fill_rate"
    measure = "cycle_service_level" if args.csl else "fill_rate"
    review = 7

    ws = opslib.load_demo()
    started = time.perf_counter()
    rows = []
    for target in (0.90, 0.95, 0.98):
        plan = plan_policies(ws, service_type, target, review)
        p = plan.policies[plan.policies["policy"] != "none"].reset_index(drop=True)
        lead = [plan.lead_times.get(s, np.array([x])) for s, x in zip(p["supplier"], p["lead_time_mean_days"])]
        pmfs = empirical_day_pmfs(ws, p["sku"])
        naive = np.array([
            naive_z_policy(m, np.sqrt(v), float(np.mean(lt)), target, review).level
            for m, v, lt in zip(p["demand_mean_per_day"], p["demand_variance_per_day"], lead)
        ])
        common = dict(
            review_period_days=review, minimum_order_quantity=p["moq"].to_numpy(), order_multiple=p["case_pack"].to_numpy(),
            days=args.days, paths=args.paths, skus=p["sku"], seed=args.seed,
        )
        sims = {
            "opslib": simulate_inventory("(R,S)", pmfs, lead, order_up_to=p["order_up_to"].to_numpy(), **common).table,
            "naive": simulate_inventory("(R,S)", pmfs, lead, order_up_to=np.ceil(naive), **common).table,
        }
        cls = abc_classes(p["demand_mean_per_day"] * 365 * p["unit_cost"])
        for method, t in sims.items():
            t = t.assign(abc=cls, value=t["avg_on_hand"].to_numpy() * p["unit_cost"].to_numpy())
            for c in ["A", "B", "C", "all"]:
                sub = t if c == "all" else t[t["abc"] == c]
                demand = sub["demand_per_day"]
                if measure == "fill_rate":
                    achieved = float((sub["fill_rate"] * demand).sum() / demand.sum())
                else:
                    achieved = float(sub["cycle_service_level"].mean())
                rows.append(dict(target=target, abc=c, method=method, skus=len(sub), achieved=achieved,
                                 inventory_value=float(sub["value"].sum())))
    out = pd.DataFrame(rows)
    wide = out.pivot_table(index=["target", "abc"], columns="method", values=["achieved", "inventory_value"])
    wide.columns = [f"{a}_{m}" for a, m in wide.columns]
    wide["skus"] = out[out.method == "opslib"].set_index(["target", "abc"])["skus"]
    wide["gap_opslib_points"] = 100 * (wide["achieved_opslib"] - wide.index.get_level_values("target"))
    wide["gap_naive_points"] = 100 * (wide["achieved_naive"] - wide.index.get_level_values("target"))
    pd.set_option("display.width", 200)
    label = "cycle service level (mean over SKUs)" if args.csl else "fill rate (demand-weighted)"
    print(f"Calibration on the demo shop, (R,S) R={review} d, target = {service_type}; achieved {label}")
    print(f"simulation: {args.paths} paths x {args.days} days, bootstrapped daily demand, measured lead times, MOQ/packs")
    print(wide[["skus", "achieved_opslib", "gap_opslib_points", "achieved_naive", "gap_naive_points",
                "inventory_value_opslib", "inventory_value_naive"]].round(4).to_string())
    print(f"max |gap| opslib: {wide['gap_opslib_points'].abs().max():.2f} points; "
          f"naive: {wide['gap_naive_points'].abs().max():.2f} points; {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
