"""All configuration in one object: environment variables (NIANBAO_*) over a TOML file over defaults.

The TOML file is `nianbao.toml` in the working directory, or the path in NIANBAO_CONFIG. Example:

    database_url = "sqlite:///var/nianbao/nianbao.db"
    notify_urls = ["json://127.0.0.1:8080/alerts"]

    [rules]
    disabled = ["narrative.missing_topics"]
    severity = { "structure.blank_cells" = "info" }
    copy_similarity = 0.9
    township_deadline = "01-31"
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


class RuleSettings(BaseModel):
    """Which rules run, at which severity, with which thresholds."""

    disabled: list[str] = Field(default_factory=list)
    severity: dict[str, Literal["error", "warning", "info"]] = Field(default_factory=dict)
    # narrative.copied_from_prior_year: section 五 at least this similar to last year's counts as copied.
    copy_similarity: float = 0.9
    # publication.late: the deadline (MM-DD of the following year) for townships, which 条例 第四十九条 does not name.
    township_deadline: str = "01-31"
    # narrative.copied_from_prior_year ignores texts shorter than this ("无" is not a copy).
    copy_min_chars: int = 40


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIANBAO_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("nianbao-data")
    database_url: str | None = None  # default: SQLite in data_dir
    broker_url: str | None = None  # default: an embedded SQLite broker in data_dir
    notify_urls: list[str] = Field(default_factory=list)
    notify_config: Path | None = None  # an Apprise config file (YAML/text) with tagged targets
    max_file_bytes: int = 50 * 1024 * 1024
    rules: RuleSettings = Field(default_factory=RuleSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("NIANBAO_CONFIG", "nianbao.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'nianbao.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
