"""HTML pages of the drift dashboard: the DAG "Drift" tab and the "Drift" overview.

Standard library only.  Every string that comes from a DAG, a run or the data
(DAG ids, run ids, column and metric names, alert messages) is escaped; links
are relative, so the pages work when Airflow is served under a sub-path.
Charts are inline SVG; the only script is the table sorter of the HTML report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from airflow_drift_provider.report.html import _CSS, _JS, _drift_badge, _e, _fmt
from airflow_drift_provider.ui.history import MAX_RATIO

MAX_RUN_COLUMNS = 15  # runs shown in the column x run table
MAX_CHART_SERIES = 8  # lines per chart (the columns with the largest drift ratio)
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_ARROW = " \u2192 "
_ELLIPSIS = " \u2026"
_W, _H = 720.0, 220.0
_L, _R, _T, _B = 56.0, 16.0, 14.0, 44.0

_PAGE_CSS = """
table{border-collapse:collapse;background:#fff;font-size:.9em;margin:6px 0 14px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f1f3;cursor:pointer;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;font-family:monospace}
td.d1{background:#fbd5d5}td.d0{background:#d9f2dc}td.dn{background:#eee;color:#777}
.b-drift{background:#f8caca;color:#8a1010}.b-ok{background:#cdebd2;color:#145a22}
.chart{background:#fff;border:1px solid #ddd;border-radius:6px;margin:8px 0;max-width:100%}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.85em;margin:2px 0 10px}
.legend span{display:inline-flex;align-items:center;gap:4px;word-break:break-all}
.legend i{display:inline-block;width:14px;height:3px}
.muted{color:#666}.err{color:#8a1010}
code{word-break:break-all}
"""


def _href(path: str, **params: Any) -> str:
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items() if v is not None)
    return _e(f"{path}?{query}" if query else path)


def _report_href(run_id: str, task_id: str, map_index: int) -> str:
    return _href("report", run_id=run_id, task_id=task_id, map_index=map_index if map_index >= 0 else None)


def _task_label(task_id: str, map_index: int) -> str:
    return f"{task_id}[{map_index}]" if map_index >= 0 else task_id


def _run_label(run: Mapping[str, Any]) -> str:
    date = run.get("logical_date") or run.get("run_after") or ""
    return str(date)[:16].replace("T", " ") or str(run["run_id"])[:16]


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{_CSS}{_PAGE_CSS}</style></head>"
        f"<body><main>{body}</main><script>{_JS}</script></body></html>"
    )


def _line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], bool]],
    *,
    y_label: str,
    ref_lines: Sequence[tuple[float, str]] = (),
    y_min: float | None = 0.0,
    y_max: float | None = None,
) -> str:
    """An SVG line chart; ``series`` are ``(name, values, dashed)``, one value per x label (None = gap).

    ``y_min=None`` fits the y axis to the data (for metrics that move in a narrow band).
    """
    values = [v for _, vs, _ in series for v in vs if v is not None] + [y for y, _ in ref_lines]
    top = y_max if y_max is not None else (max(values) if values else 1.0)
    if y_min is None:
        lo = min(values) if values else 0.0
        lo -= max(top - lo, abs(lo) * 0.01, 1e-9) * 0.15
    else:
        lo = min([y_min, *values]) if values else y_min
    if top <= lo:
        top = lo + 1.0
    top += (top - lo) * 0.08
    n = len(x_labels)
    pw, ph = _W - _L - _R, _H - _T - _B

    def x(i: int) -> float:
        return _L + (pw * (i + 0.5) / n if n else 0)

    def y(v: float) -> float:
        return _T + ph * (1 - (v - lo) / (top - lo))

    parts = [
        f"<svg class='chart' role='img' viewBox='0 0 {_W:.0f} {_H:.0f}' width='{_W:.0f}' height='{_H:.0f}'"
        f" xmlns='http://www.w3.org/2000/svg'><title>{_e(title)}</title>",
        f"<line x1='{_L}' y1='{_T}' x2='{_L}' y2='{_T + ph}' stroke='#999'/>",
        f"<line x1='{_L}' y1='{_T + ph}' x2='{_L + pw}' y2='{_T + ph}' stroke='#999'/>",
    ]
    for k in range(5):
        v = lo + (top - lo) * k / 4
        parts.append(f"<text x='{_L - 6}' y='{y(v) + 4:.1f}' font-size='10' text-anchor='end'>{_e(_fmt(v, 3))}</text>")
        parts.append(f"<line x1='{_L}' y1='{y(v):.1f}' x2='{_L + pw}' y2='{y(v):.1f}' stroke='#eee'/>")
    parts.append(
        f"<text x='12' y='{_T + ph / 2:.1f}' font-size='10' transform='rotate(-90 12 {_T + ph / 2:.1f})'"
        f" text-anchor='middle'>{_e(y_label)}</text>"
    )
    step = max(1, n // 8)
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == n - 1:
            parts.append(
                f"<text x='{x(i):.1f}' y='{_T + ph + 16}' font-size='10' text-anchor='middle'>{_e(label)}</text>"
            )
    for ref, label in ref_lines:
        parts.append(
            f"<line x1='{_L}' y1='{y(ref):.1f}' x2='{_L + pw}' y2='{y(ref):.1f}' stroke='#b00' stroke-dasharray='5 4'/>"
            f"<text x='{_L + pw - 4}' y='{y(ref) - 4:.1f}' font-size='10' fill='#b00' text-anchor='end'>"
            f"{_e(label)}</text>"
        )
    for s, (name, vals, dashed) in enumerate(series):
        color = _PALETTE[s % len(_PALETTE)]
        dash = " stroke-dasharray='6 4'" if dashed else ""
        segment: list[str] = []
        for i, v in enumerate(vals):
            if v is None:
                if len(segment) > 1:
                    parts.append(
                        f"<polyline fill='none' stroke='{color}' stroke-width='2'{dash} points='{' '.join(segment)}'/>"
                    )
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(
                f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='3' fill='{color}'><title>{_e(name)}: {_e(_fmt(v))}"
                f" ({_e(x_labels[i])})</title></circle>"
            )
        if len(segment) > 1:
            parts.append(
                f"<polyline fill='none' stroke='{color}' stroke-width='2'{dash} points='{' '.join(segment)}'/>"
            )
    parts.append("</svg>")
    legend = "".join(
        f"<span><i style='background:{_PALETTE[s % len(_PALETTE)]}'></i>{_e(name)}"
        f"{' (dashed)' if dashed else ''}</span>"
        for s, (name, _, dashed) in enumerate(series)
    )
    return "".join(parts) + f"<div class='legend'>{legend}</div>"


def _entries(runs: Sequence[Mapping[str, Any]], kind: str, task_id: str) -> list[Mapping[str, Any] | None]:
    """The (first) entry of ``task_id`` in each run (None where the run has none)."""
    out: list[Mapping[str, Any] | None] = []
    for run in runs:
        out.append(next((e for e in run[kind] if e["task_id"] == task_id), None))
    return out


def _cell(col: Mapping[str, Any] | None) -> str:
    if not col:
        return "<td class='dn' data-v=''>\u2014</td>"
    drifted = col.get("drifted")
    cls = "d1" if drifted else ("d0" if drifted is False else "dn")
    ratio = col.get("ratio")
    text = _fmt(ratio, 3) if ratio is not None else str(col.get("status") or "\u2014")
    tip = f"{col.get('method') or 'no method'}: score {_fmt(col.get('score'))}; status {col.get('status')}"
    return f"<td class='num {cls}' data-v='{_e('' if ratio is None else ratio)}' title='{_e(tip)}'>{_e(text)}</td>"


def _data_section(runs_old_first: Sequence[Mapping[str, Any]], task_id: str, columns: Sequence[str]) -> str:
    entries = _entries(runs_old_first, "data_drift", task_id)
    labels = [_run_label(r) for r in runs_old_first]
    share = [e["share_drifted"] if e else None for e in entries]
    ratios = {c: [(e["columns"].get(c) or {}).get("ratio") if e else None for e in entries] for c in columns}
    top = sorted(columns, key=lambda c: -max([v for v in ratios[c] if v is not None] or [-1.0]))[:MAX_CHART_SERIES]
    out = [f"<h2>Data drift: {_e(task_id)}</h2>"]
    limit = _drift_share(entries)
    out.append(
        _line_chart(
            f"Share of drifted columns, {task_id}",
            labels,
            [("share of drifted columns", share, False)],
            y_label="share drifted",
            y_max=1.0,
            ref_lines=[(limit, "dataset drift share")] if limit is not None else [],
        )
    )
    if top:
        out.append(
            _line_chart(
                f"Drift ratio per column, {task_id}",
                labels,
                [(c, ratios[c], False) for c in top],
                y_label="drift ratio (>= 1: drift)",
                ref_lines=[(1.0, "threshold")],
            )
        )
        out.append(
            f"<p class='muted'>Drift ratio: the deciding statistic relative to its threshold (distances: "
            f"statistic / threshold; p-value tests: log p / log threshold); 1 is the threshold, capped at "
            f"{MAX_RATIO:g}. The {len(top)} column(s) with the largest ratio are drawn.</p>"
        )
    newest = list(zip(runs_old_first, entries, strict=True))[::-1][:MAX_RUN_COLUMNS]
    head = "".join(f"<th title='{_e(r['run_id'])}'>{_e(_run_label(r))}</th>" for r, _ in newest)
    rows = []
    for c in columns:
        cells = "".join(_cell(e["columns"].get(c) if e else None) for _, e in newest)
        rows.append(f"<tr><td class='col-name'>{_e(c)}</td>{cells}</tr>")
    out.append(
        "<h3>Drift ratio per column and run (newest first; red: drifted)</h3>"
        f"<table class='sortable drift-columns'><thead><tr><th>column</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    run_rows = []
    for r, e in newest:
        if e is None:
            continue
        problems = ", ".join(f"{k}: {v}" for k, v in list(e["problem_columns"].items())[:10])
        report = (
            f"<a class='report-link' href='{_report_href(r['run_id'], task_id, e['map_index'])}'>report</a>"
            if e["has_report"]
            else "<span class='muted'>no report</span>"
        )
        run_rows.append(
            f"<tr><td><code>{_e(r['run_id'])}</code></td><td>{_e(_run_label(r))}</td><td>{_e(r.get('state'))}</td>"
            f"<td>{_drift_badge(e['dataset_drift'], 'dataset drift', 'no dataset drift')}</td>"
            f"<td class='num'>{_e(e['n_drifted'])} / {_e(e['evaluated_columns'])}</td>"
            f"<td>{_e(', '.join(e['drifted_columns'][:10]))}</td><td>{_e(problems)}</td><td>{report}</td></tr>"
        )
    out.append(
        "<h3>Runs</h3><table class='sortable drift-runs'><thead><tr><th>run id</th><th>date</th><th>state</th>"
        "<th>dataset</th><th>drifted / evaluated</th><th>drifted columns</th><th>problems</th><th>report</th>"
        f"</tr></thead><tbody>{''.join(run_rows)}</tbody></table>"
    )
    return "".join(out)


def _drift_share(entries: Sequence[Mapping[str, Any] | None]) -> float | None:
    """The dataset-drift share threshold of the newest entry that has one."""
    return next((e["drift_share"] for e in reversed(entries) if e and e.get("drift_share") is not None), None)


def _model_section(runs_old_first: Sequence[Mapping[str, Any]], task_id: str, metrics: Sequence[str]) -> str:
    entries = _entries(runs_old_first, "model_drift", task_id)
    labels = [_run_label(r) for r in runs_old_first]
    out = [f"<h2>Model drift: {_e(task_id)}</h2>"]
    series: list[tuple[str, Sequence[float | None], bool]] = []
    for m in metrics[: MAX_CHART_SERIES // 2]:
        series.append((m, [(e["metrics"].get(m) or {}).get("current") if e else None for e in entries], False))
        series.append(
            (f"{m} baseline", [(e["metrics"].get(m) or {}).get("baseline") if e else None for e in entries], True)
        )
    if series:
        out.append(
            _line_chart(f"Model metrics vs baseline, {task_id}", labels, series, y_label="metric value", y_min=None)
        )
    head = "".join(f"<th>{_e(m)}</th>" for m in metrics)
    rows = []
    for r, e in list(zip(runs_old_first, entries, strict=True))[::-1]:
        if e is None:
            continue
        cells = []
        for m in metrics:
            v = e["metrics"].get(m) or {}
            cls = "d1" if v.get("degraded") else ("d0" if v.get("degraded") is False else "dn")
            tip = f"baseline {_fmt(v.get('baseline'))}, change {_fmt(v.get('change'))}"
            cells.append(f"<td class='num {cls}' title='{_e(tip)}'>{_e(_fmt(v.get('current')))}</td>")
        report = (
            f"<a class='report-link' href='{_report_href(r['run_id'], task_id, e['map_index'])}'>report</a>"
            if e["has_report"]
            else "<span class='muted'>no report</span>"
        )
        rows.append(
            f"<tr><td><code>{_e(r['run_id'])}</code></td><td>{_e(_run_label(r))}</td>"
            f"<td>{_drift_badge(e['model_drift'], 'model drift', 'no model drift')}</td>{''.join(cells)}"
            f"<td>{report}</td></tr>"
        )
    out.append(
        "<table class='sortable model-runs'><thead><tr><th>run id</th><th>date</th><th>model</th>"
        f"{head}<th>report</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<p class='muted'>Red: degraded against the baseline beyond the tolerance (hover for baseline and change).</p>"
    )
    return "".join(out)


def _alerts_section(runs_newest_first: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for r in runs_newest_first:
        for a in r["alerts"]:
            sent = ", ".join(f"{ch}: {n}" for ch, n in sorted(a["sent"].items()) if n) or "none"
            suppressed = sum(a["suppressed"].values())
            failed = ", ".join(f"{ch}: {n}" for ch, n in sorted(a["failed"].items()) if n)
            items = "".join(
                f"<li><b>{_e(it.get('severity') or '')}</b> {_e(it.get('rule') or it['fingerprint'])}"
                f"{' on ' + _e(it['column']) if it.get('column') else ''}"
                f"{_ARROW + _e(', '.join(it['sent_to'])) if it['sent_to'] else ''}</li>"
                for it in a["alerts"][:20]
            )
            rows.append(
                f"<tr><td><code>{_e(r['run_id'])}</code></td><td>{_e(a['task_id'])}</td>"
                f"<td class='num'>{_e(a.get('fired'))}</td><td>{_e(sent)}</td><td class='num'>{suppressed}</td>"
                f"<td class='err'>{_e(failed)}</td><td class='num'>{_e(a['resolved'])}</td>"
                f"<td><ul>{items}</ul></td></tr>"
            )
    if not rows:
        return "<h2>Alerts</h2><p class='muted'>No alert task results in these runs.</p>"
    return (
        "<h2>Alerts</h2><table class='sortable alerts'><thead><tr><th>run id</th><th>task</th><th>fired</th>"
        "<th>sent</th><th>suppressed (dedup)</th><th>failed</th><th>resolved</th><th>alerts</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_dag_page(history: Mapping[str, Any], *, json_href: str) -> str:
    """The DAG's "Drift" tab (rendered by Airflow in an iframe)."""
    dag_id = history["dag_id"]
    runs = list(history["runs"])
    old_first = runs[::-1]
    body = [f"<h1>Drift: {_e(dag_id)}</h1>"]
    with_results = [r for r in runs if r["data_drift"] or r["model_drift"]]
    if not with_results:
        body.append(
            "<p class='empty'>No drift results yet: none of the last runs has a DataDriftOperator or "
            "ModelDriftOperator report in XCom.</p>"
        )
    else:
        latest = with_results[0]
        cards = [
            ("runs with results", str(len(with_results))),
            ("latest run", _run_label(latest)),
        ]
        for e in latest["data_drift"]:
            cards.append(
                (
                    f"{_task_label(e['task_id'], e['map_index'])}: drifted",
                    f"{e['n_drifted']} / {e['evaluated_columns']}",
                )
            )
        for e in latest["model_drift"]:
            cards.append((f"{_task_label(e['task_id'], e['map_index'])}: degraded", str(len(e["degraded_metrics"]))))
        body.append(
            "<div class='cards'>"
            + "".join(
                f"<div class='card'><div class='v'>{_e(v)}</div><div class='k'>{_e(k)}</div></div>" for k, v in cards
            )
            + "</div>"
        )
        for task_id in history["data_drift_tasks"]:
            body.append(_data_section(old_first, task_id, history["columns"].get(task_id, [])))
        for task_id in history["model_drift_tasks"]:
            body.append(_model_section(old_first, task_id, history["metrics"].get(task_id, [])))
        body.append(_alerts_section(runs))
    body.append(f"<p class='muted'>The same data as JSON: <a href='{_e(json_href)}'>history.json</a></p>")
    return _page(f"Drift: {dag_id}", "".join(body))


def render_overview_page(rows: Sequence[Mapping[str, Any]], *, dag_href: str = "dags/{dag_id}/") -> str:
    """The top-level "Drift" page: every readable DAG with drift results and its latest status.

    ``dag_href`` is a format string with ``{dag_id}`` (URL-encoded) linking each DAG to its drift
    page.  The default is relative to the overview and opens inside the same frame: Airflow's
    iframe sandbox does not allow a frame to navigate the whole UI (no ``allow-top-navigation``).
    """
    body = ["<h1>Drift monitoring</h1>"]
    if not rows:
        body.append("<p class='empty'>No DAG you can read has drift results yet.</p>")
    else:
        trs = []
        for s in rows:
            link = _e(dag_href.format(dag_id=quote(str(s["dag_id"]), safe="")))
            drifted = s.get("drifted_columns") or []
            trs.append(
                f"<tr><td><a class='dag-link' href='{link}'>{_e(s['dag_id'])}</a></td>"
                f"<td><code>{_e(s.get('run_id'))}</code></td><td>{_e(_run_label(s))}</td><td>{_e(s.get('state'))}</td>"
                f"<td>{_drift_badge(s.get('dataset_drift'), 'dataset drift', 'no dataset drift', 'n/a')}</td>"
                f"<td class='num'>{len(drifted)} / {_e(s.get('evaluated_columns'))}</td>"
                f"<td>{_e(', '.join(drifted[:8]))}{_ELLIPSIS if len(drifted) > 8 else ''}</td>"
                f"<td>{_drift_badge(s.get('model_drift'), 'model drift', 'no model drift', 'n/a')}</td>"
                f"<td class='num'>{_e(s.get('alerts_fired'))}</td>"
                f"<td class='num'>{_e(s.get('notifications_sent'))}</td></tr>"
            )
        body.append(
            "<table class='sortable drift-dags'><thead><tr><th>DAG</th><th>latest run</th><th>date</th><th>state</th>"
            "<th>data</th><th>drifted / evaluated</th><th>drifted columns</th><th>model</th><th>alerts fired</th>"
            f"<th>notifications sent</th></tr></thead><tbody>{''.join(trs)}</tbody></table>"
        )
    body.append("<p class='muted'>The same data as JSON: <a href='api/dags'>dags.json</a></p>")
    return _page("Drift monitoring", "".join(body))
