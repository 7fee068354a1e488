"""Open identity conflicts are listed in *Awaiting a person* (integrations.decisions), with what they block."""

import pytest
from django.contrib.contenttypes.models import ContentType

from ams.models import IdentityConflict
from individuals.models import Individual
from integrations.decisions import decisions_for

pytestmark = pytest.mark.django_db


def test_an_open_identity_conflict_awaits_a_person_until_it_is_decided(agency_admin, make_user):
    # given: two records for one AMS customer
    kept = Individual.objects.create(first_name="Hedy", last_name="Lamarr")
    other = Individual.objects.create(first_name="Hedy", last_name="Lamarr")
    conflict = IdentityConflict.objects.create(
        kind=IdentityConflict.Kind.FAR_SIDE_DUPLICATE,
        object_type="customer",
        external_id="C-1",
        content_type=ContentType.objects.get_for_model(Individual),
        object_id=kept.pk,
        other_object_id=other.pk,
        description="The AMS merged customer C-2 into C-1.",
    )

    # then: it is listed for whoever may see identity conflicts, with what it blocks and where to decide
    [decision] = [d for d in decisions_for(agency_admin) if d.kind == "Identity conflict"]
    assert decision.blocks.startswith("Hedy Lamarr is not kept in step with the agency management system")
    assert decision.url == f"/admin/ams/identityconflict/{conflict.pk}/change/"
    assert decision.opened_at == conflict.created_at and "C-1" in decision.title
    assert not [d for d in decisions_for(make_user()) if d.kind == "Identity conflict"]

    # when: a person decides it, it leaves the list
    IdentityConflict.objects.filter(pk=conflict.pk).update(status=IdentityConflict.Status.SEPARATED)
    assert not [d for d in decisions_for(agency_admin) if d.kind == "Identity conflict"]


def test_the_demo_links_name_the_customers_the_sandbox_seeds():
    """The demo GUIDs are a contract between the back office's demo and the sandbox's seed (neither imports the other)."""
    from ams import demo
    from sandbox import ams_demo

    assert demo.DEMO_GROUPS == ams_demo.DEMO_GROUPS and demo.DEMO_PEOPLE == ams_demo.DEMO_PEOPLE
    assert [demo.group_customer_id(g) for g in demo.DEMO_GROUPS] == [ams_demo.group_customer_id(g) for g in ams_demo.DEMO_GROUPS]
    assert [demo.person_customer_id(n) for n in range(1, 21)] == [ams_demo.person_customer_id(n) for n in range(1, 21)]
