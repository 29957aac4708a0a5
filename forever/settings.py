"""Every environment variable the service reads, read once."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Settings:
    """Configuration of one running service (or one test)."""

    data_dir: Path
    database_url: str
    secret_key: bytes = field(repr=False)
    token_ttl_hours: int = 12
    login_failures_per_email: int = 5
    login_failures_per_address: int = 30
    login_window_minutes: int = 15
    # Password-reset links: how long one works, and how many may be asked per e-mail and per address in the window.
    password_reset_minutes: int = 60
    password_resets_per_email: int = 3
    password_resets_per_address: int = 20
    password_reset_window_minutes: int = 60
    pricing_grid_path: Path = PACKAGE_ROOT / "tradein" / "pricing_grid.toml"
    max_body_bytes: int = 26 * 1024 * 1024
    # Argon2id cost: RFC 9106's second recommended option by default (64 MiB, 3 passes).
    argon2_memory_kib: int = 65536
    argon2_time_cost: int = 3
    secure_cookies: bool = False
    debug: bool = False
    # Voucher codes that find nothing: this many per key (or address) within the window, then 429.
    voucher_misses_allowed: int = 10
    voucher_miss_window_minutes: int = 10
    # Outgoing mail: written to the outbox folder unless an SMTP server is configured.
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "AMI For Ever <forever@amiparis.com>"
    # Where people reach the site: links in e-mails.
    public_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from FOREVER_* variables, with the embedded SQLite default."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("FOREVER_DATA_DIR", str(REPO_ROOT / "var"))).resolve()
        database_url = env.get("FOREVER_DATABASE_URL") or f"sqlite:///{data_dir / 'forever.sqlite3'}"
        settings = cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=_secret_key(env.get("FOREVER_SECRET_KEY"), data_dir),
            token_ttl_hours=int(env.get("FOREVER_TOKEN_TTL_HOURS", "12")),
            argon2_memory_kib=int(env.get("FOREVER_ARGON2_MEMORY_KIB", "65536")),
            argon2_time_cost=int(env.get("FOREVER_ARGON2_TIME_COST", "3")),
            secure_cookies=env.get("FOREVER_SECURE_COOKIES", "0") == "1",
            debug=env.get("FOREVER_DEBUG", "0") == "1",
            smtp_host=env.get("FOREVER_SMTP_HOST") or None,
            smtp_port=int(env.get("FOREVER_SMTP_PORT", "25")),
            mail_from=env.get("FOREVER_MAIL_FROM", "AMI For Ever <forever@amiparis.com>"),
            public_url=env.get("FOREVER_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        )
        if "FOREVER_PRICING_GRID" in env:
            settings = replace(settings, pricing_grid_path=Path(env["FOREVER_PRICING_GRID"]).resolve())
        return settings

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


def _secret_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured key, or one generated once and kept under the data directory for development."""
    if configured:
        return configured.encode()
    key_file = data_dir / "secret.key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode()


_in_force: Settings | None = None


def get_settings() -> Settings:
    """The settings in force: those the app was created with, else the environment's (read once)."""
    global _in_force
    if _in_force is None:
        _in_force = Settings.from_env()
    return _in_force


def use_settings(settings: Settings) -> None:
    """Put `settings` in force for the whole process (create_app does this)."""
    global _in_force
    _in_force = settings
