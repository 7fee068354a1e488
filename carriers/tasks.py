"""Thin Celery tasks for carrier connections: ids in, one service call each."""
import contextlib

from celery import shared_task

from core.errors import ApplicationError

from .services import connection_poll, connection_pull, connections_poll_due


@shared_task(ignore_result=True)
def connections_poll_due_task() -> int:
    """Beat, every minute: queue a poll for each open connection that is due (backoff decides when)."""
    return connections_poll_due()


@shared_task(ignore_result=True)
def connection_poll_task(connection_id: int) -> None:
    """Poll one connection; a duplicate delivery is a no-op (the poll is claimed conditionally)."""
    connection_poll(connection_id=connection_id)


@shared_task(ignore_result=True)
def connection_pull_task(connection_id: int) -> None:
    """Pull a completed connection's group data and compare it; a failure is kept on the connection."""
    # A failure is recorded on the connection (pull_error); a person pulls again from the admin or the API.
    with contextlib.suppress(ApplicationError):
        connection_pull(connection_id=connection_id)
