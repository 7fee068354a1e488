"""The workflow email outbox moves onto core.jobs: one ``WorkflowEmail`` row (a Job) per email to send,
instead of the pending / claimed-at / tries columns on the run (a claim made by hand). Emails still to
send become queued rows, with the tries they had.
"""
import django.db.models.deletion
from django.db import migrations, models


def forward(apps, schema_editor):
    Run = apps.get_model("salesrecords", "SalesWorkflowRun")
    Email = apps.get_model("salesrecords", "WorkflowEmail")
    pending = Run.objects.filter(email_pending=True).values_list("pk", "email_tries")
    Email.objects.bulk_create([Email(run_id=pk, status="queued", tries=tries) for pk, tries in pending.iterator()],
                              batch_size=2000)


def backward(apps, schema_editor):
    Run = apps.get_model("salesrecords", "SalesWorkflowRun")
    Email = apps.get_model("salesrecords", "WorkflowEmail")
    for run_id, tries in Email.objects.filter(status__in=("queued", "running", "retrying")).values_list("run_id", "tries"):
        Run.objects.filter(pk=run_id).update(email_pending=True, email_tries=tries)


class Migration(migrations.Migration):

    dependencies = [
        ('salesrecords', '0009_mass_creation_job_on_core_jobs'),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkflowEmail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('retrying', 'Retrying'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('needs_person', 'Awaiting a person')], db_index=True, default='queued', max_length=20)),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('lease_until', models.DateTimeField(blank=True, editable=False, help_text='Queued or running past this: nobody holds it, and the sweep queues it again.', null=True)),
                ('tries', models.PositiveSmallIntegerField(default=0, editable=False, help_text='Times a worker took it up.')),
                ('next_try_at', models.DateTimeField(blank=True, help_text='Retrying: tried again at this time.', null=True)),
                ('retrying_since', models.DateTimeField(blank=True, help_text='First transient failure of this row.', null=True)),
                ('reason', models.TextField(blank=True, help_text='Why it is where it is, in words a person can act on.')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='workflowemail',
            name='run',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='email', to='salesrecords.salesworkflowrun'),
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveIndex(
            model_name='salesworkflowrun',
            name='run_email_pending_idx',
        ),
        migrations.RemoveField(
            model_name='salesworkflowrun',
            name='email_claimed_at',
        ),
        migrations.RemoveField(
            model_name='salesworkflowrun',
            name='email_pending',
        ),
        migrations.RemoveField(
            model_name='salesworkflowrun',
            name='email_tries',
        ),
    ]
