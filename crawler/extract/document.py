"""The entry points: fetched parts of a document to its normalised text, and where each part begins."""

from __future__ import annotations

import re
from collections.abc import Sequence

from analysis.domain import SourceSpec
from analysis.text import join_parts, normalize_text, sentences, under_headings
from analysis.volatile import VolatileRules, mask_volatile_text
from crawler.extract.body import charset, check_decoded, decode, sniff_kind
from crawler.extract.bot_walls import UNWRITTEN_WORDS, check_plain_error
from crawler.extract.errors import NO_RULES, ExtractionError
from crawler.extract.page import html_markdown
from crawler.extract.pdf import pdf_text

Part = tuple[bytes, "str | None", str, SourceSpec]


def extract_source(body: bytes, content_type: str | None, url: str, source: SourceSpec,
                   volatile: VolatileRules = NO_RULES) -> str:
    """The normalised Markdown text of one fetched source."""
    return extract_document([(body, content_type, url, source)], volatile)


def extract_document(parts: Sequence[Part], volatile: VolatileRules = NO_RULES) -> str:
    """The normalised text of a document made of several sources, joined in order.

    ``volatile`` holds the document's learned and declared volatile values
    (analysis/volatile.py); per-visit tokens are dropped whatever it holds.
    """
    return extract_parts(parts, volatile)[0]


def extract_parts(parts: Sequence[Part], volatile: VolatileRules = NO_RULES) -> tuple[str, tuple[int, ...]]:
    """The normalised text of a document made of several sources, and where each source begins in it."""
    if not parts:
        raise ExtractionError("empty", "the document has no fetched sources")
    sources = [_source_markdown(*part, volatile) for part in parts]
    if all(_skeleton(source) for source in sources):
        # A part may be a title alone (a source selecting its <h1>), never the whole document.
        raise ExtractionError("empty", f"only headings ({sources[0].strip()[:40]!r}) left after extraction of "
                                       f"{parts[0][2]}: the text under them is not in the page (a page only a browser "
                                       "shows needs `fetcher: browser`)")
    # Masking works on normalised lines (the templates were learned from them).
    text = normalize_text(mask_volatile_text(normalize_text("\n\n".join(sources)), volatile))
    if len(sources) == 1:
        return text, (0,)
    # Templates are line by line, so masking each page alone gives the same lines.
    joined, starts = join_parts([mask_volatile_text(normalize_text(source), volatile) for source in sources])
    return text, starts if joined == text else tuple(min(start, len(text)) for start in starts)


# All that is left of an application's shell before its script runs, or of a page not yet written, under its
# headings if it has any ("# Terms of Service" over "Coming soon."), in the languages of bot_walls' stand-ins.
_PLACEHOLDER = re.compile(
    r"\W*+(?:loading|please\s+wait|one\s+moment(?:\s+please)?|(?:you\s+need\s+to\s+)?enable\s+javascript"
    r"(?:\s+to\s+run\s+this\s+app)?|javascript\s+(?:is\s+)?required"
    # Loading, and please wait.
    r"|wird\s+geladen|l[äa]dt|chargement(?:\s+en\s+cours)?|cargando|caricamento(?:\s+in\s+corso)?"
    r"|(?:bezig\s+met\s+)?laden|(?:a\s+)?carregar|carregando|carregant|загрузка|načítání|načítá\s+se|indlæser"
    r"|betöltés|bitte\s+warten|veuillez\s+patienter|(?:por\s+favor,?\s+)?espere(?:\s+por\s+favor)?"
    r"|attendere(?:\s+prego)?|even\s+geduld(?:\s+a\.?u\.?b\.?)?|aguarde|(?:пожалуйста,?\s+)?подождите"
    r"|čekejte(?:\s+prosím)?|vent\s+venligst|kérjük,?\s+várjon"
    # Enable JavaScript.
    r"|(?:bitte\s+)?javascript\s+aktivieren|(?:veuillez\s+)?activer\s+javascript|activez\s+javascript"
    r"|(?:activa|habilita)\s+javascript|(?:abilita|attiva)\s+javascript|javascript\s+inschakelen"
    r"|(?:ative|habilite)\s+o\s+javascript|включите\s+javascript|povolte\s+javascript|aktivér\s+javascript"
    r"|engedélyezze\s+a\s+javascriptet|" + "|".join(UNWRITTEN_WORDS) + r")\W*\Z", re.I)
# ... or, in a few words, an application's apology for the script it could not run ("JavaScript is required to
# view this page. Please enable JavaScript in your browser settings.") or a template's filler text.
_SHELL_WORDS = 300
# "it" is JavaScript only in a sentence it opens ("Please enable it."): "… we'll deactivate it", "permissions that allow
# it to access …", "encourage users to enable it" are real policies' (APPSI-139, ToS;DR; a one-sentence page of each
# was refused as an application's shell).
_NEEDS_SCRIPT = re.compile(r"(?<![\w-])(?:enable|turn\s+on|activate|allow)\s+(?:javascript|js)(?![\w-])"
                           r"|^\W*(?:please\s+)?(?:enable|turn\s+on|activate|allow)\s+it(?![\w-])"
                           r"|\bjavascript\s+(?:is\s+)?(?:required|disabled|not\s+enabled|must\s+be\s+(?:enabled|turned"
                           r"\s+on)|is\s+(?:turned\s+)?off)(?![\w-])|\brequires?\s+javascript(?![\w-])"
                           r"|\bwith(?:out)?\s+javascript(?:\s+enabled)?(?![\w-])"
                           # Asked for, in the other languages, by a verb opening the sentence or after "please"
                           # (or Russian's "Для работы сайта"): "Bitte aktivieren Sie JavaScript", "Activez
                           # JavaScript", "Pour continuer, veuillez activer JavaScript", "Включите JavaScript"...; not
                           # "Sie können JavaScript aktivieren oder deaktivieren", "Vous pouvez activer JavaScript …".
                           r"|(?:^\W*(?:для\s+(?:[\w-]+\s+){1,3})?|(?<!\w)(?:bitte|veuillez|merci\s+d'|por\s+favor"
                           r"|per\s+favore|si\s+prega\s+di|gelieve|a\.?u\.?b\.?|prosím|пожалуйста|venligst|kérjük)[\s,]+)"
                           r"(?:(?:aktivier(?:en|e)|aktiv[ée]re?|activ(?:er|ez|a|ar|eu)|habilit(?:a|e|ar)|abilit(?:a|are|i)"
                           r"|attiv(?:a|are|i)|ativ(?:e|ar|a)|povol(?:te|it)|zapn(?:ěte|out)|включит[еь]"
                           r"|engedélyez(?:ze|d|ni))\s+(?:(?:sie|bitte|le|el|il|o|a|si)\s+){0,2}javascript"
                           r"|schakel\s+javascript\s+in\b|javascript\s+(?:aktivieren|inschakelen|einschalten))"
                           # ... or said to be missing: "JavaScript ist deaktiviert", "JavaScript est désactivé".
                           r"|\bjavascript\s+(?:ist\s+(?:deaktiviert|erforderlich)|est\s+(?:d[ée]sactiv[ée]|requis"
                           r"|n[ée]cessaire)|est[áa]\s+(?:desactivado|deshabilitado|desativado|desabilitado)"
                           r"|[èe]\s+(?:disabilitato|disattivato|richiesto)|is\s+(?:uitgeschakeld|vereist)"
                           r"|отключ[её]н|je\s+(?:vypnut|zakázán)\w*|er\s+(?:deaktiveret|slået\s+fra)"
                           r"|le\s+van\s+tiltva)", re.I)
_FILLER_PAGE = 2000
_FILLER = re.compile(r"\W*lorem\s+ipsum\s+dolor\b", re.I)
# A title over numbered sections, nothing under them: a skeleton whose text a script loads.
_SECTION_NUMBER = re.compile(r"#+\s+(?:(?:\d+(?:\.\d+)*|[IVX]+)[.):]|\d+(?:\.\d+)*\s|§\s*\d|(?:article|section)\s+\d)",
                             re.I)


def _source_markdown(body: bytes, content_type: str | None, url: str, source: SourceSpec,
                     volatile: VolatileRules = NO_RULES) -> str:
    kind = sniff_kind(body, content_type, url)
    if kind == "pdf":
        text = pdf_text(body, url)
    elif kind == "text":
        text = decode(body, charset(content_type), is_html=False)
        check_decoded(text, body, url)
        check_plain_error(text, url)
    else:
        text = html_markdown(body, content_type, url, source, volatile)
    if not text.strip():
        hidden = _HIDDEN_TEXT.search(body[:_HIDDEN_WINDOW]) if kind == "html" else None
        raise ExtractionError("empty", f"no text left after extraction of {url}" + (
            f": what text it has may be inside <{hidden[1].decode().lower()}>, which a browser running its script "
            "does not show (declare `fetcher: browser`)" if hidden else ""))
    _check_placeholder(text, url)
    return text


# Where a page keeps text a browser running its script does not show: an empty page holding one is the shell of
# an application (probe of 2026-12-03: the detail said nothing of where the policy's words were).
_HIDDEN_TEXT = re.compile(rb"<(noscript|template)\b", re.I)
_HIDDEN_WINDOW = 2_000_000


def _skeleton(text: str) -> bool:
    """Whether a text is headings alone, a title or a title over numbered sections: what is left of a page whose
    text a script loads. A page builder's imprint set all in <h4>s has more to say."""
    headings = [line for line in text.splitlines() if line.strip()]
    return not under_headings(text) and (len(headings) == 1 or all(map(_SECTION_NUMBER.match, headings[1:])))


def _check_placeholder(text: str, url: str) -> None:
    """Raise ``empty`` when all a text holds under its headings is a placeholder, an application's apology for the
    script it could not run, or filler: a page not written yet, or one only a browser running its script shows."""
    words = under_headings(text)
    if _PLACEHOLDER.match(words) or (len(words) < _SHELL_WORDS and words
                                     and all(map(_NEEDS_SCRIPT.search, sentences(words)))):
        raise ExtractionError("empty", f"only {words[:60]!r} left after extraction of {url}: an application's "
                                       "shell or a placeholder, not the document (a page only a browser shows needs "
                                       "`fetcher: browser`)")
    if len(words) < _FILLER_PAGE and _FILLER.match(words):
        raise ExtractionError("empty", f"only filler text ({words[:40]!r}) left after extraction of {url}")
