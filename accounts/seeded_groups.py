"""The seeded security groups (DESIGN.md section 3); loaded by a data migration."""

from .rights import Area, Flag, Level

A = Area
SEEDED_SECURITY_GROUPS = {
    "Agency Admin": {
        "levels": dict.fromkeys(Area, Level.DELETE),
        "flags": set(Flag),
        "description": "Runs the agency: every area, every administrative right.",
    },
    "Sales": {
        "levels": {A.INDIVIDUALS: Level.EDIT, A.POLICIES: Level.EDIT, A.SALES: Level.DELETE, A.PLANS: Level.VISIBLE, A.REPORTING: Level.VISIBLE},
        "flags": {Flag.SEARCH_BY_PERSONAL_DATA},
        "description": "Producers: work the book of business and sales records.",
    },
    "Service": {
        "levels": {
            A.INDIVIDUALS: Level.EDIT,
            A.POLICIES: Level.EDIT,
            A.SALES: Level.VISIBLE,
            A.PLANS: Level.EDIT,
            A.BENEFITS_SYNC: Level.EDIT,
            A.CARRIER_CONNECTIONS: Level.VISIBLE,
            A.REPORTING: Level.VISIBLE,
        },
        "flags": {Flag.SEARCH_BY_PERSONAL_DATA},
        "description": "Account managers: keep clients, policies and groups up to date.",
    },
    "Benefits Admin": {
        "levels": {
            A.INDIVIDUALS: Level.VISIBLE,
            A.POLICIES: Level.VISIBLE,
            A.PLANS: Level.DELETE,
            A.BENEFITS_SYNC: Level.DELETE,
            A.CARRIER_CONNECTIONS: Level.DELETE,
            A.REPORTING: Level.VISIBLE,
        },
        "flags": set(),
        "description": "Employee benefits: groups, plans, carrier connections and the benefits sync.",
    },
    "Read Only": {
        "levels": {area: Level.VISIBLE for area in Area if area != A.ADMINISTRATION},
        "flags": set(),
        "description": "Sees the book of business, changes nothing.",
    },
}


def seed_security_groups(SecurityGroup) -> None:
    """Create the seeded groups that are missing; never overwrite an edited group."""
    for name, spec in SEEDED_SECURITY_GROUPS.items():
        defaults = {"description": spec["description"]}
        defaults.update({area.value: int(spec["levels"].get(area, Level.NONE)) for area in Area})
        # A data migration passes the model as it was then: flags added later are granted by their own migration.
        fields = {f.name for f in SecurityGroup._meta.get_fields()}
        defaults.update({flag.value: flag in spec["flags"] for flag in Flag if flag.value in fields})
        SecurityGroup.objects.get_or_create(name=name, defaults=defaults)
