"""Fixtures of the AMS tests."""
import threading

import pytest


@pytest.fixture
def no_outside_call_in_this_threads_transaction(monkeypatch):
    """The shared guard (``no_outside_call_in_transaction``), per thread, for a test with a live server on
    SQLite in memory: there the server's request threads share the test's one connection, so one thread's
    transaction shows on the connection another thread calls out from. Here each thread counts its own
    transactions; an HTTP request started inside one fails the test (at its end, from whichever thread).
    Use with ``@pytest.mark.http_in_transaction`` (which turns the shared guard off)."""
    from django.db.transaction import Atomic
    from requests.adapters import HTTPAdapter

    mine, seen = threading.local(), []
    enter, leave, send = Atomic.__enter__, Atomic.__exit__, HTTPAdapter.send

    def entering(self):
        if not getattr(self, "_from_testcase", False):
            mine.depth = getattr(mine, "depth", 0) + 1
        return enter(self)

    def leaving(self, *exc):
        if not getattr(self, "_from_testcase", False):
            mine.depth -= 1  # first: the commit's on_commit callbacks run inside ``__exit__``, after the transaction
        return leave(self, *exc)

    def guarded(self, http_request, *args, **kwargs):
        if getattr(mine, "depth", 0):
            seen.append(f"{http_request.method} {http_request.url} started inside a database transaction "
                        f"(thread {threading.current_thread().name})")
        return send(self, http_request, *args, **kwargs)

    monkeypatch.setattr(Atomic, "__enter__", entering)
    monkeypatch.setattr(Atomic, "__exit__", leaving)
    monkeypatch.setattr(HTTPAdapter, "send", guarded)
    yield
    assert not seen, "record intent, commit, then call (integrations.attempts): " + "; ".join(seen[:5])
