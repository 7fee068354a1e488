from django.urls import path

from core.api.routers import Router

from .views import AwaitingView, SearchView

router = Router()

urlpatterns = [path("awaiting/", AwaitingView.as_view(), name="awaiting"), path("search/", SearchView.as_view(), name="search"), *router.urls]
