"""Benchmark of the drift statistics engine against a naive scipy baseline.

One run measures, for each size N (rows of the reference and of the current
dataset; 20 numeric + 5 categorical columns, seeded synthetic data, drift in a
few columns of the current dataset):

(a)  ``data_drift(ref_df, cur_df)`` with both datasets loaded into pandas;
(b)  ``data_drift(ReferenceProfile.load(path), ParquetFile(cur).iter_batches(...))``:
     the reference summarised once into a stored profile (its build time and JSON
     size are reported separately), the current data streamed from Parquet;
(c)  a naive baseline on the 20 numeric columns: per column the exact
     ``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance``.

(a) and (b) also run restricted to the 20 numeric columns (``columns=``) so
the comparison with (c) is like-for-like; (b) also runs with
``ParquetFile(cur, pre_buffer=False)``, and the Parquet scan alone is timed for
both reader settings, to separate the reader's memory from the engine's.  Every case runs in a fresh Python
subprocess, so its peak RSS is its own.  See ``benchmarks/README.md``.

Usage::

    python benchmarks/bench_engine.py                        # 100k and 1M rows
    python benchmarks/bench_engine.py --sizes 100000,1000000,10000000
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE / ".data"
RESULT_MARKER = "BENCH_RESULT "

GEN_VERSION = 1  # bump when the generator changes: cached files are regenerated
GEN_CHUNK_ROWS = 1_000_000  # rows generated (and written as one row group) at a time
STREAM_BATCH_ROWS = 262_144
N_NUMERIC = 20
N_CATEGORICAL = 5
NUMERIC_COLUMNS = [f"num_{i:02d}" for i in range(N_NUMERIC)]
CATEGORICAL_COLUMNS = [f"cat_{i}" for i in range(N_CATEGORICAL)]
ALL_COLUMNS = NUMERIC_COLUMNS + CATEGORICAL_COLUMNS
# columns whose distribution differs in the current dataset (see _numeric / _categorical)
DRIFTED_COLUMNS = ["num_00", "num_04", "num_14", "cat_1", "cat_4"]

BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
CASES = ("profile", "a", "a_num", "scan", "b", "b_num", "scan_nopre", "b_nopre", "c")
CASE_LABELS = {
    "a": "(a) in-memory DataFrames, all 25 cols",
    "a_num": "(a) in-memory DataFrames, 20 numeric",
    "profile": "    profile build (streamed reference)",
    "scan": "    Parquet scan only (current, no engine)",
    "b": "(b) profile + streamed Parquet, all 25",
    "b_num": "(b) profile + streamed Parquet, 20 num",
    "scan_nopre": "    Parquet scan only, pre_buffer=False",
    "b_nopre": "(b) same with ParquetFile(pre_buffer=False)",
    "c": "(c) naive scipy ks_2samp+wasserstein, 20 num",
}


# ============================================================== memory helpers
def _rss_mb() -> float:
    """Current resident set size (MB)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):  # not Linux: fall back to psutil when available
        try:
            import psutil

            return psutil.Process().memory_info().rss / 2**20
        except ImportError:
            return math.nan


def _maxrss_mb() -> float:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in MB (kB on Linux, bytes on macOS)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 2**10


def _load() -> float:
    """1-minute load average."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return math.nan


def _busy_cpu_seconds() -> float:
    """CPU seconds spent by the whole machine (all processes) since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal ...: everything but idle and iowait
        return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return math.nan


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


class CpuMeter:
    """How many CPUs this process and all *other* processes kept busy during a period."""

    def __init__(self) -> None:
        self.wall, self.busy, self.own = time.perf_counter(), _busy_cpu_seconds(), _own_cpu_seconds()

    def stop(self) -> tuple[float, float]:
        wall = time.perf_counter() - self.wall
        own = _own_cpu_seconds() - self.own
        others = _busy_cpu_seconds() - self.busy - own
        return own / wall, max(0.0, others / wall)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0) so the next peak is the engine's own."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


# ============================================================== data generation
def _numeric(rng: Any, i: int, n: int, current: bool) -> Any:
    """Column ``num_{i:02d}``: a mix of continuous, heavy-tailed, discrete and rounded columns."""
    import numpy as np

    if i == 0:  # drift: mean shift of 0.3 sd
        return rng.normal(0.3 if current else 0.0, 1.0, n)
    if i == 1:
        return rng.normal(100.0, 15.0, n)
    if i == 2:
        return rng.normal(-5.0, 2.0, n)
    if i == 3:  # with 1 % nulls
        v = rng.normal(0.0, 1.0, n)
        v[rng.random(n) < 0.01] = np.nan
        return v
    if i == 4:  # drift: larger spread of a log-normal
        return rng.lognormal(0.0, 0.65 if current else 0.5, n)
    if i == 5:
        return rng.lognormal(3.0, 1.0, n)
    if i == 6:
        return rng.exponential(2.0, n)
    if i == 7:
        return rng.exponential(0.5, n)
    if i == 8:
        return rng.random(n)
    if i == 9:
        return rng.uniform(-10.0, 10.0, n)
    if i == 10:
        return rng.gamma(2.0, 2.0, n)
    if i == 11:
        return rng.gamma(5.0, 1.0, n)
    if i == 12:
        return rng.beta(2.0, 5.0, n)
    if i == 13:
        return rng.standard_t(5.0, n)
    if i == 14:  # integer counts, few distinct values; drift: rate 3 -> 3.6
        return rng.poisson(3.6 if current else 3.0, n).astype(np.float64)
    if i == 15:
        return rng.poisson(20.0, n).astype(np.float64)
    if i == 16:
        return rng.binomial(10, 0.3, n).astype(np.float64)
    if i == 17:  # prices: rounded to cents (many ties)
        return np.round(rng.lognormal(3.0, 0.8, n), 2)
    if i == 18:  # bimodal mixture
        return np.where(rng.random(n) < 0.3, rng.normal(-2.0, 0.5, n), rng.normal(3.0, 1.0, n))
    # i == 19: with 0.5 % nulls
    v = rng.normal(50.0, 10.0, n)
    v[rng.random(n) < 0.005] = np.nan
    return v


_CAT_LEVELS = (3, 10, 50, 200, 1000)


def _zipf_probs(k: int, s: float = 1.1) -> Any:
    import numpy as np

    w = 1.0 / np.arange(1, k + 1) ** s
    return w / w.sum()


def _categorical(rng: Any, i: int, n: int, current: bool) -> Any:
    """Column ``cat_{i}`` as a pyarrow string array."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    k = _CAT_LEVELS[i]
    labels = [f"c{i}_{j:04d}" for j in range(k)]
    p = np.array([0.6, 0.3, 0.1]) if i == 0 else _zipf_probs(k)
    if i == 1 and current:  # drift: 30 % of the mass moved to the reversed distribution
        p = 0.7 * p + 0.3 * p[::-1]
    if i == 4 and current:  # drift: 5 % of the values are 100 new, unseen categories
        labels = labels + [f"c{i}_new_{j:03d}" for j in range(100)]
        p = np.concatenate([0.95 * p, np.full(100, 0.05 / 100)])
    idx = rng.choice(len(labels), size=n, p=p / p.sum()).astype(np.int32)
    return pc.take(pa.array(labels, pa.string()), pa.array(idx))


def _chunk_table(seed: int, side: int, chunk: int, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(np.random.SeedSequence([seed, side, chunk]))
    current = side == 1
    arrays = [pa.array(_numeric(rng, i, n, current), pa.float64(), from_pandas=True) for i in range(N_NUMERIC)]
    arrays += [_categorical(rng, i, n, current) for i in range(N_CATEGORICAL)]
    return pa.Table.from_arrays(arrays, names=ALL_COLUMNS)


def data_paths(data_dir: Path, rows: int, seed: int) -> dict[str, Path]:
    stem = f"n{rows}_s{seed}"
    return {
        "ref": data_dir / f"reference_{stem}.parquet",
        "cur": data_dir / f"current_{stem}.parquet",
        "profile": data_dir / f"profile_{stem}.json",
    }


def _meta(rows: int, seed: int) -> dict[str, Any]:
    return {
        "gen_version": GEN_VERSION,
        "rows": rows,
        "seed": seed,
        "chunk_rows": GEN_CHUNK_ROWS,
        "columns": ALL_COLUMNS,
    }


def _cached(path: Path, meta: dict[str, Any]) -> bool:
    import pyarrow.parquet as pq

    meta_path = path.with_suffix(".meta.json")
    try:
        if json.loads(meta_path.read_text()) != meta:
            return False
        return pq.ParquetFile(path).metadata.num_rows == meta["rows"]
    except Exception:  # missing, unreadable or stale: regenerate
        return False


def ensure_data(data_dir: Path, rows: int, seed: int) -> tuple[dict[str, Path], float, bool]:
    """Write (or reuse) the reference and current Parquet files; returns (paths, seconds, reused)."""
    import pyarrow.parquet as pq

    data_dir.mkdir(parents=True, exist_ok=True)
    paths = data_paths(data_dir, rows, seed)
    meta = _meta(rows, seed)
    started = time.perf_counter()
    reused = True
    for side, key in ((0, "ref"), (1, "cur")):
        path = paths[key]
        if _cached(path, meta):
            continue
        reused = False
        tmp = path.with_suffix(".parquet.tmp")
        writer = None
        try:
            for chunk, start in enumerate(range(0, rows, GEN_CHUNK_ROWS)):
                table = _chunk_table(seed, side, chunk, min(GEN_CHUNK_ROWS, rows - start))
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
                writer.write_table(table, row_group_size=GEN_CHUNK_ROWS)
                del table
        finally:
            if writer is not None:
                writer.close()
        os.replace(tmp, path)
        path.with_suffix(".meta.json").write_text(json.dumps(meta))
    return paths, time.perf_counter() - started, reused


# ============================================================== cases (child side)
def _numeric_arrays(df: Any) -> dict[str, Any]:
    import numpy as np

    out = {}
    for c in NUMERIC_COLUMNS:
        v = df[c].to_numpy(dtype=np.float64)
        out[c] = v[~np.isnan(v)]
    return out


def _naive(ref_df: Any, cur_df: Any) -> dict[str, Any]:
    """The baseline: exact two-sample statistics on the raw values, column by column."""
    from scipy import stats

    ref, cur = _numeric_arrays(ref_df), _numeric_arrays(cur_df)
    out = {}
    for c in NUMERIC_COLUMNS:
        ks = stats.ks_2samp(ref[c], cur[c])
        w = stats.wasserstein_distance(ref[c], cur[c])
        out[c] = {"ks": float(ks.statistic), "ks_p": float(ks.pvalue), "w1": float(w)}
    return out


def print_load() -> None:
    """One-second sample of the CPU time other processes use, printed (with a warning when busy)."""
    meter = CpuMeter()
    time.sleep(1.0)
    _, others = meter.stop()
    print(f"  load    : {others:.2f} CPUs busy with other processes (1 s sample), 1-min load average {_load():.2f}")
    if others > 0.25:
        print("  WARNING : the machine is busy; timings will be slower and noisier than on an idle machine")


def _engine_summary(report: dict[str, Any]) -> dict[str, Any]:
    cols = {}
    for name, r in report["columns"].items():
        m = r.get("methods", {})
        cols[name] = {
            "status": r["status"],
            "drifted": r["drifted"],
            "ks": m.get("ks", {}).get("statistic"),
            "ks_bound": m.get("ks", {}).get("error_bound"),
            "w1": m.get("wasserstein", {}).get("distance"),
        }
    return {
        "drifted_columns": report["summary"]["drifted_columns"],
        "dataset_drift": report["summary"]["dataset_drift"],
        "problem_columns": report["summary"]["problem_columns"],
        "columns": cols,
    }


def run_case(case: str, rows: int, seed: int, data_dir: Path, repeat: int) -> dict[str, Any]:
    import numpy  # noqa: F401  (imported before the baseline RSS is read)
    import pandas as pd
    import pyarrow.parquet as pq
    import scipy.stats  # noqa: F401

    from airflow_drift_provider.drift import ReferenceProfile, build_profile, data_drift

    paths = data_paths(data_dir, rows, seed)
    numeric_only = case in ("a_num", "b_num", "c")
    columns = NUMERIC_COLUMNS if numeric_only else None
    gc.collect()
    rss_imports = _rss_mb()
    out: dict[str, Any] = {"case": case, "rows": rows, "columns": len(NUMERIC_COLUMNS if numeric_only else ALL_COLUMNS)}

    ref_df = cur_df = None
    if case in ("a", "a_num"):
        ref_df = pq.read_table(paths["ref"]).to_pandas()
        cur_df = pq.read_table(paths["cur"]).to_pandas()
    elif case == "c":
        ref_df = pd.read_parquet(paths["ref"], columns=NUMERIC_COLUMNS)
        cur_df = pd.read_parquet(paths["cur"], columns=NUMERIC_COLUMNS)
    gc.collect()
    rss_loaded = _rss_mb()
    peak_before = _maxrss_mb()
    reset = _reset_peak()

    def once() -> Any:
        if case in ("a", "a_num"):
            return data_drift(ref_df, cur_df, columns=columns)
        if case == "profile":
            batches = pq.ParquetFile(paths["ref"]).iter_batches(batch_size=STREAM_BATCH_ROWS)
            profile = build_profile(batches, metadata={"benchmark": "bench_engine", "rows": rows, "seed": seed})
            profile.save(paths["profile"])
            return profile
        # pyarrow's default pre_buffer=True reads ahead the column chunks of the whole file: *_nopre disable it
        opts = {"pre_buffer": False} if case.endswith("_nopre") else {}
        if case.startswith("scan"):  # the I/O part of (b): read and decode the batches, nothing else
            batches = pq.ParquetFile(paths["cur"], **opts).iter_batches(batch_size=STREAM_BATCH_ROWS)
            return sum(b.num_rows for b in batches)
        if case in ("b", "b_num", "b_nopre"):
            batches = pq.ParquetFile(paths["cur"], **opts).iter_batches(batch_size=STREAM_BATCH_ROWS)
            return data_drift(ReferenceProfile.load(paths["profile"]), batches, columns=columns)
        if case == "c":
            return _naive(ref_df, cur_df)
        raise ValueError(f"unknown case {case!r}")

    times, cpu, others = [], [], []
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        meter = CpuMeter()
        t0 = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - t0)
        used, busy = meter.stop()
        cpu.append(used)
        others.append(busy)
    peak_engine = _maxrss_mb()  # since the reset: the peak of the measured part only
    best = times.index(min(times))
    out.update(
        seconds=min(times),
        all_seconds=times,
        rss_imports_mb=rss_imports,
        rss_loaded_mb=rss_loaded,
        data_mb=rss_loaded - rss_imports,
        peak_mb=max(peak_before, peak_engine),  # the whole subprocess, imports and data included
        peak_measured_mb=peak_engine if reset else math.nan,
        engine_delta_mb=(peak_engine if reset else max(peak_before, peak_engine)) - rss_loaded,
        peak_reset=reset,
        cpu=cpu[best],
        others_cpu=others[best],
        load=_load(),
    )
    if case == "profile":
        out["profile_json_bytes"] = paths["profile"].stat().st_size
        out["profile_json_path"] = str(paths["profile"])
    elif case == "c":
        out["stats"] = result
    elif case.startswith("scan"):
        out["rows_read"] = result
    else:
        out["report"] = _engine_summary(result)
        out["engine_elapsed_seconds"] = result["elapsed_seconds"]
    return out


def child_main(args: argparse.Namespace) -> int:
    try:
        res = run_case(args.case, args.rows, args.seed, Path(args.data_dir), args.repeat)
    except Exception as exc:  # reported by the parent
        traceback.print_exc()
        print(
            RESULT_MARKER + json.dumps({"case": args.case, "rows": args.rows, "error": f"{type(exc).__name__}: {exc}"})
        )
        return 1
    print(RESULT_MARKER + json.dumps(res))
    return 0


# ============================================================== parent side
def _spawn(case: str, rows: int, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--case", case,
        "--rows", str(rows),
        "--seed", str(args.seed),
        "--data-dir", str(args.data_dir),
        "--repeat", str(args.repeat),
    ]  # fmt: skip
    if args.cpus:
        cmd = ["taskset", "-c", f"0-{args.cpus - 1}", *cmd]
    env = dict(os.environ)
    if args.blas_threads:
        for var in BLAS_THREAD_VARS:
            env[var] = str(args.blas_threads)
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=False, env=env)
    except subprocess.TimeoutExpired:
        return {"case": case, "rows": rows, "error": f"timed out after {args.timeout:.0f} s"}
    except OSError as exc:
        return {"case": case, "rows": rows, "error": f"could not start: {exc}"}
    res = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            try:
                res = json.loads(line[len(RESULT_MARKER) :])
            except ValueError as exc:
                res = {"case": case, "rows": rows, "error": f"unreadable result line: {exc}"}
    if res is None:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
        res = {"case": case, "rows": rows, "error": f"exit code {proc.returncode}: " + " | ".join(tail)}
    elif "error" in res and proc.stderr:
        res["traceback"] = proc.stderr.strip().splitlines()[-3:]
    res["wall_seconds"] = time.perf_counter() - started
    return res


def _versions() -> list[str]:
    out = []
    for mod in ("airflow_drift_provider", "numpy", "scipy", "pandas", "pyarrow", "psutil"):
        try:
            m = __import__(mod)
            out.append(f"{mod} {getattr(m, '__version__', '?')}")
        except ImportError:
            out.append(f"{mod} (not installed)")
    return out


def _blas_info(args: argparse.Namespace) -> str:
    if args.blas_threads:
        how = f"{args.blas_threads} thread(s) in the cases (--blas-threads)"
    else:
        set_vars = [f"{v}={os.environ[v]}" for v in BLAS_THREAD_VARS if v in os.environ]
        how = ", ".join(set_vars) if set_vars else "library default threads"
    try:
        import numpy  # noqa: F401  (loads the BLAS so threadpoolctl sees it)
        from threadpoolctl import threadpool_info

        libs = [
            f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)" for i in threadpool_info()
        ]
        return f"{', '.join(libs) or '?'}; {how}"
    except ImportError:
        return how


def _mem_total_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return math.nan


def _fmt_rows(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def _f(v: Any, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, fmt)


def print_table(results: dict[int, dict[str, dict[str, Any]]]) -> None:
    header = (
        f"{'case':<46} {'rows':>5} {'cols':>4} {'time s':>8} {'rows/s':>11} {'peak MB':>8} {'base MB':>8} "
        f"{'data MB':>8} {'call +MB':>8} {'naive/ours':>10} {'cpu':>4} {'other':>5}"
    )
    print(header)
    print("-" * len(header))
    for rows, by_case in results.items():
        naive = by_case.get("c", {})
        naive_t = naive.get("seconds") if "error" not in naive else None
        for case in CASES:
            r = by_case.get(case)
            if r is None:
                continue
            label = CASE_LABELS[case]
            if "error" in r:
                print(f"{label:<46} {_fmt_rows(rows):>5}  ERROR: {r['error']}")
                continue
            t = r["seconds"]
            ratio = f"{naive_t / t:.1f}x" if naive_t and case[0] in "ab" else "-"
            data_mb = r["data_mb"] if case in ("a", "a_num", "c") else None
            print(
                f"{label:<46} {_fmt_rows(rows):>5} {r['columns']:>4} {t:>8.2f} {rows / t:>11,.0f} "
                f"{r['peak_mb']:>8.0f} {r['rss_imports_mb']:>8.0f} {_f(data_mb, '8.0f'):>8} "
                f"{r['engine_delta_mb']:>8.0f} {ratio:>10} {_f(r.get('cpu'), '4.1f'):>4} "
                f"{_f(r.get('others_cpu'), '5.2f'):>5}"
            )
        prof = by_case.get("profile", {})
        if "profile_json_bytes" in prof:
            print(f"{'    profile JSON size':<46} {_fmt_rows(rows):>5}  {prof['profile_json_bytes'] / 1024:,.0f} KiB")
        print()


def print_checks(results: dict[int, dict[str, dict[str, Any]]]) -> None:
    print("Agreement with the naive baseline (numeric columns; statistics on the sketches vs exact):")
    for rows, by_case in results.items():
        naive = by_case.get("c", {}).get("stats")
        if not naive:
            continue
        for case in ("a_num", "b_num"):
            cols = by_case.get(case, {}).get("report", {}).get("columns")
            if not cols:
                continue
            dks = max(abs(cols[c]["ks"] - naive[c]["ks"]) for c in NUMERIC_COLUMNS)
            bound = max(cols[c]["ks_bound"] or 0.0 for c in NUMERIC_COLUMNS)
            dw = max(abs(cols[c]["w1"] - naive[c]["w1"]) / max(naive[c]["w1"], 1e-300) for c in NUMERIC_COLUMNS)
            print(
                f"  {_fmt_rows(rows):>4} {case:<6} max|KS - ks_2samp| = {dks:.2e} (reported bound <= {bound:.2e}), "
                f"max rel. diff W1 = {dw:.2e}"
            )
    print()
    print(f"Drift detected (columns with drift by construction: {', '.join(DRIFTED_COLUMNS)}):")
    for rows, by_case in results.items():
        for case in ("a", "b"):
            rep = by_case.get(case, {}).get("report")
            if rep:
                extra = f", problems: {rep['problem_columns']}" if rep["problem_columns"] else ""
                print(f"  {_fmt_rows(rows):>4} {case:<2} drifted = {rep['drifted_columns']}{extra}")
    print()
    print("Targets:")
    r1m = results.get(1_000_000, {})
    a_num, c = r1m.get("a_num", {}), r1m.get("c", {})
    if "seconds" in a_num and "seconds" in c:
        ratio = c["seconds"] / a_num["seconds"]
        verdict = "PASS" if ratio >= 20 else "FAIL"
        print(f"  1M x 20 numeric, (a) default methods >= 20x faster than naive scipy: {ratio:.1f}x  {verdict}")
    else:
        print("  1M x 20 numeric vs naive: not measured (needs size 1000000 with cases a_num and c)")
    for b_case, scan_case in (("b", "scan"), ("b_nopre", "scan_nopre")):
        peaks = {rows: bc[b_case]["peak_mb"] for rows, bc in results.items() if "peak_mb" in bc.get(b_case, {})}
        if not peaks:
            continue
        biggest = max(peaks)
        verdict = "PASS" if peaks[biggest] <= 1024 else "FAIL"
        spread = ", ".join(f"{_fmt_rows(n)}: {p:.0f} MB" for n, p in peaks.items())
        print(f"  {CASE_LABELS[b_case].strip()}: peak RSS {spread}; <= 1024 MB at {_fmt_rows(biggest)}: {verdict}")
        if len(peaks) > 1:
            growth = peaks[biggest] - peaks[min(peaks)]
            print(f"      growth from {_fmt_rows(min(peaks))} to {_fmt_rows(biggest)} rows: {growth:+.0f} MB")
        for rows, bc in results.items():
            b, scan = bc.get(b_case, {}), bc.get(scan_case, {})
            if "peak_mb" in b and "peak_mb" in scan:
                print(
                    f"      {_fmt_rows(rows):>4}: the Parquet scan alone peaks at {scan['peak_mb']:.0f} MB "
                    f"({scan['seconds']:.2f} s); the engine adds {b['peak_mb'] - scan['peak_mb']:+.0f} MB "
                    f"and {b['seconds'] - scan['seconds']:+.2f} s"
                )


def parent_main(args: argparse.Namespace) -> int:
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.with_10m and 10_000_000 not in sizes:
        sizes.append(10_000_000)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        print(f"unknown case(s) {unknown}; known: {', '.join(CASES)}", file=sys.stderr)
        return 2
    if any(c.startswith("b") for c in cases) and "profile" not in cases:
        cases.insert(0, "profile")  # (b) needs the profile of this run's reference
    cases = [c for c in CASES if c in cases]
    data_dir = Path(args.data_dir)

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    print("Drift engine benchmark")
    print(f"  machine : {platform.machine()}, {os.cpu_count()} CPUs ({affinity} usable), {_mem_total_gb():.1f} GB RAM")
    print(f"  python  : {platform.python_version()} ({sys.executable})")
    print(f"  libs    : {', '.join(_versions())}")
    print(
        f"  data    : {N_NUMERIC} numeric + {N_CATEGORICAL} categorical columns, seed {args.seed}, "
        f"reference and current of N rows each, in {data_dir}"
    )
    print(f"  BLAS    : {_blas_info(args)}")
    print(f"  stream  : batch_size={STREAM_BATCH_ROWS}, Parquet row groups of {GEN_CHUNK_ROWS} rows, snappy")
    if args.cpus:
        print(f"  pinned  : each case runs on CPUs 0-{args.cpus - 1} (taskset)")
    print_load()
    print()

    results: dict[int, dict[str, dict[str, Any]]] = {}
    total0 = time.perf_counter()
    for rows in sizes:
        by_case: dict[str, dict[str, Any]] = {}
        results[rows] = by_case
        try:
            _, gen_s, reused = ensure_data(data_dir, rows, args.seed)
            print(f"[{_fmt_rows(rows)}] data {'reused' if reused else 'generated'} ({gen_s:.1f} s)", flush=True)
        except Exception as exc:
            print(f"[{_fmt_rows(rows)}] data generation failed: {type(exc).__name__}: {exc}", flush=True)
            for case in cases:
                by_case[case] = {"case": case, "rows": rows, "error": "no data"}
            continue
        for case in [] if args.generate_only else cases:
            if case == "c" and rows > args.naive_max_rows:
                print(f"[{_fmt_rows(rows)}] {case}: skipped (--naive-max-rows {args.naive_max_rows})", flush=True)
                continue
            if case in ("a", "a_num") and args.in_memory_max_rows and rows > args.in_memory_max_rows:
                print(f"[{_fmt_rows(rows)}] {case}: skipped (--in-memory-max-rows {args.in_memory_max_rows})")
                continue
            res = _spawn(case, rows, args)
            by_case[case] = res
            if "error" in res:
                print(f"[{_fmt_rows(rows)}] {case}: ERROR {res['error']}", flush=True)
                for line in res.get("traceback", []):
                    print(f"      {line}")
            else:
                print(
                    f"[{_fmt_rows(rows)}] {case}: {res['seconds']:.2f} s, peak {res['peak_mb']:.0f} MB "
                    f"(subprocess {res['wall_seconds']:.1f} s)",
                    flush=True,
                )
    print(f"\nTotal {time.perf_counter() - total0:.0f} s\n")
    if args.generate_only:
        return 0
    print(f"time s = the measured call only (best of {args.repeat}); rows/s = N / time s (N rows in each dataset);")
    print("peak MB = ru_maxrss of the case's subprocess (everything); base MB = RSS after the imports;")
    print("data MB = RSS of the DataFrames loaded before the call; call +MB = peak RSS during the measured")
    print("call minus the RSS just before it; naive/ours = time of (c) at the same N / time of the row;")
    print("cpu = CPUs this case kept busy during the call (CPU time / wall time; the engine uses threads);")
    print("other = CPUs kept busy by other processes meanwhile (> 0.1 or so: the timing is disturbed).\n")
    print_table(results)
    print_checks(results)
    if args.json:
        Path(args.json).write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1))
        print(f"\nraw results written to {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts (default: %(default)s)")
    ap.add_argument("--with-10m", action="store_true", help="add 10000000 to --sizes")
    ap.add_argument("--naive-max-rows", type=int, default=1_000_000, help="skip (c) above this size (%(default)s)")
    ap.add_argument("--in-memory-max-rows", type=int, default=0, help="skip (a) above this size (0: never skip)")
    ap.add_argument("--cases", default=",".join(CASES), help="subset of %(default)s")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="where the Parquet files live (%(default)s)")
    ap.add_argument(
        "--repeat", type=int, default=2, help="time each case this many times, report the best (%(default)s)"
    )
    ap.add_argument("--cpus", type=int, default=0, help="pin each case to this many CPUs with taskset (0: no pin)")
    ap.add_argument(
        "--blas-threads", type=int, default=0, help="set OPENBLAS/OMP/MKL_NUM_THREADS in the cases (0: leave as is)"
    )
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per case subprocess (%(default)s)")
    ap.add_argument("--generate-only", action="store_true", help="only write (or check) the data files")
    ap.add_argument("--json", default="", help="also write the raw results to this JSON file")
    ap.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # internal: run one case (subprocess)
    ap.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.case:
        if not args.rows:
            ap.error("--case needs --rows")
        return child_main(args)
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
