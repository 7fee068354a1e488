"""Faults against the real sandbox, for the CRM push and for a customer sync from the AMS.

(a) The worker dies between the outside step and our local record; the sweep gives the attempt to a
    new try, which finishes it: nothing twice there, nothing lost here, and the attempt says so.
(b) The far side's answer is lost; the retry (by the one retry policy) finds the record by its
    reference (the CRM's idempotent upsert) or by a look-up (the external-id registry): no duplicate.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

import ams.services.crm as crm_service
import ams.services.sync as sync_service
from ams.models import SyncAttempt
from ams.services import ams_sweep, crm_push_run, customer_sync, customer_sync_request, customer_sync_run
from individuals.models import Individual
from integrations.clients.ams360 import ams360_client
from integrations.models import ExternalId
from integrations.registry import external_id_lookup

pytestmark = pytest.mark.django_db
Status = SyncAttempt.Status


class WorkerDied(BaseException):
    """The process stopped here (not an error the code could catch)."""


def dies(*args, **kwargs):
    raise WorkerDied


def lease_runs_out(attempt: SyncAttempt) -> None:
    SyncAttempt.objects.filter(pk=attempt.pk).update(lease_until=timezone.now() - timedelta(seconds=1))


def retry_is_due(attempt: SyncAttempt) -> None:
    """Eagerly, a retry's delayed message is not run: the test lets its time come."""
    SyncAttempt.objects.filter(pk=attempt.pk).update(next_try_at=timezone.now())


def crm_accounts(ams_sandbox, person: Individual) -> list[dict]:
    return [r for r in ams_sandbox.crm_records() if r["external_reference"] == f"agencydesk:individual:{person.pk}"]


def crm_duplicates(ams_sandbox) -> int:
    refs = [r["external_reference"] for r in ams_sandbox.crm_records()]
    return len(refs) - len(set(refs))


def brought_in(ams_sandbox, **fields) -> tuple[str, Individual, SyncAttempt]:
    """An AMS customer brought in here; its CRM push queued (not run: the test runs it)."""
    customer_id = ams_sandbox.insert(**fields)
    outcome = customer_sync(client=ams360_client(), customer_id=customer_id)  # on-commit callbacks not run: the push waits
    push = SyncAttempt.objects.get(direction=SyncAttempt.Direction.TO_CRM, object_id=outcome.record.pk)
    assert push.status == Status.QUEUED
    return customer_id, outcome.record, push


def test_crm_push_worker_dies_after_the_crm_write_then_the_sweep_finishes_it(ams_sandbox, monkeypatch, django_capture_on_commit_callbacks):
    # given: a push whose worker dies after the CRM took the records, before we recorded the link
    _, rosa, push = brought_in(ams_sandbox, FirstName="Rosa", LastName="Parks", City="Tuskegee")
    monkeypatch.setattr(crm_service, "external_id_record_sync", dies)
    with pytest.raises(WorkerDied):
        crm_push_run(attempt_id=push.pk)
    monkeypatch.undo()
    push.refresh_from_db()
    assert push.status == Status.RUNNING and push.tries == 1  # held by nobody now, until its lease runs out
    assert len(crm_accounts(ams_sandbox, rosa)) == 1  # the CRM has it ...
    assert not ExternalId.objects.filter(system="crm", object_id=rosa.pk).exists()  # ... we have no record of it
    Individual.objects.filter(pk=rosa.pk).update(city="Montgomery")  # and the record changes meanwhile

    # when: the lease runs out and the sweep runs
    lease_runs_out(push)
    with django_capture_on_commit_callbacks(execute=True):
        assert ams_sweep() == 1

    # then: pushed once more under the same reference: no duplicate there, the link and the change recorded here
    push.refresh_from_db()
    assert push.status == Status.SUCCEEDED and push.tries == 2 and push.outcome == "upserted"
    assert "Its worker stopped while running it" in push.reason and "Try 2" in push.reason  # its history
    [account] = crm_accounts(ams_sandbox, rosa)
    assert account["fields"]["city"] == "Montgomery" and account["writes"] == 2
    assert crm_duplicates(ams_sandbox) == 0
    link = ExternalId.objects.get(system="crm", object_type="account", object_id=rosa.pk)
    assert link.external_id == str(account["id"]) and link.last_sync_outcome == "succeeded" and link.fingerprint
    assert SyncAttempt.objects.filter(direction=SyncAttempt.Direction.TO_CRM).count() == 1


def test_crm_push_answer_lost_then_the_retry_upserts_the_same_record(ams_sandbox, sandbox, settings, django_capture_on_commit_callbacks):
    # given: the CRM applies the push but its answer never comes back
    _, ada, push = brought_in(ams_sandbox, FirstName="Ada", LastName="Byron")
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 1
    sandbox.knobs(timeout_rate=1.0, hang_seconds=1.5)
    crm_push_run(attempt_id=push.pk)
    push.refresh_from_db()
    assert push.status == Status.RETRYING and "did not answer" in push.reason and push.next_try_at is not None
    assert len(crm_accounts(ams_sandbox, ada)) == 1  # written there all the same
    assert not ExternalId.objects.filter(system="crm", object_id=ada.pk).exists()

    # when: the CRM answers again and the retry's time comes
    sandbox.knobs(timeout_rate=0.0)
    retry_is_due(push)
    with django_capture_on_commit_callbacks(execute=True):
        crm_push_run(attempt_id=push.pk)

    # then: the same CRM record, updated (its reference is the key), recorded here once
    push.refresh_from_db()
    assert push.status == Status.SUCCEEDED and push.tries == 2 and "before it: Retrying" in push.reason
    [account] = crm_accounts(ams_sandbox, ada)
    assert account["writes"] == 2 and crm_duplicates(ams_sandbox) == 0
    assert ExternalId.objects.filter(system="crm", object_type="account", object_id=ada.pk).count() == 1


def test_customer_sync_worker_dies_before_our_record_then_the_sweep_finishes_it(ams_sandbox, monkeypatch, django_capture_on_commit_callbacks):
    # given: a linked customer's sync whose worker dies after reading the AMS, before writing here
    customer_id = ams_sandbox.insert(FirstName="Katherine", LastName="Johnsonq")
    attempt = customer_sync_request(customer_id=customer_id)
    monkeypatch.setattr(sync_service, "customer_record", dies)
    with pytest.raises(WorkerDied):
        customer_sync_run(attempt_id=attempt.pk)
    monkeypatch.undo()
    attempt.refresh_from_db()
    assert attempt.status == Status.RUNNING and not Individual.objects.filter(first_name="Katherine").exists()
    ams_sandbox.update(customer_id, LastName="Johnsonq-Goble")  # the AMS changes meanwhile (no notification)

    # when: the lease runs out and the sweep runs
    lease_runs_out(attempt)
    with django_capture_on_commit_callbacks(execute=True):
        assert ams_sweep() == 1

    # then: one record here, as the AMS has it now; nothing written there twice; the attempt tells it
    attempt.refresh_from_db()
    assert attempt.status == Status.SUCCEEDED and attempt.tries == 2 and attempt.outcome == "created"
    assert "Brought in as a new record." in attempt.reason and "Its worker stopped while running it" in attempt.reason
    [katherine] = Individual.objects.filter(first_name="Katherine")
    assert katherine.last_name == "Johnsonq-Goble"  # no lost update
    assert external_id_lookup(system="ams", object_type="customer", external_id=customer_id) == katherine
    assert len(ams360_client().customers_by_name_prefix("Johnsonq")) == 1  # nothing created in the AMS
    assert len(crm_accounts(ams_sandbox, katherine)) == 1 and crm_duplicates(ams_sandbox) == 0


def test_customer_sync_answer_lost_then_the_retry_finds_the_record_by_its_id(ams_sandbox, settings, django_capture_on_commit_callbacks):
    # given: a customer brought in, changed in the AMS, whose next sync loses the AMS's answer
    customer_id, grace, push = brought_in(ams_sandbox, FirstName="Grace", LastName="Hopper")
    crm_push_run(attempt_id=push.pk)
    ams_sandbox.update(customer_id, City="Arlington")
    attempt = customer_sync_request(customer_id=customer_id)
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 1
    ams_sandbox.knobs(latency_ms=1500)  # past the client's read timeout: the answer is lost
    customer_sync_run(attempt_id=attempt.pk)
    attempt.refresh_from_db()
    assert attempt.status == Status.RETRYING and ("did not answer" in attempt.reason or "could not be" in attempt.reason)

    # when: the AMS answers again and the retry's time comes
    ams_sandbox.knobs(latency_ms=0)
    retry_is_due(attempt)
    with django_capture_on_commit_callbacks(execute=True):
        customer_sync_run(attempt_id=attempt.pk)

    # then: the record is found by its AMS id (the registry), updated, not created again
    attempt.refresh_from_db()
    assert attempt.status == Status.SUCCEEDED and attempt.tries == 2 and attempt.outcome == "updated"
    assert "city" in attempt.reason and "before it: Retrying" in attempt.reason
    assert list(Individual.objects.filter(first_name="Grace", last_name="Hopper")) == [grace]
    grace.refresh_from_db()
    assert grace.city == "Arlington"
    assert ExternalId.objects.filter(system="ams", object_type="customer", external_id=customer_id).count() == 1
    assert len(crm_accounts(ams_sandbox, grace)) == 1 and crm_duplicates(ams_sandbox) == 0
