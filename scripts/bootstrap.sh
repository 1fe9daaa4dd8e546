#!/usr/bin/env bash
# Create (or reuse) a virtualenv with a pinned, tested set of dependencies.
#   AIRFLOW_LINE=3.3 (default) or 3.1 selects constraints/airflow-<line>.txt
#   prints the venv path on the last line of stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
line="${AIRFLOW_LINE:-3.3}"
constraints="constraints/airflow-${line}.txt"
[ -f "$constraints" ] || { echo "no constraints file $constraints" >&2; exit 2; }
venv=".venv-${line}"
python="${PYTHON:-python3}"
stamp="$venv/.installed-$(sha1sum "$constraints" pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "==> creating $venv (Airflow $line line, pinned by $constraints)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2 2>/dev/null || true
  "$venv/bin/python" -m pip install -q -c "$constraints" -e ".[test]" 2>&1 \
    | grep -v "^WARNING: Location" >&2 || true
  "$venv/bin/python" -c "import airflow_drift_provider.drift, airflow.sdk" \
    || { echo "install into $venv failed" >&2; exit 1; }
  touch "$stamp"
fi
echo "$venv"
