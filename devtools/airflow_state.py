"""Read what an Airflow home stores, the way tests and the demo need it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def alert_states(airflow_bin: str, env: dict[str, str], prefix: str = "drift_alert:") -> dict[str, object]:
    """The alert-state Variables (``prefix*``), decoded.

    Variable values are encrypted in the metadata DB, so they are read through
    ``airflow variables export``; an exported entry may be ``{"value", "description"}``.
    """
    target = Path(env["AIRFLOW_HOME"]) / "variables_export.json"
    out = subprocess.run(
        [airflow_bin, "variables", "export", str(target)], capture_output=True, text=True, env=env, timeout=300
    )
    if out.returncode != 0:
        raise RuntimeError(f"airflow variables export failed: {out.stderr[-2000:]}")
    states: dict[str, object] = {}
    for key, value in json.loads(target.read_text()).items():
        if not key.startswith(prefix):
            continue
        if isinstance(value, dict) and "value" in value:  # exported with its description
            value = value["value"]
        states[key] = json.loads(value) if isinstance(value, str) else value
    return states
