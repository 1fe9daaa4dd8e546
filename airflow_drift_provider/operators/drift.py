"""DataDriftOperator and ModelDriftOperator.

DAG files import this module at parse time: it imports no pandas, scipy,
scikit-learn or pyarrow (the engine is imported inside ``execute``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from airflow_drift_provider._compat import AirflowException, AirflowFailException
from airflow_drift_provider._summary import (
    data_asset_extra,
    format_data_report,
    format_model_report,
    model_asset_extra,
)
from airflow_drift_provider.drift._options import (
    check_correction,
    check_drift_share,
    check_methods,
    check_thresholds,
)
from airflow_drift_provider.links import DriftReportLink
from airflow_drift_provider.sources import (
    DEFAULT_BATCH_SIZE,
    SourceSpec,
    artifact_path,
    lineage_location,
    load_profiles,
    open_source,
    pushdown_profile,
    read_text,
    validate_source,
    write_text,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

# templated source arguments shared by both drift operators
_SIDE_FIELDS = ("path", "sql", "conn_id", "op_kwargs", "sql_parameters")
_SOURCE_FIELDS = (
    *(f"{side}_{what}" for side in ("current", "reference") for what in _SIDE_FIELDS),
    "conn_id",
    "report_path",
)


SCHEMA_PROBLEMS = ("missing", "type_mismatch", "mixed_types", "inconsistent_schema")


def _templated(value: Any) -> bool:
    """True when ``value`` still holds Jinja (validated again after rendering)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_templated(k) or _templated(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_templated(v) for v in value)
    return False


def _number(value: Any, what: str) -> Any:
    """Rendered templates are strings: turn numeric strings back into numbers."""
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            raise AirflowFailException(f"{what} must be a number, got {value!r}") from None
    return value


def _numbers_in(mapping: Any, what: str) -> Any:
    if isinstance(mapping, str) and mapping.strip().startswith("{"):  # a whole-mapping template, rendered
        try:
            mapping = json.loads(mapping)
        except json.JSONDecodeError as exc:
            raise AirflowFailException(f"{what}: not a JSON object: {exc}") from exc
    if isinstance(mapping, Mapping):
        return {k: _numbers_in(v, what) for k, v in mapping.items()}
    return _number(mapping, what)


def _name_list(value: Any, what: str) -> list[str] | None:
    """A list of column names; a rendered template may be a JSON list or a comma-separated string."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise AirflowFailException(f"{what}: not a JSON list: {exc}") from exc
        else:
            value = [c.strip() for c in text.split(",") if c.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(c, str) for c in value):
        raise ValueError(f"{what} must be a list of column names, got {value!r}")
    return list(value)


class _DriftOperatorBase(BaseOperator):
    """Shared plumbing: sources, summaries in the log, asset extras, OpenLineage facets."""

    ui_color = "#fde9c9"
    operator_extra_links = (DriftReportLink(),)

    def __init__(
        self,
        *,
        current_path: Any = None,
        current_sql: str | None = None,
        current_callable: Callable[..., Any] | None = None,
        current_op_kwargs: Mapping[str, Any] | None = None,
        reference_path: Any = None,
        reference_sql: str | None = None,
        reference_callable: Callable[..., Any] | None = None,
        reference_op_kwargs: Mapping[str, Any] | None = None,
        conn_id: str | None = None,
        current_conn_id: str | None = None,
        reference_conn_id: str | None = None,
        current_sql_parameters: Any = None,
        reference_sql_parameters: Any = None,
        file_format: str | None = None,
        csv_options: Mapping[str, Any] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        fail_on_drift: bool = False,
        report_path: Any = None,
        write_report: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.report_path = report_path
        self.write_report = write_report
        self.current_path = current_path
        self.current_sql = current_sql
        self.current_callable = current_callable
        self.current_op_kwargs = dict(current_op_kwargs or {})
        self.reference_path = reference_path
        self.reference_sql = reference_sql
        self.reference_callable = reference_callable
        self.reference_op_kwargs = dict(reference_op_kwargs or {})
        self.conn_id = conn_id
        self.current_conn_id = current_conn_id
        self.reference_conn_id = reference_conn_id
        self.current_sql_parameters = current_sql_parameters
        self.reference_sql_parameters = reference_sql_parameters
        self.file_format = file_format
        self.csv_options = dict(csv_options or {})
        self.batch_size = batch_size
        if not isinstance(fail_on_drift, bool):
            raise ValueError(f"fail_on_drift must be True or False, got {fail_on_drift!r}")
        self.fail_on_drift = fail_on_drift
        self._lineage_report: dict[str, Any] | None = None

    # ------------------------------------------------------------- sources
    def _spec(self, side: str) -> SourceSpec:
        return SourceSpec(
            what=side,
            path=getattr(self, f"{side}_path"),
            sql=getattr(self, f"{side}_sql"),
            conn_id=getattr(self, f"{side}_conn_id") or self.conn_id,
            sql_parameters=getattr(self, f"{side}_sql_parameters"),
            python_callable=getattr(self, f"{side}_callable"),
            op_kwargs=getattr(self, f"{side}_op_kwargs"),
            file_format=self.file_format,
            batch_size=self.batch_size,
            csv_options=self.csv_options,
            table=getattr(self, f"{side}_table", None),
            where=getattr(self, f"{side}_where", None),
            profile=getattr(self, "current_profile", None) if side == "current" else None,
            kinds=self._source_kinds.get(side, ("path", "sql", "callable")),
        )

    _source_kinds: ClassVar[dict[str, tuple[str, ...]]] = {}

    def _open(self, side: str, columns: Sequence[str] | None = None) -> Any:
        spec = self._spec(side)
        try:
            return open_source(spec, columns)
        except FileNotFoundError as exc:
            # the file may still land (late upstream): a normal, retryable failure
            raise AirflowException(f"{side} data not found: {exc}") from exc

    # ------------------------------------------------------------- results
    def _attach_to_outlets(self, context: Context, extra: dict[str, Any]) -> None:
        from airflow.sdk import Asset

        outlet_events = context.get("outlet_events")
        if outlet_events is None:
            return
        for outlet in self.outlets or []:
            if isinstance(outlet, Asset):
                outlet_events[outlet].extra = extra

    def _write_html(self, context: Context, report: dict[str, Any]) -> None:
        """Write the self-contained HTML report; its URI goes into the report as ``report_uri``."""
        if not self.write_report:
            return
        from airflow_drift_provider.report import render_report

        ti = context.get("ti")
        run_id = str(context.get("run_id") or getattr(ti, "run_id", "manual"))
        dag_id = getattr(ti, "dag_id", None) or getattr(self, "dag_id", "dag")
        target = self.report_path or artifact_path(
            "reports", dag_id, run_id, self.task_id, getattr(ti, "map_index", -1), "html"
        )
        data, model = (report, None) if report.get("kind") == "data_drift" else (None, report)
        info = {
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": self.task_id,
            "logical_date": context.get("logical_date"),
        }
        try:
            html_doc = render_report(data, model, title=f"Drift report: {dag_id}.{self.task_id}", context=info)
            report["report_uri"] = write_text(target, html_doc)
            self.log.info("HTML drift report: %s", report["report_uri"])
        except Exception as exc:  # a report that cannot be written must not fail the check
            self.log.warning("could not write the HTML drift report to %s: %s", target, exc)

    def _finish(self, context: Context, report: dict[str, Any], failed: str | None) -> dict[str, Any]:
        self._write_html(context, report)
        self._lineage_report = report
        if failed:
            # the task's return value is not pushed when it fails: keep the evidence for dashboards
            context["ti"].xcom_push(key="return_value", value=report)
            raise AirflowFailException(failed)
        return report

    # ---------------------------------------------------------- lineage
    def _lineage(self, metrics: dict[str, dict[str, Any]], assertions: list[tuple[str, bool, str | None]]) -> Any:
        try:
            from airflow.providers.openlineage.extractors import OperatorLineage
            from openlineage.client.event_v2 import InputDataset
            from openlineage.client.facet_v2 import (
                data_quality_assertions_dataset as dqa,
            )
            from openlineage.client.facet_v2 import (
                data_quality_metrics_input_dataset as dqm,
            )
        except ImportError:
            return None
        loc = lineage_location(self._spec("current"))
        if loc is None:
            return OperatorLineage()
        report = self._lineage_report or {}
        rows = (report.get("current") or {}).get("rows") or (report.get("rows") or {}).get("current")
        facets = {
            "dataQualityMetrics": dqm.DataQualityMetricsInputDatasetFacet(
                rowCount=rows,
                columnMetrics={name: dqm.ColumnMetrics(**m) for name, m in metrics.items()},
            ),
            "dataQualityAssertions": dqa.DataQualityAssertionsDatasetFacet(
                assertions=[dqa.Assertion(assertion=a, success=ok, column=col) for a, ok, col in assertions]
            ),
        }
        return OperatorLineage(inputs=[InputDataset(namespace=loc[0], name=loc[1], inputFacets=facets)])


class DataDriftOperator(_DriftOperatorBase):
    """Compare current data with a reference, column by column, and push a drift report.

    The report (see the README's "Report schema") is the task's return value
    (XCom ``return_value``); a summary table goes to the task log; when the
    task has ``Asset`` outlets, a compact summary is attached to the asset
    event's ``extra`` under ``drift_report``.

    Data sources (exactly one per side; the reference may instead be a stored profile):

    :param current_path: file or folder URI read with ``ObjectStoragePath``
        (``file://``, local paths, ``s3://``... with the fsspec backend);
        Parquet and CSV files, read in record batches. Templated.
    :param current_sql: a query run through the ``DbApiHook`` of ``conn_id``
        (or ``current_conn_id``), fetched ``batch_size`` rows at a time.
        Templated; may be a ``.sql`` file.
    :param current_callable: a Python callable returning a DataFrame, pyarrow
        Table or an iterable of batches; called with ``current_op_kwargs``
        (templated).
    :param current_table: a table (``"schema.table"``, or a list of name parts)
        on the connection ``conn_id`` / ``current_conn_id``, **summarised inside
        the database** (SQL pushdown): per-column counts at the reference
        profile's sketch points, category counts, null/inf counts, min/max and
        moments are computed with aggregate queries, so only O(bins x columns)
        numbers leave the database. PostgreSQL and SQLite are built in; other
        databases through :func:`~airflow_drift_provider.drift.pushdown.register_dialect`
        (the dialect is picked from the connection type, or ``sql_dialect``). Templated.
    :param current_where: a SQL condition on ``current_table`` (e.g. one date
        partition), written by the DAG author; values go in
        ``current_sql_parameters`` (bound, never formatted into the SQL). Templated.
    :param current_profile: URI of a stored profile of the current data, or a
        list of URIs (e.g. ``profile_parts.output`` of a mapped
        :class:`~airflow_drift_provider.operators.profile.ReferenceProfileOperator`
        over partitions, built with ``like_profile=`` the reference profile); a
        list is merged before the comparison. Templated.
    :param sql_dialect: the pushdown dialect name when the connection type does not tell it.
    :param reference_path: like ``current_path``, for the reference.
    :param reference_sql: like ``current_sql``, for the reference.
    :param reference_callable: like ``current_callable``, for the reference.
    :param reference_profile: URI of a stored reference profile (JSON written
        by :class:`~airflow_drift_provider.operators.profile.ReferenceProfileOperator`
        or ``ReferenceProfile.save``). Templated.
    :param conn_id: SQL connection used by both sides unless overridden by
        ``current_conn_id`` / ``reference_conn_id``. Templated.
    :param current_sql_parameters: DB-API parameters for ``current_sql``. Templated.
    :param reference_sql_parameters: DB-API parameters for ``reference_sql``. Templated.
    :param file_format: ``"parquet"`` or ``"csv"``; default from the file suffix.
    :param csv_options: ``delimiter``, ``block_size``, ``null_values`` for CSV.
    :param batch_size: rows per batch when reading files and SQL.
    :param report_path: where to write the self-contained HTML report (URI). Templated.
        Default: ``$AIRFLOW_HOME/drift/reports/<dag_id>/<run_id>/<task_id>.html``;
        its location is added to the XCom report as ``report_uri``.
    :param write_report: set False to skip the HTML report.

    Engine options (see ``airflow_drift_provider.drift.data_drift``):

    :param columns: columns to compare (default: all). Templated (a list, a
        JSON list or a comma-separated string).
    :param categorical: columns to treat as categorical. Templated.
    :param methods: method names, or ``{"numerical"|"categorical"|column: [...]}``. Templated.
    :param thresholds: ``{method: value}`` / ``{column: {method: value}}``. Templated.
    :param drift_share: share of drifted columns that makes dataset drift. Templated.
    :param correction: ``None``, ``"bonferroni"`` or ``"bh"``. Templated.
    :param bins: reference-quantile bins for psi/jensenshannon/hellinger.
    :param min_samples: fewer valid values -> ``insufficient_data``.

    Outcome:

    :param fail_on_drift: fail the task (without retries) when
        ``summary.dataset_drift`` is true; the report is still pushed to XCom.
    :param fail_on_schema_mismatch: fail the task (without retries) when a
        reference column is missing from the current data or changes type
        (statuses ``missing``, ``type_mismatch``, ``mixed_types``,
        ``inconsistent_schema``); the report is still pushed. Default True.
    """

    template_fields: Sequence[str] = (
        *_SOURCE_FIELDS,
        "current_table",
        "current_where",
        "current_profile",
        "reference_profile",
        "columns",
        "categorical",
        "methods",
        "thresholds",
        "drift_share",
        "correction",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "current_sql": "sql",
        "reference_sql": "sql",
        "thresholds": "json",
        "methods": "json",
        "current_op_kwargs": "py",
        "reference_op_kwargs": "py",
    }

    _source_kinds: ClassVar[dict[str, tuple[str, ...]]] = {
        "current": ("path", "sql", "table", "callable", "profile"),
        "reference": ("path", "sql", "callable"),
    }

    def __init__(
        self,
        *,
        current_table: Any = None,
        current_where: str | None = None,
        current_profile: Any = None,
        sql_dialect: str | None = None,
        reference_profile: Any = None,
        columns: Any = None,
        categorical: Any = None,
        methods: Any = None,
        thresholds: Any = None,
        drift_share: Any = 0.5,
        correction: str | None = None,
        bins: int = 10,
        min_samples: int = 5,
        fail_on_schema_mismatch: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.current_table = current_table
        self.current_where = current_where
        self.current_profile = current_profile
        self.sql_dialect = sql_dialect
        self.reference_profile = reference_profile
        self.columns = columns
        self.categorical = categorical
        self.methods = methods
        self.thresholds = thresholds
        self.drift_share = drift_share
        self.correction = correction
        self.bins = bins
        self.min_samples = min_samples
        self.fail_on_schema_mismatch = fail_on_schema_mismatch
        self._validate()

    def _validate(self) -> None:
        validate_source(self._spec("current"))
        ref = self._spec("reference")
        validate_source(ref, allow_profile=True)
        if self.reference_profile and ref.kind is not None:
            raise ValueError("give either reference_profile or reference data (path/sql/callable), not both")
        if not self.reference_profile and ref.kind is None:
            raise ValueError(
                "a reference is required: reference_profile, reference_path, reference_sql or reference_callable"
            )
        if not _templated(self.methods):
            check_methods(self.methods)
        if not _templated(self.thresholds):
            check_thresholds(self.thresholds)
        if not _templated(self.drift_share):
            check_drift_share(self.drift_share)
        if not _templated(self.correction):
            check_correction(self.correction)
        for what in ("columns", "categorical"):
            value = getattr(self, what)
            if not _templated(value):
                _name_list(value, what)
        if isinstance(self.bins, bool) or not isinstance(self.bins, int) or self.bins < 2:
            raise ValueError(f"bins must be an integer >= 2, got {self.bins!r}")
        if isinstance(self.min_samples, bool) or not isinstance(self.min_samples, int) or self.min_samples < 1:
            raise ValueError(f"min_samples must be a positive integer, got {self.min_samples!r}")

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_drift_provider.drift import ReferenceProfile, build_profile, data_drift

        columns = _name_list(self.columns, "columns")
        categorical = _name_list(self.categorical, "categorical")
        thresholds = _numbers_in(self.thresholds, "thresholds") if self.thresholds is not None else None
        drift_share = _number(self.drift_share, "drift_share")
        if self.reference_profile:
            try:
                reference: Any = ReferenceProfile.from_json(read_text(self.reference_profile))
            except FileNotFoundError as exc:
                raise AirflowException(f"reference profile not found: {exc}") from exc
            except ValueError as exc:
                raise AirflowFailException(f"reference profile {self.reference_profile}: {exc}") from exc
            self.log.info("Reference: stored profile %s (%s rows)", self.reference_profile, reference.rows)
        else:
            reference = self._open("reference", columns)
            self.log.info("Reference: %s", self._spec("reference").describe())
        spec = self._spec("current")
        if spec.kind == "table":
            if not isinstance(reference, ReferenceProfile):  # the database is binned on the reference's points
                reference = build_profile(reference, columns=columns, categorical=categorical)
            current: Any = pushdown_profile(spec, reference, columns, self.sql_dialect)
            meta = current.metadata
            self.log.info(
                "Current: %s: %s rows summarised by %s queries, %s numbers returned",
                spec.describe(),
                current.rows,
                meta.get("queries"),
                meta.get("rows_returned"),
            )
        elif spec.kind == "profile":
            like = reference if isinstance(reference, ReferenceProfile) else None
            current = load_profiles(spec.profile, "current", like=like)
            self.log.info("Current: %s (%s rows)", spec.describe(), current.rows)
        else:
            current = self._open("current", columns)
            self.log.info("Current: %s", spec.describe())
        try:
            report = data_drift(
                reference,
                current,
                columns=columns,
                categorical=categorical,
                methods=self.methods,
                thresholds=thresholds,
                drift_share=drift_share,
                correction=self.correction,
                bins=self.bins,
                min_samples=self.min_samples,
            )
        except FileNotFoundError as exc:
            raise AirflowException(f"data not found: {exc}") from exc
        except ValueError as exc:
            # bad options or data that cannot be compared: retrying cannot help
            raise AirflowFailException(f"data drift check failed: {exc}") from exc
        self.log.info(
            "Data drift report (%s reference rows, %s current rows, %.3f s):\n%s",
            report["reference"]["rows"],
            report["current"]["rows"],
            report["elapsed_seconds"],
            format_data_report(report),
        )
        self._attach_to_outlets(context, data_asset_extra(report))
        failed = None
        schema = {c: r["status"] for c, r in report["columns"].items() if r["status"] in SCHEMA_PROBLEMS}
        if self.fail_on_schema_mismatch and schema:
            failed = f"schema mismatch between reference and current data: {schema}"
        elif self.fail_on_drift and report["summary"]["dataset_drift"]:
            failed = (
                f"dataset drift: {report['summary']['n_drifted']} of {report['summary']['evaluated_columns']} "
                f"columns drifted ({report['summary']['drifted_columns'][:20]})"
            )
        return self._finish(context, report, failed)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        report = self._lineage_report
        if report is None:
            return None
        metrics: dict[str, dict[str, Any]] = {}
        assertions = []
        for name, col in report["columns"].items():
            cur = col.get("current") or {}
            metrics[name] = {
                "nullCount": cur.get("nulls"),
                "count": cur.get("valid"),
                "min": cur.get("min"),
                "max": cur.get("max"),
            }
            if col["drifted"] is not None:
                assertions.append((f"no_drift:{col['drift_method']}", not col["drifted"], name))
        if report["summary"]["dataset_drift"] is not None:
            assertions.append(("no_dataset_drift", not report["summary"]["dataset_drift"], None))
        return self._lineage(metrics, assertions)


class ModelDriftOperator(_DriftOperatorBase):
    """Model performance against a baseline, and prediction-confidence drift.

    Reads labels, predictions and optional scores from the current source (and
    the reference source when given), computes
    ``airflow_drift_provider.drift.model_drift`` and pushes its report as the
    return value; a metrics table goes to the task log; outlets get a compact
    summary in the asset event ``extra``.

    :param current_path: file/folder URI with the current labels and predictions. Templated.
    :param current_sql: query returning them (through ``conn_id``). Templated.
    :param current_callable: callable returning a DataFrame/Table/batches.
    :param reference_path: optional reference data (baseline computed from it). Templated.
    :param reference_sql: optional reference query. Templated.
    :param reference_callable: optional reference callable.
    :param label_column: column with the true labels/targets. Templated.
    :param prediction_column: column with the predictions. Templated.
    :param score_columns: a column of positive-class scores, or a list of
        class-probability columns (in the order of ``classes``). Templated.
    :param baseline: ``{metric: value}`` baseline numbers. Templated.
    :param baseline_path: URI of a stored baseline: a JSON mapping
        ``{metric: value}`` or a previous model drift report (its current
        metrics become the baseline). Templated.
    :param task: ``"classification"``, ``"binary"``, ``"multiclass"``,
        ``"regression"`` or None (inferred).
    :param metrics: metric names (default per task).
    :param tolerance: relative number, ``{"relative", "absolute"}`` or per metric. Templated.
    :param pos_label: positive class for binary metrics.
    :param classes: class labels naming the score columns.
    :param fail_on_drift: fail (without retries) when ``summary.model_drift``
        is true; the report is still pushed to XCom.
    :param report_path: where to write the HTML report (URI). Templated. Default as for DataDriftOperator.
    :param write_report: set False to skip the HTML report.
    """

    template_fields: Sequence[str] = (
        *_SOURCE_FIELDS,
        "label_column",
        "prediction_column",
        "score_columns",
        "baseline",
        "baseline_path",
        "tolerance",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "current_sql": "sql",
        "reference_sql": "sql",
        "baseline": "json",
    }

    def __init__(
        self,
        *,
        label_column: str = "label",
        prediction_column: str = "prediction",
        score_columns: str | list[str] | None = None,
        baseline: Mapping[str, Any] | None = None,
        baseline_path: Any = None,
        task: str | None = None,
        metrics: list[str] | None = None,
        tolerance: Any = None,
        pos_label: Any = None,
        classes: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.label_column = label_column
        self.prediction_column = prediction_column
        self.score_columns = score_columns
        self.baseline = baseline
        self.baseline_path = baseline_path
        self.task = task
        self.metrics = metrics
        self.tolerance = tolerance
        self.pos_label = pos_label
        self.classes = classes
        validate_source(self._spec("current"))
        validate_source(self._spec("reference"), required=False)
        for what in ("label_column", "prediction_column"):
            if not isinstance(getattr(self, what), str) or not getattr(self, what):
                raise ValueError(f"{what} must be a column name, got {getattr(self, what)!r}")
        if score_columns is not None and not isinstance(score_columns, str | list | tuple):
            raise ValueError(f"score_columns must be a column name or a list of names, got {score_columns!r}")
        if task is not None and task not in ("classification", "binary", "multiclass", "regression"):
            raise ValueError(f"unknown task {task!r}; use classification, binary, multiclass or regression")
        if baseline is not None and not _templated(baseline) and not isinstance(baseline, Mapping):
            raise ValueError(f"baseline must be a mapping of metric name to number, got {baseline!r}")

    def _score_names(self) -> str | list[str] | None:
        sc = self.score_columns
        if isinstance(sc, str) and (sc.strip().startswith("[") or "," in sc):  # a rendered list template
            return _name_list(sc, "score_columns")
        return sc

    def _columns(self) -> list[str]:
        cols = [self.label_column, self.prediction_column]
        sc = self._score_names()
        if isinstance(sc, str):
            cols.append(sc)
        elif sc:
            cols.extend(sc)
        return cols

    def _read_frame(self, side: str) -> Any:
        import pandas as pd
        import pyarrow as pa

        data = self._open(side, self._columns())
        if isinstance(data, pd.DataFrame):
            frame = data
        elif isinstance(data, pa.Table | pa.RecordBatch):
            frame = data.to_pandas()
        else:
            parts = [b.to_pandas() if not isinstance(b, pd.DataFrame) else b for b in data]
            frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=self._columns())
        missing = [c for c in self._columns() if c not in frame.columns]
        if missing:
            raise AirflowFailException(
                f"{side} data has no column(s) {missing}; it has {list(frame.columns)[:30]} "
                "(set label_column / prediction_column / score_columns)"
            )
        return frame

    def _scores(self, frame: Any) -> Any:
        sc = self._score_names()
        if sc is None:
            return None
        if isinstance(sc, str):
            return frame[sc]
        return frame[list(sc)].to_numpy(dtype="float64")

    def _baseline(self) -> dict[str, Any] | None:
        base: dict[str, Any] = {}
        if self.baseline_path:
            try:
                doc = json.loads(read_text(self.baseline_path))
            except FileNotFoundError as exc:
                raise AirflowException(f"baseline not found: {exc}") from exc
            except json.JSONDecodeError as exc:
                raise AirflowFailException(f"baseline {self.baseline_path} is not JSON: {exc}") from exc
            if isinstance(doc, Mapping) and doc.get("kind") == "model_drift":
                doc = {k: m.get("current") for k, m in doc.get("metrics", {}).items() if m.get("current") is not None}
            if not isinstance(doc, Mapping):
                raise AirflowFailException(f"baseline {self.baseline_path} must hold a JSON object of metric values")
            base.update(doc)
        if self.baseline:
            base.update(_numbers_in(self.baseline, "baseline"))
        return base or None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_drift_provider.drift import model_drift

        cur = self._read_frame("current")
        ref = self._read_frame("reference") if self._spec("reference").kind else None
        reference = None
        if ref is not None:
            reference = {
                "y_true": ref[self.label_column],
                "y_pred": ref[self.prediction_column],
                "y_score": self._scores(ref),
            }
        tolerance = _numbers_in(self.tolerance, "tolerance") if self.tolerance is not None else None
        try:
            report = model_drift(
                cur[self.label_column],
                cur[self.prediction_column],
                y_score=self._scores(cur),
                baseline=self._baseline(),
                reference=reference,
                task=self.task,
                metrics=self.metrics,
                tolerance=tolerance,
                pos_label=self.pos_label,
                classes=self.classes,
            )
        except ValueError as exc:
            raise AirflowFailException(f"model drift check failed: {exc}") from exc
        self.log.info(
            "Model drift report (%s task, %s current rows):\n%s",
            report.get("task"),
            report["rows"]["current"],
            format_model_report(report),
        )
        self._attach_to_outlets(context, model_asset_extra(report))
        failed = None
        if self.fail_on_drift and report["summary"]["model_drift"]:
            failed = f"model drift: degraded metrics {report['summary']['degraded_metrics']}"
            if report["summary"].get("confidence_drift"):
                failed += ", prediction confidence drifted"
        return self._finish(context, report, failed)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        report = self._lineage_report
        if report is None:
            return None
        assertions = [
            (f"no_degradation:{name}", not m["degraded"], None)
            for name, m in report["metrics"].items()
            if m["degraded"] is not None
        ]
        return self._lineage({}, assertions)
