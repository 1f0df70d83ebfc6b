"""Bad files get their line with a clear reason; the parser never raises, whatever text it is fed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report.document import UnreadableFile, lines_document
from report.extract import OUTSIDE_ROOT, read_bytes
from report.model import Source
from report.parse import parse_document, parse_file
from rules import evaluate
from rules.settings import RuleSettings
from tests.seed_samples import seed_paths

SEEDS = seed_paths()
SEED_LINES = [line for seed in SEEDS for line in seed.read_text(encoding="utf-8").splitlines()]


def check_json(*paths: Path, env: dict[str, str] | None = None) -> list[dict]:
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "check", *map(str, paths), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_every_bad_file_gets_its_line_with_a_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 20)
    directory = tmp_path / "folder.txt"
    directory.mkdir()
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "nowhere.txt")
    missing = tmp_path / "missing.txt"
    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\n")  # truncated: no xref, no pages
    fake_docx = tmp_path / "fake.docx"
    fake_docx.write_bytes(b"PK\x03\x04 this is not really a zip")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    files = [empty, binary, directory, dangling, missing, fake_pdf, fake_docx, fifo]
    lines = check_json(*files)
    assert [Path(line["source"]["path"]).name for line in lines] == [path.name for path in files]
    reasons = {Path(line["source"]["path"]).name: " ".join(line["problems"]) for line in lines}
    assert "为空" in reasons["empty.txt"]
    assert "二进制" in reasons["binary.txt"]
    assert "目录" in reasons["folder.txt"]
    assert "符号链接" in reasons["dangling.txt"]
    assert "不存在" in reasons["missing.txt"]
    assert "普通文件" in reasons["pipe.txt"]
    assert reasons["fake.pdf"] and reasons["fake.docx"]
    for line in lines:
        assert line["tables"] == {"active": None, "requests": None, "appeals": None}
        assert line["findings"] == []  # nothing was read: no rule judges it
    for path in files:
        assert parse_file(path).evidence.rejected, path.name


def test_huge_file_is_capped_and_says_so(tmp_path: Path) -> None:
    seed = SEEDS[0].read_bytes()
    huge = tmp_path / "huge.txt"
    huge.write_bytes(seed + "无关的附件内容。".encode() * 200_000)
    report = parse_file(huge, max_bytes=len(seed) + 1000)
    assert any("文件过大" in problem for problem in report.problems)
    assert report.tables.requests is not None  # what was read is still parsed
    lines = check_json(huge, env={"NIANBAO_MAX_FILE_BYTES": str(len(seed) + 1000)})
    assert any("文件过大" in problem for problem in lines[0]["problems"])


def test_gb18030_bom_crlf_and_cut_off_utf8_are_read(tmp_path: Path) -> None:
    text = SEEDS[2].read_text(encoding="utf-8")
    expected = parse_file(SEEDS[2]).to_contract()["tables"]
    variants = {
        "gb.txt": text.encode("gb18030"),
        "bom.txt": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "crlf.txt": text.replace("\n", "\r\n").encode("utf-8"),
        "cut.txt": text.encode("utf-8") + "报".encode()[:2],
    }
    for name, data in variants.items():
        path = tmp_path / name
        path.write_bytes(data)
        report = parse_file(path)
        assert report.to_contract()["tables"] == expected, name
    assert any("不完整的字符" in problem for problem in parse_file(tmp_path / "cut.txt").problems)


def test_text_with_no_tables_says_it_is_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "letter.txt"
    path.write_text("关于召开会议的通知\n请各单位准时参加。\n", encoding="utf-8")
    report = parse_file(path)
    assert report.evidence.rejected is not None
    assert any("不是政府信息公开工作年度报告" in problem for problem in report.problems)


fragments = st.lists(st.sampled_from(SEED_LINES), max_size=80).map("\n".join)
noise = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)
mixed = st.lists(st.one_of(st.sampled_from(SEED_LINES), noise, st.just("\t"), st.just("\u00a0")), max_size=60).map(
    "\n".join
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(fragments, noise, mixed))
def test_parser_and_rules_never_raise(text: str) -> None:
    report = parse_document(lines_document(text), Source(path="x.txt", sha256="0" * 64, format="txt"))
    evaluate(report, [report], RuleSettings())
    assert not any("运行出错" in problem for problem in report.problems)
    json.dumps(report.to_contract(), ensure_ascii=False)


def test_a_link_into_a_folder_named_like_the_share_is_outside_it(tmp_path: Path) -> None:
    """The share is a folder, not a prefix of names: `share2/` is outside `share/`, however the share was
    resolved (per file, or once for a batch)."""
    share, sibling = tmp_path / "share", tmp_path / "share2"
    share.mkdir()
    sibling.mkdir()
    (sibling / "secret.txt").write_text("root:x:0:0")
    (share / "inside.txt").write_text("2023 年度报告")
    (share / "out.txt").symlink_to(sibling / "secret.txt")
    (share / "in.txt").symlink_to(share / "inside.txt")
    for real_root in (None, os.path.realpath(share)):
        with pytest.raises(UnreadableFile, match=OUTSIDE_ROOT):
            read_bytes(share / "out.txt", root=share, real_root=real_root)
        assert read_bytes(share / "in.txt", root=share, real_root=real_root) == ("2023 年度报告".encode(), False)
