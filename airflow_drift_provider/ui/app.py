"""The drift dashboard: a FastAPI app that Airflow's API server mounts under ``/drift``.

Routes (all relative to ``<base_url>/drift``; every one needs an Airflow login):

========================================  ==========================================================
``GET /``                                 overview page: readable DAGs with drift results, latest status
``GET /api/dags``                         the same as JSON
``GET /dags/{dag_id}/``                   the DAG's "Drift" tab: history across runs, charts, alerts
``GET /api/dags/{dag_id}/history``        the same as JSON (``?limit=`` runs, default 30, at most 200)
``GET /dags/{dag_id}/report``             a task instance's HTML report (``?run_id=&task_id=&map_index=``)
========================================  ==========================================================

Authentication and authorization are Airflow's own: the ``_token`` cookie of
the UI (or a bearer token from ``POST /auth/token``) is resolved by
``GetUserDep`` (no credentials: 401), per-DAG routes require
``requires_access_dag("GET", DagAccessEntity.XCOM)`` (not allowed: 403) and
answer 404 for a DAG that does not exist; list routes only show DAGs the auth
manager lets the user read.  The sub-app's OpenAPI and docs routes are off.
Reports are served from the ``report_uri`` their operator stored in XCom,
never from a path in the request.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse

from airflow_drift_provider.ui.history import (
    ALERT_OPERATORS,
    DATA_OPERATORS,
    EVALUATION_OPERATORS,
    MODEL_OPERATORS,
    build_history,
    latest_status,
)
from airflow_drift_provider.ui.pages import render_dag_page, render_overview_page

DEFAULT_RUNS = 30
MAX_RUNS = 200
OVERVIEW_RUNS = 10
_OPERATORS = sorted(DATA_OPERATORS | MODEL_OPERATORS | ALERT_OPERATORS | EVALUATION_OPERATORS)
_KEYS = ("return_value", "evaluation", "delivery")

_dag_access = [Depends(requires_access_dag("GET", DagAccessEntity.XCOM))]


def _csp(nonce: str) -> str:
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; img-src data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )


def _html(document: str, status_code: int = 200) -> HTMLResponse:
    """HTML with a nonce-based CSP: only our own inline scripts run (data is escaped, never markup)."""
    nonce = secrets.token_urlsafe(16)
    document = document.replace("<script>", f"<script nonce='{nonce}'>")
    return HTMLResponse(
        document,
        status_code=status_code,
        headers={
            "Content-Security-Policy": _csp(nonce),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        },
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _require_dag(session: Any, dag_id: str) -> None:
    from airflow.models.dag import DagModel
    from sqlalchemy import select

    if session.scalar(select(DagModel.dag_id).where(DagModel.dag_id == dag_id)) is None:
        raise HTTPException(404, f"DAG {dag_id!r} not found")


def _history(session: Any, dag_id: str, limit: int) -> dict[str, Any]:
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import and_, select

    runs = [
        {"run_id": r.run_id, "logical_date": _iso(r.logical_date), "run_after": _iso(r.run_after), "state": r.state}
        for r in session.execute(
            select(DagRun.run_id, DagRun.logical_date, DagRun.run_after, DagRun.state)
            .where(DagRun.dag_id == dag_id)
            .order_by(DagRun.run_after.desc(), DagRun.id.desc())
            .limit(limit)
        )
    ]
    records: list[dict[str, Any]] = []
    if runs:
        rows = session.execute(
            select(XComModel, TaskInstance.operator)
            .join(
                TaskInstance,
                and_(
                    TaskInstance.dag_id == XComModel.dag_id,
                    TaskInstance.run_id == XComModel.run_id,
                    TaskInstance.task_id == XComModel.task_id,
                    TaskInstance.map_index == XComModel.map_index,
                ),
            )
            .where(
                XComModel.dag_id == dag_id,
                XComModel.run_id.in_([r["run_id"] for r in runs]),
                XComModel.key.in_(_KEYS),
                TaskInstance.operator.in_(_OPERATORS),
            )
        )
        for xcom, operator in rows:
            value = XComModel.deserialize_value(xcom)
            if isinstance(value, str) and value[:1] in "{[":  # pushed as a JSON string
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            records.append(
                {
                    "run_id": xcom.run_id,
                    "task_id": xcom.task_id,
                    "map_index": xcom.map_index,
                    "key": xcom.key,
                    "operator": operator,
                    "value": value,
                }
            )
    return build_history(dag_id, runs, records)


def _overview(session: Any, user: Any) -> list[dict[str, Any]]:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    readable = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
    if not readable:
        return []
    dag_ids = sorted(
        session.scalars(
            select(TaskInstance.dag_id)
            .where(TaskInstance.operator.in_(sorted(DATA_OPERATORS | MODEL_OPERATORS)))
            .where(TaskInstance.dag_id.in_(sorted(readable)))
            .distinct()
        )
    )
    out = []
    for dag_id in dag_ids:
        status = latest_status(_history(session, dag_id, OVERVIEW_RUNS))
        if status.get("run_id") is not None:
            out.append(status)
    return out


def create_app(mount_prefix: str = "/drift") -> FastAPI:
    """Build the dashboard app (mounted by :class:`~airflow_drift_provider.plugins.drift.DriftPlugin`)."""
    app = FastAPI(
        title="Drift dashboard",
        description="Drift history and reports of airflow-drift-provider",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.mount_prefix = mount_prefix

    @app.get("/", response_class=HTMLResponse)
    def overview_page(user: GetUserDep, session: SessionDep) -> HTMLResponse:
        return _html(render_overview_page(_overview(session, user)))

    @app.get("/api/dags")
    def overview_json(user: GetUserDep, session: SessionDep) -> JSONResponse:
        return JSONResponse({"dags": _overview(session, user)})

    @app.get("/dags/{dag_id}/", response_class=HTMLResponse, dependencies=_dag_access)
    def dag_page(
        dag_id: str,
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = DEFAULT_RUNS,
    ) -> HTMLResponse:
        _require_dag(session, dag_id)
        history = _history(session, dag_id, limit)
        json_href = f"../../api/dags/{quote(dag_id, safe='')}/history?limit={limit}"
        return _html(render_dag_page(history, json_href=json_href))

    @app.get("/api/dags/{dag_id}/history", dependencies=_dag_access)
    def dag_history(
        dag_id: str,
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = DEFAULT_RUNS,
    ) -> JSONResponse:
        _require_dag(session, dag_id)
        return JSONResponse(_history(session, dag_id, limit))

    @app.get("/dags/{dag_id}/report", response_class=HTMLResponse, dependencies=_dag_access)
    def report(
        dag_id: str,
        session: SessionDep,
        run_id: Annotated[str, Query(min_length=1, max_length=250)],
        task_id: Annotated[str, Query(min_length=1, max_length=250)],
        map_index: Annotated[int, Query(ge=-1)] = -1,
    ) -> HTMLResponse:
        _require_dag(session, dag_id)
        return _html(_read_report(session, dag_id, run_id, task_id, map_index))

    return app


def _read_report(session: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    from airflow_drift_provider.sources import read_text

    xcom = session.scalar(
        select(XComModel).where(
            XComModel.dag_id == dag_id,
            XComModel.run_id == run_id,
            XComModel.task_id == task_id,
            XComModel.map_index == map_index,
            XComModel.key == "return_value",
        )
    )
    value = XComModel.deserialize_value(xcom) if xcom is not None else None
    uri = (
        value.get("report_uri")
        if isinstance(value, dict) and value.get("kind") in ("data_drift", "model_drift")
        else None
    )
    if not isinstance(uri, str) or not uri:
        raise HTTPException(404, "no drift report for this task instance")
    try:
        return read_text(uri)
    except FileNotFoundError:
        raise HTTPException(404, "the drift report file no longer exists") from None
    except Exception as exc:
        raise HTTPException(502, f"the drift report could not be read ({type(exc).__name__})") from None
