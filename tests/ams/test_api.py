"""The API: external ids (link by a picked id, never by name), identity conflicts, reconciliations, rights,
and fields the AMS owns."""

import pytest

from accounts.models import AuditLog
from accounts.rights import Level
from ams.models import IdentityConflict, Reconciliation
from ams.services import customer_sync
from individuals.models import Individual
from integrations.clients.ams360 import ams360_client
from integrations.registry import external_id_lookup
from tests.individuals.factories import IndividualFactory
from tests.plans.factories import EmployerGroupFactory

pytestmark = pytest.mark.django_db


def test_link_a_group_by_the_customer_id_a_person_picked(api, ams_sandbox, django_capture_on_commit_callbacks):
    group = EmployerGroupFactory(name="Something Else Entirely")
    customer_id = ams_sandbox.insert(FirmName="Granite Roofing", IsCommercial=True)
    candidates = api.get("/api/external-ids/candidates/", {"name_prefix": "Granite R"}).json()
    assert [c["customer_id"] for c in candidates] == [customer_id]  # proposed, not linked
    assert external_id_lookup(system="ams", object_type="customer", external_id=customer_id) is None
    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post("/api/external-ids/", {"record_type": "employergroup", "object_id": group.pk, "external_id": customer_id}, format="json")
    assert reply.status_code == 201, reply.json()
    group.refresh_from_db()
    assert group.name == "Granite Roofing"  # the AMS is the source of truth, the name was never used to link
    listed = api.get("/api/external-ids/", {"record_type": "employergroup", "object_id": group.pk}).json()["results"]
    by_system = {r["system"]: r for r in listed}
    assert (by_system["ams"]["external_id"], by_system["ams"]["last_sync_outcome"]) == (customer_id, "succeeded")
    assert by_system["crm"]["last_sync_outcome"] == "succeeded"  # and pushed to the CRM, marked "AMS synced"
    assert AuditLog.objects.filter(summary=f"Linked to AMS customer {customer_id}").exists()


def test_a_second_record_claiming_an_id_opens_a_conflict_that_a_person_merges(api, ams_sandbox, django_capture_on_commit_callbacks):
    customer_id = ams_sandbox.insert(FirstName="Ida", LastName="Wells")
    with django_capture_on_commit_callbacks(execute=True):
        customer_sync(client=ams360_client(), customer_id=customer_id)
    kept = external_id_lookup(system="ams", object_type="customer", external_id=customer_id)
    other = IndividualFactory(first_name="Ida", last_name="Wells-Barnett")
    reply = api.post("/api/external-ids/", {"record_type": "individual", "object_id": other.pk, "external_id": customer_id}, format="json")
    assert reply.status_code == 400 and "identity conflict" in reply.json()["detail"]
    conflict = api.get("/api/identity-conflicts/", {"status": "open"}).json()["results"][0]
    assert (conflict["kind"], conflict["object_id"], conflict["other_object_id"]) == ("shared_id", kept.pk, other.pk)
    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post(f"/api/identity-conflicts/{conflict['id']}/merge/")
    assert reply.status_code == 200 and reply.json()["status"] == "merged"
    assert not Individual.objects.filter(pk=other.pk).exists()
    assert api.post(f"/api/identity-conflicts/{conflict['id']}/separate/").status_code == 400  # already decided
    assert AuditLog.objects.filter(summary__startswith="Merged:").exists()


def test_separate_keeps_both(api, ams_sandbox):
    a, b = IndividualFactory(), IndividualFactory()
    from integrations.registry import external_id_link

    row = external_id_link(obj=a, system="ams", object_type="customer", external_id="c-1")
    conflict = IdentityConflict.objects.create(
        kind="shared_id",
        object_type="customer",
        external_id="c-1",
        content_type_id=row.content_type_id,
        object_id=a.pk,
        other_object_id=b.pk,
        description="test",
    )
    assert api.post(f"/api/identity-conflicts/{conflict.pk}/separate/").json()["status"] == "separated"
    assert Individual.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_rights_visible_lists_edit_links_administration_reconciles(make_user, ams_sandbox, api_as):
    viewer = api_as(make_user(individuals=Level.VISIBLE))
    person = IndividualFactory()
    assert viewer.get("/api/external-ids/").status_code == 200
    reply = viewer.post("/api/external-ids/", {"record_type": "individual", "object_id": person.pk, "external_id": "x"}, format="json")
    assert reply.status_code == 403
    assert viewer.post("/api/reconciliations/").status_code == 403
    assert viewer.get("/api/reconciliations/").status_code == 403
    nobody = api_as(make_user())
    assert nobody.get("/api/identity-conflicts/").status_code == 403
    admin = api_as(make_user(administration=Level.EDIT))
    reply = admin.post("/api/reconciliations/")
    assert reply.status_code == 202 and reply.json()["status"] == "queued"
    assert admin.post("/api/reconciliations/").json()["id"] == reply.json()["id"]  # joins the queued run
    assert Reconciliation.objects.count() == 1


def test_a_local_edit_to_a_field_the_ams_owns_is_refused(api, ams_sandbox, django_capture_on_commit_callbacks):
    customer_id = ams_sandbox.insert(FirstName="Rosalind", LastName="Franklin")
    with django_capture_on_commit_callbacks(execute=True):
        customer_sync(client=ams360_client(), customer_id=customer_id)
    rosalind = external_id_lookup(system="ams", object_type="customer", external_id=customer_id)
    reply = api.patch(f"/api/individuals/{rosalind.pk}/", {"last_name": "Elsie"}, format="json")
    assert reply.status_code == 400
    assert "owned by the agency management system" in str(reply.json()["last_name"])
    rosalind.refresh_from_db()
    assert rosalind.last_name == "Franklin"
    # a field the AMS does not own stays editable here
    assert api.patch(f"/api/individuals/{rosalind.pk}/", {"nickname": "Ros"}, format="json").status_code == 200


def test_the_webhook_secret_is_administration_and_never_shown(client, make_user):
    user = make_user(individuals=Level.EDIT)
    client.force_login(user)
    assert client.get("/admin/ams/webhooksecret/").status_code == 403
    admin = make_user(administration=Level.EDIT)
    client.force_login(admin)
    reply = client.post("/admin/ams/webhooksecret/add/", {"name": "rotation 2026", "secret": "s" * 24, "active": "on"})
    assert reply.status_code == 302
    page = client.get("/admin/ams/webhooksecret/1/change/").content.decode()
    assert "s" * 24 not in page
    assert AuditLog.objects.filter(object_repr="rotation 2026").exists()
