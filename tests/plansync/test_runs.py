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


def test_a_second_run_of_a_group_is_skipped_while_one_is_in_progress(benefitpoint):
    link = import_account(40002)
    running = PlanSyncRun.objects.create(link=link, lease_until=timezone.now() + timedelta(minutes=5))
    second = sync(link)
    assert second.status == PlanSyncRun.Status.SKIPPED and "never overlap" in second.summary
    assert PlanSyncRun.objects.get(pk=running.pk).status == PlanSyncRun.Status.IN_PROGRESS


def test_a_run_past_its_lease_is_failed_and_the_group_runs_again(benefitpoint):
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group)
    choose(link, Row(plan=plan, choice="create_there"))
    dead = PlanSyncRun.objects.create(link=link, lease_until=timezone.now() - timedelta(seconds=1))
    run = sync(link)
    assert run.status == PlanSyncRun.Status.SUCCESSFUL
    assert "worker stopped" in PlanSyncRun.objects.get(pk=dead.pk).summary


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
    assert run.status == PlanSyncRun.Status.SUCCESSFUL and run.items.count() == 6
    for plan in plans:
        plan.refresh_from_db()
        assert plan.policy_number == f"THERE-{plan.pk}"
    # one read per plan, counted in its run; one login for the pass and its reading threads
    assert run.calls == 6
    assert benefitpoint.stats()["total_calls"] - before == 3 + 6  # login, findChanges, logout
    # the plans' open conflicts are read once for the pass, not once per plan
    assert sum(q["sql"].startswith('SELECT "plansync_plansyncconflict".') for q in queries.captured_queries) == 1
