import functools

from django.db import connection

from .models import ApiToken, AuditLog, SecurityGroup, User
from .rights import Area, Flag


def user_rights(*, user: User) -> dict:
    """The user's effective rights: a level name per area and the flags they hold."""
    return {
        "areas": {area.value: user.area_level(area).label for area in Area},
        "flags": {flag.value: user.has_perm(f"accounts.{flag.value}") for flag in Flag},
    }


def system_health() -> dict:
    """What this process sees of the system: database vendor and audit log size."""
    from django.db import connection

    return {"database": connection.vendor, "audit_rows": AuditLog.objects.count()}


@functools.cache
def _token_lookup() -> tuple[str, list[tuple[type, slice, list[str]]], list[tuple[int, list, object]]]:
    """The SQL of ``api_tokens_by_key``, built once from the models' columns; each model's part of a row;
    the database converters of the columns that have some (e.g. SQLite's timestamps), as the ORM applies them."""
    quote = connection.ops.quote_name
    token, user, group = (quote(m._meta.db_table) for m in (ApiToken, User, SecurityGroup))
    columns, parts, converters = [], [], []
    for model in (ApiToken, User, SecurityGroup):
        fields = model._meta.concrete_fields
        parts.append((model, slice(len(columns), len(columns) + len(fields)), [f.attname for f in fields]))
        for field in fields:
            col = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if found:
                converters.append((len(columns), found, col))
            columns.append(f"{quote(model._meta.db_table)}.{quote(field.column)}")
    sql = (f"SELECT {', '.join(columns)} FROM {token} INNER JOIN {user} ON {user}.id = {token}.user_id "  # noqa: S608
           f"LEFT OUTER JOIN {group} ON {group}.id = {user}.security_group_id WHERE {token}.token_key = %s")
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
        row = list(row)
        for i, functions, col in converters:
            for convert in functions:
                row[i] = convert(row[i], col, connection)
        token, user, group = (model.from_db(connection.alias, names, row[part]) if row[part.start] is not None else None
                              for model, part, names in parts)
        user.security_group = group
        token.user = user
        tokens.append(token)
    return tokens
