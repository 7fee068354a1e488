import pytest
from django.core.exceptions import ValidationError

from integrations.models import ExternalId
from integrations.registry import external_id_link, external_id_lookup, external_ids_for
from tests.plans.factories import EmployerGroupFactory, PlanFactory

pytestmark = pytest.mark.django_db


def test_link_lookup_and_list_per_system():
    group = EmployerGroupFactory()
    external_id_link(obj=group, system="ams", object_type="account", external_id="AMS-1")
    external_id_link(obj=group, system="benefits_admin", object_type="account", external_id="BP-77")

    assert external_id_lookup(system="ams", object_type="account", external_id="AMS-1") == group
    assert external_id_lookup(system="ams", object_type="account", external_id="AMS-2") is None
    assert {s: r.external_id for s, r in external_ids_for(group).items()} == {"ams": "AMS-1", "benefits_admin": "BP-77"}


def test_linking_again_is_idempotent():
    group = EmployerGroupFactory()
    first = external_id_link(obj=group, system="ams", object_type="account", external_id="AMS-1")
    assert external_id_link(obj=group, system="ams", object_type="account", external_id="AMS-1") == first
    assert ExternalId.objects.count() == 1


def test_an_external_id_names_one_local_record():
    group, other = EmployerGroupFactory(), EmployerGroupFactory()
    external_id_link(obj=group, system="ams", object_type="account", external_id="AMS-1")
    with pytest.raises(ValidationError) as exc:
        external_id_link(obj=other, system="ams", object_type="account", external_id="AMS-1")
    assert "already linked to another record" in str(exc.value)
    # the same id in another system, or for another object type, is a different external record
    external_id_link(obj=other, system="benefits_admin", object_type="account", external_id="AMS-1")
    plan = PlanFactory()
    external_id_link(obj=plan, system="ams", object_type="policy", external_id="AMS-1")
    assert ExternalId.objects.count() == 3


def test_a_local_record_has_one_id_per_system():
    group = EmployerGroupFactory()
    external_id_link(obj=group, system="ams", object_type="account", external_id="AMS-1")
    with pytest.raises(ValidationError):
        external_id_link(obj=group, system="ams", object_type="account", external_id="AMS-2")
    assert ExternalId.objects.count() == 1


def test_the_database_enforces_both_uniques():
    from django.contrib.contenttypes.models import ContentType
    from django.db import IntegrityError, transaction

    group, other = EmployerGroupFactory(), EmployerGroupFactory()
    ct = ContentType.objects.get_for_model(group)
    ExternalId.objects.create(system="ams", object_type="account", external_id="X", content_type=ct, object_id=group.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalId.objects.create(system="ams", object_type="account", external_id="X", content_type=ct, object_id=other.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalId.objects.create(system="ams", object_type="account", external_id="Y", content_type=ct, object_id=group.pk)


def test_deleting_a_record_removes_its_external_ids():
    group = EmployerGroupFactory()
    external_id_link(obj=group, system="ams", object_type="account", external_id="AMS-1")
    group.delete()
    assert not ExternalId.objects.exists()
    assert external_id_lookup(system="ams", object_type="account", external_id="AMS-1") is None


def test_one_active_id_per_system_and_kind_and_retired_ids_stay_taken():
    from django.contrib.contenttypes.models import ContentType
    from django.db import IntegrityError, transaction

    from integrations.registry import external_id_find, external_id_retire

    group, other = EmployerGroupFactory(), EmployerGroupFactory()
    customer = external_id_link(obj=group, system="ams", object_type="customer", external_id="C-1")
    # another kind in the same system is fine
    external_id_link(obj=group, system="ams", object_type="account", external_id="A-1")
    ct = ContentType.objects.get_for_model(group)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalId.objects.create(system="ams", object_type="customer", external_id="C-2", content_type=ct, object_id=group.pk)
    # C-1 merged into C-9 (held by ``other``): retired, pointing at the survivor's record
    survivor = external_id_link(obj=other, system="ams", object_type="customer", external_id="C-9")
    external_id_retire(row=customer, survivor=survivor)
    retired = external_id_find(system="ams", object_type="customer", external_id="C-1")
    assert (retired.status, retired.superseded_by, retired.object_id) == ("retired", survivor, other.pk)
    assert external_id_lookup(system="ams", object_type="customer", external_id="C-1") is None
    with pytest.raises(ValidationError, match="retired"):
        external_id_link(obj=group, system="ams", object_type="customer", external_id="C-1")
    # the retired id no longer blocks ``group`` from holding a new active customer id
    external_id_link(obj=group, system="ams", object_type="customer", external_id="C-3")
    with pytest.raises(IntegrityError), transaction.atomic():  # an active id can't point at a survivor
        ExternalId.objects.create(
            system="ams", object_type="customer", external_id="C-4", content_type=ct, object_id=EmployerGroupFactory().pk, superseded_by=survivor
        )
