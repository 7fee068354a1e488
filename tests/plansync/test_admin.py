"""The admin pages: import from Employer groups, choose plans with a preview, runs, conflicts; rights."""

import pytest
from django.urls import reverse

from accounts.rights import Level
from plansync.models import AccountLink, PlanChoice
from tests.plansync.factories import SyncedPlanFactory, import_account

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:plansync_accountlink_import")


@pytest.fixture
def staff(client, make_user):
    def login(level=Level.EDIT):
        client.force_login(make_user(plans=level))
        return client

    return login


def test_employer_groups_offer_the_import_and_it_searches_the_local_list(staff, benefitpoint):
    client = staff()
    assert IMPORT in client.get(reverse("admin:plans_employergroup_changelist")).content.decode()
    page = client.get(IMPORT, {"q": "40003"})  # the first visit fills the local list
    assert [a.account_id for a in page.context["accounts"]] == [40003]
    assert len(client.get(IMPORT, {"q": "dental"}).context["accounts"]) >= 2


def test_import_leads_to_choosing_plans_and_a_linked_account_shows_its_group(staff, benefitpoint):
    client = staff()
    client.get(IMPORT)
    response = client.post(IMPORT, {"account_id": "40002", "group": ""})
    link = AccountLink.objects.get(account_id=40002)
    assert response.url == reverse("admin:plansync_accountlink_choose", args=[link.pk])
    page = client.get(IMPORT, {"q": "40002"}).content.decode()
    assert f'Linked to <a href="{reverse("admin:plans_employergroup_change", args=[link.group_id])}">' in page
    refused = client.post(IMPORT, {"account_id": "40002"})
    assert "already linked to" in refused.content.decode()


def test_choose_page_previews_field_by_field_then_saves(staff, benefitpoint):
    client = staff()
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name="Local Gold")
    product = next(p for p in benefitpoint.products(accountID=40002) if p["productTypeID"] == 101 and p["productStatus"] == "Current")
    url = reverse("admin:plansync_accountlink_choose", args=[link.pk])
    form = {
        f"choice-plan-{plan.pk}": "link",
        f"pair-plan-{plan.pk}": str(product["productID"]),
        f"truth-details-plan-{plan.pk}": "agencydesk",
        f"truth-benefits-plan-{plan.pk}": "benefits_admin",
        f"truth-rates-plan-{plan.pk}": "benefits_admin",
    }
    page = client.post(url, {**form, "preview": "Preview"})
    preview = page.context["preview"][0]
    assert {"field": "Plan name", "side": "Benefits-admin system", "old": product["name"], "new": "Local Gold"} in preview["changes"]
    assert not PlanChoice.objects.exists()  # a preview writes nothing
    client.post(url, {**form, "save": "Save choices"})
    assert PlanChoice.objects.get(plan=plan).product_id == product["productID"]


def test_visible_users_see_but_do_not_act(staff, benefitpoint):
    link = import_account(40002)
    client = staff(Level.VISIBLE)
    assert client.get(reverse("admin:plansync_plansyncrun_changelist")).status_code == 200
    assert client.get(IMPORT).status_code == 403
    assert client.post(reverse("admin:plansync_accountlink_sync", args=[link.pk])).status_code == 403
