"""Interval calibration: randomized-PIT coverage and count-distribution quantiles on known panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from opslib import DataError
from opslib.forecast import backtest, forecast, from_panel
from opslib.forecast.calibration import PIT_GRID, pit_interval_coverage, quantile_bracket

# backtest adds one column per quantile of the 101-level grid; pandas notes the fragmentation
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")


def _grid_frame(units, ppf):
    """A frame with the actuals and the exact quantiles of a distribution at PIT_GRID."""
    frame = pd.DataFrame({"units": np.asarray(units, dtype=float)})
    for tau in PIT_GRID:
        frame[f"p{round(tau * 100, 8):g}"] = ppf(tau)
    return frame


@pytest.mark.parametrize("mu", [0.3, 2.5])
def test_pit_coverage_of_the_true_poisson_is_nominal(mu):
    # Exact expectation: sum_y P(Y = y) * coverage(y) for a forecast that IS Poisson(mu); the grid reads the
    # CDF to within its 0.01 spacing. The closed interval [q10, q90] covers F(q90) - F(q10 - 1) > 0.8.
    ys = np.arange(0, 40)
    frame = _grid_frame(ys, lambda tau: stats.poisson.ppf(tau, mu))
    pmf = stats.poisson.pmf(ys, mu)
    for level in (0.8, 0.95):
        assert pmf @ pit_interval_coverage(frame, level) == pytest.approx(level, abs=0.011)
    closed = stats.poisson.cdf(stats.poisson.ppf(0.9, mu), mu) - stats.poisson.cdf(stats.poisson.ppf(0.1, mu) - 1, mu)
    assert closed > 0.85                                      # 0.96 at mu = 0.3: the discreteness, not a bad forecast


def test_pit_coverage_continuous_is_the_indicator():
    frame = _grid_frame([-2.0, -1.0, 0.0, 1.2, 3.0], stats.norm.ppf)
    np.testing.assert_array_equal(pit_interval_coverage(frame, 0.8), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(pit_interval_coverage(frame, 0.95), [0, 1, 1, 1, 0])
    with pytest.raises(DataError, match="level must lie"):
        pit_interval_coverage(frame, 80)


def _panel(rng, n, T, mu, dispersion):
    if dispersion == 1.0:
        return rng.poisson(mu, size=(n, T)).astype(float)
    r = mu / (dispersion - 1.0)                               # NB with mean mu, variance dispersion * mu
    return rng.negative_binomial(r, r / (r + mu), size=(n, T)).astype(float)


@pytest.mark.parametrize("mu, dispersion, model", [(0.4, 1.0, "croston_sba"), (0.8, 3.0, "tsb"),
                                                   (15.0, 2.0, "ses")])
def test_backtest_coverage_on_known_count_panels(mu, dispersion, model):
    # i.i.d. Poisson / negative-binomial demand with known mean and variance-to-mean ratio. The first two are
    # intermittent (count-distribution quantiles), the third smooth (empirical residual quantiles). The
    # randomized-PIT coverage of the 80% and 95% intervals must be within sampling error of nominal. Sampling
    # error: the rows of one SKU and window share one mean estimate, so the binomial error counts SKU-windows
    # (n = 80 x 3), not rows: 3 se = 0.077 (80%) and 0.042 (95%).
    rng = np.random.default_rng(11)
    n, T, horizon, windows = 80, 240, 14, 3
    y = _panel(rng, n, T, mu, dispersion)
    demand = from_panel(y, [f"S{i:03d}" for i in range(n)], pd.date_range("2024-01-01", periods=T, freq="D"))
    frame = backtest(demand, horizon, windows=windows, models=[model], quantiles=PIT_GRID, season_length=1)
    groups = n * windows
    for level in (0.8, 0.95):
        pit = np.nanmean(pit_interval_coverage(frame, level))
        se = np.sqrt(level * (1 - level) / groups)
        assert abs(pit - level) < 3 * se, (level, pit)
    # the quantile definition, P(Y < q) <= tau <= P(Y <= q), for the interval ends
    for column, tau in (("p10", 0.1), ("p90", 0.9), ("p97.5", 0.975)):
        below, at_or_below = quantile_bracket(frame, column)
        se = np.sqrt(tau * (1 - tau) / groups)
        assert below - 3 * se <= tau <= at_or_below + 3 * se, (column, below, at_or_below)


def test_count_quantiles_follow_the_fitted_negative_binomial():
    # An intermittent series (25 threes, 25 ones, 150 zeros: mean 0.5, variance 1.26): the per-period
    # quantiles are those of the negative binomial with mean = the forecast mean and variance d x mean,
    # d = the variance-to-mean ratio of the history.
    rng = np.random.default_rng(5)
    y = rng.permutation(np.r_[np.full(25, 3.0), np.full(25, 1.0), np.zeros(150)])
    mean, var = y.mean(), y.var(ddof=1)
    demand = from_panel(y[None, :], ["X"], pd.date_range("2024-01-01", periods=len(y), freq="D"))
    out = forecast(demand, 3, model="historic_average", quantiles=(0.5, 0.9, 0.975), season_length=1)
    d = var / mean
    r = out["mean"].iloc[0] / (d - 1)
    for q in (0.5, 0.9, 0.975):
        assert out[f"p{round(q * 100, 8):g}"].iloc[0] == stats.nbinom.ppf(q, r, 1 / d)
