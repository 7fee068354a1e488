"""Individual Advanced Search: API list (page of 50) and admin changelist on N individuals.

For each search (no filter; one policy filter; three policy filters plus a date range) it prints
the median time, the queries per request, and the ratio to the same SQL run through plain psycopg
(the queries the request made that read individuals or policies, replayed). Requests go through the
WSGI application as a server sends them (middleware, request signals and connection health check
included), authenticated as a program is: the API with ``Authorization: Token``, the admin with a
session cookie; the user is in a real security group (not a superuser), so permission checks count.
With REDIS_URL set the per-user throttle counts in Redis, as in production (its rate is raised so
that the benchmark's thousands of requests a minute are not refused). Goals: API <= 3x plain
SQL and <= 150 ms; admin changelist <= 500 ms (its ratio to plain SQL is in the note). Data is
seeded set-based once (``manage.py seed_individuals``) and kept between runs.
"""

import time

from bench.report import figure, median_seconds

DEFAULT = 1_000_000
BENCH = "search"


def _user():
    import secrets

    from accounts.models import SecurityGroup, User
    from accounts.services import user_create

    # A real security group (not a superuser), so permission checks are part of the cost.
    user = User.objects.filter(username="bench-search").first()
    return user or user_create(
        actor=None, username="bench-search", password=secrets.token_urlsafe(16), security_group=SecurityGroup.objects.get(name="Agency Admin")
    )


def _searches():
    from individuals.models import Policy
    from plans.models import Carrier

    carrier = Carrier.objects.order_by("id").first()
    # (name, query, how its cost grows): a page of a broad search is found by walking the name index
    # until 50 match (flat); a selective one (0.2% of individuals) reads its matches from the covering
    # policy index and sorts them by name, so its cost follows the number of matches (linear).
    return [
        ("no filter", "", "flat"),
        ("one policy filter", "coverage_type=medicare_advantage", "flat"),
        (
            "three policy filters + date range",
            f"coverage_type=medicare_advantage&coverage_type=medicare_supplement&policy_status={Policy.Status.ACTIVE}"
            f"&carrier={carrier.pk}&policy_effective_after=2024-01-01&policy_effective_before=2024-12-31",
            "linear",
        ),
    ]


class _WsgiClient:
    """GET through the WSGI application, as gunicorn calls it, with fixed headers (credentials)."""

    def __init__(self, **headers):
        from django.core.handlers.wsgi import WSGIHandler

        self.app = WSGIHandler()
        self.headers = headers

    def get(self, url: str):
        import io
        from types import SimpleNamespace

        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            **self.headers,
        }
        status = []
        body = self.app(environ, lambda s, headers, exc_info=None: status.append(int(s.split()[0])))
        try:
            content = b"".join(body)
        finally:
            body.close()
        return SimpleNamespace(status_code=status[0], content=content)


def _clients(user):
    """(API client with the user's token, admin client with a logged-in session)."""
    from django.conf import settings
    from django.test import Client

    from accounts.services import api_token_create

    user.auth_token_set.all().delete()  # earlier runs' tokens
    _, token = api_token_create(user=user)
    session = Client()
    session.force_login(user)
    return (
        _WsgiClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json"),
        _WsgiClient(HTTP_ACCEPT="text/html", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={session.cookies[settings.SESSION_COOKIE_NAME].value}"),
    )


def _data_queries(captured) -> list[str]:
    """The queries of a request that read individuals or policies (not the session or the user)."""
    return [q["sql"] for q in captured if "individuals_" in q["sql"]]


def _alternating_medians(first, second, repeat: int) -> tuple[float, float]:
    """Median seconds of two calls measured in turns (one, the other, ...), so that a burst of load on the
    shared machine falls on both rather than on whichever ran at the time."""
    import statistics

    first(), second()
    times = ([], [])
    for _ in range(repeat):
        for fn, out in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def _against_floor(client, query: str, repeat: int) -> dict:
    """The real API list and its floor (bench/floor.py) on the same page, timed in turns; the floor must
    answer exactly what the API does (the same rows, fields and links)."""
    import orjson

    api_url, floor_url = f"/api/individuals/?{query}", f"/api/_floor/individuals/?{query}"
    real, floor = client.get(api_url), client.get(floor_url)
    assert floor.status_code == 200, (floor_url, floor.status_code, floor.content[:500])
    expected = orjson.loads(real.content)
    got = orjson.loads(floor.content.replace(b"/api/_floor/individuals/", b"/api/individuals/"))
    assert got == expected, f"the floor's page differs from the API's for {query!r}"
    api_seconds, floor_seconds = _alternating_medians(lambda: client.get(api_url), lambda: client.get(floor_url), repeat)
    return {"api": api_seconds, "floor": floor_seconds}


def _measure(client, url: str, conn, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    queries = len(ctx.captured_queries)
    sqls = _data_queries(ctx.captured_queries)
    seconds = median_seconds(lambda: client.get(url), repeat=repeat)

    def plain():
        for sql in sqls:
            conn.execute(sql).fetchall()

    plain_seconds = median_seconds(plain, repeat=repeat)
    return {"seconds": seconds, "queries": queries, "plain": plain_seconds, "sqls": sqls}


def _quick_search(api, repeat: int = 3) -> dict:
    """The quick search (``GET /api/search/?q=``) as staff type it: the first 4 letters of each last name (as
    ``bench load`` sends), a street word, a street word with a name, a phone's digits. Its figure is the slowest
    query's median: one slow query holds a web thread whole (issue 23)."""
    import statistics

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT last_name FROM individuals_individual ORDER BY 1 LIMIT 40")
        names = [row[0] for row in cursor.fetchall()]
    queries = [name[:4] for name in names] + ["elm", f"{names[-1]} st", "5550102233"]
    medians = {}
    for q in queries:
        url = f"/api/search/?q={q.replace(' ', '+')}"
        assert api.get(url).status_code == 200, url
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            api.get(url)
            times.append(time.perf_counter() - start)
        medians[q] = statistics.median(times)
    slowest = max(medians, key=medians.get)
    return {"slowest": slowest, "seconds": medians[slowest], "median": statistics.median(medians.values()), "queries": len(queries)}


def _same_planner_settings(conn) -> None:
    """The plain connection plans with the same settings as Django's (e.g. DATABASE_RANDOM_PAGE_COST)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        conn.execute(f"SET random_page_cost = {float(cursor.fetchone()[0])}")


def run(size: int = DEFAULT, repeat: int = 11) -> list[dict]:
    from bench.setup import ensure_individuals, psycopg_connect, sized_database

    sized_database(size)
    ensure_individuals(size)
    api, admin = _clients(_user())
    results = []
    started = time.monotonic()
    with psycopg_connect() as conn:
        _same_planner_settings(conn)
        for name, query, grows in _searches():
            api_run = _measure(api, f"/api/individuals/?page_size=50&{query}", conn, repeat)
            against = _against_floor(api, f"page_size=50&{query}", repeat * 3)
            results.append(
                figure(
                    BENCH,
                    f"api {name}: vs its floor",
                    value=against["api"] * 1000,
                    unit="ms",
                    limit=against["floor"] * 1000,
                    goal=1.5,
                    grows=grows,
                    note=f"{api_run['queries']} queries; plain SQL {api_run['plain'] * 1000:.2f} ms = {api_run['seconds'] / api_run['plain']:.1f}x",
                )
            )
            results.append(figure(BENCH, f"api {name}: vs 150 ms", value=api_run["seconds"] * 1000, unit="ms", limit=150, goal=1.0))
            admin_run = _measure(admin, f"/admin/individuals/individual/?{query}", conn, repeat)
            # The admin's goal is absolute (500 ms); its ratio to plain SQL is printed for information.
            ratio = admin_run["seconds"] / admin_run["plain"]
            results.append(
                figure(
                    BENCH,
                    f"admin {name}: vs 500 ms",
                    value=admin_run["seconds"] * 1000,
                    unit="ms",
                    limit=500,
                    goal=1.0,
                    grows=grows,
                    note=f"{admin_run['queries']} queries, {ratio:.1f}x plain SQL ({admin_run['plain'] * 1000:.1f} ms)",
                )
            )
        # Queries per page must not grow with the page size.
        small = _measure(api, "/api/individuals/?page_size=10&coverage_type=medicare_advantage", conn, 1)["queries"]
        large = _measure(api, "/api/individuals/?page_size=200&coverage_type=medicare_advantage", conn, 1)["queries"]
        results.append(figure(BENCH, "api queries, page of 200 vs page of 10", value=large, unit="queries", limit=small, goal=1.0))
    quick = _quick_search(api)
    results.append(
        figure(
            BENCH,
            "quick search, slowest query: vs 150 ms",
            value=quick["seconds"] * 1000,
            unit="ms",
            limit=150,
            goal=1.0,
            note=f"{quick['slowest']!r}; median of its {quick['queries']} queries {quick['median'] * 1000:.1f} ms",
        )
    )
    print(f"  ({size} individuals requested; measured in {time.monotonic() - started:.0f}s; median of {repeat})")
    return results
