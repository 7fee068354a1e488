"""Runs as rows: one per group at a time, a dead run's lease, the hourly schedule, list query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from plans.services import plan_update
from plansync.models import PlanChoice, PlanSyncRun
from plansync.services import Row
from tests.plansync.factories import SyncedPlanFactory, choose, import_account, sync

pytestmark = pytest.mark.django_db


def _running(link, **lease):
    return PlanSyncRun.objects.create(
        link=link, status="running", tries=1, started_at=timezone.now(), lease_until=timezone.now() + timedelta(**lease)
    )


def test_a_second_run_of_a_group_waits_while_one_is_running(benefitpoint, django_capture_on_commit_callbacks):
    from django.db import IntegrityError, transaction

    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group)
    choose(link, Row(plan=plan, choice="create_there"))
    running = _running(link, minutes=5)
    second = sync(link)
    assert second.status == "queued" and "never overlap" in second.reason
    assert PlanSyncRun.objects.get(pk=running.pk).status == "running"
    assert sync(link).pk == second.pk  # a second request joins the waiting run
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds the rule too
        PlanSyncRun.objects.filter(pk=second.pk).update(status="running")
    # the running one ends: the waiting one is sent at once, and runs
    from core.jobs import job_settle

    with django_capture_on_commit_callbacks(execute=True):
        from plansync.services.runs import _hand_over

        assert job_settle(running, "succeeded")
        _hand_over(running)
    second.refresh_from_db()
    assert second.status == "succeeded" and second.items.get().status == "succeeded"


def test_a_run_past_its_lease_is_taken_up_again_by_the_sweep_and_finishes(benefitpoint):
    from plansync.services import plan_sync_sweep

    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group)
    choose(link, Row(plan=plan, choice="create_there"))
    dead = _running(link, seconds=-1)
    assert plan_sync_sweep() == 1
    run = sync(link)
    assert run.pk == dead.pk and run.status == "succeeded" and run.tries == 2
    assert "worker stopped" in run.history[-2] and "Try 2" in run.history[-2]


def test_a_run_the_far_side_could_not_take_is_retried_by_the_one_policy(benefitpoint, settings):
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 1
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group)
    choose(link, Row(plan=plan, choice="create_there"))
    benefitpoint.knobs(error_rate=1.0)
    run = sync(link)
    assert run.status == "retrying" and run.next_try_at > timezone.now() and run.queue == "in_progress"
    assert run.reason.startswith("Retrying:") and "unavailable" in run.reason
    benefitpoint.knobs(error_rate=0.0)
    again = sync(link)  # "Sync now" makes the retry due now
    assert again.pk == run.pk and again.status == "succeeded" and again.tries == 2
    assert len(benefitpoint.products(alternativePlanID=f"AgencyDesk-plan-{plan.pk}")) == 1


def test_the_hourly_schedule_is_in_the_admin(benefitpoint):
    task = PeriodicTask.objects.get(task="plansync.tasks.plan_sync_hourly_task")
    assert task.enabled and (task.interval.every, task.interval.period) == (1, "hours")


def test_the_hourly_pass_runs_only_groups_with_changes(benefitpoint):
    from plansync.tasks import plan_sync_hourly_task

    quiet, busy = import_account(40002), import_account(40003)
    plans = {link.pk: SyncedPlanFactory(group=link.group) for link in (quiet, busy)}
    for link in (quiet, busy):
        choose(link, Row(plan=plans[link.pk], choice="create_there"))
    assert plan_sync_hourly_task() == 2  # both have a first sync to do
    plan_update(actor=None, plan=plans[busy.pk], data={"name": "Renamed here"})
    assert plan_sync_hourly_task() == 1
    assert PlanSyncRun.objects.filter(link=quiet).count() == 1


def test_runs_list_has_a_bounded_query_count(api, benefitpoint, django_assert_max_num_queries):
    for account_id in (40002, 40003, 40005):
        link = import_account(account_id)
        choose(link, Row(plan=SyncedPlanFactory(group=link.group), choice="create_there"))
        sync(link)
    with django_assert_max_num_queries(8):
        response = api.get("/api/plan-sync-runs/")
    assert response.status_code == 200 and len(response.json()["results"]) == 3


def test_plans_changed_there_are_read_a_few_at_a_time_and_each_arrives(benefitpoint, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from plansync.tasks import plan_sync_hourly_task

    settings.PLANSYNC_CONCURRENCY = 4
    link = import_account(40002)
    plans = [SyncedPlanFactory(group=link.group, name=f"Read ahead {n}") for n in range(6)]
    choose(link, *[Row(plan=p, product_id=None, choice="create_there") for p in plans])
    sync(link)
    for choice in PlanChoice.objects.filter(plan__in=plans):
        benefitpoint.edit(choice.product_id, policyNumber=f"THERE-{choice.plan_id}")
    before = benefitpoint.stats()["total_calls"]
    with CaptureQueriesContext(connection) as queries:
        assert plan_sync_hourly_task() == 1
    run = PlanSyncRun.objects.filter(link=link).latest("pk")
    assert run.status == PlanSyncRun.Status.SUCCEEDED and run.items.count() == 6
    for plan in plans:
        plan.refresh_from_db()
        assert plan.policy_number == f"THERE-{plan.pk}"
    # one read per plan, counted in its run; one login for the pass and its reading threads
    assert run.http_calls == 6
    assert benefitpoint.stats()["total_calls"] - before == 3 + 6  # login, findChanges, logout
    # the plans' open conflicts are read once for the pass, not once per plan
    assert sum(q["sql"].startswith('SELECT "plansync_plansyncconflict".') for q in queries.captured_queries) == 1


def test_the_old_status_words_map_onto_the_one_vocabulary(benefitpoint):
    import importlib

    from django.apps import apps

    from plansync.models import PlanSyncItem

    migration = importlib.import_module("plansync.migrations.0004_runs_on_the_sync_engine")
    link = import_account(40002)
    old = {
        word: PlanSyncRun.objects.create(
            link=link,
            status=word,
            started_at=timezone.now() - timedelta(hours=1),
            reason="Another run of this group was in progress: skipped, so runs never overlap." if word == "skipped" else "",
        )
        for word in ("in_progress", "successful", "skipped", "failed")
    }
    PlanSyncRun.objects.filter(pk=old["in_progress"].pk).update(lease_until=None)
    items = [PlanSyncItem.objects.create(run=old["successful"], plan_label="P", status=word) for word in ("in_progress", "successful")]
    migration.forwards(apps, None)
    runs = {word: PlanSyncRun.objects.get(pk=run.pk) for word, run in old.items()}
    assert {word: run.status for word, run in runs.items()} == {
        "in_progress": "running",
        "successful": "succeeded",
        "skipped": "succeeded",
        "failed": "failed",
    }
    assert runs["skipped"].reason == "Skipped: a run was in progress (runs of a group never overlap)."
    assert runs["in_progress"].tries == 1 and runs["in_progress"].lease_until <= timezone.now()  # the sweep takes it up
    assert runs["successful"].created_at == runs["successful"].started_at
    assert [PlanSyncItem.objects.get(pk=i.pk).status for i in items] == ["running", "succeeded"]
