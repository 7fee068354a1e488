from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("employees", views.EmployeeViewSet, basename="employee")
router.register("sync-attempts", views.SyncAttemptViewSet)
router.register("benefits-levels", views.BenefitsLevelViewSet)

urlpatterns = [*router.urls]
