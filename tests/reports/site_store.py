"""A small real store for the site and digest tests: two platforms, two versions of each document.

Versions are recorded through ``Recording.record_text`` (``store.recording``) with the real analysis
pipeline (splitter, change building, dates). The clause classifier is a
keyword model defined here, so the pages under test have provisions of known
types and severities whatever the trained classifier currently decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.pipeline import Analyzer
from analysis.text import normalize_text, sha256_bytes
from store.repository import Store
from tests.fakes import KeywordClassifier

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

# keyword -> (clause type, severity)
KEYWORDS = {
    "arbitration": ("arbitration", "high"),
    "class action": ("class_action_waiver", "high"),
    "terminate": ("unilateral_termination", "medium"),
    "licen": ("user_content_license", "medium"),
    "personal data": ("data_collection", "low"),
    "governed by": ("governing_law", "low"),
    "liable": ("limitation_of_liability", "medium"),
}


def keyword_classifier() -> KeywordClassifier:
    """The shared keyword classifier with this site's keywords."""
    return KeywordClassifier("test-keywords-1", KEYWORDS)


ACME_V1 = """# Acme Cloud Terms of Service

1. You may terminate your account at any time from the settings page.

2. Any dispute will be resolved by arbitration in Delaware.

3. These terms are governed by the laws of Delaware.

4. Acme is not liable for indirect damages.
"""

ACME_V2 = """# Acme Cloud Terms of Service

1. We may terminate your account at any time without notice or reason.

2. Any dispute will be resolved by binding arbitration in Delaware, and you waive any class action.

3. These terms are governed by the laws of Delaware.

4. Acme is not liable for indirect damages.

5. You grant Acme a worldwide licence to your content, including for training our models.
"""

HOSTILE_V1 = """# Hostile Privacy Policy

We collect personal data such as your name <script>window.__pwned = "script";console.log("PWNED")</script>.

Read [our FAQ](javascript:window.__pwned='link') or <img src=x onerror="window.__pwned='onerror'"> the [real help page](https://example.com/help).

This policy is governed by the laws of France.
"""

# Markup, a terminal's escape sequences (set the title, clear the screen) and a right-to-left override.
HOSTILE_V2 = HOSTILE_V1.replace("the laws of France", "the laws of Ireland </textarea><svg onload=alert(1)>"
                                " \x1b]0;PWNED\x07\x1b[2J\u202elivE\u202c")




PLATFORMS = (
    PlatformSpec("acme", "Acme Cloud", (DocumentSpec("acme", "Terms of Service", (SourceSpec("https://acme.test/terms"),)),),
                 homepage="https://acme.test/"),
    PlatformSpec("hostile", "Hostile <b>Corp</b>",
                 (DocumentSpec("hostile", "Privacy Policy", (SourceSpec("https://hostile.test/privacy"),)),)),
)


@dataclass(frozen=True)
class SiteStore:
    store: Store
    acme: str  # document ids
    hostile: str


def record(store: Store, document_id: str, url: str, text: str, when: datetime, analyzer: Analyzer):
    body = f"<html><body><pre>{text}</pre></body></html>".encode()
    snap = Snapshot(sha256_bytes(body), document_id, url, url, 200, "text/html", when, size=len(body))
    return store.recording.record_text(document_id, snapshot=snap, body=body, text=normalize_text(text),
                                       started_at=when, finished_at=when, analyze=analyzer)


def fill(store: Store) -> SiteStore:
    """Two versions of each document, a day apart."""
    analyzer = Analyzer(model=keyword_classifier())
    store.catalog.sync_catalog(PLATFORMS, now=T0)
    acme, hostile = (d.id for d in store.catalog.documents())
    record(store, acme, "https://acme.test/terms", ACME_V1, T0, analyzer)
    record(store, hostile, "https://hostile.test/privacy", HOSTILE_V1, T0, analyzer)
    record(store, acme, "https://acme.test/terms", ACME_V2, T0 + timedelta(days=1), analyzer)
    record(store, hostile, "https://hostile.test/privacy", HOSTILE_V2, T0 + timedelta(days=1), analyzer)
    return SiteStore(store, acme, hostile)
