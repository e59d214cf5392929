"""Suspected hidden stock-outs against the demo shop's ground truth (issue 5, censoring of the baseline).

Run: ``.venv/bin/python benchmarks/promo_phantom_stockouts.py [--levels 0.01 0.001]``.

The demo generator books shrinkage (theft, damage) only when a stocktake finds it, so physical
stock can be zero while the book (``stock.on_hand``, hence ``demand.in_stock``) is positive. From
the ground truth (``shrinkage.csv.gz``: each loss and the stocktake that found it) the physical
stock at the end of a day is the book stock minus the losses not yet found, and the stock the
SKU could sell from during the day is that plus the day's sales and losses. A **true hidden
stock-out day** has ``in_stock`` True and nothing physically available all day.

:func:`opslib.data.suspected_stockouts` (the ``suspected_stockout`` column of the ``demand``
table) is scored per demand class of the ground truth (fast, medium, slow, intermittent, lumpy):

* ``precision``: flagged days that are true hidden stock-out days;
* ``recall``: true hidden stock-out days flagged;
* ``false_alarm_pct``: book-in-stock days with physical stock that are flagged, in % of them;
* ``lost_units_caught_pct``: of the demand lost on book-in-stock days (true demand minus sales,
  ground truth ``true_demand.csv.gz``), the share on flagged days: what leaving flagged days out
  removes from the downward bias of a rate computed on book-in-stock days;
* ``sales_gap_pct``: sales below true demand on the days a baseline would use (book in stock,
  no promotion), in %, with all of them (``before``) and without the flagged ones (``after``).

Last, the same at level 0.01 from the ``demand`` table alone (no stock movements, no stocktakes):
what a shop without those records gets.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def truth_frame() -> pd.DataFrame:
    """The demo ``demand`` table with the ground truth: ``hidden`` (true hidden stock-out day), ``true_units``, ``demand_class``."""
    import opslib
    from opslib.data import daily_demand, load_ground_truth

    ws = opslib.load_demo()
    truth = load_ground_truth()
    d = daily_demand(ws)
    d["sku"] = d["sku"].astype(str)
    key = pd.MultiIndex.from_frame(d[["sku", "date"]])
    stock = ws.stock.assign(sku=ws.stock["sku"].astype(str), date=pd.to_datetime(ws.stock["date"]))
    book = stock.set_index(["sku", "date"])["on_hand"].reindex(key).to_numpy(float)
    # losses not yet found at the end of each day: +units from the loss day, -units from the day they were found
    sh = truth["shrinkage"].assign(sku=lambda x: x["sku"].astype(str))
    end = d["date"].max() + pd.Timedelta(days=1)
    delta = pd.concat([
        pd.DataFrame({"sku": sh["sku"], "date": sh["date"], "u": sh["units_lost"]}),
        pd.DataFrame({"sku": sh["sku"], "date": sh["discovered_date"].fillna(end), "u": -sh["units_lost"]}),
    ]).groupby(["sku", "date"])["u"].sum()
    d["_delta"] = delta.reindex(key, fill_value=0.0).to_numpy()
    undiscovered = d.groupby("sku")["_delta"].cumsum().to_numpy()
    lost_today = sh.groupby(["sku", "date"])["units_lost"].sum().reindex(key, fill_value=0.0).to_numpy()
    physical_end = book - undiscovered
    available = physical_end + d["units"].to_numpy() + lost_today
    d["book_on_hand"], d["physical_end"], d["available"] = book, physical_end, available
    d["hidden"] = d["in_stock"].fillna(False).to_numpy(bool) & (available <= 0)
    td = truth["true_demand"].assign(sku=lambda x: x["sku"].astype(str)).set_index(["sku", "date"])["units"]
    d["true_units"] = td.reindex(key).to_numpy(float)
    cls = truth["elasticities"].assign(sku=lambda x: x["sku"].astype(str)).set_index("sku")["demand_class"]
    d["demand_class"] = d["sku"].map(cls).to_numpy()
    return d.drop(columns="_delta")


def score(d: pd.DataFrame, flagged: np.ndarray) -> pd.DataFrame:
    """Precision, recall and false alarms of ``flagged`` (a mask over ``d``'s rows) per demand class and overall."""
    rows = []
    book = d["in_stock"].fillna(False).to_numpy(bool)
    quiet = book & d["promo_id"].isna().to_numpy()
    lost = np.clip(d["true_units"].to_numpy() - d["units"].to_numpy(), 0, None)
    for name, sel in [(c, (d["demand_class"] == c).to_numpy()) for c in ("fast", "medium", "slow", "intermittent",
                                                                           "lumpy")] + [("all", np.ones(len(d), bool))]:
        hid, fl = d["hidden"].to_numpy()[sel], flagged[sel]
        bk, q, ls = book[sel], quiet[sel], lost[sel]
        true_u, units = d["true_units"].to_numpy()[sel], d["units"].to_numpy()[sel]
        available = bk & ~hid
        rows.append({
            "class": name, "skus": d.loc[sel, "sku"].nunique(), "in_stock_days": int(bk.sum()),
            "hidden_days": int(hid.sum()), "flagged_days": int(fl.sum()),
            "precision": (hid & fl).sum() / max(fl.sum(), 1), "recall": (hid & fl).sum() / max(hid.sum(), 1),
            "false_alarm_days": int((available & fl).sum()),
            "false_alarm_pct": 100 * (available & fl).sum() / max(available.sum(), 1),
            "lost_units_caught_pct": 100 * ls[bk & fl].sum() / max(ls[bk].sum(), 1e-9),
            "sales_gap_before_pct": 100 * (units[q].sum() / true_u[q].sum() - 1),
            "sales_gap_after_pct": 100 * (units[q & ~fl].sum() / true_u[q & ~fl].sum() - 1),
        })
    return pd.DataFrame(rows)


def main() -> None:
    from opslib.data import suspected_stockouts

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=float, nargs="+", default=[0.01, 0.001, 0.05],
                        help="significance levels to score (0.01 is the default of daily_demand)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    import opslib

    d = truth_frame()
    ws = opslib.load_demo()
    assert (d["physical_end"] >= 0).all(), "physical stock below zero: the truth reconstruction is wrong"
    print(f"demo: {d['sku'].nunique()} SKUs, {len(d)} SKU-days, {int(d['hidden'].sum())} true hidden stock-out days "
          f"({100 * d['hidden'].sum() / d['in_stock'].fillna(False).sum():.2f}% of book-in-stock days)")
    pd.set_option("display.width", 250)
    key = pd.MultiIndex.from_frame(d[["sku", "date"]])
    for level in args.levels:
        flags = suspected_stockouts(d[["sku", "date", "units", "in_stock", "promo_id"]],
                                    stock_movements=ws.stock_movements, stock_counts=ws.stock_counts, level=level)
        flagged = key.isin(pd.MultiIndex.from_frame(flags[["sku", "date"]].astype({"sku": str})))
        print(f"\nlevel {level}: {flags.attrs['report']}")
        print(score(d, flagged).round(3).to_string(index=False))
    column = d["suspected_stockout"].fillna(False).to_numpy(bool)
    flags = suspected_stockouts(ws)
    assert column.sum() == len(flags), "the demand column and suspected_stockouts(workspace) disagree"
    # a shop that records neither stock movements nor stocktakes: sales cannot clear a run
    flags = suspected_stockouts(d[["sku", "date", "units", "in_stock", "promo_id"]], level=0.01)
    flagged = key.isin(pd.MultiIndex.from_frame(flags[["sku", "date"]].astype({"sku": str})))
    print(f"\nlevel 0.01, demand table only (no stock_movements, no stock_counts): {flags.attrs['report']}")
    print(score(d, flagged).round(3).to_string(index=False))
    print(f"\nruntime {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
