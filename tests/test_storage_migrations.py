"""Alembic migrations on SQLite and PostgreSQL: from an empty database, and from each earlier revision with data in it."""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import MetaData, insert, inspect

from nianbao.cli import main
from report.model import Report
from storage import Store
from storage.engine import head_revision
from storage.tables import (
    TABLES,
    FindingRecord,
    LedgerRecord,
    OrganizationRecord,
    OutboxRecord,
    ReportRecord,
    ReviewerRecord,
    VersionRecord,
    utcnow,
)
from tests.storage_samples import judged, seed

CORE_TABLES = {"organizations", "reports", "report_versions", "findings"}
PIPELINE_TABLES = {"ledger", "outbox", "notifications"}
TRIAGE_TABLES = {"reviewers", "triage"}
ALERT_TABLES = {"digests", "alert_targets"}
SESSION_TABLES = {"web_sessions"}
PEER_TABLES = {"prose_bands", "overdue_notices"}
ALL_TABLES = CORE_TABLES | PIPELINE_TABLES | TRIAGE_TABLES | SESSION_TABLES | PEER_TABLES | ALERT_TABLES
HEAD = "0006"


def tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_an_empty_database_to_head(storage_url: str) -> None:
    store = Store(storage_url)
    assert store.revision() is None
    store.upgrade()
    assert store.revision() == head_revision() == HEAD
    assert tables(store) == ALL_TABLES
    store.upgrade()  # again: nothing to do
    assert store.revision() == HEAD
    store.dispose()


def test_migrations_create_exactly_the_tables_of_the_models(storage_url: str) -> None:
    models = MetaData()
    for table in TABLES:
        table.to_metadata(models)
    store = Store.open(storage_url)
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), models) == []
    store.dispose()


def insert_core_rows(store: Store) -> tuple[Report, int, datetime]:
    """An organization, a report, a version and a finding, as the code of revision 0001 wrote them:
    (the report, the version's id, the time written)."""
    report = judged(seed("002"))
    now = utcnow()
    with store.engine.begin() as connection:
        organization = connection.execute(
            insert(OrganizationRecord.__table__).values(  # type: ignore[attr-defined]
                name="白鹤镇人民政府", name_key="白鹤镇", region="房县", region_key="房县", level="township"
            )
        ).inserted_primary_key[0]
        report_id = connection.execute(
            insert(ReportRecord.__table__).values(key=f"{organization}/2023", organization_id=organization, year=2023)  # type: ignore[attr-defined]
        ).inserted_primary_key[0]
        version = connection.execute(
            insert(VersionRecord.__table__).values(  # type: ignore[attr-defined]
                report_id=report_id,
                sha256=report.source.sha256,
                source_path=report.source.path,
                format="txt",
                received_at=now,
                contract=report.to_contract(),
                evidence=report.evidence.model_dump(mode="json", by_alias=True),
            )
        ).inserted_primary_key[0]
        finding = report.findings[0]
        connection.execute(
            insert(FindingRecord.__table__).values(  # type: ignore[attr-defined]
                report_id=report_id,
                organization_id=organization,
                year=2023,
                fingerprint="f" * 64,
                rule=finding.rule,
                rule_version=1,
                severity=finding.severity,
                message=finding.message,
                location=finding.location,
                cells=finding.cells,
                expected=finding.expected,
                actual=finding.actual,
                first_seen=now,
                last_seen=now,
                first_version_id=version,
                last_version_id=version,
            )
        )
    return report, version, now


def test_upgrade_from_0001_keeps_the_data(storage_url: str) -> None:
    store = Store(storage_url)
    store.upgrade("0001")
    assert store.revision() == "0001" and tables(store) == CORE_TABLES
    report, version, now = insert_core_rows(store)
    finding = report.findings[0]
    store.upgrade()
    assert store.revision() == HEAD and tables(store) == ALL_TABLES
    assert store.report(version) == report
    (row,) = store.findings()
    assert (row.organization, row.region, row.year, row.rule, row.first_seen) == (
        "白鹤镇人民政府",
        "房县",
        2023,
        finding.rule,
        now,
    )
    # The upgraded database works as a new one: the same bytes are the stored version, the new tables take rows.
    assert store.save(report).version_id == version and not store.save(report).created
    assert store.ledger_seen("/share/a.txt", report.source.sha256, 10).state == "new"
    store.dispose()


def test_db_upgrade_command(storage_url: str) -> None:
    run = CliRunner().invoke(main, ["db", "upgrade", "--db", storage_url])
    assert run.exit_code == 0, run.output
    assert f"空 → {HEAD}" in run.output
    run = CliRunner().invoke(main, ["db", "upgrade", "--db", storage_url])
    assert f"{HEAD} → {HEAD}" in run.output


def test_upgrade_from_0002_the_previous_revision_keeps_ledger_and_outbox(storage_url: str) -> None:
    store = Store(storage_url)
    store.upgrade("0002")
    assert store.revision() == "0002" and tables(store) == CORE_TABLES | PIPELINE_TABLES
    report, version, now = insert_core_rows(store)
    with store.engine.begin() as connection:  # rows as the pipeline of revision 0002 wrote them
        connection.execute(
            insert(LedgerRecord.__table__).values(  # type: ignore[attr-defined]
                path="/share/a.txt", sha256=report.source.sha256, size=10, state="stored", attempts=1,
                version_id=version, seen_at=now, updated_at=now,
            )
        )  # fmt: skip
        outbox = connection.execute(
            insert(OutboxRecord.__table__).values(  # type: ignore[attr-defined]
                version_id=version, kind="new:t1", title="t", body="b", tags=["error"], state="pending", attempts=0,
                created_at=now, next_attempt_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
    store.upgrade()
    assert store.revision() == HEAD and tables(store) == ALL_TABLES
    entry = store.ledger_entry("/share/a.txt")
    assert entry is not None and (entry.state, entry.version_id) == ("stored", version)
    assert store.outbox_item(outbox).state == "pending"  # type: ignore[union-attr]
    store.alert_targets_add(["t1"])
    digest = store.digest_claim({"t1": timedelta(0)}, timedelta(0))  # an item waiting since 0002 goes out
    assert digest is not None and [item.id for item in digest.items] == [outbox]
    (row,) = store.findings()
    reviewer = store.add_reviewer("张三", "hash")
    store.triage(row.id, "dismiss", "误报", reviewer.id)  # the new tables work with the old rows
    assert [entry.decision for entry in store.triage_history(row.id)] == ["dismiss"]
    store.dispose()


def test_upgrade_from_0003_keeps_the_reviewers_and_opens_sessions(storage_url: str) -> None:
    store = Store(storage_url)
    store.upgrade("0003")
    with store.engine.begin() as connection:  # a reviewer as revision 0003 wrote it
        connection.execute(
            insert(ReviewerRecord.__table__).values(name="张三", password_hash="hash", created_at=utcnow())  # type: ignore[attr-defined]
        )
    store.upgrade()
    reviewer = store.reviewer("张三")
    assert reviewer is not None
    assert store.revision() == HEAD and "web_sessions" in tables(store)
    store.open_web_session("a" * 64, reviewer.id)
    assert store.web_session("a" * 64, timedelta(hours=1)) == reviewer
    assert (
        store.close_web_sessions(reviewer_id=reviewer.id) == 1
        and store.web_session("a" * 64, timedelta(hours=1)) is None
    )
    store.dispose()
