"""The API's URLs: each app contributes its own ``<app>/api/urls.py`` under ``/api/``."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include(f"{app}.api.urls"))
    for app in ("accounts", "individuals", "salesrecords", "plans", "hrsync", "integrations", "core", "plansync", "carriers", "ams")
]
