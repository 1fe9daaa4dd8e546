"""One self-contained HTML page for a data drift and/or model drift report.

``render_report(data_report, model_report, title=..., context=...)`` takes the
JSON-safe dicts returned by :func:`~airflow_drift_provider.drift.data_drift`
and :func:`~airflow_drift_provider.drift.model_drift` and returns an HTML
document with inline CSS, inline SVG charts and a few lines of inline
JavaScript for sorting tables - nothing is loaded from the network, so the
page can be stored as an artifact or attached to an e-mail as is.

Every string that comes from the data (column names, category labels,
values, the title, the context) is escaped with :func:`html.escape`; element
ids are index based, never derived from names.  Only the standard library is
imported.
"""

from __future__ import annotations

import contextlib
import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_DETAILED_COLUMNS", "PLOT_HEIGHT", "render_report"]

MAX_DETAILED_COLUMNS = 200  # per-column sections (chart + stats) for at most this many columns
MAX_CATEGORIES = 20  # bars per categorical chart
PLOT_HEIGHT = 160.0  # px: a bar of the largest value in a chart is this tall
_TOP, _LEFT, _RIGHT, _BOTTOM = 12.0, 64.0, 10.0, 84.0
_BAR_W, _GAP = 14.0, 10.0
_DASH = "\u2014"
_CTRL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_COMPARED = ("ok", "constant")
_STATUS_TEXT = {
    "missing": "the column is missing from the current data",
    "mixed_types": "numbers and strings conflict in one column",
    "inconsistent_schema": "the column is absent from some batches",
    "empty": "no rows on one side",
    "all_null": "only nulls on one side",
    "type_mismatch": "the column type changed",
    "insufficient_data": "too few valid values to compare",
}

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;
background:#f6f7f9;line-height:1.4}
header,main{max-width:1200px;margin:0 auto;padding:16px 24px}
header{background:#fff;border-bottom:1px solid #ddd;max-width:none}
h1{margin:0 0 8px;font-size:1.5em;word-break:break-word}
h2{margin:24px 0 8px;font-size:1.25em}
h3{margin:0 0 8px;font-size:1.05em;word-break:break-word}
dl.ctx{display:flex;flex-wrap:wrap;gap:4px 24px;margin:0}
dl.ctx div{display:flex;gap:6px}dl.ctx dt{color:#666}dl.ctx dd{margin:0;font-family:monospace;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}
.card .v{font-size:1.3em;font-weight:600}.card .k{color:#666;font-size:.85em}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.8em;font-weight:600;
background:#e3e5e8;color:#333;vertical-align:middle}
.badge.drift{background:#fbe0e0;color:#a11}.badge.nodrift{background:#dff3e3;color:#17632a}
.badge.na{background:#eee;color:#555}.badge.warn{background:#fff1cc;color:#7a5500}
table{border-collapse:collapse;background:#fff;font-size:.9em;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th{background:#eef0f3}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2"}
table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
tr.drift-yes td{background:#fff5f5}
td.name{word-break:break-all;max-width:360px}
section.column,section.block{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 16px;margin:12px 0}
.grid{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.chartbox{overflow-x:auto;max-width:100%}
svg.chart{display:block}
svg .bar.reference,.sw.reference{fill:#4c78a8;background:#4c78a8}
svg .bar.current,.sw.current{fill:#f58518;background:#f58518}
svg .bar.baseline,.sw.baseline{fill:#9aa5b1;background:#9aa5b1}
svg .axis{stroke:#888;stroke-width:1}svg .grid{stroke:#e4e4e4;stroke-width:1}
svg text{font-size:10px;fill:#444}svg text.unseen{fill:#a11;font-weight:600}
.legend{font-size:.85em;color:#444;margin:2px 0}
.sw{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
.note{color:#555;font-size:.9em}.muted{color:#777}
ul.names{margin:4px 0;padding-left:20px;font-family:monospace;word-break:break-all}
code{background:#f0f1f3;padding:0 3px;border-radius:3px}
"""

# Sorts a table.sortable by the clicked column; cells may carry data-v (sort key).  Empty keys go last.
_JS = """
(function(){
  function key(row,i){var c=row.cells[i];if(!c){return "";}var v=c.getAttribute("data-v");
    return v===null?c.textContent.trim():v;}
  function cmp(a,b,asc){if(a===""&&b===""){return 0;}if(a===""){return 1;}if(b===""){return -1;}
    var x=parseFloat(a),y=parseFloat(b),r;
    if(!isNaN(x)&&!isNaN(y)&&isFinite(a)&&isFinite(b)){r=x-y;}else{r=a.localeCompare(b);}
    return asc?r:-r;}
  var tables=document.querySelectorAll("table.sortable");
  for(var t=0;t<tables.length;t++){(function(table){
    var heads=table.tHead?table.tHead.rows[0].cells:[];
    for(var i=0;i<heads.length;i++){(function(th,i){
      th.setAttribute("tabindex","0");th.title="Click to sort";
      function go(){var asc=th.getAttribute("aria-sort")!=="ascending";
        for(var j=0;j<heads.length;j++){heads[j].removeAttribute("aria-sort");}
        th.setAttribute("aria-sort",asc?"ascending":"descending");
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){return cmp(key(a,i),key(b,i),asc);});
        for(var k=0;k<rows.length;k++){body.appendChild(rows[k]);}}
      th.addEventListener("click",go);
      th.addEventListener("keydown",function(ev){if(ev.key==="Enter"||ev.key===" "){ev.preventDefault();go();}});
    })(heads[i],i);}
  })(tables[t]);}
})();
"""


# ---------------------------------------------------------------- formatting


def _e(value: Any) -> str:
    """Escape any value for HTML text and attribute values (control characters replaced)."""
    return html.escape(_CTRL.sub("\ufffd", str(value)), quote=True)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def _fmt(value: Any, digits: int = 4) -> str:
    """A value as escaped display text."""
    if value is None:
        return _DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return _e(value)
        if value == 0:
            return "0"
        a = abs(value)
        return f"{value:.3e}" if a < 1e-3 or a >= 1e7 else f"{value:.{digits}g}"
    return _e(value)


def _short(value: float) -> str:
    a = abs(value)
    if value != 0 and (a < 1e-3 or a >= 1e6):
        return f"{value:.2e}"
    return f"{value:.3g}"


def _pct(value: Any) -> str:
    v = _num(value)
    return _DASH if v is None else f"{v:.1%}"


def _sort_key(value: Any) -> str:
    """data-v attribute value: numbers as repr, None as empty (sorted last), the rest as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    v = _num(value)
    if v is not None:
        return repr(v)
    return _e(value)


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _get(mapping: Any, *keys: str) -> Any:
    cur = mapping
    for k in keys:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(k)
    return cur


def _drift_badge(drifted: Any, yes: str = "drift", no: str = "no drift", na: str = "not decided") -> str:
    if drifted is True:
        return f'<span class="badge drift">{_e(yes)}</span>'
    if drifted is False:
        return f'<span class="badge nodrift">{_e(no)}</span>'
    return f'<span class="badge na">{_e(na)}</span>'


def _drift_class(drifted: Any) -> str:
    return "drift-yes" if drifted is True else ("drift-no" if drifted is False else "drift-na")


def _card(label: str, value_html: str) -> str:
    return f'<div class="card"><div class="v">{value_html}</div><div class="k">{_e(label)}</div></div>'


def _row3(label_html: str, a_html: str, b_html: str) -> str:
    return f'<tr><td>{label_html}</td><td class="n">{a_html}</td><td class="n">{b_html}</td></tr>'


def _name_list(title: str, names: Any, limit: int = 20) -> str:
    if not isinstance(names, Sequence) or isinstance(names, str) or not names:
        return ""
    items = "".join(f"<li>{_e(n)}</li>" for n in list(names)[:limit])
    more = f'<p class="note">\u2026 and {len(names) - limit} more</p>' if len(names) > limit else ""
    return f'<p class="note">{_e(title)} ({len(names)}):</p><ul class="names">{items}</ul>{more}'


# ---------------------------------------------------------------- charts


def _bar_chart(
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    css_class: str,
    aria: str,
    tick_fmt: Any = _pct,
    value_fmt: Any = _pct,
    label_classes: list[str] | None = None,
) -> str:
    """Grouped bar chart as an inline SVG; bar heights are proportional to the values (common scale)."""
    values = [v for _, vs in series for v in vs if v is not None]
    lo, hi = min([0.0, *values]), max([0.0, *values])
    if hi == lo:
        hi = lo + 1.0
    scale = PLOT_HEIGHT / (hi - lo)
    zero_y = _TOP + hi * scale
    group_w = len(series) * _BAR_W + _GAP
    width = max(240.0, _LEFT + len(labels) * group_w + _RIGHT)
    height = _TOP + PLOT_HEIGHT + _BOTTOM
    out = [
        f'<svg class="chart {css_class}" role="img" aria-label="{_e(aria)}" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}"><title>{_e(aria)}</title>'
    ]
    ticks = sorted({lo, 0.0, hi} | ({hi / 2} if lo == 0 else set()))
    for t in ticks:
        y = _TOP + (hi - t) * scale
        out.append(
            f'<line class="grid" x1="{_LEFT:.0f}" y1="{y:.2f}" x2="{width - _RIGHT:.0f}" y2="{y:.2f}"></line>'
            f'<text x="{_LEFT - 4:.0f}" y="{y + 3:.2f}" text-anchor="end">{_e(tick_fmt(t))}</text>'
        )
    out.append(
        f'<line class="axis" x1="{_LEFT:.0f}" y1="{zero_y:.2f}" x2="{width - _RIGHT:.0f}" y2="{zero_y:.2f}"></line>'
    )
    for i, label in enumerate(labels):
        gx = _LEFT + i * group_w + _GAP / 2
        for k, (name, vals) in enumerate(series):
            v = vals[i] if i < len(vals) else None
            if v is None:
                continue
            h = abs(v) * scale
            y = zero_y - h if v >= 0 else zero_y
            out.append(
                f'<rect class="bar {_e(name)}" data-series="{_e(name)}" data-index="{i}" data-value="{v!r}" '
                f'x="{gx + k * _BAR_W:.2f}" y="{y:.2f}" width="{_BAR_W - 1:.0f}" height="{h:.3f}">'
                f"<title>{_e(label)}: {_e(name)} {_e(value_fmt(v))}</title></rect>"
            )
        cx = gx + len(series) * _BAR_W / 2
        ly = _TOP + PLOT_HEIGHT + 12
        cls = f' class="{_e(label_classes[i])}"' if label_classes and label_classes[i] else ""
        out.append(
            f'<text{cls} x="{cx:.2f}" y="{ly:.2f}" text-anchor="end" transform="rotate(-40 {cx:.2f} {ly:.2f})">'
            f"{_e(_truncate(label, 16))}<title>{_e(label)}</title></text>"
        )
    out.append("</svg>")
    return "".join(out)


def _legend(*names: str) -> str:
    return '<p class="legend">' + "".join(f'<span class="sw {n}"></span>{n}' for n in names) + "</p>"


def _bin_labels(edges: Any, n: int) -> list[str]:
    """Labels for the ``len(edges) + 1`` bins: ``< min``, ``[min, q1]``, ``(q1, q2]``, ..., ``> max``."""
    e = [_num(x) for x in edges] if isinstance(edges, Sequence) and not isinstance(edges, str) else []
    if not e or any(x is None for x in e) or n != (3 if len(e) == 1 else len(e) + 1):
        return [f"bin {k + 1}" for k in range(n)]
    s = [_short(x) for x in e]  # type: ignore[arg-type]
    if len(s) == 1:
        return [f"< {s[0]}", f"= {s[0]}", f"> {s[0]}"]
    inner = [f"[{s[0]}, {s[1]}]"] + [f"({s[k]}, {s[k + 1]}]" for k in range(1, len(s) - 1)]
    return [f"< {s[0]}", *inner, f"> {s[-1]}"]


def _shares(values: Any) -> list[float | None] | None:
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        return None
    return [_num(v) for v in values]


def _numeric_chart(name: str, col: Mapping[str, Any]) -> str | None:
    ref, cur = _shares(col.get("reference_distribution")), _shares(col.get("current_distribution"))
    if ref is None or cur is None or len(ref) != len(cur):
        return None
    labels = _bin_labels(col.get("bin_edges"), len(ref))
    svg = _bar_chart(
        labels,
        [("reference", ref), ("current", cur)],
        css_class="col-chart numeric",
        aria=f"{name}: share of values per reference-quantile bin, reference vs current",
    )
    return (
        f'<div class="chartbox">{_legend("reference", "current")}{svg}'
        '<p class="note">Bins are reference quantiles; the outer bins hold values outside the reference range.</p>'
        "</div>"
    )


def _categorical_chart(name: str, col: Mapping[str, Any]) -> str | None:
    cs = col.get("category_shares")
    if not isinstance(cs, Mapping):
        return None
    raw_labels = cs.get("labels")
    ref, cur = _shares(cs.get("reference")), _shares(cs.get("current"))
    if not isinstance(raw_labels, Sequence) or isinstance(raw_labels, str) or ref is None or cur is None:
        return None
    n = min(len(raw_labels), len(ref), len(cur), MAX_CATEGORIES)
    if n == 0:
        return None
    unseen = {str(u) for u in col.get("unseen_categories") or []}
    labels, classes = [], []
    for lab in list(raw_labels)[:n]:
        text = str(lab)
        if text == "__other__":
            labels.append("(other)")
            classes.append("")
        elif text in unseen:
            labels.append(f"{text} (new)")
            classes.append("unseen")
        else:
            labels.append(text)
            classes.append("")
    svg = _bar_chart(
        labels,
        [("reference", ref[:n]), ("current", cur[:n])],
        css_class="col-chart categorical",
        aria=f"{name}: category shares, reference vs current",
        label_classes=classes,
    )
    total = _num(_get(col, "current", "categories"))
    ref_total = _num(_get(col, "reference", "categories"))
    shown = max(total or 0, ref_total or 0)
    note = f"Top {n} categories shown." if shown > n else f"{n} categories."
    return (
        f'<div class="chartbox">{_legend("reference", "current")}{svg}'
        f'<p class="note">{_e(note)} Categories new in the current data are marked (new).</p></div>'
    )


# ---------------------------------------------------------------- data report


def _threshold(col: Mapping[str, Any]) -> Any:
    return _get(col, "methods", str(col.get("drift_method")), "threshold")


def _is_p_method(col: Mapping[str, Any], method: Any) -> bool:
    m = _get(col, "methods", str(method))
    return isinstance(m, Mapping) and ("p_value" in m or "p_value_adjusted" in m)


def _columns_table(columns: list[tuple[str, Mapping[str, Any]]], detailed: int) -> str:
    rows = []
    for i, (name, col) in enumerate(columns):
        status, method, score = col.get("status"), col.get("drift_method"), col.get("drift_score")
        drifted = col.get("drifted")
        link = f'<a href="#col-{i}">{_e(name)}</a>' if i < detailed else _e(name)
        kind = " (p-value)" if method is not None and _is_p_method(col, method) else ""
        rows.append(
            f'<tr class="{_drift_class(drifted)}"><td class="n" data-v="{i}">{i + 1}</td>'
            f'<td class="name">{link}</td><td>{_fmt(col.get("type"))}</td><td>{_fmt(status)}</td>'
            f"<td>{_fmt(method)}{_e(kind)}</td>"
            f'<td class="n" data-v="{_sort_key(score)}">{_fmt(score)}</td>'
            f'<td class="n" data-v="{_sort_key(_threshold(col))}">{_fmt(_threshold(col))}</td>'
            f'<td data-v="{_sort_key(drifted)}">{_fmt(drifted)}</td></tr>'
        )
    return (
        '<table class="sortable columns" id="columns-table"><thead><tr><th>#</th><th>Column</th><th>Type</th>'
        "<th>Status</th><th>Method</th><th>Score</th><th>Threshold</th><th>Drifted</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _methods_table(col: Mapping[str, Any]) -> str:
    methods = col.get("methods")
    if not isinstance(methods, Mapping) or not methods:
        return ""
    decider = col.get("drift_method")
    rows = []
    for m, r in methods.items():
        if not isinstance(r, Mapping):
            continue
        p = r.get("p_value")
        p_cell = _fmt(p)
        if r.get("p_value_adjusted") is not None:
            p_cell += (
                f' <span class="muted">(adj. {_fmt(r.get("p_value_adjusted"))}, {_fmt(r.get("correction"))})</span>'
            )
        rule = "p &lt;" if "p_value" in r else "stat \u2265"
        mark = " \u2605" if m == decider else ""
        decision = r.get("drifted")
        dec = "drift" if decision is True else ("no drift" if decision is False else _DASH)
        rows.append(
            f'<tr class="{_drift_class(decision)}"><td>{_e(m)}{mark}</td><td class="n">{_fmt(r.get("statistic"))}</td>'
            f'<td class="n">{p_cell}</td><td class="n">{rule} {_fmt(r.get("threshold"))}</td><td>{dec}</td></tr>'
        )
    return (
        '<table class="methods"><thead><tr><th>Method</th><th>Statistic</th><th>p-value</th><th>Threshold</th>'
        f"<th>Decision</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<p class="note">\u2605 decides the column.</p>'
    )


_SIDE_ROWS = (
    ("rows", "rows"),
    ("valid", "valid"),
    ("nulls", "nulls"),
    ("infinite", "infinite"),
    ("mean", "mean"),
    ("std", "std"),
    ("min", "min"),
    ("max", "max"),
    ("categories", "categories"),
)


def _side_table(col: Mapping[str, Any]) -> str:
    ref, cur = col.get("reference"), col.get("current")
    ref = ref if isinstance(ref, Mapping) else {}
    cur = cur if isinstance(cur, Mapping) else {}
    ns = col.get("null_share") if isinstance(col.get("null_share"), Mapping) else {}
    rows = [
        f'<tr><td>null share</td><td class="n">{_pct(ns.get("reference"))}</td><td class="n">'
        f"{_pct(ns.get('current'))}</td></tr>"
    ]
    for key, label in _SIDE_ROWS:
        if key in ref or key in cur:
            rows.append(_row3(label, _fmt(ref.get(key)), _fmt(cur.get(key))))
    if col.get("unseen_share") is not None or col.get("unseen_count"):
        rows.append(_row3("unseen share", _DASH, _pct(col.get("unseen_share"))))
    return (
        '<table class="stats"><thead><tr><th>Statistic</th><th>Reference</th><th>Current</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _column_section(i: int, name: str, col: Mapping[str, Any]) -> str:
    status = col.get("status")
    kind = col.get("type")
    head = (
        f'<h3>{_e(name)} <span class="badge">{_fmt(kind)}</span> '
        + (f'<span class="badge warn">{_fmt(status)}</span> ' if status not in _COMPARED else "")
        + _drift_badge(col.get("drifted"))
        + "</h3>"
    )
    parts = [f'<section class="column" id="col-{i}">', head]
    if col.get("current_type") is not None:
        parts.append(f'<p class="note">Current type: {_fmt(col.get("current_type"))}.</p>')
    warnings = col.get("warnings")
    if isinstance(warnings, Sequence) and not isinstance(warnings, str):
        parts.extend(f'<p class="note">Warning: {_e(w)}</p>' for w in warnings)
    chart = None
    if status in _COMPARED:
        if kind == "numerical":
            chart = _numeric_chart(name, col)
        elif kind == "categorical":
            chart = _categorical_chart(name, col)
    else:
        why = _STATUS_TEXT.get(str(status), "")
        parts.append(
            f'<p class="note">Not compared: status <code>{_fmt(status)}</code>{_e(" - " + why if why else "")}.</p>'
        )
    if status == "constant":
        parts.append('<p class="note">The reference is constant: bins are below / equal to / above its value.</p>')
    parts.append('<div class="grid">')
    if chart is not None:
        parts.append(chart)
    elif status in _COMPARED:
        parts.append('<p class="note">No distribution data in the report.</p>')
    parts.append(f"<div>{_methods_table(col)}{_side_table(col)}")
    parts.append(_name_list("Unseen categories", col.get("unseen_categories")))
    if col.get("unseen_count") and col.get("unseen_count") != len(col.get("unseen_categories") or []):
        parts.append(f'<p class="note">{_fmt(col.get("unseen_count"))} unseen categories in all.</p>')
    parts.append(_name_list("Reference categories missing from the current data", col.get("missing_categories")))
    if col.get("folded_into_other"):
        parts.append(f'<p class="note">{_fmt(col.get("folded_into_other"))} current values folded into (other).</p>')
    parts.append("</div></div></section>")
    return "".join(parts)


def _data_section(report: Mapping[str, Any], max_columns: int) -> str:
    raw = report.get("columns")
    columns = [(str(k), v) for k, v in raw.items() if isinstance(v, Mapping)] if isinstance(raw, Mapping) else []
    summary = report.get("summary") if isinstance(report.get("summary"), Mapping) else {}
    n_total = summary.get("columns", len(columns))
    n_drifted = summary.get("n_drifted")
    dataset_drift = summary.get("dataset_drift")
    parts = [
        '<section class="block" id="data-drift"><h2>Data drift ',
        _drift_badge(dataset_drift, "dataset drift", "no dataset drift"),
        "</h2>",
        '<div class="cards">',
        _card("columns", _fmt(n_total)),
        _card("evaluated", _fmt(summary.get("evaluated_columns"))),
        _card("drifted", _fmt(n_drifted)),
        _card("share drifted", _pct(summary.get("share_drifted"))),
        _card("drift share threshold", _pct(summary.get("drift_share"))),
        _card("reference rows", _fmt(_get(report, "reference", "rows"))),
        _card("current rows", _fmt(_get(report, "current", "rows"))),
        "</div>",
    ]
    correction = _get(report, "settings", "correction")
    if correction:
        parts.append(f'<p class="note">p-values corrected across columns: {_e(correction)}.</p>')
    parts.append(_name_list("Drifted columns", summary.get("drifted_columns")))
    parts.append(_name_list("Missing in current", summary.get("missing_columns")))
    parts.append(_name_list("Only in current (not compared)", summary.get("extra_columns")))
    parts.append(_name_list("Requested but unknown", summary.get("unknown_columns")))
    if not columns:
        parts.append('<p class="note">No columns in the report.</p></section>')
        return "".join(parts)
    detailed = min(len(columns), max(0, max_columns))
    parts.append("<h3>Columns</h3>")
    parts.append('<p class="note">Click a header to sort. Score is the p-value for p-value methods.</p>')
    parts.append(_columns_table(columns, detailed))
    parts.append("</section>")
    if detailed < len(columns):
        parts.append(
            f'<p class="note" id="columns-truncated">Details and charts are shown for the first {detailed} of '
            f"{len(columns)} columns; the table above lists all of them.</p>"
        )
    parts.extend(_column_section(i, name, col) for i, (name, col) in enumerate(columns[:detailed]))
    return "".join(parts)


# ---------------------------------------------------------------- model report


def _model_section(report: Mapping[str, Any]) -> str:
    summary = report.get("summary") if isinstance(report.get("summary"), Mapping) else {}
    rows_info = report.get("rows") if isinstance(report.get("rows"), Mapping) else {}
    parts = [
        '<section class="block" id="model-drift"><h2>Model drift ',
        _drift_badge(summary.get("model_drift"), "model drift", "no model drift"),
        "</h2>",
        '<div class="cards">',
        _card("task", _fmt(report.get("task"))),
        _card("status", _fmt(report.get("status"))),
        _card("current rows", _fmt(rows_info.get("current"))),
        _card("reference rows", _fmt(rows_info.get("reference"))),
        _card("degraded metrics", _fmt(len(summary.get("degraded_metrics") or []))),
        "</div>",
    ]
    if rows_info.get("current_dropped"):
        parts.append(f'<p class="note">{_fmt(rows_info["current_dropped"])} current rows dropped (missing values).</p>')
    classes = report.get("classes")
    if isinstance(classes, Sequence) and not isinstance(classes, str) and classes:
        shown = ", ".join(_e(c) for c in list(classes)[:20]) + (", \u2026" if len(classes) > 20 else "")
        pos = f"; positive label {_e(report.get('pos_label'))}" if "pos_label" in report else ""
        parts.append(f'<p class="note">Classes: {shown}{pos}.</p>')
    metrics = report.get("metrics")
    metrics = (
        [(str(k), v) for k, v in metrics.items() if isinstance(v, Mapping)] if isinstance(metrics, Mapping) else []
    )
    if metrics:
        rows = []
        for name, m in metrics:
            hib = m.get("higher_is_better")
            better = "higher" if hib is True else ("lower" if hib is False else _DASH)
            degraded = m.get("degraded")
            rows.append(
                f'<tr class="{_drift_class(degraded)}"><td>{_e(name)}</td>'
                f'<td class="n" data-v="{_sort_key(m.get("current"))}">{_fmt(m.get("current"))}</td>'
                f'<td class="n" data-v="{_sort_key(m.get("baseline"))}">{_fmt(m.get("baseline"))}</td>'
                f"<td>{_fmt(m.get('baseline_source'))}</td>"
                f'<td class="n" data-v="{_sort_key(m.get("change"))}">{_fmt(m.get("change"))}</td>'
                f'<td class="n" data-v="{_sort_key(m.get("relative_change"))}">{_pct(m.get("relative_change"))}</td>'
                f'<td>{better}</td><td data-v="{_sort_key(degraded)}">{_fmt(degraded)}</td>'
                f"<td>{_e(m.get('note') or '')}</td></tr>"
            )
        parts.append(
            '<h3>Metrics</h3><table class="sortable metrics" id="metrics-table"><thead><tr><th>Metric</th>'
            "<th>Current</th><th>Baseline</th><th>Baseline source</th><th>Change</th><th>Relative change</th>"
            f"<th>Better</th><th>Degraded</th><th>Note</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
        labels = [n for n, _ in metrics]
        base = [_num(m.get("baseline")) for _, m in metrics]
        cur = [_num(m.get("current")) for _, m in metrics]
        if any(v is not None for v in base + cur):
            svg = _bar_chart(
                labels,
                [("baseline", base), ("current", cur)],
                css_class="model-chart",
                aria="model metrics: baseline vs current",
                tick_fmt=_short,
                value_fmt=_fmt,
            )
            parts.append(f'<div class="chartbox">{_legend("baseline", "current")}{svg}</div>')
    else:
        parts.append('<p class="note">No metrics in the report.</p>')
    parts.append(_confidence_block(report.get("confidence")))
    parts.append("</section>")
    return "".join(parts)


_CONF_ROWS = ("count", "mean", "std", "min", "max", "low_quantile")


def _confidence_block(conf: Any) -> str:
    if not isinstance(conf, Mapping):
        return '<p class="note">No prediction confidence (no scores given).</p>'
    cur = conf.get("current") if isinstance(conf.get("current"), Mapping) else {}
    ref = conf.get("reference") if isinstance(conf.get("reference"), Mapping) else {}
    rows = []
    for key in _CONF_ROWS:
        label = key
        if key == "low_quantile":
            level = cur.get("low_quantile_level", ref.get("low_quantile_level"))
            label = f"quantile {_pct(level)}" if level is not None else "low quantile"
        rows.append(_row3(_e(label), _fmt(ref.get(key)), _fmt(cur.get(key))))
    out = [
        "<h3>Prediction confidence</h3>",
        '<table class="confidence"><thead><tr><th>Statistic</th><th>Reference</th><th>Current</th></tr></thead>',
        f"<tbody>{''.join(rows)}</tbody></table>",
    ]
    drift = conf.get("drift")
    if isinstance(drift, Mapping):
        out.append(
            f"<p>Confidence drift ({_fmt(drift.get('method'))}): {_drift_badge(drift.get('drifted'))}; "
            f"mean change {_fmt(drift.get('mean_change'))}.</p>"
        )
        out.append(_methods_table({"methods": drift.get("methods"), "drift_method": drift.get("method")}))
    else:
        out.append('<p class="note">No confidence drift test (needs reference scores, at least 5 on each side).</p>')
    return "".join(out)


# ---------------------------------------------------------------- document


def _attr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:  # lazy Airflow proxies may raise on access
        return None


def _context_items(context: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    if not isinstance(context, Mapping):
        return []

    def pick(*values: Any) -> Any:
        return next((v for v in values if v is not None and v != ""), None)

    items = [
        ("DAG", pick(context.get("dag_id"), _attr(context.get("dag"), "dag_id"))),
        (
            "Task",
            pick(context.get("task_id"), _attr(context.get("task"), "task_id"), _attr(context.get("ti"), "task_id")),
        ),
        ("Run", pick(context.get("run_id"), _attr(context.get("dag_run"), "run_id"))),
        ("Logical date", pick(context.get("logical_date"), context.get("ds"))),
    ]
    out = []
    for label, value in items:
        if value is None:
            continue
        iso = _attr(value, "isoformat")
        if callable(iso):
            with contextlib.suppress(Exception):
                value = iso()
        out.append((label, value))
    return out


def render_report(
    data_report: Mapping[str, Any] | None,
    model_report: Mapping[str, Any] | None = None,
    *,
    title: str,
    context: Mapping[str, Any] | None = None,
    max_columns: int = MAX_DETAILED_COLUMNS,
) -> str:
    """Render drift reports as one self-contained HTML document.

    :param data_report: the dict returned by ``data_drift`` (or ``None``).
    :param model_report: the dict returned by ``model_drift`` (or ``None``).
    :param title: page title (escaped).
    :param context: optional run context: ``dag_id``, ``task_id``, ``run_id``,
        ``logical_date`` (or an Airflow task context with ``dag``/``ti``/``dag_run``).
    :param max_columns: per-column sections (chart and statistics) for at most
        this many columns; the column table always lists every column.
    :returns: the HTML document as a string (UTF-8 when written out).
    """
    ctx = _context_items(context)
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(title)}</h1>",
    ]
    if ctx:
        parts.append(
            '<dl class="ctx">' + "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in ctx) + "</dl>"
        )
    parts.append("</header><main>")
    if data_report is None and model_report is None:
        parts.append('<p class="note" id="no-report">No report to show.</p>')
    if isinstance(data_report, Mapping):
        parts.append(_data_section(data_report, max_columns))
    elif data_report is not None:
        parts.append('<p class="note">The data drift report is not a mapping.</p>')
    if isinstance(model_report, Mapping):
        parts.append(_model_section(model_report))
    elif model_report is not None:
        parts.append('<p class="note">The model drift report is not a mapping.</p>')
    parts.append(f"</main><script>{_JS}</script></body></html>\n")
    return "".join(parts)
