"""Settings shared by every environment; all values come from the environment.

With no variables set AgencyDesk runs embedded: SQLite (WAL) and a Celery broker on kombu's
filesystem transport, both under ``var/``. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and Redis.
"""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("AGENCYDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-dev-key-only-for-the-embedded-default")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "core",
    "accounts",
    "individuals",
    "salesrecords",
    "plans",
    "hrsync",
    "integrations",
    "ams",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url: str) -> dict:
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is malformed ({url!r}): {exc}") from exc
    engine = config.get("ENGINE", "")
    if not engine or (engine.endswith("sqlite3") is False and not config.get("NAME")):
        raise ImproperlyConfigured(f"DATABASE_URL is malformed ({url!r}): no database engine or name")
    if engine.endswith("sqlite3"):
        config["OPTIONS"] = {
            # WAL lets the web process read while the worker writes; IMMEDIATE avoids
            # "database is locked" on lock upgrade inside transactions.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    else:
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite builds the same index without them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.SecurityGroupBackend"]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW_MINUTES = env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=15)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

# Personal data (SSN, Medicare beneficiary ID, driver's license): MultiFernet keys, newest first.
# Empty -> a development key generated into var/ (see individuals.personal_data).
PERSONAL_DATA_KEYS = env.list("PERSONAL_DATA_KEYS", default=[])
PERSONAL_DATA_HASH_KEY = env.str("PERSONAL_DATA_HASH_KEY", default="")

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="agencydesk@localhost")

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    _broker_dir = VAR_DIR / "celery" / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "results").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "store_processed": False,
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
if REDIS_URL:
    # Longer than any task, so an unacknowledged (acks_late) message is not redelivered
    # while its task is still running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True  # every task is idempotent; a crashed worker's task runs again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend", "rest_framework.filters.OrderingFilter"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("THROTTLE_LOGIN", default="10/min"),
        "export": env.str("THROTTLE_EXPORT", default="30/min"),
        "bulk": env.str("THROTTLE_BULK", default="30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AgencyDesk API",
    "DESCRIPTION": "The back office of an insurance agency: book of business, sales records, plans and benefits sync.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"LevelEnum": "accounts.rights.Level"},
}

CACHES = (
    {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}}
)

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Outside systems (DESIGN.md section 8): the sandbox by default.
SANDBOX_URL = env.str("SANDBOX_URL", default=f"http://127.0.0.1:{env.int('SANDBOX_PORT', default=8001)}")

# --- integrations / sandbox (issue 6) ------------------------------------------------------------
# Each outside system's base URL and key; the sandbox's prefixes by default. A real system is a setting.
BENEFITS_PLATFORM_URL = env.str("BENEFITS_PLATFORM_URL", default=f"{SANDBOX_URL.rstrip('/')}/benefits")
BENEFITS_PLATFORM_API_KEY = env.str("BENEFITS_PLATFORM_API_KEY", default="sandbox-benefits-key")
INTEGRATIONS_CONNECT_TIMEOUT = env.float("INTEGRATIONS_CONNECT_TIMEOUT", default=3.0)
INTEGRATIONS_READ_TIMEOUT = env.float("INTEGRATIONS_READ_TIMEOUT", default=10.0)
INTEGRATIONS_RETRY_ATTEMPTS = env.int("INTEGRATIONS_RETRY_ATTEMPTS", default=4)
INTEGRATIONS_RETRY_BACKOFF = env.float("INTEGRATIONS_RETRY_BACKOFF", default=0.25)
INTEGRATIONS_TRUST_ENV = env.bool("INTEGRATIONS_TRUST_ENV", default=False)  # honour HTTP(S)_PROXY / .netrc
# hrsync: how long an attempt may stay In progress before the beat job picks it up again.
HRSYNC_LEASE_SECONDS = env.int("HRSYNC_LEASE_SECONDS", default=300)
HRSYNC_QUEUED_LEASE_SECONDS = env.int("HRSYNC_QUEUED_LEASE_SECONDS", default=3600)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {  # hrsync's choice sets, named apart from other apps' "status"/"action"
    **SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"],
    "SyncAttemptActionEnum": "hrsync.models.SyncAttempt.Action",
    "SyncAttemptStatusEnum": "hrsync.models.SyncAttempt.Status",
    "EmployeeSyncStateEnum": "hrsync.models.Employee.SyncState",
    "EmployeeGenderEnum": "hrsync.models.Employee.Gender",
    "EmployeePayFrequencyEnum": "hrsync.models.Employee.PayFrequency",
}

# --- plans (issue 5) ----------------------------------------------------------------------------
# Several models have a "status"; name the plans' enums so the OpenAPI schema stays unambiguous.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "EmployerGroupStatusEnum": "plans.models.EmployerGroup.Status",
    "PlanStatusEnum": "plans.models.Plan.Status",
})

# --- salesrecords (issue 4) ----------------------------------------------------------------------
# Individual ids per mass-creation chunk (one transaction each), and how long a queued or running
# job may go without progress before the beat job enqueues it again.
SALESRECORDS_CHUNK_SIZE = env.int("SALESRECORDS_CHUNK_SIZE", default=20000)
SALESRECORDS_STUCK_SECONDS = env.int("SALESRECORDS_STUCK_SECONDS", default=600)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"],
    "MassCreationJobStatusEnum": "salesrecords.models.MassCreationJob.Status",
    "SalesStageEnum": "salesrecords.models.SalesRecord.Stage",
}

# --- individuals: CSV export and saved searches (issue 3, items 4-6) --------------------------------
# Searches with at most this many results are streamed; larger ones become a background ExportJob.
INDIVIDUALS_EXPORT_STREAM_MAX = env.int("INDIVIDUALS_EXPORT_STREAM_MAX", default=10_000)
# A running export job whose worker died is picked up again after this long.
INDIVIDUALS_EXPORT_LEASE_SECONDS = env.int("INDIVIDUALS_EXPORT_LEASE_SECONDS", default=3600)

# --- individuals ----------------------------------------------------------------------------------
# Stable OpenAPI enum names for individuals' choice sets (other apps have "gender"/"status" fields too).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"],
    "IndividualGenderEnum": "individuals.models.Individual.Gender",
    "PolicyStatusEnum": "individuals.models.Policy.Status",
    "CoverageTypeEnum": "individuals.models.Policy.CoverageType",
}
# PostgreSQL planner: random reads on SSD / cached storage cost about what sequential ones do. With the
# default (4) the planner walks the name index for selective policy searches (~300 ms on 1M individuals)
# instead of starting from the matching policies (~25 ms). Empty -> the server's own setting.
DATABASE_RANDOM_PAGE_COST = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1")
if DATABASE_RANDOM_PAGE_COST and not DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = f"{_db_options.get('options', '')} -c random_page_cost={float(DATABASE_RANDOM_PAGE_COST)}".strip()

# --- ams (issue 13): the agency management system (AMS360 WSAPI) and the CRM -----------------------
# Empty URLs: the sandbox's (under SANDBOX_URL). A real AMS or CRM is a setting.
AMS_WSAPI_URL = env.str("AMS_WSAPI_URL", default="")
AMS_AGENCY_NO = env.str("AMS_AGENCY_NO", default="1000")
AMS_LOGIN_ID = env.str("AMS_LOGIN_ID", default="agencydesk")
AMS_PASSWORD = env.str("AMS_PASSWORD", default="sandbox-ams-password")
# The webhook secret used until one is added under Admin -> Agency management system -> Webhook secrets.
AMS_WEBHOOK_SECRET = env.str("AMS_WEBHOOK_SECRET", default="sandbox-ams-webhook-secret")
AMS_RECONCILE_LEASE_SECONDS = env.int("AMS_RECONCILE_LEASE_SECONDS", default=900)
# SOAP calls a reconciliation makes at once (each customer's contacts or policies).
AMS_RECONCILE_CONCURRENCY = env.int("AMS_RECONCILE_CONCURRENCY", default=4)
# Where a person opens the far-side record (the Linked systems panel): "{id}" is replaced.
AMS_RECORD_URL = env.str("AMS_RECORD_URL", default="")
CRM_URL = env.str("CRM_URL", default="")
CRM_API_KEY = env.str("CRM_API_KEY", default="sandbox-crm-key")
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"],
    "AmsNotificationStatusEnum": "ams.models.Notification.Status",
    "ReconciliationStatusEnum": "ams.models.Reconciliation.Status",
    "IdentityConflictStatusEnum": "ams.models.IdentityConflict.Status",
    "IdentityConflictKindEnum": "ams.models.IdentityConflict.Kind",
    "ExternalIdStatusEnum": "integrations.models.ExternalId.Status",
    "ExternalIdSystemEnum": "integrations.models.ExternalId.System",
}
