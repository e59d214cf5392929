"""Demand distributions and their loss functions.

A demand distribution is either a frozen :mod:`scipy.stats` distribution
(continuous, such as ``norm`` or ``gamma``; or discrete, such as ``poisson`` or
``nbinom``) or an empirical probability mass function given as a ``dict``
``{value: probability}``. Everything in :mod:`opslib.inventory` accepts both.

The loss functions are the building blocks of every exact service level and
cost formula in the package:

- first-order loss ``n(x) = E[(X - x)^+]``, the expected shortage above ``x``;
- second-order loss ``n2(x) = 1/2 E[((X - x)^+)^2]`` for continuous ``X`` and
  ``n2(x) = 1/2 E[(X - x)^+ (X - x - 1)^+]`` for integer-valued ``X``, so that
  in both cases ``n2`` is the integral (or sum) of ``n`` above ``x``.

References
----------
.. [1] Zipkin, P. H. (2000). *Foundations of Inventory Management*.
   McGraw-Hill. Appendix C (loss functions).
.. [2] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply Chain
   Theory*, 2nd ed. Wiley. Appendix C (loss functions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

import numpy as np
from scipy import integrate, stats
from scipy.stats._distn_infrastructure import rv_continuous_frozen, rv_discrete_frozen

from opslib.errors import DataError
from opslib.inventory._validate import check_nonnegative, check_periods, check_positive

__all__ = [
    "Demand",
    "loss",
    "loss2",
    "mean",
    "variance",
    "cdf",
    "quantile",
    "is_discrete",
    "deterministic",
    "normal_from_moments",
    "gamma_from_moments",
    "poisson_from_mean",
    "negative_binomial_from_moments",
    "sum_of_periods",
]

Demand = Union[rv_continuous_frozen, rv_discrete_frozen, Mapping]
"""A frozen scipy.stats distribution or an empirical pmf ``{value: probability}``."""

_TAIL = 1e-18  # probability left out when a discrete table has to end somewhere


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class _Pmf:
    """An empirical pmf, sorted and validated."""

    values: np.ndarray
    probs: np.ndarray

    @property
    def mean(self) -> float:
        return float(self.values @ self.probs)

    @property
    def second_moment(self) -> float:
        return float((self.values**2) @ self.probs)


def _as_demand(dist, name: str = "demand"):
    """Validate a demand argument; dicts become :class:`_Pmf`."""
    if isinstance(dist, _Pmf):
        return dist
    if isinstance(dist, Mapping):
        if len(dist) == 0:
            raise DataError(f"{name} must be a non-empty pmf dict {{value: probability}}; got {{}}. Fix: give at least one value.")
        try:
            values = np.array([float(v) for v in dist.keys()])
            probs = np.array([float(p) for p in dist.values()])
        except (TypeError, ValueError):
            raise DataError(
                f"{name} must map numbers to probabilities; got {dict(list(dist.items())[:5])!r}. "
                "Fix: use numeric keys (demand values) and numeric values (probabilities)."
            ) from None
        if not (np.all(np.isfinite(values)) and np.all(np.isfinite(probs))) or np.any(probs < 0):
            raise DataError(
                f"{name} probabilities must be finite and >= 0; got {dict(list(dist.items())[:5])!r}. "
                "Fix: drop negative or missing probabilities."
            )
        total = probs.sum()
        if abs(total - 1) > 1e-6:
            raise DataError(
                f"{name} probabilities must sum to 1; they sum to {total!r}. "
                "Fix: normalise the pmf (divide every probability by the total)."
            )
        order = np.argsort(values)
        keep = probs[order] > 0
        return _Pmf(values[order][keep], probs[order][keep] / total)
    if isinstance(dist, (rv_continuous_frozen, rv_discrete_frozen)):
        return dist
    raise DataError(
        f"{name} must be a frozen scipy.stats distribution (e.g. scipy.stats.poisson(4.2)) or a pmf "
        f"dict {{value: probability}}; got {type(dist).__name__}. Fix: freeze the distribution with "
        "its parameters, or use normal_from_moments / gamma_from_moments / poisson_from_mean / "
        "negative_binomial_from_moments."
    )


def is_discrete(dist: Demand) -> bool:
    """Whether ``dist`` is discrete (a scipy discrete distribution or a pmf dict)."""
    dist = _as_demand(dist)
    return isinstance(dist, (_Pmf, rv_discrete_frozen))


def _integer_valued(dist) -> bool:
    if isinstance(dist, _Pmf):
        return bool(np.all(dist.values == np.round(dist.values)))
    return isinstance(dist, rv_discrete_frozen)


def mean(dist: Demand) -> float:
    """Mean of a demand distribution [units]."""
    dist = _as_demand(dist)
    return dist.mean if isinstance(dist, _Pmf) else float(dist.mean())


def variance(dist: Demand) -> float:
    """Variance of a demand distribution [units^2]."""
    dist = _as_demand(dist)
    if isinstance(dist, _Pmf):
        return max(dist.second_moment - dist.mean**2, 0.0)
    return float(dist.var())


def cdf(dist: Demand, x):
    """``P(X <= x)``, vectorised over ``x``."""
    dist = _as_demand(dist)
    x = np.asarray(x, dtype=float)
    if isinstance(dist, _Pmf):
        cum = np.concatenate([[0.0], np.cumsum(dist.probs)])
        out = cum[np.searchsorted(dist.values, x, side="right")]
        return np.minimum(out, 1.0)[()]
    return np.asarray(dist.cdf(x))[()]


def quantile(dist: Demand, q):
    """Smallest ``x`` with ``P(X <= x) >= q`` (the inverse cdf), vectorised over ``q``."""
    dist = _as_demand(dist)
    q = np.asarray(q, dtype=float)
    if isinstance(dist, _Pmf):
        cum = np.cumsum(dist.probs)
        # A running sum of probabilities falls short of the exact cumulative value by rounding
        # (ten masses of 0.1 sum to 0.8999999999999999 at the ninth): compare with a tolerance of
        # a few ulps per term, so the quantile of an empirical pmf is that of its draws.
        tol = 8 * np.finfo(float).eps * np.arange(1, len(cum) + 1)
        idx = np.minimum(np.searchsorted(cum + tol, q, side="left"), len(cum) - 1)
        return dist.values[idx][()]
    return np.asarray(dist.ppf(q))[()]


# --------------------------------------------------------------------------- loss functions


def _upper(dist) -> float:
    """A point of a scipy discrete distribution above which the mass is negligible."""
    top = dist.isf(_TAIL)
    if not np.isfinite(top):
        top = dist.ppf(1 - 1e-15)
    return float(min(top, dist.support()[1]))


def _discrete_table(dist, x_max: float):
    """Support points, pmf and the cumulative sums used by the discrete loss formulas."""
    if isinstance(dist, _Pmf):
        values, probs = dist.values, dist.probs
        mu, m2 = dist.mean, dist.second_moment
    else:
        lo, hi = dist.support()
        if not np.isfinite(lo):
            lo = dist.ppf(_TAIL)
        mu = float(dist.mean())
        m2 = float(dist.var()) + mu * mu
        # Points at or above x_max + 1 never enter the sums; far in the tail the mass is negligible.
        need = np.ceil(x_max) + 1
        if need > mu + 40 * np.sqrt(m2 - mu * mu) + 40:
            need = min(need, _upper(dist))
        hi = min(hi, max(lo, need))
        values = np.arange(lo, hi + 1, dtype=float)
        probs = dist.pmf(values)
    c0 = np.concatenate([[0.0], np.cumsum(probs)])
    c1 = np.concatenate([[0.0], np.cumsum(values * probs)])
    c2 = np.concatenate([[0.0], np.cumsum(values**2 * probs)])
    return values, mu, m2, c0, c1, c2


def _discrete_loss(dist, x: np.ndarray, order: int) -> np.ndarray:
    x_max = float(np.max(x)) if x.size else 0.0
    values, mu, m2, c0, c1, c2 = _discrete_table(dist, x_max + 1)
    if order == 1:
        # n(x) = E[X] - x + E[(x - X)^+], the last term summed over the points below x.
        j = np.searchsorted(values, x, side="left")
        return mu - x + (x * c0[j] - c1[j])
    # 2 n2(x) = E[(X-x)(X-x-1)] minus the same product over the points below x + 1,
    # where the positive-part product is zero.
    j = np.searchsorted(values, x + 1, side="left")
    full = m2 - (2 * x + 1) * mu + x * (x + 1)
    below = c2[j] - (2 * x + 1) * c1[j] + x * (x + 1) * c0[j]
    return np.maximum(0.5 * (full - below), 0.0)


def _shape_loc_scale(dist):
    shapes, loc, scale = dist.dist._parse_args(*dist.args, **dist.kwds)
    return shapes, float(loc), float(scale)


def _continuous_loss(dist, x: np.ndarray, order: int) -> np.ndarray:
    name = dist.dist.name
    shapes, loc, scale = _shape_loc_scale(dist)
    if name == "norm":
        z = (x - loc) / scale
        sf, pdf = stats.norm.sf(z), stats.norm.pdf(z)
        if order == 1:
            return np.maximum(scale * (pdf - z * sf), 0.0)
        return np.maximum(0.5 * scale**2 * ((z * z + 1) * sf - z * pdf), 0.0)
    if name == "gamma":
        (a,) = shapes
        b, y = scale, x - loc
        sf0 = stats.gamma.sf(y, a, scale=b)
        sf1 = stats.gamma.sf(y, a + 1, scale=b)
        if order == 1:
            return np.maximum(a * b * sf1 - y * sf0, 0.0)
        sf2 = stats.gamma.sf(y, a + 2, scale=b)
        return np.maximum(0.5 * (a * (a + 1) * b * b * sf2 - 2 * y * a * b * sf1 + y * y * sf0), 0.0)
    return _quadrature_loss(dist, x, order)


def _quadrature_loss(dist, x: np.ndarray, order: int) -> np.ndarray:
    """Loss of any continuous distribution by numerical integration of the survival function."""
    lo = dist.support()[0]
    mu, var = float(dist.mean()), float(dist.var())

    def one(xi: float) -> float:
        start = max(xi, lo)
        weight = (lambda t: dist.sf(t)) if order == 1 else (lambda t: (t - xi) * dist.sf(t))
        tail = integrate.quad(weight, start, np.inf, epsabs=1e-13, epsrel=1e-12, limit=500)[0]
        if xi >= lo:
            return tail
        if order == 1:
            return mu - xi
        return 0.5 * (var + (mu - xi) ** 2)

    return np.array([one(float(xi)) for xi in x.ravel()]).reshape(x.shape)


def _loss(dist, x, order: int):
    dist = _as_demand(dist)
    arr = np.asarray(x, dtype=float)
    flat = np.atleast_1d(arr)
    if isinstance(dist, (_Pmf, rv_discrete_frozen)):
        out = _discrete_loss(dist, flat, order)
    else:
        out = _continuous_loss(dist, flat, order)
    return out.reshape(arr.shape)[()] if arr.ndim else float(out[0])


def loss(dist: Demand, x):
    r"""First-order loss function ``n(x) = E[(X - x)^+]`` [units].

    Parameters
    ----------
    dist : frozen scipy.stats distribution or dict
        Demand ``X`` [units]; a dict is an empirical pmf ``{value: probability}``.
    x : float or array_like
        Stock level [units].

    Returns
    -------
    float or numpy.ndarray
        Expected units short above ``x`` [units], the shape of ``x``.

    Notes
    -----
    Normal :math:`N(\mu, \sigma^2)`: :math:`n(x) = \sigma\,[\phi(z) - z(1-\Phi(z))]`
    with :math:`z = (x-\mu)/\sigma` [1]_. Gamma with shape :math:`a` and scale
    :math:`b`: :math:`n(x) = ab\,\bar F_{a+1,b}(x) - x\,\bar F_{a,b}(x)` [2]_.
    Discrete: :math:`n(x) = \mu - x + \sum_{k<x}(x-k)p_k`, exact (a finite sum).
    Other continuous distributions: :math:`n(x) = \int_x^\infty \bar F(t)\,dt`
    by adaptive quadrature.

    References
    ----------
    .. [1] Zipkin, P. H. (2000). *Foundations of Inventory Management*, App. C.
    .. [2] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply
       Chain Theory*, 2nd ed., App. C.3.
    """
    return _loss(dist, x, 1)


def loss2(dist: Demand, x):
    r"""Second-order loss function [units^2].

    Parameters
    ----------
    dist : frozen scipy.stats distribution or dict
        Demand ``X`` [units]; a dict is an empirical pmf ``{value: probability}``.
    x : float or array_like
        Stock level [units]; integers for discrete demand.

    Returns
    -------
    float or numpy.ndarray
        The second-order loss, the shape of ``x``.

    Notes
    -----
    Continuous: :math:`n^{(2)}(x) = \tfrac12 E[((X-x)^+)^2] = \int_x^\infty n(t)\,dt`;
    normal: :math:`\tfrac12\sigma^2[(z^2+1)(1-\Phi(z)) - z\phi(z)]` [1]_.
    Discrete: :math:`n^{(2)}(x) = \tfrac12 E[(X-x)^+(X-x-1)^+] = \sum_{y>x} n(y)`
    for integer ``x`` [2]_, so that :math:`n^{(2)}(r) - n^{(2)}(r+Q) =
    \sum_{y=r+1}^{r+Q} n(y)` in the (r,Q) cost.

    References
    ----------
    .. [1] Zipkin, P. H. (2000). *Foundations of Inventory Management*, App. C.
    .. [2] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply
       Chain Theory*, 2nd ed., App. C.3.
    """
    return _loss(dist, x, 2)


# --------------------------------------------------------------------------- constructors


def deterministic(value: float) -> dict:
    """Demand that always equals ``value`` [units], as a one-point pmf."""
    check_nonnegative("value", value, "a demand")
    return {float(value): 1.0}


def normal_from_moments(mean: float, variance: float):
    """Normal demand with the given mean [units] and variance [units^2].

    Puts mass on negative demand; prefer :func:`gamma_from_moments` or
    :func:`negative_binomial_from_moments` for slow or skewed items.
    """
    check_nonnegative("mean", mean, "a demand mean")
    check_positive("variance", variance, "a demand variance; use deterministic() for no spread")
    return stats.norm(loc=mean, scale=float(np.sqrt(variance)))


def gamma_from_moments(mean: float, variance: float):
    """Gamma demand fitted by moments: shape ``mean^2/variance``, scale ``variance/mean``."""
    check_positive("mean", mean, "a demand mean")
    check_positive("variance", variance, "a demand variance; use deterministic() for no spread")
    return stats.gamma(mean * mean / variance, scale=variance / mean)


def poisson_from_mean(mean: float):
    """Poisson demand with the given mean [units]."""
    check_positive("mean", mean, "a demand mean")
    return stats.poisson(mean)


def negative_binomial_from_moments(mean: float, variance: float):
    """Negative binomial demand fitted by moments (needs ``variance > mean``).

    Parameters ``n = mean^2/(variance - mean)`` and ``p = mean/variance``
    (scipy's ``nbinom``: the number of failures before the n-th success).
    """
    check_positive("mean", mean, "a demand mean")
    check_positive("variance", variance, "a demand variance")
    if variance <= mean:
        raise DataError(
            f"variance must exceed mean for a negative binomial (overdispersion); got variance="
            f"{variance!r} with mean={mean!r}. Fix: use poisson_from_mean when variance <= mean."
        )
    return stats.nbinom(mean * mean / (variance - mean), mean / variance)


def sum_of_periods(demand_per_period: Demand, periods: float) -> Demand:
    """Distribution of demand summed over ``periods`` i.i.d. periods.

    Parameters
    ----------
    demand_per_period : frozen scipy.stats distribution or dict
        Demand in one period [units per period].
    periods : float
        Number of periods, >= 0. Normal, gamma (via the shape), Poisson and
        negative binomial (via ``n``) accept fractional periods; an empirical
        pmf or any other distribution needs a whole number.

    Returns
    -------
    frozen scipy.stats distribution or dict
        Demand over ``periods`` periods; zero periods give ``{0.0: 1.0}``.
    """
    dist = _as_demand(demand_per_period, "demand_per_period")
    periods = check_periods("periods", periods)
    if periods == 0:
        return {0.0: 1.0}
    if periods == 1:
        return demand_per_period
    if isinstance(dist, _Pmf):
        return _convolve_pmf(dist, _whole(periods))
    name = dist.dist.name
    shapes, loc, scale = _shape_loc_scale(dist)
    if name == "norm":
        return stats.norm(loc=periods * loc, scale=np.sqrt(periods) * scale)
    if name == "gamma" and loc == 0:
        return stats.gamma(periods * shapes[0], scale=scale)
    if name == "poisson" and loc == 0:
        return stats.poisson(periods * shapes[0])
    if name == "nbinom" and loc == 0:
        return stats.nbinom(periods * shapes[0], shapes[1])
    if isinstance(dist, rv_discrete_frozen):
        lo = dist.support()[0]
        values = np.arange(lo, _upper(dist) + 1)
        return _convolve_pmf(_Pmf(values, dist.pmf(values)), _whole(periods))
    raise DataError(
        f"demand_per_period must be normal, gamma, Poisson, negative binomial or discrete to be "
        f"summed over periods; got scipy's {name!r}. Fix: pass the distribution over the whole "
        "horizon directly, or fit one of those families."
    )


def _whole(periods: float) -> int:
    if not float(periods).is_integer():
        raise DataError(
            f"periods must be a whole number for an empirical or generic discrete distribution; got "
            f"{periods!r}. Fix: round the horizon, or use a normal, gamma, Poisson or negative binomial."
        )
    return int(periods)


def _convolve_pmf(pmf: _Pmf, periods: int) -> dict:
    if not _integer_valued(pmf):
        raise DataError(
            "demand_per_period must take whole-unit values to be summed over periods; got values "
            f"{pmf.values[:5].tolist()!r}. Fix: round demand to units or use a continuous distribution."
        )
    lo = int(pmf.values[0])
    dense = np.zeros(int(pmf.values[-1]) - lo + 1)
    dense[pmf.values.astype(int) - lo] = pmf.probs
    out, power = np.array([1.0]), dense
    n = periods
    while n:  # exponentiation by squaring
        if n & 1:
            out = np.convolve(out, power)
        n >>= 1
        if n:
            power = np.convolve(power, power)
        out[out < 1e-300] = 0.0
    start = lo * periods
    keep = out > 0
    return dict(zip((np.arange(out.size)[keep] + start).astype(float).tolist(), out[keep].tolist()))
