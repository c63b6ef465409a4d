"""Ed25519 signing of manifests (``cryptography``); keys come from the environment, never from options.

``M365MOVE_SIGNING_KEY``  the private key that signs new bundles: PEM (PKCS#8) text, or the base64 of
                          the raw 32-byte key. Unset: bundles are hashed, not signed.
``M365MOVE_VERIFY_KEY``   the public key ``audit verify`` requires: PEM (SubjectPublicKeyInfo) text, or
                          the base64 of the raw 32 bytes. Unset: the signing key's public half when that
                          is set, else the key the bundle names (a bad signature is still detected, but
                          whoever re-signs with a key of their own is not: set this to close that).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from m365move.errors import InputError

SIGNING_KEY_VARIABLE = "M365MOVE_SIGNING_KEY"
VERIFY_KEY_VARIABLE = "M365MOVE_VERIFY_KEY"
ALGORITHM = "ed25519"


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey

    @property
    def public_key(self) -> str:
        return public_key_text(self.key.public_key())

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.key.sign(data)).decode("ascii")


def signer_from_environment(environ: Mapping[str, str] | None = None) -> Signer | None:
    text = (os.environ if environ is None else environ).get(SIGNING_KEY_VARIABLE, "").strip()
    if not text:
        return None
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError) as error:
            raise InputError(f"not a PEM private key: {error}", where=SIGNING_KEY_VARIABLE) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError(f"an Ed25519 key is needed, got {type(key).__name__}", where=SIGNING_KEY_VARIABLE)
        return Signer(key)
    return Signer(Ed25519PrivateKey.from_private_bytes(_raw_key(text, SIGNING_KEY_VARIABLE)))


def required_public_key(environ: Mapping[str, str] | None = None) -> str | None:
    """The public key (base64 raw) ``M365MOVE_VERIFY_KEY`` requires; None when it is not set."""
    text = (os.environ if environ is None else environ).get(VERIFY_KEY_VARIABLE, "").strip()
    return public_key_text(_load_public_key(text, VERIFY_KEY_VARIABLE)) if text else None


def signature_valid(public_key: str, signature: str, data: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def fingerprint(public_key: str) -> str:
    """A short name for a key to compare by eye: the first 16 hex digits of the SHA-256 of its raw bytes."""
    try:
        return hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]
    except (ValueError, binascii.Error):
        return "(malformed key)"


def _load_public_key(text: str, variable: str) -> Ed25519PublicKey:
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, TypeError) as error:
            raise InputError(f"not a PEM public key: {error}", where=variable) from None
        if not isinstance(key, Ed25519PublicKey):
            raise InputError(f"an Ed25519 key is needed, got {type(key).__name__}", where=variable)
        return key
    return Ed25519PublicKey.from_public_bytes(_raw_key(text, variable))


def _raw_key(text: str, variable: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        raise InputError("expected PEM text or the base64 of a raw 32-byte Ed25519 key", where=variable)
    return raw
