"""Where a model runs: in this process, or in a pool of processes over SKUs.

The vectorized models run on all SKUs at once in the calling process. The
per-series likelihood models (:data:`PER_SERIES_MODELS`: statsmodels ETS) fit
one series at a time, so they can be spread over processes by SKU; the
regression with AR errors (``arimax``) is batched over SKUs in numpy but its
fits are independent per SKU, so it too can run on chunks of SKUs in a pool.
Either way the result is the same, row for row, as in-process.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from opslib.errors import DataError
from opslib.forecast.regression import Regressors, arimax
from opslib.forecast.result import PointForecast

__all__ = ["run_model", "ENGINES", "PER_SERIES_MODELS", "EXOG_MODELS"]

ENGINES = (None, "processes")
"""``engine`` values: None runs in this process; "processes" spreads per-series models over a process pool."""
PER_SERIES_MODELS = ("ets", "arimax")
"""Models whose fits are independent per series, so a process pool can split them by SKU (``ets``: one
statsmodels likelihood per series, where the pool pays; ``arimax``: batched numpy, where it rarely does)."""
EXOG_MODELS = ("arimax",)
"""Models that use exogenous regressors."""


def check_engine(engine, function: str = "forecast") -> None:
    """Refuse an unknown engine with a plain message."""
    if engine not in ENGINES:
        raise DataError(f"{function}: engine must be None (in this process) or 'processes' (a process pool over "
                        f"SKUs for the per-series models {list(PER_SERIES_MODELS)}); got {engine!r}.")


def _run(name: str, y: np.ndarray, horizon: int, season_length: int, exog: Regressors | None) -> PointForecast:
    if name in EXOG_MODELS:
        return arimax(y, horizon, season_length=season_length, exog=exog)
    from opslib.forecast.core import MODELS

    return MODELS[name](y, horizon, season_length)


def _stack(parts: list[PointForecast]) -> PointForecast:
    """Row-wise concatenation of the point forecasts of consecutive chunks of series."""
    def cat(arrays):
        return None if any(a is None for a in arrays) else np.concatenate(arrays, axis=0)

    keys = parts[0].params.keys()
    params = {key: np.concatenate([np.asarray(p.params[key]) for p in parts], axis=0) for key in keys}
    return PointForecast(cat([p.mean for p in parts]), cat([p.fitted for p in parts]),
                         cat([p.spread for p in parts]), params)


def run_model(name: str, y: np.ndarray, horizon: int, season_length: int, *, exog: Regressors | None = None,
              engine: str | None = None, workers: int | None = None) -> PointForecast:
    """Run one model on the rows of a (n, T) array, in this process or over a process pool.

    Parameters
    ----------
    name : str
        A name of :data:`opslib.forecast.core.MODELS`.
    y : numpy.ndarray, shape (n_series, n_periods)
    horizon : int
    season_length : int
    exog : Regressors, optional
        Regressors of the same rows; used by :data:`EXOG_MODELS` only.
    engine : {None, "processes"}
        "processes": a model of :data:`PER_SERIES_MODELS` runs on chunks of
        rows in a ``concurrent.futures.ProcessPoolExecutor``; other models run
        in this process (they are vectorized over series).
    workers : int, optional
        Processes of the pool (default: the machine's CPU count).

    Returns
    -------
    PointForecast
        The same, row for row, whatever the engine.
    """
    check_engine(engine)
    n = y.shape[0]
    workers = int(workers or os.cpu_count() or 1)
    if engine != "processes" or name not in PER_SERIES_MODELS or n < 2 or workers < 2:
        return _run(name, y, horizon, season_length, exog)
    chunks = [rows for rows in np.array_split(np.arange(n), min(n, 4 * workers)) if len(rows)]
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        futures = [pool.submit(_run, name, y[rows], horizon, season_length, None if exog is None else exog[rows])
                   for rows in chunks]
        return _stack([f.result() for f in futures])
