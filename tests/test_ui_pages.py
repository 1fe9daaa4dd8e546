"""The drift dashboard's pure modules: ``ui/history.py`` (history JSON) and ``ui/pages.py`` (HTML).

No Airflow: the inputs are real reports of ``data_drift`` / ``model_drift`` (with hostile and
unicode column names), a real alert evaluation (``evaluate_rules``) and alert results shaped like
``DriftAlertOperator``'s, wrapped as the XCom records the FastAPI app passes to ``build_history``.
The pages are parsed with the standard library's ``html.parser``: hostile names must come out as
text, never as markup, attributes or scripts.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from airflow_drift_provider.alerts.channels import AlertContext, Channel
from airflow_drift_provider.alerts.delivery import MemoryStore, deliver
from airflow_drift_provider.alerts.rules import evaluate_rules
from airflow_drift_provider.drift import data_drift, model_drift
from airflow_drift_provider.report.html import _JS
from airflow_drift_provider.ui.history import (
    HISTORY_SCHEMA_VERSION,
    MAX_RATIO,
    build_history,
    drift_ratio,
    latest_status,
)
from airflow_drift_provider.ui.pages import (
    _PALETTE,
    MAX_CHART_SERIES,
    MAX_RUN_COLUMNS,
    _line_chart,
    render_dag_page,
    render_overview_page,
)
from tests.helpers import assert_plain_json

DAG = "drift_ui"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
QUOTE = "x' onmouseover='alert(2)"
UNI = "Größe 列"
HOSTILE = (SCRIPT, IMG, QUOTE, UNI)
RUN_IDS = (  # newest first
    "manual__2026-11-03T00:00:00+00:00",
    "scheduled__2026-11-02T00:00:00+00:00",
    "scheduled__2026-11-01T00:00:00+00:00",
)
SHIFTS = (1.5, 0.4, 0.0)  # per run, newest first
JSON_HREF = f"../../api/dags/{DAG}/history?limit=30"
DAG_HREF = "/dags/{dag_id}/plugin/drift"
REPORT_URI = "file:///tmp/drift/report.html"
# every attribute name the pages may legitimately produce; anything else is markup injected by data
_HTML_ATTRS = {"lang", "charset", "name", "content", "class", "href", "title", "target", "style", "data-v"}
_SVG_ATTRS = {"role", "viewbox", "width", "height", "xmlns", "fill", "stroke", "stroke-width", "stroke-dasharray"}
_SVG_POS_ATTRS = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "points", "font-size", "text-anchor", "transform"}
ALLOWED_ATTRS = frozenset(_HTML_ATTRS | _SVG_ATTRS | _SVG_POS_ATTRS)
NUMERIC_ATTRS = {"x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r"}


# --------------------------------------------------------------------------- engine inputs
def _frames(seed: int, shift: float, *, drop_uni: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 300
    sparse = np.full(n, np.nan)
    sparse[:2] = [1.0, 2.0]
    ref = pd.DataFrame(
        {
            SCRIPT: rng.normal(0, 1, n),
            IMG: rng.choice(["a", "b", "c"], n),
            QUOTE: rng.normal(0, 1, n),
            UNI: rng.normal(10, 2, n),
            "stable": rng.normal(0, 1, n),
            "sparse": sparse,
        }
    )
    p = [1 / 3, 1 / 3, 1 / 3] if shift == 0 else [0.6, 0.3, 0.1]
    cur = pd.DataFrame(
        {
            SCRIPT: rng.normal(shift, 1, n),
            IMG: rng.choice(["a", "b", "c"], n, p=p),
            QUOTE: rng.normal(shift / 2, 1, n),
            UNI: rng.normal(10, 2, n),
            "stable": rng.normal(0, 1, n),
            "sparse": sparse,
        }
    )
    if drop_uni:
        cur = cur.drop(columns=[UNI])
    return ref, cur


def _data_report(seed: int, shift: float, *, report_uri: str | None = None, **kw: Any) -> dict[str, Any]:
    ref, cur = _frames(seed, shift, drop_uni=kw.pop("drop_uni", False))
    report = data_drift(ref, cur, **kw)
    json.dumps(report, allow_nan=False)
    if report_uri:
        report["report_uri"] = report_uri
    return report


def _model_report(seed: int, noise: float, *, report_uri: str | None = None) -> dict[str, Any]:
    rng = np.random.default_rng(seed)

    def sample(flip: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y = rng.integers(0, 2, 400)
        score = np.clip(0.8 * y + 0.1 + rng.normal(0, flip, 400), 0, 1)
        return y, (score >= 0.5).astype(int), score

    y_ref, p_ref, s_ref = sample(0.15)
    y, p, s = sample(noise)
    report = model_drift(y, p, y_score=s, reference={"y_true": y_ref, "y_pred": p_ref, "y_score": s_ref})
    json.dumps(report, allow_nan=False)
    if report_uri:
        report["report_uri"] = report_uri
    return report


class FakeChannel(Channel):
    """A channel that records (or fails) without any network."""

    kind = "fake"

    def __init__(self, name: str, fail: bool = False) -> None:
        super().__init__(name, "none")
        self.fail = fail
        self.calls: list[list[str]] = []

    def send(self, alerts, ctx, *, resolved=False):
        if self.fail:
            raise ConnectionError("HTTP 503 <b>down</b>")
        self.calls.append([a["fingerprint"] for a in alerts])


RULES = [
    {
        "name": "psi_critical",
        "metric": "columns.*.methods.psi.statistic",
        "op": "gt",
        "threshold": 0.5,
        "severity": "critical",
    },
    {"name": "share_warning", "metric": "summary.share_drifted", "op": "gte", "threshold": 0.1, "severity": "warning"},
]


def _rec(run_id: str, task_id: str, value: Any, operator: str, *, key: str = "return_value", map_index: int = -1):
    return {
        "run_id": run_id,
        "task_id": task_id,
        "map_index": map_index,
        "key": key,
        "operator": operator,
        "value": value,
    }


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    """Three runs (newest first) of a DAG with data, mapped data, model, evaluation and alert tasks."""
    data = [
        _data_report(10, SHIFTS[0], report_uri=REPORT_URI),
        _data_report(11, SHIFTS[1], report_uri=REPORT_URI),
        _data_report(12, SHIFTS[2], drop_uni=True),  # oldest: no report file, one column missing
    ]
    model = [
        _model_report(20, 0.6, report_uri=REPORT_URI),
        _model_report(21, 0.3),
        _model_report(22, 0.15, report_uri=REPORT_URI),
    ]
    mapped = [_data_report(30, 1.0, report_uri=REPORT_URI), _data_report(31, 0.0)]
    evaluation = evaluate_rules(RULES, {"data_drift": data[0]}, dag_id=DAG)
    fired = evaluation["fired"]
    crit = [a for a in fired if a["rule"] == "psi_critical"]
    warn = [a for a in fired if a["rule"] == "share_warning"]
    assert crit and warn, fired
    fp1, fp2 = crit[0]["fingerprint"], warn[0]["fingerprint"]
    alert = {
        "sent": {"slack": [fp1], "email": [fp1, fp2]},
        "suppressed": {"pagerduty": [fp2]},
        "failed": {},
        "resolved": [],
        "errors": [],
        "fired": 2,
    }
    quiet = {"sent": {}, "suppressed": {}, "failed": {}, "resolved": ["0123abcd"], "errors": [], "fired": 0}
    runs = [
        {
            "run_id": rid,
            "logical_date": f"2026-11-0{3 - i}T00:00:00+00:00",
            "run_after": f"2026-11-0{3 - i}T00:05:00+00:00",
            "state": "success" if i else "failed",
        }
        for i, rid in enumerate(RUN_IDS)
    ]
    records = []
    for i, rid in enumerate(RUN_IDS):
        records.append(_rec(rid, "data_drift", data[i], "DataDriftOperator"))
        records.append(_rec(rid, "model_drift", model[i], "ModelDriftOperator"))
    records += [
        _rec(RUN_IDS[0], "mapped_drift", mapped[1], "DataDriftOperator", map_index=1),
        _rec(RUN_IDS[0], "mapped_drift", mapped[0], "DataDriftOperator", map_index=0),
        _rec(RUN_IDS[0], "check_rules", evaluation, "AlertRuleBranchOperator", key="evaluation"),
        _rec(RUN_IDS[0], "check_rules", "alert_task", "AlertRuleBranchOperator"),  # branch decision
        _rec(RUN_IDS[0], "alert", alert, "DriftAlertOperator"),
        _rec(RUN_IDS[1], "alert", quiet, "DriftAlertOperator"),
        # ignored: a run not asked for, a value that is not a report, a report under another key
        _rec("manual__1999-01-01T00:00:00+00:00", "data_drift", data[0], "DataDriftOperator"),
        _rec(RUN_IDS[2], "broken_drift", "not a report", "DataDriftOperator"),
        _rec(RUN_IDS[2], "other_key", data[0], "DataDriftOperator", key="profile"),
    ]
    history = build_history(DAG, runs, records)
    return {
        "runs": runs,
        "records": records,
        "data": data,
        "model": model,
        "mapped": mapped,
        "evaluation": evaluation,
        "alert": alert,
        "fp1": fp1,
        "fp2": fp2,
        "history": history,
    }


# --------------------------------------------------------------------------- html parsing
class Node:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], parent: Node | None) -> None:
        self.tag = tag
        self.attrs = {k: v or "" for k, v in attrs}
        self.parent = parent
        self.children: list[Node | str] = []

    @property
    def cls(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag and (cls is None or cls in n.cls)]

    def find(self, tag: str, cls: str | None = None) -> Node:
        found = self.find_all(tag, cls)
        assert found, f"no <{tag} class={cls!r}>"
        return found[0]

    def kids(self, tag: str) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node) and c.tag == tag]


class Dom(HTMLParser):
    VOID = frozenset({"meta", "link", "br", "img", "input", "hr", "source", "wbr", "area", "base", "col", "embed"})

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root
        self.starts: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.data: list[str] = []
        self.feed(document)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, attrs))
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in self.VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.starts.append((tag, attrs))
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.cur = node.parent

    def handle_data(self, data):
        self.data.append(data)
        self.cur.children.append(data)


def assert_safe_page(document: str) -> Dom:
    """Structure every dashboard page must have, whatever the data."""
    dom = Dom(document)
    assert dom.cur is dom.root, "unclosed elements"
    scripts = [a for t, a in dom.starts if t == "script"]
    assert len(scripts) == 1 and scripts[0] == []
    # the app adds its CSP nonce with document.replace("<script>", ...): data must never contain it
    assert document.count("<script") == 1
    assert document.lower().count("<script") == 1
    (script,) = dom.root.find_all("script")
    assert script.text() == _JS and script.parent.tag == "body"
    assert not [t for t, _ in dom.starts if t in ("img", "iframe", "object", "embed", "form", "input", "base", "link")]
    for tag, attrs in dom.starts:
        names = [k for k, _ in attrs]
        assert len(names) == len(set(names)), (tag, attrs)
        for k, v in attrs:
            assert not k.startswith("on"), f"event handler attribute on <{tag}>: {attrs}"
            assert k in ALLOWED_ATTRS, f"unexpected attribute {k!r} on <{tag}>: {attrs}"
            assert "javascript:" not in (v or "").lower()
            if k in NUMERIC_ATTRS:
                assert math.isfinite(float(v)), (tag, attrs)
            if k == "points":
                assert all(math.isfinite(float(c)) for p in v.split() for c in p.split(","))
    assert not re.search(r"\b(nan|inf|infinity)\b", " ".join(v or "" for _, a in dom.starts for _, v in a), re.I)
    return dom


def charts(dom: Dom) -> dict[str, Node]:
    out = {}
    for svg in dom.root.find_all("svg", "chart"):
        out[svg.kids("title")[0].text()] = svg
    return out


def legend_names(svg: Node) -> list[str]:
    siblings = [c for c in svg.parent.children if isinstance(c, Node)]
    legend = siblings[siblings.index(svg) + 1]
    assert legend.tag == "div" and "legend" in legend.cls
    return [s.text().removesuffix(" (dashed)") for s in legend.kids("span")]


def segments(values: list[float | None]) -> list[list[float]]:
    out, seg = [], []
    for v in [*values, None]:
        if v is None:
            if seg:
                out.append(seg)
            seg = []
        else:
            seg.append(v)
    return out


def check_series(svg: Node, series: Mapping[str, list[float | None]]) -> None:
    """One <circle> per non-None value (in the series' colour), one polyline per run of >= 2 values."""
    names = legend_names(svg)
    assert names == list(series)
    circles = svg.find_all("circle")
    polylines = svg.find_all("polyline")
    assert len(circles) == sum(v is not None for vs in series.values() for v in vs)
    for s, (name, values) in enumerate(series.items()):
        color = _PALETTE[s % len(_PALETTE)]
        mine = [c for c in circles if c.attrs["fill"] == color]
        assert len(mine) == sum(v is not None for v in values), name
        for c in mine:
            assert c.kids("title")[0].text().startswith(f"{name}: ")
        lines = [p for p in polylines if p.attrs["stroke"] == color]
        expected = [seg for seg in segments(values) if len(seg) > 1]
        assert [len(p.attrs["points"].split()) for p in lines] == [len(seg) for seg in expected], name
    assert len(polylines) == sum(len([g for g in segments(v) if len(g) > 1]) for v in series.values())


# --------------------------------------------------------------------------- drift_ratio
def _col(method: str, **result: Any) -> dict[str, Any]:
    return {"status": "ok", "drift_method": method, "methods": {method: result}}


@pytest.mark.parametrize(
    ("method", "stat", "threshold", "expected"),
    [
        ("psi", 0.3, 0.2, 1.5),
        ("psi", 0.2, 0.2, 1.0),
        ("wasserstein", 0.05, 0.1, 0.5),
        ("jensenshannon", 0.0, 0.1, 0.0),
        ("hellinger", 0.25, 0.1, 2.5),
        ("psi", 1e9, 0.2, MAX_RATIO),
    ],
)
def test_drift_ratio_distance_is_statistic_over_threshold(method, stat, threshold, expected):
    assert drift_ratio(_col(method, statistic=stat, threshold=threshold)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("method", ["ks", "chi2"])
def test_drift_ratio_p_value_is_log_ratio(method):
    t = 0.05
    # p == threshold is not drift (the tests flag p < threshold): just below 1
    assert drift_ratio(_col(method, statistic=0.3, p_value=t, threshold=t)) == pytest.approx(1.0)
    assert drift_ratio(_col(method, statistic=0.3, p_value=t, threshold=t)) < 1
    assert drift_ratio(_col(method, statistic=0.3, p_value=t**2, threshold=t)) == pytest.approx(2.0, rel=1e-12)
    assert drift_ratio(_col(method, statistic=0.3, p_value=t**0.5, threshold=t)) == pytest.approx(0.5, rel=1e-12)
    assert drift_ratio(_col(method, statistic=0.3, p_value=1.0, threshold=t)) == 0.0
    assert drift_ratio(_col(method, statistic=0.3, p_value=0.0, threshold=t)) == MAX_RATIO
    assert drift_ratio(_col(method, statistic=0.3, p_value=1e-300, threshold=t)) == MAX_RATIO
    # the p-value adjusted for multiple testing decides when present
    adjusted = _col(method, statistic=0.3, p_value=t**3, p_value_adjusted=t**2, threshold=t)
    assert drift_ratio(adjusted) == pytest.approx(2.0, rel=1e-12)
    assert drift_ratio(_col(method, p_value=0.01, p_value_adjusted=0.0, threshold=t)) == MAX_RATIO
    # the statistic of a p-value test is never used as the ratio
    assert drift_ratio(_col(method, statistic=0.99, p_value=0.5, threshold=t)) < 1


@pytest.mark.parametrize(
    "column",
    [
        {"status": "insufficient_data", "drifted": None, "drift_method": None, "methods": {}},
        {"status": "missing", "drifted": None, "drift_method": None, "methods": {}},
        {"status": "ok"},
        {"drift_method": "psi", "methods": {}},
        {"drift_method": "psi", "methods": {"ks": {"statistic": 0.5, "threshold": 0.1}}},
        _col("psi", statistic=None, threshold=0.2),
        _col("psi", statistic=float("nan"), threshold=0.2),
        _col("psi", statistic=0.3, threshold=None),
        _col("psi", statistic=True, threshold=0.2),
        _col("ks", statistic=0.3, p_value=None, threshold=0.05),
        _col("ks", statistic=0.3, p_value=float("nan"), threshold=0.05),
        _col("chi2", statistic=3.0, p_value="0.01", threshold=0.05),
    ],
)
def test_drift_ratio_is_none_when_not_decided(column):
    assert drift_ratio(column) is None


ENGINE_CASES = [
    pytest.param(
        seed, shift, kw, id=f"seed{seed}-shift{shift}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
    )
    for seed, shift, kw in [
        (1, 0.0, {}),
        (2, 0.15, {}),
        (3, 0.3, {}),
        (4, 1.0, {}),
        (5, 0.2, {"methods": ["psi"]}),
        (6, 0.2, {"methods": ["wasserstein"]}),
        (7, 0.2, {"methods": ["jensenshannon"]}),
        (8, 0.2, {"methods": ["hellinger"]}),
        (9, 0.25, {"methods": ["ks"]}),
        (10, 0.25, {"correction": "bonferroni"}),
        (11, 0.25, {"correction": "bh"}),
        (12, 0.2, {"thresholds": {"ks": 0.2, "psi": 0.05}}),
        (13, 0.3, {"drop_uni": True}),
    ]
]


@pytest.mark.parametrize(("seed", "shift", "kw"), ENGINE_CASES)
def test_drift_ratio_at_least_one_exactly_when_engine_says_drifted(seed, shift, kw):
    report = _data_report(seed, shift, **kw)
    decided = 0
    for name, col in report["columns"].items():
        ratio = drift_ratio(col)
        if col["drifted"] is None:
            assert ratio is None, name
            continue
        decided += 1
        assert ratio is not None, name
        assert 0 <= ratio <= MAX_RATIO
        assert (ratio >= 1) == col["drifted"], (name, ratio, col["drift_method"], col["methods"][col["drift_method"]])
        res = col["methods"][col["drift_method"]]
        if col["drift_method"] in ("ks", "chi2"):
            p = res.get("p_value_adjusted", res["p_value"])
            if kw.get("correction"):
                assert "p_value_adjusted" in res
            if p > 0:
                assert ratio == pytest.approx(min(MAX_RATIO, math.log(p) / math.log(res["threshold"])), rel=1e-12)
        else:
            assert ratio == pytest.approx(min(MAX_RATIO, res["statistic"] / res["threshold"]), rel=1e-12)
    assert decided >= 4
    assert drift_ratio(report["columns"]["sparse"]) is None
    if kw.get("drop_uni"):
        assert report["columns"][UNI]["status"] == "missing"
        assert drift_ratio(report["columns"][UNI]) is None


def test_drift_ratio_p_value_equal_to_threshold_agrees_with_engine():
    ref, cur = _frames(3, 0.3)
    first = data_drift(ref, cur, methods=["ks"])
    p = first["columns"][SCRIPT]["methods"]["ks"]["p_value"]
    assert 0 < p < 1
    col = data_drift(ref, cur, methods=["ks"], thresholds={"ks": p})["columns"][SCRIPT]
    assert col["drifted"] is False
    assert drift_ratio(col) < 1


def test_drift_ratio_zero_distance_threshold_is_decided():
    ref, cur = _frames(4, 0.5)
    col = data_drift(ref, cur, methods=["psi"], thresholds={"psi": 0})["columns"][SCRIPT]
    assert col["drifted"] is True
    ratio = drift_ratio(col)
    assert ratio is not None and ratio >= 1


# --------------------------------------------------------------------------- build_history
def test_history_runs_and_tasks(world):
    h = world["history"]
    assert h["schema_version"] == HISTORY_SCHEMA_VERSION
    assert h["dag_id"] == DAG
    assert [r["run_id"] for r in h["runs"]] == list(RUN_IDS)
    for run, src in zip(h["runs"], world["runs"], strict=True):
        assert (run["logical_date"], run["run_after"], run["state"]) == (
            src["logical_date"],
            src["run_after"],
            src["state"],
        )
    assert h["data_drift_tasks"] == ["data_drift", "mapped_drift"]
    assert h["model_drift_tasks"] == ["model_drift"]
    # newest run first: its report has every column, in report order
    assert h["columns"]["data_drift"] == list(world["data"][0]["columns"])
    assert set(h["columns"]["data_drift"]) == {*HOSTILE, "stable", "sparse"}
    assert h["columns"]["mapped_drift"] == list(world["mapped"][0]["columns"])
    assert h["metrics"]["model_drift"] == list(world["model"][0]["metrics"])
    assert {"accuracy", "f1", "roc_auc"} <= set(h["metrics"]["model_drift"])
    json.dumps(h, allow_nan=False)
    assert_plain_json(h, "history")


def test_history_data_entries_follow_reports(world):
    h = world["history"]
    for i, run in enumerate(h["runs"]):
        entries = [e for e in run["data_drift"] if e["task_id"] == "data_drift"]
        assert len(entries) == 1
        e, report = entries[0], world["data"][i]
        s = report["summary"]
        assert e["map_index"] == -1
        assert e["dataset_drift"] == s["dataset_drift"]
        assert e["share_drifted"] == s["share_drifted"]
        assert e["drift_share"] == s["drift_share"]
        assert e["n_drifted"] == s["n_drifted"]
        assert e["evaluated_columns"] == s["evaluated_columns"]
        assert e["drifted_columns"] == s["drifted_columns"]
        assert e["problem_columns"] == s["problem_columns"]
        assert e["rows"] == {"reference": 300, "current": 300}
        assert list(e["columns"]) == list(report["columns"])
        for name, c in e["columns"].items():
            src = report["columns"][name]
            assert c["status"] == src["status"]
            assert c["type"] == src["type"]
            assert c["drifted"] == src["drifted"]
            assert c["method"] == src["drift_method"]
            assert c["score"] == src["drift_score"]
            assert c["ratio"] == drift_ratio(src)
            if c["drifted"] is None:
                assert c["ratio"] is None
            else:
                assert (c["ratio"] >= 1) == c["drifted"]
        assert e["has_report"] is bool(report.get("report_uri"))
    newest, oldest = h["runs"][0]["data_drift"][0], h["runs"][2]["data_drift"][0]
    assert newest["dataset_drift"] is True and SCRIPT in newest["drifted_columns"]
    assert newest["has_report"] is True and oldest["has_report"] is False
    assert oldest["columns"][UNI]["status"] == "missing" and oldest["columns"][UNI]["ratio"] is None
    assert oldest["problem_columns"][UNI] == "missing"
    assert newest["columns"]["sparse"] == {
        "status": "insufficient_data",
        "type": "numerical",
        "drifted": None,
        "method": None,
        "score": None,
        "ratio": None,
    }


def test_history_mapped_tasks_give_one_entry_per_map_index(world):
    newest = world["history"]["runs"][0]
    mapped = [e for e in newest["data_drift"] if e["task_id"] == "mapped_drift"]
    assert [e["map_index"] for e in mapped] == [0, 1]  # sorted, whatever the record order
    assert mapped[0]["drifted_columns"] == world["mapped"][0]["summary"]["drifted_columns"]
    assert mapped[1]["drifted_columns"] == world["mapped"][1]["summary"]["drifted_columns"]
    assert [e["has_report"] for e in mapped] == [True, False]
    for run in world["history"]["runs"][1:]:
        assert [e["task_id"] for e in run["data_drift"]] == ["data_drift"]


def test_history_model_entries(world):
    for run, report in zip(world["history"]["runs"], world["model"], strict=True):
        (e,) = run["model_drift"]
        assert (e["task_id"], e["map_index"]) == ("model_drift", -1)
        assert e["task"] == report["task"] == "binary"
        assert e["status"] == report["status"]
        assert e["model_drift"] == report["summary"]["model_drift"]
        assert e["degraded_metrics"] == report["summary"]["degraded_metrics"]
        assert e["confidence_drift"] == report["summary"]["confidence_drift"]
        assert e["has_report"] is bool(report.get("report_uri"))
        for name, m in e["metrics"].items():
            src = report["metrics"][name]
            assert m == {
                "current": src["current"],
                "baseline": src["baseline"],
                "change": src["change"],
                "degraded": src["degraded"],
                "higher_is_better": src["higher_is_better"],
            }
    newest = world["history"]["runs"][0]["model_drift"][0]
    assert newest["model_drift"] is True and newest["degraded_metrics"]


def test_history_alerts_joined_with_evaluation(world):
    fp1, fp2 = world["fp1"], world["fp2"]
    by_fp = {a["fingerprint"]: a for a in world["evaluation"]["fired"]}
    newest, middle, oldest = world["history"]["runs"]
    (a,) = newest["alerts"]
    assert a["task_id"] == "alert"
    assert a["fired"] == 2
    assert a["sent"] == {"slack": 1, "email": 2}
    assert a["suppressed"] == {"pagerduty": 1}
    assert a["failed"] == {}
    assert a["resolved"] == 0
    assert a["errors"] == []
    assert [it["fingerprint"] for it in a["alerts"]] == [fp1, fp2]
    items = {it["fingerprint"]: it for it in a["alerts"]}
    assert items[fp1]["sent_to"] == ["email", "slack"]
    assert items[fp2]["sent_to"] == ["email"]  # suppressed on pagerduty: not "sent to" it
    for fp, it in items.items():
        src = by_fp[fp]
        assert (it["rule"], it["column"], it["severity"], it["message"]) == (
            src["rule"],
            src["column"],
            src["severity"],
            src["message"],
        )
        assert it["value"] == pytest.approx(src["value"])
    assert items[fp1]["rule"] == "psi_critical" and items[fp1]["column"] in HOSTILE
    assert items[fp2]["rule"] == "share_warning" and items[fp2]["column"] is None
    (q,) = middle["alerts"]
    assert (q["fired"], q["sent"], q["suppressed"], q["resolved"], q["alerts"]) == (0, {}, {}, 1, [])
    assert oldest["alerts"] == []


def test_history_alert_without_evaluation_keeps_fingerprints():
    fp = "f" * 24
    value = {"sent": {"slack": [fp, 7]}, "suppressed": {}, "failed": {}, "resolved": [], "errors": ["x"], "fired": 1}
    h = build_history(DAG, [{"run_id": "r"}], [_rec("r", "alert", value, "DriftAlertOperator")])
    (a,) = h["runs"][0]["alerts"]
    assert a["alerts"] == [
        {
            "fingerprint": fp,
            "rule": None,
            "column": None,
            "severity": None,
            "message": None,
            "value": None,
            "sent_to": ["slack"],
        }
    ]
    assert a["sent"] == {"slack": 1} and a["errors"] == ["x"]  # only string fingerprints count
    assert h["data_drift_tasks"] == [] and h["runs"][0]["data_drift"] == []


def test_history_ignores_other_runs_non_reports_and_other_keys(world):
    h = world["history"]
    assert "manual__1999-01-01T00:00:00+00:00" not in json.dumps(h)
    assert "broken_drift" not in h["data_drift_tasks"] and "other_key" not in h["data_drift_tasks"]
    oldest = h["runs"][2]
    assert [e["task_id"] for e in oldest["data_drift"]] == ["data_drift"]
    # the branch operator's return value (a task id string) is neither a report nor an alert result
    assert [a["task_id"] for a in h["runs"][0]["alerts"]] == ["alert"]
    # nothing but the records of a run counts: the same history without the ignored records
    kept = [r for r in world["records"] if r["run_id"] in RUN_IDS and r["task_id"] not in ("broken_drift", "other_key")]
    assert build_history(DAG, world["runs"], kept) == h


def test_history_ignores_shapes_that_are_not_reports():
    runs = [{"run_id": "r1"}]
    bad = [
        _rec("r1", "a", "not a report", "DataDriftOperator"),
        _rec("r1", "b", {"kind": "data_drift"}, "DataDriftOperator"),  # no summary
        _rec("r1", "c", {"kind": "data_drift", "summary": "x"}, "DataDriftOperator"),
        _rec("r1", "d", ["kind", "data_drift"], "DataDriftOperator"),
        _rec("r1", "e", None, "ModelDriftOperator"),
        _rec("r1", "f", "sent", "DriftAlertOperator"),
        _rec("r1", "g", {"sent": {"slack": ["x"]}}, "SomeOtherOperator"),
        _rec("r1", "h", {"fired": "not a list"}, "AlertRuleBranchOperator", key="evaluation"),
    ]
    h = build_history(DAG, runs, bad)
    assert h["runs"][0]["data_drift"] == h["runs"][0]["model_drift"] == h["runs"][0]["alerts"] == []
    assert h["data_drift_tasks"] == h["model_drift_tasks"] == [] and h["columns"] == h["metrics"] == {}
    assert latest_status(h) == {"dag_id": DAG, "run_id": None}


def test_history_runs_without_records_and_empty():
    h = build_history(DAG, [{"run_id": "a", "state": "running"}, {"run_id": "b"}], [])
    assert [(r["run_id"], r["state"], r["data_drift"], r["alerts"]) for r in h["runs"]] == [
        ("a", "running", [], []),
        ("b", None, [], []),
    ]
    assert build_history(DAG, [], [])["runs"] == []
    json.dumps(h, allow_nan=False)


def test_history_non_finite_values_become_null():
    report = _data_report(40, 0.5)
    report["summary"]["share_drifted"] = float("nan")
    report["columns"][SCRIPT]["drift_score"] = float("inf")
    h = build_history(DAG, [{"run_id": "r"}], [_rec("r", "d", report, "DataDriftOperator")])
    e = h["runs"][0]["data_drift"][0]
    assert e["share_drifted"] is None and e["columns"][SCRIPT]["score"] is None
    json.dumps(h, allow_nan=False)


def test_history_alert_failed_shape_of_real_delivery(world):
    evaluation = world["evaluation"]
    channels = {
        "slack": FakeChannel("slack"),
        "email": FakeChannel("email"),
        "pagerduty": FakeChannel("pagerduty", True),
    }
    routes = {"critical": ["pagerduty", "slack", "email"], "warning": ["slack", "email"]}
    ctx = AlertContext(dag_id=DAG, run_id=RUN_IDS[0], task_id="alert")
    result = deliver(evaluation, channels, routes, MemoryStore(), ctx, retries=0, sleep=lambda s: None)
    result["fired"] = len(evaluation["fired"])
    n_critical = sum(a["severity"] == "critical" for a in evaluation["fired"])
    assert result["failed"]["pagerduty"]["fingerprints"]  # the real shape
    h = build_history(DAG, [{"run_id": RUN_IDS[0]}], [_rec(RUN_IDS[0], "alert", result, "DriftAlertOperator")])
    (a,) = h["runs"][0]["alerts"]
    fps = {f["fingerprint"] for f in evaluation["fired"]}
    assert {it["fingerprint"] for it in a["alerts"]} == fps
    assert a["failed"] == {"pagerduty": n_critical}


def test_history_from_real_delivery_with_dedup(world):
    """Two deliveries of the same evaluation: the second run's alerts are all suppressed (dedup)."""
    evaluation = world["evaluation"]
    store = MemoryStore()
    channels = {"slack": FakeChannel("slack"), "email": FakeChannel("email")}
    routes = {"critical": ["slack", "email"], "warning": ["email"]}
    results = []
    for rid in RUN_IDS[1::-1]:  # older run first
        r = deliver(evaluation, channels, routes, store, AlertContext(DAG, rid, "alert"), retries=0)
        r["fired"] = len(evaluation["fired"])
        results.append(_rec(rid, "alert", r, "DriftAlertOperator"))
    results.append(_rec(RUN_IDS[1], "check_rules", evaluation, "AlertRuleBranchOperator", key="evaluation"))
    h = build_history(DAG, world["runs"][:2], results)
    n, n_crit = len(evaluation["fired"]), sum(a["severity"] == "critical" for a in evaluation["fired"])
    (new,), (old,) = h["runs"][0]["alerts"], h["runs"][1]["alerts"]
    assert old["sent"] == {"slack": n_crit, "email": n} and old["suppressed"] == {}
    assert new["sent"] == {} and new["suppressed"] == {"slack": n_crit, "email": n}
    assert [it["sent_to"] for it in new["alerts"]] == [[]] * n
    # the evaluation only joins in its own run
    assert {it["rule"] for it in old["alerts"]} == {"psi_critical", "share_warning"}
    assert {it["rule"] for it in new["alerts"]} == {None}
    json.dumps(h, allow_nan=False)


# --------------------------------------------------------------------------- latest_status
def test_latest_status_newest_run_with_results(world):
    h, newest = world["history"], world["history"]["runs"][0]
    s = latest_status(h)
    assert s["dag_id"] == DAG
    assert (s["run_id"], s["logical_date"], s["run_after"], s["state"]) == (
        RUN_IDS[0],
        world["runs"][0]["logical_date"],
        world["runs"][0]["run_after"],
        "failed",
    )
    expected_drifted: list[str] = []
    for e in newest["data_drift"]:  # data_drift, mapped_drift[0], mapped_drift[1]
        expected_drifted += [c for c in e["drifted_columns"] if c not in expected_drifted]
    assert s["drifted_columns"] == expected_drifted
    assert SCRIPT in s["drifted_columns"]
    assert s["dataset_drift"] is True
    assert s["evaluated_columns"] == sum(e["evaluated_columns"] for e in newest["data_drift"])
    assert s["model_drift"] is True
    assert s["degraded_metrics"] == sorted(newest["model_drift"][0]["degraded_metrics"])
    assert s["alerts_fired"] == 2
    assert s["notifications_sent"] == 3  # slack 1 + email 2; suppressed ones are not sent
    assert s["runs_with_results"] == 3
    json.dumps(s, allow_nan=False)


def test_latest_status_skips_newer_runs_without_results(world):
    runs = [{"run_id": "manual__2026-11-04T00:00:00+00:00", "state": "running"}, *world["runs"]]
    recs = [*world["records"], _rec(runs[0]["run_id"], "alert", world["alert"], "DriftAlertOperator")]
    s = latest_status(build_history(DAG, runs, recs))
    assert s["run_id"] == RUN_IDS[0] and s["runs_with_results"] == 3
    # only the middle and oldest runs
    s = latest_status(build_history(DAG, world["runs"][1:], world["records"]))
    assert s["run_id"] == RUN_IDS[1]
    assert s["alerts_fired"] == 0 and s["notifications_sent"] == 0
    assert s["drifted_columns"] == world["data"][1]["summary"]["drifted_columns"]


def test_latest_status_model_only_and_no_results(world):
    recs = [r for r in world["records"] if r["task_id"] == "model_drift"]
    s = latest_status(build_history(DAG, world["runs"], recs))
    assert s["run_id"] == RUN_IDS[0]
    assert s["dataset_drift"] is None and s["drifted_columns"] == [] and s["evaluated_columns"] == 0
    assert s["model_drift"] is True
    assert latest_status(build_history(DAG, world["runs"], [])) == {"dag_id": DAG, "run_id": None}
    assert latest_status(build_history(DAG, [], world["records"])) == {"dag_id": DAG, "run_id": None}


# --------------------------------------------------------------------------- render_dag_page
@pytest.fixture(scope="module")
def dag_page(world) -> tuple[str, Dom]:
    document = render_dag_page(world["history"], json_href=JSON_HREF)
    return document, assert_safe_page(document)


def test_dag_page_hostile_names_are_text(dag_page):
    document, dom = dag_page
    text = "".join(dom.data)
    for name in HOSTILE:
        assert name in text, name
    assert "<script>alert(1)</script>" not in document
    assert "<img" not in document
    assert "onmouseover='" not in document and "onerror=alert" not in document.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "x&#x27; onmouseover=&#x27;alert(2)" in document
    assert UNI in document  # unicode kept as is (utf-8 page)
    assert dom.root.find("h1").text() == f"Drift: {DAG}"
    assert dom.root.find("title").text() == f"Drift: {DAG}"


def test_dag_page_column_table(world, dag_page):
    _, dom = dag_page
    h = world["history"]
    tables = dom.root.find_all("table", "drift-columns")
    assert len(tables) == 2  # data_drift, mapped_drift
    table = tables[0]
    head = table.find("thead").find_all("th")
    assert [th.text() for th in head] == ["column", "2026-11-03 00:00", "2026-11-02 00:00", "2026-11-01 00:00"]
    assert [th.attrs.get("title") for th in head[1:]] == list(RUN_IDS)
    rows = table.find("tbody").kids("tr")
    assert [r.kids("td")[0].text() for r in rows] == h["columns"]["data_drift"]
    for row, name in zip(rows, h["columns"]["data_drift"], strict=True):
        cells = row.kids("td")[1:]
        assert len(cells) == len(RUN_IDS)
        for cell, run in zip(cells, h["runs"], strict=True):
            col = run["data_drift"][0]["columns"].get(name)
            assert ("d1" in cell.cls) == bool(col and col["drifted"] is True), (name, run["run_id"])
            assert ("d0" in cell.cls) == bool(col and col["drifted"] is False)
            if col and col["ratio"] is not None:
                assert float(cell.attrs["data-v"]) == pytest.approx(col["ratio"])
                assert float(cell.text()) == pytest.approx(col["ratio"], rel=1e-2)
            else:
                assert cell.attrs["data-v"] == "" and "dn" in cell.cls
    by_name = {r.kids("td")[0].text(): r.kids("td")[1:] for r in rows}
    assert "d1" in by_name[SCRIPT][0].cls  # strongly shifted in the newest run
    assert [c.text() for c in by_name["sparse"]] == ["insufficient_data"] * 3
    assert by_name[UNI][2].text() == "missing"


def test_dag_page_charts(world, dag_page):
    _, dom = dag_page
    h = world["history"]
    old_first = h["runs"][::-1]
    ch = charts(dom)
    assert set(ch) == {
        "Share of drifted columns, data_drift",
        "Drift ratio per column, data_drift",
        "Share of drifted columns, mapped_drift",
        "Drift ratio per column, mapped_drift",
        "Model metrics vs baseline, model_drift",
    }
    for svg in ch.values():
        assert svg.attrs["viewbox"] == "0 0 720 220"
    # share of drifted columns: one point per run
    share = [r["data_drift"][0]["share_drifted"] for r in old_first]
    check_series(ch["Share of drifted columns, data_drift"], {"share of drifted columns": share})
    # drift ratio per column: each column's ratio per run (None: gap)
    names = h["columns"]["data_drift"]
    assert len(names) <= MAX_CHART_SERIES
    ratios = {c: [(r["data_drift"][0]["columns"].get(c) or {}).get("ratio") for r in old_first] for c in names}
    svg = ch["Drift ratio per column, data_drift"]
    order = sorted(names, key=lambda c: -max([v for v in ratios[c] if v is not None] or [-1.0]))
    check_series(svg, {c: ratios[c] for c in order})
    # the threshold line is at ratio 1: drifted points on or above it, the others below
    (ref,) = [ln for ln in svg.find_all("line") if ln.attrs.get("stroke") == "#b00"]
    ref_y = float(ref.attrs["y1"])
    for s, c in enumerate(order):
        circles = [x for x in svg.find_all("circle") if x.attrs["fill"] == _PALETTE[s]]
        for circle, v in zip(circles, [v for v in ratios[c] if v is not None], strict=True):
            cy = float(circle.attrs["cy"])
            assert cy <= ref_y + 0.05 if v >= 1 else cy > ref_y - 0.05, (c, v, cy, ref_y)
    # the mapped task: only its first entry (map_index 0) in its one run
    mapped = [next((e for e in r["data_drift"] if e["task_id"] == "mapped_drift"), None) for r in old_first]
    check_series(
        ch["Share of drifted columns, mapped_drift"],
        {"share of drifted columns": [e["share_drifted"] if e else None for e in mapped]},
    )
    # model metrics: current (solid) and baseline (dashed) for the first metrics
    metrics = h["metrics"]["model_drift"][: MAX_CHART_SERIES // 2]
    series: dict[str, list[float | None]] = {}
    for m in metrics:
        series[m] = [r["model_drift"][0]["metrics"][m]["current"] for r in old_first]
        series[f"{m} baseline"] = [r["model_drift"][0]["metrics"][m]["baseline"] for r in old_first]
    svg = ch["Model metrics vs baseline, model_drift"]
    check_series(svg, series)
    dashed = [p for p in svg.find_all("polyline") if "stroke-dasharray" in p.attrs]
    assert len(dashed) == len(metrics)


def test_dag_page_report_links(world, dag_page):
    document, dom = dag_page
    h = world["history"]
    quoted = "manual__2026-11-03T00%3A00%3A00%2B00%3A00"
    assert f"href='report?run_id={quoted}&amp;task_id=data_drift'" in document
    assert f"href='report?run_id={quoted}&amp;task_id=mapped_drift&amp;map_index=0'" in document
    links = dom.root.find_all("a", "report-link")
    for a in links:
        href = a.attrs["href"]
        parts = urlsplit(href)
        assert parts.path == "report" and not parts.scheme and not parts.netloc
        q = parse_qs(parts.query)
        assert q["run_id"][0] in RUN_IDS
        assert "+" not in href and ":" not in href  # encoded, "+" would read as a space
    # data runs table: a link per entry with a report file, "no report" otherwise
    runs_table = dom.root.find_all("table", "drift-runs")[0]
    rows = runs_table.find("tbody").kids("tr")
    assert [r.kids("td")[0].text() for r in rows] == list(RUN_IDS)
    for row, run in zip(rows, h["runs"], strict=True):
        has = run["data_drift"][0]["has_report"]
        last = row.kids("td")[-1]
        if has:
            (a,) = last.find_all("a", "report-link")
            q = parse_qs(urlsplit(a.attrs["href"]).query)
            assert q == {"run_id": [run["run_id"]], "task_id": ["data_drift"]}
        else:
            assert not last.find_all("a") and last.text() == "no report"
    assert [r.kids("td")[-1].text() for r in rows] == ["report", "report", "no report"]
    # model runs table
    model_rows = dom.root.find("table", "model-runs").find("tbody").kids("tr")
    assert [r.kids("td")[-1].text() for r in model_rows] == ["report", "no report", "report"]
    n_links = sum(e["has_report"] for r in h["runs"] for e in r["data_drift"] + r["model_drift"])
    assert len(links) == n_links
    # the JSON link
    json_links = [a for a in dom.root.find_all("a") if a.text() == "history.json"]
    assert [a.attrs["href"] for a in json_links] == [JSON_HREF]


def test_dag_page_model_table_and_cards(world, dag_page):
    _, dom = dag_page
    h = world["history"]
    table = dom.root.find("table", "model-runs")
    assert [th.text() for th in table.find("thead").find_all("th")] == [
        "run id",
        "date",
        "model",
        *h["metrics"]["model_drift"],
        "report",
    ]
    for row, run in zip(table.find("tbody").kids("tr"), h["runs"], strict=True):
        cells = row.kids("td")[3:-1]
        for cell, m in zip(cells, h["metrics"]["model_drift"], strict=True):
            assert ("d1" in cell.cls) == (run["model_drift"][0]["metrics"][m]["degraded"] is True)
    cards = {c.find("div", "k").text(): c.find("div", "v").text() for c in dom.root.find_all("div", "card")}
    newest = h["runs"][0]
    assert cards["runs with results"] == "3"
    assert cards["latest run"] == "2026-11-03 00:00"
    d = newest["data_drift"][0]
    assert cards["data_drift: drifted"] == f"{d['n_drifted']} / {d['evaluated_columns']}"
    assert "mapped_drift[0]: drifted" in cards and "mapped_drift[1]: drifted" in cards
    assert cards["model_drift: degraded"] == str(len(newest["model_drift"][0]["degraded_metrics"]))


def test_dag_page_alerts_section(world, dag_page):
    _, dom = dag_page
    table = dom.root.find("table", "alerts")
    rows = table.find("tbody").kids("tr")
    assert [r.kids("td")[0].text() for r in rows] == [RUN_IDS[0], RUN_IDS[1]]
    cells = [c.text() for c in rows[0].kids("td")[:7]]
    assert cells == [RUN_IDS[0], "alert", "2", "email: 2, slack: 1", "1", "", "0"]
    items = [li.text() for li in rows[0].find_all("li")]
    by_fp = {a["fingerprint"]: a for a in world["evaluation"]["fired"]}
    col = by_fp[world["fp1"]]["column"]
    assert items == [f"critical psi_critical on {col} \u2192 email, slack", "warning share_warning \u2192 email"]
    assert [c.text() for c in rows[1].kids("td")[:7]] == [RUN_IDS[1], "alert", "0", "none", "0", "", "1"]


def test_dag_page_hostile_run_id_and_alert_column():
    """Defence in depth: run ids, alert columns and task ids are data too."""
    run_id = "x'><script>alert(3)</script>&map_index=9"
    report = _data_report(50, 1.0, report_uri=REPORT_URI)
    fp = "a" * 24
    evaluation = {
        "fired": [
            {
                "fingerprint": fp,
                "rule": "psi_critical",
                "column": "<script>x</script>",
                "severity": "critical",
                "message": "<b>m</b>",
                "value": 1.2,
            }
        ]
    }
    alert = {
        "sent": {"<img src=x onerror=alert(4)>": [fp]},
        "suppressed": {},
        "failed": {},
        "resolved": [],
        "errors": ["<script>e</script>"],
        "fired": 1,
    }
    records = [
        _rec(run_id, "data_drift", report, "DataDriftOperator"),
        _rec(run_id, "rules", evaluation, "AlertRuleBranchOperator", key="evaluation"),
        _rec(run_id, "alert", alert, "DriftAlertOperator"),
    ]
    h = build_history(DAG, [{"run_id": run_id, "logical_date": None, "run_after": None, "state": "success"}], records)
    document = render_dag_page(h, json_href="../../api/dags/d/history?limit=30&x='y'")
    dom = assert_safe_page(document)
    text = "".join(dom.data)
    assert run_id in text and "<script>x</script>" in text and "<img src=x onerror=alert(4)>: 1" in text
    (a,) = dom.root.find_all("a", "report-link")
    q = parse_qs(urlsplit(a.attrs["href"]).query)
    assert q == {"run_id": [run_id], "task_id": ["data_drift"]}  # the run id cannot inject map_index
    json_link = next(x for x in dom.root.find_all("a") if x.text() == "history.json")
    assert json_link.attrs["href"] == "../../api/dags/d/history?limit=30&x='y'"
    assert "limit=30&amp;x=&#x27;y&#x27;" in document
    # no logical date: the run id (cut) labels the run
    head = dom.root.find("table", "drift-columns").find("thead").find_all("th")
    assert head[1].text() == run_id[:16]


def test_dag_page_at_most_max_run_columns():
    n = MAX_RUN_COLUMNS + 5
    report = _data_report(60, 0.5, report_uri=REPORT_URI)
    runs = [
        {"run_id": f"scheduled__2026-10-{n - i:02d}T00:00:00+00:00", "logical_date": f"2026-10-{n - i:02d}T00:00"}
        for i in range(n)
    ]
    records = [_rec(r["run_id"], "data_drift", copy.deepcopy(report), "DataDriftOperator") for r in runs]
    h = build_history(DAG, runs, records)
    dom = assert_safe_page(render_dag_page(h, json_href=JSON_HREF))
    table = dom.root.find("table", "drift-columns")
    head = table.find("thead").find_all("th")
    assert len(head) == 1 + MAX_RUN_COLUMNS
    assert [th.attrs["title"] for th in head[1:]] == [r["run_id"] for r in runs[:MAX_RUN_COLUMNS]]  # newest
    for row in table.find("tbody").kids("tr"):
        assert len(row.kids("td")) == 1 + MAX_RUN_COLUMNS
    assert len(dom.root.find("table", "drift-runs").find("tbody").kids("tr")) == MAX_RUN_COLUMNS
    # the charts still show every run
    share_svg = charts(dom)["Share of drifted columns, data_drift"]
    assert len(share_svg.find_all("circle")) == n
    assert len(share_svg.find_all("polyline")) == 1


def test_dag_page_chart_draws_the_columns_with_largest_ratio():
    rng = np.random.default_rng(70)
    n = 400
    names = [f"c{i}<b>" for i in range(MAX_CHART_SERIES + 3)]
    ref = pd.DataFrame({c: rng.normal(0, 1, n) for c in names})
    cur = pd.DataFrame({c: rng.normal(0.1 * i, 1, n) for i, c in enumerate(names)})
    report = data_drift(ref, cur, methods=["psi"])
    h = build_history(DAG, [{"run_id": "r"}], [_rec("r", "data_drift", report, "DataDriftOperator")])
    dom = assert_safe_page(render_dag_page(h, json_href=JSON_HREF))
    svg = charts(dom)["Drift ratio per column, data_drift"]
    ratios = {c: drift_ratio(report["columns"][c]) for c in names}
    expected = sorted(names, key=lambda c: -ratios[c])[:MAX_CHART_SERIES]
    assert legend_names(svg) == expected
    assert len(svg.find_all("circle")) == MAX_CHART_SERIES and not svg.find_all("polyline")  # one run
    # the table still lists every column
    rows = dom.root.find("table", "drift-columns").find("tbody").kids("tr")
    assert [r.kids("td")[0].text() for r in rows] == names


def test_dag_page_without_results():
    h = build_history(DAG, [{"run_id": "r1"}, {"run_id": "r2"}], [])
    document = render_dag_page(h, json_href=JSON_HREF)
    dom = assert_safe_page(document)
    assert "No drift results yet" in dom.root.find("p", "empty").text()
    assert not dom.root.find_all("svg") and not dom.root.find_all("table")
    assert [a.attrs["href"] for a in dom.root.find_all("a")] == [JSON_HREF]
    h = build_history(DAG, [], [])
    assert_safe_page(render_dag_page(h, json_href=JSON_HREF))


def test_dag_page_model_only_run_gaps():
    """A model task missing in one run: gaps in the chart, no NaN."""
    runs = [{"run_id": f"r{i}", "logical_date": f"2026-11-0{5 - i}T00:00"} for i in range(4)]
    report = _model_report(80, 0.4, report_uri=REPORT_URI)
    records = [_rec(r["run_id"], "model_drift", report, "ModelDriftOperator") for i, r in enumerate(runs) if i != 1]
    h = build_history(DAG, runs, records)
    dom = assert_safe_page(render_dag_page(h, json_href=JSON_HREF))
    svg = charts(dom)["Model metrics vs baseline, model_drift"]
    metrics = h["metrics"]["model_drift"][: MAX_CHART_SERIES // 2]
    old_first = h["runs"][::-1]
    series: dict[str, list[float | None]] = {}
    for m in metrics:
        vals = [r["model_drift"][0]["metrics"][m] if r["model_drift"] else None for r in old_first]
        series[m] = [v["current"] if v else None for v in vals]
        series[f"{m} baseline"] = [v["baseline"] if v else None for v in vals]
    check_series(svg, series)
    assert not dom.root.find_all("table", "drift-columns")
    assert "No alert task results" in dom.root.text()


# --------------------------------------------------------------------------- render_overview_page
def test_overview_page(world):
    other = "team.a/dag x&y"
    model_only = build_history(other, world["runs"], [r for r in world["records"] if r["task_id"] == "model_drift"])
    rows = [latest_status(world["history"]), latest_status(model_only)]
    document = render_overview_page(rows)
    dom = assert_safe_page(document)
    trs = dom.root.find("table", "drift-dags").find("tbody").kids("tr")
    assert len(trs) == 2
    links = [tr.find("a", "dag-link") for tr in trs]
    assert [a.text() for a in links] == [DAG, other]
    # default: relative to the overview, the DAG id URL-encoded (a "/" cannot add a path segment)
    assert [a.attrs["href"] for a in links] == [f"dags/{DAG}/", "dags/team.a%2Fdag%20x%26y/"]
    assert "href='dags/team.a%2Fdag%20x%26y/'" in document
    # same frame: Airflow's iframe sandbox does not allow top navigation
    assert all("target" not in a.attrs for a in links)
    custom = Dom(render_overview_page(rows, dag_href=DAG_HREF)).root.find_all("a", "dag-link")
    assert [a.attrs["href"] for a in custom] == [f"/dags/{DAG}/plugin/drift", "/dags/team.a%2Fdag%20x%26y/plugin/drift"]
    cells = [td.text() for td in trs[0].kids("td")]
    s = rows[0]
    assert cells[1] == RUN_IDS[0]
    assert cells[2] == "2026-11-03 00:00"
    assert cells[3] == "failed"
    assert cells[4] == "dataset drift"
    assert cells[5] == f"{len(s['drifted_columns'])} / {s['evaluated_columns']}"
    assert cells[6].removesuffix(" \u2026") == ", ".join(s["drifted_columns"][:8])
    assert cells[7] == "model drift"
    assert (cells[8], cells[9]) == ("2", "3")
    text = "".join(dom.data)
    assert SCRIPT in text
    cells = [td.text() for td in trs[1].kids("td")]
    assert (cells[4], cells[5], cells[6], cells[7]) == ("n/a", "0 / 0", "", "model drift")
    assert [a.attrs["href"] for a in dom.root.find_all("a") if a.text() == "dags.json"] == ["api/dags"]


def test_overview_page_many_drifted_columns_and_hostile_href():
    row = {
        "dag_id": "d",
        "run_id": "r",
        "logical_date": "2026-11-03T00:00:00+00:00",
        "dataset_drift": True,
        "drifted_columns": [f"{IMG}{i}" for i in range(10)],
        "evaluated_columns": 10,
        "model_drift": None,
        "alerts_fired": 0,
        "notifications_sent": 0,
    }
    dom = assert_safe_page(render_overview_page([row], dag_href="/x'y/dags/{dag_id}/plugin/drift"))
    tr = dom.root.find("table", "drift-dags").find("tbody").kids("tr")[0]
    tds = tr.kids("td")
    assert tds[6].text() == ", ".join(row["drifted_columns"][:8]) + " \u2026"
    assert tds[5].text() == "10 / 10"
    assert tr.find("a", "dag-link").attrs["href"] == "/x'y/dags/d/plugin/drift"


def test_overview_page_empty():
    dom = assert_safe_page(render_overview_page([]))
    assert dom.root.find("p", "empty").text() == "No DAG you can read has drift results yet."
    assert not dom.root.find_all("table")
    assert dom.root.find("h1").text() == "Drift monitoring"


# --------------------------------------------------------------------------- _line_chart
def _chart_dom(svg: str) -> Dom:
    dom = Dom(f"<div>{svg}</div>")
    assert dom.cur is dom.root
    for tag, attrs in dom.starts:
        for k, v in attrs:
            assert not k.startswith("on")
            if k in NUMERIC_ATTRS:
                assert math.isfinite(float(v)), (tag, k, v)
            if k == "points":
                assert all(math.isfinite(float(c)) for p in v.split() for c in p.split(","))
    assert not re.search(r"nan|inf", svg.replace("Infinity", "").lower().replace("inform", "")), svg
    return dom


@pytest.mark.parametrize(
    ("labels", "series", "kw"),
    [
        (["a", "b", "c"], [("s", [None, None, None], False)], {}),
        (["a", "b", "c"], [("s", [None, None, None], False), ("t", [None, None, None], True)], {"y_max": 1.0}),
        (["a"], [("s", [0.4], False)], {}),
        (["a"], [("s", [None], False)], {"ref_lines": [(1.0, "threshold")]}),
        (["a"], [("s", [0.0], False)], {}),
        (["a", "b"], [("s", [2.0, 2.0], False)], {"y_min": 2.0}),
        (["a", "b", "c"], [("r2", [-3.0, 0.5, None], False)], {}),
        ([], [], {}),
        ([], [("s", [], False)], {"ref_lines": [(0.5, "x")]}),
        ([f"l{i}" for i in range(40)], [("s", [float(i % 3) if i % 5 else None for i in range(40)], False)], {}),
    ],
)
def test_line_chart_edge_cases(labels, series, kw):
    svg = _line_chart("t <b>", labels, series, y_label="y", **kw)
    dom = _chart_dom(svg)
    (chart,) = dom.root.find_all("svg", "chart")
    assert chart.kids("title")[0].text() == "t <b>"
    check_series(chart, {name: list(vals) for name, vals, _ in series})


def test_line_chart_escapes_names_and_labels():
    svg = _line_chart(
        SCRIPT,
        [QUOTE, UNI],
        [(IMG, [0.5, 2.0], False), (QUOTE, [1.0, None], True)],
        y_label=SCRIPT,
        ref_lines=[(1.0, IMG)],
    )
    dom = _chart_dom(svg)
    assert not [t for t, _ in dom.starts if t in ("script", "img")]
    assert all(k in ALLOWED_ATTRS for _, attrs in dom.starts for k, _ in attrs)
    text = "".join(dom.data)
    for name in HOSTILE:
        assert name in text
    (chart,) = dom.root.find_all("svg", "chart")
    check_series(chart, {IMG: [0.5, 2.0], QUOTE: [1.0, None]})
    assert legend_names(chart) == [IMG, QUOTE]
    # x labels
    labels = [
        t.text() for t in chart.kids("text") if t.attrs.get("text-anchor") == "middle" and "transform" not in t.attrs
    ]
    assert labels == [QUOTE, UNI]


def test_dag_page_zero_ratio_is_a_number():
    """Identical reference and current: every decided column has ratio 0, shown as 0 (not as its status)."""
    ref, _ = _frames(90, 0.0)
    report = data_drift(ref, ref.copy())
    h = build_history(DAG, [{"run_id": "r"}], [_rec("r", "data_drift", report, "DataDriftOperator")])
    cols = h["runs"][0]["data_drift"][0]["columns"]
    decided = [c for c, v in cols.items() if v["drifted"] is not None]
    assert decided and all(cols[c]["ratio"] == 0.0 and cols[c]["drifted"] is False for c in decided)
    dom = assert_safe_page(render_dag_page(h, json_href=JSON_HREF))
    rows = dom.root.find("table", "drift-columns").find("tbody").kids("tr")
    cells = {r.kids("td")[0].text(): r.kids("td")[1] for r in rows}
    for c in decided:
        assert cells[c].text() == "0" and float(cells[c].attrs["data-v"]) == 0.0 and "d0" in cells[c].cls
    assert cells["sparse"].text() == "insufficient_data" and cells["sparse"].attrs["data-v"] == ""
