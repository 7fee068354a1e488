from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("carrier-connections", views.CarrierConnectionViewSet, basename="carrierconnection")
router.register("discrepancies", views.DiscrepancyViewSet, basename="discrepancy")

urlpatterns = router.urls
