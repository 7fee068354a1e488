"""The quick search's policy-number prefix (``policy_number__istartswith``: ``UPPER(policy_number) LIKE 'X%'``)
by an index on PostgreSQL instead of a scan of every policy (0.95 s -> 0.1 ms at 1M individuals, 1.4M
policies); SQLite has no operator classes and keeps its scan."""

from django.db import migrations

INDEX = "pol_number_upper_prefix_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON individuals_policy (UPPER(policy_number::text) text_pattern_ops)")
        schema_editor.execute("ANALYZE individuals_policy")  # the planner needs the expression's statistics to use it


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("individuals", "0009_export_job_on_core_jobs")]

    operations = [migrations.RunPython(create, drop)]
