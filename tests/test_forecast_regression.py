"""Regression with ARMA errors (opslib.forecast.regression.arimax) and its regressors.

References: statsmodels' own estimators and state space forecasts of the same model
(``ARIMA(...).fit()`` maximum likelihood, ``SARIMAX(...).smooth(params).get_forecast``),
and the true coefficients of simulated series within their sampling error.
"""

import numpy as np
import pandas as pd
import pytest

from opslib.errors import DataError
from opslib.forecast import event_windows, exogenous_design, forecast
from opslib.promo import promotion_exposure
from opslib.forecast.regression import Regressors, arimax

CONST, PROMO, PRICE, PHI = 10.0, 5.0, -2.0, 0.6


def _simulated(T=600, horizon=14, seed=7, phi=PHI):
    """y = 10 + 5 promo - 2 price + u, u AR(1) with phi = 0.6, sigma = 1."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([(rng.random(T + horizon) < 0.1).astype(float), rng.normal(size=T + horizon)])
    u = np.zeros(T + horizon)
    e = rng.normal(size=T + horizon)
    u[0] = e[0] / np.sqrt(1 - phi ** 2)
    for t in range(1, T + horizon):
        u[t] = phi * u[t - 1] + e[t]
    return CONST + x @ np.array([PROMO, PRICE]) + u, x


def _long(y, x, start="2024-01-01", sku="A"):
    dates = pd.date_range(start, periods=len(y), freq="D")
    demand = pd.DataFrame({"sku": sku, "date": dates, "units": y})
    exog = pd.DataFrame({"sku": sku, "date": pd.date_range(start, periods=len(x), freq="D"),
                         "promo": x[:, 0], "price": x[:, 1]})
    return demand, exog


def test_recovers_known_coefficients_like_statsmodels_mle():
    from statsmodels.tsa.arima.model import ARIMA

    y, x = _simulated()
    T = 600
    result = arimax(y[:T], 14, exog=x, names=["promo", "price"], orders=[(1, 0, 0)])
    coef = result.params["coefficients"][0]
    mle = ARIMA(y[:T], exog=x[:T], order=(1, 0, 0), trend="c").fit()
    # the feasible-GLS estimates agree with statsmodels' exact maximum likelihood ...
    np.testing.assert_allclose([coef["const"], coef["promo"], coef["price"], coef["ar.L1"]],
                               mle.params[:4], atol=0.03)
    # ... and both lie within 3 standard errors of the true values
    truth = np.array([CONST, PROMO, PRICE, PHI])
    assert np.all(np.abs(np.array([coef["const"], coef["promo"], coef["price"], coef["ar.L1"]]) - truth)
                  < 3 * np.asarray(mle.bse[:4]))
    assert result.params["order"][0] == "(1, 0, 0)"


def test_aicc_picks_ar_errors_over_white_noise():
    y, x = _simulated(seed=3)
    result = arimax(y[:600], 14, exog=x, names=["promo", "price"])
    assert result.params["order"][0] in ("(1, 0, 0)", "(2, 0, 0)", "(1, 0, 1)")
    assert "ar.L1" in result.params["coefficients"][0]


@pytest.mark.parametrize("gap", [False, True])
def test_forecast_equals_statsmodels_sarimax_get_forecast(gap):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y, x = _simulated(T=300, seed=11)
    hist = y[:300].copy()
    if gap:
        hist[100:104] = np.nan                                   # censored days: skipped by the likelihood
    result = arimax(hist, 14, exog=x, names=["promo", "price"], orders=[(1, 0, 0)])
    coef = result.params["coefficients"][0]
    params = [coef[k] for k in ("const", "promo", "price", "ar.L1", "sigma2")]
    design = np.column_stack([np.ones(314), x])
    reference = SARIMAX(hist, exog=design[:300], order=(1, 0, 0), trend="n").smooth(params)
    prediction = reference.get_forecast(14, exog=design[300:])
    np.testing.assert_allclose(result.mean[0], prediction.predicted_mean, rtol=1e-8)
    np.testing.assert_allclose(result.params["std"][0], np.sqrt(prediction.var_pred_mean), rtol=1e-8)
    np.testing.assert_allclose(result.spread[0], np.sqrt(prediction.var_pred_mean / prediction.var_pred_mean[0]))


def test_forecast_with_exog_uses_the_planned_promotion():
    y, x = _simulated(T=400, seed=5)
    demand, exog = _long(y[:400], x[:414])
    exog.loc[exog.index[400:], "promo"] = [1.0] * 7 + [0.0] * 7          # a week of promotion planned ahead
    out = forecast(demand, 14, model="arimax", exog=exog, season_length=1)
    assert (out["model"] == "arimax").all()
    mean = out["mean"].to_numpy()
    price_effect = PRICE * exog["price"].to_numpy()[400:]
    # promoted days sit about PROMO above the others (the AR part decays to the mean within days)
    lift = (mean[3:7] - price_effect[3:7]).mean() - (mean[10:14] - price_effect[10:14]).mean()
    assert lift == pytest.approx(PROMO, abs=0.8)
    assert (out[["p10", "p50", "p90"]].diff(axis=1).iloc[:, 1:] >= 0).all().all()


def test_pathological_series_fall_back_with_a_reason():
    dates = pd.date_range("2024-01-01", periods=60, freq="D")
    demand = pd.concat([
        pd.DataFrame({"sku": "zeros", "date": dates, "units": 0.0}),
        pd.DataFrame({"sku": "constant", "date": dates, "units": 4.0}),
        pd.DataFrame({"sku": "three", "date": dates[-3:], "units": [1.0, 0.0, 2.0]}),
        pd.DataFrame({"sku": "fine", "date": dates, "units": np.random.default_rng(0).poisson(5, 60).astype(float)}),
    ], ignore_index=True)
    out = forecast(demand, 7, model="arimax")
    assert np.isfinite(out[["mean", "p10", "p50", "p90"]].to_numpy()).all()
    assert (out[["mean", "p10", "p50", "p90"]] >= 0).all().all()
    used = out.groupby("sku")["model"].first()
    assert used["fine"] == "arimax"
    assert (used[["zeros", "constant", "three"]] != "arimax").all()
    warnings = pd.DataFrame(out.attrs["warnings"]).set_index("sku")
    assert "constant series" in warnings.loc["constant", "reason"]
    assert "constant series" in warnings.loc["zeros", "reason"]
    assert "3 observations" in warnings.loc["three", "reason"]
    constant = out[out["sku"] == "constant"]["mean"]
    np.testing.assert_allclose(constant, 4.0)                     # the fallback (SES) keeps the constant


def test_exog_errors_are_clear():
    y, x = _simulated(T=100, seed=1)
    demand, exog = _long(y[:100], x[:114])
    with pytest.raises(DataError, match="forecast horizon"):
        forecast(demand, 14, model="arimax", exog=exog.iloc[:105])            # future rows missing
    shifted = exog.assign(date=exog["date"] + pd.Timedelta(hours=12))
    with pytest.raises(DataError, match="misaligned"):
        forecast(demand, 14, model="arimax", exog=shifted)
    holes = exog.copy()
    holes.loc[5, "promo"] = np.nan
    with pytest.raises(DataError, match="missing value"):
        forecast(demand, 14, model="arimax", exog=holes)
    with pytest.raises(DataError, match="not numeric"):
        forecast(demand, 14, model="arimax", exog=exog.assign(promo="yes"))
    with pytest.raises(DataError, match="model='arimax'"):
        forecast(demand, 14, model="ses", exog=exog)
    with pytest.raises(DataError, match="engine"):
        forecast(demand, 14, model="arimax", exog=exog, engine="threads")
    with pytest.raises(ValueError, match="shape"):
        arimax(y[:100], 14, exog=x[:100])


def test_processes_engine_equals_in_process():
    frames, exogs = [], []
    for i in range(3):
        y, x = _simulated(T=100, seed=20 + i)
        d, e = _long(np.round(np.maximum(y[:100], 0)), x[:114], sku=f"S{i}")
        frames.append(d)
        exogs.append(e)
    demand, exog = pd.concat(frames, ignore_index=True), pd.concat(exogs, ignore_index=True)
    here = forecast(demand, 14, model="arimax", exog=exog)
    pool = forecast(demand, 14, model="arimax", exog=exog, engine="processes")
    pd.testing.assert_frame_equal(here, pool)
    small = demand[demand["sku"].isin(["S0", "S1"]) & (demand["date"] >= "2024-03-01")]
    pd.testing.assert_frame_equal(forecast(small, 7, model="ets", season_length=1),
                                  forecast(small, 7, model="ets", season_length=1, engine="processes"))


def test_event_windows_flags_days_before_and_after():
    calendar = pd.DataFrame({"date": pd.to_datetime(["2024-11-11", "2024-11-12", "2024-11-20"]),
                             "event": ["Double 11", "Double 11", "Sale|Double 11"]})
    days = pd.date_range("2024-11-05", "2024-11-25", freq="D")
    flags = event_windows(calendar, days, before_days=2, after_days=3)
    on = lambda col: list(flags.index[flags[col] == 1].day)  # noqa: E731
    assert on("event: Double 11") == [11, 12, 20]
    assert on("before: Double 11") == [9, 10, 18, 19]
    assert on("after: Double 11") == [13, 14, 15, 21, 22, 23]
    assert on("event: Sale") == [20]


def test_exogenous_design_reads_the_promotion_plan_into_the_horizon():
    demand = pd.DataFrame({"sku": "A", "date": pd.date_range("2024-01-01", periods=10, freq="D"), "units": 1.0})
    items = pd.DataFrame({"sku": ["A"], "category": ["snacks"], "price": [10.0], "unit_cost": [5.0]})
    promotions = pd.DataFrame({"promo_id": ["P1"], "mechanic": ["percent_off"], "start": ["2024-01-12"],
                               "end": ["2024-01-13"], "scope": ["sku:A"], "depth": [0.2]})
    days = promotion_exposure(promotions, items)     # the plan, read by the promotion engine
    out = exogenous_design(demand, 5, promotion_days=days, items=items, after_days=1)
    assert len(out) == 15 and out["date"].max() == pd.Timestamp("2024-01-15")
    assert list(out.loc[out["promo"] == 1, "date"].dt.day) == [12, 13]
    assert out.loc[out["promo"] == 1, "promo_depth"].tolist() == [0.2, 0.2]
    assert list(out.loc[out["promo_after"] == 1, "date"].dt.day) == [14]
    with pytest.raises(DataError, match="promotion_days"):
        exogenous_design(demand, 5, promotion_days=promotions, items=items)


def test_regressors_take_rows():
    values = np.arange(24.0).reshape(2, 4, 3)
    part = Regressors(values, ("a", "b", "c"))[np.array([1])]
    assert part.values.shape == (1, 4, 3) and part.names == ("a", "b", "c")
