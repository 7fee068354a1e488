"""The API: accounts (search, refresh), links (import, choices, preview, sync), runs, conflicts (resolve), rights."""

import pytest

from accounts.rights import Level
from plans.services import plan_update
from plansync.models import PlanSyncConflict
from tests.plansync.factories import SyncedPlanFactory


def _import(api, account_id=40002):
    response = api.post("/api/plan-sync-links/", {"account_id": account_id}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_accounts_refresh_and_search_by_name_or_id(api, benefitpoint):
    assert api.post("/api/benefits-admin/accounts/refresh/").json() == {"accounts": 50}
    assert [a["account_id"] for a in api.get("/api/benefits-admin/accounts/?q=40003").json()["results"]] == [40003]
    names = [a["name"] for a in api.get("/api/benefits-admin/accounts/?q=dental").json()["results"]]
    assert names and all("dental" in n.lower() for n in names)
    new_id = benefitpoint.add_account("Brand New Bakery")
    assert not api.get(f"/api/benefits-admin/accounts/?q={new_id}").json()["results"]
    api.post("/api/benefits-admin/accounts/refresh/")
    assert api.get(f"/api/benefits-admin/accounts/?q={new_id}").json()["results"][0]["name"] == "Brand New Bakery"


def test_import_choose_preview_sync_and_resolve(api, benefitpoint, django_capture_on_commit_callbacks):
    link = _import(api)
    again = api.post("/api/plan-sync-links/", {"account_id": 40002}, format="json")
    assert again.status_code == 400 and "already linked" in str(again.json())
    from plansync.models import AccountLink

    plan = SyncedPlanFactory(group=AccountLink.objects.get(pk=link["id"]).group, name="API plan")
    product = next(p for p in benefitpoint.products(accountID=40002) if p["productTypeID"] == 101 and p["productStatus"] == "Current")
    rows = {"choices": [{"plan": plan.pk, "product_id": product["productID"], "choice": "link", "truth_details": "agencydesk"}]}
    preview = api.post(f"/api/plan-sync-links/{link['id']}/preview/", rows, format="json").json()["preview"]
    assert {"field": "Plan name", "side": "Benefits-admin system", "old": product["name"], "new": "API plan"} in preview[0]["changes"]
    assert api.post(f"/api/plan-sync-links/{link['id']}/choices/", rows, format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/plan-sync-links/{link['id']}/sync/").status_code == 202
    run = api.get(f"/api/plan-sync-runs/?link={link['id']}").json()["results"][0]
    assert run["status"] == "succeeded" and run["items"][0]["status"] == "succeeded"
    assert (run["queue"], run["queue_label"]) == ("successful", "Successful")
    # both sides change the name: a conflict, resolved with the far side's value
    benefitpoint.edit(product["productID"], name="Far name")
    plan_update(actor=None, plan=plan, data={"name": "Near name"})
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/plan-sync-links/{link['id']}/sync/")
    conflict = api.get("/api/plan-sync-conflicts/?status=open").json()["results"][0]
    assert (conflict["local_value"], conflict["remote_value"]) == ("Near name", "Far name")
    with django_capture_on_commit_callbacks(execute=True):
        resolved = api.post(f"/api/plan-sync-conflicts/{conflict['id']}/resolve/", {"resolution": "benefits_admin"}, format="json")
    assert resolved.status_code == 200
    plan.refresh_from_db()
    assert plan.name == "Far name"
    bad = api.post(f"/api/plan-sync-conflicts/{conflict['id']}/resolve/", {"resolution": "benefits_admin"}, format="json")
    assert bad.status_code == 400 and PlanSyncConflict.objects.filter(status="open").count() == 0


def test_bad_choices_are_400_with_the_reason(api, benefitpoint):
    link = _import(api)
    response = api.post(f"/api/plan-sync-links/{link['id']}/choices/", {"choices": [{"product_id": 1, "choice": "link"}]}, format="json")
    assert response.status_code == 400 and "a person pairs them" in str(response.json())


def test_rights_visible_lists_edit_acts(make_user, benefitpoint, api_as):
    viewer = api_as(make_user(plans=Level.VISIBLE))
    assert viewer.get("/api/plan-sync-runs/").status_code == 200
    assert viewer.post("/api/plan-sync-links/", {"account_id": 40002}, format="json").status_code == 403
    assert viewer.post("/api/benefits-admin/accounts/refresh/").status_code == 403
    outsider = api_as(make_user())
    assert outsider.get("/api/plan-sync-runs/").status_code == 403
    editor = api_as(make_user(plans=Level.EDIT))
    assert editor.post("/api/plan-sync-links/", {"account_id": 40002}, format="json").status_code == 201


pytestmark = pytest.mark.django_db
