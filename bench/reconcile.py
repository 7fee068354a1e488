"""AMS reconciliation: ``python -m bench reconcile [--size N]``.

A fresh sandbox AMS with N customers (default 20,000) and their policies is loaded into AgencyDesk
(one reconciliation: the agency's first, which brings each chunk in set-based). Then a burst of
changes (N/10 customers) is notified to a real AgencyDesk web process (eager tasks) with 10% of the
notifications dropped, and one reconciliation repairs what they missed. Figures:
- repaired / missed: the run's repaired count against the sandbox's own count of customers whose
  change notification was dropped (goal: exactly 1);
- wall time of the repair run against a plain loop of the same SOAP calls (zeep, no Django, no
  database) on the same sandbox in the same run (goal <= 1.5);
- the reconciling process's peak memory at 5N against N (goal <= 1.2: flat);
- the initial load's wall time against the same plain loop (goal <= 3), and its time per customer at
  5N against N (goal <= 1.2: linear). The load queues its CRM pushes (as a worker does: the integrations
  worker sends them), to the broker of ``REDIS_URL`` or, without one, an in-process queue; the repair
  run sends them at once (eager), as before.
Each reconciliation runs in its own process (``python -c``), as a worker would.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.report import figure
from bench.setup import vacuum_analyze

DEFAULT = 20_000
ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
import django
django.setup()
mode = sys.argv[1]
if mode == "load":  # the CRM pushes queued for the integrations worker, not sent from this process
    from config.celery import app
    app.conf.task_always_eager = False
    if not os.environ.get("REDIS_URL"):
        app.conf.broker_url = "memory://"
start = time.perf_counter()
if mode in ("reconcile", "load"):
    from ams.services import reconciliation_request
    from ams.models import Reconciliation
    run = reconciliation_request(actor=None)
    if mode == "load":  # run here, as the worker taking its message would
        from ams.services import reconciliation_run
        reconciliation_run(reconciliation_id=run.pk)
    run.refresh_from_db()
    out = {"status": run.status, "updated": run.updated, "created": run.created, "retired": run.retired,
           "failed": run.failed, "customers": run.customers_seen, "calls": run.soap_calls, "reason": run.reason}
else:
    from ams import mapping
    from ams.services.reconcile import PREFIXES
    from integrations.clients.ams360 import ams360_client
    client, n = ams360_client(), 0
    for prefix in PREFIXES:
        for c in client.customers_by_name_prefix(prefix):
            n += 1
            client.contacts(c["CustomerId"]) if mapping.is_commercial(c) else client.policies(c["CustomerId"])
    out = {"customers": n, "calls": client.calls}
out["seconds"] = time.perf_counter() - start
out["max_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("RESULT " + json.dumps(out))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, what: str) -> None:
    for _ in range(300):
        try:
            if requests.get(url, timeout=10).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not start")


def _child(mode: str, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, mode], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{mode} failed:\n{done.stderr[-3000:]}")


def _clean() -> None:
    """Forget what a previous run brought in (bench data only)."""
    from django.contrib.contenttypes.models import ContentType

    from ams.models import IdentityConflict, Notification, Reconciliation, SyncAttempt
    from individuals.models import Individual
    from integrations.models import ExternalId
    from plans.models import EmployerGroup

    rows = ExternalId.objects.filter(system__in=["ams", "crm"])
    for model in (Individual, EmployerGroup):
        ids = rows.filter(content_type=ContentType.objects.get_for_model(model)).values("object_id")
        model.objects.filter(pk__in=ids, **({"plans__isnull": True} if model is EmployerGroup else {})).delete()
    rows.delete()
    for model in (SyncAttempt, Notification, IdentityConflict, Reconciliation):
        model.objects.all().delete()


def _analyze() -> None:
    """The book just loaded as autovacuum keeps it (``bench.setup.vacuum_analyze``)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        vacuum_analyze("integrations_externalid", "individuals_individual", "individuals_policy", "plans_employergroup", "plans_employergroupcontact")


def _flush(control: str, limit: float = 3600.0) -> None:
    """Wait until the sandbox has delivered (or dropped) every notification of the burst: one flush waits
    30 s at most, and a large burst takes longer through the web process."""
    deadline = time.monotonic() + limit
    while not requests.post(f"{control}/flush", timeout=120).json()["ok"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the burst's notifications were not all delivered")


def _cycle(size: int, control: str, env: dict) -> dict:
    """Load ``size`` customers, burst N/10 changes with 10% of notifications dropped, reconcile; time both ways."""
    _clean()
    requests.post(f"{control}/reset", json={"customers": size}, timeout=600).raise_for_status()
    requests.put(f"{control}/knobs", json={"webhook_url": env["BENCH_WEBHOOK"]}, timeout=10).raise_for_status()
    load = _child("load", env)
    assert load["status"] == "succeeded" and load["created"] == load["customers"] == size and not load["failed"], load
    _analyze()
    requests.put(f"{control}/knobs", json={"drop_rate": 0.1}, timeout=10).raise_for_status()
    before = len(requests.get(f"{control}/notifications", timeout=60).json()["results"])
    changed = requests.post(f"{control}/burst", json={"count": max(10, size // 10), "seed": 11}, timeout=3600).json()["changed"]
    _flush(control)
    log = requests.get(f"{control}/notifications", timeout=60).json()["results"][before:]
    failed = [n["outcome"] for n in log if n["outcome"] not in ("sent", "dropped")]
    assert not failed, f"notifications not delivered: {failed[:5]}"
    # Missed: changes whose notification was dropped, or arrived but could not be processed (AMS too slow:
    # failed, or still waiting for its retry, whose delayed message an eager run does not send).
    from ams.models import Notification

    unprocessed = Notification.objects.filter(status__in=[Notification.Status.FAILED, Notification.Status.RETRYING])
    missed = len({n["CustomerId"] for n in log if n["outcome"] == "dropped"} | set(unprocessed.values_list("customer_id", flat=True)))
    repair = _child("reconcile", env)
    plain = _child("plain", env)
    print(
        f"reconcile N={size}: load {load['seconds']:.1f}s ({load['created']} created, {load['calls']} SOAP calls); "
        f"burst {len(changed)} changes, {missed} notifications dropped; "
        f"repair run {repair['seconds']:.2f}s ({repair['calls']} SOAP calls), plain loop {plain['seconds']:.2f}s "
        f"({plain['calls']} calls); peak RSS {repair['max_rss_kb'] / 1024:.0f} MB"
    )
    return {"missed": missed, "load": load, "repair": repair, "plain": plain}


def run(size: int = DEFAULT) -> list[dict]:
    from django.conf import settings

    tmp = tempfile.mkdtemp(prefix="bench-reconcile-")
    sandbox_port, web_port = _free_port(), _free_port()
    db = settings.DATABASES["default"]
    db_url = os.environ.get("DATABASE_URL") or f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SANDBOX_URL": sandbox_url,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "AMS_SANDBOX_CUSTOMERS": "10",
        "BENCH_WEBHOOK": f"http://127.0.0.1:{web_port}/api/ams/notifications/",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", str(sandbox_port), "--db", f"{tmp}/sandbox.sqlite3"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{web_port}", "--workers", "2", "--timeout", "120"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    control = f"{sandbox_url}/_sandbox/ams"
    try:
        _wait(f"{sandbox_url}/healthz", "the sandbox")
        _wait(f"http://127.0.0.1:{web_port}/admin/login/", "the web process")
        small = _cycle(size, control, env)
        large = _cycle(5 * size, control, env)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    results = []
    for label, cycle in ((f"N={size}", small), (f"5N={5 * size}", large)):
        row = figure(
            "reconcile",
            f"{label}: changes repaired / notifications missed (exact)",
            value=cycle["repair"]["updated"],
            unit="records",
            limit=max(cycle["missed"], 1),
            goal=1.0,
        )
        row["ok"] = row["ok"] and cycle["repair"]["updated"] == cycle["missed"] and cycle["repair"]["failed"] == 0
        results.append(row)
        results.append(
            figure(
                "reconcile",
                f"{label}: repair run vs plain loop of the same SOAP calls",
                value=cycle["repair"]["seconds"],
                unit="s",
                limit=cycle["plain"]["seconds"],
                goal=1.5,
            )
        )
    for label, cycle in (("N", small), ("5N", large)):
        results.append(
            figure(
                "reconcile",
                f"{label}: initial load vs plain loop of the same SOAP calls",
                value=cycle["load"]["seconds"],
                unit="s",
                limit=cycle["plain"]["seconds"],
                goal=3.0,
                note=f"{cycle['load']['customers']:,} customers",
                grows="linear",
            )
        )
    per_customer = [cycle["load"]["seconds"] / cycle["load"]["customers"] for cycle in (small, large)]
    results.append(
        figure(
            "reconcile",
            "initial load per customer, 5N vs N (linear)",
            value=per_customer[1] * 1000,
            unit="ms",
            limit=per_customer[0] * 1000,
            goal=1.2,
        )
    )
    results.append(
        figure(
            "reconcile",
            "peak memory of the reconciling process, 5N vs N",
            value=large["repair"]["max_rss_kb"] / 1024,
            unit="MB",
            limit=small["repair"]["max_rss_kb"] / 1024,
            goal=1.2,
        )
    )
    return results
