"""One path from a file to the store: `nianbao ingest` and the worker match, judge (`nianbao.judge.judge_batch`)
and save (`Store.save_batch`) alike, so the same files give the same versions and findings, in batches of any
size."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from nianbao.cli import main
from nianbao.settings import Settings, get_settings
from report.extract import sha256_of
from storage import Store
from tests import generator
from worker.tasks import process_batch

Stored = tuple[list[tuple[object, ...]], list[tuple[object, ...]]]


def write_share(share: Path) -> None:
    """Three townships, 2022 and 2023, all in one folder: the first body's 2023 report with a defect and then
    corrected (two versions of one year), the second's part 五 copied from the third's."""
    rng = random.Random(7)
    share.mkdir()
    series = [generator.make_series(rng, (2022, 2023), level="township") for _ in range(3)]
    series[1][1].sections["五"] = list(series[2][1].sections["五"])
    flawed, _ = generator.plant(series[0][1], "requests.total_row", rng)
    files = {f"{truth.year}-{index}.txt": truth for index, years in enumerate(series) for truth in years}
    files["2023-0.txt"], files["2023-0b.txt"] = flawed, series[0][1]  # ingest takes them in this order
    for name, truth in files.items():
        (share / name).write_bytes(generator.render("spaces", truth, rng))


def stored(store: Store) -> Stored:
    """Every body's versions (year, content, the content that superseded it) and every finding (year, rule,
    location, message, status, content of its latest version), independent of row ids and times."""
    versions: list[tuple[object, ...]] = []
    content: dict[int, str] = {}
    for name, region in store.known_identities():
        rows = store.versions(name, region)
        content |= {row.id: row.sha256 for row in rows}
        versions += [
            (name, region, row.year, row.sha256, content[row.superseded_by] if row.superseded_by else None)
            for row in rows
        ]
    findings = [
        (
            row.organization,
            row.region,
            row.year,
            row.rule,
            row.location,
            row.message,
            row.status,
            content[row.last_version_id],
        )
        for row in store.findings()
    ]
    return sorted(versions, key=repr), sorted(findings, key=repr)


@pytest.fixture
def batch_of_two(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NIANBAO_WATCH_BATCH_SIZE", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_ingest_and_the_worker_store_the_same(tmp_path: Path, batch_of_two: None) -> None:
    share = tmp_path / "share"
    write_share(share)
    ingested = f"sqlite:///{tmp_path / 'ingest.db'}"
    run = CliRunner().invoke(main, ["ingest", str(share), "--db", ingested], catch_exceptions=False)
    assert run.exit_code == 0 and "共 7 个文件：新入库 7 份（其中更正版本 1 份）" in run.output, run.output

    worker = Store.open(f"sqlite:///{tmp_path / 'worker.db'}")
    # The files in the order ingest stores them (oldest year first, then by path), all in one batch.
    paths = sorted(share.iterdir())
    items = [(str(path), sha256_of(path)) for path in paths]
    for path, sha256 in items:
        worker.ledger_seen(path, sha256, None)
    settings = Settings(data_dir=tmp_path / "worker-data")
    outcomes = process_batch(worker, settings, {}, items, str(share))
    assert [outcome.state for outcome in outcomes] == ["stored"] * len(items)

    from_ingest, from_worker = stored(Store(ingested)), stored(worker)
    assert from_ingest == from_worker
    versions, findings = from_worker
    assert len(versions) == 7 and sum(row[-1] is not None for row in versions) == 1  # the correction
    rules = [row[3] for row in findings]
    # Only the second version of a year is a revision: the first is judged without the one after it.
    assert rules.count("report.revised_after_publication") == 1
    assert "requests.total_row" in rules and "narrative.copied_from_peer" in rules
    fixed = [row for row in findings if row[3] == "requests.total_row"]
    assert fixed and all(row[6] == "resolved" for row in fixed)  # by the correction
