"""Test DAGs for the drift operators; data lives under $DRIFT_TEST_DATA (made by the tests)."""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Asset

from airflow_drift_provider.operators import (
    DataDriftOperator,
    MergeReferenceProfilesOperator,
    ModelDriftOperator,
    ReferenceProfileOperator,
)

DATA = os.environ.get("DRIFT_TEST_DATA", "/nonexistent")
CURRENT_ASSET = Asset("drift://tests/current", extra={"owner": "tests"})
START = pendulum.datetime(2026, 11, 1, tz="UTC")


def load_reference(rows: int = 0):
    import pandas as pd

    frame = pd.read_parquet(os.path.join(DATA, "reference.parquet"))
    rows = int(rows)  # templated op_kwargs render as strings
    return frame.head(rows) if rows else frame


def load_current():
    import pyarrow.parquet as pq

    return pq.ParquetFile(os.path.join(DATA, "current", "2026-11-02", "part-0.parquet")).iter_batches(batch_size=500)


with DAG(
    dag_id="drift_ops_sources",
    schedule="@daily",
    start_date=START,
    catchup=False,
    params={"psi": 0.25},
    default_args={"retries": 0},
) as sources:
    parquet = DataDriftOperator(
        task_id="parquet_folder",
        reference_path=f"file://{DATA}/reference.parquet",
        current_path=DATA + "/current/{{ ds }}/",  # a folder of Parquet files, templated by date
        thresholds={"psi": "{{ params.psi }}"},
        outlets=[CURRENT_ASSET],
    )
    csv = DataDriftOperator(
        task_id="csv_files",
        reference_path=f"{DATA}/reference.csv",
        current_path=f"{DATA}/current.csv",
        columns="{{ 'num_shift,num_same,cat_new' }}",
    )
    sql = DataDriftOperator(
        task_id="sqlite_query",
        conn_id="drift_sqlite",
        reference_sql="SELECT num_shift, num_same, cat_new FROM reference",
        current_sql="SELECT num_shift, num_same, cat_new FROM current WHERE day = '{{ ds }}'",
        batch_size=700,
    )
    func = DataDriftOperator(
        task_id="python_callable",
        reference_callable=load_reference,
        reference_op_kwargs={"rows": "{{ 3000 }}"},
        current_callable=load_current,
        methods=["psi", "ks", "chi2"],
        drift_share=0.2,
    )
    parts = ReferenceProfileOperator.partial(task_id="profile_parts").expand(
        path=[f"{DATA}/reference_parts/part-{i}.parquet" for i in range(3)]
    )
    merged = MergeReferenceProfilesOperator(task_id="merge_profiles", profiles=parts.output)
    from_profile = DataDriftOperator(
        task_id="from_profile",
        reference_profile=merged.output,
        current_path=DATA + "/current/{{ ds }}/",
    )
    model = ModelDriftOperator(
        task_id="model_vs_reference",
        reference_path=f"{DATA}/model_reference.parquet",
        current_path=f"{DATA}/model_current.parquet",
        label_column="y",
        prediction_column="y_hat",
        score_columns="score",
        outlets=[Asset("drift://tests/model")],
    )
    model_baseline = ModelDriftOperator(
        task_id="model_vs_numbers",
        current_sql="SELECT y, y_hat FROM model_current",
        conn_id="drift_sqlite",
        label_column="y",
        prediction_column="y_hat",
        baseline={"accuracy": "{{ 0.9 }}", "f1": 0.9},
        tolerance={"absolute": 0.02},
    )
    parquet >> csv >> sql >> func >> from_profile
    model >> model_baseline


with DAG(
    dag_id="drift_ops_failures",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
) as failures:
    DataDriftOperator(
        task_id="missing_file",
        reference_path=f"{DATA}/reference.parquet",
        current_path=f"{DATA}/does-not-exist.parquet",
    )
    DataDriftOperator(
        task_id="bad_sql",
        conn_id="drift_sqlite",
        reference_sql="SELECT * FROM reference",
        current_sql="SELEC broken FROM nowhere",
    )
    DataDriftOperator(
        task_id="schema_mismatch",
        reference_path=f"{DATA}/reference.parquet",
        current_path=f"{DATA}/current_missing_column.parquet",
    )
    DataDriftOperator(
        task_id="fail_on_drift",
        reference_path=f"{DATA}/reference.parquet",
        current_path=f"{DATA}/current/2026-11-02/",
        fail_on_drift=True,
        drift_share=0.1,
    )
    DataDriftOperator(
        task_id="bad_rendered_threshold",
        reference_path=f"{DATA}/reference.parquet",
        current_path=f"{DATA}/current/2026-11-02/",
        thresholds={"psi": "{{ 'not-a-number' }}"},
    )
    ModelDriftOperator(
        task_id="missing_label_column",
        current_path=f"{DATA}/model_current.parquet",
        label_column="nope",
        prediction_column="y_hat",
    )
