"""The sandbox itself: its own process and database, the control page, knobs, auth."""

import requests

KEY = {"Authorization": "Bearer sandbox-benefits-key"}


def test_control_page_lists_demo_accounts_and_sets_knobs(sandbox):
    page = requests.get(f"{sandbox.url}/_sandbox/", timeout=5).text
    assert "maria.gonzalez@northwind.example" in page and "latency_ms" in page
    requests.post(f"{sandbox.url}/_sandbox/", data={"latency_ms": "15", "error_rate": "0.25"}, timeout=5)
    knobs = requests.get(f"{sandbox.url}/_sandbox/knobs", timeout=5).json()
    assert (knobs["latency_ms"], knobs["error_rate"]) == (15, 0.25)
    assert requests.put(f"{sandbox.url}/_sandbox/knobs", json={"nope": 1}, timeout=5).status_code == 400


def test_api_key_required_and_bad_knob_headers_refused(sandbox):
    url = f"{sandbox.url}/benefits/v1/packages"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={**KEY, "X-Sandbox-Error-Rate": "lots"}, timeout=5).status_code == 400
    assert requests.get(url, headers=KEY, timeout=5).json()["results"][0]["code"] == "BASIC"


def test_rate_limit_answers_429_with_retry_after(sandbox):
    sandbox.knobs(rate_limit=3, retry_after=2)
    replies = [requests.get(f"{sandbox.url}/benefits/v1/packages", headers=KEY, timeout=5) for _ in range(6)]
    limited = [r for r in replies if r.status_code == 429]
    assert limited and limited[0].headers["Retry-After"] == "2"


def test_its_own_database_survives_a_reset_with_demo_accounts_only(sandbox):
    requests.post(
        f"{sandbox.url}/benefits/v1/accounts",
        headers={**KEY, "Idempotency-Key": "x"},
        timeout=5,
        json={
            "email": "temp@x.example",
            "first_name": "T",
            "last_name": "X",
            "date_of_birth": "1990-01-01",
            "hire_date": "2020-01-01",
            "benefits_package": "BASIC",
        },
    )
    assert sandbox.stats()["accounts"] == 6
    sandbox.reset()
    assert sandbox.stats()["accounts"] == 5


def test_a_list_or_object_where_text_belongs_is_a_validation_error_not_a_500(sandbox):
    account = {
        "email": "shape@x.example",
        "first_name": "S",
        "last_name": "X",
        "date_of_birth": "1990-01-01",
        "hire_date": "2020-01-01",
        "benefits_package": "BASIC",
    }
    for field, value in [("gender", ["F"]), ("benefits_package", {"code": "BASIC"}), ("first_name", [])]:
        reply = requests.post(f"{sandbox.url}/benefits/v1/accounts", headers=KEY, timeout=5, json={**account, field: value})
        assert reply.status_code == 422, (field, reply.status_code)
        assert reply.json()["error"]["fields"][field] == "must be text, a number or null"
    assert sandbox.accounts("shape@x.example") == []
