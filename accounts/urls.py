"""Pages outside the admin: setting a password from an invitation link."""
from django.urls import path

from . import views

urlpatterns = [
    path("accounts/set-password/done/", views.SetPasswordDoneView.as_view(), name="set-password-done"),
    path("accounts/set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set-password"),
]
