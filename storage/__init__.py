"""Storage: every report version and finding kept and queryable, plus the pipeline's ledger and outbox.

SQLModel tables (`storage.tables`), Alembic migrations shipped in `storage/migrations`, and the `Store` that
writes and queries them (API: docs/storage-api.md).
"""

from storage.engine import use_write_ahead_log
from storage.errors import AmbiguousOrganization, SchemaNotCurrent, StoreError
from storage.ledger import LEDGER_STATES
from storage.read_model import FindingRow
from storage.reports import finding_fingerprints
from storage.rows import (
    BatchOutcome,
    BatchSave,
    Digest,
    DigestDue,
    LedgerEntry,
    OutboxDraft,
    OutboxItem,
    Reviewer,
    SaveResult,
    TriageEntry,
    VersionRow,
)
from storage.store import Store

__all__ = [
    "LEDGER_STATES",
    "AmbiguousOrganization",
    "BatchOutcome",
    "BatchSave",
    "Digest",
    "DigestDue",
    "FindingRow",
    "LedgerEntry",
    "OutboxDraft",
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
