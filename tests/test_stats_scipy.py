"""Every drift method against scipy's reference functions (exact and binned)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from airflow_drift_provider.drift import build_profile, data_drift, merge_profiles
from airflow_drift_provider.drift._sketch import NumericSketch, ks_statistic, wasserstein_1
from airflow_drift_provider.drift.stats import PSI_EPSILON

rng = np.random.default_rng(20261203)


def _one(ref, cur, **kw):
    r = data_drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), **kw)
    json.dumps(r, allow_nan=False)
    return r["columns"]["x"]


SMALL_CASES = {
    "normal-shift": (rng.normal(size=300), rng.normal(0.3, 1, size=450)),
    "scale": (rng.normal(size=1000), rng.normal(0, 1.5, size=800)),
    "ties-integers": (rng.integers(0, 8, 2000).astype(float), rng.integers(0, 9, 3000).astype(float)),
    "tiny": (rng.normal(size=7), rng.normal(size=9)),
    "unequal-big": (rng.exponential(size=4000), rng.exponential(1.1, size=9000)),
}


@pytest.mark.parametrize("case", sorted(SMALL_CASES))
def test_ks_exact_matches_scipy(case):
    ref, cur = SMALL_CASES[case]
    col = _one(ref, cur)
    ks = col["methods"]["ks"]
    expected = stats.ks_2samp(ref, cur)
    assert ks["statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert ks["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert ks["error_bound"] == 0.0


@pytest.mark.parametrize("case", sorted(SMALL_CASES))
def test_wasserstein_exact_matches_scipy(case):
    ref, cur = SMALL_CASES[case]
    col = _one(ref, cur)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert col["methods"]["wasserstein"]["statistic"] == pytest.approx(expected, rel=1e-9)


def test_ks_asymptotic_pvalue_matches_scipy_formula_for_large_exact_samples():
    # integer data: exact sketch even at 50k rows; scipy uses its asymptotic mode there
    ref = rng.integers(0, 40, 50_000).astype(float)
    cur = rng.integers(0, 41, 30_000).astype(float)
    ks = _one(ref, cur)["methods"]["ks"]
    expected = stats.ks_2samp(ref, cur)
    assert ks["statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert ks["p_value"] == pytest.approx(expected.pvalue, abs=2e-3)


def _binned_numeric(ref, cur, n_bins=10):
    """Independent implementation of the documented numerical binning."""
    lo, hi = ref.min(), ref.max()
    inner = np.unique(np.quantile(ref, np.arange(1, n_bins) / n_bins, method="inverted_cdf"))
    inner = inner[(inner > lo) & (inner < hi)]
    edges = np.concatenate([[lo], inner, [hi]])

    def props(x):
        x = np.sort(x)
        cuts = [0, np.searchsorted(x, lo, side="left")]
        cuts += [*np.searchsorted(x, edges[1:], side="right"), len(x)]
        return np.diff(cuts) / len(x)

    return edges, props(ref), props(cur)


def test_psi_js_hellinger_numeric_follow_documented_conventions():
    ref, cur = rng.normal(size=3000), rng.normal(0.4, 1.2, size=2500)
    col = _one(ref, cur)
    edges, p, q = _binned_numeric(ref, cur)
    assert col["bin_edges"] == pytest.approx(edges.tolist())
    pf, qf = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    assert col["methods"]["psi"]["statistic"] == pytest.approx(float(np.sum((qf - pf) * np.log(qf / pf))), rel=1e-12)
    assert col["methods"]["jensenshannon"]["statistic"] == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
    hell = math.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2)
    assert col["methods"]["hellinger"]["statistic"] == pytest.approx(hell, rel=1e-9)


def test_psi_hand_computed_example():
    # reference deciles of 0..99 -> 10 equal bins; current all in the first bin
    ref = np.arange(100, dtype=float)
    cur = np.zeros(50)
    col = _one(ref, cur)
    # bins: below min | [0, 9] | (9, 19] ... (89, 99] | above max
    p = np.array([0.0] + [0.1] * 10 + [0.0])
    q = np.array([0.0, 1.0] + [0.0] * 10)
    p, q = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    expected = float(np.sum((q - p) * np.log(q / p)))
    assert col["methods"]["psi"]["statistic"] == pytest.approx(expected, rel=1e-12)
    assert col["drifted"] is True


def test_constant_reference_detects_moves_both_ways():
    for cur in (np.full(40, 1.0), np.full(40, 9.0), np.linspace(0, 2, 40)):
        col = _one(np.full(50, 3.5), cur)
        assert col["status"] == "constant" and col["drift_method"] == "psi"
        assert col["drifted"] is True
        assert col["bin_edges"] == [3.5]
    same = _one(np.full(50, 0.1), np.full(30, 0.1))
    assert same["status"] == "constant" and same["drifted"] is False
    assert same["reference"]["std"] == 0.0


def test_outer_bins_catch_values_beyond_the_reference_range():
    ref = rng.uniform(0, 1, 2000)
    cur = np.concatenate([rng.uniform(0, 1, 1800), rng.uniform(5, 6, 200)])
    col = _one(ref, cur)
    assert col["current_distribution"][-1] == pytest.approx(0.1)
    assert col["reference_distribution"][-1] == 0.0
    assert col["methods"]["psi"]["drifted"] is True


def test_chi2_matches_scipy_contingency_without_correction():
    cats = np.array(["a", "b", "c", "d"])
    ref = rng.choice(cats[:3], size=700, p=[0.5, 0.3, 0.2])
    cur = rng.choice(cats, size=600, p=[0.4, 0.3, 0.2, 0.1])
    r = data_drift(pd.DataFrame({"c": ref}), pd.DataFrame({"c": cur}))
    col = r["columns"]["c"]
    labels = ["a", "b", "c", "d"]
    table = np.array([[np.sum(ref == k) for k in labels], [np.sum(cur == k) for k in labels]])
    expected = stats.chi2_contingency(table, correction=False)
    assert col["methods"]["chi2"]["statistic"] == pytest.approx(expected.statistic, rel=1e-12)
    assert col["methods"]["chi2"]["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert col["unseen_categories"] == ["d"]
    p = table[0] / table[0].sum()
    q = table[1] / table[1].sum()
    assert col["methods"]["jensenshannon"]["statistic"] == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
    pf, qf = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    assert col["methods"]["psi"]["statistic"] == pytest.approx(float(np.sum((qf - pf) * np.log(qf / pf))), rel=1e-12)


def test_chi2_single_category_is_not_drift():
    col = data_drift(pd.DataFrame({"c": ["a"] * 50}), pd.DataFrame({"c": ["a"] * 40}))["columns"]["c"]
    assert col["methods"]["chi2"]["p_value"] == 1.0
    assert col["drifted"] is False


LARGE_CASES = {
    "normal-shift": lambda n: (rng.normal(size=n), rng.normal(0.05, 1.1, size=n)),
    "lognormal-heavy-tail": lambda n: (rng.lognormal(size=n), rng.lognormal(0.1, 1.0, size=int(n * 0.8))),
    "uniform-vs-beta": lambda n: (rng.uniform(size=n), rng.beta(1.2, 1.0, size=n)),
    "mixture-with-atom": lambda n: (
        np.concatenate([rng.normal(size=n // 2), np.zeros(n // 3)]),
        rng.normal(0.2, 1, size=n),
    ),
    "offset-narrow": lambda n: (rng.normal(1e6, 1, size=n), rng.normal(1e6 + 0.3, 1, size=n)),
}


@pytest.fixture(scope="module")
def large_data():
    return {name: make(400_000) for name, make in LARGE_CASES.items()}


@pytest.mark.parametrize("case", sorted(LARGE_CASES))
def test_binned_ks_and_wasserstein_within_documented_bounds(case, large_data):
    ref, cur = large_data[case]
    exact_ks = stats.ks_2samp(ref, cur, method="asymp").statistic
    exact_w = stats.wasserstein_distance(ref, cur)
    col = _one(ref, cur)
    ks = col["methods"]["ks"]
    assert abs(ks["statistic"] - exact_ks) <= 0.005
    assert ks["error_bound"] <= 0.005
    assert abs(ks["statistic"] - exact_ks) <= ks["error_bound"] + 1e-12
    w = col["methods"]["wasserstein"]["distance"]
    assert abs(w - exact_w) / exact_w <= 0.01
    assert col["methods"]["wasserstein"]["statistic"] == pytest.approx(w / np.std(ref), rel=1e-9)


@pytest.mark.parametrize("case", sorted(LARGE_CASES))
def test_merged_and_streamed_profiles_within_bounds(case, large_data):
    ref, cur = large_data[case]
    exact_ks = stats.ks_2samp(ref, cur, method="asymp").statistic
    exact_w = stats.wasserstein_distance(ref, cur)
    parts = [build_profile(pd.DataFrame({"x": p})) for p in np.array_split(ref, 7)]
    merged = merge_profiles(*parts)
    for reference in (merged, [pd.DataFrame({"x": p}) for p in np.array_split(ref, 5)]):
        cur_batches = [pd.DataFrame({"x": p}) for p in np.array_split(cur, 4)]
        col = data_drift(reference, cur_batches)["columns"]["x"]
        assert abs(col["methods"]["ks"]["statistic"] - exact_ks) <= 0.005
        assert abs(col["methods"]["wasserstein"]["distance"] - exact_w) / exact_w <= 0.01


def test_sketch_cdf_error_bound_holds_everywhere():
    x = np.sort(rng.standard_t(3, size=200_000))
    sk = NumericSketch.from_values(x, assume_sorted=True)
    q = np.quantile(x, np.linspace(0, 1, 5001))
    est, _ = sk.cdf(q)
    true = np.searchsorted(x, q, side="right")
    assert np.max(np.abs(est - true)) / x.size <= sk.cdf_error + 1e-12
    assert sk.cdf_error <= 1 / 1000


def test_sketch_exact_ks_and_w_equal_scipy_with_weights_and_ties():
    a = rng.integers(0, 30, 20_000).astype(float)
    b = rng.integers(5, 30, 15_000).astype(float)
    sa, sb = NumericSketch.from_values(a), NumericSketch.from_values(b)
    assert sa.exact and sb.exact
    d, bound = ks_statistic(sa, sb)
    assert bound == 0
    assert d == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert wasserstein_1(sa, sb) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12)
