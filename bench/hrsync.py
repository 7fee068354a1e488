"""Benefits sync throughput: ``python -m bench hrsync [--size N]``.

N employees (default 10,000) are synced through two real Celery worker processes (prefork,
8 each) against a fresh sandbox with 20 ms latency per call. Limits, measured in the same run, from
the calls a new employee needs (find by email, create) with no Django, database nor queue:
(1) the issue's: calls/s of one plain loop of HTTP requests; (2) stricter: employee-equivalents/s
of as many plain loops as the workers have processes. Goal for both: the sync reaches half. Then a fault run (N/5 employees, 10% 500s + 10% timeouts):
every employee ends Successful or Failed, and the sandbox holds no account twice.
Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/3).
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import requests

from bench.report import figure

DEFAULT = 10_000
WORKERS, CONCURRENCY = 2, 8
LATENCY_MS = 20
QUEUE = "bench-hrsync"
ROOT = Path(__file__).resolve().parent.parent
KEY = "sandbox-benefits-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sandbox(tmp: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--db", f"{tmp}/sandbox.sqlite3"],
                               cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox did not start")


def _plain_loop(url: str, n: int, threads: int) -> float:
    """HTTP calls per second (find by email, create; alternating) from ``threads`` plain loops."""
    headers = {"Authorization": f"Bearer {KEY}"}
    counter = iter(range(n))
    lock = threading.Lock()

    def work():
        session = requests.Session()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            email = f"loop{i}.{uuid.uuid4().hex[:6]}@bench.example"
            session.get(f"{url}/benefits/v1/accounts", params={"email": email}, headers=headers, timeout=10)
            session.post(f"{url}/benefits/v1/accounts", headers={**headers, "Idempotency-Key": email}, timeout=10, json={
                "email": email, "first_name": "Loop", "last_name": "Bench", "date_of_birth": "1980-01-01",
                "hire_date": "2020-01-01", "benefits_package": "BASIC"})

    pool = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return 2 * n / (time.perf_counter() - start)


def _start_workers(env: dict) -> list[subprocess.Popen]:
    return [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", QUEUE, "-c", str(CONCURRENCY), "-n", f"bench{i}@%h",
         "--prefetch-multiplier", "4", "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for i in range(WORKERS)]


def _seed(size: int, tag: str):
    from django.db import transaction

    from hrsync.models import BenefitsLevel, Employee, SyncAttempt
    from plans.models import EmployerGroup

    group, _ = EmployerGroup.objects.get_or_create(account_number="BENCH-HR", defaults={"name": "Bench Employer"})
    level, _ = BenefitsLevel.objects.get_or_create(name="Bench Basic", defaults={"package_code": "BASIC"})
    with transaction.atomic():  # earlier runs' employees and their history
        Employee.objects.filter(employer_group=group).update(last_attempt=None)
        SyncAttempt.objects.filter(employee__employer_group=group)._raw_delete("default")
        Employee.objects.filter(employer_group=group)._raw_delete("default")
    Employee.objects.bulk_create([
        Employee(employer_group=group, first_name=f"E{i}", last_name=tag, email=f"{tag}.{i}@bench.example",
                 date_of_birth=date(1980, 1, 1 + i % 28), hire_date=date(2020, 1, 1), benefits_level=level)
        for i in range(size)], batch_size=2000)
    return Employee.objects.filter(employer_group=group, last_name=tag)


def _sync(employees, *, timeout: float, workers: list[subprocess.Popen]) -> float:
    from hrsync.models import Employee
    from hrsync.services import employee_sync_request

    start = time.perf_counter()
    employee_sync_request(actor=None, employees=employees)
    deadline = time.monotonic() + timeout
    while employees.filter(sync_state__in=[Employee.SyncState.IN_PROGRESS, Employee.SyncState.NOT_SYNCING]).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the sync did not finish in time")
        if any(w.poll() is not None for w in workers):
            raise RuntimeError("a worker process stopped")
        time.sleep(0.2)
    return time.perf_counter() - start


def run(size: int = DEFAULT) -> list[dict]:
    from django.conf import settings
    from django.db.models import Avg, Count, F

    from config.celery import app
    from hrsync.models import SyncAttempt

    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/3"
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_default_queue=QUEUE, task_always_eager=False,
                    broker_transport_options={"visibility_timeout": 3600})
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sandbox, url = _start_sandbox(tmp)
        control = requests.Session()
        env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": redis_url, "SANDBOX_URL": url,
               "BENEFITS_PLATFORM_URL": f"{url}/benefits", "INTEGRATIONS_READ_TIMEOUT": "1.0", "INTEGRATIONS_RETRY_BACKOFF": "0.05",
               "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_DEBUG": "false"}
        settings.BENEFITS_PLATFORM_URL = f"{url}/benefits"
        workers = _start_workers(env)
        try:
            control.put(f"{url}/_sandbox/knobs", json={"latency_ms": LATENCY_MS}, timeout=5)
            for _ in range(60):
                if len(app.control.ping(timeout=1.0)) >= WORKERS:
                    break
            print(f"hrsync: {size} employees, {WORKERS} workers x {CONCURRENCY}, sandbox latency {LATENCY_MS} ms")
            single = _plain_loop(url, 200, threads=1)
            parallel = _plain_loop(url, min(size, 2000), threads=WORKERS * CONCURRENCY)
            employees = _seed(size, f"run{uuid.uuid4().hex[:6]}")
            seconds = _sync(employees, timeout=max(600, size / 5), workers=workers)
            states = dict(employees.order_by().values_list("sync_state").annotate(n=Count("pk")))
            states["avg_attempt_s"] = round(SyncAttempt.objects.filter(employee__in=employees).aggregate(
                d=Avg(F("finished_at") - F("started_at")))["d"].total_seconds(), 4)
            print(f"  sync: {states}")
            # The figure: employees/s against the calls/s of one plain loop of HTTP requests.
            results.append(figure("hrsync", "sync employees/s vs plain loop calls/s", value=size / seconds, unit="emp/s",
                                  limit=single, goal=0.5, better="higher", grows="flat"))
            # Stricter: against the same calls (2 per new employee) from as many plain loops as
            # the workers have processes, i.e. the sandbox's ceiling for this concurrency.
            results.append(figure("hrsync", f"sync employees/s vs {WORKERS * CONCURRENCY} plain loops (emp-equiv)",
                                  value=size / seconds, unit="emp/s", limit=parallel / 2, goal=0.5, better="higher"))

            # Fault run: 10% 500s (half after the write) and 10% held past the 1 s read timeout.
            fault_size = max(50, size // 5)
            before = control.get(f"{url}/_sandbox/stats", timeout=5).json()["accounts"]
            control.put(f"{url}/_sandbox/knobs", json={"error_rate": 0.1, "timeout_rate": 0.1, "hang_seconds": 2.0}, timeout=5)
            employees = _seed(fault_size, f"fault{uuid.uuid4().hex[:6]}")
            _sync(employees, timeout=max(600, fault_size), workers=workers)
            stats = control.get(f"{url}/_sandbox/stats", timeout=5).json()
            settled = employees.filter(sync_state__in=["successful", "failed"]).count()
            failed = employees.filter(sync_state="failed").count()
            in_use = employees.filter(last_attempt__reason__contains="already used").count()
            results.append(figure("hrsync", "fault run: employees ending Successful or Failed", value=settled, unit="emp",
                                  limit=fault_size, goal=1.0, better="higher", note=f"{failed} failed"))
            results.append(figure("hrsync", "fault run: sandbox accounts per employee", value=stats["accounts"] - before,
                                  unit="accounts", limit=fault_size, goal=1.0, better="lower",
                                  note=f"emails unique: {stats['accounts'] == stats['emails']}; email-in-use failures {in_use}"))
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
            sandbox.terminate()
            sandbox.wait(timeout=10)
    return results
