"""Stored criteria carry the version of their format: rows written before have version 1."""
from django.db import migrations, models

HELP = "The criteria format they were saved in; older ones are upgraded when read."


def stamp_version_1(apps, schema_editor):
    for model in ("MassCreationJob", "SalesWorkflow"):
        apps.get_model("salesrecords", model).objects.filter(criteria_version__isnull=True).update(criteria_version=1)


class Migration(migrations.Migration):

    dependencies = [("salesrecords", "0004_individual_without_fk_constraint"), ("individuals", "0006_criteria_version")]

    operations = [
        migrations.AddField("masscreationjob", "criteria_version", models.PositiveSmallIntegerField(null=True, help_text=HELP)),
        migrations.AddField("salesworkflow", "criteria_version", models.PositiveSmallIntegerField(null=True, help_text=HELP)),
        migrations.RunPython(stamp_version_1, migrations.RunPython.noop),
        migrations.AlterField("masscreationjob", "criteria_version", models.PositiveSmallIntegerField(default=2, help_text=HELP)),
        migrations.AlterField("salesworkflow", "criteria_version", models.PositiveSmallIntegerField(default=2, help_text=HELP)),
    ]
