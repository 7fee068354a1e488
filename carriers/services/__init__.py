"""Every write of carriers: connections in ``connections``, group data in ``pull``, differences in
``compare`` and ``discrepancies``; every call to the service is an attempt run by ``attempts``."""

from .attempts import connection_attempt_run, connection_attempts_sweep
from .compare import discrepancies_compare
from .connections import AMENDABLE, carrier_noyo_id, connection_poll, connection_request, connection_retry, connections_poll_due
from .discrepancies import Resolution, discrepancies_resolve, discrepancy_resolve
from .pull import connection_pull, member_link_confirm

__all__ = [
    "AMENDABLE",
    "Resolution",
    "carrier_noyo_id",
    "connection_attempt_run",
    "connection_attempts_sweep",
    "connection_poll",
    "connection_pull",
    "connection_request",
    "connection_retry",
    "connections_poll_due",
    "discrepancies_compare",
    "discrepancies_resolve",
    "discrepancy_resolve",
    "member_link_confirm",
]
