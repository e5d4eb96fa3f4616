"""Sealing with a passphrase or a raw key: the key file's wrapping and the backups' encryption.

Both use SM4-GCM (the data keys' cipher). A passphrase becomes a key through scrypt with a random
salt; its parameters travel with the sealed data, so they can be raised later without breaking
what was sealed before.

- ``seal_text`` / ``open_text``: a small document (the key file) as one JSON envelope.
- ``seal_stream`` / ``open_stream``: a large file (a backup archive) in 1 MiB chunks. Each chunk is
  authenticated with its number and whether it is the last, so chunks cannot be reordered,
  dropped or the file cut short without ``open_stream`` refusing it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

KEY_BYTES = 16  # SM4
_NONCE_BYTES = 12
_TAG_BYTES = 16
_SALT_BYTES = 16
# scrypt at N=2^15, r=8: ~32 MiB and a tenth of a second per derivation; a guess costs the same.
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
ENVELOPE_FORMAT = "xinfang-sealed"
STREAM_MAGIC = b"XFSEALED1\n"
_CHUNK = 1024 * 1024


class SealError(Exception):
    """Wrong passphrase or key, or sealed data that was altered, truncated or is not ours."""


# -- keys ------------------------------------------------------------------------------------------


def derive_key(passphrase: str, *, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not passphrase:
        raise SealError("口令为空。")
    if not (2**10 <= n <= 2**22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise SealError("scrypt 参数超出允许范围。")
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _kdf_header(passphrase: str | None, key: bytes | None, key_id: str) -> tuple[dict, bytes]:
    if passphrase is not None:
        salt = os.urandom(_SALT_BYTES)
        header = {"kdf": "scrypt", "salt": _b64(salt), **SCRYPT}
        return header, derive_key(passphrase, salt=salt, **SCRYPT)
    if key is None or len(key) != KEY_BYTES:
        raise SealError("需要口令或 16 字节的 SM4 密钥。")
    return {"kdf": "key", "key_id": key_id}, key


def _key_for(header: dict, passphrase: str | None, keys: dict[str, bytes]) -> bytes:
    try:
        if header.get("kdf") == "scrypt":
            if passphrase is None:
                raise SealError("此文件以口令加密：请提供口令。")
            return derive_key(passphrase, salt=_unb64(header["salt"]), n=int(header["n"]),
                              r=int(header["r"]), p=int(header["p"]))
        if header.get("kdf") == "key":
            key = keys.get(str(header.get("key_id")))
            if key is None:
                raise SealError(f"此文件以密钥 {header.get('key_id')} 加密，而提供的密钥中没有它。")
            return key
    except (KeyError, TypeError, ValueError) as e:
        raise SealError(f"加密头已损坏：{e}") from e
    raise SealError(f"不认识的密钥来源 {header.get('kdf')!r}。")


# -- small documents -------------------------------------------------------------------------------


def seal_text(text: str, *, passphrase: str) -> str:
    """``text`` sealed under ``passphrase``, as a JSON envelope."""
    header, key = _kdf_header(passphrase, None, "")
    nonce = os.urandom(_NONCE_BYTES)
    aad = _aad(header)
    body = _encrypt(key, nonce, text.encode("utf-8"), aad)
    envelope = {"format": ENVELOPE_FORMAT, "version": 1, "cipher": "SM4-GCM", **header,
                "nonce": _b64(nonce), "ciphertext": _b64(body)}
    return json.dumps(envelope, indent=2) + "\n"


def is_sealed_text(document: object) -> bool:
    return isinstance(document, dict) and document.get("format") == ENVELOPE_FORMAT


def open_text(envelope: dict, *, passphrase: str | None) -> str:
    if envelope.get("version") != 1 or envelope.get("cipher") != "SM4-GCM":
        raise SealError("不支持的加密格式。")
    header = {k: v for k, v in envelope.items()
              if k not in {"format", "version", "cipher", "nonce", "ciphertext"}}
    key = _key_for(header, passphrase, {})
    try:
        nonce, body = _unb64(envelope["nonce"]), _unb64(envelope["ciphertext"])
    except (KeyError, ValueError) as e:
        raise SealError(f"加密内容已损坏：{e}") from e
    try:
        return _decrypt(key, nonce, body, _aad(header)).decode("utf-8")
    except UnicodeDecodeError as e:
        raise SealError("解密结果不是文本。") from e


# -- large files -----------------------------------------------------------------------------------


def seal_stream(source: IO[bytes], out: IO[bytes], *, passphrase: str | None = None,
                key: bytes | None = None, key_id: str = "") -> None:
    """Encrypt ``source`` into ``out`` under a passphrase or a raw SM4 key named ``key_id``."""
    header, chunk_key = _kdf_header(passphrase, key, key_id)
    header["prefix"] = _b64(os.urandom(_NONCE_BYTES - 4))
    header_bytes = json.dumps(header, sort_keys=True).encode("utf-8")
    out.write(STREAM_MAGIC + struct.pack(">I", len(header_bytes)) + header_bytes)
    prefix = _unb64(header["prefix"])
    index = 0
    chunk = source.read(_CHUNK)
    while True:
        following = source.read(_CHUNK)
        last = not following
        aad = header_bytes + struct.pack(">Q?", index, last)
        sealed = _encrypt(chunk_key, prefix + struct.pack(">I", index), chunk, aad)
        out.write(struct.pack(">I", len(sealed)) + sealed)
        if last:
            return
        chunk, index = following, index + 1
        if index >= 2**32:
            raise SealError("文件过大。")


def is_sealed_stream(head: bytes) -> bool:
    return head.startswith(STREAM_MAGIC)


def stream_header(source: IO[bytes]) -> tuple[dict, bytes]:
    if source.read(len(STREAM_MAGIC)) != STREAM_MAGIC:
        raise SealError("不是 xinfang 加密文件。")
    (length,) = struct.unpack(">I", _exactly(source, 4))
    if length > 4096:
        raise SealError("加密头过长：文件已损坏。")
    header_bytes = _exactly(source, length)
    try:
        return json.loads(header_bytes), header_bytes
    except json.JSONDecodeError as e:
        raise SealError("加密头已损坏。") from e


def open_stream(source: IO[bytes], out: IO[bytes], *, passphrase: str | None = None,
                keys: dict[str, bytes] | None = None) -> dict:
    """Decrypt what ``seal_stream`` wrote; refuses a wrong key, any change and a cut-off end.
    Returns the header (``kdf``: ``scrypt`` or ``key`` with its ``key_id``)."""
    header, header_bytes = stream_header(source)
    key = _key_for(header, passphrase, keys or {})
    try:
        prefix = _unb64(header["prefix"])
    except (KeyError, ValueError) as e:
        raise SealError("加密头已损坏。") from e
    index = 0
    while True:
        raw_length = source.read(4)
        if len(raw_length) < 4:
            raise SealError("加密文件被截断（缺少结尾块）。")
        (length,) = struct.unpack(">I", raw_length)
        if length > _CHUNK + _TAG_BYTES:
            raise SealError("加密块长度异常：文件已损坏。")
        sealed = _exactly(source, length)
        nonce = prefix + struct.pack(">I", index)
        try:
            plain = _decrypt(key, nonce, sealed, header_bytes + struct.pack(">Q?", index, True))
            last = True
        except SealError:
            plain = _decrypt(key, nonce, sealed, header_bytes + struct.pack(">Q?", index, False))
            last = False
        out.write(plain)
        if last:
            if source.read(1):
                raise SealError("加密文件结尾之后还有数据：文件被改动。")
            return header
        index += 1


# -- helpers ---------------------------------------------------------------------------------------


def _encrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _decrypt(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < _TAG_BYTES:
        raise SealError("加密块过短：文件已损坏。")
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-_TAG_BYTES:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(sealed[:-_TAG_BYTES]) + decryptor.finalize()
    except InvalidTag:
        raise SealError("解密失败：口令或密钥不对，或文件已被改动。") from None


def _aad(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True).encode("utf-8")


def _exactly(source: IO[bytes], n: int) -> bytes:
    data = source.read(n)
    if len(data) != n:
        raise SealError("加密文件被截断。")
    return data


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError) as e:
        raise ValueError("not base64") from e
