"""The worker's processing of one file, without a broker: ledger states, idempotence, bad files, transient
errors, bounded attempts and reconciliation (the Celery tasks call exactly these functions)."""

from __future__ import annotations

import logging
import random
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from nianbao.judge import judge, read_report
from nianbao.settings import Settings
from report.extract import sha256_of
from report.model import Finding, Report
from storage import BatchSave, OutboxDraft, Store
from storage.evidence import Evidence, EvidenceChanged, EvidenceNotWritten
from storage.tables import OutboxRecord, utcnow
from tests import generator
from tests.seed_samples import seed_path
from tests.services import Receiver
from worker.notify import load_targets
from worker.startup import NO_TARGETS, summary
from worker.tasks import ShareUnavailable, process, process_batch, reconcile_once

SEED = seed_path("002")  # 房县 白鹤镇人民政府 2023: seven findings, errors among them


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'nianbao.db'}")
    yield opened
    opened.dispose()


@pytest.fixture
def share(tmp_path: Path) -> Path:
    folder = tmp_path / "share"
    folder.mkdir()
    return folder


def outbox(store: Store) -> list[OutboxRecord]:
    with Session(store.engine) as session:
        return list(session.exec(select(OutboxRecord).order_by(OutboxRecord.id)))


def dropped(share: Path, source: Path = SEED, name: str | None = None) -> tuple[str, str]:
    target = share / (name or source.name)
    shutil.copy(source, target)
    return str(target), sha256_of(target)


def test_a_report_is_stored_and_its_alert_queued_once_per_matching_target(
    sqlite_store: Store, share: Path, tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="worker.tasks")
    settings = Settings(
        data_dir=tmp_path,
        notify_urls=[receiver.url + "all", f"error={receiver.url}errors", f"孟津区={receiver.url}mengjin"],
    )
    targets = load_targets(settings)
    path, sha256 = dropped(share)
    outcome = process(sqlite_store, settings, targets, path, sha256, str(share))
    assert outcome.state == "stored" and outcome.alerts == 2
    entry = sqlite_store.ledger_entry(path)
    assert entry is not None and (entry.state, entry.attempts, entry.version_id) == ("stored", 1, outcome.version_id)
    items = outbox(sqlite_store)
    assert len(items) == 2  # untagged target and the error group; not the other region's group
    assert {tuple(item.tags) for item in items} == {("new", "error", "info", "房县")}
    assert "白鹤镇人民政府" in items[0].title and "2023" in items[0].title
    # The run log names the body, the year and the findings.
    assert (
        f"已入库 白鹤镇人民政府（房县） 2023 年度：7 项发现，新发现 7（版本 #{outcome.version_id}，{path}）"
        in caplog.messages
    )
    # The same delivery again (a redelivered message) finds the ledger entry stored and does nothing.
    again = process(sqlite_store, settings, targets, path, sha256, str(share))
    assert (again.state, again.alerts) == ("stored", 0)
    # The same bytes under another name are the same version: stored, no new alert.
    copy_path, copy_sha = dropped(share, name="copy.txt")
    copied = process(sqlite_store, settings, targets, copy_path, copy_sha, str(share))
    assert copied.state == "stored" and copied.version_id == outcome.version_id
    assert len(outbox(sqlite_store)) == 2


def test_a_worker_that_died_after_saving_queues_the_alert_when_the_file_comes_again(
    sqlite_store: Store, share: Path, tmp_path: Path, receiver: Receiver
) -> None:
    settings = Settings(data_dir=tmp_path, notify_urls=[receiver.url])
    path, sha256 = dropped(share)
    sqlite_store.ledger_mark(path, sha256, "processing")
    report = read_report(Path(path), settings, share)
    saved = sqlite_store.save(judge(report, [], settings))  # the worker was killed right after this
    assert saved.created and saved.new_findings and outbox(sqlite_store) == []
    outcome = process(sqlite_store, settings, load_targets(settings), path, sha256, str(share))
    assert (outcome.state, outcome.version_id, outcome.alerts) == ("stored", saved.version_id, 1)
    (item,) = outbox(sqlite_store)
    assert item.body.count("规则：") == len(saved.new_findings)


def test_an_unreadable_file_fails_with_its_reason_and_is_not_stored(
    sqlite_store: Store, share: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="worker.tasks")
    settings = Settings(data_dir=tmp_path)
    broken = share / "扫描件.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    random_docx = share / "随机.docx"
    random_docx.write_bytes(random.Random(16).randbytes(3000))
    reasons = {}
    for bad in (broken, random_docx):
        outcome = process(sqlite_store, settings, {}, str(bad), sha256_of(bad), str(share))
        assert (outcome.state, outcome.version_id, outcome.alerts) == ("failed", None, 0)
        entry = sqlite_store.ledger_entry(str(bad))
        assert entry is not None and entry.state == "failed"
        reasons[bad.name] = entry.error or ""
    assert "PDF" in reasons["扫描件.pdf"] and "docx" in reasons["随机.docx"]
    assert f"未能处理 {random_docx}：{reasons['随机.docx']}" in caplog.messages
    assert sqlite_store.findings() == [] and outbox(sqlite_store) == []


def test_a_vanished_or_rewritten_file_fails_with_its_reason(sqlite_store: Store, share: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    path, sha256 = dropped(share)
    Path(path).write_text("rewritten before a worker got to it", encoding="utf-8")
    assert process(sqlite_store, settings, {}, path, sha256, str(share)).state == "failed"
    entry = sqlite_store.ledger_entry(path)
    assert entry is not None and "改写" in (entry.error or "")
    Path(path).unlink()
    gone_sha = "0" * 64
    assert process(sqlite_store, settings, {}, path, gone_sha, str(share)).state == "failed"
    entry = sqlite_store.ledger_entry(path)
    assert entry is not None and entry.sha256 == gone_sha and "不存在" in (entry.error or "")


def test_an_unreachable_share_is_transient(sqlite_store: Store, share: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    path, sha256 = dropped(share)
    sqlite_store.ledger_take([(path, sha256, None)])  # the watcher took it
    with pytest.raises(ShareUnavailable):
        process(sqlite_store, settings, {}, path, sha256, str(tmp_path / "unmounted"))
    entry = sqlite_store.ledger_entry(path)
    assert entry is not None and (entry.state, entry.attempts) == ("queued", 0)  # no attempt spent


def test_a_file_that_keeps_killing_its_worker_is_given_up(sqlite_store: Store, share: Path, tmp_path: Path) -> None:
    # Each death noticed at once: no claim is taken for one that may still be running.
    settings = Settings(data_dir=tmp_path, max_attempts=3, reconcile_after=0, task_time_limit=0)
    path, sha256 = dropped(share)
    for _ in range(3):
        sqlite_store.ledger_mark(path, sha256, "processing")  # three workers died on it
    assert process(sqlite_store, settings, {}, path, sha256, str(share)).state == "failed"
    entry = sqlite_store.ledger_entry(path)
    assert entry is not None and "不再重试" in (entry.error or "")


def test_reconciliation_enqueues_what_was_seen_but_not_stored(sqlite_store: Store, share: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, reconcile_after=0, task_time_limit=0, max_attempts=2)
    lost, lost_sha = dropped(share, name="lost.txt")
    sqlite_store.ledger_seen(lost, lost_sha, None)
    sqlite_store.ledger_mark(lost, lost_sha, "queued")  # its message was lost
    hopeless, hopeless_sha = dropped(share, seed_path("000"))
    for _ in range(2):
        sqlite_store.ledger_mark(hopeless, hopeless_sha, "processing")
    done, done_sha = dropped(share, seed_path("004"))
    sqlite_store.ledger_mark(done, done_sha, "stored")
    enqueued: list[tuple[list[tuple[str, str]], str | None]] = []
    result = reconcile_once(sqlite_store, settings, share, lambda items, root: enqueued.append((list(items), root)))
    assert (result.requeued, result.failed) == (1, 1)
    assert enqueued == [([(lost, lost_sha)], str(share))]
    assert sqlite_store.ledger_entry(hopeless).state == "failed"  # type: ignore[union-attr]
    assert sqlite_store.ledger_stale(timedelta(hours=1), 10) == []  # the re-enqueued one was refreshed


def test_a_file_still_being_processed_is_not_enqueued_again_nor_its_attempt_counted_twice(
    sqlite_store: Store, share: Path, tmp_path: Path
) -> None:
    """A batch that takes longer than `reconcile_after` (a loaded machine) is not taken for lost while its task may
    still run (`task_time_limit`): reconciliation leaves it alone, and a duplicate message claimed meanwhile spends
    no attempt. Once the claim is older than the time limit too, its worker is gone: enqueued again."""
    settings = Settings(data_dir=tmp_path, reconcile_after=0, task_time_limit=3600, max_attempts=5)
    lost, lost_sha = dropped(share, name="lost.txt")
    sqlite_store.ledger_take([(lost, lost_sha, None)])  # queued; its message lost
    running, running_sha = dropped(share, seed_path("004"), name="running.txt")
    sqlite_store.ledger_take([(running, running_sha, None)])
    (claimed,) = sqlite_store.ledger_claim([(running, running_sha)], settings.max_attempts)  # a worker on it
    assert (claimed.state, claimed.attempts) == ("processing", 1)
    enqueued: list[list[tuple[str, str]]] = []
    result = reconcile_once(sqlite_store, settings, share, lambda items, _root: enqueued.append(list(items)))
    assert (result.requeued, enqueued) == (1, [[(lost, lost_sha)]])
    # A duplicate of the running batch's message (enqueued before the claim) is processed as a duplicate.
    assert process(sqlite_store, settings, {}, running, running_sha, str(share)).state == "stored"
    entry = sqlite_store.ledger_entry(running)
    assert entry is not None and entry.attempts == 1
    # A claim older than the time limit: its task was killed, so the file is enqueued again.
    dead, dead_sha = dropped(share, seed_path("003"), name="dead.txt")
    sqlite_store.ledger_take([(dead, dead_sha, None)])
    sqlite_store.ledger_claim([(dead, dead_sha)], settings.max_attempts)
    enqueued.clear()
    expired = settings.model_copy(update={"task_time_limit": 0})
    assert reconcile_once(sqlite_store, expired, share, lambda items, _root: enqueued.append(list(items))).requeued == 2
    assert sorted(enqueued[0]) == sorted([(lost, lost_sha), (dead, dead_sha)])


# -- batches ----------------------------------------------------------------------------------------------------


def series_files(share: Path, seed: int) -> tuple[list[tuple[str, str]], set[str]]:
    """A body's 2022 and 2023 reports, the 2023 one with a cross-year defect; (path, sha256) each, and the rule
    ids the defect must raise."""
    rng = random.Random(seed)
    series = generator.make_series(rng, (2022, 2023), organization=generator.make_organization(rng, "township"))
    planted, expected = generator.plant_series(series, "requests.carry_over_continuity", rng)
    items = []
    for truth in planted:
        target = share / f"{seed}-{truth.year}.txt"
        target.write_bytes(generator.render("spaces", truth, rng))
        items.append((str(target), sha256_of(target)))
    return items, set(expected.rules)


def rules_of(store: Store, version_id: int | None) -> set[str]:
    assert version_id is not None
    report = store.report(version_id)
    assert report is not None
    return {finding.rule for finding in report.findings}


def test_a_batch_is_claimed_and_saved_in_two_transactions_and_bad_files_fail_alone(
    sqlite_store: Store, share: Path, tmp_path: Path, receiver: Receiver
) -> None:
    settings = Settings(data_dir=tmp_path, notify_urls=[receiver.url])
    series, cross_year = series_files(share, 1)
    rewritten = share / "rewritten.txt"
    rewritten.write_text("2023 年度报告", encoding="utf-8")
    rewritten_sha = sha256_of(rewritten)
    rewritten.write_text("2023 年度报告（改写）", encoding="utf-8")
    vanished = (str(share / "vanished.txt"), "0" * 64)
    items = [*series, (str(rewritten), rewritten_sha), vanished]
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(sqlite_store.engine, "commit", committed)
    outcomes = process_batch(sqlite_store, settings, load_targets(settings), items, str(share))
    event.remove(sqlite_store.engine, "commit", committed)
    assert [outcome.state for outcome in outcomes] == ["stored", "stored", "failed", "failed"]
    assert len(commits) == 2  # the claim and the save, whatever the batch's size
    # The 2023 report was judged against its 2022 batch-mate: the cross-year rule fired.
    assert cross_year <= rules_of(sqlite_store, outcomes[1].version_id)
    assert "改写" in (sqlite_store.ledger_entry(str(rewritten)).error or "")  # type: ignore[union-attr]
    assert "不存在" in (sqlite_store.ledger_entry(vanished[0]).error or "")  # type: ignore[union-attr]
    assert [outcome.alerts for outcome in outcomes] == [0, 1, 0, 0] and len(outbox(sqlite_store)) == 1  # 2022 is clean
    # The same batch again (a redelivered task) changes nothing.
    again = process_batch(sqlite_store, settings, load_targets(settings), items, str(share))
    assert [(o.state, o.alerts, o.version_id) for o in again] == [(o.state, 0, o.version_id) for o in outcomes]
    assert len(outbox(sqlite_store)) == 1


def test_earlier_years_come_from_storage_for_a_later_batch(sqlite_store: Store, share: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    (earlier, later), cross_year = series_files(share, 2)
    assert process_batch(sqlite_store, settings, {}, [earlier], str(share))[0].state == "stored"
    (outcome,) = process_batch(sqlite_store, settings, {}, [later], str(share))
    assert outcome.state == "stored" and cross_year <= rules_of(sqlite_store, outcome.version_id)


def test_a_report_whose_save_fails_is_failed_alone_and_leaves_nothing_behind(
    sqlite_store: Store, share: Path, tmp_path: Path
) -> None:
    """A defect while saving one report of a batch (here: building its alert) rolls back that report only."""
    settings = Settings(data_dir=tmp_path)
    (first, second), _ = series_files(share, 3)
    saves = []
    for path, sha256 in (first, second):
        sqlite_store.ledger_claim([(path, sha256)], settings.max_attempts)
        report = judge(read_report(Path(path), settings, share), [], settings)
        saves.append(BatchSave(path, sha256, report, utcnow()))

    def alerts(report: Report, new: list[Finding], resolved: list[Finding]) -> list[OutboxDraft]:
        if report.year == 2022:
            raise ValueError("a defect in the message template")
        return [OutboxDraft("new:test", "title", "body", ("new",))]

    outcomes = {Path(o.path).name: o for o in sqlite_store.save_batch(saves, [], alerts)}
    assert outcomes["3-2022.txt"].state == "failed" and "ValueError" in (outcomes["3-2022.txt"].error or "")
    assert (outcomes["3-2023.txt"].state, outcomes["3-2023.txt"].alerts) == ("stored", 1)
    assert sqlite_store.version_id(first[1]) is None  # rolled back: no version, no findings of it
    assert sqlite_store.ledger_entry(first[0]).state == "failed"  # type: ignore[union-attr]
    assert sqlite_store.ledger_entry(second[0]).state == "stored"  # type: ignore[union-attr]


def test_a_batch_stores_a_report_only_with_its_evidence_kept(
    sqlite_store: Store, share: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evidence is written on threads while the batch's next files are parsed; every stored version has its
    bytes kept, a large file (copied from the share apart) whose copy finds it rewritten fails alone, and an
    evidence folder that cannot be written stores nothing (a transient error: the batch is retried)."""
    (first, second), _ = series_files(share, 5)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the evidence folder should be", encoding="utf-8")
    with pytest.raises(EvidenceNotWritten):
        process_batch(sqlite_store, Settings(data_dir=tmp_path, evidence_dir=blocked), {}, [first, second], str(share))
    assert sqlite_store.version_id(first[1]) is None and sqlite_store.version_id(second[1]) is None
    assert {sqlite_store.ledger_entry(path).state for path, _ in (first, second)} == {"processing"}  # type: ignore[union-attr]

    keep = Evidence.keep

    def rewritten_meanwhile(evidence: Evidence, source: Path, sha256: str, **options: object) -> bool:
        if str(source) == first[0]:
            raise EvidenceChanged(f"{source}: content changed since it was hashed")
        return keep(evidence, source, sha256, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(Evidence, "keep", rewritten_meanwhile)
    monkeypatch.setattr("worker.tasks.MEMORY_EVIDENCE_BYTES", 100)  # every file large: copied from the share
    settings = Settings(data_dir=tmp_path)
    outcomes = process_batch(sqlite_store, settings, {}, [first, second], str(share))
    assert [outcome.state for outcome in outcomes] == ["failed", "stored"]
    assert "改写" in (sqlite_store.ledger_entry(first[0]).error or "")  # type: ignore[union-attr]
    assert Evidence(settings.evidence).verified(second[1]) is not None
    assert Evidence(settings.evidence).verified(first[1]) is None


def test_the_evidence_kept_is_the_bytes_parsed_even_if_the_file_changes_after_it_was_read(
    sqlite_store: Store, share: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file is read once: its bytes are parsed and kept, so a rewrite after the read changes neither."""
    (first, second), _ = series_files(share, 6)
    original = Path(first[0]).read_bytes()

    def read_then_rewritten(path: Path, *args: object) -> Report:
        report = read_report(path, *args)  # type: ignore[arg-type]
        path.write_bytes(b"rewritten after it was read")
        return report

    monkeypatch.setattr("worker.tasks.read_report", read_then_rewritten)
    settings = Settings(data_dir=tmp_path)
    outcomes = process_batch(sqlite_store, settings, {}, [first, second], str(share))
    assert [outcome.state for outcome in outcomes] == ["stored", "stored"]
    kept = Evidence(settings.evidence).verified(first[1])
    assert kept is not None and kept.read_bytes() == original and oct(kept.stat().st_mode & 0o777) == "0o444"


def test_the_start_up_summary_says_where_and_whom_it_alerts(tmp_path: Path) -> None:
    alone = summary(Settings(data_dir=tmp_path), tmp_path / "share", "polling")
    assert alone[0] == f"监视文件夹：{tmp_path / 'share'}（轮询模式 polling）"
    assert f"数据库：sqlite:///{(tmp_path / 'nianbao.db').resolve()}" in alone
    assert alone[-1] == f"提醒渠道：{NO_TARGETS}" and "README" in NO_TARGETS
    secret = "0123456789abcdef"
    configured = summary(
        Settings(data_dir=tmp_path, notify_urls=[f"wecombot://{secret}"], broker_url="redis://:pw@h:6379/0")
    )
    assert "消息队列：redis://:***@h:6379/0" in configured
    assert configured[-1].startswith("提醒渠道（1 个）：wecombot://") and secret not in configured[-1]


def test_the_same_content_from_a_region_folder_moves_the_report_to_that_region(
    sqlite_store: Store, share: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    loose, loose_sha = dropped(share, seed_path("000"), "白鹤镇2022.txt")  # 白鹤镇人民政府 2022, no region
    first = process(sqlite_store, settings, {}, loose, loose_sha, str(share))
    assert {row.region for row in sqlite_store.findings()} == {None}
    (share / "房县" / "白鹤镇").mkdir(parents=True)
    placed, placed_sha = dropped(share, seed_path("000"), "房县/白鹤镇/2022.txt")
    again = process(sqlite_store, settings, {}, placed, placed_sha, str(share))
    assert again.version_id == first.version_id  # the same content: the same version, no new one
    assert [version.year for version in sqlite_store.versions("白鹤镇", "房县")] == [2022]
    assert {row.region for row in sqlite_store.findings()} == {"房县"}
    stored = sqlite_store.report(first.version_id)  # type: ignore[arg-type]
    assert stored is not None and stored.organization.region == "房县" and stored.evidence.folder_region == "房县"


def test_the_same_content_loose_and_in_a_region_folder_in_one_batch_ends_in_that_region(
    sqlite_store: Store, share: Path, tmp_path: Path
) -> None:
    """Both copies arrive together: the second waits for the first's version, then moves it to the region."""
    settings = Settings(data_dir=tmp_path)
    (share / "房县" / "白鹤镇").mkdir(parents=True)
    loose = dropped(share, seed_path("000"), "白鹤镇2022.txt")
    placed = dropped(share, seed_path("000"), "房县/白鹤镇/2022.txt")
    first, second = process_batch(sqlite_store, settings, {}, [loose, placed], str(share))
    assert (first.state, second.state) == ("stored", "stored") and first.version_id == second.version_id
    assert [version.year for version in sqlite_store.versions("白鹤镇", "房县")] == [2022]
    assert {row.region for row in sqlite_store.findings()} == {"房县"}
