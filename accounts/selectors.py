import functools

from django.db import connection

from core.db import joined_columns, joined_instances

from .models import ApiToken, AuditLog, SecurityGroup, User
from .rights import Area, Flag


def user_rights(*, user: User) -> dict:
    """The user's effective rights: a level name per area and the flags they hold."""
    return {
        "areas": {area.value: user.area_level(area).label for area in Area},
        "flags": {flag.value: user.has_perm(f"accounts.{flag.value}") for flag in Flag},
    }


def rights_granters(*, limit: int = 3) -> list[str]:
    """The names of (up to ``limit``) active people who may change security groups: whom to ask for a right."""
    from django.db.models import Q

    people = User.objects.filter(Q(is_superuser=True) | Q(security_group__manage_users=True), is_active=True).order_by("last_name", "first_name")
    return [u.get_full_name() or u.get_username() for u in people[:limit]]


def system_health() -> dict:
    """What this process sees of the system: database vendor and audit log size."""
    from django.db import connection

    return {"database": connection.vendor, "audit_rows": AuditLog.objects.count()}


@functools.cache
def _token_lookup() -> tuple[str, list[tuple[type, slice, list[str]]], list[tuple[int, list, object]]]:
    """The SQL of ``api_tokens_by_key``, built once from the models' columns (see ``joined_columns``)."""
    quote = connection.ops.quote_name
    token, user, group = (quote(m._meta.db_table) for m in (ApiToken, User, SecurityGroup))
    columns, parts, converters = joined_columns([ApiToken, User, SecurityGroup])
    sql = (
        f"SELECT {', '.join(columns)} FROM {token} INNER JOIN {user} ON {user}.id = {token}.user_id "  # noqa: S608
        f"LEFT OUTER JOIN {group} ON {group}.id = {user}.security_group_id WHERE {token}.token_key = %s"
    )
    return sql, parts, converters


def api_tokens_by_key(token_key: str) -> list[ApiToken]:
    """The API tokens whose key (the token's first characters) is ``token_key``, each with its user and the
    user's security group, in one query.

    It is the query every API request makes: what ``ApiToken.objects.filter(token_key=...)
    .select_related("user__security_group")`` returns, but its SQL is built once per process rather than
    compiled by the ORM on each request (more than half a millisecond for these three models' columns).
    """
    sql, parts, converters = _token_lookup()
    with connection.cursor() as cursor:
        cursor.execute(sql, [token_key])
        rows = cursor.fetchall()
    tokens = []
    for row in rows:
        token, user, group = joined_instances(row, parts, converters)
        user.security_group = group
        token.user = user
        tokens.append(token)
    return tokens
