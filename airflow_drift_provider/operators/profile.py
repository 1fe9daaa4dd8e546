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
    load_profiles,
    open_source,
    pushdown_profile,
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

    Any data can be profiled: the reference, or partitions of the *current*
    data, so that a large current dataset is profiled by parallel mapped tasks
    (on Celery/Kubernetes workers) and only the small, mergeable profiles meet
    in the drift task: ``DataDriftOperator(current_profile=parts.output, ...)``.
    For current data, pass ``like_profile=`` the reference profile: the
    partitions' sketches then keep the reference's points exactly, and the
    merged result equals the single-task result within the sketch tolerances
    (README, "Scale-out").

    Returns the profile's URI (XCom ``return_value``), so mapped instances
    (``ReferenceProfileOperator.partial(...).expand(path=[...])``) feed a
    :class:`MergeReferenceProfilesOperator`, and a
    :class:`~airflow_drift_provider.operators.drift.DataDriftOperator` reads it
    through ``reference_profile``.

    :param path: file or folder URI (Parquet/CSV) read with ``ObjectStoragePath``. Templated.
    :param sql: query run through the ``DbApiHook`` of ``conn_id``. Templated; may be a ``.sql`` file.
    :param conn_id: SQL connection id. Templated.
    :param sql_parameters: DB-API parameters for ``sql``. Templated.
    :param table: a table (``"schema.table"`` or a list of name parts) summarised
        inside the database (SQL pushdown) against the bins of ``like_profile``,
        which is then required; ``where`` selects the partition. Templated.
    :param where: SQL condition on ``table`` (trusted DAG code; values go in
        ``sql_parameters``, bound). Templated.
    :param sql_dialect: pushdown dialect when the connection type does not tell it.
    :param like_profile: URI of the reference profile to align with (see above). Templated.
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
        "table",
        "where",
        "like_profile",
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
        table: Any = None,
        where: str | None = None,
        sql_dialect: str | None = None,
        like_profile: Any = None,
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
        self.table = table
        self.where = where
        self.sql_dialect = sql_dialect
        self.like_profile = like_profile
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
        if table is not None and not like_profile:
            raise ValueError("table (SQL pushdown) needs like_profile: the reference profile whose bins are counted")
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
            table=self.table,
            where=self.where,
            kinds=("path", "sql", "table", "callable"),
        )

    def execute(self, context: Context) -> str:
        from airflow_drift_provider.drift import build_profile

        spec = self._spec()
        columns = _name_list(self.columns, "columns")
        like = load_profiles(self.like_profile, "like_profile") if self.like_profile else None
        try:
            if spec.kind == "table":
                profile = pushdown_profile(spec, like, columns, self.sql_dialect)
                profile.metadata.update({"source": spec.describe(), **self.metadata})
            else:
                profile = build_profile(
                    open_source(spec, columns),
                    columns=columns,
                    categorical=_name_list(self.categorical, "categorical"),
                    resolution=self.resolution,
                    like=like,
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
        uris = [str(u) for u in self.profiles if u]
        merged = load_profiles(uris, "partition")
        target = str(self.output_path) if self.output_path else _default_output(context)
        uri = write_text(target, merged.to_json())
        self.log.info(
            "Merged %s profiles (%s rows, %s columns) -> %s", len(uris), merged.rows, len(merged.columns), uri
        )
        return uri
