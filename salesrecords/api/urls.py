from core.api.routers import Router

from . import views

router = Router()
router.register("sales-record-types", views.SalesRecordTypeViewSet)
router.register("sales-records", views.SalesRecordViewSet)
router.register("sales-record-jobs", views.MassCreationJobViewSet, basename="masscreationjob")
router.register("sales-activities", views.ActivityViewSet, basename="activity")
router.register("sales-workflows", views.SalesWorkflowViewSet)

urlpatterns = [*router.urls]
