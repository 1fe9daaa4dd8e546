"""Parse-time validation of the alert operators (no run needed)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_drift_provider._compat import AirflowFailException
from airflow_drift_provider.operators.alerts import AlertRuleBranchOperator, DriftAlertOperator, _check_routes, _seconds

CHANNELS = {"slack": {"type": "slack", "conn_id": "s"}, "email": {"type": "email", "to": ["a@b.c"]}}
RULES = [{"name": "r", "metric": "summary.share_drifted", "op": "gt", "threshold": 0.5}]


def test_alert_operator_validation():
    DriftAlertOperator(task_id="a", channels=CHANNELS, routes={"warning": ["slack"]}, evaluation_task_id="e")
    # templated routes are checked after rendering, not at parse time
    DriftAlertOperator(task_id="b", channels=CHANNELS, routes="{{ var.json.routes }}", evaluation_task_id="e")
    with pytest.raises(ValueError, match="configured channels"):
        DriftAlertOperator(task_id="c", channels=CHANNELS, routes={"warning": ["pagerduty"]}, evaluation_task_id="e")
    with pytest.raises(ValueError, match="severity"):
        DriftAlertOperator(task_id="d", channels=CHANNELS, routes={"urgent": ["slack"]}, evaluation_task_id="e")
    with pytest.raises(ValueError, match="either evaluation_task_id or rules"):
        DriftAlertOperator(task_id="f", channels=CHANNELS)
    with pytest.raises(ValueError, match="unknown channel"):
        DriftAlertOperator(
            task_id="g", channels=CHANNELS, rules=[{**RULES[0], "channels": ["sms"]}], report_task_ids="x"
        )
    with pytest.raises(ValueError, match="dedup_window"):
        DriftAlertOperator(task_id="h", channels=CHANNELS, evaluation_task_id="e", dedup_window="1h")
    with pytest.raises(ValueError, match="unknown type"):
        DriftAlertOperator(task_id="i", channels={"x": {"type": "sms"}}, evaluation_task_id="e")
    with pytest.raises(ValueError, match="unknown operator"):
        AlertRuleBranchOperator(task_id="j", rules=[{**RULES[0], "op": "~"}], report_task_ids="x", alert_task_ids="y")


def test_rendered_values_after_templating():
    assert _seconds("3600", "w") == timedelta(hours=1)
    assert _seconds("", "w") is None and _seconds("None", "w") is None
    for bad in ("1h", "-5", "nan", "inf"):
        with pytest.raises(AirflowFailException):
            _seconds(bad, "w")
    with pytest.raises(AirflowFailException, match="configured channels"):
        _check_routes({"critical": ["pagerduty"]}, CHANNELS, AirflowFailException)
    assert _check_routes({"critical": ("slack",)}, CHANNELS, AirflowFailException) == {"critical": ["slack"]}
