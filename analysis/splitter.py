"""Split a normalised version text into clauses, following the document's own structure.

The input is the normalised Markdown the extractor produces, or plain text with
the same shapes: ``#`` headings, ALL-CAPS or bold-only heading lines, numbered
sections (``1.``, ``1.1``, ``1.1.1``), enumerations (``(a)``, ``(i)``, ``a)``,
``(1)``), bullets (``-``, ``*``, ``•``) and definitions (``“X” means …``).

Rules (SPEC §2, §5):

- every numbered part is its own clause, so no clause is a whole section that
  has numbered parts; the numbers go into the heading path
  (``("8. Instructions of Conduct", "8.2", "8.2.1")``);
- a lead-in ending with ``:`` keeps its list items when they are all short, so
  an enumerated obligation is one clause; long items become clauses of their own;
- a very long paragraph is cut only between sentences;
- fragments too small to mean anything alone are merged into a neighbour.

Every clause text is an exact slice of the input, so its position can be shown
and cited. Keys are provisional: a hash of the heading words (numbers removed)
and the clause words, the same on every machine; the change engine later
carries keys over from the previous version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from analysis.dates import stated_date_spans
from analysis.domain import Clause
from analysis.text import sha256_text

# An item of an enumeration longer than this is a provision in its own right.
SHORT_ITEM_CHARS = 300
# A lead-in and its items stay one clause only up to this size.
MAX_GROUP_CHARS = 2000
# Paragraphs longer than this are cut between sentences into pieces of about TARGET.
MAX_CLAUSE_CHARS = 2500
TARGET_PIECE_CHARS = 1200
# Fragments shorter than this ("Definitions:", "We may collect:") join a neighbour.
TINY_CHARS = 40
# A heading line is short; a longer line is a paragraph even in capitals.
MAX_HEADING_CHARS = 100

# Horizontal rules, setext underlines and the |---|---| line under a table header.
_RULE = re.compile(r"^(?:={3,}|(?:- ?){3,}|(?:\* ?){3,}|(?:_ ?){3,}|\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?)?\s*)$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^(\*\*|__)(?P<inner>[^*_].*?)\1:?$")
# "1." needs its dot; "1.1" and "1.1.1" may drop the last one. "17 U.S.C." is no number.
_DOTTED = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,3}){1,4}\.?|\d{1,3}\.)\s+(?=\S)")
_PAREN = re.compile(r"^\((?P<label>[A-Za-z]{1,4}|\d{1,3})\)\s*(?=\S)")
_HALF_PAREN = re.compile(r"^(?P<label>[a-z]|[ivx]{1,4}|\d{1,2})\)\s+(?=\S)")
# Markdown converters write list items as "1.  text" (two spaces); a section number has one.
_MD_ORDERED = re.compile(r"^(?P<indent>\s*)(?P<num>\d{1,3})\.\s{2,}(?=\S)")
_BULLET = re.compile(r"^(?P<indent>\s*)(?:[-*+•·▪◦‣]|\\-)\s+(?=\S)")
_DEFINITION = re.compile(r"^[\"“”'‘’«]\s*(?P<term>[^\"“”'‘’»]{1,80}?)\s*[\"“”'‘’»]\s*(?:means|refers|shall mean|has the meaning|includes)\b")
_ROMAN = re.compile(r"^(?=[ivxlc]+$)m{0,3}(c[md]|d?c{0,3})(x[cl]|l?x{0,3})(i[xv]|v?i{0,3})$", re.IGNORECASE)
_TERMINAL = ".;,!?:"
# A subject and what it does or may do: how clauses open, and headings do not ("How We Use Data" does not match).
_STATEMENT = re.compile(
    r"^(?:we|you|they|it|users?|the (?:company|user|customer)s?)\s+(?P<verb>(?:may|will|shall|must|can|cannot|"
    r"might|would|should)(?:\s+not)?|(?:do|does) not|agree|agrees|grant|grants|acknowledge|acknowledges|reserve|"
    r"reserves|collect|collects|use|uses|share|shares|sell|sells|retain|retains|keep|keeps|are|is)\b",
    re.IGNORECASE)
# "What data do you collect?" is a heading when it stands alone on its line.
_QUESTION = re.compile(r"^(?:What|How|Why|When|Where|Who|Whom|Which|Do|Does|Can|Is|Are|Will|Should)\b[^.!;:]{0,90}\?$")
# A sentence ends at . ! ? followed by a space and a capital, quote, digit or bracket,
# unless the word before the dot is a common abbreviation.
_SENTENCE_END = re.compile(r"(?<=[.!?;])[\"”’)]?\s+(?=[\"“‘(\[A-Z0-9])")
# Line breaks kept inside table cells: a cell's list items end there.
_LINE_BREAK_TAG = re.compile(r"(?:<br\s*/?>\s*)+", re.IGNORECASE)
_ABBREVIATIONS = re.compile(r"(?:\b(?:e\.g|i\.e|etc|inc|ltd|co|corp|no|nos|art|sec|para|vs|mr|mrs|ms|dr|st|u\.s|jr|sr)\.|\b[A-Z]\.|\b(?-i:[IVXLC]{1,6})\.)$", re.IGNORECASE)


@dataclass(frozen=True)
class ClauseSpan:
    """A clause with its position in the text it was split from."""

    start: int
    end: int
    heading_path: tuple[str, ...]


@dataclass
class _Block:
    """One paragraph, heading or list item of the text, as character offsets."""

    start: int
    end: int
    text: str
    heading_level: float | None = None
    marker: tuple[str, str] | None = None  # (style, label)
    definition: str | None = None
    setext: int | None = None  # 1 or 2 when underlined with === or ---
    numbered_title: bool = False  # "8. Instructions of Conduct"
    label: str | None = None  # a heading's words as people read them
    plain_title: bool = False  # a heading only because the line looks like one
    after_furniture: bool = False  # a table of contents or date line was left out right before it


@dataclass
class _Unit:
    """A content block placed in the structure."""

    start: int
    end: int
    text: str
    path: tuple[tuple[str, str], ...]  # (style, label) from the outermost
    lead_in: bool = False
    keep: bool = False  # never merged away as a fragment
    after_furniture: bool = False  # no clause spans the furniture left out before it

    @property
    def display_path(self) -> tuple[str, ...]:
        return tuple(label for style, label in self.path if not style.startswith(("bullet", "lead")))


def split_clauses(text: str) -> list[Clause]:
    """Clauses of ``text`` in order, each with a heading path and a provisional key."""
    clauses: list[Clause] = []
    seen: dict[str, int] = {}
    for span in split_spans(text):
        body = text[span.start:span.end]
        key = provisional_key(span.heading_path, body)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:  # the same words twice under the same heading
            key = f"{key}-{seen[key]}"
        clauses.append(Clause(len(clauses), span.heading_path, body, key))
    return clauses


def provisional_key(heading_path: tuple[str, ...], text: str) -> str:
    """A key from the heading words and clause words, ignoring numbering, case and spacing."""
    words = " ".join(_words(part) for part in heading_path) + "\n" + _words(text)
    return "c" + sha256_text(words)[:16]


def _words(text: str) -> str:
    return " ".join(re.findall(r"[^\W\d_]+", text.lower()))


def split_spans(text: str) -> list[ClauseSpan]:
    """The clauses of ``text`` as spans of it, in order."""
    blocks = list(_blocks(text))
    _mark_headings(blocks)
    units = _place(_without_furniture(blocks))
    groups = _group(units)
    groups = _merge_fragments(groups, units)
    spans: list[ClauseSpan] = []
    for group in groups:
        first, last = units[group[0]], units[group[-1]]
        for start, end in _cut_long(text, first.start, last.end):
            spans.append(ClauseSpan(start, end, first.display_path))
    return spans


# --- Blocks ------------------------------------------------------------------------


def _blocks(text: str) -> Iterator[_Block]:
    """Paragraphs, lines and table rows as blocks; soft-wrapped lines are joined."""
    current: _Block | None = None
    offset = 0
    for line in text.splitlines(keepends=True):
        start, stripped = offset, line.strip()
        offset += len(line)
        if not stripped or _RULE.match(stripped):
            # An underline right under a one-line paragraph makes it a heading;
            # anywhere else a rule is decoration.
            if current and stripped and stripped[0] in "=-" and _could_be_setext(current.text):
                current.setext = 1 if stripped[0] == "=" else 2
            if current:
                yield current
            current = None
            continue
        start += len(line) - len(line.lstrip())
        end = start + len(stripped)
        if current is not None and _continues(current.text, stripped):
            current.end = end
            current.text = text[current.start:end]
            continue
        if current:
            yield current
        current = _Block(start, end, stripped)
        current.marker = _marker(line.rstrip("\n"))
        current.definition = _definition(stripped, current.marker)
    if current:
        yield current


def _could_be_setext(text: str) -> bool:
    """Only a short single line can be underlined into a heading; a sentence over a rule stays a sentence."""
    return "\n" not in text and len(text) <= 2 * MAX_HEADING_CHARS and not text.endswith((".", ";", ","))


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` carries on the paragraph ``previous`` (a hard-wrapped line).

    Table rows never do: each row of a table is a provision of its own.
    """
    if previous.startswith("|") or line.startswith("|"):
        return False
    if _marker(line) or _MD_HEADING.match(line) or _MD_HEADING.match(previous):
        return False
    return previous[-1] not in _TERMINAL and line[0].islower()


def _marker(line: str) -> tuple[str, str] | None:
    """The numbering or bullet a line starts with, as (style, label)."""
    if match := _BULLET.match(line):
        return (f"bullet{len(match['indent'].expandtabs(4))}", "•")
    if match := _MD_ORDERED.match(line):
        return (f"ordered{len(match['indent'].expandtabs(4))}", f"{match['num']}.")
    stripped = _unbold_number(line.strip())
    if match := _DOTTED.match(stripped):
        number = match["num"].rstrip(".")
        depth = number.count(".") + 1
        # Shown as people write them: "1." for a section, "8.2" below it.
        return (f"dotted{depth}", f"{number}." if depth == 1 else number)
    if match := _PAREN.match(stripped):
        return (_paren_style(match["label"], "()"), f"({match['label']})")
    if match := _HALF_PAREN.match(stripped):
        return (_paren_style(match["label"], ")"), f"{match['label']})")
    return None


_BOLD_NUMBER = re.compile(r"^(\*\*|__)(\(?[\w.]{1,12}[.)]?)\1")


def _unbold_number(text: str) -> str:
    """``**2.1** Text`` → ``2.1 Text``: emphasis around a number does not hide it."""
    return _BOLD_NUMBER.sub(r"\2", text, count=1)


def _paren_style(label: str, shape: str) -> str:
    if label.isdigit():
        kind = "digit"
    elif _ROMAN.match(label) and label not in ("c", "l", "C", "L"):
        kind = "roman"
    else:
        kind = "alpha"
    case = "upper" if label.isupper() else "lower"
    return f"{shape}{kind}-{case}"


def _definition(text: str, marker: tuple[str, str] | None) -> str | None:
    body = _without_emphasis(_strip_marker(text, marker))
    match = _DEFINITION.match(body)
    return match["term"] if match else None


def _strip_marker(text: str, marker: tuple[str, str] | None) -> str:
    if marker is None:
        return text
    if marker[0].startswith("bullet"):
        return _BULLET.sub("", text, count=1)
    text = _unbold_number(text)
    return text[len(marker[1]):].lstrip(". ").strip() if text.startswith(marker[1]) else text


# --- Headings ----------------------------------------------------------------------

# Levels: Markdown headings 1–6; title-like lines (capitals, bold, short lines)
# 7; numbered section titles sit in the numbering itself.
_TITLE_LEVEL = 7.0


def _mark_headings(blocks: list[_Block]) -> None:
    """Decide which blocks are headings, and drop a lone document title from the paths."""
    for index, block in enumerate(blocks):
        block.heading_level = _heading_level(blocks, index)
    for index, block in enumerate(blocks):
        if block.plain_title and _labels_a_value(blocks, index):
            block.heading_level = None
    for index, block in enumerate(blocks):
        block.numbered_title = _numbered_title(blocks, index)
    headings = [b for b in blocks if b.heading_level is not None and b.marker is None]
    if headings:
        top = min(b.heading_level for b in headings)
        if sum(1 for b in headings if b.heading_level == top) == 1 and headings[0].heading_level == top:
            headings[0].heading_level = 0  # the document title: shown nowhere in paths


def _labels_a_value(blocks: list[_Block], index: int) -> bool:
    """``Name`` / ``_ga`` / ``Web Domain`` / ``.x.com``: a short line over one tiny value is a field label."""
    following = blocks[index + 1:index + 3]
    return (
        bool(following) and following[0].heading_level is None and len(following[0].text) < TINY_CHARS
        and (len(following) == 1 or following[1].heading_level is not None)
    )


def heading_label(text: str) -> str:
    """A heading as people read it: no link targets, emphasis or escapes (``[](#x)**1\\. Intro**`` → ``1. Intro``)."""
    if "](" in text:  # in every link; most paragraphs have none
        text = _MD_LINK.sub(r"\1", text)
    return " ".join(_MD_ESCAPE.sub(r"\1", _without_emphasis(text)).split())


def _without_emphasis(text: str) -> str:
    """``text`` without Markdown emphasis marks.

    Every mark is a ``*`` or ``_``, and most paragraphs hold neither: they skip
    the pattern, whose look-arounds make it try every position (about 1 ms per
    35 KB policy each time the paragraphs are read).
    """
    return _MD_EMPHASIS.sub("", text) if "*" in text or "_" in text else text


def _heading_level(blocks: list[_Block], index: int) -> float | None:
    block = blocks[index]
    if match := _MD_HEADING.match(block.text):
        block.label = heading_label(match[2])
        block.marker = None  # "## 8. Conduct" is a Markdown heading that happens to be numbered
        return float(len(match[1]))
    if block.setext:
        block.label = heading_label(block.text)
        block.marker = None
        return float(block.setext)
    if block.marker and block.marker[0].startswith("bullet"):
        return _lone_bullet_title(blocks, index)
    if block.marker is not None:
        return None  # numbered titles are handled with the numbering
    label = heading_label(block.text)
    if _looks_like_title(label) and not _inside_sentence(blocks, index) and not _statement(block.text, label):
        block.label = label
        block.plain_title = True
        return _TITLE_LEVEL
    return None


def _statement(text: str, label: str) -> bool:
    """A plain line that opens as a clause does ("We may suspend your account…", "You agree…"): a sentence whose
    full stop is missing, not a heading. Taken for a heading, its words were in no clause at all, and an edit to
    them was "cosmetic (outside clauses)". A bold, all-capitals or Title Case line ("You Are Responsible") stays
    a heading."""
    if _BOLD_LINE.match(text) or label.isupper() or not (match := _STATEMENT.match(label)):
        return False
    # Title Case capitalises the verb ("You Are Responsible", "We Collect Data via Cookies"); a sentence does not,
    # whatever defined terms it capitalises ("You may not use the Service", "You grant Acme a License").
    return not match["verb"][0].isupper()


def _inside_sentence(blocks: list[_Block], index: int) -> bool:
    """A short line after one ending in ``:``, ``;`` or ``,`` is part of a list or an address."""
    if re.search(r"\b(?:or|and)$", blocks[index].text, re.IGNORECASE):
        return True
    return index > 0 and blocks[index - 1].text.endswith((":", ",", ";"))


def _lone_bullet_title(blocks: list[_Block], index: int) -> float | None:
    """``* 1. Access to the Services`` between paragraphs is a heading, not a list."""
    block = blocks[index]
    neighbours = [blocks[i] for i in (index - 1, index + 1) if 0 <= i < len(blocks)]
    if any(n.marker and n.marker[0].startswith("bullet") for n in neighbours):
        return None
    inner = _strip_marker(block.text, block.marker)
    if index > 0 and blocks[index - 1].text.endswith(":") and not _DOTTED.match(inner):
        return None  # the only item of a list
    if not _looks_like_title(inner, allow_number=True):
        return None
    block.start += len(block.text) - len(inner)
    block.text = inner
    block.marker = None
    return _TITLE_LEVEL


def _looks_like_title(text: str, *, allow_number: bool = False) -> bool:
    """A short line without closing punctuation: capitals, bold, or a plain title line."""
    if match := _BOLD_LINE.match(text):
        text = match["inner"]
    if not text or len(text) > MAX_HEADING_CHARS or not any(c.isalpha() for c in text):
        return False
    if text[-1] in _TERMINAL and not (text[-1] == "?" and _QUESTION.match(text)):
        return False
    if re.search(r"\w: \S", text):  # "Release Date: 2024-9-29" is data, not a heading
        return False
    first = text.lstrip("「『[(\"“'#* ")[:1]
    return first.isupper() or (allow_number and first.isdigit()) or first == "§"


def _numbered_title(blocks: list[_Block], index: int) -> bool:
    """A short numbered line that opens a section: content follows, not the next number of a list."""
    block = blocks[index]
    if block.heading_level is not None or not block.marker or not block.marker[0].startswith("dotted"):
        return False
    if index + 1 >= len(blocks) or not _is_numbered_title(block):
        return False
    following = blocks[index + 1]
    return following.heading_level is not None or following.marker is None or following.marker[0] != block.marker[0]


def _is_numbered_title(block: _Block) -> bool:
    body = _strip_marker(block.text, block.marker)
    return bool(body) and len(block.text) <= MAX_HEADING_CHARS and _looks_like_title(body)


# --- Furniture ---------------------------------------------------------------------

# The title of a table of contents, alone on its line ("Table of Contents", "Sommaire").
_TOC_TITLE = re.compile(
    r"^(?:table of contents|contents|in this (?:policy|document|article|page)|on this page|jump to|quick links"
    r"|sommaire|table des matières|inhalt|inhaltsverzeichnis|índice|indice|inhoud(?:sopgave)?)\s*:?$",
    re.IGNORECASE,
)
# A line that is nothing but a link to an anchor of a page ("[3. User Content](…#user-content)").
_ANCHOR_LINK = re.compile(r"^(?:[-*+•]\s+|\d{1,3}\\?[.)]\s+)?\[[^\]\n]+\]\([^)\s#]*#[^)\s]*\)[*_\s]*$")


def _without_furniture(blocks: list[_Block]) -> list[_Block]:
    """The blocks without a table of contents or a page's own date line.

    Neither is a provision, and as a heading each would wrongly head the
    sections it lists or the paragraphs under it (``Last Updated: 14 August,
    2025`` over the opening of Bluesky's terms, changing their keys on every
    update). The title of a table of contents goes with its entries; the
    entries end at the first block that is not one (a sentence, a Markdown heading).
    """
    kept: list[_Block] = []
    in_toc = dropped = False
    for block in blocks:
        label = block.label or heading_label(block.text)
        if _is_date_line(label) or _ANCHOR_LINK.match(block.text):
            dropped = True
            continue
        if block.heading_level is not None and block.heading_level > 0 and _TOC_TITLE.match(label):
            in_toc = dropped = True
            continue
        if in_toc and _is_toc_entry(block):
            continue
        in_toc = False
        block.after_furniture, dropped = dropped, False
        kept.append(block)
    return kept


def _is_date_line(label: str) -> bool:
    """``Last Updated: February 7, 2025``: a line that only states the page's date."""
    if len(label) > MAX_HEADING_CHARS:
        return False
    spans = stated_date_spans(label)
    rest = label
    for start, end in reversed(spans):
        rest = rest[:start] + rest[end:]
    return bool(spans) and not any(c.isalnum() for c in rest)


def _is_toc_entry(block: _Block) -> bool:
    """A short numbered, bulleted or title-like line with no sentence in it."""
    if block.heading_level is not None and not block.plain_title:
        return False  # a real heading: the sections have begun
    if block.marker is None and not block.plain_title:
        return False
    body = heading_label(_strip_marker(block.text, block.marker))
    lines = block.text.splitlines()
    return bool(body) and all(len(line) <= MAX_HEADING_CHARS for line in lines) and body[-1] not in ".;:,"


# --- Structure ---------------------------------------------------------------------


def _place(blocks: list[_Block]) -> list[_Unit]:
    """Give every content block its place: the headings and numbers above it."""
    headings: list[tuple[float, str]] = []
    numbers: list[tuple[str, str]] = []
    units: list[_Unit] = []
    previous: _Block | None = None
    for block in blocks:
        if block.heading_level is not None:
            headings = [h for h in headings if h[0] < block.heading_level]
            if block.heading_level > 0:
                headings.append((block.heading_level, block.label or block.text))
            numbers = []
        else:
            marker = _effective_marker(block, previous, numbers) or _implicit_item(block, previous, units)
            numbers = _renumber(numbers, marker)
            if marker and marker[0].startswith("dotted") and block.numbered_title:
                numbers[-1] = (marker[0], heading_label(block.text))
                previous = block
                continue  # "8. Instructions of Conduct": a title inside the numbering
            label = [("lead", "")] if _is_lead_in(block) and not marker else []
            path = tuple(("heading", h[1]) for h in headings) + tuple(numbers)
            if block.definition and not marker:
                path += (("definition", f"“{block.definition}”"),)
            elif run_in := _run_in_title(block, marker):
                path += (("run-in", run_in),)
            units.append(_Unit(block.start, block.end, block.text, path, _is_lead_in(block), bool(block.definition),
                               block.after_furniture))
            numbers = numbers + label
        previous = block
    return units


_RUN_IN = re.compile(r"^(?:\*\*|__)(?P<title>[^*_\n]{2,60}?)(?:[.:]\s*(?:\*\*|__)|(?:\*\*|__)\s*[.:])\s+\S")


def _run_in_title(block: _Block, marker: tuple[str, str] | None) -> str | None:
    """``**Account Information.** We collect…``: a bold lead phrase names the paragraph."""
    match = _RUN_IN.match(_strip_marker(block.text, marker))
    return heading_label(match["title"]) if match else None


def _effective_marker(block: _Block, previous: _Block | None, numbers: list[tuple[str, str]]) -> tuple[str, str] | None:
    """A ``1.`` after a lead-in, or continuing such a list, is a list item, not a section number."""
    marker = block.marker
    if not marker or marker[0] != "dotted1":
        return marker
    in_list = any(style.startswith("ordered") for style, _ in numbers)
    after_lead_in = previous is not None and previous.text.endswith(":") and previous.heading_level is None
    opened_section = any(style.startswith("dotted") for style, _ in numbers)
    starts_list = after_lead_in and (opened_section or (marker[1] == "1." and not _is_numbered_title(block)))
    if starts_list or in_list:
        return ("ordered", marker[1])
    return marker


_IMPLICIT = ("bullet-implicit", "")


def _implicit_item(block: _Block, previous: _Block | None, units: list[_Unit]) -> tuple[str, str] | None:
    """An unmarked line that is still part of a list.

    The first paragraph after a lead-in is an item; so is the next one while the
    items end in ``;``, ``,``, "or" or "and"; and so is a paragraph that starts in
    lower case right after an item ("… (f) other losses" / "arising out of …").
    """
    if previous is None or previous.heading_level is not None or not units:
        return None
    last = units[-1]
    if last.lead_in and last.end == previous.end:
        return _IMPLICIT
    in_list = last.path and not last.path[-1][0].startswith(("dotted", "heading", "definition", "lead"))
    if not in_list:
        return None
    if block.text[:1].islower():
        return _IMPLICIT
    if last.path[-1][0] == _IMPLICIT[0] and re.search(r"(?:[;,]|\b(?:or|and))$", last.text, re.IGNORECASE):
        return _IMPLICIT
    return None


def _renumber(numbers: list[tuple[str, str]], marker: tuple[str, str] | None) -> list[tuple[str, str]]:
    """The numbering stack after ``block``: a sibling replaces, a child is pushed."""
    if marker is None:
        # A paragraph after a list goes back to the enclosing numbered clause.
        return [n for n in numbers if n[0].startswith("dotted")]
    style, label = marker
    if style.startswith("dotted"):
        depth = int(style.removeprefix("dotted"))
        kept = [n for n in numbers if n[0].startswith("dotted") and int(n[0].removeprefix("dotted")) < depth]
        return kept + [(style, label)]
    for index, (other, other_label) in enumerate(numbers):
        if other == style:
            return numbers[:index] + [(style, label)]
        if other.endswith("alpha-lower") and style.endswith("roman-lower") and _alpha_sequence(other_label, label):
            return numbers[:index] + [(other, label)]
    return numbers + [(style, label)]


def _alpha_sequence(previous_label: str, label: str) -> bool:
    """``(i)`` after ``(h)`` is the ninth letter, not roman one."""
    prev = previous_label.strip("()")
    cur = label.strip("()")
    return len(prev) == 1 and len(cur) == 1 and ord(cur) == ord(prev) + 1


def _is_lead_in(block: _Block) -> bool:
    return block.text.rstrip("*_ ").endswith(":")


# --- Grouping ----------------------------------------------------------------------


def _group(units: list[_Unit]) -> list[list[int]]:
    """Clauses as runs of units: a lead-in with its short items, anything else alone."""
    groups: list[list[int]] = []
    index = 0
    while index < len(units):
        items = _items_of(units, index) if units[index].lead_in else []
        if items and _short_enough(units, index, items):
            groups.append([index, *items])
            index = items[-1] + 1
        else:
            groups.append([index])
            index += 1
    return groups


def _items_of(units: list[_Unit], index: int) -> list[int]:
    """The units right after a lead-in that sit below it in the structure."""
    base = _structure_of(units[index])
    items: list[int] = []
    for j in range(index + 1, len(units)):
        path = units[j].path
        if len(path) <= len(base) or path[: len(base)] != base:
            break
        items.append(j)
    return items


def _structure_of(unit: _Unit) -> tuple[tuple[str, str], ...]:
    """The path under which a lead-in's items are placed (its names for display left out)."""
    path = unit.path
    while path and path[-1][0] in ("definition", "run-in"):
        path = path[:-1]
    if path and path[-1][0] != "heading":
        return path
    return path + (("lead", ""),)


def _short_enough(units: list[_Unit], index: int, items: list[int]) -> bool:
    total = units[items[-1]].end - units[index].start
    return total <= MAX_GROUP_CHARS and all(len(units[i].text) <= SHORT_ITEM_CHARS for i in items)


def _merge_fragments(groups: list[list[int]], units: list[_Unit]) -> list[list[int]]:
    """Join fragments too short to stand alone to a neighbour in the same section.

    A lead-in ("We may collect:") joins what follows; anything else joins what
    precedes. A fragment never crosses a heading: alone in its section, it stays.
    """
    merged: list[list[int]] = []
    carry: list[int] = []
    for group in groups:
        if carry and _section(units[carry[0]]) == _section(units[group[0]]) and not units[group[0]].after_furniture:
            group = carry + group
        elif carry:
            merged.append(carry)
        carry = []
        if _stands_alone(group, units):
            merged.append(group)
        elif not units[group[-1]].lead_in and merged and _joins(merged[-1], group, units):
            merged[-1] = merged[-1] + group
        else:
            carry = group
    if carry:
        if merged and _section(units[merged[-1][0]]) == _section(units[carry[0]]):
            merged[-1] = merged[-1] + carry
        else:
            merged.append(carry)
    return merged


def _joins(previous: list[int], group: list[int], units: list[_Unit]) -> bool:
    """A fragment joins the clause before it in the same section, unless that makes it too long."""
    same_section = _section(units[previous[0]]) == _section(units[group[0]])
    return same_section and not units[group[0]].after_furniture and units[group[-1]].end - units[previous[0]].start <= MAX_GROUP_CHARS


def _stands_alone(group: list[int], units: list[_Unit]) -> bool:
    size = units[group[-1]].end - units[group[0]].start
    return size >= TINY_CHARS or any(units[i].keep for i in group)


def _section(unit: _Unit) -> tuple[tuple[str, str], ...]:
    return tuple(p for p in unit.path if p[0] == "heading")


# --- Long paragraphs ---------------------------------------------------------------


def _cut_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a span longer than MAX_CLAUSE_CHARS between sentences, never inside one."""
    if end - start <= MAX_CLAUSE_CHARS:
        return [(start, end)]
    cuts = sorted([
        match.end() for match in _SENTENCE_END.finditer(text, start, end)
        if not _ABBREVIATIONS.search(text[max(start, match.start() - 12):match.start()])
    ] + [match.end() for match in _LINE_BREAK_TAG.finditer(text, start, end)])
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for cut in cuts:
        if cut - piece_start >= TARGET_PIECE_CHARS and end - cut >= TARGET_PIECE_CHARS // 3:
            pieces.append((piece_start, _rstrip(text, piece_start, cut)))
            piece_start = cut
    pieces.append((piece_start, end))
    return pieces


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
