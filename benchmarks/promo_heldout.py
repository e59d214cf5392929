"""Held-out promotions: predicted promotion-window units against two simpler rules (issue 5, evidence 2).

Run: ``.venv/bin/python benchmarks/promo_heldout.py [--skip-demo | --demo-only]``. Rolling
origin: at each cut point (a quarter apart, fixed in ``*_CUTS`` before any result was seen) the
models are refitted on the history before the cut, and every promotion starting before the next
cut is predicted three ways and compared with what sold:

* ``full``: the promotion response with pre/post dips and cannibalization (sibling) terms
  (demo: fractions of the bump, non-negative, pooled per category; real data: coefficients
  restricted to the sign the theory gives, pooled across series and shrunk toward 0);
* ``no_dip_cann``: the same response without dip and cannibalization terms;
* ``last_lift``: the baseline times the lift realized by the same series' previous promotion.

Same information set. ``last_lift`` sees the actuals up to the promotion (its previous
promotion may lie after the cut), so the models get them too: on the real data the
prediction is multiplied by the recent level, actual over predicted units of the last rows
before the promotion (3 months, 4 weeks: what a planner does before a promotion), and
``last_lift`` uses the same level-corrected baseline of the full model ("refit + level"). The
rows "refit only" leave out the level correction of all three (the models then see history up
to the cut only, ``last_lift`` up to the promotion).

Data sets:

* demo shop: single-SKU line-level promotions (percent off, flash sale, second item half
  price) of the last year, quarterly cuts from 2025-10-01; windows that overlap a shop-wide
  offer or a category-wide offer on the SKU's category are left out (and counted).
  ``opslib.promo.fit_own_price_response`` plus ``pool_elasticities`` fitted on the days
  before the cut, on the categories of the held-out SKUs, with the order lines before the cut
  (the depth of second-item-half-price offers is the discount per unit they gave then,
  ``opslib.promo.realized_depths``, for the fit and for the held-out offers alike). The baseline of a window is the
  rate of the 56 days before its start (the recent level), each day divided by the effects
  the model knows (own post-dip, sibling promotions); ``no_dip_cann`` uses the raw rate.
* Stallion (``../shared/data/stallion``, monthly agency x SKU volume with discounts): a
  "promotion" is a month whose discount is 5 percentage points above the series' median;
  held out: such months in 2017, refits at each quarter of 2017. A negative-binomial GLM per
  series on ``log(price_actual / price_regular)``, month of year and trend, plus, in
  ``full``, the previous month's log price ratio (post-promotion dip) and the mean log price
  ratio of the agency's other SKUs (cannibalization), both at coefficients pooled across the
  series at the cut (precision-weighted mean, 0 when of the wrong sign; each series shrunk toward
  it by REML empirical Bayes and clipped to the sign) and entered as an offset.
* Walmart (``../shared/data/walmart_weekly``, store 1 department sales, markdowns from
  November 2011): a "promotion" is a week with markdowns; held out: markdown weeks of
  2012-05 onward, refits on 2012-05-01 and 2012-08-01. OLS of log sales per department on
  log total markdown, holiday, yearly Fourier terms and trend, plus, in ``full``, the
  previous week's markdown (post-promotion dip, pooled and sign-restricted as for Stallion);
  there is no sibling series to
  cannibalize, so ``full`` adds only the dip.

On the demo shop three more targets score the dip and cannibalization terms where they act (the
promoted SKU's window units above barely depend on them: only through the baseline days and a
sibling's promotion during the window): per promotion, ``own window + 14 days after`` (the full
model takes its ``dip_fraction`` of its predicted bump off the baseline of the days after),
``siblings during the window`` (the category's SKUs without a line-level offer then, each at its
pre-period rate; the full model takes its ``cannibalization_share`` of the bump off their total)
and ``effect window``, the sum of the two: the units the net-incremental decomposition is about.
Promotions with a SKU out of stock on every window day are left out of these three.

Suspected hidden stock-outs (``demand.suspected_stockout``, ``opslib.data.suspected_stockouts``:
zero-sales runs on book-in-stock days too long for the SKU's rate, phantom inventory) are left
out of every history the models see, as out-of-stock days are: the fits (``ResponseSettings``
default) and the pre-period rates, the previous promotion's lift of ``last_lift`` and the
siblings' rates. The flags use only the data before the cut (fits) or before the promotion's
start (rates): a zero-sales run still open then is judged on its days so far. The held-out
targets are unchanged (book-in-stock window days). ``--ignore-suspected-stockouts`` gives the
numbers without them.

Errors: WAPE = sum |predicted - actual| / sum actual over the windows every model covers, the
median absolute log ratio, the bias; and the paired cluster bootstrap (clusters = series/SKU,
2,000 draws, ``opslib.promo.evaluation.paired_wape_bootstrap``) of WAPE(full) - WAPE(other):
its 95% interval and the share of draws in which ``full`` is better. The real data sets need
``../shared/data``; the script fails loudly when it is missing.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MODELS = ("full", "no_dip_cann", "last_lift")
POST_DAYS = 14  # days after a demo promotion counted in its effect window (the fit's post_dip_days)
# rolling origins, fixed before looking at any result: a refit every quarter over the last year
DEMO_CUTS = ("2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01")
STALLION_CUTS = ("2017-01-01", "2017-04-01", "2017-07-01", "2017-10-01")
WALMART_CUTS = ("2012-05-01", "2012-08-01")


def _errors(name: str, actual, preds: dict) -> list[dict]:
    actual = np.asarray(actual, float)
    rows = []
    for model, p in preds.items():
        p = np.asarray(p, float)
        ok = np.isfinite(p)
        rows.append({"data": name, "model": model, "windows": int(ok.sum()),
                     "wape": np.abs(p[ok] - actual[ok]).sum() / actual[ok].sum(),
                     "median_abs_log_ratio": float(np.median(np.abs(np.log((p[ok] + 1) / (actual[ok] + 1))))),
                     "bias_pct": 100 * (p[ok].sum() / actual[ok].sum() - 1)})
    return rows


# ------------------------------------------------------------------------------------------------
# demo shop
# ------------------------------------------------------------------------------------------------

class DemoHeldout(NamedTuple):
    """Held-out demo promotions: one frame per target (``series, cut, promo_id, actual`` and one column per model).

    ``windows``: each promoted SKU's units in the promotion window; ``own``: per promotion, its SKUs'
    units in the window and the ``POST_DAYS`` after it; ``siblings``: the units of the category's SKUs
    without a line-level offer of their own during the window; ``effect``: ``own`` plus ``siblings``.
    """

    windows: pd.DataFrame
    own: pd.DataFrame
    siblings: pd.DataFrame
    effect: pd.DataFrame


def demo(cuts=DEMO_CUTS, base_days: int = 56, suspected: bool = True) -> DemoHeldout:
    """Rolling origin: at each cut, fit on the days up to it; predict the promotions of the next quarter.

    ``suspected``: leave suspected hidden stock-out days out of the history (fits and rates).
    """
    import opslib
    from opslib.data import daily_demand, suspected_stockouts
    from opslib.promo import fit_own_price_response, pool_elasticities
    from opslib.promo.response import LINE_LEVEL_MECHANICS, ResponseSettings, effective_depth

    ws = opslib.load_demo()
    demand = daily_demand(ws)
    demand["date"] = pd.to_datetime(demand["date"])
    if not suspected:
        demand = demand.drop(columns="suspected_stockout")
    movements = ws.stock_movements.assign(date=pd.to_datetime(ws.stock_movements["date"]))
    counts = ws.stock_counts.assign(date=pd.to_datetime(ws.stock_counts["date"]))
    movements_by_sku = dict(tuple(movements.groupby("sku")))
    counts_by_sku = dict(tuple(counts.groupby("sku")))
    last = demand["date"].max()
    promos = ws.promotions.copy()
    promos["start"], promos["end"] = pd.to_datetime(promos["start"]), pd.to_datetime(promos["end"])
    category = ws.items.set_index("sku")["category"]
    sku_scoped = promos["scope"].astype(str).str.startswith("sku:") & promos["mechanic"].isin(LINE_LEVEL_MECHANICS)
    wide = promos[~promos["scope"].astype(str).str.startswith("sku:")]
    single = promos[sku_scoped]

    def overlaps_wide(r) -> bool:  # a shop-wide offer, or a category-wide offer on the SKU's category
        cats = set(category.reindex(r.scope[4:].split("|")).dropna())
        for w in wide.itertuples():
            if w.start <= r.end and w.end >= r.start:
                scope = str(w.scope)
                if scope == "all" or cats & set(scope.partition(":")[2].split("|")):
                    return True
        return False

    by_sku = {s: g.set_index("date") for s, g in demand.groupby("sku")}
    flag_cache: dict = {}

    def flags_before(sku, start) -> pd.DatetimeIndex:
        """Days before ``start`` flagged as suspected hidden stock-outs with the data before ``start`` only."""
        if not suspected:
            return pd.DatetimeIndex([])
        if (sku, start) not in flag_cache:
            h = by_sku[sku].loc[:start - pd.Timedelta(days=1)]
            if len(h) and h["units"].iloc[-1] == 0 and bool(h["in_stock"].fillna(False).iloc[-1]):
                # a zero-sales run still open the day before: judge it on its days so far
                mv, ct = movements_by_sku.get(sku), counts_by_sku.get(sku)
                f = suspected_stockouts(h.reset_index()[["sku", "date", "units", "in_stock", "promo_id"]],
                                        stock_movements=None if mv is None else mv[mv["date"] < start],
                                        stock_counts=None if ct is None else ct[ct["date"] < start])
                flag_cache[(sku, start)] = pd.DatetimeIndex(f["date"])
            else:  # every run before ended before start - 1: its flag used data before start only
                flag_cache[(sku, start)] = h.index[h["suspected_stockout"].fillna(False).to_numpy(bool)]
        return flag_cache[(sku, start)]

    def usable(frame, sku, start, promo_free=True):
        """Rows of ``frame`` (a SKU's days before ``start``) in stock, not suspected, without a promotion."""
        keep = frame["in_stock"].fillna(True).astype(bool).to_numpy() & ~frame.index.isin(flags_before(sku, start))
        if promo_free:
            keep &= frame["promo_id"].isna().to_numpy()
        return frame[keep]
    line_day = pd.to_datetime(ws.order_lines["order_ts"]).dt.normalize()

    def lines_before(cut):  # the order lines known at the cut
        return ws.order_lines[(line_day < cut).to_numpy()]
    bounds = [pd.Timestamp(c) for c in cuts] + [last + pd.Timedelta(days=1)]
    rows, own_rows, sib_rows, effect_rows = [], [], [], []
    promo_acc, cann = {}, {}
    for cut, next_cut in zip(bounds[:-1], bounds[1:]):
        held = promos[sku_scoped & (promos["start"] >= cut) & (promos["start"] < next_cut) & (promos["end"] <= last)]
        overlap = np.array([overlaps_wide(r) for r in held.itertuples()], bool)
        held = held[~overlap]
        skus_held = sorted({s for sc in held["scope"] for s in sc[4:].split("|")})
        cats = category.loc[skus_held].unique()
        hist = demand[demand["date"] < cut]
        if suspected:  # flags from the data before the cut only
            flags = suspected_stockouts(hist, stock_movements=movements[movements["date"] < cut],
                                        stock_counts=counts[counts["date"] < cut])
            hist = hist.assign(suspected_stockout=pd.array(
                pd.MultiIndex.from_frame(hist[["sku", "date"]].astype({"sku": str})).isin(
                    pd.MultiIndex.from_frame(flags[["sku", "date"]])), dtype="boolean"))
            hist.loc[hist["in_stock"].isna().to_numpy(), "suspected_stockout"] = pd.NA
        fit_skus = ws.items["sku"][ws.items["category"].isin(cats) & ws.items["sku"].isin(hist["sku"].unique())]
        hist_promos = promos[promos["start"] < cut].assign(end=lambda p: p["end"].clip(upper=cut - pd.Timedelta(days=1)))
        t0 = time.perf_counter()
        fits = {}
        for model, settings in (("full", ResponseSettings()),
                                ("no_dip_cann", ResponseSettings(pre_dip_days=0, post_dip_days=0,
                                                                 sibling_effect=False))):
            fit = fit_own_price_response(hist, hist_promos, ws.items, ws.calendar, skus=fit_skus, settings=settings,
                                         order_lines=lines_before(cut))
            fits[model] = (fit.estimates.set_index("sku"), pool_elasticities(fit.estimates).estimates.set_index("sku"))
        # the depth of a held-out multi-unit offer: the discount per unit the order lines showed for the
        # same mechanic and terms before the cut (what the fit used), else the convention
        realized = fit.depths.merge(promos[["promo_id", "depth"]], on="promo_id", how="left")
        realized = realized.groupby(["mechanic", realized["depth"].fillna(-1.0)])["realized_depth"].first()
        print(f"demo cut {cut.date()}: {len(held)} single-SKU promotions to {(next_cut - pd.Timedelta(days=1)).date()} "
              f"({int(overlap.sum())} left out for overlapping a shop/category-wide offer on their category); "
              f"two fits on {len(fit_skus)} SKUs of {len(cats)} categories in {time.perf_counter() - t0:.0f} s",
              flush=True)
        for r in held.itertuples():
            d = float(realized.get((r.mechanic, r.depth if np.isfinite(r.depth) else -1.0),
                                   effective_depth(promos.loc[r.Index])))
            for sku in r.scope[4:].split("|"):
                g = by_sku[sku]
                window = g.loc[r.start:r.end]
                window = window[window["in_stock"].fillna(True).astype(bool)]
                if window.empty:
                    continue
                pre = usable(g.loc[r.start - pd.Timedelta(days=base_days):r.start - pd.Timedelta(days=1)], sku, r.start)
                # the effects the full model knows on the baseline days: own post-dip, sibling promotions
                own = single[single["scope"].str[4:].str.split("|").apply(lambda s: sku in s) & (single["end"] < r.start)]
                sib = single[~single["scope"].str[4:].str.split("|").apply(lambda s: sku in s)]
                sib = sib[[category.get(sc[4:].split("|")[0]) == category[sku] for sc in sib["scope"]]]
                est_full = fits["full"][0]
                e = est_full.loc[sku] if sku in est_full.index else None
                post = float(e["post_dip"]) if e is not None and np.isfinite(e["post_dip"]) else 0.0
                sib_eff = float(e["sibling_effect"]) if e is not None and np.isfinite(e["sibling_effect"]) else 0.0
                adj = np.zeros(len(pre))
                for o in own.itertuples():
                    adj += post * ((pre.index > o.end) & (pre.index <= o.end + pd.Timedelta(days=14)))
                on_sib = np.zeros(len(pre), bool)
                for o in sib.itertuples():
                    on_sib |= (pre.index >= o.start) & (pre.index <= o.end)
                adj += sib_eff * on_sib
                base_raw = pre["units"].mean() if len(pre) else np.nan
                base_full = (pre["units"].to_numpy() / np.exp(adj)).mean() if len(pre) else np.nan
                win_sib = np.zeros(len(window), bool)
                for o in sib.itertuples():
                    win_sib |= (window.index >= o.start) & (window.index <= o.end)
                mech_col = f"mechanic_{r.mechanic}"
                preds = {}
                for model, base, extra in (("full", base_full, np.exp(sib_eff * win_sib).sum()),
                                           ("no_dip_cann", base_raw, float(len(window)))):
                    est, pooled = fits[model]
                    eps = float(pooled.loc[sku, "elasticity"]) if sku in pooled.index else np.nan
                    mech = est.loc[sku, mech_col] if sku in est.index and mech_col in est.columns else np.nan
                    mech = float(mech) if np.isfinite(mech) else 0.0
                    preds[model] = base * extra * (1 - d) ** eps * np.exp(mech)
                # last lift: the SKU's previous own promotion, window units over its pre-period rate
                lift = np.nan
                if len(own):
                    o = own.sort_values("end").iloc[-1]
                    w0 = usable(g.loc[o["start"]:o["end"]], sku, r.start, promo_free=False)
                    p0 = usable(g.loc[o["start"] - pd.Timedelta(days=base_days):o["start"] - pd.Timedelta(days=1)],
                                sku, r.start)
                    if len(w0) and len(p0) and p0["units"].mean() > 0:
                        lift = w0["units"].mean() / p0["units"].mean()
                preds["last_lift"] = base_raw * len(window) * lift
                rows.append({"series": sku, "cut": cut.date(), "promo_id": r.promo_id,
                             "actual": window["units"].sum(), **preds})
                # the days after the window: the full model takes its post-dip fraction of its bump off
                # the baseline (spread over post_dip_days in the fit, all of them inside POST_DAYS)
                after = g.loc[r.end + pd.Timedelta(days=1):r.end + pd.Timedelta(days=POST_DAYS)]
                after = after[after["in_stock"].fillna(True).astype(bool)]
                dip = float(e["dip_fraction"]) if e is not None and np.isfinite(e["dip_fraction"]) else 0.0
                bump_full = preds["full"] - base_full * np.exp(sib_eff * win_sib).sum()
                share = len(after) / POST_DAYS
                own_post = {"full": base_full * len(after) - dip * max(bump_full, 0.0) * share,
                            "no_dip_cann": base_raw * len(after), "last_lift": base_raw * len(after)}
                acc = promo_acc.setdefault(r.promo_id, {"series": sku, "cut": cut.date(), "promo_id": r.promo_id,
                                                        "actual": 0.0, "bump_full": 0.0, "skus": 0,
                                                        **dict.fromkeys(MODELS, 0.0)})
                acc["actual"] += window["units"].sum() + after["units"].sum()
                acc["bump_full"] += max(bump_full, 0.0)
                acc["skus"] += 1
                for m in MODELS:
                    acc[m] += preds[m] + own_post[m]
                cann[r.promo_id] = float(e["cannibalization_share"]) if e is not None and np.isfinite(
                    e["cannibalization_share"]) else 0.0
            # the category siblings during the window (no line-level offer of their own then): the full
            # model takes its cannibalization share of the promotion's bump off their baseline
            if r.promo_id not in promo_acc or promo_acc[r.promo_id]["skus"] < len(r.scope[4:].split("|")):
                promo_acc.pop(r.promo_id, None)
                continue
            promoted = set(r.scope[4:].split("|"))
            busy = single[(single["start"] <= r.end) & (single["end"] >= r.start)]
            busy = {s for sc in busy["scope"] for s in sc[4:].split("|")}
            sibs = [s for s in category.index[category == category[next(iter(promoted))]]
                    if s not in promoted and s not in busy and s in by_sku]
            actual_sib = base_sib = base_sib_all = 0.0
            n_days = (r.end - r.start).days + 1
            for s in sibs:
                gs = by_sku[s]
                pre_s = usable(gs.loc[r.start - pd.Timedelta(days=base_days):r.start - pd.Timedelta(days=1)], s,
                               r.start)
                win_s = gs.loc[r.start:r.end]
                win_s = win_s[win_s["in_stock"].fillna(True).astype(bool)]
                if pre_s.empty:
                    continue
                rate = pre_s["units"].mean()
                actual_sib += win_s["units"].sum()
                base_sib += rate * len(win_s)
                base_sib_all += rate * n_days
            acc = promo_acc[r.promo_id]
            loss = cann[r.promo_id] * acc["bump_full"] * (base_sib / base_sib_all if base_sib_all > 0 else 0.0)
            sib_rows.append({"series": acc["series"], "cut": acc["cut"], "promo_id": r.promo_id,
                             "actual": actual_sib, "full": base_sib - loss, "no_dip_cann": base_sib,
                             "last_lift": base_sib})
            effect_rows.append({**{k: v for k, v in acc.items() if k not in ("bump_full", "skus")},
                                "actual": acc["actual"] + actual_sib, "full": acc["full"] + base_sib - loss,
                                "no_dip_cann": acc["no_dip_cann"] + base_sib, "last_lift": acc["last_lift"] + base_sib})
            own_rows.append({k: v for k, v in acc.items() if k not in ("bump_full", "skus")})
    return DemoHeldout(pd.DataFrame(rows), pd.DataFrame(own_rows), pd.DataFrame(sib_rows), pd.DataFrame(effect_rows))


# ------------------------------------------------------------------------------------------------
# real data: one regression per series
# ------------------------------------------------------------------------------------------------

def _glm_predict(y, x_fit, x_new, family, offset_fit=None, offset_new=None):
    import statsmodels.api as sm

    off_fit = np.zeros(len(y)) if offset_fit is None else offset_fit
    off_new = np.zeros(len(x_new)) if offset_new is None else offset_new
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "nb":
            model = sm.GLM(y, x_fit, family=sm.families.NegativeBinomial(alpha=0.1), offset=off_fit)
            res = model.fit()
            return np.exp(np.asarray(x_new) @ res.params + off_new)
        res = sm.OLS(np.log(y) - off_fit, x_fit).fit()
        return np.exp(np.asarray(x_new) @ res.params + off_new + 0.5 * res.scale)  # lognormal smearing


def _glm_coefficients(y, x_fit, family):
    """Coefficients and standard errors of the same regression (quasi-likelihood for the NB GLM)."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "nb":
            res = sm.GLM(y, x_fit, family=sm.families.NegativeBinomial(alpha=0.1)).fit(scale="X2")
        else:
            res = sm.OLS(np.log(y), x_fit).fit()
    return np.asarray(res.params), np.asarray(res.bse)


def _pooled_effects(coefs: dict, signs: dict) -> dict:
    """Dip and cannibalization coefficients pooled across series, sign-restricted, shrunk toward 0.

    Per term: the precision-weighted mean over the series with an estimate, set to 0 when it has
    the wrong sign (the theory: a dip or a cannibalization lowers demand), then each series'
    estimate shrunk toward it (``opslib.promo.pooling.shrink_toward``, REML between-series
    variance) and clipped to the sign. A series without an estimate gets the mean.
    """
    from opslib.promo.pooling import shrink_toward

    out = {}
    for col, sign in signs.items():
        sids = list(coefs)
        b = np.array([coefs[i].get(col, (np.nan, np.nan))[0] for i in sids], float) * sign
        se = np.array([coefs[i].get(col, (np.nan, np.nan))[1] for i in sids], float)
        ok = np.isfinite(b) & np.isfinite(se) & (se > 0)
        if not ok.any():
            out[col] = dict.fromkeys(sids, 0.0)
            continue
        w = 1 / se[ok] ** 2
        mean = max(float(np.sum(w * b[ok]) / w.sum()), 0.0)
        est, _ = shrink_toward(b, se, mean, float(np.sqrt(1 / w.sum())), lower=0.0)
        out[col] = {i: sign * float(e) for i, e in zip(sids, est)}
    return out


def _level_factor(y: np.ndarray, pred: np.ndarray, t: int, rows: int) -> float:
    """Actual over predicted units of the ``rows`` rows before row ``t``: the recent level a planner sees."""
    a, b = y[max(0, t - rows):t], pred[max(0, t - rows):t]
    ok = np.isfinite(b) & (b > 0)
    return float(a[ok].sum() / b[ok].sum()) if ok.any() and a[ok].sum() > 0 else 1.0


def _series_heldout(frame, date_col, y_col, depth_col, base_cols, dip_cols, cann_cols, family, cuts, level_rows,
                    signs):
    """Rolling origin per series: refit at each cut on the rows before it, predict its held-out rows up to the next cut.

    Columns ``full``, ``no_dip_cann``, ``last_lift``: predictions times the level factor (actual over
    predicted units of the ``level_rows`` rows before the held-out row); ``<model>@refit``: without it.
    ``full`` is the base regression with the dip and cannibalization terms at coefficients pooled
    across the series at that cut (:func:`_pooled_effects`: sign-restricted by ``signs``, shrunk
    toward 0) entered as an offset; ``last_lift`` is the full model's no-promotion baseline at the
    row times the previous promotion's realized lift (its actual over its baseline), so every column
    uses history up to the row before.
    """
    bounds = [pd.Timestamp(c) for c in cuts] + [pd.Timestamp.max]
    extra = dip_cols + cann_cols
    rows = []
    groups = [(sid, g.reset_index(drop=True)) for sid, g in frame.groupby("series", sort=False)]
    for cut, next_cut in zip(bounds[:-1], bounds[1:]):
        # pass 1: each series' own dip and cannibalization coefficients on the history before the cut
        work, coefs = [], {}
        for sid, g in groups:
            dates = g[date_col]
            held = np.flatnonzero(g["_held"].to_numpy() & (dates >= cut).to_numpy() & (dates < next_cut).to_numpy())
            train = g[(dates < cut).to_numpy()]
            train = train[train[y_col] > 0] if family == "ols" else train
            if len(train) < 24 or train[y_col].sum() <= 0:
                continue
            c = [col for col in base_cols + extra if col == "const" or np.ptp(train[col].to_numpy(float)) > 0]
            try:
                params, bse = _glm_coefficients(train[y_col].to_numpy(float), train[c].to_numpy(float), family)
                coefs[sid] = {col: (params[c.index(col)], bse[c.index(col)]) for col in extra if col in c}
            except Exception:  # noqa: BLE001 - no estimate: the series gets the pooled mean
                coefs[sid] = {}
            if len(held):
                work.append((sid, g, train, held))
        pooled = _pooled_effects(coefs, signs)
        # pass 2: predictions
        for sid, g, train, held in work:
            y_all = g[y_col].to_numpy(float)
            promo_rows = np.flatnonzero(g["_promo"].to_numpy())
            off_all = sum(pooled[col].get(sid, 0.0) * g[col].to_numpy(float) for col in extra) if extra else 0.0
            off_all = np.zeros(len(g)) + off_all
            off_train = off_all[g.index.get_indexer(train.index)]
            preds, out = {}, {}
            c = [col for col in base_cols if col == "const" or np.ptp(train[col].to_numpy(float)) > 0]
            for model, off_fit, off_new in (("full", off_train, off_all), ("no_dip_cann", None, None)):
                try:
                    preds[model] = _glm_predict(train[y_col].to_numpy(float), train[c].to_numpy(float),
                                                g[c].to_numpy(float), family, off_fit, off_new)
                except Exception:  # noqa: BLE001 - a failed series counts as missing
                    preds[model] = np.full(len(g), np.nan)
                if model == "full":  # the no-promotion baseline of the full model
                    x_base = g[c].copy()
                    x_base[[col for col in [depth_col] if col in c]] = 0.0
                    try:
                        base = _glm_predict(train[y_col].to_numpy(float), train[c].to_numpy(float),
                                            x_base.to_numpy(float), family, off_train, np.zeros(len(g)))
                    except Exception:  # noqa: BLE001
                        base = np.full(len(g), np.nan)
            for model, p in preds.items():
                out[f"{model}@refit"] = p[held]
                out[model] = np.array([p[t] * _level_factor(y_all, p, t, level_rows) for t in held])
            level = np.array([_level_factor(y_all, preds["full"], t, level_rows) for t in range(len(g))])
            last_lift, last_lift_refit = np.full(len(held), np.nan), np.full(len(held), np.nan)
            for i, t in enumerate(held):
                prev = promo_rows[promo_rows < t]
                if len(prev):
                    q = prev[-1]
                    last_lift_refit[i] = base[t] * y_all[q] / base[q]
                    last_lift[i] = base[t] * level[t] * y_all[q] / (base[q] * level[q])
            out["last_lift@refit"], out["last_lift"] = last_lift_refit, last_lift
            rows.append(pd.DataFrame({"series": sid, "cut": cut.date(), "actual": y_all[held], **out}))
    return pd.concat(rows, ignore_index=True)


def stallion() -> pd.DataFrame:
    path = DATA / "stallion" / "stallion.csv.gz"
    if not path.exists():
        sys.exit(f"promo_heldout: {path} is missing; the real-data benchmark needs ../shared/data.")
    s = pd.read_csv(path, parse_dates=["date"]).sort_values(["agency", "sku", "date"])
    s["series"] = s["agency"] + "/" + s["sku"]
    s["log_price_ratio"] = np.log(np.clip(s["price_actual"] / s["price_regular"], 0.05, 1.5))
    s["depth_pct"] = s["discount_in_percent"]
    med = s.groupby("series")["depth_pct"].transform("median")
    s["_promo"] = s["depth_pct"] > med + 5
    s["_held"] = s["_promo"] & (s["date"] >= "2017-01-01")
    s["lag_log_price_ratio"] = s.groupby("series")["log_price_ratio"].shift(1).fillna(0.0)
    tot = s.groupby(["agency", "date"])["log_price_ratio"].transform("sum")
    cnt = s.groupby(["agency", "date"])["log_price_ratio"].transform("count")
    s["sibling_log_price_ratio"] = ((tot - s["log_price_ratio"]) / (cnt - 1).clip(lower=1)).fillna(0.0)
    s["const"] = 1.0
    s["trend"] = (s["date"] - s["date"].min()).dt.days / 365.25
    month = s["date"].dt.month
    for k in (1, 2):
        s[f"sin{k}"], s[f"cos{k}"] = np.sin(2 * np.pi * k * month / 12), np.cos(2 * np.pi * k * month / 12)
    # keep series with real volume (zeros are discontinued agency-SKUs)
    vol = s.groupby("series")["volume"].transform(lambda v: (v > 0).mean())
    s = s[vol > 0.9]
    base = ["const", "trend", "sin1", "cos1", "sin2", "cos2", "log_price_ratio"]
    res = _series_heldout(s, "date", "volume", "log_price_ratio", base, ["lag_log_price_ratio"],
                          ["sibling_log_price_ratio"], "nb", STALLION_CUTS, level_rows=3,
                          # a discount last month or on the agency's other SKUs (log price ratio < 0) lowers volume
                          signs={"lag_log_price_ratio": 1.0, "sibling_log_price_ratio": 1.0})
    print(f"stallion: {s['series'].nunique()} series, {len(res)} held-out promotion months in 2017, "
          f"refits at {', '.join(STALLION_CUTS)}", flush=True)
    return res


def walmart() -> pd.DataFrame:
    path = DATA / "walmart_weekly" / "walmart_sales_weekly.csv"
    if not path.exists():
        sys.exit(f"promo_heldout: {path} is missing; the real-data benchmark needs ../shared/data.")
    w = pd.read_csv(path, parse_dates=["Date"]).sort_values(["Dept", "Date"])
    w["series"] = w["Dept"].astype(int).astype(str)
    md = w[[f"MarkDown{k}" for k in range(1, 6)]].clip(lower=0).fillna(0).sum(axis=1)
    w["log_markdown"] = np.log1p(md / 1000)
    w["lag_log_markdown"] = w.groupby("series")["log_markdown"].shift(1).fillna(0.0)
    w["_promo"] = md > 0
    w["_held"] = w["_promo"] & (w["Date"] >= "2012-05-01")
    w["const"] = 1.0
    w["holiday"] = w["IsHoliday"].astype(float)
    w["trend"] = (w["Date"] - w["Date"].min()).dt.days / 365.25
    doy = w["Date"].dt.day_of_year / 365.25
    for k in (1, 2, 3):
        w[f"sin{k}"], w[f"cos{k}"] = np.sin(2 * np.pi * k * doy), np.cos(2 * np.pi * k * doy)
    w = w[w["Weekly_Sales"] > 0]
    base = ["const", "trend", "holiday", "sin1", "cos1", "sin2", "cos2", "sin3", "cos3", "log_markdown"]
    res = _series_heldout(w, "Date", "Weekly_Sales", "log_markdown", base, ["lag_log_markdown"], [], "ols",
                          WALMART_CUTS, level_rows=4,
                          signs={"lag_log_markdown": -1.0})  # last week's markdown lowers this week's sales
    print(f"walmart: {w['series'].nunique()} departments, {len(res)} held-out markdown weeks from 2012-05, "
          f"refits at {', '.join(WALMART_CUTS)}", flush=True)
    return res


def compare(name: str, res: pd.DataFrame, variants=(("refit + level", ""), ("refit only", "@refit")),
            models=MODELS) -> list[dict]:
    """WAPE of each model on the windows every model covers, and the paired cluster bootstrap of full minus each."""
    from opslib.promo.evaluation import paired_wape_bootstrap

    out = []
    for variant, suffix in variants:
        cols = [f"{m}{suffix}" for m in models]
        if not set(cols) <= set(res.columns):
            continue
        both = res.dropna(subset=cols)
        both = both[np.isfinite(both[cols]).all(axis=1)]
        errors = {r["model"]: r for r in _errors(name, both["actual"], {m: both[c] for m, c in zip(models, cols)})}
        for m, c in zip(models, cols):
            row = {**errors[m], "variant": variant, "series": both["series"].nunique()}
            if m != "full":
                cmp = paired_wape_bootstrap(both["actual"], both[cols[0]], both[c], groups=both["series"],
                                            draws=2000, seed=0)
                row.update(full_minus_this=cmp.difference, ci95_low=cmp.difference_lower,
                           ci95_high=cmp.difference_upper, p_full_better=cmp.probability_better)
            out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-demo", action="store_true", help="real data only (the demo fits take minutes)")
    parser.add_argument("--demo-only", action="store_true", help="the demo shop only")
    parser.add_argument("--ignore-suspected-stockouts", action="store_true",
                        help="demo: keep suspected hidden stock-out days in the history (the numbers before them)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = []
    if not args.skip_demo:
        held = demo(suspected=not args.ignore_suspected_stockouts)
        res = held.windows
        print(f"demo: {len(res)} promotion-SKU windows, {res['last_lift'].notna().sum()} with a previous own "
              f"promotion (last_lift needs one); {len(held.effect)} promotions with all their SKUs in stock "
              "at least one window day", flush=True)
        rows += compare("demo (all windows)", res, variants=(("rolling, recent level", ""),),
                        models=("full", "no_dip_cann"))
        rows += compare("demo (with a previous promo)", res, variants=(("rolling, recent level", ""),))
        for name, frame in ((f"demo own window + {POST_DAYS} days after", held.own),
                            ("demo siblings during the window", held.siblings),
                            ("demo effect window (own + after + siblings)", held.effect)):
            rows += compare(name, frame, variants=(("rolling, recent level", ""),), models=("full", "no_dip_cann"))
    if not args.demo_only:
        rows += compare("stallion (monthly)", stallion())
        rows += compare("walmart (weekly, sales $)", walmart())
    pd.set_option("display.width", 250)
    table = pd.DataFrame(rows)
    table = table[["data", "variant", "model", "windows", "series", "wape", "median_abs_log_ratio", "bias_pct",
                   "full_minus_this", "ci95_low", "ci95_high", "p_full_better"]]
    print()
    print(table.round(3).to_string(index=False))
    print(f"\nruntime {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
