"""Near-duplicate prose across bodies: masking, MinHash signatures and the LSH band keys an index looks up.

Two bodies' parts are compared with their names, self-references (我镇, 本局) and numbers masked, so a report
copied from a neighbour and given the new name and figures still reads as the copy it is. The exact comparison
is `rules.crossyear.similarity` on the masked texts; the MinHash signatures (datasketch's algorithm, numpy's
arithmetic) only find the candidates, so that a new report is compared with a handful of stored ones rather
than with every report of the year (bench/peer_bench.py).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import compress, count, repeat
from operator import is_
from typing import Any

from report.identity import name_key
from report.metadata import SELF_REFERENCE
from report.model import Report
from report.normalized import compact

# The prose parts compared with other bodies' (part 六 is fixed statements: fees, period, contact, which repeat).
PEER_PARTS = ("一", "五")
SHINGLE = 5  # characters per shingle: long enough that shared stock phrases alone do not make texts alike
PERMUTATIONS = 64
# 8 bands of 8 rows: a pair with shingle Jaccard 0.9 shares a band with probability 0.99, at 0.8 with 0.77, at 0.6
# with 0.13. Measured (bench/peer_bench.py): 16 bands of 4 gave 15 times the candidates for the same recall.
ROWS_PER_BAND = 8
MASK = "〇"
# Parts shorter than this after masking are not indexed (the rule's own floor, peer_min_chars, is higher).
INDEX_MIN_CHARS = 40
# Numbers (with their decimals) and punctuation, both dropped: every digit and every character that is no
# letter, in one pass over the text.
_NUMBERS_AND_PUNCTUATION = re.compile(r"[\W\d_]+")
_SELF_WORDS = re.compile("|".join(sorted({word for words in SELF_REFERENCE.values() for word in words}, key=len)[::-1]))


def names_of(report: Report) -> list[str]:
    """The strings that name the report's body: its name, its name key, its region."""
    own = report.organization
    return [name for name in (own.name, name_key(own.name) if own.name else None, own.region) if name]


def masked(text: str, names: Iterable[str]) -> str:
    """The text without whitespace, punctuation, numbers, and with body names and self-references masked."""
    ordered = sorted(set(names), key=len, reverse=True)
    text = _compacted(text)
    if any(MASK in name for name in ordered):
        return _masked(text, ordered)
    # A name not in the text changes nothing, whenever its turn comes: masking others cannot make it appear, as it
    # holds no mask. So the masked text depends on the text and the names found alone, in their order, and is
    # remembered: a report's part is masked with each of its peers' names in turn, and the same peers recur.
    return _remembered_masked(text, tuple(name for name in ordered if name in text))


def _masked(text: str, names: Iterable[str]) -> str:
    for name in names:
        text = text.replace(name, MASK)
    text = _SELF_WORDS.sub(MASK, text)
    return _NUMBERS_AND_PUNCTUATION.sub("", text)  # numbers and list numbering (1.) go alike


_remembered_masked = lru_cache(maxsize=2048)(_masked)
_compacted = lru_cache(maxsize=2048)(compact)


_MERSENNE_PRIME = (1 << 61) - 1
_MAX_HASH = (1 << 32) - 1


@lru_cache(maxsize=1)
def _permutations() -> tuple[Any, Any]:
    """The MinHash permutations (a, b), drawn as datasketch draws them for its "legacy" scheme and seed 13."""
    import numpy as np

    generator = np.random.RandomState(13)
    pairs = [
        (generator.randint(1, _MERSENNE_PRIME, dtype=np.uint64), generator.randint(0, _MERSENNE_PRIME, dtype=np.uint64))
        for _ in range(PERMUTATIONS)
    ]
    return np.array([a for a, _ in pairs], dtype=np.uint64), np.array([b for _, b in pairs], dtype=np.uint64)


def warm_up() -> None:
    """Load numpy and draw the permutations now rather than in the first report's time."""
    _permutations()


def signature(text: str) -> list[int]:
    """The MinHash of a masked text's character shingles: bit for bit datasketch's
    `MinHash(num_perm=64, seed=13, scheme="legacy")` after `update_batch` (tests/test_similarity.py checks it),
    computed with numpy alone — datasketch's import pulls in scipy, seconds on a busy worker."""
    values = _remembered_values(text)
    if values is None:
        values = _permuted([*{text[i : i + SHINGLE] for i in range(max(1, len(text) - SHINGLE + 1))}])
    return values.min(axis=0).tolist()  # a shingle met twice changes no minimum


def _permuted(shingles: Sequence[str]) -> Any:
    """Each shingle's hash under each permutation, a row of `PERMUTATIONS` uint32 a shingle: datasketch's
    sha1_hash32 of its UTF-8 (the first 4 bytes of the SHA-1, little-endian), then (a * hash + b) modulo 2**64, as
    datasketch's numpy arithmetic has it, modulo 2**61 - 1, its low 32 bits."""
    import numpy as np

    a, b = _permutations()
    digests = b"".join(hashlib.sha1(shingle.encode()).digest()[:4] for shingle in shingles)
    values = np.frombuffer(digests, dtype="<u4").astype(np.uint64)[:, None] * a
    values += b
    # Modulo 2**61 - 1 without dividing: 2**61 is 1 modulo the prime, so the high 3 bits add to the low 61, which
    # leaves less than twice the prime (rarely above it: looked for with one maximum).
    high = values >> np.uint64(61)
    prime = np.uint64(_MERSENNE_PRIME)
    values &= prime
    values += high
    if values.max() >= prime:
        values[values >= prime] -= prime
    values &= np.uint64(_MAX_HASH)
    return values.astype(np.uint32)


# Most of a signature's time was making each shingle a string, hashing it or looking its hash up, and permuting
# the hashes. Now each character gets a rank of `RANK_BITS` bits the first time it is met, a shingle's key is its
# characters' ranks side by side (60 bits), worked out for the whole text at once with numpy, and each shingle's
# permuted hashes (`_permuted`) are remembered by key: bodies' prose shares stock phrases, so most shingles were
# met before, and a signature is the minimum of their remembered rows.
RANK_BITS = 12
RANKED_CHARACTERS = (1 << RANK_BITS) - 1  # rank 0: not met yet
REMEMBERED_SHINGLES = 1 << 15  # rows of 64 uint32: 8 MiB, and ~3 MB of keys; forgotten all at once when full


class _Shingles:
    """Ranks of the characters met, and the permuted hashes of the shingles met by key. Replaced, never changed
    but by additions: within one object a key stands for one shingle and its row for that shingle's hashes."""

    def __init__(self, ranks: Any = None, ranked: int = 0) -> None:
        import numpy as np

        self.ranks = np.zeros(0x10000, dtype=np.uint16) if ranks is None else ranks  # by code point (the BMP)
        self.ranked = ranked
        self.rows: dict[int, int] = {}
        self.values: Any = np.empty((REMEMBERED_SHINGLES, PERMUTATIONS), dtype=np.uint32)


_shingles: _Shingles | None = None
_REMEMBERING = threading.Lock()  # should two threads meet new characters or shingles together


def _remembered_values(text: str) -> Any:
    """`_permuted` of each shingle of the text, in order, from memory; None for a text shorter than a shingle, or
    with a character beyond the Basic Multilingual Plane, or of more characters or shingles than can be
    remembered."""
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    if len(codes) < SHINGLE or codes.max() > 0xFFFF:
        return None
    shingles = _shingles
    if shingles is None or not (ranks := shingles.ranks[codes]).all():
        shingles = _rank(codes)
        if shingles is None:
            return None
        ranks = shingles.ranks[codes]
    ranks = ranks.astype(np.uint64)
    shingle_count = len(codes) - SHINGLE + 1
    keys = ranks[:shingle_count] << np.uint64(RANK_BITS * (SHINGLE - 1))
    for position in range(1, SHINGLE):
        keys |= ranks[position : position + shingle_count] << np.uint64(RANK_BITS * (SHINGLE - 1 - position))
    found = keys.tolist()
    rows = list(map(shingles.rows.get, found))
    if None in rows:
        remembered = _remember(shingles, text, found, rows)
        if remembered is None:
            return None
        if remembered is shingles:  # the new shingles' rows alone
            for position in compress(count(), map(is_, rows, repeat(None))):
                rows[position] = shingles.rows[found[position]]
        else:  # a new memory: every row anew
            shingles = remembered
            rows[:] = map(shingles.rows.__getitem__, found)
    return shingles.values.take(np.fromiter(rows, dtype=np.intp, count=len(rows)), axis=0)


def _rank(codes: Any) -> _Shingles | None:
    """The memory with every character of `codes` ranked (a new one when the ranks ran out); None when the text
    alone has more characters than ranks."""
    import numpy as np

    global _shingles
    with _REMEMBERING:
        shingles = _shingles
        if shingles is None:
            shingles = _shingles = _Shingles()
        new = np.unique(codes[shingles.ranks[codes] == 0])
        if shingles.ranked + len(new) > RANKED_CHARACTERS:
            new = np.unique(codes)
            if len(new) > RANKED_CHARACTERS:
                return None
            shingles = _shingles = _Shingles()
        shingles.ranks[new] = np.arange(shingles.ranked + 1, shingles.ranked + 1 + len(new), dtype=np.uint16)
        shingles.ranked += len(new)
        return shingles


def _remember(shingles: _Shingles, text: str, keys: list[int], rows: list[int | None]) -> _Shingles | None:
    """The memory with the permuted hashes of every shingle of the text (its `keys`, `rows` found None when new)
    remembered, in a new memory with the ranks kept when full; None when another thread renewed the memory
    meanwhile, or the text alone has more shingles than can be remembered."""
    global _shingles
    with _REMEMBERING:
        if shingles is not _shingles:
            return None
        missing: dict[int, int] = {}  # key → the position of its shingle
        for position in compress(count(), map(is_, rows, repeat(None))):  # a loop over the new ones alone
            if keys[position] not in shingles.rows:
                missing.setdefault(keys[position], position)
        if len(shingles.rows) + len(missing) > REMEMBERED_SHINGLES:
            missing = {}
            for position, key in enumerate(keys):
                missing.setdefault(key, position)
            if len(missing) > REMEMBERED_SHINGLES:
                return None
            shingles = _shingles = _Shingles(shingles.ranks, shingles.ranked)
        if missing:
            first = len(shingles.rows)
            shingles.values[first : first + len(missing)] = _permuted(
                [text[at : at + SHINGLE] for at in missing.values()]
            )
            shingles.rows.update(zip(missing, range(first, first + len(missing)), strict=True))
        return shingles


# Memoised: a worker computes a report's bands twice (asking for its peers, then indexing it) and stock prose
# recurs across reports; the keys depend on the part and masked text alone.
@lru_cache(maxsize=1024)
def band_keys(part: str, text: str) -> tuple[int, ...]:
    """The LSH band keys of a masked part: reports sharing one key with it are its candidate copies."""
    values = signature(text)
    keys = []
    for band in range(0, PERMUTATIONS, ROWS_PER_BAND):
        digest = hashlib.blake2b(f"{part}:{band}:{values[band : band + ROWS_PER_BAND]}".encode(), digest_size=8)
        keys.append(int.from_bytes(digest.digest(), "big") >> 1)  # 63 bits: a signed BIGINT holds it
    return tuple(keys)


def report_bands(report: Report, min_chars: int = INDEX_MIN_CHARS) -> list[tuple[str, int]]:
    """(part, key) for every band of every prose part long enough to compare."""
    names = tuple(names_of(report))
    return [
        (part, key)
        for part in PEER_PARTS
        for key in _part_bands(part, report.evidence.section_text.get(part, ""), names, min_chars)
    ]


# Memoised: a batch asks for a report's bands three times (its peers, the batch's index, the prose index saved).
@lru_cache(maxsize=1024)
def _part_bands(part: str, text: str, names: tuple[str, ...], min_chars: int) -> tuple[int, ...]:
    masked_text = masked(text, names)
    return band_keys(part, masked_text) if len(masked_text) >= min_chars else ()


class PeerIndex:
    """An in-memory LSH index of reports' prose bands, for files checked together."""

    def __init__(self) -> None:
        self._bands: dict[tuple[int | None, str, int], list[Report]] = {}

    def add(self, report: Report, bands: Sequence[tuple[str, int]] | None = None) -> None:
        """Index a report by its bands (`report_bands`, computed when not given)."""
        for part, key in report_bands(report) if bands is None else bands:
            self._bands.setdefault((report.year, part, key), []).append(report)

    def candidates(self, report: Report, bands: Sequence[tuple[str, int]] | None = None) -> list[Report]:
        """Indexed reports of the same year and another body that share a band with the report (its `bands`,
        computed when not given)."""
        if report.year is None or not self._bands:
            return []
        identity = body_identity(report)
        found: dict[int, Report] = {}
        for part, key in report_bands(report) if bands is None else bands:
            for other in self._bands.get((report.year, part, key), []):
                if other is not report and body_identity(other) != identity:
                    found[id(other)] = other
        return list(found.values())


def body_identity(report: Report) -> tuple[str, str | None]:
    return name_key(report.organization.name or ""), report.organization.region
