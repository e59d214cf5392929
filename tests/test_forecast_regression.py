"""Regression with ARMA errors (opslib.forecast.regression.arimax) and its regressors.

References: statsmodels' own estimators and state space forecasts of the same model
(``ARIMA(...).fit()`` maximum likelihood, ``SARIMAX(...).smooth(params).get_forecast``),
and the true coefficients of simulated series within their sampling error. The batched
Cochrane-Orcutt estimator is checked against statsmodels on single series on the units
scale (``transform="none"``) and on log1p(units).
"""

import numpy as np
import pandas as pd
import pytest

from opslib.errors import DataError
from opslib.forecast import event_windows, exogenous_design, forecast
from opslib.forecast.features import festival_windows, regressor_array
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
    result = arimax(y[:T], 14, exog=x, names=["promo", "price"], orders=[(1, 0, 0)], transform="none")
    coef = result.params["coefficients"][0]
    mle = ARIMA(y[:T], exog=x[:T], order=(1, 0, 0), trend="c").fit()
    # the Cochrane-Orcutt feasible-GLS estimates agree with statsmodels' exact maximum likelihood ...
    np.testing.assert_allclose([coef["const"], coef["promo"], coef["price"], coef["ar.L1"]],
                               mle.params[:4], atol=0.03)
    # ... and both lie within 3 standard errors of the true values
    truth = np.array([CONST, PROMO, PRICE, PHI])
    assert np.all(np.abs(np.array([coef["const"], coef["promo"], coef["price"], coef["ar.L1"]]) - truth)
                  < 3 * np.asarray(mle.bse[:4]))
    assert result.params["order"][0] == "(1, 0, 0)"


def test_aicc_picks_ar_errors_over_white_noise():
    y, x = _simulated(seed=3)
    result = arimax(y[:600], 14, exog=x, names=["promo", "price"], transform="none")
    assert result.params["order"][0] in ("(1, 0, 0)", "(2, 0, 0)")
    assert "ar.L1" in result.params["coefficients"][0]


def test_white_noise_errors_are_ordinary_least_squares():
    y, x = _simulated(seed=4, phi=0.0)
    result = arimax(y[:600], 14, exog=x, names=["promo", "price"], orders=[(0, 0, 0)], transform="none")
    design = np.column_stack([np.ones(600), x[:600]])
    beta, ssr = np.linalg.lstsq(design, y[:600], rcond=None)[:2]
    coef = result.params["coefficients"][0]
    np.testing.assert_allclose([coef["const"], coef["promo"], coef["price"]], beta, rtol=1e-10)
    np.testing.assert_allclose(result.mean[0], np.column_stack([np.ones(14), x[600:]]) @ beta, rtol=1e-10)
    # OLS standard errors, sigma^2 = SSR / N on the likelihood rows (all but the first two)
    se = result.params["std_errors"][0]
    assert se["promo"] == pytest.approx(np.sqrt(coef["sigma2"] * np.linalg.inv(design.T @ design)[1, 1]), rel=1e-8)


@pytest.mark.parametrize("gap,order", [(False, (1, 0, 0)), (True, (1, 0, 0)), (True, (2, 0, 0))])
def test_forecast_equals_statsmodels_sarimax_get_forecast(gap, order):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y, x = _simulated(T=300, seed=11)
    hist = y[:300].copy()
    if gap:
        hist[100:104] = np.nan                                   # censored days: skipped by the estimator
    result = arimax(hist, 14, exog=x, names=["promo", "price"], orders=[order], transform="none")
    coef = result.params["coefficients"][0]
    params = [coef[k] for k in ("const", "promo", "price", *[f"ar.L{j + 1}" for j in range(order[0])], "sigma2")]
    design = np.column_stack([np.ones(314), x])
    reference = SARIMAX(hist, exog=design[:300], order=order, trend="n").smooth(params)
    prediction = reference.get_forecast(14, exog=design[300:])
    np.testing.assert_allclose(result.mean[0], prediction.predicted_mean, rtol=1e-8)
    np.testing.assert_allclose(result.params["std"][0], np.sqrt(prediction.var_pred_mean), rtol=1e-8)
    np.testing.assert_allclose(result.spread[0], np.sqrt(prediction.var_pred_mean / prediction.var_pred_mean[0]))


def test_log1p_scale_agrees_with_statsmodels_on_log1p_units():
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y, x = _simulated(T=500, seed=9)
    units = np.round(np.exp(0.2 * y[:500]))                          # multiplicative effects, counts
    result = arimax(units, 14, exog=x, names=["promo", "price"], orders=[(1, 0, 0)])
    coef = result.params["coefficients"][0]
    z = np.log1p(units)
    mle = ARIMA(z, exog=x[:500], order=(1, 0, 0), trend="c").fit()
    np.testing.assert_allclose([coef["const"], coef["promo"], coef["price"], coef["ar.L1"]], mle.params[:4],
                               atol=0.03)
    params = [coef[k] for k in ("const", "promo", "price", "ar.L1", "sigma2")]
    design = np.column_stack([np.ones(514), x])
    prediction = SARIMAX(z, exog=design[:500], order=(1, 0, 0), trend="n").smooth(params).get_forecast(
        14, exog=design[500:])
    mu, v = np.asarray(prediction.predicted_mean), np.asarray(prediction.var_pred_mean)
    np.testing.assert_allclose(result.mean[0], np.exp(mu + v / 2) - 1, rtol=1e-8)        # log-normal mean
    np.testing.assert_allclose(result.params["std"][0], np.sqrt(np.expm1(v) * np.exp(2 * mu + v)), rtol=1e-8)


def test_batched_fit_equals_one_series_at_a_time():
    ys, xs = [], []
    for seed in range(4):
        y, x = _simulated(T=200, seed=30 + seed, phi=0.2 * seed)
        ys.append(np.round(np.exp(0.2 * y[:200])))
        xs.append(x[:214])
    ys[2][:30] = np.nan                                                # a later start
    ys[3][50:55] = np.nan                                              # censored days
    together = arimax(np.stack(ys), 14, season_length=7, exog=np.stack(xs), names=["promo", "price"])
    for i in range(4):
        alone = arimax(ys[i], 14, season_length=7, exog=xs[i], names=["promo", "price"])
        np.testing.assert_allclose(together.mean[i], alone.mean[0], rtol=1e-9)
        assert together.params["order"][i] == alone.params["order"][0]
        assert together.params["coefficients"][i] == pytest.approx(alone.params["coefficients"][0], rel=1e-9)


def test_forecast_with_exog_uses_the_planned_promotion():
    rng = np.random.default_rng(5)
    T, h, lift = 400, 14, 0.5                                          # promoted days: demand x exp(0.5)
    promo = np.r_[(rng.random(T) < 0.1).astype(float), [1.0] * 7 + [0.0] * 7]   # a week planned ahead
    units = rng.poisson(40 * np.exp(lift * promo[:T])).astype(float)
    demand = pd.DataFrame({"sku": "A", "date": pd.date_range("2024-01-01", periods=T), "units": units})
    exog = pd.DataFrame({"sku": "A", "date": pd.date_range("2024-01-01", periods=T + h), "promo": promo})
    out = forecast(demand, h, model="arimax", exog=exog, season_length=1)
    assert (out["model"] == "arimax").all()
    mean = out["mean"].to_numpy()
    assert mean[:7].mean() / mean[7:].mean() == pytest.approx(np.exp(lift), rel=0.1)
    assert mean[7:].mean() == pytest.approx(40, rel=0.1)
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
    out = exogenous_design(demand, 5, promotion_days=days, items=items, after_days=1, promo_flag=True)
    assert "promo" not in exogenous_design(demand, 5, promotion_days=days, items=items).columns
    assert len(out) == 15 and out["date"].max() == pd.Timestamp("2024-01-15")
    assert list(out.loc[out["promo"] == 1, "date"].dt.day) == [12, 13]
    np.testing.assert_allclose(out.loc[out["promo"] == 1, "promo_log_discount"], np.log(0.8))
    assert (out.loc[out["promo"] == 0, "promo_log_discount"] == 0).all()
    assert list(out.loc[out["promo_after"] == 1, "date"].dt.day) == [14]
    with pytest.raises(DataError, match="promotion_days"):
        exogenous_design(demand, 5, promotion_days=promotions, items=items)


def test_regressors_take_rows():
    values = np.arange(24.0).reshape(2, 4, 3)
    part = Regressors(values, ("a", "b", "c"))[np.array([1])]
    assert part.values.shape == (1, 4, 3) and part.names == ("a", "b", "c")


def test_festival_windows_group_phases_and_pool_holidays():
    calendar = pd.DataFrame({
        "date": pd.to_datetime(["2024-11-08", "2024-11-09", "2024-11-10", "2024-11-11", "2024-11-20", "2024-11-21",
                                "2024-11-24"]),
        "event": ["Double 11 presale", "Double 11 presale", "Double 11 presale", "Double 11", "Founders", "Founders",
                  None],
        "is_holiday": [False, False, False, False, True, True, False],
        "supplier_shutdown": [False] * 6 + [True]})
    days = pd.date_range("2024-11-01", "2024-11-30", freq="D")
    flags = festival_windows(calendar, days, after_days=2)
    on = lambda col: list(flags.index[flags[col] == 1].day)  # noqa: E731
    assert list(flags.columns) == ["Double 11: presale", "Double 11: peak", "Double 11: after", "holiday", "shutdown"]
    assert on("Double 11: presale") == [8, 9, 10]
    assert on("Double 11: peak") == [11]
    assert on("Double 11: after") == [12, 13]
    assert on("holiday") == [20, 21]                       # a holiday event gets no columns of its own
    assert on("shutdown") == [24]
    typed = calendar.assign(event_type=["Shopping"] * 4 + ["National"] * 2 + [None], is_holiday=False)
    assert "Shopping: peak" in festival_windows(typed, days).columns    # grouped by event type


def test_regressor_array_holds_calendar_columns_once():
    dates = pd.date_range("2024-01-01", periods=30, freq="D")
    future = pd.date_range("2024-01-31", periods=5, freq="D")
    grid = dates.append(future)
    exog = pd.concat([pd.DataFrame({"sku": s, "date": grid, "weekend": (grid.day_of_week >= 5).astype(float),
                                    "promo": float(i) * (grid.day == 3)}) for i, s in enumerate(["A", "B"])])
    reg = regressor_array(exog, pd.Index(["A", "B"]), dates, future, np.array([0, 10]))
    assert reg.shared_names == ("weekend",) and reg.names == ("promo",)
    assert reg.values.shape == (2, 35, 1) and reg.shared.shape == (35, 1)
    np.testing.assert_array_equal(reg.design()[1, 10:, 0], (grid[10:].day_of_week >= 5).astype(float))
