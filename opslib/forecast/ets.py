"""ETS (exponential smoothing state space) models by maximum likelihood, one series at a time.

The likelihood model of the package: statsmodels' ``ETSModel`` fitted per series
(in a loop: a likelihood fit is not vectorized), with the specification chosen by
AICc among the safe additive-error models. A series the likelihood cannot serve
(too short, constant, too few demands, too many unobserved periods, a failed or
explosive fit) gets a NaN forecast and a reason; :func:`opslib.forecast.core.forecast_arrays`
then falls back along its chain (SES, seasonal naive, naive) and reports why.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from opslib.forecast.result import PointForecast

__all__ = ["ets", "EtsSpec", "ETS_SPECS", "MAX_MISSING_SHARE", "EXPLOSIVE_FACTOR", "MIN_DEMANDS"]


class EtsSpec(NamedTuple):
    """One additive-error ETS specification (Hyndman et al. 2008 taxonomy)."""

    trend: str | None
    damped_trend: bool
    seasonal: str | None

    @property
    def name(self) -> str:
        return "A" + ("N" if self.trend is None else ("Ad" if self.damped_trend else "A")) + (
            "N" if self.seasonal is None else "A")

    def n_parameters(self, season_length: int) -> int:
        """Smoothing parameters plus initial states estimated [count]."""
        k = 2                                                    # alpha, l0
        k += 2 if self.trend else 0                              # beta, b0
        k += 1 if self.damped_trend else 0                       # phi
        k += season_length if self.seasonal else 0               # gamma, m - 1 free initial seasonals
        return k


ETS_SPECS = (EtsSpec(None, False, None), EtsSpec("add", False, None), EtsSpec("add", True, None),
             EtsSpec(None, False, "add"), EtsSpec("add", False, "add"), EtsSpec("add", True, "add"))
"""A,N,N / A,A,N / A,Ad,N / A,N,A / A,A,A / A,Ad,A: additive errors only (no division by a state,
no explosive multiplicative recursions); seasonal ones only when m > 1 and the series is long enough."""

MAX_MISSING_SHARE = 0.1
"""Largest share of unobserved periods (censored or missing) between a series' first observation and
the forecast origin that is filled in for the likelihood; more: the series falls back."""
EXPLOSIVE_FACTOR = 10.0
"""A forecast above this multiple of the largest observation (plus 1) is refused as explosive."""
MIN_DEMANDS = 3
"""Fewer periods with non-zero demand: nothing for a likelihood to fit (falls back)."""


def _span(row: np.ndarray, season_length: int) -> tuple[np.ndarray | None, str]:
    """The series from its first observation to the origin, short gaps filled; or (None, reason)."""
    observed = ~np.isnan(row)
    if not observed.any():
        return None, "no observed period"
    x = row[np.argmax(observed):].copy()
    gaps = np.flatnonzero(np.isnan(x))
    if len(gaps) > MAX_MISSING_SHARE * len(x):
        return None, (f"{len(gaps)} of {len(x)} periods unobserved (censored or missing), more than "
                      f"{MAX_MISSING_SHARE:.0%}: too many to fill in for a likelihood fit")
    m = max(int(season_length), 1)
    for t in gaps:                                                # same season one cycle back, else the last value
        x[t] = x[t - m] if t >= m and not np.isnan(x[t - m]) else x[t - 1]
    return x, ""


def _why_not(x: np.ndarray, min_observations: int) -> str:
    if len(x) < min_observations:
        return f"{len(x)} observations, fewer than the {min_observations} the simplest ETS model needs"
    if np.ptp(x) == 0:
        return "constant series: the ETS likelihood is degenerate"
    if (x != 0).sum() < MIN_DEMANDS:
        return f"{int((x != 0).sum())} periods with demand, fewer than {MIN_DEMANDS}"
    return ""


def ets(y, horizon: int, *, season_length: int = 1, specs=ETS_SPECS,
        initialization_method: str = "estimated") -> PointForecast:
    """Additive-error ETS chosen by AICc per series (statsmodels ``ETSModel``).

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods) or (n_periods,)
        History [units/period]; NaN = not observed. Each series runs from its
        first observation to the last column (the forecast origin); up to
        :data:`MAX_MISSING_SHARE` of unobserved periods in that span are filled
        in (the value one season earlier, else the previous value).
    horizon : int
    season_length : int, default 1
        m; seasonal specifications are fitted only when m > 1 and the span
        holds at least two full seasons.
    specs : sequence of EtsSpec, default :data:`ETS_SPECS`
    initialization_method : str, default "estimated"
        Passed to ``ETSModel``: "estimated" fits the initial states by
        likelihood (as R's ``ets``); "heuristic" is about five times faster.

    Returns
    -------
    PointForecast
        ``mean`` the point forecast of the chosen model (NaN for a series ETS
        cannot serve); ``fitted`` its one-step in-sample forecasts; ``spread``
        sqrt of the model's relative h-step forecast variance (1 + sum of c_j^2);
        ``params``: ``spec`` (e.g. "AAdN", "" when none), ``aicc``, ``reason``
        (why a series got no forecast, "" otherwise).

    Notes
    -----
    A specification is a candidate when its estimated parameters k satisfy
    n > k + 4 (the rule of R's ``forecast::ets``); the smallest AICc wins. Each
    fit runs with warnings suppressed; an exception, a non-finite likelihood or
    forecast, or a forecast above :data:`EXPLOSIVE_FACTOR` x (max |y| + 1)
    removes the candidate. Additive errors only: the multiplicative-error
    models' likelihood breaks on zeros, which retail demand is full of.

    References
    ----------
    .. [1] Hyndman, R.J., Koehler, A.B., Ord, J.K., Snyder, R.D. (2008). Forecasting with
       Exponential Smoothing: The State Space Approach. Springer.
    """
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(y, dtype=float)
    y = y[None, :] if y.ndim == 1 else y
    n, T = y.shape
    m = max(int(season_length), 1)
    mean = np.full((n, horizon), np.nan)
    fitted = np.full((n, T), np.nan)
    spread = np.full((n, horizon), np.nan)
    chosen = np.full(n, "", dtype=object)
    aicc = np.full(n, np.nan)
    reason = np.full(n, "", dtype=object)
    steps = np.arange(1, horizon + 1)
    min_observations = min(s.n_parameters(m) for s in specs) + 5
    for i in range(n):
        x, why = _span(y[i], m)
        why = why or _why_not(x, min_observations)
        if why:
            reason[i] = why
            continue
        limit = EXPLOSIVE_FACTOR * (np.abs(x).max() + 1.0)
        best, failures = None, []
        for spec in specs:
            if spec.seasonal and (m <= 1 or len(x) < 2 * m):
                continue
            if len(x) <= spec.n_parameters(m) + 4:
                continue
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    model = ETSModel(x, error="add", trend=spec.trend, damped_trend=spec.damped_trend,
                                     seasonal=spec.seasonal, seasonal_periods=m if spec.seasonal else None,
                                     initialization_method=initialization_method)
                    result = model.fit(disp=False)
                    path = np.asarray(result.forecast(horizon), dtype=float)
                    score = float(result.aicc)
                if not (np.isfinite(score) and np.isfinite(path).all()):
                    failures.append(f"{spec.name}: non-finite fit")
                elif np.abs(path).max() > limit:
                    failures.append(f"{spec.name}: explosive forecast")
                elif best is None or score < best[0]:
                    best = (score, spec, result, path)
            except Exception as error:  # noqa: BLE001 (any failing fit only removes the candidate)
                failures.append(f"{spec.name}: {type(error).__name__}")
        if best is None:
            reason[i] = "no ETS specification could be fitted (" + ("; ".join(failures) or "none applicable") + ")"
            continue
        score, spec, result, path = best
        mean[i] = path
        fitted[i, T - len(x):] = np.asarray(result.fittedvalues, dtype=float)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            variance = np.asarray(result._relative_forecast_variance(steps), dtype=float)
        spread[i] = np.sqrt(np.where(np.isfinite(variance) & (variance > 0), variance, 1.0))
        chosen[i], aicc[i] = spec.name, score
    return PointForecast(mean, fitted, spread, {"spec": chosen, "aicc": aicc, "reason": reason})
