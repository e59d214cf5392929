"""Censoring stock-out days on the demo shop: forecast bias against the true demand (issue 3).

Run: ``.venv/bin/python benchmarks/forecast_censoring.py``. At two cut dates, ``auto`` forecasts 28
days of every demo SKU from the history up to the cut, three ways: stock-out days counted as the
zero sales they recorded (no censoring), book stock-outs censored (``in_stock`` False), and
book stock-outs plus suspected hidden stock-outs censored (``suspected_stockout``, see
:func:`opslib.data.suspected_stockouts`). Bias and WAPE are against the generator's true demand.
The hidden stock-out flags come from the demo's whole history, so runs that span a cut see a
little of the future.
"""

from __future__ import annotations

import pandas as pd

from opslib import load_demo
from opslib.data import load_ground_truth
from opslib.forecast import forecast

CUTS = ("2025-09-30", "2026-03-31")


def main() -> None:
    demand, truth = load_demo().demand, load_ground_truth()["true_demand"]
    rows = []
    for cut in map(pd.Timestamp, CUTS):
        history = demand[demand.date <= cut]
        future = truth[(truth.date > cut) & (truth.date <= cut + pd.Timedelta(days=28))]
        actual = future.groupby("sku").units.sum()
        ways = {"no censoring": (history, False),
                "in_stock False censored": (history.drop(columns="suspected_stockout"), True),
                "+ suspected hidden stock-outs": (history, True)}
        for label, (frame, censor) in ways.items():
            mean = forecast(frame, 28, model="auto", censor_stockouts=censor).groupby("sku")["mean"].sum()
            error = mean.reindex(actual.index) - actual
            rows.append({"cut": cut.date(), "history": label, "bias": error.sum() / actual.sum(),
                         "WAPE": error.abs().sum() / actual.sum()})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
