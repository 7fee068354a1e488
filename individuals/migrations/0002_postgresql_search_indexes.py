"""PostgreSQL-only indexes for the advanced search (SQLite has no GIN or pattern operator classes).

- GIN (jsonb_path_ops) on custom field values: the custom-field filters use ``@>`` containment there.
- text_pattern_ops on UPPER(name/email): ``istartswith`` becomes ``UPPER(col::text) LIKE 'X%'``,
  which a plain b-tree cannot serve outside the C collation.
"""
from django.db import migrations

INDEXES = {
    "ind_custom_fields_gin": "USING gin (custom_fields jsonb_path_ops)",
    "ind_last_name_prefix_idx": "(UPPER(last_name::text) text_pattern_ops)",
    "ind_first_name_prefix_idx": "(UPPER(first_name::text) text_pattern_ops)",
    "ind_middle_name_prefix_idx": "(UPPER(middle_name::text) text_pattern_ops)",
    "ind_zip_prefix_idx": "(zip_code text_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON individuals_individual {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("individuals", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
