import factory

from salesrecords.models import Activity, MassCreationJob, SalesRecord, SalesRecordType, SalesRecordTypeRight, SalesWorkflow
from tests.accounts.factories import UserFactory


class SalesRecordTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesRecordType
        django_get_or_create = ["name"]

    name = "Renewal"  # seeded by the data migration


class SalesRecordTypeRightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesRecordTypeRight

    user = factory.SubFactory(UserFactory)
    record_type = factory.SubFactory(SalesRecordTypeFactory)


class SalesRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesRecord

    record_type = factory.SubFactory(SalesRecordTypeFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class MassCreationJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MassCreationJob

    record_type = factory.SubFactory(SalesRecordTypeFactory)


class SalesWorkflowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesWorkflow

    name = factory.Sequence(lambda n: f"Workflow {n}")
    create_activity = True
    activity_subject = "Call about the renewal"
    activity_due_days = 3


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    subject = factory.Sequence(lambda n: f"Task {n}")
