"""Facts that moved in a reworded clause, on real clause wordings.

The wordings are from the policies of the Open Terms Archive "pga" collection
(``../shared/datasets/ota/pga-versions.bundle``, ODC-BY 1.0): X, Tumblr, Twitch,
Reddit and Spotify terms of service; the second side is each one reworded as a
platform would.
"""

from __future__ import annotations

import math

import pytest

from analysis.fact_changes import FACT_KINDS, age, duration, fact_changes, money

X_CAP = ("THE LIMITATIONS OF THIS SUBSECTION SHALL APPLY TO ANY THEORY OF LIABILITY, WHETHER BASED ON WARRANTY, "
         "CONTRACT, STATUTE, TORT (INCLUDING NEGLIGENCE) OR OTHERWISE. IN NO EVENT SHALL THE AGGREGATE LIABILITY OF "
         "THE X ENTITIES EXCEED THE GREATER OF ONE HUNDRED U.S. DOLLARS (U.S. $100.00) OR THE AMOUNT YOU PAID US, "
         "IF ANY, IN THE PAST SIX MONTHS FOR THE SERVICES GIVING RISE TO THE CLAIM.")
SPOTIFY_CAP = ("IN NO EVENT WILL OUR AGGREGATE LIABILITY FOR ALL CLAIMS RELATING TO THE SERVICES EXCEED THE GREATER "
               "OF $100 USD OR THE AMOUNT YOU PAID US IN THE 12 MONTHS PRECEDING THE DATE OF THE ACTIVITY GIVING RISE "
               "TO THE CLAIM.")
TUMBLR_LIMIT = ("You agree that any claim you may have arising out of or related to this Agreement or your relationship "
                "with Tumblr must be filed within one year after such claim arose; otherwise, your claim is "
                "permanently barred.")
TWITCH_LIMIT = ("TO THE EXTENT PERMITTED BY APPLICABLE LAW, YOU AND TWITCH AGREE THAT ANY CAUSE OF ACTION ARISING OUT "
                "OF OR RELATED TO THE TWITCH SERVICES MUST COMMENCE WITHIN ONE (1) YEAR AFTER THE CAUSE OF ACTION "
                "ACCRUES.")
X_LIMIT = ("You and X agree that you must initiate any proceeding or action within one (1) year of the date of the "
           "occurrence of the event or facts giving rise to a dispute that is arising out of or related to these "
           "Terms or the Services.")
REDDIT_NOTICE = ("If we change this Agreement, we'll provide you with at least 15 days' advance notice before the "
                 "changes take effect.")
SPOTIFY_NOTICE = ("Unless otherwise required by law, we will provide you at least 30 days' advance notice of changes "
                  "to our Terms.")


def _summaries(before, after, types):
    return [(f.summary, f.against_user) for f in fact_changes(before, after, types)]


def test_a_lowered_liability_cap_is_named_and_against_the_user():
    after = SPOTIFY_CAP.replace("$100 USD", "$50 USD")
    # The part both wordings share ("or the amount you paid us…") is left out of the summary.
    assert _summaries(SPOTIFY_CAP, after, ["limitation_of_liability"]) == [("liability cap: $100 USD → $50 USD", True)]


def test_a_raised_cap_is_named_in_the_users_favour():
    after = X_CAP.replace("U.S. $100.00", "U.S. $500.00").replace("ONE HUNDRED", "FIVE HUNDRED")
    [fact] = fact_changes(X_CAP, after, ["limitation_of_liability"])
    assert fact.label == "liability cap" and fact.against_user is False
    assert "$100.00" in fact.before and "$500.00" in fact.after


def test_the_same_cap_written_otherwise_is_no_change():
    assert fact_changes("Our liability shall not exceed $100.", "Our liability shall not exceed US$100.",
                        ["limitation_of_liability"]) == ()


def test_a_shortened_time_limit_for_claims_is_against_the_user():
    after = TUMBLR_LIMIT.replace("within one year", "within three months")
    assert _summaries(TUMBLR_LIMIT, after, ["limitation_of_liability"]) == [
        ("limitation period: one year → three months", True)]


@pytest.mark.parametrize("clause", [TWITCH_LIMIT, X_LIMIT])
def test_time_limits_written_with_digits_in_brackets(clause):
    after = clause.replace("ONE (1) YEAR", "SIX (6) MONTHS").replace("one (1) year", "six (6) months")
    [fact] = [f for f in fact_changes(clause, after, ["jurisdiction"]) if f.fact == "limitation_period"]
    assert fact.against_user is True


def test_a_notice_removed_before_changes_is_against_the_user():
    after = "We may change this Agreement at any time, without notice, and the changes take effect when posted."
    assert _summaries(REDDIT_NOTICE, after, ["unilateral_change"]) == [
        ("notice before changes: at least 15 days → none", True)]


def test_a_longer_notice_is_in_the_users_favour():
    after = SPOTIFY_NOTICE.replace("30 days'", "60 days'")
    assert _summaries(SPOTIFY_NOTICE, after, ["unilateral_change"]) == [
        ("notice before changes: at least 30 days → at least 60 days", False)]


def test_a_longer_retention_is_against_the_user_and_indefinitely_is_longest():
    before = "We retain your messages for 30 days after you delete them, then they are erased from our servers."
    assert _summaries(before, before.replace("30 days", "2 years"), ["data_retention"])[0][1] is True
    forever = "We retain your messages indefinitely after you delete them."
    [fact] = [f for f in fact_changes(before, forever, ["data_retention"]) if f.fact == "retention_period"]
    assert fact.against_user is True


def test_a_lower_minimum_age_is_against_the_user():
    before = "You must be at least 16 years old to use the Services."
    assert _summaries(before, before.replace("16", "13"), ["age_restriction"]) == [
        ("minimum age: 16 years → 13 years", True)]


def test_days_of_notice_are_never_read_as_an_age():
    before = "We will give you at least 30 days' notice before we terminate a Paid Subscription."
    kinds = [f.fact for f in fact_changes(before, before.replace("30", "14"), ["unilateral_termination"])]
    assert kinds == ["notice_period"]


def test_another_court_or_law_is_named_without_a_direction():
    before = ("These Terms are governed by the laws of the State of California, and disputes shall be resolved "
              "exclusively in the state or federal courts located in San Francisco County, California.")
    after = before.replace("State of California", "State of Texas").replace("San Francisco County, California",
                                                                            "Travis County, Texas")
    facts = fact_changes(before, after, ["governing_law", "jurisdiction"])
    assert [(f.fact, f.against_user) for f in facts] == [("venue", None), ("governing_law", None)]
    assert facts[1].summary == "governing law: the law of the State of California → the law of the State of Texas"


def test_more_data_named_in_a_collection_clause_is_against_the_user():
    before = "We collect your email address and phone number when you create an account."
    after = "We collect your email address, phone number and precise location when you create an account."
    [fact] = fact_changes(before, after, ["data_collection"])
    assert fact.label == "data named" and fact.against_user is True and "location" in fact.after


def test_data_words_outside_a_data_clause_are_not_facts():
    assert fact_changes("Send us an email address change.", "Send us a photo.", ["account_security"]) == ()


def test_a_price_increase_is_against_the_user():
    before = "The Premium plan costs $9.99 per month, billed in advance."
    [fact] = fact_changes(before, before.replace("9.99", "12.99"), ["fees_and_refunds"])
    assert (fact.label, fact.against_user) == ("price or fee", True)


def test_measures():
    assert duration("thirty (30) days") == ("days", 30)
    assert duration("one (1) year") == ("days", 365)
    assert duration("indefinitely") == ("days", math.inf)
    assert duration("as long as necessary") is None
    assert money("U.S. $100.00") == ("USD", 100.0) and money("€50") == ("EUR", 50.0)
    assert money("the amount you paid us") is None
    assert age("13 years") == ("years", 13.0)


def test_every_fact_kind_reads_an_existing_extractor():
    from analysis.explain_facts import EXTRACTORS

    assert all(kind.extractor in EXTRACTORS for kind in FACT_KINDS)


def test_the_same_period_written_twice_is_no_change():
    before = ("You may opt out of this arbitration agreement within thirty (30) days. If you do not opt out "
              "within the thirty (30) day period, you are bound by it.")
    after = "You may opt out of this arbitration agreement within thirty (30) days of accepting these Terms."
    assert fact_changes(before, after, ["arbitration"]) == ()


def test_laws_named_outside_a_dispute_clause_are_not_facts():
    before = ("You must comply with the export control and sanctions laws of the United States, the European Union "
              "and the United Kingdom.")
    assert fact_changes(before, "You must comply with all applicable export control laws.", ["prohibited_content"]) == ()


def test_ordinary_data_newly_named_has_no_direction():
    before = "We collect your phone number when you create an account."
    [fact] = fact_changes(before, before.replace("phone number", "phone number and your name"), ["data_collection"])
    assert fact.against_user is None
