"""Default masking of names, ID numbers, phones and addresses (the issue's examples first)."""

import pytest

from xinfang.security.masking import mask_address, mask_id_number, mask_name, mask_phone


def test_the_issue_examples():
    assert mask_name("张三明") == "张*明"
    assert mask_id_number("410102199001011234") == "4101**********1234"
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("买买提·艾力", "买****力"),
        ("张", "*"),
        ("  张三明 ", "张*明"),
    ],
)
def test_mask_name_keeps_first_and_last_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("410102199001011234", "4101**********1234"),
        ("41010219900101123x", "4101**********123x"),
        ("4101 0219 9001 0112 34", "4101**********1234"),
        ("４１０１０２１９９００１０１１２３４", "4101**********1234"),  # full-width
        ("410102900101123", "4101*******1123"),  # a 15-digit legacy number
        ("12345678", "********"),
    ],
)
def test_mask_id_number_keeps_region_and_last_four(number, masked):
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("0371-63521234", "0371-****1234"),
        ("010-6352123", "010-***2123"),
        ("0374-6352123-801", "0374-***2123-801"),
        ("63521234", "****1234"),
        ("123", "***"),
    ],
)
def test_mask_phone_handles_mobiles_and_landlines(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("河南省许昌市建安区椹涧乡陈庄村3组", "河南省许昌市建安区椹涧乡****"),
        ("河南省郑州市中原区林山寨街道建设路10号院3号楼", "河南省郑州市中原区林山寨街道****"),
        ("北京市朝阳区建国门外街道光华路1号", "北京市朝阳区建国门外街道****"),
        ("湖南省益阳市大通湖区河坝镇东南湖村", "湖南省益阳市大通湖区河坝镇****"),
        (
            "内蒙古自治区阿拉善盟阿拉善左旗巴彦浩特镇新华街5号",
            "内蒙古自治区阿拉善盟阿拉善左旗巴彦浩特镇****",
        ),
        ("河南省南阳市镇平县城关镇和平路1号", "河南省南阳市镇平县城关镇****"),
        ("许昌市建安区陈庄村3组", "许昌市建安区****"),  # no township: mask from the village on
        ("建设路10号", "****"),  # nothing recognisable: mask all
        ("湖南省益阳市大通湖区", "湖南省益阳市大通湖区"),  # nothing below the county to hide
    ],
)
def test_mask_address_keeps_province_to_township(address, masked):
    assert mask_address(address) == masked


@pytest.mark.parametrize("mask", [mask_name, mask_id_number, mask_phone, mask_address])
@pytest.mark.parametrize("empty", ["", None, "   "])
def test_masking_tolerates_empty_values(mask, empty):
    assert mask(empty) == ""


@pytest.mark.parametrize(("name", "masked"), [
    ("王𠀾明", "王*明"),  # 𠀾 (U+2003E, Extension B): one character, never half of one
    ("𠀾三", "𠀾*"),
    ("张𠀾", "张*"),
    ("王葛\U000e0100", "王*"),  # a variation selector belongs to 葛: masked with it
    ("葛\U000e0100三明", "葛\U000e0100*明"),
    ("王兰\u0301", "王*"),  # a combining mark belongs to 兰: never left alone
    ("\u200b张三", "张*"),  # the surname stays, the given name is masked
    ("张三明\u200b", "张*明"),
    ("\ufeff张三明", "张*明"),
    ("\u202a张三明\u202c", "张*明"),
    ("\u200b张", "*"),
])
def test_mask_name_masks_characters_as_a_reader_sees_them(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(("value", "masked"), [
    ("\u200b410102199001011234", "4101**********1234"),
    ("410102199001011234\ufeff", "4101**********1234"),
])
def test_an_id_number_pasted_with_what_nobody_sees_keeps_its_four_and_four(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(("name", "masked"), [
    ("张 三", "张*"),  # lined up with three-character names on a paper form
    ("张\u3000三", "张*"),
    ("王  𠀾", "王*"),
    ("欧阳 娜娜", "欧**娜"),
])
def test_a_name_lined_up_with_spaces_never_shows_its_given_name(name, masked):
    assert mask_name(name) == masked
