"""Plain text and Markdown: detect the encoding, never assume it."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from report.document import Document, UnreadableFile, lines_document

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes) -> tuple[str, list[str]]:
    """Decode report text: BOM, then strict UTF-8, then strict GB18030, then a detector's best guess."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), []
            except UnicodeDecodeError:
                break
    if b"\x00" in data[:8192]:
        raise UnreadableFile("文件含有二进制内容（NUL 字节），不是文本文件，无法读取")
    for encoding in ("utf-8", "gb18030"):
        # Incremental decoding tolerates a character cut off at the very end (a capped or half-written file).
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            text = decoder.decode(data, final=False)
        except UnicodeDecodeError:
            continue
        leftover = decoder.getstate()[0]
        return text, (["文件末尾有一个不完整的字符，已忽略"] if leftover else [])
    best = from_bytes(data[:262144]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace"), [
            f"文件编码不是 UTF-8 或 GB18030，按检测结果 {best.encoding} 读取"
        ]
    text = data.decode("utf-8", errors="replace")
    return text, ["文件编码无法识别，按 UTF-8 读取，无法解码的字节已替换为 �"]


def read(data: bytes) -> Document:
    if not data.strip():
        raise UnreadableFile("文件为空，没有可读取的内容")
    text, problems = decode(data)
    return lines_document(text, problems)
