"""Demo data for accounts: one login per seeded security group, and some agents."""

import json
import secrets

from django.conf import settings

from .models import Agent, SecurityGroup, User
from .seeded_groups import SEEDED_SECURITY_GROUPS
from .services import record_save, user_create

AGENTS = [("Dana", "Whitfield", "sales"), ("Marcus", "Oyelaran", "service"), ("Priya", "Raman", None), ("Tom", "Becker", None)]


def _logins() -> dict[str, str]:
    """Passwords are made once and kept in var/, so a second run prints the same logins."""
    path = settings.VAR_DIR / "demo-logins.json"
    if path.exists():
        return json.loads(path.read_text())
    logins = {name.lower().replace(" ", "_"): f"Demo-{secrets.token_urlsafe(9)}" for name in SEEDED_SECURITY_GROUPS}
    path.write_text(json.dumps(logins, indent=2))
    return logins


def load(stdout) -> list[tuple[str, str, str]]:
    rows = []
    groups = {g.name: g for g in SecurityGroup.objects.all()}
    for group_name, (username, password) in zip(SEEDED_SECURITY_GROUPS, _logins().items(), strict=True):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                actor=None,
                username=username,
                password=password,
                security_group=groups[group_name],
                first_name=group_name.split()[0],
                last_name="Demo",
                email=f"{username}@agency.example",
            )
        elif not user.check_password(password):
            user.set_password(password)
            record_save(actor=None, instance=user, changed=["password"])
        rows.append((group_name, username, password))
    for first, last, username in AGENTS:
        if not Agent.objects.filter(first_name=first, last_name=last).exists():
            user = User.objects.filter(username=username).first() if username else None
            record_save(actor=None, instance=Agent(first_name=first, last_name=last, user=user, email=f"{first.lower()}@agency.example"))
    return rows
