from django.urls import path

from core.api.routers import Router

from . import views

router = Router()
router.register("carriers", views.CarrierViewSet)
router.register("employer-groups", views.EmployerGroupViewSet)
router.register("plans", views.PlanViewSet)

urlpatterns = [
    # Before the router, whose "<prefix>/<pk>/" would take "import" for an id.
    path("employer-groups/import/", views.EmployerGroupImportView.as_view(), name="employer-group-import"),
    path("plans/import/", views.PlanImportView.as_view(), name="plan-import"),
    *router.urls,
]
