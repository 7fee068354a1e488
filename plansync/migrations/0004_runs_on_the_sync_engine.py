"""Plan sync runs move onto the one sync engine (``integrations.attempts.Attempt``): one status vocabulary.

Old words -> new: a run ``in_progress`` -> ``running`` (taken once; the sweep picks it up when its lease
ran out, or at once if it had none); ``successful`` -> ``succeeded``; ``skipped`` -> ``succeeded`` with the
reason "Skipped: a run was in progress" (it did nothing and nothing went wrong: listing it under Failed
would alarm people about nothing). A plan outcome ``in_progress`` -> ``running`` (failed as "stopped before
its outcome was recorded" when its run is taken up again), ``successful`` -> ``succeeded``.
"""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

SKIPPED = "Skipped: a run was in progress (runs of a group never overlap)."


def forwards(apps, schema_editor):
    Run = apps.get_model("plansync", "PlanSyncRun")
    Item = apps.get_model("plansync", "PlanSyncItem")
    now = django.utils.timezone.now()
    Run.objects.update(created_at=models.F("started_at"))
    Run.objects.filter(status="in_progress", lease_until__isnull=True).update(lease_until=now)
    Run.objects.filter(status="in_progress").update(status="running", tries=1)
    Run.objects.filter(status="successful").update(status="succeeded")
    for run in Run.objects.filter(status="skipped").only("pk", "reason"):
        run.status, run.reason = "succeeded", " ".join(filter(None, [SKIPPED, run.reason if "overlap" not in run.reason else ""]))
        run.save(update_fields=["status", "reason"])
    Item.objects.filter(status="in_progress").update(status="running")
    Item.objects.filter(status="successful").update(status="succeeded")


def backwards(apps, schema_editor):
    Run = apps.get_model("plansync", "PlanSyncRun")
    Item = apps.get_model("plansync", "PlanSyncItem")
    Run.objects.filter(status="succeeded", reason__startswith="Skipped:").update(status="skipped")
    Run.objects.filter(status="succeeded").update(status="successful")
    Run.objects.filter(status__in=["queued", "running", "retrying"]).update(status="in_progress")
    Run.objects.filter(status="needs_person").update(status="failed")
    for started in Run.objects.filter(started_at__isnull=True).values_list("pk", "created_at"):
        Run.objects.filter(pk=started[0]).update(started_at=started[1])
    # One In progress per group again (the old rule): the older ones of a group are failed.
    seen = set()
    for pk, link_id in Run.objects.filter(status="in_progress").order_by("-pk").values_list("pk", "link_id"):
        if link_id in seen:
            Run.objects.filter(pk=pk).update(status="failed")
        seen.add(link_id)
    Item.objects.filter(status="running").update(status="in_progress")
    Item.objects.filter(status="succeeded").update(status="successful")


class Migration(migrations.Migration):

    dependencies = [
        ("plansync", "0003_remote_plan_ams_policy"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="plansyncrun", name="plansyncrun_one_in_progress_per_group"),
        migrations.RenameField(model_name="plansyncrun", old_name="calls", new_name="http_calls"),
        migrations.AlterField(
            model_name="plansyncrun", name="http_calls",
            field=models.PositiveSmallIntegerField(default=0, help_text="HTTP requests made, retries included."),
        ),
        migrations.RenameField(model_name="plansyncrun", old_name="summary", new_name="reason"),
        migrations.AlterField(
            model_name="plansyncrun", name="reason",
            field=models.TextField(blank=True, help_text="Why it is where it is, in words a person can act on."),
        ),
        migrations.AddField(
            model_name="plansyncrun", name="created_at",
            field=models.DateTimeField(auto_now_add=True, db_index=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AlterField(model_name="plansyncrun", name="started_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AlterField(
            model_name="plansyncrun", name="status",
            field=models.CharField(choices=[("queued", "Queued"), ("running", "Running"), ("retrying", "Retrying"),
                                            ("succeeded", "Succeeded"), ("failed", "Failed"), ("needs_person", "Awaiting a person")],
                                   db_index=True, default="queued", max_length=20),
        ),
        migrations.AlterField(
            model_name="plansyncrun", name="lease_until",
            field=models.DateTimeField(blank=True, editable=False, null=True,
                                       help_text="Queued or running past this: nobody holds it, and the sweep queues it again."),
        ),
        migrations.AddField(
            model_name="plansyncrun", name="tries",
            field=models.PositiveSmallIntegerField(default=0, editable=False, help_text="Times a worker took it up."),
        ),
        migrations.AddField(
            model_name="plansyncrun", name="next_try_at",
            field=models.DateTimeField(blank=True, null=True, help_text="Retrying: tried again at this time."),
        ),
        migrations.AddField(
            model_name="plansyncrun", name="retrying_since",
            field=models.DateTimeField(blank=True, null=True, help_text="First transient failure of this row."),
        ),
        migrations.AddField(
            model_name="plansyncrun", name="history",
            field=models.JSONField(blank=True, default=list, help_text="What happened, try by try, in words."),
        ),
        migrations.AlterField(
            model_name="plansyncrun", name="requested_by",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                    to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name="plansyncrun", name="trigger",
            field=models.CharField(choices=[("hourly", "Hourly schedule"), ("manual", "Sync now"), ("resolve", "Conflict resolved"),
                                            ("edit", "Plan edited here")], default="hourly", max_length=20),
        ),
        migrations.AlterModelOptions(
            name="plansyncrun", options={"ordering": ["-created_at", "-id"], "verbose_name": "plan sync run"},
        ),
        migrations.AddField(
            model_name="plansyncitem", name="run_try", field=models.PositiveSmallIntegerField(default=1, verbose_name="try"),
        ),
        migrations.AlterField(
            model_name="plansyncitem", name="status",
            field=models.CharField(choices=[("running", "Running"), ("succeeded", "Succeeded"), ("failed", "Failed")],
                                   default="running", max_length=20),
        ),
        migrations.AddField(
            model_name="planchoice", name="pending_push", field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddConstraint(
            model_name="plansyncrun",
            constraint=models.UniqueConstraint(condition=models.Q(("status", "running")), fields=("link",),
                                               name="plansyncrun_one_running_per_link"),
        ),
    ]
