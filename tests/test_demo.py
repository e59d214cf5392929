"""Tests of the demo shop generator (opslib.data.demo).

The shipped files in data/demo must equal a fresh generation; the invariants of the
simulation (censoring, stock identity, promotion tagging, returns) are checked on a
small shop; the distributional properties on the full default shop.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from opslib.data.demo import DEMO_FILE_NAMES, DemoShop, demo_shop, write_demo_shop

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "demo"


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[DemoShop, Path]:
    """The default shop, written to a temporary folder."""
    path = tmp_path_factory.mktemp("demo")
    return write_demo_shop(path), path


@pytest.fixture(scope="module")
def small() -> DemoShop:
    return demo_shop(seed=7, n_skus=80, years=2, start="2024-01-01")


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _physical_on_hand(shop: DemoShop) -> pd.Series:
    """Book on_hand minus the shrinkage not yet discovered, by (sku, date)."""
    stock = shop.workspace.stock.set_index(["sku", "date"])["on_hand"]
    sh = shop.truth["shrinkage"]
    delta = pd.concat([
        pd.DataFrame({"sku": sh["sku"], "date": sh["date"], "d": sh["units_lost"]}),
        pd.DataFrame({"sku": sh["sku"], "date": sh["discovered_date"], "d": -sh["units_lost"]}).dropna(),
    ]).groupby(["sku", "date"])["d"].sum()
    outstanding = delta.reindex(stock.index, fill_value=0.0).groupby(level="sku").cumsum()
    return stock - outstanding


# ------------------------------------------------------------------ reproduction


def test_shipped_files_equal_fresh_generation(full):
    _, path = full
    assert SHIPPED.is_dir(), "data/demo is missing: run opslib.data.demo.write_demo_shop('data/demo')"
    fresh = sorted(p.relative_to(path) for p in path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*") if p.is_file())
    assert fresh == shipped
    for rel in fresh:
        assert _read(path / rel) == _read(SHIPPED / rel), f"{rel} differs from a fresh generation"


def test_same_seed_same_tables_and_other_seed_differs():
    a = demo_shop(seed=3, n_skus=30, years=1)
    b = demo_shop(seed=3, n_skus=30, years=1)
    c = demo_shop(seed=4, n_skus=30, years=1)
    for name, table in a.workspace.tables().items():
        pd.testing.assert_frame_equal(table, b.workspace[name])
    assert not a.workspace.order_lines["qty"].equals(c.workspace.order_lines["qty"])


def test_files_read_back_with_plain_pandas(full):
    _, path = full
    for name, file in DEMO_FILE_NAMES.items():
        df = pd.read_csv(path / file)
        assert len(df) > 0, name
    ol = pd.read_csv(path / DEMO_FILE_NAMES["order_lines"], parse_dates=["order_ts"])
    assert ol.duplicated(["order_id", "sku"]).sum() == 0
    assert (ol["paid_amount"] >= 0).all()


# ------------------------------------------------------------------ invariants (small shop)


def test_sales_never_exceed_demand_and_fall_short_only_on_stockouts(small):
    ol = small.workspace.order_lines
    sales = ol.groupby(["sku", ol["order_ts"].dt.normalize().rename("date")])["qty"].sum()
    td = small.truth["true_demand"].set_index(["sku", "date"])["units"]
    sales = sales.reindex(td.index, fill_value=0)
    assert sales.index.equals(td.index)
    assert (sales <= td).all()
    short = sales < td
    assert short.sum() > 0, "no stock-outs at all: censoring untested"
    physical = _physical_on_hand(small).reindex(td.index)
    assert (physical[short] == 0).all()
    assert (physical >= 0).all()


def test_stock_nonnegative_and_every_day(small):
    stock = small.workspace.stock
    assert (stock["on_hand"] >= 0).all() and (stock["on_order"] >= 0).all()
    span = stock.groupby("sku")["date"].agg(["min", "max", "count"])
    assert ((span["max"] - span["min"]).dt.days + 1 == span["count"]).all()
    assert not stock.duplicated(["sku", "date"]).any()


def test_movements_reconcile_with_stock_snapshots(small):
    stock = small.workspace.stock.sort_values(["sku", "date"])
    mov = small.workspace.stock_movements
    assert set(mov["kind"]) <= {"receipt", "shipment", "return", "adjustment"}
    assert (mov.loc[mov["kind"] == "shipment", "qty"] < 0).all()
    assert (mov.loc[mov["kind"].isin(["receipt", "return"]), "qty"] > 0).all()
    assert (mov.loc[mov["kind"] == "adjustment", "qty"] < 0).all()
    net = mov.groupby(["sku", "date"])["qty"].sum()
    s = stock.set_index(["sku", "date"])["on_hand"]
    change = s.groupby(level="sku").diff()
    opening = small.truth["sku_operations"].set_index("sku")["opening_on_hand"]
    first = s.groupby(level="sku").head(1)
    change.loc[first.index] = first.to_numpy() - opening.reindex(first.index.get_level_values("sku")).to_numpy()
    assert net.index.isin(s.index).all()
    np.testing.assert_array_equal(change.to_numpy(), net.reindex(s.index, fill_value=0.0).to_numpy())


def test_stock_counts_match_book_after_adjustment(small):
    counts = small.workspace.stock_counts.set_index(["sku", "date"])["counted_qty"]
    stock = small.workspace.stock.set_index(["sku", "date"])["on_hand"]
    np.testing.assert_array_equal(counts.to_numpy(), stock.reindex(counts.index).to_numpy())
    assert (counts.index.get_level_values("date").is_month_end).all()
    shrink = small.truth["shrinkage"]
    adj = small.workspace.stock_movements.query("kind == 'adjustment'")
    assert adj["qty"].sum() == -shrink.loc[shrink["discovered_date"].notna(), "units_lost"].sum()


def test_promo_lines_in_window_scope_and_discounted(small):
    ol = small.workspace.order_lines
    items = small.workspace.items.set_index("sku")
    promos = small.workspace.promotions.set_index("promo_id")
    tagged = ol[ol["promo_id"].notna()].join(promos, on="promo_id")
    assert len(tagged) > 0
    day = tagged["order_ts"].dt.normalize()
    assert ((day >= tagged["start"]) & (day <= tagged["end"])).all()
    cat = items["category"].reindex(tagged["sku"]).to_numpy()
    in_scope = [
        sc == "all" or (sc.startswith("category:") and sc[9:] == c) or (sc.startswith("sku:") and s in sc[4:].split("|"))
        for sc, c, s in zip(tagged["scope"], cat, tagged["sku"])
    ]
    assert all(in_scope)
    assert (tagged["paid_amount"] < tagged["list_price"] * tagged["qty"]).all()
    plain = ol[ol["promo_id"].isna()]
    np.testing.assert_allclose(plain["paid_amount"], plain["list_price"] * plain["qty"], atol=0.006)
    caps = promos.loc[promos["mechanic"] == "flash_sale", "stock_cap"]
    sold = ol[ol["promo_id"].isin(caps.index)].groupby("promo_id")["qty"].sum()
    assert (sold <= caps.reindex(sold.index)).all()


def test_promotion_mechanics_and_tiers(full):
    promos = full[0].workspace.promotions
    assert {"percent_off", "threshold", "flash_sale", "second_half_price", "coupon"} <= set(promos["mechanic"])
    assert promos["tiers"].notna().any()
    assert promos.loc[promos["mechanic"] == "flash_sale", "stock_cap"].gt(0).all()
    ol = full[0].workspace.order_lines
    used = set(ol["promo_id"].dropna())
    for mech in ("percent_off", "threshold", "flash_sale", "second_half_price", "coupon"):
        assert used & set(promos.loc[promos["mechanic"] == mech, "promo_id"]), mech


def test_returns_after_orders_and_not_more_than_bought(small):
    ret = small.workspace.returns
    ol = small.workspace.order_lines.set_index(["order_id", "sku"])
    assert len(ret) > 0 and not ret.duplicated(["order_id", "sku"]).any()
    bought = ol.reindex(pd.MultiIndex.from_frame(ret[["order_id", "sku"]]))
    assert bought["qty"].notna().all()
    assert (ret["qty"].to_numpy() <= bought["qty"].to_numpy()).all()
    assert (ret["return_date"].to_numpy() > bought["order_ts"].dt.normalize().to_numpy()).all()


# ------------------------------------------------------------------ shape of the default shop


def test_assortment(full):
    shop = full[0]
    items = shop.workspace.items
    assert len(items) == 300 and items["sku"].is_unique
    assert 8 <= items["category"].nunique() <= 10
    assert 6 <= items["supplier"].nunique() <= 10
    assert {"active", "new", "discontinued"} <= set(items["status"])
    assert (items["price"] > items["unit_cost"]).all()
    td = shop.truth["true_demand"]
    rate = td.groupby("sku")["units"].mean()
    assert (rate < 1).mean() > 0.4
    # intermittent: average inter-demand interval above 1.32 days (Syntetos-Boylan)
    ol = shop.workspace.order_lines
    days_with_sales = ol.groupby("sku")["order_ts"].apply(lambda s: s.dt.normalize().nunique())
    span = shop.workspace.stock.groupby("sku").size()
    adi = span / days_with_sales.reindex(span.index).clip(lower=1)
    assert (adi > 1.32).mean() > 0.3
    # discontinued items stop selling
    disc = shop.truth["elasticities"].dropna(subset=["discontinue_date"])
    last_sale = ol.groupby("sku")["order_ts"].max()
    assert (last_sale.reindex(disc["sku"]).to_numpy() < disc["discontinue_date"].to_numpy()).all()


def test_calendar_events_and_shutdown(full):
    cal = full[0].workspace.calendar.set_index("date")
    for cny in ("2024-02-10", "2025-01-29", "2026-02-17"):
        assert cal.loc[cny, "supplier_shutdown"] and cal.loc[cny, "is_holiday"]
    assert 40 <= cal["supplier_shutdown"].sum() <= 60
    assert cal.loc["2024-11-11", "event"] == "Double 11"
    assert cal.loc["2025-06-18", "event"] == "618"
    assert cal.loc["2025-06-05", "event"] == "618 presale"
    assert cal.index.to_series().diff().dropna().dt.days.eq(1).all()


def test_traffic_conversion(full):
    ol = full[0].workspace.order_lines
    orders = ol.groupby(ol["order_ts"].dt.normalize())["order_id"].nunique()
    traffic = full[0].workspace.traffic.set_index("date")["sessions"]
    conv = orders.sum() / traffic.sum()
    assert 0.02 <= conv <= 0.04
    assert ol.groupby("customer_id")["order_id"].nunique().gt(1).mean() > 0.3
    assert set(ol["channel"]) == {"app", "web", "mini_program"}


def test_purchase_order_lead_times_match_truth(full):
    shop = full[0]
    po = shop.workspace.purchase_orders.dropna(subset=["receipt_date"])
    cal = shop.workspace.calendar
    shutdown_days = cal.loc[cal["supplier_shutdown"], "date"].to_numpy()
    # orders placed well away from any shutdown (independent of the outcome: no selection bias)
    gap = np.array([((shutdown_days >= d) & (shutdown_days <= d + np.timedelta64(90, "D"))).any()
                    for d in po["order_date"].to_numpy()])
    po = po[~gap].drop_duplicates("po_id")
    lt = (po["receipt_date"] - po["order_date"]).dt.days
    truth = shop.truth["supplier_lead_times"].set_index("supplier")
    stats = lt.groupby(po["supplier"]).agg(["mean", "count"])
    assert len(stats) >= 6
    for supplier, row in stats.iterrows():
        t = truth.loc[supplier]
        se = t["std_days"] / np.sqrt(row["count"])
        assert abs(row["mean"] - t["mean_days"]) < 4 * se + 0.05, supplier
    # shutdowns lengthen lead times of orders placed just before them
    all_po = shop.truth["purchase_order_lead_times"]
    assert all_po["shutdown_delay_days"].max() >= 7


def test_realized_revenue_lift_follows_elasticity(full):
    shop = full[0]
    promos = shop.workspace.promotions
    eff = shop.truth["promo_effects"].query("role == 'promoted'")
    el = shop.truth["elasticities"].set_index("sku")["elasticity"]
    single = promos[(promos["mechanic"] == "percent_off") & promos["scope"].str.match(r"^sku:[^|]+$")]
    eff = eff[eff["promo_id"].isin(single["promo_id"])].nlargest(12, "baseline_units")
    ol = shop.workspace.order_lines
    td = shop.truth["true_demand"].set_index(["sku", "date"])
    list_price = ol.groupby(["sku", ol["order_ts"].dt.normalize().rename("date")])["list_price"].first()
    checked = 0
    for _, e in eff.iterrows():
        p = promos.set_index("promo_id").loc[e["promo_id"]]
        days = pd.date_range(p["start"], p["end"])
        idx = pd.MultiIndex.from_product([[e["sku"]], days], names=["sku", "date"])
        window = td.reindex(idx)
        sold = ol[(ol["sku"] == e["sku"]) & ol["order_ts"].dt.normalize().isin(days)]
        if sold["qty"].sum() < window["units"].sum():  # stock-out in the window: skip
            continue
        base_revenue = (window["baseline_units"] * list_price.reindex(idx).ffill().bfill()).sum()
        realized = sold["paid_amount"].sum() / base_revenue
        implied = (1 - p["depth"]) ** (1 + el[e["sku"]])
        assert abs(np.log(realized) - np.log(implied)) < 0.4, (e["promo_id"], realized, implied)
        if abs(np.log(implied)) > 0.15:
            assert np.sign(np.log(realized)) == np.sign(np.log(implied)), (e["promo_id"], realized, implied)
        checked += 1
    assert checked >= 5
