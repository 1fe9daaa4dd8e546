#!/usr/bin/env bash
# The main job: run the example DAG end to end with `airflow dags test` on an
# embedded Airflow home (SQLite) under .demo/, then print its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(scripts/bootstrap.sh | tail -1)"
export AIRFLOW_HOME="$PWD/.demo/airflow_home"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/example_dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__UNIT_TEST_MODE=False
mkdir -p "$AIRFLOW_HOME"
log="$PWD/.demo/dags_test.log"
echo "==> airflow db migrate (SQLite at $AIRFLOW_HOME)"
"$venv/bin/airflow" db migrate >"$PWD/.demo/db_migrate.log" 2>&1 || { tail -40 "$PWD/.demo/db_migrate.log"; exit 1; }
echo "==> airflow dags test drift_engine_demo (log: $log)"
if ! "$venv/bin/airflow" dags test drift_engine_demo >"$log" 2>&1; then
  tail -60 "$log"; echo "demo FAILED" >&2; exit 1
fi
grep -qE "state=success|DagRunState.SUCCESS|success" "$log" || { tail -60 "$log"; echo "demo run did not succeed" >&2; exit 1; }
echo
cat "$AIRFLOW_HOME/drift_demo/summary.txt"
