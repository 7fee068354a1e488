"""The AgencyDesk admin site: a home per role and the apps grouped by what staff do.

``core.apps.AgencyDeskAdminConfig`` makes this ``django.contrib.admin.site``, so every
``@admin.register`` (including apps added later) lands here unchanged.
"""

from django.contrib import admin
from django.utils.text import slugify

from . import home

# What staff do -> the models that serve it ("app_label.model" wins over "app_label").
# New apps: add their label (or their models) to the group they serve.
NAV_GROUPS: list[tuple[str, list[str]]] = [
    ("Clients", ["individuals.individual", "individuals.policy", "individuals.savedsearch", "individuals.exportjob", "ams"]),
    ("Sales", ["salesrecords"]),
    ("Employer groups & plans", ["plans", "plansync"]),
    ("Benefits", ["hrsync"]),
    ("Carriers", ["plans.carrier", "carriers"]),
    ("Administration", ["accounts", "individuals.customfield", "integrations", "core.importjob"]),
]
# Plumbing: shown to administrators only, last.
SYSTEM_GROUP = "System"
SYSTEM_APPS = {"django_celery_beat", "authtoken", "knox", "axes", "auth"}
SYSTEM_MODELS = {"accounts.apitoken", "ams.webhooksecret"}
OTHER_GROUP = "Other"

# Each group's main screen comes first; the rest alphabetically.
PRIMARY_MODELS = ["individuals.individual", "salesrecords.salesrecord", "plans.employergroup", "hrsync.employee", "plans.carrier", "accounts.user"]

# The names people use where the model's own name is a developer's.
MODEL_LABELS = {
    "hrsync.employee": "Benefits Management",
    "hrsync.syncattempt": "Sync history (all employees)",
    "salesrecords.masscreationjob": "Sales record creation jobs",
    "individuals.exportjob": "Export jobs",
    "ams.syncattempt": "AMS and CRM sync attempts",
    "ams.notification": "AMS and CRM notifications",
    "ams.reconciliation": "AMS reconciliations",
}


def group_of(app_label: str, model_name: str) -> str:
    key = f"{app_label}.{model_name}"
    if key in SYSTEM_MODELS:
        return SYSTEM_GROUP
    for title, members in NAV_GROUPS:
        if key in members:
            return title
    if app_label in SYSTEM_APPS:
        return SYSTEM_GROUP
    for title, members in NAV_GROUPS:
        if app_label in members:
            return title
    return OTHER_GROUP


def is_administrator(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm("accounts.manage_users"))


class AgencyDeskAdminSite(admin.AdminSite):
    site_header = "AgencyDesk"
    site_title = "AgencyDesk"
    index_title = "AgencyDesk"
    empty_value_display = "—"
    site_url = None  # no "View site": the admin is the product
    enable_nav_sidebar = False  # the groups are in the top bar; tables get the whole width
    index_template = "admin/agencydesk/home.html"

    def get_app_list(self, request, app_label=None):
        """One app's page keeps Django's list; everywhere else: the staff groups, in ``NAV_GROUPS`` order."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        apps = self._build_app_dict(request)
        order = [title for title, _ in NAV_GROUPS] + [OTHER_GROUP, SYSTEM_GROUP]
        groups: dict[str, list[dict]] = {title: [] for title in order}
        for app in apps.values():
            for model in app["models"]:
                key = f"{app['app_label']}.{model['object_name'].lower()}"
                model["name"] = MODEL_LABELS.get(key, model["name"])
                model["sort_key"] = (key not in PRIMARY_MODELS, str(model["name"]).lower())
                groups[group_of(app["app_label"], model["object_name"].lower())].append(model)
        if not is_administrator(request.user):
            groups[SYSTEM_GROUP] = []
        return [
            {
                "name": title,
                "app_label": slugify(title),
                "app_url": f"{self._index_url()}#group-{slugify(title)}",
                "has_module_perms": True,
                "models": sorted(models, key=lambda m: m["sort_key"]),
            }
            for title, models in groups.items()
            if models
        ]

    def _index_url(self):
        from django.urls import reverse

        return reverse("admin:index", current_app=self.name)

    def index(self, request, extra_context=None):
        context = {"home_sections": home.panels_for(request), "title": "AgencyDesk", "subtitle": None, **(extra_context or {})}
        return super().index(request, extra_context=context)
