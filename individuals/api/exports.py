"""``/api/individuals/export/``: CSV of every individual a search finds (streamed, or a job when large),
``/api/individuals/export/jobs/``: the user's export jobs and their downloads, and
``/api/individuals/import/`` / ``/api/policies/import/``: CSV or XLSX import with a dry run."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import HasPerm
from core.api.import_views import ImportView as BaseImportView
from core.api.throttling import ScopedThrottle

from ..filters import criteria_public, personal_data_in_url
from ..models import ExportJob
from ..services import exports, imports


class ExportJobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()
    queue = serializers.CharField(read_only=True, help_text="In progress, successful or failed (core.jobs.Queue).")
    expired = serializers.BooleanField(read_only=True, help_text="Succeeded, and its file is past its expiry.")
    criteria = serializers.SerializerMethodField(
        help_text='The criteria; SSN / MBI / driver\'s license as "(saved, not shown)", never their search key.'
    )

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "status",
            "queue",
            "expired",
            "row_count",
            "criteria",
            "criteria_version",
            "reveal",
            "reason",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_criteria(self, job) -> dict:
        return criteria_public(job.criteria or {})  # never a keyed hash (issue 22)

    def get_download_url(self, job) -> str | None:
        if job.status != ExportJob.Status.SUCCEEDED or job.expired:
            return None
        url = reverse("api:individual-export-job-download", args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ExportRequestSerializer(serializers.Serializer):
    criteria = serializers.DictField(
        required=False, default=dict, help_text="The individuals list's criteria; personal data may be given in clear here."
    )
    reveal = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Personal-data fields to export in full (needs the right; audited); masked otherwise.",
    )


REVEAL = OpenApiParameter(
    "reveal",
    OpenApiTypes.STR,
    description=(
        "Comma-separated personal-data fields to export in full (ssn, medicare_beneficiary_id, drivers_license, or all). "
        "Needs the 'view full personal data' right; audited. Masked otherwise."
    ),
)
CSV_OR_JOB = {
    200: OpenApiResponse(OpenApiTypes.BINARY, description="text/csv, streamed (at most the stream limit of rows)."),
    202: OpenApiResponse(ExportJobSerializer, description="Too many rows to stream: a background job; poll it."),
}


class IndividualExportView(APIView):
    """CSV of ALL individuals a search finds (not a page). Criteria as for the individuals list."""

    permission_classes = [HasPerm.of("individuals.view_individual")]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "export"

    @extend_schema(
        parameters=[REVEAL],
        responses=CSV_OR_JOB,
        description=(
            "Query parameters are the advanced-search criteria. SSN / MBI / driver's license criteria are refused here "
            "(never in URLs): POST them in the body."
        ),
    )
    def get(self, request):
        in_url = personal_data_in_url(request.query_params)
        if in_url:
            raise ValidationError({k: ["Personal data never goes in a URL: POST the criteria in the body."] for k in in_url})
        return self._export(request, request.query_params, request.query_params.get("reveal", ""))

    @extend_schema(request=ExportRequestSerializer, responses=CSV_OR_JOB)
    def post(self, request):
        body = ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._export(request, body.validated_data["criteria"], body.validated_data["reveal"])

    def _export(self, request, criteria, reveal):
        blocks, job, count = exports.individual_export_start(actor=request.user, criteria=criteria, reveal=reveal)
        if job is not None:
            data = ExportJobSerializer(job, context={"request": request}).data
            url = request.build_absolute_uri(reverse("api:individual-export-job-detail", args=[job.pk]))
            return Response({**data, "url": url, "matched": count}, status=status.HTTP_202_ACCEPTED, headers={"Location": url})
        response = StreamingHttpResponse(blocks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="individuals-{timezone.now():%Y%m%d-%H%M%S}.csv"'
        response["X-Row-Count"] = str(count)
        return response


class ExportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your background CSV exports: status, row count and, when done, the download link; delete removes the file."""

    serializer_class = ExportJobSerializer
    permission_classes = [HasPerm.of("individuals.view_individual")]
    queryset = ExportJob.objects.none()
    filterset_fields = ["status"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]
    throttle_scope = "export"  # applies where ScopedThrottle is on: the download

    def get_queryset(self):
        return ExportJob.objects.filter(owner=self.request.user)

    def perform_destroy(self, instance):
        exports.export_job_delete(actor=self.request.user, job=instance)

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="text/csv")})
    @action(detail=True, methods=["get"], throttle_classes=[ScopedThrottle])
    def download(self, request, pk=None):
        # Looked up among all jobs, so that another user's job is refused (403), not hidden.
        job = ExportJob.objects.filter(pk=pk).first()
        if job is None:
            return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
        try:
            blocks = exports.export_job_download(actor=request.user, job=job)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        response = StreamingHttpResponse(blocks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="individuals-export-{job.pk}.csv"'
        return response


class ImportView(BaseImportView):
    """Import individuals (all or nothing). 200 with the report; 400 with it when a row is invalid."""

    kind = "individuals"
    permission_classes = [HasPerm.of("individuals.view_individual")]

    def run_import(self, *, content, file_format, dry_run):
        return imports.individuals_import(actor=self.request.user, kind=self.kind, content=content, file_format=file_format, dry_run=dry_run)


class PolicyImportView(ImportView):
    kind = "policies"
    permission_classes = [HasPerm.of("individuals.view_policy")]
