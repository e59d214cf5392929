"""Halo on complements on the demo shop, whose generator has no halo: the estimates should be about 0.

Run: ``.venv/bin/python benchmarks/promo_halo.py [bootstrap]``.

The demo shop groups each day's order lines into orders at random (bigger baskets on sitewide offers,
which :func:`opslib.promo.fit_halo` leaves out), so a promoted SKU's orders carry the same other units
as its orders off promotion: the true halo of every SKU is 0. Printed, per complement definition:

* how many promoted SKUs got an estimate, and why the others did not;
* the raw (per-SKU, bootstrap over days) estimates as z-scores against the truth 0: their mean and
  standard deviation (about 0 and 1 when the standard errors are honest) and the share of 95%
  intervals that contain 0 (about 0.95);
* the precision-weighted mean of the raw estimates with its standard error;
* after empirical-Bayes shrinkage toward 0: the prior spread, the largest |estimate|, the share of
  95% intervals containing 0, and the mean halo margin per bump unit [CNY];
* a few SKUs with the most promoted orders, and the time taken.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from opslib.data import load_demo
from opslib.promo import fit_halo


def report(estimates, prior_sd: float, seconds: float, label: str) -> None:
    e = estimates
    ok = e["status"] == "estimated"
    print(f"\n== complements: {label}  ({seconds:.1f} s)")
    print(f"promoted SKUs: {len(e)}, estimated: {int(ok.sum())}")
    for status, count in e.loc[~ok, "status"].value_counts().items():
        print(f"  no estimate ({count}): {status}")
    r = e[ok]
    z = r["raw_halo_units_per_bump_unit"] / r["raw_se"]
    w = 1 / r["raw_se"] ** 2
    pooled = float((w * r["raw_halo_units_per_bump_unit"]).sum() / w.sum())
    print(f"raw z-scores vs truth 0: mean {z.mean():+.3f}, sd {z.std():.3f}; "
          f"95% intervals containing 0: {np.mean(z.abs() < 1.959964):.3f} (n = {len(r)})")
    print(f"precision-weighted mean of raw halos: {pooled:+.4f} +- {1 / np.sqrt(w.sum()):.4f} units per bump unit")
    post = r["halo_units_per_bump_unit"] / r["se"]
    print(f"shrunk: prior sd {prior_sd:.4f}, max |halo| {r['halo_units_per_bump_unit'].abs().max():.4f}, "
          f"median se {r['se'].median():.4f}, 95% intervals containing 0: {np.mean(post.abs() < 1.959964):.3f}, "
          f"mean halo margin {r['halo_margin_per_bump_unit'].mean():+.3f} CNY per bump unit")
    columns = ["sku", "n_orders", "promo_days", "bump_units", "attach_baseline", "attach_promo",
               "raw_halo_units_per_bump_unit", "raw_se", "halo_units_per_bump_unit", "se",
               "halo_margin_per_bump_unit"]
    print(r.sort_values("n_orders", ascending=False)[columns].head(8).round(3).to_string(index=False))


def main() -> None:
    bootstrap = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    t0 = time.perf_counter()
    workspace = load_demo()
    print(f"demo shop: {len(workspace.order_lines):,} order lines, {len(workspace.promotions)} promotions "
          f"(loaded in {time.perf_counter() - t0:.1f} s); bootstrap {bootstrap} day resamples")
    for complements in ("all", "category", "other_categories"):
        t = time.perf_counter()
        h = fit_halo(workspace.order_lines, workspace.promotions, workspace.items, complements=complements,
                     bootstrap=bootstrap, seed=0)
        report(h.estimates, h.prior_sd, time.perf_counter() - t, complements)


if __name__ == "__main__":
    main()
