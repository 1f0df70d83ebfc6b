"""The store: every report version and finding, the watcher's ledger and the notification outbox.

One `Store(url)` per process (construct it after Celery forks: no connection is opened before first use, and a
store carried across a fork drops the parent's connections). Writes are short transactions that are safe under
concurrent workers: unique constraints decide, a conflict is retried, and the saves of one report are serialized
by a lock on its row (PostgreSQL `SELECT … FOR UPDATE`; SQLite `BEGIN IMMEDIATE` under write-ahead logging).

The pipeline writes in batches (`ledger_take`, `ledger_claim`, `save_batch`): one transaction for many files.
SQLite has one writer at a time whatever is done; processes take turns by an exclusive lock on a file beside the
database (`<db>.writer`), which wakes the next writer the moment the last one commits, instead of leaving them
to SQLite's busy handler, which sleeps and polls.

`Store` is composed of one part per concern, each a class in its own module built on `engine.StoreBase`:

| part | module | what it holds |
|---|---|---|
| `StoreBase` | `storage/engine.py` | engine setup, migrations, sessions, the retried write transaction |
| `ReportStore` | `storage/reports.py` | `save`, versions, stored reports and their earlier years |
| `BatchStore` | `storage/batch.py` | `save_batch`: a worker's batch in one transaction |
| `LedgerStore` | `storage/ledger.py` | the watcher's ledger |
| `OutboxStore` | `storage/outbox.py` | outbox items, digests, delivery attempts |
| `ReviewerStore` | `storage/reviewers.py` | reviewers, web sessions, triage |
| `PeerStore` | `storage/peers.py` | the prose index and peer reports |
| `HistoryStore` | `storage/history.py` | a body's history and versions, findings filtered (read through `read_model.py`) |

The row types they return are in `storage/rows.py`, the errors in `storage/errors.py`, and the look-up of a
stored body by name in `storage/organizations.py`.
"""

from __future__ import annotations

from storage.batch import BatchStore
from storage.history import HistoryStore
from storage.outbox import OutboxStore
from storage.peers import PeerStore
from storage.reviewers import ReviewerStore


class Store(BatchStore, PeerStore, HistoryStore, OutboxStore, ReviewerStore):
    """Every part of the store on one connection (`BatchStore` brings `ReportStore` and `LedgerStore`)."""
