"""Stand-ins shared by the tests, written once: a keyword classifier instead of the trained model, and the whole
alternation of a set of curated phrases instead of their screened search (the reference it is compared with).

A fake that a test module needs alone stays in that module; one needed by two
or more lives here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from analysis.domain import Classification

_RANK = {"low": 0, "medium": 1, "high": 2}

# Unilateral termination and the governing law, the clauses most change tests follow.
TERMINATION_KEYWORDS = {
    "terminate": ("unilateral_termination", "high"),
    "suspend": ("unilateral_termination", "medium"),
    "law": ("choice_of_law", "low"),
}


class KeywordClassifier:
    """A deterministic stand-in for the trained classifier: each keyword found gives a type and a severity.

    ``keywords`` maps a lowercase keyword to ``(clause type, severity)``. A clause
    gets the types of every keyword it contains (in the mapping's order) and the
    highest of their severities; a clause with none gets no type.
    """

    def __init__(self, analyzer_id: str = "keywords-test",
                 keywords: Mapping[str, tuple[str, str]] = TERMINATION_KEYWORDS) -> None:
        self.analyzer_id = analyzer_id
        self.keywords = dict(keywords)

    def classify(self, texts: Sequence[str], privacy_policy: bool = False) -> list[Classification]:
        return [self.classify_one(text) for text in texts]

    def classify_one(self, text: str) -> Classification:
        lowered = text.lower()
        hits = [(keyword, kind, severity) for keyword, (kind, severity) in self.keywords.items() if keyword in lowered]
        if not hits:
            return Classification(types=(), severity="low", confidence=0.0, reason="no keyword")
        return Classification(
            types=tuple(dict.fromkeys(kind for _, kind, _ in hits)),
            severity=max((severity for _, _, severity in hits), key=_RANK.__getitem__),
            confidence=0.9, evidence=tuple(keyword for keyword, _, _ in hits), basis="explicit",
            reason=f"the clause mentions {', '.join(keyword for keyword, _, _ in hits)}",
        )


def record_fetched_text(store, document_id: str, text: str, at, *, analyze=None, url: str = "https://x.example/tos",
                        **kwargs):
    """Record ``text`` as if a plain-text page at ``url`` had served it at ``at`` (no HTTP involved),
    analysed by the keyword classifier unless ``analyze`` says otherwise."""
    from analysis.domain import Snapshot
    from analysis.pipeline import Analyzer
    from analysis.text import sha256_bytes

    body = text.encode()
    snapshot = Snapshot(sha256_bytes(body), document_id, url, url, 200, "text/plain", at, size=len(body))
    return store.recording.record_text(document_id, snapshot=snapshot, body=body, text=text, started_at=at,
                                       finished_at=at, analyze=analyze or Analyzer(KeywordClassifier()), **kwargs)


def whole_alternation(phrases) -> re.Pattern[str] | None:
    """The alternation of every phrase of ``phrases`` (``analysis.taxonomy.Phrases``), compiled whole, its spaces
    matching any whitespace: what ``Phrases.find`` must find, whichever phrases it tries on a text."""
    from analysis.literals import compile_looking_ahead

    if not phrases.patterns:
        return None
    spaced = (p.replace(" ", r"\s+") for p in phrases.patterns)
    return compile_looking_ahead("|".join(f"(?:{p})" for p in spaced), re.IGNORECASE)


def signalled_while_crochet_registers(signal_name: str) -> str:
    """A script running ``clausewatch`` (its arguments are the script's) that sends itself ``signal_name`` while its
    main thread holds crochet's registry lock (a threading.Lock, not reentrant): the first call into the reactor
    registers its result under that lock, and the signal's handler runs in that same thread."""
    return f"""
import os, signal, sys, weakref
from crochet import _eventloop
from clausewatch.cli import main

class SignalledOnFirstAdd(weakref.WeakSet):
    signalled = False

    def add(self, item):
        if not SignalledOnFirstAdd.signalled:
            SignalledOnFirstAdd.signalled = True
            os.kill(os.getpid(), signal.{signal_name})  # its handler runs here, the registry's lock held
        super().add(item)

made = _eventloop.ResultRegistry.__init__
def signalling(self):
    made(self)
    self._results = SignalledOnFirstAdd()
_eventloop.ResultRegistry.__init__ = signalling
sys.exit(main(sys.argv[1:]))
"""
