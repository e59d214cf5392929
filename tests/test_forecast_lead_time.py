"""Lead-time demand: closed forms (fixed and random lead time) checked against the sampler."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from opslib import DataError
from opslib.forecast import backtest, backtest_error_std, forecast, from_panel, lead_time_demand


def flat_forecast(mu=(20.0, 5.0), horizon=30, freq="D"):
    dates = pd.date_range("2025-01-01", periods=horizon, freq=freq)
    return pd.DataFrame({"sku": np.repeat([f"S{i}" for i in range(len(mu))], horizon),
                         "date": np.tile(dates, len(mu)), "mean": np.repeat(mu, horizon)})


@pytest.mark.parametrize("distribution", ["normal", "gamma"])
def test_fixed_lead_time_iid_errors_closed_form(distribution):
    # D = sum of L iid N(mu, sigma^2) periods: E = L mu, Var = L sigma^2 (here L = 7 + R 3 = 10 days).
    result = lead_time_demand(flat_forecast((200.0, 50.0)), 7, 3, error_std=pd.Series([20.0, 5.0], ["S0", "S1"]),
                              distribution=distribution, n_samples=200_000, seed=1)
    np.testing.assert_allclose(result.mean, [2000.0, 500.0], rtol=1e-12)
    np.testing.assert_allclose(result.std, [20.0 * np.sqrt(10), 5.0 * np.sqrt(10)], rtol=1e-12)
    np.testing.assert_allclose(result.samples.mean(axis=1), result.mean, rtol=0.002)
    np.testing.assert_allclose(result.samples.std(axis=1), result.std, rtol=0.01)
    if distribution == "normal":                                       # quantiles of N(L mu, L sigma^2)
        want = stats.norm.ppf(0.95, 2000.0, 20.0 * np.sqrt(10))
        assert result.quantiles.loc["S0", "p95"] == pytest.approx(want, rel=0.002)


def test_random_lead_time_closed_form_and_sampler():
    # L in {3, 5, 12} days with frequencies 2, 5, 3 (of 10): E[L] = 6.7, Var[L] = E[L^2] - E[L]^2
    # = (18 + 125 + 432) / 10 - 44.89 = 12.61. mu 10, sigma 3:
    # E[D] = 67, Var[D] = 6.7 * 9 + 100 * 12.61 = 60.3 + 1261 = 1321.3.
    lead = [3] * 2 + [5] * 5 + [12] * 3
    result = lead_time_demand(flat_forecast((10.0,)), lead_time_distribution=lead, error_std=3.0,
                              n_samples=400_000, seed=7)
    assert result.mean[0] == pytest.approx(67.0)
    assert result.std[0] ** 2 == pytest.approx(1321.3)
    assert result.samples.mean() == pytest.approx(67.0, rel=0.005)
    assert result.samples.var() == pytest.approx(1321.3, rel=0.02)
    assert (result.samples >= 0).all()


def test_fractional_periods_and_weekly_time_base():
    # 2.5 days of a daily forecast of 4/day: 10 units; 14 days on a weekly forecast of 70/week: 140.
    assert lead_time_demand(flat_forecast((4.0,)), 2.5, error_std=0.0).mean[0] == pytest.approx(10.0)
    weekly = flat_forecast((70.0,), horizon=10, freq="W-SUN")
    result = lead_time_demand(weekly, 14, error_std=7.0, seed=0)
    assert result.mean[0] == pytest.approx(140.0) and result.std[0] == pytest.approx(7.0 * np.sqrt(2))
    # beyond the forecast horizon the last period repeats
    assert lead_time_demand(flat_forecast((4.0,), horizon=5), 8, error_std=0.0).mean[0] == pytest.approx(32.0)



def test_beyond_the_horizon_a_daily_forecast_repeats_its_last_week():
    # 14 days with a weekly pattern (weekday w sells w + 1, error sd 0.5 w + 1); 25 days of protection: the 14
    # forecast days, then days 15..25 repeat the last week weekday for weekday (8..14, then 8..11)
    pattern = np.arange(1.0, 8.0)
    dates = pd.date_range("2025-01-06", periods=14, freq="D")
    frame = pd.DataFrame({"sku": "S0", "date": dates, "mean": np.tile(pattern, 2)})
    by_day = np.tile(pattern, 2)
    expected = by_day.sum() + by_day[7:].sum() + by_day[7:11].sum()
    sd = pd.Series([0.0], ["S0"])
    assert lead_time_demand(frame, 20, review_period_days=5, error_std=sd).mean[0] == pytest.approx(expected)
    # shorter than a week: the last day repeats; a fraction of a day counts pro rata (Monday, 1 unit, is day 8)
    short = frame.iloc[:5]
    assert lead_time_demand(short, 7.5, error_std=sd).mean[0] == pytest.approx(pattern[:5].sum() + 2.5 * 5.0)
    # random lead time: the same law, day by day, averaged over the lead times
    both = lead_time_demand(frame, lead_time_distribution=[16, 23], error_std=sd).mean[0]
    assert both == pytest.approx(0.5 * (by_day.sum() + by_day[7:9].sum()) + 0.5 * (by_day.sum() + by_day[7:].sum()
                                                                               + by_day[7:9].sum()))


def test_sigma_read_from_forecast_quantiles():
    frame = flat_forecast((100.0,), horizon=10)
    z = stats.norm.ppf(0.9)
    frame["p10"], frame["p90"] = 100 - 8 * z, 100 + 8 * z                 # sigma 8 per day
    result = lead_time_demand(frame, 4, seed=0)
    assert result.std[0] == pytest.approx(16.0)                          # sqrt(4) x 8
    with pytest.raises(DataError):
        lead_time_demand(flat_forecast(), 4)                             # no quantiles and no error_std


def test_from_demand_table_and_backtest_errors():
    rng = np.random.default_rng(4)
    y = np.vstack([rng.poisson(20, 200), rng.poisson(0.5, 200) * 2]).astype(float)
    demand = from_panel(y, ["A", "B"], pd.date_range("2024-01-01", periods=200, freq="D"))
    result = lead_time_demand(demand, 10, 7, seed=3)
    frame = result.to_frame()
    assert list(frame["sku"]) == ["A", "B"]
    assert (np.diff(frame[["p50", "p90", "p95", "p99"]].to_numpy(), axis=1) >= 0).all()
    assert 17 * 17 < result.mean[0] < 23 * 17 and (result.samples >= 0).all()
    # the forecast's own spread vs the backtest residual spread: both near sqrt(17 x 20) for Poisson(20)
    std = backtest_error_std(backtest(demand, 7, windows=4, models=["ses"]))
    with_backtest = lead_time_demand(forecast(demand, 17), 10, 7, error_std=std, seed=3)
    assert 0.6 < with_backtest.std[0] / np.sqrt(17 * 20) < 1.6
    assert with_backtest.mean[0] == pytest.approx(result.mean[0], rel=0.2)


def test_refusals():
    frame = flat_forecast()
    for kwargs in ({}, {"lead_time_days": 3, "lead_time_distribution": [3]}, {"lead_time_days": -1},
                   {"lead_time_days": 3, "review_period_days": -1}, {"lead_time_days": 3, "distribution": "t"}):
        with pytest.raises(DataError):
            lead_time_demand(frame, error_std=1.0, **kwargs)
