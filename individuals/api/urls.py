from django.urls import path

from core.api.routers import Router

from . import views
from .exports import ExportJobViewSet, ImportView, IndividualExportView, PolicyImportView
from .saved_searches import SavedSearchViewSet

router = Router()
router.register("individuals", views.IndividualViewSet)
router.register("policies", views.PolicyViewSet)
router.register("custom-fields", views.CustomFieldViewSet)
router.register("saved-searches", SavedSearchViewSet, basename="saved-search")
router.register("individuals/export/jobs", ExportJobViewSet, basename="individual-export-job")

urlpatterns = [
    # Before the router, whose "individuals/<pk>/" would take "export" / "import" for an id.
    path("individuals/export/", IndividualExportView.as_view(), name="individual-export"),
    path("individuals/import/", ImportView.as_view(), name="individual-import"),
    path("policies/import/", PolicyImportView.as_view(), name="policy-import"),
    *router.urls,
]
