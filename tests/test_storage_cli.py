"""The storage commands on SQLite and PostgreSQL: ingest, findings, export (csv, xlsx), history errors."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from click.testing import CliRunner, Result
from openpyxl import load_workbook

from nianbao.cli import main
from nianbao.spreadsheet import FINDING_COLUMNS
from storage import Store
from tests.seed_samples import seed_path


def nianbao(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def seed_share(root: Path) -> Path:
    """A share laid out as <share>/<county>/<body>/<year>.txt, plus a broken pdf and an empty docx."""
    share = root / "share"
    layout = {"000": "房县/白鹤镇/2022.txt", "002": "房县/白鹤镇/2023.txt", "003": "加格达奇区/白桦乡/2022.txt"}
    for prefix, relative in layout.items():
        target = share / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(seed_path(prefix), target)
    (share / "房县" / "白鹤镇" / "说明.xls").write_text("not a report")  # not a report suffix: not read
    (share / "房县" / "坏文件.pdf").write_bytes(b"%PDF-1.7\n\x00\x01garbage")
    (share / "房县" / "空.docx").write_bytes(b"")
    return share


def test_ingest_a_share(storage_url: str, tmp_path: Path) -> None:
    share = seed_share(tmp_path)
    run = nianbao("ingest", str(share), "--db", storage_url)
    assert run.exit_code == 0
    assert "Traceback" not in run.output
    lines = run.output.splitlines()
    assert len(lines) == 6  # five files, one summary
    assert "共 5 个文件：新入库 3 份" in lines[-1] and "未能入库 2 份" in lines[-1]
    # The folder gave the 2022 report its region, so both 白鹤镇 years are one body and 2023 was compared with 2022.
    store = Store(storage_url)
    assert [version.year for version in store.versions("白鹤镇", "房县")] == [2022, 2023]
    (report_2023,) = [report for report in store.reports_named({"白鹤镇"}) if report.year == 2023]
    assert report_2023.compared_with is not None and report_2023.compared_with.year == 2022
    # Bad files are not stored: they fail with their reason, in the output and in the ledger.
    bad = [line for line in lines if "坏文件.pdf" in line or "空.docx" in line]
    assert len(bad) == 2 and all("：未能入库：" in line for line in bad)
    assert "PDF 文件已损坏" in "".join(bad) and "为空" in "".join(bad)
    failed = nianbao("files", "--state", "failed", "--db", storage_url).output
    assert "坏文件.pdf" in failed and "原因：PDF 文件已损坏" in failed and "空.docx" in failed
    assert all(version.year for version in store.versions("白鹤镇", "房县"))
    # Again: nothing new.
    again = nianbao("ingest", str(share), "--db", storage_url)
    assert "新入库 0 份" in again.output and "内容未变 3 份" in again.output and "未能入库 2 份" in again.output
    store.dispose()


def test_ingest_many_files_shows_progress_and_survives_bad_input(storage_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    text = seed_path("002").read_text(encoding="utf-8")
    for index in range(22):
        (folder / f"{index:02}.txt").write_text(text + "\n" * (index + 1), encoding="utf-8")  # 22 versions
    (folder / "unreadable.txt").symlink_to(folder / "missing.txt")
    run = nianbao("ingest", str(folder), "--db", storage_url)
    assert run.exit_code == 0
    assert "入库" in run.output and "unreadable.txt：未能入库：文件是一个失效的符号链接" in run.output
    assert "新入库 22 份（其中更正版本 21 份）" in run.output and "未能入库 1 份" in run.output
    store = Store(storage_url)
    versions = store.versions("白鹤镇", "房县")
    assert len(versions) == 22 and sum(version.superseded_by is None for version in versions) == 1
    store.dispose()


def test_findings_command(storage_url: str, tmp_path: Path) -> None:
    nianbao("ingest", str(seed_share(tmp_path)), "--db", storage_url)
    run = nianbao("findings", "--region", "房县", "--severity", "error", "--db", storage_url)
    assert run.exit_code == 0
    lines = run.output.splitlines()
    assert all("白鹤镇人民政府（房县）" in line and "[错误]" in line for line in lines[:-2])
    english = nianbao("findings", "--region", "房县", "--severity", "error", "--lang", "en", "--db", storage_url)
    assert all("[error]" in line for line in english.output.splitlines()[:-2])
    assert lines[-2].startswith(f"共 {len(lines) - 2} 项发现")
    assert lines[-1].startswith("按规则：")
    none = nianbao("findings", "--rule", "no.such.rule", "--db", storage_url)
    assert none.output.splitlines() == ["共 0 项发现（未整改 0 项，已驳回 0 项，已整改 0 项）"]


def test_export_csv_and_xlsx(storage_url: str, tmp_path: Path) -> None:
    nianbao("ingest", str(seed_share(tmp_path)), "--db", storage_url)
    listed = Store(storage_url).findings()
    run = nianbao("export", "--format", "csv", "--db", storage_url)
    rows = list(csv.reader(io.StringIO(run.output)))
    assert tuple(rows[0]) == FINDING_COLUMNS and len(rows) == len(listed) + 1
    first = dict(zip(FINDING_COLUMNS, rows[1], strict=True))
    assert first["状态"] == "待审核" and first["机关"] and first["规则"] == listed[0].rule

    csv_file = tmp_path / "发现.csv"
    nianbao("export", "--format", "csv", "-o", str(csv_file), "--open", "--db", storage_url)
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8

    piped = CliRunner().invoke(main, ["export", "--format", "xlsx", "--db", storage_url])
    assert piped.exit_code == 0 and piped.stdout_bytes.startswith(b"PK\x03\x04")  # `> findings.xlsx`
    sheet = load_workbook(io.BytesIO(piped.stdout_bytes)).active
    assert sheet is not None and sheet.max_row == 1 + len(listed)

    xlsx_file = tmp_path / "发现.xlsx"
    run = nianbao("export", "--format", "xlsx", "-o", str(xlsx_file), "--region", "房县", "--db", storage_url)
    assert run.exit_code == 0
    sheet = load_workbook(xlsx_file).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == FINDING_COLUMNS
    assert len(values) == 1 + len(Store(storage_url).findings(region="房县"))
    assert {row[0] for row in values[1:]} == {"房县"}


def test_history_of_an_unknown_or_ambiguous_body(storage_url: str, tmp_path: Path) -> None:
    nianbao("ingest", str(seed_share(tmp_path)), "--db", storage_url)
    assert "没有“某某镇”的报告记录" in nianbao("history", "某某镇", "--db", storage_url).output
    ingest_loose = nianbao("ingest", str(seed_path("004")), "--db", storage_url)  # 白鹤镇（孟津区）
    assert ingest_loose.exit_code == 0
    ambiguous = CliRunner().invoke(main, ["history", "白鹤镇", "--db", storage_url])
    assert ambiguous.exit_code == 1 and "请用 --region 指定地区" in ambiguous.output
    assert "Traceback" not in ambiguous.output


def test_read_commands_on_a_database_never_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    run = CliRunner().invoke(main, ["findings", "--db", url])
    assert run.exit_code == 1 and "nianbao db upgrade" in run.output
    assert not (tmp_path / "none.db").exists()  # a read never creates the database


def test_files_lists_the_newest_entry_of_each_path_with_its_reason(storage_url: str) -> None:
    store = Store.open(storage_url)
    store.ledger_mark("/share/a.txt", "unreadable:10:1", "failed", error="无法读取：没有读取权限")
    store.ledger_mark("/share/a.txt", "a" * 64, "stored")  # readable later: its newest entry is stored
    store.ledger_mark("/share/b.pdf", "b" * 64, "failed", error="处理超过 600 秒，已放弃")
    failed = nianbao("files", "--state", "failed", "--db", storage_url)
    assert failed.exit_code == 0
    assert "/share/b.pdf" in failed.output and "原因：处理超过 600 秒，已放弃" in failed.output
    assert "/share/a.txt" not in failed.output
    every = nianbao("files", "--db", storage_url).output
    assert every.index("/share/b.pdf") < every.index("/share/a.txt")  # newest first
    assert "已入库" in every and "没有读取权限" not in every
    assert "stored" in nianbao("files", "--lang", "en", "--db", storage_url).output
    assert "没有文件记录（状态：处理中）" in nianbao("files", "--state", "processing", "--db", storage_url).output


def test_ingest_takes_every_suffix_the_readers_know(storage_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    text = seed_path("002").read_bytes()
    for suffix in (".text", ".markdown"):
        (folder / f"2023{suffix}").write_bytes(text + suffix.encode())  # two contents: two versions
    (folder / "说明.xls").write_bytes(b"not a report")
    run = nianbao("ingest", str(folder), "--db", storage_url)
    assert "共 2 个文件：新入库 2 份" in run.output
