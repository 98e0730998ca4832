"""Settings, read from the environment (prefix ``CRMHUB_``) and from a TOML config file.

``crmhub init`` writes the config file with a generated secret key and encryption key; the
environment overrides it, so a container or a test can set ``CRMHUB_DATABASE_URL`` alone.
The file is found at ``$CRMHUB_CONFIG`` or ``./crmhub.toml``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def config_path() -> Path:
    """Where the config file lives: ``$CRMHUB_CONFIG`` or ``./crmhub.toml``."""
    return Path(os.environ.get("CRMHUB_CONFIG", "crmhub.toml")).resolve()


class Settings(BaseSettings):
    """Everything crmhub can be told; secrets are ``SecretStr`` and never printed."""

    model_config = SettingsConfigDict(env_prefix="CRMHUB_", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="Folder for the SQLite file, uploaded files and logs")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means a SQLite file in data_dir")
    secret_key: SecretStr = Field(default=SecretStr(""), description="Signs sessions and CSRF tokens")
    encryption_keys: list[SecretStr] = Field(
        default_factory=list, description="Fernet keys for secrets at rest; the first encrypts, all decrypt"
    )
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of the hub, for links")
    default_region: str = Field(default="RU", description="Region for phone numbers written without +country")
    default_currency: str = Field(default="RUB")
    internal_domains: list[str] = Field(default_factory=list, description="Our own mail domains, never logged")
    max_upload_mb: int = Field(default=25)
    session_days: int = Field(default=14)
    secure_cookies: bool = Field(default=False, description="Mark cookies Secure (set when served over TLS)")
    run_worker: bool = Field(default=True, description="crmhub serve also runs one background worker")
    sync_log_days: int = Field(default=30, description="How long sync runs are kept")
    sync_reader_process_items: int = Field(
        default=5000,
        description="A stream with at least this many items left (a first mailbox import) is read by a process "
        "of its own, on a second CPU core; 0 never",
    )
    log_level: str = Field(default="INFO")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Init arguments win, then the environment, then the config file."""
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_path()))

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'crmhub.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        """Where uploaded and imported files are stored."""
        return self.data_dir / "files"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
