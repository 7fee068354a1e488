"""The API's URLs: each app contributes its own ``<app>/api/urls.py`` under ``/api/``."""
from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("accounts.api.urls")),
]
