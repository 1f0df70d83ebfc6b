"""The one normal form report text is compared in: NFKC with whitespace collapsed (or removed).

Both functions are pure and see the same lines again and again (every row label of the national format,
every heading, in every report), so they remember recent answers: a line is normalised once.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Distinct lines remembered; a report has a few hundred, most of them the same labels in every report.
_REMEMBERED_LINES = 16384


@lru_cache(maxsize=_REMEMBERED_LINES)
def normalize(text: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII, NBSP and U+3000 to spaces), spaces collapsed.

    `str.split()` splits on exactly the characters the regex `\\s` matches in a str pattern (both are
    Py_UNICODE_ISSPACE), so this is `re.sub(r"\\s+", " ", …).strip()` without the regex."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


@lru_cache(maxsize=_REMEMBERED_LINES)
def compact(text: str) -> str:
    """The normalized text without any whitespace: what label matching compares."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return "".join(text.split())
