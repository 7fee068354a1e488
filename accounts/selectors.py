from .models import AuditLog, User
from .rights import Area, Flag


def user_rights(*, user: User) -> dict:
    """The user's effective rights: a level name per area and the flags they hold."""
    return {
        "areas": {area.value: user.area_level(area).label for area in Area},
        "flags": {flag.value: user.has_perm(f"accounts.{flag.value}") for flag in Flag},
    }


def system_health() -> dict:
    """What this process sees of the system: database vendor and audit log size."""
    from django.db import connection

    return {"database": connection.vendor, "audit_rows": AuditLog.objects.count()}
