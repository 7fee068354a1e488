from django.urls import path

from core.api.routers import Router

from . import views

router = Router()
router.register("security-groups", views.SecurityGroupViewSet)
router.register("users", views.UserViewSet)
router.register("agents", views.AgentViewSet)
router.register("audit-log", views.AuditLogViewSet)

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    *router.urls,
]
