"""The demo shop: a synthetic Chinese online shop (CNY) with its ground truth.

:func:`demo_shop` simulates about three years of a mid-sized online shop selling
household goods in China: an item master, customer orders, promotions of
several mechanics (percent off, 满减 threshold offers, flash sales, second item
half price, coupons), a periodic-review replenishment process with supplier
lead times and Chinese New Year shutdowns, stock snapshots that reconcile with
the stock movements, customer returns, daily traffic and monthly stocktakes.

Everything that was used to generate the data is returned as ground truth
(``DemoShop.truth``): the unconstrained daily demand before stock-outs censored
it, the true price elasticities, promotion lifts, cannibalization and
post-promotion dips, the supplier lead-time distributions and the shrinkage.
Estimators in opslib can be benchmarked against it.

:func:`write_demo_shop` writes the tables as deterministic CSV files (the
shipped copy lives in ``data/demo``). Randomness comes only from
``numpy.random.default_rng(seed)``: the same arguments give byte-identical files.

Model summary
-------------
Expected demand of SKU :math:`s` on day :math:`t` is

.. math::

    \\mu_{s,t} = b_s \\, g_s(t) \\, w_{c,\\mathrm{dow}(t)} \\, y_c(t) \\, e_c(t)
                 \\, \\ell_s(t) \\, (p_{s,t}/p_{s,0})^{\\varepsilon_s}
                 \\, L_{s,t} \\, K_{s,t} \\, D_{s,t}

with base rate :math:`b_s` [units/day], trend :math:`g_s`, weekly, yearly and
event factors of the category :math:`c`, life cycle :math:`\\ell_s` (ramp-up of
new items, phase-out of discontinued ones), list-price changes with elasticity
:math:`\\varepsilon_s`, promotion lift :math:`L = (1-d)^{\\varepsilon_s} v`
(effective depth :math:`d`, mechanic visibility :math:`v`), cannibalization
:math:`K` from promoted siblings of the category and post-promotion dip
:math:`D`. Realized demand is gamma-Poisson (smooth items), Poisson
(intermittent) or compound Poisson with negative-binomial sizes (lumpy).
Sales are :math:`\\min(\\text{demand}, \\text{physical stock})`.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from opslib.data.workspace import Workspace

__all__ = ["DemoShop", "demo_shop", "write_demo_shop", "DEMO_FILE_NAMES"]


# --------------------------------------------------------------------------------------
# Static description of the shop
# --------------------------------------------------------------------------------------

# name, lognormal mean lead time [days], coefficient of variation, partial-delivery
# probability, rejection probability, quoted lead time [days]
_SUPPLIERS = [
    ("Hangzhou Xinyuan Foods", 5.0, 0.30, 0.05, 0.02, 5),
    ("Fujian Anxi Tea Co", 8.0, 0.40, 0.08, 0.02, 7),
    ("Shanghai Jiejing Daily Chemical", 6.0, 0.25, 0.04, 0.03, 6),
    ("Guangzhou Baiyun Household", 4.0, 0.50, 0.10, 0.03, 3),
    ("Yiwu Huamei Trading", 12.0, 0.60, 0.15, 0.06, 10),
    ("Shenzhen Kaitong Electronics", 20.0, 0.35, 0.08, 0.05, 18),
    ("Ningbo Mingyang Kitchenware", 15.0, 0.30, 0.06, 0.04, 14),
    ("Qingdao Haixin Baby & Pet", 9.0, 0.45, 0.07, 0.02, 8),
    ("Jiangsu Hongda Apparel", 28.0, 0.25, 0.12, 0.05, 25),
    ("Wenzhou Lianchuang Stationery", 3.0, 0.60, 0.05, 0.02, 3),
]

# name, sku prefix, share of SKUs, median price [CNY], price log-sd, margin range,
# return rate, yearly profile, supplier indices, shrink probability per day
_CATEGORIES = [
    ("snacks", "SN", 0.14, 25.0, 0.45, (0.30, 0.45), 0.010, "flat", (0,), 0.002),
    ("beverages", "BV", 0.11, 35.0, 0.50, (0.25, 0.40), 0.010, "summer", (1, 0), 0.002),
    ("personal care", "PC", 0.12, 45.0, 0.50, (0.40, 0.60), 0.020, "mild_summer", (2,), 0.005),
    ("home cleaning", "HC", 0.10, 30.0, 0.40, (0.25, 0.40), 0.015, "flat", (3, 2), 0.002),
    ("kitchen", "KT", 0.09, 60.0, 0.60, (0.35, 0.55), 0.040, "flat", (6, 4), 0.002),
    ("baby", "BB", 0.09, 90.0, 0.50, (0.20, 0.35), 0.020, "flat", (7,), 0.003),
    ("pet", "PT", 0.08, 70.0, 0.55, (0.25, 0.40), 0.015, "flat", (7, 4), 0.002),
    ("electronics accessories", "EA", 0.10, 79.0, 0.65, (0.40, 0.60), 0.050, "flat", (5,), 0.006),
    ("stationery", "ST", 0.07, 15.0, 0.50, (0.40, 0.60), 0.010, "school", (9, 4), 0.003),
    ("apparel basics", "AP", 0.10, 69.0, 0.45, (0.45, 0.65), 0.120, "apparel", (8,), 0.004),
]

_PRODUCTS = {
    "snacks": (
        ["Spicy beef jerky", "Sunflower seeds", "Dried mango", "Rice crackers", "Latiao spicy strips",
         "Mixed nuts", "Seaweed snack", "Egg rolls", "Preserved plums", "Pork floss cake",
         "Hawthorn flakes", "Walnut kernels"],
        ["100g", "200g", "500g", "gift box"],
        ["Xiangman", "Tianwei", "Guoguo", "Laoxiang"],
    ),
    "beverages": (
        ["Oolong tea", "Jasmine green tea", "Pu'er tea cake", "Longjing tea", "Chrysanthemum tea",
         "Soy milk powder", "Instant coffee", "Coconut water", "Sparkling water", "Suanmeitang plum drink",
         "Milk tea powder", "Goji berry drink"],
        ["250g", "500g", "12 pack", "24 pack"],
        ["Chaxiang", "Qingquan", "Mingshan", "Yuanqi"],
    ),
    "personal care": (
        ["Toothpaste", "Shampoo", "Body wash", "Facial cleanser", "Hand cream", "Sunscreen SPF50",
         "Face mask sheets", "Toothbrush heads", "Cotton pads", "Lip balm", "Hair conditioner"],
        ["100ml", "400ml", "750ml", "value pack"],
        ["Baicao", "Xuemei", "Jingyan", "Runze"],
    ),
    "home cleaning": (
        ["Laundry detergent", "Laundry pods", "Dish soap", "Floor cleaner", "Toilet cleaner",
         "Kitchen degreaser", "Paper towels", "Toilet paper", "Garbage bags", "Disinfecting wipes"],
        ["1kg", "2kg", "3L", "family pack"],
        ["Jiejing", "Liangbai", "Qingshuang", "Anxin"],
    ),
    "kitchen": (
        ["Non-stick wok", "Rice cooker liner", "Chopsticks set", "Cutting board", "Vacuum flask",
         "Glass food containers", "Ceramic bowls", "Soy sauce dispenser", "Bamboo steamer", "Chef knife"],
        ["small", "medium", "large", "set of 4"],
        ["Chufang", "Mingyang", "Taoci", "Jiangxin"],
    ),
    "baby": (
        ["Diapers", "Baby wipes", "Infant formula", "Rice cereal", "Baby bottle", "Teether",
         "Baby lotion", "Bibs"],
        ["S", "M", "L", "XL"],
        ["Beibei", "Anxinbao", "Xiaoya"],
    ),
    "pet": (
        ["Cat litter", "Dry cat food", "Dry dog food", "Cat treats", "Dog chew sticks", "Pet shampoo",
         "Freeze-dried chicken", "Litter mat"],
        ["1.5kg", "2kg", "5kg", "10kg"],
        ["Maomi", "Wangcai", "Chongle"],
    ),
    "electronics accessories": (
        ["USB-C cable", "Fast charger 20W", "Power bank 10000mAh", "Wireless earbuds", "Phone case",
         "Screen protector", "Bluetooth speaker", "Car phone mount", "Charging dock", "Type-C hub"],
        ["1m", "2m", "black", "white"],
        ["Kaitong", "Leidian", "Shuma"],
    ),
    "stationery": (
        ["Gel pens", "Notebook A5", "Sticky notes", "Highlighters", "Pencil case", "Calligraphy brush",
         "Xuan rice paper", "Correction tape", "Binder clips"],
        ["pack of 10", "pack of 3", "A4", "single"],
        ["Chenguang", "Moxiang", "Wenfang"],
    ),
    "apparel basics": (
        ["Cotton T-shirt", "Thermal underwear", "Crew socks", "Down vest", "Fleece hoodie",
         "Boxer briefs", "Pajama set", "Knit beanie", "Sports shorts"],
        ["S", "M", "L", "XL"],
        ["Mianmian", "Nuanyang", "Hongda", "Qingyi"],
    ),
}

# demand classes: share, base rate range [units/day] (log-uniform)
_CLASSES = [
    ("fast", 0.10, (4.0, 15.0)),
    ("medium", 0.22, (1.0, 4.0)),
    ("slow", 0.28, (0.3, 1.0)),
    ("intermittent", 0.25, (0.05, 0.3)),
    ("lumpy", 0.15, (0.1, 0.6)),
]

# Chinese New Year day (first day of the lunar year)
_CNY = {
    2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
    2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06",
    2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03", 2031: "2031-01-23",
}

# Public holidays other than Chinese New Year: (first day, last day, name). Known years
# use the official schedules; other years fall back to fixed approximate dates.
_HOLIDAYS = {
    2023: [("2023-01-01", "2023-01-02", "New Year"), ("2023-04-05", "2023-04-05", "Qingming"),
           ("2023-04-29", "2023-05-03", "Labour Day"), ("2023-06-22", "2023-06-24", "Dragon Boat"),
           ("2023-09-29", "2023-09-29", "Mid-Autumn"), ("2023-09-30", "2023-10-06", "National Day")],
    2024: [("2024-01-01", "2024-01-01", "New Year"), ("2024-04-04", "2024-04-06", "Qingming"),
           ("2024-05-01", "2024-05-05", "Labour Day"), ("2024-06-10", "2024-06-10", "Dragon Boat"),
           ("2024-09-15", "2024-09-17", "Mid-Autumn"), ("2024-10-01", "2024-10-07", "National Day")],
    2025: [("2025-01-01", "2025-01-01", "New Year"), ("2025-04-04", "2025-04-06", "Qingming"),
           ("2025-05-01", "2025-05-05", "Labour Day"), ("2025-05-31", "2025-06-02", "Dragon Boat"),
           ("2025-10-01", "2025-10-08", "National Day")],
    2026: [("2026-01-01", "2026-01-03", "New Year"), ("2026-04-04", "2026-04-06", "Qingming"),
           ("2026-05-01", "2026-05-05", "Labour Day"), ("2026-06-19", "2026-06-21", "Dragon Boat"),
           ("2026-09-25", "2026-09-27", "Mid-Autumn"), ("2026-10-01", "2026-10-07", "National Day")],
}

_WEEKDAY = np.array([1.02, 1.00, 0.98, 0.98, 0.96, 1.02, 1.04])  # Monday first
_HOURS = np.array([3, 2, 1, 1, 0.6, 0.6, 1, 2, 4, 6, 7, 7, 6, 6, 6, 6, 6, 6, 7, 8, 10, 11, 10, 6], float)
_HOURS_FESTIVAL = _HOURS.copy()
_HOURS_FESTIVAL[0] *= 8  # Double 11 and 618 start at midnight
_HOURS_FESTIVAL[1] *= 3
_RETURN_REASONS_RESTOCK = np.array(["changed mind", "wrong size", "not as described"])
_RETURN_REASONS_SCRAP = np.array(["defective", "damaged in transit"])
_COUNTERS = np.array(["Li Wei", "Zhang Min", "Wang Fang", "Chen Jie"])
_CHANNELS = np.array(["app", "mini_program", "web"])

#: File names written by :func:`write_demo_shop`, by table (ground truth under ``ground_truth/``).
DEMO_FILE_NAMES: dict[str, str] = {
    "items": "items.csv",
    "order_lines": "order_lines.csv.gz",
    "stock": "stock.csv.gz",
    "purchase_orders": "purchase_orders.csv.gz",
    "promotions": "promotions.csv",
    "calendar": "calendar.csv",
    "traffic": "traffic.csv",
    "returns": "returns.csv.gz",
    "stock_movements": "stock_movements.csv.gz",
    "stock_counts": "stock_counts.csv.gz",
}
_TRUTH_FILE_NAMES: dict[str, str] = {
    "true_demand": "true_demand.csv.gz",
    "elasticities": "elasticities.csv",
    "promo_effects": "promo_effects.csv.gz",
    "supplier_lead_times": "supplier_lead_times.csv",
    "purchase_order_lead_times": "purchase_order_lead_times.csv.gz",
    "shrinkage": "shrinkage.csv.gz",
    "price_changes": "price_changes.csv",
    "seasonality": "seasonality.csv.gz",
    "sku_operations": "sku_operations.csv",
}

_MONEY_COLUMNS = {"unit_cost", "price", "paid_amount", "list_price", "order_cost", "threshold",
                  "reward", "fixed_cost", "reference_price", "old_price", "new_price"}


@dataclass
class DemoShop:
    """A generated demo shop: its canonical tables and the ground truth behind them.

    Attributes
    ----------
    workspace : opslib.data.Workspace
        The canonical tables (``demand`` is ``None``; it is derived elsewhere).
    truth : dict of str to pandas.DataFrame
        Ground-truth tables, see ``data/demo/ground_truth/README.md``:
        ``true_demand``, ``elasticities``, ``promo_effects``,
        ``supplier_lead_times``, ``purchase_order_lead_times``, ``shrinkage``,
        ``price_changes``, ``seasonality``, ``sku_operations``.
    params : dict
        The arguments the shop was generated with.
    """

    workspace: Workspace
    truth: dict[str, pd.DataFrame]
    params: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------


def _calendar(dates: pd.DatetimeIndex) -> tuple[pd.DataFrame, dict]:
    """Calendar table plus day-index helpers (festival days, CNY windows)."""
    n = len(dates)
    event = np.full(n, "", dtype=object)
    holiday = np.zeros(n, bool)
    shutdown = np.zeros(n, bool)
    pos = pd.Series(np.arange(n), index=dates)
    info = {"cny": [], "festival_days": [], "d11": [], "d618": [], "d12": []}

    def idx(day):
        day = pd.Timestamp(day)
        return int(pos[day]) if day in pos.index else None

    def span(a, b):
        a, b = pd.Timestamp(a), pd.Timestamp(b)
        m = (dates >= a) & (dates <= b)
        return np.flatnonzero(m)

    years = range(dates[0].year - 1, dates[-1].year + 2)
    for y in years:
        for a, b, name in _HOLIDAYS.get(
            y, [(f"{y}-01-01", f"{y}-01-01", "New Year"), (f"{y}-04-04", f"{y}-04-06", "Qingming"),
                (f"{y}-05-01", f"{y}-05-05", "Labour Day"), (f"{y}-10-01", f"{y}-10-07", "National Day")]
        ):
            k = span(a, b)
            holiday[k] = True
            event[k] = name
        cny = pd.Timestamp(_CNY.get(y, f"{y}-02-05"))
        k = span(cny - pd.Timedelta(days=1), cny + pd.Timedelta(days=6))
        holiday[k] = True
        event[k] = "Chinese New Year"
        shutdown[span(cny - pd.Timedelta(days=7), cny + pd.Timedelta(days=8))] = True
        info["cny"].append(cny)
        # shopping festivals override holiday names
        k = span(f"{y}-06-01", f"{y}-06-17")
        event[k] = "618 presale"
        k = span(f"{y}-10-20", f"{y}-11-10")
        event[k] = "Double 11 presale"
        for day, name, key in ((f"{y}-06-18", "618", "d618"), (f"{y}-11-11", "Double 11", "d11"),
                               (f"{y}-12-12", "Double 12", "d12")):
            i = idx(day)
            if i is not None:
                event[i] = name
                info[key].append(i)
                info["festival_days"].append(i)
    cal = pd.DataFrame({
        "date": dates,
        "event": pd.array(np.where(event == "", None, event), dtype="object"),
        "is_holiday": holiday,
        "supplier_shutdown": shutdown,
    })
    info["holiday"] = holiday
    info["shutdown"] = shutdown
    return cal, info


def _yearly_factor(profile: str, doy: np.ndarray) -> np.ndarray:
    """Yearly seasonality of a category [multiplier] by day of year."""
    two_pi = 2 * np.pi / 365.25

    def bump(center, width):
        d = (doy - center + 182) % 365 - 182
        return np.exp(-0.5 * (d / width) ** 2)

    if profile == "summer":
        return 1 + 0.35 * np.cos(two_pi * (doy - 200))
    if profile == "mild_summer":
        return 1 + 0.12 * np.cos(two_pi * (doy - 200))
    if profile == "school":
        return 1 + 0.6 * bump(240, 12) + 0.4 * bump(55, 10)
    if profile == "apparel":
        return 1 + 0.28 * np.cos(two_pi * (doy - 10)) + 0.12 * bump(170, 25)
    return 1 + 0.04 * np.cos(two_pi * (doy - 30))


def _event_factor(dates, info, cat_names) -> np.ndarray:
    """Festival, holiday and CNY logistics factors [multiplier], shape (categories, days)."""
    n = len(dates)
    base = np.ones(n)
    ev = np.ones((len(cat_names), n))
    m, d = dates.month.to_numpy(), dates.day.to_numpy()
    base[(m == 6) & (d < 18)] *= 1.15
    base[(m == 10) & (d >= 20)] *= 1.05
    base[(m == 11) & (d <= 10)] *= 1.10
    base[(m == 11) & (d >= 12) & (d <= 15)] *= 0.85
    base[info["d618"]] *= 1.8
    base[info["d11"]] *= 2.5
    base[info["d12"]] *= 1.4
    base[info["holiday"]] *= 0.92
    cny_prep = np.zeros(n, bool)
    for cny in info["cny"]:
        off = (dates - cny).days.to_numpy()
        base[(off >= -7) & (off <= 6)] *= 0.55  # couriers stop
        cny_prep |= (off >= -30) & (off <= -8)
    for c, name in enumerate(cat_names):
        f = base.copy()
        if name == "electronics accessories":
            f = f ** 1.3
        if name == "snacks":
            f = np.where(cny_prep, f * 1.6, f)
        if name == "home cleaning":
            f = np.where(cny_prep, f * 1.35, f)
        ev[c] = f
    return ev


# --------------------------------------------------------------------------------------
# Items
# --------------------------------------------------------------------------------------


def _round_price(x: np.ndarray) -> np.ndarray:
    """Shop-style prices: 9.9, 19.9, 39.9, 129.0 [CNY]."""
    x = np.asarray(x, float)
    small = np.floor(x) + 0.9
    large = np.round(x / 10) * 10 - 1.0
    return np.round(np.where(x < 50, small, np.maximum(large, 49.0)), 2)


def _items(rng, n_skus, n_days):
    cat_share = np.array([c[2] for c in _CATEGORIES])
    counts = np.floor(cat_share * n_skus).astype(int)
    rest = n_skus - counts.sum()
    counts[np.argsort(-(cat_share * n_skus - counts), kind="stable")[:rest]] += 1
    rows = []
    for ci, (cname, code, _, pmed, psd, margin, rrate, _, sups, shrink) in enumerate(_CATEGORIES):
        nouns, sizes, brands = _PRODUCTS[cname]
        k = counts[ci]
        combos = [(a, b) for a in range(len(nouns)) for b in range(len(sizes))]
        pick = rng.choice(len(combos), size=k, replace=k > len(combos))
        for j, p in enumerate(pick):
            a, b = combos[p]
            brand = brands[rng.integers(len(brands))]
            rows.append({
                "sku": f"{code}{j + 1:04d}",
                "name": f"{brand} {nouns[a]} {sizes[b]}",
                "category": cname,
                "brand": brand,
                "ci": ci,
                "size_rank": b,
                "supplier_idx": sups[rng.integers(len(sups))],
                "return_rate": rrate,
                "shrink_prob": shrink,
                "margin": rng.uniform(*margin),
                "price_raw": pmed * np.exp(psd * rng.standard_normal()) * (0.8 + 0.25 * b),
            })
    it = pd.DataFrame(rows)
    n = len(it)
    price = _round_price(it["price_raw"].to_numpy())
    unit_cost = np.round(price * (1 - it["margin"].to_numpy()), 2)
    # demand class
    cls_names = [c[0] for c in _CLASSES]
    cls = rng.choice(len(_CLASSES), size=n, p=[c[1] for c in _CLASSES])
    lo = np.array([_CLASSES[c][2][0] for c in cls])
    hi = np.array([_CLASSES[c][2][1] for c in cls])
    base = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    base *= (price / np.median(price)) ** -0.3  # cheaper items sell more
    case_pack = np.where(price < 20, rng.choice([6, 12, 24], n),
                         np.where(price < 60, rng.choice([4, 6, 12], n),
                                  np.where(price < 200, rng.choice([1, 2, 4], n), 1)))
    moq = case_pack * rng.choice([1, 1, 2, 4], n)
    # life cycle
    launch = np.zeros(n, int)
    disc = np.full(n, n_days + 10_000, int)
    u = rng.random(n)
    new_recent = u < 0.06
    new_mid = (u >= 0.06) & (u < 0.14)
    discontinued = (u >= 0.14) & (u < 0.22)
    launch[new_recent] = rng.integers(max(1, n_days - 170), max(2, n_days - 30), new_recent.sum())
    launch[new_mid] = rng.integers(min(60, n_days // 4), max(61, n_days - 180), new_mid.sum())
    disc[discontinued] = rng.integers(min(150, n_days // 3), max(151, n_days - 30), discontinued.sum())
    status = np.where(new_recent, "new", np.where(discontinued, "discontinued", "active"))
    sup = it["supplier_idx"].to_numpy()
    lead_quoted = np.array([_SUPPLIERS[s][5] for s in sup], float)
    items = pd.DataFrame({
        "sku": it["sku"],
        "unit_cost": unit_cost,
        "price": price,  # replaced by the current list price after price changes
        "name": it["name"],
        "category": it["category"],
        "brand": it["brand"],
        "supplier": [_SUPPLIERS[s][0] for s in sup],
        "case_pack": case_pack.astype(int),
        "moq": moq.astype(int),
        "lead_time_days": lead_quoted,
        "holding_cost_rate_per_year": np.round(rng.uniform(0.18, 0.30, n), 3),
        "order_cost": np.round(rng.choice([30.0, 50.0, 80.0, 120.0], n), 2),
        "status": status,
    })
    aux = {
        "ci": it["ci"].to_numpy(), "sup": sup, "cls": cls, "cls_names": cls_names,
        "base": base, "launch": launch, "disc": disc,
        "return_rate": it["return_rate"].to_numpy(), "shrink_prob": it["shrink_prob"].to_numpy(),
        "price0": price,
    }
    return items, aux


# --------------------------------------------------------------------------------------
# Promotions
# --------------------------------------------------------------------------------------


def _schedule_promotions(rng, dates, info, aux, baseline, cat_names):
    """Plan the promotion calendar. Returns a list of dicts (day indices inclusive)."""
    S, T = baseline.shape
    ci = aux["ci"]
    line_busy = np.zeros((S, T + 40), bool)
    order_busy = np.zeros((len(cat_names), T + 40), bool)
    promos = []
    skus_all = np.arange(S)
    popularity = baseline.mean(axis=1)

    def active(s_idx, a, b):
        return (aux["launch"][s_idx] <= a - 14) & (aux["disc"][s_idx] > b + 30)

    def add(mech, a, b, skus, scope, level, d_eff, vis, **kw):
        a, b = max(a, 0), min(b, T - 1)
        if b < a or len(skus) == 0:
            return
        p = dict(mechanic=mech, a=a, b=b, skus=np.asarray(skus), scope=scope, level=level,
                 d_eff=d_eff, vis=vis, depth=np.nan, threshold=np.nan, reward=np.nan, tiers=None,
                 funding_share=0.0, fixed_cost=0.0, stock_cap=np.nan, name="")
        p.update(kw)
        if level == "line":
            line_busy[p["skus"], a:b + 21] = True
        else:
            cats = np.unique(ci[p["skus"]])
            order_busy[cats, a:b + 1] = True
        promos.append(p)

    def pick_skus(cat, a, b, k, weight_power=0.7):
        cand = skus_all[(ci == cat) & active(skus_all, a, b) & ~line_busy[:, max(a - 7, 0):b + 21].any(axis=1)]
        if len(cand) == 0:
            return cand
        w = popularity[cand] ** weight_power
        k = min(k, len(cand))
        return np.sort(rng.choice(cand, size=k, replace=False, p=w / w.sum()))

    def day(ts):
        ts = pd.Timestamp(ts)
        return int((ts - dates[0]).days)

    cat_of = {n: i for i, n in enumerate(cat_names)}
    for y in range(dates[0].year, dates[-1].year + 1):
        # 618: tiered 满减, sitewide, with flash sales on the day
        a, b = day(f"{y}-06-01"), day(f"{y}-06-18")
        if a >= 0 and b < T:
            add("threshold", a, b, skus_all, "all", "order", 0.10, 1.0, threshold=199.0, reward=20.0,
                tiers="199:20|399:50", funding_share=0.3, fixed_cost=8000.0, name=f"618 {y} 满199减20 满399减50")
            for cat in rng.choice(len(cat_names), 3, replace=False):
                s = pick_skus(cat, b, b, 1, 1.0)
                if len(s):
                    add("flash_sale", b, b, s, f"sku:{s[0]}", "line", 0.0, 1.4, depth=float(rng.choice([0.3, 0.4, 0.5])),
                        name=f"618 {y} flash sale")
        # Double 11: tiered 满减 during the presale and the day, flash sales on the day
        a, b = day(f"{y}-10-20"), day(f"{y}-11-11")
        if a >= 0 and b < T:
            add("threshold", a, b, skus_all, "all", "order", 0.15, 1.0, threshold=300.0, reward=50.0,
                tiers="300:50|600:120", funding_share=0.4, fixed_cost=20000.0, name=f"Double 11 {y} 满300减50 满600减120")
            for cat in rng.choice(len(cat_names), 4, replace=False):
                s = pick_skus(cat, b, b, 1, 1.0)
                if len(s):
                    add("flash_sale", b, b, s, f"sku:{s[0]}", "line", 0.0, 1.4, depth=float(rng.choice([0.3, 0.4, 0.5])),
                        name=f"Double 11 {y} flash sale")
        # Double 12: sitewide coupon
        a, b = day(f"{y}-12-10"), day(f"{y}-12-12")
        if a >= 0 and b < T:
            add("coupon", a, b, skus_all, "all", "order", 0.06, 1.0, threshold=199.0, reward=20.0,
                fixed_cost=3000.0, name=f"Double 12 {y} coupon 199-20")
        # Chinese New Year: snacks 15% off
        cny = pd.Timestamp(_CNY.get(y, f"{y}-02-05"))
        a, b = day(cny - pd.Timedelta(days=25)), day(cny - pd.Timedelta(days=9))
        if a >= 0 and b < T:
            s = skus_all[(ci == cat_of["snacks"]) & (aux["launch"] <= a) & (aux["disc"] > b)]
            s = s[~line_busy[s, a:b + 1].any(axis=1)]
            add("percent_off", a, b, s, "category:snacks", "line", 0.15, 1.05, depth=0.15,
                fixed_cost=2000.0, name=f"New Year snacks {y} 15% off")
    # monthly regular promotions
    months = pd.date_range(dates[0].to_period("M").to_timestamp(), dates[-1], freq="MS")
    for mi, m0 in enumerate(months):
        m_a = day(m0)
        for _ in range(3):  # single-SKU or small-group percent off
            length = int(rng.choice([5, 7, 10, 14]))
            a = m_a + int(rng.integers(0, 28 - min(length, 14) + 1))
            b = a + length - 1
            if a < 0 or b >= T - 14:
                continue
            cat = int(rng.integers(len(cat_names)))
            s = pick_skus(cat, a, b, int(rng.choice([1, 1, 2, 3])))
            if len(s):
                depth = float(rng.choice([0.1, 0.15, 0.2, 0.25, 0.3]))
                add("percent_off", a, b, s, "sku:" + "|".join(map(str, s)), "line", depth, 1.0, depth=depth,
                    fixed_cost=float(rng.choice([0.0, 500.0, 1000.0])), name=f"{int(depth * 100)}% off")
        if mi % 2 == 1:  # second item half price
            a = m_a + int(rng.integers(0, 21))
            b = a + 6
            cat = cat_of[str(rng.choice(["personal care", "home cleaning", "beverages", "snacks"]))]
            if a >= 0 and b < T - 14:
                s = pick_skus(cat, a, b, int(rng.choice([2, 3])))
                if len(s):
                    add("second_half_price", a, b, s, "sku:" + "|".join(map(str, s)), "line", 0.2, 1.05,
                        depth=0.5, name="second item half price")
        # flash sale on a single SKU
        a = m_a + int(rng.integers(0, 28))
        if 0 <= a < T - 14:
            cat = int(rng.integers(len(cat_names)))
            s = pick_skus(cat, a, a, 1, 1.0)
            if len(s):
                add("flash_sale", a, a, s, f"sku:{s[0]}", "line", 0.0, 1.4, depth=float(rng.choice([0.3, 0.4, 0.5])),
                    name="flash sale")
        if mi % 3 == 0:  # category 满减
            length = int(rng.choice([7, 10]))
            a = m_a + int(rng.integers(0, 18))
            b = a + length - 1
            cat = int(rng.integers(len(cat_names)))
            if a >= 0 and b < T - 14 and not order_busy[cat, a:b + 1].any():
                thr, rew = [(99.0, 10.0), (149.0, 20.0), (199.0, 30.0)][int(rng.integers(3))]
                cs = skus_all[ci == cat]
                add("threshold", a, b, cs, f"category:{cat_names[cat]}", "order", round(rew / thr, 3), 1.0,
                    threshold=thr, reward=rew, funding_share=float(rng.choice([0.0, 0.5])),
                    fixed_cost=1000.0, name=f"{cat_names[cat]} 满{int(thr)}减{int(rew)}")
        if mi % 2 == 0:  # category coupon
            a = m_a + int(rng.integers(0, 25))
            b = a + 2
            cat = int(rng.integers(len(cat_names)))
            if a >= 0 and b < T - 14 and not order_busy[cat, a:b + 1].any():
                cs = skus_all[ci == cat]
                add("coupon", a, b, cs, f"category:{cat_names[cat]}", "order", 0.05, 1.0, threshold=99.0,
                    reward=10.0, fixed_cost=200.0, name=f"{cat_names[cat]} coupon 99-10")
    promos.sort(key=lambda p: (p["a"], p["mechanic"], p["scope"]))
    for i, p in enumerate(promos):
        p["promo_id"] = f"PR{i + 1:04d}"
    return promos


# --------------------------------------------------------------------------------------
# Main generator
# --------------------------------------------------------------------------------------


def demo_shop(seed: int = 2026, n_skus: int = 300, years: int = 3, start: str = "2023-10-01") -> DemoShop:
    """Generate the demo shop: canonical tables and ground truth.

    Parameters
    ----------
    seed : int, default 2026
        Seed of ``numpy.random.default_rng``, the only source of randomness.
    n_skus : int, default 300
        Number of SKUs (spread over ten categories).
    years : int, default 3
        Length of the history [years]; the last day is the day before the
        same calendar date ``years`` later.
    start : str, default "2023-10-01"
        First day of the history (YYYY-MM-DD).

    Returns
    -------
    DemoShop
        ``workspace`` with the tables items, order_lines, stock,
        purchase_orders, promotions, calendar, traffic, returns,
        stock_movements and stock_counts (``demand`` is ``None``), and
        ``truth`` with the ground-truth tables.

    Notes
    -----
    Money is in CNY, quantities in units, lead times in days. ``stock.on_hand``
    is the book stock at the end of the day; physical stock is lower by the
    shrinkage not yet found by a stocktake (``truth["shrinkage"]``). Sales are
    limited by physical stock. ``purchase_orders.qty_received`` is the
    quantity accepted into stock; ``qty_rejected`` was delivered but refused
    at inspection and never entered stock.
    """
    if n_skus < 20:
        raise ValueError(f"n_skus must be at least 20 (ten categories); got {n_skus}")
    if years < 1:
        raise ValueError(f"years must be at least 1; got {years}")
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start)
    dates = pd.date_range(t0, t0 + pd.DateOffset(years=years) - pd.Timedelta(days=1), freq="D")
    T = len(dates)
    cat_names = [c[0] for c in _CATEGORIES]
    calendar, info = _calendar(dates)
    items, aux = _items(rng, n_skus, T)
    S = len(items)
    ci, sup = aux["ci"], aux["sup"]
    t = np.arange(T)

    # ---------------- baseline demand ----------------
    doy = dates.day_of_year.to_numpy()
    dow = dates.day_of_week.to_numpy()
    yearly = np.stack([_yearly_factor(c[7], doy) for c in _CATEGORIES])  # (C, T)
    event = _event_factor(dates, info, cat_names)  # (C, T)
    weekly = _WEEKDAY[dow]
    trend_rate = rng.normal(0.05, 0.15, S)  # per year
    trend = np.exp(np.outer(trend_rate, (t - T / 2) / 365.25))
    tt = t[None, :]
    launch, disc = aux["launch"][:, None], aux["disc"][:, None]
    ramp_days = rng.uniform(20, 60, S)[:, None]
    life = np.where(tt < launch, 0.0, np.where(launch > 0, 1 - np.exp(-(tt - launch + 1) / ramp_days), 1.0))
    fade = np.clip((disc - tt) / 120.0, 0.4, 1.0)
    life = np.where(tt >= disc, 0.0, life * np.where(aux["disc"][:, None] < T + 1000, fade, 1.0))
    # elasticity and list price changes
    elasticity = -np.exp(rng.normal(np.log(2.0), 0.33, S))
    elasticity = np.clip(elasticity, -4.0, -0.5)
    price0 = aux["price0"]
    price_path = np.repeat(price0[:, None], T, axis=1)
    change = rng.random(S) < 0.25
    change_day = rng.integers(min(60, T // 3), max(61, T - 60), S)
    change_factor = rng.choice([0.9, 1.05, 1.08, 1.1, 1.15], S)
    new_price = _round_price(price0 * change_factor)
    change &= (new_price != price0) & (change_day > aux["launch"] + 30) & (change_day < aux["disc"])
    price_path = np.where(change[:, None] & (tt >= change_day[:, None]), new_price[:, None], price_path)
    price_effect = (price_path / price0[:, None]) ** elasticity[:, None]
    baseline = (aux["base"][:, None] * trend * weekly[None, :] * yearly[ci] * event[ci] * life * price_effect)

    # ---------------- promotions and their effects ----------------
    promos = _schedule_promotions(rng, dates, info, aux, baseline, cat_names)
    line_lift = np.ones((S, T))
    line_pid = np.full((S, T), -1)
    order_lift = np.ones((S, T))
    order_pid = np.full((S, T), -1)
    cannib = np.ones((S, T))
    dip = np.ones((S, T))
    effects = []
    for k, p in enumerate(promos):
        a, b, sk = p["a"], p["b"], p["skus"]
        if p["mechanic"] in ("percent_off", "flash_sale"):
            p["d_eff"] = p["depth"]
        lift = (1 - p["d_eff"]) ** elasticity[sk] * p["vis"]
        if p["level"] == "line":
            line_lift[sk, a:b + 1] = lift[:, None]
            line_pid[sk, a:b + 1] = k
            eff_mask = np.ones((len(sk), b - a + 1), bool)
        else:
            free = line_pid[sk, a:b + 1] < 0
            order_lift[sk, a:b + 1] = np.where(free, lift[:, None], order_lift[sk, a:b + 1])
            order_pid[sk, a:b + 1] = np.where(free, k, order_pid[sk, a:b + 1])
            eff_mask = free
        base_w = (baseline[sk, a:b + 1] * eff_mask).sum(axis=1)
        bump = base_w * (lift - 1)
        # post-promotion dip (pull-forward): a share of the bump is missing afterwards
        dip_days = int(rng.integers(7, 15))
        phi = rng.uniform(0.10, 0.30, len(sk)) if p["level"] == "line" else rng.uniform(0.05, 0.15, len(sk))
        e = min(T, b + 1 + dip_days)
        base_d = baseline[sk, b + 1:e].sum(axis=1)
        dip_factor = np.where(base_d > 0, 1 - phi * bump / np.maximum(base_d, 1e-9), 1.0)
        dip_factor = np.clip(dip_factor, 0.5, 1.0)
        if e > b + 1:
            dip[sk, b + 1:e] *= dip_factor[:, None]
        # cannibalization of category siblings by single-SKU promotions
        gamma = np.full(len(sk), np.nan)
        if p["scope"].startswith("sku:"):
            g = rng.uniform(0.2, 0.4)
            gamma[:] = g
            cats = np.unique(ci[sk])
            sib = np.flatnonzero(np.isin(ci, cats) & ~np.isin(np.arange(S), sk))
            sib_base = baseline[sib, a:b + 1].sum()
            if sib_base > 0 and len(sib):
                factor = float(np.clip(1 - g * bump.sum() / sib_base, 0.6, 1.0))
                cannib[sib, a:b + 1] *= factor
                sib_w = baseline[sib, a:b + 1].sum(axis=1)
                effects.append(pd.DataFrame({
                    "promo_id": p["promo_id"], "sku": items["sku"].to_numpy()[sib], "role": "sibling",
                    "effective_depth": 0.0, "lift": factor, "cannibalization_share": np.nan,
                    "dip_days": 0, "dip_factor": 1.0, "baseline_units": sib_w,
                    "incremental_units": sib_w * (factor - 1)}))
        effects.append(pd.DataFrame({
            "promo_id": p["promo_id"], "sku": items["sku"].to_numpy()[sk], "role": "promoted",
            "effective_depth": p["d_eff"], "lift": lift, "cannibalization_share": gamma,
            "dip_days": e - b - 1, "dip_factor": dip_factor, "baseline_units": base_w,
            "incremental_units": bump}))
    own_lift = np.where(line_pid >= 0, line_lift, order_lift)
    mu = baseline * own_lift * cannib * dip

    # flash sale stock caps (known before the sale)
    for p in promos:
        if p["mechanic"] == "flash_sale":
            exp_units = mu[p["skus"], p["a"]:p["b"] + 1].sum()
            p["stock_cap"] = float(max(10, np.round(exp_units * rng.uniform(0.7, 1.1) / 10) * 10))

    # ---------------- realized demand ----------------
    cls = aux["cls"]
    names = np.array(aux["cls_names"])[cls]
    shape_k = np.where(names == "fast", rng.uniform(5, 20, S), rng.uniform(2, 8, S))
    lumpy = names == "lumpy"
    intermittent = names == "intermittent"
    lumpy_size = np.where(lumpy, rng.uniform(3, 8, S), 1.0)
    gam = rng.gamma(shape_k[:, None], 1 / shape_k[:, None], size=(S, T))
    lam = np.where(intermittent[:, None], mu, mu * gam)
    lam = np.where(lumpy[:, None], mu / lumpy_size[:, None], lam)
    n_occ = rng.poisson(lam)
    # lumpy sizes: n occurrences of 1 + NB(r=1.5, p) units each, mean lumpy_size
    r_nb = 1.5
    p_nb = r_nb / (r_nb + (lumpy_size - 1))
    extra = rng.negative_binomial(np.maximum(n_occ, 1) * r_nb, np.broadcast_to(p_nb[:, None], (S, T)))
    demand = np.where(lumpy[:, None], np.where(n_occ > 0, n_occ + extra, 0), n_occ).astype(np.int64)

    # ---------------- replenishment simulation ----------------
    sup_mean = np.array([s[1] for s in _SUPPLIERS])
    sup_cv = np.array([s[2] for s in _SUPPLIERS])
    sig2 = np.log1p(sup_cv ** 2)
    sup_logmu = np.log(sup_mean) - sig2 / 2
    sup_logsig = np.sqrt(sig2)
    n_sup = len(_SUPPLIERS)
    review_weekday = np.arange(n_sup) % 5  # Monday..Friday
    horizon = T + 400
    lt_base = np.maximum(1, np.round(np.exp(sup_logmu[:, None] + sup_logsig[:, None] * rng.standard_normal((n_sup, T))))).astype(int)
    working = ~np.concatenate([info["shutdown"], np.zeros(horizon - T, bool)])
    # cumulative working days; lead time counts working days of the supplier
    wcum = np.cumsum(working)
    arrival = np.empty((n_sup, T), int)
    for j in range(n_sup):
        target = wcum[:T] + lt_base[j]
        arr = np.searchsorted(wcum, target, side="left")
        arrival[j] = np.maximum(arr, t + lt_base[j])
    shutdown_delay = arrival - (t[None, :] + lt_base)

    L_nom = sup_mean[sup]
    L_sd = (sup_mean * sup_cv)[sup]
    R = 7
    z = rng.uniform(0.8, 2.2, S)
    var_daily = np.where(lumpy, aux["base"] * lumpy_size * 2.5, aux["base"] * (1 + aux["base"] / shape_k))
    cum_mu = np.concatenate([np.zeros((S, 1)), np.cumsum(np.concatenate([mu, np.repeat(mu[:, -1:], 400, axis=1)], axis=1), axis=1)], axis=1)
    hor_s = np.ceil(L_nom + R).astype(int)
    hor_r = np.ceil(L_nom).astype(int)
    exist = np.maximum(0, aux["launch"] - np.ceil(L_nom).astype(int) - 7)
    exist[aux["launch"] == 0] = 0
    stop_order = aux["disc"] - 60
    case_pack = items["case_pack"].to_numpy()
    moq = items["moq"].to_numpy()
    p_partial = np.array([s[3] for s in _SUPPLIERS])
    p_reject = np.array([s[4] for s in _SUPPLIERS])
    rr = np.arange(S)

    def order_up_to(day):
        d_s = cum_mu[rr, day + hor_s] - cum_mu[rr, day]
        d_r = cum_mu[rr, day + hor_r] - cum_mu[rr, day]
        mean_d = d_s / np.maximum(hor_s, 1)
        ss = z * np.sqrt(hor_s * var_daily * np.maximum(mean_d, 0.02) / np.maximum(aux["base"], 1e-9)
                         + (mean_d * L_sd) ** 2)
        s_level = d_r + ss
        S_level = d_s + ss
        return s_level, S_level

    _, S0 = order_up_to(0)
    opening = np.where(exist == 0, np.ceil(S0 * rng.uniform(0.6, 1.2, S)), 0).astype(np.int64)
    phys = opening.copy()
    book = opening.copy()
    on_order = np.zeros(S, np.int64)
    arrivals = np.zeros((S, horizon), np.int64)
    closes = np.zeros((S, horizon), np.int64)
    ret_in = np.zeros((S, horizon), np.int64)
    shrink_draw = (rng.random((S, T)) < aux["shrink_prob"][:, None]) * (1 + (rng.random((S, T)) < 0.2))
    sales = np.zeros((S, T), np.int64)
    book_end = np.zeros((S, T), np.int64)
    on_order_end = np.zeros((S, T), np.int64)
    adjust = np.zeros((S, T), np.int64)
    counted = np.full((S, T), -1, np.int64)
    shrink_lost = np.zeros((S, T), np.int64)
    ret_units = np.zeros((S, T), np.int64)
    ret_delay = np.zeros((S, T), np.int64)
    ret_restock = np.zeros((S, T), bool)
    restock_prob = np.where(ci == cat_names.index("apparel basics"), 0.85, 0.6)
    month_end = (dates + pd.Timedelta(days=1)).day == 1
    po_rows = []
    ret_rate = aux["return_rate"]
    for d in range(T):
        rec = arrivals[:, d]
        phys += rec + ret_in[:, d]
        book += rec + ret_in[:, d]
        on_order -= closes[:, d]
        sold = np.minimum(demand[:, d], phys)
        phys -= sold
        book -= sold
        sales[:, d] = sold
        lost = np.minimum(shrink_draw[:, d], phys)
        phys -= lost
        shrink_lost[:, d] = lost
        if month_end[d]:
            m = dates[d].month
            sel = (exist <= d) & ((rr % 3 == m % 3) | (m == 12))
            adjust[sel, d] = phys[sel] - book[sel]
            counted[sel, d] = phys[sel]
            book[sel] = phys[sel]
        # customer returns of today's sales, back in stock after the delay if resellable
        r = rng.binomial(sold, ret_rate)
        delay = 1 + rng.poisson(np.where(ci == cat_names.index("apparel basics"), 7, 5))
        restock = rng.random(S) < restock_prob
        ret_units[:, d] = r
        ret_delay[:, d] = delay
        ret_restock[:, d] = restock
        np.add.at(ret_in, (rr, d + delay), np.where(restock, r, 0))
        # periodic review (R, s, S) per supplier review weekday
        rev = (review_weekday[sup] == dow[d]) & (exist <= d) & (d < stop_order)
        if rev.any():
            s_level, S_level = order_up_to(d)
            ip = book + on_order
            need = rev & (ip <= s_level) & (S_level > 0.3)
            if need.any():
                q = np.maximum(np.ceil(S_level - ip), moq)
                q = (np.ceil(q / case_pack) * case_pack).astype(np.int64)
                idx = np.flatnonzero(need)
                q = q[idx]
                js = sup[idx]
                arr = arrival[js, d]
                partial = rng.random(len(idx)) < p_partial[js]
                frac = rng.uniform(0.5, 0.95, len(idx))
                delivered = np.where(partial, np.maximum(1, np.floor(q * frac)), q).astype(np.int64)
                rejecting = rng.random(len(idx)) < p_reject[js]
                rejected = np.where(rejecting, rng.binomial(delivered, rng.uniform(0.05, 0.3, len(idx))), 0)
                accepted = delivered - rejected
                on_order[idx] += q
                np.add.at(arrivals, (idx, arr), accepted)
                np.add.at(closes, (idx, arr), q)
                po_rows.append(np.column_stack([np.full(len(idx), d), idx, js, q, arr, accepted, rejected,
                                                lt_base[js, d], shutdown_delay[js, d]]))
        book_end[:, d] = book
        on_order_end[:, d] = on_order

    # ---------------- purchase orders ----------------
    po = pd.DataFrame(np.concatenate(po_rows), columns=["d", "s", "j", "q", "arr", "acc", "rej", "lt", "sd"])
    po = po.sort_values(["d", "j", "s"], kind="stable").reset_index(drop=True)
    sku_arr = items["sku"].to_numpy()
    sup_code = np.array([f"{j + 1:02d}" for j in range(n_sup)])
    po_id = (pd.Series(dates[po["d"]].strftime("PO%y%m%d")) + "-" + pd.Series(sup_code[po["j"]])).to_numpy()
    open_ = po["arr"].to_numpy() >= T
    quoted = np.array([s[5] for s in _SUPPLIERS])
    purchase_orders = pd.DataFrame({
        "po_id": po_id,
        "sku": sku_arr[po["s"]],
        "supplier": np.array([s[0] for s in _SUPPLIERS])[po["j"]],
        "order_date": dates[po["d"]],
        "qty_ordered": po["q"].to_numpy(float),
        "expected_date": dates[po["d"]] + pd.to_timedelta(quoted[po["j"]], unit="D"),
        "receipt_date": pd.DatetimeIndex(np.where(open_, np.datetime64("NaT"), (dates[0] + pd.to_timedelta(np.minimum(po["arr"], T - 1), unit="D")).to_numpy())),
        "qty_received": np.where(open_, np.nan, po["acc"].to_numpy(float)),
        "qty_rejected": np.where(open_, np.nan, po["rej"].to_numpy(float)),
    })
    po_truth = pd.DataFrame({
        "po_id": po_id, "sku": sku_arr[po["s"]],
        "supplier": purchase_orders["supplier"].to_numpy(),
        "base_lead_time_days": po["lt"].to_numpy(), "shutdown_delay_days": po["sd"].to_numpy(),
        "partial_delivery": (po["acc"] + po["rej"] < po["q"]).to_numpy(),
    })

    # ---------------- order lines ----------------
    order_lines, line_units = _order_lines(rng, sales, dates, info, items, aux, promos, line_pid, order_pid,
                                           price_path, lumpy)
    # ---------------- returns ----------------
    returns, ret_mov = _returns(rng, order_lines, line_units, ret_units, ret_delay, ret_restock, dates, sku_arr)

    # ---------------- stock, movements, counts ----------------
    ss_, dd_ = np.nonzero(tt >= exist[:, None])
    stock = pd.DataFrame({
        "sku": sku_arr[ss_], "date": dates[dd_],
        "on_hand": book_end[ss_, dd_].astype(float), "on_order": on_order_end[ss_, dd_].astype(float),
    })
    rec_po = purchase_orders[~open_ & (po["acc"].to_numpy() > 0)]
    mov = [
        pd.DataFrame({"date": rec_po["receipt_date"].to_numpy(), "sku": rec_po["sku"].to_numpy(),
                      "kind": "receipt", "qty": rec_po["qty_received"].to_numpy(), "reference": rec_po["po_id"].to_numpy()}),
    ]
    s_i, d_i = np.nonzero(sales)
    mov.append(pd.DataFrame({"date": dates[d_i], "sku": sku_arr[s_i], "kind": "shipment",
                             "qty": -sales[s_i, d_i].astype(float), "reference": None}))
    mov.append(ret_mov)
    s_i, d_i = np.nonzero(adjust)
    mov.append(pd.DataFrame({"date": dates[d_i], "sku": sku_arr[s_i], "kind": "adjustment",
                             "qty": adjust[s_i, d_i].astype(float), "reference": "stocktake"}))
    kind_order = {"receipt": 0, "return": 1, "shipment": 2, "adjustment": 3}
    stock_movements = pd.concat(mov, ignore_index=True)
    stock_movements["_k"] = stock_movements["kind"].map(kind_order)
    stock_movements = (stock_movements.sort_values(["date", "sku", "_k", "reference"], kind="stable", na_position="first")
                       .drop(columns="_k").reset_index(drop=True))
    s_i, d_i = np.nonzero(counted >= 0)
    o = np.lexsort((s_i, d_i))
    s_i, d_i = s_i[o], d_i[o]
    stock_counts = pd.DataFrame({"sku": sku_arr[s_i], "date": dates[d_i],
                                 "counted_qty": counted[s_i, d_i].astype(float),
                                 "counter": _COUNTERS[rng.integers(len(_COUNTERS), size=len(s_i))]})
    # shrinkage truth: each loss and the stocktake that found it
    s_i, d_i = np.nonzero(shrink_lost)
    count_days = [np.flatnonzero(counted[s] >= 0) for s in range(S)]
    found = np.array([
        (lambda c: c[np.searchsorted(c, d)] if np.searchsorted(c, d) < len(c) else -1)(count_days[s])
        for s, d in zip(s_i, d_i)
    ], dtype=int) if len(s_i) else np.zeros(0, int)
    shrinkage = pd.DataFrame({
        "sku": sku_arr[s_i], "date": dates[d_i], "units_lost": shrink_lost[s_i, d_i].astype(float),
        "discovered_date": pd.DatetimeIndex(np.where(found >= 0, dates[np.maximum(found, 0)].to_numpy(), np.datetime64("NaT"))),
    }).sort_values(["date", "sku"], kind="stable").reset_index(drop=True)

    # ---------------- traffic ----------------
    n_orders = order_lines.groupby(order_lines["order_ts"].dt.normalize())["order_id"].nunique()
    n_orders = n_orders.reindex(dates, fill_value=0).to_numpy()
    conv = 0.03 * np.exp(rng.normal(0, 0.08, T))
    fest = np.zeros(T, bool)
    fest[info["festival_days"]] = True
    conv = np.where(fest, conv * 1.3, conv)
    sessions = np.round(np.maximum(n_orders, 1) / conv).astype(np.int64)
    visitors = np.round(sessions / rng.uniform(1.25, 1.45, T)).astype(np.int64)
    traffic = pd.DataFrame({"date": dates, "sessions": sessions, "visitors": visitors})

    # ---------------- promotions table ----------------
    promotions = pd.DataFrame({
        "promo_id": [p["promo_id"] for p in promos],
        "mechanic": [p["mechanic"] for p in promos],
        "start": dates[[p["a"] for p in promos]],
        "end": dates[[p["b"] for p in promos]],
        "scope": [_scope_text(p, sku_arr) for p in promos],
        "depth": [p["depth"] for p in promos],
        "threshold": [p["threshold"] for p in promos],
        "reward": [p["reward"] for p in promos],
        "tiers": [p["tiers"] for p in promos],
        "funding_share": [p["funding_share"] for p in promos],
        "fixed_cost": [p["fixed_cost"] for p in promos],
        "stock_cap": [p["stock_cap"] for p in promos],
        "name": [p["name"] for p in promos],
    })

    # ---------------- items: current list price ----------------
    items["price"] = price_path[:, -1]

    # ---------------- truth ----------------
    launch_d = pd.DatetimeIndex([dates[x] if 0 < x < T else pd.NaT for x in aux["launch"]])
    disc_d = pd.DatetimeIndex([dates[x] if x < T else pd.NaT for x in aux["disc"]])
    s_i, d_i = np.nonzero(tt >= exist[:, None])
    true_demand = pd.DataFrame({
        "sku": sku_arr[s_i], "date": dates[d_i], "units": demand[s_i, d_i],
        "expected_units": mu[s_i, d_i], "baseline_units": baseline[s_i, d_i],
    })
    elasticities = pd.DataFrame({
        "sku": sku_arr, "elasticity": elasticity, "reference_price": price0,
        "demand_class": names, "base_units_per_day": aux["base"], "trend_per_year": trend_rate,
        "dispersion_shape": np.where(intermittent | lumpy, np.nan, shape_k),
        "lumpy_mean_size": np.where(lumpy, lumpy_size, np.nan),
        "ramp_up_days": np.where(aux["launch"] > 0, ramp_days[:, 0], np.nan),
        "launch_date": launch_d, "discontinue_date": disc_d,
    })
    supplier_lead_times = _supplier_truth(sup_logmu, sup_logsig, review_weekday, p_partial, p_reject, quoted)
    pc = np.flatnonzero(change)
    price_changes = pd.DataFrame({"sku": sku_arr[pc], "date": dates[change_day[pc]],
                                  "old_price": price0[pc], "new_price": new_price[pc]})
    seasonality = pd.DataFrame({
        "date": np.tile(dates, len(cat_names)),
        "category": np.repeat(cat_names, T),
        "weekday_factor": np.tile(weekly, len(cat_names)),
        "yearly_factor": yearly.ravel(),
        "event_factor": event.ravel(),
    })
    sku_operations = pd.DataFrame({
        "sku": sku_arr, "review_period_days": R, "review_weekday": review_weekday[sup],
        "safety_factor": z, "opening_on_hand": opening.astype(float),
        "first_stock_date": dates[exist], "stop_ordering_date": pd.DatetimeIndex([dates[x] if 0 <= x < T else pd.NaT for x in stop_order]),
        "return_rate": ret_rate, "restock_probability": restock_prob,
        "shrink_probability_per_day": aux["shrink_prob"],
    })
    promo_effects = pd.concat(effects, ignore_index=True)
    promo_effects["lift"] = promo_effects["lift"].astype(float)
    truth = {
        "true_demand": true_demand,
        "elasticities": elasticities,
        "promo_effects": promo_effects,
        "supplier_lead_times": supplier_lead_times,
        "purchase_order_lead_times": po_truth,
        "shrinkage": shrinkage,
        "price_changes": price_changes,
        "seasonality": seasonality,
        "sku_operations": sku_operations,
    }
    ws = Workspace(items=items, order_lines=order_lines, stock=stock, purchase_orders=purchase_orders,
                   promotions=promotions, calendar=calendar, traffic=traffic, returns=returns,
                   stock_movements=stock_movements, stock_counts=stock_counts, name="demo shop")
    return DemoShop(ws, truth, dict(seed=seed, n_skus=n_skus, years=years, start=start))


def _scope_text(p, sku_arr):
    if p["scope"].startswith("sku:"):
        return "sku:" + "|".join(sku_arr[p["skus"]])
    return p["scope"]


def _supplier_truth(logmu, logsig, review_weekday, p_partial, p_reject, quoted):
    """Exact mean and std of the rounded lognormal lead time, per supplier."""
    rows = []
    k = np.arange(1, 400)
    for j, s in enumerate(_SUPPLIERS):
        dist = stats.lognorm(s=logsig[j], scale=np.exp(logmu[j]))
        upper = dist.cdf(k + 0.5)
        lower = np.where(k == 1, 0.0, dist.cdf(k - 0.5))
        pk = upper - lower
        mean = float((k * pk).sum())
        std = float(np.sqrt(((k - mean) ** 2 * pk).sum()))
        rows.append({
            "supplier": s[0], "distribution": "lognormal, rounded to whole days, at least 1",
            "log_mean": logmu[j], "log_sd": logsig[j],
            "lognormal_mean_days": s[1], "lognormal_cv": s[2],
            "mean_days": mean, "std_days": std,
            "quoted_lead_time_days": float(quoted[j]), "review_weekday": int(review_weekday[j]),
            "partial_delivery_probability": s[3], "rejection_probability": s[4],
        })
    return pd.DataFrame(rows)


def _order_lines(rng, sales, dates, info, items, aux, promos, line_pid, order_pid, price_path, lumpy):
    """Split daily sales into order lines, group them into orders and price them."""
    S, T = sales.shape
    sku_arr = items["sku"].to_numpy()
    flat = np.flatnonzero(sales.ravel())
    n_u = sales.ravel()[flat]
    unit_cell = np.repeat(flat, n_u)
    first = np.zeros(len(unit_cell), bool)
    first[np.concatenate([[0], np.cumsum(n_u)[:-1]])] = True
    s_u, d_u = np.divmod(unit_cell, T)
    p_new = np.where(lumpy[s_u], 0.15, 0.72)
    pid_u = line_pid[s_u, d_u]
    mech = np.array([p["mechanic"] for p in promos] + ["none"])
    p_new = np.where(mech[pid_u] == "second_half_price", 0.35, p_new)
    brk = first | (rng.random(len(unit_cell)) < p_new)
    line_of_unit = np.cumsum(brk) - 1
    l_s, l_d = s_u[brk], d_u[brk]
    l_q = np.bincount(line_of_unit).astype(np.int64)
    n_l = len(l_q)
    # group lines into orders within each day; bigger baskets during sitewide offers
    key = rng.random(n_l)
    o = np.lexsort((key, l_d))
    l_s, l_d, l_q = l_s[o], l_d[o], l_q[o]
    sitewide = np.zeros(T, bool)
    for p in promos:
        if p["scope"] == "all":
            sitewide[p["a"]:p["b"] + 1] = True
    p_brk = np.where(sitewide[l_d], 1 / 2.6, 1 / 1.6)
    day_first = np.r_[True, l_d[1:] != l_d[:-1]]
    obrk = day_first | (rng.random(n_l) < p_brk)
    order_idx = np.cumsum(obrk) - 1
    n_o = order_idx[-1] + 1
    o_d = l_d[obrk]
    # order timestamps
    fest = np.zeros(T, bool)
    fest[info["d11"] + info["d618"]] = True
    hp = _HOURS / _HOURS.sum()
    hpf = _HOURS_FESTIVAL / _HOURS_FESTIVAL.sum()
    hour = np.where(fest[o_d], rng.choice(24, n_o, p=hpf), rng.choice(24, n_o, p=hp))
    secs = hour * 3600 + rng.integers(0, 3600, n_o)
    o_ts = dates[o_d] + pd.to_timedelta(secs, unit="s")
    # order ids: by day and time
    oo = np.lexsort((np.arange(n_o), secs, o_d))
    rank = np.empty(n_o, int)
    rank[oo] = np.arange(n_o)
    day_start = np.searchsorted(o_d[oo], np.arange(T))
    seq = rank - day_start[o_d] + 1
    o_id = (pd.Series(dates[o_d].strftime("SO%y%m%d")) + pd.Series(seq).astype(str).str.zfill(5)).to_numpy()
    # customers: a growing base with heavy repeat buyers
    n_c = max(50, n_o // 3)
    arr_day = np.where(rng.random(n_c) < 0.3, 0, rng.integers(0, T, n_c))
    arr_day = np.sort(arr_day)
    prop = rng.gamma(0.8, 1.0, n_c) + 1e-3
    cum = np.cumsum(prop)
    n_el = np.searchsorted(arr_day, o_d, side="right")
    cust = np.searchsorted(cum, rng.random(n_o) * cum[n_el - 1], side="right")
    cust = np.minimum(cust, n_el - 1)
    pref = rng.choice(3, n_c, p=[0.55, 0.30, 0.15])
    chan = np.where(rng.random(n_o) < 0.85, pref[cust], rng.choice(3, n_o, p=[0.55, 0.30, 0.15]))
    cust_id = np.char.add("C", np.char.zfill(cust.astype(str), 6))
    # aggregate (order, sku)
    df = pd.DataFrame({"o": order_idx, "s": l_s, "d": l_d, "q": l_q})
    df = df.groupby(["o", "s", "d"], as_index=False, sort=True)["q"].sum()
    o_arr, s_arr, d_arr, q_arr = (df[c].to_numpy() for c in ("o", "s", "d", "q"))
    list_price = price_path[s_arr, d_arr]
    gross = q_arr * list_price
    paid = gross.copy()
    promo_tag = np.full(len(df), -1)
    lp = line_pid[s_arr, d_arr]
    # flash sales: the first units up to the cap sell at the flash price
    for k, p in enumerate(promos):
        m = lp == k
        if not m.any():
            continue
        idx = np.flatnonzero(m)
        if p["mechanic"] == "percent_off":
            paid[idx] = gross[idx] * (1 - p["depth"])
            promo_tag[idx] = k
        elif p["mechanic"] == "flash_sale":
            idx = idx[np.lexsort((idx, secs[o_arr[idx]], d_arr[idx]))]
            within = np.cumsum(q_arr[idx]) <= p["stock_cap"]
            idx = idx[within]
            paid[idx] = gross[idx] * (1 - p["depth"])
            promo_tag[idx] = k
        elif p["mechanic"] == "second_half_price":
            idx = idx[q_arr[idx] >= 2]
            paid[idx] = gross[idx] - (q_arr[idx] // 2) * 0.5 * list_price[idx]
            promo_tag[idx] = k
    paid = np.round(paid, 2)
    # order-level offers: 满减 (tiered) and coupons on eligible lines
    op = np.where(lp < 0, order_pid[s_arr, d_arr], -1)
    for k, p in enumerate(promos):
        m = op == k
        if not m.any():
            continue
        idx = np.flatnonzero(m)
        sub = pd.Series(paid[idx]).groupby(o_arr[idx]).transform("sum").to_numpy()
        tiers = [(p["threshold"], p["reward"])]
        if p["tiers"]:
            tiers = [tuple(map(float, x.split(":"))) for x in p["tiers"].split("|")]
        reward = np.zeros(len(idx))
        for thr, rew in sorted(tiers):
            reward = np.where(sub >= thr, rew, reward)
        if p["mechanic"] == "coupon":
            orders_k = np.unique(o_arr[idx])
            redeem = pd.Series(rng.random(len(orders_k)) < 0.6, index=orders_k)
            reward = np.where(redeem.reindex(o_arr[idx]).to_numpy(), reward, 0.0)
        ok = reward > 0
        idx, sub, reward = idx[ok], sub[ok], reward[ok]
        if len(idx) == 0:
            continue
        alloc = np.maximum(np.round(reward * paid[idx] / sub, 2), 0.01)
        # put the rounding remainder on the largest line of each order
        tot = pd.Series(alloc).groupby(o_arr[idx]).transform("sum").to_numpy()
        big = pd.Series(paid[idx]).groupby(o_arr[idx]).transform("max").to_numpy() == paid[idx]
        big &= ~pd.Series(big).groupby(o_arr[idx]).cumsum().gt(1).to_numpy()
        alloc = np.where(big, alloc + np.round(reward - tot, 2), alloc)
        paid[idx] = np.round(paid[idx] - alloc, 2)
        promo_tag[idx] = k
    pid_text = np.array([p["promo_id"] for p in promos] + [None], dtype=object)
    ol = pd.DataFrame({
        "order_id": o_id[o_arr],
        "order_ts": o_ts[o_arr],
        "sku": sku_arr[s_arr],
        "qty": q_arr.astype(np.int64),
        "paid_amount": paid,
        "customer_id": cust_id[cust[o_arr]],
        "list_price": list_price,
        "channel": _CHANNELS[chan[o_arr]],
        "promo_id": pid_text[promo_tag],
    })
    ol["_s"], ol["_d"] = s_arr, d_arr
    ol = ol.sort_values(["order_ts", "order_id", "sku"], kind="stable").reset_index(drop=True)
    line_units = ol[["_s", "_d", "qty"]].to_numpy()
    ol = ol.drop(columns=["_s", "_d"])
    return ol, line_units


def _returns(rng, order_lines, line_units, ret_units, ret_delay, ret_restock, dates, sku_arr):
    """Assign each SKU-day's returned units to its order lines."""
    T = len(dates)
    s, d, q = line_units[:, 0], line_units[:, 1], line_units[:, 2]
    r_cell = ret_units[s, d]
    cand = np.flatnonzero(r_cell > 0)
    empty_ret = pd.DataFrame({"order_id": pd.Series([], dtype=object), "sku": pd.Series([], dtype=object),
                              "qty": pd.Series([], dtype=np.int64), "return_date": pd.DatetimeIndex([]),
                              "reason": pd.Series([], dtype=object)})
    empty_mov = pd.DataFrame({"date": pd.DatetimeIndex([]), "sku": pd.Series([], dtype=object), "kind": "return",
                              "qty": pd.Series([], dtype=float), "reference": pd.Series([], dtype=object)})
    if len(cand) == 0:
        return empty_ret, empty_mov
    unit_line = np.repeat(cand, q[cand])
    cell = s[unit_line] * T + d[unit_line]
    key = rng.random(len(unit_line))
    o = np.lexsort((key, cell))
    unit_line, cell = unit_line[o], cell[o]
    start = np.r_[True, cell[1:] != cell[:-1]]
    grp_start = np.flatnonzero(start)
    rank = np.arange(len(cell)) - np.repeat(grp_start, np.diff(np.r_[grp_start, len(cell)]))
    chosen = rank < r_cell[unit_line]
    per_line = np.bincount(unit_line[chosen], minlength=len(q))
    li = np.flatnonzero(per_line)
    rd = d[li] + ret_delay[s[li], d[li]]
    keep = rd < T
    li, rd = li[keep], rd[keep]
    restock = ret_restock[s[li], d[li]]
    reason = np.where(restock, _RETURN_REASONS_RESTOCK[rng.integers(3, size=len(li))],
                      _RETURN_REASONS_SCRAP[rng.integers(2, size=len(li))])
    ret = pd.DataFrame({
        "order_id": order_lines["order_id"].to_numpy()[li],
        "sku": order_lines["sku"].to_numpy()[li],
        "qty": per_line[li].astype(np.int64),
        "return_date": dates[rd],
        "reason": reason,
    })
    mov = pd.DataFrame({"date": ret["return_date"].to_numpy()[restock], "sku": ret["sku"].to_numpy()[restock],
                        "kind": "return", "qty": ret["qty"].to_numpy()[restock].astype(float),
                        "reference": ret["order_id"].to_numpy()[restock]})
    ret = ret.sort_values(["return_date", "order_id", "sku"], kind="stable").reset_index(drop=True)
    return ret, mov


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def _fixed(values, decimals: int) -> pd.Series:
    """Fixed-point text of floats (``decimals`` digits), missing values as None."""
    v = np.asarray(values, float)
    fin = np.isfinite(v)
    scale = 10 ** decimals
    scaled = np.round(np.where(fin, v, 0.0) * scale).astype(np.int64)
    neg = scaled < 0
    a = np.abs(scaled)
    text = pd.Series(a // scale).astype(str) + "." + pd.Series(a % scale).astype(str).str.zfill(decimals)
    text = text.where(~neg, "-" + text)
    return text.astype(object).where(fin, None)


def _format_for_csv(df: pd.DataFrame) -> pd.DataFrame:
    """Deterministic text form of a table.

    Dates as YYYY-MM-DD, timestamps as YYYY-MM-DD HH:MM:SS, money with 2
    decimals, whole-number floats as integers, other floats with 4 decimals.
    """
    out = {}
    for c in df.columns:
        s = df[c].reset_index(drop=True)
        if pd.api.types.is_datetime64_any_dtype(s):
            fmt = "%Y-%m-%d %H:%M:%S" if c.endswith("_ts") else "%Y-%m-%d"
            out[c] = s.dt.strftime(fmt).astype(object).where(s.notna(), None)
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_integer_dtype(s):
            out[c] = s
        elif pd.api.types.is_float_dtype(s):
            v = s.to_numpy(float)
            finite = v[np.isfinite(v)]
            if c in _MONEY_COLUMNS:
                out[c] = _fixed(v, 2)
            elif np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
                text = pd.Series(np.where(np.isfinite(v), v, 0).astype(np.int64)).astype(str)
                out[c] = text.astype(object).where(np.isfinite(v), None)
            else:
                out[c] = _fixed(v, 4)
        else:
            out[c] = s
    return pd.DataFrame(out)


def _write_table(df: pd.DataFrame, file: Path) -> None:
    """Write one table as CSV, gzip-compressed (no timestamp in the header) for ``.gz``."""
    data = _format_for_csv(df).to_csv(index=False, na_rep="", lineterminator="\n").encode("utf-8")
    with open(file, "wb") as fh:
        if file.name.endswith(".gz"):
            with gzip.GzipFile(filename=file.name[:-3], mode="wb", fileobj=fh, mtime=0, compresslevel=6) as gz:
                gz.write(data)
        else:
            fh.write(data)


def write_demo_shop(path, seed: int = 2026, n_skus: int = 300, years: int = 3,
                    start: str = "2023-10-01") -> DemoShop:
    """Generate the demo shop and write it as CSV files.

    Parameters
    ----------
    path : str or os.PathLike
        Folder to write into (created if missing). Tables go to
        ``path/<table>.csv`` or ``path/<table>.csv.gz`` (see
        :data:`DEMO_FILE_NAMES`), the ground truth to ``path/ground_truth/``
        together with a README.md describing it.
    seed, n_skus, years, start
        As in :func:`demo_shop`.

    Returns
    -------
    DemoShop
        The generated shop (the in-memory tables, not re-read from disk).

    Notes
    -----
    Files are deterministic: gzip headers carry no timestamp, money is rounded
    to 2 decimals [CNY], other non-integer floats to 4 decimals, dates are
    written as YYYY-MM-DD and timestamps as YYYY-MM-DD HH:MM:SS.
    """
    path = Path(path)
    shop = demo_shop(seed=seed, n_skus=n_skus, years=years, start=start)
    path.mkdir(parents=True, exist_ok=True)
    (path / "ground_truth").mkdir(exist_ok=True)
    for name, file in DEMO_FILE_NAMES.items():
        _write_table(shop.workspace[name], path / file)
    for name, file in _TRUTH_FILE_NAMES.items():
        _write_table(shop.truth[name], path / "ground_truth" / file)
    (path / "ground_truth" / "README.md").write_text(_TRUTH_README, encoding="utf-8")
    return shop


_TRUTH_README = """\
# Demo shop ground truth

What the generator (`opslib.data.demo.demo_shop`) used to produce the tables one folder up.
Compare estimates against these files. Money in CNY, quantities in units, times in days.

- `true_demand.csv.gz`: one row per SKU and day from the day the SKU first has stock rows.
  `units` is the realized, unconstrained demand (before stock-outs censored it; sales =
  min(units, physical stock)); `expected_units` is its mean including all promotion effects;
  `baseline_units` is the mean without promotion effects (trend, weekly, yearly, events, life
  cycle and list-price changes included).
- `elasticities.csv`: per SKU: the true price `elasticity` (promotion lift of an effective
  depth d is (1-d)^elasticity times the mechanic's visibility factor), `reference_price` (list
  price at the start), `demand_class` (fast, medium, slow, intermittent, lumpy),
  `base_units_per_day`, `trend_per_year` (log growth), `dispersion_shape` (gamma shape of the
  gamma-Poisson mixture for smooth classes), `lumpy_mean_size` (mean units per occurrence),
  `ramp_up_days` (time constant of new items), `launch_date`, `discontinue_date`.
- `promo_effects.csv.gz`: per promotion and SKU. `role` = promoted: `lift` is the demand
  multiplier on promotion days, `effective_depth` the depth the lift is based on,
  `cannibalization_share` the share of the bump taken from category siblings (single-SKU
  promotions), `dip_days` and `dip_factor` the post-promotion dip (demand multiplier on the
  days after the end), `baseline_units` and `incremental_units` the expected window baseline and
  bump. `role` = sibling: `lift` is the cannibalization multiplier applied to that SKU during
  the window. Order-level offers (threshold, coupon) lift only SKUs without a line-level promotion
  on that day.
- `supplier_lead_times.csv`: per supplier: lognormal lead time (`log_mean`, `log_sd`), rounded
  to whole days and at least 1 day; `mean_days` and `std_days` are those of the rounded
  distribution. Lead times count working days: supplier shutdown days (Chinese New Year) add to
  them. Also the quoted lead time, review weekday (0 = Monday), partial-delivery and rejection
  probabilities.
- `purchase_order_lead_times.csv.gz`: per PO line: sampled `base_lead_time_days`, the
  `shutdown_delay_days` added by supplier shutdowns, and whether it was delivered short.
- `shrinkage.csv.gz`: unrecorded stock losses (theft, damage): `units_lost` on `date`, found and
  booked as an adjustment at the stocktake of `discovered_date` (empty if never counted). Physical
  stock = book on_hand minus the losses not yet discovered.
- `price_changes.csv`: permanent list-price changes (`old_price` until the day before `date`).
- `seasonality.csv.gz`: per category and day: `weekday_factor`, `yearly_factor`, `event_factor`
  (festivals, holidays, Chinese New Year logistics stop and pre-festival stocking).
- `sku_operations.csv`: the replenishment policy used: periodic review (R, s, S) every
  `review_period_days` on `review_weekday`, safety factor `safety_factor`, `opening_on_hand`
  (stock before the first day), `first_stock_date`, `stop_ordering_date` (discontinued items),
  `return_rate`, `restock_probability` (share of return batches resellable),
  `shrink_probability_per_day`.
"""
