"""The character-class password rule, alone and through Django's validate_password."""

import django
import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from xinfang.security.passwords import CharacterClassValidator, character_classes


@pytest.fixture(scope="module", autouse=True)
def django_settings():
    """The project's test settings under pytest-django; a minimal setup without it."""
    if not settings.configured:
        settings.configure(USE_I18N=True, LANGUAGE_CODE="zh-hans")
        django.setup()


@pytest.mark.parametrize(
    ("password", "classes"),
    [
        ("abcdefgh", {"lower"}),
        ("ABCDEFGH", {"upper"}),
        ("12345678", {"digit"}),
        ("!@#$%^&*", {"symbol"}),
        ("Abc123!?", {"upper", "lower", "digit", "symbol"}),
        ("ＡＢＣ１２３", {"upper", "digit"}),  # full-width letters and digits count
        ("信访工作 2024", {"digit"}),  # Chinese characters and spaces add no class
        ("密码：口令", {"symbol"}),  # full-width punctuation is a symbol
    ],
)
def test_character_classes(password, classes):
    assert character_classes(password) == classes


@pytest.mark.parametrize("password", ["Abcdefgh12", "abcdefgh1!", "ABCDEFGH1!", "Abcdefgh!!"])
def test_three_classes_pass(password):
    CharacterClassValidator(min_classes=3).validate(password)


@pytest.mark.parametrize(
    ("password", "present"),
    [("abcdefghij", "（小写字母）"), ("abcdefgh12", "（小写字母、数字）"), ("信访信访信访", "")],
)
def test_too_few_classes_fail_with_a_chinese_message(password, present):
    with pytest.raises(ValidationError) as excinfo:
        CharacterClassValidator(min_classes=3).validate(password)

    error = excinfo.value.error_list[0]
    assert error.code == "password_too_few_character_classes"
    message = error.message % error.params
    assert "至少3类" in message
    assert "大写字母、小写字母、数字、特殊符号" in message
    assert present in message


def test_min_classes_is_configurable():
    CharacterClassValidator(min_classes=1).validate("abcdefgh")
    with pytest.raises(ValidationError):
        CharacterClassValidator(min_classes=4).validate("Abcdefgh12")
    CharacterClassValidator(min_classes=4).validate("Abcdefgh1!")


@pytest.mark.parametrize("min_classes", [0, 5])
def test_min_classes_outside_one_to_four_is_a_configuration_error(min_classes):
    with pytest.raises(ValueError):
        CharacterClassValidator(min_classes=min_classes)


def test_help_text_names_the_rule():
    assert CharacterClassValidator(min_classes=3).get_help_text() == (
        "密码须包含大写字母、小写字母、数字、特殊符号中的至少3类。"
    )


def test_it_works_through_django_validate_password():
    from django.contrib.auth.password_validation import validate_password

    validators = [CharacterClassValidator(min_classes=3)]

    validate_password("Petition-2024", password_validators=validators)
    with pytest.raises(ValidationError, match="至少3类"):
        validate_password("petition2024", password_validators=validators)
