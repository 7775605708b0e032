"""One settings object, from environment variables, with embedded defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None  # another Bot API server (a local one)
    sportello_data_dir: Path = Path("var")

    @property
    def db_path(self) -> Path:
        return self.sportello_data_dir / "sportello.sqlite3"
