"""Benefits Management in the admin: tabs with counts, Sync behind a confirmation, bulk level, history, rights."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.rights import Level
from hrsync.models import Employee

from .factories import BenefitsLevelFactory, EmployeeFactory

pytestmark = pytest.mark.django_db
URL = reverse("admin:hrsync_employee_changelist")
State = Employee.SyncState


@pytest.fixture
def staff(client, make_user):
    def login(level=Level.EDIT):
        user = make_user(benefits_sync=level, plans=Level.VISIBLE)
        client.force_login(user)
        return client

    return login


def test_four_tabs_with_counts_and_search(staff):
    EmployeeFactory.create_batch(2)
    EmployeeFactory(sync_state=State.FAILED, last_name="Zed")
    EmployeeFactory(sync_state=State.SUCCESSFUL)
    client = staff()
    page = client.get(URL).content.decode()
    assert "Benefits Management" in page
    for label, count in [("Not syncing", 2), ("In progress", 0), ("Successful", 1), ("Failed", 1)]:
        assert f'{label} <span class="count">{count}</span>' in page
    failed = client.get(URL, {"sync_state": "failed"})
    assert failed.context["cl"].result_count == 1
    assert client.get(URL, {"q": "Zed"}).context["cl"].result_count == 1


def test_sync_asks_for_confirmation_stating_the_count_then_sends(staff, sandbox, django_capture_on_commit_callbacks):
    employees = EmployeeFactory.create_batch(3)
    busy = EmployeeFactory(sync_state=State.IN_PROGRESS)
    client = staff()
    ids = [e.pk for e in [*employees, busy]]

    confirm = client.post(URL, {"action": "sync", ACTION_CHECKBOX_NAME: ids})
    text = confirm.content.decode()
    assert "3 employees will be sent to the benefits platform." in text
    assert "1 already in progress will be skipped" in text
    assert not Employee.objects.filter(sync_state=State.SUCCESSFUL).exists()  # nothing sent yet

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(URL, {"action": "sync", ACTION_CHECKBOX_NAME: ids, "confirm": "yes"}, follow=True)
    assert "3 employees sent to the benefits platform; 1 already in progress." in done.content.decode()
    assert Employee.objects.filter(sync_state=State.SUCCESSFUL).count() == 3


def test_select_all_in_a_tab(staff, sandbox, django_capture_on_commit_callbacks):
    EmployeeFactory.create_batch(3, sync_state=State.FAILED)
    EmployeeFactory.create_batch(2)
    client = staff()
    one = Employee.objects.filter(sync_state=State.FAILED).first().pk
    confirm = client.post(f"{URL}?sync_state=failed", {"action": "sync", ACTION_CHECKBOX_NAME: [one], "select_across": "1"})
    assert "3 employees will be sent" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{URL}?sync_state=failed", {"action": "sync", ACTION_CHECKBOX_NAME: [one], "select_across": "1", "confirm": "yes", "index": "0"})
    assert Employee.objects.filter(sync_state=State.SUCCESSFUL).count() == 3
    assert Employee.objects.filter(sync_state=State.NOT_SYNCING).count() == 2


def test_assign_benefits_level_in_bulk(staff):
    employees = EmployeeFactory.create_batch(2)
    level = BenefitsLevelFactory(name="Premium", package_code="PREMIUM")
    client = staff()
    page = client.post(URL, {"action": "assign_benefits_level", ACTION_CHECKBOX_NAME: [e.pk for e in employees]})
    assert "Assign a benefits level to <strong>2 employees</strong>" in page.content.decode()
    client.post(
        URL, {"action": "assign_benefits_level", ACTION_CHECKBOX_NAME: [e.pk for e in employees], "benefits_level": level.pk, "confirm": "yes"}
    )
    assert set(Employee.objects.values_list("benefits_level__name", flat=True)) == {"Premium"}


def test_a_failed_row_opens_its_history(staff, sandbox, django_capture_on_commit_callbacks):
    from hrsync.services import employee_sync_request

    employee = EmployeeFactory(hire_date=None)
    employee_sync_request(actor=None, employees=[employee.pk])
    client = staff(Level.VISIBLE)
    listing = client.get(URL, {"sync_state": "failed"}).content.decode()
    history_url = reverse("admin:hrsync_employee_sync_history", args=[employee.pk])
    assert history_url in listing
    assert "Not sent: Missing mandatory data: hire date." in listing
    history = client.get(history_url).content.decode()
    assert "Not sent: Missing mandatory data: hire date." in history and "Failed" in history
    assert '<span class="ad-badge ad-badge-failed">Failed</span>' in history  # coloured by its queue


def test_visible_level_sees_but_cannot_sync(staff):
    EmployeeFactory()
    client = staff(Level.VISIBLE)
    page = client.get(URL)
    assert page.status_code == 200
    assert page.context["action_form"] is None  # no Sync, no Assign benefits level
    client.post(URL, {"action": "sync", ACTION_CHECKBOX_NAME: [Employee.objects.get().pk], "confirm": "yes", "index": "0"})
    assert not Employee.objects.get().sync_attempts.exists()
    assert staff(Level.NONE).get(URL).status_code == 403


def test_adding_a_starter_with_create_benefits_record(staff, sandbox, django_capture_on_commit_callbacks):
    from .factories import EmployerGroupFactory

    group, level = EmployerGroupFactory(), BenefitsLevelFactory(name="Basic", package_code="BASIC")
    client = staff()
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(
            reverse("admin:hrsync_employee_add"),
            {
                "employer_group": group.pk,
                "first_name": "Sam",
                "last_name": "Starter",
                "email": "sam.starter@client.example",
                "date_of_birth": "1994-04-04",
                "hire_date": "2025-01-06",
                "benefits_level": level.pk,
                "create_benefits_record": "on",
            },
        )
    assert reply.status_code == 302, reply.context["adminform"].form.errors
    employee = Employee.objects.get(email="sam.starter@client.example")
    assert employee.sync_state == State.SUCCESSFUL
    assert sandbox.accounts(employee.email)[0]["id"] == employee.benefits_account_id


def test_changelists_are_a_fixed_number_of_queries(staff, django_assert_max_num_queries):
    from hrsync.services import employee_sync_request

    employees = EmployeeFactory.create_batch(12, benefits_level=BenefitsLevelFactory(name="Executive", package_code=""))
    employee_sync_request(actor=None, employees=[e.pk for e in employees])  # fail before sending: a last attempt each
    client = staff()
    for url in (URL, reverse("admin:hrsync_syncattempt_changelist")):
        with django_assert_max_num_queries(12):
            page = client.get(url)
        assert page.context["cl"].result_count == 12, url


def test_the_list_filters_through_the_employee_filterset_like_the_api(staff, api, django_assert_max_num_queries):
    gold = BenefitsLevelFactory(name="Gold")
    leaver = EmployeeFactory(benefits_level=gold, leave_date="2024-06-30", benefits_account_id="ACC-0000123", sync_state=State.FAILED)
    EmployeeFactory.create_batch(3)
    EmployeeFactory(benefits_account_id="ACC-0000124", sync_state=State.FAILED)
    client = staff()

    def names(params):
        reply = client.get(URL, params)
        assert reply.status_code == 200 and "e" not in reply.wsgi_request.GET  # not "incorrect lookup"
        return sorted(e.pk for e in reply.context["cl"].result_list)

    # the sidebar and the search are the FilterSet's criteria, with the FilterSet's meaning (as in the API)
    for params in ({"leaver": "true"}, {"benefits_level": gold.pk}, {"q": "acc-0000123"}, {"sync_state": "failed", "leaver": "true"}):
        assert names(params) == [leaver.pk], params
        assert [e["id"] for e in api.get("/api/employees/", params).json()["results"]] == [leaver.pk], params
    assert names({"q": "ACC-00001"}) == []  # the benefits account is matched whole, not in part
    # the tabs count within the search
    page = client.get(URL, {"leaver": "true"}).content.decode()
    assert 'Failed <span class="count">1</span>' in page and 'Not syncing <span class="count">0</span>' in page

    EmployeeFactory.create_batch(20)
    with django_assert_max_num_queries(12):
        client.get(URL)


def test_the_sync_history_shows_what_was_sent_in_words_and_who_asked_by_name(staff, make_user):
    from hrsync.mapping import masked, platform_account
    from hrsync.models import SyncAttempt

    employee = EmployeeFactory(gender=Employee.Gender.MALE, pay_frequency=Employee.PayFrequency.BIWEEKLY)
    asker = make_user(benefits_sync=Level.EDIT)
    asker.first_name, asker.last_name = "Dana", "Whitfield"
    asker.save()
    payload = masked(platform_account(employee))
    SyncAttempt.objects.create(employee=employee, version=1, action="create", requested_by=asker, payload=payload, status=SyncAttempt.Status.FAILED)
    html = staff(Level.VISIBLE).get(reverse("admin:hrsync_employee_sync_history", args=[employee.pk])).content.decode()
    sent = html.split('class="sent"', 1)[1]
    assert "<dd>Male</dd>" in sent and "<dd>Every two weeks</dd>" in sent and "<dd>Standard</dd>" in sent
    assert "<dd>M</dd>" not in sent and "biweekly" not in sent and "STANDARD" not in sent
    assert "Dana Whitfield" in html and asker.username not in html
