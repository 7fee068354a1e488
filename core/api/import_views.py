"""The API side of every CSV/XLSX import: one upload form, one report, one view to subclass, and the
import jobs that large uploads become."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.throttling import ScopedThrottle
from core.importing import FORMATS, ImportReport
from core.importing.jobs import import_job_progress
from core.models import ImportJob


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV (UTF-8) or XLSX, with a header row in the export's columns. "
        "At most IMPORT_MAX_BYTES (413 above); above IMPORT_JOB_THRESHOLD_BYTES "
        "the import runs as a job (202)."
    )
    file_format = serializers.ChoiceField(choices=FORMATS, required=False, help_text="csv or xlsx; by default from the file name.")
    dry_run = serializers.BooleanField(default=True, help_text="Validate every row and write nothing (default).")


class ImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    dry_run = serializers.BooleanField()
    written = serializers.BooleanField()
    rows = serializers.IntegerField()
    totals = serializers.DictField(child=serializers.IntegerField())
    row_errors = serializers.ListField(
        child=serializers.DictField(), help_text='[{"row": 3, "errors": {"ssn": ["..."]}}] (at most IMPORT_MAX_REPORTED_ERRORS rows)'
    )
    error_rows = serializers.IntegerField(help_text="How many rows have errors (all of them, reported or not).")
    job = serializers.IntegerField(allow_null=True, help_text="The import job a large file became (202): GET /api/import-jobs/{job}/ for its report.")


class ImportJobSerializer(serializers.ModelSerializer):
    phase = serializers.SerializerMethodField(help_text="queued, checking (every row, nothing written), writing (chunk by chunk), done.")
    rows_done = serializers.SerializerMethodField(help_text="Rows checked (while checking) or written (while writing; once written).")
    rows_total = serializers.SerializerMethodField(help_text="The file's rows, known once every row was checked (null while checking).")
    rows_per_second = serializers.SerializerMethodField(help_text="Rows checked plus rows written, per second since the job started.")

    def _progress(self, job) -> dict:
        cache = self.context.setdefault("_progress", {})
        if job.pk not in cache:
            cache[job.pk] = import_job_progress(job)
        return cache[job.pk]

    @extend_schema_field(OpenApiTypes.STR)
    def get_phase(self, job) -> str:
        return self._progress(job)["phase"]

    @extend_schema_field(OpenApiTypes.INT)
    def get_rows_done(self, job) -> int:
        return self._progress(job)["rows_done"]

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_rows_total(self, job) -> int | None:
        return self._progress(job)["rows_total"]

    @extend_schema_field({"type": "number", "nullable": True})
    def get_rows_per_second(self, job) -> float | None:
        return self._progress(job)["rows_per_second"]

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "file_format",
            "size",
            "dry_run",
            "status",
            "rows",
            "rows_written",
            "phase",
            "rows_done",
            "rows_total",
            "rows_per_second",
            "error_rows",
            "written",
            "report",
            "reason",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportView(APIView):
    """Import a file, all or nothing: 200 with the report; 400 with it when any row is invalid; 202 with
    the job for a large file; 413 for one over the limit.

    Subclasses set ``permission_classes`` and implement ``run_import`` by calling their app's service.
    """

    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [ScopedThrottle]
    throttle_scope = "bulk"

    def run_import(self, *, content, file_format: str, dry_run: bool) -> ImportReport:
        raise NotImplementedError

    def initial(self, request, *args, **kwargs):
        # Before the body is parsed: a request over the limit is refused unread.
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = settings.IMPORT_MAX_BYTES
        if length > limit + 64 * 1024:  # room for the form's other fields
            raise PayloadTooLarge(f"The upload is {length / 1_000_000:.1f} MB; imports take at most {limit / 1_000_000:.1f} MB (IMPORT_MAX_BYTES).")
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": ImportSerializer},
        responses={
            200: ImportReportSerializer,
            202: ImportReportSerializer,
            400: ImportReportSerializer,
            413: OpenApiResponse(description="The file is larger than IMPORT_MAX_BYTES."),
        },
    )
    def post(self, request):
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise PayloadTooLarge(
                f"The file is {upload.size / 1_000_000:.1f} MB; imports take at most "
                f"{settings.IMPORT_MAX_BYTES / 1_000_000:.1f} MB (IMPORT_MAX_BYTES)."
            )
        file_format = body.validated_data.get("file_format") or upload.name.rsplit(".", 1)[-1].lower()
        try:
            report = self.run_import(content=upload, file_format=file_format, dry_run=body.validated_data["dry_run"])
        except ValueError as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        code = status.HTTP_202_ACCEPTED if report.job else status.HTTP_400_BAD_REQUEST if report.row_errors else status.HTTP_200_OK
        return Response(report.as_dict(), status=code)


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in user's import jobs (large uploads) with their reports."""

    serializer_class = ImportJobSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["status", "kind"]
    queryset = ImportJob.objects.none()  # for the schema; requests see their own jobs only

    def get_queryset(self):
        return ImportJob.objects.filter(owner=self.request.user)
