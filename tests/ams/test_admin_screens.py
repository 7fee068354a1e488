"""The AMS screens staff work from: the link search (count, pages, what tells customers apart, who holds
an id), the home's Failed / In progress rows, and a sync queue titled apart from the benefits one."""

import re

import pytest
from django.urls import reverse

from ams.models import SyncAttempt
from ams.services import customer_sync
from integrations.clients.ams360 import ams360_client
from integrations.registry import external_id_lookup
from tests.individuals.factories import IndividualFactory

pytestmark = pytest.mark.django_db


def _rows(html: str) -> list[str]:
    body = html.split('id="candidates"')[1].split("</table>")[0]
    return re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)


def test_the_link_search_counts_pages_and_says_who_holds_a_linked_customer(client, agency_admin, ams_sandbox):
    for n in range(30):
        ams_sandbox.insert(
            FirstName=f"Pat{n:02d}", LastName="Pageturner", City="Tampa", State="FL", AddressLine1=f"{n} Elm St", Email=f"p{n}@mail.example"
        )
    held = ams_sandbox.insert(FirstName="Ann", LastName="Pageturnera", City="Miami")
    customer_sync(client=ams360_client(), customer_id=held)
    holder = external_id_lookup(system="ams", object_type="customer", external_id=held)
    record = IndividualFactory(first_name="Pat", last_name="Pageturner", email="pat@mail.example", city="Tampa")
    client.force_login(agency_admin)
    url = reverse("admin:ams_link", args=["individual", record.pk])

    first = client.get(url, {"name_prefix": "Pageturner"}).content.decode()
    second = client.get(url, {"name_prefix": "Pageturner", "page": 2}).content.decode()

    assert "31 customers whose name starts with “Pageturner”: 1–25 shown." in first
    assert "26–31 shown" in second and len(_rows(first)) == 25 and len(_rows(second)) == 6
    assert 'href="?name_prefix=Pageturner&amp;page=2"' in first and 'rel="next"' in first
    assert "0 Elm St, Tampa, FL" in first and "p0@mail.example" in first and "Date of birth" in first
    assert "pat@mail.example" in first  # this record's own facts, to compare with
    linked = next(row for row in _rows(second) if "Ann Pageturnera" in row)
    assert "Already linked to individual" in linked and reverse("admin:individuals_individual_change", args=[holder.pk]) in linked
    assert "This is the one" not in linked


def test_the_homes_failed_and_in_progress_rows_open_their_own_tab(client, agency_admin):
    for status, n in ((SyncAttempt.Status.FAILED, 2), (SyncAttempt.Status.QUEUED, 3), (SyncAttempt.Status.SUCCEEDED, 1)):
        for k in range(n):
            SyncAttempt.objects.create(
                direction=SyncAttempt.Direction.TO_CRM, status=status, record_repr=f"{status} {k}", external_id=f"ref-{status}-{k}"
            )
    client.force_login(agency_admin)
    panel = client.get("/admin/").content.decode().split('data-panel="ams_sync"')[1].split("</div>")[0]
    links = {label: href.replace("&amp;", "&") for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', panel)}

    failed = client.get(links["Failed"]).content.decode()
    running = client.get(links["In progress"]).content.decode()

    assert links["Failed"] != links["In progress"]
    assert "2 sync attempts" in failed and "failed 0" in failed and "queued 0" not in failed
    assert "3 sync attempts" in running and "queued 2" in running and "failed 0" not in running


def test_the_ams_sync_queue_and_the_benefits_sync_history_have_different_titles(client, agency_admin):
    client.force_login(agency_admin)
    ams = client.get(reverse("admin:ams_syncattempt_changelist")).content.decode()
    benefits = client.get(reverse("admin:hrsync_syncattempt_changelist")).content.decode()
    title = re.compile(r"<title>(.*?)</title>", re.S)
    assert title.search(ams).group(1).startswith("AMS and CRM sync queue")
    assert title.search(ams).group(1) != title.search(benefits).group(1)
