"""Alerts about reports that never arrive: one `report.overdue` alert per body and year once its deadline has
passed, and a 已收到 note when the report then arrives. Both go through the outbox like any alert, tagged
`overdue` (or `received`) and with the body's region, so routing by tag works as for findings."""

from __future__ import annotations

from datetime import date

from nianbao.display import local_time, who
from nianbao.settings import Settings
from report.model import Report
from rules.legal import LEVEL_NAMES
from storage import SaveResult, Store
from storage.registry import Notice, OverdueBody, overdue, receive, record_notice
from worker.notify import Message, Target

OVERDUE_KIND = "overdue"
RECEIVED_KIND = "received"


def default_year(as_of: date) -> int:
    """The year whose reports are due in `as_of`'s year."""
    return as_of.year - 1


def overdue_message(body: OverdueBody, year: int, as_of: date) -> Message:
    level = LEVEL_NAMES.get(body.level, "层级未知，按最晚期限")
    if body.last_year is None:
        last = "从未收到该机关的年度报告。"
    else:
        last = f"最近收到的是 {body.last_year} 年度报告（{local_time(body.last_received) or '收到时间未知'}）。"
    name = who(body.name, body.region)
    return Message(
        kind=OVERDUE_KIND,
        title=f"【逾期未报】{name} {year} 年度政府信息公开工作年度报告",
        body=(
            f"{name}（{level}）的 {year} 年度报告应于 {body.deadline.isoformat()} 前公布"
            f"（《政府信息公开条例》第四十九条），截至 {as_of.isoformat()} 仍未收到。{last}\n规则：report.overdue"
        ),
        tags=(OVERDUE_KIND, "report.overdue", *([body.region] if body.region else [])),
    )


def received_message(report: Report, notice: Notice) -> Message:
    org = report.organization
    name = who(org.name, org.region)
    return Message(
        kind=RECEIVED_KIND,
        title=f"【已收到】{name} {notice.year} 年度政府信息公开工作年度报告",
        body=(
            f"此前提示逾期未报（期限 {notice.deadline}，{local_time(notice.alerted_at)} 提示）的 {name} "
            f"{notice.year} 年度报告已于 {local_time(notice.received_at)} 收到。"
        ),
        tags=(RECEIVED_KIND, "report.overdue", *([org.region] if org.region else [])),
    )


def _queue(store: Store, message: Message, version_id: int | None, targets: dict[str, Target]) -> int:
    count = 0
    for target in targets.values():
        if target.wants(message.tags):
            store.outbox_add(
                version_id, message.title, message.body, [*message.tags], kind=f"{message.kind}:{target.id}"
            )
            count += 1
    return count


def alert_overdue(
    store: Store, settings: Settings, targets: dict[str, Target], as_of: date, year: int | None = None
) -> tuple[int, int]:
    """Record and alert every body newly overdue for `year` (default: the year due in `as_of`'s year);
    (bodies newly overdue, outbox items queued). Bodies alerted before are not alerted again."""
    year = year if year is not None else default_year(as_of)
    bodies = items = 0
    for body in overdue(store, year, as_of, settings.rules):
        if record_notice(store, body, year):
            bodies += 1
            items += _queue(store, overdue_message(body, year, as_of), None, targets)
    return bodies, items


def alert_received(store: Store, report: Report, result: SaveResult, targets: dict[str, Target]) -> int:
    """The 已收到 note for a report that arrived after its body was alerted as overdue; outbox items queued."""
    if not result.created:
        return 0
    notice = receive(store, report, result.version_id)
    return _queue(store, received_message(report, notice), result.version_id, targets) if notice else 0
