"""Whole-text views of a report that several rules read, made once per report rather than once per rule."""

from __future__ import annotations

from functools import lru_cache

from report.model import Report
from report.normalized import compact

# Reports whose views are remembered: the one being judged, its earlier years and its peers.
_REMEMBERED_REPORTS = 64


def compact_sections(report: Report) -> dict[str, str]:
    """Each section's text `compact`ed (NFKC, no whitespace): what the prose rules compare.

    Keyed by the section texts themselves, so a report whose text changes gets a new view."""
    return _compact_sections(tuple(report.evidence.section_text.items()))


@lru_cache(maxsize=_REMEMBERED_REPORTS)
def _compact_sections(sections: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {part: compact(text) for part, text in sections}
