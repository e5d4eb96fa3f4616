"""A passphrase is named by the environment variable that holds it, never typed on the command
line (where ``ps`` and shell history would keep it)."""

from __future__ import annotations

import os

from django.core.management.base import CommandError


def passphrase_from_env(variable: str | None) -> str | None:
    if not variable:
        return None
    value = os.environ.get(variable, "")
    if not value:
        raise CommandError(f"--passphrase-env：环境变量 {variable} 未设置或为空。")
    if len(value) < 12:
        raise CommandError(f"--passphrase-env：{variable} 中的口令太短（至少 12 个字符）。")
    return value
