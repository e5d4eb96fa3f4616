"""GB 11643-1999 ID numbers and mainland phone numbers.

Valid numbers are built here from the standard itself — ISO 7064 MOD 11-2, where the weight of
position i (counted from the right, the check digit being position 1) is 2^(i-1) mod 11 and the
check value a satisfies (weighted sum + a) ≡ 1 (mod 11) — not copied from the module under test.
"""

import re
from datetime import date

import pytest

from xinfang.security.idcard import (
    birth_date_of,
    gender_of,
    id_check_digit,
    normalise_id_number,
    normalise_phone,
    validate_id_number,
    validate_phone,
)


def check_char(first17: str) -> str:
    weighted = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (1 - weighted) % 11
    return "X" if value == 10 else str(value)


def id_number(region: str = "410102", born: str = "19900101", sequence: str = "123") -> str:
    first17 = region + born + sequence
    return first17 + check_char(first17)


def with_wrong_check(number: str) -> str:
    wrong = next(c for c in "0123456789X" if c != number[17])
    return number[:17] + wrong


def test_the_reference_weights_agree_with_the_published_table():
    published = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

    assert [2 ** (17 - i) % 11 for i in range(17)] == published


def test_id_check_digit_matches_the_standard():
    for sequence in range(100, 200):
        first17 = f"41102319850615{sequence}"
        assert id_check_digit(first17) == check_char(first17)


def test_a_valid_number_is_accepted_and_returned_normalised():
    number = id_number()

    assert validate_id_number(number) == number
    assert validate_id_number(f" {number[:6]} {number[6:14]} {number[14:]} ") == number


def test_a_lower_case_x_check_digit_is_upper_cased():
    number = next(n for s in range(1000) if (n := id_number(sequence=f"{s:03d}")).endswith("X"))

    assert validate_id_number(number.lower()) == number


def test_full_width_digits_are_accepted():
    number = id_number()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)

    assert validate_id_number(full_width) == number
    assert normalise_id_number(full_width) == number


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "不能为空"),
        (None, "不能为空"),
        (id_number()[:17], "应为18位，现为17位"),
        (id_number() + "1", "应为18位，现为19位"),
        ("410102900101123", "15位旧身份证号码"),
        ("41010219900101A23" + "4", "只能由数字组成"),
        ("4101021990X101" + "1234", "只能由数字组成"),
        (id_number(region="001234"), "省级行政区划代码"),
        (id_number(born="19900230"), "出生日期“19900230”不是有效日期"),
        (id_number(born="20230229"), "出生日期“20230229”不是有效日期"),
        (id_number(born="19901301"), "不是有效日期"),
        (id_number(born="18991231"), "早于1900年"),
        (with_wrong_check(id_number()), "校验位不符"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(value, message):
    with pytest.raises(ValueError, match=message):
        validate_id_number(value)


def test_a_birth_date_after_today_is_refused():
    number = id_number(born="20300101")

    with pytest.raises(ValueError, match="晚于今天"):
        validate_id_number(number, today=date(2029, 12, 31))
    assert validate_id_number(number, today=date(2030, 1, 1)) == number


def test_leap_day_birth_dates_are_valid_in_leap_years():
    assert birth_date_of(id_number(born="20000229")) == date(2000, 2, 29)


def test_the_check_digit_message_does_not_reveal_the_right_digit():
    number = id_number()

    with pytest.raises(ValueError) as excinfo:
        validate_id_number(with_wrong_check(number))

    assert not re.search(r"[0-9X]", str(excinfo.value))


def test_birth_date_and_gender_come_from_the_number():
    man = id_number(born="19851231", sequence="017")
    woman = id_number(born="19851231", sequence="018")

    assert birth_date_of(man) == date(1985, 12, 31)
    assert gender_of(man) == "male"
    assert gender_of(woman) == "female"


def test_birth_date_and_gender_refuse_invalid_numbers():
    with pytest.raises(ValueError):
        birth_date_of(with_wrong_check(id_number()))
    with pytest.raises(ValueError):
        gender_of("123")


# -- phones -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("19912345678", "19912345678"),
        ("0371-63521234", "0371-63521234"),
        ("(0371)63521234", "0371-63521234"),
        ("0371 6352 1234", "0371-63521234"),
        ("037163521234", "0371-63521234"),
        ("01063521234", "010-63521234"),
        ("0374-6352123", "0374-6352123"),
        ("0371-63521234转801", "0371-63521234-801"),
    ],
)
def test_valid_phones_are_returned_in_canonical_form(value, normal):
    assert validate_phone(value) == normal
    assert normalise_phone(value) == normal


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "不能为空"),
        ("1381234567", "应为11位数字，现为10位"),
        ("138123456789", "应为11位数字，现为12位"),
        ("12812345678", "号段“128”无效"),
        ("63521234", "请加区号"),
        ("0000-63521234", "区号“0000”无效"),
        ("0371-03521234", "7或8位"),
        ("0371-635212", "7或8位"),
        ("0371-63521234-1234567", "分机号"),
        ("138abcd5678", "只能包含数字"),
    ],
)
def test_invalid_phones_are_refused_with_the_reason(value, message):
    with pytest.raises(ValueError, match=message):
        validate_phone(value)


def test_normalise_phone_never_raises():
    assert normalise_phone(None) == ""
    assert normalise_phone("call me") == "callme"


# -- numbers as they arrive pasted -----------------------------------------------------------------


@pytest.mark.parametrize("pasted", [
    "\u200b{n}", "{n}\ufeff", "{n}\u00ad", "\u200e{n}\u200f", "\u202a{n}\u202c", "{a}\u2060{b}",
    "{n}\n", "\t{n}", "\u00a0{n}\u3000",
    "{g4}", "{g6}", "{a}–{b}", "{a}—{b}", "{a}‒{b}", "{a}－{b}", "{a}‐{b}", "{a} - {b}",
])
def test_a_pasted_number_is_the_typed_one(pasted):
    # given a number copied with what nobody sees, or grouped with dashes by Word or WeChat
    number = id_number()
    value = pasted.format(n=number, a=number[:6], b=number[6:],
                          g4="-".join(number[i:i + 4] for i in range(0, 18, 4)),
                          g6="-".join(number[i:i + 6] for i in range(0, 18, 6)))

    # then it is the number, as stored and as indexed
    assert validate_id_number(value) == number
    assert normalise_id_number(value) == number


@pytest.mark.parametrize("x", ["X", "x", "Ｘ", "ｘ", "\u0425", "\u0445", "\u03a7", "\u03c7", "×"])
def test_the_check_character_x_is_read_from_its_look_alikes(x):
    number = next(n for s in range(1000) if (n := id_number(sequence=f"{s:03d}")).endswith("X"))

    assert validate_id_number(number[:17] + x) == number


@pytest.mark.parametrize(("typed", "message"), [
    ("4101O2{rest}", "第5位“O”是字母，不是数字0"),
    ("41010219900l0{rest2}", "第12位“L”是字母，不是数字1"),
    ("4101021990010I{rest3}", "第14位“I”是字母，不是数字1"),
    ("41010219900101#23{check}", "第15位“#”不是数字"),
    ("4101021990010112٣{check}", "第17位“٣”不是数字"),  # an Arabic-Indic three
    ("41010219900101123Y", "第18位“Y”不是数字"),
])
def test_a_letter_for_a_digit_is_named_with_its_place_and_never_corrected(typed, message):
    number = id_number()
    value = typed.format(rest=number[6:], rest2=number[13:], rest3=number[14:],
                         check=number[17])

    with pytest.raises(ValueError, match=message):
        validate_id_number(value)


@pytest.mark.parametrize(("value", "normal"), [
    ("138–1234–5678", "13812345678"),  # en dash (Word's autocorrect)
    ("138‒1234‒5678", "13812345678"),  # figure dash
    ("138―1234―5678", "13812345678"),  # horizontal bar
    ("138‐1234‐5678", "13812345678"),  # hyphen
    ("138\u20111234\u20115678", "13812345678"),  # no-break hyphen
    ("138−1234−5678", "13812345678"),  # minus sign
    ("138.1234.5678", "13812345678"),
    ("13812345678\u200b", "13812345678"),
    ("\ufeff138 1234 5678\n", "13812345678"),
    ("\u202d13812345678\u202c", "13812345678"),
    ("0371–63521234", "0371-63521234"),
    ("0371.6352.1234", "0371-63521234"),
    ("0371-6352-1234", "0371-63521234"),
    ("（0371）6352-1234", "0371-63521234"),
    ("（０３７１）６３５２１２３４", "0371-63521234"),
    ("+86 371 6352 1234", "0371-63521234"),
    ("+86 (0)371 63521234", "0371-63521234"),
    ("0086-371-63521234", "0371-63521234"),
    ("+86 10 6352 1234", "010-63521234"),
    ("+86 010 63521234", "010-63521234"),
    ("0371-63521234 分机 801", "0371-63521234-801"),
    ("0371-6352-1234-801", "0371-63521234-801"),
    ("0371-63521234 ext. 801", "0371-63521234-801"),
])
def test_a_pasted_phone_is_the_typed_one(value, normal):
    assert validate_phone(value) == normal
    assert normalise_phone(value) == normal


@pytest.mark.parametrize("stored", [
    "13812345678", "0371-63521234", "010-63521234", "0374-6352123", "0371-63521234-801",
    "010-6352123-1",
])
def test_a_stored_phone_keeps_its_form_and_so_its_index(stored):
    # the phones stored before were validated: they normalise to themselves still
    assert normalise_phone(stored) == validate_phone(stored) == stored
