"""Own-price response on the demo shop: per-category recovery of the true elasticities.

Run: ``.venv/bin/python benchmarks/promo_response.py``. Prints, per category, the true mean
elasticity, the unpooled and pooled estimates, MAE, 80%/95% interval coverage of the pooled
estimates, the mean sibling effect against the truth, and the runtime.

Then the error of the decomposition shares (issue 5, evidence 1): for every single-SKU line-level
promotion of the demo shop, the promotion-window units ``Q = B + bump`` split into the baseline
``B``, the own lift ``bump``, the units taken from category siblings (cannibalization) and the
units lost on the pre- and post-promotion days (dips), each as a share of ``Q``. The truth comes
from ``data/demo/ground_truth/promo_effects``: ``bump = incremental_units``, cannibalization =
the siblings' ``baseline_units * (1 - lift)``, dip = ``(1 - dip_factor) * dip_days`` days of the
window's mean daily baseline (the generator has no pre-promotion dip). The estimate applies the
fitted multipliers to the same true baselines, so the error is that of the response, not of
the baseline forecast: own lift ``(1 - d)^elasticity * exp(mechanic)`` (pooled elasticity),
cannibalization ``sum_siblings (1 - exp(sibling_effect)) * B_sibling``, dip
``(1 - exp(post_dip)) * 14 + (1 - exp(pre_dip)) * 7`` days of the mean daily baseline. The
reference row "no dip/cann" is a model without those terms (their shares 0, the same lift).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import opslib
from opslib.data import daily_demand, load_ground_truth
from opslib.promo import empirical_bayes_shrinkage, fit_own_price_response, pool_elasticities
from opslib.promo.response import LINE_LEVEL_MECHANICS, ResponseSettings, effective_depth


def decomposition_shares(ws, truth, estimates: pd.DataFrame, pooled: pd.DataFrame) -> pd.DataFrame:
    """Per single-SKU promotion: true and estimated shares of the window units (see the module docstring)."""
    settings = ResponseSettings()
    promos = ws.promotions.copy()
    promos["start"], promos["end"] = pd.to_datetime(promos["start"]), pd.to_datetime(promos["end"])
    promos = promos[promos["scope"].astype(str).str.startswith("sku:") & promos["mechanic"].isin(LINE_LEVEL_MECHANICS)]
    effects = truth["promo_effects"]
    est = estimates.set_index("sku")
    eps = pooled.set_index("sku")["elasticity"]

    def coef(sku, name):
        v = est[name].get(sku, np.nan) if name in est.columns else np.nan
        return float(v) if np.isfinite(v) else 0.0

    rows = []
    for r in promos.itertuples():
        e = effects[effects["promo_id"] == r.promo_id]
        own, sib = e[e["role"] == "promoted"], e[e["role"] == "sibling"]
        if own.empty:
            continue
        days = (r.end - r.start).days + 1
        d = effective_depth(ws.promotions.loc[r.Index])
        base = own["baseline_units"].to_numpy(float)
        daily = base / days
        true_bump = own["incremental_units"].to_numpy(float).sum()
        true_cann = (sib["baseline_units"] * (1 - sib["lift"])).sum()
        true_dip = ((1 - own["dip_factor"]) * own["dip_days"] * own["baseline_units"] / days).sum()
        skus = own["sku"].to_numpy()
        lift = np.array([(1 - d) ** eps.get(s, np.nan) * np.exp(coef(s, f"mechanic_{r.mechanic}")) for s in skus])
        bump = (base * (lift - 1)).sum()
        cann = sum((1 - np.exp(coef(s, "sibling_effect"))) * b for s, b in zip(sib["sku"], sib["baseline_units"]))
        dip = sum(((1 - np.exp(coef(s, "post_dip"))) * settings.post_dip_days
                   + (1 - np.exp(coef(s, "pre_dip"))) * settings.pre_dip_days) * b for s, b in zip(skus, daily))
        q_true, q_est = base.sum() + true_bump, base.sum() + bump
        if not (np.isfinite(q_est) and q_true > 0):
            continue
        rows.append({"promo_id": r.promo_id, "mechanic": r.mechanic, "window_units_true": q_true,
                     "lift_true": true_bump / q_true, "lift_est": bump / q_est,
                     "cannibalization_true": true_cann / q_true, "cannibalization_est": cann / q_est,
                     "dip_true": true_dip / q_true, "dip_est": dip / q_est})
    return pd.DataFrame(rows)


def pool_effects(estimates: pd.DataFrame, columns=("post_dip", "pre_dip", "sibling_effect")) -> pd.DataFrame:
    """The per-SKU dip and sibling effects shrunk toward their category mean (empirical Bayes, REML)."""
    out = estimates.copy()
    for column in columns:
        for _, idx in out.groupby("category").groups.items():
            b, s = out.loc[idx, column].to_numpy(float), out.loc[idx, f"{column}_se"].to_numpy(float)
            ok = np.isfinite(b) & np.isfinite(s) & (s > 0)
            if ok.sum() >= 3:
                out.loc[idx[ok], column] = empirical_bayes_shrinkage(b[ok], s[ok]).estimate
    return out


def decomposition_errors(shares: pd.DataFrame, model: str = "full") -> pd.DataFrame:
    """Mean absolute error of each share [percentage points], per promotion and window-units weighted."""
    w = shares["window_units_true"]
    rows = []
    for model in (model, "no dip/cann"):
        row = {"model": model, "promotions": len(shares)}
        for part in ("lift", "cannibalization", "dip"):
            est = shares[f"{part}_est"] if model != "no dip/cann" or part == "lift" else 0.0 * shares[f"{part}_est"]
            err = (est - shares[f"{part}_true"]).abs() * 100
            row[f"{part}_true_mean_pct"] = 100 * shares[f"{part}_true"].mean()
            row[f"{part}_est_mean_pct"] = 100 * est.mean()
            row[f"{part}_mae_pp"] = err.mean()
            row[f"{part}_wmae_pp"] = (err * w).sum() / w.sum()
        net_true = shares["lift_true"] - shares["cannibalization_true"] - shares["dip_true"]
        net_est = shares["lift_est"] - (0 if model == "no dip/cann" else shares["cannibalization_est"] + shares["dip_est"])
        row["net_incremental_mae_pp"] = 100 * (net_est - net_true).abs().mean()
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    ws = opslib.load_demo()
    demand = daily_demand(ws)
    truth = load_ground_truth()
    t0 = time.perf_counter()
    fit = fit_own_price_response(demand, ws.promotions, ws.items, ws.calendar)
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
    shares = decomposition_shares(ws, truth, fit.estimates, pooled.estimates)
    shares_pooled = decomposition_shares(ws, truth, pool_effects(fit.estimates), pooled.estimates)
    table = pd.concat([decomposition_errors(shares, "full, per-SKU effects"),
                       decomposition_errors(shares_pooled, "full, pooled effects").iloc[:1]], ignore_index=True)
    print("\ndecomposition of single-SKU promotion-window units, shares of the window units "
          "(true baselines; pp = percentage points):")
    print(table.round(2).T.to_string(header=False))


if __name__ == "__main__":
    main()
