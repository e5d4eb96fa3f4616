"""Model fields that keep personal data encrypted in the database.

``EncryptedTextField`` stores an ``sm4gcm:<key_id>:…`` token (see ``crypto``) and hands Python code
the plaintext. Each write encrypts with a fresh nonce, so the same value never gives the same column
content: the column cannot be filtered, joined, ordered or made unique. Exact lookup goes through a
blind-index column beside it::

    id_number = EncryptedTextField(_("身份证号码"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    # on write (in the service):
    petitioner.id_number_index = get_keyring().blind_index(number, purpose="id_number")
    # on lookup:
    index = get_keyring().blind_index(number, purpose="id_number")
    Petitioner.objects.filter(id_number_index=index)

Only ``isnull`` is allowed as a lookup; anything else raises ``FieldError`` instead of silently
comparing ciphertext. Empty strings and ``None`` are stored as they are (an empty value is not
secret, and ``blank=True`` stays meaningful).

To read the stored token itself (key rotation), bypass ``from_db_value`` with a cast::

    Petitioner.objects.annotate(token=Cast("id_number", models.TextField()))
"""

from __future__ import annotations

from typing import Any

from django.db import models

from xinfang.security.crypto import get_keyring

_ALLOWED_LOOKUPS = frozenset({"isnull"})


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest with SM4 (not filterable; use a blind index)"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return get_keyring().decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)  # resolves Promise values, str() on the rest
        if value is None or value == "":
            return value
        return get_keyring().encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in _ALLOWED_LOOKUPS:
            return None  # Django turns this into FieldError "Unsupported lookup"
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, _path, args, kwargs = super().deconstruct()
        # A fixed import path, so moving the class never rewrites every migration that uses it.
        return name, "xinfang.security.fields.EncryptedTextField", args, kwargs
