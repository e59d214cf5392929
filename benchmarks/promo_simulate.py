"""Monte Carlo promotion ROI on the demo shop: interval coverage on held-out promotions, and speed.

Run: ``.venv/bin/python benchmarks/promo_simulate.py [n_promotions]``.

1. Coverage. For each of the last single-SKU-scoped ``percent_off`` promotions of the demo shop (12 spread
   evenly by default; pass a larger number for more, 59 is all since 2025), the response is fitted on the
   promotion's category with the data before its start only (``fit_own_price_response``, then
   ``pool_elasticities``), the baseline is the weekday average of the clean history before the start
   with last year's seasonal index of the category and sold-out days as censored (``baseline_from_history``
   with ``items``) and its uncertainty is backtested on that history (``baseline_uncertainty``).
   The plan is simulated with 2,000 draws three ways: *before* (baseline taken as known, expected units: the
   pre-issue behaviour), *count noise* (baseline known, gamma-Poisson noise of the window's units) and *after*
   (baseline level uncertain and count noise). Per promoted SKU, the P10-P90 interval (nominal coverage 0.80)
   and the P25-P75 interval (0.50) are compared with the units the demo shop sold in the window (``demand``;
   censored on stock-out days, while the simulation is of demand), with the same on SKUs without a stock-out
   day, and with the generator's uncensored demand (ground truth ``true_demand.units``). The per-SKU draws are
   those of the plan's result: each SKU is re-simulated alone on the same ``Simulator`` (the random streams
   depend on the seed and the SKU only). The components are then checked one by one against the generator's
   ground truth: the lift ``Q / B`` of the draws against the true lift (elasticity), the baseline level against
   the true baseline of the window (in ``baseline_log_se`` units), and the count noise alone around the true
   expected units. With ``n`` SKUs a coverage has a binomial standard error of about ``sqrt(p (1 - p) / n)``
   (0.085 for 22 SKUs at 0.80): compare differences larger than that.
2. Speed. 10,000 draws x 500 SKUs (dips as log multipliers, and as fractions of the simulated bump, the
   form ``fit_own_price_response`` writes now; the reference reads the multipliers of the same frame), and a
   scenario update of one SKU (10,000 draws, with tornado; the fitted response, so dips as fractions) through
   ``simulate`` and through a prepared ``Simulator`` (tables indexed once, what the app calls on every
   slider change), each against the pre-issue implementation (commit 1eec306, loaded from git) in the
   same run, because the machine is shared and timings are inflated by its load (printed).
3. ``promo_simulate.py baseline``: the baseline against the generator's true baseline on 7-day windows without
   an offer (``baseline_bias``; about 10 minutes): the weekday average alone, with censored sold-out days, and
   with the seasonal index (the default).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import opslib
from opslib.data import daily_demand, load_ground_truth
from opslib.promo import (
    PromotionPlan,
    Simulator,
    baseline_from_history,
    baseline_uncertainty,
    fit_own_price_response,
    pool_elasticities,
    simulate,
)

REFERENCE_COMMIT = "1eec306"
"""The implementation before issue 5's speed and baseline-uncertainty work."""


def held_out(promotions: pd.DataFrame, n: int) -> pd.DataFrame:
    p = promotions[(promotions["mechanic"] == "percent_off") & promotions["scope"].str.startswith("sku:")]
    p = p[pd.to_datetime(p["start"]) >= pd.Timestamp("2025-01-01")].sort_values("start")
    return p.iloc[np.linspace(0, len(p) - 1, min(n, len(p))).round().astype(int)]


def reference_module():
    """The pre-issue ``opslib.promo.simulate``, read from git (no checkout)."""
    root = Path(__file__).resolve().parents[1]
    try:
        text = subprocess.run(["git", "show", f"{REFERENCE_COMMIT}:opslib/promo/simulate.py"], cwd=root,
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"reference implementation unavailable ({error}); ratios are not printed")
        return None
    path = Path(tempfile.mkdtemp()) / "promo_simulate_reference.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("promo_simulate_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _pit(value: float, draws: np.ndarray) -> float:
    """Mid-rank PIT of ``value`` among the draws, ``(P(X < v) + P(X <= v)) / 2`` (counts have ties)."""
    return float((np.mean(draws < value) + np.mean(draws <= value)) / 2)


def _gamma_poisson_pit(value: float, mean: float, omega: float, days: int) -> float:
    """Mid-rank PIT of a count in the simulator's count noise: gamma-Poisson with ``Var = m + omega m**2 / days``."""
    law = stats.poisson(mean) if omega <= 0 else stats.nbinom(days / omega, days / omega / (days / omega + mean))
    return float((law.cdf(value - 1) + law.cdf(value)) / 2) if value > 0 else float(law.cdf(0) / 2)


def _inside(pit: pd.Series, level: float) -> pd.Series:
    """Whether a PIT value falls in the central interval of probability ``level``."""
    return (pit >= (1 - level) / 2) & (pit <= (1 + level) / 2)


def coverage(n: int):
    ws = opslib.load_demo()
    demand = daily_demand(ws)
    truth = load_ground_truth()
    effects = truth["promo_effects"].query("role == 'promoted'")
    true_demand = truth["true_demand"].assign(date=lambda t: pd.to_datetime(t["date"]))
    items = ws.items
    rows, last = [], None
    dates = pd.to_datetime(demand["date"])
    for _, promo in held_out(ws.promotions, n).iterrows():
        start, end = pd.Timestamp(promo["start"]), pd.Timestamp(promo["end"])
        skus = promo["scope"].split(":", 1)[1].split("|")
        category = items.set_index("sku").loc[skus[0], "category"]
        cat_skus = items.loc[items["category"] == category, "sku"].tolist()
        history = demand[(dates < start) & demand["sku"].isin(cat_skus)]
        known = ws.promotions[pd.to_datetime(ws.promotions["start"]) < start]
        fit = fit_own_price_response(history, known, items, ws.calendar, skus=sorted(history["sku"].unique()))
        pooled = pool_elasticities(fit.estimates).estimates.set_index("sku")
        response = fit.estimates.set_index("sku")
        response[["elasticity", "elasticity_se"]] = pooled[["elasticity", "elasticity_se"]]
        response = response.reset_index()
        # the category's history: its SKUs give the seasonal index (baseline_from_history with items)
        baseline = baseline_from_history(history, skus, start, end, items=items)
        uncertainty = baseline_uncertainty(history, skus, start, end, items=items)
        plan = PromotionPlan(skus=tuple(skus), start=start, end=end, depth=float(promo["depth"]),
                             funding_share=float(promo["funding_share"] or 0),
                             fixed_cost=float(promo["fixed_cost"] or 0), name=promo["promo_id"])
        simulators = {"before": Simulator(response, baseline, items, draws=2000, seed=0),
                      "count": Simulator(response, baseline, items, draws=2000, seed=0,
                                         baseline_uncertainty=uncertainty.assign(baseline_log_se=0.0)),
                      "after": Simulator(response, baseline, items, draws=2000, seed=0,
                                         baseline_uncertainty=uncertainty)}
        runs = {k: s.simulate(plan, tornado=False) for k, s in simulators.items()}
        window = demand[(dates >= start) & (dates <= end) & demand["sku"].isin(skus)]
        sold = window.groupby("sku")["units"].sum()
        short = (~window["in_stock"].astype(bool)).groupby(window["sku"]).sum() if "in_stock" in window else None
        t = effects[effects["promo_id"] == promo["promo_id"]].set_index("sku")
        inside = true_demand[(true_demand["date"] >= start) & (true_demand["date"] <= end)
                             & true_demand["sku"].isin(skus)].groupby("sku")[["units", "expected_units"]].sum()
        for sku in skus:
            before = runs["before"].skus.set_index("sku").loc[sku]
            count = runs["count"].skus.set_index("sku").loc[sku]
            after = runs["after"].skus.set_index("sku").loc[sku]
            u = uncertainty.set_index("sku").loc[sku]
            b = before["baseline_units"]
            alone = {k: s.simulate(replace(plan, skus=(sku,)), tornado=False).draws for k, s in simulators.items()}
            assert np.isclose(np.percentile(alone["after"]["window_units"], 90), after["window_units_p90"])
            units = {"before": alone["before"]["promo_units"].to_numpy(),
                     **{k: alone[k]["window_units"].to_numpy() for k in ("count", "after")}}
            sold_units = float(sold.get(sku, 0.0))
            demand_units = float(inside.at[sku, "units"])
            lift = alone["after"]["promo_units"].to_numpy() / alone["after"]["baseline_units"].to_numpy()
            true_level = float(inside.at[sku, "expected_units"]) / float(t.at[sku, "lift"])
            rows.append({
                "promo": promo["promo_id"], "sku": sku, "depth": plan.depth, "days": plan.days, "baseline": b,
                "log_se": u["baseline_log_se"], "omega": u["overdispersion"], "windows": u["backtest_windows"],
                "sold": sold_units, "demand": demand_units,
                "stockout_days": int(short.get(sku, 0)) if short is not None else 0,
                "before_p10": b + before["incremental_units_p10"], "before_p90": b + before["incremental_units_p90"],
                "count_p10": count["window_units_p10"], "count_p90": count["window_units_p90"],
                "after_p10": after["window_units_p10"], "after_p50": after["window_units_p50"],
                "after_p90": after["window_units_p90"],
                **{f"{k}_pit_sold": _pit(sold_units, v) for k, v in units.items()},
                **{f"{k}_pit_demand": _pit(demand_units, v) for k, v in units.items()},
                "lift_pit": _pit(float(t.at[sku, "lift"]), lift),
                "level_z": np.log(true_level / b) / u["baseline_log_se"] if u["baseline_log_se"] > 0 else np.nan,
                "noise_pit": _gamma_poisson_pit(demand_units, float(inside.at[sku, "expected_units"]),
                                                float(u["overdispersion"]), plan.days),
                "true_bump": t.at[sku, "incremental_units"],
                "bump_before_p10": before["incremental_units_p10"], "bump_before_p90": before["incremental_units_p90"],
                "bump_after_p10": after["incremental_units_p10"], "bump_after_p90": after["incremental_units_p90"]})
        last = (plan, response, baseline, uncertainty, items)
    table = pd.DataFrame(rows)
    for k in ("before", "count", "after"):
        table[f"{k}_in"] = (table["sold"] >= table[f"{k}_p10"]) & (table["sold"] <= table[f"{k}_p90"])
    for k in ("before", "after"):
        table[f"bump_{k}_in"] = ((table["true_bump"] >= table[f"bump_{k}_p10"])
                                 & (table["true_bump"] <= table[f"bump_{k}_p90"]))
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    show = ["promo", "sku", "depth", "days", "baseline", "log_se", "omega", "windows", "stockout_days", "sold",
            "demand", "before_p10", "before_p90", "count_p10", "count_p90", "after_p10", "after_p50", "after_p90",
            "before_in", "after_in"]
    print(table[show].round(2).to_string(index=False))
    stocked = table["stockout_days"] == 0
    m = len(table)
    print(f"\n{m} promoted SKUs in {table['promo'].nunique()} held-out promotions ({int(stocked.sum())} without a "
          f"stock-out day); share of SKUs inside the P10-P90 interval (nominal 0.80, binomial se "
          f"{np.sqrt(0.16 / m):.3f}) and the P25-P75 interval (nominal 0.50, se {np.sqrt(0.25 / m):.3f}):")
    print(f"{'interval':44s} {'units sold':>14s} {'sold, no stock-out':>19s} {'true demand':>14s} {'true bump':>10s}")
    print(f"{'':44s} {'80%':>7s}{'50%':>7s} {'80%':>12s}{'50%':>7s} {'80%':>7s}{'50%':>7s} {'80%':>10s}")
    for k, label in (("before", "before: baseline known, expected units"), ("count", "baseline known + count noise"),
                     ("after", "after: baseline uncertain + count noise")):
        cells = []
        for target, rows_ in (("sold", slice(None)), ("sold", stocked), ("demand", slice(None))):
            pit = table.loc[rows_, f"{k}_pit_{target}"]
            cells.append(f"{_inside(pit, 0.8).mean():7.2f}{_inside(pit, 0.5).mean():7.2f}")
        bump = f"{table[f'bump_{k}_in'].mean():10.2f}" if f"bump_{k}_in" in table else f"{'':>10s}"
        print(f"{label:44s} {cells[0]} {'':5s}{cells[1]} {cells[2]} {bump}")
    print(f"median P90/P10 width ratio: before {np.median(table['before_p90'] / table['before_p10'].clip(1e-9)):.2f}, "
          f"after {np.median(table['after_p90'] / table['after_p10'].clip(1e-9)):.2f}")
    z = table["level_z"].dropna()
    print("components against the generator's truth (80% / 50% coverage):")
    print(f"  lift Q/B of the draws vs the true lift (elasticity, elasticity_se)  "
          f"{_inside(table['lift_pit'], 0.8).mean():.2f} / {_inside(table['lift_pit'], 0.5).mean():.2f}")
    print(f"  baseline level vs the true window baseline, z = log(true/B)/log_se  "
          f"{np.mean(np.abs(z) < 1.2815515655446004):.2f} / {np.mean(np.abs(z) < 0.6744897501960817):.2f}"
          f"   (z mean {z.mean():.2f}, sd {z.std():.2f}; {int(table['log_se'].eq(0).sum())} SKUs with log_se 0)")
    print(f"  count noise alone around the true expected units (omega estimated) "
          f"{_inside(table['noise_pit'], 0.8).mean():.2f} / {_inside(table['noise_pit'], 0.5).mean():.2f}")
    return last


def timed(function, repeat: int = 1) -> tuple[float, float]:
    """Best and median wall time of ``repeat`` calls [s]."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        function()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def speed(last, reference) -> None:
    rng = np.random.default_rng(0)
    skus = [f"S{i:04d}" for i in range(500)]
    big_items = pd.DataFrame({"sku": skus, "price": rng.uniform(10, 100, 500)})
    big_items["unit_cost"] = big_items["price"] * rng.uniform(0.5, 0.8, 500)
    resp = pd.DataFrame({"sku": skus, "elasticity": rng.normal(-3.6, 1.2, 500), "elasticity_se": 0.5,
                         "post_dip": -0.1, "post_dip_se": 0.05, "cannibalization_share": 0.33,
                         "cannibalization_share_se": 0.1})
    days = pd.date_range("2024-06-01", "2024-06-07")
    base = pd.DataFrame({"sku": np.repeat(skus, len(days)), "date": np.tile(days, 500), "baseline_units": 3.0})
    unc = pd.DataFrame({"sku": skus, "baseline_log_se": 0.2, "overdispersion": 0.3})
    plan = PromotionPlan(skus=tuple(skus), start=days[0], end=days[-1], depth=0.2, fixed_cost=2000.0)
    cases = []
    for tornado in (False, True):
        cases.append((f"10,000 draws x 500 SKUs, tornado={tornado}", 1,
                      lambda t=tornado: simulate(plan, resp, base, big_items, draws=10_000, seed=0, tornado=t),
                      (lambda t=tornado: reference.simulate(reference.PromotionPlan(
                          skus=tuple(skus), start=days[0], end=days[-1], depth=0.2, fixed_cost=2000.0), resp, base,
                          big_items, draws=10_000, seed=0, tornado=t)) if reference else None))
    share_resp = resp.assign(dip_fraction=0.15, dip_fraction_se=0.05, pre_dip_fraction=0.05,
                             pre_dip_fraction_se=0.03)
    for tornado in (False, True):
        cases.append((f"10,000 x 500, dips as fractions of the bump, tornado={tornado}", 1,
                      lambda t=tornado: simulate(plan, share_resp, base, big_items, draws=10_000, seed=0, tornado=t),
                      (lambda t=tornado: reference.simulate(reference.PromotionPlan(
                          skus=tuple(skus), start=days[0], end=days[-1], depth=0.2, fixed_cost=2000.0), share_resp,
                          base, big_items, draws=10_000, seed=0, tornado=t)) if reference else None))
    cases.append(("10,000 x 500, baseline uncertain, tornado=False", 1,
                  lambda: simulate(plan, resp, base, big_items, draws=10_000, seed=0, tornado=False,
                                   baseline_uncertainty=unc), None))
    if last is not None:
        p, response, baseline, uncertainty, items = last
        one = p.skus[:1]
        b1 = baseline[baseline["sku"].isin(one)]
        depths = iter(np.tile([0.1, 0.15, 0.2, 0.25, 0.3], 20))

        def update(module, uncertain):
            kw = {"baseline_uncertainty": uncertainty} if uncertain else {}
            q = module.PromotionPlan(skus=one, start=p.start, end=p.end, depth=float(next(depths)))
            return module.simulate(q, response, b1, items, draws=10_000, seed=0, tornado=True, **kw)

        simulate(PromotionPlan(skus=one, start=p.start, end=p.end, depth=0.1), response, b1, items, draws=10_000,
                 baseline_uncertainty=uncertainty)  # first call: draws the streams and caches them
        cases.append(("one-SKU scenario update, simulate(), 10,000 draws, tornado", 5, lambda: update(
            sys.modules["opslib.promo.simulate"], True), (lambda: update(reference, False)) if reference else None))
        # what the app does: the tables are indexed once, then every slider change is one Simulator.simulate
        simulator = Simulator(response, baseline, items, draws=10_000, seed=0, baseline_uncertainty=uncertainty)
        first = simulator.simulate(PromotionPlan(skus=one, start=p.start, end=p.end, depth=0.1))
        print(f"\none-SKU update on {one[0]}: dips in the {first.settings['dips']} form")

        def slider():
            return simulator.simulate(PromotionPlan(skus=one, start=p.start, end=p.end, depth=float(next(depths))))

        cases.append(("one-SKU scenario update, prepared Simulator.simulate, same case", 5, slider,
                      (lambda: update(reference, False)) if reference else None))
    load = os.getloadavg()
    print(f"\nspeed (machine shared, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on "
          f"{os.cpu_count()} cores; compare the ratio, not the seconds)")
    print(f"{'case (repeats: best / median)':66s} {'now [s]':>15s} {f'{REFERENCE_COMMIT} [s]':>15s} "
          f"{'speed-up':>9s}")
    for label, repeat, now, ref in cases:
        t_now = timed(now, repeat)
        t_ref = timed(ref, repeat) if ref is not None else (np.nan, np.nan)
        print(f"{label:66s} {t_now[0]:7.3f}/{t_now[1]:7.3f} {t_ref[0]:7.3f}/{t_ref[1]:7.3f} "
              f"{t_ref[0] / t_now[0]:9.1f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def baseline_bias(step_days: int = 14) -> pd.DataFrame:
    """``baseline_from_history`` against the generator's true baseline, without and with its corrections.

    7-day windows every ``step_days`` over the demo shop's last year (from 2025-10-06), SKUs with 400 days of
    history and no offer covering them in the window (an offer's calendar level is not the baseline's job);
    windows with a true baseline of at least half a unit. Per variant: the bias ``sum(B) / sum(true) - 1`` and
    the median absolute log ratio.
    """
    ws = opslib.load_demo()
    demand = daily_demand(ws)
    demand["date"] = pd.to_datetime(demand["date"])
    truth = load_ground_truth()["true_demand"].assign(date=lambda t: pd.to_datetime(t["date"]))
    true_base = truth.set_index(["sku", "date"])["baseline_units"]
    first = demand[demand["units"] > 0].groupby("sku")["date"].min()
    category = ws.items.set_index("sku")["category"]
    promos = ws.promotions.assign(start=pd.to_datetime(ws.promotions["start"]), end=pd.to_datetime(ws.promotions["end"]))

    def offered(sku, a, b) -> bool:
        for p in promos[(promos["start"] <= b) & (promos["end"] >= a)].itertuples():
            kind, _, rest = str(p.scope).partition(":")
            if kind == "all" or (kind == "category" and category[sku] in rest.split("|")) or (
                    kind == "sku" and sku in rest.split("|")):
                return True
        return False
    variants = {"weekday average (before)": {"seasonal": False, "censored_stockouts": False},
                "+ censored sold-out days": {"seasonal": False},
                "+ seasonal index (default)": {}}
    parts: dict = {k: [] for k in variants}
    for start in pd.date_range("2025-10-06", "2026-09-14", freq=f"{step_days}D"):
        end = start + pd.Timedelta(days=6)
        skus = [s for s in first.index if first[s] <= start - pd.Timedelta(days=400) and not offered(s, start, end)]
        if not skus:  # a shop-wide offer covers every SKU
            continue
        for name, kw in variants.items():
            b = baseline_from_history(demand, skus, start, end, items=ws.items, **kw)
            b["true"] = true_base.reindex(pd.MultiIndex.from_frame(b[["sku", "date"]])).to_numpy()
            g = b.groupby("sku")[["baseline_units", "true"]].sum()
            parts[name].append(g[g["true"] > 0.5])
    rows = []
    for name, frames in parts.items():
        df = pd.concat(frames)
        lr = np.log(df["baseline_units"].clip(lower=1e-3) / df["true"])
        rows.append({"baseline": name, "sku_windows": len(df),
                     "bias_pct": 100 * (df["baseline_units"].sum() / df["true"].sum() - 1),
                     "median_abs_log_ratio": float(np.median(np.abs(lr)))})
    return pd.DataFrame(rows)


def main(n: int = 12) -> None:
    last = coverage(n)
    speed(last, reference_module())


if __name__ == "__main__":
    if sys.argv[1:2] == ["baseline"]:
        print(baseline_bias().round(4).to_string(index=False))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
