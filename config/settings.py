"""Settings for Spoilerfree: one file, read from the environment, with development defaults."""

import hashlib
import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# Templates, static files and the demo show: at the top of a checkout; inside companion/site/ in an
# installed wheel (setup.py copies them there).
PACKAGED_SITE = BASE_DIR / "companion" / "site"
SITE_DIR = PACKAGED_SITE if PACKAGED_SITE.is_dir() else BASE_DIR


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def email_settings(url: str) -> dict:
    """Turn EMAIL_URL (smtp://user:pass@host:port?tls=1&timeout=30, or console:) into Django's settings."""
    if not url or url.startswith("console:"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme must be smtp, smtps or console, not {parts.scheme!r}"
        )
    query = parse_qs(parts.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in {"1", "true"},
        # Without one, a mail server that stops answering holds the task worker for ever.
        "EMAIL_TIMEOUT": float(query.get("timeout", ["30"])[0]),
    }


def source_digest(folders: list[Path]) -> str:
    """A digest of the code and templates under these folders: what a deploy changes."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in {".py", ".html"} and path.is_file():
                digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def media_origin(url: str) -> list[str]:
    """The scheme and host of an absolute MEDIA_URL, for the Content-Security-Policy."""
    parts = urlsplit(url)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


DEBUG = env_bool("DJANGO_DEBUG", True)
# Production is "not in debug": every hardening switch below follows from that one variable.
PRODUCTION = not DEBUG

SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "accounts",
    "companion",
    "history",
    "api",
    "connections",
    "discussion",
    "catalogue",
    "upcoming",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.PrivateCacheMiddleware",
    "config.middleware.FriendlyErrorsMiddleware",
    "api.middleware.JsonErrorsMiddleware",
    "config.middleware.RejectNulMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; the busy timeout and IMMEDIATE
    # transactions make concurrent writers wait instead of failing with "database is locked".
    # The wait is short: a writer stuck for longer is answered 503 "try again"
    # (config.middleware.server_error), well before a worker's timeout (gunicorn's is 30 s),
    # even for a request that writes twice (a log-in: its session, then the session again).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": float(env("SQLITE_BUSY_TIMEOUT", "5")),
    }
    # A file, not the in-memory default, so tests run with WAL and several connections at once.
    # One file per process, so two test runs on one machine never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"spoilerfree-test-{os.getpid()}.sqlite3")
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "POSTGRES_PREPARED_STATEMENTS", True
):
    # Parameters bound by the server, and a statement prepared on its fifth run on a connection:
    # PostgreSQL may then keep one plan for it instead of planning it on every request. On the
    # bench's long show, planning a page's statements took about as long as running them. A
    # pooler in transaction mode that cannot keep prepared statements needs this off.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_settings(redis_url: str) -> dict:
    """Redis when REDIS_URL is set, else a per-process cache."""
    if not redis_url:
        # Shared renders are many and small (a show page's rows are cached one by one): room for
        # a few thousand, so that they are not culled a third at a time every few pages.
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "OPTIONS": {"MAX_ENTRIES": 5000},
            }
        }
    # A shared cache outlives a deploy: its keys name the release, so new code and templates never
    # read fragments the old ones rendered. RELEASE if the deploy sets it (a commit, say), else a
    # digest of the first-party code and the templates.
    first_party = [
        BASE_DIR / app for app in ["config", *INSTALLED_APPS] if (BASE_DIR / app).is_dir()
    ]
    release = env("RELEASE") or source_digest([*first_party, SITE_DIR / "templates"])
    return {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"{env('CACHE_KEY_PREFIX', 'spoilerfree')}:{release}",
            # The cache is an accelerator, never a dependency: with Redis down or restarting, a
            # read is a miss and a write is skipped, and the page renders uncached. The log says
            # once when Redis becomes unreachable and once when it is back (config/cache.py).
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
            },
        }
    }


REDIS_URL = env("REDIS_URL")
CACHES = cache_settings(REDIS_URL)
if REDIS_URL:
    # Sessions live in the database and are cached: a cache outage logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "show-list"
LOGOUT_REDIRECT_URL = "show-list"

# Five wrong passwords for one username from one address lock it for fifteen minutes.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Behind reverse proxies every request comes from the proxy's address; without this, five wrong
# passwords from anyone would lock a username for everyone. See config.middleware.client_ip.
PROXY_COUNT = int(env("DJANGO_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [SITE_DIR / "static"]
# Images the catalogue job downloads (posters, stills, photos). Locally under MEDIA_ROOT, served by
# the site itself (companion.views.media); in production any storage backend: MEDIA_STORAGE names
# its class, MEDIA_STORAGE_OPTIONS (JSON) its options, and MEDIA_URL where browsers fetch the files
# (docs/DEPLOY.md).
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = env("MEDIA_URL", "/media/")
STORAGES = {
    "default": {
        "BACKEND": env("MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(env("MEDIA_STORAGE_OPTIONS", "{}")),
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Calls per token (or per signed-in viewer on the site) to /api/; "N/s", "N/m", "N/h" or "N/d".
API_RATE_LIMIT = env("API_RATE_LIMIT", "120/m")
# Wrong, revoked or malformed tokens per client address before the API answers 429 to it.
API_TOKEN_GUESS_LIMIT = env("API_TOKEN_GUESS_LIMIT", "10/m")

# Background jobs (catalogue imports from TVmaze and their nightly refresh): in development and tests
# they run at once, in the request, so `make run` needs no other process; in production they are
# queued in the database for `manage.py db_worker` (docs/DEPLOY.md). TASKS_BACKEND overrides.
TASKS = {
    "default": {
        "BACKEND": env(
            "TASKS_BACKEND",
            "django_tasks_db.DatabaseBackend"
            if PRODUCTION
            else "django_tasks.backends.immediate.ImmediateBackend",
        )
    }
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

vars().update(email_settings(env("EMAIL_URL")))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Spoilerfree <noreply@localhost>")
# Where links in mail sent by scheduled tasks point: they have no request to take the host from.
SITE_URL = env(
    "SITE_URL",
    f"https://{ALLOWED_HOSTS[0]}" if PRODUCTION and ALLOWED_HOSTS else "http://127.0.0.1:8000",
).rstrip("/")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Images from a storage elsewhere (a bucket or CDN named in MEDIA_URL) come from its origin.
        "img-src": ["'self'", "data:", *media_origin(MEDIA_URL)],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No script needs the CSRF cookie: htmx sends the token from <body hx-headers>, forms from a field.
CSRF_COOKIE_HTTPONLY = True


def static_file_headers(headers, path: str, url: str) -> None:
    """WhiteNoise answers before the clickjacking middleware: give static files the pages' policy."""
    headers["X-Frame-Options"] = X_FRAME_OPTIONS
    headers["X-Content-Type-Options"] = "nosniff"


WHITENOISE_ADD_HEADERS_FUNCTION = static_file_headers

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Webhook URLs hold their secret in the path (connections/logs.py): no log line may.
    "filters": {"mask_hook_secrets": {"()": "connections.logs.MaskHookSecrets"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_hook_secrets"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_hook_secrets"],
        },
    },
    "loggers": {
        # runserver's request lines: Django's own set-up, with the secrets masked.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # "Not Found: /api/hooks/…": masked where it is logged, for every handler it reaches.
        "django.request": {"filters": ["mask_hook_secrets"]},
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "WARNING")},
}
