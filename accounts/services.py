"""Writes for accounts. The one audit helper every service uses is ``core.audit`` (re-exported here)."""

from django.db import transaction

from core.audit import audit, record_delete, record_save  # noqa: F401 (re-exported)

from .models import AuditLog, User


@transaction.atomic
def user_password_save(*, actor: User | None, user: User) -> User:
    """Save the password already set on ``user`` (``set_password`` or disabled) and audit the change.

    The audit row says that the password changed, never what it is.
    """
    user.save(update_fields=["password"])
    summary = "Changed password" if user.has_usable_password() else "Disabled password login"
    audit(actor=actor, action=AuditLog.Action.UPDATE, obj=user, summary=summary, data={"fields": ["password"]})
    return user


def login_failure_record(*, username: str, ip: str = "") -> AuditLog:
    """Audit a refused login; enough of these within the window lock the username out."""
    return audit(
        actor=None,
        action=AuditLog.Action.LOGIN_FAILED,
        model=User,
        object_repr=username,
        summary=f"Login refused for {username!r}" + (f" from {ip}" if ip else ""),
        data={"ip": ip},
    )


@transaction.atomic
def user_create(
    *, actor: User | None, username: str, password: str, security_group=None, email: str = "",
    first_name: str = "", last_name: str = "", is_superuser: bool = False,
) -> User:
    """Create a staff user in a security group; validates the password with the site's rules."""
    from django.contrib.auth.password_validation import validate_password

    user = User(
        username=username, email=email, first_name=first_name, last_name=last_name,
        security_group=security_group, is_staff=True, is_superuser=is_superuser,
    )
    validate_password(password, user)
    user.set_password(password)
    return record_save(actor=actor, instance=user)
