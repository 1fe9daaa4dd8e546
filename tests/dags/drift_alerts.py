"""Alerting end to end: drift report -> rules/branch -> deduplicated delivery (test DAG).

Driven by `airflow dags test drift_alerts_e2e -c '{"current": ..., "dedup_window": ...}'`.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_drift_provider.operators import DataDriftOperator
from airflow_drift_provider.operators.alerts import AlertRuleBranchOperator, DriftAlertOperator

try:
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # pragma: no cover
    from airflow.operators.empty import EmptyOperator

DATA = os.environ.get("DRIFT_TEST_DATA", "/nonexistent")

RULES = [
    {
        "name": "psi_critical",
        "metric": "columns.*.methods.psi.statistic",
        "op": "gt",
        "threshold": 0.5,
        "severity": "critical",
        "message": "PSI of {column} is {value} (limit {threshold})",
    },
    {"name": "column_drift", "metric": "columns.*.drifted", "op": "eq", "threshold": True, "severity": "warning"},
    {"name": "unseen", "metric": "columns.*.unseen_share", "op": "gt", "threshold": 0.0, "severity": "info"},
]

with DAG(
    dag_id="drift_alerts_e2e",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0},
) as dag:
    report = DataDriftOperator(
        task_id="data_drift",
        reference_path=f"{DATA}/reference.parquet",
        current_path="{{ dag_run.conf['current'] }}",
    )
    branch = AlertRuleBranchOperator(
        task_id="evaluate",
        rules=RULES,
        report_task_ids="data_drift",
        alert_task_ids="send_alerts",
        ok_task_ids="all_good",
    )
    alert = DriftAlertOperator(
        task_id="send_alerts",
        evaluation_task_id="evaluate",
        channels={
            "email": {"type": "email", "conn_id": "drift_smtp", "to": ["ml-team@example.test"]},
            "slack": {"type": "slack", "conn_id": "drift_slack"},
            "pagerduty": {"type": "pagerduty", "conn_id": "drift_pagerduty"},
        },
        routes={"critical": ["pagerduty", "slack", "email"], "warning": ["slack", "email"], "info": ["email"]},
        dedup_window="{{ dag_run.conf.get('dedup_window', 3600) }}",
        renotify_after="{{ dag_run.conf.get('renotify_after', None) }}",
        delivery_retries=1,
        retry_backoff=0.2,
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
    ok = EmptyOperator(task_id="all_good")
    report >> branch >> [alert, ok]


# --- sensor and notifier -------------------------------------------------------------------------
from airflow_drift_provider.notifications import DriftAlertNotifier  # noqa: E402
from airflow_drift_provider.sensors import AlertRuleSensor  # noqa: E402

with DAG(
    dag_id="drift_alert_sensor",
    schedule=None,
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 0},
) as sensor_dag:
    check = DataDriftOperator(
        task_id="data_drift",
        reference_path=f"{DATA}/reference.parquet",
        current_path="{{ dag_run.conf['current'] }}",
    )
    gate = AlertRuleSensor(
        task_id="wait_for_critical_drift",
        rules=[{"name": "score_psi", "metric": "columns.score.methods.psi.statistic", "op": "gt", "threshold": 0.5}],
        report_task_ids="data_drift",
        poke_interval=1,
        timeout=4,
        mode="reschedule",
        soft_fail=True,
    )
    stop_serving = EmptyOperator(task_id="stop_serving")
    check >> gate >> stop_serving

    DataDriftOperator(
        task_id="strict_check",
        reference_path=f"{DATA}/reference.parquet",
        current_path="{{ dag_run.conf['current'] }}",
        fail_on_drift=True,
        on_failure_callback=DriftAlertNotifier(
            channels={"slack": {"type": "slack", "conn_id": "drift_slack"}},
            message="strict drift check failed in {{ dag.dag_id }}",
        ),
    )
