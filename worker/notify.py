"""Alerts: the Chinese message about a stored report's new (or resolved) findings, its routing to Apprise
targets by tag, and its delivery from the outbox, grouped per target.

Each (report version, kind, target) is one outbox item, so a channel that is down for a week is retried on its
own and never makes the healthy channels receive the same message twice. A target receives a message when it
has no tags, is tagged `always`, or shares a tag with the message: the severities of the findings (`error`,
`warning`, `info`), the organization's region (`房县`) and the kind (`new`, `resolved`).

Delivery groups a target's items as Alertmanager groups alerts: the first item for a quiet target waits
`notify_group_wait` for others to join, then one message goes out (the item's own alert when it is alone, a
digest listing the reports when several are waiting); the next message to that target waits
`notify_group_interval` (or longer, for the channel's rate limit) and carries everything that came meanwhile.
Each message is a digest record with a stable key sent along with it (`worker.channels.identified`).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import apprise
from apprise.common import NotifyType, OverflowMode
from apprise.plugins.base import NotifyBase
from apprise.utils.logic import is_exclusive_match
from sqlalchemy.exc import DBAPIError

from nianbao.display import SEVERITIES, SEVERITY_NAMES, SEVERITY_RANK, shown_value, who
from nianbao.settings import Settings
from report.model import Finding, Report
from storage import Digest, OutboxDraft, OutboxItem, SaveResult, Store
from storage.tables import utcnow
from worker import channels

log = logging.getLogger(__name__)

# One message lists at most this many findings; the rest are counted (`nianbao findings` shows them all).
MAX_LISTED = 30
# A digest names at most this many alerts; the rest are counted.
DIGEST_LISTED = 50
# How a digest counts its alerts, by kind (the part of the outbox kind before ":"; worker/overdue.py adds two).
DIGEST_KINDS = {"new": "新发现问题", "resolved": "已更正", "overdue": "逾期未报", "received": "已收到"}
# The Apprise notify type of a message by the most severe finding it reports (resolved notes are `info`).
NOTIFY_TYPES = {"error": NotifyType.FAILURE, "warning": NotifyType.WARNING, "info": NotifyType.INFO}
# A delivery pass waits in place for a message due this soon (the group wait of a lone item); a later one is
# left to a pass scheduled for its time.
SHORT_WAIT = 1.0
# Recording a sent message is retried this many times (1, 2, 4, 8 s apart) before the pass gives up: each failed
# try leaves a message the channel accepted to be sent again when its claim ends.
MARK_ATTEMPTS = 5
TITLE_PREFIX = "【年报合规】"
# "error, 房县=wecombot://KEY": the tags before "=", the URL after it (tags contain no ":" or "/").
_TAGGED_URL = re.compile(r"^\s*(?P<tags>[^=:/]+?)\s*=\s*(?P<url>\S+://.*)$")


@dataclass(frozen=True)
class Message:
    kind: str  # "new" or "resolved"
    title: str
    body: str
    tags: tuple[str, ...]


def _finding_lines(number: int, finding: Finding) -> list[str]:
    lines = [
        f"{number}. 【{SEVERITY_NAMES.get(finding.severity, finding.severity)}】{finding.location}：{finding.message}"
    ]
    if finding.expected is not None or finding.actual is not None:
        lines.append(f"   应为：{shown_value(finding.expected)}；实为：{shown_value(finding.actual)}")
    lines.append(f"   规则：{finding.rule}")
    return lines


def _tags(kind: str, report: Report, findings: Sequence[Finding]) -> tuple[str, ...]:
    severities = [severity for severity in SEVERITIES if any(f.severity == severity for f in findings)]
    region = [report.organization.region] if report.organization.region else []
    return (kind, *severities, *region)


def _header(report: Report) -> list[str]:
    return [
        f"机关：{who(report.organization.name, report.organization.region)}",
        f"年度：{report.year or '（未写明）'}",
        f"文件：{report.source.path}",
    ]


def _alert_order(findings: Sequence[Finding]) -> list[Finding]:
    """Errors first, then warnings, then notes; in report order within each (the order of every alert)."""
    return sorted(findings, key=lambda f: -SEVERITY_RANK.get(f.severity, 0))


def new_findings_message(report: Report, findings: Sequence[Finding]) -> Message:
    """The alert about findings never seen before in this organization's report of this year."""
    ordered = _alert_order(findings)
    lines = [*_header(report), "", f"新发现 {len(findings)} 项问题："]
    for number, finding in enumerate(ordered[:MAX_LISTED], 1):
        lines += _finding_lines(number, finding)
    if len(ordered) > MAX_LISTED:
        lines.append(f"……另有 {len(ordered) - MAX_LISTED} 项，请用 nianbao findings 查看。")
    if report.problems:
        lines += ["", "读取时的问题：", *(f"- {problem}" for problem in report.problems)]
    title = f"{TITLE_PREFIX}{who(report.organization.name, report.organization.region)} {report.year or ''} 年度报告：新发现 {len(findings)} 项问题"
    return Message("new", title, "\n".join(lines), _tags("new", report, findings))


def resolved_message(report: Report, findings: Sequence[Finding]) -> Message:
    """The short note that a new version of the report no longer has these findings, listed in the order of the
    alerts that reported them (`findings` in the order they were first stored)."""
    ordered = _alert_order(findings)
    lines = [*_header(report), "", f"新版本已更正 {len(findings)} 项问题："]
    for number, finding in enumerate(ordered[:MAX_LISTED], 1):
        lines.append(f"{number}. {finding.location}：{finding.message}")
    if len(findings) > MAX_LISTED:
        lines.append(f"……另有 {len(findings) - MAX_LISTED} 项。")
    title = f"【已更正】{who(report.organization.name, report.organization.region)} {report.year or ''} 年度报告：{len(findings)} 项问题已更正"
    return Message("resolved", title, "\n".join(lines), _tags("resolved", report, findings))


def messages_for(report: Report, result: SaveResult, store: Store, settings: Settings) -> list[Message]:
    """The alerts a save calls for: new findings, and resolved ones when `notify_resolved` is set."""
    new, resolved = result.new_findings, result.resolved_findings
    if not result.created or resolved:
        # The same content again (a worker that died after saving it may not have queued its alerts), or
        # resolved findings, which `save` returns in no particular order: the store's are in the order stored.
        new, resolved = store.version_changes(result.version_id)
    new = store.undismissed(report, new)  # a finding a reviewer dismissed as a false alarm is not alerted again
    return messages_about(report, new, resolved, settings)


def messages_about(
    report: Report, new: Sequence[Finding], resolved: Sequence[Finding], settings: Settings
) -> list[Message]:
    """The alerts about findings new to this report (already less the dismissed ones) and resolved ones."""
    messages = [new_findings_message(report, new)] if new else []
    if resolved and settings.notify_resolved:
        messages.append(resolved_message(report, resolved))
    return messages


# -- targets ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    id: str  # Apprise's URL identifier: a hash of the URL's credentials and host, stable across restarts
    plugin: NotifyBase

    @property
    def scheme(self) -> str:
        return self.plugin.url(privacy=True).split("://", 1)[0]

    @property
    def shown(self) -> str:
        """The URL with its secrets hidden, for logs and `nianbao notify test`."""
        return self.plugin.url(privacy=True)

    def wants(self, tags: Iterable[str]) -> bool:
        return not self.plugin.tags or is_exclusive_match(logic=list(tags), data=self.plugin.tags)

    def send(
        self, title: str, body: str, notify_type: NotifyType = NotifyType.INFO, key: str = "", items: Sequence[int] = ()
    ) -> tuple[bool, str]:
        """Deliver one message with its stable `key`; (accepted, the channel's answer or why not). Apprise logs
        the answer, captured here."""
        with (
            apprise.LogCapture(level=logging.INFO, fmt="%(message)s") as captured,
            channels.identified(self.plugin, key, items),
        ):
            sent = bool(
                self.plugin.notify(body=body, title=title, notify_type=notify_type, overflow=OverflowMode.TRUNCATE)
            )
        answer = " ".join(captured.getvalue().split())[-1000:]  # type: ignore[union-attr]
        return sent, answer or ("已发送" if sent else "发送失败（原因未知）")

    def fit(self, title: str, lines: Sequence[str], footer: Sequence[str]) -> str:
        """The body of `lines` and `footer` cut to what this channel shows in one message (a WeCom robot: 2,048
        characters with the title), so a message is never split into parts that could be refused separately."""
        room = self.plugin.body_maxlen - (len(title) + 2 if not self.plugin.title_maxlen else 0)
        ending = "……（余下内容从略，请在审阅页面或用 nianbao findings 查看）"
        kept: list[str] = []
        used = sum(len(line) + 1 for line in footer)
        whole = used + sum(len(line) + 1 for line in lines)
        if whole > room:
            used += len(ending) + 1
            for line in lines:
                if used + len(line) + 1 > room:
                    break
                kept.append(line)
                used += len(line) + 1
            kept.append(ending)
        else:
            kept = list(lines)
        return "\n".join([*kept, *footer])


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
    drafts = outbox_drafts(messages, targets)
    for draft in drafts:
        store.outbox_add(version_id, draft.title, draft.body, [*draft.tags], kind=draft.kind)
    return len(drafts)


def outbox_drafts(messages: Sequence[Message], targets: dict[str, Target]) -> list[OutboxDraft]:
    """One outbox item per message and target that wants it (kind `new:<target id>`)."""
    return [
        OutboxDraft(f"{message.kind}:{target.id}", message.title, message.body, message.tags)
        for message in messages
        for target in targets.values()
        if target.wants(message.tags)
    ]


def queue_backlog(store: Store, settings: Settings, targets: dict[str, Target]) -> int:
    """Queue, for `targets` (configured since the last delivery pass), the alerts of stored versions about which
    nothing was ever queued: reports stored while no target, or none that wanted them, was configured (or
    ingested with `nianbao ingest`). How many items that is."""
    count = 0
    for version_id in store.versions_never_alerted(resolved=settings.notify_resolved):
        report = store.report(version_id)
        if report is None:
            continue
        new, resolved = store.version_changes(version_id)
        new = store.undismissed(report, new)
        messages = [new_findings_message(report, new)] if new else []
        if resolved and settings.notify_resolved:
            messages.append(resolved_message(report, resolved))
        count += queue_alerts(store, messages, version_id, targets)
    return count


# -- delivery -------------------------------------------------------------------------------------------------


def spacing(target: Target, settings: Settings) -> timedelta:
    """The least time between two messages to a target: the group interval, or longer for its rate limit."""
    rate = settings.notify_rate_limits.get(target.scheme)
    return timedelta(seconds=max(settings.notify_group_interval, 60.0 / rate if rate else 0.0))


def _kind(item: OutboxItem) -> str:
    return item.kind.partition(":")[0]


def _severity(item: OutboxItem) -> str | None:
    """The most severe finding an alert about new findings reports (None for other kinds of alert)."""
    if _kind(item) != "new":
        return None
    return next((severity for severity in SEVERITIES if severity in item.tags), None)


def notify_type(items: Sequence[OutboxItem]) -> NotifyType:
    """failure for a message reporting errors, warning for warnings, info otherwise (notes, resolved)."""
    severities = {_severity(item) for item in items}
    return next((NOTIFY_TYPES[severity] for severity in SEVERITIES if severity in severities), NotifyType.INFO)


def _counts(items: Sequence[OutboxItem]) -> str:
    """ "新发现问题 35 份（其中有错误的 20 份），已更正 2 份": the items of a digest counted by kind."""
    kinds = Counter(_kind(item) for item in items)
    with_errors = sum(1 for item in items if _severity(item) == "error")
    counts = []
    for kind, label in DIGEST_KINDS.items():
        if kinds[kind]:
            errors = f"（其中有错误的 {with_errors} 份）" if kind == "new" and with_errors else ""
            counts.append(f"{label} {kinds.pop(kind)} 份{errors}")
    if kinds.total():
        counts.append(f"其他提醒 {kinds.total()} 条")
    return "，".join(counts)


def render(digest: Digest, target: Target, settings: Settings) -> tuple[str, str]:
    """(title, body) of a digest for a target: a lone item's own alert; for several, the counts by kind and one
    line per alert (its title: who, year, how many findings) with the most severe finding's label."""
    footer = [f"审阅页面：{settings.web_base_url.rstrip('/')}/findings"] if settings.web_base_url else []
    if not channels.carries_id(target.plugin):
        footer.append(f"提醒编号：{digest.key}")
    items = digest.items
    if len(items) == 1:
        (item,) = items
        return item.title, target.fit(item.title, item.body.split("\n"), ["", *footer] if footer else [])
    title = f"{TITLE_PREFIX}{len(items)} 条提醒：{_counts(items)}"
    first, last = items[0].created_at, items[-1].created_at
    lines = [f"{first:%Y-%m-%d %H:%M:%S} 至 {last:%H:%M:%S}（UTC）的 {len(items)} 条提醒：", ""]
    for number, item in enumerate(items[:DIGEST_LISTED], 1):
        label = SEVERITY_NAMES.get(_severity(item) or "", "")
        lines.append(f"{number}. " + (f"【{label}】" if label else "") + item.title.removeprefix(TITLE_PREFIX))
    if len(items) > DIGEST_LISTED:
        lines.append(f"……另有 {len(items) - DIGEST_LISTED} 条，请在审阅页面或用 nianbao findings 查看。")
    return title, target.fit(title, lines, ["", *footer] if footer else [])


@dataclass(frozen=True)
class Delivered:
    sent: int  # messages the channels accepted
    refused: int  # messages refused (retried after a backoff)
    next_due: float | None  # seconds until the next message is due; None when nothing waits


# The (database, target) pairs this process has recorded with `Store.alert_targets_add`: a pass records a
# target once per process, not once per pass.
_RECORDED: set[tuple[str, str]] = set()


def deliver_due(store: Store, targets: dict[str, Target], settings: Settings, budget: float) -> Delivered:
    """Send the messages that are due, for about `budget` seconds: claim a digest, send it, record the answer in
    one transaction. A message due within SHORT_WAIT is waited for; the time to a later one is returned, for a
    pass scheduled then (`next_due` is None when no follow-up is needed or one is already scheduled). A pass
    that finds nothing due only reads."""
    if any((store.url, target_id) not in _RECORDED for target_id in targets):
        configured = store.alert_targets_add(targets)
        _RECORDED.update((store.url, target_id) for target_id in targets)
        if configured:
            queued = queue_backlog(store, settings, {target_id: targets[target_id] for target_id in configured})
            if queued:
                log.warning("新配置的提醒渠道：补发 %d 条已入库报告的提醒", queued)
    gaps = {target.id: spacing(target, settings) for target in targets.values()}
    wait = timedelta(seconds=settings.notify_group_wait)
    deadline = time.monotonic() + budget
    sent = refused = 0
    while True:
        due = store.digest_next_due(gaps, wait)
        if due is None:
            return Delivered(sent, refused, None)
        now = utcnow()
        delay = (due.when - now).total_seconds()
        if delay > 0:
            if delay <= SHORT_WAIT and time.monotonic() + delay < deadline:
                time.sleep(delay + 0.01)
                continue
            wake = not due.scheduled(now) and store.digest_wake(due.target, due.when)
            return Delivered(sent, refused, delay if wake else None)
        digest = store.digest_claim(gaps, wait)
        if digest is None:  # another sender claimed it
            return Delivered(sent, refused, None)
        target = targets[digest.target]
        title, body = render(digest, target, settings)
        ok, answer = target.send(title, body, notify_type(digest.items), digest.key, [i.id for i in digest.items])
        _mark(store, digest, ok, None if ok else answer, settings)
        if ok:
            sent += 1
        else:
            refused += 1
            log.warning("提醒 %s（%d 条）发送到 %s 未被接收：%s", digest.key, len(digest.items), target.shown, answer)
        if time.monotonic() >= deadline:
            return Delivered(sent, refused, 0.0)


def delivery_needed(store: Store, targets: dict[str, Target], settings: Settings) -> bool:
    """Whether alerts just queued call for a delivery pass: not when the next message is more than SHORT_WAIT
    away and a pass is already scheduled for it (a burst of batches in a target's interval costs one read each,
    not a task and a pass each). A pass that was lost is made good by reconciliation, as for `deliver_due`. A
    database error asks for a pass (the batch is stored: it is not retried for this)."""
    try:
        due = store.digest_next_due(list(targets), timedelta(seconds=settings.notify_group_wait))
    except DBAPIError:
        return True
    if due is None:
        return True  # a target no pass has recorded yet
    now = utcnow()
    return (due.when - now).total_seconds() <= SHORT_WAIT or not due.scheduled(now)


def _mark(store: Store, digest: Digest, sent: bool, error: str | None, settings: Settings) -> None:
    """Record the answer; a database that refuses the write for a while (locked, read-only, disk full) is tried
    again for about 15 s, since a message sent but not recorded is sent again when its claim ends."""
    for attempt in range(MARK_ATTEMPTS):
        try:
            store.digest_mark(
                digest.id,
                sent=sent,
                error=error,
                first_backoff=timedelta(seconds=settings.outbox_first_backoff),
                max_backoff=timedelta(seconds=settings.outbox_max_backoff),
            )
            return
        except DBAPIError:
            if attempt == MARK_ATTEMPTS - 1:
                log.error("提醒 %s 已%s，但未能记录：到期后会再次发送", digest.key, "发送" if sent else "被拒收")
                raise
            time.sleep(2**attempt)


def send_test(targets: dict[str, Target]) -> list[tuple[Target, bool, str]]:
    """Send a test message to every target: (target, accepted, the channel's answer) for each."""
    title = f"{TITLE_PREFIX}测试消息"
    results = []
    for target in targets.values():
        key = f"test{utcnow():%Y%m%d%H%M%S}{target.id}"[:32]
        body = f"这是 nianbao 的测试消息，说明本渠道能收到年报合规提醒。\n提醒编号：{key}"
        ok, answer = target.send(title, body, NotifyType.INFO, key)
        results.append((target, ok, answer))
    return results
