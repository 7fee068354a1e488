from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from core import display


class Carrier(models.Model):
    """An insurance carrier, shared by individual policies and group plans."""

    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=40, unique=True)
    naic = models.CharField("NAIC number", max_length=10, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["naic"], condition=~models.Q(naic=""), name="carrier_naic_unique")]

    def __str__(self):
        return self.name


class EmployerGroup(models.Model):
    """A client account: an employer (or an individual account) whose benefit plans the agency places."""

    class AccountType(models.TextChoices):
        GROUP = "group", "Group"
        INDIVIDUAL = "individual", "Individual"

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        TERMINATED = "terminated", "Terminated"

    class Month(models.IntegerChoices):
        JANUARY = 1, "January"
        FEBRUARY = 2, "February"
        MARCH = 3, "March"
        APRIL = 4, "April"
        MAY = 5, "May"
        JUNE = 6, "June"
        JULY = 7, "July"
        AUGUST = 8, "August"
        SEPTEMBER = 9, "September"
        OCTOBER = 10, "October"
        NOVEMBER = 11, "November"
        DECEMBER = 12, "December"

    name = models.CharField(max_length=200, db_index=True)
    dba = models.CharField("DBA", max_length=200, blank=True)
    account_number = models.CharField(max_length=40, unique=True)
    account_type = models.CharField(max_length=20, choices=AccountType.choices, default=AccountType.GROUP)
    federal_ein = models.CharField(
        "Federal EIN",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{2}-?\d{7}$", "Enter an EIN as 12-3456789.")],
    )
    sic_code = models.CharField("SIC code", max_length=4, blank=True, validators=[RegexValidator(r"^\d{4}$", "Enter a four-digit SIC code.")])
    office = models.CharField(max_length=100, blank=True)
    servicing_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="serviced_employer_groups")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    employee_count = models.PositiveIntegerField("number of employees", null=True, blank=True)
    renewal_month = models.PositiveSmallIntegerField(choices=Month.choices, null=True, blank=True)
    # Ids in outside systems (integrations' registry); deleted with the group.
    external_ids = GenericRelation("integrations.ExternalId")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["renewal_month", "status"])]

    def __str__(self):
        return f"{self.name} ({self.account_number})"


class EmployerGroupAddress(models.Model):
    class Kind(models.TextChoices):
        MAILING = "mailing", "Mailing"
        BILLING = "billing", "Billing"
        PHYSICAL = "physical", "Physical"

    group = models.ForeignKey(EmployerGroup, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MAILING)
    line1 = models.CharField("address line 1", max_length=200)
    line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=10)

    class Meta:
        ordering = ["group", "kind", "id"]
        verbose_name_plural = "addresses"

    def __str__(self):
        return f"{self.line1}, {self.city}, {self.state} {self.zip_code}"


class EmployerGroupContact(models.Model):
    group = models.ForeignKey(EmployerGroup, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    is_primary = models.BooleanField("primary contact", default=False)

    class Meta:
        ordering = ["group", "-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(fields=["group"], condition=models.Q(is_primary=True), name="group_one_primary_contact"),
        ]

    def __str__(self):
        return self.name


class Plan(models.Model):
    """One benefit plan of an employer group for one plan year; a renewal links to its predecessor."""

    class Line(models.TextChoices):
        MEDICAL = "medical", "Medical"
        DENTAL = "dental", "Dental"
        VISION = "vision", "Vision"
        LIFE = "life", "Life"
        ADD = "add", "AD&D"
        STD = "std", "Short-term disability"
        LTD = "ltd", "Long-term disability"
        ACCIDENT = "accident", "Accident"
        CRITICAL_ILLNESS = "critical_illness", "Critical illness"
        HOSPITAL_INDEMNITY = "hospital_indemnity", "Hospital indemnity"

    class PlanType(models.TextChoices):
        HMO = "hmo", "HMO"
        PPO = "ppo", "PPO"
        EPO = "epo", "EPO"
        POS = "pos", "POS"
        HDHP = "hdhp", "HDHP"
        INDEMNITY = "indemnity", "Indemnity"
        DHMO = "dhmo", "Dental HMO"
        TERM = "term", "Term"
        VOLUNTARY = "voluntary", "Voluntary"
        OTHER = "other", "Other"

    class FundingType(models.TextChoices):
        FULLY_INSURED = "fully_insured", "Fully insured"
        LEVEL_FUNDED = "level_funded", "Level funded"
        SELF_FUNDED = "self_funded", "Self-funded"

    class BillingType(models.TextChoices):
        LIST_BILL = "list_bill", "List bill"
        SELF_BILL = "self_bill", "Self bill"
        DIRECT_BILL = "direct_bill", "Direct bill"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACTIVE = "active", "Active"
        RENEWED = "renewed", "Renewed"
        CANCELLED = "cancelled", "Cancelled"
        TERMINATED = "terminated", "Terminated"

    class RateBasis(models.TextChoices):
        TIERED = "tiered", "Four tiers"
        AGE_BANDED = "age_banded", "Age-banded"

    class ContributionBasis(models.TextChoices):
        PERCENT = "percent", "Percent of premium"
        FLAT = "flat", "Flat monthly amount"

    group = models.ForeignKey(EmployerGroup, on_delete=models.CASCADE, related_name="plans")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="plans")
    line_of_coverage = models.CharField(max_length=30, choices=Line.choices, db_index=True)
    name = models.CharField("plan name", max_length=200)
    plan_type = models.CharField(max_length=20, choices=PlanType.choices, blank=True)
    policy_number = models.CharField(max_length=60, blank=True)
    effective_date = models.DateField()
    renewal_date = models.DateField()
    cancellation_date = models.DateField(null=True, blank=True)
    billing_type = models.CharField(max_length=20, choices=BillingType.choices, default=BillingType.LIST_BILL)
    funding_type = models.CharField(max_length=20, choices=FundingType.choices, default=FundingType.FULLY_INSURED)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    # Validated per line of coverage by plans.benefit_summary (deductibles, out-of-pocket, copays, ...).
    benefit_summary = models.JSONField(default=dict, blank=True)
    rate_basis = models.CharField(max_length=20, choices=RateBasis.choices, default=RateBasis.TIERED)
    # Contribution rules: what the employer pays toward the employee's and the dependents' cost.
    contribution_basis = models.CharField(max_length=10, choices=ContributionBasis.choices, default=ContributionBasis.PERCENT)
    employer_contribution_employee = models.DecimalField(
        "employer contribution (employee)",
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    employer_contribution_dependents = models.DecimalField(
        "employer contribution (dependents)",
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    waiting_period_days = models.PositiveSmallIntegerField("waiting period (days)", default=0)
    renewed_from = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewed_to",
        help_text="The plan this one renews (the previous plan year).",
    )
    external_ids = GenericRelation("integrations.ExternalId")
    # The two-way sync compares these: services bump version on every change.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["group__name", "line_of_coverage", "name", "-effective_date"]
        indexes = [models.Index(fields=["carrier", "line_of_coverage"]), models.Index(fields=["renewal_date"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(renewal_date__gt=models.F("effective_date")), name="plan_renewal_after_effective"),
            models.CheckConstraint(
                condition=models.Q(employer_contribution_employee__gte=0, employer_contribution_dependents__gte=0),
                name="plan_contribution_non_negative",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.effective_date:%Y}–{self.renewal_date:%Y})" if self.effective_date and self.renewal_date else self.name

    def clean(self):
        from .benefit_summary import validate_benefit_summary

        errors = {}
        if self.effective_date and self.renewal_date and self.renewal_date <= self.effective_date:
            errors["renewal_date"] = "The renewal date must be after the effective date."
        if self.effective_date and self.cancellation_date and self.cancellation_date < self.effective_date:
            errors["cancellation_date"] = "The cancellation date can't be before the effective date."
        if (
            self.contribution_basis == self.ContributionBasis.PERCENT
            and max(self.employer_contribution_employee or 0, self.employer_contribution_dependents or 0) > 100
        ):
            errors["employer_contribution_employee"] = "A percent contribution is at most 100."
        if self.carrier_id and self._carrier_changed() and not self.carrier.active:
            errors["carrier"] = f"{self.carrier} is inactive: choose an active carrier."
        if self.line_of_coverage:
            benefit_errors = validate_benefit_summary(self.line_of_coverage, self.benefit_summary)
            if benefit_errors:
                errors["benefit_summary"] = benefit_errors
        if errors:
            raise ValidationError(errors)

    def _carrier_changed(self) -> bool:
        # A plan may keep a carrier that became inactive later; a new choice must be active.
        if self._state.adding or self.pk is None:
            return True
        return not Plan.objects.filter(pk=self.pk, carrier_id=self.carrier_id).exists()


class PlanRate(models.Model):
    """A monthly premium of a plan: one of the four tiers, or one age band."""

    class Tier(models.TextChoices):
        EMPLOYEE = "employee", "Employee"
        EMPLOYEE_SPOUSE = "employee_spouse", "Employee + spouse"
        EMPLOYEE_CHILDREN = "employee_children", "Employee + children"
        FAMILY = "family", "Family"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="rates")
    tier = models.CharField(max_length=20, choices=Tier.choices, blank=True)
    age_min = models.PositiveSmallIntegerField(null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(null=True, blank=True)
    monthly_rate = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0, "A rate can't be negative.")])

    class Meta:
        ordering = ["plan", "age_min", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(monthly_rate__gte=0), name="planrate_non_negative"),
            models.UniqueConstraint(fields=["plan", "tier"], condition=~models.Q(tier=""), name="planrate_unique_tier"),
            models.UniqueConstraint(fields=["plan", "age_min"], condition=models.Q(tier=""), name="planrate_unique_age_band"),
        ]

    def __str__(self):
        return f"{self.band_label}: {display.money(self.monthly_rate)}"

    @property
    def band_label(self) -> str:
        if self.tier:
            return self.get_tier_display()
        if self.age_max is None:
            return f"Age {self.age_min}+"
        return f"Age {self.age_min}–{self.age_max}"

    def clean(self):
        errors = {}
        if self.tier and (self.age_min is not None or self.age_max is not None):
            errors["tier"] = "A rate is either a tier or an age band, not both."
        if not self.tier and self.age_min is None:
            errors["age_min"] = "An age-banded rate needs a minimum age (or choose a tier)."
        if self.age_min is not None and self.age_max is not None and self.age_max < self.age_min:
            errors["age_max"] = "The maximum age can't be below the minimum age."
        if errors:
            raise ValidationError(errors)
