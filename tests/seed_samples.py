"""Seed-like reports: the five seed reports of ../shared/corpus/seeds as the generator renders them, so that the
suite needs nothing outside the repository.

Each keeps what the tests rely on from its seed — the body, region, year and publication date, the layout, the
tables and the defects — with the generator's own prose.  The seeds themselves (and their expected contract output)
are checked outside pytest, by `../shared/tools/check_contract.py` in `scripts/test`.

| prefix | body as the title names it | year | layout           | fires (besides narrative.missing_topics)             |
|--------|----------------------------|------|------------------|------------------------------------------------------|
| 000    | 白鹤镇人民政府 (no region)  | 2022 | spaces           | fees.statement_missing                              |
| 001    | none: the report has no title | 2022 | cell_lines_tabs | structure.blank_cells, fees.statement_missing     |
| 002    | 房县白鹤镇人民政府           | 2023 | cell_lines_blank | regulations.ineligible_issuer, requests.total_row and requests.balance (表三 总计行 其他/总计 = 1, every other cell 0) |
| 003    | 加格达奇区白桦乡人民政府      | 2022 | tsv_shifted      | fees.statement_missing (section 六 gives a telephone number) |
| 004    | 孟津区白鹤镇人民政府          | 2024 | markdown         | nothing: one application granted, one review corrected |

Nothing here is a test: test modules import it.  `SEEDS` is a folder written once per process with the files
`000_seedlike.txt` … `004_seedlike.txt`, laid out like the seed folder."""

from __future__ import annotations

import atexit
import copy
import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from report.model import APPEAL_BLOCKS, REQUEST_KEYS
from tests.generator import (
    _NO_APPEALS_NOTE,
    TOPICS,
    GroundTruth,
    Organization,
    _claim,
    _section_one,
    make_truth,
    plant,
    render,
)

PREFIXES: tuple[str, ...] = ("000", "001", "002", "003", "004")
RULE_IDS_OF_TABLE_ERRORS = ("requests.total_row", "requests.balance")


@dataclass(frozen=True)
class SeedSample:
    prefix: str
    layout: str
    truth: GroundTruth
    required: frozenset[str]  # rules that must fire (the seed's `findings_required`)
    topics: tuple[str, ...]  # the topics section 一 covers (the others make narrative.missing_topics fire)

    @property
    def file_name(self) -> str:
        return f"{self.prefix}_seedlike.txt"  # every seed is a .txt file, seed 004 holding Markdown


def _organization(title_name: str, name: str, region: str | None, self_name: str) -> Organization:
    return Organization(title_name, name, region, "township", self_name, "0719-3221456")


_SPECS: dict[str, tuple[str, Organization, int, bool, tuple[str, ...]]] = {
    # prefix: (layout, organization, year, show_title, topics of section 一)
    "000": ("spaces", _organization("白鹤镇人民政府", "白鹤镇人民政府", None, "我镇"), 2022, True, TOPICS[:3]),
    "001": ("cell_lines_tabs", _organization("白鹤镇人民政府", "白鹤镇人民政府", None, "我镇"), 2022, False, TOPICS[:1]),
    "002": ("cell_lines_blank", _organization("房县白鹤镇人民政府", "白鹤镇人民政府", "房县", "我镇"), 2023, True, TOPICS[:4]),
    "003": ("tsv_shifted", _organization("加格达奇区白桦乡人民政府", "白桦乡人民政府", "加格达奇区", "我乡"), 2022, True, TOPICS[:2]),
    "004": ("markdown", _organization("孟津区白鹤镇人民政府", "白鹤镇人民政府", "孟津区", "我镇"), 2024, True, TOPICS),
}  # fmt: skip


def _zero_tables(truth: GroundTruth) -> None:
    truth.active = {
        "regulations": {"issued": 0, "repealed": 0, "in_force": 0},
        "normative_documents": {"issued": 0, "repealed": 0, "in_force": 0},
        "licensing": 0,
        "penalty": 0,
        "coercion": 0,
        "fees": 0,
    }
    truth.requests = {key: [0] * 7 for key in REQUEST_KEYS}
    truth.appeals = {
        block: {"upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0} for block in APPEAL_BLOCKS
    }


@cache
def sample(prefix: str) -> SeedSample:
    """The seed-like report of the seed whose file name starts with `prefix` ("000" … "004")."""
    layout, organization, year, show_title, topics = _SPECS[prefix]
    rng = random.Random(f"seed-{prefix}")
    truth = make_truth(rng, organization=organization, year=year, show_title=show_title, requests=False)
    _zero_tables(truth)
    truth.raw_cells, truth.procurement = {}, None
    truth.published = "2024-01-23" if prefix == "002" else None
    required: set[str] = set()
    if prefix == "002":
        assert truth.active is not None and truth.requests is not None
        truth.active["regulations"] = {"issued": 2, "repealed": 0, "in_force": 2}
        truth.requests["total"] = [0, 0, 0, 0, 0, 1, 1]
        required |= {"regulations.ineligible_issuer", *RULE_IDS_OF_TABLE_ERRORS}
    if prefix == "004":
        assert truth.requests is not None and truth.appeals is not None
        for key in ("new", "granted", "total"):
            truth.requests[key] = [1, 0, 0, 0, 0, 0, 1]
        truth.appeals["review"].update(corrected=1, total=1)
    claimed = truth.requests["new"][6] if truth.requests else 0
    claim = _claim(rng, claimed or 0, year, organization.self_name)
    truth.claimed_new, truth.claim_sentence = claimed or 0, claim
    truth.sections["一"] = _section_one(rng, organization, year, claim, topics)
    # Seed 002 says in prose that there was no review or lawsuit: a review added later contradicts it.
    truth.sections["四"] = [_NO_APPEALS_NOTE] if prefix == "002" else []
    if prefix == "001":
        truth.preface = [f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"]
        for key in REQUEST_KEYS:
            truth.requests[key][:6] = [None] * 6  # type: ignore[index]
        required.add("structure.blank_cells")
    truth.sections["六"] = [p for p in truth.sections["六"] if "联系电话" not in p]
    if prefix in ("000", "001", "003"):
        truth, _ = plant(truth, "fees.statement_missing", rng)
        required.add("fees.statement_missing")
    if prefix == "003":
        truth.sections["六"].append(f"如对本报告有疑问，请与{organization.title_name}联系，联系电话：0457-2741208。")
    if len(topics) < len(TOPICS):
        required.add("narrative.missing_topics")
    return SeedSample(prefix, layout, truth, frozenset(required), topics)


def content(prefix: str, change: Callable[[GroundTruth], None] | None = None) -> bytes:
    """The seed-like file's bytes (UTF-8, LF); with `change`, of a copy of its truth that `change` modified, in
    the same layout and style."""
    seed = sample(prefix)
    truth = copy.deepcopy(seed.truth)
    if change is not None:
        change(truth)
    return render(seed.layout, truth, random.Random(f"render-{prefix}"))


@cache
def _seed_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="nianbao-seeds-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for prefix in PREFIXES:
        (folder / sample(prefix).file_name).write_bytes(content(prefix))
    return folder


def seed_path(prefix: str) -> Path:
    """The seed-like file of `prefix`, written once per process."""
    return _seed_folder() / sample(prefix).file_name


def seed_paths() -> list[Path]:
    """The five seed-like files, in seed order."""
    return [seed_path(prefix) for prefix in PREFIXES]
