"""The client page: an individual's admin page opens on a summary and a timeline; the form is one click away."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.rights import Level
from individuals.selectors import individual_timeline
from individuals.services import individual_reveal, individual_update
from integrations.ownership import writing_as
from integrations.registry import external_id_link

from .factories import IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
# Session, user, the individual, policies, custom fields; the timeline: two per source (the client's audit rows,
# its policies', personal data; exports: the jobs and one match; sales records, emails, activities and the
# user's sales types; AMS syncs and notifications); provenance (audit rows, owned fields); registered panels
# (sales records, activities), saved searches (the searches, one match), linked systems (ams: two, and the
# policies they name). The same for 1 or 9 lines of each kind.
QUERIES = 37


def url(individual, **params):
    base = reverse("admin:individuals_individual_change", args=[individual.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@pytest.fixture
def client_on_file(agency_admin):
    person = IndividualFactory(
        first_name="Hedy",
        last_name="Lamarr",
        city="Austin",
        cell_phone="512-555-0101",
        email="hedy@example.com",
        ssn="123-45-6789",
        date_of_birth=datetime.date(1950, 11, 9),
    )
    PolicyFactory(individual=person, policy_number="MA-1", status="active", renewal_date=datetime.date(2027, 1, 1))
    PolicyFactory(individual=person, policy_number="DEN-2", coverage_type="dental", status="terminated")
    individual_update(actor=agency_admin, individual=person, data={"city": "Dallas"})
    with writing_as("ams"):
        individual_update(actor=None, individual=person, data={"home_phone": "512-555-0199"})
    return person


def test_the_page_opens_on_who_how_to_reach_policies_and_the_timeline(client, agency_admin, client_on_file):
    client.force_login(agency_admin)
    html = client.get(url(client_on_file)).content.decode()
    assert 'id="client-who"' in html and "***-**-6789" in html and "123-45-6789" not in html
    assert 'href="tel:512-555-0101"' in html and 'href="mailto:hedy@example.com"' in html
    assert "MA-1" in html and "Terminated" in html and "Active" in html
    assert 'id="client-timeline"' in html
    assert "City: <del>Austin</del> → <ins>Dallas</ins>" in html
    assert "by AMS (sync)" in html
    assert f'href="{url(client_on_file, edit=1)}"' in html  # editing is one click away
    assert 'id="linked-systems"' in html
    assert 'id="individual_form"' not in html  # the summary, not the 3,400 px form


def test_the_form_is_at_edit_and_saving_comes_back_to_the_client_page(client, agency_admin, client_on_file):
    client.force_login(agency_admin)
    html = client.get(url(client_on_file, edit=1)).content.decode()
    assert 'id="individual_form"' in html and 'id="client-summary"' in html
    data = {
        "first_name": "Hedy",
        "last_name": "Lamarr",
        "record_status": "active",
        "state": "TX",
        "email": "hedy@example.com",
        "date_of_birth": "1950-11-09",
        "city": "Dallas",
        "cell_phone": "512-555-0101",
        "home_phone": "512-555-0199",
        "policies-TOTAL_FORMS": "0",
        "policies-INITIAL_FORMS": "0",
        "policies-MIN_NUM_FORMS": "0",
        "policies-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url(client_on_file, edit=1), {**data, "nickname": "H", "_continue": "1"})
    assert response.status_code == 302 and "edit=1" in response["Location"]
    response = client.post(url(client_on_file, edit=1), {**data, "nickname": "HL", "_save": "1"})
    assert response.status_code == 302 and response["Location"] == url(client_on_file)


def test_the_timeline_filters_by_kind_in_date_order(client, agency_admin, client_on_file):
    story(client_on_file, agency_admin, 2)
    client.force_login(agency_admin)
    html = client.get(url(client_on_file, timeline="edit")).content.decode()
    timeline = html.split('id="client-timeline"')[1].split("</nav>")[1]
    assert "Home phone" in timeline and "City:" in timeline and "AMS notification" not in timeline
    html = client.get(url(client_on_file, timeline="notification")).content.decode()
    timeline = html.split('id="client-timeline"')[1].split("</nav>")[1]
    assert "AMS notification: Customer updated, applied" in timeline and "City:" not in timeline
    entries = individual_timeline(individual=client_on_file, user=agency_admin)["entries"]
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    assert {e.kind for e in entries} == {"edit", "sync", "notification", "sales", "export"}


def test_who_revealed_personal_data_is_for_auditors_only(client, agency_admin, make_user, client_on_file):
    individual_reveal(actor=agency_admin, individual=client_on_file, kind="ssn")
    client.force_login(agency_admin)
    assert "Personal data (1)" in client.get(url(client_on_file)).content.decode()
    client.force_login(make_user(individuals=Level.VISIBLE))
    html = client.get(url(client_on_file)).content.decode()
    assert "Personal data (" not in html and "All details" in html


def story(person, actor, n):
    """``n`` of each kind of line: AMS syncs and notifications, sales record emails and activities, exports,
    edits, saved searches that find the client."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from ams.models import Notification, SyncAttempt
    from individuals.models import ExportJob, SavedSearch
    from salesrecords.models import SalesRecord, SalesWorkflowRun, WorkflowEmail
    from tests.salesrecords.factories import ActivityFactory, SalesRecordFactory, SalesWorkflowFactory

    cid = external_id_find(person) or external_id_link(obj=person, system="ams", object_type="customer", external_id="C-1").external_id
    record = SalesRecord.objects.filter(individual=person).first() or SalesRecordFactory(individual=person, first_name="Hedy", last_name="Lamarr")
    ct = ContentType.objects.get_for_model(person)
    start = SyncAttempt.objects.count()
    for i in range(start, start + n):
        SyncAttempt.objects.create(
            direction=SyncAttempt.Direction.FROM_AMS, content_type=ct, object_id=person.pk, external_id=cid, status="succeeded", outcome="updated"
        )
        Notification.objects.create(notification_id=f"N-{i}", record_type="Customer", record_id=cid, action="Updated", status="succeeded")
        run = SalesWorkflowRun.objects.create(workflow=SalesWorkflowFactory(), sales_record=record)
        WorkflowEmail.objects.create(run=run, status="succeeded", finished_at=timezone.now())
        ActivityFactory(sales_record=record)
        ExportJob.objects.create(owner=actor, criteria={"last_name": "Lamarr"}, status="succeeded", finished_at=timezone.now(), row_count=1)
        SavedSearch.objects.create(name=f"Lamarrs {i}", owner=actor, criteria={"last_name": "Lamarr", "state": ["TX"]})
        individual_update(actor=actor, individual=person, data={"nickname": f"N{i}"})
        policy = PolicyFactory(individual=person, policy_number=f"X-{i}")
        external_id_link(obj=policy, system="ams", object_type="policy", external_id=f"P-{i}")


def external_id_find(person):
    from integrations.models import ExternalId

    row = ExternalId.objects.filter(object_id=person.pk, system="ams", object_type="customer", content_type__model="individual").first()
    return row.external_id if row else ""


def test_the_page_reads_in_a_fixed_number_of_queries_however_long_the_story(client, agency_admin, client_on_file):
    client.force_login(agency_admin)
    story(client_on_file, agency_admin, 1)
    client.get(url(client_on_file))  # warm: content types, permissions

    def count():
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url(client_on_file)).content.decode()
        return len(queries), html

    before, html = count()
    assert "Lamarrs 0" in html and "AMS notification" in html and "Workflow email" in html and "In a CSV export of 1 individual (export" in html
    story(client_on_file, agency_admin, 8)
    after, html = count()
    assert "Lamarrs 8" in html  # nine saved searches find her: still the same queries
    assert after == before, (before, after)
    assert before == QUERIES, before


def test_the_timeline_pages_back_with_older(client, agency_admin, client_on_file):
    story(client_on_file, agency_admin, 30)
    client.force_login(agency_admin)
    first = client.get(url(client_on_file)).content.decode()
    older = first.split('id="timeline-older" ', 1)[0].rsplit('href="', 1)[1].split('"')[0] if 'id="timeline-older"' in first else ""
    assert older, "the first page offers older lines"
    page = individual_timeline(individual=client_on_file, user=agency_admin)
    rest = individual_timeline(individual=client_on_file, user=agency_admin, before=page["entries"][-1].at)
    assert page["more"] and rest["entries"] and rest["entries"][0].at < page["entries"][-1].at


def test_a_value_the_ams_owns_says_so_and_every_value_tells_its_last_change(client, agency_admin, client_on_file):
    external_id_link(obj=client_on_file, system="ams", object_type="customer", external_id="C-9")
    with writing_as("ams"):
        individual_update(actor=None, individual=client_on_file, data={"home_phone": "512-555-0177"})
    client.force_login(agency_admin)
    html = client.get(url(client_on_file)).content.decode()
    cell = html.split('data-field="home_phone"', 1)[1].split("</dd>", 1)[0]
    assert "from AMS, " in cell and "Last changed" in cell and "by AMS (sync)" in cell
    city = html.split('data-field="address"', 1)[1].split("</dd>", 1)[0]
    name = agency_admin.get_full_name() or agency_admin.get_username()
    assert f"by {name}" in city  # a person's edit: hover says who, and when
    assert "owns this value" in cell
    assert "from AMS" in html.split("<h1", 1)[1].split("</h1>", 1)[0]  # the name the AMS owns, too


def test_saved_searches_panel_is_a_fixed_number_of_queries(agency_admin, client_on_file, django_assert_max_num_queries):
    from individuals.admin import saved_searches_containing
    from individuals.models import SavedSearch

    for i in range(40):
        SavedSearch.objects.create(name=f"S{i:02}", owner=agency_admin, criteria={"last_name": "Lamarr" if i % 2 else "Nobody"})
    SavedSearch.objects.create(name="Old custom field", owner=agency_admin, criteria={"cf_gone": "x"})
    with django_assert_max_num_queries(4):
        found = saved_searches_containing(user=agency_admin, individual=client_on_file)
    assert [s.name for s in found] == [f"S{i:02}" for i in range(40) if i % 2]
