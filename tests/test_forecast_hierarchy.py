"""Hierarchical reconciliation: hand-computed small hierarchies, closed forms, and coherence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from opslib import DataError
from opslib.forecast import backtest, forecast, from_panel
from opslib.forecast.hierarchy import (RECONCILIATION_METHODS, aggregate_demand, hierarchy, mint_shrink_covariance,
                                       reconcile)

DATES = pd.date_range("2025-01-01", periods=2, freq="D")
Z90 = stats.norm.ppf(0.9)


def _frame(means: dict, sigma: dict | None = None, model="ses"):
    rows = []
    for name, values in means.items():
        for date, v in zip(DATES, values):
            row = {"sku": name, "date": date, "mean": float(v), "model": model}
            if sigma is not None:
                row["p10"], row["p90"] = v - Z90 * sigma[name], v + Z90 * sigma[name]
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture
def small():
    # total -> A (a1, a2), B (b1)
    items = pd.DataFrame({"sku": ["a1", "a2", "b1"], "category": ["A", "A", "B"]})
    hier = hierarchy(items, ["category"])
    skus = _frame({"a1": [2, 4], "a2": [6, 4], "b1": [2, 2]}, sigma={"a1": 1.0, "a2": 2.0, "b1": 2.0})
    aggregates = {"total": _frame({"total": [12, 20]}), "category": _frame({"A": [6, 10], "B": [3, 10]})}
    return hier, skus, aggregates


def _wide(result, level):
    part = result[result["level"] == level]
    return part.pivot(index="node", columns="date", values="mean")


def test_summing_matrix_by_hand(small):
    hier = small[0]
    assert hier.levels == ("total", "category", "sku")
    assert list(hier.nodes["node"]) == ["total", "A", "B", "a1", "a2", "b1"]
    np.testing.assert_array_equal(hier.summing_matrix, [[1, 1, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0],
                                                        [0, 0, 1]])


def test_bottom_up_by_hand(small):
    hier, skus, _ = small
    out = reconcile(skus, hier, method="bottom_up")
    np.testing.assert_allclose(_wide(out, "total").to_numpy(), [[10, 10]], atol=1e-12)
    np.testing.assert_allclose(_wide(out, "category").loc[["A", "B"]].to_numpy(), [[8, 8], [2, 2]], atol=1e-12)
    # SKU quantiles unchanged; aggregate quantiles: normal, independent SKUs (correlation 0)
    sku_rows = out[out["level"] == "sku"]
    np.testing.assert_allclose(sku_rows["p90"].to_numpy(), skus["p90"].to_numpy())
    total = out[out["level"] == "total"]
    np.testing.assert_allclose(total["p90"], 10 + Z90 * np.sqrt(1 + 4 + 4))
    np.testing.assert_allclose(total["p10"], 10 - Z90 * 3.0)
    a = out[(out["level"] == "category") & (out["node"] == "A")]
    np.testing.assert_allclose(a["p90"], 8 + Z90 * np.sqrt(5))
    # perfectly correlated SKUs: the sigmas add
    together = reconcile(skus, hier, method="bottom_up", correlation=1.0)
    np.testing.assert_allclose(together[together["level"] == "total"]["p90"], 10 + Z90 * 5.0)


def test_top_down_forecast_proportions_by_hand(small):
    # Athanasopoulos et al. (2009): date 1 shares A 6/9, B 3/9; within A a1 2/8, a2 6/8 -> 12 * (2/3)(1/4) = 2,
    # 12 * (2/3)(3/4) = 6, b1 12/3 = 4. Date 2: A 10/20, a1 4/8 -> 20/4 = 5, a2 5, b1 10.
    hier, skus, aggregates = small
    out = reconcile(skus, hier, method="top_down_forecast_proportions", aggregate_forecasts=aggregates)
    np.testing.assert_allclose(_wide(out, "sku").loc[["a1", "a2", "b1"]].to_numpy(), [[2, 5], [6, 5], [4, 10]],
                               atol=1e-12)
    np.testing.assert_allclose(_wide(out, "total").to_numpy(), [[12, 20]], atol=1e-12)
    np.testing.assert_allclose(_wide(out, "category").loc[["A", "B"]].to_numpy(), [[8, 10], [4, 10]], atol=1e-12)
    # SKU quantiles move with the mean: b1 p90 = 2 + z sigma + (4 - 2)
    b1 = out[(out["node"] == "b1")]
    np.testing.assert_allclose(b1["p90"], [4 + Z90 * 2, 10 + Z90 * 2])


def test_top_down_historical_proportions_by_hand(small):
    # history: a1 sold 10, a2 30, b1 60 units -> shares 0.1, 0.3, 0.6 of the total forecast 12 and 20
    hier, skus, aggregates = small
    history = pd.DataFrame({"sku": ["a1", "a1", "a2", "b1"], "date": pd.to_datetime(["2024-12-30", "2024-12-31"] * 2),
                            "units": [4.0, 6.0, 30.0, 60.0]})
    out = reconcile(skus, hier, method="top_down_historical_proportions",
                    aggregate_forecasts={"total": aggregates["total"]}, history=history)
    np.testing.assert_allclose(_wide(out, "sku").loc[["a1", "a2", "b1"]].to_numpy(),
                               [[1.2, 2.0], [3.6, 6.0], [7.2, 12.0]], atol=1e-12)


def test_ols_closed_form_two_series():
    # total -> a, b: OLS splits the incoherence e = yT - ya - yb equally over the three series
    # (Hyndman et al. 2011): a~ = ya + e/3, b~ = yb + e/3, total~ = yT - e/3.
    hier = hierarchy(pd.DataFrame({"sku": ["a", "b"]}), [])
    skus = pd.DataFrame({"sku": ["a", "b"], "date": DATES[0], "mean": [4.0, 5.0]})
    total = pd.DataFrame({"sku": ["total"], "date": DATES[0], "mean": [12.0]})
    out = reconcile(skus, hier, method="ols", aggregate_forecasts={"total": total}).set_index("node")["mean"]
    assert out["a"] == pytest.approx(5.0) and out["b"] == pytest.approx(6.0) and out["total"] == pytest.approx(11.0)


def test_trace_minimisation_equals_weighted_least_squares(small):
    # second method: b = argmin sum_i (yhat_i - (S b)_i)^2 / w_i, by numpy's least squares
    hier, skus, aggregates = small
    yhat = np.array([[12, 20], [6, 10], [3, 10], [2, 4], [6, 4], [2, 2]], dtype=float)
    S = hier.summing_matrix
    for method, w in (("ols", np.ones(6)), ("wls_structural", S.sum(axis=1))):
        out = reconcile(skus, hier, method=method, aggregate_forecasts=aggregates)
        root = 1 / np.sqrt(w)
        b = np.linalg.lstsq(S * root[:, None], yhat * root[:, None], rcond=None)[0]
        np.testing.assert_allclose(_wide(out, "sku").loc[["a1", "a2", "b1"]].to_numpy(), b, atol=1e-10)
        np.testing.assert_allclose(_wide(out, "total").to_numpy(), S[:1] @ b, atol=1e-10)


def test_mint_shrink_uncorrelated_errors_is_variance_weighting():
    # Orthogonal centred error columns: every sample correlation is 0, so lambda = 1 and W = diag(variances).
    # For total -> a, b the weighted projection gives a~ = ya + w_a e / (w_T + w_a + w_b), e = yT - ya - yb.
    h = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=float)[:, 1:]
    scales = np.array([1.0, 2.0, 3.0])                       # total, a, b
    e = h * scales
    cov, lam = mint_shrink_covariance(e)
    assert lam == pytest.approx(1.0)
    np.testing.assert_allclose(cov, np.diag(scales ** 2 * 4 / 3))
    hier = hierarchy(pd.DataFrame({"sku": ["a", "b"]}), [])
    errors = pd.DataFrame({"level": np.repeat(["total", "sku", "sku"], 4), "node": np.repeat(["total", "a", "b"], 4),
                           "window": np.tile(np.arange(4), 3), "error": e.T.ravel()})
    skus = pd.DataFrame({"sku": ["a", "b"], "date": DATES[0], "mean": [4.0, 5.0]})
    total = pd.DataFrame({"sku": ["total"], "date": DATES[0], "mean": [12.0]})
    out = reconcile(skus, hier, method="mint_shrink", aggregate_forecasts={"total": total},
                    errors=errors).set_index("node")["mean"]
    w = scales ** 2
    incoherence = 12.0 - 9.0
    assert out["a"] == pytest.approx(4 + w[1] * incoherence / w.sum())
    assert out["b"] == pytest.approx(5 + w[2] * incoherence / w.sum())
    assert out["total"] == pytest.approx(12 - w[0] * incoherence / w.sum())


def test_mint_shrink_intensity_against_direct_formula():
    # lambda of Schaefer and Strimmer (2005) computed pair by pair, as in R hts::shrink.estim
    rng = np.random.default_rng(1)
    e = rng.normal(size=(30, 4)) @ np.array([[1, .5, 0, 0], [0, 1, .3, 0], [0, 0, 1, .2], [0, 0, 0, 1]])
    x = (e - e.mean(0)) / e.std(0, ddof=1)
    n = len(e)
    num = den = 0.0
    for i in range(4):
        for j in range(4):
            if i != j:
                w = x[:, i] * x[:, j]
                num += n / (n - 1) ** 3 * ((w - w.mean()) ** 2).sum()
                den += (n / (n - 1) * w.mean()) ** 2
    cov, lam = mint_shrink_covariance(e)
    assert lam == pytest.approx(num / den)
    sample = np.cov(e, rowvar=False)
    np.testing.assert_allclose(cov, lam * np.diag(np.diag(sample)) + (1 - lam) * sample)


def test_coherent_forecasts_stay_put(small):
    # S G S = S: projections leave already coherent base forecasts unchanged (unbiasedness, Hyndman et al. 2011)
    hier, skus, _ = small
    coherent = {"total": _frame({"total": [10, 10]}), "category": _frame({"A": [8, 8], "B": [2, 2]})}
    for method in ("ols", "wls_structural", "top_down_forecast_proportions"):
        out = reconcile(skus, hier, method=method, aggregate_forecasts=coherent)
        np.testing.assert_allclose(_wide(out, "sku").loc[["a1", "a2", "b1"]].to_numpy(), [[2, 4], [6, 4], [2, 2]],
                                   atol=1e-10)


def test_every_method_coherent_on_forecasts():
    rng = np.random.default_rng(7)
    n, T = 6, 140
    level = rng.uniform(0.3, 8, n)[:, None] * (1 + 0.3 * np.sin(np.arange(T) * 2 * np.pi / 7))
    y = rng.poisson(level).astype(float)
    skus = [f"S{i}" for i in range(n)]
    demand = from_panel(y, skus, pd.date_range("2025-01-01", periods=T, freq="D"))
    items = pd.DataFrame({"sku": skus, "department": ["d1"] * 4 + ["d2"] * 2,
                          "category": ["c1", "c1", "c2", "c2", "c3", "c3"]})
    hier = hierarchy(items, ["department", "category"])
    horizon = 14
    base = forecast(demand, horizon, model="ses")
    aggregated = {lv: aggregate_demand(demand, hier, lv) for lv in ("total", "department", "category")}
    assert aggregated["total"]["units"].sum() == pytest.approx(y.sum())
    aggs = {lv: forecast(d, horizon, model="ses") for lv, d in aggregated.items()}
    frames = [backtest(demand, horizon, windows=3, models=["ses"]).assign(level="sku")]
    frames += [backtest(d, horizon, windows=3, models=["ses"]).assign(level=lv) for lv, d in aggregated.items()]
    errors = pd.concat(frames, ignore_index=True).rename(columns={"sku": "node"})[["level", "node", "window", "h",
                                                                                     "error"]]
    S = hier.summing_matrix
    for method in RECONCILIATION_METHODS:
        out = reconcile(base, hier, method=method, aggregate_forecasts=aggs, history=demand, errors=errors)
        wide = out.pivot(index=["level", "node"], columns="date", values="mean")
        ordered = wide.loc[list(zip(hier.nodes["level"], hier.nodes["node"]))].to_numpy()
        bottom = ordered[hier.rows("sku")]
        np.testing.assert_allclose(ordered, S @ bottom, rtol=0, atol=1e-9)
        assert (out["mean"] >= 0).all() and (out["p10"] <= out["p90"]).all()
        assert len(out) == S.shape[0] * horizon


def test_refusals(small):
    hier, skus, aggregates = small
    with pytest.raises(DataError, match="method must be one of"):
        reconcile(skus, hier, method="middle_out")
    with pytest.raises(DataError, match="needs base forecasts of level"):
        reconcile(skus, hier, method="ols")
    with pytest.raises(DataError, match="missing"):
        reconcile(skus[skus["sku"] != "b1"], hier)
    with pytest.raises(DataError, match="needs history"):
        reconcile(skus, hier, method="top_down_historical_proportions", aggregate_forecasts=aggregates)
    with pytest.raises(DataError, match="needs errors"):
        reconcile(skus, hier, method="mint_shrink", aggregate_forecasts=aggregates)
    with pytest.raises(DataError, match="do not nest"):
        hierarchy(pd.DataFrame({"sku": ["x", "y"], "dept": ["d1", "d2"], "category": ["c", "c"]}), ["dept", "category"])
    with pytest.raises(DataError, match="lacks column"):
        hierarchy(pd.DataFrame({"sku": ["x"]}), ["category"])
    with pytest.raises(DataError, match="more than once"):
        hierarchy(pd.DataFrame({"sku": ["x", "x"], "category": ["c", "c"]}))
