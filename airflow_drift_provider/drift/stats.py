"""The drift statistics, computed on column summaries.

Conventions (also in the README, "Statistics"):

* ``psi``: ``sum((q - p) * ln(q / p))`` with natural log, over bins; ``p`` the
  reference and ``q`` the current proportions, each floored at
  ``PSI_EPSILON = 1e-4`` (no renormalisation) so empty bins stay finite.
  Numerical bins: the reference quantiles at ``i / bins`` (inverted-CDF
  definition: observed values), duplicates merged, bins closed on the right,
  the outer bins open to -inf/+inf.  Categorical bins: the union of reference
  and current categories (unseen categories have ``p = 0``).
* ``ks``: two-sample Kolmogorov-Smirnov; when both sides are known exactly and
  ``max(n1, n2) <= 10000`` this *is* ``scipy.stats.ks_2samp`` (exact p-value);
  otherwise the statistic comes from the summaries (error bound reported) and
  the p-value from scipy's asymptotic formula ``kstwo.sf(D, round(n1*n2/(n1+n2)))``,
  which is what ``ks_2samp`` uses for such sizes; above ``n1*n2/(n1+n2) = 10000``
  its limit, the Kolmogorov distribution ``kstwobign.sf(sqrt(en) * D)``
  (absolute difference < 2e-3 at that size and shrinking as 1/sqrt(n)).
* ``chi2``: ``scipy.stats.chi2_contingency(table, correction=False)`` on the
  2 x K table of reference/current counts per category (categories with no
  count on either side dropped; fewer than two categories -> statistic 0, p 1).
* ``wasserstein``: ``wasserstein_distance(ref, cur) / std(ref)`` (ddof=0).
* ``jensenshannon``: Jensen-Shannon *distance*, base 2 (0..1), on the same
  bins as ``psi`` (unfloored proportions).
* ``hellinger``: ``sqrt(sum((sqrt(p) - sqrt(q))**2) / 2)`` (0..1), same bins.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from airflow_drift_provider.drift._sketch import NumericSketch, ks_statistic, wasserstein_1

PSI_EPSILON = 1e-4
SCIPY_EXACT_KS_MAX_N = 10_000
KSTWO_MAX_EN = 10_000

from airflow_drift_provider.drift._options import (  # noqa: E402  (re-exported)
    ALL_METHODS,
    CATEGORICAL_METHODS,
    DEFAULT_THRESHOLDS,
    NUMERICAL_METHODS,
    P_VALUE_METHODS,
)

__all__ = ["ALL_METHODS", "CATEGORICAL_METHODS", "DEFAULT_THRESHOLDS", "NUMERICAL_METHODS", "P_VALUE_METHODS"]


def psi(p: np.ndarray, q: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    pf = np.maximum(np.asarray(p, dtype=np.float64), epsilon)
    qf = np.maximum(np.asarray(q, dtype=np.float64), epsilon)
    return float(np.sum((qf - pf) * np.log(qf / pf)))


def jensenshannon(p: np.ndarray, q: np.ndarray) -> float:
    from scipy.spatial.distance import jensenshannon as js

    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        return math.nan
    return float(min(1.0, max(0.0, js(p, q, base=2))))


def hellinger(p: np.ndarray, q: np.ndarray) -> float:
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return float(min(1.0, math.sqrt(max(0.0, float(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / 2.0))))


def numeric_bins(ref: NumericSketch, cur: NumericSketch, bins: int) -> tuple[list[float], np.ndarray, np.ndarray]:
    """Bin edges ``[min, q_1, ..., q_{bins-1}, max]`` of the reference and both proportion vectors.

    Bins: ``(-inf, min)``, ``[min, q_1]``, ``(q_1, q_2]``, ..., ``(q_{bins-1}, max]``,
    ``(max, +inf)``; the two outer bins hold only current values outside the
    reference range (reference share 0), so a shift beyond the reference's
    range - or away from a constant reference - is always visible.
    """
    lo, hi = float(ref.points[0]), float(ref.points[-1])
    inner = np.unique(ref.quantile(np.arange(1, bins) / bins))
    inner = inner[(inner > lo) & (inner < hi)]
    edges = np.concatenate([[lo], inner, [hi]]) if hi > lo else np.asarray([lo])

    def proportions(sk: NumericSketch) -> np.ndarray:
        le, lt = sk.cdf(edges)
        # below min | [min, q_1] | ... | (q_k, max] | above max; constant reference: below | = c | above
        inside = le if edges.size == 1 else le[1:]
        cuts = np.concatenate([[0.0], lt[:1], inside, [float(sk.n)]])
        return np.clip(np.diff(cuts) / sk.n, 0, 1)

    return edges.tolist(), proportions(ref), proportions(cur)


def ks_test(ref: NumericSketch, cur: NumericSketch) -> dict[str, Any]:
    from scipy import stats

    n1, n2 = ref.n, cur.n
    if ref.exact and cur.exact and max(n1, n2) <= SCIPY_EXACT_KS_MAX_N:
        res = stats.ks_2samp(ref.expand(), cur.expand())
        return {"statistic": float(res.statistic), "p_value": float(res.pvalue), "error_bound": 0.0}
    d, bound = ks_statistic(ref, cur)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    if en <= KSTWO_MAX_EN:
        p = float(stats.kstwo.sf(d, np.round(en)))
    else:  # kstwo.sf costs up to ~0.5 s at these sizes; its limit differs by < 1e-4 here
        p = float(stats.kstwobign.sf(math.sqrt(en) * d))
    p = float(np.clip(p, 0.0, 1.0))
    return {"statistic": d, "p_value": p, "error_bound": bound}


def wasserstein_test(ref: NumericSketch, cur: NumericSketch) -> dict[str, Any]:
    w = wasserstein_1(ref, cur)
    std = ref.std
    if std > 0 and math.isfinite(std) and math.isfinite(w):
        return {"statistic": w / std, "distance": w}
    return {"statistic": 0.0 if w == 0 else None, "distance": w}


def chi2_test(ref_counts: np.ndarray, cur_counts: np.ndarray) -> dict[str, Any]:
    from scipy.stats import chi2_contingency

    table = np.vstack([ref_counts, cur_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return {"statistic": 0.0, "p_value": 1.0, "dof": 0}
    res = chi2_contingency(table, correction=False)
    return {"statistic": float(res.statistic), "p_value": float(res.pvalue), "dof": int(res.dof)}
