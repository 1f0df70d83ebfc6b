"""The storage errors: their messages are for the user, shown as they are."""

from __future__ import annotations


class StoreError(RuntimeError):
    """A storage problem to show the user as it is (the message is for them)."""


class SchemaNotCurrent(StoreError):
    """The database is missing or at another migration revision than this code's head."""


class AmbiguousOrganization(StoreError):
    """A name without region matches bodies of several regions."""

    def __init__(self, name: str, regions: list[str | None]) -> None:
        self.name, self.regions = name, regions
        shown = "、".join(region or "未写明地区" for region in regions)
        super().__init__(f"有多个名为“{name}”的机关（{shown}），请用 --region 指定地区")
