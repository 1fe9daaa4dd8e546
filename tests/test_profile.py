"""Reference profiles: round trip, merge, streaming, and equality with the raw reference."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_drift_provider.drift import ReferenceProfile, build_profile, data_drift, merge_profiles
from airflow_drift_provider.drift.profile import PROFILE_SCHEMA_VERSION

rng = np.random.default_rng(7)


def _frame(n: int, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "num": r.normal(shift, 1, n),
            "heavy": r.lognormal(0, 1, n),
            "ints": r.integers(0, 20, n),
            "cat": r.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "flag": r.random(n) < 0.3,
        }
    )


def _decisions(report):
    return {c: (r["status"], r["drifted"], r["drift_method"]) for c, r in report["columns"].items()}


def _assert_same_results(a, b, ks_tol=0.005, w_rel=0.01):
    assert _decisions(a) == _decisions(b)
    for name, ca in a["columns"].items():
        cb = b["columns"][name]
        for m, ra in ca["methods"].items():
            rb = cb["methods"][m]
            if m == "ks":
                assert abs(ra["statistic"] - rb["statistic"]) <= ks_tol
            elif m == "wasserstein":
                assert ra["statistic"] == pytest.approx(rb["statistic"], rel=w_rel, abs=2e-4)
            else:
                # binned methods: the reference-quantile bin edges of a merged/streamed sketch are
                # themselves estimates (rank error <= cdf_error), so proportions move slightly
                assert ra["statistic"] == pytest.approx(rb["statistic"], rel=0.02, abs=1e-3)


def test_profile_json_round_trip_is_lossless():
    ref = _frame(30_000)
    p = build_profile(ref, metadata={"dataset": "train-2026-11"})
    text = p.to_json()
    json.loads(text)  # plain JSON, no NaN
    q = ReferenceProfile.from_json(text)
    assert q.to_dict() == p.to_dict()
    assert q.schema_version == PROFILE_SCHEMA_VERSION
    assert q.metadata == {"dataset": "train-2026-11"}
    d = p.to_dict()["columns"]
    assert d["num"]["type"] == "numerical" and d["cat"]["type"] == "categorical"
    assert d["flag"]["type"] == "categorical"
    assert d["cat"]["categories"] == ref["cat"].value_counts().to_dict()
    assert d["num"]["mean"] == pytest.approx(ref["num"].mean())
    assert d["num"]["std"] == pytest.approx(ref["num"].std(ddof=0))
    assert d["num"]["min"] == ref["num"].min() and d["num"]["max"] == ref["num"].max()


def test_profile_is_small_compared_with_data():
    ref = _frame(200_000)
    assert len(build_profile(ref).to_json()) < 400_000


def test_profile_gives_same_results_as_raw_reference(tmp_path):
    ref, cur = _frame(50_000, seed=1), _frame(20_000, shift=0.2, seed=2)
    raw = data_drift(ref, cur)
    path = tmp_path / "profile.json"
    build_profile(ref).save(path)
    stored = data_drift(ReferenceProfile.load(path), cur)
    assert stored["reference"]["source"] == "profile"
    # a profile of the data *is* what data_drift builds internally: identical numbers
    for name, col in raw["columns"].items():
        assert col["methods"] == stored["columns"][name]["methods"]
    assert raw["summary"] == stored["summary"]


def test_merged_partition_profiles_match_whole_profile():
    ref, cur = _frame(120_000, seed=3), _frame(40_000, shift=0.1, seed=4)
    whole = data_drift(build_profile(ref), cur)
    parts = [build_profile(ref.iloc[i : i + 30_000]) for i in range(0, len(ref), 30_000)]
    merged = merge_profiles(*parts)
    assert merged.rows == len(ref)
    assert merged.metadata["merged_from"] == 4
    # categorical and low-cardinality columns merge exactly
    assert merged.columns["cat"].counts == build_profile(ref).columns["cat"].counts
    assert merged.columns["ints"].sketch.exact
    res = data_drift(merged, cur)
    _assert_same_results(whole, res)
    # tree merge (merge of merges) and a list argument work too
    tree = merge_profiles([merge_profiles(*parts[:2]), merge_profiles(*parts[2:])])
    _assert_same_results(whole, data_drift(tree, cur))


def test_merge_of_profile_json_files_round_trips(tmp_path):
    ref = _frame(20_000, seed=5)
    paths = []
    for i, chunk in enumerate([ref.iloc[:7000], ref.iloc[7000:13000], ref.iloc[13000:]]):
        p = tmp_path / f"part{i}.json"
        build_profile(chunk).save(p)
        paths.append(p)
    merged = merge_profiles(*(ReferenceProfile.load(p) for p in paths))
    again = ReferenceProfile.from_json(merged.to_json())
    assert again.to_dict() == merged.to_dict()


def test_streamed_parquet_reference_and_current(tmp_path):
    ref, cur = _frame(60_000, seed=6), _frame(30_000, shift=0.3, seed=8)
    rp, cp = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    ref.to_parquet(rp)
    cur.to_parquet(cp)
    in_memory = data_drift(ref, cur)
    streamed = data_drift(
        pq.ParquetFile(rp).iter_batches(batch_size=7_000), pq.ParquetFile(cp).iter_batches(batch_size=4_000)
    )
    _assert_same_results(in_memory, streamed)
    assert streamed["columns"]["num"]["drifted"] is True
    assert streamed["current"]["rows"] == 30_000


def test_arrow_table_equals_pandas():
    ref, cur = _frame(5_000, seed=9), _frame(4_000, shift=0.2, seed=10)
    a = data_drift(ref, cur)
    b = data_drift(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur))
    assert _decisions(a) == _decisions(b)
    for name in a["columns"]:
        assert a["columns"][name]["methods"] == b["columns"][name]["methods"]


def test_profile_rejects_foreign_or_newer_documents():
    with pytest.raises(ValueError, match="not an airflow-drift-provider"):
        ReferenceProfile.from_json('{"hello": 1}')
    doc = build_profile(_frame(100)).to_dict()
    doc["schema_version"] = PROFILE_SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="schema_version"):
        ReferenceProfile.from_dict(doc)
    with pytest.raises(ValueError, match="JSON"):
        ReferenceProfile.from_json("{broken")
    doc = build_profile(_frame(20_000)).to_dict()
    doc["schema_version"] = PROFILE_SCHEMA_VERSION
    doc["columns"]["num"]["sketch"]["points"] = list(reversed(doc["columns"]["num"]["sketch"]["points"]))
    with pytest.raises(ValueError, match="increasing"):
        ReferenceProfile.from_dict(doc)


def test_build_profile_argument_validation():
    with pytest.raises(ValueError, match="resolution"):
        build_profile(_frame(10), resolution=3)
    with pytest.raises(ValueError, match="columns"):
        build_profile(_frame(10), columns="num")
    with pytest.raises(ValueError, match="pandas DataFrame"):
        build_profile([1, 2, 3])
    with pytest.raises(ValueError, match="at least one"):
        merge_profiles()


def test_categories_capped_with_other_bucket():
    ref = pd.DataFrame({"c": [f"id{i}" for i in range(300)] * 2})
    p = build_profile(ref, max_categories=100)
    col = p.columns["c"]
    assert len(col.counts) == 100 and col.other_count == 400
    cur = pd.DataFrame({"c": [f"new{i}" for i in range(50)] * 4})
    res = data_drift(p, cur)["columns"]["c"]
    # with a capped reference, unknown categories cannot be called unseen: they are folded
    assert res["unseen_categories"] == []
    assert res["folded_into_other"] == 200
