"""Alert channels on the official providers' hooks: SMTP, Slack, PagerDuty Events v2.

Every piece of user-controlled text (column names, values, rule messages) is
escaped for the channel it goes to: HTML escaping for e-mail bodies, CR/LF
removal in e-mail headers, ``&``/``<``/``>`` escaping for Slack mrkdwn (which
also neutralises ``<!channel>``-style mentions). Secrets (passwords, webhook
URLs, routing keys) are never logged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHANNEL_TYPES = ("email", "slack", "pagerduty")
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION = 2900  # Slack's limit is 3000 characters per section text
SLACK_MAX_ALERT_BLOCKS = 40
PD_SEVERITY = {"info": "info", "warning": "warning", "critical": "critical"}
PD_SUMMARY_MAX = 1024


@dataclass
class AlertContext:
    dag_id: str
    run_id: str
    task_id: str
    logical_date: str | None = None
    run_url: str | None = None


def slack_escape(text: Any) -> str:
    """Escape for Slack mrkdwn: ``&``, ``<``, ``>`` (so no links or @channel mentions can be injected)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def header_safe(text: Any, limit: int = 200) -> str:
    """A single-line header value: CR/LF and other control characters become spaces."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", str(text)).strip()[:limit]


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _alert_line(a: Mapping[str, Any]) -> str:
    where = a.get("column") or a.get("instance")
    return (
        f"[{a['severity'].upper()}] {a['rule']} on {where} ({a['task_id']}): "
        f"{_fmt_value(a['value'])} {a.get('op_symbol') or a['op']} {_fmt_value(a['threshold'])}"
    )


class Channel:
    """A destination. ``send`` raises on failure; a batch is all-or-nothing."""

    kind = ""
    per_alert = False  # True: one request per alert (partial success is possible)

    def __init__(self, name: str, conn_id: str) -> None:
        self.name = name
        self.conn_id = conn_id

    def send(self, alerts: Sequence[Mapping[str, Any]], ctx: AlertContext, *, resolved: bool = False) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.kind} channel {self.name!r} (connection {self.conn_id!r})"


class EmailChannel(Channel):
    """One digest per run (HTML and plain text) through ``SmtpHook``."""

    kind = "email"

    def __init__(
        self,
        name: str,
        conn_id: str = "smtp_default",
        *,
        to: str | Sequence[str],
        cc: str | Sequence[str] | None = None,
        from_email: str | None = None,
        subject_prefix: str = "[drift]",
    ) -> None:
        super().__init__(name, conn_id)
        self.to = [to] if isinstance(to, str) else list(to)
        self.cc = [cc] if isinstance(cc, str) else list(cc or [])
        if not self.to or not all(isinstance(t, str) and "@" in t for t in self.to + self.cc):
            raise ValueError(f"email channel {name!r}: 'to' must be e-mail addresses, got {to!r}")
        self.from_email = from_email
        self.subject_prefix = subject_prefix

    def build(self, alerts: Sequence[Mapping[str, Any]], ctx: AlertContext, resolved: bool, sender: str) -> Any:
        from email.message import EmailMessage

        worst = "resolved" if resolved else max((a["severity"] for a in alerts), key=_sev_rank)
        what = "resolved" if resolved else f"{len(alerts)} drift alert{'s' if len(alerts) != 1 else ''}"
        subject = header_safe(f"{self.subject_prefix} {worst.upper()}: {what} in {ctx.dag_id}", 250)
        lines = [f"DAG: {ctx.dag_id}", f"Run: {ctx.run_id}", f"Task: {ctx.task_id}"]
        if ctx.run_url:
            lines.append(f"Run in the Airflow UI: {ctx.run_url}")
        lines.append("")
        lines += [("RESOLVED " if resolved else "") + _alert_line(a) for a in alerts]
        text = "\n".join(lines) + "\n"
        e = html.escape
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{e(str(c))}</td>"
                for c in (
                    "resolved" if resolved else a["severity"],
                    a["rule"],
                    a.get("column") or a.get("instance"),
                    _fmt_value(a["value"]),
                    f"{a.get('op_symbol') or a['op']} {_fmt_value(a['threshold'])}",
                    a.get("message", ""),
                )
            )
            + "</tr>"
            for a in alerts
        )
        link = f'<p><a href="{e(ctx.run_url, quote=True)}">Open the run in Airflow</a></p>' if ctx.run_url else ""
        body = (
            f"<html><body><h2>{e(what.capitalize())} in <code>{e(ctx.dag_id)}</code></h2>"
            f"<p>Run <code>{e(ctx.run_id)}</code>, task <code>{e(ctx.task_id)}</code></p>{link}"
            "<table border='1' cellpadding='4' cellspacing='0'><tr><th>severity</th><th>rule</th>"
            f"<th>column</th><th>value</th><th>threshold</th><th>message</th></tr>{rows}</table></body></html>"
        )
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = header_safe(sender)
        msg["To"] = ", ".join(header_safe(t) for t in self.to)
        if self.cc:
            msg["Cc"] = ", ".join(header_safe(t) for t in self.cc)
        msg.set_content(text)
        msg.add_alternative(body, subtype="html")
        return msg

    def send(self, alerts: Sequence[Mapping[str, Any]], ctx: AlertContext, *, resolved: bool = False) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=self.conn_id) as hook:
            sender = self.from_email or getattr(hook, "from_email", None) or "airflow@localhost"
            msg = self.build(alerts, ctx, resolved, sender)
            client = getattr(hook, "_smtp_client", None)
            if client is None:  # pragma: no cover - older hooks: HTML only
                hook.send_email_smtp(
                    to=self.to, cc=self.cc or None, subject=msg["Subject"], html_content=msg.get_body(("html",))
                )
                return
            client.sendmail(sender, self.to + self.cc, msg.as_string())


class SlackChannel(Channel):
    """One Block Kit message per run (text fallback) through ``SlackWebhookHook`` or ``SlackHook``."""

    kind = "slack"

    def __init__(
        self, name: str, conn_id: str = "slack_default", *, channel: str | None = None, timeout: int = 30
    ) -> None:
        super().__init__(name, conn_id)
        self.channel = channel
        self.timeout = int(timeout)

    def payload(self, alerts: Sequence[Mapping[str, Any]], ctx: AlertContext, resolved: bool) -> dict[str, Any]:
        esc = slack_escape
        title = (
            f"Resolved: {len(alerts)} drift alert(s) in {ctx.dag_id}"
            if resolved
            else f"{len(alerts)} drift alert(s) in {ctx.dag_id}"
        )
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": False}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": esc(f"run {ctx.run_id} · task {ctx.task_id}")[:SLACK_MAX_SECTION]
                        + (f" · <{ctx.run_url}|open in Airflow>" if ctx.run_url and "|" not in ctx.run_url else ""),
                    }
                ],
            },
        ]
        icon = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}
        for a in alerts[:SLACK_MAX_ALERT_BLOCKS]:
            badge = ":white_check_mark: RESOLVED" if resolved else f"{icon[a['severity']]} *{a['severity'].upper()}*"
            where = a.get("column") or a.get("instance")
            text = (
                f"{badge} `{esc(a['rule'])}` on *{esc(where)}*\n"
                f"value `{esc(_fmt_value(a['value']))}` {esc(a.get('op_symbol') or a['op'])} "
                f"`{esc(_fmt_value(a['threshold']))}`"
            )
            if a.get("message"):
                text += f"\n{esc(a['message'])}"
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_MAX_SECTION]}})
        if len(alerts) > SLACK_MAX_ALERT_BLOCKS:
            blocks.append(
                {
                    "type": "context",
                    "elements": [
                        {"type": "mrkdwn", "text": f"... and {len(alerts) - SLACK_MAX_ALERT_BLOCKS} more alerts"}
                    ],
                }
            )
        fallback = title + "\n" + "\n".join(esc(_alert_line(a)) for a in alerts[:100])
        return {"text": fallback[:3900], "blocks": blocks[:SLACK_MAX_BLOCKS]}

    def send(self, alerts: Sequence[Mapping[str, Any]], ctx: AlertContext, *, resolved: bool = False) -> None:
        from airflow.sdk import BaseHook

        body = self.payload(alerts, ctx, resolved)
        conn = BaseHook.get_connection(self.conn_id)
        if conn.conn_type == "slackwebhook":
            from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

            SlackWebhookHook(slack_webhook_conn_id=self.conn_id, timeout=self.timeout).send(
                text=body["text"], blocks=body["blocks"]
            )
            return
        from airflow.providers.slack.hooks.slack import SlackHook

        if not self.channel:
            raise ValueError(f"slack channel {self.name!r}: the Slack API connection needs channel='#...'")
        SlackHook(slack_conn_id=self.conn_id, timeout=self.timeout).client.chat_postMessage(
            channel=self.channel, text=body["text"], blocks=body["blocks"]
        )


class PagerDutyChannel(Channel):
    """PagerDuty Events API v2: one event per alert, ``dedup_key`` = the alert fingerprint.

    The routing (integration) key comes from the connection through
    ``PagerdutyEventsHook``; the events base URL from ``base_url``, the
    connection extra ``events_base_url`` or the default US endpoint
    (use ``https://events.eu.pagerduty.com`` for the EU region). A private CA
    (e.g. a TLS-inspecting proxy) can be given as the extra ``ca_bundle``.
    The hook's own ``send_event`` cannot take a base URL, so the event is
    built with the hook's ``prepare_event_data`` conventions and sent with the
    ``pagerduty`` client the hook uses.
    """

    kind = "pagerduty"
    per_alert = True

    def __init__(
        self,
        name: str,
        conn_id: str = "pagerduty_events_default",
        *,
        base_url: str | None = None,
        source: str = "airflow",
        timeout: float = 30.0,
    ) -> None:
        super().__init__(name, conn_id)
        if base_url is not None and not str(base_url).startswith("https://"):
            raise ValueError(f"pagerduty channel {name!r}: base_url must be https://, got {base_url!r}")
        self.base_url = base_url
        self.source = source
        self.timeout = timeout

    def event(self, alert: Mapping[str, Any], ctx: AlertContext, resolved: bool) -> dict[str, Any]:
        if resolved:
            return {"dedup_key": alert["fingerprint"]}
        summary = f"Drift alert {alert['rule']} on {alert.get('column') or alert.get('instance')} in {ctx.dag_id}"
        details = {
            "dag_id": ctx.dag_id,
            "run_id": ctx.run_id,
            "task_id": alert["task_id"],
            "rule": alert["rule"],
            "column": alert.get("column"),
            "metric": alert.get("metric"),
            "value": alert.get("value"),
            "operator": alert.get("op"),
            "threshold": alert.get("threshold"),
            "message": alert.get("message"),
        }
        event: dict[str, Any] = {
            "dedup_key": alert["fingerprint"],
            "payload": {
                "summary": header_safe(summary, PD_SUMMARY_MAX),
                "severity": PD_SEVERITY[alert["severity"]],
                "source": self.source,
                "component": ctx.dag_id,
                "group": alert["task_id"],
                "class": "drift",
                "custom_details": details,
            },
        }
        if ctx.run_url:
            event["links"] = [{"href": ctx.run_url, "text": "Airflow run"}]
        return event

    def client(self) -> Any:
        import ssl

        import pagerduty
        from airflow.providers.pagerduty.hooks.pagerduty_events import PagerdutyEventsHook
        from airflow.sdk import BaseHook

        hook = PagerdutyEventsHook(pagerduty_events_conn_id=self.conn_id)
        extra = BaseHook.get_connection(self.conn_id).extra_dejson or {}
        base_url = self.base_url or extra.get("events_base_url")
        if base_url is not None and not str(base_url).startswith("https://"):
            raise ValueError(f"pagerduty channel {self.name!r}: events_base_url must be https://")
        kwargs: dict[str, Any] = {}
        if extra.get("ca_bundle"):
            kwargs["verify"] = ssl.create_default_context(cafile=extra["ca_bundle"])
        try:
            client = pagerduty.EventsApiV2Client(hook.integration_key, base_url=base_url, **kwargs)
        except TypeError:  # pragma: no cover - clients that take no HTTP options
            client = pagerduty.EventsApiV2Client(hook.integration_key, base_url=base_url)
        # retries and backoff are ours (DriftAlertOperator), so they are bounded and logged:
        # no 5xx table, no unbounded 429 retries, no network retries with 3-6-12 s sleeps
        client.retry = {429: 1}  # 0 would mean "no rule" (unbounded); 1 = one retry, then an error
        client.timeout = self.timeout  # per-request read timeout (the client's default is 60 s)
        if hasattr(client, "max_network_attempts"):
            client.max_network_attempts = 0
        return client

    def send(self, alerts: Sequence[Mapping[str, Any]], ctx: AlertContext, *, resolved: bool = False) -> None:
        client = self.client()
        for alert in alerts:
            event = self.event(alert, ctx, resolved)
            if resolved:
                client.send_event("resolve", dedup_key=event["dedup_key"])
            else:
                dedup = event.pop("dedup_key")
                client.send_event("trigger", dedup_key=dedup, **event)


def _sev_rank(severity: str) -> int:
    return {"info": 0, "warning": 1, "critical": 2}.get(severity, 0)


def build_channel(name: str, spec: Mapping[str, Any]) -> Channel:
    """``{"type": "email"|"slack"|"pagerduty", "conn_id": ..., options...}`` -> a Channel."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"channel {name!r} must be a mapping with a 'type', got {spec!r}")
    options = dict(spec)
    kind = options.pop("type", None)
    try:
        if kind == "email":
            return EmailChannel(name, **options)
        if kind == "slack":
            return SlackChannel(name, **options)
        if kind == "pagerduty":
            return PagerDutyChannel(name, **options)
    except TypeError as exc:
        raise ValueError(f"channel {name!r}: {exc}") from None
    raise ValueError(f"channel {name!r}: unknown type {kind!r}; use one of {CHANNEL_TYPES}")
