"""What staff read all day, in the product's words: one date and one money format, labelled read-only
values, an audit log that says who changed what, breadcrumbs, filters and refusals that explain themselves."""

import datetime
import html
import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from accounts.models import AuditLog
from accounts.rights import Area, Flag, Level
from core import display
from core.jobs import Status
from individuals import services
from individuals.models import CustomField
from salesrecords.models import MassCreationJob
from tests.hrsync.factories import EmployeeFactory
from tests.individuals.factories import CustomFieldFactory, IndividualFactory, PolicyFactory
from tests.plans.factories import EmployerGroupFactory, PlanFactory
from tests.salesrecords.factories import MassCreationJobFactory, SalesRecordFactory


def _text(response) -> str:
    return " ".join(html.unescape(strip_tags(response.content.decode().replace("<", " <"))).split())


@pytest.fixture
def viewer(make_user):
    """Visible everywhere: every record page is read only."""
    return make_user(**{a.value: Level.VISIBLE for a in Area})


def test_one_date_one_datetime_and_one_money_format():
    moment = datetime.datetime(2026, 12, 2, 15, 4, tzinfo=datetime.UTC)
    assert display.date_text(datetime.date(2026, 12, 2)) == "Dec 2, 2026" == display.date_text("2026-12-02")
    assert display.datetime_text(moment) == "Dec 2, 2026 3:04 PM"
    assert display.text(moment) == "Dec 2, 2026 3:04 PM" and display.text(datetime.date(2026, 5, 1)) == "May 1, 2026"
    assert display.money(Decimal("1234.5")) == "$1,234.50" and display.money(-5) == "-$5.00" and display.money(None) == "—"
    assert display.money(1500, cents=False) == "$1,500" and display.money("25.50", cents=False) == "$25.50"


def test_premiums_are_money_and_dates_one_format_in_lists_and_read_only_pages(client, viewer):
    policy = PolicyFactory(premium=Decimal("177.53"), effective_date=datetime.date(2025, 3, 9))
    client.force_login(viewer)
    listed = _text(client.get(reverse("admin:individuals_policy_changelist")))
    assert "$177.53" in listed and "Mar 9, 2025" in listed
    page = _text(client.get(reverse("admin:individuals_policy_change", args=[policy.pk])))
    assert "Premium: $177.53" in page and "Mar 9, 2025" in page and " 177.53" not in page.replace("$177.53", "")


def test_a_read_only_plan_shows_only_the_benefits_that_are_set_labelled(client, viewer):
    plan = PlanFactory()
    client.force_login(viewer)
    page = _text(client.get(reverse("admin:plans_plan_change", args=[plan.pk])))
    assert "Deductible (individual) $1,500" in page and re.search(r"Employee \$[\d,]+\.\d\d", page)  # a benefit, a tier rate
    assert "B medical" not in page and "None" not in page.split()
    assert "Employer contribution (employee):" in page


def test_a_read_only_sales_record_shows_custom_fields_as_labelled_lines(client, viewer):
    CustomFieldFactory(key="client_tier", name="Client tier", field_type=CustomField.FieldType.TEXT)
    record = SalesRecordFactory(custom_fields={"client_tier": "Bronze"})
    client.force_login(viewer)
    html = client.get(reverse("admin:salesrecords_salesrecord_change", args=[record.pk])).content.decode()
    assert "Client tier: Bronze" in html and "client_tier" not in html


def test_the_audit_log_says_who_when_and_only_the_custom_field_that_changed(client, agency_admin):
    agency_admin.first_name, agency_admin.last_name = "Ada", "Admin"
    agency_admin.save()
    CustomFieldFactory(key="income", name="Income", field_type=CustomField.FieldType.CURRENCY)
    CustomFieldFactory(key="contact_by", name="Contact by", field_type=CustomField.FieldType.CHECKBOX_LIST, options=["Phone", "Email"])
    person = IndividualFactory(custom_fields={"income": 35000.0, "contact_by": ["Phone"]})
    # when
    services.individual_update(actor=agency_admin, individual=person, data={"custom_fields": {"income": 40000}})
    # then
    entry = AuditLog.objects.filter(object_id=str(person.pk), action=AuditLog.Action.UPDATE).latest("id")
    assert entry.data["changes"] == {"custom_fields.income": {"label": "Income", "old": "$35,000.00", "new": "$40,000.00"}}
    client.force_login(agency_admin)
    listed = client.get(reverse("admin:accounts_auditlog_changelist")).content.decode()
    assert all(f">{heading}<" in listed for heading in ("Who", "When", "What changed"))
    assert "Actor repr" not in listed and "Income: $35,000.00 → $40,000.00" in strip_tags(listed) and "Contact by" not in strip_tags(listed)
    page = _text(client.get(reverse("admin:accounts_auditlog_change", args=[entry.pk])))
    assert "Who: Ada Admin" in page and "When:" in page and "Actor repr" not in page


def test_breadcrumbs_name_the_work_area_not_the_model_twice(client, agency_admin):
    person = IndividualFactory()
    client.force_login(agency_admin)
    page = client.get(reverse("admin:individuals_individual_change", args=[person.pk]) + "?edit=1").content.decode()
    crumbs = " ".join(unescape(strip_tags(page.split('class="breadcrumbs"', 1)[1].split("</div>", 1)[0])).split())
    assert "Clients › Individuals" in crumbs and "Individuals › Individuals" not in crumbs


def test_the_servicing_agent_criterion_says_what_each_choice_finds(client, agency_admin):
    client.force_login(agency_admin)
    page = client.get(reverse("admin:individuals_individual_changelist")).content.decode()
    select = page.split('name="no_servicing_agent"', 1)[1].split("</select>", 1)[0]
    assert ">Any<" in select and ">None assigned (no servicing agent)<" in select and ">Has a servicing agent<" in select
    assert "Unknown" not in select


@pytest.mark.parametrize(
    ("status", "says_leave"), [(Status.RUNNING, True), (Status.SUCCEEDED, False), (Status.FAILED, False)], ids=["running", "done", "failed"]
)
def test_the_job_page_says_you_can_leave_only_while_the_job_runs(client, agency_admin, status, says_leave):
    job = MassCreationJobFactory(created_by=agency_admin, criteria={"state": ["FL"]}, status=status, started_at=timezone.now())
    if status != Status.RUNNING:
        MassCreationJob.objects.filter(pk=job.pk).update(finished_at=timezone.now())
    client.force_login(agency_admin)
    page = _text(client.get(reverse("admin:salesrecords_masscreationjob_change", args=[job.pk])))
    assert ("You can leave this page" in page) is says_leave
    assert ("The job is finished" in page) is not says_leave


def test_a_benefits_admin_refused_create_sales_records_is_told_the_right_and_who_grants_it(client, make_user):
    boss = make_user(flags={Flag.MANAGE_USERS})
    boss.first_name, boss.last_name = "Grace", "Granter"
    boss.save()
    benefits_admin = make_user(benefits_sync=Level.DELETE, plans=Level.EDIT, individuals=Level.VISIBLE, sales=Level.VISIBLE)
    client.force_login(benefits_admin)
    response = client.get(reverse("admin:salesrecords_masscreationjob_new") + "?state=FL")
    text = _text(response)
    assert response.status_code == 403
    assert "Create Sales Records needs Edit on Individuals" in text and "Grace Granter can change your security group" in text


def test_the_employer_group_filter_is_a_search_not_hundreds_of_links(client, agency_admin):
    for n in range(12):
        EmployerGroupFactory(name=f"Harbor Freight {n:02d}")
    blue = EmployerGroupFactory(name="Blue Ridge Dental Group")
    EmployeeFactory(employer_group=blue)
    client.force_login(agency_admin)
    url = reverse("admin:hrsync_employee_changelist")
    page = client.get(url).content.decode()
    assert 'name="employer_group__find"' in page and "… and 5 more: type to narrow." in strip_tags(page)
    found = client.get(url, {"employer_group__find": "ridge"}).content.decode()
    filter_html = found.split('id="changelist-filter"', 1)[1]
    assert "Blue Ridge Dental Group" in filter_html and "Harbor Freight" not in filter_html
    chosen = client.get(url, {"employer_group": blue.pk}).content.decode()
    assert "Blue Ridge Dental Group" in chosen.split('id="changelist-filter"', 1)[1]
