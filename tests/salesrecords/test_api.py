"""The API: types, records (+ convert), jobs (202 + progress), activities, workflows."""

import pytest

from accounts.rights import Level
from salesrecords.models import Activity, MassCreationJob, SalesRecord, SalesWorkflow
from tests.individuals.factories import IndividualFactory

from .factories import SalesRecordFactory, SalesRecordTypeFactory, SalesRecordTypeRightFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewal():
    return SalesRecordTypeFactory(name="Renewal")


def test_post_criteria_returns_202_and_the_job_reports_progress(api, renewal, django_capture_on_commit_callbacks):
    IndividualFactory.create_batch(4, state="FL")
    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post("/api/sales-record-jobs/", {"criteria": {"state": ["FL"]}, "record_type": renewal.pk}, format="json")
    assert reply.status_code == 202 and reply.json()["status"] == "queued"
    job = api.get(f"/api/sales-record-jobs/{reply.json()['id']}/").json()
    assert (job["status"], job["matched"], job["created"], job["skipped"]) == ("succeeded", 4, 4, 0)
    assert job["criteria"] == {"state": ["FL"]}


def test_post_a_saved_search(api, agency_admin, renewal, django_capture_on_commit_callbacks):
    from individuals.models import SavedSearch

    IndividualFactory.create_batch(2, state="GA")
    saved = SavedSearch.objects.create(name="Georgia", owner=agency_admin, criteria={"state": ["GA"]})
    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post("/api/sales-record-jobs/", {"saved_search": saved.pk, "record_type": renewal.pk}, format="json")
    assert reply.status_code == 202
    assert MassCreationJob.objects.get().created == 2


@pytest.mark.parametrize(
    "body, field",
    [
        ({"criteria": {"state": ["ZZ"]}}, "state"),
        ({"criteria": {"bogus": "1"}}, "bogus"),
        ({"criteria": {"has_policy": "perhaps"}}, "has_policy"),
        ({}, "criteria"),
        ({"saved_search": 999999}, "saved_search"),
    ],
)
def test_bad_input_is_400_with_field_errors_and_no_job(api, renewal, body, field):
    reply = api.post("/api/sales-record-jobs/", {**body, "record_type": renewal.pk}, format="json")
    assert reply.status_code == 400 and field in reply.json()
    assert not MassCreationJob.objects.exists()


def test_jobs_need_the_three_rights(make_user, renewal, api_as):
    user = make_user(individuals=Level.VISIBLE, sales=Level.EDIT)
    reply = api_as(user).post("/api/sales-record-jobs/", {"criteria": {}, "record_type": renewal.pk}, format="json")
    assert reply.status_code == 403 and not MassCreationJob.objects.exists()
    assert api_as(make_user(individuals=Level.EDIT)).get("/api/sales-record-jobs/").status_code == 403


def test_records_list_masks_personal_data_and_respects_type_rights(make_user, renewal, django_assert_max_num_queries, api_as):
    user = make_user(sales=Level.EDIT)
    lead = SalesRecordTypeFactory(name="Lead")
    SalesRecordTypeRightFactory(user=user, record_type=lead, can_view=False)
    for _ in range(5):
        SalesRecordFactory(record_type=renewal, ssn_encrypted="gAAAA-token", ssn_last4="6789")
    SalesRecordFactory(record_type=lead)
    client = api_as(user)
    with django_assert_max_num_queries(8):
        rows = client.get("/api/sales-records/").json()["results"]
    assert len(rows) == 5 and {r["ssn"] for r in rows} == {"***-**-6789"}
    assert "ssn_encrypted" not in rows[0]


def test_create_update_delete_follow_the_type_rights(make_user, renewal, api_as):
    user = make_user(sales=Level.VISIBLE)
    SalesRecordTypeRightFactory(user=user, record_type=renewal, can_add=True, can_change=False)
    client = api_as(user)
    reply = client.post("/api/sales-records/", {"record_type": renewal.pk, "first_name": "A", "last_name": "B"}, format="json")
    assert reply.status_code == 201
    pk = reply.json()["id"]
    assert client.patch(f"/api/sales-records/{pk}/", {"stage": "won"}, format="json").status_code == 403
    assert client.delete(f"/api/sales-records/{pk}/").status_code == 403
    lead = SalesRecordTypeFactory(name="Lead")  # no row: the Visible group may not add
    assert client.post("/api/sales-records/", {"record_type": lead.pk, "first_name": "A", "last_name": "B"}, format="json").status_code == 403
    assert SalesRecord.objects.count() == 1


def test_convert_one_and_a_batch(api):
    person = IndividualFactory(first_name="Old")
    one = SalesRecordFactory(individual=person, first_name="New")
    reply = api.post(f"/api/sales-records/{one.pk}/convert/")
    assert reply.status_code == 200 and reply.json() == {"individual": person.pk}
    person.refresh_from_db()
    assert person.first_name == "New"

    batch = SalesRecordFactory.create_batch(2)
    assert api.post("/api/sales-records/convert/", {"ids": [batch[0].pk, 999999]}, format="json").status_code == 400
    reply = api.post("/api/sales-records/convert/", {"ids": [r.pk for r in batch]}, format="json")
    assert reply.status_code == 200 and len(reply.json()["individuals"]) == 2
    assert not SalesRecord.objects.exists()


def test_types_are_at_most_ten(api):
    for i in range(6):
        assert api.post("/api/sales-record-types/", {"name": f"Type {i}", "sort_order": 50 + i}, format="json").status_code == 201
    reply = api.post("/api/sales-record-types/", {"name": "Eleventh"}, format="json")
    assert reply.status_code == 400 and "at most 10" in str(reply.json())


def test_workflows_and_my_activities(api, agency_admin, renewal):
    reply = api.post(
        "/api/sales-workflows/",
        {"name": "Call", "record_types": [renewal.pk], "create_activity": True, "activity_subject": "Call", "activity_due_days": 2},
        format="json",
    )
    assert reply.status_code == 201, reply.json()
    assert SalesWorkflow.objects.get().record_types.get() == renewal
    assert api.post("/api/sales-workflows/", {"name": "Nothing"}, format="json").status_code == 400
    api.post("/api/sales-records/", {"record_type": renewal.pk, "first_name": "A", "last_name": "B", "assigned_user": agency_admin.pk}, format="json")
    mine = api.get("/api/sales-activities/?mine=true").json()["results"]
    assert [a["subject"] for a in mine] == ["Call"] and Activity.objects.count() == 1


@pytest.mark.parametrize("url", ["/api/sales-records/", "/api/sales-record-jobs/", "/api/sales-activities/", "/api/sales-workflows/"])
def test_lists_cost_the_same_queries_for_more_rows(api, agency_admin, renewal, url, django_assert_max_num_queries):
    from .factories import ActivityFactory, MassCreationJobFactory, SalesWorkflowFactory

    def rows(n):
        for _ in range(n):
            record = SalesRecordFactory(record_type=renewal, individual=IndividualFactory(), assigned_user=agency_admin)
            MassCreationJobFactory(record_type=renewal, created_by=agency_admin)
            workflow = SalesWorkflowFactory()
            workflow.record_types.add(renewal)
            ActivityFactory(sales_record=record, assigned_to=agency_admin, workflow=workflow)

    rows(2)
    api.get(url)
    with django_assert_max_num_queries(6) as few:
        assert api.get(url).status_code == 200
    rows(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(url).json()["results"]) >= 8


def test_record_custom_fields_are_validated_by_type_and_carried_types_only(api, renewal):
    from tests.individuals.factories import CustomFieldFactory

    CustomFieldFactory(key="income", field_type="number")
    CustomFieldFactory(key="plan_pick", field_type="dropdown", options=["Gold", "Silver"])
    body = {"record_type": renewal.pk, "first_name": "A", "last_name": "B"}
    for values in ({"income": 5}, {"plan_pick": "Bronze"}, {"unknown": "x"}):
        reply = api.post("/api/sales-records/", {**body, "custom_fields": values}, format="json")
        assert reply.status_code == 400 and "custom_fields" in reply.json()
    assert not SalesRecord.objects.exists()
    reply = api.post("/api/sales-records/", {**body, "custom_fields": {"plan_pick": "Gold"}}, format="json")
    assert reply.status_code == 201 and reply.json()["custom_fields"] == {"plan_pick": "Gold"}


def test_job_criteria_that_are_not_values_are_a_400(api, renewal):
    for criteria in ({"last_name": {"a": 1}}, {"state": [["FL"]]}):
        reply = api.post("/api/sales-record-jobs/", {"criteria": criteria, "record_type": renewal.pk}, format="json")
        assert reply.status_code == 400
    reply = api.post(
        "/api/sales-record-jobs/", {"criteria": {"has_policy": False, "date_of_birth_after": None}, "record_type": renewal.pk}, format="json"
    )
    assert reply.status_code == 202
    assert MassCreationJob.objects.count() == 1


def test_a_carried_value_of_a_deleted_custom_field_does_not_block_other_edits(api, renewal):
    record = SalesRecordFactory(record_type=renewal, custom_fields={"gone": "kept as it was"})
    reply = api.patch(f"/api/sales-records/{record.pk}/", {"stage": "contacted"}, format="json")
    assert reply.status_code == 200 and reply.json()["custom_fields"] == {"gone": "kept as it was"}
