"""``django.contrib.admin`` with ``admin.site`` being the AgencyDesk site (listed in INSTALLED_APPS instead of it)."""

from django.contrib.admin.apps import AdminConfig


class AgencyDeskAdminConfig(AdminConfig):
    default_site = "core.admin_site.AgencyDeskAdminSite"
