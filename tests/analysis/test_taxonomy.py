"""The clause types of SPEC §5 and their curated phrases."""

from __future__ import annotations

import re

import pytest

from analysis.domain import SEVERITIES
from analysis.taxonomy import BY_ID, CLAUDETTE_TYPES, CLAUSE_TYPES, TYPE_IDS, Alternation, _compile_phrase, _phrases
from tests.fakes import whole_alternation

SPEC_IDS = (
    "arbitration class_action_waiver jurisdiction governing_law limitation_of_liability warranty_disclaimer "
    "indemnification unilateral_change unilateral_termination content_removal contract_by_using "
    "user_content_license ai_training_use output_ownership prohibited_content fees_and_refunds auto_renewal "
    "age_restriction account_security data_collection data_sharing user_choice user_rights data_retention "
    "data_security tracking international_transfer regional_rights"
).split()

# One plain statement of each type, as a policy would write it.
STATEMENTS = {
    "arbitration": "Any dispute shall be resolved by binding arbitration administered by JAMS.",
    "class_action_waiver": "You waive any right to participate in a class action lawsuit.",
    "jurisdiction": "You submit to the exclusive jurisdiction of the courts located in Santa Clara County.",
    "governing_law": "These Terms are governed by the laws of the State of California.",
    "limitation_of_liability": "In no event shall we be liable for any indirect or consequential damages.",
    "warranty_disclaimer": "The Service is provided on an AS IS and AS AVAILABLE basis.",
    "indemnification": "You agree to indemnify and hold us harmless from any claims.",
    "unilateral_change": "We reserve the right to modify these Terms at any time.",
    "unilateral_termination": "We may suspend or terminate your account if you breach these Terms.",
    "content_removal": "We may remove or disable access to any content that violates these Terms.",
    "contract_by_using": "By using the Service you agree to be bound by these Terms.",
    "user_content_license": "You grant us a worldwide, royalty-free license to use, host and store your content.",
    "ai_training_use": "We may use your prompts and outputs to train and improve our machine learning models.",
    "output_ownership": "As between you and us, you own all Outputs you generate with the Service.",
    "prohibited_content": "You agree not to upload or share any unlawful, harassing or defamatory content.",
    "fees_and_refunds": "All fees are non-refundable except where required by law.",
    "auto_renewal": "Your subscription will automatically renew at the end of each billing period.",
    "age_restriction": "You must be at least 13 years old to use the Service.",
    "account_security": "You are responsible for all activities that occur under your account.",
    "data_collection": "We collect information you provide when you create an account.",
    "data_sharing": "We may share your personal information with our service providers and partners.",
    "user_choice": "You may opt out of receiving promotional emails at any time.",
    "user_rights": "You have the right to access, correct or delete your personal data.",
    "data_retention": "We retain your data for as long as necessary to provide the Service.",
    "data_security": "We use technical and organizational measures to protect your data.",
    "tracking": "We use cookies and web beacons to understand how you use the site.",
    "international_transfer": "Your data may be transferred to countries other than your own.",
    "regional_rights": "If you are a California resident, the CCPA gives you additional rights.",
}


def test_every_type_of_the_spec_exists_once_with_a_title():
    assert set(SPEC_IDS) <= set(TYPE_IDS)
    assert len(TYPE_IDS) == len(CLAUSE_TYPES)
    assert all(t.title and t.reason for t in CLAUSE_TYPES)
    assert all(t.severity in SEVERITIES for t in CLAUSE_TYPES)


def test_claudette_categories_map_as_the_spec_says():
    assert CLAUDETTE_TYPES == {
        "A": "arbitration", "CH": "unilateral_change", "CR": "content_removal", "J": "jurisdiction",
        "LAW": "governing_law", "LTD": "limitation_of_liability", "TER": "unilateral_termination",
        "USE": "contract_by_using",
    }


@pytest.mark.parametrize("type_id", SPEC_IDS)
def test_a_plain_statement_of_each_type_yields_evidence_from_its_own_words(type_id):
    text = STATEMENTS[type_id]
    evidence = BY_ID[type_id].evidence(text)
    assert evidence
    assert all(phrase.lower() in text.lower() for phrase in evidence)


def test_patterns_match_across_the_claudette_tokenisation():
    spaced = "these terms shall be governed by\nthe   laws of the state of new york ."
    assert BY_ID["governing_law"].evidence(spaced) == ("governed by the laws",)


def test_evidence_is_deduplicated_in_order_of_appearance():
    text = "Cookies help us. We use cookies. Web beacons too."
    assert BY_ID["tracking"].evidence(text) == ("Cookies", "cookies", "Web beacons")


def test_an_unrelated_sentence_states_no_type():
    text = "Welcome to our website, we hope you enjoy your visit."
    assert [t.id for t in CLAUSE_TYPES if t.evidence(text)] == []


@pytest.mark.parametrize(
    ("text", "raises", "protects"),
    [
        ("We shall not be liable for any damages, even in the case of gross negligence.", True, False),
        ("We shall not be liable for any damages, except in case of gross negligence or wilful misconduct.",
         False, True),
    ],
)
def test_gross_negligence_raises_liability_limits_but_a_carve_out_protects(text, raises, protects):
    ltd = BY_ID["limitation_of_liability"]
    assert bool(ltd.raising(text)) is raises
    assert bool(ltd.protecting(text)) is protects


def test_every_pattern_compiles_as_a_regular_expression():
    for clause_type in CLAUSE_TYPES:
        for phrases in (clause_type._evidence, clause_type._raises, clause_type._protects, clause_type._decides,
                        clause_type._unless):
            compiled = whole_alternation(phrases)
            assert compiled is None or isinstance(compiled, re.Pattern)


def test_a_licence_the_company_grants_the_user_is_not_a_user_content_licence():
    licence = BY_ID["user_content_license"]
    assert licence.evidence("We grant you a non-exclusive, revocable license to use the software.") == ()
    assert licence.evidence("You hereby grant Company a perpetual, irrevocable license to reproduce any User Content.")


def test_termination_without_notice_or_for_any_reason_raises_severity():
    termination = BY_ID["unilateral_termination"]
    assert termination.raising("We may suspend your account without prior notice.")
    assert termination.raising("We may terminate this agreement for any reason.")
    assert not termination.raising("We may terminate your account if you breach these terms, after notice.")


def test_a_negated_aggravating_phrase_does_not_raise_severity():
    sharing = BY_ID["data_sharing"]
    assert sharing.raising("We may sell your personal information to advertisers.")
    assert not sharing.raising("We do not sell personal information for cash consideration.")
    assert sharing.protecting("We do not sell personal information for cash consideration.")


@pytest.mark.parametrize(
    ("text", "protective"),
    [
        ("Kling AI may use Inputs and Outputs to improve and optimize its algorithms and models.", False),
        ("We use your prompts to improve the quality of our generative models.", False),
        ("Your data will not be used for model training.", True),
        ("We do not train our models on your content.", True),
        ("You can opt out of having your content used for training.", True),
    ],
)
def test_ai_training_phrasings_and_their_user_protective_forms(text, protective):
    training = BY_ID["ai_training_use"]
    assert training.evidence(text)
    assert bool(training.protecting(text)) is protective


def test_outputs_claimed_as_company_property_raise_output_ownership():
    ownership = BY_ID["output_ownership"]
    text = "All Outputs are the exclusive property of the Company."
    assert ownership.evidence(text) and ownership.raising(text)
    assert ownership.protecting("As between you and us, you own the Output.")


def test_termination_announced_days_in_advance_is_user_protective():
    text = ("We have the right to terminate part or all of the services at any time. However, we shall notify "
            "you at least 30 days in advance.")
    assert BY_ID["unilateral_termination"].protecting(text)


@pytest.mark.shared
def test_fragments_only_skip_clauses_the_phrases_would_not_match(shared):
    """The substring shortcut is a necessary condition: on real clauses, with or without it, the same phrases."""
    import json
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "classifier" / "pattern_types.jsonl"
    texts = [json.loads(line)["text"] for line in fixtures.read_text(encoding="utf-8").splitlines()]
    sentences = shared / "datasets" / "claudette" / "validation" / "sentences.jsonl"
    texts += [json.loads(line)["text"] for line in sentences.read_text(encoding="utf-8").splitlines()]
    points = shared / "datasets" / "tosdr" / "points.jsonl"
    texts += [json.loads(line)["quote"] or "" for line in points.read_text(encoding="utf-8").splitlines()[:3000]]
    texts += ["Your Outputs belong to you.", "It RENEWS automatically.", "GDPR rights", "You shall not post spam.",
              "disputes go to\nbinding   ARBITRATION", "we may\tterminate  these\nterms"]
    for clause_type in CLAUSE_TYPES:
        for phrases in (clause_type._evidence, clause_type._raises, clause_type._protects, clause_type._decides,
                        clause_type._unless):
            if (compiled := whole_alternation(phrases)) is not None:
                assert all(phrases.find(t) == _phrases(compiled, t) for t in texts), clause_type.id
        if clause_type.patterns:
            whole = whole_alternation(clause_type._evidence)
            assert all(clause_type.evidence(t) == _phrases(whole, t, skip_users_own=clause_type.company_acts)
                       for t in texts), clause_type.id


def test_billing_and_payment_words_alone_do_not_decide_fees_but_stay_evidence():
    fees = BY_ID["fees_and_refunds"]
    # Kling 5.0 AI privacy policy (../shared/reference/seeds/004_…), "Billing Information".
    stripe = ("Payments are processed by Stripe. We receive payment status, product, and subscription metadata "
              "needed to provide service, but we do not store full card numbers.")
    assert fees.evidence(stripe) and fees.decided(stripe) == ()
    assert fees.decided("The service fees will be clearly stated on your purchase page.")
    assert fees.decided("Purchased credits are non-refundable.")
    assert fees.decided("You agree to pay the fees shown at checkout.")


def test_arbitration_is_decided_by_its_obligation_or_forum_not_by_the_word():
    arbitration = BY_ID["arbitration"]
    # Newer terms (Quora, Pinterest, 2025): the forum and the seat, in sentences without "binding".
    assert arbitration.decided("11.4 Rules. The arbitration will be administered by NAM and resolved before a single "
                                "arbitrator.")
    assert arbitration.decided("Any arbitration will be administered by the American Arbitration Association.")
    assert arbitration.decided("If you reside in the United States, arbitration will take place in your county.")
    assert arbitration.decided("Either party may initiate binding arbitration as the sole means to resolve claims.")
    # Consent, submission and the arbitrator's authority in other words (CLAUDETTE sentences the phrases missed).
    for text in ("If you ever wish to seek any relief from us, you agree to do it only through arbitration.",
                 "By accepting these Terms of Service, you agree to be bound by this arbitration clause.",
                 "Any dispute shall be submitted to the China International Economic and Trade Arbitration "
                 "Commission (CIETAC) for arbitration in Beijing.",
                 "You and Oculus empower the arbitrator with the exclusive authority to resolve any dispute.",
                 "The arbitration shall be conducted in Helsinki, Finland, in the English language."):
        assert arbitration.decided(text), text
    # Procedure and exceptions name arbitration without obliging anyone to it.
    for text in ("Any arbitration shall be conducted in an individual capacity only.",
                 "AAA will administer one set of filing fees per side for each batch of arbitration demands.",
                 "To the extent you prevail on individual claims in arbitration, public relief goes to court.",
                 "Any prior existing agreement to arbitrate disputes will not apply to claims not yet filed.",
                 "Under certain conditions, it may be possible to invoke binding arbitration for complaints.",
                 "Please read the binding arbitration clause and class action waiver in section 15.",
                 "The arbitration will be conducted in accordance with the AAA Consumer Arbitration Rules.",
                 "The arbitration will be conducted in English."):
        assert arbitration.evidence(text) and arbitration.decided(text) == (), text


def test_a_change_of_the_terms_is_named_in_the_singular_and_as_revised_terms():
    change = BY_ID["unilateral_change"]
    # Pinterest's and Bluesky's terms of service (2025).
    assert change.evidence("If we're making a material change to the Terms, we'll let you know ahead of time.")
    assert change.evidence("By continuing to use Bluesky Social after any update, you agree to the revised Terms.")
    assert change.evidence("A revised price list applies to new orders.") == ()


def test_a_type_without_deciding_phrases_is_decided_by_its_evidence():
    indemnity = BY_ID["indemnification"]
    text = "You agree to indemnify and hold us harmless."
    assert indemnity.decided(text) == indemnity.evidence(text) != ()


def test_retaining_rights_is_ownership_not_data_retention():
    retention = BY_ID["data_retention"]
    assert retention.evidence("We will retain all rights not explicitly granted to you.") == ()
    assert retention.evidence("We retain your messages for 30 days.")


def test_ignoring_do_not_track_raises_tracking_in_any_of_its_wordings():
    tracking = BY_ID["tracking"]
    for text in ("Our website does not respond to Do Not Track signals.",
                 "We do not currently respond to DNT signals.",
                 "There is no accepted standard, so we do not change our practices in response to DNT."):
        assert tracking.raising(text), text
    # The raise phrase is itself a negation: an earlier "no" does not negate it.
    assert tracking.raising("Since there is no consensus, we do not respond to DNT signals.")
    assert tracking.raising("We don’t honor Do Not Track requests.")
    for text in ("We honor Do Not Track signals.", "If your browser sends a DNT signal, we will respect it.",
                 "We do not alter the content you see, and we do not track your browsing."):
        assert tracking.raising(text) == (), text


def test_ignoring_do_not_track_raises_its_own_type_in_any_of_its_wordings():
    signals = BY_ID["do_not_track"]
    for text in ("Our website does not respond to Do Not Track signals.",
                 "We do not currently respond to DNT signals.",
                 "There is no accepted standard, so we do not change our practices in response to DNT.",
                 "We don't honor browser privacy signals such as Global Privacy Control.",
                 "Browsers can send a Do Not Track signal, but we do not take any action in response to this signal."):
        assert signals.evidence(text) and signals.raising(text), text
    # The raise phrase is itself a negation: an earlier "no" does not negate it.
    assert signals.raising("Since there is no consensus, we do not respond to DNT signals.")
    assert signals.raising("We don’t honor Do Not Track requests.")
    for text in ("We honor Do Not Track signals.", "If your browser sends a DNT signal, we will respect it.",
                 "We do not alter the content you see, and we do not track your browsing."):
        assert signals.raising(text) == (), text
    assert signals.protecting("We also respect the GPC browser signal as a valid opt-out.")
    assert signals.protecting("We do not honor Global Privacy Control.") == ()


def test_cookies_are_tracking_and_a_browser_signal_is_also_its_own_type():
    cookies = "We use cookies and pixels to measure how you use the service."
    assert BY_ID["tracking"].evidence(cookies) and not BY_ID["do_not_track"].evidence(cookies)
    # "dnt" in lower case is a cookie's name, "GPC" in a sentence of another subject no signal: the abbreviations are
    # read in capitals only.
    assert BY_ID["do_not_track"].evidence("Name: dnt. Domain: .x.com") == ()
    assert BY_ID["do_not_track"].evidence("Your browser may send a DNT signal.") == ("DNT",)
    # SPEC §5 maps OPP-115's Do Not Track to tracking: a clause on the signal is tracking too.
    assert BY_ID["tracking"].evidence("We do not respond to Do Not Track signals.")


def test_being_indemnified_is_not_the_users_indemnity_unless_it_names_the_parties():
    indemnity = BY_ID["indemnification"]
    # Kling AI Terms of API Paid Service 10.2 (../shared/reference/seeds/002_…): the company owes the user nothing.
    refused = "You are fully responsible for the losses and damages incurred and will not be compensated or indemnified."
    assert indemnity.evidence(refused) and indemnity.decided(refused) == ()
    assert indemnity.decided("You will defend the Indemnified Parties against any claim.")
    assert indemnity.decided("You agree to indemnify us against all claims.")


@pytest.mark.parametrize("text", [
    "binding arbitration before the AAA; class action waived, binding arbitration again",
    "arbitration arbitrator arbitral", "no phrase", "ARBITRATION\nbinding  arbitration",
])
def test_an_alternation_of_compiled_phrases_matches_as_their_compiled_alternation(text):
    # Phrases that overlap, start at one place (the first in order wins) or come later in order but earlier in text.
    phrases = (r"arbitrat\w*", r"binding arbitration", r"arbitration before the \w+", r"class action", r"AAA")
    for order in (phrases, phrases[::-1], phrases[1:]):
        whole = re.compile("|".join(f"(?:{p})" for p in order).replace(" ", r"\s+"), re.IGNORECASE)
        alternation = Alternation([_compile_phrase(p) for p in order])
        assert [m.span() for m in alternation.finditer(text)] == [m.span() for m in whole.finditer(text)], order
        for at in range(len(text) + 1):
            found, expected = alternation.search(text, at), whole.search(text, at)
            assert (found and found.span()) == (expected and expected.span()), (order, at)


def test_a_phrase_that_may_match_nothing_is_refused():
    with pytest.raises(ValueError, match="may match nothing"):
        _compile_phrase(r"(?:arbitration)?")


def test_decided_gives_the_evidence_only_where_the_deciding_phrases_occur():
    arbitration = BY_ID["arbitration"]
    deciding = "You agree to resolve any dispute through binding arbitration administered by JAMS."
    mentioned = "This section does not apply to arbitration fees."
    for text in (deciding, mentioned, "No dispute clause here."):
        expected = arbitration.evidence(text) if arbitration.decided(text) else ()
        assert arbitration.decided(text) == expected, text
    assert arbitration.decided(deciding) and not arbitration.decided(mentioned)
    account = BY_ID["account_security"]  # no narrower phrases: its evidence decides
    text = "You must keep your password confidential."
    assert account.decided(text) == account.evidence(text) != ()
