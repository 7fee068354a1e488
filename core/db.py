"""Database helpers shared by the apps' services."""

import functools

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


class UtcText(Func):
    """A moment as exports write it, the same on both databases: ``2026-12-02T15:02:00Z`` (ISO 8601, UTC, to
    the second; ``core.display.utc_text`` writes it in Python)."""

    output_field = CharField()
    template = "strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', %(expressions)s)"

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="""to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""")
