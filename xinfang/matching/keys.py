"""Pure functions the matching is built on: how alike two names are, the blind keys a person is
found by without their name in clear, and how alike two petitions' words are.

Names are encrypted at rest (``xinfang.security.names``). A fuzzy lookup therefore goes through
*keys*: 64-bit prefixes of HMAC-SM3 blind indexes (purpose ``name_fuzzy``) of

- ``p``: the surname's and the given-name characters' *fuzzy* pinyin, the given syllables sorted —
  one key for the same name, a homophone (王秀兰/王秀澜), a near-homophone (zh/z, ch/c, sh/s, n/l,
  f/h, r/l, -ng/-n: 张立/詹尼) and swapped given-name characters (秀兰/兰秀);
- ``d``: the name and, for names of three characters or more, the name with one character left
  out — two names one typed character apart share one of them (symmetric deletion: 王秀兰/王绣兰
  both give 王兰).

Each key carries the township the person belongs to (0 for none): a name alone is never enough,
so the keys find people *of the same place*; the same ID number or phone number finds them
anywhere (the product's own exact blind indexes). A 64-bit prefix can collide; the candidates are
decrypted and scored, so a collision costs a row read, never a wrong match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from rapidfuzz.distance import Levenshtein

from xinfang.security.crypto import KeyRing, get_keyring
from xinfang.security.names import normalise_name

KEY_PURPOSE = "name_fuzzy"

# Near-homophones a clerk hears or types for one another (southern and northern speech).
_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"), ("r", "l"))


@lru_cache(maxsize=20_000)
def _syllable(char: str) -> str:
    return lazy_pinyin(char, style=Style.NORMAL, errors="default")[0].lower()


def fuzzy_syllable(syllable: str) -> str:
    for heard, written in _INITIALS:
        if syllable.startswith(heard):
            syllable = written + syllable[len(heard):]
            break
    if syllable.endswith("ng"):
        syllable = syllable[:-1]
    return syllable


def syllables(name: str) -> list[str]:
    return [_syllable(ch) for ch in normalise_name(name)]


def _fuzzy_sorted(name: str) -> str:
    s = [fuzzy_syllable(x) for x in syllables(name)]
    if not s:
        return ""
    return s[0] + "|" + "".join(sorted(s[1:]))


def key_texts(name: str, township_id: int | None) -> list[str]:
    """The texts whose blind indexes are a person's fuzzy-name keys (see the module's words)."""
    normal = normalise_name(name)
    if not normal:
        return []
    scope = str(township_id or 0)
    out = [f"p|{scope}|{_fuzzy_sorted(normal)}", f"d|{scope}|{normal}"]
    if len(normal) >= 3:
        out += [f"d|{scope}|{normal[:i]}{normal[i + 1:]}" for i in range(len(normal))]
    return list(dict.fromkeys(out))


def key_value(text: str, *, ring: KeyRing | None = None) -> int:
    """A signed 64-bit key: the first 8 bytes of the blind index (a bigint column)."""
    digest = (ring or get_keyring()).blind_index(text, purpose=KEY_PURPOSE)
    return int(digest[:16], 16) - (1 << 63)


def person_keys(name: str, township_id: int | None, *, ring: KeyRing | None = None) -> list[int]:
    ring = ring or get_keyring()
    return list(dict.fromkeys(key_value(t, ring=ring) for t in key_texts(name, township_id)))


# -- how alike two names are -----------------------------------------------------------------------

SAME_NAME = "姓名相同"
HOMOPHONE = "姓名同音"
SWAPPED = "姓名字序颠倒"
NEAR = "姓名音近"
TYPO = "姓名一字之差"


def name_likeness(a: str, b: str) -> tuple[float, str]:
    """(0–1, reason) for two names; (0, "") when they are not plausibly one person's."""
    a, b = normalise_name(a), normalise_name(b)
    if not a or not b:
        return 0.0, ""
    if a == b:
        return 1.0, SAME_NAME
    sa, sb = syllables(a), syllables(b)
    if sa == sb:
        return 0.95, HOMOPHONE
    if len(a) == len(b) >= 3 and a[0] == b[0] and sorted(a[1:]) == sorted(b[1:]):
        return 0.9, SWAPPED
    if _fuzzy_sorted(a) == _fuzzy_sorted(b):
        if [fuzzy_syllable(x) for x in sa] == [fuzzy_syllable(x) for x in sb]:
            return 0.88, NEAR
        return 0.85, NEAR
    if a[0] == b[0] and min(len(a), len(b)) >= 2 and Levenshtein.distance(a, b) == 1 and (
        len(a) >= 3 or len(b) >= 3
    ):
        return 0.8, TYPO
    return 0.0, ""


# -- how alike two petitions' words are ------------------------------------------------------------

_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Words every petition uses — how it came, how often, how urgent: they say nothing about which
# matter it is.
_FILLER = re.compile(
    r"要求|反映|请求|希望|尽快|早日|问题|情况|关于|相关|有关|处理|解决|落实|答复|我们|我家|家里|"
    r"本人|多次|几次|再次|又一次|第[一二三四五六七八九十\d]+次|上次|此前|来访|来信|来电|至今|"
    r"到现在|一直|仍然|仍未|没有|未能|给予|予以|进行|政府|部门|领导|重视|信访|生活困难|涉及|"
    r"的事|的|了|和|及|并|对|在|是|说"
)


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = _NOT_WORD.sub(" ", text)
    return _FILLER.sub(" ", text)


def shingles(text: str) -> frozenset[str]:
    """Character bigrams of the petition's words (and the single characters of a one-character
    word), filler words and punctuation left out; a number (a year, an amount) is one token."""
    out: set[str] = set()
    text = normalise_text(text)
    out.update(f"#{n}" for n in _NUMBER.findall(text))
    for word in _NUMBER.sub(" ", text).split():
        if len(word) == 1:
            out.add(word)
        out.update(word[i:i + 2] for i in range(len(word) - 1))
    return frozenset(out)


def text_likeness(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two shingle sets (0–1)."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))
