from django.urls import path

from core.api.routers import Router

from . import views

router = Router()
router.register("employees", views.EmployeeViewSet, basename="employee")
router.register("sync-attempts", views.SyncAttemptViewSet)
router.register("benefits-levels", views.BenefitsLevelViewSet)

urlpatterns = [
    # Before the router, whose "employees/<pk>/" would take "import" for an id.
    path("employees/import/", views.CensusImportView.as_view(), name="employee-import"),
    *router.urls,
]
