"""Names, defaults and validation of the engine's options (pure Python, no numpy).

Operators import this at DAG parse time to validate their arguments in
``__init__`` without loading the numerical stack.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

P_VALUE_METHODS = frozenset({"ks", "chi2"})
NUMERICAL_METHODS = ("ks", "wasserstein", "psi", "jensenshannon", "hellinger")
CATEGORICAL_METHODS = ("chi2", "jensenshannon", "psi", "hellinger")
ALL_METHODS = frozenset(NUMERICAL_METHODS) | frozenset(CATEGORICAL_METHODS)
DEFAULT_THRESHOLDS: dict[str, float] = {
    "ks": 0.05,  # p-value
    "chi2": 0.05,  # p-value
    "wasserstein": 0.1,  # in reference standard deviations
    "psi": 0.2,
    "jensenshannon": 0.1,
    "hellinger": 0.1,
}
CORRECTIONS = {"bonferroni": "bonferroni", "bh": "bh", "fdr_bh": "bh", "benjamini-hochberg": "bh"}


def check_drift_share(drift_share: Any) -> float:
    if isinstance(drift_share, bool) or not isinstance(drift_share, int | float) or not 0 < drift_share <= 1:
        raise ValueError(f"drift_share must be a number in (0, 1], got {drift_share!r}")
    return float(drift_share)


def check_correction(correction: Any) -> str | None:
    if correction is None:
        return None
    corr = CORRECTIONS.get(str(correction).lower())
    if corr is None:
        raise ValueError(f"unknown correction {correction!r}; use None, 'bonferroni' or 'bh'")
    return corr


def check_methods(methods: Any) -> dict[str, list[str]] | None:
    """``None``, a list of names, or a mapping {"numerical"|"categorical"|column: [names]}."""
    if methods is None:
        return None

    def names(v: Any, where: str) -> list[str]:
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, Iterable):
            raise ValueError(f"methods{where} must be a list of method names, got {v!r}")
        out = list(v)
        unknown = [m for m in out if m not in ALL_METHODS]
        if unknown:
            raise ValueError(f"unknown drift method(s) {unknown!r}{where}; known: {sorted(ALL_METHODS)}")
        if not out:
            raise ValueError(f"methods{where} is empty")
        return out

    if isinstance(methods, Mapping):
        return {str(k): names(v, f"[{k!r}]") for k, v in methods.items()}
    return {"*": names(methods, "")}


def check_thresholds(thresholds: Any) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Global {method: value} plus per-column {column: {method: value}}."""
    glob = dict(DEFAULT_THRESHOLDS)
    per_col: dict[str, dict[str, float]] = {}
    if thresholds is None:
        return glob, per_col
    if not isinstance(thresholds, Mapping):
        raise ValueError(f"thresholds must be a mapping of method name to number, got {thresholds!r}")

    def value(method: str, v: Any, where: str) -> float:
        if method not in ALL_METHODS:
            raise ValueError(f"thresholds{where}: unknown drift method {method!r}; known: {sorted(ALL_METHODS)}")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"thresholds{where}[{method!r}] must be a finite number, got {v!r}")
        if method in P_VALUE_METHODS and not 0 < v < 1:
            raise ValueError(f"thresholds{where}[{method!r}] is a p-value level and must be in (0, 1), got {v!r}")
        if method not in P_VALUE_METHODS and v < 0:
            raise ValueError(f"thresholds{where}[{method!r}] must be >= 0, got {v!r}")
        return float(v)

    for k, v in thresholds.items():
        if isinstance(v, Mapping):
            per_col[str(k)] = {m: value(m, x, f"[{k!r}]") for m, x in v.items()}
        else:
            glob[k] = value(k, v, "")
    return glob, per_col
