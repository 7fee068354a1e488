"""The one conftest: shared fixtures for every app's tests."""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.rights import Area, Flag, Level
from tests.accounts.factories import SecurityGroupFactory, UserFactory

PASSWORD = "correct-horse-battery"
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


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


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
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "CELERY_TASK_ALWAYS_EAGER": "false"}
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env,
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


BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser downloads)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, django_db_serialized_rollback, live_server):
    """A browser page on the live server (serialized rollback: see ``celery_worker_process``)."""
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
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--db", str(db)], cwd=ROOT,
                               stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("the sandbox did not start")
    overrides = {"SANDBOX_URL": url, "BENEFITS_PLATFORM_URL": f"{url}/benefits", "INTEGRATIONS_READ_TIMEOUT": 1.0,
                 "INTEGRATIONS_RETRY_BACKOFF": 0.01}
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
        response = self.http.post(f"{self.url}/_control/accounts", timeout=5, json={
            "groupAccountInfo": {"accountName": name, "businessType": "Corporation"}})
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
