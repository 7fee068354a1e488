"""Sales workflows: once per record, set-based on the mass path, criteria and types respected."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from accounts.rights import Level
from core.jobs import ACTIVE, Status
from salesrecords.models import Activity, SalesRecord, SalesWorkflow, SalesWorkflowRun, WorkflowEmail
from salesrecords.services import mass_creation_run, salesrecord_save, salesworkflow_save
from salesrecords.tasks import workflow_emails_send_task
from tests.accounts.factories import AgentFactory, UserFactory
from tests.individuals.factories import IndividualFactory

from .factories import MassCreationJobFactory, SalesRecordTypeFactory, SalesWorkflowFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def renewal():
    return SalesRecordTypeFactory(name="Renewal")


def test_mass_creation_runs_each_workflow_once_per_new_record(renewal, agency_admin, django_capture_on_commit_callbacks):
    agent_user = UserFactory(email="agent@agency.example")
    agent = AgentFactory(user=agent_user)
    fl = IndividualFactory.create_batch(4, state="FL", servicing_agent=agent, secondary_email="client@example.com")
    IndividualFactory.create_batch(3, state="GA", servicing_agent=agent)
    call = SalesWorkflowFactory(name="Call", activity_due_days=5)
    call.record_types.add(renewal)
    florida = SalesWorkflowFactory(
        name="Florida",
        create_activity=False,
        set_stage="contacted",
        send_email=True,
        email_to=SalesWorkflow.EmailTo.RECORD,
        email_subject="Hello {{ record.first_name }}",
        email_body="Dear {{ record.first_name }} {{ record.last_name }}, ...",
        criteria={"state": ["FL"]},
    )
    other_type = SalesWorkflowFactory(name="Leads only")
    other_type.record_types.add(SalesRecordTypeFactory(name="Lead"))
    SalesWorkflowFactory(name="Inactive", active=False)

    job = MassCreationJobFactory(created_by=agency_admin, record_type=renewal, criteria={"state": ["FL", "GA"]})
    with django_capture_on_commit_callbacks(execute=True):
        mass_creation_run(job_id=job.pk, chunk_size=3)
        mass_creation_run(job_id=job.pk, chunk_size=3)  # delivered again: nothing more

    assert SalesRecord.objects.count() == 7
    activities = Activity.objects.filter(workflow=call)
    assert activities.count() == 7
    assert set(activities.values_list("assigned_to", flat=True)) == {agent_user.pk}
    assert set(activities.values_list("due_date", flat=True)) == {timezone.localdate() + datetime.timedelta(days=5)}
    assert not Activity.objects.exclude(workflow=call).exists()
    assert set(SalesRecord.objects.filter(individual__in=fl).values_list("stage", flat=True)) == {"contacted"}
    assert set(SalesRecord.objects.exclude(individual__in=fl).values_list("stage", flat=True)) == {"new"}
    assert SalesWorkflowRun.objects.filter(workflow=florida).count() == 4
    assert sorted(m.subject for m in mail.outbox) == sorted("Hello " + p.first_name for p in fl)
    assert all(m.to == ["client@example.com"] for m in mail.outbox)
    assert set(WorkflowEmail.objects.values_list("status", "tries")) == {(Status.SUCCEEDED, 1)}
    assert WorkflowEmail.objects.count() == 4


def test_on_the_mass_path_the_last_workflow_setting_a_stage_wins_as_on_a_record_made_by_hand(renewal, agency_admin):
    # given: workflows run in name order; "A" sets every record's stage, "B" only Floridians'
    fl = IndividualFactory.create_batch(3, state="FL")
    ga = IndividualFactory.create_batch(2, state="GA")
    SalesWorkflowFactory(name="A: contacted", set_stage="contacted", create_activity=False)
    b = SalesWorkflowFactory(name="B: qualified in Florida", set_stage="qualified", criteria={"state": ["FL"]})
    job = MassCreationJobFactory(created_by=agency_admin, record_type=renewal, criteria={"state": ["FL", "GA"]})

    # when
    mass_creation_run(job_id=job.pk, chunk_size=2)
    by_hand = IndividualFactory(state="FL")
    salesrecord_save(actor=agency_admin, record=SalesRecord(individual=by_hand, record_type=renewal, first_name="Ann", last_name="Lee"))

    # then
    stages = dict(SalesRecord.objects.values_list("individual_id", "stage"))
    assert {stages[p.pk] for p in fl} == {"qualified"} and {stages[p.pk] for p in ga} == {"contacted"}
    assert stages[by_hand.pk] == "qualified"
    assert SalesWorkflowRun.objects.count() == 5 + 3 + 2 and Activity.objects.filter(workflow=b).count() == 3 + 1


def test_a_record_created_by_hand_runs_the_workflows_once(renewal, make_user, django_capture_on_commit_callbacks):
    user = make_user(sales=Level.EDIT)
    workflow = SalesWorkflowFactory(send_email=True, email_subject="New {{ record.last_name }}", email_body="Call them.")
    record = SalesRecord(record_type=renewal, first_name="Ann", last_name="Lee", assigned_user=user)
    with django_capture_on_commit_callbacks(execute=True):
        salesrecord_save(actor=user, record=record)
        salesrecord_save(actor=user, record=record, changed=["stage"])  # an update runs nothing

    assert Activity.objects.filter(sales_record=record, workflow=workflow, assigned_to=user).count() == 1
    assert [m.subject for m in mail.outbox] == ["New Lee"] and mail.outbox[0].to == [user.email]


def test_a_workflow_needs_an_action_valid_criteria_and_templates(agency_admin):
    workflow = SalesWorkflow(name="Broken", criteria={"state": "ZZ"}, send_email=True, email_subject="{% if %}")
    with pytest.raises(ValidationError) as exc:
        salesworkflow_save(actor=agency_admin, workflow=workflow)
    assert {"criteria", "email_subject", "email_body"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError):
        salesworkflow_save(actor=agency_admin, workflow=SalesWorkflow(name="Nothing"))
    assert not SalesWorkflow.objects.exists()


def test_the_admin_form_shows_the_services_validation(client, agency_admin):
    client.force_login(agency_admin)
    reply = client.post(
        "/admin/salesrecords/salesworkflow/add/",
        {"name": "Broken", "criteria": '{"state": "ZZ"}', "email_to": "assigned_user", "activity_due_days": 0},
    )
    assert reply.status_code == 200 and not SalesWorkflow.objects.exists()
    errors = reply.context["adminform"].form.errors
    assert "criteria" in errors and "Choose at least one action" in str(errors)


def test_workflow_emails_go_out_from_a_task_after_commit(renewal, make_user, django_capture_on_commit_callbacks):
    user = make_user(sales=Level.EDIT)
    SalesWorkflowFactory(send_email=True, email_subject="New {{ record.last_name }}", email_body="Call them.")
    with django_capture_on_commit_callbacks() as callbacks:
        salesrecord_save(actor=user, record=SalesRecord(record_type=renewal, first_name="Ann", last_name="Lee", assigned_user=user))
    # nothing sent inside the transaction: the email is queued with its run
    assert mail.outbox == [] and WorkflowEmail.objects.get(run=SalesWorkflowRun.objects.get()).status == Status.QUEUED

    for callback in callbacks:  # the commit enqueues the task (eager here)
        callback()
    assert [m.subject for m in mail.outbox] == ["New Lee"]
    assert WorkflowEmail.objects.get().status == Status.SUCCEEDED


class RefusingMailServer(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


def _retry_time_came():
    WorkflowEmail.objects.filter(status=Status.RETRYING).update(next_try_at=timezone.now() - datetime.timedelta(seconds=1))


def test_the_sweep_sends_emails_left_queued_or_whose_sender_died_and_retries_a_refused_one(renewal, make_user, settings):
    user = make_user(sales=Level.EDIT)
    SalesWorkflowFactory(send_email=True, email_subject="Hi {{ record.last_name }}", email_body="...")
    with_dead_sender = SalesRecord(record_type=renewal, first_name="Ann", last_name="Claimed", assigned_user=user)
    never_sent = SalesRecord(record_type=renewal, first_name="Ann", last_name="Lost", assigned_user=user)
    for record in (with_dead_sender, never_sent):
        salesrecord_save(actor=user, record=record)  # (no commit: the enqueue after it never happens)
    # a sender took this one up and died: its lease ran out
    WorkflowEmail.objects.filter(run__sales_record=with_dead_sender).update(
        status=Status.RUNNING, tries=1, lease_until=timezone.now() - datetime.timedelta(seconds=1)
    )

    settings.EMAIL_BACKEND = "tests.salesrecords.test_workflows.RefusingMailServer"
    assert workflow_emails_send_task.delay().get() == 0
    assert WorkflowEmail.objects.filter(status=Status.RETRYING).count() == 2  # refused: tried again later
    assert "the mail server is down" in WorkflowEmail.objects.filter(status=Status.RETRYING).first().reason
    assert workflow_emails_send_task.delay().get() == 0  # not before their time

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _retry_time_came()
    assert workflow_emails_send_task.delay().get() == 2  # the minute sweep
    assert sorted(m.subject for m in mail.outbox) == ["Hi Claimed", "Hi Lost"]
    assert workflow_emails_send_task.delay().get() == 0  # each sent once
    assert not WorkflowEmail.objects.filter(status__in=ACTIVE).exists()


def test_a_refused_email_is_given_up_after_the_last_try(renewal, make_user, settings):
    user = make_user(sales=Level.EDIT)
    SalesWorkflowFactory(send_email=True, email_subject="Hi", email_body="...")
    salesrecord_save(actor=user, record=SalesRecord(record_type=renewal, first_name="Ann", last_name="Lee", assigned_user=user))
    settings.EMAIL_BACKEND = "tests.salesrecords.test_workflows.RefusingMailServer"
    settings.SALESRECORDS_EMAIL_MAX_TRIES = 2
    workflow_emails_send_task.delay()
    _retry_time_came()
    workflow_emails_send_task.delay()
    email = WorkflowEmail.objects.get()
    assert (email.status, email.tries) == (Status.FAILED, 2) and "gave up after 2 tries" in email.reason


def test_an_email_with_nobody_to_send_it_to_fails_with_the_reason(renewal, make_user):
    user = make_user(sales=Level.EDIT)
    SalesWorkflowFactory(send_email=True, email_to=SalesWorkflow.EmailTo.RECORD, email_subject="Hi", email_body="...")
    salesrecord_save(actor=user, record=SalesRecord(record_type=renewal, first_name="Ann", last_name="Lee"))
    assert workflow_emails_send_task.delay().get() == 0
    email = WorkflowEmail.objects.get()
    assert email.status == Status.FAILED and "Nobody to send it to" in email.reason and mail.outbox == []


def test_the_email_sweep_runs_every_minute():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="salesrecords.tasks.workflow_emails_send_task")
    assert task.enabled and (task.interval.every, task.interval.period) == (1, "minutes")


def test_workflow_criteria_keep_personal_data_as_a_keyed_hash_only(api):
    reply = api.post(
        "/api/sales-workflows/", {"name": "By SSN", "set_stage": "contacted", "criteria": {"ssn": "123-45-6789", "state": ["FL"]}}, format="json"
    )
    assert reply.status_code == 201
    stored = SalesWorkflow.objects.get(name="By SSN").criteria
    assert "123-45-6789" not in str(stored) and "123456789" not in str(stored)
    assert set(stored) == {"ssn_hash", "state"}
    bad = api.post("/api/sales-workflows/", {"name": "Bad SSN", "set_stage": "contacted", "criteria": {"ssn": "12-3"}}, format="json")
    assert bad.status_code == 400 and "criteria" in bad.json()
