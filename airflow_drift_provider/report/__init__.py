"""Human-readable renderings of drift reports (stdlib only, no Airflow imports)."""

from __future__ import annotations

from airflow_drift_provider.report.html import render_report

__all__ = ["render_report"]
