import io

import pytest

from salesrecords import demo
from salesrecords.models import MassCreationJob, SalesRecord
from tests.individuals.factories import IndividualFactory

from .factories import SalesRecordTypeFactory

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent():
    SalesRecordTypeFactory(name="Renewal")
    IndividualFactory.create_batch(3, state="FL", record_status="prospect")
    IndividualFactory(state="TX", record_status="prospect")
    demo.load(io.StringIO())
    demo.load(io.StringIO())
    assert MassCreationJob.objects.get().created == 3 and SalesRecord.objects.count() == 3
