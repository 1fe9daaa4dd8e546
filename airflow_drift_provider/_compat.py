"""Imports that moved between Airflow 3.1 and 3.3 (the supported range)."""

from __future__ import annotations

try:  # Airflow >= 3.2
    from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException
except ImportError:  # Airflow 3.1
    from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException  # type: ignore

try:  # Airflow >= 3.2
    from airflow.sdk import BaseBranchOperator
except ImportError:  # Airflow 3.1
    from airflow.providers.standard.operators.branch import BaseBranchOperator  # type: ignore


def conf_get(section: str, key: str, fallback: str) -> str:
    """Read an Airflow configuration option (task-SDK config on 3.2+, core config on 3.1)."""
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 3.1
        from airflow.configuration import conf  # type: ignore
    try:
        return conf.get(section, key, fallback=fallback)
    except Exception:  # pragma: no cover - config not readable in this process
        return fallback


__all__ = ["AirflowException", "AirflowFailException", "AirflowSkipException", "BaseBranchOperator", "conf_get"]
