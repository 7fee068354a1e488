"""The floor of ``GET /api/individuals/``: the same page served by the smallest honest Django view.

Mounted at ``/api/_floor/individuals/`` only when ``settings.BENCH_FLOOR`` is on (``AGENCYDESK_BENCH_FLOOR=1``;
production settings force it off), so it never exists in a deployed site. It goes through what every
request goes through (the WSGI handler, the URL resolver, the whole middleware stack, Django's
connection handling: ``CONN_MAX_AGE`` / pool and the health check), and does by hand only what the view
itself needs:

- the token check as ONE SQL statement (the token by its key, unexpired, its user active, the user's
  Individuals level) plus the same two hashes the real check computes (knox's digest of the token, the
  user's password-bound hash): 401 otherwise, 403 without the right;
- the page query as plain SQL with the criteria the benchmarks send (coverage types, policy status,
  carrier, policy effective dates: one ``EXISTS`` over policies, as the FilterSet builds it), the same
  columns and order, one row more than the page for ``next``; the agent's name joined in;
- the rows shaped by hand and encoded by orjson.

What it leaves out is what the real API adds: DRF (content negotiation, request wrapping, permission and
throttle classes, exception handling), the FilterSet's validation of every criterion, the ORM compiling
the query, the serializer, the per-user throttle's Redis round trip. ``bench search`` checks that its
answer is the real API's, row for row.
"""

import datetime
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.utils.crypto import constant_time_compare, salted_hmac
from knox.crypto import hash_token
from knox.settings import CONSTANTS

_CHECK_SQL = """
SELECT t.digest, t.credentials_hash, u.password, coalesce(g.individuals, 0), u.is_superuser
FROM accounts_apitoken t JOIN accounts_user u ON u.id = t.user_id
LEFT JOIN accounts_securitygroup g ON g.id = u.security_group_id
WHERE t.token_key = %s AND (t.expiry IS NULL OR t.expiry > now()) AND u.is_active
"""
_NAMES = (
    "id",
    "first_name",
    "middle_name",
    "last_name",
    "nickname",
    "title",
    "servicing_agent",
    "servicing_agent_name",
    "record_status",
    "email",
    "secondary_email",
    "cell_phone",
    "home_phone",
    "address_type",
    "address_line1",
    "address_line2",
    "city",
    "county",
    "zip_code",
    "state",
    "gender",
    "date_of_birth",
    "lead_source",
    "medicare_beneficiary_id",
    "medicare_part_a_effective",
    "medicare_part_b_effective",
    "ssn",
    "drivers_license",
    "smoker_status",
    "custom_fields",
    "created_at",
    "updated_at",
)
_SQL_OF = {  # a field -> its column (personal data: the last 4 the mask shows), the agent's name joined
    "servicing_agent": "i.servicing_agent_id",
    "servicing_agent_name": "a.first_name || ' ' || a.last_name",
    **{kind: f"i.{kind}_last4" for kind in ("medicare_beneficiary_id", "ssn", "drivers_license")},
}
_COLUMNS = ", ".join(_SQL_OF.get(name, f"i.{name}") for name in _NAMES)
_MBI, _SSN, _DL, _CUSTOM = (_NAMES.index(n) for n in ("medicare_beneficiary_id", "ssn", "drivers_license", "custom_fields"))
_POLICY = {  # query parameter -> (column, operator, many values)
    "coverage_type": ("coverage_type", "= ANY(%s)", True),
    "policy_status": ("status", "= ANY(%s)", True),
    "carrier": ("carrier_id", "= ANY(%s)", True),
    "policy_effective_after": ("effective_date", ">= %s", False),
    "policy_effective_before": ("effective_date", "<= %s", False),
}
_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"


def _json(status: int, body) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


def _authorized(request) -> int:
    """200, or the status of the refusal (401: no valid token; 403: no right to see individuals)."""
    kind, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if kind != "Token" or not token:
        return 401
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL, [token[: CONSTANTS.TOKEN_KEY_LENGTH]])
        rows = cursor.fetchall()
    for digest, credentials, password, level, superuser in rows:
        if constant_time_compare(hash_token(token), digest):
            if not constant_time_compare(credentials, salted_hmac(_HASH_SALT, password, algorithm="sha256").hexdigest()):
                return 401
            return 200 if superuser or level >= 1 else 403
    return 401


def individuals(request):
    status = _authorized(request)
    if status != 200:
        return _json(status, {"detail": "refused"})
    query = request.GET
    try:
        page = int(query.get("page", 1))
        size = min(int(query.get("page_size", 50)), 500)
        wheres, params = [], []
        for key in query:
            if key in ("page", "page_size"):
                continue
            column, op, many = _POLICY[key]
            values = query.getlist(key)
            if key == "carrier":
                values = [int(v) for v in values]
            elif many is False:
                values = datetime.date.fromisoformat(values[0])
            wheres.append(f"p.{column} {op}")
            params.append(values)
    except (KeyError, ValueError):
        return _json(400, {"detail": "unknown or bad criterion"})
    where = f"WHERE EXISTS (SELECT 1 FROM individuals_policy p WHERE p.individual_id = i.id AND {' AND '.join(wheres)})" if wheres else ""
    sql = (
        f"SELECT {_COLUMNS} FROM individuals_individual i LEFT JOIN accounts_agent a ON a.id = i.servicing_agent_id "
        f"{where} ORDER BY i.last_name, i.first_name, i.id LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size + 1, (page - 1) * size])
        rows = cursor.fetchall()
    results = []
    for row in rows[:size]:
        item = dict(zip(_NAMES, row, strict=True))
        item["medicare_beneficiary_id"] = f"****{row[_MBI]}" if row[_MBI] else None
        item["ssn"] = f"***-**-{row[_SSN]}" if row[_SSN] else None
        item["drivers_license"] = f"****{row[_DL]}" if row[_DL] else None
        item["custom_fields"] = orjson.Fragment(row[_CUSTOM]) if isinstance(row[_CUSTOM], str) else row[_CUSTOM]  # jsonb as text: passed through
        results.append(item)
    base = request.build_absolute_uri(request.path)
    others = [(k, v) for k, values in query.lists() if k != "page" for v in values]

    def by_key(pairs):  # as DRF's replace_query_param: sorted by key, each key's values in their order
        return f"{base}?{urlencode(sorted(pairs, key=lambda kv: kv[0]))}"

    next_url = by_key([*others, ("page", page + 1)]) if len(rows) > size else None
    previous = None if page <= 1 else by_key(others + ([("page", page - 1)] if page > 2 else []))
    body = {"next": next_url, "previous": previous, "results": results}
    return HttpResponse(orjson.dumps(body, option=orjson.OPT_UTC_Z), content_type="application/json")


urlpatterns = [path("individuals/", individuals, name="floor-individuals")] if settings.BENCH_FLOOR else []
