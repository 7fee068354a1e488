"""Thin Celery tasks for carrier connections: ids in, one service call each."""

from celery import shared_task

from .services import connection_attempt_run, connection_attempts_sweep, connections_poll_due


@shared_task(ignore_result=True)
def connections_poll_due_task() -> int:
    """Beat, every minute: run again the attempts nobody holds, then queue a poll for each open connection
    that is due (backoff decides when) and that nothing is working on."""
    connection_attempts_sweep()
    return connections_poll_due()


@shared_task(ignore_result=True)
def connection_attempt_run_task(attempt_id: int) -> None:
    """Run one attempt (a poll, a pull, a request or a retry); a duplicate delivery is a no-op (it is claimed)."""
    connection_attempt_run(attempt_id)
