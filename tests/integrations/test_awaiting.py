"""Awaiting a person: one inbox, oldest first, of what every sync left for people, by right."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.rights import Level
from integrations import decisions


@pytest.fixture
def two_sources():
    now = timezone.now()
    old = decisions.Decision(
        kind="Plan-sync conflict",
        title="Dental PPO: deductible",
        blocks="Dental PPO does not sync",
        opened_at=now - timedelta(days=3),
        url="/admin/plansync/plansyncconflict/1/change/",
    )
    new = decisions.Decision(
        kind="Carrier discrepancy",
        title="Acme at Aetna: Jane Roe missing",
        blocks="Jane Roe's coverage",
        opened_at=now - timedelta(hours=2),
        url="/admin/carriers/discrepancy/7/change/",
        impact=4,
    )
    saved = dict(decisions._SOURCES)
    decisions._SOURCES.clear()
    decisions.register(
        decisions.DecisionSource(
            key="plans", kind=old.kind, permission="plans.view_plan", url="admin:index", count=lambda: 1, rows=lambda limit: [old]
        )
    )
    decisions.register(
        decisions.DecisionSource(
            key="carriers", kind=new.kind, permission="carriers.view_discrepancy", url="admin:index", count=lambda: 1, rows=lambda limit: [new]
        )
    )
    yield old, new
    decisions._SOURCES.clear()
    decisions._SOURCES.update(saved)


def test_the_inbox_lists_every_kind_oldest_first_with_what_it_blocks(client, agency_admin, two_sources):
    client.force_login(agency_admin)
    html = client.get("/admin/awaiting/").content.decode()
    assert html.index("Dental PPO does not sync") < html.index("Jane Roe&#x27;s coverage")
    assert "3\xa0days" in html and "Plan-sync conflict (1)" in html and 'href="/admin/carriers/discrepancy/7/change/"' in html
    one_kind = client.get("/admin/awaiting/?kind=carriers").content.decode()
    assert "Jane Roe" in one_kind and "Dental PPO does not sync" not in one_kind


def test_the_home_has_one_awaiting_panel_counting_each_kind(client, agency_admin, two_sources):
    client.force_login(agency_admin)
    html = client.get("/admin/").content.decode()
    assert 'data-panel="awaiting"' in html and "/admin/awaiting/?kind=plans" in html


def test_each_person_sees_only_the_kinds_their_rights_show(client, api_as, make_user, two_sources):
    plans_only = make_user(plans=Level.VISIBLE)
    client.force_login(plans_only)
    html = client.get("/admin/awaiting/").content.decode()
    assert "Dental PPO" in html and "Jane Roe" not in html
    body = api_as(plans_only).get("/api/awaiting/").json()
    assert body["counts"] == {"plans": 1} and [row["kind"] for row in body["results"]] == ["Plan-sync conflict"]
    nobody = make_user()
    client.force_login(nobody)
    assert 'data-panel="awaiting"' not in client.get("/admin/").content.decode()
    assert api_as(nobody).get("/api/awaiting/").json() == {"counts": {}, "results": []}


def test_the_api_lists_them_oldest_first_and_needs_a_login(api, two_sources):
    rows = api.get("/api/awaiting/").json()["results"]
    assert [row["title"] for row in rows] == ["Dental PPO: deductible", "Acme at Aetna: Jane Roe missing"]
    assert rows[1]["impact"] == 4 and rows[0]["url"].startswith("/admin/plansync/")
    assert APIClient().get("/api/awaiting/").status_code in (401, 403)
