"""The shell's side of the capture log: the signing key named by the settings, and a signed head after each run."""

from __future__ import annotations

from analysis.evidence import TreeHead
from clausewatch.app import utcnow
from clausewatch.errors import BadInputError
from clausewatch.settings import Settings
from store.capture_log import CaptureLog
from store.repository import Store
from store.signing import LogSigner, SigningKeyError, create_key, load_signer, public_key_path


def log_signer(settings: Settings) -> LogSigner:
    """The key of ``CLAUSEWATCH_LOG_KEY``; missing or readable by others is bad input (exit 2)."""
    try:
        return load_signer(settings.log_key)
    except SigningKeyError as exc:
        raise BadInputError(str(exc)) from None


def ensure_log_key(settings: Settings) -> bool:
    """Make the signing key unless it exists (``init``, ``demo``); True when it was made."""
    return create_key(settings.log_key)


def public_key(settings: Settings) -> bytes:
    """The published half of the signing key."""
    path = public_key_path(settings.log_key)
    if path.is_file():
        return path.read_bytes()
    return log_signer(settings).public_pem


def sign_log(store: Store, signer: LogSigner) -> TreeHead:
    """Sign the capture log's tree head as it stands now (after a crawl run)."""
    return CaptureLog(store).sign_tree_head(signer, utcnow())
