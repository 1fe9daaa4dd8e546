#!/usr/bin/env bash
# The main job: the example DAG drift_monitoring end to end, twice, on an embedded
# Airflow home (SQLite) under .demo/, with local SMTP/Slack/PagerDuty capture servers.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(scripts/bootstrap.sh | tail -1)"
exec "$venv/bin/python" scripts/demo.py "$@"
