"""Whole-text views of a report that several rules read, made once per report rather than once per rule, and
the cheap way the rules look for words in them."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from report.model import Report
from report.normalized import compact

# Reports whose views are remembered: the one being judged, its earlier years and its peers.
_REMEMBERED_REPORTS = 64
# Characters so frequent in reports' prose that a word is better looked for by another of its characters.
# Most frequent first; the order only chooses among a word's characters (`Words`), it never changes an answer.
COMMON_CHARACTERS = "的公开信息政府年度工作申请行政一本上件规范性文部门人中有为和在对及了等以县市镇局区发提高加强进"


def compact_sections(report: Report) -> dict[str, str]:
    """Each section's text `compact`ed (NFKC, no whitespace): what the prose rules compare.

    Keyed by the section texts themselves, so a report whose text changes gets a new view."""
    return _compact_sections(tuple(report.evidence.section_text.items()))


@lru_cache(maxsize=_REMEMBERED_REPORTS)
def _compact_sections(sections: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {part: _compact_lines(text) for part, text in sections}


def _compact_lines(text: str) -> str:
    """`compact(text)`, cheaper for what the parser keeps: lines already normalized, joined by line ends.

    Such a text's only whitespace is spaces and line ends, and dropping them leaves NFKC text. When that is so,
    it is `compact(text)`: NFKC changes nothing across a space or a line end, and the pieces between them are
    parts of NFKC text, so NFKC already. `isprintable` is false for every other whitespace character (each is a
    control or a separator), and then, or when the text is not NFKC, `compact` does the work."""
    joined = text.replace(" ", "").replace("\n", "")
    # `normalize` hands back the text itself when its quick check passes (cheaper than `is_normalized`)
    if joined.isprintable() and unicodedata.normalize("NFKC", joined) == joined:
        return joined
    return compact(text)


def _rarity(character: str) -> int:
    found = COMMON_CHARACTERS.find(character)
    return len(COMMON_CHARACTERS) if found < 0 else found


class Words:
    """Words looked for in texts, each behind its least common character: in CPython a one-character search runs
    at `memchr` speed, while a search for a word of two or more CJK characters costs ~40 times as much per
    character (3.11, UCS-2 text), and most texts lack most words. The answers are those of plain `in`."""

    __slots__ = ("_gated", "words")

    def __init__(self, *words: str) -> None:
        self.words = words
        self._gated = tuple((max(word, key=_rarity), word) for word in words)

    def any_in(self, text: str) -> bool:
        """Whether `text` holds one of the words."""
        return self.first_in(text) is not None

    def first_in(self, text: str) -> str | None:
        """The first of the words (in their order) that `text` holds."""
        for character, word in self._gated:
            if character in text and word in text:
                return word
        return None

    def count_in(self, text: str) -> int:
        """How often the words occur in `text`, each counted as `str.count` counts it."""
        return sum(text.count(word) for character, word in self._gated if character in text)
