"""Stored criteria carry the version of their format: rows written before have version 1."""
from django.db import migrations, models

HELP = "The criteria format they were saved in; older ones are upgraded when read."


def stamp_version_1(apps, schema_editor):
    for model in ("SavedSearch", "ExportJob"):
        apps.get_model("individuals", model).objects.filter(criteria_version__isnull=True).update(criteria_version=1)


class Migration(migrations.Migration):

    dependencies = [("individuals", "0005_case_insensitive_indexes")]

    operations = [
        migrations.AddField("savedsearch", "criteria_version", models.PositiveSmallIntegerField(null=True, help_text=HELP)),
        migrations.AddField("exportjob", "criteria_version", models.PositiveSmallIntegerField(null=True, help_text=HELP)),
        migrations.RunPython(stamp_version_1, migrations.RunPython.noop),
        migrations.AlterField("savedsearch", "criteria_version", models.PositiveSmallIntegerField(default=2, help_text=HELP)),
        migrations.AlterField("exportjob", "criteria_version", models.PositiveSmallIntegerField(default=2, help_text=HELP)),
    ]
