"""The faster crossing engine against the previous one: within round-off where it is deterministic.

``reference_*`` below is ``opslib/inventory/crossing.py`` as it was at commit 0a2c596 (before the portfolio
recompute was made fast: issue 7), kept verbatim (docstrings shortened) as the second method: one convolution per
thinned review block, each cut where less than 1e-13 of its mass is left. The engine now takes every law of the
shortfall from one FFT per SKU (products of the daily pmf's transform, no cut before the end), and the gamma
family's Q(a + 1, x) from Q(a, x) by recurrence when it evaluates given levels (the solvers keep both incomplete
gamma functions, so continuous levels stay bit for bit). That changes the last bits, not the model, so the
shortfall, the rounded evaluator and the pieces plan_policies builds per SKU must agree within tolerances of that
size: fill rates and cycle service levels within 1e-10 (they are fractions), average on hand within 1e-7 units (the
reference's cuts drop up to ~1e-11 of the mass of each law, which its loss tables carry over their length of up to
2,000 units), the moments of the laws within 1e-8 relative (the variance feels the cuts most in heavy tails).
``test_one_fft_is_at_least_as_accurate_as_the_convolutions`` checks both against direct convolutions without any
cut: the new engine is the closer one.

The cycle service level of :func:`opslib.inventory.crossing_cycle_service_level` draws Poisson and negative
binomial days by inversion of their pmf (one uniform each) instead of numpy's samplers: other draws of the same
model, so its curve must agree with the previous engine's within Monte Carlo error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal, special, stats

import opslib.inventory as inv
import opslib.inventory.crossing as crossing
from opslib.errors import DataError
from opslib.inventory._validate import check_integer, check_nonnegative
from opslib.inventory.distributions import _as_demand, _Pmf, is_discrete
from opslib.inventory.lead_time import _fit, _fit_is_discrete, _fit_spec, _lead_times
from opslib.inventory.rounding import _integer_pmf, _integer_pmf_of, _offset_distribution

_TAIL = 1e-13

def reference_convolve(a, b):
    out = signal.fftconvolve(a, b) if min(a.size, b.size) > 64 else np.convolve(a, b)
    out = np.maximum(out, 0.0)
    keep = np.flatnonzero(out > _TAIL * out.sum())
    return out[: keep[-1] + 1] if keep.size else out[:1]


def reference_thin(block, p):
    """pmf of B * D with B ~ Bernoulli(p) independent of D (pmf array ``block``)."""
    out = p * block
    out[0] += 1.0 - p
    return out


def reference_grid_pmf(dist) -> np.ndarray:
    """pmf array on 0, 1, 2, ... of a Poisson / negative binomial / pmf-dict demand."""
    d = _as_demand(dist)
    if isinstance(d, _Pmf):
        out = np.zeros(int(round(d.values[-1])) + 1)
        np.add.at(out, np.round(d.values).astype(int), d.probs)
        return out
    top = int(d.isf(_TAIL)) + 1
    out = d.pmf(np.arange(top + 1))
    return out / out.sum()


def reference_pmf(array) -> _Pmf:
    keep = array > 0
    values = np.arange(array.size, dtype=float)[keep]
    probs = array[keep] / array[keep].sum()
    return _Pmf(values, probs)


def reference_tail_table(pmf: np.ndarray):
    """cdf and first-order loss of a pmf array on the integer grid 0..N (loss at N+1 is 0)."""
    c = np.cumsum(pmf)
    sf = np.clip(1.0 - c, 0.0, None)
    # n(y) = sum_{x >= y} P(X > x)
    tail = np.concatenate([np.cumsum(sf[::-1])[::-1], [0.0]])
    return c, tail


def reference_continuous_loss_cdf(family, m, v, y):
    """Loss and cdf of gamma / normal laws with moments ``m``, ``v`` (arrays, broadcast against ``y``)."""
    sd = np.sqrt(np.maximum(v, 1e-300))
    if family == "gamma":
        shape, scale = m * m / np.maximum(v, 1e-300), v / np.maximum(m, 1e-300)
        x = np.maximum(y, 0.0) / scale
        sf_a, sf_a1 = special.gammaincc(shape, x), special.gammaincc(shape + 1, x)
        loss_ = np.where(y > 0, m * sf_a1 - y * sf_a, m - y)
        return loss_, 1.0 - sf_a
    z = (y - m) / sd
    return sd * (reference_norm_pdf(z) - z * special.ndtr(-z)), special.ndtr(z)


def reference_norm_pdf(z):
    return np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def reference_eval(sh, order_up_to):
    """``OrderCrossingShortfall._eval`` as it was: every part at once; since then (its only change) the fill rate
    is clipped to [0, 1] (the gamma loss's cancellation put it up to 4e-7 above 1 at high levels), so here too,
    after checking that what is clipped is round-off."""
    y = np.atleast_1d(np.asarray(order_up_to, dtype=float))
    r, mu = sh.review_period_days, sh.demand_mean_per_day
    if sh.family == "exact":
        short_tab, csl_tab, on_hand_tab = sh._tables
        top = short_tab.size - 1
        i = np.clip(np.floor(y), 0, top).astype(int)  # discrete laws: integer S
        csl = np.where(y < 0, 0.0, csl_tab[i])  # shortfall >= 0: no S below 0 meets any target
        return (_clipped(1.0 - short_tab[i] / (r * mu)), csl, on_hand_tab[i] + np.where(y > top, y - top, 0.0))
    yy = y[None, :]
    xb, _ = reference_continuous_loss_cdf(sh.family, *[c[:, None] for c in sh.before_demand_moments.T], yy)
    xa, _ = reference_continuous_loss_cdf(sh.family, *[c[:, None] for c in sh.after_demand_moments.T], yy)
    weights, moments = sh.cycle_end
    _, fc = reference_continuous_loss_cdf(sh.family, *[c[:, None] for c in moments.T], yy)
    fill = 1.0 - (xa - xb).sum(axis=0) / (r * mu)
    on_hand = (yy - sh.after_demand_moments[:, :1] + xa).mean(axis=0)
    return _clipped(fill), weights @ fc, on_hand


def _clipped(fill):
    assert fill.min() > -1e-6 and fill.max() < 1 + 1e-6  # round-off only
    return np.clip(fill, 0.0, 1.0)


def reference_integer_pmf(dist) -> np.ndarray:
    """``opslib.inventory.rounding._integer_pmf`` as it was."""
    from opslib.inventory.distributions import mean, variance

    dist = _as_demand(dist)
    mu, sd = mean(dist), math.sqrt(variance(dist))
    top = int(math.ceil(mu + 12 * sd + 12))
    if isinstance(dist, _Pmf):
        v = np.round(dist.values).astype(int)
        if v.min() < 0:
            raise DataError("demand must be >= 0 to evaluate rounded orders; got negative values in the pmf.")
        out = np.zeros(v.max() + 1)
        np.add.at(out, v, dist.probs)
        return out
    grid = np.arange(top + 1, dtype=float)
    if is_discrete(dist):
        pmf = np.asarray(dist.pmf(grid), dtype=float)
    else:
        pmf = np.diff(np.concatenate([[0.0], dist.cdf(grid + 0.5)]))
    pmf[-1] += max(1.0 - pmf.sum(), 0.0)
    return pmf / pmf.sum()


class ReferenceCrossingRS:
    """``opslib.inventory.crossing._CrossingRS`` as it was (on the reference evaluation)."""

    def __init__(self, shortfall, review_demand, rule, window=None):
        self.window = window
        self.shortfall = shortfall
        self.pi = _offset_distribution(reference_integer_pmf(review_demand), rule.minimum, rule.multiple)
        keep = self.pi > 1e-14
        self.offsets = np.arange(self.pi.size)[keep].astype(float)
        self.weights = self.pi[keep] / self.pi[keep].sum()

    def fill_rate(self, s):
        return float(reference_eval(self.shortfall, s + self.offsets)[0] @ self.weights)

    def cycle_service_level(self, s):
        if self.window is None:
            return float(reference_eval(self.shortfall, s + self.offsets)[1] @ self.weights)
        return float(self.window.cycle_service_level(s + self.offsets) @ self.weights)

    def average_on_hand(self, s):
        return float(reference_eval(self.shortfall, s + self.offsets)[2] @ self.weights)

    def evaluate(self, levels):
        levels = np.asarray(levels, dtype=float)
        y = (levels[:, None] + self.offsets[None, :]).ravel()
        fill, csl, on_hand = reference_eval(self.shortfall, y)
        if self.window is not None:
            csl = self.window.cycle_service_level(y)
        shape = (levels.size, self.offsets.size)
        return tuple(np.asarray(x).reshape(shape) @ self.weights for x in (fill, csl, on_hand))


def reference_order_crossing_shortfall(
    demand_mean_per_day: float,
    demand_variance_per_day: float,
    lead_time_days,
    review_period_days: int,
    family: str = "exact",
):
    r"""The previous version (see the module notes)."""
    mu = check_nonnegative("demand_mean_per_day", demand_mean_per_day, "units per day")
    var = check_nonnegative("demand_variance_per_day", demand_variance_per_day, "units^2 per day")
    r = check_integer("review_period_days", review_period_days, minimum=1, why=" [days]")
    if mu <= 0:
        raise DataError("demand_mean_per_day must be > 0 for the shortfall; got 0. Fix: plan no stock for this SKU.")
    if family not in ("exact", "gamma", "normal", "poisson", "negative_binomial"):
        raise DataError(f"family must be 'exact', 'gamma', 'normal', 'poisson' or 'negative_binomial'; got {family!r}.")
    values, probs = _lead_times(lead_time_days)
    p = crossing.outstanding_order_probabilities(lead_time_days, r)

    def cycle_case(ell):
        # the cycle of the order with lead time ell ends on day ell + R - 1 after its review: cycle day u,
        # m reviews later; the order itself has arrived (its block drops out), every other one independently
        end = int(ell) + r - 1
        u, m = end % r, end // r
        ps = p[u].copy()
        if m < ps.size:
            ps[m] = 0.0
        return u, ps

    if family == "exact":
        day = _fit("negative_binomial" if var > mu * (1 + 1e-9) else "poisson", mu, var)
        d1 = reference_grid_pmf(day)
        powers = [np.array([1.0]), d1]
        for _ in range(2, r + 1):
            powers.append(reference_convolve(powers[-1], d1))
        block = powers[r]
        before, after = [], []
        for u in range(r):
            acc = powers[u]
            for pk in p[u]:
                if pk > 0:
                    acc = reference_convolve(acc, reference_thin(block.copy(), pk))
            before.append(acc)
            after.append(reference_convolve(acc, d1))
        mixture, cache = np.zeros(1), {}
        for ell, w in zip(values, probs):
            u, ps = cycle_case(ell)
            key = (u, int(np.flatnonzero(ps != p[u])[0]) if np.any(ps != p[u]) else -1)
            if key not in cache:
                acc = powers[u + 1] if u + 1 <= r else reference_convolve(powers[u], d1)
                for pk in ps:
                    if pk > 0:
                        acc = reference_convolve(acc, reference_thin(block.copy(), pk))
                cache[key] = acc
            acc = cache[key]
            if acc.size > mixture.size:
                mixture = np.pad(mixture, (0, acc.size - mixture.size))
            mixture[: acc.size] += w * acc
        top = max(max(x.size for x in after), mixture.size) + 1
        pad = lambda x: np.pad(x, (0, top - x.size))  # noqa: E731
        short = np.zeros(top + 1)
        on_hand = np.zeros(top + 1)
        grid = np.arange(top + 1, dtype=float)
        mom = lambda x: (float(np.arange(x.size) @ x), float(np.arange(x.size) ** 2 @ x))  # noqa: E731
        for xb, xa in zip(before, after):
            _, nb = reference_tail_table(pad(xb))
            _, na = reference_tail_table(pad(xa))
            short += na - nb
            on_hand += grid - mom(xa)[0] + na
        csl, _ = reference_tail_table(pad(mixture))
        csl = np.append(csl, 1.0)
        moments_of = lambda xs: np.array([[m, m2 - m * m] for m, m2 in map(mom, xs)])  # noqa: E731
        return crossing.OrderCrossingShortfall(
            "exact", r, mu, p, float(p.sum(axis=1).mean()), moments_of(before), moments_of(after),
            (np.ones(1), moments_of([mixture])), (short, csl, on_hand / r),
        )

    def moments(days, ps):
        m = mu * (days + r * ps.sum())
        v = days * var + (ps * (r * var) + ps * (1 - ps) * (r * mu) ** 2).sum()
        return m, v

    if family not in ("gamma", "normal"):
        family = "gamma"
    before = np.array([moments(u, p[u]) for u in range(r)])
    after = np.array([moments(u + 1, p[u]) for u in range(r)])
    cycle = np.array([moments(cycle_case(ell)[0] + 1, cycle_case(ell)[1]) for ell in values])
    return crossing.OrderCrossingShortfall(
        family, r, mu, p, float(p.sum(axis=1).mean()), before, after, (probs, cycle),
    )




def reference_crossing_cycle_service_level(
    demand_mean_per_day: float,
    demand_variance_per_day: float,
    lead_time_days,
    review_period_days: int,
    family: str = "exact",
    cycles: int = 20_000,
    seed=0,
):
    r"""The previous version (see the module notes)."""
    mu = check_nonnegative("demand_mean_per_day", demand_mean_per_day, "units per day")
    var = check_nonnegative("demand_variance_per_day", demand_variance_per_day, "units^2 per day")
    r = check_integer("review_period_days", review_period_days, minimum=1, why=" [days]")
    cycles = check_integer("cycles", cycles, minimum=100)
    if family not in ("exact", "gamma", "normal", "poisson", "negative_binomial"):
        raise DataError(f"family must be 'exact', 'gamma', 'normal', 'poisson' or 'negative_binomial'; got {family!r}.")
    values, probs = _lead_times(lead_time_days)
    if np.any(values != np.round(values)):
        raise DataError(f"lead_time_days must be whole days; got {values[:5].tolist()!r}. Fix: round them to days.")
    rng = np.random.default_rng(seed)
    warm = int(values.max()) // r + 2
    reviews = cycles + warm
    days = (reviews + 1) * r + int(values.max()) + 1
    if mu <= 0:
        d = np.zeros(days)
    elif family in ("gamma", "normal"):
        d = rng.gamma(mu * mu / var, var / mu, days) if var > 0 else np.full(days, mu)
    elif var > mu * (1 + 1e-9) and family != "poisson":
        d = rng.negative_binomial(mu * mu / (var - mu), mu / var, days).astype(float)
    else:
        d = rng.poisson(mu, days).astype(float)
    c = np.cumsum(d)
    k = np.arange(1, reviews + 1)
    placed = np.concatenate([[0.0], c])  # placed[i] = demand through day i - 1
    amount = placed[k * r] - placed[(k - 1) * r]
    lead = values[np.minimum(np.searchsorted(np.cumsum(probs), rng.random(k.size), side="right"), values.size - 1)]
    arrival = k * r + lead.astype(np.int64)
    inside = arrival < days
    received = np.bincount(arrival[inside], weights=amount[inside], minlength=days)
    shortfall = c - np.cumsum(received)
    keep = (k >= warm) & (arrival + r - 1 < days)
    start = arrival[keep]
    window_max = shortfall[start]
    for j in range(1, r):
        np.maximum(window_max, shortfall[start + j], out=window_max)
    maxima = np.sort(window_max)
    return crossing.CrossingCycleServiceLevel(maxima, r, int(maxima.size))


def reference_inversion_cycle_service_level(mu, var, lead_time_days, r, family="exact", cycles=20_000, seed=0):
    """``crossing_cycle_service_level`` at commit b4b6336 (days by inversion of the pmf; inputs trusted), before
    the inversion skipped the uniforms below P(0) and the sums were taken in place (issue 7): the same draws."""
    values, probs = _lead_times(lead_time_days)
    rng = np.random.default_rng(seed)
    warm = int(values.max()) // r + 2
    reviews = cycles + warm
    days = (reviews + 1) * r + int(values.max()) + 1
    if mu <= 0:
        d = np.zeros(days)
    elif family in ("gamma", "normal"):
        d = rng.gamma(mu * mu / var, var / mu, days) if var > 0 else np.full(days, mu)
    else:
        pmf = crossing._day_grid_pmf(mu, var, var > mu * (1 + 1e-9) and family != "poisson")
        cum = np.cumsum(pmf)
        d = np.minimum(np.searchsorted(cum, rng.random(days), side="right"), pmf.size - 1).astype(float)
    c = np.cumsum(d)
    k = np.arange(1, reviews + 1)
    placed = np.concatenate([[0.0], c])  # placed[i] = demand through day i - 1
    amount = placed[k * r] - placed[(k - 1) * r]
    lead = values[np.minimum(np.searchsorted(np.cumsum(probs), rng.random(k.size), side="right"), values.size - 1)]
    arrival = k * r + lead.astype(np.int64)
    inside = arrival < days
    received = np.bincount(arrival[inside], weights=amount[inside], minlength=days)
    shortfall = c - np.cumsum(received)
    keep = (k >= warm) & (arrival + r - 1 < days)
    start = arrival[keep]
    window_max = shortfall[start]
    for j in range(1, r):
        np.maximum(window_max, shortfall[start + j], out=window_max)
    maxima = np.sort(window_max)
    return crossing.CrossingCycleServiceLevel(maxima, r, int(maxima.size))


# ---------------------------------------------------------------------------------------------- the checks

LEAD = np.array([2, 3, 5, 6, 8, 9, 12, 14, 20, 25], dtype=float)
WIDE = np.array([14, 15, 18, 20, 21, 25, 28, 30, 35, 40, 45, 50, 60, 78], dtype=float)  # many orders outstanding
CASES = [  # mu, var, lead times, R, family
    (0.07, 0.07, LEAD, 7, "exact"),
    (0.5, 1.2, LEAD, 7, "exact"),
    (0.5, 3.5, WIDE, 7, "exact"),
    (2.0, 2.0, WIDE, 14, "exact"),
    (6.0, 30.0, LEAD, 7, "exact"),  # blocks long enough for FFT convolutions
    (20.0, 90.0, WIDE, 7, "exact"),
    (3.0, 3.0, 10.0, 7, "exact"),  # a fixed lead time
    (25.0, 60.0, LEAD, 7, "gamma"),
    (40.0, 900.0, WIDE, 3, "gamma"),
    (30.0, 40.0, LEAD, 7, "normal"),
]


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b)


FRACTION = dict(rtol=0.0, atol=1e-10)  # fill rates and cycle service levels
UNITS = dict(rtol=1e-10, atol=1e-7)  # average on hand [units]: the reference's cut mass times its table length
MOMENTS = dict(rtol=1e-8, atol=0.0)


def close(new, old, part):
    """The three parts of ``_eval``: fill rate, cycle service level, average on hand."""
    np.testing.assert_allclose(new, old, **(UNITS if part == 2 else FRACTION))


@pytest.mark.parametrize("mu, var, lead, r, family", CASES)
def test_shortfall_agrees_with_the_previous_engine(mu, var, lead, r, family):
    new = inv.order_crossing_shortfall(mu, var, lead, r, family)
    old = reference_order_crossing_shortfall(mu, var, lead, r, family)
    assert new.family == old.family and new.mean_orders_outstanding == old.mean_orders_outstanding
    assert same(new.outstanding_probabilities, old.outstanding_probabilities)
    for name in ("before_demand_moments", "after_demand_moments"):
        np.testing.assert_allclose(getattr(new, name), getattr(old, name), **MOMENTS, err_msg=name)
    assert same(new.cycle_end[0], old.cycle_end[0])
    np.testing.assert_allclose(new.cycle_end[1], old.cycle_end[1], **MOMENTS)
    grid = np.arange(-3.0, 10 * mu * (r + 20) + 40, 0.5 if family != "exact" else 1.0)
    for part, values in enumerate(reference_eval(old, grid)):
        close(new._eval(grid)[part], values, part)
        assert same(new._eval(grid, (part,))[part], new._eval(grid)[part])  # one part alone: the same numbers
    assert new.fill_rate(float(grid[7])) == pytest.approx(old.fill_rate(float(grid[7])), abs=1e-10)


def test_a_real_error_is_caught():
    # the tolerances are far below what a modelling error moves: one more day of demand in the pipeline fails
    mu, var, lead, r, _ = CASES[1]
    new = inv.order_crossing_shortfall(mu, var, lead + 1, r)
    old = reference_order_crossing_shortfall(mu, var, lead, r)
    grid = np.arange(0.0, 60.0)
    with pytest.raises(AssertionError):
        close(new._eval(grid)[0], reference_eval(old, grid)[0], 0)


def direct_fill_rate(mu, var, lead, r, levels):
    """Fill rate by direct convolutions (numpy.convolve, no FFT, no cut) and E[(X - S)^+] summed outright."""
    p = crossing.outstanding_order_probabilities(lead, r)
    d1 = crossing._day_grid_pmf(mu, var)
    powers = [np.array([1.0]), d1]
    for _ in range(2, r + 1):
        powers.append(np.convolve(powers[-1], d1))
    short = np.zeros(len(levels))
    for u in range(r):
        x = powers[u]
        for pk in p[u][p[u] > 0]:
            block = pk * powers[r]
            block[0] += 1.0 - pk
            x = np.convolve(x, block)
        y = np.convolve(x, d1)
        for i, s in enumerate(levels):
            short[i] += np.maximum(np.arange(y.size) - s, 0.0) @ y - np.maximum(np.arange(x.size) - s, 0.0) @ x
    return 1.0 - short / (r * mu)


@pytest.mark.parametrize("mu, var, lead, r", [(0.07, 0.07, LEAD, 7), (0.5, 1.2, LEAD, 7), (0.5, 3.5, WIDE, 7),
                                              (2.0, 2.0, WIDE, 14), (6.0, 30.0, LEAD, 7)])
def test_one_fft_is_at_least_as_accurate_as_the_convolutions(mu, var, lead, r):
    new = inv.order_crossing_shortfall(mu, var, lead, r)
    old = reference_order_crossing_shortfall(mu, var, lead, r)
    levels = np.unique(np.round(np.linspace(0.0, 3 * new.after_demand_moments[-1, 0] + 5, 9)))
    truth = direct_fill_rate(mu, var, lead, r, levels)
    error_new = np.max(np.abs(new.fill_rate(levels) - truth))
    error_old = np.max(np.abs(old.fill_rate(levels) - truth))
    assert error_new < 5e-12 and error_new <= error_old, (error_new, error_old)


@pytest.mark.parametrize("rule", [inv.RoundingRule(), inv.RoundingRule(12, 6), inv.RoundingRule(0, 5)])
@pytest.mark.parametrize("mu, var, lead, r, family", [CASES[1], CASES[4], CASES[7]])
def test_rounded_evaluator_agrees_with_the_previous_one(mu, var, lead, r, family, rule):
    sh = inv.order_crossing_shortfall(mu, var, lead, r, family)
    old_sh = reference_order_crossing_shortfall(mu, var, lead, r, family)
    window = inv.crossing_cycle_service_level(mu, var, lead, r, family, cycles=500, seed=3)
    review = _fit("negative_binomial" if var > mu else "poisson", r * mu, r * var)
    levels = np.arange(0.0, 3 * mu * (r + 25) + 30)
    for w in (None, window):
        new = crossing._CrossingRS(sh, review, rule, w)
        passed = crossing._CrossingRS(sh, None, rule, w, review_pmf=reference_integer_pmf(review))
        old = ReferenceCrossingRS(old_sh, review, rule, w)
        for part, (x, y, z) in enumerate(zip(new.evaluate(levels), passed.evaluate(levels), old.evaluate(levels))):
            assert same(x, y)  # the review pmf passed or computed: the same evaluator
            close(x, z, part)
        for s in levels[::7]:
            assert new.fill_rate(s) == passed.fill_rate(s) == pytest.approx(old.fill_rate(s), abs=1e-10)
            assert new.cycle_service_level(s) == pytest.approx(old.cycle_service_level(s), abs=1e-10)
            assert new.average_on_hand(s) == pytest.approx(old.average_on_hand(s), rel=1e-10, abs=1e-7)


def test_gamma_recurrence_equals_two_incomplete_gamma_functions():
    rng = np.random.default_rng(5)
    m = rng.uniform(1.0, 3000.0, (40, 1))
    v = m * rng.uniform(0.2, 30.0, (40, 1))
    y = np.concatenate([m * rng.uniform(0.0, 3.0, (40, 60)), -np.ones((40, 1))], axis=1)
    old = reference_continuous_loss_cdf("gamma", m, v, y)
    assert all(same(a, b) for a, b in zip(crossing._continuous_loss_cdf("gamma", m, v, y), old))  # the solvers'
    for new, want in zip(crossing._continuous_loss_cdf("gamma", m, v, y, recurrence=True), old):
        np.testing.assert_allclose(new, want, rtol=1e-11, atol=1e-13 * float(m.max()))


@pytest.mark.parametrize("family", ["poisson", "negative_binomial", "gamma", "normal"])
@pytest.mark.parametrize("mu, var", [(0.0, 0.0), (1e-13, 2e-13), (0.4, 0.0), (0.4, 0.4), (0.4, 0.4 * (1 + 1e-10)),
                                     (0.4, 2.0), (3.0, 2.0), (35.0, 35.0), (35.0, 400.0)])
def test_fit_spec_is_what_fit_freezes(family, mu, var):
    fitted, spec = _fit(family, mu, var), _fit_spec(family, mu, var)
    assert _fit_is_discrete(family, mu, var) == is_discrete(fitted)
    if isinstance(fitted, dict):
        assert spec == fitted
        return
    generator, args, kwds = spec
    assert fitted.dist.name == generator.name and fitted.args == args and fitted.kwds == kwds
    assert same(_integer_pmf_of(generator, args, kwds), reference_integer_pmf(fitted))
    assert same(_integer_pmf(fitted), reference_integer_pmf(fitted))
    if is_discrete(fitted):
        assert same(crossing._grid_pmf_of(generator, args, kwds), reference_grid_pmf(fitted))


def test_lead_time_memo_returns_read_only_values():
    values, probs = _lead_times(LEAD)
    again = _lead_times(list(LEAD))
    assert again[0] is values and again[1] is probs
    assert not values.flags.writeable and not probs.flags.writeable
    with pytest.raises(DataError):
        _lead_times([3.0, np.nan])


@pytest.mark.parametrize("mu, var, lead, r, family", [
    (0.5, 1.2, LEAD, 7, "exact"), (0.3, 0.3, WIDE, 7, "exact"), (4.0, 11.0, WIDE, 7, "negative_binomial"),
    (2.0, 2.0, LEAD, 14, "poisson"),
])
def test_cycle_service_level_by_inversion_agrees_with_the_previous_draws(mu, var, lead, r, family):
    # other draws of the same model: at every S the two estimates differ by less than 4 standard errors of
    # their difference (cycles are counted as independent; neighbouring cycles share demand, hence the margin)
    cycles = 20_000
    new = inv.crossing_cycle_service_level(mu, var, lead, r, family, cycles=cycles, seed=5)
    old = reference_crossing_cycle_service_level(mu, var, lead, r, family, cycles=cycles, seed=5)
    assert new.cycles == old.cycles
    for s in np.unique(np.quantile(old.window_maxima, [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99])):
        a, b = new.cycle_service_level(s), old.cycle_service_level(s)
        se = math.sqrt(new.standard_error(s) ** 2 + old.standard_error(s) ** 2)
        assert abs(a - b) <= 4 * se + 1e-3, (s, a, b, se)


def test_cycle_service_level_draws_follow_the_seed_and_the_day_law():
    a = inv.crossing_cycle_service_level(0.5, 1.2, LEAD, 7, cycles=2_000, seed=[0, 7])
    b = inv.crossing_cycle_service_level(0.5, 1.2, LEAD, 7, cycles=2_000, seed=[0, 7])
    c = inv.crossing_cycle_service_level(0.5, 1.2, LEAD, 7, cycles=2_000, seed=[0, 8])
    assert same(a.window_maxima, b.window_maxima) and not same(a.window_maxima, c.window_maxima)
    # the inversion draws the negative binomial of the moments: P(day = 0) and the mean of the daily demand
    pmf = crossing._day_grid_pmf(0.5, 1.2)
    n, p = 0.25 / 0.7, 0.5 / 1.2
    assert pmf[0] == pytest.approx(stats.nbinom(n, p).pmf(0), rel=1e-12)
    assert float(np.arange(pmf.size) @ pmf) == pytest.approx(0.5, rel=1e-9)


@pytest.mark.parametrize("mu, var, lead, r, family", CASES + [
    (0.0, 0.0, LEAD, 7, "exact"), (0.3, 0.3, WIDE, 1, "poisson"), (4.0, 11.0, WIDE, 7, "negative_binomial"),
    (0.02, 0.5, LEAD, 3, "exact"), (2.0, 2.0, 10.0, 7, "exact")])
def test_cycle_service_level_draws_are_those_of_the_previous_inversion(mu, var, lead, r, family):
    new = inv.crossing_cycle_service_level(mu, var, lead, r, family, cycles=3_000, seed=[2, 9])
    old = reference_inversion_cycle_service_level(mu, var, lead, r, family, cycles=3_000, seed=[2, 9])
    assert new.cycles == old.cycles and same(new.window_maxima, old.window_maxima)
