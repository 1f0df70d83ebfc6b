"""How severities, bodies, values, times and a rule's state in a year are shown to reviewers: the one vocabulary
of alerts, pages, exports, logs and the command line."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, get_args

from report.model import Report, Severity
from rules.base import show_value

SEVERITIES: tuple[str, ...] = get_args(Severity)  # the ids, most severe first
SEVERITY_NAMES = dict(zip(SEVERITIES, ("错误", "警告", "提示"), strict=True))
SEVERITY_RANK = {severity: len(SEVERITIES) - index for index, severity in enumerate(SEVERITIES)}  # error 3 … info 1
NO_ORGANIZATION = "（未写明机关）"
# The ledger's states (storage.LEDGER_STATES) as reviewers and operators read them.
STATE_NAMES = {"new": "待处理", "queued": "排队中", "processing": "处理中", "stored": "已入库", "failed": "未能处理"}
LANGUAGES = ("zh", "en")
# A rule's state in one year of a body's history (`history_grid`): its symbol and name, in the legend's order.
GRID_STATES = {
    "fired": ("✗", "存在问题"),
    "dismissed": ("○", "已驳回"),
    "fixed": ("✓", "已整改"),
    "never": ("·", "未发现"),
}


def severity_name(severity: str, lang: str = "zh") -> str:
    return SEVERITY_NAMES.get(severity, severity) if lang == "zh" else severity


def state_name(state: str, lang: str = "zh") -> str:
    return STATE_NAMES.get(state, state) if lang == "zh" else state


def who(organization: str | None, region: str | None) -> str:
    """A body as reviewers read it: 白鹤镇人民政府（房县）, the name and the region the store tells bodies apart by
    (and `nianbao history NAME --region REGION` takes); the region left out when none is stored."""
    if not organization:
        return NO_ORGANIZATION
    return f"{organization}（{region}）" if region else organization


def shown_value(value: Any) -> str:
    """A cell's or a finding's expected/actual value as the finding's message writes it: a blank cell is 无
    (`rules.base.MISSING_VALUE`), a whole number without decimals, several values joined by 、."""
    if isinstance(value, list | tuple):
        return "、".join(map(shown_value, value))
    return show_value(value)


def local_time(moment: datetime | None) -> str:
    """A stored (UTC) time in the machine's time zone, to the minute; empty when there is none."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


class Judged(Protocol):
    """A stored finding as the history grid needs it (`storage.FindingRow` and the web's rows)."""

    @property
    def rule(self) -> str: ...

    @property
    def year(self) -> int | None: ...

    @property
    def status(self) -> str: ...


def history_grid(found: Iterable[Judged], years: Sequence[int]) -> list[tuple[str, list[str]]]:
    """(rule, one state per year) for each rule that ever fired on a body: `fired` (open: not resolved, not
    dismissed), `dismissed` (every finding of that year a reviewer dismissed), `fixed` (fired only in a superseded
    version of that year, or in an earlier year), `never`. The states are keys of GRID_STATES."""
    by_cell: dict[tuple[str, int], set[str]] = defaultdict(set)
    for finding in found:
        if finding.year is not None:
            by_cell[(finding.rule, finding.year)].add(finding.status)
    grid = []
    for rule in sorted({rule for rule, _ in by_cell}):
        states: list[str] = []
        for year in years:
            statuses = by_cell.get((rule, year), set())
            if statuses & {"pending", "confirmed"}:
                states.append("fired")
            elif "dismissed" in statuses:
                states.append("dismissed")
            elif statuses or any(state != "never" for state in states):
                states.append("fixed")
            else:
                states.append("never")
        grid.append((rule, states))
    return grid


def stored_line(report: Report, *, created: bool, new_findings: int, version_id: int) -> str:
    """The run log's line for a stored file: 已入库 白鹤镇人民政府（房县） 2023 年度：7 项发现，新发现 2（version, path)."""
    body = f"{who(report.organization.name, report.organization.region)} {report.year or '?'} 年度"
    where = f"（版本 #{version_id}，{report.source.path}）"
    if not created:
        return f"内容已入库 {body}{where}"
    return f"已入库 {body}：{len(report.findings)} 项发现，新发现 {new_findings}{where}"


def failed_line(path: str, reason: str) -> str:
    """The run log's line for a file that ended `failed`."""
    return f"未能处理 {path}：{reason}"
