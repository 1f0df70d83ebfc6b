"""All configuration in one object: environment variables (NIANBAO_*) over a TOML file over defaults.

The rules' part (`[rules]`) is `rules.settings.RuleSettings`, nested here: the rules import nothing from this
package, so they stay usable (and testable) without the command line.

The TOML file is `nianbao.toml` in the working directory, or the path in NIANBAO_CONFIG. Example:

    database_url = "sqlite:///var/nianbao/nianbao.db"
    notify_urls = ["json://127.0.0.1:8080/alerts"]

    [rules]
    disabled = ["narrative.missing_topics"]
    severity = { "structure.blank_cells" = "info" }
    copy_similarity = 0.9
    township_deadline = "03-31"
    township_deadlines = { "湖北省" = "01-31" }
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from rules.settings import RuleSettings

# The embedded broker: kombu's SQLAlchemy transport on a SQLite file (worker/broker.py).
EMBEDDED_BROKER_SCHEME = "nianbao+sqlite"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIANBAO_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("nianbao-data")
    database_url: str | None = None  # default: SQLite in data_dir
    max_file_bytes: int = 50 * 1024 * 1024
    # The original bytes of every stored version (by SHA-256), served as the download of a version: default
    # data_dir/evidence. It must be reachable by every worker and by `serve` (shared storage when they run apart).
    evidence_dir: Path | None = None
    # Days the evidence of a superseded version is kept after its successor arrived; 0 keeps it for ever. The
    # current version's is always kept. Pruned by reconciliation.
    evidence_retention_days: int = 0
    # A worker's pool process may use at most this many bytes of address space (RLIMIT_AS); a file that needs
    # more ends `failed` and the process is replaced. 0: no limit.
    worker_memory_limit: int = 2 * 1024**3
    rules: RuleSettings = Field(default_factory=RuleSettings)

    # The pipeline: watched folder -> Celery workers -> storage -> alerts (docs/pipeline.md).
    # Default: the embedded broker (SQLite in data_dir). redis://host:6379/0 runs watcher and workers apart.
    broker_url: str | None = None
    # Redis: a task taken by a worker that died unacknowledged is delivered again after this many seconds.
    # It must exceed the longest task (task_time_limit) and the longest retry countdown (retry_backoff_max).
    broker_visibility_timeout: int = 3600
    # Worker processes of `nianbao run` and `nianbao worker` (default: one per CPU).
    worker_concurrency: int | None = None
    # A task running longer than this is killed; its file is retried, then recorded as failed.
    task_time_limit: int = 600
    # Transient errors (database locked, share or database unreachable): retries with exponential backoff.
    task_max_retries: int = 6
    retry_backoff_max: int = 600
    # native: inotify/FSEvents/ReadDirectoryChangesW, for local disks. polling: for SMB/NFS/CIFS shares, which
    # deliver no change events to the client that mounted them.
    watch_mode: Literal["native", "polling"] = "native"
    watch_poll_interval: float = 5.0  # seconds between two snapshots of the tree in polling mode
    # A file is taken once its size and modification time have not changed for this long (a copy in progress
    # over the network keeps changing).
    watch_stable_seconds: float = 2.0
    # Settled files are taken in batches (one ledger transaction, one task each): a batch closes at
    # `watch_batch_size` files, or once its first file has waited `watch_batch_wait` seconds for more, or at once
    # when no other file is still settling (a file dropped alone is not held back).
    watch_batch_size: int = Field(default=50, ge=1)
    watch_batch_wait: float = 0.2
    # Also walk the whole tree this often and take what changed unseen (lost events, an overflowing inotify
    # queue); 0 disables it.
    watch_rescan_interval: float = 900.0
    # Names never taken (matched case-insensitively against the file name; ".*" also hides folders).
    watch_ignore: list[str] = Field(
        default_factory=lambda: [
            "~$*", ".~lock.*", "*.part", "*.partial", "*.crdownload", "*.tmp", "*.temp", "*.swp", "*.lock",
            ".*", "Thumbs.db", "desktop.ini",
        ]
    )  # fmt: skip
    # Reconciliation: files seen but not stored after `reconcile_after` seconds are enqueued again, every
    # `reconcile_interval` seconds, until a file has been attempted `max_attempts` times; then it is failed.
    reconcile_interval: float = 60.0
    reconcile_after: float = 900.0
    max_attempts: int = 5
    # Reports that never arrive: `nianbao watch`/`run` look for bodies past their deadline this often (seconds;
    # 0 disables) and alert each (body, year) once (report.overdue).
    overdue_interval: float = 86400.0
    # Apprise targets: URLs, each optionally prefixed with its tags ("error, 房县=wecombot://KEY"), and/or an
    # Apprise config file (YAML or text) of tagged targets. A target without tags receives every alert; a
    # tagged one receives alerts that carry one of its tags (the severities of the findings, the region).
    notify_urls: list[str] = Field(default_factory=list)
    notify_config: Path | None = None
    # A failed delivery is tried again after this many seconds, doubling each time up to the maximum; after
    # storage.outbox.OUTBOX_MAX_ATTEMPTS failures the alert is abandoned.
    outbox_first_backoff: float = 30.0
    outbox_max_backoff: float = 6 * 3600.0
    notify_resolved: bool = True  # also send a short "已更正" note when a new version fixes earlier findings
    # Alerts are grouped per target (docs/pipeline.md, Alerts): the first alert to a quiet target waits
    # `notify_group_wait` seconds for others to join it (a lone one then goes out alone); after a message, the
    # next one to that target waits `notify_group_interval` seconds and lists every report that came meanwhile.
    notify_group_wait: float = 0.5
    notify_group_interval: float = 60.0
    # Messages a minute a target accepts, by URL scheme (WeCom and DingTalk group robots: 20); the time between two
    # messages to such a target is never shorter than this allows, retries included.
    notify_rate_limits: dict[str, float] = Field(default_factory=lambda: {"wecombot": 20.0, "dingtalk": 20.0})
    # The review pages' address as reviewers open it (e.g. "https://nianbao.example.org"); alerts link to it.
    web_base_url: str | None = None

    # The web pages (`nianbao serve`, web/). The key signs the reviewers' session cookies: required to serve on an
    # address other than loopback; without it a random key is made at start (sessions end with the process).
    secret_key: str | None = None
    web_session_seconds: int = 8 * 3600  # a session ends this long after the reviewer's last request

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

    @field_validator("notify_config", mode="before")
    @classmethod
    def _no_config_file(cls, value: object) -> object:
        return None if value == "" else value  # NIANBAO_NOTIFY_CONFIG= (set but empty) means none

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'nianbao.db').resolve()}"

    @property
    def evidence(self) -> Path:
        return (self.evidence_dir or self.data_dir / "evidence").resolve()

    @property
    def broker(self) -> str:
        return self.broker_url or f"{EMBEDDED_BROKER_SCHEME}:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def embedded_broker(self) -> bool:
        """Whether the broker lives on this machine's disk (the default SQLite one, or kombu's filesystem://)."""
        return self.broker.startswith((f"{EMBEDDED_BROKER_SCHEME}:", "filesystem:"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
