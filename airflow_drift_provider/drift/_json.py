"""Make results safe for ``json.dumps(..., allow_nan=False)`` and Airflow XCom."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def json_safe(value: Any) -> Any:
    """Plain Python types only; NaN/inf become ``None``; keys become strings."""
    if value is None or type(value) is bool or type(value) is str:
        return value
    if isinstance(value, str):  # np.str_ and other subclasses
        return str(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [json_safe(v) for v in value]
    return str(value)
