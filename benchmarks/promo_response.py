"""Own-price response on the demo shop: per-category recovery of the true elasticities.

Run: ``.venv/bin/python benchmarks/promo_response.py [--inferred [--wide-share X]]``. Prints, per category, the true mean
elasticity, the unpooled and pooled estimates, MAE, 80%/95% interval coverage of the pooled
estimates, the mean sibling effect against the truth, and the runtime.

Then the decomposition shares (issue 5, evidence 1): for every single-SKU line-level promotion
of the demo shop, the promotion-window units ``Q = B + bump`` split into the baseline ``B``, the own
bump, the units taken from category siblings (cannibalization) and the units lost on the pre- and
post-promotion days (dips). The truth comes from ``data/demo/ground_truth/promo_effects``: ``bump =
incremental_units``, cannibalization = the siblings' ``baseline_units * (1 - lift)``, dip = ``1 -
dip_factor`` times the true baseline (``true_demand.baseline_units``) of the ``dip_days`` after the
window (the generator has no pre-promotion dip). (Before, the dip was taken as ``dip_days`` days of
the window's mean daily baseline, which overstated it by 31%: the windows of flash sales and
festival offers have a higher baseline than the days after them.) The estimate applies the fitted
response to the same true baselines, so the error is that of the response, not of the baseline
forecast: own lift ``(1 - d)^elasticity *
exp(mechanic)`` (pooled elasticity), cannibalization ``cannibalization_share * bump``, dip
``(dip_fraction + pre_dip_fraction) * bump``. Shares are unit-weighted over all windows
(``sum part / sum window units``); windows whose estimated lift multiplier is below 0.25 are
counted as degenerate and left out. The reference row "no dip/cann" sets both parts to 0.

``--inferred`` withholds the promotions table: the fit learns from the price cuts
:func:`opslib.promo.infer_promotions` finds in the daily paid prices (what a shop imported without
one gets), scored against the same true elasticities. ``--wide-share`` sets its share of SKUs cut
together that makes a shop- or category-wide offer (default 0.2).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import opslib
from opslib.data import daily_demand, load_ground_truth
from opslib.promo import fit_own_price_response, pool_elasticities
from opslib.promo.response import LINE_LEVEL_MECHANICS, effective_depth


def decomposition_shares(ws, truth, estimates: pd.DataFrame, pooled: pd.DataFrame,
                         depths: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per single-SKU promotion: true and estimated units of each part (see the module docstring)."""
    promos = ws.promotions.copy()
    promos["start"], promos["end"] = pd.to_datetime(promos["start"]), pd.to_datetime(promos["end"])
    promos = promos[promos["scope"].astype(str).str.startswith("sku:") & promos["mechanic"].isin(LINE_LEVEL_MECHANICS)]
    effects = truth["promo_effects"]
    true_base = truth["true_demand"].set_index(["sku", "date"])["baseline_units"]
    est = estimates.set_index("sku")
    eps = pooled.set_index("sku")["elasticity"]
    realized = {} if depths is None or depths.empty else dict(zip(depths["promo_id"], depths["realized_depth"]))

    def coef(sku, name):
        v = est[name].get(sku, np.nan) if name in est.columns else np.nan
        return float(v) if np.isfinite(v) else 0.0

    rows = []
    for r in promos.itertuples():
        e = effects[effects["promo_id"] == r.promo_id]
        own, sib = e[e["role"] == "promoted"], e[e["role"] == "sibling"]
        if own.empty:
            continue
        d = realized.get(r.promo_id, effective_depth(ws.promotions.loc[r.Index]))
        base = own["baseline_units"].to_numpy(float)
        skus = own["sku"].to_numpy()
        lift = np.array([(1 - d) ** eps.get(s, np.nan) * np.exp(coef(s, f"mechanic_{r.mechanic}")) for s in skus])
        bumps = base * (lift - 1)
        rows.append({
            "promo_id": r.promo_id, "mechanic": r.mechanic, "baseline": base.sum(),
            "bump_true": own["incremental_units"].sum(), "bump_est": bumps.sum(),
            "cannibalization_true": (sib["baseline_units"] * (1 - sib["lift"])).sum(),
            # the estimate: the fitted fractions of the estimated (positive) bump
            "cannibalization_est": sum(coef(s, "cannibalization_share") * max(x, 0.0) for s, x in zip(skus, bumps)),
            # the units missing on the dip days: (1 - dip_factor) times the true baseline of those days
            "dip_true": sum((1 - o.dip_factor) * true_base.reindex(pd.MultiIndex.from_product(
                [[o.sku], pd.date_range(r.end + pd.Timedelta(days=1), periods=int(o.dip_days))])).sum()
                for o in own.itertuples() if o.dip_days > 0),
            "dip_est": sum((coef(s, "dip_fraction") + coef(s, "pre_dip_fraction")) * max(x, 0.0)
                           for s, x in zip(skus, bumps))})
    out = pd.DataFrame(rows)
    out["window_true"] = out["baseline"] + out["bump_true"]
    out["window_est"] = out["baseline"] + out["bump_est"]
    # a window is degenerate when the estimated lift multiplier is below 0.25 (an unshrunk mechanic
    # effect or elasticity that makes the promotion remove three quarters of the baseline) or not finite
    out["degenerate"] = ~np.isfinite(out["window_est"]) | (out["window_est"] < 0.25 * out["baseline"])
    return out


def decomposition_errors(shares: pd.DataFrame, model: str = "full") -> pd.DataFrame:
    """Unit-weighted shares of the window units over all windows, true and estimated [percent].

    ``share = sum(part) / sum(window units)`` over the windows (true parts over true window units,
    estimated parts over estimated window units), so a handful of windows with near-zero estimated
    units cannot dominate; ``*_abs_err_pp`` is the per-window absolute error of the part over the true
    window units, averaged with the window units as weights. Degenerate windows are counted and
    left out of both (their estimated units are not a forecast anyone would use).
    """
    ok = shares[~shares["degenerate"]]
    rows = []
    for name in (model, "no dip/cann"):
        row = {"model": name, "windows": len(shares), "degenerate_windows": int(shares["degenerate"].sum())}
        q_true, q_est = ok["window_true"], ok["window_est"].clip(lower=0)
        for part in ("bump", "cannibalization", "dip"):
            est = ok[f"{part}_est"] if name != "no dip/cann" or part == "bump" else 0.0 * ok[f"{part}_est"]
            row[f"{part}_true_pct"] = 100 * ok[f"{part}_true"].sum() / q_true.sum()
            row[f"{part}_est_pct"] = 100 * est.sum() / q_est.sum()
            row[f"{part}_abs_err_pp"] = 100 * (est - ok[f"{part}_true"]).abs().sum() / q_true.sum()
        net_true = ok["bump_true"] - ok["cannibalization_true"] - ok["dip_true"]
        net_est = ok["bump_est"] - (0 if name == "no dip/cann" else ok["cannibalization_est"] + ok["dip_est"])
        row["net_incremental_true_pct"] = 100 * net_true.sum() / q_true.sum()
        row["net_incremental_est_pct"] = 100 * net_est.sum() / q_est.sum()
        row["net_incremental_abs_err_pp"] = 100 * (net_est - net_true).abs().sum() / q_true.sum()
        rows.append(row)
    return pd.DataFrame(rows)


def main(inferred: bool = False, wide_share: float = 0.2) -> None:
    ws = opslib.load_demo()
    demand = daily_demand(ws)
    truth = load_ground_truth()
    promotions = ws.promotions
    if inferred:  # the promotions table withheld: price cuts found in the daily paid prices instead
        from opslib.promo import infer_promotions

        found = infer_promotions(demand, ws.items, wide_share=wide_share)
        print(f"--inferred: the promotions table is withheld; {found.summary}\n")
        promotions = found.promotions
    t0 = time.perf_counter()
    fit = fit_own_price_response(demand, promotions, ws.items, ws.calendar, order_lines=ws.order_lines)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    pooled = pool_elasticities(fit.estimates)
    t_pool = time.perf_counter() - t0
    true = truth["elasticities"][["sku", "elasticity"]].rename(columns={"elasticity": "true"})
    p = pooled.estimates.merge(true, on="sku").merge(fit.estimates[["sku", "sibling_effect"]], on="sku")
    sib = truth["promo_effects"].query("role == 'sibling'").merge(ws.items[["sku", "category"]], on="sku")
    true_sib = sib.groupby("category")["lift"].mean()
    z = ((p["elasticity"] - p["true"]) / p["elasticity_se"]).abs()
    p = p.assign(err=(p["elasticity"] - p["true"]).abs(), err_own=(p["unpooled"] - p["true"]).abs(),
                 c80=z < 1.2816, c90=z < 1.6449, c95=z < 1.96, err_shop=(p["true"] - p["true"].mean()).abs())
    rows = []
    for cat, g in list(p.groupby("category")) + [("ALL", p)]:
        own = g[g["unpooled"].notna()]
        rows.append({"category": cat, "skus": len(g), "identified": len(own), "true_mean": g["true"].mean(),
                     "unpooled_mean": own["unpooled"].mean(), "pooled_mean": g["elasticity"].mean(),
                     "mae_unpooled": own["err_own"].mean(), "mae_pooled_ident": own["err"].mean(),
                     "mae_pooled_all": g["err"].mean(), "mae_shop_mean_ident": own["err_shop"].mean(),
                     "cov80": g["c80"].mean(), "cov90": g["c90"].mean(), "cov90_ident": own["c90"].mean(), "cov95": g["c95"].mean(),
                     "sibling_mult_est": np.exp(g["sibling_effect"].median()),
                     "sibling_mult_true": true_sib.get(cat, sib["lift"].mean())})
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    own = p[p["unpooled"].notna()]
    print(f"\ncorr(pooled, true) on identified SKUs: {np.corrcoef(own['elasticity'], own['true'])[0, 1]:.3f}")
    print(f"runtime: fit {t_fit:.1f} s ({fit.report['skus']} SKUs), pooling {t_pool * 1000:.0f} ms")
    print("\nz = (estimate - true) / SE, spread (std) overall and by quartile of the SE "
          "(the smallest SEs are the fast movers):")
    z_rows = []
    for name, est, se, g in (("unpooled", "elasticity", "elasticity_se", fit.estimates.merge(true, on="sku")),
                             ("pooled", "elasticity", "elasticity_se", p)):
        g = g[g[est].notna() & g[se].notna() & (g["sku"].isin(p.loc[p["unpooled"].notna(), "sku"]))]
        zz = (g[est] - g["true"]) / g[se]
        quart = pd.qcut(g[se], 4, labels=["q1 (smallest SE)", "q2", "q3", "q4"])
        for label, sel in [("all identified", np.ones(len(g), bool))] + [(q, (quart == q).to_numpy()) for q in
                                                                        quart.cat.categories]:
            z_rows.append({"estimate": name, "skus": label, "n": int(sel.sum()), "se_max": g[se][sel].max(),
                           "z_mean": zz[sel].mean(), "z_sd": zz[sel].std(), "cov90": (zz[sel].abs() < 1.6449).mean(),
                           "bias": (g[est] - g["true"])[sel].mean()})
    print(pd.DataFrame(z_rows).round(3).to_string(index=False))
    if len(fit.depths):
        print("\nrealized depth of multi-unit mechanics (order lines) against the convention:")
        print(fit.depths.groupby("mechanic")[["nominal_depth", "realized_depth"]].mean().round(3).to_string())
    shares = decomposition_shares(ws, truth, fit.estimates, pooled.estimates, fit.depths)
    table = decomposition_errors(shares, "full (fractions of the bump, pooled, >= 0)")
    print("\ndecomposition of single-SKU promotion-window units, unit-weighted shares of the window units "
          "over all windows (true baselines; pp = percentage points):")
    print(table.round(2).T.to_string(header=False))
    cats = fit.estimates.groupby("category")[["dip_fraction", "pre_dip_fraction", "cannibalization_share"]].median()
    truth_promoted = truth["promo_effects"].query("role == 'promoted'")
    print("\ncategory fractions of the bump (median over SKUs) against the generator's phi ~ U(0.10, 0.30) "
          "(line-level dips) and gamma ~ U(0.2, 0.4):")
    print(cats.round(3).to_string())
    print(f"true mean cannibalization_share of single-SKU promotions: "
          f"{truth_promoted['cannibalization_share'].mean():.3f}")


if __name__ == "__main__":
    import sys

    args = sys.argv[1:]
    main(inferred="--inferred" in args,
         wide_share=float(args[args.index("--wide-share") + 1]) if "--wide-share" in args else 0.2)
