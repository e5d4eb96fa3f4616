"""Text as it arrives pasted from WeChat, Word, Excel or a PDF: with characters nobody sees.

A zero-width space (U+200B) or joiner (U+200C, U+200D, U+2060), a byte-order mark (U+FEFF), a
soft hyphen (U+00AD) or a bidi mark (U+200E, U+202A…) rides along with a copied name or number.
On screen "张三明\u200b" is 张三明; to a blind index it is another person, and to a length check
an ID number of 19 characters. ``visible`` leaves them out (Unicode's format characters, and
control characters other than white space, which callers treat as they treat spaces).
"""

from __future__ import annotations

import unicodedata


def _unseen(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category == "Cf" or (category == "Cc" and not ch.isspace())


def visible(text: str | None) -> str:
    """``text`` without the characters nobody sees (white space is kept)."""
    text = text or ""
    if text.isprintable():  # nearly always: the character-by-character look only then
        return text
    return "".join(ch for ch in text if not _unseen(ch))
