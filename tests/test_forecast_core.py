"""opslib.forecast.forecast: contract, properties, pathological series, censoring on the demo shop;
and the helpers it stands on (frequency, panel, metrics, classification)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

from opslib import DataError
from opslib.forecast import (
    bias,
    classify_demand,
    forecast,
    from_panel,
    infer_frequency,
    interval_coverage,
    mase,
    pinball_loss,
    quantile_column,
    rmsse,
    smape,
    to_panel,
    wape,
)
from opslib.forecast.core import MODELS
from opslib.forecast.panel import sku_codes

# --------------------------------------------------------------------------- metrics, by hand


def test_metrics_hand_computed():
    y, f = np.array([2.0, 0.0, 4.0]), np.array([1.0, 1.0, 4.0])
    train = np.array([1.0, 3.0, 2.0, 4.0])                     # |diffs| 2, 1, 2 -> 5/3; squared 4, 1, 4 -> 3
    assert mase(y, f, train) == pytest.approx((2 / 3) / (5 / 3))
    assert rmsse(y, f, train) == pytest.approx(np.sqrt((2 / 3) / 3))
    # sMAPE: 200*1/3, 200*1/1, 0 -> (66.67 + 200 + 0) / 3
    assert smape(y, f) == pytest.approx((200 / 3 + 200) / 3)
    assert smape([0.0], [0.0]) == 0.0
    assert wape(y, f) == pytest.approx(2 / 6)
    assert bias(y, f) == pytest.approx(0.0)
    # pinball at 0.9: y - q = 1, -1, 0 -> 0.9, 0.1, 0 -> mean 1/3
    assert pinball_loss(y, f, 0.9) == pytest.approx(1 / 3)
    assert interval_coverage(y, [1, 1, 3], [3, 2, 5]) == pytest.approx(2 / 3)
    np.testing.assert_allclose(smape(np.vstack([y, y]), np.vstack([f, y])), [(200 / 3 + 200) / 3, 0.0])
    assert mase([1.0, 2.0], [1.0, 1.0], [1.0, 2, 1, 2], season_length=2) == np.inf


# --------------------------------------------------------------------------- frequency and panel


@pytest.mark.parametrize("dates, name, m", [
    (pd.date_range("2024-01-01", periods=10, freq="D"), "daily", 7),
    (pd.date_range("2024-01-07", periods=10, freq="W-SUN"), "weekly", 52),
    (pd.date_range("2020-01-01", periods=10, freq="MS"), "monthly", 12),
    (pd.date_range("2020-01-31", periods=10, freq="ME"), "monthly", 12),
    (pd.date_range("2020-01-01", periods=10, freq="QS"), "quarterly", 4),
    (pd.date_range("2000-01-01", periods=10, freq="YS"), "yearly", 1),
])
def test_infer_frequency(dates, name, m):
    freq = infer_frequency(dates)
    assert (freq.name, freq.season_length) == (name, m)
    assert dates[-1] + freq.offset == pd.date_range(dates[-2], periods=3, freq=dates.freq)[-1]


def test_infer_frequency_refuses_one_date():
    with pytest.raises(DataError):
        infer_frequency(["2024-01-01"])


def test_panel_round_trip_with_different_starts_and_censoring():
    demand = pd.DataFrame({
        "sku": ["A"] * 4 + ["B"] * 2,
        "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-03", "2024-01-04"]),
        "units": [1.0, 0.0, 2.0, 3.0, 5.0, 6.0],
        "in_stock": pd.array([True, False, True, None, True, True], dtype="boolean"),
    })
    panel = to_panel(demand)
    np.testing.assert_array_equal(panel.values, [[1, np.nan, 2, 3], [np.nan, np.nan, 5, 6]])
    assert panel.censored.sum() == 1 and list(panel.skus) == ["A", "B"]
    back = from_panel(panel.values, panel.skus, panel.dates)
    assert len(back) == 6 and back["units"].isna().sum() == 1       # B's padding dropped, A's censored day kept
    again = to_panel(back, frequency=panel.frequency)
    np.testing.assert_array_equal(again.values, panel.values)
    np.testing.assert_array_equal(to_panel(demand, censor=False).values[0], [1, 0, 2, 3])
    with pytest.raises(DataError):
        to_panel(pd.concat([demand, demand.head(1)]))
    # a suspected hidden stock-out (book stock on hand, nothing sold) is censored like a stock-out
    hidden = demand.assign(suspected_stockout=pd.array([False, False, True, None, False, False], dtype="boolean"))
    np.testing.assert_array_equal(to_panel(hidden).values, [[1, np.nan, np.nan, 3], [np.nan, np.nan, 5, 6]])
    assert to_panel(hidden).censored.sum() == 2
    np.testing.assert_array_equal(to_panel(hidden, censor=False).values[0], [1, 0, 2, 3])


# --------------------------------------------------------------------------- classification


def test_classify_demand_syntetos_boylan_and_lifecycle():
    T = 200
    y = np.zeros((7, T))
    y[0] = 10.0 + (np.arange(T) % 2)                              # smooth: ADI 1, CV2 small
    y[1] = np.where(np.arange(T) % 2 == 0, 1.0, 30.0)             # erratic: ADI 1, CV2 large
    y[2, ::3] = 5.0                                              # intermittent: ADI 3, CV2 0
    y[3, ::3] = np.where(np.arange(0, T, 3) % 2 == 0, 1.0, 30.0)  # lumpy
    y[4, :] = 0.0                                                # all zero
    y[5, :] = np.nan
    y[5, -10:] = 3.0                                             # new
    y[6, :100] = 5.0                                             # discontinued (100 zero days)
    classes = classify_demand(y, season_length=7, discontinued_periods=60)
    assert list(classes.demand_class) == ["smooth", "erratic", "intermittent", "lumpy", "all_zero", "new",
                                          "discontinued"]
    assert classes.adi[2] == pytest.approx(T / len(range(0, T, 3)))
    assert classify_demand(np.array([[np.nan, 1.0, 2.0, 1.0]])).demand_class[0] == "too_short"


# --------------------------------------------------------------------------- forecast


def _long(y, start="2024-01-01"):
    y = np.atleast_2d(np.asarray(y, dtype=float))
    dates = pd.date_range(start, periods=y.shape[1], freq="D")
    return from_panel(y, [f"S{i}" for i in range(len(y))], dates)


def pathological():
    T = 60
    rng = np.random.default_rng(5)
    y = np.full((7, T), np.nan)
    y[0] = 0.0                                                   # all zeros
    y[1] = 0.0
    y[1, 30] = 7.0                                               # one sale
    y[2] = 4.0                                                   # constant
    y[3] = rng.poisson(3, T)
    y[3, 10:20] = np.nan                                         # NaN gap
    y[4, -3:] = [2.0, 0.0, 1.0]                                  # 3 observations
    y[5] = rng.poisson(20, T)
    y[6] = rng.poisson(0.3, T)
    return y


@pytest.mark.parametrize("model", ["auto", *MODELS])
def test_forecast_never_crashes_negative_or_nan(model):
    frame = forecast(_long(pathological()), 14, model=model, quantiles=(0.05, 0.5, 0.9, 0.975))
    assert list(frame.columns) == ["sku", "date", "mean", "p5", "p50", "p90", "p97.5", "model"]
    values = frame[["mean", "p5", "p50", "p90", "p97.5"]].to_numpy()
    assert len(frame) == 7 * 14 and np.isfinite(values).all() and (values >= 0).all()
    assert (np.diff(values[:, 1:], axis=1) >= -1e-12).all()       # quantiles ordered
    assert frame["date"].min() == pd.Timestamp("2024-03-01")
    constant = frame[frame["sku"] == "S2"]
    if model not in ("croston_sba",):
        np.testing.assert_allclose(constant["mean"], 4.0, atol=1e-9)
    zeros = frame[frame["sku"] == "S0"]
    np.testing.assert_allclose(zeros[["mean", "p5", "p50", "p90", "p97.5"]], 0.0)


def test_forecast_quantiles_empirical_for_smooth_and_count_for_intermittent():
    rng = np.random.default_rng(1)
    y = np.vstack([rng.normal(100, 10, 300), rng.poisson(0.2, 300) * 3.0])
    frame = forecast(_long(y), 7, model="auto", quantiles=(0.1, 0.9))
    smooth, sparse = frame[frame.sku == "S0"], frame[frame.sku == "S1"]
    assert set(pd.DataFrame(frame.attrs["demand_class"])["demand_class"]) == {"smooth", "lumpy"} or \
        pd.DataFrame(frame.attrs["demand_class"])["demand_class"][0] == "smooth"
    width = (smooth["p90"] - smooth["p10"]).to_numpy()
    assert 20 < width[0] < 35                                    # ~2 x 1.28 x 10 (empirical one-step residuals)
    assert (np.diff(width) >= 0).all()                           # widens with h (SES spread)
    assert np.equal(np.mod(sparse[["p10", "p90"]].to_numpy(), 1), 0).all()   # count quantiles are integers
    assert smooth["model"].iloc[0] in ("ses", "comb_shd")        # white noise: a level model (selection on 100 days)


def test_forecast_monthly_table_and_refusals():
    dates = pd.date_range("2015-01-01", periods=36, freq="MS")
    demand = pd.DataFrame({"sku": "M", "date": dates, "units": 100 + 10 * np.sin(np.arange(36) * np.pi / 6)})
    frame = forecast(demand, 12, model="seasonal_naive")
    assert frame["date"].iloc[0] == pd.Timestamp("2018-01-01") and frame["date"].iloc[-1] == pd.Timestamp("2018-12-01")
    np.testing.assert_allclose(frame["mean"], demand["units"].iloc[-12:].to_numpy())
    assert quantile_column(0.975) == "p97.5" and quantile_column(0.1) == "p10"
    for bad in ({"model": "prophet"}, {"quantiles": (0.5, 1.0)}, {"horizon": 0}):
        with pytest.raises(DataError):
            forecast(demand, **({"horizon": 3} | bad))


def test_forecast_falls_back_and_says_why():
    y = np.full((2, 10), np.nan)
    y[0, -1] = 3.0                                               # one observation
    y[1, :] = 2.0
    demand = _long(y)
    demand.loc[demand.sku == "S1", "in_stock"] = False           # every period censored
    frame = forecast(demand, 3, model="ses")
    assert frame.loc[frame.sku == "S1", "model"].iloc[0] == "zero"
    chain = pd.DataFrame(frame.attrs["warnings"]).query("sku == 'S1'")
    assert list(chain["used"]) == ["zero"] and "censored" in chain["reason"].iloc[-1]
    assert frame["mean"].notna().all()
    np.testing.assert_allclose(frame.loc[frame.sku == "S0", "mean"], 3.0)


# --------------------------------------------------------------------------- censoring on the demo shop


@pytest.fixture(scope="module")
def demo():
    from opslib import load_demo
    from opslib.data import load_ground_truth
    return load_demo().demand, load_ground_truth()["true_demand"]


@pytest.mark.parametrize("cut", ["2025-09-30", "2026-03-31"])
def test_masking_stockouts_removes_low_bias_on_demo_shop(demo, cut):
    """SKUs out of stock on 10-70% of the 90 days before the cut and selling in its last 28 days.

    Counting stock-out days as zero demand biases the 28-day forecast low against the true demand
    of the demo shop (about -21% and -15%); masking them brings the bias to within a few percent.
    """
    demand, truth = demo
    cut = pd.Timestamp(cut)
    window = demand[(demand.date > cut - pd.Timedelta(days=90)) & (demand.date <= cut)]
    stockout_share = (window.in_stock == False).groupby(window.sku).mean()  # noqa: E712
    recent = window[window.date > cut - pd.Timedelta(days=28)].groupby("sku").units.sum()
    skus = stockout_share[(stockout_share > 0.1) & (stockout_share < 0.7)].index.intersection(recent[recent > 0].index)
    assert len(skus) >= 15
    history = demand[(demand.date <= cut) & demand.sku.isin(skus)]
    future = truth[(truth.date > cut) & (truth.date <= cut + pd.Timedelta(days=28)) & truth.sku.isin(skus)]
    actual = future.groupby("sku").units.mean()
    relative_bias = {}
    for censor in (True, False):
        mean = forecast(history, 28, model="auto", censor_stockouts=censor).groupby("sku")["mean"].mean()
        relative_bias[censor] = float((mean - actual).sum() / actual.sum())
    assert relative_bias[False] < -0.1                            # zeros: biased low
    assert abs(relative_bias[True]) + 0.05 < abs(relative_bias[False])


def test_two_forecasts_concatenate():
    # plans made on different days are stacked for accuracy tracking: their attrs must not block it
    rng = np.random.default_rng(3)
    demand = _long(np.vstack([rng.poisson(5, 120) * 1.0, rng.poisson(0.3, 120) * 1.0]))
    first = forecast(demand, 7, model="ses")
    second = forecast(demand[demand["date"] < demand["date"].max()], 7, model="ses")
    both = pd.concat([first, second], ignore_index=True)
    assert len(both) == len(first) + len(second) == 28


def test_count_quantile_equals_scipy_ppf():
    # the bisection on the CDF gives scipy's ppf exactly, for Poisson (d = 1) and negative binomial
    # (r = mu / (d - 1), p = 1 / d), over small, large and integer means and quantiles in both tails
    from opslib.forecast.core import _count_quantile

    mu, d = (g.ravel() for g in np.meshgrid(np.r_[1e-4, 0.013, 0.3, 1.0, 2.0, 2.5, 7.7, 40.0, 333.3, 5000.0],
                                            [1.0, 1.0 + 1e-9, 1.05, 1.5, 3.0, 12.0, 80.0]))
    for q in (0.005, 0.1, 0.25, 0.5, 0.8, 0.9, 0.975, 0.999):
        nb = d > 1 + 1e-12
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(nb, stats.nbinom.ppf(q, mu / np.where(nb, d - 1, 1.0), 1 / d), stats.poisson.ppf(q, mu))
        np.testing.assert_array_equal(_count_quantile(q, mu, d), expected)


def test_row_nanquantiles_equal_numpy():
    from opslib.forecast.core import _row_nanquantiles

    rng = np.random.default_rng(4)
    values = rng.normal(0, 3, (40, 25)).round(1)                 # ties included
    values[rng.random(values.shape) < 0.3] = np.nan
    values[0, :] = np.nan
    values[1, 1:] = np.nan                                        # one observation
    qs = (0.025, 0.1, 0.5, 0.9, 0.975)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanquantile(values, qs, axis=1)
    np.testing.assert_allclose(_row_nanquantiles(values, qs), expected, rtol=0, atol=1e-12)


def test_repeated_rows_counted_as_pandas_duplicated():
    from opslib.forecast.panel import _repeated

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"sku": rng.choice(["a", "b", "c"], 60), "date": rng.integers(0, 15, 60)})
    def cells(frame):                                          # code x width + column, as to_panel numbers them
        codes, _ = pd.factorize(frame["sku"], sort=True)
        return codes * 15 + frame["date"].to_numpy()

    everywhere = np.ones(len(frame), dtype=bool)
    dup = _repeated(cells(frame), everywhere)
    expected = frame.duplicated(["sku", "date"]).to_numpy()
    assert expected.any()
    np.testing.assert_array_equal(dup, expected)
    off = rng.random(len(frame)) < 0.2                          # rows off the grid are never repeats
    dup = _repeated(cells(frame), ~off)
    np.testing.assert_array_equal(dup, ~off & frame.assign(off=np.where(off, np.arange(len(frame)) + 1, 0))
                                  .duplicated(["sku", "date", "off"]).to_numpy())
    unique = frame[~expected].sort_values(["sku", "date"])                        # sorted: the one-pass check
    assert not _repeated(cells(unique), everywhere[:len(unique)]).any()
    assert not _repeated(cells(unique)[::-1], everywhere[:len(unique)]).any()    # unsorted: the sort


# --------------------------------------------------------------------------- panel: sorted fast path


def _arrow_chunks(*chunks) -> pd.Series:
    """A str Series stored as several Arrow chunks (as read from a large parquet file)."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(c, pa.large_string()) for c in chunks])))


_SKU_COLUMNS = {
    "object sorted": lambda: pd.Series(np.array(["A", "A", "B", "C", "C", "C"], dtype=object)),
    "object unsorted": lambda: pd.Series(np.array(["B", "B", "A", "C", "A"], dtype=object)),
    "object not contiguous": lambda: pd.Series(np.array(["A", "B", "A"], dtype=object)),
    "object with NaN": lambda: pd.Series(np.array(["A", "A", np.nan, "B"], dtype=object)),
    "object with None": lambda: pd.Series(np.array(["A", None, None, "B"], dtype=object)),
    "object mixed types": lambda: pd.Series(np.array(["A", 1, 1], dtype=object)),
    "str sorted": lambda: pd.Series(["A", "A", "B", "C"], dtype="str"),
    "str unsorted": lambda: pd.Series(["C", "A", "A", "B"], dtype="str"),
    "str with NaN": lambda: pd.Series(["A", None, "B", "B"], dtype="str"),
    "python string sorted": lambda: pd.Series(["A", "B", "B"], dtype=pd.StringDtype("python")),
    "python string with NA": lambda: pd.Series(["A", None, "B"], dtype=pd.StringDtype("python")),
    "arrow run across chunks": lambda: _arrow_chunks(["A", "B"], ["B", "C"], [], ["C", "D"]),
    "arrow new SKU at chunk start": lambda: _arrow_chunks(["A", "A"], ["B", "C"]),
    "arrow repeat across chunks": lambda: _arrow_chunks(["A", "B"], ["A"]),
    "arrow unicode": lambda: pd.Series(["Z", "a", "é", "é", "ü", "中"], dtype="str"),
    "categorical, categories not sorted": lambda: pd.Series(pd.Categorical(["B", "B", "A"], categories=["B", "A"])),
    "arrow dtype sorted": lambda: pd.Series(["A", "A", "B", "C"], dtype=pd.ArrowDtype(pa.string())),
    "arrow dtype unsorted": lambda: pd.Series(["B", "A", "A"], dtype=pd.ArrowDtype(pa.string())),
    "integers sorted": lambda: pd.Series([3, 3, 7, 9]),
    "floats sorted": lambda: pd.Series([0.5, 0.5, 2.0]),
    "floats with NaN": lambda: pd.Series([0.5, np.nan, 2.0]),
    "integers unsorted": lambda: pd.Series([9, 3, 3]),
    "one row": lambda: pd.Series(["A"], dtype="str"),
}


@pytest.mark.parametrize("kind", list(_SKU_COLUMNS))
def test_sku_codes_equal_pandas_factorize(kind):
    sku = _SKU_COLUMNS[kind]()
    codes, uniques = pd.factorize(sku, sort=True)
    got = sku_codes(sku)
    np.testing.assert_array_equal(got.codes, codes)
    pd.testing.assert_index_equal(got.skus, pd.Index(uniques, name="sku"), exact=True)


def test_sku_codes_sorted_column_skips_factorize(monkeypatch):
    """The sorted layouts are coded by runs (pandas.factorize is not called); the others by factorize."""
    calls = []
    real = pd.factorize
    monkeypatch.setattr(pd, "factorize", lambda *a, **k: calls.append(1) or real(*a, **k))
    for kind in ("object sorted", "str sorted", "python string sorted", "arrow run across chunks",
                 "arrow new SKU at chunk start", "arrow unicode", "arrow dtype sorted", "integers sorted",
                 "floats sorted"):
        sku_codes(_SKU_COLUMNS[kind]())
    assert calls == []
    for kind in ("object unsorted", "object not contiguous", "str with NaN", "arrow repeat across chunks",
                 "arrow dtype unsorted", "categorical, categories not sorted"):
        sku_codes(_SKU_COLUMNS[kind]())
    assert len(calls) == 6


def _panel_by_hand(demand: pd.DataFrame, grid: pd.DatetimeIndex):
    """The reference pivot: one Python loop over rows."""
    skus = sorted(set(demand["sku"]))
    values = np.full((len(skus), len(grid)), np.nan)
    censored = np.zeros(values.shape, dtype=bool)
    column = {d: j for j, d in enumerate(grid)}
    for sku, date, units, in_stock in demand[["sku", "date", "units", "in_stock"]].itertuples(index=False):
        i, j = skus.index(sku), column[pd.Timestamp(date)]
        censored[i, j] = in_stock is False or (not pd.isna(in_stock) and not in_stock)
        values[i, j] = np.nan if censored[i, j] else units
    return values, censored, skus


@pytest.mark.parametrize("sku_dtype", ["object", "str", "category"])
@pytest.mark.parametrize("order", ["sorted", "shuffled", "sorted by date"])
@pytest.mark.parametrize("spacing", ["daily", "monthly", "daily at noon, unit s", "daily, time zone"])
def test_to_panel_identical_on_every_layout(sku_dtype, order, spacing):
    rng = np.random.default_rng(3)
    rows = []
    for k, sku in enumerate(["S10", "S02", "S07", "S11"]):
        start, length = k * 2, 12 - k
        keep = rng.random(length) > 0.25                                   # gaps inside the history
        keep[0] = keep[-1] = True
        rows += [(sku, start + t) for t in range(length) if keep[t]]
    demand = pd.DataFrame(rows, columns=["sku", "step"])
    if spacing.startswith("daily"):
        dates = pd.Timestamp("2024-02-25") + pd.to_timedelta(demand["step"], unit="D")
        grid_freq = "D"
    else:
        dates = pd.Timestamp("2023-11-01") + demand["step"].map(lambda s: pd.DateOffset(months=s))
        grid_freq = "MS"
    if spacing == "daily at noon, unit s":
        dates = (dates + pd.Timedelta(hours=12)).astype("datetime64[s]")
    if spacing == "daily, time zone":
        dates = dates.dt.tz_localize("Europe/Berlin")                    # crosses the March DST change
    demand = demand.assign(date=dates, units=rng.integers(0, 9, len(demand)).astype(float),
                           in_stock=pd.array(rng.choice([True, False, None], len(demand), p=[0.8, 0.1, 0.1]),
                                             dtype="boolean"))
    demand["sku"] = demand["sku"].astype(sku_dtype)
    if order == "sorted":
        demand = demand.sort_values(["sku", "date"], ignore_index=True)
    elif order == "shuffled":
        demand = demand.sample(frac=1.0, random_state=1, ignore_index=True)
    else:
        demand = demand.sort_values(["date", "sku"], ignore_index=True)
    panel = to_panel(demand)
    grid = pd.date_range(demand["date"].min(), demand["date"].max(), freq=grid_freq)
    values, censored, skus = _panel_by_hand(demand, grid)
    np.testing.assert_array_equal(panel.values, values)
    np.testing.assert_array_equal(panel.censored, censored)
    assert list(panel.skus) == skus and panel.skus.name == "sku"
    pd.testing.assert_index_equal(panel.dates, grid, check_names=False)
    assert panel.frequency.name == ("daily" if spacing.startswith("daily") else "monthly")
    reference = demand.sample(frac=1.0, random_state=2, ignore_index=True)   # the general path
    reference["sku"] = reference["sku"].astype(object)
    general = to_panel(reference)
    np.testing.assert_array_equal(panel.values, general.values)
    pd.testing.assert_index_equal(panel.dates, general.dates, exact=True)


@pytest.mark.parametrize("sku_dtype", ["object", "str"])
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_to_panel_refuses_repeats_and_off_grid_dates_on_every_layout(sku_dtype, order):
    demand = pd.DataFrame({"sku": ["A", "A", "A", "B", "B"],
                           "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-01",
                                                   "2024-01-03"]),
                           "units": [1.0, 2.0, 3.0, 4.0, 5.0]}).astype({"sku": sku_dtype})
    if order == "shuffled":
        demand = demand.iloc[[4, 2, 0, 3, 1]].reset_index(drop=True)
    with pytest.raises(DataError, match="must be unique; 1 repeated rows"):
        to_panel(demand)
    monthly = pd.DataFrame({"sku": ["A", "A", "A", "B"],
                            "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-15", "2024-02-01"]),
                            "units": 1.0}).astype({"sku": sku_dtype})
    if order == "shuffled":
        monthly = monthly.iloc[[3, 1, 2, 0]]
    with pytest.raises(DataError, match="1 dates are off the monthly grid"):
        to_panel(monthly, frequency=infer_frequency(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])))
    hourly = demand.drop_duplicates(["sku", "date"]).assign(date=lambda d: d["date"] + pd.Timedelta(hours=1))
    hourly.loc[hourly.index[0], "date"] -= pd.Timedelta(hours=1)          # one date not whole days apart
    with pytest.raises(DataError, match="off the daily grid"):
        to_panel(hourly)


def test_to_panel_looks_up_each_distinct_day_once(monkeypatch):
    """Dates whole days apart are mapped through their distinct days; others row by row (same columns)."""
    sizes = []
    real = pd.DatetimeIndex.get_indexer
    monkeypatch.setattr(pd.DatetimeIndex, "get_indexer", lambda self, target, *a, **k: sizes.append(len(target))
                        or real(self, target, *a, **k))
    days = pd.date_range("2024-01-01", periods=10)
    demand = pd.DataFrame({"sku": np.repeat(["A", "B", "C"], 10), "date": np.tile(days, 3), "units": 1.0})
    assert to_panel(demand).values.shape == (3, 10) and sizes == [10]
    sizes.clear()
    demand["date"] = demand["date"].dt.tz_localize("UTC")
    assert to_panel(demand).values.shape == (3, 10) and sizes == [30]


def test_rows_without_a_sku_are_refused_not_filed_under_another_sku():
    from opslib.forecast.panel import to_panel

    frame = pd.DataFrame({"sku": ["a", "a", None, "b", "b"],
                          "date": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2 + ["2024-01-03"]),
                          "units": [1.0, 2.0, 5.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="'sku' is empty on 1 rows"):
        to_panel(frame)
