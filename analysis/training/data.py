"""Reading the labelled data sets, laid out as in ``../shared/datasets``, into training examples.

- ``claudette/{train,validation}/sentences.jsonl``: one sentence per line with
  its CLAUDETTE labels (A, CH, CR, J, LAW, LTD, TER, USE);
- ``claudette/{train,validation}/documents/*.xml``: the full documents with
  inline graded tags (``<ltd2>…</ltd2>``: grade 1 fair, 2 potentially unfair,
  3 clearly unfair), which train the severity model;
- ``tosdr/points.jsonl`` (optional): ToS;DR quotes with the case they illustrate,
  mapped to our clause types by ``TOSDR_CASES``;
- ``appsi139/topic/{train,dev,test}.jsonl`` (optional): sentences of app privacy
  policies with their privacy topics, mapped to our types by ``APPSI_TOPICS``;
- ``cuad/clauses.jsonl`` (optional): clause spans of commercial contracts (CUAD v1)
  with their category, mapped to our types by ``CUAD_CATEGORIES``.

Plain Python: nothing here needs scikit-learn.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from analysis.taxonomy import CLAUDETTE_TYPES

# APPSI-139 topic → our clause types. "Usage" is OPP-115's "First Party Collection/Use" half. Left out:
# "Policy Change", because our unilateral_change follows CLAUDETTE (a change the company may make on its
# own, graded for unfairness); "Specific Audiences", which mixes children with Californians and Europeans
# (as age_restriction it fell from 0.93 to 0.67 out-of-fold F1); "Contact Information", "Permission
# Acquisition" (105 noisy sentences) and "Cease Operation" (5), which name no type of ours.
APPSI_TOPICS: dict[str, str] = {
    "First Party Collection": "data_collection",
    "Usage": "data_collection",
    "Third Party Sharing/Disclosure": "data_sharing",
    "Data Retention": "data_retention",
    "Data Security": "data_security",
    "Edit/Control": "user_rights",
}
APPSI_TYPES = frozenset(APPSI_TOPICS.values())
# APPSI-139's "Data Retention" also covers where data is kept ("may be stored on servers outside the country where
# you live", "transferred to the United States"). Our data_retention says how long: a sentence of that topic that
# speaks of other countries and of no period, deletion or keeping is not one (184 of its 855 sentences). Learned as
# retention, they typed transfer clauses data_retention (124 of the latest Open Terms Archive versions' clauses, 0026).
_ABROAD = re.compile(r"\btransfer\w*|\bcountr(?:y|ies)\b|\bjurisdictions?\b|\boutside (?:of )?(?:the|your)\b|"
                     r"\babroad\b|cross[- ]border|\blocated in\b", re.IGNORECASE)
_HOW_LONG = re.compile(r"\b(?:retain\w*|retention|kept|keep\w*|delet\w*|eras\w+|destr\w+|dispos\w+|anonymi[sz]\w*|"
                       r"periods?|as long as|until|days?|months?|years?|durations?|indefinite\w*|backups?|purg\w+|"
                       r"expir\w*|no longer)\b", re.IGNORECASE)
# The sources the APPSI-139 types learn from: its sentences, labelled for every one of them, and the CLAUDETTE
# sentences of terms of service as negatives. The ToS;DR privacy quotes (labelled by case, not by sentence) and
# the other quotes and contract spans as negatives cost grouped-CV F1 on APPSI-139 (0027).
PRIVACY_SOURCES = frozenset({"appsi", "claudette"})
# Sentences of community guidelines (Open Terms Archive texts, unlabelled): rules for what users post, where "share",
# "public" and "information" are about content, not the company's data practices. Negatives of the privacy types.
GUIDELINES_SOURCE = "guidelines"
GUIDELINES_BUNDLE = "pga-versions.bundle"
APPSI_SPLITS = ("train", "dev", "test")
# APPSI-139 ships no policy ids; its sentences come policy by policy, so runs of this many consecutive
# sentences stand in for a policy when folds must keep a group on one side.
APPSI_BLOCK = 100

CLAUDETTE_SPLITS = ("train", "validation")


# ToS;DR case title → our clause types. Quotes of cases not listed (the date of the terms, how
# readable they are…) are left out: they illustrate no clause type of ours.
TOSDR_CASES: dict[str, tuple[str, ...]] = {
    "You waive your right to a class action.": ("class_action_waiver",),
    "This service forces users into binding arbitration in the case of disputes": ("arbitration",),
    "This service does not force users into binding arbitration": ("arbitration",),
    "The court of law governing the terms is in location X": ("jurisdiction",),
    "The court of law governing the terms is in a jurisdiction that is less friendly to user privacy protection.":
        ("jurisdiction",),
    "The court of law governing the terms is in a jurisdiction that is friendlier to user privacy protection.":
        ("jurisdiction",),
    "This service assumes no liability for any losses or damages resulting from any matter relating to the service":
        ("limitation_of_liability",),
    "Any liability on behalf of the service is only limited to the fees you paid as a user":
        ("limitation_of_liability",),
    "This service assumes no liability for unauthorized access to your personal information":
        ("limitation_of_liability",),
    "This service cannot be held responsible for disputes that you may have with other users":
        ("limitation_of_liability",),
    "Users have a reduced time period to take legal action against the service": ("limitation_of_liability",),
    "The service is provided 'as is' and to be used at the users' sole risk": ("warranty_disclaimer",),
    "The service provider makes no warranty regarding uninterrupted, timely, secure or error-free service":
        ("warranty_disclaimer",),
    "The service does not guarantee accuracy or reliability of the information provided": ("warranty_disclaimer",),
    "This service does not guarantee that it or the products obtained through it meet the users' expectations or "
    "requirements": ("warranty_disclaimer",),
    "The service does not guarantee that software errors will be corrected": ("warranty_disclaimer",),
    "This services gives no guarantee regarding quality": ("warranty_disclaimer",),
    "You agree to defend, indemnify, and hold the service harmless in case of a claim related to your use of the "
    "service": ("indemnification",),
    "You are solely responsible for claims made against the service and agree to indemnify and hold harmless the "
    "service.": ("indemnification",),
    "defend, indemnify, hold harmless; survives termination": ("indemnification",),
    "Terms may be changed any time at their discretion, without notice to the user": ("unilateral_change",),
    "The service may change its terms at any time, but the user will receive notification of the changes.":
        ("unilateral_change",),
    "Users should revisit the terms periodically, although in case of material changes, the service will notify":
        ("unilateral_change",),
    "When the service wants to make a material change to its terms, users are notified at least 30 days in advance":
        ("unilateral_change",),
    "When the service wants to change its terms, users are notified a week or more in advance.": ("unilateral_change",),
    "The service makes critical changes to its terms without user involvement": ("unilateral_change",),
    "The service can delete your account without prior notice and without a reason": ("unilateral_termination",),
    "The service can suspend your account for several reasons": ("unilateral_termination",),
    "They may stop providing the service at any time": ("unilateral_termination",),
    "User accounts can be terminated after having been in breach of the terms of service repeatedly":
        ("unilateral_termination",),
    "The service gives 30 days of notice before closing your account": ("unilateral_termination",),
    "The service can delete specific content without reason and may do it without prior notice": ("content_removal",),
    "This service can delete your content if you violate the terms": ("content_removal",),
    "If you are the target of a copyright claim, your content may be removed": ("content_removal",),
    "Service can block or censor user communications": ("content_removal",),
    "The service can distribute your content through any media known now or in the future": ("user_content_license",),
    "This service can use your content for all their existing and future services": ("user_content_license",),
    "This service can license user content to third parties": ("user_content_license",),
    "This service keeps a license on user-generated content even after users close their accounts.":
        ("user_content_license",),
    "The copyright license maintained by the service over user data and/or content is broader than necessary.":
        ("user_content_license",),
    "The service has non-exclusive use of your content": ("user_content_license",),
    "This service retains rights to your content even after you stop using your account": ("user_content_license",),
    "The copyright license that users grant this service is limited to the parties that make up the service's "
    "broader platform.": ("user_content_license",),
    "Copyright license limited for the purposes of that same service but transferable and sublicenseable":
        ("user_content_license",),
    "You maintain ownership of your data": ("user_content_license",),
    "Users agree not to use the service for illegal purposes": ("prohibited_content",),
    "Users agree not to submit libelous, harassing or threatening content": ("prohibited_content",),
    "Prohibits the posting of pornographic content": ("prohibited_content",),
    "This service prohibits users sending chain letters, junk mail, spam or any unsolicited messages":
        ("prohibited_content",),
    "Users agree not to submit illegal content": ("prohibited_content",),
    "Users shall not interfere with another person's enjoyment of the service": ("prohibited_content",),
    "Prohibits the posting of content which promotes or glorifies violence or politically or religiously extremist "
    "values.": ("prohibited_content",),
    "This service prohibits users from attempting to gain unauthorized access to other computer systems":
        ("prohibited_content",),
    "Spidering or crawling is not allowed": ("prohibited_content",),
    "Users cannot scrape the website of the service": ("prohibited_content",),
    "The service has a no refund policy": ("fees_and_refunds",),
    "This service has a no refund policy with some exceptions": ("fees_and_refunds",),
    "Users are entitled to a refund if certain thresholds or standards are not met by the service":
        ("fees_and_refunds",),
    "You authorise the service to charge a credit card supplied on re-occurring basis": ("auto_renewal",),
    "This service is only available to users over a certain age": ("age_restriction",),
    "You are responsible for maintaining the security of your account and for the activities on your account":
        ("account_security",),
    "The service provides two factor authentification for your account": ("account_security",),
    "You cannot distribute or disclose your account to third parties": ("account_security",),
    "The service provides details about what kinds of personal information they collect": ("data_collection",),
    "The service collects many different types of personal data": ("data_collection",),
    "This service gathers information about you through third parties": ("data_collection",),
    "This service collects your IP address for location use": ("data_collection",),
    "This service may collect, use, and share location data": ("data_collection",),
    "The service provides information about how they collect personal data": ("data_collection",),
    "Your biometric data is collected": ("data_collection",),
    "This service does not sell your personal data": ("data_sharing",),
    "The service can sell or otherwise transfer your personal data as part of a bankruptcy proceeding or other type "
    "of financial transaction.": ("data_sharing",),
    "Your personal data is given to third parties": ("data_sharing",),
    "The service does not share user information with third parties": ("data_sharing",),
    "This service reserves the right to disclose your personal information without notifying you": ("data_sharing",),
    "This service can share your personal information to third parties": ("data_sharing",),
    "Only aggregate data is given to third parties": ("data_sharing",),
    "This service only shares user information with third parties when given specific consent": ("data_sharing",),
    "The service will not allow third parties to access your personal information without a legal basis":
        ("data_sharing",),
    "The service uses your personal data to employ targeted third-party advertising": ("data_sharing", "tracking"),
    "You can opt out of promotional communications": ("user_choice",),
    "You can opt out of targeted advertising": ("user_choice",),
    "The service allows you to opt out of providing personal information to third parties": ("user_choice",),
    "You can limit how your information is used by third-parties and the service": ("user_choice",),
    "You can request access and deletion of personal data": ("user_rights",),
    "This service allows you to retrieve an archive of your data": ("user_rights",),
    "You can delete your content from this service": ("user_rights",),
    "This service provides a way for you to export your data": ("user_rights",),
    "This service may keep personal data after a request for erasure for business interests or legal obligations":
        ("data_retention",),
    "The service's data retention period is kept to the minimum necessary for fulfilling its purposes":
        ("data_retention",),
    "User logs are deleted after a finite period of time": ("data_retention",),
    "This service keeps user logs for an undefined period of time": ("data_retention",),
    "This service holds onto content that you've deleted": ("data_retention",),
    "The service may keep a secure, anonymized record of users' data for analytical purposes even after the data "
    "retention period": ("data_retention",),
    "The user is informed about security practices": ("data_security",),
    "The services will notify users if personal data has been affected by data breaches": ("data_security",),
    "User-generated content is encrypted, and this service cannot decrypt it": ("data_security",),
    "The service may use tracking pixels, web beacons, browser fingerprinting, and/or device fingerprinting on "
    "users.": ("tracking",),
    "Blocking first party cookies may limit your ability to use the service": ("tracking",),
    "This service ignores the Do Not Track (DNT) header and tracks users anyway even if they set this header.":
        ("tracking",),
    "This service uses third-party cookies for statistics": ("tracking",),
    "This service requires first-party cookies": ("tracking",),
    "Tracking via third-party cookies for other purposes without your consent.": ("tracking",),
    "This service employs third-party cookies, but with opt-out instructions": ("tracking", "user_choice"),
    "The service provides a complete list of all cookies set by its website": ("tracking",),
    "The service uses social media cookies/pixels": ("tracking",),
    "The cookies used by this service do not contain information that would personally identify you": ("tracking",),
    "This service tracks you on other websites": ("tracking",),
    "This service only uses temporary session cookies": ("tracking",),
    "This service respects your browser's Do Not Track (DNT) headers": ("tracking",),
    "Tracking pixels are used in service-to-user communication": ("tracking",),
    "Your data may be processed and stored anywhere in the world": ("international_transfer",),
}
# ToS;DR cases whose quotes also teach a CLAUDETTE-learned type. CLAUDETTE marks one sentence of each arbitration
# section; terms of the 2020s name the forum and the arbitrator (AAA, JAMS, "individual arbitration") in sentences
# its 40 documents rarely hold, and the quotes of this case come from such terms. Grouped CV by CLAUDETTE document:
# arbitration recall 0.703 → 0.784, precision 0.788 → 0.604 against CLAUDETTE's one-sentence labels (0009, v3).
TOSDR_AUGMENTS: dict[str, tuple[str, ...]] = {
    "This service forces users into binding arbitration in the case of disputes": ("arbitration",),
}

# CUAD v1 category → our clause types. Contracts between businesses read unlike consumer terms, so a category is
# mapped only where it measurably helps (docs/decisions/0023-cuad.md): an irrevocable or perpetual licence is what
# ToS;DR's broad-licence cases quote (out-of-fold F1 on their quotes 0.429 → 0.512, 0.372 → 0.434 with the
# CLAUDETTE sentences as negatives; no other figure moved). Not mapped:
# Governing Law, Cap on Liability and Termination for Convenience (CLAUDETTE marks only the unfair ones; grouped-CV
# F1 fell 0.836 → 0.774, 0.711 → 0.686, 0.733 → 0.710), License Grant (licences the service grants the user:
# five wrong types on the seed terms), Renewal Term and its notice period (contract renewals: the learned type
# found none of the hand-checked subscription renewals).
CUAD_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Irrevocable or Perpetual License": ("user_content_license",),
}
CUAD_TYPES = frozenset(t for types in CUAD_CATEGORIES.values() for t in types)


@dataclass(frozen=True)
class Example:
    """One training text with its clause types and the group (company, service) it comes from."""

    text: str
    types: frozenset[str]
    group: str
    source: str
    # CLAUDETTE-learned types this example is a positive of although it is no CLAUDETTE sentence (TOSDR_AUGMENTS).
    augments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GradedSpan:
    """A tagged span of a CLAUDETTE document: the clause type and the experts' grade."""

    text: str
    type: str
    grade: int
    document: str



class TrainingDataError(Exception):
    """The training data is missing or malformed; the message names the file and line."""



# --- reading the data ---------------------------------------------------------


def jsonl_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """``(line, object)`` for every non-blank line of a JSON-lines file, numbered as an editor numbers them; a line
    that is not UTF-8, not JSON or not an object is a :class:`TrainingDataError` naming the file and line."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TrainingDataError(f"{path}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                                        f"{exc.start + 1})") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TrainingDataError(f"{path}:{number}: not JSON: {exc.msg}") from None
            except RecursionError:
                raise TrainingDataError(f"{path}:{number}: not JSON this reads (nested too deeply)") from None
            if not isinstance(row, dict):
                raise TrainingDataError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
            yield number, row


def read_jsonl(path: Path) -> list[dict]:
    """Every line of a JSON-lines file as a dict; errors name the file and line (:func:`jsonl_rows`)."""
    return [row for _, row in jsonl_rows(path)]


@contextmanager
def row_at(path: Path, number: int) -> Iterator[None]:
    """A row read into an example: a field missing or of the wrong kind names the file and line, not a traceback."""
    try:
        yield
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        what = f"field {exc}" if isinstance(exc, KeyError) else f"({exc})"
        raise TrainingDataError(f"{path}:{number}: missing or malformed {what}") from None


def claudette_sentences(split_dir: Path) -> list[Example]:
    """The sentences of one CLAUDETTE split, labelled with our type ids."""
    path = split_dir / "sentences.jsonl"
    if not path.is_file():
        raise TrainingDataError(f"{path}: missing (expected CLAUDETTE sentences, one JSON object a line)")
    examples = []
    for number, row in jsonl_rows(path):
        with row_at(path, number):
            types = frozenset(_claudette_type(label) for label in _strings(row["labels"]))
            examples.append(Example(_string(row["text"]), types, f"claudette:{_string(row['company'])}", "claudette"))
    return examples


def _claudette_type(label: str) -> str:
    if label not in CLAUDETTE_TYPES:
        raise ValueError(f"unknown CLAUDETTE label {label!r}")
    return CLAUDETTE_TYPES[label]


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list of strings, got {type(value).__name__}")
    return [_string(item) for item in value]


_TAG = re.compile(r"<(/?)([a-z]+)(\d)>")
_MARKUP = re.compile(r"<[^>]+>")


def graded_spans(documents_dir: Path) -> list[GradedSpan]:
    """Every graded tag of every CLAUDETTE document (tags may overlap, so they are matched by name)."""
    spans = []
    for path in sorted(documents_dir.glob("*.xml")):
        text = path.read_text(encoding="utf-8")
        open_at: dict[tuple[str, str], int] = {}
        for match in _TAG.finditer(text):
            closing, name, grade = match.groups()
            key = (name, grade)
            if not closing:
                open_at[key] = match.end()
            elif key in open_at and name.upper() in CLAUDETTE_TYPES:
                body = " ".join(_TAG.sub(" ", text[open_at.pop(key) : match.start()]).split())
                spans.append(GradedSpan(body, CLAUDETTE_TYPES[name.upper()], int(grade), path.stem))
    return spans


def tosdr_points(path: Path) -> list[Example]:
    """Moderated, relevant ToS;DR quotes whose case maps to our types, grouped by service."""
    examples = []
    for number, row in jsonl_rows(path):
        with row_at(path, number):
            types = TOSDR_CASES.get(_string(row.get("case", "")))
            if not types or row.get("needs_moderation") or row.get("irrelevant") or not row.get("quote"):
                continue
            text = " ".join(html.unescape(_MARKUP.sub(" ", _string(row["quote"]))).split())
            service = ",".join(sorted(_strings(row.get("services") or ["?"])))
            augments = frozenset(TOSDR_AUGMENTS.get(row["case"], ()))
            examples.append(Example(text, frozenset(types), f"tosdr:{service}", "tosdr", augments))
    return sorted(examples, key=lambda e: (e.group, e.text, sorted(e.types)))


def appsi_topics(path: Path, split: str) -> list[Example]:
    """The sentences of one APPSI-139 topic split, labelled with our types, grouped by runs of sentences."""
    examples = []
    for index, (number, row) in enumerate(jsonl_rows(path)):
        with row_at(path, number):
            text = _string(row["text"])
            types = frozenset(APPSI_TOPICS[label] for label in _strings(row["labels"]) if label in APPSI_TOPICS)
            if "data_retention" in types and _ABROAD.search(text) and not _HOW_LONG.search(text):
                types -= {"data_retention"}
            examples.append(Example(text, types, f"appsi:{split}:{index // APPSI_BLOCK}", "appsi"))
    return examples


def cuad_clauses(path: Path, categories: dict[str, tuple[str, ...]] = CUAD_CATEGORIES) -> list[Example]:
    """The CUAD spans whose category maps to our types, grouped by contract.

    A span annotated under several categories is one example with every type they map to. CUAD labels
    a contract's clauses by topic, not by fairness, so for a CLAUDETTE-learned type a span is an augment
    (a positive next to the CLAUDETTE sentences), never a CLAUDETTE sentence.
    """
    types_of: dict[tuple[str, str], set[str]] = {}
    for number, row in jsonl_rows(path):
        with row_at(path, number):
            text = " ".join(_string(row["text"]).split())
            types_of.setdefault((_string(row["contract"]), text), set()).update(
                categories.get(_string(row["category"]), ()))
    claudette_types = set(CLAUDETTE_TYPES.values())
    return [Example(text, frozenset(types), f"cuad:{contract}", "cuad", frozenset(types & claudette_types))
            for (contract, text), types in sorted(types_of.items()) if types]


# --- everything labelled ------------------------------------------------------------


DATA_NOTE = {
    "claudette": "CLAUDETTE train and validation splits (Lippi et al. 2019, CC BY 4.0 via LexGLUE)",
    "tosdr": "ToS;DR points (CC BY-SA 3.0)",
    "appsi": "APPSI-139 topic splits train, dev and test (arXiv 2604.27550, CC BY 4.0)",
    "cuad": "CUAD v1 clause spans of commercial contracts (The Atticus Project, CC BY 4.0)",
    GUIDELINES_SOURCE: "sentences of the community guidelines in Open Terms Archive's pga-versions bundle, unlabelled, "
                       "as negatives of the privacy types",
}


@dataclass(frozen=True)
class TrainingData:
    """Everything a model learns from: labelled texts and the graded spans of the severity model."""

    examples: list[Example]
    spans: list[GradedSpan]


def guideline_sentences(bundle: Path) -> list[Example]:
    """The sentences of the latest community guidelines of every service of an Open Terms Archive versions bundle,
    split as the pipeline splits a document (grouped by service)."""
    from analysis.classifier import sentences_of
    from analysis.splitter import split_clauses
    from analysis.text import normalize_text

    with tempfile.TemporaryDirectory(prefix="guidelines-") as folder:
        cloned = subprocess.run(["git", "clone", "-q", str(bundle), folder], capture_output=True, text=True)
        if cloned.returncode != 0:
            reason = (cloned.stderr.strip().splitlines() or ["git failed"])[0]
            raise TrainingDataError(f"{bundle}: not a git bundle git can clone ({reason[:200]})")
        if not any(path.name != ".git" for path in Path(folder).iterdir()):
            # git clones a bundle without HEAD and checks nothing out, with exit status 0.
            raise TrainingDataError(f"{bundle}: the bundle checks out no files (made without HEAD?)")
        return [Example(sentence, frozenset(), f"guidelines:{path.parent.name}", GUIDELINES_SOURCE)
                for path in sorted(Path(folder).glob("*/Community Guidelines.md"))
                for clause in split_clauses(normalize_text(path.read_text(encoding="utf-8")))
                for sentence in sentences_of(clause.text) or [clause.text]]


def training_examples(data_dir: Path, use_tosdr: bool = True, use_appsi: bool = True, use_cuad: bool = True,
                      use_guidelines: bool = True) -> list[Example]:
    """CLAUDETTE sentences of every split present, then (when present) ToS;DR quotes, APPSI-139 sentences, the
    CUAD spans of the mapped categories and the community guidelines' sentences."""
    examples = []
    for split in CLAUDETTE_SPLITS:
        if split == "train" or (data_dir / "claudette" / split / "sentences.jsonl").is_file():
            examples += claudette_sentences(data_dir / "claudette" / split)
    points = data_dir / "tosdr" / "points.jsonl"
    if use_tosdr and points.is_file():
        examples += tosdr_points(points)
    for split in APPSI_SPLITS if use_appsi else ():
        path = data_dir / "appsi139" / "topic" / f"{split}.jsonl"
        if path.is_file():
            examples += appsi_topics(path, split)
    clauses = data_dir / "cuad" / "clauses.jsonl"
    if use_cuad and clauses.is_file():
        examples += cuad_clauses(clauses)
    bundle = data_dir / "ota" / GUIDELINES_BUNDLE
    if use_guidelines and bundle.is_file():
        examples += guideline_sentences(bundle)
    return examples


def training_spans(data_dir: Path) -> list[GradedSpan]:
    """The graded spans of the CLAUDETTE documents of every split present."""
    return [span for split in CLAUDETTE_SPLITS for span in graded_spans(data_dir / "claudette" / split / "documents")]


def read_training_data(data_dir: Path, use_tosdr: bool = True, use_appsi: bool = True, use_cuad: bool = True,
                       use_guidelines: bool = True) -> TrainingData:
    return TrainingData(training_examples(data_dir, use_tosdr, use_appsi, use_cuad, use_guidelines),
                        training_spans(data_dir))

