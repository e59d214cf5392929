"""Invariants of the operations reports on the demo shop, checked against its ground truth.

One module-scoped load of the demo shop (about 3 s) serves every test here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opslib.data import Workspace, load_ground_truth
from test_ops_report import demo_workspace
from opslib.ops import (
    ADDITIVE_MEASURES,
    kpis,
    lead_time_samples,
    monthly_stock_movement,
    reconcile,
    repurchase_rate,
    stock_exceptions,
    stocktake_variance,
    supplier_scorecard,
)


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return demo_workspace()  # one object for every report test: the shared-frame memo serves them all


@pytest.fixture(scope="module")
def truth() -> dict[str, pd.DataFrame]:
    return load_ground_truth()


def test_movement_identity_holds_on_every_sku_month(demo, truth):
    report = monthly_stock_movement(demo)
    assert len(report) == report[["sku", "month"]].drop_duplicates().shape[0]
    assert report["difference_units"].abs().max() == 0
    assert reconcile(demo).empty
    # the implied opening stock of the first month is the stock the generator started with
    first = report.groupby("sku").first()["opening_units"]
    opening = truth["sku_operations"].set_index("sku")["opening_on_hand"]
    pd.testing.assert_series_equal(first.sort_index(), opening.reindex(first.index).astype(float).sort_index(), check_names=False)
    # closing of a month is the opening of the next
    nxt = report.groupby("sku")["opening_units"].shift(-1)
    both = nxt.notna()
    assert (report.loc[both, "closing_units"] == nxt[both]).all()


def test_reconcile_finds_exactly_one_tampered_movement(demo):
    moves = demo.stock_movements.copy()
    row = moves.index[(moves["kind"] == "receipt").to_numpy()][100]
    moves.loc[row, "qty"] = moves.loc[row, "qty"] + 3
    tampered = Workspace(items=demo.items, stock=demo.stock, stock_movements=moves)
    out = reconcile(tampered)
    assert len(out) == 1
    hit = out.iloc[0]
    assert hit["sku"] == moves.loc[row, "sku"]
    assert hit["month"] == pd.Period(moves.loc[row, "date"], "M")
    assert hit["difference_units"] == -3


def test_kpi_breakdowns_add_up_to_the_overall_figure(demo):
    overall = kpis(demo, freq="M").set_index("period")
    assert overall["gmv"].sum() == pytest.approx(demo.order_lines["paid_amount"].sum())
    assert overall["orders"].sum() == demo.order_lines["order_id"].nunique()
    assert overall["returned_units"].sum() == demo.returns["qty"].sum()
    for by in ("category", "channel"):
        part = kpis(demo, freq="M", by=by)
        sums = part.groupby("period")[list(ADDITIVE_MEASURES)].sum()
        measures = [m for m in ADDITIVE_MEASURES if part[m].notna().any()]
        for m in measures:
            np.testing.assert_allclose(sums[m], overall[m], rtol=1e-9, err_msg=f"{by}: {m}")
    by_channel = kpis(demo, freq="M", by="channel").groupby("period")["orders"].sum()
    assert (by_channel == overall["orders"]).all()
    # plausible values: a 2-5% conversion, margins between 20% and 60%, stock-outs rare
    assert overall["conversion_rate"].between(0.01, 0.1).all()
    assert overall["margin_rate"].between(0.2, 0.6).all()
    assert overall["stockout_rate"].between(0, 0.2).all()


def test_repurchase_rate_on_the_demo(demo):
    out = repurchase_rate(demo, window_days=90).iloc[0]
    assert 0 < out["repurchase_rate"] < 1
    assert out["customers"] + out["censored_customers"] + out["returned_only_customers"] == pytest.approx(
        demo.order_lines["customer_id"].nunique()
    )


def test_discovered_shrinkage_equals_the_truth(demo, truth):
    lines = stocktake_variance(demo)
    assert len(lines) == len(demo.stock_counts)
    assert (lines["variance_units"] <= 0).all()  # the demo shop only loses stock
    found = lines[lines["shrinkage_units"] > 0].set_index(["sku", "date"])["shrinkage_units"].sort_index()
    shrink = truth["shrinkage"].dropna(subset=["discovered_date"])
    expected = shrink.groupby(["sku", "discovered_date"])["units_lost"].sum().astype(float).sort_index()
    assert found.to_numpy().tolist() == expected.to_numpy().tolist()
    assert list(found.index) == list(expected.index)


def test_lead_times_equal_the_generator(demo, truth):
    # every delivery: calendar lead time = sampled working-day lead time + shutdown delay
    po_truth = truth["purchase_order_lead_times"].groupby("po_id").first()
    cal = lead_time_samples(demo).set_index("po_id")
    expected = po_truth["base_lead_time_days"] + po_truth["shutdown_delay_days"]
    assert (cal["lead_time_days"] == expected.reindex(cal.index)).all()
    working = lead_time_samples(demo, working_days=True).set_index("po_id")
    assert (working["lead_time_days"] == po_truth["base_lead_time_days"].reindex(working.index)).all()
    # per supplier, the working-day distribution matches the generator's within sampling error
    card = supplier_scorecard(demo, working_days=True).set_index("supplier")
    gen = truth["supplier_lead_times"].set_index("supplier").reindex(card.index)
    z = (card["lead_time_mean_days"] - gen["mean_days"]) / (gen["std_days"] / np.sqrt(card["deliveries"]))
    assert z.abs().max() < 3.5, z
    assert (card["lead_time_std_days"] / gen["std_days"]).between(0.75, 1.35).all()
    assert card["lines"].sum() == len(demo.purchase_orders)
    assert card["rejected_rate"].between(0, 0.05).all() and card["fill_rate"].between(0.9, 1).all()


def test_stock_exceptions_on_the_demo(demo):
    out = stock_exceptions(demo, include_ok=True)
    last = demo.stock["date"].max()
    on_hand = demo.stock[demo.stock["date"] == last].set_index("sku")["on_hand"]
    assert set(out["sku"]) == set(on_hand[on_hand > 0].index)
    dead = out[out["exception"] == "dead"]
    assert len(dead) > 0 and (dead["days_since_last_sale"].fillna(np.inf) >= 90).all()
    assert (out.loc[out["exception"] == "ok", "weeks_of_cover"] <= 12).all()
