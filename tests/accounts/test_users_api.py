"""Creating users through the API: an initial password or an invitation, as the schema says."""

import re

from django.core import mail
from rest_framework.test import APIClient

from accounts.models import AuditLog, User
from accounts.rights import Level
from tests.accounts.factories import PASSWORD


def test_create_with_an_initial_password(api, make_user):
    group = make_user(individuals=Level.VISIBLE).security_group
    response = api.post("/api/users/", {"username": "newbie", "security_group": group.pk, "password": "a-fine-long-password-42"})
    assert response.status_code == 201, response.content
    assert "password" not in response.json()
    user = User.objects.get(username="newbie")
    assert user.check_password("a-fine-long-password-42")
    assert AuditLog.objects.filter(action=AuditLog.Action.CREATE, object_id=str(user.pk)).exists()
    token = APIClient().post("/api/auth/token/", {"username": "newbie", "password": "a-fine-long-password-42"})
    assert token.status_code == 200


def test_a_weak_password_is_refused_by_the_site_rules(api, make_user):
    group = make_user().security_group
    response = api.post("/api/users/", {"username": "weak", "security_group": group.pk, "password": "12345678"})
    assert response.status_code == 400
    assert any("common" in m or "numeric" in m for m in response.json()["password"])
    assert not User.objects.filter(username="weak").exists()


def test_neither_password_nor_invitation_is_a_field_error(api, make_user):
    group = make_user().security_group
    response = api.post("/api/users/", {"username": "nopw", "security_group": group.pk})
    assert response.status_code == 400 and "password" in response.json()


def test_create_with_an_invitation_mails_a_link_that_sets_the_password(api, client, make_user, django_capture_on_commit_callbacks):
    group = make_user().security_group
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/users/", {"username": "invited", "email": "inv@example.com", "security_group": group.pk, "invite": True}, format="json"
        )
    assert response.status_code == 201, response.content
    user = User.objects.get(username="invited")
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["inv@example.com"]
    link = re.search(r"http://testserver(/accounts/set-password/\S+/)", mail.outbox[0].body).group(1)
    page = client.get(link, follow=True)
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    done = client.post(page.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD}, follow=True)
    assert done.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert AuditLog.objects.filter(object_id=str(user.pk), summary__startswith="Invitation").exists()
    assert AuditLog.objects.filter(object_id=str(user.pk), summary="Changed password").exists()
    # the link works once
    assert "new_password1" not in client.get(link, follow=True).content.decode()


def test_an_invitation_needs_an_email(api, make_user):
    group = make_user().security_group
    response = api.post("/api/users/", {"username": "x", "security_group": group.pk, "invite": True}, format="json")
    assert response.status_code == 400 and "email" in response.json()


def test_the_schema_offers_a_write_only_password_and_the_invitation(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    request = schema["components"]["schemas"]["UserRequest"]["properties"]
    response = schema["components"]["schemas"]["User"]["properties"]
    assert request["password"]["writeOnly"] is True and "invite" in request
    assert "password" not in response and "invite" not in response
    assert "invite" in schema["paths"]["/api/users/"]["post"]["description"]


def test_password_is_not_changed_through_an_update(api, make_user):
    user = make_user()
    response = api.patch(f"/api/users/{user.pk}/", {"password": "another-fine-password-1"})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_admin_sends_an_invitation(client, agency_admin, make_user, django_capture_on_commit_callbacks):
    user = make_user()
    user.email = "someone@example.com"
    user.save()
    client.force_login(agency_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/accounts/user/", {"action": "send_invitation", "_selected_action": [user.pk]})
    assert [m.to for m in mail.outbox] == [["someone@example.com"]]
