"""Database helpers shared by the apps' services."""

import contextlib
import dataclasses
import functools
import time

from django.db import connection
from django.db.models import CharField, Func


def commit_without_waiting_for_disk() -> None:
    """Let the current transaction commit without waiting for PostgreSQL's WAL flush (``synchronous_commit`` off).

    For writes that are redone if lost: a PostgreSQL crash within a fraction of a second of the commit may
    undo it (never corrupt it), so use it only where the next run recomputes the data or a lease and an
    idempotency key make the work happen again. Must be called inside ``transaction.atomic``; a no-op
    on SQLite.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def joined_columns(models: list[type]) -> tuple[list[str], list[tuple[type, slice, list[str]]], list[tuple[int, list, object]]]:
    """For SQL that reads whole rows of ``models`` joined (what ``select_related`` reads), built once per process:
    the table-qualified columns to select, in order; each model's part of a row (its slice and attnames);
    the database converters of the columns that have some (e.g. SQLite's timestamps), as the ORM applies them.
    ``joined_instances`` turns a row of it into the models' instances.
    """
    quote = connection.ops.quote_name
    columns, parts, converters = [], [], []
    for model in models:
        fields = model._meta.concrete_fields
        parts.append((model, slice(len(columns), len(columns) + len(fields)), [f.attname for f in fields]))
        for field in fields:
            col = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if found:
                converters.append((len(columns), found, col))
            columns.append(f"{quote(model._meta.db_table)}.{quote(field.column)}")
    return columns, parts, converters


def joined_instances(row, parts, converters) -> list:
    """The instances of a row read with ``joined_columns`` (None for a model a LEFT JOIN found no row of)."""
    row = list(row)
    for i, functions, col in converters:
        for convert in functions:
            row[i] = convert(row[i], col, connection)
    return [model.from_db(connection.alias, names, row[part]) if row[part.start] is not None else None for model, part, names in parts]


@functools.cache
def _update_sql(model: type, names: tuple[str, ...], where: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(model._meta.get_field(n).column)} = %s" for n in names)
    conditions = " AND ".join(f"{quote(model._meta.get_field(n).column)} = %s" for n in where)
    return f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {conditions}"  # noqa: S608


def update_where(model: type, values: dict, **where) -> int:
    """``model.objects.filter(**where).update(**values)`` for plain values and equality conditions on fields,
    with its SQL built once per process for these field names (the ORM compiles it on every call, a few
    tenths of a millisecond). Returns the rows updated."""
    fields = model._meta
    params = [fields.get_field(name).get_db_prep_save(value, connection) for name, value in (*values.items(), *where.items())]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(model, tuple(values), tuple(where)), params)
        return cursor.rowcount


@functools.cache
def _upsert_sql(model: type, names: tuple[str, ...], unique: tuple[str, ...], update: tuple[str, ...]) -> tuple[str, str, str]:
    quote, fields = connection.ops.quote_name, model._meta
    columns = [quote(fields.get_field(n).column) for n in names]
    sets = ", ".join(f"{quote(fields.get_field(n).column)} = EXCLUDED.{quote(fields.get_field(n).column)}" for n in update)
    conflict = ", ".join(quote(fields.get_field(n).column) for n in unique)
    head = f"INSERT INTO {quote(fields.db_table)} ({', '.join(columns)}) "
    tail = f" ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
    if connection.vendor == "postgresql":  # one array per column, as the ORM's bulk_create: 19 parameters, not 19 a row
        types = [fields.get_field(n).db_type(connection).split("(")[0] for n in names]
        return head + "SELECT * FROM UNNEST(" + ", ".join(f"(%s)::{t}[]" for t in types) + ")" + tail, "", ""  # noqa: S608 - names from the model
    return head + "VALUES ", "(" + ", ".join(["%s"] * len(names)) + ")", tail


def upsert_rows(model: type, names: tuple[str, ...], rows: list[tuple], *, unique: tuple[str, ...], update: tuple[str, ...]) -> None:
    """``model.objects.bulk_create(objs, update_conflicts=True, unique_fields=unique, update_fields=update)`` for
    rows given as tuples of values in the order of ``names`` (field names), with its SQL built once per process:
    no instance per row, no per-value preparation (the ORM spends longer on those than the database on the
    statement). Values as the database takes them: str, int, None, and dates and timestamps prepared once by
    the field's ``get_db_prep_save`` (SQLite stores text). No defaults are filled in: give every column."""
    if not rows:
        return
    sql, row, tail = _upsert_sql(model, tuple(names), tuple(unique), tuple(update))
    if not row:  # PostgreSQL: the columns as arrays
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        return
    size = max(1, connection.ops.bulk_batch_size([model._meta.get_field(n) for n in names], rows))  # SQLite's limit of parameters
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            cursor.execute(sql + ", ".join([row] * len(batch)) + tail, [value for values in batch for value in values])


class UtcText(Func):
    """A moment as exports write it, the same on both databases: ``2026-12-02T15:02:00Z`` (ISO 8601, UTC, to
    the second; ``core.display.utc_text`` writes it in Python)."""

    output_field = CharField()
    template = "strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', %(expressions)s)"

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""")


# --- Write transactions: how long each holds the write lock ------------------------------------------------

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE")
_NOT_COUNTED = ("SAVEPOINT", "RELEASE", "ROLLBACK TO")


def _is_write(sql: str) -> bool:
    head = sql.lstrip()[:12].upper()
    if head.startswith(WRITES):
        return True
    upper = sql.upper()
    if head.startswith("WITH"):  # a data-modifying CTE
        return any(f" {word} " in upper.replace("(", " ").replace("\n", " ") for word in ("INSERT", "UPDATE", "DELETE"))
    return head.startswith("SELECT") and " FOR UPDATE" in upper or " FOR NO KEY UPDATE" in upper


@dataclasses.dataclass
class Transaction:
    """One transaction on a connection: from its first statement (SQLite: its ``BEGIN IMMEDIATE``, when
    it takes the write lock) to the end of its commit or rollback."""

    started: float
    seconds: float = 0.0
    statements: int = 0
    writes: int = 0
    rows: int = 0
    first_write: str = ""
    locked: bool = False  # SQLite's BEGIN IMMEDIATE: the write lock from the start, written or not

    @property
    def ms(self) -> float:
        return self.seconds * 1000


class WriteTransactions:
    """Records every write transaction on a connection: one with at least one INSERT/UPDATE/DELETE or row
    lock, and on SQLite every ``BEGIN IMMEDIATE`` one (it holds the write lock from its start, written or
    not). For each: its duration, its statements (savepoints left out), its write statements and the rows
    they wrote. A write outside a transaction (autocommit) is a transaction of its own.
    Use ``write_transactions()``."""

    def __init__(self):
        self.done: list[Transaction] = []
        self._open: Transaction | None = None

    # The execute wrapper (connection.execute_wrapper).
    def __call__(self, execute, sql, params, many, context):
        connection = context["connection"]
        text = sql if isinstance(sql, str) else str(sql)
        if text.lstrip().upper().startswith("BEGIN"):
            self._open = Transaction(started=time.perf_counter(), locked=any(m in text.upper() for m in ("IMMEDIATE", "EXCLUSIVE")))
            return execute(sql, params, many, context)
        own = self._open is None and connection.get_autocommit()  # a statement on its own
        if self._open is None:
            self._open = Transaction(started=time.perf_counter())
        current = self._open
        try:
            return execute(sql, params, many, context)
        finally:
            if not text.lstrip().upper().startswith(_NOT_COUNTED):
                current.statements += 1
                if _is_write(text):
                    current.writes += 1
                    current.first_write = current.first_write or " ".join(text.split())[:160]
                    current.rows += max(0, getattr(context.get("cursor"), "rowcount", 0) or 0)
            if own:
                self._end()

    def _end(self) -> None:
        current, self._open = self._open, None
        if current is not None and (current.writes or current.locked):
            current.seconds = time.perf_counter() - current.started
            self.done.append(current)

    def _ends(self, method):
        @functools.wraps(method)
        def ending(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            finally:
                self._end()

        return ending

    @property
    def longest(self) -> Transaction | None:
        """The write transaction that held its lock longest (None: no write)."""
        return max(self.done, key=lambda t: t.seconds, default=None)

    @property
    def most_statements(self) -> int:
        return max((t.statements for t in self.done), default=0)

    @property
    def most_rows(self) -> int:
        return max((t.rows for t in self.done), default=0)


@contextlib.contextmanager
def write_transactions(using: str = "default"):
    """Record the write transactions of this thread's ``using`` connection while the block runs::

        with write_transactions() as log:
            run_the_job()
        log.longest.ms, log.most_statements, log.most_rows

    Transactions end at the connection's commit or rollback (Django's ``atomic`` calls them), so measure
    with real commits (a ``transactional_db`` test, a bench), not inside a test's own wrapping transaction.
    """
    from django.db import connections

    conn = connections[using]
    log = WriteTransactions()
    commit, rollback = conn.commit, conn.rollback
    conn.commit, conn.rollback = log._ends(commit), log._ends(rollback)
    try:
        with conn.execute_wrapper(log):
            yield log
    finally:
        del conn.commit, conn.rollback  # back to the class's own methods
        log._end()
