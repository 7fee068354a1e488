"""Convert to Individual: into the linked individual or a new one; irreversible, audited, all or nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditLog
from accounts.rights import Level
from individuals import personal_data
from individuals.models import Individual
from salesrecords.models import CARRIED_FIELDS, PERSONAL_COLUMNS, SalesRecord
from salesrecords.services import salesrecord_convert, salesrecords_convert
from tests.individuals.factories import CustomFieldFactory, IndividualFactory

from .factories import SalesRecordFactory

pytestmark = pytest.mark.django_db


def protected(kind, value):
    return {f"{kind}_{k}": v for k, v in personal_data.protect(kind, value).items()}


def test_convert_writes_the_record_back_into_its_individual(agency_admin):
    CustomFieldFactory(key="spouse")
    CustomFieldFactory(key="income", field_type="number")
    person = IndividualFactory(first_name="Old", city="Austin", ssn="123-45-6789", custom_fields={"spouse": "Bob", "income": 5})
    record = SalesRecordFactory(
        individual=person,
        first_name="New",
        city="Tampa",
        state="FL",
        cell_phone="555-000-1111",
        date_of_birth=datetime.date(1951, 1, 1),
        custom_fields={"spouse": "Rob"},
        **protected("ssn", "456-78-9012"),
    )

    individual = salesrecord_convert(actor=agency_admin, record=record)

    person.refresh_from_db()
    assert individual == person
    for name in (*CARRIED_FIELDS, *PERSONAL_COLUMNS):
        assert getattr(person, name) == getattr(record, name), name
    assert personal_data.reveal(person, "ssn") == "456789012"
    assert person.custom_fields == {"spouse": "Rob", "income": 5}
    assert not SalesRecord.objects.exists()
    assert AuditLog.objects.filter(action="delete", object_id=str(record.pk), summary__startswith="Converted").exists()
    assert AuditLog.objects.filter(action="update", object_id=str(person.pk)).exists()


def test_convert_without_an_individual_creates_one(agency_admin):
    record = SalesRecordFactory(first_name="Solo", last_name="Record", state="TX", **protected("drivers_license", "D7654321"))
    individual = salesrecord_convert(actor=agency_admin, record=record)
    assert (individual.first_name, individual.last_name, individual.state) == ("Solo", "Record", "TX")
    assert individual.drivers_license_last4 == "4321" and not SalesRecord.objects.exists()


def test_a_batch_is_all_or_nothing(agency_admin):
    good = SalesRecordFactory(first_name="Good")
    bad = SalesRecordFactory(first_name="Bad", last_name="")  # an individual needs a last name
    with pytest.raises(ValidationError):
        salesrecords_convert(actor=agency_admin, records=[good, bad])
    assert SalesRecord.objects.count() == 2 and not Individual.objects.exists()


def test_convert_needs_edit_rights(make_user):
    record = SalesRecordFactory(individual=IndividualFactory())
    with pytest.raises(PermissionDenied):
        salesrecord_convert(actor=make_user(sales=Level.EDIT, individuals=Level.VISIBLE), record=record)
    with pytest.raises(PermissionDenied):
        salesrecord_convert(actor=make_user(sales=Level.VISIBLE, individuals=Level.EDIT), record=record)
    assert SalesRecord.objects.count() == 1


def test_deleting_an_individual_unlinks_its_record_and_convert_then_creates_one(agency_admin):
    from django.db import connection

    kept = SalesRecordFactory(individual=IndividualFactory(), last_name="Kept")
    kept.individual.delete()  # the ORM sets the link NULL
    kept.refresh_from_db()
    assert kept.individual_id is None

    stale = SalesRecordFactory(individual=IndividualFactory(), last_name="Stale")
    with connection.cursor() as cursor:  # behind the ORM's back: the id is left dangling
        cursor.execute("DELETE FROM individuals_individual WHERE id = %s", [stale.individual_id])
    individual = salesrecord_convert(actor=agency_admin, record=stale)
    assert individual.last_name == "Stale" and individual.pk != stale.individual_id
