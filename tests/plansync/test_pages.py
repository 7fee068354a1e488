"""Every plan-sync page reads as text: import, choose, preview, runs, a run, conflicts, links, accounts.

Values a person reads: each changed benefit and rate tier its own line with its label, money as money,
Yes/No, codes as their labels, people by name; no Python/JSON literal anywhere (``assert_no_raw_literals``).
"""

import re

import pytest
from django.urls import reverse

from plansync.models import AccountLink, BenefitsAdminAccount, PlanChoice, PlanSyncConflict, PlanSyncItem, PlanSyncRun, RemotePlan, Side
from plansync.services import Row, plan_sync_pass
from tests.plans.factories import EmployerGroupFactory
from tests.plansync.factories import SyncedPlanFactory, choose, import_account

pytestmark = pytest.mark.django_db
IMPORT = reverse("admin:plansync_accountlink_import")
BENEFITS = {"deductible_individual": 1500, "coinsurance": 20, "hsa_eligible": True, "copays": {"primary_care": 25, "specialist": 50}}


def _medical(benefitpoint, account_id=40002):
    return next(p for p in benefitpoint.products(accountID=account_id) if p["productTypeID"] == 101 and p["productStatus"] == "Current")


@pytest.fixture
def person(agency_admin):
    agency_admin.first_name, agency_admin.last_name = "Dana", "Whitfield"
    agency_admin.save()
    return agency_admin


@pytest.fixture
def synced(benefitpoint, person):
    """A linked group whose medical plan took its benefits and rates from there, by a person's Sync now."""
    link = import_account(40002, actor=person)
    plan = SyncedPlanFactory(group=link.group, name="Our Gold PPO", benefit_summary=BENEFITS)
    product = _medical(benefitpoint)
    choose(link, Row(plan=plan, product_id=product["productID"], choice="link", truth_details=Side.AGENCYDESK))
    (run,) = plan_sync_pass(trigger="manual", actor=person, link_ids=[link.pk])
    assert run.status == PlanSyncRun.Status.SUCCEEDED, list(run.items.values_list("reason", flat=True))
    return link, plan, product, run


def test_a_runs_changes_are_one_line_per_benefit_and_rate_with_labels_and_money(client, person, synced, assert_no_raw_literals):
    link, plan, product, run = synced
    item = PlanSyncItem.objects.get(run=run)
    fields = {c["field"]: (c["old"], c["new"]) for c in item.changes}
    # the whole benefits set is no longer one change: each benefit that differs is its own line
    assert "Benefits" not in fields
    assert fields["Benefit: HSA eligible"] == ("Yes", "No")
    assert fields["Benefit: Copay: Primary care visit"] == ("$25.00", "—")
    assert all(re.fullmatch(r"\$[\d,]+\.\d\d|—", old) for label, (old, new) in fields.items() if label.startswith("Monthly rate: "))
    client.force_login(person)
    html = client.get(reverse("admin:plansync_plansyncrun_change", args=[run.pk])).content.decode()
    assert_no_raw_literals(html, "a run's page")
    assert "HSA eligible" in html and "Copay: Primary care visit" in html and "copays" not in html
    assert "Dana Whitfield" in html and person.username not in html  # requested by a person, named
    assert "To AgencyDesk" in html


def test_every_plansync_page_reads_as_text(client, person, synced, benefitpoint, assert_no_raw_literals):
    link, plan, product, run = synced
    PlanSyncConflict.objects.create(
        choice=PlanChoice.objects.get(plan=plan),
        field="benefitSummary",
        local_value={"deductible_individual": 1500, "hsa_eligible": True, "copays": {"primary_care": 30}},
        remote_value={"deductible_individual": 1500, "hsa_eligible": False, "copays": {"primary_care": 25}},
        agreed_value={"hsa_eligible": False, "copays": {"primary_care": 20}},
    )
    resolved = PlanSyncConflict.objects.create(
        choice=PlanChoice.objects.get(plan=plan), field="billingType", local_value="Agency_Bill", remote_value="Direct_Bill", agreed_value=None
    )
    PlanSyncConflict.objects.filter(pk=resolved.pk).update(status="resolved", resolution="agencydesk", resolved_by=person)
    other = SyncedPlanFactory(group=link.group, name="Our Silver HMO", benefit_summary=BENEFITS)
    client.force_login(person)
    choose_url = reverse("admin:plansync_accountlink_choose", args=[link.pk])
    pages = {
        "the import page": client.get(IMPORT, {"q": "dental"}),
        "the choose page": client.get(choose_url),
        "a preview": client.post(
            choose_url,
            {
                "preview": "Preview",
                f"choice-plan-{other.pk}": "create_there",
                f"choice-product-{_other_product(benefitpoint)}": "create_there",
            },
        ),
        "the runs": client.get(reverse("admin:plansync_plansyncrun_changelist")),
        "a run": client.get(reverse("admin:plansync_plansyncrun_change", args=[run.pk])),
        "the conflicts": client.get(reverse("admin:plansync_plansyncconflict_changelist")),
        "the links": client.get(reverse("admin:plansync_accountlink_changelist")),
        "a link": client.get(reverse("admin:plansync_accountlink_change", args=[link.pk])),
        "the accounts": client.get(reverse("admin:plansync_benefitsadminaccount_changelist")),
        "an account": client.get(reverse("admin:plansync_benefitsadminaccount_change", args=[BenefitsAdminAccount.objects.get(account_id=40002).pk])),
    }
    for conflict in PlanSyncConflict.objects.all():
        pages[f"conflict {conflict.pk}"] = client.get(reverse("admin:plansync_plansyncconflict_change", args=[conflict.pk]))
    for where, response in pages.items():
        assert response.status_code == 200, where
        assert_no_raw_literals(response, where)
        assert person.username not in response.content.decode().split('id="content"', 1)[-1], f"{where}: a login where a name belongs"
    preview = pages["a preview"].content.decode()
    assert "Benefit: Copay: Specialist visit" in preview and "$50.00" in preview and "Benefit: HSA eligible" in preview
    conflicts = pages["the conflicts"].content.decode()
    assert "Copay: Primary care visit: $30.00" in conflicts and "HSA eligible: No" in conflicts
    # a benefits conflict names the benefits the sides hold differently, not the whole set twice
    local_cell = re.search(r'<td class="field-local_shown">(.*?)</td>', conflicts, re.S).group(1)
    assert "Copay: Primary care visit: $30.00" in local_cell and "HSA eligible: Yes" in local_cell and "Deductible" not in local_cell
    assert "List bill" in conflicts and "Direct bill" in conflicts and "Agency_Bill" not in conflicts


def _other_product(benefitpoint) -> int:
    return next(p["productID"] for p in benefitpoint.products(accountID=40002) if p["productTypeID"] == 102)


def test_after_a_preview_every_choice_is_kept(client, person, benefitpoint):
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name="Our Gold PPO")
    product = _medical(benefitpoint)
    dental = _other_product(benefitpoint)
    form = {
        f"choice-plan-{plan.pk}": "link",
        f"pair-plan-{plan.pk}": str(product["productID"]),
        f"truth-details-plan-{plan.pk}": "agencydesk",
        f"truth-benefits-plan-{plan.pk}": "benefits_admin",
        f"truth-rates-plan-{plan.pk}": "agencydesk",
        f"choice-product-{dental}": "dont_sync",
    }
    client.force_login(person)
    html = client.post(reverse("admin:plansync_accountlink_choose", args=[link.pk]), {**form, "preview": "Preview"}).content.decode()
    for name, value in form.items():
        select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
        assert select, name
        chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', select.group(0))
        assert chosen == [value], f"{name}: {chosen} after the preview, {value} chosen"


def test_pair_with_offers_the_same_line_and_overlapping_years_first(client, person, benefitpoint):
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name="Our Gold PPO")  # medical, 2026
    client.force_login(person)
    html = client.get(reverse("admin:plansync_accountlink_choose", args=[link.pk])).content.decode()
    select = re.search(rf'<select[^>]*name="pair-plan-{plan.pk}".*?</select>', html, re.S).group(0)
    offered = [int(v) for v in re.findall(r'<option value="(\d+)"', select)]
    remote = {rp.product_id: rp for rp in RemotePlan.objects.filter(account_id=40002)}
    assert offered and all(remote[p].data["productTypeID"] == 101 for p in offered), "only medical plans for a medical plan"
    medical = [p for p, rp in remote.items() if rp.data["productTypeID"] == 101]
    assert sorted(offered) == sorted(medical)
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert groups[0][0] == "Medical, overlapping plan year"
    first = [int(v) for v in re.findall(r'value="(\d+)"', groups[0][1])]
    assert all(remote[p].data["effectiveAsOf"] < "2027-01-01" and remote[p].data["renewalOn"] > "2026-01-01" for p in first)
    assert product_current(benefitpoint) in first


def product_current(benefitpoint) -> int:
    return _medical(benefitpoint)["productID"]


def test_the_link_to_list_tells_namesakes_apart_by_account_number_and_city(client, person, benefitpoint):
    for number, city in (("EG-7001", "Asheville"), ("EG-7002", "Boone")):
        group = EmployerGroupFactory(name="Blue Ridge Dental Group", account_number=number)
        group.addresses.create(kind="mailing", line1="1 Main St", city=city, state="NC", zip_code="28801")
    EmployerGroupFactory(name="Summit Roofing", account_number="EG-7003")
    client.force_login(person)
    html = client.get(IMPORT, {"q": "Blue Ridge"}).content.decode()
    assert "Link to Blue Ridge Dental Group (EG-7001, Asheville)" in html
    assert "Link to Blue Ridge Dental Group (EG-7002, Boone)" in html
    # the groups named like the account come first, the rest after
    same = re.search(r'<optgroup label="Same name">(.*?)</optgroup>', html, re.S).group(1)
    assert "EG-7001" in same and "EG-7002" in same and "Summit Roofing" not in same


def test_a_refresh_that_fails_says_so_in_words_without_the_address(client, person, settings, benefitpoint):
    client.force_login(person)
    client.get(IMPORT)  # the list, from the sandbox
    settings.BENEFITS_ADMIN_URL = "http://127.0.0.1:9/services"
    settings.BENEFITS_ADMIN_WSDL_URL = "http://127.0.0.1:9/services/BrokerConnectV4?wsdl"
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 1
    html = client.post(IMPORT, {"refresh": "1"}).content.decode()
    assert "The benefits-admin system did not answer, so the list was not refreshed" in html
    assert "127.0.0.1" not in html and "WSDL" not in html and "wsdl" not in html


def test_a_read_only_person_sees_the_choose_page_without_buttons_that_refuse(client, make_user, benefitpoint):
    from accounts.rights import Level

    link = import_account(40002)
    client.force_login(make_user(plans=Level.VISIBLE))
    html = client.get(reverse("admin:plansync_accountlink_choose", args=[link.pk])).content.decode()
    assert 'value="Sync now"' not in html and 'name="save"' not in html and "needs Edit on Employer Groups" in html


def test_the_queued_line_names_the_person(person, benefitpoint):
    link = import_account(40002)
    (run,) = plan_sync_pass(trigger="manual", actor=person, link_ids=[link.pk])
    assert "by Dana Whitfield" in run.history[0] and person.username not in " ".join(run.history)


def test_runs_recorded_before_get_their_benefits_and_rates_line_by_line():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("plansync.migrations.0006_run_changes_line_by_line")
    run = PlanSyncRun.objects.create(link=AccountLink.objects.create(group=EmployerGroupFactory(), account_id=49999, account_name="Old"))
    old = [
        {"field": "Plan name", "old": "A", "new": "B", "direction": "to AgencyDesk"},
        {
            "field": "Benefits",
            "old": "deductible individual: 1500; copays: {'primary_care': 25}; hsa eligible: False",
            "new": "deductible individual: 2000; copays: {'primary_care': 25}; hsa eligible: True",
            "direction": "to AgencyDesk",
        },
        {"field": "Rates", "old": "Employee Only: $500.00; Family: $1400.00", "new": "Employee Only: $520.00; Family: $1400.00", "direction": "x"},
        {"field": "Benefits", "old": "something odd", "new": "—", "direction": "to AgencyDesk"},  # unreadable: kept as it was
    ]
    item = PlanSyncItem.objects.create(run=run, plan_label="Old plan", status="succeeded", changes=old)
    migration.forwards(apps, None)
    item.refresh_from_db()
    assert [(c["field"], c["old"], c["new"]) for c in item.changes] == [
        ("Plan name", "A", "B"),
        ("Benefit: Deductible (individual)", "$1,500.00", "$2,000.00"),
        ("Benefit: HSA eligible", "No", "Yes"),
        ("Monthly rate: Employee Only", "$500.00", "$520.00"),
        ("Benefits", "something odd", "—"),
    ]


def test_a_medical_plan_is_not_linked_with_a_dental_one(client, person, benefitpoint):
    link = import_account(40002)
    plan = SyncedPlanFactory(group=link.group, name="Our Gold PPO")
    client.force_login(person)
    form = {f"choice-plan-{plan.pk}": "link", f"pair-plan-{plan.pk}": str(_other_product(benefitpoint)), "save": "Save choices"}
    html = client.post(reverse("admin:plansync_accountlink_choose", args=[link.pk]), form).content.decode()
    assert "is a medical plan and product" in html and "link plans of the same line of coverage" in html
    assert not PlanChoice.objects.exists()
