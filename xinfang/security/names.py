"""Petitioners' names at rest: encrypted like ID numbers, found through two blind indexes.

A name is stored as an SM4-GCM token (``fields.EncryptedTextField``), never in clear. Beside it:

- ``name_index`` — HMAC-SM3 of the *normalised* name (``normalise_name``), purpose ``"name"``: an
  exact lookup ("every case of 张三明") without decrypting a row;
- ``name_pinyin_index`` — HMAC-SM3 of the toneless pinyin of the normalised name (``name_pinyin``,
  by pypinyin), purpose ``"name_pinyin"``: 张三明 and 章三明 share it, so homophone matching can
  be built on it later without clear names.

What these indexes cannot do: a substring or prefix of a name (张 finds nothing), a fuzzy match
(张三 is not 张三明), ordering by name. A polyphonic surname reads its most common way
(单 is "dan", not "shan"), the same way for the stored and the searched name.

The ORM computes the indexes itself (``Petitioner.save``). ``petitioner_name_columns`` gives the
exact column values for writes that bypass the ORM (COPY in a data generator, bulk SQL).
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

from .crypto import KeyRing, get_keyring
from .pasted import visible

NAME_PURPOSE = "name"
PINYIN_PURPOSE = "name_pinyin"
MAX_LENGTH = 50

# Interpuncts typed for the dot in minority and foreign names (阿依古丽·买买提), by every keyboard:
# the middle dots, bullets and katakana dot, the sinological dot (U+A78F, some pinyin input
# methods), the word-separator dots (U+2E31, U+2E33), and a full stop typed for it (. 。).
_DOTS = re.compile(
    r"[\u00b7\u2022\u2027\u30fb\uff65\u2219\u22c5\u0387\ua78f\u2e31\u2e33.\u3002]"
)
_SPACE = re.compile(r"\s+")
# Variation selectors pick a glyph of the character before them (葛 with U+E0100 is drawn the
# Japanese way): the same character, the same person.
_VARIANT = re.compile(r"[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_NOT_PINYIN = re.compile(r"[^a-z0-9]")


def normalise_name(name: str | None) -> str:
    """The name as indexed: NFKC (full-width letters and digits become half-width), no spaces,
    nothing unseen (``pasted.visible``) and no variation selector, one kind of middle dot,
    lower-case Latin letters. 张 三明, 张三明 and 张三明 pasted with a zero-width space are the
    same person.

    Widening this changes the index of a name stored before: the migration that widens it
    re-indexes the names it touches (``names_reindex``)."""
    text = visible(unicodedata.normalize("NFKC", name or ""))
    text = _SPACE.sub("", _VARIANT.sub("", text))
    return _DOTS.sub("·", text).casefold()


# A name in Chinese characters (any plane: 𠀾 is U+2003E), with its dots: spaces in it only line
# it up with longer names on a paper form ("李  四").
_CHINESE_NAME = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f·\s]+"
)


def tidy_name(name: str | None) -> str:
    """The name as stored: as typed, less what nobody sees and the spaces around it; a Chinese
    name typed with spaces to line it up ("李  四") is written without them. A name in Latin
    letters keeps its single spaces."""
    text = _SPACE.sub(" ", visible(unicodedata.normalize("NFKC", name or ""))).strip()
    if _CHINESE_NAME.fullmatch(text):
        text = _SPACE.sub("", text)
    return text


def name_pinyin(name: str | None) -> str:
    """Toneless pinyin of the normalised name, letters and digits only: 章三明 → zhangsanming,
    吕布 → lvbu. Characters without a reading (dots, symbols) are dropped."""
    syllables = lazy_pinyin(normalise_name(name), style=Style.NORMAL, errors="default")
    return _NOT_PINYIN.sub("", "".join(syllables).lower())


def name_index(name: str | None, *, ring: KeyRing | None = None) -> str:
    """The exact-match blind index of ``name`` ("" for an empty name)."""
    normalised = normalise_name(name)
    if not normalised:
        return ""
    return (ring or get_keyring()).blind_index(normalised, purpose=NAME_PURPOSE)


def name_pinyin_index(name: str | None, *, ring: KeyRing | None = None) -> str:
    """The homophone blind index of ``name`` ("" when it has no pinyin)."""
    pinyin = name_pinyin(name)
    if not pinyin:
        return ""
    return (ring or get_keyring()).blind_index(pinyin, purpose=PINYIN_PURPOSE)


def petitioner_name_columns(name: str, *, ring: KeyRing | None = None) -> dict[str, str]:
    """The exact values of ``Petitioner``'s name columns for ``name``, as the product stores them:
    ``{"name": <sm4gcm token>, "name_index": <hex>, "name_pinyin_index": <hex>}``.

    For writes that bypass the ORM (COPY, bulk SQL). Through the ORM, assign the plain name and
    ``save()``: the field encrypts and ``save`` computes the indexes."""
    ring = ring or get_keyring()
    name = tidy_name(name)
    return {
        "name": ring.encrypt(name) if name else "",
        "name_index": name_index(name, ring=ring),
        "name_pinyin_index": name_pinyin_index(name, ring=ring),
    }
