"""docx reports (not implemented yet)."""

from __future__ import annotations

from report.document import Document, UnreadableFile


def read(data: bytes) -> Document:
    raise UnreadableFile("暂不支持 docx 格式")
