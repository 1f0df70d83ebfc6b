"""The store on SQLite and on PostgreSQL: versions, carried-forward and resolved findings, identities, queries,
the ledger and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, func, select

from nianbao.cli import main
from nianbao.judge import check_files
from nianbao.settings import Settings
from report.model import Finding, Report
from storage import AmbiguousOrganization, SaveResult, SchemaNotCurrent, Store, StoreError, finding_fingerprints
from storage.outbox import OUTBOX_MAX_ATTEMPTS
from storage.tables import FindingRecord, OrganizationRecord, VersionRecord
from tests.seed_samples import seed_path
from tests.storage_samples import judged, seed, variant

T2022, T2023, T2023_CORRECTED, T2024 = (datetime(year, month, 20, 9, tzinfo=UTC) for year, month in
                                        ((2023, 1), (2024, 1), (2024, 3), (2025, 1)))  # fmt: skip


def keys(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((finding.rule, finding.location) for finding in findings)


def count(store: Store, record: type) -> int:
    with Session(store.engine) as session:
        return session.exec(select(func.count()).select_from(record)).one()


def save_series(store: Store) -> dict[str, tuple[Report, SaveResult]]:
    """白鹤镇人民政府（房县）: 2022 → 2023 → 2023 corrected → 2024, each judged against what is stored."""
    base = seed("002")
    saved: dict[str, tuple[Report, SaveResult]] = {}

    def store_one(label: str, report: Report, when: datetime) -> None:
        judged(report, store.earlier_reports(report))
        saved[label] = (report, store.save(report, received_at=when))

    store_one("2022", variant(base, "2022", year=2022), T2022)
    store_one("2023", variant(base, "2023", year=2023), T2023)
    corrected = variant(base, "2023-corrected", year=2023)
    assert corrected.tables.active and corrected.tables.requests and corrected.tables.appeals
    corrected.tables.active.regulations.issued = corrected.tables.active.regulations.in_force = 0
    corrected.tables.requests["total"][5] = corrected.tables.requests["total"][6] = 0
    corrected.tables.appeals.review.total = 5
    store_one("2023-corrected", corrected, T2023_CORRECTED)
    following = variant(corrected, "2024", year=2024)
    assert following.tables.appeals
    following.tables.appeals.review.total = 0
    store_one("2024", following, T2024)
    return saved


def test_series_versions_carried_forward_and_resolved_findings(store: Store) -> None:
    saved = save_series(store)
    first, second, corrected, following = (saved[label][1] for label in ("2022", "2023", "2023-corrected", "2024"))
    assert all(result.created for result in (first, second, corrected, following))
    assert keys(first.new_findings) == keys(saved["2022"][0].findings)
    assert len(second.new_findings) == 11 and second.previous_version_id is None

    # The corrected 2023 supersedes the first 2023; what it fixed is resolved, what it added is new.
    assert corrected.previous_version_id == second.version_id
    assert keys(corrected.resolved_findings) == [
        ("regulations.ineligible_issuer", "二/规章/本年制发件数"),
        ("regulations.ineligible_issuer", "二/规章/现行有效件数"),
        ("requests.balance", "三/（七）总计/其他"),
        ("requests.balance", "三/（七）总计/总计"),
        ("requests.total_row", "三/（七）总计/其他"),
        ("requests.total_row", "三/（七）总计/总计"),
        ("tables.copied_from_prior_year", "二、三、四"),
    ]
    assert keys(corrected.new_findings) == [
        ("appeals.totals", "四/行政复议/总计"),
        ("appeals.without_requests", "四/行政复议/总计"),
        ("narrative.contradicts_table", "四/行政复议/总计"),
        ("report.revised_after_publication", "报告版本"),
    ]
    assert keys(following.new_findings) == [
        ("narrative.copied_from_prior_year", "一"),
        ("narrative.copied_from_prior_year", "五"),
        ("narrative.missing_topics", "一"),
    ]

    versions = store.versions("白鹤镇", "房县")
    assert [(version.year, version.superseded_by) for version in versions] == [
        (2022, None),
        (2023, corrected.version_id),
        (2023, None),
        (2024, None),
    ]

    # 2023's findings: one row per fingerprint over both versions (11 + 4 new), never duplicated.
    rows = store.findings(year=2023, organization="白鹤镇人民政府", region="房县")
    assert len(rows) == 15 and len({(row.rule, row.location, row.message) for row in rows}) == 15
    carried = {row.rule: row for row in rows if row.status == "pending" and row.first_seen == T2023}
    assert sorted(carried) == [
        "narrative.copied_from_prior_year",
        "narrative.missing_topics",
        "regulations.in_force_continuity",
    ]
    assert all(
        row.last_seen == T2023_CORRECTED and row.last_version_id == corrected.version_id for row in carried.values()
    )
    # A carried finding reads as the latest version words it.
    continuity = {
        label: next(f.message for f in saved[label][0].findings if f.rule == "regulations.in_force_continuity")
        for label in ("2023", "2023-corrected")
    }
    assert continuity["2023"] != continuity["2023-corrected"]
    assert carried["regulations.in_force_continuity"].message == continuity["2023-corrected"]
    resolved = [row for row in rows if row.status == "resolved"]
    assert len(resolved) == 7 and {row.resolved_at for row in resolved} == {T2023_CORRECTED}
    assert {row.last_seen for row in resolved} == {T2023}
    assert {row.rule_version for row in rows} == {1}

    # Read back later, a version's changes are what its save returned.
    changes = store.version_changes(corrected.version_id)
    assert (keys(changes[0]), keys(changes[1])) == (keys(corrected.new_findings), keys(corrected.resolved_findings))
    assert keys(store.version_changes(second.version_id)[0]) == keys(second.new_findings)

    # The earlier years the 2024 report was judged against: the corrected 2023, then 2022.
    assert [(report.year, report.source.sha256) for report in store.earlier_reports(saved["2024"][0])] == [
        (2023, saved["2023-corrected"][0].source.sha256),
        (2022, saved["2022"][0].source.sha256),
    ]


def test_series_history(store: Store) -> None:
    save_series(store)
    assert (2022, "regulations.ineligible_issuer", "fired") in store.history("白鹤镇人民政府", "房县")
    history = dict(((year, rule), status) for year, rule, status in store.history("白鹤镇", "房县"))
    assert history[(2023, "regulations.ineligible_issuer")] == "fixed"
    assert history[(2023, "appeals.totals")] == "fired"
    assert (2024, "appeals.totals") not in history

    run = CliRunner().invoke(main, ["history", "白鹤镇人民政府", "--region", "房县", "--db", store.url])
    assert run.exit_code == 0, run.output
    table = {
        line.split()[0]: line.split()[1:] for line in run.output.splitlines() if line.split() and "." in line.split()[0]
    }
    assert table == {
        "appeals.totals": ["·", "✗", "✓"],
        "appeals.without_requests": ["·", "✗", "✓"],
        "narrative.contradicts_table": ["·", "✗", "✓"],
        "narrative.copied_from_prior_year": ["·", "✗", "✗"],
        "narrative.missing_topics": ["✗", "✗", "✗"],
        "regulations.in_force_continuity": ["·", "✗", "✓"],
        "regulations.ineligible_issuer": ["✗", "✓", "✓"],
        "requests.balance": ["✗", "✓", "✓"],
        "requests.total_row": ["✗", "✓", "✓"],
        "report.revised_after_publication": ["·", "✗", "✓"],
        "tables.copied_from_prior_year": ["·", "✓", "✓"],
    }
    assert "白鹤镇人民政府（房县）：3 个年度，4 个版本" in run.output
    assert "2023 年度：2 个版本" in run.output
    assert "2022 → 2023 年表格变化（5 处）：" in run.output
    assert "  二/规章/本年制发件数：2 → 0" in run.output
    assert "  四/行政复议/总计：5 → 0" in run.output


def test_same_bytes_twice_are_one_version(store: Store) -> None:
    report = judged(seed("002"))
    first = store.save(report)
    again = store.save(report.model_copy(deep=True))
    assert first.created and not again.created
    assert again.version_id == first.version_id and again.new_findings == again.resolved_findings == []
    assert count(store, VersionRecord) == 1 and count(store, FindingRecord) == len(report.findings)


def test_resaving_an_old_version_changes_nothing(store: Store) -> None:
    saved = save_series(store)
    before = store.findings()
    assert not store.save(saved["2023"][0]).created
    assert store.findings() == before
    assert store.versions("白鹤镇", "房县")[1].superseded_by is not None


def test_report_round_trips_with_evidence(store: Store) -> None:
    for prefix in ("000", "001", "002", "003", "004"):
        report = judged(seed(prefix))
        stored = store.report(store.save(report).version_id)
        assert stored == report
        assert (
            stored is not None and stored.evidence == report.evidence and stored.to_contract() == report.to_contract()
        )


def test_received_at_is_aware_utc(store: Store) -> None:
    report = judged(seed("002"))
    beijing = timezone(timedelta(hours=8))
    store.save(report, received_at=datetime(2024, 1, 21, 1, 0, tzinfo=beijing))
    (version,) = store.versions("白鹤镇", "房县")
    assert version.received_at == datetime(2024, 1, 20, 17, 0, tzinfo=UTC) and version.received_at.tzinfo == UTC


def test_organization_identity_is_name_key_and_region(store: Store) -> None:
    base = judged(seed("000"))  # 白鹤镇人民政府, no region
    store.save(base)
    store.save(judged(variant(base, "short-name", year=2023, name="白鹤镇")))  # same body, no region either
    store.save(judged(variant(base, "fangxian", name="白鹤镇人民政府", region="房县")))
    assert store.known_identities() == {("白鹤镇", None), ("白鹤镇", "房县")}
    assert store.known_identities({"白桦乡"}) == set()
    assert count(store, OrganizationRecord) == 2
    assert [version.year for version in store.versions("白鹤镇", "")] == [2022, 2023]
    with pytest.raises(AmbiguousOrganization, match="房县"):
        store.history("白鹤镇")
    # Earlier years come from the same region only.
    later = variant(base, "later", year=2024, region="房县")
    assert [report.year for report in store.earlier_reports(later)] == [2022]
    assert [report.source.sha256 for report in store.earlier_reports(later)] == [
        variant(base, "fangxian").source.sha256
    ]


def test_reports_without_organization_are_never_matched(store: Store) -> None:
    nameless = judged(seed("001"))
    assert nameless.organization.name is None
    store.save(nameless)
    other = judged(variant(nameless, "nameless-corrected"))
    result = store.save(other)
    assert result.created and result.previous_version_id is None  # a version of nothing: no supersession
    assert store.known_identities() == set()
    assert store.earlier_reports(variant(nameless, "nameless-later", year=2023)) == []
    assert {row.organization for row in store.findings()} == {None}
    assert {row.year for row in store.findings()} == {2022}  # the year it states, as `check` shows it
    assert count(store, OrganizationRecord) == 0


def test_reports_named_and_check_with_db(store: Store, tmp_path: Path) -> None:
    file_2023 = tmp_path / "2023.txt"
    file_2023.write_bytes(seed_path("002").read_bytes())  # 白鹤镇人民政府（房县） 2023
    earlier = judged(variant(seed("002"), "stored-2022", year=2022))
    store.save(earlier)
    store.save(judged(seed("003")))  # 白桦乡: another name
    assert [report.year for report in store.reports_named({"白鹤镇"})] == [2022]
    (checked,) = check_files([file_2023], Settings(), database_url=store.url)
    assert checked.compared_with is not None and checked.compared_with.year == 2022
    assert "narrative.copied_from_prior_year" in {finding.rule for finding in checked.findings}


def test_findings_filters(store: Store) -> None:
    save_series(store)
    store.save(judged(seed("003")))  # 白桦乡人民政府（加格达奇区） 2022
    everything = store.findings()
    assert {row.region for row in everything} == {"房县", "加格达奇区"}
    assert {row.rule for row in store.findings(rule="requests.balance")} == {"requests.balance"}
    assert {row.organization for row in store.findings(region="加格达奇区")} == {"白桦乡人民政府"}
    assert {row.year for row in store.findings(year=2024)} == {2024}
    assert {row.severity for row in store.findings(severity="error")} == {"error"}
    still_open = store.findings(open_only=True)
    assert still_open and all(row.resolved_at is None for row in still_open)
    assert len(still_open) == len(everything) - 7
    assert len(store.findings(limit=3)) == 3
    regions = [row.region for row in everything]
    assert regions == sorted(regions)  # sorted by region, then organization, year, rule


def test_fingerprints_tell_same_rule_findings_apart() -> None:
    nameless = judged(seed("001"))
    topics = [finding for finding in nameless.findings if finding.rule == "narrative.missing_topics"]
    assert len(topics) > 1 and len(set(finding_fingerprints(topics))) == len(topics)
    twins = [Finding(rule="x", severity="info", message="m", location="一")] * 2
    assert len(set(finding_fingerprints(twins))) == 2
    # A changed value in the same cells is the same finding.
    moved = Finding(rule="r", severity="error", message="a", location="l", cells=["b", "a"], expected=1, actual=2)
    same = moved.model_copy(update={"cells": ["a", "b"], "expected": 3, "message": "b"})
    assert finding_fingerprints([moved]) == finding_fingerprints([same])


def test_unreadable_report_is_refused(store: Store) -> None:
    report = judged(seed("002"))
    report.source.sha256 = ""
    with pytest.raises(StoreError):
        store.save(report)


def test_store_on_a_database_never_upgraded(storage_url: str) -> None:
    store = Store(storage_url)
    with pytest.raises(SchemaNotCurrent, match="nianbao db upgrade"):
        store.findings()
    store.upgrade()
    assert store.findings() == []


def test_ledger(store: Store) -> None:
    entry = store.ledger_seen("/share/a.pdf", "1" * 64, 100)
    assert (entry.state, entry.attempts, entry.size) == ("new", 0, 100)
    store.ledger_mark("/share/a.pdf", "1" * 64, "queued")
    assert store.ledger_seen("/share/a.pdf", "1" * 64, 100).state == "queued"  # seen again: its state as it is
    store.ledger_mark("/share/a.pdf", "1" * 64, "processing")
    processing = store.ledger_mark("/share/a.pdf", "1" * 64, "processing")
    assert processing.attempts == 2
    assert [item.path for item in store.ledger_stale(timedelta(0), max_attempts=3)] == ["/share/a.pdf"]
    assert store.ledger_stale(timedelta(0), max_attempts=2) == []
    assert store.ledger_stale(timedelta(hours=1), max_attempts=3) == []
    # A claim (`processing`) younger than `claims_older_than` may still be running: not stale, unlike a queued entry.
    store.ledger_mark("/share/b.pdf", "3" * 64, "queued")
    assert [item.path for item in store.ledger_stale(timedelta(0), 3, timedelta(hours=1))] == ["/share/b.pdf"]
    assert [item.path for item in store.ledger_stale(timedelta(0), 3, timedelta(0))] == ["/share/a.pdf", "/share/b.pdf"]
    store.ledger_mark("/share/b.pdf", "3" * 64, "failed", error="测试")
    version_id = store.save(judged(seed("002"))).version_id
    stored = store.ledger_mark("/share/a.pdf", "1" * 64, "stored", version_id=version_id)
    assert (stored.state, stored.version_id, stored.error) == ("stored", version_id, None)
    assert store.ledger_stale(timedelta(0), max_attempts=3) == []
    # New content at the same path: a new entry, the latest for the path.
    store.ledger_seen("/share/a.pdf", "2" * 64, 120)
    failed = store.ledger_mark("/share/a.pdf", "2" * 64, "failed", error="文件已损坏")
    latest = store.ledger_entry("/share/a.pdf")
    assert latest == failed and latest is not None and (latest.sha256, latest.error) == ("2" * 64, "文件已损坏")
    assert store.ledger_entry("/share/none.pdf") is None
    marked_unseen = store.ledger_mark("/share/b.pdf", "3" * 64, "processing")
    assert (marked_unseen.state, marked_unseen.attempts, marked_unseen.size) == ("processing", 1, None)
    with pytest.raises(ValueError):
        store.ledger_mark("/share/a.pdf", "1" * 64, "done")


def test_reconciliation_requeues_stale_entries_and_leaves_live_claims_alone(store: Store) -> None:
    store.ledger_mark("/share/lost.pdf", "1" * 64, "queued")  # its message lost
    store.ledger_mark("/share/running.pdf", "2" * 64, "processing")  # a worker on it
    for _ in range(3):
        store.ledger_mark("/share/hopeless.pdf", "3" * 64, "processing")  # three workers died on it
    queued, failed = store.ledger_requeue(timedelta(0), timedelta(hours=1), 3, lambda attempts: f"{attempts} 次")
    assert [entry.path for entry in queued] == ["/share/lost.pdf"] and failed == []  # claims that young may run
    assert store.ledger_entry("/share/running.pdf").state == "processing"  # type: ignore[union-attr]
    queued, failed = store.ledger_requeue(timedelta(0), timedelta(0), 3, lambda attempts: f"{attempts} 次")
    assert sorted(entry.path for entry in queued) == ["/share/lost.pdf", "/share/running.pdf"]
    assert [entry.path for entry in failed] == ["/share/hopeless.pdf"]
    hopeless = store.ledger_entry("/share/hopeless.pdf")
    assert hopeless is not None and (hopeless.state, hopeless.error) == ("failed", "3 次")
    assert {store.ledger_entry(path).state for path in ("/share/lost.pdf", "/share/running.pdf")} == {"queued"}  # type: ignore[union-attr]


NO_WAIT = timedelta(0)


def test_outbox_items_go_out_in_digests_per_target(store: Store) -> None:
    version_id = store.save(judged(seed("002"))).version_id
    item_id = store.outbox_add(version_id, "白鹤镇 2023 年度报告：7 项新发现", "…", ["房县", "error"], kind="new:t1")
    assert store.outbox_add(version_id, "again", "…", [], kind="new:t1") == item_id  # one per (version, kind)
    other_kind = store.outbox_add(version_id, "更正", "…", [], kind="resolved:t1")
    elsewhere = store.outbox_add(version_id, "t", "b", [], kind="new:t2")
    assert store.alert_targets_add(["t1", "t2"]) == ["t1", "t2"] and store.alert_targets_add(["t1"]) == []
    gaps = {"t1": timedelta(minutes=1), "t2": timedelta(minutes=1)}
    first = store.digest_claim(gaps, NO_WAIT)
    second = store.digest_claim(gaps, NO_WAIT)
    assert first is not None and second is not None and store.digest_claim(gaps, NO_WAIT) is None
    assert first.target == "t1" and [item.id for item in first.items] == [item_id, other_kind]
    assert first.items[0].tags == ["房县", "error"] and [item.id for item in second.items] == [elsewhere]
    assert first.key != second.key and len(first.key) == 32
    # A new item for t1 waits: t1's digest is not sent yet, and its next message is a minute away.
    later = store.outbox_add(store.save(judged(variant(seed("002"), "v2"))).version_id, "t", "b", [], kind="new:t1")
    assert store.digest_claim(gaps, NO_WAIT) is None
    due = store.digest_next_due(["t1"], NO_WAIT)
    assert due is not None and due.target == "t1" and due.when > datetime.now(UTC) + timedelta(seconds=50)
    assert not due.scheduled(datetime.now(UTC))
    assert store.digest_wake(due.target, due.when) and not store.digest_wake(due.target, due.when)  # one pass
    again = store.digest_next_due(["t1"], NO_WAIT)
    assert again is not None and again.scheduled(datetime.now(UTC))
    store.digest_mark(first.id, sent=False, error="connection refused")
    failed = store.digest(first.id)
    assert failed is not None
    assert (failed.state, failed.attempts, failed.last_error) == ("failed", 1, "connection refused")
    assert [(item.state, item.attempts, item.last_error) for item in failed.items] == [
        ("failed", 1, "connection refused")
    ] * 2
    store.digest_mark(second.id, sent=True)
    sent = store.digest(second.id)
    assert sent is not None
    assert sent.state == "sent" and sent.sent_at is not None and sent.items[0].state == "sent"
    for _ in range(OUTBOX_MAX_ATTEMPTS - 1):
        store.digest_mark(first.id, sent=False, error="still down")
    last = store.digest(first.id)
    assert last is not None
    assert last.state == "abandoned" and last.attempts == OUTBOX_MAX_ATTEMPTS
    attempts = store.notifications(item_id)
    assert len(attempts) == OUTBOX_MAX_ATTEMPTS and not any(ok for _, ok, _ in attempts)
    assert store.notifications(elsewhere)[0][1] is True
    assert store.outbox_item(item_id) == last.items[0] and store.outbox_item(later).digest_id is None  # type: ignore[union-attr]


def test_the_backoff_of_a_refused_digest_is_given_by_the_caller(store: Store) -> None:
    item_id = store.outbox_add(None, "报告逾期未发布", "…", [], kind="report.overdue:t1")
    store.alert_targets_add(["t1"])
    digest = store.digest_claim({"t1": NO_WAIT}, NO_WAIT)
    assert digest is not None and [item.id for item in digest.items] == [item_id]
    backoff = {"first_backoff": timedelta(seconds=2), "max_backoff": timedelta(seconds=3)}
    store.digest_mark(digest.id, sent=False, error="down", **backoff)
    first = store.outbox_item(item_id)
    assert first is not None and timedelta(0) < first.next_attempt_at - datetime.now(UTC) <= timedelta(seconds=2)
    store.digest_mark(digest.id, sent=False, error="down", **backoff)
    second = store.outbox_item(item_id)
    assert second is not None  # 4 s, capped at 3
    assert timedelta(seconds=2) < second.next_attempt_at - datetime.now(UTC) <= timedelta(seconds=3)


def test_an_outbox_target_is_matched_exactly(store: Store) -> None:
    version_id = store.save(judged(seed("002"))).version_id
    store.outbox_add(version_id, "t", "b", [], kind="new:wecom_1")
    up = store.outbox_add(version_id, "t", "b", [], kind="new:wecom11")
    store.alert_targets_add(["wecom11", "%"])
    # `_` and `%` are LIKE wildcards: target "wecom11" must not take "wecom_1"'s item, nor "%" every item
    claimed = store.digest_claim({"wecom11": NO_WAIT, "%": NO_WAIT}, NO_WAIT)
    assert claimed is not None and [item.id for item in claimed.items] == [up]
    assert store.digest_claim({"wecom11": NO_WAIT, "%": NO_WAIT}, NO_WAIT) is None


def test_a_digest_whose_sender_died_comes_due_again_with_its_key(store: Store) -> None:
    version_id = store.save(judged(seed("002"))).version_id
    item_id = store.outbox_add(version_id, "t", "b", [], kind="new:t1")
    store.alert_targets_add(["t1"])
    claimed = store.digest_claim({"t1": NO_WAIT}, NO_WAIT, lease=timedelta(0))
    again = store.digest_claim({"t1": NO_WAIT}, NO_WAIT)  # the sender died before digest_mark: due again
    assert claimed is not None and again is not None and (again.id, again.key) == (claimed.id, claimed.key)
    assert [item.id for item in again.items] == [item_id]


def test_the_same_content_with_a_folder_region_moves_to_that_region(store: Store) -> None:
    loose = judged(seed("000"))  # 白鹤镇人民政府 2022, no region
    first = store.save(loose)
    placed = loose.model_copy(deep=True)
    placed.organization.region = placed.evidence.folder_region = "房县"
    again = store.save(placed)
    assert not again.created and again.version_id == first.version_id
    assert store.known_identities({"白鹤镇"}) == {("白鹤镇", "房县")}
    assert {row.region for row in store.findings()} == {"房县"}
    moved = store.report(first.version_id)
    assert moved is not None and moved.organization.region == "房县"
    # A body of that region that has the year already keeps its own report: nothing is merged.
    other = judged(variant(seed("000"), "other-2022"))
    store.save(other)
    store.save(other.model_copy(update={"organization": placed.organization, "evidence": placed.evidence}))
    assert {row.region for row in store.findings() if row.source_path == other.source.path} == {None}
