"""The self-contained HTML report: structure, escaping, charts, edge cases, speed."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from airflow_drift_provider.drift import data_drift, model_drift
from airflow_drift_provider.report import render_report
from airflow_drift_provider.report.html import PLOT_HEIGHT

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ESC = "&lt;script&gt;alert(1)&lt;/script&gt;"
HOSTILE_CAT = '"><img src=x onerror=alert(2)>'
VOID = {"meta", "link", "br", "hr", "img", "input", "wbr", "col", "source"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.content: list[Node | str] = []  # text and child elements in document order

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.content)

    def iter(self):
        yield self
        for c in self.children:
            yield from c.iter()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag and (cls is None or cls in (n.attrs.get("class") or "").split())]

    def by_id(self, id_: str) -> Node | None:
        return next((n for n in self.iter() if n.attrs.get("id") == id_), None)


class TreeBuilder(HTMLParser):
    """A strict little DOM: every end tag must close the innermost open element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.errors: list[str] = []
        self.script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        self.cur.content.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        self.cur.content.append(node)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.cur.tag != tag:
            self.errors.append(f"</{tag}> closes <{self.cur.tag}>")
            return
        self.cur = self.cur.parent

    def handle_data(self, data):
        self.cur.content.append(data)
        if self.cur.tag == "script":
            self.script_text.append(data)


def parse(doc: str) -> Node:
    tb = TreeBuilder()
    tb.feed(doc)
    tb.close()
    assert not tb.errors, tb.errors[:5]
    assert tb.cur is tb.root, f"unclosed <{tb.cur.tag}>"
    return tb.root


def svg_fragments(doc: str) -> list[ET.Element]:
    frags = re.findall(r"<svg\b.*?</svg>", doc, flags=re.S)
    return [ET.fromstring(f) for f in frags]  # raises on malformed SVG


def table_rows(root: Node, table_id: str) -> list[list[str]]:
    table = root.by_id(table_id)
    assert table is not None
    body = table.find_all("tbody")[0]
    return [[td.text.strip() for td in tr.find_all("td")] for tr in body.find_all("tr")]


def section_of(root: Node, column: str) -> Node:
    for sec in root.find_all("section", "column"):
        h3 = sec.find_all("h3")[0]
        if h3.text.startswith(column + " "):
            return sec
    raise AssertionError(f"no section for {column!r}")


def assert_offline(doc: str) -> None:
    low = doc.lower()
    for bad in ("http://", "https://", "//cdn", "<link", "@import", "url("):
        assert bad not in low, bad
    for node in parse(doc).iter():
        assert "src" not in node.attrs and node.tag not in ("link", "img", "iframe", "object", "embed")
        assert (node.attrs.get("href") or "#").startswith("#")


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 400
    ref = pd.DataFrame(
        {
            "x": rng.normal(0, 1, n),
            "stable": rng.normal(5, 2, n),
            "const": np.full(n, 3.0),
            HOSTILE: rng.normal(0, 1, n),
            "cat": rng.choice(["a", "b", HOSTILE_CAT], n, p=[0.5, 0.3, 0.2]),
            "nulls": [None] * n,
        }
    )
    cur = pd.DataFrame(
        {
            "x": rng.normal(1.5, 1, n),
            "stable": rng.normal(5, 2, n),
            "const": rng.choice([2.0, 3.0, 4.0], n),
            HOSTILE: rng.normal(0, 1, n),
            "cat": rng.choice(["a", "b", HOSTILE_CAT, "new <b>cat</b>"], n, p=[0.3, 0.3, 0.1, 0.3]),
            "nulls": [None] * n,
        }
    )
    return ref, cur


@pytest.fixture(scope="module")
def data_report(frames) -> dict:
    ref, cur = frames
    return data_drift(ref, cur)


@pytest.fixture(scope="module")
def model_report() -> dict:
    rng = np.random.default_rng(3)
    y_ref = rng.integers(0, 2, 300)
    s_ref = np.clip(y_ref * 0.7 + rng.normal(0.15, 0.1, 300), 0, 1)
    y = rng.integers(0, 2, 300)
    s = np.clip(rng.random(300), 0, 1)
    return model_drift(
        y,
        (s > 0.5).astype(int),
        y_score=s,
        baseline={"accuracy": 0.9},
        reference={"y_true": y_ref, "y_pred": (s_ref > 0.5).astype(int), "y_score": s_ref},
    )


@pytest.fixture(scope="module")
def doc(data_report, model_report) -> str:
    ctx = {"dag_id": "drift_dag", "run_id": "manual__<2024>", "task_id": "check", "logical_date": "2024-01-02"}
    return render_report(data_report, model_report, title="Drift <report> & co", context=ctx)


def test_document_is_well_formed_and_offline(doc):
    assert doc.startswith("<!DOCTYPE html>")
    root = parse(doc)
    assert len(root.find_all("html")) == 1 and len(root.find_all("style")) == 1
    assert len(root.find_all("script")) == 1
    assert_offline(doc)
    for svg in svg_fragments(doc):
        assert svg.tag == "svg"


def test_header_title_and_context_escaped(doc):
    root = parse(doc)
    assert root.find_all("title")[0].text == "Drift <report> & co"
    assert "Drift &lt;report&gt; &amp; co" in doc and "<report>" not in doc
    ctx = root.find_all("dl", "ctx")[0]
    pairs = {dt.text: dd.text for dt, dd in zip(ctx.find_all("dt"), ctx.find_all("dd"), strict=True)}
    assert pairs == {"DAG": "drift_dag", "Task": "check", "Run": "manual__<2024>", "Logical date": "2024-01-02"}


def test_airflow_like_context_objects():
    class Obj:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    class Date:
        def isoformat(self):
            return "2025-05-05T00:00:00+00:00"

    ctx = {"dag": Obj(dag_id="d1"), "ti": Obj(task_id="t1"), "dag_run": Obj(run_id="r1"), "logical_date": Date()}
    root = parse(render_report(None, None, title="t", context=ctx))
    dds = [dd.text for dd in root.find_all("dd")]
    assert dds == ["d1", "t1", "r1", "2025-05-05T00:00:00+00:00"]


def test_hostile_names_only_escaped(doc, data_report):
    assert HOSTILE not in doc
    assert doc.count("<script") == 1 and doc.count("</script") == 1  # only our own inline script
    assert HOSTILE_ESC in doc
    assert HOSTILE_CAT not in doc and "<img" not in doc and "<b>cat" not in doc
    assert html_escape(HOSTILE_CAT) in doc
    root = parse(doc)
    # the parsed text gives the original names back
    names = [r[1] for r in table_rows(root, "columns-table")]
    assert HOSTILE in names
    sec = section_of(root, HOSTILE)
    assert sec.attrs["id"].startswith("col-") and sec.attrs["id"][4:].isdigit()
    for n in root.iter():
        for k, v in n.attrs.items():
            if k == "id" and v:
                assert re.fullmatch(r"[a-z0-9-]+", v), v
    cat = section_of(root, "cat")
    titles = [t.text for t in cat.find_all("title")]
    assert any(HOSTILE_CAT in t for t in titles)
    assert any("new <b>cat</b> (new)" in t for t in titles)


def html_escape(s: str) -> str:
    import html

    return html.escape(s, quote=True)


def test_summary_and_badges(doc, data_report):
    root = parse(doc)
    sec = root.by_id("data-drift")
    cards = {c.children[1].text: c.children[0].text for c in sec.find_all("div", "card")}
    s = data_report["summary"]
    assert cards["columns"] == str(s["columns"])
    assert cards["evaluated"] == str(s["evaluated_columns"])
    assert cards["drifted"] == str(s["n_drifted"])
    assert cards["share drifted"] == f"{s['share_drifted']:.1%}"
    badge = sec.find_all("h2")[0].find_all("span", "badge")[0]
    assert badge.text == ("dataset drift" if s["dataset_drift"] else "no dataset drift")


def test_columns_table_one_row_per_column(doc, data_report):
    root = parse(doc)
    rows = table_rows(root, "columns-table")
    cols = data_report["columns"]
    assert [r[1] for r in rows] == list(cols)
    for r in rows:
        col = cols[r[1]]
        assert r[2] == col["type"] and r[3] == col["status"]
        assert r[7] == {True: "yes", False: "no", None: "\u2014"}[col["drifted"]]
        if col["drift_method"]:
            assert r[4].startswith(col["drift_method"])
    assert cols["x"]["drifted"] is True and cols["stable"]["drifted"] is False
    assert cols["nulls"]["status"] == "all_null"
    table = root.by_id("columns-table")
    assert "sortable" in table.attrs["class"] and len(table.find_all("th")) == 8
    score_cell = table.find_all("tbody")[0].find_all("tr")[0].find_all("td")[5]
    assert float(score_cell.attrs["data-v"]) == pytest.approx(cols["x"]["drift_score"])


def test_one_chart_per_evaluated_column(doc, data_report):
    root = parse(doc)
    charts = root.find_all("svg", "col-chart")
    evaluated = [n for n, c in data_report["columns"].items() if c["status"] in ("ok", "constant")]
    assert len(charts) == len(evaluated) == data_report["summary"]["evaluated_columns"]
    # the non-compared column has a section with its status but no chart
    nul = section_of(root, "nulls")
    assert not nul.find_all("svg") and "all_null" in nul.text
    assert "100.0%" in nul.text  # null share


def _bars(svg: Node, series: str) -> list[Node]:
    return sorted(
        (r for r in svg.find_all("rect", "bar") if r.attrs["data-series"] == series),
        key=lambda r: int(r.attrs["data-index"]),
    )


def test_numeric_bars_proportional_to_shares(doc, data_report):
    root = parse(doc)
    col = data_report["columns"]["x"]
    svg = section_of(root, "x").find_all("svg")[0]
    ref, cur = _bars(svg, "reference"), _bars(svg, "current")
    assert len(ref) == len(cur) == len(col["reference_distribution"]) == len(col["bin_edges"]) + 1
    top = max(col["reference_distribution"] + col["current_distribution"])
    for bars, shares in ((ref, col["reference_distribution"]), (cur, col["current_distribution"])):
        for rect, share in zip(bars, shares, strict=True):
            assert float(rect.attrs["height"]) == pytest.approx(share / top * PLOT_HEIGHT, abs=1e-3)
    # two bars in the ratio of their shares
    i, j = 1, int(np.argmax(col["current_distribution"]))
    ratio = float(cur[i].attrs["height"]) / float(cur[j].attrs["height"])
    assert ratio == pytest.approx(col["current_distribution"][i] / col["current_distribution"][j], rel=1e-3)
    # bin labels: outer bins and quantile intervals
    labels = [t.text for t in svg.find_all("title")[1:] if t.parent.tag == "text"]
    assert len(labels) == len(col["bin_edges"]) + 1
    assert labels[0].startswith("< ") and labels[-1].startswith("> ") and labels[1].startswith("[")
    assert labels[2].startswith("(") and labels[2].endswith("]")
    lo, hi = col["bin_edges"][0], col["bin_edges"][-1]
    assert labels[0] == f"< {lo:.3g}" and labels[-1] == f"> {hi:.3g}"


def test_stats_table_methods_and_side_stats(doc, data_report):
    root = parse(doc)
    col = data_report["columns"]["x"]
    sec = section_of(root, "x")
    methods = sec.find_all("table", "methods")[0]
    rows = {tr.find_all("td")[0].text: [td.text for td in tr.find_all("td")] for tr in methods.find_all("tr")[1:]}
    assert set(k.rstrip(" \u2605") for k in rows) == set(col["methods"])
    decider = col["drift_method"] + " \u2605"
    assert decider in rows and rows[decider][4] == "drift"
    ks = col["methods"]["ks"]
    ks_row = rows.get("ks") or rows["ks \u2605"]
    assert float(ks_row[1]) == pytest.approx(ks["statistic"], rel=1e-3)
    assert ks_row[3].endswith(str(ks["threshold"]))
    stats = {
        tr.find_all("td")[0].text: tr.find_all("td") for tr in sec.find_all("table", "stats")[0].find_all("tr")[1:]
    }
    for key in ("mean", "std", "min", "max", "null share"):
        assert key in stats
    assert float(stats["mean"][1].text) == pytest.approx(col["reference"]["mean"], rel=1e-3)
    assert float(stats["mean"][2].text) == pytest.approx(col["current"]["mean"], rel=1e-3)
    stable = section_of(root, "stable").find_all("table", "methods")[0]
    dec = [tr.find_all("td")[4].text for tr in stable.find_all("tr")[1:] if "\u2605" in tr.find_all("td")[0].text]
    assert dec == ["no drift"]


def test_constant_reference_column(doc, data_report):
    root = parse(doc)
    col = data_report["columns"]["const"]
    assert col["status"] == "constant" and col["bin_edges"] == [3.0] and len(col["reference_distribution"]) == 3
    svg = section_of(root, "const").find_all("svg")[0]
    labels = [t.text for t in svg.find_all("title") if t.parent.tag == "text"]
    assert labels == ["< 3", "= 3", "> 3"]
    ref = _bars(svg, "reference")
    assert [float(r.attrs["height"]) for r in ref] == pytest.approx(
        [s / max(col["reference_distribution"] + col["current_distribution"]) * PLOT_HEIGHT for s in [0, 1, 0]]
    )


def test_categorical_with_unseen(doc, data_report):
    root = parse(doc)
    col = data_report["columns"]["cat"]
    assert col["unseen_categories"] == ["new <b>cat</b>"]
    sec = section_of(root, "cat")
    svg = sec.find_all("svg")[0]
    shares = col["category_shares"]
    cur = _bars(svg, "current")
    ref = _bars(svg, "reference")
    assert len(cur) == len(ref) == len(shares["labels"])
    top = max(shares["reference"] + shares["current"])
    for rect, share in zip(cur, shares["current"], strict=True):
        assert float(rect.attrs["height"]) == pytest.approx(share / top * PLOT_HEIGHT, abs=1e-3)
    unseen_idx = shares["labels"].index("new <b>cat</b>")
    assert float(ref[unseen_idx].attrs["height"]) == 0
    marked = [t for t in svg.find_all("text", "unseen")]
    assert len(marked) == 1 and "new <b>cat</b>" in marked[0].text
    assert "Unseen categories (1)" in sec.text
    assert "new <b>cat</b>" in [li.text for li in sec.find_all("li")]


def test_categorical_top_20():
    rng = np.random.default_rng(1)
    cats = [f"c{i:02d}" for i in range(40)]
    ref = pd.DataFrame({"c": rng.choice(cats, 2000)})
    cur = pd.DataFrame({"c": rng.choice(cats, 2000)})
    doc = render_report(data_drift(ref, cur), title="t")
    root = parse(doc)
    svg = root.find_all("svg", "col-chart")[0]
    assert len(_bars(svg, "current")) == 20
    assert "Top 20 categories shown." in doc


def test_model_section(doc, model_report):
    root = parse(doc)
    sec = root.by_id("model-drift")
    rows = {r[0]: r for r in table_rows(root, "metrics-table")}
    assert set(rows) == set(model_report["metrics"])
    acc = model_report["metrics"]["accuracy"]
    assert float(rows["accuracy"][1]) == pytest.approx(acc["current"], rel=1e-3)
    assert rows["accuracy"][2] == "0.9" and rows["accuracy"][3] == "given"
    assert float(rows["accuracy"][4]) == pytest.approx(acc["change"], rel=1e-3)
    assert rows["accuracy"][5] == f"{acc['relative_change']:.1%}"
    for name, m in model_report["metrics"].items():
        assert rows[name][7] == {True: "yes", False: "no", None: "\u2014"}[m["degraded"]]
    assert acc["degraded"] is True
    badge = sec.find_all("h2")[0].find_all("span", "badge")[0]
    assert badge.text == ("model drift" if model_report["summary"]["model_drift"] else "no model drift")
    svg = sec.find_all("svg", "model-chart")[0]
    cur = _bars(svg, "current")
    base = _bars(svg, "baseline")
    vals = [m["current"] for m in model_report["metrics"].values()] + [
        m["baseline"] for m in model_report["metrics"].values()
    ]
    top = max(vals)
    for rect, m in zip(cur, model_report["metrics"].values(), strict=True):
        assert float(rect.attrs["height"]) == pytest.approx(m["current"] / top * PLOT_HEIGHT, abs=1e-3)
    assert float(base[0].attrs["height"]) == pytest.approx(0.9 / top * PLOT_HEIGHT, abs=1e-3)
    conf = sec.find_all("table", "confidence")[0]
    crow = {tr.find_all("td")[0].text: tr.find_all("td") for tr in conf.find_all("tr")[1:]}
    assert float(crow["mean"][2].text) == pytest.approx(model_report["confidence"]["current"]["mean"], rel=1e-3)
    assert crow["count"][1].text == str(model_report["confidence"]["reference"]["count"])
    assert "Confidence drift" in sec.text


def test_model_regression_negative_and_missing_values():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    rep = model_drift(y, -y, baseline={"r2": 0.8, "mae": 0.1})
    rep["metrics"]["rmse"]["current"] = None  # a metric without a value
    doc = render_report(None, rep, title="reg")
    root = parse(doc)
    svg_fragments(doc)
    assert root.by_id("data-drift") is None
    rows = {r[0]: r for r in table_rows(root, "metrics-table")}
    assert rows["rmse"][1] == "\u2014" and rows["r2"][7] == "yes"
    assert "No prediction confidence" in doc
    svg = root.find_all("svg", "model-chart")[0]
    assert len(_bars(svg, "current")) == 2  # rmse current missing -> no bar


def test_none_and_empty_reports():
    root = parse(render_report(None, None, title="nothing"))
    assert root.by_id("no-report") is not None
    doc = render_report(None, title="x")
    assert "Data drift" not in doc and "Model drift" not in doc
    empty = {"columns": {}, "summary": {"columns": 0, "evaluated_columns": 0, "dataset_drift": None}}
    doc = render_report(empty, None, title="empty")
    root = parse(doc)
    assert "No columns in the report." in doc and root.by_id("columns-table") is None
    assert root.by_id("data-drift").find_all("span", "badge")[0].text == "not decided"
    doc = render_report({}, {}, title="bare")
    parse(doc)
    assert "No metrics in the report." in doc


def test_missing_values_inside_a_report(data_report):
    rep = copy.deepcopy(data_report)
    x = rep["columns"]["x"]
    x["drift_score"] = None
    x["methods"]["ks"]["p_value"] = None
    x["current_distribution"][2] = None
    x["reference"] = None
    del rep["columns"]["cat"]["category_shares"]
    rep["columns"]["stable"]["bin_edges"] = ["a"]  # unusable edges -> generic labels
    doc = render_report(rep, title="holes")
    root = parse(doc)
    svg_fragments(doc)
    svg = section_of(root, "x").find_all("svg")[0]
    assert 2 not in [int(r.attrs["data-index"]) for r in _bars(svg, "current")]
    assert "No distribution data in the report." in section_of(root, "cat").text
    labels = [t.text for t in section_of(root, "stable").find_all("title") if t.parent.tag == "text"]
    assert labels[0] == "bin 1"


def test_status_types(frames):
    ref = pd.DataFrame({"a": [1.0, 2.0, 3.0] * 20, "b": ["x", "y"] * 30, "few": [1.0, 2.0] + [None] * 58})
    cur = pd.DataFrame({"a": [1.0, 2.5] * 30, "few": [1.0, 2.0] + [None] * 58})
    rep = data_drift(ref, cur)
    doc = render_report(rep, title="s")
    root = parse(doc)
    rows = {r[1]: r for r in table_rows(root, "columns-table")}
    assert rows["b"][3] == "missing" and rows["few"][3] == "insufficient_data"
    assert "Not compared: status missing" in section_of(root, "b").text
    assert len(root.find_all("svg", "col-chart")) == 1


def test_500_columns_fast_and_capped():
    rng = np.random.default_rng(5)
    n = 60
    data = {f"n{i}": rng.normal(size=n) for i in range(250)}
    data.update({f"c{i}": rng.choice(["u", "v", "w"], n) for i in range(250)})
    ref = pd.DataFrame(data)
    cur = pd.DataFrame({k: (v + 0.5 if k.startswith("n") else v) for k, v in data.items()})
    rep = data_drift(ref, cur)
    assert len(rep["columns"]) == 500
    started = time.perf_counter()
    doc = render_report(rep, title="wide")
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, elapsed
    root = parse(doc)
    assert len(table_rows(root, "columns-table")) == 500
    assert len(root.find_all("section", "column")) == 200
    assert len(root.find_all("svg", "col-chart")) == 200
    assert root.by_id("columns-truncated") is not None and "first 200 of 500 columns" in doc
    links = [a.attrs["href"] for a in root.by_id("columns-table").find_all("a")]
    assert links[0] == "#col-0" and len(links) == 200
    assert len(doc) < 3_000_000


def test_sort_script_present_and_table_works_without_it(doc):
    root = parse(doc)
    script = root.find_all("script")[0].text
    assert "table.sortable" in script and "aria-sort" in script
    # without JS the table is a plain table: header row and data rows are ordinary elements
    table = root.by_id("columns-table")
    assert table.find_all("thead") and table.find_all("tbody")


def test_module_imports_only_stdlib():
    code = (
        "import sys; import airflow_drift_provider.report as r; "
        "bad=[m for m in ('numpy','pandas','scipy','airflow','sklearn','pyarrow') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_control_characters_and_weird_values():
    rep = {
        "columns": {
            "bad\x00name\x1b": {"type": "categorical", "status": "ok", "drifted": None, "methods": {}},
            "12": {"type": 5, "status": None, "drifted": "maybe", "null_share": None},
        },
        "summary": {"columns": 2, "share_drifted": "n/a"},
    }
    doc = render_report(rep, title="ctl\x07", context={"dag_id": 3})
    assert "\x00" not in doc and "\x1b" not in doc and "\x07" not in doc
    parse(doc)
    svg_fragments(doc)
