"""How values, times, severities and bodies are shown to reviewers, the same in alerts, pages, exports and the
command line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from report.model import Report

SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}  # most severe first
SEVERITY_RANK = {severity: len(SEVERITY_NAMES) - index for index, severity in enumerate(SEVERITY_NAMES)}  # error 3
NO_ORGANIZATION = "（未写明机关）"
# The ledger's states (storage.LEDGER_STATES) as reviewers and operators read them.
STATE_NAMES = {"new": "待处理", "queued": "排队中", "processing": "处理中", "stored": "已入库", "failed": "未能处理"}
LANGUAGES = ("zh", "en")


def severity_name(severity: str, lang: str = "zh") -> str:
    return SEVERITY_NAMES.get(severity, severity) if lang == "zh" else severity


def state_name(state: str, lang: str = "zh") -> str:
    return STATE_NAMES.get(state, state) if lang == "zh" else state


def who(organization: str | None, region: str | None) -> str:
    """A body as reviewers read it: 白鹤镇人民政府（房县）; the region left out when none is stored."""
    if not organization:
        return NO_ORGANIZATION
    return f"{organization}（{region}）" if region else organization


def shown_value(value: Any) -> str:
    """A cell's or a finding's expected/actual value: a blank cell is （空）, several values are joined by 、."""
    if value is None:
        return "（空）"
    if isinstance(value, list | tuple):
        return "、".join(map(shown_value, value))
    return str(value)


def local_time(moment: datetime | None) -> str:
    """A stored (UTC) time in the machine's time zone, to the minute; empty when there is none."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def body_name(name: str | None, region: str | None) -> str:
    """A body as its report's title names it: 房县白鹤镇人民政府 (region first), or （未写明机关）."""
    return "".join(part for part in (region, name) if part) or NO_ORGANIZATION


def stored_line(report: Report, *, created: bool, new_findings: int, version_id: int) -> str:
    """The run log's line for a stored file: 已入库 房县白鹤镇人民政府 2023 年度：7 项发现，新发现 2（version, path)."""
    who = f"{body_name(report.organization.name, report.organization.region)} {report.year or '?'} 年度"
    where = f"（版本 #{version_id}，{report.source.path}）"
    if not created:
        return f"内容已入库 {who}{where}"
    return f"已入库 {who}：{len(report.findings)} 项发现，新发现 {new_findings}{where}"


def failed_line(path: str, reason: str) -> str:
    """The run log's line for a file that ended `failed`."""
    return f"未能处理 {path}：{reason}"
