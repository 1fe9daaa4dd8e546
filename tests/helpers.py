"""Assertions shared by the test modules."""

from __future__ import annotations

import math

PLAIN_TYPES = (dict, list, str, int, float, bool, type(None))
STATUSES = {
    "ok",
    "constant",
    "empty",
    "all_null",
    "missing",
    "type_mismatch",
    "insufficient_data",
    "mixed_types",
    "inconsistent_schema",
}


def assert_plain_json(obj, path: str = "report") -> None:
    """Recursively: only dict/list/str/int/float/bool/None (exact types), finite floats, str keys."""
    t = type(obj)
    assert t in PLAIN_TYPES, f"{path}: non-plain type {t.__module__}.{t.__qualname__} ({obj!r})"
    if t is dict:
        for k, v in obj.items():
            assert type(k) is str, f"{path}: non-str key {k!r} ({type(k)})"
            assert_plain_json(v, f"{path}[{k!r}]")
    elif t is list:
        for i, v in enumerate(obj):
            assert_plain_json(v, f"{path}[{i}]")
    elif t is float:
        assert math.isfinite(obj), f"{path}: non-finite float {obj!r}"
