"""Individuals (the agency's individual clients), their policies and admin-defined custom fields.

Personal data (SSN, Medicare beneficiary ID, driver's license) is never stored in clear: each has
an encrypted column, a keyed-hash column for exact-match search and the last 4 for masked display.
``individuals.personal_data`` fills them; see its docstring.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from core.jobs import Job

PERSONAL_DATA_KINDS = ("ssn", "medicare_beneficiary_id", "drivers_license")


class USState(models.TextChoices):
    AL = "AL", "Alabama"
    AK = "AK", "Alaska"
    AZ = "AZ", "Arizona"
    AR = "AR", "Arkansas"
    CA = "CA", "California"
    CO = "CO", "Colorado"
    CT = "CT", "Connecticut"
    DE = "DE", "Delaware"
    DC = "DC", "District of Columbia"
    FL = "FL", "Florida"
    GA = "GA", "Georgia"
    HI = "HI", "Hawaii"
    ID = "ID", "Idaho"
    IL = "IL", "Illinois"
    IN = "IN", "Indiana"
    IA = "IA", "Iowa"
    KS = "KS", "Kansas"
    KY = "KY", "Kentucky"
    LA = "LA", "Louisiana"
    ME = "ME", "Maine"
    MD = "MD", "Maryland"
    MA = "MA", "Massachusetts"
    MI = "MI", "Michigan"
    MN = "MN", "Minnesota"
    MS = "MS", "Mississippi"
    MO = "MO", "Missouri"
    MT = "MT", "Montana"
    NE = "NE", "Nebraska"
    NV = "NV", "Nevada"
    NH = "NH", "New Hampshire"
    NJ = "NJ", "New Jersey"
    NM = "NM", "New Mexico"
    NY = "NY", "New York"
    NC = "NC", "North Carolina"
    ND = "ND", "North Dakota"
    OH = "OH", "Ohio"
    OK = "OK", "Oklahoma"
    OR = "OR", "Oregon"
    PA = "PA", "Pennsylvania"
    PR = "PR", "Puerto Rico"
    RI = "RI", "Rhode Island"
    SC = "SC", "South Carolina"
    SD = "SD", "South Dakota"
    TN = "TN", "Tennessee"
    TX = "TX", "Texas"
    UT = "UT", "Utah"
    VT = "VT", "Vermont"
    VA = "VA", "Virginia"
    WA = "WA", "Washington"
    WV = "WV", "West Virginia"
    WI = "WI", "Wisconsin"
    WY = "WY", "Wyoming"


zip_validator = RegexValidator(r"^\d{5}(-\d{4})?$", "Enter a ZIP code as 12345 or 12345-6789.")
phone_validator = RegexValidator(r"^[0-9+().\- x]{7,30}$", "Enter a phone number (digits, spaces, + ( ) - . x).")


class Person(models.Model):
    """What an individual and its sales record share: the fields mass creation carries over (DESIGN.md
    section 5), personal data as its stored columns, custom field values and timestamps."""

    class RecordStatus(models.TextChoices):
        ACTIVE = "active", "Active"
        PROSPECT = "prospect", "Prospect"
        INACTIVE = "inactive", "Inactive"
        DECEASED = "deceased", "Deceased"

    class AddressType(models.TextChoices):
        HOME = "home", "Home"
        MAILING = "mailing", "Mailing"
        WORK = "work", "Work"
        OTHER = "other", "Other"

    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNKNOWN = "unknown", "Unknown"

    class SmokerStatus(models.TextChoices):
        NON_SMOKER = "non_smoker", "Non-smoker"
        SMOKER = "smoker", "Smoker"
        FORMER = "former", "Former smoker"
        UNKNOWN = "unknown", "Unknown"

    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    nickname = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=50, blank=True)
    record_status = models.CharField(max_length=20, choices=RecordStatus.choices, default=RecordStatus.ACTIVE)
    secondary_email = models.EmailField(blank=True)
    cell_phone = models.CharField(max_length=30, blank=True, validators=[phone_validator])
    home_phone = models.CharField(max_length=30, blank=True, validators=[phone_validator])
    address_type = models.CharField(max_length=20, choices=AddressType.choices, blank=True)
    address_line1 = models.CharField("address line 1", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    county = models.CharField(max_length=100, blank=True)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True, validators=[zip_validator])
    state = models.CharField(max_length=2, choices=USState.choices, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    lead_source = models.CharField(max_length=100, blank=True)
    medicare_part_a_effective = models.DateField("Medicare Part A effective date", null=True, blank=True)
    medicare_part_b_effective = models.DateField("Medicare Part B effective date", null=True, blank=True)
    smoker_status = models.CharField(max_length=20, choices=SmokerStatus.choices, blank=True)
    # Personal data: ciphertext (MultiFernet token), keyed hash (exact search), last 4 (masked display).
    ssn_encrypted = models.TextField(blank=True, editable=False)
    ssn_hash = models.CharField(max_length=64, blank=True, editable=False)
    ssn_last4 = models.CharField(max_length=4, blank=True, editable=False)
    medicare_beneficiary_id_encrypted = models.TextField(blank=True, editable=False)
    medicare_beneficiary_id_hash = models.CharField(max_length=64, blank=True, editable=False)
    medicare_beneficiary_id_last4 = models.CharField(max_length=4, blank=True, editable=False)
    drivers_license_encrypted = models.TextField(blank=True, editable=False)
    drivers_license_hash = models.CharField(max_length=64, blank=True, editable=False)
    drivers_license_last4 = models.CharField(max_length=4, blank=True, editable=False)
    # Values of the admin-defined custom fields, keyed by CustomField.key (validated by type).
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self):
        super().clean()
        if not isinstance(self.custom_fields, dict):
            raise ValidationError({"custom_fields": "Custom field values must be an object keyed by field key."})


# Derived from the models, so that a field added to Person is carried over, exported and imported without a
# list to edit elsewhere. Personal data: each kind's stored columns (``individuals.personal_data``).
PERSONAL_DATA_COLUMNS = tuple(f"{kind}_{suffix}" for kind in PERSONAL_DATA_KINDS for suffix in ("encrypted", "hash", "last4"))
_NOT_PLAIN = {*PERSONAL_DATA_COLUMNS, "custom_fields", "created_at", "updated_at"}
# The person's own fields a sales record carries over (DESIGN.md section 5), in column order.
CARRIED_FIELDS = tuple(f.name for f in Person._meta.local_fields if f.name not in _NOT_PLAIN)


class Individual(Person):
    servicing_agent = models.ForeignKey("accounts.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="individuals")
    email = models.EmailField("primary email", blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="ind_name_idx"),
            models.Index(Upper("last_name"), name="ind_last_name_upper_idx"),
            models.Index(Upper("first_name"), name="ind_first_name_upper_idx"),
            models.Index(Upper("email"), name="ind_email_upper_idx"),
            models.Index(fields=["record_status"], name="ind_record_status_idx"),
            models.Index(fields=["state", "city"], name="ind_state_city_idx"),
            # The search matches these case-insensitively (UPPER(col) = UPPER(value)).
            models.Index(Upper("city"), name="ind_city_upper_idx"),
            models.Index(Upper("county"), name="ind_county_upper_idx"),
            models.Index(Upper("lead_source"), name="ind_lead_source_upper_idx"),
            models.Index(Upper("title"), name="ind_title_upper_idx"),
            models.Index(fields=["zip_code"], name="ind_zip_idx"),
            models.Index(fields=["date_of_birth"], name="ind_dob_idx"),
            models.Index(fields=["gender"], name="ind_gender_idx"),
            models.Index(fields=["smoker_status"], name="ind_smoker_idx"),
            models.Index(fields=["medicare_part_a_effective"], name="ind_part_a_idx"),
            models.Index(fields=["medicare_part_b_effective"], name="ind_part_b_idx"),
            models.Index(fields=["created_at"], name="ind_created_idx"),
            models.Index(fields=["ssn_hash"], name="ind_ssn_hash_idx"),
            models.Index(fields=["medicare_beneficiary_id_hash"], name="ind_mbi_hash_idx"),
            models.Index(fields=["drivers_license_hash"], name="ind_dl_hash_idx"),
        ]

    def clean(self):
        super().clean()
        if self.medicare_part_a_effective and self.date_of_birth and self.medicare_part_a_effective < self.date_of_birth:
            raise ValidationError({"medicare_part_a_effective": "Cannot be before the date of birth."})
        if self.medicare_part_b_effective and self.date_of_birth and self.medicare_part_b_effective < self.date_of_birth:
            raise ValidationError({"medicare_part_b_effective": "Cannot be before the date of birth."})


# An individual's plain columns, as exports and imports read and write them: the id, then every concrete field
# but relations, personal data, custom fields and timestamps (those have columns of their own).
INDIVIDUAL_PLAIN_COLUMNS = (
    "id",
    *(f.name for f in Individual._meta.concrete_fields if not f.is_relation and f.name not in _NOT_PLAIN and f.name != "id"),
)


class Policy(models.Model):
    class CoverageType(models.TextChoices):
        MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage"
        MEDICARE_SUPPLEMENT = "medicare_supplement", "Medicare Supplement"
        PART_D = "part_d", "Part D"
        ACA = "aca", "ACA"
        HEALTH = "health", "Health"
        DENTAL = "dental", "Dental"
        VISION = "vision", "Vision"
        LIFE = "life", "Life"
        ANNUITY = "annuity", "Annuity"
        HOSPITAL_INDEMNITY = "hospital_indemnity", "Hospital Indemnity"
        CANCER = "cancer", "Cancer"
        LONG_TERM_CARE = "long_term_care", "Long-Term Care"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        TERMINATED = "terminated", "Terminated"
        CANCELLED = "cancelled", "Cancelled"
        LAPSED = "lapsed", "Lapsed"
        DECLINED = "declined", "Declined"

    individual = models.ForeignKey(Individual, on_delete=models.CASCADE, related_name="policies")
    carrier = models.ForeignKey("plans.Carrier", on_delete=models.PROTECT, related_name="individual_policies")
    policy_number = models.CharField(max_length=50, blank=True)
    coverage_type = models.CharField(max_length=30, choices=CoverageType.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    effective_date = models.DateField(null=True, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    termination_date = models.DateField(null=True, blank=True)
    premium = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["-effective_date", "id"]
        indexes = [
            # The advanced search's EXISTS probes policies of one individual by type and status.
            models.Index(fields=["individual", "coverage_type", "status"], name="pol_ind_type_status_idx"),
            # ...and, for selective criteria, the planner starts from the policies instead: an index-only
            # scan here (INCLUDE is PostgreSQL's; elsewhere a plain index) finds the matching individuals.
            models.Index(
                fields=["coverage_type", "status", "effective_date"], include=["individual", "carrier", "renewal_date"], name="pol_search_idx"
            ),
            models.Index(fields=["status", "individual"], name="pol_status_ind_idx"),
            models.Index(fields=["effective_date"], name="pol_effective_idx"),
            models.Index(fields=["renewal_date"], name="pol_renewal_idx"),
            models.Index(fields=["carrier", "individual"], name="pol_carrier_ind_idx"),
            models.Index(fields=["policy_number"], name="pol_number_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(premium__isnull=True) | models.Q(premium__gte=0), name="policy_premium_not_negative"),
        ]

    def __str__(self):
        return f"{self.get_coverage_type_display()} {self.policy_number}".strip()

    def clean(self):
        super().clean()
        if self.renewal_date and self.effective_date and self.renewal_date < self.effective_date:
            raise ValidationError({"renewal_date": "Cannot be before the effective date."})
        if self.termination_date and self.effective_date and self.termination_date < self.effective_date:
            raise ValidationError({"termination_date": "Cannot be before the effective date."})


class CustomField(models.Model):
    """An admin-defined field on individuals; values live in ``Individual.custom_fields[key]``."""

    class FieldType(models.TextChoices):
        TEXT = "text", "Text"
        LONG_TEXT = "long_text", "Long text"
        DATE = "date", "Date"
        DROPDOWN = "dropdown", "Dropdown"
        NUMBER = "number", "Number"
        CURRENCY = "currency", "Currency"
        PERCENT = "percent", "Percent"
        CHECKBOX = "checkbox", "Checkbox"
        CHECKBOX_LIST = "checkbox_list", "Checkbox list"

    WITH_OPTIONS = (FieldType.DROPDOWN, FieldType.CHECKBOX_LIST)

    name = models.CharField(max_length=100)
    key = models.SlugField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", "Lower-case letters, digits and _; starts with a letter.")],
        help_text="Stable identifier used in the API, searches and imports.",
    )
    field_type = models.CharField("type", max_length=20, choices=FieldType.choices)
    options = models.JSONField(default=list, blank=True, help_text="The choices of a dropdown or checkbox list.")
    active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    help_text = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if not isinstance(self.options, list) or not all(isinstance(o, str) and o.strip() for o in self.options):
            raise ValidationError({"options": "Options must be a list of non-empty texts."})
        if len(set(self.options)) != len(self.options):
            raise ValidationError({"options": "Options must be unique."})
        if self.field_type in self.WITH_OPTIONS and not self.options:
            raise ValidationError({"options": "A dropdown or checkbox list needs at least one option."})
        if self.field_type not in self.WITH_OPTIONS and self.options:
            raise ValidationError({"options": f"A {self.get_field_type_display().lower()} field has no options."})

    def clean_value(self, value):
        """The value normalised for storage, or ``ValidationError`` when it does not fit the type."""
        from .custom_field_values import clean_value

        return clean_value(self, value)


# The shape of stored search criteria; ``filters.criteria`` owns it (bump it there with an upgrade).
CRITERIA_VERSION = 2
CRITERIA_VERSION_HELP = "The criteria format they were saved in; older ones are upgraded when read."


# --- saved searches and CSV exports (individuals.services.saved_searches / .exports) ---------------
class SavedSearch(models.Model):
    """Advanced-search criteria kept under a name; never the result list (results change, criteria don't).

    Criteria are stored as ``filters.criteria_clean`` returns them (keyed hashes, never a clear SSN /
    MBI / driver's license), with the ``criteria_version`` they were written in.
    """

    name = models.CharField(max_length=120)
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="saved_searches")
    shared = models.BooleanField(default=False, help_text="Shared searches are visible to everyone who may see individuals.")
    criteria = models.JSONField(default=dict, blank=True)
    criteria_version = models.PositiveSmallIntegerField(default=CRITERIA_VERSION, help_text=CRITERIA_VERSION_HELP)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "saved searches"
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="savedsearch_owner_name_unique")]
        indexes = [models.Index(fields=["shared", "name"], name="savedsearch_shared_idx")]

    def __str__(self):
        return self.name


class ExportJob(Job):
    """A CSV export of every individual a search finds, written by a Celery task under MEDIA_ROOT/exports/.

    A ``core.jobs.Job`` (queued -> running -> succeeded / failed). A succeeded export's file is deleted
    at ``expires_at`` (hourly sweep): the job then shows *Expired* (``expired``; its status stays succeeded).
    """

    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="export_jobs")
    criteria = models.JSONField(default=dict, blank=True)
    criteria_version = models.PositiveSmallIntegerField(default=CRITERIA_VERSION, help_text=CRITERIA_VERSION_HELP)
    # Personal-data kinds exported in full (the owner had the right and asked); empty -> masked.
    reveal = models.JSONField(default=list, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    file_path = models.CharField(max_length=255, blank=True, help_text="Relative to MEDIA_ROOT.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Its file is deleted then (hourly sweep).")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="exportjob_owner_idx")]

    def __str__(self):
        return f"Export #{self.pk} ({self.shown_status})"

    @property
    def expired(self) -> bool:
        """Succeeded, and its file is past its expiry (deleted, or about to be by the hourly sweep)."""
        return self.status == self.Status.SUCCEEDED and (not self.file_path or (self.expires_at is not None and self.expires_at <= timezone.now()))

    @property
    def shown_status(self) -> str:
        return "Expired" if self.expired else self.get_status_display()
