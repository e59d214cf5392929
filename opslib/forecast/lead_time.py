"""Demand over the lead time plus review period: the distribution the inventory engine consumes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from opslib.errors import DataError
from opslib.forecast.core import quantile_column
from opslib.forecast.frequency import infer_frequency

__all__ = ["LeadTimeDemand", "lead_time_demand", "backtest_error_std", "DAYS_PER_PERIOD"]

DAYS_PER_PERIOD = {"daily": 1.0, "weekly": 7.0, "monthly": 365.25 / 12, "quarterly": 365.25 / 4, "yearly": 365.25}
"""Length of a period of each frequency [days]."""

_PAIRS = (("p2.5", "p97.5", 0.025), ("p5", "p95", 0.05), ("p10", "p90", 0.1), ("p25", "p75", 0.25))


@dataclass(frozen=True)
class LeadTimeDemand:
    """Distribution of total demand over lead time plus review period, per SKU.

    Attributes
    ----------
    sku : pandas.Index
    mean : numpy.ndarray, shape (n_skus,)
        E[D] [units over the protection interval].
    std : numpy.ndarray, shape (n_skus,)
        sqrt(Var[D]) [units].
    quantiles : pandas.DataFrame
        Index ``sku``, one ``pNN`` column per requested quantile, from the samples [units].
    samples : numpy.ndarray, shape (n_skus, n_samples)
        Draws of D [units], never negative.
    lead_time_days : numpy.ndarray
        The lead times used [days]: one value (fixed) or the observed samples.
    review_period_days : float
    """

    sku: pd.Index
    mean: np.ndarray
    std: np.ndarray
    quantiles: pd.DataFrame
    samples: np.ndarray
    lead_time_days: np.ndarray
    review_period_days: float

    def to_frame(self) -> pd.DataFrame:
        """One row per SKU: ``sku, mean, std`` and the quantile columns."""
        frame = pd.DataFrame({"sku": self.sku, "mean": self.mean, "std": self.std})
        return pd.concat([frame, self.quantiles.reset_index(drop=True)], axis=1)


def backtest_error_std(backtest_frame: pd.DataFrame, *, model: str | None = None) -> pd.Series:
    """Per-SKU standard deviation of one-period forecast errors from a backtest [units/period].

    The root mean square of ``error`` (bias included) over every scored row of the
    SKU (of ``model`` when given): the per-period error sigma that
    :func:`lead_time_demand` takes as ``error_std``.
    """
    frame = backtest_frame[backtest_frame["units"].notna()]
    if model is not None:
        frame = frame[frame["model"] == model]
    return np.sqrt((frame["error"] ** 2).groupby(frame["sku"], sort=True).mean()).rename("error_std")


def _sigma_from_quantiles(frame: pd.DataFrame) -> np.ndarray:
    for lo, hi, tail in _PAIRS:
        if lo in frame.columns and hi in frame.columns:
            return (frame[hi].to_numpy() - frame[lo].to_numpy()) / (2 * stats.norm.ppf(1 - tail))
    raise DataError("lead_time_demand: the forecast frame has no symmetric quantile pair (p10/p90, p5/p95, "
                    "p2.5/p97.5 or p25/p75) to read its uncertainty from. Fix: forecast with such quantiles "
                    "or pass error_std (e.g. backtest_error_std(backtest(...))).")


def lead_time_demand(forecast_frame: pd.DataFrame, lead_time_days: float | None = None,
                     review_period_days: float = 0.0, *, lead_time_distribution=None,
                     error_std: float | pd.Series | None = None, distribution: str = "gamma",
                     quantiles=(0.5, 0.9, 0.95, 0.99), n_samples: int = 10_000, seed=None,
                     model: str = "auto") -> LeadTimeDemand:
    """Distribution of total demand over the lead time plus the review period, per SKU.

    Parameters
    ----------
    forecast_frame : pandas.DataFrame
        The output of :func:`opslib.forecast.forecast` (``sku, date, mean`` and
        quantile columns), or a ``demand`` table (``sku, date, units``), which is
        then forecast first with ``model`` over the periods needed.
    lead_time_days : float, optional
        Fixed lead time L [days]. Exactly one of ``lead_time_days`` and
        ``lead_time_distribution`` is given.
    review_period_days : float, default 0
        Review period R [days] (0: continuous review).
    lead_time_distribution : array-like of float, optional
        Observed lead times [days] (e.g. receipt date - order date of past
        purchase orders); L is drawn from them with replacement.
    error_std : float or pandas.Series, optional
        Per-period forecast error standard deviation [units/period], one value or
        one per SKU (e.g. :func:`backtest_error_std`). Default: read per period
        from the forecast's quantiles, sigma_t = (p90 - p10) / (2 z_0.9) (the
        widest symmetric pair present), i.e. the model's own spread.
    distribution : {"gamma", "normal"}, default "gamma"
        Shape of D given L: a gamma with the same mean and variance (never
        negative, right-skewed), or a normal clipped at 0.
    quantiles : sequence of float, default (0.5, 0.9, 0.95, 0.99)
    n_samples : int, default 10000
    seed : int or numpy.random.Generator, optional
    model : str, default "auto"
        Model used when ``forecast_frame`` is a demand table.

    Returns
    -------
    LeadTimeDemand

    Notes
    -----
    With forecast means mu_t and error deviations sigma_t per period (errors
    independent across periods), P = (L + R) / period length [periods], and
    M(P) = sum_{t <= P} mu_t, V(P) = sum_{t <= P} sigma_t^2 (a fractional last
    period counts pro rata; periods beyond the forecast repeat its last seasonal
    cycle, e.g. a daily forecast's last week, or its last period when it is
    shorter than a cycle):

    - fixed L: E[D] = M(P), Var[D] = V(P); with constant mu, sigma: L mu and L sigma^2;
    - random L: E[D] = E[M(P)], Var[D] = E[V(P)] + Var[M(P)] (law of total
      variance); with constant mu, sigma: E[L] mu and E[L] sigma^2 + mu^2 Var[L] [1].

    ``mean`` and ``std`` are these exact moments; quantiles and samples come
    from drawing L, then D given L from ``distribution``.

    References
    ----------
    .. [1] Silver, E.A., Pyke, D.F., Thomas, D.J. (2017). Inventory and Production Management in
       Supply Chains, 4th ed., section 6.10 (lead time variability). CRC Press.
    """
    if (lead_time_days is None) == (lead_time_distribution is None):
        raise DataError("lead_time_demand: give exactly one of lead_time_days (fixed) and lead_time_distribution "
                        f"(observed samples); got lead_time_days={lead_time_days!r} and "
                        f"lead_time_distribution={'None' if lead_time_distribution is None else 'given'}.")
    lead = np.atleast_1d(np.asarray(lead_time_days if lead_time_distribution is None else lead_time_distribution,
                                    dtype=float))
    if lead.size == 0 or not np.isfinite(lead).all() or (lead < 0).any():
        raise DataError(f"lead_time_demand: lead times must be finite and >= 0 days; got {lead[:5]}.")
    if not np.isfinite(review_period_days) or review_period_days < 0:
        raise DataError(f"lead_time_demand: review_period_days must be >= 0; got {review_period_days!r}.")
    if distribution not in ("gamma", "normal"):
        raise DataError(f"lead_time_demand: distribution must be 'gamma' or 'normal'; got {distribution!r}.")
    quantiles = tuple(float(q) for q in quantiles)
    rng = np.random.default_rng(seed)

    dates = pd.to_datetime(forecast_frame["date"])
    frequency = infer_frequency(dates) if dates.nunique() > 1 else None
    days = DAYS_PER_PERIOD[frequency.name] if frequency is not None else 1.0
    periods_needed = (lead.max() + review_period_days) / days
    if "mean" not in forecast_frame.columns:
        if "units" not in forecast_frame.columns:
            raise DataError("lead_time_demand: pass a forecast frame (sku, date, mean, p10, p90, ...) or a demand "
                            f"table (sku, date, units); columns seen: {list(forecast_frame.columns)}.")
        from opslib.forecast.core import forecast

        forecast_frame = forecast(forecast_frame, max(int(np.ceil(periods_needed)), 1), model=model,
                                  quantiles=(0.1, 0.5, 0.9))
    frame = forecast_frame.sort_values(["sku", "date"])
    skus = pd.Index(pd.unique(frame["sku"]), name="sku")
    n = len(skus)
    horizon = int(frame.groupby("sku", sort=False).size().max())
    codes = skus.get_indexer(frame["sku"])
    step = frame.groupby("sku", sort=False).cumcount().to_numpy()
    mu = np.full((n, horizon), np.nan)
    mu[codes, step] = frame["mean"].to_numpy(dtype=float)
    if error_std is None:
        sigma = np.full((n, horizon), np.nan)
        sigma[codes, step] = np.maximum(_sigma_from_quantiles(frame), 0.0)
    elif isinstance(error_std, pd.Series):
        missing = skus.difference(error_std.index)
        if len(missing):
            raise DataError(f"lead_time_demand: error_std has no value for {len(missing)} SKU(s), e.g. "
                            f"{list(missing[:5])}. Fix: pass one value per SKU of the forecast.")
        sigma = np.repeat(error_std.reindex(skus).to_numpy(dtype=float)[:, None], horizon, axis=1)
    else:
        sigma = np.full((n, horizon), float(error_std))
    # forward-fill within a SKU's horizon, then extend to the periods needed by repeating the last seasonal
    # cycle (a daily forecast's last week: each extra day is the same weekday's), or the last period when the
    # forecast is shorter than a cycle
    mu = pd.DataFrame(mu).ffill(axis=1).fillna(0.0).to_numpy()
    sigma = pd.DataFrame(sigma).ffill(axis=1).fillna(0.0).to_numpy()
    width = max(horizon, int(np.ceil(periods_needed)) + 1)
    if width > horizon:
        season = frequency.season_length if frequency is not None else 1
        cycle = season if 1 < season <= horizon else 1
        repeat = horizon - cycle + np.arange(width - horizon) % cycle
        mu = np.concatenate([mu, mu[:, repeat]], axis=1)
        sigma = np.concatenate([sigma, sigma[:, repeat]], axis=1)
    cum_mu = np.concatenate([np.zeros((n, 1)), np.cumsum(mu, axis=1)], axis=1)        # M(0..width)
    cum_var = np.concatenate([np.zeros((n, 1)), np.cumsum(sigma**2, axis=1)], axis=1)

    def at(cum, p):                                                                 # M(P) for P per column
        lo = np.floor(p).astype(int)
        frac = p - lo
        return cum[:, lo] + frac * (cum[:, np.minimum(lo + 1, width)] - cum[:, lo])

    support = (lead + review_period_days) / days
    m_l, v_l = at(cum_mu, support), at(cum_var, support)                             # (n, n_lead)
    mean = m_l.mean(axis=1)
    var = v_l.mean(axis=1) + m_l.var(axis=1)
    draw = rng.integers(0, len(support), n_samples)
    m_s, v_s = m_l[:, draw], v_l[:, draw]
    if distribution == "gamma":
        positive = (m_s > 0) & (v_s > 0)
        shape = np.where(positive, m_s**2 / np.where(positive, v_s, 1.0), 1.0)
        scale = np.where(positive, v_s / np.where(positive, m_s, 1.0), 0.0)
        samples = np.where(positive, rng.gamma(shape, 1.0) * scale, np.maximum(m_s, 0.0))
    else:
        samples = np.maximum(m_s + np.sqrt(v_s) * rng.standard_normal(m_s.shape), 0.0)
    q = pd.DataFrame(np.quantile(samples, quantiles, axis=1).T if quantiles else np.empty((n, 0)),
                     index=skus, columns=[quantile_column(x) for x in quantiles])
    return LeadTimeDemand(skus, mean, np.sqrt(var), q, samples, lead, float(review_period_days))
