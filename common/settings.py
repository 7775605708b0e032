"""One settings object, from environment variables, with embedded defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Security = Literal["tls", "starttls", "none"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None  # another Bot API server (a local one)
    sportello_data_dir: Path = Path("var")

    # Files at rest: AES-256-GCM key, urlsafe base64 of 32 bytes. Unset: made once in the
    # data folder (var/files.key). Keep it apart from backups of the data folder.
    sportello_file_key: SecretStr | None = None
    # Days after delivery before a dossier's files are deleted; the family is told first.
    sportello_retention_days: int = 30
    # Size budget per e-mail, when the notice sets none (PEC providers often cap at 30 MB).
    sportello_message_budget_mb: float = 25

    # The operator's PEC mailbox. Without SMTP_HOST, messages are saved as .eml files in
    # var/outbox and the family is told they were saved, not sent.
    smtp_host: str | None = None
    smtp_port: int = 465
    smtp_security: Security = "tls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "sportello-b2@localhost"
    smtp_ca_file: Path | None = None  # a private CA, for tests or an internal relay

    # PEC receipts arrive in the same mailbox; read over IMAPS when IMAP_HOST is set.
    imap_host: str | None = None
    imap_port: int = 993
    imap_security: Security = "tls"
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_ca_file: Path | None = None
    imap_poll_seconds: float = 60

    # `sportello serve`: Telegram posts to WEBHOOK_URL/telegram/webhook (https only).
    webhook_url: str | None = None  # the service's public address: https://b2.example.it
    webhook_secret: SecretStr | None = None  # unset: made once in var/webhook.secret
    sportello_host: str = "127.0.0.1"
    sportello_port: int = 8080
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (the
    # client's address for login throttling, https for the Secure cookie and HSTS):
    # uvicorn's convention, comma-separated addresses or networks, "*" for any.
    forwarded_allow_ips: str = "127.0.0.1,::1"

    # The back-office's accessibility statement: where people write about a barrier
    # (shown on /accessibilita and in every page's footer), and, when the Ambito publishes
    # its statement elsewhere (AgID's form), that address for the footer link.
    sportello_feedback_email: str | None = None
    sportello_accessibility_url: str | None = None

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https://[^/\s?#]+(/[^\s?#]*)?$", value):
            raise ValueError("WEBHOOK_URL must be the service's public https:// address")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("WEBHOOK_SECRET: 1 to 256 characters among A-Z a-z 0-9 _ -")
        return value

    @property
    def db_path(self) -> Path:
        return self.sportello_data_dir / "sportello.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.sportello_data_dir / "files"

    @property
    def outbox_dir(self) -> Path:
        return self.sportello_data_dir / "outbox"
