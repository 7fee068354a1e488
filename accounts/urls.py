"""Pages of accounts: the admin's login (throttled per address) and setting a password from an invitation link.

``config.urls`` includes these before the admin's own URLs, so ``admin/login/`` here wins."""

from django.urls import path

from . import views

urlpatterns = [
    path("admin/login/", views.admin_login, name="admin-login"),
    path("accounts/set-password/done/", views.SetPasswordDoneView.as_view(), name="set-password-done"),
    path("accounts/set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set-password"),
]
