"""Speed of opslib.inventory against stockpyl (issue 4, benchmark 3).

1. Zheng-Federgruen (s,S): ``opslib.inventory.ss_optimal`` against
   ``stockpyl.ss.s_s_discrete_exact`` on the same 1,000 SKUs: Poisson demand
   per period with means spread evenly over 1..100, h=1, p=9, K=64 (the cost
   parameters of Zheng and Federgruen's 1991 test bed), lead time 0. Policies
   are compared SKU by SKU (s and S must be identical).
2. One year of an (s,S) policy (daily review, lead time 0, backorders):
   ``opslib.inventory.simulate_inventory`` (vectorized, all SKUs x paths at
   once) against ``stockpyl.sim.simulation`` on a single-stage network, one
   SKU-year per call, on a few SKUs. Compared per simulated SKU-day (one path
   of one SKU for one day); opslib's warm-up days are simulated but not
   counted, which only understates its speed.

stockpyl runs in its own virtual environment, ``benchmarks/.peer-venv-inv``
(created here on first run, gitignored), in a subprocess. stockpyl's optimizer
takes one to three seconds per SKU (about 20 min for all 1,000 on two
cores), so by default it gets every 10th SKU (100 SKUs spread evenly over the
means; ``--stockpyl-every 1`` for all 1,000). Both are timed one SKU at a
time in one process; ``--workers N`` spreads stockpyl's SKUs over N processes
(its time is then the sum of the per-SKU times, inflated by contention).

3. ``--large``: the scale target, 10,000 SKUs x 365 days x 100 paths of the
   same (s,S) simulation (the 1,000 optimal policies, each used by ten SKUs),
   timed in one call with the default ``workers`` (threads over the engine's
   fixed blocks of paths: the CPU count, at most 4), with the process's peak
   memory, then again with ``workers=1`` (same seed: the results must be
   identical, which is checked). The reference measured in the same run is the
   single-thread floor: drawing the same daily Poisson demand alone (one
   generator, same shape, same number of days), so the table shows what the
   engine adds on top of its random numbers. ``--large-only`` skips stockpyl
   and the (s,S) comparison.

4. ``--engines``: the current engine against the previous one (kept verbatim
   in ``tests/test_inventory_simulation_identity.py``, which checks that both
   give identical results), 1,000 SKUs x 100 paths x 365 days, for (R,s,S)
   daily review lead time 0, (R,S) weekly review with crossing lead times,
   and (r,Q) with crossing lead times; CPU seconds (robust to a loaded machine).

Run: .venv/bin/python benchmarks/inventory_speed.py [skus=1000] [--stockpyl-every 10]
     [--sim-skus 1000] [--sim-paths 100] [--peer-sim-skus 5] [--large] [--large-only] [--engines]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

from opslib.inventory import simulate_inventory, ss_optimal
from opslib.inventory.simulation import MAX_DEFAULT_WORKERS, _path_blocks

H, P, K = 1.0, 9.0, 64.0
DAYS = 365
PEER_VENV = Path(__file__).resolve().parent / ".peer-venv-inv"
PEER_PYTHON = PEER_VENV / "bin" / "python"

# Runs inside the stockpyl venv. Reads a JSON job on stdin, prints JSON on stdout.
PEER_SCRIPT = r"""
import json, os, sys, time
from multiprocessing import Pool

def solve(args):
    i, mu, h, p, k = args
    from stockpyl.ss import s_s_discrete_exact
    t0 = time.perf_counter()
    s, big_s, cost = s_s_discrete_exact(h, p, k, True, mu)
    return i, float(s), float(big_s), float(cost), time.perf_counter() - t0

def simulate(args):
    mu, s, big_s, h, p, k, days, seed = args
    from stockpyl.supply_chain_network import single_stage_system
    from stockpyl.sim import simulation
    net = single_stage_system(holding_cost=h, stockout_cost=p, shipment_lead_time=0, demand_type='P',
                              mean=mu, policy_type='sS', reorder_point=s, order_up_to_level=big_s)
    t0 = time.perf_counter()
    total = simulation(net, days, rand_seed=seed, progress_bar=False)
    return time.perf_counter() - t0, float(total)

if __name__ == "__main__":
    job = json.load(sys.stdin)
    import stockpyl
    from importlib.metadata import version
    out = {"version": version("stockpyl")}
    t0 = time.perf_counter()
    tasks = [(i, mu, job["h"], job["p"], job["k"]) for i, mu in enumerate(job["means"])]
    with Pool(job["workers"]) as pool:
        rows = sorted(pool.imap_unordered(solve, tasks, chunksize=1))
    out["ss_wall"] = time.perf_counter() - t0
    out["ss"] = [r[1:] for r in rows]
    out["sim"] = [simulate((mu, s, big_s, job["h"], job["p"], job["k"], job["days"], 1 + j))
                  for j, (mu, s, big_s) in enumerate(job["sim"])]
    json.dump(out, sys.stdout)
"""


def ensure_peer_venv() -> None:
    if PEER_PYTHON.exists() and subprocess.run([str(PEER_PYTHON), "-c", "import stockpyl"], capture_output=True).returncode == 0:
        return
    print(f"creating {PEER_VENV} with stockpyl (one-off) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(PEER_PYTHON), "-m", "pip", "install", "-q", "stockpyl"], check=True)


def run_peer(means, sim_policies, workers: int) -> dict:
    job = {"means": [float(m) for m in means], "h": H, "p": P, "k": K, "workers": workers,
           "days": DAYS, "sim": [[float(m), float(s), float(b)] for m, s, b in sim_policies]}
    done = subprocess.run([str(PEER_PYTHON), "-c", PEER_SCRIPT], input=json.dumps(job), capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"stockpyl subprocess failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("skus", nargs="?", type=int, default=1000, help="SKUs for (s,S) (default 1000)")
    ap.add_argument("--stockpyl-every", type=int, default=10,
                    help="give stockpyl every k-th SKU (default 10: 100 SKUs spread over 1..100, about 2 min; 1: all)")
    ap.add_argument("--workers", type=int, default=1,
                    help="stockpyl worker processes (default 1: timed like opslib, one SKU at a time)")
    ap.add_argument("--sim-skus", type=int, default=1000, help="SKUs in opslib's simulation")
    ap.add_argument("--sim-paths", type=int, default=100, help="paths in opslib's simulation")
    ap.add_argument("--peer-sim-skus", type=int, default=5, help="SKU-years simulated with stockpyl")
    ap.add_argument("--large", action="store_true", help="also run 10,000 SKUs x 365 days x 100 paths")
    ap.add_argument("--large-only", action="store_true", help="only the 10,000-SKU run (no stockpyl)")
    ap.add_argument("--engines", action="store_true", help="only: current vs previous simulation engine")
    args = ap.parse_args()

    n = args.skus
    means = np.linspace(1, 100, n)
    if args.engines:
        engines_run(means)
        return
    if args.large or args.large_only:
        large_run(means)  # first, so that the peak memory is this run's
        if args.large_only:
            return
    ensure_peer_venv()

    # ---- (s,S): opslib, serially, one SKU after another
    ops = np.empty((n, 3))
    seconds = np.empty(n)
    start = time.perf_counter()
    for i, mu in enumerate(means):
        t0 = time.perf_counter()
        r = ss_optimal(stats.poisson(mu), H, P, K)
        seconds[i] = time.perf_counter() - t0
        ops[i] = r
    ops_total = time.perf_counter() - start

    # ---- opslib simulation of the optimal policies, all SKUs x paths at once
    sim_idx = np.linspace(0, n - 1, args.sim_skus).round().astype(int)
    t0 = time.perf_counter()
    res = simulate_inventory(
        "(R,s,S)", [stats.poisson(means[i]) for i in sim_idx], 0,
        reorder_point=ops[sim_idx, 0], order_up_to=ops[sim_idx, 1], review_period_days=1,
        days=DAYS, paths=args.sim_paths, holding_cost_per_unit_day=H, order_cost=K, seed=1,
    )
    ops_sim = time.perf_counter() - t0
    ops_sim_days = args.sim_skus * args.sim_paths * DAYS

    # ---- stockpyl, same SKUs, same run
    peer_idx = np.arange(0, n, args.stockpyl_every)
    peer_sim_idx = np.linspace(0, n - 1, args.peer_sim_skus).round().astype(int)
    peer = run_peer(means[peer_idx], [(means[i], ops[i, 0], ops[i, 1]) for i in peer_sim_idx], args.workers)
    sp = np.array(peer["ss"])  # s, S, cost, seconds
    sp_seconds = sp[:, 3]

    # ---- policies SKU by SKU
    mism = [(int(i), means[i], ops[i, 0], ops[i, 1], sp[j, 0], sp[j, 1])
            for j, i in enumerate(peer_idx) if (ops[i, 0], ops[i, 1]) != (sp[j, 0], sp[j, 1])]
    cost_gap = np.max(np.abs(ops[peer_idx, 2] - sp[:, 2]) / sp[:, 2])

    print(f"(s,S) Zheng-Federgruen: {n} SKUs, Poisson means 1..100, h={H:g} p={P:g} K={K:g}, lead time 0; "
          f"stockpyl {peer['version']} on {len(peer_idx)} of them")
    print(f"{'mean band':>10} {'SKUs':>5} {'opslib ms/SKU':>14} {'stockpyl ms/SKU':>16} {'ratio':>8}")
    for lo in range(0, 100, 20):
        band = (means > lo) & (means <= lo + 20)
        pband = band[peer_idx]
        o, s = 1000 * seconds[band].mean(), 1000 * sp_seconds[pband].mean()
        print(f"{f'{lo + 1}-{lo + 20}':>10} {band.sum():>5} {o:>14.2f} {s:>16.1f} {s / o:>7.0f}x")
    o_all = 1000 * ops_total / n
    s_all = 1000 * sp_seconds.sum() / len(peer_idx)
    ratio = s_all / o_all
    print(f"{'all':>10} {n:>5} {o_all:>14.2f} {s_all:>16.1f} {ratio:>7.0f}x")
    print(f"opslib total {ops_total:.2f} s (one process); stockpyl total {sp_seconds.sum():.1f} s summed over SKUs "
          f"({peer['ss_wall']:.1f} s wall on {args.workers} workers)")
    print(f"identical (s,S): {len(peer_idx) - len(mism)} of {len(peer_idx)} SKUs; "
          f"largest relative cost difference {cost_gap:.1e}")
    for row in mism[:20]:
        print("  mismatch SKU %d mean %.3f: opslib (s,S)=(%g,%g), stockpyl (s,S)=(%g,%g)" % row)
    print(f"target >= 20x with identical policies: {'MET' if ratio >= 20 and not mism else 'NOT MET'}")

    print()
    print(f"(s,S) simulation, {DAYS} days, daily review, lead time 0, backorders; per SKU-day = one path of one SKU for one day")
    peer_sim = np.array(peer["sim"])  # seconds, total cost
    peer_days = len(peer_sim) * DAYS
    o_us = 1e6 * ops_sim / ops_sim_days
    s_us = 1e6 * peer_sim[:, 0].sum() / peer_days
    print(f"{'engine':>9} {'SKU-days':>12} {'seconds':>9} {'us/SKU-day':>11}")
    print(f"{'opslib':>9} {ops_sim_days:>12,} {ops_sim:>9.2f} {o_us:>11.3f}   "
          f"({args.sim_skus} SKUs x {args.sim_paths} paths, + {res.warmup_days} warm-up days not counted)")
    print(f"{'stockpyl':>9} {peer_days:>12,} {peer_sim[:, 0].sum():>9.2f} {s_us:>11.1f}   "
          f"({len(peer_sim)} SKUs x 1 path, means {', '.join(f'{means[i]:.0f}' for i in peer_sim_idx)})")
    print(f"ratio {s_us / o_us:,.0f}x; target >= 100x: {'MET' if s_us / o_us >= 100 else 'NOT MET'}")


def engines_run(means, paths: int = 100) -> None:
    """CPU time of the current and the previous simulation engine on the same inputs (identical results)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_inventory_simulation_identity import reference_simulate_inventory

    n = means.size
    dists = [stats.poisson(mu) for mu in means]
    s = np.floor(2.4 * means)
    big_s = s + np.ceil(np.sqrt(128 * means)) + 5
    cases = {
        "(R,s,S) R=1, L=0, costs": ("(R,s,S)", 0, dict(reorder_point=s, order_up_to=big_s, review_period_days=1,
                                                        holding_cost_per_unit_day=H, order_cost=K)),
        "(R,S) R=7, L in {3,5,9,14}": ("(R,S)", [np.array([3, 5, 9, 14])] * n,
                                       dict(order_up_to=big_s + 20, review_period_days=7)),
        "(r,Q) L in {3,5,9}": ("(r,Q)", [np.array([3, 5, 9])] * n,
                               dict(reorder_point=s + 30, order_quantity=big_s - s)),
    }
    print(f"simulation engines, {n:,} SKUs x {paths} paths x {DAYS} days, Poisson means 1..100 (CPU seconds)")
    print(f"{'case':>28} {'current':>9} {'previous':>9} {'speed-up':>9}")
    for name, (policy, lead, kw) in cases.items():
        cpu = []
        for engine in (simulate_inventory, reference_simulate_inventory):
            c0 = time.process_time()
            engine(policy, dists, lead, days=DAYS, paths=paths, seed=1, **kw)
            cpu.append(time.process_time() - c0)
        print(f"{name:>28} {cpu[0]:>9.2f} {cpu[1]:>9.2f} {cpu[1] / cpu[0]:>8.2f}x")
    print()


def large_run(means, skus: int = 10_000, paths: int = 100) -> None:
    """10,000 SKUs x 365 days x 100 paths in one call: wall time, peak memory, and the random-number floor."""
    solved = np.array([ss_optimal(stats.poisson(mu), H, P, K)[:2] for mu in means])
    dists = [stats.poisson(mu) for mu in means]
    idx = np.arange(skus) % means.size
    demand = [dists[i] for i in idx]
    kwargs = dict(reorder_point=solved[idx, 0], order_up_to=solved[idx, 1], review_period_days=1,
                  days=DAYS, paths=paths, holding_cost_per_unit_day=H, order_cost=K, seed=1)
    default_workers = max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runs = {}
    for workers in (None, 1):  # the parallel run first, so that the peak memory is its own
        t0, c0 = time.perf_counter(), time.process_time()
        res = simulate_inventory("(R,s,S)", demand, 0, workers=workers, **kwargs)
        runs[workers] = (time.perf_counter() - t0, time.process_time() - c0, res)
        if workers is None:
            rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    identical = all(np.array_equal(runs[None][2].per_path[m], runs[1][2].per_path[m], equal_nan=True)
                    for m in runs[1][2].per_path)
    res = runs[None][2]
    total = DAYS + res.warmup_days
    lam = means[idx][:, None]
    rng = np.random.default_rng(1)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(total):
        rng.poisson(lam, (skus, paths))
    floor, floor_cpu = time.perf_counter() - t0, time.process_time() - c0
    cells = skus * paths * DAYS
    blocks = len(_path_blocks(skus, paths))
    print(f"scale target: (s,S) simulation, {skus:,} SKUs x {DAYS} days x {paths} paths "
          f"(+ {res.warmup_days} warm-up days), Poisson means 1..100, daily review, lead time 0; "
          f"{blocks} blocks of paths, {os.cpu_count()} CPUs")
    print(f"{'run':>38} {'wall s':>8} {'CPU s':>8} {'CPU/wall':>9} {'ns/SKU-day':>11} {'ratio (CPU)':>12}")
    for workers, label in ((None, f"opslib, workers={default_workers} (default)"), (1, "opslib, workers=1")):
        seconds, cpu, _ = runs[workers]
        print(f"{label:>38} {seconds:>8.1f} {cpu:>8.1f} {cpu / seconds:>9.2f} {1e9 * seconds / cells:>11.1f} "
              f"{cpu / floor_cpu:>11.2f}x")
    print(f"{'reference: the demand draws alone':>38} {floor:>8.1f} {floor_cpu:>8.1f} {floor_cpu / floor:>9.2f} "
          f"{1e9 * floor / cells:>11.1f} {1.0:>11.2f}x")
    seconds, cpu, _ = runs[None]
    print(f"peak memory (max RSS of this process, default workers) {rss_peak:,.0f} MB; {rss_before:,.0f} MB before "
          f"the call; fill rate {res.table.fill_rate.mean():.4f}; workers=1 identical: {identical}; "
          f"wall speed-up {runs[1][0] / seconds:.2f}x")
    print(f"target < 60 s wall: {'MET' if seconds < 60 else 'NOT MET'} ({cpu:.0f} s of CPU; {os.cpu_count()} shared "
          f"cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end)")
    print()


if __name__ == "__main__":
    main()
