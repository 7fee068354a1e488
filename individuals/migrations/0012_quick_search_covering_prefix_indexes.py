"""The quick search's name, nickname and city prefixes answered from their indexes alone (issue 23).

``individual_quick_find`` takes, per prefix branch, the first page in display order (last name, first name,
id) and bounds the street-address branch by it. The prefix indexes of 0002 and 0011 found the matches but not
their display keys: each match was a read of its table row (for "Thom" at 1M, ~31,000 rows read to keep 51).
The same indexes with the display key included let PostgreSQL read the keys from the index (an index-only
scan, which needs the visibility map VACUUM keeps: autovacuum in production, ``bench.setup.vacuum_analyze`` on
the bench databases); the advanced search's ``istartswith`` uses them as before. SQLite: nothing is done there.
"""

from django.db import migrations

# name -> the expression both versions index (0002: last and first name; 0011: nickname and city)
PREFIX = {
    "ind_last_name_prefix_idx": "UPPER(last_name::text) text_pattern_ops",
    "ind_first_name_prefix_idx": "UPPER(first_name::text) text_pattern_ops",
    "ind_nickname_prefix_idx": "UPPER(nickname::text) text_pattern_ops",
    "ind_city_prefix_idx": "UPPER(city::text) text_pattern_ops",
}
DISPLAY_KEY = "INCLUDE (last_name, first_name, id)"


def _rebuild(schema_editor, include: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in PREFIX.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX {name} ON individuals_individual ({expression}) {include}")
    schema_editor.execute("ANALYZE individuals_individual")


def create(apps, schema_editor):
    _rebuild(schema_editor, DISPLAY_KEY)


def drop(apps, schema_editor):
    _rebuild(schema_editor, "")


class Migration(migrations.Migration):
    dependencies = [("individuals", "0011_quick_search_trigram_indexes")]

    operations = [migrations.RunPython(create, drop)]
