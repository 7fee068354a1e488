"""The admin: the button on the advanced search, the confirmation page, the job page, convert, activities."""

import json

import pytest
from django.urls import reverse

from accounts.rights import Flag, Level
from salesrecords.models import Activity, MassCreationJob, SalesRecord, SalesRecordType
from tests.individuals.factories import IndividualFactory

from .factories import ActivityFactory, SalesRecordFactory, SalesRecordTypeFactory, SalesRecordTypeRightFactory

pytestmark = pytest.mark.django_db
SEARCH = reverse("admin:individuals_individual_changelist")
NEW = reverse("admin:salesrecords_masscreationjob_new")


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_the_button_carries_the_search_and_the_confirmation_states_the_counts(login, agency_admin):
    people = IndividualFactory.create_batch(5, state="FL")
    IndividualFactory.create_batch(2, state="TX")
    SalesRecordFactory(individual=people[0])
    client = login(agency_admin)

    html = client.get(SEARCH + "?state=FL").content.decode()
    assert 'id="create-sales-records"' in html and f"{NEW}?state=FL" in html

    html = client.get(NEW + "?state=FL").content.decode()
    assert '<strong id="found-count">5</strong>' in html
    assert '<strong id="existing-count">1</strong>' in html and "will be skipped" in html
    assert "cannot be stopped or undone" in html
    assert all(t.name in html for t in SalesRecordType.objects.all())


def test_confirming_starts_the_job_and_its_page_shows_progress_and_criteria(login, agency_admin, django_capture_on_commit_callbacks):
    IndividualFactory.create_batch(3, state="FL")
    renewal = SalesRecordTypeFactory(name="Renewal")
    client = login(agency_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, {"criteria": json.dumps({"state": ["FL"]}), "record_type": renewal.pk})

    job = MassCreationJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:salesrecords_masscreationjob_change", args=[job.pk])
    html = client.get(response["Location"]).content.decode()
    assert ">Succeeded<" in html and 'id="job-created">3<' in html and "State: Florida" in html
    assert f'href="{reverse("admin:individuals_savedsearch_save")}?state=FL" id="save-search"' in html
    progress = client.get(reverse("admin:salesrecords_masscreationjob_progress", args=[job.pk])).json()
    assert progress | {"id": 0} == {
        "id": 0,
        "status": "succeeded",
        "queue": "successful",
        "status_display": "Succeeded",
        "finished": True,
        "matched": 3,
        "processed": 3,
        "created": 3,
        "skipped": 0,
        "reason": "",
        "percent": 100,
    }


def test_a_failed_job_shows_its_reason(login, agency_admin):
    job = MassCreationJob.objects.create(
        record_type=SalesRecordTypeFactory(),
        criteria={"state": "ZZ"},
        status=MassCreationJob.Status.FAILED,
        reason="Invalid search criteria: state: ZZ",
    )
    html = login(agency_admin).get(reverse("admin:salesrecords_masscreationjob_change", args=[job.pk])).content.decode()
    assert "Invalid search criteria: state: ZZ" in html


@pytest.mark.parametrize(
    "levels, type_right, allowed",
    [
        ({"individuals": Level.EDIT, "sales": Level.EDIT}, None, True),
        ({"individuals": Level.VISIBLE, "sales": Level.EDIT}, None, False),
        ({"individuals": Level.EDIT, "sales": Level.NONE}, None, False),
        ({"individuals": Level.EDIT, "sales": Level.VISIBLE}, None, False),
        ({"individuals": Level.EDIT, "sales": Level.VISIBLE}, True, True),
        ({"individuals": Level.EDIT, "sales": Level.EDIT}, False, "others"),  # no add on Renewal, but on the other types
    ],
)
def test_rights_decide_the_button_and_the_page(login, make_user, levels, type_right, allowed):
    user = make_user(**levels)
    renewal = SalesRecordTypeFactory(name="Renewal")
    if type_right is not None:
        SalesRecordTypeRightFactory(user=user, record_type=renewal, can_add=type_right)
    client = login(user)
    html = client.get(SEARCH).content.decode() if levels["individuals"] else ""
    page = client.get(NEW)
    if allowed:
        assert 'id="create-sales-records"' in html and page.status_code == 200
        assert ("Renewal" in page.content.decode()) == (allowed is True)
    else:
        assert 'id="create-sales-records"' not in html and page.status_code == 403
        assert client.post(NEW, {"criteria": "{}", "record_type": renewal.pk}).status_code == 403
    assert not MassCreationJob.objects.exists()


def test_convert_from_the_record_page_says_it_cannot_be_undone(login, agency_admin):
    record = SalesRecordFactory(individual=IndividualFactory(), first_name="Zed")
    client = login(agency_admin)
    url = reverse("admin:salesrecords_salesrecord_convert", args=[record.pk])
    assert url in client.get(reverse("admin:salesrecords_salesrecord_change", args=[record.pk])).content.decode()
    assert "cannot be undone" in client.get(url).content.decode()
    response = client.post(url, {"confirm": "yes"})
    assert response["Location"] == reverse("admin:individuals_individual_change", args=[record.individual_id])
    assert not SalesRecord.objects.exists()
    again = client.post(url, {"confirm": "yes"}, follow=True)  # converting twice: a message, not an error page
    assert again.status_code == 200 and "doesn’t exist" in again.content.decode()


def test_convert_action_on_several_records(login, agency_admin):
    records = SalesRecordFactory.create_batch(3)
    client = login(agency_admin)
    data = {"action": "convert", "_selected_action": [r.pk for r in records]}
    page = client.post(reverse("admin:salesrecords_salesrecord_changelist"), data)
    assert "3 sales records" in page.content.decode() and "cannot be undone" in page.content.decode()
    client.post(reverse("admin:salesrecords_salesrecord_changelist"), {**data, "confirm": "yes"})
    assert not SalesRecord.objects.exists()


def test_records_of_a_type_the_user_may_not_view_are_hidden(login, make_user):
    user = make_user(sales=Level.EDIT)
    lead, renewal = SalesRecordTypeFactory(name="Lead"), SalesRecordTypeFactory(name="Renewal")
    SalesRecordTypeRightFactory(user=user, record_type=lead, can_view=False)
    SalesRecordFactory(record_type=lead, last_name="Hidden")
    SalesRecordFactory(record_type=renewal, last_name="Shown")
    html = login(user).get(reverse("admin:salesrecords_salesrecord_changelist")).content.decode()
    assert "Shown" in html and "Hidden" not in html


def test_each_user_sees_their_own_activities_first(login, make_user):
    me = make_user(sales=Level.EDIT)
    ActivityFactory(subject="Mine", assigned_to=me)
    ActivityFactory(subject="Theirs", assigned_to=make_user(sales=Level.EDIT))
    client = login(me)
    html = client.get(reverse("admin:salesrecords_activity_changelist")).content.decode()
    assert "Mine" in html and "Theirs" not in html
    html = client.get(reverse("admin:salesrecords_activity_changelist") + "?assigned=all").content.decode()
    assert "Mine" in html and "Theirs" in html


def test_workflows_need_the_manage_workflows_flag(login, make_user):
    url = reverse("admin:salesrecords_salesworkflow_add")
    assert login(make_user(sales=Level.DELETE)).get(url).status_code == 403
    assert login(make_user(sales=Level.VISIBLE, flags={Flag.MANAGE_WORKFLOWS})).get(url).status_code == 200
    assert Activity.objects.count() == 0


def _rows(n, user):
    from .factories import MassCreationJobFactory, SalesWorkflowFactory

    renewal = SalesRecordTypeFactory(name="Renewal")
    for _ in range(n):
        record = SalesRecordFactory(record_type=renewal, individual=IndividualFactory(), assigned_user=user)
        MassCreationJobFactory(record_type=renewal, created_by=user)
        workflow = SalesWorkflowFactory()
        workflow.record_types.add(renewal)
        ActivityFactory(sales_record=record, assigned_to=user, workflow=workflow)


@pytest.mark.parametrize("model", ["salesrecord", "masscreationjob", "activity", "salesworkflow"])
def test_changelists_cost_the_same_queries_for_more_rows(login, agency_admin, model, django_assert_max_num_queries):
    client = login(agency_admin)
    url = reverse(f"admin:salesrecords_{model}_changelist")
    _rows(2, agency_admin)
    client.get(url)  # warm per-process caches (content types, site)
    with django_assert_max_num_queries(15) as few:
        assert client.get(url).status_code == 200
    _rows(6, agency_admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_confirmation_page_with_unreadable_criteria_shows_an_error_and_starts_nothing(login, agency_admin):
    client = login(agency_admin)
    renewal = SalesRecordTypeFactory(name="Renewal")
    for criteria in ("[1]", '"text"', "not json", '{"last_name": {"a": 1}}', '{"ssn": "123-45-6789", "unknown": "x"}'):
        page = client.post(NEW, {"criteria": criteria, "record_type": renewal.pk})
        assert page.status_code == 200 and page.context["errors"]
        assert "123-45-6789" not in page.content.decode()
    assert not MassCreationJob.objects.exists()


def test_record_form_refuses_custom_fields_of_the_wrong_type_or_one_that_stays_on_the_individual(login, agency_admin):
    from tests.individuals.factories import CustomFieldFactory

    CustomFieldFactory(key="income", field_type="number")
    CustomFieldFactory(key="renewal_month", field_type="date")
    client = login(agency_admin)
    renewal = SalesRecordTypeFactory(name="Renewal")
    form = {"first_name": "A", "last_name": "B", "record_type": renewal.pk, "stage": "new", "record_status": "active"}
    for values, message in (('{"income": 5}', "stays on the individual"), ('{"renewal_month": "May"}', "YYYY-MM-DD")):
        page = client.post(reverse("admin:salesrecords_salesrecord_add"), {**form, "custom_fields": values})
        assert page.status_code == 200 and message in str(page.context["adminform"].form.errors["custom_fields"])
    assert not SalesRecord.objects.exists()
