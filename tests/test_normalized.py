"""The fast paths of issue 15 give exactly what the plain definitions give."""

from __future__ import annotations

import random
import re
import sys
import unicodedata

import pytest

from report.normalized import REMEMBERED_LENGTH, compact, normalize
from rules.crossyear import similarity, similarity_reaching

_WHITESPACE = re.compile(r"\s+")


def _normalize_by_definition(text: str) -> str:
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def _compact_by_definition(text: str) -> str:
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def test_normalize_and_compact_agree_with_the_regex_definition() -> None:
    """Where the two ways could part: ASCII (NFKC skipped), whatever `str.split` or the regex `\\s` counts as
    whitespace, and a sample of the rest."""
    characters = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code < 0xE000]
    spaces = [c for c in characters if c.isspace() or _WHITESPACE.match(c) or c.isascii()]
    wrong = []
    for character in [*spaces, *random.Random(15).sample(characters, 5000)]:
        for text in (character, f"a{character}b", f" {character}{character} 1"):
            if normalize(text) != _normalize_by_definition(text) or compact(text) != _compact_by_definition(text):
                wrong.append(hex(ord(character)))
    assert wrong == []


@pytest.mark.parametrize("length", [REMEMBERED_LENGTH - 1, REMEMBERED_LENGTH + 1])
def test_long_and_short_lines_alike(length: int) -> None:
    text = ("（一）予以公开\u3000１２\xa0" * length)[:length]
    assert normalize(text) == _normalize_by_definition(text)
    assert normalize(text) == normalize(text)  # the remembered answer is the same
    assert compact(text) == _compact_by_definition(text)


def test_similarity_reaching_is_the_rounded_ratio_against_the_threshold() -> None:
    rng = random.Random(15)
    words = ["本机关", "公开", "政府信息", "申请", "2023年", "，", "。", "进一步", "加强", "规范"]
    reached = 0
    for _ in range(400):
        first = "".join(rng.choices(words, k=rng.randint(1, 40)))
        second = list(first)
        for _ in range(rng.randint(0, 12)):
            second.insert(rng.randint(0, len(second)), rng.choice("年度改进问题措施"))
        threshold = rng.choice([0.5, 0.8, 0.9])
        expected = round(similarity(first, "".join(second)), 3)
        got = similarity_reaching(first, "".join(second), threshold)
        assert got == (expected if expected >= threshold else None)
        reached += got is not None
    assert 0 < reached < 400  # both outcomes were exercised
