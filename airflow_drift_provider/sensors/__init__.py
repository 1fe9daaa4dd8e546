"""Sensors of airflow-drift-provider (parse-time safe)."""

from airflow_drift_provider.sensors.alerts import AlertRuleSensor

__all__ = ["AlertRuleSensor"]
