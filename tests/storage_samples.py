"""Reports for the storage tests: the seed-like reports (tests/seed_samples.py) parsed and judged, and changed
copies of them.

Nothing here is a test: the storage test modules import it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache

from nianbao.judge import judge
from nianbao.settings import Settings
from report.model import Report
from report.parse import parse_file
from tests.seed_samples import seed_path


@cache
def _parsed(stem_prefix: str) -> Report:
    return parse_file(seed_path(stem_prefix))


def seed(stem_prefix: str) -> Report:
    """A fresh copy of the parsed seed-like report whose file name starts with `stem_prefix` ("000" … "004")."""
    return _parsed(stem_prefix).model_copy(deep=True)


def judged(report: Report, earlier: Sequence[Report] = ()) -> Report:
    return judge(report, list(earlier), Settings())


def variant(report: Report, tag: str, *, year: int | None = None, **organization: str | None) -> Report:
    """A copy with new content: a sha256 made from `tag`, optionally another year (title, period and publication
    date follow it) and organization fields (name=…, region=…)."""
    copy = report.model_copy(deep=True)
    copy.source.sha256 = hashlib.sha256(tag.encode()).hexdigest()
    copy.source.path = f"/share/{tag}.txt"
    copy.findings, copy.compared_with = [], None
    if year is not None:
        copy.year = year
        copy.published = f"{year + 1}-01-20"
        copy.evidence.title_year = year
        copy.evidence.period_years = [year]
    for field, value in organization.items():
        setattr(copy.organization, field, value)
    return copy
