"""Beat schedules (editable in the admin): a reconciliation every night at 02:30, failed notifications
retried every 10 minutes."""
from django.db import migrations

SCHEDULES = {
    "ams: daily reconciliation": "ams.tasks.reconciliation_daily_task",
    "ams: retry failed notifications": "ams.tasks.notifications_retry_task",
}


def add_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*")
    every_ten, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(name="ams: daily reconciliation", defaults={
        "task": SCHEDULES["ams: daily reconciliation"], "crontab": nightly, "enabled": True})
    PeriodicTask.objects.get_or_create(name="ams: retry failed notifications", defaults={
        "task": SCHEDULES["ams: retry failed notifications"], "interval": every_ten, "enabled": True})


def remove_schedules(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ams", "0001_inbox_reconciliations_sync_queue_and_identity_conflicts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
