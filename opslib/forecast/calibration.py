"""Calibration of forecast quantiles for count demand: coverage that discreteness does not bias.

An interval of integer quantiles [q_0.1, q_0.9] of a *correct* count forecast
covers more than 80% of outcomes: for Poisson(0.3) it is [0, 1], which holds
96% of them. The closed-interval coverage (``accuracy``'s ``coverage_80``) then
reads as over-coverage although the forecast is right. Two checks do not
suffer from this:

* the randomized PIT coverage (Czado, Gneiting and Held 2009): the probability
  integral transform of a count y is uniform on [F(y - 1), F(y)]; the share of
  that interval inside [alpha/2, 1 - alpha/2], averaged over outcomes, equals
  1 - alpha exactly when the forecast is calibrated;
* the quantile bracket: for a calibrated quantile q_tau,
  P(Y < q_tau) <= tau <= P(Y <= q_tau).

References
----------
1. Czado, C., Gneiting, T. and Held, L. (2009). Predictive model assessment for count data.
   Biometrics 65(4), 1254-1261.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opslib.errors import DataError

__all__ = ["pit_interval_coverage", "quantile_bracket", "PIT_GRID"]

PIT_GRID = tuple(sorted({round(k / 100, 2) for k in range(1, 100)} | {0.025, 0.975}))
"""Quantile levels a backtest records for :func:`pit_interval_coverage`: 0.01..0.99 plus 0.025 and 0.975."""


def _levels(frame: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    columns, levels = [], []
    for c in frame.columns:
        if isinstance(c, str) and c.startswith("p"):
            try:
                level = float(c[1:]) / 100
            except ValueError:
                continue
            if 0 < level < 1:
                columns.append(c)
                levels.append(level)
    order = np.argsort(levels)
    return [columns[k] for k in order], np.asarray(levels)[order]


def pit_interval_coverage(frame: pd.DataFrame, level: float) -> np.ndarray:
    """Randomized-PIT coverage of the central ``level`` interval, per row of a backtest frame.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``units`` (the actual) and many ``pNN`` quantile columns, e.g. a
        :func:`opslib.forecast.backtest` run with ``quantiles=PIT_GRID``; rows
        with a missing actual give NaN.
    level : float in (0, 1)
        Nominal coverage, e.g. 0.8 for the interval from the 10% to the 90% quantile.

    Returns
    -------
    numpy.ndarray
        Per row, the probability that the randomized PIT lies in
        [(1 - level)/2, (1 + level)/2] [fraction]; its mean over many rows is
        ``level`` for a calibrated forecast, for counts as for continuous data.

    Notes
    -----
    The predictive CDF is read off the quantile grid tau_1 < ... < tau_K:
    F(y) = max{tau_k : q_k <= y} and F(y-) = max{tau_k : q_k < y} (0 when none),
    so the result is exact up to the grid spacing. With F(y-) < F(y) the PIT is
    uniform on [F(y-), F(y)] and the row scores
    |[F(y-), F(y)] cap [a, b]| / (F(y) - F(y-)); otherwise 1 when a <= F(y) <= b.
    """
    if not 0 < level < 1:
        raise DataError(f"pit_interval_coverage: level must lie in (0, 1); got {level!r}.")
    columns, taus = _levels(frame)
    if len(columns) < 3 or "units" not in frame.columns:
        raise DataError("pit_interval_coverage: the frame needs a units column and a grid of quantile columns. "
                        "Fix: backtest with quantiles=opslib.forecast.calibration.PIT_GRID.")
    y = frame["units"].to_numpy(dtype=float)
    q = np.maximum.accumulate(frame[columns].to_numpy(dtype=float), axis=1)
    grid = np.concatenate([[0.0], taus])
    upper = grid[(q <= y[:, None]).sum(axis=1)]
    lower = grid[(q < y[:, None]).sum(axis=1)]
    a, b = (1 - level) / 2, (1 + level) / 2
    width = upper - lower
    inside = np.clip(np.minimum(upper, b) - np.maximum(lower, a), 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(width > 1e-12, inside / np.where(width > 1e-12, width, 1.0),
                       ((upper >= a) & (upper <= b)).astype(float))
    return np.where(np.isnan(y), np.nan, out)


def quantile_bracket(frame: pd.DataFrame, column: str) -> tuple[float, float]:
    """(share of actuals below, share at or below) a quantile column [fraction].

    A calibrated quantile at level tau has share_below <= tau <= share_at_or_below
    (both equal for continuous data); rows with a missing actual are left out.
    """
    scored = frame[frame["units"].notna()]
    y, q = scored["units"].to_numpy(dtype=float), scored[column].to_numpy(dtype=float)
    return float((y < q).mean()), float((y <= q).mean())
