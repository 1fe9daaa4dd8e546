"""SQL pushdown: profile the *current* data inside the database.

:func:`profile_sql` computes, with aggregate queries run by the database, the
per-column summaries the engine needs - row/null/infinity counts, moments,
minimum/maximum, exact counts of the values equal to and between a set of
thresholds, category counts - so that only O(thresholds x columns) numbers
leave the database, and returns them as a
:class:`~airflow_drift_provider.drift.profile.ReferenceProfile` of the
current data (a *current profile*) to compare with a stored reference::

    import sqlite3
    from airflow_drift_provider.drift import ReferenceProfile, data_drift, profile_sql

    reference = ReferenceProfile.load("reference.json")
    with sqlite3.connect("warehouse.db") as conn:
        current = profile_sql(conn, "events", reference, dialect="sqlite",
                              where="day = ?", parameters=["2026-12-01"])
    report = data_drift(reference, current)

No Airflow import: ``connection`` is a plain DB-API 2 connection (from a hook:
``hook.get_conn()``).  Only ``SELECT`` statements are run; nothing is
committed or rolled back.

How each reference column is summarised
=======================================

``SELECT COUNT(*)`` gives the rows.  Then, per column:

*Numerical* (the reference column is numerical): one scan,
``GROUP BY code`` where ``code`` says whether the value is NULL/NaN (null,
as in the engine), ``+inf``, ``-inf``, or which threshold it equals or which
interval between two thresholds it falls in (:meth:`SqlDialect.bucket_counts_sql`),
with ``COUNT(*)``, ``MIN``, ``MAX``, ``SUM(y)`` and ``SUM(y*y)`` per code,
``y = (x - c) / s`` with ``c``, ``s`` the reference mean and standard
deviation (shifted: no catastrophic cancellation; scaled: squares do not
overflow).  The thresholds are the reference's sketch points and
``subdivide`` equally spaced points inside each interval between them.  So
one scan gives the counts, moments, minimum and maximum and the exact
counts ``<`` and ``<=`` every threshold.  Then:

* at most ``reference.exact_limit`` finite values: ``SELECT x, COUNT(*) ...
  GROUP BY x`` (at most ``exact_limit`` rows) and the sketch is built from
  them exactly as the engine builds it from pulled values - small data give
  *exactly* the pulled answer (scipy's exact ``ks_2samp`` included);
* otherwise a :class:`~airflow_drift_provider.drift._sketch.NumericSketch`
  whose points are the thresholds inside ``[min, max]`` (exact ``le``/``lt``,
  ``rank_error`` 0), the minimum and maximum, and the value of every
  interval holding a single distinct value (exact too).  Between points the
  CDF is linear; the mass strictly between two points is known
  (``max_gap``), so ``cdf_error`` - and the KS ``error_bound`` of the
  report - bound the error honestly (the count at the minimum/maximum,
  when they are not thresholds, is part of the neighbouring gap).  Where an
  interval holds more than ``2 n / resolution`` values, or a wide interval
  holds mass (Wasserstein error above ``std_ref / resolution``), up to
  ``refine_rounds`` more scans add thresholds inside it (its inner
  minimum/maximum, which are data values, and equally spaced points).  A
  column whose values all sit on points (few distinct values) is an exact
  sketch, as the engine's would be.

  Consequences: the binned methods (``psi``, ``jensenshannon``,
  ``hellinger``) see exact counts at the reference quantiles and equal the
  pulled results; ``ks`` is within its reported ``error_bound`` of the exact
  statistic; ``wasserstein`` within the engine's sketch accuracy (README,
  "Accuracy"); mean/std agree to ~1e-12 relative.

*Categorical* (the reference column is categorical): ``SELECT label,
COUNT(*) ... GROUP BY label`` with ``label`` the engine's canonical category
string computed in SQL (:meth:`SqlDialect.label_sql`), ordered by count and
label (code-point order, like Python), at most ``max_categories`` +
(reference categories) rows; every category when there are at most
``max_categories``, otherwise every reference category present plus the
most frequent others up to ``max_categories`` - the engine's rule - the rest
folded into ``other_count``/``other_distinct``.  Counts are exact.

A reference-numerical column the database holds as text or boolean (or, in
SQLite, as text mixed with numbers) is summarised as categories, so
``data_drift`` reports ``type_mismatch`` as it would for pulled data.
Reference columns absent from the table are left out (``data_drift`` then
reports them ``missing``); table columns absent from the reference are
listed in ``metadata["columns_not_in_reference"]`` but not profiled.

Dialect notes (value conventions compared with pulling the data)
=================================================================

* PostgreSQL: integer, float and ``numeric`` columns are numbers
  (``numeric`` as ``float8``, as pyarrow converts decimals - pandas would
  keep ``Decimal`` objects, which the engine treats as categories);
  ``real`` (float4) through its text form, as drivers return it;
  ``timestamp``/``timestamptz``/``interval`` as seconds (integer
  microseconds x 1e-6, the engine's convention for microsecond data;
  infinite timestamps count as null), ``date`` as seconds since the epoch;
  ``boolean`` labels are ``"True"``/``"False"``; text, ``uuid``, ``json``
  and unknown types are categories by their text form.  Float labels
  (forced-categorical float columns) are PostgreSQL's shortest round-trip
  text, equal to Python's ``repr`` except for 1e15 <= |x| < 1e16 (``1.5e+15``
  vs ``1500000000000000.0``); ``char(n)`` labels lose their trailing blanks;
  date/time labels use PostgreSQL's text form.  PostgreSQL raises instead of
  returning inf when a float operation overflows (values beyond ~1e300).
* SQLite: no boolean type (pandas stores booleans as 0/1 integers, so they
  are numbers when pulled back too), NaN is stored as NULL, ``9e999`` is
  +inf; ``typeof()`` decides per value: text or blob values in a
  reference-numerical column make it categorical (``mixed`` when there are
  numbers too).  Float labels are the shortest of ``printf('%!.15g')`` ..
  ``'%!.17g'`` that round-trips, equal to Python's ``repr`` except for
  1e15 <= |x| < 1e16.  Integers beyond 2**53 are compared with the
  thresholds exactly by SQLite (the engine rounds them to float first).
* :class:`GenericDialect` (any ANSI database): ``CAST(x AS DOUBLE
  PRECISION)``, no NaN/infinity handling, labels ``CAST(x AS VARCHAR(4000))``
  in the database's text form and collation.

Consistency: the statements are separate.  If the table changes between
them (the counts disagree) a ``RuntimeError`` is raised; run ``profile_sql``
inside a ``REPEATABLE READ`` transaction (PostgreSQL) or point ``where`` at
data that no longer changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from airflow_drift_provider.drift._sketch import NumericSketch
from airflow_drift_provider.drift._tables import CATEGORICAL, NUMERICAL
from airflow_drift_provider.drift.profile import (
    DEFAULT_MAX_CATEGORIES,
    ColumnProfile,
    ReferenceProfile,
    _cap_categories,
    _validate_names,
)

__all__ = [
    "GenericDialect",
    "PostgresDialect",
    "SqlDialect",
    "SqlQuery",
    "SqliteDialect",
    "get_dialect",
    "profile_sql",
    "register_dialect",
]

DEFAULT_SUBDIVIDE = 1
DEFAULT_REFINE_ROUNDS = 2
_MAX_SPLITS_PER_GAP = 256
_PREFIX = "_drift_p"  # names of our own parameters in the named paramstyles

# special codes of the bucket statements (finite values have codes >= 0)
CODE_NULL = -1  # NULL or NaN
CODE_POS_INF = -2
CODE_NEG_INF = -3
CODE_NOT_A_NUMBER = -4  # a text/blob value (per-value typing: SQLite)

# column classes: what the database says a column holds
C_INTEGER = "integer"
C_FLOAT = "float"
C_FLOAT4 = "float4"  # single precision: read through its text form, as drivers return it
C_DECIMAL = "decimal"
C_BOOL = "bool"
C_TIME = "time"  # timestamp, timestamptz, interval: seconds (microsecond resolution)
C_DATE = "date"
C_TEXT = "text"
C_UNKNOWN = "unknown"  # the driver does not say (SQLite, generic): decided per value, or assumed numeric
_NUMBER_CLASSES = frozenset({C_INTEGER, C_FLOAT, C_FLOAT4, C_DECIMAL, C_TIME, C_DATE, C_UNKNOWN})
_NUMERIC_TYPES = frozenset({C_INTEGER, C_FLOAT, C_FLOAT4, C_DECIMAL})  # "from_numbers" when forced to categories


# ============================================================ query building
class SqlQuery:
    """Builds one statement: placeholders for bound values, the caller's ``where``, quoted names.

    Positional paramstyles (``qmark``: ``?``, ``format``: ``%s``) bind the
    values in the order their placeholders appear in the text, so the parts
    of a statement must be *created* in textual order (an inner subquery's
    placeholders after the select list's that precede it).  When the
    caller's ``parameters`` are a mapping the dialect's named style
    (``named``: ``:name``, ``pyformat``: ``%(name)s``) is used instead.  With
    the ``%`` styles, ``%`` in our own text (quoted names) is doubled.
    """

    def __init__(self, dialect: SqlDialect, where: str | None, where_params: Any) -> None:
        self.dialect = dialect
        self._where = where
        self._where_params = where_params
        self.named = isinstance(where_params, Mapping)
        self.style = dialect.named_paramstyle if self.named else dialect.paramstyle
        self.params: list[Any] | dict[str, Any] = {} if self.named else []
        self._n = 0

    @property
    def percent(self) -> bool:
        return self.style in ("format", "pyformat")

    def param(self, value: Any) -> str:
        """A placeholder bound to ``value``."""
        if self.named:
            assert isinstance(self.params, dict)
            name = f"{_PREFIX}{self._n}"
            self._n += 1
            self.params[name] = value
            return f"%({name})s" if self.style == "pyformat" else f":{name}"
        assert isinstance(self.params, list)
        self.params.append(value)
        return "%s" if self.style == "format" else "?"

    def ident(self, name: str) -> str:
        q = self.dialect.quote_identifier(name)
        return q.replace("%", "%%") if self.percent else q

    def table(self, table: Any) -> str:
        q = self.dialect.quote_table(table)
        return q.replace("%", "%%") if self.percent else q

    def where(self) -> str:
        """``WHERE (<the caller's condition>)`` or ``""`` (its parameters are bound here)."""
        if not self._where:
            return ""
        if self._where_params is not None:
            if self.named:
                assert isinstance(self.params, dict)
                self.params.update(self._where_params)
            else:
                assert isinstance(self.params, list)
                self.params.extend(self._where_params)
        return f"WHERE ({self._where})"

    def done(self, sql: str) -> tuple[str, Any]:
        return sql, self.params


@dataclass
class _Ctx:
    dialect: SqlDialect
    connection: Any
    where: str | None
    params: Any
    queries: int = 0
    rows: int = 0
    values: int = 0
    last_description: Any = None
    table_rows: int = 0  # COUNT(*) of the (filtered) table, once known

    def query(self) -> SqlQuery:
        return SqlQuery(self.dialect, self.where, self.params)

    @property
    def n_where_params(self) -> int:
        return 0 if self.params is None else len(self.params)

    def run(self, sql: str, params: Any) -> list[tuple]:
        cur = self.connection.cursor()
        try:
            try:
                cur.execute(sql, params)
            except Exception as exc:
                exc.add_note(f"profile_sql ({self.dialect.name}) statement: {sql[:600]}")
                raise
            rows = cur.fetchall() if cur.description is not None else []
            description = cur.description
        finally:
            close = getattr(cur, "close", None)
            if close is not None:
                close()
        self.queries += 1
        self.rows += len(rows)
        self.values += sum(len(r) for r in rows)
        self.last_description = description
        return [tuple(r) for r in rows]


@dataclass
class BucketColumn:
    """One numerical column of a bucket statement (see :meth:`SqlDialect.bucket_counts_sql`)."""

    index: int
    value: str  # the column as a double: NULL for NULL (and for non-numbers with per-value typing)
    cls: str
    raw: str  # the quoted column name
    thresholds: np.ndarray  # sorted, distinct, finite
    shift: float
    scale: float


# ================================================================= dialects
class SqlDialect:
    r"""How to write the pushdown statements for one database (the extension point).

    Subclass :class:`GenericDialect` (plain ANSI SQL) and override what your
    database spells differently, then register it::

        from airflow_drift_provider.drift.pushdown import GenericDialect, register_dialect

        class SnowflakeDialect(GenericDialect):
            name = "snowflake"
            paramstyle = "format"           # snowflake-connector-python binds %s client-side
            named_paramstyle = "pyformat"
            text_type = "VARCHAR"

            def limit_sql(self, n):
                return f"LIMIT {int(n)}"

        register_dialect("snowflake", SnowflakeDialect())

        class BigQueryDialect(GenericDialect):
            name = "bigquery"
            paramstyle = "format"           # google-cloud-bigquery's DB-API: pyformat
            named_paramstyle = "pyformat"
            float_type = "FLOAT64"
            text_type = "STRING"

            def quote_identifier(self, name):
                super().quote_identifier(name)  # the common checks (empty, NUL, length)
                return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"

            def limit_sql(self, n):
                return f"LIMIT {int(n)}"

        register_dialect("gcpbigquery", BigQueryDialect())   # the Airflow conn_type

    BigQuery's ``RANGE_BUCKET(x, array)`` is PostgreSQL's ``width_bucket(x,
    array)``: overriding :meth:`bucket_code_sql` and :meth:`threshold_chunk`
    like :class:`PostgresDialect` does turns the nested ``CASE`` into one
    function call with one array parameter.  Check the database's float
    text form and collation before relying on :meth:`label_sql` for
    forced-categorical float columns.

    Every method's contract is in its docstring.  Values always go through
    bound parameters (:meth:`SqlQuery.param`), never into the SQL text;
    names through :meth:`quote_identifier`.
    """

    name = "abstract"
    paramstyle = "qmark"  # positional placeholders: "qmark" (?) or "format" (%s)
    named_paramstyle = "named"  # when the caller's parameters are a mapping: "named" (:x) or "pyformat" (%(x)s)
    identifier_quote = '"'
    max_identifier_bytes: int | None = None  # UTF-8 bytes; None: not checked
    max_parameters = 999  # bound parameters per statement
    float_type = "DOUBLE PRECISION"
    text_type = "VARCHAR(4000)"
    binary_collation: str | None = None  # e.g. 'COLLATE "C"': label order = Python's str order

    # ---------------------------------------------------------- identifiers
    def quote_identifier(self, name: str) -> str:
        """``name`` quoted, embedded quote characters doubled; ``ValueError`` for unusable names."""
        if not isinstance(name, str):
            raise ValueError(f"identifier must be a string, got {type(name).__name__}: {name!r}")
        if name == "":
            raise ValueError("empty identifier")
        if "\x00" in name:
            raise ValueError(f"identifier contains a NUL character: {name!r}")
        if self.max_identifier_bytes is not None and len(name.encode("utf-8")) > self.max_identifier_bytes:
            raise ValueError(
                f"identifier longer than {self.max_identifier_bytes} bytes "
                f"({self.name} would truncate or refuse it): {name!r}"
            )
        q = self.identifier_quote
        return q + name.replace(q, q + q) + q

    def quote_table(self, table: str | Sequence[str]) -> str:
        """``[schema.]table`` quoted part by part.

        A string is split on dots (``"analytics.events"``); pass a tuple or
        list of parts (``("analytics", "events.v2")``) when a name contains a
        dot - the tuple form is the safe one for arbitrary names.
        """
        if isinstance(table, str):
            parts = table.split(".")
        elif isinstance(table, list | tuple) and table and all(isinstance(p, str) for p in table):
            parts = list(table)
        else:
            raise ValueError(f"table must be a name or a tuple/list of name parts, got {table!r}")
        return ".".join(self.quote_identifier(p) for p in parts)

    # ------------------------------------------------------------- metadata
    def max_parameters_for(self, connection: Any) -> int:
        """Bound parameters allowed per statement on this connection."""
        return self.max_parameters

    def column_classes(self, ctx: _Ctx, description: Sequence[Any]) -> list[str]:
        """One column class (``C_*``) per ``cursor.description`` entry of ``SELECT * ... WHERE 1 = 0``."""
        return [C_UNKNOWN] * len(description)

    # ---------------------------------------------------------- expressions
    def value_sql(self, col: str, cls: str) -> str | None:
        """The column as a double, NULL for NULL; ``None`` when the class does not hold numbers."""
        if cls not in _NUMBER_CLASSES:
            return None
        return f"CAST({col} AS {self.float_type})"

    def finite_sql(self, v: str, cls: str) -> str | None:
        """Predicate: the double ``v`` is finite (not NULL, NaN or inf); ``None``: NOT NULL is enough."""
        return None

    def inf_sql(self, v: str, cls: str, sign: int) -> str | None:
        """Predicate ``v = +inf`` (``sign`` 1) or ``-inf`` (-1); ``None`` when there is no infinity."""
        return None

    def non_number_sql(self, col: str, cls: str) -> str | None:
        """Predicate: a non-NULL value that is not a number (per-value typing); ``None``: not applicable."""
        return None

    def label_sql(self, col: str, cls: str) -> str:
        """The engine's category label as text (NULL for NULL/NaN), with a binary collation."""
        expr = f"CAST({col} AS {self.text_type})"
        return f"({expr}) {self.binary_collation}" if self.binary_collation else expr

    def limit_sql(self, n: int) -> str:
        """Row limit clause (ANSI: ``FETCH FIRST n ROWS ONLY``)."""
        return f"FETCH FIRST {int(n)} ROWS ONLY"

    def in_sql(self, q: SqlQuery, expr: str, values: Sequence[str]) -> str:
        """Predicate ``expr IN (values)``, values bound (at most :meth:`in_chunk` of them)."""
        return f"{expr} IN ({', '.join(q.param(v) for v in values)})"

    def in_chunk(self, connection: Any, reserved: int) -> int:
        """How many values one :meth:`in_sql` may take (``reserved``: parameters used elsewhere)."""
        return max(1, min(1000, self.max_parameters_for(connection) - reserved))

    # --------------------------------------------------------- bucket counts
    def threshold_chunk(self, ctx: _Ctx) -> int:
        """How many of the doubled thresholds (see :meth:`bucket_counts_sql`) one statement may take."""
        return max(8, self.max_parameters_for(ctx.connection) - ctx.n_where_params - 4)

    def bucket_code_sql(self, q: SqlQuery, v: str, tt: np.ndarray, lo: int, hi: int) -> str:
        """Expression: how many elements of the sorted array ``tt`` are ``<= v``, for ``v`` known to give [lo, hi].

        Generic: a nested ``CASE WHEN v < ? THEN ... ELSE ... END`` binary
        search of depth ``ceil(log2(hi - lo + 1))`` with ``hi - lo`` bound values.
        """
        return _case_tree(q, v, tt, lo, hi)

    def bucket_counts_sql(self, ctx: _Ctx, table_sql: str, cols: Sequence[BucketColumn]) -> list[tuple[str, Any]]:
        """Statements counting numerical columns by *code*, each column in one scan of the (filtered) table.

        For thresholds ``t_1 < ... < t_K`` the code of a finite value ``x``
        is ``2i - 1`` when ``x == t_i`` and ``2i`` when ``t_i < x < t_{i+1}``
        (``t_0 = -inf``, ``t_{K+1} = +inf``), i.e. the number of elements
        ``<= x`` of ``t_1, next(t_1), t_2, next(t_2), ...`` (``next`` = the next
        double up, so ``[t_i, next(t_i))`` holds exactly ``t_i``).  Other
        values get ``CODE_NULL`` (NULL, NaN), ``CODE_POS_INF``,
        ``CODE_NEG_INF`` or ``CODE_NOT_A_NUMBER``.  Every statement returns
        rows ``(column index, code, count, min, max, sum_y, sum_yy)``, ``y =
        (x - shift) / scale`` over finite values; codes without values may be
        absent; rows for the same column and code (threshold chunks) are
        added up.

        Generic implementation: one statement per column and chunk of at most
        :meth:`threshold_chunk` thresholds, the code from
        :meth:`bucket_code_sql`, each chunk restricted to its threshold range.
        """
        return [st for col in cols for st in self._column_bucket_sql(ctx, table_sql, col)]

    def _column_bucket_sql(self, ctx: _Ctx, table_sql: str, col: BucketColumn) -> list[tuple[str, Any]]:
        tt = _doubled(col.thresholds)
        m = tt.size  # codes 0..m
        limit = self.threshold_chunk(ctx)
        out: list[tuple[str, Any]] = []
        lo = 0
        while lo <= m:
            hi = min(m, lo + limit)
            q = ctx.query()
            out.append(q.done(self._bucket_select(q, table_sql, col, tt, lo, hi)))
            lo = hi + 1
        return out

    def _bucket_select(self, q: SqlQuery, table_sql: str, col: BucketColumn, tt: np.ndarray, lo: int, hi: int) -> str:
        """One column's bucket SELECT for codes [lo, hi] (placeholders created in textual order)."""
        m = tt.size
        code = self.bucket_code_sql(q, "v", tt, lo, hi)
        inner = _finite_inner(q, self, col, table_sql)
        cond = []
        if lo > 0:
            cond.append(f"v >= {q.param(float(tt[lo - 1]))}")
        if hi < m:
            cond.append(f"v < {q.param(float(tt[hi]))}")
        where = " AND ".join(cond)
        if lo == 0:  # the first chunk also counts the non-finite values
            where = f"v IS NULL OR ({where})" if where else ""
        return (
            f"SELECT {int(col.index)} AS c, code, COUNT(*), MIN(v), MAX(v), SUM(y), SUM(y * y) FROM ("
            f"SELECT CASE WHEN v IS NULL THEN sp ELSE {code} END AS code, v, y FROM ({inner}) d"
            f"{' WHERE ' + where if where else ''}) e GROUP BY code"
        )

    def value_counts_sql(self, ctx: _Ctx, table_sql: str, col: BucketColumn) -> tuple[str, Any]:
        """Rows ``(code, value, count)``: code 0 for every distinct finite value, the special codes otherwise.

        Used when the column has at most ``exact_limit`` non-NULL values, so
        at most ``exact_limit + 4`` rows come back.
        """
        q = ctx.query()
        inner = _finite_inner(q, self, col, table_sql)
        sql = (
            f"SELECT code, v, COUNT(*) FROM (SELECT CASE WHEN v IS NULL THEN sp ELSE 0 END AS code, v FROM ({inner}) d"
            f") e GROUP BY code, v"
        )
        return q.done(sql)


class GenericDialect(SqlDialect):
    """Plain ANSI SQL (``qmark`` placeholders: set ``paramstyle`` to your driver's)."""

    name = "generic"


class SqliteDialect(SqlDialect):
    """SQLite (the ``sqlite3`` module): types decided per value with ``typeof()``."""

    name = "sqlite"
    paramstyle = "qmark"
    named_paramstyle = "named"
    max_parameters = 999  # SQLITE_MAX_VARIABLE_NUMBER before 3.32; read from the connection when possible
    float_type = "REAL"
    text_type = "TEXT"
    binary_collation = "COLLATE BINARY"

    def max_parameters_for(self, connection: Any) -> int:
        try:
            import sqlite3

            getlimit = getattr(connection, "getlimit", None)
            if getlimit is not None:  # Python >= 3.11
                return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
            major, minor = (int(p) for p in sqlite3.sqlite_version.split(".")[:2])
            return 32766 if (major, minor) >= (3, 32) else 999
        except Exception:  # not a sqlite3 connection after all
            return self.max_parameters

    def value_sql(self, col: str, cls: str) -> str | None:
        # text/blob values become NULL here; non_number_sql counts them
        return f"(CASE WHEN typeof({col}) IN ('integer', 'real') THEN {col} END)"

    def finite_sql(self, v: str, cls: str) -> str | None:
        return f"({v} > -9e999 AND {v} < 9e999)"

    def inf_sql(self, v: str, cls: str, sign: int) -> str | None:
        return f"{v} = {'' if sign > 0 else '-'}9e999"

    def non_number_sql(self, col: str, cls: str) -> str | None:
        return f"typeof({col}) IN ('text', 'blob')"

    def label_sql(self, col: str, cls: str) -> str:
        c = col
        fmt = [f"printf('%!.{p}g', {c})" for p in (15, 16, 17)]
        real = (
            f"CASE WHEN {c} = 9e999 THEN 'inf' WHEN {c} = -9e999 THEN '-inf' "
            f"WHEN {c} = CAST({c} AS INTEGER) AND abs({c}) < 9007199254740992.0 "
            f"THEN CAST(CAST({c} AS INTEGER) AS TEXT) "
            f"WHEN CAST({fmt[0]} AS REAL) = {c} THEN replace({fmt[0]}, '.0e', 'e') "
            f"WHEN CAST({fmt[1]} AS REAL) = {c} THEN replace({fmt[1]}, '.0e', 'e') "
            f"ELSE replace({fmt[2]}, '.0e', 'e') END"
        )
        return (
            f"(CASE typeof({c}) WHEN 'integer' THEN CAST({c} AS TEXT) WHEN 'real' THEN ({real}) "
            f"WHEN 'text' THEN {c} WHEN 'blob' THEN CAST({c} AS TEXT) END) COLLATE BINARY"
        )

    def threshold_chunk(self, ctx: _Ctx) -> int:
        # SQLite prepares a statement in a time growing with the square of its CASE size (~4e-8 s x size^2:
        # about 1 s for 5000 thresholds) while one scan costs ~1 us per row: chunks of ~6 sqrt(rows)
        # thresholds balance the two
        limit = super().threshold_chunk(ctx)
        return int(min(limit, max(256, 6 * math.sqrt(max(ctx.table_rows, 1)))))

    def is_number_sql(self, col: str) -> str:
        return f"typeof({col}) IN ('integer', 'real')"

    def limit_sql(self, n: int) -> str:
        return f"LIMIT {int(n)}"

    def in_chunk(self, connection: Any, reserved: int) -> int:
        return max(1, min(30000, self.max_parameters_for(connection) - reserved))


# PostgreSQL type OIDs (pg_type.oid: stable across versions)
_PG_CLASSES = {
    16: C_BOOL,
    20: C_INTEGER,
    21: C_INTEGER,
    23: C_INTEGER,
    26: C_INTEGER,
    700: C_FLOAT4,
    701: C_FLOAT,
    1700: C_DECIMAL,
    1082: C_DATE,
    1114: C_TIME,
    1184: C_TIME,
    1186: C_TIME,
    18: C_TEXT,
    19: C_TEXT,
    25: C_TEXT,
    1042: C_TEXT,
    1043: C_TEXT,
    2950: C_TEXT,
    114: C_TEXT,
    3802: C_TEXT,
    790: C_TEXT,  # money: drivers return strings such as "$1.00"
}
_PG_CATEGORY_CLASSES = {"N": C_FLOAT, "B": C_BOOL, "D": C_TIME}  # pg_type.typcategory of other types
_PG_INF = "CAST('Infinity' AS DOUBLE PRECISION)"
_PG_NINF = "CAST('-Infinity' AS DOUBLE PRECISION)"
_PG_HAS_INF = frozenset({C_FLOAT, C_FLOAT4, C_DECIMAL, C_DATE})


class PostgresDialect(SqlDialect):
    """PostgreSQL (psycopg2 / psycopg 3: ``format`` placeholders).

    The thresholds are one bound ``float8[]`` parameter and
    ``width_bucket(x, thresholds)`` finds each value's code by binary search.
    """

    name = "postgres"
    paramstyle = "format"
    named_paramstyle = "pyformat"
    max_identifier_bytes = 63  # NAMEDATALEN - 1: PostgreSQL silently truncates longer names
    max_parameters = 65535
    float_type = "DOUBLE PRECISION"
    text_type = "TEXT"
    binary_collation = 'COLLATE "C"'

    def column_classes(self, ctx: _Ctx, description: Sequence[Any]) -> list[str]:
        oids = [getattr(d, "type_code", None) if hasattr(d, "type_code") else d[1] for d in description]
        out = [_PG_CLASSES.get(o, C_UNKNOWN) if isinstance(o, int) else C_UNKNOWN for o in oids]
        unknown = sorted({o for o, c in zip(oids, out, strict=True) if c == C_UNKNOWN and isinstance(o, int)})
        if unknown:  # domains, extension types: pg_type's category says what they are
            q = ctx.query()
            sql = f"SELECT oid, typcategory FROM pg_catalog.pg_type WHERE oid = ANY({q.param(unknown)})"
            cats = {int(o): str(c) for o, c in ctx.run(sql, q.params)}
            out = [
                _PG_CATEGORY_CLASSES.get(cats.get(o, ""), C_TEXT) if c == C_UNKNOWN else c  # type: ignore[arg-type]
                for o, c in zip(oids, out, strict=True)
            ]
        return [C_TEXT if c == C_UNKNOWN else c for c in out]

    def value_sql(self, col: str, cls: str) -> str | None:
        f = self.float_type
        if cls in (C_INTEGER, C_FLOAT, C_DECIMAL):
            return f"CAST({col} AS {f})"
        if cls == C_FLOAT4:
            return f"CAST(CAST({col} AS TEXT) AS {f})"
        if cls == C_DATE:
            return (
                f"(CASE WHEN isfinite({col}) THEN CAST(EXTRACT(EPOCH FROM {col}) AS {f}) "
                f"WHEN {col} > DATE 'epoch' THEN {_PG_INF} WHEN {col} < DATE 'epoch' THEN {_PG_NINF} END)"
            )
        if cls == C_TIME:  # integer microseconds times 1e-6, as the engine converts datetime64[us]
            return (
                f"(CASE WHEN isfinite({col}) THEN "
                f"CAST(CAST(EXTRACT(EPOCH FROM {col}) * 1000000 AS BIGINT) AS {f}) * CAST(1e-6 AS {f}) END)"
            )
        return None

    def finite_sql(self, v: str, cls: str) -> str | None:
        if cls in _PG_HAS_INF:  # NaN sorts above +Infinity in PostgreSQL: excluded as well
            return f"({v} > {_PG_NINF} AND {v} < {_PG_INF})"
        return None

    def inf_sql(self, v: str, cls: str, sign: int) -> str | None:
        if cls in _PG_HAS_INF:
            return f"{v} = {_PG_INF if sign > 0 else _PG_NINF}"
        return None

    def label_sql(self, col: str, cls: str) -> str:
        if cls == C_BOOL:
            expr = f"CASE WHEN {col} THEN 'True' WHEN NOT {col} THEN 'False' END"
        elif cls in (C_FLOAT, C_FLOAT4):
            v = self.value_sql(col, cls)
            expr = (
                f"CASE WHEN {v} = CAST('NaN' AS DOUBLE PRECISION) THEN NULL "
                f"WHEN {v} = {_PG_INF} THEN 'inf' WHEN {v} = {_PG_NINF} THEN '-inf' "
                f"WHEN {v} = trunc({v}) AND abs({v}) < 9007199254740992 THEN CAST(CAST({v} AS BIGINT) AS TEXT) "
                f"ELSE CAST({v} AS TEXT) END"
            )
        else:
            expr = f"CAST({col} AS TEXT)"
        return f'({expr}) COLLATE "C"'

    def limit_sql(self, n: int) -> str:
        return f"LIMIT {int(n)}"

    def in_sql(self, q: SqlQuery, expr: str, values: Sequence[str]) -> str:
        return f"{expr} = ANY(CAST({q.param(list(values))} AS TEXT[]))"

    def in_chunk(self, connection: Any, reserved: int) -> int:
        return 100_000

    def threshold_chunk(self, ctx: _Ctx) -> int:
        return 1 << 30  # one array parameter, whatever its length

    union_columns = 32  # columns per statement

    def bucket_counts_sql(self, ctx: _Ctx, table_sql: str, cols: Sequence[BucketColumn]) -> list[tuple[str, Any]]:
        """One ``UNION ALL`` statement for (up to :attr:`union_columns`) columns.

        Each branch scans the table for one column; PostgreSQL runs the
        branches in parallel workers (``Parallel Append``) when it can, which
        is ~1.5x faster on 2 CPUs than one statement per column.
        """
        out = []
        for i in range(0, len(cols), self.union_columns):
            q = ctx.query()
            parts = [
                self._bucket_select(q, table_sql, col, _doubled(col.thresholds), 0, 2 * col.thresholds.size)
                for col in cols[i : i + self.union_columns]
            ]
            out.append(q.done(" UNION ALL ".join(parts)))
        return out

    def bucket_code_sql(self, q: SqlQuery, v: str, tt: np.ndarray, lo: int, hi: int) -> str:
        # the array as text ('{1.5,2.25,...}'): parsed once per statement, much faster than ARRAY[...] literals
        text = "{" + ",".join(repr(float(x)) for x in tt[max(0, lo - 1) : hi].tolist()) + "}"
        offset = max(0, lo - 1)
        call = f"width_bucket({v}, CAST({q.param(text)} AS DOUBLE PRECISION[]))"
        return f"({call} + {offset})" if offset else call


# ================================================================= registry
_DIALECTS: dict[str, SqlDialect] = {}


def register_dialect(name: str, dialect: SqlDialect | type[SqlDialect]) -> None:
    """Make ``dialect`` available as ``profile_sql(..., dialect=name)`` (case-insensitive).

    Register under the Airflow ``conn_type`` of your connections
    (``"snowflake"``, ``"gcpbigquery"``...) to look dialects up from a
    connection; see :class:`SqlDialect` for an example.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"dialect name must be a non-empty string, got {name!r}")
    if isinstance(dialect, type) and issubclass(dialect, SqlDialect):
        dialect = dialect()
    if not isinstance(dialect, SqlDialect):
        raise ValueError(f"dialect must be a SqlDialect instance or subclass, got {type(dialect).__name__}")
    _DIALECTS[name.strip().lower()] = dialect


def get_dialect(name_or_conn_type: str | SqlDialect) -> SqlDialect:
    """The dialect registered under a name or Airflow ``conn_type`` (``"postgres"``, ``"sqlite"``...).

    SQLAlchemy-style names (``"postgresql+psycopg2"``) use the part before
    ``+``; a :class:`SqlDialect` instance is returned as it is.
    """
    if isinstance(name_or_conn_type, SqlDialect):
        return name_or_conn_type
    if not isinstance(name_or_conn_type, str):
        raise ValueError(f"dialect must be a name or a SqlDialect, got {type(name_or_conn_type).__name__}")
    key = name_or_conn_type.strip().lower().split("+", 1)[0]
    try:
        return _DIALECTS[key]
    except KeyError:
        raise ValueError(
            f"unknown SQL dialect {name_or_conn_type!r}; known: {sorted(_DIALECTS)} (add one with register_dialect)"
        ) from None


register_dialect("postgres", PostgresDialect())
register_dialect("postgresql", _DIALECTS["postgres"])
register_dialect("sqlite", SqliteDialect())
register_dialect("generic", GenericDialect())


def _dialect_of_connection(connection: Any) -> SqlDialect:
    mod = type(connection).__module__.split(".", 1)[0]
    if mod == "sqlite3":
        return _DIALECTS["sqlite"]
    if mod in ("psycopg2", "psycopg", "pg8000"):
        return _DIALECTS["postgres"]
    raise ValueError(
        f"cannot tell the SQL dialect of a {type(connection).__module__}.{type(connection).__name__} "
        f"connection: pass dialect= (known: {sorted(_DIALECTS)})"
    )


# ================================================================ SQL helpers
def _doubled(th: np.ndarray) -> np.ndarray:
    """``t_1, next(t_1), t_2, next(t_2), ...``: ``[t_i, next(t_i))`` holds exactly the value ``t_i``."""
    t = np.asarray(th, dtype=np.float64)
    out = np.empty(2 * t.size, dtype=np.float64)
    out[0::2] = t
    out[1::2] = np.nextafter(t, np.inf)
    return out


def _case_tree(q: SqlQuery, v: str, tt: np.ndarray, lo: int, hi: int) -> str:
    """Nested CASE: the number of ``tt`` elements ``<= v``, for codes in ``[lo, hi]`` (placeholders in text order)."""
    if lo == hi:
        return str(lo)
    mid = (lo + hi + 1) // 2  # code >= mid  <=>  v >= tt[mid - 1]
    p = q.param(float(tt[mid - 1]))
    left = _case_tree(q, v, tt, lo, mid - 1)
    right = _case_tree(q, v, tt, mid, hi)
    return f"CASE WHEN {v} < {p} THEN {left} ELSE {right} END"


def _finite(d: SqlDialect, v: str, cls: str) -> str:
    pred = d.finite_sql(v, cls)
    return f"(CASE WHEN {pred} THEN {v} END)" if pred else v


def _finite_inner(q: SqlQuery, d: SqlDialect, col: BucketColumn, table_sql: str) -> str:
    """``SELECT v (finite or NULL), sp (special code), y (scaled) FROM (SELECT x ... FROM t WHERE ...) a``."""
    fin = _finite(d, "x", col.cls)
    branches = []
    for sign, code in ((1, CODE_POS_INF), (-1, CODE_NEG_INF)):
        pred = d.inf_sql("x", col.cls, sign)
        if pred is not None:
            branches.append(f"WHEN {pred} THEN {code}")
    nn = d.non_number_sql(col.raw, col.cls)
    inner_cols = f"{col.value} AS x"
    if nn is not None:
        inner_cols += f", CASE WHEN {nn} THEN 1 ELSE 0 END AS nn"
        branches.append(f"WHEN nn = 1 THEN {CODE_NOT_A_NUMBER}")
    sp = f"CASE {' '.join(branches)} ELSE {CODE_NULL} END" if branches else str(CODE_NULL)
    c = q.param(col.shift)
    s = q.param(col.scale)
    y = f"(({fin} - CAST({c} AS {d.float_type})) / CAST({s} AS {d.float_type}))"
    return f"SELECT {fin} AS v, {sp} AS sp, {y} AS y FROM (SELECT {inner_cols} FROM {table_sql} {q.where()}) a"


def _int(x: Any) -> int:
    return 0 if x is None else int(x)


# ============================================================ profile_sql
def profile_sql(
    connection: Any,
    table: str | Sequence[str],
    reference: ReferenceProfile,
    *,
    dialect: str | SqlDialect | None = None,
    columns: Iterable[str] | None = None,
    where: str | None = None,
    parameters: Sequence[Any] | Mapping[str, Any] | None = None,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    subdivide: int = DEFAULT_SUBDIVIDE,
    refine_rounds: int = DEFAULT_REFINE_ROUNDS,
    metadata: Mapping[str, Any] | None = None,
) -> ReferenceProfile:
    """Profile the current data of ``table`` inside the database, against ``reference``.

    :param connection: an open DB-API 2 connection (``sqlite3``, ``psycopg2``,
        ``psycopg``...; in Airflow ``hook.get_conn()``).  Only ``SELECT``
        statements run; nothing is committed or rolled back.
    :param table: ``"table"``, ``"schema.table"`` (split on dots) or a tuple
        of name parts (needed when a name contains a dot).  Every part is
        quoted: names are case-sensitive and may hold any character but NUL.
    :param reference: the stored :class:`ReferenceProfile`.  Its columns,
        column types, sketch points, categories, ``resolution`` and
        ``exact_limit`` drive the statements; the result uses its settings.
    :param dialect: a registered name (``"postgres"``/``"postgresql"``,
        ``"sqlite"``, ``"generic"``, or one added with
        :func:`register_dialect`; Airflow ``conn_type`` values work) or a
        :class:`SqlDialect`.  Default: from the connection's driver module
        (``sqlite3``, ``psycopg2``/``psycopg``).
    :param columns: profile only these reference columns (default: all
        reference columns; those absent from the table are left out).
    :param where: a *trusted* SQL condition written by the DAG author (like
        common-sql's ``partition_clause``), e.g. ``"day = %s"``, inserted in
        every statement as ``WHERE (<where>)``.  Values belong in
        ``parameters``, never in the text.  With a ``format``-style driver
        (psycopg2) write a literal ``%`` as ``%%``.
    :param parameters: values bound to ``where``'s placeholders: a sequence
        in the driver's positional style (``?`` for sqlite3, ``%s`` for
        psycopg2) or a mapping in its named style (``:name`` /
        ``%(name)s``; names starting with ``_drift_p`` are reserved).
    :param max_categories: categories kept per categorical column besides
        every reference category (the rest fold into ``other_count``), as
        :func:`build_profile` does.
    :param subdivide: equally spaced thresholds added inside each interval
        between two reference sketch points (1: the midpoints), so that each
        holds about ``n / ((subdivide + 1) * points)`` values when the data
        look like the reference; 0 halves the rows returned and about
        doubles the KS ``error_bound``.
    :param refine_rounds: at most this many more scans of a numerical column
        whose intervals between thresholds hold too much mass (see the
        module docstring); 0: never.
    :param metadata: merged into the returned profile's metadata.
    :returns: a :class:`ReferenceProfile` of the current data, to pass as
        ``current`` to ``data_drift``; ``metadata`` holds ``{"source":
        "sql_pushdown", "dialect", "table", "queries", "rows_returned",
        "values_returned", "columns_not_in_reference", "refined_columns"}``.
    :raises ValueError: reference not a profile, unknown dialect, bad
        identifiers or arguments.
    :raises RuntimeError: the table changed between the statements.
    """
    if not isinstance(reference, ReferenceProfile):
        raise ValueError(f"reference must be a ReferenceProfile, got {type(reference).__name__}")
    d = _dialect_of_connection(connection) if dialect is None else get_dialect(dialect)
    for arg, val, lo, hi in (
        ("max_categories", max_categories, 1, None),
        ("subdivide", subdivide, 0, 16),
        ("refine_rounds", refine_rounds, 0, None),
    ):
        if isinstance(val, bool) or not isinstance(val, int) or val < lo or (hi is not None and val > hi):
            rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
            raise ValueError(f"{arg} must be an integer {rng}, got {val!r}")
    if where is not None and (not isinstance(where, str) or not where.strip()):
        raise ValueError(f"where must be a non-empty SQL condition or None, got {where!r}")
    if parameters is not None:
        if where is None:
            raise ValueError("parameters are given but there is no where condition to bind them to")
        if isinstance(parameters, Mapping):
            bad = [k for k in parameters if not isinstance(k, str) or k.startswith(_PREFIX)]
            if bad:
                raise ValueError(f"parameter names must be strings not starting with {_PREFIX!r}: {bad!r}")
            parameters = dict(parameters)
        elif isinstance(parameters, str | bytes) or not isinstance(parameters, Sequence):
            raise ValueError(f"parameters must be a sequence or a mapping, got {type(parameters).__name__}")
        else:
            parameters = list(parameters)
    wanted = _validate_names(columns, "columns")
    if wanted is not None:
        unknown = [c for c in wanted if c not in reference.columns]
        if unknown:
            raise ValueError(f"columns not in the reference profile: {unknown[:10]!r}")
    names = wanted if wanted is not None else list(reference.columns)

    ctx = _Ctx(d, connection, where, parameters)
    SqlQuery(d, None, None).table(table)  # ValueError for bad table names before any statement
    for n in names:
        d.quote_identifier(n)  # ... and for reference column names the dialect cannot use

    # the table's columns and the types the driver reports (no rows, no where)
    plain = SqlQuery(d, None, None)
    ctx.run(*plain.done(f"SELECT * FROM {plain.table(table)} WHERE 1 = 0"))
    description = list(ctx.last_description or [])
    table_cols = [str(x[0]) for x in description]
    classes = dict(zip(table_cols, d.column_classes(ctx, description), strict=True))
    present = [n for n in names if n in classes]

    # rows, and the non-NULL count of each numerical column (small columns go straight to exact value counts)
    q = ctx.query()
    numeric = [n for n in present if reference.columns[n].kind != CATEGORICAL and d.value_sql(q.ident(n), classes[n])]
    counts = "".join(f", COUNT({q.ident(n)})" for n in numeric)
    (row,) = ctx.run(*q.done(f"SELECT COUNT(*){counts} FROM {q.table(table)} {q.where()}"))
    rows = _int(row[0])
    nonnull = {n: _int(v) for n, v in zip(numeric, row[1:], strict=True)}
    ctx.table_rows = rows

    q = ctx.query()
    tsql = q.table(table)
    numerical: list[tuple[str, BucketColumn, ColumnProfile]] = []
    for i, n in enumerate(present):
        ref = reference.columns[n]
        raw = q.ident(n)
        value = d.value_sql(raw, classes[n])
        if ref.kind != CATEGORICAL and value is not None:
            sk = ref.sketch if ref.kind == NUMERICAL else None
            shift = sk.mean if sk is not None and sk.n and math.isfinite(sk.mean) else 0.0
            scale = sk.std if sk is not None and sk.n else 1.0
            if not (math.isfinite(scale) and scale > 0):
                scale = 1.0
            th = _initial_thresholds(sk, subdivide)
            numerical.append((n, BucketColumn(i, value, classes[n], raw, th, float(shift), float(scale)), ref))
    num_out, numbers, refined = _numerical(ctx, tsql, numerical, reference, rows, nonnull, refine_rounds)
    out: dict[str, ColumnProfile] = {}
    for n in present:
        col = num_out.get(n)
        if col is None:  # categorical, or text where the reference has numbers
            col = _categorical(
                ctx,
                table,
                raw_name=n,
                cls=classes[n],
                ref=reference.columns[n],
                rows=rows,
                max_categories=max_categories,
                numbers=numbers.get(n, 0),
            )
        out[n] = col

    meta: dict[str, Any] = {
        "source": "sql_pushdown",
        "dialect": d.name,
        "table": d.quote_table(table),
        "queries": ctx.queries,
        "rows_returned": ctx.rows,
        "values_returned": ctx.values,
        "columns_not_in_reference": [c for c in table_cols if c not in reference.columns],
        "refined_columns": refined,
    }
    if where:
        meta["where"] = where
    meta.update(dict(metadata or {}))
    return ReferenceProfile(
        columns=out,
        rows=rows,
        resolution=reference.resolution,
        exact_limit=reference.exact_limit,
        max_categories=max_categories,
        metadata=meta,
    )


def _changed(name: str) -> RuntimeError:
    return RuntimeError(
        f"profile_sql: the counts of column {name!r} differ between two statements - the table changed while it "
        "was being profiled; run profile_sql inside a REPEATABLE READ transaction, or restrict `where` to data "
        "that no longer changes"
    )


# ------------------------------------------------------------- numerical
@dataclass
class _Round:
    """The result of one bucket scan of one column."""

    thresholds: np.ndarray
    cnt: np.ndarray  # per code 0..2K
    mn: np.ndarray
    mx: np.ndarray
    rows: int
    nulls: int
    pos: int
    neg: int
    non_numbers: int
    s1: float
    s2: float

    @property
    def n(self) -> int:
        return int(self.cnt.sum())


def _scan(ctx: _Ctx, table_sql: str, cols: Sequence[BucketColumn]) -> dict[int, _Round]:
    """One bucket scan of each column (see :meth:`SqlDialect.bucket_counts_sql`)."""
    acc: dict[int, dict[str, Any]] = {}
    for col in cols:
        k = col.thresholds.size
        acc[col.index] = {
            "cnt": np.zeros(2 * k + 1, dtype=np.int64),
            "mn": np.full(2 * k + 1, np.inf),
            "mx": np.full(2 * k + 1, -np.inf),
            "special": {CODE_NULL: 0, CODE_POS_INF: 0, CODE_NEG_INF: 0, CODE_NOT_A_NUMBER: 0},
            "s1": 0.0,
            "s2": 0.0,
        }
    for sql, params in ctx.dialect.bucket_counts_sql(ctx, table_sql, cols):
        for c, code, n, lo, hi, a, b in ctx.run(sql, params):
            st = acc[int(c)]
            code, n = int(code), int(n)
            if code < 0:
                st["special"][code] = st["special"].get(code, 0) + n
                continue
            st["cnt"][code] += n
            if lo is not None:
                st["mn"][code] = min(st["mn"][code], float(lo))
            if hi is not None:
                st["mx"][code] = max(st["mx"][code], float(hi))
            st["s1"] += 0.0 if a is None else float(a)
            st["s2"] += 0.0 if b is None else float(b)
    out = {}
    for col in cols:
        st = acc[col.index]
        sp = st["special"]
        out[col.index] = _Round(
            col.thresholds,
            st["cnt"],
            st["mn"],
            st["mx"],
            int(st["cnt"].sum()) + sum(sp.values()),
            sp[CODE_NULL],
            sp[CODE_POS_INF],
            sp[CODE_NEG_INF],
            sp[CODE_NOT_A_NUMBER],
            st["s1"],
            st["s2"],
        )
    return out


def _numerical(
    ctx: _Ctx,
    table_sql: str,
    columns: list[tuple[str, BucketColumn, ColumnProfile]],
    reference: ReferenceProfile,
    rows: int,
    nonnull: Mapping[str, int],
    refine_rounds: int,
) -> tuple[dict[str, ColumnProfile], dict[str, int], list[str]]:
    """Profiles of the numerical columns (absent: the column holds non-numbers), their counts of numbers, and
    the columns whose thresholds were refined."""
    out: dict[str, ColumnProfile] = {}
    numbers: dict[str, int] = {}
    refined: list[str] = []
    big: list[tuple[str, BucketColumn, ColumnProfile]] = []
    for name, col, ref in columns:
        if nonnull[name] <= reference.exact_limit:  # small: the distinct values themselves, the engine's sketch
            prof, numbers[name] = _small(ctx, table_sql, col, reference, rows, name)
            if prof is not None:
                out[name] = prof
        else:
            big.append((name, col, ref))
    first: dict[str, int] = {}  # finite count of the first scan: later scans must agree
    active = big
    for rnd in range(refine_rounds + 1):
        if not active:
            break
        scans = _scan(ctx, table_sql, [c for _, c, _ in active])
        again = []
        for name, col, ref in active:
            r = scans[col.index]
            if r.rows != rows or (name in first and r.n != first[name]):
                raise _changed(name)
            if rnd == 0:
                numbers[name] = r.n + r.pos + r.neg
                if r.non_numbers:  # SQLite text among the values: the engine would see a categorical column
                    continue
                if r.n <= reference.exact_limit:  # many NaN/inf, few finite values: exact after all
                    prof, numbers[name] = _small(ctx, table_sql, col, reference, rows, name)
                    if prof is not None:
                        out[name] = prof
                    continue
                first[name] = r.n
            sk = ref.sketch if ref.kind == NUMERICAL else None
            sketch, gaps = _sketch_from_round(r, col.shift, col.scale, reference)
            new = None
            if rnd < refine_rounds:
                new = _refinement(gaps, r.n, reference.resolution, sk.std if sk is not None else 0.0)
            if new is not None and new.size:
                col.thresholds = np.unique(np.concatenate([col.thresholds, new]))
                again.append((name, col, ref))
                if name not in refined:
                    refined.append(name)
                continue
            out[name] = ColumnProfile(
                kind=NUMERICAL, rows=rows, nulls=r.nulls, pos_inf=r.pos, neg_inf=r.neg, sketch=sketch
            )
        active = again
    return out, numbers, refined


def _small(
    ctx: _Ctx, table_sql: str, col: BucketColumn, reference: ReferenceProfile, rows: int, name: str
) -> tuple[ColumnProfile | None, int]:
    """At most ``exact_limit`` values: their distinct values and counts, and the engine's own sketch of them."""
    special = {CODE_NULL: 0, CODE_POS_INF: 0, CODE_NEG_INF: 0, CODE_NOT_A_NUMBER: 0}
    vals: list[float] = []
    ks: list[int] = []
    for code, v, c in ctx.run(*ctx.dialect.value_counts_sql(ctx, table_sql, col)):
        code, c = int(code), int(c)
        if code < 0 or v is None:
            special[code if code < 0 else CODE_NULL] += c
        else:
            vals.append(float(v))
            ks.append(c)
    n = sum(ks)
    if n + sum(special.values()) != rows:
        raise _changed(name)
    numbers = n + special[CODE_POS_INF] + special[CODE_NEG_INF]
    if special[CODE_NOT_A_NUMBER]:
        return None, numbers
    out = ColumnProfile(
        kind=NUMERICAL,
        rows=rows,
        nulls=special[CODE_NULL],
        pos_inf=special[CODE_POS_INF],
        neg_inf=special[CODE_NEG_INF],
    )
    if n == 0:
        if out.pos_inf or out.neg_inf:
            out.sketch = NumericSketch.empty()
        else:
            out.kind = None  # all null: no valid value seen, as the engine
        return out, numbers
    values = np.repeat(np.asarray(vals, dtype=np.float64), np.asarray(ks, dtype=np.int64))
    out.sketch = NumericSketch.from_values(values, resolution=reference.resolution, exact_limit=reference.exact_limit)
    return out, numbers


def _initial_thresholds(sk: NumericSketch | None, subdivide: int) -> np.ndarray:
    """The reference sketch points, plus ``subdivide`` equally spaced points inside each interval."""
    pts = sk.points.astype(np.float64) if sk is not None and sk.n else np.zeros(0)
    pts = pts[np.isfinite(pts)]
    if subdivide and pts.size > 1 and not (sk is not None and sk.exact):
        # an exact reference's points are its values: there is nothing to split
        w = np.diff(pts)
        frac = np.arange(1, subdivide + 1) / (subdivide + 1)
        extra = (pts[:-1, None] + w[:, None] * frac[None, :]).ravel()
        pts = np.concatenate([pts, extra[np.isfinite(extra)]])
    return np.unique(pts)


@dataclass
class _Gap:
    mass: int  # values strictly between the two neighbouring points
    left: float  # neighbouring points (the interpolation runs between them)
    right: float
    vmin: float  # smallest / largest value inside
    vmax: float


def _sketch_from_round(
    r: _Round, shift: float, scale: float, reference: ReferenceProfile
) -> tuple[NumericSketch, list[_Gap]]:
    """Points: thresholds inside [min, max] (exact counts), single-valued intervals (exact), min and max."""
    th, cnt, mn, mx = r.thresholds, r.cnt, r.mn, r.mx
    n = r.n
    nonempty = np.flatnonzero(cnt)
    first, last = int(nonempty[0]), int(nonempty[-1])
    pts: list[float] = []
    le: list[float] = []
    lt: list[float] = []
    gaps: list[_Gap] = []
    exact = True
    cum = 0
    for code in range(first, last + 1):
        c = int(cnt[code])
        if code % 2:  # threshold t_j
            pts.append(float(th[(code - 1) // 2]))
            lt.append(float(cum))
            le.append(float(cum + c))
            cum += c
            continue
        if c == 0:
            continue
        lo, hi = float(mn[code]), float(mx[code])
        if lo == hi:  # a single distinct value: an exact point
            pts.append(lo)
            lt.append(float(cum))
            le.append(float(cum + c))
            cum += c
            continue
        exact = False
        j = code // 2  # between th[j-1] and th[j]
        left = float(th[j - 1]) if j > 0 and code != first else lo
        right = float(th[j]) if j < th.size and code != last else hi
        if code == first:  # the minimum: its own count is part of the gap that follows it
            pts.append(lo)
            lt.append(0.0)
            le.append(0.0)
        gaps.append(_Gap(c, left, right, lo, hi))
        cum += c
        if code == last:  # the maximum, likewise
            pts.append(hi)
            lt.append(float(n))
            le.append(float(n))
    p = np.asarray(pts, dtype=np.float64)
    le_a = np.asarray(le, dtype=np.float64)
    lt_a = np.asarray(lt, dtype=np.float64)
    if exact and p.size <= reference.exact_limit:
        k = le_a - lt_a
        if p.size == 1:
            mean, m2 = float(p[0]), 0.0
        else:  # two-pass moments of the exact distribution, as the engine computes them from the values
            mean = float(np.sum(k * p)) / n
            m2 = float(np.sum(k * (p - mean) ** 2))
        return NumericSketch(n, p, le_a, lt_a, True, 0.0, mean, m2), gaps
    mean = shift + scale * (r.s1 / n)
    m2 = max(0.0, scale * scale * (r.s2 - r.s1 * r.s1 / n))
    return NumericSketch(n, p, le_a, lt_a, False, 0.0, float(mean), float(m2)), gaps


def _refinement(gaps: list[_Gap], n: int, res: int, ref_sd: float) -> np.ndarray | None:
    """New thresholds inside the gaps holding too much mass (or too much Wasserstein error)."""
    if not gaps:
        return None
    step = n / res
    w_tol = ref_sd / res if ref_sd > 0 and math.isfinite(ref_sd) else math.inf
    new: list[np.ndarray] = []
    splits: list[tuple[float, float, int]] = []
    for g in gaps:
        with np.errstate(over="ignore", invalid="ignore"):
            w_err = (g.right - g.left) * g.mass / n
        heavy = g.mass > 2 * step
        wide = math.isfinite(w_tol) and w_err > w_tol
        if not (heavy or wide):
            continue
        s_mass = math.ceil(g.mass / step) - 1 if heavy else 0
        s_w = math.ceil(w_err / w_tol) - 1 if wide and math.isfinite(w_err) else 0
        s = int(min(max(s_mass, s_w, 0), _MAX_SPLITS_PER_GAP))
        new.append(np.asarray([g.vmin, g.vmax]))
        splits.append((g.vmin, g.vmax, s))
    if not new:
        return None
    total = sum(s for _, _, s in splits)
    budget = 4 * res
    factor = min(1.0, budget / total) if total else 1.0
    for lo, hi, s in splits:
        k = int(s * factor)
        if k > 0 and hi > lo:
            new.append(np.linspace(lo, hi, k + 2)[1:-1])
    out = np.concatenate(new)
    return np.unique(out[np.isfinite(out)])


# --------------------------------------------------------------- categories
def _categorical(
    ctx: _Ctx,
    table: Any,
    *,
    raw_name: str,
    cls: str,
    ref: ColumnProfile,
    rows: int,
    max_categories: int,
    numbers: int,
) -> ColumnProfile:
    d = ctx.dialect
    forced = ref.kind == CATEGORICAL
    keep = set(ref.counts) if forced else set()
    limit = max_categories + len(keep)
    is_number = getattr(d, "is_number_sql", None)
    q = ctx.query()
    col_sql = q.ident(raw_name)
    label = d.label_sql(col_sql, cls)
    num_sql = is_number(col_sql) if is_number is not None else None
    s_cols = f"{label} AS lab" + (f", CASE WHEN {num_sql} THEN 1 ELSE 0 END AS isnum" if num_sql else "")
    g_cols = "lab, COUNT(*) AS n" + (", MIN(isnum) AS mn, MAX(isnum) AS mxn" if num_sql else "")
    w_cols = "lab, n, COUNT(*) OVER () AS d, SUM(n) OVER () AS tot" + (
        ", MIN(mn) OVER () AS allnum, MAX(mxn) OVER () AS anynum" if num_sql else ""
    )
    sql = (
        f"SELECT * FROM (SELECT {w_cols} FROM (SELECT {g_cols} FROM (SELECT {s_cols} FROM {q.table(table)} "
        f"{q.where()}) s WHERE lab IS NOT NULL GROUP BY lab) g) w ORDER BY n DESC, lab {d.limit_sql(limit)}"
    )
    got = ctx.run(*q.done(sql))
    counts = {str(r[0]): int(r[1]) for r in got}
    distinct = int(got[0][2]) if got else 0
    total = int(got[0][3]) if got else 0
    if distinct > len(got) and keep:  # capped: the reference categories beyond the top rows
        missing = sorted(k for k in keep if k not in counts)
        step = d.in_chunk(ctx.connection, ctx.n_where_params)
        for i in range(0, len(missing), step):
            q = ctx.query()
            label = d.label_sql(q.ident(raw_name), cls)
            inner = f"SELECT {label} AS lab FROM {q.table(table)} {q.where()}"
            pred = d.in_sql(q, "lab", missing[i : i + step])
            sql = f"SELECT lab, COUNT(*) FROM ({inner}) s WHERE {pred} GROUP BY lab"
            for lab, c in ctx.run(*q.done(sql)):
                counts[str(lab)] = int(c)
    col = ColumnProfile(kind=CATEGORICAL if total else None, rows=rows, nulls=rows - total)
    if not total:
        return col
    col.counts = counts
    if distinct > len(counts):
        # not every category was fetched: the engine's rule on what was (every reference category present,
        # then the most frequent others - both are among the fetched rows)
        ordered = sorted(counts.items(), key=lambda kv: (kv[0] not in keep, -kv[1], kv[0]))
        n_keep = max(max_categories, sum(1 for k in counts if k in keep))
        col.counts = dict(ordered[:n_keep])
        col.other_count = total - sum(col.counts.values())
        col.other_distinct = distinct - len(col.counts)
    else:
        _cap_categories(col, max_categories, keep)
    if num_sql:  # per-value typing
        all_numbers = bool(_int(got[0][4])) if got else False
        any_number = bool(_int(got[0][5])) if got else False
        if forced:
            col.from_numbers = all_numbers
        else:  # text in a reference-numerical column: mixed when there are numbers too
            col.mixed = any_number or numbers > 0
    elif forced:
        col.from_numbers = cls in _NUMERIC_TYPES
    return col
