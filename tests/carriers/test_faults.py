"""Faults against the sandbox's carrier-connection service: a worker dying between the service's write and our
record, an answer lost on the way back, a pull killed midway. Then the sweep finishes: nothing twice there,
nothing lost here, and the attempt says what happened."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carriers.models import NOT_SENT_LABEL, CarrierConnection, CarrierMember, ConnectionAttempt, Discrepancy
from carriers.services import (
    connection_attempts_sweep,
    connection_poll,
    connection_pull,
    connection_request,
    connection_retry,
    connections,
    pull,
)
from carriers.tasks import connection_attempt_run_task
from integrations.clients import noyo as noyo_client_module
from integrations.clients.noyo import NoyoClient
from integrations.http import TransientError

from .factories import connected_group, roster

pytestmark = pytest.mark.django_db
Kind, Status = ConnectionAttempt.Kind, ConnectionAttempt.Status


class WorkerDied(BaseException):
    """The worker process stopping (a BaseException: no ``except Exception`` in the code catches it)."""


def _lease_runs_out(attempt: ConnectionAttempt) -> None:
    ConnectionAttempt.objects.filter(pk=attempt.pk).update(lease_until=timezone.now() - timedelta(seconds=1))


def _sweep(capture) -> int:
    with capture(execute=True):  # the sweep enqueues after its commit; the task runs eagerly
        return connection_attempts_sweep()


def test_worker_dies_between_the_services_write_and_our_record(noyo, agency_admin, monkeypatch, django_capture_on_commit_callbacks):
    # given a request whose worker dies once the service has created the connection, before we record it
    group, carrier = connected_group(members=2)
    noyo.seed(**roster(group, carrier, "CG-1"))
    recorded = connections._request_recorded

    def dies(attempt, answer):
        raise WorkerDied

    monkeypatch.setattr(connections, "_request_recorded", dies)
    with pytest.raises(WorkerDied):
        connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    monkeypatch.setattr(connections, "_request_recorded", recorded)
    attempt = ConnectionAttempt.objects.get(kind=Kind.REQUEST)
    connection = CarrierConnection.objects.get()
    assert attempt.status == Status.RUNNING and len(noyo.connections()) == 1
    assert connection.connection_id == "" and connection.status_display == NOT_SENT_LABEL

    # when its lease runs out and the beat's sweep runs it again
    _lease_runs_out(attempt)
    assert _sweep(django_capture_on_commit_callbacks) == 1

    # then the service still has exactly one connection, and ours records it
    at_service = noyo.connections()
    assert len(at_service) == 1
    connection.refresh_from_db()
    assert connection.connection_id == at_service[0]["id"] and connection.group_id == at_service[0]["group_id"]
    assert connection.status == "created"
    attempt.refresh_from_db()
    assert attempt.status == Status.SUCCEEDED and attempt.tries == 2
    assert "made by an earlier try (not sent again)" in attempt.reason
    assert list(connection.events.values_list("status", flat=True)) == ["created"]
    assert connection_poll(connection_id=connection.pk, force=True).status == "processing"  # followed from there


def test_a_lost_answer_is_found_by_a_look_up_never_sent_twice(noyo, agency_admin, monkeypatch):
    # given a service that creates the connection but whose answer never arrives
    group, carrier = connected_group(members=2)
    noyo.seed(**roster(group, carrier, "CG-1"))
    create = NoyoClient.connection_create
    creates = []

    def answer_lost(self, **kwargs):
        creates.append(create(self, **kwargs))
        raise TransientError("The carrier-connection service did not answer within 1 s.", code="timeout")

    monkeypatch.setattr(NoyoClient, "connection_create", answer_lost)
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    attempt = ConnectionAttempt.objects.get(kind=Kind.REQUEST)
    assert connection.status_display == NOT_SENT_LABEL
    assert attempt.status == Status.RETRYING and "did not answer" in attempt.reason and attempt.next_try_at

    # when its next try comes (still losing any answer to a create)
    ConnectionAttempt.objects.filter(pk=attempt.pk).update(next_try_at=timezone.now())
    connection_attempt_run_task.delay(attempt.pk)

    # then it was found by a look-up, not created again
    assert len(creates) == 1 and len(noyo.connections()) == 1
    connection.refresh_from_db()
    assert connection.connection_id == creates[0]["id"] and connection.status == "created"
    attempt.refresh_from_db()
    assert attempt.status == Status.SUCCEEDED and attempt.tries == 2 and attempt.result["found"] is True


def test_a_lost_answer_to_a_retry_is_not_retried_twice(noyo, agency_admin, monkeypatch):
    group, carrier = connected_group(members=2)
    noyo.seed(**roster(group, carrier, "CG-RIGHT"))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-WRONG")
    while connection.status != "action_required":
        connection = connection_poll(connection_id=connection.pk, force=True)
    retry = NoyoClient.connection_retry
    sent = []

    def answer_lost(self, connection_id, amended):
        sent.append(retry(self, connection_id, amended))
        raise TransientError("The carrier-connection service answered 502: Bad gateway.", status=502)

    monkeypatch.setattr(NoyoClient, "connection_retry", answer_lost)
    connection = connection_retry(actor=agency_admin, connection=connection, changes={"carrier_group_id": "CG-RIGHT"})
    attempt = ConnectionAttempt.objects.get(kind=Kind.RETRY)
    assert attempt.status == Status.RETRYING and connection.attempts == 1  # not recorded yet

    ConnectionAttempt.objects.filter(pk=attempt.pk).update(next_try_at=timezone.now())
    connection_attempt_run_task.delay(attempt.pk)

    assert len(sent) == 1
    assert noyo.connections()[0]["setup_metadata"]["attempts"] == 2  # one retry at the service
    connection.refresh_from_db()
    assert connection.attempts == 2 and connection.carrier_group_id == "CG-RIGHT"
    assert connection.status in ("processing", "completed")  # the look-up is a read: the sandbox moves it on
    assert connection.amendments.count() == 1


def _differences(connection) -> set:
    return set(
        Discrepancy.objects.filter(connection=connection).values_list(
            "kind", "field", "subject_key", "carrier_value", "our_value", "status", "noyo_discrepancy_id"
        )
    )


def test_a_pull_killed_midway_runs_again_to_the_same_discrepancies(noyo, agency_admin, monkeypatch, django_capture_on_commit_callbacks):
    # given a completed connection whose pull (queued by the poll that completed it) dies after 15 members
    group, carrier = connected_group(members=40)
    planted = noyo.seed(**roster(group, carrier, "CG-1", share=0.25, seed=5))["planted"]
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    while connection.status != "completed":
        connection = connection_poll(connection_id=connection.pk, force=True)
    attempt = ConnectionAttempt.objects.get(connection=connection, kind=Kind.PULL)
    monkeypatch.setattr(noyo_client_module, "PAGE_SIZE", 10)
    monkeypatch.setattr(pull, "BATCH", 10)
    store = pull._store_members

    def killed_midway(connection, pages, stamp):
        def pages_until_killed():
            for n, item in enumerate(pages):
                if n == 15:
                    raise WorkerDied
                yield item

        return store(connection, pages_until_killed(), stamp)

    monkeypatch.setattr(pull, "_store_members", killed_midway)
    with pytest.raises(WorkerDied):
        connection_attempt_run_task.delay(attempt.pk)
    monkeypatch.setattr(pull, "_store_members", store)
    assert CarrierMember.objects.filter(connection=connection).count() == 10  # one batch in, then it died
    assert not Discrepancy.objects.filter(connection=connection).exists()

    # when the sweep runs it again
    _lease_runs_out(attempt)
    assert _sweep(django_capture_on_commit_callbacks) == 1

    # then it finished: every planted difference, once
    attempt.refresh_from_db()
    assert attempt.status == Status.SUCCEEDED and attempt.tries == 2
    found = _differences(connection)
    assert len(found) == len(planted) == Discrepancy.objects.filter(connection=connection).count()
    # and a pull run whole finds the same, none twice
    assert connection_pull(connection_id=connection.pk)["open"] == len(planted)
    assert _differences(connection) == found
    assert Discrepancy.objects.filter(connection=connection).count() == len(planted)
    assert CarrierMember.objects.filter(connection=connection).count() == attempt.result["members"]


def test_a_request_the_service_cannot_take_yet_is_shown_with_its_work(api, noyo, sandbox):
    # given a service that answers 503 to everything for now
    group, carrier = connected_group(members=1)
    sandbox.knobs(error_rate=1.0)
    reply = api.post("/api/carrier-connections/", {"employer_group": group.pk, "carrier": carrier.pk, "carrier_group_id": "CG-1"}, format="json")
    # then the request is recorded and retrying, and the connection says so
    assert reply.status_code == 201, reply.data
    assert reply.data["status_display"] == NOT_SENT_LABEL and reply.data["connection_id"] == ""
    detail = api.get(f"/api/carrier-connections/{reply.data['id']}/").data
    [work] = detail["work"]
    assert (work["kind"], work["status"], work["queue"]) == ("request", "retrying", "In progress")
    assert work["reason"].startswith("Retrying: The carrier-connection service answered 500")
    assert noyo.connections() == []
