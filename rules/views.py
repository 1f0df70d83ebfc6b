"""Whole-text views of a report that several rules read, made once per report rather than once per rule, and
the cheap way the rules look for words in them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from report.model import Report
from report.normalized import compact

Derived = TypeVar("Derived")
# Reports whose views are remembered: the one being judged, its earlier years and its peers.
_REMEMBERED_REPORTS = 64
# What ends a sentence in a `compact`ed text: 。 and the ; ! ? that NFKC makes of ；！？ (line ends went with the
# whitespace). In `sentence_text` the others are made 。 and a 。 ends each section.
SENTENCE_END = "。"
OTHER_SENTENCE_ENDS = (";", "!", "?")
# Characters so frequent in reports' prose that a word is better looked for by another of its characters.
# Most frequent first; the order only chooses among a word's characters (`Words`), it never changes an answer.
COMMON_CHARACTERS = "的公开信息政府年度工作申请行政一本上件规范性文部门人中有为和在对及了等以县市镇局区发提高加强进"


class _ProseViews:
    """A report's compacted sections, their sentences as one text once a rule asks for it, and what rules derive
    from that text alone (`derived`)."""

    __slots__ = ("derived", "sections", "sentence_text")

    def __init__(self, sections: dict[str, str]) -> None:
        self.sections = sections
        self.sentence_text: str | None = None
        self.derived: dict[Hashable, Any] = {}


def compact_sections(report: Report) -> dict[str, str]:
    """Each section's text `compact`ed (NFKC, no whitespace): what the prose rules compare.

    Keyed by the section texts themselves, so a report whose text changes gets a new view."""
    return _views_of(report).sections


def sentence_text(report: Report) -> str:
    """The compacted sections, section after section, as one text whose sentences each end in one 。: the other
    ends made 。 and a 。 between sections. Split at 。, it gives every section's sentences in turn (empty ones
    too, where two ends meet); `Words.sentences_at` picks out those holding a word without splitting it."""
    return _sentence_text_of(_views_of(report))


def _sentence_text_of(views: _ProseViews) -> str:
    if views.sentence_text is None:
        views.sentence_text = one_sentence_end(SENTENCE_END.join(views.sections.values()))
    return views.sentence_text


def derived(report: Report, make: Callable[..., Derived], *arguments: Hashable) -> Derived:
    """`make(sentence_text(report), *arguments)`, made once for the report's views and kept with them under
    (`make`, *`arguments`): a report judged again, or a copy of it, is given what was made for it. What it gives is
    shared: callers only read it."""
    views = _views_of(report)
    key = (make, *arguments)
    found = views.derived.get(key)
    if found is None:
        found = views.derived[key] = make(_sentence_text_of(views), *arguments)
    return found  # type: ignore[no-any-return]


def one_sentence_end(text: str) -> str:
    """A `compact`ed text with every sentence end made SENTENCE_END."""
    for end in OTHER_SENTENCE_ENDS:
        if end in text:  # found at `memchr` speed; `replace` counts them first, a character at a time
            text = text.replace(end, SENTENCE_END)
    return text


# The views of the section texts' dicts asked about lately, by the dict's id: (the dict, a copy of it, its views).
# A report's rules ask for its views about six times; finding them by the texts (a tuple of the items, hashed)
# costs twice as much as checking that the dict is one seen and still equals its copy. The entry holds the dict,
# so no other dict takes its id while it is there.
_recent: dict[int, tuple[dict[str, str], dict[str, str], _ProseViews]] = {}
# The views of the reports seen lately, by their source file's SHA-256: (the section texts' items, their views).
# A file read again gives items equal to those, whose texts compare as memory, where hashing the texts to look
# them up costs a pass over every character; a report whose items differ from its file's last is viewed anew.
_by_source: dict[str, tuple[tuple[tuple[str, str], ...], _ProseViews]] = {}


def _views_of(report: Report) -> _ProseViews:
    sections = report.evidence.section_text
    seen = _recent.get(id(sections))
    if seen is not None and seen[1] == sections:
        return seen[2]
    items = tuple(sections.items())
    source = report.source.sha256
    known = _by_source.get(source)
    if known is not None and known[0] == items:
        views = known[1]
    else:
        views = _viewed(items)
        _remember(_by_source, source, (items, views))
    _remember(_recent, id(sections), (sections, dict(sections), views))
    return views


def _remember(remembered: dict[Any, Any], key: Any, entry: Any) -> None:
    """`remembered[key] = entry`, the oldest entry dropped first when _REMEMBERED_REPORTS are there; another
    thread (the web app's) may drop it first."""
    if len(remembered) >= _REMEMBERED_REPORTS:
        try:
            oldest = next(iter(remembered), None)  # None: no key
        except RuntimeError:  # another thread changed the dict between the iterator's making and its first step
            oldest = None
        remembered.pop(oldest, None)
    remembered[key] = entry


def _viewed(items: tuple[tuple[str, str], ...]) -> _ProseViews:
    """The views of a report's section texts (`compact` of each, their sentence text made at once).

    Each text without its spaces and line ends, as `_compact_lines` makes it, is its `compact` when it holds no
    other whitespace and is NFKC; both are asked once of the texts joined by SENTENCE_END, not of each (a call
    each costs as much as some hundred characters' tests). A text without whitespace holds none in any part,
    and a part of NFKC text is NFKC: cutting text off takes away chances to reorder or compose characters and
    makes none (tests/test_rule_views.py checks random texts). Otherwise each text is asked on its own."""
    joined = {part: _without_spaces_and_line_ends(text) for part, text in items}
    sentences = SENTENCE_END.join(joined.values())
    if sentences.split() == [sentences] and unicodedata.normalize("NFKC", sentences) == sentences:
        views = _ProseViews(joined)
        views.sentence_text = one_sentence_end(sentences)
        return views
    return _ProseViews({part: _compact_lines(text) for part, text in items})


def _without_spaces_and_line_ends(text: str) -> str:
    # `in` finds a space at `memchr` speed; `replace` counts them first, a character at a time (prose has few)
    return (text.replace(" ", "") if " " in text else text).replace("\n", "")


def _compact_lines(text: str) -> str:
    """`compact(text)`, cheaper for what the parser keeps: lines already normalized, joined by line ends.

    Such a text's only whitespace is spaces and line ends, and dropping them leaves NFKC text. When that is so,
    it is `compact(text)`: NFKC changes nothing across a space or a line end, and the pieces between them are
    parts of NFKC text, so NFKC already. `split` gives back the text itself when it holds no whitespace (a
    plain test of each character, where `isprintable` looks up its properties); when it holds other whitespace,
    or is not NFKC, `compact` does the work."""
    joined = _without_spaces_and_line_ends(text)
    # `normalize` hands back the text itself when its quick check passes (cheaper than `is_normalized`)
    if joined.split() == [joined] and unicodedata.normalize("NFKC", joined) == joined:
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
        for character, word in self._gated:  # `first_in`'s loop, without a second call
            if character in text and word in text:
                return True
        return False

    def first_in(self, text: str) -> str | None:
        """The first of the words (in their order) that `text` holds."""
        for character, word in self._gated:
            if character in text and word in text:
                return word
        return None

    def sentences_at(self, text: str) -> dict[int, str]:
        """The sentences of `text` (the pieces between two SENTENCE_ENDs, or an end and the text's edge) that
        hold one of the words, by where each starts: those of `text.split(SENTENCE_END)` for which `any_in` is
        true. Each word is looked for in the whole text, and after a sentence holding it from that sentence's
        end on: a few searches of the text cost less than a look into every sentence. A word whose least common
        character the text lacks is not searched for."""
        found: dict[int, str] = {}
        find = text.find
        for character, word in self._gated:
            if character not in text:
                continue
            at = find(word)
            while at >= 0:
                start = text.rfind(SENTENCE_END, 0, at) + 1
                end = find(SENTENCE_END, at)
                if end < 0:
                    end = len(text)
                if start not in found:
                    found[start] = text[start:end]
                at = find(word, end)
        return found

    def count_in(self, text: str) -> int:
        """How often the words occur in `text`, each counted as `str.count` counts it."""
        return sum(text.count(word) for character, word in self._gated if character in text)
