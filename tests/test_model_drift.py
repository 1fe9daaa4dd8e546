"""Tests for ``airflow_drift_provider.drift.model.model_drift``.

Every metric is checked against the ``sklearn.metrics`` reference functions
(to 1e-12), and every report is checked to be JSON-safe (plain Python types
only, no NaN/inf) by the ``md`` helper.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

from airflow_drift_provider.drift import model_drift

TOL = 1e-12
CLS_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
REG_METRICS = ("mae", "rmse", "r2")


# --------------------------------------------------------------------------- helpers
def assert_plain(value: Any, path: str = "r") -> None:
    """Recursively: only dict/list/str/int/float/bool/None, finite floats, str keys."""
    t = type(value)
    if value is None or t in (bool, str, int):
        return
    if t is float:
        assert math.isfinite(value), f"{path} is not finite: {value!r}"
        return
    if t is dict:
        for k, v in value.items():
            assert type(k) is str, f"{path}: key {k!r} is {type(k).__name__}, not str"
            assert_plain(v, f"{path}[{k!r}]")
        return
    if t is list:
        for i, v in enumerate(value):
            assert_plain(v, f"{path}[{i}]")
        return
    raise AssertionError(f"{path} has non-plain type {t.__module__}.{t.__name__}: {value!r}")


def md(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """``model_drift`` plus the JSON-safety contract, checked on every report."""
    r = model_drift(*args, **kwargs)
    assert_plain(r)
    json.dumps(r, allow_nan=False)
    assert r["kind"] == "model_drift"
    assert r["schema_version"] == 1
    assert isinstance(r["elapsed_seconds"], float)
    assert r["elapsed_seconds"] >= 0
    for name, e in r["metrics"].items():
        assert set(e) >= {
            "current",
            "baseline",
            "change",
            "relative_change",
            "degraded",
            "higher_is_better",
            "tolerance",
        }, name
    return r


def cur(r: dict[str, Any], m: str) -> float | None:
    return r["metrics"][m]["current"]


def close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - float(b)) <= TOL


def binary_data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(0.5 * y + rng.normal(0.25, 0.25, n), 0.0, 1.0)
    pred = (score >= 0.5).astype(int)
    return y, pred, score


def multiclass_data(n: int = 600, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), y] += 1.2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = proba.argmax(axis=1)
    return y, pred, proba


def regression_data(n: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, n)
    pred = y + rng.normal(0.3, 1.0, n)
    return y, pred


def sk_binary(y: Any, p: Any, pos_label: Any = 1) -> dict[str, float]:
    kw = {"average": "binary", "pos_label": pos_label, "zero_division": 0}
    return {
        "accuracy": skm.accuracy_score(y, p),
        "precision": skm.precision_score(y, p, **kw),
        "recall": skm.recall_score(y, p, **kw),
        "f1": skm.f1_score(y, p, **kw),
    }


def sk_macro(y: Any, p: Any, labels: Any = None) -> dict[str, float]:
    kw = {"average": "macro", "zero_division": 0, "labels": labels}
    return {
        "accuracy": skm.accuracy_score(y, p),
        "precision": skm.precision_score(y, p, **kw),
        "recall": skm.recall_score(y, p, **kw),
        "f1": skm.f1_score(y, p, **kw),
    }


def sk_regression(y: Any, p: Any) -> dict[str, float]:
    return {
        "mae": skm.mean_absolute_error(y, p),
        "rmse": skm.root_mean_squared_error(y, p),
        "r2": skm.r2_score(y, p),
    }


def assert_metrics(r: dict[str, Any], expected: dict[str, float]) -> None:
    for m, v in expected.items():
        assert close(cur(r, m), v), f"{m}: got {cur(r, m)!r}, sklearn {v!r}"


# ============================================================ binary classification
class TestBinaryMetrics:
    def test_all_metrics_match_sklearn_with_1d_scores(self):
        y, p, s = binary_data()
        r = md(y, p, y_score=s)
        assert r["task"] == "binary"
        assert r["status"] == "ok"
        assert r["classes"] == [0, 1]
        assert r["pos_label"] == 1
        assert list(r["metrics"]) == list(CLS_METRICS)
        assert_metrics(r, sk_binary(y, p))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, s))
        # sanity: the data is informative and not degenerate
        assert 0.6 < cur(r, "accuracy") < 1.0
        assert 0.7 < cur(r, "roc_auc") < 1.0

    def test_roc_auc_with_2d_probabilities(self):
        y, p, s = binary_data(seed=3)
        proba = np.column_stack([1 - s, s])
        r = md(y, p, y_score=proba)
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, proba[:, 1]))
        # 1-D and 2-D give the same answer
        assert close(cur(r, "roc_auc"), cur(md(y, p, y_score=s), "roc_auc"))

    def test_2d_single_column_scores_are_treated_as_1d(self):
        y, p, s = binary_data(seed=4)
        r = md(y, p, y_score=s.reshape(-1, 1))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, s))

    def test_pos_label_option(self):
        y, p, s = binary_data(seed=5)
        r = md(y, p, pos_label=0)
        assert r["pos_label"] == 0
        assert_metrics(r, sk_binary(y, p, pos_label=0))
        # precision for class 0 differs from class 1 on this data
        assert abs(cur(r, "precision") - skm.precision_score(y, p)) > 1e-3
        # 1-D scores are the scores of pos_label
        s0 = 1 - s
        r1 = md(y, p, y_score=s0, pos_label=0)
        assert close(cur(r1, "roc_auc"), skm.roc_auc_score(y == 0, s0))
        # 2-D: the column of pos_label is used
        proba = np.column_stack([1 - s, s])
        r2 = md(y, p, y_score=proba, pos_label=0)
        assert close(cur(r2, "roc_auc"), skm.roc_auc_score(y == 0, proba[:, 0]))

    def test_string_labels(self):
        y, p, s = binary_data(seed=6)
        ys = np.where(y == 1, "yes", "no")
        ps = np.where(p == 1, "yes", "no")
        r = md(ys, ps, y_score=s)
        assert r["task"] == "binary"
        assert r["classes"] == ["no", "yes"]
        assert r["pos_label"] == "yes"  # the larger label when 1/True are absent
        assert_metrics(r, sk_binary(ys, ps, pos_label="yes"))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(ys == "yes", s))
        # same numbers as the integer encoding
        assert_metrics(r, {m: cur(md(y, p, y_score=s), m) for m in CLS_METRICS})

    def test_string_labels_as_python_lists_with_pos_label(self):
        y, p, s = binary_data(seed=7)
        ys = ["spam" if v else "ham" for v in y]
        ps = ["spam" if v else "ham" for v in p]
        r = md(ys, ps, y_score=(1 - s).tolist(), pos_label="ham")
        assert r["pos_label"] == "ham"
        assert_metrics(r, sk_binary(ys, ps, pos_label="ham"))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(np.asarray(ys) == "ham", 1 - s))

    def test_string_labels_2d_scores_use_sorted_class_columns(self):
        y, p, s = binary_data(seed=8)
        ys = np.where(y == 1, "pos", "neg")
        ps = np.where(p == 1, "pos", "neg")
        proba = np.column_stack([1 - s, s])  # columns: neg, pos (sorted)
        r = md(ys, ps, y_score=proba)
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(ys == "pos", proba[:, 1]))

    def test_float_labels(self):
        y, p, s = binary_data(seed=9)
        yf, pf = y.astype(float), p.astype(float)
        r = md(yf, pf, y_score=s)
        assert r["task"] == "binary"
        assert r["classes"] == [0, 1]
        assert r["pos_label"] == 1
        assert_metrics(r, sk_binary(y, p))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, s))
        # floats vs ints mixed between y_true and y_pred
        r2 = md(yf, p, y_score=s)
        assert_metrics(r2, sk_binary(y, p))
        # Python float lists
        r3 = md(yf.tolist(), pf.tolist())
        assert_metrics(r3, sk_binary(y, p))

    def test_float_labels_with_float_pos_label(self):
        y, p, _ = binary_data(seed=10)
        r = md(y.astype(float), p.astype(float), pos_label=0.0)
        assert_metrics(r, sk_binary(y, p, pos_label=0))

    def test_bool_labels(self):
        y, p, s = binary_data(seed=11)
        r = md(y.astype(bool), p.astype(bool), y_score=s)
        assert r["task"] == "binary"
        assert_metrics(r, sk_binary(y.astype(bool), p.astype(bool), pos_label=True))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, s))

    def test_pandas_and_pyarrow_inputs(self):
        pa = pytest.importorskip("pyarrow")
        y, p, s = binary_data(seed=12)
        expected = sk_binary(y, p)
        r1 = md(pd.Series(y), pd.Series(p), y_score=pd.Series(s))
        assert_metrics(r1, expected)
        assert close(cur(r1, "roc_auc"), skm.roc_auc_score(y, s))
        r2 = md(pa.array(y), pa.array(p), y_score=pa.array(s))
        assert_metrics(r2, expected)
        r3 = md(pd.DataFrame({"y": y}), pd.DataFrame({"p": p}), y_score=pd.DataFrame({"a": 1 - s, "b": s}))
        assert_metrics(r3, expected)
        assert close(cur(r3, "roc_auc"), skm.roc_auc_score(y, s))

    def test_zero_division_gives_zero(self):
        # never predicts the positive class -> precision 0 (sklearn zero_division=0)
        y = np.array([0, 1, 0, 1, 0, 1])
        p = np.zeros(6, dtype=int)
        r = md(y, p)
        assert cur(r, "precision") == 0.0
        assert cur(r, "recall") == 0.0
        assert cur(r, "f1") == 0.0
        assert close(cur(r, "accuracy"), 0.5)

    def test_perfect_predictions(self):
        y = np.array([0, 1, 1, 0, 1])
        r = md(y, y, y_score=y.astype(float))
        for m in CLS_METRICS:
            assert cur(r, m) == 1.0, m

    def test_roc_auc_single_class_is_none_with_note(self):
        y = np.ones(20, dtype=int)
        p = np.array([1] * 15 + [0] * 5)
        s = np.linspace(0.1, 0.9, 20)
        r = md(y, p, y_score=s, baseline={"roc_auc": 0.9, "accuracy": 0.8})
        e = r["metrics"]["roc_auc"]
        assert e["current"] is None
        assert "note" in e
        assert "single class" in e["note"]
        assert e["change"] is None
        assert e["relative_change"] is None
        assert e["degraded"] is None
        assert "roc_auc" not in r["summary"]["metrics_evaluated"]
        assert "roc_auc" not in r["summary"]["degraded_metrics"]
        # the other metrics are still computed
        assert close(cur(r, "accuracy"), 0.75)
        assert r["metrics"]["accuracy"]["degraded"] is True

    def test_roc_auc_single_class_in_reference_gives_no_baseline(self):
        y, p, s = binary_data(seed=13)
        ref = {"y_true": np.zeros(10, dtype=int), "y_pred": np.zeros(10, dtype=int), "y_score": np.linspace(0, 1, 10)}
        r = md(y, p, y_score=s, reference=ref)
        e = r["metrics"]["roc_auc"]
        assert close(e["current"], skm.roc_auc_score(y, s))
        assert e["baseline"] is None
        assert e["degraded"] is None
        assert r["metrics"]["accuracy"]["baseline"] == 1.0

    def test_roc_auc_requested_without_scores(self):
        y, p, _ = binary_data(seed=14)
        r = md(y, p, metrics=["accuracy", "roc_auc"], baseline={"roc_auc": 0.8})
        e = r["metrics"]["roc_auc"]
        assert e["current"] is None
        assert "y_score" in e["note"]
        assert e["degraded"] is None

    def test_roc_auc_ignores_rows_with_nan_scores(self):
        y, p, s = binary_data(seed=15)
        s = s.copy()
        s[::7] = np.nan
        ok = np.isfinite(s)
        r = md(y, p, y_score=s)
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y[ok], s[ok]))
        # labels-only metrics still use every row
        assert_metrics(r, sk_binary(y, p))
        assert r["rows"]["current"] == y.size
        assert r["confidence"]["current"]["count"] == int(ok.sum())

    def test_score_columns_follow_model_classes_when_a_class_is_absent(self):
        # A 3-class model's probabilities, but this batch only contains classes 0 and 2.
        # Column 1 is the probability of class 1, which must not be used as the score of class 2.
        rng = np.random.default_rng(2)
        y = np.array([0, 2] * 20)
        proba = rng.dirichlet([1, 1, 1], size=y.size)
        proba[:, 2] += 0.3 * (y == 2)  # column 2 is informative for class 2
        proba /= proba.sum(axis=1, keepdims=True)
        r = md(y, y, y_score=proba)
        got = cur(r, "roc_auc")
        right = skm.roc_auc_score(y == 2, proba[:, 2])
        wrong = skm.roc_auc_score(y == 2, proba[:, 1])
        assert abs(right - wrong) > 0.05  # the test distinguishes the columns
        if got is not None:
            assert close(got, right), f"roc_auc {got} uses the wrong column (col 2 gives {right}, col 1 {wrong})"
        else:
            assert "note" in r["metrics"]["roc_auc"]


# ========================================================= multiclass classification
class TestMulticlassMetrics:
    def test_all_metrics_match_sklearn_macro(self):
        y, p, proba = multiclass_data()
        r = md(y, p, y_score=proba)
        assert r["task"] == "multiclass"
        assert r["average"] == "macro"
        assert r["classes"] == [0, 1, 2]
        assert "pos_label" not in r
        assert_metrics(r, sk_macro(y, p))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))
        assert 0.4 < cur(r, "accuracy") < 1.0

    def test_five_classes(self):
        y, p, proba = multiclass_data(n=1000, k=5, seed=1)
        r = md(y, p, y_score=proba)
        assert r["classes"] == [0, 1, 2, 3, 4]
        assert_metrics(r, sk_macro(y, p))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))

    def test_string_labels(self):
        y, p, proba = multiclass_data(seed=2)
        names = np.array(["cat", "dog", "eel"])
        ys, ps = names[y], names[p]
        r = md(ys, ps, y_score=proba)
        assert r["classes"] == ["cat", "dog", "eel"]
        assert_metrics(r, sk_macro(ys, ps))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(ys, proba, multi_class="ovr", average="macro"))

    def test_float_labels(self):
        y, p, proba = multiclass_data(seed=3)
        r = md(y.astype(float), p.astype(float), y_score=proba)
        assert r["classes"] == [0, 1, 2]
        assert_metrics(r, sk_macro(y, p))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, proba, multi_class="ovr"))

    def test_macro_includes_labels_only_in_predictions(self):
        y = np.array([0, 0, 1, 1, 0, 1])
        p = np.array([0, 2, 1, 1, 0, 2])
        r = md(y, p)
        assert r["task"] == "multiclass"
        assert r["classes"] == [0, 1, 2]
        assert_metrics(r, sk_macro(y, p, labels=[0, 1, 2]))

    def test_classes_option_sets_macro_labels(self):
        y = np.array([0, 1, 2, 0, 1, 2, 0])
        p = np.array([0, 1, 1, 0, 2, 2, 0])
        r = md(y, p, classes=[0, 1, 2, 3])
        assert r["classes"] == [0, 1, 2, 3]
        assert_metrics(r, sk_macro(y, p, labels=[0, 1, 2, 3]))

    def test_unnormalised_scores_are_normalised(self):
        y, p, proba = multiclass_data(seed=4)
        r = md(y, p, y_score=proba * 7.0)
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y, proba, multi_class="ovr"))

    def test_classes_option_gives_score_column_order(self):
        # Docstring: y_score columns are in sorted class order "unless classes says otherwise".
        y, p, proba = multiclass_data(seed=5)
        names = np.array(["a", "b", "c"])
        ys, ps = names[y], names[p]
        order = ["c", "a", "b"]
        proba_cab = proba[:, [2, 0, 1]]  # columns in the order of `classes`
        r = md(ys, ps, y_score=proba_cab, classes=order)
        assert_metrics(r, sk_macro(ys, ps, labels=order))
        expected = skm.roc_auc_score(ys, proba, multi_class="ovr", average="macro", labels=["a", "b", "c"])
        e = r["metrics"]["roc_auc"]
        assert close(e["current"], expected), f"roc_auc with classes={order}: {e}"

    def test_roc_auc_wrong_number_of_columns(self):
        y, p, proba = multiclass_data(seed=6)
        r = md(y, p, y_score=proba[:, :2])
        e = r["metrics"]["roc_auc"]
        assert e["current"] is None
        assert "3 columns" in e["note"]
        # 1-D scores cannot score a multiclass problem either
        r2 = md(y, p, y_score=proba[:, 0])
        assert r2["metrics"]["roc_auc"]["current"] is None
        assert "note" in r2["metrics"]["roc_auc"]

    def test_roc_auc_class_missing_from_y_true(self):
        y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
        p = np.array([0, 1, 2, 1, 0, 1, 2, 1])  # class 2 only predicted
        proba = np.full((8, 3), 1 / 3)
        r = md(y, p, y_score=proba)
        assert r["task"] == "multiclass"
        e = r["metrics"]["roc_auc"]
        assert e["current"] is None
        assert "not every class" in e["note"]


# ======================================================================= regression
class TestRegressionMetrics:
    def test_metrics_match_sklearn(self):
        y, p = regression_data()
        r = md(y, p)
        assert r["task"] == "regression"
        assert "classes" not in r
        assert list(r["metrics"]) == list(REG_METRICS)
        assert_metrics(r, sk_regression(y, p))
        assert close(cur(r, "rmse"), np.sqrt(np.mean((y - p) ** 2)))
        assert close(cur(r, "mae"), np.mean(np.abs(y - p)))
        for m in REG_METRICS:
            assert r["metrics"][m]["higher_is_better"] is (m == "r2")

    def test_lists_and_pandas(self):
        y, p = regression_data(seed=1)
        assert_metrics(md(y.tolist(), p.tolist()), sk_regression(y, p))
        assert_metrics(md(pd.Series(y), pd.Series(p)), sk_regression(y, p))

    def test_negative_r2(self):
        y, p = regression_data(seed=2)
        bad = p[::-1]
        r = md(y, bad)
        assert_metrics(r, sk_regression(y, bad))
        assert cur(r, "r2") < 0

    def test_r2_constant_target_is_none(self):
        y = np.full(10, 3.5)
        p = np.linspace(3, 4, 10)
        r = md(y, p, task="regression")
        assert cur(r, "r2") is None
        assert close(cur(r, "mae"), skm.mean_absolute_error(y, p))
        assert close(cur(r, "rmse"), skm.root_mean_squared_error(y, p))

    def test_explicit_regression_on_integer_targets(self):
        rng = np.random.default_rng(3)
        y = rng.integers(0, 5, 200)
        p = y + rng.integers(-1, 2, 200)
        assert md(y, p)["task"] in ("binary", "multiclass")
        r = md(y, p, task="regression")
        assert r["task"] == "regression"
        assert_metrics(r, sk_regression(y, p))

    def test_metrics_subset(self):
        y, p = regression_data(seed=4)
        r = md(y, p, metrics=["rmse"])
        assert list(r["metrics"]) == ["rmse"]
        r2 = md(y, p, metrics="mae")
        assert list(r2["metrics"]) == ["mae"]
        assert close(cur(r2, "mae"), skm.mean_absolute_error(y, p))


# ====================================================================== missing rows
class TestMissingRows:
    def test_nan_rows_dropped_and_counted_classification(self):
        y, p, s = binary_data(seed=20)
        yf, pf = y.astype(float), p.astype(float)
        yf[[1, 5, 9]] = np.nan
        pf[[5, 11]] = np.nan
        pf[13] = np.inf
        keep = np.isfinite(yf) & np.isfinite(pf)
        r = md(yf, pf, y_score=s)
        assert r["rows"]["current"] == y.size
        assert r["rows"]["current_dropped"] == 5
        assert r["rows"]["reference"] is None
        assert_metrics(r, sk_binary(y[keep], p[keep]))
        assert close(cur(r, "roc_auc"), skm.roc_auc_score(y[keep], s[keep]))
        # the scores of the dropped rows are dropped too
        assert r["confidence"]["current"]["count"] == int(keep.sum())
        assert close(r["confidence"]["current"]["mean"], np.maximum(s[keep], 1 - s[keep]).mean())

    def test_nan_rows_dropped_and_counted_regression(self):
        y, p = regression_data(seed=21)
        y, p = y.copy(), p.copy()
        y[[0, 3]] = np.nan
        p[[3, 8, 12]] = np.nan
        y[20] = -np.inf
        keep = np.isfinite(y) & np.isfinite(p)
        r = md(y, p)
        assert r["task"] == "regression"
        assert r["rows"]["current"] == y.size
        assert r["rows"]["current_dropped"] == 5
        assert_metrics(r, sk_regression(y[keep], p[keep]))

    def test_none_in_string_labels(self):
        ys = ["a", "b", None, "a", "b", "a", "b", "a"]
        ps = ["a", "b", "a", None, "a", "a", "b", "b"]
        r = md(ys, ps)
        keep = [i for i in range(8) if ys[i] is not None and ps[i] is not None]
        assert r["rows"]["current_dropped"] == 2
        assert r["classes"] == ["a", "b"]
        assert_metrics(r, sk_binary([ys[i] for i in keep], [ps[i] for i in keep], pos_label="b"))

    def test_pandas_nullable_integers(self):
        y = pd.Series([1, 0, None, 1, 0, 1], dtype="Int64")
        p = pd.Series([1, 0, 1, None, 1, 1], dtype="Int64")
        r = md(y, p)
        assert r["rows"]["current_dropped"] == 2
        assert r["task"] == "binary"
        assert_metrics(r, sk_binary([1, 0, 0, 1], [1, 0, 1, 1]))

    def test_none_in_float_list_regression(self):
        # A plain Python list of float targets with a missing value (None) is still regression.
        y = [1.5, None, 2.7, 3.1, 4.2, 0.3, 5.5, 2.2]
        p = [1.4, 2.0, 2.5, 3.3, 4.0, 0.5, 5.1, 2.6]
        r = md(y, p)
        assert r["task"] == "regression"
        assert r["rows"]["current_dropped"] == 1
        keep = [i for i in range(len(y)) if y[i] is not None]
        assert_metrics(r, sk_regression([y[i] for i in keep], [p[i] for i in keep]))

    def test_pandas_nullable_float_regression(self):
        y = pd.Series([1.5, None, 2.7, 3.1, 4.2, 0.3], dtype="Float64")
        p = pd.Series([1.4, 2.0, 2.5, 3.3, 4.0, 0.5])
        r = md(y, p)
        assert r["task"] == "regression"
        assert r["rows"]["current_dropped"] == 1
        assert_metrics(r, sk_regression([1.5, 2.7, 3.1, 4.2, 0.3], [1.4, 2.5, 3.3, 4.0, 0.5]))

    def test_reference_rows_dropped_and_counted(self):
        y, p = regression_data(seed=22)
        ry, rp = regression_data(seed=23)
        ry, rp = ry.copy(), rp.copy()
        ry[[2, 4]] = np.nan
        rp[7] = np.nan
        keep = np.isfinite(ry) & np.isfinite(rp)
        r = md(y, p, reference={"y_true": ry, "y_pred": rp})
        assert r["rows"]["reference"] == ry.size
        assert r["rows"]["reference_dropped"] == 3
        assert r["rows"]["current_dropped"] == 0
        for m, v in sk_regression(ry[keep], rp[keep]).items():
            assert close(r["metrics"][m]["baseline"], v), m

    def test_all_rows_dropped(self):
        y = np.array([np.nan, np.nan, 1.0])
        p = np.array([1.0, 0.0, np.nan])
        r = md(y, p, task="binary", baseline={"accuracy": 0.9})
        assert r["status"] == "empty"
        assert r["rows"]["current_dropped"] == 3
        for e in r["metrics"].values():
            assert e["current"] is None
            assert e["degraded"] is None
        assert r["summary"]["model_drift"] is None
        assert r["summary"]["degraded_metrics"] == []
        r2 = md(y, p, task="regression", baseline={"mae": 1.0})
        assert r2["status"] == "empty"
        assert all(e["current"] is None for e in r2["metrics"].values())
        assert r2["summary"]["model_drift"] is None


# ========================================================================= baselines
class TestBaseline:
    def test_given_numbers(self):
        y, p, s = binary_data(seed=30)
        base = {"accuracy": 0.8, "precision": 0.7, "recall": 0.75, "f1": 0.72, "roc_auc": 0.9}
        r = md(y, p, y_score=s, baseline=base)
        for m, b in base.items():
            e = r["metrics"][m]
            assert e["baseline"] == b
            assert e["baseline_source"] == "given"
            assert close(e["change"], e["current"] - b)
            assert close(e["relative_change"], (e["current"] - b) / b)
            assert isinstance(e["degraded"], bool)
        assert r["summary"]["metrics_evaluated"] == list(CLS_METRICS)
        assert r["rows"]["reference"] is None

    def test_integer_baseline_value(self):
        y = np.array([1, 0, 1, 1])
        r = md(y, y, baseline={"accuracy": 1})
        assert r["metrics"]["accuracy"]["baseline"] == 1
        assert r["metrics"]["accuracy"]["change"] == 0
        assert r["metrics"]["accuracy"]["degraded"] is False

    def test_numpy_float64_baseline_value(self):
        y = np.array([1, 0, 1, 1])
        r = md(y, y, baseline={"accuracy": np.float64(0.9)})
        assert r["metrics"]["accuracy"]["baseline"] == 0.9

    def test_numpy_float32_and_int64_baseline_values(self):
        # Numbers from numpy (e.g. a float32 metric or an int64 count) are finite numbers.
        y = np.array([1, 0, 1, 1])
        r = md(y, y, baseline={"accuracy": np.float32(0.5), "recall": np.int64(1)})
        assert close(r["metrics"]["accuracy"]["baseline"], float(np.float32(0.5)))
        assert r["metrics"]["recall"]["baseline"] == 1

    def test_computed_from_reference_classification(self):
        y, p, s = binary_data(seed=31)
        ry, rp, rs = binary_data(seed=32)
        r = md(y, p, y_score=s, reference={"y_true": ry, "y_pred": rp, "y_score": rs})
        exp = sk_binary(ry, rp)
        exp["roc_auc"] = skm.roc_auc_score(ry, rs)
        for m in CLS_METRICS:
            e = r["metrics"][m]
            assert close(e["baseline"], exp[m]), m
            assert e["baseline_source"] == "reference"
            assert close(e["change"], e["current"] - e["baseline"])
            assert close(e["relative_change"], (e["current"] - e["baseline"]) / abs(e["baseline"]))
        assert r["rows"]["reference"] == ry.size
        assert r["rows"]["reference_dropped"] == 0

    def test_computed_from_reference_multiclass(self):
        y, p, proba = multiclass_data(seed=33)
        ry, rp, rproba = multiclass_data(seed=34)
        r = md(y, p, y_score=proba, reference={"y_true": ry, "y_pred": rp, "y_score": rproba})
        exp = sk_macro(ry, rp)
        exp["roc_auc"] = skm.roc_auc_score(ry, rproba, multi_class="ovr", average="macro")
        for m in CLS_METRICS:
            assert close(r["metrics"][m]["baseline"], exp[m]), m

    def test_computed_from_reference_regression(self):
        y, p = regression_data(seed=35)
        ry, rp = regression_data(seed=36)
        r = md(y, p, reference={"y_true": ry, "y_pred": rp})
        for m, v in sk_regression(ry, rp).items():
            assert close(r["metrics"][m]["baseline"], v), m
            assert r["metrics"][m]["baseline_source"] == "reference"

    def test_reference_classes_join_the_label_set(self):
        # current batch only has classes 0/1, the reference also has 2 -> multiclass
        y = np.array([0, 1, 0, 1, 1, 0])
        p = np.array([0, 1, 1, 1, 0, 0])
        ry = np.array([0, 1, 2, 2, 1, 0])
        rp = np.array([0, 1, 2, 1, 1, 0])
        r = md(y, p, reference={"y_true": ry, "y_pred": rp})
        assert r["task"] == "multiclass"
        assert r["classes"] == [0, 1, 2]
        assert_metrics(r, sk_macro(y, p, labels=[0, 1, 2]))
        for m, v in sk_macro(ry, rp, labels=[0, 1, 2]).items():
            assert close(r["metrics"][m]["baseline"], v), m

    def test_given_baseline_overrides_reference_per_metric(self):
        y, p, _ = binary_data(seed=37)
        ry, rp, _ = binary_data(seed=38)
        r = md(y, p, reference={"y_true": ry, "y_pred": rp}, baseline={"accuracy": 0.99})
        assert r["metrics"]["accuracy"]["baseline"] == 0.99
        assert r["metrics"]["accuracy"]["baseline_source"] == "given"
        assert close(r["metrics"]["f1"]["baseline"], skm.f1_score(ry, rp))
        assert r["metrics"]["f1"]["baseline_source"] == "reference"

    def test_no_baseline(self):
        y, p = regression_data(seed=39)
        r = md(y, p)
        for e in r["metrics"].values():
            assert e["baseline"] is None
            assert e["baseline_source"] is None
            assert e["change"] is None
            assert e["relative_change"] is None
            assert e["degraded"] is None

    def test_partial_baseline(self):
        y, p = regression_data(seed=40)
        r = md(y, p, baseline={"mae": 100.0})
        assert r["metrics"]["mae"]["degraded"] is False
        assert r["metrics"]["rmse"]["baseline"] is None
        assert r["metrics"]["rmse"]["degraded"] is None
        assert r["summary"]["metrics_evaluated"] == ["mae"]
        assert r["summary"]["model_drift"] is False

    def test_baseline_source_is_none_when_reference_cannot_provide_it(self):
        # current has scores, the reference has none: roc_auc has no baseline
        y, p, s = binary_data(seed=41)
        ry, rp, _ = binary_data(seed=42)
        r = md(y, p, y_score=s, reference={"y_true": ry, "y_pred": rp})
        e = r["metrics"]["roc_auc"]
        assert e["baseline"] is None
        assert e["degraded"] is None
        assert e["baseline_source"] is None, f"baseline_source {e['baseline_source']!r} but baseline is None"
        assert r["confidence"]["reference"] is None
        assert r["confidence"]["drift"] is None


# ==================================================================== degraded logic
def acc_data(correct: int, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels with an exact accuracy of correct/total."""
    y = np.array([0, 1] * (total // 2) + [0] * (total % 2))
    p = y.copy()
    p[correct:] = 1 - p[correct:]
    return y, p


def reg_with_mae(mae: float, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Regression data with an exact (binary-representable) mae and non-constant target."""
    y = np.arange(n, dtype=float) + 0.5  # non-integral -> inferred as regression
    return y, y + mae


class TestDegraded:
    def test_acc_data_helper(self):
        y, p = acc_data(3, 8)
        assert skm.accuracy_score(y, p) == 0.375

    def test_improvement_is_never_degraded(self):
        y, p = acc_data(8, 8)
        for tol in (0, 0.0, {"absolute": 0}, {"relative": 0, "absolute": 0}, {"accuracy": 0}):
            r = md(y, p, baseline={"accuracy": 0.5}, metrics=["accuracy"], tolerance=tol)
            e = r["metrics"]["accuracy"]
            assert e["change"] == 0.5
            assert e["relative_change"] == 1.0
            assert e["degraded"] is False, tol
            assert r["summary"]["model_drift"] is False
        # lower-is-better metrics: a decrease is an improvement
        y, p = reg_with_mae(0.25)
        r = md(y, p, baseline={"mae": 1.0, "rmse": 1.0, "r2": 0.5}, tolerance=0)
        for m in REG_METRICS:
            assert r["metrics"][m]["degraded"] is False, m
        assert r["metrics"]["mae"]["change"] == -0.75
        assert r["summary"]["degraded_metrics"] == []

    def test_unchanged_metric_with_zero_tolerance_is_not_degraded(self):
        y, p = acc_data(6, 8)
        r = md(y, p, baseline={"accuracy": 0.75}, metrics=["accuracy"], tolerance=0)
        assert r["metrics"]["accuracy"]["change"] == 0
        assert r["metrics"]["accuracy"]["degraded"] is False

    def test_decline_beyond_default_tolerance(self):
        y, p = acc_data(6, 8)  # 0.75
        r = md(y, p, baseline={"accuracy": 0.875}, metrics=["accuracy"])
        e = r["metrics"]["accuracy"]
        assert e["tolerance"] == {"relative": 0.05}
        assert e["change"] == -0.125
        assert close(e["relative_change"], -0.125 / 0.875)
        assert e["degraded"] is True
        assert r["summary"]["model_drift"] is True
        assert r["summary"]["degraded_metrics"] == ["accuracy"]

    def test_small_decline_within_default_tolerance(self):
        y, p = acc_data(99, 100)  # 0.99
        r = md(y, p, baseline={"accuracy": 1.0}, metrics=["accuracy"])
        assert r["metrics"]["accuracy"]["degraded"] is False
        assert r["summary"]["model_drift"] is False

    def test_mae_increase_is_degraded(self):
        y, p = reg_with_mae(1.5)
        r = md(y, p, baseline={"mae": 1.0, "rmse": 1.0})
        for m in ("mae", "rmse"):
            e = r["metrics"][m]
            assert e["higher_is_better"] is False
            assert e["change"] == 0.5
            assert e["relative_change"] == 0.5
            assert e["degraded"] is True
        assert r["summary"]["degraded_metrics"] == ["mae", "rmse"]
        assert r["summary"]["model_drift"] is True

    def test_mae_small_increase_within_tolerance(self):
        y, p = reg_with_mae(1.03125)
        r = md(y, p, baseline={"mae": 1.0}, metrics=["mae"])  # +3.1 % < 5 %
        assert r["metrics"]["mae"]["degraded"] is False

    def test_r2_decrease_is_degraded(self):
        y, p = regression_data(seed=50)
        r2 = skm.r2_score(y, p)
        r = md(y, p, baseline={"r2": r2 + 0.2}, metrics=["r2"])
        assert r["metrics"]["r2"]["higher_is_better"] is True
        assert r["metrics"]["r2"]["degraded"] is True
        r = md(y, p, baseline={"r2": r2 - 0.2}, metrics=["r2"])
        assert r["metrics"]["r2"]["degraded"] is False

    def test_relative_vs_absolute_tolerance(self):
        y, p = acc_data(6, 8)  # 0.75 vs baseline 0.875: -0.125 absolute, -14.3 % relative
        base = {"accuracy": 0.875}
        kw = {"baseline": base, "metrics": ["accuracy"]}

        def deg(tol: Any) -> bool:
            return md(y, p, tolerance=tol, **kw)["metrics"]["accuracy"]["degraded"]

        assert deg(0.2) is False  # relative 20 %
        assert deg(0.1) is True  # relative 10 %
        assert deg({"relative": 0.2}) is False
        assert deg({"relative": 0.1}) is True
        assert deg({"absolute": 0.2}) is False
        assert deg({"absolute": 0.1}) is True
        # the same number means different things as relative and as absolute
        assert deg({"absolute": 0.13}) is False
        assert deg({"relative": 0.13}) is True
        # both: degraded when worse by more than *any* tolerance given
        assert deg({"relative": 0.2, "absolute": 0.2}) is False
        assert deg({"relative": 0.1, "absolute": 0.2}) is True
        assert deg({"relative": 0.2, "absolute": 0.1}) is True
        assert md(y, p, tolerance={"absolute": 0.1}, **kw)["metrics"]["accuracy"]["tolerance"] == {"absolute": 0.1}

    def test_absolute_tolerance_lower_is_better(self):
        y, p = reg_with_mae(1.5)
        kw = {"baseline": {"mae": 1.0}, "metrics": ["mae"]}
        assert md(y, p, tolerance={"absolute": 0.75}, **kw)["metrics"]["mae"]["degraded"] is False
        assert md(y, p, tolerance={"absolute": 0.25}, **kw)["metrics"]["mae"]["degraded"] is True

    def test_tolerance_boundary_is_not_degraded(self):
        # exactly representable: 0.375 vs 0.5 is -25 % relative, -0.125 absolute
        y, p = acc_data(3, 8)
        kw = {"baseline": {"accuracy": 0.5}, "metrics": ["accuracy"]}
        assert md(y, p, tolerance=0.25, **kw)["metrics"]["accuracy"]["degraded"] is False
        assert md(y, p, tolerance={"absolute": 0.125}, **kw)["metrics"]["accuracy"]["degraded"] is False
        assert md(y, p, tolerance=0.24, **kw)["metrics"]["accuracy"]["degraded"] is True
        assert md(y, p, tolerance={"absolute": 0.12}, **kw)["metrics"]["accuracy"]["degraded"] is True

    def test_integer_tolerance(self):
        y, p = reg_with_mae(1.5)
        r = md(y, p, baseline={"mae": 1.0}, metrics=["mae"], tolerance=1)
        assert r["metrics"]["mae"]["tolerance"] == {"relative": 1.0}
        assert r["metrics"]["mae"]["degraded"] is False

    def test_per_metric_tolerance(self):
        y, p = acc_data(6, 8)
        base = {"accuracy": 0.875, "recall": 1.0, "precision": 1.0, "f1": 1.0}
        exp = sk_binary(y, p)
        assert all(exp[m] < base[m] * 0.9 for m in base)  # every metric drops by > 10 %
        r = md(y, p, baseline=base, tolerance={"accuracy": 0.5, "recall": {"absolute": 0.9}})
        ms = r["metrics"]
        assert ms["accuracy"]["tolerance"] == {"relative": 0.5}
        assert ms["accuracy"]["degraded"] is False
        assert ms["recall"]["tolerance"] == {"absolute": 0.9}
        assert ms["recall"]["degraded"] is False
        # the metrics without a tolerance keep the default
        assert ms["precision"]["tolerance"] == {"relative": 0.05}
        assert ms["precision"]["degraded"] is True
        assert ms["f1"]["degraded"] is True
        assert r["summary"]["degraded_metrics"] == ["precision", "f1"]
        assert r["summary"]["model_drift"] is True

    def test_per_metric_tolerance_regression(self):
        y, p = reg_with_mae(1.5)
        base = {"mae": 1.0, "rmse": 1.0}
        r = md(y, p, baseline=base, tolerance={"mae": {"relative": 0.6}, "rmse": {"absolute": 0.1}})
        assert r["metrics"]["mae"]["degraded"] is False
        assert r["metrics"]["rmse"]["degraded"] is True
        assert r["summary"]["degraded_metrics"] == ["rmse"]

    def test_baseline_zero_higher_is_better(self):
        y, p = acc_data(0, 8)  # accuracy 0
        r = md(y, p, baseline={"accuracy": 0.0}, metrics=["accuracy"])
        e = r["metrics"]["accuracy"]
        assert e["current"] == 0.0
        assert e["change"] == 0.0
        assert e["relative_change"] is None
        assert e["degraded"] is False
        y, p = acc_data(4, 8)
        e = md(y, p, baseline={"accuracy": 0}, metrics=["accuracy"])["metrics"]["accuracy"]
        assert e["change"] == 0.5
        assert e["relative_change"] is None
        assert e["degraded"] is False

    def test_baseline_zero_lower_is_better(self):
        y, p = reg_with_mae(0.5)
        e = md(y, p, baseline={"mae": 0.0}, metrics=["mae"])["metrics"]["mae"]
        assert e["change"] == 0.5
        assert e["relative_change"] is None
        assert e["degraded"] is True  # any worsening of a zero baseline is infinitely relative
        # an absolute tolerance still applies on its own
        e = md(y, p, baseline={"mae": 0.0}, metrics=["mae"], tolerance={"absolute": 1.0})["metrics"]["mae"]
        assert e["relative_change"] is None
        assert e["degraded"] is False
        e = md(y, p, baseline={"mae": 0.0}, metrics=["mae"], tolerance={"absolute": 0.25})["metrics"]["mae"]
        assert e["degraded"] is True
        # equal to a zero baseline: not degraded
        y, p = reg_with_mae(0.0)
        e = md(y, p, baseline={"mae": 0.0}, metrics=["mae"])["metrics"]["mae"]
        assert e["change"] == 0.0
        assert e["degraded"] is False

    def test_negative_baseline_uses_absolute_value(self):
        y, p = regression_data(seed=51)
        r2 = skm.r2_score(y, p)
        base = -0.5
        e = md(y, p, baseline={"r2": base}, metrics=["r2"])["metrics"]["r2"]
        assert close(e["relative_change"], (r2 - base) / 0.5)
        assert e["relative_change"] > 0
        assert e["degraded"] is False
        # r2 = 2 * base is 100 % worse relative to |base|
        y2 = np.arange(8, dtype=float) + 0.5
        p2 = y2[::-1].copy()  # r2 = -3
        assert skm.r2_score(y2, p2) == -3.0
        e = md(y2, p2, baseline={"r2": -1.0}, metrics=["r2"], tolerance=1.5)["metrics"]["r2"]
        assert e["relative_change"] == -2.0
        assert e["degraded"] is True
        e = md(y2, p2, baseline={"r2": -1.0}, metrics=["r2"], tolerance=2.5)["metrics"]["r2"]
        assert e["degraded"] is False

    def test_degraded_against_reference(self):
        y, p, s = binary_data(seed=52)
        # current: a much worse model (half the predictions flipped)
        bad = p.copy()
        bad[::2] = 1 - bad[::2]
        r = md(y, bad, y_score=s, reference={"y_true": y, "y_pred": p, "y_score": s})
        assert r["metrics"]["accuracy"]["degraded"] is True
        assert r["metrics"]["roc_auc"]["degraded"] is False  # same scores
        assert r["metrics"]["roc_auc"]["change"] == 0.0
        assert "accuracy" in r["summary"]["degraded_metrics"]
        assert "roc_auc" not in r["summary"]["degraded_metrics"]
        assert r["summary"]["model_drift"] is True

    def test_empty_tolerance_mapping_does_not_silently_disable_checks(self):
        # tolerance={} is either rejected as a bad tolerance or means the default;
        # it must not turn off degradation detection for a 50 % accuracy drop.
        y, p = acc_data(4, 8)  # 0.5 vs 1.0
        try:
            r = md(y, p, baseline={"accuracy": 1.0}, metrics=["accuracy"], tolerance={})
        except ValueError:
            return
        e = r["metrics"]["accuracy"]
        assert e["degraded"] is True, f"tolerance={{}} gave {e}"


# ======================================================================== confidence
def conf_scores(n: int, a: float, b: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).beta(a, b, n)


class TestConfidence:
    def test_binary_1d_stats_match_numpy(self):
        y, p, s = binary_data(n=333, seed=60)
        r = md(y, p, y_score=s)
        c = r["confidence"]["current"]
        conf = np.maximum(s, 1 - s)
        assert c["count"] == 333
        assert close(c["mean"], conf.mean())
        assert close(c["std"], conf.std())
        assert close(c["min"], conf.min())
        assert close(c["max"], conf.max())
        assert close(c["low_quantile"], np.quantile(conf, 0.05))
        assert c["low_quantile_level"] == 0.05
        assert c["min"] >= 0.5
        assert r["confidence"]["reference"] is None
        assert r["confidence"]["drift"] is None
        assert r["summary"]["confidence_drift"] is None

    def test_custom_quantile(self):
        y, p, s = binary_data(n=200, seed=61)
        r = md(y, p, y_score=s, confidence_quantile=0.25)
        c = r["confidence"]["current"]
        assert c["low_quantile_level"] == 0.25
        assert close(c["low_quantile"], np.quantile(np.maximum(s, 1 - s), 0.25))

    def test_2d_probabilities_row_max(self):
        y, p, proba = multiclass_data(n=400, seed=62)
        r = md(y, p, y_score=proba)
        c = r["confidence"]["current"]
        conf = proba.max(axis=1)
        assert c["count"] == 400
        assert close(c["mean"], conf.mean())
        assert close(c["std"], conf.std())
        assert close(c["min"], conf.min())
        assert close(c["max"], conf.max())
        assert close(c["low_quantile"], np.quantile(conf, 0.05))

    def test_binary_2d_equals_1d(self):
        y, p, s = binary_data(n=250, seed=63)
        r1 = md(y, p, y_score=s)["confidence"]["current"]
        r2 = md(y, p, y_score=np.column_stack([1 - s, s]))["confidence"]["current"]
        for k in ("count", "mean", "std", "min", "max", "low_quantile"):
            assert close(r2[k], r1[k]), k

    def test_2d_rows_with_nan_are_ignored(self):
        y, p, proba = multiclass_data(n=100, seed=64)
        proba = proba.copy()
        proba[[3, 50], 1] = np.nan
        ok = np.all(np.isfinite(proba), axis=1)
        c = md(y, p, y_score=proba)["confidence"]["current"]
        assert c["count"] == 98
        assert close(c["mean"], proba[ok].max(axis=1).mean())

    def test_no_scores_no_confidence(self):
        y, p, _ = binary_data(seed=65)
        r = md(y, p, reference={"y_true": y, "y_pred": p})
        assert r["confidence"] is None
        assert r["summary"]["confidence_drift"] is None

    def test_reference_stats(self):
        y, p, s = binary_data(n=300, seed=66)
        ry, rp, rs = binary_data(n=280, seed=67)
        r = md(y, p, y_score=s, reference={"y_true": ry, "y_pred": rp, "y_score": rs})
        c = r["confidence"]["reference"]
        conf = np.maximum(rs, 1 - rs)
        assert c["count"] == 280
        assert close(c["mean"], conf.mean())
        assert close(c["std"], conf.std())
        assert close(c["min"], conf.min())
        assert close(c["max"], conf.max())
        assert close(c["low_quantile"], np.quantile(conf, 0.05))
        d = r["confidence"]["drift"]
        assert close(d["mean_change"], np.maximum(s, 1 - s).mean() - conf.mean())

    def _ref(self, n: int, seed: int) -> dict[str, Any]:
        rs = conf_scores(n, 0.6, 0.6, seed)  # confident: mass near 0 and 1
        ry = (rs > 0.5).astype(int)
        return {"y_true": ry, "y_pred": ry, "y_score": rs}

    @pytest.mark.parametrize(("n", "method"), [(400, "ks"), (3000, "wasserstein")])
    def test_drift_detected_on_strong_shift(self, n: int, method: str):
        ref = self._ref(n, seed=70)
        s = conf_scores(n, 8, 8, seed=71)  # scores near 0.5: low confidence
        y = (s > 0.5).astype(int)
        r = md(y, y, y_score=s, reference=ref)
        d = r["confidence"]["drift"]
        assert d["method"] == method
        assert d["drifted"] is True
        assert r["summary"]["confidence_drift"] is True
        # labels are perfect on both sides, so only confidence drift makes model drift
        assert r["summary"]["degraded_metrics"] == []
        assert r["summary"]["model_drift"] is True
        assert d["mean_change"] < -0.1
        c_cur, c_ref = np.maximum(s, 1 - s), np.maximum(ref["y_score"], 1 - ref["y_score"])
        ks = stats.ks_2samp(c_ref, c_cur)
        assert close(d["methods"]["ks"]["statistic"], ks.statistic)
        assert abs(d["methods"]["ks"]["p_value"] - ks.pvalue) <= 1e-9
        assert d["methods"]["ks"]["drifted"] is True
        w = stats.wasserstein_distance(c_ref, c_cur) / c_ref.std()
        assert abs(d["methods"]["wasserstein"]["statistic"] - w) <= 1e-9
        assert d["methods"]["wasserstein"]["drifted"] is True
        assert d["methods"]["ks"]["threshold"] == 0.05
        assert d["methods"]["wasserstein"]["threshold"] == 0.1

    @pytest.mark.parametrize(("n", "method"), [(400, "ks"), (3000, "wasserstein")])
    def test_no_drift_on_same_distribution(self, n: int, method: str):
        rng = np.random.default_rng(12345)
        rs, s = rng.beta(2, 5, n), rng.beta(2, 5, n)
        ry, y = (rs > 0.5).astype(int), (s > 0.5).astype(int)
        r = md(y, y, y_score=s, reference={"y_true": ry, "y_pred": ry, "y_score": rs})
        d = r["confidence"]["drift"]
        assert d["method"] == method
        assert d["drifted"] is False
        assert r["summary"]["confidence_drift"] is False
        assert r["summary"]["model_drift"] is False
        assert abs(d["mean_change"]) < 0.02

    def test_no_drift_on_identical_scores(self):
        y, p, s = binary_data(n=500, seed=72)
        r = md(y, p, y_score=s, reference={"y_true": y, "y_pred": p, "y_score": s})
        d = r["confidence"]["drift"]
        assert d["drifted"] is False
        assert d["mean_change"] == 0.0
        assert d["methods"]["ks"]["statistic"] == 0.0
        assert d["methods"]["ks"]["p_value"] == 1.0
        assert r["summary"]["model_drift"] is False
        assert all(e["degraded"] is False for e in r["metrics"].values())
        assert all(e["change"] == 0.0 for e in r["metrics"].values())

    def test_mirrored_scores_have_the_same_confidence(self):
        # confidence is max(s, 1 - s): flipping which class is favoured is not confidence drift
        rng = np.random.default_rng(73)
        s = rng.beta(5, 1, 300)
        r = md(
            np.ones(300, int),
            np.ones(300, int),
            y_score=1 - s,
            metrics=["accuracy"],
            reference={"y_true": np.ones(300, int), "y_pred": np.ones(300, int), "y_score": s},
        )
        assert abs(r["confidence"]["drift"]["mean_change"]) < 1e-12
        assert r["confidence"]["drift"]["drifted"] is False

    def test_multiclass_confidence_drift(self):
        y, p, proba = multiclass_data(n=500, seed=74)
        flat = (proba + 2.0) / (proba + 2.0).sum(axis=1, keepdims=True)  # much less confident
        r = md(y, p, y_score=flat, reference={"y_true": y, "y_pred": p, "y_score": proba})
        d = r["confidence"]["drift"]
        assert d["drifted"] is True
        assert close(d["mean_change"], flat.max(axis=1).mean() - proba.max(axis=1).mean())
        assert r["summary"]["model_drift"] is True
        assert r["summary"]["degraded_metrics"] == []

    def test_confidence_thresholds(self):
        rng = np.random.default_rng(75)
        rs, s = rng.beta(2, 5, 300), rng.beta(2, 5, 300)
        ref = {"y_true": (rs > 0.5).astype(int), "y_pred": (rs > 0.5).astype(int), "y_score": rs}
        y = (s > 0.5).astype(int)
        base = md(y, y, y_score=s, reference=ref)["confidence"]["drift"]
        assert base["drifted"] is False
        r = md(y, y, y_score=s, reference=ref, confidence_thresholds={"ks": 1.0})
        d = r["confidence"]["drift"]
        assert d["methods"]["ks"]["threshold"] == 1.0
        assert d["drifted"] is True
        r = md(y, y, y_score=s, reference=ref, confidence_thresholds={"wasserstein": 0.0})
        assert r["confidence"]["drift"]["methods"]["wasserstein"]["drifted"] is True

    def test_too_few_rows_for_drift_test(self):
        s = np.array([0.9, 0.8, 0.2, 0.7])
        y = (s > 0.5).astype(int)
        r = md(y, y, y_score=s, reference={"y_true": y, "y_pred": y, "y_score": s})
        assert r["confidence"]["current"]["count"] == 4
        assert r["confidence"]["drift"] is None
        assert r["summary"]["confidence_drift"] is None


# =========================================================================== summary
class TestSummary:
    def test_none_when_nothing_decidable(self):
        y, p, s = binary_data(seed=80)
        r = md(y, p, y_score=s)
        assert r["summary"]["model_drift"] is None
        assert r["summary"]["degraded_metrics"] == []
        assert r["summary"]["metrics_evaluated"] == []
        assert r["summary"]["confidence_drift"] is None
        y, p = regression_data(seed=81)
        assert md(y, p)["summary"]["model_drift"] is None

    def test_none_when_only_undefined_metrics_have_baselines(self):
        y = np.ones(10, int)
        s = np.linspace(0.5, 1, 10)
        r = md(y, y, y_score=s, baseline={"roc_auc": 0.9})
        assert r["summary"]["model_drift"] is None

    def test_false_when_evaluated_and_fine(self):
        y, p, _ = binary_data(seed=82)
        r = md(y, p, reference={"y_true": y, "y_pred": p})
        assert r["summary"]["model_drift"] is False
        assert r["summary"]["degraded_metrics"] == []
        assert r["summary"]["metrics_evaluated"] == ["accuracy", "precision", "recall", "f1"]
        assert r["summary"]["confidence_drift"] is None

    def test_true_with_degraded_metrics_in_metric_order(self):
        y, p = reg_with_mae(2.0)
        r = md(y, p, baseline={"r2": 0.99, "rmse": 1.0, "mae": 1.0})
        assert r["summary"]["model_drift"] is True
        assert r["summary"]["degraded_metrics"] == ["mae", "rmse", "r2"]
        assert r["summary"]["metrics_evaluated"] == ["mae", "rmse", "r2"]

    def test_confidence_drift_alone_is_decidable(self):
        rng = np.random.default_rng(83)
        rs, s = rng.beta(0.5, 0.5, 500), rng.beta(10, 10, 500)
        ref = {"y_true": (rs > 0.5).astype(int), "y_pred": (rs > 0.5).astype(int), "y_score": rs}
        y = (s > 0.5).astype(int)
        r = md(y, y, y_score=s, reference=ref, baseline={"accuracy": 1.0}, metrics=["accuracy"])
        assert r["metrics"]["accuracy"]["degraded"] is False
        assert r["summary"]["confidence_drift"] is True
        assert r["summary"]["model_drift"] is True


# ========================================================================= task inference
class TestTask:
    def test_float_targets_are_regression(self):
        y, p = regression_data(seed=90)
        assert md(y, p)["task"] == "regression"
        assert md(y.astype(np.float32), p.astype(np.float32))["task"] == "regression"

    def test_many_integral_floats_are_regression(self):
        y = np.arange(100, dtype=float)
        p = y + 1
        r = md(y, p)
        assert r["task"] == "regression"
        assert r["metrics"]["mae"]["current"] == 1.0

    def test_few_integral_floats_are_classification(self):
        y = np.array([0.0, 1.0, 2.0, 1.0, 0.0, 2.0])
        r = md(y, y)
        assert r["task"] == "multiclass"
        assert r["classes"] == [0, 1, 2]

    def test_int_labels_are_classification(self):
        y, p, _ = binary_data(seed=91)
        assert md(y, p)["task"] == "binary"
        assert md(y.astype(np.uint8), p.astype(np.uint8))["task"] == "binary"
        y, p, _ = multiclass_data(seed=91)
        assert md(y, p)["task"] == "multiclass"
        # many distinct integers are still labels
        rng = np.random.default_rng(91)
        yi = rng.integers(0, 80, 400)
        assert md(yi, yi)["task"] == "multiclass"

    def test_string_and_bool_labels_are_classification(self):
        assert md(["a", "b", "a"], ["a", "a", "b"])["task"] == "binary"
        assert md([True, False, True], [True, True, True])["task"] == "binary"

    def test_task_inferred_from_reference_when_current_is_empty(self):
        ry, rp = regression_data(seed=92)
        r = md(np.array([np.nan]), np.array([np.nan]), reference={"y_true": ry, "y_pred": rp})
        assert r["task"] == "regression"
        assert r["status"] == "empty"

    def test_explicit_task_regression(self):
        y, p, _ = binary_data(seed=93)
        r = md(y, p, task="regression")
        assert r["task"] == "regression"
        assert_metrics(r, sk_regression(y, p))

    def test_explicit_task_classification(self):
        y, p, _ = binary_data(seed=94)
        r = md(y.astype(float), p.astype(float), task="classification")
        assert r["task"] == "binary"
        assert_metrics(r, sk_binary(y, p))
        y, p, _ = multiclass_data(seed=94)
        assert md(y, p, task="classification")["task"] == "multiclass"

    def test_explicit_multiclass_on_two_labels_uses_macro(self):
        y, p, _ = binary_data(seed=95)
        r = md(y, p, task="multiclass")
        assert r["task"] == "multiclass"
        assert r["average"] == "macro"
        assert_metrics(r, sk_macro(y, p))
        assert abs(cur(r, "precision") - skm.precision_score(y, p)) > 1e-6

    def test_explicit_binary(self):
        y, p, s = binary_data(seed=96)
        ys, ps = np.where(y == 1, "b", "a"), np.where(p == 1, "b", "a")
        r = md(ys, ps, y_score=s, task="binary", pos_label="b")
        assert r["task"] == "binary"
        assert r["pos_label"] == "b"
        assert_metrics(r, sk_binary(ys, ps, pos_label="b"))

    def test_regression_rejects_non_numeric(self):
        with pytest.raises(ValueError, match="numeric"):
            model_drift(["a", "b"], ["a", "b"], task="regression")


# ======================================================================== input errors
class TestErrors:
    def test_length_mismatch(self):
        with pytest.raises(ValueError, match="rows"):
            model_drift([1, 0, 1], [1, 0])
        with pytest.raises(ValueError, match="y_score"):
            model_drift([1, 0, 1], [1, 0, 1], y_score=[0.1, 0.2])
        with pytest.raises(ValueError, match="y_score"):
            model_drift([1, 0, 1], [1, 0, 1], y_score=np.full((2, 2), 0.5))
        with pytest.raises(ValueError, match="reference"):
            model_drift([1, 0], [1, 0], reference={"y_true": [1, 0, 1], "y_pred": [1, 0]})
        with pytest.raises(ValueError, match="reference"):
            model_drift([1, 0], [1, 0], reference={"y_true": [1, 0], "y_pred": [1, 0], "y_score": [0.5]})

    @pytest.mark.parametrize(
        ("y", "kw"),
        [
            ([1, 0, 1], {"metrics": ["mae"]}),
            ([1, 0, 1], {"metrics": ["rmse", "accuracy"]}),
            ([1, 0, 1], {"metrics": ["auc"]}),
            ([1, 0, 1], {"metrics": "r2"}),
            ([0.5, 1.5, 2.25], {"metrics": ["accuracy"]}),
            ([0.5, 1.5, 2.25], {"metrics": ["roc_auc"]}),
            ([0.5, 1.5, 2.25], {"metrics": ["MAE"]}),
        ],
    )
    def test_unknown_metric_for_task(self, y: list[Any], kw: dict[str, Any]):
        with pytest.raises(ValueError, match="metric"):
            model_drift(y, y, **kw)

    @pytest.mark.parametrize(
        "tol",
        [
            -0.1,
            float("nan"),
            float("inf"),
            True,
            "5%",
            [0.1],
            {"relative": -1},
            {"absolute": float("nan")},
            {"relative": "0.1"},
            {"relative": True},
            {"rel": 0.1},
            {"accuracy": -0.5},
            {"accuracy": {"absolute": -1}},
            {"accuracy": {"relatve": 0.1}},
            {"accuracy": 0.1, "acuracy": 0.2},
            {"accuracy": 0.1, "relative": 0.2},
            {"accuracy": "x"},
        ],
    )
    def test_bad_tolerance(self, tol: Any):
        with pytest.raises(ValueError, match="tolerance"):
            model_drift([1, 0, 1, 1], [1, 0, 0, 1], baseline={"accuracy": 0.9}, tolerance=tol)

    @pytest.mark.parametrize(
        "baseline",
        [
            {"accuracy": float("nan")},
            {"accuracy": float("inf")},
            {"accuracy": -float("inf")},
            {"accuracy": np.nan},
            {"accuracy": None},
            {"accuracy": "0.9"},
            {"accuracy": True},
            {"acc": 0.9},
            {"accuracy": 0.9, "typo": 0.1},
            [0.9],
            0.9,
        ],
    )
    def test_bad_baseline(self, baseline: Any):
        with pytest.raises(ValueError, match="baseline"):
            model_drift([1, 0, 1, 1], [1, 0, 0, 1], baseline=baseline)

    @pytest.mark.parametrize("task", ["regresion", "Binary", "clustering", ""])
    def test_unknown_task(self, task: str):
        with pytest.raises(ValueError, match="task"):
            model_drift([1, 0], [1, 0], task=task)

    @pytest.mark.parametrize("q", [0, 1, -0.1, 1.5, "0.1", None])
    def test_bad_confidence_quantile(self, q: Any):
        with pytest.raises(ValueError, match="confidence_quantile"):
            model_drift([1, 0], [1, 0], y_score=[0.9, 0.1], confidence_quantile=q)

    @pytest.mark.parametrize(
        "reference",
        [{"y_true": [1, 0]}, {"y_pred": [1, 0]}, [[1, 0], [1, 0]], "ref"],
    )
    def test_bad_reference(self, reference: Any):
        with pytest.raises(ValueError, match="reference"):
            model_drift([1, 0], [1, 0], reference=reference)

    def test_bad_shapes(self):
        with pytest.raises(ValueError, match="required"):
            model_drift(None, [1, 0])
        with pytest.raises(ValueError, match="one-dimensional"):
            model_drift(np.zeros((3, 2)), np.zeros(3))
        with pytest.raises(ValueError, match="y_score"):
            model_drift([1, 0], [1, 0], y_score=np.zeros((2, 2, 2)))


# ======================================================================== JSON safety
class TestJsonSafety:
    def test_numpy_typed_inputs_give_plain_types(self):
        y, p, s = binary_data(seed=100)
        r = md(
            y.astype(np.int32),
            p.astype(np.int32),
            y_score=s.astype(np.float32),
            pos_label=np.int32(1),
            baseline={"accuracy": np.float64(0.9)},
            reference={"y_true": y, "y_pred": p, "y_score": s},
        )
        assert type(r["pos_label"]) is int
        assert all(type(c) is int for c in r["classes"])
        names = np.array(["x", "y"])
        r = md(names[y], names[p], y_score=s, pos_label=np.str_("y"))
        assert type(r["pos_label"]) is str
        assert all(type(c) is str for c in r["classes"])

    def test_nan_and_undefined_values_become_none(self):
        y = np.full(10, 2.0)
        p = np.array([2.0, np.nan] * 5)
        r = md(y, p, task="regression", baseline={"r2": 0.5, "mae": 0.0})
        assert r["metrics"]["r2"]["current"] is None
        assert r["metrics"]["mae"]["current"] == 0.0
        assert r["metrics"]["mae"]["relative_change"] is None
        json.dumps(r, allow_nan=False)

    def test_full_report_round_trips(self):
        y, p, proba = multiclass_data(seed=101)
        ry, rp, rproba = multiclass_data(seed=102)
        r = md(
            y,
            p,
            y_score=proba,
            reference={"y_true": ry, "y_pred": rp, "y_score": rproba},
            tolerance={"f1": {"relative": 0.1, "absolute": 0.02}},
        )
        assert json.loads(json.dumps(r, allow_nan=False)) == r
