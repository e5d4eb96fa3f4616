"""Resident ID numbers (GB 11643-1999) and mainland phone numbers: validation and normal forms.

``validate_*`` return the normal form or raise ``ValueError`` with a message a clerk can act on.
``normalise_*`` never raise; they give the form a blind index is computed over, so a search typed
with spaces, full-width digits or a lower-case x still finds the record.

The check-digit error deliberately does not say which digit would be right: told "should end in 7",
a clerk fixes the last digit and saves a wrong number; the typo is usually elsewhere.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from .pasted import visible

# ISO 7064 MOD 11-2: weight of position i (1-based, from the left) is 2^(18-i) mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)

# First two digits: province-level divisions (GB/T 2260), 71 台湾, 81 香港, 82 澳门 and 83 for the
# residence permits of Taiwan residents; the 2023 foreign permanent-resident card begins with 9.
_PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54"}
    | {"61", "62", "63", "64", "65", "71", "81", "82", "83"}
)
_EARLIEST_BIRTH = date(1900, 1, 1)
_SHANGHAI = ZoneInfo("Asia/Shanghai")

Gender = Literal["male", "female"]


def id_check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("计算校验位需要身份证号码的前17位数字。")
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


# Dashes a number's groups are written with (1101-0519-…, 0371–6352–1234) as Word, WeChat or a
# PDF turn a hyphen into one: the hyphens, the figure, en and em dashes, the horizontal bar,
# the minus sign and the wave dash. (The ASCII hyphen-minus is added where it is meant.)
_DASHES = "\u2010-\u2015\u2212\u301c\uff5e~"
_GROUPING = re.compile(rf"[\s\-{_DASHES}]+")
# The check character X as other keyboards give it: Cyrillic Х/х, Greek Χ/χ, the times sign.
_X_ALIKE = str.maketrans("\u0425\u0445\u03a7\u03c7\u00d7", "XXXXX")


def normalise_id_number(value: str | None) -> str:
    """Half-width, nothing unseen (``pasted.visible``), no spaces or grouping dashes, upper-case
    X (also from its Cyrillic and Greek look-alikes). Does not validate.

    Stored numbers were validated through this: widening it changes no stored number's index."""
    text = visible(unicodedata.normalize("NFKC", value or "")).translate(_X_ALIKE)
    return _GROUPING.sub("", text).upper()


def validate_id_number(value: str | None, *, today: date | None = None) -> str:
    """The normalised 18-character number, or ``ValueError`` naming what is wrong."""
    number = normalise_id_number(value)
    if not number:
        raise ValueError("身份证号码不能为空。")
    if len(number) == 15 and number.isdigit():
        raise ValueError("这是15位旧身份证号码，请填写18位公民身份号码。")
    if len(number) != 18:
        raise ValueError(f"身份证号码应为18位，现为{len(number)}位。")
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise ValueError(_not_a_digit(number))
    if number[:2] not in _PROVINCE_CODES and number[0] != "9":
        raise ValueError(f"身份证号码前两位“{number[:2]}”不是有效的省级行政区划代码。")
    born = _birth_date(number)
    if born is None:
        raise ValueError(f"身份证号码中的出生日期“{number[6:14]}”不是有效日期。")
    today = today or datetime.now(_SHANGHAI).date()
    if born > today:
        raise ValueError(f"身份证号码中的出生日期“{number[6:14]}”晚于今天。")
    if born < _EARLIEST_BIRTH:
        raise ValueError(f"身份证号码中的出生日期“{number[6:14]}”早于1900年。")
    if id_check_digit(number[:17]) != number[17]:
        raise ValueError("身份证号码校验位不符，请逐位核对号码。")
    return number


# Letters read for a digit when a number is copied from a photocopy or a PDF by hand.
_LOOK_ALIKE_DIGITS = {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "Z": "2", "S": "5",
                      "B": "8"}


def _not_a_digit(number: str) -> str:
    """Which character is not a digit, and where: "第5位“O”是字母" tells a clerk what to look at;
    the number is never corrected for them (an identity is not guessed)."""
    at, ch = next((i, ch) for i, ch in enumerate(number)
                  if not ("0" <= ch <= "9" or ch == "X" and i == 17))
    if ch in _LOOK_ALIKE_DIGITS:
        hint = f"是字母，不是数字{_LOOK_ALIKE_DIGITS[ch]}"
    else:
        hint = "不是数字"
    return f"身份证号码第{at + 1}位“{ch}”{hint}：号码只能由数字组成，最后一位可以是X。"


def birth_date_of(value: str) -> date:
    number = validate_id_number(value)
    born = _birth_date(number)
    assert born is not None  # validated above
    return born


def gender_of(value: str) -> Gender:
    """The 17th digit (sequence code) is odd for men and even for women."""
    number = validate_id_number(value)
    return "male" if int(number[16]) % 2 else "female"


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


# -- phones ----------------------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_AREA_RE = re.compile(r"^(?:010|02\d|0[3-9]\d{2})$")
_LOCAL_RE = re.compile(r"^[2-9]\d{6,7}$")
_EXTENSION_RE = re.compile(r"^\d{1,6}$")


_PHONE_DASHES = re.compile(f"[{_DASHES}]")
# +86 or 0086 before a landline's area code, its 0 left out or written (0): +86 371 6352 1234.
_COUNTRY_LANDLINE = re.compile(r"^(?:\+86|0086)-?(?:\(0\)-?|0)?(?=[2-9]|10)")


def normalise_phone(value: str | None) -> str:
    """Canonical form when recognisable — ``13812345678`` (no +86) or ``0371-63521234[-801]`` —
    otherwise the input without spaces, dots and brackets. Does not validate.

    Takes what nobody sees (``pasted.visible``), any dash for the hyphen, dots and spaces between
    groups, +86 or 0086 also before a landline, 转/分机/ext before an extension. Stored numbers
    were validated through this and are its fixed points: widening it changes no stored index."""
    text = visible(unicodedata.normalize("NFKC", value or "")).strip()
    text = re.sub(r"(?:转|分机|ext\.?|x)\s*(\d+)\s*$", r"-\1", text, flags=re.IGNORECASE)
    text = re.sub(r"[\s.]", "", _PHONE_DASHES.sub("-", text))
    text = _COUNTRY_LANDLINE.sub("0", text)
    text = re.sub(r"^\((0\d{2,3})\)", r"\1-", text)
    text = re.sub(r"[()]", "", text)
    text = re.sub(r"-{2,}", "-", text).strip("-")
    if mobile := re.fullmatch(r"(?:\+?86|0086)?(1\d{10})", text.replace("-", "")):
        return mobile.group(1)
    digits = text.replace("-", "")
    parts = text.split("-")
    if len(parts) >= 3 and digits.startswith("0") and len(parts[1]) < 7 and len(
            parts[1] + parts[2]) in (7, 8):
        # 0371-6352-1234: the number grouped by fours, not an extension after it.
        parts[1:3] = [parts[1] + parts[2]]
        text = "-".join(parts)
    if len(parts) == 1 and digits.startswith("0"):
        # No separator: 010 and 02x are the only three-digit area codes.
        area_len = 3 if digits.startswith(("010", "02")) else 4
        if len(digits) - area_len in (7, 8):
            return f"{digits[:area_len]}-{digits[area_len:]}"
    return text


def validate_phone(value: str | None) -> str:
    """A mainland mobile (11 digits, 1[3-9]…) or landline (区号-号码[-分机]) in canonical form."""
    phone = normalise_phone(value)
    if not phone:
        raise ValueError("电话号码不能为空。")
    if not re.fullmatch(r"[\d-]+", phone):
        raise ValueError("电话号码只能包含数字和连字符“-”。")
    if phone.startswith("1"):
        if len(phone) != 11 or "-" in phone:
            raise ValueError(f"手机号码应为11位数字，现为{len(phone.replace('-', ''))}位。")
        if not _MOBILE_RE.match(phone):
            raise ValueError(f"手机号码号段“{phone[:3]}”无效。")
        return phone
    if not phone.startswith("0"):
        raise ValueError("固定电话请加区号，写作“区号-号码”，例如 0371-63521234。")
    area, _, rest = phone.partition("-")
    local, _, extension = rest.partition("-")
    if not _AREA_RE.match(area):
        raise ValueError(f"区号“{area}”无效：区号为3或4位，以0开头。")
    if not _LOCAL_RE.match(local):
        raise ValueError("固定电话号码应为7或8位，且不以0或1开头。")
    if extension and not _EXTENSION_RE.match(extension):
        raise ValueError("分机号应为1至6位数字。")
    return phone
