from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("sales-record-types", views.SalesRecordTypeViewSet)
router.register("sales-records", views.SalesRecordViewSet)
router.register("sales-record-jobs", views.MassCreationJobViewSet, basename="masscreationjob")
router.register("sales-activities", views.ActivityViewSet, basename="activity")
router.register("sales-workflows", views.SalesWorkflowViewSet)

urlpatterns = [*router.urls]
