"""Settings of the web app: where they come from and how they become Django settings.

Every value has a documented default (see docs/web.md) and can be set by an environment variable:

=========================  ==================================================================
CXLENS_SECRET_KEY          signing key; default: generated on first start and kept in
                           ``DIR/app/secret_key`` (file mode 0600)
CXLENS_ALLOWED_HOSTS       comma-separated host names the server answers to; default: the
                           bound host plus localhost and 127.0.0.1
CXLENS_DATABASE_URL        app database; default: the workspace setting ``app_database_url``
                           (``sqlite:///app/cxlens.sqlite3``: SQLite in ``DIR/app/``); others as
                           ``sqlite:////absolute/path.db``, ``sqlite:///path/relative/to/DIR.db``
                           or ``postgresql://user:password@host:5432/name``
CXLENS_SECURE_COOKIES      ``true``/``false``; default: true unless the server is bound to a
                           loopback address (plain HTTP on one's own machine)
CXLENS_LOGIN_ATTEMPTS      failed logins per user name and address before a lock-out (5)
CXLENS_LOCKOUT_MINUTES     how long a lock-out lasts (15)
CXLENS_SMTP_URL            outgoing mail server for invitations and notifications:
                           ``smtp://user:password@host:587?starttls=true`` or
                           ``smtps://user:password@host:465``; default: none (mail is off and
                           anything that would send mail says so)
CXLENS_MAIL_FROM           sender address of that mail (``cxlens@localhost``)
CXLENS_PUBLIC_URL          the address people use to reach this server, for links in mail and
                           webhooks (e.g. ``https://cx.example.com``); default: the address the
                           server listens on
CXLENS_API_RATE            API requests allowed per API key (or logged-in user) and, separately,
                           per client address: ``600/min`` (default), ``20/s``, ``5000/hour``,
                           or ``off``; a burst may use the whole allowance at once (token bucket)
CXLENS_SURVEY_LIMITS       answers per minute on the public survey endpoints (hosted pages and
                           the widget's collect endpoint), e.g. ``address=300,key=6000,token=60``
                           (any subset; 0 turns one off)
=========================  ==================================================================

Django is configured only when :func:`cxlens.web.setup` is called, never on import, so the rest
of cxlens (and its tests) runs without Django.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from cxlens.errors import CxlensInputError, MissingDependencyError, WorkspaceError

PACKAGE_DIR = Path(__file__).resolve().parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SECRET_FILE = "secret_key"
SQLITE_FILE = "cxlens.sqlite3"
#: API requests per period (count, seconds) allowed per key or user and per client address.
DEFAULT_API_RATE = (600, 60)
_RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
               "d": 86400, "day": 86400}


@dataclass(frozen=True)
class WebConfig:
    """Everything the Django project needs to know, resolved from the workspace and environment."""

    workspace: Path
    secret_key: str
    allowed_hosts: tuple[str, ...]
    database: dict[str, Any]
    secure_cookies: bool
    login_attempts: int = 5
    lockout: timedelta = timedelta(minutes=15)
    debug: bool = False
    email: dict[str, Any] = field(default_factory=dict)
    public_url: str | None = None
    api_rate: tuple[int, int] | None = DEFAULT_API_RATE
    survey_limits: str | None = None
    collect_url: str | None = None
    # The URL patterns served: the whole app, or only the survey collection routes (cxlens collect).
    urlconf: str = "cxlens.web.urls"
    extra: dict[str, Any] = field(default_factory=dict)


def load_config(workspace: Path, *, host: str = "127.0.0.1", env: dict[str, str] | None = None) -> WebConfig:
    """Resolve the settings for serving ``workspace`` bound to ``host``."""
    env = dict(os.environ if env is None else env)
    workspace = workspace.resolve()
    app_dir = workspace / "app"
    app_dir.mkdir(parents=True, exist_ok=True)
    return WebConfig(
        workspace=workspace,
        secret_key=env.get("CXLENS_SECRET_KEY") or secret_key(app_dir),
        allowed_hosts=allowed_hosts(env.get("CXLENS_ALLOWED_HOSTS"), host),
        database=database_settings(env.get("CXLENS_DATABASE_URL") or _workspace_database_url(workspace), workspace),
        secure_cookies=_bool(env.get("CXLENS_SECURE_COOKIES"), "CXLENS_SECURE_COOKIES", host not in LOOPBACK),
        login_attempts=_int(env.get("CXLENS_LOGIN_ATTEMPTS"), "CXLENS_LOGIN_ATTEMPTS", 5),
        lockout=timedelta(minutes=_int(env.get("CXLENS_LOCKOUT_MINUTES"), "CXLENS_LOCKOUT_MINUTES", 15)),
        email=email_settings(env.get("CXLENS_SMTP_URL"), env.get("CXLENS_MAIL_FROM")),
        public_url=_public_url(env.get("CXLENS_PUBLIC_URL")),
        collect_url=_collect_url(env.get("CXLENS_COLLECT_URL")),
        api_rate=api_rate(env.get("CXLENS_API_RATE")),
        survey_limits=_survey_limits(env.get("CXLENS_SURVEY_LIMITS")),
    )


def api_rate(value: str | None) -> tuple[int, int] | None:
    """``CXLENS_API_RATE`` as (requests, seconds): ``600/min``, ``20/s``, ``5000/hour``; ``off`` is no limit."""
    if value is None or not value.strip():
        return DEFAULT_API_RATE
    text = value.strip().lower()
    if text in {"off", "none", "0"}:
        return None
    count, _, unit = text.partition("/")
    if count.strip().isdigit() and int(count) > 0 and unit.strip() in _RATE_UNITS:
        return int(count), _RATE_UNITS[unit.strip()]
    raise CxlensInputError(
        f"CXLENS_API_RATE must look like 600/min (requests per s, min, hour or day), or be 'off'. "
        f"Got {value!r} instead."
    )


def email_settings(url: str | None, sender: str | None) -> dict[str, Any]:
    """Django's EMAIL_* settings for an SMTP URL (``smtp://`` or ``smtps://``), or mail off."""
    base: dict[str, Any] = {"DEFAULT_FROM_EMAIL": (sender or "cxlens@localhost").strip(), "EMAIL_TIMEOUT": 20,
                            "CXLENS_MAIL_ENABLED": bool(url)}
    if not url:
        return base
    parsed = urlparse(url.strip())
    scheme = parsed.scheme.lower()
    if scheme not in {"smtp", "smtps"} or not parsed.hostname:
        raise CxlensInputError(
            f"CXLENS_SMTP_URL must look like smtp://user:password@host:587?starttls=true or "
            f"smtps://user:password@host:465. Got {_redact_url(url)!r} instead."
        )
    query = {k.lower(): v for k, v in (p.split("=", 1) for p in parsed.query.split("&") if "=" in p)}
    return {
        **base,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname,
        "EMAIL_PORT": parsed.port or (465 if scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": scheme == "smtp" and _bool(query.get("starttls"), "CXLENS_SMTP_URL starttls", False),
    }


def _redact_url(url: str) -> str:
    """``url`` with its password replaced, for messages (secrets are never shown or logged)."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url


def _survey_limits(value: str | None) -> str | None:
    """``CXLENS_SURVEY_LIMITS`` checked at start-up (a clear message instead of a failure later)."""
    from cxlens.web.surveys.limits import parse

    parse(value)
    return value


def _public_url(value: str | None, name: str = "CXLENS_PUBLIC_URL") -> str | None:
    if not value or not value.strip():
        return None
    parsed = urlparse(value.strip())
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise CxlensInputError(f"{name} must be an http(s) address such as https://cx.example.com. "
                               f"Got {value!r} instead.")
    return value.strip().rstrip("/")


def _collect_url(value: str | None) -> str | None:
    url = _public_url(value, "CXLENS_COLLECT_URL")
    if url is not None and urlparse(url).path not in {"", "/"}:
        raise CxlensInputError(f"CXLENS_COLLECT_URL must be an address without a path, such as "
                               f"https://collect.example.com (the widget posts to /s/SLUG/collect on it). "
                               f"Got {value!r} instead.")
    return url


def secret_key(app_dir: Path) -> str:
    """The workspace's signing key, generated once and kept readable by its owner only."""
    path = app_dir / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key


def allowed_hosts(value: str | None, host: str) -> tuple[str, ...]:
    if value:
        return tuple(h.strip() for h in value.split(",") if h.strip())
    hosts = ["localhost", "127.0.0.1", "[::1]"]
    if host not in LOOPBACK and host not in {"0.0.0.0", "::"}:
        hosts.append(host)
    return tuple(hosts)


def _workspace_database_url(workspace: Path) -> str | None:
    from cxlens import workspace as ws_module

    if not ws_module.is_workspace(workspace):
        return None
    return str(ws_module.open_workspace(workspace).settings.get("app_database_url") or "") or None


#: libpq connection parameters accepted as query parameters of a postgresql:// URL.
PG_URL_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
                  "target_session_attrs", "options")
#: Seconds to wait for the PostgreSQL server before giving up (unless the URL says otherwise).
PG_CONNECT_TIMEOUT = 10


def database_settings(url: str | None, workspace: Path) -> dict[str, Any]:
    """Django's DATABASES['default'] for an app database URL (SQLite or PostgreSQL).

    Relative SQLite paths are relative to the workspace folder, as in the ``app_database_url``
    setting; without a URL the database is ``DIR/app/cxlens.sqlite3``. A PostgreSQL URL is
    ``postgresql://user:password@host:5432/name`` (user name and password percent-encoded), with
    optional libpq parameters such as ``?sslmode=require``, and ``?host=/run/postgresql`` for a
    unix socket.
    """
    if not url:
        return _sqlite(workspace / "app" / SQLITE_FILE)
    parsed = urlparse(url.strip())
    scheme = parsed.scheme.lower()
    if scheme == "sqlite":
        # As in SQLAlchemy: sqlite:////abs/path.db (four slashes) or sqlite:///relative.db (to DIR).
        raw = url.strip().split("://", 1)[1]
        path = Path(raw[1:] if raw.startswith("/") else raw)
        return _sqlite(path if path.is_absolute() else workspace / path)
    if scheme in {"postgres", "postgresql"}:
        _require_psycopg()
        return _postgresql(url.strip())
    raise CxlensInputError(
        f"The app database URL (CXLENS_DATABASE_URL or the 'app_database_url' setting) must start with "
        f"sqlite:// or postgresql://. Got {_redact_url(url)!r} instead."
    )


def _postgresql(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    shown = _redact_url(url)
    try:
        port = parsed.port
    except ValueError:
        raise CxlensInputError(
            f"The port of the app database URL must be a number from 1 to 65535, as in "
            f"postgresql://user:password@host:5432/name. Got {shown!r} instead."
        ) from None
    name = unquote(parsed.path.lstrip("/"))
    if not name or "/" in name:
        raise CxlensInputError(
            f"The app database URL must name the database after the host, as in "
            f"postgresql://user:password@host:5432/name. Got {shown!r} instead."
        )
    query = dict(parse_qsl(parsed.query, keep_blank_values=True))
    host = query.pop("host", None) or unquote(parsed.hostname or "")
    unknown = sorted(set(query) - set(PG_URL_OPTIONS))
    if unknown:
        raise CxlensInputError(
            f"Unknown parameter {', '.join(unknown)} in the app database URL {shown!r}. Allowed: host, "
            f"{', '.join(PG_URL_OPTIONS)}."
        )
    options: dict[str, Any] = {"connect_timeout": PG_CONNECT_TIMEOUT, **query}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        # Each server thread keeps its connection for a minute, checked before reuse (the database
        # may have restarted meanwhile).
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


def check_database(config: WebConfig) -> WebConfig:
    """Fail clearly at start when the PostgreSQL app database cannot be reached; return ``config``.

    Without this, the first query (the migrations) fails with a driver traceback. SQLite needs no
    check: its file is created on first use.
    """
    db = config.database
    if db["ENGINE"] != "django.db.backends.postgresql":
        return config
    import psycopg

    params = {"dbname": db["NAME"], "user": db["USER"] or None, "password": db["PASSWORD"] or None,
              "host": db["HOST"] or None, "port": db["PORT"] or None, **db.get("OPTIONS", {})}
    try:
        psycopg.connect(**{k: v for k, v in params.items() if v is not None}).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        reason += "" if reason.endswith((".", "?", "!")) else "."
        where = f"{db['HOST'] or 'the local socket'}:{db['PORT'] or 5432}"
        raise WorkspaceError(
            f"Cannot connect to the PostgreSQL app database '{db['NAME']}' at {where} as user "
            f"'{db['USER']}': {reason} Check CXLENS_DATABASE_URL (or the 'app_database_url' setting): the "
            f"server must be running and reachable, and the user name, password and database name must be "
            f"right (create the database with: createdb -O {db['USER'] or 'USER'} {db['NAME']})."
        ) from None
    return config


def _sqlite(path: Path) -> dict[str, Any]:
    # WAL lets readers proceed while a request writes; the timeout waits out short write locks.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
    }


def _require_psycopg() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "A PostgreSQL app database needs the psycopg driver. Install it with: pip install 'psycopg[binary]'"
        ) from None


def _bool(value: str | None, name: str, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise CxlensInputError(f"{name} must be true or false. Got {value!r} instead.")


def _int(value: str | None, name: str, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise CxlensInputError(f"{name} must be a positive whole number. Got {value!r} instead.")
    return number


def django_settings(config: WebConfig) -> dict[str, Any]:
    """The Django settings of the cxlens web app (passed to ``settings.configure``)."""
    return {
        "DEBUG": config.debug,
        "SECRET_KEY": config.secret_key,
        "ALLOWED_HOSTS": list(config.allowed_hosts),
        "ROOT_URLCONF": config.urlconf,
        "INSTALLED_APPS": [
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "axes",
            "cxlens.web.apps.CxlensWebConfig",
            "cxlens.web.surveys.apps.SurveysConfig",
            "cxlens.web.distribution.apps.DistributionConfig",
            "cxlens.web.loop.apps.LoopConfig",
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "cxlens.web.middleware.RejectNulMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            # Last, as django-axes asks: it turns a lock-out into the lock-out response.
            "axes.middleware.AxesMiddleware",
        ],
        "AUTHENTICATION_BACKENDS": [
            "axes.backends.AxesStandaloneBackend",
            "django.contrib.auth.backends.ModelBackend",
        ],
        "DATABASES": {"default": config.database},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "TEMPLATES": [{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cxlens.web.views.context",
            ]},
        }],
        "STATIC_URL": "/static/",
        # whitenoise serves the packaged files straight from the installed apps (no collectstatic
        # step to forget); the set of files is read once at start.
        "WHITENOISE_USE_FINDERS": True,
        "WHITENOISE_AUTOREFRESH": False,
        "LOGIN_URL": "/login/",
        "LOGIN_REDIRECT_URL": "/",
        "LOGOUT_REDIRECT_URL": "/login/",
        "SESSION_COOKIE_SECURE": config.secure_cookies,
        "CSRF_COOKIE_SECURE": config.secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "CSRF_FAILURE_VIEW": "cxlens.web.views.csrf_failure",
        "SESSION_COOKIE_AGE": 8 * 3600,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "AUTH_PASSWORD_VALIDATORS": [
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
             "OPTIONS": {"min_length": 10}},
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
        ],
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "AXES_FAILURE_LIMIT": config.login_attempts,
        "AXES_COOLOFF_TIME": config.lockout,
        "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"]],
        "AXES_RESET_ON_SUCCESS": True,
        "AXES_LOCKOUT_TEMPLATE": "cxlens/locked.html",
        "AXES_VERBOSE": False,
        "CXLENS_WORKSPACE": str(config.workspace),
        "CXLENS_API_RATE": config.api_rate,
        "CXLENS_SURVEY_LIMITS": config.survey_limits,
        "CXLENS_PUBLIC_URL": config.public_url,
        "CXLENS_COLLECT_URL": config.collect_url,
        **config.email,
        # API batches are JSON bodies; files sent by 'cxlens import' are streamed to disk.
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 64 * 2**20,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": 4 * 2**20,
        "FILE_UPLOAD_TEMP_DIR": str(config.workspace / "tmp"),
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"},
                        "axes": {"handlers": ["console"], "level": "WARNING"}},
        },
        **config.extra,
    }
