"""Alerting end to end in real DAG runs: real SMTP/Slack/PagerDuty servers, real Variables, several runs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from devtools.airflow_state import alert_states, xcom_value
from tests.alert_servers import PagerDutyCapture, SlackWebhookCapture, SmtpCapture
from tests.conftest import AIRFLOW_BIN, ROOT

pytestmark = pytest.mark.airflow
HOSTILE = "<!channel> <script>alert(1)</script>"
ROUTING_KEY = "R0UTINGKEYsecret0123456789abcdef"
WEBHOOK_TOKEN = "xoxb-WEBHOOKsecretTOKEN"


def _data(d: Path) -> None:
    rng = np.random.default_rng(5)
    n = 3000
    ref = pd.DataFrame(
        {
            "score": rng.normal(0, 1, n),
            "plan": rng.choice(["basic", "pro"], n, p=[0.7, 0.3]),
            HOSTILE: rng.normal(0, 1, n),
        }
    )
    drift = pd.DataFrame(
        {
            "score": rng.normal(2.0, 1, 2000),
            "plan": rng.choice(["basic", "pro", "enterprise"], 2000, p=[0.6, 0.3, 0.1]),
            HOSTILE: rng.normal(1.5, 1, 2000),
        }
    )
    ok = pd.DataFrame(
        {
            "score": rng.normal(0, 1, 2000),
            "plan": rng.choice(["basic", "pro"], 2000, p=[0.7, 0.3]),
            HOSTILE: rng.normal(0, 1, 2000),
        }
    )
    ref.to_parquet(d / "reference.parquet", index=False)
    drift.to_parquet(d / "drift.parquet", index=False)
    ok.to_parquet(d / "ok.parquet", index=False)


@pytest.fixture(scope="module")
def env(tmp_path_factory, migrated_airflow):
    data = tmp_path_factory.mktemp("alert_data")
    _data(data)
    smtp = SmtpCapture().start()
    slack = SlackWebhookCapture(timeout_delay=3).start()
    pd_srv = PagerDutyCapture().start()
    e = dict(migrated_airflow)
    slack_conn = slack.connection_dict()
    slack_conn["password"] = slack_conn["password"].rsplit("/", 1)[0] + "/" + WEBHOOK_TOKEN
    e.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "tests" / "dags"),
        DRIFT_TEST_DATA=str(data),
        AIRFLOW_CONN_DRIFT_SMTP=json.dumps(smtp.connection_dict()),
        AIRFLOW_CONN_DRIFT_SLACK=json.dumps(slack_conn),
        AIRFLOW_CONN_DRIFT_PAGERDUTY=json.dumps(
            {
                "conn_type": "pagerduty_events",
                "password": ROUTING_KEY,
                "extra": {"events_base_url": pd_srv.base_url, "ca_bundle": pd_srv.ca_bundle_path},
            }
        ),
    )
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        e.pop(k, None)
    state = {"env": e, "data": data, "smtp": smtp, "slack": slack, "pd": pd_srv, "outputs": []}
    yield state
    smtp.stop()
    slack.stop()
    pd_srv.stop()


def _run(state, **conf) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [AIRFLOW_BIN, "dags", "test", "drift_alerts_e2e", "-c", json.dumps(conf)],
        capture_output=True,
        text=True,
        env=state["env"],
        timeout=900,
    )
    state["outputs"].append(out.stdout + out.stderr)
    return out


def _db(state):
    return sqlite3.connect(Path(state["env"]["AIRFLOW_HOME"]) / "airflow.db")


def _last_run(state) -> str:
    con = _db(state)
    try:
        return con.execute(
            "select run_id from dag_run where dag_id='drift_alerts_e2e' order by id desc limit 1"
        ).fetchone()[0]
    finally:
        con.close()


def _ti(state, run_id: str, task_id: str):
    con = _db(state)
    try:
        return con.execute(
            "select state, try_number from task_instance where dag_id='drift_alerts_e2e' and run_id=? and task_id=?",
            (run_id, task_id),
        ).fetchone()
    finally:
        con.close()


def _xcom(state, run_id: str, task_id: str, key: str = "return_value"):
    db = Path(state["env"]["AIRFLOW_HOME"]) / "airflow.db"
    return xcom_value(db, "drift_alerts_e2e", task_id, run_id=run_id, key=key)


def _states(state) -> dict[str, dict]:
    """Alert state as Airflow stores it (Variables are encrypted: read them through the CLI)."""
    return alert_states(AIRFLOW_BIN, state["env"])


def _ok_posts(srv):
    return [r for r in srv.requests if getattr(r, "status", 200) < 300]


def _pd_events(state):
    return [b for b in state["pd"].json_bodies]


class TestAlertLifecycle:
    def test_1_first_run_alerts_every_channel(self, env):
        out = _run(env, current=str(env["data"] / "drift.parquet"))
        run = _last_run(env)
        assert _ti(env, run, "send_alerts") == ("success", 1), out.stdout[-3000:] + out.stderr[-3000:]
        assert _ti(env, run, "all_good")[0] == "skipped"
        evaluation = _xcom(env, run, "evaluate", "evaluation")
        fired = evaluation["fired"]
        critical = {f["fingerprint"] for f in fired if f["severity"] == "critical"}
        # the shifted columns, and "plan" whose 10 % unseen category makes its PSI ~0.7
        assert {f["column"] for f in fired if f["rule"] == "psi_critical"} == {"score", HOSTILE, "plan"}
        env["n_critical"] = len(critical)
        assert any(f["rule"] == "unseen" and f["column"] == "plan" for f in fired)
        # one e-mail digest, one Slack message, one PagerDuty event per critical alert
        assert len(env["smtp"].messages) == 1
        assert len(env["slack"].json_bodies) == 1
        events = _pd_events(env)
        assert {e["dedup_key"] for e in events} == critical and len(events) == len(critical)
        assert all(e["event_action"] == "trigger" and e["routing_key"] == ROUTING_KEY for e in events)
        assert {e["payload"]["severity"] for e in events} == {"critical"}
        details = {e["payload"]["custom_details"]["column"]: e["payload"]["custom_details"] for e in events}
        assert details["score"]["value"] > 0.5 and details["score"]["threshold"] == 0.5
        assert details["score"]["dag_id"] == "drift_alerts_e2e" and details["score"]["run_id"] == run
        assert events[0]["links"][0]["href"].endswith("/runs/" + run.replace(":", "%3A").replace("+", "%2B"))
        states = _states(env)
        open_index = states.pop("drift_alert:open:drift_alerts_e2e")
        assert sorted(open_index) == sorted(f["fingerprint"] for f in fired)
        for st in states.values():
            assert st["status"] == "firing" and st["count"] == 1
        by_fp = {st["fingerprint"]: st for st in states.values()}
        for fp in critical:
            assert set(by_fp[fp]["sent"]) == {"pagerduty", "slack", "email"}

    def test_2_message_content_is_escaped(self, env):
        msg = env["smtp"].messages[0]
        assert "drift_alerts_e2e" in msg.subject and "\n" not in msg.subject
        html = msg.part("text/html")
        text = msg.part("text/plain")
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert HOSTILE in text  # plain text carries the name as is
        assert "/runs/" in html and "PSI of score is" in html
        body = env["slack"].json_bodies[0]
        raw = json.dumps(body)
        assert "<!channel>" not in raw and "&lt;!channel&gt;" in raw
        assert len(body["blocks"]) <= 50 and body["text"]

    def test_3_second_run_is_deduplicated(self, env):
        n_mail, n_slack, n_pd = len(env["smtp"].messages), len(env["slack"].json_bodies), len(_pd_events(env))
        _run(env, current=str(env["data"] / "drift.parquet"))
        run = _last_run(env)
        assert _ti(env, run, "send_alerts") == ("success", 1)
        assert (len(env["smtp"].messages), len(env["slack"].json_bodies), len(_pd_events(env))) == (
            n_mail,
            n_slack,
            n_pd,
        )
        result = _xcom(env, run, "send_alerts")
        assert result["sent"] == {} and set(result["suppressed"]) == {"email", "slack", "pagerduty"}
        states = _states(env)
        states.pop("drift_alert:open:drift_alerts_e2e")
        assert {st["count"] for st in states.values()} == {2}

    def test_4_renotify_after_the_window(self, env):
        n_mail, n_slack, n_pd = len(env["smtp"].messages), len(env["slack"].json_bodies), len(_pd_events(env))
        _run(env, current=str(env["data"] / "drift.parquet"), dedup_window=0, renotify_after=0)
        run = _last_run(env)
        assert _ti(env, run, "send_alerts") == ("success", 1)
        assert len(env["smtp"].messages) == n_mail + 1
        assert len(env["slack"].json_bodies) == n_slack + 1
        # same dedup keys: PagerDuty folds them into the open incidents
        assert len(_pd_events(env)) == n_pd + env["n_critical"]

    def test_5_recovery_resolves(self, env):
        before = len(_pd_events(env))
        n_slack = len(env["slack"].json_bodies)
        _run(env, current=str(env["data"] / "ok.parquet"))
        run = _last_run(env)
        evaluation = _xcom(env, run, "evaluate", "evaluation")
        assert evaluation["summary"]["fired"] == 0
        # nothing fired, but open alerts exist: the alert path runs to resolve them
        assert _ti(env, run, "send_alerts") == ("success", 1)
        resolves = [e for e in _pd_events(env)[before:] if e["event_action"] == "resolve"]
        assert len(resolves) == env["n_critical"] and all("payload" not in e for e in resolves)
        assert len(env["slack"].json_bodies) == n_slack + 1
        assert "Resolved" in env["slack"].json_bodies[-1]["text"]
        assert "resolved" in env["smtp"].messages[-1].subject.lower()
        states = _states(env)
        assert states.pop("drift_alert:open:drift_alerts_e2e") == []
        assert {st["status"] for st in states.values()} == {"resolved"}
        # the next clean run takes the ok path
        _run(env, current=str(env["data"] / "ok.parquet"))
        run = _last_run(env)
        assert _ti(env, run, "send_alerts")[0] == "skipped"
        assert _ti(env, run, "all_good")[0] == "success"

    def test_6_channel_down_then_task_retry_sends_only_the_missing_one(self, env):
        n_mail, n_pd = len(env["smtp"].messages), len(_pd_events(env))
        ok_slack_before = len(env["slack"].json_bodies)
        env["slack"].set_mode("error", times=2)  # both attempts of try 1 fail; try 2 works
        _run(env, current=str(env["data"] / "drift.parquet"), dedup_window=0)
        run = _last_run(env)
        assert _ti(env, run, "send_alerts") == ("success", 2)
        # e-mail and PagerDuty went out once (in try 1) and were not repeated by the retry
        assert len(env["smtp"].messages) == n_mail + 1
        assert len(_pd_events(env)) == n_pd + env["n_critical"]
        slack_requests = env["slack"].json_bodies[ok_slack_before:]
        assert len(slack_requests) == 3  # 2 failed attempts + the retry's success
        result = _xcom(env, run, "send_alerts")
        assert set(result["sent"]) == {"slack"} and set(result["suppressed"]) == {"email", "pagerduty"}

    def test_7_secrets_never_logged(self, env):
        logs = "".join(env["outputs"])
        for path in (Path(env["env"]["AIRFLOW_HOME"]) / "logs").rglob("*.log"):
            logs += path.read_text(errors="replace")
        assert logs, "no output captured"
        assert ROUTING_KEY not in logs
        assert WEBHOOK_TOKEN not in logs


def _run_dag(state, dag_id: str, **conf) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [AIRFLOW_BIN, "dags", "test", dag_id, "-c", json.dumps(conf)],
        capture_output=True,
        text=True,
        env=state["env"],
        timeout=900,
    )
    state["outputs"].append(out.stdout + out.stderr)
    return out


def _task_states(state, dag_id: str) -> dict[str, str]:
    con = _db(state)
    try:
        run_id = con.execute(
            "select run_id from dag_run where dag_id=? order by id desc limit 1", (dag_id,)
        ).fetchone()[0]
        rows = con.execute(
            "select task_id, state from task_instance where dag_id=? and run_id=?", (dag_id, run_id)
        ).fetchall()
    finally:
        con.close()
    return dict(rows), run_id


class TestSensorAndNotifier:
    def test_sensor_fires_on_drift_and_notifier_reports_failure(self, env):
        n_slack = len(env["slack"].json_bodies)
        out = _run_dag(env, "drift_alert_sensor", current=str(env["data"] / "drift.parquet"))
        states, run_id = _task_states(env, "drift_alert_sensor")
        assert states["wait_for_critical_drift"] == "success", out.stdout[-3000:]
        assert states["stop_serving"] == "success"
        con = _db(env)
        try:
            row = con.execute(
                "select value from xcom where dag_id='drift_alert_sensor' and run_id=? "
                "and task_id='wait_for_critical_drift' and key='return_value'",
                (run_id,),
            ).fetchone()
        finally:
            con.close()
        evaluation = json.loads(row[0])
        evaluation = json.loads(evaluation) if isinstance(evaluation, str) else evaluation
        assert evaluation["summary"]["fired_rules"] == ["score_psi"]
        # fail_on_drift failed the strict check; its callback notified Slack
        assert states["strict_check"] == "failed"
        posts = env["slack"].json_bodies[n_slack:]
        assert len(posts) == 1 and "strict drift check failed in drift_alert_sensor" in json.dumps(posts[0])

    def test_sensor_times_out_softly_without_drift(self, env):
        _run_dag(env, "drift_alert_sensor", current=str(env["data"] / "ok.parquet"))
        states, _ = _task_states(env, "drift_alert_sensor")
        assert states["wait_for_critical_drift"] == "skipped"  # soft_fail on timeout
        assert states["stop_serving"] == "skipped"
        assert states["strict_check"] == "success"
