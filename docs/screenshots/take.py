"""Take the screenshots of this folder: index, a document page, a provision record page, the digest, an alert.

Builds a store from the Kling AI seed documents of ``../shared/reference/seeds``
(the Terms of API Paid Service in two versions, the privacy policy in one)
and four CLAUDETTE terms of service (``datasets/claudette``) to compare with,
with the real analysis pipeline, builds the site, and photographs it from
``file://`` in headless Chromium.

    .venv/bin/python docs/screenshots/take.py [--shared ../shared] [--keep DIR] [--emails]

``--emails`` takes only the two emails (digest.png, alert.png), without building the site.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec  # noqa: E402
from analysis.pipeline import Analyzer  # noqa: E402
from analysis.text import normalize_text, sha256_bytes  # noqa: E402
from reports import mail  # noqa: E402
from reports.alerts import alert_renderer  # noqa: E402
from reports.digest import send_weekly_digest  # noqa: E402
from reports.notification import collect, for_subscriber  # noqa: E402
from reports.site import build  # noqa: E402
from reports.subscribers import Subscriber, SubscriberList  # noqa: E402
from store.change_records import list_changes  # noqa: E402
from store.repository import Store  # noqa: E402

T0 = datetime(2026, 4, 30, 7, 26, 2, tzinfo=UTC)
BASE_URL = "https://clausewatch.example/"
API_TERMS_URL = "https://app.klingai.com/global/dev/document-api/protocols/paidServiceProtocol"
EDITS = (  # what "version 2" of the API terms changes
    ("at least 30 days in advance", "at least 7 days in advance"),
    ("IN THE PRECEDING SIX MONTHS", "IN THE PRECEDING ONE MONTH"),
)
ADDED = ("\n\n12. Dispute Resolution\n\nAny dispute arising out of this Agreement shall be finally resolved by binding "
         "arbitration administered by the Singapore International Arbitration Centre. You waive any right to "
         "participate in a class action or class-wide arbitration.\n")


def seed(shared: Path, prefix: str) -> str:
    return next((shared / "reference" / "seeds").glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def record(store: Store, doc, text: str, when: datetime, analyzer: Analyzer) -> None:
    body = text.encode("utf-8")
    snap = Snapshot(sha256_bytes(body), doc.id, doc.url, doc.url, 200, "text/plain", when, size=len(body))
    store.recording.record_text(doc.id, snapshot=snap, body=body, text=normalize_text(text), started_at=when,
                                finished_at=when, analyze=analyzer)


OTHERS = ("Dropbox", "Spotify", "Booking", "Deliveroo")  # CLAUDETTE terms of service, for comparison rows


def claudette_text(shared: Path, name: str) -> str:
    """A CLAUDETTE document without its annotation tags, section markers turned into headings."""
    raw = (shared / "datasets" / "claudette" / "train" / "documents" / f"{name}.xml").read_text(encoding="utf-8")
    text = re.sub(r"</?[a-z]+[0-9]*>", "", raw)
    return re.sub(r"^\* ", "## ", text, flags=re.MULTILINE)


def other_platforms(shared: Path) -> list[tuple[PlatformSpec, str]]:
    return [(PlatformSpec(name.lower(), name, (DocumentSpec(name.lower(), "Terms of Service",
             (SourceSpec(f"https://www.{name.lower()}.com/terms"),)),)), claudette_text(shared, name))
            for name in OTHERS]


def fill(store: Store, shared: Path) -> None:
    kling = PlatformSpec("kling-ai", "Kling AI", (
        DocumentSpec("kling-ai", "Developer Terms", (SourceSpec(API_TERMS_URL),), title="Terms of API Paid Service"),
        DocumentSpec("kling-ai", "Privacy Policy", (SourceSpec("https://app.klingai.com/global/privacy-policy"),)),
    ), homepage="https://app.klingai.com/")
    others = other_platforms(shared)
    store.catalog.sync_catalog([kling, *(spec for spec, _ in others)], now=T0)
    api, privacy, *rest = store.catalog.documents()
    analyzer = Analyzer()
    for doc, (_, text) in zip(rest, others, strict=True):
        record(store, doc, text, T0 - timedelta(days=20), analyzer)
    v1 = seed(shared, "002")
    v2 = v1
    for before, after in EDITS:
        v2 = v2.replace(before, after)
    record(store, api, v1, T0, analyzer)
    record(store, privacy, seed(shared, "004"), T0, analyzer)
    record(store, api, v2 + ADDED, T0 + timedelta(days=5), analyzer)


def site_shots(site: Path) -> dict[str, tuple[Path, str | None]]:
    records = sorted((site / "records").glob("*.html"))
    document = site / "documents" / "CW-D-00001.html"  # the API terms, with two versions
    return {"index.png": (site / "index.html", None), "document.png": (document, None),
            "document-changes.png": (document, "#changes"), "record.png": (_riskiest_record(records), None)}


def shoot(shots: dict[str, tuple[Path, str | None]], out: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        for name, (path, section) in shots.items():
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            if section:
                page.evaluate(f"document.querySelector('{section}').scrollIntoView()")
            page.screenshot(path=str(out / name), full_page=False)
        browser.close()


def _riskiest_record(records: list[Path]) -> Path:
    for path in records:  # Kling AI's arbitration clause, added by version 2
        head = path.read_text(encoding="utf-8").split('id="what-it-is"')[0]
        if "<h1>Arbitration</h1>" in head and "Kling AI" in head:
            return path
    return records[0]


READER = Subscriber("legal@clausewatch.example", name="Legal team")
SENDER = "clausewatch <digest@clausewatch.example>"


def digest_html(store: Store, work: Path) -> Path:
    """The HTML part of the digest of the screenshot store, as a mail client would receive it."""
    report = send_weekly_digest(store, SubscriberList(work, (READER,)), since=T0 - timedelta(days=1),
                                now=T0 + timedelta(days=7), base_url=BASE_URL, sender=SENDER,
                                mailer=mail.DirectoryMailer(work / "mail"))
    message = email.message_from_bytes(report.deliveries[0].path.read_bytes(), policy=email.policy.default)
    path = work / "digest.html"
    path.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
    return path


def alert_html(store: Store, work: Path) -> Path:
    """The HTML part of the alert the screenshot store's changes would send, CSS inlined as sent."""
    content = for_subscriber(collect(list_changes(store, pending_alert=True), [], base_url=BASE_URL), READER)
    _, _, html = alert_renderer(BASE_URL).render(content, READER)
    path = work / "alert.html"
    path.write_text(mail.inline_css(html), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--emails", action="store_true", help="only the digest and the alert")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cw-shots-"))
    store = Store.open(f"sqlite:///{work / 'shots.db'}", work / "objects")
    fill(store, args.shared)
    shots = {"digest.png": (digest_html(store, work), None), "alert.png": (alert_html(store, work), None)}
    if not args.emails:
        build(store, work / "site", base_url=BASE_URL)
        shots.update(site_shots(work / "site"))
    store.close()
    shoot(shots, Path(__file__).resolve().parent)
    print(work)


if __name__ == "__main__":
    main()
