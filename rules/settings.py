"""The rules' configuration: which rules run, at which severity, with which thresholds. `nianbao.settings.Settings`
nests it as its `rules` part (the `[rules]` table of nianbao.toml, NIANBAO_RULES__* variables)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from report.model import Severity


class RuleSettings(BaseModel):
    """Which rules run, at which severity, with which thresholds."""

    disabled: list[str] = Field(default_factory=list)
    severity: dict[str, Severity] = Field(default_factory=dict)
    # narrative.copied_from_prior_year: section 五 at least this similar to last year's counts as copied.
    copy_similarity: float = 0.9
    # publication.late: the deadline (MM-DD of the following year) for townships, which 条例 第四十九条 does not
    # name; 31 March, the governments' date, is the outer bound. `township_deadlines` sets it per province (or any
    # region), matched against the report's title and region: { "湖北省" = "01-31" }.
    township_deadline: str = "03-31"
    township_deadlines: dict[str, str] = Field(default_factory=dict)
    # narrative.copied_from_prior_year ignores texts shorter than this ("无" is not a copy).
    copy_min_chars: int = 40
    # Part 六 is mostly fixed statements (fees, period, contact) that repeat every year: compared only when longer.
    copy_min_chars_part_six: int = 100
    # narrative.copied_from_peer: a part (names and numbers masked) at least this similar to another body's of the
    # same year counts as copied; parts shorter than peer_min_chars after masking are not compared.
    peer_similarity: float = 0.95
    peer_min_chars: int = 80
    # narrative.thin_section: part 五 or 六 shorter than this many characters (punctuation aside) says nothing.
    thin_section_chars: int = 10
    # value.unit_suspect: a 行政事业性收费 (万元) at least this large, by level, reads like an amount in 元.
    fee_ceiling_wan: dict[str, float] = Field(default_factory=lambda: {"township": 500.0, "department": 100000.0})
