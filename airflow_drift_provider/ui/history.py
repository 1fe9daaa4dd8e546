"""Drift history of a DAG across runs, built from the reports its tasks pushed to XCom.

Pure functions (standard library only): the FastAPI app reads the rows from
the metadata DB and passes them here, so this part is testable without Airflow.

The dashboard JSON (``GET /drift/api/dags/{dag_id}/history``, schema in the
README, "Drift dashboard") is the dict returned by :func:`build_history`.

**Drift ratio.**  Column scores of different methods are not comparable (a
p-value falls when drift grows, a distance rises), and the default method of
a column can change with the sample size.  The charts therefore plot the
*drift ratio* of each column's deciding method, a unit-free number that is
``>= 1`` exactly when that method flags drift:

* distances (psi, wasserstein, jensenshannon, hellinger): ``statistic / threshold``;
* p-value tests (ks, chi2): ``log(p) / log(threshold)`` (p-value adjusted for
  multiple testing when a correction is set), so p = threshold**2 gives 2.
  These tests flag drift when ``p < threshold``: a p-value exactly at the
  threshold (not drift) is shown just below 1.  p = 0 gives :data:`MAX_RATIO`.
* a distance threshold of 0 flags every column: the ratio is then :data:`MAX_RATIO`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

HISTORY_SCHEMA_VERSION = 1
MAX_RATIO = 50.0
_BELOW_ONE = math.nextafter(1.0, 0.0)
P_VALUE_METHODS = ("ks", "chi2")
DATA_OPERATORS = frozenset({"DataDriftOperator"})
MODEL_OPERATORS = frozenset({"ModelDriftOperator"})
ALERT_OPERATORS = frozenset({"DriftAlertOperator"})
EVALUATION_OPERATORS = frozenset({"AlertRuleBranchOperator", "AlertRuleSensor"})


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def drift_ratio(column: Mapping[str, Any]) -> float | None:
    """The column's deciding statistic relative to its threshold (>= 1 means drift); None if not decided."""
    method = column.get("drift_method")
    result = (column.get("methods") or {}).get(method) or {}
    threshold = _finite(result.get("threshold"))
    if method is None or threshold is None:
        return None
    if method in P_VALUE_METHODS:
        p = _finite(result.get("p_value_adjusted", result.get("p_value")))
        if p is None or not 0 < threshold < 1:
            return None
        if p <= 0:
            return MAX_RATIO
        ratio = min(MAX_RATIO, max(0.0, math.log(min(p, 1.0)) / math.log(threshold)))
        return ratio if p < threshold else min(ratio, _BELOW_ONE)
    stat = _finite(result.get("statistic"))
    if stat is None or threshold < 0:
        return None
    if threshold == 0:
        return MAX_RATIO
    return min(MAX_RATIO, max(0.0, stat / threshold))


def is_report(value: Any, kind: str) -> bool:
    return isinstance(value, Mapping) and value.get("kind") == kind and isinstance(value.get("summary"), Mapping)


def _data_entry(task_id: str, map_index: int, report: Mapping[str, Any]) -> dict[str, Any]:
    summary = report.get("summary") or {}
    columns: dict[str, Any] = {}
    for name, col in (report.get("columns") or {}).items():
        if not isinstance(col, Mapping):
            continue
        method = col.get("drift_method")
        columns[str(name)] = {
            "status": col.get("status"),
            "type": col.get("type"),
            "drifted": col.get("drifted"),
            "method": method,
            "score": _finite(col.get("drift_score")),
            "ratio": drift_ratio(col),
        }
    return {
        "task_id": task_id,
        "map_index": map_index,
        "dataset_drift": summary.get("dataset_drift"),
        "share_drifted": _finite(summary.get("share_drifted")),
        "drift_share": _finite(summary.get("drift_share")),
        "n_drifted": summary.get("n_drifted"),
        "evaluated_columns": summary.get("evaluated_columns"),
        "drifted_columns": list(summary.get("drifted_columns") or []),
        "problem_columns": dict(summary.get("problem_columns") or {}),
        "rows": {
            "reference": (report.get("reference") or {}).get("rows"),
            "current": (report.get("current") or {}).get("rows"),
        },
        "columns": columns,
        "has_report": bool(report.get("report_uri")),
    }


def _model_entry(task_id: str, map_index: int, report: Mapping[str, Any]) -> dict[str, Any]:
    summary = report.get("summary") or {}
    metrics: dict[str, Any] = {}
    for name, m in (report.get("metrics") or {}).items():
        if not isinstance(m, Mapping):
            continue
        metrics[str(name)] = {
            "current": _finite(m.get("current")),
            "baseline": _finite(m.get("baseline")),
            "change": _finite(m.get("change")),
            "degraded": m.get("degraded"),
            "higher_is_better": m.get("higher_is_better"),
        }
    return {
        "task_id": task_id,
        "map_index": map_index,
        "task": report.get("task"),
        "status": report.get("status"),
        "model_drift": summary.get("model_drift"),
        "degraded_metrics": list(summary.get("degraded_metrics") or []),
        "confidence_drift": summary.get("confidence_drift"),
        "metrics": metrics,
        "has_report": bool(report.get("report_uri")),
    }


def _alert_entry(
    task_id: str, result: Mapping[str, Any], fired_by_fp: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    def fingerprints(value: Any) -> list[str]:
        # "sent"/"suppressed": {channel: [fp, ...]}; "failed": {channel: {"error": ..., "fingerprints": [...]}}
        if isinstance(value, Mapping):
            value = value.get("fingerprints")
        return [fp for fp in value if isinstance(fp, str)] if isinstance(value, list) else []

    def per_channel(key: str) -> dict[str, int]:
        value = result.get(key) or {}
        if not isinstance(value, Mapping):
            return {}
        return {str(ch): len(fingerprints(v)) for ch, v in value.items() if fingerprints(v)}

    sent = result.get("sent") or {}
    items = []
    fps: list[str] = []
    for group in ("sent", "suppressed", "failed"):
        for value in (result.get(group) or {}).values():
            fps.extend(fp for fp in fingerprints(value) if fp not in fps)
    for fp in fps:
        alert = fired_by_fp.get(fp, {})
        items.append(
            {
                "fingerprint": fp,
                "rule": alert.get("rule"),
                "column": alert.get("column"),
                "severity": alert.get("severity"),
                "message": alert.get("message"),
                "value": _finite(alert.get("value")),
                "sent_to": sorted(ch for ch, lst in sent.items() if isinstance(lst, list) and fp in lst),
            }
        )
    resolved = result.get("resolved") or []
    return {
        "task_id": task_id,
        "fired": result.get("fired"),
        "sent": per_channel("sent"),
        "suppressed": per_channel("suppressed"),
        "failed": per_channel("failed"),
        "resolved": len(resolved) if isinstance(resolved, list) else 0,
        "errors": [str(e) for e in (result.get("errors") or [])][:20],
        "alerts": items,
    }


_KINDS = {"data_drift": _data_entry, "model_drift": _model_entry}
_FIELDS = {"data_drift": "columns", "model_drift": "metrics"}  # the names listed per task


def build_history(
    dag_id: str,
    runs: Iterable[Mapping[str, Any]],
    records: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """Assemble the dashboard data.

    :param runs: newest first; each ``{"run_id", "logical_date", "run_after", "state"}`` (dates as ISO strings).
    :param records: XCom rows of those runs: ``{"run_id", "task_id", "map_index", "operator", "key", "value"}``
        with ``value`` deserialized.  Data/model reports are recognised by their ``kind``; alert results by
        the operator name (``DriftAlertOperator``; key ``return_value``, or ``delivery`` when a channel
        failed and the task raised) and evaluations by key ``evaluation``.
    """
    by_run: dict[str, list[Mapping[str, Any]]] = {}
    for rec in records:
        by_run.setdefault(str(rec["run_id"]), []).append(rec)
    out_runs = []
    data_tasks: list[str] = []
    model_tasks: list[str] = []
    column_names: dict[str, list[str]] = {}
    metric_names: dict[str, list[str]] = {}
    seen = {"data_drift": (data_tasks, column_names), "model_drift": (model_tasks, metric_names)}
    for run in runs:
        run_id = str(run["run_id"])
        recs = sorted(by_run.get(run_id, []), key=lambda r: (str(r["task_id"]), int(r.get("map_index", -1))))
        fired: dict[str, Mapping[str, Any]] = {}
        for rec in recs:
            value = rec.get("value")
            if rec.get("key") == "evaluation" and isinstance(value, Mapping):
                for alert in value.get("fired") or []:
                    if isinstance(alert, Mapping) and isinstance(alert.get("fingerprint"), str):
                        fired[alert["fingerprint"]] = alert
        data, model, alerts = [], [], []
        per_kind = {"data_drift": data, "model_drift": model}
        # an alert task that failed on a channel pushed its result under "delivery" (no return_value)
        returned = {(r["task_id"], r.get("map_index", -1)) for r in recs if r.get("key") == "return_value"}
        for rec in recs:
            key = rec.get("key")
            if key == "delivery" and (rec["task_id"], rec.get("map_index", -1)) not in returned:
                key = "return_value"
            if key != "return_value":
                continue
            task_id, map_index, value = str(rec["task_id"]), int(rec.get("map_index", -1)), rec.get("value")
            kind = next((k for k in _KINDS if is_report(value, k)), None)
            if kind is not None:
                make, field, tasks, names_by_task, entries = _KINDS[kind], _FIELDS[kind], *seen[kind], per_kind[kind]
                entry = make(task_id, map_index, value)
                entries.append(entry)
                if task_id not in tasks:
                    tasks.append(task_id)
                names = names_by_task.setdefault(task_id, [])
                names.extend(n for n in entry[field] if n not in names)
            elif rec.get("operator") in ALERT_OPERATORS and isinstance(value, Mapping):
                alerts.append(_alert_entry(task_id, value, fired))
        out_runs.append(
            {
                "run_id": run_id,
                "logical_date": run.get("logical_date"),
                "run_after": run.get("run_after"),
                "state": run.get("state"),
                "data_drift": data,
                "model_drift": model,
                "alerts": alerts,
            }
        )
    return {
        "schema_version": HISTORY_SCHEMA_VERSION,
        "dag_id": dag_id,
        "runs": out_runs,
        "data_drift_tasks": data_tasks,
        "model_drift_tasks": model_tasks,
        "columns": column_names,
        "metrics": metric_names,
    }


def latest_status(history: Mapping[str, Any]) -> dict[str, Any]:
    """One line of the overview page: the newest run that has drift results."""
    for run in history.get("runs") or []:
        if run["data_drift"] or run["model_drift"]:
            data, model = run["data_drift"], run["model_drift"]
            fired = sum(a.get("fired") or 0 for a in run["alerts"])
            sent = sum(sum(a["sent"].values()) for a in run["alerts"])
            drifted: list[str] = []
            for d in data:
                drifted.extend(c for c in d["drifted_columns"] if c not in drifted)
            return {
                "dag_id": history["dag_id"],
                "run_id": run["run_id"],
                "logical_date": run["logical_date"],
                "run_after": run["run_after"],
                "state": run["state"],
                "dataset_drift": any(d["dataset_drift"] for d in data) if data else None,
                "drifted_columns": drifted,
                "evaluated_columns": sum(d["evaluated_columns"] or 0 for d in data),
                "model_drift": any(m["model_drift"] for m in model) if model else None,
                "degraded_metrics": sorted({x for m in model for x in m["degraded_metrics"]}),
                "alerts_fired": fired,
                "notifications_sent": sent,
                "runs_with_results": sum(1 for r in history["runs"] if r["data_drift"] or r["model_drift"]),
            }
    return {"dag_id": history.get("dag_id"), "run_id": None}
