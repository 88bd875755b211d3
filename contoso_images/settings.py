"""Settings for Contoso Images, driven by environment variables (see .env.example).

One module serves the demo, the tests and production: the embedded default is
SQLite + the django-q2 ORM broker + the ARM emulator, and a deployment switches to
PostgreSQL, Redis and real Azure by setting variables, never by editing code.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(BASE_DIR / ".env")

TESTING = "pytest" in sys.modules or env.bool("DJANGO_TESTING", default=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# The key comes from the environment or from a file only this machine has (bin/demo writes
# var/secret_key; containers mount secrets as files). There is no built-in production key.
_secret_key_file = Path(env.str("DJANGO_SECRET_KEY_FILE", default=str(VAR_DIR / "secret_key")))
if env.str("DJANGO_SECRET_KEY", default=""):
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
elif _secret_key_file.is_file():
    SECRET_KEY = _secret_key_file.read_text().strip()
elif DEBUG or TESTING:
    # Only a development or test run may fall back to a throwaway key.
    SECRET_KEY = "django-insecure-dev-only-not-for-production"  # noqa: S105
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # raises: "Set the DJANGO_SECRET_KEY ..."

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # Before django_q: core's `qcluster` command (robust queues + watchdog) replaces its own.
    "contoso_images.core.apps.CoreConfig",
    "django_q",
    "template_partials",
    "axes",
    "contoso_images.operations.apps.OperationsConfig",
    "contoso_images.audit.apps.AuditConfig",
    "contoso_images.accounts.apps.AccountsConfig",
    "catalog",
    "vmops",
    "vmops.capture.apps.CaptureConfig",
]
# The demo, the benchmarks and the emulator commands (manage.py demo, benchmark,
# emulator_seed, emulator_log) are development tools: installed on a developer machine
# (DJANGO_DEBUG) and in tests, or where DJANGO_DEVTOOLS says so (bin/demo sets it), never by
# default in production. No runtime code imports them either way.
DEVTOOLS = env.bool("DJANGO_DEVTOOLS", default=DEBUG or TESTING)
if DEVTOOLS:
    INSTALLED_APPS.append("contoso_images.devtools.apps.DevtoolsConfig")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Binds the request for the audit record and records every 403 (before CSRF and auth).
    "contoso_images.audit.middleware.AuditMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "contoso_images.core.middleware.HtmxRedirectMiddleware",
    # Re-reads an Entra ID user's roles from the tenant every ENTRA_ROLES_MAX_AGE minutes.
    "contoso_images.accounts.middleware.EntraSessionMiddleware",
    "contoso_images.core.middleware.LoginRequiredMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "contoso_images.urls"

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
                "contoso_images.core.context_processors.dashboard",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

WSGI_APPLICATION = "contoso_images.wsgi.application"
ASGI_APPLICATION = "contoso_images.asgi.application"

# --- Database -------------------------------------------------------------------------------
# SQLite needs WAL + IMMEDIATE transactions + a busy timeout, or concurrent read-then-write
# transactions from the web process and the django-q2 workers fail with "database is locked"
# (measured: 16 % of read-then-write transactions failed with Django's defaults, none with these).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file-based test database, so a real qcluster process can share it with the tests.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("DJANGO_TEST_DB_PATH", default=str(VAR_DIR / "test_db.sqlite3"))
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# PostgreSQL with two roles (README, "The audit record's database roles"): DATABASE_URL is the
# role the application runs as, which may only INSERT and SELECT the audit tables;
# DATABASE_OWNER_URL is the role that owns the tables, used only by `migrate`, `flush` and the
# test database set-up. Unset: one user does everything, and audit_verify says so.
DATABASE_OWNER: dict[str, object] | None = None
if env.str("DATABASE_OWNER_URL", default=""):
    _owner = env.db("DATABASE_OWNER_URL")
    if (
        DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql"
        or _owner["ENGINE"] != (DATABASES["default"]["ENGINE"])
    ):
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL is for PostgreSQL, with DATABASE_URL on PostgreSQL too; SQLite "
            "has one user (leave it unset)."
        )
    if _owner["NAME"] != DATABASES["default"]["NAME"]:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the same database as DATABASE_URL "
            f"({DATABASES['default']['NAME']}, not {_owner['NAME']}): only the user differs."
        )
    DATABASE_OWNER = {key: _owner.get(key) or "" for key in ("USER", "PASSWORD", "HOST", "PORT")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and locks out a username from an address after too many.
    "axes.backends.AxesStandaloneBackend",
    # Local passwords (break-glass): Django's ModelBackend under the LOCAL_LOGIN policy.
    "contoso_images.accounts.backends.LocalPasswordBackend",
    # Sessions opened by the Microsoft Entra ID sign-in (it authenticates no password).
    "contoso_images.accounts.backends.EntraBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
# Lock the pair, not the address: behind a proxy every user shares one address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The same client address the audit record keeps: X-Forwarded-For is believed only from
# AUDIT_TRUSTED_PROXIES, so behind a proxy one client's lockout is not everyone's, and a
# forged header never buys an attacker fresh attempts.
AXES_CLIENT_IP_CALLABLE = "contoso_images.audit.context.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# An operations console: sessions end after 8 hours rather than Django's two weeks.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)

# --- Sign-in with Microsoft Entra ID (contoso_images/accounts, README "Signing in") -------
# Entra ID sign-in is on when the tenant, the client id and the secret are all set.
#: The tenant GUID (or a verified domain) people sign in to. `organizations` / `common`
#: (multi-tenant) are refused unless ENTRA_ALLOWED_TENANTS names the tenants accepted.
ENTRA_TENANT_ID = env.str("ENTRA_TENANT_ID", default="")
ENTRA_CLIENT_ID = env.str("ENTRA_CLIENT_ID", default="")
ENTRA_CLIENT_SECRET = env.str("ENTRA_CLIENT_SECRET", default="")
#: The login host (sovereign clouds: https://login.microsoftonline.us, …; the local cloud:
#: the emulator's origin).
ENTRA_AUTHORITY_HOST = env.str("ENTRA_AUTHORITY_HOST", default="https://login.microsoftonline.com")
#: Tenant GUIDs whose tokens are accepted besides ENTRA_TENANT_ID (a multi-tenant authority).
ENTRA_ALLOWED_TENANTS = env.list("ENTRA_ALLOWED_TENANTS", default=[])
#: Claim value → role group: an app role's value (the `roles` claim) or a security group's
#: object id (the `groups` claim), e.g. "operators=operators,3f9a…=auditors".
ENTRA_ROLE_MAP = env.dict(
    "ENTRA_ROLE_MAP",
    default={"operators": "operators", "reviewers": "reviewers", "auditors": "auditors"},
)
#: Minutes a session keeps the roles it was given before the tenant is asked again.
ENTRA_ROLES_MAX_AGE = env.int("ENTRA_ROLES_MAX_AGE", default=15)
#: CA bundle (PEM) for the login host; empty: AZURE_CA_BUNDLE, else the system's trust.
ENTRA_CA_BUNDLE = env.str("ENTRA_CA_BUNDLE", default="")
#: The redirect URI registered for the app; empty: {this site}/auth/callback/ as requested.
ENTRA_REDIRECT_URI = env.str("ENTRA_REDIRECT_URI", default="")
#: Local (password) accounts; false hides and refuses them, except LOCAL_LOGIN_SUPERUSERS.
LOCAL_LOGIN = env.bool("LOCAL_LOGIN", default=True)
#: Superusers who keep a local password when LOCAL_LOGIN is false (break-glass accounts).
LOCAL_LOGIN_SUPERUSERS = env.list("LOCAL_LOGIN_SUPERUSERS", default=[])

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest storage needs collectstatic; tests use the plain storage instead
        # so that they never depend on a manual collectstatic.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------------
# Secure by default when debug is off; each can be turned off for a TLS-terminating proxy
# that talks plain HTTP to us on a private network.
_secure = not DEBUG and not TESTING
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=_secure)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=_secure)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=_secure)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if _secure else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_secure)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=_secure)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=_secure):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "contoso_images.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
# Only our own scripts and styles run: no inline code, no CDN. htmx is told not to inject its
# indicator style nor to eval (the htmx-config meta in base.html), so it works under this.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Task queue (django-q2) -----------------------------------------------------------------
# No task may run twice in parallel: a task's timeout is well under `retry` (the broker hands a
# task out again only after `retry` seconds), the in-memory queue is small because the retry
# clock starts at prefetch, and failures are retried a finite number of times. The Operation
# row, not the broker, is the source of truth, and a reconciler settles lost tasks.
REDIS_URL = env.str("REDIS_URL", default="")
Q_WORKERS = env.int("Q_WORKERS", default=2)
Q_TIMEOUT = env.int("Q_TIMEOUT", default=600)
Q_CLUSTER = {
    "name": "contoso-images",
    "workers": Q_WORKERS,
    "timeout": Q_TIMEOUT,
    "retry": Q_TIMEOUT * 2 + 60,
    "queue_limit": Q_WORKERS,
    "bulk": 1,
    "max_attempts": 3,
    "ack_failures": False,
    "save_limit": 500,
    "catch_up": False,
    "poll": 0.2,
    "label": "Tasks",
    # Lets Q_CLUSTER_NAME pick a private queue (django-q2 pops this key unconditionally).
    "ALT_CLUSTERS": {},
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
if TESTING and not env.bool("Q_REAL_CLUSTER", default=False):
    # Tests run tasks inline; the cluster tests start a real qcluster with Q_REAL_CLUSTER=1.
    Q_CLUSTER["sync"] = True

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Azure ----------------------------------------------------------------------------------
AZURE_MODE = env.str("AZURE_MODE", default="emulator")
AZURE_SUBSCRIPTION_IDS = env.list("AZURE_SUBSCRIPTION_IDS", default=[])
AZURE_CLOUD = env.str("AZURE_CLOUD", default="public")
AZURE_RESOURCE_MANAGER_ENDPOINT = env.str("AZURE_RESOURCE_MANAGER_ENDPOINT", default="")
AZURE_CREDENTIAL_SCOPE = env.str("AZURE_CREDENTIAL_SCOPE", default="")
# The Microsoft Entra login host; derived from AZURE_CLOUD unless set (custom clouds).
AZURE_AUTHORITY_HOST = env.str("AZURE_AUTHORITY_HOST", default="")
AZURE_EMULATOR_STATE = env.str(
    "AZURE_EMULATOR_STATE", default=str(VAR_DIR / "azure-emulator.sqlite3")
)
AZURE_MAX_RETRY_WAIT = env.float("AZURE_MAX_RETRY_WAIT", default=10.0)
# The public Azure Retail Prices API (another host for a sovereign cloud or a local emulator).
RETAIL_PRICES_ENDPOINT = env.str("RETAIL_PRICES_ENDPOINT", default="https://prices.azure.com")
# A service principal for Resource Manager: with all three set the gateway uses
# ClientSecretCredential (else DefaultAzureCredential, which reads the same variables).
AZURE_TENANT_ID = env.str("AZURE_TENANT_ID", default="")
AZURE_CLIENT_ID = env.str("AZURE_CLIENT_ID", default="")
AZURE_CLIENT_SECRET = env.str("AZURE_CLIENT_SECRET", default="")
# A CA bundle (PEM) to verify Azure's certificates with instead of the system's, e.g. the
# emulator's var/emulator-tls/ca-bundle.pem; empty: the system's trust. Never "verify off".
AZURE_CA_BUNDLE = env.str("AZURE_CA_BUNDLE", default="")
# Seconds to open a connection to Resource Manager / to wait for bytes of an answer.
AZURE_CONNECT_TIMEOUT = env.float("AZURE_CONNECT_TIMEOUT", default=10.0)
AZURE_READ_TIMEOUT = env.float("AZURE_READ_TIMEOUT", default=60.0)

# --- Schedules ------------------------------------------------------------------------------
HEARTBEAT_SECONDS = env.int("HEARTBEAT_SECONDS", default=60)

# --- The qcluster watchdog (contoso_images/core/cluster) -------------------------------------
QCLUSTER_ROBUST_QUEUES = env.bool("QCLUSTER_ROBUST_QUEUES", default=True)
QCLUSTER_WATCHDOG = env.bool("QCLUSTER_WATCHDOG", default=True)
#: No heartbeat for this long while no worker is busy: the cluster is killed and restarted.
#: django-q2 runs the heartbeat every whole minute (61 s runs every 2 minutes), so the default
#: counts two of the periods it really runs at, not two of the setting.
QCLUSTER_STALL_SECONDS = env.float(
    "QCLUSTER_STALL_SECONDS", default=2 * 60 * max(1, -(-HEARTBEAT_SECONDS // 60)) + 30
)
#: Tasks waiting this long with no worker busy or starting one: the queue is wedged.
QCLUSTER_WEDGE_SECONDS = env.float("QCLUSTER_WEDGE_SECONDS", default=20)
QCLUSTER_GUARD_STALL_SECONDS = env.float("QCLUSTER_GUARD_STALL_SECONDS", default=60)
QCLUSTER_CHECK_SECONDS = env.float("QCLUSTER_CHECK_SECONDS", default=5)
#: A graceful stop (SIGTERM) longer than this is forced: running tasks end within Q_TIMEOUT.
QCLUSTER_STOP_SECONDS = env.float("QCLUSTER_STOP_SECONDS", default=Q_TIMEOUT + 50)
INVENTORY_SYNC_SECONDS = env.int("INVENTORY_SYNC_SECONDS", default=60)
#: "Create VM" offers images nobody has reviewed yet too (the form then says so); approved
#: images only when false. Rejected, deprecated and deleted images never.
DEPLOY_ALLOW_UNREVIEWED = env.bool("DEPLOY_ALLOW_UNREVIEWED", default=False)
#: Prices (Azure Retail Prices API) are cached per region and refreshed this often (daily).
PRICES_SYNC_SECONDS = env.int("PRICES_SYNC_SECONDS", default=24 * 3600)
#: The currency every price is asked for and shown in (the API's ``currencyCode``).
PRICES_CURRENCY = env.str("PRICES_CURRENCY", default="USD").upper()
#: How often the billing guard's policies are applied.
BILLING_GUARD_SECONDS = env.int("BILLING_GUARD_SECONDS", default=300)
#: A time-of-day policy whose moment passed longer ago than this (the cluster was down) waits
#: for the next day rather than deallocating hours late.
BILLING_GUARD_LATE_MINUTES = env.int("BILLING_GUARD_LATE_MINUTES", default=60)
#: Subscriptions one sync (inventory, catalog) works on side by side, each in its own thread.
SYNC_PARALLEL_SUBSCRIPTIONS = env.int("SYNC_PARALLEL_SUBSCRIPTIONS", default=2)
#: How long a sync's claim on a subscription lasts without news from it (it renews the claim
#: as pages arrive); a claim left by a dead worker expires after it.
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=300)
RECONCILE_SECONDS = env.int("RECONCILE_SECONDS", default=60)
VM_ROW_POLL_SECONDS = env.int("VM_ROW_POLL_SECONDS", default=2)
#: The most VMs one multi-select may act on ("all matching the filter" above it sends nothing).
VM_BULK_LIMIT = env.int("VM_BULK_LIMIT", default=2000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"quiet_requests": {"()": "contoso_images.core.logging.QuietRequests"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["quiet_requests"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "azure": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # django-q2 says at INFO every task it runs and every schedule it fires (about nine
        # lines a minute with the heartbeat and the syncs); ./bin/demo sets WARNING. Its
        # failures are ERROR, so they show at either level.
        "django-q": {"level": env.str("Q_LOG_LEVEL", default="INFO")},
        # The development server's access log (Django gives it a handler of its own), through
        # the console's filters: a /health/ 503 before the first heartbeat is not an ERROR.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
#: A worker holds a running operation this long between progress updates; after that the
#: reconciler hands it to another worker.
OPERATION_LEASE_SECONDS = env.int("OPERATION_LEASE_SECONDS", default=60)
OPERATION_REQUEUE_AFTER_SECONDS = env.int("OPERATION_REQUEUE_AFTER_SECONDS", default=120)
#: A pause after Azure failed (5xx, unreachable) without a Retry-After of its own.
OPERATION_RETRY_SECONDS = env.int("OPERATION_RETRY_SECONDS", default=30)
#: An operation still unfinished after this long is settled from what Azure shows.
OPERATION_GIVE_UP_AFTER_SECONDS = env.int("OPERATION_GIVE_UP_AFTER_SECONDS", default=24 * 3600)
#: A worker watches one operation this long, then queues it again so others get their turn.
OPERATION_WAIT_SLICE_SECONDS = env.float("OPERATION_WAIT_SLICE_SECONDS", default=5.0)
#: How long one read of an operation's status may wait in Azure's polling (at most a third
#: of the lease, so the lease is renewed in time).
OPERATION_POLL_SECONDS = env.float("OPERATION_POLL_SECONDS", default=3.0)

# --- Catalog --------------------------------------------------------------------------------
CATALOG_SYNC_SECONDS = env.int("CATALOG_SYNC_SECONDS", default=300)
#: How long one Marketplace level (publishers, offers, SKUs, versions of a region) is cached.
CATALOG_MARKETPLACE_CACHE_SECONDS = env.int(
    "CATALOG_MARKETPLACE_CACHE_SECONDS", default=6 * 60 * 60
)
CATALOG_MARKETPLACE_REGION = env.str("CATALOG_MARKETPLACE_REGION", default="westeurope")
CATALOG_ROW_POLL_SECONDS = env.int("CATALOG_ROW_POLL_SECONDS", default=2)

# --- Audit ----------------------------------------------------------------------------------
#: Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For the audit record believes;
#: empty: the client address is REMOTE_ADDR, and the header is ignored.
AUDIT_TRUSTED_PROXIES = env.list("AUDIT_TRUSTED_PROXIES", default=[])
if TESTING:
    # A test run never signs with the checkout's key or appends to its trail (var/): a demo
    # started after the tests found their checkpoints, signed with keys it does not know, and
    # reported its verification as failed. One temporary directory per run, handed through
    # the environment to the qclusters the tests start.
    _test_audit = os.environ.setdefault(
        "CONTOSO_TEST_AUDIT_DIR", tempfile.mkdtemp(prefix="contoso-test-audit-")
    )
    os.environ.setdefault("AUDIT_CHECKPOINT_KEY_FILE", f"{_test_audit}/audit_checkpoint_key")
    os.environ.setdefault("AUDIT_CHECKPOINT_TRAIL", f"{_test_audit}/checkpoints.jsonl")
    os.environ.setdefault("AUDIT_CHECKPOINT_SYSLOG", "off")
#: The key that signs audit checkpoints, or a file holding it (created on first use, 0600).
AUDIT_CHECKPOINT_KEY = env.str("AUDIT_CHECKPOINT_KEY", default="")
AUDIT_CHECKPOINT_KEY_FILE = env.str(
    "AUDIT_CHECKPOINT_KEY_FILE", default=str(VAR_DIR / "audit_checkpoint_key")
)
#: How often the chain is verified and a checkpoint signed (default daily).
AUDIT_CHECKPOINT_SECONDS = env.int("AUDIT_CHECKPOINT_SECONDS", default=24 * 60 * 60)
#: ...and after this many events since the last checkpoint (queued; 0: only the schedule).
AUDIT_CHECKPOINT_EVENTS = env.int("AUDIT_CHECKPOINT_EVENTS", default=1000)
#: Every checkpoint is also appended here (JSON Lines, opened O_APPEND), outside the database:
#: in production a path the database's users cannot write (see README). `off`: not kept.
AUDIT_CHECKPOINT_TRAIL = env.str("AUDIT_CHECKPOINT_TRAIL", default="") or str(
    VAR_DIR / "audit-trail" / "checkpoints.jsonl"
)
#: ...and sent to syslog: a socket path, or host:port (UDP). `off`: not sent. A syslog that is
#: absent never stops a checkpoint; its record says so.
AUDIT_CHECKPOINT_SYSLOG = env.str("AUDIT_CHECKPOINT_SYSLOG", default="") or "/dev/log"
#: The PostgreSQL role the application runs as, whose privileges audit_verify checks and
#: migrate grants (default: DATABASE_URL's user). Set it when audit_verify runs as another user.
AUDIT_RUNTIME_ROLE = env.str("AUDIT_RUNTIME_ROLE", default="")
#: `manage.py flush` erases the append-only audit record: allowed in tests (pytest-django
#: flushes between tests) and, unless turned off, in debug runs; refused elsewhere.
AUDIT_ALLOW_FLUSH = TESTING or env.bool("AUDIT_ALLOW_FLUSH", default=DEBUG)
