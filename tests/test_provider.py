"""Packaging: provider registration, layering and import-time cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "scipy", "sklearn", "pyarrow")


def _run_python(code: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, timeout=300)
    return out.stdout


def test_provider_entry_point_and_info():
    eps = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_drift_provider")]
    assert len(eps) == 1
    info = eps[0].load()()
    assert info["package-name"] == "airflow-drift-provider"
    assert info["name"] and info["description"]
    from airflow_drift_provider import __version__

    assert info["versions"][0] == __version__


@pytest.mark.airflow
def test_airflow_lists_the_provider(airflow_env):
    out = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "providers", "get", "airflow-drift-provider", "-o", "json"],
        capture_output=True,
        text=True,
        env=airflow_env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout)
    row = data[0] if isinstance(data, list) else data
    assert row["Provider"] == "airflow-drift-provider"


def test_engine_imports_no_airflow():
    mods = json.loads(
        _run_python(
            "import json, sys; import airflow_drift_provider.drift as d; "
            "d.data_drift; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'airflow')))"
        )
    )
    assert mods == []


def test_package_root_imports_nothing_heavy():
    mods = json.loads(
        _run_python(
            "import json, sys; import airflow_drift_provider, airflow_drift_provider.get_provider_info; "
            f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
        )
    )
    assert mods == []


def test_engine_source_has_no_airflow_import():
    for path in (ROOT / "airflow_drift_provider" / "drift").glob("*.py"):
        text = path.read_text()
        assert "import airflow" not in text and "from airflow " not in text and "from airflow." not in text, path


def test_example_dag_file_parses_without_heavy_imports(airflow_env):
    dag_file = ROOT / "example_dags" / "drift_monitoring.py"
    code = (
        f"import json, runpy, sys; runpy.run_path({str(dag_file)!r}); "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    env = dict(os.environ, **airflow_env)
    assert json.loads(_run_python(code, env=env).strip().splitlines()[-1]) == []


def test_plugin_registered_in_entry_point_and_provider_info():
    eps = [ep for ep in entry_points(group="airflow.plugins") if ep.value.startswith("airflow_drift_provider")]
    assert [ep.value for ep in eps] == ["airflow_drift_provider.plugins.drift:DriftPlugin"]
    from airflow_drift_provider.get_provider_info import get_provider_info

    info = get_provider_info()
    assert info["plugins"] == [{"name": "drift", "plugin-class": "airflow_drift_provider.plugins.drift.DriftPlugin"}]
    assert info["extra-links"] == ["airflow_drift_provider.links.DriftReportLink"]
    plugin = eps[0].load()
    assert plugin.name == "drift"
    assert {v["destination"] for v in plugin.external_views} == {"dag", "nav"}


def test_plugin_import_is_light_until_the_api_server_asks_for_the_app():
    """Workers import plugins for every task: the FastAPI app (and pandas & co.) must not come with it."""
    code = (
        "import json, sys; import airflow_drift_provider.plugins.drift as p; "
        f"watch = ['fastapi', 'airflow.api_fastapi.core_api.security', *{list(HEAVY)!r}]; "
        "before = [m for m in watch if m in sys.modules]; "
        "apps = p.DriftPlugin.fastapi_apps; "
        "print(json.dumps([before, apps[0]['url_prefix'], type(apps[0]['app']).__name__, "
        "p.DriftPlugin().fastapi_apps is apps, apps[0]['app'].openapi_url]))"
    )
    before, prefix, app_type, cached, openapi = json.loads(_run_python(code).strip().splitlines()[-1])
    assert before == [] and prefix == "/drift" and app_type == "FastAPI" and cached is True and openapi is None


def test_operators_carry_the_drift_report_link():
    from airflow_drift_provider.links import DriftReportLink
    from airflow_drift_provider.operators import DataDriftOperator, ModelDriftOperator

    for op in (DataDriftOperator, ModelDriftOperator):
        assert [type(link) for link in op.operator_extra_links] == [DriftReportLink]


def test_drift_report_link_url(monkeypatch):
    from types import SimpleNamespace

    from airflow_drift_provider.links import DriftReportLink

    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/sub/")
    key = SimpleNamespace(dag_id="d", run_id="manual__2026-11-03T00:00:00+00:00", task_id="t", map_index=-1)
    link = DriftReportLink()
    assert link.name == "Drift report"
    assert link.get_link(SimpleNamespace(write_report=True), ti_key=key) == (
        "https://airflow.example.com/sub/drift/dags/d/report?run_id=manual__2026-11-03T00%3A00%3A00%2B00%3A00&task_id=t"
    )
    mapped = SimpleNamespace(dag_id="d", run_id="r&x=1", task_id="t", map_index=3)
    assert link.get_link(SimpleNamespace(write_report=True), ti_key=mapped).endswith(
        "report?run_id=r%26x%3D1&task_id=t&map_index=3"
    )
    assert link.get_link(SimpleNamespace(write_report=False), ti_key=key) == ""
