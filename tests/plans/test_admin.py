import pytest
from django.urls import reverse

from accounts.models import AuditLog
from accounts.rights import Level
from plans.models import Plan
from tests.plans.factories import CarrierFactory, EmployerGroupFactory, PlanFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("level", "changelist", "add", "renew", "delete"),
    [(Level.NONE, 403, 403, 403, 403), (Level.VISIBLE, 200, 403, 403, 403), (Level.EDIT, 200, 200, 200, 403), (Level.DELETE, 200, 200, 200, 200)],
)
def test_plans_area_level_governs_the_admin(client, make_user, level, changelist, add, renew, delete):
    client.force_login(make_user(plans=level))
    plan = PlanFactory()
    assert client.get(reverse("admin:plans_plan_changelist")).status_code == changelist
    assert client.get(reverse("admin:plans_employergroup_changelist")).status_code == changelist
    assert client.get(reverse("admin:plans_plan_add")).status_code == add
    assert client.get(reverse("admin:plans_plan_renew", args=[plan.pk])).status_code in ((renew,) if renew == 200 else (403, 302))
    assert client.get(reverse("admin:plans_plan_delete", args=[plan.pk])).status_code == delete
    import_status = client.get(reverse("admin:plans_plan_import")).status_code
    assert (import_status == 200) == (level >= Level.EDIT)


def test_plan_page_shows_benefits_and_rates_as_a_person_reads_them(admin_client):
    plan = PlanFactory(benefit_summary={"deductible_individual": 1500, "coinsurance": 20, "hsa_eligible": False, "copays": {"specialist": 50}})
    html = admin_client.get(reverse("admin:plans_plan_change", args=[plan.pk])).content.decode()
    for text in ("Deductible (individual)", "$1,500", "20%", "Copay: Specialist visit", "$50", "Employee + spouse", "$1,076.04", "Renew plan"):
        assert text in html


def _post_plan(client, plan_data, rates):
    data = {"rates-TOTAL_FORMS": str(len(rates)), "rates-INITIAL_FORMS": "0", "rates-MIN_NUM_FORMS": "0", "rates-MAX_NUM_FORMS": "1000", **plan_data}
    for i, (tier, amount) in enumerate(rates):
        data[f"rates-{i}-tier"], data[f"rates-{i}-monthly_rate"] = tier, amount
    return client.post(reverse("admin:plans_plan_add"), data)


def _plan_data(**overrides):
    return {
        "group": EmployerGroupFactory().pk,
        "carrier": CarrierFactory().pk,
        "line_of_coverage": "dental",
        "name": "Dental PPO",
        "plan_type": "ppo",
        "effective_date": "2026-01-01",
        "renewal_date": "2027-01-01",
        "billing_type": "list_bill",
        "funding_type": "fully_insured",
        "status": "active",
        "b_dental__annual_maximum": "1500",
        "b_dental__coinsurance_major": "50",
        "b_medical__deductible_individual": "999",
        "rate_basis": "tiered",
        "contribution_basis": "percent",
        "employer_contribution_employee": "100",
        "employer_contribution_dependents": "50",
        "waiting_period_days": "30",
        **overrides,
    }


TIERS = [("employee", "40"), ("employee_spouse", "80"), ("employee_children", "75"), ("family", "120")]


def test_admin_add_plan_saves_rates_through_the_service(admin_client):
    response = _post_plan(admin_client, _plan_data(), TIERS)
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert plan.rates.count() == 4 and plan.version == 1
    # only the chosen line's benefits are kept
    assert plan.benefit_summary == {"annual_maximum": 1500, "coinsurance_major": 50}
    assert AuditLog.objects.filter(action="create", object_id=str(plan.pk)).exists()


@pytest.mark.parametrize(
    ("overrides", "rates", "message"),
    [
        ({}, TIERS[:3], "missing: Family"),
        ({}, [*TIERS[:3], ("family", "-1")], "can&#x27;t be negative"),
        ({"renewal_date": "2025-06-01"}, TIERS, "after the effective date"),
        ({"b_dental__coinsurance_major": "150"}, TIERS, "less than or equal to 100"),
    ],
)
def test_admin_refuses_bad_plans_and_writes_nothing(admin_client, overrides, rates, message):
    response = _post_plan(admin_client, _plan_data(**overrides), rates)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Plan.objects.exists()


def test_admin_renew_page_creates_the_next_plan_year(admin_client):
    plan = PlanFactory()
    response = admin_client.post(reverse("admin:plans_plan_renew", args=[plan.pk]), {"rate_change_percent": "3"})
    renewal = Plan.objects.get(renewed_from=plan)
    assert response.url == reverse("admin:plans_plan_change", args=[renewal.pk])
    again = admin_client.post(reverse("admin:plans_plan_renew", args=[plan.pk]), {})
    assert "renewed already" in again.content.decode()


def test_group_page_lists_its_plans_and_offers_add_plan(admin_client):
    plan = PlanFactory()
    html = admin_client.get(reverse("admin:plans_employergroup_change", args=[plan.group.pk])).content.decode()
    assert plan.name in html and f"/admin/plans/plan/add/?group={plan.group.pk}" in html


def test_group_changelist_filters_by_carrier_of_its_plans(admin_client):
    plan, other = PlanFactory(), PlanFactory()
    html = admin_client.get(reverse("admin:plans_employergroup_changelist"), {"carrier": plan.carrier.pk}).content.decode()
    assert plan.group.name in html and other.group.name not in html


def _hidden_inputs(html: str) -> dict:
    import re

    return {m.group(1): m.group(2) for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)}


def test_admin_import_shows_row_errors_then_imports_after_confirmation(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import AuditLog as Log
    from plans.models import EmployerGroup

    url = reverse("admin:plans_employergroup_import")
    bad = "account_number,name,status\nEG-1,Harbor,active\nEG-2,,active\n"
    response = admin_client.post(url, {"format": "0", "import_file": SimpleUploadedFile("g.csv", bad.encode())})
    html = response.content.decode()
    assert "Some rows failed to validate" in html and "This field cannot be blank" in html
    assert 'name="import_file_name"' not in html  # no way to confirm a file with errors
    assert not EmployerGroup.objects.exists()

    good = "account_number,name,status\nEG-1,Harbor,active\nEG-2,Summit,active\n"
    response = admin_client.post(url, {"format": "0", "import_file": SimpleUploadedFile("g.csv", good.encode())})
    assert not EmployerGroup.objects.exists()  # the first step is a dry run
    confirm = _hidden_inputs(response.content.decode())
    admin_client.post(reverse("admin:plans_employergroup_process_import"), confirm)
    assert set(EmployerGroup.objects.values_list("account_number", flat=True)) == {"EG-1", "EG-2"}
    assert Log.objects.filter(action="import").count() == 1


def _management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_admin_group_save_goes_through_the_service_with_contacts(admin_client):
    from plans.models import EmployerGroup

    data = {
        "name": "Harbor Dental",
        "account_number": "EG-50",
        "account_type": "group",
        "status": "active",
        **_management("plans", 0),
        **_management("addresses", 0),
        **_management("contacts", 2),
        "contacts-0-name": "Ann",
        "contacts-0-is_primary": "on",
        "contacts-1-name": "Bo",
        "contacts-1-is_primary": "on",
    }
    refused = admin_client.post(reverse("admin:plans_employergroup_add"), data)
    assert "Only one contact can be the primary contact" in refused.content.decode()
    assert not EmployerGroup.objects.exists()

    del data["contacts-1-is_primary"]
    assert admin_client.post(reverse("admin:plans_employergroup_add"), data).status_code == 302
    group = EmployerGroup.objects.get()
    assert [c.name for c in group.contacts.all()] == ["Ann", "Bo"]

    data = {**data, "name": "Harbor Dental LLC", **_management("contacts", 0)}
    for key in [k for k in data if k.startswith("contacts-") and k[9].isdigit()]:
        del data[key]
    admin_client.post(reverse("admin:plans_employergroup_change", args=[group.pk]), data)
    group.refresh_from_db()
    assert group.name == "Harbor Dental LLC" and group.contacts.count() == 2  # untouched inline is kept
    assert AuditLog.objects.filter(object_id=str(group.pk), action="update", summary="Changed name").exists()


def test_changelists_are_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for _ in range(12):
        PlanFactory()
    for name in ("admin:plans_plan_changelist", "admin:plans_employergroup_changelist"):
        with django_assert_max_num_queries(12):
            page = admin_client.get(reverse(name))
        assert page.context["cl"].result_count == 12, name
