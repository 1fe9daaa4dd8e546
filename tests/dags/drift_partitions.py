"""Scale-out test DAG: partitioned current data (mapped tasks) and SQL pushdown, each next to
the single-task / pulled-data result it must equal.  Data under $DRIFT_TEST_DATA (made by the test);
connections drift_sqlite and (when set) drift_pg come from AIRFLOW_CONN_* variables."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG

from airflow_drift_provider.operators import DataDriftOperator, ReferenceProfileOperator

DATA = os.environ.get("DRIFT_TEST_DATA", "/nonexistent")
N_PARTS = 4
COLUMNS = ["normal", "lognormal", "count", "segment"]
SELECT = 'SELECT normal, lognormal, "count", segment FROM current_data'
DATABASES = {"sqlite": ("drift_sqlite", "part = ?")}
if os.environ.get("AIRFLOW_CONN_DRIFT_PG"):
    DATABASES["pg"] = ("drift_pg", "part = %s")

with DAG(
    dag_id="drift_partitioned",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0},
) as dag:
    reference = ReferenceProfileOperator(task_id="profile_reference", path=f"{DATA}/reference.parquet")
    common = {"reference_profile": reference.output, "columns": COLUMNS, "write_report": False}

    # files: one mapped task per partition, merged in the drift task, vs one task over the folder
    parts = ReferenceProfileOperator.partial(task_id="profile_partitions", like_profile=reference.output).expand(
        path=[f"{DATA}/partitions/part-{i}.parquet" for i in range(N_PARTS)]
    )
    DataDriftOperator(task_id="files_partitioned", current_profile=parts.output, **common)
    DataDriftOperator(task_id="files_single", current_path=f"{DATA}/partitions/", **common)

    for name, (conn_id, where) in DATABASES.items():
        # the whole table summarised in the database, vs pulled through the hook
        DataDriftOperator(task_id=f"{name}_pushdown", conn_id=conn_id, current_table="current_data", **common)
        DataDriftOperator(task_id=f"{name}_pulled", conn_id=conn_id, current_sql=SELECT, **common)
        # one pushdown task per WHERE partition (bound parameter), merged
        sql_parts = ReferenceProfileOperator.partial(
            task_id=f"{name}_profile_partitions",
            conn_id=conn_id,
            table="current_data",
            like_profile=reference.output,
            columns=COLUMNS,
        ).expand_kwargs([{"where": where, "sql_parameters": [i]} for i in range(N_PARTS)])
        DataDriftOperator(task_id=f"{name}_partitioned_pushdown", current_profile=sql_parts.output, **common)
