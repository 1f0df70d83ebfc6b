"""Alerts: the Chinese message, routing by tag, delivery from the outbox, and WeCom/DingTalk bots that answer
HTTP 200 with an error code when they reject a message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apprise
import pytest

from nianbao.judge import judge, read_report
from nianbao.settings import Settings
from report.model import Finding, Organization, Report, Source
from storage import Store
from tests.seed_samples import seed_path
from tests.services import Receiver, receiving
from worker import channels
from worker.notify import deliver_due, load_targets, new_findings_message, queue_alerts, resolved_message

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
    assert message.title == f"【年报合规】房县白鹤镇人民政府 2023 年度报告：新发现 {len(report.findings)} 项问题"
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


def test_a_failed_delivery_is_recorded_and_does_not_hold_up_other_targets(
    sqlite_store: Store, receiver: Receiver, tmp_path: Path
) -> None:
    finding = Finding(rule="requests.balance", severity="error", message="不平衡", location="三/（七）总计/总计")
    report = Report(
        source=Source(path="/share/房县/白鹤镇/2023.txt", sha256="ab" * 32, format="txt"),
        organization=Organization(name="白鹤镇人民政府", region="房县", level="township"),
        year=2023,
        findings=[finding],
    )
    version_id = sqlite_store.save(report).version_id
    with receiving() as down:
        down.status = 500
        targets = load_targets(Settings(notify_urls=[receiver.url, down.url]))
        message = new_findings_message(report, [finding])
        assert queue_alerts(sqlite_store, [message], version_id, targets) == 2
        assert deliver_due(sqlite_store, targets, 10) == (1, 1, False)
        assert down.refused == 1
    (delivered,) = receiver.messages()
    assert delivered["title"] == message.title and delivered["message"] == message.body
    failed = [sqlite_store.outbox_item(item_id) for item_id in (1, 2)]
    states = sorted((item.state, item.attempts) for item in failed if item is not None)
    assert states == [("failed", 1), ("sent", 1)]
    failure = next(item for item in failed if item is not None and item.state == "failed")
    assert "500" in (failure.last_error or "")
    assert deliver_due(sqlite_store, targets, 10) == (0, 0, False)  # not due again before its backoff


def test_items_for_a_target_that_is_down_wait_for_the_next_pass(sqlite_store: Store, tmp_path: Path) -> None:
    reports = [
        Report(
            source=Source(path=f"/share/房县/{town}/2023.txt", sha256=digit * 64, format="txt"),
            organization=Organization(name=f"{town}人民政府", region="房县", level="township"),
            year=2023,
            findings=[Finding(rule="requests.balance", severity="error", message="不平衡", location="三/总计")],
        )
        for town, digit in (("白鹤镇", "1"), ("土城镇", "2"))
    ]
    with receiving() as down:
        down.status = 500
        targets = load_targets(Settings(notify_urls=[down.url]))
        for report in reports:
            version_id = sqlite_store.save(report).version_id
            queue_alerts(sqlite_store, [new_findings_message(report, report.findings)], version_id, targets)
        assert deliver_due(sqlite_store, targets, 10) == (0, 1, False)  # one try per pass at a down target
        waiting = sqlite_store.outbox_item(2)
        assert waiting is not None and (waiting.state, waiting.attempts) == ("pending", 0)
        assert deliver_due(sqlite_store, targets, 10) == (0, 1, False)  # the next pass tries the other item
        assert down.refused == 2
    states = [sqlite_store.outbox_item(item_id) for item_id in (1, 2)]
    assert [(item.state, item.attempts) for item in states if item is not None] == [("failed", 1), ("failed", 1)]


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
