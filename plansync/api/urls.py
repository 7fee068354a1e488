from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("benefits-admin/accounts", views.BenefitsAdminAccountViewSet, basename="benefits-admin-account")
router.register("plan-sync-links", views.AccountLinkViewSet, basename="plan-sync-link")
router.register("plan-sync-runs", views.PlanSyncRunViewSet, basename="plan-sync-run")
router.register("plan-sync-conflicts", views.PlanSyncConflictViewSet, basename="plan-sync-conflict")

urlpatterns = [*router.urls]
