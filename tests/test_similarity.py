"""The shortcuts of the peer comparison (issue 12) give exactly what the plain definitions give: the bounds that let
a pair go without matching, the remembered masking, the order in which `narrative.copied_from_peer` matches its
peers, and peers read back with their prose alone."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher

import pytest

import rules.engine
from report.model import Finding, Report
from rules import evaluate, make_rule
from rules.crossyear import bound_reaching, compacted_similarity_reaching, similarity_reaching
from rules.engine import whole_peers
from rules.settings import RuleSettings
from rules.similarity import _SELF_WORDS, MASK, PEER_PARTS, masked, names_of
from tests.factories import clean_report
from tests.test_rules_reviewers import PEER_FIVE, peer_pair

SETTINGS = RuleSettings()
# masking as first written: numbers (with their decimals) dropped, then punctuation
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PUNCTUATION = re.compile(r"[\W_]+")
CHARACTERS = "政务公开工作人员兼职业务能力参差不齐基层栏更新及时"


def test_bound_reaching_is_difflibs_quick_ratio_rounded_and_never_below_the_ratio() -> None:
    rng = random.Random(12)
    reached = 0
    for _ in range(600):
        first = "".join(rng.choices(CHARACTERS, k=rng.randint(0, 60)))
        second = list(first)
        for _ in range(rng.randint(0, 8)):
            if second and rng.random() < 0.4:
                del second[rng.randrange(len(second))]
            else:
                second.insert(rng.randint(0, len(second)), rng.choice(CHARACTERS + "年度"))
        if rng.random() < 0.2:
            rng.shuffle(second)
        threshold = rng.choice([0.5, 0.8, 0.9, 0.95])
        matcher = SequenceMatcher(None, first, "".join(second), autojunk=False)
        quick = round(matcher.quick_ratio(), 3)
        expected = quick if round(matcher.real_quick_ratio(), 3) >= threshold and quick >= threshold else None
        bound = bound_reaching(first, "".join(second), threshold)
        assert bound == expected
        assert bound is None or round(matcher.ratio(), 3) <= bound
        reached += bound is not None
    assert 0 < reached < 600


def test_a_pair_exactly_at_the_threshold_reaches_it_and_one_character_less_does_not() -> None:
    first = CHARACTERS[:20]
    at = first[:-1] + "年"  # 19 of 20 characters shared: 2 · 19 / 40 = 0.95
    below = first[:-2] + "年度"  # 18 of 20: 0.9
    assert bound_reaching(first, at, 0.95) == 0.95 == compacted_similarity_reaching(first, at, 0.95)
    assert bound_reaching(first, below, 0.95) is None and compacted_similarity_reaching(first, below, 0.95) is None
    assert bound_reaching(first, first + "年", 0.95) == 0.976  # the lengths alone: 2 · 20 / 41
    assert bound_reaching(first, first + "年度", 0.96) is None  # 2 · 20 / 42 = 0.952
    # Characters count with their multiplicity: 甲甲乙 and 甲乙乙 share two, not three.
    assert bound_reaching("甲甲乙", "甲乙乙", 0.6) == 0.667
    # Every character shared but in another order: the bound lets the pair through, the ratio does not.
    shuffled = first[10:] + first[:10]
    assert bound_reaching(first, shuffled, 0.95) == 1.0 and compacted_similarity_reaching(first, shuffled, 0.95) is None
    assert bound_reaching("", "", 0.95) == 1.0 == similarity_reaching("", "", 0.95)


def _masked_by_definition(text: str, names: Iterable[str]) -> str:
    """`masked` as first written: every name replaced, longest first, then self-references, numbers, punctuation."""
    from report.normalized import compact

    text = compact(text)
    for name in sorted(set(names), key=len, reverse=True):
        text = text.replace(name, MASK)
    text = _SELF_WORDS.sub(MASK, text)
    return _PUNCTUATION.sub("", _NUMBER.sub("", text))


def test_masking_remembered_by_the_names_found_is_masking_by_every_name() -> None:
    rng = random.Random(3)
    pieces = [
        "白鹤镇",
        "房县白鹤镇人民政府",
        "人民政府",
        "黄龙镇",
        "我镇",
        "本机关",
        "2023年",
        "，",
        " ",
        "公开",
        "镇人民",
        "1.5万元",
        "（2.",
        "_",
    ]
    names = ["白鹤镇人民政府", "白鹤镇", "房县", "黄龙镇人民政府", "黄龙镇", "镇人民", "龙镇人", "十堰市", f"{MASK}鹤"]
    for _ in range(500):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 30)))
        chosen = rng.sample(names, rng.randint(0, 5))
        assert masked(text, chosen) == _masked_by_definition(text, chosen), (text, chosen)
        assert masked(text, chosen) == _masked_by_definition(text, chosen)  # the remembered answer too
    # A name holding the mask appears only once another is masked: every name is tried, as it comes.
    assert (
        masked("黄龙镇鹤峰", ["黄龙镇", f"{MASK}鹤"])
        == MASK + "峰"
        == _masked_by_definition("黄龙镇鹤峰", ["黄龙镇", f"{MASK}鹤"])
    )


def _copied_from_peer_by_definition(report: Report, peers: Sequence[Report]) -> list[tuple[str, float, str]]:
    """(part, ratio, peer's name) of the most similar peer of each part, the first given of equals, every peer
    matched in the order given: the rule as first written."""
    found = []
    own = (report.organization.name, report.organization.region)
    for part in PEER_PARTS:
        best: tuple[float, Report] | None = None
        for peer in peers:
            if peer.year != report.year or (peer.organization.name, peer.organization.region) == own:
                continue
            names = [*names_of(report), *names_of(peer)]
            mine = _masked_by_definition(report.evidence.section_text.get(part, ""), names)
            theirs = _masked_by_definition(peer.evidence.section_text.get(part, ""), names)
            if min(len(mine), len(theirs)) < SETTINGS.peer_min_chars:
                continue
            ratio = round(SequenceMatcher(None, mine, theirs, autojunk=False).ratio(), 3)
            if ratio >= SETTINGS.peer_similarity and (best is None or ratio > best[0]):
                best = (ratio, peer)
        if best is not None:
            found.append((part, best[0], best[1].organization.name or ""))
    return found


def _peer_findings(report: Report, peers: Sequence[Report]) -> list[tuple[str, float, str]]:
    found: list[Finding] = [f for f in evaluate(report, [], SETTINGS, peers) if f.rule == "narrative.copied_from_peer"]
    names = [name for peer in peers if (name := peer.organization.name)]
    return [(f.location, f.actual, next(name for name in names if name in f.message)) for f in found]


def test_the_best_peer_is_the_most_similar_and_the_first_given_of_equals_whatever_their_bounds() -> None:
    """Peers are matched in the order of their bounds and let go once no bound can beat the best ratio: the peer
    named is still the one the plain loop names. Shuffled copies have the highest bounds and low ratios."""
    rng = random.Random(5)
    _, huanglong = peer_pair()
    towns = ["城关镇", "土城镇", "茅塔乡", "大木镇", "青峰镇", "门古寺镇", "尹吉甫镇", "中坝乡", "野人谷镇", "化龙堰镇"]
    compared = 0
    for round_number in range(30):
        peers = []
        for number, town in enumerate(rng.sample(towns, rng.randint(2, len(towns)))):
            text = list(PEER_FIVE)
            kind = rng.choice(["copy", "edited", "shuffled", "reworded"])
            if kind == "edited":
                for _ in range(rng.randint(1, 6)):
                    text[rng.randrange(len(text))] = rng.choice(CHARACTERS)
            elif kind == "shuffled":
                cut = rng.randrange(len(text))
                text = text[cut:] + text[:cut]
            elif kind == "reworded":
                text = list("".join(text).replace("政务公开", "信息公开"))
            peer = clean_report(name=f"{town}人民政府", region="房县", sha=f"{round_number:02d}{number:02d}" + "0" * 60)
            peer.evidence.section_text["五"] = town + "".join(text)
            peers.append(peer)
        expected = _copied_from_peer_by_definition(huanglong, peers)
        assert _peer_findings(huanglong, peers) == expected
        compared += bool(expected)
    assert compared > 10
    # Equal ratios, the later peer's bound the higher (two characters swapped against one replaced): the first wins.
    replaced, swapped = (
        clean_report(name=f"{town}人民政府", sha=sha * 64) for town, sha in (("城关镇", "1"), ("土城镇", "2"))
    )
    replaced.evidence.section_text["五"] = "城关镇" + PEER_FIVE[:40] + "年" + PEER_FIVE[41:]
    swapped.evidence.section_text["五"] = "土城镇" + PEER_FIVE[:40] + PEER_FIVE[41] + PEER_FIVE[40] + PEER_FIVE[42:]
    assert _peer_findings(huanglong, [replaced, swapped]) == _copied_from_peer_by_definition(
        huanglong, [replaced, swapped]
    )
    assert [name for _, _, name in _peer_findings(huanglong, [replaced, swapped])] == ["城关镇人民政府"]
    assert [name for _, _, name in _peer_findings(huanglong, [swapped, replaced])] == ["土城镇人民政府"]


def test_copied_from_peer_reads_only_the_prose_of_its_peers() -> None:
    """What a slim peer (`Store.peer_reports_of(whole=False)`) holds is all the rule needs."""
    baihe, huanglong = peer_pair()
    slim = Report.model_validate(
        {
            "source": baihe.source,
            "organization": baihe.organization,
            "year": baihe.year,
            "evidence": {"section_text": {part: baihe.evidence.section_text[part] for part in PEER_PARTS}},
        }
    )
    assert _peer_findings(huanglong, [slim]) == _peer_findings(huanglong, [baihe]) == [("五", 1.0, "白鹤镇人民政府")]


def test_peers_are_read_whole_only_for_an_enabled_rule_that_reads_more_than_their_prose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert whole_peers(SETTINGS) is False  # the built-in peer rule reads their prose alone

    @make_rule("example.peer_tables", "info", "与同类机关表格相同", "表格与同类机关相同。", peers=True)
    def peer_tables(report: Report, earlier: Sequence[Report], settings: RuleSettings, peers: Sequence[Report]):  # type: ignore[no-untyped-def]
        """What it does / Why is this bad? / Example: a plugin's rule that reads its peers' tables."""
        return iter(())

    monkeypatch.setattr(rules.engine, "plugin_rules", lambda: (peer_tables,))
    assert whole_peers(SETTINGS) is True
    assert whole_peers(RuleSettings(disabled=["example.peer_tables"])) is False


def _datasketch_signature(text: str) -> list[int]:
    from datasketch import MinHash

    from rules.similarity import PERMUTATIONS, SHINGLE

    reference = MinHash(num_perm=PERMUTATIONS, seed=13, scheme="legacy")
    reference.update_batch([text[i : i + SHINGLE].encode() for i in range(max(1, len(text) - SHINGLE + 1))])
    return [int(value) for value in reference.hashvalues]


def test_signatures_are_datasketchs_for_texts_of_any_length() -> None:
    """The shingles' permuted hashes remembered by key and the modulo taken without dividing give datasketch's
    MinHash, bit for bit (a * hash + b wraps around 2**64 in both, and reaches far beyond the prime)."""
    from rules.similarity import SHINGLE, signature

    rng = random.Random(8)
    for length in [1, SHINGLE - 1, SHINGLE, 30, 200, 900]:
        text = "".join(rng.choices(CHARACTERS + "〇abc", k=length))
        assert signature(text) == _datasketch_signature(text) == signature(text)
    # Beyond the Basic Multilingual Plane (a rare character of a name): hashed from the shingles' text.
    text = "𠙶" + CHARACTERS + "𪚥"
    assert signature(text) == _datasketch_signature(text)


def test_signatures_stay_datasketchs_when_the_characters_or_shingles_outnumber_the_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ranks and remembered shingles run out over a worker's life: characters are ranked afresh, with what was
    remembered under the former ranks forgotten, shingles are remembered afresh, and a text of more characters or
    shingles than can be remembered is hashed from its shingles' text."""
    from rules import similarity
    from rules.similarity import signature

    monkeypatch.setattr(similarity, "RANKED_CHARACTERS", 20)
    monkeypatch.setattr(similarity, "REMEMBERED_SHINGLES", 100)
    monkeypatch.setattr(similarity, "_shingles", None)
    alphabet = sorted(set(CHARACTERS + "年度报告主动依申请复议诉讼"))
    rng = random.Random(3)
    first = "".join(rng.choices(alphabet[:12], k=40))
    # The same ranks in the same order once ranked afresh: the same keys for other shingles.
    second = first.translate(str.maketrans("".join(alphabet[:12]), "".join(alphabet[12:24])))
    texts = [first, second, first, *("".join(rng.choices(alphabet[start : start + 12], k=40)) for start in range(9))]
    for text in [*texts, *texts[::-1]]:
        assert signature(text) == _datasketch_signature(text)
    assert similarity._shingles is not None and similarity._shingles.ranked <= 20
    assert 0 < len(similarity._shingles.rows) <= 100
    longer = "".join(rng.choices(alphabet[:12], k=300))  # more shingles than remembered
    assert signature(longer) == _datasketch_signature(longer)
    assert signature("".join(alphabet)) == _datasketch_signature("".join(alphabet))  # more characters than ranks
