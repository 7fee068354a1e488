"""The no-raw-literals page check (``test_pages``) over every page of the AMS link and carrier connections,
with real records behind them: lists (each tab and queue), change pages, the link and connect forms,
amend and retry, the discrepancy queue and the runs. Beyond Python/JSON literals: no username where a
person's name belongs and no bare GUID in a list's cells (far-side ids are shown quietly, as ids)."""

import re

import lxml.html
import pytest
from django.contrib import admin
from django.urls import reverse

from ams.models import IdentityConflict, Notification, Reconciliation, SyncAttempt, WebhookSecret
from ams.services import customer_sync
from carriers.models import CarrierConnection, Discrepancy
from carriers.services import connection_poll, connection_pull, connection_request
from integrations.clients.ams360 import ams360_client
from tests.carriers.factories import connected_group, roster
from tests.individuals.factories import IndividualFactory

GUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
APPS = ("ams", "carriers")
MODELS = sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry if m._meta.app_label in APPS)


def bare_guids(html: str) -> list[str]:
    """GUIDs in a list's cells outside the quiet far-side id spans (``.ad-muted``)."""
    doc = lxml.html.fromstring(html)
    found = []
    for cell in doc.xpath("//table[@id='result_list']//td | //table[@id='result_list']//th[contains(@class, 'field-')]"):
        for quiet in cell.xpath(".//*[contains(@class, 'ad-muted')]"):
            quiet.drop_tree()
        found += GUID.findall(cell.text_content())
    return found


def username_shown(html: str, user) -> bool:
    doc = lxml.html.fromstring(html)
    content = doc.get_element_by_id("content", None)
    if content is None:
        return False
    for tag in content.xpath(".//select | .//script | .//input"):
        tag.drop_tree()
    return re.search(rf"\b{re.escape(user.username)}\b", content.text_content()) is not None


@pytest.fixture
def integration_records(agency_admin, noyo, ams_sandbox):
    """A connected group with discrepancies, a connection stuck on the carrier group id, an AMS customer
    brought in (its CRM push queued), a run, a notification, an identity conflict and a webhook secret."""
    group, carrier = connected_group(members=8)
    noyo.seed(**roster(group, carrier, "CG-1", share=0.5, seed=3))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    for _ in range(4):
        connection = connection_poll(connection_id=connection.pk, force=True)
    if not Discrepancy.objects.exists():
        connection_pull(connection_id=connection.pk, actor=agency_admin)
    other_group, other_carrier = connected_group(members=1)
    noyo.seed(**roster(other_group, other_carrier, "CG-RIGHT"))
    stuck = connection_request(actor=agency_admin, employer_group=other_group, carrier=other_carrier, carrier_group_id="CG-WRONG")
    for _ in range(2):
        stuck = connection_poll(connection_id=stuck.pk, force=True)

    customer_id = ams_sandbox.insert(FirstName="Hedy", LastName="Lamarr", City="Vienna", Email="hedy@example.com")
    customer_sync(client=ams360_client(), customer_id=customer_id)
    Reconciliation.objects.create(requested_by=agency_admin, status=Reconciliation.Status.SUCCEEDED, customers_seen=40, updated=2)
    Notification.objects.create(
        notification_id="n-1",
        record_type="customer",
        record_id=customer_id,
        customer_id=customer_id,
        action="update",
        payload={"CustomerId": customer_id, "Changed": ["FirstName"], "IsActive": True},
        status=Notification.Status.SUCCEEDED,
    )
    kept, other = IndividualFactory(first_name="Ada", last_name="Byron"), IndividualFactory(first_name="Ada", last_name="Lovelace")
    from django.contrib.contenttypes.models import ContentType

    IdentityConflict.objects.create(
        kind=IdentityConflict.Kind.SHARED_ID,
        object_type="customer",
        external_id=customer_id,
        content_type=ContentType.objects.get_for_model(kept),
        object_id=kept.pk,
        other_object_id=other.pk,
        description="Two records claim one AMS customer.",
        decided_by=agency_admin,
        status=IdentityConflict.Status.SEPARATED,
    )
    WebhookSecret.objects.create(name="AMS webhook", secret="s" * 32)
    assert SyncAttempt.objects.exists() and Discrepancy.objects.exists() and stuck.status == "action_required"
    return {"connection": connection, "stuck": stuck, "individual": kept}


def _check(client, url, assert_no_raw_literals, user):
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert_no_raw_literals(html, url)
    assert not bare_guids(html), f"GUIDs on {url}: {bare_guids(html)}"
    assert not username_shown(html, user), f"the username {user.username} on {url} (a person's name belongs there)"
    return html


def test_every_ams_and_carriers_page_reads_as_text(client, agency_admin, integration_records, assert_no_raw_literals):
    client.force_login(agency_admin)
    urls = ["/admin/"]
    for model in MODELS:
        app_label, model_name = model.split(".")
        urls.append(reverse(f"admin:{app_label}_{model_name}_changelist"))
        model_admin = next(ma for m, ma in admin.site._registry.items() if m._meta.label_lower == model)
        obj = model_admin.model._default_manager.order_by("pk").last()
        if obj is not None:
            urls.append(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))
    sync = reverse("admin:ams_syncattempt_changelist")
    connections = reverse("admin:carriers_carrierconnection_changelist")
    connection, stuck = integration_records["connection"], integration_records["stuck"]
    urls += [
        f"{sync}?status__in=failed",
        f"{sync}?status__in=queued,running,retrying",
        f"{sync}?status__in=succeeded",
        f"{connections}?queue=attention",
        f"{connections}?queue=waiting",
        reverse("admin:carriers_carrierconnection_change", args=[stuck.pk]),
        reverse("admin:carriers_carrierconnection_add"),
        reverse("admin:carriers_carrierconnection_retry", args=[stuck.pk]),
        reverse("admin:carriers_discrepancy_changelist") + f"?connection__id__exact={connection.pk}&status__exact=open",
        reverse("admin:ams_link", args=["individual", integration_records["individual"].pk]),
        reverse("admin:ams_link", args=["individual", integration_records["individual"].pk]) + "?name_prefix=La",
        reverse("admin:ams_link", args=["employergroup", connection.employer_group_id]) + "?name_prefix=Ac",
    ]
    urls += [reverse("admin:carriers_discrepancy_change", args=[d.pk]) for d in Discrepancy.objects.all()]
    missing_here = Discrepancy.objects.filter(kind=Discrepancy.Kind.MISSING_HERE, subject_key__startswith="member:").first()
    if missing_here:
        urls.append(reverse("admin:carriers_discrepancy_link", args=[missing_here.pk]))
    for url in urls:
        _check(client, url, assert_no_raw_literals, agency_admin)

    # the forms after a refusal read as text too
    reply = client.post(
        reverse("admin:carriers_carrierconnection_add"),
        {"employer_group": connection.employer_group_id, "carrier": connection.carrier_id, "carrier_group_id": "CG-1", "federal_ein": "1234"},
    )
    assert reply.status_code == 200 and "Enter an EIN as 12-3456789" in reply.content.decode()
    assert_no_raw_literals(reply, "the refused connect form")
    assert CarrierConnection.objects.count() == 2


def test_the_people_behind_acts_are_named(client, agency_admin, integration_records):
    client.force_login(agency_admin)
    name = agency_admin.get_full_name()
    connection_page = client.get(reverse("admin:carriers_carrierconnection_change", args=[integration_records["connection"].pk])).content.decode()
    runs = client.get(reverse("admin:ams_reconciliation_changelist")).content.decode()
    conflicts = client.get(reverse("admin:ams_identityconflict_changelist")).content.decode()
    for html in (connection_page, runs, conflicts):
        assert name in html


def test_codes_read_as_words_in_the_lists_and_their_filters(client, agency_admin, integration_records):
    client.force_login(agency_admin)
    sync = client.get(reverse("admin:ams_syncattempt_changelist")).content.decode()
    inbox = client.get(reverse("admin:ams_notification_changelist")).content.decode()
    discrepancy = Discrepancy.objects.exclude(noyo_status="").first()
    assert ">Sent to the CRM<" in sync and ">upserted<" not in sync  # the outcome filter
    assert ">Customer<" in inbox and ">customer<" not in inbox and ">Update<" in inbox
    if discrepancy is not None:
        page = client.get(reverse("admin:carriers_discrepancy_change", args=[discrepancy.pk])).content.decode()
        assert f">{discrepancy.noyo_status}<" not in page
