"""How values, times, severities and bodies are shown to reviewers, the same in alerts, pages, exports and the
command line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

SEVERITY_NAMES = {"error": "错误", "warning": "警告", "info": "提示"}  # most severe first
SEVERITY_RANK = {severity: len(SEVERITY_NAMES) - index for index, severity in enumerate(SEVERITY_NAMES)}  # error 3
NO_ORGANIZATION = "（未写明机关）"


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
