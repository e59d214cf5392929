"""Forecast accuracy of past plans, on a hand-made case and on the demo shop.

The hand-made case: 36 days of history, 2024-01-01 .. 2024-02-05 (the origin, ``made_on``).

  A: 4, 6, 4, 6, ...  ADI 1, CV^2 = 1 / 5^2 = 0.04 -> smooth;       naive MAE 2, naive MSE 4
  B: 0, 3, 0, 3, ...  ADI 2, CV^2 0                -> intermittent; naive MAE 3, naive MSE 9

Plans made on 2024-02-05 (f, p10..p90) against the actuals y:

  sku  date    ahead  f   p10..p90  y  in_stock  |e|  inside  |e|/s  e^2/q
  A    Feb 6     1    5    3..7     4    yes      1    yes     1/2    1/4
  A    Feb 7     2    5    3..7     8    yes      3    no      3/2    9/4
  A    Feb 8     3    5    3..7     0    NO       -    -       -      -      (censored)
  A    Feb 13    8    5    3..7     6    yes      1    yes     1/2    1/4
  B    Feb 6     1    1    0..3     0    yes      1    yes     1/3    1/9
  B    Feb 7     2    1    0..3     3    yes      2    yes     2/3    4/9   (ends included)
  B    Feb 13    8    1    0..3     6    yes      5    no      5/3    25/9
  B    Feb 20   15    1    0..3     -    (no actual yet: unmatched)
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

import opslib
from opslib import DataError
from opslib.forecast import forecast
from opslib.ops import ACCURACY_COLUMNS, forecast_accuracy

ORIGIN = pd.Timestamp("2024-02-05")


def demand() -> pd.DataFrame:
    days = pd.date_range("2024-01-01", ORIGIN, freq="D")
    hist = pd.concat([
        pd.DataFrame({"sku": "A", "date": days, "units": np.where(np.arange(36) % 2 == 0, 4.0, 6.0)}),
        pd.DataFrame({"sku": "B", "date": days, "units": np.where(np.arange(36) % 2 == 0, 0.0, 3.0)}),
    ])
    hist["in_stock"] = True
    after = pd.DataFrame({
        "sku": ["A", "A", "A", "A", "B", "B", "B"],
        "date": pd.to_datetime(["2024-02-06", "2024-02-07", "2024-02-08", "2024-02-13",
                                "2024-02-06", "2024-02-07", "2024-02-13"]),
        "units": [4.0, 8.0, 0.0, 6.0, 0.0, 3.0, 6.0],
        "in_stock": [True, True, False, True, True, True, True],
    })
    out = pd.concat([hist, after], ignore_index=True)
    out["in_stock"] = out["in_stock"].astype("boolean")
    return out


def plans() -> pd.DataFrame:
    return pd.DataFrame({
        "sku": ["A"] * 4 + ["B"] * 4,
        "date": pd.to_datetime(["2024-02-06", "2024-02-07", "2024-02-08", "2024-02-13",
                                "2024-02-06", "2024-02-07", "2024-02-13", "2024-02-20"]),
        "mean": [5.0] * 4 + [1.0] * 4,
        "p10": [3.0] * 4 + [0.0] * 4,
        "p90": [7.0] * 4 + [3.0] * 4,
        "made_on": ORIGIN,
    })


def test_overall_by_hand():
    out = forecast_accuracy(plans(), demand(), by=None)
    assert list(out.columns) == list(ACCURACY_COLUMNS)
    row = out.iloc[0]
    assert out.attrs["unmatched"] == 1                                 # B on Feb 20
    assert (row.n_skus, row.n_forecasts, row.n_scored, row.n_censored) == (2, 7, 6, 1)
    assert row.units == 27.0                                            # 4 + 8 + 6 + 0 + 3 + 6
    assert row.forecast == 18.0                                         # 3 * 5 + 3 * 1
    assert row.wape == pytest.approx(13 / 27)                           # |e| 1 + 3 + 1 + 1 + 2 + 5 = 13
    assert row.bias == pytest.approx(-1 / 3)                            # (18 - 27) / 27
    assert row.mean_error == pytest.approx(-1.5)                        # -9 / 6 rows
    assert row.coverage_80 == pytest.approx(4 / 6)                      # A Feb 7 and B Feb 13 outside
    assert row.mase == pytest.approx(31 / 36)                           # (1/2 + 3/2 + 1/2 + 1/3 + 2/3 + 5/3) / 6
    assert row.rmsse == pytest.approx(math.sqrt(73 / 72))               # (11/4 + 30/9) / 6 = (73/12) / 6
    assert row.n_unscaled == 0


def test_by_class_by_hand():
    out = forecast_accuracy(plans(), demand()).set_index("demand_class")
    assert list(out.index) == ["smooth", "intermittent"]
    a, b = out.loc["smooth"], out.loc["intermittent"]
    assert (a.n_scored, a.n_censored, b.n_scored, b.n_censored) == (3, 1, 3, 0)
    assert a.wape == pytest.approx(5 / 18)                              # (1 + 3 + 1) / (4 + 8 + 6)
    assert a.bias == pytest.approx(-1 / 6)                              # (15 - 18) / 18
    assert a.coverage_80 == pytest.approx(2 / 3)
    assert a.mase == pytest.approx(5 / 6)                               # (1/2 + 3/2 + 1/2) / 3
    assert b.wape == pytest.approx(8 / 9)                               # (1 + 2 + 5) / (0 + 3 + 6)
    assert b.bias == pytest.approx(-2 / 3)                              # (3 - 9) / 9
    assert b.coverage_80 == pytest.approx(2 / 3)
    assert b.mase == pytest.approx(8 / 9)                               # (1/3 + 2/3 + 5/3) / 3


def test_by_horizon_by_hand():
    out = forecast_accuracy(plans(), demand(), by="horizon").set_index("horizon")
    assert list(out.index) == ["1-7", "8-14"]                           # no actual 15+ days ahead yet
    near, far = out.loc["1-7"], out.loc["8-14"]
    assert (near.n_forecasts, near.n_scored, near.n_censored) == (5, 4, 1)
    assert near.wape == pytest.approx(7 / 15)                           # (1 + 3 + 1 + 2) / (4 + 8 + 0 + 3)
    assert near.bias == pytest.approx(-1 / 5)                           # (12 - 15) / 15
    assert near.coverage_80 == pytest.approx(3 / 4)
    assert near.mase == pytest.approx(3 / 4)                            # (1/2 + 3/2 + 1/3 + 2/3) / 4
    assert far.wape == pytest.approx(1 / 2)                             # (1 + 5) / (6 + 6)
    assert far.bias == pytest.approx(-1 / 2)                            # (6 - 12) / 12
    assert far.coverage_80 == pytest.approx(1 / 2)
    assert far.mase == pytest.approx(13 / 12)                           # (1/2 + 5/3) / 2


def test_stockout_days_are_not_scored():
    # A on Feb 8 sold 0 while out of stock: scored, it would add |5 - 0| = 5 to the error
    out = forecast_accuracy(plans(), demand(), by=None).iloc[0]
    observed = demand()
    observed["in_stock"] = True
    naive = forecast_accuracy(plans(), observed, by=None).iloc[0]
    assert (out.n_censored, naive.n_censored) == (1, 0)
    assert naive.n_scored == out.n_scored + 1
    assert out.wape == pytest.approx(13 / 27)
    assert naive.wape == pytest.approx(18 / 27)                         # (13 + 5) / (27 + 0)
    assert naive.bias == pytest.approx((23 - 27) / 27)
    # the stock-out day in the history is not a demand of 0 either: the class is unchanged
    stockout = demand()
    stockout.loc[(stockout["sku"] == "A") & (stockout["date"] == "2024-01-10"), ["units", "in_stock"]] = [0.0, False]
    assert list(forecast_accuracy(plans(), stockout)["demand_class"]) == ["smooth", "intermittent"]


def test_origin_without_made_on():
    no_origin = plans().drop(columns="made_on")
    # default origin: the day before the first forecast day (Feb 5), as with made_on
    pd.testing.assert_frame_equal(forecast_accuracy(no_origin, demand()), forecast_accuracy(plans(), demand()))
    # an explicit, earlier origin moves the rows one bucket out and shortens the history
    later = forecast_accuracy(no_origin, demand(), by="horizon", history_end="2024-01-30").set_index("horizon")
    assert list(later.index) == ["1-7", "8-14"]                        # Feb 6 -> 7 days; Feb 7, 8, 13 -> 8, 9, 14
    assert list(later["n_forecasts"]) == [2, 5]


def test_errors():
    with pytest.raises(DataError, match="mean"):
        forecast_accuracy(plans().drop(columns="mean"), demand())
    with pytest.raises(DataError, match="units"):
        forecast_accuracy(plans(), demand().drop(columns="units"))
    with pytest.raises(DataError, match="no plan row has an actual"):
        forecast_accuracy(plans().assign(sku=list("STUVWXYZ")), demand())
    with pytest.raises(DataError, match="no plan row has an actual"):
        forecast_accuracy(plans().assign(made_on=pd.Timestamp("2024-03-01")), demand())
    with pytest.raises(DataError, match="unique"):
        forecast_accuracy(pd.concat([plans(), plans()]), demand())
    with pytest.raises(ValueError, match="by must be"):
        forecast_accuracy(plans(), demand(), by="sku")


def test_demo_shop_end_to_end():
    start = time.perf_counter()
    shop = opslib.load_demo().demand
    skus = sorted(shop["sku"].unique())[::15][:20]
    sub = shop[shop["sku"].isin(skus)]
    cuts = [pd.Timestamp("2025-06-30"), pd.Timestamp("2025-07-28")]
    plans = []
    for cut in cuts:
        plan = forecast(sub[sub["date"] <= cut], 28, model="ses").assign(made_on=cut)
        plans.append(plan)
    past = pd.concat(plans, ignore_index=True)

    overall = forecast_accuracy(past, sub, by=None).iloc[0]
    assert overall.n_scored + overall.n_censored == overall.n_forecasts
    assert overall.n_scored > 500 and overall.n_censored > 0           # the demo shop has stock-outs
    for measure in ("wape", "bias", "mase", "rmsse", "coverage_80"):
        assert np.isfinite(overall[measure]), measure
    assert 0 < overall.wape < 2
    assert -1 < overall.bias < 1
    assert 0 < overall.mase < 3
    assert 0.5 < overall.coverage_80 <= 1

    for by, column in (("class", "demand_class"), ("horizon", "horizon")):
        out = forecast_accuracy(past, sub, by=by)
        # breakdowns add up to the overall figures
        for total in ("n_forecasts", "n_scored", "n_censored", "units", "forecast"):
            assert out[total].sum() == pytest.approx(overall[total]), (by, total)
        assert ((out["wape"] > 0) & (out["wape"] < 2)).all()
    horizons = forecast_accuracy(past, sub, by="horizon")
    assert list(horizons["horizon"]) == ["1-7", "8-14", "15-28"]       # two 28-day plans
    assert time.perf_counter() - start < 10
