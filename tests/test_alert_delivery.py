"""Delivery, dedup windows and fault handling against real local servers (in-process, fast)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from airflow_drift_provider.alerts.channels import (
    AlertContext,
    EmailChannel,
    PagerDutyChannel,
    SlackChannel,
    build_channel,
    header_safe,
    slack_escape,
)
from airflow_drift_provider.alerts.delivery import MemoryStore, deliver, index_key
from airflow_drift_provider.alerts.rules import evaluate_rules
from tests.alert_servers import PagerDutyCapture, SlackWebhookCapture, SmtpCapture

KEY = "ROUTINGkey-not-to-be-logged-123"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel>\r\nBcc: evil@example.test <script>x</script>"


@pytest.fixture(scope="module")
def servers():
    smtp, slack, pd_srv = SmtpCapture(timeout_delay=3).start(), SlackWebhookCapture(timeout_delay=3).start(), None
    pd_srv = PagerDutyCapture(timeout_delay=3).start()
    yield smtp, slack, pd_srv
    smtp.stop()
    slack.stop()
    pd_srv.stop()


@pytest.fixture
def channels(servers, monkeypatch, tmp_path):
    smtp, slack, pd_srv = servers
    for s in servers:
        s.clear()
        s.mode = "ok"
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(k, raising=False)
    smtp_conn = smtp.connection_dict()
    smtp_conn.setdefault("extra", {})["retry_limit"] = 0
    smtp_conn["extra"]["timeout"] = 1
    monkeypatch.setenv("AIRFLOW_CONN_T_SMTP", json.dumps(smtp_conn))
    monkeypatch.setenv("AIRFLOW_CONN_T_SLACK", json.dumps(slack.connection_dict()))
    monkeypatch.setenv(
        "AIRFLOW_CONN_T_PD",
        json.dumps(
            {
                "conn_type": "pagerduty_events",
                "password": KEY,
                "extra": {"events_base_url": pd_srv.base_url, "ca_bundle": pd_srv.ca_bundle_path},
            }
        ),
    )
    return {
        "email": EmailChannel("email", "t_smtp", to=["team@example.test"]),
        "slack": SlackChannel("slack", "t_slack", timeout=1),
        "pagerduty": PagerDutyChannel("pagerduty", "t_pd", timeout=1.0),
    }


ROUTES = {"critical": ["pagerduty", "slack", "email"], "warning": ["slack", "email"]}


def _evaluation(columns=("a", "b"), value=0.9):
    report = {"columns": {c: {"methods": {"psi": {"statistic": value}}, "drifted": True} for c in columns}}
    rules = [
        {
            "name": "psi",
            "metric": "columns.*.methods.psi.statistic",
            "op": "gt",
            "threshold": 0.5,
            "severity": "critical",
        }
    ]
    return evaluate_rules(rules, {"dd": report}, dag_id="dag")


def _ctx(run="run-1"):
    return AlertContext(dag_id="dag", run_id=run, task_id="alert", run_url="http://airflow/dags/dag/runs/" + run)


def _go(ev, channels, store, run="run-1", now=T0, **kw):
    kw.setdefault("retries", 1)
    kw.setdefault("backoff", 0.01)
    return deliver(ev, channels, ROUTES, store, _ctx(run), now=now, **kw)


def test_all_channels_delivered_and_recorded(servers, channels):
    smtp, slack, pd_srv = servers
    store = MemoryStore()
    res = _go(_evaluation(), channels, store)
    assert set(res["sent"]) == {"email", "slack", "pagerduty"} and not res["failed"]
    assert len(smtp.messages) == 1 and len(slack.json_bodies) == 1 and len(pd_srv.json_bodies) == 2
    assert sorted(store.get(index_key("drift_alert:", "dag"))) == sorted(
        f["fingerprint"] for f in _evaluation()["fired"]
    )


@pytest.mark.parametrize("mode", ["error", "timeout", "drop"])
def test_slack_down_others_delivered_and_retry_sends_only_slack(servers, channels, mode):
    smtp, slack, pd_srv = servers
    slack.mode = mode
    store = MemoryStore()
    ev = _evaluation()
    res = _go(ev, channels, store)
    assert set(res["failed"]) == {"slack"} and set(res["sent"]) == {"email", "pagerduty"}
    assert len(smtp.messages) == 1 and len(pd_srv.json_bodies) == 2
    fp = ev["fired"][0]["fingerprint"]
    assert "slack" not in store.get("drift_alert:" + fp)["sent"]
    # the task retry (same run): only Slack goes out
    slack.mode = "ok"
    slack.clear()
    res2 = _go(ev, channels, store)
    assert set(res2["sent"]) == {"slack"} and set(res2["suppressed"]) == {"email", "pagerduty"}
    assert len(smtp.messages) == 1 and len(pd_srv.json_bodies) == 2
    assert len(slack.json_bodies) == 1


@pytest.mark.parametrize("mode", ["drop", "fail", "timeout"])
def test_smtp_failures_do_not_block_others(servers, channels, mode):
    smtp, slack, pd_srv = servers
    smtp.mode = mode
    res = _go(_evaluation(), channels, MemoryStore(), retries=0)
    assert set(res["failed"]) == {"email"} and set(res["sent"]) == {"slack", "pagerduty"}
    assert res["failed"]["email"]["error"].startswith(("SMTP", "Connection", "TimeoutError", "AirflowException"))


@pytest.mark.parametrize("mode", ["error", "timeout", "bad_request"])
def test_pagerduty_failures(servers, channels, mode):
    smtp, slack, pd_srv = servers
    pd_srv.mode = mode
    res = _go(_evaluation(), channels, MemoryStore(), retries=0)
    assert set(res["failed"]) == {"pagerduty"} and len(res["failed"]["pagerduty"]["fingerprints"]) == 2
    assert set(res["sent"]) == {"email", "slack"}


def test_transient_failure_is_retried_with_backoff(servers, channels):
    smtp, slack, pd_srv = servers
    slack.set_mode("error", times=2)
    delays = []
    res = _go(_evaluation(), channels, MemoryStore(), retries=3, backoff=0.5, sleep=delays.append)
    assert "slack" in res["sent"] and not res["failed"]
    assert delays == [0.5, 1.0]  # exponential backoff, stopped at the first success
    assert len(slack.requests) == 3


def test_dedup_window_renotify_and_flapping(servers, channels):
    smtp, slack, pd_srv = servers
    store = MemoryStore()
    ev = _evaluation(columns=("a",))
    kw = {"dedup_window": timedelta(hours=1), "renotify_after": timedelta(hours=6)}
    assert set(_go(ev, channels, store, "r1", T0, **kw)["sent"]) == {"email", "slack", "pagerduty"}
    # still firing, 30 min later and 3 h later: deduplicated
    for i, dt in enumerate((timedelta(minutes=30), timedelta(hours=3))):
        res = _go(ev, channels, store, f"r2{i}", T0 + dt, **kw)
        assert res["sent"] == {} and set(res["suppressed"]) == {"email", "slack", "pagerduty"}
    # 7 h later: re-notified
    assert set(_go(ev, channels, store, "r3", T0 + timedelta(hours=7), **kw)["sent"]) == {"email", "slack", "pagerduty"}
    fp = ev["fired"][0]["fingerprint"]
    assert store.get("drift_alert:" + fp)["count"] == 4
    # recovery: resolve notifications on every channel it was sent to
    clean = evaluate_rules(
        ev["rules"], {"dd": {"columns": {"a": {"methods": {"psi": {"statistic": 0.1}}}}}}, dag_id="dag"
    )
    before = len(pd_srv.json_bodies)
    res = _go(clean, channels, store, "r4", T0 + timedelta(hours=7, minutes=10), **kw)
    assert res["resolved"] == [fp] and set(res["resolve_sent"]) == {"email", "slack", "pagerduty"}
    assert pd_srv.json_bodies[before]["event_action"] == "resolve" and pd_srv.json_bodies[before]["dedup_key"] == fp
    assert store.get("drift_alert:" + fp)["status"] == "resolved"
    assert store.get(index_key("drift_alert:", "dag")) == []
    # flaps back within the dedup window of the last delivery: state reopened, not re-sent
    res = _go(ev, channels, store, "r5", T0 + timedelta(hours=7, minutes=20), **kw)
    assert res["sent"] == {} and store.get("drift_alert:" + fp)["status"] == "firing"
    # fires again after the window: a new episode is delivered
    res = _go(ev, channels, store, "r6", T0 + timedelta(hours=9), **kw)
    assert set(res["sent"]) == {"email", "slack", "pagerduty"}


def test_rule_errors_do_not_resolve_open_alerts(servers, channels):
    store = MemoryStore()
    ev = _evaluation(columns=("a",))
    _go(ev, channels, store)
    broken = evaluate_rules(ev["rules"], {"dd": {"columns": {}}}, dag_id="dag")
    assert broken["errors"]
    res = _go(broken, channels, store, "r2")
    assert res["resolved"] == [] and res["open"] == [ev["fired"][0]["fingerprint"]]


def test_rule_channels_override_routes_and_unknown_channel_is_reported(servers, channels):
    smtp, slack, pd_srv = servers
    report = {"summary": {"share_drifted": 0.9}}
    rules = [
        {"name": "share", "metric": "summary.share_drifted", "op": "gte", "threshold": 0.5, "channels": ["email"]},
        {"name": "ghost", "metric": "summary.share_drifted", "op": "gte", "threshold": 0.5, "channels": ["sms"]},
    ]
    res = _go(evaluate_rules(rules, {"dd": report}, dag_id="dag"), channels, MemoryStore())
    assert set(res["sent"]) == {"email"} and len(smtp.messages) == 1
    assert any("sms" in e for e in res["errors"])


def test_escaping_in_email_and_slack(servers, channels):
    smtp, slack, pd_srv = servers
    report = {"columns": {HOSTILE: {"methods": {"psi": {"statistic": 0.9}}}}}
    rules = [
        {
            "name": "psi",
            "metric": "columns.*.methods.psi.statistic",
            "op": "gt",
            "threshold": 0.5,
            "severity": "critical",
            "message": "{column} moved",
        }
    ]
    ev = evaluate_rules(rules, {"dd": report}, dag_id="dag")
    channels["email"].subject_prefix = "[drift]\r\nBcc: evil@example.test"
    assert set(_go(ev, channels, MemoryStore())["sent"]) == {"email", "slack", "pagerduty"}
    msg = smtp.messages[0]
    assert "evil@example.test" not in (msg.message.get("Bcc") or "")
    assert all("evil" not in r for r in msg.envelope_rcpt_tos) if hasattr(msg, "envelope_rcpt_tos") else True
    assert "\n" not in msg.subject
    html = msg.part("text/html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    raw = json.dumps(slack.json_bodies[0])
    assert "<!channel>" not in raw and "&lt;!channel&gt;" in raw
    assert pd_srv.json_bodies[0]["payload"]["custom_details"]["column"] == HOSTILE  # data, not markup
    assert "\n" not in pd_srv.json_bodies[0]["payload"]["summary"]


def test_slack_block_kit_limits(servers, channels):
    smtp, slack, pd_srv = servers
    ev = _evaluation(columns=[f"c{i}" * 200 for i in range(120)])
    assert "slack" in _go(ev, channels, MemoryStore())["sent"]
    body = slack.json_bodies[0]
    assert len(body["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in body["blocks"] if b["type"] == "section")
    assert len(body["text"]) < 4000


def test_channel_config_validation():
    assert build_channel("x", {"type": "slack", "conn_id": "s"}).kind == "slack"
    with pytest.raises(ValueError, match="unknown type"):
        build_channel("x", {"type": "sms"})
    with pytest.raises(ValueError, match="to"):
        build_channel("x", {"type": "email", "to": "not-an-address"})
    with pytest.raises(ValueError, match="https"):
        build_channel("x", {"type": "pagerduty", "base_url": "http://events.example"})
    with pytest.raises(ValueError, match="x"):
        build_channel("x", {"type": "slack", "bogus": 1})


def test_escape_helpers():
    assert slack_escape("<!here> & <b>") == "&lt;!here&gt; &amp; &lt;b&gt;"
    assert header_safe("a\r\nBcc: x\x00y") == "a Bcc: x y"


def test_two_alert_tasks_in_one_dag_do_not_resolve_each_other(servers, channels):
    store = MemoryStore()
    data_rules = [{"name": "col", "metric": "columns.*.drifted", "op": "eq", "threshold": True, "severity": "warning"}]
    model_rules = [{"name": "f1", "metric": "metrics.f1.change", "op": "lt", "threshold": -0.05, "severity": "warning"}]
    data_ev = evaluate_rules(data_rules, {"dd": {"columns": {"a": {"drifted": True}}}}, dag_id="dag")
    model_ev = evaluate_rules(model_rules, {"md": {"metrics": {"f1": {"change": -0.2}}}}, dag_id="dag")
    for day in range(3):  # both keep firing, delivered by two alert tasks of the same DAG
        r1 = _go(data_ev, channels, store, f"r{day}", T0 + timedelta(days=day))
        r2 = _go(model_ev, channels, store, f"r{day}", T0 + timedelta(days=day))
        assert r1["resolved"] == [] and r2["resolved"] == []
    assert len(store.get(index_key("drift_alert:", "dag"))) == 2


def test_a_down_channel_fails_fast_for_the_remaining_alerts(servers, channels):
    smtp, slack, pd_srv = servers
    pd_srv.mode = "error"
    delays = []
    res = _go(
        _evaluation(columns=[f"c{i}" for i in range(10)]), channels, MemoryStore(), retries=2, sleep=delays.append
    )
    assert len(res["failed"]["pagerduty"]["fingerprints"]) == 10
    assert len(pd_srv.requests) == 3 and len(delays) == 2  # one alert's attempts, not 10 x 3


def test_rate_limited_pagerduty_is_bounded(servers, channels):
    smtp, slack, pd_srv = servers
    pd_srv.mode = "rate_limited"
    res = _go(_evaluation(columns=("a",)), channels, MemoryStore(), retries=0)
    assert "pagerduty" in res["failed"]
    assert len(pd_srv.requests) <= 2
