"""Rolling-origin backtest, accuracy metrics, and per-SKU model selection by backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opslib import DataError
from opslib.forecast import accuracy, backtest, forecast, from_panel, select_models
from opslib.forecast.backtest import AUTO_CANDIDATES, auto_candidates, forward_combination
from opslib.forecast.combine import parse_combination


def _long(y, start="2024-01-01", freq="D"):
    y = np.atleast_2d(np.asarray(y, dtype=float))
    return from_panel(y, [f"S{i}" for i in range(len(y))], pd.date_range(start, periods=y.shape[1], freq=freq))


def test_backtest_and_accuracy_by_hand():
    # y = 1, 3, 2, 5, 4; horizon 2, windows 2, step 1 -> cut-offs after 2 and 3 periods.
    # window 0: train 1, 3 -> naive 3, 3 vs 2, 5: errors 1, -2; MASE scale (lag 1) |3-1| = 2; RMSSE scale 4.
    # window 1: train 1, 3, 2 -> naive 2, 2 vs 5, 4: errors -3, -2; scales (2+1)/2 = 1.5 and (4+1)/2 = 2.5.
    bt = backtest(_long([1, 3, 2, 5, 4]), 2, windows=2, step=1, models=["naive"], season_length=1)
    assert list(bt["window"]) == [0, 0, 1, 1] and list(bt["h"]) == [1, 2, 1, 2]
    assert list(bt["cutoff"].dt.day) == [2, 2, 3, 3] and list(bt["date"].dt.day) == [3, 4, 4, 5]
    np.testing.assert_allclose(bt["mean"], [3, 3, 2, 2])
    np.testing.assert_allclose(bt["error"], [1, -2, -3, -2])
    np.testing.assert_allclose(bt["scale_mase"], [2, 2, 1.5, 1.5])
    np.testing.assert_allclose(bt["scale_rmsse"], [4, 4, 2.5, 2.5])
    acc = accuracy(bt, by=("sku", "window", "model"))
    np.testing.assert_allclose(acc["mase"], [(1 + 2) / 2 / 2, (3 + 2) / 2 / 1.5])
    np.testing.assert_allclose(acc["rmsse"], [np.sqrt((1 + 4) / 2 / 4), np.sqrt((9 + 4) / 2 / 2.5)])
    np.testing.assert_allclose(acc["bias"], [-0.5, -2.5])
    np.testing.assert_allclose(acc["wape"], [3 / 7, 5 / 9])
    # sMAPE window 0: 200*1/5, 200*2/8 -> (40 + 50) / 2
    np.testing.assert_allclose(acc["smape"].iloc[0], 45.0)
    total = accuracy(bt, by=("model",))
    np.testing.assert_allclose(total["mase"], np.mean([1 / 2, 2 / 2, 3 / 1.5, 2 / 1.5]))
    assert total["n"].iloc[0] == 4


def test_accuracy_pinball_and_coverage_by_hand():
    bt = pd.DataFrame({"sku": "a", "model": "m", "units": [0.0, 10.0], "mean": [1.0, 1.0], "error": [1.0, -9.0],
                       "scale_mase": 1.0, "scale_rmsse": 1.0, "p10": [0.0, 0.0], "p90": [2.0, 5.0],
                       "p2.5": [0.0, 0.0], "p97.5": [3.0, 12.0]})
    acc = accuracy(bt)
    # pinball per row: p10 (0, 0.1*10), p90 (0.1*2, 0.9*5), p2.5 (0, 0.025*10), p97.5 (0.025*3, 0.025*2)
    want = np.mean([0, 1.0, 0.2, 4.5, 0, 0.25, 0.075, 0.05])
    assert acc["pinball"].iloc[0] == pytest.approx(want)
    assert acc["coverage_80"].iloc[0] == 0.5 and acc["coverage_95"].iloc[0] == 1.0


def test_backtest_vectorized_equals_per_sku():
    rng = np.random.default_rng(3)
    y = np.vstack([50 + rng.normal(0, 5, 120), rng.poisson(0.4, 120) * 2.0, 10 + 0.3 * np.arange(120)])
    demand = _long(y)
    models = ["ses", "theta", "croston_sba", "auto"]
    together = backtest(demand, 14, windows=3, models=models)
    fixed = together[together.model != "auto"]
    for sku, alone_frame in demand.groupby("sku"):
        alone = backtest(alone_frame, 14, windows=3, models=models[:-1])
        part = fixed[fixed.sku == sku].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone, check_dtype=False)
    assert set(together["model"]) == set(models) and len(together) == 3 * 3 * 14 * len(models)
    # "auto" chooses its strategy per demand class across the panel (not per SKU alone); where it
    # used one of the models above, its forecasts are that model's, run separately
    auto = together[together.model == "auto"].set_index(["sku", "window", "h"])
    single = fixed.set_index(["sku", "window", "h", "model"])["mean"]
    same = auto[auto.model_used.isin(models[:-1])]
    assert len(same) > 0
    want = single.loc[[(s, w, h, u) for (s, w, h), u in same["model_used"].items()]].to_numpy()
    np.testing.assert_allclose(same["mean"].to_numpy(), want, rtol=1e-12)
    acc = accuracy(together, by=("model",))
    assert acc["coverage_80"].between(0, 1).all() and (acc["mase"] > 0).all()


def test_backtest_refuses_bad_arguments():
    demand = _long(np.arange(10.0))
    for bad in ({"windows": 0}, {"step": 0}, {"models": ["prophet"]}):
        with pytest.raises(DataError):
            backtest(demand, 3, **bad)
    with pytest.raises(DataError):
        backtest(demand, 10)


def test_selection_never_rewards_a_flat_zero_on_intermittent_demand():
    # Sparse demand whose last period is 0: naive forecasts a flat zero, which wins MAE
    # (most actuals are 0) but loses the RMSSE of cumulative demand to the historic mean.
    rng = np.random.default_rng(0)
    y = (rng.random((20, 200)) < 0.2) * rng.integers(1, 5, (20, 200)).astype(float)
    y[:, -1] = 0.0
    y[:, -29] = 0.0
    y[:, -15] = 0.0
    cands = {c: ("naive", "historic_average") for c in ("intermittent", "lumpy", "smooth", "erratic")}
    sel = select_models(y, 14, season_length=7, candidates=cands)
    assert set(sel.error_name) == {"rmsse_cumulative"}
    assert (sel.model == "historic_average").mean() >= 0.9
    # the MAE of the last window prefers the zero forecast on most of these series
    actual = y[:, -14:]
    zero_mae = np.abs(actual).mean(axis=1)
    mean_mae = np.abs(actual - y[:, :-14].mean(axis=1, keepdims=True)).mean(axis=1)
    assert (zero_mae < mean_mae).mean() > 0.5


def test_selection_picks_a_trend_model_for_trending_series():
    rng = np.random.default_rng(2)
    t = np.arange(96)
    y = 100 + 3.0 * t + rng.normal(0, 2, (5, 96))
    sel = select_models(y, 12, season_length=12)
    members = {k for name in sel.model for k in (parse_combination(name) or ("", (name,)))[1]}
    assert not members & {"ses", "seasonal_naive"}
    assert members <= set(auto_candidates(12)["smooth"])
    assert set(auto_candidates(12)["smooth"]) - set(AUTO_CANDIDATES["smooth"]) == {"holt_winters"}
    assert auto_candidates(7) == AUTO_CANDIDATES                                  # daily: no holt_winters
    yearly = auto_candidates(1)                                                 # no season: the drift joins
    assert {c: set(v) - set(AUTO_CANDIDATES[c]) for c, v in yearly.items()} == {
        "smooth": {"drift"}, "erratic": {"drift"}, "intermittent": set(), "lumpy": set(), "discontinued": set()}


def test_forecast_auto_uses_the_selected_models():
    rng = np.random.default_rng(2)
    t = np.arange(96)
    y = np.vstack([100 + 3.0 * t + rng.normal(0, 2, 96), rng.poisson(0.3, 96) * 3.0])
    frame = forecast(_long(y, freq="MS"), 12, model="auto")
    sel = select_models(y, 12, season_length=12)
    assert list(frame.groupby("sku")["model"].first()) == list(sel.model)
    assert frame.loc[frame.sku == "S0", "mean"].iloc[-1] > 380                 # follows the trend


def test_selection_builds_combinations_from_its_members_once():
    # comb_shd's selection error from the members' forecasts equals that of running comb_shd itself
    from opslib.forecast.core import MODELS

    rng = np.random.default_rng(11)
    t = np.arange(120)
    y = np.vstack([50 + 0.3 * t + rng.normal(0, 4, 120), 80 - 0.2 * t + rng.normal(0, 6, 120)])
    cands = {"smooth": ("comb_shd", "ses")}
    sel = select_models(y, 12, season_length=1, candidates=cands, windows=1, history=120)
    train, actual = y[:, :108], y[:, 108:]
    direct = np.maximum(MODELS["comb_shd"](train, 12, 1).mean, 0.0)
    diffs = np.diff(train, axis=1) ** 2
    expected = np.sqrt(((direct - actual) ** 2).mean(axis=1) / diffs.mean(axis=1))
    np.testing.assert_allclose(sel.errors["comb_shd"], expected, rtol=1e-12)


def test_one_standard_error_pool_by_hand():
    from opslib.forecast.combine import one_standard_error_pool

    # model 1 vs best model 0: d = 0.2, -0.1, 0.1 -> mean 0.0667 <= sd 0.1528 / sqrt(3) = 0.0882: pooled.
    # model 2: d = 1, 1, 1.1 -> mean 1.033 > 0.0577 / sqrt(3): not pooled. Model 3 never scored: not pooled.
    e = np.array([[[1.0, 1.2, 2.0, np.nan]], [[1.0, 0.9, 2.0, np.nan]], [[1.0, 1.1, 2.1, np.nan]]])
    assert one_standard_error_pool(e).tolist() == [[True, True, False, False]]
    assert one_standard_error_pool(e[:1]).tolist() == [[True, False, False, False]]      # one window: the best


def test_combination_names_run_the_mean_of_their_members():
    from opslib.forecast.combine import combination_name
    from opslib.forecast.core import MODELS, forecast_arrays, model_function

    rng = np.random.default_rng(4)
    y = 30 + rng.normal(0, 3, (3, 60))
    name = combination_name(["ses", "theta"])
    assert name == "mean(ses+theta)" and parse_combination(name) == ("mean", ("ses", "theta"))
    want = (MODELS["ses"](y, 5, 1).mean + MODELS["theta"](y, 5, 1).mean) / 2
    np.testing.assert_allclose(model_function(name)(y, 5, 1).mean, want, rtol=1e-12)
    mean, _, used, _ = forecast_arrays(y, 5, 1, [name] * 3, np.array(["smooth"] * 3), (0.1, 0.9))
    np.testing.assert_allclose(mean, want, rtol=1e-12)
    assert list(used) == [name] * 3
    with pytest.raises(KeyError):
        model_function("mean(ses+prophet)")


def test_strategy_scores_are_out_of_sample_errors_of_earlier_choices():
    # The nested score of a fixed candidate is its RMSSE on windows 1 and 2 (window 0 only chooses),
    # recomputed here directly from the naive forecast.
    rng = np.random.default_rng(8)
    y = 100 + np.cumsum(rng.normal(0, 1, (6, 80)), axis=1)
    h = 10
    cands = {"smooth": ("naive", "historic_average")}
    sel = select_models(y, h, season_length=1, demand_class=["smooth"] * 6, windows=3, history=80, candidates=cands)
    values = []
    for c in (80 - 2 * h, 80 - h):
        train, actual = y[:, :c], y[:, c:c + h]
        f = train[:, -1:]
        values.append(np.sqrt(((f - actual) ** 2).mean(axis=1) / (np.diff(train, axis=1) ** 2).mean(axis=1)))
    row = sel.strategy.iloc[0]
    assert row["demand_class"] == "smooth" and row["n_scored"] == 12
    np.testing.assert_allclose(row["score_naive"], np.mean(values), rtol=1e-12)
    # random walks: the naive forecast beats the historic mean out of sample, and auto follows it
    assert row["score_naive"] < row["score_historic_average"]
    assert set(sel.model) <= {"naive", "mean(naive+historic_average)"}


def test_forward_combination_by_hand():
    # Per window and series, model 0 errs by +1, model 1 by -1, model 2 by +3 (RMSSE with scale 1 = |bias|).
    # Forward selection: model 0 first (ties: the first), then model 1 (mean error 0); adding model 2 would
    # raise the error of the mean to 1, so it stops there.
    W, n, H = 2, 3, 4
    actual = np.arange(W * n * H, dtype=float).reshape(W, n, H)
    forecasts = np.stack([actual + 1, actual - 1, actual + 3], axis=2)
    members = forward_combination(forecasts, actual, np.ones((W, n)), np.zeros(n, dtype=bool))
    assert members.tolist() == [True, True, False]
    # a model missing everywhere never joins; without any forecast nothing is chosen
    forecasts[:, :, 1] = np.nan
    assert forward_combination(forecasts, actual, np.ones((W, n)), np.zeros(n, dtype=bool)).tolist() == \
        [True, False, False]
    assert not forward_combination(np.full((W, n, 3, H), np.nan), actual, np.ones((W, n)),
                                   np.zeros(n, dtype=bool)).any()


def test_combine_strategy_uses_one_class_wide_combination():
    rng = np.random.default_rng(11)
    t = np.arange(72)
    y = 50 + 10 * np.sin(2 * np.pi * t / 12) + np.cumsum(rng.normal(0, 1, (8, 72)), axis=1)
    cands = {"smooth": ("naive", "seasonal_naive", "historic_average")}
    sel = select_models(y, 6, season_length=12, demand_class=["smooth"] * 8, candidates=cands, strategy="combine")
    assert len(set(sel.model)) == 1
    name = sel.model[0]
    members = parse_combination(name)[1] if parse_combination(name) else (name,)
    assert set(members) <= set(cands["smooth"])
    with pytest.raises(DataError):
        select_models(y, 6, season_length=12, strategy="average")
