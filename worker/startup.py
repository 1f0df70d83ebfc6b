"""What a starting watcher or worker tells its operator: where it reads and writes, and whom it alerts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from nianbao.settings import Settings
from worker.notify import load_targets

NO_TARGETS = "未配置提醒渠道，见 README 配置一节（Configuration 中的 notify_urls），新发现不会发出提醒"


def shown_url(url: str) -> str:
    """A database or broker URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def summary(settings: Settings, root: Path | None = None, mode: str | None = None) -> list[str]:
    """The start-up lines, in Chinese: the watched folder and its mode (for a watcher), the database, the broker
    and the alert targets (their URLs without secrets), or how to configure one."""
    lines = [f"监视文件夹：{root}（{'轮询' if mode == 'polling' else '系统通知'}模式 {mode}）"] if root else []
    broker = "内置（无需 Redis）" if settings.embedded_broker else "Redis 等外部队列，可运行多个 worker"
    lines += [
        f"运行方式：{'单机，' if settings.embedded_broker else '分布式，'}{broker}",
        f"数据库：{shown_url(settings.database)}",
        f"消息队列：{shown_url(settings.broker)}",
    ]
    targets = load_targets(settings)
    if targets:
        shown = "，".join(target.plugin.url(privacy=True) for target in targets.values())
        lines.append(f"提醒渠道（{len(targets)} 个）：{shown}")
    else:
        lines.append(f"提醒渠道：{NO_TARGETS}")
    return lines
