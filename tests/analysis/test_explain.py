"""Plain-language analysis: templates for every clause type, filled only with what the clause states."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.domain import Classification, ClassifiedClause, Clause
from analysis.explain import TemplateError, _check_template, explain, load_template, template_ids
from analysis.explain_facts import EXTRACTORS, INFERRED, STATED, extract
from analysis.prevalence import Prevalence
from analysis.splitter import split_clauses
from analysis.text import normalize_text

# SPEC §5: every one of these must exist.
SPEC_TYPES = (
    "arbitration", "class_action_waiver", "jurisdiction", "governing_law", "limitation_of_liability",
    "warranty_disclaimer", "indemnification", "unilateral_change", "unilateral_termination", "content_removal",
    "contract_by_using", "user_content_license", "ai_training_use", "output_ownership", "prohibited_content",
    "fees_and_refunds", "auto_renewal", "age_restriction", "account_security", "data_collection", "data_sharing",
    "user_choice", "user_rights", "data_retention", "data_security", "tracking", "international_transfer",
    "regional_rights",
)

ARBITRATION = (
    "Any dispute will be resolved by binding arbitration administered by the American Arbitration Association, "
    "held in San Francisco, California. You may opt out of this agreement to arbitrate within 30 days of sign-up. "
    "You waive any right to bring a class action. These Terms are governed by the laws of the State of California."
)
BARE_ARBITRATION = "All disputes arising out of these terms shall be finally settled by arbitration."


def clauses(*texts: str, severity: str = "medium") -> list[ClassifiedClause]:
    return [
        ClassifiedClause(Clause(i, (), text, f"k{i}"), Classification(("x",), severity))
        for i, text in enumerate(texts)
    ]


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def test_every_spec_clause_type_has_a_valid_versioned_template():
    assert set(SPEC_TYPES) <= set(template_ids())
    for clause_type in SPEC_TYPES:
        template = load_template(clause_type)
        assert isinstance(template["version"], int)
        explanation = explain(clause_type, [], "Acme")
        assert explanation.template_version == f"{clause_type}@{template['version']}"
        for section in ("what_it_is", "why_it_matters", "consumer_impact", "regulatory_landscape"):
            assert getattr(explanation, section).strip(), (clause_type, section)
        assert explanation.agencies and explanation.regulations and explanation.jurisdiction_flags
        assert all(r.citation for r in explanation.regulations)
        assert "{" not in explanation.what_it_is + explanation.consumer_impact


def test_stated_specifics_fill_the_sentences_with_evidence_from_the_clause():
    explanation = explain("arbitration", clauses(ARBITRATION, severity="high"), "Acme")
    assert "the American Arbitration Association (AAA)" in explanation.what_it_is
    assert "San Francisco, California" in explanation.what_it_is
    assert "within 30 days" in explanation.what_it_is
    assert "the State of California" in " ".join(explanation.jurisdiction_flags)
    stated = {f.name: f for f in explanation.stated_facts}
    assert stated["arbitration_body"].clause_key == "k0"
    for fact in explanation.stated_facts:
        assert fact.basis == STATED
        assert _squash(fact.evidence) in _squash(ARBITRATION), fact
    assert explanation.not_stated == ("Amount or cap",)


def test_unstated_specifics_are_said_to_be_unstated_never_invented():
    explanation = explain("arbitration", clauses(BARE_ARBITRATION), "Acme")
    assert "does not name an arbitration provider" in explanation.what_it_is
    assert "does not state a way to opt out" in explanation.what_it_is
    for name in ("AAA", "JAMS", "California", "30 days"):
        assert name not in explanation.what_it_is + explanation.consumer_impact
    assert explanation.stated_facts == ()
    assert "Arbitration provider" in explanation.not_stated
    assert "does not state: arbitration provider" in explanation.interpretive_note
    # What the template says from the type alone is marked as inferred.
    assert [f.basis for f in explanation.inferred_facts] == [INFERRED]
    assert "inferred" in explanation.interpretive_note


def test_facts_come_from_every_clause_of_the_provision_most_severe_first():
    low = "Disputes go to the courts of Dublin, Ireland."
    high = "You agree to the exclusive jurisdiction of the courts of Singapore."
    provision = clauses(low, severity="low") + clauses(high, severity="high")
    explanation = explain("jurisdiction", provision, "Acme")
    venues = [f.value for f in explanation.stated_facts if f.name == "venue"]
    assert venues == ["the courts of Singapore", "the courts of Dublin, Ireland"]
    assert "It names the courts of Singapore and the courts of Dublin, Ireland." in explanation.what_it_is


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("governing_law", "This Agreement is governed by the laws of Singapore, excluding its conflict rules.",
         ["the law of Singapore"]),
        ("governing_law", "construed in accordance with the laws of the People's Republic of China",
         ["the law of the People's Republic of China"]),
        ("governing_law", "governed by the internal substantive laws of the state of Texas", ["the law of the State of Texas"]),
        ("governing_law", "The Terms shall be governed by English law.", ["English law"]),
        ("governing_law", "the laws applicable in your country of residence", []),
        ("venue", "the state or federal courts located in Santa Clara County, California",
         ["the courts of Santa Clara County, California"]),
        ("venue", "The English courts will have jurisdiction over any claim.", ["the English courts"]),
        ("venue", "brought in the federal or state courts located in San Francisco, US, CA You agree",
         ["the courts of San Francisco, US, CA"]),
        ("venue", "any court of competent jurisdiction.", []),
        ("arbitration_body", "administered by JAMS pursuant to its Streamlined Rules", ["JAMS"]),
        ("notice_period", "We will give you at least 30 days' prior notice of any change.", ["at least 30 days"]),
        ("notice_period", "We may suspend your account without notice.", []),
        ("without_notice", "We may suspend your account without notice.", ["may act without notice"]),
        ("age", "You must be at least 18 years old, and no one under 13 may use the Service.", ["18 years", "13 years"]),
        ("amount_cap", "OUR LIABILITY SHALL NOT EXCEED THE AMOUNT PAID BY YOU IN THE PRECEDING SIX MONTHS.",
         ["the amount paid by you in the preceding six months"]),
        ("amount_cap", "our liability is limited to US$100.", ["US$100"]),
        ("retention_period", "We keep logs for 90 days and delete backups after 12 months.", ["90 days", "12 months"]),
        ("retention_period", "Account data is retained while your account remains active.", ["while your account is active"]),
        ("data_categories", "We collect your email address and IP address.", ["email address", "IP address"]),
        ("contact", "Write to privacy@example.com to make a request.", ["privacy@example.com"]),
        ("training_refused", "We do not use your private content to train models.", ["says content is not used for training"]),
    ],
)
def test_extractors_read_what_is_written(name, text, expected):
    found = extract([name], [("k", text)]).get(name, [])
    assert [f.value for f in found] == expected


def test_every_extractor_is_used_by_some_template():
    used = {fact for clause_type in template_ids() for fact in load_template(clause_type)["facts"]}
    assert used == set(EXTRACTORS)


def test_faq_answers_come_from_the_sections_and_the_prevalence():
    explanation = explain("arbitration", clauses(ARBITRATION), "Acme")
    faq = dict(explanation.faq("Acme", Prevalence("arbitration", 26, 325)))
    assert faq["What does Acme's Arbitration clause do?"] == explanation.what_it_is
    assert faq["How does this clause affect you?"] == explanation.consumer_impact
    assert faq["How many platforms have this type of clause?"] == (
        "26 of the 325 tracked platforms have a provision of this type (uncommon)."
    )
    assert len(explanation.faq("Acme")) == 3


def test_a_clause_type_without_template_is_an_error_naming_it():
    with pytest.raises(TemplateError, match="no_such_type.yaml"):
        explain("no_such_type", [], "Acme")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"facts": ["not_a_fact"]}, "unknown fact"),
        ({"what_it_is": ["{arbitration_body} here"]}, r"placeholder \{arbitration_body\}"),
        ({"what_it_is": [{"when": "seat", "say": "x"}]}, "condition on unknown fact 'seat'"),
        ({"agencies": ["nobody"]}, "unknown agency 'nobody'"),
        ({"id": "other"}, "id is 'other'"),
        ({"inferred": [{"label": "Court", "value": "{venue}"}]}, r"inferred\[0\]: placeholder \{venue\}"),
    ],
)
def test_malformed_templates_are_refused_with_the_key(change, message):
    template = dict(load_template("governing_law"))
    template.update(change)
    with pytest.raises(TemplateError, match=message):
        _check_template("governing_law.yaml", "governing_law", template)


def test_hostile_clause_text_is_carried_as_plain_values():
    text = "These terms are governed by the laws of Delaware <script>alert(1)</script> {platform}."
    explanation = explain("governing_law", clauses(text), "Acme")
    assert "Delaware" in explanation.what_it_is
    assert "{platform}" not in explanation.what_it_is  # clause text is never read as a template


@pytest.mark.shared
def test_kling_privacy_policy_retention_says_what_is_and_is_not_stated(shared: Path):
    (path,) = (shared / "reference" / "seeds").glob("004_*.txt")
    provision = [
        ClassifiedClause(c, Classification(("data_retention",), "medium"))
        for c in split_clauses(normalize_text(path.read_text(encoding="utf-8")))
        if c.heading_path == ("Data Retention",)
    ]
    explanation = explain("data_retention", provision, "Kling 5.0 AI")
    assert "while your account is active" in explanation.what_it_is
    assert "a limited period (length not stated)" in explanation.what_it_is
    assert not re.search(r"\d+ (?:days|months|years)", explanation.what_it_is)
