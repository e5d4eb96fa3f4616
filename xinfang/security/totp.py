"""TOTP, the second factor (RFC 6238, 30-second steps, six digits).

Enrolment is two steps so that a secret nobody can produce codes for is never stored: ``totp_new``
makes a secret the user scans (kept in their session meanwhile), and ``totp_confirm`` stores it
only when a code made from it is given back. A code is accepted once: the step it belongs to is
stored (``User.totp_last_step``) with a conditional update, so replaying a code inside its window —
or two requests racing with the same code — gets in at most once.

``XINFANG_TOTP_REQUIRED_ROLES`` names the roles that must have TOTP (等保 level 3 asks two factors
of administrators); a user holding one of them is sent to enrolment after the password and can do
nothing else until enrolled (``security.gate``).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import pyotp
import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q

from xinfang.audit import services as audit

from .crypto import get_keyring, is_token
from .fields import EncryptedTextField

TOTP_ISSUER = "信访业务系统"
STEP_SECONDS = 30
DRIFT_STEPS = 1  # one step either side: phone clocks drift


def totp_required_roles() -> set[str]:
    return set(getattr(settings, "XINFANG_TOTP_REQUIRED_ROLES", ()))


def totp_required_for(user: Any) -> bool:
    """Whether one of the user's active roles must sign in with TOTP."""
    required = totp_required_roles()
    if not required:
        return False
    return user.memberships.filter(is_active=True, role__in=required).exists()


def totp_enabled(user: Any) -> bool:
    return bool(user.totp_secret)


def totp_new() -> str:
    return pyotp.random_base32()


def totp_uri(user: Any, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> str:
    """The provisioning URI as an inline SVG QR code, drawn here (never by an outside service)."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2)


def _enrol(user: Any, secret: str, *, last_step: int | None, ip: str) -> None:
    """Store ``secret`` as the user's second factor, remember the step already used, audit it."""
    _store_secret(user, secret)
    get_user_model()._default_manager.filter(pk=user.pk).update(totp_last_step=last_step)
    user.totp_last_step = last_step
    audit.audit_record(
        action=audit.PROFILE_CHANGE,
        actor=user,
        object_type="user",
        object_id=user.pk,
        ip=ip,
        detail={"change": "totp_enable"},
    )


def totp_confirm(*, user: Any, secret: str, code: str, ip: str = "") -> bool:
    """Store ``secret`` as the user's second factor if ``code`` was made from it."""
    step = _matching_step(secret, code)
    if step is None:
        return False
    _enrol(user, secret, last_step=step, ip=ip)
    return True


def totp_enable(user: Any, *, ip: str = "") -> str:
    """Give the user a fresh TOTP secret at once and return its ``otpauth://`` URI (for the
    command line and tests; the page enrols through ``totp_new`` and ``totp_confirm``)."""
    secret = totp_new()
    _enrol(user, secret, last_step=None, ip=ip)
    return totp_uri(user, secret)


def totp_disable(user: Any, *, by: Any = None, ip: str = "") -> None:
    _store_secret(user, "")
    audit.audit_record(
        action=audit.PROFILE_CHANGE,
        actor=by or user,
        object_type="user",
        object_id=user.pk,
        ip=ip,
        detail={"change": "totp_disable"},
    )


def totp_verify(user: Any, code: str) -> bool:
    """Accept ``code`` once: true only if it is right and its step is later than the last step
    accepted for this user (claimed with one conditional UPDATE, so a race admits one)."""
    step = _matching_step(_totp_secret(user), code)
    if step is None:
        return False
    claimed = (
        get_user_model()
        ._default_manager.filter(pk=user.pk)
        .filter(Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step))
        .update(totp_last_step=step)
    )
    if claimed:
        user.totp_last_step = step
    return bool(claimed)


def _matching_step(secret: str, code: str) -> int | None:
    code = "".join(ch for ch in str(code) if not ch.isspace())
    if not secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // STEP_SECONDS
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _secret_field_encrypts(user: Any) -> bool:
    return isinstance(get_user_model()._meta.get_field("totp_secret"), EncryptedTextField)


def _store_secret(user: Any, secret: str) -> None:
    if _secret_field_encrypts(user):
        user.totp_secret = secret  # the field encrypts on write
    else:
        user.totp_secret = get_keyring().encrypt(secret) if secret else ""
    get_user_model()._default_manager.filter(pk=user.pk).update(totp_secret=user.totp_secret)


def _totp_secret(user: Any) -> str:
    value = user.totp_secret or ""
    return get_keyring().decrypt(value) if is_token(value) else value
