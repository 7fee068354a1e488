"""Latency and throughput under load: the production web layout driven by 1, 8 and 32 concurrent clients.

Starts the Procfile's ``web`` line (gunicorn with ``config/gunicorn.py``: its worker class and counts, as
production runs them) and its ``worker`` line (the jobs worker, for mass creation) on this benchmark's
PostgreSQL database and REDIS_URL, then drives them over HTTP from client threads in separate processes
(a small driver of our own: locust would bring gevent, Flask and more for the same loop). Each client
opens a connection per request (as a proxy in front of gunicorn would), waits for the whole answer, and
sends the next at once; a request that takes over 10 s is a timeout.

The mix, per request kind (weights): what programs do through the API and staff in the admin --

- ``api list``: ``GET /api/individuals/?coverage_type=medicare_advantage`` (a page of 50, one policy filter);
- ``detail``: ``GET /api/individuals/<id>/`` (with policies);
- ``quick search``: ``GET /api/search/?q=<a last name's start>``;
- ``admin search``: the individuals changelist with a search (``?last_name=<a last name>``: the advanced
  search's "Last name starts with"; the changelist has no ``q``), as a logged-in staff member;
- ``edit``: ``PATCH /api/individuals/<id>/`` (a nickname; validated, audited);
- ``floor``: the API list's floor (``bench/floor.py``: the same page by the smallest honest view), so
  that its latency under the same load is printed beside the real list's.

Phases, each ``--seconds`` long (default 60): the mix at 1, 8 and 32 clients; the mix at 8 clients while
mass creations run back to back (``POST /api/sales-record-jobs/``, one state and record status at a time,
each job waited for; when every individual has a sales record they are deleted and the jobs start over);
at 32 clients the API list alone and the floor alone (throughput). Per phase and kind: p50, p99,
requests/s, errors (5xx, 4xx, connection failures) and timeouts, with the load average.

Goals (2 cores): at 8 clients the API list's p99 <= 50 ms and the admin search's <= 300 ms; at 32 clients
no error nor timeout, and the API list alone serves >= 0.7 of what its floor alone serves; a running mass
creation keeps the API list's p99 within 2x of its value without one.
"""

import http.client
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.report import figure

DEFAULT = 1_000_000
BENCH = "load"
ROOT = Path(__file__).resolve().parent.parent
SECONDS = 60  # per phase; ``python -m bench load --seconds 15`` for a quicker run
TIMEOUT = 10.0
POLICY_QUERY = "coverage_type=medicare_advantage"
MIX = {"api list": 40, "detail": 20, "quick search": 15, "admin search": 8, "edit": 10, "floor": 7}


# --- the driver (runs in its own processes: nothing here touches Django) --------------------------------
def _request(kind: str, plan: dict, rnd: random.Random) -> tuple[str, str, dict, bytes | None]:
    api = {"Authorization": f"Token {plan['token']}", "Accept": "application/json"}
    if kind == "api list":
        return "GET", f"/api/individuals/?{POLICY_QUERY}", api, None
    if kind == "floor":
        return "GET", f"/api/_floor/individuals/?{POLICY_QUERY}", api, None
    if kind == "detail":
        return "GET", f"/api/individuals/{rnd.choice(plan['ids'])}/", api, None
    if kind == "quick search":
        return "GET", f"/api/search/?q={rnd.choice(plan['names'])[:4]}", api, None
    if kind == "admin search":
        return "GET", f"/admin/individuals/individual/?last_name={rnd.choice(plan['names'])}", {"Cookie": plan["cookie"], "Accept": "text/html"}, None
    if kind == "edit":
        body = json.dumps({"nickname": f"load {rnd.randrange(10**6)}"}).encode()
        return "PATCH", f"/api/individuals/{rnd.choice(plan['edit_ids'])}/", {**api, "Content-Type": "application/json"}, body
    raise ValueError(kind)


def _send(port: int, method: str, path: str, headers: dict, body: bytes | None) -> tuple[int | str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except TimeoutError:
        return "timeout", b""
    except (OSError, http.client.HTTPException):
        return "error", b""
    finally:
        conn.close()


def _drive(args: tuple) -> dict[str, list[tuple[float, int | str]]]:
    """One driver process: ``threads`` clients from ``start`` (wall clock) for ``seconds``; per kind, the
    (seconds, status) of each request started within the window."""
    port, plan, mix, threads, start, seconds, seed = args
    kinds, weights = list(mix), list(mix.values())
    out: dict[str, list] = {kind: [] for kind in kinds}
    lock = threading.Lock()

    def client(n: int) -> None:
        rnd = random.Random(seed * 1000 + n)
        mine = []
        while time.time() < start:
            time.sleep(0.001)
        end = start + seconds
        while (began := time.time()) < end:
            kind = rnd.choices(kinds, weights)[0]
            t0 = time.perf_counter()
            status, _ = _send(port, *_request(kind, plan, rnd))
            mine.append((kind, time.perf_counter() - t0, status, began))
        with lock:
            for kind, elapsed, status, _ in mine:
                out[kind].append((elapsed, status))

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return out


def _drive_main() -> None:
    """A driver process's entry point: the arguments of ``_drive`` as JSON on stdin, its result on stdout."""
    args = json.loads(sys.stdin.read())
    print(json.dumps(_drive(tuple(args))))


def _drain(port: int, plan: dict) -> None:
    """Wait (up to 2 minutes) until the server answers the floor within a second again: requests whose
    clients gave up (timeouts) are still queued or running in the workers and would weigh on the next phase."""
    headers = {"Authorization": f"Token {plan['token']}"}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        status, _ = _send(port, "GET", f"/api/_floor/individuals/?{POLICY_QUERY}", headers, None)
        if status == 200 and time.perf_counter() - t0 < 1.0:
            return
        time.sleep(1)


def _drivers(entry: str, arguments: list[list], port: int, plan: dict, mix: dict, cpus: set[int] | None = None) -> dict[str, list]:
    """One driver process per item of ``arguments`` (new interpreters that run ``entry``, a function of a
    bench module reading its arguments as JSON on stdin: nothing of this process's Django or its
    connections), pinned to ``cpus`` when given; their requests merged per kind, then the server drained."""
    drivers = []
    for args in arguments:
        module, _, function = entry.rpartition(".")
        driver = subprocess.Popen(
            [sys.executable, "-c", f"from {module} import {function}; {function}()"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if cpus:
            os.sched_setaffinity(driver.pid, cpus)
        driver.stdin.write(json.dumps(args))
        driver.stdin.close()
        drivers.append(driver)
    merged: dict[str, list] = {kind: [] for kind in mix}
    for driver in drivers:
        for kind, rows in json.loads(driver.stdout.read()).items():
            merged[kind] += [tuple(row) for row in rows]
        driver.wait()
    _drain(port, plan)
    return merged


def _phase(port: int, plan: dict, mix: dict, clients: int, seconds: float) -> dict[str, list]:
    """``clients`` concurrent clients for ``seconds``, spread over up to 4 driver processes."""
    processes = min(clients, 4)
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    start = time.time() + 2.0  # every process ready before the window opens
    return _drivers("bench.load._drive_main", [[port, plan, mix, n, start, seconds, i] for i, n in enumerate(shares)], port, plan, mix)


# --- the benchmark -------------------------------------------------------------------------------------
def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _summary(rows: list, seconds: float) -> dict:
    times = [elapsed for elapsed, _ in rows]
    return {
        "requests": len(rows),
        "p50_ms": round(_quantile(times, 0.5) * 1000, 2),
        "p99_ms": round(_quantile(times, 0.99) * 1000, 2),
        "rps": round(len(rows) / seconds, 1),
        "errors": sum(1 for _, s in rows if s == "error" or (isinstance(s, int) and s >= 400)),
        "timeouts": sum(1 for _, s in rows if s == "timeout"),
    }


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _print_phase(name: str, clients: int, result: dict, seconds: float, layout: str) -> dict[str, dict]:
    from bench import report

    load = _load()
    print(f"  {name}, {clients} client(s), {seconds:g} s (load {load}; {layout}):")
    summaries = {}
    for kind, rows in result.items():
        if not rows:
            continue
        s = summaries[kind] = _summary(rows, seconds)
        print(
            f"    {kind:<22} p50 {s['p50_ms']:>8.1f} ms  p99 {s['p99_ms']:>8.1f} ms  {s['rps']:>7.1f} req/s  "
            f"errors {s['errors']}  timeouts {s['timeouts']}  ({s['requests']} requests)"
        )
        line = {"bench": BENCH, "figure": f"{name} {clients}: {kind}", "clients": clients, **s, "load": load, "layout": layout, "size": report.SIZE}
        print(json.dumps(line))
    return summaries


def _procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, _, command = line.partition(":")
        if key.strip() == name:
            return command.strip()
    raise LookupError(name)


def _start(name: str, env: dict, log: Path) -> subprocess.Popen:
    """The Procfile's ``name`` line as bin/run starts it (``sh -c 'exec <line>'``), in its own process group."""
    return subprocess.Popen(
        ["/bin/sh", "-c", f"exec {_procfile_command(name)}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _plan(size: int) -> dict:
    """Credentials and the records the clients pick from."""
    import secrets

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import SecurityGroup, User
    from accounts.services import api_token_create, user_create

    # A user of its own (bench search replaces its user's tokens), in a real security group.
    user = User.objects.filter(username="bench-load").first() or user_create(
        actor=None, username="bench-load", password=secrets.token_urlsafe(16), security_group=SecurityGroup.objects.get(name="Agency Admin")
    )
    user.auth_token_set.all().delete()
    _, token = api_token_create(user=user)
    session = Client()
    session.force_login(user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM individuals_individual TABLESAMPLE SYSTEM (1) LIMIT 2000")
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT DISTINCT last_name FROM individuals_individual ORDER BY 1")  # every name, A to Z
        names = [row[0] for row in cursor.fetchall()]
    return {
        "token": token,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session.cookies[settings.SESSION_COOKIE_NAME].value}",
        "ids": ids,
        "edit_ids": ids[:500],
        "names": names,
    }


def _clear_sales_records() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("salesrecords_activity", "salesrecords_salesworkflowrun", "salesrecords_salesrecord", "salesrecords_masscreationjob"):
            cursor.execute(f"DELETE FROM {table}")


class _MassCreations(threading.Thread):
    """Mass creations back to back through the API, one (state, record status) slice at a time; when every
    slice is done the sales records are deleted and the jobs start over."""

    def __init__(self, port: int, plan: dict):
        super().__init__(daemon=True)
        from django.db import connection

        from salesrecords.models import SalesRecordType

        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT state, record_status FROM individuals_individual ORDER BY 1, 2")
            self.slices = cursor.fetchall()
        self.record_type = SalesRecordType.objects.get(name="Lead").pk
        self.port, self.plan = port, plan
        self.stopping = threading.Event()
        self.jobs, self.created, self.posts, self.failed = 0, 0, [], []

    def run(self) -> None:
        headers = {"Authorization": f"Token {self.plan['token']}", "Accept": "application/json", "Content-Type": "application/json"}
        i = 0
        while not self.stopping.is_set():
            if i == len(self.slices):
                _clear_sales_records()
                i = 0
            state, status = self.slices[i]
            i += 1
            body = json.dumps({"criteria": {"state": [state], "record_status": [status]}, "record_type": self.record_type}).encode()
            t0 = time.perf_counter()
            code, content = _send(self.port, "POST", "/api/sales-record-jobs/", headers, body)
            self.posts.append((time.perf_counter() - t0, code))
            if code not in (201, 202):
                self.failed.append((code, content[:200]))
                time.sleep(0.5)
                continue
            job = json.loads(content)["id"]
            while not self.stopping.wait(0.2):
                code, content = _send(self.port, "GET", f"/api/sales-record-jobs/{job}/", headers, None)
                if code == 200 and json.loads(content)["status"] in ("succeeded", "failed", "needs_person"):
                    self.jobs += 1
                    self.created += json.loads(content)["created"]
                    break


def _wait_ready(port: int, process: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"the web process stopped: {log.read_text()[-2000:]}")
        status, _ = _send(port, "GET", "/api/_floor/individuals/", {}, None)
        if status == 401:
            return
        time.sleep(0.1)
    raise RuntimeError("the web process did not answer within 30 s")


def _layout() -> str:
    import importlib.util

    from django.conf import settings

    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "config" / "gunicorn.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    web_env = dict(item.split("=", 1) for item in getattr(conf, "raw_env", []))
    pool = int(web_env.get("DATABASE_POOL_SIZE") or settings.DATABASE_POOL_SIZE or 0)
    db = f"pool {pool}" if pool else f"CONN_MAX_AGE {settings.DATABASES['default']['CONN_MAX_AGE']}"
    return f"gunicorn {conf.worker_class} x{conf.workers}" + (f" threads {conf.threads}" if conf.worker_class == "gthread" else "") + f", {db}"


def _prepare(size: int) -> tuple[dict, int, dict]:
    """The database of ``size`` individuals ready (seeded, no sales records), the clients' plan, a free
    port and the environment the Procfile's processes are started with: (plan, port, env)."""
    from bench.setup import ensure_individuals, sized_database

    url = sized_database(size)
    ensure_individuals(size)
    _clear_sales_records()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/5",
        "AGENCYDESK_PORT": str(port),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local"),
        "GUNICORN_ACCESS_LOG": os.environ.get("GUNICORN_ACCESS_LOG", "-"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "LOG_LEVEL": "WARNING",
    }
    return _plan(size), port, env


def run(size: int = DEFAULT, seconds: float | None = None) -> list[dict]:
    seconds = seconds or float(os.environ.get("BENCH_LOAD_SECONDS") or SECONDS)
    plan, port, env = _prepare(size)
    layout = _layout()
    logs = Path(os.environ.get("BENCH_LOAD_LOGS") or tempfile.gettempdir()) / f"bench-load-{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"  {layout}; logs in {logs}; web command: {shlex.quote(_procfile_command('web'))}")
    web = _start("web", env, logs / "web.log")
    worker = _start("worker", env, logs / "worker.log")
    results: list[dict] = []
    try:
        _wait_ready(port, web, logs / "web.log")
        _phase(port, plan, MIX, 4, min(seconds, 5))  # warm-up: every worker has loaded its code and connected
        mix = {}
        for clients in (1, 8, 32):
            mix[clients] = _print_phase("mix", clients, _phase(port, plan, MIX, clients, seconds), seconds, layout)
        creations = _MassCreations(port, plan)
        creations.start()
        busy = _print_phase("mix with mass creation", 8, _phase(port, plan, MIX, 8, seconds), seconds, layout)
        creations.stopping.set()
        creations.join(timeout=60)
        post = _summary(creations.posts, seconds)
        print(
            f"    mass creation: {creations.jobs} jobs done, {creations.created:,} records created during the phase; "
            f"POST p50 {post['p50_ms']:.0f} ms, {len(creations.failed)} refused {creations.failed[:2]}"
        )
        alone = _print_phase("api list alone", 32, _phase(port, plan, {"api list": 1}, 32, seconds), seconds, layout)
        floor = _print_phase("floor alone", 32, _phase(port, plan, {"floor": 1}, 32, seconds), seconds, layout)
    finally:
        _stop(web)
        _stop(worker)
    note = f"load {_load()}; {layout}"
    for kind, limit in (("api list", 50), ("admin search", 300)):
        p99 = mix[8][kind]["p99_ms"]
        results.append(figure(BENCH, f"8 clients: {kind} p99 vs {limit} ms", value=p99, unit="ms", limit=limit, goal=1.0, grows="flat", note=note))
    failures = sum(s["errors"] + s["timeouts"] for s in (*mix[32].values(), *alone.values(), *floor.values()))
    results.append(figure(BENCH, "32 clients: errors and timeouts", value=failures, unit="req", limit=1, goal=0.0, note=note))
    results.append(
        figure(
            BENCH,
            "32 clients: api list alone vs its floor alone",
            value=alone["api list"]["rps"],
            unit="req/s",
            limit=floor["floor"]["rps"],
            goal=0.7,
            better="higher",
            note=note,
        )
    )
    results.append(
        figure(
            BENCH,
            "8 clients: api list p99 with mass creation vs without",
            value=busy["api list"]["p99_ms"],
            unit="ms",
            limit=mix[8]["api list"]["p99_ms"],
            goal=2.0,
            note=f"{creations.jobs} jobs, {creations.created:,} records during the phase; {note}",
        )
    )
    return results
