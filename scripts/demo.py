"""The one-command demo (``make demo``): drift_monitoring twice on an embedded Airflow.

* a fresh Airflow home with SQLite under ``.demo/airflow_home`` (``airflow db migrate``);
* local capture servers on 127.0.0.1 for SMTP, a Slack webhook and the
  PagerDuty Events API (HTTPS with a throw-away CA), wired to the example DAG's
  connection ids (``smtp_default``, ``slack_default``, ``pagerduty_events_default``)
  through ``AIRFLOW_CONN_*`` environment variables;
* ``airflow dags test drift_monitoring`` for two consecutive days, then
  ``partitioned_reference_profile`` (mapped reference and current partitions);
* a readable summary: drift per column, model metrics, alerts delivered per
  channel, and that the second run was deduplicated. Everything it started is
  stopped before it exits. ``--json FILE`` also writes the figures (used by the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.airflow_state import alert_states, xcom_value  # noqa: E402
from tests.alert_servers import PagerDutyCapture, SlackWebhookCapture, SmtpCapture  # noqa: E402

AIRFLOW = str(Path(sys.executable).parent / "airflow")
DAYS = ["2026-11-02", "2026-11-03"]


def _airflow(env: dict[str, str], *args: str, log: Path) -> None:
    with log.open("a") as fh:
        fh.write(f"\n$ airflow {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.run([AIRFLOW, *args], env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=900)
    if proc.returncode != 0:
        sys.stderr.write(log.read_text()[-4000:])
        raise SystemExit(f"airflow {' '.join(args)} failed (log: {log})")


def _xcom(db: Path, dag_id: str, task_id: str, run_id: str, key: str = "return_value"):
    return xcom_value(db, dag_id, task_id, run_id=run_id, key=key)


def _run_id(db: Path, dag_id: str, day: str) -> str:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("select run_id, logical_date from dag_run where dag_id=? order by id", (dag_id,)).fetchall()
    finally:
        con.close()
    for run_id, logical in rows:
        if str(logical).startswith(day):
            return run_id
    return rows[-1][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=str(ROOT / ".demo" / "airflow_home"))
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    home = Path(args.home)
    if home.exists():
        shutil.rmtree(home)  # a fresh home each time: the first run alerts, the second is deduplicated
    home.mkdir(parents=True)
    log = home.parent / "demo.log"
    log.write_text("")
    db = home / "airflow.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and "proxy" not in k.lower()}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "example_dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
    )
    print(f"==> Airflow home {home} (SQLite); log {log}")
    _airflow(env, "db", "migrate", log=log)
    figures: dict = {"runs": []}
    with SmtpCapture() as smtp, SlackWebhookCapture() as slack, PagerDutyCapture() as pd_srv:
        env["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps(smtp.connection_dict())
        env["AIRFLOW_CONN_SLACK_DEFAULT"] = json.dumps(slack.connection_dict())
        env["AIRFLOW_CONN_PAGERDUTY_EVENTS_DEFAULT"] = json.dumps(
            {
                "conn_type": "pagerduty_events",
                "password": "demo-routing-key",
                "extra": {"events_base_url": pd_srv.base_url, "ca_bundle": pd_srv.ca_bundle_path},
            }
        )
        print(f"==> capture servers: SMTP {smtp.port}, Slack webhook {slack.port}, PagerDuty (HTTPS) {pd_srv.port}")
        for i, day in enumerate(DAYS, 1):
            before = (len(smtp.messages), len(slack.json_bodies), len(pd_srv.json_bodies))
            print(f"==> run {i}: airflow dags test drift_monitoring {day}")
            _airflow(env, "dags", "test", "drift_monitoring", day, log=log)
            run_id = _run_id(db, "drift_monitoring", day)
            data = _xcom(db, "drift_monitoring", "data_drift", run_id)
            model = _xcom(db, "drift_monitoring", "model_drift", run_id)
            evaluation = _xcom(db, "drift_monitoring", "evaluate_rules", run_id, "evaluation") or {}
            delivery = _xcom(db, "drift_monitoring", "send_alerts", run_id) or {}
            after = (len(smtp.messages), len(slack.json_bodies), len(pd_srv.json_bodies))
            figures["runs"].append(
                {
                    "day": day,
                    "run_id": run_id,
                    "drifted_columns": data["summary"]["drifted_columns"],
                    "dataset_drift": data["summary"]["dataset_drift"],
                    "model_drift": model["summary"]["model_drift"],
                    "fired": evaluation.get("summary", {}).get("fired"),
                    "delivered": {
                        "email": after[0] - before[0],
                        "slack": after[1] - before[1],
                        "pagerduty": after[2] - before[2],
                    },
                    "suppressed": {k: len(v) for k, v in delivery.get("suppressed", {}).items()},
                }
            )
            if i == 1:
                print("\nData drift (reference profile vs current batch)")
                print(f"  {'column':<16} {'method':<14} {'score':>9}  drifted")
                for name, col in data["columns"].items():
                    score = col.get("drift_score")
                    print(
                        f"  {name:<16} {col.get('drift_method') or '-':<14} "
                        f"{'-' if score is None else f'{score:.4g}':>9}  {col['drifted']}"
                    )
                print("Model (current vs reference)")
                for name, m in model["metrics"].items():
                    print(
                        f"  {name:<10} {m['current']:.3f} vs {m['baseline']:.3f} "
                        f"({m['change']:+.3f}) degraded={m['degraded']}"
                    )
            r = figures["runs"][-1]
            sev = {}
            for f in evaluation.get("fired", []):
                sev[f["severity"]] = sev.get(f["severity"], 0) + 1
            print(f"Run {i} ({day}): {r['fired']} alerts fired {sev}")
            print(
                f"  delivered: e-mail {r['delivered']['email']} message(s), Slack {r['delivered']['slack']} "
                f"message(s), PagerDuty {r['delivered']['pagerduty']} event(s)"
            )
            if r["suppressed"]:
                print(f"  deduplicated (already delivered, within the window): {r['suppressed']}")
            print()
        states = alert_states(AIRFLOW, env)
        open_ids = states.get("drift_alert:open:drift_monitoring", [])
        figures["open_alerts"] = len(open_ids)
        figures["alert_states"] = {k: v for k, v in states.items() if not k.startswith("drift_alert:open:")}
        print(f"Alert state in Airflow Variables: {len(open_ids)} open alerts under 'drift_alert:'")
        if smtp.messages:
            print(f"  e-mail subject: {smtp.messages[0].subject}")
        if pd_srv.json_bodies:
            print(f"  PagerDuty dedup_key (= fingerprint): {pd_srv.json_bodies[0].get('dedup_key')}")
        print("==> airflow dags test partitioned_reference_profile")
        _airflow(env, "dags", "test", "partitioned_reference_profile", log=log)
        run_id = _run_id(db, "partitioned_reference_profile", "")
        merged = _xcom(db, "partitioned_reference_profile", "merge_profiles", run_id)
        figures["merged_profile"] = merged
        print(f"  merged profile of 4 mapped partitions: {merged}")
        part = _xcom(db, "partitioned_reference_profile", "partitioned_drift", run_id) or {}
        figures["partitioned_drift"] = part.get("summary", {}).get("drifted_columns")
        print(
            f"  drift of 4 mapped current partitions (merged profiles, {part.get('current', {}).get('rows')} rows): "
            f"drifted {figures['partitioned_drift']}"
        )
    second = figures["runs"][1]
    ok = sum(second["delivered"].values()) == 0 and figures["runs"][0]["delivered"]["pagerduty"] > 0
    print("\nSecond run deduplicated: " + ("yes" if ok else "NO"))
    print("Browse the runs: make ui   (airflow standalone on the same home)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
