"""Writes for accounts. The one audit helper every service uses is ``core.audit`` (re-exported here)."""

from django.db import transaction

from core import display
from core.audit import audit, record_delete, record_save  # noqa: F401 (re-exported)
from core.errors import ApplicationError

from .models import ApiToken, AuditLog, User


@transaction.atomic
def user_password_save(*, actor: User | None, user: User) -> User:
    """Save the password already set on ``user`` (``set_password`` or disabled) and audit the change.

    The audit row says that the password changed, never what it is.
    """
    user.save(update_fields=["password"])
    summary = "Changed password" if user.has_usable_password() else "Disabled password login"
    audit(actor=actor, action=AuditLog.Action.UPDATE, obj=user, summary=summary, data={"fields": ["password"]})
    api_tokens_revoke(actor=actor, user=user, reason="password changed")
    return user


@transaction.atomic
def user_save(*, actor: User | None, user: User, changed: list[str] | None = None) -> User:
    """Validate, save and audit a user (``record_save``); deactivating one revokes their API tokens."""
    record_save(actor=actor, instance=user, changed=changed)
    if not user.is_active:
        api_tokens_revoke(actor=actor, user=user, reason="user deactivated")
    return user


@transaction.atomic
def api_token_create(*, user: User) -> tuple[ApiToken, str]:
    """Issue an API token to ``user`` (already authenticated). Returns the row and the token itself,
    which is stored only as a digest: the caller shows it once. Audited; expired tokens are purged."""
    from django.utils import timezone
    from knox.settings import knox_settings

    user.auth_token_set.filter(expiry__lt=timezone.now()).delete()
    instance, token = ApiToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL, credentials_hash=user.get_session_auth_hash())
    expires = f", expires {display.datetime_text(instance.expiry)}" if instance.expiry else ""
    audit(actor=user, action=AuditLog.Action.OTHER, obj=user, summary=f"API token issued{expires}")
    return instance, token


@transaction.atomic
def api_tokens_revoke(*, actor: User | None, user: User, reason: str, tokens=None) -> int:
    """Delete ``tokens`` (a queryset of ``user``'s tokens; all of them by default); audited when any were."""
    tokens = user.auth_token_set.all() if tokens is None else tokens.filter(user=user)
    count, _ = tokens.delete()
    if count:
        audit(actor=actor, action=AuditLog.Action.OTHER, obj=user, summary=f"Revoked {count} API token(s): {reason}")
    return count


def login_failure_record(*, username: str, ip: str = "") -> AuditLog:
    """Audit a refused login (wrong password, unknown username, or refused by the lockout)."""
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
    *,
    actor: User | None,
    username: str,
    password: str | None = None,
    invite: bool = False,
    site_url: str = "",
    security_group=None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_active: bool = True,
    is_superuser: bool = False,
) -> User:
    """Create a staff user in a security group, with either an initial ``password`` (checked against
    ``AUTH_PASSWORD_VALIDATORS``) or an invitation (``invite``: a set-password link mailed to ``email``,
    built on ``site_url``). Raises ``ValidationError`` with every field's errors; writes nothing then."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        security_group=security_group,
        is_staff=True,
        is_superuser=is_superuser,
        is_active=is_active,
    )
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if password and invite:
        errors.setdefault("password", []).append("Give an initial password or send an invitation, not both.")
    elif not password and not invite:
        errors.setdefault("password", []).append("Give an initial password, or send an invitation (a link to set one) to the user's email.")
    elif password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors.setdefault("password", []).extend(exc.messages)
    elif not email:
        errors.setdefault("email", []).append("An invitation is sent by email: give the user's email address.")
    if errors:
        raise ValidationError(errors)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    record_save(actor=actor, instance=user)
    if invite:
        user_invite(actor=actor, user=user, site_url=site_url)
    return user


def user_invite(*, actor: User | None, user: User, site_url: str) -> str:
    """Mail ``user`` a link to set their password (valid ``PASSWORD_RESET_TIMEOUT``, once), after commit;
    audited. Returns the link. Raises ``ApplicationError`` when the user has no email address."""
    from django.conf import settings
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    if not user.email:
        raise ApplicationError(f"{user} has no email address to send an invitation to.")
    path = reverse("set-password", kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)})
    link = site_url.rstrip("/") + path
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    body = (
        f"Hello {user.get_full_name() or user.username},\n\nAn account on AgencyDesk was opened for you "
        f"(username: {user.username}). Choose your password here within {days} days:\n\n{link}\n"
    )
    transaction.on_commit(lambda: send_mail("Your AgencyDesk account", body, None, [user.email]))
    audit(actor=actor, action=AuditLog.Action.OTHER, obj=user, summary=f"Invitation to set a password sent to {user.email}")
    return link


@transaction.atomic
def login_unlock(*, actor: User | None, username: str, ip_address: str | None = None) -> int:
    """Clear the failed logins of ``username`` (from ``ip_address``, else from every address): lifts a
    lockout. Audited; returns how many username + address pairs were cleared."""
    from axes.utils import reset

    cleared = reset(username=username, ip=ip_address) if username or ip_address else 0
    where = f" from {ip_address}" if ip_address else ""
    audit(
        actor=actor,
        action=AuditLog.Action.UPDATE,
        model=User,
        object_repr=username,
        summary=f"Unlocked login for {username!r}{where} ({cleared} cleared)",
        data={"cleared": cleared},
    )
    return cleared
