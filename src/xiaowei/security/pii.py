"""Encryption at rest and blind indexes for personal data (names, ID numbers, phones).

Why: personal data of borrowers must be unreadable to anyone who copies the database or a
backup, yet the bank must still find a party by ID number. AES-256-GCM gives confidentiality
and tamper detection; an HMAC "blind index" gives equality lookups without decrypting.

The master key comes from ``XIAOWEI_PII_KEY`` (base64 of 32 bytes), which is how a bank's
deployment injects it from its key vault, or else from ``XIAOWEI_HOME/keys/pii.key``, created
on first use with mode 0600, so that a laptop or a test run works with no setup and the key
never lands in the repository. Separate sub-keys for encryption, blind index and key id are
derived from the master key with HKDF, so that no key is used for two purposes.

Ciphertext is ``v1:<key_id>:<base64(nonce + ciphertext + tag)>``: the version and key id
let a later release rotate keys and still read what the old key wrote.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from xiaowei.config import get_settings

ENV_KEY = "XIAOWEI_PII_KEY"
KEY_FILE = Path("keys") / "pii.key"
RETIRED_ENV = "XIAOWEI_PII_RETIRED_KEYS"
RETIRED_DIR = Path("keys") / "retired"
FORMAT_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class PiiError(ValueError):
    """Personal data could not be protected or read: bad key, malformed or tampered text."""


@dataclass(frozen=True)
class PiiKey:
    """The sub-keys derived from one master key; never holds the master key itself."""

    key_id: str
    cipher: AESGCM
    index_key: bytes

    @classmethod
    def from_master(cls, master: bytes) -> PiiKey:
        if len(master) != KEY_BYTES:
            raise PiiError(f"PII master key must be {KEY_BYTES} bytes, got {len(master)}")
        return cls(
            key_id=_derive(master, b"xiaowei/pii/key-id")[:4].hex(),
            cipher=AESGCM(_derive(master, b"xiaowei/pii/aes-256-gcm")),
            index_key=_derive(master, b"xiaowei/pii/blind-index"),
        )


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


def _decode_master(text: str, source: str) -> bytes:
    try:
        master = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as exc:
        raise PiiError(f"{source} is not valid base64") from exc
    if len(master) != KEY_BYTES:
        raise PiiError(f"{source} must decode to {KEY_BYTES} bytes, got {len(master)}")
    return master


@lru_cache(maxsize=8)
def _key_from_text(text: str, source: str) -> PiiKey:
    return PiiKey.from_master(_decode_master(text, source))


def _read_or_create_key_file(path: Path) -> str:
    """Write a new key to a private temporary file, then link it into place: linking fails
    if the key exists, so two processes starting at once agree on one complete key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        return path.read_text(encoding="ascii")
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".pii-key-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii") + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_text(encoding="ascii")


@lru_cache(maxsize=8)
def _key_from_home(home_setting: str | None, cwd: str) -> PiiKey:
    # Cached by the raw setting (and the directory a relative one resolves against):
    # a load encrypts millions of values, and resolving settings costs more than AES does.
    path = get_settings().home / KEY_FILE
    return _key_from_text(_read_or_create_key_file(path), str(path))


def current_key() -> PiiKey:
    """The key new data is encrypted with, chosen afresh on every call from the environment
    (so tests and commands can switch ``XIAOWEI_HOME`` or ``XIAOWEI_PII_KEY``)."""
    env_text = os.environ.get(ENV_KEY)
    if env_text:
        return _key_from_text(env_text, ENV_KEY)
    return _key_from_home(os.environ.get("XIAOWEI_HOME"), os.getcwd())


def _retired_texts() -> tuple[tuple[str, str], ...]:
    found = [(t, RETIRED_ENV) for t in os.environ.get(RETIRED_ENV, "").replace(",", " ").split()]
    folder = get_settings().home / RETIRED_DIR
    if folder.is_dir():
        found += [(f.read_text(encoding="ascii"), str(f)) for f in sorted(folder.glob("*.key"))]
    return tuple(found)


def key_for(key_id: str) -> PiiKey:
    """The key that wrote ``key_id``: the current one, or a retired one still kept for reading
    (``XIAOWEI_PII_RETIRED_KEYS``, or ``XIAOWEI_HOME/keys/retired/*.key``) while a rotation
    (:mod:`xiaowei.security.key_rotation`) re-encrypts the old rows."""
    key = current_key()
    if key_id == key.key_id:
        return key
    for text, source in _retired_texts():
        retired = _key_from_text(text, source)
        if retired.key_id == key_id:
            return retired
    raise PiiError(f"ciphertext was made with key {key_id!r}, which is neither the current "
                   f"key {key.key_id!r} nor a retired one")


def _aad(key_id: str) -> bytes:
    # Binding the header into the tag means a swapped version or key id is detected too.
    return f"{FORMAT_VERSION}:{key_id}".encode("ascii")


def encrypt(value: str) -> str:
    """Encrypt with a fresh random nonce: equal plaintexts give different ciphertexts."""
    if not isinstance(value, str):
        raise TypeError(f"encrypt() takes a str, got {type(value).__name__}")
    key = current_key()
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.cipher.encrypt(nonce, value.encode("utf-8"), _aad(key.key_id))
    payload = base64.b64encode(nonce + sealed).decode("ascii")
    return f"{FORMAT_VERSION}:{key.key_id}:{payload}"


def decrypt(token: str) -> str:
    """Decrypt text made by :func:`encrypt`; raise :class:`PiiError` on any tampering."""
    parts = token.split(":", 2) if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != FORMAT_VERSION:
        raise PiiError(f"not a {FORMAT_VERSION} PII ciphertext")
    _, key_id, payload = parts
    key = key_for(key_id)
    try:
        raw = base64.b64decode(payload, validate=True)
    except binascii.Error as exc:
        raise PiiError("PII ciphertext payload is not valid base64") from exc
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise PiiError("PII ciphertext is truncated")
    try:
        plain = key.cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(key_id))
    except InvalidTag as exc:
        raise PiiError("PII ciphertext failed authentication (tampered or wrong key)") from exc
    return plain.decode("utf-8")


def normalise_for_index(value: str) -> str:
    """Fold full-width digits, case and edge spaces, so '11010119900307123x' written with a
    full-width digit or a lower-case x still finds the same party."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def blind_index(value: str) -> str:
    """A keyed hash (hex) for equality lookups of encrypted values such as ID numbers.

    Keyed, unlike a plain hash, because an 18-digit ID number has so little entropy that an
    unkeyed hash could be reversed by trying every birth date and sequence number.
    """
    if not isinstance(value, str):
        raise TypeError(f"blind_index() takes a str, got {type(value).__name__}")
    message = normalise_for_index(value).encode("utf-8")
    return hmac.new(current_key().index_key, message, hashlib.sha256).hexdigest()
