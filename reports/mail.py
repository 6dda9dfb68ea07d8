"""Email: build multipart text + HTML messages, send them over SMTP or write ``.eml`` files.

Shared by the same-day alerts and the weekly digest. The pieces are:

- :func:`build_message` — one ``EmailMessage`` with a plain-text part and an HTML
  part whose CSS is inlined (mail clients drop ``<style>`` blocks), a
  ``List-Unsubscribe`` header and a stable ``Message-ID``;
- a *mailer*: :class:`SmtpMailer` (STARTTLS and login when configured) or
  :class:`DirectoryMailer` (the dry run: one ``.eml`` file per message);
- :func:`deliver` — hands each message to the mailer and isolates failures,
  so one bad address or one SMTP refusal never stops the other recipients.

Rendering is the caller's job: give this module finished text and HTML.
"""

from __future__ import annotations

import errno
import logging
import re
import smtplib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

import css_inline

from reports.terminal import printable
from store.files import write_whole

log = logging.getLogger(__name__)

# Deliberately strict: one local part, one dotted domain, nothing that could
# smuggle a second recipient or a header into the envelope.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")

# Remote stylesheets are never fetched: the HTML is ours, but a link that slipped
# in from crawled text must not make the mailer touch the network.
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


class MailError(Exception):
    """A message could not be built or delivered; the message names the recipient."""


class InvalidAddressError(MailError):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send: filled by the shell from ``settings.smtp_*``."""

    host: str
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = field(default="", repr=False)  # never in a log line or traceback
    timeout: float = 30.0


@dataclass(frozen=True)
class Delivery:
    """What became of one message: sent, written to ``path``, or failed with ``error``."""

    recipient: str
    subject: str
    ok: bool
    error: str | None = None
    path: Path | None = None


def check_address(address: str) -> str:
    """``address`` stripped, or :class:`InvalidAddressError` when it is not a plain mailbox."""
    cleaned = address.strip()
    if not _ADDRESS.match(cleaned):
        raise InvalidAddressError(f"not a valid email address: {address!r}")
    return cleaned


def inline_css(html: str) -> str:
    """The HTML with its ``<style>`` rules moved into ``style`` attributes."""
    return _INLINER.inline(html)


def build_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    recipient_name: str = "",
    list_unsubscribe: str | None = None,
    date: datetime | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
) -> EmailMessage:
    """A ready-to-send message: plain text, plus HTML (CSS inlined) as the preferred alternative.

    ``list_unsubscribe`` is an ``https:``, ``http:`` or ``mailto:`` URL (the subscribers file
    admits no other); the header gets angle brackets added. Raises
    :class:`InvalidAddressError` for a bad recipient.
    """
    address = check_address(recipient)
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = sender
    message["To"] = Address(display_name=_one_line(recipient_name), addr_spec=address)
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    if date is not None:
        message["Date"] = format_datetime(date)
    if list_unsubscribe:
        message["List-Unsubscribe"] = f"<{_one_line(list_unsubscribe)}>"
    for name, value in extra_headers:
        message[name] = _one_line(value)
    message.set_content(text)
    if html is not None:
        message.add_alternative(inline_css(html), subtype="html")
    return message


def _one_line(value: str) -> str:
    # Header values come partly from crawled text and catalog names: no line breaks, ever, and no escape sequence
    # or bidirectional override for a mail client to show.
    return printable(value)


def _domain_of(sender: str) -> str:
    match = re.search(r"@([A-Za-z0-9.-]+)", sender)
    return match.group(1) if match else "clausewatch.localhost"


class Mailer(Protocol):
    """Something that takes a message and delivers it somewhere."""

    def __enter__(self) -> Mailer: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def send(self, message: EmailMessage) -> Path | None: ...


class SmtpUnreachableError(OSError):
    """The SMTP server could not be reached or would not let us in; the message names it and its settings."""


class SmtpMailer:
    """Sends over one SMTP connection, opened lazily and reopened after a drop.

    A server that cannot be reached fails every message of the run with the same
    error, naming the server: it is tried once, not once per recipient (a
    server that is down would cost each of a thousand subscribers its timeout).
    """

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self._unreachable: str | None = None  # why the server could not be used, once it could not

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        if self._unreachable is not None:  # a new error each time: one object re-raised grows its traceback
            raise SmtpUnreachableError(self._unreachable)
        try:
            return self._open()
        except (OSError, smtplib.SMTPException, UnicodeError) as exc:
            if isinstance(exc, smtplib.SMTPAuthenticationError):
                settings = "SMTP_USER, SMTP_PASSWORD"
            elif isinstance(exc, (smtplib.SMTPNotSupportedError, ssl.SSLError)):
                settings = "SMTP_STARTTLS"
            else:
                settings = "SMTP_HOST, SMTP_PORT"
            self._unreachable = (f"the SMTP server {self.config.host}:{self.config.port} could not be used "
                                 f"({settings}): {type(exc).__name__}: {exc}")
            raise SmtpUnreachableError(self._unreachable) from exc

    def _open(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.config.host, self.config.port, timeout=self.config.timeout)
        try:
            smtp.ehlo()
            if self.config.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.config.user:
                smtp.login(self.config.user, self.config.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            # The server may drop an idle connection between recipients: one retry on a fresh one.
            self._smtp = None
            self._smtp = self._connect()
            self._smtp.send_message(message)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


class DirectoryMailer:
    """The dry run: writes each message as ``NNN-<recipient>.eml`` in ``folder``.

    Numbered on from the highest ``NNN-`` already there, so a second dry run
    into the same folder, or a file of someone else's, is never overwritten;
    each file appears whole under its name or not at all (a full disk leaves no
    cut message).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._count = 0

    def __enter__(self) -> DirectoryMailer:
        self.folder.mkdir(parents=True, exist_ok=True)
        numbered = (_MESSAGE_NUMBER.match(path.name) for path in self.folder.iterdir())
        self._count = max((int(match.group(1)) for match in numbered if match), default=0)
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def send(self, message: EmailMessage) -> Path:
        self._count += 1
        recipient = re.sub(r"[^A-Za-z0-9@._-]", "_", message["To"].addresses[0].addr_spec)
        # A file name holds 255 bytes; an address may be longer (a 2000-character local part passed the subscribers'
        # check, then failed every dry run). The number keeps the name unique, the message says the whole address.
        path = self.folder / f"{self._count:03d}-{recipient[:RECIPIENT_IN_NAME]}.eml"
        if not write_whole(path, bytes(message), replace=False):  # never onto a file already there
            raise FileExistsError(errno.EEXIST, "a file of that name is already there", str(path))
        return path


# How much of the recipient's address a dry run's file name shows.
RECIPIENT_IN_NAME = 120
# The number a dry run gives the messages it writes (``NNN-`` at the start of the file's name).
_MESSAGE_NUMBER = re.compile(r"(\d{3,})-.*\.eml")


def deliver(messages: Iterable[EmailMessage], mailer: Mailer) -> list[Delivery]:
    """Send every message; a failure is recorded against its recipient and the rest go on."""
    deliveries: list[Delivery] = []
    with mailer:
        for message in messages:
            deliveries.append(_deliver_one(message, mailer))
    return deliveries


def _deliver_one(message: EmailMessage, mailer: Mailer) -> Delivery:
    recipient, subject = str(message["To"]), str(message["Subject"])
    try:
        path = mailer.send(message)
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        log.warning("could not send %r to %s: %s", subject, recipient, exc)
        error = str(exc) if isinstance(exc, SmtpUnreachableError) else f"{type(exc).__name__}: {exc}"
        return Delivery(recipient, subject, ok=False, error=error)
    return Delivery(recipient, subject, ok=True, path=path)


def unsubscribe_link(own: str | None, sender: str) -> str:
    """The subscriber's own unsubscribe URL, else a ``mailto:`` the sender's address."""
    if own:
        return own
    address = parseaddr(sender)[1] or "unsubscribe@clausewatch.invalid"
    # Short on purpose: a long header value would be folded into RFC 2047 encoded words clients cannot parse.
    return f"mailto:{address}?subject=unsubscribe"
