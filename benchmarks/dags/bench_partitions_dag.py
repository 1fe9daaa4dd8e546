"""DAGs timed by ``benchmarks/bench_partitions.py --airflow`` (``airflow dags test``).

Configured by the JSON file named in ``$BENCH_PARTITIONS_CONFIG`` (written by the
benchmark: reference profile, current file, partition files, columns, DAG ids);
without it this file defines no DAG.

* ``single``: one ``DataDriftOperator`` reading the whole current file;
* ``mapped_1``: one mapped ``ReferenceProfileOperator`` (``like_profile=`` the
  reference profile) over the whole file, then ``DataDriftOperator(current_profile=...)``;
* ``mapped_n``: the same mapped over the N partition files (merged in the drift task).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_drift_provider.operators import DataDriftOperator, ReferenceProfileOperator

CONFIG = os.environ.get("BENCH_PARTITIONS_CONFIG", "")
cfg = json.loads(Path(CONFIG).read_text()) if CONFIG and Path(CONFIG).is_file() else None


def _dag(dag_id: str) -> DAG:
    return DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
        catchup=False,
        default_args={"retries": 0},
        tags=["benchmark"],
    )


if cfg is not None:
    common = {
        "reference_profile": cfg["reference_profile"],
        "columns": cfg["columns"],
        "batch_size": cfg["batch_size"],
        "write_report": False,
    }
    with _dag(cfg["dag_ids"]["single"]):
        DataDriftOperator(task_id="drift", current_path=cfg["current_file"], **common)

    for key, paths in (("mapped_1", [cfg["current_file"]]), ("mapped_n", cfg["partitions"])):
        with _dag(cfg["dag_ids"][key]):
            parts = ReferenceProfileOperator.partial(
                task_id="profile_current",
                like_profile=cfg["reference_profile"],
                columns=cfg["columns"],
                batch_size=cfg["batch_size"],
            ).expand(path=paths)
            DataDriftOperator(task_id="drift", current_profile=parts.output, **common)
