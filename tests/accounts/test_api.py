from accounts.models import AuditLog
from accounts.rights import Level
from tests.accounts.factories import PASSWORD


def test_me_returns_user_group_and_effective_rights(make_user, api_as):
    user = make_user(individuals=Level.EDIT, sales=Level.VISIBLE)
    body = api_as(user).get("/api/me/").json()
    assert body["username"] == user.username
    assert body["security_group"]["name"] == user.security_group.name
    assert body["rights"]["areas"]["individuals"] == "Edit"
    assert body["rights"]["areas"]["sales"] == "Visible"
    assert body["rights"]["areas"]["plans"] == "None"
    assert body["rights"]["flags"]["view_full_personal_data"] is False


def test_anonymous_gets_401_or_403(api_client):
    assert api_client.get("/api/me/").status_code in (401, 403)
    assert api_client.get("/api/agents/").status_code in (401, 403)


def test_token_auth(api_client, make_user):
    user = make_user(administration=Level.VISIBLE)
    token = api_client.post("/api/auth/token/", {"username": user.username, "password": PASSWORD}).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/agents/").status_code == 200


def test_bad_input_is_400_with_field_errors_and_writes_nothing(api):
    before = AuditLog.objects.count()
    response = api.post("/api/security-groups/", {"name": "", "individuals": 9})
    assert response.status_code == 400
    assert set(response.json()) >= {"name", "individuals"}
    assert AuditLog.objects.count() == before


def test_model_rule_violation_is_400_not_500(api, make_user):
    # clean(): a non-superuser must have a security group -> a field error from full_clean()
    response = api.post("/api/users/", {"username": "nogroup", "security_group": ""})
    assert response.status_code == 400
    assert "security_group" in response.json()


def test_api_writes_are_audited(api, agency_admin):
    agent_id = api.post("/api/agents/", {"first_name": "Ann", "last_name": "Lee"}).json()["id"]
    api.patch(f"/api/agents/{agent_id}/", {"phone": "555-0100"})
    api.delete(f"/api/agents/{agent_id}/")
    rows = AuditLog.objects.filter(object_id=str(agent_id)).order_by("id")
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert all(r.actor == agency_admin for r in rows)
    assert "phone" in rows[1].summary


def test_schema_and_docs_are_served_without_a_cdn(api_client):
    schema = api_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/me/" in schema.content
    docs = api_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in docs
    assert "cdn" not in docs.lower()


def test_deleting_a_security_group_that_still_has_users_is_400_and_deletes_nothing(api, make_user):
    user = make_user(individuals=Level.VISIBLE)
    response = api.delete(f"/api/security-groups/{user.security_group_id}/")
    assert response.status_code == 400
    assert "still refer to it" in response.json()["detail"]
    user.refresh_from_db()
    assert user.security_group is not None
    assert not AuditLog.objects.filter(action=AuditLog.Action.DELETE).exists()


def test_admin_lists_are_a_fixed_number_of_queries(api, make_user, django_assert_max_num_queries):
    from accounts.services import audit
    from tests.accounts.factories import AgentFactory

    for _ in range(6):
        user = make_user(administration=Level.VISIBLE)
        AgentFactory(user=user)
        audit(actor=user, action=AuditLog.Action.OTHER, obj=user)
    for url in ("/api/users/", "/api/agents/", "/api/audit-log/", "/api/security-groups/"):
        with django_assert_max_num_queries(3):
            response = api.get(url)
        assert response.status_code == 200 and response.json()["count"] >= 6, url
