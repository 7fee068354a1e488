from django.test import override_settings

from accounts.models import AuditLog
from tests.accounts.factories import PASSWORD


def test_bad_login_is_refused_and_audited(client, make_user):
    user = make_user()
    response = client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 200 and "correct username and password" in response.content.decode()
    row = AuditLog.objects.get(action=AuditLog.Action.LOGIN_FAILED)
    assert row.object_repr == user.username
    assert "wrong" not in str(row.data) + row.summary  # the password tried is never logged


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_login(client, make_user):
    user = make_user()
    for _ in range(3):
        client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_good_login_reaches_the_admin(client, make_user):
    user = make_user()
    client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(user.pk)
