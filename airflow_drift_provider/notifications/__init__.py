"""Notifiers of airflow-drift-provider (parse-time safe)."""

from airflow_drift_provider.notifications.drift import DriftAlertNotifier

__all__ = ["DriftAlertNotifier"]
