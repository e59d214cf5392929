"""Supplier scorecard: delivery punctuality, lead times, fill and rejection rates.

The lead-time distribution measured here is what the inventory engine
consumes (safety stock over the lead time): :func:`lead_time_samples` gives
the raw samples, :func:`supplier_scorecard` their mean, spread and 90th
percentile per supplier.

One lead-time sample per delivery
---------------------------------
The lines of one purchase order received on the same day share one lead time:
counting them once per line would weigh big orders more and understate the
sampling error. A *delivery* is a ``po_id`` and ``receipt_date``; its lead
time is ``receipt_date - order_date`` in days. Open lines (no
``receipt_date``) have no lead time yet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opslib.data.workspace import Workspace
from opslib.ops._common import check_choice, check_workspace, memoized, number, require, to_day, to_period

__all__ = ["lead_time_samples", "supplier_scorecard"]

_PO_COLUMNS = ["po_id", "sku", "supplier", "order_date"]


def lead_time_samples(ws: Workspace, working_days: bool = False) -> pd.DataFrame:
    """Measured supplier lead times, one row per delivery.

    Parameters
    ----------
    ws : Workspace
        The shop's tables: ``purchase_orders`` with ``receipt_date`` is
        required; ``calendar.supplier_shutdown`` when ``working_days``.
    working_days : bool, default False
        Count only the supplier's working days: the shutdown days of the
        ``calendar`` (Chinese New Year) after the order date up to the receipt
        date are not counted. Calendar days otherwise.

    Returns
    -------
    pandas.DataFrame
        Columns ``supplier``, ``po_id``, ``order_date``, ``receipt_date``,
        ``lines`` (PO lines in the delivery) and ``lead_time_days`` [days],
        sorted by supplier and order date.

    Raises
    ------
    opslib.DataError
        If a table or column is missing.
    """
    check_workspace(ws, "lead_time_samples")
    po = require(ws, "purchase_orders", _PO_COLUMNS + ["receipt_date"], "lead_time_samples")
    frame = pd.DataFrame(
        {
            "supplier": po["supplier"].astype("str").array,
            "po_id": po["po_id"].astype("str").array,
            "order_date": to_day(po["order_date"]).array,
            "receipt_date": to_day(po["receipt_date"]).array,
        }
    ).dropna(subset=["receipt_date", "order_date"])
    out = frame.groupby(["supplier", "po_id", "receipt_date"], as_index=False, sort=False).agg(
        order_date=("order_date", "min"), lines=("po_id", "size")
    )
    days = (out["receipt_date"] - out["order_date"]).dt.days.astype(float)
    if working_days:
        cal = require(ws, "calendar", ["date", "supplier_shutdown"], "lead_time_samples(working_days=True)")
        shut = np.sort(to_day(cal.loc[cal["supplier_shutdown"].fillna(False).astype(bool).to_numpy(), "date"]).to_numpy())
        # shutdown days in (order_date, receipt_date]
        days = days - (
            np.searchsorted(shut, out["receipt_date"].to_numpy(), side="right")
            - np.searchsorted(shut, out["order_date"].to_numpy(), side="right")
        )
    out["lead_time_days"] = days
    cols = ["supplier", "po_id", "order_date", "receipt_date", "lines", "lead_time_days"]
    return out[cols].sort_values(["supplier", "order_date", "po_id"], kind="stable").reset_index(drop=True)


def supplier_scorecard(ws: Workspace, freq: str | None = None, working_days: bool = False) -> pd.DataFrame:
    """Delivery performance per supplier, overall or per period.

    Parameters
    ----------
    ws : Workspace
        The shop's tables: ``purchase_orders`` with ``receipt_date``,
        ``qty_ordered``; ``expected_date``, ``qty_received`` and
        ``qty_rejected`` are used when present (else their measures are NaN).
    freq : {None, "M", "Q", "Y"}, default None
        ``None``: one row per supplier over the whole history. Otherwise one
        row per supplier and period of the receipt date (the trend); open
        lines then appear only in the overall scorecard.
    working_days : bool, default False
        Lead times in supplier working days (see :func:`lead_time_samples`).

    Returns
    -------
    pandas.DataFrame
        ``supplier`` (and ``period``), ``lines`` (PO lines), ``open_lines``
        (not received yet), ``received_lines``, ``deliveries``;
        ``on_time_rate`` [fraction]: received lines with ``receipt_date <=
        expected_date``; ``lead_time_mean_days``, ``lead_time_std_days``
        (sample standard deviation) and ``lead_time_p90_days`` [days] over
        deliveries; ``qty_ordered``, ``qty_received``, ``qty_rejected``
        [units] of received lines; ``fill_rate`` [fraction]: accepted over
        ordered units; ``rejected_rate`` [fraction]: rejected over delivered
        (accepted plus rejected) units.

    Raises
    ------
    opslib.DataError
        If a table or column is missing.

    Notes
    -----
    ``qty_received`` is the quantity accepted into stock; a line delivered
    short is closed short, so the fill rate is over received lines only. The
    90th percentile interpolates linearly between order statistics.
    """
    check_workspace(ws, "supplier_scorecard")
    check_choice("freq", freq, (None, "M", "Q", "Y"))
    sources = (ws.purchase_orders, ws.calendar if working_days else None)
    out = memoized(("supplier_scorecard", freq, bool(working_days)), sources, lambda: _scorecard(ws, freq, working_days))
    return out.copy(deep=False)


def _scorecard(ws: Workspace, freq: str | None, working_days: bool) -> pd.DataFrame:
    po = require(ws, "purchase_orders", _PO_COLUMNS + ["receipt_date", "qty_ordered"], "supplier_scorecard")
    lines = pd.DataFrame(
        {
            "supplier": po["supplier"].astype("str").array,
            "receipt_date": to_day(po["receipt_date"]).array,
            "qty_ordered": number(po["qty_ordered"]),
        }
    )
    for col in ("qty_received", "qty_rejected"):
        lines[col] = number(po[col]) if col in po.columns else np.nan
    expected = to_day(po["expected_date"]) if "expected_date" in po.columns else pd.Series(pd.NaT, index=po.index)
    lines["on_time"] = (lines["receipt_date"] <= expected.to_numpy()).astype(float)
    lines.loc[expected.isna().to_numpy(), "on_time"] = np.nan
    lines["received"] = lines["receipt_date"].notna()
    lines.loc[~lines["received"], ["on_time", "qty_received", "qty_rejected"]] = np.nan
    samples = lead_time_samples(ws, working_days)
    keys = ["supplier"]
    if freq is not None:
        lines["period"] = to_period(lines["receipt_date"], freq)
        samples["period"] = to_period(samples["receipt_date"], freq)
        lines = lines[lines["received"].to_numpy()]
        keys = ["supplier", "period"]

    received = lines[lines["received"].to_numpy()]
    out = lines.groupby(keys, sort=True).agg(lines=("supplier", "size"), received_lines=("received", "sum"))
    out["open_lines"] = out["lines"] - out["received_lines"]
    rec = received.groupby(keys, sort=True).agg(
        on_time_rate=("on_time", "mean"),
        qty_ordered=("qty_ordered", "sum"),
        qty_received=("qty_received", lambda s: s.sum(min_count=1)),
        qty_rejected=("qty_rejected", lambda s: s.sum(min_count=1)),
    )
    by_key = samples.groupby(keys, sort=True)["lead_time_days"]
    lt = by_key.agg(deliveries="size", lead_time_mean_days="mean", lead_time_std_days="std")
    lt["lead_time_p90_days"] = by_key.quantile(0.9, interpolation="linear")  # as numpy's default
    out = out.join(rec).join(lt)
    out["deliveries"] = out["deliveries"].fillna(0)
    out["fill_rate"] = out["qty_received"] / out["qty_ordered"].where(out["qty_ordered"] > 0)
    delivered = out["qty_received"] + out["qty_rejected"]
    out["rejected_rate"] = out["qty_rejected"] / delivered.where(delivered > 0)
    for col in ("lines", "received_lines", "open_lines", "deliveries"):
        out[col] = out[col].astype("int64")
    cols = [
        "lines", "open_lines", "received_lines", "deliveries", "on_time_rate", "lead_time_mean_days",
        "lead_time_std_days", "lead_time_p90_days", "qty_ordered", "qty_received", "qty_rejected",
        "fill_rate", "rejected_rate",
    ]
    return out[cols].reset_index()
