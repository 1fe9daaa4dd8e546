"""``data_drift``: column-by-column comparison of current data with a reference."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from airflow_drift_provider.drift import stats as st
from airflow_drift_provider.drift._json import json_safe
from airflow_drift_provider.drift._options import (
    check_correction,
    check_drift_share,
    check_methods,
    check_thresholds,
)
from airflow_drift_provider.drift._sketch import DEFAULT_RESOLUTION
from airflow_drift_provider.drift._tables import CATEGORICAL, NUMERICAL
from airflow_drift_provider.drift.profile import ColumnProfile, ReferenceProfile, _validate_names, build_profile

REPORT_SCHEMA_VERSION = 1
SMALL_SAMPLE = 1000  # at or below: hypothesis tests; above: effect-size distances
MAX_LISTED_CATEGORIES = 20
_BINNED = {"psi": st.psi, "jensenshannon": st.jensenshannon, "hellinger": st.hellinger}  # on shared bins


def _null_share(col: ColumnProfile | None) -> float | None:
    if col is None or col.rows == 0:
        return None
    return (col.nulls + col.pos_inf + col.neg_inf) / col.rows


def _side_stats(col: ColumnProfile) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": col.rows, "valid": col.valid, "nulls": col.nulls}
    if col.pos_inf or col.neg_inf:
        out["infinite"] = col.pos_inf + col.neg_inf
    if col.kind == NUMERICAL and col.sketch is not None and col.sketch.n:
        sk = col.sketch
        out.update(mean=sk.mean, std=sk.std, min=sk.min, max=sk.max)
    elif col.kind == CATEGORICAL:
        out["categories"] = len(col.counts) + (1 if col.other_count else 0)
    return out


def _status(ref: ColumnProfile | None, cur: ColumnProfile | None, min_samples: int) -> str:
    if ref is None or cur is None:
        return "missing"
    if ref.conflict or cur.conflict:
        return "mixed_types"
    if ref.partial or cur.partial:
        return "inconsistent_schema"
    if ref.rows == 0 or cur.rows == 0:
        return "empty"
    if ref.valid == 0 or cur.valid == 0:
        return "all_null"
    if ref.kind != cur.kind:
        return "type_mismatch"
    if ref.valid < min_samples or cur.valid < min_samples:
        return "insufficient_data"
    if ref.kind == NUMERICAL and ref.sketch is not None and ref.sketch.constant:
        return "constant"
    return "ok"


def _numeric_labels(counts: dict[str, int]) -> bool:
    for label in counts:
        try:
            float(label)
        except ValueError:
            return False
    return True


def _categorical_vectors(
    ref: ColumnProfile, cur: ColumnProfile
) -> tuple[list[str], np.ndarray, np.ndarray, list[str], int]:
    """Union of categories (reference order, then unseen by current count)."""
    ref_cats = sorted(ref.counts, key=lambda k: (-ref.counts[k], k))
    unseen_all = [k for k in cur.counts if k not in ref.counts]
    folded = 0
    if ref.other_count:  # reference was capped: unknown whether these are new
        folded = sum(cur.counts[k] for k in unseen_all)
        unseen: list[str] = []
    else:
        unseen = sorted(unseen_all, key=lambda k: (-cur.counts[k], k))
    labels = ref_cats + unseen
    r = [ref.counts[k] for k in ref_cats] + [0] * len(unseen)
    c = [cur.counts.get(k, 0) for k in ref_cats] + [cur.counts[k] for k in unseen]
    if ref.other_count or cur.other_count or folded:
        labels.append("__other__")
        r.append(ref.other_count)
        c.append(cur.other_count + folded)
    return labels, np.asarray(r, dtype=np.float64), np.asarray(c, dtype=np.float64), unseen, folded


def _auto_method(kind: str, status: str, n_min: int) -> str:
    if status == "constant":
        return "psi"
    if kind == NUMERICAL:
        return "ks" if n_min <= SMALL_SAMPLE else "wasserstein"
    return "chi2" if n_min <= SMALL_SAMPLE else "jensenshannon"


def _column_methods(name: str, kind: str, spec: dict[str, list[str]] | None) -> tuple[list[str], bool]:
    applicable = st.NUMERICAL_METHODS if kind == NUMERICAL else st.CATEGORICAL_METHODS
    if spec is None:
        return list(applicable), False
    chosen = spec.get(name) or spec.get(kind) or spec.get("*")
    if chosen is None:
        return list(applicable), False
    return [m for m in chosen if m in applicable], True


def _analyse(
    name: str,
    ref: ColumnProfile,
    cur: ColumnProfile,
    status: str,
    method_spec: dict[str, list[str]] | None,
    thresholds: dict[str, float],
    bins: int,
) -> dict[str, Any]:
    kind = ref.kind
    assert kind is not None
    methods, explicit = _column_methods(name, kind, method_spec)
    out: dict[str, Any] = {}
    results: dict[str, dict[str, Any]] = {}
    if kind == NUMERICAL:
        rs, cs = ref.sketch, cur.sketch
        assert rs is not None and cs is not None
        edges, p, q = st.numeric_bins(rs, cs, bins)
        out["bin_edges"] = edges
        for m in methods:
            if m == "ks":
                results[m] = st.ks_test(rs, cs)
            elif m == "wasserstein":
                results[m] = st.wasserstein_test(rs, cs)
            else:
                results[m] = {"statistic": _BINNED[m](p, q)}
        out["reference_distribution"] = p.tolist()
        out["current_distribution"] = q.tolist()
    else:
        labels, rc, cc, unseen, folded = _categorical_vectors(ref, cur)
        p, q = rc / rc.sum(), cc / cc.sum()
        for m in methods:
            if m == "chi2":
                results[m] = st.chi2_test(rc, cc)
            else:
                results[m] = {"statistic": _BINNED[m](p, q)}
        # the current side keeps every reference category when capped, so the rest is exactly "unseen"
        unseen_n = sum(cur.counts[k] for k in unseen) + (cur.other_count if not ref.other_count else 0)
        out["unseen_categories"] = unseen[:MAX_LISTED_CATEGORIES]
        out["unseen_count"] = len(unseen) + (cur.other_distinct if not ref.other_count else 0)
        out["unseen_share"] = unseen_n / cur.valid if cur.valid else None
        missing = [k for k in sorted(ref.counts, key=lambda k: (-ref.counts[k], k)) if k not in cur.counts]
        out["missing_categories"] = missing[:MAX_LISTED_CATEGORIES]
        listed = labels[:MAX_LISTED_CATEGORIES]
        out["category_shares"] = {
            "labels": listed,
            "reference": p[: len(listed)].tolist(),
            "current": q[: len(listed)].tolist(),
        }
        if folded:
            out["folded_into_other"] = folded
    for m, res in results.items():
        res["threshold"] = thresholds[m]
    if explicit:
        decider = next((m for m in methods if results.get(m, {}).get("statistic") is not None), None)
    else:
        decider = _auto_method(kind, status, min(ref.valid, cur.valid))
        if decider not in results:
            results[decider] = {}
    out["methods"] = results
    out["drift_method"] = decider
    return out


def _decide(res: dict[str, Any]) -> None:
    for m, r in res.get("methods", {}).items():
        stat = r.get("statistic")
        if m in st.P_VALUE_METHODS:
            p = r.get("p_value_adjusted", r.get("p_value"))
            r["drifted"] = None if p is None or not math.isfinite(p) else bool(p < r["threshold"])
        else:
            r["drifted"] = None if stat is None or not math.isfinite(stat) else bool(stat >= r["threshold"])
    dm = res.get("drift_method")
    if dm is None:
        res["drifted"] = None
        res["drift_score"] = None
        return
    r = res["methods"][dm]
    res["drifted"] = r.get("drifted")
    res["drift_score"] = r.get("p_value_adjusted", r.get("p_value")) if dm in st.P_VALUE_METHODS else r.get("statistic")


def _apply_correction(columns: dict[str, dict[str, Any]], correction: str) -> None:
    from scipy.stats import false_discovery_control

    for m in st.P_VALUE_METHODS:
        names = [c for c, r in columns.items() if r.get("methods", {}).get(m, {}).get("p_value") is not None]
        if not names:
            continue
        ps = np.asarray([columns[c]["methods"][m]["p_value"] for c in names], dtype=np.float64)
        if correction == "bonferroni":
            adj = np.minimum(1.0, ps * len(ps))
        else:
            adj = false_discovery_control(ps, method="bh")
        for c, a in zip(names, adj.tolist(), strict=True):
            columns[c]["methods"][m]["p_value_adjusted"] = float(a)
            columns[c]["methods"][m]["correction"] = correction


def data_drift(
    reference: Any,
    current: Any,
    *,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] | None = None,
    methods: Any = None,
    thresholds: Mapping[str, Any] | None = None,
    drift_share: float = 0.5,
    correction: str | None = None,
    bins: int = 10,
    min_samples: int = 5,
    resolution: int = DEFAULT_RESOLUTION,
) -> dict[str, Any]:
    """Compare ``current`` with ``reference`` column by column.

    :param reference: a pandas DataFrame, pyarrow Table/RecordBatch, an
        iterable of those (streamed), or a :class:`ReferenceProfile`.
    :param current: the same kinds of input, or a :class:`ReferenceProfile`
        of the *current* data (a "current profile": e.g. merged from
        partition profiles with :func:`merge_profiles`, or computed inside
        the database by :func:`~airflow_drift_provider.drift.pushdown.profile_sql`).
        A current profile is used as it is: its column types are not
        re-derived (``categorical`` does not apply to it), so build it with
        the same column types as the reference - columns whose type differs
        get the usual per-column statuses (``type_mismatch`` ...).  The
        categorical and binned statistics (``chi2``, ``psi``,
        ``jensenshannon``, ``hellinger``) equal those of the data when the
        current profile keeps every reference category and holds exact
        counts at the reference's sketch points (``profile_sql`` does both,
        as do ``build_profile(..., like=reference)`` and ``merge_profiles(...,
        like=reference)``; profiles built without ``like`` may fold rare
        categories into ``other_count`` and interpolate between their own
        points); ``ks`` and
        ``wasserstein`` are within the sketch bounds (README, "Accuracy";
        the KS ``error_bound`` is reported).  The report then says
        ``"current": {"source": "profile", ...}`` (``"data"`` otherwise).
    :param columns: columns to compare (default: all columns of either side).
    :param categorical: columns to treat as categorical even when numeric.
    :param methods: ``None`` (all applicable methods, the decision by the
        default rule), a list of method names (the first applicable one
        decides), or a mapping ``{"numerical" | "categorical" | column: [...]}``.
    :param thresholds: ``{method: value}`` and/or ``{column: {method: value}}``.
        p-value methods (``ks``, ``chi2``) drift when ``p < value``; distances
        when ``statistic >= value``.
    :param drift_share: the dataset drifts when at least this share of the
        evaluated columns drifted.
    :param correction: ``None``, ``"bonferroni"`` or ``"bh"``
        (Benjamini-Hochberg) for the p-value methods across columns.
    :param bins: reference-quantile bins for ``psi``/``jensenshannon``/``hellinger``.
    :param min_samples: fewer valid values on either side -> ``insufficient_data``.
    :param resolution: sketch resolution when the reference/current are data.
    :returns: a JSON-safe report (see README, "Report schema").
    """
    started = time.perf_counter()
    check_drift_share(drift_share)
    corr = check_correction(correction)
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}")
    if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
        raise ValueError(f"min_samples must be a positive integer, got {min_samples!r}")
    method_spec = check_methods(methods)
    glob_thr, col_thr = check_thresholds(thresholds)
    cols = _validate_names(columns, "columns")
    cats = set(_validate_names(categorical, "categorical") or [])
    if isinstance(reference, ReferenceProfile):
        ref_p = reference
        ref_source = "profile"
        res_used = reference.resolution
    else:
        ref_p = build_profile(reference, columns=cols, categorical=cats, resolution=resolution, _what="reference")
        ref_source = "data"
        res_used = resolution
    if isinstance(current, ReferenceProfile):
        cur_p = current
        cur_source = "profile"
    else:
        cur_p = build_profile(current, columns=cols, categorical=cats, resolution=res_used, like=ref_p, _what="current")
        cur_source = "data"

    if cols is None:
        names = list(ref_p.columns) + [c for c in cur_p.columns if c not in ref_p.columns]
        if cur_p.columns and not set(ref_p.columns) & set(cur_p.columns):
            raise ValueError(
                f"reference and current have no common columns (reference: {sorted(ref_p.columns)[:10]}, "
                f"current: {sorted(cur_p.columns)[:10]})"
            )
        if not ref_p.columns:
            raise ValueError("reference has no columns")
    else:
        names = cols
        if not any(c in ref_p.columns for c in names):
            raise ValueError(f"none of the requested columns {names[:10]!r} is in the reference")
    current_empty_stream = cur_p.rows == 0 and not cur_p.columns

    report_cols: dict[str, dict[str, Any]] = {}
    extra: list[str] = []
    unknown: list[str] = []
    missing: list[str] = []
    for name in names:
        ref = ref_p.columns.get(name)
        cur = cur_p.columns.get(name)
        if ref is None:
            (extra if name in cur_p.columns else unknown).append(name)
            continue
        if cur is None and current_empty_stream:
            cur = ColumnProfile(kind=ref.kind)
        status = _status(ref, cur, min_samples)
        if (
            status in ("ok", "insufficient_data")
            and cur is not None
            and ref.kind == CATEGORICAL
            and cur.from_numbers
            and name not in cats
            and not _numeric_labels(ref.counts)
        ):
            # text categories in the reference, numbers now: forced to categories only for comparison
            status = "type_mismatch"
        kind = ref.kind or (cur.kind if cur is not None else None) or NUMERICAL
        res: dict[str, Any] = {
            "type": kind,
            "status": status,
            "drifted": None,
            "drift_method": None,
            "drift_score": None,
            "null_share": {"reference": _null_share(ref), "current": _null_share(cur)},
            "reference": _side_stats(ref),
            "current": _side_stats(cur) if cur is not None else None,
            "methods": {},
        }
        if status == "missing":
            missing.append(name)
        if status == "type_mismatch" and cur is not None:
            res["current_type"] = NUMERICAL if cur.from_numbers else cur.kind
        if ref.mixed or (cur is not None and cur.mixed):
            res["warnings"] = ["mixed_types: numbers and strings in one column, compared as categories"]
        if status in ("ok", "constant"):
            thr = dict(glob_thr)
            thr.update(col_thr.get(name, {}))
            assert cur is not None
            res.update(_analyse(name, ref, cur, status, method_spec, thr, bins))
        report_cols[name] = res

    if corr is not None:
        _apply_correction(report_cols, corr)
    for res in report_cols.values():
        if res["methods"]:
            _decide(res)

    evaluated = [n for n, r in report_cols.items() if r["drifted"] is not None]
    drifted = [n for n in evaluated if report_cols[n]["drifted"]]
    share = len(drifted) / len(evaluated) if evaluated else None
    summary = {
        "columns": len(report_cols),
        "evaluated_columns": len(evaluated),
        "drifted_columns": drifted,
        "n_drifted": len(drifted),
        "share_drifted": share,
        "drift_share": float(drift_share),
        "dataset_drift": None if share is None else bool(share >= drift_share),
        "missing_columns": missing,
        "extra_columns": extra,
        "unknown_columns": unknown,
        "problem_columns": {n: r["status"] for n, r in report_cols.items() if r["status"] not in ("ok", "constant")},
    }
    report = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": "data_drift",
        "reference": {"source": ref_source, "rows": ref_p.rows},
        "current": {"source": cur_source, "rows": cur_p.rows},
        "settings": {
            "bins": bins,
            "correction": corr,
            "min_samples": min_samples,
            "thresholds": glob_thr,
            "resolution": res_used,
            "small_sample": SMALL_SAMPLE,
        },
        "columns": report_cols,
        "summary": summary,
        "elapsed_seconds": round(time.perf_counter() - started, 6),
    }
    return json_safe(report)
