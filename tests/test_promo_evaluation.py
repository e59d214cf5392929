"""opslib.promo.evaluation: CausalImpact-style post-event evaluation (Brodersen et al. 2015).

Synthetic daily series with a weekly pattern and Poisson noise; a known lift added in the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opslib import DataError
from opslib.promo import evaluate_promotion

WEEK = np.array([1.0, 0.9, 0.9, 1.0, 1.1, 1.3, 1.4])
ITEMS = pd.DataFrame({"sku": ["A"], "unit_cost": [6.0], "price": [10.0]})


def _demand(added_per_day: float, seed: int, days: int = 140, window: int = 14):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=days)
    units = rng.poisson(50 * WEEK[dates.day_of_week]).astype(float)
    units[-window:] += added_per_day
    return pd.DataFrame({"sku": "A", "date": dates, "units": units}), (["A"], dates[-window], dates[-1])


def test_known_lift_is_covered():
    demand, target = _demand(20.0, seed=1)
    r = evaluate_promotion(demand, target, items=ITEMS, depth=0.2, draws=1000)
    assert r.incremental_units_lower <= 14 * 20 <= r.incremental_units_upper
    assert r.lift_lower > 0
    # margin identity: Q (p (1 - d) - c) - B (p - c), no fixed cost
    assert r.incremental_margin == pytest.approx(r.actual_units * (8 - 6) - r.baseline_units * 4)
    assert r.spend == pytest.approx(r.actual_units * 2.0)
    assert r.roi == pytest.approx(r.incremental_margin / r.spend)


def test_no_promotion_interval_covers_zero():
    demand, target = _demand(0.0, seed=2)
    r = evaluate_promotion(demand, target, draws=1000)
    assert r.incremental_units_lower <= 0 <= r.incremental_units_upper
    assert r.lift_lower <= 0 <= r.lift_upper
    assert np.isnan(r.incremental_margin)  # no costs given
    assert r.daily["in_window"].sum() == 14


def test_refuses_bad_windows():
    demand, (skus, start, end) = _demand(0.0, seed=3)
    with pytest.raises(DataError, match="end on or after"):
        evaluate_promotion(demand, (skus, end, start))
    with pytest.raises(DataError, match="pre_days"):
        evaluate_promotion(demand, (skus, start, end), pre_days=7)
    with pytest.raises(DataError, match="promotions"):
        evaluate_promotion(demand, "PR0001")


def test_paired_wape_bootstrap_matches_the_normal_interval():
    from opslib.promo.evaluation import paired_wape_bootstrap

    # constant actuals: the WAPE difference is mean(d) / 10 with d the paired difference of the
    # absolute errors, whose 95% interval is mean(d) / 10 +- 1.96 sd(d) / sqrt(n) / 10 (CLT)
    rng = np.random.default_rng(4)
    n = 4000
    y = np.full(n, 10.0)
    f = y + rng.normal(0, 2.0, n)
    r = y + rng.normal(0, 2.5, n)
    c = paired_wape_bootstrap(y, f, r, draws=4000, seed=1)
    d = np.abs(f - y) - np.abs(r - y)
    assert c.wape == pytest.approx(np.abs(f - y).sum() / y.sum())
    assert c.difference == pytest.approx(d.mean() / 10)
    half = 1.96 * d.std(ddof=1) / np.sqrt(n) / 10
    assert (c.difference_upper - c.difference_lower) / 2 == pytest.approx(half, rel=0.1)
    assert c.difference_upper < 0 and c.probability_better > 0.99  # sd 2.0 against 2.5: clearly better


def test_paired_wape_bootstrap_properties():
    from opslib.promo.evaluation import paired_wape_bootstrap

    rng = np.random.default_rng(5)
    y = rng.gamma(2.0, 20.0, 60)
    f = y * rng.lognormal(0, 0.3, 60)
    same = paired_wape_bootstrap(y, f, f, draws=500)
    assert same.difference == 0 and same.difference_lower == 0 and same.difference_upper == 0
    # errors shared within a series (a level error): resampling the 6 series gives a wider
    # interval than treating the 60 windows as independent
    groups = np.repeat(list("abcdef"), 10)
    f = y * (1 + np.repeat([-0.5, -0.3, 0.0, 0.05, 0.4, 0.6], 10))
    r = y * rng.lognormal(0, 0.35, 60)
    free = paired_wape_bootstrap(y, f, r, draws=1000)
    clustered = paired_wape_bootstrap(y, f, r, groups=groups, draws=1000)
    assert clustered.groups == 6 and free.groups == 60
    assert clustered.difference == pytest.approx(free.difference)
    assert clustered.difference_upper - clustered.difference_lower > free.difference_upper - free.difference_lower
    assert paired_wape_bootstrap(y, f, r, seed=3) == paired_wape_bootstrap(y, f, r, seed=3)
    with pytest.raises(DataError, match="same"):
        paired_wape_bootstrap(y, f[:-1], r)
    with pytest.raises(DataError, match="finite"):
        paired_wape_bootstrap(y, np.r_[f[:-1], np.nan], r)
