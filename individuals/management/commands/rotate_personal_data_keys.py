"""Re-encrypt personal data with the newest key (first of ``PERSONAL_DATA_KEYS``), in chunks by pk.

Deploy with the new key first and the old ones after it; run this; then drop the old keys.
Resumable: each chunk is one transaction, progress is saved after each chunk, and values already
on the newest key are skipped, so a stopped run continues where it left off. Hashes do not change
(they use ``PERSONAL_DATA_HASH_KEY``, which this does not rotate).
"""

import hashlib
import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from individuals import personal_data
from individuals.models import Individual

COLUMNS = [f"{kind}_encrypted" for kind in personal_data.KINDS]


def _progress_path(primary_key: str):
    # One progress file per target key: a rotation to a newer key starts from the beginning.
    digest = hashlib.sha256(primary_key.encode()).hexdigest()[:12]
    return settings.VAR_DIR / f"personal-data-rotation-{digest}.json"


class Command(BaseCommand):
    help = "Re-encrypt personal data with the newest key (chunked, resumable)"

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=2000)
        parser.add_argument("--restart", action="store_true", help="ignore saved progress and scan from the start")

    def handle(self, *args, chunk, restart, **options):
        primary = personal_data.encryption_keys()[0]
        progress = _progress_path(primary)
        after = 0 if restart or not progress.exists() else json.loads(progress.read_text())["after_pk"]
        if after:
            self.stdout.write(f"Resuming after id {after}")
        rotated = scanned = 0
        while True:
            with transaction.atomic():
                rows = list(Individual.objects.filter(pk__gt=after).order_by("pk").select_for_update().values_list("pk", *COLUMNS)[:chunk])
                if not rows:
                    break
                changed = []
                for pk, *tokens in rows:
                    if any(token and not personal_data.is_on_primary_key(token) for token in tokens):
                        changed.append(Individual(pk=pk, **{col: personal_data.rotate(t) for col, t in zip(COLUMNS, tokens, strict=True)}))
                Individual.objects.bulk_update(changed, COLUMNS, batch_size=500)
                rotated += len(changed)
                scanned += len(rows)
                after = rows[-1][0]
            progress.write_text(json.dumps({"after_pk": after}))
            self.stdout.write(f"  scanned {scanned}, re-encrypted {rotated} (up to id {after})")
        progress.unlink(missing_ok=True)
        self.stdout.write(self.style.SUCCESS(f"Done: {rotated} individuals re-encrypted with the newest key."))
