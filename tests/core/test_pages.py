"""Every admin changelist and change page renders for an agency admin without a Python/JSON literal."""

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils.html import strip_tags

from accounts.services import record_save
from hrsync.models import SyncAttempt
from individuals.models import CustomField, ExportJob, SavedSearch
from tests.accounts.factories import AgentFactory
from tests.conftest import raw_literals
from tests.hrsync.factories import EmployeeFactory
from tests.individuals.factories import CustomFieldFactory, IndividualFactory, PolicyFactory
from tests.plans.factories import PlanFactory
from tests.salesrecords.factories import ActivityFactory, MassCreationJobFactory, SalesRecordFactory, SalesWorkflowFactory

MODELS = sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry)


def test_the_detector_finds_reprs_in_cells_and_leaves_inputs_and_text_alone():
    assert raw_literals('<div id="content"><table><td>[\'Phone\']</td><td>None</td><td>{"a": 1}</td></table></div>') == [
        "td: ['Phone'] (a Python list)",
        "td: None",
        'td: {"a": 1} (a JSON object)',
    ]
    assert (
        raw_literals(
            '<div id="content"><td>Phone, Email</td><textarea>{"a": 1}</textarea>'
            '<div class="help">e.g. {"state": ["FL"]}</div><p>None of these</p></div>'
        )
        == []
    )
    assert raw_literals('<div id="header">True</div><div id="content"><p>ok</p></div>') == []


@pytest.fixture
def sample_records(agency_admin):
    """One of each kind of record, with the values that used to show raw: lists, numbers, dicts, changes."""
    CustomFieldFactory(key="contact_by", name="Contact by", field_type=CustomField.FieldType.CHECKBOX_LIST, options=["Phone", "Email"])
    CustomFieldFactory(key="income", name="Income", field_type=CustomField.FieldType.CURRENCY)
    individual = IndividualFactory(custom_fields={"contact_by": ["Phone"], "income": 35000.0})
    PolicyFactory(individual=individual)
    record = SalesRecordFactory(individual=individual, custom_fields={"contact_by": ["Phone"]})
    ActivityFactory(sales_record=record, assigned_to=agency_admin, due_date=datetime.date.today())
    MassCreationJobFactory(criteria={"state": ["FL"], "record_status": ["prospect"]}, created_by=agency_admin)
    SalesWorkflowFactory(criteria={"state": ["FL"]})
    PlanFactory()
    employee = EmployeeFactory(annual_pay=Decimal("52000.00"))
    SyncAttempt.objects.create(
        employee=employee,
        version=1,
        status=SyncAttempt.Status.FAILED,
        action="create",
        payload={"firstName": "Ada", "ssn": "***-**-1234", "coverage": {"package": "STANDARD"}},
        reason="Not sent: missing date of birth.",
        response_code=None,
    )
    SavedSearch.objects.create(name="Florida", owner=agency_admin, criteria={"state": ["FL"]})
    ExportJob.objects.create(owner=agency_admin, criteria={"state": ["FL"]}, reveal=["ssn"], status=ExportJob.Status.SUCCEEDED)
    agent = AgentFactory(first_name="Tom")
    agent.first_name = "Thomas"
    record_save(actor=agency_admin, instance=agent, changed=["first_name"])


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_change_page_read_as_text(client, agency_admin, sample_records, assert_no_raw_literals, model):
    app_label, model_name = model.split(".")
    agency_admin.is_superuser = True  # the plumbing too (periodic tasks, tokens, lockouts)
    agency_admin.save()
    client.force_login(agency_admin)
    model_admin = next(ma for m, ma in admin.site._registry.items() if m._meta.label_lower == model)
    response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 200, model
    assert_no_raw_literals(response, f"the {model} list")
    obj = model_admin.model._default_manager.order_by("pk").last()
    if obj is None:
        return
    response = client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[obj.pk]))
    assert response.status_code == 200, model
    assert_no_raw_literals(response, f"a {model} page")


def test_audit_entries_say_field_old_and_new(client, agency_admin, sample_records):
    client.force_login(agency_admin)
    html = client.get(reverse("admin:accounts_auditlog_changelist")).content.decode()
    assert "First name: Tom → Thomas" in strip_tags(html)


def test_custom_field_values_are_formatted_by_type(client, make_user):
    from accounts.rights import Level

    viewer = make_user(individuals=Level.VISIBLE)
    CustomFieldFactory(key="contact_by", name="Contact by", field_type=CustomField.FieldType.CHECKBOX_LIST, options=["Phone", "Email"])
    CustomFieldFactory(key="income", name="Income", field_type=CustomField.FieldType.CURRENCY)
    individual = IndividualFactory(custom_fields={"contact_by": ["Phone", "Email"], "income": 35000.0})
    client.force_login(viewer)
    html = client.get(reverse("admin:individuals_individual_change", args=[individual.pk])).content.decode()
    assert "Contact by: Phone, Email" in html and "Income: $35,000.00" in html


def test_a_403_is_in_the_product_frame_names_the_missing_right_and_logs_no_traceback(client, make_user, caplog):
    from accounts.rights import Level

    user = make_user(sales=Level.VISIBLE)  # no Individuals right
    client.force_login(user)
    response = client.get(reverse("admin:individuals_individual_changelist"))
    html = response.content.decode()
    assert response.status_code == 403
    assert 'id="error-403"' in html and 'class="ad-nav"' in html and 'href="/admin/"' in html
    logged = [record for record in caplog.records if getattr(record, "status_code", None) == 403]
    assert logged and all(record.exc_info is None for record in logged)


def test_the_403_page_shows_the_reason_passed_with_the_exception(rf, make_user):
    from django.core.exceptions import PermissionDenied

    from core.views import permission_denied

    request = rf.get("/admin/x/")
    request.user = make_user()
    response = permission_denied(request, PermissionDenied("You need Edit on Individuals."))
    response.render()
    assert response.status_code == 403 and "You need Edit on Individuals." in response.content.decode()


def test_a_404_says_what_was_not_found_with_a_way_home(client, agency_admin):
    client.force_login(agency_admin)
    response = client.get("/admin/no-such-page/")
    assert response.status_code in (302, 404)  # the admin's catch-all may send to its own 404
    response = client.get("/nowhere/")
    assert response.status_code == 404 and "/nowhere/" in response.content.decode() and 'href="/admin/"' in response.content.decode()


def test_api_me_shows_levels_as_names(api_client, make_user):
    from accounts.rights import Level

    user = make_user(individuals=Level.EDIT)
    api_client.force_authenticate(user)
    body = api_client.get("/api/me/").json()
    assert body["security_group"]["individuals"] == "Edit" and body["security_group"]["sales"] == "None"
    assert body["rights"]["areas"]["individuals"] == "Edit"


def test_a_sales_records_custom_fields_read_as_text_above_their_input(client, agency_admin):
    CustomFieldFactory(key="contact_by", name="Contact by", field_type=CustomField.FieldType.CHECKBOX_LIST, options=["Phone", "Email"])
    record = SalesRecordFactory(custom_fields={"contact_by": ["Phone", "Email"]})
    client.force_login(agency_admin)
    html = client.get(reverse("admin:salesrecords_salesrecord_change", args=[record.pk])).content.decode()
    assert "Contact by: Phone, Email" in html
