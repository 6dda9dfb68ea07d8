"""Links made absolute and stripped of per-visit values; Cloudflare's obfuscated emails decoded."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from analysis.volatile import VolatileRules
from crawler.extract.errors import NO_RULES

# Query parameters that identify the visitor, the campaign or the session and
# never the document: they differ between loads and would create versions.
_TRACKING_PARAMS = frozenset({
    "gclid", "gclsrc", "dclid", "fbclid", "msclkid", "yclid", "gbraid", "wbraid", "igshid", "twclid",
    "ttclid", "li_fat_id", "_ga", "_gl", "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "ref_src",
    "ref_url", "s_kwcid", "trk", "trkcampaign", "spm", "scid", "vero_id", "vero_conv", "oly_anon_id",
    "oly_enc_id", "rb_clickid", "wickedid", "_branch_match_id", "ncid", "sr_share", "_kx", "ck_subscriber_id",
    "sid", "sessionid", "session_id", "phpsessid", "jsessionid", "aspsessionid", "cfid", "cftoken",
    "csrf", "csrf_token", "csrftoken", "_csrf", "xsrf", "_xsrf", "authenticity_token", "_token", "token",
    "nonce", "_",
})
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "hsa_", "_hs", "matomo_", "piwik_")
# Cache-busters: harmless on a page link, but only ever noise on a static asset.
_CACHE_BUSTERS = frozenset({"v", "ver", "version", "cb", "cache", "cachebuster", "cachebust", "t", "ts",
                            "timestamp", "rev", "hash", "h", "build", "bust"})
_STATIC_ASSET = re.compile(r"\.(?:css|js|mjs|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|otf|eot|pdf|mp4|webm)$", re.I)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.I)
_SAFE_SCHEMES = ("http", "https")


def clean_url(href: str, base: str, volatile: VolatileRules = NO_RULES) -> str | None:
    """``href`` made absolute against ``base`` and stripped of tracking and per-visit values; None unless http(s)."""
    href = href.strip()
    try:
        parts = urlsplit(urljoin(base, href))
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.netloc:
        return None
    path = _PATH_SESSION.sub("", parts.path)
    query = _clean_query(parts.query, static=bool(_STATIC_ASSET.search(path)), volatile=volatile)
    fragment = "" if parts.fragment.startswith(":~:") or volatile.drops_fragment(parts.fragment) else parts.fragment
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, fragment))


def _clean_query(query: str, *, static: bool, volatile: VolatileRules) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(key, value) for key, value in pairs
            if not _is_noise_param(key.lower(), static) and not volatile.drops_param(key, value)]
    return query if len(kept) == len(pairs) else urlencode(kept)


def _is_noise_param(key: str, static: bool) -> bool:
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES) or (static and key in _CACHE_BUSTERS)


def cloudflare_email(encoded: str) -> str | None:
    """Decode Cloudflare's email obfuscation: hex bytes XOR-ed with the first byte."""
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    return bytes(byte ^ data[0] for byte in data[1:]).decode("utf-8", errors="replace")
