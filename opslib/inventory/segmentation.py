"""ABC (value) x XYZ (variability) segmentation, with default service targets per cell.

- ABC: SKUs ranked by annual consumption value; A holds the first 80 % of the
  value, B the next 15 %, C the rest (Pareto).
- XYZ: by the coefficient of variation of daily demand; X below 0.5 (steady),
  Y below 1.0, Z above (erratic or intermittent).

References
----------
.. [1] Silver, E. A., Pyke, D. F. and Thomas, D. J. (2017). *Inventory and
   Production Management in Supply Chains*, 4th ed. CRC Press. Sec. 2.4
   (ABC classification).
.. [2] Scholz-Reiter, B. et al. (2012). ABC-XYZ analysis for an inventory of
   spare parts. *IFAC Proceedings* 45(6) (the XYZ axis by coefficient of variation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = ["abc_classes", "xyz_classes", "DEFAULT_TARGETS", "segment"]

DEFAULT_TARGETS = {
    "AX": 0.98, "AY": 0.97, "AZ": 0.95,
    "BX": 0.96, "BY": 0.95, "BZ": 0.93,
    "CX": 0.94, "CY": 0.92, "CZ": 0.90,
}
"""Default fill-rate targets per ABC x XYZ cell: high for valuable steady items, lower for cheap erratic ones."""


def abc_classes(annual_value, thresholds=(0.8, 0.95)) -> np.ndarray:
    """ABC class per SKU from its annual consumption value [money per year].

    A SKU is in A while the cumulative value share before it is below
    ``thresholds[0]``, in B below ``thresholds[1]``, else C (ties broken by order).
    """
    v = np.asarray(annual_value, dtype=float)
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        raise DataError("annual_value must be finite and >= 0 [money per year]. Fix: fill missing values with 0.")
    a, b = thresholds
    if not 0 < a < b <= 1:
        raise DataError(f"thresholds must satisfy 0 < A < B <= 1 (value shares); got {thresholds!r}. Fix: e.g. (0.8, 0.95).")
    order = np.argsort(-v, kind="stable")
    total = v.sum()
    before = np.concatenate([[0.0], np.cumsum(v[order])[:-1]]) / (total if total > 0 else 1.0)
    cls = np.where(before < a, "A", np.where(before < b, "B", "C"))
    if total == 0:
        cls[:] = "C"
    out = np.empty(v.size, dtype=object)
    out[order] = cls
    return out


def xyz_classes(coefficient_of_variation, thresholds=(0.5, 1.0)) -> np.ndarray:
    """XYZ class per SKU from the coefficient of variation of its daily demand."""
    cv = np.asarray(coefficient_of_variation, dtype=float)
    x, y = thresholds
    return np.where(np.isnan(cv) | (cv >= y), "Z", np.where(cv < x, "X", "Y")).astype(object)


def segment(demand_statistics: pd.DataFrame, unit_cost: pd.Series, targets: dict | None = None) -> pd.DataFrame:
    """ABC x XYZ cell and default target per SKU.

    Parameters
    ----------
    demand_statistics : pandas.DataFrame
        Indexed by sku with ``demand_mean_per_day`` and
        ``demand_variance_per_day`` (as :func:`opslib.inventory.demand_statistics`).
    unit_cost : pandas.Series
        sku -> unit cost [money per unit].
    targets : dict, optional
        Cell -> target; default :data:`DEFAULT_TARGETS`.

    Returns
    -------
    pandas.DataFrame
        Indexed by sku: ``annual_value``, ``cv``, ``abc``, ``xyz``, ``cell``, ``target``.
    """
    mu = demand_statistics["demand_mean_per_day"].astype(float)
    value = 365.0 * mu * unit_cost.reindex(mu.index).astype(float).fillna(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.sqrt(demand_statistics["demand_variance_per_day"].astype(float)) / mu.where(mu > 0)
    out = pd.DataFrame({"annual_value": value, "cv": cv}, index=mu.index)
    out["abc"] = abc_classes(value.to_numpy())
    out["xyz"] = xyz_classes(cv.to_numpy())
    out["cell"] = out["abc"] + out["xyz"]
    out["target"] = out["cell"].map(targets or DEFAULT_TARGETS)
    return out
