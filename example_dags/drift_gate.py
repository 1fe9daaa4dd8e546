"""drift_gate: hold the model promotion when the monitored data drifted critically.

Scheduled on the asset that ``drift_monitoring``'s ``DataDriftOperator``
updates. The asset event carries the drift summary in ``extra["drift_report"]``;
``AlertRuleSensor`` additionally re-evaluates a rule on the full report of the
triggering run (``external_dag_id`` + ``external_run_id`` from the event), so
the gate works on the same numbers the alerts were based on.

* critical drift (PSI of any column > 0.5) -> ``hold_promotion`` (and the model
  stays where it is);
* otherwise the sensor times out softly (skipped) and ``promote_model`` runs
  (trigger rule ``all_skipped``).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from airflow_drift_provider.sensors import AlertRuleSensor

SCORED = Asset("drift-demo://breast-cancer/scored")


@dag(
    dag_id="drift_gate",
    schedule=[SCORED],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    tags=["drift", "example"],
    doc_md=__doc__,
)
def drift_gate():
    @task
    def drift_summary(triggering_asset_events=None) -> dict:
        """The compact summary DataDriftOperator attached to the asset event."""
        events = [e for evs in (triggering_asset_events or {}).values() for e in evs]
        return dict(events[-1].extra.get("drift_report", {})) if events else {}

    critical = AlertRuleSensor(
        task_id="critical_drift",
        rules=[{"name": "psi_critical", "metric": "columns.*.methods.psi.statistic", "op": "gt", "threshold": 0.5}],
        report_task_ids="data_drift",
        external_dag_id="drift_monitoring",
        external_run_id="{{ (triggering_asset_events.values() | first | last).source_run_id }}",
        mode="reschedule",
        poke_interval=15,
        timeout=60,
        soft_fail=True,  # no critical drift: skip the hold, promote
    )

    @task
    def hold_promotion(evaluation: dict | None = None) -> str:
        fired = sorted({f["column"] for f in (evaluation or {}).get("fired", [])})
        return f"promotion held: critical drift on {fired}"

    @task(trigger_rule="all_skipped")  # runs only when the sensor found no critical drift
    def promote_model(summary: dict) -> str:
        return f"promoting model (dataset_drift={summary.get('dataset_drift')})"

    summary = drift_summary()
    summary >> critical
    hold_promotion(critical.output)
    critical >> promote_model(summary)


drift_gate()
