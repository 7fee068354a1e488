"""The API side of every CSV/XLSX import: one upload form, one report, one view to subclass."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.importing import FORMATS, ImportReport


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8) or XLSX, with a header row in the export's columns.")
    file_format = serializers.ChoiceField(choices=FORMATS, required=False,
                                          help_text="csv or xlsx; by default from the file name.")
    dry_run = serializers.BooleanField(default=True, help_text="Validate every row and write nothing (default).")


class ImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    dry_run = serializers.BooleanField()
    written = serializers.BooleanField()
    rows = serializers.IntegerField()
    totals = serializers.DictField(child=serializers.IntegerField())
    row_errors = serializers.ListField(child=serializers.DictField(), help_text='[{"row": 3, "errors": {"ssn": ["..."]}}]')


class ImportView(APIView):
    """Import a file, all or nothing: 200 with the report; 400 with it when any row is invalid.

    Subclasses set ``permission_classes`` and implement ``run_import`` by calling their app's service.
    """

    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "bulk"

    def run_import(self, *, content: bytes, file_format: str, dry_run: bool) -> ImportReport:
        raise NotImplementedError

    @extend_schema(request={"multipart/form-data": ImportSerializer},
                   responses={200: ImportReportSerializer, 400: ImportReportSerializer})
    def post(self, request):
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        file_format = body.validated_data.get("file_format") or upload.name.rsplit(".", 1)[-1].lower()
        try:
            report = self.run_import(content=upload.read(), file_format=file_format,
                                     dry_run=body.validated_data["dry_run"])
        except ValueError as exc:
            raise ValidationError({"file": [str(exc)]}) from None
        code = status.HTTP_400_BAD_REQUEST if report.row_errors else status.HTTP_200_OK
        return Response(report.as_dict(), status=code)
