"""Connections over HTTP with the sandbox: every status path, amend and retry, polling backoff, 429, tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone

from carriers.models import CarrierConnection, ConnectionEvent
from carriers.services import connection_poll, connection_request, connections_poll_due
from integrations.clients.noyo import NoyoClient

from .factories import connected_group, roster

pytestmark = pytest.mark.django_db


def _connect(api, group, carrier, **fields):
    body = {"employer_group": group.pk, "carrier": carrier.pk, "carrier_group_id": "CG-100", **fields}
    return api.post("/api/carrier-connections/", body, format="json")


def _poll_until_settled(connection, limit=10) -> list[str]:
    seen = [connection.status]
    for _ in range(limit):
        connection = connection_poll(connection_id=connection.pk, force=True)
        if connection.status != seen[-1]:
            seen.append(connection.status)
        if connection.status in ("completed", "unable_to_connect", "action_required"):
            break
    return seen


@pytest.mark.parametrize(
    ("script", "path"),
    [
        ({}, ["created", "processing", "completed"]),
        ({"review": True}, ["created", "processing", "noyo_review", "completed"]),
        ({"authorization_polls": 1, "not_ready_polls": 3}, ["created", "processing", "carrier_authorization", "waiting_on_carrier", "completed"]),
        ({"unable": True}, ["created", "processing", "unable_to_connect"]),
    ],
)
def test_each_status_path_is_followed_and_kept_as_history(api, noyo, agency_admin, script, path):
    # given a group the carrier knows, scripted
    group, carrier = connected_group(members=4)
    noyo.seed(**roster(group, carrier, "CG-100", script=script))
    # when it is connected and polled
    reply = _connect(api, group, carrier)
    assert reply.status_code == 201, reply.data
    connection = CarrierConnection.objects.get(pk=reply.data["id"])
    assert connection.connection_id and connection.group_id  # both ids stored
    seen = _poll_until_settled(connection)
    # then every status was seen, in order, each a history row
    assert seen == path
    history = list(ConnectionEvent.objects.filter(connection=connection).order_by("id").values_list("status", flat=True))
    assert history == path


def test_waiting_on_carrier_lasts_k_polls(noyo, agency_admin):
    group, carrier = connected_group(members=2)
    noyo.seed(**roster(group, carrier, "CG-1", script={"not_ready_polls": 3}))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    statuses = [connection_poll(connection_id=connection.pk, force=True).status for _ in range(5)]
    assert statuses == ["processing", "waiting_on_carrier", "waiting_on_carrier", "waiting_on_carrier", "completed"]


def test_wrong_carrier_group_id_needs_action_until_amended(api, noyo, agency_admin):
    group, carrier = connected_group(members=2)
    noyo.seed(**roster(group, carrier, "CG-RIGHT"))
    connection = CarrierConnection.objects.get(pk=_connect(api, group, carrier, carrier_group_id="CG-WRONG").data["id"])
    assert _poll_until_settled(connection)[-1] == "action_required"
    connection.refresh_from_db()
    assert "does not know group CG-WRONG" in connection.setup_message
    assert connection.next_poll_at is None  # waits on us, not polled

    reply = api.post(f"/api/carrier-connections/{connection.pk}/retry/", {"carrier_group_id": "CG-RIGHT"}, format="json")

    assert reply.status_code == 200, reply.data
    assert reply.data["status"] == "processing" and reply.data["attempts"] == 2
    assert reply.data["amendments"][0]["changes"] == {"carrier_group_id": {"from": "CG-WRONG", "to": "CG-RIGHT"}}
    assert "Carrier group id: CG-WRONG → CG-RIGHT" in reply.data["amendments"][0]["summary"]
    connection.refresh_from_db()
    assert _poll_until_settled(connection)[-1] == "completed"


def test_unable_to_connect_amend_and_retry_then_completes(api, noyo):
    group, carrier = connected_group(members=2)
    noyo.seed(**roster(group, carrier, "CG-7", script={"unable": True}))
    connection = CarrierConnection.objects.get(pk=_connect(api, group, carrier, carrier_group_id="CG-7").data["id"])
    assert _poll_until_settled(connection)[-1] == "unable_to_connect"

    reply = api.post(f"/api/carrier-connections/{connection.pk}/retry/", {"federal_ein": "98-7654321"}, format="json")

    assert reply.status_code == 200, reply.data
    connection.refresh_from_db()
    assert connection.federal_ein == "98-7654321"
    assert _poll_until_settled(connection)[-1] == "completed"


def test_retry_refused_while_the_carrier_works(api, noyo):
    group, carrier = connected_group(members=1)
    noyo.seed(**roster(group, carrier, "CG-1"))
    connection_id = _connect(api, group, carrier, carrier_group_id="CG-1").data["id"]
    reply = api.post(f"/api/carrier-connections/{connection_id}/retry/", {"carrier_group_id": "X"}, format="json")
    assert reply.status_code == 400
    assert "can be retried" in reply.data["detail"]


def test_pre_flight_checks_refuse_before_anything_is_sent(api, noyo):
    group, carrier = connected_group(members=1)
    assert _connect(api, group, carrier, carrier_group_id="").data["carrier_group_id"]
    assert "EIN" in str(_connect(api, group, carrier, federal_ein="12-34").data["federal_ein"])
    assert noyo.connections() == []
    assert _connect(api, group, carrier).status_code == 201
    again = _connect(api, group, carrier)
    assert again.status_code == 400
    assert "already has an open connection" in str(again.data["carrier"])
    assert len(noyo.connections()) == 1


def test_unknown_status_is_shown_and_polled_never_a_crash(api, noyo):
    group, carrier = connected_group(members=1)
    noyo.seed(**roster(group, carrier, "CG-1", script={"emit_status": "carrier_paused"}))
    connection = CarrierConnection.objects.get(pk=_connect(api, group, carrier, carrier_group_id="CG-1").data["id"])
    connection_poll(connection_id=connection.pk, force=True)
    connection = connection_poll(connection_id=connection.pk, force=True)

    assert connection.status == "carrier_paused"
    listed = api.get("/api/carrier-connections/", {"status": "carrier_paused"}).data["results"]
    assert [c["status_display"] for c in listed] == ["unknown: carrier_paused"]
    assert connection.next_poll_at is not None  # still followed
    assert connection_poll(connection_id=connection.pk, force=True).status == "completed"


def test_polling_backs_off_while_nothing_changes_and_honours_429(noyo, agency_admin, settings, sandbox):
    settings.CARRIERS_POLL_INTERVAL_SECONDS = 60
    group, carrier = connected_group(members=1)
    noyo.seed(**roster(group, carrier, "CG-1", script={"not_ready_polls": 50}))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    waits = []
    for _ in range(5):
        CarrierConnection.objects.filter(pk=connection.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
        polled = connection_poll(connection_id=connection.pk)
        waits.append(round((polled.next_poll_at - polled.last_polled_at).total_seconds() / 60))
    # processing, waiting (both changes), then unchanged: 2, 4, 8 minutes
    assert waits[2:] == [2, 4, 8]

    sandbox.knobs(throttle_rate=1.0, retry_after=7200)
    CarrierConnection.objects.filter(pk=connection.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    polled = connection_poll(connection_id=connection.pk)
    assert "429" in polled.poll_error
    assert (polled.next_poll_at - polled.last_polled_at).total_seconds() >= 7200  # its Retry-After, not our 16 minutes


def test_beat_polls_only_due_connections_once(noyo, agency_admin, django_capture_on_commit_callbacks):
    group, carrier = connected_group(members=1)
    noyo.seed(**roster(group, carrier, "CG-1", script={"not_ready_polls": 5}))
    due = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    CarrierConnection.objects.filter(pk=due.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):  # the poll's task is published after the beat commits
        assert connections_poll_due() == 1
    due.refresh_from_db()
    assert due.status == "processing" and due.next_poll_at > timezone.now()
    assert connections_poll_due() == 0


def test_expired_token_is_renewed_transparently(noyo, agency_admin):
    group, carrier = connected_group(members=1)
    noyo.seed(**roster(group, carrier, "CG-1"))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    noyo.expire_tokens()
    assert connection_poll(connection_id=connection.pk, force=True).status == "processing"
    assert len(NoyoClient._tokens) == 1


def test_poll_now_polls_at_once_a_poll_waiting_for_its_retry(noyo, agency_admin):
    from carriers.models import ConnectionAttempt
    from core.jobs import Status

    # given: a requested connection whose poll the service could not answer, tried again in an hour
    group, carrier = connected_group(members=2)
    noyo.seed(**roster(group, carrier, "CG-1"))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    later = timezone.now() + timedelta(hours=1)
    poll = ConnectionAttempt.objects.create(
        connection=connection,
        employer_group=group,
        carrier=carrier,
        kind=ConnectionAttempt.Kind.POLL,
        status=Status.RETRYING,
        tries=1,
        next_try_at=later,
        lease_until=later + timedelta(minutes=5),
    )
    # when: a person clicks Poll now
    connection = connection_poll(connection_id=connection.pk, actor=agency_admin, force=True)
    # then: that poll was made now (no second one), and the service's answer is shown
    poll.refresh_from_db()
    assert poll.status == Status.SUCCEEDED and poll.tries == 2
    assert ConnectionAttempt.objects.filter(kind=ConnectionAttempt.Kind.POLL).count() == 1
    assert connection.status == "processing"
