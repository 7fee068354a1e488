"""Login lockout (django-axes: username + address), the login throttle, and the audit of refused logins."""

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache

from accounts.models import AuditLog
from accounts.rights import Flag, Level
from tests.accounts.factories import PASSWORD

ADMIN_LOGIN = "/admin/login/"
LIMIT = 5  # settings.LOGIN_FAILURE_LIMIT


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()  # the login throttle counts in the cache, shared by the tests of one process
    yield
    cache.clear()


def login(client, username, password, ip="10.0.0.1"):
    return client.post(ADMIN_LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_bad_login_is_refused_and_audited(client, make_user):
    user = make_user()
    response = login(client, user.username, "wrong")
    assert response.status_code == 200 and "correct username and password" in response.content.decode()
    row = AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED)
    assert row.object_repr == user.username
    assert "wrong" not in str(row.data) + row.summary  # the password tried is never logged


def test_good_login_reaches_the_admin(client, make_user):
    user = make_user()
    login(client, user.username, PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_five_failures_lock_that_username_from_that_address_only(client, make_user):
    user = make_user()
    for _ in range(LIMIT):
        login(client, user.username, "wrong", ip="10.0.0.1")
    # the right password from the same address is refused now...
    response = login(client, user.username, PASSWORD, ip="10.0.0.1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # ...but the user still logs in from another address: an attacker cannot lock anyone out
    response = login(client, user.username, PASSWORD, ip="10.0.0.2")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_success_below_the_limit_resets_the_count(client, make_user):
    user = make_user()
    for _ in range(LIMIT - 1):
        login(client, user.username, "wrong")
    assert login(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        login(client, user.username, "wrong")
    # 8 failures in all, but never 5 in a row: not locked
    assert login(client, user.username, PASSWORD).status_code == 302


def test_the_locked_response_does_not_tell_whether_the_user_exists(client, make_user):
    user = make_user()
    answers = []
    for username in (user.username, "nobody-by-this-name"):
        for _ in range(LIMIT):
            login(client, username, "wrong")
        response = login(client, username, "wrong")
        answers.append((response.status_code, response.content.decode().replace(username, "<name>")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429 and "Too many failed logins" in answers[0][1]


def test_refused_logins_while_locked_are_audited(client, make_user):
    user = make_user()
    for _ in range(LIMIT + 2):
        login(client, user.username, "wrong")
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED, object_repr=user.username).count() == LIMIT + 2


def test_the_admin_login_is_throttled_per_address(client, make_user, settings):
    # given: a password spray, one attempt per username, so that no username+address pair is locked
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "10/min"},
    }
    codes = [login(client, f"user{i}", "wrong", ip="10.0.0.9").status_code for i in range(12)]
    assert codes[:10] == [200] * 10
    assert codes[10:] == [429, 429]
    # another address is not held up
    assert login(client, "user0", "wrong", ip="10.0.0.10").status_code == 200


def test_an_administrator_unlocks_a_user_from_the_admin(client, make_user):
    user = make_user()
    for _ in range(LIMIT):
        login(client, user.username, "wrong")
    manager = make_user(flags={Flag.MANAGE_USERS}, administration=Level.VISIBLE)
    client.force_login(manager)
    attempt = AccessAttempt.objects.get(username=user.username)
    response = client.post("/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.UPDATE, summary__startswith="Unlocked login").exists()
    client.logout()
    assert login(client, user.username, PASSWORD).status_code == 302


def test_unlock_login_action_on_users(client, make_user):
    user = make_user()
    for _ in range(LIMIT):
        login(client, user.username, "wrong")
    manager = make_user(flags={Flag.MANAGE_USERS}, administration=Level.VISIBLE)
    client.force_login(manager)
    client.post("/admin/accounts/user/", {"action": "unlock_login", "_selected_action": [user.pk]})
    client.logout()
    assert login(client, user.username, PASSWORD).status_code == 302


# --- the API token login: same lockout, same throttle ---


def token(api_client, username, password, ip="10.0.0.1"):
    return api_client.post("/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_api_token_login_locks_username_and_address(api_client, make_user):
    user = make_user()
    codes = [token(api_client, user.username, "wrong").status_code for _ in range(LIMIT)]
    assert codes == [400] * (LIMIT - 1) + [429]  # the failure that reaches the limit is told so
    locked = token(api_client, user.username, PASSWORD)
    assert locked.status_code == 429 and "Too many failed logins" in locked.json()["detail"]
    assert token(api_client, user.username, PASSWORD, ip="10.0.0.2").status_code == 200
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED).count() == LIMIT + 1


def test_api_token_success_resets_the_count(api_client, make_user):
    user = make_user()
    for _ in range(LIMIT - 1):
        token(api_client, user.username, "wrong")
    assert token(api_client, user.username, PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        token(api_client, user.username, "wrong")
    assert token(api_client, user.username, PASSWORD).status_code == 200


@pytest.fixture
def login_rate(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "10/min"},
    }
    return settings


@pytest.mark.parametrize("path", [ADMIN_LOGIN, "/api/auth/token/"])
def test_a_forged_forwarded_for_does_not_escape_the_throttle_without_a_proxy(client, login_rate, path):
    # given: no DJANGO_PROXY_COUNT, and a client inventing a new X-Forwarded-For on each try
    codes = [
        client.post(path, {"username": f"user{i}", "password": "wrong"}, REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
        for i in range(12)
    ]
    # then: counted by the address that really connected
    assert codes[10:] == [429, 429] and 429 not in codes[:10]
    assert set(AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED).values_list("data__ip", flat=True)) == {"10.0.0.9"}


def test_behind_a_configured_proxy_the_forwarded_address_is_the_client(client, login_rate):
    login_rate.REST_FRAMEWORK = {**login_rate.REST_FRAMEWORK, "NUM_PROXIES": 1}
    codes = [
        client.post(
            ADMIN_LOGIN, {"username": f"user{i}", "password": "wrong"}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        ).status_code
        for i in range(12)
    ]
    assert 429 not in codes
    assert AuditLog.objects.filter(action=AuditLog.Action.LOGIN_FAILED, data__ip="203.0.113.11").exists()


def test_an_office_behind_one_address_logs_everyone_in(api_client, client, make_user, login_rate):
    # given: thirty people arriving at 9:00 behind one NAT, each knowing their password
    users = [make_user() for _ in range(30)]
    for user in users[:15]:
        assert login(client, user.username, PASSWORD, ip="10.0.0.7").status_code == 302
        client.logout()
    for user in users[15:]:
        response = api_client.post("/api/auth/token/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
        assert response.status_code == 200
    # and failures from that address still count towards its limit
    codes = [login(client, f"nobody{i}", "wrong", ip="10.0.0.7").status_code for i in range(11)]
    assert codes[-1] == 429
