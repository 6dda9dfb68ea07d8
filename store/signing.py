"""The Ed25519 key that signs the capture log's tree heads.

Made once by ``clausewatch init``; the private key is a PKCS#8 PEM file readable
by its owner only (mode 0600) and never leaves HOME. The public key is published
beside the log so anyone can check a tree head without us.
"""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from analysis.evidence import TreeHead
from store.files import write_whole


class SigningKeyError(Exception):
    """The signing key is missing, unreadable, not Ed25519 or readable by others; the message says which."""


@dataclass(frozen=True)
class LogSigner:
    """Signs tree heads with the log's private key."""

    private_key: Ed25519PrivateKey

    @property
    def public_pem(self) -> bytes:
        return public_pem(self.private_key.public_key())

    @property
    def key_id(self) -> str:
        return key_id(self.public_pem)

    def sign(self, head: TreeHead) -> TreeHead:
        return TreeHead(head.size, head.root, head.timestamp_ms, self.private_key.sign(head.signed_bytes()))


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(public_key_pem: bytes) -> str:
    """SHA-256 of the public key's DER encoding (as a CT log id), in hex."""
    key = serialization.load_pem_public_key(public_key_pem)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_key_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def create_key(path: Path) -> bool:
    """Make a new key pair at ``path`` (and ``path.pub``) unless one is there; True when made.

    Each file appears whole under its name or not at all: a full disk left an
    empty key that every later ``init`` kept and nothing could load. A key whose
    public half is missing or empty (an older cut-short ``init``) gets it again.
    """
    if path.exists():
        _restore_public_key(path)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # Written as 0600 from the start: the key is never readable by others, not even for a moment.
    if not write_whole(path, pem, mode=0o600, replace=False, durable=True):  # another `init` made one meanwhile
        return False
    write_whole(public_key_path(path), public_pem(key.public_key()), durable=True)
    return True


def _restore_public_key(path: Path) -> None:
    public = public_key_path(path)
    if public.exists() and public.stat().st_size:
        return
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError):
        return  # not a key this could read: loading it says so, naming it
    if isinstance(key, Ed25519PrivateKey):
        write_whole(public, public_pem(key.public_key()), durable=True)


def load_signer(path: Path) -> LogSigner:
    """The signer of the key at ``path``; a missing, foreign or world-readable key is an error."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SigningKeyError(f"no capture-log signing key at {path}: run `clausewatch init` to make one") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(
            f"capture-log signing key {path} is readable by others (mode {stat.S_IMODE(mode):o}): "
            f"chmod 600 {path}")
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"capture-log signing key {path} cannot be read: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):  # not PEM, or a PEM of something else, or protected by a password
        raise SigningKeyError(f"capture-log signing key {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"capture-log signing key {path} is not an Ed25519 key")
    return LogSigner(key)


def load_public_key(path: Path) -> bytes | None:
    """The PEM of the Ed25519 public key at ``path``, None when there is no such file.

    A file that is there but is no Ed25519 public key is an error, not a key that
    verifies nothing: read as a key, it would make every signed head look forged.
    """
    try:
        pem = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # no file there (a file in place of its folder: the store says)
        return None
    except OSError as exc:
        raise SigningKeyError(f"capture-log public key {path} cannot be read: {exc.strerror}") from None
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise SigningKeyError(f"capture-log public key {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"capture-log public key {path} is not an Ed25519 key")
    return pem


def signature_valid(public_key_pem: bytes, head: TreeHead) -> bool:
    """Whether ``head.signature`` is the public key's signature of the head."""
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except ValueError:
        return False
    if not isinstance(key, Ed25519PublicKey):
        return False
    try:
        key.verify(head.signature, head.signed_bytes())
    except InvalidSignature:
        return False
    return True
