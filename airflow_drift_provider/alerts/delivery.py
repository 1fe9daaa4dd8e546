"""Deduplicated, retried, per-channel alert delivery with state in a key-value store.

The store is Airflow Variables in production (:class:`VariableStore`): one
JSON value per alert fingerprint under a configurable prefix, plus one index
per DAG listing the fingerprints still open. State per fingerprint::

    {"fingerprint", "dag_id", "rule", "task_id", "instance", "column", "severity",
     "status": "firing" | "resolving" | "resolved",
     "first_fired", "last_fired", "episode_start", "count", "last_value", "last_run_id",
     "sent": {channel: iso time}, "sent_run": {channel: run_id},
     "resolved_at", "resolve_sent": {channel: iso time}}

Rules (documented in the README, "Alerting"):

* delivery on a channel is recorded only after that channel succeeded, and the
  state is written right away, so a task retry sends only what is missing
  (``sent_run`` makes this exact even with a zero ``dedup_window``);
* within ``dedup_window`` after a delivery the alert is not delivered again on
  that channel (also when it resolved and fired again: flapping protection);
* a still-firing alert is re-delivered once ``renotify_after`` (if set, and at
  least ``dedup_window``) has passed since the last delivery;
* an open alert that no longer fires (and whose rule evaluated without error)
  is resolved: with ``notify_resolved`` every channel it was delivered on gets
  a resolve notification (PagerDuty ``resolve`` with the same dedup_key), then
  the state is closed.

Concurrency: Variables have no compare-and-set. Two runs of one DAG alerting
the same fingerprint at the same moment can both read "not sent" and both
send. Prevent it with ``max_active_runs=1`` on the DAG or a pool with one slot
for the alert task.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from airflow_drift_provider.alerts.channels import AlertContext, Channel
from airflow_drift_provider.alerts.rules import SYMBOLS

DEFAULT_PREFIX = "drift_alert:"
MAX_KEY = 250


class StateStore(Protocol):
    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


class MemoryStore:
    """In-memory store (tests and notebooks)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value


class VariableStore:
    """Airflow Variables (JSON), shared by all workers and surviving restarts."""

    def get(self, key: str) -> Any:
        from airflow.sdk import Variable

        return Variable.get(key, default=None, deserialize_json=True)

    def set(self, key: str, value: Any) -> None:
        from airflow.sdk import Variable

        Variable.set(key, value, description="airflow-drift-provider alert state", serialize_json=True)


def _key(prefix: str, *parts: str) -> str:
    key = prefix + ":".join(parts)
    if len(key) > MAX_KEY:
        key = prefix + hashlib.sha256(":".join(parts).encode()).hexdigest()
    return key


def index_key(prefix: str, dag_id: str) -> str:
    return _key(prefix, "open", dag_id)


def state_key(prefix: str, fp: str) -> str:
    return _key(prefix, fp)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


def _parse(t: str | None) -> datetime | None:
    return datetime.fromisoformat(t) if t else None


def deliver(
    evaluation: Mapping[str, Any],
    channels: Mapping[str, Channel],
    routes: Mapping[str, Sequence[str]],
    store: StateStore,
    ctx: AlertContext,
    *,
    prefix: str = DEFAULT_PREFIX,
    dedup_window: timedelta = timedelta(hours=24),
    renotify_after: timedelta | None = None,
    notify_resolved: bool = True,
    retries: int = 3,
    backoff: float = 2.0,
    now: datetime | None = None,
    log: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Deliver the fired alerts of ``evaluation`` and resolve the ones that stopped firing.

    Returns a JSON-safe result: ``sent``/``suppressed``/``failed`` per channel,
    ``resolved``, ``errors``. Never raises for a channel failure (the caller
    decides: ``DriftAlertOperator`` fails the task so Airflow retries it).
    """
    now = now or datetime.now(UTC)
    fired = {a["fingerprint"]: dict(a, op_symbol=SYMBOLS.get(a["op"], a["op"])) for a in evaluation.get("fired", [])}
    errored_rules = {e["rule"] for e in evaluation.get("errors", [])}
    evaluated_rules = {r.get("name") for r in evaluation.get("rules", [])}
    idx_key = index_key(prefix, ctx.dag_id)
    index = set(store.get(idx_key) or [])
    result: dict[str, Any] = {
        "sent": {},
        "suppressed": {},
        "failed": {},
        "resolved": [],
        "resolve_sent": {},
        "resolve_failed": {},
        "errors": [],
    }
    states: dict[str, dict[str, Any]] = {}

    def save(fp: str) -> None:
        store.set(state_key(prefix, fp), states[fp])

    # 1. state of everything that fires now
    for fp, a in fired.items():
        st = store.get(state_key(prefix, fp)) or {
            "fingerprint": fp,
            "dag_id": ctx.dag_id,
            "rule": a["rule"],
            "task_id": a["task_id"],
            "instance": a["instance"],
            "column": a.get("column"),
            "first_fired": _iso(now),
            "count": 0,
            "sent": {},
            "sent_run": {},
        }
        if st.get("status") != "firing":
            st["status"] = "firing"
            st["episode_start"] = _iso(now)
            st["resolve_sent"] = {}
            st.pop("resolved_at", None)
        if st.get("last_run_id") != ctx.run_id:
            st["count"] = int(st.get("count", 0)) + 1
            st["last_run_id"] = ctx.run_id
        st["last_fired"] = _iso(now)
        st["last_value"] = a.get("value")
        st["severity"] = a["severity"]
        states[fp] = st
        save(fp)
    index |= set(fired)
    store.set(idx_key, sorted(index))

    # 2. what is due on which channel
    plan: dict[str, list[str]] = {}
    for fp, a in fired.items():
        targets = a.get("channels") if a.get("channels") is not None else routes.get(a["severity"], [])
        st = states[fp]
        for ch in targets:
            if ch not in channels:
                result["errors"].append(f"alert {a['rule']} routes to unknown channel {ch!r}")
                continue
            if st["sent_run"].get(ch) == ctx.run_id:
                result["suppressed"].setdefault(ch, []).append(fp)  # delivered earlier in this run (retry)
                continue
            last = _parse(st["sent"].get(ch))
            due = last is None
            if last is not None:
                elapsed = now - last
                new_episode = (_parse(st.get("episode_start")) or now) > last
                renotify = renotify_after is not None and elapsed >= max(renotify_after, dedup_window)
                due = elapsed >= dedup_window and (new_episode or renotify)
            if due:
                plan.setdefault(ch, []).append(fp)
            else:
                result["suppressed"].setdefault(ch, []).append(fp)

    def attempt(channel: Channel, alerts: list[dict[str, Any]], resolved: bool) -> str | None:
        error = None
        for i in range(retries + 1):
            try:
                channel.send(alerts, ctx, resolved=resolved)
                return None
            except Exception as exc:  # a channel failure must not stop the others
                error = f"{type(exc).__name__}: {exc}"
                if log is not None:
                    log.warning("%s failed (attempt %s of %s): %s", channel.describe(), i + 1, retries + 1, error)
                if i < retries:
                    sleep(backoff * (2**i))
        return error

    # 3. deliver, recording each success as soon as it happened
    for ch, fps in plan.items():
        channel = channels[ch]
        groups = [[fp] for fp in fps] if channel.per_alert else [fps]
        down: str | None = None
        for group in groups:
            # once a channel failed after its retries, the rest of its alerts fail fast (no N x backoff)
            error = down or attempt(channel, [fired[fp] for fp in group], resolved=False)
            down = down or error
            if error is None:
                for fp in group:
                    states[fp]["sent"][ch] = _iso(now)
                    states[fp]["sent_run"][ch] = ctx.run_id
                    save(fp)
                result["sent"].setdefault(ch, []).extend(group)
            else:
                result["failed"].setdefault(ch, {"error": error, "fingerprints": []})["fingerprints"].extend(group)

    # 4. resolve what stopped firing: one notification per channel (per alert for PagerDuty)
    resolving: dict[str, dict[str, Any]] = {}
    for fp in sorted(index - set(fired)):
        st = store.get(state_key(prefix, fp))
        if not st or st.get("status") == "resolved":
            index.discard(fp)
            continue
        if st.get("rule") in errored_rules:
            continue  # the rule could not be evaluated: do not call it recovered
        if st.get("rule") not in evaluated_rules:
            continue  # opened by another alert task of this DAG (other rules): not ours to resolve
        states[fp] = st
        if st.get("status") == "firing":
            st["status"] = "resolving"
            st["resolved_at"] = _iso(now)
            st["resolve_sent"] = {}
            save(fp)
        st.setdefault("resolve_sent", {})
        resolving[fp] = st
    pending: dict[str, list[str]] = {}
    if notify_resolved:
        for fp, st in resolving.items():
            for ch in st.get("sent", {}):
                if ch not in st["resolve_sent"] and ch in channels:
                    pending.setdefault(ch, []).append(fp)
    still_pending: set[str] = set()
    for ch, fps in pending.items():
        channel = channels[ch]
        groups = [[fp] for fp in fps] if channel.per_alert else [fps]
        for group in groups:
            alerts = [
                {
                    "fingerprint": fp,
                    "rule": resolving[fp]["rule"],
                    "task_id": resolving[fp]["task_id"],
                    "instance": resolving[fp]["instance"],
                    "column": resolving[fp].get("column"),
                    "severity": resolving[fp].get("severity", "warning"),
                    "value": resolving[fp].get("last_value"),
                    "op": "",
                    "threshold": "",
                    "message": "no longer firing",
                }
                for fp in group
            ]
            error = attempt(channel, alerts, resolved=True)
            if error is None:
                for fp in group:
                    resolving[fp]["resolve_sent"][ch] = _iso(now)
                    save(fp)
                result["resolve_sent"].setdefault(ch, []).extend(group)
            else:
                still_pending.update(group)
                entry = result["resolve_failed"].setdefault(ch, {"error": error, "fingerprints": []})
                entry["fingerprints"].extend(group)
    for fp, st in resolving.items():
        if fp in still_pending:
            continue
        st["status"] = "resolved"
        save(fp)
        index.discard(fp)
        result["resolved"].append(fp)
    store.set(idx_key, sorted(index))
    result["open"] = sorted(index)
    return result
