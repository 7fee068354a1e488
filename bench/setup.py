import os

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/agencydesk_bench"


def setup_django() -> None:
    """Point Django at the bench database (creating it if missing), migrate, and set it up."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_DEBUG", "false")
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        base, _, name = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def psycopg_connect() -> psycopg.Connection:
    """A plain psycopg connection to the bench database, for the same-run limits."""
    from django.db import connection

    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"], user=s["USER"], host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, password=s["PASSWORD"] or None,
        autocommit=True,
    )
