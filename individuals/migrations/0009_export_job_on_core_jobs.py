"""Export jobs move onto core.jobs.Job (Expired is shown from expires_at, not a status).

Status words become core.jobs' one vocabulary (pending>queued, done>succeeded, expired>succeeded); ``error`` becomes the base's ``reason``; the
runner / heartbeat pair becomes a lease (``lease_until``, renewed by the worker). Active rows get a lease
that runs out now, so the first sweep after the deploy re-queues (or re-sends) each once. The beat sweep
is renamed after what it now is.
"""
import django.utils.timezone
from django.db import migrations, models

APP_LABEL = "individuals"
MODEL = "exportjob"
WORDS = {"pending": "queued", "done": "succeeded", "expired": "succeeded"}
OLD_TASK, NEW_TASK = "individuals.tasks.export_jobs_resume_task", "individuals.tasks.export_jobs_sweep_task"
NEW_NAME = "individuals: sweep export jobs nobody holds"


def forward(apps, schema_editor):
    rows = apps.get_model(APP_LABEL, MODEL)._default_manager
    for old, new in WORDS.items():
        rows.filter(status=old).update(status=new)
    rows.filter(status__in=("queued", "running")).update(lease_until=django.utils.timezone.now())
    tasks = apps.get_model("django_celery_beat", "PeriodicTask")._default_manager
    tasks.filter(task=OLD_TASK).update(task=NEW_TASK, name=NEW_NAME)


def backward(apps, schema_editor):
    rows = apps.get_model(APP_LABEL, MODEL)._default_manager
    for old, new in WORDS.items():
        if old != "expired":
            rows.filter(status=new).update(status=old)
    rows.filter(status__in=("retrying", "needs_person")).update(status="failed")
    tasks = apps.get_model("django_celery_beat", "PeriodicTask")._default_manager
    tasks.filter(task=NEW_TASK).update(task=OLD_TASK)


class Migration(migrations.Migration):

    dependencies = [
        ('django_celery_beat', '0019_alter_periodictasks_options'),
        ('individuals', '0008_export_job_heartbeat'),
    ]

    operations = [
        migrations.AddField(
            model_name='exportjob',
            name='lease_until',
            field=models.DateTimeField(blank=True, editable=False, help_text='Queued or running past this: nobody holds it, and the sweep queues it again.', null=True),
        ),
        migrations.AddField(
            model_name='exportjob',
            name='next_try_at',
            field=models.DateTimeField(blank=True, help_text='Retrying: tried again at this time.', null=True),
        ),
        migrations.AddField(
            model_name='exportjob',
            name='retrying_since',
            field=models.DateTimeField(blank=True, help_text='First transient failure of this row.', null=True),
        ),
        migrations.AddField(
            model_name='exportjob',
            name='tries',
            field=models.PositiveSmallIntegerField(default=0, editable=False, help_text='Times a worker took it up.'),
        ),
        migrations.RenameField(model_name='exportjob', old_name='error', new_name='reason'),
        migrations.AlterField(model_name='exportjob', name='reason', field=models.TextField(blank=True, help_text='Why it is where it is, in words a person can act on.'),
        ),
        migrations.AlterField(
            model_name='exportjob',
            name='status',
            field=models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('retrying', 'Retrying'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('needs_person', 'Awaiting a person')], db_index=True, default='queued', max_length=20),
        ),
        migrations.AlterField(
            model_name='exportjob',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, db_index=True),
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveField(
            model_name='exportjob',
            name='heartbeat_at',
        ),
        migrations.RemoveField(
            model_name='exportjob',
            name='runner',
        ),
    ]
