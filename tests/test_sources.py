"""File discovery and reading details of the operators' sources (no Airflow run needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from airflow_drift_provider.operators.drift import _name_list, _numbers_in
from airflow_drift_provider.sources import SourceSpec, list_files, path_batches


def test_folder_skips_hidden_and_underscore_paths(tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    for rel in (
        "part-0.parquet",
        "_temporary/0/part-0.parquet",
        "_delta_log/0.checkpoint.parquet",
        ".hidden/part.parquet",
        "_SUCCESS",
        "sub/part-1.parquet",
    ):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.suffix == ".parquet":
            frame.to_parquet(p)
        else:
            p.write_text("")
    names = sorted(str(p)[len(str(tmp_path)) + 1 :] for p in list_files(str(tmp_path), None))
    assert names == ["part-0.parquet", "sub/part-1.parquet"]


def test_csv_integer_looking_column_with_late_float(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w") as fh:
        fh.write("x,c\n")
        for i in range(1_200_000):  # > one 16 MB block
            fh.write(f"1,{'ab'[i % 2]}\n")
        fh.write("2.5,a\n")
    batches = list(path_batches(SourceSpec(what="current", path=str(path), batch_size=500_000)))
    values = np.concatenate([b.column("x").to_numpy() for b in batches])
    assert values.size == 1_200_001 and values[-1] == 2.5


def test_rendered_mapping_and_list_templates():
    assert _numbers_in('{"psi": "0.3", "ks": 0.01}', "thresholds") == {"psi": 0.3, "ks": 0.01}
    assert _numbers_in({"f1": "0.9"}, "baseline") == {"f1": 0.9}
    assert _name_list('["a", "b"]', "columns") == ["a", "b"]
    assert _name_list("a, b", "columns") == ["a", "b"]
    with pytest.raises(Exception, match="JSON"):
        _numbers_in("{broken", "thresholds")
