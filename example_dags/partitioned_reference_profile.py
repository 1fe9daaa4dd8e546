"""partitioned_reference_profile: profile a large reference in parallel, then merge.

``ReferenceProfileOperator`` is mapped over the partition files with dynamic
task mapping, so each partition is profiled by its own task (in parallel on
Celery/Kubernetes executors); ``MergeReferenceProfilesOperator`` combines the
mergeable profiles into one JSON profile that ``DataDriftOperator`` reads with
``reference_profile=``. The merged profile gives the same drift results as
profiling the whole reference in one task (exactly for categories, within the
sketch bounds in the README for numbers).

The partitions here are written by ``make_partitions`` (a seeded split of
scikit-learn's bundled wine dataset, enlarged with noise); point ``path`` at
your own files, e.g. ``s3://bucket/train/part-*.parquet`` listed by a task.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import dag, task

from airflow_drift_provider.operators import MergeReferenceProfilesOperator, ReferenceProfileOperator

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
    def make_partitions(n_partitions: int = 4) -> list[str]:
        import numpy as np
        from sklearn.datasets import load_wine

        data = load_wine(as_frame=True).frame
        rng = np.random.default_rng(3)
        big = data.sample(n=20_000, replace=True, random_state=3).reset_index(drop=True)
        numeric = big.columns.drop("target")
        big[numeric] = big[numeric] * (1 + rng.normal(0, 0.02, size=(len(big), len(numeric))))
        os.makedirs(WORKDIR, exist_ok=True)
        paths = []
        for i, part in enumerate(np.array_split(np.arange(len(big)), n_partitions)):
            path = os.path.join(WORKDIR, f"part-{i}.parquet")
            big.iloc[part].to_parquet(path, index=False)
            paths.append(path)
        return paths

    parts = ReferenceProfileOperator.partial(task_id="profile_partition", categorical=["target"]).expand(
        path=make_partitions()
    )
    MergeReferenceProfilesOperator(
        task_id="merge_profiles",
        profiles=parts.output,
        output_path=os.path.join(WORKDIR, "reference_profile.json"),
    )


partitioned_reference_profile()
