"""Property-based tests: ``data_drift`` on random messy pandas frames.

For any pair of frames, ``data_drift`` either returns a JSON-safe, internally
consistent report, or raises ``ValueError`` for a whole-input problem (here: no
common columns).  Never any other exception.  A stored reference profile gives
the same answers as the raw reference.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from airflow_drift_provider.drift import ReferenceProfile, build_profile, data_drift, merge_profiles
from tests.helpers import STATUSES, assert_plain_json

DECIDABLE = ("ok", "constant")
METHODS = {"ks", "chi2", "wasserstein", "psi", "jensenshannon", "hellinger"}
MIN_SAMPLES = 5

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE_NAMES = ["température", "列", "<script>alert(1)</script>", "a.b*c", "", "with space", "null", "__other__"]
names = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.text(st.characters(exclude_categories=("Cs",)), min_size=0, max_size=6),
)

# column kinds whose null count is known without the engine: NaN, None, NA, NaT and +-inf are nulls
KINDS = [
    "float",
    "int",
    "nullable_int",
    "str_none",
    "str_object",
    "str_dtype",
    "bool",
    "nullable_bool",
    "mixed",
    "constant",
    "all_null",
    "category",
    "datetime",
]
NULL_ORACLE_KINDS = {"float", "int", "nullable_int", "constant", "all_null", "datetime", "bool", "nullable_bool"}

moderate_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
float_or_bad = st.one_of(
    moderate_floats, moderate_floats, moderate_floats, st.just(math.nan), st.just(math.inf), st.just(-math.inf)
)
short_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=3)
small_text = st.sampled_from(["a", "b", "c", "é", "列", ""])


@st.composite
def column(draw, kind: str, n: int, value_floats=float_or_bad) -> pd.Series:
    if kind == "float":
        return pd.Series(np.asarray(draw(st.lists(value_floats, min_size=n, max_size=n)), dtype=np.float64))
    if kind == "int":
        return pd.Series(np.asarray(draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n)), dtype=np.int64))
    if kind == "nullable_int":
        vals = draw(st.lists(st.one_of(st.integers(-50, 50), st.none()), min_size=n, max_size=n))
        return pd.Series(vals, dtype="Int64")
    if kind == "str_none":  # default inference (pandas 3: the "str" dtype)
        return pd.Series(draw(st.lists(st.one_of(small_text, short_text, st.none()), min_size=n, max_size=n)))
    if kind == "str_object":
        vals = draw(st.lists(st.one_of(small_text, st.none()), min_size=n, max_size=n))
        return pd.Series(vals, dtype=object)
    if kind == "str_dtype":
        return pd.Series(draw(st.lists(st.one_of(small_text, st.none()), min_size=n, max_size=n)), dtype="str")
    if kind == "bool":
        return pd.Series(np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool))
    if kind == "nullable_bool":
        return pd.Series(draw(st.lists(st.one_of(st.booleans(), st.none()), min_size=n, max_size=n)), dtype="boolean")
    if kind == "mixed":
        item = st.one_of(
            st.integers(-5, 5), value_floats, small_text, short_text, st.none(), st.booleans(), st.just(pd.NA)
        )
        return pd.Series(draw(st.lists(item, min_size=n, max_size=n)), dtype=object)
    if kind == "constant":
        value = draw(st.one_of(moderate_floats, st.integers(-100, 100), small_text, st.booleans()))
        return pd.Series([value] * n)
    if kind == "all_null":
        how = draw(st.sampled_from(["nan", "object", "Int64", "str", "boolean", "datetime"]))
        if how == "nan":
            return pd.Series(np.full(n, np.nan))
        if how == "object":
            return pd.Series([None] * n, dtype=object)
        if how == "datetime":
            return pd.Series(pd.to_datetime([None] * n))
        return pd.Series([None] * n, dtype=how)
    if kind == "category":
        vals = draw(st.lists(st.one_of(small_text, st.none()), min_size=n, max_size=n))
        return pd.Series(vals, dtype="category")
    if kind == "datetime":
        secs = draw(st.lists(st.one_of(st.integers(1_600_000_000, 1_800_000_000), st.none()), min_size=n, max_size=n))
        return pd.Series(pd.to_datetime(secs, unit="s"))
    raise AssertionError(kind)


@st.composite
def frame_pair(draw, kinds=tuple(KINDS), value_floats=float_or_bad):
    pool = draw(st.lists(names, min_size=1, max_size=8, unique=True))
    ref_names = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6, unique=True))
    cur_names = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6, unique=True))
    rows = st.one_of(st.just(0), st.integers(1, 60), st.integers(1, 60), st.integers(5, 60), st.integers(5, 60))
    n_ref, n_cur = draw(rows), draw(rows)
    ref_kinds = {c: draw(st.sampled_from(kinds)) for c in ref_names}
    cur_kinds = {}
    for c in cur_names:
        same = c in ref_kinds and draw(st.sampled_from([True, True, False]))
        cur_kinds[c] = ref_kinds[c] if same else draw(st.sampled_from(kinds))
    ref = pd.DataFrame({c: draw(column(k, n_ref, value_floats)) for c, k in ref_kinds.items()}, index=range(n_ref))
    cur = pd.DataFrame({c: draw(column(k, n_cur, value_floats)) for c, k in cur_kinds.items()}, index=range(n_cur))
    return ref, cur, ref_kinds, cur_kinds


# ----------------------------------------------------------------- checks
def expected_null_count(series: pd.Series) -> int:
    def bad(v) -> bool:
        if v is None or v is pd.NA or v is pd.NaT:
            return True
        return isinstance(v, float | np.floating) and not math.isfinite(v)

    return sum(bad(v) for v in series.astype(object).tolist())


def check_report(report: dict, ref: pd.DataFrame, cur: pd.DataFrame, ref_kinds: dict, cur_kinds: dict) -> None:
    assert_plain_json(report)
    json.dumps(report, allow_nan=False)
    cols = report["columns"]
    ref_names, cur_names = list(ref.columns), list(cur.columns)

    # every reference column is reported, in order; current-only columns are "extra"
    assert list(cols) == ref_names
    s = report["summary"]
    assert s["extra_columns"] == [c for c in cur_names if c not in ref_names]
    assert s["missing_columns"] == [c for c in ref_names if c not in cur_names]
    # small: O(columns)
    assert len(json.dumps(report)) < 4000 + 4000 * len(cols)

    for name, col in cols.items():
        status = col["status"]
        event(f"status={status}")
        assert col["type"] in ("numerical", "categorical"), (name, col["type"])
        assert status in STATUSES, (name, status)
        assert col["drifted"] in (True, False, None)
        if status not in DECIDABLE:
            assert col["drifted"] is None, (name, status, col["drifted"])
            assert col["methods"] == {}, (name, status)
        # single frames: no batches, so no schema problems
        assert status not in ("mixed_types", "inconsistent_schema"), (name, status)
        if name not in cur_names:
            assert status == "missing", (name, status)
            continue
        if len(ref) == 0 or len(cur) == 0:
            assert status == "empty", (name, status)
            continue
        assert status not in ("missing", "empty"), (name, status)
        rv, cv = col["reference"]["valid"], col["current"]["valid"]
        assert (status == "all_null") == (rv == 0 or cv == 0), (name, status, rv, cv)
        if status in DECIDABLE:
            assert rv >= MIN_SAMPLES and cv >= MIN_SAMPLES, (name, status, rv, cv)
            assert col.get("current_type") is None
        if status == "insufficient_data":
            assert min(rv, cv) < MIN_SAMPLES, (name, rv, cv)

        # null_share counts None/NA/NaN/NaT and +-inf (a float column compared as categories, because
        # the reference is categorical, keeps inf as the category "inf": no oracle for that case)
        ns = col["null_share"]
        for side, frame, kinds in (("reference", ref, ref_kinds), ("current", cur, cur_kinds)):
            assert 0.0 <= ns[side] <= 1.0
            series = frame[name]
            as_categories_with_inf = col["type"] == "categorical" and bool(
                series.astype(object).map(lambda v: isinstance(v, float) and math.isinf(v)).any()
            )
            if kinds[name] in NULL_ORACLE_KINDS and not as_categories_with_inf:
                assert ns[side] == pytest.approx(expected_null_count(series) / len(frame)), (name, side)

        if status in DECIDABLE:
            dm = col["drift_method"]
            assert dm in col["methods"], (name, dm)
            assert set(col["methods"]) <= METHODS
            for m, res in col["methods"].items():
                assert {"statistic", "threshold", "drifted"} <= set(res), (name, m)
                if m in ("ks", "chi2"):
                    assert "p_value" in res, (name, m)
                    if res["p_value"] is not None:
                        assert 0.0 <= res["p_value"] <= 1.0
            assert col["drifted"] == col["methods"][dm]["drifted"]
            if col["type"] == "categorical":
                assert isinstance(col["unseen_categories"], list)
                assert col["unseen_share"] is None or 0.0 <= col["unseen_share"] <= 1.0
            if status == "constant":
                assert dm == "psi"
            if col["type"] == "numerical":
                # constant <=> the reference holds a single finite value
                r_min, r_max = col["reference"]["min"], col["reference"]["max"]
                assert (status == "constant") == (r_min == r_max), (name, status, r_min, r_max)
                c_min, c_max = col["current"]["min"], col["current"]["max"]
                if status == "constant" and (c_min > r_max or c_max < r_min):
                    # every current value differs from the reference's single value
                    assert col["drifted"] is True, (name, r_min, c_min, c_max)

    evaluated = [n for n, c in cols.items() if c["drifted"] is not None]
    drifted = [n for n in evaluated if cols[n]["drifted"]]
    assert s["columns"] == len(cols)
    assert s["evaluated_columns"] == len(evaluated)
    assert s["drifted_columns"] == drifted
    assert s["n_drifted"] == len(s["drifted_columns"])
    assert s["problem_columns"] == {n: c["status"] for n, c in cols.items() if c["status"] not in DECIDABLE}
    if s["evaluated_columns"] > 0:
        assert s["share_drifted"] == pytest.approx(s["n_drifted"] / s["evaluated_columns"])
        assert s["dataset_drift"] is (s["share_drifted"] >= s["drift_share"])
    else:
        assert s["share_drifted"] is None
        assert s["dataset_drift"] is None


def run(ref, cur, ref_kinds, cur_kinds):
    """Run data_drift; None when it (correctly) raised for a whole-input problem."""
    if not set(ref.columns) & set(cur.columns):
        with pytest.raises(ValueError, match="no common columns"):
            data_drift(ref, cur, min_samples=MIN_SAMPLES)
        return None
    report = data_drift(ref, cur, min_samples=MIN_SAMPLES)
    check_report(report, ref, cur, ref_kinds, cur_kinds)
    return report


def decisions(report: dict) -> dict:
    return {
        n: (c["type"], c["status"], c["drifted"], c["drift_method"], c["drift_score"])
        for n, c in report["columns"].items()
    }


# ------------------------------------------------------------- properties
@SETTINGS
@given(frame_pair())
def test_data_drift_on_messy_frames(pair):
    ref, cur, ref_kinds, cur_kinds = pair
    report = run(ref, cur, ref_kinds, cur_kinds)

    # the same reference through a stored profile gives the same answers
    text = build_profile(ref).to_json()
    json.loads(text)
    profile = ReferenceProfile.from_json(text)
    if report is None:
        with pytest.raises(ValueError, match="no common columns"):
            data_drift(profile, cur, min_samples=MIN_SAMPLES)
        return
    via_profile = data_drift(profile, cur, min_samples=MIN_SAMPLES)
    check_report(via_profile, ref, cur, ref_kinds, cur_kinds)
    assert via_profile["reference"]["source"] == "profile"
    assert decisions(via_profile) == decisions(report)
    assert via_profile["summary"] == report["summary"]


@SETTINGS
@given(frame_pair(value_floats=st.floats(allow_nan=True, allow_infinity=True)))
def test_data_drift_with_extreme_floats(pair):
    """Any float64 (huge, tiny, subnormal, -0.0) must give a JSON-safe report, never an exception."""
    ref, cur, ref_kinds, cur_kinds = pair
    run(ref, cur, ref_kinds, cur_kinds)


HOMOGENEOUS = ("float", "int", "nullable_int", "str_dtype", "bool", "constant", "datetime")


@SETTINGS
@given(frame_pair(kinds=HOMOGENEOUS), st.integers(0, 60))
def test_merged_profile_of_partitions_matches_whole_reference(pair, cut):
    """merge_profiles(profile(part1), profile(part2)) decides like the whole reference."""
    ref, cur, ref_kinds, cur_kinds = pair
    report = run(ref, cur, ref_kinds, cur_kinds)
    if report is None:
        return
    cut = min(cut, len(ref))
    merged = merge_profiles(build_profile(ref.iloc[:cut]), build_profile(ref.iloc[cut:]))
    assert merged.rows == len(ref)
    via_merged = data_drift(ReferenceProfile.from_json(merged.to_json()), cur, min_samples=MIN_SAMPLES)
    check_report(via_merged, ref, cur, ref_kinds, cur_kinds)
    got = {n: (c["type"], c["status"], c["drifted"], c["drift_method"]) for n, c in via_merged["columns"].items()}
    want = {n: (c["type"], c["status"], c["drifted"], c["drift_method"]) for n, c in report["columns"].items()}
    assert got == want
