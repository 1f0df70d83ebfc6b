"""A database for the web tests: the seed reports and a generated multi-year set, written as a share
(<share>/<county>/<body>/<year>.<suffix>) and stored through `nianbao ingest`, as a reviewer's would be.

Nothing here is a test: the web test modules import it."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from click.testing import CliRunner

from nianbao.cli import main
from tests.generator import FILE_SUFFIX, LAYOUTS, make_organization, make_series, plant_series
from tests.seed_samples import seed_path

# The seeds where the ingest tests put them: 白鹤镇 of 房县 has 2022 and 2023 (whose 表三 总计 does not add up).
SEED_FILES = {
    "000": "房县/白鹤镇/2022.txt",
    "002": "房县/白鹤镇/2023.txt",
    "003": "加格达奇区/白桦乡/2022.txt",
    "004": "孟津区/白鹤镇/2024.txt",
    "001": "001.txt",
}
YEARS = (2021, 2022, 2023, 2024)
# One planted defect in the last year of each generated body (None: a clean series).
PLANTED = (
    "requests.total_row",
    "requests.balance",
    "appeals.totals",
    "regulations.ineligible_issuer",
    "requests.carry_over_continuity",
    None,
    "value.invalid",
    "narrative.missing_topics",
)
LAYOUT_NAMES = sorted(LAYOUTS)


def write_share(root: Path, bodies: int = len(PLANTED)) -> Path:
    """The seeds, two unreadable files and `bodies` generated townships with four years each; returns the
    share's folder."""
    share = root / "share"
    for prefix, relative in SEED_FILES.items():
        target = share / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(seed_path(prefix), target)
    # Files that cannot be read: they end `failed` in the ledger, with their reasons.
    (share / "房县" / "坏文件.pdf").write_bytes(b"%PDF-1.7\n\x00\x01garbage")
    (share / "房县" / "随机.docx").write_bytes(random.Random(16).randbytes(3000))
    names = {"白鹤镇人民政府", "白桦乡人民政府"}  # the seeds' bodies: a namesake in their county would be theirs
    for index in range(bodies):
        rng = random.Random(7000 + index)
        organization = make_organization(rng, "township")
        while organization.region is None or organization.name in names:
            organization = make_organization(rng, "township")
        names.add(organization.name)
        series = make_series(rng, YEARS, organization=organization)
        kind = PLANTED[index % len(PLANTED)]
        if kind is not None:
            series, _ = plant_series(series, kind, random.Random(8000 + index))
        folder = share / organization.region / organization.name
        folder.mkdir(parents=True, exist_ok=True)
        for number, truth in enumerate(series):
            layout = LAYOUT_NAMES[(index + number) % len(LAYOUT_NAMES)]
            rendered = LAYOUTS[layout](truth, random.Random(9000 + index * 10 + number))
            content = rendered if isinstance(rendered, bytes) else rendered.encode("utf-8")
            (folder / f"{truth.year}.{FILE_SUFFIX[layout]}").write_bytes(content)
    return share


def ingest(url: str, *paths: Path) -> str:
    """`nianbao ingest PATHS --db URL`; its output."""
    result = CliRunner().invoke(main, ["ingest", *map(str, paths), "--db", url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def add_reviewer(url: str, name: str, password: str) -> None:
    """`nianbao user add NAME --password-stdin --db URL`."""
    result = CliRunner().invoke(
        main, ["user", "add", name, "--password-stdin", "--db", url], input=f"{password}\n", catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
