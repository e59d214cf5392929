"""Own-price response on the demo shop: per-category recovery of the true elasticities.

Run: ``.venv/bin/python benchmarks/promo_response.py``. Prints, per category, the true mean
elasticity, the unpooled and pooled estimates, MAE, 80%/95% interval coverage of the pooled
estimates, the mean sibling effect against the truth, and the runtime.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

import opslib
from opslib.data import daily_demand, load_ground_truth
from opslib.promo import fit_own_price_response, pool_elasticities


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
                 c80=z < 1.2816, c95=z < 1.96)
    rows = []
    for cat, g in list(p.groupby("category")) + [("ALL", p)]:
        own = g[g["unpooled"].notna()]
        rows.append({"category": cat, "skus": len(g), "identified": len(own), "true_mean": g["true"].mean(),
                     "unpooled_mean": own["unpooled"].mean(), "pooled_mean": g["elasticity"].mean(),
                     "mae_unpooled": own["err_own"].mean(), "mae_pooled_ident": own["err"].mean(),
                     "mae_pooled_all": g["err"].mean(), "cov80": g["c80"].mean(), "cov95": g["c95"].mean(),
                     "sibling_mult_est": np.exp(g["sibling_effect"].median()),
                     "sibling_mult_true": true_sib.get(cat, sib["lift"].mean())})
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    own = p[p["unpooled"].notna()]
    print(f"\ncorr(pooled, true) on identified SKUs: {np.corrcoef(own['elasticity'], own['true'])[0, 1]:.3f}")
    print(f"runtime: fit {t_fit:.1f} s ({fit.report['skus']} SKUs), pooling {t_pool * 1000:.0f} ms")


if __name__ == "__main__":
    main()
