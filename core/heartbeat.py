"""A job row's heartbeat while a worker runs it, so a sweep can tell a dead worker's job from a slow one.

``with heartbeat(touch, every=10): ...`` calls ``touch()`` every ``every`` seconds from a daemon thread
(on its own database connection) until the block ends. ``touch`` is one conditional UPDATE
(``filter(pk=..., runner=me).update(heartbeat_at=now)``): when it matches no row the work was
handed to another runner, and the caller finds that out at its next conditional write.
"""
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from django.db import connections

log = logging.getLogger(__name__)


@contextlib.contextmanager
def heartbeat(touch: Callable[[], object], *, every: float) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    touch()
                except Exception:  # a missed beat is not fatal: the next one, or the job's own writes, follow
                    log.warning("heartbeat not written", exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=beat, name="job-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
