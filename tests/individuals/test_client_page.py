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
from integrations.registry import external_id_link, external_id_record_sync

from .factories import IndividualFactory, PolicyFactory

pytestmark = pytest.mark.django_db
# Session, user, the individual, policies, custom fields, registered panels (sales records, activities), saved
# searches, the timeline (audit rows, sync stamps), linked systems (ams: two): the same for 2 or 200 policies.
QUERIES = 16


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
    assert "by Agency management system (sync)" in html
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
    client.force_login(agency_admin)
    html = client.get(url(client_on_file, timeline="sync")).content.decode()
    timeline = html.split('id="client-timeline"')[1]
    assert "Home phone" in timeline and "City:" not in timeline
    entries = individual_timeline(individual=client_on_file)
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    assert {e["kind"] for e in entries} >= {"edit", "sync"}


def test_who_revealed_personal_data_is_for_auditors_only(client, agency_admin, make_user, client_on_file):
    individual_reveal(actor=agency_admin, individual=client_on_file, kind="ssn")
    client.force_login(agency_admin)
    assert "Personal data (1)" in client.get(url(client_on_file)).content.decode()
    client.force_login(make_user(individuals=Level.VISIBLE))
    html = client.get(url(client_on_file)).content.decode()
    assert "Personal data (" not in html and "All details" in html


def test_the_page_reads_in_a_fixed_number_of_queries_however_long_the_story(client, agency_admin, client_on_file):
    client.force_login(agency_admin)
    row = external_id_link(obj=client_on_file, system="ams", object_type="customer", external_id="C-1")
    external_id_record_sync(row=row, ok=True)
    client.get(url(client_on_file))  # warm: content types, permissions

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(client_on_file)).status_code == 200
        return len(queries)

    before = count()
    for n in range(6):
        policy = PolicyFactory(individual=client_on_file, policy_number=f"X-{n}")
        external_id_link(obj=policy, system="ams", object_type="policy", external_id=f"P-{n}")
        individual_update(actor=agency_admin, individual=client_on_file, data={"nickname": f"N{n}"})
    assert count() == before
    assert before == QUERIES, before
