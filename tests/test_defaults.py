"""The default method selection and thresholds behave as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, false_discovery_control

from airflow_drift_provider.drift import data_drift

SEED = 424242


def test_negligible_effect_at_huge_n_is_not_drift():
    rng = np.random.default_rng(SEED)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 1_000_000)})
    cur = pd.DataFrame({"x": rng.normal(0.02, 1, 1_000_000)})
    col = data_drift(ref, cur)["columns"]["x"]
    assert col["drift_method"] == "wasserstein"
    assert col["drifted"] is False
    # the p-value test alone *would* flag it: that is why it does not decide at this n
    assert col["methods"]["ks"]["drifted"] is True


def test_real_shift_at_small_n_is_drift():
    rng = np.random.default_rng(SEED)
    hits = 0
    for _ in range(20):
        ref = pd.DataFrame({"x": rng.normal(0, 1, 500)})
        cur = pd.DataFrame({"x": rng.normal(0.5, 1, 500)})
        col = data_drift(ref, cur)["columns"]["x"]
        assert col["drift_method"] == "ks"
        hits += col["drifted"]
    assert hits == 20


def _false_alarm_rate(n: int, trials: int, kind: str) -> tuple[float, str]:
    rng = np.random.default_rng(SEED + n)
    alarms = 0
    method = ""
    for _ in range(trials):
        if kind == "numerical":
            ref, cur = rng.normal(size=n), rng.normal(size=n)
        else:
            ref = rng.choice(list("abcde"), size=n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
            cur = rng.choice(list("abcde"), size=n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
        col = data_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}))["columns"]["x"]
        method = col["drift_method"]
        alarms += bool(col["drifted"])
    return alarms / trials, method


@pytest.mark.parametrize("kind,expected_method", [("numerical", "ks"), ("categorical", "chi2")])
def test_false_alarm_rate_is_nominal_for_small_samples(kind, expected_method):
    trials = 400
    rate, method = _false_alarm_rate(200, trials, kind)
    assert method == expected_method
    # two-sided binomial test against the nominal 5 % (a correct test passes ~99.9 % of the time)
    assert binomtest(round(rate * trials), trials, 0.05).pvalue > 0.001, rate


@pytest.mark.parametrize("kind,expected_method", [("numerical", "wasserstein"), ("categorical", "jensenshannon")])
def test_false_alarm_rate_at_most_nominal_for_large_samples(kind, expected_method):
    rate, method = _false_alarm_rate(5_000, 60, kind)
    assert method == expected_method
    assert rate <= 0.05


def test_bonferroni_and_bh_corrections():
    rng = np.random.default_rng(SEED)
    n = 300
    ref = pd.DataFrame({f"c{i}": rng.normal(size=n) for i in range(10)})
    cur = pd.DataFrame({f"c{i}": rng.normal(0.25 if i < 3 else 0.0, 1, size=n) for i in range(10)})
    raw = data_drift(ref, cur)
    ps = np.array([raw["columns"][f"c{i}"]["methods"]["ks"]["p_value"] for i in range(10)])
    bonf = data_drift(ref, cur, correction="bonferroni")
    bh = data_drift(ref, cur, correction="bh")
    for i in range(10):
        b = bonf["columns"][f"c{i}"]
        assert b["methods"]["ks"]["p_value"] == ps[i]  # raw p-value kept
        assert b["methods"]["ks"]["p_value_adjusted"] == pytest.approx(min(1.0, ps[i] * 10))
        assert b["drifted"] == (min(1.0, ps[i] * 10) < 0.05)
    expected_bh = false_discovery_control(ps, method="bh")
    for i in range(10):
        h = bh["columns"][f"c{i}"]
        assert h["methods"]["ks"]["p_value_adjusted"] == pytest.approx(expected_bh[i])
        assert h["drifted"] == (expected_bh[i] < 0.05)
    assert bonf["summary"]["n_drifted"] <= bh["summary"]["n_drifted"] <= raw["summary"]["n_drifted"]
    assert bonf["settings"]["correction"] == "bonferroni"


def test_methods_and_thresholds_options():
    rng = np.random.default_rng(SEED)
    ref = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000), "c": rng.choice(list("ab"), 2000)})
    cur = pd.DataFrame({"x": rng.normal(0.3, 1, 2000), "y": rng.normal(size=2000), "c": rng.choice(list("ab"), 2000)})
    r = data_drift(ref, cur, methods=["psi"])
    assert set(r["columns"]["x"]["methods"]) == {"psi"}
    assert r["columns"]["x"]["drift_method"] == "psi"
    assert r["columns"]["c"]["drift_method"] == "psi"
    # per-type and per-column method choice
    r = data_drift(ref, cur, methods={"numerical": ["ks", "psi"], "c": ["hellinger"]})
    assert r["columns"]["x"]["drift_method"] == "ks" and set(r["columns"]["x"]["methods"]) == {"ks", "psi"}
    assert r["columns"]["c"]["drift_method"] == "hellinger"
    # a threshold so strict that nothing drifts, per column
    r = data_drift(ref, cur, thresholds={"x": {"wasserstein": 10.0}})
    assert r["columns"]["x"]["methods"]["wasserstein"]["threshold"] == 10.0
    assert r["columns"]["x"]["drifted"] is False
    r = data_drift(ref, cur, thresholds={"wasserstein": 0.2})
    assert r["columns"]["x"]["methods"]["wasserstein"]["threshold"] == 0.2
    # dataset drift follows drift_share
    r = data_drift(ref, cur, drift_share=0.3)
    assert r["summary"]["drifted_columns"] == ["x"]
    assert r["summary"]["share_drifted"] == pytest.approx(1 / 3)
    assert r["summary"]["dataset_drift"] is True
    assert data_drift(ref, cur, drift_share=0.5)["summary"]["dataset_drift"] is False


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"methods": ["psi", "nope"]}, "nope"),
        ({"thresholds": {"ks": 1.5}}, "p-value"),
        ({"thresholds": {"psi": -1}}, ">= 0"),
        ({"thresholds": {"psi": float("nan")}}, "finite"),
        ({"thresholds": {"bogus": 0.1}}, "bogus"),
        ({"drift_share": 0}, "drift_share"),
        ({"drift_share": 1.5}, "drift_share"),
        ({"correction": "holm"}, "holm"),
        ({"bins": 1}, "bins"),
        ({"columns": "x"}, "columns"),
    ],
)
def test_whole_input_errors_raise_value_error(kwargs, match):
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 5})
    with pytest.raises(ValueError, match=match):
        data_drift(ref, ref, **kwargs)


def test_no_common_columns_raises():
    with pytest.raises(ValueError, match="no common columns"):
        data_drift(pd.DataFrame({"a": [1.0] * 10}), pd.DataFrame({"b": [1.0] * 10}))
