"""Carrier Connections in the admin: connect, the list at a glance, amend and retry, the discrepancy queue; rights."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.rights import Level
from carriers.models import CarrierConnection, Discrepancy
from carriers.services import connection_poll, connection_pull, connection_request

from .factories import CarrierFactory, connected_group, roster

pytestmark = pytest.mark.django_db
CONNECTIONS = reverse("admin:carriers_carrierconnection_changelist")
CONNECT = reverse("admin:carriers_carrierconnection_add")
DISCREPANCIES = reverse("admin:carriers_discrepancy_changelist")


@pytest.fixture
def staff(client, make_user):
    def login(level=Level.EDIT, **more):
        user = make_user(carrier_connections=level, plans=Level.EDIT, benefits_sync=Level.EDIT, **more)
        client.force_login(user)
        return client, user

    return login


def _post_connect(client, group, carrier, **fields):
    data = {"employer_group": group.pk, "carrier": carrier.pk, "carrier_group_id": "CG-1", "federal_ein": "", **fields}
    return client.post(CONNECT, data)


def test_connect_a_carrier_from_the_employer_group(staff, noyo):
    client, _ = staff()
    group, carrier = connected_group(members=2)
    noyo.seed(**roster(group, carrier, "CG-1"))
    group_page = client.get(reverse("admin:plans_employergroup_change", args=[group.pk])).content.decode()
    assert f"{CONNECT}?employer_group={group.pk}" in group_page
    form = client.get(CONNECT, {"employer_group": group.pk})
    assert form.context["form"].initial["employer_group"] == str(group.pk)

    reply = _post_connect(client, group, carrier)

    connection = CarrierConnection.objects.get()
    assert reply.status_code == 302 and reply.url == reverse("admin:carriers_carrierconnection_change", args=[connection.pk])
    page = client.get(reply.url).content.decode()
    assert "Created" in page and connection.connection_id in page and connection.group_id in page


def test_connect_form_shows_pre_flight_errors_and_sends_nothing(staff, noyo):
    client, _ = staff()
    group, carrier = connected_group(members=1)
    reply = _post_connect(client, group, carrier, federal_ein="1234")
    assert reply.status_code == 200
    assert "Enter an EIN as 12-3456789" in reply.content.decode()
    assert noyo.connections() == [] and not CarrierConnection.objects.exists()


def test_the_list_shows_status_time_in_status_and_the_last_amendment(staff, noyo, agency_admin):
    client, user = staff()
    group, carrier = connected_group(members=1)
    noyo.seed(**roster(group, carrier, "CG-RIGHT", script={"emit_status": "carrier_paused"}))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-WRONG")
    for _ in range(2):
        connection = connection_poll(connection_id=connection.pk, force=True)
    assert connection.status == "action_required"
    # amend and retry from the admin
    retry_url = reverse("admin:carriers_carrierconnection_retry", args=[connection.pk])
    assert retry_url in client.get(reverse("admin:carriers_carrierconnection_change", args=[connection.pk])).content.decode()
    reply = client.post(retry_url, {"carrier_group_id": "CG-RIGHT", "federal_ein": "12-3456789"})
    assert reply.status_code == 302
    connection_poll(connection_id=connection.pk, force=True)  # -> the status the contract does not list

    page = client.get(CONNECTIONS).content.decode()

    assert "unknown: carrier_paused" in page
    assert "seconds" in page  # time in status
    assert "Carrier group id: CG-WRONG → CG-RIGHT" in page
    assert "{" not in page.split('id="result_list"')[1].split("</table>")[0]  # no JSON reprs in the list


def test_discrepancy_queue_bulk_resolve_coverage_first(staff, noyo, agency_admin):
    client, _ = staff()
    group, carrier = connected_group(members=40)
    noyo.seed(**roster(group, carrier, "CG-1", share=0.25, seed=5))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    while connection.status != "completed":
        connection = connection_poll(connection_id=connection.pk, force=True)
    connection_pull(connection_id=connection.pk)
    page = client.get(DISCREPANCIES)
    rows = list(page.context["cl"].result_list)
    assert rows[0].severity == Discrepancy.Severity.COVERAGE and rows[-1].severity == Discrepancy.Severity.CONTACT
    emails = Discrepancy.objects.filter(field="email")

    reply = client.post(DISCREPANCIES, {"action": "keep_ours", ACTION_CHECKBOX_NAME: [d.pk for d in emails]}, follow=True)

    assert "Keep ours (flag for the carrier): 2 discrepancies resolved." in reply.content.decode()
    assert set(emails.values_list("status", flat=True)) == {Discrepancy.Status.KEPT_OURS}
    missing = Discrepancy.objects.filter(kind="missing_at_carrier").first()
    reply = client.post(DISCREPANCIES, {"action": "take_carrier", ACTION_CHECKBOX_NAME: [missing.pk]}, follow=True)
    assert "can&#x27;t be copied over" in reply.content.decode()


@pytest.mark.parametrize("level", [Level.NONE, Level.VISIBLE, Level.EDIT])
def test_rights_visible_lists_edit_acts(make_user, api_client, client, level, noyo, agency_admin):
    group, carrier = connected_group(members=4)
    noyo.seed(**roster(group, carrier, "CG-1", share=0.5, script={"unable": True}))
    connection = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    user = make_user(carrier_connections=level, benefits_sync=Level.EDIT)
    api_client.force_authenticate(user)
    client.force_login(user)
    can_see, can_act = level >= Level.VISIBLE, level >= Level.EDIT

    assert (api_client.get("/api/carrier-connections/").status_code == 200) is can_see
    assert (api_client.get("/api/discrepancies/").status_code == 200) is can_see
    assert (client.get(CONNECTIONS).status_code == 200) is can_see
    assert (client.get(CONNECT).status_code == 200) is can_act
    poll = api_client.post(f"/api/carrier-connections/{connection.pk}/poll/")
    assert (poll.status_code == 200) is can_act
    retry = client.get(reverse("admin:carriers_carrierconnection_retry", args=[connection.pk]))
    assert (retry.status_code == 200) is can_act
    create = api_client.post(
        "/api/carrier-connections/", {"employer_group": group.pk, "carrier": carrier.pk, "carrier_group_id": "CG-2"}, format="json"
    )
    assert create.status_code == (400 if can_act else 403)  # an open one exists: refused, but only for who may act
    resolve = api_client.post("/api/discrepancies/resolve/", {"resolution": "keep_ours", "ids": [1]}, format="json")
    assert (resolve.status_code == 200) is can_act
    if can_see:
        actions = client.get(DISCREPANCIES).context["cl"].model_admin.get_actions(client.get(DISCREPANCIES).wsgi_request)
        assert ("keep_ours" in actions) is can_act


def test_connect_offers_the_carriers_by_name_and_asks_for_no_id(staff, noyo):
    client, _ = staff()
    group, carrier = connected_group(members=1)
    unknown = CarrierFactory(name="Nowhere Mutual")  # no id at the service: it can't be connected
    html = client.get(CONNECT, {"employer_group": group.pk}).content.decode()
    options = html.split('id="id_carrier"')[1].split("</select>")[0]
    assert f'<option value="{carrier.pk}">{carrier.name}</option>' in options and unknown.name not in options
    assert "noyo_carrier_id" not in html and "UUID" not in html

    reply = _post_connect(client, group, unknown)

    assert reply.status_code == 200 and "Select a valid choice" in reply.content.decode() and not CarrierConnection.objects.exists()


def test_a_carrier_the_service_does_not_know_is_refused_by_name_through_the_api_too(api, noyo):
    group, _ = connected_group(members=1)
    unknown = CarrierFactory(name="Nowhere Mutual")
    reply = api.post("/api/carrier-connections/", {"employer_group": group.pk, "carrier": unknown.pk, "carrier_group_id": "CG-1"}, format="json")
    assert reply.status_code == 400 and "does not know Nowhere Mutual" in str(reply.json())


def test_the_home_has_a_carrier_connection_queue_whose_rows_open_their_lists(staff, noyo, agency_admin):
    client, _ = staff()
    group, carrier = connected_group(members=1)
    noyo.seed(**roster(group, carrier, "CG-RIGHT"))
    stuck = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id="CG-WRONG")
    for _ in range(2):
        stuck = connection_poll(connection_id=stuck.pk, force=True)
    other_group, other_carrier = connected_group(members=1)
    noyo.seed(**roster(other_group, other_carrier, "CG-2", script={"not_ready_polls": 5}))
    waiting = connection_request(actor=agency_admin, employer_group=other_group, carrier=other_carrier, carrier_group_id="CG-2")
    assert stuck.status == "action_required" and waiting.status not in ("action_required", "unable_to_connect", "completed")

    html = client.get("/admin/").content.decode()
    panel = html.split('data-panel="carrier_connections"')[1].split("</div>")[0]
    assert "Needs attention" in panel and "Waiting on the carrier or the service" in panel

    def listed(query):
        html = client.get(f"{CONNECTIONS}?{query}").content.decode()
        return html.split('id="result_list"')[1].split("</table>")[0] if 'id="result_list"' in html else html.split('id="changelist"')[1][:300]

    assert f"{CONNECTIONS}?queue=attention" in panel and f"{CONNECTIONS}?queue=waiting" in panel
    assert group.name in listed("queue=attention") and other_group.name not in listed("queue=attention")
    assert group.name not in listed("queue=waiting") and other_group.name in listed("queue=waiting")
    assert group.name in listed("status=action_required") and other_group.name not in listed("status=action_required")
