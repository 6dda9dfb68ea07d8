"""Plain-language analysis of a provision (SPEC §5), from curated, versioned templates.

One YAML template per clause type in ``analysis/explanations/`` says what the
type is, why it matters, what it means for people, and its regulatory
landscape, agencies, regulations and jurisdiction flags. Sentences name the
specifics they need (``{arbitration_body}``, ``{retention_period}``…); those are
filled only with what the clause text states (``analysis.explain_facts``). A
sentence whose specific is not stated is replaced by its ``otherwise`` wording,
which says so; anything the template says from the type alone is listed as an
*inferred* fact. Nothing claims more than the clause says.

Template shape::

    id: arbitration
    version: 2
    title: Arbitration
    facts: [arbitration_body, seat]
    what_it_is:
      - "{platform} sends disputes to private arbitration."
      - when: arbitration_body
        say: "The clause names {arbitration_body}."
        otherwise: "The clause does not name an arbitration provider."
    inferred:
      - {label: Who can start it, value: "Either side, as in most arbitration clauses"}
    agencies: [ftc, {id: state_ag, role: "…"}]
    regulations: [{id: faa, note: "…"}]
    jurisdiction_flags: ["…"]
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from analysis.domain import ClassifiedClause, severity_rank
from analysis.explain_facts import EXTRACTORS, INFERRED, SIGNALS, Fact, extract
from analysis.prevalence import Prevalence

SECTIONS = ("what_it_is", "why_it_matters", "consumer_impact", "regulatory_landscape")
# Conditions a template may use besides its facts: the severity of the provision's worst clause.
_PSEUDO_FACTS = ("severity_high", "severity_medium", "severity_low")
_PACKAGE = "analysis.explanations"


class TemplateError(ValueError):
    """A template file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    role: str
    url: str | None = None


@dataclass(frozen=True)
class Regulation:
    id: str
    name: str
    jurisdiction: str
    citation: str
    note: str = ""


@dataclass(frozen=True)
class Explanation:
    """The analysis sections of a provision record page, with the facts they rest on."""

    clause_type: str
    title: str
    what_it_is: str
    why_it_matters: str
    consumer_impact: str
    regulatory_landscape: str
    agencies: tuple[Agency, ...]
    regulations: tuple[Regulation, ...]
    jurisdiction_flags: tuple[str, ...]
    facts: tuple[Fact, ...]
    not_stated: tuple[str, ...]
    template_version: str

    @property
    def stated_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.basis != INFERRED)

    @property
    def inferred_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts if f.basis == INFERRED)

    def faq(self, platform_name: str, prevalence: Prevalence | None = None) -> tuple[tuple[str, str], ...]:
        """Questions and answers for the record page (and its schema.org FAQPage), from the sections above."""
        pairs = [
            (f"What does {platform_name}'s {self.title} clause do?", self.what_it_is),
            ("Why does it matter?", self.why_it_matters),
            ("How does this clause affect you?", self.consumer_impact),
        ]
        if prevalence is not None:
            verb = "has" if prevalence.count == 1 else "have"
            pairs.append((
                "How many platforms have this type of clause?",
                f"{prevalence.count} of the {prevalence.total} tracked platforms {verb} a provision of this type "
                f"({prevalence.label.lower()}).",
            ))
        return tuple(pairs)

    @property
    def interpretive_note(self) -> str:
        """What the analysis could not take from the clause words, in one sentence or two."""
        parts = []
        if self.not_stated:
            parts.append(f"The text does not state: {_join([s.lower() for s in self.not_stated])}.")
        if self.inferred_facts:
            parts.append("Points marked inferred follow from the clause type, not from the words of the text.")
        return " ".join(parts)


# --- Loading -------------------------------------------------------------------------


def _load_yaml(name: str) -> Any:
    path = resources.files(_PACKAGE) / name
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(f"{name}: no such template in {_PACKAGE}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{name}: not valid YAML: {exc}") from None


@cache
def _agencies() -> Mapping[str, Mapping[str, str]]:
    return _load_yaml("_agencies.yaml")


@cache
def _regulations() -> Mapping[str, Mapping[str, str]]:
    return _load_yaml("_regulations.yaml")


def template_ids() -> tuple[str, ...]:
    """Every clause type that has a template."""
    names = (entry.name for entry in resources.files(_PACKAGE).iterdir())
    return tuple(sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml") and not n.startswith("_")))


@cache
def load_template(clause_type: str) -> Mapping[str, Any]:
    """The template of ``clause_type``, checked: every name it uses exists."""
    name = f"{clause_type}.yaml"
    data = _load_yaml(name)
    _check_template(name, clause_type, data)
    return data


def _check_template(name: str, clause_type: str, data: Any) -> None:
    if not isinstance(data, dict):
        raise TemplateError(f"{name}: expected a mapping")
    for key in ("id", "version", "title", "facts", *SECTIONS):
        if key not in data:
            raise TemplateError(f"{name}: missing key {key!r}")
    if data["id"] != clause_type:
        raise TemplateError(f"{name}: id is {data['id']!r}, expected {clause_type!r}")
    unknown = [f for f in data["facts"] if f not in EXTRACTORS]
    if unknown:
        raise TemplateError(f"{name}: facts: unknown fact(s) {unknown}")
    known = {*data["facts"], *_PSEUDO_FACTS, "platform"}
    for section in (*SECTIONS, "jurisdiction_flags"):
        for index, item in enumerate(data.get(section, ())):
            _check_item(f"{name}: {section}[{index}]", item, known)
    for index, item in enumerate(data.get("inferred", ())):
        # What is inferred from the type may name the platform, never a specific of the clause.
        if not isinstance(item, dict) or not {"label", "value"} <= set(item):
            raise TemplateError(f"{name}: inferred[{index}]: expected a mapping with 'label' and 'value'")
        _check_item(f"{name}: inferred[{index}]", item["value"], {"platform"})
    for index, ref in enumerate(data.get("agencies", ())):
        if _ref_id(ref) not in _agencies():
            raise TemplateError(f"{name}: agencies[{index}]: unknown agency {_ref_id(ref)!r}")
    for index, ref in enumerate(data.get("regulations", ())):
        if _ref_id(ref) not in _regulations():
            raise TemplateError(f"{name}: regulations[{index}]: unknown regulation {_ref_id(ref)!r}")


def _check_item(where: str, item: Any, known: set[str]) -> None:
    if isinstance(item, str):
        texts, conditions = [item], []
    elif isinstance(item, dict) and "say" in item:
        texts = [item["say"], item.get("otherwise") or ""]
        conditions = _as_list(item.get("when")) + _as_list(item.get("unless"))
    else:
        raise TemplateError(f"{where}: expected a sentence or a mapping with 'say'")
    for condition in conditions:
        if condition not in known:
            raise TemplateError(f"{where}: condition on unknown fact {condition!r}")
    for text in texts:
        for _, field, _, _ in string.Formatter().parse(text):
            if field is not None and field not in known:
                raise TemplateError(f"{where}: placeholder {{{field}}} is not a declared fact")


def _ref_id(ref: Any) -> str:
    return ref["id"] if isinstance(ref, dict) else str(ref)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- Rendering -----------------------------------------------------------------------


def explain(clause_type: str, clauses: Sequence[ClassifiedClause], platform_name: str) -> Explanation:
    """The plain-language analysis of ``platform_name``'s provision of ``clause_type``.

    ``clauses`` are the provision's current clauses (any order; the most severe
    is read first). Raises :class:`TemplateError` for a type without a template.
    """
    template = load_template(clause_type)
    ordered = sorted(clauses, key=lambda c: -severity_rank(c.classification.severity))
    found = extract(template["facts"], ((c.clause.key, c.clause.text) for c in ordered))
    values = {name: _join([f.value for f in facts]) for name, facts in found.items()}
    values["platform"] = platform_name
    flags = set(found) | _pseudo_facts(ordered)
    sections = {name: " ".join(_sentences(template.get(name, ()), values, flags)) for name in SECTIONS}
    inferred = tuple(
        Fact("inferred", item["label"], item["value"].format_map(values), INFERRED)
        for item in template.get("inferred", ())
    )
    return Explanation(
        clause_type=clause_type,
        title=template["title"],
        **sections,
        agencies=tuple(_agency(ref) for ref in template.get("agencies", ())),
        regulations=tuple(_regulation(ref) for ref in template.get("regulations", ())),
        jurisdiction_flags=tuple(_sentences(template.get("jurisdiction_flags", ()), values, flags)),
        facts=tuple(fact for name in template["facts"] for fact in found.get(name, ())) + inferred,
        not_stated=tuple(
            EXTRACTORS[name][0] for name in template["facts"] if name not in found and name not in SIGNALS
        ),
        template_version=f"{clause_type}@{template['version']}",
    )


def _pseudo_facts(clauses: Sequence[ClassifiedClause]) -> set[str]:
    return {f"severity_{clauses[0].classification.severity}"} if clauses else set()


def _sentences(items: Sequence[Any], values: Mapping[str, str], flags: set[str]) -> list[str]:
    sentences = []
    for item in items:
        if isinstance(item, str):
            sentences.append(item.format_map(values))
            continue
        holds = all(c in flags for c in _as_list(item.get("when"))) and not any(
            c in flags for c in _as_list(item.get("unless"))
        )
        text = item["say"] if holds else item.get("otherwise")
        if text:
            sentences.append(text.format_map(values))
    return sentences


def _agency(ref: Any) -> Agency:
    entry = _agencies()[_ref_id(ref)]
    role = ref.get("role") if isinstance(ref, dict) else None
    return Agency(_ref_id(ref), entry["name"], role or entry["role"], entry.get("url"))


def _regulation(ref: Any) -> Regulation:
    entry = _regulations()[_ref_id(ref)]
    note = ref.get("note", "") if isinstance(ref, dict) else ""
    return Regulation(_ref_id(ref), entry["name"], entry["jurisdiction"], entry["citation"], note)


def _join(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
