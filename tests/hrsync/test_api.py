"""The hrsync API: employees (+ sync, bulk), sync-attempts, benefits-levels, and rights per Benefits Sync level."""

import pytest

from accounts.rights import Level
from hrsync.models import Employee, SyncAttempt

from .factories import BenefitsLevelFactory, EmployeeFactory, EmployerGroupFactory

pytestmark = pytest.mark.django_db


def test_create_with_create_benefits_record_syncs_and_lists_the_attempt(api, sandbox, django_capture_on_commit_callbacks):
    group, level = EmployerGroupFactory(), BenefitsLevelFactory(name="Basic", package_code="BASIC")
    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post(
            "/api/employees/",
            {
                "employer_group": group.pk,
                "first_name": "Ada",
                "last_name": "Api",
                "email": "Ada.Api@Client.example",
                "date_of_birth": "1990-10-10",
                "hire_date": "2024-02-01",
                "benefits_level": level.pk,
                "create_benefits_record": True,
            },
            format="json",
        )
    assert reply.status_code == 201, reply.json()
    employee = Employee.objects.get(pk=reply.json()["id"])
    assert employee.email == "ada.api@client.example"
    assert employee.sync_state == Employee.SyncState.SUCCESSFUL

    detail = api.get(f"/api/employees/{employee.pk}/").json()
    assert detail["sync_state"] == "successful" and detail["benefits_account_id"].startswith("ACC-")
    attempts = api.get("/api/sync-attempts/", {"employee": employee.pk}).json()["results"]
    assert [a["action"] for a in attempts] == ["create"]
    assert attempts[0]["payload"]["date_of_birth"] == "****-**-**"


def test_bad_input_is_400_with_field_errors(api):
    reply = api.post("/api/employees/", {"first_name": "", "email": "not-an-email"}, format="json")
    assert reply.status_code == 400
    assert {"employer_group", "first_name", "email"} <= set(reply.json())


def test_sync_one_and_bulk_by_tab(api, sandbox, django_capture_on_commit_callbacks):
    ok = EmployeeFactory()
    failing = EmployeeFactory.create_batch(3, benefits_level=BenefitsLevelFactory(name="Executive", package_code=""))
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/employees/{ok.pk}/sync/").json() == {"sent": 1, "failed_before_sending": 0, "already_in_progress": 0}
        reply = api.post("/api/employees/sync/", {"ids": [e.pk for e in failing]}, format="json")
    assert reply.status_code == 202
    assert reply.json()["failed_before_sending"] == 3
    assert api.get("/api/employees/tabs/").json() == {"not_syncing": 0, "in_progress": 0, "successful": 1, "failed": 3}

    # the Failed tab, fixed in bulk, then the whole tab re-sent
    level = BenefitsLevelFactory(name="Basic", package_code="BASIC")
    with django_capture_on_commit_callbacks(execute=True):
        reply = api.post("/api/employees/assign-benefits-level/", {"filters": {"sync_state": "failed"}, "benefits_level": level.pk}, format="json")
    assert reply.json() == {"changed": 3}
    assert api.get("/api/employees/", {"sync_state": "successful"}).json()["count"] == 4
    assert len(sandbox.accounts(failing[0].email)) == 1


def test_bulk_selection_needs_ids_or_filters(api):
    assert api.post("/api/employees/sync/", {}, format="json").status_code == 400


@pytest.mark.parametrize("filters", [{"sync_state": "faild"}, {"sync_stat": "failed"}, {"benefits_level": "gold"}])
def test_a_bad_filter_is_400_and_never_widens_a_bulk_action_to_everyone(api, filters):
    employees = EmployeeFactory.create_batch(2)
    level = BenefitsLevelFactory(name="Basic", package_code="BASIC")
    sync = api.post("/api/employees/sync/", {"filters": filters}, format="json")
    assign = api.post("/api/employees/assign-benefits-level/", {"filters": filters, "benefits_level": level.pk}, format="json")
    assert sync.status_code == assign.status_code == 400
    assert set(sync.json()["filters"]) == set(filters)
    assert not SyncAttempt.objects.exists()
    assert not Employee.objects.filter(pk__in=[e.pk for e in employees], benefits_level=level).exists()


def test_ids_out_of_range_are_400(api):
    reply = api.post("/api/employees/sync/", {"ids": [10**30]}, format="json")
    assert reply.status_code == 400 and "ids" in reply.json()


def test_deleting_a_benefits_level_in_use_is_400_and_deletes_nothing(api):
    employee = EmployeeFactory()
    reply = api.delete(f"/api/benefits-levels/{employee.benefits_level_id}/")
    assert reply.status_code == 400 and "employees" in reply.json()["detail"]
    employee.refresh_from_db()
    assert employee.benefits_level is not None


def test_sync_history_list_is_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    from hrsync.services import employee_sync_request

    employee_sync_request(
        actor=None, employees=[e.pk for e in EmployeeFactory.create_batch(12, benefits_level=BenefitsLevelFactory(name="Executive", package_code=""))]
    )  # fail before sending: no HTTP
    with django_assert_max_num_queries(3):
        reply = api.get("/api/sync-attempts/")
    assert reply.json()["count"] == 12


def test_list_is_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    EmployeeFactory.create_batch(15)
    with django_assert_max_num_queries(6):
        assert api.get("/api/employees/").json()["count"] == 15


def test_benefits_levels_crud(api):
    reply = api.post("/api/benefits-levels/", {"name": "Gold", "package_code": "PREMIUM"}, format="json")
    assert reply.status_code == 201
    assert api.get("/api/benefits-levels/").json()["count"] == 1


@pytest.mark.parametrize(("level", "read", "sync"), [(Level.NONE, 403, 403), (Level.VISIBLE, 200, 403), (Level.EDIT, 200, 202)])
def test_rights_follow_the_benefits_sync_level(make_user, sandbox, level, read, sync, django_capture_on_commit_callbacks, api_as):
    employee = EmployeeFactory()
    client = api_as(make_user(benefits_sync=level))
    assert client.get("/api/employees/").status_code == read
    assert client.get("/api/sync-attempts/").status_code == read
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/employees/{employee.pk}/sync/").status_code == sync
        assert client.post("/api/employees/sync/", {"ids": [employee.pk]}, format="json").status_code == sync
    assert client.patch(f"/api/employees/{employee.pk}/", {"last_name": "X"}, format="json").status_code == (200 if level >= Level.EDIT else 403)
    assert SyncAttempt.objects.exists() == (level >= Level.EDIT)
