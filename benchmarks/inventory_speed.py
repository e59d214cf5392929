"""Speed of opslib.inventory.ss_optimal (Zheng-Federgruen) on 1,000 SKUs.

Poisson demand per period with means spread evenly over 1..100, h=1, p=9,
K=64 (the cost parameters of Zheng and Federgruen's 1991 test bed). Prints a
table of time per SKU by demand band. The comparison with stockpyl (in its own
virtual environment) is still to come (issue 4, benchmark 3).

Run: .venv/bin/python benchmarks/inventory_speed.py [number_of_skus]
"""

from __future__ import annotations

import sys
import time

import numpy as np
from scipy import stats

from opslib.inventory import ss_optimal


def main(n_skus: int = 1000) -> None:
    means = np.linspace(1, 100, n_skus)
    seconds = np.empty(n_skus)
    start = time.perf_counter()
    for i, mu in enumerate(means):
        t0 = time.perf_counter()
        ss_optimal(stats.poisson(mu), 1.0, 9.0, 64.0)
        seconds[i] = time.perf_counter() - t0
    total = time.perf_counter() - start
    print(f"ss_optimal, {n_skus} SKUs, Poisson means 1..100, h=1 p=9 K=64")
    print(f"{'mean band':>12} {'SKUs':>6} {'ms per SKU':>11}")
    for lo in range(0, 100, 20):
        band = (means > lo) & (means <= lo + 20)
        print(f"{f'{lo + 1}-{lo + 20}':>12} {band.sum():>6} {1000 * seconds[band].mean():>11.2f}")
    print(f"{'all':>12} {n_skus:>6} {1000 * total / n_skus:>11.2f}   total {total:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
