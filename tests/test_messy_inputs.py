"""Concrete tests of ``data_drift`` on messy, hostile and malformed inputs.

Every report must be JSON-safe (plain Python types only, no NaN/inf), one bad
column must never break the others (it gets a ``status``), and whole-input
problems must raise ``ValueError`` naming the problem.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

from airflow_drift_provider.drift import ReferenceProfile, build_profile, data_drift
from tests.helpers import STATUSES, assert_plain_json

MIXED_WARNING = "mixed_types"


# ----------------------------------------------------------------- helpers
def check_report(report: dict) -> dict:
    """The invariants every report must satisfy; returns the report for chaining."""
    assert_plain_json(report)
    json.dumps(report, allow_nan=False)
    json.dumps(report, allow_nan=False, ensure_ascii=False)
    for name, col in report["columns"].items():
        assert col["type"] in ("numerical", "categorical"), (name, col["type"])
        assert col["status"] in STATUSES, (name, col["status"])
        assert col["drifted"] in (True, False, None), (name, col["drifted"])
        if col["status"] not in ("ok", "constant"):
            assert col["drifted"] is None, (name, col["status"], col["drifted"])
        assert set(col["null_share"]) == {"reference", "current"}
        for m, res in col["methods"].items():
            assert {"statistic", "threshold", "drifted"} <= set(res), (name, m, res)
            if m in ("ks", "chi2"):
                assert "p_value" in res, (name, m, res)
    s = report["summary"]
    assert s["columns"] == len(report["columns"])
    assert s["n_drifted"] == len(s["drifted_columns"])
    assert s["drifted_columns"] == [n for n, c in report["columns"].items() if c["drifted"] is True]
    evaluated = [n for n, c in report["columns"].items() if c["drifted"] is not None]
    assert s["evaluated_columns"] == len(evaluated)
    if evaluated:
        assert s["share_drifted"] == pytest.approx(s["n_drifted"] / len(evaluated))
        assert s["dataset_drift"] is (s["share_drifted"] >= s["drift_share"])
    else:
        assert s["share_drifted"] is None
        assert s["dataset_drift"] is None
    return report


def drift(reference, current, **kwargs) -> dict:
    return check_report(data_drift(reference, current, **kwargs))


def without_timing(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "elapsed_seconds"}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


# ------------------------------------------------------------- NaN and inf
def test_nan_and_inf_counted_as_null_and_excluded_from_statistics(rng):
    ref_clean = rng.normal(0, 1, 200)
    cur_clean = rng.normal(0.4, 1, 150)
    ref = np.concatenate([ref_clean, [np.nan] * 7, [np.inf] * 3, [-np.inf] * 2])
    cur = np.concatenate([[np.nan] * 5, cur_clean, [np.inf] * 4, [-np.inf]])
    rng.shuffle(ref)
    rng.shuffle(cur)

    report = drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))
    col = report["columns"]["x"]
    assert col["status"] == "ok"
    assert col["type"] == "numerical"
    assert col["null_share"]["reference"] == pytest.approx(12 / 212)
    assert col["null_share"]["current"] == pytest.approx(10 / 160)
    assert col["reference"]["valid"] == 200
    assert col["current"]["valid"] == 150
    assert col["reference"]["infinite"] == 5
    assert col["current"]["infinite"] == 5

    expected = stats.ks_2samp(ref_clean, cur_clean)
    assert col["methods"]["ks"]["statistic"] == pytest.approx(float(expected.statistic), abs=1e-12)
    assert col["methods"]["ks"]["p_value"] == pytest.approx(float(expected.pvalue), rel=1e-9)
    assert col["reference"]["mean"] == pytest.approx(float(ref_clean.mean()))
    assert col["reference"]["min"] == pytest.approx(float(ref_clean.min()))
    assert col["reference"]["max"] == pytest.approx(float(ref_clean.max()))
    w = stats.wasserstein_distance(ref_clean, cur_clean) / ref_clean.std()
    assert col["methods"]["wasserstein"]["statistic"] == pytest.approx(float(w), rel=1e-9)

    # identical report to the one computed on the cleaned data (apart from the null accounting)
    clean = drift(pd.DataFrame({"x": ref_clean}), pd.DataFrame({"x": cur_clean}))["columns"]["x"]
    for m in ("ks", "wasserstein", "psi", "jensenshannon", "hellinger"):
        assert col["methods"][m]["statistic"] == pytest.approx(clean["methods"][m]["statistic"], abs=1e-12), m
    assert col["drifted"] == clean["drifted"]


def test_only_inf_values_is_all_null():
    ref = pd.DataFrame({"x": [np.inf, -np.inf, np.nan] * 4, "y": np.arange(12.0)})
    report = drift(ref, ref)
    col = report["columns"]["x"]
    assert col["status"] == "all_null"
    assert col["drifted"] is None
    assert col["null_share"] == {"reference": 1.0, "current": 1.0}
    assert report["columns"]["y"]["status"] == "ok"
    assert report["columns"]["y"]["drifted"] is False


# ------------------------------------------------------------------- empty
@pytest.mark.parametrize("side", ["reference", "current", "both"])
def test_empty_frames(side, rng):
    full = pd.DataFrame({"x": rng.normal(size=50), "s": rng.choice(["a", "b"], 50)})
    empty = full.iloc[:0]
    ref = empty if side in ("reference", "both") else full
    cur = empty if side in ("current", "both") else full
    report = drift(ref, cur)
    for name in ("x", "s"):
        col = report["columns"][name]
        assert col["status"] == "empty", (name, col["status"])
        assert col["drifted"] is None
        assert col["drift_method"] is None
    assert report["summary"]["evaluated_columns"] == 0
    assert report["summary"]["dataset_drift"] is None
    assert report["summary"]["problem_columns"] == {"x": "empty", "s": "empty"}


# ---------------------------------------------------------------- all null
@pytest.mark.parametrize(
    "nulls",
    [
        pd.Series([np.nan] * 20),
        pd.Series([None] * 20, dtype=object),
        pd.Series([None] * 20, dtype="Int64"),
        pd.Series([None] * 20, dtype="str"),
        pd.Series([None] * 20, dtype="boolean"),
    ],
    ids=["float", "object", "Int64", "str", "boolean"],
)
def test_all_null_column(nulls, rng):
    ref = pd.DataFrame({"n": nulls, "x": rng.normal(size=20)})
    cur = pd.DataFrame({"n": rng.normal(size=20), "x": rng.normal(size=20)})
    report = drift(ref, cur)
    col = report["columns"]["n"]
    assert col["status"] == "all_null"
    assert col["drifted"] is None
    assert col["null_share"]["reference"] == 1.0
    assert report["summary"]["problem_columns"]["n"] == "all_null"
    # the good column is unaffected
    assert report["columns"]["x"]["status"] == "ok"
    assert report["columns"]["x"]["drifted"] in (True, False)


def test_all_null_in_current_only(rng):
    ref = pd.DataFrame({"x": rng.normal(size=30)})
    cur = pd.DataFrame({"x": [np.nan] * 30})
    col = drift(ref, cur)["columns"]["x"]
    assert col["status"] == "all_null"
    assert col["drifted"] is None
    assert col["null_share"] == {"reference": 0.0, "current": 1.0}


# ------------------------------------------------------ missing and extra
def test_missing_and_extra_columns(rng):
    ref = pd.DataFrame({"a": rng.normal(size=40), "gone": rng.normal(size=40)})
    cur = pd.DataFrame({"a": rng.normal(size=40), "new": rng.normal(size=40), "new2": ["x"] * 40})
    report = drift(ref, cur)
    s = report["summary"]
    assert report["columns"]["gone"]["status"] == "missing"
    assert report["columns"]["gone"]["drifted"] is None
    assert report["columns"]["gone"]["null_share"]["current"] is None
    assert s["missing_columns"] == ["gone"]
    assert s["extra_columns"] == ["new", "new2"]
    assert "new" not in report["columns"]
    assert report["columns"]["a"]["status"] == "ok"
    assert s["evaluated_columns"] == 1


# --------------------------------------------------------------- constant
def test_constant_columns_equal_not_drifted():
    ref = pd.DataFrame({"k": np.full(50, 3.5)})
    cur = pd.DataFrame({"k": np.full(40, 3.5)})
    col = drift(ref, cur)["columns"]["k"]
    assert col["status"] == "constant"
    assert col["drift_method"] == "psi"
    assert col["drifted"] is False
    assert col["methods"]["psi"]["statistic"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "current",
    [np.full(40, 7.0), np.linspace(0, 10, 40), np.full(40, 1.0), np.linspace(-10, 3.0, 40)],
    ids=["other_constant_above", "varying", "other_constant_below", "varying_below"],
)
def test_constant_reference_different_current_drifts_via_psi(current):
    ref = pd.DataFrame({"k": np.full(50, 3.5)})
    col = drift(ref, pd.DataFrame({"k": current}))["columns"]["k"]
    assert col["status"] == "constant"
    assert col["drift_method"] == "psi"
    assert col["drifted"] is True
    assert col["methods"]["psi"]["statistic"] > col["methods"]["psi"]["threshold"]
    assert col["drift_score"] == col["methods"]["psi"]["statistic"]


def test_constant_column_detected_whatever_the_value():
    """A column holding one value is constant; floating-point rounding in the moments must not hide it."""
    wrong = []
    for value in (0.1, 1 / 3, 123.456, 271149.656329):
        for n in (5, 6, 7, 12, 19, 40):
            frame = pd.DataFrame({"k": np.full(n, value)})
            col = drift(frame, frame)["columns"]["k"]
            if col["status"] != "constant" or col["drift_method"] != "psi" or col["drifted"] is not False:
                wrong.append((value, n, col["status"], col["drift_method"], col["reference"]["std"]))
    assert wrong == []


# ------------------------------------------------------- unseen categories
def test_unseen_categories_listed_with_share():
    ref = pd.DataFrame({"c": ["a", "b", "c"] * 20})
    cur = pd.DataFrame({"c": ["a"] * 30 + ["new1"] * 6 + ["new2"] * 3 + ["b"] * 21})
    col = drift(ref, cur)["columns"]["c"]
    assert col["type"] == "categorical"
    assert col["status"] == "ok"
    assert col["unseen_categories"] == ["new1", "new2"]
    assert col["unseen_count"] == 2
    assert col["unseen_share"] == pytest.approx(9 / 60)
    assert col["missing_categories"] == ["c"]
    assert col["drifted"] is True
    assert col["drift_method"] == "chi2"
    table = np.array([[20, 20, 20, 0, 0], [30, 21, 0, 6, 3]])
    expected = stats.chi2_contingency(table, correction=False)
    assert col["methods"]["chi2"]["statistic"] == pytest.approx(float(expected.statistic))
    assert col["methods"]["chi2"]["p_value"] == pytest.approx(float(expected.pvalue))


def test_no_unseen_categories_is_empty_list():
    ref = pd.DataFrame({"c": ["a", "b"] * 10})
    col = drift(ref, ref)["columns"]["c"]
    assert col["unseen_categories"] == []
    assert col["unseen_share"] == 0.0
    assert col["drifted"] is False


# ------------------------------------------------------------ mixed types
def test_mixed_object_column_is_categorical_with_warning():
    values = [1, "a", 2.5, "b", 1.0, None] * 5
    ref = pd.DataFrame({"m": pd.Series(values, dtype=object)})
    cur = pd.DataFrame({"m": pd.Series(values[::-1], dtype=object)})
    col = drift(ref, cur)["columns"]["m"]
    assert col["type"] == "categorical"
    assert col["status"] == "ok"
    assert any(MIXED_WARNING in w for w in col["warnings"])
    assert col["null_share"]["reference"] == pytest.approx(5 / 30)
    # 1 and 1.0 are the same category
    assert sorted(col["category_shares"]["labels"]) == ["1", "2.5", "a", "b"]
    assert col["drifted"] is False


def test_type_mismatch_numeric_reference_string_current(rng):
    ref = pd.DataFrame({"v": rng.normal(size=30), "ok": rng.normal(size=30)})
    cur = pd.DataFrame({"v": pd.Series(["x", "y", "z"] * 10, dtype="str"), "ok": rng.normal(size=30)})
    report = drift(ref, cur)
    col = report["columns"]["v"]
    assert col["status"] == "type_mismatch"
    assert col["type"] == "numerical"
    assert col["current_type"] == "categorical"
    assert col["drifted"] is None
    assert report["summary"]["problem_columns"] == {"v": "type_mismatch"}
    assert report["columns"]["ok"]["status"] == "ok"


# ------------------------------------------------------ insufficient data
def test_insufficient_data(rng):
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, np.nan, np.nan], "c": ["a", "b", "a", None, None, None]})
    cur = pd.DataFrame({"x": rng.normal(size=6), "c": ["a", "b"] * 3})
    report = drift(ref, cur)
    assert report["columns"]["x"]["status"] == "insufficient_data"
    assert report["columns"]["c"]["status"] == "insufficient_data"
    assert report["columns"]["x"]["drifted"] is None
    # lowering min_samples makes the same data decidable
    relaxed = drift(ref, cur, min_samples=3)
    assert relaxed["columns"]["x"]["status"] == "ok"
    assert relaxed["columns"]["x"]["drifted"] in (True, False)
    assert relaxed["columns"]["c"]["status"] == "ok"


# ---------------------------------------------------------- hostile names
HOSTILE_NAMES = ["température", "列", "<script>alert(1)</script>", "a.b*c", "", "with space", "'\"\\n", "😀"]


@pytest.mark.parametrize("as_arrow", [False, True], ids=["pandas", "arrow"])
def test_unicode_and_hostile_column_names(as_arrow, rng):
    ref = pd.DataFrame({n: rng.normal(size=60) for n in HOSTILE_NAMES})
    cur = pd.DataFrame({n: rng.normal(5.0 if i % 2 else 0.0, 1, 60) for i, n in enumerate(HOSTILE_NAMES)})
    if as_arrow:
        ref, cur = pa.Table.from_pandas(ref, preserve_index=False), pa.Table.from_pandas(cur, preserve_index=False)
    report = drift(ref, cur)
    assert list(report["columns"]) == HOSTILE_NAMES
    assert report["summary"]["drifted_columns"] == HOSTILE_NAMES[1::2]
    assert all(report["columns"][n]["status"] == "ok" for n in HOSTILE_NAMES)
    assert json.loads(json.dumps(report, ensure_ascii=False))["columns"].keys() == set(HOSTILE_NAMES)
    # and through a stored profile
    profile = ReferenceProfile.from_json(build_profile(ref).to_json())
    via_profile = drift(profile, cur)
    assert via_profile["summary"]["drifted_columns"] == HOSTILE_NAMES[1::2]


def test_non_string_column_labels_are_stringified(rng):
    ref = pd.DataFrame({0: rng.normal(size=20), "b": ["a", "b"] * 10})
    report = drift(ref, ref)
    assert set(report["columns"]) == {"0", "b"}
    assert report["columns"]["0"]["status"] == "ok"


# ------------------------------------------------------------ pandas dtypes
def test_pandas3_default_string_dtype():
    ref = pd.DataFrame({"s": pd.Series(["a", "b", None, "c"] * 10, dtype="str")})
    cur = pd.DataFrame({"s": pd.Series(["a", "b", "d", None] * 10, dtype="str")})
    col = drift(ref, cur)["columns"]["s"]
    assert col["type"] == "categorical"
    assert col["status"] == "ok"
    assert col["null_share"] == {"reference": 0.25, "current": 0.25}
    assert col["unseen_categories"] == ["d"]
    assert col["unseen_share"] == pytest.approx(1 / 3)
    assert col["missing_categories"] == ["c"]
    assert col["drifted"] is True


def test_pandas_nullable_int64(rng):
    vals = rng.integers(0, 20, 100).tolist()
    ref = pd.Series(vals, dtype="Int64").mask(pd.Series(np.arange(100) % 10 == 0))
    cur = pd.Series([v + 10 for v in vals], dtype="Int64")
    col = drift(pd.DataFrame({"i": ref}), pd.DataFrame({"i": cur}))["columns"]["i"]
    assert col["type"] == "numerical"
    assert col["status"] == "ok"
    assert col["null_share"]["reference"] == pytest.approx(0.1)
    assert col["reference"]["valid"] == 90
    clean = np.asarray([v for i, v in enumerate(vals) if i % 10], dtype=float)
    expected = stats.ks_2samp(clean, np.asarray(vals, dtype=float) + 10)
    assert col["methods"]["ks"]["statistic"] == pytest.approx(float(expected.statistic))
    assert col["drifted"] is True


def test_pandas_nullable_boolean():
    ref = pd.Series([True, False, None, True, False] * 10, dtype="boolean")
    cur = pd.Series([True, True, True, None, False] * 10, dtype="boolean")
    col = drift(pd.DataFrame({"b": ref}), pd.DataFrame({"b": cur}))["columns"]["b"]
    assert col["type"] == "categorical"
    assert col["status"] == "ok"
    assert col["null_share"] == {"reference": 0.2, "current": 0.2}
    assert sorted(col["category_shares"]["labels"]) == ["False", "True"]
    assert col["unseen_categories"] == []


def test_pandas_category_dtype():
    ref = pd.Series(["x", "y", None, "x", "z"] * 10, dtype="category")
    cur = pd.Series(["x", "x", "y", "w", None] * 10, dtype="category")
    col = drift(pd.DataFrame({"c": ref}), pd.DataFrame({"c": cur}))["columns"]["c"]
    assert col["type"] == "categorical"
    assert col["status"] == "ok"
    assert col["null_share"] == {"reference": 0.2, "current": 0.2}
    assert col["unseen_categories"] == ["w"]
    assert col["unseen_share"] == pytest.approx(10 / 40)
    assert col["missing_categories"] == ["z"]
    assert col["drifted"] is True


def test_category_dtype_unobserved_categories_are_not_reported():
    """Categories declared in a pandas CategoricalDtype but never observed are not data.

    They must not show up as unseen/missing categories nor be counted, and
    the pandas and pyarrow paths must agree.
    """
    observed = ["x", "y", "x", "y"] * 10
    plain = pd.DataFrame({"c": pd.Series(observed, dtype="category")})
    declared = pd.DataFrame({"c": pd.Series(observed, dtype=pd.CategoricalDtype(["x", "y", "never"]))})
    col = drift(plain, declared)["columns"]["c"]
    assert col["unseen_categories"] == []
    assert col["unseen_count"] == 0
    assert col["current"]["categories"] == 2
    rev = drift(declared, plain)["columns"]["c"]
    assert rev["missing_categories"] == []
    assert rev["reference"]["categories"] == 2
    from_arrow = build_profile(pa.Table.from_pandas(declared)).columns["c"].counts
    assert build_profile(declared).columns["c"].counts == from_arrow


def test_pandas_dtypes_compare_equal_to_themselves():
    frame = pd.DataFrame(
        {
            "Int64": pd.Series([1, None, 3, 4, 5, 6, 7, 8], dtype="Int64"),
            "Float64": pd.Series([1.5, None, 3, 4, 5, 6, 7, np.nan], dtype="Float64"),
            "boolean": pd.Series([True, None, False, True, True, False, False, True], dtype="boolean"),
            "category": pd.Series(list("abcabcab"), dtype="category"),
            "str": pd.Series([*"abcabca", None], dtype="str"),
            "int8": np.arange(8, dtype=np.int8),
            "uint64": np.arange(8, dtype=np.uint64),
            "float32": np.arange(8, dtype=np.float32),
        }
    )
    report = drift(frame, frame)
    for name, col in report["columns"].items():
        assert col["status"] == "ok", (name, col["status"])
        assert col["drifted"] is False, name
    assert report["columns"]["Float64"]["null_share"]["reference"] == pytest.approx(2 / 8)


# --------------------------------------------------------------- datetimes
def test_datetime_column_is_numerical_and_detects_shift():
    d = pd.Series(pd.date_range("2024-01-01", periods=60, freq="D"))
    ref = d.copy()
    ref[3] = pd.NaT
    report = drift(pd.DataFrame({"d": ref}), pd.DataFrame({"d": d + pd.Timedelta(days=45)}))
    col = report["columns"]["d"]
    assert col["type"] == "numerical"
    assert col["status"] == "ok"
    assert col["null_share"]["reference"] == pytest.approx(1 / 60)
    assert col["drifted"] is True
    assert col["methods"]["ks"]["statistic"] == pytest.approx(45 / 60, abs=0.02)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetime_is_seconds_since_epoch_whatever_the_unit(unit):
    """build_profile documents datetimes as seconds since the epoch."""
    d = pd.Series(pd.date_range("2024-01-01", periods=30, freq="h")).astype(f"datetime64[{unit}]")
    col = drift(pd.DataFrame({"d": d}), pd.DataFrame({"d": d}))["columns"]["d"]
    assert col["reference"]["min"] == pytest.approx(pd.Timestamp("2024-01-01", tz="UTC").timestamp())
    assert col["reference"]["max"] == pytest.approx(pd.Timestamp("2024-01-02 05:00", tz="UTC").timestamp())


def test_datetime_unit_change_is_not_drift():
    """The same instants stored as datetime64[ns] (reference) and [us] (current) must not drift."""
    d = pd.Series(pd.date_range("2024-01-01", periods=50, freq="D"))
    ref = pd.DataFrame({"d": d.astype("datetime64[ns]")})
    cur = pd.DataFrame({"d": d.astype("datetime64[us]")})
    col = drift(ref, cur)["columns"]["d"]
    assert col["status"] == "ok"
    assert col["drifted"] is False
    assert col["methods"]["ks"]["statistic"] == 0.0


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_datetime_arrow_equals_pandas(unit):
    d = pd.Series(pd.date_range("2024-01-01", periods=40, freq="D")).astype(f"datetime64[{unit}]")
    frame = pd.DataFrame({"d": d})
    from_pandas = drift(frame, frame)["columns"]["d"]
    from_arrow = drift(pa.table({"d": pa.array(d)}), pa.table({"d": pa.array(d)}))["columns"]["d"]
    assert from_arrow["reference"]["min"] == pytest.approx(from_pandas["reference"]["min"])
    assert from_arrow["reference"]["mean"] == pytest.approx(from_pandas["reference"]["mean"])


def test_arrow_date32_is_seconds_since_epoch():
    t = pa.table({"d": pa.array([date(2024, 1, 1), date(2024, 1, 2)] * 5)})
    col = drift(t, t)["columns"]["d"]
    assert col["type"] == "numerical"
    assert col["reference"]["min"] == pytest.approx(pd.Timestamp("2024-01-01", tz="UTC").timestamp())


# --------------------------------------------------------- pyarrow inputs
def _messy_frame(rng: np.random.Generator, n: int, shift: float) -> pd.DataFrame:
    x = rng.normal(shift, 1, n)
    x[:10] = np.nan
    x[10:13] = np.inf
    x[13] = -np.inf
    return pd.DataFrame(
        {
            "x": x,
            "i": pd.Series(rng.integers(0, 10, n), dtype="Int64").mask(pd.Series(rng.random(n) < 0.1)),
            "s": pd.Series(rng.choice(["a", "b", "c", None], n), dtype="str"),
            "b": pd.Series(rng.random(n) < 0.5 + shift / 5, dtype="boolean"),
            "c": pd.Series(rng.choice(["p", "q", "r"], n), dtype="category"),
            "f": rng.integers(0, 3, n).astype(float),
        }
    )


def test_pyarrow_table_equals_pandas(rng):
    ref, cur = _messy_frame(rng, 300, 0.0), _messy_frame(rng, 250, 0.4)
    from_pandas = drift(ref, cur)
    ref_t = pa.Table.from_pandas(ref, preserve_index=False)
    cur_t = pa.Table.from_pandas(cur, preserve_index=False)
    from_arrow = drift(ref_t, cur_t)
    assert from_arrow["columns"] == from_pandas["columns"]
    assert from_arrow["summary"] == from_pandas["summary"]
    assert from_pandas["summary"]["evaluated_columns"] == 6
    # a single RecordBatch too
    batch = drift(ref_t.combine_chunks().to_batches()[0], cur_t.combine_chunks().to_batches()[0])
    assert batch["columns"] == from_pandas["columns"]


def test_pyarrow_large_int64_like_pandas():
    """Integer IDs above 2**53 are valid int64 data; pandas handles them, arrow must too."""
    ids = [2**60 + k for k in range(20)]
    frame = pd.DataFrame({"id": np.asarray(ids, dtype=np.int64), "x": np.arange(20.0)})
    from_pandas = drift(frame, frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert table.schema.field("id").type == pa.int64()
    from_arrow = drift(table, table)
    assert from_arrow["columns"]["id"]["status"] == from_pandas["columns"]["id"]["status"]
    assert from_arrow["columns"]["id"]["drifted"] is False


def test_record_batches_stream_equals_whole_table(rng):
    n = 20_000
    ref = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(list("abcde"), n)})
    cur = pd.DataFrame({"x": rng.normal(0.03, 1, n), "c": rng.choice(list("abcdef"), n, p=[0.2] * 4 + [0.15, 0.05])})
    table = pa.Table.from_pandas(cur, preserve_index=False)
    whole = drift(ref, table)
    streamed = drift(ref, iter(table.to_batches(max_chunksize=997)))
    wx, sx = whole["columns"]["x"], streamed["columns"]["x"]
    assert sx["status"] == wx["status"] == "ok"
    assert sx["methods"]["ks"]["statistic"] == pytest.approx(wx["methods"]["ks"]["statistic"], abs=0.005)
    assert sx["current"]["valid"] == wx["current"]["valid"] == n
    wc, sc = whole["columns"]["c"], streamed["columns"]["c"]
    assert sc["methods"]["chi2"] == wc["methods"]["chi2"]
    assert sc["unseen_categories"] == wc["unseen_categories"] == ["f"]
    assert streamed["current"]["rows"] == n
    # a streamed reference as well
    ref_t = pa.Table.from_pandas(ref, preserve_index=False)
    both = drift(ref_t.to_batches(max_chunksize=1500), table.to_batches(max_chunksize=997))
    assert both["columns"]["c"]["methods"]["chi2"] == wc["methods"]["chi2"]
    ks_both = both["columns"]["x"]["methods"]["ks"]["statistic"]
    assert ks_both == pytest.approx(wx["methods"]["ks"]["statistic"], abs=0.005)


def test_record_batch_reader_input(rng):
    cur = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(list("ab"), 500)})
    table = pa.Table.from_pandas(cur, preserve_index=False)
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=64))
    streamed, whole = drift(cur, reader), drift(cur, table)
    assert streamed["current"]["rows"] == 500
    for name in ("x", "c"):
        assert streamed["columns"][name]["status"] == whole["columns"][name]["status"] == "ok"
        assert streamed["columns"][name]["drifted"] is whole["columns"][name]["drifted"] is False
    assert streamed["columns"]["x"]["methods"]["ks"] == whole["columns"]["x"]["methods"]["ks"]
    assert streamed["columns"]["c"]["methods"]["chi2"] == whole["columns"]["c"]["methods"]["chi2"]


def test_list_of_dataframes_stream_matches_concatenated(rng):
    ref = pd.DataFrame({"x": rng.normal(size=300), "s": rng.choice(list("abc"), 300)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1, 300), "s": rng.choice(list("abcd"), 300)})
    whole = drift(ref, cur)
    streamed = drift(ref, [cur.iloc[i : i + 40] for i in range(0, 300, 40)])
    for name in ("x", "s"):
        assert streamed["columns"][name]["status"] == whole["columns"][name]["status"] == "ok"
        assert streamed["columns"][name]["drifted"] == whole["columns"][name]["drifted"]
    assert streamed["columns"]["x"]["methods"]["ks"] == whole["columns"]["x"]["methods"]["ks"]
    assert streamed["columns"]["s"]["methods"]["chi2"] == whole["columns"]["s"]["methods"]["chi2"]


def test_generator_yielding_nothing_as_current(rng):
    ref = pd.DataFrame({"x": rng.normal(size=50), "s": rng.choice(["a", "b"], 50)})
    report = drift(ref, (b for b in []))
    assert report["current"]["rows"] == 0
    for name in ("x", "s"):
        assert report["columns"][name]["status"] == "empty"
        assert report["columns"][name]["drifted"] is None
    assert report["summary"]["evaluated_columns"] == 0
    assert report["summary"]["dataset_drift"] is None
    assert report["summary"]["missing_columns"] == []


def test_generator_yielding_nothing_as_reference_raises():
    with pytest.raises(ValueError, match="reference"):
        data_drift((b for b in []), pd.DataFrame({"x": [1.0, 2.0]}))


def test_batches_with_column_missing_from_one_batch(rng):
    ref = pd.DataFrame({"x": rng.normal(size=50), "c": rng.choice(list("ab"), 50)})
    b1 = pa.record_batch({"x": rng.normal(size=30), "c": rng.choice(list("ab"), 30)})
    b2 = pa.record_batch({"x": rng.normal(size=30)})
    report = drift(ref, [b1, b2])
    assert report["columns"]["c"]["status"] == "inconsistent_schema"
    assert report["columns"]["c"]["drifted"] is None
    assert report["columns"]["x"]["status"] == "ok"
    assert report["columns"]["x"]["current"]["valid"] == 60
    assert report["summary"]["problem_columns"] == {"c": "inconsistent_schema"}
    # the same on the reference side
    rev = drift([b2, b1], ref)
    assert rev["columns"]["c"]["status"] == "inconsistent_schema"


def test_batches_whose_type_changes(rng):
    ref = pd.DataFrame({"x": rng.normal(size=50), "y": rng.normal(size=50)})
    b1 = pd.DataFrame({"x": rng.normal(size=20), "y": rng.normal(size=20)})
    b2 = pd.DataFrame({"x": ["a", "b"] * 10, "y": rng.normal(size=20)})
    report = drift(ref, [b1, b2])
    assert report["columns"]["x"]["status"] == "mixed_types"
    assert report["columns"]["x"]["drifted"] is None
    assert report["columns"]["y"]["status"] == "ok"
    rev = drift([pa.Table.from_pandas(b1), pa.Table.from_pandas(b2)], ref)
    assert rev["columns"]["x"]["status"] == "mixed_types"


def test_stream_with_a_non_table_item_raises(rng):
    ref = pd.DataFrame({"x": rng.normal(size=10)})
    with pytest.raises(ValueError, match="batch"):
        data_drift(ref, [ref, 42])


# -------------------------------------------------- one bad column only
def test_bad_columns_do_not_break_the_good_one(rng):
    n = 40
    ref = pd.DataFrame(
        {
            "good": rng.normal(size=n),
            "nulls": [np.nan] * n,
            "gone": rng.normal(size=n),
            "few": [1.0, 2.0] + [np.nan] * (n - 2),
            "mismatch": rng.normal(size=n),
            "mixed": pd.Series([1, "a"] * (n // 2), dtype=object),
            "const": np.ones(n),
        }
    )
    cur = pd.DataFrame(
        {
            "good": rng.normal(3, 1, n),
            "nulls": rng.normal(size=n),
            "few": rng.normal(size=n),
            "mismatch": ["q"] * n,
            "mixed": pd.Series(["a", 2] * (n // 2), dtype=object),
            "const": np.ones(n),
        }
    )
    report = drift(ref, cur)
    statuses = {n: c["status"] for n, c in report["columns"].items()}
    assert statuses == {
        "good": "ok",
        "nulls": "all_null",
        "gone": "missing",
        "few": "insufficient_data",
        "mismatch": "type_mismatch",
        "mixed": "ok",
        "const": "constant",
    }
    assert report["columns"]["good"]["drifted"] is True
    assert report["summary"]["drifted_columns"] == ["good", "mixed"]
    assert report["summary"]["evaluated_columns"] == 3


def test_huge_python_int_in_object_column_does_not_crash(rng):
    """An object column holding a Python int beyond float range must get a status, not raise."""
    ref = pd.DataFrame({"big": pd.Series([10**400, 1, 2, 3, 4, 5], dtype=object), "x": rng.normal(size=6)})
    report = drift(ref, ref)
    assert report["columns"]["big"]["status"] in STATUSES
    assert report["columns"]["x"]["status"] == "ok"


# ------------------------------------------------------- report is small
def test_report_size_is_bounded_by_columns(rng):
    n = 100_000
    ref = pd.DataFrame({"id": [f"u{i % 5000}" for i in range(n)], "x": rng.normal(size=n)})
    cur = pd.DataFrame({"id": [f"v{i % 8000}" for i in range(n)], "x": rng.normal(size=n)})
    report = drift(ref, cur)
    col = report["columns"]["id"]
    assert col["unseen_count"] == 8000
    assert col["unseen_share"] == 1.0
    assert len(col["unseen_categories"]) <= 20
    assert len(col["missing_categories"]) <= 20
    assert len(col["category_shares"]["labels"]) <= 20
    assert len(json.dumps(report)) < 20_000


def test_unseen_share_with_high_cardinality_current():
    """All current values are new: unseen_share must be 1.0 even when the current has > 10 000 categories."""
    n = 30_000
    ref = pd.DataFrame({"id": [f"u{i % 100}" for i in range(n)]})
    cur = pd.DataFrame({"id": [f"v{i}" for i in range(n)]})
    col = drift(ref, cur)["columns"]["id"]
    assert col["drifted"] is True
    assert col["unseen_share"] == pytest.approx(1.0)


def test_capped_reference_folds_unseen_into_other():
    """Beyond max_categories the reference is capped; new values cannot be called unseen."""
    n = 30_000
    ref = pd.DataFrame({"id": [f"u{i}" for i in range(n)]})
    cur = pd.DataFrame({"id": [f"v{i % 3000}" for i in range(n)]})
    col = drift(ref, cur)["columns"]["id"]
    assert col["unseen_categories"] == []
    assert col["folded_into_other"] == n
    assert col["unseen_count"] == 0
    assert col["drifted"] is True
    assert len(col["category_shares"]["labels"]) <= 20


# --------------------------------------------------- whole-input errors
@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame([[1.0, 2.0]] * 10, columns=["a", "a"]),
        pd.DataFrame([[1.0, 2.0]] * 10, columns=[1, "1"]),
        pa.table([[1.0] * 10, [2.0] * 10], names=["a", "a"]),
    ],
    ids=["pandas", "pandas_after_str", "arrow"],
)
@pytest.mark.parametrize("side", ["reference", "current"])
def test_duplicated_column_names_raise(frame, side):
    other = pd.DataFrame({"a": np.arange(10.0), "1": np.arange(10.0)})
    args = (frame, other) if side == "reference" else (other, frame)
    with pytest.raises(ValueError, match="duplicate"):
        data_drift(*args)


@pytest.mark.parametrize("bad", [[1, 2, 3], "a,b\n1,2", {"x": [1.0, 2.0, 3.0]}, 42, None, b"bytes"], ids=repr)
@pytest.mark.parametrize("side", ["reference", "current"])
def test_non_table_inputs_raise(bad, side):
    good = pd.DataFrame({"x": np.arange(10.0)})
    args = (bad, good) if side == "reference" else (good, bad)
    with pytest.raises(ValueError, match=side):
        data_drift(*args)


def test_profile_as_current_gives_the_data_result():
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 30_000), "c": rng.choice(list("abc"), 30_000)})
    cur = pd.DataFrame({"x": rng.normal(0.2, 1, 20_000), "c": rng.choice(list("abcd"), 20_000)})
    ref_p = build_profile(ref)
    from_data = data_drift(ref_p, cur)
    from_profile = data_drift(ref_p, build_profile(cur, like=ref_p))
    assert from_profile["current"]["source"] == "profile" and from_data["current"]["source"] == "data"
    for name in ("x", "c"):
        a, b = from_profile["columns"][name], from_data["columns"][name]
        assert a["drifted"] == b["drifted"]
        for m, r in a["methods"].items():
            assert r["statistic"] == pytest.approx(b["methods"][m]["statistic"], rel=1e-12), (name, m)
    with pytest.raises(ValueError, match="like must be a ReferenceProfile"):
        build_profile(cur, like="reference.json")


def test_no_common_columns_raises():
    with pytest.raises(ValueError, match="no common columns"):
        data_drift(pd.DataFrame({"a": np.arange(10.0)}), pd.DataFrame({"b": np.arange(10.0)}))


@pytest.mark.parametrize(
    "methods",
    [["ks", "kolmogorov"], "kolmogorov", {"numerical": ["kolmogorov"]}, {"x": ["ks", "kolmogorov"]}],
    ids=["list", "str", "by_kind", "by_column"],
)
def test_unknown_method_name_raises_naming_it(methods):
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ValueError, match="kolmogorov"):
        data_drift(frame, frame, methods=methods)


def test_empty_method_list_raises():
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ValueError, match="empty"):
        data_drift(frame, frame, methods=[])


@pytest.mark.parametrize(
    ("thresholds", "match"),
    [
        ({"ks": 1.5}, "ks"),
        ({"ks": 0}, "ks"),
        ({"chi2": 1}, "chi2"),
        ({"psi": -0.1}, "psi"),
        ({"psi": float("nan")}, "psi"),
        ({"psi": float("inf")}, "psi"),
        ({"psi": True}, "psi"),
        ({"psi": "0.2"}, "psi"),
        ({"psi": None}, "psi"),
        ({"bogus": 0.1}, "bogus"),
        ({"x": {"bogus": 0.1}}, "bogus"),
        ({"x": {"ks": 2}}, "ks"),
        ([0.1], "thresholds"),
        (0.1, "thresholds"),
    ],
)
def test_bad_thresholds_raise(thresholds, match):
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ValueError, match=match):
        data_drift(frame, frame, thresholds=thresholds)


def test_thresholds_global_and_per_column_are_applied(rng):
    ref = pd.DataFrame({"x": rng.normal(size=100), "y": rng.normal(size=100)})
    cur = pd.DataFrame({"x": rng.normal(0.2, 1, 100), "y": rng.normal(0.2, 1, 100)})
    report = drift(ref, cur, thresholds={"psi": 0.5, "x": {"ks": 0.9999}})
    assert report["columns"]["x"]["methods"]["ks"]["threshold"] == 0.9999
    assert report["columns"]["y"]["methods"]["ks"]["threshold"] == 0.05
    assert report["columns"]["x"]["methods"]["psi"]["threshold"] == 0.5
    assert report["columns"]["x"]["drifted"] is True  # any p < 0.9999
    assert report["settings"]["thresholds"]["psi"] == 0.5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"drift_share": 0}, "drift_share"),
        ({"drift_share": 1.5}, "drift_share"),
        ({"drift_share": True}, "drift_share"),
        ({"drift_share": "half"}, "drift_share"),
        ({"correction": "holm"}, "correction"),
        ({"bins": 1}, "bins"),
        ({"min_samples": 0}, "min_samples"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ValueError, match=match):
        data_drift(frame, frame, **kwargs)


# --------------------------------------------------------------- columns=
def test_columns_empty_list_raises():
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ValueError, match="columns"):
        data_drift(frame, frame, columns=[])


def test_columns_none_in_reference_raises_naming_them():
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ValueError, match="nope"):
        data_drift(frame, frame, columns=["nope"])


@pytest.mark.parametrize("columns", ["x", [1], [None], 5])
def test_columns_wrong_type_raises(columns):
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ValueError, match="columns"):
        data_drift(frame, frame, columns=columns)


def test_columns_restricts_the_report(rng):
    ref = pd.DataFrame({"x": rng.normal(size=30), "y": rng.normal(size=30), "z": ["a"] * 30})
    cur = pd.DataFrame({"x": rng.normal(size=30), "y": rng.normal(5, 1, 30), "z": ["b"] * 30})
    report = drift(ref, cur, columns=["x"])
    assert list(report["columns"]) == ["x"]
    assert report["summary"]["drifted_columns"] == []
    assert report["summary"]["extra_columns"] == []


def test_columns_partly_absent_are_reported_not_analysed(rng):
    ref = pd.DataFrame({"x": rng.normal(size=30), "only_ref": rng.normal(size=30)})
    cur = pd.DataFrame({"x": rng.normal(size=30)})
    report = drift(ref, cur, columns=["x", "only_ref", "nowhere"])
    assert report["columns"]["x"]["status"] == "ok"
    assert report["columns"]["only_ref"]["status"] == "missing"
    assert "only_ref" in report["summary"]["missing_columns"]
    s = report["summary"]
    assert s["unknown_columns"] == ["nowhere"]  # requested, in neither side
    assert "nowhere" not in s["drifted_columns"]
