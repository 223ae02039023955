"""Settings per environment, read from environment variables.

Secrets never live in the repository: production refuses to start without its own SECRET_KEY, and a
development machine (``make run``) makes a random one under instance/ on its first run and reuses it.
"""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
# Signs nothing outside the test suite: development reads instance/secret_key, production refuses it.
DEFAULT_SECRET_KEY = "testing-only-not-secret"
SECRET_KEY_FILE = "secret_key"


def instance_secret_key(instance_dir: Path = INSTANCE_DIR, name: str = SECRET_KEY_FILE, make=None) -> str:
    """This machine's own random key, made on first use (readable by its owner only) and reused."""
    path = instance_dir / name
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = make() if make else secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key)
    return key


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or not value.strip() else int(value)


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'lianzhao.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # How long a write waits for another transaction's lock before the user is told "系统繁忙，请稍后重试"
    # (crm/busy.py): SQLite's busy timeout, PostgreSQL's lock_timeout (0 there: wait without limit).
    # Keep it under the web server's worker timeout (deploy/gunicorn.conf.py).
    SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 10000)
    POSTGRES_LOCK_TIMEOUT_MS = _env_int("POSTGRES_LOCK_TIMEOUT_MS", 10000)
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the session bounds the token's life
    WTF_I18N_ENABLED = False  # use WTForms' own zh messages (no Babel)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # The site issues no remember-me cookie (sessions end with the browser and the time-outs below);
    # these settings only harden one should Flask-Login ever be asked to set it.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # ASVS 2.4: scrypt with N=2^17 (Werkzeug's default N=2^14/2^15 falls short). Older hashes are
    # replaced with this method at the user's next successful sign-in.
    PASSWORD_HASH_METHOD = "scrypt:131072:8:1"
    # Recovery codes carry ~50 random bits (a password far fewer): a salted PBKDF2 of 100,000 rounds
    # puts them out of reach offline and checks ten of them in a fifth of a second.
    RECOVERY_CODE_HASH_METHOD = "pbkdf2:sha256:100000"
    # Session time-outs (ASVS 3.3): idle, and absolute since sign-in.
    SESSION_IDLE_MINUTES = _env_int("SESSION_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_HOURS = _env_int("SESSION_ABSOLUTE_HOURS", 12)
    # Failed sign-ins allowed per account and per client address within the window (ASVS 2.2.1).
    # memory:// counts per process: with several workers set redis://host:6379/0 so they share counts.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    LOGIN_FAILURES_PER_ACCOUNT = _env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
    LOGIN_FAILURES_PER_ADDRESS = _env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
    LOGIN_FAILURE_WINDOW_MINUTES = _env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15)
    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust; 0: none.
    PROXY_FIX_X_FOR = _env_int("PROXY_FIX_X_FOR", 0)
    # Two-factor sign-in: the city admin must enrol when this is on (or when any zone requires it).
    REQUIRE_2FA_ADMIN = _env_bool("REQUIRE_2FA_ADMIN", False)
    TOTP_ISSUER = "链招"
    # Fernet keys that encrypt the stored TOTP secrets, comma-separated, the first one encrypting.
    TOTP_ENCRYPTION_KEYS = os.environ.get("TOTP_ENCRYPTION_KEYS", "")
    # The job queue (crm/jobs): redis://host:6379/1 in production (workers on any machine), sqlite:///path for
    # one machine (make run: an embedded queue file and a worker thread in the app), "immediate" to run each
    # job at once in the process that queues it (the tests). Unset: development uses instance/jobs-queue.db.
    JOBS_QUEUE_URL = os.environ.get("JOBS_QUEUE_URL", "")
    # Run a worker thread inside the app process (development without a separate `flask jobs worker`).
    JOBS_IN_PROCESS = _env_bool("JOBS_IN_PROCESS", False)
    # A running job writes a heartbeat this often; one silent for JOBS_STALE_SECONDS has lost its worker.
    JOBS_HEARTBEAT_SECONDS = _env_int("JOBS_HEARTBEAT_SECONDS", 5)
    JOBS_STALE_SECONDS = _env_int("JOBS_STALE_SECONDS", 60)
    # Finished jobs and their files, and uploads, are kept this many days.
    JOBS_KEEP_DAYS = _env_int("JOBS_KEEP_DAYS", 7)
    PAGE_SIZE = 50
    STALE_LEAD_DAYS = 30
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # uploads (ledgers); a larger request is a 413
    MAX_FORM_MEMORY_SIZE = 1024 * 1024  # non-file form fields, per field
    MAX_FORM_PARTS = 2000
    DEBUG = False
    TESTING = False

    @staticmethod
    def complete(config, instance_dir: Path) -> None:
        """Fill in what the environment left out and this kind of machine can make itself."""

    @staticmethod
    def validate(config) -> None:
        """Refuse settings that are unsafe for this environment."""


class DevelopmentConfig(Config):
    DEBUG = _env_bool("FLASK_DEBUG", False)

    @staticmethod
    def complete(config, instance_dir: Path) -> None:
        if config.get("SECRET_KEY") in (None, "", DEFAULT_SECRET_KEY):
            config["SECRET_KEY"] = instance_secret_key(instance_dir)
        if not config.get("TOTP_ENCRYPTION_KEYS"):
            from cryptography.fernet import Fernet

            config["TOTP_ENCRYPTION_KEYS"] = instance_secret_key(
                instance_dir, "totp_key", lambda: Fernet.generate_key().decode("ascii"))
        if not config.get("JOBS_QUEUE_URL"):  # nothing but SQLite: a queue file and a worker thread in the app
            config["JOBS_QUEUE_URL"] = f"sqlite:///{instance_dir / 'jobs-queue.db'}"
            config["JOBS_IN_PROCESS"] = True


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    # Cheap hashes keep the suite fast; production strength is tested separately.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    RECOVERY_CODE_HASH_METHOD = "pbkdf2:sha256:1000"
    SERVER_NAME = "localhost"
    # A key of this test process's own (Fernet keys are urlsafe base64 of 32 random bytes).
    TOTP_ENCRYPTION_KEYS = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    # The suite's own counters, whatever the environment says.
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_QUEUE_URL = "immediate"  # each job runs when it is queued, in the test's own transaction
    JOBS_IN_PROCESS = False
    PROXY_FIX_X_FOR = 0
    REQUIRE_2FA_ADMIN = False


class ProductionConfig(Config):
    HSTS_SECONDS = 31536000
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_NAME = "__Host-remember_token"
    ALLOW_SQLITE = _env_bool("ALLOW_SQLITE", False)

    @staticmethod
    def validate(config) -> None:
        problems = []
        secret = config.get("SECRET_KEY") or ""
        if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
            problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
        if not config.get("TOTP_ENCRYPTION_KEYS"):
            problems.append("TOTP_ENCRYPTION_KEYS must be set (Fernet keys encrypting the two-factor secrets)")
        if config.get("DEBUG"):
            problems.append("debug must be off in production")
        if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not config.get("ALLOW_SQLITE"):
            problems.append("production runs on PostgreSQL; set ALLOW_SQLITE=1 to run on SQLite anyway")
        queue = config.get("JOBS_QUEUE_URL") or ""
        if not queue.startswith(("redis://", "rediss://")) and not (queue.startswith("sqlite") and config.get("ALLOW_SQLITE")):
            problems.append("JOBS_QUEUE_URL must name the Redis the workers share (redis://host:6379/1)")
        if problems:
            raise RuntimeError("refusing to start: " + "; ".join(problems))


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
