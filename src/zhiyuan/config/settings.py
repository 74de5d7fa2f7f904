"""Django settings for Zhiyuan, read from environment variables (see docs/deploy.md).

ZHIYUAN_ENV=production switches on the production checks: a real secret key is required,
DEBUG is off and ALLOWED_HOSTS must be given. DATABASE_URL selects PostgreSQL; without it the
embedded SQLite database in ZHIYUAN_DATA_DIR is used (WAL mode, busy timeout).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from zhiyuan.config.env import env_bool, env_float, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = Path(env_str("ZHIYUAN_DATA_DIR", str(REPO_DIR / "var")))

ENVIRONMENT = env_str("ZHIYUAN_ENV", "development")
if ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"ZHIYUAN_ENV={ENVIRONMENT!r} must be development, test or production.")
PRODUCTION = ENVIRONMENT == "production"

DEFAULT_SECRET_KEY = "zhiyuan-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env_str("ZHIYUAN_SECRET_KEY", DEFAULT_SECRET_KEY)
if PRODUCTION and (SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "ZHIYUAN_SECRET_KEY must be set to a random value of at least 32 characters in production."
    )

DEBUG = env_bool("ZHIYUAN_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ZHIYUAN_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ZHIYUAN_ALLOWED_HOSTS is required in production.")
CSRF_TRUSTED_ORIGINS = env_list("ZHIYUAN_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "bootstrap",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "zhiyuan.core",
    "zhiyuan.accounts",
    "zhiyuan.enterprises",
    "zhiyuan.investments",
    "zhiyuan.servicedesk",
    "zhiyuan.datalink",
    "zhiyuan.approvals",
    "zhiyuan.citysim",
    "zhiyuan.credit",
    "zhiyuan.catalog",
    "zhiyuan.chains",
    "zhiyuan.indicators",
    "zhiyuan.demo",
    # Listed after the zhiyuan apps: django-import-export's own `import`/`export` commands (which would
    # bypass the registry's validation and audit) must not shadow `zhiyuan import enterprises`.
    "import_export",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "zhiyuan.core.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zhiyuan.config.urls"
WSGI_APPLICATION = "zhiyuan.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhiyuan.core.context_processors.navigation",
            ],
        },
    },
]

if env_str("DATABASE_URL", ""):
    DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL"), conn_max_age=60)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("ZHIYUAN_SQLITE_PATH", str(DATA_DIR / "zhiyuan.sqlite3")),
            "OPTIONS": {
                "timeout": env_int("ZHIYUAN_SQLITE_BUSY_TIMEOUT", 20),
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENVIRONMENT == "test":
    # Full-strength hashing costs ~0.3 s per user and the test fixtures create a dozen personas per test.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Brute-force protection (django-axes): lock a username after repeated failures.
AXES_FAILURE_LIMIT = env_int("ZHIYUAN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ZHIYUAN_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("ZHIYUAN_AXES_ENABLED", True)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("ZHIYUAN_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("ZHIYUAN_STATIC_ROOT", str(DATA_DIR / "static")))
if not PRODUCTION:
    # whitenoise warns about a missing root; in development the finders serve the files anyway.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("ZHIYUAN_MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.min.js from the installed plotly package, as static/plotly/plotly.min.js.
    "zhiyuan.investments.charts.PlotlyJsFinder",
]

# Largest spreadsheet accepted by an import, in bytes.
ZHIYUAN_IMPORT_MAX_BYTES = env_int("ZHIYUAN_IMPORT_MAX_BYTES", 30 * 1024 * 1024)
# Largest project attachment accepted, in bytes.
ZHIYUAN_ATTACHMENT_MAX_BYTES = env_int("ZHIYUAN_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
# A key project is behind plan when its share of the annual plan lags the share of the year
# elapsed by more than this many percentage points.
ZHIYUAN_BEHIND_PLAN_POINTS = env_int("ZHIYUAN_BEHIND_PLAN_POINTS", 10)
# Working days an overdue milestone or blocker waits before the liaison leader is told too.
ZHIYUAN_ESCALATE_AFTER_WORKDAYS = env_int("ZHIYUAN_ESCALATE_AFTER_WORKDAYS", 5)
# Service desk (企业诉求): a resolved request the firm has not rated is closed after this many working
# days; an overdue request goes to the department head first and, this many working days later, to
# the district leaders.
ZHIYUAN_SERVICEDESK_AUTOCLOSE_WORKDAYS = env_int("ZHIYUAN_SERVICEDESK_AUTOCLOSE_WORKDAYS", 5)
ZHIYUAN_SERVICEDESK_ESCALATE_LEADER_WORKDAYS = env_int("ZHIYUAN_SERVICEDESK_ESCALATE_LEADER_WORKDAYS", 3)
# Largest attachment of a service request, in bytes (the project attachment limit unless set).
ZHIYUAN_SERVICEDESK_ATTACHMENT_MAX_BYTES = env_int(
    "ZHIYUAN_SERVICEDESK_ATTACHMENT_MAX_BYTES", ZHIYUAN_ATTACHMENT_MAX_BYTES
)
# One-window approvals (综合受理): the window decides within this many working days of receipt or the
# application counts as accepted (行政许可法 §32); largest material file accepted, in bytes; whether a
# project can only move to 开工 once its construction permit (建筑工程施工许可证) has been granted.
ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS = env_int("ZHIYUAN_APPROVALS_ACCEPT_WORKDAYS", 5)
ZHIYUAN_APPROVALS_MATERIAL_MAX_BYTES = env_int("ZHIYUAN_APPROVALS_MATERIAL_MAX_BYTES", 20 * 1024 * 1024)
ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT = env_bool("ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT", False)

# Data link with the city centre (see docs/deploy.md): where the city listens, the adapter that speaks
# to it, keys (zhiyuan.datalink.keys), and the outbox's retry policy: exponential backoff with full
# jitter, base * 2**attempt seconds capped at CAP, dead-lettered after MAX_ATTEMPTS attempts.
ZHIYUAN_DATALINK_CITY_URL = env_str("ZHIYUAN_DATALINK_CITY_URL", "http://127.0.0.1:8100")
ZHIYUAN_DATALINK_ADAPTER = env_str("ZHIYUAN_DATALINK_ADAPTER", "zhiyuan.datalink.adapters.SignedHttpAdapter")
ZHIYUAN_DATALINK_KEY_DIR = Path(env_str("ZHIYUAN_DATALINK_KEY_DIR", str(DATA_DIR / "datalink")))
ZHIYUAN_DATALINK_MAX_ATTEMPTS = env_int("ZHIYUAN_DATALINK_MAX_ATTEMPTS", 12)
ZHIYUAN_DATALINK_BACKOFF_BASE_MS = env_int("ZHIYUAN_DATALINK_BACKOFF_BASE_MS", 1000)
ZHIYUAN_DATALINK_BACKOFF_CAP_MS = env_int("ZHIYUAN_DATALINK_BACKOFF_CAP_MS", 10 * 60 * 1000)
ZHIYUAN_DATALINK_TIMEOUT_SECONDS = env_int("ZHIYUAN_DATALINK_TIMEOUT_SECONDS", 10)
ZHIYUAN_DATALINK_MAX_SKEW_SECONDS = env_int("ZHIYUAN_DATALINK_MAX_SKEW_SECONDS", 300)
# A worker's claim on a message lapses after this long, so a crashed worker's messages are sent again.
ZHIYUAN_DATALINK_LEASE_SECONDS = env_int("ZHIYUAN_DATALINK_LEASE_SECONDS", 60)

# SME credit (征信). Points scaling for newly trained scorecards: BASE_SCORE points at odds of
# BASE_ODDS goods per bad, every PDO points doubling the odds. Adverse records stop counting (and are
# purged) after these many days: late repayments five years after settlement (征信业管理条例 §16),
# judgments and enforcement cases five years after closing, a 失信被执行人 listing on delisting (最高法
# 若干规定 §10), penalties at the end of their disclosure period — ordinary one year, serious three
# (国家发展改革委《失信行为纠正后的信用信息修复管理办法（试行）》). Objections (异议) are answered within
# OBJECTION_WORKDAYS; the drift alert is raised when a PSI reaches PSI_ALERT.
ZHIYUAN_CREDIT_BASE_SCORE = env_int("ZHIYUAN_CREDIT_BASE_SCORE", 600)
ZHIYUAN_CREDIT_BASE_ODDS = env_int("ZHIYUAN_CREDIT_BASE_ODDS", 50)
ZHIYUAN_CREDIT_PDO = env_int("ZHIYUAN_CREDIT_PDO", 20)
ZHIYUAN_CREDIT_RETAIN_OVERDUE_DAYS = env_int("ZHIYUAN_CREDIT_RETAIN_OVERDUE_DAYS", 5 * 365)
ZHIYUAN_CREDIT_RETAIN_COURT_DAYS = env_int("ZHIYUAN_CREDIT_RETAIN_COURT_DAYS", 5 * 365)
ZHIYUAN_CREDIT_RETAIN_DISHONEST_DAYS = env_int("ZHIYUAN_CREDIT_RETAIN_DISHONEST_DAYS", 0)
ZHIYUAN_CREDIT_DISCLOSE_ORDINARY_PENALTY_DAYS = env_int("ZHIYUAN_CREDIT_DISCLOSE_ORDINARY_PENALTY_DAYS", 365)
ZHIYUAN_CREDIT_DISCLOSE_SERIOUS_PENALTY_DAYS = env_int("ZHIYUAN_CREDIT_DISCLOSE_SERIOUS_PENALTY_DAYS", 3 * 365)
ZHIYUAN_CREDIT_OBJECTION_WORKDAYS = env_int("ZHIYUAN_CREDIT_OBJECTION_WORKDAYS", 20)
ZHIYUAN_CREDIT_PSI_ALERT = env_float("ZHIYUAN_CREDIT_PSI_ALERT", 0.25)
ZHIYUAN_CREDIT_CONSENT_MAX_DAYS = env_int("ZHIYUAN_CREDIT_CONSENT_MAX_DAYS", 366)

# Product search: the backend (tantivy: an index directory beside the database, for one web node or a
# shared disk; postgres: PostgreSQL full text, for several web nodes) and where the Tantivy index lives.
ZHIYUAN_SEARCH_BACKEND = env_str("ZHIYUAN_SEARCH_BACKEND", "tantivy")
ZHIYUAN_SEARCH_INDEX_DIR = Path(env_str("ZHIYUAN_SEARCH_INDEX_DIR", str(DATA_DIR / "search-index")))

# Indicators (经济指标): an indicator is "slightly behind" (amber) while its share of the annual target
# lags the share of the year elapsed by at most this many percentage points (for levels: the value
# misses the target by at most this many per cent; for growth targets: by a fifth of it, in points).
ZHIYUAN_INDICATOR_WATCH_POINTS = env_int("ZHIYUAN_INDICATOR_WATCH_POINTS", 5)
# The monthly report's charts need a font with Chinese glyphs; a path to a .ttf/.otf/.ttc file here
# overrides the search among installed fonts (Noto Sans/Serif CJK, Source Han, WenQuanYi …).
ZHIYUAN_REPORT_FONT = env_str("ZHIYUAN_REPORT_FONT", "")

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ZHIYUAN_UPLOAD_MAX_MEMORY", 5 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "zhiyuan.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zhiyuan API",
    "DESCRIPTION": "智园 smart industrial-park service system",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["zhiyuan.accounts.permissions.IsDistrictStaff"],
    # Swagger UI assets come from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name across models get distinct, stable component names.
    "ENUM_NAME_OVERRIDES": {
        "ProjectStageEnum": "zhiyuan.investments.models.Stage",
        "ProjectStatusEnum": "zhiyuan.investments.models.Status",
        "BlockerStatusEnum": "zhiyuan.investments.models.BlockerStatus",
        "ServiceRequestStatusEnum": "zhiyuan.servicedesk.models.RequestStatus",
        "ApplicationStatusEnum": "zhiyuan.approvals.models.ApplicationStatus",
        "ApplicationEventKindEnum": "zhiyuan.approvals.models.EventKind",
        # The name the projects' decision kinds had before the approvals' event kinds shared the field name.
        "KindEnum": "zhiyuan.investments.models.DecisionKind",
    },
}

TASKS = {
    "default": {
        "BACKEND": env_str("ZHIYUAN_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

FILTERS_EMPTY_CHOICE_LABEL = gettext_lazy("All")
# Tasks enqueued once a day by `zhiyuan scheduler` (started by `zhiyuan serve`), from this hour on.
ZHIYUAN_DAILY_TASKS = env_list(
    "ZHIYUAN_DAILY_TASKS",
    [
        "zhiyuan.investments.tasks.run_project_alerts",
        "zhiyuan.servicedesk.tasks.run_servicedesk_sweep",
        "zhiyuan.approvals.tasks.run_approvals_sweep",
        "zhiyuan.credit.tasks.run_credit_nightly",
        "zhiyuan.chains.tasks.run_chain_mapping",
    ],
)
ZHIYUAN_DAILY_TASKS_HOUR = env_int("ZHIYUAN_DAILY_TASKS_HOUR", 7)

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
IMPORT_EXPORT_SKIP_ADMIN_ACTION_EXPORT_UI = True

EMAIL_BACKEND = env_str("ZHIYUAN_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("ZHIYUAN_FROM_EMAIL", "zhiyuan@localhost")
# Also e-mail notifications to users who have an address (in-app notifications are always kept).
ZHIYUAN_NOTIFY_BY_EMAIL = env_bool("ZHIYUAN_NOTIFY_BY_EMAIL", False)

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("ZHIYUAN_LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO: one line per data-link delivery is noise, failures are logged by us.
    "loggers": {"axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# The deployment's district, shown in the header; another district or park sets its own.
ZHIYUAN_DISTRICT_NAME = env_str("ZHIYUAN_DISTRICT_NAME", "株洲市荷塘区")
