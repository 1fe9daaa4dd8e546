"""Reference profiles: compact, mergeable, versioned summaries of a dataset."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from airflow_drift_provider.drift._sketch import DEFAULT_EXACT_LIMIT, DEFAULT_RESOLUTION, NumericSketch
from airflow_drift_provider.drift._tables import CATEGORICAL, NUMERICAL, ColumnChunk, iter_batches

PROFILE_SCHEMA_VERSION = 1
PROFILE_KIND = "airflow_drift_provider.reference_profile"
DEFAULT_MAX_CATEGORIES = 10_000
_MERGE_EVERY = 8  # streamed batches kept before their sketches are merged


@dataclass
class ColumnProfile:
    """Summary of one column.

    ``rows`` counts every row, ``nulls`` counts None/NA and NaN, ``pos_inf`` and
    ``neg_inf`` count infinities; the distribution (``sketch`` for numerical,
    ``counts`` for categorical columns) covers only the remaining valid values.
    """

    kind: str | None  # NUMERICAL, CATEGORICAL, or None when no valid value was seen
    rows: int = 0
    nulls: int = 0
    pos_inf: int = 0
    neg_inf: int = 0
    sketch: NumericSketch | None = None
    counts: dict[str, int] = field(default_factory=dict)
    other_count: int = 0  # categories beyond ``max_categories``, folded together
    mixed: bool = False  # numbers and strings in one column (analysed as categorical)
    conflict: bool = False  # numerical in some batches, categorical in others
    partial: bool = False  # absent from some batches or partitions
    from_numbers: bool = False  # categorical only because it was forced on a numeric data type
    other_distinct: int = 0  # how many distinct categories were folded into other_count

    @property
    def valid(self) -> int:
        if self.kind == NUMERICAL and self.sketch is not None:
            return self.sketch.n
        if self.kind == CATEGORICAL:
            return sum(self.counts.values()) + self.other_count
        return 0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.kind,
            "rows": self.rows,
            "nulls": self.nulls,
            "pos_inf": self.pos_inf,
            "neg_inf": self.neg_inf,
            "mixed": self.mixed,
            "conflict": self.conflict,
            "partial": self.partial,
            "from_numbers": self.from_numbers,
        }
        if self.kind == NUMERICAL and self.sketch is not None:
            sk = self.sketch
            d["count"] = sk.n
            d["min"] = sk.min
            d["max"] = sk.max
            d["mean"] = sk.mean if sk.n else None
            d["std"] = sk.std if sk.n else None
            d["sketch"] = sk.to_dict()
        elif self.kind == CATEGORICAL:
            d["count"] = self.valid
            d["categories"] = dict(sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])))
            d["other_count"] = self.other_count
            d["other_distinct"] = self.other_distinct
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnProfile:
        try:
            kind = d["type"]
            if kind not in (NUMERICAL, CATEGORICAL, None):
                raise ValueError(f"unknown column type {kind!r}")
            col = cls(
                kind=kind,
                rows=int(d["rows"]),
                nulls=int(d["nulls"]),
                pos_inf=int(d.get("pos_inf", 0)),
                neg_inf=int(d.get("neg_inf", 0)),
                mixed=bool(d.get("mixed", False)),
                conflict=bool(d.get("conflict", False)),
                partial=bool(d.get("partial", False)),
                from_numbers=bool(d.get("from_numbers", False)),
            )
            if kind == NUMERICAL:
                col.sketch = NumericSketch.from_dict(d["sketch"])
            elif kind == CATEGORICAL:
                col.counts = {str(k): int(v) for k, v in d["categories"].items()}
                col.other_count = int(d.get("other_count", 0))
                col.other_distinct = int(d.get("other_distinct", 0))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"invalid column in profile: {exc!r}") from exc
        return col


@dataclass
class ReferenceProfile:
    """A stored summary of a reference dataset, usable in place of the data.

    Built with :func:`build_profile`, combined with :func:`merge_profiles`,
    stored with :meth:`to_json` / :meth:`save` and read back with
    :meth:`from_json` / :meth:`load`.
    """

    columns: dict[str, ColumnProfile]
    rows: int
    resolution: int = DEFAULT_RESOLUTION
    exact_limit: int = DEFAULT_EXACT_LIMIT
    max_categories: int = DEFAULT_MAX_CATEGORIES
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    metadata: dict[str, Any] = field(default_factory=dict)
    schema_version: int = PROFILE_SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": PROFILE_KIND,
            "schema_version": self.schema_version,
            "created_at": self.created_at,
            "rows": self.rows,
            "settings": {
                "resolution": self.resolution,
                "exact_limit": self.exact_limit,
                "max_categories": self.max_categories,
            },
            "metadata": self.metadata,
            "columns": {name: col.to_dict() for name, col in self.columns.items()},
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferenceProfile:
        if not isinstance(d, dict) or d.get("kind") != PROFILE_KIND:
            raise ValueError("not an airflow-drift-provider reference profile")
        version = d.get("schema_version")
        if not isinstance(version, int) or version > PROFILE_SCHEMA_VERSION or version < 1:
            raise ValueError(
                f"unsupported profile schema_version {version!r} (this version reads <= {PROFILE_SCHEMA_VERSION})"
            )
        settings = d.get("settings", {})
        return cls(
            columns={str(k): ColumnProfile.from_dict(v) for k, v in d["columns"].items()},
            rows=int(d["rows"]),
            resolution=int(settings.get("resolution", DEFAULT_RESOLUTION)),
            exact_limit=int(settings.get("exact_limit", DEFAULT_EXACT_LIMIT)),
            max_categories=int(settings.get("max_categories", DEFAULT_MAX_CATEGORIES)),
            created_at=str(d.get("created_at", "")),
            metadata=dict(d.get("metadata", {})),
            schema_version=version,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> ReferenceProfile:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"reference profile is not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReferenceProfile:
        with open(path, encoding="utf-8") as fh:
            return cls.from_json(fh.read())


# ---------------------------------------------------------------- building
class _ColumnBuilder:
    def __init__(self, resolution: int, exact_limit: int, anchors: np.ndarray | None) -> None:
        self.col = ColumnProfile(kind=None)
        self.sketches: list[NumericSketch] = []
        self.resolution = resolution
        self.exact_limit = exact_limit
        self.anchors = anchors

    def add(self, chunk: ColumnChunk) -> None:
        col = self.col
        col.rows += chunk.rows
        col.nulls += chunk.nulls
        col.pos_inf += chunk.pos_inf
        col.neg_inf += chunk.neg_inf
        col.mixed |= chunk.mixed
        col.from_numbers |= chunk.from_numbers
        has_values = (chunk.values is not None and chunk.values.size > 0) or bool(chunk.counts)
        if not has_values:
            if chunk.kind == NUMERICAL and col.kind is None and (chunk.pos_inf or chunk.neg_inf):
                col.kind = NUMERICAL
            return
        if col.kind is None:
            col.kind = chunk.kind
        elif col.kind != chunk.kind:
            col.conflict = True
            return
        if chunk.kind == NUMERICAL:
            assert chunk.values is not None
            self.sketches.append(
                NumericSketch.from_values(
                    chunk.values, resolution=self.resolution, exact_limit=self.exact_limit, anchors=self.anchors
                )
            )
            if len(self.sketches) >= _MERGE_EVERY:
                self.sketches = [self._merged()]
        else:
            counts = col.counts
            for k, v in chunk.counts.items():
                counts[k] = counts.get(k, 0) + v

    def _merged(self) -> NumericSketch:
        return NumericSketch.merge(
            self.sketches, resolution=self.resolution, exact_limit=self.exact_limit, anchors=self.anchors
        )

    def finish(self, max_categories: int, keep: set[str] | None = None) -> ColumnProfile:
        col = self.col
        if col.kind == NUMERICAL or (col.kind is None and self.sketches):
            col.kind = NUMERICAL
            col.sketch = self._merged() if self.sketches else NumericSketch.empty()
        if col.kind == CATEGORICAL:
            _cap_categories(col, max_categories, keep)
        return col


def _cap_categories(col: ColumnProfile, max_categories: int, keep: set[str] | None = None) -> None:
    """Keep the ``max_categories`` most frequent categories (plus every category in ``keep``)."""
    if len(col.counts) <= max_categories:
        return
    ordered = sorted(col.counts.items(), key=lambda kv: (kv[0] not in (keep or ()), -kv[1], kv[0]))
    n_keep = max(max_categories, sum(1 for k in col.counts if keep and k in keep))
    col.counts = dict(ordered[:n_keep])
    col.other_count += sum(v for _, v in ordered[n_keep:])
    col.other_distinct += len(ordered) - n_keep


def _workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _validate_names(arg: Any, what: str) -> list[str] | None:
    if arg is None:
        return None
    if isinstance(arg, str) or not isinstance(arg, Iterable):
        raise ValueError(f"{what} must be a list of column names, got {arg!r}")
    names = list(arg)
    bad = [c for c in names if not isinstance(c, str)]
    if bad:
        raise ValueError(f"{what} must contain column names (strings), got {bad!r}")
    return names


def alignment(reference: ReferenceProfile) -> tuple[dict[str, np.ndarray], dict[str, set[str]]]:
    """Sketch points (numerical columns) and categories (categorical columns) of a reference profile."""
    anchors = {n: c.sketch.points for n, c in reference.columns.items() if c.kind == NUMERICAL and c.sketch is not None}
    keep = {n: set(c.counts) for n, c in reference.columns.items() if c.kind == CATEGORICAL}
    return anchors, keep


def build_profile(
    data: Any,
    *,
    columns: Iterable[str] | None = None,
    categorical: Iterable[str] | None = None,
    resolution: int = DEFAULT_RESOLUTION,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    metadata: dict[str, Any] | None = None,
    like: ReferenceProfile | None = None,
    _anchors: dict[str, np.ndarray] | None = None,
    _keep_categories: dict[str, set[str]] | None = None,
    _what: str = "data",
) -> ReferenceProfile:
    """Summarise ``data`` (DataFrame, pyarrow Table/RecordBatch or an iterable of them).

    :param columns: restrict to these columns (default: all).
    :param categorical: columns to treat as categorical even if numeric.
        Boolean, string, categorical and object columns of strings are
        categorical anyway; numeric, datetime and timedelta columns numerical
        (datetimes as seconds since the epoch).
    :param resolution: number of equally spaced ranks kept per numerical
        column (plus about ``2*log2(n/resolution)`` tail ranks).  The CDF error
        is about ``1/resolution`` (see README, "Accuracy").
    :param exact_limit: a numerical column with at most this many distinct
        values is stored exactly (every value and its count).
    :param max_categories: categories kept per column; rarer ones are folded
        into ``other_count``.
    :param like: a reference profile to align with, for profiles of *current*
        data (e.g. one per partition, merged later and compared with that
        reference): its categorical columns stay categorical here, its
        numerical sketch points are kept as exact points of the new sketches
        and its categories are never folded into ``other_count``.  This is what
        :func:`data_drift` does internally with current data, so a current
        profile built with ``like=reference`` gives the same report as the data.
    """
    if not isinstance(resolution, int) or resolution < 16:
        raise ValueError(f"resolution must be an integer >= 16, got {resolution!r}")
    if not isinstance(exact_limit, int) or exact_limit < 1:
        raise ValueError(f"exact_limit must be a positive integer, got {exact_limit!r}")
    if not isinstance(max_categories, int) or max_categories < 1:
        raise ValueError(f"max_categories must be a positive integer, got {max_categories!r}")
    cols = _validate_names(columns, "columns")
    cats = set(_validate_names(categorical, "categorical") or [])
    if like is not None:
        if not isinstance(like, ReferenceProfile):
            raise ValueError(f"like must be a ReferenceProfile, got {type(like).__name__}")
        cats |= {n for n, c in like.columns.items() if c.kind == CATEGORICAL}
        _anchors = {**alignment(like)[0], **(_anchors or {})}
        _keep_categories = {**alignment(like)[1], **(_keep_categories or {})}
    builders: dict[str, _ColumnBuilder] = {}
    order: list[str] = []
    rows = 0
    anchors = _anchors or {}
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        for batch_rows, thunks in iter_batches(data, columns=cols, categorical=cats, what=_what):
            rows += batch_rows
            for name in thunks:
                if name not in builders:
                    builders[name] = _ColumnBuilder(resolution, exact_limit, anchors.get(name))
                    order.append(name)

            def work(item: tuple[str, Any]) -> None:
                name, thunk = item
                builders[name].add(thunk())

            list(pool.map(work, thunks.items()))
    # a column absent from a later batch is a schema problem: count its rows as missing
    for b in builders.values():
        if b.col.rows < rows:
            b.col.partial = True
    return ReferenceProfile(
        columns={name: builders[name].finish(max_categories, (_keep_categories or {}).get(name)) for name in order},
        rows=rows,
        resolution=resolution,
        exact_limit=exact_limit,
        max_categories=max_categories,
        metadata=dict(metadata or {}),
    )


def merge_profiles(*profiles: ReferenceProfile, like: ReferenceProfile | None = None) -> ReferenceProfile:
    """Combine profiles of disjoint partitions of one dataset.

    The result equals (exactly for categorical columns and for numerical
    columns with few distinct values, within the documented sketch error
    otherwise) the profile of the concatenated data.  Accepts profiles as
    arguments or a single iterable of profiles.

    :param like: for partitions of *current* data profiled with
        ``build_profile(..., like=reference)``: the same reference, so that
        the merged sketches keep its points (with exact counts) and its
        categories are never folded into ``other_count``.
    """
    if len(profiles) == 1 and not isinstance(profiles[0], ReferenceProfile):
        profiles = tuple(profiles[0])  # type: ignore[arg-type]
    if not profiles:
        raise ValueError("merge_profiles needs at least one profile")
    for p in profiles:
        if not isinstance(p, ReferenceProfile):
            raise ValueError(f"merge_profiles takes ReferenceProfile objects, got {type(p).__name__}")
    anchors, keep = alignment(like) if like is not None else ({}, {})
    resolution = max(p.resolution for p in profiles)
    exact_limit = max(p.exact_limit for p in profiles)
    max_categories = max(p.max_categories for p in profiles)
    names: list[str] = []
    for p in profiles:
        names.extend(n for n in p.columns if n not in names)
    total_rows = sum(p.rows for p in profiles)
    out: dict[str, ColumnProfile] = {}
    for name in names:
        parts = [p.columns[name] for p in profiles if name in p.columns]
        kinds = {c.kind for c in parts if c.kind is not None}
        col = ColumnProfile(kind=next(iter(kinds)) if len(kinds) == 1 else None)
        col.conflict = len(kinds) > 1 or any(c.conflict for c in parts)
        col.partial = any(c.partial for c in parts) or sum(c.rows for c in parts) < total_rows
        col.rows = sum(c.rows for c in parts)
        col.nulls = sum(c.nulls for c in parts)
        col.pos_inf = sum(c.pos_inf for c in parts)
        col.neg_inf = sum(c.neg_inf for c in parts)
        col.mixed = any(c.mixed for c in parts)
        col.from_numbers = any(c.from_numbers for c in parts)
        if col.kind == NUMERICAL:
            col.sketch = NumericSketch.merge(
                [c.sketch for c in parts if c.kind == NUMERICAL and c.sketch is not None],
                resolution=resolution,
                exact_limit=exact_limit,
                anchors=anchors.get(name),
            )
        elif col.kind == CATEGORICAL:
            for c in parts:
                if c.kind != CATEGORICAL:
                    continue
                for k, v in c.counts.items():
                    col.counts[k] = col.counts.get(k, 0) + v
                col.other_count += c.other_count
                col.other_distinct += c.other_distinct  # an upper bound: partitions may share rare values
            _cap_categories(col, max_categories, keep.get(name))
        out[name] = col
    meta: dict[str, Any] = {}
    for p in profiles:
        meta.update(p.metadata)
    meta["merged_from"] = len(profiles)
    return ReferenceProfile(
        columns=out,
        rows=total_rows,
        resolution=resolution,
        exact_limit=exact_limit,
        max_categories=max_categories,
        metadata=meta,
    )
