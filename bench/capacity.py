"""How many people one machine holds, and what a second core buys: the mix at a steady rate of arrivals.

``bench load`` drives the web with clients that send their next request the moment the last one is
answered (closed loop): the machine is always saturated, which says how it degrades, not how much
it holds. Here requests *arrive* at a set rate, as they do from many people each clicking now and
then (open loop, Poisson arrivals; a request's time counts from when it was due, so a server that
falls behind is not flattered by requests that were sent late). The rate goes up a step at a time
(``STEPS`` requests/s, ``--seconds`` each, 20 by default) until a goal is missed; the **capacity** is the
last rate at which every goal held:

- API list (one policy filter) p99 <= 50 ms and admin changelist search p99 <= 300 ms (the goals
  ``bench load`` holds at 8 clients);
- no error nor timeout.

The same mix as ``bench load`` (API list 40 %, detail 20 %, quick search 15 %, admin search 8 %, edits
10 %, the floor 7 %) on the Procfile's ``web`` (gunicorn, ``config/gunicorn.py``) and jobs ``worker``, on
PostgreSQL and Redis. It runs twice: with the web, the worker, PostgreSQL and Redis on one core
(``sched_setaffinity``; the driver then runs on the other), then on both cores (beside the driver), so
the second figure over the first is what one more core bought on this machine.

People: the capacity is held against what a hundred staff and three partner programs would send
(``DEMAND``): a person at work in the admin one request every 10 s (``PER_PERSON``), a program a steady
2 requests/s (``PER_PROGRAM``). These rates are assumptions, printed with the figures, not measurements;
a program at its throttle's full rate (``THROTTLE_USER``, 20/s) would send ten times that.
"""

import json
import os
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.load import MIX, ROOT, _drivers, _prepare, _request, _send, _start, _stop, _summary, _wait_ready
from bench.report import figure

DEFAULT = 200_000
BENCH = "capacity"
SECONDS = 20
STEPS = (5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 160, 200)
PER_PERSON = 0.1  # requests/s of one person at work (one every 10 s): an assumption, see above
PER_PROGRAM = 2.0  # requests/s of one partner program: an assumption
DEMAND = 100 * PER_PERSON + 3 * PER_PROGRAM  # a hundred staff and three partner programs
GOALS = {"api list": 50.0, "admin search": 300.0}
ONE_SIZE = True  # the data size matters less than the rate: one size (``--size``), 200k by default


# --- the driver (its own processes: nothing here touches Django) ------------------------------------
def _paced(args: tuple) -> dict[str, list]:
    """Requests due at Poisson arrivals of ``rate``/s from ``start`` for ``seconds``, each sent by a pool
    thread; per kind, (seconds from when it was due to its answer, status)."""
    port, plan, mix, rate, start, seconds, seed = args
    rnd = random.Random(seed)
    kinds, weights = list(mix), list(mix.values())
    out: dict[str, list] = {kind: [] for kind in kinds}
    lock = threading.Lock()

    def one(kind: str, due: float, request: tuple) -> None:
        status, _ = _send(port, *request)
        with lock:
            out[kind].append((time.perf_counter() - due, status))

    due, end = 0.0, seconds
    with ThreadPoolExecutor(max_workers=256) as pool:
        origin = time.perf_counter() + (start - time.time())
        while True:
            due += rnd.expovariate(rate)
            if due >= end:
                break
            wait = origin + due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            kind = rnd.choices(kinds, weights)[0]
            pool.submit(one, kind, origin + due, _request(kind, plan, rnd))
    return out


def _paced_main() -> None:
    args = json.loads(sys.stdin.read())
    print(json.dumps(_paced(tuple(args))))


def _step(port: int, plan: dict, rate: float, seconds: float, cpus: set[int] | None) -> dict[str, list]:
    """``rate`` requests/s for ``seconds`` from two driver processes (pinned to ``cpus`` when given)."""
    start = time.time() + 2.0
    arguments = [[port, plan, MIX, rate / 2, start, seconds, int(rate) * 10 + i] for i in range(2)]
    return _drivers("bench.capacity._paced_main", arguments, port, plan, MIX, cpus)


# --- pinning the server -------------------------------------------------------------------------------
def _server_pids(processes: list[subprocess.Popen]) -> list[int]:
    """The web and worker process trees, PostgreSQL's and Redis's processes (new PostgreSQL backends
    inherit the postmaster's affinity)."""
    import psutil

    pids = []
    for process in processes:
        parent = psutil.Process(process.pid)
        pids += [parent.pid, *(child.pid for child in parent.children(recursive=True))]
    for p in psutil.process_iter(["name", "cmdline"]):
        name = p.info["name"] or ""
        if name.startswith(("postgres", "redis-server")):
            pids.append(p.pid)
    return pids


def _pin(processes: list[subprocess.Popen], cpus: set[int]) -> None:
    for pid in _server_pids(processes):
        try:
            for thread in os.listdir(f"/proc/{pid}/task"):
                os.sched_setaffinity(int(thread), cpus)
        except (OSError, FileNotFoundError):
            pass  # a process that ended meanwhile, or one that is not ours to pin


# --- the benchmark -------------------------------------------------------------------------------------
def _holds(summary: dict[str, dict]) -> tuple[bool, str]:
    """Every goal at one rate (a request that was answered late counts late: its time runs from when it was due)."""
    failures = sum(s["errors"] + s["timeouts"] for s in summary.values())
    missed = [
        f"{kind} p99 {summary[kind]['p99_ms']:.0f} ms > {limit:.0f}"
        for kind, limit in GOALS.items()
        if summary.get(kind, {}).get("p99_ms", 0) > limit
    ]
    if failures:
        missed.append(f"{failures} errors/timeouts")
    return not missed, "; ".join(missed)


def _climb(port: int, plan: dict, seconds: float, cpus_label: str, driver_cpus: set[int] | None) -> float:
    """Step the rate up until a goal fails twice in a row; the last rate that held."""
    held, failed = 0.0, 0
    for rate in STEPS:
        result = _step(port, plan, rate, seconds, driver_cpus)
        summary = {kind: _summary(r, seconds) for kind, r in result.items() if r}
        ok, why = _holds(summary)
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"  {cpus_label}: {rate:>4} req/s (load {load}): {'held' if ok else 'MISSED: ' + why}")
        for kind, s in summary.items():
            times = f"p50 {s['p50_ms']:>7.1f} ms  p99 {s['p99_ms']:>7.1f} ms  {s['rps']:>6.1f} req/s"
            print(f"    {kind:<14} {times}  errors {s['errors']}  timeouts {s['timeouts']}")
            line = {"bench": BENCH, "figure": f"{cpus_label} at {rate} req/s: {kind}", "rate": rate, **s, "load": load}
            print(json.dumps(line))
        if ok:
            held, failed = float(rate), 0
        else:
            failed += 1
            if failed == 2:
                break
    return held


def run(size: int = DEFAULT, seconds: float | None = None) -> list[dict]:
    from bench import report

    report.SIZE = size
    seconds = seconds or float(os.environ.get("BENCH_LOAD_SECONDS") or SECONDS)
    plan, port, env = _prepare(size)
    logs = ROOT / "var" / "bench" / f"capacity-{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    every = set(range(os.cpu_count() or 1))
    web = _start("web", env, logs / "web.log")
    worker = _start("worker", env, logs / "worker.log")
    capacity = {}
    try:
        _wait_ready(port, web, logs / "web.log")
        _step(port, plan, 20, 5, None)  # warm-up: every web process has loaded its code and connected
        if len(every) > 1:
            _pin([web, worker], {0})
            capacity[1] = _climb(port, plan, seconds, "1 core", every - {0})
            _pin([web, worker], every)
        capacity[len(every)] = _climb(port, plan, seconds, f"{len(every)} cores", None)
    finally:
        _pin([web, worker], every)
        _stop(web)
        _stop(worker)
    results = []
    people = (capacity[len(every)] - 3 * PER_PROGRAM) / PER_PERSON
    note = f"a hundred staff and three programs send {DEMAND:g} req/s (assumed rates); it holds about {people:.0f} staff beside the programs"
    results.append(
        figure(
            BENCH,
            f"capacity on {len(every)} cores vs 100 staff + 3 programs",
            value=capacity[len(every)],
            unit="req/s",
            limit=DEMAND,
            goal=1.0,
            better="higher",
            note=note,
        )
    )
    if capacity.get(1):
        results.append(
            figure(
                BENCH,
                f"{len(every)} cores vs 1 core",
                value=capacity[len(every)],
                unit="req/s",
                limit=capacity[1],
                goal=1.5,  # what one more core should buy at least
                note=f"1 core held {capacity[1]:g} req/s",
                better="higher",
            )
        )
    elif 1 in capacity:
        print(f"  1 core held none of the rates from {STEPS[0]} req/s: no ratio")
    return results
