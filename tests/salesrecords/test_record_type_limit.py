"""At most ten sales record types, whoever races: the admin, and two concurrent adds on PostgreSQL."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from salesrecords.models import MAX_RECORD_TYPES, SalesRecordType
from salesrecords.services import salesrecordtype_save

from .factories import SalesRecordTypeFactory


def fill_up_to(count):
    for i in range(SalesRecordType.objects.count(), count):
        SalesRecordTypeFactory(name=f"Type {i}")


@pytest.mark.django_db
def test_the_admin_refuses_an_eleventh_type_with_a_form_error(client, agency_admin):
    fill_up_to(MAX_RECORD_TYPES)
    client.force_login(agency_admin)
    reply = client.post("/admin/salesrecords/salesrecordtype/add/", {"name": "Eleventh", "sort_order": 1, "active": "on"})
    assert reply.status_code == 200 and "at most 10 sales record types" in reply.content.decode()
    assert SalesRecordType.objects.count() == MAX_RECORD_TYPES


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see conftest.celery_worker_process
def test_two_concurrent_adds_cannot_both_take_the_tenth_place(agency_admin):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises write transactions; the race needs PostgreSQL")
    fill_up_to(MAX_RECORD_TYPES - 1)
    first_added, go, outcome = threading.Event(), threading.Event(), {}

    def first():  # adds the tenth type and holds its transaction open
        try:
            with transaction.atomic():
                salesrecordtype_save(actor=agency_admin, record_type=SalesRecordType(name="Tenth A"))
                first_added.set()
                go.wait(30)
        finally:
            connection.close()

    def second():  # adds another while the first has not committed
        try:
            salesrecordtype_save(actor=agency_admin, record_type=SalesRecordType(name="Tenth B"))
            outcome["second"] = "added"
        except ValidationError as exc:
            outcome["second"] = " ".join(exc.messages)
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    assert first_added.wait(30)
    b = threading.Thread(target=second)
    b.start()
    # the second waits for the first's lock (or, without one, finishes at once)
    deadline = time.monotonic() + 10
    while b.is_alive() and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if cursor.fetchone()[0]:
                break
        time.sleep(0.02)
    go.set()
    a.join(30)
    b.join(30)

    assert outcome["second"] == "There can be at most 10 sales record types."
    assert SalesRecordType.objects.count() == MAX_RECORD_TYPES
