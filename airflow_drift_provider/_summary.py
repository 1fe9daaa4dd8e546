"""Human-readable summaries of reports (task logs) and compact asset-event extras."""

from __future__ import annotations

from typing import Any

MAX_LOG_COLUMNS = 200
MAX_EXTRA_COLUMNS = 50


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def format_data_report(report: dict[str, Any]) -> str:
    rows = []
    for name, col in list(report["columns"].items())[:MAX_LOG_COLUMNS]:
        method = col.get("drift_method")
        thr = (col.get("methods", {}).get(method) or {}).get("threshold") if method else None
        rows.append(
            [
                repr(name)[1:-1][:40],
                col["type"],
                col["status"],
                method or "-",
                _fmt(col.get("drift_score")),
                _fmt(thr),
                _fmt(col.get("drifted")),
            ]
        )
    s = report["summary"]
    text = _table(["column", "type", "status", "method", "score", "threshold", "drifted"], rows)
    more = len(report["columns"]) - MAX_LOG_COLUMNS
    if more > 0:
        text += f"\n... and {more} more columns"
    share = s["share_drifted"]
    text += (
        f"\n{s['n_drifted']} of {s['evaluated_columns']} evaluated columns drifted"
        f" (share {_fmt(share)}, dataset drift when >= {s['drift_share']}): dataset_drift={_fmt(s['dataset_drift'])}"
    )
    if s.get("problem_columns"):
        text += f"\nproblem columns: {s['problem_columns']}"
    return text


def format_model_report(report: dict[str, Any]) -> str:
    rows = [
        [
            name,
            _fmt(m["current"]),
            _fmt(m["baseline"]),
            _fmt(m["change"]),
            _fmt(m["relative_change"]),
            "higher" if m["higher_is_better"] else "lower",
            _fmt(m["degraded"]),
        ]
        for name, m in report["metrics"].items()
    ]
    text = _table(["metric", "current", "baseline", "change", "rel_change", "better", "degraded"], rows)
    conf = report.get("confidence") or {}
    if conf.get("current"):
        c = conf["current"]
        text += f"\nconfidence: mean {_fmt(c.get('mean'))}, low quantile {_fmt(c.get('low_quantile'))}"
        if conf.get("drift"):
            text += f", drifted={_fmt(conf['drift']['drifted'])} ({conf['drift']['method']})"
    s = report["summary"]
    text += f"\nmodel_drift={_fmt(s['model_drift'])} degraded={s['degraded_metrics']}"
    return text


def data_asset_extra(report: dict[str, Any]) -> dict[str, Any]:
    s = report["summary"]
    return {
        "drift_report": {
            "kind": "data_drift",
            "schema_version": report["schema_version"],
            "dataset_drift": s["dataset_drift"],
            "share_drifted": s["share_drifted"],
            "n_drifted": s["n_drifted"],
            "evaluated_columns": s["evaluated_columns"],
            "drifted_columns": s["drifted_columns"][:MAX_EXTRA_COLUMNS],
            "problem_columns": dict(list(s["problem_columns"].items())[:MAX_EXTRA_COLUMNS]),
            "scores": {
                name: col.get("drift_score") for name, col in list(report["columns"].items())[:MAX_EXTRA_COLUMNS]
            },
        }
    }


def model_asset_extra(report: dict[str, Any]) -> dict[str, Any]:
    s = report["summary"]
    return {
        "drift_report": {
            "kind": "model_drift",
            "schema_version": report["schema_version"],
            "model_drift": s["model_drift"],
            "degraded_metrics": s["degraded_metrics"],
            "metrics": {name: m["current"] for name, m in report["metrics"].items()},
            "confidence_drift": s.get("confidence_drift"),
        }
    }
