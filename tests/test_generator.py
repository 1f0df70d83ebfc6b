"""Self-consistency of the report generator (tests/generator.py): clean truths keep every relation of the
contract, every layout renders, every planted defect breaks what it says.  The relations are checked here
independently of `generator.violations`."""

from __future__ import annotations

import datetime
import io
import itertools
import random
import re
from typing import Any

import pytest

from report.identity import name_key
from report.model import APPEAL_BLOCKS, OUTCOME_KEYS, REQUEST_KEYS, SECTION_NUMERALS
from rules.crossyear import similarity
from rules.narrative import TOPICS as RULE_TOPICS
from rules.similarity import band_keys, masked
from tests.generator import (
    ENCODINGS,
    FILE_SUFFIX,
    INVALID_TEXTS,
    KINDS,
    LAYOUTS,
    NEWLINES,
    SERIES_KINDS,
    TEXT_LAYOUTS,
    TITLE_FORMS,
    TITLE_WRAPPINGS,
    TOPIC_KEYWORDS,
    TOPICS,
    GroundTruth,
    chinese_year,
    damage_title,
    encode,
    encode_as,
    make_organization,
    make_series,
    make_truth,
    plant,
    plant_peer_copy,
    plant_series,
    violations,
)

SEEDS = range(50)
COUNTS = ("upheld", "corrected", "other", "pending")


def truth_for(seed: int, **options: Any) -> GroundTruth:
    return make_truth(random.Random(seed), **options)


# ---------------------------------------------------------------------------------------------------------------
# Independent checks of the contract's relations


def rules_fired(truth: GroundTruth) -> set[str]:
    """The single-year rules that fire on a truth, computed from the tables and prose directly."""
    fired: set[str] = set()
    requests, appeals, active = truth.requests, truth.appeals, truth.active
    cells = truth.cells()
    if any(v is None for path, v in cells.items() if path not in truth.raw_cells):
        fired.add("structure.blank_cells")
    if truth.raw_cells or any(isinstance(v, int | float) and v < 0 for v in cells.values()):
        fired.add("value.invalid")
    if requests is not None:
        for c in range(7):
            four = [requests[k][c] for k in ("new", "carried_in", "total", "carried_out")]
            if None not in four and four[0] + four[1] != four[2] + four[3]:
                fired.add("requests.balance")
            outcomes = [requests[k][c] for k in OUTCOME_KEYS]
            if None not in outcomes and requests["total"][c] is not None and sum(outcomes) != requests["total"][c]:
                fired.add("requests.total_row")
        for key in REQUEST_KEYS:
            row = requests[key]
            if None not in row and sum(row[:6]) != row[6]:
                fired.add("requests.total_column")
        opened = [v for k in ("new", "carried_in") for v in requests[k] if v is not None]
        if appeals is not None and opened and not any(opened) and any(appeals[b]["total"] for b in APPEAL_BLOCKS):
            fired.add("appeals.without_requests")
        if requests["new"][6] is not None and truth.claimed_new != requests["new"][6]:
            fired.add("narrative.contradicts_table")
    if appeals is not None:
        for block in APPEAL_BLOCKS:
            values = [appeals[block][k] for k in COUNTS]
            if None not in values and appeals[block]["total"] is not None and sum(values) != appeals[block]["total"]:
                fired.add("appeals.totals")
    if active is not None and truth.level not in ("city", "province"):
        if (active["regulations"]["issued"] or 0) > 0 or (active["regulations"]["in_force"] or 0) > 0:
            fired.add("regulations.ineligible_issuer")
    if truth.order != ["一", "二", "三", "四", "五", "六"]:
        fired.add("structure.missing_section")
    if None in (active, requests, appeals):
        fired.add("structure.missing_table")
    if "信息处理费" not in truth.section_text("六"):
        fired.add("fees.statement_missing")
    if truth.year != truth.period_year:
        fired.add("year.inconsistent")
    if truth.published:
        deadline = (3, 31) if truth.level in ("county", "city", "province", "township") else (1, 31)
        if datetime.date.fromisoformat(truth.published) > datetime.date(truth.period_year + 1, *deadline):
            fired.add("publication.late")
    if truth.procurement is not None:
        fired.add("structure.outdated_template")
    if "五" in truth.order and len(re.sub(r"[\W_]+", "", truth.section_text("五"))) < 10:
        fired.add("narrative.thin_section")
    if active is not None and active["fees"] is not None:
        if active["fees"] >= {"township": 500, "department": 100000}.get(truth.level, float("inf")):
            fired.add("value.unit_suspect")
    one = truth.section_text("一")
    if any(not any(word in one for word in TOPIC_KEYWORDS[topic]) for topic in TOPICS):
        fired.add("narrative.missing_topics")
    return fired


def cross_year_fired(previous: GroundTruth, current: GroundTruth) -> set[str]:
    fired: set[str] = set()
    assert previous.requests is not None and current.requests is not None
    for c in range(7):
        before, now = previous.requests["carried_out"][c], current.requests["carried_in"][c]
        if before is not None and now is not None and before != now:
            fired.add("requests.carry_over_continuity")
    assert previous.active is not None and current.active is not None
    for row in ("regulations", "normative_documents"):
        last, this = previous.active[row], current.active[row]
        if last["in_force"] + this["issued"] - this["repealed"] != this["in_force"]:
            fired.add("regulations.in_force_continuity")
    if current.sections.get("五") == previous.sections.get("五"):
        fired.add("narrative.copied_from_prior_year")
    if current.cells() == previous.cells() and any(current.cells().values()):
        fired.add("tables.copied_from_prior_year")
    return fired


# ---------------------------------------------------------------------------------------------------------------
# Clean truths


@pytest.mark.parametrize("blanks", [False, True])
def test_clean_truths_keep_every_relation(blanks: bool) -> None:
    levels_seen = set()
    for seed in range(120):
        truth = truth_for(seed, blanks=blanks)
        levels_seen.add(truth.level)
        requests, appeals, active = truth.requests, truth.appeals, truth.active
        assert requests is not None and appeals is not None and active is not None
        assert list(requests) == list(REQUEST_KEYS) and all(len(row) == 7 for row in requests.values())
        for c in range(7):
            column = {k: requests[k][c] for k in REQUEST_KEYS}
            if blanks and c < 6:
                assert set(column.values()) == {None}
                continue
            assert all(isinstance(v, int) and v >= 0 for v in column.values())
            assert column["new"] + column["carried_in"] == column["total"] + column["carried_out"]
            assert column["total"] == sum(column[k] for k in OUTCOME_KEYS)
        if not blanks:
            for key in REQUEST_KEYS:
                assert requests[key][6] == sum(requests[key][:6]), key
        for block in APPEAL_BLOCKS:
            values = appeals[block]
            assert values["total"] == sum(values[k] for k in COUNTS)
        if requests["new"][6] == 0 and requests["carried_in"][6] == 0:
            assert all(appeals[b]["total"] == 0 for b in APPEAL_BLOCKS)
        if truth.level not in ("city", "province"):
            assert active["regulations"] == {"issued": 0, "repealed": 0, "in_force": 0}
        for row in ("regulations", "normative_documents"):
            counts = active[row]
            assert counts["in_force"] >= 0 and counts["in_force"] - counts["issued"] + counts["repealed"] >= 0
        assert isinstance(active["fees"], float) and active["fees"] >= 0
        one = truth.section_text("一")
        for topic in TOPICS:
            assert topic in one
        assert "信息处理费" in truth.section_text("六")
        new = requests["new"][6]
        if new:
            assert f"收到政府信息公开申请{new}件" in one
            assert "未收到" not in one
        else:
            assert "未收到政府信息公开申请" in one
            assert re.search(r"收到政府信息公开申请\d", one) is None
        assert truth.order == list(SECTION_NUMERALS)
        assert truth.year == truth.period_year
        if truth.published is not None:
            published = datetime.date.fromisoformat(truth.published)
            assert published.year == truth.year + 1
            assert published.month == 1 or (truth.level in ("county", "city", "province") and published.month <= 3)
        if not truth.show_title:
            assert truth.published is None
            assert re.search(rf"统计期限\S*{truth.year}年1月1日", "".join(truth.preface))
        assert truth.region is None or truth.title_name == truth.region + truth.name
        assert truth.title_name.endswith(truth.name)
        assert rules_fired(truth) == ({"structure.blank_cells"} if blanks else set()), seed
        assert set(violations(truth)) == rules_fired(truth), seed
    assert levels_seen == {"township", "county", "city", "province", "department"}


def test_names_follow_the_contract() -> None:
    examples = {}
    for seed in range(200):
        truth = truth_for(seed)
        examples.setdefault(truth.level, []).append(truth)
        if truth.level == "township":
            assert truth.name.endswith(("镇人民政府", "乡人民政府", "街道办事处"))
        elif truth.level in ("county", "city", "province"):
            assert truth.name.endswith("人民政府") and truth.name[:-4].endswith(("县", "区", "市", "省"))
        else:
            assert truth.region is not None and truth.name.endswith(("局", "委员会", "厅"))
    assert any(t.region is None for t in examples["township"])
    assert any(t.region for t in examples["township"])


def test_generation_is_deterministic() -> None:
    for layout in LAYOUTS:
        if layout == "docx":
            continue  # the zip container carries timestamps
        first = LAYOUTS[layout](truth_for(7), random.Random(3))
        second = LAYOUTS[layout](truth_for(7), random.Random(3))
        assert first == second, layout


def items(paragraphs: list[str]) -> set[str]:
    """The enumerated items of a section ("1.…", "一是…"), without their numbers."""
    return {re.sub(r"^(\d\.|[一二三四五六]是)", "", p) for p in paragraphs if re.match(r"^(\d\.|[一二三四五六]是)", p)}


def test_series_continue_from_year_to_year() -> None:
    for seed in range(40):
        series = make_series(random.Random(seed), [2022, 2023, 2024], blanks=seed % 5 == 0)
        assert [t.year for t in series] == [2022, 2023, 2024]
        assert len({(t.name, t.region, t.level) for t in series}) == 1
        for previous, current in itertools.pairwise(series):
            assert previous.requests is not None and current.requests is not None
            assert current.requests["carried_in"] == previous.requests["carried_out"]
            assert cross_year_fired(previous, current) == set(), seed
            assert not items(previous.sections["五"]) & items(current.sections["五"])  # 五 never repeats an item
        for truth in series:
            assert rules_fired(truth) <= {"structure.blank_cells"}


# ---------------------------------------------------------------------------------------------------------------
# Prose


def masked_part(truth: GroundTruth, part: str, *others: GroundTruth) -> str:
    """A part as narrative.copied_from_peer compares it: names, self-references and numbers masked."""
    names = [n for t in (truth, *others) for n in (t.name, name_key(t.name), t.region) if n]
    return masked(truth.section_text(part), names)


def test_bodies_write_their_own_prose() -> None:
    """300 bodies of one year: hardly any shares an LSH band of part 一 or 五 with another (stock sentences made
    every report a candidate copy of a dozen others), and none is a copy of another by the rule's threshold."""
    truths = []
    for seed in range(300):
        org = make_organization(random.Random(seed), ("township", "department")[seed % 2])
        truths.append(make_truth(random.Random(10_000 + seed), organization=org, year=2023))
    owners_of: dict[tuple[str, int, int], set[int]] = {}
    for index, truth in enumerate(truths):
        for part in ("一", "五"):
            for band, key in enumerate(band_keys(part, masked_part(truth, part))):
                owners_of.setdefault((part, band, key), set()).add(index)
    sharing = {
        i
        for owners in owners_of.values()
        if len({(truths[o].name, truths[o].region) for o in owners}) > 1
        for i in owners
    }
    assert len(sharing) <= 6, len(sharing)
    for first, second in itertools.combinations(sorted(sharing), 2):
        a, b = truths[first], truths[second]
        for part in ("一", "五"):
            assert similarity(masked_part(a, part, b), masked_part(b, part, a)) < 0.95


def test_a_peer_copy_is_what_the_rule_finds() -> None:
    for seed in range(20):
        rng = random.Random(seed)
        truth, peer = make_truth(rng, year=2023), make_truth(rng, year=2023)
        if (truth.name, truth.region) == (peer.name, peer.region):
            continue
        copied, expected = plant_peer_copy(truth, peer, rng)
        assert expected.rules == {"narrative.copied_from_peer"}
        assert copied.sections["一"] == truth.sections["一"] and copied.sections["六"] == truth.sections["六"]
        mine, theirs = masked_part(copied, "五", peer), masked_part(peer, "五", copied)
        assert similarity(mine, theirs) >= 0.95
        assert set(band_keys("五", mine)) & set(band_keys("五", theirs))
        assert similarity(masked_part(truth, "五", peer), theirs) < 0.95
    with pytest.raises(ValueError):
        plant_peer_copy(truth, make_truth(random.Random(1), year=2022), random.Random(1))
    with pytest.raises(ValueError):
        plant_peer_copy(truth, truth, random.Random(1))


def test_topic_words_stay_in_their_topic() -> None:
    """Section 一's words for a topic (as narrative.missing_topics reads them) appear only under that topic's
    sub-head, so a report without the topic's paragraphs touches no word of it."""
    for seed in range(150):
        truth = truth_for(seed)
        current, text_of = "", {}
        for paragraph in truth.sections["一"]:
            topic = next((t for t in TOPICS if re.match(rf"^（[一二三四五]）{t}", paragraph)), None)
            current = topic or current
            text_of[current] = text_of.get(current, "") + paragraph
        for topic, words in RULE_TOPICS.items():
            assert any(word in text_of[topic] for word in words), (seed, topic)
            for other, text in text_of.items():
                if other != topic:
                    assert not any(word in text for word in words), (seed, topic, other)


# ---------------------------------------------------------------------------------------------------------------
# Rendering


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_renders(layout: str) -> None:
    for seed in SEEDS:
        truth = truth_for(seed, blanks=seed % 5 == 0)
        result = LAYOUTS[layout](truth, random.Random(seed))
        if layout in ("docx", "pdf"):
            assert isinstance(result, bytes) and len(result) > 1000
            continue
        assert isinstance(result, str)
        assert "收到和处理" in result and "行政复议" in result and "第二十条" in result
        if truth.show_title:
            assert truth.title_name in result
        for words in ("总体情况", "主动公开政府信息情况", "行政复议、行政诉讼情况", "改进情况", "其他需要报告的事项"):
            assert words in result
        if layout in TEXT_LAYOUTS:
            assert len(re.findall(r"(?m)^[\s\u3000#]*[一二三四五六1-6]、 ?\S", result)) >= 6
        assert FILE_SUFFIX[layout] in ("txt", "md", "html")


@pytest.mark.parametrize("layout", ["tsv_shifted", "markdown", "cell_lines_tabs"])
def test_tab_layouts_carry_every_number(layout: str) -> None:
    for seed in range(20):
        truth = truth_for(seed, requests=True)
        text = LAYOUTS[layout](truth, random.Random(seed))
        assert isinstance(text, str)
        plain = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        assert truth.requests is not None
        for key in ("new", "total"):
            assert str(truth.requests[key][6]) in plain


def test_tsv_shifted_has_the_separator_after_table_four() -> None:
    text = LAYOUTS["tsv_shifted"](truth_for(1), random.Random(1))
    assert isinstance(text, str)
    lines = text.splitlines()
    separator = lines.index("\t".join(["---"] * 15))
    assert len(lines[separator - 1].split("\t")) == 15


def test_cell_lines_tabs_marks_blank_cells_with_nbsp() -> None:
    text = LAYOUTS["cell_lines_tabs"](truth_for(2, blanks=True), random.Random(2))
    assert isinstance(text, str)
    assert "\t\u00a0\n" in text
    for line in text.split("\n\n"):
        if line.startswith("\t一、本年新收"):
            assert line.count("\t\u00a0\n") >= 6


def test_html_tables_use_the_forms_merged_cells() -> None:
    text = LAYOUTS["html"](truth_for(4, blanks=True), random.Random(4))
    assert isinstance(text, str)
    assert text.count("<table") >= 3
    assert re.search(r'<t[dh] rowspan="3" colspan="3">', text)
    assert re.search(r'<td rowspan="22">(<[^>]+>)*三、本年度办理结果<', text)
    assert re.search(r'<td rowspan="8">(<[^>]+>)*[（(]三[）)]不予公开<', text)
    assert "<td></td>" in text


def test_docx_opens_with_python_docx() -> None:
    from docx import Document

    for seed in range(5):
        truth = truth_for(seed, requests=True)
        data = LAYOUTS["docx"](truth, random.Random(seed))
        assert isinstance(data, bytes) and data.startswith(b"PK")
        document = Document(io.BytesIO(data))
        requests_table = next(t for t in document.tables if "予以公开" in t.cell(5, 1).text)
        assert len(requests_table.rows) == 28 and len(requests_table.columns) == 10
        assert requests_table.cell(20, 0).text == "三、本年度办理结果"  # the rowspan-22 cell
        assert truth.requests is not None
        total = requests_table.cell(26, 9).text.strip(" \u3000\u00a0")
        assert total.translate(str.maketrans("０１２３４５６７８９", "0123456789")) == str(truth.requests["total"][6])
        appeals_table = document.tables[-1]
        assert len(appeals_table.columns) == 15
        text = "\n".join(p.text for p in document.paragraphs)
        assert "其他需要报告的事项" in text


def test_pdf_is_a_pdf_with_extractable_chinese() -> None:
    from report.formats import pdf

    truth = truth_for(11)
    data = LAYOUTS["pdf"](truth, random.Random(11))
    assert isinstance(data, bytes) and data.startswith(b"%PDF")
    text = "\n".join(line.text for line in pdf.read(data).blocks)
    assert "其他需要报告的事项" in text and "本年新收政府信息公开申请数量" in text


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("newline", NEWLINES)
def test_encodings_decode_back_to_the_same_text(encoding: str, newline: str) -> None:
    for layout in TEXT_LAYOUTS:
        text = LAYOUTS[layout](truth_for(5), random.Random(5))
        assert isinstance(text, str)
        data = encode_as(text, encoding, newline)
        if encoding == "utf-8-sig":
            assert data.startswith(b"\xef\xbb\xbf")
        decoded = data.decode(encoding)
        assert decoded.replace("\r\n", "\n") == text
        assert ("\r\n" in decoded) == (newline == "\r\n")


def test_encode_picks_every_encoding() -> None:
    rng = random.Random(0)
    seen = set()
    for _ in range(60):
        data = encode("二、主动公开政府信息情况\n", rng)
        for encoding in ENCODINGS:
            try:
                if data.decode(encoding).lstrip("\ufeff").replace("\r\n", "\n") == "二、主动公开政府信息情况\n":
                    seen.add((encoding, data.startswith(b"\xef\xbb\xbf"), b"\r\n" in data))
                    break
            except UnicodeDecodeError:
                continue
    assert {s[0] for s in seen} >= {"utf-8", "gb18030"} and any(s[1] for s in seen) and any(s[2] for s in seen)


# ---------------------------------------------------------------------------------------------------------------
# Defects


@pytest.mark.parametrize("kind", KINDS)
def test_each_defect_breaks_what_it_says(kind: str) -> None:
    for seed in range(12):
        truth = truth_for(seed, blanks=seed % 4 == 3, requests=seed % 2 == 0)
        before = rules_fired(truth)
        modified, expected = plant(truth, kind, random.Random(seed))
        after = rules_fired(modified)
        assert truth.cells() == truth_for(seed, blanks=seed % 4 == 3, requests=seed % 2 == 0).cells()  # untouched
        assert expected.kind == kind and kind in expected.rules
        assert kind in after, (seed, after)
        assert expected.rules <= after, (seed, expected.rules, after)
        assert after - before <= expected.rules | expected.optional, (seed, after - before, expected)
        assert expected.all_rules == after
        for path in expected.cells:
            assert path in modified.cells()
        if kind == "value.invalid":
            (path,) = expected.cells
            if path in modified.raw_cells:
                assert modified.cell(path) is None and modified.raw_cells[path] in INVALID_TEXTS
            else:
                assert modified.cell(path) == -1
        if kind == "structure.blank_cells":
            assert expected.cells and all(modified.cell(p) is None for p in expected.cells)
        if kind == "structure.missing_table":
            assert modified.appeals is None
        if kind == "publication.late":
            assert modified.level == "department" and modified.published == f"{modified.period_year + 1}-03-02"
        if kind == "regulations.ineligible_issuer":
            assert modified.level in ("township", "county", "department")
            assert modified.active is not None and modified.active["regulations"]["issued"] > 0
        if kind == "narrative.contradicts_table":
            assert modified.requests is not None and modified.claimed_new != modified.requests["new"][6]
            one = modified.section_text("一")
            assert (f"申请{modified.claimed_new}件" in one) if modified.claimed_new else ("未收到" in one)
        if kind == "year.inconsistent":
            assert modified.show_title and modified.year != modified.period_year
            assert re.search(rf"统计期限\S*{modified.period_year}年1月1日", modified.all_text())


def test_table_defects_name_the_relations_they_break() -> None:
    for seed in range(30):
        truth = truth_for(seed, requests=True)
        modified, expected = plant(truth, "requests.balance", random.Random(seed))
        assert expected.rules == {"requests.balance"}  # carried_out moved in an applicant column and in 总计
        assert all(p.startswith("requests.carried_out[") for p in expected.cells)
        assert all(modified.cell(p) != truth.cell(p) for p in expected.cells)
        assert {p[-2] for p in expected.relation_cells["requests.balance"]} == {p[-2] for p in expected.cells}
        modified, expected = plant(truth, "requests.total_column", random.Random(seed))
        assert expected.rules == {"requests.total_column"}
        assert all(p.endswith("[6]") for p in expected.relation_cells["requests.total_column"])
        assert modified.requests is not None and modified.requests["new"][6] == modified.claimed_new
        _, expected = plant(truth, "requests.total_row", random.Random(seed))
        assert expected.rules == {"requests.total_row"}
        _, expected = plant(truth, "appeals.totals", random.Random(seed))
        assert "appeals.totals" in expected.rules
    # a change in one cell can break several relations: every one of them is named
    blank = truth_for(1, requests=True)
    assert blank.requests is not None
    blank.requests["total"][2] = (blank.requests["total"][2] or 0) + 1
    assert {"requests.balance", "requests.total_row", "requests.total_column"} <= set(violations(blank))


@pytest.mark.parametrize("kind", SERIES_KINDS)
def test_each_cross_year_defect_breaks_what_it_says(kind: str) -> None:
    for seed in range(10):
        series = make_series(random.Random(seed), [2022, 2023, 2024], blanks=seed % 3 == 2)
        modified, expected = plant_series(series, kind, random.Random(seed))
        assert [t.sections for t in modified[:-1]] == [t.sections for t in series[:-1]]
        previous, last = modified[-2], modified[-1]
        assert kind in cross_year_fired(previous, last)
        assert cross_year_fired(series[-2], series[-1]) == set()
        assert kind in expected.rules
        # the year itself stays consistent: nothing but the cross-year rule fires
        assert rules_fired(last) <= {"structure.blank_cells"}


def test_missing_section_drops_or_swaps_five() -> None:
    orders = set()
    for seed in range(20):
        modified, _ = plant(truth_for(seed), "structure.missing_section", random.Random(seed))
        orders.add(tuple(modified.order))
    assert orders == {("一", "二", "三", "四", "六"), ("一", "二", "三", "四", "六", "五")}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_defects_render(layout: str) -> None:
    for index, kind in enumerate(KINDS):
        truth, expected = plant(truth_for(index), kind, random.Random(index))
        result = LAYOUTS[layout](truth, random.Random(index))
        if isinstance(result, bytes):
            continue
        if kind == "structure.outdated_template":
            assert "第二十条第" in result and "九" in result and "政府集中采购" in result
        if kind == "value.invalid":
            assert truth.raw_cells.get(expected.cells[0], "-1") in result
        if kind == "structure.missing_table":
            assert "复议后起诉" not in result
        if kind == "fees.statement_missing":
            assert "信息处理费" not in result


# ---------------------------------------------------------------------------------------------------------------
# Title damage


def _damaged_text(form: str, wrappings: list[str], seed: int = 5) -> tuple[GroundTruth, list[str]]:
    rng = random.Random(seed)
    damaged = damage_title(truth_for(seed, show_title=True), form, wrappings, rng)
    text = LAYOUTS["tsv_shifted"](damaged, random.Random(seed))
    assert isinstance(text, str)
    return damaged, [line.strip() for line in text.splitlines() if line.strip()]


def test_title_forms_print_what_they_say() -> None:
    truth, lines = _damaged_text("spaced_year", [])
    assert f"{truth.title_name} {truth.year} 年政府信息公开工作年度报告" in lines[0]
    truth, lines = _damaged_text("chinese_year", [])
    assert f"{truth.title_name}{chinese_year(truth.year)}年" in lines[0] and str(truth.year) not in lines[0]
    truth, lines = _damaged_text("guanyu", [])
    assert lines[0].endswith(f"{truth.title_name}关于{truth.year}年度政府信息公开工作情况的报告")
    assert chinese_year(2023) == "二〇二三"


@pytest.mark.parametrize("form", ["preface", "signature"])
def test_body_named_only_in_preface_or_signature(form: str) -> None:
    truth, lines = _damaged_text(form, [])
    assert truth.title_name not in lines[0]
    naming = [line for line in lines if truth.title_name in line]
    assert naming, "the body is named somewhere"
    if form == "preface":
        assert all(line.startswith("根据") for line in naming)
    else:
        assert naming == [truth.title_name] and lines[-2] == truth.title_name


def test_split_title_sits_under_a_page_number() -> None:
    truth, lines = _damaged_text("plain", ["split"])
    assert re.fullmatch(r"[-—]\s*1\s*[-—]|第 1 页 共 9 页|1/9", lines[0])
    assert lines[1] == truth.title_name and lines[2].startswith(str(truth.year))


def test_crawler_header_and_page_chrome_come_before_the_title() -> None:
    truth, lines = _damaged_text("plain", ["crawler_label", "page_chrome"])
    assert re.match(r"标题\s*[:：]", lines[0]) and truth.title in lines[0]
    assert lines[1].startswith("发布时间")
    chrome = [line for line in lines if line.startswith("当前位置")]
    assert chrome and truth.title in chrome[0]
    source = next(line for line in lines if "来源：" in line)
    assert truth.title_name not in source.split("来源：")[1], "the page's 来源 names another government"
    assert lines.index(truth.title) > lines.index(chrome[0])


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_title_damage_renders(layout: str) -> None:
    for form, count in itertools.product(TITLE_FORMS, range(len(TITLE_WRAPPINGS) + 1)):
        rng = random.Random(count)
        damaged = damage_title(truth_for(count, show_title=True), form, list(TITLE_WRAPPINGS[:count]), rng)
        assert LAYOUTS[layout](damaged, random.Random(count))


def test_unknown_title_damage_is_refused() -> None:
    with pytest.raises(ValueError):
        damage_title(truth_for(1, show_title=True), "upside_down", [], random.Random(1))
