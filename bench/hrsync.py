"""Benefits sync throughput: ``python -m bench hrsync [--size N]``.

N employees (default 10,000) are synced through real Celery worker processes of the integrations
kind (``--pool threads``, 16 threads each, as in the Procfile) against a fresh sandbox with 20 ms
latency per call. Limits, measured in the same run, from the calls a new employee needs (find by
email, create) with no Django, database nor queue: (1) calls/s of one plain loop of HTTP requests;
(2) stricter: employee-equivalents/s of 16 plain loops. Goal for both: the sync (2 worker processes)
reaches half. Then the same sync with 1, 2 and 4 worker processes: throughput grows with workers (the
way out when one machine is not enough: more worker machines on the same PostgreSQL and Redis), each
noting the cores the workers, the sandbox and the whole machine kept busy (on one machine, workers stop
adding throughput once its cores are busy).
Then a fault run (N/5 employees, 10% 500s + 10% timeouts): every employee ends Successful or Failed,
and the sandbox holds no account twice.
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
WORKERS, CONCURRENCY, PLAIN_LOOPS = 2, 16, 16
SCALING = (1, 2, 4)
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
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--db", f"{tmp}/sandbox.sqlite3"], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a busy machine starts a Python process slowly
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=5).ok:
                return process, url
        except requests.RequestException:  # not listening yet, or not answering yet
            time.sleep(0.1)
    process.kill()
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
            session.post(
                f"{url}/benefits/v1/accounts",
                headers={**headers, "Idempotency-Key": email},
                timeout=10,
                json={
                    "email": email,
                    "first_name": "Loop",
                    "last_name": "Bench",
                    "date_of_birth": "1980-01-01",
                    "hire_date": "2020-01-01",
                    "benefits_package": "BASIC",
                },
            )

    pool = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return 2 * n / (time.perf_counter() - start)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (every process, ours or not)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def _cores_used(workers: list[subprocess.Popen], sandbox: subprocess.Popen) -> list[float]:
    """CPU seconds so far of the workers, the sandbox and the machine: differences over a run are cores used."""
    return [sum(_cpu_seconds(w.pid) for w in workers), _cpu_seconds(sandbox.pid), _machine_busy_seconds()]


def _start_workers(env: dict, count: int) -> list[subprocess.Popen]:
    from config.celery import app

    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                QUEUE,
                "-P",
                "threads",
                "-c",
                str(CONCURRENCY),
                "-n",
                f"bench{i}@%h",
                "--prefetch-multiplier",
                "4",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for i in range(count)
    ]
    for _ in range(60):
        if len(app.control.ping(timeout=1.0)) >= count:
            break
    return workers


def _stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


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
    Employee.objects.bulk_create(
        [
            Employee(
                employer_group=group,
                first_name=f"E{i}",
                last_name=tag,
                email=f"{tag}.{i}@bench.example",
                date_of_birth=date(1980, 1, 1 + i % 28),
                hire_date=date(2020, 1, 1),
                benefits_level=level,
            )
            for i in range(size)
        ],
        batch_size=2000,
    )
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
    app.conf.update(
        broker_url=redis_url,
        result_backend=redis_url,
        task_default_queue=QUEUE,
        task_always_eager=False,
        broker_transport_options={"visibility_timeout": 3600},
    )
    settings.INTEGRATIONS_QUEUE = QUEUE  # the sync's tasks to the bench's queue (as the workers below route too)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        sandbox, url = _start_sandbox(tmp)
        control = requests.Session()
        env = {
            **os.environ,
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "REDIS_URL": redis_url,
            "SANDBOX_URL": url,
            "BENEFITS_PLATFORM_URL": f"{url}/benefits",
            "INTEGRATIONS_READ_TIMEOUT": "1.0",
            "INTEGRATIONS_RETRY_BACKOFF": "0.05",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
            "INTEGRATIONS_QUEUE": QUEUE,
        }
        settings.BENEFITS_PLATFORM_URL = f"{url}/benefits"
        workers = []
        try:
            control.put(f"{url}/_sandbox/knobs", json={"latency_ms": LATENCY_MS}, timeout=5)
            print(f"hrsync: {size} employees, {WORKERS} workers x {CONCURRENCY} threads, sandbox latency {LATENCY_MS} ms")
            single = _plain_loop(url, 200, threads=1)
            parallel = _plain_loop(url, min(size, 2000), threads=PLAIN_LOOPS)
            rates, cores = {}, {}
            for count in SCALING:
                workers = _start_workers(env, count)
                employees = _seed(size, f"run{uuid.uuid4().hex[:6]}")
                before = _cores_used(workers, sandbox)
                seconds = _sync(employees, timeout=max(600, size / 5), workers=workers)
                cores[count] = [(b - a) / seconds for a, b in zip(before, _cores_used(workers, sandbox), strict=True)]
                rates[count] = size / seconds
                _stop_workers(workers)
                workers = []
                if count == WORKERS:
                    states = dict(employees.order_by().values_list("sync_state").annotate(n=Count("pk")))
                    states["avg_attempt_s"] = round(
                        SyncAttempt.objects.filter(employee__in=employees).aggregate(d=Avg(F("finished_at") - F("started_at")))["d"].total_seconds(),
                        4,
                    )
                    print(f"  sync with {count} workers: {states}")
            # The figures: employees/s against one plain loop's calls/s, and against the same calls
            # (2 per new employee) from 16 plain loops, the sandbox's ceiling at that concurrency.
            results.append(
                figure(
                    "hrsync", "sync employees/s vs plain loop calls/s", value=rates[WORKERS], unit="emp/s", limit=single, goal=0.5, better="higher"
                )
            )
            results.append(
                figure(
                    "hrsync",
                    f"sync employees/s vs {PLAIN_LOOPS} plain loops (emp-equiv)",
                    value=rates[WORKERS],
                    unit="emp/s",
                    limit=parallel / 2,
                    goal=0.5,
                    better="higher",
                )
            )
            for count in SCALING:  # throughput grows with worker processes (each its own connection pool)
                # ... until this machine's cores are busy: the cores each part used say when that is.
                on_workers, on_sandbox, on_machine = cores[count]
                results.append(
                    figure(
                        "hrsync",
                        f"{count} worker process{'es' * (count > 1)} vs 1",
                        value=rates[count],
                        unit="emp/s",
                        limit=rates[1],
                        goal=1.0 if count == 1 else 1.2,
                        better="higher",
                        note=f"{rates[count] / (parallel / 2):.2f} of {PLAIN_LOOPS} plain loops; cores busy: "
                        f"workers {on_workers:.2f}, sandbox {on_sandbox:.2f}, "
                        f"machine {on_machine:.2f} of {os.cpu_count()}",
                    )
                )

            # Fault run (2 workers): 10% 500s (half after the write) and 10% held past the 1 s read timeout.
            workers = _start_workers(env, WORKERS)
            fault_size = max(50, size // 5)
            before = control.get(f"{url}/_sandbox/stats", timeout=5).json()["accounts"]
            control.put(f"{url}/_sandbox/knobs", json={"error_rate": 0.1, "timeout_rate": 0.1, "hang_seconds": 2.0}, timeout=5)
            employees = _seed(fault_size, f"fault{uuid.uuid4().hex[:6]}")
            _sync(employees, timeout=max(600, fault_size), workers=workers)
            stats = control.get(f"{url}/_sandbox/stats", timeout=5).json()
            settled = employees.filter(sync_state__in=["successful", "failed"]).count()
            failed = employees.filter(sync_state="failed").count()
            in_use = employees.filter(last_attempt__reason__contains="already used").count()
            results.append(
                figure(
                    "hrsync",
                    "fault run: employees ending Successful or Failed",
                    value=settled,
                    unit="emp",
                    limit=fault_size,
                    goal=1.0,
                    better="higher",
                    note=f"{failed} failed",
                )
            )
            results.append(
                figure(
                    "hrsync",
                    "fault run: sandbox accounts per employee",
                    value=stats["accounts"] - before,
                    unit="accounts",
                    limit=fault_size,
                    goal=1.0,
                    better="lower",
                    note=f"emails unique: {stats['accounts'] == stats['emails']}; email-in-use failures {in_use}",
                )
            )
        finally:
            _stop_workers(workers)
            sandbox.terminate()
            sandbox.wait(timeout=10)
    return results
