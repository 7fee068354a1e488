"""Demo data for individuals: ~2,000 clients with policies and custom field values (bulk, idempotent)."""

from .bulk_data import bulk_generate, ensure_reference_data
from .models import Individual

DEMO_SIZE = 2000


def load(stdout) -> None:
    ensure_reference_data()
    missing = DEMO_SIZE - Individual.objects.count()
    if missing > 0:
        bulk_generate(missing, seed=2026, stdout=None)
    stdout.write(f"Individuals: {Individual.objects.count()} with policies and custom fields")
