"""The clause types of SPEC §5 and the curated phrases that state them.

Each type has an id (stable: stored, linked and measured against), the title
shown on record pages, the public label it maps from, and curated regular
expressions. A pattern match is *evidence*: the phrase that says, in so many
words, that a clause is of this type. For types no public data set covers
(``ai_training_use``, ``output_ownership``…) the patterns alone decide; for the
learned types they turn an inferred label into an explicit one.

Severity hints are curated too: ``severity`` and ``reason`` are the type's usual
weight; ``raises`` are phrasings that make a clause of this type one level more
severe (they take a right away or shift serious risk: → high for a medium type),
``protects`` are user-protective phrasings (→ low). Learned severities (the
CLAUDETTE types) replace ``severity`` but not the curated phrases.

Patterns are written with plain spaces; each space matches any run of
whitespace, so the same pattern works on running text and on the spaced-out
tokenisation of the CLAUDETTE corpus ("the laws of" / "the  laws\nof").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from re import _parser

from analysis import literals


@dataclass(frozen=True)
class ClauseType:
    """One clause type: id, title, public label it maps from, curated phrases."""

    id: str
    title: str
    patterns: tuple[str, ...] = ()
    severity: str = "medium"
    reason: str = ""
    raises: tuple[str, ...] = ()
    raises_reason: str = ""
    protects: tuple[str, ...] = ()
    protects_reason: str = ""
    claudette: str | None = None
    # For a learned type whose phrases also decide (``classifier.PHRASE_DECIDES``): the narrower phrases that
    # decide alone, when its evidence phrases also name things that are not the type ("payment vendors",
    # "billing records" in a privacy policy). Empty: the evidence phrases decide.
    decides: tuple[str, ...] = ()
    # Wordings that read like the type to a learned model but state something else ("we retain all rights, title
    # and interest" is ownership, not data kept): where one occurs and none of the type's own phrases does, the
    # model's score alone does not give the type.
    unless: tuple[str, ...] = ()
    # For the types about what the company may do to the user (end the account, remove content): a phrase the user is
    # the subject of ("you may terminate your account", "you are entitled to terminate the agreement") is the user's
    # own right, and is no evidence of the type.
    company_acts: bool = False

    @cached_property
    def _evidence(self) -> Phrases:
        return Phrases(self.patterns, _taxonomy_finder())

    @cached_property
    def _decides(self) -> Phrases:
        return Phrases(self.decides, _taxonomy_finder())

    @cached_property
    def _unless(self) -> Phrases:
        return Phrases(self.unless, _taxonomy_finder())

    @cached_property
    def _raises(self) -> Phrases:
        return Phrases(self.raises, _taxonomy_finder())

    @cached_property
    def _protects(self) -> Phrases:
        return Phrases(self.protects, _taxonomy_finder())

    def evidence(self, text: str) -> tuple[str, ...]:
        """The phrases of ``text`` that state this type, in order of appearance, without repeats."""
        return self._evidence.find(text, skip_users_own=self.company_acts)

    def decided(self, text: str) -> tuple[str, ...]:
        """The evidence phrases of ``text`` where its phrases decide this type alone, else none: where the type has
        narrower deciding phrases (``decides``), only a text holding one of them is decided.
        The narrower deciding phrases are looked for first: most clauses hold none, and then the evidence phrases
        (which may be tried on every clause, as "as is" is) need not be."""
        if self.decides and not self._decides.find(text):
            return ()
        return self.evidence(text)

    def excluded(self, text: str) -> bool:
        """Whether ``text`` holds one of the wordings that are not this type (``unless``) and, for a type of what
        the company does, names no act of the company ("you can close your account, and we can ban you")."""
        if not self.unless or not self._unless.find(text):
            return False
        return not (self.company_acts and COMPANY_ACTS.search(text))

    def raising(self, text: str) -> tuple[str, ...]:
        """Phrases that make this clause more severe, unless negated ("we do *not* sell your data")."""
        return self._raises.find(text, skip_negated=True)

    def protecting(self, text: str) -> tuple[str, ...]:
        return self._protects.find(text)


class Phrases:
    """Curated phrases searched as their alternation is, tried only where they can match.

    Each phrase comes with the fragments every match of it contains (``analysis.literals``): a phrase
    whose fragments are not all in a text cannot match anywhere in it, so what is searched in that
    text is the alternation of the other phrases, in their order, which finds exactly what the whole
    one would, and a text no phrase can match is ruled out by its fragments alone, far faster than
    any expression runs. A phrase of which no fragment can be read off is always tried.
    """

    def __init__(self, patterns: tuple[str, ...], finder: literals.FragmentFinder | None = None):
        self.patterns = patterns
        self.requirements = tuple(literals.requirements(p) for p in patterns)
        # Most texts hold no fragment of any phrase: one fragment per phrase, any of them found, rules them out.
        screen = literals.common_screen(self.requirements)
        self.screen = None if screen is None else frozenset(screen)
        # The fragments of a text are found once for every set of phrases that shares the finder (the taxonomy's
        # types share one); a finder must know every fragment these phrases require.
        fragments = literals.fragments_of(self.requirements)
        self.finder = finder or literals.FragmentFinder(fragments)
        if not fragments <= self.finder.fragments:
            raise ValueError(f"the fragment finder lacks {sorted(fragments - self.finder.fragments)}")

    def find(self, text: str, skip_negated: bool = False, skip_users_own: bool = False) -> tuple[str, ...]:
        if not self.patterns:
            return ()
        found = self.finder.found_in(text)
        if self.screen is not None and self.screen.isdisjoint(found):
            return ()
        possible = [_compile_phrase(pattern) for pattern, needs in zip(self.patterns, self.requirements, strict=True)
                    if needs is None or literals.holds(needs, found)]
        if not possible:
            return ()
        searched = possible[0] if len(possible) == 1 else Alternation(possible)
        return _phrases(searched, text, skip_negated, skip_users_own)


@lru_cache(maxsize=None)
def _compile_phrase(pattern: str) -> re.Pattern[str]:
    """One curated phrase, compiled once for good (its spaces match any whitespace)."""
    spaced = pattern.replace(" ", r"\s+")
    if _parser.parse(spaced, re.IGNORECASE).getwidth()[0] == 0:
        # ``Alternation.finditer`` goes on from a match's end, as ``re`` does only after a match of some length.
        raise ValueError(f"a curated phrase may match nothing: {pattern!r}")
    return literals.compile_looking_ahead(spaced, re.IGNORECASE)


class Alternation:
    """Compiled phrases searched as ``re`` searches their alternation: the match that starts first, and of those
    starting there the one of the first phrase in order (its own match: nothing follows it in the alternation).

    Compiling the alternation of each combination of phrases a clause makes possible cost more than running it
    (440 combinations for the stages benchmark's 100 documents, ~2.2 ms of CPU per document in a fresh process);
    each phrase is compiled once instead, and a text is searched by the few a clause makes possible.
    """

    def __init__(self, patterns: list[re.Pattern[str]]):
        self.patterns = patterns

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        matches = (pattern.search(text, pos) for pattern in self.patterns)
        return min(filter(None, matches), key=re.Match.start, default=None)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """The matches ``finditer`` of the alternation gives: from each match's end, the next one (a phrase's next
        match is searched again only once an earlier match passed its start)."""
        upcoming = [pattern.search(text) for pattern in self.patterns]
        while (match := min(filter(None, upcoming), key=re.Match.start, default=None)) is not None:
            yield match
            at = match.end()
            upcoming = [pattern.search(text, at) if m is not None and m.start() < at else m
                        for pattern, m in zip(self.patterns, upcoming, strict=True)]


# "not", "never" or "no" up to two words before a phrase: "do not sell", "will never share".
NEGATED = re.compile(r"\b(?:not|never|no)\b(?:\W+\w+){0,2}\W*$", re.IGNORECASE)
_OWN_NEGATION = re.compile(r"\bnot\b|n['’]t\b", re.IGNORECASE)


# The user as the one who acts, just before a phrase: "you may [terminate your account]", "your right to [delete …]",
# "you can also terminate or [delete your account]"; before a phrase that starts with "right to", "your" or "you have
# the" alone.
_YOU_MAY = (r"\byou(?:r\s+right\s+to|\s+(?:may|can|could|are\s+(?:free|entitled|able)\s+to|have\s+the\s+right\s+to))"
            r"(?:\s+(?:also|always|at\s+any\s+time))?")
USERS_OWN = re.compile(_YOU_MAY + r"(?:\s+\w+\s+(?:or|and))?\s+$", re.IGNORECASE)
_YOURS = re.compile(r"\byou(?:r|\s+have\s+the)\s+$", re.IGNORECASE)
# The company as the one who acts: "we may", "we reserve", "we will terminate".
COMPANY_ACTS = re.compile(r"\bwe\s+(?:\w+\s+)?(?:may|might|can|could|will|shall|reserve|terminate|suspend|remove|"
                          r"delete|disable|close|ban)\b", re.IGNORECASE)
# How far before a phrase a negation or the user's "you may" is looked for.
NEGATION_WINDOW = 30
USERS_OWN_WINDOW = 40


def phrase_filters() -> list:
    """What decides, around a match, that a phrase does not count (for the classifier's rules fingerprint)."""
    return [NEGATED.pattern, _OWN_NEGATION.pattern, NEGATION_WINDOW, USERS_OWN.pattern, _YOURS.pattern,
            USERS_OWN_WINDOW, COMPANY_ACTS.pattern]


def _users_matches_skipped(pattern: re.Pattern[str] | Alternation, text: str) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` the user is not the subject of; after one that is, the search resumes one
    character on, so a company's phrase it overlapped ("… your account, and we may suspend your access") is found."""
    at = 0
    while (m := pattern.search(text, at)) is not None:
        before = text[max(0, m.start() - USERS_OWN_WINDOW) : m.start()]
        if USERS_OWN.search(before) or (m.group(0)[:8].lower() == "right to" and _YOURS.search(before)):
            at = m.start() + 1
            continue
        yield m
        at = max(m.end(), m.start() + 1)


def _phrases(pattern: re.Pattern[str] | Alternation, text: str, skip_negated: bool = False,
             skip_users_own: bool = False) -> tuple[str, ...]:
    matches = _users_matches_skipped(pattern, text) if skip_users_own else pattern.finditer(text)
    if skip_negated:
        # A phrase that is itself a negation ("does not respond to Do Not Track") is not negated by an earlier "no".
        matches = (m for m in matches if _OWN_NEGATION.search(m.group(0))
                   or not NEGATED.search(text[max(0, m.start() - NEGATION_WINDOW) : m.start()]))
    found = (" ".join(m.group(0).split()) for m in matches)
    return tuple(dict.fromkeys(p for p in found if p))


# The service saying it ignores the browser's Do Not Track or Global Privacy Control signal ("we do not respond to DNT
# signals", "we do not take any action in response to this signal"); "we do not track your browsing" is no such
# statement.
_IGNORES_SIGNAL = (r"(?:(?:do|does|will) not|(?:don|doesn|won)['’]t) (?:\w+ )?(?:respond|honou?r|recogni[sz]e|act on|"
                   r"alter|change|take (?:any )?action)[^.;,]{0,40}(?:\bDNT\b|\bGPC\b|signals?|do not track\b(?! "
                   r"(?:you|your|users?|visitors?|individuals?|people|the|any|our|their|such)\b))")
# Up to this many words (or spaced-out commas) between two parts of a phrase: "disable access to [any of your] content".
_W = r"(?:[\w'’,-]+ ){0,8}"
# "As is" that is not a disclaimer: "as long as is necessary", "as is required by law".
_NOT_AS_NEEDED = (r"(?! (?:necessar|need|requir|reasonabl|permitted|the case|customar|appropriat|practicabl|possibl|"
                  r"feasibl))")
_DO_NOT = r"(?:can(?:not| not)|can['’]t|do not|does not|don['’]t|doesn['’]t)"
# An indemnity in other words than "indemnify": "hold us harmless", and in terms translated or written without the
# word, "claims and losses … shall be borne by you", "you shall bear all legal responsibilities", "compensate us for
# all losses".
_INDEMNITY_WORDED = (r"hold (?:\w+ ){0,8}harmless", r"defend,? indemnify",
                     r"(?:claims?|losses|damages|liabilit(?:y|ies)|costs)\b[^.;]{0,80}\bborne by you",
                     r"you shall (?:bear|assume) (?:all|any|full) (?:\w+ )?(?:responsibilit\w+|liabilit\w+|losses)",
                     r"compensate (?:us|the company|[A-Z]\w+) for (?:all |any )?(?:\w+ )?(?:losses|damages)")
# What "retain" reserves when it is about ownership, not data: "retain all rights", "retains its title" (but "retain
# the right to delete" keeps data in view).
_RIGHTS_RESERVED = r" (?:all|any|the|its|our) (?:\w+ )?(?:rights?(?! to)|title|ownership)"
# The user ending or removing their own account or content: no sign of what the company may do.
_USER_ENDS = _YOU_MAY + r" (?:terminate|delete|close|cancel|deactivate|remove|edit|end)\b"
_NOTICE_FREE = r"without (?:any )?(?:prior |advance )?(?:notice|notification|warning)"
# CLAUDETTE's "clearly unfair" grade for termination and content removal: no notice, or no reason needed.
_NO_REASON = r"(?:for any (?:or no )?reason|without (?:any )?(?:reason|cause|justification))"
_CONTENT = r"(?:content|materials?|submissions?|posts?|photos|videos|images|inputs?|uploads?|prompts?|data)"
# What the user put in: "your content", "any User Content", "such submissions".
_OF_USERS = r"(?:your|user|such|any|all) (?:\w+ )?" + _CONTENT
_PERSONAL = r"(?:personal (?:data|information)|your (?:data|information))"
# Arbitration providers named in consumer terms (the American Arbitration Association, JAMS, National Arbitration and
# Mediation, its international centre, ADR Services).
_FORUMS = r"\bAAA\b|\bJAMS\b|\bNAM\b|National Arbitration and Mediation|\bICDR\b|ADR Services"

CLAUSE_TYPES: tuple[ClauseType, ...] = (
    ClauseType(
        "arbitration", "Arbitration", claudette="A",
        patterns=(r"(?:(?:final and )?(?:binding|mandatory|individual|final) )?\barbitrat(?:ion|or|ors|e|ed)\b",
                  r"\barbitral\b", r"\bJAMS\b", r"American Arbitration Association"),
        # Newer terms state the obligation and name its forum in sentences the learned model (CLAUDETTE, ~2017)
        # scores low: "binding arbitration as the sole means", "administered by NAM", "arbitration will take place
        # in the County where you reside". These decide; a bare "arbitration" (exceptions, fees) does not.
        # "Binding arbitration" decides where a party must start or submit to it: as a title ("Binding Arbitration and
        # Class Action Waiver") or an option the user may "invoke" (Data Privacy Framework complaints) it obliges nobody.
        decides=(r"\b(?:initiate|commence|submit\w*(?: to)?|subject to|accept|agree to) (?:\w+ ){0,2}"
                 r"(?:binding|mandatory|individual)\b[^.;]{0,20}\barbitration\b",
                 r"\b(?:resolv|settl|decid|determin)\w*\b[^.;]{0,80}\b(?:by|through) (?:\w+ ){0,3}arbitration\b",
                 r"\bagree to arbitrate\b",
                 r"\badminister\w* (?:by )?(?:the )?(?:arbitration\b|American Arbitration Association|" + _FORUMS + ")",
                 r"(?:" + _FORUMS + r") (?:will|shall) administer (?:the |any |all )?arbitrations?\b",
                 r"\barbitration (?:will|shall) (?:take place|be (?:held|seated|conducted)) in\b(?! confiden| (?:"
                 r"accordance|compliance|conformity|private|person|writing|english|the english|an?|"
                 r"individual|good faith|such|this|that)\b)",
                 # Consent and submission in other words: "you agree to do it only through arbitration", "agree to
                 # be bound by this arbitration clause", "submitted to [the ICC] for arbitration", and the
                 # arbitrator's exclusive authority over disputes.
                 r"\bonly (?:through|by|via) (?:\w+ ){0,2}arbitration\b",
                 r"\bagree to be bound by (?:this|the|our) (?:\w+ ){0,2}arbitration (?:clause|agreement|provision)",
                 r"\bsubmit\w* to (?:(?!\b(?:not|courts?|instead|rather)\b)[^.;]){1,80}?\bfor (?:binding |final )?"
                 r"arbitration\b",
                 r"\barbitrators?\b[^.;]{0,80}\b(?:exclusive|sole) authority\b"),
        reason="Disputes go to private arbitration instead of a court.",
        raises=(r"class action", r"class[- ]wide", r"representative (?:action|proceeding)s?", r"jury trial"),
        raises_reason="Mandatory arbitration combined with a waiver of class actions or of a jury trial takes "
        "away the usual ways to bring a claim.",
        protects=(r"\bopt[- ]out of (?:this |the )?arbitration", r"small claims court"),
        protects_reason="Arbitration with a way out (opt-out or small-claims court) leaves the user a choice.",
    ),
    ClauseType(
        "class_action_waiver", "Class Action Waiver",
        patterns=(r"class action", r"class[- ]wide", r"class arbitration", r"collective action",
                  r"representative (?:action|proceeding|capacity)", r"as a plaintiff or class member"),
        severity="high",
        reason="Users give up the right to join a class or representative action, so small harms cannot "
        "be pursued together.",
    ),
    ClauseType(
        "jurisdiction", "Jurisdiction and Venue", claudette="J",
        patterns=(r"exclusive(?:ly)? (?:personal )?jurisdiction", r"submit to the (?:personal |exclusive )?"
                  r"(?:and exclusive )?jurisdiction", r"\bvenue\b", r"personal jurisdiction",
                  r"courts? (?:located |sitting |situated )?(?:in|of) (?:the )?(?:county|state|city|district)",
                  r"competent courts?"),
        reason="Disputes must be brought in a court the company chose, which may be far from the user.",
        protects=(r"courts? (?:of|in) (?:your|the user'?s?) (?:place|country|state) of (?:residence|domicile)",
                  r"where you (?:live|reside)", r"mandatory (?:consumer )?(?:protection )?(?:law|rules)"),
        protects_reason="The user keeps the courts of their own residence.",
    ),
    ClauseType(
        "governing_law", "Governing Law", claudette="LAW",
        patterns=(r"governed by (?:and construed in accordance with )?(?:the )?laws?", r"governing law",
                  r"construed (?:in accordance with|under) (?:the )?laws?", r"laws? of the state of",
                  r"conflicts? of laws?", r"applicable law shall be"),
        reason="The contract is read under a law the company chose, which may not be the user's own.",
        protects=(r"(?:mandatory|statutory) (?:consumer )?(?:protection )?(?:laws?|rights) of (?:your|the country)",
                  r"does not (?:deprive|affect) (?:you|your) (?:of )?(?:any )?(?:mandatory|statutory)"),
        protects_reason="The user keeps the protection of the mandatory law of their residence.",
    ),
    ClauseType(
        "limitation_of_liability", "Limitation of Liability", claudette="LTD",
        patterns=(r"limitation of liability", r"(?:aggregate|total|maximum|entire|cumulative) liability",
                  r"(?:not|never|in no event|under no circumstances)\b[^.;]{0,80}\bliable",
                  r"(?:indirect|incidental|special|consequential|punitive|exemplary)(?:,? (?:or |and )?"
                  r"(?:indirect|incidental|special|consequential|punitive|exemplary))* damages",
                  r"(?:no|any) liability", r"not (?:be )?responsible for", r"at your (?:own|sole) risk"),
        reason="The company limits what it owes when things go wrong.",
        raises=(r"(?:even|including)(?: if| in (?:the )?(?:case|event) of| for)? (?:its |our )?gross negligence",
                r"gross negligence or wil?ful misconduct\b[^.;]{0,40}\b(?:not|never) liable",
                r"(?:not|never) liable[^.;]{0,80}(?:including|even for) gross negligence"),
        raises_reason="Liability is excluded even for gross negligence or wilful misconduct.",
        protects=(r"(?:except|unless|other than|excluding|save) (?:in (?:the )?(?:case|event) of |for |where )?"
                  r"(?:our |its )?(?:gross negligence|wil?ful misconduct|intent|fraud|death or personal injury)",
                  r"nothing in these terms (?:shall |will )?(?:limit|exclude)"),
        protects_reason="The limit does not cover gross negligence, wilful misconduct or injury.",
    ),
    ClauseType(
        "warranty_disclaimer", "Warranty Disclaimer",
        patterns=(r"\bas[- ]is\b" + _NOT_AS_NEEDED, r"as[- ]available", r"without (?:any )?warrant(?:y|ies)",
                  r"disclaim\w* (?:all |any )?(?:\w+ ){0,3}warrant", r"merchantability",
                  r"fitness for a particular purpose", r"non-?infringement", r"(?:makes?|gives?) no (?:\w+ ){0,3}"
                  r"(?:warrant|guarantee)", _DO_NOT + r" (?:\w+ )?(?:warrant|guarantee)",
                  r"no (?:representations? or )?warrant(?:y|ies)"),
        # Translated and plain-English terms disclaim without "as is" or "merchantability" ("We cannot guarantee that
        # the Services it provides are flawless", "we make no guarantees"), in clauses the ToS;DR-learned model, which
        # saw few of them, scores low. These decide; a bare "does not guarantee" (an invitation, earnings, a removal
        # request) and a title ("Disclaimer of Warranties") do not.
        decides=(r"\bprovided (?:(?:to you|strictly|on an|on a|by us|and made available) )*[\"“']?as[- ]is\b"
                 + _NOT_AS_NEEDED, r"\bwithout (?:any )?(?:\w+ )?warrant(?:y|ies)\b",
                 r"\bdisclaim(?:s|ed)? (?:any and )?(?:all |any )?(?:\w+ ){0,3}warrant",
                 r"\b(?:make|makes|give|gives) no (?:\w+ ){0,3}(?:warrant|guarantee)",
                 r"\b" + _DO_NOT + r" (?:\w+ )?(?:guarantee|warrant) (?:that )?(?:the |our |its |any )?(?:services?|"
                 r"platform|site|software|products?|content|results?|(?:accuracy|availability|security|reliability|"
                 r"quality|completeness|stability|operation|functionality)\b[^.;]{0,60}\bof (?!an?\b))"),
        reason="The service is offered without promises about quality, accuracy or availability.",
    ),
    ClauseType(
        "indemnification", "Indemnification",
        patterns=(r"\bindemnif\w+", *_INDEMNITY_WORDED),
        # The same phrases decide, but "indemnified" only of the parties: "you ... will not be compensated or
        # indemnified" (Kling 10.2) says the company owes the user nothing, a limitation of liability.
        decides=(r"\bindemnif(?!ied\b)\w+", r"\bindemnified (?:part(?:y|ies)|persons?)\b", *_INDEMNITY_WORDED),
        reason="The user must pay the company's costs when others make claims over the user's use.",
    ),
    ClauseType(
        "unilateral_change", "Unilateral Changes to Terms", claudette="CH",
        patterns=(r"(?:modify|change|amend|update|revise|alter)\w* (?:these|this|the|our) (?:terms|agreement|"
                  r"policy|policies|conditions|privacy)", r"reserves? the right to " + _W + r"(?:modify|change|"
                  r"amend|update|revise|alter)", r"(?:change|modification|amendment|update|revision)s? to "
                  r"(?:these|this|the|our) (?:terms|agreement|policy)",
                  # "you agree to the revised Terms", "the updated version of these Terms".
                  r"\b(?:revised|updated|amended|modified) (?:version of (?:these|this|the|our) )?(?:terms|agreement)"),
        reason="The company can change the terms on its own.",
        protects=(r"\d+ days'? (?:prior |advance )?notice", r"notify you (?:at least )?\d+ days", r"(?:at least|no "
                  r"less than) \d+ days (?:before|in advance|prior)", r"right to (?:object|reject)"),
        protects_reason="Changes are announced in advance, with time to react.",
    ),
    ClauseType(
        "unilateral_termination", "Suspension and Termination", claudette="TER",
        patterns=(r"\b(?:suspend|terminate|disable|deactivate|close|delete|cancel|block)\w* " + _W
                  + r"(?:account|access|service|services|membership|subscription|registration|use)",
                  r"terminat\w+ (?:these terms|this agreement|the agreement)", r"right to (?:suspend|terminate)",
                  # The passive names no actor but the company: "your Account may be deactivated".
                  r"(?:account|access|membership|subscription)s? (?:\w+ ){0,3}(?:may|might|can|will|could) (?:\w+ )?be "
                  r"(?:suspended|terminated|disabled|deactivated|closed|deleted|cancell?ed|blocked)"),
        unless=(_USER_ENDS,), company_acts=True,
        reason="The company can suspend or end the user's access.",
        raises=(_NOTICE_FREE, _NO_REASON),
        raises_reason="Access can end without notice or without a reason.",
        protects=(r"\d+ days'? (?:prior |advance )?notice", r"(?:give|provide) you (?:reasonable |prior )?notice",
                  r"(?:notify|inform) you (?:at least )?\d+ days", r"(?:at least|no less than) \d+ days (?:before|in "
                  r"advance|prior)", r"(?:right to )?appeal"),
        protects_reason="Termination comes with notice or a way to appeal.",
    ),
    ClauseType(
        "content_removal", "Content Removal", claudette="CR",
        patterns=(r"\b(?:remove|delete|disable access to|take down|edit|refuse to (?:post|publish|display)|block|"
                  r"screen|moderate)\w* " + _W + _CONTENT, r"pre-?screen"),
        unless=(_USER_ENDS,), company_acts=True,
        reason="The company can remove what the user posted.",
        raises=(_NOTICE_FREE, _NO_REASON),
        raises_reason="Content can be removed without notice or without a reason.",
        protects=(r"(?:notify|inform) you (?:of|about|before) (?:the )?remov", r"(?:right to )?appeal",
                  r"counter[- ]notice"),
        protects_reason="Removal comes with notice or a way to contest it.",
    ),
    ClauseType(
        "contract_by_using", "Agreement by Use", claudette="USE",
        patterns=(r"by (?:using|accessing|visiting|browsing|downloading|installing|registering|clicking|"
                  r"continuing to (?:use|access))", r"(?:use|access) of (?:the|our|this) " + _W
                  + r"(?:constitutes|signifies|indicates|means)", r"continued (?:use|access)",
                  # "If you continue to use the site after the 30th day, you agree"; "through your use of the
                  # Services, you consent to".
                  r"\bcontinue (?:to use|using|to access|accessing)\b",
                  r"\b(?:through|by) your use of (?:the|our|this) \w+,? you (?:\w+ )?(?:agree|consent|accept)",
                  r"deemed to (?:have )?(?:accept|agree)"),
        reason="Merely using the service counts as agreeing to the terms.",
    ),
    ClauseType(
        "user_content_license", "User Content License",
        patterns=(r"you (?:hereby )?(?:grant|give)\w* (?:to )?(?:us|[\w.-]+) " + _W + r"(?:licen[cs]e|right)",
                  r"(?:worldwide|royalty[- ]free|perpetual|irrevocable|sub-?licensable|transferable)\b[^.;]{0,80}"
                  r"\blicen[cs]e\b[^.;]{0,80}\b" + _OF_USERS,
                  r"licen[cs]e to (?:use|reproduce|host|store|modify|distribute|publish|display)\b[^.;]{0,80}\b"
                  + _OF_USERS),
        reason="The user grants the company rights over what the user uploads.",
        raises=(r"perpetual,? (?:and )?irrevocable", r"irrevocable,? (?:and )?perpetual",
                r"(?:any|all) (?:media|medium) (?:now known|whether now)", r"for any purpose"),
        raises_reason="The licence over user content is perpetual, irrevocable or for any purpose.",
        protects=(r"(?:you|user) (?:retain|keep|own)\w* (?:all )?(?:ownership|rights|title)",
                  r"solely (?:for|to) (?:the purpose of )?(?:provid|operat)\w+ (?:the )?service"),
        protects_reason="The user keeps ownership and the licence is limited to running the service.",
        severity="medium",
    ),
    ClauseType(
        "ai_training_use", "Use of Your Content for AI Training",
        patterns=(r"(?:train|training|retrain|fine-?tun\w+)\b[^.;]{0,60}\b(?:models?|algorithms?|artificial "
                  r"intelligence|\bAI\b|machine learning|neural network)",
                  r"(?:models?|algorithms?|artificial intelligence|\bAI\b|machine learning)\b[^.;]{0,40}\b"
                  r"(?:train|training|fine-?tun\w+)\b",
                  # "validate our pricing models" is about money, not machine learning.
                  r"(?:improve|develop|enhance|optimi[sz]e|refine)\w*\b[^.;]{0,50}\b(?:our|its|the) "
                  r"(?!(?:pricing|business|revenue|financial) )(?:\w+ ){0,2}"
                  r"(?:algorithms?|models?|AI (?:systems?|services?|technolog\w+))\b",
                  r"(?:content|data|inputs?|prompts?|outputs?|information|uploads?)\b[^.;]{0,40}\bused (?:\w+ ){0,2}"
                  r"(?:for|in) (?:\w+ )?training\b"),
        severity="high",
        reason="The user's content or data may be used to train the company's AI models.",
        protects=(r"(?:do|does|will) not (?:use|train)\b[^.;]{0,60}\b(?:train|models?)",
                  r"(?:not|never) (?:be )?used\b[^.;]{0,60}\b(?:train|models?)", r"opt[- ]out",
                  r"without your (?:explicit |express )?consent", r"only with your (?:explicit |express )?consent"),
        protects_reason="AI training is excluded, needs consent, or can be refused.",
    ),
    ClauseType(
        "output_ownership", "Ownership of Generated Output",
        patterns=(r"(?:outputs?|generated content|AI-generated content|content generated)\b[^.;]{0,100}\b"
                  # "at your own risk" says nothing about who owns the output.
                  r"(?:(?<!your\s)own|owns|owner|ownership|belongs?|title|property|copyright)\b",
                  r"(?:own|owns|ownership|title to|rights? (?:in|to))\b[^.;]{0,60}\b(?:outputs?|generated content)"),
        reason="The clause decides who owns what the service generates.",
        raises=(r"(?:outputs?|generated content)\b[^.;]{0,80}\b(?:belong to us|we own|owned by us|"
                r"exclusive property of)", r"assign\w* to us[^.;]{0,60}outputs?"),
        raises_reason="The company claims the output the user generated.",
        protects=(r"(?:outputs?|generated content)\b[^.;]{0,80}\b(?:belong to you|you own|owned by you|"
                  r"still belong to you)", r"you own (?:all |the )?(?:outputs?|generated content)",
                  r"(?:not|no) restrict\w*[^.;]{0,30}commercial"),
        protects_reason="The user owns or may freely use what they generate.",
    ),
    ClauseType(
        "prohibited_content", "Prohibited Content and User Obligations",
        patterns=(r"you (?:agree |shall |will |may |must )?(?:not|never) (?:to )?" + _W + r"(?:post|upload|submit|"
                  r"transmit|share|publish|generate|create|distribute|promote|encourage|glorify)",
                  r"prohibited (?:content|conduct|uses?|"
                  r"activities|behaviou?rs?)", r"acceptable use",
                  r"(?:must|shall|will|may) not[^.;]{0,60}\bengage in (?:any of )?the following",
                  r"(?:instructions|code|rules) of conduct",
                  r"(?:illegal|unlawful|harass\w*|defamatory|libell?ous|obscene|pornographic|hateful|infring\w*|"
                  r"abusive|threatening) (?:\w+ ){0,3}(?:content|material|messages)"),
        severity="low",
        reason="Standard rules on what users may not post or do.",
        raises=(r"(?:solely|fully|entirely) (?:responsible|liable)[^.;]{0,80}(?:outputs?|generated|content)",),
        raises_reason="The user alone answers for content, including what the service generates.",
    ),
    ClauseType(
        "fees_and_refunds", "Fees, Credits and Refunds",
        patterns=(r"\brefund\w*", r"non-?refundable", r"\bfees?\b", r"\bbilling\b", r"\bpayments?\b",
                  r"\bpric(?:e|es|ing)\b", r"(?:purchased|paid|unused) credits?"),
        # "billing", "payment" and "price" alone also name data and vendors in privacy policies: what decides
        # is a refund, a fee or price that is stated, paid or charged, or credits bought.
        decides=(r"\brefund\w*", r"non-?refundable", r"\breimburs\w*", r"(?:purchased|paid|unused) credits?",
                 r"\b(?:purchas\w*|buy\w*|bought)\b(?:\W+\w+){0,3}?\W+credits\b",
                 r"\b(?:service|subscription|usage|membership|late|cancellation) fees?\b",
                 r"\b(?:pay|paid|charged?|billed)\b(?:\W+\w+){0,6}?\W+(?:fees?|prices?|charges|amounts?)\b",
                 r"\b(?:prices?|pricing|fees?)\b[^.;:]{0,80}?\b(?:(?:will|shall) be|are|is) (?:\w+ly )?(?:provided|"
                 r"stated|shown|displayed|charged|payable|due|listed|communicated|non-?refundable)\b"),
        severity="low",
        reason="Sets out what the user pays and when money comes back.",
        raises=(r"non-?refundable", r"no refunds?", r"(?:not|never) (?:be )?(?:entitled to|eligible for) (?:a |any )?"
                r"refund", r"(?:will|shall) not (?:be )?refund", r"(?:forfeit|expire)\w*[^.;]{0,40}credits?"),
        raises_reason="Payments or credits are not refunded.",
    ),
    ClauseType(
        "auto_renewal", "Automatic Renewal",
        patterns=(r"automatic(?:ally)? renew\w*", r"auto-?renew\w*", r"renew\w* automatically",
                  r"recurring (?:billing|charges?|payments?|basis|subscription)", r"until (?:you )?cancel\w*",
                  r"charge\w* (?:\w+ ){0,4}(?:each|every) (?:month|year|billing (?:period|cycle))"),
        reason="The subscription renews and is charged again unless the user cancels.",
        protects=(r"remind (?:you|users)", r"notify you before (?:each |any )?renewal", r"cancel (?:at )?any time"),
        protects_reason="Renewal comes with a reminder or can be cancelled at any time.",
    ),
    ClauseType(
        "age_restriction", "Age Requirements and Minors",
        patterns=(r"(?:under|below|younger than|at least|over|older than) (?:the age of )?\d{1,2}(?: years)?",
                  r"\bminors?\b", r"\bchildren\b", r"parental (?:consent|permission)",
                  r"parents? or (?:legal )?guardians?",
                  r"age of (?:majority|\d{1,2})", r"\bCOPPA\b", r"legal age"),
        severity="low",
        reason="Sets a minimum age or rules for minors.",
    ),
    ClauseType(
        "account_security", "Account Security Responsibility",
        patterns=(r"(?:password|credentials|login|account)s?\b[^.;]{0,60}\b(?:confidential|secure|security|safeguard)",
                  r"\b(?:access |secret |API )?keys?\b[^.;]{0,80}\b(?:confidential|disclose|leak|unauthori[sz]ed)",
                  r"responsible for (?:all |any )?(?:activit\w+|actions|use) (?:that (?:occur|happen)s? )?(?:under|on|"
                  r"through|in|via) (?:your )?(?:account|password)", r"unauthori[sz]ed (?:use|access) (?:of|to) your "
                  r"account", r"two[- ]factor", r"\b2FA\b"),
        severity="low",
        reason="The user must keep the account and its password safe.",
        raises=(r"(?:all|any) (?:activit\w+|actions|use)[^.;]{0,60}(?:deemed|considered|treated as) "
                r"(?:your|the user'?s?)",
                r"(?:bear|liable for|responsible for)[^.;]{0,40}(?:loss|theft|unauthori[sz]ed)"),
        raises_reason="The user answers for everything done through the account, even by someone else.",
    ),
    ClauseType(
        "data_collection", "Personal Data Collection",
        patterns=(r"(?:we|us)\b[^.;]{0,30}\b(?:collect|gather|obtain|record)\w*\b",
                  r"information (?:that )?we (?:collect|receive|obtain)",
                  r"(?:collect|collects|collected|collection of)\b[^.;]{0,80}\b(?:personal|information|data)"),
        severity="low",
        reason="Describes what personal data the service collects.",
        raises=(r"\bbiometric", r"(?:precise|exact|gps) (?:geo)?location", r"face (?:data|geometry)|facial",
                r"voice ?prints?", r"health (?:data|information)", r"contacts? list|address book"),
        raises_reason="Sensitive data (biometrics, precise location, health, contacts) is collected.",
    ),
    ClauseType(
        "data_sharing", "Data Sharing and Sale",
        patterns=(r"(?:share|disclose|sell|transfer|provide|rent|make available)\w*\b[^.;]{0,80}\b(?:third[- ]part\w+|"
                  r"partners|affiliates|advertisers|service providers|vendors|law enforcement|authorities)",
                  r"\bsell\w* (?:your )?" + _PERSONAL, r"sale of (?:your )?" + _PERSONAL,
                  r"(?:merger|acquisition|bankruptcy|reorgani[sz]ation)"),
        reason="Personal data may go to other companies.",
        raises=(r"(?:we )?(?:may )?sell (?:your )?" + _PERSONAL, r"for (?:their own )?(?:advertising|marketing) "
                r"purposes", r"without (?:notifying you|your consent)"),
        raises_reason="Personal data may be sold or shared for others' advertising or without consent.",
        protects=(r"(?:do|does|will) not (?:sell|rent|share)", r"never (?:sell|rent|share)",
                  r"only (?:with|after) your (?:explicit |express )?consent"),
        protects_reason="The policy says personal data is not sold, or shared only with consent.",
    ),
    ClauseType(
        "user_choice", "Consent and Opt-Out Choices",
        patterns=(r"opt[- ]out", r"opt[- ]in", r"withdraw (?:your )?consent", r"unsubscrib\w+",
                  r"(?:you can|you may) (?:choose|control|manage|adjust|disable|change|turn off) " + _W
                  + r"(?:settings|preferences|cookies|notifications|communications|emails)"),
        severity="low",
        reason="Gives the user a choice over how data is used.",
    ),
    ClauseType(
        "user_rights", "Access, Correction and Deletion Rights",
        patterns=(r"right to (?:access|rectif\w+|correct\w*|eras\w+|delet\w+|data portability|portability|object|"
                  r"restrict)", r"(?:access|correct|update|delete|erase|export)\w*,? (?:\w+,? ){0,4}(?:your|the) "
                  r"(?:personal (?:data|information)|data|information|account)", r"data portability",
                  r"request (?:\w+ ){0,3}(?:access|deletion|correction|a copy)"),
        severity="low",
        reason="The user can see, correct or delete their data.",
    ),
    ClauseType(
        "data_retention", "Data Retention",
        # "We retain all rights not granted to you" is about ownership, not data.
        patterns=(r"\bretain\w*\b(?!" + _RIGHTS_RESERVED + ")", r"\bretention\b",
                  r"(?:keep|store)\w* (?:\w+ ){0,4}(?:for|as long as|until)",
                  r"as long as (?:is )?(?:necessary|needed|required)", r"\bindefinitely\b"),
        unless=(r"\bretain\w*" + _RIGHTS_RESERVED,),
        severity="low",
        reason="Says how long data is kept.",
        raises=(r"\bindefinitely\b", r"even after (?:you )?(?:delet|clos|terminat)\w+", r"backup copies",
                r"as long as (?:we|it) (?:deem|consider)"),
        raises_reason="Data may be kept indefinitely or after the user deletes it.",
    ),
    ClauseType(
        "data_security", "Data Security",
        patterns=(r"(?:security|safeguard|protect)\w* (?:\w+ ){0,4}(?:measures|practices|safeguards)", r"\bencrypt\w*",
                  r"(?:technical|organi[sz]ational) (?:and (?:technical|organi[sz]ational) )?(?:measures|safeguards)",
                  r"data breach", r"100% secure", r"unauthori[sz]ed access"),
        severity="low",
        reason="Describes how data is protected.",
        raises=(r"(?:cannot|can ?not|do not|does not) (?:guarantee|ensure|warrant)[^.;]{0,60}secur",),
        raises_reason="The company does not stand behind the security of the data.",
    ),
    ClauseType(
        "tracking", "Cookies, Tracking and Do Not Track",
        patterns=(r"\bcookies?\b", r"web beacons?", r"tracking pixels?", r"\bpixels?\b", r"do not track|\bDNT\b",
                  r"fingerprint\w*", r"local storage", r"\banalytics\b", r"tracking technolog\w+", r"\bSDKs?\b"),
        severity="low",
        reason="Describes cookies and similar tracking.",
        raises=(_IGNORES_SIGNAL, r"fingerprint\w*",
                r"(?:across|on) (?:other|third[- ]party) (?:websites|sites|apps|services)",
                r"(?:targeted|interest-based|personali[sz]ed) (?:advertising|ads)"),
        raises_reason="Tracking follows the user across sites or ignores Do Not Track.",
    ),
    ClauseType(
        # What the service does with the browser's own signal, apart from the cookie clauses `tracking` also covers
        # (SPEC §5 maps OPP-115's Do Not Track there): a question users ask of a service, and one California makes
        # every policy answer (CalOPPA) and, for Global Privacy Control, honour (CCPA).
        "do_not_track", "Do Not Track and Privacy Signals",
        patterns=(r"do[- ]not[- ]track", r"(?-i:\bDNT\b)", r"global privacy control", r"(?-i:\bGPC\b)",
                  r"opt[- ]out preferences? signals?", r"universal opt[- ]out mechanisms?"),
        severity="low",
        reason="Says how the service answers the browser's Do Not Track or Global Privacy Control signal.",
        raises=(_IGNORES_SIGNAL,),
        raises_reason="The service ignores the browser's Do Not Track or privacy signal.",
        protects=(r"(?<!not\s)(?<!n't\s)(?<!n’t\s)(?<!never\s)(?:respect|honou?r|recogni[sz]e|process|treat)\w* "
                  r"(?:\w+ ){0,8}(?:global privacy control|\bGPC\b|opt[- ]out preferences? signals?|do not track|"
                  r"\bDNT\b)",),
        protects_reason="The service honours the browser's privacy signal.",
    ),
    ClauseType(
        "international_transfer", "International Data Transfers",
        patterns=(r"(?:transfer|process|stor|host)\w* (?:\w+ ){0,6}(?:outside|other than) (?:of )?(?:your|the) "
                  r"(?:country|jurisdiction|european|EEA)", r"(?:international|cross-border) (?:data )?transfers?",
                  r"standard contractual clauses", r"adequacy decision", r"countries (?:other than|outside)",
                  r"(?:transferred|stored|processed) (?:\w+ ){0,4}(?:in|to) (?:the united states|the US|china|"
                  r"singapore|other countries|any country)"),
        reason="Data may leave the user's country, possibly to weaker protection.",
        protects=(r"standard contractual clauses", r"adequacy decision", r"appropriate safeguards"),
        protects_reason="Transfers rely on recognised safeguards.",
    ),
    ClauseType(
        "regional_rights", "Region-Specific Rights (EU, California…)",
        # "gdpr.x.com" is a web address, not a mention of the regulation.
        patterns=(r"\bGDPR\b(?!\.\w)|general data protection regulation",
                  r"\bCCPA\b|\bCPRA\b|california consumer privacy",
                  r"(?:california|EEA|european (?:economic area|union)|UK|brazil\w*|virginia|colorado|quebec) "
                  r"(?:residents?|users?|consumers?)", r"if you (?:are|reside|live) (?:in|a resident of) (?:the )?"
                  r"(?:european|EEA|EU\b|UK\b|california|brazil)", r"\bLGPD\b", r"\bPIPL\b", r"shine the light"),
        severity="low",
        reason="Rights that apply to users in particular regions.",
    ),
)


@lru_cache(maxsize=1)
def _taxonomy_finder() -> literals.FragmentFinder:
    """One finder for the fragments of every curated phrase of every type: a clause's are found once for all."""
    patterns = (p for t in CLAUSE_TYPES for p in (*t.patterns, *t.decides, *t.unless, *t.raises, *t.protects))
    return literals.FragmentFinder(literals.fragments_of(map(literals.requirements, patterns)))


BY_ID: dict[str, ClauseType] = {t.id: t for t in CLAUSE_TYPES}
TYPE_IDS: tuple[str, ...] = tuple(BY_ID)
CLAUDETTE_TYPES: dict[str, str] = {t.claudette: t.id for t in CLAUSE_TYPES if t.claudette}
