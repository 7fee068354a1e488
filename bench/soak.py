"""Soak: the whole stack as ``bin/run`` starts it, on the embedded default (SQLite, the embedded broker), in a
fresh var/ folder, for ``--size`` seconds (default 180: three minutes) at once (issue 20):

- 8 API clients editing random individuals (PATCH), all the time;
- a real individuals import of ~``SOAK_IMPORT_MB`` MB (default 20) of new people, as a job;
- *Reconcile now* (AMS) over the sandbox's book;
- a mass creation of sales records over ``SOAK_RECORDS`` (10,000) seeded individuals, and more;
- a plan sync of ``SOAK_PLAN_ACCOUNTS`` (5) linked benefits-admin accounts x 8 plans;
- half way through, the jobs worker gets ``kill -9``, and a little later the integrations worker
  (supervisord starts them again; their work is resumed from its lease).

Pass: 0 responses 5xx (a 503 "busy, try again" is counted apart: goal <= 1% of the edits), edit p99 <= 2 s,
every job finished with exact counts (import: rows written = rows in the file = the individuals it made;
mass creation: created = the preview's "to create", skipped = its "existing"; reconciliation:
customers seen = the sandbox's customers, 0 failed; plan sync: every run succeeded and every plan
choice synced), within ``SOAK_JOBS_WAIT_SECONDS`` (900) of the edits stopping, and each killed worker
restarted. ``SOAK_DATABASE_URL`` / ``SOAK_REDIS_URL`` run the same soak on PostgreSQL + Redis (the database
is dropped and created again first, the Redis db flushed).

One size only (``--size``): the stack and its seeded data serve one soak.
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
JOBS_WAIT_SECONDS = int(os.environ.get("SOAK_JOBS_WAIT_SECONDS", "900"))
IMPORT_MB = float(os.environ.get("SOAK_IMPORT_MB", "20"))
RECORDS = int(os.environ.get("SOAK_RECORDS", "10000"))
PLAN_ACCOUNTS = int(os.environ.get("SOAK_PLAN_ACCOUNTS", "5"))
PLANS = 8
ONE_SIZE = True  # python -m bench: one soak, at --size
FINISHED = {"succeeded", "failed", "needs_person"}

_stack: dict = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_database(url: str) -> str:
    """Drop and create the soak's PostgreSQL database: each soak starts from what ``bin/run`` makes."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


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
    # A reconciliation's lease is renewed by its heartbeat every third of it; the default (900 s) would leave
    # the run of the killed integrations worker waiting 15 minutes before the sweep takes it up again.
    env.setdefault("AMS_RECONCILE_LEASE_SECONDS", "120")
    if os.environ.get("SOAK_DATABASE_URL"):
        env["DATABASE_URL"] = _fresh_database(os.environ["SOAK_DATABASE_URL"])
    if os.environ.get("SOAK_REDIS_URL"):
        env["REDIS_URL"] = os.environ["SOAK_REDIS_URL"]
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
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
        sandbox=f"http://127.0.0.1:{sandbox}",
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


def _manage(stack: dict, *args: str) -> str:
    """``manage.py ...`` on the stack's database (its environment); its output."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=stack["env"], capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)[:80]} failed: {done.stderr[-2000:]}")
    return done.stdout


def _shell(stack: dict, code: str):
    """A line of Python in ``manage.py shell`` on the stack's database that prints one JSON value."""
    return json.loads(_manage(stack, "shell", "-v", "0", "-c", code).strip().splitlines()[-1])


IMPORT_COLUMNS = ["first_name", "middle_name", "last_name", "record_status", "email", "cell_phone", "address_type"]
IMPORT_COLUMNS += ["address_line1", "city", "county", "zip_code", "state", "gender", "date_of_birth", "lead_source", "smoker_status"]


def import_file(megabytes: float, seed: int = 20) -> tuple[bytes, int]:
    """A CSV of new individuals (no id, no SSN: each row a new person) of about ``megabytes`` MB; (content, rows)."""
    rnd = random.Random(seed)
    firsts = ["Maria", "James", "Linda", "Robert", "Patricia", "John", "Barbara", "Michael", "Elena", "Samuel"]
    lasts = ["Garcia", "Smith", "Johnson", "Brown", "Jones", "Miller", "Davis", "Wilson", "Moore", "Taylor"]
    out = io.StringIO()
    out.write(",".join(IMPORT_COLUMNS) + "\r\n")
    rows, limit = 0, int(megabytes * 1024 * 1024)
    while out.tell() < limit:
        first, last = rnd.choice(firsts), rnd.choice(lasts)
        email = f"{first}.{last}.soak{seed}-{rows}@example.com".lower()
        status, gender = rnd.choice(["active", "prospect", "inactive"]), rnd.choice(["female", "male"])
        phone = f"555-{rnd.randrange(100, 999)}-{rnd.randrange(1000, 9999)}"
        born = f"19{rnd.randrange(40, 60)}-0{rnd.randrange(1, 9)}-1{rnd.randrange(0, 9)}"
        out.write(
            f"{first},A,{last},{status},{email},{phone},home,{rnd.randrange(1, 9999)} {last} Street,Miami,Miami-Dade,33101,FL,{gender},{born},"
            "Soak import,non_smoker\r\n"
        )
        rows += 1
    return out.getvalue().encode(), rows


def _setup(stack: dict, session: requests.Session) -> dict:
    """Before the clock: the individuals the mass creation needs, the plan-sync links with their choices,
    the import file; returns what the jobs are then checked against."""
    url, sandbox = stack["url"], stack["sandbox"]
    started = time.monotonic()
    _manage(stack, "seed_individuals", "--count", str(RECORDS))
    ids = requests.post(f"{sandbox}/benefitpoint/_control/bench-seed", json={"accounts": PLAN_ACCOUNTS, "plans": PLANS}, timeout=600).json()
    links = []
    for account_id in ids["accountIDs"]:
        answer = session.post(f"{url}/api/plan-sync-links/", json={"account_id": account_id}, timeout=120)
        answer.raise_for_status()
        link = answer.json()["id"]
        products = requests.get(f"{sandbox}/benefitpoint/_control/products", params={"accountID": account_id}, timeout=30).json()["results"]
        choices = [{"product_id": p["productID"], "choice": "create_there"} for p in products]
        session.post(f"{url}/api/plan-sync-links/{link}/choices/", json={"choices": choices}, timeout=120).raise_for_status()
        links.append(link)
    content, rows = import_file(IMPORT_MB)
    expected = _shell(
        stack,
        "import json; from individuals.models import Individual; from salesrecords.services import mass_creation_preview; "
        "print(json.dumps({**mass_creation_preview(criteria={}), 'individuals': Individual.objects.count()}))",
    )
    ams = requests.get(f"{sandbox}/_sandbox/ams/stats", timeout=30).json()
    print(
        f"  set-up in {time.monotonic() - started:.0f} s: {expected['individuals']:,} individuals, mass creation to create "
        f"{expected['to_create']:,}; import {len(content) / 1e6:.1f} MB, {rows:,} rows; {len(links)} plan-sync links x {PLANS} plans; "
        f"AMS {ams['customers']:,} customers"
    )
    return {"links": links, "content": content, "rows": rows, "preview": expected, "ams_customers": ams["customers"]}


def _follow(session: requests.Session, where: str) -> dict:
    answer = session.get(where, timeout=60)
    return answer.json() if answer.ok else {"status": f"answered {answer.status_code}"}


def _start_jobs(stack: dict, session: requests.Session, plan: dict) -> dict:
    """The four kinds of background work, started at once; returns where to follow each."""
    url, jobs = stack["url"], {}
    types = session.get(f"{url}/api/sales-record-types/", timeout=30).json()
    types = types.get("results", types) if isinstance(types, dict) else types
    answer = session.post(f"{url}/api/sales-record-jobs/", json={"criteria": {}, "record_type": types[0]["id"]}, timeout=60)
    jobs["mass creation"] = f"{url}/api/sales-record-jobs/{answer.json()['id']}/" if answer.status_code == 202 else f"answered {answer.status_code}"
    deadline = time.monotonic() + 60  # its snapshot (the highest individual id) before the import adds people
    while jobs["mass creation"].startswith("http") and time.monotonic() < deadline:
        if _follow(session, jobs["mass creation"]).get("matched"):
            break
        time.sleep(0.5)
    answer = session.post(
        f"{url}/api/individuals/import/",
        files={"file": ("soak.csv", io.BytesIO(plan["content"]), "text/csv")},
        data={"dry_run": "false"},
        timeout=300,
    )
    job = answer.json().get("job") if answer.status_code == 202 else None
    jobs["import"] = f"{url}/api/import-jobs/{job}/" if job else f"answered {answer.status_code}"
    answer = session.post(f"{url}/api/reconciliations/", timeout=60)
    jobs["reconciliation"] = f"{url}/api/reconciliations/{answer.json()['id']}/" if answer.status_code == 202 else f"answered {answer.status_code}"
    for link in plan["links"]:
        answer = session.post(f"{url}/api/plan-sync-links/{link}/sync/", timeout=60)
        ok = answer.status_code == 202
        jobs[f"plan sync {link}"] = f"{url}/api/plan-sync-runs/{answer.json()['latest_run']}/" if ok else f"answered {answer.status_code}"
    return jobs


def _exact(name: str, state: dict, plan: dict, session: requests.Session, url: str, imported: int) -> str:
    """'' when job ``name`` finished with its exact counts; otherwise what is off."""
    if state.get("status") != "succeeded":
        return f"{state.get('status')}: {str(state.get('reason', ''))[:200]}"
    if name == "mass creation":
        want = plan["preview"]
        got = (state["created"], state["skipped"])
        return "" if got == (want["to_create"], want["existing"]) else f"created, skipped {got} != {(want['to_create'], want['existing'])}"
    if name == "import":
        got = (state.get("rows_written"), imported)  # the reconciliation may bring in individuals too: count the file's
        return "" if got == (plan["rows"], plan["rows"]) else f"rows written, individuals imported {got} != {plan['rows']}"
    if name == "reconciliation":
        got = (state["customers_seen"], state["failed"])
        return "" if got == (plan["ams_customers"], 0) else f"customers seen, failed {got} != {(plan['ams_customers'], 0)}"
    link = session.get(f"{url}/api/plan-sync-links/{state['link']}/", timeout=60).json()
    synced = sum(1 for c in link["choices"] if c["sync_state"] == "synced")
    return "" if synced == PLANS else f"{synced} of {PLANS} plans synced"


def run(size: int = DEFAULT) -> list[dict]:
    stack = _start_stack()
    url = stack["url"]
    session = requests.Session()
    session.headers["Authorization"] = f"Token {stack['token']}"
    plan = _setup(stack, session)
    ids = [row["id"] for row in session.get(f"{url}/api/individuals/?page_size=200", timeout=60).json()["results"]]

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
                    elif code >= 500 and code != 503 and len(errors) < 20:
                        errors.append(f"{code}: {answer.text[:200]}")
                if code == 503:
                    time.sleep(float(answer.headers.get("Retry-After", "1")))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    jobs = _start_jobs(stack, session, plan)
    print(f"  jobs: {json.dumps(jobs)}")
    killed = {}
    for name, at in (("worker", 0.5), ("integrations", 0.6)):
        time.sleep(max(0.0, started + size * at - time.monotonic()))
        killed[name] = _worker_pid(stack, name)
        if killed[name]:
            os.kill(killed[name], signal.SIGKILL)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    back = {name: _worker_pid(stack, name) for name in killed}
    states, deadline = {}, time.monotonic() + JOBS_WAIT_SECONDS
    while True:  # the jobs, once the edits stop: finished within JOBS_WAIT_SECONDS?
        for name, where in jobs.items():
            states[name] = _follow(session, where) if where.startswith("http") else {"status": where}
        if time.monotonic() > deadline or all(state.get("status") in FINISHED for state in states.values()):
            break
        time.sleep(5)
    waited = time.monotonic() - started - elapsed
    shown = ("status", "rows", "rows_written", "created", "skipped", "customers_seen", "failed")
    short = {name: {k: state[k] for k in shown if k in state} for name, state in states.items()}
    print(f"  answers: {json.dumps(statuses)}; jobs after {waited:.0f} s more: {json.dumps(short)}; killed {killed} -> {back}")
    imported = _shell(stack, "from individuals.models import Individual; print(Individual.objects.filter(lead_source='Soak import').count())")
    off = {name: _exact(name, state, plan, session, url, imported) for name, state in states.items()}
    off = {name: why for name, why in off.items() if why}
    exact = len(states) - len(off)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("inf")
    server_errors = sum(n for code, n in statuses.items() if code >= 500 and code != 503) + statuses.get(0, 0)
    if off:
        print(f"  not exact: {json.dumps(off)}")
    if errors:
        print(f"  first client errors: {errors[:3]}")
    import_state = states.get("import", {})
    return [
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
            "jobs finished with exact counts",
            value=exact,
            unit="count",
            limit=len(states),
            goal=1,
            better="higher",
            note=f"import, reconciliation, mass creation, {len(plan['links'])} plan syncs; {waited:.0f} s after the edits stopped",
        ),
        figure(
            BENCH,
            "import rows per second",
            value=(import_state.get("rows_written") or 0) / max(1.0, elapsed + waited),
            unit="1/s",
            limit=1,
            goal=0,
            better="higher",
            note=f"{plan['rows']:,} rows, {len(plan['content']) / 1e6:.1f} MB, start to the end of the wait (reported)",
        ),
        figure(
            BENCH,
            "killed workers restarted",
            value=sum(1 for name in killed if back[name] and back[name] != killed[name]),
            unit="count",
            limit=len(killed),
            goal=1,
            better="higher",
            note=f"pids {killed} -> {back}",
        ),
    ]
