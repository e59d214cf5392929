"""Speed and memory of opslib.forecast, and a side-by-side run against statsforecast.

Run: ``.venv/bin/python benchmarks/forecast_speed.py`` (reduced sizes, a few minutes);
``--full`` for the M5-sized panel (30,490 daily series x 1,941 days); ``--no-peer`` to skip statsforecast;
``--no-auto-speed --data m3 --models ses croston tsb`` for the M3 comparison of the three models alone.

1. ``forecast(demand, 90, model="auto")`` on a synthetic panel of daily SKUs (default 10,000 x 3 years,
   a mix of smooth, erratic, intermittent and lumpy demand, 15% listed late): wall and CPU time, peak RSS.
   On a shared machine the wall time includes waiting for the CPU; the CPU time is what the work costs.
2. opslib's vectorized models next to statsforecast's (SES with alpha optimized in [0.01, 0.99] on both
   sides, CrostonClassic, TSB at fixed a = b = 0.2 on both sides, AutoETS vs opslib ``auto``) on M3 monthly
   (1,428 series, h = 18; ``--data m3``) and a synthetic daily panel (default 3,000 x 730 days, h = 28;
   ``--full``: 30,490 x 1,941; ``--data daily``). The same parquet file is read by both, each library in its
   own process. Both sides do the same work in the timed call: from the long frame in memory to the long
   frame ``unique_id, ds, <forecast>`` of statsforecast's ``forecast(df, h)`` (no in-sample values, as its
   ``fitted=False``; no intervals), each library's preparation included (opslib: the series x time array as
   ``to_panel`` builds it: a frame sorted by id (as both libraries get it here) with a row every period from
   each series' first to its last is copied a slice per series (``_fill_sorted``); otherwise the ids are coded
   with ``sku_codes`` (run boundaries when sorted, ``pandas.factorize`` otherwise) and scattered; statsforecast:
   ``_prepare_fit``), which is also timed alone so that the models compare without it. Each process first
   makes the same call on a two-series panel (statsforecast compiles numba there; both import and warm up
   lazily loaded code), whose CPU time is reported apart. Then the two processes take turns: one timed call
   of opslib, one of statsforecast, and so on, until each has spent ``--min-seconds`` of CPU time (at most 20
   calls, at least one), and the medians are reported. Taking turns on one CPU (``--cpu``) makes both meet the
   same load on a shared machine (on a busy one, CPU times grow by half or more, and M3 runs take hundredths of
   a second; two processes left to the scheduler can each sit on a different CPU with a different load);
   ``--sequential`` runs one process after the other instead (only one in memory at a time), ``--rounds k``
   starts them k times and keeps each library's round of least CPU time. Also: peak RSS of each process,
   accuracy of the saved forecasts computed here with the same code (sMAPE on M3, RMSSE on the daily panel),
   and the share of series whose forecasts differ by more than 1% between the two libraries.

SES: statsforecast's ``SimpleExponentialSmoothingOptimized`` searches alpha in [0.01, 0.99] (golden section to
|b - a| < 1e-12, in-sample SSE of one-step forecasts from y[0]: the same loss and initial level as opslib); the
[0.1, 0.3] range is the M5 benchmark's ``SexpS`` (opslib's default, and statsforecast's only inside
CrostonOptimized/ADIDA/IMAPA). So the comparison runs opslib's SES with ``alpha_range=(0.01, 0.99)``; the M5
definition stays opslib's default.

statsforecast pins pandas<3, so it lives in ``benchmarks/.peer-venv`` (created on first run with uv;
ignored by git). No result is cached between timed calls or processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PEER = HERE / ".peer-venv"
PEER_PY = PEER / "bin" / "python"
WORK = HERE / ".peer-venv" / "data"
M3 = HERE.parents[1] / "shared" / "data" / "m3"


def synthetic_daily(n_skus: int, n_days: int, seed: int = 0) -> np.ndarray:
    """(n_skus, n_days) daily units: 40% smooth/erratic Poisson-gamma with weekly season and trend,
    60% intermittent/lumpy (occurrence 2%..60%); 15% of SKUs listed late (NaN before)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_days)
    level = np.exp(rng.normal(1.0, 1.2, n_skus))
    phase = rng.integers(0, 7, n_skus)[:, None]
    weekly = 1 + rng.uniform(0, 0.4, n_skus)[:, None] * np.sin(2 * np.pi * (t[None, :] + phase) / 7)
    trend = 1 + rng.normal(0, 0.3, n_skus)[:, None] * t[None, :] / n_days
    rate = np.maximum(level[:, None] * weekly * trend, 0.01)
    smooth = rng.random(n_skus) < 0.4
    units = np.empty((n_skus, n_days))
    for rows, is_smooth in ((np.flatnonzero(smooth), True), (np.flatnonzero(~smooth), False)):
        shape = np.where(rng.random(len(rows)) < 0.5, 50.0, 1.5)[:, None]
        noise = rng.gamma(shape, 1 / shape, (len(rows), n_days))
        if is_smooth:
            units[rows] = rng.poisson(rate[rows] * noise)
        else:
            p = np.exp(rng.uniform(np.log(0.02), np.log(0.6), len(rows)))[:, None]
            size = 1 + rng.poisson(np.maximum(level[rows, None] / 2, 0.5) * noise)
            units[rows] = (rng.random((len(rows), n_days)) < p) * size
    first = np.where(rng.random(n_skus) < 0.15, rng.integers(0, max(n_days - 120, 1), n_skus), 0)
    units[t[None, :] < first[:, None]] = np.nan
    return units


def _peak_rss_mb() -> float:
    """Peak resident memory of this process [MB]: VmHWM (ru_maxrss survives exec, so it would
    report the parent's peak in a worker)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- workers (one process each)


def worker_auto(skus: int, days: int, horizon: int) -> dict:
    import pandas as pd

    from opslib.forecast import forecast, from_panel

    y = synthetic_daily(skus, days)
    demand = from_panel(y, [f"SKU{i:05d}" for i in range(skus)], pd.date_range("2022-01-01", periods=days))
    before = _peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    frame = forecast(demand, horizon, model="auto")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    used = frame.groupby("sku", observed=True)["model"].first().value_counts()
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": _peak_rss_mb(), "rss_before_mb": before,
            "rows": len(frame),
            "models": used.to_dict(), "warnings": len(frame.attrs["warnings"])}


def _serve(prepare, fit_forecast, save, warm_up) -> None:
    """A peer-comparison worker's side of the conversation with the driver (:class:`_Worker`).

    First ``warm_up()``, answered with its time; then one line per command on stdin: ``prep`` times one
    ``prepare()``, ``run`` one ``fit_forecast()`` (its value kept), each answered with its wall and CPU
    time [s]; ``stop`` saves the last forecast (``save``) and answers with the peak RSS.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    warm_up()
    _reply({"first_seconds": time.perf_counter() - wall, "first_cpu_seconds": time.process_time() - cpu})
    result = None
    for line in sys.stdin:
        command = line.strip()
        if command == "stop":
            break
        wall, cpu = time.perf_counter(), time.process_time()
        value = prepare() if command == "prep" else fit_forecast()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if command == "run":
            result = value
        del value
        _reply({"seconds": wall, "cpu_seconds": cpu})
    save(result)
    _reply({"peak_rss_mb": _peak_rss_mb()})


def _reply(record: dict) -> None:
    print(json.dumps(record), flush=True)


def worker_opslib(path: str, model: str, horizon: int, season_length: int, out: str) -> None:
    import pandas as pd

    from opslib.forecast import croston, tsb
    from opslib.forecast.backtest import select_models, selection_history
    from opslib.forecast.classify import classify_demand
    from opslib.forecast.core import forecast_arrays
    from opslib.forecast.panel import _fill_sorted, _sorted_runs, sku_codes
    from opslib.forecast.smoothing import ses_level

    def prepare(frame):                                           # long frame -> (series, time) as to_panel:
        t = frame["ds"].to_numpy()
        width = int(t.max()) + 1                                  # every series ends at the same index
        runs = _sorted_runs(frame["unique_id"])                   # each id one run, in order (else None)
        filled = None if runs is None else _fill_sorted(runs, t, frame["y"].to_numpy(dtype=float), width)
        if filled is not None:                                    # sorted, a row every period: a slice per SKU
            return filled[1], filled[0]
        codes, ids = sku_codes(frame["unique_id"])                # runs of a sorted column, else factorize
        cell = codes                                              # each row's cell code x width + period
        cell *= width                                             # (in place, as to_panel)
        cell += t
        y = np.full((len(ids), width), np.nan)
        y.ravel()[cell] = frame["y"].to_numpy(dtype=float)
        return ids, y

    def fit_forecast(frame):
        ids, y = prepare(frame)
        if model == "ses":
            level = ses_level(y, alpha_range=(0.01, 0.99))        # as sf's SES optimized; no in-sample values,
            mean = np.repeat(level[:, None], horizon, axis=1)     # as sf's forecast(fitted=False)
        elif model == "croston":
            mean = croston(y, horizon).mean
        elif model == "tsb":
            mean = tsb(y, horizon, a=0.2, b=0.2).mean             # statsforecast's TSB(alpha_d=0.2, alpha_p=0.2)
        elif model == "tsb_m5":
            mean = tsb(y, horizon).mean                           # the M5 benchmark: 9 x 7 grid per series
        elif model == "auto":
            classes = classify_demand(y, season_length=season_length).demand_class
            names = select_models(y, horizon, season_length=season_length, demand_class=classes).model
            mean = forecast_arrays(y[:, -selection_history(horizon, season_length):], horizon, season_length,
                                   names, classes, ())[0]
        else:
            raise SystemExit(f"unknown model {model}")
        width = y.shape[1]                                        # the same long output as sf's forecast()
        return pd.DataFrame({"unique_id": ids.repeat(horizon), "ds": np.tile(np.arange(width, width + horizon),
                                                                              len(ids)), model: mean.ravel()})

    frame = pd.read_parquet(path)
    warm = frame[frame["unique_id"].isin(frame["unique_id"].unique()[:2])]
    _serve(lambda: prepare(frame), lambda: fit_forecast(frame),
           lambda result: np.save(out, result[model].to_numpy().reshape(-1, horizon)),
           lambda: fit_forecast(warm))                            # the same warm-up call as sf's


def worker_statsforecast(path: str, model: str, horizon: int, season_length: int, out: str, n_jobs: int) -> None:
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, CrostonClassic, SimpleExponentialSmoothingOptimized

    make = {"ses": lambda: SimpleExponentialSmoothingOptimized(), "croston": lambda: CrostonClassic(),
            "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.2),
            "auto": lambda: AutoETS(season_length=season_length, model="ZZZ")}[model]

    def save(result):
        column = next(c for c in result.columns if c not in ("unique_id", "ds"))
        np.save(out, result.sort_values(["unique_id", "ds"])[column].to_numpy().reshape(-1, horizon))

    frame = pd.read_parquet(path)
    warm = frame[frame["unique_id"].isin(frame["unique_id"].unique()[:2])]
    _serve(lambda: StatsForecast(models=[make()], freq=1, n_jobs=n_jobs)._prepare_fit(df=frame),   # preparation
           lambda: StatsForecast(models=[make()], freq=1, n_jobs=n_jobs).forecast(df=frame, h=horizon),
           save, lambda: StatsForecast(models=[make()], freq=1, n_jobs=1).forecast(df=warm, h=horizon))  # numba


class _Worker:
    """A peer-comparison worker process (:func:`_serve`), driven over its stdin, one JSON line back per command."""

    def __init__(self, python: Path | str, lib: str, kw: dict, cpu: int | None = None):
        self.errors = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([str(python), __file__, "--worker", lib, "--args", json.dumps(kw)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, text=True,
                                        env=os.environ | {"PYTHONWARNINGS": "ignore"})
        if cpu is not None:                                    # the workers of a comparison share one CPU
            os.sched_setaffinity(self.process.pid, {cpu})
        self.lib = lib
        self.first = self._answer()

    def ask(self, command: str) -> dict:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._answer()

    def stop(self) -> dict:
        answer = self.ask("stop")
        self.process.wait()
        return answer

    def _answer(self) -> dict:
        for line in self.process.stdout:
            if line.startswith("{"):
                return json.loads(line)
        self.process.wait()
        self.errors.seek(0)
        raise SystemExit(f"{self.lib} worker failed:\n{self.errors.read()[-3000:]}")


def _median_times(workers: dict, command: str, min_seconds: float) -> dict:
    """Send ``command`` to each worker in turn, round after round, until each has spent ``min_seconds`` of CPU on
    it (at most 20 times, at least once): per worker the median wall and CPU time [s] and the count."""
    times = {lib: [] for lib in workers}

    def more(lib):
        return not times[lib] or (sum(t["cpu_seconds"] for t in times[lib]) < min_seconds and len(times[lib]) < 20)

    while any(more(lib) for lib in workers):
        for lib, worker in workers.items():
            if more(lib):
                times[lib].append(worker.ask(command))
    return {lib: {"seconds": float(np.median([t["seconds"] for t in ts])),
                  "cpu_seconds": float(np.median([t["cpu_seconds"] for t in ts])), "runs": len(ts)}
            for lib, ts in times.items()}


# --------------------------------------------------------------------------- orchestration


def _run(python: Path | str, *args: str) -> dict:
    done = subprocess.run([str(python), __file__, *args], capture_output=True, text=True,
                          env=os.environ | {"PYTHONWARNINGS": "ignore"})
    if done.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure_peer() -> bool:
    if PEER_PY.exists() and subprocess.run([str(PEER_PY), "-c", "import statsforecast, pyarrow"],
                                           capture_output=True).returncode == 0:
        return True
    print("creating benchmarks/.peer-venv with statsforecast (once) ...", flush=True)
    steps = [["python3", "-m", "venv", str(PEER)],
             [str(PEER / "bin" / "pip"), "install", "-q", "uv"],
             [str(PEER / "bin" / "uv"), "pip", "install", "-q", "--python", str(PEER_PY), "statsforecast", "pyarrow"]]
    for step in steps:
        if subprocess.run(step).returncode != 0:
            print("  could not create the peer venv; skipping the statsforecast comparison")
            return False
    return True


def write_datasets(full: bool, skus: int, days: int, data=("m3", "daily")) -> dict:
    """Write the M3 monthly and/or the synthetic daily panel as parquet; return their metadata."""
    import pandas as pd

    WORK.mkdir(parents=True, exist_ok=True)
    sets = {}
    if "m3" in data:
        if not M3.is_dir():
            raise SystemExit(f"M3 data not found at {M3}")
        m3 = pd.read_csv(M3 / "m3_monthly.csv.gz").sort_values(["unique_id", "ds"])
        train = {k: g["y"].to_numpy() for k, g in m3[m3.split == "train"].groupby("unique_id")}
        test = {k: g["y"].to_numpy()[:18] for k, g in m3[m3.split == "test"].groupby("unique_id")}
        sets["M3 monthly (1,428 x 48-126, h=18)"] = _write("m3", train, test, 18, 12, "smape")
    if "daily" not in data:
        return sets
    if full:
        skus, days = 30_490, 1_941
    y = synthetic_daily(skus, days, seed=1)
    h = 28
    ids = [f"SKU{i:05d}" for i in range(skus)]
    train = {k: row[:-h] for k, row in zip(ids, y)}           # leading NaN: listed late (not written)
    test = {k: row[-h:] for k, row in zip(ids, y)}
    sets[f"synthetic daily ({skus:,} x {days:,}, h={h})"] = _write("daily", train, test, h, 7, "rmsse")
    return sets


def _write(name, train, test, horizon, season_length, metric):
    import pandas as pd

    ids = sorted(train)
    width = max(len(v) for v in train.values())
    y = np.full((len(ids), width), np.nan)
    for i, k in enumerate(ids):
        v = np.asarray(train[k], dtype=float)
        y[i, width - len(v):] = v
    rows, cols = np.nonzero(~np.isnan(y))
    frame = pd.DataFrame({"unique_id": np.asarray(ids, dtype=object)[rows], "ds": cols.astype(np.int64),
                          "y": y[rows, cols]})
    path = WORK / f"{name}.parquet"
    frame.to_parquet(path, index=False)
    return {"path": str(path), "train": y, "actual": np.vstack([test[k] for k in ids]), "h": horizon,
            "m": season_length, "metric": metric}


def _accuracy(spec, mean) -> float:
    from opslib.forecast import rmsse, smape

    if spec["metric"] == "smape":
        return float(np.mean(smape(spec["actual"], mean)))
    values = rmsse(spec["actual"], mean, spec["train"])
    return float(np.nanmean(np.where(np.isfinite(values), values, np.nan)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--args", help=argparse.SUPPRESS)
    parser.add_argument("--full", action="store_true", help="peer panel at M5 size: 30,490 x 1,941")
    parser.add_argument("--skus", type=int, default=10_000, help="SKUs of the auto speed test")
    parser.add_argument("--days", type=int, default=1_095, help="days of the auto speed test")
    parser.add_argument("--peer-skus", type=int, default=3_000)
    parser.add_argument("--peer-days", type=int, default=730)
    parser.add_argument("--n-jobs", type=int, default=1, help="statsforecast n_jobs (opslib uses one process)")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-autoets", action="store_true", help="skip AutoETS (the slowest peer run)")
    parser.add_argument("--no-auto-speed", action="store_true", help="skip part 1 (auto on the daily panel)")
    parser.add_argument("--data", nargs="+", choices=("m3", "daily"), default=("m3", "daily"),
                        help="data sets of part 2 (default both; --data m3: M3 monthly only)")
    parser.add_argument("--models", nargs="+", choices=("ses", "croston", "tsb", "auto"),
                        default=("ses", "croston", "tsb", "auto"), help="models of part 2 (default all)")
    parser.add_argument("--min-seconds", type=float, default=1.0,
                        help="part 2: repeat each timed call until this much CPU time is spent (at most 20 runs; "
                             "medians reported)")
    parser.add_argument("--sequential", action="store_true",
                        help="part 2: run the opslib process, then the sf one (default: both alive, their calls "
                             "alternating, so that both meet the same machine load; needs both in memory)")
    parser.add_argument("--cpu", type=int, default=None,
                        help="part 2: the CPU both workers run on (default: the last one this process may use; "
                             "-1: no pinning; never pinned with --n-jobs other than 1)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="part 2: start the processes this many times and keep each library's round of least "
                             "CPU time")
    args = parser.parse_args()

    if args.worker:
        kw = json.loads(args.args)
        fn = {"auto": worker_auto, "opslib": worker_opslib, "statsforecast": worker_statsforecast}[args.worker]
        result = fn(**kw)
        if result is not None:
            print(json.dumps(result, default=str))
        return

    if not args.no_auto_speed:
        auto_speed(args)
    if args.no_peer or not ensure_peer():
        return
    peer_comparison(args)


def auto_speed(args) -> None:
    import pandas as pd

    print(f"== 1. forecast(demand, 90, model='auto'): {args.skus:,} daily SKUs x {args.days:,} days "
          f"({os.cpu_count()} CPUs)", flush=True)
    r = _run(sys.executable, "--worker", "auto", "--args",
             json.dumps({"skus": args.skus, "days": args.days, "horizon": 90}))
    print(pd.DataFrame([{"SKUs": args.skus, "days": args.days, "horizon": 90, "wall s": round(r["seconds"], 1),
                         "CPU s": round(r["cpu_seconds"], 1),
                         "target s": 60, "peak RSS MB": round(r["peak_rss_mb"]), "target MB": 4096,
                         "RSS before MB": round(r["rss_before_mb"]), "fallback warnings": r["warnings"]}]
                       ).to_string(index=False))
    print("models chosen:", ", ".join(f"{k} {v}" for k, v in r["models"].items()), flush=True)


def _seconds(value: float) -> float:
    """Seconds to three significant digits (M3 runs take hundredths of a second, M5-sized ones many seconds)."""
    return float(f"{value:.3g}")


def peer_comparison(args) -> None:
    import pandas as pd

    print("\n== 2. opslib vs statsforecast (one process per run, one after the other; "
          f"statsforecast n_jobs={args.n_jobs})", flush=True)
    rows = []
    cpu = max(os.sched_getaffinity(0)) if args.cpu is None else args.cpu
    cpu = None if cpu < 0 or args.n_jobs != 1 else cpu
    for label, spec in write_datasets(args.full, args.peer_skus, args.peer_days, args.data).items():
        pairs = [("ses", "SES optimized [0.01, 0.99]"), ("croston", "CrostonClassic"),
                 ("tsb", "TSB a = b = 0.2 (sf alpha_d = alpha_p = 0.2)"), ("auto", "opslib auto vs sf AutoETS")]
        for model, title in pairs:
            if model not in args.models or (model == "auto" and args.no_autoets):
                continue
            pythons = {"opslib": sys.executable, "statsforecast": PEER_PY}
            kw = {"path": spec["path"], "model": model, "horizon": spec["h"], "season_length": spec["m"]}
            groups = [["opslib"], ["statsforecast"]] if args.sequential else [["opslib", "statsforecast"]]
            result, per_round = {}, []
            for _ in range(args.rounds):                       # keep each library's round of least CPU time
                this_round = {}
                for group in groups:
                    workers = {lib: _Worker(pythons[lib], lib, kw | {"out": str(WORK / f"{lib}_{model}.npy")}
                                            | ({"n_jobs": args.n_jobs} if lib == "statsforecast" else {}), cpu)
                               for lib in group}
                    prep = _median_times(workers, "prep", args.min_seconds)
                    runs = _median_times(workers, "run", args.min_seconds)
                    for lib, worker in workers.items():
                        r = runs[lib] | {"prep_seconds": prep[lib]["seconds"],
                                         "prep_cpu_seconds": prep[lib]["cpu_seconds"]} | worker.first | worker.stop()
                        this_round[lib] = r["cpu_seconds"]
                        if lib not in result or r["cpu_seconds"] < result[lib]["cpu_seconds"]:
                            r["mean"] = np.load(WORK / f"{lib}_{model}.npy")
                            r["accuracy"] = _accuracy(spec, r["mean"])
                            result[lib] = r
                per_round.append(this_round["statsforecast"] / this_round["opslib"])
            o, s = result["opslib"], result["statsforecast"]
            with np.errstate(divide="ignore", invalid="ignore"):
                gap = np.abs(o["mean"] - s["mean"]) / np.abs(s["mean"])
            apart = np.mean(np.nanmax(np.where(np.abs(o["mean"] - s["mean"]) > 1e-9, gap, 0.0), axis=1) > 0.01)
            rows.append({"data": label, "model": title, "metric": spec["metric"],
                         "opslib s": _seconds(o["seconds"]), "sf s": _seconds(s["seconds"]),
                         "opslib CPU s": _seconds(o["cpu_seconds"]), "sf CPU s": _seconds(s["cpu_seconds"]),
                         "runs": f"{o['runs']}/{s['runs']}",
                         "opslib prep CPU s": _seconds(o["prep_cpu_seconds"]),
                         "sf prep CPU s": _seconds(s["prep_cpu_seconds"]),
                         "opslib 1st CPU s": _seconds(o["first_cpu_seconds"]),
                         "sf JIT CPU s": _seconds(s["first_cpu_seconds"]),
                         "speed-up (wall)": round(s["seconds"] / o["seconds"], 2),
                         "speed-up (CPU)": round(s["cpu_seconds"] / o["cpu_seconds"], 2),
                         "CPU speed-up per round": "/".join(f"{x:.2f}" for x in per_round),
                         "model speed-up (CPU)": round((s["cpu_seconds"] - s["prep_cpu_seconds"])
                                                       / max(o["cpu_seconds"] - o["prep_cpu_seconds"], 1e-9), 2),
                         "opslib MB": round(o["peak_rss_mb"]), "sf MB": round(s["peak_rss_mb"]),
                         "opslib acc": round(o["accuracy"], 4), "sf acc": round(s["accuracy"], 4),
                         "acc ratio": round(o["accuracy"] / s["accuracy"], 3),
                         "series >1% apart": f"{apart:.1%}"})
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"Times are medians over repeated calls ('runs' opslib/sf, taking turns "
          f"{'one process after the other' if args.sequential else 'between the two live processes'} until "
          f"{args.min_seconds:g} s of CPU, at most 20; best of {args.rounds} round(s)), each process warmed up first "
          "by the same call on 2 series (sf: compiles numba; 'sf JIT CPU s' and 'opslib 1st CPU s' are those calls). "
          "Both timed calls start from the same long frame in memory and end with the same long frame unique_id, ds, "
          "forecast (no in-sample values, no intervals); they include each library's preparation (opslib: the series x "
          "time array as to_panel builds it (sorted here, a row every period: one slice copy per series); sf: its "
          "_prepare_fit), also timed alone in the 'prep' columns; 'model speed-up' compares the times without it; "
          "'CPU speed-up per round' lists the CPU speed-up of every round, not only the best. acc ratio = opslib / sf "
          "(lower is better for both metrics). On a shared machine the wall time includes waiting for a CPU; compare "
          "the CPU columns.")

if __name__ == "__main__":
    main()
