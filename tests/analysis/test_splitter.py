"""The structure-aware clause splitter, on hand-made Markdown and on the Kling seed documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.splitter import MAX_CLAUSE_CHARS, heading_label, split_clauses, split_spans
from analysis.text import normalize_text


def _seed(shared: Path, prefix: str) -> str:
    (path,) = (shared / "reference" / "seeds").glob(f"{prefix}_*.txt")
    return normalize_text(path.read_text(encoding="utf-8"))


def _load_benchmark():
    """The benchmark's tag stripping and span check, so the test measures what it reports."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "splitter.py"
    spec = importlib.util.spec_from_file_location("splitter_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _by_path(clauses, *path):
    return [c for c in clauses if c.heading_path == path]


MARKDOWN = normalize_text("""\
# Example Terms of Service

Welcome to Example. These terms apply to everyone who uses the service.

## 1. Definitions

“Service” means the website and apps operated by Example Ltd.

“Content” means anything you upload, including text, images and video.

## 2. Your account

2.1 You must be at least 16 years old to open an account with us.

2.2 You are responsible for keeping your password secret and for all activity on your account.

## 3. Conduct

3.1 You must not:

(a) copy the service;

(b) resell access; or

(c) scrape our pages.

3.2 We may remove content that breaks these rules, at our discretion and without telling you first.

**Governing law**

These terms are governed by the laws of England and Wales, and disputes go to the courts of London.
""")


def test_markdown_headings_and_numbers_form_the_heading_path():
    clauses = split_clauses(MARKDOWN)
    paths = [c.heading_path for c in clauses]
    assert ("2. Your account", "2.1") in paths
    assert ("2. Your account", "2.2") in paths
    # A bold line inside a Markdown section is a sub-heading of it.
    assert _by_path(clauses, "3. Conduct", "Governing law")[0].text.startswith("These terms are governed")
    # The lone document title is not repeated in every path.
    assert not any("Example Terms of Service" in part for path in paths for part in path)


def test_unnumbered_definitions_are_clauses_named_by_their_term():
    clauses = split_clauses(MARKDOWN)
    (service,) = _by_path(clauses, "1. Definitions", "“Service”")
    assert service.text.startswith("“Service” means")
    assert _by_path(clauses, "1. Definitions", "“Content”")


def test_a_lead_in_keeps_its_short_items_as_one_clause():
    clauses = split_clauses(MARKDOWN)
    (conduct,) = _by_path(clauses, "3. Conduct", "3.1")
    assert conduct.text.startswith("3.1 You must not:")
    assert conduct.text.endswith("(c) scrape our pages.")
    assert not any(c.heading_path[-1:] == ("(b)",) for c in clauses)


def test_long_items_become_clauses_of_their_own():
    item = "a long obligation that goes on and on about what the user must do, " * 6
    text = normalize_text(f"5.1 While you use the service you must do each of the following:\n\n(a) {item}first.\n\n(b) {item}second.\n")
    clauses = split_clauses(text)
    assert [c.heading_path for c in clauses] == [("5.1",), ("5.1", "(a)"), ("5.1", "(b)")]


def test_a_lead_in_too_short_to_stand_alone_joins_the_first_long_item():
    item = "a long obligation that goes on and on about what the user must do, " * 6
    text = normalize_text(f"5.1 You must:\n\n(a) {item}first.\n\n(b) {item}second.\n")
    clauses = split_clauses(text)
    assert [c.heading_path for c in clauses] == [("5.1",), ("5.1", "(b)")]
    assert clauses[0].text.startswith("5.1 You must:\n\n(a) a long")


def test_every_clause_is_an_exact_slice_of_the_text_in_order():
    spans = split_spans(MARKDOWN)
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
    clauses = split_clauses(MARKDOWN)
    assert [c.ordinal for c in clauses] == list(range(len(clauses)))
    assert all(c.text == MARKDOWN[s.start:s.end] for c, s in zip(clauses, spans, strict=True))


def test_a_very_long_paragraph_is_cut_only_between_sentences():
    sentence = "The company may process your information for the purposes described in this section. "
    text = normalize_text(sentence * 80)
    clauses = split_clauses(text)
    assert len(clauses) > 1
    assert all(len(c.text) <= MAX_CLAUSE_CHARS for c in clauses)
    assert all(c.text.endswith("section.") for c in clauses)
    assert "".join(c.text + " " for c in clauses) == text.rstrip("\n") + " "


def test_tiny_fragments_join_a_neighbour_in_the_same_section():
    text = normalize_text(
        "## Privacy\n\nWe collect your name and email address when you sign up for an account.\n\nSee below.\n\n"
        "## Cookies\n\nWe use cookies to remember your preferences and to measure traffic.\n"
    )
    clauses = split_clauses(text)
    assert [c.heading_path for c in clauses] == [("Privacy",), ("Cookies",)]
    assert clauses[0].text.endswith("See below.")


def test_all_caps_and_bold_lines_are_headings_but_caps_paragraphs_are_not():
    text = normalize_text(
        "LIMITATION OF LIABILITY\n\nIN NO EVENT SHALL WE BE LIABLE FOR ANY INDIRECT OR CONSEQUENTIAL DAMAGES.\n\n"
        "**Termination**\n\nWe may end your access to the service at any time for any reason.\n"
    )
    clauses = split_clauses(text)
    assert [c.heading_path for c in clauses] == [("LIMITATION OF LIABILITY",), ("Termination",)]
    assert clauses[0].text.startswith("IN NO EVENT")


def test_keys_ignore_renumbering_but_follow_the_words():
    before = split_clauses(normalize_text("## 3. Fees\n\n3.1 Fees are not refundable once paid, except where the law requires.\n"))
    after = split_clauses(normalize_text("## 4. Fees\n\n4.1 Fees are not refundable once paid, except where the law requires.\n"))
    reworded = split_clauses(normalize_text("## 4. Fees\n\n4.1 Fees are refundable within 14 days of payment on request.\n"))
    assert before[0].key == after[0].key
    assert before[0].key != reworded[0].key
    assert re.fullmatch(r"c[0-9a-f]{16}", before[0].key)


def test_repeated_text_under_one_heading_gets_distinct_keys():
    para = "This paragraph is repeated word for word in the document by mistake.\n\n"
    keys = [c.key for c in split_clauses(normalize_text(para * 3))]
    assert len(set(keys)) == 3


CONVERTED = normalize_text("""\
[Example Terms of Use](#terms)
==============================

[](#1-introduction)**1\\. Introduction**
----------------------------------------

By using the service you agree to these terms, which apply to every visitor.

### [](#fees)**Fees and [refunds](https://example.com/refunds)**

*   **Refunds.** Fees are refundable within 14 days of purchase if you have not used the credits.
*   **Price changes.** We may change prices with 30 days' notice sent to your email address.

| Purpose | Data | Legal basis |
| --- | --- | --- |
| Running your account and logging you in | Account data | Performance of our contract with you |
| Showing you personalised advertising | Usage data | Your consent, where the law requires it |

---

**2.1** “**Credits**” means the prepaid units you buy to generate videos on the service.

The following choices are yours:

1.  turn off personalised ads in your settings at any time;
2.  ask us to delete your account and every upload.
""")


def test_converted_markdown_headings_read_as_people_see_them():
    clauses = split_clauses(CONVERTED)
    paths = {c.heading_path for c in clauses}
    # Setext headings, empty anchors, links, emphasis and escapes are gone from the labels.
    assert ("1. Introduction",) in paths
    assert ("1. Introduction", "Fees and refunds", "Refunds") in paths
    assert ("1. Introduction", "Fees and refunds", "Price changes") in paths


def test_heading_labels_lose_either_emphasis_mark_and_keep_words_with_underscores():
    assert heading_label("__Your rights__") == "Your rights"
    assert heading_label("*Your*  [rights](https://example.test/rights)") == "Your rights"
    assert heading_label("The my_account page") == "The my_account page"


def test_each_table_row_is_a_clause_and_rules_are_not():
    clauses = split_clauses(CONVERTED)
    rows = [c for c in clauses if c.text.startswith("| Running") or c.text.startswith("| Showing")]
    assert len(rows) == 2 and all("\n" not in c.text for c in rows)
    assert not any(set(c.text) <= set("-|= \n") for c in clauses)


def test_bold_numbers_and_markdown_ordered_lists_are_numbering():
    clauses = split_clauses(CONVERTED)
    (credits,) = [c for c in clauses if "prepaid units" in c.text]
    assert credits.heading_path[-1] == "2.1"
    (choices,) = [c for c in clauses if c.text.startswith("The following choices")]
    assert choices.text.endswith("every upload.")  # one enumerated clause, not a "section 1"


def test_a_sentence_missing_its_full_stop_is_a_clause_not_a_heading():
    # Taken for a heading, its words were in no clause, and an edit to them ("with notice" -> "at any time without
    # notice") was "cosmetic (outside clauses)". Bold and capitalised lines, and title-like lines, stay headings.
    text = ("# Terms\n\n## 1. Fees\n\nRefunds within 30 days of purchase.\n\n## 2. Termination\n\n"
            "We may suspend your account at any time without notice\n\nYou may not use the Service\n\n"
            "## 3. Your content\n\n"
            "You grant us a licence to the content you post\n\n**We Use Your Data**\n\nTo run the service and to "
            "answer your questions.\n\nHow We Share Data\n\nOnly with the processors listed below, never with "
            "advertisers.\n\nYou Are Responsible\n\nFor the account and everything done with it, at all times.\n\n"
            "We Collect Data via Cookies if You Agree\n\nSmall files stored on your device, each named below.\n")
    clauses = split_clauses(text)

    assert [(c.heading_path, c.text) for c in clauses] == [
        (("1. Fees",), "Refunds within 30 days of purchase."),
        (("2. Termination",), "We may suspend your account at any time without notice\n\nYou may not use the Service"),
        (("3. Your content",), "You grant us a licence to the content you post"),
        (("3. Your content", "We Use Your Data"), "To run the service and to answer your questions."),
        (("3. Your content", "How We Share Data"), "Only with the processors listed below, never with advertisers."),
        (("3. Your content", "You Are Responsible"), "For the account and everything done with it, at all times."),
        (("3. Your content", "We Collect Data via Cookies if You Agree"),
         "Small files stored on your device, each named below."),
    ]


def test_question_lines_are_headings_and_field_labels_are_not():
    text = normalize_text(
        "What data do we collect?\n\nWe collect your name, your email address and the pages you visit on the site.\n\n"
        "* * *\n\nName\n\n_ga\n\nWeb Domain\n\n.example.com\n\n"
        "Why do we use cookies?\n\nWe use cookies to keep you signed in and to count visits to each page.\n"
    )
    clauses = split_clauses(text)
    assert [c.heading_path for c in clauses] == [("What data do we collect?",), ("Why do we use cookies?",)]
    # The label/value pairs stay as text with the clause before them; the rule is no clause of its own
    # (it stays inside the slice, verbatim).
    assert clauses[0].text.endswith("Name\n\n_ga\n\nWeb Domain\n\n.example.com")
    assert "* * *" in clauses[0].text


def test_hostile_and_degenerate_input_never_breaks_the_splitter():
    import random

    pieces = ["", "-", "1.", "(a)", "**", "#", "##", "|", "[](#x)", "* ", "**:**", "\u200b", "1.1", "a)",
              "“”means", "---", "===", "A\n===", "x" * 5000, "word. " * 800, "Some text here.", "ALL CAPS",
              "**Bold**", "We may collect:", "(i) item;", "8.2 You must:", "* 1. Title", "| a | b |", "<script>"]
    generator = random.Random(7)
    for _ in range(300):
        text = normalize_text("\n".join(generator.choice(pieces) for _ in range(generator.randint(1, 25))))
        clauses = split_clauses(text)
        assert all(c.text and c.text in text for c in clauses)
        assert len({c.key for c in clauses}) == len(clauses)


def test_empty_text_has_no_clauses():
    assert split_clauses("") == []
    assert split_clauses("\n\n  \n") == []


@pytest.mark.shared
def test_kling_api_terms_follow_their_numbering(shared):
    clauses = split_clauses(_seed(shared, "002"))
    (lead_in,) = _by_path(clauses, "8. Iinstructions of Conduct", "8.2")
    assert lead_in.text.startswith("8.2 You must not")
    (theft,) = _by_path(clauses, "8. Iinstructions of Conduct", "8.2", "8.2.1")
    assert theft.text.startswith("8.2.1 Theft")
    # 9.1's four short situations stay with their lead-in: one enumerated provision.
    (situations,) = _by_path(clauses, "9. Suspension and Termination of Services", "9.1")
    assert "9.1.1 Active suspension" in situations.text and "9.1.4 Other situations" in situations.text
    # No clause is a whole numbered section.
    assert not any(re.search(r"^\d+\.1 .*^\d+\.2 ", c.text, re.S | re.M) for c in clauses)
    assert _by_path(clauses, "11. Exclusion of Liability", "11.1", "(13)")


@pytest.mark.shared
def test_kling_privacy_policy_lists_stay_with_their_lead_in(shared):
    clauses = split_clauses(_seed(shared, "004"))
    (collect,) = _by_path(clauses, "Account Information")
    assert collect.text.startswith("We may collect:") and "Account preferences" in collect.text
    retention = _by_path(clauses, "Data Retention")
    assert len(retention) == 3 and all("retain" in c.text or "remain" in c.text for c in retention)
    assert _by_path(clauses, "Children")[0].text.startswith("Kling 5.0 AI is not intended for children under 13")


@pytest.mark.shared
def test_claudette_labelled_spans_are_almost_never_cut(shared):
    benchmark = _load_benchmark()
    span_fate, strip_tags = benchmark.span_fate, benchmark.strip_tags
    fates = {"whole": 0, "cut": 0, "outside": 0}
    for path in sorted((shared / "datasets" / "claudette").glob("*/documents/*.xml")):
        text, spans = strip_tags(normalize_text(path.read_text(encoding="utf-8")))
        clauses = split_spans(text)
        for span in spans:
            fates[span_fate(text, span, clauses)] += 1
    assert fates["whole"] > 800
    assert fates["cut"] / sum(fates.values()) < 0.02


# --- Furniture seen on real pages: the demo's Bluesky terms -------------------------


def _bluesky(version: int) -> str:
    """Bluesky's terms as the crawler extracts them from the demo's page (clausewatch/demo_data/bluesky/)."""
    from analysis.domain import SourceSpec
    from clausewatch import demo
    from crawler.extract import extract_source

    document = next(d for d in demo.DOCUMENTS if d.platform == "bluesky")
    url = "http://127.0.0.1/tos"
    return extract_source(demo.demo_page(document, version).body, "text/html; charset=utf-8", url,
                          SourceSpec(url=url, select=("#policy",)))


@pytest.mark.parametrize("version", [1, 2])
def test_a_last_updated_line_heads_nothing_and_is_no_clause(version):
    clauses = split_clauses(_bluesky(version))
    assert not any("Last Updated" in part for c in clauses for part in c.heading_path)
    assert not any(c.text.startswith("Last Updated") for c in clauses)
    assert clauses[0].heading_path == ()
    assert clauses[0].text.startswith(("The most recent update", "This Policy takes effect"))


@pytest.mark.parametrize("version", [1, 2])
def test_a_table_of_contents_heads_nothing_and_is_no_clause(version):
    text = _bluesky(version)
    clauses = split_clauses(text)
    assert not any("Table of Contents" in part for c in clauses for part in c.heading_path)
    assert not any("Table of Contents" in c.text for c in clauses)
    # Its entries are not provisions ("13. Limitations of Liability" would be typed as one).
    assert not any(re.fullmatch(r"\d+\. \[?[\w ,/-]+\]?(?:\([^)]*\))?", c.text) for c in clauses)
    # The sections it lists keep their own headings (version 2) or numbers (version 1).
    if version == 2:
        assert clauses[6].heading_path == ("1. Eligibility and Age Verification",)
    else:
        (eligibility,) = [c for c in clauses if "19. Eligibility" in c.text]
        assert all(re.fullmatch(r"\d+\.", part) for part in eligibility.heading_path)


def test_no_clause_spans_the_furniture_left_out():
    text = _bluesky(1)
    for clause in split_clauses(text):
        assert "Table of Contents" not in clause.text
        assert "Last Updated" not in clause.text


def test_a_date_line_of_the_kling_seed_is_no_clause(shared):
    clauses = split_clauses(_seed(shared, "002"))
    assert not any(c.text.startswith("Release Date") for c in clauses)


def test_a_contents_heading_followed_by_prose_only_loses_the_heading():
    text = normalize_text("Contents\n\nWe may change these terms at any time by posting a notice on the site.\n")
    (clause,) = split_clauses(text)
    assert clause.text.startswith("We may change") and clause.heading_path == ()
