"""Shared fixtures: a small hand-made shop whose numbers are computed by hand.

The shop (all in January 2024; the 1st is a Monday, weeks end on Sunday):

items: A1 Earbuds (audio, 100), A2 Cable (audio, 50), K1 Mug (kitchen, 20),
K2 Kettle (kitchen, 200, never sold).

order lines, per week ending
  2024-01-07: A1 2 units 180, K1 1 unit 20, A2 3 units 150  -> 6 units, 350
  2024-01-14: A1 1 unit 100, K1 5 units 90                  -> 6 units, 190
  2024-01-21: A1 1 unit 90 + 2 units 200 (same day)         -> 3 units, 290
  total 15 units, 830; audio 9 units, 720; kitchen 6 units, 110.

stock (end-of-day on-hand; K1 has two locations, summed per day)
  A1: 5, 0, 0, 3 on Jan 1-4     -> 4 days tracked, 2 out
  A2: 4, 4, 0 on Jan 1-3        -> 3 days tracked, 1 out
  K1: 0+2, 0+0 on Jan 1-2       -> 2 days tracked, 1 out
  all: 4 out of 9 days; audio 3 of 7; kitchen 1 of 2.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from opslib.data import Workspace

REPO = Path(__file__).resolve().parents[1]


def small_tables() -> dict[str, pd.DataFrame]:
    """The tables of the small shop (fresh frames on every call)."""
    items = pd.DataFrame(
        {
            "sku": ["A1", "A2", "K1", "K2"],
            "unit_cost": [60.0, 20.0, 8.0, 120.0],
            "price": [100.0, 50.0, 20.0, 200.0],
            "name": ["Earbuds", "Cable", "Mug", "Kettle"],
            "category": ["audio", "audio", "kitchen", "kitchen"],
        }
    )
    order_lines = pd.DataFrame(
        {
            "order_id": ["o1", "o1", "o2", "o3", "o4", "o5", "o6"],
            "order_ts": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-01 10:00",
                    "2024-01-03 15:30",
                    "2024-01-08 09:00",
                    "2024-01-09 12:00",
                    "2024-01-15 18:00",
                    "2024-01-15 20:00",
                ]
            ),
            "sku": ["A1", "K1", "A2", "A1", "K1", "A1", "A1"],
            "qty": [2, 1, 3, 1, 5, 1, 2],
            "paid_amount": [180.0, 20.0, 150.0, 100.0, 90.0, 90.0, 200.0],
        }
    )
    stock = pd.DataFrame(
        {
            "sku": ["A1"] * 4 + ["A2"] * 3 + ["K1"] * 4,
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
                + ["2024-01-01", "2024-01-02", "2024-01-03"]
                + ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02"]
            ),
            "on_hand": [5.0, 0.0, 0.0, 3.0, 4.0, 4.0, 0.0, 0.0, 2.0, 0.0, 0.0],
            "location": ["main"] * 7 + ["north", "south", "north", "south"],
        }
    )
    return {"items": items, "order_lines": order_lines, "stock": stock}


@pytest.fixture
def small_ws() -> Workspace:
    """The small shop with items, order lines and stock snapshots."""
    return Workspace(**small_tables(), name="small shop")


@pytest.fixture
def small_folder(tmp_path) -> Path:
    """The small shop written as one CSV per table in a temporary folder."""
    folder = tmp_path / "small_shop"
    folder.mkdir()
    for name, table in small_tables().items():
        table.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _isolated_workspace_cache(tmp_path_factory):
    """Tests (and the kernels and servers they start) cache loaded workspaces in a fresh
    folder, never in the user's ~/.cache/opslib: each run starts cold and leaves no trace."""
    import os

    previous = os.environ.get("OPSLIB_CACHE_DIR")
    os.environ["OPSLIB_CACHE_DIR"] = str(tmp_path_factory.mktemp("opslib-cache"))
    yield
    if previous is None:
        os.environ.pop("OPSLIB_CACHE_DIR", None)
    else:
        os.environ["OPSLIB_CACHE_DIR"] = previous
