"""The quick search's individuals by indexes on PostgreSQL instead of a read of every individual (issue 23).

Its query ORs, per word, a prefix of the last, first and nick name and the city with a substring of the street
address (``individual_quick_find``); PostgreSQL combines indexes for an OR only when EVERY branch has one. The
names and the street had one (0002, 0005); the nickname and the city (``UPPER(col) LIKE 'X%'``) get a prefix
index here, and the phone digits (``REPLACE(...(cell_phone)...) LIKE '%5550102233%'``, the exact expression
``selectors._digits`` writes) a trigram index. SQLite has no operator classes nor GIN: nothing is done there.
"""

from django.db import migrations

PUNCTUATION = ("(", ")", "-", " ", ".", "+")  # individuals.selectors.PHONE_PUNCTUATION, frozen as of this migration


def _digits(column: str) -> str:
    sql = f"({column})::text"
    for char in PUNCTUATION:
        sql = f"replace({sql}, '{char}'::text, ''::text)"
    return sql


PREFIX = {
    "ind_nickname_prefix_idx": "(UPPER(nickname::text) text_pattern_ops)",
    "ind_city_prefix_idx": "(UPPER(city::text) text_pattern_ops)",
}
TRIGRAM = {
    "ind_cell_digits_trgm_idx": f"USING gin (({_digits('cell_phone')}) gin_trgm_ops)",
    "ind_home_digits_trgm_idx": f"USING gin (({_digits('home_phone')}) gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    indexes = dict(PREFIX)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is not None:  # without pg_trgm the phone search still works, unindexed (as in 0005)
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            indexes.update(TRIGRAM)
    for name, definition in indexes.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON individuals_individual {definition}")
    schema_editor.execute("ANALYZE individuals_individual")  # the planner needs the expressions' statistics


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in (*PREFIX, *TRIGRAM):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("individuals", "0010_policy_number_prefix_index")]

    operations = [migrations.RunPython(create, drop)]
