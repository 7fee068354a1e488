"""Areas, levels and flags, and how they map onto Django permissions.

A security group grants a level per area. Every model belongs to one area (``MODEL_AREAS``, by
``app_label.model`` or by ``app_label``); the level decides which of the model's standard
permissions a user has: Visible -> view, Edit -> view/add/change, Delete -> all four. Admin flags
grant every permission on the models they govern and a few custom permissions. The backend in
``accounts.backends`` applies this, so ``user.has_perm(...)`` is the one check everywhere.
"""

from django.db import models


class Area(models.TextChoices):
    INDIVIDUALS = "individuals", "Individuals"
    POLICIES = "policies", "Policies"
    SALES = "sales", "Sales Enablement"
    PLANS = "plans", "Employer Groups & Plans"
    BENEFITS_SYNC = "benefits_sync", "Benefits Sync"
    CARRIER_CONNECTIONS = "carrier_connections", "Carrier Connections"
    REPORTING = "reporting", "Reporting"
    ADMINISTRATION = "administration", "Administration"


class Level(models.IntegerChoices):
    NONE = 0, "None"
    VISIBLE = 1, "Visible"
    EDIT = 2, "Edit"
    DELETE = 3, "Delete"


class Flag(models.TextChoices):
    MANAGE_USERS = "manage_users", "Manage users and security groups"
    MANAGE_CUSTOM_FIELDS = "manage_custom_fields", "Manage custom fields"
    MANAGE_WORKFLOWS = "manage_workflows", "Manage workflows"
    VIEW_FULL_PERSONAL_DATA = "view_full_personal_data", "View full personal data"
    SEARCH_BY_PERSONAL_DATA = "search_by_personal_data", "Search by SSN, Medicare beneficiary ID or driver's license"


ACTION_LEVELS = {"view": Level.VISIBLE, "add": Level.EDIT, "change": Level.EDIT, "delete": Level.DELETE}

# "app_label.model" entries win over "app_label" entries. Apps add their models here.
MODEL_AREAS: dict[str, Area] = {
    "accounts": Area.ADMINISTRATION,
    "knox": Area.ADMINISTRATION,
    "axes": Area.ADMINISTRATION,
    "django_celery_beat": Area.ADMINISTRATION,
    "individuals": Area.INDIVIDUALS,
    "individuals.policy": Area.POLICIES,
    "salesrecords": Area.SALES,
    "plans": Area.PLANS,
    "hrsync": Area.BENEFITS_SYNC,
    "carriers": Area.CARRIER_CONNECTIONS,
    "integrations": Area.ADMINISTRATION,
    # ams: webhook secrets, the inbox and reconciliations are Administration; identity conflicts and
    # the sync queue are seen by whoever sees individuals or employer groups (checked in ams.permissions).
    "ams": Area.ADMINISTRATION,
}

# Models whose changes need a flag; the area level still grants viewing them.
FLAG_MODELS: dict[str, Flag] = {
    "accounts.user": Flag.MANAGE_USERS,
    "accounts.securitygroup": Flag.MANAGE_USERS,
    "axes.accessattempt": Flag.MANAGE_USERS,
    "individuals.customfield": Flag.MANAGE_CUSTOM_FIELDS,
    "salesrecords.salesworkflow": Flag.MANAGE_WORKFLOWS,
    "salesrecords.salesrecordtyperight": Flag.MANAGE_USERS,
}

# Models nobody changes, whatever their level: append-only logs.
READ_ONLY_MODELS = {"accounts.auditlog"}

# Custom permissions ("app_label.codename") and the flag that grants each.
FLAG_PERMISSIONS: dict[str, Flag] = {f"accounts.{flag.value}": flag for flag in Flag}


def area_of(app_label: str, model: str) -> Area | None:
    return MODEL_AREAS.get(f"{app_label}.{model}") or MODEL_AREAS.get(app_label)


def permission_granted(*, levels: dict[str, int], flags: set[str], perm: str) -> bool:
    """Whether a security group with these ``levels`` and ``flags`` grants ``perm``."""
    app_label, _, codename = perm.partition(".")
    if perm in FLAG_PERMISSIONS:
        return FLAG_PERMISSIONS[perm].value in flags
    action, _, model = codename.partition("_")
    if action not in ACTION_LEVELS or not model:
        return False
    key = f"{app_label}.{model}"
    if key in READ_ONLY_MODELS and action != "view":
        return False
    flag = FLAG_MODELS.get(key)
    if flag and flag.value in flags:
        return True
    if flag and action != "view":
        return False
    area = area_of(app_label, model)
    return area is not None and levels.get(area.value, Level.NONE) >= ACTION_LEVELS[action]


ACTION_VERBS = {"view": "see", "add": "add", "change": "change", "delete": "delete"}


def right_needed(perm: str) -> str:
    """The right that grants ``perm``, in the words of the security-group page: "Edit on Individuals",
    "the right “Manage custom fields”"; empty when no security group can grant it."""
    app_label, _, codename = perm.partition(".")
    if perm in FLAG_PERMISSIONS:
        return f"the right “{FLAG_PERMISSIONS[perm].label}”"
    action, _, model = codename.partition("_")
    key = f"{app_label}.{model}"
    if action not in ACTION_LEVELS or key in READ_ONLY_MODELS and action != "view":
        return ""
    if key in FLAG_MODELS and action != "view":
        return f"the right “{FLAG_MODELS[key].label}”"
    area = area_of(app_label, model)
    return f"{ACTION_LEVELS[action].label} on {area.label}" if area else ""


def denial_message(user, perms) -> str:
    """Why ``user`` is refused: "You need Edit on Individuals to add individuals." for the first of
    ``perms`` they lack (empty when they hold them all)."""
    from django.apps import apps

    for perm in perms:
        if user.has_perm(perm):
            continue
        app_label, _, codename = perm.partition(".")
        action, _, model_name = codename.partition("_")
        try:
            model = apps.get_model(app_label, model_name)
            what = f" to {ACTION_VERBS.get(action, action)} {model._meta.verbose_name_plural}"
        except LookupError:
            what = ""
        right = right_needed(perm)
        if not right:
            return (
                f"Nobody may {ACTION_VERBS.get(action, action)} {model._meta.verbose_name_plural}."
                if what
                else "You don't have the right to do this."
            )
        return f"You need {right}{what}."
    return ""
