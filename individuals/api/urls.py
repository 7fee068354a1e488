from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("individuals", views.IndividualViewSet)
router.register("policies", views.PolicyViewSet)
router.register("custom-fields", views.CustomFieldViewSet)

urlpatterns = [*router.urls]
