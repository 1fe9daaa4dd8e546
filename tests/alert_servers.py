"""Real local capture servers (SMTP, Slack incoming webhook, PagerDuty Events API v2) for alerting tests.

Plain classes — no pytest import — so they work from fixtures and from a standalone script
(``python tests/alert_servers.py`` starts all three and waits for Ctrl-C). All servers listen on 127.0.0.1 on a
free port, record every request in a thread-safe list (``.requests``: a snapshot copy, including failed
attempts; ``.clear()``; ``.wait_for(n, timeout)``), and have a ``mode`` switchable at runtime
(``srv.mode = "error"`` is sticky; ``srv.set_mode("error", times=2)`` applies to the next 2 requests/SMTP
transactions and then falls back: "fail twice, then succeed").

Facts
=====
Checked against apache-airflow 3.3.2, apache-airflow-providers-smtp 3.2.0 / slack 9.11.1 / pagerduty 5.3.1,
slack_sdk 3.48.0, pagerduty 7.2.0 (on httpx2 2.16.2), aiosmtpd 1.4.6. tests/test_alert_servers.py asserts the
points marked [tested]. The others come from reading the source.

Airflow connections from the environment
----------------------------------------
* ``AIRFLOW_CONN_<CONN_ID upper-cased>`` holding JSON (``{"conn_type": ..., "host": ..., "port": ...,
  "login": ..., "password": ..., "extra": {...}}``, where ``extra`` may be a dict) is resolved by
  ``BaseHook.get_connection`` in a plain process. No metadata DB and no task context are needed [tested].
  ``airflow_conn_env_var(conn_id)`` builds the name. ``<server>.airflow_env(conn_id, ...)`` gives
  ``{name: json}``.
* When a connection is fetched, Airflow registers its password with the secrets masker
  (``airflow.sdk._shared.secrets_masker.redact`` then turns it into ``***``). This only applies to output that
  goes through Airflow's log processors, such as task logs. Other handlers (pytest ``caplog``, a script's
  stderr) see the raw text [tested].

SMTP: ``airflow.providers.smtp.hooks.smtp.SmtpHook`` (smtplib, synchronous)
------------------------------------------------------------------------
* Pointing it at the server: connection ``conn_type="smtp"``, host 127.0.0.1, port, extras
  ``disable_ssl: true`` (without it the hook uses ``smtplib.SMTP_SSL``, which fails against a plain server
  with ``ssl.SSLError`` [tested]) and ``disable_tls: true`` (without it the hook calls ``starttls()``), plus
  ``from_email`` (or pass ``from_email=`` to ``send_email_smtp``; otherwise AirflowException). Other extras:
  ``retry_limit`` (default 5) and ``timeout`` (default 30 s). ``timeout`` goes through ``int()``, so the
  resolution is whole seconds.
* Auth: ``get_conn()`` calls ``smtp.login(login, password)`` only when BOTH are non-empty. With no
  ``credentials``, the server offers no AUTH, so a connection with login+password fails in ``__enter__``
  with ``smtplib.SMTPNotSupportedError`` [tested]. ``connection_dict()`` therefore leaves login and password
  out. ``SmtpCapture(credentials=("drift", "pw"))`` offers AUTH PLAIN/LOGIN over plain TCP and requires it.
  ``connection_dict()`` then fills in those credentials, and the authenticated login is stored in
  ``CapturedEmail.login`` (the password is never stored). A wrong password gives
  ``smtplib.SMTPAuthenticationError`` (535). An empty login gives ``smtplib.SMTPSenderRefused`` (530)
  [tested].
* Use the hook as a context manager: ``with SmtpHook(smtp_conn_id=...) as h: h.send_email_smtp(...)``.
  The message is MIME ``multipart/mixed`` with a ``text/html`` part, and To/CC appear as ", "-joined
  headers (BCC is not a header).
* Retry: ``send_email_smtp`` retries ``sendmail`` on ANY exception, ``retry_limit`` times, with no delay and
  on the SAME smtplib client. It does not tell 4xx from 5xx and does not reconnect. The last exception is
  re-raised without chaining, as-is (not an AirflowException). ``get_conn`` retries only
  ``SMTPServerDisconnected`` while connecting (then ``AirflowException("Unable to connect to smtp
  server")``). Connection refused is not retried.
* Exceptions from ``send_email_smtp``/``__enter__`` per mode [tested]:
    - ``fail`` (451 to DATA): ``smtplib.SMTPDataError`` with ``smtp_code`` 451. The server saw
      ``retry_limit + 1`` DATA attempts.
    - ``reject`` (550 to every RCPT): ``smtplib.SMTPRecipientsRefused``, ``.recipients`` =
      ``{addr: (550, b"5.1.1 ...")}``. Note that this is not an ``SMTPResponseException`` (no
      ``smtp_code``). It is retried too.
    - ``reject_data`` (550 to DATA): ``smtplib.SMTPDataError`` 550, retried ``retry_limit`` times.
    - ``drop`` / ``drop_mail`` (TCP abort at DATA / MAIL): ``smtplib.SMTPServerDisconnected``. The first
      attempt says "Connection unexpectedly closed". Every retry then fails at once with "please run
      connect() first", which is what the caller sees when ``retry_limit > 0``. The server sees ONE attempt.
    - ``timeout`` (reply delayed past the ``timeout`` extra): ``smtplib.SMTPServerDisconnected("Connection
      unexpectedly closed: timed out")``, not ``TimeoutError`` (with ``retry_limit=0``. With retries, it
      becomes "please run connect() first", as for drop).
    - server down: ``ConnectionRefusedError`` from ``__enter__``.
  To classify: transient if ``isinstance(e, smtplib.SMTPResponseException) and 400 <= e.smtp_code < 500``,
  or if ``e`` is an ``SMTPServerDisconnected``/``OSError``. ``SMTPRecipientsRefused`` needs ``e.recipients``.
* Secrets: neither the hook nor smtplib (debuglevel 0) logs the password, even at DEBUG [tested]. aiosmtpd
  masks ``AUTH`` arguments in its own log (``mail.log``), and ``quiet=True`` lowers that log to ERROR.

Slack: ``airflow.providers.slack.hooks.slack_webhook.SlackWebhookHook`` (slack_sdk ``WebhookClient``, urllib)
--------------------------------------------------------------------------------------------------------
* Pointing it at the server: connection ``conn_type="slackwebhook"`` with ``password =
  "http://127.0.0.1:PORT/services/T000/B000/XXXX"``. A password containing ``://`` is used verbatim as the
  webhook URL [tested]. An alternative is ``host="http://127.0.0.1:PORT"`` + ``password="services/T000/..."``:
  the host is used as the base URL when it contains ``://`` [tested]. Optional extras: ``timeout`` (int
  seconds; the hook argument ``timeout=`` wins) and ``proxy``. Without a proxy setting, slack_sdk picks up
  ``HTTPS_PROXY``/``HTTP_PROXY`` from the environment. The tests therefore unset proxy variables.
* ``send(text=..., blocks=[...])`` POSTs ``{"text": ..., "blocks": [...]}`` (None values dropped) with
  ``Content-Type: application/json;charset=utf-8`` and returns a ``WebhookResponse`` (``status_code``,
  ``body``). Any status other than 200 raises ``airflow.sdk.exceptions.AirflowException`` (this is
  ``airflow.exceptions.AirflowException``) with the message ``"Response body: 'internal_error', Status Code:
  500. See: ..."``. There is no structured status attribute: parse the message or call ``hook.client.send``
  directly.
* Retry: the hook passes ``retry_handlers=None``, so slack_sdk's defaults apply: ONE
  ``ConnectionErrorRetryHandler(max_retry_count=1)`` for ``URLError``/``ConnectionResetError``/
  ``RemoteDisconnected`` raised without any HTTP response, with a back-off of about 0.5-1.5 s. HTTP error
  statuses are never retried, including 429 [tested: 1 request]. To honour ``Retry-After``, pass
  ``retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=n)]`` (it sleeps Retry-After + random(0..1)
  s) [tested].
* Exceptions per mode [tested]: ``error``/``invalid``/``rate_limited`` raise ``AirflowException`` (500 /
  400 / 429, 1 request). ``timeout`` raises the builtin ``TimeoutError("timed out")``, raw, not retried,
  1 request. ``drop`` raises ``http.client.RemoteDisconnected`` after 1 retry (2 requests). Server down
  raises ``urllib.error.URLError`` (``.reason`` is ``ConnectionRefusedError``) after 1 retry.
* SECRETS: slack_sdk logs ``"Going to retry the same request: POST <full webhook URL>"`` at INFO on every
  retry [tested]. It logs through the hook's logger (``hook.log``, a *structlog* proxy named
  ``airflow.task.hooks.airflow.providers.slack.hooks.slack_webhook.SlackWebhookHook``). That logger writes to
  the process' stdout and bypasses stdlib handlers, so pytest's ``caplog`` does NOT see it; use ``capfd``.
  It also logs ``"Sending a request - url: <full URL>"`` on every send, but only when
  ``hook.log.level <= DEBUG``. Airflow's masker hides both in task logs, because the password is registered
  [tested via ``redact``]. Success, HTTP-error and timeout paths log no secret, and no exception message
  contains one [tested]. Never put the URL in your own log or exception messages.

PagerDuty: ``pagerduty.EventsApiV2Client`` (pagerduty 7.x is built on **httpx2**, not requests)
------------------------------------------------------------------------------------------
* ``PagerdutyEventsHook.send_event`` (and ``create_change_event``) always builds
  ``pagerduty.EventsApiV2Client(integration_key)`` with the default ``https://events.pagerduty.com``. The hook
  has NO url/base_url/verify setting, and its ``pagerduty_events`` connection only holds the routing key (the
  password). The unmodified hook can reach this server only if ``pagerduty.EventsApiV2Client`` is
  monkeypatched: ``monkeypatch.setattr(pagerduty, "EventsApiV2Client", server.client_factory())``. The hook
  looks the attribute up at call time [tested]. In your own code, build the client yourself:
  ``pagerduty.EventsApiV2Client(routing_key, base_url=server.base_url, verify=ssl_ctx)``.
  ``prepare_event_data(..., action_key_name="action")`` from the hook module + ``client.send_event(**data)``
  is exactly what the hook sends.
* ``base_url`` must start with ``https://``. Otherwise ``pagerduty.UrlError`` is raised in the constructor
  [tested], so an HTTPS server is required.
* Trusting the test CA, done at client construction (the transport and SSL context are built in
  ``httpx2.Client.__init__``):
    - ``verify=ssl.create_default_context(cafile=server.ca_bundle_path)``: extra kwargs go to
      ``httpx2.Client``. ``server.client_ssl_context()`` returns that context [tested]. ``verify=<path str>``
      still works but emits a DeprecationWarning.
    - or the env var ``SSL_CERT_FILE=<ca_bundle_path>`` (read by httpcore2 when ``trust_env`` is true, the
      default) [tested]. It REPLACES the system trust store for that process. The server certificate is
      valid for both ``127.0.0.1`` and ``localhost`` [tested].
    - ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` have NO effect [tested]. Neither does patching a requests
      session: there is none.
    - Without trust: ``pagerduty.Error`` whose ``__cause__`` is ``httpx2.ConnectError(...
      CERTIFICATE_VERIFY_FAILED ...)``. No request reaches the server [tested].
* Retry policy (``pagerduty.ApiClient.request``), per client instance:
    - ``client.retry`` = ``{500: 2, 502: 4, 503: 6, 504: 6}`` for EventsApiV2Client: the number of retries
      per status. After they run out, the last response is returned and then turned into an exception.
    - 429 has no entry, so it is retried WITHOUT LIMIT (library default) [tested: 3x429 then 202 succeeds].
      Set ``client.retry[429] = n`` to bound it (after n retries: ``HttpError`` 429) [tested].
    - network errors (``httpx2.TransportError``: refused, reset, TLS failure, ``ReadTimeout``) are retried
      ``max_network_attempts`` = 3 times (4 requests in total), then ``pagerduty.Error`` [tested].
    - sleeps: ``sleep_timer`` (1.5) x ``sleep_timer_base`` (2) per retry, so 3, 6, 12, ... seconds. With the
      library defaults, a persistent 500 takes more than 9 s and a dead network more than 21 s before
      raising. ``client.timeout`` is 60 s per attempt (an attribute, not a constructor argument). 401 raises
      ``HttpError`` at once.
    - fast tests: ``client.retry.clear()`` (no 5xx retries), ``client.max_network_attempts = 0``,
      ``client.sleep_timer = 0.001``, ``client.timeout = 1``. ``server.events_client(key)`` does exactly
      that. ``server.client_factory()`` keeps the retry counts but uses a 0.001 s back-off.
* Exceptions per mode (``send_event``/``trigger``/``resolve``) [tested]:
    - ``error`` (500): ``pagerduty.ServerHttpError`` (a subclass of ``HttpError``), ``e.response.status_code
      == 500``, after the 5xx retries.
    - ``bad_request`` (400) or an event that fails validation: ``pagerduty.HttpError`` (not
      ``ServerHttpError``), ``e.response.json()`` holds the body.
    - ``timeout`` / ``drop`` / refused / TLS: ``pagerduty.Error`` (NOT ``HttpError``; ``e.response is
      None``), after the network retries, with ``__cause__`` = ``httpx2.ReadTimeout`` /
      ``httpx2.RemoteProtocolError`` / ``httpx2.ConnectError``.
    - ``pagerduty.Error`` is the common base class of all of them.
* Request shape: ``POST /v2/enqueue`` with JSON ``{"event_action", "routing_key", "dedup_key"?,
  "payload": {"summary", "source", "severity", "custom_details"?, ...}}`` (routing_key is added by the
  client). ``trigger`` returns the response's ``dedup_key``. ``resolve(dedup_key)`` sends no payload.
* Secrets: the routing key travels in the body only. The library logs through stdlib ``logging``
  (``pagerduty.api_client``; WARNING lines for every retry). Its log lines and exception messages contain the
  URL and a truncated response body, never the key. ``client.trunc_key`` is "*" + the last 4 characters
  [tested].

Not covered
-----------
The async paths were not exercised: ``SmtpHook.aget_conn``/``asend_email_smtp`` (aiosmtplib),
``SlackWebhookHook.async_send`` (aiohttp), and ``PagerdutyEventsAsyncHook``. The last one has
``base_url = "https://events.pagerduty.com"`` hard-coded in ``__init__``.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.message
import json
import logging
import os
import shutil
import socket
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

__all__ = [
    "CapturedEmail",
    "CapturedHttpRequest",
    "PagerDutyCapture",
    "SlackWebhookCapture",
    "SmtpCapture",
    "airflow_conn_env_var",
]

LOCALHOST = "127.0.0.1"


def airflow_conn_env_var(conn_id: str) -> str:
    """Name of the environment variable Airflow reads a connection from (``AIRFLOW_CONN_<ID>``)."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _free_port(host: str = LOCALHOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------------------------
# Shared machinery: thread-safe capture list, runtime-switchable mode, context manager.
# --------------------------------------------------------------------------------------------------------------


class _CaptureServer:
    """Base class: ``start()``/``stop()``, ``with`` support, thread-safe ``requests``, ``mode``/``set_mode``."""

    MODES: ClassVar[tuple[str, ...]] = ("ok",)

    def __init__(self, *, mode: str = "ok", host: str = LOCALHOST) -> None:
        self.host = host
        self._port: int | None = None
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests: list[Any] = []
        self._mode = self._check_mode(mode)
        self._override: list[str] = []  # one entry per upcoming request/transaction
        self._stopping = threading.Event()
        self._started = False

    # -- mode ---------------------------------------------------------------------------------------------------
    def _check_mode(self, mode: str) -> str:
        if mode not in self.MODES:
            raise ValueError(f"{type(self).__name__}: unknown mode {mode!r}; expected one of {self.MODES}")
        return mode

    @property
    def mode(self) -> str:
        """Current (sticky) mode. Assigning it also cancels pending ``set_mode(..., times=n)`` overrides."""
        with self._lock:
            return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        self.set_mode(value)

    def set_mode(self, mode: str, times: int | None = None) -> None:
        """Switch mode. With ``times=n`` only the next *n* requests (SMTP: transactions) use *mode*, then the
        current sticky mode applies again — e.g. ``set_mode("error", times=2)`` = "fail twice, then succeed"."""
        mode = self._check_mode(mode)
        with self._lock:
            if times is None:
                self._mode = mode
                self._override.clear()
            else:
                self._override.extend([mode] * int(times))

    def _next_mode(self) -> str:
        with self._lock:
            return self._override.pop(0) if self._override else self._mode

    # -- captured requests -------------------------------------------------------------------------------------
    def _record(self, item: Any) -> Any:
        with self._cond:
            self._requests.append(item)
            self._cond.notify_all()
        return item

    @property
    def requests(self) -> list[Any]:
        """Snapshot (a copy) of everything received so far, in arrival order, including failed attempts."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget captured requests (the mode is kept)."""
        with self._lock:
            self._requests.clear()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Any]:
        """Block until at least *count* requests were captured; return the snapshot. Raises ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    have = len(self._requests)
                    raise TimeoutError(f"{type(self).__name__}: {have}/{count} requests after {timeout}s")
                self._cond.wait(remaining)
            return list(self._requests)

    # -- lifecycle ---------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def is_running(self) -> bool:
        return self._started

    def start(self) -> _CaptureServer:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self._port}" if self._started else "stopped"
        return f"<{type(self).__name__} {state} mode={self._mode!r}>"


# --------------------------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------------------------


@dataclass
class CapturedEmail:
    """One SMTP transaction seen by :class:`SmtpCapture` (accepted or not)."""

    mode: str
    stage: str  # "MAIL", "RCPT" or "DATA": where the transaction ended
    reply: str  # what the server answered ("" when the connection was dropped / reply delayed)
    accepted: bool
    mail_from: str | None
    rcpt_tos: list[str]
    raw: bytes = b""
    message: email.message.Message | None = None
    peer: Any = None
    login: str | None = None  # authenticated SMTP login, if any (the password is never stored)
    rejected_rcpts: list[str] = field(default_factory=list)
    received_at: float = field(default_factory=time.time)

    @property
    def subject(self) -> str | None:
        return None if self.message is None else self.message["Subject"]

    @property
    def to(self) -> str | None:
        return None if self.message is None else self.message["To"]

    def part(self, content_type: str = "text/html") -> str | None:
        """Decoded body of the first MIME part with *content_type* (``text/html`` for SmtpHook mails)."""
        if self.message is None:
            return None
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                payload = part.get_payload(decode=True)
                return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
        return None

    @property
    def html(self) -> str | None:
        return self.part("text/html")


class _SmtpHandler:
    """aiosmtpd handler; runs in the Controller's event-loop thread."""

    def __init__(self, owner: SmtpCapture) -> None:
        self.owner = owner

    @staticmethod
    async def _drop(server: Any) -> None:
        # Abort the TCP connection (no reply).  aiosmtpd's connection_lost() then cancels this coroutine.
        if server.transport is not None:
            server.transport.abort()
        await asyncio.sleep(3600)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.owner.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        mode = self.owner._next_mode()
        envelope.drift_mode = mode
        if mode == "drop_mail":
            self.owner._record(
                CapturedEmail(mode, "MAIL", "", False, address, [], peer=session.peer, login=self.owner._login(session))
            )
            await self._drop(server)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mode = getattr(envelope, "drift_mode", self.owner.mode)
        if mode == "reject":
            reply = f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
            rec = getattr(envelope, "drift_reject_record", None)
            if rec is None:
                rec = CapturedEmail(
                    mode,
                    "RCPT",
                    reply,
                    False,
                    envelope.mail_from,
                    [],
                    peer=session.peer,
                    login=self.owner._login(session),
                )
                envelope.drift_reject_record = rec
                self.owner._record(rec)
            rec.rejected_rcpts.append(address)
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mode = getattr(envelope, "drift_mode", self.owner.mode)
        raw = envelope.original_content or b""
        rec = CapturedEmail(
            mode=mode,
            stage="DATA",
            reply="",
            accepted=False,
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            raw=raw,
            message=email.message_from_bytes(raw),
            peer=session.peer,
            login=self.owner._login(session),
        )
        if mode == "ok":
            rec.accepted = True
            rec.reply = f"250 2.0.0 Ok: queued as {uuid.uuid4().hex[:12].upper()}"
        elif mode == "fail":
            rec.reply = "451 4.3.0 try again later"
        elif mode == "reject_data":
            rec.reply = "550 5.7.1 Message rejected as spam"
        elif mode in ("drop", "timeout"):
            pass
        else:  # modes handled earlier in the transaction ("reject", "drop_mail") never reach DATA
            rec.reply = "554 5.5.0 unexpected state"
        self.owner._record(rec)
        if mode == "drop":
            await self._drop(server)
        if mode == "timeout":
            # Reply only after ``timeout_delay`` s (client should have timed out); still not counted as accepted.
            await asyncio.sleep(self.owner.timeout_delay)
            return "250 2.0.0 Ok: (late)"
        return rec.reply


class SmtpCapture(_CaptureServer):
    """aiosmtpd ``Controller`` on 127.0.0.1 capturing every message.

    Modes: ``ok`` (250, message captured and ``accepted``), ``fail`` (``451 4.3.0 try again later`` to DATA),
    ``reject`` (``550 5.1.1`` permanent, to every RCPT TO), ``reject_data`` (550 to DATA), ``drop`` (TCP
    connection aborted after the DATA content was received, no reply), ``drop_mail`` (aborted at MAIL FROM),
    ``timeout`` (DATA reply delayed by ``timeout_delay`` seconds).

    ``credentials=("user", "password")`` enables AUTH PLAIN/LOGIN over plain TCP (``auth_require_tls=False``)
    and makes authentication mandatory; without it the server offers no AUTH at all, so the Airflow
    connection must then have an empty login or password (see Facts).
    """

    MODES: ClassVar[tuple[str, ...]] = ("ok", "fail", "reject", "reject_data", "drop", "drop_mail", "timeout")

    def __init__(
        self,
        *,
        mode: str = "ok",
        credentials: tuple[str, str] | None = None,
        timeout_delay: float = 5.0,
        quiet: bool = True,
        host: str = LOCALHOST,
    ) -> None:
        super().__init__(mode=mode, host=host)
        self.credentials = credentials
        self.quiet = quiet
        self.timeout_delay = timeout_delay
        self.auth_failures = 0
        self._controller: Any = None

    # -- aiosmtpd plumbing ---------------------------------------------------------------------------------------
    @staticmethod
    def _login(session: Any) -> str | None:
        data = getattr(session, "auth_data", None)
        login = getattr(data, "login", None)
        return login.decode() if isinstance(login, bytes) else login

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            self.credentials is not None
            and isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.credentials[0]
            and auth_data.password.decode() == self.credentials[1]
        )
        if not ok:
            with self._lock:
                self.auth_failures += 1
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data)

    def start(self) -> SmtpCapture:
        if self._started:
            return self
        from aiosmtpd.controller import Controller

        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            # AUTH over plain TCP; "authentication required" is enforced in handle_MAIL (aiosmtpd's own
            # auth_required=True would emit a UserWarning on every connection when TLS is not required).
            kwargs.update(authenticator=self._authenticator, auth_require_tls=False)
        if self.quiet:
            # aiosmtpd logs every command at INFO (+ a deprecation WARNING per AUTH)
            mail_log = logging.getLogger("mail.log")
            if mail_log.level == logging.NOTSET:
                mail_log.setLevel(logging.ERROR)
        last_error: Exception | None = None
        for _ in range(5):  # tiny race between picking a free port and binding it
            port = _free_port(self.host)
            controller = Controller(_SmtpHandler(self), hostname=self.host, port=port, ready_timeout=10, **kwargs)
            try:
                controller.start()
            except Exception as exc:
                last_error = exc
                continue
            self._controller, self._port, self._started = controller, port, True
            return self
        raise RuntimeError(f"could not start SMTP capture server: {last_error!r}")

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        with contextlib.suppress(Exception):
            self._controller.stop()
        self._controller = None

    # -- data ----------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[CapturedEmail]:
        """Accepted messages only (``requests`` also holds failed / rejected / dropped attempts)."""
        return [r for r in self.requests if r.accepted]

    def connection_dict(
        self,
        *,
        login: str | None = None,
        password: str | None = None,
        from_email: str = "drift@example.test",
        retry_limit: int | None = None,
        timeout: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Airflow SMTP connection (JSON-serialisable) pointing at this server: plain SMTP, no SSL, no STARTTLS.

        login/password default to ``credentials`` (if the server has them) — otherwise they are left out, which
        is required because SmtpHook calls ``login()`` whenever both are set and this server then offers no AUTH.
        ``retry_limit`` / ``timeout`` become the SmtpHook extras of the same name (hook defaults: 5 and 30 s;
        ``timeout`` is parsed with ``int()`` so it has whole-second resolution).
        """
        if login is None and password is None and self.credentials is not None:
            login, password = self.credentials
        extras: dict[str, Any] = {"disable_ssl": True, "disable_tls": True, "from_email": from_email}
        if retry_limit is not None:
            extras["retry_limit"] = retry_limit
        if timeout is not None:
            extras["timeout"] = timeout
        extras.update(extra)
        conn: dict[str, Any] = {"conn_type": "smtp", "host": self.host, "port": self.port, "extra": extras}
        if login is not None:
            conn["login"] = login
        if password is not None:
            conn["password"] = password
        return conn

    def connection_uri_json(self, conn_id: str | None = None, **kwargs: Any) -> str:
        """``connection_dict(**kwargs)`` as JSON, the value for ``AIRFLOW_CONN_<ID>`` (``conn_id`` only for symmetry
        with :meth:`airflow_env`; Airflow takes the id from the variable name)."""
        return json.dumps(self.connection_dict(**kwargs))

    connection_json = connection_uri_json

    def airflow_env(self, conn_id: str = "drift_smtp", **kwargs: Any) -> dict[str, str]:
        """``{"AIRFLOW_CONN_<ID>": <json>}`` — feed it to ``monkeypatch.setenv`` or ``os.environ.update``."""
        return {airflow_conn_env_var(conn_id): self.connection_uri_json(conn_id, **kwargs)}


# --------------------------------------------------------------------------------------------------------------
# HTTP(S) capture servers
# --------------------------------------------------------------------------------------------------------------


@dataclass
class CapturedHttpRequest:
    """One HTTP request seen by :class:`SlackWebhookCapture` / :class:`PagerDutyCapture`."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any  # parsed JSON body, or None if the body is not JSON
    mode: str
    status: int | None = None  # status actually sent; None if the connection was dropped / reply not sent yet
    client_address: Any = None
    received_at: float = field(default_factory=time.time)

    def header(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for k, v in self.headers.items():
            if k.lower() == lname:
                return v
        return default


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, handler, owner: _HttpCapture, tls: ssl.SSLContext | None) -> None:
        self.owner = owner
        self.tls = tls
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        # TLS handshake in the per-connection thread (not in the accept loop), so a bad client cannot block it.
        if self.tls is not None:
            request.settimeout(10)
            request = self.tls.wrap_socket(request, server_side=True)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):  # keep test output clean; remember what happened
        import sys

        with self.owner._lock:
            self.owner.errors.append(repr(sys.exc_info()[1]))


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"
    server_version = "drift-capture/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # silenced: request lines contain the webhook path, i.e. the secret

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError):
            parsed = None
        mode = owner._next_mode()
        rec = CapturedHttpRequest(
            method=self.command,
            path=self.path,
            headers=dict(self.headers.items()),
            body=body,
            json=parsed,
            mode=mode,
            client_address=self.client_address,
        )
        owner._record(rec)
        if mode == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "timeout":
            owner._stopping.wait(owner.timeout_delay)  # stop() wakes sleepers up
        status, headers, payload = owner._response(rec, mode)
        with owner._lock:
            rec.status = status
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:  # client went away (e.g. it timed out)
            self.close_connection = True

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()


class _HttpCapture(_CaptureServer):
    scheme = "http"

    def __init__(self, *, mode: str = "ok", timeout_delay: float = 5.0, host: str = LOCALHOST) -> None:
        super().__init__(mode=mode, host=host)
        self.timeout_delay = timeout_delay
        self.errors: list[str] = []  # server-side exceptions (TLS handshake failures, resets...)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def _tls_context(self) -> ssl.SSLContext | None:
        return None

    def _response(self, rec: CapturedHttpRequest, mode: str) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def start(self):
        if self._started:
            return self
        self._stopping.clear()
        self._httpd = _HttpServer((self.host, 0), _Handler, self, self._tls_context())
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{type(self).__name__}", daemon=True
        )
        self._thread.start()
        self._started = True
        return self

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._stopping.set()
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._httpd = self._thread = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def json_bodies(self) -> list[Any]:
        return [r.json for r in self.requests]


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj).encode()


class SlackWebhookCapture(_HttpCapture):
    """Fake Slack incoming-webhook endpoint (plain HTTP) accepting POST on any path.

    Modes (status / body, like hooks.slack.com): ``ok`` 200 ``ok``; ``error`` 500 ``internal_error``;
    ``rate_limited`` 429 ``rate_limited`` + ``Retry-After: 1``; ``invalid`` 400 ``invalid_blocks``;
    ``timeout`` 200 ``ok`` but only after ``timeout_delay`` s (default 5); ``drop`` connection closed without
    any response.
    """

    MODES: ClassVar[tuple[str, ...]] = ("ok", "error", "rate_limited", "timeout", "invalid", "drop")

    def __init__(
        self,
        *,
        mode: str = "ok",
        webhook_path: str = "/services/T000/B000/XXXX",
        timeout_delay: float = 5.0,
        host: str = LOCALHOST,
    ) -> None:
        super().__init__(mode=mode, timeout_delay=timeout_delay, host=host)
        self.webhook_path = "/" + webhook_path.lstrip("/")

    def _response(self, rec, mode):
        text = {"Content-Type": "text/html"}
        if rec.method != "POST":
            return 405, text, b"invalid_method"
        if mode in ("ok", "timeout"):
            return 200, text, b"ok"
        if mode == "error":
            return 500, text, b"internal_error"
        if mode == "rate_limited":
            return 429, {**text, "Retry-After": "1"}, b"rate_limited"
        if mode == "invalid":
            return 400, text, b"invalid_blocks"
        raise AssertionError(mode)

    @property
    def webhook_url(self) -> str:
        """Full webhook URL (``http://127.0.0.1:PORT/services/T000/B000/XXXX``) — the connection password."""
        return self.url + self.webhook_path

    def connection_dict(self, *, timeout: int | None = None, **extra: Any) -> dict[str, Any]:
        """Airflow ``slackwebhook`` connection: the password is the full URL (SlackWebhookHook uses a password
        containing ``://`` verbatim as the webhook URL)."""
        extras = dict(extra)
        if timeout is not None:
            extras["timeout"] = timeout
        conn: dict[str, Any] = {"conn_type": "slackwebhook", "password": self.webhook_url}
        if extras:
            conn["extra"] = extras
        return conn

    def connection_uri_json(self, conn_id: str | None = None, **kwargs: Any) -> str:
        return json.dumps(self.connection_dict(**kwargs))

    connection_json = connection_uri_json

    def airflow_env(self, conn_id: str = "drift_slack", **kwargs: Any) -> dict[str, str]:
        return {airflow_conn_env_var(conn_id): self.connection_uri_json(conn_id, **kwargs)}


class PagerDutyCapture(_HttpCapture):
    """Fake PagerDuty Events API v2 over HTTPS (certificate from a throw-away ``trustme`` CA).

    ``POST /v2/enqueue`` (and ``/v2/change/enqueue``). Modes: ``ok`` 202 ``{"status": "success", "message":
    "Event processed", "dedup_key": <request's dedup_key or a generated one>}``; ``error`` 500;
    ``bad_request`` 400 ``{"status": "invalid event", "message": "Event object is invalid"}``; ``rate_limited``
    429; ``timeout`` (202 after ``timeout_delay`` s); ``drop`` (connection closed, no response).
    With ``validate=True`` (default) mode ``ok`` also answers 400 like the real API for events without
    ``routing_key``, with a bad ``event_action``/``payload.severity``, a trigger lacking ``payload.summary`` /
    ``payload.source``, or an acknowledge/resolve lacking ``dedup_key``.
    Other paths: 404.
    """

    scheme = "https"
    MODES: ClassVar[tuple[str, ...]] = ("ok", "error", "timeout", "bad_request", "rate_limited", "drop")
    SEVERITIES: ClassVar[tuple[str, ...]] = ("critical", "error", "warning", "info")

    def __init__(
        self, *, mode: str = "ok", timeout_delay: float = 5.0, validate: bool = True, host: str = LOCALHOST
    ) -> None:
        super().__init__(mode=mode, timeout_delay=timeout_delay, host=host)
        self.validate = validate
        import trustme

        self._ca = trustme.CA()
        self._server_cert = self._ca.issue_cert("127.0.0.1", "localhost")
        self._tmpdir: str | None = None
        self._ca_path: str | None = None

    # -- TLS -----------------------------------------------------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_cert.configure_cert(ctx)
        return ctx

    @property
    def ca_pem(self) -> bytes:
        return self._ca.cert_pem.bytes()

    @property
    def ca_bundle_path(self) -> str:
        """PEM file holding only the test CA (exists while the server runs)."""
        if self._ca_path is None:
            raise RuntimeError("PagerDutyCapture is not started")
        return self._ca_path

    def client_ssl_context(self) -> ssl.SSLContext:
        """Client ``SSLContext`` trusting (only) the test CA — pass it as ``verify=`` to httpx2/pagerduty."""
        return ssl.create_default_context(cafile=self.ca_bundle_path)

    def start(self) -> PagerDutyCapture:
        if self._started:
            return self
        self._tmpdir = tempfile.mkdtemp(prefix="drift-pd-ca-")
        self._ca_path = os.path.join(self._tmpdir, "ca.pem")
        with open(self._ca_path, "wb") as fh:
            fh.write(self.ca_pem)
        return super().start()

    def stop(self) -> None:
        super().stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = self._ca_path = None

    # -- API -----------------------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:PORT`` — ``pagerduty.EventsApiV2Client(key, base_url=...)``."""
        return self.url

    @property
    def events(self) -> list[dict[str, Any]]:
        """JSON bodies POSTed to ``/v2/enqueue`` (all modes)."""
        return [r.json for r in self.requests if r.path.split("?")[0] == "/v2/enqueue"]

    def _validation_errors(self, ev: Any) -> list[str]:
        if not isinstance(ev, dict):
            return ["Event object must be a JSON object"]
        errors = []
        if not ev.get("routing_key"):
            errors.append("'routing_key' is missing or blank")
        action = ev.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is missing or invalid")
        if action == "trigger":
            payload = ev.get("payload")
            if not isinstance(payload, dict):
                errors.append("'payload' is missing or blank")
            else:
                for key in ("summary", "source"):
                    if not payload.get(key):
                        errors.append(f"'payload.{key}' is missing or blank")
                if payload.get("severity") not in self.SEVERITIES:
                    errors.append("'payload.severity' is missing or invalid")
        elif action in ("acknowledge", "resolve") and not ev.get("dedup_key"):
            errors.append("'dedup_key' is missing or blank")
        return errors

    def _response(self, rec, mode):
        js = {"Content-Type": "application/json"}
        route = rec.path.split("?")[0]
        if rec.method != "POST" or route not in ("/v2/enqueue", "/v2/change/enqueue"):
            return 404, js, _json_bytes({"status": "not found", "message": "Not Found"})
        if mode == "error":
            return 500, js, _json_bytes({"status": "error", "message": "Internal Server Error"})
        if mode == "bad_request":
            return 400, js, _json_bytes({"status": "invalid event", "message": "Event object is invalid"})
        if mode == "rate_limited":
            return 429, js, _json_bytes({"status": "throttle event", "message": "Too many requests; retry later"})
        if route == "/v2/change/enqueue":
            return 202, js, _json_bytes({"status": "success", "message": "Change event processed"})
        if self.validate and (errors := self._validation_errors(rec.json)):
            body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
            return 400, js, _json_bytes(body)
        ev = rec.json if isinstance(rec.json, dict) else {}
        dedup_key = ev.get("dedup_key") or uuid.uuid4().hex
        return 202, js, _json_bytes({"status": "success", "message": "Event processed", "dedup_key": dedup_key})

    def events_client(
        self,
        routing_key: str,
        *,
        timeout: float = 5.0,
        retry_5xx: bool = False,
        network_attempts: int = 0,
        sleep_timer: float = 0.001,
    ):
        """A ``pagerduty.EventsApiV2Client`` aimed at this server and trusting the test CA, tuned for fast tests.

        ``retry_5xx=False`` clears the client's ``retry`` dict (no retry of 500/502/503/504; 429 is still
        retried without limit — that is the library default and not a dict entry); ``network_attempts`` sets
        ``max_network_attempts`` (library default 3); ``sleep_timer`` replaces the 1.5 s initial back-off.
        """
        import pagerduty

        client = pagerduty.EventsApiV2Client(routing_key, base_url=self.base_url, verify=self.client_ssl_context())
        client.timeout = timeout
        client.sleep_timer = sleep_timer
        client.max_network_attempts = network_attempts
        if not retry_5xx:
            client.retry.clear()
        return client

    def client_factory(self, *, timeout: float = 5.0, sleep_timer: float = 0.001):
        """Drop-in replacement for ``pagerduty.EventsApiV2Client`` redirecting to this server, for
        ``monkeypatch.setattr(pagerduty, "EventsApiV2Client", server.client_factory())`` so that the
        *unmodified* ``PagerdutyEventsHook`` reaches it.  Keeps the library's retry policy (500→2 retries,
        3 network attempts, 429 unbounded) but with ``sleep_timer`` back-off so tests stay fast."""
        import pagerduty

        original = pagerduty.EventsApiV2Client
        server = self

        class _RedirectedEventsApiV2Client(original):
            def __init__(self, routing_key: str, debug: bool = False, base_url: str | None = None, **kw: Any):
                kw.setdefault("verify", server.client_ssl_context())
                super().__init__(routing_key, debug=debug, base_url=base_url or server.base_url, **kw)
                self.timeout = timeout
                self.sleep_timer = sleep_timer

        return _RedirectedEventsApiV2Client

    def connection_dict(self, routing_key: str) -> dict[str, Any]:
        """Airflow ``pagerduty_events`` connection: the integration (routing) key is the password. Note that
        PagerdutyEventsHook has no URL setting at all — see Facts."""
        return {"conn_type": "pagerduty_events", "password": routing_key}

    def connection_uri_json(self, conn_id: str | None = None, *, routing_key: str) -> str:
        return json.dumps(self.connection_dict(routing_key))

    connection_json = connection_uri_json

    def airflow_env(self, conn_id: str = "drift_pagerduty", *, routing_key: str) -> dict[str, str]:
        return {airflow_conn_env_var(conn_id): self.connection_uri_json(conn_id, routing_key=routing_key)}


if __name__ == "__main__":  # manual demo: python tests/alert_servers.py
    with SmtpCapture() as smtp, SlackWebhookCapture() as slack, PagerDutyCapture() as pd:
        print(f"SMTP      {smtp.url}\n{smtp.connection_uri_json()}")
        print(f"Slack     {slack.webhook_url}")
        print(f"PagerDuty {pd.base_url}  CA bundle: {pd.ca_bundle_path}")
        print("Ctrl-C to stop")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        for name, srv in (("smtp", smtp), ("slack", slack), ("pagerduty", pd)):
            print(name, len(srv.requests), "request(s)")
