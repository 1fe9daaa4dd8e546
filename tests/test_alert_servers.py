"""The local alert servers in tests/alert_servers.py, driven through the OFFICIAL Airflow provider hooks / clients.

Each test asserts on what the server captured or on the exact exception the hook or client raises (see the
"Facts" section of tests/alert_servers.py). The ``timeout`` modes use short timeouts, so the file runs in a
few seconds.
"""

from __future__ import annotations

import http.client
import importlib
import json
import logging
import os
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest

from tests.alert_servers import (
    CapturedEmail,
    PagerDutyCapture,
    SlackWebhookCapture,
    SmtpCapture,
    airflow_conn_env_var,
)

ROOT = Path(__file__).resolve().parents[1]
ROUTING_KEY = "R0UTINGKEY0123456789abcdefSECRET"  # 32 chars, like a real integration key
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


# ----------------------------------------------------------------------------------------------------------------
# fixtures
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory):
    """Temp AIRFLOW_HOME (set before any hook is imported: the hooks are imported lazily in ``hooks``)."""
    home = tmp_path_factory.mktemp("alert_airflow_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_HOME", str(home))
        mp.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        mp.setenv("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
        yield home


@pytest.fixture(scope="session")
def hooks(airflow_home):
    """Import the provider hook modules lazily, after AIRFLOW_HOME has been set."""

    class _Hooks:
        smtp = importlib.import_module("airflow.providers.smtp.hooks.smtp")
        slack = importlib.import_module("airflow.providers.slack.hooks.slack_webhook")
        pagerduty = importlib.import_module("airflow.providers.pagerduty.hooks.pagerduty_events")
        exceptions = importlib.import_module("airflow.providers.common.compat.sdk")

    return _Hooks


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    # slack_sdk and httpx2 both read proxy variables from the environment; 127.0.0.1 must be reached directly.
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture
def smtp_server():
    with SmtpCapture(timeout_delay=3.0) as server:
        yield server


@pytest.fixture
def smtp_auth_server():
    with SmtpCapture(credentials=("drift", "smtp-s3cret-pw")) as server:
        yield server


@pytest.fixture
def slack_server():
    with SlackWebhookCapture(timeout_delay=3.0) as server:
        yield server


@pytest.fixture
def pagerduty_server():
    with PagerDutyCapture(timeout_delay=3.0) as server:
        yield server


@pytest.fixture
def set_conn(monkeypatch, hooks):
    """``set_conn(server, conn_id, **kwargs)``: expose ``server``'s Airflow connection as AIRFLOW_CONN_<ID>."""

    def _set(server, conn_id: str, **kwargs) -> str:
        for name, value in server.airflow_env(conn_id, **kwargs).items():
            monkeypatch.setenv(name, value)
        return conn_id

    return _set


def _send_mail(hooks, conn_id: str, **overrides) -> None:
    kwargs = {"to": "ops@example.test, ml@example.test", "subject": "Drift detected", "html_content": "<b>PSI</b>"}
    kwargs.update(overrides)
    with hooks.smtp.SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(**kwargs)


def _log_output(caplog, capfd) -> str:
    """Everything logged: stdlib records (caplog) + what structlog printed (hook.log is a structlog proxy that
    writes to the process' stdout, bypassing caplog)."""
    out, err = capfd.readouterr()
    return caplog.text + out + err


BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Data drift detected"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*feature* `age`: PSI=0.31 (> 0.2)"}},
]


# ----------------------------------------------------------------------------------------------------------------
# generic server behaviour
# ----------------------------------------------------------------------------------------------------------------


def test_module_is_importable_without_pytest():
    code = "import sys, tests.alert_servers as m; assert 'pytest' not in sys.modules; print(len(m.__doc__))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 5000  # the Facts section is there


@pytest.mark.parametrize("cls", [SmtpCapture, SlackWebhookCapture, PagerDutyCapture])
def test_lifecycle_mode_and_port(cls):
    server = cls()
    with pytest.raises(RuntimeError):
        _ = server.port  # not started
    with pytest.raises(ValueError, match="unknown mode"):
        server.mode = "nope"
    with server:
        assert server.is_running and 1024 < server.port < 65536
        assert server.url.endswith(f"127.0.0.1:{server.port}")
        server.set_mode(cls.MODES[1], times=1)
        assert server.mode == "ok"  # a times=n override does not change the sticky mode
        server.mode = cls.MODES[1]
        assert server.mode == cls.MODES[1]
        port = server.port
    assert not server.is_running
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_airflow_conn_env_var_name():
    assert airflow_conn_env_var("drift_smtp") == "AIRFLOW_CONN_DRIFT_SMTP"


# ----------------------------------------------------------------------------------------------------------------
# SMTP via airflow.providers.smtp.hooks.smtp.SmtpHook
# ----------------------------------------------------------------------------------------------------------------


def test_smtp_connection_dict(smtp_server):
    conn = smtp_server.connection_dict()
    assert conn == {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": smtp_server.port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "drift@example.test"},
    }
    assert "login" not in conn and "password" not in conn
    assert json.loads(smtp_server.connection_uri_json("x")) == conn


def test_smtp_hook_resolves_connection_from_env(hooks, set_conn, smtp_server):
    set_conn(smtp_server, "drift_smtp", retry_limit=2, timeout=7)
    conn = hooks.smtp.SmtpHook.get_connection("drift_smtp")
    assert (conn.conn_type, conn.host, conn.port) == ("smtp", "127.0.0.1", smtp_server.port)
    assert conn.extra_dejson["retry_limit"] == 2 and conn.extra_dejson["timeout"] == 7


def test_smtp_hook_delivers_html_email(hooks, set_conn, smtp_server):
    set_conn(smtp_server, "drift_smtp")
    html = "<h1>Drift</h1><p>feature <b>age</b>: PSI 0.31 &gt; 0.2 — café</p>"
    _send_mail(hooks, "drift_smtp", subject="[drift] model churn-v3: 2 features drifted", html_content=html)

    (mail,) = smtp_server.messages
    assert isinstance(mail, CapturedEmail) and mail.accepted and mail.mode == "ok"
    assert mail.reply.startswith("250")
    assert mail.mail_from == "drift@example.test"
    assert mail.rcpt_tos == ["ops@example.test", "ml@example.test"]
    assert mail.subject == "[drift] model churn-v3: 2 features drifted"
    assert mail.to == "ops@example.test, ml@example.test"
    assert mail.message["From"] == "drift@example.test"
    assert mail.message["Date"]
    assert mail.message.get_content_type() == "multipart/mixed"
    assert mail.html == html  # utf-8 round trip of the text/html part
    assert b"Subject: [drift] model churn-v3" in mail.raw
    assert mail.login is None


def test_smtp_cc_bcc_and_custom_headers(hooks, set_conn, smtp_server):
    set_conn(smtp_server, "drift_smtp")
    _send_mail(
        hooks,
        "drift_smtp",
        to=["a@example.test"],
        cc="c@example.test",
        bcc="b@example.test",
        custom_headers={"X-Drift-Run": "run-42"},
    )
    (mail,) = smtp_server.messages
    assert mail.rcpt_tos == ["a@example.test", "c@example.test", "b@example.test"]
    assert mail.message["CC"] == "c@example.test"
    assert "b@example.test" not in mail.raw.decode()  # BCC only in the envelope
    assert mail.message["X-Drift-Run"] == "run-42"


def test_smtp_auth_accepted_and_recorded(hooks, set_conn, smtp_auth_server, caplog, capfd):
    conn = smtp_auth_server.connection_dict()
    assert (conn["login"], conn["password"]) == ("drift", "smtp-s3cret-pw")
    set_conn(smtp_auth_server, "drift_smtp")
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG):
        _send_mail(hooks, "drift_smtp")
    (mail,) = smtp_auth_server.messages
    assert mail.login == "drift"
    assert "smtp-s3cret-pw" not in repr(mail)  # the password is never stored...
    assert "smtp-s3cret-pw" not in _log_output(caplog, capfd)  # ...nor logged (even at DEBUG)


def test_smtp_auth_wrong_password(hooks, set_conn, smtp_auth_server):
    set_conn(smtp_auth_server, "drift_smtp", login="drift", password="wrong-password")
    with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
        _send_mail(hooks, "drift_smtp")
    assert exc.value.smtp_code == 535
    assert smtp_auth_server.auth_failures >= 1 and smtp_auth_server.requests == []


def test_smtp_auth_required_but_no_login(hooks, set_conn, smtp_auth_server):
    set_conn(smtp_auth_server, "drift_smtp", login="", password="")
    with pytest.raises(smtplib.SMTPSenderRefused) as exc:
        _send_mail(hooks, "drift_smtp")
    assert exc.value.smtp_code == 530


def test_smtp_login_against_server_without_auth(hooks, set_conn, smtp_server):
    """Why connection_dict() leaves login/password out: SmtpHook logs in whenever both are set."""
    set_conn(smtp_server, "drift_smtp", login="someone", password="something")
    with pytest.raises(smtplib.SMTPNotSupportedError, match="AUTH extension not supported"):
        _send_mail(hooks, "drift_smtp")
    assert smtp_server.requests == []


def test_smtp_ssl_enabled_against_plain_server(hooks, set_conn, smtp_server):
    set_conn(smtp_server, "drift_smtp", disable_ssl=False, retry_limit=0)
    with pytest.raises(ssl.SSLError):
        _send_mail(hooks, "drift_smtp")


@pytest.mark.parametrize(
    ("mode", "exc_type", "code", "attempts"),
    [
        ("fail", smtplib.SMTPDataError, 451, 3),  # transient 4xx: the hook re-sends on the same connection
        ("reject_data", smtplib.SMTPDataError, 550, 3),  # permanent 5xx: ... and retries it just the same
        ("reject", smtplib.SMTPRecipientsRefused, 550, 3),
        ("drop", smtplib.SMTPServerDisconnected, None, 1),  # socket gone: retries fail instantly client-side
        ("drop_mail", smtplib.SMTPServerDisconnected, None, 1),
    ],
)
def test_smtp_failure_modes(hooks, set_conn, smtp_server, mode, exc_type, code, attempts):
    smtp_server.mode = mode
    set_conn(smtp_server, "drift_smtp", retry_limit=2)
    with pytest.raises(exc_type) as exc:
        _send_mail(hooks, "drift_smtp")
    assert smtp_server.messages == []
    seen = smtp_server.requests
    assert len(seen) == attempts and all(r.mode == mode and not r.accepted for r in seen)
    if exc_type is smtplib.SMTPDataError:
        assert exc.value.smtp_code == code
        assert seen[0].reply.startswith(str(code)) and seen[0].stage == "DATA"
        assert seen[0].subject == "Drift detected"  # the content did arrive before the refusal
    elif exc_type is smtplib.SMTPRecipientsRefused:
        assert not isinstance(exc.value, smtplib.SMTPResponseException)
        assert {addr: c for addr, (c, _) in exc.value.recipients.items()} == {
            "ops@example.test": 550,
            "ml@example.test": 550,
        }
        assert seen[0].stage == "RCPT" and seen[0].rejected_rcpts == ["ops@example.test", "ml@example.test"]
    else:
        assert "please run connect() first" in str(exc.value)  # what the caller sees after the retries
        assert seen[0].stage == ("DATA" if mode == "drop" else "MAIL") and seen[0].reply == ""


def test_smtp_drop_without_retries(hooks, set_conn, smtp_server):
    smtp_server.mode = "drop"
    set_conn(smtp_server, "drift_smtp", retry_limit=0)
    with pytest.raises(smtplib.SMTPServerDisconnected, match="Connection unexpectedly closed"):
        _send_mail(hooks, "drift_smtp")


def test_smtp_transient_failure_then_success(hooks, set_conn, smtp_server):
    smtp_server.set_mode("fail", times=2)  # default retry_limit (5) absorbs it
    set_conn(smtp_server, "drift_smtp")
    _send_mail(hooks, "drift_smtp")
    assert [r.reply[:3] for r in smtp_server.requests] == ["451", "451", "250"]
    assert len(smtp_server.messages) == 1 and smtp_server.mode == "ok"


def test_smtp_timeout(hooks, set_conn, smtp_server):
    smtp_server.mode = "timeout"  # reply to DATA delayed 3 s; client timeout 1 s
    set_conn(smtp_server, "drift_smtp", timeout=1, retry_limit=0)
    start = time.monotonic()
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        _send_mail(hooks, "drift_smtp")
    assert time.monotonic() - start < 2.5
    assert len(smtp_server.requests) == 1 and smtp_server.messages == []


def test_smtp_server_down(hooks, set_conn, smtp_server):
    set_conn(smtp_server, "drift_smtp")
    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):
        _send_mail(hooks, "drift_smtp")


def test_smtp_clear_and_wait_for(hooks, set_conn, smtp_server):
    set_conn(smtp_server, "drift_smtp")
    _send_mail(hooks, "drift_smtp")
    assert len(smtp_server.wait_for(1, timeout=2)) == 1
    smtp_server.clear()
    assert smtp_server.requests == []
    with pytest.raises(TimeoutError):
        smtp_server.wait_for(1, timeout=0.1)


# ----------------------------------------------------------------------------------------------------------------
# Slack via airflow.providers.slack.hooks.slack_webhook.SlackWebhookHook
# ----------------------------------------------------------------------------------------------------------------


def test_slack_connection_dict(slack_server):
    conn = slack_server.connection_dict()
    assert conn == {
        "conn_type": "slackwebhook",
        "password": f"http://127.0.0.1:{slack_server.port}/services/T000/B000/XXXX",
    }
    assert slack_server.connection_dict(timeout=3)["extra"] == {"timeout": 3}


def test_slack_hook_posts_text_and_blocks(hooks, set_conn, slack_server):
    set_conn(slack_server, "drift_slack")
    hook = hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack")
    assert hook.client.url == slack_server.webhook_url  # password with "://" is used verbatim
    resp = hook.send(text="Data drift detected", blocks=BLOCKS)
    assert (resp.status_code, resp.body) == (200, "ok")

    (req,) = slack_server.requests
    assert (req.method, req.path, req.status) == ("POST", "/services/T000/B000/XXXX", 200)
    assert req.header("content-type") == "application/json;charset=utf-8"
    assert "slackclient" in req.header("user-agent")
    assert req.json == {"text": "Data drift detected", "blocks": BLOCKS}


def test_slack_host_plus_token_connection(hooks, monkeypatch, slack_server):
    conn = {"conn_type": "slackwebhook", "host": slack_server.url, "password": "services/T111/B222/YYYY"}
    monkeypatch.setenv("AIRFLOW_CONN_DRIFT_SLACK2", json.dumps(conn))
    hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack2").send_text("hi")
    assert [(r.path, r.json) for r in slack_server.requests] == [("/services/T111/B222/YYYY", {"text": "hi"})]


@pytest.mark.parametrize(
    ("mode", "status", "body"),
    [("error", 500, "internal_error"), ("invalid", 400, "invalid_blocks"), ("rate_limited", 429, "rate_limited")],
)
def test_slack_http_errors_raise_airflow_exception_without_retry(hooks, set_conn, slack_server, mode, status, body):
    slack_server.mode = mode
    set_conn(slack_server, "drift_slack")
    hook = hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack")
    with pytest.raises(hooks.exceptions.AirflowException) as exc:
        hook.send(text="x", blocks=BLOCKS)
    assert f"Status Code: {status}" in str(exc.value) and f"'{body}'" in str(exc.value)
    assert [r.status for r in slack_server.requests] == [status]  # not retried, not even 429
    if mode == "rate_limited":
        # the raw client shows what the hook hides in its message
        raw = hook.client.send(text="x")
        assert raw.status_code == 429 and raw.headers["Retry-After"] == "1"


def test_slack_rate_limit_retry_handler_honours_retry_after(hooks, set_conn, slack_server):
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    slack_server.set_mode("rate_limited", times=1)
    set_conn(slack_server, "drift_slack")
    hook = hooks.slack.SlackWebhookHook(
        slack_webhook_conn_id="drift_slack", retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)]
    )
    start = time.monotonic()
    assert hook.send_text("after 429").status_code == 200
    assert time.monotonic() - start >= 1.0  # slept Retry-After (+ jitter)
    assert [r.status for r in slack_server.requests] == [429, 200]


def test_slack_timeout(hooks, set_conn, slack_server):
    slack_server.mode = "timeout"  # answers after 3 s
    set_conn(slack_server, "drift_slack")
    hook = hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack", timeout=1)
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="timed out"):
        hook.send(text="x")
    assert time.monotonic() - start < 2.5
    assert len(slack_server.requests) == 1  # TimeoutError is not retried


def test_slack_timeout_from_connection_extra(hooks, set_conn, slack_server):
    slack_server.mode = "timeout"
    set_conn(slack_server, "drift_slack", timeout=1)
    hook = hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack")
    assert hook.client.timeout == 1
    with pytest.raises(TimeoutError):
        hook.send_text("x")


def test_slack_drop_is_retried_once(hooks, set_conn, slack_server):
    set_conn(slack_server, "drift_slack")
    hook = hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack")

    slack_server.set_mode("drop", times=1)  # one dropped connection: absorbed by the default retry handler
    assert hook.send_text("first").status_code == 200
    assert [r.status for r in slack_server.requests] == [None, 200]

    slack_server.clear()
    slack_server.mode = "drop"
    with pytest.raises(http.client.RemoteDisconnected):
        hook.send_text("second")
    assert len(slack_server.requests) == 2


def test_slack_server_down(hooks, set_conn, slack_server):
    set_conn(slack_server, "drift_slack")
    slack_server.stop()
    with pytest.raises(urllib.error.URLError) as exc:
        hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack").send_text("x")
    assert isinstance(exc.value.reason, ConnectionRefusedError)


def test_slack_webhook_url_not_logged_or_raised(hooks, set_conn, slack_server, caplog, capfd):
    set_conn(slack_server, "drift_slack")
    secret = slack_server.webhook_path  # "/services/T000/B000/XXXX"
    hook = hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack")
    messages = []
    capfd.readouterr()
    with caplog.at_level(logging.INFO):
        hook.send(text="ok", blocks=BLOCKS)
        for mode in ("error", "invalid", "timeout"):
            slack_server.mode = mode
            hook.client.timeout = 1
            with pytest.raises((hooks.exceptions.AirflowException, TimeoutError)) as exc:
                hook.send(text=mode)
            messages.append(str(exc.value))
    logged = _log_output(caplog, capfd)
    assert len(slack_server.requests) == 4
    assert "Failed to send a request to Slack API server: timed out" in logged  # the capture does work
    assert all(secret not in m for m in messages)
    assert secret not in logged


def test_slack_retry_logs_the_webhook_url_and_airflow_masks_it(hooks, set_conn, slack_server, caplog, capfd):
    from airflow.sdk._shared.secrets_masker.secrets_masker import redact

    set_conn(slack_server, "drift_slack")
    slack_server.set_mode("drop", times=1)
    hook = hooks.slack.SlackWebhookHook(slack_webhook_conn_id="drift_slack")
    capfd.readouterr()
    with caplog.at_level(logging.INFO):
        assert hook.send_text("x").status_code == 200
    retry_lines = [line for line in _log_output(caplog, capfd).splitlines() if "Going to retry" in line]
    assert len(retry_lines) == 1
    assert slack_server.webhook_url in retry_lines[0]  # slack_sdk logs the full URL at INFO on a retry...
    assert slack_server.webhook_path not in redact(retry_lines[0])  # ...only Airflow's secrets masker hides it


# ----------------------------------------------------------------------------------------------------------------
# PagerDuty via pagerduty.EventsApiV2Client (and the unmodified PagerdutyEventsHook with a patched client)
# ----------------------------------------------------------------------------------------------------------------


def test_pagerduty_trigger_and_resolve(pagerduty_server):
    import pagerduty

    client = pagerduty.EventsApiV2Client(
        ROUTING_KEY, base_url=pagerduty_server.base_url, verify=pagerduty_server.client_ssl_context()
    )
    client.timeout = 5
    details = {"feature": "age", "psi": 0.31, "threshold": 0.2}
    dedup = client.trigger(
        "Data drift on churn-v3", "airflow-drift", dedup_key="drift:churn-v3", severity="error", custom_details=details
    )
    assert dedup == "drift:churn-v3"
    assert client.resolve(dedup) == "drift:churn-v3"

    trigger, resolve = pagerduty_server.requests
    assert (trigger.method, trigger.path, trigger.status) == ("POST", "/v2/enqueue", 202)
    assert trigger.header("content-type") == "application/json"
    assert trigger.header("user-agent").startswith("python-pagerduty/")
    assert trigger.json == {
        "event_action": "trigger",
        "routing_key": ROUTING_KEY,
        "dedup_key": "drift:churn-v3",
        "payload": {
            "summary": "Data drift on churn-v3",
            "source": "airflow-drift",
            "severity": "error",
            "custom_details": details,
        },
    }
    assert resolve.json == {"event_action": "resolve", "routing_key": ROUTING_KEY, "dedup_key": "drift:churn-v3"}
    assert pagerduty_server.events == [trigger.json, resolve.json]


def test_pagerduty_generated_dedup_key_and_change_event(pagerduty_server):
    client = pagerduty_server.events_client(ROUTING_KEY)
    dedup = client.trigger("drift", "airflow", severity="warning")
    assert re.fullmatch(r"[0-9a-f]{32}", dedup)
    assert "dedup_key" not in pagerduty_server.events[0]
    client.send_change_event(payload={"summary": "reference profile rebuilt", "source": "airflow"})
    assert pagerduty_server.requests[-1].path == "/v2/change/enqueue"
    assert pagerduty_server.requests[-1].status == 202


def test_pagerduty_hook_event_shape_via_prepare_event_data(hooks, pagerduty_server):
    """What PagerdutyEventsHook.send_event sends: prepare_event_data(...) + client.send_event(**data)."""
    data = hooks.pagerduty.prepare_event_data(
        summary="drift",
        severity="critical",
        source="airflow",
        action="trigger",
        dedup_key="k-1",
        custom_details={"psi": 0.5},
        component="churn-v3",
        group="ml",
        class_type="data_drift",
    )
    assert pagerduty_server.events_client(ROUTING_KEY).send_event(**data) == "k-1"
    (event,) = pagerduty_server.events
    assert event["event_action"] == "trigger" and event["routing_key"] == ROUTING_KEY
    assert event["payload"] == {
        "summary": "drift",
        "severity": "critical",
        "source": "airflow",
        "custom_details": {"psi": 0.5},
        "component": "churn-v3",
        "group": "ml",
        "class": "data_drift",
    }


def test_pagerduty_events_hook_reaches_server_with_patched_client(hooks, set_conn, monkeypatch, pagerduty_server):
    import pagerduty

    set_conn(pagerduty_server, "drift_pagerduty", routing_key=ROUTING_KEY)
    monkeypatch.setattr(pagerduty, "EventsApiV2Client", pagerduty_server.client_factory())
    hook = hooks.pagerduty.PagerdutyEventsHook(pagerduty_events_conn_id="drift_pagerduty")
    assert hook.integration_key == ROUTING_KEY  # from the connection password

    dedup = hook.send_event(
        summary="drift on churn-v3",
        severity="critical",
        source="airflow-drift",
        dedup_key="drift:churn-v3",
        custom_details={"features": ["age"]},
    )
    assert dedup == "drift:churn-v3"
    assert hook.send_event(summary="drift on churn-v3", severity="info", action="resolve", dedup_key=dedup) == dedup
    trigger, resolve = pagerduty_server.events
    assert trigger["routing_key"] == ROUTING_KEY and trigger["event_action"] == "trigger"
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["custom_details"] == {"features": ["age"]}
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == dedup

    # the hook keeps the library retry policy: 500 is retried twice before ServerHttpError
    pagerduty_server.clear()
    pagerduty_server.mode = "error"
    with pytest.raises(pagerduty.ServerHttpError):
        hook.send_event(summary="x", severity="error")
    assert [r.status for r in pagerduty_server.requests] == [500, 500, 500]


def test_pagerduty_events_hook_without_patch_targets_real_endpoint():
    import pagerduty

    client = pagerduty.EventsApiV2Client(ROUTING_KEY)  # what the hook builds
    assert client.url == "https://events.pagerduty.com"
    assert client.retry == {500: 2, 502: 4, 503: 6, 504: 6}
    assert (client.max_network_attempts, client.sleep_timer, client.timeout) == (3, 1.5, 60)


@pytest.mark.parametrize(
    ("mode", "exc_name", "status", "cause"),
    [
        ("error", "ServerHttpError", 500, None),
        ("bad_request", "HttpError", 400, None),
        ("timeout", "Error", None, "ReadTimeout"),
        ("drop", "Error", None, "RemoteProtocolError"),
    ],
)
def test_pagerduty_failure_modes(pagerduty_server, mode, exc_name, status, cause):
    import pagerduty

    pagerduty_server.mode = mode
    client = pagerduty_server.events_client(ROUTING_KEY, timeout=1)  # no retries, 1 s timeout
    start = time.monotonic()
    with pytest.raises(pagerduty.Error) as exc:
        client.trigger("drift", "airflow", dedup_key="k")
    assert time.monotonic() - start < 2.5
    assert type(exc.value) is getattr(pagerduty, exc_name)
    assert len(pagerduty_server.requests) == 1
    if status is None:
        assert not isinstance(exc.value, pagerduty.HttpError) and exc.value.response is None
        assert type(exc.value.__cause__).__name__ == cause
        assert type(exc.value.__cause__).__module__.startswith("httpx2")
    else:
        assert isinstance(exc.value, pagerduty.HttpError) and exc.value.response.status_code == status
    if mode == "bad_request":
        assert exc.value.response.json() == {"status": "invalid event", "message": "Event object is invalid"}


def test_pagerduty_validation_rejects_bad_event(pagerduty_server):
    import pagerduty

    client = pagerduty_server.events_client(ROUTING_KEY)
    with pytest.raises(pagerduty.HttpError) as exc:
        client.trigger("drift", "airflow", severity="disaster")
    assert exc.value.response.status_code == 400
    assert exc.value.response.json()["errors"] == ["'payload.severity' is missing or invalid"]
    with pytest.raises(pagerduty.HttpError):
        pagerduty_server.events_client("").trigger("drift", "airflow")  # empty routing key


def test_pagerduty_default_retry_policy(pagerduty_server):
    import pagerduty

    Client = pagerduty_server.client_factory()  # library retry counts, 1 ms back-off
    pagerduty_server.set_mode("error", times=2)
    assert Client(ROUTING_KEY).trigger("a", "b", dedup_key="k") == "k"  # 500, 500, 202
    assert [r.status for r in pagerduty_server.requests] == [500, 500, 202]

    pagerduty_server.clear()
    pagerduty_server.set_mode("rate_limited", times=3)  # 429 is retried without any limit by default
    assert Client(ROUTING_KEY).trigger("a", "b", dedup_key="k") == "k"
    assert [r.status for r in pagerduty_server.requests] == [429, 429, 429, 202]

    pagerduty_server.clear()
    pagerduty_server.mode = "rate_limited"
    bounded = Client(ROUTING_KEY)
    bounded.retry[429] = 1
    with pytest.raises(pagerduty.HttpError) as exc:
        bounded.trigger("a", "b")
    assert exc.value.response.status_code == 429 and len(pagerduty_server.requests) == 2

    pagerduty_server.clear()
    pagerduty_server.mode = "drop"  # network errors: max_network_attempts=3 retries -> 4 requests
    with pytest.raises(pagerduty.Error, match="exceeded maximum number of attempts \\(3\\)"):
        Client(ROUTING_KEY).trigger("a", "b")
    assert len(pagerduty_server.requests) == 4


def test_pagerduty_untrusted_ca_fails_before_any_request(pagerduty_server):
    import httpx2
    import pagerduty

    client = pagerduty.EventsApiV2Client(ROUTING_KEY, base_url=pagerduty_server.base_url)
    client.max_network_attempts = 0
    with pytest.raises(pagerduty.Error) as exc:
        client.trigger("a", "b")
    assert isinstance(exc.value.__cause__, httpx2.ConnectError)
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc.value.__cause__)
    assert pagerduty_server.requests == []
    deadline = time.monotonic() + 2  # the server-side handshake error is recorded by the handler thread
    while not pagerduty_server.errors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any("UNKNOWN_CA" in e for e in pagerduty_server.errors)


def test_pagerduty_ca_via_ssl_cert_file_not_requests_ca_bundle(monkeypatch, pagerduty_server):
    import pagerduty

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pagerduty_server.ca_bundle_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", pagerduty_server.ca_bundle_path)
    ignored = pagerduty.EventsApiV2Client(ROUTING_KEY, base_url=pagerduty_server.base_url)
    ignored.max_network_attempts = 0
    with pytest.raises(pagerduty.Error):
        ignored.trigger("a", "b")

    monkeypatch.setenv("SSL_CERT_FILE", pagerduty_server.ca_bundle_path)  # read when the client is built
    client = pagerduty.EventsApiV2Client(
        ROUTING_KEY, base_url=pagerduty_server.base_url.replace("127.0.0.1", "localhost")
    )
    assert client.trigger("a", "b", dedup_key="env") == "env"
    assert [r.status for r in pagerduty_server.requests] == [202]
    assert Path(pagerduty_server.ca_bundle_path).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_pagerduty_requires_https_base_url(pagerduty_server):
    import pagerduty

    with pytest.raises(pagerduty.UrlError, match="https"):
        pagerduty.EventsApiV2Client(ROUTING_KEY, base_url=f"http://127.0.0.1:{pagerduty_server.port}")
    path = pagerduty_server.ca_bundle_path
    pagerduty_server.stop()
    assert not os.path.exists(path)  # the temp CA bundle is removed on stop()


def test_pagerduty_routing_key_not_logged_or_raised(pagerduty_server, caplog, capfd):
    import pagerduty

    client = pagerduty_server.client_factory()(ROUTING_KEY)
    messages = []
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG, logger="pagerduty"):
        client.trigger("ok", "airflow")
        for mode in ("error", "bad_request", "drop"):
            pagerduty_server.mode = mode
            with pytest.raises(pagerduty.Error) as exc:
                client.trigger("x", "airflow")
            messages.append(str(exc.value))
    logged = _log_output(caplog, capfd)
    assert "retrying" in logged  # the retries were logged...
    assert ROUTING_KEY not in logged  # ...without the key
    assert all(ROUTING_KEY not in m for m in messages)
    assert client.trunc_key == "*" + ROUTING_KEY[-4:]
    assert all(r.json["routing_key"] == ROUTING_KEY for r in pagerduty_server.requests)  # it is in the body only
