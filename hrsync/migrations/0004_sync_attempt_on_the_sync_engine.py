"""Sync attempts on the sync engine (``integrations.attempts.Attempt``): one status vocabulary, one sweep.

Old words to new: *abandoned* (an attempt the old sweep gave up on, replaced by a new one) becomes
*failed*, keeping its reason; a *queued* attempt waiting for its next try (``next_try_at`` set) is
*retrying*. The beat job sweeping leases is now ``sync_attempts_sweep_task`` (``core.jobs.jobs_sweep``).
"""
from django.db import migrations, models

OLD_TASK, NEW_TASK = "hrsync.tasks.sync_leases_expire_task", "hrsync.tasks.sync_attempts_sweep_task"
OLD_NAME, NEW_NAME = "hrsync: pick up stuck sync attempts", "hrsync: sweep sync attempts nobody holds"


def to_one_vocabulary(apps, schema_editor):
    SyncAttempt = apps.get_model("hrsync", "SyncAttempt")
    SyncAttempt.objects.filter(status="abandoned").update(status="failed", lease_until=None, next_try_at=None)
    SyncAttempt.objects.filter(status="queued", next_try_at__isnull=False).update(status="retrying")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=OLD_TASK).update(task=NEW_TASK, name=NEW_NAME)


def to_old_words(apps, schema_editor):
    # An abandoned attempt can't be told from a failed one any more: it stays failed.
    SyncAttempt = apps.get_model("hrsync", "SyncAttempt")
    SyncAttempt.objects.filter(status="retrying").update(status="queued")
    SyncAttempt.objects.filter(status="needs_person").update(status="failed")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=NEW_TASK).update(task=OLD_TASK, name=OLD_NAME)


class Migration(migrations.Migration):

    dependencies = [
        ('hrsync', '0003_sync_attempt_retry_later'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.AlterField(
            model_name='syncattempt',
            name='http_calls',
            field=models.PositiveSmallIntegerField(default=0, help_text='HTTP requests made, retries included.'),
        ),
        migrations.AlterField(
            model_name='syncattempt',
            name='lease_until',
            field=models.DateTimeField(blank=True, editable=False, help_text='Queued or running past this: nobody holds it, and the sweep queues it again.', null=True),
        ),
        migrations.AlterField(
            model_name='syncattempt',
            name='next_try_at',
            field=models.DateTimeField(blank=True, help_text='Retrying: tried again at this time.', null=True),
        ),
        migrations.AlterField(
            model_name='syncattempt',
            name='reason',
            field=models.TextField(blank=True, help_text='Why it is where it is, in words a person can act on.'),
        ),
        migrations.AlterField(
            model_name='syncattempt',
            name='retrying_since',
            field=models.DateTimeField(blank=True, help_text='First transient failure of this row.', null=True),
        ),
        migrations.AlterField(
            model_name='syncattempt',
            name='status',
            field=models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('retrying', 'Retrying'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('needs_person', 'Awaiting a person')], db_index=True, default='queued', max_length=20),
        ),
        migrations.AlterField(
            model_name='syncattempt',
            name='tries',
            field=models.PositiveSmallIntegerField(default=0, editable=False, help_text='Times a worker took it up.'),
        ),
        migrations.RunPython(to_one_vocabulary, to_old_words),
    ]
