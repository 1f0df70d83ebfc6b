"""Storage: every report version and finding kept and queryable, plus the pipeline's ledger and outbox.

SQLModel tables (`storage.tables`), Alembic migrations shipped in `storage/migrations`, and the `Store` that
writes and queries them (API: docs/storage-api.md).
"""

from storage.store import (
    LEDGER_STATES,
    AmbiguousOrganization,
    Digest,
    DigestDue,
    FindingRow,
    LedgerEntry,
    OutboxItem,
    Reviewer,
    SaveResult,
    SchemaNotCurrent,
    Store,
    StoreError,
    TriageEntry,
    VersionRow,
    finding_fingerprints,
    use_write_ahead_log,
)

__all__ = [
    "LEDGER_STATES",
    "AmbiguousOrganization",
    "Digest",
    "DigestDue",
    "FindingRow",
    "LedgerEntry",
    "OutboxItem",
    "Reviewer",
    "SaveResult",
    "SchemaNotCurrent",
    "Store",
    "StoreError",
    "TriageEntry",
    "VersionRow",
    "finding_fingerprints",
    "use_write_ahead_log",
]
