"""The shell's side of the capture log: the signing key named by the settings, and a signed head after each run."""

from __future__ import annotations

from analysis.evidence import TreeHead
from clausewatch.app import utcnow
from clausewatch.errors import BadInputError
from clausewatch.settings import Settings
from store.repository import Store
from store.signing import LogSigner, SigningKeyError, create_key, load_public_key, load_signer, public_key_path

# The setting a key problem names; the public key is the file beside it (PATH.pub).
LOG_KEY_SETTING = "LOG_KEY, CLAUSEWATCH_LOG_KEY"


def log_signer(settings: Settings) -> LogSigner:
    """The key of ``CLAUSEWATCH_LOG_KEY``; missing, not a key or readable by others is bad input (exit 2)."""
    try:
        return load_signer(settings.log_key)
    except SigningKeyError as exc:
        raise BadInputError(f"{exc} ({LOG_KEY_SETTING})") from None


def ensure_log_key(settings: Settings, store: Store | None = None) -> bool:
    """Make the signing key unless it exists (``init``, ``demo``); True when it was made.

    Not when ``store``'s capture log already holds signed tree heads: they were signed
    with another key (moved, or LOG_KEY mistyped), and a new one would make `verify`
    call every one of them forged.
    """
    if store is not None and not settings.log_key.exists() and _signed_heads(store):
        raise BadInputError(f"no signing key at {settings.log_key}, but the capture log was signed with another "
                            f"key: point LOG_KEY at that key; no new key was made ({LOG_KEY_SETTING})")
    return create_key(settings.log_key)


def _signed_heads(store: Store) -> bool:
    from store.capture_log import CaptureLog  # only init asks

    return CaptureLog(store).latest_tree_head() is not None


def published_key(settings: Settings) -> bytes | None:
    """The public key beside the signing key (``PATH.pub``), None when there is none.

    A file there that is no Ed25519 public key is bad input (exit 2) naming it and
    the setting: it is a broken file, not evidence that every signed head is forged.
    """
    try:
        return load_public_key(public_key_path(settings.log_key))
    except SigningKeyError as exc:
        raise BadInputError(f"{exc} (the .pub beside {LOG_KEY_SETTING})") from None


def public_key(settings: Settings) -> bytes:
    """The published half of the signing key: the ``.pub`` file, else derived from the private key."""
    return published_key(settings) or log_signer(settings).public_pem


def sign_log(store: Store, signer: LogSigner) -> TreeHead:
    """Sign the capture log's tree head as it stands now (after a crawl run); a clock behind the last signed head
    is bad input (nothing signed: what was recorded is kept, and a signing with the clock right covers it)."""
    from store.capture_log import CaptureLog, ClockBehindError  # only signing needs it: reading commands use the key

    try:
        return CaptureLog(store).sign_tree_head(signer, utcnow())
    except ClockBehindError as exc:
        raise BadInputError(f"{exc}; the capture log was not signed (what was recorded is kept: the next signing "
                            "covers it)") from None


def check_clock(store: Store) -> None:
    """Before recording captures: a clock behind the latest time the capture log states is bad input.

    Captures stamped before the ones already logged would put versions out of
    order ("in force from" before their predecessor), leave changes out of a
    digest period that had already ended, and sign a head that ``verify``
    reads as forged for good.
    """
    from store.capture_log import CaptureLog, clock_behind

    now, logged = utcnow(), CaptureLog(store).latest_time()
    if logged is not None and now < logged:
        raise BadInputError(f"{clock_behind(now, logged)}; nothing was crawled")
