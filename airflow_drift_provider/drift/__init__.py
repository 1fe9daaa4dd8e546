"""The statistics engine: pure Python + numpy/scipy, no Airflow imports.

Usable from a notebook::

    from airflow_drift_provider.drift import data_drift, build_profile
    report = data_drift(reference_df, current_df)
"""

from airflow_drift_provider.drift.data import data_drift
from airflow_drift_provider.drift.model import model_drift
from airflow_drift_provider.drift.profile import (
    ColumnProfile,
    ReferenceProfile,
    build_profile,
    merge_profiles,
)
from airflow_drift_provider.drift.stats import DEFAULT_THRESHOLDS, PSI_EPSILON

__all__ = [
    "DEFAULT_THRESHOLDS",
    "PSI_EPSILON",
    "ColumnProfile",
    "ReferenceProfile",
    "build_profile",
    "data_drift",
    "merge_profiles",
    "model_drift",
]
