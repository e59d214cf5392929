"""ETS by likelihood (statsmodels ETSModel, AICc over additive-error specifications) and the fallback chain."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from opslib.forecast import FALLBACK_CHAIN, ets, forecast, from_panel


def _long(y, start="2024-01-01", freq="D"):
    y = np.atleast_2d(np.asarray(y, dtype=float))
    return from_panel(y, [f"S{i}" for i in range(len(y))], pd.date_range(start, periods=y.shape[1], freq=freq))


def test_ets_agrees_with_a_direct_etsmodel_fit():
    # a quarterly series with trend and season: fit every candidate with ETSModel directly, keep the smallest AICc
    rng = np.random.default_rng(3)
    t = np.arange(40)
    y = 100 + 0.8 * t + 12 * np.array([1.0, -0.5, -1.0, 0.5])[t % 4] + rng.normal(0, 3, 40)
    specs = {"ANN": {}, "AAN": {"trend": "add"}, "AAdN": {"trend": "add", "damped_trend": True},
             "ANA": {"seasonal": "add", "seasonal_periods": 4},
             "AAA": {"trend": "add", "seasonal": "add", "seasonal_periods": 4},
             "AAdA": {"trend": "add", "damped_trend": True, "seasonal": "add", "seasonal_periods": 4}}
    direct = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, kw in specs.items():
            direct[name] = ETSModel(y, error="add", initialization_method="heuristic", **kw).fit(disp=False)
    best = min(direct, key=lambda k: direct[k].aicc)
    result = ets(y, 8, season_length=4, initialization_method="heuristic")   # heuristic: 5x faster test
    assert result.params["spec"][0] == best
    assert result.params["aicc"][0] == pytest.approx(direct[best].aicc)
    np.testing.assert_allclose(result.mean[0], direct[best].forecast(8), rtol=1e-8)
    np.testing.assert_allclose(result.fitted[0], direct[best].fittedvalues, rtol=1e-8)
    # spread: the analytic relative variance of the h-step error, 1 at h = 1
    assert result.spread[0, 0] == pytest.approx(1.0) and (np.diff(result.spread[0]) >= -1e-12).all()
    # through forecast() (initial states estimated, the default): model column ets, no warning, quarterly dates
    frame = forecast(_long(y[:24], "2015-01-01", "QS"), 4, model="ets")
    assert set(frame["model"]) == {"ets"} and not frame.attrs["warnings"]
    assert frame["date"].iloc[0] == pd.Timestamp("2021-01-01")
    assert np.isfinite(frame["mean"]).all() and (frame["p90"] > frame["p10"]).all()


def test_ets_pathological_series_fall_back_never_crash_never_nan():
    T = 60
    rng = np.random.default_rng(5)
    y = np.full((6, T), np.nan)
    y[0] = 0.0                                                   # all zeros
    y[1] = 0.0
    y[1, 30] = 7.0                                               # one sale
    y[2] = 4.0                                                   # constant
    y[3] = rng.poisson(3, T)
    y[3, 10:20] = np.nan                                         # NaN gap (17% of the history)
    y[4, -3:] = [2.0, 0.0, 1.0]                                  # 3 observations
    y[5] = 3.0                                                   # every day out of stock: nothing observed
    demand = _long(y)
    demand["in_stock"] = demand["sku"] != "S5"
    frame = forecast(demand, 14, model="ets", quantiles=(0.1, 0.5, 0.9))
    values = frame[["mean", "p10", "p50", "p90"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    used = frame.groupby("sku")["model"].first()
    assert (used[["S0", "S1", "S2", "S3", "S4"]] == "ses").all() and used["S5"] == "zero"
    log = pd.DataFrame(frame.attrs["warnings"]).set_index("sku")
    assert (log.loc[["S0", "S1", "S2", "S3", "S4"], "requested"] == "ets").all()
    assert "constant" in log.loc["S0", "reason"] and "constant" in log.loc["S2", "reason"]
    assert "periods with demand" in log.loc["S1", "reason"]
    assert "unobserved" in log.loc["S3", "reason"]
    assert "observations" in log.loc["S4", "reason"]
    np.testing.assert_allclose(frame.loc[frame.sku == "S2", "mean"], 4.0)
    np.testing.assert_allclose(frame.loc[frame.sku == "S0", ["mean", "p90"]], 0.0)


def test_fallback_chain_goes_on_when_the_next_model_fails_too(monkeypatch):
    import opslib.forecast.core as core

    assert FALLBACK_CHAIN == ("ets", "ses", "seasonal_naive", "naive")
    nan_model = lambda y, h, m: core.PointForecast(np.full((len(y), h), np.nan), None, None, {})  # noqa: E731
    monkeypatch.setitem(core.MODELS, "ses", nan_model)
    monkeypatch.setitem(core.MODELS, "seasonal_naive", nan_model)
    y = np.full((1, 30), 2.0)
    y[0, ::3] = 5.0
    frame = forecast(_long(y), 5, model="theta")
    monkeypatch.setitem(core.MODELS, "theta", nan_model)
    frame = forecast(_long(y), 5, model="theta")
    assert frame["model"].iloc[0] == "naive"
    assert [w["used"] for w in frame.attrs["warnings"]] == ["ses", "seasonal_naive", "naive"]
    np.testing.assert_allclose(frame["mean"], 2.0)
