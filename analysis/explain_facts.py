"""Specifics stated in a clause: who, what data, how long, which court, which law, how much.

Each extractor reads the clause text and returns what it *states*, with the
words that state it as evidence. Nothing here guesses: a specific the text does
not state is simply not found, and the explanation then says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

STATED = "stated"
# Extractors that flag wording rather than state a specific: their absence is not a gap.
SIGNALS = frozenset({"discretion", "without_notice", "carve_outs"})
INFERRED = "inferred"


@dataclass(frozen=True)
class Fact:
    """One specific of a provision: ``stated`` (with the clause words) or ``inferred`` (from its type)."""

    name: str
    label: str
    value: str
    basis: str = STATED
    evidence: str = ""
    clause_key: str = ""


@dataclass(frozen=True)
class Finding:
    value: str
    evidence: str


Extractor = Callable[[str], list[Finding]]

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|eighteen|twenty|"
    "twenty-four|thirty|forty-five|sixty|ninety|a hundred and eighty|hundred"
)
_QUANTITY = rf"(?:\d{{1,4}}|{_NUMBER_WORDS})(?:\s*\(\d{{1,4}}\))?"
_UNIT = r"(?:business |calendar |working )?(?:hours?|days?|weeks?|months?|years?)"
_DURATION = re.compile(rf"\b{_QUANTITY}[\s-]+{_UNIT}\b", re.IGNORECASE)
# A proper name: capitalised words, case-sensitive even inside case-insensitive patterns.
# Words that start the next sentence when the punctuation before them is missing.
_NOT_A_NAME = r"(?!(?:You|We|The|This|These|Any|All|If|In|Our|Your|Each|Both|Such|It|For|Except|Unless)\b)"
_NAME_WORD = rf"{_NOT_A_NAME}[A-Z](?:[\w'’-]|\.(?=\w))*"
_PLACE = (
    r"(?:the )?(?-i:(?:(?:[Ss]tate|Commonwealth|Republic|Province|[Cc]ounty|City|Kingdom|District) of )?"
    rf"{_NAME_WORD}(?:(?:,? | of | and )(?:the )?{_NAME_WORD}){{0,8}})"
)
# "English law", "the Irish courts": a place named by its adjective.
_LAW_ADJECTIVE = (
    r"(?-i:English|Irish|Scottish|Welsh|British|French|German|Dutch|Belgian|Luxembourg|Swiss|Austrian|Swedish|Danish|"
    r"Norwegian|Finnish|Italian|Spanish|Portuguese|Polish|Singapore|Singaporean|Hong Kong|Chinese|Japanese|Korean|"
    r"Indian|Israeli|Canadian|Australian|Brazilian|US|U\.S\.|United States|Federal|California|Californian|New York|"
    r"Delaware|Texas|Washington|Illinois|Massachusetts|Cypriot|Maltese|Estonian)"
)
_KEEPS_THE = ("State ", "Commonwealth ", "Republic ", "Province ", "Kingdom ", "District ", "United ", "Netherlands",
              "People's ", "Hong Kong Special", "Northern District", "Southern District", "Eastern District",
              "Western District", "Central District", "City and County", "County of ")


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" ,;:.")


def _quote(text: str) -> str:
    """Clause words as a value; shouting capitals are lowered so the sentence reads."""
    text = _clean(text)
    return text.lower() if len(text) > 8 and text.isupper() else text


def _sentence_around(text: str, start: int, end: int, limit: int = 240) -> str:
    """The words around a match, cut to ``limit`` characters, as evidence."""
    left = max(text.rfind(".", 0, start), text.rfind("\n", 0, start), start - limit // 2)
    right_candidates = [i for i in (text.find(".", end), text.find("\n", end)) if i != -1]
    right = min([*right_candidates, end + limit // 2, len(text)])
    return _clean(text[left + 1:right + 1] if left >= 0 else text[:right + 1])


def _regex(pattern: str, group: str = "x", normalise: Callable[[str], str] = _quote) -> Extractor:
    compiled = re.compile(pattern, re.IGNORECASE)

    def extract(text: str) -> list[Finding]:
        findings = []
        for match in compiled.finditer(text):
            # Alternatives of one pattern may capture into "x" or "y".
            value = match.group(group) or match.groupdict().get("y")
            if value:
                findings.append(Finding(normalise(value), _sentence_around(text, match.start(), match.end())))
        return findings

    return extract


def _vocabulary(terms: dict[str, str]) -> Extractor:
    """Display names of the listed terms the text mentions (pattern → display name)."""
    compiled = [(re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), name) for pattern, name in terms.items()]

    def extract(text: str) -> list[Finding]:
        found = []
        for regex, name in compiled:
            if match := regex.search(text):
                found.append((match.start(), Finding(name, _clean(match.group(0)))))
        return [finding for _, finding in sorted(found, key=lambda pair: pair[0])]

    return extract


def _durations_near(keywords: str) -> Extractor:
    """Durations in the same sentence as one of ``keywords`` ("retain … for 30 days")."""
    keyword = re.compile(keywords, re.IGNORECASE)

    def extract(text: str) -> list[Finding]:
        findings = []
        for sentence in re.split(r"(?<=[.;])\s+", text):
            if keyword.search(sentence):
                findings.extend(Finding(_clean(m.group(0)), _clean(sentence)[:240]) for m in _DURATION.finditer(sentence))
        return findings

    return extract


def _combine(*extractors: Extractor) -> Extractor:
    def extract(text: str) -> list[Finding]:
        return [finding for extractor in extractors for finding in extractor(text)]

    return extract


def _place_name(value: str) -> str:
    value = _clean(value)
    value = value.removeprefix("the ").strip(" ,")
    return f"the {value}" if value.startswith(_KEEPS_THE) else value


_ARBITRATION_BODIES = {
    r"American Arbitration Association|AAA": "the American Arbitration Association (AAA)",
    r"JAMS|Judicial Arbitration and Mediation Services": "JAMS",
    r"International Chamber of Commerce|ICC": "the International Chamber of Commerce (ICC)",
    r"Singapore International Arbitration Cent(?:re|er)|SIAC": "the Singapore International Arbitration Centre (SIAC)",
    r"Hong Kong International Arbitration Cent(?:re|er)|HKIAC": "the Hong Kong International Arbitration Centre (HKIAC)",
    r"London Court of International Arbitration|LCIA": "the London Court of International Arbitration (LCIA)",
    r"International Cent(?:re|er) for Dispute Resolution|ICDR": "the International Centre for Dispute Resolution (ICDR)",
    r"China International Economic and Trade Arbitration Commission|CIETAC": "CIETAC",
    r"National Arbitration (?:and|&) Mediation|NAM": "National Arbitration and Mediation (NAM)",
}

_PERSONAL_DATA = {
    r"(?<!domain )(?<!user )(?<!trade )(?:full |legal |first |last |your )?names?": "name",
    r"e-?mail address(?:es)?": "email address",
    r"(?:tele)?phone numbers?": "phone number",
    r"(?:postal|mailing|billing|home|physical|street) address(?:es)?": "postal address",
    r"IP address(?:es)?": "IP address",
    r"device (?:identifiers?|IDs?|information)|advertising identifiers?|IDFA|AAID": "device identifiers",
    r"(?:precise |approximate |geo-?)?location(?: data| information)?|GPS": "location",
    r"payment (?:card |information|details|data)|credit card|card numbers?|billing information": "payment information",
    r"photos?|photographs?|images?|pictures?": "photos and images",
    r"videos?": "videos",
    r"voice(?:prints?| recordings?| data)?|audio recordings?": "voice and audio",
    r"biometric(?: data| information| identifiers?)?|face ?prints?|facial (?:geometry|recognition|features?)": "biometric data",
    # "contact us" is no data: the contacts of a phone are written "contacts" or "contact list".
    r"contacts(?: lists?)?|contact lists?|address book": "contacts",
    r"browsing history|search history|clickstream|pages? (?:you )?view(?:ed)?|page views": "browsing activity",
    r"cookies?": "cookie data",
    r"prompts?|inputs?": "prompts and inputs",
    r"(?:generated )?outputs?|generated (?:content|media)": "generated outputs",
    r"date of birth|birth ?date|your age": "date of birth or age",
    r"government(?:-issued)? (?:ID|identification)|passport|driver'?s licen[cs]e|social security": "government ID",
    r"health(?: data| information)?|medical": "health information",
    r"usage (?:data|information)|log (?:data|files?)|diagnostics?|crash reports?": "usage and log data",
    r"messages?|communications?|chats?": "messages",
}

_RECIPIENTS = {
    r"service providers?|vendors?|processors?|sub-?processors?|contractors?": "service providers",
    r"affiliates?|subsidiaries|group companies|corporate family": "affiliates",
    r"advertis(?:ers?|ing partners?|ing networks?)|ad networks?|marketing partners?": "advertisers",
    r"analytics (?:providers?|partners?|vendors?)|Google Analytics": "analytics providers",
    r"payment (?:processors?|providers?|vendors?)|Stripe|PayPal": "payment processors",
    r"law enforcement|government(?:al)? (?:authorities|agencies|bodies)|authorities|courts?|regulators?": "authorities and law enforcement",
    r"business partners?|partners?": "business partners",
    r"(?:potential )?(?:buyers?|acquirers?|successors?)|merger|acquisition": "a buyer or successor in a merger or sale",
    r"(?:AI|model|infrastructure|cloud|hosting|storage|CDN) providers?": "infrastructure and model providers",
    r"data brokers?": "data brokers",
    r"other users|the public|publicly": "other users or the public",
}

_RETENTION_TERMS = {
    r"(?:while|as long as|for as long as) (?:your|the) account (?:is|remains) (?:active|open)": "while your account is active",
    r"until (?:you delete|deleted|your account is (?:deleted|removed|closed|terminated))": "until you or your account delete it",
    r"as long as (?:is )?(?:reasonably )?(?:necessary|needed|required)|no longer than (?:is )?necessary": "as long as necessary (no fixed period)",
    r"(?:for )?a limited (?:period|time)": "a limited period (length not stated)",
    r"indefinitely|permanently|forever": "indefinitely",
    r"(?:as )?required (?:or permitted )?by (?:applicable )?law|legal (?:obligations?|requirements?)": "as the law requires",
}

_LICENCE_SCOPE = {
    r"worldwide|world-wide": "worldwide",
    r"royalty[- ]free": "royalty-free",
    r"fully[- ]paid": "fully paid",
    r"perpetual": "perpetual",
    r"irrevocable": "irrevocable",
    r"sub-?licen[cs]eable|right to sub-?licen[cs]e": "sublicensable",
    r"transferable|assignable": "transferable",
    r"non-?exclusive": "non-exclusive",
    r"(?<!non-)(?<!non )exclusive": "exclusive",
    r"commercial(?:ly)?": "commercial use",
    r"derivative works?|modify|adapt": "modification and derivative works",
    r"(?:moral rights)": "moral rights waived or licensed",
}

_DISCRETION = {
    r"(?:in|at) (?:our|its|their) (?:sole|absolute|own) discretion": "at the platform's sole discretion",
    r"for any (?:or no )?reason|without (?:any )?(?:reason|cause)": "for any reason or none",
    r"at any time": "at any time",
    r"without (?:any )?(?:prior |advance )?(?:notice|notification|warning)": "without notice",
    r"without (?:any )?liability": "without liability",
}

_CARVE_OUTS = {
    r"gross(?:ly)? negligen(?:ce|t)": "gross negligence",
    r"wil(?:l)?ful misconduct|intentional misconduct|wil(?:l)?ful default": "wilful misconduct",
    r"fraud(?:ulent)?": "fraud",
    r"death or personal injury|personal injury or death|bodily injury": "death or personal injury",
    r"to the (?:fullest |maximum )?extent (?:permitted|allowed|not prohibited) (?:by|under) (?:applicable )?law": "only as far as the law allows",
    r"(?:cannot|may not|does not) (?:be )?(?:exclude|limit)d?|nothing in these terms (?:shall )?(?:exclude|limit)s?": "liability the law does not allow to be excluded",
}

_AI_TRAINING = {
    r"train(?:ing|s|ed)?(?: our| its| the)? (?:AI |artificial intelligence |machine learning |ML )?(?:models?|algorithms?|systems?)": "training models",
    r"machine learning|artificial intelligence|\bAI\b": "machine learning / AI",
    r"improv(?:e|ing)(?: and develop(?:ing)?)? (?:our |the )?(?:services?|products?|models?|algorithms?)": "improving the service",
    r"develop(?:ing)? new (?:products|services|features)": "developing new products",
}

_REFUNDS = {
    r"non-?refundable|no refunds?|will not be refunded|not (?:be )?refund(?:ed|able)": "no refunds",
    r"refund(?:s|ed)? (?:within|in) \d+": "refunds within a stated period",
    r"pro-?rat(?:a|ed)": "pro-rated",
    r"credits?|points|tokens|resource packages?": "credits or virtual units",
    r"expir(?:e|es|ation|y)|cleared|forfeit(?:ed)?": "unused balance expires",
    r"(?:change|increase|adjust) (?:the |our )?(?:prices?|fees?)": "prices may change",
    r"taxes|VAT": "taxes",
    r"chargebacks?": "chargebacks",
}

_RENEWAL = {
    r"automatic(?:ally)? renew(?:s|ed|al)?|auto-?renew(?:s|al)?|renew(?:s)? automatically": "renews automatically",
    r"recurring (?:charges?|billing|payments?)": "recurring charges",
    r"free trial": "free trial converts to paid",
    r"cancel(?:l?ation)? (?:at )?any ?time": "cancel any time",
    r"(?:before|prior to) the (?:end|expiry|expiration) of the (?:current |then-current )?(?:billing |subscription )?(?:period|term|cycle)": "cancel before the period ends",
}

_TRANSFER_MECHANISMS = {
    r"standard contractual clauses|SCCs?|model clauses": "Standard Contractual Clauses",
    r"adequacy (?:decisions?|findings?)": "adequacy decisions",
    r"Data Privacy Framework|DPF|Privacy Shield": "EU-US Data Privacy Framework",
    r"binding corporate rules|BCRs?": "Binding Corporate Rules",
    r"(?:your )?(?:explicit )?consent": "consent",
    r"appropriate (?:safeguards|measures)": "unspecified 'appropriate safeguards'",
}

_COUNTRIES = {
    r"United States|U\.S\.|USA|\bUS\b": "the United States",
    r"(?:People'?s Republic of )?China|PRC": "China",
    r"Singapore": "Singapore",
    r"Hong Kong": "Hong Kong",
    r"India": "India",
    r"Japan": "Japan",
    r"(?:South )?Korea": "South Korea",
    r"United Kingdom|\bUK\b": "the United Kingdom",
    r"Ireland": "Ireland",
    r"countries other than (?:your own|the country in which you reside)|outside (?:your|the) (?:country|EEA|European Economic Area)": "countries outside your own (unnamed)",
}

_SECURITY = {
    r"encrypt(?:ion|ed)?|TLS|SSL|HTTPS": "encryption",
    r"access controls?|role-based access|least privilege": "access controls",
    r"pseudonymi[sz](?:ation|ed)|anonymi[sz](?:ation|ed)": "pseudonymisation",
    r"two-factor|2FA|multi-factor|MFA": "multi-factor authentication",
    r"audits?|penetration test": "audits and testing",
    r"(?:administrative|technical|organi[sz]ational|physical) (?:safeguards|measures)": "administrative, technical and organisational measures",
    r"(?:cannot|can't|not be) (?:be )?guarantee[ds]?|(?:no|not) (?:method|system|service)[^.]{0,60}(?:100%|completely|fully) secure": "no guarantee of security",
    r"breach(?:es)? notif|notify you (?:of|in the event of) (?:a|any) (?:data |security )?breach": "breach notification",
}

_TRACKING = {
    r"cookies?": "cookies",
    r"(?:web )?beacons?|pixels?|pixel tags?|clear gifs?": "pixels and web beacons",
    r"SDKs?|software development kits?": "SDKs",
    r"local storage|session storage": "local storage",
    r"fingerprint(?:ing)?": "device fingerprinting",
    r"Do Not Track|DNT": "Do Not Track signals",
    r"Global Privacy Control|GPC": "Global Privacy Control",
    r"cross-(?:context|site) (?:behavio(?:u)?ral )?advertising|targeted advertising|interest-based advertising|personali[sz]ed (?:ads|advertising)": "targeted advertising",
    r"Google Analytics|analytics": "analytics",
}

_RIGHTS = {
    r"access(?:ing)?(?: to)? (?:your |the )?(?:personal )?(?:data|information)|right (?:of|to) access|copy of (?:your )?(?:personal )?(?:data|information)": "access",
    r"correct(?:ion)?|rectif(?:y|ication)|update (?:inaccurate|your)": "correction",
    r"delet(?:e|ion)|eras(?:e|ure)": "deletion",
    r"portab(?:le|ility)|export": "portability",
    r"object(?:ion)?(?: to)?": "objection",
    r"restrict(?:ion)?(?: of)? (?:certain )?processing|restrict (?:certain )?processing": "restriction",
    r"withdraw(?:al of)? (?:your )?consent": "withdrawing consent",
    r"opt[- ]out of (?:the )?(?:sale|sharing)|do not sell": "opting out of sale or sharing",
    r"appeal": "appeal",
    r"lodge a complaint|complain to|supervisory authority": "complaining to a regulator",
}

_CHOICES = {
    r"opt[- ]?out": "opt-out",
    r"opt[- ]?in|explicit (?:consent|permission)|your consent": "opt-in consent",
    r"unsubscrib(?:e|ing)": "unsubscribe link",
    r"(?:account|privacy|cookie) settings|preferences": "settings",
    r"withdraw (?:your )?consent": "withdraw consent",
    r"(?:turn|switch)(?:ing)? off|disabl(?:e|ing)": "turn off",
}

_REGIONS = {
    r"European Economic Area|EEA|European Union|\bEU\b|GDPR": "EU/EEA",
    r"United Kingdom|\bUK\b|UK GDPR": "United Kingdom",
    r"California|CCPA|CPRA": "California",
    r"Virginia|Colorado|Connecticut|Utah|Texas|Oregon|Montana": "other US states",
    r"Brazil|LGPD": "Brazil",
    r"Canada|PIPEDA|Quebec": "Canada",
    r"China|PIPL": "China",
    r"Switzerland|Swiss": "Switzerland",
    r"Australia": "Australia",
    r"Korea|PIPA": "South Korea",
    r"Japan|APPI": "Japan",
    r"Illinois|BIPA": "Illinois",
}

_OWNERSHIP = {
    r"you (?:retain|keep|own|will own)(?: all)?(?: (?:right|title|ownership))?|owned by you|belongs? to you|yours": "you own it",
    r"(?:we|the company) (?:own|retain|reserve)s?(?: all)?(?: right, title and interest)?|owned by us|belongs? to us|property of": "the platform owns it",
    r"assign(?:s|ment)? to you|hereby assigns?": "rights assigned to you",
    r"(?:not|no) (?:be )?restricted|commercial (?:purposes|use)": "commercial use allowed",
    r"similar (?:or identical )?(?:outputs?|content)|not unique": "outputs may not be unique",
    r"copyright(?:able)?|intellectual property": "intellectual property",
}

_SECURITY_DUTIES = {
    r"password|credentials|login details|access keys?|API keys?|secret keys?|\bKey\b": "keep credentials secret",
    r"(?:responsible|liable) for (?:all )?(?:activities|activity|use)": "responsible for all account activity",
    r"notify us (?:immediately|promptly)|immediately notify": "notify the platform of unauthorised use",
    r"not (?:be )?(?:liable|responsible) for (?:any )?(?:loss|damage)": "platform not liable for losses",
    r"(?:not|never) (?:share|transfer|disclose|lend|rent)": "do not share the account",
}

_INDEMNITY = {
    r"defend": "defend",
    r"indemnif(?:y|ies|ication)": "indemnify",
    r"hold (?:us |\w+ )?harmless": "hold harmless",
    r"(?:reasonable )?(?:attorneys?'?|lawyers?'?|legal) fees|costs of (?:defen[cs]e|litigation)": "legal fees",
    r"third[- ]party claims?|claims? (?:by|of|from) (?:a |any )?third part(?:y|ies)": "third-party claims",
    r"(?:our|its) (?:affiliates|officers|directors|employees|agents)": "the platform's officers and affiliates",
}

_WARRANTY = {
    r"as[- ]is": "as is",
    r"as[- ]available": "as available",
    r"merchantability": "merchantability",
    r"fitness for a particular purpose": "fitness for a particular purpose",
    r"non-?infringement": "non-infringement",
    r"(?:accurate|accuracy|reliab(?:le|ility)|complete(?:ness)?|error-free|uninterrupted)": "accuracy, reliability or availability",
}

_ACCEPTANCE = {
    r"by (?:using|accessing|visiting|browsing|downloading|installing)": "by using the service",
    r"continu(?:ed|ing|e to) (?:use|access)": "by continuing to use it",
    r"click(?:ing)? (?:on )?(?:\"|“)?(?:I agree|accept|buy|sign up|continue)": "by clicking",
    r"check(?:ing)? the box": "by ticking a box",
    r"(?:creat(?:e|ing)|register(?:ing)?) (?:an )?account": "by creating an account",
    r"(?:making|make) (?:a )?payment|purchas(?:e|ing)": "by paying",
}

_CHANGE_CHANNELS = {
    r"by (?:e-?mail|email)|via (?:e-?mail|email)|email (?:you|address)": "email",
    r"post(?:ing|ed)? (?:the )?(?:revised|updated|new|changes?)|on (?:this|the) (?:page|site|website)": "posting on the site",
    r"in-?(?:app|site|product) (?:messages?|notices?|notifications?)|announcements?": "in-app notice",
    r"(?:updated|revised|new) (?:effective |last updated )?date|last updated": "a new 'last updated' date",
}

_CONTENT_ACTIONS = {
    r"remov(?:e|al|ing)|take (?:it )?down|delet(?:e|ing)": "remove",
    r"disabl(?:e|ing) access|block(?:ing)?|restrict(?:ing)? (?:access|visibility)": "disable or restrict access",
    r"refus(?:e|al) to (?:post|publish|display)|reject": "refuse to publish",
    r"modify|edit": "edit",
    r"(?:review|monitor|screen|moderat)(?:e|ing|ion)?": "monitor or review",
}

_PROHIBITED = {
    r"illegal|unlawful": "illegal content",
    r"infring(?:e|es|ing|ement)": "infringing content",
    r"hate(?:ful)?|harass(?:ment|ing)?|threat(?:en|ening|s)?|abus(?:e|ive)": "hate, harassment or abuse",
    r"sexual(?:ly explicit)?|porn(?:ographic|ography)?|nudity|obscene": "sexual content",
    r"minors?|child(?:ren)?": "content harming minors",
    r"violen(?:ce|t)|terroris(?:m|t)": "violence or terrorism",
    r"deep ?fakes?|impersonat(?:e|ion)|misleading|deceptive|disinformation|false": "deception and impersonation",
    r"spam|malware|viruses?|hack(?:ing|er)?|scrap(?:e|ing)|robots?|spiders?|crawl(?:er|ing)?|reverse engineer": "abuse of the service (scraping, malware, reverse engineering)",
    r"privacy|personal (?:data|information)": "violating others' privacy",
}


def _law_of_place(value: str) -> str:
    return f"the law of {_place_name(value)}"


def _state_case(value: str) -> str:
    """``state of Texas`` as written → ``State of Texas``; ``county of Santa Clara`` likewise."""
    return re.sub(r"^(the )?(state|county) of", lambda m: f"{m[1] or ''}{m[2].title()} of", value)


EXTRACTORS: dict[str, tuple[str, Extractor]] = {
    "arbitration_body": ("Arbitration provider", _vocabulary(_ARBITRATION_BODIES)),
    "governing_law": ("Governing law", _combine(
        _regex(rf"\b(?:internal |substantive |applicable )*laws? of (?P<x>{_PLACE})",
               normalise=lambda v: _law_of_place(_state_case(v))),
        _regex(rf"\b(?P<x>{_LAW_ADJECTIVE}) law\b", normalise=lambda v: f"{_clean(v)} law"),
    )),
    "venue": ("Court or venue", _combine(
        _regex(rf"(?:courts?|tribunals?)(?: of competent jurisdiction)?(?: (?:located|sitting|situated|seated|based))?"
               rf" (?:in|of|for|within) (?P<x>{_PLACE})", normalise=lambda v: f"the courts of {_place_name(_state_case(v))}"),
        _regex(rf"\b(?P<x>(?:the )?{_LAW_ADJECTIVE}) courts\b", normalise=lambda v: re.sub(r"^the ", "", _clean(v), flags=re.I).join(("the ", " courts"))),
        _regex(rf"\bvenue\b[^.;]{{0,60}}? in (?P<x>{_PLACE})", normalise=lambda v: f"a venue in {_place_name(v)}"),
    )),
    "seat": ("Place of arbitration", _regex(
        rf"(?:arbitration|hearings?|proceedings?)[^.;]{{0,60}}? (?:held|seated|conducted|take place|located|venue)[^.;]{{0,20}}? in (?P<x>{_PLACE})",
        normalise=_place_name,
    )),
    "opt_out_window": ("Opt-out window", _durations_near(r"opt[- ]?out|reject (?:this|the) arbitration")),
    "notice_period": ("Notice period", _regex(
        rf"(?P<x>(?:at least |no less than |not less than )?{_QUANTITY}[\s-]+{_UNIT}['’]?)\s*(?:prior |advance |written |'|’)*(?:written )?notice"
        rf"|notice[^.;]{{0,40}}?(?P<y>(?:at least |no less than )?{_QUANTITY}[\s-]+{_UNIT}) (?:before|prior|in advance)",
        normalise=lambda v: _clean(v).rstrip("'’"),
    )),
    "without_notice": ("Notice", _vocabulary({
        r"without (?:any )?(?:prior |advance )?(?:notice|notification|warning)": "may act without notice",
        r"reasonable (?:prior |advance )?notice|reasonable endeavou?rs to notify|reasonable efforts to notify": "reasonable notice, no period stated",
    })),
    "retention_period": ("Retention period", _combine(
        _durations_near(r"retain|retention|keep|kept|stor(?:e|ed|age)|delet|remain"),
        _vocabulary(_RETENTION_TERMS),
    )),
    "periods": ("Periods stated", _regex(rf"(?P<x>{_DURATION.pattern})")),
    # "Any claim must be filed within one (1) year after it arose, or it is forever barred."
    "limitation_period": ("Time limit for claims", _durations_near(
        r"\b(?:must|shall|should|will) (?:be )?(?:brought|filed|file|commenced?|initiated?|asserted|made|bring)\b|\bbarred\b"
        r"|\baccru(?:e|es|ed)\b|\barose\b|\btime[- ]limit")),
    "amount_cap": ("Amount or cap", _regex(
        r"(?P<x>(?:US\s?\$|USD\s?|\$|€|£|EUR\s?|GBP\s?|RMB\s?|¥)\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:USD|EUR|GBP|dollars))?"
        r"|(?:the )?(?:total |aggregate )?(?:amounts?|fees?|sums?|price)(?: (?:that|which))?"
        r"(?: (?:you|user) (?:have )?(?:actually )?paid| paid(?: to us)?(?: by you)?)"
        r"(?:[^.;]{0,40}?(?:in|during|within|for|over) the (?:\w+ ){0,2}(?:\(\d+\) )?(?:months?|years?|period)"
        r"(?: (?:preceding|before|prior to) [^.;,]{0,40})?)?)",
    )),
    "age": ("Age threshold", _regex(
        r"(?:under|below|younger than|at least|over|older than|age of|aged|minimum age of)\s+(?:the age of\s+)?(?P<x>\d{1,2})\b(?! ?%)",
        normalise=lambda v: f"{v} years",
    )),
    "data_categories": ("Data named", _vocabulary(_PERSONAL_DATA)),
    "recipients": ("Recipients named", _vocabulary(_RECIPIENTS)),
    "sale": ("Sale of data", _vocabulary({
        r"(?:do|does|will) not sell|never sell|not sell": "says it does not sell personal data",
        r"(?<!not )(?<!never )\bsell(?:s|ing)?\b|\bsale of\b": "mentions selling data",
    })),
    "licence_scope": ("Licence terms", _vocabulary(_LICENCE_SCOPE)),
    "ai_training": ("Use for models", _vocabulary(_AI_TRAINING)),
    "training_refused": ("Training excluded", _vocabulary({
        r"(?:do|does|will|shall) not (?:use|train|share)[^.;]{0,80}?(?:train|machine learning|models?)": "says content is not used for training",
        r"(?:never|not) (?:be )?used (?:to|for) train": "says content is not used for training",
    })),
    "discretion": ("Discretion", _vocabulary(_DISCRETION)),
    "carve_outs": ("Exceptions", _vocabulary(_CARVE_OUTS)),
    "class_waiver": ("Collective actions", _vocabulary({
        r"class actions?|class arbitrations?|class[- ]wide|collective actions?|representative (?:actions?|proceedings?)": "class and representative actions waived",
        r"jury trial": "jury trial waived",
    })),
    "refund_terms": ("Payment terms", _vocabulary(_REFUNDS)),
    "renewal_terms": ("Renewal terms", _vocabulary(_RENEWAL)),
    "transfer_mechanisms": ("Transfer safeguards", _vocabulary(_TRANSFER_MECHANISMS)),
    "countries": ("Countries named", _vocabulary(_COUNTRIES)),
    "security_measures": ("Security measures", _vocabulary(_SECURITY)),
    "tracking_tech": ("Technologies named", _vocabulary(_TRACKING)),
    "rights": ("Rights listed", _vocabulary(_RIGHTS)),
    "choices": ("Choices offered", _vocabulary(_CHOICES)),
    "regions": ("Regions named", _vocabulary(_REGIONS)),
    "ownership": ("Ownership", _vocabulary(_OWNERSHIP)),
    "security_duties": ("Your duties", _vocabulary(_SECURITY_DUTIES)),
    "indemnity_scope": ("Indemnity covers", _vocabulary(_INDEMNITY)),
    "warranty_terms": ("Warranties disclaimed", _vocabulary(_WARRANTY)),
    "acceptance": ("How you accept", _vocabulary(_ACCEPTANCE)),
    "change_channels": ("How changes are announced", _vocabulary(_CHANGE_CHANNELS)),
    "content_actions": ("Actions reserved", _vocabulary(_CONTENT_ACTIONS)),
    "prohibited": ("Content prohibited", _vocabulary(_PROHIBITED)),
    "contact": ("Contact", _regex(r"(?P<x>\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b)")),
}


def extract(names: Iterable[str], texts: Iterable[tuple[str, str]]) -> dict[str, list[Fact]]:
    """For each fact name, what the clause texts state, in order, without repeats.

    ``texts`` are ``(clause key, clause text)`` pairs, most severe clause first.
    Unknown names raise ``KeyError`` naming the fact.
    """
    texts = list(texts)
    found: dict[str, list[Fact]] = {}
    for name in names:
        if name not in EXTRACTORS:
            raise KeyError(f"no fact extractor named {name!r}")
        label, extractor = EXTRACTORS[name]
        seen: dict[str, Fact] = {}
        for key, text in texts:
            for finding in extractor(text):
                if finding.value and finding.value.lower() not in seen:
                    seen[finding.value.lower()] = Fact(name, label, finding.value, STATED, finding.evidence, key)
        if seen:
            found[name] = list(seen.values())
    return found
