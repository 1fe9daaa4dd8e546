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


def xcom_value(
    db: str | Path,
    dag_id: str,
    task_id: str,
    *,
    run_id: str | None = None,
    key: str = "return_value",
    map_index: int = -1,
) -> object:
    """One XCom of an Airflow home's SQLite metadata DB, decoded (the newest one when ``run_id`` is None).

    ``None`` when there is none.  Values pushed as JSON strings are decoded too.
    """
    import sqlite3

    query = "select value from xcom where dag_id=? and task_id=? and key=? and map_index=?"
    params: list[object] = [dag_id, task_id, key, map_index]
    if run_id is not None:
        query += " and run_id=?"
        params.append(run_id)
    con = sqlite3.connect(db)
    try:
        row = con.execute(query + " order by timestamp desc limit 1", params).fetchone()
    finally:
        con.close()
    if row is None:
        return None
    value = json.loads(row[0])
    return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value
