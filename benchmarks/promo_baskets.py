"""Bunching of basket values at the demo shop's 满减 thresholds, with placebo thresholds.

Run: ``.venv/bin/python benchmarks/promo_baskets.py [pre_days]``. For every ``threshold``
promotion of the demo shop, the in-scope basket values of the ``pre_days`` before its start (orders
touched by an order-level offer, threshold or coupon, left out) are compared with those of the
promotion window (all orders) by :func:`opslib.promo.fit_topup`: the share of baskets in the band
20% below each threshold before and during, the share in the window 15% above, the implied top-up
probability with its standard error and the overshoot. The same comparison at a placebo threshold
(0.6 x the lowest threshold, where no offer applied) shows what a shift of the whole distribution
alone produces. Both counterfactuals of ``fit_topup`` are shown (``cf``): ``reweighted`` (the
pre-period reweighted by a density ratio fitted outside the bands and windows, robust to a shift of
the whole distribution) and ``pre`` (the pre-period as it is). Then a basket simulation of each sitewide offer with the measured top-up.

Read the demo generator (``opslib/data/demo.py``, ``_order_lines``) before reading the numbers: it
forms orders by grouping daily sales lines at random (more lines per order on sitewide offer days)
and prices the threshold afterwards. It does not simulate top-up, so no bunching is expected; any
"probability" here is the shift of the whole basket distribution, as the placebo rows show.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

import opslib
from opslib import DataError
from opslib.promo import TopUpModel, basket_values, fit_topup, simulate_baskets


def tiers_of(promo) -> str:
    if isinstance(promo["tiers"], str) and promo["tiers"].strip():
        return promo["tiers"]
    return f"{promo['threshold']:g}:{promo['reward']:g}"


def main(pre_days: int = 56) -> None:
    t0 = time.perf_counter()
    ws = opslib.load_demo()
    lines, items, promos = ws.order_lines, ws.items, ws.promotions
    order_level = promos.loc[promos["mechanic"].isin(["threshold", "coupon"]), "promo_id"].tolist()
    rows, sims, skipped = [], [], []
    for _, p in promos[promos["mechanic"] == "threshold"].sort_values("start").iterrows():
        start, end = pd.Timestamp(p["start"]), pd.Timestamp(p["end"])
        pre_start = start - pd.Timedelta(days=pre_days)
        if pre_start < lines["order_ts"].min().normalize():
            continue
        pre = basket_values(lines, pre_start, start - pd.Timedelta(days=1), exclude_promo=order_level,
                            scope=p["scope"], items=items)
        during = basket_values(lines, start, end, exclude_promo=False, scope=p["scope"], items=items)
        tiers = tiers_of(p)
        lowest = float(tiers.split("|")[0].split(":")[0])
        fits = []
        for cf in ("reweighted", "pre"):
            for kind, offer_tiers in (("offer", tiers), ("placebo", f"{0.6 * lowest:g}:1")):
                try:
                    fits.append((kind, cf, fit_topup(pre, during, offer_tiers, counterfactual=cf)))
                except DataError as error:  # too few baskets outside the windows to reweight
                    skipped.append(f"{p['promo_id']} {kind} {cf} (baskets outside the windows pre, during: "
                                   f"{str(error).split('received ')[1].split('. Fix')[0]})")
        fit = next((m for kind, cf, m in fits if kind == "offer"), None)
        for kind, cf, model in fits:
            for _, r in model.by_threshold.iterrows():
                rows.append({"promo": p["promo_id"], "scope": p["scope"].replace("category:", "cat:"),
                             "kind": kind, "cf": cf, "X": r["threshold"], "n_pre": int(r["baskets_pre"]),
                             "n_during": int(r["baskets_during"]),
                             "below_pre": r["share_below_pre"], "below_cf": r["share_below_counterfactual"],
                             "below_dur": r["share_below_during"],
                             "above_pre": r["share_above_pre"], "above_dur": r["share_above_during"],
                             "pi": r["probability"], "over": r["overshoot_mean"], "pi_se": r["probability_se"],
                             "aov_pre": pre["scoped_value"].mean(), "aov_dur": during["scoped_value"].mean()})
        if p["scope"] == "all" and fit is not None:
            model = fit
            for label, m in (("no top-up", TopUpModel(0.0)), ("measured", model),
                             ("anchor 20%, 10 over", TopUpModel(0.2, overshoot_mean=10.0))):
                s = simulate_baskets(pre, tiers, m, n=200_000, seed=1, return_share=0.1,
                                     funding_share=float(p.get("funding_share") or 0.0))
                sims.append({"promo": p["promo_id"], "tiers": tiers, "top-up": label,
                             **{f"share_t{int(t)}": v for t, v in zip(s.tiers["tier"], s.tiers["share"])},
                             "aov_natural": s.aov_natural, "aov_shift_list": s.aov_shift_list,
                             "aov_shift_paid": s.aov_shift_paid, "discount/basket": s.discount_per_basket,
                             "cost/basket": s.retailer_cost_per_basket, "padded_of_below": s.padded_share_of_below})
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_rows", 200, "display.float_format", "{:.3f}".format):
        print(f"Bunching at the demo shop's threshold offers (pre-period {pre_days} days; band 20% below, "
              "window 15% above; shares of all in-scope baskets)")
        print(table.to_string(index=False))
        for cf in ("reweighted", "pre"):
            offer = table[(table["kind"] == "offer") & (table["cf"] == cf)]
            placebo = table[(table["kind"] == "placebo") & (table["cf"] == cf)]
            print(f"\ncounterfactual {cf!r}: mean top-up probability at the offer thresholds {offer['pi'].mean():.3f} "
                  f"(sitewide {offer.loc[offer['scope'] == 'all', 'pi'].mean():.3f}); at placebo thresholds "
                  f"{placebo['pi'].mean():.3f} (sitewide {placebo.loc[placebo['scope'] == 'all', 'pi'].mean():.3f}); "
                  f"|pi| > 2 se at {int((offer['pi'].abs() > 2 * offer['pi_se']).sum())} of {len(offer)} offer "
                  f"and {int((placebo['pi'].abs() > 2 * placebo['pi_se']).sum())} of {len(placebo)} placebo thresholds")
        print(f"\nfits skipped ({len(skipped)}): " + ("; ".join(skipped) or "none"))
        print("\nBasket simulation of the sitewide offers on their pre-period baskets (200,000 baskets, "
              "10% of padded add-ons returned)")
        print(pd.DataFrame(sims).to_string(index=False))
    print(f"\nruntime {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 56)
