"""A dead worker's job resumes within a minute: SIGKILL a worker (and its pool) mid-way through a
sales-record creation job, start another one (as a process supervisor would), and time until the
job is running again -- picked up by the 15-second beat sweep once its lease runs out,
``JOB_LEASE_SECONDS`` (30 s), not by the broker's visibility timeout (an hour).

Figures: seconds from the kill to the job making progress on the new worker (limit 60 s, goal <= 1),
and the created / skipped counts against the exact expected ones (no duplicates after the kill).
Same database and data as ``mass_create`` (N individuals, 3 in 10 match, a third of those already have a record).
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

from bench.mass_create import ROOT, STATUSES, _children, _ensure_individuals, _reset
from bench.report import figure
from bench.setup import sized_database

DEFAULT = 100_000
BENCH = "resume"
QUEUE = "bench-resume"
DEADLINE_SECONDS = 60


def _start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel", "WARNING"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )


def _worker(env: dict, name: str) -> subprocess.Popen:
    return _start(env, "worker", "-Q", QUEUE, "-c", "1", "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat")


def _kill_tree(process: subprocess.Popen) -> None:
    for pid in [process.pid, *_children(process.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def run(size: int = DEFAULT) -> list[dict]:
    from django.db import transaction

    from accounts.models import User
    from config.celery import app
    from salesrecords.models import MassCreationJob, SalesRecord, SalesRecordType
    from salesrecords.services import mass_creation_job_create

    size -= size % 10
    url = sized_database(size, "sales")
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5"
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_default_queue=QUEUE, task_always_eager=False)
    _ensure_individuals(size)
    matched, existing = size * 3 // 10, size // 10
    _reset(existing)
    actor = User.objects.filter(is_superuser=True, username="bench-sales").first() or User.objects.create(
        username="bench-sales", is_superuser=True, is_staff=True
    )
    # Small chunks, so the job is still running when the worker is killed.
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
        "INTEGRATIONS_QUEUE": QUEUE,
        "SALESRECORDS_CHUNK_SIZE": str(max(200, size // 200)),
    }
    print(f"resume: {size} individuals, {matched} matches, {existing} existing; a worker is killed mid-job")
    first, beat, second = _worker(env, "bench-resume-1"), _start(env, "beat"), None
    try:
        with transaction.atomic():
            job = mass_creation_job_create(actor=actor, criteria={"record_status": STATUSES}, record_type=SalesRecordType.objects.get(name="Renewal"))
        deadline = time.monotonic() + 120
        while MassCreationJob.objects.get(pk=job.pk).processed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        _kill_tree(first)
        killed_at = time.monotonic()
        killed = MassCreationJob.objects.get(pk=job.pk)
        if killed.finished:
            raise RuntimeError("the job finished before the kill: use a larger --size")
        second = _worker(env, "bench-resume-2")
        while time.monotonic() < killed_at + 10 * DEADLINE_SECONDS:
            now = MassCreationJob.objects.get(pk=job.pk)
            if now.tries > killed.tries and (now.processed > killed.processed or now.finished):
                break
            time.sleep(0.1)
        resumed = time.monotonic() - killed_at
        while not MassCreationJob.objects.get(pk=job.pk).finished and time.monotonic() < killed_at + 20 * DEADLINE_SECONDS:
            time.sleep(0.1)
    finally:
        for process in (beat, second):
            if process is not None:
                _stop(process)

    job = MassCreationJob.objects.get(pk=job.pk)
    records = SalesRecord.objects.filter(job=job).count()
    exact = (job.status, job.created, job.skipped, records) == ("succeeded", matched - existing, existing, matched - existing)
    results = [
        figure(
            BENCH,
            "worker SIGKILL -> job running again",
            value=resumed,
            unit="s",
            limit=DEADLINE_SECONDS,
            goal=1.0,
            note=f"killed at {killed.processed} of {matched} processed",
        ),
        figure(
            BENCH,
            "created records vs expected after the kill",
            value=job.created,
            unit="rows",
            limit=matched - existing,
            goal=1.0,
            note=f"status {job.status}; {records} records of the job",
        ),
    ]
    results[1]["ok"] = results[1]["ok"] and exact
    return results
