"""Beat schedule: the sweep that resumes a dead worker's import job runs every 15 s (was every minute)."""
from django.db import migrations

TASK = "core.tasks.import_jobs_resume_task"


def every(seconds, period):
    def set_interval(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=period)
        PeriodicTask.objects.filter(task=TASK).update(interval=interval)

    return set_interval


class Migration(migrations.Migration):
    dependencies = [("core", "0003_import_jobs_resume_schedule")]

    operations = [migrations.RunPython(every(15, "seconds"), every(1, "minutes"))]
