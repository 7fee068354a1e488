"""No write transaction grows with the data (issue 20): each job, run at a size N and at 3N, holds a
write transaction (on SQLite, the one write lock every writer waits for) of the same bounded shape.

``core.db.write_transactions`` records every write transaction of the job (real commits: these tests
use ``transactional_db``); its longest in statements must be the same at 3N as at N, and so must its rows
where the job works in chunks. Times are measured by ``python -m bench transactions``, not asserted here.
"""

import pytest
from django.db import connection, transaction

from accounts.rights import Level
from core.db import write_transactions
from individuals.models import ExportJob
from individuals.services import exports
from salesrecords.models import WorkflowEmail
from salesrecords.services import mass_creation_job_create
from salesrecords.workflows import workflow_emails_send
from tests.individuals.factories import IndividualFactory
from tests.salesrecords.factories import SalesRecordTypeFactory, SalesWorkflowFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # as the suite's other transactional tests

N = 12


def shape(log) -> tuple[int, int]:
    """(statements, rows) of the job's largest write transactions."""
    assert log.done, "the job wrote nothing"
    return log.most_statements, log.most_rows


def grows_not(shapes: list) -> bool:
    """At 3N no larger than at N (a one-off statement at one size, e.g. the first chunk's, may differ)."""
    small, large = (s if isinstance(s, tuple) else (s,) for s in shapes)
    return all(b <= a for a, b in zip(small, large, strict=True))


# --- the instrument itself -------------------------------------------------------------------------


def test_the_instrument_counts_a_transactions_statements_rows_and_time():
    people = IndividualFactory.create_batch(3)
    with write_transactions() as log:
        with transaction.atomic():
            list(type(people[0]).objects.all())  # a read inside it counts as a statement
            type(people[0]).objects.filter(pk__in=[p.pk for p in people]).update(nickname="x")
            with transaction.atomic():  # a savepoint: not a statement of its own
                type(people[0]).objects.filter(pk=people[0].pk).update(nickname="y")
        type(people[0]).objects.filter(pk=people[1].pk).update(nickname="z")  # autocommit: its own transaction
        list(type(people[0]).objects.all())  # a read alone is no write transaction
    assert [(t.statements, t.writes, t.rows) for t in log.done] == [(3, 2, 4), (1, 1, 1)]
    assert log.longest.seconds > 0 and log.longest.first_write.startswith("UPDATE")
    assert shape(log) == (3, 4)


def test_a_rolled_back_transaction_is_recorded_and_the_connection_is_left_as_it_was():
    person = IndividualFactory()
    with write_transactions() as log, pytest.raises(ZeroDivisionError), transaction.atomic():
        type(person).objects.filter(pk=person.pk).update(nickname="x")
        1 / 0  # noqa: B018
    assert [(t.writes, t.rows) for t in log.done] == [(1, 1)]
    assert "commit" not in vars(connection) and not connection.execute_wrappers


# --- each job at N and 3N -----------------------------------------------------------------------------


@pytest.fixture
def creator(make_user):
    return make_user(individuals=Level.EDIT, sales=Level.EDIT)


def test_a_mass_creation_chunk_is_the_same_transaction_at_3n(creator, settings):
    settings.SALESRECORDS_CHUNK_SIZE = 5
    renewal = SalesRecordTypeFactory(name="Renewal")
    SalesWorkflowFactory(name="Call them")  # an activity and a run per new record, in the chunk
    shapes = []
    for size, state in ((N, "FL"), (3 * N, "GA")):
        IndividualFactory.create_batch(size, state=state)
        with write_transactions() as log:
            job = mass_creation_job_create(actor=creator, criteria={"state": [state]}, record_type=renewal)
        job.refresh_from_db()
        assert (job.status, job.created) == ("succeeded", size)
        shapes.append(shape(log))
    assert grows_not(shapes), shapes


def test_workflow_emails_are_sent_one_short_transaction_each_at_3n(creator, settings, monkeypatch):
    from salesrecords.services import mass_create

    monkeypatch.setattr(mass_create, "workflow_emails_enqueue", lambda: None)  # the outbox is filled, not sent
    renewal = SalesRecordTypeFactory(name="Renewal")
    SalesWorkflowFactory(name="Mail", create_activity=False, send_email=True, email_subject="New {{ record.last_name }}", email_body="Call.")
    shapes = []
    for size, state in ((N, "FL"), (3 * N, "GA")):
        for person in IndividualFactory.create_batch(size, state=state):
            person.servicing_agent = None
        mass_creation_job_create(actor=creator, criteria={"state": [state]}, record_type=renewal)
        assert WorkflowEmail.objects.filter(status="queued").count() == size
        with write_transactions() as log:
            workflow_emails_send()
        assert not WorkflowEmail.objects.filter(status="queued").exists()
        shapes.append(shape(log))
    assert grows_not(shapes), shapes


def test_an_export_job_is_the_same_transactions_at_3n(make_user):
    viewer = make_user(individuals=Level.VISIBLE)
    shapes = []
    for size in (N, 2 * N):  # 3N individuals in all
        IndividualFactory.create_batch(size)
        job = ExportJob.objects.create(owner=viewer, criteria={})
        with write_transactions() as log:
            assert exports.export_job_run(job_id=job.pk).status == "succeeded"
        shapes.append(shape(log))
    assert grows_not(shapes), shapes


def test_the_benefits_sync_is_one_short_transaction_per_employee_at_3n(sandbox, agency_admin, monkeypatch):
    """The request queues its attempts a chunk at a time (before: the whole request was one transaction)."""
    from hrsync.models import Employee
    from hrsync.services import employee_sync_request, sync
    from tests.hrsync.factories import EmployeeFactory

    monkeypatch.setattr(sync, "CHUNK", 5)

    shapes = []
    for size in (N, 3 * N):
        employees = EmployeeFactory.create_batch(size)
        with write_transactions() as log:
            employee_sync_request(actor=agency_admin, employees=[e.pk for e in employees])
        assert Employee.objects.filter(pk__in=[e.pk for e in employees], sync_state="successful").count() == size
        shapes.append(shape(log))
    assert grows_not(shapes), shapes


def test_a_plan_sync_run_is_the_same_transactions_at_3n(benefitpoint, reference_data):
    from plansync.models import PlanChoice
    from plansync.services import Row
    from tests.plansync.factories import SyncedPlanFactory, choose, import_account, sync

    link = import_account(40002)
    shapes = []
    for size in (N, 2 * N):  # the second run adds 2N plans: 3N in the group
        plans = SyncedPlanFactory.create_batch(size, group=link.group)
        choose(link, *[Row(plan=plan, choice="create_there") for plan in plans])
        with write_transactions() as log:
            run = sync(link)
        assert run.status == "succeeded", run.reason
        assert PlanChoice.objects.filter(link=link, state="synced").count() == len(plans) + (N if size > N else 0)
        shapes.append(log.most_statements)
    assert grows_not(shapes), shapes


def test_a_reconciliation_is_the_same_transactions_at_3n(ams_sandbox, monkeypatch):
    from ams.models import Reconciliation
    from ams.services import reconciliation_request
    from ams.services.reconcile import reconciliation_run

    monkeypatch.setitem(reconciliation_run.__kwdefaults__, "chunk_size", 5)  # chunks of 5 customers: N is several

    shapes = []
    for size in (N, 3 * N):
        ams_sandbox.reset(size)
        with write_transactions() as log:
            run = reconciliation_request(actor=None)
        run.refresh_from_db()
        assert (run.status, run.customers_seen) == (Reconciliation.Status.SUCCEEDED, size), run.reason
        # One chunk's rows at most (5 customers, each its record, policies, links, audit, history rows and CRM
        # push, written together by the first load: up to about 12 each), whatever N; unchunked, 3N is ~300.
        assert log.most_rows <= 5 * 12, log.most_rows
        shapes.append(log.most_statements)
    assert grows_not(shapes), shapes


def test_a_carrier_poll_pull_and_discrepancy_check_is_the_same_transactions_at_3n(noyo, agency_admin):
    from carriers.services import connection_poll, connection_pull, connection_request
    from tests.carriers.factories import connected_group, roster

    shapes = []
    for size, carrier_group in ((N, "CG-1"), (3 * N, "CG-2")):
        group, carrier = connected_group(members=size)
        noyo.seed(**roster(group, carrier, carrier_group, share=0.25, seed=5))
        with write_transactions() as log:
            link = connection_request(actor=agency_admin, employer_group=group, carrier=carrier, carrier_group_id=carrier_group)
            while link.status != "completed":
                link = connection_poll(connection_id=link.pk, force=True)
            connection_pull(connection_id=link.pk)
        shapes.append(log.most_statements)
    assert grows_not(shapes), shapes
