"""opslib.promo.economics on the worked numbers of the promotion notes, section 2.5."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opslib import DataError
from opslib.promo.economics import (
    breakeven_elasticity,
    breakeven_lift,
    max_profitable_depth,
    own_incremental_margin,
    promo_unit_margin,
    promotion_roi,
)

# Notes 2.5 table: (a, c, g) -> break-even lift / elasticity at d = 10%, 20%, 30% (None: never).
TABLE = [
    (0, 0, 0.3, [(0.50, -3.85), (2.00, -4.92), None]),
    (0, 0, 0.5, [(0.25, -2.12), (0.67, -2.29), (1.50, -2.57)]),
    (0, 0.33, 0.3, [(0.99, -6.53), (200.0, -23.8), None]),
    (0, 0.55, 0.3, [(2.86, -12.8), None, None]),
    (0.5, 0, 0.3, [(0.20, -1.73), (0.50, -1.82), (1.00, -1.94)]),
    (0.5, 0.33, 0.3, [(0.33, -2.71), (0.99, -3.08), (2.94, -3.85)]),
    (0.5, 0.55, 0.4, [(0.38, -3.09), (1.25, -3.63), (5.00, -5.02)]),
]


@pytest.mark.parametrize(("a", "c", "g", "row"), TABLE)
def test_breakeven_table_of_the_notes(a, c, g, row):
    for d, expected in zip((0.1, 0.2, 0.3), row):
        lift = breakeven_lift(g, d, funding_share=a, non_incremental_share=c)
        elasticity = breakeven_elasticity(g, d, funding_share=a, non_incremental_share=c)
        if expected is None:
            assert math.isinf(lift) and elasticity == -math.inf
        else:
            assert lift == pytest.approx(expected[0], rel=0.01, abs=0.005)
            assert elasticity == pytest.approx(expected[1], rel=0.005, abs=0.01)  # 3 significant digits


def test_cvs_unfunded_20_percent_on_30_percent_margin_never_pays():
    # notes section 0.4: c ~ 0.55 (CVS), unfunded 20% off, 30% margin
    assert math.isinf(breakeven_lift(0.3, 0.2, non_incremental_share=0.55))
    assert max_profitable_depth(0.3, non_incremental_share=0.55) == pytest.approx(0.135)
    assert max_profitable_depth(0.3, funding_share=0.5) == pytest.approx(0.6)
    assert max_profitable_depth(0.9, funding_share=0.5) == 1.0


def test_breakeven_elasticity_small_depth_limit():
    # -> -(1 - a)/g as d -> 0 (numpyro_forecast PR #121)
    assert breakeven_elasticity(0.4, 1e-6, funding_share=0.5) == pytest.approx(-1.25, rel=1e-4)


def test_own_margin_splits_the_discount_on_baseline_units():
    # B = 100, Q = 250 at p = 50, g = 0.3, d = 0.2, unfunded
    r = own_incremental_margin(100, 250, 50.0, 0.3, 0.2)
    assert r.lift_margin == pytest.approx(150 * 15)  # 2,250
    assert r.discount_on_baseline_units == pytest.approx(100 * 10)  # 1,000
    assert r.discount_on_incremental_units == pytest.approx(150 * 10)  # 1,500
    assert r.markdown_cost == pytest.approx(2500)
    assert r.incremental_margin == pytest.approx(-250)
    # identity: Q m_p - B m_r
    assert r.incremental_margin == pytest.approx(250 * promo_unit_margin(50, 0.3, 0.2) - 100 * 15)
    # at the break-even lift (+200%) the own margin is zero
    assert own_incremental_margin(100, 300, 50.0, 0.3, 0.2).incremental_margin == pytest.approx(0)


def test_profit_roi_and_gmv_roi_are_both_labelled():
    r = promotion_roi(incremental_profit=-250, promotion_gmv=10_000, spend=2500, margin_rate=0.3)
    assert r.profit_roi == pytest.approx(-0.1)
    assert r.gmv_roi == pytest.approx(4.0)  # looks good as 投产比 ...
    assert r.breakeven_gmv_roi == pytest.approx(1 / 0.3)  # ... against a break-even of 3.33


def test_bad_inputs():
    with pytest.raises(DataError, match=r"0\.2 for 20%"):
        breakeven_lift(0.3, 20)
    with pytest.raises(DataError, match="spend"):
        promotion_roi(1, 1, 0, 0.3)
    assert np.all(np.isinf(breakeven_lift(0.3, np.array([0.3, 0.5]))))
