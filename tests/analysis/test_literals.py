"""What every match of an expression must contain (analysis.literals)."""

from __future__ import annotations

import re

import pytest

from analysis.literals import Screened, required_fragments, requirements, satisfied


@pytest.mark.parametrize(
    ("pattern", "fragments"),
    [
        (r"governed by (?:the )?laws?", {"governed by"}),
        (r"\bJAMS\b", {"jams"}),
        (r"(?:binding|mandatory) arbitrat(?:ion|or)", {"arbitrat"}),
        (r"indemnif\w+|hold (?:\w+ ){0,8}harmless", {"indemnif", "harmless"}),
        # The most selective requirement wins: each branch's word is longer than "damages".
        (r"(?:incidental|consequential)(?:,? (?:or )?(?:special|punitive))* damages", {"incidental", "consequential"}),
        (r"z\wrich", {"rich"}),
        (r"(?:terminate|suspend) your account", {"your account"}),
        (r"(?:opt[- ]out|unsubscribe)", {"opt", "unsubscribe"}),
    ],
)
def test_fragments_are_read_off_the_expression(pattern, fragments):
    assert required_fragments(pattern) == fragments


@pytest.mark.parametrize(
    "pattern",
    [
        r"as[- ]is",                # "as" and "is": too short to rule anything out
        r"\w+s|collect",            # a branch that requires no fragment long enough
        r"(?:our )?(?:cookies)?",   # nothing is required at all
        r"é+",                      # not plain ASCII: lower-casing may not follow the expression's case folding
        r"(?:unbalanced",           # not an expression
    ],
)
def test_no_fragments_when_none_is_certain(pattern):
    assert required_fragments(pattern) is None


def test_every_requirement_of_a_sequence_must_hold():
    needs = requirements(r"you (?:agree |shall )?(?:not|never) (?:\w+ ){0,8}(?:post|upload)")
    assert needs == ({"you"}, {"post", "upload"})
    assert satisfied(needs, "you shall not upload spam")
    assert not satisfied(needs, "we may upload the files")


@pytest.mark.parametrize(
    "text",
    ["Disputes are resolved by BINDING arbitration.", "We shall indemnify you.", "You agree to hold us harmless.",
     "no match here", "governed  by\nthe laws of Ireland", "Hold the Company and its officers harmless"],
)
def test_a_text_without_the_fragments_never_matches(text):
    """The shortcut's promise, on the expressions above: no fragment in the flattened text, no match."""
    for pattern in (r"indemnif\w+|hold (?:\w+ ){0,8}harmless", r"governed by (?:the )?laws?",
                    r"(?:binding|mandatory) arbitrat(?:ion|or)"):
        compiled = re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE)
        flat = " ".join(text.lower().split())
        if not any(f in flat for f in required_fragments(pattern)):
            assert compiled.search(text) is None


@pytest.mark.parametrize(
    "text",
    ["Any dispute shall be settled by JAMS.", "Claims under $10,000 may go to small claims court.",
     "Dispute  Resolution", "We resolve disputes informally.", "small-claims", "Vaccines are not covered."],
)
def test_a_screened_expression_finds_what_the_expression_finds(text):
    pattern = r"arbitrat|\bJAMS\b|\bICC\b|small[- ]claims|dispute resolution"
    found = Screened(pattern).search(text)
    expected = re.search(pattern, text, re.IGNORECASE)
    assert (found and found.group()) == (expected and expected.group())
