"""airflow-drift-provider: data and model drift monitoring for Apache Airflow.

This module is imported when Airflow discovers providers and by DAG files, so
it imports nothing heavy (no numpy, pandas, scipy, scikit-learn or pyarrow).
The statistics engine lives in :mod:`airflow_drift_provider.drift`.
"""

__version__ = "0.1.0"
