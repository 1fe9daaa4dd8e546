"""Shared fixtures: a real, migrated Airflow home on SQLite in a temp directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_BIN = str(Path(sys.executable).parent / "airflow")


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    """Environment for `airflow` subprocesses: temp AIRFLOW_HOME, SQLite DB, example DAGs folder."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "example_dags"),
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
    )
    return env


@pytest.fixture(scope="session")
def migrated_airflow(airflow_env) -> dict[str, str]:
    out = subprocess.run([AIRFLOW_BIN, "db", "migrate"], capture_output=True, text=True, env=airflow_env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return airflow_env


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> dict:
    """The README's main job (scripts/demo.py) once per session: its home, figures and output."""
    import json

    tmp = tmp_path_factory.mktemp("demo")
    out_json = tmp / "figures.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--home", str(tmp / "home"), "--json", str(out_json)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"home": tmp / "home", "figures": json.loads(out_json.read_text()), "stdout": proc.stdout}


# Run once, on the newest Airflow line, in CI (`-m "not newest_line"` on the others): modules that
# import no Airflow (the engine, the HTML report, SQL pushdown: their results cannot depend on the
# Airflow line), and the scale-out DAG test, whose Airflow surface (mapped tasks, XComArg lists of
# profile URIs, common-sql hooks) test_operators_airflow covers on every line.
NEWEST_LINE_ONLY = {
    "test_defaults",
    "test_html_report",
    "test_hypothesis",
    "test_messy_inputs",
    "test_model_drift",
    "test_profile",
    "test_pushdown",
    "test_stats_scipy",
    "test_scale_out_airflow",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in NEWEST_LINE_ONLY:
            item.add_marker(pytest.mark.newest_line)
