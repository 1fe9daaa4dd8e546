#!/usr/bin/env bash
# Run the test suite (and ruff) in the pinned environment.  Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/system-deps.sh
venv="$(scripts/bootstrap.sh | tail -1)"
echo "==> ruff"
"$venv/bin/ruff" check airflow_drift_provider tests benchmarks example_dags devtools scripts
echo "==> pytest (Airflow $("$venv/bin/python" -c 'import airflow; print(airflow.__version__)'))"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider --durations=10 "$@"
