"""Operator extra link "Drift report": from a task instance to its HTML drift report.

Airflow 3 computes extra links on the worker when the task finishes and stores
the URL in XCom (``_link_DriftReportLink``); the UI shows a "Drift report"
button for the task instance.  The URL points at the drift plugin's report
endpoint (``<[api] base_url>/drift/dags/<dag_id>/report?run_id=...``), which
checks the viewer's DAG permissions and serves the report whose location the
operator recorded as ``report_uri`` - never a path taken from the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from airflow.sdk import BaseOperatorLink

from airflow_drift_provider._compat import conf_get

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

PLUGIN_PREFIX = "/drift"


def base_url() -> str:
    """The Airflow UI's public base URL (``[api] base_url``, sub-path included), without a trailing slash."""
    return conf_get("api", "base_url", "http://localhost:8080").rstrip("/")


def report_query(run_id: str, task_id: str, map_index: int = -1) -> str:
    """Query string selecting one task instance's report."""
    params: dict[str, Any] = {"run_id": run_id, "task_id": task_id}
    if map_index is not None and int(map_index) >= 0:
        params["map_index"] = int(map_index)
    return urlencode(params)


def report_url(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """Absolute URL of a task instance's HTML report in the drift plugin."""
    return (
        f"{base_url()}{PLUGIN_PREFIX}/dags/{quote(dag_id, safe='')}/report?{report_query(run_id, task_id, map_index)}"
    )


class DriftReportLink(BaseOperatorLink):
    """The "Drift report" button of :class:`DataDriftOperator` and :class:`ModelDriftOperator` task instances.

    The link is empty (no button) when the operator does not write an HTML
    report (``write_report=False``).
    """

    name = "Drift report"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        if not getattr(operator, "write_report", True):
            return ""
        return report_url(ti_key.dag_id, ti_key.run_id, ti_key.task_id, getattr(ti_key, "map_index", -1))
