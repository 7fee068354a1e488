"""Reconciliation against the sandbox: lost, duplicated, reordered and delayed notifications, then one
walk; after it every difference is gone, in AgencyDesk and in the CRM, with no duplicates."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ams.models import Notification, Reconciliation
from ams.services import reconciliation_request
from individuals.models import Individual
from integrations.models import ExternalId
from plans.models import EmployerGroup

from .helpers import ams_customers, differences

WEBHOOK = "/api/ams/notifications/"


def reconcile(capture) -> Reconciliation:
    with capture(execute=True):
        run = reconciliation_request(actor=None)
    run.refresh_from_db()
    assert run.status == Reconciliation.Status.SUCCEEDED, run.reason
    return run


def crm_duplicates(records) -> int:
    refs = [r["external_reference"] for r in records]
    return len(refs) - len(set(refs))


@pytest.mark.django_db
def test_one_reconciliation_brings_in_every_customer_once(ams_sandbox, django_capture_on_commit_callbacks):
    run = reconcile(django_capture_on_commit_callbacks)
    customers = ams_customers()
    assert run.customers_seen == len(customers) == 40 and run.created == 40
    assert differences() == []
    linked = ExternalId.objects.filter(system="ams", object_type="customer", status="active")
    assert linked.count() == 40
    assert Individual.objects.count() + EmployerGroup.objects.count() == 40  # nothing else, nothing twice
    accounts = [r for r in ams_sandbox.crm_records() if r["kind"] == "account"]
    assert len(accounts) == 40 and all(r["markers"] == ["AMS synced"] for r in accounts)
    # a second walk finds nothing to repair and sends nothing to the CRM
    writes = sum(r["writes"] for r in ams_sandbox.crm_records())
    with CaptureQueriesContext(connection) as queries:
        again = reconcile(django_capture_on_commit_callbacks)
    assert (again.created, again.updated, again.retired, again.failed) == (0, 0, 0, 0)
    assert len(queries.captured_queries) <= 24  # a few per chunk of customers, none per policy compared
    assert sum(r["writes"] for r in ams_sandbox.crm_records()) == writes


@pytest.mark.django_db
def test_two_customers_with_the_same_name_stay_two(ams_sandbox, django_capture_on_commit_callbacks):
    first = ams_sandbox.insert(FirstName="John", LastName="Smithson")
    second = ams_sandbox.insert(FirstName="John", LastName="Smithson")
    reconcile(django_capture_on_commit_callbacks)
    johns = Individual.objects.filter(first_name="John", last_name="Smithson")
    assert johns.count() == 2
    assert {r.external_id for r in ExternalId.objects.filter(object_type="customer", object_id__in=johns.values("pk"))} == {first, second}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see conftest.celery_worker_process
def test_lossy_notifications_then_one_reconciliation_repairs_everything(
    ams_sandbox, live_server, django_db_serialized_rollback, reference_data, django_capture_on_commit_callbacks
):
    # given: everything in step, and the AMS pushing to our webhook through every fault at once
    reconcile(django_capture_on_commit_callbacks)
    ams_sandbox.knobs(webhook_url=f"{live_server.url}{WEBHOOK}", drop_rate=0.4, duplicate_rate=0.5, reorder_rate=0.3, delay_ms=2)
    # when: a burst of changes, a merge, a deletion, a new customer and a policy change
    changed = ams_sandbox.burst(15, seed=7)
    customers = {c["CustomerId"]: c for c in ams_customers()}
    people = [cid for cid, c in customers.items() if c["IsPersonal"] and cid not in changed]
    ams_sandbox.merge(people[0], people[1])
    ams_sandbox.delete(people[2])
    newcomer = ams_sandbox.insert(FirstName="Nova", LastName="Newcomer")
    policy = next(p for cid in people[3:] for p in ams_sandbox.customer(cid)["policies"])
    ams_sandbox.update_policy(policy["PolicyId"], PolicyStatus="Cancelled")
    ams_sandbox.flush()
    log = ams_sandbox.notifications()
    assert any(n["outcome"] == "dropped" for n in log)  # some changes were never notified
    assert {"sent", "duplicate"} <= {n["outcome"] for n in log}
    assert Notification.objects.filter(status=Notification.Status.SUCCEEDED).exists()  # the others came in by webhook
    missed = differences()
    # then: one reconciliation repairs every difference; nothing is duplicated here or in the CRM
    run = reconcile(django_capture_on_commit_callbacks)
    assert differences() == []
    assert run.repaired >= len([m for m in missed if "missing" not in m])
    retired = ExternalId.objects.get(system="ams", object_type="customer", external_id=people[1])
    assert retired.status == "retired" and retired.superseded_by.external_id == people[0]
    assert ExternalId.objects.get(system="ams", object_type="customer", external_id=people[2]).status == "retired"
    assert ExternalId.objects.filter(system="ams", object_type="customer", external_id=newcomer, status="active").exists()
    active = ExternalId.objects.filter(system="ams", object_type="customer", status="active")
    assert active.count() == len(ams_customers())
    records = ams_sandbox.crm_records()
    assert crm_duplicates(records) == 0
    nova = Individual.objects.get(last_name="Newcomer")
    crm = {r["external_reference"]: r for r in records}
    assert crm[f"agencydesk:individual:{nova.pk}"]["markers"] == ["AMS synced"]
    for cid in changed:
        local = active.get(external_id=cid).record
        assert crm[f"agencydesk:{local._meta.model_name}:{local.pk}"]["name"]  # the changed account is in the CRM


@pytest.mark.django_db
def test_a_run_whose_worker_died_is_walked_again_and_never_beside_another(ams_sandbox, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from ams.services import reconciliation_run
    from core.jobs import job_claim, job_update

    # given: a run a worker took up, then died
    run = Reconciliation.objects.create(lease_until=timezone.now() + timedelta(minutes=5))
    dead = job_claim(Reconciliation, run.pk, lease_seconds=60)
    # then: a second request joins it (no walk beside it), and a duplicate message claims nothing
    assert reconciliation_request(actor=None).pk == run.pk
    assert reconciliation_run(reconciliation_id=run.pk).tries == 1
    # when: its lease has run out and someone asks again
    Reconciliation.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert reconciliation_request(actor=None).pk == run.pk
    # then: the same run was walked by a new try; the dead worker's try can write nothing now
    run.refresh_from_db()
    assert run.status == Reconciliation.Status.SUCCEEDED and run.tries == 2 and run.customers_seen == 40
    assert Reconciliation.objects.count() == 1
    assert not job_update(dead, created=5)
    assert differences() == []


@pytest.mark.django_db
def test_reconcile_now_walks_a_run_waiting_for_its_retry_at_once(ams_sandbox, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    # given: a run the AMS could not take, set to be tried again in an hour
    later = timezone.now() + timedelta(hours=1)
    waiting = Reconciliation.objects.create(
        status=Reconciliation.Status.RETRYING, tries=1, next_try_at=later, lease_until=later + timedelta(minutes=5), reason="Retrying: ..."
    )
    # when: someone asks to reconcile now
    run = reconcile(django_capture_on_commit_callbacks)
    # then: that run was walked now, not a second one beside it
    assert run.pk == waiting.pk and run.tries == 2 and Reconciliation.objects.count() == 1
