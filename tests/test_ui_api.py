"""The drift dashboard against a real ``airflow api-server`` on 127.0.0.1 (SimpleAuthManager users).

A DAG with hostile column names (tests/dags/drift_ui.py) runs twice on a temp SQLite home; the API
server + DAG processor then serve the plugin.  Users: ``admin`` (admin), ``viewer`` (viewer role:
read-only on every DAG) and ``nobody`` (a user without any role: authenticated, no access).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import AIRFLOW_BIN, ROOT
from tests.ui_server import AirflowUI

pytestmark = pytest.mark.airflow

DAG_ID = "drift_ui_hostile"
HOSTILE = ["<script>alert('col')</script>", "<img src=x onerror=alert(1)>", "x' onmouseover='alert(2)", "Größe 列"]
USERS = {"admin": "admin", "viewer": "viewer", "nobody": "nobody"}
ROLES = {"admin": "admin", "viewer": "viewer", "nobody": ""}


def hostile_home(tmp: Path, env: dict[str, str], base_url: str | None = None) -> dict[str, str]:
    """A migrated home whose DAGs folder has the hostile-names DAG; runs it for two days.

    ``base_url``: the UI's URL, used by the worker for the "Drift report" extra link.
    """
    dags = tmp / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "tests" / "dags" / "drift_ui.py", dags / "drift_ui.py")
    env = dict(env, AIRFLOW__CORE__DAGS_FOLDER=str(dags))
    run_env = dict(env, AIRFLOW__API__BASE_URL=base_url) if base_url else env
    for args in (["db", "migrate"], ["dags", "test", DAG_ID, "2026-11-02"], ["dags", "test", DAG_ID, "2026-11-03"]):
        out = subprocess.run([AIRFLOW_BIN, *args], capture_output=True, text=True, env=run_env, timeout=600)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return env


@pytest.fixture(scope="module")
def ui_env(tmp_path_factory, airflow_env) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("ui_api")
    env = dict(airflow_env, AIRFLOW_HOME=str(tmp / "home"))
    return hostile_home(tmp, env)


@pytest.fixture(scope="module")
def ui(ui_env, tmp_path_factory):
    with AirflowUI(ui_env, users=USERS, roles=ROLES, dags=[DAG_ID], log_dir=tmp_path_factory.mktemp("ui_logs")) as srv:
        yield srv


def history(ui) -> dict:
    status, resp = ui.request("GET", f"drift/api/dags/{DAG_ID}/history", user="viewer")
    assert status == 200, resp["body"]
    return json.loads(resp["body"])


PATHS = [f"drift/dags/{DAG_ID}/", f"drift/api/dags/{DAG_ID}/history", f"drift/dags/{DAG_ID}/report?run_id=x&task_id=y"]


@pytest.mark.parametrize("path", [*PATHS, "drift/", "drift/api/dags"])
def test_401_without_credentials(ui, path):
    status, resp = ui.request("GET", path)
    assert status == 401, resp["body"]


@pytest.mark.parametrize("path", PATHS)
def test_403_for_user_without_access_and_for_a_bad_token(ui, path):
    assert ui.request("GET", path, user="nobody")[0] == 403
    assert ui.request("GET", path, token="not-a-token")[0] in (401, 403)


def test_403_does_not_reveal_whether_a_dag_exists(ui):
    assert ui.request("GET", "drift/dags/no_such_dag/", user="nobody")[0] == 403


@pytest.mark.parametrize(
    "path",
    [
        "drift/dags/no_such_dag/",
        "drift/api/dags/no_such_dag/history",
        "drift/dags/no_such_dag/report?run_id=x&task_id=y",
    ],
)
def test_404_for_unknown_dag(ui, path):
    status, resp = ui.request("GET", path, user="viewer")
    assert status == 404
    assert "not found" in json.loads(resp["body"])["detail"]


def test_no_public_docs_or_openapi(ui):
    for path in ("drift/docs", "drift/redoc", "drift/openapi.json"):
        assert ui.request("GET", path)[0] == 404
        assert ui.request("GET", path, user="admin")[0] == 404


def test_history_json_with_token(ui):
    h = history(ui)
    assert h["dag_id"] == DAG_ID and h["schema_version"] == 1
    assert len(h["runs"]) == 2
    assert [r["logical_date"][:10] for r in h["runs"]] == ["2026-11-03", "2026-11-02"]  # newest first
    assert h["data_drift_tasks"] == ["data_drift"] and h["model_drift_tasks"] == ["model_drift"]
    assert h["columns"]["data_drift"] == HOSTILE
    for run in h["runs"]:
        (entry,) = run["data_drift"]
        assert entry["has_report"] is True
        assert set(entry["columns"]) == set(HOSTILE)
        shifted = entry["columns"][HOSTILE[0]]
        assert shifted["drifted"] is True and shifted["ratio"] >= 1
        for col in entry["columns"].values():  # ratio >= 1 exactly when the column drifted
            assert (col["ratio"] >= 1) == col["drifted"]
        (model,) = run["model_drift"]
        assert {"accuracy", "f1"} <= set(model["metrics"])
    limited = json.loads(ui.request("GET", f"drift/api/dags/{DAG_ID}/history?limit=1", user="viewer")[1]["body"])
    assert len(limited["runs"]) == 1
    assert ui.request("GET", f"drift/api/dags/{DAG_ID}/history?limit=0", user="viewer")[0] == 422


def test_dag_page_escapes_column_names(ui):
    status, resp = ui.request("GET", f"drift/dags/{DAG_ID}/", user="viewer")
    assert status == 200
    body = resp["body"]
    assert resp["headers"]["content-type"].startswith("text/html")
    for name in HOSTILE:
        assert html.escape(name, quote=True) in body
    assert "<script>alert" not in body and "<img" not in body and "onmouseover='" not in body
    assert len(re.findall(r"<script\b", body)) == 1  # ours, with the response's CSP nonce
    csp = resp["headers"]["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f"<script nonce='{nonce}'>" in body
    assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert body.count("<svg class='chart'") >= 3  # share drifted, drift ratio per column, model metrics
    assert "table class='sortable drift-columns'" in body


def test_report_served_from_xcom_location(ui):
    run = history(ui)["runs"][0]["run_id"]
    status, resp = ui.request(
        "GET", f"drift/dags/{DAG_ID}/report?run_id={quote(run, safe='')}&task_id=data_drift", user="viewer"
    )
    assert status == 200
    assert "<svg" in resp["body"] and html.escape(HOSTILE[0], quote=True) in resp["body"]
    assert "<script>alert" not in resp["body"]
    assert ui.request("GET", f"drift/dags/{DAG_ID}/report?run_id=nope&task_id=data_drift", user="viewer")[0] == 404
    # a path in the request is never read: only run_id/task_id/map_index select the XCom report
    status, _ = ui.request(
        "GET", f"drift/dags/{DAG_ID}/report?run_id=../../etc/passwd&task_id=data_drift", user="viewer"
    )
    assert status == 404


def test_overview_lists_only_readable_dags(ui):
    dags = json.loads(ui.request("GET", "drift/api/dags", user="viewer")[1]["body"])["dags"]
    (row,) = [d for d in dags if d["dag_id"] == DAG_ID]
    assert row["logical_date"][:10] == "2026-11-03" and HOSTILE[0] in row["drifted_columns"]
    assert row["runs_with_results"] == 2
    assert json.loads(ui.request("GET", "drift/api/dags", user="nobody")[1]["body"]) == {"dags": []}
    status, resp = ui.request("GET", "drift/", user="viewer")
    assert status == 200 and f"href='dags/{DAG_ID}/'" in resp["body"]


def test_extra_link_and_ui_views_registered(ui):
    run = history(ui)["runs"][0]["run_id"]
    status, resp = ui.request(
        "GET", f"api/v2/dags/{DAG_ID}/dagRuns/{quote(run, safe='')}/taskInstances/data_drift/links", user="viewer"
    )
    assert status == 200, resp["body"]
    link = json.loads(resp["body"])["extra_links"]["Drift report"]
    assert f"/drift/dags/{DAG_ID}/report?run_id={quote(run, safe='')}&task_id=data_drift" in link
    status, resp = ui.request("GET", "api/v2/plugins", user="admin")
    assert status == 200
    (plugin,) = [p for p in json.loads(resp["body"])["plugins"] if p["name"] == "drift"]
    views = {v["destination"]: v for v in plugin["external_views"]}
    assert views["dag"]["href"] == "drift/dags/{DAG_ID}/" and views["nav"]["href"] == "drift/"
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/drift"


def test_served_under_a_base_url_sub_path(ui_env, ui, tmp_path_factory):
    """``[api] base_url=http://host:port/airflow``: the plugin answers under /airflow/drift/ and links stay relative."""
    with AirflowUI(
        ui_env,
        users=USERS,
        roles=ROLES,
        dags=[DAG_ID],
        base_path="airflow",
        log_dir=tmp_path_factory.mktemp("sub"),
        dag_processor=False,  # the first server's processor keeps parsing the same DB
    ) as sub:
        assert sub.url.endswith("/airflow/")
        status, resp = sub.request("GET", f"drift/dags/{DAG_ID}/", user="viewer")
        assert status == 200
        assert "href='report?run_id=" in resp["body"] and "href='/" not in resp["body"]
        status, resp = sub.request("GET", "drift/", user="viewer")
        assert status == 200 and f"href='dags/{DAG_ID}/'" in resp["body"]
        status, resp = sub.request("GET", f"drift/api/dags/{DAG_ID}/history", user="viewer")
        assert status == 200 and json.loads(resp["body"])["dag_id"] == DAG_ID
        assert sub.request("GET", f"drift/dags/{DAG_ID}/", user="nobody")[0] == 403
