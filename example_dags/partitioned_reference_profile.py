"""partitioned_reference_profile: profile large data in parallel, merge, and compare.

``ReferenceProfileOperator`` is mapped over the partition files with dynamic
task mapping, so each partition is profiled by its own task (in parallel on
Celery/Kubernetes executors); ``MergeReferenceProfilesOperator`` combines the
mergeable profiles into one JSON profile that ``DataDriftOperator`` reads with
``reference_profile=``. The merged profile gives the same drift results as
profiling the whole reference in one task (exactly for categories, within the
sketch bounds in the README for numbers).

The current data is handled the same way: ``profile_current_partition`` is
mapped over the current partitions with ``like_profile=`` the merged
reference (the partitions' sketches keep the reference's points), and
``partitioned_drift`` merges those profiles (``current_profile=``) and
computes the drift report - no task ever holds the whole current data.

The partitions here are written by ``make_partitions`` (a seeded split of
scikit-learn's bundled wine dataset, enlarged with noise); point ``path`` at
your own files, e.g. ``s3://bucket/train/part-*.parquet`` listed by a task.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import dag, task

from airflow_drift_provider.operators import (
    DataDriftOperator,
    MergeReferenceProfilesOperator,
    ReferenceProfileOperator,
)

HOME = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
WORKDIR = os.path.join(HOME, "drift_demo", "partitions")


@dag(
    dag_id="partitioned_reference_profile",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    tags=["drift", "example"],
    doc_md=__doc__,
)
def partitioned_reference_profile():
    @task
    def make_partitions(n_partitions: int = 4, kind: str = "part", alcohol_shift: float = 0.0) -> list[str]:
        import numpy as np
        from sklearn.datasets import load_wine

        data = load_wine(as_frame=True).frame
        seed = 3 if kind == "part" else 4
        rng = np.random.default_rng(seed)
        big = data.sample(n=20_000, replace=True, random_state=seed).reset_index(drop=True)
        numeric = big.columns.drop("target")
        big[numeric] = big[numeric] * (1 + rng.normal(0, 0.02, size=(len(big), len(numeric))))
        big["alcohol"] += alcohol_shift  # the current data's seeded drift
        os.makedirs(WORKDIR, exist_ok=True)
        paths = []
        for i, part in enumerate(np.array_split(np.arange(len(big)), n_partitions)):
            path = os.path.join(WORKDIR, f"{kind}-{i}.parquet")
            big.iloc[part].to_parquet(path, index=False)
            paths.append(path)
        return paths

    parts = ReferenceProfileOperator.partial(task_id="profile_partition", categorical=["target"]).expand(
        path=make_partitions()
    )
    merged = MergeReferenceProfilesOperator(
        task_id="merge_profiles",
        profiles=parts.output,
        output_path=os.path.join(WORKDIR, "reference_profile.json"),
    )
    current_parts = ReferenceProfileOperator.partial(
        task_id="profile_current_partition", categorical=["target"], like_profile=merged.output
    ).expand(path=make_partitions.override(task_id="make_current_partitions")(kind="current", alcohol_shift=0.5))
    DataDriftOperator(
        task_id="partitioned_drift", reference_profile=merged.output, current_profile=current_parts.output
    )


partitioned_reference_profile()
