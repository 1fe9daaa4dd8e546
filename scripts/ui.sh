#!/usr/bin/env bash
# Browse the demo's runs: `airflow standalone` on the demo's Airflow home (run `make demo` first).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(scripts/bootstrap.sh | tail -1)"
export AIRFLOW_HOME="$PWD/.demo/airflow_home"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/example_dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export PATH="$PWD/$venv/bin:$PATH"  # standalone starts its components as `airflow ...`
[ -f "$AIRFLOW_HOME/airflow.db" ] || { echo "run 'make demo' first" >&2; exit 1; }
echo "Airflow UI on http://localhost:8080 (credentials are printed by 'airflow standalone'); Ctrl-C stops it."
exec "$venv/bin/airflow" standalone
