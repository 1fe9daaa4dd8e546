"""Deterministic, mergeable summary of the finite values of a numeric column.

Why not a randomised sketch (KLL, t-digest)?  We looked at Apache DataSketches'
KLL: its rank error is probabilistic (about 0.14 % at k=2000, "with 99 %
confidence"), two builds of the same data differ, it is not exact on small data
and on this machine updating it costs more than sorting the column with numpy.
The drift statistics need an error that is *bounded and reported*, results that
are reproducible, and exact answers on small data, so the sketch below keeps
**exact order statistics** instead:

* ``points``: sorted, distinct data values (every value when the column has at
  most ``exact_limit`` distinct values, otherwise the order statistics at
  ``resolution`` equally spaced ranks plus geometrically spaced ranks in both
  tails, so the extreme tails are resolved too);
* ``le`` / ``lt``: the number of values ``<= point`` and ``< point`` (so ties
  and discrete columns are represented exactly);
* ``rank_error``: an upper bound (in counts) of the error of ``le``/``lt``;
  0 for a sketch built from data, > 0 only after merging approximate sketches.

Between two points of an approximate sketch the CDF is taken as linear (mass
spread uniformly).  The mass strictly between two consecutive points is at most
``max_gap`` (about ``n / resolution``), which bounds the error of any CDF value
and therefore of the Kolmogorov-Smirnov statistic (see :func:`ks_statistic`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_RESOLUTION = 2048
DEFAULT_EXACT_LIMIT = 10_000  # = scipy ks_2samp exact-mode limit: small data stays exact


def _tail_ranks(n: int, resolution: int) -> np.ndarray:
    """0-based ranks 0,1,3,7,... (and mirrored) up to the equi-depth spacing."""
    step = n / resolution
    ranks = []
    k = 1
    while k - 1 < step:
        ranks.append(k - 1)
        k *= 2
    lo = np.asarray(ranks, dtype=np.int64)
    return np.concatenate([lo, (n - 1) - lo])


def _moments(v: np.ndarray, block: int = 1 << 16) -> tuple[float, float]:
    """Mean and sum of squared deviations (two-pass, blocked to stay in cache)."""
    n = v.size
    with np.errstate(over="ignore", invalid="ignore"):  # |x| near 1e308: moments overflow to inf (-> null)
        return _moments_raw(v, n, block)


def _moments_raw(v: np.ndarray, n: int, block: int) -> tuple[float, float]:
    mean = float(v.sum()) / n
    m2 = 0.0
    buf = np.empty(min(block, n), dtype=np.float64)
    for i in range(0, n, block):
        chunk = v[i : i + block]
        d = buf[: chunk.size]
        np.subtract(chunk, mean, out=d)
        np.multiply(d, d, out=d)  # not np.dot: BLAS threads inside our thread pool oversubscribe the CPUs
        m2 += float(d.sum())
    return mean, m2


def _width_splits(x: np.ndarray, budget: int) -> np.ndarray:
    """Extra x positions splitting wide intervals (budget shared in proportion to width).

    Equal-mass intervals are very unequal in width in the tails; the CDF error
    *integrated over x* (which is what the Wasserstein distance sees) grows with
    width x mass, so wide intervals get extra points.
    """
    w = np.diff(x)
    total = float(w.sum())
    if budget <= 0 or total <= 0 or not np.isfinite(total):
        return np.zeros(0)
    splits = np.floor(budget * w / total).astype(np.int64)
    has = np.flatnonzero(splits)
    if has.size == 0:
        return np.zeros(0)
    reps = splits[has]
    start = np.repeat(x[has], reps)
    width = np.repeat(w[has], reps)
    # position j / (s + 1) inside its interval, j = 1..s
    offsets = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps) + 1
    return start + width * offsets / np.repeat(reps + 1, reps)


def _select(n: int, resolution: int, rank_to_idx, x_to_idx, values) -> np.ndarray:
    """Indices of the kept candidates: equal-mass ranks, tail ranks and width splits."""
    depth = resolution
    targets = np.concatenate([np.arange(depth + 1) * (n / depth), _tail_ranks(n, depth).astype(np.float64) + 1.0])
    idx = np.unique(rank_to_idx(targets))
    extra = _width_splits(values(idx), resolution // 2)
    if extra.size:
        idx = np.unique(np.concatenate([idx, x_to_idx(extra)]))
    return idx


def _counts(values: np.ndarray, rank_error: float) -> list:
    """Exact counts as ints; interpolated counts of merged sketches to 3 decimals (keeps JSON small)."""
    if rank_error == 0:
        return values.astype(np.int64).tolist()
    return np.round(values, 3).tolist()


@dataclass
class NumericSketch:
    n: int
    points: np.ndarray
    le: np.ndarray
    lt: np.ndarray
    exact: bool
    rank_error: float
    mean: float
    m2: float

    # ------------------------------------------------------------------ build
    @classmethod
    def empty(cls) -> NumericSketch:
        z = np.zeros(0, dtype=np.float64)
        return cls(0, z, z.copy(), z.copy(), True, 0.0, 0.0, 0.0)

    @classmethod
    def from_values(
        cls,
        values: np.ndarray,
        *,
        resolution: int = DEFAULT_RESOLUTION,
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        anchors: np.ndarray | None = None,
        assume_sorted: bool = False,
    ) -> NumericSketch:
        """Summarise finite float64 ``values`` (NaN/inf must be removed first)."""
        v = np.asarray(values, dtype=np.float64)
        if not assume_sorted:
            v = np.sort(v, kind="quicksort")
        n = int(v.size)
        if n == 0:
            return cls.empty()
        if v[0] == v[-1]:  # constant: exactly zero variance (rounding would leave ~1e-17)
            mean, m2 = float(v[0]), 0.0
        else:
            mean, m2 = _moments(v)
        neq = v[1:] != v[:-1]
        n_distinct = int(np.count_nonzero(neq)) + 1
        if n_distinct <= exact_limit:
            ends = np.append(np.flatnonzero(neq), n - 1)  # last index of each run
            points = v[ends]
            le = (ends + 1).astype(np.float64)
            lt = np.concatenate([[0.0], le[:-1]])
            return cls(n, points, le, lt, True, 0.0, mean, m2)
        ranks = _select(
            n,
            resolution,
            lambda t: np.clip(np.ceil(t - 1e-9).astype(np.int64) - 1, 0, n - 1),
            lambda x: np.clip(np.searchsorted(v, x, side="left"), 0, n - 1),
            lambda i: v[i],
        )
        points = v[ranks]
        if anchors is not None and len(anchors):
            a = np.asarray(anchors, dtype=np.float64)
            a = a[(a > points[0]) & (a < points[-1])]
            points = np.concatenate([points, a])
            points.sort()
        points = points[np.concatenate([[True], points[1:] != points[:-1]])]
        le = np.searchsorted(v, points, side="right").astype(np.float64)
        lt = np.searchsorted(v, points, side="left").astype(np.float64)
        return cls(n, points, le, lt, False, 0.0, mean, m2)

    # ----------------------------------------------------------------- basics
    @property
    def min(self) -> float | None:
        return float(self.points[0]) if self.n else None

    @property
    def max(self) -> float | None:
        return float(self.points[-1]) if self.n else None

    @property
    def constant(self) -> bool:
        return self.n > 0 and self.points[0] == self.points[-1]

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0)."""
        return float(np.sqrt(self.m2 / self.n)) if self.n else 0.0

    @property
    def max_gap(self) -> float:
        """Largest count strictly between two consecutive points (0 if exact)."""
        if self.exact or self.points.size < 2:
            return 0.0
        return float(np.max(self.lt[1:] - self.le[:-1]))

    @property
    def cdf_error(self) -> float:
        """Bound of |estimated CDF - true CDF| anywhere, as a fraction of n."""
        if not self.n:
            return 0.0
        return (self.rank_error + self.max_gap) / self.n

    def cdf(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Counts ``<= x`` and ``< x`` for each query value (interpolated)."""
        x = np.asarray(x, dtype=np.float64)
        p, le, lt = self.points, self.le, self.lt
        m = p.size
        if m == 0:
            z = np.zeros_like(x)
            return z, z.copy()
        idx = np.searchsorted(p, x, side="left")
        safe = np.minimum(idx, m - 1)
        hit = (idx < m) & (p[safe] == x)
        lo = np.maximum(idx - 1, 0)
        hi = safe
        if self.exact:
            between = le[lo]
        else:
            width = p[hi] - p[lo]
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.where(width > 0, (x - p[lo]) / width, 0.0)
            between = le[lo] + (lt[hi] - le[lo]) * frac
        f_le = np.where(hit, le[safe], between)
        f_lt = np.where(hit, lt[safe], between)
        below = idx == 0
        above = idx >= m
        f_le = np.where(below & ~hit, 0.0, np.where(above, float(self.n), f_le))
        f_lt = np.where(below, 0.0, np.where(above, float(self.n), f_lt))
        return f_le, f_lt

    def quantile(self, probs: Sequence[float] | np.ndarray) -> np.ndarray:
        """Inverted-CDF quantiles: the smallest stored value with CDF >= p.

        The result is always an observed data value whose CDF is known exactly
        (for sketches built from data), which makes bin proportions exact.
        """
        q = np.asarray(probs, dtype=np.float64) * self.n
        idx = np.searchsorted(self.le, q - 1e-9 * max(self.n, 1), side="left")
        idx = np.clip(idx, 0, self.points.size - 1)
        return self.points[idx]

    def expand(self) -> np.ndarray:
        """The full sorted sample (only for exact sketches)."""
        if not self.exact:
            raise ValueError("only an exact sketch can be expanded")
        counts = (self.le - self.lt).astype(np.int64)
        return np.repeat(self.points, counts)

    # ------------------------------------------------------------------ merge
    @classmethod
    def merge(
        cls,
        sketches: Sequence[NumericSketch],
        *,
        resolution: int = DEFAULT_RESOLUTION,
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        anchors: np.ndarray | None = None,
    ) -> NumericSketch:
        parts = [s for s in sketches if s.n]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        n = sum(s.n for s in parts)
        # Chan et al. parallel combination of mean and M2.
        mean = sum(s.mean * s.n for s in parts) / n
        m2 = sum(s.m2 + s.n * (s.mean - mean) ** 2 for s in parts)
        u = np.unique(np.concatenate([s.points for s in parts]))
        if u.size == 1:
            mean, m2 = float(u[0]), 0.0
        le = np.zeros_like(u)
        lt = np.zeros_like(u)
        for s in parts:
            a, b = s.cdf(u)
            le += a
            lt += b
        if all(s.exact for s in parts) and u.size <= exact_limit:
            return cls(n, u, le, lt, True, 0.0, mean, m2)
        err = sum(s.rank_error + s.max_gap for s in parts if not s.exact)
        keep = _select(
            n,
            resolution,
            lambda t: np.clip(np.searchsorted(le, t - 1e-9, side="left"), 0, u.size - 1),
            lambda x: np.clip(np.searchsorted(u, x, side="left"), 0, u.size - 1),
            lambda i: u[i],
        )
        keep_mask = np.zeros(u.size, dtype=bool)
        keep_mask[keep] = True
        keep_mask[0] = keep_mask[-1] = True
        if anchors is not None and len(anchors):
            keep_mask |= np.isin(u, np.asarray(anchors, dtype=np.float64))
        # A point followed by an atom of mass must keep exact tie information:
        # we also keep every point carrying a large atom.
        atoms = (le - lt) > (n / resolution)
        keep_mask |= atoms
        return cls(n, u[keep_mask], le[keep_mask], lt[keep_mask], False, float(err), mean, m2)

    # ---------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "exact": self.exact,
            "rank_error": self.rank_error,
            "mean": self.mean,
            "m2": self.m2,
            "points": self.points.tolist(),
            "le": _counts(self.le, self.rank_error),
            "lt": _counts(self.lt, self.rank_error),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NumericSketch:
        try:
            points = np.asarray(d["points"], dtype=np.float64)
            le = np.asarray(d["le"], dtype=np.float64)
            lt = np.asarray(d["lt"], dtype=np.float64)
            sk = cls(
                int(d["n"]),
                points,
                le,
                lt,
                bool(d["exact"]),
                float(d["rank_error"]),
                float(d["mean"]),
                float(d["m2"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid numeric sketch in profile: {exc}") from exc
        if not (points.size == le.size == lt.size) or (points.size and np.any(np.diff(points) <= 0)):
            raise ValueError("invalid numeric sketch in profile: points must be strictly increasing")
        if not np.all(np.isfinite(points)):
            raise ValueError("invalid numeric sketch in profile: non-finite point")
        return sk


# --------------------------------------------------------------------- stats
def _union_eval(a: NumericSketch, b: NumericSketch):
    u = np.union1d(a.points, b.points)
    ale, alt = a.cdf(u)
    ble, blt = b.cdf(u)
    return u, ale / a.n, alt / a.n, ble / b.n, blt / b.n


def ks_statistic(a: NumericSketch, b: NumericSketch) -> tuple[float, float]:
    """Two-sample KS statistic sup|F_a - F_b| and its error bound.

    Both CDFs are evaluated (values and left limits) at the union of the stored
    points.  For exact sketches this is the exact statistic; otherwise the error
    is at most ``a.cdf_error + b.cdf_error`` (each CDF is within its bound
    everywhere and the supremum between points is reached within one gap).
    """
    _, ale, alt, ble, blt = _union_eval(a, b)
    d = max(float(np.max(np.abs(ale - ble))), float(np.max(np.abs(alt - blt))))
    return d, a.cdf_error + b.cdf_error


def wasserstein_1(a: NumericSketch, b: NumericSketch) -> float:
    """W1 = integral |F_a - F_b| dx with each CDF linear between its points.

    Exact (equal to ``scipy.stats.wasserstein_distance``) when both sketches are
    exact: the CDFs are then step functions, constant between union points.
    """
    u, ale, alt, ble, blt = _union_eval(a, b)
    if u.size < 2:
        return 0.0
    w = np.diff(u)
    d0 = (ale - ble)[:-1]  # just right of u_k
    d1 = (alt - blt)[1:]  # just left of u_{k+1}
    a0, a1 = np.abs(d0), np.abs(d1)
    same = d0 * d1 >= 0
    tot = a0 + a1
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = np.where(tot > 0, (d0 * d0 + d1 * d1) / (2 * tot), 0.0)
    seg = np.where(same, (a0 + a1) / 2, cross)
    return float(np.sum(w * seg))
