"""Seed the four sales record types, and the beat job that resumes stuck mass creation jobs."""
from django.db import migrations

TYPES = ["Lead", "Renewal", "AEP", "Do Not Contact"]
TASK = "salesrecords.tasks.mass_creation_resume_stuck_task"
NAME = "salesrecords: resume stuck sales record creation jobs"


def seed(apps, schema_editor):
    SalesRecordType = apps.get_model("salesrecords", "SalesRecordType")
    for order, name in enumerate(TYPES):
        SalesRecordType.objects.get_or_create(name=name, defaults={"sort_order": (order + 1) * 10})
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": every_5, "enabled": True})


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("salesrecords", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
