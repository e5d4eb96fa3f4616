"""Encryption at rest for petitioners' personal data (ID numbers, phones, addresses).

Values are encrypted with SM4 in GCM mode (authenticated: a flipped byte, a swapped key id or a
truncated token fails loudly instead of decrypting to garbage). Exact-match lookups never touch the
ciphertext: the caller stores a *blind index* next to it — HMAC-SM3 of the normalised value under a
separate index key — and filters on that column.

The keys live in a JSON file outside the database (``settings.XINFANG_KEY_FILE``, mode 0600), so
a database dump or backup alone reveals nothing. The file holds several data keys; one is *current*
and encrypts, the others are kept only to decrypt older tokens. Every token names its key::

    sm4gcm:<key_id>:<base64(nonce | ciphertext | tag)>

Rotating without downtime or loss:

1. ``keyring.add_key()`` — a new current key is written to the file; the old one stays.
   Running processes notice the changed file within ``REFRESH_SECONDS`` (``get_keyring``) and, until
   then, reload it on their own when they meet a token under a key they do not know yet.
2. Wait ``REFRESH_SECONDS``, then re-encrypt every stored token for which ``needs_rotation`` is
   true (``reencrypt``). Repeat until none is left: a write racing the first pass may still use the
   old key.
3. Only then ``remove_key(old_id)``. Keep a backup of the key file: without it the data is gone.

The blind-index key is not rotated by this scheme (changing it means recomputing every index
column from the decrypted values); it is separate from the data keys so that rotating those never
touches it.

The same file holds the *MAC keys* that seal the audit trail and the case history (HMAC-SM3; one
current, older ones kept to verify entries made under them — each entry names its MAC key id) and
a *backup key* (SM4) that encrypts backups when the operator gives no passphrase. A file written
before these existed gains them the first time it is loaded (back the file up again then).

Where the keys come from (``get_keyring``):

- ``XINFANG_KEYS`` in the environment: the whole key document as JSON (containers, secret stores).
  Read-only: rotation needs a file.
- otherwise the key file. It may be *wrapped* (``xinfang keys wrap``): sealed under a passphrase
  read from the environment variable named by ``XINFANG_KEY_PASSPHRASE_ENV`` (default
  ``XINFANG_KEY_PASSPHRASE``) through scrypt and SM4-GCM (``sealing.py``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import stat
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import sealing

logger = logging.getLogger(__name__)

SCHEME = "sm4gcm"
FILE_FORMAT = "xinfang-keyring"
FILE_VERSION = 1
DEFAULT_KEY_FILE = "var/keys/xinfang-keys.json"
REFRESH_SECONDS = 5.0

_DATA_KEY_BYTES = 16  # SM4 has a 128-bit key
_INDEX_KEY_BYTES = 32
_MAC_KEY_BYTES = 32
_BACKUP_KEY_BYTES = 16  # SM4
KEYS_ENV = "XINFANG_KEYS"
PASSPHRASE_ENV = "XINFANG_KEY_PASSPHRASE"
_NONCE_BYTES = 12  # the GCM standard nonce length
_TAG_BYTES = 16
_KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_PURPOSE_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class KeyFileError(Exception):
    """The key file is missing, unreadable, too widely readable or malformed."""


class DecryptionError(Exception):
    """A token could not be decrypted: malformed, tampered with, or under an unknown key."""


class KeyRing:
    """SM4 data keys (one current) plus the blind-index key, optionally bound to a key file."""

    def __init__(
        self,
        *,
        data_keys: dict[str, bytes],
        current_key_id: str,
        index_key: bytes,
        created_at: dict[str, str] | None = None,
        path: Path | None = None,
        mac_keys: dict[str, bytes] | None = None,
        current_mac_key_id: str = "",
        backup_key: bytes | None = None,
        passphrase: str | None = None,
    ) -> None:
        _check_keys(data_keys, current_key_id, index_key)
        _check_mac_keys(mac_keys or {}, current_mac_key_id, backup_key)
        self.path = Path(path) if path is not None else None
        # Kept so that saving (a rotation) wraps the file again under the same passphrase.
        self.passphrase = passphrase
        # One immutable snapshot, replaced whole, so a concurrent reload never shows a half state.
        self._state = _State(dict(data_keys), current_key_id, dict(created_at or {}),
                             dict(mac_keys or {}), current_mac_key_id, backup_key)
        self._index_key = index_key
        self._index_subkeys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # -- construction and persistence -------------------------------------------------------------

    @classmethod
    def generate(cls) -> KeyRing:
        """A fresh in-memory key ring with one data key ``k1``; nothing is written."""
        return cls(
            data_keys={"k1": os.urandom(_DATA_KEY_BYTES)},
            current_key_id="k1",
            index_key=os.urandom(_INDEX_KEY_BYTES),
            created_at={"k1": _now_iso(), "m1": _now_iso()},
            mac_keys={"m1": os.urandom(_MAC_KEY_BYTES)},
            current_mac_key_id="m1",
            backup_key=os.urandom(_BACKUP_KEY_BYTES),
        )

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, passphrase: str | None = None) -> KeyRing:
        """Generate a key ring and write it to ``path`` (mode 0600, wrapped under ``passphrase``
        if one is given). Refuses to overwrite."""
        keyring = cls.generate()
        keyring.path = Path(path)
        keyring.passphrase = passphrase or None
        _write_file(keyring.path, keyring._file_text(keyring._state), exclusive=True)
        return keyring

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, passphrase: str | None = None) -> KeyRing:
        path = Path(path)
        return cls(path=path, passphrase=passphrase, **_read_file(path, passphrase))

    @classmethod
    def from_json(cls, text: str, *, passphrase: str | None = None) -> KeyRing:
        """A key ring from a key document held elsewhere (``XINFANG_KEYS``); it has no file."""
        return cls(passphrase=passphrase, **_parse(text, "XINFANG_KEYS", passphrase))

    def save(self) -> None:
        """Atomically replace the key file with the current state."""
        if self.path is None:
            raise KeyFileError("This key ring has no key file to save to.")
        _write_file(self.path, self._file_text(self._state), exclusive=False)

    def reload(self) -> None:
        """Re-read the key file (another process may have added a key)."""
        if self.path is None:
            return
        state = _read_file(self.path, self.passphrase)
        with self._lock:
            self._state = _State(state["data_keys"], state["current_key_id"], state["created_at"],
                                 state["mac_keys"], state["current_mac_key_id"],
                                 state["backup_key"])
            if state["index_key"] != self._index_key:
                self._index_key = state["index_key"]
                self._index_subkeys = {}

    # -- key management ---------------------------------------------------------------------------

    @property
    def current_key_id(self) -> str:
        return self._state.current_key_id

    @property
    def key_ids(self) -> list[str]:
        return list(self._state.data_keys)

    def add_key(self) -> str:
        """Make a new data key current; older keys stay for decryption. Saves if file-backed."""
        with self._lock:
            old = self._state
            key_id = _next_key_id(old.data_keys)
            self._replace_state(
                old.but(data_keys={**old.data_keys, key_id: os.urandom(_DATA_KEY_BYTES)},
                        current_key_id=key_id,
                        created_at={**old.created_at, key_id: _now_iso()})
            )
        return key_id

    def add_mac_key(self) -> str:
        """Make a new MAC key current for the audit trail and history; older ones stay so that
        entries sealed under them still verify. Saves if file-backed."""
        with self._lock:
            old = self._state
            key_id = _next_key_id(old.mac_keys, prefix="m")
            self._replace_state(
                old.but(mac_keys={**old.mac_keys, key_id: os.urandom(_MAC_KEY_BYTES)},
                        current_mac_key_id=key_id,
                        created_at={**old.created_at, key_id: _now_iso()})
            )
        return key_id

    def ensure_integrity_keys(self) -> bool:
        """Give a key file written before MAC and backup keys existed its first ones. Returns
        whether anything was added (and saved)."""
        with self._lock:
            old = self._state
            if old.mac_keys and old.backup_key:
                return False
            if self.path is None:
                raise KeyFileError(
                    f"The key document in {KEYS_ENV} has no MAC or backup key: generate a new "
                    "document with `xinfang keys create --print` and add its mac_keys and "
                    "backup_key."
                )
            mac_keys = old.mac_keys or {"m1": os.urandom(_MAC_KEY_BYTES)}
            self._replace_state(old.but(
                mac_keys=mac_keys,
                current_mac_key_id=old.current_mac_key_id or "m1",
                backup_key=old.backup_key or os.urandom(_BACKUP_KEY_BYTES),
                created_at={**{k: _now_iso() for k in mac_keys}, **old.created_at},
            ))
        return True

    def wrap(self, passphrase: str | None) -> None:
        """Rewrite the key file sealed under ``passphrase`` (``None``: in the clear)."""
        if self.path is None:
            raise KeyFileError("This key ring has no key file to wrap.")
        self.passphrase = passphrase or None
        self.save()

    # -- integrity (audit trail and history) ------------------------------------------------------

    @property
    def current_mac_key_id(self) -> str:
        return self._state.current_mac_key_id

    @property
    def mac_key_ids(self) -> list[str]:
        return list(self._state.mac_keys)

    def mac(self, message: bytes, *, key_id: str | None = None) -> tuple[str, str]:
        """``(key_id, hex HMAC-SM3)`` of ``message`` under the current MAC key or ``key_id``."""
        state = self._state
        key_id = key_id or state.current_mac_key_id
        key = state.mac_keys.get(key_id)
        if key is None and self.path is not None and key_id:
            try:
                self.reload()
            except KeyFileError:
                pass
            key = self._state.mac_keys.get(key_id)
        if key is None:
            raise KeyFileError(
                f"MAC key {key_id or '(none)'!r} is not in the key file: entries sealed under "
                "it cannot be verified."
            )
        return key_id, _hmac_sm3(key, message).hex()

    def sealing_began(self) -> datetime | None:
        """When the first MAC key was made: unsealed entries (from before sealing) must be older."""
        stamps = [self._state.created_at.get(k, "") for k in self._state.mac_keys]
        stamps = [datetime.fromisoformat(s) for s in stamps if s]
        return min(stamps) if stamps else None

    @property
    def backup_key(self) -> tuple[str, bytes]:
        key = self._state.backup_key
        if key is None:
            raise KeyFileError("The key file has no backup key.")
        return "backup", key

    def remove_key(self, key_id: str) -> None:
        """Forget an old data key — only once no stored token uses it, or that data is lost."""
        with self._lock:
            old = self._state
            if key_id == old.current_key_id:
                raise KeyFileError(f"Key {key_id!r} is the current key and cannot be removed.")
            if key_id not in old.data_keys:
                raise KeyFileError(f"Key {key_id!r} is not in the key ring.")
            self._replace_state(
                old.but(data_keys={k: v for k, v in old.data_keys.items() if k != key_id},
                        created_at={k: v for k, v in old.created_at.items() if k != key_id})
            )

    def _replace_state(self, state: _State) -> None:
        # On disk first: a key that encrypted anything must never exist only in memory.
        if self.path is not None:
            _write_file(self.path, self._file_text(state), exclusive=False)
        self._state = state

    # -- encryption -------------------------------------------------------------------------------

    def encrypt(self, plaintext: str) -> str:
        state = self._state
        key_id = state.current_key_id
        key = state.data_keys[key_id]
        nonce = os.urandom(_NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        # The header is authenticated, so a token cannot be relabelled to another key id.
        encryptor.authenticate_additional_data(_header(key_id))
        ciphertext = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
        payload = base64.b64encode(nonce + ciphertext + encryptor.tag).decode("ascii")
        return f"{SCHEME}:{key_id}:{payload}"

    def decrypt(self, token: str) -> str:
        key_id, raw = _parse_token(token)
        key = self._state.data_keys.get(key_id)
        if key is None and self.path is not None:
            # Another process may have rotated the key file since we loaded it.
            try:
                self.reload()
            except KeyFileError:
                pass
            key = self._state.data_keys.get(key_id)
        if key is None:
            raise DecryptionError(f"Unknown key id {key_id!r}: it is not in the key file.")
        nonce, ciphertext, tag = (
            raw[:_NONCE_BYTES],
            raw[_NONCE_BYTES:-_TAG_BYTES],
            raw[-_TAG_BYTES:],
        )
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(_header(key_id))
        try:
            plaintext = decryptor.update(ciphertext) + decryptor.finalize()
        except InvalidTag:
            raise DecryptionError(
                f"Token under key {key_id!r} failed authentication: tampered or corrupted."
            ) from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:  # authenticated but not text: not one of ours
            raise DecryptionError("Decrypted token is not UTF-8 text.") from None

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` is under a key other than the current one."""
        key_id, _ = _parse_token(token)
        return key_id != self._state.current_key_id

    def reencrypt(self, token: str) -> str:
        """``token`` under the current key (the same string if it already is)."""
        if not self.needs_rotation(token):
            return token
        return self.encrypt(self.decrypt(token))

    # -- blind index ------------------------------------------------------------------------------

    def blind_index(self, value: str, *, purpose: str) -> str:
        """Hex HMAC-SM3 of ``value`` for exact lookup, separated by ``purpose``.

        The caller normalises first (``idcard.validate_id_number``, ``idcard.normalise_phone``): the
        index matches bytes, so ``"41010219900101123x"`` and ``"...123X"`` would differ. The same
        value under two purposes gives unrelated indexes, so columns cannot be joined on them.
        """
        if not _PURPOSE_RE.match(purpose):
            raise ValueError(f"Blind-index purpose must be a lower-case name, not {purpose!r}.")
        subkey = self._index_subkeys.get(purpose)
        if subkey is None:
            subkey = _hmac_sm3(self._index_key, b"xinfang/blind-index/v1/" + purpose.encode())
            self._index_subkeys[purpose] = subkey
        return _hmac_sm3(subkey, unicodedata.normalize("NFC", value).encode("utf-8")).hex()

    # -- file format ------------------------------------------------------------------------------

    def _to_json(self, state: _State) -> str:
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "current_key_id": state.current_key_id,
            "data_keys": [
                {
                    "id": key_id,
                    "algorithm": "SM4",
                    "key": base64.b64encode(key).decode("ascii"),
                    "created_at": state.created_at.get(key_id, ""),
                }
                for key_id, key in state.data_keys.items()
            ],
            "index_key": {
                "algorithm": "HMAC-SM3",
                "key": base64.b64encode(self._index_key).decode("ascii"),
            },
        }
        if state.mac_keys:
            document["current_mac_key_id"] = state.current_mac_key_id
            document["mac_keys"] = [
                {"id": key_id, "algorithm": "HMAC-SM3",
                 "key": base64.b64encode(key).decode("ascii"),
                 "created_at": state.created_at.get(key_id, "")}
                for key_id, key in state.mac_keys.items()
            ]
        if state.backup_key is not None:
            document["backup_key"] = {"algorithm": "SM4",
                                      "key": base64.b64encode(state.backup_key).decode("ascii")}
        return json.dumps(document, indent=2) + "\n"

    def _file_text(self, state: _State) -> str:
        text = self._to_json(state)
        return sealing.seal_text(text, passphrase=self.passphrase) if self.passphrase else text

    def to_json(self) -> str:
        """The key document in the clear (for ``XINFANG_KEYS``): handle as the keys themselves."""
        return self._to_json(self._state)

    def __repr__(self) -> str:  # never the keys themselves
        return f"<KeyRing current={self.current_key_id} keys={self.key_ids} path={self.path}>"


@dataclass(frozen=True)
class _State:
    data_keys: dict[str, bytes]
    current_key_id: str
    created_at: dict[str, str]
    mac_keys: dict[str, bytes]
    current_mac_key_id: str
    backup_key: bytes | None

    def but(self, **changes: object) -> _State:
        return replace(self, **changes)


def is_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SCHEME + ":")


# -- the process-wide key ring ---------------------------------------------------------------------


@dataclass
class _Cached:
    keyring: KeyRing
    path: Path
    signature: tuple[int, int, int]
    next_check: float


_cached: _Cached | None = None
_cache_lock = threading.Lock()


def get_keyring() -> KeyRing:
    """The key ring named by ``settings.XINFANG_KEY_FILE``, loaded once and re-read when it changes.

    A missing file is created only when ``settings.XINFANG_KEY_AUTOCREATE`` is true (development and
    demo); elsewhere it is an error, because silently minting a new key would make existing data
    unreadable.
    """
    global _cached
    cached = _cached
    if cached is not None and time.monotonic() < cached.next_check:
        return cached.keyring
    with _cache_lock:
        document = os.environ.get(KEYS_ENV, "")
        if document:
            return _from_environment(document)
        path = _configured_key_file()
        cached = _cached
        # Taken before reading: a change made while we read shows up at the next check.
        signature = _signature(path)
        if cached is not None and cached.path == path:
            if signature == cached.signature:
                cached.next_check = time.monotonic() + REFRESH_SECONDS
                return cached.keyring
            try:
                cached.keyring.reload()  # same object: code holding it sees the new key too
            except KeyFileError:
                # Wrapped under a passphrase this process was not started with, or half-copied:
                # the keys already held stay valid; a restart with the passphrase reads the file.
                logger.warning("Key file %s changed but cannot be re-read; keeping the keys "
                               "loaded before.", path, exc_info=True)
            keyring = cached.keyring
        else:
            keyring = _load_or_create(path)
            if keyring.ensure_integrity_keys():  # a file from before MAC and backup keys
                signature = (0, 0, 0)
            signature = signature if signature != (0, 0, 0) else _signature(path)  # just written
        _cached = _Cached(keyring, path, signature, time.monotonic() + REFRESH_SECONDS)
        return keyring


def _from_environment(document: str) -> KeyRing:
    """The key ring from ``XINFANG_KEYS`` (the caller holds the cache lock)."""
    global _cached
    marker = Path(f"<{KEYS_ENV}>")
    signature = (hash(document), len(document), 0)
    cached = _cached
    if cached is not None and cached.path == marker and cached.signature == signature:
        cached.next_check = time.monotonic() + REFRESH_SECONDS
        return cached.keyring
    keyring = KeyRing.from_json(document, passphrase=configured_passphrase())
    keyring.ensure_integrity_keys()  # refuses, saying what to add, if they are missing
    _cached = _Cached(keyring, marker, signature, time.monotonic() + REFRESH_SECONDS)
    return keyring


def configured_passphrase() -> str | None:
    """The key file's passphrase, from the environment variable ``XINFANG_KEY_PASSPHRASE_ENV``
    names (never from settings: settings end up in error reports)."""
    from django.conf import settings

    variable = getattr(settings, "XINFANG_KEY_PASSPHRASE_ENV", PASSPHRASE_ENV)
    return os.environ.get(variable) or None


def reset_keyring_cache() -> None:
    global _cached
    with _cache_lock:
        _cached = None


def _configured_key_file() -> Path:
    from django.conf import settings

    configured = getattr(settings, "XINFANG_KEY_FILE", None)
    if configured:
        return Path(configured)
    base_dir = getattr(settings, "BASE_DIR", None)
    return Path(base_dir) / DEFAULT_KEY_FILE if base_dir else Path(DEFAULT_KEY_FILE)


def _load_or_create(path: Path) -> KeyRing:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    if path.exists():
        return KeyRing.load(path, passphrase=configured_passphrase())
    if not getattr(settings, "XINFANG_KEY_AUTOCREATE", False):
        raise ImproperlyConfigured(
            f"Key file {path} does not exist. Create it once with `xinfang keys create` "
            "(and back it up: data encrypted under it cannot be read without it), or set "
            "XINFANG_KEY_FILE to the existing file. XINFANG_KEY_AUTOCREATE=True creates one "
            "automatically, for development and demo installations only."
        )
    try:
        return KeyRing.create(path, passphrase=configured_passphrase())
    except FileExistsError:  # another process won the race
        return KeyRing.load(path, passphrase=configured_passphrase())


def _signature(path: Path) -> tuple[int, int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting in {"XINFANG_KEY_FILE", "XINFANG_KEY_AUTOCREATE", "BASE_DIR",
                   "XINFANG_KEY_PASSPHRASE_ENV"}:
        reset_keyring_cache()


try:  # keeps this module importable without Django for command-line tools and plain tests
    from django.test.signals import setting_changed
except ImportError:  # pragma: no cover
    pass
else:
    setting_changed.connect(_setting_changed, dispatch_uid="xinfang.security.crypto")


# -- helpers ---------------------------------------------------------------------------------------


def _header(key_id: str) -> bytes:
    return f"{SCHEME}:{key_id}".encode("ascii")


def _parse_token(token: str) -> tuple[str, bytes]:
    if not isinstance(token, str):
        raise DecryptionError(f"Expected a token string, got {type(token).__name__}.")
    scheme, _, rest = token.partition(":")
    key_id, _, payload = rest.partition(":")
    if scheme != SCHEME or not _KEY_ID_RE.match(key_id) or not payload:
        raise DecryptionError(f"Not an {SCHEME} token (expected '{SCHEME}:<key_id>:<base64>').")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("Token payload is not valid base64: tampered or corrupted.") from None
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("Token payload is too short: tampered or truncated.")
    return key_id, raw


def _hmac_sm3(key: bytes, message: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(message)
    return mac.finalize()


def _next_key_id(existing: dict[str, bytes], *, prefix: str = "k") -> str:
    numbers = [int(key_id[1:]) for key_id in existing if re.fullmatch(prefix + r"\d+", key_id)]
    return f"{prefix}{max(numbers, default=0) + 1}"


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _check_keys(data_keys: dict[str, bytes], current_key_id: str, index_key: bytes) -> None:
    for key_id, key in data_keys.items():
        if not _KEY_ID_RE.match(key_id):
            raise KeyFileError(f"Invalid key id {key_id!r}.")
        if len(key) != _DATA_KEY_BYTES:
            raise KeyFileError(f"SM4 key {key_id!r} must be {_DATA_KEY_BYTES} bytes.")
    if current_key_id not in data_keys:
        raise KeyFileError(f"Current key {current_key_id!r} is not among the data keys.")
    if len(index_key) < 16:
        raise KeyFileError("The blind-index key must be at least 16 bytes.")


def _check_mac_keys(mac_keys: dict[str, bytes], current: str, backup_key: bytes | None) -> None:
    for key_id, key in mac_keys.items():
        if not _KEY_ID_RE.match(key_id) or len(key) < 16:
            raise KeyFileError(f"Invalid MAC key {key_id!r} (at least 16 bytes).")
    if mac_keys and current not in mac_keys:
        raise KeyFileError(f"Current MAC key {current!r} is not among the MAC keys.")
    if backup_key is not None and len(backup_key) != _BACKUP_KEY_BYTES:
        raise KeyFileError(f"The backup key must be {_BACKUP_KEY_BYTES} bytes (SM4).")


def _read_file(path: Path, passphrase: str | None = None) -> dict:
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(
            f"Key file {path} does not exist (create it with `xinfang keys create`)."
        ) from None
    except OSError as exc:
        raise KeyFileError(f"Cannot read key file {path}: {exc}") from exc
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"Key file {path} is accessible to other users (mode {stat.S_IMODE(st.st_mode):o}); "
            f"run `chmod 600 {path}`."
        )
    return _parse(text, f"Key file {path}", passphrase)


def _parse(text: str, source: str, passphrase: str | None) -> dict:
    try:
        document = json.loads(text)
        if sealing.is_sealed_text(document):
            if not passphrase:
                raise KeyFileError(
                    f"{source} is wrapped by a passphrase: set the environment variable "
                    f"{PASSPHRASE_ENV} (or the one XINFANG_KEY_PASSPHRASE_ENV names)."
                )
            try:
                document = json.loads(sealing.open_text(document, passphrase=passphrase))
            except sealing.SealError as exc:
                raise KeyFileError(f"{source} cannot be unwrapped: {exc}") from exc
        if document.get("format") != FILE_FORMAT or document.get("version") != FILE_VERSION:
            raise ValueError("unknown format or version")
        data_keys = {}
        created_at = {}
        for entry in document["data_keys"]:
            if entry.get("algorithm") != "SM4" or entry["id"] in data_keys:
                raise ValueError(f"bad data key entry {entry.get('id')!r}")
            data_keys[entry["id"]] = base64.b64decode(entry["key"], validate=True)
            created_at[entry["id"]] = entry.get("created_at", "")
        index_key = base64.b64decode(document["index_key"]["key"], validate=True)
        mac_keys = {}
        for entry in document.get("mac_keys", []):
            if entry.get("algorithm") != "HMAC-SM3" or entry["id"] in mac_keys:
                raise ValueError(f"bad MAC key entry {entry.get('id')!r}")
            mac_keys[entry["id"]] = base64.b64decode(entry["key"], validate=True)
            created_at[entry["id"]] = entry.get("created_at", "")
        backup = document.get("backup_key")
        state = {
            "data_keys": data_keys,
            "created_at": created_at,
            "current_key_id": document["current_key_id"],
            "index_key": index_key,
            "mac_keys": mac_keys,
            "current_mac_key_id": document.get("current_mac_key_id", ""),
            "backup_key": base64.b64decode(backup["key"], validate=True) if backup else None,
        }
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise KeyFileError(f"{source} is malformed: {exc}") from exc
    _check_keys(state["data_keys"], state["current_key_id"], state["index_key"])
    _check_mac_keys(state["mac_keys"], state["current_mac_key_id"], state["backup_key"])
    return state


def _write_file(path: Path, text: str, *, exclusive: bool) -> None:
    """Write via a 0600 temporary file in the same directory, so no reader sees half a file.

    ``exclusive`` links the finished file into place, which fails if ``path`` exists; otherwise the
    temporary file atomically replaces it.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if exclusive and path.exists():
        raise FileExistsError(f"Key file {path} already exists; refusing to overwrite it.")
    fd, tmp_name = tempfile.mkstemp(prefix=".xinfang-keys-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(tmp_name, path)
            except FileExistsError:
                raise FileExistsError(
                    f"Key file {path} already exists; refusing to overwrite it."
                ) from None
        else:
            os.replace(tmp_name, path)
            tmp_name = ""
    finally:
        if tmp_name:
            os.unlink(tmp_name)
