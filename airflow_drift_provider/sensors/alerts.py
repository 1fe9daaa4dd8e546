"""AlertRuleSensor: wait until alert rules fire on the latest report of a task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_drift_provider._compat import AirflowFailException
from airflow_drift_provider.alerts.rules import evaluate_rules, parse_rules
from airflow_drift_provider.operators.alerts import _as_task_ids, _pull_reports
from airflow_drift_provider.operators.drift import _templated

if TYPE_CHECKING:
    from airflow.sdk import Context


class AlertRuleSensor(BaseSensorOperator):
    """Succeed when alert rules fire on a drift report; the evaluation is the XCom return value.

    Reads the report of ``report_task_ids`` in the same DAG run, or - with
    ``external_dag_id`` and ``external_run_id`` (templated, e.g. from the
    triggering asset event: ``{{ (triggering_asset_events.values() | first | first).source_run_id }}``)
    - in a run of another DAG. Each poke re-reads the report, so a report that
    lands later is picked up. Works in ``poke`` and ``reschedule`` mode; with
    ``soft_fail=True`` a timeout skips the task instead of failing it.

    :param rules: alert rules (dicts or ``AlertRule``); validated at parse time. Templated.
    :param report_task_ids: task id(s) whose XCom reports the rules read.
    :param external_dag_id: DAG of those tasks when it is not this DAG. Templated.
    :param external_run_id: the run of ``external_dag_id`` to read. Templated.
    :param fire_on_errors: also succeed when a rule cannot be evaluated (default False:
        keep waiting, errors are logged).
    """

    template_fields: Sequence[str] = ("rules", "external_dag_id", "external_run_id")

    def __init__(
        self,
        *,
        rules: Any,
        report_task_ids: str | list[str],
        external_dag_id: str | None = None,
        external_run_id: str | None = None,
        fire_on_errors: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not _templated(rules):
            parse_rules(rules)
        if external_dag_id and not external_run_id:
            raise ValueError("external_dag_id needs external_run_id (e.g. templated from the triggering asset event)")
        self.rules = rules
        self.report_task_ids = _as_task_ids(report_task_ids, "report_task_ids")
        self.external_dag_id = external_dag_id
        self.external_run_id = external_run_id
        self.fire_on_errors = fire_on_errors

    def poke(self, context: Context) -> PokeReturnValue:
        reports = _pull_reports(context, self.report_task_ids, self.external_dag_id, self.external_run_id)
        dag_id = self.external_dag_id or context["ti"].dag_id
        try:
            evaluation = evaluate_rules(parse_rules(self.rules), reports, dag_id=dag_id)
        except ValueError as exc:
            raise AirflowFailException(f"bad alert rules: {exc}") from exc
        s = evaluation["summary"]
        self.log.info(
            "Alert rules on %s: %s fired (%s), %s passed, %s errors",
            sorted(reports) or "no report yet",
            s["fired"],
            ", ".join(s["fired_rules"]) or "-",
            s["passed"],
            s["errors"],
        )
        for err in evaluation["errors"][:20]:
            self.log.info("  rule error: %s: %s", err["rule"], err["error"])
        done = bool(s["fired"]) or (self.fire_on_errors and bool(s["errors"]) and bool(reports))
        return PokeReturnValue(is_done=done, xcom_value=evaluation if done else None)
