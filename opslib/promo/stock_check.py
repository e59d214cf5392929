"""Inventory check of a simulated promotion: stock-out risk, the extra order and by when, the flash cap.

Issue 5, ROI simulation, "inventory check". For every promoted SKU of a
:class:`opslib.promo.SimulationResult`, :func:`stock_check` sets the
promotion-window demand drawn by the simulation (realized units, count noise
included) against the stock the SKU will have when the promotion starts:

* **available at the start** ``A``: today's ``on_hand`` (less ``backorders``,
  which are owed), minus the baseline demand of the days until the start,
  plus the open purchase orders that arrive by the start day (day by day;
  stock never goes below zero: a sale that finds no stock is lost);
* **P(stock-out during the promotion)** ``= P(D > A)``, the share of draws
  whose window demand ``D`` exceeds ``A``;
* **the extra quantity to order** to reach the service level ``alpha``:
  ``F^{-1}(alpha) - A`` with ``F`` the empirical distribution of the draws
  (the inverse cdf of :func:`opslib.inventory.quantile`), whole units, rounded up to the case
  pack and MOQ of the item (:func:`opslib.inventory.round_order_quantity`);
  the **latest order date** is the last day an order placed with the lead time
  still arrives by the start, flagged when it is already past;
* **the flash-sale cap** as a newsvendor quantity on the empirical window
  demand (:func:`opslib.inventory.newsvendor`, its critical fractile of the
  draws counted in whole draws): underage ``c_u`` = the
  promotion unit margin (price paid less unit cost, discount after funding),
  overage ``c_o`` = what a unit committed to the promotion and left over
  costs: ``unit_cost (1 - salvage_rate)`` plus holding for
  ``leftover_holding_days``;
* **the post-promotion reorder adjustment**: the expected dip units after the
  window (pull-forward), which the next regular order should subtract, and
  the expected units left over after the window.

Lead times are counted in supplier working days, as everywhere in opslib
(:func:`opslib.ops.lead_time_samples` with ``working_days=True``,
:func:`opslib.inventory.simulate_inventory`, :func:`opslib.inventory.order_suggestions`):
the days of the workspace's ``calendar`` flagged ``supplier_shutdown`` (the
Spring Festival stop) do not count. An order placed on day ``o`` with a lead
time of ``L`` days arrives on the ``L``-th working day after ``o``; the
latest order date is the last day with ``L`` working days between it (not
included) and the start (included), and open purchase orders without an
expected date arrive ``L`` working days after their order date. Measured
lead times are then the receipts' working days. Without shutdown days every
day is a working day, and the dates are the start minus the lead time.

The window demand of each SKU comes from the draws themselves. A result of a
one-SKU plan carries them in ``draws["window_units"]``; a result of several
SKUs keeps only their total per draw, so the :class:`opslib.promo.Simulator`
that produced it is passed and each SKU is simulated alone on it: the random
streams depend on the seed and the SKU only (common random numbers), so these
are the very draws of the result (checked against its per-SKU quantiles).

References
----------
.. [1] Arrow, K. J., Harris, T. and Marschak, J. (1951). Optimal inventory
   policy. *Econometrica* 19(3):250-272 (the critical fractile).
.. [2] Snyder, L. V. and Shen, Z.-J. M. (2019). *Fundamentals of Supply Chain
   Theory*, 2nd ed. Wiley. Section 4.3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from opslib.data.workspace import Workspace
from opslib.errors import DataError
from opslib.inventory import newsvendor, round_order_quantity, supplier_lead_times
from opslib.inventory.policy import MIN_LEAD_TIME_SAMPLES
from opslib.promo.simulate import SimulationResult, Simulator

__all__ = ["STOCK_CHECK_COLUMNS", "stock_check"]

STOCK_CHECK_COLUMNS: tuple[str, ...] = (
    "sku", "supplier", "on_hand", "backorders", "baseline_units_before_start", "receipts_before_start",
    "on_order_after_start", "available_at_start", "window_units_mean", "window_units_p10", "window_units_p50",
    "window_units_p90", "service_level", "window_units_at_service_level", "stockout_probability",
    "quantity_short", "case_pack", "moq", "order_quantity", "stockout_probability_after_order",
    "lead_time_days", "lead_time_source", "latest_order_date", "shutdown_days_before_start", "order_date_passed",
    "flash_sale_cap", "flash_sale_critical_ratio", "underage_cost", "overage_cost", "expected_leftover_units",
    "post_dip_days", "post_dip_units", "reorder_adjustment_units", "reason")
"""Columns of :func:`stock_check`, in order."""


def _fail(what: str, rule: str, received, fix: str):
    raise DataError(f"stock_check: {what} {rule}; received {received!r}. Fix: {fix}")


def _workspace(tables) -> Workspace:
    if isinstance(tables, Workspace):
        return tables
    if isinstance(tables, Mapping):
        known = set(Workspace.__dataclass_fields__) - {"path", "name", "load_report"}
        unknown = sorted(set(tables) - known)
        if unknown:
            _fail("parameter 'workspace_or_tables'", "names unknown table(s)", unknown,
                  f"use the canonical table names ({', '.join(sorted(known))}).")
        return Workspace(**dict(tables))
    _fail("parameter 'workspace_or_tables'", "must be a Workspace or a dict of canonical tables",
          type(tables).__name__, "pass the shop's Workspace, or {'items': ..., 'stock': ..., 'purchase_orders': ...}.")


def _column(frame: pd.DataFrame, name: str, default=np.nan) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(default, index=frame.index)


def _sku_draws(result: SimulationResult, simulator: Simulator | None) -> dict:
    """Per SKU: realized window units per draw (as simulated: flash cap included), the same without the
    flash cap (``None`` when it cannot be had), and post-dip units per draw."""
    plan = result.plan
    guard = result.guardrails.set_index("sku")
    draws = int(result.settings.get("draws", len(result.draws)))

    def dips(one: SimulationResult, sku: str) -> np.ndarray:
        unit_margin = float(guard.at[sku, "price"] * guard.at[sku, "margin_rate"])
        post = one.draws["post_dip"].to_numpy(float)
        if unit_margin > 0:
            return -post / unit_margin
        return np.full(len(post), np.nan)  # the dip is valued at the regular margin: zero margin hides its units

    out = {}
    if len(plan.skus) == 1 and (simulator is None or plan.stock_cap is None):
        sku = plan.skus[0]
        units = result.draws["window_units"].to_numpy(float)
        uncapped = units if plan.stock_cap is None else None  # capped draws: the simulator redraws them
        out[sku] = (units, uncapped, dips(result, sku))
        return out
    if simulator is None:
        _fail("parameter 'simulator'", f"is needed for a result of {len(plan.skus)} SKUs (the result keeps only "
              "their total window units per draw)", None,
              "pass simulator=the Simulator that produced the result (simulate builds one per call: "
              "Simulator(response, baseline, items, draws=..., seed=...) with the same arguments).")
    if not isinstance(simulator, Simulator):
        _fail("parameter 'simulator'", "must be an opslib.promo.Simulator", type(simulator).__name__,
              "pass the Simulator that produced the result.")
    if simulator.draws != draws or simulator.seed != result.settings.get("seed", simulator.seed):
        _fail("parameter 'simulator'", "must have the draws and seed of the result",
              {"draws": simulator.draws, "seed": simulator.seed},
              f"build it with draws={draws}, seed={result.settings.get('seed')}.")
    expected = result.skus.set_index("sku")
    for sku in plan.skus:
        one = simulator.simulate(replace(plan, skus=(sku,)), tornado=False)
        units = one.draws["window_units"].to_numpy(float)
        p50 = float(np.percentile(units, 50))
        ref = float(expected.at[sku, "window_units_p50"])
        if not np.isclose(p50, ref, rtol=1e-9, atol=1e-9):
            _fail("parameter 'simulator'", f"does not reproduce the result's window units of SKU {sku!r} "
                  f"(median {p50:.6g} against {ref:.6g})", None,
                  "pass the Simulator built on the tables and settings that produced the result.")
        uncapped = units
        if plan.stock_cap is not None:
            uncapped = simulator.simulate(replace(plan, skus=(sku,), stock_cap=None),
                                          tornado=False).draws["window_units"].to_numpy(float)
        out[sku] = (units, uncapped, dips(one, sku))
    return out


def _pmf(values: np.ndarray) -> dict:
    """The empirical distribution of the draws as a pmf ``{value: probability}``."""
    v, counts = np.unique(values, return_counts=True)
    return dict(zip(v.tolist(), (counts / counts.sum()).tolist()))


def _inverse_cdf(values: np.ndarray, q: float) -> float:
    """Smallest draw ``x`` with ``F(x) >= q`` (numpy's ``inverted_cdf``), counted in whole draws.

    The same definition as :func:`opslib.inventory.quantile` on the pmf of the draws, without its
    round-off: there the cumulated probabilities of 10 draws reach 0.8999999999999999 at the ninth,
    so the 0.9 quantile would be the tenth draw.
    """
    ordered = np.sort(values)
    k = int(np.ceil(q * len(ordered) - 1e-9))
    return float(ordered[min(max(k, 1), len(ordered)) - 1])


def _shutdown_days(ws: Workspace) -> np.ndarray:
    """The supplier shutdown days of the workspace's calendar, sorted (``datetime64[D]``; empty without any)."""
    cal = ws.calendar
    if cal is None or "supplier_shutdown" not in cal.columns:
        return np.array([], dtype="datetime64[D]")
    if "date" not in cal.columns:
        _fail("table 'calendar'", "needs column date next to supplier_shutdown", list(cal.columns),
              "load the calendar with one row per date.")
    flags = cal["supplier_shutdown"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    days = pd.to_datetime(cal.loc[flags, "date"], errors="coerce").dropna().dt.normalize()
    return np.unique(days.to_numpy(dtype="datetime64[D]"))


_EVERY_DAY = "1111111"
"""Week mask of :func:`numpy.busday_offset`: every weekday works; only the shutdown days do not."""


def _arrival(order_day: pd.Timestamp, lead_days: int, shutdown: np.ndarray) -> pd.Timestamp:
    """The ``lead_days``-th supplier working day after ``order_day`` (``order_day`` itself for 0)."""
    if lead_days <= 0:
        return order_day
    # from a shutdown day, count from the last working day before it: the days between do not work
    day = np.busday_offset(order_day.to_datetime64().astype("datetime64[D]"), lead_days, roll="backward",
                           weekmask=_EVERY_DAY, holidays=shutdown)
    return pd.Timestamp(day)


def _latest_order_day(start: pd.Timestamp, lead_days: int, shutdown: np.ndarray) -> pd.Timestamp:
    """The last day ``o`` whose order arrives by ``start``: ``lead_days`` working days in ``(o, start]``."""
    if lead_days <= 0:
        return start
    # the lead_days-th working day counted back from the start (the start itself first, when it works)
    day = np.busday_offset(start.to_datetime64().astype("datetime64[D]"), -(lead_days - 1), roll="backward",
                           weekmask=_EVERY_DAY, holidays=shutdown)
    return pd.Timestamp(day) - pd.Timedelta(days=1)


def _measured_lead_times(ws: Workspace, working_days: bool) -> dict:
    """Measured lead times per supplier [supplier working days, whole], as
    :func:`opslib.inventory.supplier_lead_times` (at least its minimum of receipts), with the shutdown days
    taken out when ``working_days``."""
    if not working_days:
        return supplier_lead_times(ws)
    from opslib.ops import lead_time_samples

    try:
        samples = lead_time_samples(ws, working_days=True)
    except DataError:
        return {}
    out = {}
    for supplier, s in samples.groupby("supplier"):
        values = s["lead_time_days"].dropna().to_numpy(dtype=float)
        if values.size >= MIN_LEAD_TIME_SAMPLES:
            out[supplier] = np.round(values)
    return out


def _lead_times(ws: Workspace, items: pd.DataFrame, skus, service_level: float, working_days: bool) -> dict:
    """Lead time per SKU [supplier working days] and its source: measured per supplier (the receipts'
    quantile at the service level), else the item's ``lead_time_days``, else NaN."""
    measured = {}
    if ws.purchase_orders is not None and len(ws.purchase_orders) and "receipt_date" in ws.purchase_orders:
        measured = _measured_lead_times(ws, working_days)
    out = {}
    for sku in skus:
        item = items.loc[sku]
        supplier = item.get("supplier", None)
        if supplier is not None and not pd.isna(supplier) and supplier in measured:
            samples = np.sort(np.asarray(measured[supplier], float))
            lt = float(np.quantile(samples, service_level, method="inverted_cdf"))
            unit = ", supplier working days" if working_days else ""
            out[sku] = (lt, f"measured P{100 * service_level:g} of {len(samples)} receipts{unit}")
        elif not pd.isna(item.get("lead_time_days", np.nan)):
            out[sku] = (float(item["lead_time_days"]), "item")
        else:
            out[sku] = (np.nan, "none")
    return out


def stock_check(result: SimulationResult, workspace_or_tables, *, as_of=None, service_level: float = 0.95,
                simulator: Simulator | None = None, baseline: pd.DataFrame | None = None,
                salvage_rate: float = 0.0, leftover_holding_days: float = 0.0,
                holding_cost_rate_per_year: float = 0.25) -> pd.DataFrame:
    r"""Promotion demand against stock, open orders and lead time, one row per promoted SKU.

    Parameters
    ----------
    result : SimulationResult
        Of :func:`opslib.promo.simulate` (or :meth:`Simulator.simulate`).
    workspace_or_tables : Workspace or dict of pandas.DataFrame
        ``items`` (sku, price, unit_cost; optional supplier, case_pack, moq,
        lead_time_days, holding_cost_rate_per_year), ``stock`` (sku, date,
        on_hand; optional backorders) and optionally ``purchase_orders``
        (open orders have an empty ``receipt_date``; they arrive on
        ``expected_date``, else ``order_date`` plus the lead time; received
        orders give the measured lead times) and ``calendar`` (its
        ``supplier_shutdown`` days do not count as lead time).
    as_of : date-like, optional
        Today [date]; the stock snapshot used is the last one on or before
        it. Default: the last snapshot date. Must not be after the start.
    service_level : float, default 0.95
        Target probability of no stock-out during the promotion [fraction,
        in (0, 1)]; also the quantile of measured lead times used.
    simulator : Simulator, optional
        The simulator that produced ``result``; needed when the plan has
        several SKUs, and for the flash-sale cap of a plan with a
        ``stock_cap`` (whose draws are capped).
    baseline : pandas.DataFrame, optional
        ``sku, date, baseline_units`` (or ``mean``) [units/day] for the days
        between ``as_of`` and the start (a forecast with promotions masked,
        or :func:`opslib.promo.baseline_from_history`). Days it lacks take
        the SKU's mean baseline over the promotion window.
    salvage_rate : float, default 0
        Share of the unit cost recovered on a unit committed to the
        promotion and left over [fraction in [0, 1]].
    leftover_holding_days : float, default 0
        Days a leftover unit is carried before it sells [days]; holding is
        charged at the item's ``holding_cost_rate_per_year`` (else
        ``holding_cost_rate_per_year``) [1/year].
    holding_cost_rate_per_year : float, default 0.25
        Holding rate for items without their own [fraction of unit cost per
        year].

    Returns
    -------
    pandas.DataFrame
        One row per promoted SKU, columns :data:`STOCK_CHECK_COLUMNS`:
        ``on_hand``, ``backorders`` today [units];
        ``baseline_units_before_start`` (the days after ``as_of`` and before
        the start), ``receipts_before_start`` (open orders arriving by the
        start day), ``on_order_after_start`` [units];
        ``available_at_start`` ``A`` [units]; window demand
        ``window_units_mean, _p10, _p50, _p90`` and
        ``window_units_at_service_level`` [units];
        ``stockout_probability`` ``P(D > A)``; ``quantity_short`` [units,
        whole] and ``order_quantity`` (rounded up to ``case_pack`` and
        ``moq``) with ``stockout_probability_after_order``;
        ``lead_time_days`` [supplier working days] and
        ``lead_time_source``; ``latest_order_date`` (the last day an order
        arrives by the start: the start minus the lead time, shutdown days
        not counted), ``shutdown_days_before_start`` (supplier shutdown
        days after the latest order date up to the start, which the lead
        time skips) [days] and ``order_date_passed`` (before ``as_of``);
        ``flash_sale_cap`` [units, whole], ``flash_sale_critical_ratio``, ``underage_cost`` and
        ``overage_cost`` [currency/unit]; ``expected_leftover_units``
        ``E[(A - D)+]`` [units]; ``post_dip_days`` [days],
        ``post_dip_units`` (expected) and ``reorder_adjustment_units`` (the
        same, rounded: subtract it from the next order) [units]; ``reason``
        in words.

    Raises
    ------
    opslib.DataError
        A result that is not a SimulationResult, missing tables or columns,
        an ``as_of`` after the start, a service level outside (0, 1), bad
        cost settings, a multi-SKU result without its simulator.

    Notes
    -----
    With ``D_k`` the window units of draw ``k`` (``n`` draws) and ``F`` their
    empirical distribution::

        P(stock-out)     = #{k : D_k > A} / n
        short            = ceil(F^{-1}(alpha) - A)+,  F^{-1}(q) = min{x : F(x) >= q}
        flash cap        = ceil(F^{-1}(c_u / (c_u + c_o)))             (newsvendor [1]_ [2]_)
        c_u = promo unit margin,  c_o = c (1 - salvage_rate) + c h t / 365

    After ordering ``short`` the stock-out probability is at most
    ``1 - alpha``. The projection before the start uses the expected
    baseline (no pre-promotion dip: conservative), and lost sales. With
    ``W(a, b)`` the supplier working days in ``(a, b]`` (days not flagged
    ``supplier_shutdown``; days beyond the calendar work) and ``L`` the lead
    time rounded up::

        latest order date               = max{o : W(o, start) >= L}
        arrival of an order placed on o = min{a : W(o, a) >= L}
    """
    if not isinstance(result, SimulationResult):
        _fail("parameter 'result'", "must be a SimulationResult", type(result).__name__,
              "pass the result of opslib.promo.simulate(plan, ...).")
    for name, value, low, high in (("service_level", service_level, 0.0, 1.0), ("salvage_rate", salvage_rate, 0, 1)):
        ok = isinstance(value, (int, float, np.floating)) and np.isfinite(value)
        ok = ok and (low < value < high if name == "service_level" else low <= value <= high)
        if not ok:
            _fail(f"parameter {name!r}", f"must be a fraction in {'(0, 1)' if name == 'service_level' else '[0, 1]'}",
                  value, f"pass e.g. {name}={0.95 if name == 'service_level' else 0.0}.")
    for name, value in (("leftover_holding_days", leftover_holding_days),
                        ("holding_cost_rate_per_year", holding_cost_rate_per_year)):
        if not isinstance(value, (int, float, np.floating)) or not np.isfinite(value) or value < 0:
            _fail(f"parameter {name!r}", "must be a number >= 0", value, "keep the default.")
    ws = _workspace(workspace_or_tables)
    plan = result.plan
    start = plan.start

    items = ws.items
    if items is None or not {"sku", "price", "unit_cost"} <= set(items.columns):
        _fail("table 'items'", "needs columns sku, price, unit_cost", None if items is None else list(items.columns),
              "pass the items table of the workspace.")
    items = items.assign(sku=items["sku"].astype(str)).drop_duplicates("sku").set_index("sku", drop=False)
    missing = [s for s in plan.skus if s not in items.index]
    if missing:
        _fail("table 'items'", "has no row for promoted SKU(s)", missing[:5], "check the SKU codes.")
    stock = ws.stock
    if stock is None or not {"sku", "date", "on_hand"} <= set(stock.columns):
        _fail("table 'stock'", "needs columns sku, date, on_hand", None if stock is None else list(stock.columns),
              "load the stock snapshot (one row per SKU and date).")
    stock = stock.assign(sku=stock["sku"].astype(str), date=pd.to_datetime(stock["date"]).dt.normalize())
    bad = ~np.isfinite(pd.to_numeric(stock["on_hand"], errors="coerce").to_numpy(float))
    if bad.any():
        _fail("table 'stock', column 'on_hand'", "must be a number on every row",
              stock.loc[bad].head(5).to_dict("records"), "fill or drop the rows without a count.")
    try:
        today = stock["date"].max() if as_of is None else pd.Timestamp(as_of).normalize()
    except (TypeError, ValueError):
        _fail("parameter 'as_of'", "must be a date", as_of, "pass a date like '2024-06-01'.")
    if pd.isna(today):
        _fail("table 'stock'", "has no rows", 0, "load the stock snapshot.")
    if today > start:
        _fail("parameter 'as_of'", f"is after the promotion start {start.date()}", str(today.date()),
              "check stock before the promotion starts (as_of on or before the start).")
    snap = stock[stock["date"] <= today].sort_values("date").groupby("sku").tail(1).set_index("sku")

    per_sku = _sku_draws(result, simulator)
    shutdown = _shutdown_days(ws)
    lead = _lead_times(ws, items, plan.skus, service_level, working_days=len(shutdown) > 0)

    # open purchase orders: qty still to come, arrival date
    receipts: dict[str, list] = {s: [] for s in plan.skus}
    po = ws.purchase_orders
    if po is not None and len(po):
        need = {"sku", "order_date", "qty_ordered"}
        if not need <= set(po.columns):
            _fail("table 'purchase_orders'", f"needs columns {sorted(need)}", list(po.columns),
                  "load the purchase orders with their canonical columns.")
        open_ = po[_column(po, "receipt_date").isna() & (pd.to_datetime(po["order_date"]) <= today)]
        open_ = open_[open_["sku"].astype(str).isin(plan.skus)]
        qty = (open_["qty_ordered"] - _column(open_, "qty_received", 0.0).fillna(0)).clip(lower=0)
        expected = pd.to_datetime(_column(open_, "expected_date", pd.NaT))
        for sku, order_date, eta, q in zip(open_["sku"].astype(str), pd.to_datetime(open_["order_date"]), expected,
                                          qty):
            if pd.isna(eta):
                lt = lead[sku][0]
                eta = (_arrival(order_date.normalize(), int(np.ceil(lt)), shutdown) if np.isfinite(lt)
                       else pd.NaT)
            receipts[sku].append((pd.Timestamp(eta).normalize() if not pd.isna(eta) else pd.NaT, float(q)))

    # baseline per day from today to the day before the start
    days_before = pd.date_range(today + pd.Timedelta(days=1), start - pd.Timedelta(days=1), freq="D")
    window_daily = result.skus.set_index("sku")["baseline_units"] / plan.days
    daily = pd.DataFrame({s: np.full(len(days_before), float(window_daily[s])) for s in plan.skus},
                         index=days_before)
    if baseline is not None and len(days_before):
        col = next((c for c in ("baseline_units", "mean", "units") if c in getattr(baseline, "columns", [])), None)
        if col is None or "sku" not in baseline.columns or "date" not in baseline.columns:
            _fail("parameter 'baseline'", "needs columns sku, date, baseline_units (or mean)",
                  list(getattr(baseline, "columns", [])), "pass baseline_from_history(...) or a forecast.")
        b = baseline.assign(sku=baseline["sku"].astype(str), date=pd.to_datetime(baseline["date"]).dt.normalize())
        b = b[b["sku"].isin(plan.skus) & b["date"].isin(days_before)]
        values = b[col].to_numpy(float)
        if np.any(~np.isfinite(values) | (values < 0)):
            _fail("parameter 'baseline'", f"column {col!r} must be >= 0", b.loc[~(values >= 0)].head(5)
                  .to_dict("records"), "fill missing days.")
        grid = b.pivot_table(index="date", columns="sku", values=col, aggfunc="sum")
        daily.update(grid)

    guard = result.guardrails.set_index("sku")
    post_days = int(result.settings.get("post_dip_days", 0))
    rows = []
    for sku in plan.skus:
        item = items.loc[sku]
        notes = []
        if sku in snap.index:
            on_hand = float(snap.at[sku, "on_hand"])
            backorders = float(snap.at[sku, "backorders"]) if "backorders" in snap.columns and pd.notna(
                snap.at[sku, "backorders"]) else 0.0
        else:
            on_hand, backorders = 0.0, 0.0
            notes.append(f"no stock row on or before {today.date()}: counted as 0 on hand")
        lt, lt_source = lead[sku]
        # day by day to the start: receipts in the morning, then baseline demand (lost sales)
        level = on_hand - backorders
        arrivals = receipts[sku]
        unknown = sum(q for eta, q in arrivals if pd.isna(eta))
        overdue = sum(q for eta, q in arrivals if not pd.isna(eta) and eta <= today)
        level += overdue
        demand_before = daily[sku].to_numpy(float)
        for day, d in zip(days_before, demand_before):
            level += sum(q for eta, q in arrivals if not pd.isna(eta) and eta == day)
            level = max(level - d, 0.0)
        at_start = sum(q for eta, q in arrivals if not pd.isna(eta) and eta == start and today < start)
        available = max(level, 0.0) + at_start
        received = overdue + sum(q for eta, q in arrivals if not pd.isna(eta) and today < eta <= start)
        later = sum(q for eta, q in arrivals if not pd.isna(eta) and eta > start) + unknown
        if overdue:
            notes.append(f"{overdue:g} units on overdue purchase orders counted as arriving now")
        if unknown:
            notes.append(f"{unknown:g} units on order without an expected date and no lead time: not counted")

        units, uncapped, dip_draws = per_sku[sku]
        at_level = _inverse_cdf(units, service_level)
        p_out = float(np.mean(units > available))
        short = float(max(np.ceil(at_level - available - 1e-9), 0.0))
        pack = item.get("case_pack", 1)
        moq = item.get("moq", 0)
        pack = int(pack) if pd.notna(pack) and pack >= 1 else 1
        moq = int(moq) if pd.notna(moq) and moq >= 0 else 0
        order = float(round_order_quantity(short, minimum_order_quantity=moq, case_pack=pack))
        p_after = float(np.mean(units > available + order))
        if np.isfinite(lt):
            latest = _latest_order_day(start, int(np.ceil(lt)), shutdown)
            stopped = int(np.count_nonzero((shutdown > latest.to_datetime64())
                                           & (shutdown <= start.to_datetime64())))
        else:
            latest, stopped = pd.NaT, 0
        passed = bool(pd.notna(latest) and latest < today)
        leftover = float(np.mean(np.maximum(available - units, 0.0)))

        # flash-sale cap: newsvendor on the uncapped window demand
        unit_cost = float(item["unit_cost"])
        under = float(guard.at[sku, "promo_unit_margin"])
        h_rate = item.get("holding_cost_rate_per_year", np.nan)
        h_rate = float(h_rate) if pd.notna(h_rate) else float(holding_cost_rate_per_year)
        over = unit_cost * (1 - salvage_rate) + unit_cost * h_rate * leftover_holding_days / 365.0
        cap, ratio = np.nan, np.nan
        if uncapped is None:
            notes.append("flash-sale cap not sized: the draws are capped by the plan's stock_cap; pass the "
                         "simulator to draw the uncapped demand")
        elif under <= 0:
            cap, ratio = 0.0, 0.0
            notes.append(f"flash-sale cap 0: each promoted unit loses {-under:.2f} (promotion unit margin)")
        elif over <= 0:
            cap, ratio = float(np.ceil(np.max(uncapped) - 1e-9)), 1.0
            notes.append("a leftover unit costs nothing (salvage 100%, no holding): the cap is the highest draw")
        else:
            nv = newsvendor(_pmf(uncapped), holding_cost=over, stockout_cost=under)
            ratio = float(nv.critical_ratio)
            cap = float(np.ceil(_inverse_cdf(uncapped, ratio) - 1e-9))
        dip = float(np.mean(dip_draws)) if np.all(np.isfinite(dip_draws)) else np.nan
        adjustment = float(np.floor(dip + 0.5)) if np.isfinite(dip) else np.nan  # half up

        reason = [f"P(stock-out) {p_out:.0%}: {available:.0f} units at the start (on hand {on_hand:g}"
                  + (f" - backorders {backorders:g}" if backorders else "")
                  + f" - baseline {demand_before.sum():.0f} before the start + {received:g} arriving by the start)"
                  f" against window demand P50 {np.percentile(units, 50):.0f}, "
                  f"P{100 * service_level:g} {at_level:.0f}"]
        if short > 0:
            skipped = f"; {stopped} supplier shutdown day(s) before the start do not count" if stopped else ""
            words = f"order {order:g}" + (f" (short {short:g}, rounded to case pack {pack}, MOQ {moq})"
                                          if order != short else "")
            if pd.isna(latest):
                words += " - lead time unknown (no item lead_time_days and too few receipts)"
            elif passed:
                words += (f" - the latest order date {latest.date()} (lead time {lt:g} days{skipped}) has passed: "
                          f"an order today arrives about {_arrival(today, int(np.ceil(lt)), shutdown).date()}, into "
                          "or after the promotion; expedite or lower the cap")
            else:
                words += f" by {latest.date()} (lead time {lt:g} days, {lt_source}{skipped})"
            reason.append(words)
        else:
            reason.append(f"no extra order needed for {service_level:.0%}")
        if np.isfinite(cap):
            reason.append(f"flash-sale cap {cap:g} (critical ratio {ratio:.2f}: margin {under:.2f} per unit sold, "
                          f"{over:.2f} per unit left over)")
        if post_days and np.isfinite(dip):
            reason.append(f"next order: subtract {adjustment:g} units for the post-promotion dip over "
                          f"{post_days} days")
        if later:
            reason.append(f"{later:g} units on order arrive after the start (not counted)")
        rows.append({
            "sku": sku, "supplier": item.get("supplier", None), "on_hand": on_hand, "backorders": backorders,
            "baseline_units_before_start": float(demand_before.sum()), "receipts_before_start": float(received),
            "on_order_after_start": float(later), "available_at_start": float(available),
            "window_units_mean": float(np.mean(units)), "window_units_p10": float(np.percentile(units, 10)),
            "window_units_p50": float(np.percentile(units, 50)), "window_units_p90": float(np.percentile(units, 90)),
            "service_level": float(service_level), "window_units_at_service_level": at_level,
            "stockout_probability": p_out, "quantity_short": short, "case_pack": pack, "moq": moq,
            "order_quantity": order, "stockout_probability_after_order": p_after, "lead_time_days": lt,
            "lead_time_source": lt_source, "latest_order_date": latest, "shutdown_days_before_start": stopped,
            "order_date_passed": passed, "flash_sale_cap": cap, "flash_sale_critical_ratio": ratio,
            "underage_cost": under, "overage_cost": over,
            "expected_leftover_units": leftover, "post_dip_days": post_days, "post_dip_units": dip,
            "reorder_adjustment_units": adjustment, "reason": "; ".join(reason + notes)})
    return pd.DataFrame(rows, columns=list(STOCK_CHECK_COLUMNS))
