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
