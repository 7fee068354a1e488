"""The one conftest: shared fixtures for every app's tests."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.rights import Area, Flag, Level
from tests.accounts.factories import PASSWORD, SecurityGroupFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("REDIS_URL"):
        skip = pytest.mark.skip(reason="starts a Celery worker against Redis: set REDIS_URL (the PostgreSQL + Redis pass)")
        for item in items:
            if "worker" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def make_user(db):
    """``make_user(individuals=Level.EDIT, flags={Flag.VIEW_FULL_PERSONAL_DATA})`` -> a user in a fresh group."""

    def make(flags=(), username=None, **levels):
        unknown = set(levels) - {a.value for a in Area}
        assert not unknown, f"unknown areas {unknown}"
        group = SecurityGroupFactory(**{k: int(v) for k, v in levels.items()}, **{Flag(f).value: True for f in flags})
        return UserFactory(security_group=group, **({"username": username} if username else {}))

    return make


@pytest.fixture
def agency_admin(make_user):
    return make_user(flags=set(Flag), **{a.value: Level.DELETE for a in Area})


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api(api_client, agency_admin):
    """An API client logged in as an agency admin."""
    api_client.force_authenticate(agency_admin)
    return api_client


@pytest.fixture
def api_as():
    """``api_as(user)`` -> an API client authenticated as ``user``."""

    def client_for(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def celery_worker_process(django_db_serialized_rollback, transactional_db, settings):
    """A real ``celery worker`` process on Redis, sharing the test database, on a queue of its own.

    Transactional tests flush the database afterwards; serialized rollback brings back the rows
    the data migrations seeded (security groups, carriers, record types) for the tests after.
    Every transactional test must use it: a plain one's flush recreates content types, and the
    next serialized test could not load its rows back.
    """
    from django.db import connection

    from config.celery import app

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        pytest.skip("a worker process cannot share an in-memory SQLite test database")
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    # Both queues (default and integrations) are the test's own, in this process and in the worker.
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "INTEGRATIONS_QUEUE": queue,
    }
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    settings.INTEGRATIONS_QUEUE = queue
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        yield process
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser downloads)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def reference_data(django_db_serialized_rollback):
    """The rows data migrations seed (security groups, carriers), whatever an earlier flush left."""
    from accounts.models import SecurityGroup
    from accounts.seeded_groups import seed_security_groups
    from plans.models import Carrier
    from plans.seeded_carriers import CARRIERS

    seed_security_groups(SecurityGroup)
    for name, code, naic in CARRIERS:
        Carrier.objects.get_or_create(code=code, defaults={"name": name, "naic": naic})


@pytest.fixture
def page(browser, django_db_serialized_rollback, reference_data, live_server):
    """A browser page on the live server (serialized rollback: see ``celery_worker_process``)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()  # a flush before this test gave the content types new ids
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def admin_login(page):
    """``admin_login(user)`` signs ``user`` into the admin in the browser page."""

    def login(user, password=PASSWORD):
        page.goto("/admin/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_selector("#user-tools")
        return page

    return login


# --- hrsync / sandbox ---
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """The sandbox (``python -m sandbox``) on a free loopback port with its own SQLite file.

    Yields its base URL; clients (and worker processes started later) are pointed at it.
    """
    import time

    import requests
    from django.conf import settings

    port = _free_port()
    db = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3"
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--db", str(db)], cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a busy machine starts a Python process slowly
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=5).ok:
                break
        except requests.RequestException:  # not listening yet, or not answering yet
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the sandbox did not start")
        time.sleep(0.1)
    overrides = {"SANDBOX_URL": url, "BENEFITS_PLATFORM_URL": f"{url}/benefits", "INTEGRATIONS_READ_TIMEOUT": 1.0, "INTEGRATIONS_RETRY_BACKOFF": 0.01}
    saved = {k: getattr(settings, k) for k in overrides}
    saved_env = {k: os.environ.get(k) for k in overrides}
    for key, value in overrides.items():
        setattr(settings, key, value)
        os.environ[key] = str(value)  # for worker processes started by tests
    try:
        yield url
    finally:
        for key, value in saved.items():
            setattr(settings, key, value)
        for key, value in saved_env.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        process.terminate()
        process.wait(timeout=10)


class SandboxControl:
    """Drive the sandbox from a test: knobs, stats, accounts."""

    def __init__(self, url: str):
        import requests

        self.url, self.http = url, requests.Session()

    def knobs(self, **values) -> dict:
        return self.http.put(f"{self.url}/_sandbox/knobs", json=values, timeout=5).json()

    def stats(self) -> dict:
        return self.http.get(f"{self.url}/_sandbox/stats", timeout=5).json()

    def accounts(self, email: str) -> list[dict]:
        return self.http.get(f"{self.url}/_sandbox/accounts", params={"email": email}, timeout=5).json()["results"]

    def reset(self) -> None:
        self.http.post(f"{self.url}/_sandbox/reset", timeout=5).raise_for_status()


@pytest.fixture
def sandbox(sandbox_server):
    """The running sandbox, reset to its demo accounts and no faults before and after the test."""
    control = SandboxControl(sandbox_server)
    control.reset()
    yield control
    control.reset()


# --- ui: no raw Python/JSON literals where text belongs ---
_RAW_LITERALS = [
    (r"\[\s*'", "a Python list"),
    (r"\{\s*'", "a Python dict"),
    (r"\{\s*\"", "a JSON object"),
    (r"\[\s*\"", "a JSON list"),
    (r"\bobject at 0x", "an object repr"),
    (r"<QuerySet", "a QuerySet repr"),
    (r"\b(?:datetime\.date|Decimal)\(", "a repr"),
]
_RAW_WORDS = {"None", "True", "False", "null", "true", "false"}
_SKIPPED_TAGS = {"script", "style", "textarea", "select", "option", "template"}
_SKIPPED_CLASSES = {"help", "description", "ad-code"}


def raw_literals(html: str) -> list[str]:
    """Where a rendered page shows a Python/JSON literal as text: ``["td: ['Phone']", ...]``.

    Reads the text of ``#content`` (and the title); form inputs, scripts, help texts and field
    descriptions are skipped (a JSON field's input is input, not text).
    """
    import re
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        VOID = {"input", "br", "img", "hr", "meta", "link", "col", "wbr", "source"}

        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.stack, self.found, self.depth_content = [], [], None

        def handle_starttag(self, tag, attrs):
            if tag in self.VOID:
                return
            attrs = dict(attrs)
            classes = set((attrs.get("class") or "").split())
            skip = tag in _SKIPPED_TAGS or bool(classes & _SKIPPED_CLASSES) or bool(self.stack and self.stack[-1][1])
            self.stack.append((tag, skip))
            if attrs.get("id") == "content" and self.depth_content is None:
                self.depth_content = len(self.stack)

        def handle_endtag(self, tag):
            if tag in self.VOID or all(open_tag != tag for open_tag, _ in self.stack):
                return
            while self.stack:
                open_tag, _ = self.stack.pop()
                if self.depth_content is not None and len(self.stack) < self.depth_content:
                    self.depth_content = None  # left #content
                if open_tag == tag:
                    break

        def handle_data(self, data):
            text = data.strip()
            if not text or not self.stack or self.stack[-1][1]:
                return
            tag = self.stack[-1][0]
            if self.depth_content is None and tag != "title":
                return
            if text in _RAW_WORDS:
                self.found.append(f"{tag}: {text}")
                return
            for pattern, what in _RAW_LITERALS:
                if re.search(pattern, text):
                    self.found.append(f"{tag}: {text[:120]} ({what})")
                    break

    reader = Reader()
    reader.feed(html)
    return reader.found


@pytest.fixture
def assert_no_raw_literals():
    """``assert_no_raw_literals(response_or_html, where="")`` fails when the page shows a Python/JSON literal."""

    def check(page, where=""):
        html = page if isinstance(page, str) else page.content.decode()
        found = raw_literals(html)
        assert not found, f"raw literals on {where or 'the page'}: {found}"

    return check


# --- plansync (benefits-admin system, BenefitPoint SOAP) ---
class BenefitPointControl:
    """Drive the sandbox's benefits-admin system from a test: knobs, products, the far side's edits."""

    def __init__(self, url: str):
        import requests

        self.url, self.http = f"{url}/benefitpoint", requests.Session()

    def knobs(self, **values) -> dict:
        response = self.http.put(f"{self.url}/_control/knobs", json=values, timeout=5)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return self.http.get(f"{self.url}/_control/stats", timeout=5).json()

    def products(self, **query) -> list[dict]:
        return self.http.get(f"{self.url}/_control/products", params=query, timeout=5).json()["results"]

    def product(self, product_id: int) -> dict:
        return next(p for p in self.products() if p["productID"] == product_id)

    def edit(self, product_id: int, **changes) -> None:
        self.http.patch(f"{self.url}/_control/products/{product_id}", json=changes, timeout=5).raise_for_status()

    def add(self, **product) -> int:
        response = self.http.post(f"{self.url}/_control/products", json=product, timeout=5)
        response.raise_for_status()
        return response.json()["ID"]

    def delete(self, product_id: int) -> None:
        self.http.delete(f"{self.url}/_control/products/{product_id}", timeout=5).raise_for_status()

    def add_account(self, name: str) -> int:
        response = self.http.post(
            f"{self.url}/_control/accounts", timeout=5, json={"groupAccountInfo": {"accountName": name, "businessType": "Corporation"}}
        )
        response.raise_for_status()
        return response.json()["accountID"]

    def reset(self) -> None:
        self.http.post(f"{self.url}/_control/reset", timeout=10).raise_for_status()


@pytest.fixture
def benefitpoint(sandbox_server, settings):
    """The sandbox's benefits-admin system, reset to its demo brokerage and no faults around the test."""
    settings.BENEFITS_ADMIN_URL = ""
    settings.INTEGRATIONS_RETRY_ATTEMPTS = 4
    settings.INTEGRATIONS_READ_TIMEOUT = 10.0  # no knob here holds a call: a slow machine is not a fault
    control = BenefitPointControl(sandbox_server)
    control.reset()
    yield control
    control.reset()


# --- carriers (carriers) ---
class NoyoControl:
    """Drive the sandbox's carrier-connection service from a test: rosters, clock and fault knobs, tokens."""

    def __init__(self, control: "SandboxControl"):
        self.control, self.url, self.http = control, control.url, control.http

    def seed(self, **roster) -> dict:
        reply = self.http.post(f"{self.url}/_sandbox/noyo/rosters", json=roster, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def knobs(self, **values) -> dict:
        return self.http.put(f"{self.url}/_sandbox/noyo/knobs", json=values, timeout=5).json()

    def expire_tokens(self) -> None:
        self.http.post(f"{self.url}/_sandbox/noyo/expire-tokens", timeout=5).raise_for_status()

    def connections(self) -> list[dict]:
        return self.http.get(f"{self.url}/_sandbox/noyo/connections", timeout=5).json()["results"]

    def violations(self) -> dict:
        return self.http.get(f"{self.url}/_sandbox/noyo/violations", timeout=5).json()


@pytest.fixture
def noyo(sandbox, monkeypatch):
    """The sandbox's carrier-connection service; every request the client sends to it and every response it
    returns is validated against the published contract, and the test fails on any violation (so does the
    sandbox's own check of what it sent)."""
    import json
    from urllib.parse import parse_qsl, urlsplit

    import requests

    from integrations.clients.noyo import NoyoClient
    from sandbox import noyo_contract

    NoyoClient._tokens.clear()
    violations, checked = [], [0]
    send = requests.Session.send

    def observed(session, request, **kwargs):
        response = send(session, request, **kwargs)
        url = urlsplit(request.url)
        if "/noyo/api/" in url.path:
            path = url.path.split("/noyo", 1)[1]
            body = json.loads(request.body) if request.body else None
            violations.extend(noyo_contract.request_violations(request.method, path, query=dict(parse_qsl(url.query)), body=body))
            if "X-Sandbox-Off-Contract" not in response.headers:  # a status the service added, on purpose
                violations.extend(
                    noyo_contract.response_violations(request.method, path, response.status_code, response.json() if response.content else None)
                )
            checked[0] += 1
        return response

    monkeypatch.setattr(requests.Session, "send", observed)
    control = NoyoControl(sandbox)
    control.checked = checked
    yield control
    assert violations == [], f"the client or the sandbox broke the contract: {violations[:5]}"
    assert control.violations()["count"] == 0, control.violations()


# --- ams (the agency management system and the CRM in the sandbox) ---
# The sandbox process started for the tests seeds a small book (its default is 3,000 customers).
os.environ.setdefault("AMS_SANDBOX_CUSTOMERS", "40")


class AmsControl:
    """Drive the sandbox's AMS and CRM from a test: seed, edit, merge, delete, knobs, notifications."""

    def __init__(self, url: str):
        import requests

        self.url, self.http = url, requests.Session()

    def _call(self, method: str, path: str, json=None):
        reply = self.http.request(method, f"{self.url}/_sandbox/ams/{path}", json=json, timeout=60)
        reply.raise_for_status()
        return reply.json()

    def reset(self, customers: int = 40) -> None:
        self._call("POST", "reset", {"customers": customers})

    def knobs(self, **values) -> dict:
        return self._call("PUT", "knobs", values)

    def customer(self, customer_id: str) -> dict:
        return self._call("GET", f"customers/{customer_id}")

    def insert(self, **fields) -> str:
        return self._call("POST", "customers", fields)["CustomerId"]

    def update(self, customer_id: str, **fields) -> None:
        self._call("POST", f"customers/{customer_id}", fields)

    def update_policy(self, policy_id: str, **fields) -> None:
        self._call("POST", f"policies/{policy_id}", fields)

    def insert_policy(self, **fields) -> str:
        return self._call("POST", "policies", fields)["PolicyId"]

    def merge(self, survivor: str, retired: str) -> None:
        self._call("POST", "merge", {"survivor": survivor, "retired": retired})

    def delete(self, customer_id: str) -> None:
        self._call("DELETE", f"customers/{customer_id}")

    def burst(self, count: int, seed: int = 1) -> list[str]:
        return self._call("POST", "burst", {"count": count, "seed": seed})["changed"]

    def flush(self) -> None:
        assert self._call("POST", "flush")["ok"]

    def notifications(self) -> list[dict]:
        return self._call("GET", "notifications")["results"]

    def stats(self) -> dict:
        return self._call("GET", "stats")

    def crm_records(self) -> list[dict]:
        return self.http.get(f"{self.url}/_sandbox/crm/records", timeout=10).json()["results"]


@pytest.fixture
def ams_sandbox(sandbox, sandbox_server):
    """The sandbox's AMS with a small book (40 customers, no notifications sent) and an empty CRM."""
    control = AmsControl(sandbox_server)
    control.reset(40)
    yield control
    control.reset(40)


@pytest.fixture(autouse=True)
def no_outside_call_in_transaction(request, monkeypatch):
    """Fail any test in which an HTTP request starts while a database transaction is open (the test's own
    wrapping transaction aside): outside calls happen between transactions (integrations.attempts).

    Each thread counts the transactions it opened itself: with a live server on SQLite in memory the
    server's threads share the test's one connection, so the connection can't tell whose transaction
    is open. A request started inside one fails the test at its end, from whichever thread it came.
    A test that needs otherwise is marked ``http_in_transaction``."""
    if request.node.get_closest_marker("http_in_transaction"):
        yield
        return
    import threading

    from django.db.transaction import Atomic
    from requests.adapters import HTTPAdapter

    mine, seen = threading.local(), []
    enter, leave, send = Atomic.__enter__, Atomic.__exit__, HTTPAdapter.send

    def entering(self):
        if not getattr(self, "_from_testcase", False):
            mine.depth = getattr(mine, "depth", 0) + 1
        return enter(self)

    def leaving(self, *exc):
        if not getattr(self, "_from_testcase", False):
            mine.depth -= 1  # first: a commit's on_commit callbacks run inside ``__exit__``, after the transaction
        return leave(self, *exc)

    def guarded(self, http_request, *args, **kwargs):
        if getattr(mine, "depth", 0):
            seen.append(f"{http_request.method} {http_request.url} started inside a database transaction (thread {threading.current_thread().name})")
        return send(self, http_request, *args, **kwargs)

    monkeypatch.setattr(Atomic, "__enter__", entering)
    monkeypatch.setattr(Atomic, "__exit__", leaving)
    monkeypatch.setattr(HTTPAdapter, "send", guarded)
    yield
    assert not seen, "record intent, commit, then call (integrations.attempts): " + "; ".join(seen[:5])
