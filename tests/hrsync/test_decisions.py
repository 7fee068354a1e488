"""*Awaiting a person*: employees whose data must be fixed before the benefits platform can have them."""

import pytest
from django.urls import reverse

from accounts.rights import Level
from hrsync.models import Employee
from hrsync.services import employee_sync_request, employee_update
from integrations.decisions import decisions_for

from .factories import BenefitsLevelFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
KIND = "Benefits sync: data to fix"


def data_to_fix(user):
    return [d for d in decisions_for(user) if d.kind == KIND]


def test_employees_failed_before_sending_await_a_person_who_sees_benefits_management(
    sandbox, make_user, agency_admin, django_capture_on_commit_callbacks
):
    no_dob = EmployeeFactory(first_name="Lucas", last_name="Novak", date_of_birth=None)
    unmapped = EmployeeFactory(first_name="Noah", last_name="Silva", benefits_level=BenefitsLevelFactory(name="Executive", package_code=""))
    refused = EmployeeFactory()  # sent, and refused by the platform: its Failed tab, not data to fix here
    with django_capture_on_commit_callbacks(execute=True):
        employee_sync_request(actor=agency_admin, employees=[no_dob.pk, unmapped.pk])
    sandbox.knobs(reject_rate=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        employee_sync_request(actor=agency_admin, employees=[refused.pk])
    sandbox.knobs(reject_rate=0)
    refused.refresh_from_db()
    assert refused.sync_state == Employee.SyncState.FAILED and refused.last_attempt.http_calls > 0
    viewer = make_user(benefits_sync=Level.VISIBLE)

    rows = data_to_fix(viewer)

    assert [d.blocks for d in rows] == ["Lucas Novak is not on the benefits platform", "Noah Silva is not on the benefits platform"]
    assert rows[0].title == f"Lucas Novak ({no_dob.employer_group}): Missing mandatory data: date of birth."
    assert "has no mapping to a platform package" in rows[1].title
    no_dob.refresh_from_db()
    assert rows[0].opened_at == no_dob.last_attempt.finished_at
    assert {d.url for d in rows} == {reverse("admin:hrsync_employee_changelist") + "?sync_state=failed"}
    assert data_to_fix(make_user(plans=Level.DELETE)) == []  # no right to see Benefits Management

    # when: the data is fixed, the sync is sent again (an edit of a Failed employee queues it) and the row goes
    with django_capture_on_commit_callbacks(execute=True):
        employee_update(actor=agency_admin, employee=no_dob, data={"date_of_birth": refused.date_of_birth})
    assert [d.blocks for d in data_to_fix(viewer)] == ["Noah Silva is not on the benefits platform"]
