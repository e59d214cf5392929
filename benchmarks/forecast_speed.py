"""Speed and memory of opslib.forecast, and a side-by-side run against statsforecast.

Run: ``.venv/bin/python benchmarks/forecast_speed.py`` (reduced sizes, a few minutes);
``--full`` for the M5-sized panel (30,490 daily series x 1,941 days); ``--no-peer`` to skip statsforecast.

1. ``forecast(demand, 90, model="auto")`` on a synthetic panel of daily SKUs (default 10,000 x 3 years,
   a mix of smooth, erratic, intermittent and lumpy demand, 15% listed late): wall and CPU time, peak RSS.
   On a shared machine the wall time includes waiting for the CPU; the CPU time is what the work costs.
2. opslib's vectorized models next to statsforecast's (SES with alpha optimized in [0.01, 0.99] on both
   sides, CrostonClassic, TSB at fixed a = b = 0.2 on both sides, AutoETS vs opslib ``auto``) on M3 monthly (1,428 series, h = 18) and a
   synthetic daily panel (default 3,000 x 730 days, h = 28; ``--full``: 30,490 x 1,941). The same parquet
   file is read by both. Each (library, model) runs in its own process, one after the other: time of fit +
   forecast from the long frame in memory, each library's preparation included (opslib: code the ids with
   ``sku_codes`` as ``to_panel`` does (run boundaries when the frame is sorted by id, as both libraries get it here;
   ``pandas.factorize`` otherwise) and scatter into a series x time array; statsforecast: ``_prepare_fit``) and also timed alone, so that the models
   compare without it too (statsforecast: after a numba warm-up on a tiny panel, whose CPU time,
   compilation included, is reported apart; no in-sample values on either side, as statsforecast's
   ``forecast(fitted=False)``), peak RSS of that process, and accuracy of the saved forecasts
   computed here with the same code (sMAPE on M3, RMSSE on the daily panel), and the share of series whose
   forecasts differ by more than 1% between the two libraries.

SES: statsforecast's ``SimpleExponentialSmoothingOptimized`` searches alpha in [0.01, 0.99] (golden section to
|b - a| < 1e-12, in-sample SSE of one-step forecasts from y[0]: the same loss and initial level as opslib); the
[0.1, 0.3] range is the M5 benchmark's ``SexpS`` (opslib's default, and statsforecast's only inside
CrostonOptimized/ADIDA/IMAPA). So the comparison runs opslib's SES with ``alpha_range=(0.01, 0.99)``; the M5
definition stays opslib's default.

statsforecast pins pandas<3, so it lives in ``benchmarks/.peer-venv`` (created on first run with uv;
ignored by git). Every measurement is a separate process; nothing is cached between them.
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


def worker_opslib(path: str, model: str, horizon: int, season_length: int, out: str) -> dict:
    import pandas as pd

    from opslib.forecast import croston, tsb
    from opslib.forecast.backtest import select_models, selection_history
    from opslib.forecast.classify import classify_demand
    from opslib.forecast.core import forecast_arrays
    from opslib.forecast.panel import sku_codes
    from opslib.forecast.smoothing import ses_level

    frame = pd.read_parquet(path)
    start, cpu = time.perf_counter(), time.process_time()
    codes, ids = sku_codes(frame["unique_id"])                    # preparation: long frame -> (series, time);
    #                                                               as to_panel: runs of a sorted column, else factorize
    t = frame["ds"].to_numpy()
    y = np.full((len(ids), int(t.max()) + 1), np.nan)             # every series ends at the same index
    y[codes, t] = frame["y"].to_numpy(dtype=float)
    prep_seconds, prep_cpu = time.perf_counter() - start, time.process_time() - cpu
    if model == "ses":
        level = ses_level(y, alpha_range=(0.01, 0.99))            # as sf's SES optimized; no in-sample values,
        mean = np.repeat(level[:, None], horizon, axis=1)         # as sf's forecast(fitted=False)
    elif model == "croston":
        mean = croston(y, horizon).mean
    elif model == "tsb":
        mean = tsb(y, horizon, a=0.2, b=0.2).mean                 # statsforecast's TSB(alpha_d=0.2, alpha_p=0.2)
    elif model == "tsb_m5":
        mean = tsb(y, horizon).mean                               # the M5 benchmark: 9 x 7 grid per series
    elif model == "auto":
        classes = classify_demand(y, season_length=season_length).demand_class
        names = select_models(y, horizon, season_length=season_length, demand_class=classes).model
        mean = forecast_arrays(y[:, -selection_history(horizon, season_length):], horizon, season_length, names,
                               classes, ())[0]
    else:
        raise SystemExit(f"unknown model {model}")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    np.save(out, mean)
    return {"seconds": seconds, "cpu_seconds": cpu, "prep_seconds": prep_seconds, "prep_cpu_seconds": prep_cpu,
            "peak_rss_mb": _peak_rss_mb()}


def worker_statsforecast(path: str, model: str, horizon: int, season_length: int, out: str, n_jobs: int) -> dict:
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, CrostonClassic, SimpleExponentialSmoothingOptimized

    make = {"ses": lambda: SimpleExponentialSmoothingOptimized(), "croston": lambda: CrostonClassic(),
            "tsb": lambda: TSB(alpha_d=0.2, alpha_p=0.2),
            "auto": lambda: AutoETS(season_length=season_length, model="ZZZ")}[model]
    frame = pd.read_parquet(path)
    warm = frame[frame["unique_id"].isin(frame["unique_id"].unique()[:2])]
    first, first_cpu = time.perf_counter(), time.process_time()
    StatsForecast(models=[make()], freq=1, n_jobs=1).forecast(df=warm, h=horizon)   # numba compilation
    first, first_cpu = time.perf_counter() - first, time.process_time() - first_cpu
    prep, prep_cpu = time.perf_counter(), time.process_time()
    StatsForecast(models=[make()], freq=1, n_jobs=n_jobs)._prepare_fit(df=frame)   # its preparation alone
    prep, prep_cpu = time.perf_counter() - prep, time.process_time() - prep_cpu
    start, cpu = time.perf_counter(), time.process_time()
    result = StatsForecast(models=[make()], freq=1, n_jobs=n_jobs).forecast(df=frame, h=horizon)   # prep + models
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    column = [c for c in result.columns if c not in ("unique_id", "ds")][0]
    result = result.sort_values(["unique_id", "ds"])
    np.save(out, result[column].to_numpy().reshape(-1, horizon))
    return {"seconds": seconds, "cpu_seconds": cpu, "prep_seconds": prep, "prep_cpu_seconds": prep_cpu,
            "peak_rss_mb": _peak_rss_mb(), "jit_seconds": first, "jit_cpu_seconds": first_cpu}


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


def write_datasets(full: bool, skus: int, days: int) -> dict:
    """Write the M3 monthly and the synthetic daily panel as parquet; return their metadata."""
    import pandas as pd

    WORK.mkdir(parents=True, exist_ok=True)
    sets = {}
    if not M3.is_dir():
        raise SystemExit(f"M3 data not found at {M3}")
    m3 = pd.read_csv(M3 / "m3_monthly.csv.gz").sort_values(["unique_id", "ds"])
    train = {k: g["y"].to_numpy() for k, g in m3[m3.split == "train"].groupby("unique_id")}
    test = {k: g["y"].to_numpy()[:18] for k, g in m3[m3.split == "test"].groupby("unique_id")}
    sets["M3 monthly (1,428 x 48-126, h=18)"] = _write("m3", train, test, 18, 12, "smape")
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
    args = parser.parse_args()

    if args.worker:
        kw = json.loads(args.args)
        fn = {"auto": worker_auto, "opslib": worker_opslib, "statsforecast": worker_statsforecast}[args.worker]
        print(json.dumps(fn(**kw), default=str))
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


def peer_comparison(args) -> None:
    import pandas as pd

    print("\n== 2. opslib vs statsforecast (one process per run, one after the other; "
          f"statsforecast n_jobs={args.n_jobs})", flush=True)
    rows = []
    for label, spec in write_datasets(args.full, args.peer_skus, args.peer_days).items():
        pairs = [("ses", "SES optimized [0.01, 0.99]"), ("croston", "CrostonClassic"),
                 ("tsb", "TSB a = b = 0.2 (sf alpha_d = alpha_p = 0.2)")]
        if not args.no_autoets:
            pairs.append(("auto", "opslib auto vs sf AutoETS"))
        for model, title in pairs:
            result = {}
            for lib, python in (("opslib", sys.executable), ("statsforecast", PEER_PY)):
                out = str(WORK / f"{lib}_{model}.npy")
                kw = {"path": spec["path"], "model": model, "horizon": spec["h"], "season_length": spec["m"],
                      "out": out}
                if lib == "statsforecast":
                    kw["n_jobs"] = args.n_jobs
                r = _run(python, "--worker", lib, "--args", json.dumps(kw))
                r["mean"] = np.load(out)
                r["accuracy"] = _accuracy(spec, r["mean"])
                result[lib] = r
            o, s = result["opslib"], result["statsforecast"]
            with np.errstate(divide="ignore", invalid="ignore"):
                gap = np.abs(o["mean"] - s["mean"]) / np.abs(s["mean"])
            apart = np.mean(np.nanmax(np.where(np.abs(o["mean"] - s["mean"]) > 1e-9, gap, 0.0), axis=1) > 0.01)
            rows.append({"data": label, "model": title, "metric": spec["metric"],
                         "opslib s": round(o["seconds"], 2), "sf s": round(s["seconds"], 2),
                         "opslib CPU s": round(o["cpu_seconds"], 2), "sf CPU s": round(s["cpu_seconds"], 2),
                         "opslib prep CPU s": round(o["prep_cpu_seconds"], 2),
                         "sf prep CPU s": round(s["prep_cpu_seconds"], 2),
                         "sf JIT CPU s": round(s["jit_cpu_seconds"], 2),
                         "speed-up (wall)": round(s["seconds"] / o["seconds"], 1),
                         "speed-up (CPU)": round(s["cpu_seconds"] / o["cpu_seconds"], 1),
                         "model speed-up (CPU)": round((s["cpu_seconds"] - s["prep_cpu_seconds"])
                                                       / (o["cpu_seconds"] - o["prep_cpu_seconds"]), 1),
                         "opslib MB": round(o["peak_rss_mb"]), "sf MB": round(s["peak_rss_mb"]),
                         "opslib acc": round(o["accuracy"], 4), "sf acc": round(s["accuracy"], 4),
                         "acc ratio": round(o["accuracy"] / s["accuracy"], 3),
                         "series >1% apart": f"{apart:.1%}"})
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))
    print("sf s / sf CPU s: warm (after a first call on 2 series that compiles numba; that call's CPU time is "
          "'sf JIT CPU s'). Both timings start from the same long frame in memory and include each library's "
          "preparation (opslib: sku_codes on the ids (sorted here: run boundaries), scatter into a series x time array; sf: its _prepare_fit), "
          "measured alone in the 'prep' columns (sf's in a separate call); 'model speed-up' compares the times "
          "without it. acc ratio = opslib / sf (lower is better for both metrics). On a shared machine the wall "
          "time includes waiting for a CPU; compare the CPU columns.")


if __name__ == "__main__":
    main()
