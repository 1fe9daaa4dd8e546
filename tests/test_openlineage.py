"""OpenLineage data-quality facets (the openlineage provider is a test extra, not a dependency)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("airflow.providers.openlineage")

from airflow_drift_provider.operators import DataDriftOperator, ModelDriftOperator


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.normal(size=800), "c": rng.choice(list("ab"), 800)})
    cur = pd.DataFrame({"x": rng.normal(1.0, 1, 600), "c": rng.choice(list("ab"), 600)})
    cur.loc[:9, "x"] = np.nan
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    y = rng.integers(0, 2, 500)
    pd.DataFrame({"label": y, "prediction": 1 - y}).to_parquet(tmp_path / "model.parquet")
    return tmp_path


def test_data_drift_lineage_facets(files):
    op = DataDriftOperator(
        task_id="dd", reference_path=str(files / "ref.parquet"), current_path=f"file://{files}/cur.parquet"
    )
    # no lineage before the task ran
    assert op.get_openlineage_facets_on_complete(None) is None
    # execute() touches neither XCom nor Variables on success: the real engine and files run here
    report = op.execute({})
    assert report["columns"]["x"]["drifted"] is True
    # the HTML report went to the default location under AIRFLOW_HOME
    assert report["report_uri"].startswith(str(files / "home" / "drift" / "reports"))
    assert "<svg" in Path(report["report_uri"]).read_text(encoding="utf-8")
    lineage = op.get_openlineage_facets_on_complete(None)
    (dataset,) = lineage.inputs
    assert dataset.namespace == "file" and dataset.name == f"{files}/cur.parquet"
    metrics = dataset.inputFacets["dataQualityMetrics"]
    assert metrics.rowCount == 600
    assert metrics.columnMetrics["x"].nullCount == 10
    assert metrics.columnMetrics["x"].count == 590
    assertions = {(a.assertion, a.column): a.success for a in dataset.inputFacets["dataQualityAssertions"].assertions}
    assert assertions[("no_drift:ks", "x")] is False
    assert assertions[("no_drift:chi2", "c")] is True
    assert ("no_dataset_drift", None) in assertions


def test_model_drift_lineage_assertions(files):
    op = ModelDriftOperator(
        task_id="md", current_path=str(files / "model.parquet"), baseline={"accuracy": 0.9, "f1": 0.9}
    )
    report = op.execute({})
    assert report["metrics"]["accuracy"]["current"] == 0.0
    lineage = op.get_openlineage_facets_on_complete(None)
    (dataset,) = lineage.inputs
    names = {a.assertion: a.success for a in dataset.inputFacets["dataQualityAssertions"].assertions}
    assert names == {"no_degradation:accuracy": False, "no_degradation:f1": False}
