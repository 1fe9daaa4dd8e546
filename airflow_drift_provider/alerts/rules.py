"""Alert rules on drift reports: parsing, validation and pure evaluation (no Airflow imports).

A rule compares values picked out of one or more reports with a threshold::

    AlertRule(name="psi_high", metric="columns.*.methods.psi.statistic", op="gt",
              threshold=0.2, severity="warning")

Selectors are dotted paths; ``*`` matches every key (or list index) at that
level and yields one alert *instance* per match (typically one per column).
Keys containing dots or brackets are written in brackets: ``columns["a.b"].drifted``.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import operator as _op
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

EVALUATION_SCHEMA_VERSION = 1
SEVERITIES = ("info", "warning", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
OPERATORS: dict[str, Any] = {
    "gt": _op.gt,
    "gte": _op.ge,
    "lt": _op.lt,
    "lte": _op.le,
    "eq": _op.eq,
    "ne": _op.ne,
}
ALIASES = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "==": "eq", "!=": "ne", "ge": "gte", "le": "lte"}
SYMBOLS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "==", "ne": "!="}
MAX_LISTED = 200  # passing instances listed in an evaluation (the rest are counted)

_TOKEN = re.compile(r"""\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\d+))\s*\]|([^.\[\]]+)|(\.)""")


def parse_selector(selector: str) -> list[str]:
    """Split a selector into path segments (``"*"`` is the wildcard)."""
    if not isinstance(selector, str) or not selector.strip():
        raise ValueError(f"metric selector must be a non-empty string, got {selector!r}")
    parts: list[str] = []
    pos = 0
    expect_segment = True
    while pos < len(selector):
        m = _TOKEN.match(selector, pos)
        if not m:
            raise ValueError(f"bad metric selector {selector!r} at position {pos}")
        dq, sq, idx, bare, dot = m.groups()
        if dot:
            if expect_segment:
                raise ValueError(f"bad metric selector {selector!r}: empty segment at position {pos}")
            expect_segment = True
        else:
            seg = dq if dq is not None else sq if sq is not None else idx if idx is not None else bare
            assert seg is not None
            if dq is not None or sq is not None:
                seg = re.sub(r"\\(.)", r"\1", seg)
            elif bare is not None:
                seg = seg.strip()
                if not seg:
                    raise ValueError(f"bad metric selector {selector!r}: blank segment at position {pos}")
                if not expect_segment:
                    raise ValueError(f"bad metric selector {selector!r} at position {pos}")
            parts.append(seg if (dq is None and sq is None) else "\x00" + seg)  # quoted: never a wildcard
            expect_segment = False
        pos = m.end()
    if expect_segment:
        raise ValueError(f"bad metric selector {selector!r}: ends with '.'")
    return parts


def _resolve(doc: Any, parts: Sequence[str]) -> list[tuple[list[str], Any]]:
    """All (wildcard matches, value) pairs for the path in ``doc``."""
    out: list[tuple[list[str], Any]] = []

    def walk(node: Any, i: int, matched: list[str]) -> None:
        if i == len(parts):
            out.append((matched, node))
            return
        seg = parts[i]
        if seg == "*":
            if isinstance(node, Mapping):
                for k, v in node.items():
                    walk(v, i + 1, [*matched, str(k)])
            elif isinstance(node, list):
                for j, v in enumerate(node):
                    walk(v, i + 1, [*matched, str(j)])
            return
        key = seg[1:] if seg.startswith("\x00") else seg
        if isinstance(node, Mapping) and key in node:
            walk(node[key], i + 1, matched)
        elif isinstance(node, list) and re.fullmatch(r"[0-9]+", key) and int(key) < len(node):
            walk(node[int(key)], i + 1, matched)

    walk(doc, 0, [])
    return out


@dataclass(frozen=True)
class AlertRule:
    """One alert rule.

    :param name: unique name (part of the alert fingerprint).
    :param metric: selector into a report, e.g. ``summary.share_drifted``,
        ``columns.*.methods.psi.statistic``, ``metrics.f1.relative_change``.
    :param op: ``gt``, ``gte``, ``lt``, ``lte``, ``eq`` or ``ne`` (or ``>``, ``>=``...).
    :param threshold: the number (or bool/string for ``eq``/``ne``) to compare with.
    :param severity: ``info``, ``warning`` or ``critical``.
    :param task_id: the report (upstream task id) the rule reads; ``None``: every report given.
    :param channels: channel names overriding the severity routing.
    :param message: optional text with ``{rule}``, ``{column}``, ``{value}``,
        ``{threshold}``, ``{op}``, ``{severity}``, ``{task_id}``, ``{dag_id}``.
    """

    name: str
    metric: str
    op: str
    threshold: Any
    severity: str = "warning"
    task_id: str | None = None
    channels: tuple[str, ...] | None = None
    message: str | None = None
    path: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def from_value(cls, value: Any) -> AlertRule:
        if isinstance(value, AlertRule):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"an alert rule must be a mapping or an AlertRule, got {value!r}")
        known = {"name", "metric", "op", "threshold", "severity", "task_id", "channels", "message"}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"alert rule {value.get('name')!r}: unknown field(s) {sorted(map(str, unknown))}")
        missing = [k for k in ("name", "metric", "op", "threshold") if k not in value]
        if missing:
            raise ValueError(f"alert rule {value.get('name')!r}: missing field(s) {missing}")
        return cls(
            name=value["name"],
            metric=value["metric"],
            op=value["op"],
            threshold=value["threshold"],
            severity=value.get("severity", "warning"),
            task_id=value.get("task_id"),
            channels=value.get("channels"),
            message=value.get("message"),
        )

    def validated(self) -> AlertRule:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"alert rule name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.op, str):
            raise ValueError(f"alert rule {self.name!r}: unknown operator {self.op!r}; use one of {sorted(OPERATORS)}")
        op = ALIASES.get(self.op, self.op)
        if op not in OPERATORS:
            raise ValueError(f"alert rule {self.name!r}: unknown operator {self.op!r}; use one of {sorted(OPERATORS)}")
        if not isinstance(self.severity, str) or self.severity not in SEVERITIES:
            raise ValueError(f"alert rule {self.name!r}: bad severity {self.severity!r}; use one of {SEVERITIES}")
        thr = self.threshold
        if isinstance(thr, str) and op in ("gt", "gte", "lt", "lte"):
            try:
                thr = float(thr)
            except ValueError:
                raise ValueError(f"alert rule {self.name!r}: threshold must be a number, got {thr!r}") from None
        if isinstance(thr, numbers.Real) and not isinstance(thr, bool):
            try:
                thr = int(thr) if isinstance(thr, numbers.Integral) else float(thr)
                finite = math.isfinite(float(thr))
            except OverflowError:
                finite = False
            if not finite:
                raise ValueError(f"alert rule {self.name!r}: threshold must be finite, got {self.threshold!r}")
        elif op in ("gt", "gte", "lt", "lte"):
            raise ValueError(f"alert rule {self.name!r}: threshold must be a finite number, got {thr!r}")
        elif not (thr is None or isinstance(thr, bool | str)):
            raise ValueError(f"alert rule {self.name!r}: threshold must be a number, bool or string, got {thr!r}")
        if self.task_id is not None and (not isinstance(self.task_id, str) or not self.task_id):
            raise ValueError(f"alert rule {self.name!r}: task_id must be a string (not empty)")
        channels = self.channels
        if channels is not None:
            if isinstance(channels, str):
                channels = (channels,)
            if not isinstance(channels, list | tuple) or not all(isinstance(c, str) and c for c in channels):
                raise ValueError(f"alert rule {self.name!r}: channels must be a list of channel names")
            channels = tuple(channels)
        if self.message is not None and not isinstance(self.message, str):
            raise ValueError(f"alert rule {self.name!r}: message must be a string")
        try:
            path = tuple(parse_selector(self.metric))
        except ValueError as exc:
            raise ValueError(f"alert rule {self.name!r}: {exc}") from None
        return AlertRule(
            name=self.name,
            metric=self.metric,
            op=op,
            threshold=thr,
            severity=self.severity,
            task_id=self.task_id,
            channels=channels,
            message=self.message,
            path=path,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "op": self.op,
            "threshold": self.threshold,
            "severity": self.severity,
            "task_id": self.task_id,
            "channels": list(self.channels) if self.channels is not None else None,
            "message": self.message,
        }


def parse_rules(rules: Any) -> list[AlertRule]:
    """Validate rules given as dicts and/or AlertRule objects (``ValueError`` on any problem)."""
    if isinstance(rules, Mapping | AlertRule):
        rules = [rules]
    if not isinstance(rules, Iterable) or isinstance(rules, str):
        raise ValueError(f"rules must be a list of alert rules, got {rules!r}")
    out = [AlertRule.from_value(r).validated() for r in rules]
    if not out:
        raise ValueError("at least one alert rule is required")
    names = [r.name for r in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"alert rule names must be unique: {dup}")
    return out


def fingerprint(dag_id: str, rule: str, task_id: str, instance: str) -> str:
    """Stable across runs (never includes the run id)."""
    raw = "\x1f".join([dag_id, rule, task_id, instance]).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:24]


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _instance(matched: list[str], metric: str) -> str:
    """The wildcard matches: the key itself for one wildcard, an unambiguous join for several."""
    if not matched:
        return metric
    if len(matched) == 1:
        return matched[0]
    return "/".join(m.replace("\\", "\\\\").replace("/", "\\/") for m in matched)


def _column_of(path: Sequence[str], matched: list[str]) -> str | None:
    if len(path) < 2 or path[0] != "columns":
        return None
    if path[1] == "*":
        return matched[0] if matched else None
    return path[1][1:] if path[1].startswith("\x00") else path[1]


def evaluate_rules(
    rules: Sequence[AlertRule] | Any,
    reports: Mapping[str, Any],
    *,
    dag_id: str,
) -> dict[str, Any]:
    """Evaluate ``rules`` on ``reports`` (``{task_id: report}``) -> JSON-safe evaluation.

    ``fired``: one entry per matching instance whose value satisfies the rule;
    ``passed``: instances that did not fire (first ``MAX_LISTED``);
    ``unknown``: instances whose value is null (e.g. an undecidable column);
    ``errors``: rules whose selector matched nothing, whose report is missing,
    or whose values cannot be compared - never silently treated as OK.
    """
    parsed = parse_rules(rules)  # cheap; also re-validates AlertRule objects built or replaced by hand
    fired: list[dict[str, Any]] = []
    passed: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    n_passed = 0
    for rule in parsed:
        targets = [rule.task_id] if rule.task_id else list(reports)
        matched_any = False
        for task_id in targets:
            report = reports.get(task_id)
            if report is None:
                errors.append({"rule": rule.name, "task_id": task_id, "error": "no report from this task"})
                continue
            for matched, value in _resolve(report, rule.path):
                matched_any = True
                instance = _instance(matched, rule.metric)
                column = _column_of(rule.path, matched)
                base = {"rule": rule.name, "task_id": task_id, "instance": instance, "column": column}
                if value is None or (isinstance(value, float) and not math.isfinite(value)):
                    unknown.append({**base, "value": None})
                    continue
                if isinstance(value, Mapping | list):
                    errors.append({**base, "error": f"{rule.metric} selects a {type(value).__name__}, not a value"})
                    continue
                try:
                    hit = bool(OPERATORS[rule.op](value, rule.threshold))
                except TypeError:
                    errors.append({**base, "error": f"cannot compare {value!r} {SYMBOLS[rule.op]} {rule.threshold!r}"})
                    continue
                if not hit:
                    n_passed += 1
                    if len(passed) < MAX_LISTED:
                        passed.append({**base, "value": _plain(value)})
                    continue
                fp = fingerprint(dag_id, rule.name, task_id, instance)
                fields = _SafeDict(
                    rule=rule.name,
                    column=column if column is not None else instance,
                    value=_plain(value),
                    threshold=rule.threshold,
                    op=SYMBOLS[rule.op],
                    severity=rule.severity,
                    task_id=task_id,
                    dag_id=dag_id,
                )
                default = "{rule}: {column} = {value} {op} {threshold}"
                try:
                    message = (rule.message or default).format_map(fields)
                except Exception:  # a broken user template must not break the evaluation
                    message = default.format_map(fields)
                fired.append(
                    {
                        **base,
                        "metric": rule.metric,
                        "value": _plain(value),
                        "op": rule.op,
                        "threshold": rule.threshold,
                        "severity": rule.severity,
                        "channels": list(rule.channels) if rule.channels is not None else None,
                        "message": message,
                        "fingerprint": fp,
                    }
                )
        if not matched_any and not any(e["rule"] == rule.name for e in errors):
            errors.append({"rule": rule.name, "task_id": rule.task_id, "error": f"{rule.metric!r} matched nothing"})
    worst = max((SEVERITY_RANK[f["severity"]] for f in fired), default=None)
    return {
        "schema_version": EVALUATION_SCHEMA_VERSION,
        "kind": "alert_evaluation",
        "dag_id": dag_id,
        "rules": [r.to_dict() for r in parsed],
        "fired": fired,
        "passed": passed,
        "unknown": unknown,
        "errors": errors,
        "summary": {
            "fired": len(fired),
            "passed": n_passed,
            "unknown": len(unknown),
            "errors": len(errors),
            "fired_rules": sorted({f["rule"] for f in fired}),
            "max_severity": SEVERITIES[worst] if worst is not None else None,
            "evaluated_instances": len(fired) + n_passed + len(unknown),
        },
    }
