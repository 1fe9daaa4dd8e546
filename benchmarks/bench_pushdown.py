"""Benchmark of SQL pushdown (``profile_sql``) against pulling a PostgreSQL table through a cursor.

One run:

1. starts a throwaway PostgreSQL (``devtools.pg_server.local_postgres``, or the
   server of ``DRIFT_TEST_POSTGRES_URI``) and loads ``--rows`` rows x 20
   numeric columns of *current* data into table ``current_data`` - the
   generator of ``bench_engine.py`` (normal, log-normal, exponential, uniform,
   gamma, beta, t, Poisson/binomial counts, prices in cents, a bimodal
   mixture, two columns with NaN; drift in ``num_00``, ``num_04`` and
   ``num_14``), generated with numpy 1M rows at a time and loaded with ``COPY
   ... FROM STDIN`` (binary format: the CSV text of 200M doubles alone takes
   ~7 minutes to format in Python on 2 cores, the binary buffer a few seconds)
   then ``VACUUM ANALYZE``;
2. builds a reference profile from ``--ref-rows`` reference rows (numpy, not
   the database);
3. measures, each in a fresh subprocess (so its peak RSS is its own):

   (a) *pull*: ``data_drift(reference_profile, batches)`` with the batches read
       like ``airflow_drift_provider/sources.py`` ``sql_batches`` does: a
       server-side (named) psycopg2 cursor, ``fetchmany(--batch-size)``, one
       ``pa.array`` per column;
   (b) *pushdown*: ``profile_sql(conn, "current_data", reference_profile)``
       then ``data_drift(reference_profile, current_profile)``;

   wall seconds, rows/s, peak RSS of the client process (``VmHWM``), the
   numbers the database returned, the statements run, the CPUs used by the
   client and by everything else (the database server, mostly), and checks
   that both find the same drifted columns and agree within the engine's
   bounds.

Usage::

    python benchmarks/bench_pushdown.py                  # 10M rows (about 8-9 minutes on 2 CPUs)
    python benchmarks/bench_pushdown.py --rows 1000000   # quick run (about 1 minute)
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from bench_engine import (  # noqa: E402  (same generator and helpers as the engine benchmark)
    DRIFTED_COLUMNS,
    NUMERIC_COLUMNS,
    CpuMeter,
    _load,
    _maxrss_mb,
    _numeric,
    _reset_peak,
    _rss_mb,
)

RESULT_MARKER = "BENCH_RESULT "


def _peak_mb() -> float:
    """This process's own peak RSS: ``VmHWM`` (Linux; reset by ``_reset_peak``), else ``ru_maxrss``.

    ``ru_maxrss`` alone is not usable here: Linux keeps the parent's maximum across fork + exec, and the
    parent holds the generated data.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return _maxrss_mb()


TABLE = "current_data"
GEN_CHUNK_ROWS = 1_000_000
CASES = ("pull", "pushdown")
CASE_LABELS = {
    "pull": "(a) pull: server-side cursor + fetchmany -> data_drift",
    "pushdown": "(b) pushdown: profile_sql -> data_drift",
}
EXPECTED_DRIFT = [c for c in DRIFTED_COLUMNS if c in NUMERIC_COLUMNS]


# ============================================================== data (parent side)
def _chunk(seed: int, side: int, chunk: int, n: int) -> Any:
    """``n`` x 20 float64 matrix of one side (0 reference, 1 current), as bench_engine generates it."""
    import numpy as np

    rng = np.random.default_rng(np.random.SeedSequence([seed, side, chunk]))
    return np.column_stack([_numeric(rng, i, n, side == 1) for i in range(len(NUMERIC_COLUMNS))])


def _copy_binary(cur: Any, table: str, m: Any) -> None:
    """``COPY table FROM STDIN (FORMAT binary)`` of a float64 matrix (NaN stays NaN, a null to the engine)."""
    import numpy as np

    n, c = m.shape
    fields = [("n", ">i2")] + [x for i in range(c) for x in ((f"l{i}", ">i4"), (f"v{i}", ">f8"))]
    rec = np.empty(n, dtype=np.dtype(fields))
    rec["n"] = c
    for i in range(c):
        rec[f"l{i}"] = 8
        rec[f"v{i}"] = m[:, i]
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
    buf = io.BytesIO(header + rec.tobytes() + b"\xff\xff")
    cur.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT binary)", buf)


def load_current(uri: str, rows: int, seed: int) -> dict[str, float]:
    import psycopg2

    conn = psycopg2.connect(uri)
    cur = conn.cursor()
    cols = ", ".join(f"{c} double precision" for c in NUMERIC_COLUMNS)
    cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    cur.execute(f"CREATE TABLE {TABLE} ({cols})")
    t0 = time.perf_counter()
    gen = 0.0
    for chunk, start in enumerate(range(0, rows, GEN_CHUNK_ROWS)):
        g0 = time.perf_counter()
        m = _chunk(seed, 1, chunk, min(GEN_CHUNK_ROWS, rows - start))
        gen += time.perf_counter() - g0
        _copy_binary(cur, TABLE, m)
    conn.commit()
    loaded = time.perf_counter() - t0
    conn.autocommit = True
    t1 = time.perf_counter()
    cur.execute(f"VACUUM ANALYZE {TABLE}")
    vacuum = time.perf_counter() - t1
    cur.execute("SELECT pg_total_relation_size(%s)", (TABLE,))
    size = cur.fetchone()[0]
    conn.close()
    return {"load_seconds": loaded, "generate_seconds": gen, "vacuum_seconds": vacuum, "table_mb": size / 2**20}


def build_reference(ref_rows: int, seed: int, path: Path) -> dict[str, float]:
    import pandas as pd

    from airflow_drift_provider.drift import build_profile

    t0 = time.perf_counter()
    frames = [
        pd.DataFrame(_chunk(seed, 0, chunk, min(GEN_CHUNK_ROWS, ref_rows - start)), columns=NUMERIC_COLUMNS)
        for chunk, start in enumerate(range(0, ref_rows, GEN_CHUNK_ROWS))
    ]
    profile = build_profile(frames, metadata={"benchmark": "bench_pushdown", "rows": ref_rows, "seed": seed})
    profile.save(path)
    return {"reference_seconds": time.perf_counter() - t0, "profile_bytes": path.stat().st_size}


# ============================================================== cases (child side)
def _sql_batches(conn: Any, sql: str, batch_size: int) -> Any:
    """What ``sources.sql_batches`` does, minus the Airflow hook: named cursor, fetchmany, pa.array per column."""
    import pyarrow as pa

    cur = conn.cursor(name="drift_pull")  # server-side: rows come batch_size at a time
    cur.itersize = batch_size
    cur.execute(sql)
    names = None
    while True:
        rows = cur.fetchmany(batch_size)
        if not rows:
            break
        if names is None:
            names = [str(d[0]) for d in cur.description]
        columns = list(zip(*rows, strict=True))
        arrays = []
        for col in columns:
            try:
                arrays.append(pa.array(col))
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                arrays.append(pa.array([None if v is None else str(v) for v in col], type=pa.string()))
        yield pa.RecordBatch.from_arrays(arrays, names=names)
    cur.close()


def run_case(case: str, uri: str, profile_path: str, batch_size: int) -> dict[str, Any]:
    import numpy  # noqa: F401  (imported before the baseline RSS is read)
    import psycopg2
    import pyarrow  # noqa: F401
    import scipy.stats  # noqa: F401

    from airflow_drift_provider.drift import ReferenceProfile, data_drift, profile_sql

    reference = ReferenceProfile.load(profile_path)
    conn = psycopg2.connect(uri)
    rss_imports = _rss_mb()
    peak_before = _peak_mb()
    reset = _reset_peak()
    meter = CpuMeter()
    t0 = time.perf_counter()
    meta: dict[str, Any] = {}
    if case == "pull":
        counter = {"rows": 0}

        def counted() -> Any:
            for b in _sql_batches(conn, f"SELECT * FROM {TABLE}", batch_size):
                counter["rows"] += b.num_rows
                yield b

        report = data_drift(reference, counted())
        meta = {"rows_returned": counter["rows"], "values_returned": counter["rows"] * len(NUMERIC_COLUMNS)}
        meta["queries"] = 1
    elif case == "pushdown":
        t_p = time.perf_counter()
        current = profile_sql(conn, TABLE, reference, dialect="postgres")
        meta = {k: current.metadata[k] for k in ("queries", "rows_returned", "values_returned", "refined_columns")}
        meta["profile_seconds"] = time.perf_counter() - t_p
        report = data_drift(reference, current)
    else:
        raise ValueError(f"unknown case {case!r}")
    seconds = time.perf_counter() - t0
    used, others = meter.stop()
    conn.rollback()
    conn.close()
    peak = _peak_mb()
    cols = {}
    for name, r in report["columns"].items():
        m = r.get("methods", {})
        cols[name] = {
            "status": r["status"],
            "drifted": r["drifted"],
            "ks": m.get("ks", {}).get("statistic"),
            "ks_bound": m.get("ks", {}).get("error_bound"),
            "w": m.get("wasserstein", {}).get("statistic"),
            "psi": m.get("psi", {}).get("statistic"),
        }
    return {
        "case": case,
        "rows": report["current"]["rows"],
        "seconds": seconds,
        "rss_imports_mb": rss_imports,
        "peak_mb": max(peak, peak_before),
        "call_mb": (peak if reset else max(peak, peak_before)) - rss_imports,
        "cpu": used,
        "others_cpu": others,
        "load": _load(),
        "drifted_columns": report["summary"]["drifted_columns"],
        "columns": cols,
        **meta,
    }


def child_main(args: argparse.Namespace) -> int:
    try:
        res = run_case(args.case, args.uri, args.profile, args.batch_size)
    except Exception as exc:  # reported by the parent
        traceback.print_exc()
        print(RESULT_MARKER + json.dumps({"case": args.case, "error": f"{type(exc).__name__}: {exc}"}))
        return 1
    print(RESULT_MARKER + json.dumps(res))
    return 0


# ============================================================== parent side
def _spawn(case: str, uri: str, profile: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable, str(Path(__file__).resolve()),
        "--case", case, "--uri", uri, "--profile", str(profile), "--batch-size", str(args.batch_size),
    ]  # fmt: skip
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"case": case, "error": f"timed out after {args.timeout:.0f} s"}
    res = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            res = json.loads(line[len(RESULT_MARKER) :])
    if res is None:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
        res = {"case": case, "error": f"exit code {proc.returncode}: " + " | ".join(tail)}
    res["wall_seconds"] = time.perf_counter() - started
    return res


def _server_version(uri: str) -> str:
    try:
        import psycopg2

        conn = psycopg2.connect(uri)
        cur = conn.cursor()
        cur.execute("SHOW server_version")
        v = cur.fetchone()[0]
        cur.execute("SHOW work_mem")
        wm = cur.fetchone()[0]
        cur.execute("SHOW max_parallel_workers_per_gather")
        par = cur.fetchone()[0]
        conn.close()
        return f"PostgreSQL {v} (work_mem {wm}, max_parallel_workers_per_gather {par})"
    except Exception as exc:
        return f"PostgreSQL ? ({exc})"


def _fmt_rows(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def print_results(results: dict[str, dict[str, Any]], rows: int) -> None:
    header = (
        f"{'case':<56} {'rows':>5} {'time s':>8} {'rows/s':>10} {'peak MB':>8} {'call +MB':>8} "
        f"{'numbers from DB':>15} {'stmts':>5} {'cpu':>4} {'db+other':>8}"
    )
    print(header)
    print("-" * len(header))
    for case in CASES:
        r = results.get(case)
        if r is None:
            continue
        if "error" in r:
            print(f"{CASE_LABELS[case]:<56} ERROR: {r['error']}")
            continue
        print(
            f"{CASE_LABELS[case]:<56} {_fmt_rows(rows):>5} {r['seconds']:>8.1f} {rows / r['seconds']:>10,.0f} "
            f"{r['peak_mb']:>8.0f} {r['call_mb']:>8.0f} {r['values_returned']:>15,} {r['queries']:>5} "
            f"{r['cpu']:>4.1f} {r['others_cpu']:>8.2f}"
        )
    a, b = results.get("pull", {}), results.get("pushdown", {})
    if "seconds" in a and "seconds" in b:
        print(
            f"\nratio (a)/(b): time {a['seconds'] / b['seconds']:.2f}x, client peak RSS "
            f"{a['peak_mb'] / b['peak_mb']:.2f}x, numbers leaving the database "
            f"{a['values_returned'] / max(b['values_returned'], 1):,.0f}x"
        )
        print(
            f"  (b) profile_sql itself: {b.get('profile_seconds', math.nan):.1f} s, "
            f"{b.get('rows_returned', 0):,} rows returned; refined columns: {b.get('refined_columns')}"
        )
        print("\nAgreement of (b) with (a):")
        print(f"  drifted columns (a): {a['drifted_columns']}")
        print(f"  drifted columns (b): {b['drifted_columns']}   (by construction: {EXPECTED_DRIFT})")
        print(f"  same decisions: {a['drifted_columns'] == b['drifted_columns']}")
        ca, cb = a["columns"], b["columns"]
        both = [c for c in ca if ca[c]["ks"] is not None and cb[c]["ks"] is not None]
        ks = [(abs(cb[c]["ks"] - ca[c]["ks"]), cb[c]["ks_bound"] + ca[c]["ks_bound"]) for c in both]
        if ks:
            worst = max(ks)
            print(
                f"  max |KS(b) - KS(a)| = {worst[0]:.2e} (sum of the reported bounds there {worst[1]:.2e}); "
                f"all within bounds: {all(d <= bd + 1e-12 for d, bd in ks)}"
            )
            print(
                f"  KS error_bound reported: (a) max {max(ca[c]['ks_bound'] for c in both):.1e}, "
                f"(b) max {max(cb[c]['ks_bound'] for c in both):.1e}"
            )
        w = [
            abs(b["columns"][c]["w"] - a["columns"][c]["w"]) / max(abs(a["columns"][c]["w"]), 1e-300)
            for c in a["columns"]
            if a["columns"][c]["w"] and b["columns"][c]["w"] is not None and a["columns"][c]["w"] >= 0.01
        ]
        w_abs = [
            abs(b["columns"][c]["w"] - a["columns"][c]["w"])
            for c in a["columns"]
            if a["columns"][c]["w"] is not None and b["columns"][c]["w"] is not None
        ]
        if w_abs:
            print(
                f"  Wasserstein (std units): max relative difference {max(w, default=0.0):.2e} (distances >= 0.01), "
                f"max absolute difference {max(w_abs):.1e}"
            )
        psi = [
            abs(b["columns"][c]["psi"] - a["columns"][c]["psi"]) / max(abs(a["columns"][c]["psi"]), 1e-300)
            for c in a["columns"]
            if a["columns"][c]["psi"] is not None and b["columns"][c]["psi"] is not None
        ]
        if psi:
            print(f"  PSI max relative difference {max(psi):.1e} (binned methods: exact counts at the reference bins)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="current rows in the table (%(default)s)")
    ap.add_argument("--ref-rows", type=int, default=1_000_000, help="reference rows for the profile (%(default)s)")
    ap.add_argument("--batch-size", type=int, default=100_000, help="fetchmany size of (a) (%(default)s)")
    ap.add_argument("--cases", default=",".join(CASES), help="subset of pull,pushdown")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--setting", action="append", default=[], help="postgresql.conf KEY=VALUE for the local server")
    ap.add_argument("--json", help="also write the raw results to this file")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per case subprocess (%(default)s)")
    ap.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # internal: one case (subprocess)
    ap.add_argument("--uri", help=argparse.SUPPRESS)
    ap.add_argument("--profile", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.case:
        return child_main(args)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    bad = [c for c in cases if c not in CASES]
    if bad:
        ap.error(f"unknown cases {bad}; choose from {CASES}")
    settings = dict(s.split("=", 1) for s in args.setting)

    from devtools.pg_server import local_postgres

    started = time.perf_counter()
    with local_postgres(settings) as uri, tempfile.TemporaryDirectory(prefix="bench-pushdown-") as tmp:
        print(
            f"bench_pushdown: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{_server_version(uri)}, load {_load():.2f}"
        )
        print(f"loading {args.rows:,} rows x {len(NUMERIC_COLUMNS)} numeric columns into {TABLE} ...", flush=True)
        info = load_current(uri, args.rows, args.seed)
        print(
            f"  generated {info['generate_seconds']:.1f} s, COPY {info['load_seconds']:.1f} s in all, "
            f"VACUUM ANALYZE {info['vacuum_seconds']:.1f} s, table {info['table_mb']:,.0f} MB",
            flush=True,
        )
        profile = Path(tmp) / "reference.json"
        ref = build_reference(args.ref_rows, args.seed, profile)
        print(
            f"reference profile of {args.ref_rows:,} rows: {ref['reference_seconds']:.1f} s, "
            f"{ref['profile_bytes'] / 1024:,.0f} KiB",
            flush=True,
        )
        results: dict[str, dict[str, Any]] = {}
        for case in cases:
            print(f"running {case} ...", flush=True)
            results[case] = _spawn(case, uri, profile, args)
            r = results[case]
            if "error" in r:
                print(f"  ERROR: {r['error']}")
            else:
                print(f"  {r['seconds']:.1f} s (subprocess {r['wall_seconds']:.1f} s)", flush=True)
        print()
        print_results(results, args.rows)
        print(
            "\npeak MB = VmHWM (peak RSS) of the client subprocess; call +MB = its peak during the measured call "
            "minus the RSS after the imports;\nnumbers from DB = values the client received (rows x columns); "
            "cpu = CPUs the client kept busy; db+other = CPUs kept busy by all other processes (the PostgreSQL "
            "server, mostly)."
        )
        print(f"total {time.perf_counter() - started:.0f} s")
        if args.json:
            Path(args.json).write_text(json.dumps({"rows": args.rows, "load": info, "reference": ref, **results}))
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
