"""Password rule of the 等级保护 kind: at least N of four character classes.

    AUTH_PASSWORD_VALIDATORS = [
        ...,
        {
            "NAME": "xinfang.security.passwords.CharacterClassValidator",
            "OPTIONS": {"min_classes": 3},
        },
    ]

Letters and digits count by their Unicode category, so full-width Ａ or １ count like A and 1;
a symbol is any punctuation or symbol character. Chinese characters and spaces count towards no
class (they are allowed, they just do not add a class).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def gettext_noop(message: str) -> str:
    """Marks a string for makemessages. Django's own reads settings, which this module's import
    must not (the settings name this validator)."""
    return message


CLASS_LABELS = {
    "upper": gettext_noop("大写字母"),
    "lower": gettext_noop("小写字母"),
    "digit": gettext_noop("数字"),
    "symbol": gettext_noop("特殊符号"),
}


def character_classes(password: str) -> set[str]:
    found: set[str] = set()
    for char in password:
        category = unicodedata.category(char)
        if category == "Lu":
            found.add("upper")
        elif category == "Ll":
            found.add("lower")
        elif category == "Nd":
            found.add("digit")
        elif category[0] in "PS":
            found.add("symbol")
    return found


class CharacterClassValidator:
    def __init__(self, min_classes: int = 3) -> None:
        if not 1 <= min_classes <= len(CLASS_LABELS):
            raise ValueError(f"min_classes must be between 1 and {len(CLASS_LABELS)}.")
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        found = character_classes(password)
        if len(found) >= self.min_classes:
            return
        present = "、".join(_(CLASS_LABELS[name]) for name in CLASS_LABELS if name in found)
        raise ValidationError(
            _("密码须包含%(all)s中的至少%(min_classes)d类，当前只有%(count)d类%(present)s。"),
            code="password_too_few_character_classes",
            params={
                "all": self._all_labels(),
                "min_classes": self.min_classes,
                "count": len(found),
                "present": f"（{present}）" if present else "",
            },
        )

    def get_help_text(self) -> str:
        return _("密码须包含%(all)s中的至少%(min_classes)d类。") % {
            "all": self._all_labels(),
            "min_classes": self.min_classes,
        }

    def _all_labels(self) -> str:
        return "、".join(_(label) for label in CLASS_LABELS.values())
