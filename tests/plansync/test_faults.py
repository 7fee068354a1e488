"""Faults against the real sandbox: a worker dying between the write there and the record here, and the
answer to a create lost. After the sweep or the next run: 0 duplicates there, 0 lost updates here, and the
run's history says what happened."""

import datetime
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.http import TransientError
from plans.services import plan_update
from plansync.models import PlanChoice, PlanSyncConflict, PlanSyncRun
from plansync.services import Row, plan_sync_sweep
from plansync.services import sync as per_plan
from tests.plansync.factories import SyncedPlanFactory, choose, import_account, sync

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """The worker process stops here (not an error the run could catch)."""


def _die_once_when_recording(monkeypatch):
    """The recording step every plan ends with raises once, after the write there was made."""
    settle, died = per_plan._settle, []

    def dying(*args, **kwargs):
        if not died:
            died.append(True)
            raise WorkerDied
        return settle(*args, **kwargs)

    monkeypatch.setattr(per_plan, "_settle", dying)
    return died


def _sweep_after_the_lease(settings, capture):
    """The beat's sweep, once the dead run's lease ran out; its message runs the run's next try (eagerly)."""
    later = timezone.now() + timedelta(seconds=settings.PLANSYNC_RUN_LEASE_SECONDS + 1)
    with capture(execute=True):
        assert plan_sync_sweep(now=later) == 1


def _marked(benefitpoint, plan):
    return benefitpoint.products(alternativePlanID=f"AgencyDesk-plan-{plan.pk}")


def test_a_worker_dying_after_a_create_there_makes_no_duplicate_and_the_sweep_finishes(
    benefitpoint, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # given: a plan to create there; the worker dies once the product exists there, before we record it
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name="Created before the crash")
    choose(link, Row(plan=plan, choice="create_there"))
    died = _die_once_when_recording(monkeypatch)
    with pytest.raises(WorkerDied):
        sync(link)
    assert died and len(_marked(benefitpoint, plan)) == 1
    run = PlanSyncRun.objects.get(link=link)
    assert run.status == "running" and run.items.get().status == "running"  # as the dead worker left it
    # when: its lease runs out and the sweep sends it again
    _sweep_after_the_lease(settings, django_capture_on_commit_callbacks)
    # then: one product there, linked here; the run finished on its second try and says so
    run.refresh_from_db()
    assert run.status == "succeeded" and run.tries == 2
    (product,) = _marked(benefitpoint, plan)
    choice = PlanChoice.objects.get(plan=plan)
    assert (choice.state, choice.product_id) == (PlanChoice.State.SYNCED, product["productID"])
    assert "Its worker stopped while running it" in run.history[-2] and "Try 2 started" in run.history[-2]
    assert "1 plan of the last try had no recorded outcome" in run.history[-2]
    first, second = run.items.order_by("pk")
    assert (first.run_try, first.status) == (1, "failed") and "Stopped before its outcome was recorded" in first.reason
    assert (second.run_try, second.status) == (2, "succeeded") and second.action.startswith("created there by an earlier try")


def test_a_worker_dying_after_an_update_there_loses_no_update_on_either_side(benefitpoint, monkeypatch, settings, django_capture_on_commit_callbacks):
    # given: a synced plan whose new name is written there when the worker dies, before the record here
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name="Synced plan")
    choose(link, Row(plan=plan, choice="create_there"))
    assert sync(link).status == "succeeded"
    product_id = PlanChoice.objects.get(plan=plan).product_id
    plan_update(actor=None, plan=plan, data={"name": "Renamed once"})
    _die_once_when_recording(monkeypatch)
    with pytest.raises(WorkerDied):
        sync(link)
    assert benefitpoint.product(product_id)["name"] == "Renamed once"  # written there, not recorded here
    # meanwhile: renamed again here, the renewal moved here, the policy number changed there
    plan_update(actor=None, plan=plan, data={"name": "Renamed twice", "renewal_date": datetime.date(2027, 2, 1)})
    benefitpoint.edit(product_id, policyNumber="FAR-1")
    # when: the sweep takes the dead run up again
    _sweep_after_the_lease(settings, django_capture_on_commit_callbacks)
    # then: every change on both sides arrived, none taken for a conflict, one product there
    plan.refresh_from_db()
    there = benefitpoint.product(product_id)
    assert (there["name"], there["renewalOn"], plan.policy_number) == ("Renamed twice", "2027-02-01", "FAR-1")
    assert not PlanSyncConflict.objects.exists()
    assert len(_marked(benefitpoint, plan)) == 1
    run = PlanSyncRun.objects.filter(link=link).order_by("pk")[1]
    assert (run.status, run.tries) == ("succeeded", 2) and "worker stopped" in run.history[-2]
    assert not PlanChoice.objects.get(plan=plan).pending_push


def test_a_lost_create_answer_is_found_by_its_marker_on_the_next_try(benefitpoint, monkeypatch, settings):
    # given: the create is done there but its answer is lost, and the look-up right after fails too
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 1
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name="Lost answer")
    choose(link, Row(plan=plan, choice="create_there"))
    benefitpoint.knobs(lost_create_rate=1.0)
    find, looks = per_plan.BenefitPointClient.find_product_by_marker, []

    def unavailable_once(client, *args, **kwargs):
        looks.append(args)
        if len(looks) == 1:
            raise TransientError("The benefits-admin system did not answer in time.", code="timeout")
        return find(client, *args, **kwargs)

    monkeypatch.setattr(per_plan.BenefitPointClient, "find_product_by_marker", unavailable_once)
    run = sync(link)
    benefitpoint.knobs(lost_create_rate=0.0)
    assert run.status == "retrying" and "unavailable" in run.items.get().reason
    assert len(_marked(benefitpoint, plan)) == 1  # it was created all the same
    # when: the next try (Sync now makes it due)
    again = sync(link)
    # then: found by its marker before any create: still one product, linked here
    assert again.pk == run.pk and again.status == "succeeded" and again.tries == 2
    (product,) = _marked(benefitpoint, plan)
    assert PlanChoice.objects.get(plan=plan).product_id == product["productID"]
    assert again.items.get(run_try=2).action.startswith("created there by an earlier try")
    assert [line.split(" · ")[1][:20] for line in again.history] == [
        "Queued (Sync now).",
        "Try 1 started.",
        "Try 1: 1 plan with c",
        "Try 2 started after:",
        "Try 2: 1 plan with c",
    ]
    assert "Retried later" in again.history[2] and "Retrying:" in again.history[3]


def _worker_env(args: list[str]) -> dict:
    """The environment ``celery_worker_process`` gives its worker: this test database, its own queue."""
    import os

    from django.db import connection

    db, queue = connection.settings_dict, args[args.index("-Q") + 1]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "INTEGRATIONS_QUEUE": queue,
    }


@pytest.mark.worker
def test_a_real_worker_killed_mid_run_leaves_it_to_the_sweep_and_nothing_twice(benefitpoint, celery_worker_process, reference_data):
    """A real worker process runs "Sync now"; killed while it holds the run, the sweep's message lets the
    next worker finish it (PostgreSQL + Redis pass)."""
    import signal
    import subprocess
    import time

    from django.db import transaction

    from plansync.services import plan_sync_request
    from tests.conftest import ROOT

    link = import_account(40002)
    plans = [SyncedPlanFactory(group=link.group, name=f"Worker plan {n}") for n in range(6)]
    choose(link, *[Row(plan=p, choice="create_there") for p in plans])
    benefitpoint.knobs(latency_ms=300)  # slow enough to kill the worker while it runs
    with transaction.atomic():
        run = plan_sync_request(actor=None, link=link)  # sent on commit
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not run.items.exists():
        time.sleep(0.1)
    celery_worker_process.send_signal(signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    run.refresh_from_db()
    assert run.status == "running"
    benefitpoint.knobs(latency_ms=0)
    # a new worker, and the sweep once the dead one's lease ran out
    worker = subprocess.Popen(celery_worker_process.args, cwd=ROOT, env=_worker_env(celery_worker_process.args))
    try:
        PlanSyncRun.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        with transaction.atomic():
            assert plan_sync_sweep() == 1
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and PlanSyncRun.objects.get(pk=run.pk).status != "succeeded":
            time.sleep(0.3)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.tries == 2 and "worker stopped" in run.history[-2]
    for plan in plans:
        assert len(_marked(benefitpoint, plan)) == 1
    assert set(PlanChoice.objects.filter(plan__in=plans).values_list("state", flat=True)) == {"synced"}
