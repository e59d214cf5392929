"""Portfolio budget: the highest aggregate fill rate an inventory investment buys.

Each SKU ``i`` has candidate stock levels ``0..n_i`` (for example order-up-to
levels ``S``), with a nondecreasing fill rate ``beta_i(l)`` and investment
``c_i(l)`` (e.g. average on hand x unit cost). The aggregate fill rate is
demand-weighted: ``sum_i w_i beta_i / sum_i w_i``, ``w_i`` the demand rate.

:func:`marginal_allocation` raises, one step at a time, the SKU whose next
step buys the most aggregate fill rate per unit of money (marginal analysis,
Sherbrooke's METRIC rule). For concave per-SKU curves (decreasing gain per
money, as the fill rate of a base-stock level is) every point it visits is
optimal for its own investment: the greedy path *is* the exchange curve of
Silver, Pyke and Thomas (investment against aggregate service).
:func:`exchange_curve` returns that path.

References
----------
.. [1] Sherbrooke, C. C. (2004). *Optimal Inventory Modeling of Systems:
   Multi-Echelon Techniques*, 2nd ed. Kluwer. Ch. 2 (marginal analysis).
.. [2] Silver, E. A., Pyke, D. F. and Thomas, D. J. (2017). *Inventory and
   Production Management in Supply Chains*, 4th ed. CRC Press. Ch. 7
   (exchange curves).
.. [3] Fox, B. (1966). Discrete optimization via marginal analysis.
   *Management Science* 13(3):210-216 (greedy optimality for separable concave returns).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = ["BudgetAllocation", "marginal_allocation", "exchange_curve"]


@dataclass(frozen=True)
class BudgetAllocation:
    """Result of :func:`marginal_allocation`.

    Attributes
    ----------
    levels : numpy.ndarray
        Chosen level index per SKU.
    fill_rate : numpy.ndarray
        Fill rate per SKU at its level.
    investment : float
        Total investment [money].
    aggregate_fill_rate : float
        Demand-weighted fill rate.
    curve : pandas.DataFrame
        The exchange curve up to the budget: ``investment, aggregate_fill_rate, sku_index, level``.
    """

    levels: np.ndarray
    fill_rate: np.ndarray
    investment: float
    aggregate_fill_rate: float
    curve: pd.DataFrame


def _check(fill_rates, investments, weights):
    f = [np.asarray(x, dtype=float) for x in fill_rates]
    c = [np.asarray(x, dtype=float) for x in investments]
    w = np.asarray(weights, dtype=float)
    if not (len(f) == len(c) == w.size) or w.size == 0:
        raise DataError(
            f"fill_rates, investments and weights must have one entry per SKU; got {len(f)}, {len(c)}, {w.size}. "
            "Fix: align them."
        )
    for i, (fi, ci) in enumerate(zip(f, c)):
        if fi.ndim != 1 or fi.shape != ci.shape or fi.size == 0:
            raise DataError(f"SKU {i}: fill_rates and investments must be 1-d arrays of the same length. Fix: align them.")
        if np.any(np.diff(ci) <= 0) or np.any(np.diff(fi) < -1e-12) or np.any((fi < 0) | (fi > 1)):
            raise DataError(
                f"SKU {i}: investment must increase with the level and the fill rate must not fall, in [0, 1]; got "
                f"fill {fi[:5].tolist()!r}, investment {ci[:5].tolist()!r}. Fix: pass levels in increasing order."
            )
    if np.any(w < 0) or w.sum() <= 0:
        raise DataError(f"weights must be >= 0 with a positive total (demand rates); got {w[:5].tolist()!r}.")
    return f, c, w / w.sum()


def _greedy(f, c, w, budget):
    # Python floats and lists in the loop (numpy scalars cost ten times more each): the same IEEE arithmetic
    f = [fi.tolist() for fi in f]
    c = [ci.tolist() for ci in c]
    w = w.tolist()
    levels = [0] * len(f)
    spent = float(sum(ci[0] for ci in c))
    value = float(sum(wi * fi[0] for wi, fi in zip(w, f)))
    heap = []

    def push(i):
        lv = levels[i]
        if lv + 1 < len(f[i]):
            gain = w[i] * (f[i][lv + 1] - f[i][lv])
            cost = c[i][lv + 1] - c[i][lv]
            heapq.heappush(heap, (-gain / cost, i))

    for i in range(len(f)):
        push(i)
    rows = [(spent, value, -1, -1)]
    while heap:
        _, i = heapq.heappop(heap)
        lv = levels[i]
        cost = c[i][lv + 1] - c[i][lv]
        if spent + cost > budget + 1e-9:
            continue  # this SKU's next step no longer fits; others may
        spent += cost
        value += w[i] * (f[i][lv + 1] - f[i][lv])
        levels[i] = lv + 1
        rows.append((spent, value, i, lv + 1))
        push(i)
    curve = pd.DataFrame(rows, columns=["investment", "aggregate_fill_rate", "sku_index", "level"])
    if len(rows) > 1:  # numpy scalars, as the sums of numpy steps were
        spent, value = np.float64(spent), np.float64(value)
    return np.array(levels, dtype=int), spent, value, curve


def marginal_allocation(fill_rates, investments, weights, budget: float) -> BudgetAllocation:
    r"""Maximize the demand-weighted fill rate under an investment budget by marginal analysis.

    Parameters
    ----------
    fill_rates : sequence of array_like
        Per SKU, the fill rate at levels ``0..n_i`` (nondecreasing).
    investments : sequence of array_like
        Per SKU, the investment at the same levels [money] (increasing).
    weights : array_like
        Demand rate per SKU [units per day] (the fill-rate weights).
    budget : float
        Total investment allowed [money]; it includes every SKU's level 0.

    Returns
    -------
    BudgetAllocation

    Notes
    -----
    Greedy on :math:`w_i\Delta\beta_i / \Delta c_i` [1]_ [3]_: optimal at every
    point of the returned curve when each SKU's gains per money decrease.
    """
    f, c, w = _check(fill_rates, investments, weights)
    base = float(sum(ci[0] for ci in c))
    if not np.isfinite(budget) or budget < base:
        raise DataError(f"budget must cover every SKU's lowest level ({base:g}); got {budget!r}. Fix: raise it.")
    levels, spent, value, curve = _greedy(f, c, w, float(budget))
    fill = np.array([fi[lv] for fi, lv in zip(f, levels)])
    return BudgetAllocation(levels, fill, spent, value, curve)


def exchange_curve(fill_rates, investments, weights) -> pd.DataFrame:
    """Investment against the best aggregate fill rate: the whole marginal-analysis path.

    Returns
    -------
    pandas.DataFrame
        ``investment`` [money], ``aggregate_fill_rate``, and the step taken
        (``sku_index``, ``level``; -1 for the starting point). Both columns
        rise along the curve.
    """
    f, c, w = _check(fill_rates, investments, weights)
    return _greedy(f, c, w, np.inf)[3]
