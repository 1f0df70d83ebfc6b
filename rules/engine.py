"""Run the rules on a report: which rules, at which severity, and the comparison with last year."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import entry_points

from report.model import Comparison, Finding, Report, cell_paths_and_values
from rules import arithmetic, copying, crossyear, legal, narrative, structure  # noqa: F401  (importing registers them)
from rules.base import BUILTIN, Rule
from rules.settings import RuleSettings

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "nianbao.rules"


@lru_cache(maxsize=1)
def plugin_rules() -> tuple[Rule, ...]:
    """Rules from installed packages: each entry point names a `Rule` or a list of them."""
    found: list[Rule] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as error:  # a broken plugin must not stop the built-in rules
            log.error("rule plugin %s could not be loaded: %s", entry.name, error)
            continue
        for candidate in loaded if isinstance(loaded, list | tuple) else [loaded]:
            if isinstance(candidate, Rule):
                found.append(candidate)
            else:
                log.error("rule plugin %s gave %r, not a Rule", entry.name, candidate)
    return tuple(found)


def all_rules() -> list[Rule]:
    plugins = plugin_rules()
    if not plugins:
        return list(BUILTIN)
    builtin_ids = {item.id for item in BUILTIN}
    return [*BUILTIN, *(item for item in plugins if item.id not in builtin_ids)]


def find_rule(rule_id: str) -> Rule | None:
    return next((item for item in all_rules() if item.id == rule_id), None)


def whole_peers(settings: RuleSettings) -> bool:
    """Whether an enabled rule reads more of its peers than their source, body, year and prose parts (a plugin's
    peer rule may); when none does, the peers can be read back with those alone (`rules.similarity.prose_of`)."""
    return any(item.uses_peers and not item.prose_peers for item in all_rules() if item.id not in settings.disabled)


def evaluate(
    report: Report, earlier: Sequence[Report], settings: RuleSettings, peers: Sequence[Report] = ()
) -> list[Finding]:
    """Every finding of every enabled rule. `earlier` holds the same organization's earlier years, newest first;
    `peers` other bodies' reports of the same year that the near-duplicate index found alike.

    A rule that crashes is reported in `problems`, never allowed to take the others down. A file that is not
    an annual report (`evidence.rejected`) is judged by no rule: its reason is in `problems`."""
    findings: list[Finding] = []
    if report.evidence.rejected:
        return findings
    disabled = settings.disabled
    for item in all_rules():
        if item.id in disabled or (item.needs_earlier and not earlier) or (item.needs_peers and not peers):
            continue
        try:
            findings.extend(item.findings(report, earlier, settings, peers))
        except Exception as error:
            report.problems.append(f"规则 {item.id} 运行出错：{type(error).__name__}: {error}")
    return findings


def compare(report: Report, earlier: Sequence[Report]) -> Comparison | None:
    """The latest earlier year and every table cell that changed since."""
    previous = next((item for item in earlier if item.year is not None and item.year != report.year), None)
    if previous is None:
        return None
    before_paths, before = cell_paths_and_values(previous.tables)
    after_paths, after = cell_paths_and_values(report.tables)
    if before_paths == after_paths:  # the same cells in the same order (most years): each compared with its own
        changes = [
            {"cell": cell, "before": value, "after": now}
            for cell, value, now in zip(before_paths, before, after, strict=True)
            if value != now
        ]
    else:
        before_cells = dict(zip(before_paths, before, strict=True))
        after_cells = dict(zip(after_paths, after, strict=True))
        changes = [
            {"cell": cell, "before": before_cells.get(cell), "after": after_cells.get(cell)}
            for cell in dict.fromkeys([*before_cells, *after_cells])
            if before_cells.get(cell) != after_cells.get(cell)
        ]
    # validated in one call: a year changes dozens of cells, and a `Change` made one by one cost twice as much
    return Comparison.model_validate({"year": previous.year, "sha256": previous.source.sha256, "changes": changes})
