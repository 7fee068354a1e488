"""API tokens (django-rest-knox): stored as digests, shown once, expiring, revoked with the password."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditLog
from accounts.rights import Flag, Level
from tests.accounts.factories import PASSWORD


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


def issue(user, password=PASSWORD) -> str:
    response = APIClient().post("/api/auth/token/", {"username": user.username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def get_me(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/me/")


def test_a_token_is_stored_as_a_digest_and_works(make_user):
    user = make_user()
    token = issue(user)
    assert get_me(token).status_code == 200
    row = ApiToken.objects.get(user=user)
    assert token not in {row.digest, row.token_key, row.credentials_hash}
    assert AuditLog.objects.filter(object_id=str(user.pk), summary__startswith="API token issued").exists()


def test_each_login_gets_its_own_token_with_an_expiry_from_the_setting(make_user, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=2)}
    user = make_user()
    response = APIClient().post("/api/auth/token/", {"username": user.username, "password": PASSWORD}).json()
    expiry = ApiToken.objects.get(user=user).expiry
    assert timedelta(hours=1, minutes=59) < expiry - timezone.now() <= timedelta(hours=2)
    assert response["expiry"].startswith(expiry.strftime("%Y-%m-%dT%H:%M"))
    assert issue(user) != response["token"]


def test_an_expired_token_is_refused(make_user):
    user = make_user()
    token = issue(user)
    ApiToken.objects.filter(user=user).update(expiry=timezone.now() - timedelta(seconds=1))
    assert get_me(token).status_code == 401


def test_a_password_change_in_the_admin_revokes_the_tokens(client, make_user, agency_admin):
    user = make_user()
    token = issue(user)
    client.force_login(agency_admin)
    new = "another-horse-battery-9"
    response = client.post(f"/admin/accounts/user/{user.pk}/password/", {"password1": new, "password2": new})
    assert response.status_code == 302
    assert get_me(token).status_code == 401
    assert not ApiToken.objects.filter(user=user).exists()
    assert get_me(issue(user, password=new)).status_code == 200


def test_a_password_changed_any_other_way_kills_older_tokens(make_user):
    user = make_user()
    token = issue(user)
    user.set_password("changed-by-the-user-themselves")
    user.save()
    assert get_me(token).status_code == 401


def test_deactivating_a_user_revokes_their_tokens(api, make_user):
    user = make_user()
    token = issue(user)
    assert api.patch(f"/api/users/{user.pk}/", {"is_active": False}).status_code == 200
    assert not ApiToken.objects.filter(user=user).exists()
    assert get_me(token).status_code == 401


def test_logout_revokes_this_token_and_all_revokes_every_one(make_user):
    user = make_user()
    first, second, third = issue(user), issue(user), issue(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert client.post("/api/auth/logout/").status_code == 204
    assert get_me(first).status_code == 401 and get_me(second).status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert client.post("/api/auth/logout/", {"all": True}, format="json").status_code == 204
    assert get_me(second).status_code == 401 and get_me(third).status_code == 401


def test_the_admin_never_shows_a_token(client, make_user):
    user = make_user()
    token = issue(user)
    row = ApiToken.objects.get(user=user)
    manager = make_user(flags={Flag.MANAGE_USERS}, administration=Level.DELETE)
    client.force_login(manager)
    for url in ("/admin/accounts/apitoken/", f"/admin/accounts/apitoken/{row.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert token not in page.content.decode() and token[:15] not in page.content.decode()
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    client.post("/admin/accounts/apitoken/", {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert get_me(token).status_code == 401
    assert AuditLog.objects.filter(summary__startswith="Revoked 1 API token(s): revoked by an administrator").exists()
