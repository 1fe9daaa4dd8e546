"""Airflow plugin ``drift``: the drift dashboard app, its UI views and the "Drift report" link.

Registered twice, as Airflow expects of a provider's plugin: in the provider
info (``plugins``, read when ``[core] lazy_discover_providers`` is off) and
under the ``airflow.plugins`` entry point (always read).

* ``fastapi_apps``: :func:`airflow_drift_provider.ui.app.create_app` at ``/drift``;
* ``external_views``: a "Drift" tab on every DAG page (``destination: dag``,
  ``drift/dags/{DAG_ID}/``) and a "Drift" page in the left navigation
  (``drift/``); both hrefs are relative, so a base-URL sub-path works;
* ``operator_extra_links``: :class:`~airflow_drift_provider.links.DriftReportLink`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from airflow_drift_provider.links import PLUGIN_PREFIX, DriftReportLink

_ICON = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' "
    "stroke='%23555' stroke-width='2'><polyline points='3,17 9,11 13,15 21,7'/>"
    "<polyline points='15,7 21,7 21,13'/></svg>"
)


class _DashboardApps:
    """``fastapi_apps``, built on first access: only the API server reads it.

    Workers and the DAG processor import plugins too; creating the FastAPI app
    there would cost every task ~2 s of imports (FastAPI, the API server's security module).
    """

    def __get__(self, obj: Any, owner: type) -> list[dict[str, Any]]:
        from airflow_drift_provider.ui.app import create_app

        apps = [{"app": create_app(PLUGIN_PREFIX), "url_prefix": PLUGIN_PREFIX, "name": "Drift dashboard"}]
        owner.fastapi_apps = apps  # type: ignore[misc]  # replaces this descriptor: built once
        return apps


class DriftPlugin(AirflowPlugin):
    name = "drift"
    fastapi_apps = _DashboardApps()
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Drift",
            "href": "drift/dags/{DAG_ID}/",
            "destination": "dag",
            "url_route": "drift",
            "icon": _ICON,
        },
        {
            "name": "Drift",
            "href": "drift/",
            "destination": "nav",
            "url_route": "drift-overview",
            "icon": _ICON,
        },
    ]
    operator_extra_links: ClassVar[list[Any]] = [DriftReportLink()]
