"""Carriers' rows in *Awaiting a person*: open discrepancies, and connections the service stopped until we act."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.rights import Level
from carriers.models import CarrierConnection, Discrepancy
from integrations.decisions import decisions_for, sources_for

from .factories import connected_group

pytestmark = pytest.mark.django_db


def _connection(group, carrier, status: str, connection_id: str | None = None) -> CarrierConnection:
    return CarrierConnection.objects.create(
        employer_group=group,
        carrier=carrier,
        noyo_carrier_id=str(uuid.uuid4()),
        connection_id=str(uuid.uuid4()) if connection_id is None else connection_id,
        carrier_group_id="CG-1",
        group_name=group.name,
        federal_ein="12-3456789",
        status=status,
        status_since=timezone.now(),
        setup_message="The carrier does not know group CG-1." if status == "action_required" else "",
    )


def _discrepancy(connection, *, field: str, kind=Discrepancy.Kind.MISMATCH, status=Discrepancy.Status.OPEN, **more):
    now = timezone.now()
    return Discrepancy.objects.create(
        connection=connection,
        employer_group=connection.employer_group,
        carrier=connection.carrier,
        kind=kind,
        field=field,
        severity=1,
        subject_key=f"member:{uuid.uuid4()}",
        status=status,
        first_seen_at=now,
        last_seen_at=now,
        **{"subject": "Ann Lee", **more},
    )


def test_open_discrepancies_and_stopped_connections_await_a_person(make_user):
    # given a completed connection with differences, and another group's connection that needs action
    group, carrier = connected_group(members=4)
    done = _connection(group, carrier, "completed")
    tier = _discrepancy(done, field="coverage_tier", carrier_value="Standard", our_value="Premium")
    plan = _discrepancy(done, field="plan", kind=Discrepancy.Kind.MISSING_AT_CARRIER, subject="Dental PPO")
    _discrepancy(done, field="email", status=Discrepancy.Status.KEPT_OURS)  # resolved: not awaiting
    other_group, other_carrier = connected_group(members=3)
    stuck = _connection(other_group, other_carrier, "action_required")
    _connection(other_group, carrier, "processing")  # the service works on it: nobody's decision
    third_group, _ = connected_group(members=1)
    never = _connection(third_group, carrier, "", connection_id="")  # its request attempt gave up
    viewer = make_user(carrier_connections=Level.VISIBLE)

    # when the viewer's inbox is read
    rows = decisions_for(viewer)

    # then both kinds are there, each linking to where it is resolved, with what it holds up
    by_url = {row.url: row for row in rows}
    assert set(by_url) == {
        reverse("admin:carriers_discrepancy_change", args=[tier.pk]),
        reverse("admin:carriers_discrepancy_change", args=[plan.pk]),
        reverse("admin:carriers_carrierconnection_change", args=[stuck.pk]),
        reverse("admin:carriers_carrierconnection_change", args=[never.pk]),
    }
    row = by_url[reverse("admin:carriers_discrepancy_change", args=[tier.pk])]
    assert row.kind == "Carrier discrepancy" and row.impact == 1
    assert row.blocks == f"{group.name} at {carrier.name}: coverage tier (benefits level) differs"
    missing = by_url[reverse("admin:carriers_discrepancy_change", args=[plan.pk])]
    assert missing.blocks == f"{group.name} at {carrier.name}: plan missing at the carrier" and missing.impact == 4
    connection = by_url[reverse("admin:carriers_carrierconnection_change", args=[stuck.pk])]
    assert connection.title == f"{other_group.name} at {other_carrier.name}: Action required"
    assert "does not know group CG-1" in connection.blocks and connection.impact == 3
    assert "the request never reached the service" in by_url[reverse("admin:carriers_carrierconnection_change", args=[never.pk])].blocks
    assert {s.key: s.count() for s in sources_for(viewer)} == {"carrier_discrepancies": 2, "carrier_connections": 2}
    # and someone without the carriers area sees none of them
    assert decisions_for(make_user(carrier_connections=Level.NONE)) == []
