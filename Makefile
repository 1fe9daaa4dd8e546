.PHONY: demo ui test test-all bench lint

# Main job: the example DAG end to end (twice) on an embedded SQLite Airflow home.
demo:
	scripts/demo.sh

# Browse the demo's runs in the Airflow UI (airflow standalone on the same home).
ui:
	scripts/ui.sh

# The test suite on the newest supported Airflow line (3.3).
test:
	scripts/test.sh $(PYTEST_ARGS)

# The test suite on the oldest (3.1) and newest (3.3) supported Airflow lines.
test-all:
	AIRFLOW_LINE=3.1 scripts/test.sh -m "not demo and not newest_line"
	AIRFLOW_LINE=3.3 scripts/test.sh

bench:
	$$(scripts/bootstrap.sh | tail -1)/bin/python benchmarks/bench_engine.py

lint:
	$$(scripts/bootstrap.sh | tail -1)/bin/ruff check airflow_drift_provider tests benchmarks example_dags devtools scripts
