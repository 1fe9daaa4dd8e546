"""The drift operators inside real DAG runs (`airflow dags test` on a temp SQLite home)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from devtools.airflow_state import xcom_value
from tests.conftest import AIRFLOW_BIN, ROOT

pytestmark = pytest.mark.airflow
DS = "2026-11-02"


def _make_data(d: Path) -> None:
    rng = np.random.default_rng(11)
    n = 3000
    ref = pd.DataFrame(
        {
            "num_shift": rng.normal(0, 1, n),
            "num_same": rng.normal(0, 1, n),
            "cat_new": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    cur = pd.DataFrame(
        {
            "num_shift": rng.normal(0.8, 1, 2000),
            "num_same": rng.normal(0, 1, 2000),
            "cat_new": rng.choice(["a", "b", "c", "d"], 2000, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )
    ref.to_parquet(d / "reference.parquet", index=False)
    ref.to_csv(d / "reference.csv", index=False)
    cur.to_csv(d / "current.csv", index=False)
    (d / "current" / DS).mkdir(parents=True)
    cur.iloc[:1000].to_parquet(d / "current" / DS / "part-0.parquet", index=False)
    cur.iloc[1000:].to_parquet(d / "current" / DS / "part-1.parquet", index=False)
    (d / "reference_parts").mkdir()
    for i, chunk in enumerate([ref.iloc[:1000], ref.iloc[1000:2000], ref.iloc[2000:]]):
        chunk.to_parquet(d / "reference_parts" / f"part-{i}.parquet", index=False)
    cur.drop(columns=["num_same"]).to_parquet(d / "current_missing_column.parquet", index=False)
    # model data: a good model on the reference, a degraded one now
    y_ref = rng.integers(0, 2, 4000)
    s_ref = np.clip(0.8 * y_ref + rng.normal(0.1, 0.15, 4000), 0, 1)
    y_cur = rng.integers(0, 2, 3000)
    s_cur = np.clip(0.4 * y_cur + rng.normal(0.3, 0.25, 3000), 0, 1)
    mref = pd.DataFrame({"y": y_ref, "y_hat": (s_ref > 0.5).astype(int), "score": s_ref})
    mcur = pd.DataFrame({"y": y_cur, "y_hat": (s_cur > 0.5).astype(int), "score": s_cur})
    mref.to_parquet(d / "model_reference.parquet", index=False)
    mcur.to_parquet(d / "model_current.parquet", index=False)
    con = sqlite3.connect(d / "data.sqlite")
    ref.to_sql("reference", con, index=False)
    cur.assign(day=DS).to_sql("current", con, index=False)
    cur.iloc[:10].assign(day="2026-10-01").to_sql("current", con, index=False, if_exists="append")
    mcur.to_sql("model_current", con, index=False)
    con.close()


def _dags_test(env: dict[str, str], dag_id: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AIRFLOW_BIN, "dags", "test", dag_id, *args], capture_output=True, text=True, env=env, timeout=900
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory, migrated_airflow):
    data = tmp_path_factory.mktemp("drift_data")
    _make_data(data)
    env = dict(migrated_airflow)
    env.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "tests" / "dags"),
        DRIFT_TEST_DATA=str(data),
        AIRFLOW_CONN_DRIFT_SQLITE=json.dumps({"conn_type": "sqlite", "host": str(data / "data.sqlite")}),
    )
    ok = _dags_test(env, "drift_ops_sources", DS)
    bad = _dags_test(env, "drift_ops_failures")
    return {"env": env, "home": Path(env["AIRFLOW_HOME"]), "data": data, "sources": ok, "failures": bad}


def _db(runs) -> sqlite3.Connection:
    return sqlite3.connect(runs["home"] / "airflow.db")


def _xcom(runs, dag_id: str, task_id: str, map_index: int = -1):
    value = xcom_value(runs["home"] / "airflow.db", dag_id, task_id, map_index=map_index)
    assert value is not None, f"no XCom for {dag_id}.{task_id}"
    return value


def _states(runs, dag_id: str) -> dict[str, tuple[str, int]]:
    con = _db(runs)
    try:
        rows = con.execute(
            "select task_id, map_index, state, try_number from task_instance where dag_id=?", (dag_id,)
        ).fetchall()
    finally:
        con.close()
    return {(t if m < 0 else f"{t}[{m}]"): (s, n) for t, m, s, n in rows}


def _log(runs, dag_id: str, task_id: str) -> str:
    logs = sorted((runs["home"] / "logs").glob(f"dag_id={dag_id}/**/task_id={task_id}/**/*.log"))
    text = "".join(p.read_text() for p in logs)
    return text + runs["sources"].stdout + runs["failures"].stdout


def test_all_sources_run_green(runs):
    states = _states(runs, "drift_ops_sources")
    failed = {k: v for k, v in states.items() if v[0] != "success"}
    assert not failed, (failed, runs["sources"].stdout[-3000:], runs["sources"].stderr[-3000:])
    assert "profile_parts[2]" in states


def _assert_found_drift(report, *, rows: int = 2000):
    cols = report["columns"]
    assert report["current"]["rows"] == rows
    assert cols["num_shift"]["drifted"] is True
    assert cols["num_same"]["drifted"] is False
    assert cols["cat_new"]["drifted"] is True
    assert cols["cat_new"]["unseen_categories"] == ["d"]
    json.dumps(report, allow_nan=False)


def test_parquet_folder_templated_by_ds_and_asset_extra(runs):
    report = _xcom(runs, "drift_ops_sources", "parquet_folder")
    _assert_found_drift(report)
    # threshold rendered from params ("0.25" string -> number)
    assert report["columns"]["num_shift"]["methods"]["psi"]["threshold"] == 0.25
    con = _db(runs)
    try:
        rows = con.execute(
            "select e.extra from asset_event e join asset a on a.id = e.asset_id where a.uri = ?",
            ("drift://tests/current",),
        ).fetchall()
    finally:
        con.close()
    assert rows
    extra = json.loads(rows[-1][0])
    summary = extra["drift_report"]
    assert summary["kind"] == "data_drift"
    assert set(summary["drifted_columns"]) == {"num_shift", "cat_new"}
    assert summary["scores"]["num_shift"] > 0


def test_html_report_written_and_linked_from_xcom(runs):
    report = _xcom(runs, "drift_ops_sources", "parquet_folder")
    path = Path(report["report_uri"])
    assert path.is_relative_to(runs["home"] / "drift" / "reports" / "drift_ops_sources")
    page = path.read_text(encoding="utf-8")
    assert "num_shift" in page and "<svg" in page and "http://" not in page
    model = _xcom(runs, "drift_ops_sources", "model_vs_reference")
    assert "accuracy" in Path(model["report_uri"]).read_text(encoding="utf-8")


def test_csv_columns_template(runs):
    report = _xcom(runs, "drift_ops_sources", "csv_files")
    _assert_found_drift(report)
    assert set(report["columns"]) == {"num_shift", "num_same", "cat_new"}


def test_sql_source_templated_where_clause(runs):
    report = _xcom(runs, "drift_ops_sources", "sqlite_query")
    _assert_found_drift(report)  # the 10 rows of another day are filtered out by {{ ds }}


def test_callable_source(runs):
    report = _xcom(runs, "drift_ops_sources", "python_callable")
    assert report["reference"]["rows"] == 3000
    assert report["current"]["rows"] == 1000
    assert set(report["columns"]["num_shift"]["methods"]) == {"psi", "ks"}
    assert report["columns"]["num_shift"]["drift_method"] == "psi"
    assert report["columns"]["cat_new"]["drift_method"] == "psi"
    assert report["summary"]["drift_share"] == 0.2


def test_mapped_profiles_merged_and_used(runs):
    uris = [_xcom(runs, "drift_ops_sources", "profile_parts", i) for i in range(3)]
    assert len(set(uris)) == 3 and all(Path(u).exists() for u in uris)
    merged_uri = _xcom(runs, "drift_ops_sources", "merge_profiles")
    merged = json.loads(Path(merged_uri).read_text())
    assert merged["rows"] == 3000 and merged["metadata"]["merged_from"] == 3
    report = _xcom(runs, "drift_ops_sources", "from_profile")
    assert report["reference"]["source"] == "profile"
    _assert_found_drift(report)
    # same decisions as reading the raw reference file
    raw = _xcom(runs, "drift_ops_sources", "parquet_folder")
    for name in raw["columns"]:
        a, b = raw["columns"][name]["methods"], report["columns"][name]["methods"]
        for m in a:
            assert a[m]["statistic"] == pytest.approx(b[m]["statistic"], rel=0.02, abs=5e-3), (name, m)


def test_model_drift_operators(runs):
    report = _xcom(runs, "drift_ops_sources", "model_vs_reference")
    assert report["task"] == "binary"
    assert report["summary"]["model_drift"] is True
    assert "accuracy" in report["summary"]["degraded_metrics"]
    assert report["metrics"]["roc_auc"]["baseline_source"] == "reference"
    assert report["confidence"]["drift"]["drifted"] is True
    numbers = _xcom(runs, "drift_ops_sources", "model_vs_numbers")
    assert numbers["metrics"]["accuracy"]["baseline"] == 0.9
    assert numbers["metrics"]["accuracy"]["tolerance"] == {"absolute": 0.02}
    assert numbers["metrics"]["f1"]["baseline_source"] == "given"
    assert numbers["summary"]["model_drift"] is True


def test_log_has_readable_summary(runs):
    text = _log(runs, "drift_ops_sources", "parquet_folder")
    assert "num_shift" in text and "dataset_drift=" in text and "threshold" in text


def test_failure_modes(runs):
    states = _states(runs, "drift_ops_failures")
    # a missing file may still land: retried (retries=1 -> 2 tries)
    assert states["missing_file"] == ("failed", 2), states
    # retrying cannot help: failed at once
    for task in ("bad_sql", "schema_mismatch", "fail_on_drift", "bad_rendered_threshold", "missing_label_column"):
        assert states[task] == ("failed", 1), (task, states)
    text = runs["failures"].stdout + runs["failures"].stderr
    for logs in (runs["home"] / "logs").glob("dag_id=drift_ops_failures/**/*.log"):
        text += logs.read_text()
    assert "does-not-exist.parquet" in text
    assert "current_sql failed" in text
    assert "schema mismatch" in text and "num_same" in text
    assert "not-a-number" in text
    assert "has no column(s) ['nope']" in text


def test_failed_checks_still_push_their_report(runs):
    report = _xcom(runs, "drift_ops_failures", "fail_on_drift")
    assert report["summary"]["dataset_drift"] is True
    mismatch = _xcom(runs, "drift_ops_failures", "schema_mismatch")
    assert mismatch["columns"]["num_same"]["status"] == "missing"


def test_operator_arguments_validated_at_parse_time():
    from airflow_drift_provider.operators import DataDriftOperator, ModelDriftOperator, ReferenceProfileOperator

    ok = {"task_id": "t", "reference_path": "/r.parquet", "current_path": "/c.parquet"}
    with pytest.raises(ValueError, match="only one"):
        DataDriftOperator(**ok, current_sql="select 1", conn_id="x")
    with pytest.raises(ValueError, match="reference is required"):
        DataDriftOperator(task_id="t", current_path="/c.parquet")
    with pytest.raises(ValueError, match="not both"):
        DataDriftOperator(**ok, reference_profile="/p.json")
    with pytest.raises(ValueError, match="needs a connection"):
        DataDriftOperator(task_id="t", reference_path="/r", current_sql="select 1")
    with pytest.raises(ValueError, match="bogus"):
        DataDriftOperator(**ok, methods=["bogus"])
    with pytest.raises(ValueError, match="p-value"):
        DataDriftOperator(**ok, thresholds={"ks": 3})
    with pytest.raises(ValueError, match="drift_share"):
        DataDriftOperator(**ok, drift_share=2)
    with pytest.raises(ValueError, match="correction"):
        DataDriftOperator(**ok, correction="holm")
    with pytest.raises(ValueError, match="file_format"):
        DataDriftOperator(**ok, file_format="xlsx")
    with pytest.raises(ValueError, match="label_column"):
        ModelDriftOperator(task_id="m", current_path="/c", label_column="")
    with pytest.raises(ValueError, match="task"):
        ModelDriftOperator(task_id="m", current_path="/c", task="ranking")
    with pytest.raises(ValueError, match="resolution"):
        ReferenceProfileOperator(task_id="p", path="/x.parquet", resolution=2)
    # templated values are validated after rendering, not at parse time
    DataDriftOperator(**ok, thresholds={"psi": "{{ params.psi }}"}, drift_share="{{ params.share }}")
    with pytest.raises(TypeError):
        DataDriftOperator("positional", **ok)  # keyword-only


def test_operator_modules_import_nothing_heavy():
    code = (
        "import json, sys; import airflow_drift_provider.operators; "
        "print(json.dumps([m for m in ('pandas', 'scipy', 'sklearn', 'pyarrow') if m in sys.modules]))"
    )
    out = subprocess.run(
        [str(Path(AIRFLOW_BIN).parent / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_scale_out_arguments_validated_at_parse_time():
    from airflow_drift_provider.operators import DataDriftOperator, ModelDriftOperator, ReferenceProfileOperator

    ref = {"task_id": "t", "reference_profile": "/r.json"}
    DataDriftOperator(**ref, current_table="events", conn_id="pg")  # valid
    DataDriftOperator(**ref, current_table=["schema.with.dots", "events"], current_where="day = %s", conn_id="pg")
    DataDriftOperator(**ref, current_profile=["/p0.json", "/p1.json"])
    with pytest.raises(ValueError, match="only one of current_path, current_sql, current_table"):
        DataDriftOperator(**ref, current_table="events", current_path="/c.parquet", conn_id="pg")
    with pytest.raises(ValueError, match="only one"):
        DataDriftOperator(**ref, current_profile="/p.json", current_path="/c.parquet")
    with pytest.raises(ValueError, match="current_table needs a connection"):
        DataDriftOperator(**ref, current_table="events")
    with pytest.raises(ValueError, match="current_where filters current_table"):
        DataDriftOperator(**ref, current_path="/c.parquet", current_where="day = 1")
    with pytest.raises(ValueError, match="must be a table name"):
        DataDriftOperator(**ref, current_table={"t": 1}, conn_id="pg")
    with pytest.raises(ValueError, match="current data is required"):
        DataDriftOperator(**ref)
    with pytest.raises(ValueError, match="needs like_profile"):
        ReferenceProfileOperator(task_id="p", table="events", conn_id="pg")
    ReferenceProfileOperator(task_id="p", table="events", conn_id="pg", like_profile="/r.json", where="part = ?")
    with pytest.raises(TypeError, match="current_table"):  # model drift needs the rows: no pushdown
        ModelDriftOperator(task_id="m", current_path="/c", reference_path="/r", current_table="t")
