"""The one normal form report text is compared in: NFKC with whitespace collapsed (or removed).

Both functions are pure and see the same lines again and again (every row label of the national format,
every heading, in every report), so they remember recent answers for short lines: a line is normalised once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from functools import lru_cache
from itertools import chain, compress, filterfalse, islice
from typing import Any, Generic, TypeVar

Answer = TypeVar("Answer")
Key = TypeVar("Key", bound=Hashable)

# Distinct short lines remembered, and what counts as short: a bound on the memory the cache can hold
# (~16k × 200 characters), while a crawler's one-line page is simply normalised each time.
REMEMBERED_LINES = 16384
REMEMBERED_LENGTH = 200


# Characters NFKC changes on their own that Chinese reports are full of, each with what NFKC makes of it: the
# four that most lines hold, then the others; and the full-width digits, replaced only where one is found.
_MOST_CHANGED = tuple((char, unicodedata.normalize("NFKC", char)) for char in "，（）：")
_COMMON_CHANGED = tuple((char, unicodedata.normalize("NFKC", char)) for char in "；？！％／－．\u3000\u00a0")
_FULL_WIDTH_DIGITS = tuple((char, unicodedata.normalize("NFKC", char)) for char in "０１２３４５６７８９")
_FULL_WIDTH_DIGIT = re.compile("[０-９]")


def nfkc(text: str) -> str:
    """`unicodedata.normalize("NFKC", text)`, in a fraction of its time for most report text.

    NFKC decomposes each character on its own before composing: replacing characters by what NFKC makes of
    each alone changes nothing NFKC sees, so when what that leaves is NFKC already (checked in C at a few
    nanoseconds a character) it is the answer; otherwise NFKC is run on the text as given."""
    replaced, done = _replaced(text)
    return replaced if done else unicodedata.normalize("NFKC", text)


def _replaced(text: str) -> tuple[str, bool]:
    """`nfkc`'s replacements: the text with the characters it holds of those replaced, and whether that is NFKC
    (then it is the text's NFKC)."""
    if unicodedata.is_normalized("NFKC", text):
        return text, True
    replaced = text
    for char, replacement in _MOST_CHANGED:
        if char in replaced:  # an `in` costs less than a `replace` that finds nothing
            replaced = replaced.replace(char, replacement)
    if unicodedata.is_normalized("NFKC", replaced):
        return replaced, True  # most text: it held none of the others, nor a full-width digit (those are not NFKC)
    for char, replacement in _COMMON_CHANGED:
        if char in replaced:
            replaced = replaced.replace(char, replacement)
    if unicodedata.is_normalized("NFKC", replaced):
        return replaced, True
    if _FULL_WIDTH_DIGIT.search(replaced):
        for char, replacement in _FULL_WIDTH_DIGITS:
            replaced = replaced.replace(char, replacement)
        return replaced, unicodedata.is_normalized("NFKC", replaced)
    return replaced, False


def _nfkc_lines(lines: list[str]) -> list[str]:
    """`nfkc` of each of the lines (none holding a line end), its replacements and checks run once over the lines
    joined by line ends: NFKC never reaches across a line end nor makes one (tests/test_normalized.py checks
    every character), so the joined text's replacements are each line's, and when the joined text is then NFKC,
    so is each line."""
    return _nfkc_joined("\n".join(lines), lines)


def _nfkc_joined(joined: str, lines: list[str]) -> list[str]:
    """`_nfkc_lines` of the lines, given them joined by line ends."""
    replaced, done = _replaced(joined)
    pieces = replaced.split("\n")
    if done:
        return pieces
    return [
        piece if unicodedata.is_normalized("NFKC", piece) else unicodedata.normalize("NFKC", line)
        for piece, line in zip(pieces, lines, strict=True)
    ]


def _normalize(text: str) -> str:
    # `str.split()` splits on exactly the characters the regex `\s` matches in a str pattern (both are
    # Py_UNICODE_ISSPACE), and NFKC leaves ASCII as it is.
    if not text.isascii():
        text = nfkc(text)
    return " ".join(text.split())


def _compact(text: str) -> str:
    if not text.isascii():
        text = nfkc(text)
    return "".join(text.split())


_remembered_compact = lru_cache(maxsize=REMEMBERED_LINES)(_compact)
# Long lines, only the last few: a parse normalizes each line twice (for its facts and for its tokens), and NFKC
# costs about a quarter of a microsecond a character, while a crawler's one-line page must not stay in memory.
_RECENT_LONG_LINES = 4
_recent_long_normalize = lru_cache(maxsize=_RECENT_LONG_LINES)(_normalize)


class _Normalized(dict[str, str]):
    """Short lines normalized, by the line: a line met before is looked up in C (`normalize` is this dict's
    `__getitem__`), one not met works out here, and `normalize_new` fills it for many lines at once. Full,
    it forgets everything."""

    def __missing__(self, text: str) -> str:
        if len(text) > REMEMBERED_LENGTH:
            return _recent_long_normalize(text)
        if len(self) >= REMEMBERED_LINES:
            self.clear()
        found = self[text] = _normalize(text)
        return found


_NORMALIZED = _Normalized()
# NFKC (full-width digits and punctuation to ASCII, NBSP and U+3000 to spaces), spaces collapsed.
normalize: Callable[[str], str] = _NORMALIZED.__getitem__


def normalize_new(lines: Iterable[str]) -> None:
    """Normalize the short lines among `lines` that `normalize` has not met, for it to find: a report's new lines
    (its title, prose, table rows with their values) NFKC'd together (`_nfkc_lines`), a fraction of the cost of
    one by one, and their spaces collapsed in `map`s (which loop in C). A line holding a line end is left to
    `normalize` (the lines are NFKC'd joined by line ends): the joined text holds more line ends than the joins."""
    new = list(filterfalse(_NORMALIZED.__contains__, dict.fromkeys(lines)))
    if new and max(map(len, new)) > REMEMBERED_LENGTH:
        new = [line for line in new if len(line) <= REMEMBERED_LENGTH]
    if not new:
        return
    joined = "\n".join(new)
    if joined.count("\n") >= len(new):
        new = [line for line in new if "\n" not in line]
        if not new:
            return
        joined = "\n".join(new)
    if len(_NORMALIZED) > REMEMBERED_LINES - len(new):
        _NORMALIZED.clear()
    _NORMALIZED.update(zip(new, map(" ".join, map(str.split, _nfkc_joined(joined, new))), strict=True))


def compact(text: str) -> str:
    """The normalized text without any whitespace: what label matching compares."""
    return _remembered_compact(text) if len(text) <= REMEMBERED_LENGTH else _compact(text)


class Memo(dict[Key, Answer], Generic[Key, Answer]):
    """Answers worked out for short keys, kept for the next time the same key comes: a hot loop asks
    `memo.get(key)` (a plain dict lookup, cheaper than calling an `lru_cache`) and, when that gives None,
    works the answer out and hands it to `keep`; `answers` does that for a whole list of keys. Answers are
    never falsy (named tuples). A key is short when `size` gives at most REMEMBERED_LENGTH. Full, it forgets
    everything at once: the keys that recur (row labels, values, boilerplate) are back after a report or two."""

    size: Callable[[Any], int] = len  # a key's size in characters (a builtin: called unbound)

    def answers(
        self,
        keys: Iterable[Key],
        work: Callable[[Key], Answer] | None = None,
        before: Callable[[list[Key]], object] | None = None,
        together: Callable[[list[Key]], tuple[list[Answer], list[int]]] | None = None,
    ) -> list[Answer]:
        """The answer for every key: looked up in one `map` (which loops in C; a key not met before stops
        it with a KeyError, which costs nothing when none is raised, where testing the answers for a None
        compares each of them); then, from the first key not met before on, the keys not met before picked
        out in C, worked out once each and kept together, and the answers of all the keys after it looked up
        in another `map`: no key is looked at in Python.

        A new key's answer comes from `work` (a key at a time), or from `together`, handed all the new keys
        (each once, in their order) and giving their answers and sizes (`size` of each key, which it works out
        anyway). `before`, when given, is handed the new keys before any of them is worked out: what they all
        need can be prepared at once. Neither changes this memo."""
        found: list[Answer] = []
        remaining = iter(keys)
        try:
            found += map(self.__getitem__, remaining)
            return found
        except KeyError as missing:
            # `found` holds the answers before the first key not met before, `remaining` the keys after it.
            return self._with_new(found, missing.args[0], list(remaining), work, before, together)

    def _with_new(
        self,
        found: list[Answer],
        key: Key,
        rest: list[Key],
        work: Callable[[Key], Answer] | None,
        before: Callable[[list[Key]], object] | None,
        together: Callable[[list[Key]], tuple[list[Answer], list[int]]] | None,
    ) -> list[Answer]:
        """`answers` from its first key not met before (`key`) on: `found` holds the answers before it, `rest` the
        keys after it. Apart, so that a call finding every key builds a small frame."""
        new = list(dict.fromkeys(chain((key,), filterfalse(self.__contains__, rest))))
        if before is not None:
            before(new)
        sizes: list[int] | None = None
        if together is not None:
            answers, sizes = together(new)
        else:
            assert work is not None  # `answers` is given `work` or `together`
            answers = list(map(work, new))
        worked = dict(zip(new, answers, strict=True))
        longest = max(map(self.size, new) if sizes is None else sizes)
        if longest <= REMEMBERED_LENGTH and len(self) <= REMEMBERED_LINES - len(worked):
            # Most often every new key is kept and none forgotten: all the answers are the memo's now.
            self.update(worked)
            found.append(worked[key])
            found += map(self.__getitem__, rest)
            return found
        known: list[Any] = list(map(self.get, rest))  # before `_keep_short` forgets them (Any: no `cast` call)
        if longest > REMEMBERED_LENGTH:
            short = map(REMEMBERED_LENGTH.__ge__, map(self.size, new) if sizes is None else sizes)
            self._keep_short(dict(compress(worked.items(), short)))
        else:
            self._keep_short(worked)
        found.append(worked[key])
        # A key worked out now gives its new answer, any other the answer it was met with.
        found += map(worked.get, rest, known)
        return found

    def _keep_short(self, worked: dict[Key, Answer]) -> None:
        """Keep the answers worked out for new keys, all of them short."""
        if len(self) > REMEMBERED_LINES - len(worked):
            self.clear()
            if len(worked) > REMEMBERED_LINES:  # a file of more new lines than the memo holds keeps its first
                worked = dict(islice(worked.items(), REMEMBERED_LINES))
        self.update(worked)

    def keep(self, line: Key, answer: Answer) -> Answer:
        if self.size(line) <= REMEMBERED_LENGTH:
            if len(self) >= REMEMBERED_LINES:
                self.clear()
            self[line] = answer
        return answer


class LineMemo(Memo[str, Answer]):
    """A `Memo` of answers for short lines."""
