"""The parser against damaged renderings (tests/generator.py, `DAMAGES`): headings fused into lines, split
after their numeral or renumbered; tables with vertical labels, placeholder rows, page footers, numbers split
over lines, fused digits and collapsed repeats, over every base layout.

Every cell is either exact or null with a problem naming its table; every part is found by its words; and no
finding fires that the clean rendering does not get.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from report.model import Report, table_cells
from report.parse import parse_file
from rules.engine import evaluate
from rules.settings import RuleSettings
from tests.generator import DAMAGES, LAYOUTS, damage, make_truth, rendered_lines

# Rules about the title, dates and prose: item 1 of the issue (metadata), not what this damage is about.
_METADATA_RULES = frozenset({"year.inconsistent", "publication.late"})
_TABLE_OF = {"active": "二/", "requests": "三/", "appeals": "四"}


def _parse(tmp_path: Path, name: str, lines: list[str]) -> Report:
    path = tmp_path / f"{name}.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    report = parse_file(path)
    report.findings = evaluate(report, [], RuleSettings())
    return report


def _findings(report: Report) -> set[tuple[str, str]]:
    return {(f.rule, f.location) for f in report.findings if f.rule not in _METADATA_RULES}


def check_damaged(tmp_path: Path, layout: str, seed: int, kinds: list[str] | None) -> list[str]:
    truth = make_truth(random.Random(seed), requests=True)
    lines = rendered_lines(layout, truth, random.Random(seed))
    clean = _parse(tmp_path, "clean", lines)
    damaged_lines, applied = damage(lines, random.Random(seed * 7919 + 1), kinds)
    report = _parse(tmp_path, "damaged", damaged_lines)
    want = table_cells(clean.tables)
    got = report.cell_values()
    wrong = [(path, want[path], got.get(path)) for path in want if got.get(path) not in (want[path], None)]
    assert wrong == [], f"{applied}: cells read wrong (path, clean, damaged): {wrong[:6]}"
    for path in want:
        if got.get(path) is None and want[path] is not None:
            table = _TABLE_OF[path.split(".", 1)[0]]
            assert any(problem.startswith(table) or table in problem for problem in report.problems), (
                f"{applied}: {path} is null with no problem about its table: {report.problems}"
            )
    assert report.sections == clean.sections, applied
    extra = _findings(report) - _findings(clean)
    if "renumber" in applied:  # the damage itself is what structure.misnumbered_section reports
        assert any(rule == "structure.misnumbered_section" for rule, _ in extra), applied
        extra = {(rule, location) for rule, location in extra if rule != "structure.misnumbered_section"}
    assert extra == set(), f"{applied}: findings the clean report does not get: {extra}"
    assert report.evidence.rejected is None
    return applied


@pytest.mark.parametrize("kind", list(DAMAGES))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_damage_over_each_layout(tmp_path: Path, layout: str, kind: str) -> None:
    for seed in range(2):
        check_damaged(tmp_path, layout, seed, [kind])


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("seed", range(4))
def test_random_damage_combined(tmp_path: Path, layout: str, seed: int) -> None:
    check_damaged(tmp_path, layout, 100 + seed, None)


def test_collapsed_rows_are_recovered_where_the_sums_fix_them(tmp_path: Path) -> None:
    """`8 0 8` is 8 0 0 0 0 0 8: the only expansion whose six columns add up to 总计."""
    truth = make_truth(random.Random(3), requests=True)
    lines = damage(
        rendered_lines("cell_lines_blank", truth, random.Random(3)), random.Random(3), ["collapsed_repeats"]
    )[0]
    report = _parse(tmp_path, "collapsed", lines)
    recovered = [value for value in report.cell_values().values() if value is not None]
    assert len(recovered) > len(report.cell_values()) // 2


def test_not_an_annual_report_is_rejected_and_not_judged(tmp_path: Path) -> None:
    report = _parse(tmp_path, "letter", ["关于召开安全生产会议的通知", "各单位：", "定于 3 月 5 日召开会议。"])
    assert report.evidence.rejected and "不是政府信息公开工作年度报告" in report.evidence.rejected
    assert report.evidence.rejected in report.problems
    assert report.findings == []
