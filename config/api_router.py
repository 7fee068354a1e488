"""The API's URLs: each app contributes its own ``<app>/api/urls.py`` under ``/api/``."""

from django.conf import settings
from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include(f"{app}.api.urls"))
    for app in ("accounts", "individuals", "salesrecords", "plans", "hrsync", "integrations", "core", "plansync", "carriers", "ams")
]
# The API list's floor for the benchmarks (bench/floor.py), resolved after the individuals' routes, as
# deep as the real list; production settings force it off.
if settings.BENCH_FLOOR:
    urlpatterns.insert(2, path("_floor/", include("bench.floor")))
