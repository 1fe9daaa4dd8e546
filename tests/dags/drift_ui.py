"""A drift DAG with hostile column names, for the dashboard's escaping tests (no files needed)."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_drift_provider.operators import DataDriftOperator, ModelDriftOperator

HOSTILE = ["<script>alert('col')</script>", "<img src=x onerror=alert(1)>", "x' onmouseover='alert(2)", "Größe 列"]


def frame(kind: str, day: str = "2026-11-01"):
    import numpy as np
    import pandas as pd

    seed = 0 if kind == "reference" else int(day[-2:])
    rng = np.random.default_rng(seed)
    n = 400
    shift = 0.0 if kind == "reference" else 0.8
    data = {
        HOSTILE[0]: rng.normal(shift, 1.0, n),
        HOSTILE[1]: rng.normal(0.0, 1.0, n),
        HOSTILE[2]: rng.choice(["a", "b", "<b>bold</b>" if kind == "current" else "c"], n),
        HOSTILE[3]: rng.exponential(1.0 + shift, n),
    }
    y = rng.integers(0, 2, n)
    noise = 0.35 if kind == "reference" else 0.6
    data["label"] = y
    data["score"] = np.clip(y + rng.normal(0, noise, n), 0, 1)
    data["prediction"] = (data["score"] >= 0.5).astype(int)
    return pd.DataFrame(data)


SOURCES = {
    "reference_callable": frame,
    "reference_op_kwargs": {"kind": "reference"},
    "current_callable": frame,
    "current_op_kwargs": {"kind": "current", "day": "{{ ds }}"},
}

with DAG(
    dag_id="drift_ui_hostile",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0},
) as dag:
    DataDriftOperator(task_id="data_drift", columns=HOSTILE, **SOURCES)
    ModelDriftOperator(
        task_id="model_drift",
        **SOURCES,
        label_column="label",
        prediction_column="prediction",
        score_columns="score",
    )
