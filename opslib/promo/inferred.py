"""Past promotions inferred from daily prices, for a shop without a ``promotions`` table.

Imported shops often have prices but no record of their promotions: the M5 files carry each
item's weekly shelf price, a Shopify export the price paid on every line. A temporary price
reduction shows in that history as a few days or weeks below the price that holds around them.
:func:`infer_promotions` finds those runs and writes them as ``percent_off`` rows of the canonical
``promotions`` table, so that the response (:func:`opslib.promo.fit_own_price_response`) learns
the elasticity from them as from recorded promotions.

The regular price of a day is a high quantile (default the 75th percentile) of the SKU's prices
in a centred window (default 91 days, a quarter): the reference price of Eichenbaum, Jaimovich &
Rebelo (2011), who take the modal price of a quarter. A quantile instead of the mode because paid
prices averaged over a day's order lines (``daily_demand``'s ``price``) take continuous values.
A day is a price cut when its price is at least ``min_depth`` below the regular price. With the
75th percentile, a price cut is seen as long as it covers less than a quarter of the window (22
days of 91). A run is written as a promotion only when it is temporary: at most ``max_days``
long, and below the prices at the regular level just before and just after it. A permanent price
change also puts days below the centred window's quantile (up to about 22 days after a cut, or
before an increase); it fails that test and is reported in ``not_promotions``, not written.

What a price history cannot tell, the rows cannot say either: the mechanic is always
``percent_off`` (an order-level offer shows as a smaller cut on the lines it touched), and funding
and fixed costs are unknown (0). Each row's ``name`` says it was inferred.

References
----------
.. [1] Eichenbaum, Jaimovich & Rebelo (2011). Reference prices, costs, and nominal rigidities.
   *American Economic Review* 101(1), 234-262.
.. [2] Hosken & Reiffen (2004). Patterns of retail price variation. *RAND Journal of Economics*
   35(1), 128-146 (temporary price reductions against the regular price).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = ["INFERRED_NAME", "InferredPromotions", "infer_promotions"]

INFERRED_NAME = "price cut (inferred from prices)"


@dataclass(frozen=True)
class InferredPromotions:
    """Result of :func:`infer_promotions`.

    Attributes
    ----------
    promotions : pandas.DataFrame
        Canonical ``promotions`` rows: ``promo_id`` (``"inferred-<sku>-<YYYYMMDD>"``),
        ``mechanic`` (``"percent_off"``), ``start``, ``end``, ``scope`` (``"sku:<sku>"``),
        ``depth`` [fraction] (the median cut of the run's priced days), ``funding_share``
        and ``fixed_cost`` (0: unknown), ``name`` (:data:`INFERRED_NAME`) and the extra
        columns ``days_priced`` and ``regular_price`` [currency/unit] (the median regular
        price over the run).
    days : pandas.DataFrame
        ``sku, date, price, regular_price, cut, promo_id``: every day of ``demand`` with a
        price, its regular price (NaN when the window had too few priced days), the cut
        ``1 - price / regular_price`` and the inferred promotion it belongs to (or missing).
    not_promotions : pandas.DataFrame
        ``scope, start, end, days, depth, reason``: runs below the regular price not written as
        promotions, with the reason: longer than ``max_days``; not at least ``min_depth`` below
        the prices just before or just after them (a permanent cut or increase seen by the
        centred window); one priced day shallower than ``single_day_depth``.
    settings : dict
        The arguments used.
    """

    promotions: pd.DataFrame
    days: pd.DataFrame
    not_promotions: pd.DataFrame
    settings: dict

    @property
    def summary(self) -> str:
        """One sentence: what was found and what was left out."""
        p = self.promotions
        own = p["scope"].str.startswith("sku:")
        text = (f"{int(own.sum())} price cut(s) of at least {self.settings['min_depth']:.0%} below the regular "
                f"price on {p.loc[own, 'scope'].nunique()} SKU(s)")
        if (~own).any():
            text += (f", {int((p['scope'] == 'all').sum())} shop-wide and "
                     f"{int(p['scope'].str.startswith('category:').sum())} category-wide")
        if len(self.not_promotions):
            text += (f"; {len(self.not_promotions)} run(s) below the regular price left out (changes of the "
                     "regular price, single shallow days: see not_promotions)")
        return text


def _fail(parameter: str, rule: str, received, fix: str):
    raise DataError(f"infer_promotions: parameter {parameter!r} {rule}; received {received!r}. Fix: {fix}")


def infer_promotions(demand: pd.DataFrame, items: pd.DataFrame | None = None, *, min_depth: float = 0.05,
                     window_days: int = 91, wide_share: float = 0.2, wide_min_skus: int = 5,
                     quantile: float = 0.75, min_priced_days: int = 14, max_gap_days: int = 2,
                     max_days: int = 42, check_days: int = 7, single_day_depth: float = 0.2,
                     edge_days: int = 1) -> InferredPromotions:
    """Temporary price reductions in a daily price history, as ``promotions`` rows.

    Parameters
    ----------
    demand : pandas.DataFrame
        ``sku, date, price`` [currency/unit]: the daily ``demand`` table (the price of a day
        without a sale may be missing).
    items : pandas.DataFrame, optional
        ``sku, category``: with it, category-wide cuts are found too (else shop-wide only).
    min_depth : float, default 0.05
        A day is a price cut when ``price <= (1 - min_depth) * regular price`` [fraction].
    window_days : int, default 91
        Length of the centred window of the regular price [days].
    wide_share, wide_min_skus : float, int, default 0.2 and 5
        A day on which at least ``wide_min_skus`` SKUs of the shop (or of one category) and at
        least ``wide_share`` of those priced that day are cut is part of one shop-wide (or
        category-wide) offer: its runs are rows with scope ``all`` (``category:<c>``) and the
        median cut as depth, which the response fits as day effects, not as each SKU's own price.
    quantile : float, default 0.75
        Quantile of the window's prices taken as the regular price.
    min_priced_days : int, default 14
        Fewest priced days in the window for a regular price (else the day is not judged).
    max_gap_days : int, default 2
        Days without a price (no sale) inside a run of price cuts that still join it [days].
    max_days : int, default 42
        Longest run written as a promotion [days]; longer runs are in ``not_promotions``.
    check_days : int, default 7
        A run is a temporary cut only if its median price is at least ``min_depth`` below the
        median of the (up to) ``check_days`` days at the regular price just before it and of
        those just after it (within ``window_days``; a side without such days is not checked):
        else it is a change of the regular price, in ``not_promotions``.
    edge_days : int, default 1
        Days without a sale just before and just after a SKU's run that are added to it [days].
        A run otherwise starts and ends on days with a sale, so a slow seller's promotion keeps
        its selling days and loses its empty ones, which overstates the lift: on the demo shop
        (``benchmarks/promo_response.py --inferred``) the pooled elasticities were 0.30 too
        elastic with 0, 0.02 with 1 and 0.16 too inelastic with 2.
    single_day_depth : float, default 0.2
        A run of one priced day is written only when at least this far below the regular price
        [fraction]. A day's average paid price also drops when a few of its baskets used a coupon
        or an order-level offer; a line-level cut of one day (a flash sale) is usually deeper.

    Returns
    -------
    InferredPromotions

    Raises
    ------
    opslib.DataError
        Missing columns, negative prices or settings out of range.
    """
    if not 0 <= single_day_depth < 1:
        _fail("single_day_depth", "must be in [0, 1)", single_day_depth, "pass e.g. 0.2, or 0 to keep every day.")
    if not 0 < wide_share <= 1:
        _fail("wide_share", "must be in (0, 1]", wide_share, "pass e.g. 0.2.")
    for column in ("sku", "date", "price"):
        if column not in demand.columns:
            _fail("demand", f"must have the column {column!r}", list(demand.columns),
                  "pass the daily demand table (opslib.data.daily_demand, or an importer's demand).")
    if not 0 < min_depth < 1:
        _fail("min_depth", "must be between 0 and 1 (a fraction)", min_depth, "pass e.g. 0.05 for 5%.")
    if not 0 < quantile <= 1:
        _fail("quantile", "must be in (0, 1]", quantile, "pass e.g. 0.75.")
    for name, value, low in (("window_days", window_days, 7), ("min_priced_days", min_priced_days, 1),
                             ("max_days", max_days, 1), ("max_gap_days", max_gap_days, 0),
                             ("check_days", check_days, 1), ("wide_min_skus", wide_min_skus, 1),
                             ("edge_days", edge_days, 0)):
        if int(value) != value or value < low:
            _fail(name, f"must be a whole number of at least {low}", value, f"pass {low} or more.")
    settings = {"min_depth": float(min_depth), "window_days": int(window_days), "quantile": float(quantile),
                "min_priced_days": int(min_priced_days), "max_gap_days": int(max_gap_days), "max_days": int(max_days),
                "check_days": int(check_days), "wide_share": float(wide_share), "wide_min_skus": int(wide_min_skus),
                "single_day_depth": float(single_day_depth), "edge_days": int(edge_days)}
    d = pd.DataFrame({"sku": demand["sku"].astype(str), "date": pd.to_datetime(demand["date"]).dt.normalize(),
                      "price": pd.to_numeric(demand["price"], errors="coerce").astype(float)})
    if (d["price"] < 0).any():
        _fail("demand", "must not have negative prices", float(d["price"].min()), "check the price column.")
    d.loc[d["price"] <= 0, "price"] = np.nan  # a free unit is not a price
    d = d.groupby(["sku", "date"], sort=True, as_index=False)["price"].mean()  # one price per SKU-day
    empty_days = pd.DataFrame({"sku": pd.Series(dtype=str), "date": pd.Series(dtype="datetime64[ns]"),
                               "price": pd.Series(dtype=float), "regular_price": pd.Series(dtype=float),
                               "cut": pd.Series(dtype=float), "promo_id": pd.Series(dtype=object)})
    if d["price"].notna().sum() == 0:
        return InferredPromotions(_rows([]), empty_days, _not_promotions([]), settings)

    wide = d.pivot(index="date", columns="sku", values="price")
    wide = wide.reindex(pd.date_range(wide.index.min(), wide.index.max(), freq="D"))
    regular = wide.rolling(int(window_days), center=True, min_periods=int(min_priced_days)).quantile(quantile)
    price, reg = wide.to_numpy(float), regular.to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        cut = 1.0 - price / reg
    flagged = cut >= min_depth - 1e-12
    breaker = np.isfinite(price) & ~flagged  # a priced day at the regular price ends a run
    dates, skus = wide.index, wide.columns.to_numpy()
    promo_of = np.full(price.shape, None, dtype=object)
    rows, not_promotions = [], []

    # shop- and category-wide cuts first: a day on which many SKUs are cut together is one offer
    # (a festival, a 满减 across the shop), a day effect for the response, not each SKU's own price
    def wide_days(members: np.ndarray) -> np.ndarray:
        n_cut = flagged[:, members].sum(axis=1)
        n_priced = np.isfinite(price[:, members]).sum(axis=1)
        share = n_cut / np.maximum(n_priced, 1)
        return (n_cut >= wide_min_skus) & (share >= wide_share)

    everyone = np.ones(len(skus), bool)
    if items is None:
        groups = [("all", "all", everyone, wide_days(everyone))]
    else:
        if not {"sku", "category"} <= set(items.columns):
            _fail("items", "must have the columns 'sku' and 'category'", list(items.columns),
                  "pass the items table, or items=None to find shop-wide cuts only.")
        category = items.assign(sku=items["sku"].astype(str)).drop_duplicates("sku").set_index("sku")["category"]
        category = category.reindex(skus)
        names = sorted(category.dropna().astype(str).unique())
        members = {c: (category.astype(str) == c).to_numpy() for c in names}
        on = {c: wide_days(members[c]) for c in names}
        # shop-wide: cut together in at least half of the categories (a category-wide offer of a
        # big category can be a fifth of the shop's SKUs sold that day)
        shop = np.sum([on[c] for c in names], axis=0) >= max(2, int(np.ceil(len(names) / 2))) if names else \
            wide_days(everyone)
        # the categories' own offers: judged again once the shop-wide days are taken
        groups = [("all", "all", everyone, shop)] + [
            (f"category:{c}", c, members[c], lambda m=members[c]: wide_days(m)) for c in names]
    for scope, label, members, on in groups:
        if callable(on):
            on = on()
        for r0, r1 in _runs(np.flatnonzero(on), max_gap_days):
            cells = np.zeros(price.shape, bool)
            cells[r0:r1 + 1, members] = flagged[r0:r1 + 1, members]
            if not cells.any():
                continue
            depth = float(np.median(cut[cells]))
            length = r1 - r0 + 1
            if length > max_days:
                not_promotions.append({"scope": scope, "start": dates[r0], "end": dates[r1], "days": int(length),
                                       "depth": depth, "reason": f"longer than {max_days} days"})
                continue
            pid = f"inferred-{label}-{dates[r0]:%Y%m%d}"
            promo_of[cells] = pid
            rows.append({"promo_id": pid, "start": dates[r0], "end": dates[r1], "scope": scope,
                         "depth": round(depth, 4), "days_priced": int(cells.sum()),
                         "regular_price": float("nan")})
            flagged[r0:r1 + 1, members] = False  # these days belong to the wide offer
            breaker[r0:r1 + 1, members] = False

    # runs of flagged days per SKU, joined across at most max_gap_days unpriced days
    col, row = np.nonzero(flagged.T)  # ordered by SKU, then day
    if len(col):
        breaks_before = np.cumsum(breaker, axis=0)
        new = np.ones(len(col), bool)
        same_sku = col[1:] == col[:-1]
        close = (row[1:] - row[:-1] - 1) <= max_gap_days
        unbroken = breaks_before[row[1:], col[1:]] == breaks_before[row[:-1], col[:-1]]
        new[1:] = ~(same_sku & close & unbroken)
        first = np.flatnonzero(new)
        last = np.r_[first[1:], len(col)] - 1
        regular_days = {}  # per SKU: the priced days at the regular price (what a cut returns to)
        for a, b in zip(first, last):
            c, r0, r1 = col[a], row[a], row[b]
            length = r1 - r0 + 1
            run_rows = row[a:b + 1]
            depth = float(np.median(cut[run_rows, c]))
            run_price = float(np.median(price[run_rows, c]))
            sku = str(skus[c])
            if c not in regular_days:
                regular_days[c] = np.flatnonzero(breaker[:, c])
            at_regular = regular_days[c]
            k = np.searchsorted(at_regular, r0)
            before = at_regular[max(0, k - check_days):k]
            before = before[before >= r0 - window_days]
            after = at_regular[k:k + check_days]
            after = after[after <= r1 + window_days]
            reason = None
            if length > max_days:
                reason = f"longer than {max_days} days"
            elif b == a and depth < single_day_depth - 1e-12:
                reason = (f"one priced day less than {single_day_depth:.0%} below the regular price: a discount "
                          "on a few baskets (a coupon, an order-level offer) looks the same")
            else:
                for side, near in (("before", before), ("after", after)):
                    if len(near) and run_price > (1 - min_depth) * float(np.median(price[near, c])) + 1e-12:
                        reason = (f"not below the price {side} it: a change of the regular price")
                        break
            if reason is not None:
                not_promotions.append({"scope": f"sku:{sku}", "start": dates[r0], "end": dates[r1], "days": int(length),
                                       "depth": depth, "reason": reason})
                continue
            # the run's first and last days are days with a sale at the cut price; the offer most likely
            # ran on the unpriced days next to them too (no sale is no price, not the regular price)
            for _ in range(edge_days):
                if r0 > 0 and not np.isfinite(price[r0 - 1, c]) and promo_of[r0 - 1, c] is None:
                    r0 -= 1
                if r1 + 1 < len(dates) and not np.isfinite(price[r1 + 1, c]) and promo_of[r1 + 1, c] is None:
                    r1 += 1
            pid = f"inferred-{sku}-{dates[r0]:%Y%m%d}"
            promo_of[r0:r1 + 1, c] = pid
            rows.append({"promo_id": pid, "start": dates[r0], "end": dates[r1], "scope": f"sku:{sku}",
                         "depth": round(depth, 4), "days_priced": int(b - a + 1),
                         "regular_price": float(np.median(reg[run_rows, c]))})
    days = pd.DataFrame({"sku": np.repeat(skus, len(dates)), "date": np.tile(dates.to_numpy(), len(skus)),
                         "price": price.T.ravel(), "regular_price": reg.T.ravel(), "cut": cut.T.ravel(),
                         "promo_id": promo_of.T.ravel()})
    days = days[days["price"].notna() | days["promo_id"].notna()].reset_index(drop=True)
    return InferredPromotions(_rows(rows), days, _not_promotions(not_promotions), settings)


def _runs(on: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    """First and last index of the runs of sorted indices ``on``, joined across gaps of at most ``max_gap``."""
    if not len(on):
        return []
    new = np.r_[True, np.diff(on) > max_gap + 1]
    first = np.flatnonzero(new)
    last = np.r_[first[1:], len(on)] - 1
    return list(zip(on[first].tolist(), on[last].tolist()))


def _rows(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["promo_id", "start", "end", "scope", "depth", "days_priced", "regular_price"])
    out.insert(1, "mechanic", "percent_off")
    out["start"], out["end"] = pd.to_datetime(out["start"]), pd.to_datetime(out["end"])
    out["funding_share"], out["fixed_cost"], out["name"] = 0.0, 0.0, INFERRED_NAME
    out["depth"] = out["depth"].astype(float)
    return out.sort_values(["start", "promo_id"], kind="stable").reset_index(drop=True)


def _not_promotions(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["scope", "start", "end", "days", "depth", "reason"])
    out["start"], out["end"] = pd.to_datetime(out["start"]), pd.to_datetime(out["end"])
    return out
