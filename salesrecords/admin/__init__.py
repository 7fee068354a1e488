"""Admin wiring for sales records (writes go through ``salesrecords.services``)."""

from . import jobs, records, workflows  # noqa: F401  (each registers its ModelAdmins)
