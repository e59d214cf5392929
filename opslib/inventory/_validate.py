"""Checks at the public edge of :mod:`opslib.inventory`.

Every message has the same four parts: the parameter, the rule, the value
received and how to fix it (the wording habit of scikit-learn's parameter
validation). Inner helpers trust what passed these checks.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from opslib.errors import DataError

__all__ = [
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_periods",
    "check_integer",
]


def _fail(name: str, rule: str, value, fix: str) -> DataError:
    return DataError(f"{name} {rule}; got {value!r}. Fix: {fix}")


def _number(name: str, value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise _fail(name, f"must be a number ({what})", value, f"pass {name} as a float.")
    value = float(value)
    if not math.isfinite(value):
        raise _fail(name, f"must be finite ({what})", value, f"pass a finite {name}.")
    return value


def check_nonnegative(name: str, value, what: str = "a cost") -> float:
    """``value`` as a float, refused unless finite and >= 0."""
    value = _number(name, value, what)
    if value < 0:
        raise _fail(
            name,
            f"must be >= 0 ({what})",
            value,
            f"pass {name} as a non-negative number; costs and rates are magnitudes, never signed.",
        )
    return value


def check_positive(name: str, value, what: str = "a cost") -> float:
    """``value`` as a float, refused unless finite and > 0."""
    value = _number(name, value, what)
    if value <= 0:
        raise _fail(name, f"must be > 0 ({what})", value, f"pass a positive {name}.")
    return value


def check_probability(name: str, value) -> float:
    """A service target strictly between 0 and 1 (a fraction, not a percentage)."""
    value = _number(name, value, "a fraction strictly between 0 and 1")
    if 1 < value <= 100:
        raise _fail(
            name,
            "must be a fraction strictly between 0 and 1, not a percentage",
            value,
            f"pass {value / 100:g} instead of {value:g}.",
        )
    if not 0 < value < 1:
        raise _fail(
            name,
            "must be strictly between 0 and 1",
            value,
            "pass a target such as 0.95; a target of 0 or 1 has no finite stock level.",
        )
    return value


def check_periods(name: str, value, *, allow_zero: bool = True) -> float:
    """A number of demand periods (lead time, review period), >= 0 or > 0."""
    value = _number(name, value, "a number of demand periods")
    if value < 0 or (value == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise _fail(
            name,
            f"must be {rule}, counted in periods of the per-period demand",
            value,
            f"pass {name} in the same period as the demand distribution (days with daily demand).",
        )
    return value


def check_integer(name: str, value, *, minimum: int | None = None, why: str = "") -> int:
    """``value`` as an int, refused unless integral (and >= ``minimum``)."""
    ok = isinstance(value, Integral) or (isinstance(value, Real) and float(value).is_integer())
    if isinstance(value, bool) or not ok:
        raise _fail(name, f"must be an integer{why}", value, f"round {name} to a whole number of units.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise _fail(name, f"must be >= {minimum}{why}", value, f"pass {name} >= {minimum}.")
    return value
