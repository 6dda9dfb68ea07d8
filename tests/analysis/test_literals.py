"""What every match of an expression must contain (analysis.literals), and the screens built on it."""

from __future__ import annotations

import pickle
import re

import pytest

from analysis.literals import (FragmentFinder, Screened, common_screen, compile_looking_ahead, flatten, holds, initials,
                               requirements, satisfied)
from analysis.taxonomy import BY_ID, Phrases, _phrases
from tests.fakes import whole_alternation


@pytest.mark.parametrize(
    ("pattern", "needs"),
    [
        (r"governed by (?:the )?laws?", [{"governed by"}, {"law"}]),
        (r"\bJAMS\b", [{"jams"}]),
        (r"(?:binding|mandatory) arbitrat(?:ion|or)", [{"binding", "mandatory"}, {"arbitrat"}]),
        (r"indemnif\w+|hold (?:\w+ ){0,8}harmless", [{"indemnif", "harmless"}]),
        (r"(?:terminate|suspend) your account", [{"terminate", "suspend"}, {"your account"}]),
        (r"z\wrich", [{"rich"}]),
        (r"café policy", [{"caf"}, {"policy"}]),  # a non-ASCII letter ends a run, it does not spoil it
    ],
)
def test_requirements_are_read_off_the_expression(pattern, needs):
    assert requirements(pattern) == tuple(needs)


@pytest.mark.parametrize(
    "pattern",
    [
        r"as[- ]is",                # "as" and "is": too short to rule anything out
        r"\w+s|collect",            # a branch that requires no fragment long enough
        r"(?:our )?(?:cookies)?",   # nothing is required at all
        r"é+",                      # no ASCII literal
        r"(?:unbalanced",           # not an expression
    ],
)
def test_no_requirements_when_none_is_certain(pattern):
    assert requirements(pattern) is None


def test_every_requirement_of_a_sequence_must_hold():
    needs = requirements(r"you (?:agree |shall )?(?:not|never) (?:\w+ ){0,8}(?:post|upload)")
    assert needs == ({"you"}, {"post", "upload"})
    assert satisfied(needs, "you shall not upload spam")
    assert not satisfied(needs, "we may upload the files")


def test_a_common_screen_holds_one_fragment_every_match_of_each_expression_holds():
    needs = [requirements(r"(?:binding|mandatory) arbitrat(?:ion|or)"), requirements(r"\barbitration award"),
             requirements(r"indemnif\w+|hold (?:\w+ ){0,8}harmless")]
    assert common_screen(needs) == ("arbitrat", "harmless", "indemnif")  # "arbitration award" holds "arbitrat"
    assert common_screen([*needs, requirements(r"as[- ]is")]) is None


# Texts a screen could get wrong: case, runs of whitespace, and the letters re.IGNORECASE matches to an ASCII
# letter although str.lower does not (Turkish dotted and dotless i, the long s).
ODD_TEXTS = [
    "Disputes are resolved by BINDING arbitration.", "governed  by\nthe\tlaws of Ireland",
    "ANY DISPUTE WILL BE RESOLVED BY BİNDİNG ARBİTRATİON RATHER THAN IN COURT.", "binding arbıtration",
    "You waive any claſs action.", "Hold the Company and its officers harmless", "no match here",
    "We may suspend\u00a0your account.", "İNDEMNİFY US",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_a_screened_expression_finds_what_the_expression_finds(text):
    for pattern in (r"arbitrat|\bJAMS\b|\bICC\b|small[- ]claims|dispute resolution", r"indemnif\w+",
                    r"class action", r"governed by"):
        found = Screened(pattern).search(text)
        expected = re.search(pattern, text, re.IGNORECASE)
        assert (found and found.group()) == (expected and expected.group()), (pattern, text)


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_screened_phrases_find_what_the_whole_alternation_finds(text):
    for clause_type in BY_ID.values():
        for patterns in (clause_type.patterns, clause_type.raises, clause_type.protects):
            phrases = Phrases(patterns)
            if (compiled := whole_alternation(phrases)) is not None:
                assert phrases.find(text) == _phrases(compiled, text), (clause_type.id, text)


def test_the_fragment_finder_finds_what_substring_tests_find_overlapping_and_nested_ones_included():
    fragments = ["arbitrat", "arbitration", "bitr", "ration", "class action", "action", "ass", "harmless", "no such"]
    finder = FragmentFinder(fragments)
    for text in (*ODD_TEXTS, "binding arbitration; class actions waived", "arbitrationarbitrat", ""):
        flat = flatten(text)
        assert finder.found_in(text) == {f for f in fragments if f in flat}, text


def test_found_fragments_satisfy_the_requirements_the_substring_tests_satisfy():
    patterns = [p for t in BY_ID.values() for p in (*t.patterns, *t.decides, *t.raises, *t.protects)]
    needs = [r for r in map(requirements, patterns) if r]
    finder = FragmentFinder(f for r in needs for fragments in r for f in fragments)
    for text in ODD_TEXTS:
        flat = flatten(text)
        assert [holds(r, finder.found_in(text)) for r in needs] == [satisfied(r, flat) for r in needs], text


def test_a_fragment_finder_pickles_as_its_fragments():
    finder = FragmentFinder(["arbitrat", "class action"])
    copy = pickle.loads(pickle.dumps(finder))
    assert copy.fragments == finder.fragments
    assert copy.found_in("Binding ARBITRATION, no class  action.") == {"arbitrat", "class action"}


def test_phrases_refuse_a_finder_that_lacks_one_of_their_fragments():
    with pytest.raises(ValueError, match="arbitrat"):
        Phrases((r"\barbitrat\w+", r"class action"), FragmentFinder(["class action"]))
    assert Phrases((r"class action",), FragmentFinder(["class action", "waiver"])).find("No CLASS  action.") == (
        "CLASS action",)


def test_flatten_folds_the_letters_lower_case_leaves_apart():
    assert flatten("BİNDİNG  Arbıtration\nclaſs") == "binding arbitration class"


@pytest.mark.parametrize(
    ("pattern", "first"),
    [
        (r"\bJAMS\b|American Arbitration", "AJ"),
        (r"(?:(?:final and )?(?:binding|mandatory) )?\barbitrat", "abfm"),  # optional words: their letters or the next
        (r"(?<!your\s)own|[Oo]utputs?", "Oo"),                            # assertions are passed over
        (r"<?\b(?:https?://|www\.)", "<hw"),
    ],
)
def test_initials_are_read_off_the_expression(pattern, first):
    assert initials(pattern) == "".join(sorted(first))


@pytest.mark.parametrize("pattern", [r"\w+ing", r"\d+ days", r"(?:our )?(?:cookies)?", r".at", r"(?:unbalanced"])
def test_no_initials_when_a_match_may_start_anywhere_or_nowhere(pattern):
    assert initials(pattern) is None


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_an_expression_looking_ahead_finds_what_the_expression_finds(text):
    for clause_type in BY_ID.values():
        for pattern in (*clause_type.patterns, *clause_type.decides, *clause_type.raises, *clause_type.protects):
            spaced = pattern.replace(" ", r"\s+")
            expected = [m.span() for m in re.finditer(spaced, text, re.IGNORECASE)]
            assert [m.span() for m in compile_looking_ahead(spaced).finditer(text)] == expected, (pattern, text)


def test_an_expression_opening_with_a_global_flag_is_compiled_as_it_is():
    compiled = compile_looking_ahead(r"(?s)arbitrat.on")
    assert compiled.pattern == r"(?s)arbitrat.on" and compiled.search("ARBITRAT\nON")
