"""Hourly plan sync cost: ``python -m bench plan_sync [--size N]``.

N linked groups (default 200) x 8 plans, imported from the sandbox and synced once (set-up, no
latency; kept in ``var/bench/plan_sync/`` and the bench database for the next run of the same N). Then, with the sandbox at 20 ms per SOAP call:
(1) a quiet hour (no change anywhere): calls, held against the constant 3 (login, findChanges, logout);
(2) an hour where 2% of the plans changed on each side: calls per changed plan, goal <= 3;
(3) that hour's wall time against a plain client loop making the same number of calls serially
    (same latency, same run): goal <= 2x.
"""

import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.report import figure

DEFAULT = 200
PLANS = 8
LATENCY_MS = 20
ROOT = Path(__file__).resolve().parent.parent
ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:bp="http://ws.benefitpoint.com/common/v3">'
    "<soap:Header><bp:SessionIdHeader><bp:sessionId>{session}</bp:sessionId></bp:SessionIdHeader></soap:Header>"
    "<soap:Body><bp:getProduct><bp:productID>{product}</bp:productID></bp:getProduct></soap:Body></soap:Envelope>"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_sandbox(folder: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--db", str(folder / "sandbox.sqlite3")], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox did not start")


def _clean() -> None:
    from plans.models import EmployerGroup
    from plansync.models import AccountLink, BenefitsAdminAccount, PlanSyncRun, RemotePlan, SyncCursor

    PlanSyncRun.objects.all().delete()
    AccountLink.objects.all().delete()
    RemotePlan.objects.all().delete()
    BenefitsAdminAccount.objects.all().delete()
    SyncCursor.objects.all().delete()
    EmployerGroup.objects.filter(account_number__startswith="BA-").delete()


def _setup(url: str, size: int) -> list:
    from plansync.models import PlanChoice
    from plansync.services import Row, account_import, plan_choices_save, plan_sync_pass

    ids = requests.post(f"{url}/benefitpoint/_control/bench-seed", json={"accounts": size, "plans": PLANS}, timeout=600).json()["accountIDs"]
    links = []
    for account_id in ids:
        link = account_import(actor=None, account_id=account_id)
        products = requests.get(f"{url}/benefitpoint/_control/products", params={"accountID": account_id}, timeout=10).json()["results"]
        plan_choices_save(actor=None, link=link, rows=[Row(choice="create_there", product_id=p["productID"]) for p in products])
        links.append(link)
    plan_sync_pass(link_ids=[link.pk for link in links])
    failed = PlanChoice.objects.exclude(state=PlanChoice.State.SYNCED).count()
    if failed:
        raise RuntimeError(f"{failed} plans did not sync in the set-up")
    return links


def _calls(url: str) -> int:
    return requests.get(f"{url}/benefitpoint/_control/stats", timeout=5).json()["total_calls"]


def _plain_loop(url: str, calls: int) -> float:
    """Seconds for ``calls`` plain SOAP calls made one after another (no zeep, no Django, no database)."""
    http = requests.Session()
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:bp="http://ws.benefitpoint.com/common/v3">'
        "<soap:Body><bp:login><bp:username>agencydesk</bp:username><bp:password>sandbox-password</bp:password></bp:login>"
        "</soap:Body></soap:Envelope>"
    )
    reply = http.post(f"{url}/benefitpoint/services/LoginService", data=body, headers={"Content-Type": "text/xml"}, timeout=10)
    session = reply.text.split("sessionID>")[1].split("<")[0]
    product = requests.get(f"{url}/benefitpoint/_control/products", timeout=30).json()["results"][0]["productID"]
    start = time.perf_counter()
    for _ in range(calls):
        http.post(
            f"{url}/benefitpoint/services/BrokerConnectV4",
            data=ENVELOPE.format(session=session, product=product),
            headers={"Content-Type": "text/xml"},
            timeout=10,
        )
    return time.perf_counter() - start


def run(size: int = DEFAULT) -> list[dict]:
    from django.conf import settings

    from plans.services import plan_update
    from plansync.models import AccountLink, PlanChoice, PlanSyncItem
    from plansync.services import plan_sync_pass

    results = []
    folder = ROOT / "var" / "bench" / "plan_sync"
    reuse = (
        AccountLink.objects.count() == size
        and PlanChoice.objects.filter(state="synced").count() == size * PLANS
        and (folder / "benefitpoint.sqlite3").exists()
    )
    if not reuse:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    sandbox, url = _start_sandbox(folder)
    settings.SANDBOX_URL, settings.BENEFITS_ADMIN_URL = url, ""
    try:
        started = time.perf_counter()
        requests.put(f"{url}/benefitpoint/_control/knobs", json={"latency_ms": 0}, timeout=5)
        if not reuse:
            _clean()
            _setup(url, size)
        plan_sync_pass()  # settle: our set-up writes come back once through findChanges
        # An hour later the set-up's writes are long past the watermark's overlap: a short
        # overlap and a pause stand in for that hour (the overlap is for clock skew, not history).
        settings.PLANSYNC_WATERMARK_OVERLAP_SECONDS = 2
        time.sleep(3)
        print(
            f"plan_sync: {size} groups x {PLANS} plans {'reused' if reuse else 'linked'} in {time.perf_counter() - started:.1f} s; "
            f"sandbox latency {LATENCY_MS} ms"
        )
        requests.put(f"{url}/benefitpoint/_control/knobs", json={"latency_ms": LATENCY_MS}, timeout=5)

        before = _calls(url)
        plan_sync_pass()
        quiet = _calls(url) - before
        results.append(
            figure(
                "plan_sync", f"quiet hour: calls ({size} groups)", value=quiet, unit="calls", limit=3, goal=1.0, note="login + findChanges + logout"
            )
        )

        choices = list(PlanChoice.objects.select_related("plan").order_by("pk"))
        picked = random.Random(7).sample(choices, max(2, 2 * len(choices) * 2 // 100))
        far, near = picked[::2], picked[1::2]
        tag = f"{int(time.time()) % 100000}"  # new values on every run, also when the set-up is reused
        for choice in far:
            requests.patch(
                f"{url}/benefitpoint/_control/products/{choice.product_id}", json={"policyNumber": f"FAR-{tag}-{choice.pk}"}, timeout=5
            ).raise_for_status()
        for choice in near:
            plan_update(actor=None, plan=choice.plan, data={"name": f"Near change {tag} {choice.pk}"})
        before, start = _calls(url), time.perf_counter()
        runs = plan_sync_pass()
        seconds, calls = time.perf_counter() - start, _calls(url) - before
        changed = len(picked)
        arrived = sum(PlanChoice.objects.get(pk=c.pk).plan.policy_number == f"FAR-{tag}-{c.pk}" for c in far)
        failed = PlanSyncItem.objects.filter(run__in=runs, status="failed").count()
        results.append(
            figure(
                "plan_sync",
                "2% changed each side: calls per changed plan",
                value=calls / changed,
                unit="calls",
                limit=3,
                goal=1.0,
                note=f"{calls} calls, {changed} plans changed, {arrived}/{len(far)} far changes arrived, {failed} failed",
            )
        )
        floor = _plain_loop(url, calls)
        results.append(
            figure(
                "plan_sync",
                "2% changed each side: wall time vs plain loop",
                value=seconds,
                unit="s",
                limit=floor,
                goal=2.0,
                note=f"plain loop of {calls} serial calls at {LATENCY_MS} ms",
            )
        )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    return results
