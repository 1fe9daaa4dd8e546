"""Reference profiles in Airflow: build (optionally mapped over partitions) and merge.

Parse-time module: no pandas/scipy/scikit-learn/pyarrow imports at module level.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from airflow_drift_provider._compat import AirflowException, AirflowFailException
from airflow_drift_provider.operators.drift import _name_list, _templated
from airflow_drift_provider.sources import (
    DEFAULT_BATCH_SIZE,
    SourceSpec,
    artifact_path,
    open_source,
    read_text,
    validate_source,
    write_text,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


def _default_output(context: Context) -> str:
    """``$AIRFLOW_HOME/drift/profiles/<dag_id>/<run_id>/<task_id>[.<map_index>].json``."""
    ti = context["ti"]
    return artifact_path("profiles", ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1), "json")


class ReferenceProfileOperator(BaseOperator):
    """Profile a dataset (or one partition of it) and store the profile as JSON.

    Returns the profile's URI (XCom ``return_value``), so mapped instances
    (``ReferenceProfileOperator.partial(...).expand(path=[...])``) feed a
    :class:`MergeReferenceProfilesOperator`, and a
    :class:`~airflow_drift_provider.operators.drift.DataDriftOperator` reads it
    through ``reference_profile``.

    :param path: file or folder URI (Parquet/CSV) read with ``ObjectStoragePath``. Templated.
    :param sql: query run through the ``DbApiHook`` of ``conn_id``. Templated; may be a ``.sql`` file.
    :param conn_id: SQL connection id. Templated.
    :param sql_parameters: DB-API parameters for ``sql``. Templated.
    :param python_callable: callable returning a DataFrame/Table/batches, called with ``op_kwargs``.
    :param op_kwargs: keyword arguments for ``python_callable``. Templated.
    :param output_path: where to write the profile (URI). Templated. Default:
        ``$AIRFLOW_HOME/drift/profiles/<dag_id>/<run_id>/<task_id>[.<map_index>].json``.
    :param columns: columns to profile (default: all). Templated.
    :param categorical: columns to treat as categorical. Templated.
    :param resolution: sketch resolution (ranks per numerical column).
    :param file_format: ``"parquet"``/``"csv"``; default from the file suffix.
    :param csv_options: CSV parsing options (``delimiter``, ``block_size``, ``null_values``).
    :param batch_size: rows per batch when reading.
    :param metadata: extra metadata stored in the profile. Templated.
    """

    template_fields: Sequence[str] = (
        "path",
        "sql",
        "conn_id",
        "sql_parameters",
        "op_kwargs",
        "output_path",
        "columns",
        "categorical",
        "metadata",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql", "metadata": "json"}
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        path: Any = None,
        sql: str | None = None,
        conn_id: str | None = None,
        sql_parameters: Any = None,
        python_callable: Callable[..., Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        output_path: Any = None,
        columns: Any = None,
        categorical: Any = None,
        resolution: int = 2048,
        file_format: str | None = None,
        csv_options: Mapping[str, Any] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.sql = sql
        self.conn_id = conn_id
        self.sql_parameters = sql_parameters
        self.python_callable = python_callable
        self.op_kwargs = dict(op_kwargs or {})
        self.output_path = output_path
        self.columns = columns
        self.categorical = categorical
        self.resolution = resolution
        self.file_format = file_format
        self.csv_options = dict(csv_options or {})
        self.batch_size = batch_size
        self.metadata = dict(metadata or {})
        spec = self._spec()
        validate_source(spec)
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 16:
            raise ValueError(f"resolution must be an integer >= 16, got {resolution!r}")
        for what in ("columns", "categorical"):
            if not _templated(getattr(self, what)):
                _name_list(getattr(self, what), what)

    def _spec(self) -> SourceSpec:
        # `path`/`sql` may arrive through .expand(): the spec is built from the current values
        return SourceSpec(
            what="data",
            path=self.path,
            sql=self.sql,
            conn_id=self.conn_id,
            sql_parameters=self.sql_parameters,
            python_callable=self.python_callable,
            op_kwargs=self.op_kwargs,
            file_format=self.file_format,
            batch_size=self.batch_size,
            csv_options=self.csv_options,
        )

    def execute(self, context: Context) -> str:
        from airflow_drift_provider.drift import build_profile

        spec = self._spec()
        columns = _name_list(self.columns, "columns")
        try:
            data = open_source(spec, columns)
            profile = build_profile(
                data,
                columns=columns,
                categorical=_name_list(self.categorical, "categorical"),
                resolution=self.resolution,
                metadata={"source": spec.describe(), **self.metadata},
            )
        except FileNotFoundError as exc:
            raise AirflowException(f"data not found: {exc}") from exc
        except ValueError as exc:
            raise AirflowFailException(f"cannot profile {spec.describe()}: {exc}") from exc
        if not profile.columns:
            raise AirflowFailException(f"{spec.describe()} has no columns to profile")
        target = str(self.output_path) if self.output_path else _default_output(context)
        uri = write_text(target, profile.to_json())
        self.log.info(
            "Profiled %s: %s rows, %s columns (%s) -> %s",
            spec.describe(),
            profile.rows,
            len(profile.columns),
            ", ".join(f"{n}:{c.kind}" for n, c in list(profile.columns.items())[:30]),
            uri,
        )
        return uri


class MergeReferenceProfilesOperator(BaseOperator):
    """Merge the profiles of disjoint partitions into one profile and store it.

    Typically downstream of a mapped ``ReferenceProfileOperator``:
    ``MergeReferenceProfilesOperator(task_id="merge", profiles=profile_parts.output)``.

    :param profiles: profile URIs (a list, or the XComArg of a mapped task). Templated.
    :param output_path: where to write the merged profile. Templated. Default:
        ``$AIRFLOW_HOME/drift/profiles/<dag_id>/<run_id>/<task_id>.json``.
    """

    template_fields: Sequence[str] = ("profiles", "output_path")
    ui_color = "#e8f1fb"

    def __init__(self, *, profiles: Any, output_path: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if profiles is None or (isinstance(profiles, str) and not _templated(profiles)):
            raise ValueError("profiles must be a list of profile URIs (or the output of a mapped task)")
        self.profiles = profiles
        self.output_path = output_path

    def execute(self, context: Context) -> str:
        from airflow_drift_provider.drift import ReferenceProfile, merge_profiles

        uris = [str(u) for u in self.profiles if u]
        if not uris:
            raise AirflowFailException("no profiles to merge")
        parts = []
        for uri in uris:
            try:
                parts.append(ReferenceProfile.from_json(read_text(uri)))
            except FileNotFoundError as exc:
                raise AirflowException(f"profile not found: {exc}") from exc
            except ValueError as exc:
                raise AirflowFailException(f"profile {uri}: {exc}") from exc
        merged = merge_profiles(*parts)
        target = str(self.output_path) if self.output_path else _default_output(context)
        uri = write_text(target, merged.to_json())
        self.log.info(
            "Merged %s profiles (%s rows, %s columns) -> %s", len(parts), merged.rows, len(merged.columns), uri
        )
        return uri
