"""Alerts: the Chinese message about a stored report's new (or resolved) findings, its routing to Apprise
targets by tag, and its delivery from the outbox.

Each (report version, kind, target) is one outbox item, so a channel that is down for a week is retried on its
own and never makes the healthy channels receive the same message twice. A target receives a message when it
has no tags, is tagged `always`, or shares a tag with the message: the severities of the findings (`error`,
`warning`, `info`), the organization's region (`房县`) and the kind (`new`, `resolved`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import apprise
from apprise.common import OverflowMode
from apprise.plugins.base import NotifyBase
from apprise.utils.logic import is_exclusive_match

from nianbao.display import shown_value
from nianbao.settings import Settings
from report.model import Finding, Report
from storage import SaveResult, Store
from storage.store import OUTBOX_FIRST_BACKOFF, OUTBOX_MAX_BACKOFF
from worker import channels

log = logging.getLogger(__name__)

SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
SEVERITY_ORDER = ("error", "warning", "info")
# One message lists at most this many findings; the rest are counted (`nianbao findings` shows them all).
MAX_LISTED = 30
# "error, 房县=wecombot://KEY": the tags before "=", the URL after it (tags contain no ":" or "/").
_TAGGED_URL = re.compile(r"^\s*(?P<tags>[^=:/]+?)\s*=\s*(?P<url>\S+://.*)$")


@dataclass(frozen=True)
class Message:
    kind: str  # "new" or "resolved"
    title: str
    body: str
    tags: tuple[str, ...]


def _who(report: Report) -> str:
    org = report.organization
    if not org.name:
        return "（未写明机关）"
    return f"{org.region}{org.name}" if org.region and not org.name.startswith(org.region) else org.name


def _finding_lines(number: int, finding: Finding) -> list[str]:
    lines = [
        f"{number}. 【{SEVERITY_LABELS.get(finding.severity, finding.severity)}】{finding.location}：{finding.message}"
    ]
    if finding.expected is not None or finding.actual is not None:
        lines.append(f"   应为：{shown_value(finding.expected)}；实为：{shown_value(finding.actual)}")
    lines.append(f"   规则：{finding.rule}")
    return lines


def _tags(kind: str, report: Report, findings: Sequence[Finding]) -> tuple[str, ...]:
    severities = [severity for severity in SEVERITY_ORDER if any(f.severity == severity for f in findings)]
    region = [report.organization.region] if report.organization.region else []
    return (kind, *severities, *region)


def _header(report: Report) -> list[str]:
    org = report.organization
    return [
        f"机关：{org.name or '（未写明）'}" + (f"（{org.region}）" if org.region else ""),
        f"年度：{report.year or '（未写明）'}",
        f"文件：{report.source.path}",
    ]


def new_findings_message(report: Report, findings: Sequence[Finding]) -> Message:
    """The alert about findings never seen before in this organization's report of this year."""
    ordered = sorted(findings, key=lambda f: SEVERITY_ORDER.index(f.severity) if f.severity in SEVERITY_ORDER else 9)
    lines = [*_header(report), "", f"新发现 {len(findings)} 项问题："]
    for number, finding in enumerate(ordered[:MAX_LISTED], 1):
        lines += _finding_lines(number, finding)
    if len(ordered) > MAX_LISTED:
        lines.append(f"……另有 {len(ordered) - MAX_LISTED} 项，请用 nianbao findings 查看。")
    if report.problems:
        lines += ["", "读取时的问题：", *(f"- {problem}" for problem in report.problems)]
    title = f"【年报合规】{_who(report)} {report.year or ''} 年度报告：新发现 {len(findings)} 项问题"
    return Message("new", title, "\n".join(lines), _tags("new", report, findings))


def resolved_message(report: Report, findings: Sequence[Finding]) -> Message:
    """The short note that a new version of the report no longer has these findings."""
    lines = [*_header(report), "", f"新版本已更正 {len(findings)} 项问题："]
    for number, finding in enumerate(findings[:MAX_LISTED], 1):
        lines.append(f"{number}. {finding.location}：{finding.message}")
    if len(findings) > MAX_LISTED:
        lines.append(f"……另有 {len(findings) - MAX_LISTED} 项。")
    title = f"【已更正】{_who(report)} {report.year or ''} 年度报告：{len(findings)} 项问题已更正"
    return Message("resolved", title, "\n".join(lines), _tags("resolved", report, findings))


def messages_for(report: Report, result: SaveResult, store: Store, settings: Settings) -> list[Message]:
    """The alerts a save calls for: new findings, and resolved ones when `notify_resolved` is set."""
    if result.created:
        new, resolved = result.new_findings, result.resolved_findings
    else:  # the same content again: a worker that died after saving it may not have queued its alerts
        new, resolved = store.version_changes(result.version_id)
    new = store.undismissed(report, new)  # a finding a reviewer dismissed as a false alarm is not alerted again
    messages = [new_findings_message(report, new)] if new else []
    if resolved and settings.notify_resolved:
        messages.append(resolved_message(report, resolved))
    return messages


# -- targets ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    id: str  # Apprise's URL identifier: a hash of the URL's credentials and host, stable across restarts
    plugin: NotifyBase

    def wants(self, tags: Iterable[str]) -> bool:
        return not self.plugin.tags or is_exclusive_match(logic=list(tags), data=self.plugin.tags)

    def send(self, title: str, body: str) -> tuple[bool, str | None]:
        """Deliver one message; (sent, why not). Apprise logs the reason of a failure, captured here."""
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            sent = bool(self.plugin.notify(body=body, title=title, overflow=OverflowMode.SPLIT))
        if sent:
            return True, None
        reason = " ".join(captured.getvalue().split())  # type: ignore[union-attr]
        return False, reason[-1000:] or "发送失败（原因未知）"


def load_targets(settings: Settings) -> dict[str, Target]:
    """Every configured Apprise target by its id (`notify_urls` first, then `notify_config`)."""
    channels.register()
    services = apprise.Apprise()
    for spec in settings.notify_urls:
        match = _TAGGED_URL.match(spec)
        url, tags = (match["url"], re.split(r"[,\s]+", match["tags"])) if match else (spec.strip(), [])
        if not services.add(url, tag=[tag for tag in tags if tag]):
            log.error("notify_urls: Apprise cannot use %s", url.split("://")[0] + "://…")
    if settings.notify_config:
        config = apprise.AppriseConfig()
        if not config.add(str(settings.notify_config)):
            log.error("notify_config: Apprise cannot read %s", settings.notify_config)
        services.add(config)
    targets: dict[str, Target] = {}
    for plugin in services:
        target_id = plugin.url_id() or plugin.url(privacy=True)
        targets.setdefault(target_id, Target(target_id, plugin))
    return targets


def queue_alerts(store: Store, messages: Sequence[Message], version_id: int, targets: dict[str, Target]) -> int:
    """Put each message in the outbox once per target that wants it; how many items that is (the same version
    again finds its items already there and adds none)."""
    count = 0
    for message in messages:
        for target in targets.values():
            if target.wants(message.tags):
                kind = f"{message.kind}:{target.id}"
                store.outbox_add(version_id, message.title, message.body, [*message.tags], kind=kind)
                count += 1
    return count


def deliver_due(
    store: Store,
    targets: dict[str, Target],
    budget: float,
    *,
    first_backoff: timedelta = OUTBOX_FIRST_BACKOFF,
    max_backoff: timedelta = OUTBOX_MAX_BACKOFF,
) -> tuple[int, int, bool]:
    """Send outbox items that are due, one claimed at a time, for about `budget` seconds; (sent, failed, whether
    time ran out first). Apprise spaces a bot's messages (WeCom and DingTalk accept 20 a minute), so a backlog
    is sent over several tasks instead of holding one worker process for an hour. A target that fails is not
    tried again in this pass: its other items are left unclaimed, due for the next pass. A failed item is due
    again after a backoff that doubles from `first_backoff` up to `max_backoff`."""
    sent = failed = 0
    down: set[str] = set()
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        due = store.outbox_due(1, skip_targets=down)
        if not due:
            return sent, failed, False
        item = due[0]
        target_id = item.kind.partition(":")[2]
        target = targets.get(target_id)
        error: str | None
        if target is None:
            ok, error = False, f"通知目标 {target_id} 已不在配置中（notify_urls / notify_config）"
        else:
            ok, error = target.send(item.title, item.body)
        store.outbox_mark(item.id, sent=ok, error=error, first_backoff=first_backoff, max_backoff=max_backoff)
        if ok:
            sent += 1
        else:
            failed += 1
            down.add(target_id)
            log.warning("notification %s to %s failed: %s", item.id, target_id, error)
    return sent, failed, True
