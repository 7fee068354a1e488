"""Pull, link and compare over HTTP with the sandbox; each resolution; auto-close."""

import pytest
from django.utils import timezone

from carriers.models import CarrierMember, Discrepancy
from carriers.services import compare, connection_poll, connection_pull, connection_request, discrepancies_compare
from hrsync.models import Employee
from hrsync.services import employee_update

from .factories import connected_group, roster

pytestmark = pytest.mark.django_db


def _completed(noyo, actor, *, members=40, share=0.25, script=None):
    group, carrier = connected_group(members=members)
    seeded = noyo.seed(**roster(group, carrier, "CG-1", share=share, seed=5, script=script))
    connection = connection_request(actor=actor, employer_group=group, carrier=carrier, carrier_group_id="CG-1")
    while connection.status != "completed":
        connection = connection_poll(connection_id=connection.pk, force=True)
    return connection, seeded["planted"]


def _key(planted, connection) -> tuple:
    """A planted difference as the comparison names it (field, subject)."""
    if "custom_individual_id" in planted:
        employee = Employee.objects.get(uuid=planted["custom_individual_id"])
        if planted.get("kind") == "missing_at_carrier":
            return "member", f"employee:{employee.pk}"
        member = CarrierMember.objects.get(connection=connection, employee=employee)
        return planted["field"], f"member:{member.noyo_id}"
    if "noyo_id" in planted:
        return "member", f"member:{planted['noyo_id']}"
    member = connection.carrier_plans.get(custom_plan_id=planted["custom_plan_id"])
    return planted["field"], f"carrier_plan:{member.noyo_id}"


def test_completion_pulls_links_by_id_and_finds_every_planted_difference(noyo, agency_admin, django_capture_on_commit_callbacks):
    # given a completed connection (its pull queued on commit and run eagerly)
    with django_capture_on_commit_callbacks(execute=True):
        connection, planted = _completed(noyo, agency_admin)
    connection.refresh_from_db()
    assert connection.last_pulled_at is not None
    # then members are linked by custom_individual_id only, and the plan by its id
    members = CarrierMember.objects.filter(connection=connection)
    assert members.filter(employee__isnull=False).count() == 40 - 2  # two are missing at the carrier
    assert members.filter(employee__isnull=True).count() == 2  # the carrier's own, no id of ours
    assert connection.carrier_plans.get().plan_id is not None
    # and every planted difference is found, none invented
    found = set(Discrepancy.objects.filter(connection=connection).values_list("field", "subject_key"))
    assert found == {_key(p, connection) for p in planted}
    # with both values, coverage-affecting first
    tier = Discrepancy.objects.filter(connection=connection, field="coverage_tier").first()
    assert {tier.carrier_value, tier.our_value} == {"Standard", "Premium"}
    severities = list(Discrepancy.objects.filter(connection=connection).values_list("severity", flat=True))
    assert severities == sorted(severities) and severities[0] == Discrepancy.Severity.COVERAGE
    # merged with the service's own (tier and termination it reports too): same rows, its id attached
    reported = Discrepancy.objects.filter(connection=connection).exclude(noyo_discrepancy_id="")
    assert set(reported.values_list("field", flat=True)) == {"coverage_tier", "termination_date", "member"}
    assert reported.count() == sum(1 for p in planted if p["field"] in ("coverage_tier", "termination_date") or p.get("kind") == "missing_here")


def test_comparison_is_set_based(noyo, agency_admin, django_assert_max_num_queries):
    connection, _ = _completed(noyo, agency_admin, members=60)
    connection_pull(connection_id=connection.pk)
    # four reads (the carrier's members, our unmatched employees, the carrier's plans, our unmatched plans), one
    # upsert, two settling updates: never a query per member
    with django_assert_max_num_queries(10):
        discrepancies_compare(connection=connection)


def test_a_difference_seen_again_reopens_and_one_gone_closes(noyo, agency_admin):
    connection, _ = _completed(noyo, agency_admin)
    connection_pull(connection_id=connection.pk)
    taken, gone = Discrepancy.objects.filter(connection=connection)[:2]
    Discrepancy.objects.filter(pk=taken.pk).update(status=Discrepancy.Status.TOOK_CARRIER, resolved_at=timezone.now())
    Discrepancy.objects.filter(pk=gone.pk).update(subject_key="member:no-longer-there")

    discrepancies_compare(connection=connection)

    taken.refresh_from_db()
    gone.refresh_from_db()
    assert (taken.status, taken.resolved_at) == (Discrepancy.Status.OPEN, None)
    assert gone.status == Discrepancy.Status.CLOSED and gone.resolved_at is not None
    assert gone.get_status_display() == "Closed: values agree"


def test_pull_on_demand_over_the_api_and_a_later_agreeing_pull_closes(api, noyo, agency_admin):
    connection, planted = _completed(noyo, agency_admin)
    assert api.post(f"/api/carrier-connections/{connection.pk}/pull/").status_code == 200
    email = Discrepancy.objects.filter(connection=connection, field="email").first()
    # we take the carrier's address ourselves, outside the queue
    employee_update(actor=agency_admin, employee=email.employee, data={"email": email.carrier_value})

    reply = api.post(f"/api/carrier-connections/{connection.pk}/pull/")

    assert reply.status_code == 200
    email.refresh_from_db()
    assert email.status == Discrepancy.Status.CLOSED
    assert email.get_status_display() == "Closed: values agree"


def test_take_the_carriers_value_goes_through_hrsync(api, noyo, agency_admin):
    connection, _ = _completed(noyo, agency_admin)
    connection_pull(connection_id=connection.pk)
    tier = Discrepancy.objects.filter(connection=connection, field="coverage_tier").first()
    hire = Discrepancy.objects.filter(connection=connection, field="effective_date").first()

    for d in (tier, hire):
        reply = api.post(f"/api/discrepancies/{d.pk}/resolve/", {"resolution": "take_carrier"}, format="json")
        assert reply.status_code == 200, reply.data
        assert reply.data["status_display"] == "Take the carrier's value".replace("Take", "Took")

    tier.employee.refresh_from_db()
    hire.employee.refresh_from_db()
    assert tier.employee.benefits_level.name == tier.carrier_value
    assert hire.employee.hire_date.isoformat() == hire.carrier_value
    assert tier.employee.change_version > 0  # a change the benefits sync sees
    # and the next pull agrees: nothing reopens
    connection_pull(connection_id=connection.pk)
    tier.refresh_from_db()
    assert tier.status == Discrepancy.Status.TOOK_CARRIER


def test_keep_ours_and_acknowledge_on_the_service(api, noyo, agency_admin):
    connection, _ = _completed(noyo, agency_admin)
    connection_pull(connection_id=connection.pk)
    reported = Discrepancy.objects.filter(connection=connection, field="termination_date").exclude(noyo_discrepancy_id="").first()
    email = Discrepancy.objects.filter(connection=connection, field="email").first()

    ack = api.post(f"/api/discrepancies/{reported.pk}/resolve/", {"resolution": "acknowledge"}, format="json")
    keep = api.post(f"/api/discrepancies/{email.pk}/resolve/", {"resolution": "keep_ours"}, format="json")

    assert ack.data["status"] == "acknowledged" and ack.data["noyo_status"] == "processing"  # acked on the service
    assert keep.data["status_display"] == "Kept ours (flagged for the carrier)"
    email.employee.refresh_from_db()
    assert email.employee.email == email.our_value  # ours untouched
    # still different at the next pull: they stay as resolved
    connection_pull(connection_id=connection.pk)
    assert Discrepancy.objects.get(pk=email.pk).status == Discrepancy.Status.KEPT_OURS


def test_bulk_resolve_resolves_each_and_explains_refusals(api, noyo, agency_admin):
    connection, _ = _completed(noyo, agency_admin)
    connection_pull(connection_id=connection.pk)
    selection = {"connection": connection.pk, "severity": [1], "status": ["open"]}
    coverage = Discrepancy.objects.filter(connection=connection, severity=1, status="open")
    missing = coverage.filter(kind__in=["missing_at_carrier", "missing_here"]).count()
    total = coverage.count()

    reply = api.post("/api/discrepancies/resolve/", {"resolution": "take_carrier", "filters": selection}, format="json")

    assert reply.status_code == 200, reply.data
    assert reply.data["resolved"] == total - missing
    assert reply.data["refused"] == missing  # a missing member can't be copied over: a reason for each
    assert all("missing" in reason for reason in reply.data["errors"].values())


def test_a_person_links_a_carrier_member_and_its_discrepancy_closes(api, noyo, agency_admin):
    connection, _ = _completed(noyo, agency_admin)
    connection_pull(connection_id=connection.pk)
    stranger = Discrepancy.objects.filter(connection=connection, kind="missing_here", field="member").first()
    noyo_id = stranger.subject_key.split(":", 1)[1]
    ours = CarrierMember.objects.filter(connection=connection, employee__isnull=False).first().employee
    # ours is linked already: refused
    refused = api.post(f"/api/carrier-connections/{connection.pk}/members/{noyo_id}/link/", {"employee": ours.pk}, format="json")
    assert refused.status_code == 400
    new = Employee.objects.create(employer_group=connection.employer_group, first_name="Kim", last_name="New", email="kim.new@example.com")

    reply = api.post(f"/api/carrier-connections/{connection.pk}/members/{noyo_id}/link/", {"employee": new.pk}, format="json")

    assert reply.status_code == 200, reply.data
    stranger.refresh_from_db()
    assert stranger.status == Discrepancy.Status.CLOSED
    # the link holds on the next pull (confirmed by a person, not by name)
    connection_pull(connection_id=connection.pk)
    assert CarrierMember.objects.get(connection=connection, noyo_id=noyo_id).employee_id == new.pk


def test_discrepancy_filters(api, noyo, agency_admin):
    connection, _ = _completed(noyo, agency_admin)
    connection_pull(connection_id=connection.pk)
    contact = api.get("/api/discrepancies/", {"severity": 3, "carrier": connection.carrier_id, "employer_group": connection.employer_group_id}).data[
        "results"
    ]
    assert contact and {d["field"] for d in contact} == {"email"}
    assert api.get("/api/discrepancies/", {"severity": 9}).status_code == 400


def test_a_large_group_is_read_and_written_in_chunks_and_finds_the_same(noyo, agency_admin, monkeypatch):
    connection, _ = _completed(noyo, agency_admin)
    connection_pull(connection_id=connection.pk)
    mine = Discrepancy.objects.filter(connection=connection)

    def found() -> set:
        mine.delete()
        discrepancies_compare(connection=connection)
        return set(mine.values_list("kind", "field", "subject_key", "subject", "carrier_value", "our_value", "status"))

    whole = found()
    monkeypatch.setattr(compare, "CHUNK", 3)
    monkeypatch.setattr(compare, "BATCH", 4)
    assert len(whole) > 8 and found() == whole
