"""DriftAlertNotifier: send a drift check's failure (or success) through the alert channels.

For ``on_failure_callback`` / ``on_success_callback`` of drift tasks, e.g. when
``fail_on_drift=True`` stops a pipeline::

    DataDriftOperator(..., fail_on_drift=True,
                      on_failure_callback=DriftAlertNotifier(
                          channels={"slack": {"type": "slack", "conn_id": "slack_alerts"}}))

No deduplication (a callback fires once per task outcome); the message names
the DAG, run, task and the report's drifted columns or degraded metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseNotifier

from airflow_drift_provider.alerts.channels import AlertContext, build_channel
from airflow_drift_provider.alerts.rules import SEVERITIES, fingerprint


class DriftAlertNotifier(BaseNotifier):
    """Notify channels about a drift task's outcome.

    :param channels: ``{name: {"type": ..., "conn_id": ..., ...}}`` as for ``DriftAlertOperator``.
    :param severity: ``info``, ``warning`` or ``critical`` (PagerDuty severity, badges).
    :param message: text of the alert. Templated.
    """

    template_fields: Sequence[str] = ("message",)

    def __init__(
        self,
        *,
        channels: Mapping[str, Mapping[str, Any]],
        severity: str = "critical",
        message: str = "{{ ti.task_id }} in {{ dag.dag_id }} ended {{ ti.state }}",
    ) -> None:
        super().__init__()
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
        for name, spec in channels.items():
            build_channel(name, spec)
        self.channels = dict(channels)
        self.severity = severity
        self.message = message

    def notify(self, context: Any) -> None:
        from airflow_drift_provider.operators.alerts import run_url

        ti = context["ti"]
        report = ti.xcom_pull(task_ids=ti.task_id) or {}
        summary = report.get("summary", {}) if isinstance(report, Mapping) else {}
        detail = summary.get("drifted_columns") or summary.get("degraded_metrics") or []
        run_id = context.get("run_id") or ti.run_id
        alert = {
            "fingerprint": fingerprint(ti.dag_id, "task_outcome", ti.task_id, str(run_id)),
            "rule": "task_outcome",
            "task_id": ti.task_id,
            "instance": ti.task_id,
            "column": ", ".join(map(str, detail[:20])) or ti.task_id,
            "severity": self.severity,
            "value": str(getattr(ti, "state", "")),
            "op": "",
            "threshold": "",
            "message": self.message,
        }
        ctx = AlertContext(dag_id=ti.dag_id, run_id=run_id, task_id=ti.task_id, run_url=run_url(ti.dag_id, run_id))
        errors = []
        for name, spec in self.channels.items():
            try:
                build_channel(name, spec).send([alert], ctx)
            except Exception as exc:  # one channel down must not hide the others
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                self.log.warning("notification on %s failed: %s", name, exc)
        if errors and len(errors) == len(self.channels):
            raise RuntimeError(f"every notification channel failed: {errors}")
