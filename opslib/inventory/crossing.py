"""Periodic review with i.i.d. random lead times per order: the shortfall when orders cross.

With a review every ``R`` days and a lead time drawn independently for each
order, orders overtake each other. The lead-time demand model
``E[L] sigma^2 + mu^2 Var[L]`` (:func:`opslib.inventory.lead_time_demand_moments`)
then overstates the spread of what is outstanding: it treats the pipeline as
one lead time's demand, while in fact each past order is outstanding or not
*independently* of the others [1]_ [2]_.

For an (R,S) policy the inventory position after review ``j`` is ``S``; the
order placed at review ``j - k`` carries the ``R`` days of demand before it.
On day ``u`` of the cycle (``u = 0..R-1``, before that day's demand), the
*shortfall* ``S - net inventory`` is

.. math::

    X_u = D_u + \\sum_{k \\ge 0} B_{u,k}\\, D_R^{(k)},\\qquad
    B_{u,k} \\sim \\mathrm{Bernoulli}(P(L > u + kR)),

a sum of independent thinned blocks of demand (the demand blocks are disjoint
and the lead times independent), so
:math:`E[X_u] = \\mu(u + R\\sum_k p_{u,k})` and
:math:`\\mathrm{Var}[X_u] = u\\sigma^2 + \\sum_k [p_{u,k} R\\sigma^2 + p_{u,k}(1-p_{u,k}) R^2\\mu^2]`.
For a fixed lead time it reduces to the usual lead-time demand.

Service with backorders (day ``u`` short by :math:`(X_u + d - S)^+ - (X_u - S)^+`):

- fill rate :math:`\\beta = 1 - \\sum_{u} [n_{Y_u}(S) - n_{X_u}(S)] / (R\\mu)`,
  :math:`Y_u = X_u + D_1` (after the day's demand);
- cycle service level, the cycle of order ``j`` being the ``R`` days from its
  arrival (lead time :math:`\\ell`): :math:`\\alpha \\approx E_\\ell[P(Z_\\ell \\le S)]`,
  no backorders at the cycle's end, :math:`Z_\\ell` the shortfall
  :math:`Y_u` of that day (:math:`u = (\\ell + R - 1) \\bmod R`) with order
  ``j`` known to have arrived. Exact without crossing (:math:`F_{R+L}(S)`);
  with crossing, orders arriving inside the cycle lift the stock before its
  end, so this is an upper bound on "no stock-out on any day of the cycle"
  (by 2-5 points at 90 % with the demo shop's lead times).
  :func:`crossing_cycle_service_level` gives that probability itself: the
  distribution of the largest shortfall over each order's cycle, by Monte
  Carlo of the shortfall process (which does not depend on ``S``).

Discrete families are convolved exactly, all at once: every law above is a sum
of independent days and thinned review blocks, so its Fourier transform is a
product of the daily pmf's transform, and one forward and one inverse FFT per
SKU give every pmf (exact up to round-off, about 1e-16 of each probability; a
Chernoff bound sizes the buffer so that less than 1e-18 of the mass wraps
around). Continuous ones (gamma, normal) are fitted to the exact moments of
each sum.

References
----------
.. [1] Robinson, L. W., Bradley, J. R. and Thomas, L. J. (2001). Consequences
   of order crossover under order-up-to inventory policies. *Manufacturing &
   Service Operations Management* 3(3):175-188 (set S on the shortfall, not
   on the lead-time demand).
.. [2] Bradley, J. R. and Robinson, L. W. (2005). Improved base-stock
   approximations for independent stochastic lead times with order
   crossover. *M&SOM* 7(4):319-329 (number of orders outstanding as a sum of
   independent Bernoulli variables; negative binomial fit on its exact variance).
.. [3] Zipkin, P. H. (1986). Stochastic leadtimes in continuous-time
   inventory models. *Naval Research Logistics Quarterly* 33(4):763-774.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import numpy as np
from scipy import fft as sp_fft
from scipy import special

from opslib.errors import DataError
from opslib.inventory._validate import check_integer, check_nonnegative
from opslib.inventory.distributions import _as_demand, _Pmf
from opslib.inventory.lead_time import _fit_spec, _kernels_apply, _lead_times

__all__ = [
    "OrderCrossingShortfall",
    "outstanding_order_probabilities",
    "order_crossing_shortfall",
    "CrossingCycleServiceLevel",
    "crossing_cycle_service_level",
]

_TAIL = 1e-13


def outstanding_order_probabilities(lead_time_days, review_period_days: int) -> np.ndarray:
    """``P(L > u + kR)``: is the order placed ``k`` reviews ago still outstanding on day ``u`` of the cycle.

    Parameters
    ----------
    lead_time_days : float or array_like
        A fixed lead time or observed lead times [days] (their empirical law).
    review_period_days : int
        ``R`` >= 1 [days].

    Returns
    -------
    numpy.ndarray
        Shape ``(R, K)``, rows ``u = 0..R-1``, columns ``k = 0..K-1``.
    """
    r = check_integer("review_period_days", review_period_days, minimum=1, why=" [days]")
    values, probs = _lead_times(lead_time_days)
    k_max = int(values.max() // r) + 1
    thresholds = np.arange(r)[:, None] + r * np.arange(k_max)[None, :]
    return (probs[None, None, :] * (values[None, None, :] > thresholds[:, :, None])).sum(axis=2)


_CHERNOFF_T = np.geomspace(1e-3, 20.0, 40)
"""Trial values of ``t * E[daily demand]`` for the Chernoff bound of :func:`_tail_bound`."""
_ALIAS = -18 * math.log(10)
"""Log of the tail mass left beyond the FFT buffer (it wraps onto the start): 1e-18, far below ``_TAIL``."""


def _tail_bound(d1, p_max, r) -> float:
    """``n`` with ``P(D_R + sum_k B_k D_R^(k) >= n) <= 1e-18`` (Chernoff), ``B_k ~ Bernoulli(p_max[k])``.

    That sum is the largest of the shortfall (it dominates every ``X_u``, ``Y_u``
    and cycle-end law): ``P(X >= n) <= E[e^{tX}] e^{-tn}`` for every ``t > 0``,
    with the moment generating function of the daily pmf ``d1`` (on 0..N) exact.
    """
    x = np.arange(d1.size, dtype=float)
    t = _CHERNOFF_T / max(1.0, float(x @ d1))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # log E[e^{tD}], without overflow (products summed by numpy, not BLAS: see _exact_pmfs)
        log_day = np.log((np.exp(np.outer(t, x - x[-1])) * d1).sum(axis=1)) + t * x[-1]
        grow = np.expm1(r * log_day)[:, None]
        log_mgf = r * log_day + np.log1p(np.where(p_max[None, :] > 0, p_max[None, :] * grow, 0.0)).sum(axis=1)
        n = (log_mgf - _ALIAS) / t
    n = n[np.isfinite(n)]
    return float(n.min()) if n.size else math.inf


def _trim(x):
    """A pmf array from an inverse FFT: negative round-off set to 0, the tail below ``_TAIL`` of the mass cut."""
    np.maximum(x, 0.0, out=x)
    keep = (x > _TAIL * np.add.reduce(x)).nonzero()[0]
    return x[: keep[-1] + 1] if keep.size else x[:1]


def _exact_pmfs(d1, p, case_day, case_block, case_weight, r):
    """pmf arrays of ``X_u``, ``Y_u`` (``u = 0..R-1``) and of the cycle-end mixture, by one FFT.

    Every law is a sum of independent days and thinned review blocks, so its
    transform is a product of the daily pmf's transform ``D``: ``D^u prod_k
    (1 - p_{u,k} + p_{u,k} D^R)`` for ``X_u``, times ``D`` for ``Y_u``; the
    mixture is the weighted sum of its cases' transforms. One forward
    transform of ``d1`` and one batched inverse transform, on a buffer longer
    than every law's support but for 1e-18 of its mass (:func:`_tail_bound`;
    the whole support when that is shorter, then exact up to round-off).

    Cases (arrays): the cycle ends on day ``case_day`` with the block of
    review ``case_block`` known to have arrived (``K``: none dropped), with
    probability ``case_weight``.
    """
    k = p.shape[1]
    full = (r + r * k) * (d1.size - 1) + 1
    size = sp_fft.next_fast_len(int(min(full, _tail_bound(d1, p.max(axis=0), r) + 1)), True)
    day = sp_fft.rfft(d1, size)
    powers = np.empty((r + 1, day.size), dtype=complex)
    powers[0] = 1.0
    for j in range(1, r + 1):
        np.multiply(powers[j - 1], day, out=powers[j])
    thinned = p[:, :, None] * (powers[r] - 1.0) + 1.0  # (R, K, frequencies): 1 - p + p D^R
    # products of the blocks before k (prefix[:, k]) and from k on (suffix[:, k]); suffix[:, K] = suffix[:, K+1] = 1
    prefix = np.ones((r, k + 1, day.size), dtype=complex)
    np.cumprod(thinned, axis=1, out=prefix[:, 1:])
    suffix = np.ones((r, k + 2, day.size), dtype=complex)
    np.cumprod(thinned[:, ::-1], axis=1, out=suffix[:, k - 1::-1])  # K >= 1 always
    spectra = np.empty((2 * r + 1, day.size), dtype=complex)
    np.multiply(powers[:r], prefix[:, k], out=spectra[:r])
    np.multiply(spectra[:r], day, out=spectra[r: 2 * r])
    cases = powers[case_day + 1] * prefix[case_day, case_block] * suffix[case_day, case_block + 1]
    # sums by numpy, not BLAS: a threaded matrix product costs more CPU than it saves on these sizes
    np.sum(case_weight[:, None] * cases, axis=0, out=spectra[2 * r])
    out = sp_fft.irfft(spectra, size, axis=1)
    return [_trim(out[u]) for u in range(r)], [_trim(out[r + u]) for u in range(r)], _trim(out[2 * r])


class _WorkArrays:
    """Arrays of one thread's simulation of :func:`crossing_cycle_service_level`, ``days`` long (views).

    Kept per thread and reused from SKU to SKU: a fresh array of a few MB per step is a few thousand
    page faults, which cost a third of the simulation's time.
    """

    names = ("u", "scaled", "spare", "index", "days", "c", "received")

    def __init__(self, size: int):
        self.size = size
        self.u, self.scaled, self.spare = np.empty(size), np.empty(size), np.empty(size)
        self.index, self.days = np.empty(size, np.intp), np.empty(size, np.intp)
        self.c, self.received = np.empty(size, np.int64), np.empty(size, np.int64)
        self.flag = np.empty(size, bool)

    def view(self, days: int) -> _WorkArrays:
        out = object.__new__(_WorkArrays)
        out.size = days
        for name in self.names + ("flag",):
            setattr(out, name, getattr(self, name)[:days])
        return out


_WORK = threading.local()


def _work_arrays(days: int) -> _WorkArrays:
    """This thread's work arrays, ``days`` long (grown when a longer simulation comes)."""
    arrays = getattr(_WORK, "arrays", None)
    if arrays is None or arrays.size < days:
        arrays = _WORK.arrays = _WorkArrays(days)
    return arrays.view(days)


def _draw_days(cum, u, work: _WorkArrays):
    """``numpy.minimum(numpy.searchsorted(cum, u, side="right"), cum.size - 1)`` into ``work.days``, by a guide
    table [1]_ on the work arrays (the same integers without a new array per step).

    The table holds the answer at ``i / m`` (``m`` a power of two at least twice ``cum.size``, so ``u * m``
    and ``i / m`` are exact and ``floor(u m) / m <= u``); each draw starts there and steps up while
    ``cum`` is still ``<= u``, less than one step on average. A binary search of unsorted keys costs
    several times more (a cache miss per level).

    .. [1] Chen, H.-C. and Asau, Y. (1974). On generating random variates from an empirical distribution.
       *AIIE Transactions* 6(2):163-166.
    """
    m = 1 << max(4, cum.size.bit_length() + 1)
    guide = np.searchsorted(cum, np.arange(m) / m, side="right")
    ext = np.append(cum, np.inf)
    np.multiply(u, m, out=work.scaled)
    np.copyto(work.index, work.scaled, casting="unsafe")  # floor of u * m >= 0
    out = np.take(guide, work.index, out=work.days, mode="clip")  # indices valid: "clip" only skips a copy
    np.take(ext, out, out=work.scaled, mode="clip")
    todo = np.less_equal(work.scaled, u, out=work.flag).nonzero()[0]
    while todo.size:
        out[todo] += 1
        todo = todo[ext[out[todo]] <= u[todo]]
    return np.minimum(out, cum.size - 1, out=out)


def _grid_pmf(dist) -> np.ndarray:
    """pmf array on 0, 1, 2, ... of a Poisson / negative binomial / pmf-dict demand."""
    d = _as_demand(dist)
    if isinstance(d, _Pmf):
        out = np.zeros(int(round(d.values[-1])) + 1)
        np.add.at(out, np.round(d.values).astype(int), d.probs)
        return out
    return _grid_pmf_of(d.dist, d.args, d.kwds)


def _grid_pmf_of(generator, args, kwds) -> np.ndarray:
    """:func:`_grid_pmf` of ``generator(*args, **kwds)`` without freezing it (the same scipy calls)."""
    if _kernels_apply(generator, kwds):
        top = int(generator._isf(_TAIL, *args)) + 1
        out = generator._pmf(np.arange(top + 1), *args)
    else:
        top = int(generator.isf(_TAIL, *args, **kwds)) + 1
        out = generator.pmf(np.arange(top + 1), *args, **kwds)
    return out / out.sum()


def _day_grid_pmf(mu, var, overdispersed=None) -> np.ndarray:
    """pmf array of the daily demand of the exact shortfall: Poisson, or negative binomial when overdispersed
    (by default when the variance exceeds the mean). Read-only: memoized by value (the shortfall and the
    cycle simulation of one SKU use the same one)."""
    if overdispersed is None:
        overdispersed = var > mu * (1 + 1e-9)
    return _day_grid_pmf_memo(float(mu), float(var), bool(overdispersed))


@functools.lru_cache(maxsize=1024)
def _day_grid_pmf_memo(mu, var, overdispersed) -> np.ndarray:
    spec = _fit_spec("negative_binomial" if overdispersed else "poisson", mu, var)
    out = _grid_pmf(spec) if isinstance(spec, dict) else _grid_pmf_of(*spec)
    out.flags.writeable = False
    return out


def _pmf(array) -> _Pmf:
    keep = array > 0
    values = np.arange(array.size, dtype=float)[keep]
    probs = array[keep] / array[keep].sum()
    return _Pmf(values, probs)


def _tail_table(pmf: np.ndarray):
    """cdf and first-order loss of a pmf array on the integer grid 0..N (loss at N+1 is 0)."""
    c = np.cumsum(pmf)
    sf = np.clip(1.0 - c, 0.0, None)
    # n(y) = sum_{x >= y} P(X > x)
    tail = np.concatenate([np.cumsum(sf[::-1])[::-1], [0.0]])
    return c, tail


def _continuous_loss_cdf(family, m, v, y, recurrence=False):
    """Loss and cdf of gamma / normal laws with moments ``m``, ``v`` (arrays, broadcast against ``y``).

    ``recurrence``: the gamma's ``Q(a + 1, x)`` from ``Q(a, x)`` (DLMF 8.8.6), one incomplete gamma function
    instead of two; the same values but for the last bits (about 1e-13 relative), so the solvers keep the two
    functions (their levels stay bit for bit) and only the evaluation of given levels takes it.
    """
    sd = np.sqrt(np.maximum(v, 1e-300))
    if family == "gamma":
        shape, scale = m * m / np.maximum(v, 1e-300), v / np.maximum(m, 1e-300)
        x = np.maximum(y, 0.0) / scale
        sf_a = special.gammaincc(shape, x)
        if recurrence:  # Q(a + 1, x) = Q(a, x) + x^a e^-x / Gamma(a + 1)
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                sf_a1 = sf_a + np.exp(special.xlogy(shape, x) - x - special.gammaln(shape + 1))
        else:
            sf_a1 = special.gammaincc(shape + 1, x)
        loss_ = np.where(y > 0, m * sf_a1 - y * sf_a, m - y)
        return loss_, 1.0 - sf_a
    z = (y - m) / sd
    return sd * (special_norm_pdf(z) - z * special.ndtr(-z)), special.ndtr(z)


def special_norm_pdf(z):
    return np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class OrderCrossingShortfall:
    """Shortfall of an (R,S) policy with order crossing, see the module notes.

    Attributes
    ----------
    family : str
        ``"exact"`` (discrete convolution) or the continuous family fitted to moments.
    review_period_days : int
    demand_mean_per_day : float
    outstanding_probabilities : numpy.ndarray
        ``P(L > u + kR)``, shape ``(R, K)``.
    mean_orders_outstanding : float
        Time-average number of orders outstanding [orders].
    before_demand_moments, after_demand_moments : numpy.ndarray
        Mean [units] and variance [units^2] of ``X_u`` and ``Y_u``, shape ``(R, 2)``.
    cycle_end : tuple
        ``(weights, moments)`` of the cycle-end mixture (continuous families),
        or the pmf tables (exact).
    """

    family: str
    review_period_days: int
    demand_mean_per_day: float
    outstanding_probabilities: np.ndarray
    mean_orders_outstanding: float
    before_demand_moments: np.ndarray
    after_demand_moments: np.ndarray
    cycle_end: tuple
    _tables: tuple = ()

    def _eval(self, order_up_to, parts=(0, 1, 2), recurrence=False):
        """Fill rate, cycle-end service level and average on hand at ``S`` (1-D arrays); only ``parts`` are
        computed, the others are None (``recurrence``: see :func:`_continuous_loss_cdf`)."""
        y = np.atleast_1d(np.asarray(order_up_to, dtype=float))
        r, mu = self.review_period_days, self.demand_mean_per_day
        fill = csl = on_hand = None
        if self.family == "exact":
            short_tab, csl_tab, on_hand_tab = self._tables
            top = short_tab.size - 1
            i = np.clip(np.floor(y), 0, top).astype(int)  # discrete laws: integer S
            if 0 in parts:  # clipped: round-off of a tiny mean (a forecast of almost nothing) leaves [0, 1]
                fill = np.clip(1.0 - short_tab[i] / (r * mu), 0.0, 1.0)
            if 1 in parts:
                csl = np.where(y < 0, 0.0, csl_tab[i])  # shortfall >= 0: no S below 0 meets any target
            if 2 in parts:
                on_hand = on_hand_tab[i] + np.where(y > top, y - top, 0.0)
            return fill, csl, on_hand
        yy = y[None, :]
        if 0 in parts or 2 in parts:
            xa, _ = _continuous_loss_cdf(self.family, *[c[:, None] for c in self.after_demand_moments.T], yy,
                                         recurrence)
            if 0 in parts:
                xb, _ = _continuous_loss_cdf(self.family, *[c[:, None] for c in self.before_demand_moments.T], yy,
                                             recurrence)
                fill = np.clip(1.0 - (xa - xb).sum(axis=0) / (r * mu), 0.0, 1.0)
            if 2 in parts:
                on_hand = (yy - self.after_demand_moments[:, :1] + xa).mean(axis=0)
        if 1 in parts:
            weights, moments = self.cycle_end
            _, fc = _continuous_loss_cdf(self.family, *[c[:, None] for c in moments.T], yy)
            csl = weights @ fc
        return fill, csl, on_hand

    def _pick(self, order_up_to, which):
        out = self._eval(order_up_to, (which,))[which]
        return out if np.ndim(order_up_to) else float(out[0])

    def fill_rate(self, order_up_to):
        """Fill rate [fraction of demand served from stock] at ``S`` (backorders)."""
        return self._pick(order_up_to, 0)

    def cycle_service_level(self, order_up_to):
        """Probability of no backorders at the end of an order's cycle (see the module notes)."""
        return self._pick(order_up_to, 1)

    def average_on_hand(self, order_up_to):
        """Mean end-of-day units on hand at ``S``: the average over the cycle of ``E[(S - Y_u)^+]``."""
        return self._pick(order_up_to, 2)


def order_crossing_shortfall(
    demand_mean_per_day: float,
    demand_variance_per_day: float,
    lead_time_days,
    review_period_days: int,
    family: str = "exact",
) -> OrderCrossingShortfall:
    r"""Shortfall of an (R,S) policy whose orders each draw their own lead time (orders cross).

    Parameters
    ----------
    demand_mean_per_day : float
        :math:`\mu` [units per day].
    demand_variance_per_day : float
        :math:`\sigma^2` [units^2 per day].
    lead_time_days : float or array_like
        A fixed lead time or observed lead times [whole days]; each order
        draws independently from their empirical law.
    review_period_days : int
        ``R`` >= 1 [days].
    family : {"exact", "gamma", "normal", "poisson", "negative_binomial"}
        ``"exact"``: daily demand Poisson (variance <= mean) or negative
        binomial, every sum convolved exactly (by FFT). Otherwise the family is fitted
        to the exact moments of each sum (for fast items).

    Returns
    -------
    OrderCrossingShortfall

    Notes
    -----
    See the module notes for the model [1]_ [2]_. With a fixed lead time ``L``
    the fill rate equals :math:`1 - [n_{R+L}(S) - n_L(S)]/(R\mu)`.
    """
    mu = check_nonnegative("demand_mean_per_day", demand_mean_per_day, "units per day")
    var = check_nonnegative("demand_variance_per_day", demand_variance_per_day, "units^2 per day")
    r = check_integer("review_period_days", review_period_days, minimum=1, why=" [days]")
    if mu <= 0:
        raise DataError("demand_mean_per_day must be > 0 for the shortfall; got 0. Fix: plan no stock for this SKU.")
    if family not in ("exact", "gamma", "normal", "poisson", "negative_binomial"):
        raise DataError(f"family must be 'exact', 'gamma', 'normal', 'poisson' or 'negative_binomial'; got {family!r}.")
    values, probs = _lead_times(lead_time_days)
    p = outstanding_order_probabilities(lead_time_days, r)

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
        # cycle_case of every lead time: its cycle ends on day u, the block of review m dropped (K: none)
        end = values.astype(np.int64) + r - 1
        day, block = end % r, end // r
        k = p.shape[1]
        block = np.where(block < k, block, k)
        block[p[day, np.minimum(block, k - 1)] <= 0] = k  # an order outstanding with probability 0 drops nothing
        before, after, mixture = _exact_pmfs(_day_grid_pmf(mu, var), p, day, block, np.asarray(probs, float), r)
        top = max(max(x.size for x in after), mixture.size) + 1
        laws = np.zeros((2 * r + 1, top))  # X_0..X_{R-1}, Y_0..Y_{R-1}, the mixture on 0..top-1
        for row, x in zip(laws, before + after + [mixture]):
            row[: x.size] = x
        units = np.arange(top, dtype=float)
        first, second = (laws * units).sum(axis=1), (laws * (units * units)).sum(axis=1)
        cdf = np.cumsum(laws, axis=1)
        # first-order loss n(y) = sum_{x >= y} P(X > x) on 0..top (n(top) = 0)
        loss = np.zeros((2 * r, top + 1))
        loss[:, :top] = np.cumsum(np.clip(1.0 - cdf[: 2 * r, ::-1], 0.0, None), axis=1)[:, ::-1]
        grid = np.arange(top + 1, dtype=float)
        short = (loss[r:] - loss[:r]).sum(axis=0)
        on_hand = (grid[None, :] - first[r: 2 * r, None] + loss[r:]).sum(axis=0) / r
        csl = np.append(cdf[2 * r], 1.0)
        moments = np.column_stack([first, second - first * first])
        return OrderCrossingShortfall(
            "exact", r, mu, p, float(p.sum(axis=1).mean()), moments[:r], moments[r: 2 * r],
            (np.ones(1), moments[2 * r:]), (short, csl, on_hand),
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
    return OrderCrossingShortfall(
        family, r, mu, p, float(p.sum(axis=1).mean()), before, after, (probs, cycle),
    )


@dataclass(frozen=True)
class CrossingCycleServiceLevel:
    """Cycle service level of an (R,S) policy with order crossing, from :func:`crossing_cycle_service_level`.

    Attributes
    ----------
    window_maxima : numpy.ndarray
        Sorted largest end-of-day shortfall ``S - net inventory`` over each
        simulated order's cycle [units]; a cycle has no stock-out iff it is ``<= S``.
    review_period_days : int
    cycles : int
        Number of cycles simulated.
    """

    window_maxima: np.ndarray
    review_period_days: int
    cycles: int

    def cycle_service_level(self, order_up_to):
        """Probability of no backorders on any day of an order's cycle at ``S`` [units]."""
        y = np.asarray(order_up_to, dtype=float)
        out = np.searchsorted(self.window_maxima, y, side="right") / self.cycles
        return out if np.ndim(order_up_to) else float(out)

    def standard_error(self, order_up_to):
        """Monte Carlo standard error of :meth:`cycle_service_level` (cycles treated as independent)."""
        a = self.cycle_service_level(order_up_to)
        return np.sqrt(a * (1 - a) / self.cycles)


def crossing_cycle_service_level(
    demand_mean_per_day: float,
    demand_variance_per_day: float,
    lead_time_days,
    review_period_days: int,
    family: str = "exact",
    cycles: int = 20_000,
    seed=0,
) -> CrossingCycleServiceLevel:
    r"""Probability that an order's cycle of an (R,S) policy has no stock-out, with orders crossing.

    The cycle of the order placed at review ``k`` is the ``R`` days from its
    arrival (day :math:`kR + \ell_k`, its own lead time). With backorders and
    the inventory position raised to ``S`` at every review, the end-of-day
    shortfall is

    .. math::

        X_t = S - \mathrm{net}_t = C_t - \sum_{k:\, kR + \ell_k \le t} A_k,
        \qquad A_k = C_{kR-1} - C_{(k-1)R-1},

    with :math:`C_t` the cumulative demand through day ``t`` and :math:`A_k`
    the order placed at review ``k``: it does not depend on ``S``. So the
    cycle has no stock-out iff :math:`M_k = \max_{t \in \text{cycle}_k} X_t \le S`,
    and :math:`\alpha(S) = P(M \le S)` for every ``S`` at once from one
    simulation of the shortfall process. Without crossing (a fixed lead time)
    the shortfall rises through the cycle and this is :math:`F_{R+L}(S)`.

    Parameters
    ----------
    demand_mean_per_day, demand_variance_per_day : float
        Daily demand [units per day], [units^2 per day].
    lead_time_days : float or array_like
        A fixed lead time or observed lead times [whole days]; each order
        draws independently from their empirical law.
    review_period_days : int
        ``R`` >= 1 [days].
    family : {"exact", "poisson", "negative_binomial", "gamma", "normal"}
        Daily demand law: Poisson or negative binomial fitted to the moments
        (``"exact"``, ``"poisson"``, ``"negative_binomial"``), drawn by
        inversion of its pmf (one uniform per day, the pmf cut where less
        than 1e-13 of the mass is left), or gamma (``"gamma"``, ``"normal"``:
        no negative demand).
    cycles : int, default 20,000
        Cycles simulated (the standard error at 95 % is about 0.15 points).
    seed : int or numpy.random.Generator, default 0

    Returns
    -------
    CrossingCycleServiceLevel
    """
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
    work = _work_arrays(days)
    if mu <= 0:
        c = np.zeros(days)
    elif family in ("gamma", "normal"):
        if var > 0:  # the draws of rng.gamma(k, theta, days): theta times standard gamma variates
            d = np.multiply(rng.standard_gamma(mu * mu / var, days, out=work.u), var / mu, out=work.u)
        else:
            d = work.u
            d.fill(mu)
        c = np.cumsum(d, out=work.scaled)
    else:  # Poisson or negative binomial days by inversion of the pmf (a uniform each): several times faster
        pmf = _day_grid_pmf(mu, var, var > mu * (1 + 1e-9) and family != "poisson")
        d = _draw_days(np.cumsum(pmf), rng.random(days, out=work.u), work)
        c = np.cumsum(d, out=work.c)  # whole units, summed as integers (a float cumsum of integers costs 20 times more)
    k = np.arange(1, reviews + 1)
    # the order placed at review k: the demand of days (k-1)R .. kR-1 (c[-1] = 0)
    amount = np.diff(c[r - 1: reviews * r: r], prepend=0)
    lead = values[np.minimum(np.searchsorted(np.cumsum(probs), rng.random(k.size), side="right"), values.size - 1)]
    arrival = k * r + lead.astype(np.int64)
    inside = arrival < days
    # the amounts received each day, summed in order (as numpy.bincount would), in the work arrays; whole units
    # as integers, converted at the end
    received = work.spare if c.dtype.kind == "f" else work.received
    received.fill(0)
    np.add.at(received, arrival[inside], amount[inside])
    shortfall = np.subtract(c, np.cumsum(received, out=received), out=received)
    keep = (k >= warm) & (arrival + r - 1 < days)
    start = arrival[keep]
    maxima = shortfall[start]
    for _ in range(1, r):
        start += 1
        np.maximum(maxima, shortfall[start], out=maxima)
    maxima.sort()
    return CrossingCycleServiceLevel(maxima.astype(float, copy=False), r, int(maxima.size))


class _CrossingRS:
    """The rounded (R,S) evaluator of :mod:`opslib.inventory.rounding` on the crossing shortfall.

    With ``window`` (a :class:`CrossingCycleServiceLevel`) the cycle service
    level is that of "no stock-out on any day of the cycle" instead of the
    end-of-cycle upper bound. ``review_pmf``: the review-period demand's pmf
    on 0, 1, 2, ... when the caller has it (else computed from ``review_demand``).
    """

    def __init__(self, shortfall: OrderCrossingShortfall, review_demand, rule, window=None, review_pmf=None):
        self.window = window
        from opslib.inventory.rounding import _integer_pmf, _offset_distribution

        self.shortfall = shortfall
        if rule.minimum == 1:  # no rounding: the position is S after every review, whatever the demand
            self.pi = np.ones(1)
        else:
            self.pi = _offset_distribution(_integer_pmf(review_demand) if review_pmf is None else review_pmf,
                                           rule.minimum, rule.multiple)
        keep = self.pi > 1e-14
        self.offsets = np.arange(self.pi.size)[keep].astype(float)
        self.weights = self.pi[keep] / self.pi[keep].sum()

    def fill_rate(self, s):
        return float(self.shortfall._eval(s + self.offsets, (0,))[0] @ self.weights)

    def cycle_service_level(self, s):
        if self.window is None:
            return float(self.shortfall._eval(s + self.offsets, (1,))[1] @ self.weights)
        return float(self.window.cycle_service_level(s + self.offsets) @ self.weights)

    def average_on_hand(self, s):
        return float(self.shortfall._eval(s + self.offsets, (2,))[2] @ self.weights)

    def many(self, kind: str):
        """``fill_rate`` or ``cycle_service_level`` (``kind``) at an array of levels at once, for
        :func:`opslib.inventory.service._smallest_meeting`: one table lookup of every level and offset
        (the exact shortfall, or the simulated cycles), then each level's weighted sum."""
        if kind == "fill_rate" and self.shortfall.family != "exact":
            return None  # continuous laws: solved by root finding

        def at(levels):
            y = (np.asarray(levels, dtype=float)[:, None] + self.offsets[None, :]).ravel()
            if kind == "fill_rate":
                values = self.shortfall._eval(y, (0,))[0]
            elif self.window is None:
                values = self.shortfall._eval(y, (1,))[1]
            else:
                values = self.window.cycle_service_level(y)
            return values.reshape(-1, self.offsets.size) @ self.weights
        return at

    def evaluate(self, levels):
        """Fill rate, cycle service level and average on hand at many levels ``S`` at once (arrays).

        Continuous families take ``Q(a + 1, x)`` by recurrence here (:func:`_continuous_loss_cdf`): the same
        values as :meth:`fill_rate` and the others but for the last bits."""
        levels = np.asarray(levels, dtype=float)
        y = (levels[:, None] + self.offsets[None, :]).ravel()
        at = None
        if self.offsets.size > 1:  # levels a whole number of units apart share most of their S + offsets
            y, at = np.unique(y, return_inverse=True)
        if self.window is None:
            fill, csl, on_hand = self.shortfall._eval(y, recurrence=True)
        else:
            fill, _, on_hand = self.shortfall._eval(y, (0, 2), recurrence=True)
            csl = self.window.cycle_service_level(y)
        if at is not None:
            fill, csl, on_hand = fill[at], csl[at], on_hand[at]
        shape = (levels.size, self.offsets.size)
        # weighted by numpy, not a BLAS matrix product: a threaded product costs more CPU than it saves here
        return tuple((np.asarray(x).reshape(shape) * self.weights).sum(axis=1) for x in (fill, csl, on_hand))


def _is_random(lead_time_days) -> bool:
    values, _ = _lead_times(lead_time_days)
    return values.size > 1 and not math.isclose(values.min(), values.max())
