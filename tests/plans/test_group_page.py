"""An employer group's page opens on a summary (plans, plan sync state, employees, connections, discrepancies,
linked systems) and a timeline; editing is one click away."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carriers.models import CarrierConnection, ConnectionEvent, Discrepancy
from hrsync.models import SyncAttempt
from integrations.ownership import writing_as
from integrations.registry import external_id_link, external_id_record_sync
from plans.services import employer_group_update
from plansync.models import AccountLink, PlanSyncRun
from tests.hrsync.factories import EmployeeFactory

from .factories import EmployerGroupFactory, PlanFactory

pytestmark = pytest.mark.django_db
# Session, user, the group; summary: plans, registry links, addresses, contacts, servicing users; provenance
# (audit rows, owned fields); panels: employees, connections, discrepancies; the timeline: two per source (the
# group's and its plans' audit rows, AMS syncs and notifications, employees' syncs, connection history);
# plan sync runs; linked systems. The same for 1 or 7 of each.
QUERIES = 33


def url(group, **params):
    base = reverse("admin:plans_employergroup_change", args=[group.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def grow(group, actor, n):
    """``n`` more plans, employees with a sync each, connection events and discrepancies, edits."""
    now = timezone.now()
    start = CarrierConnection.objects.count()
    link, _ = AccountLink.objects.get_or_create(group=group, defaults={"account_id": 887766, "account_name": group.name})
    for i in range(start, start + n):
        plan = PlanFactory(group=group, name=f"Plan {i}")
        row = external_id_link(obj=plan, system="benefits_admin", object_type="plan", external_id=f"BA-{i}")
        external_id_record_sync(row=row, ok=True)
        employee = EmployeeFactory(employer_group=group)
        SyncAttempt.objects.create(employee=employee, version=1, action="create", status="succeeded")
        conn = CarrierConnection.objects.create(
            employer_group=group,
            carrier=plan.carrier,
            noyo_carrier_id="c",
            carrier_group_id=f"G{i}",
            group_name=group.name,
            federal_ein="12-3456789",
            status="completed",
            status_since=now,
        )
        ConnectionEvent.objects.create(connection=conn, source="poll", status="completed", previous_status="processing")
        Discrepancy.objects.create(
            connection=conn,
            employer_group=group,
            carrier=plan.carrier,
            kind="mismatch",
            field="last_name",
            severity=2,
            subject_key=f"member:{i}",
            subject=f"Member {i}",
            carrier_value="Smyth",
            our_value="Smith",
            first_seen_at=now,
            last_seen_at=now,
        )
        employer_group_update(actor=actor, group=group, data={"office": f"Office {i}"})
        PlanSyncRun.objects.create(link=link, status="failed", reason=f"Refused {i}", requested_by=actor)


@pytest.fixture
def group(agency_admin):
    group = EmployerGroupFactory(name="Blue Ridge Dental Group", dba="Blue Ridge")
    account = external_id_link(obj=group, system="benefits_admin", object_type="account", external_id="887766")
    external_id_record_sync(row=account, ok=True)
    external_id_link(obj=group, system="ams", object_type="customer", external_id="C-77")
    with writing_as("ams"):
        employer_group_update(actor=None, group=group, data={"dba": "Blue Ridge Dental"})
    return group


def test_the_group_opens_on_its_summary_and_timeline(client, agency_admin, group):
    grow(group, agency_admin, 2)
    client.force_login(agency_admin)
    html = client.get(url(group)).content.decode()
    assert 'id="group-plans"' in html and "Plan 0" in html and "2 plans linked" in html
    assert 'id="related-employees"' in html and 'id="related-carrier-connections"' in html and 'id="related-discrepancies"' in html
    assert "Smyth" in html and 'id="linked-systems"' in html
    dba = html.split('data-field="dba"', 1)[1].split("</dd>", 1)[0]
    assert "from AMS, " in dba and "by AMS (sync)" in dba
    timeline = html.split('id="group-timeline"', 1)[1]
    assert "Office: <del>" in timeline and "Benefits platform · " in timeline and "connection · Status polled" in timeline
    assert "Plan sync with the benefits-admin system (hourly schedule): failed" in timeline and "Refused 1" in timeline
    assert f'href="{url(group, edit=1)}"' in html and 'id="employergroup_form"' not in html
    assert 'id="employergroup_form"' in client.get(url(group, edit=1)).content.decode()


def test_the_group_page_reads_in_a_fixed_number_of_queries(client, agency_admin, group):
    client.force_login(agency_admin)
    grow(group, agency_admin, 1)
    client.get(url(group))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(group)).status_code == 200
        return len(queries)

    before = count()
    grow(group, agency_admin, 6)
    assert count() == before
    assert before == QUERIES, before


def test_a_read_only_user_sees_the_page_without_the_other_areas(client, make_user, group):
    from accounts.rights import Level

    client.force_login(make_user(plans=Level.VISIBLE))
    html = client.get(url(group)).content.decode()
    assert "All details" in html and 'id="related-discrepancies"' not in html and 'id="connect-carrier"' not in html
