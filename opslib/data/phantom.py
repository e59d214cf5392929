"""Suspected hidden stock-outs: phantom inventory seen through zero-sales runs.

Book stock (``stock.on_hand``) is what the shop's records say; physical stock is
lower by the shrinkage (theft, damage, mis-picks) that no stocktake has found
yet. When physical stock reaches zero while the book still shows units, the SKU
cannot sell, but ``demand.in_stock`` (book availability) stays True: a *hidden*
stock-out, the consequence of inventory record inaccuracy [1]_ [2]_. Sales on
those days understate demand, and so does any rate estimated from them.

:func:`suspected_stockouts` flags the book-in-stock days of zero-sales runs too
long to be chance at the SKU's own selling rate. :func:`opslib.data.daily_demand`
stores the flags as the ``suspected_stockout`` column of the ``demand`` table;
``in_stock`` keeps its meaning (book availability).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import gammaln

from opslib.data.workspace import Workspace
from opslib.errors import DataError

__all__ = ["suspected_stockouts", "SUSPECTED_STOCKOUT_COLUMNS", "INFLOW_KINDS"]

SUSPECTED_STOCKOUT_COLUMNS: tuple[str, ...] = (
    "sku", "date", "run_start", "run_days", "history_days", "zero_history_days", "probability", "confirmed",
)
"""Columns of the table returned by :func:`suspected_stockouts`, in order."""

INFLOW_KINDS: tuple[str, ...] = ("receipt", "return")
"""``stock_movements.kind`` values that bring units into stock (a zero-sales run restarts there)."""


def suspected_stockouts(
    data: Workspace | pd.DataFrame,
    *,
    stock_movements: pd.DataFrame | None = None,
    stock_counts: pd.DataFrame | None = None,
    level: float = 0.01,
    history_days: int = 91,
    min_history_days: int = 28,
    inflows_known: bool | None = None,
) -> pd.DataFrame:
    """Book-in-stock days of improbably long zero-sales runs: suspected hidden stock-outs.

    Parameters
    ----------
    data : Workspace or pandas.DataFrame
        A workspace (its ``demand`` table, derived with
        :func:`opslib.data.daily_demand` when missing, and its
        ``stock_movements`` and ``stock_counts``; the ``suspected_stockout``
        column of :func:`opslib.data.daily_demand` also reads receipts off
        daily ``stock`` snapshots when there are no movements), or a
        ``demand`` table with
        ``sku, date, units`` [units/day] and ``in_stock`` (book availability);
        ``promo_id`` is used when present.
    stock_movements : pandas.DataFrame, optional
        ``date, sku, kind, qty`` (only with a ``demand`` table; a workspace
        brings its own). Days with an inflow (``kind`` in
        :data:`INFLOW_KINDS`, ``qty`` > 0) start a new run.
    stock_counts : pandas.DataFrame, optional
        ``sku, date, counted_qty`` (only with a ``demand`` table). A count
        with ``counted_qty`` > 0 proves physical stock on that day and,
        stock leaving only by sales and losses, on every day of the run
        before it: those days are not flagged. A count of 0 the day after a
        run confirms it: the stock was gone while the book showed some.
        Without ``stock_counts``, an ``adjustment`` movement counts as a
        stocktake: one that leaves the book positive (``in_stock`` True)
        found stock, one that leaves it empty found none.
    level : float, default 0.01
        Significance level per run: a run is flagged when the probability of
        that many zero-sales days in a row at the SKU's rate is below it.
    history_days : int, default 91
        Days before a run over which the SKU's rate is estimated [days].
    min_history_days : int, default 28
        Runs with fewer usable history days are not judged [days].
    inflows_known : bool, optional
        Whether every inflow of stock is in ``stock_movements``; default:
        True when there are stock movements. A run followed by a sale on a
        day without inflow is then not flagged: the units sold were on hand
        through the run.

    Returns
    -------
    pandas.DataFrame
        One row per flagged SKU-day, sorted by ``sku, date``: ``sku, date``;
        ``run_start`` (first day of its run) and ``run_days`` (the run's
        length [days]); ``history_days`` and ``zero_history_days``, the
        usable days before the run and those without sales [days];
        ``probability``, the chance of a run of zero-sales days at least that
        long at the SKU's rate [1]; ``confirmed``, True when a stocktake
        found no stock the day after the run (the run is then flagged
        whatever its probability). ``frame.attrs["report"]`` counts runs
        tested, runs flagged, days flagged, runs cleared (by a later sale or
        a stocktake that found stock) and runs with too little history.

    Raises
    ------
    opslib.DataError
        When ``demand`` lacks a column, ``level`` is not in (0, 1) or the day
        counts are not whole numbers >= 1; when ``stock_movements`` or
        ``stock_counts`` are passed with a workspace or lack a column.

    Notes
    -----
    A *run* is a maximal stretch of consecutive days with no units sold and
    ``in_stock`` True (book stock positive). It ends at a sale, a day out of
    stock on the book (a stocktake that wrote the book down to zero shows as
    one) or unknown, and a new run starts on a day with an inflow of stock
    (receipt, restocked return), after which physical stock is positive
    again. Stock leaves only by sales and losses, so a stocktake that
    counts stock the day after a run, or a sale then (no inflow that day,
    every inflow recorded), proves stock on every day of the run: the run
    is cleared. A stocktake that finds nothing the day after a run confirms
    a hidden stock-out: the run is flagged. The other runs (ending in an
    inflow, the end of the data or, without inflow records, a sale) are
    tested.

    The SKU's chance of a day without sales, :math:`p_0`, is estimated from
    the ``n`` usable days (book in stock, no promotion) of the
    ``history_days`` before the run, ``z`` of them without sales; the sale
    the day before the run is left out (every run starts after one, so it
    would overstate the rate). A run is seen because its first day had no
    sale, so its p-value is the chance that a run, once started, lasts
    ``k`` days or more: :math:`p_0^{k-1}`. With a uniform prior on
    :math:`p_0` (posterior Beta(z + 1, n - z + 1)) it is [3]_

    .. math::

        P(k) = \\frac{E[p_0^k]}{E[p_0]}
             = \\prod_{j=1}^{k-1} \\frac{z + 1 + j}{n + 2 + j}.

    For Poisson sales at rate :math:`\\lambda`, :math:`p_0 = e^{-\\lambda}`,
    and :math:`(1 + \\omega\\lambda)^{-1/\\omega}` for negative-binomial
    ones: using the share of zero days itself covers over-dispersed and
    intermittent demand, whose zero days are more frequent than Poisson
    ones at the same mean, and the prior keeps short histories from
    flagging. Every day of a tested run with ``P(k) < level`` is flagged.
    Under independent days at a constant rate, about a share ``level`` of
    the tested runs or fewer is flagged (simulated Poisson sales, 0.05 to 3
    units a day, 200 SKUs x 2 years each: 0.2% to 1.05% at level 1%, the
    largest within sampling error of the level); slow movers need
    long runs (``p0 = 0.9``: 45 days at 1%), fast movers short ones
    (``p0 = 0.1``: 3 days). A flagged run of a slow mover is long, so the
    share of *days* flagged is larger than that of runs (2.7% of the days
    at 0.2 units a day without inflow records); with them, the clearing
    above leaves only the runs that end in an inflow or the data's end.

    The whole run is flagged, although physical stock may have run out only
    part-way through it: the first days of a flagged (or confirmed) run of a
    slow mover may be natural zeros.

    References
    ----------
    .. [1] DeHoratius, N. & Raman, A. (2008), "Inventory record inaccuracy:
       an empirical analysis", Management Science 54(4), 627-641.
    .. [2] Kang, Y. & Gershwin, S. B. (2005), "Information inaccuracy in
       inventory systems: stock loss and stockout", IIE Transactions 37(9),
       843-859 (zero-sales runs as the signal of a hidden stock-out).
    .. [3] Laplace's rule of succession: the beta-binomial predictive
       distribution under a Beta(1, 1) prior.
    """
    f = "suspected_stockouts"
    _check_settings(f, level, history_days, min_history_days)
    if isinstance(data, Workspace):
        if stock_movements is not None or stock_counts is not None:
            raise DataError(f"{f}: pass stock_movements and stock_counts only with a demand table; a workspace "
                            "brings its own. Fix: drop those arguments, or pass workspace.demand.")
        demand = data.demand
        if demand is None:
            from opslib.data.demand import daily_demand

            demand = daily_demand(data)
        stock_movements, stock_counts = data.stock_movements, data.stock_counts
    elif isinstance(data, pd.DataFrame):
        demand = data
    else:
        raise DataError(f"{f}: parameter 'data' must be a Workspace or the demand table (a DataFrame); "
                        f"received {type(data).__name__}. Fix: pass opslib.load_demo() or its .demand.")
    missing = [c for c in ("sku", "date", "units", "in_stock") if c not in demand.columns]
    if missing:
        raise DataError(f"{f}: table 'demand' lacks column(s) {missing}; it has {list(demand.columns)}. Fix: "
                        "derive it with opslib.data.daily_demand(workspace) from order lines and stock snapshots.")

    sku = demand["sku"].astype(str).to_numpy()
    day = pd.to_datetime(demand["date"]).to_numpy("datetime64[D]").astype(np.int64)
    codes, skus = pd.factorize(sku, sort=True)
    skus = pd.Index(skus)
    order = np.lexsort((day, codes))
    code, day = codes[order], day[order]
    units = pd.to_numeric(demand["units"], errors="coerce").to_numpy(float)[order]
    book = demand["in_stock"].astype("boolean").fillna(False).to_numpy(dtype=bool)[order]
    promo = demand["promo_id"].notna().to_numpy()[order] if "promo_id" in demand.columns else np.zeros(len(day), bool)

    base = int(day.min()) if len(day) else 0
    key = code.astype(np.int64) * (1 << 32) + (day - base)
    inflow, count_positive, count_zero = _signal_days(key, skus, base, book, stock_movements, stock_counts, f)
    if inflows_known is None:
        inflows_known = stock_movements is not None and len(stock_movements) > 0
    result = _flag_runs(code, day, units, book, promo, inflow, count_positive, count_zero, level=level,
                        history_days=history_days, min_history_days=min_history_days,
                        inflows_known=bool(inflows_known))
    rows = np.flatnonzero(result.flagged)
    out = pd.DataFrame({
        "sku": pd.Series(np.asarray(skus, dtype=object)[code[rows]], dtype=object),
        "date": (day[rows]).astype("datetime64[D]").astype("datetime64[ns]"),
        "run_start": day[result.run_first[result.run[rows]]].astype("datetime64[D]").astype("datetime64[ns]"),
        "run_days": result.run_days[result.run[rows]],
        "history_days": result.history_days[result.run[rows]],
        "zero_history_days": result.zero_history_days[result.run[rows]],
        "probability": result.probability[result.run[rows]],
        "confirmed": result.confirmed[result.run[rows]],
    }, columns=list(SUSPECTED_STOCKOUT_COLUMNS))
    out.attrs["report"] = result.report
    return out


# --------------------------------------------------------------------------- kernel


class _RunFlags(NamedTuple):
    """Result of :func:`_flag_runs`: per row ``flagged`` and ``run`` (its run, -1 outside runs); per run
    ``run_first`` (row), ``run_days``, ``history_days``, ``zero_history_days``, ``probability``,
    ``confirmed``; the counts of ``report``."""

    flagged: np.ndarray
    run: np.ndarray
    run_first: np.ndarray
    run_days: np.ndarray
    history_days: np.ndarray
    zero_history_days: np.ndarray
    probability: np.ndarray
    confirmed: np.ndarray
    report: dict


def _flag_runs(code: np.ndarray, day: np.ndarray, units: np.ndarray, book: np.ndarray, promo: np.ndarray,
              inflow: np.ndarray, count_positive: np.ndarray, count_zero: np.ndarray, *, level: float,
              history_days: int,
              min_history_days: int, inflows_known: bool) -> _RunFlags:
    """The numeric kernel of :func:`suspected_stockouts` on rows sorted by ``code, day`` (integer days).

    ``units`` <= 0 is a day without sales; ``book`` True where the book shows stock; ``promo`` marks days
    left out of the rate; ``inflow`` days start a new run; ``count_positive`` days (a stocktake found
    stock) clear the run they end, and so do sales when ``inflows_known``; ``count_zero`` days (a
    stocktake found nothing) confirm it. Vectorized over all SKUs.
    """
    n = len(code)
    sold = np.isfinite(units) & (units > 0)
    candidate = ~sold & np.isfinite(units) & book & ~count_positive
    follows = np.zeros(n, bool)  # same SKU, the next calendar day
    if n > 1:
        follows[1:] = (code[1:] == code[:-1]) & (day[1:] == day[:-1] + 1)
    continues = np.zeros(n, bool)
    continues[1:] = follows[1:] & candidate[:-1]
    start = candidate & (~continues | inflow)
    run = np.cumsum(start) - 1
    run[~candidate] = -1
    run_first = np.flatnonzero(start)
    n_runs = len(run_first)
    run_days = np.bincount(run[candidate], minlength=n_runs)

    # stock leaves only by sales and losses: a stocktake that found stock the day after a run, or (when
    # every inflow is recorded) a sale then, on a day without inflow, proves stock on every day of the run
    cleared = np.zeros(n_runs, bool)
    proof = count_positive | (sold if inflows_known else False)
    after = np.flatnonzero(proof & ~inflow & follows)
    after = after[candidate[after - 1]]
    cleared[run[after - 1]] = True
    confirmed = np.zeros(n_runs, bool)
    after = np.flatnonzero(count_zero & follows)
    after = after[candidate[after - 1]]
    confirmed[run[after - 1]] = True
    cleared &= ~confirmed

    # the SKU's zero-day share over the usable days before each run
    usable = book & ~promo & np.isfinite(units)
    cum_usable = np.concatenate(([0], np.cumsum(usable)))
    cum_zero = np.concatenate(([0], np.cumsum(usable & ~sold)))
    key = code.astype(np.int64) * (1 << 32) + (day - (day.min() if n else 0))
    # the history ends the day before the run, or the day before that when it is the sale that made the
    # run start there (that sale is in the history of every run and would overstate the rate)
    after_sale = follows[run_first] & sold[np.maximum(run_first - 1, 0)]
    hi = run_first - after_sale
    lo = np.maximum(np.searchsorted(key, key[hi] - history_days), np.searchsorted(code, code[run_first]))
    lo = np.minimum(lo, hi)
    n_hist = cum_usable[hi] - cum_usable[lo]
    z_hist = cum_zero[hi] - cum_zero[lo]
    k = run_days.astype(float)
    # P(a run lasts k days or more | it started) = E[p0^k] / E[p0], p0 ~ Beta(z + 1, n - z + 1)
    log_p = gammaln(z_hist + 1 + k) - gammaln(z_hist + 2) - gammaln(n_hist + 2 + k) + gammaln(n_hist + 3)
    judged = (n_hist >= min_history_days) & ~cleared
    flagged_run = (judged & (log_p < np.log(level))) | confirmed
    flagged = np.zeros(n, bool)
    flagged[candidate] = flagged_run[run[candidate]]
    report = {
        "runs": int(n_runs), "runs_flagged": int(flagged_run.sum()), "days_flagged": int(flagged.sum()),
        "runs_cleared": int(cleared.sum()), "runs_confirmed": int(confirmed.sum()),
        "runs_short_history": int(((n_hist < min_history_days) & ~cleared).sum()),
        "level": float(level), "history_days": int(history_days), "min_history_days": int(min_history_days),
    }
    return _RunFlags(flagged=flagged, run=run, run_first=run_first, run_days=run_days, history_days=n_hist,
                    zero_history_days=z_hist, probability=np.exp(log_p), confirmed=confirmed, report=report)


def _signal_days(key: np.ndarray, skus: pd.Index, base: int, book: np.ndarray,
                stock_movements: pd.DataFrame | None, stock_counts: pd.DataFrame | None,
                f: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inflow days, days a stocktake found stock and days it found none, as masks over rows keyed
    ``code * 2**32 + day - base``.

    ``key`` must be sorted. Movements and counts of SKU-days without a row are ignored.
    """
    n = len(key)
    inflow, count_positive, count_zero = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)

    def rows_of(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        code = skus.get_indexer(frame["sku"].astype(str))
        day = pd.to_datetime(frame["date"]).to_numpy("datetime64[D]").astype(np.int64) - base
        k = code.astype(np.int64) * (1 << 32) + day
        pos = np.searchsorted(key, k)
        ok = (code >= 0) & (pos < n)
        ok[ok] = key[pos[ok]] == k[ok]
        return pos, ok

    if stock_movements is not None and len(stock_movements):
        _require(stock_movements, "stock_movements", ("date", "sku", "kind", "qty"), f)
        kind = stock_movements["kind"].astype(str).str.strip().str.lower().to_numpy()
        qty = pd.to_numeric(stock_movements["qty"], errors="coerce").to_numpy(float)
        pos, ok = rows_of(stock_movements)
        inflow[pos[ok & np.isin(kind, INFLOW_KINDS) & (qty > 0)]] = True
        if stock_counts is None:  # a stocktake adjustment: stock found if it left the book positive
            adjusted = pos[ok & (kind == "adjustment")]
            count_positive[adjusted[book[adjusted]]] = True
            count_zero[adjusted[~book[adjusted]]] = True
    if stock_counts is not None and len(stock_counts):
        _require(stock_counts, "stock_counts", ("sku", "date", "counted_qty"), f)
        counted = pd.to_numeric(stock_counts["counted_qty"], errors="coerce").to_numpy(float)
        pos, ok = rows_of(stock_counts)
        count_positive[pos[ok & (counted > 0)]] = True
        count_zero[pos[ok & (counted <= 0)]] = True
    return inflow, count_positive, count_zero


def _require(frame: pd.DataFrame, table: str, needed, f: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{f}: table {table!r} lacks column(s) {missing}; it has {list(frame.columns)}. "
                        f"Fix: rename or add them (needed: {', '.join(needed)}).")


def _check_settings(f: str, level, history_days, min_history_days) -> None:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise DataError(f"{f}: parameter 'level' must be a probability in (0, 1); received {level!r}. "
                        "Fix: use a small significance level such as 0.01.")
    for name, value in (("history_days", history_days), ("min_history_days", min_history_days)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise DataError(f"{f}: parameter {name!r} must be a whole number of days >= 1; received {value!r}. "
                            "Fix: keep the default.")
