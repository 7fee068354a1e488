import os
import platform

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/agencydesk_bench"
_BASE_URL: str | None = None  # DATABASE_URL as given, before sized_database() switched it


def _create_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    """Point Django at the bench database (creating it if missing), migrate, and set it up."""
    global _BASE_URL
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("AGENCYDESK_BENCH_FLOOR", "true")  # mounts the API list's floor (bench/floor.py)
    os.environ.setdefault("THROTTLE_USER", "1000000/min")  # one user sends the search benchmark's requests
    _BASE_URL = os.environ["DATABASE_URL"]
    if _BASE_URL.startswith("postgres"):
        _create_database(_BASE_URL)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def sized_database(size: int, purpose: str = "") -> str:
    """Switch this process (and the workers it starts, through DATABASE_URL) to the database kept for
    ``size`` rows: ``<bench database>_[<purpose>_]<size>``, created and migrated when missing; its URL."""
    from django.core.management import call_command
    from django.db import connections

    base, _, name = (_BASE_URL or os.environ["DATABASE_URL"]).rpartition("/")
    name = f"{name}_{purpose + '_' if purpose else ''}{size}"
    url = f"{base}/{name}"
    _create_database(url)
    os.environ["DATABASE_URL"] = url
    connection = connections["default"]
    connection.close()
    if connection.settings_dict.get("OPTIONS", {}).get("pool"):
        connection.close_pool()  # a pool keeps connecting to the database it was made for
    connection.settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)
    return url


def machine() -> str:
    """What the figures were measured on: CPUs, memory, PostgreSQL, load."""
    from django.db import connection

    if connection.vendor == "sqlite":  # the imports benchmark runs on SQLite too
        import sqlite3

        database = f"SQLite {sqlite3.sqlite_version}"
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    with open("/proc/meminfo") as f:
        memory = int(f.readline().split()[1]) / 1024 / 1024
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, {memory:.0f} GB RAM, {database}, Python {platform.python_version()}; load {load}"


def psycopg_connect() -> psycopg.Connection:
    """A plain psycopg connection to the bench database, for the same-run limits."""
    from django.db import connection

    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        password=s["PASSWORD"] or None,
        autocommit=True,
    )


def vacuum_analyze(*tables: str) -> None:
    """The tables as autovacuum keeps them in use (it is off on the bench machine): fresh statistics
    (without them the planner picks plans for an empty table) and a visibility map (without it no
    index-only scan: a selective policy search then walks the name index through a million rows).
    Outside a transaction, on the bench database (PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def ensure_individuals(size: int) -> None:
    """At least ``size`` seeded individuals (with policies) in the current database, vacuumed."""
    from django.core.management import call_command

    from individuals.models import Individual

    have = Individual.objects.count()
    if have < size:
        print(f"Seeding {size - have} individuals (have {have})...")
        call_command("seed_individuals", "--count", str(size - have))
    elif have > size * 1.05:
        print(f"Note: the bench database holds {have} individuals (more than --size {size}).")
    vacuum_analyze("individuals_individual", "individuals_policy")  # quick when nothing changed since the last run
