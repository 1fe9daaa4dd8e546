"""Scale-out in a real Airflow run (tests/dags/drift_partitions.py):

* current data in 4 Parquet partitions, profiled by 4 mapped tasks and merged in the drift task,
  equals one task reading the whole folder;
* SQL pushdown (the table summarised inside SQLite and PostgreSQL) equals pulling the rows through
  the hook, and so do 4 mapped pushdown tasks over ``WHERE part = <bound parameter>`` partitions.

"Equals" within the engine's stated tolerances: category counts and the binned statistics (chi2,
psi, Jensen-Shannon, Hellinger) to 1e-9, KS within the reported error bound, Wasserstein within 1 %,
and the same drift decisions.  PostgreSQL is a real local server (devtools/pg_server.py).
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
import subprocess

import numpy as np
import pandas as pd
import pytest

from devtools.airflow_state import xcom_value
from tests.conftest import AIRFLOW_BIN, ROOT

pytestmark = pytest.mark.airflow

DAG_ID = "drift_partitioned"
COLUMNS = ["normal", "lognormal", "count", "segment"]
N_PARTS = 4
EXACT = ("psi", "jensenshannon", "hellinger", "chi2")
TASKS = ["files_partitioned", "files_single"] + [
    f"{db}_{kind}" for db in ("sqlite", "pg") for kind in ("pushdown", "pulled", "partitioned_pushdown")
]


def make_frames(seed: int = 7) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    segments = [f"s{i:02d}" for i in range(30)]
    weights = np.linspace(3, 1, 30) / np.linspace(3, 1, 30).sum()

    def frame(n: int, shift: float, scale: float, extra: bool) -> pd.DataFrame:
        seg = rng.choice(segments, n, p=weights).astype(object)
        if extra:
            seg[rng.random(n) < 0.15] = "new"
        return pd.DataFrame(
            {
                "normal": rng.normal(shift, 1.0, n),
                "lognormal": rng.lognormal(0.0, scale, n),
                "count": rng.poisson(3, n).astype("int64"),
                "segment": seg.astype(str),
            }
        )

    reference = frame(60_000, 0.0, 0.5, False)
    parts = [frame(25_000, 0.1 * i, 0.5 + 0.05 * i, i >= 2) for i in range(N_PARTS)]
    return reference, parts


@pytest.fixture(scope="module")
def pg_uri():
    from devtools.pg_server import local_postgres

    try:
        with local_postgres() as uri:
            yield uri
    except RuntimeError as exc:
        import os

        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")


def load_postgres(uri: str, frame: pd.DataFrame) -> None:
    import psycopg2

    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS current_data")
        cur.execute(
            'CREATE TABLE current_data (part integer, normal float8, lognormal float8, "count" bigint, segment text)'
        )
        buf = io.StringIO()
        frame[["part", *COLUMNS]].to_csv(buf, index=False, header=False)
        buf.seek(0)
        cur.copy_expert('COPY current_data (part, normal, lognormal, "count", segment) FROM STDIN WITH CSV', buf)


@pytest.fixture(scope="module")
def run(migrated_airflow, tmp_path_factory, pg_uri):
    data = tmp_path_factory.mktemp("scale_out")
    reference, parts = make_frames()
    reference.to_parquet(data / "reference.parquet", index=False)
    (data / "partitions").mkdir()
    for i, p in enumerate(parts):
        p.to_parquet(data / "partitions" / f"part-{i}.parquet", index=False)
    whole = pd.concat([p.assign(part=i) for i, p in enumerate(parts)], ignore_index=True)
    db = data / "current.db"
    with sqlite3.connect(db) as con:
        whole[["part", *COLUMNS]].to_sql("current_data", con, index=False)
    load_postgres(pg_uri, whole)
    env = dict(
        migrated_airflow,
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "tests" / "dags"),
        DRIFT_TEST_DATA=str(data),
        AIRFLOW_CONN_DRIFT_SQLITE=json.dumps({"conn_type": "sqlite", "host": str(db)}),
        AIRFLOW_CONN_DRIFT_PG=pg_uri.replace("postgresql://", "postgres://", 1),
    )
    out = subprocess.run([AIRFLOW_BIN, "dags", "test", DAG_ID], capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    db = f"{migrated_airflow['AIRFLOW_HOME']}/airflow.db"
    reports = {}
    for task_id in TASKS:
        reports[task_id] = xcom_value(db, DAG_ID, task_id)
        assert reports[task_id] is not None, task_id
    return reports


def assert_equivalent(a: dict, b: dict) -> None:
    assert set(a["columns"]) == set(b["columns"]) == set(COLUMNS)
    assert a["summary"]["drifted_columns"] == b["summary"]["drifted_columns"]
    assert a["current"]["rows"] == b["current"]["rows"] == 100_000
    for name in COLUMNS:
        ca, cb = a["columns"][name], b["columns"][name]
        assert ca["status"] == cb["status"] == "ok", name
        assert ca["drifted"] == cb["drifted"], name
        assert set(ca["methods"]) == set(cb["methods"]), name
        for m, ra in ca["methods"].items():
            rb = cb["methods"][m]
            assert ra["drifted"] == rb["drifted"], (name, m)
            if m in EXACT:
                assert ra["statistic"] == pytest.approx(rb["statistic"], rel=1e-9, abs=1e-12), (name, m)
            elif m == "ks":
                bound = max(ra["error_bound"], rb["error_bound"]) + 1e-12
                assert abs(ra["statistic"] - rb["statistic"]) <= bound, (name, ra, rb)
            elif m == "wasserstein":
                assert ra["statistic"] == pytest.approx(rb["statistic"], rel=1e-2, abs=1e-4), (name, m)
        if ca["type"] == "categorical":
            assert ca["category_shares"] == cb["category_shares"], name
            assert ca["unseen_categories"] == cb["unseen_categories"] == ["new"]
        for side in ("reference", "current"):
            for k in ("rows", "valid", "nulls", "min", "max"):
                assert ca[side].get(k) == cb[side].get(k), (name, side, k)
            for k in ("mean", "std"):
                if k in ca[side]:
                    assert math.isclose(ca[side][k], cb[side][k], rel_tol=1e-9, abs_tol=1e-12), (name, side, k)


def test_mapped_partitions_equal_the_single_task(run):
    a, b = run["files_partitioned"], run["files_single"]
    assert a["current"]["source"] == "profile" and b["current"]["source"] == "data"
    assert_equivalent(a, b)
    assert {"normal", "lognormal", "segment"} <= set(b["summary"]["drifted_columns"])


@pytest.mark.parametrize("db", ["sqlite", "pg"])
def test_pushdown_equals_pulled_rows(run, db):
    assert_equivalent(run[f"{db}_pushdown"], run[f"{db}_pulled"])
    assert run[f"{db}_pushdown"]["current"]["source"] == "profile"


@pytest.mark.parametrize("db", ["sqlite", "pg"])
def test_mapped_pushdown_partitions_equal_pulled_rows(run, db):
    assert_equivalent(run[f"{db}_partitioned_pushdown"], run[f"{db}_pulled"])


def test_pushdown_agrees_with_the_file_based_result(run):
    assert_equivalent(run["pg_pushdown"], run["files_single"])
