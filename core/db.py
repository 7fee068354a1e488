"""Database helpers shared by the apps' services."""
from django.db import connection


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
