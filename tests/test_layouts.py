"""The parser against generated reports: every layout (tests/generator.py), a few seeds, several encodings.

Each report is written into a file, parsed with `report.parse.parse_file`, and compared with its ground truth:
every table cell, the organization, year, publication date, the sections, and no `problems`.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from nianbao.settings import RuleSettings
from report.model import OUTCOME_KEYS
from report.parse import parse_file
from rules import evaluate
from tests.generator import (
    BLANK_CAPABLE,
    ENCODINGS,
    FILE_SUFFIX,
    LAYOUTS,
    NEWLINES,
    TEXT_LAYOUTS,
    TITLE_FORMS,
    TITLE_WRAPPINGS,
    GroundTruth,
    Organization,
    cell_values,
    damage_title,
    damage_title_at_random,
    encode_as,
    make_organization,
    make_truth,
    plant,
    render,
)

SEEDS = range(6)
# Without a title the prose alone tells the level; only 我镇/我乡/本街道 and 我局/我委/我厅 say it unambiguously
# (我区 may be a district or an autonomous region, 我市 a prefecture or a county-level city).
_LEVEL_FROM_PROSE = frozenset({"township", "department"})


def write(
    tmp_path: Path, layout: str, truth: GroundTruth, seed: int, *, encoding: str = "utf-8", newline: str = "\n"
) -> Path:
    result = LAYOUTS[layout](truth, random.Random(seed))
    data = result if isinstance(result, bytes) else encode_as(result, encoding, newline)
    path = tmp_path / f"{layout}_{seed}.{FILE_SUFFIX[layout]}"
    path.write_bytes(data)
    return path


def cell_differences(expected: dict[str, Any], parsed: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    want, got = cell_values(expected), cell_values(parsed)
    paths = [*want, *(path for path in got if path not in want)]
    return [(path, want.get(path), got.get(path)) for path in paths if want.get(path) != got.get(path)]


def assert_parses_to(path: Path, truth: GroundTruth, *, problems_allowed: bool = False) -> dict[str, Any]:
    contract = parse_file(path).to_contract()
    if not problems_allowed:
        assert contract["problems"] == [], contract["problems"]
    tables = contract["tables"]
    for table in ("active", "requests", "appeals"):
        assert (tables[table] is None) == (getattr(truth, table) is None), f"table {table}"
    differences = cell_differences(truth.tables(), tables)
    assert differences == [], f"{len(differences)} cells differ (path, expected, parsed): {differences[:8]}"
    assert tables == truth.tables()
    organization = contract["organization"]
    expected = truth.expected_organization()
    if truth.show_title or truth.level in _LEVEL_FROM_PROSE:
        assert organization == expected
    else:
        assert organization in (expected, {**expected, "level": "unknown"})
    assert contract["year"] == truth.year
    assert contract["published"] == truth.published
    assert contract["sections"] == truth.order
    return contract


def layout_cases() -> list[Any]:
    cases = []
    for layout in LAYOUTS:
        for seed in SEEDS if layout != "pdf" else range(3):
            encoding = ENCODINGS[seed % len(ENCODINGS)] if layout in TEXT_LAYOUTS else "utf-8"
            newline = NEWLINES[(seed // len(ENCODINGS)) % len(NEWLINES)] if layout in TEXT_LAYOUTS else "\n"
            cases.append(pytest.param(layout, seed, encoding, newline, id=f"{layout}-{seed}-{encoding}-{newline!r}"))
    return cases


@pytest.mark.parametrize(("layout", "seed", "encoding", "newline"), layout_cases())
def test_layout_parses_to_its_ground_truth(tmp_path: Path, layout: str, seed: int, encoding: str, newline: str) -> None:
    truth = make_truth(random.Random(seed), requests=seed % 2 == 0)
    assert_parses_to(write(tmp_path, layout, truth, seed, encoding=encoding, newline=newline), truth)


@pytest.mark.parametrize("level", ["township", "county", "city", "province", "department"])
@pytest.mark.parametrize("layout", ["spaces", "tsv_shifted", "html", "docx"])
def test_every_level_parses(tmp_path: Path, layout: str, level: str) -> None:
    seed = 100 + len(level)
    truth = make_truth(random.Random(seed), level=level, show_title=True, requests=True)
    assert_parses_to(write(tmp_path, layout, truth, seed), truth)


@pytest.mark.parametrize("layout", sorted(BLANK_CAPABLE))
@pytest.mark.parametrize("seed", range(3))
def test_blank_applicant_columns_parse_as_null(tmp_path: Path, layout: str, seed: int) -> None:
    """Seed 001's filling: only the 总计 column of table 三; the six applicant columns stay null."""
    truth = make_truth(random.Random(seed), blanks=True, requests=True)
    assert_parses_to(write(tmp_path, layout, truth, seed), truth)


@pytest.mark.parametrize("combined", [True, False], ids=["all-wrappings", "random-wrappings"])
@pytest.mark.parametrize("form", TITLE_FORMS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_damaged_titles_parse_to_their_truth(tmp_path: Path, layout: str, form: str, combined: bool) -> None:
    """Every title form real bodies use, split under a page number, behind a crawler's header and inside page
    chrome (alone or together): the same organization, year, date and tables as the clean report, no problem."""
    seed = 300 + TITLE_FORMS.index(form) + 10 * combined
    rng = random.Random(seed)
    truth = make_truth(rng, show_title=True)
    wrappings = list(TITLE_WRAPPINGS) if combined else [w for w in TITLE_WRAPPINGS if rng.random() < 0.5]
    damaged = damage_title(truth, form, wrappings, rng)
    assert_parses_to(write(tmp_path, layout, damaged, seed), damaged)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_random_title_damage_on_any_truth(tmp_path: Path, layout: str, seed: int) -> None:
    """Random title damage on random truths of every level, with the other defects' truths' variety."""
    rng = random.Random(700 + seed)
    damaged, label = damage_title_at_random(make_truth(rng, show_title=True), rng)
    try:
        assert_parses_to(write(tmp_path, layout, damaged, seed), damaged)
    except AssertionError as error:
        raise AssertionError(f"title damage {label}: {error}") from error


@pytest.mark.parametrize("form", TITLE_FORMS)
def test_title_damage_raises_no_finding_the_clean_report_would_not(tmp_path: Path, form: str) -> None:
    """Same findings, damaged title or not: a planted publication.late still fires, nothing new appears."""
    rng = random.Random(900 + TITLE_FORMS.index(form))
    clean, _ = plant(make_truth(rng, show_title=True, level="department"), "publication.late", rng)
    damaged = damage_title(clean, form, list(TITLE_WRAPPINGS), rng)
    fired = []
    for name, truth in (("clean", clean), ("damaged", damaged)):
        folder = tmp_path / name
        folder.mkdir()
        report = parse_file(write(folder, "html", truth, 9))
        fired.append(sorted({finding.rule for finding in evaluate(report, [], RuleSettings())}))
    assert fired[0] == fired[1] and "publication.late" in fired[0]


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_untitled_report(tmp_path: Path, layout: str) -> None:
    """Seed 001 has no title: no name, the year from the statistics period."""
    truth = make_truth(random.Random(7), show_title=False, level="township", requests=True)
    assert_parses_to(write(tmp_path, layout, truth, 7), truth)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_street_office_and_ethnic_township_names(tmp_path: Path, layout: str) -> None:
    truths = [
        make_truth(random.Random(3), organization=org, show_title=True)
        for org in (
            Organization(
                "加格达奇区长虹街道办事处", "长虹街道办事处", "加格达奇区", "township", "本街道", "0457-2192301"
            ),
            Organization(
                "郧西县湖北口回族乡人民政府", "湖北口回族乡人民政府", "郧西县", "township", "我乡", "0719-6221234"
            ),
            Organization(
                "丹江口市均州路街道办事处", "均州路街道办事处", "丹江口市", "township", "本街道", "0719-5221234"
            ),
        )
    ]
    for index, truth in enumerate(truths):
        assert_parses_to(write(tmp_path, layout, truth, index), truth)


DEFECTS_THAT_KEEP_TABLES = (
    "requests.balance",
    "requests.total_row",
    "requests.total_column",
    "appeals.totals",
    "appeals.without_requests",
    "regulations.ineligible_issuer",
    "structure.missing_section",
    "structure.missing_table",
    "structure.outdated_template",
    "narrative.contradicts_table",
    "fees.statement_missing",
    "year.inconsistent",
    "publication.late",
)


@pytest.mark.parametrize("kind", DEFECTS_THAT_KEEP_TABLES)
@pytest.mark.parametrize(
    "layout", ["spaces", "cell_lines_tabs", "cell_lines_blank", "tsv_shifted", "markdown", "html", "docx", "pdf"]
)
def test_defective_reports_still_parse_to_their_truth(tmp_path: Path, layout: str, kind: str) -> None:
    """A planted defect changes what the report says, not how it reads: the parse follows the modified truth."""
    seed = 20 + DEFECTS_THAT_KEEP_TABLES.index(kind)
    truth, _ = plant(make_truth(random.Random(seed), requests=True), kind, random.Random(seed))
    assert_parses_to(write(tmp_path, layout, truth, seed), truth)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_invalid_cell_text(tmp_path: Path, layout: str) -> None:
    """Text in a number cell (五, 无, -) parses as null and `problems` quotes it; -1 parses as -1."""
    for seed in range(6):
        truth, expected = plant(make_truth(random.Random(seed), requests=True), "value.invalid", random.Random(seed))
        contract = assert_parses_to(write(tmp_path, layout, truth, seed), truth, problems_allowed=True)
        raw = truth.raw_cells.get(expected.cells[0])
        if raw is not None:
            assert any(raw in problem for problem in contract["problems"]), (raw, contract["problems"])


def ambiguous_in_tsv(layout: str, paths: tuple[str, ...]) -> bool:
    """A blank 总计 at the end of a tab-separated row reads exactly like seed 003's merged-cell padding
    ("3. 其他\t\t0…0\t"): no parser can tell them apart, so such cases are not asserted."""
    return layout in ("tsv_shifted", "markdown") and any(path.endswith("[6]") for path in paths)


@pytest.mark.parametrize("layout", sorted(BLANK_CAPABLE))
def test_scattered_blank_cells_parse_as_null(tmp_path: Path, layout: str) -> None:
    checked = 0
    for seed in range(40):
        truth, expected = plant(
            make_truth(random.Random(seed), requests=True), "structure.blank_cells", random.Random(seed)
        )
        if ambiguous_in_tsv(layout, expected.cells):
            continue
        assert_parses_to(write(tmp_path, layout, truth, seed), truth)  # blanks are findings, not problems
        checked += 1
        if checked == 4:
            break
    assert checked == 4


@pytest.mark.parametrize("layout", sorted(BLANK_CAPABLE))
def test_row_left_entirely_blank(tmp_path: Path, layout: str) -> None:
    """A row of table 三 with all seven cells blank (2019 上海 left most zero rows empty) is seven nulls,
    not a missing row."""
    truth = make_truth(random.Random(9), blanks=True, requests=True)
    assert truth.requests is not None
    zero_rows = [key for key in OUTCOME_KEYS if truth.requests[key][6] == 0]
    for key in (zero_rows[len(zero_rows) // 2], zero_rows[-1]):  # one inside a group, the last (（六）3.其他)
        truth.requests[key][6] = None
    assert_parses_to(write(tmp_path, layout, truth, 9), truth)


def test_pdf_text_round_trips_through_the_reader() -> None:
    """The premise of the pdf layout: reportlab's STSong-Light text (a font the file does not embed) comes
    back out of the PDF reader unchanged."""
    from report.formats import pdf

    truth = make_truth(random.Random(5), level="township", show_title=True, requests=True)
    data = render("pdf", truth, random.Random(5))
    text = "\n".join(line.text for line in pdf.read(data).blocks)
    assert truth.title in text
    for line in (
        "二、上年结转政府信息公开申请数量",
        "3.危及“三安全一稳定”",
        "第二十条第（八）项",
        "其他需要报告的事项",
    ):
        assert line in text


def test_organization_pool_covers_the_names_the_contract_describes() -> None:
    rng = random.Random(0)
    organizations = [make_organization(rng) for _ in range(400)]
    assert {o.level for o in organizations} == {"township", "county", "city", "province", "department"}
    assert any(o.name.endswith("街道办事处") for o in organizations)
    assert any(o.level == "county" and o.region for o in organizations)  # 十堰市房县人民政府 → region 十堰市
