from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("external-ids", views.ExternalIdViewSet, basename="external-id")
router.register("identity-conflicts", views.IdentityConflictViewSet, basename="identity-conflict")
router.register("reconciliations", views.ReconciliationViewSet, basename="reconciliation")
router.register("ams/sync-attempts", views.SyncAttemptViewSet, basename="ams-sync-attempt")

urlpatterns = [
    path("ams/notifications/", views.NotificationWebhookView.as_view(), name="ams-notifications"),
    *router.urls,
]
