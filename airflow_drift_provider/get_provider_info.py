"""Provider metadata read by Airflow's ``ProvidersManager`` (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_drift_provider import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-drift-provider",
        "name": "Drift monitoring",
        "description": (
            "ML production monitoring for Apache Airflow: data drift (PSI, Kolmogorov-Smirnov, chi-squared, "
            "Wasserstein, Jensen-Shannon, Hellinger), model drift, reference profiles and alerting."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Drift monitoring",
                "external-doc-url": "https://pypi.org/project/airflow-drift-provider/",
                "tags": ["software"],
            }
        ],
        "operators": [
            {
                "integration-name": "Drift monitoring",
                "python-modules": [
                    "airflow_drift_provider.operators.drift",
                    "airflow_drift_provider.operators.profile",
                    "airflow_drift_provider.operators.alerts",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Drift monitoring",
                "python-modules": ["airflow_drift_provider.sensors.alerts"],
            }
        ],
        "notifications": ["airflow_drift_provider.notifications.drift.DriftAlertNotifier"],
        "extra-links": ["airflow_drift_provider.links.DriftReportLink"],
        "plugins": [{"name": "drift", "plugin-class": "airflow_drift_provider.plugins.drift.DriftPlugin"}],
        "config": {
            "drift": {
                "description": "Settings of airflow-drift-provider.",
                "options": {
                    "alert_state_prefix": {
                        "description": "Prefix of the Airflow Variables that hold alert deduplication state.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "drift_alert:",
                        "default": "drift_alert:",
                    },
                },
            }
        },
    }
