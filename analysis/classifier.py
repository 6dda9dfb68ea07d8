"""Clause classification: clause types, severity, confidence, evidence and basis (SPEC §5).

The shipped model (``analysis/model/``) is a linear one-vs-rest classifier over
TF-IDF word n-grams, stored as inspectable files, never pickles:

- ``model.json``: the labels, per-label thresholds and calibration, the
  severity model's labels, the feature settings and where the model came from;
- ``vocabulary.json``: the n-grams, in feature order;
- ``weights.npz``: the arrays (idf, weights, biases), read with
  ``numpy.load(allow_pickle=False)``.

Inference is plain numpy, so it runs on any CPU with no download. Types no
public data set covers come from the curated phrases of ``analysis.taxonomy``,
which also supply the evidence for every type they match; the training code
(``analysis/training/``) writes the files and shares ``ngrams`` and
``tfidf_rows`` with this module so training and inference see the same features.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Protocol

import numpy as np

from analysis.domain import SEVERITIES, Classification
from analysis.literals import Screened
from analysis.taxonomy import BY_ID, TYPE_IDS, ClauseType, phrase_filters

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILES = ("model.json", "vocabulary.json", "weights.npz")
FORMAT = 2
# Bump when the way findings become a classification changes (it is part of analyzer_id).
LOGIC_VERSION = 10

# A curated phrase is precise but its precision is measured nowhere: a type found
# only through one is reported with this confidence, below any learned "sure".
PATTERN_CONFIDENCE = 0.8
# Learned types whose curated phrases are unambiguous ("indemnify", "non-refundable", "keep your password
# confidential", "you must not … engage in the following"): the phrase alone decides, as for the pattern-only
# types. Their data sets (ToS;DR cases) cover a few narrow cases each, so the learned model missed plain clauses
# of the seed policies (a fee schedule, a translated indemnity); the phrases are measured on hand-checked clauses
# (benchmarks/classify.py).
# Arbitration joins them for its operative phrases alone (``ClauseType.decides``: "binding arbitration", "administered
# by NAM"), which newer terms use in sentences the CLAUDETTE-trained model scores below its threshold.
PHRASE_DECIDES = frozenset({"indemnification", "fees_and_refunds", "account_security", "prohibited_content",
                            "arbitration", "warranty_disclaimer"})
# A clause that states what is done with information names payments and billing as data or purposes ("we use
# information to process refunds", "payment vendors"): there, fees and refunds yields to a privacy practice
# found in the same clause, whatever the probabilities (fees' calibration, from 40 ToS;DR quotes, puts a margin
# just above its threshold at 1.00, so probabilities cannot be weighed against each other).
PRIVACY_PRACTICES = frozenset({"data_collection", "data_sharing", "data_retention", "data_security", "user_rights",
                               "tracking", "do_not_track"})
YIELDS_TO_PRIVACY = "fees_and_refunds"
# Likewise a warranty disclaimer the model infers without any disclaiming phrase: a list of purposes ("improve
# reliability", "detect downtime") reads like the quality promises a disclaimer withholds.
INFERRED_YIELDS_TO_PRIVACY = "warranty_disclaimer"
# The privacy types read whole sentences: a ";" inside a sentence does not split it for them (APPSI-139's lawyers
# labelled whole sentences; grouped CV on its train + dev, macro-F1 0.771 with the parts, 0.777 without, 0027).
WHOLE_SENTENCE_LABELS = frozenset({"data_collection", "data_sharing", "data_retention", "data_security",
                                   "user_rights"})
# Evidence phrases shown per type: enough to cite, few enough to read; drawn from the
# n-grams that weigh most, of which neighbours are joined into one phrase.
EVIDENCE_PER_TYPE = 3
EVIDENCE_CANDIDATES = 8
# The margin of a gated label where its gate does not match: far below any threshold, and small
# enough that the calibration's sigmoid never overflows.
GATED_OUT = -20.0

_WORD = re.compile(r"\w+")
# A sentence ends at . ! ? or ; followed by space ("; and" lists read as separate provisions), or at a line break:
# ``(?<=[.!?;])\s+|\n+``, written to open with the whitespace both kinds of break open with, so that ``re`` skips to
# the next whitespace at C speed instead of trying both branches at every character (the same breaks; a test
# compares the two).
_SENTENCE_BREAK = re.compile(r"\s(?:(?<=[.!?;]\s)\s*|(?<=\n)\n*)")
# The same breaks, kept by ``split`` (to tell a ";" inside a sentence from a sentence's end).
_SENTENCE_BREAKS_KEPT = re.compile(f"({_SENTENCE_BREAK.pattern})")
# Shorter fragments ("1.", "See below.", "2026/03/16") carry no clause on their own.
MIN_SENTENCE_WORDS = 3
# An item of a list: a line that opens with a bullet or a short enumerator ("•", "-", "*", "1.", "(a)", "iv)"; "1."
# may stand alone, as a sentence break cut it off its text). After a line whose last sentence ends with ":" ("You may
# have rights to:"), such a line completes that lead-in and is read with it ("… rights to: Export data where
# applicable" is a right, not a collection of data), up to the next line that is no item.
_LIST_ITEM = re.compile(r"\s*(?:[•·▪◦‣●○■□*+\-–—]|\(?(?:\d{1,3}|[a-z]|[ivx]{2,5})[.)])(?:\s|$)", re.IGNORECASE)
# What may close a lead-in after its ":" in Markdown ("**We may collect:**").
_EMPHASIS = " \t*_"
# A section title the splitter left as a clause of its own ("10\\. Disclaimers And Limitation Of Liability",
# "**12.4 Your Indemnification Obligations**", "**Prohibited Uses**"): one short line without punctuation, numbered, or
# in bold and Title Case (a bold sentence in lower case is a provision stressed).
_NUMBERED_HEADING = re.compile(r"(?:\*\*|__)?(?:\d{1,3}[A-Z]?(?:\\?\.\d{1,3})*\\?\.?|[a-z]\.)\s+(?:\*\*|__)?"
                               r"[^\n.;:!?]{1,80}[^\W_](?:\*\*|__)?")
_BOLD_HEADING = re.compile(r"(?:\*\*|__)[^\n.;:!?]{1,80}[^\W_](?:\*\*|__)")
_LETTERS = re.compile(r"[^\W\d_]+")
HEADING_MAX_WORDS = 10
# Words that make a short line a sentence rather than a title: a modal, a form of "to be", the verbs of consent
# ("We May Sell Your Data", "4. All disputes will be resolved by arbitration", "2. You waive any right…"), and
# "you" unless a preposition governs it ("Information Collected From You" is a title). "We" is left out: "How We
# Use Your Information" is a title.
SENTENCE_WORDS = frozenset({"may", "must", "will", "shall", "can", "cannot", "might", "would", "should", "could",
                            "is", "are", "be", "agree", "agrees", "waive", "waives"})
_GOVERNS_YOU = frozenset({"from", "to", "with", "for", "about", "by", "of"})
# Short words a Title Case heading leaves in lower case ("of", "and", "the").
TITLE_CASE_MIN_LETTERS = 4


class ModelError(Exception):
    """The model files are missing, malformed, or of another format."""


def words(text: str) -> list[str]:
    """Lower-cased word tokens; punctuation and spacing never matter."""
    return _WORD.findall(text.lower())


def ngrams(text: str, sizes: Sequence[int] = (1, 2)) -> list[str]:
    """The word n-grams of ``text`` that the model's features are made of."""
    return _grams(words(text), sizes)


def _grams(tokens: list[str], sizes: Sequence[int]) -> list[str]:
    grams: list[str] = []
    for n in sizes:
        # Each n-gram joins n shifted copies of the tokens, zipped: no slice per position.
        grams.extend(tokens if n == 1 else map(" ".join, zip(*(tokens[k:] for k in range(n)))))
    return grams


@dataclass(frozen=True)
class SparseRows:
    """Rows of a sparse matrix in CSR form (what scipy calls indptr, indices, data)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """``rows @ weights`` for a dense ``(features, k)`` matrix, with numpy alone."""
        out = np.zeros((len(self.indptr) - 1, weights.shape[1]), dtype=np.float64)
        if len(self.indices):
            # ``np.take`` gathers whole rows several times faster than indexing ``weights[self.indices]`` (the same
            # array: the products, and so their sums, are unchanged to the bit).
            products = np.take(weights, self.indices, axis=0) * self.data[:, None]
            # Sums over each row's segment; an empty row has no segment (reduceat would repeat its neighbour).
            filled = np.diff(self.indptr) > 0
            out[filled] = np.add.reduceat(products, self.indptr[:-1][filled], axis=0)
        return out


@dataclass(frozen=True)
class TermCounts:
    """How often each known n-gram occurs in each text: rows and term indices sorted, as CSR wants them."""

    texts: int
    rows: np.ndarray
    terms: np.ndarray
    counts: np.ndarray


def term_counts(texts: Iterable[str], vocabulary: dict[str, int], sizes: Sequence[int]) -> TermCounts:
    """The known n-grams of each text, counted (the costly part of the features, done once for every space)."""
    return count_terms([known_terms(ngrams(text, sizes), vocabulary) for text in texts], len(vocabulary))


def known_terms(grams: Iterable[str], vocabulary: dict[str, int]) -> list[int]:
    """The vocabulary indices of the n-grams that are features, with repeats."""
    return [i for i in map(vocabulary.get, grams) if i is not None]


def count_terms(known: Sequence[list[int]], vocabulary_size: int) -> TermCounts:
    """Term frequencies per row, from each row's known terms."""
    rows: list[int] = []
    for row, terms in enumerate(known):
        rows.extend([row] * len(terms))
    found = [i for terms in known for i in terms]
    # One (row, term) key per occurrence; counting the unique keys gives each row's term frequencies.
    size = max(vocabulary_size, 1)
    keys, counts = np.unique(np.asarray(rows, np.int64) * size + np.asarray(found, np.int64), return_counts=True)
    row_of, terms = np.divmod(keys, size)
    return TermCounts(len(known), row_of, terms, counts)


def tfidf_from_counts(counts: TermCounts, idf: np.ndarray) -> SparseRows:
    """Sublinear TF-IDF rows, L2-normalised; a term whose idf is 0 is no feature (left out)."""
    keep = idf[counts.terms] > 0
    row_of, terms = counts.rows[keep], counts.terms[keep]
    values = (1.0 + np.log(counts.counts[keep])) * idf[terms]
    norms = np.sqrt(np.bincount(row_of, weights=values * values, minlength=counts.texts))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=counts.texts))]).astype(np.int64)
    return SparseRows(indptr, terms.astype(np.int64), (values / norms[row_of]).astype(np.float64))


def tfidf_rows(texts: Iterable[str], vocabulary: dict[str, int], idf: np.ndarray, sizes: Sequence[int]) -> SparseRows:
    """Sublinear TF-IDF rows, L2-normalised, over the known n-grams of each text."""
    return tfidf_from_counts(term_counts(texts, vocabulary, sizes), idf)


class TermIndex:
    """The vocabulary's n-grams keyed by word ids, to count a batch's known n-grams in numpy.

    Joining each window of tokens into a string and hashing it, as ``term_counts`` does, is most of what features
    cost; here each token is looked up once, each window of ``n`` word ids becomes one integer (the ids as digits
    in base ``base``) and all windows are found at once among the vocabulary's sorted keys. The counts are those
    of ``term_counts``, which training uses.
    """

    def __init__(self, vocabulary: dict[str, int], sizes: Sequence[int]):
        self.sizes = tuple(sizes)
        self.vocabulary_size = len(vocabulary)
        terms = list(vocabulary)
        features = np.fromiter(vocabulary.values(), np.int64, len(terms))
        spaces = np.fromiter(map(str.count, terms, repeat(" ")), np.int64, len(terms))
        # Each size's n-grams as one list of words, n by n (a part left empty by a doubled space is a word no
        # token equals: such a term is never found, as by its joined string).
        grams = {n: np.flatnonzero(spaces == n - 1) for n in self.sizes}
        words = {n: " ".join([terms[i] for i in chosen]).split(" ") if len(chosen) else []
                 for n, chosen in grams.items()}
        self.word_ids = {word: i for i, word in enumerate(dict.fromkeys(w for n in self.sizes for w in words[n]))}
        self.base = max(len(self.word_ids), 1)
        if self.base ** max(self.sizes, default=1) >= 2**63:
            raise ModelError(f"{self.base} words in {max(self.sizes)}-grams do not fit the 64-bit n-gram keys")
        self.tables = {n: self._table(n, words[n], features[grams[n]]) for n in self.sizes}
        # A one-word n-gram's key is its word id: its feature is read off a table indexed by word id (-1: none),
        # ~25 times faster than a binary search.
        self.unigrams = np.full(self.base, -1, np.int64)
        if 1 in self.tables:
            self.unigrams[self.tables[1][0]] = self.tables[1][1]

    def _table(self, n: int, words: list[str], features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The keys of the n-grams of one size, sorted, and the feature index of each."""
        ids = np.fromiter(map(self.word_ids.__getitem__, words), np.int64, len(words)).reshape(-1, n)
        keys = np.zeros(len(ids), np.int64)
        for k in range(n):
            keys = keys * self.base + ids[:, k]
        order = np.argsort(keys)
        return keys[order], features[order]

    def windows(self, tokens: list[str]) -> dict[int, np.ndarray]:
        """Per n-gram size, the feature index of the n-gram starting at each token (-1 where none is known)."""
        ids = np.fromiter(map(self.word_ids.get, tokens, repeat(-1)), np.int64, len(tokens))
        return {n: self._window_terms(ids, n) for n in self.sizes}

    def _window_terms(self, ids: np.ndarray, n: int) -> np.ndarray:
        count = len(ids) - n + 1
        table, features = self.tables[n]
        if count <= 0 or not len(table):
            return np.full(max(count, 0), -1, np.int64)
        if n == 1:
            return np.where(ids >= 0, self.unigrams[ids], -1)
        keys, known = np.zeros(count, np.int64), np.ones(count, bool)
        for k in range(n):
            window = ids[k : k + count]
            keys = keys * self.base + window
            known &= window >= 0
        # Only windows of known words are looked for, in the order of their keys: numpy's binary search then starts
        # where the previous key's ended (about twice as fast as the windows in text order).
        order = np.flatnonzero(known)
        order = order[np.argsort(keys[order])]
        wanted = keys[order]
        at = np.minimum(np.searchsorted(table, wanted), len(table) - 1)
        hit = table[at] == wanted
        terms = np.full(count, -1, np.int64)
        terms[order[hit]] = features[at[hit]]
        return terms

    def counts(self, windows: dict[int, np.ndarray], spans: np.ndarray, row_of_span: np.ndarray | None = None,
               ) -> TermCounts:
        """Term frequencies of each row, a row being the tokens from ``start`` to ``end`` of one of ``spans``, or,
        given ``row_of_span``, of every span of that row (no n-gram spans two of them)."""
        span_rows = np.arange(len(spans)) if row_of_span is None else row_of_span
        rows, terms = [], []
        for n, found in windows.items():
            lengths = np.maximum(spans[:, 1] - spans[:, 0] - n + 1, 0)
            # Every window start of every span: the span's start plus 0, 1, … its windows - 1.
            offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            term = found[np.repeat(spans[:, 0], lengths) + offsets]
            rows.append(np.repeat(span_rows, lengths)[term >= 0])
            terms.append(term[term >= 0])
        size = max(self.vocabulary_size, 1)
        keys, counts = np.unique(np.concatenate(rows) * size + np.concatenate(terms), return_counts=True)
        row_of, term = np.divmod(keys, size)
        return TermCounts(int(span_rows.max(initial=-1)) + 1, row_of, term, counts)


@dataclass(frozen=True)
class Features:
    """The TF-IDF rows of some texts in each feature space of the model (one vocabulary, several idf)."""

    spaces: tuple[SparseRows, ...]


def sentences_of(text: str) -> list[str]:
    """The sentences of a clause worth scoring alone (three words or more)."""
    return [s for s in _SENTENCE_BREAK.split(text) if _is_sentence(s)]


def _is_sentence(part: str) -> bool:
    # Splitting stops once it has found enough words: a long sentence's words need not all be made.
    return len(part.split(maxsplit=MIN_SENTENCE_WORDS)) >= MIN_SENTENCE_WORDS


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class ClauseClassifier(Protocol):
    """What the analysis pipeline needs of a classifier; ``Classifier`` is the built-in one."""

    analyzer_id: str

    def classify(self, texts: Sequence[str], privacy_policy: bool = False) -> list[Classification]: ...


@dataclass(frozen=True)
class TypeFinding:
    """One clause type found in one clause, before the clause-level summary."""

    type: ClauseType
    probability: float
    evidence: tuple[str, ...]
    explicit: bool
    severity: str
    reason: str


class Classifier:
    """Labels clauses with types, severity, confidence, evidence and basis."""

    def __init__(self, model_dir: Path = MODEL_DIR):
        meta, vocabulary, arrays = _read_model(model_dir)
        self.meta = meta
        self.labels: tuple[str, ...] = tuple(meta["labels"])
        self._label_index = {label: j for j, label in enumerate(self.labels)}
        # Every type in the taxonomy's order, with its learned label (None: its phrases alone decide) and whether its
        # phrases also decide it (``PHRASE_DECIDES``): what ``_classify_one`` reads of each, looked up once.
        self._types = [(t, self._label_index.get(t.id), t.id in PHRASE_DECIDES) for t in BY_ID.values()]
        self.sizes = tuple(meta["ngram_sizes"])
        self.vocabulary = {term: i for i, term in enumerate(vocabulary)}
        self.terms = vocabulary
        self.index = TermIndex(self.vocabulary, self.sizes)
        self.idf = arrays["idf"]
        self.label_space = arrays["label_space"]
        self.severity_space = int(meta["severity_space"])
        self.weights = arrays["weights"]
        self.bias = arrays["bias"]
        # Each space's columns of the weights, sliced once (slicing per call copied the whole matrix).
        self._space_weights = [(columns, np.ascontiguousarray(self.weights[:, columns]), self.bias[columns])
                               for columns in (self.label_space == s for s in range(len(self.idf)))]
        self.thresholds = arrays["thresholds"]
        # A type's threshold where its own curated phrase occurs in the clause (lower for the privacy types, whose
        # threshold elsewhere keeps them off terms-of-service clauses); models without them use one threshold.
        self.phrase_thresholds = arrays.get("phrase_thresholds", self.thresholds)
        # The thresholds inside a privacy policy (``classify(..., privacy_policy=True)``): the privacy types' own
        # best-F1 thresholds on policies, without the budget that keeps them off terms of service (0027).
        self.policy_thresholds = arrays.get("policy_thresholds", self.thresholds)
        self._whole_sentence_columns = np.array([label in WHOLE_SENTENCE_LABELS for label in self.labels], dtype=bool)
        whole = np.flatnonzero(self._whole_sentence_columns)
        # Per feature space the privacy types use: which of them, and their weights sliced once.
        self._whole_weights = [(int(space), mine, np.ascontiguousarray(self.weights[:, whole[mine]]),
                                self.bias[whole[mine]])
                               for space in np.unique(self.label_space[whole])
                               for mine in [self.label_space[whole] == space]]
        self.calibration = arrays["calibration"]
        self.severity_labels: tuple[str, ...] = tuple(meta["severity_labels"])
        self.severity_weights = arrays["severity_weights"]
        self.severity_bias = arrays["severity_bias"]
        # A gated label is scored only on texts its gate matches (it learned from those alone).
        self.gates = {self._label_index[label]: Screened(pattern) for label, pattern in meta.get("gates", {}).items()}
        # The model and the curated rules both decide the output: a change to either re-analyses.
        identity = f"{LOGIC_VERSION}:{meta['fingerprint']}:{rules_fingerprint()}"
        self.analyzer_id = "linear-" + hashlib.sha256(identity.encode()).hexdigest()[:12]

    # --- learned part ----------------------------------------------------------

    def features(self, texts: Sequence[str]) -> Features:
        tokens: list[str] = []
        spans: list[tuple[int, int]] = []
        for text in texts:
            found = words(text)
            spans.append((len(tokens), len(tokens) + len(found)))
            tokens += found
        counts = self.index.counts(self.index.windows(tokens), np.array(spans, np.int64).reshape(-1, 2))
        return self._features(counts)

    def _features(self, counts: TermCounts) -> Features:
        return Features(tuple(tfidf_from_counts(counts, idf) for idf in self.idf))

    def clause_features(self, texts: Sequence[str]) -> tuple[Features, Sentences]:
        """The features of each clause, and of the sentences of those of several, tokenised once for both:
        a clause's tokens are its sentences' (and its short fragments') tokens laid end to end.

        A sentence ends at ``;`` too ("; and" lists read as separate provisions), except for the privacy types
        (``WHOLE_SENTENCE_LABELS``): where a ``;`` splits a sentence, they read the whole sentence instead. An item of
        a list after a lead-in ending with ":" is read with the lead-in's words (``_LIST_ITEM``)."""
        tokens: list[str] = []
        clauses: list[tuple[int, int]] = []
        sentences = Sentences({}, [], [], [])
        for i, text in enumerate(texts):
            start = len(tokens)
            parts, joined, line_starts = _parts(text)
            scored = [_is_sentence(p) for p in parts]
            if sum(scored) <= 1:
                tokens += words(text)
            else:
                spans, bounds, lead_in, in_item = [], [], None, False
                for part, keep, starts_line in zip(parts, scored, line_starts, strict=True):
                    at = len(tokens)
                    tokens += words(part)
                    bounds.append((at, len(tokens)))
                    if starts_line:
                        in_item = lead_in is not None and _LIST_ITEM.match(part) is not None
                    if keep:
                        spans.append((part, (at, len(tokens)), lead_in if in_item else None))
                    if not in_item:
                        # The last sentence of a line that is no item leads in what follows when it says something
                        # of its own ("Examples:" does not) and ends with ":".
                        lead_in = (part, bounds[-1]) if keep and part.rstrip(_EMPHASIS).endswith(":") else None
                sentences.add(i, spans, _whole_sentences(parts, joined, scored, bounds))
            clauses.append((start, len(tokens)))
        windows = self.index.windows(tokens)
        if sentences.texts:
            segments, rows = sentences.segments()
            sentences.features = self._features(self.index.counts(windows, segments, rows))
        if sentences.whole_texts:
            sentences.whole_counts = self.index.counts(windows, np.array(sentences.whole_spans, np.int64))
        return self._features(self.index.counts(windows, np.array(clauses, np.int64).reshape(-1, 2))), sentences

    def scores(self, features: Features, texts: Sequence[str] | None = None) -> np.ndarray:
        """Raw one-vs-rest margins, one column per learned label; given the texts, gated labels
        get ``GATED_OUT`` where their gate does not match."""
        margins = np.empty((len(features.spaces[0].indptr) - 1, len(self.labels)))
        for rows, (columns, weights, bias) in zip(features.spaces, self._space_weights, strict=True):
            margins[:, columns] = rows.dot(weights) + bias
        for j, gate in self.gates.items() if texts is not None else ():
            closed = np.fromiter((gate.search(t) is None for t in texts), dtype=bool, count=len(texts))
            margins[closed, j] = GATED_OUT
        return margins

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (Platt scaling fitted on out-of-fold margins)."""
        return _sigmoid(scores * self.calibration[:, 0] + self.calibration[:, 1])

    def high_probability(self, features: Features) -> np.ndarray:
        """P(clearly unfair) per clause and learned-severity label (CLAUDETTE grade 3 vs 2)."""
        return _sigmoid(features.spaces[self.severity_space].dot(self.severity_weights) + self.severity_bias)

    def severity_of(self, type_id: str, text: str) -> str:
        """The severity ``text`` would get if it were of type ``type_id`` alone."""
        high = self.high_probability(self.features([text]))[0]
        return _severity(BY_ID[type_id], text, self._learned_high(type_id, high))[0]

    # --- the clause-level answer -------------------------------------------------

    def clause_scores(self, texts: Sequence[str]) -> np.ndarray:
        """Per label, the best margin of the whole clause or any of its sentences.

        The model learned from single sentences; in a long clause one decisive
        sentence is diluted by the rest, so each sentence is scored on its own too.
        """
        return self._clause_and_sentence_scores(texts, *self.clause_features(texts))[0]

    def _clause_and_sentence_scores(self, texts: Sequence[str], rows: Features, sentences: Sentences,
                                    ) -> tuple[np.ndarray, SentenceScores]:
        margins = self.scores(rows, texts)
        if sentences.features is None:
            return margins, SentenceScores({}, [], np.zeros((0, len(self.labels))))
        # A list item is read with its lead-in, by the gates too.
        part_margins = self.scores(sentences.features, sentences.contexts)
        owners = np.asarray(sentences.owners, dtype=np.int64)
        split = np.asarray(sentences.split, dtype=bool)
        whole = self._whole_sentence_columns
        # Decided per clause, never per batch: a clause's whole-sentence rows count whether or not another clause
        # of the batch has parts a ";" split (a sentence of fragments, "Logs retained; ninety days.", has no part
        # scored, only its whole row), so a clause gets the same labels alone as beside any other.
        if not whole.any() or (not split.any() and sentences.whole_counts is None):
            np.maximum.at(margins, owners, part_margins)
            return margins, SentenceScores(sentences.ranges, sentences.texts, part_margins, sentences.contexts)
        # The parts of a sentence a ";" split count for every type but the privacy types, which read the whole
        # sentence (its own row) or, in a clause of one sentence, the clause.
        part_margins[np.ix_(split, whole)] = -np.inf
        np.maximum.at(margins, owners, part_margins)
        whole_margins = np.full((len(sentences.whole_texts), len(self.labels)), -np.inf)
        if sentences.whole_counts is not None:
            columns = np.flatnonzero(whole)
            whole_margins[:, columns] = self._whole_sentence_scores(sentences.whole_counts, columns)
            best = margins[:, columns]
            np.maximum.at(best, np.asarray(sentences.whole_owners, dtype=np.int64), whole_margins[:, columns])
            margins[:, columns] = best
        # What each type read is what may be quoted as the sentence that decided it (``SentenceScores.deciding``).
        return margins, SentenceScores(sentences.ranges, sentences.texts, part_margins, sentences.contexts,
                                       WholeRows.of(sentences.whole_texts, sentences.whole_owners, whole_margins))

    def _whole_sentence_scores(self, counts: TermCounts, columns: np.ndarray) -> np.ndarray:
        """The margins of the whole-sentence rows for ``columns`` (the privacy types) alone."""
        out = np.empty((counts.texts, len(columns)))
        for space, mine, weights, bias in self._whole_weights:
            out[:, mine] = tfidf_from_counts(counts, self.idf[space]).dot(weights) + bias
        return out

    def classify(self, texts: Sequence[str], privacy_policy: bool = False) -> list[Classification]:
        """One classification per text, in order.

        ``privacy_policy``: the texts are clauses of a privacy policy, where the privacy types keep their own
        thresholds; elsewhere (and when the caller does not say) they must also stay off terms of service.
        """
        texts = list(texts)
        if not texts:
            return []
        rows, parts = self.clause_features(texts)
        margins, sentences = self._clause_and_sentence_scores(texts, rows, parts)
        probabilities = self.probabilities(margins)
        high = self.high_probability(rows)
        # Which labels clear their threshold, or the one where a curated phrase occurs: compared once for all
        # clauses, as Python lists (numpy scalars compared one at a time cost more than the rest of the loop).
        thresholds = self.policy_thresholds if privacy_policy else self.thresholds
        learned = (margins >= thresholds).tolist()
        near = (margins >= self.phrase_thresholds).tolist()
        # The confidence that a clause has no type, for those that get none: one minus its highest probability.
        none = (1.0 - probabilities.max(axis=1)).tolist() if probabilities.shape[1] else [1.0] * len(texts)
        return [
            self._quote_deciding(self._classify_one(text, rows, i, Thresholded(learned[i], near[i], probabilities[i],
                                                                               thresholds, none[i]), high[i],
                                                    sentences),
                                 i, sentences)
            for i, text in enumerate(texts)
        ]

    def _quote_deciding(self, result: Classification, clause: int, scored: SentenceScores) -> Classification:
        """In a clause of several sentences, the evidence first quotes the sentence that decided each type."""
        if clause not in scored.ranges or not result.types:
            return result
        quotes = (scored.deciding(clause, self._label_index.get(t), BY_ID[t]) for t in result.types)
        sentences = [" ".join(q.split()) for q in quotes if q]
        return replace(result, evidence=tuple(dict.fromkeys([*sentences, *result.evidence])))

    def _classify_one(self, text: str, rows: Features, row: int, checks: Thresholded, high: np.ndarray,
                      scored: SentenceScores) -> Classification:
        probabilities = checks.probabilities
        # A date, a number or a bare heading states no clause, whatever its n-grams weigh.
        if not _has_words(text, MIN_SENTENCE_WORDS) or _is_heading(text):
            return _untyped(checks.none)
        findings = []
        for clause_type, j, phrase_decides in self._types:
            if j is None:
                # Curated phrases alone decide the types no data set covers.
                phrases = clause_type.evidence(text)
                if phrases:
                    findings.append(self._finding(clause_type, PATTERN_CONFIDENCE, phrases, text, None))
                continue
            # The phrases are looked for once per type and clause, and only where they can change the answer.
            learned, near = checks.learned[j], checks.near[j]
            if not learned and not near:
                # Below both thresholds, only phrases that decide the type alone give it.
                phrases = clause_type.decided(text) if phrase_decides else ()
                if phrases:
                    findings.append(self._finding(clause_type, PATTERN_CONFIDENCE, phrases, text, None))
                continue
            phrases = clause_type.evidence(text)
            if learned and not phrases and clause_type.excluded(text) and not scored.carried_elsewhere(
                    row, j, checks.thresholds[j], clause_type):
                continue
            # Learned, or near its threshold with a phrase of its own.
            if learned or phrases:
                evidence = phrases or self._model_evidence(text, rows, row, j)
                findings.append(self._finding(clause_type, float(probabilities[j]), evidence, text,
                                              self._learned_high(clause_type.id, high), explicit=bool(phrases)))
        return _summarise(findings) if findings else _untyped(checks.none)

    def _learned_high(self, type_id: str, high: np.ndarray) -> float | None:
        if type_id not in self.severity_labels:
            return None
        return float(high[self.severity_labels.index(type_id)])

    def _finding(self, clause_type, probability, evidence, text, high, explicit=True) -> TypeFinding:
        severity, reason = _severity(clause_type, text, high)
        return TypeFinding(clause_type, probability, tuple(evidence[:EVIDENCE_PER_TYPE]), explicit, severity, reason)

    def _model_evidence(self, text: str, features: Features, row: int, label: int) -> tuple[str, ...]:
        """The passages of ``text`` whose n-grams pushed ``label`` up most, as written there.

        Neighbouring n-grams are joined ("terminate" + "your account" → "terminate your
        account") so the evidence reads as a phrase rather than a list of words.
        """
        rows = features.spaces[int(self.label_space[label])]
        start, end = rows.indptr[row], rows.indptr[row + 1]
        indices = rows.indices[start:end]
        contributions = self.weights[indices, label] * rows.data[start:end]
        spans = []
        tokens = Tokens.of(text)
        for k in np.argsort(-contributions, kind="stable")[:EVIDENCE_CANDIDATES]:
            span = _find_span(tokens, self.terms[indices[k]]) if contributions[k] > 0 else None
            if span:
                spans.append((*span, float(contributions[k])))
        merged = sorted(_merge_spans(spans), key=lambda s: -s[2])[:EVIDENCE_PER_TYPE]
        return tuple(" ".join(text[a:b].split()) for a, b, _ in merged)


@dataclass(frozen=True)
class Thresholded:
    """One clause's labels against their thresholds: which clear their own (``learned``), which clear the lower
    one that holds where a curated phrase occurs (``near``), and their calibrated probabilities."""

    learned: list[bool]
    near: list[bool]
    probabilities: np.ndarray
    # The thresholds ``learned`` was decided by (a privacy policy's, or the ones that keep off terms of service).
    thresholds: np.ndarray
    # One minus the highest probability: the confidence of no type.
    none: float


def _has_words(text: str, count: int) -> bool:
    """Whether ``text`` holds ``count`` word tokens that are not bare numbers (stops reading at the last one)."""
    for match in _WORD.finditer(text):
        if not match.group().isdigit():
            count -= 1
            if count == 0:
                return True
    return False


def _untyped(none: float) -> Classification:
    return Classification((), "low", round(none, 4), (), "inferred", "No clause type recognised.")


def _reads_as_sentence(words: list[str]) -> bool:
    return any(w in SENTENCE_WORDS or (w == "you" and (i == 0 or words[i - 1] not in _GOVERNS_YOU))
               for i, w in enumerate(words))


def _is_heading(text: str) -> bool:
    """Whether ``text`` is a section title alone: a numbered or bold line of a few words, without punctuation,
    that does not read as a sentence (a list item "2. You waive any right to a class action" does)."""
    line = text.strip()
    # Both shapes are one short line: matching them first spares the words of every provision.
    numbered = _NUMBERED_HEADING.fullmatch(line) is not None
    if not numbered and _BOLD_HEADING.fullmatch(line) is None:
        return False
    found = _LETTERS.findall(line)
    if len(found) > HEADING_MAX_WORDS or _reads_as_sentence([w.lower() for w in found]):
        return False
    return numbered or all(w[0].isupper() for w in found if len(w) >= TITLE_CASE_MIN_LETTERS)


@dataclass
class Sentences:
    """The sentences of the multi-sentence clauses of a batch: their texts, token spans, owning clause, the rows
    of each clause (``ranges``), whether a ";" split the sentence a row is part of (``split``) and, once counted,
    their features; and the whole sentences the privacy types read instead of such parts (``whole_*``)."""

    ranges: dict[int, tuple[int, int]]
    texts: list[str]
    spans: list[tuple[int, int]]
    owners: list[int]
    features: Features | None = None
    # The token span of the lead-in a list item is read with, where it has one, and what each row reads: the part,
    # or the lead-in and the item (for the gates and the ``unless`` wordings).
    lead_ins: list[tuple[int, int] | None] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    split: list[bool] = field(default_factory=list)
    whole_texts: list[str] = field(default_factory=list)
    whole_spans: list[tuple[int, int]] = field(default_factory=list)
    whole_owners: list[int] = field(default_factory=list)
    whole_counts: TermCounts | None = None

    def add(self, clause: int, sentences: list[tuple[str, tuple[int, int], tuple[str, tuple[int, int]] | None]],
            whole: WholeSentences) -> None:
        self.ranges[clause] = (len(self.texts), len(self.texts) + len(sentences))
        for (text, span, lead_in), split in zip(sentences, whole.split, strict=True):
            self.texts.append(text)
            self.spans.append(span)
            self.lead_ins.append(None if lead_in is None else lead_in[1])
            self.contexts.append(text if lead_in is None else f"{lead_in[0]} {text}")
            self.owners.append(clause)
            self.split.append(split)
        for text, span in whole.rows:
            self.whole_texts.append(text)
            self.whole_spans.append(span)
            self.whole_owners.append(clause)

    def segments(self) -> tuple[np.ndarray, np.ndarray]:
        """The token spans the rows are counted over, and the row of each: every row's own span, then the lead-ins
        of the list items."""
        items = [row for row, lead_in in enumerate(self.lead_ins) if lead_in is not None]
        spans = np.array([*self.spans, *(self.lead_ins[row] for row in items)], np.int64).reshape(-1, 2)
        return spans, np.array([*range(len(self.spans)), *items], np.int64)


@dataclass(frozen=True)
class WholeSentences:
    """For the scored parts of one clause, whether a ";" split the sentence each belongs to (or the clause is one
    sentence); and the rows of the whole sentences so split, in a clause of two sentences or more."""

    split: list[bool]
    rows: list[tuple[str, tuple[int, int]]]


def _parts(text: str) -> tuple[list[str], list[bool] | None, list[bool]]:
    """The parts ``_SENTENCE_BREAK`` splits ``text`` into, whether each break is a ";" inside a sentence (``None``:
    the text holds no ";"), and whether each part opens a line; the breaks are kept only when one of them can tell."""
    if ";" not in text and "\n" not in text:
        parts = _SENTENCE_BREAK.split(text)
        return parts, None, [True] + [False] * (len(parts) - 1)
    pieces = _SENTENCE_BREAKS_KEPT.split(text)
    parts, breaks = pieces[0::2], pieces[1::2]
    joined = [part.endswith(";") and "\n" not in gap for part, gap in zip(parts, breaks)] if ";" in text else None
    return parts, joined, [True] + ["\n" in gap for gap in breaks]


def _whole_sentences(parts: list[str], joined: list[bool] | None, scored: list[bool],
                     bounds: list[tuple[int, int]]) -> WholeSentences:
    """Which scored parts belong to a sentence a ";" split, and the rows of those sentences (see ``WholeSentences``)."""
    if joined is None:
        return WholeSentences([False] * sum(scored), [])
    members: list[list[int]] = [[0]]
    for k in range(1, len(parts)):
        if joined[k - 1]:
            members[-1].append(k)
        else:
            members.append([k])
    texts = [" ".join(parts[k] for k in group) for group in members]
    sentences = [g for g, text in enumerate(texts) if _is_sentence(text)]
    split_groups = {g for g in sentences if len(members[g]) > 1}
    one_sentence = len(sentences) <= 1
    split = [one_sentence or g in split_groups for g, group in enumerate(members) for k in group if scored[k]]
    rows = [] if one_sentence else [(texts[g], (bounds[members[g][0]][0], bounds[members[g][-1]][1]))
                                    for g in sorted(split_groups)]
    return WholeSentences(split, rows)


@dataclass(frozen=True)
class WholeRows:
    """The whole sentences a ";" split, as the privacy types read them: texts, margins (``-inf`` in the columns of
    the other types, which read the parts) and the rows of each clause."""

    texts: list[str]
    margins: np.ndarray
    rows_of: dict[int, list[int]]

    @classmethod
    def of(cls, texts: list[str], owners: list[int], margins: np.ndarray) -> WholeRows:
        rows_of: dict[int, list[int]] = {}
        for row, owner in enumerate(owners):
            rows_of.setdefault(owner, []).append(row)
        return cls(texts, margins, rows_of)


@dataclass(frozen=True)
class SentenceScores:
    """The margins of the sentences of multi-sentence clauses; ``ranges`` maps a clause to its rows.

    A part's margin is ``-inf`` for a type that did not read it (a privacy type where a ";" split the sentence:
    it read the whole sentence, a row of ``whole``, or in a clause of one sentence the clause itself)."""

    ranges: dict[int, tuple[int, int]]
    sentences: list[str]
    margins: np.ndarray
    # What each row read (``Sentences.contexts``); the sentences themselves when not given.
    contexts: list[str] | None = None
    whole: WholeRows | None = None

    def carried_elsewhere(self, clause: int, label: int, threshold: float, clause_type: ClauseType) -> bool:
        """Whether a sentence of ``clause`` without the type's ``unless`` wording clears ``threshold`` on its own:
        "We retain all rights … . Server logs are deleted after 30 days." keeps its retention. (In a clause of one
        sentence a privacy type read the clause, so "We retain all rights …; logs are deleted after 30 days." has no
        other sentence to carry it.)"""
        return any(margin >= threshold and not clause_type.excluded(read)
                   for margin, _quote, read in self._read(clause, label))

    def deciding(self, clause: int, label: int | None, clause_type: ClauseType) -> str | None:
        """The sentence of ``clause`` that decided a type: the best-scored for a learned label, the first
        holding a curated phrase for the others; ``None`` for a clause of one sentence."""
        if clause not in self.ranges:
            return None
        if label is None:
            start, end = self.ranges[clause]
            return next((s for s in self.sentences[start:end] if clause_type.evidence(s)), None)
        # Nothing read apart (a privacy type of a clause of one sentence read the clause): no sentence to quote.
        best = max(self._read(clause, label), key=lambda read: read[0], default=None)
        return None if best is None else best[1]

    def _read(self, clause: int, label: int) -> list[tuple[float, str, str]]:
        """The sentences of ``clause`` the label read on their own: margin, the sentence as written (the quote) and
        what was read (with a list item, its lead-in); its parts and, for the privacy types, the whole sentences a
        ";" split."""
        if clause not in self.ranges:
            return []
        start, end = self.ranges[clause]
        contexts = self.sentences if self.contexts is None else self.contexts
        read = [(margin, quote, context) for margin, quote, context in zip(
            self.margins[start:end, label].tolist(), self.sentences[start:end], contexts[start:end], strict=True)
            if margin > -np.inf]
        if self.whole is not None:
            read += [(float(self.whole.margins[k, label]), self.whole.texts[k], self.whole.texts[k])
                     for k in self.whole.rows_of.get(clause, ()) if self.whole.margins[k, label] > -np.inf]
        return read


@dataclass(frozen=True)
class Tokens:
    """The word tokens of a text as ``words`` reads them, with where each stands in the text."""

    words: list[str]
    starts: list[int]
    ends: list[int]

    @classmethod
    def of(cls, text: str) -> Tokens:
        found = list(_WORD.finditer(text.lower()))
        return cls([m.group() for m in found], [m.start() for m in found], [m.end() for m in found])


def _find_span(tokens: Tokens, term: str) -> tuple[int, int] | None:
    """Where ``term`` (lower-cased words) first occurs among ``tokens``, whatever the case and punctuation between.

    The text is tokenised once for all its evidence candidates, and only the places where the term's
    first word stands are compared (a regular expression per term would be compiled for every n-gram).
    """
    wanted = term.split()
    at = -1
    while True:
        try:
            at = tokens.words.index(wanted[0], at + 1)
        except ValueError:
            return None
        if tokens.words[at : at + len(wanted)] == wanted:
            return tokens.starts[at], tokens.ends[at + len(wanted) - 1]


def _merge_spans(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Join spans that overlap or are separated by at most a space or a comma; weights add up."""
    merged: list[tuple[int, int, float]] = []
    for start, end, weight in sorted(spans):
        if merged and start <= merged[-1][1] + 2:
            first, last, total = merged[-1]
            merged[-1] = (first, max(last, end), total + weight)
        else:
            merged.append((start, end, weight))
    return merged


def _severity(clause_type: ClauseType, text: str, high: float | None) -> tuple[str, str]:
    """Severity and its reason for one type in one clause: curated phrases first, then the learned grade."""
    raising = clause_type.raising(text)
    if raising:
        level = SEVERITIES[min(SEVERITIES.index(clause_type.severity) + 1, len(SEVERITIES) - 1)]
        if high is not None:
            level = "high"
        return level, f"{clause_type.raises_reason} (“{raising[0]}”)"
    protecting = clause_type.protecting(text)
    if protecting:
        return "low", f"{clause_type.protects_reason} (“{protecting[0]}”)"
    if high is None:
        return clause_type.severity, clause_type.reason
    if high >= 0.5:
        return "high", f"{clause_type.reason} Worded like the terms experts graded clearly unfair."
    return "medium", f"{clause_type.reason} Worded like the terms experts graded potentially unfair."


def _summarise(findings: list[TypeFinding]) -> Classification:
    """The clause-level classification: every type, the worst severity and its reason."""
    findings = _combine(findings)
    worst = max(findings, key=lambda f: SEVERITIES.index(f.severity))
    evidence = tuple(dict.fromkeys(p for f in findings for p in f.evidence))
    return Classification(
        types=tuple(f.type.id for f in findings),
        severity=worst.severity,
        confidence=round(min(f.probability for f in findings), 4),
        evidence=evidence,
        basis="explicit" if all(f.explicit for f in findings) else "inferred",
        reason=f"{worst.type.title}: {worst.reason}",
    )


def _combine(findings: list[TypeFinding]) -> list[TypeFinding]:
    """Rules that look at several types at once (SPEC §5 severity)."""
    if any(f.type.id in PRIVACY_PRACTICES for f in findings):
        findings = [f for f in findings if f.type.id != YIELDS_TO_PRIVACY
                    and not (f.type.id == INFERRED_YIELDS_TO_PRIVACY and not f.explicit)]
    ids = {f.type.id for f in findings}
    combined = []
    for f in findings:
        if f.type.id == "arbitration" and "class_action_waiver" in ids:
            f = _raise(f, "Mandatory arbitration with a class action waiver takes away both court and group claims.")
        elif f.type.id == "user_content_license" and "ai_training_use" in ids and f.severity != "low":
            f = _raise(f, "The licence to user content extends to training AI models.")
        combined.append(f)
    return combined


def _raise(finding: TypeFinding, reason: str) -> TypeFinding:
    return TypeFinding(finding.type, finding.probability, finding.evidence, finding.explicit, "high", reason)


def _read_model(model_dir: Path) -> tuple[dict, list[str], dict[str, np.ndarray]]:
    try:
        meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
        vocabulary = json.loads((model_dir / "vocabulary.json").read_text(encoding="utf-8"))
        with np.load(model_dir / "weights.npz", allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the classifier model in {model_dir}: {exc}") from exc
    if meta.get("format") != FORMAT or arrays.get("idf", np.zeros(0)).ndim != 2:
        raise ModelError(f"{model_dir / 'model.json'}: format {meta.get('format')!r}, expected {FORMAT}")
    unknown = set(meta["labels"]) - set(TYPE_IDS)
    if unknown:
        raise ModelError(f"{model_dir / 'model.json'}: labels not in the taxonomy: {sorted(unknown)}")
    return meta, vocabulary, arrays


def rules_fingerprint() -> str:
    """SHA-256 over every curated phrase, severity and reason of the taxonomy, and the curated rules of this
    module (which types their phrases decide, what reads as a title): a change to any re-analyses."""
    rules = [[t.id, t.patterns, t.decides, t.unless, t.company_acts, t.severity, t.reason, t.raises, t.raises_reason,
              t.protects, t.protects_reason] for t in BY_ID.values()]
    rules.append([sorted(PHRASE_DECIDES), YIELDS_TO_PRIVACY, INFERRED_YIELDS_TO_PRIVACY, sorted(PRIVACY_PRACTICES),
                  sorted(WHOLE_SENTENCE_LABELS),
                  phrase_filters(), sorted(SENTENCE_WORDS), sorted(_GOVERNS_YOU), _NUMBERED_HEADING.pattern,
                  _BOLD_HEADING.pattern, HEADING_MAX_WORDS, TITLE_CASE_MIN_LETTERS, MIN_SENTENCE_WORDS,
                  _LIST_ITEM.pattern, _EMPHASIS])
    return hashlib.sha256(json.dumps(rules, ensure_ascii=False).encode()).hexdigest()


def fingerprint(model_dir: Path) -> str:
    """SHA-256 over the model's weights and vocabulary: the model's identity."""
    digest = hashlib.sha256()
    for name in ("vocabulary.json", "weights.npz"):
        digest.update((model_dir / name).read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def load_default() -> Classifier:
    """The shipped classifier, loaded once per process."""
    return Classifier(MODEL_DIR)
