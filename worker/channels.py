"""WeCom and DingTalk group bots that count a message as sent only when the bot accepted it, and the stable id
of a message sent along where the channel has room for it.

Both bots answer HTTP 200 with an error code in the body when they reject a message (`{"errcode": 93000,
"errmsg": "invalid webhook url"}`, a keyword or signature mismatch, the rate limit). Apprise's own plugins
(apprise 2.2: plugins/wecombot.py `send`, `if r.status_code != requests.codes.ok` at line 196, and
plugins/dingtalk.py line 284) look at the status only, so such a message would be recorded as delivered.
The subclasses below post the same payload and also require `errcode == 0`; `register()` puts them in place
of the stock plugins for the `wecombot://` and `dingtalk://` schemas.

`identified(plugin, key)` sends a message's id with it: a JSON webhook (`json://`) gets an `id` field, an e-mail
the Message-ID `<key@host>`. The bots' text payload has no field for it (the caller writes it into the text).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from apprise.common import NotifyFormat, NotifyType
from apprise.manager_plugins import NotificationManager
from apprise.plugins import email as apprise_email
from apprise.plugins.base import NotifyBase
from apprise.plugins.custom_json import NotifyJSON
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.wecombot import NotifyWeComBot


def post_checked(plugin: NotifyBase, url: str, payload: dict[str, Any], params: dict[str, str] | None = None) -> bool:
    """POST a bot payload; True only for HTTP 200 with `"errcode": 0` in the JSON answer."""
    plugin.throttle()
    try:
        response = requests.post(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            params=params,
            headers={"User-Agent": plugin.app_id, "Content-Type": "application/json; charset=utf-8"},
            verify=plugin.verify_certificate,
            timeout=plugin.request_timeout,
            allow_redirects=plugin.redirects,
        )
    except requests.RequestException as error:
        plugin.logger.warning(f"{plugin.service_name}: connection failed: {error}")
        return False
    if response.status_code != requests.codes.ok:
        plugin.logger.warning(f"{plugin.service_name}: HTTP {response.status_code}: {response.text[:300]}")
        return False
    try:
        answer = response.json()
    except ValueError:
        plugin.logger.warning(f"{plugin.service_name}: the answer is not JSON: {response.text[:300]}")
        return False
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        plugin.logger.warning(f"{plugin.service_name}: message rejected: {response.text[:300]}")
        return False
    plugin.logger.info(f"{plugin.service_name}: accepted: {response.text[:300]}")
    return True


class StrictWeComBot(NotifyWeComBot):
    def send(self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO, **kwargs: Any) -> bool:
        return post_checked(self, self.api_url, {"msgtype": "text", "text": {"content": body}})


class StrictDingTalk(NotifyDingTalk):
    def send(
        self,
        body: str,
        title: str = "",
        notify_type: NotifyType = NotifyType.INFO,
        body_format: NotifyFormat | None = None,
        **kwargs: Any,
    ) -> bool:
        payload: dict[str, Any] = {"msgtype": "text", "at": {"atMobiles": self.targets, "isAtAll": False}}
        if body_format == NotifyFormat.MARKDOWN:
            title = " ".join(title.split()).lstrip("#- ")
            payload["msgtype"] = "markdown"
            payload["markdown"] = {"title": title or self.app_desc, "text": f"# {title}\n{body}" if title else body}
        else:
            payload["text"] = {"content": f"{title}\r\n{body}" if title else body}
        params = None
        if self.secret:
            timestamp, signature = self.get_signature()
            params = {"timestamp": timestamp, "sign": signature}
        return post_checked(self, self.notify_url.format(token=self.token), payload, params)


def register() -> None:
    """Serve `wecombot://` and `dingtalk://` URLs with the strict plugins (idempotent)."""
    manager = NotificationManager()
    for plugin in (StrictWeComBot, StrictDingTalk):
        if manager[plugin.secure_protocol] is not plugin:
            manager.add(plugin, force=True)


# Apprise's e-mail plugin makes the Message-ID itself (apprise 2.3, plugins/email/base.py line 1494,
# `make_msgid(domain=smtp_host)`, after the custom headers, so a Message-ID header given would be a second one);
# `identified` swaps the module's `make_msgid` for the time of one send, under this lock.
_MESSAGE_ID_LOCK = threading.Lock()


def carries_id(plugin: NotifyBase) -> bool:
    """Whether `identified` can send a message's id in a field of its own on this channel."""
    return isinstance(plugin, NotifyJSON | apprise_email.NotifyEmail)


@contextmanager
def identified(plugin: NotifyBase, key: str, items: Sequence[int] = ()) -> Iterator[None]:
    """Send `key` (and the outbox item ids) with the messages `plugin` sends in this block."""
    if isinstance(plugin, NotifyJSON):
        extras = plugin.payload_extras
        plugin.payload_extras = {**extras, "id": key, "items": list(items)}
        try:
            yield
        finally:
            plugin.payload_extras = extras
    elif isinstance(plugin, apprise_email.NotifyEmail):
        with _MESSAGE_ID_LOCK:
            module = apprise_email.base
            make_msgid = module.make_msgid
            module.make_msgid = lambda domain=None, **_: f"<{key}@{domain or 'nianbao'}>"
            try:
                yield
            finally:
                module.make_msgid = make_msgid
    else:
        yield
