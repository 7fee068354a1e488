"""Personal data at rest: SSN, Medicare beneficiary ID (MBI) and driver's license.

Each kind is kept in three columns on ``Individual`` (and copied as-is by other apps):

- ``<kind>_encrypted``: a MultiFernet token of the normalised value (keys: ``settings.PERSONAL_DATA_KEYS``,
  newest first; empty -> a development key generated into ``settings.VAR_DIR``);
- ``<kind>_hash``: HMAC-SHA256 of the normalised value with ``settings.PERSONAL_DATA_HASH_KEY``
  (or a development key in ``VAR_DIR``), for exact-match search without decrypting;
- ``<kind>_last4``: the last 4 characters, for masked display.

API: ``normalize(kind, value)`` (validates), ``encrypt``/``decrypt``, ``hash_value(kind, value)``,
``mask(kind, last4)``, ``protect(kind, value) -> {"encrypted", "hash", "last4"}``,
``assign(instance, kind, value)`` (sets the three columns), ``reveal(instance, kind)``.
"""

import hashlib
import hmac
import os
import re
import time
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from .models import PERSONAL_DATA_COLUMNS
from .models import PERSONAL_DATA_KINDS as KINDS  # noqa: F401 (defined once, with the model's columns)

# Columns a list never needs (it shows the last 4): deferred there to keep rows small.
SECRET_COLUMNS = tuple(c for c in PERSONAL_DATA_COLUMNS if not c.endswith("_last4"))
LABELS = {"ssn": "SSN", "medicare_beneficiary_id": "Medicare beneficiary ID", "drivers_license": "driver's license"}

_SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}$")
# CMS MBI format: C A AN N A AN N A A N N (A excludes S, L, O, I, B, Z).
_A = "AC-HJKMNP-RT-Y"
_MBI = re.compile(rf"^[1-9][{_A}][{_A}0-9]\d[{_A}][{_A}0-9]\d[{_A}][{_A}]\d\d$")
_DL = re.compile(r"^[A-Z0-9]{4,20}$")


def normalize(kind: str, value: str) -> str:
    """The canonical form hashed and encrypted; raises ``ValidationError({kind: ...})`` when malformed."""
    text = re.sub(r"[\s\-]", "", str(value or "")).upper()
    if kind == "ssn":
        if not _SSN.match(text):
            raise ValidationError({kind: "Enter a valid SSN: 9 digits, as 123-45-6789."})
    elif kind == "medicare_beneficiary_id":
        if not _MBI.match(text):
            raise ValidationError({kind: "Enter a valid Medicare beneficiary ID: 11 characters, as 1EG4-TE5-MK73."})
    elif kind == "drivers_license":
        if not _DL.match(text):
            raise ValidationError({kind: "Enter a valid driver's license number: 4 to 20 letters and digits."})
    else:
        raise ValueError(f"unknown personal data kind {kind!r}")
    return text


def _new_fernet_key() -> str:
    return Fernet.generate_key().decode()


def _new_hash_key() -> str:
    return os.urandom(32).hex()


def _dev_key(name: str, make) -> str:
    return _read_or_create_key(os.path.join(settings.VAR_DIR, name), make)  # no Path per call: an import hashes every row


@lru_cache(maxsize=16)
def _read_or_create_key(path: str, make) -> str:
    """A development key kept in VAR_DIR, created once (atomically, so parallel processes agree)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(make())
    for _ in range(50):  # another process may be between create and write
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise ImproperlyConfigured(f"{path} is empty")


def encryption_keys() -> list[str]:
    keys = [k for k in settings.PERSONAL_DATA_KEYS if k]
    return keys or [_dev_key("personal-data.key", _new_fernet_key)]


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(encryption_keys()))


def primary_fernet() -> Fernet:
    return Fernet(encryption_keys()[0].encode())


def hash_key() -> bytes:
    key = settings.PERSONAL_DATA_HASH_KEY or _dev_key("personal-data-hash.key", _new_hash_key)
    return key.encode()


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured("Personal data cannot be decrypted with the configured keys.") from None


def hash_value(kind: str, value: str) -> str:
    """The keyed hash searched on; ``value`` is normalised first (raises ``ValidationError`` if malformed)."""
    normalized = normalize(kind, value)
    return hmac.new(hash_key(), f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


SEALED = "pd1."


def seal(key: str) -> str:
    """A search key (keyed hash) as URLs and pages carry it: encrypted, different each time it is sealed, so
    two sealed keys can't be compared (a guess's key with a colleague's saved one) and none tells the hash."""
    return SEALED + primary_fernet().encrypt(key.encode()).decode()


def unseal(value: str) -> str:
    """The search key inside a sealed value (a plain key is returned as it is); ``ValueError`` if forged."""
    if not value.startswith(SEALED):
        return value
    try:
        return fernet().decrypt(value.removeprefix(SEALED).encode()).decode()
    except InvalidToken:
        raise ValueError("Not a personal-data search key.") from None


def mask(kind: str, last4: str) -> str:
    if not last4:
        return ""
    if kind == "ssn":
        return f"***-**-{last4}"
    return f"****{last4}"


def protect(kind: str, value: str) -> dict[str, str]:
    """The three stored columns for ``value``; empty value -> empty columns."""
    if value in (None, ""):
        return {"encrypted": "", "hash": "", "last4": ""}
    normalized = normalize(kind, value)
    return {"encrypted": encrypt(normalized), "hash": hash_value(kind, normalized), "last4": normalized[-4:]}


def assign(instance, kind: str, value: str | None) -> None:
    """Set ``instance``'s three columns for ``kind`` from the plain ``value`` (None/"" clears)."""
    columns = protect(kind, value)
    for suffix, column_value in columns.items():
        setattr(instance, f"{kind}_{suffix}", column_value)


def masked(instance, kind: str) -> str:
    return mask(kind, getattr(instance, f"{kind}_last4"))


def reveal(instance, kind: str) -> str:
    """The full value; callers check the right and audit (see ``services.individual_reveal``)."""
    return decrypt(getattr(instance, f"{kind}_encrypted"))


def display(kind: str, normalized: str) -> str:
    """A normalised value formatted for people (SSN with dashes)."""
    if kind == "ssn" and len(normalized) == 9:
        return f"{normalized[:3]}-{normalized[3:5]}-{normalized[5:]}"
    return normalized


def is_on_primary_key(token: str) -> bool:
    """Whether ``token`` is already encrypted with the newest key (used by key rotation to skip)."""
    try:
        primary_fernet().decrypt(token.encode())
        return True
    except InvalidToken:
        return False


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode() if token else token
