"""The URLs a request may be sent to: a catalog's URLs are checked when they are read, a redirect's target
before it is sent."""

from __future__ import annotations

import re
from urllib.parse import ParseResult, SplitResult

# A host name's labels once in ASCII (IDNA): letters, digits, hyphens (and underscores, which some hosts have).
_HOST_LABEL = re.compile(r"[a-z0-9_-]{1,63}\Z", re.I)
_HOST_NAME = 253


def host_problem(host: str) -> str | None:
    """Why no request can be sent to ``host`` (a label over 63 characters, a space, a "%"), or None. The crawl met
    such a host, declared or redirected to, only as a traceback while it wrote the request: the document was
    neither checked nor failed, and never alerted on."""
    if ":" in host or re.fullmatch(r"[\d.]+", host):  # an IPv6 literal (urlsplit checked it) or an IPv4 address
        return None
    try:
        name = host.encode("idna").decode("ascii")  # IDNA 2003, Python's
    except UnicodeError:
        try:  # IDNA 2008, Twisted's: it writes some names the older rules refuse
            import idna

            name = idna.encode(host, uts46=True).decode("ascii")
        except UnicodeError:  # idna.IDNAError is one
            return "a label of its host (between dots) is empty, over 63 characters, or not a name IDNA can write"
    labels = name.removesuffix(".").split(".")
    if len(name) > _HOST_NAME or not all(_HOST_LABEL.match(label) for label in labels):
        return "its host is not a name a request can be sent to (letters, digits and hyphens between dots)"
    return None


def url_problem(parts: SplitResult | ParseResult) -> str | None:
    """Why no request should be sent to the http(s) URL of ``parts`` (its host, or a user name or password it
    holds), or None."""
    if "@" in parts.netloc:
        return "it holds a user name or password, which every citation of the document would show"
    return host_problem(parts.hostname or "")
