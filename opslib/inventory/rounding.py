"""MOQ, case pack and order multiples, with the service recomputed after rounding.

Rounding an order quantity after the safety stock was set is the classic
after-the-fact mistake: a larger ``Q`` changes where the inventory position
sits, so the fill rate and cycle service level change too. Here the rounding
comes first and the stock level is solved again for the rounded quantities:

- (r,Q): ``Q`` is rounded to the pack and MOQ, then ``r`` is solved again for
  the rounded ``Q`` (:func:`round_reorder_point_policy`);
- (R,S): each review orders ``S - IP`` rounded up to a multiple of the pack,
  and at least the MOQ. The post-review inventory position then lives on
  ``S, ..., S + M - 1`` (``M`` the rounded MOQ, at least one pack); its
  stationary distribution is computed exactly from a Markov chain on the
  offset ``IP - S`` (it does not depend on ``S``), and ``S`` is solved again
  against the service averaged over it (:func:`round_order_up_to_policy`).

Every result reports the achieved fill rate and cycle service level, and a
``status``: ``"met"``, ``"overshoot"`` (rounding forces more service than asked,
e.g. an MOQ worth weeks of demand with the level already at its floor) or
``"unreachable"`` (the target cannot be met within ``max_inventory_position``),
with the reason in words. Unmet demand is backordered, as in
:mod:`opslib.inventory.service`.

References
----------
.. [1] Hadley, G. and Whitin, T. M. (1963). *Analysis of Inventory Systems*.
   Prentice-Hall. Ch. 5 (the (R, nQ) policy: the inventory position after
   review is uniform on ``r+1, ..., r+Q``).
.. [2] Zheng, Y.-S. and Chen, F. (1992). Inventory policies with quantized
   ordering. *Naval Research Logistics* 39(3):285-305.
.. [3] Axsäter, S. (2015). *Inventory Control*, 3rd ed. Springer. Sec. 5.3.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import rv_discrete

from opslib.errors import DataError
from opslib.inventory._validate import check_integer, check_nonnegative, check_probability
from opslib.inventory.distributions import (
    Demand,
    _as_demand,
    _Pmf,
    cdf,
    is_discrete,
    loss,
    loss2,
    mean,
    sum_of_periods,
)
from opslib.inventory.service import (
    OrderUpToPolicy,
    ReorderPointPolicy,
    _check_q,
    _periodic_demands,
    _rq_fill,
    _smallest_meeting,
    order_up_to_for_cycle_service_level,
    order_up_to_for_fill_rate,
    reorder_point_for_cycle_service_level,
    reorder_point_for_fill_rate,
)

__all__ = [
    "RoundingRule",
    "RoundedPolicy",
    "PeriodicReviewService",
    "round_order_quantity",
    "round_reorder_point_policy",
    "round_order_up_to_policy",
    "periodic_review_service",
]

SERVICE_TYPES = ("fill_rate", "cycle_service_level")


class RoundingTargetWarning(UserWarning):
    """A service target cannot be met after rounding (the result says why)."""


@dataclass(frozen=True)
class RoundingRule:
    """How a supplier accepts orders.

    Attributes
    ----------
    minimum_order_quantity : int
        MOQ [units]; 0 for none. Rounded up to a whole number of packs.
    case_pack : int
        Units per case [units]; orders are whole cases.
    order_multiple : int
        Orders must also be a multiple of this [units] (e.g. a layer or a
        pallet); combined with the case pack by their least common multiple.
    """

    minimum_order_quantity: int = 0
    case_pack: int = 1
    order_multiple: int = 1

    def __post_init__(self):
        for name in ("minimum_order_quantity", "case_pack", "order_multiple"):
            minimum = 0 if name == "minimum_order_quantity" else 1
            value = getattr(self, name)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                value = minimum
            object.__setattr__(self, name, check_integer(name, value, minimum=minimum, why=" [units]"))

    @property
    def multiple(self) -> int:
        """The step every order is a multiple of [units]."""
        return math.lcm(self.case_pack, self.order_multiple)

    @property
    def minimum(self) -> int:
        """The smallest acceptable order [units]: the MOQ rounded up to the step, at least one step."""
        m = self.multiple
        return max(m, -(-self.minimum_order_quantity // m) * m)


def round_order_quantity(
    quantity,
    minimum_order_quantity: int = 0,
    case_pack: int = 1,
    order_multiple: int = 1,
    direction: str = "up",
):
    """An order quantity rounded to what the supplier accepts [units].

    Parameters
    ----------
    quantity : float or array_like
        The wanted quantity [units]; zero or less means no order (returns 0).
    minimum_order_quantity, case_pack, order_multiple : int
        See :class:`RoundingRule`.
    direction : {"up", "nearest"}
        Round up to the next multiple (never orders less than wanted), or to
        the nearest one (ties up). Either way the result is at least the MOQ.

    Returns
    -------
    float or numpy.ndarray
        The rounded quantity [units], the shape of ``quantity``.
    """
    if direction not in ("up", "nearest"):
        raise DataError(f"direction must be 'up' or 'nearest'; got {direction!r}. Fix: pass 'up' (the default).")
    rule = RoundingRule(minimum_order_quantity, case_pack, order_multiple)
    arr = np.asarray(quantity, dtype=float)
    if np.any(~np.isfinite(arr)):
        raise DataError(f"quantity must be finite [units]; got {quantity!r}. Fix: drop missing quantities first.")
    m = rule.multiple
    steps = np.ceil(arr / m - 1e-9) if direction == "up" else np.floor(arr / m + 0.5)
    out = np.where(arr > 0, np.maximum(steps * m, rule.minimum), 0.0)
    return out[()] if out.ndim == 0 else out


@dataclass(frozen=True)
class RoundedPolicy:
    """A policy after MOQ and pack rounding, with its service recomputed.

    Attributes
    ----------
    policy : str
        ``"(r,Q)"`` or ``"(R,S)"``.
    reorder_point : float
        ``r`` [units] for (r,Q); for (R,S) the level below which an order is
        placed, ``S - 1`` (NaN for continuous demand).
    order_quantity : float
        The rounded ``Q`` [units] for (r,Q); for (R,S) the smallest order, the MOQ in packs.
    order_up_to : float
        ``S`` [units] for (R,S); ``r + Q`` for (r,Q).
    safety_stock : float
        Stock above the mean protection-interval demand [units].
    service_type, service_target : str, float
        What was asked.
    fill_rate, cycle_service_level : float
        What the rounded policy achieves.
    average_on_hand : float
        Expected units on hand [units].
    status : str
        ``"met"``, ``"overshoot"`` or ``"unreachable"`` (or ``"below_target"``
        when the level was kept instead of solved again).
    note : str
        The reason in words.
    unrounded : ReorderPointPolicy or OrderUpToPolicy
        The policy before rounding, for comparison.
    rule : RoundingRule
        The rounding applied.
    unmet_demand : str
        ``"backordered"``.
    """

    policy: str
    reorder_point: float
    order_quantity: float
    order_up_to: float
    safety_stock: float
    service_type: str
    service_target: float
    fill_rate: float
    cycle_service_level: float
    average_on_hand: float
    status: str
    note: str
    unrounded: ReorderPointPolicy | OrderUpToPolicy
    rule: RoundingRule
    unmet_demand: str = "backordered"

    @property
    def target_met(self) -> bool:
        """Whether the achieved service reaches the target."""
        return self.status in ("met", "overshoot")


def _check_service_type(service_type):
    if service_type not in SERVICE_TYPES:
        raise DataError(
            f"service_type must be one of {SERVICE_TYPES}; got {service_type!r}. Fix: pick the measure the "
            "target refers to."
        )


def _status(achieved, target, unrounded_achieved, tolerance, at_floor, capped, what, resolved=True):
    if achieved < target - 1e-9:
        if capped:
            return "unreachable", (
                f"{what} {achieved:.4f} is below the target {target:.4f}: meeting it needs more than "
                "max_inventory_position allows after rounding."
            )
        return "below_target", f"{what} {achieved:.4f} is below the target {target:.4f} after rounding."
    # When the level was solved again and is not at its floor, it is the smallest level meeting the
    # target: any excess is the granularity of whole units, not rounding.
    if achieved > target + tolerance and achieved > unrounded_achieved + 1e-9 and (at_floor or not resolved):
        why = " with the level already at its floor" if at_floor else " at the unrounded level"
        return "overshoot", (
            f"rounding forces {what} {achieved:.4f} against the target {target:.4f}{why}: the minimum order "
            "covers more than the target needs."
        )
    return "met", f"{what} {achieved:.4f} meets the target {target:.4f} after rounding."


def round_reorder_point_policy(
    lead_time_demand: Demand,
    order_quantity: float,
    service_target: float,
    service_type: str = "fill_rate",
    minimum_order_quantity: int = 0,
    case_pack: int = 1,
    order_multiple: int = 1,
    *,
    resolve: bool = True,
    minimum_reorder_point: float | None = 0.0,
    max_inventory_position: float | None = None,
    tolerance: float = 0.005,
) -> RoundedPolicy:
    r"""(r,Q) policy with ``Q`` rounded to packs and MOQ and ``r`` solved again.

    Parameters
    ----------
    lead_time_demand : frozen scipy.stats distribution or dict
        Demand over the lead time :math:`D_L` [units].
    order_quantity : float
        The unrounded ``Q`` [units] (e.g. the EOQ).
    service_target : float
        Target in (0, 1).
    service_type : {"fill_rate", "cycle_service_level"}
        What the target means.
    minimum_order_quantity, case_pack, order_multiple : int
        The supplier's rounding rule [units].
    resolve : bool, default True
        Solve ``r`` again for the rounded ``Q``. With False, keep the
        unrounded policy's ``r`` and only report what rounding does to service.
    minimum_reorder_point : float or None, default 0
        Floor on ``r`` [units]: a negative reorder point (order only once
        backorders pile up) is meaningless when sales are lost. None for no floor.
    max_inventory_position : float, optional
        Cap on ``r + Q`` [units] (shelf space); the target may become
        unreachable, which the result says.
    tolerance : float, default 0.005
        Service above target by more than this, caused by rounding, is
        reported as ``"overshoot"``.

    Returns
    -------
    RoundedPolicy

    Notes
    -----
    The fill rate :math:`1 - [n_L(r) - n_L(r+Q)]/Q` rises with :math:`Q` at
    fixed :math:`r`, so a rounded-up :math:`Q` lets :math:`r` fall; solving
    again returns that stock [3]_. The cycle service level :math:`F_L(r)` does
    not depend on :math:`Q`.
    """
    _check_service_type(service_type)
    target = check_probability("service_target", service_target)
    dist = _as_demand(lead_time_demand, "lead_time_demand")
    rule = RoundingRule(minimum_order_quantity, case_pack, order_multiple)
    q0 = _check_q(order_quantity, dist) if is_discrete(dist) else float(order_quantity)
    check_nonnegative("order_quantity", q0, "units")
    solve = reorder_point_for_fill_rate if service_type == "fill_rate" else reorder_point_for_cycle_service_level
    unrounded = solve(dist, q0, target)
    q = float(round_order_quantity(q0, rule.minimum_order_quantity, rule.case_pack, rule.order_multiple))

    def measure(r):
        return float(_rq_fill(dist, r, q)) if service_type == "fill_rate" else float(cdf(dist, r))

    if resolve:
        r = solve(dist, q, target).reorder_point
    else:
        r = unrounded.reorder_point
    at_floor = capped = False
    if minimum_reorder_point is not None and r < minimum_reorder_point:
        r, at_floor = float(minimum_reorder_point), True
    if max_inventory_position is not None and r + q > max_inventory_position:
        r, capped = float(max_inventory_position - q), True
    achieved = measure(r)
    status, note = _status(
        achieved, target, getattr(unrounded, service_type), tolerance, at_floor, capped, service_type.replace("_", " "), resolve
    )
    if status == "unreachable":
        warnings.warn(note, RoundingTargetWarning, stacklevel=2)
    discrete = is_discrete(dist)
    mu = mean(dist)
    backorders = (loss2(dist, r) - loss2(dist, r + q)) / q
    on_hand = r + ((q + 1) / 2 if discrete else q / 2) - mu + backorders
    return RoundedPolicy(
        policy="(r,Q)",
        reorder_point=float(r),
        order_quantity=q,
        order_up_to=float(r + q),
        safety_stock=float(r - mu),
        service_type=service_type,
        service_target=target,
        fill_rate=float(_rq_fill(dist, r, q)),
        cycle_service_level=float(cdf(dist, r)),
        average_on_hand=float(on_hand),
        status=status,
        note=note,
        unrounded=unrounded,
        rule=rule,
    )


# --------------------------------------------------------------------------- (R,S) with rounding


def _integer_pmf(dist) -> np.ndarray:
    """pmf of a demand on 0, 1, 2, ... (continuous demand rounded to whole units)."""
    dist = _as_demand(dist)
    if isinstance(dist, _Pmf):
        v = np.round(dist.values).astype(int)
        if v.min() < 0:
            raise DataError("demand must be >= 0 to evaluate rounded orders; got negative values in the pmf.")
        out = np.zeros(v.max() + 1)
        np.add.at(out, v, dist.probs)
        return out
    return _integer_pmf_of(dist.dist, dist.args, dist.kwds)


def _integer_pmf_of(generator, args, kwds) -> np.ndarray:
    """:func:`_integer_pmf` of ``generator(*args, **kwds)`` (a scipy distribution) without freezing it."""
    from opslib.inventory.lead_time import _kernels_apply

    kernels = _kernels_apply(generator, kwds)
    # what .mean() and .var() compute, in one call
    mean_, variance_ = generator._stats(*args)[:2] if kernels else generator.stats(*args, moments="mv", **kwds)
    mu = float(mean_)
    sd = math.sqrt(float(variance_))
    top = int(math.ceil(mu + 12 * sd + 12))
    grid = np.arange(top + 1, dtype=float)
    if kernels:
        pmf = np.asarray(generator._pmf(grid, *args), dtype=float)
    elif isinstance(generator, rv_discrete):
        pmf = np.asarray(generator.pmf(grid, *args, **kwds), dtype=float)
    else:
        pmf = np.diff(np.concatenate([[0.0], generator.cdf(grid + 0.5, *args, **kwds)]))
    pmf[-1] += max(1.0 - pmf.sum(), 0.0)
    return pmf / pmf.sum()


def _offset_distribution(review_pmf: np.ndarray, minimum: int, multiple: int) -> np.ndarray:
    """Stationary law of ``IP - S`` right after a review, on ``0, ..., minimum - 1``.

    At each review the order is ``max(minimum, multiple * ceil((S - IP)/multiple))``
    when ``IP < S``. The chain on the offset does not depend on ``S``.
    """
    m_states = int(minimum)
    if m_states == 1:
        return np.ones(1)
    k = np.arange(m_states)[:, None]
    d = np.arange(review_pmf.size)[None, :]
    after = k - d
    deficit = -after
    order = np.maximum(minimum, multiple * np.ceil(deficit / multiple))
    nxt = np.where(after >= 0, after, after + order).astype(int)
    transition = np.zeros((m_states, m_states))
    rows = np.broadcast_to(k, nxt.shape)
    np.add.at(transition, (rows, nxt), np.broadcast_to(review_pmf[None, :], nxt.shape))
    a = transition.T - np.eye(m_states)
    a[-1, :] = 1.0
    b = np.zeros(m_states)
    b[-1] = 1.0
    pi = np.linalg.solve(a, b)
    pi = np.maximum(pi, 0.0)
    return pi / pi.sum()


@dataclass(frozen=True)
class PeriodicReviewService:
    """Service of an (R,S) policy with rounded orders (backorders).

    Attributes
    ----------
    fill_rate, cycle_service_level : float
    average_on_hand : float
        Expected end-of-period units on hand [units].
    offset_probabilities : numpy.ndarray
        Stationary law of the inventory position after review minus ``S``.
    """

    fill_rate: float
    cycle_service_level: float
    average_on_hand: float
    offset_probabilities: np.ndarray


class _RoundedRS:
    """The pieces of the rounded (R,S) evaluation, for one SKU."""

    def __init__(self, protection, during_lead_time, review_demand, review_mean, rule, per_period=None, review=1):
        self.protection = _as_demand(protection)
        self.during = _as_demand(during_lead_time)
        self.review_mean = review_mean
        self.pi = _offset_distribution(_integer_pmf(review_demand), rule.minimum, rule.multiple)
        keep = self.pi > 1e-14
        self.offsets = np.arange(self.pi.size)[keep].astype(float)
        self.weights = self.pi[keep] / self.pi[keep].sum()
        self.per_period = per_period
        self.review = review

    def fill_rate(self, s):
        y = s + self.offsets
        short = loss(self.protection, y) - loss(self.during, y)
        return float(1.0 - np.atleast_1d(short) @ self.weights / self.review_mean)

    def cycle_service_level(self, s):
        return float(np.atleast_1d(cdf(self.protection, s + self.offsets)) @ self.weights)

    def average_on_hand(self, s):
        """Mean end-of-period on hand, E[(y - D_{L+k})^+] averaged over k = 1..R."""
        y = s + self.offsets
        if self.per_period is None:
            # protection and lead-time ends only: trapezoid over the cycle
            ends = [self.during, self.protection]
            vals = [np.atleast_1d(y - mean(e) + loss(e, y)) @ self.weights for e in ends]
            return float(0.5 * (vals[0] + vals[1]))
        total = 0.0
        for k in range(1, self.review + 1):
            e = _as_demand(self.per_period(k))
            total += np.atleast_1d(y - mean(e) + loss(e, y)) @ self.weights
        return float(total / self.review)


def periodic_review_service(
    order_up_to: float,
    demand_per_period: Demand,
    review_periods: int,
    lead_time_periods: float,
    minimum_order_quantity: int = 0,
    case_pack: int = 1,
    order_multiple: int = 1,
) -> PeriodicReviewService:
    r"""Exact fill rate and cycle service level of (R,S) with rounded orders.

    Parameters
    ----------
    order_up_to : float
        ``S`` [units].
    demand_per_period : frozen scipy.stats distribution or dict
        I.i.d. demand per period [units per period]; continuous demand is
        rounded to whole units for the order-size chain.
    review_periods : int
        ``R`` >= 1 [periods].
    lead_time_periods : float
        ``L`` [periods].
    minimum_order_quantity, case_pack, order_multiple : int
        The rounding rule [units].

    Notes
    -----
    With post-review position :math:`y = S + K`, :math:`K` stationary on
    :math:`0..M-1`:
    :math:`\beta = 1 - E_K[n_{R+L}(S+K) - n_L(S+K)]/(R\mu)` and
    :math:`\alpha = E_K[F_{R+L}(S+K)]`. With only a pack (no larger MOQ),
    :math:`K` is uniform, the (R, nQ) result of [1]_ [2]_.
    """
    rule = RoundingRule(minimum_order_quantity, case_pack, order_multiple)
    r = check_integer("review_periods", review_periods, minimum=1, why=" [periods]")
    parts = _periodic_demands(demand_per_period, r, lead_time_periods)
    protection, during, review_mean, _, lt = parts
    ev = _RoundedRS(
        protection,
        during,
        sum_of_periods(demand_per_period, r),
        review_mean,
        rule,
        per_period=lambda k: sum_of_periods(demand_per_period, lt + k),
        review=r,
    )
    s = float(order_up_to)
    return PeriodicReviewService(ev.fill_rate(s), ev.cycle_service_level(s), ev.average_on_hand(s), ev.pi)


def _solve_rounded_rs(
    ev: _RoundedRS,
    unrounded: OrderUpToPolicy,
    service_type,
    target,
    rule,
    resolve,
    minimum_order_up_to,
    max_inventory_position,
    tolerance,
    discrete,
    protection_mean,
) -> RoundedPolicy:
    f = ev.fill_rate if service_type == "fill_rate" else ev.cycle_service_level
    if resolve:
        start = unrounded.order_up_to
        many = ev.many(service_type) if hasattr(ev, "many") else None
        s = _smallest_meeting(f, target, start - rule.minimum - 1, start, discrete, many)
    else:
        s = unrounded.order_up_to
    at_floor = capped = False
    if minimum_order_up_to is not None and s < minimum_order_up_to:
        s, at_floor = float(minimum_order_up_to), True
    if max_inventory_position is not None and s + rule.minimum - 1 > max_inventory_position:
        s, capped = float(max_inventory_position - rule.minimum + 1), True
    achieved = f(s)
    status, note = _status(
        achieved, target, getattr(unrounded, service_type), tolerance, at_floor, capped, service_type.replace("_", " "), resolve
    )
    if status == "unreachable":
        warnings.warn(note, RoundingTargetWarning, stacklevel=3)
    return RoundedPolicy(
        policy="(R,S)",
        reorder_point=float(s - 1) if discrete else float("nan"),
        order_quantity=float(rule.minimum),
        order_up_to=float(s),
        safety_stock=float(s - protection_mean),
        service_type=service_type,
        service_target=target,
        fill_rate=ev.fill_rate(s),
        cycle_service_level=ev.cycle_service_level(s),
        average_on_hand=ev.average_on_hand(s),
        status=status,
        note=note,
        unrounded=unrounded,
        rule=rule,
    )


def round_order_up_to_policy(
    demand_per_period: Demand,
    review_periods: int,
    lead_time_periods: float,
    service_target: float,
    service_type: str = "fill_rate",
    minimum_order_quantity: int = 0,
    case_pack: int = 1,
    order_multiple: int = 1,
    *,
    resolve: bool = True,
    minimum_order_up_to: float | None = 0.0,
    max_inventory_position: float | None = None,
    tolerance: float = 0.005,
) -> RoundedPolicy:
    r"""(R,S) policy whose orders are rounded to packs and MOQ, ``S`` solved again.

    Parameters
    ----------
    demand_per_period : frozen scipy.stats distribution or dict
        I.i.d. demand per period [units per period].
    review_periods : int
        ``R`` >= 1 [periods].
    lead_time_periods : float
        ``L`` [periods].
    service_target : float
        Target in (0, 1).
    service_type : {"fill_rate", "cycle_service_level"}
    minimum_order_quantity, case_pack, order_multiple : int
        The rounding rule [units]: each review orders ``S - IP`` rounded up to
        the step, and at least the MOQ.
    resolve : bool, default True
        Solve ``S`` again under rounding; with False keep the unrounded ``S``.
    minimum_order_up_to : float or None, default 0
        Floor on ``S`` [units].
    max_inventory_position : float, optional
        Cap on the largest post-order position ``S + M - 1`` [units].
    tolerance : float, default 0.005
        Service above target by more than this is reported as overshoot.

    Returns
    -------
    RoundedPolicy

    Notes
    -----
    Rounding up only ever raises the inventory position, so at the unrounded
    ``S`` the service can only rise; solving again lowers ``S`` by about the
    mean overshoot of the position. The evaluation is
    :func:`periodic_review_service`.
    """
    _check_service_type(service_type)
    target = check_probability("service_target", service_target)
    rule = RoundingRule(minimum_order_quantity, case_pack, order_multiple)
    r = check_integer("review_periods", review_periods, minimum=1, why=" [periods]")
    solve = order_up_to_for_fill_rate if service_type == "fill_rate" else order_up_to_for_cycle_service_level
    unrounded = solve(demand_per_period, r, lead_time_periods, target)
    protection, during, review_mean, _, lt = _periodic_demands(demand_per_period, r, lead_time_periods)
    ev = _RoundedRS(
        protection,
        during,
        sum_of_periods(demand_per_period, r),
        review_mean,
        rule,
        per_period=lambda k: sum_of_periods(demand_per_period, lt + k),
        review=r,
    )
    return _solve_rounded_rs(
        ev,
        unrounded,
        service_type,
        target,
        rule,
        resolve,
        minimum_order_up_to,
        max_inventory_position,
        tolerance,
        is_discrete(protection),
        mean(protection),
    )
