"""Money in whole cents: allocating an amount to lines without losing a cent.

An order-level amount (a 满减 reward, a coupon, a Shopify ``Discount Amount``)
must be split over the order's lines so that per-line paid amounts, margins and
refunds add up to the order exactly. :func:`allocate_cents` does this in whole
cents by the largest-remainder (Hamilton) method, vectorized over many orders.

It lives in the data layer because importers need it; the engines
(``opslib.promo``) import it from here (DESIGN.md, layers point down).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = ["allocate_cents", "to_cents"]

# Above this, total * weight may overflow int64 and the exact Python-int path is used.
_INT64_SAFE = 2**62


def to_cents(amount, *, name: str = "amount") -> np.ndarray:
    """Currency amounts rounded to whole cents (half away from zero) as int64.

    Parameters
    ----------
    amount : float or array-like
        Money [currency].
    name : str
        Parameter name used in error messages.

    Returns
    -------
    numpy.ndarray of int64
        ``round(amount * 100)`` [cents], same shape as ``amount``.
    """
    values = np.asarray(amount, dtype=float)
    if not np.all(np.isfinite(values)):
        raise DataError(f"{name}: must be a finite amount of money; received "
                        f"{_few(values[~np.isfinite(values)])}. Fix: fill or drop the missing amounts.")
    # Round to 1e-6 cent first so that 0.285 (28.499999... cents in binary) becomes 29.
    cents = np.sign(values) * np.floor(np.round(np.abs(values) * 100, 6) + 0.5)
    return cents.astype(np.int64)


def allocate_cents(total_cents, weights_cents, groups=None) -> np.ndarray:
    """Split whole cents over lines in proportion to their value (largest remainder).

    Within each group (an order), line ``i`` of value ``w_i`` receives
    ``floor(T w_i / W)`` cents, where ``T`` is the group's total and ``W`` the
    sum of its weights; the ``T - sum(floor(...))`` cents left go one each to
    the lines with the largest remainders ``T w_i mod W``, ties to the earlier
    line. The result therefore

    * sums exactly to ``T`` in every group;
    * differs from the exact share ``T w_i / W`` by less than one cent;
    * never exceeds a line's own value ``w_i`` (given ``T <= W``), so no line
      is left with a negative paid amount;
    * is deterministic (depends on the order of the lines only through ties).

    Parameters
    ----------
    total_cents : int or array-like of int or pandas.Series
        The amount to allocate [cents]. Without ``groups``: one integer.
        With ``groups``: one integer for every group (a scalar), an array with
        one value per line (the group's total repeated on each of its lines),
        or a Series indexed by group label.
    weights_cents : array-like of int
        Value of each line [cents], usually ``qty * list_price`` in cents.
        Whole and non-negative.
    groups : array-like, optional
        Group label of each line (e.g. ``order_id``). ``None``: all lines form
        one group.

    Returns
    -------
    numpy.ndarray of int64
        Cents allocated to each line, in the order of ``weights_cents``.

    Raises
    ------
    opslib.DataError
        When weights or totals are negative, not whole, or a group's total
        exceeds its value (cap the total at the value first), or totals
        disagree within a group.

    Notes
    -----
    The proportional rule ``reduce_i = price_i / total * reducePrice`` is the
    one of Chinese e-commerce engines (macrozheng/mall
    ``OmsPromotionServiceImpl``); the largest-remainder rounding is Hamilton's
    apportionment method [1]_.

    References
    ----------
    .. [1] Balinski, M. L. and Young, H. P. (2001). *Fair Representation*,
       2nd ed. Brookings. (Hamilton's method.)

    Examples
    --------
    >>> allocate_cents(500, [6800, 4800, 3500]).tolist()
    [225, 159, 116]
    """
    weights = _whole(weights_cents, "weights_cents")
    if weights.ndim != 1:
        raise DataError(f"allocate_cents: weights_cents must be one-dimensional; received shape "
                        f"{weights.shape}. Fix: pass one value per line.")
    n = len(weights)
    if groups is None:
        if isinstance(total_cents, pd.Series) or np.ndim(total_cents) != 0:
            raise DataError("allocate_cents: without groups, total_cents must be one integer; received "
                            f"{np.ndim(total_cents)}-dimensional input. Fix: pass groups= to allocate per group.")
        code = np.zeros(n, dtype=np.int64)
        n_groups = 1
        totals = _whole(np.array([total_cents]), "total_cents")
    else:
        labels = np.asarray(groups)
        if labels.shape != (n,):
            raise DataError(f"allocate_cents: groups must give one label per line ({n}); received shape "
                            f"{labels.shape}. Fix: pass the order_id column of the same lines.")
        code, uniques = pd.factorize(labels, use_na_sentinel=False)
        code = code.astype(np.int64)
        n_groups = len(uniques)
        totals = _group_totals(total_cents, code, uniques, n)
    if n == 0:
        return np.zeros(0, dtype=np.int64)

    value = _group_sum(code, weights, n_groups)
    over = totals > value
    if over.any():
        shown = ", ".join(f"{int(t)} > {int(v)}" for t, v in zip(totals[over][:5], value[over][:5]))
        raise DataError(f"allocate_cents: a group's total cannot exceed the value of its lines (no line may be "
                        f"paid below zero); received {shown} (total > value, cents). Fix: cap the total at "
                        "the value first, e.g. numpy.minimum(total, value), and report the capped groups.")

    t, v = totals[code], value[code]
    safe_v = np.where(v > 0, v, 1)
    if int(t.max(initial=0)) * int(weights.max(initial=0)) < _INT64_SAFE:
        numerator = t * weights
        allocated = numerator // safe_v
        remainder = numerator % safe_v
    else:  # exact, with Python integers
        pairs = [divmod(int(a) * int(b), int(c)) for a, b, c in zip(t, weights, safe_v)]
        allocated = np.array([p[0] for p in pairs], dtype=np.int64)
        remainder = np.array([p[1] for p in pairs], dtype=object)
    left = totals - _group_sum(code, allocated, n_groups)

    # Rank lines within their group: largest remainder first, then the earlier line.
    line = np.arange(n)
    if remainder.dtype == object:
        order = np.array(sorted(line, key=lambda i: (code[i], -remainder[i], i)), dtype=np.int64)
    else:
        order = np.lexsort((line, -remainder, code))
    group_start = np.searchsorted(code[order], np.arange(n_groups))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = line - group_start[code[order]]
    return allocated + (rank < left[code]).astype(np.int64)


def _group_sum(code: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Exact integer sums per group (``np.bincount`` would go through float64)."""
    out = np.zeros(n_groups, dtype=np.int64)
    np.add.at(out, code, values.astype(np.int64))
    return out


def _group_totals(total_cents, code: np.ndarray, uniques, n: int) -> np.ndarray:
    n_groups = len(uniques)
    if isinstance(total_cents, Mapping):
        total_cents = pd.Series(total_cents)
    if isinstance(total_cents, pd.Series):
        missing = pd.Index(uniques).difference(total_cents.index)
        if len(missing):
            raise DataError(f"allocate_cents: total_cents has no total for group(s) {_few(np.asarray(missing))}. "
                            "Fix: index total_cents by every group label.")
        return _whole(total_cents.reindex(uniques).to_numpy(), "total_cents")
    if np.ndim(total_cents) == 0:
        return np.full(n_groups, _whole(np.array([total_cents]), "total_cents")[0], dtype=np.int64)
    per_line = _whole(total_cents, "total_cents")
    if per_line.shape != (n,):
        raise DataError(f"allocate_cents: total_cents must be one integer, one per line ({n}) or a Series "
                        f"indexed by group; received shape {per_line.shape}. Fix: repeat each group's total "
                        "on its lines.")
    totals = np.zeros(n_groups, dtype=np.int64)
    totals[code] = per_line
    differ = per_line != totals[code]
    if differ.any():
        raise DataError("allocate_cents: total_cents differs between lines of the same group; received "
                        f"{_few(per_line[differ])} on lines {_few(np.flatnonzero(differ))}. Fix: give every "
                        "line of a group the same total.")
    return totals


def _whole(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
                                   or array.dtype == object):
        raise DataError(f"allocate_cents: {name} must be whole numbers of cents; received dtype {array.dtype}. "
                        "Fix: convert money with opslib.data.money.to_cents.")
    as_float = array.astype(float)
    bad = ~np.isfinite(as_float) | (as_float < 0) | (as_float != np.round(as_float))
    if bad.any():
        raise DataError(f"allocate_cents: {name} must be whole, non-negative numbers of cents; received "
                        f"{_few(array[bad])}. Fix: convert money with opslib.data.money.to_cents "
                        "(20.5 currency -> 2050 cents).")
    return array.astype(np.int64)


def _few(values) -> str:
    values = np.asarray(values).ravel()
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:5])
    return shown + (f" (and {len(values) - 5} more)" if len(values) > 5 else "")
