"""The example DAG loads cleanly and runs end to end in a real Airflow (SQLite home)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import AIRFLOW_BIN, ROOT

pytestmark = pytest.mark.airflow


def test_example_dags_import_without_errors(airflow_env):
    code = (
        "try:\n    from airflow.dag_processing.dagbag import DagBag\n"
        "except ImportError:  # Airflow 3.1\n    from airflow.models.dagbag import DagBag\n"
    )
    code += (
        f"bag = DagBag(dag_folder={str(ROOT / 'example_dags')!r})\n"
        "import json; print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()}, "
        "'dags': sorted(bag.dag_ids)}))\n"
    )
    out = subprocess.run(
        [str(Path(AIRFLOW_BIN).parent / "python"), "-c", code],
        capture_output=True,
        text=True,
        env=airflow_env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == ["drift_gate", "drift_monitoring", "partitioned_reference_profile"]
