"""Default masking of personal data for display: 张*明, 4101**********1234, 138****5678.

Every function accepts ``None`` or an empty string and returns ``""``; none raises on odd input —
an unrecognised value is masked more, never less.
"""

from __future__ import annotations

import re
import unicodedata

from .pasted import visible

MASK = "*"
ADDRESS_MASK = "****"  # fixed width: the length of a street address is itself a clue


def mask_name(name: str | None) -> str:
    """Keep the first and last character: 张三明 → 张*明, 欧阳娜娜 → 欧**娜; two characters keep the
    surname only (张三 → 张*). A character is what a reader sees as one: a variation selector or
    a combining mark stays with the character it belongs to, and neither a space nor what nobody
    sees (a zero-width space pasted in) is counted, so none stands in for a kept or masked
    character (张 三, lined up on a form, is 张*, never 张*三)."""
    chars = _characters(re.sub(r"\s+", "", visible(name or "")))
    if len(chars) <= 1:
        return MASK * len(chars)
    if len(chars) == 2:
        return chars[0] + MASK
    return chars[0] + MASK * (len(chars) - 2) + chars[-1]


def _characters(text: str) -> list[str]:
    """``text`` cut into the characters a reader sees: each with the marks that follow it."""
    out: list[str] = []
    for ch in text:
        if out and unicodedata.category(ch) in ("Mn", "Mc", "Me"):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def mask_id_number(number: str | None) -> str:
    """Keep the first four (province and city) and last four characters:
    410102199001011234 → 4101**********1234. Short values are masked whole."""
    number = _compact(number)
    if len(number) <= 8:
        return MASK * len(number)
    return number[:4] + MASK * (len(number) - 8) + number[-4:]


_MOBILE_RE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_LANDLINE_RE = re.compile(r"^(0\d{2,3})-(\d{5,8})((?:-\d{1,6})?)$")


def mask_phone(phone: str | None) -> str:
    """Mobile: 13812345678 → 138****5678. Landline: the area code and the last four digits stay,
    0371-63521234 → 0371-****1234 (an extension stays too). Anything else keeps its last four."""
    phone = _compact(phone)
    if not phone:
        return ""
    if match := _MOBILE_RE.match(phone):
        mobile = match.group(1)
        return mobile[:3] + MASK * 4 + mobile[-4:]
    if match := _LANDLINE_RE.match(phone):
        area, local, extension = match.groups()
        return f"{area}-{MASK * (len(local) - 4)}{local[-4:]}{extension}"
    if len(phone) <= 4:
        return MASK * len(phone)
    return MASK * (len(phone) - 4) + phone[-4:]


# Administrative levels kept by mask_address, in order. Names may not contain digits or the marks of
# a street address (村 路 街 巷 号 …), so a level cannot swallow the part that must be masked.
_NAME = r"[^\d\s村组路街巷弄号栋楼室]"
_PROVINCE_RE = re.compile(
    r"(?:北京市|天津市|上海市|重庆市|"
    rf"{_NAME}{{2,8}}?(?:省|自治区|特别行政区))"
)
_CITY_RE = re.compile(rf"{_NAME}{{1,10}}?(?:自治州|地区|盟|市)")
_COUNTY_RE = re.compile(rf"{_NAME}{{1,10}}?(?:自治县|自治旗|林区|特区|县|区|旗|市)")
_TOWNSHIP_RE = re.compile(rf"{_NAME}{{1,10}}?(?:民族乡|街道办事处|街道|苏木|乡|镇)")
_LEVELS = (_PROVINCE_RE, _CITY_RE, _COUNTY_RE, _TOWNSHIP_RE)


def mask_address(address: str | None) -> str:
    """Keep province, city, county and township; mask the village, street and house number:
    河南省许昌市建安区椹涧乡陈庄村3组 → 河南省许昌市建安区椹涧乡****.
    An address with no recognisable division is masked whole."""
    address = (address or "").strip()
    if not address:
        return ""
    kept = 0
    for level in _LEVELS:
        if match := level.match(address, kept):
            kept = match.end()
    if kept == len(address):
        return address
    return address[:kept] + ADDRESS_MASK


def _compact(value: str | None) -> str:
    """Half-width, no spaces: ＩＤ numbers and phones arrive typed in every way."""
    return re.sub(r"\s+", "", visible(unicodedata.normalize("NFKC", value or "")))
