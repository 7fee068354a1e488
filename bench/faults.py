"""Every sync under faults: ``python -m bench faults [--size N]``.

Each sync runs its work against a fresh sandbox with 20% of the far side's answers failing, and one
worker killed mid-way between the write there and the record here (a one-shot ``BaseException``, as
the apps' fault tests play it). Then the clock moves past every lease and retry time and the beat's
sweep (``core.jobs.jobs_sweep``, through each app's sweep) finishes what is left, its messages run
eagerly in this process, until nothing is in progress. Then it counts, reading the far side over HTTP:

- duplicates: things created twice there (accounts, products, connections);
- lost updates: the last change not where it should be (there, or here), or an entity not settled.

Goal for both: 0. N (default 20) sets the work per sync:

- hrsync: N employees synced (the kill during the first sync), then each edited while the killed one
  waits; faults: the benefits platform's ``error_rate`` 0.2 (half of the 500s after the write: a lost answer).
- plansync: one linked group of N plans; N/2 edited here, N/2 edited there, N/4 new plans created
  there; faults: the benefits-admin system's ``error_rate`` 0.2 (writes: half after the write); the kill
  as the plan's record is written; the sweep, then hourly passes (the safety net) until no work is left.
- carriers: N/2 (at least 2) groups of 4 employees, each connection requested, polled to completed and
  its data pulled; faults: 10% 500s (before the service's write) and 10% of the creates' answers lost
  after the write; the kill as an attempt is recorded.

A thing that ends Failed with its reason (a refusal, a retry window closed) is shown to people, not
lost: the note counts them. Needs no Redis (the tasks run eagerly); PostgreSQL as every bench.
"""

import contextlib
import logging
import os
import random
import tempfile
import uuid
from collections import Counter
from datetime import date, timedelta

import requests

from bench.report import figure

DEFAULT = 20
FAULT_RATE = 0.2
ROUNDS = 30  # sweeps (tries) at most per sync
PASSES = 3  # plansync's hourly passes at most after the edits' own runs


class WorkerKilled(BaseException):
    """The worker process ends here (a kill): nothing after it runs, not even ``except Exception``."""


@contextlib.contextmanager
def _killed_once(module, name: str, *, at: int):
    """``module.name`` raises ``WorkerKilled`` on its ``at``-th call (1-based), once; yields a list that
    holds True once it fired."""
    original, calls, fired = getattr(module, name), [0], []

    def maybe_die(*args, **kwargs):
        calls[0] += 1
        if calls[0] == at and not fired:
            fired.append(True)
            raise WorkerKilled
        return original(*args, **kwargs)

    setattr(module, name, maybe_die)
    try:
        yield fired
    finally:
        setattr(module, name, original)


def _survive(fn, *args, **kwargs):
    """Call ``fn``; a killed worker's call returns None (the row it held is left to the sweep)."""
    try:
        return fn(*args, **kwargs)
    except WorkerKilled:
        return None


def _sweep_until_settled(model, sweep, rows=None) -> int:
    """The clock passes every lease and retry time, the beat's sweep runs (its messages eagerly): until no
    row of ``rows`` (default: every row of ``model``) is in progress, at most ``ROUNDS`` times (more tries
    than the retry policy's half-hour window gives: what is still in progress then is counted as not
    settled). Returns the sweeps it took."""
    from django.utils import timezone

    from core.jobs import ACTIVE, Status

    rows = model.objects.all() if rows is None else rows
    for n in range(ROUNDS):
        active = rows.filter(status__in=ACTIVE)
        if not active.exists():
            return n
        past = timezone.now() - timedelta(seconds=1)
        active.filter(status=Status.RETRYING).update(next_try_at=past)
        model.objects.filter(pk__in=active.values("pk")).update(lease_until=past)
        _survive(sweep)
    return ROUNDS


def _forget_earlier(*models) -> None:
    """Work an earlier run of this bench left in progress (its sandbox is gone) ends here, so that this
    run's sweeps don't send it to this run's sandbox."""
    from core.jobs import ACTIVE, Status

    for model in models:
        model.objects.filter(status__in=ACTIVE).update(status=Status.FAILED, reason="Left by an earlier bench run.")


# --- hrsync --------------------------------------------------------------------------------------------
def _hrsync(url: str, size: int) -> tuple[int, int, int, str]:
    from bench.hrsync import _seed
    from hrsync.models import Employee, SyncAttempt
    from hrsync.services import employee_sync_request, employee_update, sync_attempts_sweep
    from integrations import attempts

    _forget_earlier(SyncAttempt)
    http = requests.Session()
    tag = f"flt{uuid.uuid4().hex[:6]}"
    ids = list(_seed(size, tag).values_list("pk", flat=True))
    http.put(f"{url}/_sandbox/knobs", json={"error_rate": FAULT_RATE}, timeout=5).raise_for_status()
    with _killed_once(attempts, "attempt_record", at=max(1, size // 2)) as killed:
        for pk in ids:  # one message per employee (a kill loses the rest of a batch's messages, not the work)
            _survive(employee_sync_request, actor=None, employees=[pk])
        for employee in Employee.objects.filter(pk__in=ids):  # edited while some wait for a try
            _survive(employee_update, actor=None, employee=employee, data={"last_name": f"{tag}-edited"})
        sweeps = _sweep_until_settled(SyncAttempt, sync_attempts_sweep, SyncAttempt.objects.filter(employee_id__in=ids))
    http.put(f"{url}/_sandbox/knobs", json={"error_rate": 0}, timeout=5).raise_for_status()

    duplicates = lost = failed = found = 0
    for employee in Employee.objects.filter(pk__in=ids):
        there = http.get(f"{url}/_sandbox/accounts", params={"email": employee.email}, timeout=5).json()["results"]
        duplicates, found = duplicates + max(0, len(there) - 1), found + len(there)
        if employee.sync_state == Employee.SyncState.FAILED:
            failed += 1
            continue
        if (
            employee.sync_state != Employee.SyncState.SUCCESSFUL
            or employee.synced_version != employee.change_version
            or not there
            or any(a["last_name"] != employee.last_name for a in there)
            or employee.benefits_account_id not in {a["id"] for a in there}
        ):
            lost += 1
    return duplicates, lost, size, f"{found} accounts there; {failed} failed; kill fired: {bool(killed)}; {sweeps} sweeps"


# --- plansync ------------------------------------------------------------------------------------------
def _plansync(url: str, size: int) -> tuple[int, int, int, str]:
    from django.conf import settings

    from bench.plan_sync import _clean
    from plans.services import plan_update
    from plansync.models import PlanChoice, PlanSyncRun
    from plansync.services import Row, account_import, plan_choices_save, plan_sync_pass, plan_sync_sweep
    from plansync.services import runs as per_run
    from plansync.services import sync as per_plan
    from plansync.services.runs import links_with_work
    from tests.plansync.factories import SyncedPlanFactory

    settings.BENEFITS_ADMIN_URL = ""  # the sandbox's
    control = requests.Session()
    base = f"{url}/benefitpoint/_control"
    _clean()
    (account_id,) = control.post(f"{base}/bench-seed", json={"accounts": 1, "plans": size}, timeout=120).json()["accountIDs"]
    link = account_import(actor=None, account_id=account_id)
    products = control.get(f"{base}/products", params={"accountID": account_id}, timeout=10).json()["results"]
    plan_choices_save(actor=None, link=link, rows=[Row(choice="create_there", product_id=p["productID"]) for p in products])
    plan_sync_pass(link_ids=[link.pk])
    linked = list(PlanChoice.objects.filter(link=link).select_related("plan").order_by("pk"))
    if any(c.state != PlanChoice.State.SYNCED for c in linked):
        raise RuntimeError("plansync: the set-up did not link every plan")

    # Changes on both sides, and new plans to create there, all while 20% of the SOAP calls fail. A local
    # edit queues its group's sync on commit (run at once here); the passes then do the rest.
    tag = uuid.uuid4().hex[:6]
    picked = random.Random(size).sample(linked, len(linked))
    near, far = picked[: len(picked) // 2], picked[len(picked) // 2 :]
    runs = PlanSyncRun.objects.filter(link=link)
    passes = sweeps = 0
    # A pass whose read of the changes there failed leaves them to the next hourly pass (the watermark
    # stays): passes go on until one read them and no work is left here.
    intake, read = per_run.changes_intake, []

    def intake_watched(client):
        read.append(False)
        done = intake(client)
        read[-1] = True
        return done

    control.put(f"{base}/knobs", json={"error_rate": FAULT_RATE}, timeout=5).raise_for_status()
    per_run.changes_intake = intake_watched
    try:
        with _killed_once(per_plan, "_settle", at=max(1, size // 2)) as killed:
            for choice in far:
                control.patch(f"{base}/products/{choice.product_id}", json={"policyNumber": f"FAR-{tag}-{choice.pk}"}, timeout=5).raise_for_status()
            for choice in near:
                _survive(plan_update, actor=None, plan=choice.plan, data={"name": f"Near {tag} {choice.pk}"})
            new = [SyncedPlanFactory(group=link.group, carrier=linked[0].plan.carrier, name=f"New {tag} {n}") for n in range(max(1, size // 4))]
            _survive(plan_choices_save, actor=None, link=link, rows=[Row(plan=plan, choice="create_there") for plan in new])
            sweeps += _sweep_until_settled(PlanSyncRun, plan_sync_sweep, runs)
            while passes < PASSES and (not read or not read[-1] or link.pk in links_with_work()):
                _survive(plan_sync_pass, trigger="manual", link_ids=[link.pk])
                sweeps += _sweep_until_settled(PlanSyncRun, plan_sync_sweep, runs)
                passes += 1
    finally:
        per_run.changes_intake = intake
    control.put(f"{base}/knobs", json={"error_rate": 0}, timeout=5).raise_for_status()

    there = control.get(f"{base}/products", params={"accountID": account_id}, timeout=10).json()["results"]
    by_id = {p["productID"]: p for p in there}
    markers = Counter((p.get("planInfo") or {}).get("alternativePlanID") for p in there)
    markers.pop(None, None)
    duplicates = sum(n - 1 for n in markers.values() if n > 1)
    choices = {c.plan_id: c for c in PlanChoice.objects.filter(link=link).select_related("plan")}
    why = []
    for plan in [c.plan for c in linked] + new:
        plan.refresh_from_db()
        choice = choices[plan.pk]
        product = by_id.get(choice.product_id)
        if choice.state != PlanChoice.State.SYNCED or product is None or product["name"] != plan.name:
            marked = markers.get(per_plan.marker(plan), 0)
            why.append(f"plan {plan.pk} ({choice.state}, {marked} marked there): name here {plan.name!r}, there {product and product['name']!r}")
    for choice in far:
        choice.plan.refresh_from_db()
        if choice.plan.policy_number != f"FAR-{tag}-{choice.pk}":
            why.append(f"plan {choice.plan_id}: policy number here {choice.plan.policy_number!r}, there FAR-{tag}-{choice.pk}")
    lost = len(why)
    if why:
        print("  plansync lost:", *why, sep="\n    ")
    unsettled = runs.exclude(status=PlanSyncRun.Status.SUCCEEDED).count()
    for run in runs.filter(status__in=("queued", "running", "retrying")):
        print(f"  plansync run {run.pk} not settled after {run.tries} tries: {run.reason[:200]}")
    return (
        duplicates,
        lost,
        len(linked) + len(new),
        f"{sum(markers.values())} marked products there; {unsettled} runs not succeeded; kill fired: {bool(killed)}; "
        f"{passes} passes ({read.count(False)} could not read the changes there), {sweeps} sweeps",
    )


# --- carriers ------------------------------------------------------------------------------------------
def _carriers(url: str, size: int) -> tuple[int, int, int, str]:
    from django.core.exceptions import ValidationError

    from carriers.management.commands.carriers_sandbox_seed import sandbox_roster
    from carriers.models import CarrierConnection, ConnectionAttempt, Discrepancy
    from carriers.services import connection_attempts_sweep, connection_poll, connection_request
    from hrsync.models import BenefitsLevel
    from integrations import attempts
    from integrations.clients.noyo import NoyoClient
    from integrations.http import TransientError
    from integrations.registry import System, external_id_link
    from plans.models import Carrier
    from tests.hrsync.factories import EmployeeFactory
    from tests.plans.factories import EmployerGroupFactory, PlanFactory

    _forget_earlier(ConnectionAttempt)
    http, tag, count = requests.Session(), uuid.uuid4().hex[:6], max(2, size // 2)
    NoyoClient._tokens.clear()
    level, _ = BenefitsLevel.objects.get_or_create(name="Standard", defaults={"package_code": "STANDARD"})
    groups, planted = [], {}
    for n in range(count):
        group = EmployerGroupFactory(account_number=f"FLT-{tag}-{n}", name=f"Faults {tag} {n}", federal_ein="12-3456789")
        carrier = Carrier.objects.create(name=f"Faults carrier {tag} {n}", code=f"flt-{tag}-{n}")
        external_id_link(obj=carrier, system=System.CARRIER_EXCHANGE, object_type="carrier", external_id=str(uuid.uuid4()))
        for m in range(4):
            EmployeeFactory(
                employer_group=group, benefits_level=level, email=f"{tag}.{n}.{m}@faults.example", hire_date=date(2020, 1, 1) + timedelta(days=m)
            )
        PlanFactory(group=group, carrier=carrier)
        body = sandbox_roster(group, carrier, f"CG-{tag}-{n}", share=0.25, seed=n)
        planted[group.pk] = len(http.post(f"{url}/_sandbox/noyo/rosters", json=body, timeout=30).json()["planted"])
        groups.append((group, carrier, f"CG-{tag}-{n}"))

    create, lost_answers = NoyoClient.connection_create, random.Random(size)

    def answer_lost_sometimes(self, **kwargs):
        answer = create(self, **kwargs)
        if lost_answers.random() < FAULT_RATE / 2:
            raise TransientError("The carrier-connection service did not answer within 1 s.", code="timeout")
        return answer

    http.put(f"{url}/_sandbox/knobs", json={"error_rate": FAULT_RATE / 2}, timeout=5).raise_for_status()
    NoyoClient.connection_create = answer_lost_sometimes
    connections = CarrierConnection.objects.filter(employer_group__in=[g for g, _, _ in groups])
    work = ConnectionAttempt.objects.filter(employer_group__in=[g for g, _, _ in groups])
    refused = rounds = sweeps = 0
    try:
        with _killed_once(attempts, "attempt_record", at=max(1, count // 2)) as killed:
            for group, carrier, carrier_group_id in groups:
                try:
                    _survive(connection_request, actor=None, employer_group=group, carrier=carrier, carrier_group_id=carrier_group_id)
                except ValidationError:
                    refused += 1
            sweeps += _sweep_until_settled(ConnectionAttempt, connection_attempts_sweep, work)
            while rounds < 10 and connections.exclude(status="completed").exclude(connection_id="").exists():
                for pk in connections.exclude(status="completed").values_list("pk", flat=True):
                    _survive(connection_poll, connection_id=pk, force=True)
                sweeps += _sweep_until_settled(ConnectionAttempt, connection_attempts_sweep, work)
                rounds += 1
    finally:
        NoyoClient.connection_create = create
        http.put(f"{url}/_sandbox/knobs", json={"error_rate": 0}, timeout=5).raise_for_status()

    there = http.get(f"{url}/_sandbox/noyo/connections", timeout=10).json()["results"]
    ours = {cg for _, _, cg in groups}
    per_group = Counter((c.get("group_data") or {}).get("carrier_group_id") for c in there)
    duplicates = sum(n - 1 for cg, n in per_group.items() if cg in ours and n > 1)
    ids_there = {str(c["id"]) for c in there}
    lost = failed = 0
    for group, _, _ in groups:
        connection = connections.filter(employer_group=group).order_by("-pk").first()
        pull = work.filter(connection=connection, kind=ConnectionAttempt.Kind.PULL).order_by("-pk").first()
        if connection is None or connection.connection_id not in ids_there or connection.status != "completed":
            failed += work.filter(employer_group=group, status=ConnectionAttempt.Status.FAILED).exists()
            lost += 1
        elif (
            pull is None
            or pull.status != ConnectionAttempt.Status.SUCCEEDED
            or Discrepancy.objects.filter(connection=connection).count() != planted[group.pk]
        ):
            lost += 1
    found = sum(per_group[cg] for cg in ours)
    return (
        duplicates,
        lost,
        count,
        f"{found} connections there; {refused} refused; {failed} with a failed attempt; kill fired: {bool(killed)}; "
        f"{rounds} poll rounds, {sweeps} sweeps",
    )


# --- ams -----------------------------------------------------------------------------------------------
def _ams(url: str, size: int) -> tuple[int, int, int, str]:
    from ams.models import Notification, Reconciliation, SyncAttempt
    from ams.services import ams_sweep, customer_sync_request
    from individuals.models import Individual
    from integrations import attempts
    from integrations.models import ExternalId

    _forget_earlier(SyncAttempt, Notification, Reconciliation)
    control, tag = requests.Session(), uuid.uuid4().hex[:6].upper()

    def ams(method: str, path: str, json=None) -> dict:
        reply = control.request(method, f"{url}/_sandbox/ams/{path}", json=json, timeout=60)
        reply.raise_for_status()
        return reply.json()

    ams("POST", "reset", {"customers": 0})
    # Each run has a fresh sandbox, whose AMS and CRM hand out ids anew: forget the links of earlier runs.
    ExternalId.objects.filter(system__in=("ams", "crm")).delete()
    customers = [ams("POST", "customers", {"FirstName": f"Fault{n}", "LastName": f"Bench{tag}", "City": "Before"})["CustomerId"] for n in range(size)]
    ams("PUT", "knobs", {"fault_rate": FAULT_RATE})  # the AMS's SOAP calls
    control.put(f"{url}/_sandbox/knobs", json={"error_rate": FAULT_RATE}, timeout=5).raise_for_status()  # the CRM's
    rows = SyncAttempt.objects.filter(pk__gt=SyncAttempt.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
    try:
        # Each customer brought in (then pushed to the CRM), then changed in the AMS and synced again
        # (a notification's sync), which pushes the change to the CRM: a worker killed half-way through.
        with _killed_once(attempts, "attempt_record", at=max(1, size)) as killed:
            for customer_id in customers:
                _survive(customer_sync_request, customer_id=customer_id)
            for n, customer_id in enumerate(customers):
                ams("POST", f"customers/{customer_id}", {"LastName": f"Edited{tag}", "City": f"After {n}"})
                _survive(customer_sync_request, customer_id=customer_id)
            sweeps = _sweep_until_settled(SyncAttempt, ams_sweep, rows)
    finally:
        ams("PUT", "knobs", {"fault_rate": 0})
        control.put(f"{url}/_sandbox/knobs", json={"error_rate": 0}, timeout=5).raise_for_status()

    records = control.get(f"{url}/_sandbox/crm/records", timeout=10).json()["results"]
    crm, references = {r["external_reference"]: r for r in records}, Counter(r["external_reference"] for r in records)
    duplicates = sum(n - 1 for n in references.values() if n > 1)
    why = []
    for n, customer_id in enumerate(customers):
        links = list(ExternalId.objects.filter(system="ams", object_type="customer", external_id=customer_id))
        duplicates += max(0, len(links) - 1)
        person = Individual.objects.filter(pk=links[0].object_id).first() if links else None
        if person is None or (person.last_name, person.city) != (f"Edited{tag}", f"After {n}"):
            why.append(f"AMS customer {customer_id}: here {person and (person.last_name, person.city)}")
            continue
        record = crm.get(f"agencydesk:individual:{person.pk}")
        if record is None or record["fields"]["city"] != person.city or record["name"] != str(person):
            why.append(f"individual {person.pk}: CRM {record and (record['name'], record['fields']['city'])}")
    failed = rows.filter(status=SyncAttempt.Status.FAILED).count()
    if why:
        print("  ams lost:", *why, sep="\n    ")
    return (duplicates, len(why), size, f"{len(crm)} CRM records; {failed} attempts failed; kill fired: {bool(killed)}; {sweeps} sweeps")


SYNCS = {"hrsync": _hrsync, "plansync": _plansync, "carriers": _carriers, "ams": _ams}


def run(size: int = DEFAULT) -> list[dict]:
    from django.conf import settings

    from bench.hrsync import _start_sandbox
    from config.celery import app

    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    for name in ("celery", "core", "integrations", "hrsync", "plansync", "carriers"):  # the figures, not each retry
        logging.getLogger(name).setLevel(logging.ERROR)
    results, totals = [], Counter()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("AMS_SANDBOX_CUSTOMERS", "0")  # the AMS's book: the customers each run adds
        sandbox, url = _start_sandbox(tmp)
        for key, value in {
            "SANDBOX_URL": url,
            "BENEFITS_PLATFORM_URL": f"{url}/benefits",
            "INTEGRATIONS_READ_TIMEOUT": 2.0,
            "INTEGRATIONS_RETRY_BACKOFF": 0.01,
        }.items():
            setattr(settings, key, value)
        try:
            for name, sync in SYNCS.items():
                duplicates, lost, things, note = sync(url, size)
                totals.update(duplicates=duplicates, lost=lost, things=things)
                results.append(
                    figure("faults", f"{name}: duplicates there", value=duplicates, unit="dups", limit=things, goal=0.0, note=f"of {things}")
                )
                results.append(figure("faults", f"{name}: lost updates", value=lost, unit="lost", limit=things, goal=0.0, note=note))
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)
    results.append(
        figure(
            "faults",
            "all syncs: duplicates there",
            value=totals["duplicates"],
            unit="dups",
            limit=totals["things"],
            goal=0.0,
            note=f"{FAULT_RATE:.0%} faults, one worker killed per sync",
        )
    )
    results.append(figure("faults", "all syncs: lost updates", value=totals["lost"], unit="lost", limit=totals["things"], goal=0.0))
    return results
