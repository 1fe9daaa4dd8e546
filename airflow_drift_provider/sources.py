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
    """One side of a comparison: exactly one of ``path``, ``sql`` or ``python_callable``."""

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

    @property
    def kind(self) -> str | None:
        if self.path:
            return "path"
        if self.sql:
            return "sql"
        if self.python_callable is not None:
            return "callable"
        return None

    def describe(self) -> str:
        if self.kind == "path":
            return str(self.path)
        if self.kind == "sql":
            return f"SQL on connection {self.conn_id!r}"
        if self.kind == "callable":
            return f"callable {getattr(self.python_callable, '__name__', repr(self.python_callable))}"
        return "nothing"


def validate_source(spec: SourceSpec, *, required: bool = True, allow_profile: bool = False) -> None:
    """Parse-time checks: exactly one kind of source, and what it needs."""
    given = [k for k, v in (("path", spec.path), ("sql", spec.sql), ("callable", spec.python_callable)) if v]
    if len(given) > 1:
        raise ValueError(f"{spec.what}: give only one of {spec.what}_path, {spec.what}_sql or {spec.what}_callable")
    if not given and required and not allow_profile:
        raise ValueError(
            f"{spec.what} data is required: give {spec.what}_path, {spec.what}_sql or {spec.what}_callable"
        )
    if spec.sql and not spec.conn_id:
        raise ValueError(f"{spec.what}_sql needs a connection: set conn_id (or {spec.what}_conn_id)")
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


def sql_batches(spec: SourceSpec) -> Iterator:
    """Run ``spec.sql`` through the connection's DbApiHook and fetch ``batch_size`` rows at a time."""
    import pyarrow as pa
    from airflow.sdk import BaseHook

    hook = BaseHook.get_connection(spec.conn_id).get_hook()
    if not hasattr(hook, "get_conn") or not hasattr(hook, "run"):
        raise AirflowFailException(
            f"connection {spec.conn_id!r} does not give a SQL (DbApiHook) hook: got {type(hook).__name__}"
        )
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
        msg = f"{spec.what}_sql failed on connection {spec.conn_id!r}: {type(exc).__name__}: {exc}"
        if _is_retryable_db_error(exc):
            raise AirflowException(msg) from exc
        raise AirflowFailException(msg) from exc


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
