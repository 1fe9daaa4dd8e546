"""SQL pushdown (``profile_sql``) on real SQLite and PostgreSQL, against pulling the same data.

Every comparison loads one DataFrame into the database, profiles it there with
``profile_sql`` and compares with ``data_drift(reference_profile, pulled)``
where ``pulled`` is the table read back with pandas.  Tolerances are the
engine's documented ones (README, "Accuracy"): categorical counts and the
binned methods exact (rel 1e-9), KS within the reported error bounds,
Wasserstein within 1 % relative (2e-4 std absolute for noise-level values),
identical decisions.

PostgreSQL comes from ``devtools.pg_server.local_postgres`` (a throwaway
server, or ``DRIFT_TEST_POSTGRES_URI``); when it cannot be started the
PostgreSQL tests fail if ``CI`` is set and are skipped otherwise.
"""

from __future__ import annotations

import io
import json
import math
import os
import sqlite3
import warnings
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from airflow_drift_provider.drift import (
    ReferenceProfile,
    SqlDialect,
    build_profile,
    data_drift,
    get_dialect,
    merge_profiles,
    profile_sql,
    register_dialect,
)
from airflow_drift_provider.drift._tables import category_label
from airflow_drift_provider.drift.pushdown import GenericDialect, PostgresDialect, SqliteDialect
from tests.helpers import assert_plain_json

BINNED = ("psi", "jensenshannon", "hellinger", "chi2")


# ------------------------------------------------------------------ servers
@pytest.fixture(scope="session")
def pg_uri():
    cm = None
    try:
        import psycopg2

        from devtools.pg_server import local_postgres

        cm = local_postgres()
        uri = cm.__enter__()
        psycopg2.connect(uri, connect_timeout=10).close()
    except Exception as exc:  # binaries or driver missing, server does not start or does not answer
        if cm is not None:
            cm.__exit__(None, None, None)
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but could not be started: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield uri
    cm.__exit__(None, None, None)


class Backend:
    name: str
    placeholder: str

    def __init__(self, conn):
        self.conn = conn

    def pull(self, sql: str, params=()) -> pd.DataFrame:
        """The table as the engine would see it pulled through pandas."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas warns about non-SQLAlchemy DB-API connections
            return pd.read_sql(sql, self.conn, params=list(params) or None)

    def count(self, table: str) -> int:
        cur = self.conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        (n,) = cur.fetchone()
        cur.close()
        return int(n)


class SqliteBackend(Backend):
    name = "sqlite"
    placeholder = "?"

    def load(self, table: str, df: pd.DataFrame, types: dict | None = None) -> None:
        df.to_sql(table, self.conn, index=False, if_exists="replace")


def _pg_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(s.dtype):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "timestamp"
    return "text"


def _pg_value(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _csv_field(v) -> str:
    """CSV for COPY: NULL is an unquoted empty field, strings are quoted (so "" is an empty string)."""
    if v is None:
        return ""
    if isinstance(v, str) and not isinstance(v, bool):
        return '"' + v.replace('"', '""') + '"'
    return str(v)


class PostgresBackend(Backend):
    name = "postgres"
    placeholder = "%s"

    def load(self, table: str, df: pd.DataFrame, types: dict | None = None) -> None:
        """CREATE TABLE + COPY FROM STDIN (csv); NaN stays NaN, None becomes NULL."""
        from psycopg2 import sql as psql

        types = types or {}
        cur = self.conn.cursor()
        cur.execute(psql.SQL("DROP TABLE IF EXISTS {}").format(psql.Identifier(table)))
        cols = psql.SQL(", ").join(
            psql.SQL("{} {}").format(psql.Identifier(str(c)), psql.SQL(types.get(c) or _pg_type(df[c])))
            for c in df.columns
        )
        cur.execute(psql.SQL("CREATE TABLE {} ({})").format(psql.Identifier(table), cols))
        buf = io.StringIO()
        objs = [df[c].astype(object).tolist() for c in df.columns]
        for row in zip(*objs, strict=True):
            buf.write(",".join(_csv_field(_pg_value(v)) for v in row) + "\n")
        buf.seek(0)
        copy = psql.SQL("COPY {} FROM STDIN WITH (FORMAT csv)").format(psql.Identifier(table))
        cur.copy_expert(copy.as_string(self.conn), buf)
        self.conn.commit()
        cur.close()


@pytest.fixture
def sqlite_db(tmp_path):
    conn = sqlite3.connect(tmp_path / "drift.db")
    yield SqliteBackend(conn)
    conn.close()


@pytest.fixture
def pg_db(pg_uri):
    import psycopg2

    conn = psycopg2.connect(pg_uri)
    yield PostgresBackend(conn)
    conn.rollback()
    conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db(request):
    return request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "pg_db")


# ------------------------------------------------------------------ helpers
def _frame(n: int, seed: int, shift: float = 0.0, scale: float = 1.0) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "normal": r.normal(shift, scale, n),
            "lognormal": r.lognormal(shift / 2, scale, n),
            "ints": r.integers(0, 20, n),
            "big_ints": r.integers(-(10**9), 10**9, n),
            "cat": r.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "const": np.full(n, 2.5),
        }
    )


def _report(reference: ReferenceProfile, current, **kw) -> dict:
    rep = data_drift(reference, current, **kw)
    assert_plain_json(rep)
    json.dumps(rep, allow_nan=False)
    return rep


def _assert_profiles_match(push: ReferenceProfile, pulled: ReferenceProfile, *, exact: bool = False) -> None:
    assert push.rows == pulled.rows
    assert list(push.columns) == [c for c in pulled.columns if c in push.columns]
    for name, a in push.columns.items():
        b = pulled.columns[name]
        assert (a.kind, a.rows, a.nulls, a.pos_inf, a.neg_inf, a.valid) == (
            b.kind,
            b.rows,
            b.nulls,
            b.pos_inf,
            b.neg_inf,
            b.valid,
        ), name
        if a.kind == "numerical":
            sa, sb = a.sketch, b.sketch
            assert (sa.min, sa.max) == (sb.min, sb.max), name
            assert sa.mean == pytest.approx(sb.mean, rel=1e-9, abs=1e-12), name
            assert sa.std == pytest.approx(sb.std, rel=1e-9, abs=1e-12), name
            assert sa.rank_error == 0
            if exact or sb.exact:
                assert sa.exact, name
                np.testing.assert_array_equal(sa.points, sb.points)
                np.testing.assert_array_equal(sa.le, sb.le)
                np.testing.assert_array_equal(sa.lt, sb.lt)
        elif a.kind == "categorical":
            assert a.counts == b.counts, name
            assert (a.other_count, a.other_distinct, a.from_numbers) == (
                b.other_count,
                b.other_distinct,
                b.from_numbers,
            ), name


def _assert_reports_match(push: dict, pulled: dict, exact_values: dict[str, np.ndarray] | None = None) -> None:
    assert push["current"]["source"] == "profile" and pulled["current"]["source"] == "data"
    assert push["current"]["rows"] == pulled["current"]["rows"]
    for key in ("drifted_columns", "missing_columns", "problem_columns", "dataset_drift"):
        assert push["summary"][key] == pulled["summary"][key], key
    for name, a in push["columns"].items():
        b = pulled["columns"][name]
        assert (a["status"], a["drifted"], a["drift_method"]) == (b["status"], b["drifted"], b["drift_method"]), name
        assert a["null_share"] == b["null_share"], name
        assert set(a["methods"]) == set(b["methods"]), name
        for m, ra in a["methods"].items():
            rb = b["methods"][m]
            if m in BINNED:
                assert ra["statistic"] == pytest.approx(rb["statistic"], rel=1e-9, abs=1e-15), (name, m)
            elif m == "ks":
                tol = ra["error_bound"] + rb["error_bound"] + 1e-12
                assert abs(ra["statistic"] - rb["statistic"]) <= tol, (name, ra, rb)
                assert ra["error_bound"] <= 0.005, (name, ra)
                if exact_values is not None and name in exact_values:
                    ref_v, cur_v = exact_values[name]
                    exact = stats.ks_2samp(ref_v, cur_v, method="asymp").statistic
                    assert abs(ra["statistic"] - exact) <= ra["error_bound"] + 1e-12, (name, ra, exact)
            elif m == "wasserstein":
                if ra["statistic"] is None:
                    assert rb["statistic"] is None
                else:
                    # 1 % relative; at noise level 3e-4 std absolute: the reference sketch's own interpolation
                    # error, which a pulled current sketch with the very same points can cancel exactly
                    assert ra["statistic"] == pytest.approx(rb["statistic"], rel=0.01, abs=3e-4), (name, ra, rb)
        if a["status"] in ("ok", "constant") and a["type"] == "numerical":
            assert a["bin_edges"] == b["bin_edges"]
            np.testing.assert_allclose(a["current_distribution"], b["current_distribution"], rtol=1e-12, atol=1e-15)


def _anchors(reference: ReferenceProfile) -> dict:
    return {n: c.sketch.points for n, c in reference.columns.items() if c.kind == "numerical" and c.sketch is not None}


def _keep(reference: ReferenceProfile) -> dict:
    return {n: set(c.counts) for n, c in reference.columns.items() if c.kind == "categorical"}


def _pulled_profile(reference: ReferenceProfile, df: pd.DataFrame, **kw) -> ReferenceProfile:
    """What data_drift builds internally from pulled data."""
    cats = {n for n, c in reference.columns.items() if c.kind == "categorical"}
    return build_profile(df, categorical=cats, _anchors=_anchors(reference), _keep_categories=_keep(reference), **kw)


# ================================================================== numbers
def test_numeric_and_categorical_match_pulled(db):
    ref_df = _frame(60_000, seed=1)
    cur_df = _frame(40_000, seed=2, shift=0.15)
    cur_df.loc[::91, "normal"] = np.nan  # NULLs (and NaN in PostgreSQL)
    cur_df.loc[::97, "lognormal"] = np.nan
    cur_df.loc[5, "lognormal"] = np.inf
    cur_df.loc[6, "lognormal"] = -np.inf
    cur_df.loc[3::113, "cat"] = None
    reference = build_profile(ref_df)
    db.load("events", cur_df)
    current = profile_sql(db.conn, "events", reference, dialect=db.name)
    pulled = db.pull("SELECT * FROM events")
    _assert_profiles_match(current, _pulled_profile(reference, pulled))
    assert current.columns["ints"].sketch.exact  # 20 distinct values: exact, as the engine's
    assert current.columns["lognormal"].pos_inf == 1 and current.columns["lognormal"].neg_inf == 1
    exact = {
        c: (ref_df[c].to_numpy(float), pulled[c].to_numpy(float)[np.isfinite(pulled[c].to_numpy(float))])
        for c in ("normal", "lognormal", "big_ints")
    }
    rep_push = _report(reference, current)
    rep_pull = _report(reference, pulled)
    _assert_reports_match(rep_push, rep_pull, exact)
    assert rep_push["summary"]["drifted_columns"] == ["normal"]
    assert rep_push["columns"]["const"]["status"] == "constant"
    # only O(thresholds x columns) numbers left the database
    meta = current.metadata
    assert meta["source"] == "sql_pushdown" and meta["dialect"] == db.name
    assert meta["rows_returned"] < 5 * sum(c.sketch.points.size for c in reference.columns.values() if c.sketch)


def test_nan_and_infinities_in_postgres(pg_db):
    r = np.random.default_rng(3)
    ref_df = pd.DataFrame({"x": r.normal(size=30_000)})
    x = r.normal(size=20_000)
    x[:50] = np.nan
    x[50:60] = np.inf
    x[60:63] = -np.inf
    cur_df = pd.DataFrame({"x": x, "y": pd.Series([None] * 20_000, dtype=object)})
    pg_db.load("nan_inf", cur_df, {"y": "double precision"})
    cur = pg_db.conn.cursor()
    cur.execute("SELECT COUNT(*) FROM nan_inf WHERE x = 'NaN'")
    assert cur.fetchone()[0] == 50  # real NaN values, not NULLs
    reference = build_profile(pd.DataFrame({"x": ref_df["x"], "y": r.normal(size=30_000)}))
    current = profile_sql(pg_db.conn, "nan_inf", reference)  # dialect from the psycopg2 connection
    col = current.columns["x"]
    assert (col.nulls, col.pos_inf, col.neg_inf, col.valid) == (50, 10, 3, 19_937)
    assert current.columns["y"].kind is None and current.columns["y"].nulls == 20_000
    pulled = pg_db.pull("SELECT * FROM nan_inf")
    rep = _report(reference, current)
    _assert_reports_match(rep, _report(reference, pulled))
    assert rep["columns"]["y"]["status"] == "all_null"
    assert rep["columns"]["x"]["current"]["infinite"] == 13


@pytest.mark.parametrize("n", [7, 300, 9_000])
def test_small_data_is_exactly_the_pulled_answer(db, n):
    r = np.random.default_rng(n)
    ref_df = pd.DataFrame({"x": r.normal(size=5_000), "k": r.integers(0, 5, 5_000), "c": r.choice(list("pqr"), 5_000)})
    cur_df = pd.DataFrame({"x": r.normal(0.2, 1, n), "k": r.integers(0, 6, n), "c": r.choice(list("pqrs"), n)})
    reference = build_profile(ref_df)
    db.load("small", cur_df)
    current = profile_sql(db.conn, "small", reference, dialect=db.name)
    pulled = db.pull("SELECT * FROM small")
    _assert_profiles_match(current, _pulled_profile(reference, pulled), exact=True)
    a, b = _report(reference, current), _report(reference, pulled)
    for name in ("x", "k", "c"):
        ma, mb = a["columns"][name]["methods"], b["columns"][name]["methods"]
        assert set(ma) == set(mb)
        for m in ma:
            for key, va in ma[m].items():
                vb = mb[m][key]
                assert va == pytest.approx(vb, rel=1e-9, abs=1e-12) if isinstance(va, float) else va == vb, (
                    name,
                    m,
                    key,
                )
    assert a["columns"]["x"]["methods"]["ks"]["error_bound"] == 0.0  # scipy's exact ks_2samp, as pulled


def test_large_table_only_thresholds_leave_the_database(pg_db):
    """200k rows x 4 numeric columns: the rows returned do not grow with the table."""
    ref_df = _frame(100_000, seed=4)[["normal", "lognormal", "big_ints"]]
    reference = build_profile(ref_df)
    sizes = {}
    for n in (20_000, 200_000):
        cur_df = _frame(n, seed=5, shift=0.02)[["normal", "lognormal", "big_ints"]]
        cur_df["scaled"] = cur_df["normal"] * 1e6 + 3e9
        ref = build_profile(pd.concat([ref_df, (ref_df["normal"] * 1e6 + 3e9).rename("scaled")], axis=1))
        pg_db.load(f"big_{n}", cur_df)
        current = profile_sql(pg_db.conn, f"big_{n}", ref)
        sizes[n] = current.metadata["rows_returned"]
        pulled = pg_db.pull(f"SELECT * FROM big_{n}")
        _assert_profiles_match(current, _pulled_profile(ref, pulled))
        ref_values = {c: ref_df[c].to_numpy(float) for c in ref_df.columns}
        ref_values["scaled"] = ref_values["normal"] * 1e6 + 3e9
        exact = {c: (ref_values[c], pulled[c].to_numpy(float)) for c in cur_df.columns}
        _assert_reports_match(_report(ref, current), _report(ref, pulled), exact)
        points = sum(c.sketch.points.size for c in ref.columns.values())
        assert sizes[n] <= 2 * (2 * points) + 20  # <= one row per threshold and interval, per column
    assert sizes[200_000] < 1.3 * sizes[20_000]
    assert sizes[200_000] < 0.05 * 200_000 * 4  # vs 800k values pulled
    assert reference.columns["normal"].sketch is not None


def test_sqlite_large_table(sqlite_db):
    ref_df = _frame(80_000, seed=6)
    cur_df = _frame(120_000, seed=7, shift=0.05, scale=1.1)
    reference = build_profile(ref_df)
    sqlite_db.load("big", cur_df)
    current = profile_sql(sqlite_db.conn, "big", reference)
    pulled = sqlite_db.pull("SELECT * FROM big")
    _assert_profiles_match(current, _pulled_profile(reference, pulled))
    exact = {c: (ref_df[c].to_numpy(float), pulled[c].to_numpy(float)) for c in ("normal", "lognormal", "big_ints")}
    _assert_reports_match(_report(reference, current), _report(reference, pulled), exact)


@pytest.mark.parametrize("shift", [3.0, 12.0, -40.0])
def test_strong_drift_refines_thresholds(db, shift):
    """Current data mostly outside the reference's range: extra thresholds keep KS/W accurate."""
    r = np.random.default_rng(8)
    ref_df = pd.DataFrame({"x": r.normal(size=40_000), "w": r.exponential(size=40_000)})
    cur_df = pd.DataFrame({"x": r.normal(shift, 2.0, 30_000), "w": r.exponential(abs(shift), 30_000)})
    reference = build_profile(ref_df)
    db.load("moved", cur_df)
    current = profile_sql(db.conn, "moved", reference, dialect=db.name)
    assert set(current.metadata["refined_columns"]) == {"x", "w"}
    pulled = db.pull("SELECT * FROM moved")
    exact = {c: (ref_df[c].to_numpy(float), pulled[c].to_numpy(float)) for c in ("x", "w")}
    rep = _report(reference, current)
    _assert_reports_match(rep, _report(reference, pulled), exact)
    for c in ("x", "w"):
        w = rep["columns"][c]["methods"]["wasserstein"]["distance"]
        assert w == pytest.approx(stats.wasserstein_distance(*exact[c]), rel=0.01)
    without = profile_sql(db.conn, "moved", reference, dialect=db.name, refine_rounds=0)
    assert without.columns["x"].sketch.cdf_error >= current.columns["x"].sketch.cdf_error


def test_low_cardinality_large_column_is_exact(db):
    """Few distinct values: every value sits on a threshold (or alone in an interval), so the sketch is exact."""
    r = np.random.default_rng(9)
    ref_df = pd.DataFrame(
        {
            "k": np.minimum(r.poisson(3.0, 40_000), 9),
            "half": r.integers(0, 400, 40_000) / 2,
            "new": r.poisson(3, 40_000),
        }
    )
    cur_df = pd.DataFrame(
        {
            "k": np.minimum(r.poisson(3.6, 50_000), 9),
            "half": r.integers(0, 400, 50_000) / 2,
            "new": r.poisson(3.6, 50_000),  # values beyond the reference's maximum
        }
    )
    reference = build_profile(ref_df)
    db.load("counts", cur_df)
    current = profile_sql(db.conn, "counts", reference, dialect=db.name)
    pulled = db.pull("SELECT * FROM counts")
    expected = _pulled_profile(reference, pulled)
    _assert_profiles_match(current, expected)
    for c in ("k", "half"):
        a, b = current.columns[c].sketch, expected.columns[c].sketch
        assert a.exact and b.exact
        for key in ("points", "le", "lt"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
        assert (a.mean, a.m2) == pytest.approx((b.mean, b.m2), rel=1e-12)  # up to the last bits
    new = current.columns["new"].sketch
    beyond = int((cur_df["new"] > ref_df["new"].max()).sum())
    assert new.cdf_error <= beyond / len(cur_df)  # only the values beyond the reference's maximum are interpolated
    _assert_reports_match(_report(reference, current), _report(reference, pulled))


# ============================================================== categories
def test_categorical_counts_and_unseen_categories(db):
    r = np.random.default_rng(10)
    ref_df = pd.DataFrame({"color": r.choice(["red", "green", "blue"], 20_000, p=[0.5, 0.3, 0.2])})
    cur = r.choice(["red", "green", "blue", "mauve", "teal", "ümlaut ✓"], 30_000, p=[0.4, 0.3, 0.1, 0.1, 0.05, 0.05])
    cur_df = pd.DataFrame({"color": pd.Series(cur, dtype=object)})
    cur_df.loc[::50, "color"] = None
    cur_df.loc[1::77, "color"] = ""  # an empty string is a category, not a null
    reference = build_profile(ref_df)
    db.load("colors", cur_df)
    current = profile_sql(db.conn, "colors", reference, dialect=db.name)
    pulled = db.pull("SELECT * FROM colors")
    _assert_profiles_match(current, _pulled_profile(reference, pulled))
    a, b = _report(reference, current), _report(reference, pulled)
    _assert_reports_match(a, b)
    ca, cb = a["columns"]["color"], b["columns"]["color"]
    for key in ("unseen_categories", "unseen_count", "unseen_share", "missing_categories", "category_shares"):
        assert ca[key] == cb[key], key
    assert set(ca["unseen_categories"]) == {"mauve", "teal", "ümlaut ✓", ""}
    assert a["columns"]["color"]["drifted"] is True


@pytest.mark.parametrize("max_categories", [5, 40, 10_000])
def test_many_categories_capped_like_the_engine(db, max_categories):
    r = np.random.default_rng(11)
    ref_labels = [f"r{i:03d}" for i in range(60)]
    cur_labels = ref_labels[:45] + [f"n{i:03d}" for i in range(300)]
    ref_df = pd.DataFrame({"c": r.choice(ref_labels, 30_000)})
    # many ties (counts 1..3) so that the order of equal counts (by label) matters
    cur = list(r.choice(cur_labels[:100], 20_000)) + cur_labels + cur_labels[::3]
    cur_df = pd.DataFrame({"c": cur})
    reference = build_profile(ref_df, max_categories=max_categories)
    db.load("many", cur_df)
    current = profile_sql(db.conn, "many", reference, dialect=db.name, max_categories=max_categories)
    pulled = db.pull("SELECT * FROM many")
    expected = _pulled_profile(reference, pulled, max_categories=max_categories)
    _assert_profiles_match(current, expected)
    col = current.columns["c"]
    if max_categories < 345:
        assert col.other_count > 0 and col.other_distinct > 0
        assert set(reference.columns["c"].counts) & set(cur_labels) <= set(col.counts)  # every reference category
    # the COUNT(*) row, at most max_categories + (reference categories) top rows, the other reference categories
    assert current.metadata["rows_returned"] <= 1 + max_categories + 2 * len(reference.columns["c"].counts)
    _assert_reports_match(_report(reference, current), _report(reference, pulled))


def test_forced_categorical_numbers_and_booleans(db):
    r = np.random.default_rng(12)
    ref_df = pd.DataFrame({"code": r.integers(0, 6, 5_000), "flag": r.random(5_000) < 0.3})
    cur_df = pd.DataFrame({"code": r.integers(0, 8, 4_000), "flag": r.random(4_000) < 0.5})
    reference = build_profile(ref_df, categorical=["code"])
    assert reference.columns["code"].kind == "categorical" and reference.columns["flag"].kind == "categorical"
    db.load("codes", cur_df)
    current = profile_sql(db.conn, "codes", reference, dialect=db.name)
    pulled = db.pull("SELECT * FROM codes")
    _assert_profiles_match(current, _pulled_profile(reference, pulled))
    a, b = _report(reference, current), _report(reference, pulled)
    _assert_reports_match(a, b)
    assert set(current.columns["code"].counts) == {str(i) for i in range(8)}
    assert current.columns["code"].from_numbers
    if db.name == "postgres":  # a real boolean column: labels True/False, as pandas pulls it
        assert set(current.columns["flag"].counts) == {"True", "False"}
        assert a["columns"]["flag"]["status"] == "ok"
    else:  # SQLite stores booleans as 0/1 integers: numbers now, text categories in the reference (documented)
        assert a["columns"]["flag"]["status"] == b["columns"]["flag"]["status"] == "type_mismatch"


def test_float_labels_match_the_engine(db):
    """Forced-categorical float columns: the database builds the engine's canonical labels."""
    r = np.random.default_rng(13)
    values = np.concatenate(
        [
            r.normal(size=300),
            np.round(r.normal(size=100), 2),
            np.arange(-20.0, 20.0),
            [0.1 + 0.2, 1 / 3, 2 / 3, 1e-7, 3.5e-5, 1e-300, 123456.789, 2.0**60, 1e16, 1e22, -0.0, 1e300],
            r.lognormal(5, 3, 100),
        ]
    )
    known = (np.abs(values) >= 1e15) & (np.abs(values) < 1e16)  # documented exponent-threshold difference
    values = values[~known]
    ref_df = pd.DataFrame({"f": values})
    reference = build_profile(ref_df, categorical=["f"])
    db.load("floats", ref_df)
    current = profile_sql(db.conn, "floats", reference, dialect=db.name)
    expected = {category_label(v) for v in db.pull("SELECT * FROM floats")["f"].tolist()}
    assert set(current.columns["f"].counts) == expected
    assert current.columns["f"].counts == reference.columns["f"].counts


# ============================================================== where, names
def test_where_clause_with_bound_parameters(db):
    r = np.random.default_rng(14)
    n = 30_000
    df = pd.DataFrame(
        {"day": r.choice(["2026-12-01", "2026-12-02", "x'; DROP TABLE part; --"], n), "v": r.normal(size=n)}
    )
    df.loc[df["day"] == "2026-12-02", "v"] += 0.5
    reference = build_profile(df[df["day"] == "2026-12-01"][["v"]])
    db.load("part", df)
    ph = db.placeholder
    for day in ("2026-12-01", "2026-12-02", "x'; DROP TABLE part; --"):
        current = profile_sql(db.conn, "part", reference, dialect=db.name, where=f"day = {ph}", parameters=[day])
        pulled = db.pull(f"SELECT v FROM part WHERE day = {ph}", [day])
        assert current.rows == len(pulled)
        assert current.metadata["where"] == f"day = {ph}"
        _assert_profiles_match(current, _pulled_profile(reference, pulled))
        _assert_reports_match(_report(reference, current), _report(reference, pulled))
    # named parameters (the driver's named style) work too
    named = ":d" if db.name == "sqlite" else "%(d)s"
    a = profile_sql(db.conn, "part", reference, dialect=db.name, where=f"day = {named}", parameters={"d": "2026-12-02"})
    b = profile_sql(db.conn, "part", reference, dialect=db.name, where=f"day = {ph}", parameters=["2026-12-02"])
    assert a.columns["v"].to_dict() == b.columns["v"].to_dict()
    assert db.count("part") == n


def test_missing_and_extra_columns(db):
    r = np.random.default_rng(15)
    ref_df = pd.DataFrame({"a": r.normal(size=2_000), "gone": r.normal(size=2_000), "c": r.choice(list("xy"), 2_000)})
    cur_df = pd.DataFrame({"a": r.normal(size=3_000), "c": r.choice(list("xy"), 3_000), "new": r.normal(size=3_000)})
    reference = build_profile(ref_df)
    db.load("cols", cur_df)
    current = profile_sql(db.conn, "cols", reference, dialect=db.name)
    assert list(current.columns) == ["a", "c"]
    assert current.metadata["columns_not_in_reference"] == ["new"]
    rep = _report(reference, current)
    assert rep["columns"]["gone"]["status"] == "missing"
    assert rep["summary"]["missing_columns"] == ["gone"]
    only = profile_sql(db.conn, "cols", reference, dialect=db.name, columns=["c"])
    assert list(only.columns) == ["c"]
    with pytest.raises(ValueError, match="not in the reference"):
        profile_sql(db.conn, "cols", reference, dialect=db.name, columns=["new"])


def test_text_where_the_reference_has_numbers_is_a_type_mismatch(db):
    r = np.random.default_rng(16)
    reference = build_profile(pd.DataFrame({"v": r.normal(size=1_000), "ok": r.normal(size=1_000)}))
    cur_df = pd.DataFrame({"v": r.choice(["low", "high"], 800), "ok": r.normal(size=800)})
    db.load("mism", cur_df)
    current = profile_sql(db.conn, "mism", reference, dialect=db.name)
    rep = _report(reference, current)
    pulled = _report(reference, db.pull("SELECT * FROM mism"))
    assert rep["columns"]["v"]["status"] == pulled["columns"]["v"]["status"] == "type_mismatch"
    assert rep["columns"]["ok"]["status"] == "ok"


def test_sqlite_mixed_numbers_and_text(sqlite_db):
    r = np.random.default_rng(17)
    reference = build_profile(pd.DataFrame({"v": r.normal(size=1_000)}))
    cur = sqlite_db.conn.cursor()
    cur.execute('CREATE TABLE mixed ("v")')
    cur.executemany("INSERT INTO mixed VALUES (?)", [(float(x),) for x in r.normal(size=500)] + [("n/a",)] * 20)
    sqlite_db.conn.commit()
    current = profile_sql(sqlite_db.conn, "mixed", reference)
    assert current.columns["v"].kind == "categorical" and current.columns["v"].mixed
    pulled = sqlite_db.pull("SELECT * FROM mixed")
    a, b = _report(reference, current), _report(reference, pulled)
    assert a["columns"]["v"]["status"] == b["columns"]["v"]["status"] == "type_mismatch"
    assert a["columns"]["v"].get("warnings") == b["columns"]["v"].get("warnings")


HOSTILE = ['a"; DROP TABLE t; --', "größe ✓ 列", "with space", "MiXeD", "semi;colon", "per%cent %s", "'quote'"]


def test_hostile_and_unicode_identifiers(db):
    r = np.random.default_rng(18)
    ref_df = pd.DataFrame({name: r.normal(i, 1, 3_000) for i, name in enumerate(HOSTILE)})
    ref_df["cat ✓"] = r.choice(["ä", "b"], 3_000)
    cur_df = pd.DataFrame({name: r.normal(i, 1, 12_000) for i, name in enumerate(HOSTILE)})
    cur_df["cat ✓"] = r.choice(["ä", "b", "ç"], 12_000)
    reference = build_profile(ref_df)
    table = 't"; DROP TABLE t; --'
    db.load(table, cur_df)
    current = profile_sql(db.conn, (table,), reference, dialect=db.name)
    assert list(current.columns) == [*HOSTILE, "cat ✓"]
    quoted = db_dialect(db).quote_identifier(table)
    pulled = db.pull(f"SELECT * FROM {quoted.replace('%', '%%') if db.name == 'postgres' else quoted}")
    _assert_profiles_match(current, _pulled_profile(reference, pulled))
    assert db.count(quoted.replace("%", "%%") if db.name == "postgres" else quoted) == 12_000  # still there
    rep = _report(reference, current)
    assert rep["summary"]["missing_columns"] == []


def db_dialect(db) -> SqlDialect:
    return get_dialect(db.name)


def test_schema_qualified_tables(pg_db):
    cur = pg_db.conn.cursor()
    cur.execute('DROP SCHEMA IF EXISTS "odd.schema" CASCADE')
    cur.execute('CREATE SCHEMA "odd.schema"')
    cur.execute('CREATE TABLE "odd.schema"."t.v2" (x double precision)')
    cur.execute('INSERT INTO "odd.schema"."t.v2" SELECT g FROM generate_series(1, 500) g')
    cur.execute("DROP TABLE IF EXISTS public.plain")
    cur.execute("CREATE TABLE public.plain (x double precision)")
    cur.execute("INSERT INTO public.plain SELECT g FROM generate_series(1, 50) g")
    pg_db.conn.commit()
    reference = build_profile(pd.DataFrame({"x": np.arange(1.0, 501.0)}))
    assert profile_sql(pg_db.conn, ("odd.schema", "t.v2"), reference).rows == 500
    assert profile_sql(pg_db.conn, ["odd.schema", "t.v2"], reference).rows == 500
    assert profile_sql(pg_db.conn, "public.plain", reference).rows == 50
    assert PostgresDialect().quote_table("a.b") == '"a"."b"'
    assert PostgresDialect().quote_table(("a.b", 'c"d')) == '"a.b"."c""d"'


def test_bad_identifiers_raise_value_error(sqlite_db):
    pg, lite = PostgresDialect(), SqliteDialect()
    for d in (pg, lite, GenericDialect()):
        for bad in ("", "nul\x00byte", 3, None):
            with pytest.raises(ValueError):
                d.quote_identifier(bad)
        with pytest.raises(ValueError):
            d.quote_table(("a", ""))
        with pytest.raises(ValueError):
            d.quote_table(())
    assert pg.quote_identifier("x" * 63) == '"' + "x" * 63 + '"'
    with pytest.raises(ValueError, match="63 bytes"):
        pg.quote_identifier("x" * 64)
    with pytest.raises(ValueError, match="63 bytes"):
        pg.quote_identifier("ä" * 32)  # 64 bytes in UTF-8
    assert lite.quote_identifier("x" * 500).startswith('"x')
    assert lite.quote_identifier('a"b') == '"a""b"'
    reference = build_profile(pd.DataFrame({"x": np.arange(10.0)}))
    sqlite_db.load("t", pd.DataFrame({"x": np.arange(10.0)}))
    with pytest.raises(ValueError, match="NUL"):
        profile_sql(sqlite_db.conn, "bad\x00name", reference)
    with pytest.raises(ValueError, match="NUL"):
        profile_sql(sqlite_db.conn, "t", build_profile(pd.DataFrame({"x\x00y": np.arange(10.0)})))
    with pytest.raises(ValueError, match="63 bytes"):
        profile_sql(sqlite_db.conn, "t" * 64, reference, dialect="postgres")


def test_bad_arguments_raise_value_error(sqlite_db):
    sqlite_db.load("t", pd.DataFrame({"x": np.arange(10.0)}))
    reference = build_profile(pd.DataFrame({"x": np.arange(10.0)}))
    conn = sqlite_db.conn
    with pytest.raises(ValueError, match="ReferenceProfile"):
        profile_sql(conn, "t", pd.DataFrame({"x": [1.0]}))
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        profile_sql(conn, "t", reference, dialect="oracle9")
    with pytest.raises(ValueError, match="max_categories"):
        profile_sql(conn, "t", reference, max_categories=0)
    with pytest.raises(ValueError, match="refine_rounds"):
        profile_sql(conn, "t", reference, refine_rounds=-1)
    with pytest.raises(ValueError, match="subdivide"):
        profile_sql(conn, "t", reference, subdivide=True)
    with pytest.raises(ValueError, match="no where"):
        profile_sql(conn, "t", reference, parameters=[1])
    with pytest.raises(ValueError, match="sequence or a mapping"):
        profile_sql(conn, "t", reference, where="x > ?", parameters="1")
    with pytest.raises(ValueError, match="_drift_p"):
        profile_sql(conn, "t", reference, where="x > :_drift_p0", parameters={"_drift_p0": 1})
    with pytest.raises(ValueError, match="where"):
        profile_sql(conn, "t", reference, where="  ")
    with pytest.raises(ValueError, match="columns"):
        profile_sql(conn, "t", reference, columns="x")
    with pytest.raises(ValueError, match="cannot tell the SQL dialect"):
        profile_sql(object(), "t", reference)


def test_dialect_registry_and_a_custom_dialect(sqlite_db):
    assert isinstance(get_dialect("postgres"), PostgresDialect)
    assert get_dialect("PostgreSQL") is get_dialect("postgres")
    assert get_dialect("postgresql+psycopg2") is get_dialect("postgres")
    assert isinstance(get_dialect("sqlite"), SqliteDialect)
    mine = SqliteDialect()
    assert get_dialect(mine) is mine
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        get_dialect("nope")
    with pytest.raises(ValueError):
        register_dialect("", SqliteDialect())
    with pytest.raises(ValueError):
        register_dialect("x", object())

    class TinyGeneric(GenericDialect):
        """ANSI SQL with a tiny parameter limit: the nested CASE is split across many statements."""

        name = "tiny"
        max_parameters = 40

        def limit_sql(self, n):  # SQLite has no FETCH FIRST
            return f"LIMIT {int(n)}"

    register_dialect("tiny", TinyGeneric)
    r = np.random.default_rng(19)
    ref_df = pd.DataFrame({"x": r.normal(size=20_000), "c": r.choice(list("abc"), 20_000)})
    cur_df = pd.DataFrame({"x": r.normal(0.1, 1, 15_000), "c": r.choice(list("abcd"), 15_000)})
    reference = build_profile(ref_df)
    sqlite_db.load("g", cur_df)
    tiny = profile_sql(sqlite_db.conn, "g", reference, dialect="tiny")
    lite = profile_sql(sqlite_db.conn, "g", reference, dialect="sqlite")
    assert tiny.metadata["dialect"] == "tiny" and tiny.metadata["queries"] > 100
    assert tiny.columns["x"].to_dict() == lite.columns["x"].to_dict()
    assert tiny.columns["c"].counts == lite.columns["c"].counts
    _assert_reports_match(_report(reference, tiny), _report(reference, cur_df))


def test_table_changing_between_statements_raises(sqlite_db):
    sqlite_db.load("live", pd.DataFrame({"x": np.random.default_rng(20).normal(size=20_000)}))
    reference = build_profile(pd.DataFrame({"x": np.random.default_rng(21).normal(size=20_000)}))

    class Appending:
        """A connection whose table grows after the COUNT(*) statement."""

        def __init__(self, conn):
            self.conn = conn

        def cursor(self):
            outer = self

            class Cur:
                def __init__(self):
                    self.c = outer.conn.cursor()

                def execute(self, sql, params=()):
                    self.c.execute(sql, params)
                    if sql.startswith("SELECT COUNT(*)"):
                        outer.conn.execute("INSERT INTO live VALUES (0.5)")

                def __getattr__(self, name):
                    return getattr(self.c, name)

            return Cur()

    with pytest.raises(RuntimeError, match="changed"):
        profile_sql(Appending(sqlite_db.conn), "live", reference, dialect="sqlite")


# ======================================================== profile as current
def test_data_drift_accepts_a_current_profile():
    r = np.random.default_rng(22)
    ref_df = pd.DataFrame(
        {"x": r.normal(size=20_000), "k": r.integers(0, 9, 20_000), "c": r.choice(list("abc"), 20_000)}
    )
    cur_df = pd.DataFrame(
        {"x": r.normal(0.1, 1, 9_000), "k": r.integers(0, 9, 9_000), "c": r.choice(list("abd"), 9_000)}
    )
    reference = build_profile(ref_df)
    current = _pulled_profile(reference, cur_df)
    a, b = _report(reference, current), _report(reference, cur_df)
    assert a["current"] == {"source": "profile", "rows": 9_000}
    assert b["current"] == {"source": "data", "rows": 9_000}
    assert b["reference"]["source"] == "profile"
    for name in ("x", "k", "c"):
        assert a["columns"][name]["methods"] == b["columns"][name]["methods"]
    assert a["summary"] == b["summary"]
    # merged partition profiles as the current side
    parts = [_pulled_profile(reference, cur_df.iloc[i : i + 3_000]) for i in range(0, 9_000, 3_000)]
    merged = _report(reference, merge_profiles(*parts))
    assert merged["current"]["rows"] == 9_000
    assert merged["summary"]["drifted_columns"] == b["summary"]["drifted_columns"]
    # kinds that disagree still get their statuses
    other = build_profile(pd.DataFrame({"x": r.choice(list("pq"), 100), "k": r.normal(size=100), "c": [None] * 100}))
    rep = _report(reference, other)
    assert rep["columns"]["x"]["status"] == "type_mismatch"
    assert rep["columns"]["k"]["status"] == "ok"  # numbers on both sides
    assert rep["columns"]["c"]["status"] == "all_null"
    with pytest.raises(ValueError, match="no common columns"):
        data_drift(reference, build_profile(pd.DataFrame({"zzz": [1.0, 2.0]})))


# ======================================================= PostgreSQL types
def test_postgres_column_types(pg_db):
    r = np.random.default_rng(23)
    n = 12_000
    base = datetime(2026, 1, 1)
    ts = [base + timedelta(seconds=float(s)) for s in r.uniform(0, 86400 * 30, n)]
    ref_df = pd.DataFrame(
        {
            "f4": r.normal(size=n).astype(np.float32).astype(np.float64),
            "dec": np.round(r.normal(100, 5, n), 2),
            "i2": r.integers(-100, 100, n),
            "ts": pd.to_datetime(ts),
        }
    )
    cur_df = ref_df.copy()
    cur_df["ts"] = cur_df["ts"] + pd.Timedelta(hours=1)
    types = {"f4": "real", "dec": "numeric(12, 2)", "i2": "smallint", "ts": "timestamp"}
    pg_db.load("types", cur_df, types)
    reference = build_profile(ref_df)
    current = profile_sql(pg_db.conn, "types", reference)
    assert all(c.kind == "numerical" for c in current.columns.values())
    cur = pg_db.conn.cursor()
    cur.execute("SELECT * FROM types")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    pulled = pd.DataFrame(
        {
            "f4": [row[names.index("f4")] for row in rows],
            "dec": [float(row[names.index("dec")]) for row in rows],  # Decimal -> float, as pyarrow converts it
            "i2": [row[names.index("i2")] for row in rows],
            "ts": pd.to_datetime([row[names.index("ts")] for row in rows]).as_unit("us"),
        }
    )
    _assert_profiles_match(current, _pulled_profile(reference, pulled))
    _assert_reports_match(_report(reference, current), _report(reference, pulled))
    assert current.columns["ts"].sketch.mean == pytest.approx(reference.columns["ts"].sketch.mean + 3600, rel=1e-12)


# ================================================================ devtools
def test_pg_server_uses_the_uri_from_the_environment(monkeypatch):
    from devtools import pg_server

    monkeypatch.setenv(pg_server.ENV_URI, "postgresql://someone@db.example:5432/x")
    with pg_server.local_postgres() as uri:
        assert uri == "postgresql://someone@db.example:5432/x"


def test_pg_server_without_binaries_raises_a_clear_error(monkeypatch):
    from devtools import pg_server

    monkeypatch.delenv(pg_server.ENV_URI, raising=False)
    monkeypatch.setenv(pg_server.ENV_BINDIR, "/nonexistent/bin")
    monkeypatch.setattr(pg_server.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(pg_server.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="PostgreSQL server binaries not found"), pg_server.local_postgres():
        pass


def test_pushdown_imports_no_airflow():
    import subprocess
    import sys

    code = (
        "import json, sys; from airflow_drift_provider.drift import profile_sql, get_dialect; get_dialect('sqlite'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'psycopg2'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
