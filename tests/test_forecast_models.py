"""Forecast models: hand-computed values, statsmodels agreement, and equality (1e-10) of every
vectorized model with a straightforward per-series implementation written here in plain loops.

The per-series references for Croston, SBA, TSB, ADIDA and iMAPA transcribe the official M5
benchmark code (Mcompetitions/M5-methods, ``validation/Point Forecasts - Benchmarks.R``) on
the series of observed values (NaN periods dropped). ``SexpS`` there optimises alpha in
[0.1, 0.3] with L-BFGS-B; opslib uses a golden-section search, transcribed as such below.
"""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.holtwinters import Holt, SimpleExpSmoothing

from opslib.forecast import (adida, croston, croston_optimized, croston_sba, drift, historic_average, holt, imapa,
                             moving_average, naive, seasonal_naive, simple_exponential_smoothing, tsb)
from opslib.forecast import smoothing
from opslib.forecast.intermittent import TSB_OCCURRENCE_GRID, TSB_SIZE_GRID, _tsb_grid, demand_sizes_and_intervals
from opslib.forecast.smoothing import (ALPHA_GRID, BETA_GRID, GOLDEN_ITERATIONS, HOLT_POLISH_ITERATIONS, PHI_RANGE,
                                      _holt_kernel, _ses_kernel, _time_major)

TOL = 1e-10

# --------------------------------------------------------------------------- per-series references


def ref_ses(x, alpha, dtype=float):
    """M5 ``SES``: y[1] = x[1]; y[t+1] = a x[t] + (1 - a) y[t]. Returns (final level, SSE of y[t] vs x[t]).

    ``dtype`` np.float32: values, alpha and every operation rounded to float32 (numpy scalars), as
    the SSE evaluations of opslib's alpha search (``smoothing.SEARCH_DTYPE``)."""
    level, sse, alpha = None, dtype(0.0), dtype(alpha)
    for v in x:
        v = dtype(v)
        if level is None:
            level = v
            continue
        err = v - level
        sse += err * err
        level = level + alpha * err
    return level, sse


def ref_ses_alpha(x, lo=0.1, hi=0.3, dtype=None):
    """Golden-section search of opslib, one series, one alpha at a time (textbook form, e.g.
    Press et al., Numerical Recipes, 3rd ed., section 10.2): keep [a, d] when SSE(c) <= SSE(d), else
    [c, b]; then also try the bound the bracket still touches; first smallest of (c, d, bound).
    The SSE in ``dtype`` (default: opslib's ``SEARCH_DTYPE``); the points in float64."""
    if len(x) < 2:
        return lo
    g = (5 ** 0.5 - 1) / 2
    dtype = smoothing.SEARCH_DTYPE if dtype is None else dtype
    sse = lambda a: ref_ses(x, a, dtype)[1]                # noqa: E731
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = sse(c), sse(d)
    for _ in range(GOLDEN_ITERATIONS):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = sse(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = sse(d)
    e = lo if a == lo else (hi if b == hi else c)
    best, best_sse = c, fc
    for point, value in ((d, fd), (e, sse(e))):
        if value < best_sse:
            best, best_sse = point, value
    return best


def ref_sexps(x):
    return ref_ses(x, ref_ses_alpha(x))[0] if len(x) else np.nan


def ref_intervals(x):
    """M5 ``intervals``: counter of zeros, recorded at each demand, reset to 1; zeros dropped."""
    out, counter = [], 0
    for v in x:
        if v == 0:
            counter += 1
        else:
            out.append(counter)
            counter = 1
    return [i for i in out if i > 0]


def ref_croston(x, mult, alpha=0.1):
    sizes = [v for v in x if v != 0]
    if not sizes:
        return 0.0
    intervals = ref_intervals(x) or [1]
    return mult * ref_ses(sizes, alpha)[0] / ref_ses(intervals, alpha)[0]


def ref_tsb(x):
    n = len(x)
    p = [1.0 if v != 0 else 0.0 for v in x]
    z = [v for v in x if v != 0]
    if not z:
        return 0.0
    best, best_mse = None, np.inf
    for a in TSB_OCCURRENCE_GRID:
        for b in TSB_SIZE_GRID:
            zfit, pfit = [z[0]], [p[0]]
            for i in range(1, n):
                pfit.append(pfit[i - 1] + a * (p[i] - pfit[i - 1]))
                zfit.append(zfit[i - 1] if p[i] == 0 else zfit[i - 1] + b * (x[i] - zfit[i - 1]))
            yfit = [pp * zz for pp, zz in zip(pfit, zfit)]
            sse = 0.0
            for i in range(1, n):
                sse += (yfit[i - 1] - x[i]) ** 2
            if sse < best_mse:
                best, best_mse = yfit[-1], sse
    return best


def ref_aggregate(x, al):
    k = len(x) // al
    tail = x[len(x) - k * al:]
    return [sum(tail[i * al:(i + 1) * al]) for i in range(k)]


def ref_adida(x):
    iv = ref_intervals(x)
    if not iv:
        return 0.0
    al = int(np.round(np.mean(iv)))
    agg = ref_aggregate(x, al)
    return ref_sexps(agg) / al if agg else np.nan


def ref_imapa(x):
    iv = ref_intervals(x)
    if not iv:
        return 0.0
    mal = int(np.round(np.mean(iv)))
    values = [ref_sexps(ref_aggregate(x, al)) / al for al in range(1, mal + 1) if len(x) // al > 0]
    return float(np.mean(values)) if values else np.nan


def ref_holt(row, alpha, beta, phi):
    """Holt's method as in statsmodels, level from the first value, trend 0; a NaN period moves the
    state along its (damped) trend without an error. Returns (level, trend, SSE)."""
    level, trend, sse = None, 0.0, 0.0
    for v in row:
        if level is None:
            if not np.isnan(v):
                level, trend = v, 0.0
            continue
        f = level + phi * trend
        if np.isnan(v):
            level, trend = f, phi * trend
            continue
        err = v - f
        sse += err * err
        new_level = alpha * v + (1 - alpha) * f
        trend = beta * (new_level - level) + (1 - beta) * phi * trend
        level = new_level
    return level, trend, sse


def ref_holt_sse(row, alpha, beta, phi):
    """One-step SSE of Holt's method on ``row`` (as ``ref_holt``: a NaN period after the first
    observation moves the state along its trend), in the error-correction form and operation order of
    the vectorized kernel: f = l + phi b, e = y - f, l = f + alpha e, b = phi b + (alpha beta) e; so
    that both give the same floating-point SSE and the same choices."""
    level, trend, sse = None, 0.0, 0.0
    for v in row:
        if level is None:
            level = None if np.isnan(v) else v
            continue
        trend = phi * trend
        f = level + trend
        if np.isnan(v):
            level = f
            continue
        err = v - f
        level = alpha * err + f
        trend = trend + (alpha * beta) * err
        sse += err * err
    return sse


def ref_golden_polish(f, lo, hi, x0, f0):
    """Golden section of one parameter on [lo, hi] (textbook form), answer the first of (x0, c, d)
    with the smallest SSE."""
    g = (5 ** 0.5 - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(HOLT_POLISH_ITERATIONS):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    best, best_sse = x0, f0
    for x, fx in ((c, fc), (d, fd)):
        if fx < best_sse:
            best, best_sse = x, fx
    return best, best_sse


def ref_holt_search(x, damped):
    """opslib's Holt parameter search for one series, in plain loops: the (alpha, beta) grid with
    beta <= alpha at phi = 0.98 (damped) or 1, first smallest SSE; then golden-section polishes of
    phi on [0.8, 0.98] (damped), alpha on [max(alpha - 0.05, beta, 0.01), min(alpha + 0.05, 0.99)],
    beta between its grid neighbours (0.001 below the first, 0.5 above the last) capped at alpha."""
    phi = PHI_RANGE[1] if damped else 1.0
    best, alpha, beta = np.inf, None, None
    for a in ALPHA_GRID:
        for b in BETA_GRID:
            if b <= a:
                s = ref_holt_sse(x, a, b, phi)
                if s < best or alpha is None:
                    best, alpha, beta = s, a, b
    if damped:
        phi, best = ref_golden_polish(lambda v: ref_holt_sse(x, alpha, beta, v), *PHI_RANGE, phi, best)
    alpha, best = ref_golden_polish(lambda v: ref_holt_sse(x, v, beta, phi), max(alpha - 0.05, 0.01, beta),
                                    min(alpha + 0.05, 0.99), alpha, best)
    at = list(BETA_GRID).index(beta)
    lo = BETA_GRID[at - 1] if at > 0 else 0.001
    hi = min(BETA_GRID[at + 1] if at < len(BETA_GRID) - 1 else 0.5, alpha)
    beta, best = ref_golden_polish(lambda v: ref_holt_sse(x, alpha, v, phi), lo, max(hi, lo), beta, best)
    return alpha, beta, phi


# --------------------------------------------------------------------------- data


def intermittent_panel(seed=7, n=25, T=90):
    rng = np.random.default_rng(seed)
    y = rng.poisson(rng.uniform(0.5, 5, (n, 1)), (n, T)) * (rng.random((n, T)) < rng.uniform(0.1, 0.9, (n, 1)))
    y = y.astype(float)
    starts = rng.integers(0, 40, n)
    for i, s in enumerate(starts):
        y[i, :s] = np.nan                                      # listed later
    y[rng.random((n, T)) < 0.05] = np.nan                      # censored days
    y[0, :] = 0.0                                              # all zero
    y[1, :] = np.nan
    y[1, -3:] = [0.0, 5.0, 0.0]                                # three observations, one sale
    y[2, :] = 0.0
    y[2, 0] = 4.0                                              # one sale at the start
    return y


def smooth_panel(seed=3, n=12, T=60):
    rng = np.random.default_rng(seed)
    y = 50 + np.cumsum(rng.normal(0.2, 2, (n, T)), axis=1)
    y[rng.random((n, T)) < 0.05] = np.nan
    y[0, :10] = np.nan
    return y


def observed(row):
    return [float(v) for v in row if not np.isnan(v)]


# --------------------------------------------------------------------------- hand-computed values


def test_ses_hand_computed():
    # y = [10, 12, 11, 13], alpha 0.5: l = 10 -> 11 -> 11 -> 12; forecast 12.
    # one-step errors 2, 0, 2 -> fitted [nan, 10, 11, 11]
    result = simple_exponential_smoothing([10, 12, 11, 13], 3, alpha=0.5)
    np.testing.assert_allclose(result.mean, [[12, 12, 12]], atol=TOL)
    np.testing.assert_allclose(result.fitted[0, 1:], [10, 11, 11], atol=TOL)
    # spread sqrt(1 + (h - 1) alpha^2): 1, sqrt(1.25), sqrt(1.5)
    np.testing.assert_allclose(result.spread, [[1, 1.25**0.5, 1.5**0.5]], atol=TOL)


def test_croston_hand_computed():
    # x = [0, 0, 3, 0, 2, 0, 0, 4]: sizes [3, 2, 4], M5 intervals [2, 2, 3] (the first one counts
    # the two leading zeros). SES(0.1) from the first value:
    #   sizes     3 -> 3 + 0.1 (2 - 3) = 2.9 -> 2.9 + 0.1 (4 - 2.9) = 3.01
    #   intervals 2 -> 2                     -> 2 + 0.1 (3 - 2)     = 2.1
    # Croston 3.01 / 2.1 = 1.4333..., SBA 0.95 x 1.4333... = 1.361666...
    x = [0, 0, 3, 0, 2, 0, 0, 4]
    np.testing.assert_allclose(croston(x, 2).mean, [[3.01 / 2.1] * 2], atol=TOL)
    np.testing.assert_allclose(croston_sba(x, 1).mean, [[0.95 * 3.01 / 2.1]], atol=TOL)


def test_adida_hand_computed():
    # x = [0, 0, 3, 0, 2, 0, 0, 4]: mean interval 7/3 -> bucket 2; buckets [0+0, 3+0, 2+0, 0+4] =
    # [0, 3, 2, 4]. SES of that series with alpha a: l = 0 -> 3a -> ..., the chosen alpha is the
    # largest (0.3) because errors fall as alpha grows: l = 0, 0.9, 1.23, 2.061; forecast 2.061 / 2.
    x = [0, 0, 3, 0, 2, 0, 0, 4]
    result = adida(x, 1)
    assert result.params["aggregation"][0] == 2
    np.testing.assert_allclose(result.mean, [[2.061 / 2]], atol=TOL)


def test_tsb_hand_computed_constant_occurrence():
    # Demand every period of size 5: p stays 1, z stays 5 -> forecast 5 for any a, b.
    np.testing.assert_allclose(tsb([5.0] * 6, 2).mean, [[5, 5]], atol=TOL)


def test_baselines_hand_computed():
    y = [1, 2, 3, 4, 5, 6, np.nan]
    np.testing.assert_allclose(naive(y, 2).mean, [[6, 6]])
    # last cycle: periods 4, 5, 6 = 5, 6, NaN; the NaN is taken one cycle back (period 3 = 4)
    np.testing.assert_allclose(seasonal_naive(y, 4, 3).mean, [[5, 6, 4, 5]])
    np.testing.assert_allclose(moving_average(y, 1, 3).mean, [[5]])
    np.testing.assert_allclose(historic_average(y, 1).mean, [[3.5]])
    np.testing.assert_allclose(moving_average(y, 1, 2).fitted[0, :4], [np.nan, 1, 1.5, 2.5])
    np.testing.assert_allclose(historic_average(y, 1).fitted[0, :4], [np.nan, 1, 1.5, 2])


# --------------------------------------------------------------------------- statsmodels


def test_ses_matches_statsmodels_fitted_level():
    y = np.array([12.0, 15, 14, 18, 16, 21, 19, 23, 22, 25])
    alpha = 0.35
    sm = SimpleExpSmoothing(y, initialization_method="known", initial_level=y[0]).fit(
        smoothing_level=alpha, optimized=False)
    ours = simple_exponential_smoothing(y, 1, alpha=alpha)
    np.testing.assert_allclose(ours.fitted[0, 1:], sm.fittedvalues[1:], atol=TOL)
    np.testing.assert_allclose(ours.mean[0, 0], sm.level[-1], atol=TOL)
    np.testing.assert_allclose(ours.mean[0, 0], sm.forecast(1)[0], atol=TOL)


@pytest.mark.parametrize("phi", [1.0, 0.9])
def test_holt_matches_statsmodels(phi):
    y = np.array([12.0, 15, 14, 18, 16, 21, 19, 23, 22, 25, 27, 26])
    alpha, beta = 0.4, 0.2
    sm = Holt(y, damped_trend=phi < 1, initialization_method="known", initial_level=y[0], initial_trend=0.0).fit(
        smoothing_level=alpha, smoothing_trend=beta, **({"damping_trend": phi} if phi < 1 else {}), optimized=False)
    ours = holt(y, 4, damped=phi < 1, alpha=alpha, beta=beta, phi=phi)
    np.testing.assert_allclose(ours.fitted[0, 1:], sm.fittedvalues[1:], atol=1e-9)
    np.testing.assert_allclose(ours.mean[0], sm.forecast(4), atol=1e-9)


# --------------------------------------------------------------------------- vectorized == per series


@pytest.mark.parametrize("search_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha_range", [(0.1, 0.3), (0.01, 0.99)])   # M5 SexpS; statsforecast's SES optimized
def test_ses_vectorized_matches_reference(monkeypatch, alpha_range, search_dtype):
    # the reference searches with its SSE in the same precision (float32 emulated with numpy scalars)
    monkeypatch.setattr(smoothing, "SEARCH_DTYPE", search_dtype)
    y = np.vstack([smooth_panel(T=90), intermittent_panel()])
    result = simple_exponential_smoothing(y, 3, alpha_range=alpha_range)
    for i, row in enumerate(y):
        x = observed(row)
        if not x:
            assert np.isnan(result.mean[i]).all()
            continue
        alpha = ref_ses_alpha(x, *alpha_range)
        assert abs(result.params["alpha"][i] - alpha) < TOL
        assert abs(result.mean[i, 0] - ref_ses(x, alpha)[0]) < TOL


def test_holt_vectorized_matches_reference():
    y = np.vstack([smooth_panel(n=8, T=60), intermittent_panel(n=6, T=60)])
    y[-1] = np.nan                                              # no observation: no forecast
    for damped in (False, True):
        result = holt(y, 5, damped=damped)
        assert np.isnan(result.mean[-1]).all()
        for i, row in enumerate(y[:-1]):
            params = ref_holt_search(row, damped)
            np.testing.assert_allclose([result.params[k][i] for k in ("alpha", "beta", "phi")], params, atol=TOL)
            level, trend, _ = ref_holt(row, *params)
            p = params[2]
            expected = [level + sum(p ** j for j in range(1, h + 1)) * trend for h in range(1, 6)]
            np.testing.assert_allclose(result.mean[i], expected, atol=1e-8)


def test_holt_search_no_worse_than_its_grid():
    y = smooth_panel(n=6, T=40)
    for damped in (False, True):
        result = holt(y, 1, damped=damped)
        improved = 0
        for i, row in enumerate(y):
            chosen = ref_holt_sse(row, *(result.params[k][i] for k in ("alpha", "beta", "phi")))
            grid = min(ref_holt_sse(row, a, b, PHI_RANGE[1] if damped else 1.0)
                       for a in ALPHA_GRID for b in BETA_GRID if b <= a)
            assert chosen <= grid
            improved += chosen < grid
        assert improved > 0                                     # the polish does something


def test_holt_kernel_matches_reference_on_gaps():
    y = smooth_panel(n=5, T=30)
    history = np.empty(y.shape[::-1])
    level, trend, sse = _holt_kernel(_time_major(y), 0.3, 0.1, 0.9, history)
    for i, row in enumerate(y):
        np.testing.assert_allclose([level[i], trend[i], sse[i]], ref_holt(row, 0.3, 0.1, 0.9), atol=TOL)
    # several parameter sets per pass: rows of (K, n)
    alphas = np.array([[0.2], [0.5]])
    _, _, sse2 = _holt_kernel(_time_major(y), alphas, 0.1, 0.9)
    for k, a in enumerate(alphas[:, 0]):
        np.testing.assert_allclose(sse2[k], [ref_holt(row, a, 0.1, 0.9)[2] for row in y], atol=1e-8)


@pytest.mark.parametrize("model, reference", [
    (croston, lambda x: ref_croston(x, 1.0)),
    (croston_sba, lambda x: ref_croston(x, 0.95)),
    (tsb, ref_tsb),
    (adida, ref_adida),
    (imapa, ref_imapa),
])
def test_intermittent_vectorized_matches_m5_reference(model, reference):
    y = intermittent_panel()
    result = model(y, 4)
    for i, row in enumerate(y):
        x = observed(row)
        expected = reference(x) if x else np.nan
        got = result.mean[i, 0]
        if np.isnan(expected):
            assert np.isnan(got), i
        else:
            assert abs(got - expected) < TOL, (i, got, expected)
        np.testing.assert_array_equal(result.mean[i], result.mean[i, 0])


def test_croston_optimized_matches_reference():
    y = intermittent_panel(seed=11)
    result = croston_optimized(y, 1)
    for i, row in enumerate(y):
        x = observed(row)
        sizes = [v for v in x if v != 0]
        if not sizes:
            continue
        intervals = ref_intervals(x) or [1]
        assert abs(result.mean[i, 0] - ref_sexps(sizes) / ref_sexps(intervals)) < TOL


def test_baselines_vectorized_match_reference():
    y = np.vstack([smooth_panel(T=90), intermittent_panel()])
    nv, ma, ha, sn = naive(y, 3), moving_average(y, 3, 5), historic_average(y, 3), seasonal_naive(y, 10, 7)
    for i, row in enumerate(y):
        x = observed(row)
        if not x:
            continue
        assert nv.mean[i, 0] == x[-1]
        assert abs(ma.mean[i, 0] - np.mean(x[-5:])) < TOL
        assert abs(ha.mean[i, 0] - np.mean(x)) < TOL
        T = len(row)
        for h in range(1, 11):
            # the same season in the latest cycle where it was observed, else the last observed value
            k = (h - 1) % 7
            cands = [row[T - 7 * c + k] for c in range(1, T // 7 + 2) if 0 <= T - 7 * c + k < T]
            cands = [v for v in cands if not np.isnan(v)]
            assert sn.mean[i, h - 1] == (cands[0] if cands else x[-1])


def test_constant_series_gives_constant_forecast():
    y = np.full((1, 30), 4.0)
    np.testing.assert_allclose(croston_sba(y, 5).mean, 0.95 * 4.0, atol=TOL)  # SBA is biased by design
    for model in (simple_exponential_smoothing, holt, croston, tsb, adida, imapa, naive,
                  historic_average):
        np.testing.assert_allclose(model(y, 5).mean, 4.0, atol=TOL, err_msg=model.__name__)
    np.testing.assert_allclose(seasonal_naive(y, 5, 7).mean, 4.0)
    np.testing.assert_allclose(moving_average(y, 5, 3).mean, 4.0)


def test_demand_sizes_and_intervals_by_hand_and_aligned_right():
    # [nan, 0, 0, 3, nan, 0, 2, 0, 0, 4]: observed [0, 0, 3, 0, 2, 0, 0, 4] -> sizes [3, 2, 4] and
    # M5 intervals [2, 2, 3] (the NaN periods do not count); [5, 0, 1]: sizes [5, 1], intervals [nan, 2]
    y = np.array([[np.nan, 0, 0, 3, np.nan, 0, 2, 0, 0, 4], [5, 0, 1] + [np.nan] * 7])
    sizes, intervals = demand_sizes_and_intervals(y)
    np.testing.assert_array_equal(sizes, [[3, 2, 4], [5, 1, np.nan]])
    np.testing.assert_array_equal(intervals, [[2, 2, 3], [np.nan, 2, np.nan]])
    right_sizes, right_intervals = demand_sizes_and_intervals(y, align="right")
    np.testing.assert_array_equal(right_sizes, [[3, 2, 4], [np.nan, 5, 1]])
    np.testing.assert_array_equal(right_intervals, [[2, 2, 3], [np.nan, np.nan, 2]])
    # on the test panel (leading NaN, censored gaps, all-zero rows): right = left shifted to the end
    left, _ = demand_sizes_and_intervals(intermittent_panel())
    right, _ = demand_sizes_and_intervals(intermittent_panel(), align="right")
    for a, b in zip(left, right):
        np.testing.assert_array_equal(a[~np.isnan(a)], b[~np.isnan(b)])
        assert np.isnan(b[:np.isnan(b).sum()]).all()


@pytest.mark.parametrize("a, b", [(0.2, 0.2), (0.1, 0.3), (0.8, 0.01)])
def test_tsb_fixed_parameters_match_the_reference(a, b):
    # the fixed-(a, b) path (one loop over time) against the M5 recursion at that single grid point
    def ref_tsb_fixed(x):
        z = [v for v in x if v != 0]
        if not z:
            return 0.0
        p, size = (1.0 if x[0] != 0 else 0.0), z[0]
        for v in x[1:]:
            p += a * ((1.0 if v != 0 else 0.0) - p)
            size = size if v == 0 else size + b * (v - size)
        return p * size

    y = intermittent_panel()
    result = tsb(y, 2, a=a, b=b)
    for i, row in enumerate(y):
        x = observed(row)
        if not x:
            assert np.isnan(result.mean[i]).all()
            continue
        np.testing.assert_allclose(result.mean[i], ref_tsb_fixed(x), atol=TOL, rtol=0)
    # the grid kernel at that single point gives the same numbers on rows with demand
    first_size = demand_sizes_and_intervals(y)[0][:, 0]
    final, _ = _tsb_grid(y, np.array([a]), np.array([b]))
    rows = ~np.isnan(first_size)
    np.testing.assert_allclose(result.mean[rows, 0], final[rows, 0, 0], atol=TOL, rtol=0)


@pytest.mark.parametrize("block_bytes", [smoothing.ERROR_BLOCK_BYTES, 400, 0])
def test_ses_kernel_sums_the_errors_step_by_step_bit_for_bit(monkeypatch, block_bytes):
    # the kernel squares and sums a block of one-step errors in one reduction over its rows; the
    # result must be the reference's running sum exactly, for one series (which numpy would sum
    # pairwise), two, several, k alphas per pass, with gaps, across many blocks (400 bytes: 16
    # steps of 3 series) and without blocks (0 bytes)
    monkeypatch.setattr(smoothing, "ERROR_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(7)
    y = rng.standard_normal((3, 400)) * 10.0 ** rng.integers(-6, 7, (3, 400))
    y[1, :50] = np.nan
    y[2, rng.random(400) < 0.2] = np.nan
    for rows in (y[:1], y[:2], y):
        for alpha in (0.05, 0.7):
            level, sse = _ses_kernel(_time_major(rows), np.full(len(rows), alpha))
            for i, row in enumerate(rows):
                assert (level[i], sse[i]) == ref_ses(row[~np.isnan(row)], alpha)
    alphas = np.array([[0.05, 0.3, 0.7], [0.9, 0.2, 0.01]])
    level, sse = _ses_kernel(_time_major(y), alphas)
    for k, i in np.ndindex(alphas.shape):
        assert (level[k, i], sse[k, i]) == ref_ses(y[i][~np.isnan(y[i])], alphas[k, i])
    for periods in (1, 2):                                      # no step, one step
        level, sse = _ses_kernel(_time_major(y[:, -periods:]), np.full(3, 0.3))
        for i, row in enumerate(y[:, -periods:]):
            np.testing.assert_array_equal([level[i], sse[i]], ref_ses(row[~np.isnan(row)], 0.3)
                                          if (~np.isnan(row)).any() else [np.nan, 0.0])


def test_ses_level_without_fitted_equals_the_ses_forecast():
    from opslib.forecast.smoothing import ses_level

    y = np.vstack([smooth_panel(T=90), intermittent_panel()])
    for alpha_range in ((0.1, 0.3), (0.01, 0.99)):
        full = simple_exponential_smoothing(y, 1, alpha_range=alpha_range).mean[:, 0]
        np.testing.assert_array_equal(ses_level(y, alpha_range=alpha_range), full)


def test_intermittent_without_missing_periods_and_across_period_chunks():
    # no NaN at all (every block of periods "complete") and T = 150 periods: blocks of 64, 64 and 22
    from opslib.forecast.intermittent import PERIOD_CHUNK

    y = np.nan_to_num(intermittent_panel(seed=5, n=12, T=150))
    assert y.shape[1] > 2 * PERIOD_CHUNK and y.shape[1] % PERIOD_CHUNK
    for model, reference in ((croston, lambda x: ref_croston(x, 1.0)), (tsb, ref_tsb)):
        got = model(y, 1).mean[:, 0]
        np.testing.assert_allclose(got, [reference(list(row)) for row in y], atol=TOL, rtol=0)
    fixed = tsb(y, 1, a=0.3, b=0.1).mean[:, 0]
    final, _ = _tsb_grid(y, np.array([0.3]), np.array([0.1]))
    has_demand = (y > 0).any(axis=1)
    np.testing.assert_allclose(fixed[has_demand], final[has_demand, 0, 0], atol=TOL, rtol=0)
    np.testing.assert_array_equal(fixed[~has_demand], 0.0)


def test_croston_starts_in_later_period_chunks_match_the_reference_exactly():
    # the first demand and the first M5 interval found block by block (PERIOD_CHUNK periods):
    # starts at, just before and just after block edges, a first demand at the first observed
    # period (its interval comes with the second demand, maybe blocks later), gaps in between
    from opslib.forecast.intermittent import PERIOD_CHUNK

    B, T = PERIOD_CHUNK, 3 * PERIOD_CHUNK + 7
    y = np.zeros((10, T))
    y[0, :B + 6] = np.nan                                      # listed in block 2, sells at once ...
    y[0, [B + 6, 2 * B + 20]] = [3.0, 5.0]                     # ... next sale a block later
    y[1, [2 * B + 2, 2 * B + 3, T - 1]] = [1.0, 7.0, 2.0]      # first sale in block 3 after zeros
    y[2, :B] = np.nan                                          # first observed = first sale = a block start
    y[2, [B, 2 * B - 1, 2 * B]] = [4.0, 2.0, 6.0]              # sales at the block's last and next first period
    y[3, T - 1] = 9.0                                          # one sale, on the last period
    y[4, :B - 1] = np.nan
    y[4, B - 1] = 2.0                                          # one sale at the first observed period: no interval
    y[5, :] = np.nan                                           # never observed
    y[6, [10, 12]] = [1.0, 3.0]                                # both starts in one block, after zeros
    y[7, [0, 70, 140]] = [2.0, 4.0, 1.0]
    y[7, 30:60] = np.nan                                       # censored days inside
    y[8, :] = np.nan
    y[8, [5, 100, 180]] = [0.0, 3.0, 1.0]                      # isolated observations, NaN between
    y[9, ::3] = 2.0                                            # dense
    for model, multiplier in ((croston, 1.0), (croston_sba, 0.95)):
        got = model(y, 2).mean
        for i, row in enumerate(y):
            x = observed(row)
            expected = ref_croston(x, multiplier) if x else np.nan
            np.testing.assert_array_equal(got[i], [expected, expected], err_msg=f"{model.__name__} row {i}")


def test_drift_hand_computed_and_with_gaps():
    # slope (4 - 1) / 2 = 1.5 from the first to the last observation; fpp (5.5): sd_h / sd_1 = sqrt(h (1 + h/n) / (1 + 1/n))
    r = drift([1, 2, 4], 2)
    np.testing.assert_allclose(r.mean, [[5.5, 7.0]])
    np.testing.assert_allclose(r.fitted, [[np.nan, 2.5, 3.5]])
    np.testing.assert_allclose(r.spread, [[1.0, np.sqrt(2 * (1 + 2 / 3) / (1 + 1 / 3))]])
    # censored periods are skipped (observed values in order): 2, 5, 8 -> step 3
    np.testing.assert_allclose(drift([2, np.nan, 5, np.nan, 8], 1).mean, [[11.0]])
    # one observation: no drift (naive); a linear series is extrapolated exactly
    np.testing.assert_allclose(drift([np.nan, 7.0], 2).mean, [[7.0, 7.0]])
    np.testing.assert_allclose(drift(np.arange(10.0), 3).mean, [[10.0, 11.0, 12.0]])


def test_drift_matches_statsmodels_arima_010_with_drift():
    # the maximum-likelihood drift of ARIMA(0,1,0) with a trend is the mean step (last - first) / (n - 1)
    from statsmodels.tsa.arima.model import ARIMA

    rng = np.random.default_rng(3)
    for _ in range(3):
        y = 50 + np.cumsum(rng.normal(0.7, 2.0, 40))
        ref = ARIMA(y, order=(0, 1, 0), trend="t").fit().forecast(4)
        np.testing.assert_allclose(drift(y, 4).mean[0], ref, rtol=1e-6)


@pytest.mark.parametrize("block_series", [5, 1])
def test_ses_fitted_in_series_blocks_matches_the_reference(monkeypatch, block_series):
    # the alpha search runs on blocks of SES_BLOCK_SERIES series, one time-major buffer reused from
    # block to block (the last block narrower): the numbers are the per-series reference's and, bit
    # for bit, those of one block holding every series
    y = np.vstack([smooth_panel(T=90), intermittent_panel()])            # 37 series: 8 blocks of 5
    whole = {r: simple_exponential_smoothing(y, 2, alpha_range=r) for r in ((0.1, 0.3), (0.01, 0.99))}
    monkeypatch.setattr(smoothing, "SES_BLOCK_SERIES", block_series)
    for alpha_range, one_block in whole.items():
        result = simple_exponential_smoothing(y, 2, alpha_range=alpha_range)
        for field in ("mean", "fitted", "spread"):
            np.testing.assert_array_equal(getattr(result, field), getattr(one_block, field))
        np.testing.assert_array_equal(result.params["alpha"], one_block.params["alpha"])
        np.testing.assert_array_equal(smoothing.ses_level(y, alpha_range=alpha_range), result.mean[:, 0])
        for i, row in enumerate(y):
            x = observed(row)
            if not x:
                assert np.isnan(result.mean[i]).all()
                continue
            alpha = ref_ses_alpha(x, *alpha_range)
            assert abs(result.params["alpha"][i] - alpha) < TOL
            assert abs(result.mean[i, 0] - ref_ses(x, alpha)[0]) < TOL
    fixed = simple_exponential_smoothing(y, 1, alpha=0.2)
    for i, row in enumerate(y):
        x = observed(row)
        if x:
            assert abs(fixed.mean[i, 0] - ref_ses(x, 0.2)[0]) < TOL


def test_ses_float32_search_is_as_good_as_the_float64_search():
    # the float32 SSE evaluations may order two near-equal points differently; the alpha chosen is
    # then as good, in float64 SSE, as the float64 search's within 1e-6 relative (here: 210 series,
    # counts and non-integer values, both ranges)
    rng = np.random.default_rng(5)
    y = np.vstack([smooth_panel(n=60, T=200, seed=9), intermittent_panel(n=100, T=200, seed=4),
                   rng.gamma(2.0, 30.0, (50, 200)).round(2)])
    for alpha_range in ((0.1, 0.3), (0.01, 0.99)):
        a32 = simple_exponential_smoothing(y, 1, alpha_range=alpha_range).params["alpha"]
        for i, row in enumerate(y):
            x = observed(row)
            if len(x) < 2:
                continue
            best = ref_ses(x, ref_ses_alpha(x, *alpha_range, dtype=float))[1]
            assert ref_ses(x, a32[i])[1] <= best * (1 + 1e-6) + 1e-12, (alpha_range, i)
