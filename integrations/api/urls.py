from django.urls import path

from core.api.routers import Router

from .views import AwaitingView

router = Router()

urlpatterns = [path("awaiting/", AwaitingView.as_view(), name="awaiting"), *router.urls]
