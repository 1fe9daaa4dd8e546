"""drift_engine_demo: the statistics engine inside a real Airflow 3 DAG.

What it does, end to end:

1. ``make_data`` writes a seeded synthetic reference set (50,000 rows) and a
   current set (20,000 rows) as Parquet files under ``$AIRFLOW_HOME/drift_demo``.
   The drift is deliberate and documented:

   * ``income``: log-normal, +25 % in the current data (drift);
   * ``plan``: category shares change and a new ``enterprise`` plan appears (drift);
   * ``age``, ``region``, ``tenure_days``: same distributions (no drift);
   * ``sessions``: same distribution, 5 % missing values and a few infinities in
     the current data (messy, no drift);
   * the label depends on income more weakly in the current data, so the
     model (a fixed rule learnt on the reference) degrades.

2. ``profile_reference`` (``ReferenceProfileOperator``) streams the reference
   Parquet file in record batches into a reference profile stored as JSON, so
   the reference is not re-read on every run.
3. ``check_data_drift`` (``DataDriftOperator``) streams the current file against
   the stored profile, pushes the JSON-safe drift report to XCom and attaches a
   summary to the ``drift-demo://customers/current`` asset event.
4. ``check_model_drift`` (``ModelDriftOperator``) compares the model's current
   accuracy/F1/... and prediction confidence with the reference.
5. ``summarize`` logs a readable summary and writes it to
   ``$AIRFLOW_HOME/drift_demo/summary.txt``.

Heavy libraries are imported inside the tasks, so parsing this file is cheap.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Asset, dag, task

from airflow_drift_provider.operators import DataDriftOperator, ModelDriftOperator, ReferenceProfileOperator

CUSTOMERS = Asset("drift-demo://customers/current")


def _workdir() -> str:
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    path = os.path.join(home, "drift_demo")
    os.makedirs(path, exist_ok=True)
    return path


@dag(
    dag_id="drift_engine_demo",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["drift", "example"],
    doc_md=__doc__,
)
def drift_engine_demo():
    @task
    def make_data(seed: int = 7) -> dict[str, str]:
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(seed)

        def frame(n: int, current: bool) -> pd.DataFrame:
            income = rng.lognormal(mean=10.5, sigma=0.5, size=n) * (1.25 if current else 1.0)
            plans = ["basic", "plus", "pro"] + (["enterprise"] if current else [])
            shares = [0.35, 0.35, 0.2, 0.1] if current else [0.6, 0.3, 0.1]
            sessions = rng.poisson(12, size=n).astype(float)
            if current:
                sessions[rng.random(n) < 0.05] = np.nan
                sessions[:3] = np.inf
            x = (np.log(income) - 10.5) / 0.5
            logit = (0.4 * x - 0.3 if current else 1.5 * x) + rng.normal(0, 0.5 if not current else 1.0, n)
            label = (logit > 0).astype(int)
            score = 1 / (1 + np.exp(-1.5 * x))  # the model: a fixed rule learnt on the reference
            return pd.DataFrame(
                {
                    "age": rng.normal(41, 12, n).round(),
                    "income": income,
                    "tenure_days": rng.exponential(400, n),
                    "sessions": sessions,
                    "plan": rng.choice(plans, size=n, p=shares),
                    "region": rng.choice(["north", "south", "east", "west"], size=n),
                    "label": label,
                    "score": score,
                    "prediction": (score > 0.5).astype(int),
                }
            )

        out = _workdir()
        paths = {"reference": os.path.join(out, "reference.parquet"), "current": os.path.join(out, "current.parquet")}
        frame(50_000, current=False).to_parquet(paths["reference"], index=False)
        frame(20_000, current=True).to_parquet(paths["current"], index=False)
        return paths

    features = ["age", "income", "tenure_days", "sessions", "plan", "region"]
    paths = make_data()

    # 2. profile the reference once (streamed in record batches)
    profile = ReferenceProfileOperator(
        task_id="profile_reference",
        path="{{ ti.xcom_pull(task_ids='make_data')['reference'] }}",
        columns=features,
        batch_size=10_000,
    )
    # 3. current data against the stored profile; the report is the XCom return value
    data_report = DataDriftOperator(
        task_id="check_data_drift",
        reference_profile=profile.output,
        current_path="{{ ti.xcom_pull(task_ids='make_data')['current'] }}",
        columns=features,
        batch_size=5_000,
        outlets=[CUSTOMERS],
    )
    # 4. the model: labels, predictions and scores against the reference's
    model_report = ModelDriftOperator(
        task_id="check_model_drift",
        current_path="{{ ti.xcom_pull(task_ids='make_data')['current'] }}",
        reference_path="{{ ti.xcom_pull(task_ids='make_data')['reference'] }}",
        label_column="label",
        prediction_column="prediction",
        score_columns="score",
        tolerance={"absolute": 0.02},
    )
    paths >> [profile, model_report]

    @task
    def summarize(data_report: dict, model_report: dict) -> str:
        lines = ["Data drift (reference profile vs current data)"]
        lines.append(f"  {'column':<12} {'type':<12} {'status':<10} {'method':<14} {'score':>10}  drifted")
        for name, col in data_report["columns"].items():
            score = col.get("drift_score")
            lines.append(
                f"  {name:<12} {col['type']:<12} {col['status']:<10} {col.get('drift_method') or '-':<14} "
                f"{'-' if score is None else f'{score:.4g}':>10}  {col['drifted']}"
            )
        s = data_report["summary"]
        lines.append(
            f"  -> {s['n_drifted']}/{s['evaluated_columns']} columns drifted "
            f"(share {s['share_drifted']:.2f}, threshold {s['drift_share']}): dataset_drift={s['dataset_drift']}"
        )
        lines.append("Model drift (current vs reference labels/predictions)")
        for name, m in model_report["metrics"].items():
            lines.append(
                f"  {name:<10} current={m['current']:.3f} baseline={m['baseline']:.3f} "
                f"change={m['change']:+.3f} degraded={m['degraded']}"
            )
        conf = model_report.get("confidence") or {}
        if conf.get("drift"):
            lines.append(
                f"  confidence mean {conf['reference']['mean']:.3f} -> {conf['current']['mean']:.3f}, "
                f"drifted={conf['drift']['drifted']} ({conf['drift']['method']})"
            )
        lines.append(f"  -> model_drift={model_report['summary']['model_drift']}")
        text = "\n".join(lines)
        print(text)
        with open(os.path.join(_workdir(), "summary.txt"), "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        return text

    summarize(data_report.output, model_report.output)


drift_engine_demo()
