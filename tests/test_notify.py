"""Alerts: the Chinese message, routing by tag, delivery from the outbox, and WeCom/DingTalk bots that answer
HTTP 200 with an error code when they reject a message."""

from __future__ import annotations

import email.utils
import itertools
import json
import math
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import apprise
import pytest
from apprise.common import NotifyType
from apprise.plugins import email as apprise_email
from click.testing import CliRunner
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from nianbao.cli import main
from nianbao.judge import judge, read_report
from nianbao.settings import Settings, get_settings
from report.model import Finding, Organization, Report, Source
from storage import Digest, OutboxItem, Store
from storage.tables import DigestRecord, utcnow
from tests.seed_samples import seed_path
from tests.services import Receiver, receiving, smtp_sink
from worker import channels, notify
from worker.notify import (
    Delivered,
    Target,
    deliver_due,
    delivery_needed,
    load_targets,
    messages_for,
    new_findings_message,
    notify_type,
    queue_alerts,
    render,
    resolved_message,
    send_test,
    spacing,
)

SEED = seed_path("002")
REJECTED = {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1_abc]"}


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'nianbao.db'}")
    yield opened
    opened.dispose()


def test_the_alert_names_organization_year_file_and_each_finding() -> None:
    settings = Settings()
    report = judge(read_report(SEED, settings), [], settings)
    message = new_findings_message(report, report.findings)
    assert message.title == f"【年报合规】白鹤镇人民政府（房县） 2023 年度报告：新发现 {len(report.findings)} 项问题"
    assert "机关：白鹤镇人民政府（房县）" in message.body and "年度：2023" in message.body
    assert f"文件：{SEED}" in message.body
    for finding in report.findings:
        assert f"{finding.location}：{finding.message}" in message.body
    assert "应为：0；实为：1" in message.body
    assert message.body.index("【错误】") < message.body.index("【提示】")  # errors first
    assert message.tags == ("new", "error", "info", "房县")
    fixed = resolved_message(report, report.findings[:1])
    assert fixed.title.startswith("【已更正】") and "已更正 1 项问题" in fixed.body


def test_targets_are_chosen_by_tag(tmp_path: Path) -> None:
    config = tmp_path / "apprise.yml"
    config.write_text("urls:\n  - json://127.0.0.1:9/fangxian:\n      tag: 房县\n", encoding="utf-8")
    settings = Settings(
        notify_urls=["json://127.0.0.1:9/everything", "error, warning=json://127.0.0.1:9/errors"],
        notify_config=config,
    )
    targets = {target.plugin.fullpath: target for target in load_targets(settings).values()}
    assert set(targets) == {"/everything", "/errors", "/fangxian"}
    wanted = {path for path, target in targets.items() if target.wants(("new", "error", "房县"))}
    assert wanted == {"/everything", "/errors", "/fangxian"}
    wanted = {path for path, target in targets.items() if target.wants(("new", "info", "孟津区"))}
    assert wanted == {"/everything"}


def _report(town: str, index: int = 0, severity: str = "error") -> Report:
    finding = Finding(rule="requests.balance", severity=severity, message="不平衡", location="三/（七）总计/总计")
    return Report(
        source=Source(path=f"/share/房县/{town}/2023-{index}.txt", sha256=f"{index:064x}", format="txt"),
        organization=Organization(name=f"{town}人民政府", region="房县", level="township"),
        year=2023,
        findings=[finding],
    )


def _queue(store: Store, report: Report, targets: dict) -> int:
    version_id = store.save(report).version_id
    assert queue_alerts(store, [new_findings_message(report, report.findings)], version_id, targets) == len(targets)
    return version_id


def _come_due(store: Store) -> None:
    """Move every unsent digest's next attempt (its backoff, or the claim of a sender that died) to now."""
    with Session(store.engine) as session:
        session.execute(update(DigestRecord).where(DigestRecord.state != "sent").values(next_attempt_at=utcnow()))
        session.commit()


FAST = {"notify_group_wait": 0.2, "notify_group_interval": 0.0}


def test_a_lone_alert_goes_out_alone_after_the_group_wait_with_its_id_and_type(
    sqlite_store: Store, receiver: Receiver
) -> None:
    settings = Settings(notify_urls=[receiver.url], notify_group_wait=0.5, notify_group_interval=60)
    targets = load_targets(settings)
    report = _report("白鹤镇")
    _queue(sqlite_store, report, targets)
    (item,) = [sqlite_store.outbox_item(1)]
    assert deliver_due(sqlite_store, targets, settings, 10) == Delivered(1, 0, None)
    (delivery,) = receiver.accepted
    # The group wait, then at once: well before the group interval (60 s), however loaded the machine is.
    assert 0.5 <= delivery.at - item.created_at.timestamp() < 30
    assert delivery.body["title"] == item.title and delivery.body["message"] == item.body  # its own alert
    assert delivery.body["type"] == "failure"  # an error; warning and info below
    digest = sqlite_store.digest(1)
    assert digest is not None and delivery.body["id"] == digest.key and delivery.body["items"] == [item.id]
    assert sqlite_store.outbox_item(1).state == "sent"  # type: ignore[union-attr]
    assert notify_type([replace(item, tags=["new", "warning"])]) == NotifyType.WARNING
    assert notify_type([replace(item, tags=["new", "info"])]) == NotifyType.INFO
    assert notify_type([replace(item, kind="resolved:x", tags=["resolved", "error"])]) == NotifyType.INFO


def test_a_burst_becomes_one_digest_per_interval_listing_every_report(sqlite_store: Store, receiver: Receiver) -> None:
    settings = Settings(notify_urls=[receiver.url], notify_group_wait=0.2, notify_group_interval=1.0)
    targets = load_targets(settings)
    count, duration = 60, 3.0
    started = time.monotonic()
    for index in range(count):  # reports stored over `duration` s, delivery passes running as the tasks would
        _queue(sqlite_store, _report(f"镇{index}", index), targets)
        deliver_due(sqlite_store, targets, settings, 0.0)
        time.sleep(max(0.0, started + duration * (index + 1) / count - time.monotonic()))
    while (result := deliver_due(sqlite_store, targets, settings, 5)).next_due is not None:
        time.sleep(result.next_due)  # the follow-up pass scheduled for that time
    messages = receiver.messages()
    assert 2 <= len(messages) <= math.ceil((time.monotonic() - started) / 1.0) + 1
    items = {item_id: sqlite_store.outbox_item(item_id) for item_id in range(1, count + 1)}
    assert sorted(i for message in messages for i in message["items"]) == sorted(items)  # each once
    for message in messages:
        listed = [items[item_id] for item_id in message["items"]]
        if len(listed) == 1:
            assert message["message"] == listed[0].body  # type: ignore[union-attr]
            continue
        assert message["title"].startswith(f"【年报合规】{len(listed)} 条提醒：新发现问题 {len(listed)} 份")
        for item in listed:  # each report with its count of findings
            assert f"【错误】{item.title.removeprefix('【年报合规】')}" in message["message"]  # type: ignore[union-attr]
    assert all(item.state == "sent" for item in items.values())  # type: ignore[union-attr]
    # The group interval spaces the claims of digests; the receiver's clock also holds each delivery's latency,
    # which a loaded machine stretches for one message and not the next.
    claimed = [sqlite_store.digest(digest_id) for digest_id in range(1, len(messages) + 2)]
    assert claimed[-1] is None  # one digest per message received
    times = [digest.created_at for digest in claimed[:-1]]  # type: ignore[union-attr]
    assert all(later - earlier >= timedelta(seconds=1.0) for earlier, later in itertools.pairwise(times))


def test_a_burst_in_a_targets_interval_requests_one_delivery_pass(sqlite_store: Store, receiver: Receiver) -> None:
    settings = Settings(notify_urls=[receiver.url], notify_group_wait=0.2, notify_group_interval=60)
    targets = load_targets(settings)
    _queue(sqlite_store, _report("镇0", 0), targets)
    assert delivery_needed(sqlite_store, targets, settings)  # a target no pass has seen yet
    assert deliver_due(sqlite_store, targets, settings, 5) == Delivered(1, 0, None)  # alone, after the group wait
    _queue(sqlite_store, _report("镇1", 1), targets)
    assert delivery_needed(sqlite_store, targets, settings)  # due in a minute, and no pass scheduled for it yet
    scheduled = deliver_due(sqlite_store, targets, settings, 5)
    assert scheduled.sent == 0 and scheduled.next_due is not None and 55 < scheduled.next_due <= 60
    _queue(sqlite_store, _report("镇2", 2), targets)
    assert not delivery_needed(sqlite_store, targets, settings)  # the scheduled pass will carry it
    quiet = load_targets(Settings(notify_urls=[receiver.url + "quiet"]))
    _queue(sqlite_store, _report("镇3", 3), quiet)
    assert deliver_due(sqlite_store, quiet, settings, 0).next_due is not None  # recorded, due in the group wait
    assert delivery_needed(sqlite_store, {**targets, **quiet}, settings)  # a quiet target's first message is near
    assert len(receiver.accepted) == 1


def test_a_rate_limited_robot_gets_one_message_per_its_limit() -> None:
    settings = Settings(notify_group_interval=1.0, notify_urls=["wecombot://key", "json://127.0.0.1:9/"])
    gaps = {target.scheme: spacing(target, settings) for target in load_targets(settings).values()}
    assert gaps == {"wecombot": timedelta(seconds=3), "json": timedelta(seconds=1)}  # 20 a minute


def test_a_refused_message_is_retried_with_its_id_and_other_targets_are_not_held_up(
    sqlite_store: Store, receiver: Receiver
) -> None:
    with receiving() as down:
        down.status = 500
        settings = Settings(notify_urls=[receiver.url, down.url], **FAST)
        targets = load_targets(settings)
        _queue(sqlite_store, _report("白鹤镇"), targets)
        first_pass = deliver_due(sqlite_store, targets, settings, 10)
        assert (first_pass.sent, first_pass.refused) == (1, 1)
        assert first_pass.next_due is not None and 25 < first_pass.next_due <= 30  # a pass for the retry
        refused = next(d for d in (sqlite_store.digest(1), sqlite_store.digest(2)) if d and d.state == "failed")
        (item,) = refused.items
        assert (item.state, item.attempts) == ("failed", 1) and "500" in (item.last_error or "")
        assert deliver_due(sqlite_store, targets, settings, 10).sent == 0  # not due before its backoff (30 s)
        _queue(sqlite_store, _report("土城镇", 1), targets)  # waits behind the refused message for that target
        down.status = 200
        _come_due(sqlite_store)
        assert deliver_due(sqlite_store, targets, settings, 10) == Delivered(3, 0, None)
        assert [body["id"] for body in down.refused_bodies] == [refused.key]
        first, second = down.messages()
        assert first["id"] == refused.key and first["items"] == [item.id]  # the same message, its same id
        assert second["id"] != refused.key and len(second["items"]) == 1
    retried = sqlite_store.outbox_item(item.id)
    assert retried is not None and (retried.state, retried.attempts) == ("sent", 2)
    assert [sent for _, sent, _ in sqlite_store.notifications(item.id)] == [False, True]
    assert len(receiver.messages()) == 2


def test_a_mark_refused_for_a_moment_does_not_send_twice(
    sqlite_store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(notify_urls=[receiver.url], **FAST)
    targets = load_targets(settings)
    _queue(sqlite_store, _report("白鹤镇"), targets)
    mark = sqlite_store.digest_mark
    failures = iter([OperationalError("UPDATE", {}, sqlite3.OperationalError("disk I/O error"))])

    def flaky_mark(*args: object, **kwargs: object) -> object:
        error = next(failures, None)
        if error is not None:
            raise error
        return mark(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite_store, "digest_mark", flaky_mark)
    assert deliver_due(sqlite_store, targets, settings, 10) == Delivered(1, 0, None)
    assert len(receiver.messages()) == 1 and sqlite_store.outbox_item(1).state == "sent"  # type: ignore[union-attr]
    _come_due(sqlite_store)
    assert deliver_due(sqlite_store, targets, settings, 10).sent == 0 and len(receiver.messages()) == 1


def test_a_sender_killed_between_send_and_mark_sends_again_with_the_same_id(
    sqlite_store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The residual documented in docs/pipeline.md: the channel accepted the message, the record of it never
    committed; when the claim ends it is sent again, under the same id."""
    settings = Settings(notify_urls=[receiver.url], **FAST)
    targets = load_targets(settings)
    _queue(sqlite_store, _report("白鹤镇"), targets)
    monkeypatch.setattr(notify, "MARK_ATTEMPTS", 1)
    with monkeypatch.context() as dead:
        dead.setattr(sqlite_store, "digest_mark", _raise_disk_full)
        with pytest.raises(OperationalError):
            deliver_due(sqlite_store, targets, settings, 10)
    assert deliver_due(sqlite_store, targets, settings, 10).sent == 0  # claimed: not sent again before the lease
    _come_due(sqlite_store)  # the lease (5 min) ended
    assert deliver_due(sqlite_store, targets, settings, 10) == Delivered(1, 0, None)
    first, second = receiver.messages()
    assert first["id"] == second["id"] and first["items"] == second["items"] == [1]


def _raise_disk_full(*_: object, **__: object) -> None:
    raise OperationalError("UPDATE", {}, sqlite3.OperationalError("database or disk is full"))


def test_targets_configured_later_get_what_is_stored_and_not_yet_alerted(
    sqlite_store: Store, receiver: Receiver
) -> None:
    for index, town in enumerate(("白鹤镇", "土城镇")):
        sqlite_store.save(_report(town, index))  # stored while no target was configured
    settings = Settings(notify_urls=[receiver.url], notify_group_wait=0.0, notify_group_interval=0.0)
    targets = load_targets(settings)
    assert deliver_due(sqlite_store, targets, settings, 10) == Delivered(1, 0, None)
    (digest,) = receiver.messages()
    assert (
        "2 条提醒：新发现问题 2 份（其中有错误的 2 份）" in digest["title"]
        and "白鹤镇" in digest["message"]
        and "土城镇" in digest["message"]
    )
    assert deliver_due(sqlite_store, targets, settings, 10) == Delivered(0, 0, None)  # once


def test_notify_test_reports_each_targets_answer(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    with receiving() as down:
        down.status = 503
        monkeypatch.setenv("NIANBAO_NOTIFY_URLS", json.dumps([receiver.url, down.url]))
        monkeypatch.setenv("NIANBAO_CONFIG", "/nonexistent/nianbao.toml")
        get_settings.cache_clear()
        try:
            run = CliRunner().invoke(main, ["notify", "test"])
        finally:
            get_settings.cache_clear()
    assert run.exit_code == 1, run.output
    accepted, refused = (line for line in run.output.splitlines() if line.startswith(("已接收", "未接收")))
    assert accepted.startswith("已接收") and f":{receiver.port}" in accepted
    assert refused.startswith("未接收") and f":{down.port}" in refused and "503" in run.output
    (message,) = receiver.messages()
    assert message["title"] == "【年报合规】测试消息" and message["id"].startswith("test")


def _bot(url: str, receiver: Receiver) -> apprise.plugins.base.NotifyBase:
    """An Apprise bot plugin whose API endpoint is the local receiver instead of Tencent's or Alibaba's."""
    channels.register()
    services = apprise.Apprise()
    assert services.add(url)
    (plugin,) = list(services)
    plugin.request_rate_per_sec = 0  # Apprise spaces a bot's messages 5.5 s apart; not needed for a local one
    local = f"http://127.0.0.1:{receiver.port}/robot/send"
    if isinstance(plugin, channels.StrictWeComBot):
        plugin.api_url = local
    else:
        plugin.notify_url = local + "?access_token={token}"
    return plugin


@pytest.mark.parametrize("url", ["wecombot://a1b2c3d4-key", "dingtalk://abcdef0123456789/?secret=SEC123abc"])
def test_a_bot_that_answers_200_with_an_error_code_has_not_accepted_the_message(url: str, receiver: Receiver) -> None:
    plugin = _bot(url, receiver)
    assert isinstance(plugin, channels.StrictWeComBot | channels.StrictDingTalk)
    receiver.answer = REJECTED
    assert plugin.notify(body="测试", title="标题") is False
    receiver.answer = {"errcode": 0, "errmsg": "ok"}
    assert plugin.notify(body="测试", title="标题") is True
    assert len(receiver.messages()) == 2  # both reached the bot; only the second was accepted by it
    # Apprise's own plugin counts the rejected message as sent: the reason for channels.py.
    stock = apprise.plugins.wecombot.NotifyWeComBot if "wecombot" in url else apprise.plugins.dingtalk.NotifyDingTalk
    plain = stock(**stock.parse_url(url))
    plain.request_rate_per_sec = 0
    if isinstance(plain, apprise.plugins.wecombot.NotifyWeComBot):
        plain.api_url = f"http://127.0.0.1:{receiver.port}/robot/send"
    else:
        plain.notify_url = f"http://127.0.0.1:{receiver.port}/robot/send?access_token={{token}}"
    receiver.answer = REJECTED
    assert plain.notify(body="测试", title="标题") is True


def test_a_robot_message_fits_one_message_and_the_test_shows_the_errcode(receiver: Receiver) -> None:
    plugin = _bot("wecombot://a1b2c3d4-key", receiver)
    target = Target("robot", plugin)
    receiver.answer = REJECTED
    ((_, accepted, answer),) = send_test({"robot": target})
    assert not accepted and "93000" in answer and "invalid webhook url" in answer
    receiver.answer = {"errcode": 0, "errmsg": "ok"}
    lines = [f"{number}. 【错误】房县某某镇人民政府 2023 年度报告：新发现 7 项问题" for number in range(200)]
    body = target.fit("标题", lines, ["", "提醒编号：abc"])
    assert len("标题") + 2 + len(body) <= plugin.body_maxlen and body.endswith("提醒编号：abc")
    assert "余下内容从略" in body
    assert target.send("标题", body, key="abc") == (True, 'WeCom Bot: accepted: {"errcode": 0, "errmsg": "ok"}')
    (posted,) = receiver.messages()[-1:]
    assert len(posted["text"]["content"]) <= plugin.body_maxlen  # one message, not split into parts


def test_the_resolved_note_lists_findings_in_the_order_of_the_alert_it_answers(sqlite_store: Store) -> None:
    settings = Settings()
    first = _report("白鹤镇")
    first.findings = [
        Finding(rule=f"rule.{location}", severity=severity, message=f"问题{location}", location=location)
        for location, severity in (
            ("甲", "warning"),
            ("乙", "error"),
            ("丙", "info"),
            ("丁", "error"),
            ("戊", "warning"),
        )
    ]
    (alert,) = messages_for(first, sqlite_store.save(first), sqlite_store, settings)
    fixed = first.model_copy(deep=True, update={"findings": []})
    fixed.source.sha256 = "f" * 64
    (note,) = messages_for(fixed, sqlite_store.save(fixed), sqlite_store, settings)
    assert note.kind == "resolved"

    def order(body: str) -> list[str]:
        return [line.split("：")[0].split(" ", 1)[1].removeprefix("【错误】").removeprefix("【警告】").removeprefix(
            "【提示】") for line in body.splitlines() if line[:1].isdigit()]  # fmt: skip

    assert order(alert.body) == ["乙", "丁", "甲", "戊", "丙"] == order(note.body)


def test_an_email_alert_carries_its_key_as_message_id(sqlite_store: Store) -> None:
    with smtp_sink() as sink:
        url = f"mailto://127.0.0.1:{sink.port}/?from=nianbao@example.org&to=reviewer@example.org"
        settings = Settings(notify_urls=[url], **FAST)
        targets = load_targets(settings)
        _queue(sqlite_store, _report("白鹤镇"), targets)
        assert deliver_due(sqlite_store, targets, settings, 10) == Delivered(1, 0, None)
    digest = sqlite_store.digest(1)
    (raw,) = sink.messages
    assert digest is not None and f"Message-ID: <{digest.key}@127.0.0.1>" in raw
    assert "提醒编号" not in raw  # the header carries it
    assert apprise_email.base.make_msgid is email.utils.make_msgid  # Apprise's own again after the send


def test_a_digest_counts_its_alerts_by_kind_and_links_to_the_review_pages() -> None:
    now = utcnow()
    alerts = [
        ("new", "【年报合规】房县甲镇人民政府 2023 年度报告：新发现 3 项问题", ["new", "error", "warning", "房县"]),
        ("new", "【年报合规】房县乙镇人民政府 2023 年度报告：新发现 1 项问题", ["new", "warning", "房县"]),
        ("resolved", "【已更正】房县丙镇人民政府 2023 年度报告：2 项问题已更正", ["resolved", "error", "房县"]),
        ("overdue", "【逾期未报】房县丁镇人民政府 2023 年度政府信息公开工作年度报告", ["overdue", "房县"]),
    ]
    items = [
        OutboxItem(
            id=number,
            version_id=None,
            kind=f"{kind}:t",
            title=title,
            body="…",
            tags=tags,
            state="pending",
            attempts=0,
            last_error=None,
            created_at=now,
            next_attempt_at=now,
            sent_at=None,
        )
        for number, (kind, title, tags) in enumerate(alerts, 1)
    ]
    digest = Digest(id=1, key="k" * 32, target="t", state="pending", attempts=0, last_error=None, created_at=now,
                    sent_at=None, items=items)  # fmt: skip
    settings = Settings(
        web_base_url="https://nianbao.example.org/", notify_urls=["json://127.0.0.1:9/", "wecombot://k"]
    )
    webhook, robot = sorted(load_targets(settings).values(), key=lambda target: target.scheme)
    title, body = render(digest, webhook, settings)
    assert title == "【年报合规】4 条提醒：新发现问题 2 份（其中有错误的 1 份），已更正 1 份，逾期未报 1 份"
    assert body.splitlines()[2:6] == [
        "1. 【错误】房县甲镇人民政府 2023 年度报告：新发现 3 项问题",
        "2. 【警告】房县乙镇人民政府 2023 年度报告：新发现 1 项问题",
        "3. 【已更正】房县丙镇人民政府 2023 年度报告：2 项问题已更正",
        "4. 【逾期未报】房县丁镇人民政府 2023 年度政府信息公开工作年度报告",
    ]
    assert body.endswith("审阅页面：https://nianbao.example.org/findings") and "提醒编号" not in body
    assert notify_type(items) == NotifyType.FAILURE
    assert render(digest, robot, settings)[1].endswith("提醒编号：" + "k" * 32)  # no field for it on a robot
