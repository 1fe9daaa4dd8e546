"""Benchmark of scale-out: profiling the current data in 1 task vs N mapped partition tasks.

One run, on ``--rows`` rows x the 20 numeric columns of ``bench_engine.py``'s
seeded synthetic data (drift in ``num_00``, ``num_04`` and ``num_14``):

* the current Parquet file of ``bench_engine.py`` (reused, or generated) is split
  once into ``--parts`` Parquet partition files of equal row counts
  (``benchmarks/.data/partitions_n{rows}_p{N}/``, 20 numeric columns, row groups
  of <= 1M rows, snappy), and a reference profile of the 20 numeric columns is
  built once from the reference file;
* (single) one subprocess does what one ``DataDriftOperator(current_path=...,
  reference_profile=...)`` task does: load the reference profile and
  ``data_drift(reference, batches)`` over the whole current file;
* (mapped) N subprocesses, run ``--slots`` at a time, each do what one mapped
  ``ReferenceProfileOperator(like_profile=...)`` task does: load the reference
  profile, ``build_profile(batches, like=reference)`` of its partition, write the
  profile JSON; then one subprocess does what ``DataDriftOperator(current_profile=[...])``
  does: load the N profiles, ``merge_profiles(*parts, like=reference)``,
  ``data_drift(reference, merged)``.

Batches are read with the conventions of ``airflow_drift_provider.sources``
(``pq.ParquetFile(fh, pre_buffer=False, buffer_size=1 MiB)``, ``iter_batches`` of
``DEFAULT_BATCH_SIZE`` = 100k rows), without importing Airflow in the tasks.
Each task runs in its own subprocess, so its peak RSS (``VmHWM``) is its own.
Reported: wall and in-task time, rows/s, peak RSS, profile JSON sizes, the CPUs
used by the tasks and by other processes, the critical path (max task + merge:
the wall time with N machines), and the agreement of the two reports.

``--airflow`` also measures real Airflow overhead: a temp ``AIRFLOW_HOME`` with
SQLite, and ``airflow dags test`` of the DAGs of ``benchmarks/dags/bench_partitions_dag.py``
(one ``DataDriftOperator`` over the whole file; 1 mapped profile task + drift; N
mapped profile tasks + drift) on ``--airflow-rows`` rows.

Usage::

    python benchmarks/bench_partitions.py                    # 10M rows, 4 partitions (~3 minutes on 2 CPUs)
    python benchmarks/bench_partitions.py --rows 1000000     # ~30 s
    python benchmarks/bench_partitions.py --rows 1000000 --airflow
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from bench_engine import (  # noqa: E402  (same data, generator and helpers as the engine benchmark)
    DEFAULT_DATA_DIR,
    DRIFTED_COLUMNS,
    GEN_CHUNK_ROWS,
    GEN_VERSION,
    NUMERIC_COLUMNS,
    CpuMeter,
    _blas_info,
    _busy_cpu_seconds,
    _f,
    _fmt_rows,
    _load,
    _mem_total_gb,
    _own_cpu_seconds,
    _rss_mb,
    _versions,
    data_paths,
    ensure_data,
    print_load,
)
from bench_pushdown import _peak_mb  # noqa: E402  (VmHWM: this process's own peak RSS)

RESULT_MARKER = "BENCH_RESULT "
PARTITION_VERSION = 1  # bump when the split changes: cached partitions are rewritten
DEFAULT_BATCH_ROWS = 100_000  # airflow_drift_provider.sources.DEFAULT_BATCH_SIZE (checked in main())
READ_BUFFER = 1 << 20  # sources._file_batches: ParquetFile(fh, pre_buffer=False, buffer_size=1 MiB)
EXPECTED_DRIFT = [c for c in DRIFTED_COLUMNS if c in NUMERIC_COLUMNS]
BINNED = ("psi", "jensenshannon", "hellinger")
AIRFLOW_BIN = str(Path(sys.executable).parent / "airflow")
DAG_FILE = HERE / "dags" / "bench_partitions_dag.py"


# ============================================================== data (parent side)
def parquet_batches(path: str | Path, batch_size: int, columns: list[str]) -> Any:
    """Record batches of one Parquet file, read as ``airflow_drift_provider.sources`` reads files."""
    import pyarrow.parquet as pq

    with open(path, "rb") as fh:
        pf = pq.ParquetFile(fh, pre_buffer=False, buffer_size=READ_BUFFER)
        names = set(pf.schema_arrow.names)
        yield from pf.iter_batches(batch_size=batch_size, columns=[c for c in columns if c in names])


def _bounds(rows: int, parts: int) -> list[int]:
    return [round(k * rows / parts) for k in range(parts + 1)]


def partition_dir(data_dir: Path, rows: int, parts: int) -> Path:
    return data_dir / f"partitions_n{rows}_p{parts}"


def ensure_partitions(data_dir: Path, rows: int, seed: int, parts: int) -> tuple[list[Path], float, bool]:
    """Split the current file into ``parts`` files of equal row counts (20 numeric columns); reuse when cached."""
    import pyarrow.parquet as pq

    src = data_paths(data_dir, rows, seed)["cur"]
    out_dir = partition_dir(data_dir, rows, parts)
    bounds = _bounds(rows, parts)
    meta = {
        "partition_version": PARTITION_VERSION,
        "source": src.name,
        "source_meta": json.loads(src.with_suffix(".meta.json").read_text()),
        "rows": rows,
        "seed": seed,
        "parts": parts,
        "bounds": bounds,
        "columns": NUMERIC_COLUMNS,
        "row_group_rows": GEN_CHUNK_ROWS,
    }
    files = [out_dir / f"part-{k:03d}.parquet" for k in range(parts)]
    meta_path = out_dir / "partitions.meta.json"
    try:
        if json.loads(meta_path.read_text()) == meta and all(
            pq.ParquetFile(f).metadata.num_rows == bounds[k + 1] - bounds[k] for k, f in enumerate(files)
        ):
            return files, 0.0, True
    except Exception:  # missing, unreadable or stale: rewrite
        pass
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    for old in out_dir.glob("part-*.parquet*"):
        old.unlink()
    k, pos, writer = 0, 0, None
    tmp = [f.with_suffix(".parquet.tmp") for f in files]
    try:
        for batch in parquet_batches(src, GEN_CHUNK_ROWS, NUMERIC_COLUMNS):
            off = 0
            while off < batch.num_rows:
                take = min(batch.num_rows - off, bounds[k + 1] - pos)
                piece = batch.slice(off, take)
                if writer is None:
                    writer = pq.ParquetWriter(tmp[k], piece.schema, compression="snappy")
                writer.write_batch(piece, row_group_size=GEN_CHUNK_ROWS)
                off += take
                pos += take
                if pos == bounds[k + 1]:
                    writer.close()
                    writer = None
                    os.replace(tmp[k], files[k])
                    k += 1
    finally:
        if writer is not None:
            writer.close()
    if k != parts:
        raise RuntimeError(f"{src} has {pos} rows, expected {rows}")
    meta_path.write_text(json.dumps(meta))
    return files, time.perf_counter() - started, False


def ensure_reference_profile(data_dir: Path, rows: int, seed: int, batch_size: int) -> tuple[Path, float, bool]:
    """The reference profile of the 20 numeric columns (streamed like the operators read files); reuse when cached."""
    import airflow_drift_provider
    from airflow_drift_provider.drift import ReferenceProfile, build_profile

    path = data_dir / f"bench_partitions_reference_n{rows}_s{seed}.json"
    want = {
        "benchmark": "bench_partitions",
        "rows": rows,
        "seed": seed,
        "gen_version": GEN_VERSION,
        "columns": NUMERIC_COLUMNS,
        "batch_size": batch_size,
        "provider_version": airflow_drift_provider.__version__,
    }
    try:
        if ReferenceProfile.load(path).metadata == want:
            return path, 0.0, True
    except Exception:  # missing, unreadable or stale: rebuild
        pass
    started = time.perf_counter()
    ref = data_paths(data_dir, rows, seed)["ref"]
    profile = build_profile(parquet_batches(ref, batch_size, NUMERIC_COLUMNS), columns=NUMERIC_COLUMNS, metadata=want)
    tmp = path.with_suffix(".json.tmp")
    profile.save(tmp)
    os.replace(tmp, path)
    return path, time.perf_counter() - started, False


# ============================================================== tasks (child side)
def _report_summary(report: dict[str, Any]) -> dict[str, Any]:
    cols = {}
    for name, r in report["columns"].items():
        cols[name] = {
            "status": r["status"],
            "drifted": r["drifted"],
            "current": r.get("current"),
            "methods": {
                m: {k: v.get(k) for k in ("statistic", "p_value", "error_bound", "distance", "drifted")}
                for m, v in r.get("methods", {}).items()
            },
        }
    return {
        "current_rows": report["current"]["rows"],
        "current_source": report["current"]["source"],
        "drifted_columns": report["summary"]["drifted_columns"],
        "dataset_drift": report["summary"]["dataset_drift"],
        "problem_columns": report["summary"]["problem_columns"],
        "engine_elapsed_seconds": report["elapsed_seconds"],
        "columns": cols,
    }


def run_task(args: argparse.Namespace) -> dict[str, Any]:
    import numpy  # noqa: F401  (imported before the baseline RSS is read)
    import pyarrow.parquet  # noqa: F401
    import scipy.stats  # noqa: F401

    from airflow_drift_provider.drift import ReferenceProfile, build_profile, data_drift, merge_profiles

    rss_imports = _rss_mb()
    meter = CpuMeter()
    t0 = time.perf_counter()
    # what load_profiles / DataDriftOperator do: read the JSON text, ReferenceProfile.from_json
    reference = ReferenceProfile.from_json(Path(args.ref_profile).read_text(encoding="utf-8"))
    phases: dict[str, float] = {"load_reference": time.perf_counter() - t0}
    out: dict[str, Any] = {"case": args.task}
    if args.task == "single":  # DataDriftOperator(current_path=<file>, reference_profile=..., columns=...)
        t = time.perf_counter()
        report = data_drift(
            reference, parquet_batches(args.input[0], args.batch_size, NUMERIC_COLUMNS), columns=NUMERIC_COLUMNS
        )
        phases["data_drift"] = time.perf_counter() - t
        out["report"] = _report_summary(report)
        out["rows"] = report["current"]["rows"]
    elif args.task == "part":  # ReferenceProfileOperator(path=<partition>, like_profile=..., columns=...)
        t = time.perf_counter()
        profile = build_profile(
            parquet_batches(args.input[0], args.batch_size, NUMERIC_COLUMNS),
            columns=NUMERIC_COLUMNS,
            like=reference,
            metadata={"source": f"path {args.input[0]}"},
        )
        phases["read_and_profile"] = time.perf_counter() - t
        t = time.perf_counter()
        text = profile.to_json()
        Path(args.output).write_text(text, encoding="utf-8")
        phases["write_json"] = time.perf_counter() - t
        out["rows"] = profile.rows
        out["json_bytes"] = len(text.encode("utf-8"))
    elif args.task == "merge":  # DataDriftOperator(current_profile=[...], reference_profile=..., columns=...)
        t = time.perf_counter()
        parts = [ReferenceProfile.from_json(Path(p).read_text(encoding="utf-8")) for p in args.input]
        phases["load_profiles"] = time.perf_counter() - t
        t = time.perf_counter()
        merged = merge_profiles(*parts, like=reference) if len(parts) > 1 else parts[0]
        phases["merge"] = time.perf_counter() - t
        t = time.perf_counter()
        report = data_drift(reference, merged, columns=NUMERIC_COLUMNS)
        phases["data_drift"] = time.perf_counter() - t
        out["report"] = _report_summary(report)
        out["rows"] = report["current"]["rows"]
    else:
        raise ValueError(f"unknown task {args.task!r}")
    seconds = time.perf_counter() - t0
    cpu, others = meter.stop()
    peak = _peak_mb()
    out.update(
        seconds=seconds,
        phases=phases,
        rss_imports_mb=rss_imports,
        peak_mb=peak,
        call_mb=peak - rss_imports,
        cpu=cpu,
        others_cpu=others,
        load=_load(),
    )
    return out


def child_main(args: argparse.Namespace) -> int:
    try:
        res = run_task(args)
    except Exception as exc:  # reported by the parent
        traceback.print_exc()
        print(RESULT_MARKER + json.dumps({"case": args.task, "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(RESULT_MARKER + json.dumps(res))
    return 0


# ============================================================== parent side
def _spawn(task: str, inputs: list[Path], ref_profile: Path, args: argparse.Namespace, output: Path | None = None):
    cmd = [
        sys.executable, str(Path(__file__).resolve()),
        "--task", task, "--ref-profile", str(ref_profile), "--batch-size", str(args.batch_size),
    ]  # fmt: skip
    for p in inputs:
        cmd += ["--input", str(p)]
    if output is not None:
        cmd += ["--output", str(output)]
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"case": task, "error": f"timed out after {args.timeout:.0f} s"}
    ended = time.perf_counter()
    res = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            res = json.loads(line[len(RESULT_MARKER) :])
    if res is None:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
        res = {"case": task, "error": f"exit code {proc.returncode}: " + " | ".join(tail)}
    res.update(wall_seconds=ended - started, started=started, ended=ended)
    return res


class PhaseMeter:
    """CPUs kept busy by our (waited-for) subprocesses and by every *other* process during a phase."""

    def __init__(self) -> None:
        t = os.times()
        self.wall, self.busy, self.own = time.perf_counter(), _busy_cpu_seconds(), _own_cpu_seconds()
        self.children = t.children_user + t.children_system

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self.wall
        t = os.times()
        children = t.children_user + t.children_system - self.children
        own = _own_cpu_seconds() - self.own
        others = _busy_cpu_seconds() - self.busy - children - own
        return {"wall": wall, "cpu": children / wall, "others_cpu": max(0.0, others / wall), "load": _load()}


def run_engine(args: argparse.Namespace, files: list[Path], cur: Path, ref_profile: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print(f"[{_fmt_rows(args.rows)}] single: 1 task over the whole current file ...", flush=True)
    out["single"] = _spawn("single", [cur], ref_profile, args)
    _progress(out["single"])
    with tempfile.TemporaryDirectory(prefix="bench-partitions-") as tmp:
        outputs = [Path(tmp) / f"part-{k:03d}.json" for k in range(len(files))]
        print(f"[{_fmt_rows(args.rows)}] mapped: {len(files)} partition tasks, {args.slots} at a time ...", flush=True)
        meter = PhaseMeter()
        with ThreadPoolExecutor(max_workers=args.slots) as pool:
            futures = [
                pool.submit(_spawn, "part", [f], ref_profile, args, o) for f, o in zip(files, outputs, strict=True)
            ]
            parts = [fut.result() for fut in futures]
        out["parts"] = parts
        out["parts_phase"] = meter.stop()
        for r in parts:
            _progress(r)
        print(f"[{_fmt_rows(args.rows)}] mapped: merge + data_drift ...", flush=True)
        out["merge"] = _spawn("merge", outputs, ref_profile, args)
        _progress(out["merge"])
    return out


def _progress(r: dict[str, Any]) -> None:
    if "error" in r:
        print(f"      {r['case']}: ERROR {r['error']}", flush=True)
    else:
        print(
            f"      {r['case']}: {r['seconds']:.2f} s in the task, {r['wall_seconds']:.2f} s subprocess, "
            f"peak {r['peak_mb']:.0f} MB, other {r['others_cpu']:.2f} CPUs, load {r['load']:.2f}",
            flush=True,
        )


# ============================================================== report
def _row(label: str, rows: int, tasks: str, task_s: Any, wall_s: Any, peak: Any, call: Any, kib: Any, cpu, other, load):
    rps = rows / wall_s if wall_s else None
    return (
        f"{label:<52} {_fmt_rows(rows):>5} {tasks:>5} {_f(task_s, '8.2f'):>8} {_f(wall_s, '8.2f'):>8} "
        f"{_f(rps, '11,.0f'):>11} {_f(peak, '8.0f'):>8} {_f(call, '8.0f'):>8} {_f(kib, '9,.0f'):>9} "
        f"{_f(cpu, '4.1f'):>4} {_f(other, '5.2f'):>5} {_f(load, '5.2f'):>5}"
    )


def derived(res: dict[str, Any], rows: int) -> dict[str, Any]:
    """Totals of the mapped run and the critical path (N machines)."""
    single, parts, merge, phase = res["single"], res["parts"], res["merge"], res["parts_phase"]
    if "error" in merge or any("error" in r for r in parts):
        return {}
    total_wall = phase["wall"] + merge["wall_seconds"]
    crit_task = max(r["seconds"] for r in parts) + merge["seconds"]
    crit_wall = max(r["wall_seconds"] for r in parts) + merge["wall_seconds"]
    cpu = (phase["cpu"] * phase["wall"] + merge["cpu"] * merge["seconds"]) / total_wall
    other = (phase["others_cpu"] * phase["wall"] + merge["others_cpu"] * merge["seconds"]) / total_wall
    out = {
        "total_wall_seconds": total_wall,
        "sum_task_seconds": sum(r["seconds"] for r in parts) + merge["seconds"],
        "critical_task_seconds": crit_task,
        "critical_wall_seconds": crit_wall,
        "max_task_peak_mb": max(r["peak_mb"] for r in parts),
        "max_task_call_mb": max(r["call_mb"] for r in parts),
        "json_bytes_total": sum(r["json_bytes"] for r in parts),
        "json_bytes_max": max(r["json_bytes"] for r in parts),
        "cpu": cpu,
        "others_cpu": other,
        "rows_per_second": rows / total_wall,
        "critical_rows_per_second": rows / crit_wall,
    }
    if "error" not in single:
        out["speedup_total"] = single["wall_seconds"] / total_wall
        out["speedup_critical"] = single["wall_seconds"] / crit_wall
    return out


def print_table(res: dict[str, Any], rows: int, slots: int) -> dict[str, Any]:
    n = len(res["parts"])
    header = (
        f"{'case':<52} {'rows':>5} {'tasks':>5} {'task s':>8} {'wall s':>8} {'rows/s':>11} {'peak MB':>8} "
        f"{'call +MB':>8} {'JSON KiB':>9} {'cpu':>4} {'other':>5} {'load':>5}"
    )
    print(header)
    print("-" * len(header))

    def one(label: str, r: dict[str, Any], r_rows: int, kib: Any = None) -> None:
        if "error" in r:
            print(f"{label:<52} ERROR: {r['error']}")
            return
        print(
            _row(label, r_rows, "1", r["seconds"], r["wall_seconds"], r["peak_mb"], r["call_mb"], kib, r["cpu"],
                 r["others_cpu"], r["load"])
        )  # fmt: skip

    one("(single) 1 task: data_drift(reference, whole file)", res["single"], rows)
    for k, r in enumerate(res["parts"]):
        kib = r["json_bytes"] / 1024 if "json_bytes" in r else None
        one(f"(mapped) partition task {k + 1}/{n}: build_profile(like=)", r, r.get("rows", 0), kib)
    one(f"(mapped) merge {n} profiles + data_drift", res["merge"], rows)
    d = derived(res, rows)
    if d:
        ph = res["parts_phase"]
        print(
            _row(f"(mapped) total: {n} tasks on {slots} slots, then merge", rows, str(n + 1), d["sum_task_seconds"],
                 d["total_wall_seconds"], max(d["max_task_peak_mb"], res["merge"]["peak_mb"]), d["max_task_call_mb"],
                 d["json_bytes_total"] / 1024, d["cpu"], d["others_cpu"], ph["load"])
        )  # fmt: skip
        print(
            _row(f"(mapped) critical path ({n} machines): max task + merge", rows, "2", d["critical_task_seconds"],
                 d["critical_wall_seconds"], d["max_task_peak_mb"], d["max_task_call_mb"], None, None, None, None)
        )  # fmt: skip
    part_cpu = [r["cpu"] for r in res["parts"] if "cpu" in r]
    if part_cpu and max(part_cpu) < 0.8:
        print(
            f"  note: the partition tasks got {min(part_cpu):.1f}-{max(part_cpu):.1f} CPUs each ({slots} at a time, "
            f"other load {res['parts_phase']['others_cpu']:.2f} CPUs), so their times - and the critical path -\n"
            "        are those of shared CPUs; run with --slots 1 for each task on its own (as on its own machine)."
        )
    print()
    print(
        "task s = inside the task's subprocess: load the reference profile ... write the JSON / return the report\n"
        "  (total row: the sum over the tasks; critical path: max partition task + merge);\n"
        "wall s = subprocess wall time, Python start and imports included (total row: first partition task started\n"
        f"  -> last one ended, {slots} at a time, + the merge task; critical path: slowest partition task + merge);\n"
        "rows/s = current rows / wall s; peak MB = VmHWM of the task's subprocess (total row: max over all tasks);\n"
        "call +MB = peak MB - RSS after the imports; JSON KiB = the partition profile written by the task;\n"
        "cpu = CPUs the task kept busy (total row: all our tasks, from the parent); other = CPUs kept busy by other\n"
        "  processes meanwhile (partition task rows: including the sibling tasks running in the other slots; total\n"
        "  row: excluding all of this benchmark's processes); load = 1-minute load average when the case ended."
    )
    return d


def _rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def check_agreement(single: dict[str, Any], merged: dict[str, Any]) -> dict[str, Any]:
    """The tolerances of tests/test_scale_out_airflow.py: binned 1e-9 relative, KS within the bound, W1 1 %."""
    a, b = single["columns"], merged["columns"]
    out: dict[str, Any] = {
        "same_drifted": single["drifted_columns"] == merged["drifted_columns"],
        "same_decisions": all(a[c]["drifted"] == b[c]["drifted"] for c in a) and set(a) == set(b),
        "rows": [single["current_rows"], merged["current_rows"]],
        "binned_max_rel": 0.0,
        "ks_max_diff": 0.0,
        "ks_bound_at_max": 0.0,
        "ks_max_bound": 0.0,
        "ks_within_bound": True,
        "w_max_rel": 0.0,
        "w_within_1pct": True,
        "side_stats_equal": True,
        "mean_std_max_rel": 0.0,
        "method_decisions_equal": True,
    }
    for c in a:
        ma, mb = a[c]["methods"], b.get(c, {}).get("methods", {})
        if set(ma) != set(mb):
            out["method_decisions_equal"] = False
        for m, ra in ma.items():
            rb = mb.get(m)
            if rb is None or ra.get("statistic") is None or rb.get("statistic") is None:
                continue
            out["method_decisions_equal"] &= ra.get("drifted") == rb.get("drifted")
            if m in BINNED:
                out["binned_max_rel"] = max(out["binned_max_rel"], _rel(ra["statistic"], rb["statistic"]))
            elif m == "ks":
                diff = abs(ra["statistic"] - rb["statistic"])
                bound = max(ra["error_bound"] or 0.0, rb["error_bound"] or 0.0)
                out["ks_max_bound"] = max(out["ks_max_bound"], bound)
                if diff >= out["ks_max_diff"]:
                    out["ks_max_diff"], out["ks_bound_at_max"] = diff, bound
                out["ks_within_bound"] &= diff <= bound + 1e-12
            elif m == "wasserstein":
                rel = _rel(ra["statistic"], rb["statistic"])
                out["w_max_rel"] = max(out["w_max_rel"], rel)
                out["w_within_1pct"] &= rel <= 1e-2 or abs(ra["statistic"] - rb["statistic"]) <= 1e-4
        sa, sb = a[c].get("current") or {}, b.get(c, {}).get("current") or {}
        for k in ("rows", "valid", "nulls", "min", "max"):
            out["side_stats_equal"] &= sa.get(k) == sb.get(k)
        for k in ("mean", "std"):
            if k in sa and k in sb:
                out["mean_std_max_rel"] = max(out["mean_std_max_rel"], _rel(sa[k], sb[k]))
    out["binned_ok"] = out["binned_max_rel"] <= 1e-9
    out["ok"] = bool(
        out["same_drifted"]
        and out["same_decisions"]
        and out["binned_ok"]
        and out["ks_within_bound"]
        and out["w_within_1pct"]
        and out["side_stats_equal"]
        and out["mean_std_max_rel"] <= 1e-9
        and out["rows"][0] == out["rows"][1]
    )
    return out


def print_agreement(single: dict[str, Any], merged: dict[str, Any], chk: dict[str, Any]) -> None:
    yes = {True: "yes", False: "NO"}
    print(f"\nAgreement of the merged result with the single task (drift by construction: {EXPECTED_DRIFT}):")
    print(f"  drifted (single): {single['drifted_columns']}")
    print(
        f"  drifted (mapped): {merged['drifted_columns']}   same: {yes[chk['same_drifted']]}; "
        f"same per-column and per-method decisions: {yes[chk['same_decisions'] and chk['method_decisions_equal']]}"
    )
    print(
        f"  binned statistics (psi, jensenshannon, hellinger): max relative difference "
        f"{chk['binned_max_rel']:.1e} (<= 1e-9: {yes[chk['binned_ok']]})"
    )
    print(
        f"  KS: max |difference| {chk['ks_max_diff']:.2e}, reported error_bound there {chk['ks_bound_at_max']:.2e} "
        f"(max bound {chk['ks_max_bound']:.2e}); all within the bound: {yes[chk['ks_within_bound']]}"
    )
    print(
        f"  Wasserstein (std units): max relative difference {chk['w_max_rel']:.1e} "
        f"(within 1 %: {yes[chk['w_within_1pct']]})"
    )
    print(
        f"  current rows {chk['rows'][0]:,} vs {chk['rows'][1]:,}; per-column rows/valid/nulls/min/max equal: "
        f"{yes[chk['side_stats_equal']]}; mean/std max relative difference {chk['mean_std_max_rel']:.1e}"
    )


# ============================================================== Airflow (--airflow)
def _airflow_env(home: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and "proxy" not in k.lower()}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAG_FILE.parent),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        BENCH_PARTITIONS_CONFIG=str(config),
    )
    return env


def _airflow(env: dict[str, str], log: Path, timeout: float, *cmd: str) -> tuple[int, float]:
    started = time.perf_counter()
    with log.open("a") as fh:
        fh.write(f"\n$ airflow {' '.join(cmd)}\n")
        fh.flush()
        try:
            proc = subprocess.run(
                [AIRFLOW_BIN, *cmd], env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = -1
    return rc, time.perf_counter() - started


def _task_instances(db: Path, dag_id: str) -> list[dict[str, Any]]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "select task_id, map_index, state, duration from task_instance where dag_id=? order by start_date",
            (dag_id,),
        ).fetchall()
        xcom = con.execute(
            "select task_id, value from xcom where dag_id=? and key='return_value' and map_index=-1", (dag_id,)
        ).fetchall()
    finally:
        con.close()
    reports = {}
    for task_id, value in xcom:
        v = json.loads(value)
        reports[task_id] = json.loads(v) if isinstance(v, str) and v[:1] == "{" else v
    out = []
    for task_id, map_index, state, duration in rows:
        rep = reports.get(task_id) if map_index == -1 else None
        drifted = rep["summary"]["drifted_columns"] if isinstance(rep, dict) and "summary" in rep else None
        out.append(
            {"task_id": task_id, "map_index": map_index, "state": state, "duration": duration, "drifted": drifted}
        )
    return out


def run_airflow(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    rows = args.airflow_rows
    paths, gen_s, reused = ensure_data(data_dir, rows, args.seed)
    files, part_s, part_reused = ensure_partitions(data_dir, rows, args.seed, args.parts)
    ref_profile, ref_s, ref_reused = ensure_reference_profile(data_dir, rows, args.seed, args.batch_size)
    print(
        f"[airflow {_fmt_rows(rows)}] data {'reused' if reused else f'generated ({gen_s:.0f} s)'}, partitions "
        f"{'reused' if part_reused else f'written ({part_s:.0f} s)'}, reference profile "
        f"{'reused' if ref_reused else f'built ({ref_s:.0f} s)'}",
        flush=True,
    )
    home = Path(tempfile.mkdtemp(prefix="bench-partitions-airflow-"))
    out: dict[str, Any] = {"rows": rows, "home": str(home), "dags": {}}
    try:
        config = home / "bench_partitions.json"
        dag_ids = {
            "single": "bench_partitions_single",
            "mapped_1": "bench_partitions_mapped_1",
            "mapped_n": f"bench_partitions_mapped_{args.parts}",
        }
        config.write_text(
            json.dumps(
                {
                    "reference_profile": str(ref_profile),
                    "current_file": str(paths["cur"]),
                    "partitions": [str(f) for f in files],
                    "columns": NUMERIC_COLUMNS,
                    "batch_size": args.batch_size,
                    "dag_ids": dag_ids,
                }
            )
        )
        env = _airflow_env(home, config)
        log = home / "airflow.log"
        rc, secs = _airflow(env, log, 900, "db", "migrate")
        out["db_migrate_seconds"] = secs
        print(f"[airflow {_fmt_rows(rows)}] airflow db migrate (SQLite): {secs:.1f} s", flush=True)
        if rc != 0:
            out["error"] = f"airflow db migrate failed (rc {rc}): " + log.read_text()[-1500:]
            return out
        for key, dag_id in dag_ids.items():
            meter = PhaseMeter()
            rc, secs = _airflow(env, log, args.timeout, "dags", "test", dag_id)
            ph = meter.stop()
            tis = _task_instances(home / "airflow.db", dag_id)
            r = {"dag_id": dag_id, "rc": rc, "seconds": secs, "tasks": tis, **{k: ph[k] for k in ("cpu", "others_cpu")}}
            out["dags"][key] = r
            task_sum = sum(t["duration"] or 0.0 for t in tis)
            print(
                f"[airflow {_fmt_rows(rows)}] airflow dags test {dag_id}: {secs:.1f} s (rc {rc}), {len(tis)} task "
                f"instances, {task_sum:.1f} s in tasks, other {ph['others_cpu']:.2f} CPUs",
                flush=True,
            )
            if rc != 0:
                out["dags"][key]["log_tail"] = log.read_text()[-1500:]
    finally:
        if args.keep_airflow_home:
            print(f"  (Airflow home kept: {home})")
        else:
            shutil.rmtree(home, ignore_errors=True)
    return out


def print_airflow(res: dict[str, Any], parts: int) -> None:
    rows = res["rows"]
    print(f"\nAirflow overhead (airflow dags test on SQLite, {_fmt_rows(rows)} rows; tasks run one after another):")
    if "error" in res:
        print(f"  ERROR: {res['error']}")
        return
    header = (
        f"  {'DAG':<48} {'tasks':>5} {'dags test s':>11} {'sum task s':>10} {'max task s':>10} "
        f"{'overhead s':>10} {'other':>5}  drifted"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    labels = {
        "single": "DataDriftOperator(current_path=<file>)",
        "mapped_1": "1 mapped ReferenceProfileOperator + drift",
        "mapped_n": f"{parts} mapped ReferenceProfileOperator + drift",
    }
    for key, r in res["dags"].items():
        tis = r["tasks"]
        durs = [t["duration"] or 0.0 for t in tis]
        drifted = next((t["drifted"] for t in tis if t["drifted"] is not None), None)
        bad = [f"{t['task_id']}[{t['map_index']}]={t['state']}" for t in tis if t["state"] != "success"]
        status = "" if r["rc"] == 0 and not bad else f"  FAILED rc={r['rc']} {bad}"
        print(
            f"  {labels[key]:<48} {len(tis):>5} {r['seconds']:>11.1f} {sum(durs):>10.1f} {max(durs, default=0):>10.1f} "
            f"{r['seconds'] - sum(durs):>10.1f} {r['others_cpu']:>5.2f}  {drifted}{status}"
        )
        order = ", ".join(
            t["task_id"] + ("" if t["map_index"] == -1 else f"[{t['map_index']}]") + f" {t['duration'] or 0.0:.2f}"
            for t in tis
        )
        print(f"      in run order (s): {order}")
    print(
        f"  (db migrate {res['db_migrate_seconds']:.1f} s, not included; sum/max task s = task_instance.duration; "
        "overhead = dags test wall - sum of the task durations:\n"
        "   CLI start, DAG parsing, the scheduler loop of dags test, XCom; other = CPUs kept busy by other "
        "processes).\n"
        "  dags test runs the tasks one after another in one process: the first task's duration includes its cold\n"
        "  start (imports), later tasks run warm - on a real executor every task instance pays the start-up."
    )


# ============================================================== main
def parent_main(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir)
    try:  # keep the tasks' batch size in step with the operators' default
        from airflow_drift_provider.sources import DEFAULT_BATCH_SIZE

        if args.batch_size != DEFAULT_BATCH_SIZE and not args.batch_size_given:
            args.batch_size = DEFAULT_BATCH_SIZE
    except ImportError:
        pass
    print("Scale-out benchmark: 1 task vs N mapped partition tasks + merge")
    print(
        f"  machine : {platform.machine()}, {os.cpu_count()} CPUs ({args.slots} slots used), "
        f"{_mem_total_gb():.1f} GB RAM"
    )
    print(f"  python  : {platform.python_version()} ({sys.executable})")
    print(f"  libs    : {', '.join(_versions())}")
    print(f"  BLAS    : {_blas_info(argparse.Namespace(blas_threads=0))}")
    print(
        f"  data    : {_fmt_rows(args.rows)} current rows x {len(NUMERIC_COLUMNS)} numeric columns, seed {args.seed}, "
        f"{args.parts} partitions, batches of {args.batch_size:,} rows (pre_buffer=False), in {data_dir}"
    )
    print_load()
    print()
    started = time.perf_counter()
    _, gen_s, reused = ensure_data(data_dir, args.rows, args.seed)
    paths = data_paths(data_dir, args.rows, args.seed)
    print(f"[{_fmt_rows(args.rows)}] data {'reused' if reused else 'generated'} ({gen_s:.1f} s): {paths['cur'].name}")
    files, part_s, part_reused = ensure_partitions(data_dir, args.rows, args.seed, args.parts)
    size = sum(f.stat().st_size for f in files) / 2**20
    bounds = _bounds(args.rows, args.parts)
    print(
        f"[{_fmt_rows(args.rows)}] partitions {'reused' if part_reused else f'written ({part_s:.1f} s)'}: "
        f"{len(files)} files in {files[0].parent.name}/, {size:,.0f} MB, "
        f"{', '.join(_fmt_rows(b - a) for a, b in itertools.pairwise(bounds))} rows"
    )
    ref_profile, ref_s, ref_reused = ensure_reference_profile(data_dir, args.rows, args.seed, args.batch_size)
    print(
        f"[{_fmt_rows(args.rows)}] reference profile {'reused' if ref_reused else f'built ({ref_s:.1f} s)'}: "
        f"{ref_profile.name}, {ref_profile.stat().st_size / 1024:,.0f} KiB",
        flush=True,
    )
    results: dict[str, Any] = {"rows": args.rows, "parts": args.parts, "slots": args.slots, "seed": args.seed}
    results.update(run_engine(args, files, paths["cur"], ref_profile))
    print()
    d = print_table(results, args.rows, args.slots)
    results["derived"] = d
    ok = bool(d)
    single, merge = results["single"], results["merge"]
    if "report" in single and "report" in merge:
        chk = check_agreement(single["report"], merge["report"])
        results["agreement"] = chk
        print_agreement(single["report"], merge["report"], chk)
        ok = ok and chk["ok"]
        if d:
            mp = merge["phases"]
            print(
                f"\n  merge task: load {args.parts} profiles {mp['load_profiles']:.2f} s, merge_profiles "
                f"{mp['merge']:.2f} s, data_drift {mp['data_drift']:.2f} s; profile JSON "
                f"{d['json_bytes_max'] / 1024:,.0f} KiB per partition ({d['json_bytes_total'] / 1024:,.0f} KiB in all)"
            )
            print(
                f"\nVerdict: {args.parts} mapped tasks on {args.slots} slots + merge took "
                f"{d['total_wall_seconds']:.1f} s vs {single['wall_seconds']:.1f} s in 1 task "
                f"({d['speedup_total']:.2f}x); with {args.parts} machines the critical path is "
                f"{d['critical_wall_seconds']:.1f} s ({d['speedup_critical']:.2f}x, "
                f"{d['critical_rows_per_second']:,.0f} rows/s); peak RSS {d['max_task_peak_mb']:.0f} MB per "
                f"partition task vs {single['peak_mb']:.0f} MB, merge+drift {merge['peak_mb']:.0f} MB in "
                f"{merge['seconds']:.2f} s; same results: {'yes' if chk['ok'] else 'NO'}."
            )
    else:
        ok = False
        print("\nVerdict: a case failed (see above); no comparison.")
    if args.airflow:
        print()
        results["airflow"] = run_airflow(args, data_dir)
        print_airflow(results["airflow"], args.parts)
    print(f"\nTotal {time.perf_counter() - started:.0f} s (1-min load average now {_load():.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
        print(f"raw results written to {args.json}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="current (and reference) rows (%(default)s)")
    ap.add_argument("--parts", type=int, default=4, help="partitions = mapped profile tasks (%(default)s)")
    ap.add_argument(
        "--slots", type=int, default=cpus, help="partition tasks run at a time (default: CPU count, %(default)s)"
    )
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--batch-size", type=int, default=None, help=f"rows per batch (default {DEFAULT_BATCH_ROWS:,})")
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="where the Parquet files live (%(default)s)")
    ap.add_argument("--airflow", action="store_true", help="also time `airflow dags test` (temp SQLite home)")
    ap.add_argument("--airflow-rows", type=int, default=1_000_000, help="rows for --airflow (%(default)s)")
    ap.add_argument("--keep-airflow-home", action="store_true", help="do not delete the temp AIRFLOW_HOME")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess (%(default)s)")
    ap.add_argument("--json", default="", help="also write the raw results to this JSON file")
    ap.add_argument("--task", choices=("single", "part", "merge"), help=argparse.SUPPRESS)  # internal (subprocess)
    ap.add_argument("--ref-profile", help=argparse.SUPPRESS)
    ap.add_argument("--input", action="append", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.batch_size_given = args.batch_size is not None
    if args.batch_size is None:
        args.batch_size = DEFAULT_BATCH_ROWS
    if args.task:
        return child_main(args)
    if args.parts < 1 or args.parts > args.rows:
        ap.error("--parts must be between 1 and --rows")
    if args.slots < 1:
        ap.error("--slots must be >= 1")
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
