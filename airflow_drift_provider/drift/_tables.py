"""Turn the accepted inputs into a stream of column-oriented batches.

Accepted: a pandas ``DataFrame``, a pyarrow ``Table`` or ``RecordBatch``, a
pyarrow ``RecordBatchReader``, or any iterable of those (streaming).  Each batch
is yielded as ``(n_rows, {column_name: thunk})``; the thunks convert one column
each, so the caller can run them in threads.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

NUMERICAL = "numerical"
CATEGORICAL = "categorical"


@dataclass
class ColumnChunk:
    """One batch of one column, already split into the parts the engine needs."""

    kind: str  # NUMERICAL or CATEGORICAL
    rows: int
    nulls: int = 0  # None/NA plus NaN
    pos_inf: int = 0
    neg_inf: int = 0
    values: np.ndarray | None = None  # finite float64 (numerical)
    counts: dict[str, int] = field(default_factory=dict)  # categorical
    mixed: bool = False  # object column holding numbers and strings
    from_numbers: bool = False  # forced categorical although the data type is numeric


def category_label(value: Any) -> str:
    """Categories are compared by a canonical string: ``1``, ``1.0`` -> ``"1"``."""
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isfinite(f) and f.is_integer() and abs(f) < 2**53:
            return str(int(f))
        return repr(f)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return isinstance(value, float | np.floating) and math.isnan(value)


def _numeric_chunk(arr: np.ndarray, rows: int) -> ColumnChunk:
    arr = np.asarray(arr, dtype=np.float64)
    finite = np.isfinite(arr)
    if finite.all():
        return ColumnChunk(NUMERICAL, rows, values=arr)
    nan = np.isnan(arr)
    pos = int(np.count_nonzero(arr == np.inf))
    neg = int(np.count_nonzero(arr == -np.inf))
    return ColumnChunk(NUMERICAL, rows, nulls=int(np.count_nonzero(nan)), pos_inf=pos, neg_inf=neg, values=arr[finite])


def _to_float(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:  # a Python int beyond float range: counted as an infinity
        return math.inf if v > 0 else -math.inf


_SECONDS = {"D": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def _epoch_seconds(values: np.ndarray) -> tuple[np.ndarray, int]:
    """datetime64/timedelta64 of any unit -> float seconds (NaT removed), and the NaT count."""
    unit, step = np.datetime_data(values.dtype)
    if unit not in _SECONDS:
        raise ValueError(f"unsupported time unit {unit!r}")
    nat = np.isnat(values)
    secs = values[~nat].view(np.int64).astype(np.float64) * (_SECONDS[unit] * step)
    return secs, int(nat.sum())


def _object_chunk(values: Iterable[Any], rows: int, force_categorical: bool) -> ColumnChunk:
    """An object column: numbers only -> numerical, anything else -> categorical."""
    vals = list(values)
    present = [v for v in vals if not _is_missing(v)]
    nulls = rows - len(present)
    is_num = [isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in present]
    if present and all(is_num) and not force_categorical:
        chunk = _numeric_chunk(np.asarray([_to_float(v) for v in present], dtype=np.float64), rows)
        chunk.nulls += nulls
        return chunk
    counts: dict[str, int] = {}
    for v in present:
        key = category_label(v)
        counts[key] = counts.get(key, 0) + 1
    mixed = any(is_num) and not all(is_num) and not force_categorical
    from_numbers = force_categorical and bool(present) and all(is_num)
    return ColumnChunk(CATEGORICAL, rows, nulls=nulls, counts=counts, mixed=mixed, from_numbers=from_numbers)


def _pandas_chunk(series: Any, force_categorical: bool) -> ColumnChunk:
    import pandas as pd
    from pandas.api import types as ptypes

    rows = len(series)
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) or force_categorical or isinstance(dtype, pd.CategoricalDtype):
        vc = series.value_counts(dropna=True)
        counts: dict[str, int] = {}
        for k, c in zip(vc.index.tolist(), vc.to_numpy().tolist(), strict=True):
            if c <= 0:  # declared but unobserved pandas categories
                continue
            key = category_label(k)
            counts[key] = counts.get(key, 0) + int(c)
        from_numbers = ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype)
        return ColumnChunk(
            CATEGORICAL, rows, nulls=rows - sum(counts.values()), counts=counts, from_numbers=from_numbers
        )
    if ptypes.is_numeric_dtype(dtype):
        return _numeric_chunk(series.to_numpy(dtype=np.float64, na_value=np.nan), rows)
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        if getattr(dtype, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        secs, nat = _epoch_seconds(series.to_numpy())
        chunk = _numeric_chunk(secs, rows)
        chunk.nulls += nat
        return chunk
    if ptypes.is_string_dtype(dtype) and not ptypes.is_object_dtype(dtype):
        vc = series.value_counts(dropna=True)
        counts = {category_label(k): int(c) for k, c in zip(vc.index.tolist(), vc.to_numpy().tolist(), strict=True)}
        return ColumnChunk(CATEGORICAL, rows, nulls=rows - sum(counts.values()), counts=counts)
    return _object_chunk(series.tolist(), rows, force_categorical)


def _arrow_chunk(arr: Any, force_categorical: bool) -> ColumnChunk:
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = len(arr)
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = pc.cast(arr, t.value_type) if not isinstance(arr, pa.ChunkedArray) else arr.cast(t.value_type)
        t = arr.type
    numeric = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
    temporal = pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_duration(t)
    if (numeric or temporal) and not force_categorical:
        scale = 1.0
        if temporal:
            if pa.types.is_date32(t):
                scale, storage = 86400.0, pa.int32()
            elif pa.types.is_date64(t):
                scale, storage = 1e-3, pa.int64()
            else:
                scale, storage = _SECONDS[t.unit], pa.int64()
            arr = (
                arr.view(storage)
                if not isinstance(arr, pa.ChunkedArray)
                else pa.chunked_array([c.view(storage) for c in arr.chunks], type=storage)
            )
        # int64 beyond 2**53 loses precision as float64, which is fine for statistics
        f = pc.cast(arr, pa.float64(), safe=False)
        if isinstance(f, pa.ChunkedArray):
            f = f.combine_chunks() if f.num_chunks != 1 else f.chunk(0)
        np_arr = f.to_numpy(zero_copy_only=False)
        if scale != 1.0:
            np_arr = np_arr * scale
        return _numeric_chunk(np_arr, rows)
    if (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_boolean(t)
        or numeric
        or temporal
        or pa.types.is_string_view(t)
    ):
        vc = pc.value_counts(arr)
        counts: dict[str, int] = {}
        for k, c in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
            if k is None:
                continue
            key = category_label(k)
            counts[key] = counts.get(key, 0) + int(c)
        return ColumnChunk(
            CATEGORICAL, rows, nulls=rows - sum(counts.values()), counts=counts, from_numbers=numeric or temporal
        )
    return _object_chunk(arr.to_pylist(), rows, force_categorical)


def _kind_of(obj: Any) -> str | None:
    mod = type(obj).__module__
    name = type(obj).__name__
    if mod.startswith("pandas") and name == "DataFrame":
        return "pandas"
    if mod.startswith("pyarrow") and name in ("Table", "RecordBatch"):
        return "arrow"
    if mod.startswith("pyarrow") and name == "RecordBatchReader":
        return "reader"
    return None


def iter_batches(
    data: Any, *, columns: list[str] | None, categorical: set[str], what: str
) -> Iterator[tuple[int, dict[str, Callable[[], ColumnChunk]]]]:
    """Yield ``(rows, {column: thunk})`` per batch; calling a thunk converts that column."""
    kind = _kind_of(data)
    if kind is not None and kind != "reader":
        yield _convert(data, kind, columns, categorical)
        return
    if kind == "reader" or (isinstance(data, Iterable) and not isinstance(data, str | bytes | dict)):
        seen = False
        for batch in data:
            bkind = _kind_of(batch)
            if bkind is None or bkind == "reader":
                raise ValueError(
                    f"{what}: every batch must be a pandas DataFrame or a pyarrow Table/RecordBatch, "
                    f"got {type(batch).__name__}"
                )
            seen = True
            yield _convert(batch, bkind, columns, categorical)
        if not seen:
            return
        return
    raise ValueError(
        f"{what} must be a pandas DataFrame, a pyarrow Table/RecordBatch or an iterable of them, "
        f"got {type(data).__name__}"
    )


def _convert(
    batch: Any, kind: str, columns: list[str] | None, categorical: set[str]
) -> tuple[int, dict[str, Callable[[], ColumnChunk]]]:
    if kind == "pandas":
        names = [str(c) for c in batch.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column names: {sorted({n for n in names if names.count(n) > 1})}")
        rows = len(batch)
        out = {}
        for raw, name in zip(batch.columns, names, strict=True):
            if columns is not None and name not in columns:
                continue
            out[name] = partial(_pandas_chunk, batch[raw], name in categorical)
        return rows, out
    names = list(batch.schema.names)
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate column names: {sorted({n for n in names if names.count(n) > 1})}")
    rows = batch.num_rows
    out = {}
    for i, name in enumerate(names):
        if columns is not None and name not in columns:
            continue
        out[name] = partial(_arrow_chunk, batch.column(i), name in categorical)
    return rows, out
