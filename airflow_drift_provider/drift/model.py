"""``model_drift``: performance degradation against a baseline and confidence drift."""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from airflow_drift_provider.drift import stats as st
from airflow_drift_provider.drift._json import json_safe
from airflow_drift_provider.drift._sketch import NumericSketch
from airflow_drift_provider.drift.data import SMALL_SAMPLE

REPORT_SCHEMA_VERSION = 1
CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
REGRESSION_METRICS = ("mae", "rmse", "r2")
HIGHER_IS_BETTER = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "roc_auc": True,
    "mae": False,
    "rmse": False,
    "r2": True,
}
DEFAULT_RELATIVE_TOLERANCE = 0.05
TASKS = ("classification", "binary", "multiclass", "regression")
_EPS = 1e-12  # a drop of exactly the tolerance (up to float rounding) is not a degradation


def _to_1d(values: Any, what: str) -> np.ndarray:
    if values is None:
        raise ValueError(f"{what} is required")
    if hasattr(values, "to_numpy") and not hasattr(values, "columns"):
        try:
            arr = values.to_numpy(zero_copy_only=False)  # pyarrow
        except TypeError:
            arr = values.to_numpy()  # pandas
    elif hasattr(values, "to_pylist"):
        arr = np.asarray(values.to_pylist(), dtype=object)
    else:
        arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "O":
        # a list of numbers with None/NaN holes: make it a float array (NaN rows are dropped later)
        present = [v for v in arr.tolist() if not _is_na(v)]
        numeric = bool(present) and all(_is_number(v) for v in present)
        fractional = any(isinstance(v, float | np.floating) and not float(v).is_integer() for v in present)
        if numeric and (fractional or len(present) < arr.size):
            return np.asarray([np.nan if _is_na(v) else float(v) for v in arr.tolist()], dtype=np.float64)
    return arr


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)


def _is_na(v: Any) -> bool:
    if v is None:
        return True
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _to_scores(values: Any) -> np.ndarray:
    if hasattr(values, "to_numpy"):
        arr = np.asarray(values.to_numpy(), dtype=np.float64)
    else:
        arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2):
        raise ValueError(f"y_score must be 1-D (positive-class scores) or 2-D (class probabilities), got {arr.shape}")
    return arr


def _missing_mask(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind in "fc":
        return ~np.isfinite(arr)
    if arr.dtype.kind == "O":
        import pandas as pd

        return np.asarray(pd.isna(arr), dtype=bool) | np.fromiter(
            (isinstance(v, float) and math.isinf(v) for v in arr), dtype=bool, count=arr.size
        )
    return np.zeros(arr.size, dtype=bool)


def _infer_task(y: np.ndarray) -> str:
    if y.dtype.kind in "bOUS" or y.dtype.kind == "i" or y.dtype.kind == "u":
        return "classification"
    if y.dtype.kind == "f":
        if y.size and np.all(np.mod(y, 1) == 0) and np.unique(y).size <= 50:
            return "classification"
        return "regression"
    return "classification"


def _norm_labels(y: np.ndarray) -> np.ndarray:
    """Comparable labels: integral floats -> int, everything else as is."""
    if y.dtype.kind == "f" and y.size and np.all(np.mod(y, 1) == 0):
        return y.astype(np.int64)
    if y.dtype.kind == "O":
        out = [int(v) if isinstance(v, float) and v.is_integer() else v for v in y.tolist()]
        try:
            return np.asarray(out)
        except (TypeError, ValueError):
            return np.asarray([str(v) for v in out])
    return y


def _parse_tolerance(tolerance: Any, names: list[str]) -> dict[str, dict[str, float]]:
    def one(v: Any, where: str) -> dict[str, float]:
        if isinstance(v, bool):
            raise ValueError(f"tolerance{where} must be a number or a mapping, got {v!r}")
        if isinstance(v, int | float):
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"tolerance{where} must be a finite number >= 0, got {v!r}")
            return {"relative": float(v)}
        if isinstance(v, Mapping):
            if not v:
                raise ValueError(f"tolerance{where} is an empty mapping; give 'relative' and/or 'absolute'")
            out = {}
            for k, x in v.items():
                if k not in ("relative", "absolute"):
                    raise ValueError(f"tolerance{where}: unknown key {k!r} (use 'relative' and/or 'absolute')")
                if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or x < 0:
                    raise ValueError(f"tolerance{where}[{k!r}] must be a finite number >= 0, got {x!r}")
                out[k] = float(x)
            return out
        raise ValueError(f"tolerance{where} must be a number or a mapping, got {v!r}")

    default = {"relative": DEFAULT_RELATIVE_TOLERANCE}
    if isinstance(tolerance, Mapping) and not tolerance:
        raise ValueError("tolerance is an empty mapping; give 'relative' and/or 'absolute' (or None for the default)")
    if tolerance is None:
        return {m: dict(default) for m in names}
    if isinstance(tolerance, Mapping) and any(k in HIGHER_IS_BETTER for k in tolerance):
        unknown = [k for k in tolerance if k not in HIGHER_IS_BETTER]
        if unknown:
            raise ValueError(f"tolerance: unknown metric(s) {unknown!r}")
        return {m: one(tolerance[m], f"[{m!r}]") if m in tolerance else dict(default) for m in names}
    glob = one(tolerance, "")
    return {m: dict(glob) for m in names}


class _Data:
    def __init__(self, y_true: Any, y_pred: Any, y_score: Any, what: str) -> None:
        yt = _to_1d(y_true, f"{what} y_true")
        yp = _to_1d(y_pred, f"{what} y_pred")
        if yt.size != yp.size:
            raise ValueError(f"{what}: y_true has {yt.size} rows but y_pred has {yp.size}")
        sc = _to_scores(y_score) if y_score is not None else None
        if sc is not None and sc.shape[0] != yt.size:
            raise ValueError(f"{what}: y_score has {sc.shape[0]} rows but y_true has {yt.size}")
        self.rows = int(yt.size)
        keep = ~(_missing_mask(yt) | _missing_mask(yp))
        self.dropped = int(self.rows - keep.sum())
        self.y_true = yt[keep]
        self.y_pred = yp[keep]
        self.y_score = sc[keep] if sc is not None else None


def _regression_metrics(d: _Data, names: list[str]) -> dict[str, float | None]:
    yt = d.y_true.astype(np.float64)
    yp = d.y_pred.astype(np.float64)
    out: dict[str, float | None] = {}
    if yt.size == 0:
        return {m: None for m in names}
    err = yp - yt
    for m in names:
        if m == "mae":
            out[m] = float(np.mean(np.abs(err)))
        elif m == "rmse":
            out[m] = float(np.sqrt(np.mean(err * err)))
        elif m == "r2":
            ss_tot = float(np.sum((yt - yt.mean()) ** 2))
            out[m] = None if ss_tot == 0 else 1.0 - float(np.sum(err * err)) / ss_tot
    return out


def _classification_metrics(
    d: _Data, names: list[str], classes: list[Any], pos_label: Any, binary: bool
) -> tuple[dict[str, float | None], dict[str, str]]:
    from sklearn import metrics as skm

    yt, yp = d.y_true, d.y_pred
    out: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    if yt.size == 0:
        return {m: None for m in names}, {m: "no rows" for m in names}
    avg: dict[str, Any] = (
        {"average": "binary", "pos_label": pos_label} if binary else {"average": "macro", "labels": classes}
    )
    for m in names:
        if m == "accuracy":
            out[m] = float(skm.accuracy_score(yt, yp))
        elif m == "precision":
            out[m] = float(skm.precision_score(yt, yp, zero_division=0, **avg))
        elif m == "recall":
            out[m] = float(skm.recall_score(yt, yp, zero_division=0, **avg))
        elif m == "f1":
            out[m] = float(skm.f1_score(yt, yp, zero_division=0, **avg))
        elif m == "roc_auc":
            sc = d.y_score
            if sc is None:
                out[m], notes[m] = None, "needs y_score"
                continue
            ok = np.all(np.isfinite(sc), axis=1) if sc.ndim == 2 else np.isfinite(sc)
            t, s = yt[ok], sc[ok]
            if np.unique(t).size < 2:
                out[m], notes[m] = None, "undefined: y_true has a single class"
                continue
            try:
                if binary:
                    if s.ndim == 2:
                        if s.shape[1] != len(classes):
                            out[m], notes[m] = (
                                None,
                                (
                                    f"y_score has {s.shape[1]} columns but {len(classes)} classes were observed: "
                                    "pass classes= to name the score columns"
                                ),
                            )
                            continue
                        s = s[:, classes.index(pos_label)]
                    out[m] = float(skm.roc_auc_score(t == pos_label, s))
                else:
                    if s.ndim != 2 or s.shape[1] != len(classes):
                        out[m], notes[m] = (
                            None,
                            (
                                f"multiclass roc_auc needs y_score with {len(classes)} columns (one per class); "
                                "pass classes= when some classes are absent from the data"
                            ),
                        )
                        continue
                    if np.unique(t).size < len(classes):
                        out[m], notes[m] = None, "undefined: not every class is present in y_true"
                        continue
                    s = s / np.clip(s.sum(axis=1, keepdims=True), 1e-12, None)
                    out[m] = float(skm.roc_auc_score(t, s, multi_class="ovr", average="macro", labels=classes))
            except ValueError as exc:
                out[m], notes[m] = None, f"undefined: {exc}"
    return out, notes


def _confidence(sc: np.ndarray | None, q: float) -> tuple[np.ndarray | None, dict[str, Any] | None]:
    if sc is None:
        return None, None
    if sc.ndim == 2:
        ok = np.all(np.isfinite(sc), axis=1)
        conf = sc[ok].max(axis=1)
    else:
        s = sc[np.isfinite(sc)]
        conf = np.maximum(s, 1.0 - s) if s.size and s.min() >= 0 and s.max() <= 1 else s
    if conf.size == 0:
        return conf, {"count": 0}
    return conf, {
        "count": int(conf.size),
        "mean": float(conf.mean()),
        "std": float(conf.std()),
        "min": float(conf.min()),
        "max": float(conf.max()),
        "low_quantile": float(np.quantile(conf, q)),
        "low_quantile_level": q,
    }


def model_drift(
    y_true: Any,
    y_pred: Any,
    *,
    y_score: Any = None,
    baseline: Mapping[str, float] | None = None,
    reference: Mapping[str, Any] | None = None,
    task: str | None = None,
    metrics: list[str] | None = None,
    tolerance: Any = None,
    pos_label: Any = None,
    classes: list[Any] | None = None,
    confidence_quantile: float = 0.05,
    confidence_thresholds: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Model performance against a baseline plus prediction-confidence drift.

    :param y_true: current labels / targets.
    :param y_pred: current predictions.
    :param y_score: class probabilities (n x classes, columns in sorted class
        order unless ``classes`` says otherwise) or positive-class scores.
    :param baseline: ``{metric: value}`` taken as the baseline.
    :param reference: ``{"y_true": ..., "y_pred": ..., "y_score": ...}``; the
        baseline of metrics not in ``baseline`` is computed from it, and its
        confidence distribution is the reference for the confidence drift test.
    :param task: ``"classification"`` (binary/multiclass inferred),
        ``"binary"``, ``"multiclass"`` or ``"regression"``; inferred if None
        (floats that are not all integral, or with more than 50 distinct
        values, mean regression).
    :param metrics: metric names (default: accuracy, precision, recall, f1 and
        roc_auc when scores are given; mae, rmse, r2 for regression).
    :param tolerance: a number (relative tolerance for every metric),
        ``{"relative": r, "absolute": a}`` or ``{metric: number | {...}}``.
        A metric is degraded when it is worse than the baseline by more than
        any tolerance given.  Default: 5 % relative.
    :param pos_label: positive class for binary metrics (default: 1/True when
        present, else the larger label).
    :param confidence_quantile: the low quantile reported for confidence.
    :param confidence_thresholds: thresholds for the confidence drift test
        (``ks`` p-value, ``wasserstein``), defaults as in ``data_drift``.
    """
    started = time.perf_counter()
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; use one of {TASKS}")
    if not isinstance(confidence_quantile, int | float) or not 0 < confidence_quantile < 1:
        raise ValueError(f"confidence_quantile must be in (0, 1), got {confidence_quantile!r}")
    if baseline is not None:
        if not isinstance(baseline, Mapping):
            raise ValueError(f"baseline must be a mapping of metric name to number, got {baseline!r}")
        for k, v in baseline.items():
            if k not in HIGHER_IS_BETTER:
                raise ValueError(f"baseline: unknown metric {k!r}; known: {sorted(HIGHER_IS_BETTER)}")
            if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
                raise ValueError(f"baseline[{k!r}] must be a finite number, got {v!r}")
        baseline = {k: float(v) for k, v in baseline.items()}
    if reference is not None and (
        not isinstance(reference, Mapping) or "y_true" not in reference or "y_pred" not in reference
    ):
        raise ValueError("reference must be a mapping with 'y_true' and 'y_pred' (and optionally 'y_score')")

    cur = _Data(y_true, y_pred, y_score, "current")
    ref = _Data(reference["y_true"], reference["y_pred"], reference.get("y_score"), "reference") if reference else None

    kind = task or _infer_task(cur.y_true if cur.y_true.size else (ref.y_true if ref else cur.y_true))
    regression = kind == "regression"
    if regression:
        for d in (cur, ref):
            if d is None:
                continue
            try:
                d.y_true = d.y_true.astype(np.float64)
                d.y_pred = d.y_pred.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"regression needs numeric y_true/y_pred: {exc}") from exc
    else:
        for d in (cur, ref):
            if d is not None:
                d.y_true, d.y_pred = _norm_labels(d.y_true), _norm_labels(d.y_pred)

    allowed = REGRESSION_METRICS if regression else CLASSIFICATION_METRICS
    if metrics is None:
        names = [m for m in allowed if m != "roc_auc" or cur.y_score is not None]
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        names = list(metrics)
        bad = [m for m in names if m not in allowed]
        if bad:
            what = "regression" if regression else "classification"
            raise ValueError(f"metric(s) {bad!r} do not apply to a {what} task; use {allowed}")
    tol = _parse_tolerance(tolerance, names)

    info: dict[str, Any] = {"task": "regression"}
    notes: dict[str, str] = {}
    if regression:
        current = _regression_metrics(cur, names)
        computed_base = _regression_metrics(ref, names) if ref else {}
    else:
        pool = [cur.y_true, cur.y_pred] + ([ref.y_true, ref.y_pred] if ref else [])
        try:
            labels = sorted(set(np.concatenate([np.asarray(p, dtype=object) for p in pool]).tolist()))
        except TypeError:
            labels = sorted({str(v) for p in pool for v in p.tolist()})
        if classes is not None:
            cls = list(classes)
            if len(set(map(repr, cls))) != len(cls):
                raise ValueError(f"classes has duplicates: {cls!r}")
            try:
                order = sorted(range(len(cls)), key=lambda i: cls[i])
            except TypeError as exc:
                raise ValueError(f"classes must be mutually comparable labels: {exc}") from exc
            for d in (cur, ref):  # score columns follow `classes`; sklearn wants sorted labels
                if d is not None and d.y_score is not None and d.y_score.ndim == 2:
                    if d.y_score.shape[1] != len(cls):
                        raise ValueError(f"y_score has {d.y_score.shape[1]} columns but classes has {len(cls)}")
                    d.y_score = d.y_score[:, order]
            cls = [cls[i] for i in order]
        else:
            cls = labels
        binary = kind == "binary" or (kind == "classification" and len(cls) <= 2)
        if pos_label is None and binary:
            pos_label = 1 if 1 in cls else (True if True in cls else (cls[-1] if cls else 1))
        info = {"task": "binary" if binary else "multiclass", "classes": cls[:50]}
        if binary:
            info["pos_label"] = pos_label
        else:
            info["average"] = "macro"
        current, notes = _classification_metrics(cur, names, cls, pos_label, binary)
        computed_base = _classification_metrics(ref, names, cls, pos_label, binary)[0] if ref else {}

    report_metrics: dict[str, dict[str, Any]] = {}
    for m in names:
        b = baseline.get(m) if baseline and m in baseline else computed_base.get(m)
        c = current.get(m)
        hib = HIGHER_IS_BETTER[m]
        entry: dict[str, Any] = {
            "current": c,
            "baseline": b,
            "baseline_source": "given"
            if baseline and m in baseline
            else ("reference" if computed_base.get(m) is not None else None),
            "higher_is_better": hib,
            "tolerance": tol[m],
            "change": None,
            "relative_change": None,
            "degraded": None,
        }
        if m in notes:
            entry["note"] = notes[m]
        if c is not None and b is not None:
            change = c - b
            entry["change"] = change
            entry["relative_change"] = change / abs(b) if b != 0 else None
            worse = -change if hib else change
            degraded = False
            t = tol[m]
            if "absolute" in t and worse > t["absolute"] + _EPS:
                degraded = True
            if "relative" in t:
                if b != 0 and worse / abs(b) > t["relative"] + _EPS:
                    degraded = True
                if b == 0 and worse > _EPS:
                    degraded = True
            entry["degraded"] = degraded
        report_metrics[m] = entry

    conf_cur, conf_stats = _confidence(cur.y_score, float(confidence_quantile))
    conf_ref, conf_ref_stats = _confidence(ref.y_score if ref else None, float(confidence_quantile))
    confidence: dict[str, Any] | None = None
    if conf_stats is not None:
        confidence = {"current": conf_stats, "reference": conf_ref_stats, "drift": None}
        if conf_ref is not None and conf_cur is not None and conf_ref.size >= 5 and conf_cur.size >= 5:
            thr = dict(st.DEFAULT_THRESHOLDS)
            thr.update(confidence_thresholds or {})
            a = NumericSketch.from_values(conf_ref[np.isfinite(conf_ref)])
            b2 = NumericSketch.from_values(conf_cur[np.isfinite(conf_cur)])
            ks = st.ks_test(a, b2)
            ws = st.wasserstein_test(a, b2)
            method = "ks" if min(a.n, b2.n) <= SMALL_SAMPLE else "wasserstein"
            ks["threshold"], ws["threshold"] = thr["ks"], thr["wasserstein"]
            ks["drifted"] = bool(ks["p_value"] < thr["ks"])
            ws["drifted"] = None if ws["statistic"] is None else bool(ws["statistic"] >= thr["wasserstein"])
            drifted = (
                ks["drifted"] if method == "ks" else (ws["drifted"] if ws["drifted"] is not None else ks["drifted"])
            )
            confidence["drift"] = {
                "method": method,
                "drifted": drifted,
                "mean_change": conf_stats["mean"] - conf_ref_stats["mean"] if conf_ref_stats else None,
                "methods": {"ks": ks, "wasserstein": ws},
            }

    degraded = [m for m, e in report_metrics.items() if e["degraded"]]
    conf_drift = bool(confidence and confidence.get("drift") and confidence["drift"]["drifted"])
    decidable = any(e["degraded"] is not None for e in report_metrics.values()) or bool(
        confidence and confidence.get("drift")
    )
    status = "ok" if cur.y_true.size else "empty"
    report = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": "model_drift",
        "status": status,
        **info,
        "rows": {
            "current": cur.rows,
            "current_dropped": cur.dropped,
            "reference": ref.rows if ref else None,
            "reference_dropped": ref.dropped if ref else None,
        },
        "metrics": report_metrics,
        "confidence": confidence,
        "summary": {
            "model_drift": (bool(degraded) or conf_drift) if decidable else None,
            "degraded_metrics": degraded,
            "confidence_drift": conf_drift if confidence and confidence.get("drift") else None,
            "metrics_evaluated": [m for m, e in report_metrics.items() if e["degraded"] is not None],
        },
        "elapsed_seconds": round(time.perf_counter() - started, 6),
    }
    return json_safe(report)
