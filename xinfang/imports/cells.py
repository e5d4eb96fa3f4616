"""Reading one cell as people fill a ledger by hand: dates as Excel dates or as text, phones with
spaces, dashes, +86 or as numbers, yes-marks, localities, stray spaces.

Every ``read_*`` returns the value or raises :class:`CellError` with a reason a clerk can act on;
the importer adds the sheet, row and column.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from xinfang.security.idcard import validate_phone
from xinfang.security.names import tidy_name


class CellError(ValueError):
    pass


def text(value) -> str:
    """The cell as text: full-width letters and digits folded, runs of spaces (also the
    ideographic one and line breaks) collapsed, ends trimmed. A number typed into a text column
    (Excel shows 2022 as 2022.0 to openpyxl sometimes) comes back without the ``.0``. Control
    and format characters pasted in with the text (a NUL, which PostgreSQL refuses in any text
    column; a BOM or zero-width space before a header label) are left out."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    s = unicodedata.normalize("NFKC", str(value))
    s = re.sub(r"\s+", " ", s)
    if not s.isprintable():  # rare: the character-by-character look only then
        s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Cc", "Cf"))
    return s.strip()


def person_name(value) -> str:
    """A Chinese name typed with spaces to line it up ("李  四") is "李四"; a name in Latin
    letters keeps its single spaces (``security.names.tidy_name``, as registration stores it)."""
    return tidy_name(text(value))


def label(value) -> str:
    """A header cell reduced for matching: no spaces at all, ASCII brackets and colons."""
    return re.sub(r"\s+", "", text(value)).replace("：", ":")


# -- dates -----------------------------------------------------------------------------------------

_EXCEL_EPOCH = date(1899, 12, 30)
_FULL = re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*[.\-/月]\s*(\d{1,2})\s*日?(?:\s.*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NO_YEAR = re.compile(r"^(\d{1,2})\s*[.\-/月]\s*(\d{1,2})\s*日?$")


def read_date(value, *, year: int | None = None) -> date | None:
    """An Excel date, an Excel serial typed as a number, or text: 2022.3.5, 2022年3月5日,
    2022/03/05, 2022-3-5, 20220305, and 3月5日 or 3.5 when the title gave the year. Blank: None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # 1954–2119 as Excel serials
            return _EXCEL_EPOCH + timedelta(days=int(value))
        s = text(value)
    else:
        s = text(value)
    for pattern in (_FULL, _COMPACT):
        m = pattern.match(s)
        if m:
            return _date(int(m[1]), int(m[2]), int(m[3]), s)
    m = _NO_YEAR.match(s)
    if m:
        if year is None:
            raise CellError(f"日期“{s}”没有年份，表头标题中也未写明年份")
        return _date(year, int(m[1]), int(m[2]), s)
    raise CellError(f"“{s}”不是日期（可写作2022.3.5、2022年3月5日或2022/03/05）")


def _date(y: int, m: int, d: int, s: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise CellError(f"日期“{s}”不存在") from None


# -- phones ----------------------------------------------------------------------------------------


def read_phone(value) -> str:
    """A phone number in canonical form (``13812345678``, ``0374-5123456``); "" when blank."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = text(value)
    if not s:
        return ""
    s = s.replace("－", "-").replace("—", "-").replace("–", "-")
    s = re.sub(r"(?<=\d)\s*-\s*(?=\d)", "-", s)
    # "138 1234 5678" and "138-1234-5678" are one mobile number; a landline keeps its area dash.
    digits = re.sub(r"[\s\-]", "", s)
    if re.fullmatch(r"(?:\+?86|0086)?1\d{10}", digits):
        s = digits
    try:
        return validate_phone(s)
    except ValueError as e:
        raise CellError(f"电话“{text(value)}”有误：{e}") from None


# -- yes-marks -------------------------------------------------------------------------------------

YES = {"是", "√", "✓", "✔", "☑", "Y", "YES", "有", "1", "TRUE", "已"}
NO = {"否", "×", "✗", "✘", "X", "N", "NO", "无", "0", "FALSE", "不是", "未"}


def read_mark(value) -> bool | None:
    """是/√/✓ → True, 否/× → False, blank → None."""
    if isinstance(value, bool):
        return value
    s = text(value).upper().rstrip("。.")
    if not s:
        return None
    if s in YES:
        return True
    if s in NO:
        return False
    raise CellError(f"“{text(value)}”不是是否标记（应填“是”“否”“√”或留空）")


# -- localities ------------------------------------------------------------------------------------

_TOWNSHIP_SUFFIX = ("街道办事处", "办事处", "街道", "乡", "镇")
_VILLAGE_SUFFIX = ("居委会", "村委会", "社区", "村")


def split_locality(value) -> tuple[str, str]:
    """ "将官池镇岗朱村" → ("将官池镇", "岗朱村"); "将官池镇" → ("将官池镇", ""). Accepts the
    footnote's own spelling "X乡(镇)Y村(社区)" with the bracket left in, and a space or a slash
    between the two."""
    s = text(value).replace("(镇)", "").replace("(社区)", "").replace("(乡)", "")
    s = re.sub(r"[\s/、，,]+", "", s)
    if not s:
        return "", ""
    m = re.match(r"^(.+?(?:街道办事处|办事处|街道|乡|镇))(.*)$", s)
    if not m:
        return "", _village(s)
    return m[1], _village(m[2])


def _village(rest: str) -> str:
    """ "岗朱村3组" → "岗朱村": the group or house number after the village is not a unit."""
    m = re.match(r"^(.+?(?:社区|居委会|村))", rest)
    return m[1] if m else rest


def stem(name: str, suffixes=_TOWNSHIP_SUFFIX + _VILLAGE_SUFFIX) -> str:
    """A unit name without its 乡/镇/村/社区 suffix: "将官池" matches "将官池镇"."""
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name
