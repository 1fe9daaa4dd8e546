"""Alert rule routing and delivery operators (parse-time safe: no heavy imports)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperator

from airflow_drift_provider._compat import AirflowException, AirflowFailException, BaseBranchOperator, conf_get
from airflow_drift_provider.alerts.channels import AlertContext, build_channel
from airflow_drift_provider.alerts.delivery import DEFAULT_PREFIX, VariableStore, deliver, index_key
from airflow_drift_provider.alerts.rules import SEVERITIES, evaluate_rules, parse_rules
from airflow_drift_provider.operators.drift import _templated

if TYPE_CHECKING:
    from airflow.sdk import Context

EVALUATION_KEY = "evaluation"
DEFAULT_DEDUP_WINDOW = timedelta(hours=24)


def state_prefix(explicit: str | None = None) -> str:
    """Variable key prefix of alert state: the operator argument, else ``[drift] alert_state_prefix``."""
    return explicit or conf_get("drift", "alert_state_prefix", DEFAULT_PREFIX)


def run_url(dag_id: str, run_id: str) -> str:
    base = conf_get("api", "base_url", "http://localhost:8080").rstrip("/")
    return f"{base}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def _as_task_ids(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{what} must be a task id or a non-empty list of task ids, got {value!r}")
    return list(value)


def _pull_reports(context: Context, task_ids: Sequence[str], dag_id: str | None = None, run_id: str | None = None):
    ti = context["ti"]
    reports: dict[str, Any] = {}
    for tid in task_ids:
        kwargs: dict[str, Any] = {"task_ids": tid}
        if dag_id:
            kwargs["dag_id"] = dag_id
        if run_id:
            kwargs["run_id"] = run_id
        value = ti.xcom_pull(**kwargs)
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
            value = value[0]
        if value is not None:
            reports[tid] = value
    return reports


class AlertRuleBranchOperator(BaseBranchOperator):
    """Evaluate alert rules on upstream drift reports and branch on the result.

    Follows ``alert_task_ids`` when any rule fired - or when alerts opened by
    earlier runs are still open, so the alert task can send their "resolved"
    notifications - and ``ok_task_ids`` otherwise. The evaluation is pushed to
    XCom under the key ``evaluation`` *before* branching (Airflow does not push
    the return value of a task that skips others).

    :param rules: alert rules (dicts or ``AlertRule``); validated at parse time. Templated.
    :param report_task_ids: upstream task id(s) whose XCom reports the rules read.
    :param alert_task_ids: task id(s) to follow when alerts fired (or must be resolved).
    :param ok_task_ids: task id(s) to follow otherwise (may be empty).
    :param follow_open_alerts: also take the alert path while earlier alerts are open (default True).
    :param state_prefix: Variable prefix of alert state (default: ``[drift] alert_state_prefix``).
    """

    template_fields: Sequence[str] = ("rules",)

    def __init__(
        self,
        *,
        rules: Any,
        report_task_ids: str | list[str],
        alert_task_ids: str | list[str],
        ok_task_ids: str | list[str] | None = None,
        follow_open_alerts: bool = True,
        state_prefix: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not _templated(rules):
            parse_rules(rules)
        self.rules = rules
        self.report_task_ids = _as_task_ids(report_task_ids, "report_task_ids")
        self.alert_task_ids = _as_task_ids(alert_task_ids, "alert_task_ids")
        self.ok_task_ids = _as_task_ids(ok_task_ids, "ok_task_ids") if ok_task_ids else []
        self.follow_open_alerts = follow_open_alerts
        self.state_prefix = state_prefix

    def choose_branch(self, context: Context) -> list[str]:
        dag_id = context["ti"].dag_id
        reports = _pull_reports(context, self.report_task_ids)
        try:
            evaluation = evaluate_rules(parse_rules(self.rules), reports, dag_id=dag_id)
        except ValueError as exc:
            raise AirflowFailException(f"bad alert rules: {exc}") from exc
        context["ti"].xcom_push(key=EVALUATION_KEY, value=evaluation)
        s = evaluation["summary"]
        self.log.info(
            "Alert rules: %s fired (%s), %s passed, %s unknown, %s errors%s",
            s["fired"],
            ", ".join(s["fired_rules"]) or "-",
            s["passed"],
            s["unknown"],
            s["errors"],
            "".join(f"\n  error: {e['rule']}: {e['error']}" for e in evaluation["errors"][:20]),
        )
        if s["fired"]:
            return self.alert_task_ids
        if self.follow_open_alerts:
            open_alerts = VariableStore().get(index_key(state_prefix(self.state_prefix), dag_id)) or []
            if open_alerts:
                self.log.info("%s alert(s) from earlier runs are open: taking the alert path", len(open_alerts))
                return self.alert_task_ids
        return self.ok_task_ids


def _seconds(value: Any, what: str, error: type[Exception] = AirflowFailException) -> timedelta | None:
    """Seconds (number or numeric string) or a timedelta; a template that rendered empty means None."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        if value.strip() in ("", "None", "none", "null"):
            return None
        try:
            value = float(value)
        except ValueError:
            raise error(f"{what} must be seconds or a timedelta, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise error(f"{what} must be seconds >= 0 (finite) or a timedelta, got {value!r}")
    return timedelta(seconds=float(value))


def _check_routes(routes: Any, channels: Mapping[str, Any], error: type[Exception]) -> dict[str, list[str]]:
    if not isinstance(routes, Mapping):
        raise error(f"routes must map a severity to channel names, got {routes!r}")
    out = {}
    for sev, names in routes.items():
        if sev not in SEVERITIES:
            raise error(f"routes: unknown severity {sev!r}; use {SEVERITIES}")
        if isinstance(names, str) or not isinstance(names, list | tuple) or not all(n in channels for n in names):
            raise error(f"routes[{sev!r}] must list configured channels {sorted(channels)}, got {names!r}")
        out[sev] = list(names)
    return out


class DriftAlertOperator(BaseOperator):
    """Deliver fired alerts by e-mail, Slack and PagerDuty, deduplicated through Airflow Variables.

    :param channels: ``{name: {"type": "email"|"slack"|"pagerduty", "conn_id": ..., options}}``.
        E-mail options: ``to``, ``cc``, ``from_email``, ``subject_prefix``; Slack:
        ``channel`` (for a Slack API connection; webhook connections need none);
        PagerDuty: ``base_url`` (EU: ``https://events.eu.pagerduty.com``; also
        the connection extra ``events_base_url``), ``source``.
    :param routes: severity -> channel names, e.g.
        ``{"critical": ["pagerduty", "slack"], "warning": ["slack"], "info": ["email"]}``.
        A rule's own ``channels`` override it.
    :param evaluation_task_id: task whose XCom ``evaluation`` (an
        :class:`AlertRuleBranchOperator`) or ``return_value`` (an
        :class:`~airflow_drift_provider.sensors.alerts.AlertRuleSensor`) holds the evaluation.
    :param rules: alternatively, rules to evaluate here on ``report_task_ids``. Templated.
    :param report_task_ids: reports for ``rules``.
    :param dedup_window: seconds (or timedelta) during which a delivered alert is
        not delivered again on a channel. Templated. Default 24 h.
    :param renotify_after: seconds (or timedelta) after which a still-firing alert
        is delivered again (None: never while it keeps firing). Templated.
    :param notify_resolved: send "resolved" notifications when alerts stop firing.
    :param delivery_retries: attempts per channel after the first, with exponential backoff.
    :param retry_backoff: first backoff delay in seconds (doubles each attempt).
    :param state_prefix: Variable prefix (default: ``[drift] alert_state_prefix``, ``drift_alert:``).
    """

    template_fields: Sequence[str] = ("rules", "dedup_window", "renotify_after", "channels", "routes")
    ui_color = "#fbe3e4"

    def __init__(
        self,
        *,
        channels: Mapping[str, Mapping[str, Any]],
        routes: Mapping[str, Sequence[str]] | None = None,
        evaluation_task_id: str | None = None,
        rules: Any = None,
        report_task_ids: str | list[str] | None = None,
        dedup_window: Any = DEFAULT_DEDUP_WINDOW,
        renotify_after: Any = None,
        notify_resolved: bool = True,
        delivery_retries: int = 3,
        retry_backoff: float = 2.0,
        state_prefix: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(channels, Mapping) or not channels:
            raise ValueError("channels must be a non-empty mapping of channel name to channel settings")
        if not _templated(channels):
            for name, spec in channels.items():
                build_channel(name, spec)
        routes = routes or {}
        if not _templated(routes) and not _templated(channels):
            _check_routes(routes, channels, ValueError)
        if (evaluation_task_id is None) == (rules is None):
            raise ValueError("give either evaluation_task_id or rules (with report_task_ids)")
        if rules is not None:
            if report_task_ids is None:
                raise ValueError("rules need report_task_ids")
            if not _templated(rules):
                for r in parse_rules(rules):
                    bad = [c for c in (r.channels or ()) if c not in channels]
                    if bad:
                        raise ValueError(f"alert rule {r.name!r} routes to unknown channel(s) {bad}")
        for what, value in (("dedup_window", dedup_window), ("renotify_after", renotify_after)):
            if not _templated(value):
                _seconds(value, what, ValueError)
        if isinstance(delivery_retries, bool) or not isinstance(delivery_retries, int) or delivery_retries < 0:
            raise ValueError(f"delivery_retries must be an integer >= 0, got {delivery_retries!r}")
        if not isinstance(retry_backoff, int | float) or retry_backoff < 0:
            raise ValueError(f"retry_backoff must be seconds >= 0, got {retry_backoff!r}")
        self.channels = dict(channels)
        self.routes = routes
        self.evaluation_task_id = evaluation_task_id
        self.rules = rules
        self.report_task_ids = _as_task_ids(report_task_ids, "report_task_ids") if report_task_ids else None
        self.dedup_window = dedup_window
        self.renotify_after = renotify_after
        self.notify_resolved = notify_resolved
        self.delivery_retries = delivery_retries
        self.retry_backoff = retry_backoff
        self.state_prefix = state_prefix

    def _evaluation(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        if self.evaluation_task_id:
            ev = ti.xcom_pull(task_ids=self.evaluation_task_id, key=EVALUATION_KEY)
            if ev is None:
                ev = ti.xcom_pull(task_ids=self.evaluation_task_id)
            if not isinstance(ev, Mapping) or ev.get("kind") != "alert_evaluation":
                raise AirflowFailException(f"no alert evaluation in the XCom of {self.evaluation_task_id!r}")
            return dict(ev)
        assert self.report_task_ids is not None
        reports = _pull_reports(context, self.report_task_ids)
        try:
            return evaluate_rules(parse_rules(self.rules), reports, dag_id=ti.dag_id)
        except ValueError as exc:
            raise AirflowFailException(f"bad alert rules: {exc}") from exc

    def execute(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        evaluation = self._evaluation(context)
        try:
            channels = {name: build_channel(name, spec) for name, spec in self.channels.items()}
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from exc
        routes = _check_routes(self.routes, channels, AirflowFailException)
        dedup = _seconds(self.dedup_window, "dedup_window")
        run_id = context.get("run_id") or ti.run_id
        ctx = AlertContext(
            dag_id=ti.dag_id,
            run_id=run_id,
            task_id=ti.task_id,
            logical_date=str(context.get("logical_date")),
            run_url=run_url(ti.dag_id, run_id),
        )
        result = deliver(
            evaluation,
            channels,
            routes,
            VariableStore(),
            ctx,
            prefix=state_prefix(self.state_prefix),
            dedup_window=DEFAULT_DEDUP_WINDOW if dedup is None else dedup,
            renotify_after=_seconds(self.renotify_after, "renotify_after"),
            notify_resolved=self.notify_resolved,
            retries=self.delivery_retries,
            backoff=float(self.retry_backoff),
            log=self.log,
        )
        result["fired"] = len(evaluation.get("fired", []))
        self.log.info(
            "Alerts: %s fired; sent %s; suppressed (dedup) %s; resolved %s; failed %s",
            result["fired"],
            {k: len(v) for k, v in result["sent"].items()},
            {k: len(v) for k, v in result["suppressed"].items()},
            len(result["resolved"]),
            {k: v["error"] for k, v in {**result["failed"], **result["resolve_failed"]}.items()},
        )
        for err in result["errors"]:
            self.log.warning("%s", err)
        failed = sorted(set(result["failed"]) | set(result["resolve_failed"]))
        if failed:
            # others were delivered and recorded: the retry sends only what is missing
            ti.xcom_push(key="delivery", value=result)
            raise AirflowException(f"alert delivery failed on channel(s) {failed}; will be retried")
        return result
