"""Loss functions against closed forms, enumeration and numerical integration; input validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import opslib.inventory as inv
from opslib import DataError
from opslib.inventory.distributions import _quadrature_loss, quantile

FAST = settings(max_examples=30, deadline=None)


def _standard_normal_loss(z):
    # G(z) = phi(z) - z (1 - Phi(z)), the standard normal loss (Silver, Pyke and Thomas, App. B).
    return stats.norm.pdf(z) - z * stats.norm.sf(z)


@FAST
@given(mu=st.floats(-50, 500), sd=st.floats(0.1, 100), z=st.floats(-6, 6))
def test_normal_loss_is_sigma_times_standard_loss(mu, sd, z):
    x = mu + z * sd
    assert inv.loss(stats.norm(mu, sd), x) == pytest.approx(sd * _standard_normal_loss(z), rel=1e-9, abs=1e-12)
    n2 = 0.5 * sd**2 * ((z * z + 1) * stats.norm.sf(z) - z * stats.norm.pdf(z))
    assert inv.loss2(stats.norm(mu, sd), x) == pytest.approx(n2, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "dist",
    [stats.norm(100, 15), inv.gamma_from_moments(20, 60), stats.gamma(0.6, loc=3, scale=10), stats.lognorm(0.5, 0, 40)],
    ids=["normal", "gamma", "gamma-loc", "lognormal-quadrature"],
)
def test_continuous_loss_against_integration_of_the_pdf(dist):
    # Independent method: E[(X-x)^+] and 1/2 E[((X-x)^+)^2] by quadrature of the pdf.
    lo, hi = dist.ppf(1e-14), dist.isf(1e-14)
    for x in np.linspace(lo - 5, hi, 6):
        n = integrate.quad(lambda t: (t - x) * dist.pdf(t), max(x, lo), np.inf, limit=200)[0]
        n2 = integrate.quad(lambda t: 0.5 * (t - x) ** 2 * dist.pdf(t), max(x, lo), np.inf, limit=200)[0]
        assert inv.loss(dist, x) == pytest.approx(n, rel=1e-7, abs=1e-8)
        assert inv.loss2(dist, x) == pytest.approx(n2, rel=1e-7, abs=1e-8)


def test_closed_forms_match_the_generic_quadrature():
    x = np.array([-3.0, 10.0, 20.0, 45.0])
    for dist in (stats.norm(20, 7), inv.gamma_from_moments(20, 49)):
        for order, fn in ((1, inv.loss), (2, inv.loss2)):
            assert fn(dist, x) == pytest.approx(_quadrature_loss(dist, x, order), rel=1e-8, abs=1e-10)


@pytest.mark.parametrize(
    "dist",
    [stats.poisson(6), inv.negative_binomial_from_moments(3.5, 12), {0: 0.6, 1: 0.1, 3: 0.2, 10: 0.1}],
    ids=["poisson", "negative-binomial", "empirical"],
)
def test_discrete_loss_against_enumeration(dist):
    if isinstance(dist, dict):
        k, pk = np.array(list(dist)), np.array(list(dist.values()))
    else:
        k = np.arange(0, 400)
        pk = dist.pmf(k)
    for x in range(-3, 25):
        n = (np.maximum(k - x, 0) * pk).sum()
        n2 = 0.5 * (np.maximum(k - x, 0) * np.maximum(k - x - 1, 0) * pk).sum()
        assert inv.loss(dist, x) == pytest.approx(n, rel=1e-10, abs=1e-11)
        assert inv.loss2(dist, x) == pytest.approx(n2, rel=1e-10, abs=1e-9)
        # n2(x) = sum_{y > x} n(y)
        assert inv.loss2(dist, x) == pytest.approx(inv.loss(dist, np.arange(x + 1, 420)).sum(), rel=1e-9, abs=1e-9)


def test_loss_is_vectorised_and_scalar_in_scalar_out():
    out = inv.loss(stats.poisson(3), np.array([[0, 1], [2, 3]]))
    assert out.shape == (2, 2)
    assert isinstance(inv.loss(stats.poisson(3), 2), float)
    assert isinstance(inv.loss2(stats.norm(0, 1), 0.5), float)


def test_moment_constructors_and_sum_of_periods():
    nb = inv.negative_binomial_from_moments(4, 10)
    assert (inv.mean(nb), inv.variance(nb)) == pytest.approx((4, 10))
    g = inv.gamma_from_moments(4, 10)
    assert (inv.mean(g), inv.variance(g)) == pytest.approx((4, 10))
    for dist in (nb, g, inv.poisson_from_mean(4), inv.normal_from_moments(4, 10), {0: 0.5, 1: 0.25, 5: 0.25}):
        week = inv.sum_of_periods(dist, 7)
        assert inv.mean(week) == pytest.approx(7 * inv.mean(dist))
        assert inv.variance(week) == pytest.approx(7 * inv.variance(dist))
    assert inv.sum_of_periods(stats.poisson(2), 0) == {0.0: 1.0}


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: inv.reorder_point_for_fill_rate(stats.norm(10, 2), 5, 95), ["fill_rate", "percentage", "0.95"]),
        (lambda: inv.order_up_to_for_cycle_service_level(stats.poisson(2), 7, 2, 1.0), ["cycle_service_level", "between 0 and 1"]),
        (lambda: inv.newsvendor(stats.norm(50, 8), -0.18, 0.7), ["holding_cost", ">= 0", "-0.18"]),
        (lambda: inv.eoq(8, 0, 1300), ["holding_cost", "> 0"]),
        (lambda: inv.rq_cost(3, 2.5, stats.poisson(3), 20, 150, 100, 1.5), ["order_quantity", "integer"]),
        (lambda: inv.loss({1: 0.5, 2: 0.4}, 1), ["sum to 1", "normalise"]),
        (lambda: inv.loss([1, 2], 1), ["frozen scipy.stats", "list"]),
        (lambda: inv.ss_optimal(stats.norm(5, 1), 1, 9, 64), ["discrete", "ss_power_approximation"]),
        (lambda: inv.ss_optimal(stats.poisson(5), 1, 9, 64, lead_time_periods=1.5), ["lead_time_periods", "integer"]),
        (lambda: inv.order_up_to_for_fill_rate(stats.poisson(2), 0, 2, 0.9), ["review_periods", "> 0"]),
        (lambda: inv.eoq_all_units_discount(8, 0.3, 1300, [0, 800, 400], [0.75, 0.72, 0.68]), ["breakpoints", "increase"]),
        (lambda: inv.negative_binomial_from_moments(5, 4), ["variance", "poisson_from_mean"]),
        (lambda: inv.rq_optimal(stats.norm(10, 3), 1, 9, 0, 100), ["fixed_cost", "base_stock"]),
    ],
)
def test_bad_input_is_refused_with_a_fix(call, words):
    with pytest.raises(DataError) as info:
        call()
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "Fix:" in message or "fix" in message.lower()
    for word in words:
        assert word in message, (word, message)


def test_pmf_quantile_is_the_inverted_cdf_of_its_draws():
    # ten equal masses: the running sum reaches 0.8999999999999999 at the ninth value, not 0.9
    draws = np.arange(10, 101, 10, dtype=float)
    pmf = {float(v): 0.1 for v in draws}
    assert quantile(pmf, 0.9) == 90.0
    rng = np.random.default_rng(3)
    for _ in range(20):
        sample = rng.integers(0, 40, size=int(rng.integers(5, 200))).astype(float)
        values, counts = np.unique(sample, return_counts=True)
        table = dict(zip(values.tolist(), (counts / counts.sum()).tolist()))
        qs = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99])
        expected = np.quantile(sample, qs, method="inverted_cdf")
        np.testing.assert_array_equal(quantile(table, qs), expected)
