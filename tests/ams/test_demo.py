"""The demo data is coherent with the sandbox's AMS: the customers the demo links hold what the linked
records hold, so *Reconcile now* on a fresh demo changes nothing here."""

import io

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

from accounts.models import AuditLog
from ams import demo
from ams.models import Reconciliation
from ams.services import reconciliation_request
from individuals.models import Individual, Policy
from integrations.models import ExternalId
from plans import demo as plans_demo
from plans.models import EmployerGroup, EmployerGroupContact
from sandbox import ams_demo

from .helpers import differences


def test_the_demo_and_the_sandbox_hold_the_same_customers():
    """Two copies of one contract (the apps never import the sandbox): ids and data alike."""
    assert demo.GROUPS == ams_demo.GROUPS and demo.PEOPLE == ams_demo.PEOPLE
    # ... and the groups are plans' demo groups of those numbers, by name
    assert {number: name for number, (name, *_) in demo.GROUPS.items()} == {f"EG-{1000 + n}": plans_demo.group_name(n) for n in range(1, 11)}
    for number in demo.DEMO_GROUPS:
        assert demo.group_fields(number) == ams_demo.group_fields(number)
        assert demo.group_contacts(number) == ams_demo.group_contacts(number)
    for n in range(1, demo.DEMO_PEOPLE + 1):
        assert demo.person_fields(n) == ams_demo.person_fields(n)
        assert demo.person_policies(n) == ams_demo.person_policies(n)


def _local() -> dict:
    """Every field of every record the demo made that a reconciliation could change."""

    def rows(model):
        return {obj.pk: model_to_dict(obj) | {"updated_at": getattr(obj, "updated_at", None)} for obj in model.objects.all()}

    return {model.__name__: rows(model) for model in (Individual, Policy, EmployerGroup, EmployerGroupContact)}


@pytest.mark.django_db
def test_reconcile_now_on_the_demo_changes_nothing_here(ams_sandbox, django_capture_on_commit_callbacks, settings, tmp_path):
    # given: a fresh demo (bin/run's seed_demo), and the AMS's book holding every demo customer (the ten
    # groups are among its first 50 customers)
    settings.VAR_DIR = tmp_path  # where the demo writes its logins
    ams_sandbox.reset(60)
    call_command("seed_demo", stdout=io.StringIO())
    assert EmployerGroup.objects.get(account_number="EG-1002").name == "Pioneer Dental Group"
    anthony = ExternalId.objects.get(system="ams", object_type="customer", external_id=demo.person_customer_id(1)).record
    assert (str(anthony), anthony.address_line1) == ("Anthony Anderson", "412 Elm St")
    linked = ExternalId.objects.filter(system="ams", object_type="customer").count()
    assert linked == len(demo.DEMO_GROUPS) + demo.DEMO_PEOPLE
    before, last_audit = _local(), AuditLog.objects.order_by("-pk").values_list("pk", flat=True).first()
    # when: Reconcile now
    with django_capture_on_commit_callbacks(execute=True):
        run = reconciliation_request(actor=None)
    run.refresh_from_db()
    # then: the other customers came in beside them; not one demo record, policy or contact changed
    assert run.status == Reconciliation.Status.SUCCEEDED, run.reason
    assert (run.updated, run.failed, run.retired, run.created) == (0, 0, 0, 60 - linked)
    after = _local()
    for kind, rows in before.items():
        assert {pk: after[kind].get(pk) for pk in rows} == rows, kind
    changed = AuditLog.objects.filter(pk__gt=last_audit, action__in=[AuditLog.Action.UPDATE, AuditLog.Action.DELETE])
    assert not changed.exists()
    anthony.refresh_from_db()
    assert str(anthony) == "Anthony Anderson" and anthony.policies.count() == 2  # the renamed client
    assert differences() == []
