from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # accounts' pages, first: its admin/login/ (the admin's login, throttled per address) comes
    # before the admin's own.
    path("", include("accounts.urls")),
    path("admin/awaiting/", include("integrations.views")),
    path("admin/search/", include("integrations.search_views")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("config.api_router")),
]

# Error pages in the product's frame (core.views)
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
