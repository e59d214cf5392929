"""Suspected hidden stock-outs (phantom inventory): opslib.data.suspected_stockouts and its uses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import opslib
from opslib import DataError
from opslib.data import daily_demand, suspected_stockouts
from opslib.data.workspace import Workspace
from opslib.promo.simulate import baseline_from_history, baseline_uncertainty

START = pd.Timestamp("2024-01-01")


def _day(i: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=i)


def _run_probability(n: int, z: int, k: int) -> float:
    """P(a run of zero-sales days lasts >= k days | it started), Beta(1, 1) prior: prod_{j=1}^{k-1} (z+1+j)/(n+2+j)."""
    return float(np.prod([(z + 1 + j) / (n + 2 + j) for j in range(1, k)]))


@pytest.fixture
def phantom_series() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One SKU selling 5 units a day over 150 days, book always positive except days 132-134.

    * days 60-65: no sales, then a receipt on day 66: a hidden stock-out ended by the receipt;
    * days 100-102: no sales, then a sale on day 103 without any receipt: stock was on hand;
    * days 130-131: no sales, then a stocktake on day 132 counts 0 (book written down to 0, out of
      stock on the book until the receipt of day 135): a confirmed hidden stock-out.
    """
    units = np.full(150, 5.0)
    units[[*range(60, 66), *range(100, 103), *range(130, 135)]] = 0.0
    in_stock = np.ones(150, bool)
    in_stock[132:135] = False
    demand = pd.DataFrame({"sku": "A", "date": [_day(i) for i in range(150)], "units": units,
                           "in_stock": pd.array(in_stock, dtype="boolean")})
    movements = pd.DataFrame({"date": [_day(66), _day(132), _day(135)], "sku": "A",
                              "kind": ["receipt", "adjustment", "receipt"], "qty": [20.0, -3.0, 30.0]})
    counts = pd.DataFrame({"sku": ["A", "A"], "date": [_day(31), _day(132)], "counted_qty": [40.0, 0.0]})
    return demand, movements, counts


def test_known_phantom_runs_are_flagged_exactly(phantom_series):
    demand, movements, counts = phantom_series
    flags = suspected_stockouts(demand, stock_movements=movements, stock_counts=counts)
    assert list(flags["date"]) == [_day(i) for i in [*range(60, 66), 130, 131]]
    first = flags[flags["run_start"] == _day(60)]
    assert (first["run_days"] == 6).all()
    # history: days 0..58 (day 59, the sale that starts the run, is left out), 59 days, none without sales
    assert (first["history_days"] == 59).all() and (first["zero_history_days"] == 0).all()
    np.testing.assert_allclose(first["probability"], _run_probability(59, 0, 6), rtol=1e-9)
    assert not first["confirmed"].any()
    confirmed = flags[flags["run_start"] == _day(130)]
    assert confirmed["confirmed"].all() and (confirmed["run_days"] == 2).all()
    report = flags.attrs["report"]
    assert report["runs_flagged"] == 2 and report["runs_confirmed"] == 1 and report["days_flagged"] == 8


def test_a_sale_clears_a_run_only_when_every_inflow_is_recorded(phantom_series):
    demand, movements, counts = phantom_series
    # without inflow records the sale of day 103 may come from an unrecorded receipt: days 100-102 are
    # judged by their probability, 3 days at 6 zero days in the 91 days before (days 60-65)
    flags = suspected_stockouts(demand, stock_movements=movements, stock_counts=counts, inflows_known=False)
    run = flags[flags["run_start"] == _day(100)]
    assert list(run["date"]) == [_day(100), _day(101), _day(102)]
    assert (run["history_days"] == 91).all() and (run["zero_history_days"] == 6).all()
    np.testing.assert_allclose(run["probability"], _run_probability(91, 6, 3), rtol=1e-9)
    assert _run_probability(91, 6, 3) < 0.01
    # a stocktake that counts stock the day after the run proves stock through the run
    found = pd.concat([counts, pd.DataFrame({"sku": ["A"], "date": [_day(103)], "counted_qty": [12.0]})])
    flags = suspected_stockouts(demand, stock_movements=movements, stock_counts=found, inflows_known=False)
    assert not flags["date"].isin([_day(100), _day(101), _day(102)]).any()


def test_without_stock_counts_an_adjustment_is_the_stocktake(phantom_series):
    demand, movements, _ = phantom_series
    flags = suspected_stockouts(demand, stock_movements=movements)
    assert list(flags["date"]) == [_day(i) for i in [*range(60, 66), 130, 131]]
    assert flags.loc[flags["run_start"] == _day(130), "confirmed"].all()


def test_false_alarms_of_a_slow_mover_stay_within_the_level():
    # Poisson sales at 0.2 units a day (82% of days without sales), always in stock on the book, no
    # inflow records: every run is judged by its probability. At level 1% at most 1% of the judged
    # runs may be flagged (measured: 0.71% over 200 SKUs x 2 years); the bound adds 3 standard errors.
    rng = np.random.default_rng(1)
    n_skus, days, level = 150, 730, 0.01
    dates = pd.date_range(START, periods=days)
    demand = pd.DataFrame({"sku": np.repeat([f"S{i:03d}" for i in range(n_skus)], days),
                           "date": np.tile(dates, n_skus),
                           "units": rng.poisson(0.2, n_skus * days).astype(float), "in_stock": True})
    flags = suspected_stockouts(demand, level=level)
    report = flags.attrs["report"]
    judged = report["runs"] - report["runs_short_history"] - report["runs_cleared"]
    assert judged > 10_000
    share = report["runs_flagged"] / judged
    assert share <= level + 3 * np.sqrt(level * (1 - level) / judged)
    assert (flags["probability"] < level).all()


def test_daily_demand_infers_receipts_from_stock_snapshots():
    # 5 units a day; no sales on days 60-65 while the book stays at 100; on day 66 the book rises to 115
    # with 5 units sold: a receipt (20 units), so the run is a hidden stock-out, not stock on hand
    days = 80
    sold = np.full(days, 5)
    sold[60:66] = 0
    lines = pd.DataFrame({"order_id": [f"o{i}" for i in range(days) if sold[i]],
                          "order_ts": [_day(i) + pd.Timedelta(hours=10) for i in range(days) if sold[i]],
                          "sku": "A", "qty": [float(sold[i]) for i in range(days) if sold[i]],
                          "paid_amount": [50.0 for i in range(days) if sold[i]]})
    on_hand = 400.0 - np.cumsum(sold)
    on_hand[66:] = 100.0 + 20.0 - np.cumsum(sold[66:])
    stock = pd.DataFrame({"sku": "A", "date": [_day(i) for i in range(days)], "on_hand": on_hand})
    assert (on_hand > 0).all()
    demand = daily_demand(Workspace(order_lines=lines, stock=stock))
    assert demand["suspected_stockout"].dtype == "boolean"
    flagged = demand.loc[demand["suspected_stockout"].to_numpy(bool), "date"]
    assert list(flagged) == [_day(i) for i in range(60, 66)]
    assert demand["in_stock"].all()  # the book availability keeps its meaning
    assert demand.attrs["report"]["suspected_stockout_days_flagged"] == 6
    # without stock snapshots book availability is unknown: nothing is judged
    bare = daily_demand(Workspace(order_lines=lines))
    assert bare["suspected_stockout"].isna().all()


def test_demo_demand_has_the_column_and_in_stock_is_unchanged():
    ws = opslib.load_demo()
    demand = ws.demand
    assert demand["suspected_stockout"].dtype == "boolean"
    suspected = demand["suspected_stockout"]
    assert (suspected.isna() == demand["in_stock"].isna()).all()
    on = suspected.fillna(False).to_numpy(bool)
    assert 0 < on.sum() < 0.01 * len(demand)
    assert demand["in_stock"].to_numpy(dtype=bool, na_value=False)[on].all()
    assert (demand["units"].to_numpy()[on] == 0).all()
    # in_stock is still the book: end-of-day stock.on_hand > 0
    book = ws.stock.groupby(["sku", "date"])["on_hand"].sum() > 0
    key = pd.MultiIndex.from_arrays([demand["sku"].astype(str), pd.to_datetime(demand["date"])])
    expected = book.reindex(key).to_numpy(dtype=object)
    known = demand["in_stock"].notna().to_numpy()
    assert (demand["in_stock"].to_numpy(dtype=bool, na_value=False)[known] == expected[known].astype(bool)).all()
    # the same flags from the public function on the workspace
    flags = suspected_stockouts(ws)
    assert len(flags) == on.sum()


def test_baseline_leaves_suspected_days_out_by_default():
    dates = pd.date_range(START, periods=56)
    units = np.where(np.arange(56) % 7 < 5, 4.0, 6.0)
    units[20:30] = 0.0
    suspected = np.zeros(56, bool)
    suspected[20:30] = True
    demand = pd.DataFrame({"sku": "A", "date": dates, "units": units, "in_stock": True,
                           "suspected_stockout": pd.array(suspected, dtype="boolean")})
    window = (dates[-1] + pd.Timedelta(days=1), dates[-1] + pd.Timedelta(days=7))
    on = baseline_from_history(demand, ["A"], *window)
    off = baseline_from_history(demand, ["A"], *window, suspected_stockouts=False)
    clean = baseline_from_history(demand[~suspected], ["A"], *window)
    np.testing.assert_allclose(on["baseline_units"], clean["baseline_units"])
    assert off["baseline_units"].sum() < 0.85 * on["baseline_units"].sum()
    u_on = baseline_uncertainty(demand, ["A"], *window)
    u_clean = baseline_uncertainty(demand[~suspected], ["A"], *window)
    pd.testing.assert_frame_equal(u_on, u_clean)


def test_bad_settings_are_refused(phantom_series):
    demand, _, counts = phantom_series
    with pytest.raises(DataError, match="level"):
        suspected_stockouts(demand, level=1.5)
    with pytest.raises(DataError, match="history_days"):
        suspected_stockouts(demand, history_days=0)
    with pytest.raises(DataError, match="in_stock"):
        suspected_stockouts(demand.drop(columns="in_stock"))
    with pytest.raises(DataError, match="workspace brings its own"):
        suspected_stockouts(Workspace(demand=demand), stock_counts=counts)
