"""Rules that compare a report with other bodies' reports of the same year (its peers, found by an index)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

from report.model import Report
from report.normalized import compact
from rules.base import Hit, ReviewerText, rule
from rules.crossyear import PROSE_PARTS, bound_reaching, compacted_similarity_reaching
from rules.settings import RuleSettings
from rules.similarity import PEER_PARTS, body_identity, masked, names_of


@rule(
    "narrative.copied_from_peer",
    "warning",
    "正文某部分与其他机关同年度报告几乎相同",
    "第{part}部分“{title}”与{peer}同年度报告的相应部分相似度为 {actual}（机关名称、自称和数字已屏蔽），达到阈值 {expected}。",
    basis="《政府信息公开条例》第四十八条、第五十条：各行政机关报告本机关的情况；照搬其他机关的报告是督查通报和第三方评估中常见的问题。",
    reviewer=ReviewerText(
        checks="把第一、五、六部分与其他机关同一年度的报告逐部分比较（屏蔽机关名称、“我镇/本局”等自称和所有数字后），几乎相同（默认相似度 ≥ 0.9）即提示，并指出是哪个机关。比较对象来自已入库的报告和一起检查的文件；同一年度 50 份以上报告共有的文字视为通用模板，不据此认定照搬。",
        why="条例第四十八条、第五十条要求各机关报告本机关的工作；中国社会科学院政府透明度指数评估和各地通报都发现过不同机关报告“换个名字、改几个数”的情况，这样的报告不能反映本机关的实际。",
        example="房县白鹤镇人民政府与房县黄龙镇人民政府2023年报告的第五部分，除机关名称和数字外一字不差。",
    ),
    peers=True,
    prose_peers=True,
    needs_peers=True,
)
def copied_from_peer(
    report: Report, earlier: Sequence[Report], settings: RuleSettings, peers: Sequence[Report]
) -> Iterator[Hit]:
    """What it does
    Compares each prose part (一, 五, 六) with the same part of other bodies' reports of the same year — the
    candidates an index of MinHash signatures found, stored or checked together — with body names, self-
    references (我镇, 本局) and numbers masked, and fires when one is at least as similar as the configured
    threshold (default 0.9). Short parts, and part 六's fixed statements, are not compared.

    Why is this bad?
    Each body reports its own year (《政府信息公开条例》第四十八条、第五十条). A part that is another body's with
    the name and figures changed says nothing about this one, and evaluators single such reports out.

    Example
    Two townships' part 五 identical except for 白鹤镇/黄龙镇 and the figures.
    """
    if report.year is None or not peers:
        return
    own = body_identity(report)
    names = names_of(report)
    # each peer with the names masked in both texts and its parts' texts
    others = [
        (peer, [*names, *names_of(peer)], peer.evidence.section_text)
        for peer in peers
        if peer.year == report.year and body_identity(peer) != own
    ]
    threshold = settings.peer_similarity
    texts = report.evidence.section_text
    for part in PEER_PARTS:
        shortest = settings.copy_min_chars_part_six if part == "六" else settings.peer_min_chars
        text = texts.get(part, "")
        # (bound, position, my part, the peer's part, peer) of each peer whose bound reaches the threshold.
        alike: list[tuple[float, int, str, str, Report]] = []
        for position, (peer, both, peer_texts) in enumerate(others):
            mine, theirs = masked(text, both), masked(peer_texts.get(part, ""), both)
            if min(len(mine), len(theirs)) < shortest:
                continue
            mine, theirs = _compacted(mine), _compacted(theirs)  # as `similarity_reaching` compares them
            bound = bound_reaching(mine, theirs, threshold)
            if bound is not None:
                alike.append((bound, position, mine, theirs, peer))
        # The most similar peer, the first given of equals: matched in the order of their bounds, so that once
        # the best ratio found exceeds the next bound, or equals it for a peer given later, no other can win.
        best: tuple[float, int, Report] | None = None
        for bound, position, mine, theirs, peer in sorted(alike, key=lambda item: (-item[0], item[1])):
            if best is not None and (bound < best[0] or (bound == best[0] and position > best[1])):
                continue
            ratio = compacted_similarity_reaching(mine, theirs, threshold)
            if ratio is not None and (best is None or (ratio, -position) > (best[0], -best[1])):
                best = ratio, position, peer
        if best is not None:
            ratio, _, peer = best
            yield Hit(
                location=part,
                expected=threshold,
                actual=ratio,
                fields={
                    "part": part,
                    "title": PROSE_PARTS[part],
                    "peer": f"{peer.organization.region or ''}{peer.organization.name or '（未署名机关）'}",
                },
            )


# Peers' masked parts recur report after report: compacted once (`compact` remembers short lines only).
_compacted = lru_cache(maxsize=2048)(compact)
