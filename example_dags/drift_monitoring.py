"""drift_monitoring: daily data + model drift checks with routed, deduplicated alerts.

The data: scikit-learn's bundled breast-cancer dataset (569 rows, 30 numeric
features, binary target; shipped with scikit-learn, no download). A logistic
regression is trained on a seeded 50 % "reference" split. Each run's "current"
batch is the other half with a documented, seeded drift applied:

* ``mean radius`` and ``mean perimeter`` are scaled by 1.25 (sensor
  recalibration: strong drift, critical);
* ``mean texture`` gets +10 % noise (mild drift);
* a categorical ``site`` column moves from 70/30 to 40/40/20 with a new site
  ``"C"`` (new category);
* all other features are unchanged.

So the first run alerts on e-mail, Slack and PagerDuty (critical PSI), the next
runs are deduplicated until the window passes, exactly what a new user should
see. The alert connections use the providers' default ids: ``smtp_default``,
``slack_default`` (a Slack *webhook* connection) and
``pagerduty_events_default``; ``make demo`` points them at local capture
servers.

Copy this DAG and replace ``prepare_data`` with your own loading (or use the
operators' ``*_path`` / ``*_sql`` sources directly).
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Asset, dag, task

from airflow_drift_provider.operators import DataDriftOperator, ModelDriftOperator, ReferenceProfileOperator
from airflow_drift_provider.operators.alerts import AlertRuleBranchOperator, DriftAlertOperator

try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # pragma: no cover
    from airflow.operators.empty import EmptyOperator

SCORED = Asset("drift-demo://breast-cancer/scored")
HOME = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
WORKDIR = os.path.join(HOME, "drift_demo")
FEATURES = ["mean radius", "mean perimeter", "mean texture", "mean smoothness", "mean area", "worst radius", "site"]

ALERT_RULES = [
    {
        "name": "psi_critical",
        "metric": "columns.*.methods.psi.statistic",
        "op": "gt",
        "threshold": 0.5,
        "severity": "critical",
        "task_id": "data_drift",
        "message": "PSI of {column} is {value} (critical above {threshold})",
    },
    {
        "name": "column_drift",
        "metric": "columns.*.drifted",
        "op": "eq",
        "threshold": True,
        "severity": "warning",
        "task_id": "data_drift",
    },
    {
        "name": "accuracy_drop",
        "metric": "metrics.accuracy.relative_change",
        "op": "lt",
        "threshold": -0.05,
        "severity": "critical",
        "task_id": "model_drift",
    },
    {
        "name": "new_categories",
        "metric": "columns.*.unseen_share",
        "op": "gt",
        "threshold": 0.0,
        "severity": "info",
        "task_id": "data_drift",
    },
]


@dag(
    dag_id="drift_monitoring",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # alert state lives in Variables (no compare-and-set): one run at a time
    tags=["drift", "example"],
    doc_md=__doc__,
)
def drift_monitoring():
    @task
    def prepare_data(ds: str | None = None) -> dict[str, str]:
        """Reference/current splits with the documented drift, plus the model's predictions."""
        import numpy as np
        from sklearn.datasets import load_breast_cancer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        data = load_breast_cancer(as_frame=True)
        features, y = data.data, data.target
        x_ref, x_cur, y_ref, y_cur = train_test_split(features, y, test_size=0.5, random_state=42, stratify=y)
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_ref, y_ref)
        rng = np.random.default_rng(7)
        x_cur = x_cur.copy()
        x_cur["mean radius"] *= 1.25
        x_cur["mean perimeter"] *= 1.25
        x_cur["mean texture"] *= 1 + rng.normal(0, 0.1, len(x_cur))

        def frame(x_part, y_part, sites, p):
            out = x_part.copy()
            out["site"] = rng.choice(sites, size=len(out), p=p)
            out["label"] = y_part.to_numpy()
            out["score"] = model.predict_proba(x_part)[:, 1]
            out["prediction"] = (out["score"] > 0.5).astype(int)
            return out

        os.makedirs(WORKDIR, exist_ok=True)
        paths = {
            "reference": os.path.join(WORKDIR, "reference.parquet"),
            "current": os.path.join(WORKDIR, f"current_{ds}.parquet"),
        }
        frame(x_ref, y_ref, ["A", "B"], [0.7, 0.3]).to_parquet(paths["reference"], index=False)
        frame(x_cur, y_cur, ["A", "B", "C"], [0.4, 0.4, 0.2]).to_parquet(paths["current"], index=False)
        return paths

    paths = prepare_data()
    reference_path = "{{ ti.xcom_pull(task_ids='prepare_data')['reference'] }}"
    current_path = "{{ ti.xcom_pull(task_ids='prepare_data')['current'] }}"

    # profile the training data (cheap here; with large data, run partitioned_reference_profile instead)
    profile = ReferenceProfileOperator(
        task_id="profile_reference",
        path=reference_path,
        columns=FEATURES,
        output_path=os.path.join(WORKDIR, "reference_profile.json"),
    )
    data_drift = DataDriftOperator(
        task_id="data_drift",
        reference_profile=profile.output,
        current_path=current_path,
        columns=FEATURES,
        outlets=[SCORED],  # drift_gate is scheduled on this asset and reads the summary in the event extra
    )
    model_drift = ModelDriftOperator(
        task_id="model_drift",
        reference_path=reference_path,
        current_path=current_path,
        label_column="label",
        prediction_column="prediction",
        score_columns="score",
        tolerance={"absolute": 0.03},
    )
    evaluate = AlertRuleBranchOperator(
        task_id="evaluate_rules",
        rules=ALERT_RULES,
        report_task_ids=["data_drift", "model_drift"],
        alert_task_ids="send_alerts",
        ok_task_ids="no_alerts",
    )
    send = DriftAlertOperator(
        task_id="send_alerts",
        evaluation_task_id="evaluate_rules",
        channels={
            "email": {"type": "email", "conn_id": "smtp_default", "to": ["ml-team@example.com"]},
            "slack": {"type": "slack", "conn_id": "slack_default"},
            "pagerduty": {"type": "pagerduty", "conn_id": "pagerduty_events_default"},
        },
        routes={"critical": ["pagerduty", "slack", "email"], "warning": ["slack", "email"], "info": ["email"]},
        dedup_window=24 * 3600,
        renotify_after=3 * 24 * 3600,
        retries=2,
    )
    paths >> [profile, model_drift]
    [data_drift, model_drift] >> evaluate >> [send, EmptyOperator(task_id="no_alerts")]


drift_monitoring()
