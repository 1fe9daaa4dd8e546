"""The statistics engine: pure Python + numpy/scipy, no Airflow imports.

Usable from a notebook::

    from airflow_drift_provider.drift import data_drift, build_profile
    report = data_drift(reference_df, current_df)

and, for a SQL table, with the current side summarised inside the database
(``profile_sql``: aggregate queries, only O(thresholds x columns) numbers
leave it)::

    current = profile_sql(conn, "events", reference_profile, dialect="postgres")
    report = data_drift(reference_profile, current)

Names are resolved lazily (PEP 562), so importing a light submodule such as
``airflow_drift_provider.drift._options`` does not load numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_THRESHOLDS",
    "PSI_EPSILON",
    "ColumnProfile",
    "ReferenceProfile",
    "SqlDialect",
    "build_profile",
    "data_drift",
    "get_dialect",
    "merge_profiles",
    "model_drift",
    "profile_sql",
    "register_dialect",
]

_WHERE = {
    "data_drift": "airflow_drift_provider.drift.data",
    "model_drift": "airflow_drift_provider.drift.model",
    "ColumnProfile": "airflow_drift_provider.drift.profile",
    "ReferenceProfile": "airflow_drift_provider.drift.profile",
    "build_profile": "airflow_drift_provider.drift.profile",
    "merge_profiles": "airflow_drift_provider.drift.profile",
    "profile_sql": "airflow_drift_provider.drift.pushdown",
    "SqlDialect": "airflow_drift_provider.drift.pushdown",
    "register_dialect": "airflow_drift_provider.drift.pushdown",
    "get_dialect": "airflow_drift_provider.drift.pushdown",
    "DEFAULT_THRESHOLDS": "airflow_drift_provider.drift._options",
    "PSI_EPSILON": "airflow_drift_provider.drift.stats",
}

if TYPE_CHECKING:
    from airflow_drift_provider.drift._options import DEFAULT_THRESHOLDS
    from airflow_drift_provider.drift.data import data_drift
    from airflow_drift_provider.drift.model import model_drift
    from airflow_drift_provider.drift.profile import ColumnProfile, ReferenceProfile, build_profile, merge_profiles
    from airflow_drift_provider.drift.pushdown import SqlDialect, get_dialect, profile_sql, register_dialect
    from airflow_drift_provider.drift.stats import PSI_EPSILON


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
