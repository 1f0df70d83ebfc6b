"""Storage: every report version and finding kept and queryable, plus the pipeline's ledger and outbox.

SQLModel tables (`storage.tables`), Alembic migrations shipped in `storage/migrations`, and the `Store` that
writes and queries them (API: docs/storage-api.md).
"""

from storage.store import (
    AmbiguousOrganization,
    FindingRow,
    LedgerEntry,
    OutboxItem,
    SaveResult,
    SchemaNotCurrent,
    Store,
    StoreError,
    VersionRow,
    finding_fingerprints,
)

__all__ = [
    "AmbiguousOrganization",
    "FindingRow",
    "LedgerEntry",
    "OutboxItem",
    "SaveResult",
    "SchemaNotCurrent",
    "Store",
    "StoreError",
    "VersionRow",
    "finding_fingerprints",
]
