"""An agency's first reconciliation brings each chunk in set-based: the same records, links, audit rows,
history, CRM pushes and identity conflicts as one customer at a time, in a number of queries per chunk
that does not grow with the chunk."""

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.contenttypes.models import ContentType

from accounts.models import AuditLog
from ams import mapping
from ams.models import IdentityConflict, Reconciliation, SyncAttempt
from ams.services import reconcile as reconcile_module
from ams.services import reconciliation_request
from ams.services.reconcile import _apply_chunk, _fetch_chunk
from ams.services.sync import carriers
from core.jobs import job_claim
from individuals.models import Individual, Policy
from integrations.clients.ams360 import ams360_client
from integrations.models import ExternalId
from integrations.registry import external_id_link
from plans.models import EmployerGroup
from plans.services import employer_group_create

from .helpers import ams_customers


def _labels() -> dict:
    """A name for every linked record that does not depend on primary keys: the AMS id it holds."""
    labels = {}
    for row in ExternalId.objects.filter(system="ams").order_by("status"):  # an active link names its record first
        labels.setdefault((row.content_type_id, row.object_id), f"{row.object_type}:{row.external_id}")
    return labels


def _state(after: dict) -> dict:
    """What a person (or the CRM worker) would see of a load, keyed by AMS ids, from the rows made after ``after``."""
    labels = _labels()
    ct = {m: ContentType.objects.get_for_model(m).pk for m in (Individual, EmployerGroup, Policy)}

    def label(content_type_id, object_id):
        return labels.get((content_type_id, object_id), f"unlinked:{content_type_id}")

    people = {
        label(ct[Individual], i.pk): (
            [getattr(i, f) for f in mapping.INDIVIDUAL_FIELDS],
            sorted((p.policy_number, p.coverage_type, p.status, str(p.premium), label(ct[Policy], p.pk)) for p in i.policies.all()),
        )
        for i in Individual.objects.all()
    }
    groups = {
        label(ct[EmployerGroup], g.pk): (
            [g.name, g.dba, g.federal_ein, g.status, g.account_number],
            [(c.name, c.title, c.email, c.phone, c.is_primary) for c in g.contacts.order_by("pk")],
        )
        for g in EmployerGroup.objects.all()
    }
    links = sorted(
        (r.object_type, r.external_id, r.status, r.last_sync_outcome, r.last_sync_reason, r.fingerprint, label(r.content_type_id, r.object_id))
        for r in ExternalId.objects.filter(system="ams")
    )
    audits = Counter(
        (a.action, a.content_type.model if a.content_type else "", a.object_repr, a.summary, json.dumps(a.data, sort_keys=True), a.actor_repr)
        for a in AuditLog.objects.filter(pk__gt=after["audit"]).exclude(content_type__model="reconciliation").select_related("content_type")
    )
    history = Counter(
        (a.direction, a.operation, a.status, a.outcome, a.reason, json.dumps(a.changes), a.record_repr, a.external_id)
        for a in SyncAttempt.objects.filter(pk__gt=after["history"], direction="from_ams")
    )
    # CRM pushes: our reference names a primary key; the record's name and what became of the push do not
    history += Counter(
        (a.direction, a.operation, a.status, a.outcome, a.reason, json.dumps(a.changes), a.record_repr, "")
        for a in SyncAttempt.objects.filter(pk__gt=after["history"], direction="to_crm")
    )
    conflicts = sorted(
        (c.kind, c.object_type, c.external_id, c.description, c.status, label(c.content_type_id, c.object_id), str(c.records()[1]))
        for c in IdentityConflict.objects.all()
    )
    return {"people": people, "groups": groups, "links": links, "audit": audits, "history": history, "conflicts": conflicts}


def _wipe() -> None:
    ExternalId.objects.filter(system__in=["ams", "crm"]).delete()
    Individual.objects.all().delete()
    EmployerGroup.objects.all().delete()
    IdentityConflict.objects.all().delete()
    Reconciliation.objects.all().delete()


def _load(capture, *, ams_sandbox, merged: tuple[str, str], taken_number: int) -> tuple[dict, tuple]:
    """A book with what a first load meets besides new customers: a record a person linked to a customer
    the AMS has since merged (an identity conflict), an account number a group holds here (a failure)."""
    after = {"audit": AuditLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0}
    after["history"] = SyncAttempt.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    survivor, retired = merged
    mine = Individual.objects.create(first_name="Lena", last_name="Localcopy")
    external_id_link(obj=mine, system="ams", object_type="customer", external_id=retired)
    employer_group_create(actor=None, name="Already Here Co", account_number=f"AMS-{taken_number}")
    with capture(execute=True):
        run = reconciliation_request(actor=None)
    run.refresh_from_db()
    assert run.status == Reconciliation.Status.SUCCEEDED, run.reason
    return _state(after), (run.customers_seen, run.created, run.updated, run.failed, run.retired)


@pytest.mark.django_db
def test_the_set_based_load_writes_what_one_at_a_time_wrote(ams_sandbox, django_capture_on_commit_callbacks, monkeypatch):
    # given: a book with a customer whose policy has no mapping, and one merged into another
    odd = ams_sandbox.insert(FirstName="Una", LastName="Mapped", State="TX", ZipCode="78701")
    ams_sandbox.insert_policy(CustomerId=odd, PolicyNumber="BOAT-1", PolicyType="BOAT", PolicyStatus="Active", WritingCompanyCode="humana")
    customers = ams_customers()
    people = [c["CustomerId"] for c in customers if not mapping.is_commercial(c)]
    commercial = next(c for c in customers if mapping.is_commercial(c))
    ams_sandbox.merge(people[0], people[1])
    setup = {"ams_sandbox": ams_sandbox, "merged": (people[0], people[1]), "taken_number": commercial["CustomerNumber"]}
    # when: loaded one customer at a time (as before), then, from scratch, set-based
    with monkeypatch.context() as m:
        m.setattr(reconcile_module, "customers_create_many", lambda *, customers, **kw: ([], list(range(len(customers)))))
        one_at_a_time, counts_before = _load(django_capture_on_commit_callbacks, **setup)
    _wipe()
    set_based, counts = _load(django_capture_on_commit_callbacks, **setup)
    # then: the same records, links, audit rows, history, CRM pushes and conflicts
    assert counts == counts_before and counts[1] == len(customers) - 2  # the merged one and the taken number
    for part in ("people", "groups", "links", "audit", "history", "conflicts"):
        assert set_based[part] == one_at_a_time[part], part
    assert len(set_based["conflicts"]) == 1 and set_based["conflicts"][0][0] == IdentityConflict.Kind.FAR_SIDE_DUPLICATE
    failed = [h for h in set_based["history"] if h[2] == "failed"]
    assert {h[-1] for h in failed} == {odd, commercial["CustomerId"]}
    assert any("BOAT" in h[4] for h in failed) and any("already exists" in h[4] for h in failed)
    pushed = sum(n for h, n in set_based["history"].items() if h[0] == "to_crm")
    assert pushed == len(customers) - 2  # every record brought in (the one with a failed policy too), once


QUERIES_PER_CHUNK = 31  # savepoints included: the individuals and their policies go through core.audit.records_save_many


@pytest.mark.django_db
def test_a_chunk_of_new_customers_costs_the_same_few_queries_whatever_its_size(ams_sandbox, django_assert_num_queries):
    customers = sorted(ams_customers(), key=lambda c: c["CustomerNumber"])
    client, carrier_map = ams360_client(), carriers()
    run = Reconciliation.objects.create()
    run = job_claim(Reconciliation, run.pk, lease_seconds=60)
    with ThreadPoolExecutor(max_workers=4) as pool:
        chunks = [_fetch_chunk(client, customers[a:b], pool) for a, b in ((0, 5), (5, 15), (15, 40))]
        for chunk in chunks:
            [f.result() for f in chunk[1]]  # every call made before any write
    _apply_chunk(run, chunks[0], carrier_map)  # warms the content-type cache
    for chunk in chunks[1:]:
        kinds = {mapping.is_commercial(c) for c in chunk[0]}
        assert kinds == {True, False}  # people with policies and groups with contacts in each
        with django_assert_num_queries(QUERIES_PER_CHUNK):
            _apply_chunk(run, chunk, carrier_map)
    run.refresh_from_db()
    assert run.created == 40 == ExternalId.objects.filter(system="ams", object_type="customer").count()
    assert SyncAttempt.objects.filter(direction="to_crm").count() == 40
