"""Soak: the whole stack as ``bin/run`` starts it, on the embedded default (SQLite, the embedded broker), in a
fresh var/ folder; for ``size`` seconds (default 180, and a fifth of it) 8 API clients edit individuals
while background jobs run: an individuals import job (the demo's export, a dry run of 4 copies: > 1 MB) and
a mass creation of sales records over the individuals of five states, started at the beginning, with beat's sweeps;
half way through the jobs worker is killed with SIGKILL (supervisord starts it again).

Figures: responses 5xx (goal 0), the edits' p99 (goal <= 2 s), edits answered 503 "busy, try again"
(reported: a client sends them again), edits per second, the jobs succeeded within
``SOAK_JOBS_WAIT_SECONDS`` (120) after the edits stop, and whether the killed worker came back.
``SOAK_DATABASE_URL`` / ``SOAK_REDIS_URL`` run the same soak on PostgreSQL + Redis.

The stack is started once per ``python -m bench soak`` (both sizes use it) and stopped at exit.
"""

import atexit
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.report import figure

DEFAULT = 180
BENCH = "soak"
ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
EDIT_P99_LIMIT_SECONDS = 2.0
JOBS_WAIT_SECONDS = int(os.environ.get("SOAK_JOBS_WAIT_SECONDS", "120"))
SUCCEEDED = {"done", "succeeded", "completed"}
FINISHED = SUCCEEDED | {"failed", "needs_person", "cancelled"} | {f"answered {code}" for code in range(400, 600)}

_stack: dict = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_stack() -> dict:
    """``bin/run`` in a fresh var/ folder on free ports; returns its URL, login, supervisorctl and process."""
    if _stack:
        return _stack
    var = Path(tempfile.mkdtemp(prefix="soak-var-"))
    port, sandbox = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        AGENCYDESK_VAR_DIR=str(var),
        AGENCYDESK_PORT=str(port),
        SANDBOX_PORT=str(sandbox),
        DJANGO_DEBUG="false",
        THROTTLE_USER="1000000/min",
        THROTTLE_BULK="1000/min",
    )
    if os.environ.get("SOAK_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["SOAK_DATABASE_URL"]
    if os.environ.get("SOAK_REDIS_URL"):
        env["REDIS_URL"] = os.environ["SOAK_REDIS_URL"]
    log = open(var / "bin-run.log", "w")  # noqa: SIM115 (open while the stack runs)
    process = subprocess.Popen(["bash", "bin/run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    logins = var / "logins.txt"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bin/run exited ({process.returncode}); see {var / 'bin-run.log'}")
        try:
            if logins.exists() and "agency_admin" in logins.read_text() and requests.get(f"{url}/admin/login/", timeout=5).ok:
                break
        except requests.RequestException:
            pass
        time.sleep(2)
    else:
        raise SystemExit(f"the stack did not answer within 15 minutes; see {var / 'bin-run.log'}")
    username, password = re.search(r"(agency_admin) / (\S+)", logins.read_text()).groups()
    answer = requests.post(f"{url}/api/auth/token/", json={"username": username, "password": password}, timeout=30)
    answer.raise_for_status()
    token = answer.json()["token"]

    def stop():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()
        if not os.environ.get("SOAK_KEEP_VAR"):
            shutil.rmtree(var, ignore_errors=True)

    atexit.register(stop)
    _stack.update(
        url=url,
        token=token,
        var=var,
        process=process,
        env=env,
        ctl=[sys.executable, "-m", "supervisor.supervisorctl", "-c", str(var / "supervisord.conf")],
    )
    return _stack


def _worker_pid(stack: dict, name: str) -> int:
    out = subprocess.run([*stack["ctl"], "pid", f"app:{name}"], capture_output=True, text=True).stdout.strip()
    return int(out) if out.isdigit() else 0


def _start_jobs(session: requests.Session, url: str) -> dict:
    """An import job (dry run) and a mass creation; returns where to follow each."""
    jobs = {}
    export = session.get(f"{url}/api/individuals/export/", timeout=120)
    if export.ok and export.content.count(b"\n") > 1:
        head, _, rows = export.content.partition(b"\n")
        content = head + b"\n" + rows * 4
        answer = session.post(
            f"{url}/api/individuals/import/", files={"file": ("soak.csv", io.BytesIO(content), "text/csv")}, data={"dry_run": "true"}, timeout=120
        )
        job = answer.json().get("job") if answer.status_code == 202 else None
        jobs["import"] = f"{url}/api/import-jobs/{job}/" if job else f"answered {answer.status_code}"
    types = session.get(f"{url}/api/sales-record-types/", timeout=30).json()
    types = types.get("results", types) if isinstance(types, dict) else types
    if types:
        answer = session.post(
            f"{url}/api/sales-record-jobs/", json={"criteria": {"state": ["FL", "GA", "TX", "CA", "NY"]}, "record_type": types[0]["id"]}, timeout=60
        )
        ok = answer.status_code == 202
        jobs["mass_creation"] = f"{url}/api/sales-record-jobs/{answer.json()['id']}/" if ok else f"answered {answer.status_code}"
    return jobs


def run(size: int = DEFAULT) -> list[dict]:
    stack = _start_stack()
    url = stack["url"]
    session = requests.Session()
    session.headers["Authorization"] = f"Token {stack['token']}"
    ids = [row["id"] for row in session.get(f"{url}/api/individuals/?page_size=200", timeout=60).json()["results"]]
    jobs = _start_jobs(session, url)
    print(f"  jobs: {json.dumps(jobs)}")

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + size

    def client(seed: int):
        rnd = random.Random(seed)
        with requests.Session() as own:
            own.headers["Authorization"] = f"Token {stack['token']}"
            while time.monotonic() < stop_at:
                pk = rnd.choice(ids)
                start = time.perf_counter()
                try:
                    answer = own.patch(f"{url}/api/individuals/{pk}/", json={"nickname": f"soak {seed} {time.time():.3f}"}, timeout=60)
                    code = answer.status_code
                except requests.RequestException as exc:
                    code = 0
                    with lock:
                        errors.append(str(exc)[:200])
                took = time.perf_counter() - start
                with lock:
                    statuses[code] = statuses.get(code, 0) + 1
                    if code == 200:
                        latencies.append(took)
                if code == 503:
                    time.sleep(float(answer.headers.get("Retry-After", "1")))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(size / 2)
    killed = _worker_pid(stack, "worker")
    if killed:
        os.kill(killed, signal.SIGKILL)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    back = _worker_pid(stack, "worker")
    states, deadline = {}, time.monotonic() + JOBS_WAIT_SECONDS
    while True:  # the jobs, once the edits stop: finished within JOBS_WAIT_SECONDS?
        for name, where in jobs.items():
            if where.startswith("http"):
                body = session.get(where, timeout=30).json()
                states[name] = {k: body[k] for k in ("status", "rows", "processed", "created", "matched", "totals") if k in body}
            else:
                states[name] = {"status": where}
        if time.monotonic() > deadline or all(state["status"] in FINISHED for state in states.values()):
            break
        time.sleep(5)
    succeeded = sum(1 for state in states.values() if state["status"] in SUCCEEDED)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("inf")
    server_errors = sum(n for code, n in statuses.items() if code >= 500 and code != 503) + statuses.get(0, 0)
    print(f"  answers: {json.dumps(statuses)}; jobs now: {json.dumps(states)}; worker pid {killed} -> {back}")
    if errors:
        print(f"  first client error: {errors[0]}")
    rows = [
        figure(BENCH, "responses 5xx (not 503) or no answer", value=server_errors, unit="count", limit=1, goal=0, note="every edit was answered"),
        figure(
            BENCH, "edit p99", value=p99, unit="s", limit=EDIT_P99_LIMIT_SECONDS, goal=1.0, note=f"{len(latencies)} edits saved by {CLIENTS} clients"
        ),
        figure(
            BENCH,
            "edits answered 503 busy, try again",
            value=statuses.get(503, 0),
            unit="count",
            limit=max(1, sum(statuses.values())),
            goal=0.01,
            note="share of all edits (goal <= 1%)",
        ),
        figure(BENCH, "edits per second", value=len(latencies) / elapsed, unit="1/s", limit=1, goal=1, better="higher"),
        figure(
            BENCH,
            "background jobs succeeded",
            value=succeeded,
            unit="count",
            limit=max(1, len(jobs)),
            goal=1,
            better="higher",
            note=f"within {JOBS_WAIT_SECONDS} s after the edits: {json.dumps(states)[:300]}",
        ),
        figure(
            BENCH,
            "killed jobs worker restarted",
            value=1 if back and back != killed else 0,
            unit="bool",
            limit=1,
            goal=1,
            better="higher",
            note=f"pid {killed} -> {back}",
        ),
    ]
    return rows
