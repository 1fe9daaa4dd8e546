"""Alert rules (``airflow_drift_provider.alerts.rules``): parsing, selectors and pure evaluation.

Rules run on real reports produced by ``data_drift`` / ``model_drift``; hand-made
reports are used only for shapes the engine never produces (NaN values, lists
of dicts, keys containing ``/``...).  Every evaluation made through ``_evaluate``
is checked for JSON safety and for the internal consistency of its summary.

Tests named ``test_bug_*`` document defects found in ``rules.py``; they fail
until the defect is fixed.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import operator
import re
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from airflow_drift_provider.alerts.rules import (
    MAX_LISTED,
    SEVERITIES,
    AlertRule,
    evaluate_rules,
    fingerprint,
    parse_rules,
    parse_selector,
)
from airflow_drift_provider.drift import data_drift, model_drift

DAG = "drift_dag"
FIRED_KEYS = {
    "rule",
    "task_id",
    "instance",
    "column",
    "metric",
    "value",
    "op",
    "threshold",
    "severity",
    "channels",
    "message",
    "fingerprint",
}
SUMMARY_KEYS = {"fired", "passed", "unknown", "errors", "fired_rules", "max_severity", "evaluated_instances"}
PY_OPS = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "ne": operator.ne,
}
HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    "<!channel>",
    "@here",
    "a.b",
    'x["y"]',
    'it\'s "quoted"',
    "back\\slash",
    "température",
    "列",
    "emoji 🚨",
    "line\r\nbreak",
    "*",
    "{dag_id}",
    "a/b",
    " padded ",
]
PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# --------------------------------------------------------------------------- helpers


def rule(name: str = "r", metric: str = "summary.share_drifted", op: str = "gt", threshold: Any = 0.3, **kw) -> dict:
    return {"name": name, "metric": metric, "op": op, "threshold": threshold, **kw}


def quote(key: str, q: str = '"') -> str:
    """Bracket-quote ``key`` for a selector (backslash and the quote char escaped)."""
    return "[" + q + key.replace("\\", "\\\\").replace(q, "\\" + q) + q + "]"


def check_invariants(ev: dict[str, Any]) -> None:
    text = json.dumps(ev, allow_nan=False)  # strict JSON: no NaN/inf, only plain types
    assert json.loads(text) == ev
    s = ev["summary"]
    assert set(s) == SUMMARY_KEYS
    assert ev["kind"] == "alert_evaluation"
    assert s["fired"] == len(ev["fired"])
    assert s["unknown"] == len(ev["unknown"])
    assert s["errors"] == len(ev["errors"])
    assert len(ev["passed"]) == min(s["passed"], MAX_LISTED)
    assert s["evaluated_instances"] == s["fired"] + s["passed"] + s["unknown"]
    assert s["fired_rules"] == sorted({f["rule"] for f in ev["fired"]})
    if ev["fired"]:
        assert s["max_severity"] == max((f["severity"] for f in ev["fired"]), key=SEVERITIES.index)
    else:
        assert s["max_severity"] is None
    for f in ev["fired"]:
        assert set(f) == FIRED_KEYS
        assert re.fullmatch(r"[0-9a-f]{24}", f["fingerprint"])
        assert f["fingerprint"] == fingerprint(ev["dag_id"], f["rule"], f["task_id"], f["instance"])
    for e in ev["errors"]:
        assert isinstance(e["error"], str) and e["error"]


def _evaluate(rules: Any, reports: dict[str, Any], dag_id: str = DAG) -> dict[str, Any]:
    ev = evaluate_rules(rules, reports, dag_id=dag_id)
    check_invariants(ev)
    return ev


def by_column(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {i["column"]: i for i in items}
    assert len(out) == len(items), "one instance per column expected"
    return out


# --------------------------------------------------------------------------- real reports


@pytest.fixture(scope="module")
def data_report() -> dict[str, Any]:
    rng = np.random.default_rng(7)
    n = 300
    base = rng.normal(size=n)
    cats = rng.choice(list("xyz"), n)
    ref = pd.DataFrame(
        {
            "shifted": rng.normal(size=n),
            "stable": base,
            "cat": cats,
            "cat_shift": rng.choice(list("xyz"), n, p=[0.8, 0.1, 0.1]),
            "gone": rng.normal(size=n),
        }
    )
    cur = pd.DataFrame(
        {
            "shifted": rng.normal(size=n) + 3,
            "stable": base,
            "cat": cats,
            "cat_shift": rng.choice(list("xyz"), n, p=[0.1, 0.1, 0.8]),
            "gone": np.full(n, np.nan),
        }
    )
    report = data_drift(ref, cur)
    # the facts the tests below rely on
    cols = report["columns"]
    assert [c for c in cols if cols[c]["drifted"] is True] == ["shifted", "cat_shift"]
    assert [c for c in cols if cols[c]["drifted"] is False] == ["stable", "cat"]
    assert cols["gone"]["drifted"] is None and cols["gone"]["status"] == "all_null"
    assert report["summary"]["share_drifted"] == 0.5
    return report


@pytest.fixture(scope="module")
def other_data_report() -> dict[str, Any]:
    """Another run of the same pipeline: different data, same columns."""
    rng = np.random.default_rng(99)
    n = 200
    ref = pd.DataFrame({c: rng.normal(size=n) for c in ("shifted", "stable", "gone")})
    cur = pd.DataFrame({c: rng.normal(size=n) + 5 for c in ("shifted", "stable", "gone")})
    report = data_drift(ref, cur)
    assert all(r["drifted"] is True for r in report["columns"].values())
    return report


@pytest.fixture(scope="module")
def model_report() -> dict[str, Any]:
    y_true = [0, 1, 1, 0, 1, 0, 1, 1] * 20
    y_pred = [0, 1, 0, 0, 1, 1, 1, 0] * 20
    report = model_drift(y_true, y_pred, baseline={"f1": 0.9, "accuracy": 0.9})
    assert report["metrics"]["f1"]["relative_change"] < -0.2
    assert report["metrics"]["precision"]["relative_change"] is None
    return report


@pytest.fixture(scope="module")
def hostile_report() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    n = 200
    ref = pd.DataFrame({name: rng.normal(size=n) for name in HOSTILE_NAMES})
    cur = pd.DataFrame({name: rng.normal(size=n) + (4.0 if i % 2 else 0.0) for i, name in enumerate(HOSTILE_NAMES)})
    report = data_drift(ref, cur)
    assert list(report["columns"]) == HOSTILE_NAMES
    return report


@pytest.fixture(scope="module")
def wide_report() -> dict[str, Any]:
    rng = np.random.default_rng(11)
    names = [f"c{i:03d}" for i in range(500)]
    ref = pd.DataFrame(rng.normal(size=(60, 500)), columns=names)
    cur = pd.DataFrame(rng.normal(size=(60, 500)), columns=names)
    cur[names[:40]] += 3.0  # 40 clearly drifted columns
    report = data_drift(ref, cur)
    assert len(report["columns"]) == 500
    return report


# --------------------------------------------------------------------------- parsing


def test_dict_and_alertrule_parse_to_the_same_rule_with_defaults():
    from_dict = parse_rules([rule()])[0]
    from_obj = parse_rules([AlertRule(name="r", metric="summary.share_drifted", op="gt", threshold=0.3)])[0]
    assert from_dict == from_obj
    assert from_dict.severity == "warning"
    assert from_dict.task_id is None and from_dict.channels is None and from_dict.message is None
    assert from_dict.path == ("summary", "share_drifted")
    assert from_dict.to_dict() == {
        "name": "r",
        "metric": "summary.share_drifted",
        "op": "gt",
        "threshold": 0.3,
        "severity": "warning",
        "task_id": None,
        "channels": None,
        "message": None,
    }


def test_single_rule_mapping_is_accepted_by_parse_rules():
    assert [r.name for r in parse_rules(rule(name="one"))] == ["one"]
    assert [r.name for r in parse_rules(AlertRule("two", "a", "gt", 1))] == ["two"]


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [(">", "gt"), (">=", "gte"), ("<", "lt"), ("<=", "lte"), ("==", "eq"), ("!=", "ne")]
    + [(op, op) for op in ("gt", "gte", "lt", "lte", "eq", "ne")],
)
def test_operator_aliases_are_canonicalised(alias, canonical):
    (r,) = parse_rules([rule(op=alias)])
    assert r.op == canonical
    assert r.to_dict()["op"] == canonical


@pytest.mark.parametrize("severity", SEVERITIES)
def test_every_severity_is_accepted(severity):
    assert parse_rules([rule(severity=severity)])[0].severity == severity


def test_numeric_string_threshold_is_converted_for_ordering_ops():
    (r,) = parse_rules([rule(threshold="0.25")])
    assert r.threshold == 0.25 and isinstance(r.threshold, float)


def test_string_threshold_is_kept_for_eq_and_ne():
    assert parse_rules([rule(op="eq", threshold="0.25")])[0].threshold == "0.25"
    assert parse_rules([rule(op="ne", metric="columns.*.status", threshold="ok")])[0].threshold == "ok"


def test_channels_string_becomes_a_one_element_tuple():
    assert parse_rules([rule(channels="slack")])[0].channels == ("slack",)
    assert parse_rules([rule(channels=["slack", "pagerduty"])])[0].channels == ("slack", "pagerduty")


@pytest.mark.parametrize("op", ["gtx", "=>", "=", "GT", "", None, 1])
def test_unknown_operator_is_rejected(op):
    with pytest.raises(ValueError, match="unknown operator"):
        parse_rules([rule(op=op)])


@pytest.mark.parametrize("severity", ["urgent", "WARNING", "", None, 2])
def test_bad_severity_is_rejected(severity):
    with pytest.raises(ValueError, match="bad severity"):
        parse_rules([rule(severity=severity)])


@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte", ">", "<="])
@pytest.mark.parametrize(
    "threshold",
    ["high", "", "0.2.1", True, False, None, [0.2], {"v": 1}, float("nan"), float("inf"), -float("inf"), "nan", "inf"],
    ids=repr,
)
def test_ordering_ops_need_a_finite_numeric_threshold(op, threshold):
    with pytest.raises(ValueError, match="threshold must be"):
        parse_rules([rule(op=op, threshold=threshold)])


@pytest.mark.parametrize("threshold", [[1], {"a": 1}, (1,), object()], ids=["list", "dict", "tuple", "object"])
def test_eq_ne_threshold_must_be_a_scalar(threshold):
    for op in ("eq", "ne"):
        with pytest.raises(ValueError, match="threshold must be"):
            parse_rules([rule(op=op, threshold=threshold)])


@pytest.mark.parametrize("threshold", [float("nan"), float("inf"), -float("inf")], ids=repr)
@pytest.mark.parametrize("op", ["eq", "!="])
def test_bug_eq_ne_accept_nan_and_infinite_thresholds(op, threshold):
    """BUG: the contract rejects a NaN threshold; eq/ne only check the type, so NaN/inf pass validation."""
    with pytest.raises(ValueError):
        parse_rules([rule(op=op, threshold=threshold)])


def test_bug_nan_threshold_on_ne_makes_the_evaluation_json_unsafe(data_report):
    """BUG (consequence of the above): the NaN threshold is echoed into `rules` and `fired`."""
    try:
        ev = evaluate_rules([rule(op="ne", threshold=float("nan"))], {"t": data_report}, dag_id=DAG)
    except ValueError:
        return  # rejected at validation: fine
    json.dumps(ev, allow_nan=False)


@pytest.mark.parametrize(
    "metric",
    [
        "",
        "   ",
        ".a",
        "a.",
        "a..b",
        "columns.",
        'columns["a',
        "columns['a",
        'columns["a"',
        "columns[*]",
        "columns[-1]",
        "columns[1.5]",
        'columns["a"]b',
        "columns[a]",
        "a[",
        "a]",
        "a]b",
        None,
        123,
        ["columns", "a"],
    ],
    ids=repr,
)
def test_bad_selector_syntax_is_rejected(metric):
    with pytest.raises(ValueError, match=r"alert rule 'r'.*(selector|metric)"):
        parse_rules([rule(metric=metric)])


@pytest.mark.parametrize("metric", ["a. .b", "a. ", "columns.\t.drifted"], ids=repr)
def test_bug_whitespace_only_bare_segment_is_accepted_as_empty_key(metric):
    """BUG: a bare segment made only of blanks is stripped to "" instead of being an empty-segment error."""
    with pytest.raises(ValueError):
        parse_selector(metric)


def test_unknown_fields_are_rejected():
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['thresh', 'where'\]"):
        parse_rules([rule(thresh=1, where="x")])


@pytest.mark.parametrize("missing", ["name", "metric", "op", "threshold"])
def test_missing_fields_are_rejected(missing):
    r = rule()
    del r[missing]
    with pytest.raises(ValueError, match=rf"missing field\(s\) \['{missing}'\]"):
        parse_rules([r])


def test_duplicate_names_are_rejected():
    with pytest.raises(ValueError, match=r"unique: \['dup'\]"):
        parse_rules([rule(name="dup"), rule(name="ok"), rule(name="dup", metric="summary.n_drifted")])


def test_duplicate_names_are_rejected_by_evaluate_rules_too(data_report):
    with pytest.raises(ValueError, match="unique"):
        evaluate_rules([rule(name="dup"), rule(name="dup")], {"t": data_report}, dag_id=DAG)


@pytest.mark.parametrize("rules", [[], (), None, "rules", 5.5], ids=repr)
def test_empty_or_non_list_rules_are_rejected(rules):
    with pytest.raises(ValueError):
        parse_rules(rules)


def test_empty_rule_list_is_rejected_by_evaluate_rules(data_report):
    with pytest.raises(ValueError, match="at least one"):
        evaluate_rules([], {"t": data_report}, dag_id=DAG)


@pytest.mark.parametrize("name", ["", "  ", None, 3, ["r"]], ids=repr)
def test_rule_name_must_be_a_non_empty_string(name):
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        parse_rules([rule(name=name)])


@pytest.mark.parametrize("bad", [1, "rule", ["rule"], None])
def test_each_rule_must_be_a_mapping_or_alertrule(bad):
    with pytest.raises(ValueError, match="must be a mapping or an AlertRule"):
        parse_rules([rule(), bad])


def test_task_id_and_channels_types_are_validated():
    with pytest.raises(ValueError, match="task_id must be a string"):
        parse_rules([rule(task_id=7)])
    with pytest.raises(ValueError, match="channels"):
        parse_rules([rule(channels=["slack", 3])])
    with pytest.raises(ValueError, match="channels"):
        parse_rules([rule(channels=["slack", ""])])


@pytest.mark.parametrize(
    "bad_rule",
    [
        pytest.param(rule(op=["gt"]), id="op-list"),
        pytest.param(rule(op={"gt": 1}), id="op-dict"),
        pytest.param(rule(channels=5), id="channels-int"),
        pytest.param(rule(threshold=10**400), id="threshold-huge-int"),
        pytest.param({**rule(), 1: "x", "extra": "y"}, id="mixed-type-unknown-keys"),
    ],
)
def test_bug_bad_rules_raise_something_other_than_valueerror(bad_rule):
    """BUG: validation lets TypeError/OverflowError escape instead of ValueError.

    op=["gt"] -> TypeError (unhashable, `op not in OPERATORS`); channels=5 -> TypeError (`tuple(5)`);
    threshold=10**400 -> OverflowError (`math.isfinite`); unknown keys of mixed types -> TypeError (`sorted`).
    """
    with pytest.raises(ValueError):
        parse_rules([bad_rule])


@pytest.mark.parametrize("rules", [5, AlertRule("r", "summary.share_drifted", "gt", 0.3)], ids=["int", "AlertRule"])
def test_bug_evaluate_rules_with_non_list_rules(rules, data_report):
    """BUG: evaluate_rules iterates ``rules`` before parse_rules can reject/wrap it.

    parse_rules(5) raises ValueError and parse_rules(AlertRule(...)) wraps it, but
    evaluate_rules(5, ...) and evaluate_rules(AlertRule(...), ...) raise TypeError ("not iterable").
    """
    try:
        ev = evaluate_rules(rules, {"t": data_report}, dag_id=DAG)
    except ValueError:
        assert not isinstance(rules, AlertRule), "a single AlertRule is valid for parse_rules"
        return
    assert isinstance(rules, AlertRule)
    check_invariants(ev)
    assert ev["summary"]["fired"] == 1


def test_bug_alertrule_with_string_channels_is_split_into_characters(data_report):
    """BUG: from_value turns channels="slack" into ("slack",), the dataclass path does not."""
    r = AlertRule("r", "summary.share_drifted", "gt", 0.3, channels="slack")
    ev = _evaluate([r], {"t": data_report})
    assert ev["fired"][0]["channels"] == ["slack"]


def test_bug_pre_validated_rules_skip_validation_in_evaluate_rules(data_report):
    """BUG: evaluate_rules trusts any AlertRule whose ``path`` is set: no duplicate check, stale paths."""
    good = AlertRule("r", "summary.share_drifted", "gt", 0.3).validated()
    with pytest.raises(ValueError, match="unique"):
        evaluate_rules([good, good], {"t": data_report}, dag_id=DAG)


def test_bug_replaced_metric_keeps_the_old_selector_path(data_report):
    """BUG: dataclasses.replace(validated_rule, metric=...) keeps ``path``; the OLD selector is evaluated."""
    moved = dataclasses.replace(AlertRule("r", "summary.share_drifted", "gt", 0.3).validated(), metric="summary.nope")
    ev = _evaluate([moved], {"t": data_report})
    assert ev["summary"]["fired"] == 0
    assert ev["errors"] and "matched nothing" in ev["errors"][0]["error"]


# --------------------------------------------------------------------------- selectors


@pytest.mark.parametrize(
    ("selector", "parts"),
    [
        ("summary.share_drifted", ["summary", "share_drifted"]),
        ("columns.*.methods.psi.statistic", ["columns", "*", "methods", "psi", "statistic"]),
        ('columns["a.b"].drifted', ["columns", "\x00a.b", "drifted"]),
        ("columns['a.b'].drifted", ["columns", "\x00a.b", "drifted"]),
        ('columns.["a.b"].drifted', ["columns", "\x00a.b", "drifted"]),
        ('columns["*"].drifted', ["columns", "\x00*", "drifted"]),
        ('columns["a\\"b"]', ["columns", '\x00a"b']),
        ("columns['it\\'s']", ["columns", "\x00it's"]),
        ('c["x"]["y"][0]', ["c", "\x00x", "\x00y", "0"]),
        ("bin_edges[3]", ["bin_edges", "3"]),
        ("bin_edges.3", ["bin_edges", "3"]),
        ('columns[ "a" ]', ["columns", "\x00a"]),
        ("columns . a . drifted", ["columns", "a", "drifted"]),
        ("a*", ["a*"]),
        ("température.列", ["température", "列"]),
    ],
)
def test_parse_selector(selector, parts):
    assert parse_selector(selector) == parts


def _segments() -> st.SearchStrategy[tuple[str, str]]:
    """(kind, key): kind "*" (wildcard), "idx", "bare", "dq" or "sq"."""
    key = st.text(st.characters(codec="utf-8"), max_size=6)
    return st.one_of(
        st.just(("*", "*")),
        st.integers(0, 30).map(lambda i: ("idx", str(i))),
        key.map(lambda k: ("dq", k)),
        key.map(lambda k: ("sq", k)),
        st.text(
            st.characters(codec="utf-8", exclude_characters=".[]\x00", exclude_categories=("Z", "Cc")),
            min_size=1,
            max_size=6,
        )
        .filter(lambda k: k != "*")
        .map(lambda k: ("bare", k)),
    )


def _render(segments: list[tuple[str, str]]) -> tuple[str, list[str]]:
    text, parts = "", []
    for kind, key in segments:
        if kind in ("*", "bare"):
            text += ("." if text else "") + key
            parts.append(key)
        elif kind == "idx":
            text += f"[{key}]" if text else key
            parts.append(key)
        else:
            text += quote(key, '"' if kind == "dq" else "'")
            parts.append("\x00" + key)
    return text, parts


@PROPERTY_SETTINGS
@given(st.lists(_segments(), min_size=1, max_size=6))
def test_property_selector_round_trip(segments):
    text, parts = _render(segments)
    assert parse_selector(text) == parts


# --------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("op", "fires"),
    [("gt", False), ("gte", True), ("lt", False), ("lte", True), ("eq", True), ("ne", False)],
)
def test_operator_boundaries_at_equality_on_share_drifted(data_report, op, fires):
    ev = _evaluate([rule(op=op, threshold=0.5)], {"drift": data_report})
    assert ev["summary"]["fired"] == int(fires)
    assert ev["summary"]["passed"] == int(not fires)
    assert ev["summary"]["evaluated_instances"] == 1
    assert not ev["errors"] and not ev["unknown"]
    item = (ev["fired"] or ev["passed"])[0]
    assert item["value"] == 0.5
    assert item["instance"] == "summary.share_drifted"
    assert item["column"] is None
    assert item["task_id"] == "drift"


@pytest.mark.parametrize(
    ("op", "below", "above"),
    # threshold just below / just above the value 0.5 -> does the rule fire?
    [("gt", True, False), ("gte", True, False), ("lt", False, True), ("lte", False, True), ("ne", True, True)],
)
def test_operator_either_side_of_the_value(data_report, op, below, above):
    eps = 1e-9
    lo = _evaluate([rule(op=op, threshold=0.5 - eps)], {"t": data_report})
    hi = _evaluate([rule(op=op, threshold=0.5 + eps)], {"t": data_report})
    assert lo["summary"]["fired"] == int(below)
    assert hi["summary"]["fired"] == int(above)


def test_symbolic_aliases_behave_like_their_names(data_report):
    sym = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "==": "eq", "!=": "ne"}
    for alias, name in sym.items():
        a = _evaluate([rule(op=alias, threshold=0.5)], {"t": data_report})
        b = _evaluate([rule(op=name, threshold=0.5)], {"t": data_report})
        assert a["summary"] == b["summary"]
        assert [f["op"] for f in a["fired"]] == [name] * a["summary"]["fired"]


def test_fired_entry_is_complete(data_report):
    ev = _evaluate(
        [rule(name="share", op=">=", threshold=0.5, severity="critical", channels=["pager"])],
        {"detect": data_report},
    )
    assert ev["fired"] == [
        {
            "rule": "share",
            "task_id": "detect",
            "instance": "summary.share_drifted",
            "column": None,
            "metric": "summary.share_drifted",
            "value": 0.5,
            "op": "gte",
            "threshold": 0.5,
            "severity": "critical",
            "channels": ["pager"],
            "message": "share: summary.share_drifted = 0.5 >= 0.5",
            "fingerprint": fingerprint(DAG, "share", "detect", "summary.share_drifted"),
        }
    ]
    assert ev["summary"] == {
        "fired": 1,
        "passed": 0,
        "unknown": 0,
        "errors": 0,
        "fired_rules": ["share"],
        "max_severity": "critical",
        "evaluated_instances": 1,
    }
    assert ev["rules"][0]["op"] == "gte"
    assert ev["dag_id"] == DAG


def test_bool_eq_true_on_every_column(data_report):
    ev = _evaluate([rule(name="drifted", metric="columns.*.drifted", op="eq", threshold=True)], {"t": data_report})
    assert sorted(f["column"] for f in ev["fired"]) == ["cat_shift", "shifted"]
    assert sorted(p["column"] for p in ev["passed"]) == ["cat", "stable"]
    assert [(u["column"], u["value"]) for u in ev["unknown"]] == [("gone", None)]
    assert not ev["errors"]
    for f in ev["fired"]:
        assert f["value"] is True and f["instance"] == f["column"]
    assert ev["summary"]["evaluated_instances"] == 5


def test_bool_ne_true_and_eq_false(data_report):
    ne = _evaluate([rule(metric="columns.*.drifted", op="ne", threshold=True)], {"t": data_report})
    eq_false = _evaluate([rule(metric="columns.*.drifted", op="==", threshold=False)], {"t": data_report})
    assert sorted(f["column"] for f in ne["fired"]) == ["cat", "stable"]
    assert sorted(f["column"] for f in eq_false["fired"]) == ["cat", "stable"]
    # null stays unknown: never "not equal to True"
    assert [u["column"] for u in ne["unknown"]] == ["gone"]
    assert [u["column"] for u in eq_false["unknown"]] == ["gone"]


def test_string_eq_on_column_status(data_report):
    ev = _evaluate([rule(metric="columns.*.status", op="ne", threshold="ok")], {"t": data_report})
    assert [(f["column"], f["value"]) for f in ev["fired"]] == [("gone", "all_null")]
    assert ev["summary"]["passed"] == 4


def test_wildcard_yields_one_instance_per_column_with_the_right_value(data_report):
    ev = _evaluate([rule(metric="columns.*.methods.psi.statistic", op="gt", threshold=0.2)], {"t": data_report})
    cols = data_report["columns"]
    psi = {c: r["methods"]["psi"]["statistic"] for c, r in cols.items() if "psi" in r["methods"]}
    assert set(psi) == {"shifted", "stable", "cat", "cat_shift"}  # "gone" has no methods: no instance
    fired = by_column(ev["fired"])
    passed = by_column(ev["passed"])
    assert set(fired) == {c for c, v in psi.items() if v > 0.2} == {"shifted", "cat_shift"}
    assert set(passed) == {"stable", "cat"}
    for c, item in {**fired, **passed}.items():
        assert item["value"] == psi[c]
        assert item["instance"] == c
    assert fired["shifted"]["message"] == f"r: shifted = {psi['shifted']} > 0.2"


def test_double_wildcard_instances_and_column(data_report):
    ev = _evaluate([rule(metric="columns.*.methods.*.drifted", op="eq", threshold=True)], {"t": data_report})
    expected = {
        f"{c}/{m}": r["drifted"]
        for c, col in data_report["columns"].items()
        for m, r in col["methods"].items()
        if r["drifted"] is not None
    }
    seen = {f["instance"]: True for f in ev["fired"]} | {p["instance"]: p["value"] for p in ev["passed"]}
    assert seen == expected
    for f in ev["fired"]:
        assert f["column"] == f["instance"].split("/")[0]


def test_list_index_and_list_wildcard(data_report):
    edges = data_report["columns"]["shifted"]["bin_edges"]
    for metric in ("columns.shifted.bin_edges.0", "columns.shifted.bin_edges[0]", 'columns["shifted"].bin_edges[0]'):
        ev = _evaluate([rule(metric=metric, op="eq", threshold=edges[0])], {"t": data_report})
        assert ev["summary"]["fired"] == 1 and ev["fired"][0]["column"] == "shifted"
    ev = _evaluate([rule(metric="columns.shifted.bin_edges.*", op="gte", threshold=edges[5])], {"t": data_report})
    assert [f["instance"] for f in ev["fired"]] == [str(i) for i in range(5, len(edges))]
    assert ev["summary"]["evaluated_instances"] == len(edges)
    assert {f["column"] for f in ev["fired"]} == {"shifted"}
    out_of_range = _evaluate([rule(metric=f"columns.shifted.bin_edges.{len(edges)}")], {"t": data_report})
    assert out_of_range["summary"]["errors"] == 1 and "matched nothing" in out_of_range["errors"][0]["error"]


def test_bug_unicode_digit_segment_on_a_list_crashes():
    """BUG: `key.isdigit()` is true for "²" but int("²") raises; a list lookup should just match nothing."""
    ev = _evaluate([rule(metric="xs.²", threshold=0)], {"t": {"xs": [1, 2, 3]}})
    assert ev["summary"]["errors"] == 1


# --------------------------------------------------------------------------- model reports


def test_model_relative_change(model_report):
    rel = model_report["metrics"]["f1"]["relative_change"]
    ev = _evaluate(
        [rule(name="f1_drop", metric="metrics.f1.relative_change", op="lt", threshold=-0.1, severity="critical")],
        {"model": model_report},
    )
    (f,) = ev["fired"]
    assert f["value"] == rel and f["column"] is None and f["instance"] == "metrics.f1.relative_change"
    assert ev["summary"]["max_severity"] == "critical"
    # the same rule with a looser threshold does not fire
    ok = _evaluate([rule(metric="metrics.f1.relative_change", op="lt", threshold=rel)], {"model": model_report})
    assert ok["summary"]["fired"] == 0 and ok["summary"]["passed"] == 1


def test_model_wildcard_over_metrics(model_report):
    ev = _evaluate([rule(metric="metrics.*.relative_change", op="lt", threshold=-0.1)], {"m": model_report})
    assert sorted(f["instance"] for f in ev["fired"]) == ["accuracy", "f1"]
    assert sorted(u["instance"] for u in ev["unknown"]) == ["precision", "recall"]  # no baseline -> null
    assert all(i["column"] is None for i in ev["fired"] + ev["unknown"])
    degraded = _evaluate([rule(metric="summary.model_drift", op="eq", threshold=True)], {"m": model_report})
    assert degraded["summary"]["fired"] == 1


# --------------------------------------------------------------------------- several reports


def test_rule_without_task_id_runs_on_every_report(data_report, other_data_report):
    ev = _evaluate(
        [rule(metric="columns.*.drifted", op="eq", threshold=True)],
        {"detect_a": data_report, "detect_b": other_data_report},
    )
    got = sorted((f["task_id"], f["column"]) for f in ev["fired"])
    assert got == [
        ("detect_a", "cat_shift"),
        ("detect_a", "shifted"),
        ("detect_b", "gone"),
        ("detect_b", "shifted"),
        ("detect_b", "stable"),
    ]
    fps = [f["fingerprint"] for f in ev["fired"]]
    assert len(set(fps)) == len(fps)  # same column in two tasks -> two alerts


def test_task_id_targets_one_report(data_report, other_data_report, model_report):
    reports = {"a": data_report, "b": other_data_report, "model": model_report}
    ev = _evaluate(
        [
            rule(name="a_drift", metric="columns.*.drifted", op="eq", threshold=True, task_id="a"),
            rule(name="f1", metric="metrics.f1.relative_change", op="lt", threshold=-0.1, task_id="model"),
        ],
        reports,
    )
    assert sorted((f["rule"], f["task_id"], f["column"]) for f in ev["fired"]) == [
        ("a_drift", "a", "cat_shift"),
        ("a_drift", "a", "shifted"),
        ("f1", "model", None),
    ]
    assert not ev["errors"]


def test_missing_report_for_task_id_is_an_error(data_report):
    ev = _evaluate([rule(task_id="not_there", op="gte", threshold=0)], {"detect": data_report})
    assert ev["summary"]["fired"] == 0 and ev["summary"]["evaluated_instances"] == 0
    assert ev["errors"] == [{"rule": "r", "task_id": "not_there", "error": "no report from this task"}]


def test_none_report_is_treated_as_missing(data_report):
    ev = _evaluate([rule(op="gte", threshold=0)], {"a": data_report, "b": None})
    assert ev["summary"]["fired"] == 1
    assert ev["errors"] == [{"rule": "r", "task_id": "b", "error": "no report from this task"}]


def test_selector_matching_only_some_reports_is_not_an_error(data_report, model_report):
    ev = _evaluate(
        [rule(metric="metrics.f1.relative_change", op="lt", threshold=0)], {"d": data_report, "m": model_report}
    )
    assert ev["summary"]["fired"] == 1 and ev["summary"]["errors"] == 0


def test_no_reports_at_all_is_an_error(data_report):
    ev = _evaluate([rule()], {})
    assert ev["summary"]["errors"] == 1 and "matched nothing" in ev["errors"][0]["error"]


# --------------------------------------------------------------------------- errors (never silently OK)


@pytest.mark.parametrize(
    "metric",
    [
        "summary.share_drift",  # typo
        "columns.nope.drifted",
        "columns.*.methods.ks.nope",
        "metrics.f1.relative_change",  # a model selector on a data report
        "columns.shifted.drifted.deeper",  # through a scalar
        "columns.a.b.drifted",  # "a.b" needs brackets
    ],
)
def test_selector_matching_nothing_is_an_error(data_report, metric):
    ev = _evaluate([rule(metric=metric, op="eq", threshold=True)], {"t": data_report})
    assert ev["summary"]["evaluated_instances"] == 0
    assert ev["errors"] == [{"rule": "r", "task_id": None, "error": f"{metric!r} matched nothing"}]
    assert ev["summary"]["max_severity"] is None


def test_wildcard_over_empty_columns_is_an_error(data_report):
    empty = copy.deepcopy(data_report)
    empty["columns"] = {}
    ev = _evaluate([rule(metric="columns.*.drifted", op="eq", threshold=True, task_id="t")], {"t": empty})
    assert ev["summary"]["errors"] == 1 and ev["summary"]["passed"] == 0
    assert ev["errors"][0]["task_id"] == "t"


def test_selecting_a_dict_or_a_list_is_an_error_per_instance(data_report):
    ev = _evaluate(
        [
            rule(name="dicts", metric="columns.*.methods", op="gt", threshold=0),
            rule(name="list", metric="summary.drifted_columns", op="eq", threshold="shifted"),
        ],
        {"t": data_report},
    )
    errs = {(e["rule"], e.get("column")): e["error"] for e in ev["errors"]}
    assert set(errs) == {("dicts", c) for c in data_report["columns"]} | {("list", None)}
    assert errs[("dicts", "shifted")] == "columns.*.methods selects a dict, not a value"
    assert errs[("list", None)] == "summary.drifted_columns selects a list, not a value"
    assert ev["summary"]["fired"] == ev["summary"]["passed"] == 0


def test_non_comparable_values_are_errors(data_report):
    ev = _evaluate([rule(metric="columns.*.status", op="gt", threshold=0.5)], {"t": data_report})
    assert ev["summary"]["errors"] == 5 and ev["summary"]["fired"] == 0 and ev["summary"]["passed"] == 0
    assert ev["errors"][0]["error"] == "cannot compare 'ok' > 0.5"
    assert by_column(ev["errors"]).keys() == data_report["columns"].keys()


def test_nan_and_infinite_values_are_unknown():
    report = {"a": float("nan"), "b": float("inf"), "c": -float("inf"), "d": None, "e": 1.0}
    ev = _evaluate([rule(metric="*", op="gt", threshold=0)], {"t": report})
    assert sorted(u["instance"] for u in ev["unknown"]) == ["a", "b", "c", "d"]
    assert all(u["value"] is None for u in ev["unknown"])
    assert [f["instance"] for f in ev["fired"]] == ["e"]


# --------------------------------------------------------------------------- messages


def test_message_template_placeholders(data_report):
    template = "[{severity}] {dag_id}/{task_id} {rule}: {column} value={value} {op} {threshold}"
    ev = _evaluate(
        [rule(name="psi", metric="columns.*.methods.psi.statistic", threshold=0.2, message=template)],
        {"detect": data_report},
    )
    psi = data_report["columns"]["shifted"]["methods"]["psi"]["statistic"]
    assert by_column(ev["fired"])["shifted"]["message"] == (f"[warning] {DAG}/detect psi: shifted value={psi} > 0.2")


def test_message_unknown_placeholders_are_left_as_is(data_report):
    ev = _evaluate(
        [rule(op="gte", threshold=0.5, message="{rule} {nope} {run_id} {{x}} {value:.2f}")], {"t": data_report}
    )
    assert ev["fired"][0]["message"] == "r {nope} {run_id} {x} 0.50"


def test_message_column_falls_back_to_the_instance(data_report, model_report):
    ev = _evaluate([rule(op="gte", threshold=0.5, message="{column}")], {"t": data_report})
    assert ev["fired"][0]["message"] == "summary.share_drifted"
    ev = _evaluate([rule(metric="metrics.*.change", op="lt", threshold=0, message="{column}")], {"m": model_report})
    assert sorted(f["message"] for f in ev["fired"]) == ["accuracy", "f1"]


@pytest.mark.parametrize("template", ["{0}", "{", "}", "{value.nope}", "{value!z}", "{rule:d}"])
def test_broken_template_falls_back_to_the_default_message(data_report, template):
    ev = _evaluate([rule(op="gte", threshold=0.5, message=template)], {"t": data_report})
    assert ev["fired"][0]["message"] == "r: summary.share_drifted = 0.5 >= 0.5"


@pytest.mark.parametrize(
    ("template", "threshold"),
    [("{value[0]}", 0), ("{nope[x]}", 0), ("{threshold:>5}", None)],
)
def test_bug_message_template_can_crash_evaluation(template, threshold):
    """BUG: only ValueError/IndexError/AttributeError are caught around format_map; TypeError escapes.

    "{value[0]}" (subscripting a number), "{nope[x]}" (the "{nope}" stand-in indexed by a string),
    "{threshold:>5}" with threshold None (ne None) all raise TypeError out of evaluate_rules.
    """
    op = "ne" if threshold is None else "gt"
    ev = _evaluate([rule(metric="x", op=op, threshold=threshold, message=template)], {"t": {"x": 1}})
    assert ev["summary"]["fired"] == 1
    assert isinstance(ev["fired"][0]["message"], str)


def test_placeholders_inside_data_are_not_expanded(hostile_report):
    ev = _evaluate(
        [rule(metric="columns.*.drifted", op="ne", threshold=None, message="{column} in {dag_id}")],
        {"t": hostile_report},
    )
    # "{dag_id}" is a column name: it must stay literal text
    assert by_column(ev["fired"])["{dag_id}"]["message"] == "{dag_id} in " + DAG


# --------------------------------------------------------------------------- hostile column names


def test_hostile_names_flow_through_wildcards_as_data(hostile_report):
    ev = _evaluate([rule(metric="columns.*.drifted", op="eq", threshold=True)], {"t": hostile_report})
    drifted = [n for i, n in enumerate(HOSTILE_NAMES) if i % 2]
    assert [f["column"] for f in ev["fired"]] == drifted
    assert [f["instance"] for f in ev["fired"]] == drifted
    for f in ev["fired"]:
        assert f["message"] == f"r: {f['column']} = True == True"
    assert sorted(p["column"] for p in ev["passed"]) == sorted(n for i, n in enumerate(HOSTILE_NAMES) if i % 2 == 0)
    assert json.loads(json.dumps(ev, allow_nan=False))["fired"][0]["column"] == drifted[0]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
@pytest.mark.parametrize("q", ['"', "'"])
def test_every_hostile_name_is_selectable_with_brackets(hostile_report, name, q):
    metric = "columns" + quote(name, q) + ".drifted"
    ev = _evaluate([rule(metric=metric, op="eq", threshold=True)], {"t": hostile_report})
    assert ev["summary"]["evaluated_instances"] == 1 and not ev["errors"]
    (item,) = ev["fired"] + ev["passed"]
    assert item["column"] == name
    assert item["value"] is hostile_report["columns"][name]["drifted"]
    assert item["instance"] == metric


def test_quoted_star_is_a_literal_key_not_a_wildcard(hostile_report):
    literal = _evaluate([rule(metric='columns["*"].drifted', op="ne", threshold=None)], {"t": hostile_report})
    assert [i["column"] for i in literal["fired"]] == ["*"]
    wild = _evaluate([rule(metric="columns.*.drifted", op="ne", threshold=None)], {"t": hostile_report})
    assert wild["summary"]["fired"] == len(HOSTILE_NAMES)


def test_unicode_names_work_bare_and_dotted_or_padded_names_do_not(hostile_report):
    ev = _evaluate([rule(metric="columns.température.drifted", op="ne", threshold=None)], {"t": hostile_report})
    assert ev["fired"][0]["column"] == "température"
    ev = _evaluate([rule(metric="columns.列.drifted", op="ne", threshold=None)], {"t": hostile_report})
    assert ev["fired"][0]["column"] == "列"
    # bare segments are stripped: " padded " needs brackets
    ev = _evaluate([rule(metric="columns. padded .drifted", op="ne", threshold=None)], {"t": hostile_report})
    assert ev["summary"]["errors"] == 1


def test_fingerprints_of_hostile_columns_are_distinct_and_stable(hostile_report):
    rules = [rule(metric="columns.*.drifted", op="ne", threshold=None)]
    a = _evaluate(rules, {"t": hostile_report})
    b = _evaluate(rules, {"t": copy.deepcopy(hostile_report)})
    fps = [f["fingerprint"] for f in a["fired"]]
    assert len(set(fps)) == len(HOSTILE_NAMES)
    assert fps == [f["fingerprint"] for f in b["fired"]]


def test_bug_instance_ids_collide_when_keys_contain_a_slash():
    """BUG: instances are "/".join(matched keys), so ("a/b", "c") and ("a", "b/c") share instance and fingerprint."""
    ev = _evaluate([rule(metric="*.*", threshold=0)], {"t": {"a/b": {"c": 1}, "a": {"b/c": 2}}})
    assert ev["summary"]["fired"] == 2
    assert len({f["fingerprint"] for f in ev["fired"]}) == 2


# --------------------------------------------------------------------------- fingerprints


def test_fingerprint_is_deterministic_and_short():
    fp = fingerprint("dag", "rule", "task", "col")
    assert fp == fingerprint("dag", "rule", "task", "col")
    assert re.fullmatch(r"[0-9a-f]{24}", fp)


@pytest.mark.parametrize(
    "other",
    [
        ("dag2", "rule", "task", "col"),
        ("dag", "rule2", "task", "col"),
        ("dag", "rule", "task2", "col"),
        ("dag", "rule", "task", "col2"),
        ("dagrule", "", "task", "col"),
        ("dag", "rule", "taskcol", ""),
    ],
)
def test_fingerprint_changes_with_each_component(other):
    assert fingerprint(*other) != fingerprint("dag", "rule", "task", "col")


def test_fingerprint_stable_across_runs_and_values(data_report, other_data_report):
    """Two runs with different data and values: the same column keeps its fingerprint."""
    rules = [rule(name="psi", metric="columns.*.methods.psi.statistic", op="gte", threshold=0)]
    run1 = by_column(_evaluate(rules, {"detect": data_report})["fired"])
    run2 = by_column(_evaluate(rules, {"detect": other_data_report})["fired"])
    assert run1["shifted"]["value"] != run2["shifted"]["value"]
    for col in ("shifted", "stable"):
        assert run1[col]["fingerprint"] == run2[col]["fingerprint"]
        assert run1[col]["fingerprint"] == fingerprint(DAG, "psi", "detect", col)
    # threshold and severity are not part of it either
    stricter = [rule(name="psi", metric="columns.*.methods.psi.statistic", op="gt", threshold=1, severity="critical")]
    assert (
        by_column(_evaluate(stricter, {"detect": data_report})["fired"])["shifted"]["fingerprint"]
        == (run1["shifted"]["fingerprint"])
    )


def test_fingerprint_differs_by_dag_rule_task_and_instance(data_report):
    def fp(dag_id="d", name="psi", task="t", col="shifted"):
        ev = _evaluate(
            [rule(name=name, metric="columns.*.methods.psi.statistic", op="gte", threshold=0)],
            {task: data_report},
            dag_id=dag_id,
        )
        return by_column(ev["fired"])[col]["fingerprint"]

    base = fp()
    assert len({base, fp(dag_id="d2"), fp(name="psi2"), fp(task="t2"), fp(col="stable")}) == 5


# --------------------------------------------------------------------------- JSON safety and scale


def test_evaluation_is_json_safe_with_hostile_values():
    report = {
        "columns": {
            "n": {"v": float("nan")},
            "big": {"v": 10**30},
            "s": {"v": "<b>x</b>\u0000\u2028"},
            "b": {"v": False},
            "neg": {"v": -0.0},
        }
    }
    ev = _evaluate(
        [
            rule(name="num", metric="columns.*.v", op="ne", threshold=1),
            rule(name="gt", metric="columns.*.v", op="gt", threshold=0.5),
        ],
        {"t": report},
    )
    num = {f["column"]: f["value"] for f in ev["fired"] if f["rule"] == "num"}
    assert num == {"big": 10**30, "s": "<b>x</b>\u0000\u2028", "b": False, "neg": -0.0}
    assert {u["column"] for u in ev["unknown"]} == {"n"}
    assert {e["column"] for e in ev["errors"]} == {"s"}  # str > float


def test_large_report_is_fast_and_passed_is_capped(wide_report):
    rules = [
        rule(name="psi", metric="columns.*.methods.psi.statistic", op="gt", threshold=0.2),
        rule(name="drifted", metric="columns.*.drifted", op="eq", threshold=True, severity="critical"),
        rule(name="js", metric="columns.*.methods.jensenshannon.statistic", op="gte", threshold=1e9),
    ]
    started = time.perf_counter()
    ev = evaluate_rules(rules, {"detect": wide_report}, dag_id=DAG)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, elapsed
    check_invariants(ev)
    cols = wide_report["columns"]
    psi_hits = sum(1 for c in cols.values() if c["methods"]["psi"]["statistic"] > 0.2)
    drift_hits = sum(1 for c in cols.values() if c["drifted"] is True)
    assert drift_hits >= 40
    s = ev["summary"]
    assert s["evaluated_instances"] == 1500
    assert s["fired"] == psi_hits + drift_hits  # fired is never capped
    assert s["passed"] == 1500 - psi_hits - drift_hits
    assert len(ev["passed"]) == MAX_LISTED < s["passed"]
    assert s["max_severity"] == "critical"
    assert len({f["fingerprint"] for f in ev["fired"]}) == s["fired"]
    assert len(json.dumps(ev, allow_nan=False)) < 2_000_000


# --------------------------------------------------------------------------- property-based

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)
KEYS = st.one_of(
    st.sampled_from(["a", "b", "columns", "drifted", "0", "1", "x.y", "*", " s", "a/b"]), st.text(max_size=4)
)
REPORTS = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)


def _oracle(doc: Any, segments: list[tuple[str, str]]) -> list[Any]:
    """Independent resolution of a rendered selector: the values it should reach."""
    nodes = [doc]
    for kind, key in segments:
        nxt = []
        for node in nodes:
            if kind == "*":
                nxt.extend(node.values() if isinstance(node, dict) else node if isinstance(node, list) else [])
            elif isinstance(node, dict):
                if key in node:
                    nxt.append(node[key])
            elif isinstance(node, list) and re.fullmatch(r"[0-9]+", key) and int(key) < len(node):
                nxt.append(node[int(key)])
        nodes = nxt
    return nodes


@st.composite
def _selector_for(draw, report: Any) -> list[tuple[str, str]]:
    """Segments that often follow real keys of ``report`` (and sometimes do not)."""
    segments: list[tuple[str, str]] = []
    node = report
    for _ in range(draw(st.integers(1, 4))):
        choices: list[tuple[str, str]] = [("*", "*")]
        if isinstance(node, dict) and node:
            k = draw(st.sampled_from(sorted(node)))
            choices.append(("dq", k))
            if k and k == k.strip() and not set(k) & set(".[]") and k != "*" and not k.startswith("\x00"):
                choices.append(("bare", k))
        if isinstance(node, list) and node:
            choices.append(("idx", str(draw(st.integers(0, len(node))))))
        seg = draw(_segments()) if draw(st.sampled_from(range(6))) == 5 else draw(st.sampled_from(choices))
        segments.append(seg)
        if seg[0] == "*":
            vals = list(node.values()) if isinstance(node, dict) else node if isinstance(node, list) else []
            node = vals[0] if vals else None
        elif isinstance(node, dict):
            node = node.get(seg[1])
        elif isinstance(node, list) and seg[1].isascii() and seg[1].isdigit() and int(seg[1]) < len(node):
            node = node[int(seg[1])]
        else:
            node = None
    return segments


THRESHOLDS = {
    "ordering": st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False)),
    "equality": st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 5),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=3),
    ),
}


@PROPERTY_SETTINGS
@given(data=st.data())
def test_property_random_reports_and_selectors(data):
    report = st.one_of(st.dictionaries(KEYS, REPORTS, min_size=1, max_size=4), REPORTS)
    reports = data.draw(st.dictionaries(st.sampled_from(["t1", "t2", "t3"]), report, min_size=1, max_size=3))
    if data.draw(st.sampled_from(range(10))) == 9:  # (integers() would favour 0)
        reports[next(iter(reports))] = None  # a task that pushed no report
    task_id = data.draw(st.sampled_from([None, None, *sorted(reports), *sorted(reports), "absent"]))
    anchor = reports[task_id] if task_id in reports else next(iter(reports.values()))
    segments = data.draw(_selector_for(anchor))
    metric, _ = _render(segments)
    targets = [task_id] if task_id else list(reports)
    missing = [t for t in targets if reports.get(t) is None]  # absent task or a null report
    expected = {t: _oracle(reports[t], segments) for t in targets if t not in missing}
    values = [v for vs in expected.values() for v in vs]

    op = data.draw(st.sampled_from([*sorted(PY_OPS), ">", "<=", "!="]))
    canon = parse_rules([rule(op=op, metric=metric)])[0].op
    ordering = canon in ("gt", "gte", "lt", "lte")
    finite_number = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    # thresholds equal to a reached value exercise the boundaries
    candidates = finite_number if ordering else finite_number + [v for v in values if isinstance(v, bool | str)]
    strategy = THRESHOLDS["ordering" if ordering else "equality"]
    threshold = data.draw(st.one_of(strategy, st.sampled_from(candidates)) if candidates else strategy)
    severity = data.draw(st.sampled_from(SEVERITIES))
    r = rule(name="p", metric=metric, op=op, threshold=threshold, severity=severity, task_id=task_id)

    ev = _evaluate([r], reports, dag_id="prop")  # valid rule: must never raise

    instance_errors = [e for e in ev["errors"] if "instance" in e]
    rule_errors = [e for e in ev["errors"] if "instance" not in e]
    assert ev["summary"]["evaluated_instances"] + len(instance_errors) == len(values)
    n_null = sum(1 for v in values if v is None or (isinstance(v, float) and not math.isfinite(v)))
    assert ev["summary"]["unknown"] == n_null
    n_containers = sum(1 for v in values if isinstance(v, dict | list))
    assert sum(1 for e in instance_errors if "selects a" in e["error"]) == n_containers
    event("missing report" if missing else f"instances: {min(len(values), 3)}")
    event(f"fired: {min(ev['summary']['fired'], 2)}")
    if missing:
        assert rule_errors == [{"rule": "p", "task_id": t, "error": "no report from this task"} for t in missing]
    elif not values:
        assert rule_errors == [{"rule": "p", "task_id": task_id, "error": f"{metric!r} matched nothing"}]
    else:
        assert rule_errors == []
    for f in ev["fired"]:
        assert PY_OPS[canon](f["value"], f["threshold"])
        assert f["severity"] == severity and f["op"] == canon and f["metric"] == metric
    for p in ev["passed"]:
        assert not PY_OPS[canon](p["value"], threshold)


ANYTHING = st.one_of(
    JSON_SCALARS,
    st.integers(),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.tuples(st.text(max_size=3)),
)
FIELD_VALUES = {
    "name": st.one_of(st.text(max_size=4), ANYTHING),
    "metric": st.one_of(st.sampled_from(["summary.x", "columns.*.v", "*", 'c["a.b"]', "a..b"]), ANYTHING),
    "op": st.one_of(st.sampled_from(["gt", ">=", "lt", "lte", "==", "ne", "bogus"]), ANYTHING),
    "threshold": ANYTHING,
    "severity": st.one_of(st.sampled_from([*SEVERITIES, "nope"]), ANYTHING),
    "task_id": st.one_of(st.none(), st.sampled_from(["t", "u"]), ANYTHING),
    "channels": st.one_of(st.none(), st.just(["slack"]), st.just("slack"), ANYTHING),
    "message": st.one_of(st.none(), st.just("{rule} {column} {value} {nope}"), ANYTHING),
    "bogus_field": ANYTHING,
}


@st.composite
def _random_rule(draw) -> dict[str, Any]:
    out = {}
    for key, strategy in FIELD_VALUES.items():
        keep = draw(st.integers(0, 9))
        if (key == "bogus_field" and keep == 0) or (key != "bogus_field" and keep > 0):
            out[key] = draw(strategy)
    return out


FIXED_REPORTS = {
    "t": {"summary": {"x": 0.5}, "columns": {"a": {"v": 1}, "a.b": {"v": None}, "c": {"v": "s"}}},
    "u": {"summary": {"x": float("nan")}, "columns": {}},
}


@PROPERTY_SETTINGS
@given(st.lists(_random_rule(), max_size=3))
def test_property_random_rules_raise_only_valueerror_and_output_is_json_safe(rules):
    try:
        ev = evaluate_rules(rules, FIXED_REPORTS, dag_id="prop")
    except ValueError:
        return
    check_invariants(ev)
