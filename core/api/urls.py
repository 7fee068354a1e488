from rest_framework.routers import SimpleRouter

from .import_views import ImportJobViewSet

router = SimpleRouter()
router.register("import-jobs", ImportJobViewSet, basename="import-job")

urlpatterns = router.urls
