"""Mass creation: carried-over fields, skip rules, resumable chunks, failures, audit (SQLite and PostgreSQL)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import AuditLog
from accounts.rights import Flag, Level
from individuals.models import CustomField, Individual
from salesrecords import sql
from salesrecords.models import CARRIED_FIELDS, PERSONAL_COLUMNS, MassCreationJob, SalesRecord, SalesRecordType
from salesrecords.selectors import job_progress
from salesrecords.services import mass_creation_job_create, mass_creation_preview, mass_creation_run
from tests.accounts.factories import AgentFactory, UserFactory
from tests.individuals.factories import CarrierFactory, CustomFieldFactory, IndividualFactory, PolicyFactory

from .factories import MassCreationJobFactory, SalesRecordFactory, SalesRecordTypeFactory

pytestmark = pytest.mark.django_db

Status = MassCreationJob.Status


@pytest.fixture
def renewal():
    return SalesRecordTypeFactory(name="Renewal")


@pytest.fixture
def creator(make_user):
    return make_user(individuals=Level.EDIT, sales=Level.EDIT)


def run_job(creator, criteria, record_type, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = mass_creation_job_create(actor=creator, criteria=criteria, record_type=record_type)
    job.refresh_from_db()
    return job


def test_seeded_types_are_in_sort_order():
    assert list(SalesRecordType.objects.values_list("name", flat=True)) == ["Lead", "Renewal", "AEP", "Do Not Contact"]


def test_every_listed_field_is_carried_over_and_personal_data_is_copied_encrypted(creator, renewal, django_capture_on_commit_callbacks):
    person = IndividualFactory(
        first_name="Ada",
        middle_name="M",
        last_name="Lovelace",
        nickname="Addie",
        title="Dr.",
        record_status="prospect",
        email="primary@example.com",
        secondary_email="ada2@example.com",
        cell_phone="555-123-4567",
        home_phone="555-765-4321",
        address_type="home",
        address_line1="1 Main St",
        address_line2="Apt 2",
        city="Austin",
        county="Travis",
        zip_code="78701",
        state="TX",
        gender="female",
        date_of_birth=datetime.date(1950, 2, 3),
        lead_source="Seminar",
        medicare_part_a_effective=datetime.date(2015, 2, 1),
        medicare_part_b_effective=datetime.date(2015, 3, 1),
        smoker_status="former",
        ssn="123-45-6789",
        medicare_beneficiary_id="1EG4-TE5-MK73",
        drivers_license="D1234567",
    )
    job = run_job(creator, {"last_name": "Lovelace"}, renewal, django_capture_on_commit_callbacks)

    assert (job.status, job.matched, job.created, job.skipped) == (Status.SUCCEEDED, 1, 1, 0)
    record = SalesRecord.objects.get(individual=person)
    for name in (*CARRIED_FIELDS, *PERSONAL_COLUMNS):
        assert getattr(record, name) == getattr(person, name), name
    assert record.ssn_encrypted and record.ssn_last4 == "6789" and record.drivers_license_last4 == "4567"
    assert "6789" not in record.ssn_encrypted  # still ciphertext
    assert (record.record_type, record.job, record.stage) == (renewal, job, SalesRecord.Stage.NEW)


def test_custom_fields_carry_over_except_numbers_currency_percent_and_checkboxes(creator, renewal, django_capture_on_commit_callbacks):
    T = CustomField.FieldType
    kinds = {
        "t": T.TEXT,
        "lt": T.LONG_TEXT,
        "d": T.DATE,
        "dd": T.DROPDOWN,
        "n": T.NUMBER,
        "c": T.CURRENCY,
        "p": T.PERCENT,
        "cb": T.CHECKBOX,
        "cbl": T.CHECKBOX_LIST,
    }
    for key, kind in kinds.items():
        CustomFieldFactory(key=key, field_type=kind, options=["A", "B"] if kind in (T.DROPDOWN, T.CHECKBOX_LIST) else [])
    values = {"t": "text", "lt": "long\ntext", "d": "2026-01-31", "dd": "A", "n": 3, "c": 10.5, "p": 50, "cb": True, "cbl": ["A", "B"]}
    person = IndividualFactory(last_name="Custom", custom_fields=values)

    run_job(creator, {"last_name": "Custom"}, renewal, django_capture_on_commit_callbacks)

    assert SalesRecord.objects.get(individual=person).custom_fields == {"t": "text", "lt": "long\ntext", "d": "2026-01-31", "dd": "A"}


def test_a_servicing_agent_linked_to_a_user_assigns_that_user(creator, renewal, django_capture_on_commit_callbacks):
    agent_user = UserFactory()
    linked = IndividualFactory(last_name="Agented", servicing_agent=AgentFactory(user=agent_user))
    unlinked = IndividualFactory(last_name="Agented", servicing_agent=AgentFactory())
    nobody = IndividualFactory(last_name="Agented")

    run_job(creator, {"last_name": "Agented"}, renewal, django_capture_on_commit_callbacks)

    assigned = dict(SalesRecord.objects.values_list("individual_id", "assigned_user_id"))
    assert assigned == {linked.pk: agent_user.pk, unlinked.pk: None, nobody.pk: None}


def test_individuals_with_a_sales_record_are_skipped_and_counts_are_exact(creator, renewal, django_capture_on_commit_callbacks):
    people = IndividualFactory.create_batch(7, state="FL")
    IndividualFactory.create_batch(3, state="TX")
    lead = SalesRecordTypeFactory(name="Lead")
    for person in people[:2]:
        SalesRecordFactory(individual=person, record_type=lead)

    assert mass_creation_preview(criteria={"state": "FL"}) == {"found": 7, "existing": 2, "to_create": 5}
    job = run_job(creator, {"state": "FL"}, renewal, django_capture_on_commit_callbacks)

    assert (job.matched, job.processed, job.created, job.skipped) == (7, 7, 5, 2)
    assert SalesRecord.objects.filter(record_type=renewal).count() == 5
    assert SalesRecord.objects.filter(record_type=lead).count() == 2  # the existing ones untouched


@pytest.mark.parametrize("how", ["the search (one EXISTS over policies)", "a search joining policies"])
def test_individuals_with_several_matching_policies_get_one_record(creator, renewal, how):
    carrier = CarrierFactory()
    twice, once = IndividualFactory(), IndividualFactory()
    PolicyFactory.create_batch(2, individual=twice, carrier=carrier)
    PolicyFactory(individual=once, carrier=carrier)
    SalesRecordFactory(individual=once)
    IndividualFactory()  # no policy: not found
    if how.startswith("the search"):
        job = MassCreationJobFactory(created_by=creator, criteria={"carrier": [carrier.pk]}, record_type=renewal)
        job = mass_creation_run(job_id=job.pk)
        found, created = job.matched, job.created
    else:  # a join repeats an individual per policy: the insert reads the search's ids instead
        found, created = sql.insert_sales_records(
            individuals=Individual.objects.filter(policies__carrier=carrier),
            record_type_id=renewal.pk,
            job_id=None,
            stage="new",
            excluded_keys=[],
            now=timezone.now(),
        )
    assert (found, created) == (2, 1)
    assert sorted(SalesRecord.objects.values_list("individual", flat=True)) == [twice.pk, once.pk]


def test_a_job_stopped_between_chunks_continues_exactly_and_a_second_run_creates_nothing(creator, renewal, settings):
    people = IndividualFactory.create_batch(10, state="GA")
    SalesRecordFactory(individual=people[4])
    job = MassCreationJobFactory(created_by=creator, criteria={"state": "GA"}, record_type=renewal)

    mass_creation_run(job_id=job.pk, max_chunks=2, chunk_size=3)  # stopped after two chunks: queued again
    job.refresh_from_db()
    assert (job.status, job.processed, job.cursor, job.tries) == (Status.QUEUED, 6, people[5].pk, 1)
    # The job page: the matches counted when the job started, and how many of them are done.
    assert job_progress(job) | {"id": 0} == {
        "id": 0,
        "status": "queued",
        "queue": "in_progress",
        "status_display": "Queued",
        "finished": False,
        "matched": 10,
        "processed": 6,
        "created": 5,
        "skipped": 1,
        "reason": "",
        "percent": 60,
    }
    assert SalesRecord.objects.filter(job=job).count() == 5

    mass_creation_run(job_id=job.pk, chunk_size=3)  # the redelivered task
    mass_creation_run(job_id=job.pk, chunk_size=3)  # ...delivered once more
    job.refresh_from_db()
    assert (job.status, job.matched, job.created, job.skipped) == (Status.SUCCEEDED, 10, 9, 1)
    assert SalesRecord.objects.filter(job=job).count() == 9
    assert AuditLog.objects.filter(action=AuditLog.Action.BULK, object_id=str(job.pk)).count() == 1


def test_a_second_job_over_the_same_search_skips_everything(creator, renewal, django_capture_on_commit_callbacks):
    IndividualFactory.create_batch(4, state="OH")
    first = run_job(creator, {"state": "OH"}, renewal, django_capture_on_commit_callbacks)
    second = run_job(creator, {"state": "OH"}, renewal, django_capture_on_commit_callbacks)
    assert (first.created, first.skipped, second.created, second.skipped) == (4, 0, 0, 4)
    assert SalesRecord.objects.count() == 4


def test_invalid_criteria_fail_the_job_with_the_reason_and_write_nothing(creator, renewal):
    IndividualFactory.create_batch(3)
    job = MassCreationJobFactory(created_by=creator, criteria={"state": "ZZ"}, record_type=renewal)

    mass_creation_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Status.FAILED and "state" in job.reason and "ZZ" in job.reason
    assert SalesRecord.objects.count() == 0
    assert AuditLog.objects.filter(action=AuditLog.Action.BULK, object_id=str(job.pk), summary__contains="failed").count() == 1


def test_invalid_criteria_are_refused_before_a_job_is_queued(creator, renewal):
    with pytest.raises(ValidationError) as exc:
        mass_creation_job_create(actor=creator, criteria={"nonsense": "1"}, record_type=renewal)
    assert exc.value.message_dict == {"nonsense": ["Unknown search criterion 'nonsense'."]}
    assert not MassCreationJob.objects.exists()


@pytest.mark.parametrize(
    "levels",
    [
        {"individuals": Level.VISIBLE, "sales": Level.EDIT},  # no Edit on Individuals
        {"individuals": Level.EDIT, "sales": Level.NONE},  # no Sales Enablement
        {"individuals": Level.EDIT, "sales": Level.VISIBLE},  # Visible, but no add right on the type
    ],
)
def test_the_permission_gate(make_user, renewal, levels):
    user = make_user(**levels)
    with pytest.raises(PermissionDenied):
        mass_creation_job_create(actor=user, criteria={}, record_type=renewal)


def test_an_add_right_on_the_type_lets_a_sales_visible_user_create(make_user, renewal, django_capture_on_commit_callbacks):
    from .factories import SalesRecordTypeRightFactory

    user = make_user(individuals=Level.EDIT, sales=Level.VISIBLE)
    SalesRecordTypeRightFactory(user=user, record_type=renewal, can_add=True)
    IndividualFactory(state="CO")
    job = run_job(user, {"state": "CO"}, renewal, django_capture_on_commit_callbacks)
    assert job.created == 1


def test_chunks_cost_a_fixed_number_of_queries(creator, renewal, django_assert_max_num_queries):
    IndividualFactory.create_batch(40, state="AZ")
    job = MassCreationJobFactory(created_by=creator, criteria={"state": "AZ"}, record_type=renewal)
    chunks = 40 // 5 + 1  # the last one finds nothing and finishes the job
    # Per chunk: read the job, the statement (SQLite: a count, then the insert), the job's update, savepoint
    # and release (a test runs in a transaction); never one per row.
    with django_assert_max_num_queries(6 * chunks + 12):
        mass_creation_run(job_id=job.pk, chunk_size=5)
    assert SalesRecord.objects.count() == 40


def test_criteria_never_keep_clear_personal_data(make_user, renewal, django_capture_on_commit_callbacks):
    creator = make_user(individuals=Level.EDIT, sales=Level.EDIT, flags={Flag.SEARCH_BY_PERSONAL_DATA})
    IndividualFactory(ssn="123-45-6789")
    job = run_job(creator, {"ssn": "123-45-6789"}, renewal, django_capture_on_commit_callbacks)
    assert "ssn" not in job.criteria and "ssn_hash" in job.criteria
    assert job.created == 1
    assert Individual.objects.count() == 1
