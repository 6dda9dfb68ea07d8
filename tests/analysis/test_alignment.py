"""analysis/alignment.py: clause alignment, change lists, cosmetic judgement."""

from __future__ import annotations

from analysis.alignment import build_change, comparable_form, cosmetic_reason
from analysis.domain import (
    Classification,
    ClassifiedClause,
    Clause,
    StoredVersion,
    Version,
)
from analysis.text import sha256_text

UNTYPED = Classification(types=())


def _clauses(*items, keys=None):
    """ClassifiedClauses from ``(heading, text)`` or ``(heading, text, severity)`` tuples."""
    result = []
    for ordinal, item in enumerate(items):
        heading, text, *severity = item
        label = Classification(types=("termination",), severity=severity[0]) if severity else UNTYPED
        key = keys[ordinal] if keys else f"new{ordinal}"
        result.append(ClassifiedClause(Clause(ordinal, tuple(heading.split(" > ")) if heading else (), text, key), label))
    return tuple(result)


def _stored(clauses) -> StoredVersion:
    text = "\n\n".join(c.clause.text for c in clauses) + "\n"
    version = Version(sha256_text(text), "CW-D-00001", first_seen=None, last_verified=None)  # type: ignore[arg-type]
    return StoredVersion(version, text, tuple(clauses))


OLD = _clauses(
    ("", "Last updated: March 3, 2025"),
    ("1. Accounts > 1.1", "1.1 You must be 13 or older to use the Service."),
    ("1. Accounts > 1.2", "1.2 Keep your password secret and tell us of any unauthorised use."),
    ("2. Termination > 2.1", "2.1 We may suspend your account if you breach these Terms.", "medium"),
    ("2. Termination > 2.2", "2.2 You may close your account at any time from the settings page."),
    ("3. Law > 3.1", "3.1 These Terms are governed by the laws of Ireland."),
    ("3. Law > 3.2", "3.2 Disputes go to the courts of Dublin, as described in Section 3.1."),
    ("", "Contact us at [our help page](https://example.com/help?ref=old)."),
    keys=["kdate", "kage", "kpass", "ksuspend", "kclose", "klaw", "kcourts", "kcontact"],
)


def _new(*items):
    clauses = _clauses(*items)
    return clauses, "\n\n".join(c.clause.text for c in clauses) + "\n"


def test_first_version_has_no_change_and_unique_keys():
    clauses = _clauses(("", "Same."), ("", "Same."))
    aligned, change = build_change(None, "Same.\n\nSame.\n", "v1", clauses)
    assert change is None
    assert len({c.clause.key for c in aligned}) == 2


def test_renumbered_moved_reworded_added_removed():
    new, text = _new(
        ("", "Last updated: April 1, 2025"),
        ("2. Accounts > 2.1", "2.1 You must be 13 or older to use the Service."),
        ("3. Termination > 3.1", "3.1 We may suspend or terminate your account at any time without notice.", "high"),
        ("3. Termination > 3.2", "3.2 You may close your account at any time from the settings page."),
        ("3. Termination > 3.3", "3.3 You waive any right to a class action against us.", "high"),
        ("4. Law > 4.1", "4.1 Disputes go to the courts of Dublin, as described in Section 4.2."),
        ("", "Contact us at [our help page](https://example.com/support)."),
        ("4. Law > 4.2", "4.2 These Terms are governed by the laws of Ireland."),
    )
    aligned, change = build_change(_stored(OLD), text, sha256_text(text), new)
    assert [c.clause.key for c in aligned] == ["kdate", "kage", "ksuspend", "kclose", "new4", "kcourts", "kcontact", "klaw"]
    assert change.substantive and change.severity_raised and change.cosmetic_reason is None
    listed = [(c.kind, c.clause_key, c.severity_before, c.severity_after) for c in change.clause_changes]
    assert listed == [
        ("removed", "kpass", None, None),
        ("modified", "ksuspend", "medium", "high"),
        ("added", "new4", None, "high"),
        ("moved", "klaw", None, None),
    ]
    modified = change.clause_changes[1]
    assert modified.before.startswith("2.1 We may suspend your") and modified.after.startswith("3.1 We may suspend or")
    assert 0.3 <= modified.similarity < 0.5  # paired by its slot between unchanged neighbours
    assert change.clause_changes[3].heading_path == ("4. Law", "4.2")
    assert "".join(t for op, t in change.diff if op != 1) == _stored(OLD).text


def test_cosmetic_only_change_lists_nothing_and_says_why():
    new, text = _new(
        ("", "Last updated: April 1, 2025"),
        ("2. Accounts > 2.1", "2.1 You must be 13 or older to use the Service"),
        ("2. Accounts > 2.2", "2.2  Keep your password secret, and tell us of any unauthorised use."),
        ("3. Termination > 3.1", "3.1 We may suspend your account if you breach these Terms.", "medium"),
        ("3. Termination > 3.2", "3.2 You may close your account at any time from the settings page."),
        ("4. Law > 4.1", "4.1 These Terms are governed by the laws of Ireland."),
        ("4. Law > 4.2", "4.2 Disputes go to the courts of Dublin, as described in Section 4.1."),
        ("", "Contact us at [our help page](https://example.com/support)."),
    )
    aligned, change = build_change(_stored(OLD), text, sha256_text(text), new)
    assert [c.clause.key for c in aligned] == [c.clause.key for c in OLD]
    assert not change.substantive and not change.severity_raised and change.clause_changes == ()
    assert change.cosmetic_reason == "page dates, link targets, numbering, punctuation, whitespace"


def test_a_changed_number_in_the_text_is_substantive():
    assert cosmetic_reason("Refunds within 30 days.", "Refunds within 60 days.") is None
    assert cosmetic_reason("30 days\nnotice.", "60 days\nnotice.") is None
    assert cosmetic_reason("1. Fees are due.", "2. Fees are due.") == "numbering"
    assert cosmetic_reason("See Section 8.2 (b).", "See section 9.2(b).") == "numbering, punctuation"
    assert cosmetic_reason("Terms.\n\n© 2024 Example Inc.", "Terms.\n\n© 2025 Example Inc.") == "furniture"


def test_comparable_form_keeps_words_and_numbers():
    assert comparable_form("**8.2** We _may_ share data with [partners](https://x.example) for 30 days.") == (
        "we may share data with partners for 30 days"
    )


FIRST = "The first clause of this agreement stays exactly as it was written."
SECOND = "The second clause, about refunds within thirty days, is removed from the agreement."


def test_clauses_of_an_unanalysed_previous_version_are_split_from_its_text():
    previous = StoredVersion(Version("old", "CW-D-00001", None, None), FIRST + "\n\n" + SECOND + "\n")  # type: ignore[arg-type]
    new = _clauses(("", FIRST))
    _aligned, change = build_change(previous, FIRST + "\n", "new", new)
    assert [(c.kind, c.before) for c in change.clause_changes] == [("removed", SECOND)]


def test_duplicate_clauses_keep_distinct_keys():
    old = _clauses(("", "None."), ("", "Other text here."), ("", "None."), keys=["a", "b", "c"])
    new = _clauses(("", "None."), ("", "None."), ("", "None."))
    aligned, change = build_change(_stored(old), "x", "y", new)
    keys = [c.clause.key for c in aligned]
    assert keys[:2] == ["a", "c"] and len(set(keys)) == 3
    assert [c.kind for c in change.clause_changes] == ["removed", "added"]


def test_table_of_contents_and_page_date_clauses_are_not_listed():
    old = _clauses(("", "**Effective as of: September 1st, 2021**"), ("", "1. Fees are due monthly, in advance, by card."),
                   keys=["kdate", "kfees"])
    new, text = _new(("", "2. [The Service](#2-the-service)"), ("", "1. Fees are due yearly, in advance, by card."))
    _aligned, change = build_change(_stored(old), text, "v2", new)
    assert [(c.kind, c.clause_key) for c in change.clause_changes] == [("modified", "kfees")]


def test_a_change_outside_every_clause_is_cosmetic():
    new, text = _new(*[(" > ".join(c.clause.heading_path), c.clause.text) for c in OLD])
    text = "## Page Summary\n\n" + text
    _aligned, change = build_change(_stored(OLD), text, "v2", new)
    assert not change.substantive and change.cosmetic_reason == "outside clauses" and change.clause_changes == ()


def test_mis_spaced_words_are_cosmetic():
    assert cosmetic_reason("ThisArbitration Agreement applies.", "This Arbitration Agreement applies.") == "whitespace"
    assert cosmetic_reason("You may not sue.", "You may sue.") is None


def test_repeated_sentences_pair_within_their_own_section():
    boilerplate = "The safety of our creators and viewers is our highest priority in every policy."
    old = _clauses(("Spam", boilerplate), ("Spam", "Spam is not allowed on the service in any form."),
                   ("Child safety", boilerplate), ("Child safety", "Content endangering minors is removed at once."),
                   keys=["b1", "spam", "b2", "child"])
    new, text = _new(("Child safety", boilerplate), ("Child safety", "Content endangering minors is removed at once."),
                     ("Spam", boilerplate), ("Spam", "Spam is not allowed on the service in any form."))
    aligned, _change = build_change(_stored(old), text, "v2", new)
    assert [c.clause.key for c in aligned] == ["b2", "child", "b1", "spam"]


def test_table_of_contents_with_absolute_anchor_links_is_furniture():
    assert comparable_form("1. [Data We Collect](https://x.example/privacy#data-we-collect)") == ""
    assert comparable_form("See our [Cookie Policy](https://x.example/cookies) for details.") == "see our cookie policy for details"


def test_escaped_entities_and_view_counters_are_cosmetic():
    assert cosmetic_reason("| auth-token | Authentication & authorization |",
                           "| auth-token | Authentication &amp; authorization | &nbsp;") == "markup entities"
    assert cosmetic_reason("Views: 2MLast updated: May 18, 2026 Be kind.", "Views: 2.1MLast updated: May 18, 2026 Be kind.") == (
        "furniture"
    )


def _liability(text: str) -> ClassifiedClause:
    label = Classification(types=("limitation_of_liability",), severity="medium")
    return ClassifiedClause(Clause(0, ("12. Limitation of Liability",), text, "kcap"), label)


def test_a_lowered_cap_raises_severity_though_type_and_grade_stay():
    before = "In no event will our aggregate liability for all claims relating to the Services exceed $100 USD."
    after = before.replace("$100", "$50")
    clauses = (_liability(after),)
    _aligned, change = build_change(_stored((_liability(before),)), after + "\n", sha256_text(after), clauses)
    [clause] = change.clause_changes
    assert (clause.kind, clause.severity_before, clause.severity_after) == ("modified", "medium", "medium")
    assert [f.summary for f in clause.facts] == ["liability cap: $100 USD → $50 USD"]
    assert change.severity_raised


def test_a_raised_cap_names_the_fact_and_raises_nothing():
    before = "In no event will our aggregate liability for all claims relating to the Services exceed $100 USD."
    after = before.replace("$100", "$500")
    _aligned, change = build_change(_stored((_liability(before),)), after + "\n", sha256_text(after),
                                    (_liability(after),))
    [clause] = change.clause_changes
    assert [(f.summary, f.against_user) for f in clause.facts] == [("liability cap: $100 USD → $500 USD", False)]
    assert not change.severity_raised


def test_links_urls_references_and_counters_leave_the_comparable_form_in_any_case():
    text = ("See Section 4.2 of our [terms](https://x.test/t) at HTTPS://Example.com/terms or WWW.example.com. "
            "Views: 2.1M")
    assert comparable_form(text) == "see section of our terms at or"
    assert comparable_form("Read SECTION 12 here") == comparable_form("Read section 3 here")


def test_a_list_served_in_another_order_is_cosmetic_and_nothing_else_is():
    # A processors list shuffled on every load made a substantive change, with an alert, on every crawl (review of
    # 2026-12-02).
    before = "# Privacy\n\nWe share data with:\n\n- Stripe (payments)\n- AWS (hosting)\n- Mailchimp (email)\n\nThat is all."
    shuffled = "# Privacy\n\nWe share data with:\n\n- AWS (hosting)\n- Mailchimp (email)\n- Stripe (payments)\n\nThat is all."
    assert cosmetic_reason(before, shuffled) == "list order"
    assert cosmetic_reason("1. Stripe\n2. AWS\n\nEnd.", "1. AWS\n2. Stripe\n\nEnd.") == "list order"
    assert cosmetic_reason(before, shuffled.replace("AWS", "Google Cloud")) is None  # a new processor
    assert cosmetic_reason(before, shuffled.replace("- Mailchimp (email)\n", "")) is None  # one gone
    # An item moved from one list to another is not a reordering.
    assert cosmetic_reason("- we sell data\n\nWe never:\n\n- share data", "- share data\n\nWe never:\n\n- we sell data") \
        is None
