"""Where operators read data from: files/folders (ObjectStoragePath), SQL, callables, profiles.

Imported by the operator modules at DAG parse time, so nothing heavy is
imported at module level: pyarrow and pandas are imported when data is read.
Every reader yields record batches so memory stays bounded.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from airflow_drift_provider._compat import AirflowException, AirflowFailException

PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
FILE_FORMATS = ("parquet", "csv")
DEFAULT_BATCH_SIZE = 100_000
_NON_RETRYABLE_SQL = re.compile(
    r"syntax error|no such (table|column)|does not exist|unknown column|invalid identifier|not found",
    re.IGNORECASE,
)


@dataclass
class SourceSpec:
    """One side of a comparison: exactly one of ``path``, ``sql``, ``table``, ``python_callable`` or ``profile``.

    ``table`` (+ ``where``) is summarised inside the database (SQL pushdown,
    :mod:`airflow_drift_provider.drift.pushdown`); ``profile`` is one or more
    stored profiles of the data (merged when several, e.g. one per partition).
    """

    what: str  # "reference" / "current" (used in messages)
    path: Any = None
    sql: str | None = None
    conn_id: str | None = None
    sql_parameters: Any = None
    python_callable: Callable[..., Any] | None = None
    op_kwargs: Mapping[str, Any] = field(default_factory=dict)
    file_format: str | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    csv_options: Mapping[str, Any] | None = None
    table: Any = None
    where: str | None = None
    profile: Any = None
    kinds: tuple[str, ...] = ("path", "sql", "callable")  # the kinds this side accepts (names in messages)

    def _given(self) -> list[str]:
        values = {
            "path": self.path,
            "sql": self.sql,
            "table": self.table,
            "callable": self.python_callable,
            "profile": self.profile,
        }
        return [k for k, v in values.items() if v is not None and v != "" and v != []]

    @property
    def kind(self) -> str | None:
        given = self._given()
        return given[0] if given else None

    def describe(self) -> str:
        if self.kind == "path":
            return str(self.path)
        if self.kind == "sql":
            return f"SQL on connection {self.conn_id!r}"
        if self.kind == "table":
            where = f" WHERE {self.where}" if self.where else ""
            return f"table {self.table!r}{where} on connection {self.conn_id!r} (summarised in the database)"
        if self.kind == "callable":
            return f"callable {getattr(self.python_callable, '__name__', repr(self.python_callable))}"
        if self.kind == "profile":
            n = len(self.profile) if isinstance(self.profile, list | tuple) else 1
            return f"{n} stored profile(s)" if n > 1 else f"stored profile {self.profile}"
        return "nothing"

    def names(self) -> str:
        options = [f"{self.what}_{k}" for k in self.kinds]
        return ", ".join(options[:-1]) + f" or {options[-1]}"


def validate_source(spec: SourceSpec, *, required: bool = True, allow_profile: bool = False) -> None:
    """Parse-time checks: exactly one kind of source, and what it needs."""
    given = spec._given()
    unsupported = [k for k in given if k not in spec.kinds]
    if unsupported:
        raise ValueError(f"{spec.what}: {unsupported[0]} is not supported here; give {spec.names()}")
    if len(given) > 1:
        raise ValueError(f"{spec.what}: give only one of {spec.names()}")
    if not given and required and not allow_profile:
        raise ValueError(f"{spec.what} data is required: give {spec.names()}")
    if spec.sql and not spec.conn_id:
        raise ValueError(f"{spec.what}_sql needs a connection: set conn_id (or {spec.what}_conn_id)")
    if spec.table is not None and not spec.conn_id:
        raise ValueError(f"{spec.what}_table needs a connection: set conn_id (or {spec.what}_conn_id)")
    if spec.where is not None and spec.table is None:
        raise ValueError(f"{spec.what}_where filters {spec.what}_table; give {spec.what}_table too")
    if spec.table is not None and not isinstance(spec.table, str | list | tuple):
        raise ValueError(f"{spec.what}_table must be a table name (or a list of name parts), got {spec.table!r}")
    if spec.python_callable is not None and not callable(spec.python_callable):
        raise ValueError(f"{spec.what}_callable must be callable, got {spec.python_callable!r}")
    if spec.file_format is not None and spec.file_format not in FILE_FORMATS:
        raise ValueError(
            f"file_format must be one of {FILE_FORMATS} or None (from the file suffix), got {spec.file_format!r}"
        )
    if isinstance(spec.batch_size, bool) or not isinstance(spec.batch_size, int) or spec.batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {spec.batch_size!r}")


# ------------------------------------------------------------------- files
def _format_of(path: Any, explicit: str | None) -> str | None:
    if explicit:
        return explicit
    name = str(path).lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def list_files(uri: Any, file_format: str | None) -> list[Any]:
    """The data files of a file or folder URI, sorted (folders are searched recursively)."""
    from airflow.sdk import ObjectStoragePath

    root = uri if isinstance(uri, ObjectStoragePath) else ObjectStoragePath(str(uri))
    if not root.exists():
        raise FileNotFoundError(f"no such file or folder: {root}")
    if root.is_file():
        if _format_of(root, file_format) is None:
            raise AirflowFailException(
                f"cannot tell the format of {root}: name it *.parquet or *.csv, or set file_format"
            )
        return [root]

    def hidden(p: Any) -> bool:  # _SUCCESS, .crc, _temporary/, _delta_log/, .hidden/ ...
        rel = str(p)[len(str(root)) :].strip("/").split("/")
        return any(part.startswith((".", "_")) for part in rel)

    files = [p for p in root.rglob("*") if p.is_file() and not hidden(p) and _format_of(p, file_format) is not None]
    if file_format is None:
        formats = {_format_of(p, None) for p in files}
        if len(formats) > 1:
            raise AirflowFailException(f"{root} mixes Parquet and CSV files: set file_format")
    if not files:
        raise FileNotFoundError(f"no Parquet or CSV files under {root}")
    return sorted(files, key=str)


def _file_batches(path: Any, fmt: str, batch_size: int, columns: Sequence[str] | None, csv_options: Any) -> Iterator:
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        with path.open("rb") as fh:
            # pre_buffer=False + a bounded read buffer: memory stays flat with file size
            # (pyarrow's default pre-buffering reads whole row-group ranges: ~1.6 GB for a 10M-row file)
            try:
                pf = pq.ParquetFile(fh, pre_buffer=False, buffer_size=1 << 20)
            except pa.ArrowException as exc:  # e.g. a file still being written: a retry may help
                raise AirflowException(f"cannot read Parquet file {path}: {exc}") from exc
            cols = None
            if columns is not None:
                names = set(pf.schema_arrow.names)
                cols = [c for c in columns if c in names]
            yield from pf.iter_batches(batch_size=batch_size, columns=cols)
        return
    import pyarrow as pa
    import pyarrow.csv as pcsv

    opts = dict(csv_options or {})
    parse = pcsv.ParseOptions(delimiter=opts.pop("delimiter", "\t" if str(path).endswith(".tsv") else ","))
    read = pcsv.ReadOptions(block_size=opts.pop("block_size", 16 << 20))
    convert = pcsv.ConvertOptions(
        null_values=opts.pop("null_values", ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]),
        strings_can_be_null=True,
    )
    if opts:
        raise AirflowFailException(f"unknown csv_options {sorted(opts)}; supported: delimiter, block_size, null_values")
    gz = str(path).endswith(".gz")
    # column types are inferred from the first block only: widen integers to float64 so a later
    # "2.5" in an integer-looking column does not fail the read
    with path.open("rb") as fh:
        head = pcsv.open_csv(pa.CompressedInputStream(fh, "gzip") if gz else fh, read_options=read, parse_options=parse)
        convert.column_types = {
            f.name: pa.float64() for f in head.schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
        }
    with path.open("rb") as fh:
        stream = pa.CompressedInputStream(fh, "gzip") if gz else fh
        reader = pcsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
        keep = None
        if columns is not None:  # columns absent from the file become per-column statuses
            keep = [c for c in columns if c in reader.schema.names]
        for batch in reader:
            if keep is not None:
                batch = batch.select(keep)
            # CSV blocks are sized in bytes: split them so batches respect batch_size
            for start in range(0, batch.num_rows, batch_size):
                yield batch.slice(start, batch_size)


def path_batches(spec: SourceSpec, columns: Sequence[str] | None = None) -> Iterator:
    """Batches of every file under ``spec.path``; the files are listed (and checked) now."""
    files = list_files(spec.path, spec.file_format)

    def gen() -> Iterator:
        for f in files:
            fmt = _format_of(f, spec.file_format)
            assert fmt is not None
            yield from _file_batches(f, fmt, spec.batch_size, columns, spec.csv_options)

    return gen()


# --------------------------------------------------------------------- SQL
def _is_retryable_db_error(exc: BaseException) -> bool:
    name = type(exc).__name__
    if name in ("ProgrammingError", "SyntaxError", "UndefinedTable", "UndefinedColumn", "DataError"):
        return False
    return not _NON_RETRYABLE_SQL.search(str(exc))


def sql_hook(conn_id: str | None) -> tuple[Any, str]:
    """The ``DbApiHook`` of a connection and the connection's type."""
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection(conn_id)
    hook = connection.get_hook()
    if not hasattr(hook, "get_conn") or not hasattr(hook, "run"):
        raise AirflowFailException(
            f"connection {conn_id!r} does not give a SQL (DbApiHook) hook: got {type(hook).__name__}"
        )
    return hook, str(connection.conn_type or "")


def _raise_db_error(spec: SourceSpec, exc: Exception, what: str) -> None:
    msg = f"{spec.what}_{what} failed on connection {spec.conn_id!r}: {type(exc).__name__}: {exc}"
    if _is_retryable_db_error(exc):
        raise AirflowException(msg) from exc
    raise AirflowFailException(msg) from exc


def pushdown_profile(
    spec: SourceSpec, reference: Any, columns: Sequence[str] | None = None, dialect: str | None = None
) -> Any:
    """Profile ``spec.table`` (``WHERE spec.where``) inside the database against ``reference``'s bins."""
    from airflow_drift_provider.drift.pushdown import get_dialect, profile_sql

    hook, conn_type = sql_hook(spec.conn_id)
    try:
        sql_dialect = get_dialect(dialect or conn_type)
    except ValueError as exc:
        raise AirflowFailException(f"{spec.what}_table: {exc}") from exc
    table = list(spec.table) if isinstance(spec.table, list | tuple) else spec.table
    try:
        with closing(hook.get_conn()) as conn:
            return profile_sql(
                conn,
                table,
                reference,
                dialect=sql_dialect,
                columns=columns,
                where=spec.where or None,
                parameters=spec.sql_parameters,
            )
    except (AirflowException, ValueError):
        raise
    except Exception as exc:  # the DB-API driver's own exception classes
        _raise_db_error(spec, exc, "table")


def load_profiles(uris: Any, what: str, like: Any = None) -> Any:
    """Read one stored profile, or several (e.g. one per mapped partition) merged into one.

    ``like``: the reference profile the partitions were aligned with (see ``merge_profiles``).
    """
    from airflow_drift_provider.drift import ReferenceProfile, merge_profiles

    items = [uris] if isinstance(uris, str) else [u for u in (uris or []) if u]
    if not items:
        raise AirflowFailException(f"no {what} profiles given")
    parts = []
    for uri in items:
        try:
            parts.append(ReferenceProfile.from_json(read_text(uri)))
        except FileNotFoundError as exc:
            raise AirflowException(f"{what} profile not found: {exc}") from exc
        except ValueError as exc:
            raise AirflowFailException(f"{what} profile {uri}: {exc}") from exc
    return parts[0] if len(parts) == 1 else merge_profiles(*parts, like=like)


def sql_batches(spec: SourceSpec) -> Iterator:
    """Run ``spec.sql`` through the connection's DbApiHook and fetch ``batch_size`` rows at a time."""
    import pyarrow as pa

    hook, _ = sql_hook(spec.conn_id)
    try:
        with closing(hook.get_conn()) as conn, closing(conn.cursor()) as cur:
            if spec.sql_parameters:
                cur.execute(spec.sql, spec.sql_parameters)
            else:
                cur.execute(spec.sql)
            if cur.description is None:
                raise AirflowFailException(f"{spec.what}_sql returned no result set (is it a SELECT?)")
            names = [str(d[0]) for d in cur.description]
            while True:
                rows = cur.fetchmany(spec.batch_size)
                if not rows:
                    break
                columns = list(zip(*rows, strict=True))
                arrays = []
                for col in columns:
                    try:
                        arrays.append(pa.array(col))
                    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python types: keep as strings
                        arrays.append(pa.array([None if v is None else str(v) for v in col], type=pa.string()))
                yield pa.RecordBatch.from_arrays(arrays, names=names)
    except AirflowException:
        raise
    except Exception as exc:  # the DB-API driver's own exception classes
        _raise_db_error(spec, exc, "sql")


# ---------------------------------------------------------------- dispatch
def open_source(spec: SourceSpec, columns: Sequence[str] | None = None) -> Any:
    """A table or an iterator of batches for ``spec`` (lazy: nothing is read until iterated)."""
    if spec.kind == "path":
        return path_batches(spec, columns)
    if spec.kind == "sql":
        return sql_batches(spec)
    if spec.kind == "callable":
        assert spec.python_callable is not None
        data = spec.python_callable(**dict(spec.op_kwargs or {}))
        if data is None:
            raise AirflowFailException(f"{spec.what}_callable returned None, expected a DataFrame/Table or batches")
        return data
    if spec.kind == "profile":
        return load_profiles(spec.profile, spec.what)
    raise AirflowFailException(f"no {spec.what} source configured")


def read_text(uri: Any) -> str:
    from airflow.sdk import ObjectStoragePath

    path = uri if isinstance(uri, ObjectStoragePath) else ObjectStoragePath(str(uri))
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    return path.read_text(encoding="utf-8")


def write_text(uri: Any, text: str) -> str:
    from airflow.sdk import ObjectStoragePath

    path = uri if isinstance(uri, ObjectStoragePath) else ObjectStoragePath(str(uri))
    with contextlib.suppress(OSError, NotImplementedError):  # object stores have no folders
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def artifact_path(kind: str, dag_id: str, run_id: str, task_id: str, map_index: int | None, ext: str) -> str:
    """``$AIRFLOW_HOME/drift/<kind>/<dag_id>/<run_id>/<task_id>[.<map_index>].<ext>`` (names made path-safe)."""
    import os

    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")

    def safe(v: Any) -> str:
        return re.sub(r"[^A-Za-z0-9_.=-]+", "_", str(v))

    name = safe(task_id) + (f".{map_index}" if map_index is not None and map_index >= 0 else "")
    return os.path.join(home, "drift", kind, safe(dag_id), safe(run_id), f"{name}.{ext}")


def lineage_location(spec: SourceSpec) -> tuple[str, str] | None:
    """(namespace, name) for OpenLineage, when the source has a stable identity."""
    if spec.kind == "path":
        text = str(spec.path)
        m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/]*)(/.*)?$", text)
        if m:
            scheme, host, rest = m.groups()
            return (f"{scheme}://{host}" if host else scheme), (rest or "/")
        return "file", text
    if spec.kind == "sql":
        return f"sql://{spec.conn_id}", re.sub(r"\s+", " ", spec.sql or "").strip()[:200]
    return None
