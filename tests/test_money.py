"""opslib.data.money: whole-cent allocation by largest remainder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opslib import DataError
from opslib.data.money import allocate_cents, to_cents


def test_shopify_order_1003_by_hand():
    # 5.00 off lines worth 68, 48, 35 (151.00): exact 225.17, 158.94, 115.89 -> floors 498,
    # the 2 cents left go to the largest remainders (.94, .89).
    assert allocate_cents(500, [6800, 4800, 3500]).tolist() == [225, 159, 116]


def test_groups_are_independent_and_totals_per_line_or_per_label():
    weights = [6800, 4800, 3500, 19800, 5200, 6800]
    groups = ["#1003"] * 3 + ["#1013"] * 3
    expected = [225, 159, 116, 623, 163, 214]
    assert allocate_cents([500] * 3 + [1000] * 3, weights, groups).tolist() == expected
    totals = pd.Series({"#1013": 1000, "#1003": 500})
    assert allocate_cents(totals, weights, groups).tolist() == expected
    # a scalar is the total of every group
    assert allocate_cents(100, [100, 100, 300, 100], ["a", "a", "b", "b"]).tolist() == [50, 50, 75, 25]


def test_ties_go_to_the_earlier_line():
    assert allocate_cents(3, [1, 1, 1, 1]).tolist() == [1, 1, 1, 0]
    assert allocate_cents(1, [5, 5], groups=[7, 7]).tolist() == [1, 0]


def test_zero_total_and_zero_value_lines():
    assert allocate_cents(0, [0, 0]).tolist() == [0, 0]
    assert allocate_cents(10, [0, 40, 0]).tolist() == [0, 10, 0]
    assert allocate_cents(0, []).tolist() == []


def test_large_amounts_stay_exact():
    # 1e12 x 1e12 overflows int64: the exact Python-integer path is taken.
    out = allocate_cents(10**12, [10**12, 3 * 10**11, 7])
    assert out.sum() == 10**12
    assert out.tolist() == [769230769227, 230769230768, 5]


@pytest.mark.parametrize(
    ("total", "weights", "groups", "words"),
    [
        (101, [50, 50], None, "cannot exceed the value"),
        (-1, [50, 50], None, "non-negative"),
        (10, [50, -5], None, "non-negative"),
        (10, [2.5, 5], None, "whole"),
        ([10, 20], [5, 5], ["a", "a"], "differs between lines"),
        (pd.Series({"a": 1}), [5, 5], ["a", "b"], "no total for group"),
        ([1, 2], [5, 5], None, "one integer"),
        (1, [5, 5], ["a"], "one label per line"),
    ],
)
def test_bad_input_is_refused_with_a_fix(total, weights, groups, words):
    with pytest.raises(DataError, match=words) as error:
        allocate_cents(total, weights, groups)
    assert "Fix:" in str(error.value)


def test_to_cents_rounds_half_away_from_zero_without_float_noise():
    assert to_cents([0.285, 2.675, -1.005, 19.99]).tolist() == [29, 268, -101, 1999]
    with pytest.raises(DataError, match="finite"):
        to_cents([1.0, np.nan])


orders = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 10**7)), min_size=1, max_size=30
)


@settings(max_examples=150, deadline=None)
@given(orders, st.data())
def test_allocation_properties(lines, data):
    groups = np.array([g for g, _ in lines])
    weights = np.array([w for _, w in lines], dtype=np.int64)
    value = {g: int(weights[groups == g].sum()) for g in set(groups.tolist())}
    totals = pd.Series({g: data.draw(st.integers(0, v)) for g, v in value.items()})
    out = allocate_cents(totals, weights, groups)
    for g, v in value.items():
        mine = groups == g
        # sums exactly to the total of its group
        assert out[mine].sum() == totals[g]
        if v:
            exact = totals[g] * weights[mine] / v
            # proportional within one cent
            assert np.all(np.abs(out[mine] - exact) < 1 + 1e-9)
    # no line below zero nor above its value (paid amounts stay >= 0)
    assert np.all(out >= 0) and np.all(out <= weights)
    # deterministic
    assert np.array_equal(out, allocate_cents(totals, weights, groups))
