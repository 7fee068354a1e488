"""The benchmarks' floor of the API list (bench/floor.py): never mounted unless asked for, never in
production, and when mounted it answers exactly what ``GET /api/individuals/`` answers."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.urls import clear_url_caches
from rest_framework.test import APIClient

from accounts.rights import Level
from accounts.services import api_token_create
from individuals.models import Policy
from tests.individuals.factories import IndividualFactory, PolicyFactory

ROOT = Path(__file__).resolve().parents[2]


def test_the_floor_is_not_mounted_by_default(api):
    assert api.get("/api/_floor/individuals/").status_code == 404


def test_production_settings_never_mount_it_even_when_asked():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "AGENCYDESK_BENCH_FLOOR": "true",
        "DJANGO_SECRET_KEY": "x" * 60,
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "PERSONAL_DATA_KEYS": "k" * 44,
        "PERSONAL_DATA_HASH_KEY": "h" * 32,
        "AMS_WEBHOOK_SECRET": "s" * 40,
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.BENCH_FLOOR)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def floor_mounted(settings):
    settings.BENCH_FLOOR = True
    import config.api_router
    import config.urls

    importlib.reload(config.api_router)
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.BENCH_FLOOR = False
    importlib.reload(config.api_router)
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the floor's SQL is PostgreSQL's, as the benchmarks run")
def test_the_floor_answers_what_the_api_answers(floor_mounted, make_user):
    for i in range(7):
        person = IndividualFactory(last_name=f"Floor{i % 3}", ssn=f"123-45-{6780 + i}", custom_fields={"tier": i})
        PolicyFactory(individual=person, coverage_type=Policy.CoverageType.MEDICARE_ADVANTAGE if i % 2 else Policy.CoverageType.DENTAL)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=make_user(individuals=Level.VISIBLE))[1]}")
    for query in ("page_size=3", "page_size=3&page=2", "coverage_type=medicare_advantage&page_size=2&page=2"):
        api = client.get(f"/api/individuals/?{query}").json()
        floor = client.get(f"/api/_floor/individuals/?{query}").json()
        assert {k: v.replace("/api/_floor/", "/api/") if isinstance(v, str) else v for k, v in floor.items()} == api, query
        assert api["results"]
    nobody = APIClient()
    nobody.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=make_user())[1]}")
    assert nobody.get("/api/_floor/individuals/").status_code == 403
    assert APIClient().get("/api/_floor/individuals/").status_code == 401
