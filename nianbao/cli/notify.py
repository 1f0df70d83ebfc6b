"""`nianbao notify test`: a test message to every configured alert target, with each target's own answer, so a
misconfigured robot (a wrong key, a keyword or signature the group requires) is found before the deadline rush."""

from __future__ import annotations

import sys

import click

from nianbao.settings import get_settings


@click.group()
def notify() -> None:
    """Alert targets (notify_urls, notify_config)."""


@notify.command("test")
def test_targets() -> None:
    """Send a test message to every target and print what each answered; exit 1 when one did not accept it."""
    from worker.notify import load_targets, send_test

    targets = load_targets(get_settings())
    if not targets:
        click.echo(
            "未配置提醒渠道：在 nianbao.toml 的 notify_urls（或 NIANBAO_NOTIFY_URLS）中添加，见 README 配置一节。"
        )
        sys.exit(1)
    refused = 0
    for target, accepted, answer in send_test(targets):
        tags = "，".join(sorted(target.plugin.tags)) or "全部提醒"
        click.echo(f"{'已接收' if accepted else '未接收'}  {target.shown}（{tags}）")
        click.echo(f"    渠道的回答：{answer}")
        refused += not accepted
    if refused:
        click.echo(f"{refused} 个渠道未接收测试消息：请检查其地址、密钥、关键词或加签设置。")
        sys.exit(1)
