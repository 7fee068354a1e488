"""Beat: the ten-minute retry of failed notifications gives way to a sweep every minute of every row of
work nobody holds (notifications, sync attempts, reconciliations); transient failures are retried by the
one retry policy, each at its own time."""
from django.db import migrations

OLD = ("ams: retry failed notifications", "ams.tasks.notifications_retry_task")
NEW = ("ams: sweep notifications, syncs and reconciliations", "ams.tasks.ams_sweep_task")


def to_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=OLD[0]).delete()
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(name=NEW[0], defaults={"task": NEW[1], "interval": every_minute, "enabled": True})


def to_retry(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NEW[0]).delete()
    every_ten, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(name=OLD[0], defaults={"task": OLD[1], "interval": every_ten, "enabled": True})


class Migration(migrations.Migration):
    dependencies = [
        ("ams", "0003_jobs_and_attempts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(to_sweep, to_retry)]
