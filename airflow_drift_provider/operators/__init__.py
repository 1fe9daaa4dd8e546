"""Operators of airflow-drift-provider (parse-time safe: no heavy imports)."""

from airflow_drift_provider.operators.drift import DataDriftOperator, ModelDriftOperator
from airflow_drift_provider.operators.profile import MergeReferenceProfilesOperator, ReferenceProfileOperator

__all__ = ["DataDriftOperator", "MergeReferenceProfilesOperator", "ModelDriftOperator", "ReferenceProfileOperator"]
