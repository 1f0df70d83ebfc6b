"""The batch writes of the pipeline on SQLite and PostgreSQL: `save_batch` stores what `save` stores one report at
a time (versions, superseded versions, carried and resolved findings, alerts), and the ledger's batch claim."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nianbao.judge import judge, read_report
from nianbao.settings import Settings
from report.model import Finding, Report
from rules.similarity import PEER_PARTS
from storage import BatchSave, OutboxDraft, Store
from tests import generator

START = datetime(2024, 3, 1, 9, tzinfo=UTC)


def versions_of_one_body(folder: Path) -> list[tuple[str, Report]]:
    """One body's 2022 report, then three versions of its 2023 report (a defect, fixed, another defect), and
    the 2022 bytes again under another name: (label, judged report) in the order received."""
    rng = random.Random(11)
    settings = Settings(data_dir=folder)
    organization = generator.make_organization(rng, "township")
    earlier, current = generator.make_series(rng, (2022, 2023), organization=organization)
    contents = {
        "2022": earlier,
        "2023-a": generator.plant(current, "requests.total_row", rng)[0],
        "2023-fixed": current,
        "2023-b": generator.plant(current, "fees.statement_missing", rng)[0],
    }
    data = {label: generator.render("spaces", truth, rng) for label, truth in contents.items()}
    data["2022-copy"] = data["2022"]
    reports = []
    for label, content in data.items():
        path = folder / f"{label}.txt"
        path.write_bytes(content)
        reports.append((label, judge(read_report(path, settings), [], settings)))
    return reports


def alerts(report: Report, new: list[Finding], resolved: list[Finding]) -> list[OutboxDraft]:
    kinds = [("new", new), ("resolved", resolved)]
    return [OutboxDraft(f"{kind}:test", kind, "\n".join(f.rule for f in found), ()) for kind, found in kinds if found]


def snapshot(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Versions (year, sha256, superseded by sha256) and findings (rule, location, status, first and last seen)
    of the body, independent of row ids."""
    (name, region) = next(iter(store.known_identities()))
    versions = store.versions(name, region)
    sha = {version.id: version.sha256 for version in versions}
    shown_versions = [(v.year, v.sha256, sha.get(v.superseded_by)) for v in versions]  # type: ignore[arg-type]
    findings = sorted(
        (
            row.year,
            row.rule,
            row.location,
            row.status,
            row.first_seen,
            row.last_seen,
            row.resolved_at,
            sha[row.last_version_id],
        )
        for row in store.findings(organization=name, region=region)
    )
    return shown_versions, findings


def test_a_batch_stores_what_one_save_at_a_time_stores(store: Store, tmp_path: Path) -> None:
    reports = versions_of_one_body(tmp_path)
    times = {label: START + timedelta(days=index) for index, (label, _) in enumerate(reports)}
    reference = Store.open(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        expected_alerts = []
        expected_new = []  # (created, new findings) as the run log states them
        for label, report in reports:
            result = reference.save(report, received_at=times[label])
            new, resolved = (result.new_findings, result.resolved_findings) if result.created else ([], [])
            expected_alerts.append(len(alerts(report, new, resolved)))
            expected_new.append((result.created, len(result.new_findings)))
        expected = snapshot(reference)
    finally:
        reference.dispose()
    saves = [BatchSave(f"/share/{label}.txt", r.source.sha256, r, times[label]) for label, r in reports]
    for save in saves:
        store.ledger_claim([(save.path, save.sha256)], max_attempts=5)
    outcomes = store.save_batch(saves, [], alerts)
    assert [outcome.state for outcome in outcomes] == ["stored"] * 5
    assert snapshot(store) == expected
    assert [outcome.alerts for outcome in outcomes] == expected_alerts == [0, 1, 1, 1, 0]
    assert [(outcome.created, outcome.new_findings) for outcome in outcomes] == expected_new
    assert outcomes[4].version_id == outcomes[0].version_id  # the same bytes are the same version
    assert {store.ledger_entry(save.path).state for save in saves} == {"stored"}  # type: ignore[union-attr]
    # The same batch again: nothing changes, nothing is queued.
    again = store.save_batch(saves, [], alerts)
    assert [(o.version_id, o.alerts) for o in again] == [(o.version_id, 0) for o in outcomes]
    assert snapshot(store) == expected


def test_a_claim_counts_attempts_and_gives_up_after_the_last(store: Store) -> None:
    items = [("/share/a.txt", "a" * 64), ("/share/b.txt", "b" * 64), ("/share/c.txt", "c" * 64)]
    store.ledger_take([(path, sha, 10) for path, sha in items])
    store.ledger_mark(*items[2], "stored")
    first = store.ledger_claim(items, max_attempts=2)
    assert [(e.state, e.attempts) for e in first] == [("processing", 1), ("processing", 1), ("stored", 0)]
    store.ledger_claim(items[:1], max_attempts=2)
    last = store.ledger_claim(items, max_attempts=2)
    assert [(e.state, e.attempts) for e in last] == [("failed", 2), ("processing", 2), ("stored", 0)]
    assert "不再重试" in (last[0].error or "")
    # Claimed again a moment later (a duplicate delivery, a retry): processed again, no attempt spent.
    (again,) = store.ledger_claim(items[1:2], max_attempts=5, recent=timedelta(hours=1))
    assert (again.state, again.attempts) == ("processing", 2)


def test_a_claim_records_the_entries_the_watcher_did_not(store: Store) -> None:
    """A batch whose entries are partly unknown to the ledger (a message sent by hand, a ledger restored from a
    backup): the unknown ones are recorded and claimed with the rest, each once, in the order given."""
    known = [("/share/a.txt", "a" * 64), ("/share/b.txt", "b" * 64)]
    store.ledger_take([(path, sha, 10) for path, sha in known])
    store.ledger_mark(*known[1], "stored")
    items = [known[0], ("/share/new.txt", "d" * 64), known[1], ("/share/new.txt", "d" * 64)]
    claimed = store.ledger_claim(items, max_attempts=5)
    assert [(e.path, e.state, e.attempts) for e in claimed] == [
        ("/share/a.txt", "processing", 1), ("/share/new.txt", "processing", 1), ("/share/b.txt", "stored", 0),
    ]  # fmt: skip
    entry = store.ledger_entry("/share/new.txt")
    assert entry is not None and (entry.sha256, entry.state, entry.size) == ("d" * 64, "processing", None)


def test_a_batch_indexes_the_prose_of_its_reports_for_later_peers(store: Store) -> None:
    from tests.test_rules_reviewers import peer_pair

    baihe, huanglong = peer_pair()
    store.ledger_claim([("/share/baihe.txt", baihe.source.sha256)], max_attempts=5)
    (outcome,) = store.save_batch([BatchSave("/share/baihe.txt", baihe.source.sha256, baihe, START)], [], alerts)
    assert outcome.state == "stored"
    assert [peer.source.sha256 for peer in store.peer_reports(huanglong)] == [baihe.source.sha256]


def test_the_peers_of_a_batch_are_found_together_as_one_at_a_time(store: Store) -> None:
    """`peer_reports_of` ranks the peers of several reports in one query: each report gets other bodies' current
    versions of its year sharing bands with it, most shared first, never its own body's or its own content."""
    from tests.factories import clean_report
    from tests.test_rules_reviewers import PEER_FIVE, peer_pair

    baihe, huanglong = peer_pair()
    own_earlier = huanglong.model_copy(deep=True)  # 黄龙镇's own earlier version: not its peer, but 白鹤镇's
    own_earlier.source.sha256 = "3" * 64
    partly = clean_report(name="城关镇人民政府", sha="5" * 64)  # shares one band with 黄龙镇, 白鹤镇 shares 8
    cut = int(len(PEER_FIVE) * 0.9)
    partly.evidence.section_text["五"] = "城关镇" + PEER_FIVE[:cut] + "".join(reversed(PEER_FIVE[cut:]))
    copied, rewritten = (clean_report(name="茅塔乡人民政府", sha=sha * 64) for sha in "67")
    copied.evidence.section_text["五"] = huanglong.evidence.section_text["五"]
    rewritten.evidence.section_text["五"] = "茅塔乡" + "".join(reversed(PEER_FIVE))  # supersedes the copy
    blank = clean_report(name="土城镇人民政府", sha="8" * 64)  # prose too short to compare: no bands
    for report in (partly, copied, rewritten, blank):
        report.evidence.section_text["一"] = ""  # the factory's part 一, which 白鹤镇 has too
    for report in (baihe, own_earlier, partly, copied, rewritten):
        store.save(report)
    later = huanglong.model_copy(deep=True)
    later.year, later.source.sha256 = 2024, "9" * 64

    def shas(found: list[Report]) -> list[str]:
        return [peer.source.sha256[0] for peer in found]

    asked = [huanglong, later, baihe, blank]
    together = store.peer_reports_of(asked)
    assert [shas(found) for found in together] == [["a", "5"], [], ["3", "5"], []]
    assert together == [store.peer_reports(report) for report in asked]
    assert [shas(found) for found in store.peer_reports_of(asked, limit=1)] == [["a"], [], ["3"], []]
    # Read back slim: the same peers, each with its source, body, year and prose parts, and nothing else.
    slim = store.peer_reports_of(asked, whole=False)
    assert [shas(found) for found in slim] == [shas(found) for found in together]
    for whole_peers, slim_peers in zip(together, slim, strict=True):
        for whole, peer in zip(whole_peers, slim_peers, strict=True):
            parts = {
                part: whole.evidence.section_text[part] for part in PEER_PARTS if part in whole.evidence.section_text
            }
            assert parts and peer.evidence.section_text == parts
            assert (peer.source, peer.organization, peer.year) == (whole.source, whole.organization, whole.year)
            assert peer.tables == Report.model_validate({"source": whole.source}).tables != whole.tables


def test_the_peers_ranking_statement_is_compiled_once_whatever_the_batch(store: Store) -> None:
    """The asked reports and bands are parameters, not SQL: a batch of another size reuses the compiled ranking
    statement (compiling a VALUES list of thousands of rows per batch was half of `peer_reports_of`'s time)."""
    from sqlalchemy import event
    from sqlalchemy.engine.default import CACHE_HIT

    from tests.test_rules_reviewers import peer_pair

    baihe, huanglong = peer_pair()
    store.save(baihe)
    hits: list[bool] = []

    def ranking(connection: object, cursor: object, statement: str, *_: object) -> None:
        if "asked_bands" in statement:
            hits.append(_[-2].cache_hit == CACHE_HIT)  # type: ignore[attr-defined]

    event.listen(store.engine, "before_cursor_execute", ranking)
    try:
        first = store.peer_reports_of([huanglong])
        second = store.peer_reports_of([baihe, huanglong, huanglong.model_copy(update={"year": 2024})])
    finally:
        event.remove(store.engine, "before_cursor_execute", ranking)
    assert [[peer.source.sha256 for peer in found] for found in (*first, *second)] == [
        [baihe.source.sha256],
        [],
        [baihe.source.sha256],
        [],
    ]
    assert hits[-1] is True and len(hits) >= 2


def test_a_passage_many_bodies_share_is_boilerplate_and_finds_no_peers(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A band found in more versions of the year than `COMMON_BAND_VERSIONS` is a template's, not a copy's: the
    bodies that share only such bands are nobody's peers (and the look-up stays bounded however many share them)."""
    import storage.peers
    from tests.factories import clean_report
    from tests.test_rules_reviewers import peer_pair

    baihe, huanglong = peer_pair()
    sharing = []
    for name, sha in (("城关镇人民政府", "5"), ("茅塔乡人民政府", "6")):
        other = clean_report(name=name, sha=sha * 64)
        other.evidence.section_text["五"] = baihe.evidence.section_text["五"]
        other.evidence.section_text["一"] = ""  # the factory's part 一, which 白鹤镇 has too
        sharing.append(other.source.sha256)
        store.save(other)
    store.save(baihe)

    def found() -> set[str]:
        return {peer.source.sha256 for peer in store.peer_reports(huanglong)}

    monkeypatch.setattr(storage.peers, "COMMON_BAND_VERSIONS", 3)  # three versions share the passage: not common
    assert {baihe.source.sha256, *sharing} <= found()
    monkeypatch.setattr(storage.peers, "COMMON_BAND_VERSIONS", 2)  # now it is
    assert not set(sharing) & found()
