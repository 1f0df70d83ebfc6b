"""What a rule is: an id, a default severity, a message template and a pure check function.

A check is a function of (this report, the same organization's earlier reports newest first, the rule
settings) that yields `Hit`s; it does no I/O. A rule registered with `peers=True` also receives other bodies'
reports of the same year that an index found alike (`rules.similarity`); the caller looks them up. The rule turns each hit into a `Finding` through its one
message template, so every finding of a rule reads the same way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from report.model import Finding, Report, Severity
from rules.settings import RuleSettings

Check = Callable[[Report, Sequence[Report], RuleSettings], Iterable["Hit"]]
PeerCheck = Callable[[Report, Sequence[Report], RuleSettings, Sequence[Report]], Iterable["Hit"]]
# A value that is not there (a blank or unreadable cell), as reviewers read it in findings, alerts, pages and
# exports: the word stored findings already carry in their messages.
MISSING_VALUE = "无"


@dataclass(frozen=True)
class Hit:
    """One thing a rule found: where, which cells, expected and actual, and the template's fields."""

    location: str
    cells: list[str] = field(default_factory=list)
    expected: Any = None
    actual: Any = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewerText:
    """A rule explained to reviewers, in Chinese: what it checks, why it matters (with the legal or
    official basis), and an example in a report's own words. Shown by `rules --explain` and the rule page."""

    checks: str  # 检查内容
    why: str  # 为何重要
    example: str  # 示例


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str  # one line, for `nianbao rules`
    template: str  # str.format template over Hit.fields plus location/expected/actual
    check: Check | PeerCheck
    version: int = 1
    basis: str = ""  # the legal basis in one Chinese sentence, for reviewers (the explanation is for developers)
    reviewer: ReviewerText | None = None  # the Chinese explanation for reviewers
    uses_peers: bool = False  # the check takes a fourth argument: other bodies' alike reports of the same year
    # Of each peer the check reads only its source, body, year and prose parts (`rules.similarity.PEER_PARTS`):
    # when no enabled rule reads more, peers are read back from storage with those alone (`prose_of`).
    prose_peers: bool = False
    # The check finds nothing without earlier years (or without peers): it is not called when there are none.
    needs_earlier: bool = False
    needs_peers: bool = False

    @property
    def explanation(self) -> str:
        """The check's docstring: What it does / Why is this bad? / Example."""
        return inspect.cleandoc(self.check.__doc__ or "")

    def findings(
        self, report: Report, earlier: Sequence[Report], settings: RuleSettings, peers: Sequence[Report] = ()
    ) -> list[Finding]:
        hits = (
            self.check(report, earlier, settings, peers)  # type: ignore[call-arg]
            if self.uses_peers
            else self.check(report, earlier, settings)  # type: ignore[call-arg]
        )
        found: list[Finding] = []
        severity = self.severity
        for hit in hits:  # a loop, not a comprehension: most rules find nothing, and a comprehension costs a frame
            if not found:  # looked up at the first hit: most rules find nothing
                severity = settings.severity.get(self.id, self.severity)
            found.append(
                Finding(
                    rule=self.id,
                    severity=severity,
                    message=self.template.format(
                        location=hit.location,
                        expected=show_value(hit.expected),
                        actual=show_value(hit.actual),
                        **hit.fields,
                    ),
                    location=hit.location,
                    cells=hit.cells,
                    expected=hit.expected,
                    actual=hit.actual,
                )
            )
        return found


def show_value(value: Any) -> str:
    """An expected or actual value in a finding's message: MISSING_VALUE for none, a whole number without its
    decimals. `nianbao.display.shown_value` shows values this way in alerts, pages and exports too."""
    if value is None:
        return MISSING_VALUE
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


BUILTIN: list[Rule] = []


def rule(
    id: str,
    severity: Severity,
    title: str,
    template: str,
    *,
    version: int = 1,
    basis: str = "",
    reviewer: ReviewerText | None = None,
    peers: bool = False,
    prose_peers: bool = False,
    needs_earlier: bool = False,
    needs_peers: bool = False,
) -> Callable[[Any], Rule]:
    """Register a built-in rule: decorate its check function (with `peers=True`, one that takes peers too; with
    `prose_peers=True` as well, one that reads only their source, body, year and prose parts; with
    `needs_earlier=True` or `needs_peers=True`, one that finds nothing without earlier years or peers)."""

    def register(check: Check | PeerCheck) -> Rule:
        made = make_rule(
            id,
            severity,
            title,
            template,
            version=version,
            basis=basis,
            reviewer=reviewer,
            peers=peers,
            prose_peers=prose_peers,
            needs_earlier=needs_earlier,
            needs_peers=needs_peers,
        )(check)
        BUILTIN.append(made)
        return made

    return register


def make_rule(
    id: str,
    severity: Severity,
    title: str,
    template: str,
    *,
    version: int = 1,
    basis: str = "",
    reviewer: ReviewerText | None = None,
    peers: bool = False,
    prose_peers: bool = False,
    needs_earlier: bool = False,
    needs_peers: bool = False,
) -> Callable[[Any], Rule]:
    """Make a rule without registering it as built-in: for plugins, exposed through the `nianbao.rules` entry point."""

    def build(check: Check | PeerCheck) -> Rule:
        return Rule(
            id,
            severity,
            title,
            template,
            check,
            version,
            basis,
            reviewer,
            peers,
            prose_peers,
            needs_earlier,
            needs_peers,
        )

    return build
