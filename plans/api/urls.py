from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("carriers", views.CarrierViewSet)
router.register("employer-groups", views.EmployerGroupViewSet)
router.register("plans", views.PlanViewSet)

urlpatterns = [*router.urls]
