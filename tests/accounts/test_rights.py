"""Each security-group level grants exactly its rights, in the admin and the API alike."""

import pytest

from accounts.rights import Area, Flag, Level
from tests.accounts.factories import AgentFactory

# Agents live in the Administration area.
EXPECTED = {
    Level.NONE: {"view": False, "add": False, "change": False, "delete": False},
    Level.VISIBLE: {"view": True, "add": False, "change": False, "delete": False},
    Level.EDIT: {"view": True, "add": True, "change": True, "delete": False},
    Level.DELETE: {"view": True, "add": True, "change": True, "delete": True},
}


@pytest.mark.parametrize("level", list(Level))
def test_level_grants_exactly_its_permissions(make_user, level):
    user = make_user(administration=level)
    granted = {action: user.has_perm(f"accounts.{action}_agent") for action in EXPECTED[level]}
    assert granted == EXPECTED[level]


@pytest.mark.parametrize("level", list(Level))
def test_level_in_the_api(make_user, level, api_as):
    client = api_as(make_user(administration=level))
    agent = AgentFactory()
    expected = EXPECTED[level]

    assert client.get("/api/agents/").status_code == (200 if expected["view"] else 403)
    created = client.post("/api/agents/", {"first_name": "Ann", "last_name": "Lee"})
    assert created.status_code == (201 if expected["add"] else 403)
    changed = client.patch(f"/api/agents/{agent.pk}/", {"phone": "555-0100"})
    assert changed.status_code == (200 if expected["change"] else 403)
    deleted = client.delete(f"/api/agents/{agent.pk}/")
    assert deleted.status_code == (204 if expected["delete"] else 403)


@pytest.mark.parametrize("level", list(Level))
def test_level_in_the_admin(client, make_user, level):
    client.force_login(make_user(administration=level))
    agent = AgentFactory()
    expected = EXPECTED[level]

    index = client.get("/admin/").content.decode()
    assert ('href="/admin/accounts/agent/"' in index) == expected["view"]
    assert client.get("/admin/accounts/agent/").status_code == (200 if expected["view"] else 403)
    assert client.get("/admin/accounts/agent/add/").status_code == (200 if expected["add"] else 403)
    delete_page = client.get(f"/admin/accounts/agent/{agent.pk}/delete/")
    assert delete_page.status_code == (200 if expected["delete"] else 403)


def test_user_without_any_right_sees_no_menu_and_gets_403(client, make_user, api_as):
    user = make_user()
    client.force_login(user)
    assert "You don’t have permission to view or edit anything" in client.get("/admin/").content.decode()
    assert api_as(user).get("/api/security-groups/").status_code == 403
    assert api_as(user).get("/api/audit-log/").status_code == 403


def test_security_groups_need_the_manage_users_flag(make_user, api_as):
    admin_area_only = make_user(administration=Level.DELETE)
    with_flag = make_user(flags={Flag.MANAGE_USERS})

    assert admin_area_only.has_perm("accounts.view_securitygroup")
    assert not admin_area_only.has_perm("accounts.change_securitygroup")
    assert api_as(admin_area_only).post("/api/security-groups/", {"name": "X"}).status_code == 403
    assert api_as(with_flag).post("/api/security-groups/", {"name": "X"}).status_code == 201


def test_audit_log_is_read_only_even_for_the_top_level(agency_admin, client, api_as):
    client.force_login(agency_admin)
    assert agency_admin.has_perm("accounts.view_auditlog")
    assert not agency_admin.has_perm("accounts.change_auditlog")
    assert not agency_admin.has_perm("accounts.delete_auditlog")
    assert api_as(agency_admin).delete("/api/audit-log/1/").status_code in (403, 405)


def test_flag_permission_follows_the_group(make_user):
    assert make_user(flags={Flag.VIEW_FULL_PERSONAL_DATA}).has_perm("accounts.view_full_personal_data")
    assert not make_user(individuals=Level.DELETE).has_perm("accounts.view_full_personal_data")


def test_inactive_user_has_no_rights(make_user):
    user = make_user(administration=Level.DELETE)
    user.is_active = False
    assert not user.has_perm("accounts.view_agent")
    assert user.area_level(Area.ADMINISTRATION) == Level.NONE


def test_seeded_groups_exist(db):
    from accounts.models import SecurityGroup

    names = set(SecurityGroup.objects.values_list("name", flat=True))
    assert {"Agency Admin", "Sales", "Service", "Benefits Admin", "Read Only"} <= names
    read_only = SecurityGroup.objects.get(name="Read Only")
    assert read_only.individuals == Level.VISIBLE and read_only.administration == Level.NONE


def test_managing_users_does_not_make_superusers(client, make_user):
    manager = make_user(flags={Flag.MANAGE_USERS}, administration=Level.EDIT)
    client.force_login(manager)
    page = client.get(f"/admin/accounts/user/{manager.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page  # shown read-only
    response = client.post(
        f"/admin/accounts/user/{manager.pk}/change/",
        {
            "username": manager.username,
            "security_group": manager.security_group_id,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "last_name": "Renamed",
        },
    )
    assert response.status_code == 302  # saved...
    manager.refresh_from_db()
    assert manager.last_name == "Renamed"
    assert manager.is_superuser is False  # ...without the superuser flag


def test_a_password_changed_in_the_admin_is_saved_and_audited(client, make_user):
    from accounts.models import AuditLog, User

    manager = make_user(flags={Flag.MANAGE_USERS}, administration=Level.EDIT)
    other = make_user(individuals=Level.VISIBLE)
    client.force_login(manager)
    new_password = "Another-long-passphrase-42"
    response = client.post(
        f"/admin/accounts/user/{other.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true", "set_usable_password": "true"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=other.pk).check_password(new_password)
    row = AuditLog.objects.get(object_id=str(other.pk), action=AuditLog.Action.UPDATE)
    assert (row.actor, row.summary) == (manager, "Changed password")
    assert new_password not in str(row.data)
