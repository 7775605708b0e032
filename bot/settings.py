"""One settings object, from environment variables, with embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
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

    @property
    def db_path(self) -> Path:
        return self.sportello_data_dir / "sportello.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.sportello_data_dir / "files"

    @property
    def outbox_dir(self) -> Path:
        return self.sportello_data_dir / "outbox"

    def file_key(self) -> bytes:
        from storage.blobs import decode_key, load_or_create_key

        if self.sportello_file_key is not None:
            return decode_key(self.sportello_file_key.get_secret_value())
        return load_or_create_key(self.sportello_data_dir / "files.key")
