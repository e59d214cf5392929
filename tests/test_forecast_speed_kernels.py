"""The fast paths of the forecast engine give the numbers of their general paths.

``to_panel`` fills a table sorted by SKU and date with a row every period (the usual demand table)
by one slice copy per SKU (``_fill_sorted``), without coding every row; the result must equal a
pivot written as a Python loop over rows, and any other layout (gaps, repeats, unsorted, a missing
SKU) must take the general path with its errors unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from opslib import DataError
from opslib.forecast import panel as panel_module
from opslib.forecast import to_panel
from opslib.forecast.panel import _fill_sorted, _sorted_runs


def _pivot_by_hand(demand: pd.DataFrame, grid: pd.DatetimeIndex):
    """The reference: one Python loop over rows (censored rows: NaN and flagged)."""
    skus = sorted(set(demand["sku"]))
    values = np.full((len(skus), len(grid)), np.nan)
    censored = np.zeros(values.shape, dtype=bool)
    column = {d: j for j, d in enumerate(grid)}
    for sku, date, units, in_stock in demand[["sku", "date", "units", "in_stock"]].itertuples(index=False):
        i, j = skus.index(sku), column[pd.Timestamp(date)]
        censored[i, j] = not pd.isna(in_stock) and not in_stock
        values[i, j] = np.nan if censored[i, j] else units
    return values, censored, skus


def _gapless_demand(sku_dtype: str, seed: int = 4) -> pd.DataFrame:
    """Sorted by SKU and date, every day from each SKU's listing to its last day (some end early)."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, sku in enumerate(["A07", "B01", "B02", "C10", "D00"]):
        first, last = int(rng.integers(0, 6)), int(rng.integers(12, 16)) if k != 2 else 15
        rows += [(sku, t) for t in range(first, last + 1)]
    rows.append(("E99", 9))                                        # a SKU with one row
    demand = pd.DataFrame(rows, columns=["sku", "step"])
    demand = demand.assign(date=pd.Timestamp("2024-03-25") + pd.to_timedelta(demand.pop("step"), unit="D"),
                           units=rng.integers(0, 9, len(demand)).astype(float),
                           in_stock=pd.array(rng.choice([True, False, None], len(demand), p=[0.8, 0.1, 0.1]),
                                             dtype="boolean"))
    if sku_dtype == "arrow chunks":                                # as read from a large parquet file
        skus = demand["sku"].tolist()
        demand["sku"] = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(
            [pa.array(skus[:7], pa.large_string()), pa.array(skus[7:], pa.large_string())])))
    else:
        demand["sku"] = demand["sku"].astype(sku_dtype)
    return demand


@pytest.mark.parametrize("sku_dtype", ["object", "str", "arrow chunks"])
def test_to_panel_sorted_gapless_table_by_slices_equals_the_row_loop(monkeypatch, sku_dtype):
    demand = _gapless_demand(sku_dtype)
    grid = pd.date_range(demand["date"].min(), demand["date"].max(), freq="D")
    values, censored, skus = _pivot_by_hand(demand, grid)
    monkeypatch.setattr(panel_module, "_run_codes", lambda *a, **k: pytest.fail("the sorted table was coded"))
    monkeypatch.setattr(panel_module, "sku_codes", lambda *a, **k: pytest.fail("the sorted table was coded"))
    panel = to_panel(demand)
    np.testing.assert_array_equal(panel.values, values)
    np.testing.assert_array_equal(panel.censored, censored)
    assert list(panel.skus) == skus and panel.skus.name == "sku"
    pd.testing.assert_index_equal(panel.dates, grid, check_names=False)
    np.testing.assert_array_equal(to_panel(demand, censor=False).values[~censored], values[~censored])
    assert np.isfinite(to_panel(demand, censor=False).values[censored]).all()
    monkeypatch.undo()
    general = to_panel(demand.sample(frac=1.0, random_state=0, ignore_index=True))   # shuffled: coded rows
    np.testing.assert_array_equal(panel.values, general.values)
    np.testing.assert_array_equal(panel.censored, general.censored)
    pd.testing.assert_index_equal(panel.skus, general.skus)


def test_fill_sorted_refuses_every_other_layout():
    sku = _sorted_runs(pd.Series(["A", "A", "A", "B", "B"], dtype="str"))
    value = np.arange(5.0)
    filled = _fill_sorted(sku, np.array([1, 2, 3, 0, 1]), value, 4)
    np.testing.assert_array_equal(filled[0], [[np.nan, 0, 1, 2], [3, 4, np.nan, np.nan]])
    np.testing.assert_array_equal(filled[2], [0, 3])
    for column in ([1, 3, 4, 0, 1],                                 # a gap inside A
                   [1, 2, 2, 0, 1],                                 # a repeated day
                   [1, 0, 2, 0, 1],                                 # a step back
                   [-1, 0, 1, 0, 1],                                # off the grid
                   [1, 2, 3, 3, 4]):                                # past the last column
        assert _fill_sorted(sku, np.array(column), value, 4) is None, column
    assert _sorted_runs(pd.Series(["B", "B", "A", "A", "A"])) is None             # not in order: coded rows
    assert _sorted_runs(pd.Series(["A", "A", None, "B", "B"], dtype="str")) is None
    assert _fill_sorted(sku, np.array([1.0, 2, 3, 0, 1]), value, 4) is None   # not integer columns


def test_to_panel_errors_unchanged_next_to_the_sorted_path():
    # a repeated (sku, date) breaks the consecutive days: the general path finds and reports it
    demand = pd.DataFrame({"sku": ["A", "A", "A", "B"],
                           "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-01"]),
                           "units": 1.0})
    with pytest.raises(DataError, match="must be unique; 1 repeated rows"):
        to_panel(demand)
    with pytest.raises(DataError, match="column 'sku' is empty"):
        to_panel(demand.assign(sku=["A", "A", None, None]).drop_duplicates(["sku", "date"]))


def test_to_panel_sorted_table_with_gaps_codes_rows_from_its_runs(monkeypatch):
    # sorted by SKU and date but with a missing day: the general path, coded from the runs already
    # found (pandas.factorize not called), equal to the row loop
    demand = _gapless_demand("str")
    demand = demand.drop(index=[3, 17]).reset_index(drop=True)
    grid = pd.date_range(demand["date"].min(), demand["date"].max(), freq="D")
    values, censored, skus = _pivot_by_hand(demand, grid)
    monkeypatch.setattr(pd, "factorize", lambda *a, **k: pytest.fail("factorize called"))
    panel = to_panel(demand)
    np.testing.assert_array_equal(panel.values, values)
    np.testing.assert_array_equal(panel.censored, censored)
    assert list(panel.skus) == skus
